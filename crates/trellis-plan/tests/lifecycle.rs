//! The planner on changes that leave the spec as it is: `--replace` (a replacement the
//! spec does not force, under the data-loss rules), `--refresh-only` (the drift taken
//! into the state, nothing to do in the cloud) and `protect: true` on any kind (kept in
//! the state once the block is gone).

mod support;

use std::collections::BTreeMap;

use support::{addr, converged, plan_edited as plan_of};
use trellis_core::{Address, LiveObject, Value};
use trellis_plan::{render, render_markdown, to_json, Action, Operation, Plan, RenderOptions};

const SPEC: &str = r#"stack: web
resources:
  vpc.main:
    cidr_block: 10.0.0.0/16
  subnet.a:
    vpc_id: ${vpc.main}
    cidr_block: 10.0.1.0/24
  security_group.app:
    vpc_id: ${vpc.main}
    description: app
    ingress:
      - { protocol: tcp, port: 80, cidr: 10.0.0.0/16 }
outputs:
  subnet: ${subnet.a}
"#;

const DB: &str = r#"stack: web
resources:
  db_instance.main:
    engine: postgres
    db_instance_class: db.t3.micro
    allocated_storage: 20
    master_username: app
    master_user_password: ${env.DB_PASSWORD}
"#;

fn text(p: &Plan) -> String {
    render(p, RenderOptions::default())
}

#[test]
fn replace_replaces_an_object_the_spec_keeps_and_what_refers_to_it_follows() {
    let st = converged(SPEC);
    let p = plan_of(SPEC, &st, Operation::Apply, &["subnet.a"], |_| {});
    let c = p.change(&addr("subnet.a")).unwrap();
    assert_eq!(c.action, Action::DeleteThenCreate, "{}", text(&p));
    assert!(c.replace_requested);
    assert!(c.replace_because.is_empty());
    assert_eq!(c.after.as_ref().unwrap()["id"], Value::Unknown);
    // Nothing else is replaced; the output follows the new id.
    assert_eq!(p.change(&addr("vpc.main")).unwrap().action, Action::NoOp);
    assert_eq!(p.change(&addr("security_group.app")).unwrap().action, Action::NoOp);
    assert_eq!(p.planned_outputs["subnet"], Value::Unknown);
    let t = text(&p);
    assert!(t.contains("# subnet.a will be replaced, as asked with --replace"), "{t}");
    assert!(t.contains("0 to add, 0 to change, 1 to replace, 0 to destroy"), "{t}");
    let j = to_json(&p);
    let sub = j["resource_changes"].as_array().unwrap().iter().find(|c| c["address"] == "subnet.a").unwrap();
    assert_eq!(sub["action_reason"], "replace_by_request");
    assert_eq!(sub["replace_requested"], true);
    assert_eq!(sub["change"]["actions"], serde_json::json!(["delete", "create"]));
    // Without the flag, the same plan has nothing to do.
    assert!(plan_of(SPEC, &st, Operation::Apply, &[], |_| {}).is_empty());
}

#[test]
fn replace_of_a_kind_with_a_generated_name_creates_first() {
    let st = converged(SPEC);
    let p = plan_of(SPEC, &st, Operation::Apply, &["security_group.app"], |_| {});
    let c = p.change(&addr("security_group.app")).unwrap();
    assert_eq!(c.action, Action::CreateThenDelete, "{}", text(&p));
    assert!(c.replace_requested);
}

#[test]
fn replace_of_a_database_is_a_protected_data_loss() {
    let st = converged(DB);
    let p = plan_of(DB, &st, Operation::Apply, &["db_instance.main"], |_| {});
    let c = p.change(&addr("db_instance.main")).unwrap();
    assert!(c.action.is_replace(), "{}", text(&p));
    assert!(c.protected);
    assert!(c.data_loss.as_ref().is_some_and(|d| d.protected && d.final_snapshot.is_some()));
    assert_eq!(p.protected_changes().len(), 1);
    let t = text(&p);
    assert!(t.contains("db_instance.main: replaced (as asked with --replace): a new, empty database"), "{t}");
    // `protect: false` lets it go without --allow-data-loss, with its snapshot.
    let open = DB.replace("    engine: postgres\n", "    engine: postgres\n    protect: false\n");
    let st = converged(&open);
    let p = plan_of(&open, &st, Operation::Apply, &["db_instance.main"], |_| {});
    assert!(p.protected_changes().is_empty());
    assert!(p.change(&addr("db_instance.main")).unwrap().data_loss.is_some());
}

