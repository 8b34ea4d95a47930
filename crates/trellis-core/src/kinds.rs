//! The resource kinds trellis knows, with their attributes.
//!
//! Attribute names follow the awscli flag of the create call (`--cidr-block` is
//! `cidr_block`), so an awscli script translates line by line. Each kind's docs in
//! `docs/spec.md` are generated from the same facts and checked by a test.

use crate::schema::{
    Attr, Default, Effect, Interrupts, Kind, Mode, Object, OtherName, Rule, Severity, Subject, TerraformType, Type,
};
use crate::{Attrs, Value};

const fn attr(name: &'static str, ty: Type, mode: Mode, doc: &'static str) -> Attr {
    Attr {
        name,
        ty,
        mode,
        default: Default::None,
        force_new: false,
        doc,
        note: None,
        sensitive: false,
        local: false,
        file_of: None,
        write_only: false,
        max_len: None,
        min_len: None,
        range: None,
        pattern: None,
        valid: None,
        interrupts: None,
        image: false,
        computed_with: None,
        removed_in_place: None,
    }
}

/// A `force_new` attribute whose removal is made in place, as `what` says.
const fn removed_in_place(mut a: Attr, what: &'static str) -> Attr {
    a.removed_in_place = Some(what);
    a
}

/// Computed only when `setting` is given and not `false`.
const fn computed_with(mut a: Attr, setting: &'static str) -> Attr {
    a.computed_with = Some(setting);
    a
}

/// AWS takes `min` to `max` characters of it (a list: items), as its model says.
const fn len(mut a: Attr, min: usize, max: usize) -> Attr {
    a.min_len = Some(min);
    a.max_len = Some(max);
    a
}

/// AWS takes numbers from `lo` to `hi` (`i64::MAX`: no upper bound).
const fn range(mut a: Attr, lo: i64, hi: i64) -> Attr {
    a.range = Some((lo, hi));
    a
}

/// AWS's model's pattern for it, written as the model writes it.
const fn pattern(mut a: Attr, p: &'static str) -> Attr {
    a.pattern = Some(p);
    a
}

/// A rule AWS states in words only.
const fn valid(mut a: Attr, f: fn(&Value) -> Option<String>) -> Attr {
    a.valid = Some(f);
    a
}

/// The characters AWS's XML-safe strings take (Auto Scaling's names and types): any
/// but the control characters other than tab, newline and return.
const XML_STRING: &str = "[\\u0020-\\uD7FF\\uE000-\\uFFFD\\uD800\\uDC00-\\uDBFF\\uDFFF\\r\\n\\t]*";

/// The characters EC2 takes in a security group's description and a rule's (the EC2
/// API reference: letters, digits, spaces and `._-:/()#,@[]+=&;{}!$*`).
fn ec2_description(v: &Value) -> Option<String> {
    let text = v.as_str()?;
    let bad: String =
        text.chars().filter(|c| !(c.is_ascii_alphanumeric() || " ._-:/()#,@[]+=&;{}!$*".contains(*c))).collect();
    (!bad.is_empty())
        .then(|| format!("AWS takes only letters, digits, spaces and `._-:/()#,@[]+=&;{{}}!$*` here, not `{bad}`"))
}

/// A machine image's id, checked to exist before an apply.
const fn image(mut a: Attr) -> Attr {
    a.image = true;
    a
}

/// Changing it in place interrupts the running object: `effect`, described by `about`.
const fn interrupts(mut a: Attr, effect: Effect, about: &'static str) -> Attr {
    a.interrupts = Some(Interrupts { effect, about });
    a
}

/// AWS takes at most `n` characters of it.
const fn limit(mut a: Attr, n: usize) -> Attr {
    a.max_len = Some(n);
    a
}

/// Terraform's name for an attribute awscli names otherwise.
const fn terraform(name: &'static str, is: &'static str) -> OtherName {
    OtherName { name, is, whose: "Terraform's", in_old_states: false }
}

/// Terraform's name, which an earlier trellis used too (its states are read under `is`).
const fn terraform_and_old(name: &'static str, is: &'static str) -> OtherName {
    OtherName { name, is, whose: "Terraform's (and an earlier trellis's)", in_old_states: true }
}

/// A name only an earlier trellis used.
const fn old(name: &'static str, is: &'static str) -> OtherName {
    OtherName { name, is, whose: "an earlier trellis's", in_old_states: true }
}

