//! The schema of `subnet`; its AWS side is `trellis-aws/src/kinds/subnet.rs`.

use super::{attr, default, force, BASE, ID, PROTECT, TAGS, tf};
use crate::schema::{Default, Kind, Mode, Object, Type};

pub static SUBNET: Kind = Kind {
    name: "subnet",
    doc: "A subnet of a VPC in one availability zone (`aws ec2 create-subnet`).",
    id_prefix: "subnet-",
    object: Object {
        check: None,
        other_names: &[],
        attrs: &[
            force(attr("vpc_id", Type::Ref("vpc"), Mode::Required, "The VPC.")),
            force(attr("cidr_block", Type::Cidr, Mode::Required, "The IPv4 range, inside the VPC's.")),
            force(attr(
                "availability_zone",
                Type::Str,
                Mode::OptionalComputed,
                "The zone, e.g. `us-east-1a`; AWS picks one when left out.",
            )),
            default(
                attr(
                    "map_public_ip_on_launch",
                    Type::Bool,
                    Mode::Optional,
                    "Give instances launched here a public IPv4 address (`modify-subnet-attribute`).",
                ),
                Default::Bool(false),
            ),
            TAGS,
            ID,
            PROTECT,
        ],
    },
    address_range: Some("cidr_block"),
    zone: Some("availability_zone"),
    terraform_types: &[tf("aws_subnet")],
    create_call: Some(("ec2", "CreateSubnet")),
    ..BASE
};
