//! The schema of `autoscaling_group`; its AWS side is `trellis-aws/src/kinds/autoscaling_group.rs`.

use super::{attr, default, force, local, note, terraform, terraform_and_old, valid, BASE, GENERATED_NAME, ID, PROTECT, tf, tf_part, len, pattern, XML_STRING};
use crate::schema::{AddressNeeds, Default, Kind, Mode, Object, RolloutRules, Type};
use crate::{Attrs, Value};

/// AWS's notification types of a group's scaling.
const NOTIFICATION_TYPES: &[&str] = &[
    "autoscaling:EC2_INSTANCE_LAUNCH",
    "autoscaling:EC2_INSTANCE_LAUNCH_ERROR",
    "autoscaling:EC2_INSTANCE_TERMINATE",
    "autoscaling:EC2_INSTANCE_TERMINATE_ERROR",
    "autoscaling:TEST_NOTIFICATION",
];

static NOTIFICATION: Object = Object {
    check: Some(check_notification),
    other_names: &[],
    attrs: &[
        attr("topic_arn", Type::Str, Mode::Required, "The SNS topic: `${sns_topic.NAME}`, or the ARN of one made elsewhere."),
        attr("notification_types", Type::Set(&Type::Enum(NOTIFICATION_TYPES)), Mode::Required, "What the topic is told of."),
    ],
};

fn check_notification(a: &Attrs) -> Option<(&'static str, String)> {
    match a.get("notification_types") {
        Some(Value::List(l)) if l.is_empty() => Some(("notification_types", "name one notification type or more".into())),
        _ => None,
    }
}

/// One action of `put-scheduled-update-group-action`: the sizes the group takes at a
/// time or on a schedule.
static SCHEDULED_ACTION: Object = Object {
    check: Some(check_scheduled_action),
    other_names: &[],
    attrs: &[
        attr("scheduled_action_name", Type::Str, Mode::Required, "`--scheduled-action-name`, unique in the group."),
        attr("recurrence", Type::Str, Mode::Optional, "`--recurrence`: a cron expression (`0 22 * * MON-FRI`), in `time_zone`."),
        attr("start_time", Type::Str, Mode::Optional, "`--start-time`: when it first runs (ISO 8601, UTC)."),
        attr("end_time", Type::Str, Mode::Optional, "`--end-time`: when a recurring one stops."),
        attr("time_zone", Type::Str, Mode::Optional, "`--time-zone` of the recurrence (`Europe/Paris`); left out, UTC."),
        attr("min_size", Type::Int, Mode::Optional, "`--min-size` it sets."),
        attr("max_size", Type::Int, Mode::Optional, "`--max-size` it sets."),
        attr("desired_capacity", Type::Int, Mode::Optional, "`--desired-capacity` it sets."),
    ],
};

fn check_scheduled_action(a: &Attrs) -> Option<(&'static str, String)> {
    if !["min_size", "max_size", "desired_capacity"].iter().any(|k| a.contains_key(*k)) {
        return Some(("scheduled_action_name", "a scheduled action sets `min_size`, `max_size` or `desired_capacity`".into()));
    }
    (!a.contains_key("recurrence") && !a.contains_key("start_time"))
        .then(|| ("scheduled_action_name", "a scheduled action runs at a `start_time` or on a `recurrence`".into()))
}

/// `put-warm-pool`: instances kept ready (stopped, running or hibernated) for the
/// group to take when it scales out.
static WARM_POOL: Object = Object {
    check: None,
    other_names: &[],
    attrs: &[
        default(attr("min_size", Type::Int, Mode::Optional, "`--min-size`: instances always in the pool."), Default::Int(0)),
        attr(
            "max_group_prepared_capacity",
            Type::Int,
            Mode::Optional,
            "`--max-group-prepared-capacity`: the group's and the pool's instances together; left out, the group's `max_size`.",
        ),
        default(
            attr("pool_state", Type::Enum(&["Stopped", "Running", "Hibernated"]), Mode::Optional, "`--pool-state`."),
            Default::Str("Stopped"),
        ),
        default(
            attr(
                "reuse_on_scale_in",
                Type::Bool,
                Mode::Optional,
                "`--instance-reuse-policy ReuseOnScaleIn`: instances the group scales in go back to the pool.",
            ),
            Default::Bool(false),
        ),
    ],
};

/// AWS's bounds for `MaxInstanceLifetime`: a day to a year, or 0 for none.
fn lifetime(v: &crate::Value) -> Option<String> {
    let n = v.as_int()?;
    (n != 0 && !(86_400..=31_536_000).contains(&n))
        .then(|| format!("AWS takes 0 (never) or 86400 to 31536000 seconds (a day to a year), not {n}"))
}

