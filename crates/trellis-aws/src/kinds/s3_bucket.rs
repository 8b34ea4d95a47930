//! `s3_bucket`: a bucket and its settings. S3 has no tag filter and lists every bucket
//! of the account at once: a stack's buckets are those named with its prefix (the names
//! trellis makes up) whose `trellis:stack` tag is the stack's, plus those the state names
//! (read by name). Each bucket's settings are one call each (S3 offers no batch read),
//! and one listing of at most one object version says whether it holds anything.
//!
//! A create whose answer was lost is sent again: S3 answers `BucketAlreadyOwnedByYou`
//! for a bucket of this account, which is taken as made once its tags say it is this
//! address's (or it has none yet). A delete empties the bucket (every version and
//! delete marker, 1,000 a call) only when the spec consents (`force_destroy`, or the
//! plan's data loss allowed); otherwise S3's `BucketNotEmpty` stops it.

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_s3::operation::create_bucket::builders::CreateBucketFluentBuilder;
use aws_sdk_s3::types::{
    AbortIncompleteMultipartUpload, BucketLifecycleConfiguration, BucketLocationConstraint, BucketVersioningStatus,
    CreateBucketConfiguration, Delete, ExpirationStatus, LifecycleExpiration, LifecycleRule, LifecycleRuleFilter,
    NoncurrentVersionExpiration, ObjectIdentifier, ObjectOwnership, OwnershipControls, OwnershipControlsRule,
    PublicAccessBlockConfiguration, ServerSideEncryption, ServerSideEncryptionByDefault,
    ServerSideEncryptionConfiguration, ServerSideEncryptionRule, Tag, Tagging, Transition, TransitionStorageClass,
    VersioningConfiguration,
};
use trellis_core::{Address, Attrs, ProviderError, Value};

use super::{AwsKind, Create, FoundBy};
use crate::aws::Aws;
use crate::limits::Call;
use crate::service::Service;
use crate::util::{
    all_tags, aws_err, bool_attr, delete_with_retry, described_with, document_json, document_value, generated_name,
    is_code, list_attr, str_attr, Described, Select, NOT_FOUND,
};
use crate::{TAG_ADDRESS, TAG_STACK};

/// The AWS side of `s3_bucket`.
pub(crate) struct Ops;

/// The answers that mean "this setting is not set" rather than an error.
const UNSET: &[&str] = &[
    "NoSuchTagSet",
    "ServerSideEncryptionConfigurationNotFoundError",
    "NoSuchPublicAccessBlockConfiguration",
    "OwnershipControlsNotFoundError",
    "NoSuchLifecycleConfiguration",
    "NoSuchBucketPolicy",
];

/// The longest bucket name AWS takes.
const MAX_NAME: usize = 63;

fn err<T>(what: &str, e: impl std::fmt::Display) -> Result<T, ProviderError> {
    Err(ProviderError::new(Some("InvalidRequest"), format!("{what}: {e}")))
}

/// `Ok(None)` for an answer that says the setting is not set.
fn unset<T>(r: Result<T, ProviderError>) -> Result<Option<T>, ProviderError> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) if is_code(&e, UNSET) => Ok(None),
        Err(e) => Err(e),
    }
}

