//! The schema of `iam_policy`; its AWS side is `trellis-aws/src/kinds/iam_policy.rs`.

use super::{attr, force, len, pattern, terraform, tf, ARN, BASE, GENERATED_IAM_NAME, IAM_PATH, PROTECT, TAGS};
use crate::schema::{Kind, Mode, Object, Type};

pub static IAM_POLICY: Kind = Kind {
    name: "iam_policy",
    doc: "A customer-managed IAM policy (`aws iam create-policy`), attached to roles by their `policy_arns` (`${iam_policy.NAME}` is its ARN). A change of its document is a new default version (`create-policy-version --set-as-default`); IAM keeps five versions at most, so the oldest that is not the default is deleted first when five exist. Deleting it deletes its other versions first; IAM refuses while a role still has it attached, which trellis orders before. Its id is its ARN.",
    id_prefix: "arn:",
    generated_name: Some("policy_name"),
    object: Object {
        check: None,
        other_names: &[terraform("name", "policy_name"), terraform("policy", "policy_document")],
        attrs: &[
            force(pattern(len(attr("policy_name", Type::Str, Mode::OptionalComputed, GENERATED_IAM_NAME), 1, 128), "[\\w+=,.@-]+")),
            attr(
                "policy_document",
                Type::Document,
                Mode::Required,
                "The policy, as a YAML mapping (trellis sends it as JSON). Changed in place: a new default version.",
            ),
            force(len(attr("description", Type::Str, Mode::Optional, "IAM takes it only at create: changing it replaces the policy."), 0, 1000)),
            TAGS,
            ARN,
            IAM_PATH,
            attr("default_version_id", Type::Str, Mode::Computed, "The version in force (`v1`, `v2`, ...)."),
            attr("id", Type::Str, Mode::Computed, "The ARN: IAM's calls on a policy take it."),
            PROTECT,
        ],
    },
    terraform_types: &[tf("aws_iam_policy")],
    create_call: Some(("iam", "CreatePolicy")),
    ..BASE
};
