//! The schema of `launch_template`; its AWS side is `trellis-aws/src/kinds/launch_template.rs`.

use super::{BASE, BLOCK_DEVICE, GENERATED_NAME, ID, INSTANCE_RULES, METADATA_OPTIONS, PROTECT, TAGS, attr, default, file_of, force, image, limit, terraform, tf};
use crate::schema::{Default, Kind, Mode, Object, Type};

static INSTANCE_TAGS_DOC: &str = "Tags for the instances launched from this template.";

/// An interface of the launch data (`NetworkInterfaces`): how a group's instances get a
/// public address.
static NETWORK_INTERFACE: Object = Object {
    check: None,
    other_names: &[terraform("security_groups", "groups")],
    attrs: &[
        default(
            attr("device_index", Type::Int, Mode::Optional, "`DeviceIndex`: 0 is the instance's primary interface."),
            Default::Int(0),
        ),
        attr(
            "associate_public_ip_address",
            Type::Bool,
            Mode::Optional,
            "`AssociatePublicIpAddress`: give the instance a public address (in a public subnet).",
        ),
        attr("delete_on_termination", Type::Bool, Mode::Optional, "`DeleteOnTermination`: the interface goes with the instance."),
        attr(
            "groups",
            Type::Set(&Type::Ref("security_group")),
            Mode::Optional,
            "`Groups`: the interface's security groups (in place of the template's `security_group_ids`).",
        ),
        attr("subnet_id", Type::Ref("subnet"), Mode::Optional, "`SubnetId`; left out, the group's subnet."),
        attr("description", Type::Str, Mode::Optional, "`Description`."),
    ],
};

static MONITORING: Object = Object {
    check: None,
    other_names: &[],
    attrs: &[attr("enabled", Type::Bool, Mode::Required, "`Enabled`: one-minute CloudWatch metrics (billed) instead of five.")],
};

static CREDIT_SPECIFICATION: Object = Object {
    check: None,
    other_names: &[],
    attrs: &[attr(
        "cpu_credits",
        Type::Enum(&["standard", "unlimited"]),
        Mode::Required,
        "`CpuCredits` of a burstable type (`t3`, `t4g`): `unlimited` bursts past its credits, billed.",
    )],
};

static PLACEMENT: Object = Object {
    check: None,
    other_names: &[],
    attrs: &[
        attr("availability_zone", Type::Str, Mode::Optional, "`AvailabilityZone`."),
        attr("group_name", Type::Str, Mode::Optional, "`GroupName`: a placement group's."),
        attr("tenancy", Type::Enum(&["default", "dedicated", "host"]), Mode::Optional, "`Tenancy`."),
    ],
};

/// AWS refuses security groups both on the template and on its interfaces.
fn check_groups(attrs: &crate::Attrs) -> Option<(&'static str, String)> {
    let nics = attrs.get("network_interfaces").map(crate::Value::as_list).unwrap_or_default();
    let template_groups = attrs.get("security_group_ids").is_some_and(|g| !g.as_list().is_empty());
    (template_groups && !nics.is_empty()).then(|| {
        (
            "security_group_ids",
            "with `network_interfaces`, give the groups in each interface's `groups`: AWS refuses them on both".to_string(),
        )
    })
}

pub static LAUNCH_TEMPLATE: Kind = Kind {
    name: "launch_template",
    doc: "A launch template (`create-launch-template`). Versions are immutable: any change to its launch data creates version N+1 (`create-launch-template-version`) and makes it the default; the template itself is kept. The members of awscli's `--launch-template-data` (`ImageId`, `InstanceType`, `KeyName`, `SecurityGroupIds`, `IamInstanceProfile`, `UserData`) are attributes of their own, and `instance_tags` is its tag specification for instances.",
    id_prefix: "lt-",
    versioned: Some("latest_version"),
    generated_name: Some("launch_template_name"),
    object: Object {
        check: Some(check_groups),
        other_names: &[terraform("name", "launch_template_name"), terraform("vpc_security_group_ids", "security_group_ids")],
        attrs: &[
            force(limit(attr("launch_template_name", Type::Str, Mode::OptionalComputed, GENERATED_NAME), 128)),
            image(attr("image_id", Type::Str, Mode::Required, "The AMI, e.g. `ami-0abcdef1234567890`.")),
            attr("instance_type", Type::Str, Mode::Required, "E.g. `t3.micro`."),
            attr("key_name", Type::Ref("key_pair"), Mode::Optional, "The EC2 key pair for SSH: `${key_pair.NAME}`, or the name of one made elsewhere."),
            default(
                attr("security_group_ids", Type::Set(&Type::Ref("security_group")), Mode::Optional, "Security groups of launched instances."),
                Default::EmptyList,
            ),
            attr(
                "iam_instance_profile",
                Type::Ref("iam_instance_profile"),
                Mode::Optional,
                "The role launched instances take: `${iam_instance_profile.NAME}` (`IamInstanceProfile.Name`).",
            ),
            attr(
                "user_data",
                Type::Str,
                Mode::Optional,
                "The boot script, as text; trellis base64-encodes it. Or give `user_data_file`.",
            ),
            file_of(
                attr(
                    "user_data_file",
                    Type::Str,
                    Mode::Optional,
                    "A file holding the boot script, relative to the spec; read when the spec is loaded, so an edit of the file shows in the plan as a change of `user_data` (with its SHA-256).",
                ),
                "user_data",
            ),
            default(attr("instance_tags", Type::Map, Mode::Optional, INSTANCE_TAGS_DOC), Default::EmptyMap),
            attr(
                "metadata_options",
                Type::Object(&METADATA_OPTIONS),
                Mode::Optional,
                "`MetadataOptions` of the launch data: `{ http_tokens: required }` makes instances answer IMDSv2 only (the other members take AWS's defaults, sent explicitly).",
            ),
            attr(
                "block_device_mappings",
                Type::List(&Type::Object(&BLOCK_DEVICE)),
                Mode::Optional,
                "`BlockDeviceMappings` of the launch data: the volumes instances get, e.g. the root one encrypted.",
            ),
            default(
                attr(
                    "network_interfaces",
                    Type::List(&Type::Object(&NETWORK_INTERFACE)),
                    Mode::Optional,
                    "`NetworkInterfaces` of the launch data: `[{ associate_public_ip_address: true, groups: [...] }]` gives a group's instances public addresses.",
                ),
                Default::EmptyList,
            ),
            attr("monitoring", Type::Object(&MONITORING), Mode::Optional, "`Monitoring`: `{ enabled: true }` for detailed monitoring."),
            attr(
                "credit_specification",
                Type::Object(&CREDIT_SPECIFICATION),
                Mode::Optional,
                "`CreditSpecification` of a burstable type.",
            ),
            attr("placement", Type::Object(&PLACEMENT), Mode::Optional, "`Placement`: zone, placement group, tenancy."),
            TAGS,
            attr("latest_version", Type::Int, Mode::Computed, "The newest version's number."),
            ID,
            PROTECT,
        ],
    },
    rules: &INSTANCE_RULES,
    terraform_types: &[tf("aws_launch_template"), tf("aws_launch_configuration")],
    create_call: Some(("ec2", "CreateLaunchTemplate")),
    ..BASE
};
