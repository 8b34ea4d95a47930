//! The schema of `log_group`; its AWS side is `trellis-aws/src/kinds/log_group.rs`.

use super::{attr, force, len, pattern, terraform, tf, valid, ARN, BASE, GENERATED_NAME, PROTECT, TAGS};
use crate::schema::{Kind, Mode, Object, Type};
use crate::Value;

/// The retention periods CloudWatch Logs takes (`put-retention-policy`), in days.
const RETENTION: [i64; 22] =
    [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

fn retention(v: &Value) -> Option<String> {
    let days = v.as_int()?;
    (!RETENTION.contains(&days)).then(|| {
        let all: Vec<String> = RETENTION.iter().map(ToString::to_string).collect();
        format!("CloudWatch Logs keeps events {} days, not {days}", all.join(", "))
    })
}

pub static LOG_GROUP: Kind = Kind {
    name: "log_group",
    doc: "A CloudWatch Logs log group (`aws logs create-log-group`), where a service writes its logs (a database's exports, an application's agent). Its retention and KMS key change in place (`put-retention-policy`, `associate-kms-key`); only the name replaces it. Its id is its name.",
    id_prefix: "",
    generated_name: Some("log_group_name"),
    object: Object {
        check: None,
        other_names: &[terraform("name", "log_group_name")],
        attrs: &[
            force(pattern(len(attr("log_group_name", Type::Str, Mode::OptionalComputed, GENERATED_NAME), 1, 512), "[\\.\\-_/#A-Za-z0-9]+")),
            valid(
                attr(
                    "retention_in_days",
                    Type::Int,
                    Mode::Optional,
                    "How many days events are kept (one of CloudWatch's periods: 1, 3, 5, 7, 14, 30, 60, 90, ... 3653); left out, forever. Changed in place.",
                ),
                retention,
            ),
            len(
                attr("kms_key_id", Type::Str, Mode::Optional, "The ARN of the KMS key that encrypts its events (`--kms-key-id`); changed in place."),
                0,
                256,
            ),
            TAGS,
            ARN,
            attr("id", Type::Str, Mode::Computed, "The log group's name."),
            PROTECT,
        ],
    },
    terraform_types: &[tf("aws_cloudwatch_log_group")],
    create_call: Some(("logs", "CreateLogGroup")),
    ..BASE
};
