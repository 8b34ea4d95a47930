use std::collections::BTreeMap;

use aws_sdk_ec2::types::{Filter, NetworkAcl, PortRange, ResourceType, RuleAction};
use trellis_core::schema::normalize_set;
use trellis_core::{Address, Attrs, ProviderError, Value};

use crate::util::{
    aws_err, delete_with_retry, described, is_code, list_attr, opt_str, protocol_name, protocol_number, str_attr,
    tag_spec, Select,
};
use crate::{Aws, Described};

/// Rule numbers above this are AWS's own catch-all rules.
const LAST_USER_RULE: i32 = 32766;

fn rules(acl: &NetworkAcl, egress: bool) -> Value {
    let mut out: Vec<Value> = acl
        .entries()
        .iter()
        .filter(|e| e.egress() == Some(egress) && e.rule_number().is_some_and(|n| n <= LAST_USER_RULE))
        .map(|e| {
            let protocol = protocol_name(e.protocol().unwrap_or("-1"));
            let mut m: BTreeMap<String, Value> = BTreeMap::new();
            m.insert("rule_number".into(), Value::Int(e.rule_number().unwrap_or_default().into()));
            m.insert("protocol".into(), Value::str(&protocol));
            m.insert("rule_action".into(), opt_str(e.rule_action().map(RuleAction::as_str)));
            m.insert("cidr_block".into(), opt_str(e.cidr_block()));
            if let (Some(r), true) = (e.port_range(), protocol == "tcp" || protocol == "udp") {
                let range: BTreeMap<String, Value> = [
                    ("from".to_string(), Value::Int(r.from().unwrap_or_default().into())),
                    ("to".to_string(), Value::Int(r.to().unwrap_or_default().into())),
                ]
                .into_iter()
                .collect();
                m.insert("port_range".into(), Value::Map(range));
            }
            Value::Map(m)
        })
        .collect();
    normalize_set(&mut out);
    Value::List(out)
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

pub(crate) async fn create(aws: &Aws, stack: &str, address: &Address, attrs: &Attrs) -> Result<String, ProviderError> {
    aws.call(crate::limits::Call::Mutate).await;
    let out = aws
        .ec2
        .create_network_acl()
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
    let get = |k: &str| rule.get(k);
    let number = get("rule_number").and_then(Value::as_int).unwrap_or_default() as i32;
    let protocol = protocol_number(get("protocol").and_then(Value::as_str).unwrap_or("all")).to_string();
    let action = RuleAction::from(get("rule_action").and_then(Value::as_str).unwrap_or("deny"));
    let cidr = get("cidr_block").and_then(Value::as_str).map(str::to_string);
    let range = get("port_range").and_then(Value::as_map).map(|m| {
        PortRange::builder()
            .set_from(m.get("from").and_then(Value::as_int).map(|v| v as i32))
            .set_to(m.get("to").and_then(Value::as_int).map(|v| v as i32))
            .build()
    });
    aws.call(crate::limits::Call::Mutate).await;
    // Create and replace take the same fields, through builders of different types.
    macro_rules! send_entry {
        ($call:ident) => {
            aws.ec2
                .$call()
                .network_acl_id(id)
                .rule_number(number)
                .protocol(protocol)
                .rule_action(action)
                .egress(egress)
                .set_cidr_block(cidr)
                .set_port_range(range)
                .send()
                .await
                .map(|_| ())
                .map_err(aws_err)
        };
    }
    if replace {
        send_entry!(replace_network_acl_entry)
    } else {
        send_entry!(create_network_acl_entry)
    }
}

/// Moves a subnet to `acl` (every subnet always has exactly one ACL association). A
/// subnet that is gone has nothing to move: fine when handing it back to the default
/// ACL (`must_exist` false), an error when it should join this one.
async fn move_subnet(aws: &Aws, subnet: &str, acl: &str, must_exist: bool) -> Result<(), ProviderError> {
    let current = acls(aws, vec![Filter::builder().name("association.subnet-id").values(subnet).build()]).await?;
    let assoc = current
        .iter()
        .flat_map(|a| a.associations())
        .find(|a| a.subnet_id() == Some(subnet))
        .and_then(|a| a.network_acl_association_id());
    let Some(assoc) = assoc else {
        if !must_exist {
            return Ok(());
        }
        return Err(ProviderError::new(
            Some("InvalidSubnetID.NotFound"),
            format!("subnet {subnet} has no network ACL association"),
        ));
    };
    aws.call(crate::limits::Call::Mutate).await;
    aws.ec2
        .replace_network_acl_association()
        .association_id(assoc)
        .network_acl_id(acl)
        .send()
        .await
        .map_err(aws_err)?;
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
