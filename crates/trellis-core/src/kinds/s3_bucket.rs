//! The schema of `s3_bucket`; its AWS side is `trellis-aws/src/kinds/s3_bucket.rs`.
//!
//! One kind for what Terraform writes as five resources (the bucket, its public access
//! block, versioning, lifecycle and policy, and its encryption and ownership besides):
//! each setting is an attribute named after its `put-bucket-*` call's members.

use super::{attr, default, force, len, local, terraform, tf, tf_part, valid, BASE, TAGS};
use crate::schema::{DataRules, Default, Guard, Kind, Mode, Object, Rule, Severity, Subject, Type};
use crate::Value;

/// AWS's bucket naming rules: lower-case letters, digits, dots and hyphens, starting
/// and ending with a letter or digit, not an IP address.
fn bucket_name(v: &Value) -> Option<String> {
    let name = v.as_str()?;
    let edge_ok = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if !name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-') {
        return Some("AWS takes only lower-case letters, digits, `.` and `-` in a bucket's name".into());
    }
    if !edge_ok(name.chars().next()) || !edge_ok(name.chars().last()) {
        return Some("a bucket's name starts and ends with a letter or a digit".into());
    }
    if name.contains("..") || name.parse::<std::net::Ipv4Addr>().is_ok() {
        return Some("a bucket's name has no `..` and is not an IP address".into());
    }
    None
}

