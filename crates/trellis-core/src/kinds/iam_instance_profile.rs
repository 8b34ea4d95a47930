//! The schema of `iam_instance_profile`; its AWS side is `trellis-aws/src/kinds/iam_instance_profile.rs`.

use super::{attr, force, terraform, ARN, BASE, GENERATED_IAM_NAME, IAM_NAME_ID, IAM_PATH, PROTECT, TAGS, tf, len, pattern};
use crate::schema::{Kind, Mode, Object, Type};

pub static IAM_INSTANCE_PROFILE: Kind = Kind {
    name: "iam_instance_profile",
    doc: "An instance profile (`aws iam create-instance-profile`, `add-role-to-instance-profile`): how an instance or a launch template takes a role, with `iam_instance_profile: ${iam_instance_profile.NAME}`. IAM is eventually consistent: EC2 may refuse a new profile for a few seconds, and trellis waits. Its id is its name.",
    id_prefix: "",
    generated_name: Some("instance_profile_name"),
    object: Object {
        check: None,
        other_names: &[terraform("name", "instance_profile_name"), terraform("role", "role_name")],
        attrs: &[
            force(pattern(len(attr("instance_profile_name", Type::Str, Mode::OptionalComputed, GENERATED_IAM_NAME), 1, 128), "[\\w+=,.@-]+")),
            attr(
                "role_name",
                Type::Ref("iam_role"),
                Mode::Optional,
                "Its role (`add-role-to-instance-profile --role-name`): `${iam_role.NAME}`; changed in place.",
            ),
            TAGS,
            ARN,
            IAM_PATH,
            IAM_NAME_ID,
            PROTECT,
        ],
    },
    terraform_types: &[tf("aws_iam_instance_profile")],
    create_call: Some(("iam", "CreateInstanceProfile")),
    id_is: Some(("instance_profile_name", false)),
    ..BASE
};