#[async_trait]
impl AwsKind for Ops {
    fn service(&self) -> &'static Service {
        &crate::service::S3
    }
    async fn describe(&self, aws: &Aws, sel: Select<'_>) -> Result<Vec<Described>, ProviderError> {
        let names: Vec<String> = match sel {
            Select::Ids(ids) => ids.to_vec(),
            Select::Stack(stack) => {
                aws.call(Call::S3).await;
                let out = aws.s3.list_buckets().send().await.map_err(aws_err)?;
                let prefix = format!("{}-", stack.to_lowercase());
                out.buckets().iter().filter_map(|b| b.name()).filter(|n| n.starts_with(&prefix)).map(str::to_string).collect()
            }
        };
        let mut out = Vec::new();
        for name in names {
            let tags = match tags(aws, &name).await {
                Ok(t) => t,
                Err(e) if is_code(&e, NOT_FOUND) => continue,
                Err(e) => return Err(e),
            };
            if !sel.keeps(&tags) {
                continue;
            }
            match read(aws, &name).await {
                Ok(attrs) => out.push(described_with(&name, tags, attrs)),
                Err(e) if is_code(&e, NOT_FOUND) => continue,
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }
    async fn create(&self, aws: &Aws, c: &Create<'_>) -> Result<String, ProviderError> {
        let name = match str_attr(c.attrs, "bucket") {
            Some(n) => n.to_string(),
            None => generated_name(c.stack, c.address, MAX_NAME, c.suffix).to_lowercase(),
        };
        aws.call(Call::S3).await;
        match request(aws.once.s3.create_bucket(), aws.region(), &name, c.attrs).send().await.map_err(aws_err) {
            Ok(_) => {}
            // Sent again after a lost answer, or a name this account holds already: it
            // is this create's only if nothing else claims it.
            Err(e) if is_code(&e, &["BucketAlreadyOwnedByYou"]) => {
                let held = tags(aws, &name).await?;
                let mine = held.get(TAG_ADDRESS).is_none_or(|a| *a == c.address.tag_value())
                    && held.get(TAG_STACK).is_none_or(|s| s == c.stack);
                if !mine {
                    return Err(ProviderError::new(
                        Some("BucketAlreadyOwnedByYou"),
                        format!("bucket {name} exists in this account and belongs to {}", held.get(TAG_ADDRESS).map_or("another stack", String::as_str)),
                    ));
                }
            }
            Err(e) => return Err(e),
        }
        put_tags(aws, &name, &all_tags(c.stack, c.address, c.attrs.get("tags"))).await?;
        Ok(name)
    }
    /// Every setting, as on an update from AWS's defaults for a new bucket.
    async fn configure(&self, aws: &Aws, id: &str, attrs: &Attrs) -> Result<(), ProviderError> {
        apply_settings(aws, id, None, attrs).await
    }
    async fn update(&self, aws: &Aws, id: &str, before: &Attrs, after: &Attrs) -> Result<(), ProviderError> {
        apply_settings(aws, id, Some(before), after).await
    }
    async fn delete(&self, aws: &Aws, address: &Address, id: &str, attrs: &Attrs) -> Result<(), ProviderError> {
        if bool_attr(attrs, "force_destroy") == Some(true) {
            empty(aws, id).await?;
        }
        delete_with_retry(aws, address, id, || async {
            aws.call(Call::S3).await;
            match aws.s3.delete_bucket().bucket(id).send().await.map_err(aws_err) {
                Err(e) if is_code(&e, &["BucketNotEmpty"]) => Err(ProviderError::new(
                    Some("BucketNotEmpty"),
                    format!("bucket {id} holds objects (put there since the plan was made, or without consent): set `force_destroy: true` to delete them with it"),
                )),
                other => other.map(|_| ()),
            }
        })
        .await
    }
    /// S3 replaces a bucket's tags whole: the keys `before` had and `after` has not
    /// are dropped from what the bucket holds, and `after`'s set (trellis's own tags
    /// come this way too, through the trait's `retag`).
    async fn sync_tags(&self, aws: &Aws, id: &str, before: Option<&Value>, after: Option<&Value>) -> Result<(), ProviderError> {
        if before == after {
            return Ok(());
        }
        let (had, has) = (crate::util::tag_map(before), crate::util::tag_map(after));
        let mut all = tags(aws, id).await?;
        all.retain(|k, _| !had.contains_key(k) || has.contains_key(k));
        all.extend(has);
        put_tags(aws, id, &all).await
    }
    fn found_by(&self) -> FoundBy {
        FoundBy::Nothing("a bucket is not in a VPC: name it in a spec, or `trellis import` it")
    }
}

/// The bucket's tags, all of them (trellis's own too); none is an empty map.
async fn tags(aws: &Aws, name: &str) -> Result<BTreeMap<String, String>, ProviderError> {
    aws.call(Call::S3).await;
    let out = unset(aws.s3.get_bucket_tagging().bucket(name).send().await.map_err(aws_err))?;
    Ok(out.map(|o| o.tag_set().iter().map(|t| (t.key().to_string(), t.value().to_string())).collect()).unwrap_or_default())
}

async fn put_tags(aws: &Aws, name: &str, all: &BTreeMap<String, String>) -> Result<(), ProviderError> {
    aws.call(Call::S3).await;
    if all.is_empty() {
        return aws.s3.delete_bucket_tagging().bucket(name).send().await.map(|_| ()).map_err(aws_err);
    }
    let set: Vec<Tag> = all.iter().filter_map(|(k, v)| Tag::builder().key(k).value(v).build().ok()).collect();
    let tagging = Tagging::builder().set_tag_set(Some(set)).build().or_else(|e| err("tags", e))?;
    aws.s3.put_bucket_tagging().bucket(name).tagging(tagging).send().await.map(|_| ()).map_err(aws_err)
}

/// Every setting of the bucket, in schema shape.
async fn read(aws: &Aws, name: &str) -> Result<Vec<(&'static str, Value)>, ProviderError> {
    aws.call(Call::S3).await;
    let ownership = unset(aws.s3.get_bucket_ownership_controls().bucket(name).send().await.map_err(aws_err))?;
    aws.call(Call::S3).await;
    let versioning = aws.s3.get_bucket_versioning().bucket(name).send().await.map_err(aws_err)?;
    aws.call(Call::S3).await;
    let encryption = unset(aws.s3.get_bucket_encryption().bucket(name).send().await.map_err(aws_err))?;
    aws.call(Call::S3).await;
    let block = unset(aws.s3.get_public_access_block().bucket(name).send().await.map_err(aws_err))?;
    aws.call(Call::S3).await;
    let lifecycle = unset(aws.s3.get_bucket_lifecycle_configuration().bucket(name).send().await.map_err(aws_err))?;
    aws.call(Call::S3).await;
    let policy = unset(aws.s3.get_bucket_policy().bucket(name).send().await.map_err(aws_err))?;
    aws.call(Call::S3).await;
    let one = aws.s3.list_object_versions().bucket(name).max_keys(1).send().await.map_err(aws_err)?;
    let holds = !one.versions().is_empty() || !one.delete_markers().is_empty();
    let answer = Answer {
        ownership: ownership
            .and_then(|o| o.ownership_controls().and_then(|c| c.rules().first()).map(|r| r.object_ownership().as_str().to_string())),
        versioning: versioning.status().map(|s| s.as_str().to_string()),
        encryption: encryption.and_then(|e| e.server_side_encryption_configuration().and_then(|c| c.rules().first()).cloned()),
        block: block.and_then(|b| b.public_access_block_configuration().cloned()),
        lifecycle: lifecycle.map(|l| l.rules().to_vec()).unwrap_or_default(),
        policy: policy.and_then(|p| p.policy().map(str::to_string)),
    };
    let mut out = observe(name, aws.region(), &answer);
    out.push(("holds_objects", Value::Bool(holds)));
    Ok(out)
}

/// What S3 answers for one bucket, call by call.
#[derive(Default)]
struct Answer {
    ownership: Option<String>,
    versioning: Option<String>,
    encryption: Option<ServerSideEncryptionRule>,
    block: Option<PublicAccessBlockConfiguration>,
    lifecycle: Vec<LifecycleRule>,
    policy: Option<String>,
}

fn opt_int(v: Option<i32>) -> Value {
    v.map(|i| Value::Int(i.into())).unwrap_or(Value::Null)
}

fn observe(name: &str, region: &str, a: &Answer) -> Vec<(&'static str, Value)> {
    let default = a.encryption.as_ref().and_then(|r| r.apply_server_side_encryption_by_default());
    let flag = |f: fn(&PublicAccessBlockConfiguration) -> Option<bool>| {
        Value::Bool(a.block.as_ref().and_then(f).unwrap_or(false))
    };
    let rules: Vec<Value> = a
        .lifecycle
        .iter()
        .map(|r| {
            let transitions: Vec<Value> = r
                .transitions()
                .iter()
                .map(|t| {
                    Value::Map(BTreeMap::from([
                        ("days".to_string(), opt_int(t.days())),
                        ("storage_class".to_string(), t.storage_class().map(|c| Value::str(c.as_str())).unwrap_or(Value::Null)),
                    ]))
                })
                .collect();
            let prefix = r.filter().and_then(|f| f.prefix()).or(
                #[allow(deprecated)]
                r.prefix(),
            );
            let mut rule = BTreeMap::from([
                ("id".to_string(), r.id().map(Value::str).unwrap_or(Value::Null)),
                ("status".to_string(), Value::str(r.status().as_str())),
                ("prefix".to_string(), Value::str(prefix.unwrap_or(""))),
                ("expiration_days".to_string(), opt_int(r.expiration().and_then(|e| e.days()))),
                (
                    "noncurrent_version_expiration_days".to_string(),
                    opt_int(r.noncurrent_version_expiration().and_then(|e| e.noncurrent_days())),
                ),
                (
                    "abort_incomplete_multipart_upload_days".to_string(),
                    opt_int(r.abort_incomplete_multipart_upload().and_then(|e| e.days_after_initiation())),
                ),
                ("transitions".to_string(), Value::List(transitions)),
            ]);
            // A member AWS leaves out is one the spec left out.
            rule.retain(|_, v| !matches!(v, Value::Null));
            Value::Map(rule)
        })
        .collect();
    vec![
        ("bucket", Value::str(name)),
        // A bucket made before ownership controls existed has none: objects are their writers'.
        ("object_ownership", Value::str(a.ownership.as_deref().unwrap_or("ObjectWriter"))),
        ("versioning", a.versioning.as_deref().map(Value::str).unwrap_or(Value::Null)),
        ("sse_algorithm", default.map(|d| Value::str(d.sse_algorithm().as_str())).unwrap_or(Value::Null)),
        ("kms_master_key_id", default.and_then(|d| d.kms_master_key_id()).map(Value::str).unwrap_or(Value::Null)),
        ("bucket_key_enabled", Value::Bool(a.encryption.as_ref().and_then(|r| r.bucket_key_enabled()).unwrap_or(false))),
        ("block_public_acls", flag(PublicAccessBlockConfiguration::block_public_acls)),
        ("ignore_public_acls", flag(PublicAccessBlockConfiguration::ignore_public_acls)),
        ("block_public_policy", flag(PublicAccessBlockConfiguration::block_public_policy)),
        ("restrict_public_buckets", flag(PublicAccessBlockConfiguration::restrict_public_buckets)),
        ("lifecycle_rules", Value::List(rules)),
        ("policy", a.policy.as_deref().map(document_value).unwrap_or(Value::Null)),
        ("arn", Value::Str(format!("arn:aws:s3:::{name}"))),
        ("bucket_regional_domain_name", Value::Str(format!("{name}.s3.{region}.amazonaws.com"))),
    ]
}

fn request(b: CreateBucketFluentBuilder, region: &str, name: &str, attrs: &Attrs) -> CreateBucketFluentBuilder {
    // us-east-1 takes no location constraint; every other region must be named.
    let location = (region != "us-east-1").then(|| {
        CreateBucketConfiguration::builder().location_constraint(BucketLocationConstraint::from(region)).build()
    });
    b.bucket(name)
        .set_create_bucket_configuration(location)
        .set_object_ownership(str_attr(attrs, "object_ownership").map(ObjectOwnership::from))
}

/// The requests that bring a bucket's settings from `before` (AWS's defaults for a new
/// bucket when none) to `after`: one call per setting that differs.
async fn apply_settings(aws: &Aws, name: &str, before: Option<&Attrs>, after: &Attrs) -> Result<(), ProviderError> {
    let changed = |keys: &[&str]| before.is_none_or(|b| keys.iter().any(|k| b.get(*k) != after.get(*k)));
    let sent = settings(after)?;
    if before.is_some() && changed(&["object_ownership"]) {
        if let Some(controls) = sent.ownership {
            aws.call(Call::S3).await;
            aws.s3.put_bucket_ownership_controls().bucket(name).ownership_controls(controls).send().await.map_err(aws_err)?;
        }
    }
    if changed(&["block_public_acls", "ignore_public_acls", "block_public_policy", "restrict_public_buckets"]) {
        aws.call(Call::S3).await;
        aws.s3.put_public_access_block().bucket(name).public_access_block_configuration(sent.block).send().await.map_err(aws_err)?;
    }
    if changed(&["sse_algorithm", "kms_master_key_id", "bucket_key_enabled"]) {
        aws.call(Call::S3).await;
        aws.s3.put_bucket_encryption().bucket(name).server_side_encryption_configuration(sent.encryption).send().await.map_err(aws_err)?;
    }
    if let (true, Some(v)) = (before.is_some_and(|b| b.get("versioning") != after.get("versioning")) || before.is_none(), sent.versioning) {
        aws.call(Call::S3).await;
        aws.s3.put_bucket_versioning().bucket(name).versioning_configuration(v).send().await.map_err(aws_err)?;
    }
    if changed(&["lifecycle_rules"]) {
        aws.call(Call::S3).await;
        match sent.lifecycle {
            Some(l) => aws.s3.put_bucket_lifecycle_configuration().bucket(name).lifecycle_configuration(l).send().await.map(|_| ()).map_err(aws_err),
            None => aws.s3.delete_bucket_lifecycle().bucket(name).send().await.map(|_| ()).map_err(aws_err),
        }?;
    }
    if changed(&["policy"]) {
        aws.call(Call::S3).await;
        match sent.policy {
            Some(p) => aws.s3.put_bucket_policy().bucket(name).policy(p).send().await.map(|_| ()).map_err(aws_err),
            None => aws.s3.delete_bucket_policy().bucket(name).send().await.map(|_| ()).map_err(aws_err),
        }?;
    }
    Ok(())
}

/// The settings of `attrs` as S3's request shapes.
struct Settings {
    ownership: Option<OwnershipControls>,
    block: PublicAccessBlockConfiguration,
    encryption: ServerSideEncryptionConfiguration,
    versioning: Option<VersioningConfiguration>,
    lifecycle: Option<BucketLifecycleConfiguration>,
    policy: Option<String>,
}

fn settings(attrs: &Attrs) -> Result<Settings, ProviderError> {
    let ownership = match str_attr(attrs, "object_ownership") {
        Some(o) => {
            let rule = OwnershipControlsRule::builder().object_ownership(ObjectOwnership::from(o)).build().or_else(|e| err("object_ownership", e))?;
            Some(OwnershipControls::builder().rules(rule).build().or_else(|e| err("object_ownership", e))?)
        }
        None => None,
    };
    let flag = |name: &str| bool_attr(attrs, name).unwrap_or(true);
    let block = PublicAccessBlockConfiguration::builder()
        .block_public_acls(flag("block_public_acls"))
        .ignore_public_acls(flag("ignore_public_acls"))
        .block_public_policy(flag("block_public_policy"))
        .restrict_public_buckets(flag("restrict_public_buckets"))
        .build();
    let default = ServerSideEncryptionByDefault::builder()
        .sse_algorithm(ServerSideEncryption::from(str_attr(attrs, "sse_algorithm").unwrap_or("AES256")))
        .set_kms_master_key_id(str_attr(attrs, "kms_master_key_id").map(str::to_string))
        .build()
        .or_else(|e| err("sse_algorithm", e))?;
    let rule = ServerSideEncryptionRule::builder()
        .apply_server_side_encryption_by_default(default)
        .bucket_key_enabled(bool_attr(attrs, "bucket_key_enabled").unwrap_or(false))
        .build();
    let encryption = ServerSideEncryptionConfiguration::builder().rules(rule).build().or_else(|e| err("sse_algorithm", e))?;
    let versioning = str_attr(attrs, "versioning")
        .map(|s| VersioningConfiguration::builder().status(BucketVersioningStatus::from(s)).build());
    let rules: Vec<LifecycleRule> = list_attr(attrs, "lifecycle_rules").iter().map(lifecycle_rule).collect::<Result<_, _>>()?;
    let lifecycle = if rules.is_empty() {
        None
    } else {
        Some(BucketLifecycleConfiguration::builder().set_rules(Some(rules)).build().or_else(|e| err("lifecycle_rules", e))?)
    };
    let policy = attrs.get("policy").filter(|p| !matches!(p, Value::Null)).map(document_json);
    Ok(Settings { ownership, block, encryption, versioning, lifecycle, policy })
}

fn lifecycle_rule(v: &Value) -> Result<LifecycleRule, ProviderError> {
    let m = v.as_map().cloned().unwrap_or_default();
    let int = |k: &str| m.get(k).and_then(Value::as_int).map(|i| i as i32);
    let text = |k: &str| m.get(k).and_then(Value::as_str).map(str::to_string);
    let transitions: Vec<Transition> = m
        .get("transitions")
        .map(Value::as_list)
        .unwrap_or(&[])
        .iter()
        .filter_map(Value::as_map)
        .map(|t| {
            Transition::builder()
                .set_days(t.get("days").and_then(Value::as_int).map(|d| d as i32))
                .set_storage_class(t.get("storage_class").and_then(Value::as_str).map(TransitionStorageClass::from))
                .build()
        })
        .collect();
    LifecycleRule::builder()
        .set_id(text("id"))
        .status(ExpirationStatus::from(text("status").as_deref().unwrap_or("Enabled")))
        .filter(LifecycleRuleFilter::builder().prefix(text("prefix").unwrap_or_default()).build())
        .set_expiration(int("expiration_days").map(|d| LifecycleExpiration::builder().days(d).build()))
        .set_noncurrent_version_expiration(
            int("noncurrent_version_expiration_days").map(|d| NoncurrentVersionExpiration::builder().noncurrent_days(d).build()),
        )
        .set_abort_incomplete_multipart_upload(
            int("abort_incomplete_multipart_upload_days")
                .map(|d| AbortIncompleteMultipartUpload::builder().days_after_initiation(d).build()),
        )
        .set_transitions((!transitions.is_empty()).then_some(transitions))
        .build()
        .or_else(|e| err("lifecycle_rules", e))
}

/// Deletes every object version and delete marker, a page (up to 1,000) a call.
async fn empty(aws: &Aws, name: &str) -> Result<(), ProviderError> {
    loop {
        aws.call(Call::S3).await;
        let page = match aws.s3.list_object_versions().bucket(name).send().await.map_err(aws_err) {
            Ok(p) => p,
            Err(e) if is_code(&e, NOT_FOUND) => return Ok(()),
            Err(e) => return Err(e),
        };
        let mut ids: Vec<ObjectIdentifier> = Vec::new();
        for (key, version) in page
            .versions()
            .iter()
            .map(|v| (v.key(), v.version_id()))
            .chain(page.delete_markers().iter().map(|m| (m.key(), m.version_id())))
        {
            let Some(key) = key else { continue };
            if let Ok(id) = ObjectIdentifier::builder().key(key).set_version_id(version.map(str::to_string)).build() {
                ids.push(id);
            }
        }
        if ids.is_empty() {
            return Ok(());
        }
        let delete = Delete::builder().set_objects(Some(ids)).quiet(true).build().or_else(|e| err("emptying the bucket", e))?;
        aws.call(Call::S3).await;
        aws.s3.delete_objects().bucket(name).delete(delete).send().await.map_err(aws_err)?;
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::super::roundtrip::{self, gives_back};
    use super::*;

    const ALL: &[&str] = &[
        "bucket",
        "object_ownership",
        "versioning",
        "sse_algorithm",
        "kms_master_key_id",
        "bucket_key_enabled",
        "block_public_acls",
        "ignore_public_acls",
        "block_public_policy",
        "restrict_public_buckets",
        "lifecycle_rules",
        "policy",
    ];

    proptest! {
        #[test]
        fn a_bucket_comes_back_as_it_was_made(
            attrs in roundtrip::attrs("s3_bucket", ALL, vec![
                ("bucket", "[a-z][a-z0-9-]{2,20}[a-z0-9]".prop_map(Value::Str).boxed()),
                ("policy", Just(document_value(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::b/*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}"#)).boxed()),
            ]),
        ) {
            // A name left out is made up at create: the answer names it either way.
            let mut attrs = attrs;
            attrs.entry("bucket".to_string()).or_insert_with(|| Value::str("made-up-name"));
            let client = roundtrip::config(|c| aws_sdk_s3::Client::new(&c));
            let name = str_attr(&attrs, "bucket").unwrap_or_default().to_string();
            let sent = request(client.create_bucket(), "eu-west-1", &name, &attrs);
            let input = sent.as_input();
            prop_assert_eq!(input.get_bucket().as_deref(), Some(name.as_str()));
            let s = settings(&attrs).unwrap();
            // S3 answers each setting as it was put.
            let answer = Answer {
                ownership: input.get_object_ownership().clone().map(|o| o.as_str().to_string()),
                versioning: s.versioning.as_ref().and_then(|v| v.status()).map(|v| v.as_str().to_string()),
                encryption: s.encryption.rules().first().cloned(),
                block: Some(s.block.clone()),
                lifecycle: s.lifecycle.as_ref().map(|l| l.rules().to_vec()).unwrap_or_default(),
                policy: s.policy.clone(),
            };
            let back = described_with(&name, Default::default(), observe(&name, "eu-west-1", &answer)).attrs;
            gives_back(&attrs, &back, ALL)?;
        }
    }
}
