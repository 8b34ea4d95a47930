//! `sns_topic`: an SNS topic. SNS lists every topic's ARN (100 a page) without tags: a
//! stack's topics are those named with its prefix (the names trellis makes up) whose
//! `trellis:stack` tag is the stack's, plus those the state names; each is read with
//! `GetTopicAttributes`. Settings are topic attributes, one `SetTopicAttributes` each.

use std::collections::{BTreeMap, HashMap};

use async_trait::async_trait;
use aws_sdk_sns::operation::create_topic::builders::CreateTopicFluentBuilder;
use aws_sdk_sns::types::Tag;
use trellis_core::{Address, Attrs, ProviderError, Value};

use super::{AwsKind, Create, FoundBy};
use crate::aws::Aws;
use crate::limits::Call;
use crate::service::Service;
use crate::util::{
    all_tags, aws_err, create_named, delete_with_retry, described_with, document_json, document_value, is_code,
    pages_with, str_attr, tag_changes, Described, Select, NOT_FOUND,
};

/// The AWS side of `sns_topic`.
pub(crate) struct Ops;

/// The topic attributes a spec sets, by attribute name.
const SETTINGS: [(&str, &str); 3] =
    [("display_name", "DisplayName"), ("kms_master_key_id", "KmsMasterKeyId"), ("policy", "Policy")];

/// A topic's name: the last part of its ARN.
fn name_of(arn: &str) -> &str {
    arn.rsplit(':').next().unwrap_or(arn)
}

/// A setting as SNS takes it: a document as JSON, a text as it is.
fn setting(attrs: &Attrs, name: &str) -> Option<String> {
    match attrs.get(name)? {
        Value::Null => None,
        Value::Str(s) => Some(s.clone()),
        doc => Some(document_json(doc)),
    }
}

#[async_trait]
impl AwsKind for Ops {
    fn service(&self) -> &'static Service {
        &crate::service::SNS
    }
    async fn describe(&self, aws: &Aws, sel: Select<'_>) -> Result<Vec<Described>, ProviderError> {
        let arns: Vec<String> = match sel {
            Select::Ids(ids) => ids.to_vec(),
            Select::Stack(stack) => {
                let pages = pages_with(aws, Call::Sns, aws.sns.list_topics().into_paginator().send()).await?;
                let prefix = format!("{stack}-");
                pages
                    .iter()
                    .flat_map(|p| p.topics())
                    .filter_map(|t| t.topic_arn())
                    .filter(|a| name_of(a).starts_with(&prefix))
                    .map(str::to_string)
                    .collect()
            }
        };
        let mut out = Vec::new();
        for arn in arns {
            let tags = match tags(aws, &arn).await {
                Ok(t) => t,
                Err(e) if is_code(&e, NOT_FOUND) => continue,
                Err(e) => return Err(e),
            };
            if !sel.keeps(&tags) {
                continue;
            }
            aws.call(Call::Sns).await;
            let attrs = match aws.sns.get_topic_attributes().topic_arn(&arn).send().await.map_err(aws_err) {
                Ok(a) => a.attributes().cloned().unwrap_or_default(),
                Err(e) if is_code(&e, NOT_FOUND) => continue,
                Err(e) => return Err(e),
            };
            out.push(described_with(&arn, tags, observe(&arn, &attrs)));
        }
        Ok(out)
    }
    async fn create(&self, aws: &Aws, c: &Create<'_>) -> Result<String, ProviderError> {
        create_named(c, "name", |name| async move {
            aws.call(Call::Sns).await;
            let out = request(aws.once.sns.create_topic(), &name, c).send().await.map_err(aws_err)?;
            out.topic_arn().map(str::to_string).ok_or_else(|| ProviderError::new(None, "CreateTopic returned no ARN"))
        })
        .await
    }
    async fn update(&self, aws: &Aws, id: &str, before: &Attrs, after: &Attrs) -> Result<(), ProviderError> {
        for (attr, name) in SETTINGS {
            let want = setting(after, attr);
            if want == setting(before, attr) || (attr == "policy" && want.is_none()) {
                continue;
            }
            aws.call(Call::Sns).await;
            let call = aws.sns.set_topic_attributes().topic_arn(id).attribute_name(name);
            call.attribute_value(want.unwrap_or_default()).send().await.map_err(aws_err)?;
        }
        Ok(())
    }
    async fn delete(&self, aws: &Aws, address: &Address, id: &str, _attrs: &Attrs) -> Result<(), ProviderError> {
        delete_with_retry(aws, address, id, || async {
            aws.call(Call::Sns).await;
            aws.sns.delete_topic().topic_arn(id).send().await.map(|_| ()).map_err(aws_err)
        })
        .await
    }
    async fn sync_tags(&self, aws: &Aws, id: &str, before: Option<&Value>, after: Option<&Value>) -> Result<(), ProviderError> {
        let (set, unset) = tag_changes(before, after);
        if !set.is_empty() {
            aws.call(Call::Sns).await;
            aws.sns.tag_resource().resource_arn(id).set_tags(Some(sns_tags(set))).send().await.map_err(aws_err)?;
        }
        if !unset.is_empty() {
            aws.call(Call::Sns).await;
            aws.sns.untag_resource().resource_arn(id).set_tag_keys(Some(unset)).send().await.map_err(aws_err)?;
        }
        Ok(())
    }
    fn found_by(&self) -> FoundBy {
        FoundBy::Nothing("a topic is not in a VPC: name it in a spec, or `trellis import` it by its ARN")
    }
}

