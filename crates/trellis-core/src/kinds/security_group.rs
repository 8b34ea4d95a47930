//! The schema of `security_group`; its AWS side is `trellis-aws/src/kinds/security_group.rs`.

use super::{BASE, DATABASE_PORTS, ID, PROTECT, PROTOCOLS_WITH_PORTS, TAGS, attr, default, engine_port, force, limit, open_to_world, terraform, world_opens, tf, tf_part, valid, ec2_description};
use crate::schema::{Default, Kind, Mode, Object, Rule, Severity, Subject, Type};
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
    other_names: &[
        terraform("from_port", "port"),
        terraform("to_port", "port"),
        terraform("cidr_blocks", "cidr"),
        terraform("security_groups", "source_group"),
        terraform("self", "source_group"),
    ],
    attrs: &[
        attr("protocol", Type::Protocol, Mode::Required, "`tcp`, `udp`, `icmp` or `all`."),
        attr("port", Type::Port, Mode::Optional, "A port (`80`) or range (`\"8000-8010\"`); needed for tcp and udp."),
        attr(
            "cidr",
            Type::IpCidr,
            Mode::Optional,
            "Source (ingress) or destination (egress) range, IPv4 (`0.0.0.0/0`) or IPv6 (`::/0`; AWS's `Ipv6Ranges`).",
        ),
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
        valid(limit(attr("description", Type::Str, Mode::Optional, "What the rule is for."), 255), ec2_description),
    ],
};

fn ssh_open(s: &Subject) -> Vec<String> {
    world_opens(s.attrs, "ingress", "cidr", "port", 22)
}

fn rdp_open(s: &Subject) -> Vec<String> {
    world_opens(s.attrs, "ingress", "cidr", "port", 3389)
}

fn all_open(s: &Subject) -> Vec<String> {
    let rules = open_to_world(s.attrs, "ingress", "cidr", "port");
    rules.iter().filter(|r| r.protocol == "all" || r.ports.is_none_or(|(a, b)| a == 0 && b >= 65535)).map(|r| r.words()).collect()
}

/// A database engine's port open to the world, on a group no database of the plan uses
/// (those are `sg-database-open`'s).
fn database_port_open(s: &Subject) -> Vec<String> {
    if !(s.referrers)("db_instance").is_empty() {
        return vec![];
    }
    DATABASE_PORTS
        .iter()
        .flat_map(|(port, engine)| {
            world_opens(s.attrs, "ingress", "cidr", "port", *port)
                .into_iter()
                .map(move |w| format!("{w}: port {port} is {engine}'s"))
        })
        .collect()
}

/// The port of a database that uses this group, open to the world.
fn database_open(s: &Subject) -> Vec<String> {
    let mut out = Vec::new();
    for (address, db) in (s.referrers)("db_instance") {
        let port = db.get("port").and_then(Value::as_int).or_else(|| db.get("engine").and_then(Value::as_str).map(engine_port));
        if let Some(p) = port {
            out.extend(
                world_opens(s.attrs, "ingress", "cidr", "port", p)
                    .into_iter()
                    .map(|w| format!("{w}: the port of `{address}`, which uses this group")),
            );
        }
    }
    out
}

static RULES: [Rule; 5] = [
    Rule {
        id: "sg-database-open",
        checkov: None,
        severity: Severity::Critical,
        title: "a database's port is open to the internet",
        why: "the group guards a database of this stack, and anyone on the internet can reach its port: one leaked or guessed password away from the data",
        fix: "allow the database's port only from the application's group (`source_group: ${security_group.app}`) or the VPC's range",
        check: database_open,
    },
    Rule {
        id: "sg-ssh-open",
        checkov: Some("CKV_AWS_24"),
        severity: Severity::High,
        title: "SSH is open to the internet",
        why: "port 22 reachable from any address draws constant brute-force attempts on every instance in the group",
        fix: "allow 22 only from a bastion's group or an office range, or use SSM Session Manager and drop the rule",
        check: ssh_open,
    },
    Rule {
        id: "sg-rdp-open",
        checkov: Some("CKV_AWS_25"),
        severity: Severity::High,
        title: "RDP is open to the internet",
        why: "port 3389 reachable from any address is a common way into Windows hosts",
        fix: "allow 3389 only from a known range or a bastion's group",
        check: rdp_open,
    },
    Rule {
        id: "sg-all-open",
        checkov: Some("CKV_AWS_277"),
        severity: Severity::High,
        title: "every port is open to the internet",
        why: "whatever listens on any port of the group's members is reachable from any address",
        fix: "list the ports the service needs (`protocol: tcp`, `port: 443`) instead of `protocol: all`",
        check: all_open,
    },
    Rule {
        id: "sg-database-port-open",
        checkov: None,
        severity: Severity::High,
        title: "a database engine's port is open to the internet",
        why: "3306, 5432, 1521 and 1433 are where databases listen; open to any address, they are scanned for weak passwords within minutes",
        fix: "allow the port only from the application's group (`source_group`) or the VPC's range",
        check: database_port_open,
    },
];

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
            force(default(valid(limit(attr("description", Type::Str, Mode::Optional, "AWS cannot change it later."), 255), ec2_description), Default::Str("Managed by trellis"))),
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
    rules: &RULES,
    terraform_types: &[tf("aws_security_group"), tf_part("aws_security_group_rule", "ingress, egress"), tf_part("aws_vpc_security_group_ingress_rule", "ingress"), tf_part("aws_vpc_security_group_egress_rule", "egress")],
    create_call: Some(("ec2", "CreateSecurityGroup")),
    ..BASE
};
