//! The resource kinds trellis knows, with their attributes.
//!
//! Attribute names follow the awscli flag of the create call (`--cidr-block` is
//! `cidr_block`), so an awscli script translates line by line. Each kind's docs in
//! `docs/spec.md` are generated from the same facts and checked by a test.

mod db;
mod iam;
mod lb;
mod metric_alarm;
mod nat;

pub use db::{DB_INSTANCE, DB_PARAMETER_GROUP, DB_SUBNET_GROUP};
pub use iam::{IAM_INSTANCE_PROFILE, IAM_ROLE, KEY_PAIR};
pub use metric_alarm::METRIC_ALARM;
pub use nat::{ELASTIC_IP, NAT_GATEWAY};

pub use lb::{
    AUTOSCALING_GROUP, INSTANCE, LAUNCH_TEMPLATE, LISTENER, LOAD_BALANCER, SCALING_POLICY, TARGET_GROUP,
    TARGET_GROUP_ATTACHMENT,
};

use crate::schema::{Attr, Default, Kind, Mode, Object, OtherName, Type};
use crate::{Attrs, Value};

const fn attr(name: &'static str, ty: Type, mode: Mode, doc: &'static str) -> Attr {
    Attr {
        name,
        ty,
        mode,
        default: Default::None,
        force_new: false,
        doc,
        note: None,
        sensitive: false,
        local: false,
        file_of: None,
        write_only: false,
        max_len: None,
    }
}

/// AWS takes at most `n` characters of it.
const fn limit(mut a: Attr, n: usize) -> Attr {
    a.max_len = Some(n);
    a
}

/// Terraform's name for an attribute awscli names otherwise.
const fn terraform(name: &'static str, is: &'static str) -> OtherName {
    OtherName { name, is, whose: "Terraform's", in_old_states: false }
}

/// Terraform's name, which an earlier trellis used too (its states are read under `is`).
const fn terraform_and_old(name: &'static str, is: &'static str) -> OtherName {
    OtherName { name, is, whose: "Terraform's (and an earlier trellis's)", in_old_states: true }
}

/// A name only an earlier trellis used.
const fn old(name: &'static str, is: &'static str) -> OtherName {
    OtherName { name, is, whose: "an earlier trellis's", in_old_states: true }
}

const fn note(mut a: Attr, text: &'static str) -> Attr {
    a.note = Some(text);
    a
}

const fn local(mut a: Attr) -> Attr {
    a.local = true;
    a
}

/// A path whose text becomes `target` when the spec is loaded.
const fn file_of(mut a: Attr, target: &'static str) -> Attr {
    a.file_of = Some(target);
    a
}

/// Sent to AWS but never read back from it (see `Attr::write_only`).
const fn write_only(mut a: Attr) -> Attr {
    a.write_only = true;
    a
}

const fn force(mut a: Attr) -> Attr {
    a.force_new = true;
    a
}

const fn default(mut a: Attr, d: Default) -> Attr {
    a.default = d;
    a
}

const ID: Attr = attr("id", Type::Str, Mode::Computed, "The id AWS assigned.");
/// Every kind's guard against deletion (a database has its own, on by default).
const PROTECT: Attr = local(attr(
    crate::schema::PROTECT,
    Type::Bool,
    Mode::Optional,
    "trellis setting: `true` makes apply and destroy refuse to delete or replace it without `--allow-data-loss`, also once its block is gone (the state keeps it); apply `false` first to let it go.",
));
const TAGS: Attr = attr(
    "tags",
    Type::Map,
    Mode::Optional,
    "Tags. `Name` defaults to `<stack>-<name>`; trellis adds `trellis:stack` and `trellis:address`.",
);

pub static VPC: Kind = Kind {
    name: "vpc",
    doc: "A virtual private cloud (`aws ec2 create-vpc`).",
    id_prefix: "vpc-",
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
        check: None,
        other_names: &[],
        attrs: &[
            force(attr("cidr_block", Type::Cidr, Mode::Required, "The IPv4 range, /16 to /28.")),
            force(default(
                attr(
                    "instance_tenancy",
                    Type::Enum(&["default", "dedicated"]),
                    Mode::Optional,
                    "Tenancy of instances launched into it.",
                ),
                Default::Str("default"),
            )),
            default(
                attr(
                    "enable_dns_support",
                    Type::Bool,
                    Mode::Optional,
                    "Amazon DNS resolution (`modify-vpc-attribute`).",
                ),
                Default::Bool(true),
            ),
            default(
                attr(
                    "enable_dns_hostnames",
                    Type::Bool,
                    Mode::Optional,
                    "Public DNS hostnames for instances (`modify-vpc-attribute`).",
                ),
                Default::Bool(false),
            ),
            TAGS,
            ID,
            PROTECT,
        ],
    },
};

