//! The schema of `scaling_policy`; its AWS side is `trellis-aws/src/kinds/scaling_policy.rs`.

use super::{attr, default, force, terraform, terraform_and_old, BASE, ID, PROTECT, tf, len, pattern, XML_STRING};
use crate::schema::{Default, Kind, Mode, Object, Type};
use crate::{Attrs, Value};

/// What each policy type takes and what it has no use for.
const TAKES: [(&str, &[&str], &[&str]); 3] = [
    (
        "TargetTrackingScaling",
        &["metric", "target_value"],
        &["adjustment_type", "scaling_adjustment", "cooldown", "min_adjustment_magnitude", "step_adjustments", "metric_aggregation_type"],
    ),
    (
        "SimpleScaling",
        &["adjustment_type", "scaling_adjustment"],
        &["metric", "target_value", "resource_label", "step_adjustments", "metric_aggregation_type", "estimated_instance_warmup"],
    ),
    (
        "StepScaling",
        &["adjustment_type", "step_adjustments"],
        &["metric", "target_value", "resource_label", "scaling_adjustment", "cooldown"],
    ),
];

fn check_policy(a: &Attrs) -> Option<(&'static str, String)> {
    let kind = a.get("policy_type").and_then(Value::as_str)?;
    // Target tracking is the default: settings of an alarm's change of capacity mean
    // the policy type was left out, not that they are wrong.
    if kind == "TargetTrackingScaling" && !a.contains_key("metric") {
        if let Some(step) = ["step_adjustments", "adjustment_type", "scaling_adjustment"].iter().find(|k| a.contains_key(**k)) {
            let which = if *step == "step_adjustments" { "StepScaling" } else { "SimpleScaling" };
            return Some((
                step,
                format!("`{step}` is for an alarm's change of capacity, but `policy_type` is TargetTrackingScaling unless it is set: write `policy_type: {which}`"),
            ));
        }
    }
    let (_, needs, refuses) = TAKES.iter().find(|(t, _, _)| *t == kind)?;
    if let Some(missing) = needs.iter().find(|n| !a.contains_key(**n)) {
        return Some(("policy_type", format!("a {kind} policy needs `{missing}`")));
    }
    if let Some(extra) = refuses.iter().find(|n| a.contains_key(**n)) {
        return Some((extra, format!("`{extra}` is not for a {kind} policy")));
    }
    if a.get("step_adjustments") == Some(&Value::List(vec![])) {
        return Some(("step_adjustments", "a step policy needs one step or more".into()));
    }
    if kind != "TargetTrackingScaling" && a.get("disable_scale_in") == Some(&Value::Bool(true)) {
        return Some(("disable_scale_in", format!("`disable_scale_in` is for target tracking, not a {kind} policy")));
    }
    if a.contains_key("min_adjustment_magnitude")
        && a.get("adjustment_type").and_then(Value::as_str) != Some("PercentChangeInCapacity")
    {
        return Some(("min_adjustment_magnitude", "`min_adjustment_magnitude` is for `adjustment_type: PercentChangeInCapacity`".into()));
    }
    let metric = a.get("metric").and_then(Value::as_str);
    let has_label = a.contains_key("resource_label");
    match (metric, has_label) {
        (Some("ALBRequestCountPerTarget"), false) => Some((
            "metric",
            "ALBRequestCountPerTarget needs `resource_label: \"${load_balancer.X.arn_suffix}/${target_group.Y.arn_suffix}\"`"
                .into(),
        )),
        (Some(metric), true) if metric != "ALBRequestCountPerTarget" => {
            Some(("resource_label", format!("`resource_label` is only for ALBRequestCountPerTarget, not {metric}")))
        }
        _ => None,
    }
}

static STEP: Object = Object {
    check: None,
    other_names: &[],
    attrs: &[
        attr(
            "metric_interval_lower_bound",
            Type::Int,
            Mode::Optional,
            "The step starts this far above the alarm's threshold (negative: below); left out, it has no lower end.",
        ),
        attr(
            "metric_interval_upper_bound",
            Type::Int,
            Mode::Optional,
            "The step ends this far from the threshold; left out, it has no upper end.",
        ),
        attr("scaling_adjustment", Type::Int, Mode::Required, "What the step changes, by `adjustment_type`."),
    ],
};