/// The policies AWS knows for choosing instances to end (`TerminationPolicies`).
const TERMINATION_POLICIES: &[&str] = &[
    "Default",
    "AllocationStrategy",
    "OldestLaunchTemplate",
    "OldestLaunchConfiguration",
    "ClosestToNextInstanceHour",
    "NewestInstance",
    "OldestInstance",
];

/// The group metrics `enable-metrics-collection` takes.
const GROUP_METRICS: &[&str] = &[
    "GroupMinSize",
    "GroupMaxSize",
    "GroupDesiredCapacity",
    "GroupInServiceInstances",
    "GroupPendingInstances",
    "GroupStandbyInstances",
    "GroupTerminatingInstances",
    "GroupTotalInstances",
    "GroupInServiceCapacity",
    "GroupPendingCapacity",
    "GroupStandbyCapacity",
    "GroupTerminatingCapacity",
    "GroupTotalCapacity",
    "WarmPoolDesiredCapacity",
    "WarmPoolWarmedCapacity",
    "WarmPoolPendingCapacity",
    "WarmPoolTerminatingCapacity",
    "WarmPoolTotalCapacity",
    "GroupAndWarmPoolDesiredCapacity",
    "GroupAndWarmPoolTotalCapacity",
];

pub static AUTOSCALING_GROUP: Kind = Kind {
    name: "autoscaling_group",
    doc: "An auto scaling group launching from a launch template (`aws autoscaling create-auto-scaling-group`). Create waits until `desired_capacity` (or `min_size`) instances are InService. `launch_template_id` and `launch_template_version` are awscli's `--launch-template LaunchTemplateId=...,Version=...`, one attribute each. Its id is its name.",
    id_prefix: "",
    generated_name: Some("auto_scaling_group_name"),
    rollout: Some(&ROLLOUT),
    object: Object {
        check: Some(check_sizes),
        other_names: &[
            terraform_and_old("name", "auto_scaling_group_name"),
            terraform("launch_template", "launch_template_id, launch_template_version"),
        ],
        attrs: &[
            force(pattern(len(attr("auto_scaling_group_name", Type::Str, Mode::OptionalComputed, GENERATED_NAME), 1, 255), XML_STRING)),
            attr("launch_template_id", Type::Ref("launch_template"), Mode::Required, "The launch template."),
            note(
                default(
                    attr(
                        "launch_template_version",
                        Type::Version,
                        Mode::Optional,
                        "The template version instances launch from: a number, or `$Default` or `$Latest`, which AWS resolves at each launch. Read back as the oldest version a running instance still has, so an instance refresh cut short shows as a change and the next apply finishes it.",
                    ),
                    Default::RefAttr { via: "launch_template_id", attr: "latest_version" },
                ),
                "instance refresh: running instances are replaced by instances of the new version",
            ),
            attr("min_size", Type::Int, Mode::Required, "Fewest instances."),
            attr("max_size", Type::Int, Mode::Required, "Most instances."),
            attr(
                "desired_capacity",
                Type::Int,
                Mode::OptionalComputed,
                "Instances wanted now. Left out, it starts at `min_size` and is left to scaling policies afterwards.",
            ),
            attr("vpc_zone_identifier", Type::Set(&Type::Ref("subnet")), Mode::Required, "The subnets to launch into."),
            default(
                attr("target_group_arns", Type::Set(&Type::Ref("target_group")), Mode::Optional, "Target groups its instances join."),
                Default::EmptyList,
            ),
            default(attr("health_check_type", Type::Enum(&["EC2", "ELB"]), Mode::Optional, "`ELB` also replaces instances the target group finds unhealthy."), Default::Str("EC2")),
            default(attr("health_check_grace_period", Type::Int, Mode::Optional, "Seconds after launch before health checks count."), Default::Int(300)),
            default(
                attr(
                    "capacity_rebalance",
                    Type::Bool,
                    Mode::Optional,
                    "`--capacity-rebalance`: replace a Spot instance AWS warns is at risk before it is interrupted.",
                ),
                Default::Bool(false),
            ),
            default(
                valid(
                    attr(
                        "max_instance_lifetime",
                        Type::Int,
                        Mode::Optional,
                        "`--max-instance-lifetime`: seconds after which an instance is replaced (86400 to 31536000); 0, never.",
                    ),
                    lifetime,
                ),
                Default::Int(0),
            ),
            len(
                attr(
                    "termination_policies",
                    Type::List(&Type::Enum(TERMINATION_POLICIES)),
                    Mode::OptionalComputed,
                    "`--termination-policies`: which instances a scale-in ends first, in order; AWS's default `[Default]`.",
                ),
                1,
                7,
            ),
            attr(
                "default_instance_warmup",
                Type::Int,
                Mode::Optional,
                "`--default-instance-warmup`: seconds before a new instance's metrics count for scaling.",
            ),
            default(
                attr(
                    "scheduled_actions",
                    Type::Set(&Type::Object(&SCHEDULED_ACTION)),
                    Mode::Optional,
                    "Sizes the group takes on a schedule (`put-scheduled-update-group-action`, each). A group with an action that sets `desired_capacity` leaves its own `desired_capacity` out, so what the schedule sets is never drift; an action that sets `min_size` or `max_size` wants them in the group's `ignore_changes`. A recurring action's start time is not read back (AWS reports its next run).",
                ),
                Default::EmptyList,
            ),
            attr(
                "warm_pool",
                Type::Object(&WARM_POOL),
                Mode::Optional,
                "A pool of pre-initialized instances (`put-warm-pool`); removed (`delete-warm-pool`) when left out. Its instances are not the group's capacity: `desired_capacity` counts InService ones only.",
            ),
            default(
                attr(
                    "enabled_metrics",
                    Type::Set(&Type::Enum(GROUP_METRICS)),
                    Mode::Optional,
                    "The group metrics sent to CloudWatch each minute (`enable-metrics-collection --granularity 1Minute`).",
                ),
                Default::EmptyList,
            ),
            default(
                attr(
                    "notification_configurations",
                    Type::Set(&Type::Object(&NOTIFICATION)),
                    Mode::Optional,
                    "SNS topics told of the group's launches and terminations (`put-notification-configuration`), each `topic_arn` with its `notification_types`.",
                ),
                Default::EmptyList,
            ),
            attr("tags", Type::Map, Mode::Optional, "Tags, also put on the instances it launches. `Name` defaults to `<stack>-<name>`."),
            default(local(attr("min_healthy_percentage", Type::Int, Mode::Optional, "Rollout: the share of `desired_capacity` kept healthy while instances are replaced (awscli's `start-instance-refresh --preferences MinHealthyPercentage`). 100 keeps full capacity serving.")), Default::Int(100)),
            default(local(attr("max_healthy_percentage", Type::Int, Mode::Optional, "Rollout: the share of `desired_capacity` that may run at once (`MaxHealthyPercentage`, 100 to 200, at most 100 above the minimum). Above 100, new instances are launched before old ones are terminated, at least one at a time: a group of one is never taken to zero.")), Default::Int(110)),
            local(attr("instance_warmup", Type::Int, Mode::Optional, "Rollout: seconds a new instance is given before its health counts (`InstanceWarmup`). Left out, the group's `health_check_grace_period`.")),
            default(local(attr("checkpoint_percentages", Type::List(&Type::Int), Mode::Optional, "Rollout: percentages of instances replaced at which the rollout pauses for `checkpoint_delay` (`CheckpointPercentages`), ascending, the last at most 100.")), Default::EmptyList),
            local(attr("checkpoint_delay", Type::Int, Mode::Optional, "Rollout: seconds to wait at each checkpoint (`CheckpointDelay`); left out, AWS's 3600.")),
            default(local(attr("skip_matching", Type::Bool, Mode::Optional, "Rollout: leave instances that already run the new configuration alone (`SkipMatching`), so a rollout cut short resumes where it stopped.")), Default::Bool(true)),
            default(local(attr("auto_rollback", Type::Bool, Mode::Optional, "Rollout: on failure, replace the new instances with the previous configuration again (`AutoRollback`). Off, a failed rollout stops where it is.")), Default::Bool(true)),
            default(local(attr("bake_time", Type::Int, Mode::Optional, "Rollout: seconds after the last batch during which an alarm in ALARM still rolls everything back (`BakeTime`).")), Default::Int(0)),
            default(local(attr("alarms", Type::Set(&Type::Ref("metric_alarm")), Mode::Optional, "Rollout: CloudWatch alarms whose ALARM state stops the rollout and rolls it back (`AlarmSpecification.Alarms`), during the batches and the bake time: `${metric_alarm.NAME}`, or the name of one made elsewhere.")), Default::EmptyList),
            ID,
            PROTECT,
        ],
    },
    addresses: Some(AddressNeeds { count: Some("max_size"), subnets: "vpc_zone_identifier", instance_type: None, instance_type_via: Some(("launch_template_id", "instance_type")) }),
    terraform_types: &[tf("aws_autoscaling_group"), tf_part("aws_autoscaling_attachment", "target_group_arns"), tf_part("aws_autoscaling_notification", "notification_configurations"), tf_part("aws_autoscaling_schedule", "scheduled_actions")],
    create_call: Some(("autoscaling", "CreateAutoScalingGroup")),
    ..BASE
};