pub static SUBNET: Kind = Kind {
    name: "subnet",
    doc: "A subnet of a VPC in one availability zone (`aws ec2 create-subnet`).",
    id_prefix: "subnet-",
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
        check: None,
        other_names: &[],
        attrs: &[
            force(attr("vpc_id", Type::Ref("vpc"), Mode::Required, "The VPC.")),
            force(attr("cidr_block", Type::Cidr, Mode::Required, "The IPv4 range, inside the VPC's.")),
            force(attr(
                "availability_zone",
                Type::Str,
                Mode::OptionalComputed,
                "The zone, e.g. `us-east-1a`; AWS picks one when left out.",
            )),
            default(
                attr(
                    "map_public_ip_on_launch",
                    Type::Bool,
                    Mode::Optional,
                    "Give instances launched here a public IPv4 address (`modify-subnet-attribute`).",
                ),
                Default::Bool(false),
            ),
            TAGS,
            ID,
            PROTECT,
        ],
    },
};

pub static INTERNET_GATEWAY: Kind = Kind {
    name: "internet_gateway",
    doc: "An internet gateway, attached to a VPC (`create-internet-gateway`, `attach-internet-gateway`).",
    id_prefix: "igw-",
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
        check: None,
        other_names: &[],
        attrs: &[attr("vpc_id", Type::Ref("vpc"), Mode::Optional, "The VPC it is attached to."), TAGS, ID, PROTECT],
    },
};

/// A route goes to one target.
fn check_route(route: &Attrs) -> Option<(&'static str, String)> {
    let targets: Vec<&str> = ROUTE_TARGETS.into_iter().filter(|t| route.contains_key(*t)).collect();
    (targets.len() != 1).then(|| {
        (
            "destination_cidr_block",
            format!("a route needs one target: `gateway_id` or `nat_gateway_id` (it has {})", targets.len()),
        )
    })
}

const ROUTE_TARGETS: [&str; 2] = ["gateway_id", "nat_gateway_id"];

static ROUTE: Object = Object {
    check: Some(check_route),
    other_names: &[],
    attrs: &[
        attr("destination_cidr_block", Type::Cidr, Mode::Required, "Where the route leads."),
        attr(
            "gateway_id",
            Type::Ref("internet_gateway"),
            Mode::Optional,
            "The internet gateway to send the traffic to (public subnets).",
        ),
        attr(
            "nat_gateway_id",
            Type::Ref("nat_gateway"),
            Mode::Optional,
            "Or the NAT gateway to send it through (private subnets that reach out).",
        ),
    ],
};

pub static ROUTE_TABLE: Kind = Kind {
    name: "route_table",
    doc: "A route table with its routes and subnet associations (`create-route-table`, `create-route`, `associate-route-table`). The VPC's `local` route is implicit.",
    id_prefix: "rtb-",
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
        check: None,
        other_names: &[terraform("route", "routes")],
        attrs: &[
            force(attr("vpc_id", Type::Ref("vpc"), Mode::Required, "The VPC.")),
            default(attr("routes", Type::Set(&Type::Object(&ROUTE)), Mode::Optional, "Routes, each `destination_cidr_block` and `gateway_id` or `nat_gateway_id`."), Default::EmptyList),
            default(attr("subnet_ids", Type::Set(&Type::Ref("subnet")), Mode::Optional, "Subnets associated with this table."), Default::EmptyList),
            TAGS,
            ID,
            PROTECT,
        ],
    },
};

const PROTOCOLS_WITH_PORTS: &[&str] = &["tcp", "udp"];

