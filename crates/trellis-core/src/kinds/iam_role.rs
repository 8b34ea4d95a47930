//! The schema of `iam_role`; its AWS side is `trellis-aws/src/kinds/iam_role.rs`.

use super::{ARN, BASE, GENERATED_IAM_NAME, IAM_NAME_ID, IAM_PATH, PROTECT, TAGS, attr, default, force, terraform, tf, tf_part, len, pattern, range};
use crate::schema::{Default, Kind, Mode, Object, Rule, Severity, Subject, Type};
use crate::{Attrs, Value};

/// Each inline policy is a document of its own.
fn check_role(attrs: &Attrs) -> Option<(&'static str, String)> {
    let Some(Value::Map(policies)) = attrs.get("policies") else { return None };
    policies.iter().find(|(_, doc)| !matches!(doc, Value::Map(_) | Value::Unknown)).map(|(name, _)| {
        (
            "policies",
            format!("inline policy `{name}` must be a policy document (a mapping with `Version` and `Statement`)"),
        )
    })
}

/// Whether a trust policy's principal is anyone: `"*"`, or `{"AWS": "*"}`.
fn anyone(principal: &Value) -> bool {
    match principal {
        Value::Str(s) => s == "*",
        Value::List(items) => items.iter().any(anyone),
        Value::Map(m) => m.get("AWS").is_some_and(anyone),
        _ => false,
    }
}

fn open_trust(s: &Subject) -> Vec<String> {
    let statements = match s.attrs.get("assume_role_policy_document") {
        Some(Value::Map(doc)) => match doc.get("Statement") {
            Some(Value::List(items)) => items.clone(),
            Some(one) => vec![one.clone()],
            None => vec![],
        },
        _ => vec![],
    };
    statements
        .iter()
        .filter_map(|st| match st {
            Value::Map(m) => Some(m),
            _ => None,
        })
        .filter(|m| m.get("Effect").and_then(Value::as_str) == Some("Allow") && !m.contains_key("Condition"))
        .filter(|m| m.get("Principal").is_some_and(anyone))
        .map(|_| "a statement allows any principal to assume it, without a condition".to_string())
        .collect()
}

static RULES: [Rule; 1] = [Rule {
    id: "iam-trust-anyone",
    checkov: Some("CKV_AWS_60"),
    severity: Severity::Critical,
    title: "any AWS principal may assume the role",
    why: "a trust policy with `Principal: \"*\"` lets any account in AWS take the role's permissions",
    fix: "name the service (`Principal: { Service: ec2.amazonaws.com }`) or the accounts that may assume it, or add a `Condition`",
    check: open_trust,
}];

pub static IAM_ROLE: Kind = Kind {
    name: "iam_role",
    doc: "An IAM role (`aws iam create-role`) that a service may assume: for instances, give `ec2.amazonaws.com` in its trust policy and hand it to them through an `iam_instance_profile`. `policy_arns` are attached with `attach-role-policy`, `policies` put with `put-role-policy`; every change is made in place. Its id is its name.",
    id_prefix: "",
    generated_name: Some("role_name"),
    object: Object {
        check: Some(check_role),
        other_names: &[
            terraform("name", "role_name"),
            terraform("assume_role_policy", "assume_role_policy_document"),
            terraform("managed_policy_arns", "policy_arns"),
            terraform("inline_policy", "policies"),
        ],
        attrs: &[
            force(pattern(len(attr("role_name", Type::Str, Mode::OptionalComputed, GENERATED_IAM_NAME), 1, 64), "[\\w+=,.@-]+")),
            attr(
                "assume_role_policy_document",
                Type::Document,
                Mode::Required,
                "The trust policy, as a YAML mapping (trellis sends it as JSON): who may assume the role. Changed in place (`update-assume-role-policy`).",
            ),
            pattern(len(attr("description", Type::Str, Mode::Optional, "Changed in place (`update-role`)."), 0, 1000), "[\\u0009\\u000A\\u000D\\u0020-\\u007E\\u00A1-\\u00FF]*"),
            default(
                range(attr(
                    "max_session_duration",
                    Type::Int,
                    Mode::Optional,
                    "Seconds a session of the role lasts at most, 3600 to 43200; changed in place (`update-role`).",
                ), 3600, 43200),
                Default::Int(3600),
            ),
            default(
                attr(
                    "policy_arns",
                    Type::Set(&Type::Str),
                    Mode::Optional,
                    "Managed policies attached to it (`attach-role-policy --policy-arn`), e.g. `arn:aws:iam::aws:policy/AmazonVPCFullAccess`.",
                ),
                Default::EmptyList,
            ),
            default(
                attr(
                    "policies",
                    Type::Document,
                    Mode::Optional,
                    "Inline policies, a document per name (`put-role-policy --policy-name NAME --policy-document DOC`).",
                ),
                Default::EmptyMap,
            ),
            TAGS,
            ARN,
            IAM_PATH,
            IAM_NAME_ID,
            PROTECT,
        ],
    },
    rules: &RULES,
    terraform_types: &[tf("aws_iam_role"), tf_part("aws_iam_role_policy", "policies"), tf_part("aws_iam_role_policy_attachment", "policy_arns")],
    create_call: Some(("iam", "CreateRole")),
    id_is: Some(("role_name", false)),
    ..BASE
};
