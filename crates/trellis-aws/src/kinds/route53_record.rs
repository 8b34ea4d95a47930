//! `route53_record`: a record set, made and changed by one `UPSERT` and waited on
//! until Route53 says `INSYNC`. Records take no tags: they are known by id,
//! `<zone>|<name>|<type>` (and `|<set identifier>`), and read a zone at a time (one
//! paged list of its record sets, however many of them the state knows). An `UPSERT`
//! sent again is harmless, so a create whose answer was lost is simply sent again.

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use aws_sdk_route53::types::{
    AliasTarget, Change, ChangeAction, ChangeBatch, ResourceRecord, ResourceRecordSet, ResourceRecordSetFailover, RrType,
};
use trellis_core::{Address, Attrs, ProviderError, Value};

use super::{AwsKind, Create, FoundBy};
use crate::aws::Aws;
use crate::limits::Call;
use crate::service::route53::{plain_name, wait_in_sync};
use crate::service::Service;
use crate::util::{aws_err, described_with, is_code, list_attr, str_attr, Described, Select, NOT_FOUND};

/// The AWS side of `route53_record`.
pub(crate) struct Ops;

#[async_trait]
impl AwsKind for Ops {
    fn service(&self) -> &'static Service {
        &crate::service::ROUTE53_RECORDS
    }
    async fn describe(&self, aws: &Aws, sel: Select<'_>) -> Result<Vec<Described>, ProviderError> {
        let Select::Ids(ids) = sel else { return Ok(Vec::new()) };
        let mut by_zone: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        for id in ids {
            if let Some(key) = Key::parse(id) {
                by_zone.entry(key.zone).or_default().insert(id.as_str());
            }
        }
        let mut out = Vec::new();
        for (zone, wanted) in by_zone {
            for set in record_sets(aws, zone).await? {
                let found = wanted.iter().find(|id| Key::parse(id).is_some_and(|k| k.names(&set)));
                if let Some(id) = found {
                    let key = Key::parse(id).expect("parsed above");
                    out.push(described_with(id, BTreeMap::new(), observe(zone, key.name, &set)));
                }
            }
        }
        Ok(out)
    }
    async fn create(&self, aws: &Aws, c: &Create<'_>) -> Result<String, ProviderError> {
        let id = id_of(c.attrs).ok_or_else(|| ProviderError::new(None, "a record needs its zone, name and type"))?;
        upsert(aws, &id, c.attrs).await?;
        Ok(id)
    }
    /// An `UPSERT` made twice is one record.
    fn create_is_idempotent(&self) -> bool {
        true
    }
    async fn update(&self, aws: &Aws, id: &str, _before: &Attrs, after: &Attrs) -> Result<(), ProviderError> {
        upsert(aws, id, after).await
    }
    /// A `DELETE` names the record set exactly as it is: it is read first.
    async fn delete(&self, aws: &Aws, _address: &Address, id: &str, _attrs: &Attrs) -> Result<(), ProviderError> {
        let Some(key) = Key::parse(id) else { return Ok(()) };
        let live = record_sets(aws, key.zone).await?.into_iter().find(|s| key.names(s));
        let Some(set) = live else { return Ok(()) };
        change(aws, key.zone, ChangeAction::Delete, set).await.map(|_| ())
    }
    fn found_by(&self) -> FoundBy {
        FoundBy::Nothing("records take no tags: name them in a spec to manage them")
    }
}

/// What a record's id says: its zone, name, type and set identifier.
struct Key<'a> {
    zone: &'a str,
    name: &'a str,
    kind: &'a str,
    set: Option<&'a str>,
}

