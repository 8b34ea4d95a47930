//! The load-balancing layer: launch templates, target groups, application load
//! balancers and their listeners, auto scaling groups and their policies, fixed
//! instances and their registration in a target group.

use super::{attr, default, file_of, force, limit, local, note, old, terraform, terraform_and_old, ID, PROTECT, TAGS};
use crate::schema::{Default, Kind, Mode, Object, OtherName, RolloutRules, Type};
use crate::{Attrs, Value};

const GENERATED_NAME: &str =
    "The AWS name. Left out, trellis generates `<stack>-<name>` (with a suffix when a replacement needs a second name), so a replacement can be created before the old object goes.";

static INSTANCE_TAGS_DOC: &str = "Tags for the instances launched from this template.";

pub static LAUNCH_TEMPLATE: Kind = Kind {
    name: "launch_template",
    doc: "A launch template (`create-launch-template`). Versions are immutable: any change to its launch data creates version N+1 (`create-launch-template-version`) and makes it the default; the template itself is kept. The members of awscli's `--launch-template-data` (`ImageId`, `InstanceType`, `KeyName`, `SecurityGroupIds`, `IamInstanceProfile`, `UserData`) are attributes of their own, and `instance_tags` is its tag specification for instances.",
    id_prefix: "lt-",
    versioned: Some("latest_version"),
    generated_name: Some("launch_template_name"),
    holds_data: None,
    restart: None,
    ref_checks: &[],
    update_note: None,
    upgrade: None,
    rollout: None,
    new_first: false,
    object: Object {
        check: None,
        other_names: &[terraform("name", "launch_template_name"), terraform("vpc_security_group_ids", "security_group_ids")],
        attrs: &[
            force(limit(attr("launch_template_name", Type::Str, Mode::OptionalComputed, GENERATED_NAME), 128)),
            attr("image_id", Type::Str, Mode::Required, "The AMI, e.g. `ami-0abcdef1234567890`."),
            attr("instance_type", Type::Str, Mode::Required, "E.g. `t3.micro`."),
            attr("key_name", Type::Ref("key_pair"), Mode::Optional, "The EC2 key pair for SSH: `${key_pair.NAME}`, or the name of one made elsewhere."),
            default(
                attr("security_group_ids", Type::Set(&Type::Ref("security_group")), Mode::Optional, "Security groups of launched instances."),
                Default::EmptyList,
            ),
            attr(
                "iam_instance_profile",
                Type::Ref("iam_instance_profile"),
                Mode::Optional,
                "The role launched instances take: `${iam_instance_profile.NAME}` (`IamInstanceProfile.Name`).",
            ),
            attr(
                "user_data",
                Type::Str,
                Mode::Optional,
                "The boot script, as text; trellis base64-encodes it. Or give `user_data_file`.",
            ),
            file_of(
                attr(
                    "user_data_file",
                    Type::Str,
                    Mode::Optional,
                    "A file holding the boot script, relative to the spec; read when the spec is loaded, so an edit of the file shows in the plan as a change of `user_data` (with its SHA-256).",
                ),
                "user_data",
            ),
            default(attr("instance_tags", Type::Map, Mode::Optional, INSTANCE_TAGS_DOC), Default::EmptyMap),
            TAGS,
            attr("latest_version", Type::Int, Mode::Computed, "The newest version's number."),
            ID,
            PROTECT,
        ],
    },
};

/// Each member of an earlier trellis's `health_check` mapping, and the attribute it is now.
const HEALTH_CHECK_WAS: [(&str, &str); 8] = [
    ("protocol", "health_check_protocol"),
    ("port", "health_check_port"),
    ("path", "health_check_path"),
    ("interval", "health_check_interval_seconds"),
    ("timeout", "health_check_timeout_seconds"),
    ("healthy_threshold", "healthy_threshold_count"),
    ("unhealthy_threshold", "unhealthy_threshold_count"),
    ("matcher", "matcher"),
];

