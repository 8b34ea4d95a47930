//! `efs_file_system`: an EFS file system. EFS has no tag filter, but its listing
//! carries each file system's tags: a stack's are the listing's with its
//! `trellis:stack` tag (one paginated call), then one read each of its lifecycle
//! configuration and policy. The create sends the provider's idempotency token as the
//! creation token, so EFS itself refuses a second file system from a resent create
//! (`FileSystemAlreadyExists`), and the lost one is found by its tags.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_efs::operation::create_file_system::builders::CreateFileSystemFluentBuilder;
use aws_sdk_efs::types::{
    FileSystemDescription, LifeCycleState, LifecyclePolicy, PerformanceMode, Tag, ThroughputMode, TransitionToArchiveRules,
    TransitionToIaRules, TransitionToPrimaryStorageClassRules,
};
use trellis_core::{Address, Attrs, ProviderError, Value};

use super::{AwsKind, Create, FoundBy};
use crate::aws::Aws;
use crate::limits::Call;
use crate::progress::Until;
use crate::service::Service;
use crate::util::{
    all_tags, aws_err, bool_attr, delete_with_retry, described_with, document_json, document_value, is_code,
    pages_with, retry_until, str_attr, tag_changes, Described, Select, NOT_FOUND,
};

/// The AWS side of `efs_file_system`.
pub(crate) struct Ops;

/// How long a new file system may take to become available, and an old one to go.
const READY: Duration = Duration::from_secs(600);

/// The lifecycle settings, by attribute name and EFS's key.
const LIFECYCLE: [&str; 3] = ["transition_to_ia", "transition_to_archive", "transition_to_primary_storage_class"];