#[test]
fn refresh_only_takes_drift_into_the_state_and_plans_nothing() {
    let st = converged(SPEC);
    let p = plan_of(SPEC, &st, Operation::RefreshOnly, &[], |live| {
        // Someone opened SSH by hand, and deleted the subnet.
        let sg = live.get_mut(&addr("security_group.app")).unwrap();
        let Some(Value::List(rules)) = sg.attrs.get_mut("ingress") else { panic!("no rules") };
        let mut ssh = rules[0].clone();
        if let Value::Map(m) = &mut ssh {
            m.insert("port".into(), Value::Int(22));
        }
        rules.push(ssh);
        live.remove(&addr("subnet.a"));
    });
    assert_eq!(p.operation, Operation::RefreshOnly);
    assert!(p.changes.is_empty(), "{:?}", p.changes);
    assert!(p.is_empty() && p.has_changes());
    assert_eq!(p.drift.len(), 2);
    // The state will hold the rule added by hand and no subnet.
    let sg = p.refreshed.iter().find(|r| r.address == addr("security_group.app")).unwrap();
    assert_eq!(sg.attributes["ingress"].as_list().len(), 2);
    assert!(p.refreshed.iter().all(|r| r.address != addr("subnet.a")));
    // The output the subnet gave is gone with it.
    assert_eq!(p.planned_outputs["subnet"], Value::Unknown);
    let t = text(&p);
    assert!(t.contains("This is a refresh-only plan: nothing in the cloud changes."), "{t}");
    assert!(t.contains("objects deleted outside trellis leave it"), "{t}");
    assert!(!t.contains("The plan below takes these changes into account"), "{t}");
    assert!(!t.contains("will be"), "{t}");
    assert!(render_markdown(&p).contains("**Refresh only.**"));
    let j = to_json(&p);
    assert_eq!(j["operation"], "refresh_only");
    assert_eq!(j["resource_drift"].as_array().map(Vec::len), Some(2));
    assert_eq!(j["resource_changes"], serde_json::json!([]));

    // Nothing drifted: nothing to record.
    let calm = plan_of(SPEC, &st, Operation::RefreshOnly, &[], |_| {});
    assert!(!calm.has_changes());
    assert!(text(&calm).contains("No changes. The state matches the live objects"), "{}", text(&calm));
}

#[test]
fn refresh_only_neither_deletes_forgets_nor_moves() {
    let st = converged(SPEC);
    // The spec lost the security group, forgets the subnet and renames the VPC.
    let spec = SPEC
        .replace(
            "  security_group.app:\n    vpc_id: ${vpc.main}\n    description: app\n    ingress:\n      - { protocol: tcp, port: 80, cidr: 10.0.0.0/16 }\n",
            "",
        )
        .replace("  subnet.a:\n    vpc_id: ${vpc.main}\n    cidr_block: 10.0.1.0/24\n", "")
        .replace("vpc.main", "vpc.core")
        .replace("  subnet: ${subnet.a}\n", "  vpc: ${vpc.core}\n")
        + "removed:\n  - from: subnet.a\nmoved:\n  - { from: vpc.main, to: vpc.core }\n";
    let apply = plan_of(&spec, &st, Operation::Apply, &[], |_| {});
    assert!(!apply.is_empty(), "the same spec does plan work for apply");
    let p = plan_of(&spec, &st, Operation::RefreshOnly, &[], |_| {});
    assert!(p.changes.is_empty() && p.moves.is_empty(), "{}", text(&p));
    assert_eq!(p.refreshed, st.resources);
}

const GUARDED: &str = r#"stack: web
resources:
  vpc.main:
    cidr_block: 10.0.0.0/16
    protect: true
  subnet.a:
    vpc_id: ${vpc.main}
    cidr_block: 10.0.1.0/24
"#;

