//! The schema of `efs_mount_target`; its AWS side is `trellis-aws/src/kinds/efs_mount_target.rs`.

use super::{attr, force, len, limit, pattern, tf, BASE, ID, PROTECT};
use crate::schema::{Kind, Mode, Object, Type};

pub static EFS_MOUNT_TARGET: Kind = Kind {
    name: "efs_mount_target",
    doc: "Where the instances of one zone reach an `efs_file_system` (`aws efs create-mount-target`): an address in a subnet, behind security groups that must let NFS (TCP 2049) in from the instances. One per file system and zone. Create waits until it is `available`, delete until it is gone (its file system cannot go before). Its security groups change in place (`modify-mount-target-security-groups`); the rest replaces it. EFS takes no tags on mount targets: trellis knows them by id. Its id is its mount target id.",
    id_prefix: "fsmt-",
    object: Object {
        check: None,
        other_names: &[],
        attrs: &[
            force(attr("file_system_id", Type::Ref("efs_file_system"), Mode::Required, "`--file-system-id`: `${efs_file_system.NAME}`.")),
            force(attr("subnet_id", Type::Ref("subnet"), Mode::Required, "`--subnet-id`: the zone's subnet.")),
            force(pattern(
                len(attr("ip_address", Type::Str, Mode::OptionalComputed, "`--ip-address`; left out, one the subnet has free."), 7, 15),
                "^[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}$",
            )),
            limit(
                attr(
                    "security_groups",
                    Type::List(&Type::Ref("security_group")),
                    Mode::OptionalComputed,
                    "`--security-groups` (up to 5); left out, the VPC's default group.",
                ),
                5,
            ),
            attr("availability_zone_name", Type::Str, Mode::Computed, "The subnet's zone."),
            attr("network_interface_id", Type::Str, Mode::Computed, "The network interface EFS made in the subnet."),
            ID,
            PROTECT,
        ],
    },
    terraform_types: &[tf("aws_efs_mount_target")],
    create_call: Some(("efs", "CreateMountTarget")),
    ..BASE
};
