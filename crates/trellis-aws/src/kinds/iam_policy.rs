//! `iam_policy`: a customer-managed policy, under the stack's IAM path like its roles
//! (`crate::service::iam`). A stack's policies are listed by that path; each is read
//! with its tags (`GetPolicy`) and its default version's document
//! (`GetPolicyVersion`). A document's change is a new default version, after the
//! oldest other version is deleted when IAM's five are taken.

use async_trait::async_trait;
use aws_sdk_iam::operation::create_policy::builders::CreatePolicyFluentBuilder;
use aws_sdk_iam::types::Policy;
use futures_util::future::try_join_all;
use trellis_core::{Address, Attrs, ProviderError, Value};

use super::{AwsKind, Create, FoundBy};
use crate::aws::Aws;
use crate::limits::Call;
use crate::service::iam::{absent, iam_tags, stack_path, tag_map};
use crate::service::Service;
use crate::util::{
    all_tags, aws_err, create_named, delete_with_retry, described_with, document_json, document_value, pages_with,
    read_listed, str_attr, tag_changes, Described, Select,
};

/// The AWS side of `iam_policy`.
pub(crate) struct Ops;

/// IAM keeps at most this many versions of a policy.
const MAX_VERSIONS: usize = 5;

#[async_trait]
impl AwsKind for Ops {
    fn service(&self) -> &'static Service {
        &crate::service::IAM_POLICIES
    }
    async fn describe(&self, aws: &Aws, sel: Select<'_>) -> Result<Vec<Described>, ProviderError> {
        let (arns, listed) = match sel {
            Select::Ids(ids) => (ids.to_vec(), false),
            Select::Stack(stack) => {
                let call = aws
                    .iam
                    .list_policies()
                    .scope(aws_sdk_iam::types::PolicyScopeType::Local)
                    .path_prefix(stack_path(stack))
                    .into_paginator()
                    .send();
                let pages = pages_with(aws, Call::Iam, call).await?;
                (pages.iter().flat_map(|p| p.policies()).filter_map(|p| p.arn()).map(str::to_string).collect(), true)
            }
        };
        let found = try_join_all(arns.iter().map(|a| read(aws, a, listed))).await?;
        Ok(found.into_iter().flatten().collect())
    }
    async fn create(&self, aws: &Aws, c: &Create<'_>) -> Result<String, ProviderError> {
        create_named(c, "policy_name", |name| async move {
            aws.call(Call::Iam).await;
            let out = request(aws.once.iam.create_policy(), &name, c).send().await.map_err(aws_err)?;
            out.policy()
                .and_then(|p| p.arn())
                .map(str::to_string)
                .ok_or_else(|| ProviderError::new(None, "CreatePolicy returned no policy"))
        })
        .await
    }
    async fn update(&self, aws: &Aws, id: &str, before: &Attrs, after: &Attrs) -> Result<(), ProviderError> {
        if before.get("policy_document") == after.get("policy_document") {
            return Ok(());
        }
        let versions = versions(aws, id).await?;
        if versions.len() >= MAX_VERSIONS {
            // The oldest that is not in force makes room; IAM lists them newest first.
            if let Some((oldest, _)) = versions.iter().rev().find(|(_, default)| !default) {
                aws.call(Call::Iam).await;
                aws.iam.delete_policy_version().policy_arn(id).version_id(oldest).send().await.map_err(aws_err)?;
            }
        }
        let doc = after.get("policy_document").map(document_json).unwrap_or_default();
        aws.call(Call::Iam).await;
        let call = aws.iam.create_policy_version().policy_arn(id).policy_document(doc).set_as_default(true);
        call.send().await.map(|_| ()).map_err(aws_err)
    }
    async fn delete(&self, aws: &Aws, address: &Address, id: &str, _attrs: &Attrs) -> Result<(), ProviderError> {
        // IAM deletes a policy only alone: its other versions go first.
        for (version, default) in absent(versions(aws, id).await)?.unwrap_or_default() {
            if !default {
                aws.call(Call::Iam).await;
                let call = aws.iam.delete_policy_version().policy_arn(id).version_id(version).send().await;
                absent(call.map(|_| ()).map_err(aws_err))?;
            }
        }
        delete_with_retry(aws, address, id, || async {
            aws.call(Call::Iam).await;
            aws.iam.delete_policy().policy_arn(id).send().await.map(|_| ()).map_err(aws_err)
        })
        .await
    }
    async fn sync_tags(&self, aws: &Aws, id: &str, before: Option<&Value>, after: Option<&Value>) -> Result<(), ProviderError> {
        let (set, unset) = tag_changes(before, after);
        if !set.is_empty() {
            aws.call(Call::Iam).await;
            aws.iam.tag_policy().policy_arn(id).set_tags(Some(iam_tags(set))).send().await.map_err(aws_err)?;
        }
        if !unset.is_empty() {
            aws.call(Call::Iam).await;
            aws.iam.untag_policy().policy_arn(id).set_tag_keys(Some(unset)).send().await.map_err(aws_err)?;
        }
        Ok(())
    }
    fn found_by(&self) -> FoundBy {
        FoundBy::Nothing("a policy is not in a VPC: name it in a spec, or `trellis import` it by its ARN")
    }
}

