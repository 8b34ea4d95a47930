//! The schema of `acm_certificate`; its AWS side is `trellis-aws/src/kinds/acm_certificate.rs`.

use super::{attr, default, force, len, local, pattern, tf, tf_part, BASE, PROTECT, TAGS};
use crate::schema::{Default, Kind, Mode, Object, Type};
use crate::{Attrs, Value};

static VALIDATION: Object = Object {
    check: None,
    other_names: &[],
    attrs: &[
        attr("domain_name", Type::Str, Mode::Computed, "The name it validates."),
        attr("resource_record_name", Type::Str, Mode::Computed, "The CNAME record's name."),
        attr("resource_record_type", Type::Str, Mode::Computed, "`CNAME`."),
        attr("resource_record_value", Type::Str, Mode::Computed, "The CNAME record's value."),
    ],
};

/// AWS puts the domain among the names itself; naming it again would read back once.
fn check_certificate(a: &Attrs) -> Option<(&'static str, String)> {
    let domain = a.get("domain_name").and_then(Value::as_str)?;
    let again = a.get("subject_alternative_names").map(Value::as_list).unwrap_or_default();
    again.iter().any(|n| n.as_str() == Some(domain)).then(|| {
        ("subject_alternative_names", format!("`{domain}` is the `domain_name` already: list only the other names"))
    })
}

pub static ACM_CERTIFICATE: Kind = Kind {
    name: "acm_certificate",
    doc: "A public TLS certificate from ACM (`aws acm request-certificate`), validated by DNS. With `validation_zone_id`, trellis writes the validation records into that Route53 zone and the create waits, with progress, until ACM says `ISSUED`, so a listener made in the same apply can serve it. Without it, write the records in `domain_validation_options` where your DNS is; a listener naming a certificate that is not issued is refused before the apply. Its id is its ARN.",
    id_prefix: "arn:",
    new_first: true,
    usable_when: Some(("status", "ISSUED")),
    object: Object {
        check: Some(check_certificate),
        other_names: &[],
        attrs: &[
            force(pattern(
                len(attr("domain_name", Type::Str, Mode::Required, "The name it certifies (`example.com`, or `*.example.com`)."), 1, 253),
                "(\\*\\.)?(((?!-)[A-Za-z0-9-]{0,62}[A-Za-z0-9])\\.)+((?!-)[A-Za-z0-9-]{1,62}[A-Za-z0-9])",
            )),
            force(len(
                attr("subject_alternative_names", Type::Set(&Type::Str), Mode::Optional, "The other names it certifies (`www.example.com`)."),
                1,
                100,
            )),
            force(default(
                attr("validation_method", Type::Enum(&["DNS", "EMAIL"]), Mode::Optional, "How ACM checks you hold the names."),
                Default::Str("DNS"),
            )),
            local(attr(
                "validation_zone_id",
                Type::Ref("route53_zone"),
                Mode::Optional,
                "trellis setting: the Route53 zone to write the DNS validation records into (`${route53_zone.main}`); the create then waits until the certificate is issued. The records go with the certificate.",
            )),
            TAGS,
            attr("status", Type::Str, Mode::Computed, "`PENDING_VALIDATION`, `ISSUED`, ... as ACM says."),
            attr(
                "domain_validation_options",
                Type::List(&Type::Object(&VALIDATION)),
                Mode::Computed,
                "For each name, the CNAME record that validates it.",
            ),
            attr("id", Type::Str, Mode::Computed, "The certificate's ARN."),
            PROTECT,
        ],
    },
    terraform_types: &[tf("aws_acm_certificate"), tf_part("aws_acm_certificate_validation", "validation_zone_id")],
    create_call: Some(("acm", "RequestCertificate")),
    ..BASE
};
