//! `acm_certificate`: requested with the stack's tags and an idempotency token made
//! from the create's token (ACM answers a request sent again within the hour with the
//! same certificate). With `validation_zone_id`, `configure` writes the DNS validation
//! records into that zone in one `UPSERT`, waits for `INSYNC`, then waits until ACM says
//! `ISSUED`; the delete takes those records away again unless another certificate of
//! the account validates the same name. ACM has no tag filter and reads one
//! certificate a call.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_acm::operation::request_certificate::builders::RequestCertificateFluentBuilder;
use aws_sdk_acm::types::{CertificateDetail, CertificateStatus, Tag, ValidationMethod};
use aws_sdk_route53::types::{Change, ChangeAction, ChangeBatch, ResourceRecord, ResourceRecordSet, RrType};
use trellis_core::schema::normalize_set;
use trellis_core::{Address, Attrs, ProviderError, Value};

use super::{AwsKind, Create, FoundBy};
use crate::aws::Aws;
use crate::limits::Call;
use crate::progress::Until;
use crate::service::acm::{tags_of, token};
use crate::service::route53::{plain_name, wait_in_sync};
use crate::service::Service;
use crate::util::{
    all_tags, aws_err, delete_with_retry, described_with, is_code, list_attr, retry_until, str_attr, Described, Select,
    NOT_FOUND,
};
use crate::TAG_STACK;

/// The AWS side of `acm_certificate`.
pub(crate) struct Ops;

/// How long DNS validation may take: AWS says minutes, at most half an hour usually.
const ISSUE_WAIT: Duration = Duration::from_secs(45 * 60);

#[async_trait]
impl AwsKind for Ops {
    fn service(&self) -> &'static Service {
        &crate::service::ACM
    }
    async fn describe(&self, aws: &Aws, sel: Select<'_>) -> Result<Vec<Described>, ProviderError> {
        // Each certificate's tags, read once (ACM reads them a certificate a call).
        let mut tagged = Vec::new();
        match sel {
            Select::Ids(ids) => {
                for arn in ids {
                    tagged.push((arn.clone(), None));
                }
            }
            Select::Stack(stack) => {
                for arn in list(aws).await?.into_iter().map(|(arn, _)| arn) {
                    let tags = tags_of(aws, &arn).await?;
                    if tags.get(TAG_STACK).is_some_and(|s| s == stack) {
                        tagged.push((arn, Some(tags)));
                    }
                }
            }
        }
        let mut out = Vec::new();
        for (arn, tags) in tagged {
            let Some(detail) = read(aws, &arn).await? else { continue };
            let tags = match tags {
                Some(t) => t,
                None => tags_of(aws, &arn).await?,
            };
            out.push(described_with(&arn, tags, observe(&detail)));
        }
        Ok(out)
    }
    async fn create(&self, aws: &Aws, c: &Create<'_>) -> Result<String, ProviderError> {
        aws.call(Call::Acm).await;
        let out = request(aws.once.acm.request_certificate(), c)?.send().await.map_err(aws_err)?;
        out.certificate_arn().map(str::to_string).ok_or_else(|| ProviderError::new(None, "RequestCertificate returned no ARN"))
    }
    /// Ours to send again: ACM gives the same certificate for the same token.
    fn create_is_idempotent(&self) -> bool {
        true
    }
    /// The validation records into the zone, and the wait until ACM has issued it.
    async fn configure(&self, aws: &Aws, id: &str, attrs: &Attrs) -> Result<(), ProviderError> {
        let Some(zone) = str_attr(attrs, "validation_zone_id") else { return Ok(()) };
        let wanted = names(attrs).len();
        // ACM shows a name's record a few seconds after the request.
        let records = retry_until(aws, aws.timeouts.ready, &format!("certificate {id}"), Until::Readable, || async {
            let Some(detail) = read(aws, id).await? else { return Ok(None) };
            let records = validation_records(&detail);
            let named = detail.domain_validation_options().iter().filter(|d| d.resource_record().is_some()).count();
            Ok((named >= wanted).then_some(records))
        })
        .await?;
        write_records(aws, zone, ChangeAction::Upsert, &records, id).await?;
        retry_until(aws, ISSUE_WAIT.max(aws.timeouts.ready), &format!("certificate {id}"), Until::State("issued".into()), || async {
            let Some(detail) = read(aws, id).await? else { return Ok(None) };
            match detail.status() {
                Some(CertificateStatus::Issued) => Ok(Some(())),
                Some(CertificateStatus::PendingValidation) | None => Ok(None),
                Some(other) => Err(ProviderError::new(
                    Some("CertificateNotIssued"),
                    format!(
                        "ACM did not issue certificate {id}: {}{}",
                        other.as_str(),
                        detail.failure_reason().map(|r| format!(" ({})", r.as_str())).unwrap_or_default()
                    ),
                )),
            }
        })
        .await
    }
    /// Everything but its tags replaces it.
    async fn update(&self, _aws: &Aws, _id: &str, _before: &Attrs, _after: &Attrs) -> Result<(), ProviderError> {
        Ok(())
    }
    async fn delete(&self, aws: &Aws, address: &Address, id: &str, attrs: &Attrs) -> Result<(), ProviderError> {
        let detail = read(aws, id).await?;
        delete_with_retry(aws, address, id, || async {
            aws.call(Call::Acm).await;
            aws.acm.delete_certificate().certificate_arn(id).send().await.map(|_| ()).map_err(aws_err)
        })
        .await?;
        // The records it was validated by, unless another certificate validates the same name.
        if let (Some(zone), Some(detail)) = (str_attr(attrs, "validation_zone_id"), detail) {
            let others: BTreeSet<String> = list(aws)
                .await?
                .into_iter()
                .filter(|(arn, _)| arn != id)
                .flat_map(|(_, names)| names)
                .collect();
            let mine: Vec<(String, String)> = detail
                .domain_validation_options()
                .iter()
                .filter(|d| !others.contains(d.domain_name()))
                .filter_map(|d| d.resource_record().map(|r| (r.name().to_string(), r.value().to_string())))
                .collect();
            let live = live_records(aws, zone, &mine).await?;
            write_records(aws, zone, ChangeAction::Delete, &live, id).await?;
        }
        Ok(())
    }
    /// A certificate is not in a VPC.
    fn found_by(&self) -> FoundBy {
        FoundBy::Nothing("a certificate is not in a VPC: name it in a spec to manage it")
    }
}