/// The policy's versions, newest first, each with whether it is the default.
async fn versions(aws: &Aws, arn: &str) -> Result<Vec<(String, bool)>, ProviderError> {
    let call = aws.iam.list_policy_versions().policy_arn(arn).into_paginator().send();
    let pages = pages_with(aws, Call::Iam, call).await?;
    let mut out: Vec<(String, bool)> = pages
        .iter()
        .flat_map(|p| p.versions())
        .filter_map(|v| Some((v.version_id()?.to_string(), v.is_default_version())))
        .collect();
    // `v12` after `v9`: by number, newest first.
    out.sort_by_key(|(v, _)| std::cmp::Reverse(v.trim_start_matches('v').parse::<u64>().unwrap_or(0)));
    Ok(out)
}

/// One policy with its default version's document. A policy a listing has just shown
/// (`listed`) that IAM's read does not show yet is asked again before it counts as gone.
async fn read(aws: &Aws, arn: &str, listed: bool) -> Result<Option<Described>, ProviderError> {
    let get = || async {
        aws.call(Call::Iam).await;
        aws.iam.get_policy().policy_arn(arn).send().await.map_err(aws_err)
    };
    let got = if listed { read_listed(get).await } else { get().await };
    let Some(out) = absent(got)? else { return Ok(None) };
    let Some(policy) = out.policy() else { return Ok(None) };
    let Some(version) = policy.default_version_id() else { return Ok(None) };
    aws.call(Call::Iam).await;
    let doc = aws.iam.get_policy_version().policy_arn(arn).version_id(version).send().await.map_err(aws_err);
    let Some(doc) = absent(doc)? else { return Ok(None) };
    let document = doc.policy_version().and_then(|v| v.document()).map(document_value).unwrap_or(Value::Null);
    Ok(Some(described_with(arn, tag_map(policy.tags()), observe(policy, document))))
}

fn observe(p: &Policy, document: Value) -> Vec<(&'static str, Value)> {
    vec![
        ("policy_name", p.policy_name().map(Value::str).unwrap_or(Value::Null)),
        ("policy_document", document),
        ("description", p.description().filter(|d| !d.is_empty()).map(Value::str).unwrap_or(Value::Null)),
        ("arn", p.arn().map(Value::str).unwrap_or(Value::Null)),
        ("path", p.path().map(Value::str).unwrap_or(Value::Null)),
        ("default_version_id", p.default_version_id().map(Value::str).unwrap_or(Value::Null)),
    ]
}

fn request(b: CreatePolicyFluentBuilder, name: &str, c: &Create<'_>) -> CreatePolicyFluentBuilder {
    b.policy_name(name)
        .path(stack_path(c.stack))
        .set_policy_document(c.attrs.get("policy_document").map(document_json))
        .set_description(str_attr(c.attrs, "description").map(str::to_string))
        .set_tags(Some(iam_tags(all_tags(c.stack, c.address, c.attrs.get("tags")))))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::super::roundtrip::{self, gives_back};
    use super::*;

    const ALL: &[&str] = &["policy_name", "policy_document", "description", "tags"];

    proptest! {
        #[test]
        fn a_policy_comes_back_as_it_was_made(
            attrs in roundtrip::attrs("iam_policy", ALL, vec![
                ("policy_name", "[a-zA-Z0-9+=,.@_-]{1,40}".prop_map(Value::Str).boxed()),
                ("description", "[a-z ]{1,30}".prop_map(Value::Str).boxed()),
                ("policy_document", Just(document_value(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#)).boxed()),
            ]),
        ) {
            let address = roundtrip::address("iam_policy");
            let client = roundtrip::config(|c| aws_sdk_iam::Client::new(&c));
            let name = str_attr(&attrs, "policy_name").unwrap_or("made-up").to_string();
            let mut attrs = attrs;
            attrs.insert("policy_name".into(), Value::Str(name.clone()));
            let sent = request(client.create_policy(), &name, &roundtrip::create(&address, &attrs));
            let input = sent.as_input();
            let answer = Policy::builder()
                .policy_name(name.clone())
                .arn(format!("arn:aws:iam::123456789012:policy/trellis/st/{name}"))
                .set_path(input.get_path().clone())
                .set_description(input.get_description().clone())
                .default_version_id("v1")
                .set_tags(input.get_tags().clone())
                .build();
            let document = document_value(input.get_policy_document().as_deref().unwrap_or(""));
            let back = described_with("arn", tag_map(answer.tags()), observe(&answer, document)).attrs;
            gives_back(&attrs, &back, ALL)?;
        }
    }
}
