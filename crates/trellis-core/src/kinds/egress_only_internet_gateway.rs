//! The schema of `egress_only_internet_gateway`; its AWS side is
//! `trellis-aws/src/kinds/egress_only_internet_gateway.rs`.

use super::{attr, force, tf, BASE, ID, PROTECT, TAGS};
use crate::schema::{Kind, Mode, Object, Type};

pub static EGRESS_ONLY_INTERNET_GATEWAY: Kind = Kind {
    name: "egress_only_internet_gateway",
    doc: "An egress-only internet gateway (`aws ec2 create-egress-only-internet-gateway`): IPv6 traffic out of a VPC and its answers back, nothing started from outside, what a NAT gateway is to IPv4. A route table sends `destination_ipv6_cidr_block: ::/0` to it with `egress_only_internet_gateway_id`.",
    id_prefix: "eigw-",
    object: Object {
        check: None,
        other_names: &[],
        attrs: &[force(attr("vpc_id", Type::Ref("vpc"), Mode::Required, "The VPC.")), TAGS, ID, PROTECT],
    },
    terraform_types: &[tf("aws_egress_only_internet_gateway")],
    create_call: Some(("ec2", "CreateEgressOnlyInternetGateway")),
    ..BASE
};
