//! The schema of `vpc`; its AWS side is `trellis-aws/src/kinds/vpc.rs`.

use super::{attr, computed_with, default, force, BASE, ID, PROTECT, TAGS, tf};
use crate::schema::{Default, Kind, Mode, Object, Type};

pub static VPC: Kind = Kind {
    name: "vpc",
    doc: "A virtual private cloud (`aws ec2 create-vpc`).",
    id_prefix: "vpc-",
    object: Object {
        check: None,
        other_names: &[],
        attrs: &[
            force(attr("cidr_block", Type::Cidr, Mode::Required, "The IPv4 range, /16 to /28.")),
            default(
                attr(
                    "amazon_provided_ipv6_cidr_block",
                    Type::Bool,
                    Mode::Optional,
                    "`true`: AWS gives it an IPv6 /56 (`ipv6_cidr_block`), from which its subnets take their /64s (`ipv6_netnum`). Changed in place (`associate-vpc-cidr-block`).",
                ),
                Default::Bool(false),
            ),
            computed_with(
                attr("ipv6_cidr_block", Type::Str, Mode::Computed, "The IPv6 /56 AWS gave it, when it has one."),
                "amazon_provided_ipv6_cidr_block",
            ),
            force(default(
                attr(
                    "instance_tenancy",
                    Type::Enum(&["default", "dedicated"]),
                    Mode::Optional,
                    "Tenancy of instances launched into it.",
                ),
                Default::Str("default"),
            )),
            default(
                attr(
                    "enable_dns_support",
                    Type::Bool,
                    Mode::Optional,
                    "Amazon DNS resolution (`modify-vpc-attribute`).",
                ),
                Default::Bool(true),
            ),
            default(
                attr(
                    "enable_dns_hostnames",
                    Type::Bool,
                    Mode::Optional,
                    "Public DNS hostnames for instances (`modify-vpc-attribute`).",
                ),
                Default::Bool(false),
            ),
            TAGS,
            attr(
                "default_security_group_id",
                Type::Ref("security_group"),
                Mode::Computed,
                "The security group AWS made with the VPC (named `default`), for what uses it: `${vpc.main.default_security_group_id}`.",
            ),
            ID,
            PROTECT,
        ],
    },
    terraform_types: &[tf("aws_vpc")],
    create_call: Some(("ec2", "CreateVpc")),
    ..BASE
};
