//! The schema of `vpc`; its AWS side is `trellis-aws/src/kinds/vpc.rs`.

use super::{attr, computed_with, default, force, tf, tf_part, BASE, ID, PROTECT, TAGS};
use crate::schema::{Default, Kind, Mode, Object, Rule, Severity, Subject, Type};
use crate::Value;

fn default_group_open(s: &Subject) -> Vec<String> {
    match s.attrs.get("default_security_group_rules").and_then(Value::as_str) {
        Some("none") => vec![],
        _ => vec!["default_security_group_rules: aws-default (members of the default group reach each other, and anything out)".into()],
    }
}

static RULES: [Rule; 1] = [Rule {
    id: "vpc-default-sg-open",
    checkov: Some("CKV2_AWS_12"),
    severity: Severity::Low,
    title: "the VPC's default security group allows traffic",
    why: "an instance or interface launched without a group lands in it, and reaches every other object that did",
    fix: "`default_security_group_rules: none`: trellis takes the group over and keeps it empty; give every object a group of its own",
    check: default_group_open,
}];

pub static VPC: Kind = Kind {
    name: "vpc",
    doc: "A virtual private cloud (`aws ec2 create-vpc`).",
    id_prefix: "vpc-",
    object: Object {
        check: None,
        other_names: &[],
        attrs: &[
            force(attr("cidr_block", Type::Cidr, Mode::Required, "The IPv4 range, /16 to /28.")),
            default(
                attr(
                    "amazon_provided_ipv6_cidr_block",
                    Type::Bool,
                    Mode::Optional,
                    "`true`: AWS gives it an IPv6 /56 (`ipv6_cidr_block`), from which its subnets take their /64s (`ipv6_netnum`). Changed in place (`associate-vpc-cidr-block`).",
                ),
                Default::Bool(false),
            ),
            computed_with(
                attr("ipv6_cidr_block", Type::Str, Mode::Computed, "The IPv6 /56 AWS gave it, when it has one."),
                "amazon_provided_ipv6_cidr_block",
            ),
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
            default(
                attr(
                    "default_security_group_rules",
                    Type::Enum(&["aws-default", "none"]),
                    Mode::Optional,
                    "The rules of the VPC's default security group, which trellis takes over as Terraform's `aws_default_security_group` does: `none` revokes every rule (and again whenever one appears: a rule added outside is drift); `aws-default` leaves AWS's own (all traffic between its members, all traffic out), and puts them back when changed from `none`. Changed in place.",
                ),
                Default::Str("aws-default"),
            ),
            attr(
                "default_network_acl_ingress",
                Type::List(&Type::Object(&super::network_acl::NACL_RULE)),
                Mode::OptionalComputed,
                "The inbound rules of the VPC's default network ACL (the one every subnet without an ACL of its own uses), taken over as Terraform's `aws_default_network_acl` does: given, trellis makes the ACL's rules exactly these (`[]` denies everything; a rule added outside is drift); left out, whatever it holds is left alone. AWS's own: rule 100 allowing all traffic. Changed in place.",
            ),
            attr(
                "default_network_acl_egress",
                Type::List(&Type::Object(&super::network_acl::NACL_RULE)),
                Mode::OptionalComputed,
                "Its outbound rules, likewise.",
            ),
            attr(
                "main_route_table_routes",
                Type::List(&Type::Object(&super::route_table::ROUTE)),
                Mode::OptionalComputed,
                "The routes of the VPC's main route table (the one every subnet without a table of its own uses) besides its `local` route, taken over as Terraform's `aws_default_route_table` does: given, trellis makes them exactly these (`[]` keeps only `local`, so no subnet is public by accident; a route added outside is drift); left out, left alone. Changed in place.",
            ),
            TAGS,
            attr("default_network_acl_id", Type::Str, Mode::Computed, "The network ACL AWS made with the VPC."),
            attr("main_route_table_id", Type::Str, Mode::Computed, "The route table AWS made with the VPC, its main one."),
            attr(
                "default_security_group_id",
                Type::Ref("security_group"),
                Mode::Computed,
                "The security group AWS made with the VPC (named `default`), for what uses it: `${vpc.main.default_security_group_id}`.",
            ),
            ID,
            PROTECT,
        ],
    },
    rules: &RULES,
    terraform_types: &[
        tf("aws_vpc"),
        tf_part("aws_default_security_group", "default_security_group_rules"),
        tf_part("aws_default_network_acl", "default_network_acl_ingress, default_network_acl_egress"),
        tf_part("aws_default_route_table", "main_route_table_routes"),
    ],
    create_call: Some(("ec2", "CreateVpc")),
    ..BASE
};
