//! The schema of `listener_rule`; its AWS side is `trellis-aws/src/kinds/listener_rule.rs`.

use super::listener::ACTION;
use super::{attr, force, interrupts, len, range, tf, BASE, ID, PROTECT, TAGS};
use crate::schema::{Effect, Kind, Mode, Object, Type, Unique};
use crate::{Attrs, Value};

/// The condition fields, each with the member that holds its values.
const FIELDS: &[(&str, &str)] = &[
    ("host-header", "host_header_config"),
    ("path-pattern", "path_pattern_config"),
    ("http-header", "http_header_config"),
    ("http-request-method", "http_request_method_config"),
    ("query-string", "query_string_config"),
    ("source-ip", "source_ip_config"),
];

/// A condition takes the configuration of its field, and no other.
fn check_condition(a: &Attrs) -> Option<(&'static str, String)> {
    let field = a.get("field").and_then(Value::as_str)?;
    let (_, needs) = FIELDS.iter().find(|(f, _)| *f == field)?;
    let given: Vec<&str> = FIELDS.iter().map(|(_, c)| *c).filter(|c| a.contains_key(*c)).collect();
    (given != [*needs]).then(|| ("field", format!("a `{field}` condition takes `{needs}` (and no other field's)")))
}

/// Values, at least one (AWS's `Values` of each condition configuration).
const fn values(doc: &'static str) -> crate::schema::Attr {
    len(attr("values", Type::List(&Type::Str), Mode::Required, doc), 1, 5)
}

static HOST_HEADER: Object =
    Object { check: None, other_names: &[], attrs: &[values("Host names; `*` and `?` are wildcards.")] };
static PATH_PATTERN: Object = Object {
    check: None,
    other_names: &[],
    attrs: &[values("Paths, case-sensitive; `*` and `?` are wildcards (`/app1/*`).")],
};
static HTTP_HEADER: Object = Object {
    check: None,
    other_names: &[],
    attrs: &[
        len(attr("http_header_name", Type::Str, Mode::Required, "The header (`User-Agent`)."), 1, 40),
        values("Its values; `*` and `?` are wildcards."),
    ],
};
static METHOD: Object =
    Object { check: None, other_names: &[], attrs: &[values("Methods, upper case (`GET`, `POST`).")] };
static KEY_VALUE: Object = Object {
    check: None,
    other_names: &[],
    attrs: &[
        attr("key", Type::Str, Mode::Optional, "The parameter's name; left out, any."),
        attr("value", Type::Str, Mode::Required, "Its value; `*` and `?` are wildcards."),
    ],
};
static QUERY_STRING: Object = Object {
    check: None,
    other_names: &[],
    attrs: &[len(
        attr("values", Type::List(&Type::Object(&KEY_VALUE)), Mode::Required, "Key and value pairs; one must match."),
        1,
        5,
    )],
};
static SOURCE_IP: Object = Object {
    check: None,
    other_names: &[],
    attrs: &[len(
        attr("values", Type::List(&Type::Str), Mode::Required, "Client address ranges, IPv4 or IPv6 (`203.0.113.0/24`)."),
        1,
        5,
    )],
};

static CONDITION: Object = Object {
    check: Some(check_condition),
    other_names: &[],
    attrs: &[
        attr(
            "field",
            Type::Enum(&["host-header", "path-pattern", "http-header", "http-request-method", "query-string", "source-ip"]),
            Mode::Required,
            "What the condition looks at.",
        ),
        attr("host_header_config", Type::Object(&HOST_HEADER), Mode::Optional, "For `host-header`."),
        attr("path_pattern_config", Type::Object(&PATH_PATTERN), Mode::Optional, "For `path-pattern`."),
        attr("http_header_config", Type::Object(&HTTP_HEADER), Mode::Optional, "For `http-header`."),
        attr("http_request_method_config", Type::Object(&METHOD), Mode::Optional, "For `http-request-method`."),
        attr("query_string_config", Type::Object(&QUERY_STRING), Mode::Optional, "For `query-string`."),
        attr("source_ip_config", Type::Object(&SOURCE_IP), Mode::Optional, "For `source-ip`."),
    ],
};

