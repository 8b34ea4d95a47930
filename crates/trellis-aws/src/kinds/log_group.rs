//! `log_group`: a CloudWatch Logs log group. The listing has no tag filter: a stack's
//! groups are those named with its prefix (the names trellis makes up) whose
//! `trellis:stack` tag is the stack's, plus those the state names. Tags are read and
//! set by the group's ARN (without the `:*` the listing gives it).

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_cloudwatchlogs::operation::create_log_group::builders::CreateLogGroupFluentBuilder;
use aws_sdk_cloudwatchlogs::types::LogGroup;
use trellis_core::{Address, Attrs, ProviderError, Value};

use super::{AwsKind, Create, FoundBy};
use crate::aws::Aws;
use crate::limits::Call;
use crate::service::Service;
use crate::util::{
    all_tags, aws_err, create_named, delete_with_retry, described_with, opt_int, opt_str, pages_with, str_attr,
    tag_changes, Described, Select,
};

/// The AWS side of `log_group`.
pub(crate) struct Ops;

/// The group's ARN as tags take it: the listing's without its `:*`.
fn bare_arn(g: &LogGroup) -> Option<&str> {
    g.log_group_arn().or_else(|| g.arn().map(|a| a.trim_end_matches(":*")))
}

#[async_trait]
impl AwsKind for Ops {
    fn service(&self) -> &'static Service {
        &crate::service::LOGS
    }
    async fn describe(&self, aws: &Aws, sel: Select<'_>) -> Result<Vec<Described>, ProviderError> {
        let groups: Vec<LogGroup> = match sel {
            Select::Stack(stack) => list(aws, &format!("{stack}-")).await?,
            Select::Ids(names) => {
                let mut out = Vec::new();
                for name in names {
                    out.extend(list(aws, name).await?.into_iter().filter(|g| g.log_group_name() == Some(name.as_str())));
                }
                out
            }
        };
        let mut out = Vec::new();
        for g in groups {
            let (Some(name), Some(arn)) = (g.log_group_name(), bare_arn(&g)) else { continue };
            let tags = tags(aws, arn).await?;
            if !sel.keeps(&tags) {
                continue;
            }
            out.push(described_with(name, tags, observe(&g)));
        }
        Ok(out)
    }
    async fn create(&self, aws: &Aws, c: &Create<'_>) -> Result<String, ProviderError> {
        create_named(c, "log_group_name", |name| async move {
            aws.call(Call::Logs).await;
            request(aws.once.logs.create_log_group(), &name, c).send().await.map_err(aws_err)?;
            Ok(name)
        })
        .await
    }
    /// The retention, which the create call does not take.
    async fn configure(&self, aws: &Aws, id: &str, attrs: &Attrs) -> Result<(), ProviderError> {
        if attrs.get("retention_in_days").and_then(Value::as_int).is_some() {
            return self.update(aws, id, &Attrs::new(), attrs).await;
        }
        Ok(())
    }
    async fn update(&self, aws: &Aws, id: &str, before: &Attrs, after: &Attrs) -> Result<(), ProviderError> {
        let days = |a: &Attrs| a.get("retention_in_days").and_then(Value::as_int);
        if days(before) != days(after) {
            aws.call(Call::Logs).await;
            match days(after) {
                Some(d) => {
                    let call = aws.logs.put_retention_policy().log_group_name(id).retention_in_days(d as i32);
                    call.send().await.map(|_| ()).map_err(aws_err)
                }
                None => aws.logs.delete_retention_policy().log_group_name(id).send().await.map(|_| ()).map_err(aws_err),
            }?;
        }
        if str_attr(before, "kms_key_id") != str_attr(after, "kms_key_id") {
            aws.call(Call::Logs).await;
            match str_attr(after, "kms_key_id") {
                Some(k) => aws.logs.associate_kms_key().log_group_name(id).kms_key_id(k).send().await.map(|_| ()).map_err(aws_err),
                None => aws.logs.disassociate_kms_key().log_group_name(id).send().await.map(|_| ()).map_err(aws_err),
            }?;
        }
        Ok(())
    }
    async fn delete(&self, aws: &Aws, address: &Address, id: &str, _attrs: &Attrs) -> Result<(), ProviderError> {
        delete_with_retry(aws, address, id, || async {
            aws.call(Call::Logs).await;
            aws.logs.delete_log_group().log_group_name(id).send().await.map(|_| ()).map_err(aws_err)
        })
        .await
    }
    async fn sync_tags(&self, aws: &Aws, id: &str, before: Option<&Value>, after: Option<&Value>) -> Result<(), ProviderError> {
        let (set, unset) = tag_changes(before, after);
        if set.is_empty() && unset.is_empty() {
            return Ok(());
        }
        let listed = list(aws, id).await?;
        let Some(arn) = listed.iter().find(|g| g.log_group_name() == Some(id)).and_then(bare_arn) else {
            return Err(ProviderError::new(Some("ResourceNotFoundException"), format!("log group {id} is not there")));
        };
        if !set.is_empty() {
            aws.call(Call::Logs).await;
            aws.logs.tag_resource().resource_arn(arn).set_tags(Some(set.into_iter().collect())).send().await.map_err(aws_err)?;
        }
        if !unset.is_empty() {
            aws.call(Call::Logs).await;
            aws.logs.untag_resource().resource_arn(arn).set_tag_keys(Some(unset)).send().await.map_err(aws_err)?;
        }
        Ok(())
    }
    fn found_by(&self) -> FoundBy {
        FoundBy::Nothing("a log group is not in a VPC: name it in a spec, or `trellis import` it")
    }
}