/// Every certificate of the account with the names it covers (ACM's summaries).
async fn list(aws: &Aws) -> Result<Vec<(String, Vec<String>)>, ProviderError> {
    let call = aws.acm.list_certificates().into_paginator().send();
    let pages = crate::util::pages_with(aws, Call::Acm, call).await?;
    Ok(pages
        .iter()
        .flat_map(|p| p.certificate_summary_list())
        .filter_map(|s| {
            let mut names: Vec<String> = s.subject_alternative_name_summaries().to_vec();
            names.extend(s.domain_name().map(str::to_string));
            Some((s.certificate_arn()?.to_string(), names))
        })
        .collect())
}

/// One certificate; none when it is gone.
async fn read(aws: &Aws, arn: &str) -> Result<Option<CertificateDetail>, ProviderError> {
    aws.call(Call::Acm).await;
    match aws.acm.describe_certificate().certificate_arn(arn).send().await.map_err(aws_err) {
        Ok(out) => Ok(out.certificate),
        Err(e) if is_code(&e, NOT_FOUND) => Ok(None),
        Err(e) => Err(e),
    }
}

/// The names a certificate covers: its domain, then the others.
fn names(attrs: &Attrs) -> BTreeSet<String> {
    let mut all: BTreeSet<String> =
        list_attr(attrs, "subject_alternative_names").iter().filter_map(Value::as_str).map(str::to_string).collect();
    all.extend(str_attr(attrs, "domain_name").map(str::to_string));
    all
}

/// Its validation CNAMEs, each once (a name and its wildcard share one).
fn validation_records(d: &CertificateDetail) -> Vec<(String, String)> {
    let set: BTreeSet<(String, String)> = d
        .domain_validation_options()
        .iter()
        .filter_map(|v| v.resource_record().map(|r| (r.name().to_string(), r.value().to_string())))
        .collect();
    set.into_iter().collect()
}

