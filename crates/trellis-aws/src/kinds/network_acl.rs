//! `network_acl`: created, then its numbered rules put and its subnets moved to it from
//! the ACL that held them; its delete moves them back to the VPC's default ACL.

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_ec2::types::{Filter, IcmpTypeCode, NetworkAcl, NetworkAclEntry, PortRange, ResourceType, RuleAction};
use trellis_core::schema::normalize_set;
use trellis_core::{Address, Attrs, ProviderError, Value};

use super::{AwsKind, Create, FoundBy, InVpc};
use crate::aws::Aws;
use crate::util::Described;
use crate::util::{
    aws_err, delete_with_retry, described, is_code, list_attr, opt_str, protocol_name, protocol_number, str_attr,
    tag_spec, Select,
};

/// The AWS side of `network_acl`.
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
    /// All but the default ACL, which AWS made with the VPC and which goes with it.
    async fn list_in_vpc(&self, aws: &Aws, vpc: &InVpc<'_>) -> Result<Vec<String>, ProviderError> {
        let call = aws.ec2.describe_network_acls().filters(vpc.filter("vpc-id")).into_paginator().send();
        let pages = crate::util::pages(aws, call).await?;
        Ok(pages
            .iter()
            .flat_map(|p| p.network_acls())
            .filter(|a| a.is_default() != Some(true))
            .filter_map(|a| a.network_acl_id())
            .map(str::to_string)
            .collect())
    }
}

/// Rule numbers above this are AWS's own catch-all rules.
const LAST_USER_RULE: i32 = 32766;

pub(crate) fn rules(acl: &NetworkAcl, egress: bool) -> Value {
    let mut out: Vec<Value> = acl
        .entries()
        .iter()
        .filter(|e| e.egress() == Some(egress) && e.rule_number().is_some_and(|n| n <= LAST_USER_RULE))
        .map(rule_of)
        .collect();
    normalize_set(&mut out);
    Value::List(out)
}

