//! The schema of `sns_topic`; its AWS side is `trellis-aws/src/kinds/sns_topic.rs`.

use super::{attr, force, len, tf, tf_part, valid, ARN, BASE, GENERATED_NAME, PROTECT, TAGS};
use crate::schema::{Kind, Mode, Object, Type};
use crate::Value;

/// SNS's rule for a topic's name: letters, digits, `-` and `_`, and `.fifo` at the end
/// of a FIFO topic's.
fn topic_name(v: &Value) -> Option<String> {
    let name = v.as_str()?;
    let base = name.strip_suffix(".fifo").unwrap_or(name);
    (!base.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'))
        .then(|| "SNS takes only letters, digits, `-` and `_` in a topic's name (and `.fifo` at its end)".to_string())
}

pub static SNS_TOPIC: Kind = Kind {
    name: "sns_topic",
    doc: "An SNS topic (`aws sns create-topic`): what alarms notify (`${sns_topic.NAME}` in a `metric_alarm`'s `alarm_actions`) and auto scaling groups tell of their launches. Its display name, KMS key and policy change in place (`set-topic-attributes`); only the name replaces it. Its id is its ARN.",
    id_prefix: "arn:",
    generated_name: Some("name"),
    object: Object {
        check: None,
        other_names: &[],
        attrs: &[
            force(valid(len(attr("name", Type::Str, Mode::OptionalComputed, GENERATED_NAME), 1, 256), topic_name)),
            attr("display_name", Type::Str, Mode::Optional, "The name SMS and email notifications show (`DisplayName`)."),
            attr(
                "kms_master_key_id",
                Type::Str,
                Mode::Optional,
                "The KMS key that encrypts its messages at rest (`KmsMasterKeyId`), an id, ARN or alias such as `alias/aws/sns`.",
            ),
            attr(
                "policy",
                Type::Document,
                Mode::OptionalComputed,
                "Who may publish and subscribe (`Policy`), as a YAML mapping; left out, SNS's default (the account's own principals).",
            ),
            TAGS,
            ARN,
            attr("id", Type::Str, Mode::Computed, "The ARN: SNS's calls take it."),
            PROTECT,
        ],
    },
    terraform_types: &[tf("aws_sns_topic"), tf_part("aws_sns_topic_policy", "policy")],
    create_call: Some(("sns", "CreateTopic")),
    ..BASE
};