#[async_trait]
impl AwsKind for Ops {
    fn service(&self) -> &'static Service {
        &crate::service::EFS
    }
    async fn describe(&self, aws: &Aws, sel: Select<'_>) -> Result<Vec<Described>, ProviderError> {
        let systems: Vec<FileSystemDescription> = match sel {
            Select::Ids(ids) => {
                let mut out = Vec::new();
                for id in ids {
                    aws.call(Call::Efs).await;
                    match aws.efs.describe_file_systems().file_system_id(id).send().await.map_err(aws_err) {
                        Ok(o) => out.extend(o.file_systems().iter().cloned()),
                        Err(e) if is_code(&e, NOT_FOUND) => {}
                        Err(e) => return Err(e),
                    }
                }
                out
            }
            Select::Stack(_) => {
                let pages = pages_with(aws, Call::Efs, aws.efs.describe_file_systems().into_paginator().send()).await?;
                pages.iter().flat_map(|p| p.file_systems().iter().cloned()).collect()
            }
        };
        let mut out = Vec::new();
        for fs in systems {
            if matches!(fs.life_cycle_state(), LifeCycleState::Deleted | LifeCycleState::Deleting) {
                continue;
            }
            let tags: BTreeMap<String, String> = fs.tags().iter().map(|t| (t.key().to_string(), t.value().to_string())).collect();
            if !sel.keeps(&tags) {
                continue;
            }
            let id = fs.file_system_id();
            let lifecycle = match lifecycle(aws, id).await {
                Ok(l) => l,
                Err(e) if is_code(&e, NOT_FOUND) => continue,
                Err(e) => return Err(e),
            };
            let policy = policy(aws, id).await?;
            out.push(described_with(id, tags, observe(&fs, aws.region(), lifecycle, policy)));
        }
        Ok(out)
    }
    async fn create(&self, aws: &Aws, c: &Create<'_>) -> Result<String, ProviderError> {
        aws.call(Call::Efs).await;
        let out = request(aws.once.efs.create_file_system(), c).send().await.map_err(aws_err)?;
        Ok(out.file_system_id().to_string())
    }
    /// Waits until it is available, then sets what the create call does not take.
    async fn configure(&self, aws: &Aws, id: &str, attrs: &Attrs) -> Result<(), ProviderError> {
        retry_until(aws, READY, &format!("file system {id}"), Until::Available, || async {
            aws.call(Call::Efs).await;
            let out = aws.efs.describe_file_systems().file_system_id(id).send().await.map_err(aws_err)?;
            let available = out.file_systems().first().is_some_and(|f| *f.life_cycle_state() == LifeCycleState::Available);
            Ok(available.then_some(()))
        })
        .await?;
        if attrs.get("lifecycle_policies").is_some_and(|v| !matches!(v, Value::Null)) {
            put_lifecycle(aws, id, attrs).await?;
        }
        if let Some(p) = attrs.get("policy").filter(|v| **v != Value::Null) {
            put_policy(aws, id, p).await?;
        }
        Ok(())
    }
    async fn update(&self, aws: &Aws, id: &str, before: &Attrs, after: &Attrs) -> Result<(), ProviderError> {
        let changed = |a: &str| before.get(a) != after.get(a);
        if changed("throughput_mode") || changed("provisioned_throughput_in_mibps") {
            aws.call(Call::Efs).await;
            let mut call = aws.efs.update_file_system().file_system_id(id);
            if let Some(mode) = str_attr(after, "throughput_mode") {
                call = call.throughput_mode(ThroughputMode::from(mode));
            }
            if let Some(mibps) = after.get("provisioned_throughput_in_mibps").and_then(Value::as_int) {
                call = call.provisioned_throughput_in_mibps(mibps as f64);
            }
            call.send().await.map_err(aws_err)?;
        }
        if changed("lifecycle_policies") {
            put_lifecycle(aws, id, after).await?;
        }
        if changed("policy") {
            match after.get("policy").filter(|v| **v != Value::Null) {
                Some(p) => put_policy(aws, id, p).await?,
                None => {
                    aws.call(Call::Efs).await;
                    aws.efs.delete_file_system_policy().file_system_id(id).send().await.map_err(aws_err)?;
                }
            }
        }
        Ok(())
    }
    /// Deletes it once its mount targets are gone (EFS answers `FileSystemInUse` until
    /// then), and waits until EFS no longer lists it.
    async fn delete(&self, aws: &Aws, address: &Address, id: &str, _attrs: &Attrs) -> Result<(), ProviderError> {
        delete_with_retry(aws, address, id, || async {
            aws.call(Call::Efs).await;
            aws.efs.delete_file_system().file_system_id(id).send().await.map(|_| ()).map_err(aws_err)
        })
        .await?;
        retry_until(aws, READY, &format!("file system {id}"), Until::Deleted, || async {
            aws.call(Call::Efs).await;
            match aws.efs.describe_file_systems().file_system_id(id).send().await.map_err(aws_err) {
                Ok(o) => Ok(o.file_systems().iter().all(|f| *f.life_cycle_state() == LifeCycleState::Deleted).then_some(())),
                Err(e) if is_code(&e, NOT_FOUND) => Ok(Some(())),
                Err(e) => Err(e),
            }
        })
        .await
    }
    async fn sync_tags(&self, aws: &Aws, id: &str, before: Option<&Value>, after: Option<&Value>) -> Result<(), ProviderError> {
        let (set, unset) = tag_changes(before, after);
        if !set.is_empty() {
            aws.call(Call::Efs).await;
            aws.efs.tag_resource().resource_id(id).set_tags(Some(efs_tags(set))).send().await.map_err(aws_err)?;
        }
        if !unset.is_empty() {
            aws.call(Call::Efs).await;
            aws.efs.untag_resource().resource_id(id).set_tag_keys(Some(unset)).send().await.map_err(aws_err)?;
        }
        Ok(())
    }
    fn found_by(&self) -> FoundBy {
        FoundBy::Nothing("a file system is not in a VPC: name it in a spec, or `trellis import` it by its id")
    }
}

fn efs_tags(all: BTreeMap<String, String>) -> Vec<Tag> {
    all.into_iter().filter_map(|(k, v)| Tag::builder().key(k).value(v).build().ok()).collect()
}

/// The lifecycle policies as one mapping of their keys; `Null` when there are none.
async fn lifecycle(aws: &Aws, id: &str) -> Result<Value, ProviderError> {
    aws.call(Call::Efs).await;
    let out = aws.efs.describe_lifecycle_configuration().file_system_id(id).send().await.map_err(aws_err)?;
    Ok(lifecycle_value(out.lifecycle_policies()))
}

