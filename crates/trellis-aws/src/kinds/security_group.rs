//! `security_group`: created, then its rules authorized; a new group's allow-all egress
//! rule is revoked when the spec gives its own `egress`.

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_ec2::types::{IpPermission, IpRange, Ipv6Range, ResourceType, SecurityGroup, UserIdGroupPair};
use trellis_core::schema::normalize_set;
use trellis_core::{Address, Attrs, ProviderError, Value};

use super::{AwsKind, Create, FoundBy, InVpc};
use crate::aws::Aws;
use crate::util::Described;
use crate::util::{
    aws_err, create_named, delete_with_retry, described, is_code, list_attr, missing_from, opt_str, protocol_name,
    str_attr, tag_spec, Select,
};

/// The AWS side of `security_group`.
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
    /// All but the VPC's `default` group, which AWS made with it and which goes with it.
    async fn list_in_vpc(&self, aws: &Aws, vpc: &InVpc<'_>) -> Result<Vec<String>, ProviderError> {
        let call = aws.ec2.describe_security_groups().filters(vpc.filter("vpc-id")).into_paginator().send();
        let pages = crate::util::pages(aws, call).await?;
        Ok(pages
            .iter()
            .flat_map(|p| p.security_groups())
            .filter(|g| g.group_name() != Some("default"))
            .filter_map(|g| g.group_id())
            .map(str::to_string)
            .collect())
    }
}

/// One rule per source, in the spec's shape: `{protocol, port | icmp_type + icmp_code,
/// cidr | source_group, description}`. A pair that names the group itself is `self`.
pub(crate) fn rules(perms: &[IpPermission], own_id: &str) -> Value {
    let mut out = Vec::new();
    for p in perms {
        let protocol = protocol_name(p.ip_protocol().unwrap_or("-1"));
        let mut shape: BTreeMap<String, Value> = BTreeMap::new();
        shape.insert("protocol".into(), Value::str(&protocol));
        match (protocol.as_str(), p.from_port(), p.to_port()) {
            ("all", ..) | (_, None, _) | (_, _, None) => {}
            // ICMP keeps its type in FromPort and its code in ToPort; -1 is "every".
            ("icmp", Some(t), Some(c)) => {
                if t != -1 {
                    shape.insert("icmp_type".into(), Value::Int(t.into()));
                    if c != -1 {
                        shape.insert("icmp_code".into(), Value::Int(c.into()));
                    }
                }
            }
            (_, Some(a), Some(b)) if a == b => {
                shape.insert("port".into(), Value::Int(a.into()));
            }
            (_, Some(a), Some(b)) => {
                shape.insert("port".into(), Value::Str(format!("{a}-{b}")));
            }
        }
        let rule = |source: (&str, &str), description: Option<&str>| {
            let mut m = shape.clone();
            m.insert(source.0.into(), Value::str(source.1));
            if let Some(d) = description.filter(|d| !d.is_empty()) {
                m.insert("description".into(), Value::str(d));
            }
            Value::Map(m)
        };
        for r in p.ip_ranges() {
            if let Some(cidr) = r.cidr_ip() {
                out.push(rule(("cidr", cidr), r.description()));
            }
        }
        for r in p.ipv6_ranges() {
            if let Some(cidr) = r.cidr_ipv6() {
                out.push(rule(("cidr", cidr), r.description()));
            }
        }
        for g in p.user_id_group_pairs() {
            if let Some(group) = g.group_id() {
                let group = if group == own_id { "self" } else { group };
                out.push(rule(("source_group", group), g.description()));
            }
        }
    }
    normalize_set(&mut out);
    Value::List(out)
}

