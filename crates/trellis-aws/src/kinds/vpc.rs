//! `vpc`: created and waited for until available; its DNS attributes are set with
//! `modify-vpc-attribute`, one call each.

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_ec2::operation::create_vpc::builders::CreateVpcFluentBuilder;
use aws_sdk_ec2::types::{
    AttributeBooleanValue, Filter, IpPermission, IpRange, NetworkAcl, ResourceType, RouteTable, Tenancy, UserIdGroupPair,
    Vpc, VpcAttributeName, VpcState,
};
use futures_util::future::try_join_all;
use trellis_core::{Address, Attrs, ProviderError, Value};

use super::{AwsKind, Create, FoundBy, InVpc};
use crate::aws::Aws;
use crate::progress::Until;
use crate::util::Described;
use crate::util::{
    aws_err, bool_attr, delete_with_retry, described, opt_str, read_listed, retry_until, str_attr, tag_spec, Select,
};

/// The AWS side of `vpc`.
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
    /// The VPC itself, which must exist.
    async fn list_in_vpc(&self, aws: &Aws, vpc: &InVpc<'_>) -> Result<Vec<String>, ProviderError> {
        let pages = crate::util::pages(aws, aws.ec2.describe_vpcs().vpc_ids(vpc.vpc).into_paginator().send()).await?;
        if pages.iter().all(|p| p.vpcs().is_empty()) {
            return Err(ProviderError::new(Some("InvalidVpcID.NotFound"), format!("there is no VPC {}", vpc.vpc)));
        }
        Ok(vec![vpc.vpc.to_string()])
    }
}

pub(crate) async fn describe(aws: &Aws, sel: Select<'_>) -> Result<Vec<Described>, ProviderError> {
    let pages =
        crate::util::pages(aws, aws.ec2.describe_vpcs().filters(sel.filter("vpc-id")).into_paginator().send()).await?;
    let mut vpcs = Vec::new();
    for page in pages {
        vpcs.extend(page.vpcs.unwrap_or_default());
    }
    let ids: Vec<String> = vpcs.iter().filter_map(|v| v.vpc_id().map(str::to_string)).collect();
    let defaults = default_groups(aws, &ids).await?;
    let (acls, mains) = (default_acls(aws, &ids).await?, main_tables(aws, &ids).await?);
    // DNS settings are only offered one attribute of one VPC per call.
    let reads = vpcs.iter().map(|v| async {
        let id = v.vpc_id().unwrap_or_default();
        let support = read_listed(|| dns_attribute(aws, id, VpcAttributeName::EnableDnsSupport)).await?;
        let hostnames = read_listed(|| dns_attribute(aws, id, VpcAttributeName::EnableDnsHostnames)).await?;
        let group = defaults.get(id).map(|(g, open)| (g.as_str(), *open));
        let mut attrs = observe(v, support, hostnames, group);
        attrs.extend(observe_defaults(acls.get(id), mains.get(id)));
        Ok::<_, ProviderError>(described(id, v.tags(), attrs))
    });
    try_join_all(reads).await
}

/// The one object of each VPC that a describe call finds with the filter `name` =
/// `value` (its default group, default ACL, main route table), by VPC id: paged reads
/// of 200 VPCs a filter (AWS takes up to 200 values in one), not one call per VPC.
macro_rules! one_per_vpc {
    ($aws:expr, $vpcs:expr, $describe:ident, $items:ident, $name:literal, $value:literal) => {{
        let mut out = BTreeMap::new();
        for chunk in $vpcs.chunks(200) {
            let call = $aws
                .ec2
                .$describe()
                .filters(Filter::builder().name("vpc-id").set_values(Some(chunk.to_vec())).build())
                .filters(Filter::builder().name($name).values($value).build())
                .into_paginator()
                .send();
            for page in crate::util::pages($aws, call).await? {
                for item in page.$items() {
                    if let Some(vpc) = item.vpc_id() {
                        out.insert(vpc.to_string(), item.clone());
                    }
                }
            }
        }
        out
    }};
}

