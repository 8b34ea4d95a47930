//! `route_table`: its routes and subnet associations are set after the create and
//! changed one by one.

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_ec2::types::{Filter, ResourceType, RouteOrigin, RouteTable};
use trellis_core::schema::normalize_set;
use trellis_core::{Address, Attrs, ProviderError, Value};

use super::{AwsKind, Create, FoundBy, InVpc};
use crate::aws::Aws;
use crate::util::Described;
use crate::util::{aws_err, delete_with_retry, described, is_code, list_attr, opt_str, str_attr, tag_spec, Select};

/// The AWS side of `route_table`.
pub(crate) struct Ops;

#[async_trait]
impl AwsKind for Ops {
    async fn describe(&self, aws: &Aws, sel: Select<'_>) -> Result<Vec<Described>, ProviderError> {
        describe(aws, sel).await
    }
    async fn create(&self, aws: &Aws, c: &Create<'_>) -> Result<String, ProviderError> {
        create(aws, c).await
    }
    async fn configure(&self, aws: &Aws, id: &str, attrs: &Attrs) -> Result<(), ProviderError> {
        configure(aws, id, attrs).await
    }
    async fn update(&self, aws: &Aws, id: &str, before: &Attrs, after: &Attrs) -> Result<(), ProviderError> {
        update(aws, id, before, after).await
    }
    async fn delete(&self, aws: &Aws, address: &Address, id: &str, _attrs: &Attrs) -> Result<(), ProviderError> {
        delete(aws, address, id).await
    }
    fn found_by(&self) -> FoundBy {
        FoundBy::Listing
    }
    /// All but the main table, which AWS made with the VPC and which goes with it.
    async fn list_in_vpc(&self, aws: &Aws, vpc: &InVpc<'_>) -> Result<Vec<String>, ProviderError> {
        let call = aws.ec2.describe_route_tables().filters(vpc.filter("vpc-id")).into_paginator().send();
        let pages = crate::util::pages(aws, call).await?;
        Ok(pages
            .iter()
            .flat_map(|p| p.route_tables())
            .filter(|t| !t.associations().iter().any(|a| a.main() == Some(true)))
            .filter_map(|t| t.route_table_id())
            .map(str::to_string)
            .collect())
    }
}

pub(crate) fn routes_of(t: &RouteTable) -> Value {
    let mut routes: Vec<Value> = t
        .routes()
        .iter()
        // The VPC's own `local` route comes with the table and is not the user's.
        .filter(|r| r.origin() != Some(&RouteOrigin::CreateRouteTable) && r.gateway_id() != Some("local"))
        .filter_map(|r| {
            let (dest_key, dest) = match (r.destination_cidr_block(), r.destination_ipv6_cidr_block()) {
                (Some(v4), _) => ("destination_cidr_block", v4),
                (None, Some(v6)) => ("destination_ipv6_cidr_block", v6),
                (None, None) => return None,
            };
            // A NAT gateway has its own attribute; any other target shows as `gateway_id`.
            let (key, target) = match (r.nat_gateway_id(), r.egress_only_internet_gateway_id()) {
                (Some(nat), _) => ("nat_gateway_id", Some(nat)),
                (None, Some(eigw)) => ("egress_only_internet_gateway_id", Some(eigw)),
                (None, None) => (
                    "gateway_id",
                    r.gateway_id()
                        .or(r.network_interface_id())
                        .or(r.vpc_peering_connection_id())
                        .or(r.transit_gateway_id())
                        .or(r.instance_id()),
                ),
            };
            let m: BTreeMap<String, Value> =
                [(dest_key.to_string(), Value::str(dest)), (key.to_string(), opt_str(target))]
                    .into_iter()
                    .collect();
            Some(Value::Map(m))
        })
        .collect();
    normalize_set(&mut routes);
    Value::List(routes)
}

/// Explicit (non-main) associations: subnet id to association id.
fn associations(t: &RouteTable) -> BTreeMap<String, String> {
    t.associations()
        .iter()
        .filter(|a| a.main() != Some(true))
        .filter_map(|a| Some((a.subnet_id()?.to_string(), a.route_table_association_id()?.to_string())))
        .collect()
}

async fn tables(aws: &Aws, filter: Filter) -> Result<Vec<RouteTable>, ProviderError> {
    let pages =
        crate::util::pages(aws, aws.ec2.describe_route_tables().filters(filter).into_paginator().send()).await?;
    let mut out = Vec::new();
    for page in pages {
        out.extend(page.route_tables.unwrap_or_default());
    }
    Ok(out)
}

fn observe(t: &RouteTable) -> Vec<(&'static str, Value)> {
    let mut subnets: Vec<Value> = associations(t).into_keys().map(Value::Str).collect();
    normalize_set(&mut subnets);
    vec![("vpc_id", opt_str(t.vpc_id())), ("routes", routes_of(t)), ("subnet_ids", Value::List(subnets))]
}

