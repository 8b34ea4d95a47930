//! The schema of `db_instance`; its AWS side is `trellis-aws/src/kinds/db_instance.rs`.

use super::{ARN, BASE, GENERATED_LOWER_NAME, TAGS, attr, default, force, interrupts, limit, local, old, removed_in_place, terraform, terraform_and_old, tf, range, len, valid};
use crate::schema::{Attr, DataRules, Default, Guard, Effect, Kind, Mode, Object, RefCheck, RestartLink, Rule, Severity, Subject, Type};
use crate::{Attrs, Value};

fn check_db_instance(a: &Attrs) -> Option<(&'static str, String)> {
    const FROM_SOURCE: [&str; 6] =
        ["engine", "master_username", "master_user_password", "manage_master_user_password", "db_name", "storage_encrypted"];
    if a.contains_key("source_db_instance_identifier") {
        // A setting at its default (`false`) is no setting.
        let set = |k: &str| a.get(k).is_some_and(|v| *v != Value::Bool(false));
        return FROM_SOURCE.into_iter().find(|k| set(k)).map(|k| {
            (k, format!("a read replica takes `{k}` from its source (`source_db_instance_identifier`); leave it out"))
        });
    }
    let managed = a.get("manage_master_user_password").and_then(Value::as_bool) == Some(true);
    if managed && a.contains_key("master_user_password") {
        return Some((
            "master_user_password",
            "with `manage_master_user_password: true` Secrets Manager keeps the password: leave `master_user_password` out".into(),
        ));
    }
    let needed: &[&str] = if managed {
        &["engine", "master_username", "allocated_storage"]
    } else {
        &["engine", "master_username", "master_user_password", "allocated_storage"]
    };
    if let Some(k) = needed.iter().find(|k| !a.contains_key(**k)) {
        return Some(("db_instance_class", format!("a database that is not a replica needs `{k}`")));
    }
    engine_limits(a)
}

/// What AWS's RDS reference says in words of CreateDBInstance, by engine: the storage
/// range of each storage type, and the administrator's name.
fn engine_limits(a: &Attrs) -> Option<(&'static str, String)> {
    if let Some(n) = a.get("monitoring_interval").and_then(Value::as_int) {
        if ![0, 1, 5, 10, 15, 30, 60].contains(&n) {
            return Some(("monitoring_interval", format!("{n} is not an interval AWS takes: 0, 1, 5, 10, 15, 30 or 60")));
        }
        if n > 0 && !a.contains_key("monitoring_role_arn") {
            return Some(("monitoring_interval", "enhanced monitoring needs `monitoring_role_arn`".into()));
        }
    }
    if let (Some(max), Some(size)) = (a.get("max_allocated_storage").and_then(Value::as_int), a.get("allocated_storage").and_then(Value::as_int)) {
        if max <= size {
            return Some(("max_allocated_storage", format!("storage autoscaling needs a ceiling above `allocated_storage` ({size} GiB), not {max}")));
        }
    }
    let engine = a.get("engine").and_then(Value::as_str)?.to_ascii_lowercase();
    let mysql = engine == "mysql" || engine == "mariadb";
    if let Some(size) = a.get("allocated_storage").and_then(Value::as_int) {
        let kind = a.get("storage_type").and_then(Value::as_str).unwrap_or("gp2");
        let (low, high) = match kind {
            "io1" | "io2" => (100, 65536),
            "standard" => (5, 3072),
            _ => (20, 65536),
        };
        if !(low..=high).contains(&size) {
            return Some(("allocated_storage", format!("{size} GiB is outside what AWS takes for {engine} on {kind} storage: {low} to {high} GiB")));
        }
    }
    if let Some(user) = a.get("master_username").and_then(Value::as_str) {
        let most = if mysql { 16 } else { 63 };
        let first_letter = user.chars().next().is_some_and(|c| c.is_ascii_alphabetic());
        let word = user.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !first_letter || !word || user.chars().count() > most {
            return Some(("master_username", format!("AWS takes 1 to {most} letters, digits or underscores for {engine}'s administrator, a letter first, not `{user}`")));
        }
    }
    None
}

