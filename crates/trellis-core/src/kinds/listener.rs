//! The schema of `listener`; its AWS side is `trellis-aws/src/kinds/listener.rs`.

use super::{BASE, ID, PROTECT, TAGS, attr, default, force, interrupts, len, old, tf, range};
use crate::schema::{Default, Effect, Kind, Mode, Object, OtherName, Rule, Severity, Subject, Type};
use crate::{Attrs, Value};

fn check_action(a: &Attrs) -> Option<(&'static str, String)> {
    let kind = a.get("type").and_then(Value::as_str)?;
    let takes: &[&str] = match kind {
        "forward" => &["target_group_arn", "forward_config"],
        "fixed-response" => &["fixed_response_config"],
        "redirect" => &["redirect_config"],
        _ => return None,
    };
    let given: Vec<&str> = ["target_group_arn", "forward_config", "fixed_response_config", "redirect_config"]
        .into_iter()
        .filter(|k| a.contains_key(*k))
        .collect();
    (given.len() != 1 || !takes.contains(&given[0])).then(|| {
        let what = takes.iter().map(|t| format!("`{t}`")).collect::<Vec<_>>().join(" or ");
        ("type", format!("a `{kind}` action takes one of {what} (and nothing of the other types)"))
    })
}

/// A weighted forward names two or more target groups, or one with stickiness: one
/// group alone is `target_group_arn` (AWS gives that form back for it).
fn check_forward(a: &Attrs) -> Option<(&'static str, String)> {
    let groups = match a.get("target_groups") {
        Some(Value::List(l)) => l.len(),
        _ => return None,
    };
    let sticky = match a.get("target_group_stickiness_config") {
        Some(Value::Map(m)) => m.get("enabled").and_then(Value::as_bool),
        _ => Some(false),
    };
    if groups == 1 && sticky == Some(false) {
        return Some((
            "target_groups",
            "one target group without stickiness is `target_group_arn: ...` on the action, not `forward_config`".into(),
        ));
    }
    None
}

/// Stickiness that is on says for how long; off is said by leaving it out.
fn check_stickiness(a: &Attrs) -> Option<(&'static str, String)> {
    match a.get("enabled").and_then(Value::as_bool) {
        Some(true) if !a.contains_key("duration_seconds") => {
            Some(("duration_seconds", "stickiness that is enabled needs `duration_seconds` (1 to 604800)".into()))
        }
        Some(false) => Some(("enabled", "leave `target_group_stickiness_config` out to turn stickiness off".into())),
        _ => None,
    }
}

static TARGET_GROUP_TUPLE: Object = Object {
    check: None,
    other_names: &[],
    attrs: &[
        attr("target_group_arn", Type::Ref("target_group"), Mode::Required, "The target group."),
        default(
            range(attr("weight", Type::Int, Mode::Optional, "Its share of the requests, against the others' weights."), 0, 999),
            Default::Int(1),
        ),
    ],
};

static STICKINESS: Object = Object {
    check: Some(check_stickiness),
    other_names: &[],
    attrs: &[
        attr("enabled", Type::Bool, Mode::Required, "`true`: a client keeps to the target group it was first sent to."),
        range(
            attr("duration_seconds", Type::Int, Mode::Optional, "For how long, in seconds (up to 7 days)."),
            1,
            604800,
        ),
    ],
};

static FORWARD: Object = Object {
    check: Some(check_forward),
    other_names: &[],
    attrs: &[
        len(
            attr(
                "target_groups",
                Type::List(&Type::Object(&TARGET_GROUP_TUPLE)),
                Mode::Required,
                "The target groups and their weights (awscli's `TargetGroups=[{TargetGroupArn=...,Weight=...}]`).",
            ),
            1,
            5,
        ),
        attr(
            "target_group_stickiness_config",
            Type::Object(&STICKINESS),
            Mode::Optional,
            "Keeps a client to one target group for a while (a blue/green split that should not flap).",
        ),
    ],
};

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

static CERTIFICATE: Object = Object {
    check: None,
    other_names: &[],
    attrs: &[attr(
        "certificate_arn",
        Type::Ref("acm_certificate"),
        Mode::Required,
        "An ACM certificate (`${acm_certificate.web}`), or the ARN of one the stack does not make (ACM's or IAM's); it must be issued before the apply.",
    )],
};

/// An action, of a listener's default or of a rule (`listener_rule`).
pub(super) static ACTION: Object = Object {
    check: Some(check_action),
    other_names: &[old("fixed_response", "fixed_response_config"), old("redirect", "redirect_config")],
    attrs: &[
        attr("type", Type::Enum(&["forward", "fixed-response", "redirect"]), Mode::Required, "What the listener does."),
        attr("target_group_arn", Type::Ref("target_group"), Mode::Optional, "For `forward` to one target group."),
        attr(
            "forward_config",
            Type::Object(&FORWARD),
            Mode::Optional,
            "For `forward` to several target groups, by weight (a canary, a blue/green split).",
        ),
        attr("fixed_response_config", Type::Object(&FIXED_RESPONSE), Mode::Optional, "For `fixed-response`."),
        attr("redirect_config", Type::Object(&REDIRECT), Mode::Optional, "For `redirect`."),
    ],
};