pub(crate) async fn describe(aws: &Aws, sel: Select<'_>) -> Result<Vec<Described>, ProviderError> {
    Ok(tables(aws, sel.filter("route-table-id"))
        .await?
        .iter()
        .map(|t| described(t.route_table_id().unwrap_or_default(), t.tags(), observe(t)))
        .collect())
}

pub(crate) async fn create(aws: &Aws, c: &Create<'_>) -> Result<String, ProviderError> {
    let (stack, address, attrs) = (c.stack, c.address, c.attrs);
    aws.call(crate::limits::Call::Mutate).await;
    let out = aws
        .once
        .ec2
        .create_route_table()
        .client_token(c.token)
        .set_vpc_id(str_attr(attrs, "vpc_id").map(str::to_string))
        .tag_specifications(tag_spec(ResourceType::RouteTable, stack, address, attrs.get("tags")))
        .send()
        .await
        .map_err(aws_err)?;
    out.route_table()
        .and_then(|t| t.route_table_id())
        .map(str::to_string)
        .ok_or_else(|| ProviderError::new(None, "CreateRouteTable returned no id"))
}

pub(crate) async fn configure(aws: &Aws, id: &str, attrs: &Attrs) -> Result<(), ProviderError> {
    let empty: Attrs = [("routes", Value::List(vec![])), ("subnet_ids", Value::List(vec![]))]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    update(aws, id, &empty, attrs).await
}

/// Each route's destination, and its target: which attribute (`gateway_id`,
/// `nat_gateway_id`) and the id.
fn route_map(list: &[Value]) -> BTreeMap<String, (&'static str, String)> {
    list.iter()
        .filter_map(|r| {
            let m = r.as_map()?;
            let key = ["nat_gateway_id", "egress_only_internet_gateway_id", "gateway_id"]
                .into_iter()
                .find(|k| m.contains_key(*k))?;
            let dest = m.get("destination_cidr_block").or_else(|| m.get("destination_ipv6_cidr_block"))?;
            Some((
                dest.as_str()?.to_string(),
                (key, m.get(key)?.as_str().unwrap_or("").to_string()),
            ))
        })
        .collect()
}

pub(crate) async fn update(aws: &Aws, id: &str, before: &Attrs, after: &Attrs) -> Result<(), ProviderError> {
    let (have, want) = (route_map(list_attr(before, "routes")), route_map(list_attr(after, "routes")));
    // Replacing and creating a route take the same fields, through different builders.
    macro_rules! send_route {
        ($call:ident, $dest:expr, $target:expr) => {{
            let (key, target) = $target;
            aws.ec2
                .$call()
                .route_table_id(id)
                .set_destination_cidr_block((!$dest.contains(':')).then(|| $dest.clone()))
                .set_destination_ipv6_cidr_block($dest.contains(':').then(|| $dest.clone()))
                .set_gateway_id((*key == "gateway_id").then(|| target.clone()))
                .set_nat_gateway_id((*key == "nat_gateway_id").then(|| target.clone()))
                .set_egress_only_internet_gateway_id((*key == "egress_only_internet_gateway_id").then(|| target.clone()))
                .send()
                .await
                .map_err(aws_err)
        }};
    }
    for (dest, target) in &want {
        match have.get(dest) {
            Some(t) if t == target => {}
            Some(_) => {
                aws.call(crate::limits::Call::Mutate).await;
                send_route!(replace_route, dest, target)?;
            }
            None => {
                aws.call(crate::limits::Call::Mutate).await;
                match send_route!(create_route, dest, target) {
                    Err(e) if !crate::errors::already_done(&e) => return Err(e),
                    _ => {}
                }
            }
        }
    }
    for dest in have.keys().filter(|d| !want.contains_key(*d)) {
        aws.call(crate::limits::Call::Mutate).await;
        let (v4, v6) = if dest.contains(':') { (None, Some(dest.clone())) } else { (Some(dest.clone()), None) };
        let call = aws.ec2.delete_route().route_table_id(id);
        call.set_destination_cidr_block(v4).set_destination_ipv6_cidr_block(v6).send().await.map_err(aws_err)?;
    }

    let want_subnets: Vec<&str> = list_attr(after, "subnet_ids").iter().filter_map(Value::as_str).collect();
    let had_subnets: Vec<&str> = list_attr(before, "subnet_ids").iter().filter_map(Value::as_str).collect();
    if want_subnets == had_subnets {
        return Ok(());
    }
    // Association ids are not part of the attributes: read them now.
    let current = tables(aws, Filter::builder().name("route-table-id").values(id).build()).await?;
    let current = current.first().map(associations).unwrap_or_default();
    for (subnet, assoc) in &current {
        if !want_subnets.contains(&subnet.as_str()) {
            disassociate(aws, assoc).await?;
        }
    }
    for subnet in want_subnets.iter().filter(|s| !current.contains_key(**s)) {
        associate(aws, id, subnet).await?;
    }
    Ok(())
}

