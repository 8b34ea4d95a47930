//! The schema of `route_table`; its AWS side is `trellis-aws/src/kinds/route_table.rs`.

use super::{interrupts, attr, default, force, terraform, BASE, ID, PROTECT, TAGS, tf, tf_part};
use crate::schema::{Effect, Default, Kind, Mode, Object, Type};
use crate::Attrs;

/// A route leads to one range, IPv4 or IPv6, and goes to one target.
fn check_route(route: &Attrs) -> Option<(&'static str, String)> {
    if route.contains_key("destination_cidr_block") == route.contains_key("destination_ipv6_cidr_block") {
        return Some((
            "destination_cidr_block",
            "a route leads to one of `destination_cidr_block` (IPv4) or `destination_ipv6_cidr_block`".into(),
        ));
    }
    if route.get("destination_ipv6_cidr_block").and_then(crate::Value::as_str).is_some_and(|c| !c.contains(':')) {
        return Some(("destination_ipv6_cidr_block", "an IPv4 range goes in `destination_cidr_block`".into()));
    }
    let targets: Vec<&str> = ROUTE_TARGETS.into_iter().filter(|t| route.contains_key(*t)).collect();
    (targets.len() != 1).then(|| {
        (
            "destination_cidr_block",
            format!(
                "a route needs one target: `gateway_id`, `nat_gateway_id` or `egress_only_internet_gateway_id` (it has {})",
                targets.len()
            ),
        )
    })
}

const ROUTE_TARGETS: [&str; 3] = ["gateway_id", "nat_gateway_id", "egress_only_internet_gateway_id"];

/// One route; also the VPC's main table's (`vpc.main_route_table_routes`).
pub(super) static ROUTE: Object = Object {
    check: Some(check_route),
    other_names: &[],
    attrs: &[
        attr("destination_cidr_block", Type::Cidr, Mode::Optional, "Where the route leads, IPv4 (`0.0.0.0/0`)."),
        attr(
            "destination_ipv6_cidr_block",
            Type::IpCidr,
            Mode::Optional,
            "Or where it leads, IPv6 (`::/0`), through an internet gateway.",
        ),
        attr(
            "gateway_id",
            Type::Ref("internet_gateway"),
            Mode::Optional,
            "The internet gateway to send the traffic to (public subnets).",
        ),
        attr(
            "nat_gateway_id",
            Type::Ref("nat_gateway"),
            Mode::Optional,
            "Or the NAT gateway to send it through (private subnets that reach out).",
        ),
        attr(
            "egress_only_internet_gateway_id",
            Type::Ref("egress_only_internet_gateway"),
            Mode::Optional,
            "Or, for an IPv6 destination, the egress-only gateway (private subnets that reach out over IPv6).",
        ),
    ],
};

pub static ROUTE_TABLE: Kind = Kind {
    name: "route_table",
    doc: "A route table with its routes and subnet associations (`create-route-table`, `create-route`, `associate-route-table`). The VPC's `local` route is implicit.",
    id_prefix: "rtb-",
    object: Object {
        check: None,
        other_names: &[terraform("route", "routes")],
        attrs: &[
            force(attr("vpc_id", Type::Ref("vpc"), Mode::Required, "The VPC.")),
            interrupts(
                default(attr("routes", Type::Set(&Type::Object(&ROUTE)), Mode::Optional, "Routes, each `destination_cidr_block` and `gateway_id` or `nat_gateway_id`."), Default::EmptyList),
                Effect::Network,
                "a changed route is deleted and made again: its traffic drops for a few seconds",
            ),
            default(attr("subnet_ids", Type::Set(&Type::Ref("subnet")), Mode::Optional, "Subnets associated with this table."), Default::EmptyList),
            TAGS,
            ID,
            PROTECT,
        ],
    },
    terraform_types: &[tf("aws_route_table"), tf_part("aws_route_table_association", "subnet_ids")],
    create_call: Some(("ec2", "CreateRouteTable")),
    ..BASE
};