const fn note(mut a: Attr, text: &'static str) -> Attr {
    a.note = Some(text);
    a
}

const fn local(mut a: Attr) -> Attr {
    a.local = true;
    a
}

/// A path whose text becomes `target` when the spec is loaded.
const fn file_of(mut a: Attr, target: &'static str) -> Attr {
    a.file_of = Some(target);
    a
}

/// Sent to AWS but never read back from it (see `Attr::write_only`).
const fn write_only(mut a: Attr) -> Attr {
    a.write_only = true;
    a
}

const fn force(mut a: Attr) -> Attr {
    a.force_new = true;
    a
}

const fn default(mut a: Attr, d: Default) -> Attr {
    a.default = d;
    a
}

const ID: Attr = attr("id", Type::Str, Mode::Computed, "The id AWS assigned.");
/// Every kind's guard against deletion (a database has its own, on by default).
const PROTECT: Attr = local(attr(
    crate::schema::PROTECT,
    Type::Bool,
    Mode::Optional,
    "trellis setting: `true` makes apply and destroy refuse to delete or replace it without `--allow-data-loss`, also once its block is gone (the state keeps it); apply `false` first to let it go.",
));
const TAGS: Attr = attr(
    "tags",
    Type::Map,
    Mode::Optional,
    "Tags. `Name` defaults to `<stack>-<name>`; trellis adds `trellis:stack` and `trellis:address`.",
);

/// The attributes an object of one service names itself by (RDS, IAM).
const GENERATED_NAME: &str =
    "The AWS name. Left out, trellis generates `<stack>-<name>` (with a suffix when a replacement needs a second name), so a replacement can be created before the old object goes.";
const GENERATED_LOWER_NAME: &str =
    "The AWS name (lower case). Left out, trellis generates `<stack>-<name>` (with a suffix when a replacement needs a second name), so a replacement can be created before the old object goes.";
const GENERATED_IAM_NAME: &str =
    "The IAM name. Left out, trellis generates `<stack>-<name>` (with a suffix when a replacement needs a second name), so a replacement can be created before the old object goes.";
const RDS_NAME_ID: Attr = attr("id", Type::Str, Mode::Computed, "The name: RDS knows these objects by name.");
const IAM_NAME_ID: Attr = attr("id", Type::Str, Mode::Computed, "The name: IAM's calls take it.");
const ARN: Attr = attr("arn", Type::Str, Mode::Computed, "The ARN.");
const IAM_PATH: Attr =
    attr("path", Type::Str, Mode::Computed, "`/trellis/<stack>/`: where trellis lists the stack's IAM objects.");

/// A port (`22`) or a range (`"8000-8010"`) as from and to.
fn port_span(v: Option<&Value>) -> Option<(i64, i64)> {
    match v? {
        Value::Int(p) => Some((*p, *p)),
        Value::Str(s) => {
            let (a, b) = s.split_once('-')?;
            Some((a.trim().parse().ok()?, b.trim().parse().ok()?))
        }
        Value::Map(m) => Some((m.get("from")?.as_int()?, m.get("to")?.as_int()?)),
        _ => None,
    }
}

/// The ranges of every address on the internet: IPv4's and IPv6's.
const WORLD: [&str; 2] = ["0.0.0.0/0", "::/0"];

/// The keys a rule's range may be under besides its own (a network ACL entry's IPv6 one).
const IPV6_KEY: &str = "ipv6_cidr_block";

/// One inbound rule that lets the whole internet in: its protocol, its ports (`None`:
/// every port) and which world (`0.0.0.0/0` or `::/0`).
struct OpenRule {
    protocol: String,
    ports: Option<(i64, i64)>,
    from: &'static str,
}

impl OpenRule {
    /// Whether it lets `port` in over TCP.
    fn opens(&self, port: i64) -> bool {
        match (self.protocol.as_str(), self.ports) {
            ("all", _) => true,
            ("tcp", None) => true,
            ("tcp", Some((a, b))) => a <= port && port <= b,
            _ => false,
        }
    }

    fn words(&self) -> String {
        let world = self.from;
        match (self.protocol.as_str(), self.ports) {
            ("all", _) => format!("every protocol and port from {world}"),
            (p, Some((a, b))) if a == b => format!("{p} {a} from {world}"),
            (p, Some((a, b))) => format!("{p} {a}-{b} from {world}"),
            (p, None) => format!("{p}, every port, from {world}"),
        }
    }
}

