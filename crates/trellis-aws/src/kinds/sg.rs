use std::collections::BTreeMap;

use aws_sdk_ec2::types::{IpPermission, IpRange, ResourceType, SecurityGroup, UserIdGroupPair};
use trellis_core::schema::normalize_set;
use trellis_core::{Address, Attrs, ProviderError, Value};

use crate::util::{
    aws_err, create_named, delete_with_retry, described, is_code, list_attr, missing_from, opt_str, protocol_name,
    str_attr, tag_spec, Select,
};
use crate::{Aws, Described};

/// One rule per source, in the spec's shape: `{protocol, port, cidr | source_group, description}`.
fn rules(perms: &[IpPermission]) -> Value {
    let mut out = Vec::new();
    for p in perms {
        let protocol = protocol_name(p.ip_protocol().unwrap_or("-1"));
        let port = match (protocol.as_str(), p.from_port(), p.to_port()) {
            ("all", ..) | (_, None, _) | (_, _, None) => None,
            (_, Some(a), Some(b)) if a == b => Some(Value::Int(a.into())),
            (_, Some(a), Some(b)) => Some(Value::Str(format!("{a}-{b}"))),
        };
        let base = |source: (&str, &str), description: Option<&str>| {
            let mut m: BTreeMap<String, Value> = BTreeMap::new();
            m.insert("protocol".into(), Value::str(&protocol));
            if let Some(port) = &port {
                m.insert("port".into(), port.clone());
            }
            m.insert(source.0.into(), Value::str(source.1));
            if let Some(d) = description.filter(|d| !d.is_empty()) {
                m.insert("description".into(), Value::str(d));
            }
            Value::Map(m)
        };
        for r in p.ip_ranges() {
            if let Some(cidr) = r.cidr_ip() {
                out.push(base(("cidr", cidr), r.description()));
            }
        }
        for g in p.user_id_group_pairs() {
            if let Some(group) = g.group_id() {
                out.push(base(("source_group", group), g.description()));
            }
        }
    }
    normalize_set(&mut out);
    Value::List(out)
}

fn permission(rule: &Value) -> IpPermission {
    let m = rule.as_map().cloned().unwrap_or_default();
    let protocol = m.get("protocol").and_then(Value::as_str).unwrap_or("all");
    let (from, to) = match m.get("port") {
        Some(Value::Int(p)) => (Some(*p as i32), Some(*p as i32)),
        Some(Value::Str(range)) => {
            let (a, b) = range.split_once('-').unwrap_or((range, range));
            (a.parse().ok(), b.parse().ok())
        }
        _ => (None, None),
    };
    let description = m.get("description").and_then(Value::as_str).map(str::to_string);
    let mut p = IpPermission::builder()
        .ip_protocol(if protocol == "all" { "-1" } else { protocol })
        .set_from_port(from)
        .set_to_port(to);
    if let Some(cidr) = m.get("cidr").and_then(Value::as_str) {
        p = p.ip_ranges(IpRange::builder().cidr_ip(cidr).set_description(description).build());
    } else if let Some(group) = m.get("source_group").and_then(Value::as_str) {
        p = p.user_id_group_pairs(UserIdGroupPair::builder().group_id(group).set_description(description).build());
    }
    p.build()
}

fn attrs_of(g: &SecurityGroup) -> Described {
    described(
        g.group_id().unwrap_or_default(),
        g.tags(),
        vec![
            ("group_name", opt_str(g.group_name())),
            ("description", opt_str(g.description())),
            ("vpc_id", opt_str(g.vpc_id())),
            ("ingress", rules(g.ip_permissions())),
            ("egress", rules(g.ip_permissions_egress())),
        ],
    )
}