/// A state written when the health check was one mapping: each member its attribute.
fn upgrade_target_group(attrs: &mut Attrs) {
    let Some(Value::Map(hc)) = attrs.remove("health_check") else { return };
    for (was, is) in HEALTH_CHECK_WAS {
        if let Some(v) = hc.get(was) {
            attrs.entry(is.to_string()).or_insert_with(|| v.clone());
        }
    }
}

pub static TARGET_GROUP: Kind = Kind {
    name: "target_group",
    doc: "A target group of an application load balancer (`aws elbv2 create-target-group`). Its id is its ARN.",
    id_prefix: "arn:",
    versioned: None,
    generated_name: Some("name"),
    holds_data: None,
    restart: None,
    ref_checks: &[],
    update_note: None,
    upgrade: Some(upgrade_target_group),
    rollout: None,
    new_first: false,
    object: Object {
        check: None,
        other_names: &[OtherName {
            name: "health_check",
            is: "health_check_protocol, health_check_port, health_check_path, health_check_interval_seconds, health_check_timeout_seconds, healthy_threshold_count, unhealthy_threshold_count, matcher",
            whose: "Terraform's (and an earlier trellis's)",
            in_old_states: false,
        }],
        attrs: &[
            force(limit(attr("name", Type::Str, Mode::OptionalComputed, GENERATED_NAME), 32)),
            force(default(
                attr("protocol", Type::Enum(&["HTTP", "HTTPS"]), Mode::Optional, "Protocol to the targets."),
                Default::Str("HTTP"),
            )),
            force(attr("port", Type::Int, Mode::Required, "Port the targets listen on.")),
            force(attr("vpc_id", Type::Ref("vpc"), Mode::Required, "The VPC of the targets.")),
            force(default(
                attr("target_type", Type::Enum(&["instance", "ip"]), Mode::Optional, "What is registered."),
                Default::Str("instance"),
            )),
            attr(
                "health_check_protocol",
                Type::Enum(&["HTTP", "HTTPS"]),
                Mode::OptionalComputed,
                "The probe's protocol. Each health check setting left out keeps AWS's value (HTTP, `traffic-port`, `/`, 30 s, 5 s, 5, 2, 200); one given is changed in place (`modify-target-group`).",
            ),
            attr(
                "health_check_port",
                Type::Str,
                Mode::OptionalComputed,
                "A port number, or `traffic-port` for the target's own port.",
            ),
            attr("health_check_path", Type::Str, Mode::OptionalComputed, "The HTTP path probed."),
            attr(
                "health_check_interval_seconds",
                Type::Int,
                Mode::OptionalComputed,
                "Seconds between probes (5 to 300).",
            ),
            attr(
                "health_check_timeout_seconds",
                Type::Int,
                Mode::OptionalComputed,
                "Seconds before a probe counts as failed.",
            ),
            attr(
                "healthy_threshold_count",
                Type::Int,
                Mode::OptionalComputed,
                "Successes before a target is healthy.",
            ),
            attr(
                "unhealthy_threshold_count",
                Type::Int,
                Mode::OptionalComputed,
                "Failures before a target is unhealthy.",
            ),
            attr(
                "matcher",
                Type::Str,
                Mode::OptionalComputed,
                "HTTP codes that count as healthy, e.g. `200` or `200-299` (awscli's `--matcher HttpCode=...`, given as the code).",
            ),
            default(
                attr(
                    "deregistration_delay",
                    Type::Int,
                    Mode::Optional,
                    "Seconds a leaving target keeps its connections (`modify-target-group-attributes`).",
                ),
                Default::Int(300),
            ),
            TAGS,
            attr(
                "arn_suffix",
                Type::Str,
                Mode::Computed,
                "`targetgroup/<name>/<hash>`, for CloudWatch and `ALBRequestCountPerTarget`.",
            ),
            ID,
            PROTECT,
        ],
    },
};