/// The inbound rules of `attrs[list]` that let the whole internet in: entries whose
/// `cidr_key` (or IPv6 key) is `0.0.0.0/0` or `::/0`, and (for network ACLs) whose
/// action allows.
fn open_to_world(attrs: &Attrs, list: &str, cidr_key: &str, port_key: &str) -> Vec<OpenRule> {
    let Some(Value::List(rules)) = attrs.get(list) else { return vec![] };
    rules
        .iter()
        .filter_map(|r| match r {
            Value::Map(m) => Some(m),
            _ => None,
        })
        .filter(|m| m.get("rule_action").and_then(Value::as_str).is_none_or(|a| a == "allow"))
        .filter_map(|m| {
            let range = [cidr_key, IPV6_KEY].iter().find_map(|k| m.get(*k).and_then(Value::as_str))?;
            let from = WORLD.into_iter().find(|w| *w == range)?;
            Some(OpenRule {
                protocol: m.get("protocol").and_then(Value::as_str).unwrap_or("all").to_string(),
                ports: port_span(m.get(port_key)),
                from,
            })
        })
        .collect()
}

/// The inbound rules of `attrs[list]` that open `port` to the world, in words.
fn world_opens(attrs: &Attrs, list: &str, cidr_key: &str, port_key: &str, port: i64) -> Vec<String> {
    open_to_world(attrs, list, cidr_key, port_key).iter().filter(|r| r.opens(port)).map(|r| r.words()).collect()
}

/// The ports of the database engines (MySQL and MariaDB, PostgreSQL, Oracle, SQL
/// Server), each engine's default.
const DATABASE_PORTS: [(i64, &str); 4] =
    [(3306, "MySQL/MariaDB"), (5432, "PostgreSQL"), (1521, "Oracle"), (1433, "SQL Server")];

/// The port a database engine listens on by default.
fn engine_port(engine: &str) -> i64 {
    let e = engine.to_ascii_lowercase();
    if e.starts_with("postgres") || e == "aurora-postgresql" {
        5432
    } else if e.starts_with("oracle") {
        1521
    } else if e.starts_with("sqlserver") {
        1433
    } else {
        3306
    }
}

/// `--metadata-options`: how an instance's metadata service answers.
static METADATA_OPTIONS: Object = Object {
    check: None,
    other_names: &[],
    attrs: &[
        default(
            attr(
                "http_tokens",
                Type::Enum(&["optional", "required"]),
                Mode::Optional,
                "`required`: IMDSv2 only, every request with a session token; `optional` answers IMDSv1 too.",
            ),
            Default::Str("required"),
        ),
        default(
            attr(
                "http_endpoint",
                Type::Enum(&["enabled", "disabled"]),
                Mode::Optional,
                "The metadata service on or off.",
            ),
            Default::Str("enabled"),
        ),
        default(
            attr(
                "http_put_response_hop_limit",
                Type::Int,
                Mode::Optional,
                "How many hops a token may travel (1 to 64): 2 lets containers on the instance reach it.",
            ),
            Default::Int(1),
        ),
    ],
};

/// `Ebs` of a block device mapping.
static EBS: Object = Object {
    check: None,
    other_names: &[],
    attrs: &[
        attr("volume_size", Type::Int, Mode::Optional, "GiB; left out, the image's."),
        attr(
            "volume_type",
            Type::Enum(&["gp2", "gp3", "io1", "io2", "st1", "sc1", "standard"]),
            Mode::Optional,
            "The volume type.",
        ),
        attr("encrypted", Type::Bool, Mode::Optional, "Encrypt the volume at rest."),
        attr("kms_key_id", Type::Str, Mode::Optional, "The KMS key that encrypts it; left out, AWS's `aws/ebs` key."),
        attr("delete_on_termination", Type::Bool, Mode::Optional, "Deleted with the instance."),
    ],
};

/// One entry of `--block-device-mappings`.
static BLOCK_DEVICE: Object = Object {
    check: None,
    other_names: &[],
    attrs: &[
        attr("device_name", Type::Str, Mode::Required, "E.g. `/dev/xvda` (the root device of Amazon Linux)."),
        attr("ebs", Type::Object(&EBS), Mode::Optional, "The EBS volume."),
    ],
};

