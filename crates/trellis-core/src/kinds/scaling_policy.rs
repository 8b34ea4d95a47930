//! The schema of `scaling_policy`; its AWS side is `trellis-aws/src/kinds/scaling_policy.rs`.

use super::{attr, default, force, terraform, terraform_and_old, BASE, ID, PROTECT};
use crate::schema::{Default, Kind, Mode, Object, Type};
use crate::{Attrs, Value};

fn check_policy(a: &Attrs) -> Option<(&'static str, String)> {
    let metric = a.get("metric").and_then(Value::as_str)?;
    let has_label = a.contains_key("resource_label");
    match (metric == "ALBRequestCountPerTarget", has_label) {
        (true, false) => Some((
            "metric",
            "ALBRequestCountPerTarget needs `resource_label: \"${load_balancer.X.arn_suffix}/${target_group.Y.arn_suffix}\"`"
                .into(),
        )),
        (false, true) => Some(("resource_label", format!("`resource_label` is only for ALBRequestCountPerTarget, not {metric}"))),
        _ => None,
    }
}

pub static SCALING_POLICY: Kind = Kind {
    name: "scaling_policy",
    doc: "A target-tracking scaling policy of an auto scaling group (`aws autoscaling put-scaling-policy`). `metric`, `target_value`, `resource_label` and `disable_scale_in` are the members of awscli's `--target-tracking-configuration` (the predefined metric's type and label, `TargetValue`, `DisableScaleIn`), one attribute each. Its id is its ARN.",
    id_prefix: "arn:",
    object: Object {
        check: Some(check_policy),
        other_names: &[
            terraform_and_old("autoscaling_group_name", "auto_scaling_group_name"),
            terraform("target_tracking_configuration", "metric, target_value, resource_label, disable_scale_in"),
        ],
        attrs: &[
            force(default(attr("policy_name", Type::Str, Mode::Optional, "The policy's name within its group."), Default::StackName)),
            force(attr("auto_scaling_group_name", Type::Ref("autoscaling_group"), Mode::Required, "The group it scales.")),
            attr(
                "metric",
                Type::Enum(&["ASGAverageCPUUtilization", "ALBRequestCountPerTarget", "ASGAverageNetworkIn", "ASGAverageNetworkOut"]),
                Mode::Required,
                "The predefined metric to track.",
            ),
            attr("target_value", Type::Int, Mode::Required, "The value to hold the metric at (percent, requests or bytes)."),
            attr("resource_label", Type::Str, Mode::Optional, "For ALBRequestCountPerTarget: `<load balancer arn_suffix>/<target group arn_suffix>`."),
            default(attr("disable_scale_in", Type::Bool, Mode::Optional, "Only ever scale out."), Default::Bool(false)),
            ID,
            PROTECT,
        ],
    },
    ..BASE
};