pub(crate) async fn describe(aws: &Aws, sel: Select<'_>) -> Result<Vec<Described>, ProviderError> {
    let pages = crate::util::pages(
        aws,
        aws.ec2.describe_security_groups().filters(sel.filter("group-id")).into_paginator().send(),
    )
    .await?;
    let mut out = Vec::new();
    for page in pages {
        out.extend(page.security_groups.unwrap_or_default().iter().map(attrs_of));
    }
    Ok(out)
}

pub(crate) async fn create(aws: &Aws, stack: &str, address: &Address, attrs: &Attrs) -> Result<String, ProviderError> {
    create_named(attrs, "group_name", (stack, address, 255), &["InvalidGroup.Duplicate"], |name| async move {
        aws.call(crate::limits::Call::Mutate).await;
        let out = aws
            .ec2
            .create_security_group()
            .group_name(name)
            .set_description(str_attr(attrs, "description").map(str::to_string))
            .set_vpc_id(str_attr(attrs, "vpc_id").map(str::to_string))
            .tag_specifications(tag_spec(ResourceType::SecurityGroup, stack, address, attrs.get("tags")))
            .send()
            .await
            .map_err(aws_err)?;
        out.group_id().map(str::to_string).ok_or_else(|| ProviderError::new(None, "CreateSecurityGroup returned no id"))
    })
    .await
}

pub(crate) async fn configure(aws: &Aws, id: &str, attrs: &Attrs) -> Result<(), ProviderError> {
    // A new group allows all outbound traffic; the spec's `egress`, when given, replaces that.
    let allow_all: BTreeMap<String, Value> =
        [("protocol".to_string(), Value::str("all")), ("cidr".to_string(), Value::str("0.0.0.0/0"))]
            .into_iter()
            .collect();
    let fresh: Attrs = [("ingress", Value::List(vec![])), ("egress", Value::List(vec![Value::Map(allow_all)]))]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    update(aws, id, &fresh, attrs).await
}

pub(crate) async fn update(aws: &Aws, id: &str, before: &Attrs, after: &Attrs) -> Result<(), ProviderError> {
    for egress in [false, true] {
        let name = if egress { "egress" } else { "ingress" };
        let Some(Value::List(want)) = after.get(name) else {
            continue;
        }; // egress left to AWS
        let have = list_attr(before, name);
        // Revoke first: a rule whose description changed is revoked and authorized again.
        let revoke: Vec<IpPermission> = missing_from(have, want).into_iter().map(permission).collect();
        let grant: Vec<IpPermission> = missing_from(want, have).into_iter().map(permission).collect();
        // The four calls take the same fields, through builders of different types.
        macro_rules! send_rules {
            ($call:ident, $perms:expr) => {
                aws.ec2.$call().group_id(id).set_ip_permissions(Some($perms)).send().await.map(|_| ()).map_err(aws_err)
            };
        }
        if !revoke.is_empty() {
            aws.call(crate::limits::Call::SecurityGroupRule).await;
            let r = if egress {
                send_rules!(revoke_security_group_egress, revoke)
            } else {
                send_rules!(revoke_security_group_ingress, revoke)
            };
            match r {
                Err(e) if !is_code(&e, &["InvalidPermission.NotFound"]) => return Err(e),
                _ => {}
            }
        }
        if !grant.is_empty() {
            aws.call(crate::limits::Call::SecurityGroupRule).await;
            let r = if egress {
                send_rules!(authorize_security_group_egress, grant)
            } else {
                send_rules!(authorize_security_group_ingress, grant)
            };
            match r {
                Err(e) if !is_code(&e, &["InvalidPermission.Duplicate"]) => return Err(e),
                _ => {}
            }
        }
    }
    Ok(())
}

pub(crate) async fn delete(aws: &Aws, address: &Address, id: &str) -> Result<(), ProviderError> {
    delete_with_retry(aws, address, id, || async {
        aws.call(crate::limits::Call::Mutate).await;
        aws.ec2.delete_security_group().group_id(id).send().await.map(|_| ()).map_err(aws_err)
    })
    .await
}