fn check_nacl_rule(rule: &Attrs) -> Option<(&'static str, String)> {
    let protocol = rule.get("protocol").and_then(Value::as_str).unwrap_or("");
    let has_ports = rule.contains_key("port_range");
    if PROTOCOLS_WITH_PORTS.contains(&protocol) && !has_ports {
        return Some(("protocol", format!("a `{protocol}` rule needs a `port_range`")));
    }
    // AWS takes the range and drops it for these, so the rule never reads back as
    // written and no apply would converge.
    if has_ports && !PROTOCOLS_WITH_PORTS.contains(&protocol) {
        let what = if protocol == "all" {
            "a rule for `all` protocols covers every port"
        } else {
            "only tcp and udp rules have ports"
        };
        return Some(("port_range", format!("{what}: remove `port_range`")));
    }
    if let Some(n) = rule.get("rule_number").and_then(Value::as_int) {
        if !(1..=32766).contains(&n) {
            return Some(("rule_number", format!("rule number {n} is out of range: use 1 to 32766")));
        }
    }
    if rule.contains_key("icmp_type_code") && protocol != "icmp" {
        return Some(("icmp_type_code", format!("`icmp_type_code` is for `icmp` rules, not `{protocol}`")));
    }
    if let Some(Value::Map(tc)) = rule.get("icmp_type_code") {
        for k in ["type", "code"] {
            if let Some(n) = tc.get(k).and_then(Value::as_int).filter(|n| !(-1..=255).contains(n)) {
                return Some(("icmp_type_code", format!("ICMP {k} {n} is out of range: use 0 to 255, or -1 for all")));
            }
        }
    }
    if let Some(Value::Map(range)) = rule.get("port_range") {
        let from = range.get("from").and_then(Value::as_int);
        let to = range.get("to").and_then(Value::as_int);
        if let (Some(from), Some(to)) = (from, to) {
            if from > to || to > 65535 || from < 0 {
                return Some(("port_range", format!("port range {from}-{to} is not a range of ports 0-65535")));
            }
        }
    }
    None
}

static PORT_RANGE: Object = Object {
    check: None,
    other_names: &[],
    attrs: &[
        attr("from", Type::Int, Mode::Required, "First port."),
        attr("to", Type::Int, Mode::Required, "Last port."),
    ],
};

static ICMP_TYPE_CODE: Object = Object {
    check: None,
    other_names: &[],
    attrs: &[
        attr("type", Type::Int, Mode::Required, "ICMP type (8 is echo request), or -1 for every type."),
        attr("code", Type::Int, Mode::Required, "ICMP code, or -1 for every code of the type."),
    ],
};

static NACL_RULE: Object = Object {
    check: Some(check_nacl_rule),
    other_names: &[],
    attrs: &[
        attr("rule_number", Type::Int, Mode::Required, "Evaluation order, 1 to 32766, lowest first."),
        attr("protocol", Type::Protocol, Mode::Required, "`tcp`, `udp`, `icmp` or `all`."),
        attr("rule_action", Type::Enum(&["allow", "deny"]), Mode::Required, "`allow` or `deny`."),
        attr("cidr_block", Type::Cidr, Mode::Required, "The traffic's source (ingress) or destination (egress)."),
        attr("port_range", Type::Object(&PORT_RANGE), Mode::Optional, "`{from: N, to: M}`; needed for tcp and udp."),
        attr(
            "icmp_type_code",
            Type::Object(&ICMP_TYPE_CODE),
            Mode::Optional,
            "`{type: N, code: M}` for an `icmp` rule; left out, every ICMP message.",
        ),
    ],
};

pub static NETWORK_ACL: Kind = Kind {
    name: "network_acl",
    doc: "A network ACL with its rules and subnet associations (`create-network-acl`, `create-network-acl-entry`, `replace-network-acl-association`). Subnets removed from it go back to the VPC's default ACL.",
    id_prefix: "acl-",
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
        check: None,
        other_names: &[],
        attrs: &[
            force(attr("vpc_id", Type::Ref("vpc"), Mode::Required, "The VPC.")),
            default(attr("ingress", Type::Set(&Type::Object(&NACL_RULE)), Mode::Optional, "Inbound rules."), Default::EmptyList),
            default(attr("egress", Type::Set(&Type::Object(&NACL_RULE)), Mode::Optional, "Outbound rules."), Default::EmptyList),
            default(attr("subnet_ids", Type::Set(&Type::Ref("subnet")), Mode::Optional, "Subnets that use this ACL."), Default::EmptyList),
            TAGS,
            ID,
            PROTECT,
        ],
    },
};

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
    versioned: None,
    generated_name: Some("group_name"),
    holds_data: None,
    restart: None,
    ref_checks: &[],
    update_note: None,
    upgrade: None,
    rollout: None,
    new_first: false,
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
};