pub static SCALING_POLICY: Kind = Kind {
    name: "scaling_policy",
    doc: "A scaling policy of an auto scaling group (`aws autoscaling put-scaling-policy`): target tracking, simple or step. For target tracking, `metric`, `target_value`, `resource_label` and `disable_scale_in` are the members of awscli's `--target-tracking-configuration` (the predefined metric's type and label, `TargetValue`, `DisableScaleIn`), one attribute each. A simple or step policy acts when a `metric_alarm` names it in `alarm_actions`. Its id is its ARN.",
    id_prefix: "arn:",
    object: Object {
        check: Some(check_policy),
        other_names: &[
            terraform_and_old("autoscaling_group_name", "auto_scaling_group_name"),
            terraform("target_tracking_configuration", "metric, target_value, resource_label, disable_scale_in"),
        ],
        attrs: &[
            force(default(pattern(len(attr("policy_name", Type::Str, Mode::Optional, "The policy's name within its group."), 1, 255), XML_STRING), Default::StackName)),
            force(attr("auto_scaling_group_name", Type::Ref("autoscaling_group"), Mode::Required, "The group it scales.")),
            default(
                attr(
                    "policy_type",
                    Type::Enum(&["TargetTrackingScaling", "SimpleScaling", "StepScaling"]),
                    Mode::Optional,
                    "Target tracking holds a metric at a value; a simple or step policy changes the group when an alarm fires.",
                ),
                Default::Str("TargetTrackingScaling"),
            ),
            attr(
                "metric",
                Type::Enum(&["ASGAverageCPUUtilization", "ALBRequestCountPerTarget", "ASGAverageNetworkIn", "ASGAverageNetworkOut"]),
                Mode::Optional,
                "Target tracking: the predefined metric to track.",
            ),
            attr("target_value", Type::Int, Mode::Optional, "Target tracking: the value to hold the metric at (percent, requests or bytes)."),
            attr("resource_label", Type::Str, Mode::Optional, "For ALBRequestCountPerTarget: `<load balancer arn_suffix>/<target group arn_suffix>`."),
            default(attr("disable_scale_in", Type::Bool, Mode::Optional, "Target tracking: only ever scale out."), Default::Bool(false)),
            attr(
                "adjustment_type",
                Type::Enum(&["ChangeInCapacity", "ExactCapacity", "PercentChangeInCapacity"]),
                Mode::Optional,
                "Simple and step: what `scaling_adjustment` means (instances more or fewer, a size, or a percentage).",
            ),
            attr("scaling_adjustment", Type::Int, Mode::Optional, "Simple: the change, e.g. `1` or `-1`."),
            attr(
                "cooldown",
                Type::Int,
                Mode::OptionalComputed,
                "Simple: seconds after a change before another; left out, the group's default cooldown.",
            ),
            attr(
                "min_adjustment_magnitude",
                Type::Int,
                Mode::Optional,
                "For `PercentChangeInCapacity`: the fewest instances a change adds or removes.",
            ),
            attr(
                "step_adjustments",
                Type::List(&Type::Object(&STEP)),
                Mode::Optional,
                "Step: the changes by how far the metric is past the alarm's threshold.",
            ),
            attr(
                "metric_aggregation_type",
                Type::Enum(&["Minimum", "Maximum", "Average"]),
                Mode::OptionalComputed,
                "Step: how the metric's data points are aggregated (AWS's default: `Average`).",
            ),
            attr(
                "estimated_instance_warmup",
                Type::Int,
                Mode::OptionalComputed,
                "Target tracking and step: seconds before a new instance's metrics count.",
            ),
            ID,
            PROTECT,
        ],
    },
    terraform_types: &[tf("aws_autoscaling_policy")],
    create_call: Some(("autoscaling", "PutScalingPolicy")),
    ..BASE
};
