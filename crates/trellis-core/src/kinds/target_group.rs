//! The schema of `target_group`; its AWS side is `trellis-aws/src/kinds/target_group.rs`.

use super::{attr, default, force, limit, BASE, GENERATED_NAME, ID, PROTECT, TAGS, tf, len, range};
use crate::schema::{Default, Kind, Mode, Object, OtherName, Type};
use crate::{Attrs, Value};

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

/// `app_cookie` stickiness names the application's cookie; AWS refuses it without one.
fn check_target_group(a: &Attrs) -> Option<(&'static str, String)> {
    let app_cookie = a.get("stickiness_type").and_then(Value::as_str) == Some("app_cookie");
    let named = a.contains_key("stickiness_app_cookie_cookie_name");
    match (app_cookie, named) {
        (true, false) => Some((
            "stickiness_type",
            "`app_cookie` stickiness needs `stickiness_app_cookie_cookie_name`, the application's cookie".into(),
        )),
        (false, true) => Some((
            "stickiness_app_cookie_cookie_name",
            "the cookie's name is only for `stickiness_type: app_cookie`".into(),
        )),
        _ => None,
    }
}

pub static TARGET_GROUP: Kind = Kind {
    name: "target_group",
    doc: "A target group of an application load balancer (`aws elbv2 create-target-group`). Its id is its ARN.",
    id_prefix: "arn:",
    generated_name: Some("name"),
    upgrade: Some(upgrade_target_group),
    object: Object {
        check: Some(check_target_group),
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
            force(range(attr("port", Type::Int, Mode::Required, "Port the targets listen on."), 1, 65535)),
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
            len(attr("health_check_path", Type::Str, Mode::OptionalComputed, "The HTTP path probed."), 1, 1024),
            range(attr(
                "health_check_interval_seconds",
                Type::Int,
                Mode::OptionalComputed,
                "Seconds between probes (5 to 300).",
            ), 5, 300),
            range(attr(
                "health_check_timeout_seconds",
                Type::Int,
                Mode::OptionalComputed,
                "Seconds before a probe counts as failed.",
            ), 2, 120),
            range(attr(
                "healthy_threshold_count",
                Type::Int,
                Mode::OptionalComputed,
                "Successes before a target is healthy.",
            ), 2, 10),
            range(attr(
                "unhealthy_threshold_count",
                Type::Int,
                Mode::OptionalComputed,
                "Failures before a target is unhealthy.",
            ), 2, 10),
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
            attr(
                "stickiness_enabled",
                Type::Bool,
                Mode::OptionalComputed,
                "Whether a client keeps to one target (attribute `stickiness.enabled`). Each attribute below, like the health check settings, keeps AWS's value when left out; one given is set with `modify-target-group-attributes`.",
            ),
            attr(
                "stickiness_type",
                Type::Enum(&["lb_cookie", "app_cookie"]),
                Mode::OptionalComputed,
                "`lb_cookie` (the load balancer's cookie) or `app_cookie` (the application's; `stickiness.type`).",
            ),
            attr(
                "stickiness_lb_cookie_duration_seconds",
                Type::Int,
                Mode::OptionalComputed,
                "How long the load balancer's cookie holds a client, 1 to 604800 s (`stickiness.lb_cookie.duration_seconds`).",
            ),
            attr(
                "stickiness_app_cookie_cookie_name",
                Type::Str,
                Mode::OptionalComputed,
                "For `app_cookie`: the application's cookie (`stickiness.app_cookie.cookie_name`).",
            ),
            attr(
                "slow_start_duration_seconds",
                Type::Int,
                Mode::OptionalComputed,
                "Seconds a new target's share of requests ramps up, 30 to 900, or 0 for none (`slow_start.duration_seconds`).",
            ),
            attr(
                "load_balancing_algorithm_type",
                Type::Enum(&["round_robin", "least_outstanding_requests", "weighted_random"]),
                Mode::OptionalComputed,
                "How requests are spread over the targets (`load_balancing.algorithm.type`; AWS's default: `round_robin`). Changed in place.",
            ),
            attr(
                "load_balancing_cross_zone_enabled",
                Type::Enum(&["true", "false", "use_load_balancer_configuration"]),
                Mode::OptionalComputed,
                "Whether targets in every zone share each zone's requests (`load_balancing.cross_zone.enabled`; AWS's default: as the load balancer says). Changed in place.",
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
    terraform_types: &[tf("aws_lb_target_group"), tf("aws_alb_target_group")],
    create_call: Some(("elbv2", "CreateTargetGroup")),
    ..BASE
};
