//! `route`: one route in a table the stack does not own. Routes take no tags: each is
//! known by `<table id>_<destination>`, and the routes of many tables are read in one
//! paged describe of those tables. `CreateRoute` sent again after a lost reply answers
//! `RouteAlreadyExists`: the route is then read, and taken only when it goes where the
//! spec says (else it is someone else's, and the create fails saying where it goes).

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use aws_sdk_ec2::types::{Filter, Route, RouteState, RouteTable};
use trellis_core::{Address, Attrs, ProviderError, Value};

use super::{AwsKind, Create, FoundBy};
use crate::aws::Aws;
use crate::limits::Call;
use crate::service::Service;
use crate::util::{aws_err, described_with, is_code, pages, str_attr, Described, Select, NOT_FOUND};

/// The AWS side of `route`.
pub(crate) struct Ops;

/// Each target attribute, and where AWS's `Route` keeps it.
const TARGETS: [(&str, fn(&Route) -> Option<&str>); 6] = [
    ("nat_gateway_id", |r| r.nat_gateway_id()),
    ("egress_only_internet_gateway_id", |r| r.egress_only_internet_gateway_id()),
    ("vpc_peering_connection_id", |r| r.vpc_peering_connection_id()),
    ("transit_gateway_id", |r| r.transit_gateway_id()),
    ("network_interface_id", |r| r.network_interface_id()),
    ("gateway_id", |r| r.gateway_id()),
];

/// Sets the target `key` names on a create's or a replace's builder (two types, the
/// same setters).
macro_rules! with_target {
    ($call:expr, $key:expr, $to:expr) => {
        match $key {
            "nat_gateway_id" => $call.nat_gateway_id($to),
            "egress_only_internet_gateway_id" => $call.egress_only_internet_gateway_id($to),
            "vpc_peering_connection_id" => $call.vpc_peering_connection_id($to),
            "transit_gateway_id" => $call.transit_gateway_id($to),
            "network_interface_id" => $call.network_interface_id($to),
            _ => $call.gateway_id($to),
        }
    };
}

/// A destination as the calls take it: IPv4 or IPv6.
fn families(dest: &str) -> (Option<String>, Option<String>) {
    let v6 = dest.contains(':');
    ((!v6).then(|| dest.to_string()), v6.then(|| dest.to_string()))
}

/// A route's id: its table and destination.
fn id_of(table: &str, destination: &str) -> String {
    format!("{table}_{destination}")
}

fn parse(id: &str) -> Option<(&str, &str)> {
    id.split_once('_')
}

fn destination(r: &Route) -> Option<&str> {
    r.destination_cidr_block().or(r.destination_ipv6_cidr_block())
}

/// The route's one target, as its attribute and id (an interface a route names also
/// shows its instance: the interface is the target).
fn target(r: &Route) -> Option<(&'static str, &str)> {
    TARGETS.iter().find_map(|(attr, get)| get(r).map(|v| (*attr, v)))
}

fn observe(table: &str, r: &Route) -> Vec<(&'static str, Value)> {
    let mut out = vec![
        ("route_table_id", Value::str(table)),
        ("destination_cidr_block", r.destination_cidr_block().map(Value::str).unwrap_or(Value::Null)),
        ("destination_ipv6_cidr_block", r.destination_ipv6_cidr_block().map(Value::str).unwrap_or(Value::Null)),
    ];
    let found = target(r);
    for (attr, _) in TARGETS {
        let v = found.filter(|(a, _)| *a == attr).map(|(_, id)| Value::str(id)).unwrap_or(Value::Null);
        out.push((attr, v));
    }
    out
}

async fn tables(aws: &Aws, ids: Vec<String>) -> Result<Vec<RouteTable>, ProviderError> {
    let filter = Filter::builder().name("route-table-id").set_values(Some(ids)).build();
    let all = pages(aws, aws.ec2.describe_route_tables().filters(filter).into_paginator().send()).await?;
    Ok(all.into_iter().flat_map(|p| p.route_tables.unwrap_or_default()).collect())
}

/// The route to `destination` in `table`, as AWS has it now.
async fn read(aws: &Aws, table: &str, dest: &str) -> Result<Option<Route>, ProviderError> {
    let found = tables(aws, vec![table.to_string()]).await?;
    Ok(found.iter().flat_map(|t| t.routes()).find(|r| destination(r) == Some(dest)).cloned())
}

fn wanted(attrs: &Attrs) -> Option<(&'static str, &str)> {
    TARGETS.iter().find_map(|(attr, _)| str_attr(attrs, attr).map(|v| (*attr, v)))
}