/// A listener takes one action (AWS adds no second to forward, respond or redirect);
/// HTTPS takes a certificate, and HTTP neither a certificate nor a security policy.
fn check_listener(a: &Attrs) -> Option<(&'static str, String)> {
    if let Some(Value::List(l)) = a.get("default_actions") {
        if l.len() != 1 {
            return Some(("default_actions", format!("a listener takes one default action here, not {}", l.len())));
        }
    }
    // A protocol given by an expression is judged once it is known.
    let protocol = match a.get("protocol") {
        None => "HTTP",
        Some(v) => v.as_str()?,
    };
    let https = protocol == "HTTPS";
    // A list that refers to a certificate the stack makes is judged given.
    let certified = match a.get("certificates") {
        None => false,
        Some(Value::List(l)) => !l.is_empty(),
        Some(_) => true,
    };
    if https && !certified {
        return Some(("certificates", "an HTTPS listener needs `certificates: [{ certificate_arn: ... }]`".into()));
    }
    if !https {
        for key in ["certificates", "ssl_policy"] {
            if a.contains_key(key) {
                return Some((key, format!("`{key}` is for `protocol: HTTPS` only")));
            }
        }
    }
    None
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

/// A state written when a listener had one certificate (`certificate_arn`).
fn upgrade_certificate(attrs: &mut Attrs) {
    if let Some(arn) = attrs.remove("certificate_arn") {
        let one = [("certificate_arn".to_string(), arn)].into_iter().collect();
        attrs.entry("certificates".to_string()).or_insert(Value::List(vec![Value::Map(one)]));
    }
}

fn upgrade(attrs: &mut Attrs) {
    upgrade_listener(attrs);
    upgrade_certificate(attrs);
}

/// Plain HTTP that serves rather than redirects to HTTPS.
fn plain_http(s: &Subject) -> Vec<String> {
    if s.attrs.get("protocol").and_then(Value::as_str) != Some("HTTP") {
        return vec![];
    }
    let redirects_to_https = match s.attrs.get("default_actions") {
        Some(Value::List(actions)) => actions.iter().all(|a| match a {
            Value::Map(m) => {
                m.get("type").and_then(Value::as_str) == Some("redirect")
                    && match m.get("redirect_config") {
                        Some(Value::Map(r)) => r.get("protocol").and_then(Value::as_str) == Some("HTTPS"),
                        _ => false,
                    }
            }
            _ => false,
        }),
        _ => false,
    };
    (!redirects_to_https).then(|| "protocol: HTTP, and its action is not a redirect to HTTPS".to_string()).into_iter().collect()
}

static RULES: [Rule; 1] = [Rule {
    id: "listener-plain-http",
    checkov: Some("CKV_AWS_2"),
    severity: Severity::Medium,
    title: "the listener serves plain HTTP",
    why: "requests, cookies and passwords cross the internet unencrypted",
    fix: "serve on `protocol: HTTPS` with `certificates`, and make the HTTP listener's action a `redirect` with `protocol: HTTPS`",
    check: plain_http,
}];

pub static LISTENER: Kind = Kind {
    name: "listener",
    doc: "A listener of a load balancer (`aws elbv2 create-listener`). It goes with its load balancer. Its id is its ARN.",
    id_prefix: "arn:",
    upgrade: Some(upgrade),
    object: Object {
        check: Some(check_listener),
        // Its states are upgraded by `upgrade_listener`: the mapping becomes a list.
        other_names: &[
            OtherName {
                name: "default_action",
                is: "default_actions",
                whose: "Terraform's (and an earlier trellis's)",
                in_old_states: false,
            },
            OtherName {
                name: "certificate_arn",
                is: "certificates",
                whose: "Terraform's (and an earlier trellis's, one certificate)",
                in_old_states: false,
            },
        ],
        attrs: &[
            force(attr("load_balancer_arn", Type::Ref("load_balancer"), Mode::Required, "The load balancer.")),
            interrupts(
                range(attr("port", Type::Int, Mode::Required, "The port it listens on."), 1, 65535),
                Effect::Network,
                "clients of the old port are cut off when the listener moves",
            ),
            default(attr("protocol", Type::Enum(&["HTTP", "HTTPS"]), Mode::Optional, "The protocol."), Default::Str("HTTP")),
            attr(
                "ssl_policy",
                Type::Str,
                Mode::OptionalComputed,
                "For HTTPS: the security policy (protocols and ciphers), e.g. `ELBSecurityPolicy-TLS13-1-2-2021-06`; left out, AWS's default.",
            ),
            attr(
                "certificates",
                Type::List(&Type::Object(&CERTIFICATE)),
                Mode::Optional,
                "For HTTPS: the certificates (awscli's `--certificates CertificateArn=...`). The first is the default; the others are served by SNI to clients that name their host (`add-listener-certificates`).",
            ),
            interrupts(
                attr(
                    "default_actions",
                    Type::List(&Type::Object(&ACTION)),
                    Mode::Required,
                    "One action, as awscli's list: `forward` to a target group (or to several by weight), `fixed-response` or `redirect`.",
                ),
                Effect::Network,
                "the action is swapped: requests in flight at that moment may fail",
            ),
            TAGS,
            ID,
            PROTECT,
        ],
    },
    rules: &RULES,
    terraform_types: &[tf("aws_lb_listener"), tf("aws_alb_listener")],
    create_call: Some(("elbv2", "CreateListener")),
    ..BASE
};
