//! The schema of `instance`; its AWS side is `trellis-aws/src/kinds/instance.rs`.

use super::{BASE, BLOCK_DEVICE, ID, INSTANCE_RULES, METADATA_OPTIONS, PROTECT, TAGS, attr, file_of, force, image, interrupts, note, terraform, write_only, tf};
use crate::schema::{AddressNeeds, Effect, Kind, Mode, Object, Type};

pub static INSTANCE: Kind = Kind {
    name: "instance",
    doc: "One EC2 instance (`aws ec2 run-instances`), for fixed servers. Create waits until it is `running`; delete terminates it and waits until it is `terminated`.",
    id_prefix: "i-",
    new_first: true,
    object: Object {
        check: None,
        other_names: &[terraform("ami", "image_id"), terraform("vpc_security_group_ids", "security_group_ids")],
        attrs: &[
            force(image(attr("image_id", Type::Str, Mode::Required, "The AMI."))),
            interrupts(
                note(
                    attr("instance_type", Type::Str, Mode::Required, "E.g. `t3.micro`."),
                    "the instance is stopped, changed and started again",
                ),
                Effect::Restart,
                "the instance stops and starts again: a minute or two offline, and a new public IP unless an Elastic IP holds it",
            ),
            force(attr("subnet_id", Type::Ref("subnet"), Mode::Required, "The subnet.")),
            attr(
                "security_group_ids",
                Type::Set(&Type::Ref("security_group")),
                Mode::OptionalComputed,
                "Security groups (`modify-instance-attribute --groups`); left out, AWS gives it the VPC's default group.",
            ),
            force(attr("key_name", Type::Ref("key_pair"), Mode::Optional, "The EC2 key pair for SSH: `${key_pair.NAME}`, or the name of one made elsewhere.")),
            attr(
                "iam_instance_profile",
                Type::Ref("iam_instance_profile"),
                Mode::Optional,
                "The role it takes: `${iam_instance_profile.NAME}` (`--iam-instance-profile Name=...`); changed in place (`associate-iam-instance-profile`, `replace-iam-instance-profile-association`).",
            ),
            force(attr("user_data", Type::Str, Mode::Optional, "The boot script, as text. Or give `user_data_file`.")),
            attr(
                "metadata_options",
                Type::Object(&METADATA_OPTIONS),
                Mode::OptionalComputed,
                "`--metadata-options`: `{ http_tokens: required }` answers IMDSv2 only (the other members take AWS's defaults, sent explicitly); changed in place (`modify-instance-metadata-options`). Left out, as the image has it.",
            ),
            write_only(force(attr(
                "block_device_mappings",
                Type::List(&Type::Object(&BLOCK_DEVICE)),
                Mode::Optional,
                "`--block-device-mappings`: the volumes it is launched with, e.g. the root one encrypted. AWS describes an instance's volumes by id only, so trellis keeps them as sent; a change replaces the instance.",
            ))),
            file_of(
                attr("user_data_file", Type::Str, Mode::Optional, "A file holding the boot script, relative to the spec."),
                "user_data",
            ),
            force(attr(
                "associate_public_ip_address",
                Type::Bool,
                Mode::OptionalComputed,
                "Give it a public address; left out, the subnet's `map_public_ip_on_launch` decides.",
            )),
            TAGS,
            attr("private_ip", Type::Str, Mode::Computed, "Its private IPv4 address."),
            attr("public_ip", Type::Str, Mode::Computed, "Its public IPv4 address, if any."),
            ID,
            PROTECT,
        ],
    },
    addresses: Some(AddressNeeds { count: None, subnets: "subnet_id", instance_type: Some("instance_type"), instance_type_via: None }),
    rules: &INSTANCE_RULES,
    terraform_types: &[tf("aws_instance")],
    create_call: Some(("ec2", "RunInstances")),
    ..BASE
};