/// Whether the planned object lets IMDSv1 answer (`metadata_options.http_tokens` is not
/// `required`, with the service on).
fn imds_v1(s: &Subject) -> Vec<String> {
    let m = match s.attrs.get("metadata_options") {
        Some(Value::Map(m)) => Some(m),
        _ => None,
    };
    let tokens = m.and_then(|m| m.get("http_tokens")).and_then(Value::as_str);
    let off = m.and_then(|m| m.get("http_endpoint")).and_then(Value::as_str) == Some("disabled");
    match (tokens, off) {
        (_, true) | (Some("required"), _) => vec![],
        (Some(t), _) => vec![format!("metadata_options.http_tokens: {t}")],
        (None, _) => vec!["metadata_options is not set (IMDSv1 answers unless the image says otherwise)".into()],
    }
}

/// The volumes the planned object makes unencrypted (none listed: the root volume, as
/// the image has it).
fn unencrypted_volumes(s: &Subject) -> Vec<String> {
    let Some(Value::List(devices)) = s.attrs.get("block_device_mappings") else {
        return vec![
            "no block_device_mappings: the root volume is encrypted only if the account's EBS default is".into()
        ];
    };
    devices
        .iter()
        .filter_map(|d| match d {
            Value::Map(m) => Some(m),
            _ => None,
        })
        .filter(|m| match m.get("ebs") {
            Some(Value::Map(e)) => e.get("encrypted").and_then(Value::as_bool) != Some(true),
            _ => false,
        })
        .map(|m| format!("{} is not encrypted", m.get("device_name").and_then(Value::as_str).unwrap_or("a volume")))
        .collect()
}

/// The rules of whatever launches instances (an instance, a launch template).
static INSTANCE_RULES: [Rule; 2] = [
    Rule {
        id: "imds-v1",
        checkov: Some("CKV_AWS_79"),
        severity: Severity::High,
        title: "the metadata service answers IMDSv1",
        why: "a request forged through the application (SSRF) can read the instance role's credentials from IMDSv1",
        fix: "`metadata_options: { http_tokens: required }`",
        check: imds_v1,
    },
    Rule {
        id: "volume-unencrypted",
        checkov: Some("CKV_AWS_8"),
        severity: Severity::Medium,
        title: "a volume is not encrypted",
        why: "its data, and every snapshot of it, is readable by anyone who gets a copy",
        fix: "`block_device_mappings: [{ device_name: /dev/xvda, ebs: { encrypted: true } }]` (or the account's EBS encryption by default)",
        check: unencrypted_volumes,
    },
];

/// The protocols whose rules name ports (security group and network ACL rules).
const PROTOCOLS_WITH_PORTS: &[&str] = &["tcp", "udp"];

/// What a kind has unless its file says otherwise: no versions, no generated name, no
/// data, no rules beyond its attributes. A kind's static lists only what differs
/// (`..BASE`).
const BASE: Kind = Kind {
    name: "",
    doc: "",
    id_prefix: "",
    versioned: None,
    generated_name: None,
    holds_data: None,
    restart: None,
    ref_checks: &[],
    update_note: None,
    upgrade: None,
    rollout: None,
    new_first: false,
    rules: &[],
    addresses: None,
    address_range: None,
    zone: None,
    account_limit: None,
    terraform_types: &[],
    create_call: None,
    id_is: None,
    unique: None,
    usable_when: None,
    object: Object { check: None, other_names: &[], attrs: &[] },
};

/// The Terraform type that is a whole kind.
const fn tf(name: &'static str) -> TerraformType {
    TerraformType { name, attrs: "" }
}

/// The Terraform type that is written as these attributes of a kind.
const fn tf_part(name: &'static str, attrs: &'static str) -> TerraformType {
    TerraformType { name, attrs }
}

/// The kind, and the attributes if only part of it, that a Terraform resource type
/// (`aws_lb`, or without the prefix, `lb`) is written as here.
pub fn of_terraform(ty: &str) -> Option<(&'static Kind, &'static TerraformType)> {
    let full = if ty.starts_with("aws_") { ty.to_string() } else { format!("aws_{ty}") };
    ALL.iter().find_map(|k| k.terraform_types.iter().find(|t| t.name == full).map(|t| (*k, t)))
}

/// Declares each kind's module (`kinds/<name>.rs`, holding its static) and lists it in
/// `ALL`.
macro_rules! kinds {
    ($($module:ident => $kind:ident,)*) => {
        $(mod $module; pub use $module::$kind;)*
        /// Every kind, in the order of [`each_kind!`](crate::each_kind).
        pub static ALL: &[&Kind] = &[$(&$kind),*];
    };
}

