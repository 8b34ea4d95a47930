//! What instances may do and who may log in to them: IAM roles and the instance
//! profiles that hand a role to EC2 (IAM, global), and EC2 key pairs.
//!
//! IAM objects have no tag filter and no ids of their own that other calls take: trellis
//! names them (the id is the name) and puts them under the path `/trellis/<stack>/`, so
//! one listing with that prefix finds a stack's roles and profiles.

use super::{attr, default, file_of, force, limit, terraform, write_only, PROTECT, TAGS};
use crate::schema::{Attr, Default, Kind, Mode, Object, Type};
use crate::{Attrs, Value};

const GENERATED_NAME: &str =
    "The IAM name. Left out, trellis generates `<stack>-<name>` (with a suffix when a replacement needs a second name), so a replacement can be created before the old object goes.";
const NAME_ID: Attr = attr("id", Type::Str, Mode::Computed, "The name: IAM's calls take it.");
const ARN: Attr = attr("arn", Type::Str, Mode::Computed, "The ARN.");
const PATH: Attr =
    attr("path", Type::Str, Mode::Computed, "`/trellis/<stack>/`: where trellis lists the stack's IAM objects.");

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
    versioned: None,
    generated_name: Some("role_name"),
    holds_data: None,
    restart: None,
    ref_checks: &[],
    update_note: None,
    upgrade: None,
    rollout: None,
    new_first: false,
    object: Object {
        check: Some(check_role),
        other_names: &[
            terraform("name", "role_name"),
            terraform("assume_role_policy", "assume_role_policy_document"),
            terraform("managed_policy_arns", "policy_arns"),
            terraform("inline_policy", "policies"),
        ],
        attrs: &[
            force(limit(attr("role_name", Type::Str, Mode::OptionalComputed, GENERATED_NAME), 64)),
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
            PATH,
            NAME_ID,
            PROTECT,
        ],
    },
};

pub static IAM_INSTANCE_PROFILE: Kind = Kind {
    name: "iam_instance_profile",
    doc: "An instance profile (`aws iam create-instance-profile`, `add-role-to-instance-profile`): how an instance or a launch template takes a role, with `iam_instance_profile: ${iam_instance_profile.NAME}`. IAM is eventually consistent: EC2 may refuse a new profile for a few seconds, and trellis waits. Its id is its name.",
    id_prefix: "",
    versioned: None,
    generated_name: Some("instance_profile_name"),
    holds_data: None,
    restart: None,
    ref_checks: &[],
    update_note: None,
    upgrade: None,
    rollout: None,
    new_first: false,
    object: Object {
        check: None,
        other_names: &[terraform("name", "instance_profile_name"), terraform("role", "role_name")],
        attrs: &[
            force(limit(attr("instance_profile_name", Type::Str, Mode::OptionalComputed, GENERATED_NAME), 128)),
            attr(
                "role_name",
                Type::Ref("iam_role"),
                Mode::Optional,
                "Its role (`add-role-to-instance-profile --role-name`): `${iam_role.NAME}`; changed in place.",
            ),
            TAGS,
            ARN,
            PATH,
            NAME_ID,
            PROTECT,
        ],
    },
};

/// The key comes from the spec or from a file, once.
fn check_key_pair(attrs: &Attrs) -> Option<(&'static str, String)> {
    (!attrs.contains_key("public_key_material") && !attrs.contains_key("public_key_material_file")).then(|| {
        (
            "key_name",
            "a key pair needs its public key: give `public_key_material_file: KEY.pub` (or `public_key_material`)"
                .into(),
        )
    })
}

pub static KEY_PAIR: Kind = Kind {
    name: "key_pair",
    doc: "An EC2 key pair made from a public key you hold (`aws ec2 import-key-pair`); trellis never makes or stores a private key. Instances and launch templates name it in `key_name: ${key_pair.NAME}`. AWS keeps the key but not always as it was given, so trellis compares the key the state recorded, and `key_fingerprint` shows what AWS holds. A new key replaces the key pair and, since a key reaches an instance only at launch, the instances that name it by `${key_pair.NAME}`; with `key_name` fixed, `${key_pair.NAME.key_name}` keeps them. Its id is its name.",
    id_prefix: "",
    versioned: None,
    generated_name: Some("key_name"),
    holds_data: None,
    restart: None,
    ref_checks: &[],
    update_note: None,
    upgrade: None,
    rollout: None,
    new_first: false,
    object: Object {
        check: Some(check_key_pair),
        other_names: &[terraform("public_key", "public_key_material")],
        attrs: &[
            force(limit(attr("key_name", Type::Str, Mode::OptionalComputed, GENERATED_NAME), 255)),
            force(write_only(attr(
                "public_key_material",
                Type::Str,
                Mode::Optional,
                "The public key in OpenSSH form (`ssh-ed25519 AAAA...`, `ssh-rsa AAAA...`); a new key replaces the key pair. Or give `public_key_material_file`.",
            ))),
            file_of(
                attr(
                    "public_key_material_file",
                    Type::Str,
                    Mode::Optional,
                    "A file holding the public key (`~/.ssh/id_ed25519.pub` copied next to the spec), relative to the spec.",
                ),
                "public_key_material",
            ),
            TAGS,
            attr("key_fingerprint", Type::Str, Mode::Computed, "The fingerprint AWS computed."),
            attr("key_pair_id", Type::Str, Mode::Computed, "AWS's id of the key pair (`key-...`)."),
            attr("key_type", Type::Str, Mode::Computed, "`rsa` or `ed25519`."),
            NAME_ID,
            PROTECT,
        ],
    },
};
