//! The limits each kind declares for its attributes (`Attr::max_len`, `min_len`,
//! `range`, `pattern`, enums) against AWS's own API models (botocore's, in the test
//! venv): for every attribute sent as a member of its kind's create call, what the
//! model says is what the schema says, so `validate` refuses what AWS would. Runs
//! with `cargo xtask test`, which names the venv's Python.

use std::collections::BTreeMap;
use std::process::{Command, Stdio};

use trellis_core::kinds;
use trellis_core::schema::{Mode, Type};

/// Reads each create call's input members (and a launch template's data) from the
/// models: member name without underscores, lowercased -> its constraints.
const DUMP: &str = r#"
import json, sys
import botocore.session
session = botocore.session.get_session()
out = {}
for kind, service, operation in json.load(sys.stdin):
    shape = session.get_service_model(service).operation_model(operation).input_shape
    members = dict(shape.members)
    for name, member in shape.members.items():
        if name == "LaunchTemplateData":
            members.update(member.members)
    found = {}
    for name, m in members.items():
        c = {"member": name, "type": m.type_name}
        for key in ("min", "max", "pattern"):
            if key in m.metadata:
                c[key] = m.metadata[key]
        if getattr(m, "enum", None):
            c["enum"] = list(m.enum)
        found[name.lower()] = c
    out[kind] = found
print(json.dumps(out))
"#;

/// Where the schema differs from the model on purpose, and why.
const DIFFERS: &[(&str, &str, &str)] = &[
    ("launch_template", "instance_type", "the model lists every instance type (over 1,400, more each month); any is taken, and pre-flight asks the region whether it offers it"),
    ("instance", "instance_type", "as for launch templates"),
    ("autoscaling_group", "vpc_zone_identifier", "a set of subnets here, sent joined by commas"),
    ("efs_mount_target", "security_groups", "the model allows 100; the EFS API reference (CreateMountTarget) says up to five, as AWS enforces"),
];

/// Limits the models leave out and AWS's API reference states, with the page: the
/// schema may declare these where the model says nothing.
const FROM_REFERENCE: &[(&str, &str, &str)] = &[
    ("security_group", "group_name", "EC2 CreateSecurityGroup: up to 255 characters"),
    ("security_group", "description", "EC2 CreateSecurityGroup: up to 255 characters"),
    ("launch_template", "launch_template_name", "EC2 CreateLaunchTemplate: 3 to 128 characters"),
    ("target_group", "name", "ELB CreateTargetGroup: at most 32 characters"),
    ("load_balancer", "name", "ELB CreateLoadBalancer: at most 32 characters"),
    ("db_subnet_group", "db_subnet_group_name", "RDS CreateDBSubnetGroup: at most 255 characters"),
    ("db_parameter_group", "db_parameter_group_name", "RDS CreateDBParameterGroup: 1 to 255 characters"),
    ("db_option_group", "option_group_name", "RDS CreateOptionGroup: 1 to 255 letters, digits or hyphens"),
    ("db_instance", "db_instance_identifier", "RDS CreateDBInstance: 1 to 63 characters"),
    ("db_instance", "backup_retention_period", "RDS CreateDBInstance: 0 to 35 days"),
    ("db_instance", "master_user_password", "RDS CreateDBInstance: 8 to 41 (MySQL) or 128 (PostgreSQL) characters"),
    ("key_pair", "key_name", "EC2 ImportKeyPair: up to 255 ASCII characters"),
    ("s3_bucket", "bucket", "S3 bucket naming rules: 3 to 63 characters"),
    ("sns_topic", "name", "SNS CreateTopic: 1 to 256 characters"),
];

#[test]
fn each_kind_s_limits_are_what_aws_s_models_say() {
    let python = std::env::var("TRELLIS_TEST_PYTHON").unwrap_or_else(|_| {
        panic!("this test reads AWS's models with the venv's Python: run it with `cargo xtask test`")
    });
    let calls: Vec<(&str, &str, &str)> =
        kinds::ALL.iter().filter_map(|k| k.create_call.map(|(s, o)| (k.name, s, o))).collect();
    assert_eq!(calls.len(), kinds::ALL.len(), "every kind names its create call");
    let mut child =
        Command::new(python).args(["-c", DUMP]).stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().expect("python");
    serde_json::to_writer(child.stdin.take().unwrap(), &calls).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "reading the models failed");
    let models: BTreeMap<String, BTreeMap<String, serde_json::Value>> = serde_json::from_slice(&out.stdout).unwrap();

    let mut wrong = Vec::new();
    let mut held = 0;
    for kind in kinds::ALL {
        for attr in kind.object.attrs.iter().filter(|a| a.mode != Mode::Computed && !a.local && a.name != "tags") {
            let Some(m) = models[kind.name].get(&attr.name.replace('_', "")) else { continue };
            if DIFFERS.iter().any(|(k, a, _)| *k == kind.name && *a == attr.name) {
                continue;
            }
            let num = |k: &str| m.get(k).and_then(serde_json::Value::as_i64);
            // The model silent, the reference speaking: the schema follows the reference.
            let referenced = FROM_REFERENCE.iter().any(|(k, a, _)| *k == kind.name && *a == attr.name);
            let silent = |k: &str| referenced && m.get(k).is_none();
            let mut say = |what: String| wrong.push(format!("{}.{} ({}): {what}", kind.name, attr.name, m["member"]));
            let enumerated: Option<Vec<&str>> =
                m.get("enum").map(|e| e.as_array().unwrap().iter().filter_map(|v| v.as_str()).collect());
            match (&attr.ty, enumerated) {
                (Type::Enum(ours), Some(theirs)) => {
                    for v in ours.iter().filter(|v| !theirs.iter().any(|t| t.eq_ignore_ascii_case(v))) {
                        say(format!("`{v}` is not in the model's enum"));
                    }
                }
                (Type::Enum(_) | Type::Ref(_) | Type::Document | Type::Bool, _) => {}
                (_, Some(_)) => say("the model gives an enum: declare it `Type::Enum`".into()),
                (Type::Int, None) => {
                    let want = match (num("min"), num("max")) {
                        (None, None) => None,
                        (lo, hi) => Some((lo.unwrap_or(i64::MIN), hi.unwrap_or(i64::MAX))),
                    };
                    if attr.range != want && !(silent("min") && silent("max")) {
                        say(format!("range {:?}, the model {want:?}", attr.range));
                    }
                }
                (Type::Str, None) => {
                    let max = num("max").map(|n| n as usize);
                    if attr.max_len != max && !silent("max") {
                        say(format!("max_len {:?}, the model {max:?}", attr.max_len));
                    }
                    let min = num("min").map(|n| n as usize).filter(|n| *n > 0);
                    if attr.min_len.filter(|n| *n > 0) != min && !silent("min") {
                        say(format!("min_len {:?}, the model {min:?}", attr.min_len));
                    }
                    let pattern = m.get("pattern").and_then(serde_json::Value::as_str);
                    if attr.pattern != pattern {
                        say(format!("pattern {:?}, the model {pattern:?}", attr.pattern));
                    }
                }
                (Type::List(_) | Type::Set(_) | Type::Map, None) => {
                    let max = num("max").map(|n| n as usize);
                    if max.is_some() && attr.max_len != max {
                        say(format!("at most {:?} items, the model {max:?}", attr.max_len));
                    }
                }
                _ => {}
            }
            held += 1;
        }
    }
    assert!(wrong.is_empty(), "the schema and AWS's models disagree:\n{}", wrong.join("\n"));
    assert!(held >= 40, "only {held} attributes matched a model member");
}