fn lifecycle_value(policies: &[LifecyclePolicy]) -> Value {
    let mut m = BTreeMap::new();
    for p in policies {
        if let Some(v) = p.transition_to_ia() {
            m.insert(LIFECYCLE[0].to_string(), Value::str(v.as_str()));
        }
        if let Some(v) = p.transition_to_archive() {
            m.insert(LIFECYCLE[1].to_string(), Value::str(v.as_str()));
        }
        if let Some(v) = p.transition_to_primary_storage_class() {
            m.insert(LIFECYCLE[2].to_string(), Value::str(v.as_str()));
        }
    }
    if m.is_empty() {
        Value::Null
    } else {
        Value::Map(m)
    }
}

/// The spec's mapping as EFS's list of one-key entries.
fn lifecycle_policies(v: Option<&Value>) -> Vec<LifecyclePolicy> {
    let Some(m) = v.and_then(Value::as_map) else { return Vec::new() };
    let text = |k: &str| m.get(k).and_then(Value::as_str);
    let mut out = Vec::new();
    if let Some(s) = text(LIFECYCLE[0]) {
        out.push(LifecyclePolicy::builder().transition_to_ia(TransitionToIaRules::from(s)).build());
    }
    if let Some(s) = text(LIFECYCLE[1]) {
        out.push(LifecyclePolicy::builder().transition_to_archive(TransitionToArchiveRules::from(s)).build());
    }
    if let Some(s) = text(LIFECYCLE[2]) {
        out.push(LifecyclePolicy::builder().transition_to_primary_storage_class(TransitionToPrimaryStorageClassRules::from(s)).build());
    }
    out
}

async fn put_lifecycle(aws: &Aws, id: &str, attrs: &Attrs) -> Result<(), ProviderError> {
    aws.call(Call::Efs).await;
    let call = aws.efs.put_lifecycle_configuration().file_system_id(id);
    call.set_lifecycle_policies(Some(lifecycle_policies(attrs.get("lifecycle_policies")))).send().await.map_err(aws_err)?;
    Ok(())
}

async fn policy(aws: &Aws, id: &str) -> Result<Value, ProviderError> {
    aws.call(Call::Efs).await;
    match aws.efs.describe_file_system_policy().file_system_id(id).send().await.map_err(aws_err) {
        Ok(o) => Ok(o.policy().map(document_value).unwrap_or(Value::Null)),
        Err(e) if is_code(&e, &["PolicyNotFound"]) => Ok(Value::Null),
        Err(e) => Err(e),
    }
}

async fn put_policy(aws: &Aws, id: &str, p: &Value) -> Result<(), ProviderError> {
    aws.call(Call::Efs).await;
    aws.efs.put_file_system_policy().file_system_id(id).policy(document_json(p)).send().await.map_err(aws_err)?;
    Ok(())
}

fn observe(fs: &FileSystemDescription, region: &str, lifecycle: Value, policy: Value) -> Vec<(&'static str, Value)> {
    let id = fs.file_system_id();
    vec![
        ("performance_mode", Value::str(fs.performance_mode().as_str())),
        ("encrypted", Value::Bool(fs.encrypted().unwrap_or(false))),
        ("kms_key_id", fs.kms_key_id().map(Value::str).unwrap_or(Value::Null)),
        ("throughput_mode", fs.throughput_mode().map(|m| Value::str(m.as_str())).unwrap_or(Value::Null)),
        (
            "provisioned_throughput_in_mibps",
            fs.provisioned_throughput_in_mibps().filter(|v| *v > 0.0).map(|v| Value::Int(v.round() as i64)).unwrap_or(Value::Null),
        ),
        ("availability_zone_name", fs.availability_zone_name().map(Value::str).unwrap_or(Value::Null)),
        ("lifecycle_policies", lifecycle),
        ("policy", policy),
        ("arn", fs.file_system_arn().map(Value::str).unwrap_or(Value::Null)),
        ("creation_token", Value::str(fs.creation_token())),
        ("dns_name", Value::Str(format!("{id}.efs.{region}.amazonaws.com"))),
    ]
}