#[test]
fn protect_true_guards_any_kind_as_the_spec_says_and_once_gone_as_recorded() {
    let st = converged(GUARDED);
    let vpc = st.resources.iter().find(|r| r.address == addr("vpc.main")).unwrap();
    assert_eq!(vpc.attributes.get("protect"), Some(&Value::Bool(true)), "the state keeps the setting");

    // A change that replaces it.
    let moved = GUARDED.replace("10.0.0.0/16", "10.1.0.0/16").replace("10.0.1.0/24", "10.1.1.0/24");
    let p = plan_of(&moved, &st, Operation::Apply, &[], |_| {});
    let c = p.change(&addr("vpc.main")).unwrap();
    assert!(c.action.is_replace() && c.protected, "{}", text(&p));
    assert!(c.data_loss.is_none(), "a VPC holds no data");
    assert!(!p.change(&addr("subnet.a")).unwrap().protected);
    let t = text(&p);
    assert!(t.contains("PROTECTED: this plan destroys 1 object marked `protect: true`:"), "{t}");
    assert!(t.contains("vpc.main: replaced (`cidr_block` cannot change in place)"), "{t}");
    assert!(t.contains("apply refuses this unless run with --allow-data-loss"), "{t}");
    assert_eq!(to_json(&p)["resource_changes"][0]["protected"], true);

    // The block is gone: the state's setting still holds.
    let gone = "stack: web\nresources: {}\n";
    let p = plan_of(gone, &st, Operation::Apply, &[], |_| {});
    let c = p.change(&addr("vpc.main")).unwrap();
    assert_eq!(c.action, Action::Delete);
    assert!(c.protected);
    assert!(text(&p).contains("vpc.main: destroyed (no longer in the spec; protected as last applied)"));
    // So does destroy, and --replace.
    let p = plan_of(GUARDED, &st, Operation::Destroy, &[], |_| {});
    assert_eq!(p.protected_changes().iter().map(|c| c.address.to_string()).collect::<Vec<_>>(), ["vpc.main"]);
    let p = plan_of(GUARDED, &st, Operation::Apply, &["vpc.main"], |_| {});
    assert_eq!(p.protected_changes().len(), 1);

    // Applying `protect: false` first is an update that changes only the state...
    let off = GUARDED.replace("protect: true", "protect: false");
    let p = plan_of(&off, &st, Operation::Apply, &[], |_| {});
    let c = p.change(&addr("vpc.main")).unwrap();
    assert_eq!(c.action, Action::Update);
    assert_eq!(c.after.as_ref().unwrap()["protect"], Value::Bool(false));
    // ...after which the block can go.
    let released = converged(&off);
    let p = plan_of(gone, &released, Operation::Apply, &[], |_| {});
    assert!(p.protected_changes().is_empty());
    assert_eq!(p.summary().destroy, 2);
}

#[test]
fn protect_is_a_trellis_setting_never_drift() {
    let st = converged(GUARDED);
    // AWS knows nothing of it: a live object without it is no change.
    let p = plan_of(GUARDED, &st, Operation::Apply, &[], |live| {
        live.get_mut(&addr("vpc.main")).unwrap().attrs.remove("protect");
    });
    assert!(p.is_empty() && p.drift.is_empty(), "{}", text(&p));
    // An existing state without the setting (written before it existed) plans nothing.
    let plain = GUARDED.replace("    protect: true\n", "");
    assert!(plan_of(&plain, &converged(&plain), Operation::Apply, &[], |_| {}).is_empty());
}

#[test]
fn replace_refresh_only_protected_and_ignored_plans_follow_the_json_schema() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/json-plan.schema.json");
    let schema: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).expect("the schema itself is valid");
    let st = converged(SPEC);
    let guarded = converged(GUARDED);
    let drifted = |live: &mut BTreeMap<Address, LiveObject>| {
        live.get_mut(&addr("vpc.main")).unwrap().attrs.insert("enable_dns_hostnames".into(), Value::Bool(true));
    };
    let ignoring = SPEC.replace(
        "    cidr_block: 10.0.0.0/16\n",
        "    cidr_block: 10.0.0.0/16\n    ignore_changes: [enable_dns_hostnames]\n",
    );
    let plans = [
        plan_of(SPEC, &st, Operation::Apply, &["subnet.a", "security_group.app"], |_| {}),
        plan_of(SPEC, &st, Operation::RefreshOnly, &[], drifted),
        plan_of(&ignoring, &st, Operation::Apply, &[], drifted),
        plan_of("stack: web\nresources: {}\n", &guarded, Operation::Apply, &[], |_| {}),
    ];
    assert_eq!(plans[2].drift[0].ignored, ["enable_dns_hostnames"]);
    for p in plans {
        let json = to_json(&p);
        let errors: Vec<String> =
            validator.iter_errors(&json).map(|e| format!("{} at {}", e, e.instance_path())).collect();
        assert!(errors.is_empty(), "{errors:#?}");
    }
}
