//! The schema of `iam_role`; its AWS side is `trellis-aws/src/kinds/iam_role.rs`.

use super::{
    attr, default, force, limit, terraform, ARN, BASE, GENERATED_IAM_NAME, IAM_NAME_ID, IAM_PATH, PROTECT, TAGS,
};
use crate::schema::{Default, Kind, Mode, Object, Type};
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
            force(limit(attr("role_name", Type::Str, Mode::OptionalComputed, GENERATED_IAM_NAME), 64)),
            attr(
                "assume_role_policy_document",
                Type::Document,
                Mode::Required,
                "The trust policy, as a YAML mapping (trellis sends it as JSON): who may assume the role. Changed in place (`update-assume-role-policy`).",
            ),
            attr("description", Type::Str, Mode::Optional, "Changed in place (`update-role`)."),
            default(
                attr(
                    "max_session_duration",
                    Type::Int,
                    Mode::Optional,
                    "Seconds a session of the role lasts at most, 3600 to 43200; changed in place (`update-role`).",
                ),
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
    ..BASE
};