static TRANSITION: Object = Object {
    check: None,
    other_names: &[],
    attrs: &[
        attr("days", Type::Int, Mode::Required, "Days after an object's creation when it moves (`Days`)."),
        attr(
            "storage_class",
            Type::Enum(&["STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "GLACIER", "GLACIER_IR", "DEEP_ARCHIVE"]),
            Mode::Required,
            "The class it moves to (`StorageClass`).",
        ),
    ],
};

static LIFECYCLE_RULE: Object = Object {
    check: None,
    other_names: &[],
    attrs: &[
        attr("id", Type::Str, Mode::Required, "The rule's name (`ID`), unique in the bucket."),
        default(attr("status", Type::Enum(&["Enabled", "Disabled"]), Mode::Optional, "`Status`."), Default::Str("Enabled")),
        default(
            attr("prefix", Type::Str, Mode::Optional, "The objects it applies to, by key prefix (`Filter.Prefix`); empty: all."),
            Default::Str(""),
        ),
        attr("expiration_days", Type::Int, Mode::Optional, "Objects are deleted this many days after their creation (`Expiration.Days`)."),
        attr(
            "noncurrent_version_expiration_days",
            Type::Int,
            Mode::Optional,
            "Versions no longer current are deleted after this many days (`NoncurrentVersionExpiration.NoncurrentDays`).",
        ),
        attr(
            "abort_incomplete_multipart_upload_days",
            Type::Int,
            Mode::Optional,
            "Unfinished uploads are removed after this many days (`AbortIncompleteMultipartUpload.DaysAfterInitiation`).",
        ),
        default(
            attr("transitions", Type::List(&Type::Object(&TRANSITION)), Mode::Optional, "Moves to cheaper classes (`Transitions`)."),
            Default::EmptyList,
        ),
    ],
};

static BUCKET_DATA: DataRules = DataRules {
    noun: "bucket",
    guard: Guard::Consent("force_destroy"),
    skip_final_snapshot: None,
    final_snapshot_name: None,
    no_final_snapshot: None,
    lost: Some("its objects, every version of them, are deleted with it"),
    holds: Some("holds_objects"),
};

fn flag(s: &Subject, name: &str) -> Option<bool> {
    s.attrs.get(name).and_then(Value::as_bool)
}

fn public(s: &Subject) -> Vec<String> {
    ["block_public_acls", "ignore_public_acls", "block_public_policy", "restrict_public_buckets"]
        .into_iter()
        .filter(|a| flag(s, a) == Some(false))
        .map(|a| format!("{a}: false"))
        .collect()
}

fn unversioned(s: &Subject) -> Vec<String> {
    match s.attrs.get("versioning").and_then(Value::as_str) {
        Some("Enabled") => vec![],
        Some(other) => vec![format!("versioning: {other}")],
        None => vec!["versioning is not set (AWS's default: off)".into()],
    }
}

static RULES: [Rule; 2] = [
    Rule {
        id: "bucket-public-access",
        checkov: Some("CKV2_AWS_6"),
        severity: Severity::High,
        title: "the bucket's public access block is (partly) off",
        why: "one policy or ACL written by mistake then makes its objects readable by anyone",
        fix: "leave `block_public_acls`, `ignore_public_acls`, `block_public_policy` and `restrict_public_buckets` at `true`; serve public files through a CDN instead",
        check: public,
    },
    Rule {
        id: "bucket-unversioned",
        checkov: Some("CKV_AWS_21"),
        severity: Severity::Low,
        title: "the bucket keeps no versions",
        why: "an object overwritten or deleted by mistake cannot be brought back",
        fix: "`versioning: Enabled` (and a lifecycle rule's `noncurrent_version_expiration_days` to bound the cost)",
        check: unversioned,
    },
];

pub static S3_BUCKET: Kind = Kind {
    name: "s3_bucket",
    doc: "An S3 bucket with its settings (`aws s3api create-bucket`, then `put-bucket-ownership-controls`, `put-public-access-block`, `put-bucket-encryption`, `put-bucket-versioning`, `put-bucket-lifecycle-configuration`, `put-bucket-policy` and `put-bucket-tagging`, each only when its setting differs). Every setting changes in place; only the name replaces it. **Holds data**: a bucket that holds objects is deleted (or replaced) only with `force_destroy: true` or `--allow-data-loss`, and then every object version goes first; an empty one goes freely. Its id is its name.",
    id_prefix: "",
    generated_name: Some("bucket"),
    holds_data: Some(&BUCKET_DATA),
    rules: &RULES,
    object: Object {
        check: None,
        other_names: &[terraform("bucket_prefix", "bucket")],
        attrs: &[
            force(valid(
                len(
                    attr(
                        "bucket",
                        Type::Str,
                        Mode::OptionalComputed,
                        "The bucket's name, unique across all of AWS. Left out, trellis generates `<stack>-<name>` in lower case (with a suffix when a replacement needs a second name). Changing it replaces the bucket.",
                    ),
                    3,
                    63,
                ),
                bucket_name,
            )),
            default(
                attr(
                    "object_ownership",
                    Type::Enum(&["BucketOwnerEnforced", "BucketOwnerPreferred", "ObjectWriter"]),
                    Mode::Optional,
                    "Who owns uploaded objects (`--object-ownership`; `put-bucket-ownership-controls`). `BucketOwnerEnforced` turns ACLs off.",
                ),
                Default::Str("BucketOwnerEnforced"),
            ),
            attr(
                "versioning",
                Type::Enum(&["Enabled", "Suspended"]),
                Mode::OptionalComputed,
                "`put-bucket-versioning` `Status`. Left out, as AWS has it (a new bucket keeps no versions). A bucket once versioned can only be `Suspended`, never unversioned (AWS's rule).",
            ),
            default(
                attr(
                    "sse_algorithm",
                    Type::Enum(&["AES256", "aws:kms", "aws:kms:dsse"]),
                    Mode::Optional,
                    "Default encryption of new objects (`put-bucket-encryption` `SSEAlgorithm`): S3's own keys, or KMS.",
                ),
                Default::Str("AES256"),
            ),
            attr(
                "kms_master_key_id",
                Type::Str,
                Mode::Optional,
                "With `aws:kms`: the key (`KMSMasterKeyID`, an id, ARN or alias); left out, AWS's managed key for S3.",
            ),
            default(
                attr("bucket_key_enabled", Type::Bool, Mode::Optional, "With KMS: an S3 Bucket Key, fewer calls to KMS (`BucketKeyEnabled`)."),
                Default::Bool(false),
            ),
            default(
                attr("block_public_acls", Type::Bool, Mode::Optional, "`put-public-access-block` `BlockPublicAcls`."),
                Default::Bool(true),
            ),
            default(
                attr("ignore_public_acls", Type::Bool, Mode::Optional, "`put-public-access-block` `IgnorePublicAcls`."),
                Default::Bool(true),
            ),
            default(
                attr("block_public_policy", Type::Bool, Mode::Optional, "`put-public-access-block` `BlockPublicPolicy`."),
                Default::Bool(true),
            ),
            default(
                attr(
                    "restrict_public_buckets",
                    Type::Bool,
                    Mode::Optional,
                    "`put-public-access-block` `RestrictPublicBuckets`.",
                ),
                Default::Bool(true),
            ),
            default(
                attr(
                    "lifecycle_rules",
                    Type::List(&Type::Object(&LIFECYCLE_RULE)),
                    Mode::Optional,
                    "`put-bucket-lifecycle-configuration` `Rules`, each with its filter by prefix, expirations and transitions.",
                ),
                Default::EmptyList,
            ),
            attr(
                "policy",
                Type::Document,
                Mode::Optional,
                "The bucket policy (`put-bucket-policy`), written as YAML; compared as a structure. For a load balancer's access logs, allow the principal `logdelivery.elasticloadbalancing.amazonaws.com` to `s3:PutObject` under the logs' prefix (regions opened before August 2022 take their ELB account instead: see the kind's notes in docs/spec.md).",
            ),
            local(default(
                attr(
                    "force_destroy",
                    Type::Bool,
                    Mode::Optional,
                    "trellis setting: `true` consents to deleting the bucket with its objects (every version is deleted first). Without it, a plan that deletes or replaces a bucket holding objects is refused unless `--allow-data-loss`; an empty bucket goes freely.",
                ),
                Default::Bool(false),
            )),
            TAGS,
            attr("arn", Type::Str, Mode::Computed, "`arn:aws:s3:::<bucket>`."),
            attr(
                "bucket_regional_domain_name",
                Type::Str,
                Mode::Computed,
                "`<bucket>.s3.<region>.amazonaws.com`, for a CDN's origin.",
            ),
            attr("holds_objects", Type::Bool, Mode::Computed, "Whether the bucket held any object (or version) when last read."),
            attr("id", Type::Str, Mode::Computed, "The bucket's name."),
        ],
    },
    terraform_types: &[
        tf("aws_s3_bucket"),
        tf_part("aws_s3_bucket_versioning", "versioning"),
        tf_part("aws_s3_bucket_public_access_block", "block_public_acls, ignore_public_acls, block_public_policy, restrict_public_buckets"),
        tf_part("aws_s3_bucket_lifecycle_configuration", "lifecycle_rules"),
        tf_part("aws_s3_bucket_policy", "policy"),
        tf_part("aws_s3_bucket_server_side_encryption_configuration", "sse_algorithm, kms_master_key_id, bucket_key_enabled"),
        tf_part("aws_s3_bucket_ownership_controls", "object_ownership"),
    ],
    create_call: Some(("s3", "CreateBucket")),
    ..BASE
};
