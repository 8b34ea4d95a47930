//! The schema of `route53_zone`; its AWS side is `trellis-aws/src/kinds/route53_zone.rs`.

use super::{attr, default, force, limit, tf, BASE, PROTECT, TAGS};
use crate::schema::{Default, Kind, Mode, Object, Type};
use crate::{Attrs, Value};

/// A zone's name is a domain name, without the root's trailing dot (AWS adds it).
fn check_zone(a: &Attrs) -> Option<(&'static str, String)> {
    let name = a.get("name").and_then(Value::as_str)?;
    if name.ends_with('.') {
        return Some(("name", format!("write `{}` without the trailing dot", name.trim_end_matches('.'))));
    }
    (!name.contains('.')).then(|| ("name", format!("`{name}` is not a domain name (`example.com`)")))
}

pub static ROUTE53_ZONE: Kind = Kind {
    name: "route53_zone",
    doc: "A Route53 hosted zone (`aws route53 create-hosted-zone`): public, or private to the VPCs in `vpcs`. trellis sends its own `--caller-reference`, so a create whose answer was lost is found, never made twice. Deleting it deletes nothing else: AWS refuses while it holds records other than its own NS and SOA, and trellis deletes the records it made first. Its id is the zone's id (`Z...`).",
    id_prefix: "Z",
    object: Object {
        check: Some(check_zone),
        other_names: &[],
        attrs: &[
            force(limit(attr("name", Type::Str, Mode::Required, "The domain (`example.com`)."), 1024)),
            attr(
                "comment",
                Type::Str,
                Mode::Optional,
                "A note on the zone (awscli's `--hosted-zone-config Comment=...`). Changed in place.",
            ),
            default(attr(
                "vpcs",
                Type::Set(&Type::Ref("vpc")),
                Mode::Optional,
                "For a private zone: the VPCs (in the stack's region) whose resolvers answer from it (awscli's `--vpc VPCRegion=...,VPCId=...` for the first, `associate-vpc-with-hosted-zone` for the others). Left out, a public zone. VPCs are added and removed in place; a public zone cannot become private or the other way (AWS's rule): replace it with `--replace`.",
            ), Default::EmptyList),
            TAGS,
            attr("name_servers", Type::List(&Type::Str), Mode::Computed, "The name servers AWS gave a public zone: name them at your registrar."),
            attr("id", Type::Str, Mode::Computed, "The zone's id (`Z...`), without `/hostedzone/`."),
            PROTECT,
        ],
    },
    terraform_types: &[tf("aws_route53_zone")],
    create_call: Some(("route53", "CreateHostedZone")),
    ..BASE
};