#[async_trait]
impl AwsKind for Ops {
    fn service(&self) -> &'static Service {
        &crate::service::EC2_ROUTES
    }
    /// By id only (routes take no tags): the routes of the tables named, one read.
    async fn describe(&self, aws: &Aws, sel: Select<'_>) -> Result<Vec<Described>, ProviderError> {
        let Select::Ids(ids) = sel else { return Ok(Vec::new()) };
        let wanted: BTreeSet<&str> = ids.iter().map(String::as_str).collect();
        let table_ids: BTreeSet<String> = ids.iter().filter_map(|id| parse(id)).map(|(t, _)| t.to_string()).collect();
        if table_ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut out = Vec::new();
        for t in tables(aws, table_ids.into_iter().collect()).await? {
            let table = t.route_table_id().unwrap_or_default();
            for r in t.routes() {
                let Some(dest) = destination(r) else { continue };
                let id = id_of(table, dest);
                if wanted.contains(id.as_str()) && r.state() != Some(&RouteState::Blackhole) {
                    out.push(described_with(&id, BTreeMap::new(), observe(table, r)));
                }
            }
        }
        Ok(out)
    }
    async fn create(&self, aws: &Aws, c: &Create<'_>) -> Result<String, ProviderError> {
        let table = str_attr(c.attrs, "route_table_id").unwrap_or_default();
        let dest = str_attr(c.attrs, "destination_cidr_block")
            .or(str_attr(c.attrs, "destination_ipv6_cidr_block"))
            .unwrap_or_default();
        let Some((key, to)) = wanted(c.attrs) else {
            return Err(ProviderError::new(None, "a route needs a target"));
        };
        aws.call(Call::Mutate).await;
        let (v4, v6) = families(dest);
        let call =
            aws.once.ec2.create_route().route_table_id(table).set_destination_cidr_block(v4).set_destination_ipv6_cidr_block(v6);
        let call = with_target!(call, key, to);
        match call.send().await.map_err(aws_err) {
            Ok(_) => Ok(id_of(table, dest)),
            Err(e) if crate::errors::already_done(&e) => {
                let live = read(aws, table, dest).await?;
                match live.as_ref().and_then(target) {
                    Some((k, v)) if k == key && v == to => Ok(id_of(table, dest)),
                    other => Err(ProviderError::new(
                        e.code.as_deref(),
                        format!(
                            "{table} already has a route to {dest}, to {}: not made by this stack, so not taken over (remove it, or `trellis import` it)",
                            other.map(|(_, v)| v).unwrap_or("another target")
                        ),
                    )),
                }
            }
            Err(e) => Err(e),
        }
    }
    fn create_is_idempotent(&self) -> bool {
        true
    }
    async fn update(&self, aws: &Aws, id: &str, _before: &Attrs, after: &Attrs) -> Result<(), ProviderError> {
        let (Some((table, dest)), Some((key, to))) = (parse(id), wanted(after)) else { return Ok(()) };
        let (v4, v6) = families(dest);
        aws.call(Call::Mutate).await;
        let call = aws.ec2.replace_route().route_table_id(table).set_destination_cidr_block(v4).set_destination_ipv6_cidr_block(v6);
        with_target!(call, key, to).send().await.map(|_| ()).map_err(aws_err)
    }
    async fn delete(&self, aws: &Aws, _address: &Address, id: &str, _attrs: &Attrs) -> Result<(), ProviderError> {
        let Some((table, dest)) = parse(id) else { return Ok(()) };
        let (v4, v6) = families(dest);
        aws.call(Call::Mutate).await;
        let call = aws.ec2.delete_route().route_table_id(table).set_destination_cidr_block(v4).set_destination_ipv6_cidr_block(v6);
        match call.send().await.map_err(aws_err) {
            Ok(_) => Ok(()),
            Err(e) if is_code(&e, NOT_FOUND) => Ok(()),
            Err(e) => Err(e),
        }
    }
    fn found_by(&self) -> FoundBy {
        FoundBy::Nothing("a route of a table trellis does not own is its own object: `trellis import` it by `<table id>_<destination>`")
    }
}


#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::super::roundtrip::gives_back;
    use super::*;

    fn attrs(pairs: &[(&str, &str)]) -> Attrs {
        pairs.iter().map(|(k, v)| (k.to_string(), Value::str(*v))).collect()
    }

    proptest! {
        /// What CreateRoute sends is what AWS's route then shows, read back by its id.
        #[test]
        fn a_route_comes_back_as_it_was_made(
            v6 in any::<bool>(),
            a in 0u8..=255,
            target in 0usize..6,
            n in 1u32..0xffff,
        ) {
            let dest = if v6 { format!("2600:1f18:{n:x}::/56") } else { format!("10.{a}.0.0/16") };
            let (key, _) = TARGETS[target];
            let to = format!("x-{n:x}");
            let dest_key = if v6 { "destination_ipv6_cidr_block" } else { "destination_cidr_block" };
            let sent = attrs(&[("route_table_id", "rtb-1"), (dest_key, &dest), (key, &to)]);
            let call = aws_sdk_ec2::Client::from_conf(
                aws_sdk_ec2::Config::builder().behavior_version(aws_sdk_ec2::config::BehaviorVersion::latest()).build(),
            )
            .create_route()
            .route_table_id("rtb-1")
            .set_destination_cidr_block((!v6).then(|| dest.clone()))
            .set_destination_ipv6_cidr_block(v6.then(|| dest.clone()));
            let input = with_target!(call, key, to.as_str());
            let i = input.as_input();
            let route = Route::builder()
                .set_destination_cidr_block(i.get_destination_cidr_block().clone())
                .set_destination_ipv6_cidr_block(i.get_destination_ipv6_cidr_block().clone())
                .set_gateway_id(i.get_gateway_id().clone())
                .set_nat_gateway_id(i.get_nat_gateway_id().clone())
                .set_egress_only_internet_gateway_id(i.get_egress_only_internet_gateway_id().clone())
                .set_vpc_peering_connection_id(i.get_vpc_peering_connection_id().clone())
                .set_transit_gateway_id(i.get_transit_gateway_id().clone())
                .set_network_interface_id(i.get_network_interface_id().clone())
                .build();
            let d = described_with(&id_of("rtb-1", &dest), BTreeMap::new(), observe("rtb-1", &route));
            prop_assert_eq!(parse(&d.id), Some(("rtb-1", dest.as_str())));
            let names: Vec<&str> = ["route_table_id", "destination_cidr_block", "destination_ipv6_cidr_block"]
                .into_iter()
                .chain(TARGETS.iter().map(|(k, _)| *k))
                .collect();
            gives_back(&sent, &d.attrs, &names)?;
        }
    }
}
