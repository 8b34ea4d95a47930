//! The schema of `load_balancer`; its AWS side is `trellis-aws/src/kinds/load_balancer.rs`.

use super::{BASE, GENERATED_NAME, ID, PROTECT, TAGS, attr, default, force, limit, old, terraform, tf};
use crate::schema::{Default, Kind, Mode, Object, Rule, Severity, Subject, Type};
use crate::Value;

static ACCESS_LOGS: Object = Object {
    check: None,
    other_names: &[],
    attrs: &[
        attr("bucket", Type::Str, Mode::Required, "The S3 bucket (`access_logs.s3.bucket`); its policy must let Elastic Load Balancing write to it."),
        attr("prefix", Type::Str, Mode::Optional, "The key prefix (`access_logs.s3.prefix`); left out, none."),
        default(
            attr("enabled", Type::Bool, Mode::Optional, "`false` keeps the bucket named but stops the logs (`access_logs.s3.enabled`)."),
            Default::Bool(true),
        ),
    ],
};

fn unprotected(s: &Subject) -> Vec<String> {
    (s.attrs.get("deletion_protection").and_then(Value::as_bool) != Some(true))
        .then(|| "deletion_protection is off".to_string())
        .into_iter()
        .collect()
}

fn keeps_invalid_headers(s: &Subject) -> Vec<String> {
    (s.attrs.get("drop_invalid_header_fields").and_then(Value::as_bool) != Some(true))
        .then(|| "drop_invalid_header_fields is off".to_string())
        .into_iter()
        .collect()
}

static RULES: [Rule; 2] = [Rule {
    id: "lb-invalid-headers-kept",
    checkov: Some("CKV_AWS_131"),
    severity: Severity::Low,
    title: "the load balancer passes HTTP headers with invalid names to the targets",
    why: "a header a proxy and an application read differently is how requests are smuggled past the checks in front",
    fix: "`drop_invalid_header_fields: true`",
    check: keeps_invalid_headers,
}, Rule {
    id: "lb-deletion-unprotected",
    checkov: Some("CKV_AWS_150"),
    severity: Severity::Low,
    title: "the load balancer's deletion protection is off",
    why: "deleting it takes the stack's front door and its DNS name with it",
    fix: "`deletion_protection: true`",
    check: unprotected,
}];

pub static LOAD_BALANCER: Kind = Kind {
    name: "load_balancer",
    doc: "An application load balancer (`aws elbv2 create-load-balancer --type application`). Create and update wait until it is `active`. Its id is its ARN.",
    id_prefix: "arn:",
    generated_name: Some("name"),
    object: Object {
        check: None,
        other_names: &[
            old("subnet_ids", "subnets"),
            old("security_group_ids", "security_groups"),
            terraform("internal", "scheme"),
            terraform("enable_deletion_protection", "deletion_protection"),
        ],
        attrs: &[
            force(limit(attr("name", Type::Str, Mode::OptionalComputed, GENERATED_NAME), 32)),
            force(default(
                attr("scheme", Type::Enum(&["internet-facing", "internal"]), Mode::Optional, "Reachable from the internet, or only inside the VPC."),
                Default::Str("internet-facing"),
            )),
            attr("subnets", Type::Set(&Type::Ref("subnet")), Mode::Required, "Subnets in at least two zones (`set-subnets`)."),
            default(
                attr(
                    "ip_address_type",
                    Type::Enum(&["ipv4", "dualstack"]),
                    Mode::Optional,
                    "`dualstack`: reachable over IPv6 too (its subnets need IPv6 blocks). Changed in place (`set-ip-address-type`).",
                ),
                Default::Str("ipv4"),
            ),
            attr(
                "security_groups",
                Type::Set(&Type::Ref("security_group")),
                Mode::OptionalComputed,
                "Security groups (`set-security-groups`); left out, AWS gives it the VPC's default group.",
            ),
            default(attr("idle_timeout", Type::Int, Mode::Optional, "Seconds an idle connection stays open (the `idle_timeout.timeout_seconds` attribute, `modify-load-balancer-attributes`)."), Default::Int(60)),
            default(
                attr("drop_invalid_header_fields", Type::Bool, Mode::Optional, "Drop HTTP headers whose names are not valid (`routing.http.drop_invalid_header_fields.enabled`), so they never reach the targets. Changed in place."),
                Default::Bool(false),
            ),
            default(
                attr("preserve_host_header", Type::Bool, Mode::Optional, "Send the client's `Host` header to the targets unchanged (`routing.http.preserve_host_header.enabled`). Changed in place."),
                Default::Bool(false),
            ),
            default(
                attr("deletion_protection", Type::Bool, Mode::Optional, "Refuse deletion until turned off (trellis will not turn it off for you)."),
                Default::Bool(false),
            ),
            attr(
                "access_logs",
                Type::Object(&ACCESS_LOGS),
                Mode::Optional,
                "Where it writes a log line per request (the `access_logs.s3.*` attributes, `modify-load-balancer-attributes`): `{ bucket: my-logs, prefix: web }`. Left out, no logs (and logs it wrote before stop). Changed in place.",
            ),
            TAGS,
            attr("dns_name", Type::Str, Mode::Computed, "The public DNS name: put `http://${load_balancer.NAME.dns_name}` in `outputs`."),
            attr(
                "canonical_hosted_zone_id",
                Type::Str,
                Mode::Computed,
                "Its DNS name's own Route53 zone, which an alias record names: `${load_balancer.NAME.canonical_hosted_zone_id}`.",
            ),
            attr("arn_suffix", Type::Str, Mode::Computed, "`app/<name>/<hash>`, for CloudWatch and `ALBRequestCountPerTarget`."),
            ID,
            PROTECT,
        ],
    },
    rules: &RULES,
    terraform_types: &[tf("aws_lb"), tf("aws_alb")],
    create_call: Some(("elbv2", "CreateLoadBalancer")),
    ..BASE
};