/// The characters RDS takes in a password (its reference: printable ASCII but `/`,
/// `"`, `@` and space). Never says the password itself.
fn db_password(v: &Value) -> Option<String> {
    let text = v.as_str()?;
    let bad: Vec<&str> = [("/", '/'), ("\"", '"'), ("@", '@'), ("a space", ' ')]
        .into_iter()
        .filter(|(_, c)| text.contains(*c))
        .map(|(name, _)| name)
        .collect();
    if text.chars().any(|c| !c.is_ascii_graphic() && c != ' ') {
        return Some("AWS takes only printable ASCII characters in a password".into());
    }
    (!bad.is_empty()).then(|| format!("AWS takes no {} in a password", bad.join(" or ")))
}

/// `hh24:mi-hh24:mi`, as RDS's reference says a backup window is written.
fn backup_window(v: &Value) -> Option<String> {
    let text = v.as_str()?;
    let ok = text.split_once('-').is_some_and(|(a, b)| clock(a).is_some() && clock(b).is_some());
    (!ok).then(|| format!("`{text}` is not a window AWS takes: write `hh24:mi-hh24:mi` in UTC, e.g. `03:00-03:30`"))
}

/// `ddd:hh24:mi-ddd:hh24:mi`, as RDS's reference says a maintenance window is written.
fn maintenance_window(v: &Value) -> Option<String> {
    let text = v.as_str()?;
    let day_time = |s: &str| {
        let (day, time) = s.split_once(':')?;
        ["mon", "tue", "wed", "thu", "fri", "sat", "sun"].contains(&day.to_ascii_lowercase().as_str()).then_some(())?;
        clock(time)
    };
    let ok = text.split_once('-').is_some_and(|(a, b)| day_time(a).is_some() && day_time(b).is_some());
    (!ok).then(|| {
        format!("`{text}` is not a window AWS takes: write `ddd:hh24:mi-ddd:hh24:mi` in UTC, e.g. `sun:05:00-sun:06:00`")
    })
}

/// Minutes past midnight of `hh24:mi`.
fn clock(s: &str) -> Option<u32> {
    let (h, m) = s.split_once(':')?;
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60 && s.len() == 5).then_some(h * 60 + m)
}

fn db_update_note(after: &Attrs) -> String {
    if after.get("apply_immediately").and_then(Value::as_bool) == Some(true) {
        "applies immediately (`apply_immediately: true`); a class or storage change can interrupt the database".into()
    } else {
        "applies in the next maintenance window (set `apply_immediately: true` to apply now); a password change applies at once".into()
    }
}

/// The trellis settings that guard a database's data, and its final snapshot.
static DATABASE_DATA: DataRules = DataRules {
    noun: "database",
    guard: Guard::Protect("protect"),
    skip_final_snapshot: Some("skip_final_snapshot"),
    final_snapshot_name: Some("final_snapshot_identifier"),
    lost: None,
    holds: None,
    no_final_snapshot: Some((
        "source_db_instance_identifier",
        "a read replica takes no final snapshot (AWS refuses one); its source keeps the data",
    )),
};

/// Static parameters of a database's parameter group take effect at its next reboot.
static PARAMETER_REBOOT: RestartLink = RestartLink {
    via: "db_parameter_group_name",
    watched: "parameters",
    pending: "pending_reboot",
    opt_in: "reboot_for_parameters",
    pending_why: "static parameters of its parameter group wait for a reboot",
    changed_why: "changes parameters; static ones wait for a reboot",
    waits: "static parameters take effect only after a reboot of",
};

/// A read replica's source must keep automated backups: AWS refuses the replica of a
/// database whose `backup_retention_period` is 0.
fn check_replica_source(replica: &str, source: &str, read: &dyn Fn(&str) -> Option<Value>) -> Option<(String, String)> {
    (read("backup_retention_period").and_then(|v| v.as_int()) == Some(0)).then(|| {
        (
            format!("`{replica}` replicates `{source}`, whose `backup_retention_period` is 0"),
            format!(
                "AWS makes read replicas only of databases with automated backups: give `{source}` a `backup_retention_period` of 1 or more"
            ),
        )
    })
}