/// Each VPC's default security group, and whether it has any rule.
async fn default_groups(aws: &Aws, vpcs: &[String]) -> Result<BTreeMap<String, (String, bool)>, ProviderError> {
    let groups = one_per_vpc!(aws, vpcs, describe_security_groups, security_groups, "group-name", "default");
    Ok(groups
        .into_iter()
        .filter_map(|(vpc, g)| {
            let open = !g.ip_permissions().is_empty() || !g.ip_permissions_egress().is_empty();
            Some((vpc, (g.group_id()?.to_string(), open)))
        })
        .collect())
}

/// Each VPC's default network ACL.
async fn default_acls(aws: &Aws, vpcs: &[String]) -> Result<BTreeMap<String, NetworkAcl>, ProviderError> {
    Ok(one_per_vpc!(aws, vpcs, describe_network_acls, network_acls, "default", "true"))
}

/// Each VPC's main route table.
async fn main_tables(aws: &Aws, vpcs: &[String]) -> Result<BTreeMap<String, RouteTable>, ProviderError> {
    Ok(one_per_vpc!(aws, vpcs, describe_route_tables, route_tables, "association.main", "true"))
}

/// The default ACL's rules and the main table's routes, as the spec writes them.
fn observe_defaults(acl: Option<&NetworkAcl>, main: Option<&RouteTable>) -> Vec<(&'static str, Value)> {
    vec![
        ("default_network_acl_id", opt_str(acl.and_then(|a| a.network_acl_id()))),
        ("default_network_acl_ingress", acl.map(|a| super::network_acl::rules(a, false)).unwrap_or(Value::Null)),
        ("default_network_acl_egress", acl.map(|a| super::network_acl::rules(a, true)).unwrap_or(Value::Null)),
        ("main_route_table_id", opt_str(main.and_then(|t| t.route_table_id()))),
        ("main_route_table_routes", main.map(super::route_table::routes_of).unwrap_or(Value::Null)),
    ]
}

