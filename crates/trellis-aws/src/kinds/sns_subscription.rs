//! `sns_subscription`: an endpoint subscribed to a topic. SNS takes no tags on
//! subscriptions: they are read by the ARNs the state holds (`GetSubscriptionAttributes`,
//! one call each). `Subscribe` is idempotent (the same topic, protocol and endpoint give
//! back the same ARN), so a create whose answer was lost is sent again; it asks for the
//! ARN even while the endpoint has not confirmed (`ReturnSubscriptionArn`), so a pending
//! subscription has its id from the start.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_sns::operation::subscribe::builders::SubscribeFluentBuilder;
use trellis_core::{Address, Attrs, ProviderError, Value};

use super::{AwsKind, Create, FoundBy};
use crate::aws::Aws;
use crate::limits::Call;
use crate::service::Service;
use crate::util::{
    aws_err, described_with, document_json, document_value, is_code, str_attr, Described, Select, NOT_FOUND,
};

/// The AWS side of `sns_subscription`.
pub(crate) struct Ops;

/// The subscription attributes a spec sets, by attribute name.
const SETTINGS: [(&str, &str); 4] = [
    ("raw_message_delivery", "RawMessageDelivery"),
    ("filter_policy", "FilterPolicy"),
    ("filter_policy_scope", "FilterPolicyScope"),
    ("redrive_policy", "RedrivePolicy"),
];

/// A setting as SNS takes it: a document as JSON, a flag as `true`/`false`.
fn setting(attrs: &Attrs, name: &str) -> Option<String> {
    match attrs.get(name)? {
        Value::Null => None,
        Value::Str(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        doc => Some(document_json(doc)),
    }
}

#[async_trait]
impl AwsKind for Ops {
    fn service(&self) -> &'static Service {
        &crate::service::SNS_SUBSCRIPTIONS
    }
    /// By ARN only: a stack read finds none, having no tags to go by.
    async fn describe(&self, aws: &Aws, sel: Select<'_>) -> Result<Vec<Described>, ProviderError> {
        let Select::Ids(ids) = sel else { return Ok(Vec::new()) };
        let mut out = Vec::new();
        for arn in ids {
            aws.call(Call::Sns).await;
            let attrs = match aws.sns.get_subscription_attributes().subscription_arn(arn).send().await.map_err(aws_err) {
                Ok(a) => a.attributes().cloned().unwrap_or_default(),
                Err(e) if is_code(&e, NOT_FOUND) => continue,
                Err(e) => return Err(e),
            };
            out.push(described_with(arn, Default::default(), observe(arn, &attrs)));
        }
        Ok(out)
    }
    async fn create(&self, aws: &Aws, c: &Create<'_>) -> Result<String, ProviderError> {
        aws.call(Call::Sns).await;
        let out = request(aws.once.sns.subscribe(), c.attrs).send().await.map_err(aws_err)?;
        out.subscription_arn().map(str::to_string).ok_or_else(|| ProviderError::new(None, "Subscribe returned no ARN"))
    }
    fn create_is_idempotent(&self) -> bool {
        true
    }
    async fn update(&self, aws: &Aws, id: &str, before: &Attrs, after: &Attrs) -> Result<(), ProviderError> {
        for (attr, name) in SETTINGS {
            let want = setting(after, attr);
            if want == setting(before, attr) || (attr == "filter_policy_scope" && want.is_none()) {
                continue;
            }
            aws.call(Call::Sns).await;
            let call = aws.sns.set_subscription_attributes().subscription_arn(id).attribute_name(name);
            call.attribute_value(want.unwrap_or_default()).send().await.map_err(aws_err)?;
        }
        Ok(())
    }
    async fn delete(&self, aws: &Aws, _address: &Address, id: &str, _attrs: &Attrs) -> Result<(), ProviderError> {
        aws.call(Call::Sns).await;
        match aws.sns.unsubscribe().subscription_arn(id).send().await.map_err(aws_err) {
            Ok(_) => Ok(()),
            Err(e) if is_code(&e, NOT_FOUND) => Ok(()),
            Err(e) => Err(e),
        }
    }
    fn found_by(&self) -> FoundBy {
        FoundBy::Nothing("SNS does not tag subscriptions: `trellis import` one by its ARN")
    }
}