fn flag(s: &Subject, name: &str) -> Option<bool> {
    s.attrs.get(name).and_then(Value::as_bool)
}

fn is_replica(s: &Subject) -> bool {
    s.attrs.get("source_db_instance_identifier").is_some_and(|v| !matches!(v, Value::Null))
}

fn public(s: &Subject) -> Vec<String> {
    (flag(s, "publicly_accessible") == Some(true)).then(|| "publicly_accessible: true".to_string()).into_iter().collect()
}

/// A primary left unencrypted (a replica is encrypted as its source is).
fn unencrypted(s: &Subject) -> Vec<String> {
    let said = flag(s, "storage_encrypted");
    (!is_replica(s) && said != Some(true))
        .then(|| if said == Some(false) { "storage_encrypted: false" } else { "storage_encrypted is not set (AWS's default: off)" }.to_string())
        .into_iter()
        .collect()
}

fn no_backups(s: &Subject) -> Vec<String> {
    (s.attrs.get("backup_retention_period").and_then(Value::as_int) == Some(0))
        .then(|| "backup_retention_period: 0".to_string())
        .into_iter()
        .collect()
}

fn unprotected(s: &Subject) -> Vec<String> {
    (flag(s, "deletion_protection") != Some(true)).then(|| "deletion_protection is off".to_string()).into_iter().collect()
}

static RULES: [Rule; 4] = [
    Rule {
        id: "db-public",
        checkov: Some("CKV_AWS_17"),
        severity: Severity::High,
        title: "the database has a public address",
        why: "a publicly accessible database is one security group rule away from the internet",
        fix: "`publicly_accessible: false`, and reach it from inside the VPC",
        check: public,
    },
    Rule {
        id: "db-unencrypted",
        checkov: Some("CKV_AWS_16"),
        severity: Severity::High,
        title: "the database's storage is not encrypted",
        why: "its disks, snapshots and backups are readable by anyone who gets a copy; encryption can only be chosen when the database is made",
        fix: "`storage_encrypted: true` (and `kms_key_id` for a key of your own); on an existing database this replaces it, so restore from a snapshot",
        check: unencrypted,
    },
    Rule {
        id: "db-no-backups",
        checkov: Some("CKV_AWS_133"),
        severity: Severity::Medium,
        title: "automated backups are off",
        why: "with a retention of 0 there is no point-in-time recovery, and read replicas cannot be made",
        fix: "`backup_retention_period: 7` (1 to 35 days)",
        check: no_backups,
    },
    Rule {
        id: "db-deletion-unprotected",
        checkov: Some("CKV_AWS_293"),
        severity: Severity::Low,
        title: "AWS's deletion protection is off",
        why: "trellis refuses to lose a database without consent, but a console click or another tool can still delete it",
        fix: "`deletion_protection: true`",
        check: unprotected,
    },
];

