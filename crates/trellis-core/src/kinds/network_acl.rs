//! The schema of `network_acl`; its AWS side is `trellis-aws/src/kinds/network_acl.rs`.

use super::{open_to_world, BASE, ID, PROTECT, PROTOCOLS_WITH_PORTS, TAGS, attr, default, force, world_opens, tf, tf_part};
use crate::schema::{Default, Kind, Mode, Object, Rule, Severity, Subject, Type};
use crate::{Attrs, Value};

fn check_nacl_rule(rule: &Attrs) -> Option<(&'static str, String)> {
    let protocol = rule.get("protocol").and_then(Value::as_str).unwrap_or("");
    if rule.contains_key("cidr_block") == rule.contains_key("ipv6_cidr_block") {
        return Some(("cidr_block", "a rule takes one of `cidr_block` (IPv4) or `ipv6_cidr_block`".to_string()));
    }
    let family = |k: &str, v6: bool| rule.get(k).and_then(Value::as_str).is_some_and(|c| c.contains(':') != v6);
    if family("cidr_block", false) || family("ipv6_cidr_block", true) {
        return Some(("cidr_block", "IPv4 ranges go in `cidr_block`, IPv6 ones (`::/0`) in `ipv6_cidr_block`".to_string()));
    }
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

/// One rule; also the VPC's default ACL's (`vpc.default_network_acl_ingress`).
pub(super) static NACL_RULE: Object = Object {
    check: Some(check_nacl_rule),
    other_names: &[],
    attrs: &[
        attr("rule_number", Type::Int, Mode::Required, "Evaluation order, 1 to 32766, lowest first."),
        attr("protocol", Type::Protocol, Mode::Required, "`tcp`, `udp`, `icmp` or `all`."),
        attr("rule_action", Type::Enum(&["allow", "deny"]), Mode::Required, "`allow` or `deny`."),
        attr("cidr_block", Type::Cidr, Mode::Optional, "The traffic's source (ingress) or destination (egress), IPv4."),
        attr(
            "ipv6_cidr_block",
            Type::IpCidr,
            Mode::Optional,
            "The same, IPv6 (`::/0`), in place of `cidr_block` (awscli's `--ipv6-cidr-block`).",
        ),
        attr("port_range", Type::Object(&PORT_RANGE), Mode::Optional, "`{from: N, to: M}`; needed for tcp and udp."),
        attr(
            "icmp_type_code",
            Type::Object(&ICMP_TYPE_CODE),
            Mode::Optional,
            "`{type: N, code: M}` for an `icmp` rule; left out, every ICMP message.",
        ),
    ],
};

fn ssh_open(s: &Subject) -> Vec<String> {
    world_opens(s.attrs, "ingress", "cidr_block", "port_range", 22)
}

fn rdp_open(s: &Subject) -> Vec<String> {
    world_opens(s.attrs, "ingress", "cidr_block", "port_range", 3389)
}

fn all_open(s: &Subject) -> Vec<String> {
    let rules = open_to_world(s.attrs, "ingress", "cidr_block", "port_range");
    rules.iter().filter(|r| r.protocol == "all").map(|r| r.words()).collect()
}

static RULES: [Rule; 3] = [
    Rule {
        id: "nacl-ssh-open",
        checkov: Some("CKV_AWS_232"),
        severity: Severity::Medium,
        title: "the ACL lets SSH in from the internet",
        why: "the subnet's ACL is the second line after security groups; allowing 22 from anywhere leaves only the groups between the internet and SSH",
        fix: "allow 22 only from a known range (`cidr_block`), or deny it with a lower `rule_number`",
        check: ssh_open,
    },
    Rule {
        id: "nacl-rdp-open",
        checkov: Some("CKV_AWS_231"),
        severity: Severity::Medium,
        title: "the ACL lets RDP in from the internet",
        why: "allowing 3389 from anywhere leaves only the security groups between the internet and RDP",
        fix: "allow 3389 only from a known range, or deny it with a lower `rule_number`",
        check: rdp_open,
    },
    Rule {
        id: "nacl-all-open",
        checkov: None,
        severity: Severity::Low,
        title: "the ACL lets every protocol in from the internet",
        why: "the subnet's traffic is then filtered by its security groups alone (AWS's default ACL does the same)",
        fix: "allow only the ports the subnet serves (`protocol: tcp`, `port_range`), and the ephemeral range for replies",
        check: all_open,
    },
];

pub static NETWORK_ACL: Kind = Kind {
    name: "network_acl",
    doc: "A network ACL with its rules and subnet associations (`create-network-acl`, `create-network-acl-entry`, `replace-network-acl-association`). Subnets removed from it go back to the VPC's default ACL.",
    id_prefix: "acl-",
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
    rules: &RULES,
    terraform_types: &[tf("aws_network_acl"), tf_part("aws_network_acl_rule", "ingress, egress"), tf_part("aws_network_acl_association", "subnet_ids")],
    create_call: Some(("ec2", "CreateNetworkAcl")),
    ..BASE
};