pub static LOAD_BALANCER: Kind = Kind {
    name: "load_balancer",
    doc: "An application load balancer (`aws elbv2 create-load-balancer --type application`). Create and update wait until it is `active`. Its id is its ARN.",
    id_prefix: "arn:",
    versioned: None,
    generated_name: Some("name"),
    holds_data: None,
    restart: None,
    ref_checks: &[],
    update_note: None,
    upgrade: None,
    rollout: None,
    new_first: false,
    object: Object {
        check: None,
        other_names: &[old("subnet_ids", "subnets"), old("security_group_ids", "security_groups")],
        attrs: &[
            force(limit(attr("name", Type::Str, Mode::OptionalComputed, GENERATED_NAME), 32)),
            force(default(
                attr("scheme", Type::Enum(&["internet-facing", "internal"]), Mode::Optional, "Reachable from the internet, or only inside the VPC."),
                Default::Str("internet-facing"),
            )),
            attr("subnets", Type::Set(&Type::Ref("subnet")), Mode::Required, "Subnets in at least two zones (`set-subnets`)."),
            attr(
                "security_groups",
                Type::Set(&Type::Ref("security_group")),
                Mode::OptionalComputed,
                "Security groups (`set-security-groups`); left out, AWS gives it the VPC's default group.",
            ),
            default(attr("idle_timeout", Type::Int, Mode::Optional, "Seconds an idle connection stays open (the `idle_timeout.timeout_seconds` attribute, `modify-load-balancer-attributes`)."), Default::Int(60)),
            default(
                attr("deletion_protection", Type::Bool, Mode::Optional, "Refuse deletion until turned off (trellis will not turn it off for you)."),
                Default::Bool(false),
            ),
            TAGS,
            attr("dns_name", Type::Str, Mode::Computed, "The public DNS name: put `http://${load_balancer.NAME.dns_name}` in `outputs`."),
            attr("arn_suffix", Type::Str, Mode::Computed, "`app/<name>/<hash>`, for CloudWatch and `ALBRequestCountPerTarget`."),
            ID,
            PROTECT,
        ],
    },
};

fn check_action(a: &Attrs) -> Option<(&'static str, String)> {
    let needs = match a.get("type").and_then(Value::as_str) {
        Some("forward") => "target_group_arn",
        Some("fixed-response") => "fixed_response_config",
        Some("redirect") => "redirect_config",
        _ => return None,
    };
    let given: Vec<&str> = ["target_group_arn", "fixed_response_config", "redirect_config"]
        .into_iter()
        .filter(|k| a.contains_key(*k))
        .collect();
    (given != [needs]).then(|| {
        (
            "type",
            format!("a `{}` action takes `{needs}` (and nothing of the other types)", a["type"].as_str().unwrap_or("")),
        )
    })
}

static FIXED_RESPONSE: Object = Object {
    check: None,
    other_names: &[],
    attrs: &[
        attr("status_code", Type::Str, Mode::Required, "E.g. `\"404\"`."),
        default(attr("content_type", Type::Str, Mode::Optional, "E.g. `text/plain`."), Default::Str("text/plain")),
        attr("message_body", Type::Str, Mode::Optional, "The body."),
    ],
};

static REDIRECT: Object = Object {
    check: None,
    other_names: &[],
    attrs: &[
        default(
            attr("protocol", Type::Str, Mode::Optional, "`HTTP`, `HTTPS` or `#{protocol}`."),
            Default::Str("#{protocol}"),
        ),
        default(attr("port", Type::Str, Mode::Optional, "A port or `#{port}`."), Default::Str("#{port}")),
        default(attr("host", Type::Str, Mode::Optional, "A host or `#{host}`."), Default::Str("#{host}")),
        default(attr("path", Type::Str, Mode::Optional, "A path or `/#{path}`."), Default::Str("/#{path}")),
        default(attr("query", Type::Str, Mode::Optional, "A query or `#{query}`."), Default::Str("#{query}")),
        attr("status_code", Type::Enum(&["HTTP_301", "HTTP_302"]), Mode::Required, "Permanent or temporary."),
    ],
};