/// Makes the VPC's default ACL's rules and main table's routes what `after` gives,
/// from what AWS holds now (an attribute `after` leaves out is left as it is).
async fn take_over_defaults(aws: &Aws, vpc: &str, after: &Attrs) -> Result<(), ProviderError> {
    let ids = [vpc.to_string()];
    let given = |k: &str| matches!(after.get(k), Some(Value::List(_)));
    if given("default_network_acl_ingress") || given("default_network_acl_egress") {
        let acls = default_acls(aws, &ids).await?;
        let Some(acl) = acls.get(vpc) else {
            return Err(ProviderError::new(Some("InvalidNetworkAclID.NotFound"), format!("VPC {vpc} has no default network ACL")));
        };
        let live: Attrs = [
            ("ingress", super::network_acl::rules(acl, false)),
            ("egress", super::network_acl::rules(acl, true)),
            ("subnet_ids", Value::List(vec![])),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        let mut want = live.clone();
        for (attr, key) in [("default_network_acl_ingress", "ingress"), ("default_network_acl_egress", "egress")] {
            if given(attr) {
                want.insert(key.to_string(), after[attr].clone());
            }
        }
        super::network_acl::update(aws, acl.network_acl_id().unwrap_or_default(), &live, &want).await?;
    }
    if given("main_route_table_routes") {
        let mains = main_tables(aws, &ids).await?;
        let Some(table) = mains.get(vpc) else {
            return Err(ProviderError::new(Some("InvalidRouteTableID.NotFound"), format!("VPC {vpc} has no main route table")));
        };
        let live: Attrs = [("routes", super::route_table::routes_of(table)), ("subnet_ids", Value::List(vec![]))]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        let mut want = live.clone();
        want.insert("routes".to_string(), after["main_route_table_routes"].clone());
        super::route_table::update(aws, table.route_table_id().unwrap_or_default(), &live, &want).await?;
    }
    Ok(())
}

/// A VPC's attributes as AWS describes it (its DNS settings and default group are
/// read apart).
/// The IPv6 block AWS gave the VPC (associated, or being associated), and its
/// association's id.
fn ipv6_block(v: &Vpc) -> Option<(&str, &str)> {
    v.ipv6_cidr_block_association_set().iter().find_map(|a| {
        let state = a.ipv6_cidr_block_state().and_then(|s| s.state()).map(|s| s.as_str());
        let live = matches!(state, Some("associated" | "associating") | None);
        live.then(|| Some((a.ipv6_cidr_block()?, a.association_id()?))).flatten()
    })
}

fn observe(v: &Vpc, support: bool, hostnames: bool, default_group: Option<(&str, bool)>) -> Vec<(&'static str, Value)> {
    let v6 = ipv6_block(v);
    vec![
        ("cidr_block", opt_str(v.cidr_block())),
        ("amazon_provided_ipv6_cidr_block", Value::Bool(v6.is_some())),
        ("ipv6_cidr_block", opt_str(v6.map(|(block, _)| block))),
        ("instance_tenancy", opt_str(v.instance_tenancy().map(Tenancy::as_str))),
        ("enable_dns_support", Value::Bool(support)),
        ("enable_dns_hostnames", Value::Bool(hostnames)),
        ("default_security_group_id", opt_str(default_group.map(|(g, _)| g))),
        (
            "default_security_group_rules",
            Value::str(if default_group.is_some_and(|(_, open)| !open) { "none" } else { "aws-default" }),
        ),
    ]
}

fn request(b: CreateVpcFluentBuilder, c: &Create<'_>) -> CreateVpcFluentBuilder {
    b.set_cidr_block(str_attr(c.attrs, "cidr_block").map(str::to_string))
        .set_amazon_provided_ipv6_cidr_block(bool_attr(c.attrs, "amazon_provided_ipv6_cidr_block").filter(|v| *v))
        .set_instance_tenancy(str_attr(c.attrs, "instance_tenancy").map(Tenancy::from))
        .tag_specifications(tag_spec(ResourceType::Vpc, c.stack, c.address, c.attrs.get("tags")))
}

async fn dns_attribute(aws: &Aws, id: &str, attr: VpcAttributeName) -> Result<bool, ProviderError> {
    aws.call(crate::limits::Call::Describe).await;
    let out = aws.ec2.describe_vpc_attribute().vpc_id(id).attribute(attr.clone()).send().await.map_err(aws_err)?;
    let v = match attr {
        VpcAttributeName::EnableDnsSupport => out.enable_dns_support(),
        _ => out.enable_dns_hostnames(),
    };
    Ok(v.and_then(|a| a.value()).unwrap_or(false))
}

pub(crate) async fn create(aws: &Aws, c: &Create<'_>) -> Result<String, ProviderError> {
    aws.call(crate::limits::Call::Mutate).await;
    let out = request(aws.once.ec2.create_vpc(), c).send().await.map_err(aws_err)?;
    out.vpc()
        .and_then(|v| v.vpc_id())
        .map(str::to_string)
        .ok_or_else(|| ProviderError::new(None, "CreateVpc returned no id"))
}

pub(crate) async fn configure(aws: &Aws, id: &str, attrs: &Attrs) -> Result<(), ProviderError> {
    let ipv6 = bool_attr(attrs, "amazon_provided_ipv6_cidr_block") == Some(true);
    retry_until(aws, aws.timeouts.ready, id, Until::Available, || async {
        aws.call(crate::limits::Call::Describe).await;
        let out = aws.ec2.describe_vpcs().vpc_ids(id).send().await.map_err(aws_err)?;
        // With an IPv6 block, also until AWS has given it (what subnets carve theirs from).
        let ready = |v: &&Vpc| v.state() == Some(&VpcState::Available) && (!ipv6 || ipv6_block(v).is_some());
        Ok(out.vpcs().first().filter(ready).map(|_| ()))
    })
    .await?;
    // AWS's defaults: DNS support on, hostnames off; the IPv6 block as the create asked;
    // the default group with AWS's rules.
    let mut defaults: Attrs =
        [("enable_dns_support", true), ("enable_dns_hostnames", false), ("amazon_provided_ipv6_cidr_block", ipv6)]
            .iter()
            .map(|(k, v)| (k.to_string(), Value::Bool(*v)))
            .collect();
    defaults.insert("default_security_group_rules".into(), Value::str("aws-default"));
    update(aws, id, &defaults, attrs).await
}

pub(crate) async fn update(aws: &Aws, id: &str, before: &Attrs, after: &Attrs) -> Result<(), ProviderError> {
    let v6 = |a: &Attrs| bool_attr(a, "amazon_provided_ipv6_cidr_block") == Some(true);
    if v6(before) != v6(after) {
        aws.call(crate::limits::Call::Mutate).await;
        if v6(after) {
            aws.ec2.associate_vpc_cidr_block().vpc_id(id).amazon_provided_ipv6_cidr_block(true).send().await.map_err(aws_err)?;
        } else {
            let out = aws.ec2.describe_vpcs().vpc_ids(id).send().await.map_err(aws_err)?;
            if let Some((_, association)) = out.vpcs().first().and_then(ipv6_block) {
                aws.call(crate::limits::Call::Mutate).await;
                aws.ec2.disassociate_vpc_cidr_block().association_id(association).send().await.map_err(aws_err)?;
            }
        }
    }
    for name in ["enable_dns_support", "enable_dns_hostnames"] {
        let want = bool_attr(after, name);
        if want.is_none() || want == bool_attr(before, name) {
            continue;
        }
        let value = AttributeBooleanValue::builder().set_value(want).build();
        let call = aws.ec2.modify_vpc_attribute().vpc_id(id);
        let call = if name == "enable_dns_support" {
            call.enable_dns_support(value)
        } else {
            call.enable_dns_hostnames(value)
        };
        aws.call(crate::limits::Call::Mutate).await;
        call.send().await.map_err(aws_err)?;
    }
    let rules = |a: &Attrs| str_attr(a, "default_security_group_rules").map(str::to_string);
    if let Some(want) = rules(after).filter(|w| Some(w) != rules(before).as_ref()) {
        default_group_rules(aws, id, want == "none").await?;
    }
    let taken = ["default_network_acl_ingress", "default_network_acl_egress", "main_route_table_routes"];
    if taken.iter().any(|k| before.get(*k) != after.get(*k)) {
        take_over_defaults(aws, id, after).await?;
    }
    Ok(())
}

/// Empties the VPC's default security group (`close`), or gives it AWS's own rules
/// back: all traffic from its members, all traffic out.
async fn default_group_rules(aws: &Aws, vpc: &str, close: bool) -> Result<(), ProviderError> {
    let ids = [vpc.to_string()];
    let groups = one_per_vpc!(aws, &ids, describe_security_groups, security_groups, "group-name", "default");
    let Some(group) = groups.get(vpc) else {
        return Err(ProviderError::new(Some("InvalidGroup.NotFound"), format!("VPC {vpc} has no default security group")));
    };
    let id = group.group_id().unwrap_or_default();
    let (ingress, egress) = if close {
        (group.ip_permissions().to_vec(), group.ip_permissions_egress().to_vec())
    } else {
        let everything = |p: aws_sdk_ec2::types::builders::IpPermissionBuilder| p.ip_protocol("-1").build();
        let members = everything(
            IpPermission::builder().user_id_group_pairs(UserIdGroupPair::builder().group_id(id).build()),
        );
        let out = everything(IpPermission::builder().ip_ranges(IpRange::builder().cidr_ip("0.0.0.0/0").build()));
        (
            if group.ip_permissions().is_empty() { vec![members] } else { vec![] },
            if group.ip_permissions_egress().is_empty() { vec![out] } else { vec![] },
        )
    };
    if !ingress.is_empty() {
        aws.call(crate::limits::Call::SecurityGroupRule).await;
        let call = if close {
            aws.ec2.revoke_security_group_ingress().group_id(id).set_ip_permissions(Some(ingress)).send().await.map(|_| ()).map_err(aws_err)
        } else {
            aws.ec2.authorize_security_group_ingress().group_id(id).set_ip_permissions(Some(ingress)).send().await.map(|_| ()).map_err(aws_err)
        };
        call?;
    }
    if !egress.is_empty() {
        aws.call(crate::limits::Call::SecurityGroupRule).await;
        let call = if close {
            aws.ec2.revoke_security_group_egress().group_id(id).set_ip_permissions(Some(egress)).send().await.map(|_| ()).map_err(aws_err)
        } else {
            aws.ec2.authorize_security_group_egress().group_id(id).set_ip_permissions(Some(egress)).send().await.map(|_| ()).map_err(aws_err)
        };
        call?;
    }
    Ok(())
}

pub(crate) async fn delete(aws: &Aws, address: &Address, id: &str) -> Result<(), ProviderError> {
    delete_with_retry(aws, address, id, || async {
        aws.call(crate::limits::Call::Mutate).await;
        aws.ec2.delete_vpc().vpc_id(id).send().await.map(|_| ()).map_err(aws_err)
    })
    .await
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::super::roundtrip::{self, gives_back};
    use super::*;

    proptest! {
        #[test]
        fn a_vpc_comes_back_as_it_was_created(
            attrs in roundtrip::attrs("vpc", &["cidr_block", "instance_tenancy", "amazon_provided_ipv6_cidr_block", "tags"], vec![]),
            support: bool,
            hostnames: bool,
        ) {
            let address = roundtrip::address("vpc");
            let sent = request(roundtrip::ec2().create_vpc(), &roundtrip::create(&address, &attrs));
            let input = sent.as_input();
            // AWS gives a /56 when asked for one.
            let block = input.get_amazon_provided_ipv6_cidr_block().unwrap_or(false).then(|| {
                aws_sdk_ec2::types::VpcIpv6CidrBlockAssociation::builder()
                    .ipv6_cidr_block("2600:1f18:1a2:b300::/56")
                    .association_id("vpc-cidr-assoc-1")
                    .build()
            });
            let answer = Vpc::builder()
                .set_ipv6_cidr_block_association_set(block.map(|b| vec![b]))
                .set_cidr_block(input.get_cidr_block().clone())
                .set_instance_tenancy(input.get_instance_tenancy().clone())
                .set_tags(Some(roundtrip::ec2_tags(input.get_tag_specifications())))
                .build();
            let back = described("vpc-1", answer.tags(), observe(&answer, support, hostnames, Some(("sg-1", true)))).attrs;
            gives_back(&attrs, &back, &["cidr_block", "instance_tenancy", "amazon_provided_ipv6_cidr_block", "tags"])?;
            prop_assert_eq!(&back["enable_dns_support"], &Value::Bool(support));
            prop_assert_eq!(&back["enable_dns_hostnames"], &Value::Bool(hostnames));
            prop_assert_eq!(&back["default_security_group_id"], &Value::str("sg-1"));
        }
    }

    /// The default ACL's rules and the main table's routes come back as the spec writes
    /// them: AWS's catch-all rules and the `local` route are AWS's, not the spec's.
    #[test]
    fn a_vpc_s_defaults_come_back_without_aws_s_own_entries() {
        let rule = |n: i64, action: &str| -> std::collections::BTreeMap<String, Value> {
            [
                ("rule_number", Value::Int(n)),
                ("protocol", Value::str("all")),
                ("rule_action", Value::str(action)),
                ("cidr_block", Value::str("0.0.0.0/0")),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect()
        };
        let acl = NetworkAcl::builder()
            .network_acl_id("acl-1")
            .entries(super::super::network_acl::entry(&rule(100, "allow"), false))
            .entries(super::super::network_acl::entry(&rule(32767, "deny"), false))
            .entries(super::super::network_acl::entry(&rule(32767, "deny"), true))
            .build();
        let table = RouteTable::builder()
            .route_table_id("rtb-1")
            .routes(
                aws_sdk_ec2::types::Route::builder()
                    .destination_cidr_block("10.0.0.0/16")
                    .gateway_id("local")
                    .origin(aws_sdk_ec2::types::RouteOrigin::CreateRouteTable)
                    .build(),
            )
            .routes(aws_sdk_ec2::types::Route::builder().destination_cidr_block("0.0.0.0/0").gateway_id("igw-1").build())
            .build();
        let back: Attrs = observe_defaults(Some(&acl), Some(&table)).into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        assert_eq!(back["default_network_acl_ingress"], Value::List(vec![Value::Map(rule(100, "allow"))]));
        assert_eq!(back["default_network_acl_egress"], Value::List(vec![]));
        let route: std::collections::BTreeMap<String, Value> =
            [("destination_cidr_block", "0.0.0.0/0"), ("gateway_id", "igw-1")].into_iter().map(|(k, v)| (k.to_string(), Value::str(v))).collect();
        assert_eq!(back["main_route_table_routes"], Value::List(vec![Value::Map(route)]));
        assert_eq!(back["main_route_table_id"], Value::str("rtb-1"));
    }
}
