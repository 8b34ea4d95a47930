//! The schema of `sns_subscription`; its AWS side is `trellis-aws/src/kinds/sns_subscription.rs`.

use super::{attr, default, force, terraform, tf, BASE, PROTECT};
use crate::schema::{Default, Kind, Mode, Object, Rule, Severity, Subject, Type};
use crate::Value;

fn pending(s: &Subject) -> Vec<String> {
    if s.attrs.get("pending_confirmation").and_then(Value::as_bool) != Some(true) {
        return vec![];
    }
    let to = s.attrs.get("notification_endpoint").and_then(Value::as_str).unwrap_or("its endpoint");
    vec![format!("SNS sent the confirmation to {to}")]
}

static RULES: [Rule; 1] = [Rule {
    id: "sns-subscription-pending",
    checkov: None,
    severity: Severity::Low,
    title: "the subscription awaits its endpoint's confirmation",
    why: "SNS delivers nothing to it until the link it sent is followed, and deletes it after three days unconfirmed (trellis then plans it again); this is not drift",
    fix: "follow the confirmation link SNS sent to the endpoint",
    check: pending,
}];

pub static SNS_SUBSCRIPTION: Kind = Kind {
    name: "sns_subscription",
    doc: "A subscription of an endpoint to an SNS topic (`aws sns subscribe`): a queue, a function, an HTTPS address, an email address. Its delivery settings change in place (`set-subscription-attributes`); the topic, protocol and endpoint replace it. An email or HTTP(S) endpoint must confirm it: until then AWS reports it pending, which the plan says as a finding (`sns-subscription-pending`), never as drift. SNS takes no tags on subscriptions: trellis knows them by ARN, their id. Subscribing again is harmless (SNS answers the same ARN), so a create whose answer was lost is simply sent again.",
    id_prefix: "arn:",
    rules: &RULES,
    object: Object {
        check: None,
        other_names: &[terraform("endpoint", "notification_endpoint")],
        attrs: &[
            force(attr("topic_arn", Type::Ref("sns_topic"), Mode::Required, "`--topic-arn`: `${sns_topic.NAME}`, or a topic's ARN.")),
            force(attr(
                "protocol",
                Type::Enum(&["http", "https", "email", "email-json", "sms", "sqs", "application", "lambda", "firehose"]),
                Mode::Required,
                "`--protocol`.",
            )),
            force(attr(
                "notification_endpoint",
                Type::Str,
                Mode::Required,
                "`--notification-endpoint`: the queue's or function's ARN, the URL, the address or the phone number (Terraform's `endpoint`).",
            )),
            default(
                attr("raw_message_delivery", Type::Bool, Mode::Optional, "Deliver the message as sent, without SNS's JSON envelope (`RawMessageDelivery`; SQS, HTTP(S), Firehose)."),
                Default::Bool(false),
            ),
            attr("filter_policy", Type::Document, Mode::Optional, "Which messages it receives (`FilterPolicy`), as a YAML mapping."),
            attr(
                "filter_policy_scope",
                Type::Enum(&["MessageAttributes", "MessageBody"]),
                Mode::OptionalComputed,
                "What the filter policy reads (`FilterPolicyScope`); AWS's default `MessageAttributes`.",
            ),
            attr(
                "redrive_policy",
                Type::Document,
                Mode::Optional,
                "Where undeliverable messages go (`RedrivePolicy`: `{ deadLetterTargetArn: ... }`).",
            ),
            attr("pending_confirmation", Type::Bool, Mode::Computed, "`true` while the endpoint has not confirmed it."),
            attr("id", Type::Str, Mode::Computed, "The subscription's ARN: SNS's calls take it."),
            attr("arn", Type::Str, Mode::Computed, "The subscription's ARN."),
            PROTECT,
        ],
    },
    terraform_types: &[tf("aws_sns_topic_subscription")],
    create_call: Some(("sns", "Subscribe")),
    ..BASE
};