/// Every kind, once: its module (`kinds/<name>.rs`) and its static. Hands the list to
/// the macro named: `kinds!` here, trellis-aws's `registry!` there, so adding a kind is
/// its schema file, its AWS file and one line here. The order is the docs' and
/// discover's: a kind comes after those whose objects its listing keeps to (a NAT
/// gateway before the addresses it holds, instances before their registrations).
#[macro_export]
macro_rules! each_kind {
    ($then:ident) => {
        $then! {
            vpc => VPC,
            subnet => SUBNET,
            internet_gateway => INTERNET_GATEWAY,
            egress_only_internet_gateway => EGRESS_ONLY_INTERNET_GATEWAY,
            route_table => ROUTE_TABLE,
            route => ROUTE,
            network_acl => NETWORK_ACL,
            security_group => SECURITY_GROUP,
            launch_template => LAUNCH_TEMPLATE,
            target_group => TARGET_GROUP,
            load_balancer => LOAD_BALANCER,
            listener => LISTENER,
            listener_rule => LISTENER_RULE,
            route53_zone => ROUTE53_ZONE,
            acm_certificate => ACM_CERTIFICATE,
            route53_record => ROUTE53_RECORD,
            autoscaling_group => AUTOSCALING_GROUP,
            scaling_policy => SCALING_POLICY,
            instance => INSTANCE,
            target_group_attachment => TARGET_GROUP_ATTACHMENT,
            db_subnet_group => DB_SUBNET_GROUP,
            db_parameter_group => DB_PARAMETER_GROUP,
            db_option_group => DB_OPTION_GROUP,
            db_instance => DB_INSTANCE,
            nat_gateway => NAT_GATEWAY,
            elastic_ip => ELASTIC_IP,
            elastic_ip_association => ELASTIC_IP_ASSOCIATION,
            iam_policy => IAM_POLICY,
            iam_role => IAM_ROLE,
            iam_instance_profile => IAM_INSTANCE_PROFILE,
            key_pair => KEY_PAIR,
            sns_topic => SNS_TOPIC,
            sns_subscription => SNS_SUBSCRIPTION,
            metric_alarm => METRIC_ALARM,
            log_group => LOG_GROUP,
            s3_bucket => S3_BUCKET,
            efs_file_system => EFS_FILE_SYSTEM,
            efs_mount_target => EFS_MOUNT_TARGET,
        }
    };
}

each_kind!(kinds);

pub fn get(name: &str) -> Option<&'static Kind> {
    ALL.iter().copied().find(|k| k.name == name)
}

pub fn names() -> impl Iterator<Item = &'static str> {
    ALL.iter().map(|k| k.name)
}

/// The reference of every kind and attribute, as Markdown, for `docs/spec.md`.
pub fn reference_markdown() -> String {
    use std::fmt::Write;
    let mut out = String::new();
    for k in ALL {
        let _ = writeln!(out, "### `{}`\n\n{}\n", k.name, k.doc);
        let from: Vec<String> = k
            .terraform_types
            .iter()
            .map(|t| match t.attrs {
                "" => format!("`{}`", t.name),
                attrs => format!("`{}` (as `{}`)", t.name, attrs.replace(", ", "` or `")),
            })
            .collect();
        if !from.is_empty() {
            let _ = writeln!(out, "From Terraform: {}.\n", from.join(", "));
        }
        if let Some(counter) = k.versioned {
            let _ = writeln!(
                out,
                "Versioned: a change to any attribute but `tags` makes a new version (`{counter}` + 1) in place of a replacement.\n"
            );
        }
        if let Some(name) = k.generated_name {
            let _ = writeln!(
                out,
                "Replacement: with `{name}` left out, the new object is created first under a generated name and the old one deleted after what uses it has moved over (`+/-` in the plan); with `{name}` fixed in the spec, the old one is deleted first (`-/+`).\n"
            );
        }
        ref_table(&mut out, k, k.object.attrs, k.generated_name);
        ref_nested(&mut out, k, k.object.attrs, &mut Vec::new());
        if !k.rules.is_empty() {
            out.push_str("\nFindings (`waive: { RULE: reason }` accepts one on a resource):\n\n| rule | checkov | severity | finding | fix |\n|---|---|---|---|---|\n");
            for r in k.rules {
                let _ = writeln!(
                    out,
                    "| `{}` | {} | {} | {}: {} | {} |",
                    r.id,
                    r.checkov.map(|c| format!("`{c}`")).unwrap_or_default(),
                    r.severity.word(),
                    r.title,
                    r.why,
                    r.fix
                );
            }
        }
        out.push('\n');
    }
    out
}