/// Of `records`, those the zone holds now, as it holds them (a delete names them exactly).
async fn live_records(aws: &Aws, zone: &str, records: &[(String, String)]) -> Result<Vec<(String, String)>, ProviderError> {
    let mut found = Vec::new();
    for (name, value) in records {
        aws.call(Call::Route53).await;
        let out = aws
            .r53
            .list_resource_record_sets()
            .hosted_zone_id(zone)
            .start_record_name(name)
            .start_record_type(RrType::Cname)
            .max_items(1)
            .send()
            .await
            .map_err(aws_err);
        let sets = match out {
            Ok(o) => o.resource_record_sets,
            Err(e) if is_code(&e, NOT_FOUND) => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let held = sets.iter().any(|s| {
            plain_name(s.name()).eq_ignore_ascii_case(&plain_name(name))
                && s.r#type() == &RrType::Cname
                && s.resource_records().iter().any(|r| r.value() == value)
        });
        if held {
            found.push((name.clone(), value.clone()));
        }
    }
    Ok(found)
}

/// The validation CNAMEs in one change batch (a TTL of 300, as ACM suggests).
async fn write_records(
    aws: &Aws,
    zone: &str,
    action: ChangeAction,
    records: &[(String, String)],
    id: &str,
) -> Result<(), ProviderError> {
    if records.is_empty() {
        return Ok(());
    }
    let built = |e: aws_smithy_types::error::operation::BuildError| ProviderError::new(None, e.to_string());
    let mut changes = Vec::new();
    for (name, value) in records {
        let set = ResourceRecordSet::builder()
            .name(name)
            .r#type(RrType::Cname)
            .ttl(300)
            .resource_records(ResourceRecord::builder().value(value).build().map_err(built)?)
            .build()
            .map_err(built)?;
        changes.push(Change::builder().action(action.clone()).resource_record_set(set).build().map_err(built)?);
    }
    let batch = ChangeBatch::builder().set_changes(Some(changes)).build().map_err(built)?;
    aws.call(Call::Route53).await;
    let out = aws.r53.change_resource_record_sets().hosted_zone_id(zone).change_batch(batch).send().await.map_err(aws_err)?;
    if action == ChangeAction::Upsert {
        let change = out.change_info().map(|c| c.id().to_string()).unwrap_or_default();
        wait_in_sync(aws, &change, &format!("validation records of {id}")).await?;
    }
    Ok(())
}

fn request(b: RequestCertificateFluentBuilder, c: &Create<'_>) -> Result<RequestCertificateFluentBuilder, ProviderError> {
    let attrs = c.attrs;
    let others: Vec<String> =
        list_attr(attrs, "subject_alternative_names").iter().filter_map(Value::as_str).map(str::to_string).collect();
    let tags: Vec<Tag> = all_tags(c.stack, c.address, attrs.get("tags"))
        .into_iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect::<Result<_, _>>()
        .map_err(|e| ProviderError::new(None, e.to_string()))?;
    let mut b = b
        .set_domain_name(str_attr(attrs, "domain_name").map(str::to_string))
        .set_validation_method(str_attr(attrs, "validation_method").map(ValidationMethod::from))
        .idempotency_token(token(c.token))
        .set_tags(Some(tags));
    if !others.is_empty() {
        b = b.set_subject_alternative_names(Some(others));
    }
    Ok(b)
}

fn observe(d: &CertificateDetail) -> Vec<(&'static str, Value)> {
    let domain = d.domain_name().unwrap_or_default();
    // ACM lists the domain among the names itself.
    let mut others: Vec<Value> =
        d.subject_alternative_names().iter().filter(|n| n.as_str() != domain).map(Value::str).collect();
    normalize_set(&mut others);
    let method = d.domain_validation_options().first().and_then(|v| v.validation_method()).map(|m| m.as_str().to_string());
    let options: Vec<Value> = d
        .domain_validation_options()
        .iter()
        .map(|v| {
            let r = v.resource_record();
            let pairs: BTreeMap<String, Value> = [
                ("domain_name", Some(v.domain_name().to_string())),
                ("resource_record_name", r.map(|r| r.name().to_string())),
                ("resource_record_type", r.map(|r| r.r#type().as_str().to_string())),
                ("resource_record_value", r.map(|r| r.value().to_string())),
            ]
            .into_iter()
            .filter_map(|(k, v)| Some((k.to_string(), Value::Str(v?))))
            .collect();
            Value::Map(pairs)
        })
        .collect();
    vec![
        ("domain_name", Value::str(domain)),
        ("subject_alternative_names", if others.is_empty() { Value::Null } else { Value::List(others) }),
        ("validation_method", Value::Str(method.unwrap_or_else(|| "DNS".into()))),
        ("status", d.status().map(|s| Value::str(s.as_str())).unwrap_or(Value::Null)),
        ("domain_validation_options", Value::List(options)),
    ]
}

#[cfg(test)]
mod tests {
    use aws_sdk_acm::types::{DomainValidation, ResourceRecord as AcmRecord};
    use proptest::prelude::*;

    use super::super::roundtrip::{self, gives_back};
    use super::*;

    const ALL: &[&str] = &["domain_name", "subject_alternative_names", "validation_method", "tags"];

    fn a_name() -> impl Strategy<Value = String> {
        "(\\*\\.)?[a-z]{1,10}\\.example\\.com"
    }

    proptest! {
        #[test]
        fn a_certificate_comes_back_as_it_was_requested(
            attrs in roundtrip::attrs("acm_certificate", ALL, vec![
                ("domain_name", a_name().prop_map(Value::Str).boxed()),
                ("subject_alternative_names", prop::collection::btree_set(a_name(), 1..4)
                    .prop_map(|s| Value::List(s.into_iter().map(Value::Str).collect())).boxed()),
            ]).prop_filter("the domain is not among the others", |a| {
                let d = a.get("domain_name").cloned();
                !a.get("subject_alternative_names").map(Value::as_list).unwrap_or_default().iter().any(|n| Some(n) == d.as_ref())
            }),
        ) {
            let address = roundtrip::address("acm_certificate");
            let client = roundtrip::config(|c| aws_sdk_acm::Client::new(&c));
            let sent = request(client.request_certificate(), &roundtrip::create(&address, &attrs)).unwrap();
            let i = sent.as_input();
            let domain = i.get_domain_name().clone().unwrap();
            // ACM puts the domain first among the names, and a validation per name.
            let mut all = vec![domain.clone()];
            all.extend(i.get_subject_alternative_names().clone().unwrap_or_default());
            let method = i.get_validation_method().clone().unwrap_or(ValidationMethod::Dns);
            let validations = all.iter().map(|n| DomainValidation::builder().domain_name(n).validation_method(method.clone())
                .resource_record(AcmRecord::builder().name(format!("_x.{n}.")).r#type(aws_sdk_acm::types::RecordType::Cname).value("_y.acm-validations.aws.").build().unwrap())
                .build().unwrap()).collect();
            let answer = CertificateDetail::builder()
                .certificate_arn("arn:aws:acm:us-east-1:1:certificate/x")
                .domain_name(&domain)
                .set_subject_alternative_names(Some(all))
                .set_domain_validation_options(Some(validations))
                .status(CertificateStatus::PendingValidation)
                .build();
            let tags = roundtrip::tag_pairs(i.get_tags().iter().flatten().map(|t| (Some(t.key()), t.value())));
            let back = described_with("arn:cert", tags, observe(&answer)).attrs;
            gives_back(&attrs, &back, ALL)?;
        }
    }

    #[test]
    fn a_name_and_its_wildcard_share_one_validation_record() {
        let record = |n: &str| {
            DomainValidation::builder()
                .domain_name(n)
                .resource_record(
                    AcmRecord::builder().name("_a.example.com.").r#type(aws_sdk_acm::types::RecordType::Cname).value("_b.").build().unwrap(),
                )
                .build()
                .unwrap()
        };
        let d = CertificateDetail::builder().domain_validation_options(record("example.com")).domain_validation_options(record("*.example.com")).build();
        assert_eq!(validation_records(&d), vec![("_a.example.com.".to_string(), "_b.".to_string())]);
    }
}