/// A group's rollout is AWS's instance refresh, gated by the target groups' health.
static ROLLOUT: RolloutRules = RolloutRules {
    noun: "instance",
    triggers: &["launch_template_id", "launch_template_version"],
    version: "launch_template_version",
    version_noun: "launch template version",
    capacity: "desired_capacity",
    min_capacity: "min_size",
    health_from: "target_group_arns",
    min_healthy: "min_healthy_percentage",
    max_healthy: "max_healthy_percentage",
    warmup: "instance_warmup",
    warmup_default: "health_check_grace_period",
    checkpoints: "checkpoint_percentages",
    checkpoint_delay: "checkpoint_delay",
    bake_time: "bake_time",
    alarms: "alarms",
    auto_rollback: "auto_rollback",
    skip_matching: "skip_matching",
};

fn check_sizes(a: &Attrs) -> Option<(&'static str, String)> {
    let get = |k| a.get(k).and_then(Value::as_int);
    if let Some(problem) = check_rollout(a).or_else(|| check_topics(a)) {
        return Some(problem);
    }
    let schedules_capacity = a.get("scheduled_actions").map(Value::as_list).unwrap_or_default().iter().any(|s| {
        s.as_map().is_some_and(|m| m.contains_key("desired_capacity"))
    });
    if schedules_capacity && a.contains_key("desired_capacity") {
        return Some((
            "desired_capacity",
            "a scheduled action sets the group's desired capacity: leave `desired_capacity` out, or every schedule would be drift".into(),
        ));
    }
    let (min, max) = (get("min_size")?, get("max_size")?);
    if min > max {
        return Some(("min_size", format!("min_size {min} is above max_size {max}")));
    }
    match get("desired_capacity") {
        Some(d) if d < min || d > max => {
            Some(("desired_capacity", format!("desired_capacity {d} is outside {min}..={max}")))
        }
        _ => None,
    }
}

