//! The schema of `route`; its AWS side is `trellis-aws/src/kinds/route.rs`.

use super::{attr, force, tf, BASE, PROTECT};
use crate::schema::{Kind, Mode, Object, Type};
use crate::{Attrs, Value};

/// What a route can send its traffic to, one of them.
const TARGETS: [&str; 6] = [
    "gateway_id",
    "nat_gateway_id",
    "egress_only_internet_gateway_id",
    "vpc_peering_connection_id",
    "transit_gateway_id",
    "network_interface_id",
];

/// One destination, of either family, and one target.
fn check(route: &Attrs) -> Option<(&'static str, String)> {
    if route.contains_key("destination_cidr_block") == route.contains_key("destination_ipv6_cidr_block") {
        return Some((
            "destination_cidr_block",
            "a route leads to one of `destination_cidr_block` (IPv4) or `destination_ipv6_cidr_block`".into(),
        ));
    }
    if route.get("destination_ipv6_cidr_block").and_then(Value::as_str).is_some_and(|c| !c.contains(':')) {
        return Some(("destination_ipv6_cidr_block", "an IPv4 range goes in `destination_cidr_block`".into()));
    }
    let targets = TARGETS.iter().filter(|t| route.contains_key(**t)).count();
    (targets != 1).then(|| {
        let all = TARGETS.map(|t| format!("`{t}`")).join(", ");
        ("destination_cidr_block", format!("a route needs one target, one of {all} (it has {targets})"))
    })
}

pub static ROUTE: Kind = Kind {
    name: "route",
    doc: "One route in a route table the stack does not own (`aws ec2 create-route`): a VPC's main table, another team's, found by a `route_table` lookup. A table the stack owns takes its routes in its own `routes`. Its target changes in place (`replace-route`); its table and destination replace it. Routes take no tags: trellis knows one by its id, `<table id>_<destination>` (Terraform's import id). A route to the same destination made outside trellis is not taken over: the create fails naming its target.",
    id_prefix: "rtb-",
    object: Object {
        check: Some(check),
        other_names: &[],
        attrs: &[
            force(attr(
                "route_table_id",
                Type::Ref("route_table"),
                Mode::Required,
                "`--route-table-id`: `${lookup.route_table.NAME}`, or a table's id.",
            )),
            force(attr("destination_cidr_block", Type::Cidr, Mode::Optional, "`--destination-cidr-block`: where it leads, IPv4.")),
            force(attr(
                "destination_ipv6_cidr_block",
                Type::IpCidr,
                Mode::Optional,
                "`--destination-ipv6-cidr-block`: or where it leads, IPv6.",
            )),
            attr(
                "gateway_id",
                Type::Str,
                Mode::Optional,
                "`--gateway-id`: an internet gateway (`${internet_gateway.NAME}`) or a virtual private gateway.",
            ),
            attr("nat_gateway_id", Type::Ref("nat_gateway"), Mode::Optional, "`--nat-gateway-id`."),
            attr(
                "egress_only_internet_gateway_id",
                Type::Ref("egress_only_internet_gateway"),
                Mode::Optional,
                "`--egress-only-internet-gateway-id` (an IPv6 destination).",
            ),
            attr("vpc_peering_connection_id", Type::Str, Mode::Optional, "`--vpc-peering-connection-id`."),
            attr("transit_gateway_id", Type::Str, Mode::Optional, "`--transit-gateway-id`."),
            attr(
                "network_interface_id",
                Type::Str,
                Mode::Optional,
                "`--network-interface-id`: an appliance's interface (`${lookup.instance.NAME.network_interface_id}`).",
            ),
            attr("id", Type::Str, Mode::Computed, "`<table id>_<destination>`."),
            PROTECT,
        ],
    },
    terraform_types: &[tf("aws_route")],
    create_call: Some(("ec2", "CreateRoute")),
    ..BASE
};