/// The permission AWS takes for one rule of the spec (`self` is the group's own id).
pub(crate) fn permission(rule: &Value, own_id: &str) -> IpPermission {
    let m = rule.as_map().cloned().unwrap_or_default();
    let protocol = m.get("protocol").and_then(Value::as_str).unwrap_or("all");
    let int = |k: &str| m.get(k).and_then(Value::as_int).map(|v| v as i32);
    let (from, to) = match (protocol, m.get("port")) {
        ("all", _) => (None, None),
        ("icmp", _) => match int("icmp_type") {
            None => (Some(-1), Some(-1)),
            Some(t) => (Some(t), Some(int("icmp_code").unwrap_or(-1))),
        },
        (_, Some(Value::Int(p))) => (Some(*p as i32), Some(*p as i32)),
        (_, Some(Value::Str(range))) => {
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
    // An IPv6 range goes where AWS keeps those (`Ipv6Ranges`); the spec writes both as `cidr`.
    if let Some(cidr) = m.get("cidr").and_then(Value::as_str).filter(|c| c.contains(':')) {
        p = p.ipv6_ranges(Ipv6Range::builder().cidr_ipv6(cidr).set_description(description).build());
    } else if let Some(cidr) = m.get("cidr").and_then(Value::as_str) {
        p = p.ip_ranges(IpRange::builder().cidr_ip(cidr).set_description(description).build());
    } else if let Some(group) = m.get("source_group").and_then(Value::as_str) {
        let group = if group == "self" { own_id } else { group };
        p = p.user_id_group_pairs(UserIdGroupPair::builder().group_id(group).set_description(description).build());
    }
    p.build()
}

fn attrs_of(g: &SecurityGroup) -> Described {
    let id = g.group_id().unwrap_or_default();
    described(
        id,
        g.tags(),
        vec![
            ("group_name", opt_str(g.group_name())),
            ("description", opt_str(g.description())),
            ("vpc_id", opt_str(g.vpc_id())),
            ("ingress", rules(g.ip_permissions(), id)),
            ("egress", rules(g.ip_permissions_egress(), id)),
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

pub(crate) async fn create(aws: &Aws, c: &Create<'_>) -> Result<String, ProviderError> {
    let (stack, address, attrs) = (c.stack, c.address, c.attrs);
    create_named(c, "group_name", |name| async move {
        aws.call(crate::limits::Call::Mutate).await;
        let out = aws
            .once
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
    // A new group allows all outbound traffic (IPv4, and IPv6 too in a VPC that has an
    // IPv6 block): read, not assumed; the spec's `egress`, when given, replaces it.
    let allow_all: BTreeMap<String, Value> =
        [("protocol".to_string(), Value::str("all")), ("cidr".to_string(), Value::str("0.0.0.0/0"))]
            .into_iter()
            .collect();
    let ids = [id.to_string()];
    let egress = match describe(aws, Select::Ids(&ids)).await {
        Ok(found) => found.into_iter().next().and_then(|d| d.attrs.get("egress").cloned()),
        Err(e) if is_code(&e, crate::util::NOT_FOUND) => None,
        Err(e) => return Err(e),
    };
    let egress = egress.unwrap_or_else(|| Value::List(vec![Value::Map(allow_all)]));
    let fresh: Attrs =
        [("ingress", Value::List(vec![])), ("egress", egress)].into_iter().map(|(k, v)| (k.to_string(), v)).collect();
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
        let revoke: Vec<IpPermission> = missing_from(have, want).into_iter().map(|r| permission(r, id)).collect();
        let grant: Vec<IpPermission> = missing_from(want, have).into_iter().map(|r| permission(r, id)).collect();
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
                Err(e) if !crate::errors::already_done(&e) => return Err(e),
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use aws_sdk_ec2::types::IpPermission;
    use proptest::prelude::*;
    use trellis_core::schema::normalize_set;
    use trellis_core::Value;

    use super::{permission, rules};

    const OWN: &str = "sg-0own0000000000000";

    fn rule() -> impl Strategy<Value = Value> {
        let ports = prop_oneof![
            (0i64..=65535).prop_map(|p| Some(Value::Int(p))),
            (0u16..65535, 1u16..1000).prop_map(|(a, n)| {
                let b = a.saturating_add(n);
                Some(Value::Str(format!("{a}-{b}")))
            }),
        ];
        let protocol = prop_oneof![
            ports.clone().prop_map(|p| ("tcp", p, None, None)),
            ports.prop_map(|p| ("udp", p, None, None)),
            Just(("all", None, None, None)),
            Just(("icmp", None, None, None)),
            (0i64..=255).prop_map(|t| ("icmp", None, Some(t), None)),
            (0i64..=255, 0i64..=255).prop_map(|(t, c)| ("icmp", None, Some(t), Some(c))),
        ];
        let source = prop_oneof![
            (0u8..=255, 0u8..=255, 8u8..=32).prop_map(|(a, b, n)| ("cidr", format!("10.{a}.{b}.0/{n}"))),
            Just(("cidr", "::/0".to_string())),
            (1u16..=0xffff).prop_map(|a| ("cidr", format!("2600:1f18:{a:x}::/56"))),
            "[0-9a-f]{17}".prop_map(|h| ("source_group", format!("sg-{h}"))),
            Just(("source_group", "self".to_string())),
        ];
        let description = proptest::option::of("[A-Za-z0-9 ._-]{1,20}");
        (protocol, source, description).prop_map(|((protocol, port, t, c), (key, src), d)| {
            let mut m = BTreeMap::new();
            m.insert("protocol".to_string(), Value::str(protocol));
            for (k, v) in [("port", port), ("icmp_type", t.map(Value::Int)), ("icmp_code", c.map(Value::Int))] {
                if let Some(v) = v {
                    m.insert(k.to_string(), v);
                }
            }
            m.insert(key.to_string(), Value::Str(src));
            if let Some(d) = d {
                m.insert("description".to_string(), Value::Str(d));
            }
            Value::Map(m)
        })
    }

    /// What AWS answers for these requests: one permission per protocol and port
    /// range, with every range and group of the rules that share them.
    fn as_aws_keeps(perms: Vec<IpPermission>) -> Vec<IpPermission> {
        let mut merged: BTreeMap<(String, Option<i32>, Option<i32>), IpPermission> = BTreeMap::new();
        for p in perms {
            let key = (p.ip_protocol().unwrap_or_default().to_string(), p.from_port(), p.to_port());
            let slot = merged.entry(key).or_insert_with(|| {
                IpPermission::builder()
                    .set_ip_protocol(p.ip_protocol.clone())
                    .set_from_port(p.from_port)
                    .set_to_port(p.to_port)
                    .build()
            });
            slot.ip_ranges.get_or_insert_with(Vec::new).extend(p.ip_ranges().iter().cloned());
            slot.ipv6_ranges.get_or_insert_with(Vec::new).extend(p.ipv6_ranges().iter().cloned());
            slot.user_id_group_pairs.get_or_insert_with(Vec::new).extend(p.user_id_group_pairs().iter().cloned());
        }
        merged.into_values().collect()
    }

    proptest! {
        #[test]
        fn a_rule_comes_back_as_it_was_written(r in rule()) {
            prop_assert_eq!(rules(&[permission(&r, OWN)], OWN), Value::List(vec![r]));
        }

        #[test]
        fn a_set_of_rules_survives_aws_merging_them(set in proptest::collection::vec(rule(), 0..12)) {
            let mut want = set.clone();
            normalize_set(&mut want);
            let answer = as_aws_keeps(want.iter().map(|r| permission(r, OWN)).collect());
            prop_assert_eq!(rules(&answer, OWN), Value::List(want));
        }
    }

    #[test]
    fn icmp_and_self_are_sent_as_aws_wants_them() {
        let r = |pairs: &[(&str, Value)]| Value::Map(pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect());
        let all_icmp = permission(&r(&[("protocol", Value::str("icmp")), ("source_group", Value::str("self"))]), OWN);
        assert_eq!(
            (all_icmp.ip_protocol(), all_icmp.from_port(), all_icmp.to_port()),
            (Some("icmp"), Some(-1), Some(-1))
        );
        assert_eq!(all_icmp.user_id_group_pairs()[0].group_id(), Some(OWN));
        let echo = permission(
            &r(&[("protocol", Value::str("icmp")), ("icmp_type", Value::Int(8)), ("cidr", Value::str("10.0.0.0/8"))]),
            OWN,
        );
        assert_eq!((echo.from_port(), echo.to_port()), (Some(8), Some(-1)));
        let all = permission(&r(&[("protocol", Value::str("all")), ("cidr", Value::str("10.0.0.0/8"))]), OWN);
        assert_eq!((all.ip_protocol(), all.from_port()), (Some("-1"), None));
    }
}
