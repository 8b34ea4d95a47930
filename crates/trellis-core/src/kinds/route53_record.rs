//! The schema of `route53_record`; its AWS side is `trellis-aws/src/kinds/route53_record.rs`.

use super::{attr, default, force, len, limit, range, tf, terraform, BASE, PROTECT};
use crate::schema::{Default, Effect, Kind, Mode, Object, Type};
use crate::{Attrs, Value};

static ALIAS: Object = Object {
    check: None,
    other_names: &[terraform("name", "dns_name"), terraform("zone_id", "hosted_zone_id")],
    attrs: &[
        attr(
            "dns_name",
            Type::Str,
            Mode::Required,
            "What the alias answers for: `${load_balancer.web.dns_name}`.",
        ),
        attr(
            "hosted_zone_id",
            Type::Str,
            Mode::Required,
            "The target's own zone, not this record's: `${load_balancer.web.canonical_hosted_zone_id}`.",
        ),
        default(
            attr(
                "evaluate_target_health",
                Type::Bool,
                Mode::Optional,
                "Answer only while the target is healthy (for failover).",
            ),
            Default::Bool(false),
        ),
    ],
};

/// A record is an alias or has values with a time to live; routing by weight or by
/// failover names the record among its namesakes.
fn check_record(a: &Attrs) -> Option<(&'static str, String)> {
    let alias = a.contains_key("alias_target");
    let values = a.contains_key("resource_records");
    if alias == values {
        return Some(("resource_records", "a record takes either `resource_records` (with `ttl`) or `alias_target`".into()));
    }
    if alias && a.contains_key("ttl") {
        return Some(("ttl", "an alias has no `ttl` of its own: AWS uses its target's".into()));
    }
    if values && !a.contains_key("ttl") {
        return Some(("ttl", "records with values need a `ttl` (seconds, e.g. 300)".into()));
    }
    let routed = a.contains_key("weight") || a.contains_key("failover");
    if routed != a.contains_key("set_identifier") {
        return Some((
            "set_identifier",
            "weighted and failover records each need a `set_identifier` (and one of `weight` or `failover`)".into(),
        ));
    }
    if let Some(name) = a.get("name").and_then(Value::as_str) {
        if name.ends_with('.') {
            return Some(("name", format!("write `{}` without the trailing dot", name.trim_end_matches('.'))));
        }
    }
    None
}

pub static ROUTE53_RECORD: Kind = Kind {
    name: "route53_record",
    doc: "A record set of a Route53 zone (`aws route53 change-resource-record-sets`, as an `UPSERT`, waited on until AWS says `INSYNC`). Its members are the `ResourceRecordSet`'s, except that `resource_records` is the list of values (awscli's `ResourceRecords=[{Value=...}]`). It has no tags: trellis knows it by its id, `<zone id>|<name>|<type>` (and `|<set identifier>`).",
    id_prefix: "Z",
    object: Object {
        check: Some(check_record),
        other_names: &[terraform("zone_id", "hosted_zone_id"), terraform("records", "resource_records"), terraform("alias", "alias_target")],
        attrs: &[
            force(attr("hosted_zone_id", Type::Ref("route53_zone"), Mode::Required, "The zone.")),
            force(limit(attr("name", Type::Str, Mode::Required, "The full name (`www.example.com`), inside the zone's."), 1024)),
            force(attr(
                "type",
                Type::Enum(&["A", "AAAA", "CNAME", "TXT", "MX", "NS", "SRV", "CAA", "PTR", "SPF"]),
                Mode::Required,
                "The record type.",
            )),
            force(len(
                attr("set_identifier", Type::Str, Mode::Optional, "Names this record among its namesakes of weighted or failover routing."),
                1,
                128,
            )),
            range(attr("ttl", Type::Int, Mode::Optional, "Seconds resolvers keep the answer (not for an alias)."), 0, 2147483647),
            super::interrupts(
                attr(
                    "resource_records",
                    Type::List(&Type::Str),
                    Mode::Optional,
                    "The values (`203.0.113.10`; a TXT value in its quotes, `\"v=spf1 -all\"`; MX `10 mail.example.com`).",
                ),
                Effect::Network,
                "resolvers keep the old answer for up to its `ttl` seconds",
            ),
            super::interrupts(
                attr("alias_target", Type::Object(&ALIAS), Mode::Optional, "An alias to an AWS name (a load balancer's)."),
                Effect::Network,
                "resolvers keep the old answer for up to the target's time to live",
            ),
            range(attr("weight", Type::Int, Mode::Optional, "For weighted routing: its share against its namesakes'."), 0, 255),
            attr(
                "failover",
                Type::Enum(&["PRIMARY", "SECONDARY"]),
                Mode::Optional,
                "For failover routing: which of the two this is.",
            ),
            attr("id", Type::Str, Mode::Computed, "`<zone id>|<name>|<type>`, and `|<set identifier>` when it has one."),
            PROTECT,
        ],
    },
    terraform_types: &[tf("aws_route53_record")],
    create_call: Some(("route53", "ChangeResourceRecordSets")),
    new_first: false,
    ..BASE
};