/// Ends an association; one that is already gone is fine.
async fn disassociate(aws: &Aws, association: &str) -> Result<(), ProviderError> {
    aws.call(crate::limits::Call::Mutate).await;
    match aws.ec2.disassociate_route_table().association_id(association).send().await.map_err(aws_err) {
        Err(e) if !is_code(&e, &["InvalidAssociationID.NotFound"]) => Err(e),
        _ => Ok(()),
    }
}

/// Associates a subnet, taking it over from another table if it has one.
async fn associate(aws: &Aws, table: &str, subnet: &str) -> Result<(), ProviderError> {
    aws.call(crate::limits::Call::Mutate).await;
    match aws.ec2.associate_route_table().route_table_id(table).subnet_id(subnet).send().await.map_err(aws_err) {
        Ok(_) => Ok(()),
        Err(e) if is_code(&e, &["Resource.AlreadyAssociated"]) => {
            let others = tables(aws, Filter::builder().name("association.subnet-id").values(subnet).build()).await?;
            let assoc = others.iter().find_map(|t| associations(t).remove(subnet));
            let Some(assoc) = assoc else { return Err(e) };
            aws.call(crate::limits::Call::Mutate).await;
            aws.ec2
                .replace_route_table_association()
                .association_id(assoc)
                .route_table_id(table)
                .send()
                .await
                .map_err(aws_err)?;
            Ok(())
        }
        Err(e) => Err(e),
    }
}

pub(crate) async fn delete(aws: &Aws, address: &Address, id: &str) -> Result<(), ProviderError> {
    let current = tables(aws, Filter::builder().name("route-table-id").values(id).build()).await?;
    for assoc in current.first().map(associations).unwrap_or_default().values() {
        disassociate(aws, assoc).await?;
    }
    delete_with_retry(aws, address, id, || async {
        aws.call(crate::limits::Call::Mutate).await;
        aws.ec2.delete_route_table().route_table_id(id).send().await.map(|_| ()).map_err(aws_err)
    })
    .await
}

#[cfg(test)]
mod tests {
    use aws_sdk_ec2::types::{Route, RouteTableAssociation};
    use proptest::prelude::*;

    use super::super::roundtrip::{self, gives_back};
    use super::*;

    /// Routes with distinct destinations (a table holds one route per destination).
    fn routes() -> BoxedStrategy<Value> {
        let cidr = roundtrip::value(&trellis_core::schema::Type::IpCidr);
        let target = prop_oneof![
            "igw-[0-9a-f]{8}".prop_map(|g| ("gateway_id", g)),
            "nat-[0-9a-f]{8}".prop_map(|n| ("nat_gateway_id", n)),
            "eigw-[0-9a-f]{8}".prop_map(|n| ("egress_only_internet_gateway_id", n)),
        ];
        prop::collection::btree_map(cidr, target, 0..4)
            .prop_map(|m| {
                let mut items: Vec<Value> = m
                    .into_iter()
                    .map(|(dest, (key, id))| {
                        let v6 = dest.as_str().is_some_and(|d| d.contains(':'));
                        let dest_key = if v6 { "destination_ipv6_cidr_block" } else { "destination_cidr_block" };
                        Value::Map(roundtrip::collect(vec![(dest_key, dest), (key, Value::Str(id))]))
                    })
                    .collect();
                normalize_set(&mut items);
                Value::List(items)
            })
            .boxed()
    }

    proptest! {
        #[test]
        fn a_route_table_comes_back_as_it_was_made(
            attrs in roundtrip::attrs("route_table", &["vpc_id", "routes", "subnet_ids"], vec![("routes", routes())]),
        ) {
            // The routes as the create-route calls send them, the subnets as the
            // associations made; the table also holds its VPC's local route and, in AWS's
            // answer, no main association.
            let mut routes = vec![Route::builder()
                .destination_cidr_block("10.0.0.0/16")
                .gateway_id("local")
                .origin(RouteOrigin::CreateRouteTable)
                .build()];
            for (dest, (key, target)) in route_map(list_attr(&attrs, "routes")) {
                let route = match dest.contains(':') {
                    true => Route::builder().destination_ipv6_cidr_block(dest),
                    false => Route::builder().destination_cidr_block(dest),
                };
                let route = route.origin(RouteOrigin::CreateRoute);
                let route = match key {
                    "nat_gateway_id" => route.nat_gateway_id(target),
                    "egress_only_internet_gateway_id" => route.egress_only_internet_gateway_id(target),
                    _ => route.gateway_id(target),
                };
                routes.push(route.build());
            }
            let associations = list_attr(&attrs, "subnet_ids").iter().filter_map(Value::as_str).enumerate().map(|(n, s)| {
                RouteTableAssociation::builder().subnet_id(s).route_table_association_id(format!("rtbassoc-{n}")).main(false).build()
            });
            let answer = RouteTable::builder()
                .set_vpc_id(crate::util::str_attr(&attrs, "vpc_id").map(str::to_string))
                .set_routes(Some(routes))
                .set_associations(Some(associations.collect()))
                .build();
            let back = roundtrip::collect(observe(&answer));
            gives_back(&attrs, &back, &["vpc_id", "routes", "subnet_ids"])?;
        }
    }
}
