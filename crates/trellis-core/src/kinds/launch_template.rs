//! The schema of `launch_template`; its AWS side is `trellis-aws/src/kinds/launch_template.rs`.

use super::{BASE, BLOCK_DEVICE, GENERATED_NAME, ID, INSTANCE_RULES, METADATA_OPTIONS, PROTECT, TAGS, attr, default, file_of, force, image, limit, terraform, tf};
use crate::schema::{Default, Kind, Mode, Object, Type};

static INSTANCE_TAGS_DOC: &str = "Tags for the instances launched from this template.";

pub static LAUNCH_TEMPLATE: Kind = Kind {
    name: "launch_template",
    doc: "A launch template (`create-launch-template`). Versions are immutable: any change to its launch data creates version N+1 (`create-launch-template-version`) and makes it the default; the template itself is kept. The members of awscli's `--launch-template-data` (`ImageId`, `InstanceType`, `KeyName`, `SecurityGroupIds`, `IamInstanceProfile`, `UserData`) are attributes of their own, and `instance_tags` is its tag specification for instances.",
    id_prefix: "lt-",
    versioned: Some("latest_version"),
    generated_name: Some("launch_template_name"),
    object: Object {
        check: None,
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
