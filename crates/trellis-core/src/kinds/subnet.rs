//! The schema of `subnet`; its AWS side is `trellis-aws/src/kinds/subnet.rs`.

use super::{attr, computed_with, default, force, range, BASE, ID, PROTECT, TAGS, tf};
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
            force(range(
                attr(
                    "ipv6_netnum",
                    Type::Int,
                    Mode::Optional,
                    "For a dual-stack subnet: which /64 of its VPC's IPv6 /56 it takes, 0 to 255 (trellis sends `--ipv6-cidr-block` as that /64, since the VPC's block is AWS's choice; Terraform writes `cidrsubnet(aws_vpc.x.ipv6_cidr_block, 8, N)`). Needs `amazon_provided_ipv6_cidr_block: true` on the VPC.",
                ),
                0,
                255,
            )),
            computed_with(attr("ipv6_cidr_block", Type::Str, Mode::Computed, "Its IPv6 /64, when it has one."), "ipv6_netnum"),
            default(
                attr(
                    "assign_ipv6_address_on_creation",
                    Type::Bool,
                    Mode::Optional,
                    "Give each network interface made here an IPv6 address (`modify-subnet-attribute`).",
                ),
                Default::Bool(false),
            ),
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