/// A rule takes one action here, as a listener's default does.
fn check_rule(a: &Attrs) -> Option<(&'static str, String)> {
    match a.get("actions") {
        Some(Value::List(l)) if l.len() != 1 => {
            Some(("actions", format!("a rule takes one action here (forward, redirect or fixed-response), not {}", l.len())))
        }
        _ => None,
    }
}

/// What a rule matches, for the plan: `path /app1/*, host www.example.com`.
fn matches(a: &Attrs) -> String {
    let Some(Value::List(conditions)) = a.get("conditions") else { return "its conditions".into() };
    let each: Vec<String> = conditions
        .iter()
        .filter_map(Value::as_map)
        .map(|c| {
            let field = c.get("field").and_then(Value::as_str).unwrap_or("?");
            let config = FIELDS.iter().find(|(f, _)| *f == field).and_then(|(_, k)| c.get(*k)?.as_map());
            let values: Vec<String> = config
                .and_then(|m| m.get("values"))
                .map(Value::as_list)
                .unwrap_or_default()
                .iter()
                .map(|v| match v {
                    Value::Str(s) => s.clone(),
                    Value::Map(kv) => {
                        let key = kv.get("key").and_then(Value::as_str).unwrap_or("*");
                        format!("{key}={}", kv.get("value").and_then(Value::as_str).unwrap_or("*"))
                    }
                    other => other.to_string(),
                })
                .collect();
            format!("{field} {}", values.join(" or "))
        })
        .collect();
    each.join(" and ")
}

static UNIQUE: Unique = Unique {
    attr: "priority",
    among: "listener_arn",
    noun: "rule",
    otherwise: "the listener's default action",
    matches,
    call: "set-rule-priorities",
};

pub static LISTENER_RULE: Kind = Kind {
    name: "listener_rule",
    doc: "A rule of a listener (`aws elbv2 create-rule`): requests that meet all its `conditions` take its action; the listener tries its rules in `priority` order, lowest first, and gives what none matches to its default action. Priorities are changed in place, several at once in one `set-rule-priorities` call, so rules can swap places in one apply. Its id is its ARN.",
    id_prefix: "arn:",
    unique: Some(&UNIQUE),
    object: Object {
        check: Some(check_rule),
        other_names: &[],
        attrs: &[
            force(attr("listener_arn", Type::Ref("listener"), Mode::Required, "The listener.")),
            interrupts(
                range(
                    attr("priority", Type::Int, Mode::Required, "Its place among the listener's rules: lowest first; unique in the listener."),
                    1,
                    50000,
                ),
                Effect::Network,
                "requests its conditions match may be taken by another rule, or leave it for this one, from the moment the order changes",
            ),
            interrupts(len(
                attr(
                    "conditions",
                    Type::List(&Type::Object(&CONDITION)),
                    Mode::Required,
                    "What a request must meet, all of them (awscli's `--conditions Field=path-pattern,PathPatternConfig={Values=[...]}`).",
                ),
                1,
                5,
            ), Effect::Network, "requests it matched and no longer does go to the next rule that matches them, or the default action"),
            interrupts(
                attr(
                    "actions",
                    Type::List(&Type::Object(&ACTION)),
                    Mode::Required,
                    "One action, as awscli's list: `forward` to a target group (or several by weight), `fixed-response` or `redirect`.",
                ),
                Effect::Network,
                "the action is swapped: requests in flight at that moment may fail",
            ),
            TAGS,
            ID,
            PROTECT,
        ],
    },
    terraform_types: &[tf("aws_lb_listener_rule"), tf("aws_alb_listener_rule")],
    create_call: Some(("elbv2", "CreateRule")),
    ..BASE
};