/// Every kind, in the order the docs list them.
pub static ALL: &[&Kind] = &[
    &VPC,
    &SUBNET,
    &INTERNET_GATEWAY,
    &ROUTE_TABLE,
    &NETWORK_ACL,
    &SECURITY_GROUP,
    &LAUNCH_TEMPLATE,
    &TARGET_GROUP,
    &LOAD_BALANCER,
    &LISTENER,
    &AUTOSCALING_GROUP,
    &SCALING_POLICY,
    &INSTANCE,
    &TARGET_GROUP_ATTACHMENT,
    &DB_SUBNET_GROUP,
    &DB_PARAMETER_GROUP,
    &DB_INSTANCE,
    &ELASTIC_IP,
    &NAT_GATEWAY,
    &IAM_ROLE,
    &IAM_INSTANCE_PROFILE,
    &KEY_PAIR,
    &METRIC_ALARM,
];

pub fn get(name: &str) -> Option<&'static Kind> {
    ALL.iter().copied().find(|k| k.name == name)
}

pub fn names() -> impl Iterator<Item = &'static str> {
    ALL.iter().map(|k| k.name)
}

/// The reference of every kind and attribute, as Markdown, for `docs/spec.md`.
pub fn reference_markdown() -> String {
    use std::fmt::Write;
    let mut out = String::new();
    for k in ALL {
        let _ = writeln!(out, "### `{}`\n\n{}\n", k.name, k.doc);
        if let Some(counter) = k.versioned {
            let _ = writeln!(
                out,
                "Versioned: a change to any attribute but `tags` makes a new version (`{counter}` + 1) in place of a replacement.\n"
            );
        }
        if let Some(name) = k.generated_name {
            let _ = writeln!(
                out,
                "Replacement: with `{name}` left out, the new object is created first under a generated name and the old one deleted after what uses it has moved over (`+/-` in the plan); with `{name}` fixed in the spec, the old one is deleted first (`-/+`).\n"
            );
        }
        ref_table(&mut out, k.object.attrs, k.generated_name);
        ref_nested(&mut out, k.object.attrs, &mut Vec::new());
        out.push('\n');
    }
    out
}

/// The reference's "presence" column.
fn ref_mode(a: &Attr) -> &'static str {
    match a.mode {
        Mode::Required => "required",
        Mode::Optional => "optional",
        Mode::OptionalComputed => "optional (AWS decides if unset)",
        Mode::Computed => "computed by AWS",
    }
}
/// The reference's "default" column.
fn ref_default(a: &Attr) -> String {
    match a.default {
        Default::None => String::new(),
        Default::Bool(b) => format!("`{b}`"),
        Default::Int(i) => format!("`{i}`"),
        Default::Str(s) => format!("`{s}`"),
        Default::EmptyList => "`[]`".into(),
        Default::EmptyMap => "`{}`".into(),
        Default::StackName => "`<stack>-<name>`".into(),
        Default::RefAttr { via, attr } => format!("`{attr}` of the `{via}` object"),
    }
}
/// One table of attributes.
fn ref_table(out: &mut String, attrs: &[Attr], generated: Option<&str>) {
    use std::fmt::Write;
    out.push_str("| attribute | type | presence | default | on change | meaning |\n|---|---|---|---|---|---|\n");
    for a in attrs {
        let change = if a.mode == Mode::Computed {
            String::new()
        } else if a.force_new {
            "**replace**".to_string()
        } else if let Some(n) = a.note {
            format!("in place; {n}")
        } else {
            "in place".to_string()
        };
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} | {} | {} |",
            a.name,
            a.ty.describe(),
            if generated == Some(a.name) { "optional (trellis generates it if unset)" } else { ref_mode(a) },
            ref_default(a),
            change,
            a.doc
        );
    }
}
/// The tables of the objects nested in `attrs`, each once.
fn ref_nested(out: &mut String, attrs: &[Attr], seen: &mut Vec<&'static str>) {
    use std::fmt::Write;
    for a in attrs {
        let inner = match &a.ty {
            crate::schema::Type::Object(o) => Some(o),
            crate::schema::Type::List(t) | crate::schema::Type::Set(t) => match t {
                crate::schema::Type::Object(o) => Some(o),
                _ => None,
            },
            _ => None,
        };
        if let Some(o) = inner {
            if seen.contains(&a.name) {
                continue;
            }
            seen.push(a.name);
            let _ = writeln!(out, "\nEach entry of `{}`:\n", a.name);
            ref_table(out, o.attrs, None);
            ref_nested(out, o.attrs, seen);
        }
    }
}