fn sns_tags(all: BTreeMap<String, String>) -> Vec<Tag> {
    all.into_iter().filter_map(|(k, v)| Tag::builder().key(k).value(v).build().ok()).collect()
}

async fn tags(aws: &Aws, arn: &str) -> Result<BTreeMap<String, String>, ProviderError> {
    aws.call(Call::Sns).await;
    let out = aws.sns.list_tags_for_resource().resource_arn(arn).send().await.map_err(aws_err)?;
    Ok(out.tags().iter().map(|t| (t.key().to_string(), t.value().to_string())).collect())
}

fn observe(arn: &str, attrs: &HashMap<String, String>) -> Vec<(&'static str, Value)> {
    let text = |k: &str| attrs.get(k).filter(|v| !v.is_empty()).map(Value::str).unwrap_or(Value::Null);
    vec![
        ("name", Value::str(name_of(arn))),
        ("display_name", text("DisplayName")),
        ("kms_master_key_id", text("KmsMasterKeyId")),
        ("policy", attrs.get("Policy").map(|p| document_value(p)).unwrap_or(Value::Null)),
        ("arn", Value::str(arn)),
    ]
}

fn request(b: CreateTopicFluentBuilder, name: &str, c: &Create<'_>) -> CreateTopicFluentBuilder {
    let mut b = b.name(name).set_tags(Some(sns_tags(all_tags(c.stack, c.address, c.attrs.get("tags")))));
    for (attr, key) in SETTINGS {
        if let Some(v) = setting(c.attrs, attr) {
            b = b.attributes(key, v);
        }
    }
    if str_attr(c.attrs, "name").is_some_and(|n| n.ends_with(".fifo")) {
        b = b.attributes("FifoTopic", "true");
    }
    b
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::super::roundtrip::{self, gives_back};
    use super::*;

    const ALL: &[&str] = &["name", "display_name", "kms_master_key_id", "policy", "tags"];

    proptest! {
        #[test]
        fn a_topic_comes_back_as_it_was_made(
            attrs in roundtrip::attrs("sns_topic", ALL, vec![
                ("name", "[a-zA-Z0-9_-]{1,30}".prop_map(Value::Str).boxed()),
                ("policy", Just(document_value(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"cloudwatch.amazonaws.com"},"Action":"sns:Publish","Resource":"*"}]}"#)).boxed()),
            ]),
        ) {
            let address = roundtrip::address("sns_topic");
            let client = roundtrip::config(|c| aws_sdk_sns::Client::new(&c));
            let mut attrs = attrs;
            attrs.entry("name".to_string()).or_insert_with(|| Value::str("made-up"));
            let name = str_attr(&attrs, "name").unwrap_or_default().to_string();
            let sent = request(client.create_topic(), &name, &roundtrip::create(&address, &attrs));
            let input = sent.as_input();
            let answer: HashMap<String, String> = input.get_attributes().clone().unwrap_or_default();
            let arn = format!("arn:aws:sns:us-east-1:123456789012:{name}");
            let tags: BTreeMap<String, String> =
                input.get_tags().clone().unwrap_or_default().iter().map(|t| (t.key().to_string(), t.value().to_string())).collect();
            let back = described_with(&arn, tags, observe(&arn, &answer)).attrs;
            gives_back(&attrs, &back, ALL)?;
        }
    }
}