fn observe(arn: &str, attrs: &HashMap<String, String>) -> Vec<(&'static str, Value)> {
    let text = |k: &str| attrs.get(k).filter(|v| !v.is_empty()).map(Value::str).unwrap_or(Value::Null);
    let doc = |k: &str| attrs.get(k).filter(|v| !v.is_empty()).map(|v| document_value(v)).unwrap_or(Value::Null);
    let flag = |k: &str| Value::Bool(attrs.get(k).is_some_and(|v| v == "true"));
    vec![
        ("topic_arn", text("TopicArn")),
        ("protocol", text("Protocol")),
        ("notification_endpoint", text("Endpoint")),
        ("raw_message_delivery", flag("RawMessageDelivery")),
        ("filter_policy", doc("FilterPolicy")),
        ("filter_policy_scope", if attrs.get("FilterPolicy").is_some_and(|p| !p.is_empty()) { text("FilterPolicyScope") } else { Value::Null }),
        ("redrive_policy", doc("RedrivePolicy")),
        ("pending_confirmation", flag("PendingConfirmation")),
        ("arn", Value::str(arn)),
    ]
}

fn request(b: SubscribeFluentBuilder, attrs: &Attrs) -> SubscribeFluentBuilder {
    let mut b = b
        .set_topic_arn(str_attr(attrs, "topic_arn").map(str::to_string))
        .set_protocol(str_attr(attrs, "protocol").map(str::to_string))
        .set_endpoint(str_attr(attrs, "notification_endpoint").map(str::to_string))
        .return_subscription_arn(true);
    for (attr, key) in SETTINGS {
        // Raw delivery is sent only when asked: SNS refuses the setting, even `false`,
        // for the protocols that have no raw form (email, SMS).
        if attr == "raw_message_delivery" && attrs.get(attr) != Some(&Value::Bool(true)) {
            continue;
        }
        if let Some(v) = setting(attrs, attr) {
            b = b.attributes(key, v);
        }
    }
    b
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::super::roundtrip::{self, gives_back};
    use super::*;

    const MADE: &[&str] =
        &["topic_arn", "protocol", "notification_endpoint", "raw_message_delivery", "filter_policy", "filter_policy_scope", "redrive_policy"];

    proptest! {
        #[test]
        fn a_subscription_comes_back_as_it_was_made(
            attrs in roundtrip::attrs("sns_subscription", MADE, vec![
                ("topic_arn", "arn:aws:sns:us-east-1:123456789012:[a-z]{1,10}".prop_map(Value::Str).boxed()),
                ("filter_policy", Just(document_value(r#"{"event":["launch","terminate"]}"#)).boxed()),
                ("redrive_policy", Just(document_value(r#"{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:123456789012:dlq"}"#)).boxed()),
            ]),
        ) {
            // A scope reads a filter policy: without one, SNS reports none.
            prop_assume!(attrs.get("filter_policy_scope").is_none() || attrs.get("filter_policy").is_some());
            let client = roundtrip::config(|c| aws_sdk_sns::Client::new(&c));
            let sent = request(client.subscribe(), &attrs);
            let input = sent.as_input();
            let mut answer: HashMap<String, String> = input.get_attributes().clone().unwrap_or_default();
            answer.insert("TopicArn".into(), input.get_topic_arn().clone().unwrap_or_default());
            answer.insert("Protocol".into(), input.get_protocol().clone().unwrap_or_default());
            answer.insert("Endpoint".into(), input.get_endpoint().clone().unwrap_or_default());
            answer.entry("RawMessageDelivery".into()).or_insert_with(|| "false".into());
            let back = described_with("arn:aws:sns:us-east-1:123456789012:t:1", Default::default(), observe("arn:aws:sns:us-east-1:123456789012:t:1", &answer)).attrs;
            gives_back(&attrs, &back, MADE)?;
        }
    }
}