/// A topic is named once: AWS keeps one set of notification types per topic.
fn check_topics(a: &Attrs) -> Option<(&'static str, String)> {
    let Some(Value::List(list)) = a.get("notification_configurations") else { return None };
    let mut seen = std::collections::BTreeSet::new();
    let topics = list.iter().filter_map(|n| n.as_map()?.get("topic_arn")?.as_str());
    for topic in topics {
        if !seen.insert(topic) {
            return Some((
                "notification_configurations",
                format!("topic {topic} is named twice: give it once, with all its notification types"),
            ));
        }
    }
    None
}

/// The bounds AWS puts on a refresh's preferences, checked when the spec is loaded
/// rather than when the refresh is started half-way through an apply.
fn check_rollout(a: &Attrs) -> Option<(&'static str, String)> {
    let get = |k| a.get(k).and_then(Value::as_int);
    let (min, max) = (get("min_healthy_percentage").unwrap_or(100), get("max_healthy_percentage").unwrap_or(110));
    if !(0..=100).contains(&min) {
        return Some(("min_healthy_percentage", format!("min_healthy_percentage {min} is outside 0..=100")));
    }
    if !(100..=200).contains(&max) {
        return Some(("max_healthy_percentage", format!("max_healthy_percentage {max} is outside 100..=200")));
    }
    if max - min > 100 {
        return Some((
            "max_healthy_percentage",
            format!("max_healthy_percentage {max} is more than 100 above min_healthy_percentage {min}"),
        ));
    }
    if min == 100 && max == 100 {
        return Some(("max_healthy_percentage", "with min_healthy_percentage 100, max_healthy_percentage must be above 100, or no instance could ever be replaced".into()));
    }
    for k in ["instance_warmup", "checkpoint_delay", "bake_time"] {
        if let Some(v) = get(k).filter(|v| *v < 0) {
            return Some((k, format!("{k} {v} is negative")));
        }
    }
    if let Some(points) = a.get("checkpoint_percentages") {
        let points: Vec<i64> = points.as_list().iter().filter_map(Value::as_int).collect();
        if points.windows(2).any(|w| w[0] >= w[1]) || points.iter().any(|p| !(1..=100).contains(p)) {
            return Some((
                "checkpoint_percentages",
                format!("checkpoint_percentages {points:?} must rise, each within 1..=100"),
            ));
        }
    }
    None
}
