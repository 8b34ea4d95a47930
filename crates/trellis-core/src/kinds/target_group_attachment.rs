//! The schema of `target_group_attachment`; its AWS side is `trellis-aws/src/kinds/target_group_attachment.rs`.

use super::{attr, force, BASE, ID, PROTECT, tf};
use crate::schema::{Kind, Mode, Object, Type};

pub static TARGET_GROUP_ATTACHMENT: Kind = Kind {
    name: "target_group_attachment",
    doc: "Registers one instance in a target group (`aws elbv2 register-targets`); `target_id` and `port` are awscli's `--targets Id=...,Port=...`. Its id is `<target group arn>|<instance id>`.",
    id_prefix: "arn:",
    new_first: true,
    object: Object {
        check: None,
        other_names: &[],
        attrs: &[
            force(attr("target_group_arn", Type::Ref("target_group"), Mode::Required, "The target group.")),
            force(attr("target_id", Type::Ref("instance"), Mode::Required, "The instance.")),
            force(attr("port", Type::Int, Mode::OptionalComputed, "The port; left out, the target group's.")),
            ID,
            PROTECT,
        ],
    },
    terraform_types: &[tf("aws_lb_target_group_attachment"), tf("aws_alb_target_group_attachment")],
    create_call: Some(("elbv2", "RegisterTargets")),
    ..BASE
};
