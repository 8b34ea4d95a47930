//! The schema of `metric_alarm`; its AWS side is `trellis-aws/src/kinds/metric_alarm.rs`.

use super::{attr, default, force, BASE, ID, PROTECT, TAGS, tf, len, range, pattern, valid};
use crate::schema::{Default, Kind, Mode, Object, Type};
use crate::{Attrs, Value};

const COMPARISONS: &[&str] =
    &["GreaterThanOrEqualToThreshold", "GreaterThanThreshold", "LessThanThreshold", "LessThanOrEqualToThreshold"];

/// AWS takes one of the two statistics, never both and never neither.
fn check_alarm(a: &Attrs) -> Option<(&'static str, String)> {
    match (a.contains_key("statistic"), a.contains_key("extended_statistic")) {
        (true, true) => Some(("extended_statistic", "give `statistic` or `extended_statistic`, not both".into())),
        (false, false) => {
            Some(("metric_name", "an alarm needs `statistic` (e.g. `Sum`) or `extended_statistic` (e.g. `p99`)".into()))
        }
        _ => {
            let evaluated = a.get("evaluation_periods").and_then(Value::as_int);
            match (a.get("datapoints_to_alarm").and_then(Value::as_int), evaluated) {
                (Some(d), Some(e)) if d > e => Some((
                    "datapoints_to_alarm",
                    format!("datapoints_to_alarm {d} is more than evaluation_periods {e}"),
                )),
                _ => None,
            }
        }
    }
}

/// CloudWatch takes a period of 10, 20 or 30 seconds (high resolution) or a multiple
/// of 60 (PutMetricAlarm's reference says so; its model says only "at least 1").
fn alarm_period(v: &Value) -> Option<String> {
    let n = v.as_int()?;
    (![10, 20, 30].contains(&n) && n % 60 != 0).then(|| format!("{n} s is not a period CloudWatch takes: 10, 20, 30, or a multiple of 60"))
}

/// The units CloudWatch knows (its model's `StandardUnit`).
const UNITS: &[&str] = &[
    "Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Gigabytes", "Terabytes", "Bits",
    "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count", "Bytes/Second", "Kilobytes/Second",
    "Megabytes/Second", "Gigabytes/Second", "Terabytes/Second", "Bits/Second", "Kilobits/Second", "Megabits/Second",
    "Gigabits/Second", "Terabits/Second", "Count/Second", "None",
];

pub static METRIC_ALARM: Kind = Kind {
    name: "metric_alarm",
    doc: "A CloudWatch alarm on one metric (`aws cloudwatch put-metric-alarm`), for example a load balancer's 5xx count or a target group's `UnHealthyHostCount`; an auto scaling group's `alarms` names it to stop and roll back a rollout. PutMetricAlarm makes and changes it alike. `dimensions` is awscli's `--dimensions Name=...,Value=...` list written as a mapping of name to value (a metric's dimension names are unique). `threshold` takes whole numbers. Its id is its name.",
    id_prefix: "",
    object: Object {
        check: Some(check_alarm),
        other_names: &[],
        attrs: &[
            force(default(
                len(attr("alarm_name", Type::Str, Mode::Optional, "The alarm's name, unique in the account and region; left out, `<stack>-<name>`."), 1, 255),
                Default::StackName,
            )),
            len(attr("alarm_description", Type::Str, Mode::Optional, "What it watches, in words."), 0, 1024),
            default(attr("actions_enabled", Type::Bool, Mode::Optional, "Whether its actions run."), Default::Bool(true)),
            default(len(attr("alarm_actions", Type::Set(&Type::Str), Mode::Optional, "ARNs to notify or act on when it goes to ALARM."), 0, 5), Default::EmptyList),
            default(len(attr("ok_actions", Type::Set(&Type::Str), Mode::Optional, "ARNs for when it returns to OK."), 0, 5), Default::EmptyList),
            default(
                len(attr("insufficient_data_actions", Type::Set(&Type::Str), Mode::Optional, "ARNs for INSUFFICIENT_DATA."), 0, 5),
                Default::EmptyList,
            ),
            len(attr("metric_name", Type::Str, Mode::Required, "The metric, e.g. `HTTPCode_Target_5XX_Count`."), 1, 255),
            pattern(len(attr("namespace", Type::Str, Mode::Required, "Its namespace, e.g. `AWS/ApplicationELB`."), 1, 255), "[^:].*"),
            attr(
                "statistic",
                Type::Enum(&["SampleCount", "Average", "Sum", "Minimum", "Maximum"]),
                Mode::Optional,
                "The statistic compared with the threshold (or give `extended_statistic`).",
            ),
            attr("extended_statistic", Type::Str, Mode::Optional, "A percentile, e.g. `p99`, instead of `statistic`."),
            default(
                len(attr("dimensions", Type::Map, Mode::Optional, "The metric's dimensions, name to value: `LoadBalancer: ${load_balancer.web.arn_suffix}`."), 0, 30),
                Default::EmptyMap,
            ),
            valid(range(attr("period", Type::Int, Mode::Required, "Seconds over which the statistic is taken (10, 30 or a multiple of 60)."), 1, i64::MAX), alarm_period),
            attr("unit", Type::Enum(UNITS), Mode::Optional, "The metric's unit, e.g. `Count`."),
            range(attr("evaluation_periods", Type::Int, Mode::Required, "Periods compared with the threshold."), 1, i64::MAX),
            range(attr("datapoints_to_alarm", Type::Int, Mode::Optional, "Of those, how many must breach (M of N); left out, all of them."), 1, i64::MAX),
            attr("threshold", Type::Int, Mode::Required, "The value compared with, a whole number."),
            attr("comparison_operator", Type::Enum(COMPARISONS), Mode::Required, "How the statistic is compared with the threshold."),
            default(
                len(attr(
                    "treat_missing_data",
                    Type::Enum(&["breaching", "notBreaching", "ignore", "missing"]),
                    Mode::Optional,
                    "How periods without data count.",
                ), 1, 255),
                Default::Str("missing"),
            ),
            TAGS,
            attr("alarm_arn", Type::Str, Mode::Computed, "Its ARN."),
            ID,
            PROTECT,
        ],
    },
    terraform_types: &[tf("aws_cloudwatch_metric_alarm")],
    create_call: Some(("cloudwatch", "PutMetricAlarm")),
    ..BASE
};