/// One entry as the spec writes it: ports only for tcp and udp, an ICMP type and code
/// only when they are not "every" (-1, -1).
pub(crate) fn rule_of(e: &NetworkAclEntry) -> Value {
    let protocol = protocol_name(e.protocol().unwrap_or("-1"));
    let pair = |a: (&str, i32), b: (&str, i32)| {
        Value::Map([(a.0.to_string(), Value::Int(a.1.into())), (b.0.to_string(), Value::Int(b.1.into()))].into())
    };
    let mut m: BTreeMap<String, Value> = BTreeMap::new();
    m.insert("rule_number".into(), Value::Int(e.rule_number().unwrap_or_default().into()));
    m.insert("protocol".into(), Value::str(&protocol));
    m.insert("rule_action".into(), opt_str(e.rule_action().map(RuleAction::as_str)));
    match (e.cidr_block(), e.ipv6_cidr_block()) {
        (_, Some(v6)) => m.insert("ipv6_cidr_block".into(), Value::str(v6)),
        (v4, None) => m.insert("cidr_block".into(), opt_str(v4)),
    };
    if let (Some(r), true) = (e.port_range(), protocol == "tcp" || protocol == "udp") {
        let range = pair(("from", r.from().unwrap_or_default()), ("to", r.to().unwrap_or_default()));
        m.insert("port_range".into(), range);
    }
    if let (Some(tc), "icmp") = (e.icmp_type_code(), protocol.as_str()) {
        let (t, c) = (tc.r#type().unwrap_or(-1), tc.code().unwrap_or(-1));
        if (t, c) != (-1, -1) {
            m.insert("icmp_type_code".into(), pair(("type", t), ("code", c)));
        }
    }
    Value::Map(m)
}

/// The entry AWS keeps for one rule of the spec (what its create and replace calls take).
pub(crate) fn entry(rule: &BTreeMap<String, Value>, egress: bool) -> NetworkAclEntry {
    let get = |k: &str| rule.get(k);
    let int = |m: &BTreeMap<String, Value>, k: &str| m.get(k).and_then(Value::as_int).map(|v| v as i32);
    let protocol = get("protocol").and_then(Value::as_str).unwrap_or("all");
    let range = get("port_range")
        .and_then(Value::as_map)
        .map(|m| PortRange::builder().set_from(int(m, "from")).set_to(int(m, "to")).build());
    // AWS wants a type and code with every ICMP rule: -1 and -1 mean all of ICMP.
    let icmp = (protocol == "icmp").then(|| {
        let tc = get("icmp_type_code").and_then(Value::as_map);
        IcmpTypeCode::builder()
            .r#type(tc.and_then(|m| int(m, "type")).unwrap_or(-1))
            .code(tc.and_then(|m| int(m, "code")).unwrap_or(-1))
            .build()
    });
    NetworkAclEntry::builder()
        .rule_number(get("rule_number").and_then(Value::as_int).unwrap_or_default() as i32)
        .protocol(protocol_number(protocol))
        .rule_action(RuleAction::from(get("rule_action").and_then(Value::as_str).unwrap_or("deny")))
        .egress(egress)
        .set_cidr_block(get("cidr_block").and_then(Value::as_str).map(str::to_string))
        .set_ipv6_cidr_block(get("ipv6_cidr_block").and_then(Value::as_str).map(str::to_string))
        .set_port_range(range)
        .set_icmp_type_code(icmp)
        .build()
}

async fn acls(aws: &Aws, filters: Vec<Filter>) -> Result<Vec<NetworkAcl>, ProviderError> {
    let pages =
        crate::util::pages(aws, aws.ec2.describe_network_acls().set_filters(Some(filters)).into_paginator().send())
            .await?;
    let mut out = Vec::new();
    for page in pages {
        out.extend(page.network_acls.unwrap_or_default());
    }
    Ok(out)
}

/// ACLs by id. Through `NetworkAclIds`, not the `network-acl-id` filter (which moto
/// lacks); AWS then fails the whole call for one missing id, so ask again one by one.
async fn by_ids(aws: &Aws, ids: &[String]) -> Result<Vec<NetworkAcl>, ProviderError> {
    let call = aws.ec2.describe_network_acls().set_network_acl_ids(Some(ids.to_vec())).into_paginator().send();
    match crate::util::pages(aws, call).await {
        Ok(pages) => Ok(pages.into_iter().flat_map(|p| p.network_acls.unwrap_or_default()).collect()),
        Err(e) if is_code(&e, &["InvalidNetworkAclID.NotFound"]) && ids.len() == 1 => Ok(Vec::new()),
        Err(e) if is_code(&e, &["InvalidNetworkAclID.NotFound"]) => {
            let mut found = Vec::new();
            for id in ids {
                found.extend(Box::pin(by_ids(aws, std::slice::from_ref(id))).await?);
            }
            Ok(found)
        }
        Err(e) => Err(e),
    }
}

fn subnets_of(acl: &NetworkAcl) -> Vec<String> {
    acl.associations().iter().filter_map(|a| a.subnet_id().map(str::to_string)).collect()
}

pub(crate) async fn describe(aws: &Aws, sel: Select<'_>) -> Result<Vec<Described>, ProviderError> {
    let found = match sel {
        Select::Ids(ids) => by_ids(aws, ids).await?,
        Select::Stack(_) => acls(aws, vec![sel.filter("network-acl-id")]).await?,
    };
    Ok(found
        .iter()
        .map(|a| {
            let mut subnets: Vec<Value> = subnets_of(a).into_iter().map(Value::Str).collect();
            normalize_set(&mut subnets);
            described(
                a.network_acl_id().unwrap_or_default(),
                a.tags(),
                vec![
                    ("vpc_id", opt_str(a.vpc_id())),
                    ("ingress", rules(a, false)),
                    ("egress", rules(a, true)),
                    ("subnet_ids", Value::List(subnets)),
                ],
            )
        })
        .collect())
}

pub(crate) async fn create(aws: &Aws, c: &Create<'_>) -> Result<String, ProviderError> {
    let (stack, address, attrs) = (c.stack, c.address, c.attrs);
    aws.call(crate::limits::Call::Mutate).await;
    let out = aws
        .once
        .ec2
        .create_network_acl()
        .client_token(c.token)
        .set_vpc_id(str_attr(attrs, "vpc_id").map(str::to_string))
        .tag_specifications(tag_spec(ResourceType::NetworkAcl, stack, address, attrs.get("tags")))
        .send()
        .await
        .map_err(aws_err)?;
    out.network_acl()
        .and_then(|a| a.network_acl_id())
        .map(str::to_string)
        .ok_or_else(|| ProviderError::new(None, "CreateNetworkAcl returned no id"))
}

pub(crate) async fn configure(aws: &Aws, id: &str, attrs: &Attrs) -> Result<(), ProviderError> {
    let empty: Attrs =
        ["ingress", "egress", "subnet_ids"].iter().map(|k| (k.to_string(), Value::List(vec![]))).collect();
    update(aws, id, &empty, attrs).await
}

/// Rules keyed by rule number (each direction has its own numbers).
fn by_number(list: &[Value]) -> BTreeMap<i64, &BTreeMap<String, Value>> {
    list.iter().filter_map(|r| r.as_map()).filter_map(|m| Some((m.get("rule_number")?.as_int()?, m))).collect()
}

pub(crate) async fn update(aws: &Aws, id: &str, before: &Attrs, after: &Attrs) -> Result<(), ProviderError> {
    for (name, egress) in [("ingress", false), ("egress", true)] {
        let (have, want) = (by_number(list_attr(before, name)), by_number(list_attr(after, name)));
        for (n, rule) in &want {
            match have.get(n) {
                Some(old) if old == rule => {}
                Some(_) => put_entry(aws, id, egress, rule, true).await?,
                None => put_entry(aws, id, egress, rule, false).await?,
            }
        }
        for n in have.keys().filter(|n| !want.contains_key(n)) {
            aws.call(crate::limits::Call::Mutate).await;
            aws.ec2
                .delete_network_acl_entry()
                .network_acl_id(id)
                .rule_number(*n as i32)
                .egress(egress)
                .send()
                .await
                .map_err(aws_err)?;
        }
    }

    let want: Vec<&str> = list_attr(after, "subnet_ids").iter().filter_map(Value::as_str).collect();
    let had: Vec<&str> = list_attr(before, "subnet_ids").iter().filter_map(Value::as_str).collect();
    let added: Vec<&str> = want.iter().filter(|s| !had.contains(s)).copied().collect();
    let removed: Vec<&str> = had.iter().filter(|s| !want.contains(s)).copied().collect();
    for subnet in added {
        move_subnet(aws, subnet, id, true).await?;
    }
    if !removed.is_empty() {
        let default = default_acl(aws, id).await?;
        for subnet in removed {
            move_subnet(aws, subnet, &default, false).await?;
        }
    }
    Ok(())
}

async fn put_entry(
    aws: &Aws,
    id: &str,
    egress: bool,
    rule: &BTreeMap<String, Value>,
    replace: bool,
) -> Result<(), ProviderError> {
    let e = entry(rule, egress);
    aws.call(crate::limits::Call::Mutate).await;
    // Create and replace take the same fields, through builders of different types.
    macro_rules! send_entry {
        ($call:ident) => {
            aws.ec2
                .$call()
                .network_acl_id(id)
                .set_rule_number(e.rule_number)
                .set_protocol(e.protocol.clone())
                .set_rule_action(e.rule_action.clone())
                .set_egress(e.egress)
                .set_cidr_block(e.cidr_block.clone())
                .set_ipv6_cidr_block(e.ipv6_cidr_block.clone())
                .set_port_range(e.port_range.clone())
                .set_icmp_type_code(e.icmp_type_code.clone())
                .send()
                .await
                .map(|_| ())
                .map_err(aws_err)
        };
    }
    if replace {
        send_entry!(replace_network_acl_entry)
    } else {
        match send_entry!(create_network_acl_entry) {
            Err(e) if !crate::errors::already_done(&e) => Err(e),
            _ => Ok(()),
        }
    }
}

/// Moves a subnet to `acl` (every subnet always has exactly one ACL association). A
/// subnet that is gone has nothing to move: fine when handing it back to the default
/// ACL (`must_exist` false), an error when it should join this one.
async fn move_subnet(aws: &Aws, subnet: &str, acl: &str, must_exist: bool) -> Result<(), ProviderError> {
    // An association id is used up by the call that replaces it: when a resent call
    // finds its id gone, the subnet is read again (it may already be where it should).
    for attempt in 0..3 {
        let current = acls(aws, vec![Filter::builder().name("association.subnet-id").values(subnet).build()]).await?;
        let found = current.iter().find_map(|a| {
            let assoc = a.associations().iter().find(|s| s.subnet_id() == Some(subnet))?;
            Some((a.network_acl_id().unwrap_or_default(), assoc.network_acl_association_id()?))
        });
        let Some((now, assoc)) = found else {
            if !must_exist {
                return Ok(());
            }
            return Err(ProviderError::new(
                Some("InvalidSubnetID.NotFound"),
                format!("subnet {subnet} has no network ACL association"),
            ));
        };
        if now == acl {
            return Ok(());
        }
        aws.call(crate::limits::Call::Mutate).await;
        match aws
            .ec2
            .replace_network_acl_association()
            .association_id(assoc)
            .network_acl_id(acl)
            .send()
            .await
            .map_err(aws_err)
        {
            Err(e) if is_code(&e, &["InvalidAssociationID.NotFound"]) && attempt < 2 => continue,
            other => return other.map(|_| ()),
        }
    }
    Ok(())
}

async fn default_acl(aws: &Aws, acl: &str) -> Result<String, ProviderError> {
    let own = by_ids(aws, &[acl.to_string()]).await?;
    let vpc = own.first().and_then(|a| a.vpc_id()).unwrap_or_default().to_string();
    let defaults = acls(
        aws,
        vec![
            Filter::builder().name("vpc-id").values(&vpc).build(),
            Filter::builder().name("default").values("true").build(),
        ],
    )
    .await?;
    defaults
        .first()
        .and_then(|a| a.network_acl_id())
        .map(str::to_string)
        .ok_or_else(|| ProviderError::new(None, format!("VPC {vpc} has no default network ACL")))
}

pub(crate) async fn delete(aws: &Aws, address: &Address, id: &str) -> Result<(), ProviderError> {
    // An ACL cannot go while subnets use it: hand them back to the VPC's default.
    let own = by_ids(aws, &[id.to_string()]).await?;
    let subnets = own.first().map(subnets_of).unwrap_or_default();
    if !subnets.is_empty() {
        let default = default_acl(aws, id).await?;
        for s in &subnets {
            move_subnet(aws, s, &default, false).await?;
        }
    }
    delete_with_retry(aws, address, id, || async {
        aws.call(crate::limits::Call::Mutate).await;
        aws.ec2.delete_network_acl().network_acl_id(id).send().await.map(|_| ()).map_err(aws_err)
    })
    .await
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;
    use trellis_core::Value;

    use super::{entry, rule_of};

    fn pair(a: (&str, i64), b: (&str, i64)) -> Value {
        Value::Map([(a.0.to_string(), Value::Int(a.1)), (b.0.to_string(), Value::Int(b.1))].into())
    }

    fn rule() -> impl Strategy<Value = BTreeMap<String, Value>> {
        let range = (0i64..65535, 0i64..1000)
            .prop_map(|(a, n)| Some(("port_range", pair(("from", a), ("to", (a + n).min(65535))))));
        let protocol = prop_oneof![
            range.clone().prop_map(|r| ("tcp", r)),
            range.prop_map(|r| ("udp", r)),
            Just(("all", None)),
            Just(("icmp", None)),
            (-1i64..=255, -1i64..=255)
                .prop_filter("(-1, -1) is written as no icmp_type_code", |tc| *tc != (-1, -1))
                .prop_map(|(t, c)| ("icmp", Some(("icmp_type_code", pair(("type", t), ("code", c)))))),
        ];
        let range = prop_oneof![
            (0u8..=255, 8u8..=32).prop_map(|(a, bits)| ("cidr_block", format!("10.{a}.0.0/{bits}"))),
            Just(("ipv6_cidr_block", "::/0".to_string())),
            (1u16..=0xffff).prop_map(|a| ("ipv6_cidr_block", format!("2600:1f18:{a:x}::/56"))),
        ];
        (1i64..=32766, protocol, prop_oneof![Just("allow"), Just("deny")], range).prop_map(
            |(n, (protocol, extra), action, (key, cidr))| {
                let mut m = BTreeMap::new();
                m.insert("rule_number".to_string(), Value::Int(n));
                m.insert("protocol".to_string(), Value::str(protocol));
                m.insert("rule_action".to_string(), Value::str(action));
                m.insert(key.to_string(), Value::Str(cidr));
                if let Some((k, v)) = extra {
                    m.insert(k.to_string(), v);
                }
                m
            },
        )
    }

    proptest! {
        #[test]
        fn a_rule_comes_back_as_it_was_written(r in rule(), egress in any::<bool>()) {
            let e = entry(&r, egress);
            prop_assert_eq!(e.egress(), Some(egress));
            prop_assert_eq!(rule_of(&e), Value::Map(r));
        }
    }

    #[test]
    fn every_icmp_rule_carries_a_type_and_code() {
        let r: BTreeMap<String, Value> = [
            ("rule_number", Value::Int(100)),
            ("protocol", Value::str("icmp")),
            ("rule_action", Value::str("allow")),
            ("cidr_block", Value::str("0.0.0.0/0")),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        let e = entry(&r, false);
        let tc = e.icmp_type_code().expect("AWS refuses an ICMP entry without one");
        assert_eq!((e.protocol(), tc.r#type(), tc.code()), (Some("1"), Some(-1), Some(-1)));
        assert_eq!(rule_of(&e), Value::Map(r));
    }
}