/// The log groups whose names start with `prefix`, 50 a page.
async fn list(aws: &Aws, prefix: &str) -> Result<Vec<LogGroup>, ProviderError> {
    let call = aws.logs.describe_log_groups().log_group_name_prefix(prefix).into_paginator().send();
    let pages = pages_with(aws, Call::Logs, call).await?;
    Ok(pages.into_iter().flat_map(|p| p.log_groups.unwrap_or_default()).collect())
}

async fn tags(aws: &Aws, arn: &str) -> Result<BTreeMap<String, String>, ProviderError> {
    aws.call(Call::Logs).await;
    let out = aws.logs.list_tags_for_resource().resource_arn(arn).send().await.map_err(aws_err)?;
    Ok(out.tags().cloned().unwrap_or_default().into_iter().collect())
}

fn observe(g: &LogGroup) -> Vec<(&'static str, Value)> {
    vec![
        ("log_group_name", opt_str(g.log_group_name())),
        ("retention_in_days", opt_int(g.retention_in_days())),
        ("kms_key_id", opt_str(g.kms_key_id())),
        ("arn", opt_str(bare_arn(g))),
    ]
}

fn request(b: CreateLogGroupFluentBuilder, name: &str, c: &Create<'_>) -> CreateLogGroupFluentBuilder {
    b.log_group_name(name)
        .set_kms_key_id(str_attr(c.attrs, "kms_key_id").map(str::to_string))
        .set_tags(Some(all_tags(c.stack, c.address, c.attrs.get("tags")).into_iter().collect()))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::super::roundtrip::{self, gives_back};
    use super::*;

    const ALL: &[&str] = &["log_group_name", "retention_in_days", "kms_key_id", "tags"];

    proptest! {
        #[test]
        fn a_log_group_comes_back_as_it_was_made(
            attrs in roundtrip::attrs("log_group", ALL, vec![
                ("log_group_name", "/app/[a-z]{1,12}".prop_map(Value::Str).boxed()),
                ("retention_in_days", prop::sample::select(vec![1i64, 7, 30, 365, 3653]).prop_map(Value::Int).boxed()),
            ]),
        ) {
            let address = roundtrip::address("log_group");
            let client = roundtrip::config(|c| aws_sdk_cloudwatchlogs::Client::new(&c));
            let mut attrs = attrs;
            attrs.entry("log_group_name".to_string()).or_insert_with(|| Value::str("made-up"));
            let name = str_attr(&attrs, "log_group_name").unwrap_or_default().to_string();
            let sent = request(client.create_log_group(), &name, &roundtrip::create(&address, &attrs));
            let input = sent.as_input();
            // The retention is put after the create, as the answer then has it.
            let answer = LogGroup::builder()
                .log_group_name(name.clone())
                .set_kms_key_id(input.get_kms_key_id().clone())
                .set_retention_in_days(attrs.get("retention_in_days").and_then(Value::as_int).map(|d| d as i32))
                .arn(format!("arn:aws:logs:us-east-1:123456789012:log-group:{name}:*"))
                .build();
            let tags: BTreeMap<String, String> = input.get_tags().clone().unwrap_or_default().into_iter().collect();
            let back = described_with(&name, tags, observe(&answer)).attrs;
            gives_back(&attrs, &back, ALL)?;
        }
    }
}