static ACTION: Object = Object {
    check: Some(check_action),
    other_names: &[old("fixed_response", "fixed_response_config"), old("redirect", "redirect_config")],
    attrs: &[
        attr("type", Type::Enum(&["forward", "fixed-response", "redirect"]), Mode::Required, "What the listener does."),
        attr("target_group_arn", Type::Ref("target_group"), Mode::Optional, "For `forward`: the target group."),
        attr("fixed_response_config", Type::Object(&FIXED_RESPONSE), Mode::Optional, "For `fixed-response`."),
        attr("redirect_config", Type::Object(&REDIRECT), Mode::Optional, "For `redirect`."),
    ],
};

/// A listener takes one action (AWS adds no second to forward, respond or redirect).
fn check_listener(a: &Attrs) -> Option<(&'static str, String)> {
    match a.get("default_actions") {
        Some(Value::List(l)) if l.len() != 1 => {
            Some(("default_actions", format!("a listener takes one default action here, not {}", l.len())))
        }
        _ => None,
    }
}

/// A state written when the action was one mapping (`default_action`), its config
/// members without `_config`.
fn upgrade_listener(attrs: &mut Attrs) {
    let Some(Value::Map(mut action)) = attrs.remove("default_action") else { return };
    for (was, is) in [("fixed_response", "fixed_response_config"), ("redirect", "redirect_config")] {
        if let Some(v) = action.remove(was) {
            action.insert(is.to_string(), v);
        }
    }
    attrs.entry("default_actions".to_string()).or_insert(Value::List(vec![Value::Map(action)]));
}

pub static LISTENER: Kind = Kind {
    name: "listener",
    doc: "A listener of a load balancer (`aws elbv2 create-listener`). It goes with its load balancer. Its id is its ARN.",
    id_prefix: "arn:",
    versioned: None,
    generated_name: None,
    holds_data: None,
    restart: None,
    ref_checks: &[],
    update_note: None,
    upgrade: Some(upgrade_listener),
    rollout: None,
    new_first: false,
    object: Object {
        check: Some(check_listener),
        // Its states are upgraded by `upgrade_listener`: the mapping becomes a list.
        other_names: &[OtherName {
            name: "default_action",
            is: "default_actions",
            whose: "Terraform's (and an earlier trellis's)",
            in_old_states: false,
        }],
        attrs: &[
            force(attr("load_balancer_arn", Type::Ref("load_balancer"), Mode::Required, "The load balancer.")),
            attr("port", Type::Int, Mode::Required, "The port it listens on."),
            default(attr("protocol", Type::Enum(&["HTTP", "HTTPS"]), Mode::Optional, "The protocol."), Default::Str("HTTP")),
            attr("certificate_arn", Type::Str, Mode::Optional, "For HTTPS: the ACM certificate (awscli's `--certificates CertificateArn=...`, one certificate)."),
            attr(
                "default_actions",
                Type::List(&Type::Object(&ACTION)),
                Mode::Required,
                "One action, as awscli's list: `forward` to a target group, `fixed-response` or `redirect`.",
            ),
            TAGS,
            ID,
            PROTECT,
        ],
    },
};