/// The reference's "presence" column.
fn ref_mode(a: &Attr) -> &'static str {
    match a.mode {
        Mode::Required => "required",
        Mode::Optional => "optional",
        Mode::OptionalComputed => "optional (AWS decides if unset)",
        Mode::Computed => "computed by AWS",
    }
}
/// The reference's "default" column.
fn ref_default(a: &Attr) -> String {
    match a.default {
        Default::None => String::new(),
        Default::Bool(b) => format!("`{b}`"),
        Default::Int(i) => format!("`{i}`"),
        Default::Str(s) => format!("`{s}`"),
        Default::EmptyList => "`[]`".into(),
        Default::EmptyMap => "`{}`".into(),
        Default::StackName => "`<stack>-<name>`".into(),
        Default::RefAttr { via, attr } => format!("`{attr}` of the `{via}` object"),
    }
}
/// One table of attributes.
fn ref_table(out: &mut String, kind: &Kind, attrs: &[Attr], generated: Option<&str>) {
    use std::fmt::Write;
    out.push_str("| attribute | type | presence | default | on change | meaning |\n|---|---|---|---|---|---|\n");
    for a in attrs {
        let (effect, about) = a.effect(kind);
        let change = if a.mode == Mode::Computed {
            String::new()
        } else if a.local {
            "nothing on AWS (a trellis setting)".to_string()
        } else if a.force_new {
            if effect == Effect::DataLoss {
                "**replace** (data loss)".to_string()
            } else {
                "**replace**".to_string()
            }
        } else {
            let interrupts = match effect {
                Effect::None => String::new(),
                e => format!(", **{}**: {about}", e.word()),
            };
            // The interruption's words say what the note says, and more.
            let note = a.note.filter(|_| effect == Effect::None).map(|n| format!("; {n}")).unwrap_or_default();
            format!("in place{interrupts}{note}")
        };
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} | {} | {} |",
            a.name,
            a.ty.describe(),
            if generated == Some(a.name) { "optional (trellis generates it if unset)" } else { ref_mode(a) },
            ref_default(a),
            change,
            format!("{}{}", a.doc, ref_limits(a))
        );
    }
}

/// What AWS takes of an attribute, as the reference says it after the meaning.
fn ref_limits(a: &Attr) -> String {
    let unit = if matches!(a.ty, Type::List(_) | Type::Set(_) | Type::Map) { "items" } else { "characters" };
    let mut said = Vec::new();
    match (a.min_len.filter(|n| *n > 0), a.max_len) {
        (Some(lo), Some(hi)) => said.push(format!("{lo} to {hi} {unit}")),
        (None, Some(hi)) => said.push(format!("at most {hi} {unit}")),
        (Some(lo), None) => said.push(format!("at least {lo} {unit}")),
        (None, None) => {}
    }
    match a.range {
        Some((lo, i64::MAX)) => said.push(format!("{lo} or more")),
        Some((lo, hi)) => said.push(format!("{lo} to {hi}")),
        None => {}
    }
    if let Some(p) = a.pattern {
        said.push(format!("matching `{}`", p.replace('|', "\\|")));
    }
    if said.is_empty() {
        String::new()
    } else {
        format!(" AWS takes {}.", said.join(", "))
    }
}
/// The tables of the objects nested in `attrs`, each once.
fn ref_nested(out: &mut String, kind: &Kind, attrs: &[Attr], seen: &mut Vec<&'static str>) {
    use std::fmt::Write;
    for a in attrs {
        let inner = match &a.ty {
            crate::schema::Type::Object(o) => Some(o),
            crate::schema::Type::List(t) | crate::schema::Type::Set(t) => match t {
                crate::schema::Type::Object(o) => Some(o),
                _ => None,
            },
            _ => None,
        };
        if let Some(o) = inner {
            if seen.contains(&a.name) {
                continue;
            }
            seen.push(a.name);
            let _ = writeln!(out, "\nEach entry of `{}`:\n", a.name);
            ref_table(out, kind, o.attrs, None);
            ref_nested(out, kind, o.attrs, seen);
        }
    }
}
