//! The schema of `security_group`; its AWS side is `trellis-aws/src/kinds/security_group.rs`.

use super::{attr, default, force, limit, terraform, BASE, ID, PROTECT, PROTOCOLS_WITH_PORTS, TAGS};
use crate::schema::{Default, Kind, Mode, Object, Type};
use crate::{Attrs, Value};

fn check_sg_rule(rule: &Attrs) -> Option<(&'static str, String)> {
    let protocol = rule.get("protocol").and_then(Value::as_str).unwrap_or("");
    let sources = ["cidr", "source_group"].iter().filter(|k| rule.contains_key(**k)).count();
    if sources != 1 {
        return Some(("protocol", "a rule needs exactly one of `cidr` or `source_group`".to_string()));
    }
    if PROTOCOLS_WITH_PORTS.contains(&protocol) && !rule.contains_key("port") {
        return Some(("protocol", format!("a `{protocol}` rule needs a `port`")));
    }
    if protocol == "all" && rule.contains_key("port") {
        return Some(("port", "a rule for `all` protocols covers every port: remove `port`".to_string()));
    }
    if protocol == "icmp" && rule.contains_key("port") {
        return Some((
            "port",
            "ICMP has no ports: use `icmp_type` (and `icmp_code`), or leave both out for all of ICMP".to_string(),
        ));
    }
    for k in ["icmp_type", "icmp_code"] {
        if rule.contains_key(k) && protocol != "icmp" {
            return Some((k, format!("`{k}` is for `icmp` rules, not `{protocol}`")));
        }
        if let Some(n) = rule.get(k).and_then(Value::as_int).filter(|n| !(-1..=255).contains(n)) {
            return Some((k, format!("{n} is out of range: use 0 to 255, or -1 for all")));
        }
    }
    if rule.contains_key("icmp_code") && !rule.contains_key("icmp_type") {
        return Some(("icmp_code", "an `icmp_code` needs the `icmp_type` it belongs to".to_string()));
    }
    None
}

static SG_RULE: Object = Object {
    check: Some(check_sg_rule),
    other_names: &[],
    attrs: &[
        attr("protocol", Type::Protocol, Mode::Required, "`tcp`, `udp`, `icmp` or `all`."),
        attr("port", Type::Port, Mode::Optional, "A port (`80`) or range (`\"8000-8010\"`); needed for tcp and udp."),
        attr("cidr", Type::Cidr, Mode::Optional, "Source (ingress) or destination (egress) range."),
        attr(
            "icmp_type",
            Type::Int,
            Mode::Optional,
            "For `icmp`: the ICMP type (8 is echo request); left out, every type.",
        ),
        attr("icmp_code", Type::Int, Mode::Optional, "For `icmp` with an `icmp_type`: the code; left out, every code."),
        attr(
            "source_group",
            Type::Ref("security_group"),
            Mode::Optional,
            "Another security group instead of a range, or `self` for members of this group.",
        ),
        attr("description", Type::Str, Mode::Optional, "What the rule is for."),
    ],
};

pub static SECURITY_GROUP: Kind = Kind {
    name: "security_group",
    doc: "A security group with its rules (`create-security-group`, `authorize-security-group-ingress`/`-egress`).",
    id_prefix: "sg-",
    generated_name: Some("group_name"),
    object: Object {
        check: None,
        other_names: &[terraform("name", "group_name")],
        attrs: &[
            force(limit(attr("group_name", Type::Str, Mode::OptionalComputed, "The group's name. Left out, trellis generates `<stack>-<name>` (with a suffix when a replacement needs a second name), so a replacement is created before the old group goes and rules that refer to it move over first."), 255)),
            force(default(attr("description", Type::Str, Mode::Optional, "AWS cannot change it later."), Default::Str("Managed by trellis"))),
            force(attr("vpc_id", Type::Ref("vpc"), Mode::Required, "The VPC.")),
            default(attr("ingress", Type::Set(&Type::Object(&SG_RULE)), Mode::Optional, "Inbound rules."), Default::EmptyList),
            attr(
                "egress",
                Type::Set(&Type::Object(&SG_RULE)),
                Mode::OptionalComputed,
                "Outbound rules. Left out, AWS's default allow-all stays and is not managed; given (even `[]`), exactly these.",
            ),
            TAGS,
            ID,
            PROTECT,
        ],
    },
    ..BASE
};