fn request(b: CreateFileSystemFluentBuilder, c: &Create<'_>) -> CreateFileSystemFluentBuilder {
    let a = c.attrs;
    let mut b = b.creation_token(c.token).set_tags(Some(efs_tags(all_tags(c.stack, c.address, a.get("tags")))));
    if let Some(m) = str_attr(a, "performance_mode") {
        b = b.performance_mode(PerformanceMode::from(m));
    }
    if let Some(e) = bool_attr(a, "encrypted") {
        b = b.encrypted(e);
    }
    if let Some(k) = str_attr(a, "kms_key_id") {
        b = b.kms_key_id(k);
    }
    if let Some(m) = str_attr(a, "throughput_mode") {
        b = b.throughput_mode(ThroughputMode::from(m));
    }
    if let Some(t) = a.get("provisioned_throughput_in_mibps").and_then(Value::as_int) {
        b = b.provisioned_throughput_in_mibps(t as f64);
    }
    if let Some(z) = str_attr(a, "availability_zone_name") {
        b = b.availability_zone_name(z);
    }
    b
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::super::roundtrip::{self, gives_back};
    use super::*;

    const MADE: &[&str] = &[
        "performance_mode",
        "encrypted",
        "kms_key_id",
        "throughput_mode",
        "provisioned_throughput_in_mibps",
        "availability_zone_name",
        "tags",
    ];

    proptest! {
        /// What the create call sends comes back in EFS's description of it.
        #[test]
        fn a_file_system_comes_back_as_it_was_made(attrs in roundtrip::attrs("efs_file_system", MADE, vec![])) {
            let address = roundtrip::address("efs_file_system");
            let client = roundtrip::config(|c| aws_sdk_efs::Client::new(&c));
            let sent = request(client.create_file_system(), &roundtrip::create(&address, &attrs));
            let input = sent.as_input();
            let mut fs = FileSystemDescription::builder()
                .owner_id("123456789012")
                .creation_token(input.get_creation_token().clone().unwrap_or_default())
                .file_system_id("fs-12345678")
                .creation_time(aws_smithy_types::DateTime::from_secs(0))
                .life_cycle_state(LifeCycleState::Available)
                .number_of_mount_targets(0)
                .size_in_bytes(aws_sdk_efs::types::FileSystemSize::builder().value(0).build())
                .performance_mode(input.get_performance_mode().clone().unwrap_or(PerformanceMode::GeneralPurpose))
                .set_encrypted(input.get_encrypted().or(Some(false)))
                .set_kms_key_id(input.get_kms_key_id().clone())
                .set_throughput_mode(input.get_throughput_mode().clone())
                .set_provisioned_throughput_in_mibps(*input.get_provisioned_throughput_in_mibps())
                .set_availability_zone_name(input.get_availability_zone_name().clone());
            for t in input.get_tags().clone().unwrap_or_default() {
                fs = fs.tags(t);
            }
            let fs = fs.build().unwrap();
            let tags = fs.tags().iter().map(|t| (t.key().to_string(), t.value().to_string())).collect();
            let back = described_with("fs-12345678", tags, observe(&fs, "us-east-1", Value::Null, Value::Null)).attrs;
            gives_back(&attrs, &back, MADE)?;
        }

        /// The lifecycle mapping goes out as EFS's one-key entries and comes back whole.
        #[test]
        fn lifecycle_policies_come_back_as_they_were_put(
            ia in proptest::option::of(proptest::sample::select(vec!["AFTER_1_DAY", "AFTER_30_DAYS", "AFTER_365_DAYS"])),
            archive in proptest::option::of(proptest::sample::select(vec!["AFTER_90_DAYS", "AFTER_180_DAYS"])),
            back_on_access in any::<bool>(),
        ) {
            let mut m = BTreeMap::new();
            if let Some(v) = ia { m.insert(LIFECYCLE[0].to_string(), Value::str(v)); }
            if let Some(v) = archive { m.insert(LIFECYCLE[1].to_string(), Value::str(v)); }
            if back_on_access { m.insert(LIFECYCLE[2].to_string(), Value::str("AFTER_1_ACCESS")); }
            let want = if m.is_empty() { Value::Null } else { Value::Map(m) };
            let sent = lifecycle_policies(Some(&want));
            prop_assert_eq!(lifecycle_value(&sent), want);
        }
    }
}