pub static AUTOSCALING_GROUP: Kind = Kind {
    name: "autoscaling_group",
    doc: "An auto scaling group launching from a launch template (`aws autoscaling create-auto-scaling-group`). Create waits until `desired_capacity` (or `min_size`) instances are InService. `launch_template_id` and `launch_template_version` are awscli's `--launch-template LaunchTemplateId=...,Version=...`, one attribute each. Its id is its name.",
    id_prefix: "",
    versioned: None,
    generated_name: Some("auto_scaling_group_name"),
    holds_data: None,
    restart: None,
    ref_checks: &[],
    update_note: None,
    upgrade: None,
    rollout: Some(&ROLLOUT),
    new_first: false,
    object: Object {
        check: Some(check_sizes),
        other_names: &[
            terraform_and_old("name", "auto_scaling_group_name"),
            terraform("launch_template", "launch_template_id, launch_template_version"),
        ],
        attrs: &[
            force(limit(attr("auto_scaling_group_name", Type::Str, Mode::OptionalComputed, GENERATED_NAME), 255)),
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
    if let Some(problem) = check_rollout(a) {
        return Some(problem);
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
    versioned: None,
    generated_name: None,
    holds_data: None,
    restart: None,
    ref_checks: &[],
    update_note: None,
    upgrade: None,
    rollout: None,
    new_first: false,
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
};

pub static INSTANCE: Kind = Kind {
    name: "instance",
    doc: "One EC2 instance (`aws ec2 run-instances`), for fixed servers. Create waits until it is `running`; delete terminates it and waits until it is `terminated`.",
    id_prefix: "i-",
    versioned: None,
    generated_name: None,
    holds_data: None,
    restart: None,
    ref_checks: &[],
    update_note: None,
    upgrade: None,
    rollout: None,
    new_first: true,
    object: Object {
        check: None,
        other_names: &[terraform("ami", "image_id"), terraform("vpc_security_group_ids", "security_group_ids")],
        attrs: &[
            force(attr("image_id", Type::Str, Mode::Required, "The AMI.")),
            note(
                attr("instance_type", Type::Str, Mode::Required, "E.g. `t3.micro`."),
                "the instance is stopped, changed and started again",
            ),
            force(attr("subnet_id", Type::Ref("subnet"), Mode::Required, "The subnet.")),
            attr(
                "security_group_ids",
                Type::Set(&Type::Ref("security_group")),
                Mode::OptionalComputed,
                "Security groups (`modify-instance-attribute --groups`); left out, AWS gives it the VPC's default group.",
            ),
            force(attr("key_name", Type::Ref("key_pair"), Mode::Optional, "The EC2 key pair for SSH: `${key_pair.NAME}`, or the name of one made elsewhere.")),
            attr(
                "iam_instance_profile",
                Type::Ref("iam_instance_profile"),
                Mode::Optional,
                "The role it takes: `${iam_instance_profile.NAME}` (`--iam-instance-profile Name=...`); changed in place (`associate-iam-instance-profile`, `replace-iam-instance-profile-association`).",
            ),
            force(attr("user_data", Type::Str, Mode::Optional, "The boot script, as text. Or give `user_data_file`.")),
            file_of(
                attr("user_data_file", Type::Str, Mode::Optional, "A file holding the boot script, relative to the spec."),
                "user_data",
            ),
            force(attr(
                "associate_public_ip_address",
                Type::Bool,
                Mode::OptionalComputed,
                "Give it a public address; left out, the subnet's `map_public_ip_on_launch` decides.",
            )),
            TAGS,
            attr("private_ip", Type::Str, Mode::Computed, "Its private IPv4 address."),
            attr("public_ip", Type::Str, Mode::Computed, "Its public IPv4 address, if any."),
            ID,
            PROTECT,
        ],
    },
};

pub static TARGET_GROUP_ATTACHMENT: Kind = Kind {
    name: "target_group_attachment",
    doc: "Registers one instance in a target group (`aws elbv2 register-targets`); `target_id` and `port` are awscli's `--targets Id=...,Port=...`. Its id is `<target group arn>|<instance id>`.",
    id_prefix: "arn:",
    versioned: None,
    generated_name: None,
    holds_data: None,
    restart: None,
    ref_checks: &[],
    update_note: None,
    upgrade: None,
    rollout: None,
    new_first: true,
    object: Object {
        check: None,
        other_names: &[],
        attrs: &[
            force(attr("target_group_arn", Type::Ref("target_group"), Mode::Required, "The target group.")),
            force(attr("target_id", Type::Ref("instance"), Mode::Required, "The instance.")),
            force(attr("port", Type::Int, Mode::OptionalComputed, "The port; left out, the target group's.")),
            ID,
            PROTECT,
        ],
    },
};