pub static DB_INSTANCE: Kind = Kind {
    name: "db_instance",
    doc: "A managed database (`aws rds create-db-instance`), or with `source_db_instance_identifier` a read replica of another (`create-db-instance-read-replica`). Create and update wait until it is `available`. **Holds data**: its deletion or replacement is shown apart in the plan and refused unless `protect: false` or `--allow-data-loss`; deleting it takes a final snapshot unless `skip_final_snapshot: true`. Its id is its `db_instance_identifier`.",
    id_prefix: "",
    generated_name: Some("db_instance_identifier"),
    holds_data: Some(&DATABASE_DATA),
    restart: Some(&PARAMETER_REBOOT),
    ref_checks: &[RefCheck { via: "source_db_instance_identifier", check: check_replica_source }],
    update_note: Some(db_update_note),
    object: Object {
        check: Some(check_db_instance),
        other_names: &[
            terraform_and_old("identifier", "db_instance_identifier"),
            terraform_and_old("instance_class", "db_instance_class"),
            terraform_and_old("parameter_group_name", "db_parameter_group_name"),
            old("replicate_source", "source_db_instance_identifier"),
            terraform("replicate_source_db", "source_db_instance_identifier"),
            terraform("username", "master_username"),
            terraform("password", "master_user_password"),
            terraform("performance_insights_enabled", "enable_performance_insights"),
            terraform("ca_cert_identifier", "ca_certificate_identifier"),
        ],
        attrs: &[
            force(limit(attr("db_instance_identifier", Type::Str, Mode::OptionalComputed, GENERATED_LOWER_NAME), 63)),
            removed_in_place(
                force(attr(
                "source_db_instance_identifier",
                Type::Ref("db_instance"),
                Mode::Optional,
                "Makes this a read replica of that database (`${db_instance.primary}`). Replicas are created after and deleted before their source, which needs `backup_retention_period` above 0. Removing it promotes the replica in place (`promote-read-replica`), keeping its data; naming another source replaces it.",
            )),
                "promoted to a database of its own (`promote-read-replica`): it keeps its data and stops following its source",
            ),
            force(attr(
                "engine",
                Type::Enum(&["mysql", "mariadb", "postgres"]),
                Mode::OptionalComputed,
                "Required unless a replica. A change replaces the database (data loss).",
            )),
            interrupts(
                attr(
                    "engine_version",
                    Type::Str,
                    Mode::OptionalComputed,
                    "E.g. `8.0.35` or `16.3`; left out, AWS picks the default. Changed in place (minor upgrades).",
                ),
                Effect::Restart,
                "the database is offline while the engine upgrades: minutes (at once with `apply_immediately: true`, else in the maintenance window)",
            ),
            interrupts(
                attr("db_instance_class", Type::Str, Mode::Required, "E.g. `db.t3.micro`; changed in place."),
                Effect::Restart,
                "the database restarts on the new class: minutes offline, about one with `multi_az` (a failover); at once with `apply_immediately: true`, else in the maintenance window",
            ),
            attr(
                "allocated_storage",
                Type::Int,
                Mode::OptionalComputed,
                "Storage in GiB (required unless a replica); can only grow, in place.",
            ),
            attr(
                "storage_type",
                Type::Enum(&["gp2", "gp3", "io1", "io2", "standard"]),
                Mode::OptionalComputed,
                "Changed in place.",
            ),
            force(attr(
                "storage_encrypted",
                Type::Bool,
                Mode::OptionalComputed,
                "Encrypt its storage at rest (`--storage-encrypted`). Left out: not encrypted (AWS's default), or as its source for a replica. Only a new database can be encrypted: a change replaces it (data loss).",
            )),
            force(attr(
                "kms_key_id",
                Type::Str,
                Mode::OptionalComputed,
                "The KMS key that encrypts it, as its ARN (`--kms-key-id`); left out with `storage_encrypted: true`, AWS's `aws/rds` key. A change replaces the database (data loss).",
            )),
            force(attr(
                "db_name",
                Type::Str,
                Mode::OptionalComputed,
                "The database created inside (MySQL, PostgreSQL). A change replaces the database (data loss).",
            )),
            force(attr(
                "master_username",
                Type::Str,
                Mode::OptionalComputed,
                "The administrator (required unless a replica). A change replaces the database.",
            )),
            Attr {
                sensitive: true,
                ..valid(
                    len(
                        attr(
                            "master_user_password",
                            Type::Str,
                            Mode::Optional,
                            "The administrator's password (required unless a replica): must be `${env.NAME}`. Never written to states, plans or logs; a salted digest shows a change as `(sensitive, changed)`. Checked when it is read (MySQL takes at most 41).",
                        ),
                        8,
                        128,
                    ),
                    db_password,
                )
            },
            default(
                attr(
                    "manage_master_user_password",
                    Type::Bool,
                    Mode::Optional,
                    "`--manage-master-user-password`: Secrets Manager makes, keeps and rotates the administrator's password, so none passes through trellis's environment (in place of `master_user_password`; its secret is `master_user_secret_arn`). Changed in place.",
                ),
                Default::Bool(false),
            ),
            attr(
                "master_user_secret_kms_key_id",
                Type::Str,
                Mode::OptionalComputed,
                "`--master-user-secret-kms-key-id`: the KMS key of that secret; left out, Secrets Manager's own.",
            ),
            attr(
                "master_user_secret_arn",
                Type::Str,
                Mode::Computed,
                "The Secrets Manager secret holding the password, with `manage_master_user_password` (what the application reads).",
            ),
            attr(
                "db_subnet_group_name",
                Type::Ref("db_subnet_group"),
                Mode::OptionalComputed,
                "`${db_subnet_group.NAME}`: the private subnets it lives in.",
            ),
            attr(
                "vpc_security_group_ids",
                Type::Set(&Type::Ref("security_group")),
                Mode::OptionalComputed,
                "Who may connect; left out, the VPC's default group. Changed in place.",
            ),
            attr(
                "db_parameter_group_name",
                Type::Ref("db_parameter_group"),
                Mode::OptionalComputed,
                "`${db_parameter_group.NAME}`; left out, the engine's default group. Changed in place (static parameters of the new group wait for a reboot).",
            ),
            attr(
                "option_group_name",
                Type::Ref("db_option_group"),
                Mode::OptionalComputed,
                "`--option-group-name`: `${db_option_group.NAME}`; left out, the engine's default group. Changed in place.",
            ),
            default(
                attr("multi_az", Type::Bool, Mode::Optional, "A standby in a second zone; changed in place."),
                Default::Bool(false),
            ),
            range(attr(
                "backup_retention_period",
                Type::Int,
                Mode::OptionalComputed,
                "Days of automated backups (0 turns them off; AWS's default is 1). A replica's source needs at least 1.",
            ), 0, 35),
            default(
                attr(
                    "publicly_accessible",
                    Type::Bool,
                    Mode::Optional,
                    "A public address; keep databases private.",
                ),
                Default::Bool(false),
            ),
            default(
                attr(
                    "deletion_protection",
                    Type::Bool,
                    Mode::Optional,
                    "AWS refuses to delete it until this is turned off (trellis will not turn it off for you).",
                ),
                Default::Bool(false),
            ),
            valid(
                attr(
                    "preferred_backup_window",
                    Type::Str,
                    Mode::OptionalComputed,
                    "When the daily backup runs, `hh24:mi-hh24:mi` in UTC (at least 30 minutes, apart from the maintenance window); left out, AWS picks one. Changed in place.",
                ),
                backup_window,
            ),
            valid(
                attr(
                    "preferred_maintenance_window",
                    Type::Str,
                    Mode::OptionalComputed,
                    "When AWS may patch and apply pending changes, `ddd:hh24:mi-ddd:hh24:mi` in UTC (`sun:05:00-sun:06:00`, at least 30 minutes); left out, AWS picks one. Changed in place.",
                ),
                maintenance_window,
            ),
            attr(
                "max_allocated_storage",
                Type::Int,
                Mode::OptionalComputed,
                "Storage autoscaling: AWS grows `allocated_storage` up to this many GiB as the database fills; left out, no autoscaling. Changed in place.",
            ),
            default(
                attr(
                    "copy_tags_to_snapshot",
                    Type::Bool,
                    Mode::Optional,
                    "Give its snapshots (the final one too) the database's tags. Changed in place.",
                ),
                Default::Bool(false),
            ),
            default(
                attr(
                    "enable_cloudwatch_logs_exports",
                    Type::Set(&Type::Enum(&["audit", "error", "general", "slowquery", "postgresql", "upgrade", "iam-db-auth-error"])),
                    Mode::Optional,
                    "The engine's logs sent to CloudWatch Logs (MySQL: `error`, `general`, `slowquery`, `audit`; PostgreSQL: `postgresql`, `upgrade`). Changed in place (`--cloudwatch-logs-export-configuration`).",
                ),
                Default::EmptyList,
            ),
            default(
                attr(
                    "monitoring_interval",
                    Type::Int,
                    Mode::Optional,
                    "Enhanced monitoring: seconds between samples (1, 5, 10, 15, 30 or 60; 0 turns it off), with `monitoring_role_arn`. Changed in place.",
                ),
                Default::Int(0),
            ),
            attr(
                "monitoring_role_arn",
                Type::Str,
                Mode::OptionalComputed,
                "The role RDS sends enhanced monitoring's metrics to CloudWatch with (`${iam_role.NAME.arn}`); needed when `monitoring_interval` is above 0.",
            ),
            default(
                attr(
                    "enable_performance_insights",
                    Type::Bool,
                    Mode::Optional,
                    "`--enable-performance-insights`: Performance Insights' view of the database's load. Changed in place.",
                ),
                Default::Bool(false),
            ),
            attr(
                "performance_insights_retention_period",
                Type::Int,
                Mode::OptionalComputed,
                "Days Performance Insights keeps its data (7, the free tier, or 31 times a number of months up to 731). Changed in place.",
            ),
            attr(
                "performance_insights_kms_key_id",
                Type::Str,
                Mode::OptionalComputed,
                "The KMS key of Performance Insights' data; AWS's own when left out.",
            ),
            interrupts(
                attr(
                    "ca_certificate_identifier",
                    Type::Str,
                    Mode::OptionalComputed,
                    "`--ca-certificate-identifier`: the certificate authority of the database's TLS certificate (`rds-ca-rsa2048-g1`, ...). Changed in place.",
                ),
                Effect::Restart,
                "the database restarts to take its new certificate (at once with `apply_immediately: true`, else in the maintenance window); clients must trust the new authority first",
            ),
            attr(
                "auto_minor_version_upgrade",
                Type::Bool,
                Mode::OptionalComputed,
                "Minor engine upgrades in the maintenance window (AWS's default: on). Changed in place.",
            ),
            local(default(
                attr(
                    "apply_immediately",
                    Type::Bool,
                    Mode::Optional,
                    "trellis setting: in-place changes apply now rather than in the maintenance window.",
                ),
                Default::Bool(false),
            )),
            local(default(
                attr(
                    "reboot_for_parameters",
                    Type::Bool,
                    Mode::Optional,
                    "trellis setting: reboot the database when static parameters of its parameter group wait for it.",
                ),
                Default::Bool(false),
            )),
            local(default(
                attr(
                    "protect",
                    Type::Bool,
                    Mode::Optional,
                    "trellis setting: apply refuses to delete or replace this database unless it is `false` or the run passes `--allow-data-loss`.",
                ),
                Default::Bool(true),
            )),
            local(default(
                attr(
                    "skip_final_snapshot",
                    Type::Bool,
                    Mode::Optional,
                    "trellis setting: delete without a final snapshot.",
                ),
                Default::Bool(false),
            )),
            local(attr(
                "final_snapshot_identifier",
                Type::Str,
                Mode::Optional,
                "trellis setting: the final snapshot's name; left out, `<db_instance_identifier>-final-<state serial>`, named in the plan.",
            )),
            TAGS,
            attr("endpoint", Type::Str, Mode::Computed, "The host name clients connect to."),
            attr("port", Type::Int, Mode::Computed, "The port clients connect to."),
            attr(
                "pending_reboot",
                Type::Bool,
                Mode::Computed,
                "True while static parameters of its parameter group wait for a reboot.",
            ),
            ARN,
            attr("id", Type::Str, Mode::Computed, "The `db_instance_identifier`."),
        ],
    },
    rules: &RULES,
    account_limit: Some("rds:DBInstances"),
    terraform_types: &[tf("aws_db_instance")],
    create_call: Some(("rds", "CreateDBInstance")),
    id_is: Some(("db_instance_identifier", true)),
    ..BASE
};
