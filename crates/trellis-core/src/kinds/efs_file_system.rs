//! The schema of `efs_file_system`; its AWS side is `trellis-aws/src/kinds/efs_file_system.rs`.

use super::{attr, default, force, len, local, pattern, tf, tf_part, ARN, BASE, ID, TAGS};
use crate::schema::{DataRules, Default, Guard, Kind, Mode, Object, Rule, Severity, Subject, Type};
use crate::Value;

/// When files move to Infrequent Access or Archive (`put-lifecycle-configuration`).
const AFTER_DAYS: &[&str] =
    &["AFTER_1_DAY", "AFTER_7_DAYS", "AFTER_14_DAYS", "AFTER_30_DAYS", "AFTER_60_DAYS", "AFTER_90_DAYS", "AFTER_180_DAYS", "AFTER_270_DAYS", "AFTER_365_DAYS"];

/// EFS's pattern for a KMS key: an id, an alias, or the ARN of either.
const KMS_KEY: &str = "^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32}|alias/[a-zA-Z0-9/_-]+|(arn:aws[-a-z]*:kms:[a-z0-9-]+:\\d{12}:((key/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})|(key/mrk-[0-9a-f]{32})|(alias/[a-zA-Z0-9/_-]+))))$";

static LIFECYCLE: Object = Object {
    check: None,
    other_names: &[],
    attrs: &[
        attr("transition_to_ia", Type::Enum(AFTER_DAYS), Mode::Optional, "Files not read for this long move to Infrequent Access (`TransitionToIA`)."),
        attr(
            "transition_to_archive",
            Type::Enum(AFTER_DAYS),
            Mode::Optional,
            "Files not read for this long move to Archive (`TransitionToArchive`; elastic throughput only).",
        ),
        attr(
            "transition_to_primary_storage_class",
            Type::Enum(&["AFTER_1_ACCESS"]),
            Mode::Optional,
            "Files read once move back to Standard (`TransitionToPrimaryStorageClass`).",
        ),
    ],
};

/// A file system holds files: deleting it loses them, and AWS keeps no copy.
static FILE_SYSTEM_DATA: DataRules = DataRules {
    noun: "file system",
    guard: Guard::Protect("protect"),
    skip_final_snapshot: None,
    final_snapshot_name: None,
    no_final_snapshot: None,
    lost: Some("its files are deleted with it (EFS keeps no copy; AWS Backup's, if any, stay)"),
    holds: None,
};

fn unencrypted(s: &Subject) -> Vec<String> {
    match s.attrs.get("encrypted").and_then(Value::as_bool) {
        Some(true) => vec![],
        _ => vec!["encrypted is not true (AWS's default: unencrypted)".into()],
    }
}

static RULES: [Rule; 1] = [Rule {
    id: "efs-unencrypted",
    checkov: Some("CKV_AWS_42"),
    severity: Severity::Medium,
    title: "the file system is not encrypted at rest",
    why: "its files sit unencrypted on AWS's disks; encryption can only be chosen when it is made",
    fix: "`encrypted: true` (and `kms_key_id` for a key of your own); the change replaces the file system, so copy its files first",
    check: unencrypted,
}];

pub static EFS_FILE_SYSTEM: Kind = Kind {
    name: "efs_file_system",
    doc: "An EFS file system (`aws efs create-file-system`): files the instances of a group share (mounted through an `efs_mount_target` in each zone's subnet, at `dns_name`). Create waits until it is `available`. Its throughput and lifecycle policies change in place (`update-file-system`, `put-lifecycle-configuration`, `put-file-system-policy`); performance mode, encryption, key and zone replace it. **Holds data**: it is deleted or replaced only with `protect: false` or `--allow-data-loss`. trellis sends the create's idempotency token as `--creation-token`, so a create whose answer was lost is found rather than made twice. Its id is its file system id.",
    id_prefix: "fs-",
    holds_data: Some(&FILE_SYSTEM_DATA),
    rules: &RULES,
    object: Object {
        check: None,
        other_names: &[],
        attrs: &[
            force(default(
                attr("performance_mode", Type::Enum(&["generalPurpose", "maxIO"]), Mode::Optional, "`--performance-mode`."),
                Default::Str("generalPurpose"),
            )),
            force(default(attr("encrypted", Type::Bool, Mode::Optional, "Encrypted at rest (`--encrypted`)."), Default::Bool(false))),
            force(pattern(
                len(
                    attr(
                        "kms_key_id",
                        Type::Str,
                        Mode::OptionalComputed,
                        "The KMS key that encrypts it (`--kms-key-id`): a key id, ARN or alias; left out of an encrypted one, AWS's `aws/elasticfilesystem` key.",
                    ),
                    0,
                    2048,
                ),
                KMS_KEY,
            )),
            default(
                attr("throughput_mode", Type::Enum(&["bursting", "provisioned", "elastic"]), Mode::Optional, "`--throughput-mode`."),
                Default::Str("bursting"),
            ),
            attr(
                "provisioned_throughput_in_mibps",
                Type::Int,
                Mode::Optional,
                "MiB/s provisioned when `throughput_mode: provisioned` (`--provisioned-throughput-in-mibps`).",
            ),
            force(pattern(
                len(
                    attr(
                        "availability_zone_name",
                        Type::Str,
                        Mode::Optional,
                        "A One Zone file system's zone (`--availability-zone-name`); left out, it spans the region's zones.",
                    ),
                    1,
                    64,
                ),
                ".+",
            )),
            attr(
                "lifecycle_policies",
                Type::Object(&LIFECYCLE),
                Mode::Optional,
                "When files change storage class (`put-lifecycle-configuration --lifecycle-policies`): AWS takes a list of one-key entries, trellis one mapping of those keys.",
            ),
            attr("policy", Type::Document, Mode::Optional, "Its resource policy (`put-file-system-policy`), as a YAML mapping."),
            TAGS,
            ARN,
            attr("creation_token", Type::Str, Mode::Computed, "The idempotency token its create was sent with."),
            attr("dns_name", Type::Str, Mode::Computed, "What instances mount: `<id>.efs.<region>.amazonaws.com`."),
            ID,
            local(default(
                attr(
                    "protect",
                    Type::Bool,
                    Mode::Optional,
                    "trellis setting: apply refuses to delete or replace this file system unless it is `false` or the run passes `--allow-data-loss`.",
                ),
                Default::Bool(true),
            )),
        ],
    },
    terraform_types: &[tf("aws_efs_file_system"), tf_part("aws_efs_file_system_policy", "policy")],
    create_call: Some(("efs", "CreateFileSystem")),
    ..BASE
};