impl<'a> Key<'a> {
    fn parse(id: &'a str) -> Option<Key<'a>> {
        let mut parts = id.splitn(4, '|');
        let (zone, name, kind) = (parts.next()?, parts.next()?, parts.next()?);
        Some(Key { zone, name, kind, set: parts.next() })
    }

    /// Whether `s` is this record set (Route53's names are lower case, with a root dot).
    fn names(&self, s: &ResourceRecordSet) -> bool {
        plain_name(s.name()).eq_ignore_ascii_case(self.name)
            && s.r#type().as_str() == self.kind
            && s.set_identifier() == self.set
    }
}

/// The id of the record `attrs` describe.
fn id_of(attrs: &Attrs) -> Option<String> {
    let (zone, name, kind) = (str_attr(attrs, "hosted_zone_id")?, str_attr(attrs, "name")?, str_attr(attrs, "type")?);
    Some(match str_attr(attrs, "set_identifier") {
        Some(set) => format!("{zone}|{name}|{kind}|{set}"),
        None => format!("{zone}|{name}|{kind}"),
    })
}

/// Every record set of a zone; none when the zone is gone.
async fn record_sets(aws: &Aws, zone: &str) -> Result<Vec<ResourceRecordSet>, ProviderError> {
    let mut out = Vec::new();
    let (mut name, mut kind, mut ident): (Option<String>, Option<RrType>, Option<String>) = (None, None, None);
    loop {
        aws.call(Call::Route53).await;
        let page = aws
            .r53
            .list_resource_record_sets()
            .hosted_zone_id(zone)
            .set_start_record_name(name)
            .set_start_record_type(kind)
            .set_start_record_identifier(ident)
            .send()
            .await
            .map_err(aws_err);
        let page = match page {
            Ok(p) => p,
            Err(e) if is_code(&e, NOT_FOUND) => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        out.extend(page.resource_record_sets().iter().cloned());
        if !page.is_truncated() {
            return Ok(out);
        }
        name = page.next_record_name().map(str::to_string);
        kind = page.next_record_type().cloned();
        ident = page.next_record_identifier().map(str::to_string);
    }
}

/// An alias's DNS name as the spec writes it: Route53 gives a load balancer's back with
/// `dualstack.` before it, lower case, with a root dot.
fn alias_name(name: &str) -> String {
    let plain = plain_name(name);
    match plain.strip_prefix("dualstack.") {
        Some(rest) if rest.contains(".elb.") => rest.to_string(),
        _ => plain,
    }
}

fn observe(zone: &str, name: &str, s: &ResourceRecordSet) -> Vec<(&'static str, Value)> {
    let values: Vec<Value> = s.resource_records().iter().map(|r| Value::str(r.value())).collect();
    let alias = s.alias_target().map(|a| {
        Value::Map(
            [
                ("dns_name".to_string(), Value::Str(alias_name(a.dns_name()))),
                ("hosted_zone_id".to_string(), Value::str(a.hosted_zone_id())),
                ("evaluate_target_health".to_string(), Value::Bool(a.evaluate_target_health())),
            ]
            .into_iter()
            .collect(),
        )
    });
    vec![
        ("hosted_zone_id", Value::str(zone)),
        ("name", Value::str(name)),
        ("type", Value::str(s.r#type().as_str())),
        ("set_identifier", s.set_identifier().map(Value::str).unwrap_or(Value::Null)),
        ("ttl", s.ttl().map(Value::Int).unwrap_or(Value::Null)),
        ("resource_records", if values.is_empty() { Value::Null } else { Value::List(values) }),
        ("alias_target", alias.unwrap_or(Value::Null)),
        ("weight", s.weight().map(Value::Int).unwrap_or(Value::Null)),
        ("failover", s.failover().map(|f| Value::str(f.as_str())).unwrap_or(Value::Null)),
    ]
}

fn built<T>(r: Result<T, aws_smithy_types::error::operation::BuildError>) -> Result<T, ProviderError> {
    r.map_err(|e| ProviderError::new(None, format!("a record set trellis could not write: {e}")))
}

/// The record set `attrs` describe, as Route53 takes it.
fn record_set(attrs: &Attrs) -> Result<ResourceRecordSet, ProviderError> {
    let values = list_attr(attrs, "resource_records");
    let records: Vec<ResourceRecord> = values
        .iter()
        .filter_map(Value::as_str)
        .map(|v| built(ResourceRecord::builder().value(v).build()))
        .collect::<Result<_, _>>()?;
    let alias = match attrs.get("alias_target").and_then(Value::as_map) {
        Some(a) => Some(built(
            AliasTarget::builder()
                .set_dns_name(a.get("dns_name").and_then(Value::as_str).map(str::to_string))
                .set_hosted_zone_id(a.get("hosted_zone_id").and_then(Value::as_str).map(str::to_string))
                .evaluate_target_health(a.get("evaluate_target_health").and_then(Value::as_bool).unwrap_or(false))
                .build(),
        )?),
        None => None,
    };
    built(
        ResourceRecordSet::builder()
            .set_name(str_attr(attrs, "name").map(str::to_string))
            .set_type(str_attr(attrs, "type").map(RrType::from))
            .set_set_identifier(str_attr(attrs, "set_identifier").map(str::to_string))
            .set_ttl(attrs.get("ttl").and_then(Value::as_int))
            .set_resource_records(Some(records).filter(|r| !r.is_empty()))
            .set_alias_target(alias)
            .set_weight(attrs.get("weight").and_then(Value::as_int))
            .set_failover(str_attr(attrs, "failover").map(ResourceRecordSetFailover::from))
            .build(),
    )
}

/// One change to a zone; its id, for the wait.
async fn change(aws: &Aws, zone: &str, action: ChangeAction, set: ResourceRecordSet) -> Result<String, ProviderError> {
    let batch = built(ChangeBatch::builder().changes(built(Change::builder().action(action).resource_record_set(set).build())?).build())?;
    aws.call(Call::Route53).await;
    let out = aws.r53.change_resource_record_sets().hosted_zone_id(zone).change_batch(batch).send().await.map_err(aws_err)?;
    Ok(out.change_info().map(|c| c.id().to_string()).unwrap_or_default())
}

async fn upsert(aws: &Aws, id: &str, attrs: &Attrs) -> Result<(), ProviderError> {
    let zone = str_attr(attrs, "hosted_zone_id").unwrap_or_default();
    let change_id = change(aws, zone, ChangeAction::Upsert, record_set(attrs)?).await?;
    wait_in_sync(aws, &change_id, &format!("record {id}")).await
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::super::roundtrip::{self, gives_back};
    use super::*;

    const ALL: &[&str] = &[
        "hosted_zone_id",
        "name",
        "type",
        "set_identifier",
        "ttl",
        "resource_records",
        "alias_target",
        "weight",
        "failover",
    ];

    proptest! {
        /// A record as Route53 gives it back: the name lower case with a root dot, an
        /// alias to a load balancer under `dualstack.`.
        #[test]
        fn a_record_comes_back_as_it_was_written(
            attrs in roundtrip::attrs("route53_record", ALL, vec![
                ("hosted_zone_id", Just(Value::str("Z0123456789")).boxed()),
                ("name", "[a-z]{1,8}\\.example\\.com".prop_map(Value::Str).boxed()),
                ("resource_records", prop::collection::vec("[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]{1,3}".prop_map(Value::Str), 1..4).prop_map(Value::List).boxed()),
            ]),
            dualstack in any::<bool>(),
        ) {
            let set = record_set(&attrs).unwrap();
            let id = id_of(&attrs).unwrap();
            let key = Key::parse(&id).unwrap();
            // AWS's form of the same set.
            let mut answer = set.clone();
            answer.name = format!("{}.", set.name().to_lowercase());
            if let (Some(a), true) = (&mut answer.alias_target, dualstack) {
                a.dns_name = format!("dualstack.{}.us-east-1.elb.amazonaws.com.", a.dns_name);
            }
            prop_assert!(key.names(&answer));
            let back = described_with(&id, BTreeMap::new(), observe(key.zone, key.name, &answer)).attrs;
            let mut want = attrs.clone();
            if let (Some(Value::Map(a)), true) = (want.get_mut("alias_target"), dualstack) {
                let name = a["dns_name"].as_str().unwrap().to_string();
                a.insert("dns_name".into(), Value::Str(format!("{name}.us-east-1.elb.amazonaws.com")));
            }
            gives_back(&want, &back, ALL)?;
        }
    }

    #[test]
    fn an_id_names_zone_name_type_and_set() {
        let k = Key::parse("Z1|www.example.com|A|blue").unwrap();
        assert_eq!((k.zone, k.name, k.kind, k.set), ("Z1", "www.example.com", "A", Some("blue")));
        assert!(Key::parse("Z1|www.example.com").is_none());
    }
}
