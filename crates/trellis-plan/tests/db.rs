//! The planner on the database kinds: deletions and replacements that lose data are
//! marked (protected unless the spec says otherwise, with the final snapshot named),
//! trellis's own settings survive a refresh, and parameter changes say who must reboot.

mod support;

use std::collections::BTreeMap;

use support::{addr, converged};
use trellis_core::{Address, LiveObject, Value};
use trellis_plan::{render, Action, Operation, Plan, PlanInput, RenderOptions};
use trellis_state::State;

const SPEC: &str = r#"stack: web
resources:
  vpc.main:
    cidr_block: 10.0.0.0/16
  subnet.a:
    vpc_id: ${vpc.main}
    cidr_block: 10.0.1.0/24
  subnet.b:
    vpc_id: ${vpc.main}
    cidr_block: 10.0.2.0/24
  db_subnet_group.db:
    subnet_ids: ["${subnet.a}", "${subnet.b}"]
  db_parameter_group.tuned:
    db_parameter_group_family: mysql8.0
    parameters:
      max_allowed_packet: "67108864"
  db_instance.main:
    engine: mysql
    db_instance_class: db.t3.micro
    allocated_storage: 20
    master_username: admin
    master_user_password: ${env.DB_PASSWORD}
    db_subnet_group_name: ${db_subnet_group.db}
    db_parameter_group_name: ${db_parameter_group.tuned}
"#;

/// Plans with `DB_PASSWORD` set; live objects are `prior`'s minus trellis's own
/// settings (the cloud knows nothing of them).
fn plan(text: &str, prior: Option<&State>, operation: Operation) -> Plan {
    let spec = support::spec(text);
    let live: BTreeMap<Address, LiveObject> = prior
        .into_iter()
        .flat_map(|s| &s.resources)
        .map(|r| {
            let mut attrs = r.attributes.clone();
            for local in ["protect", "skip_final_snapshot", "apply_immediately", "reboot_for_parameters"] {
                attrs.remove(local);
            }
            attrs.remove("master_user_password"); // AWS never returns it
            (r.address.clone(), LiveObject { address: r.address.clone(), id: r.id.clone(), attrs })
        })
        .collect();
    let env = |name: &str| (name == "DB_PASSWORD").then(|| "hunter2-but-longer".to_string());
    trellis_plan::plan(PlanInput {
        spec: &spec,
        prior,
        live: &live,
        orphans: &[],
        tags: &Default::default(),
        operation,
        targets: &[],
        replace: &[],
        env: &env,
    })
    .unwrap()
}

/// The state after applying `text`, with the password recorded as its digest.
fn applied(text: &str) -> State {
    let mut st = converged(text);
    let first = plan(text, None, Operation::Apply);
    for c in first.changes.iter().filter(|c| !c.sensitive.is_empty()) {
        let r = st.resources.iter_mut().find(|r| r.address == c.address).unwrap();
        for name in &c.sensitive {
            r.attributes.insert(name.clone(), c.after.as_ref().unwrap()[name].clone());
        }
        r.sensitive = c.sensitive.clone();
    }
    st
}

fn text(p: &Plan) -> String {
    render(p, RenderOptions::default())
}

#[test]
fn a_converged_database_plans_nothing_though_aws_knows_none_of_trellis_settings() {
    let st = applied(SPEC);
    let p = plan(SPEC, Some(&st), Operation::Apply);
    assert!(p.is_empty(), "{}", text(&p));
    assert!(p.data_loss().next().is_none());
}

#[test]
fn a_forced_replacement_is_data_loss_protected_by_default_with_a_named_snapshot() {
    let st = applied(SPEC);
    let p = plan(&SPEC.replace("engine: mysql", "engine: mariadb"), Some(&st), Operation::Apply);
    let c = p.change(&addr("db_instance.main")).unwrap();
    assert_eq!(c.action, Action::CreateThenDelete);
    let loss = c.data_loss.as_ref().unwrap();
    assert!(loss.protected);
    assert_eq!(loss.final_snapshot.as_deref(), Some("web-main-final-1"));
    assert_eq!(p.protected_changes().len(), 1);
    let shown = text(&p);
    assert!(shown.contains("!! DATA LOSS: this plan destroys 1 database and the data in it:"), "{shown}");
    assert!(
        shown.contains("!!   db_instance.main: replaced (`engine` cannot change in place): a new, empty database; final snapshot `web-main-final-1` is taken first; protected"),
        "{shown}"
    );
    assert!(shown.contains("apply refuses this unless run with --allow-data-loss"), "{shown}");
    let md = trellis_plan::render_markdown(&p);
    assert!(md.contains("> [!CAUTION]\n> **DATA LOSS"), "{md}");
    let json = trellis_plan::to_json(&p);
    let rc = json["resource_changes"].as_array().unwrap().iter().find(|r| r["address"] == "db_instance.main").unwrap();
    assert_eq!(rc["data_loss"], serde_json::json!({"protected": true, "final_snapshot": "web-main-final-1"}));
}

#[test]
fn protect_false_and_skip_final_snapshot_are_honoured_and_said() {
    let relaxed =
        SPEC.replace("    engine: mysql\n", "    engine: mysql\n    protect: false\n    skip_final_snapshot: true\n");
    let st = applied(&relaxed);
    let p = plan(&relaxed.replace("engine: mysql", "engine: mariadb"), Some(&st), Operation::Apply);
    let loss = p.change(&addr("db_instance.main")).unwrap().data_loss.clone().unwrap();
    assert!(!loss.protected);
    assert_eq!(loss.final_snapshot, None);
    assert!(p.protected_changes().is_empty());
    let shown = text(&p);
    assert!(shown.contains("NO final snapshot (`skip_final_snapshot: true`); `protect: false`"), "{shown}");
    assert!(!shown.contains("apply refuses"), "{shown}");
}

#[test]
fn removal_and_destroy_take_protection_from_the_state_or_the_spec() {
    let st = applied(SPEC);
    // Removed from the spec: the state's recorded settings hold (protected).
    let without = SPEC.split("  db_instance.main:").next().unwrap();
    let p = plan(without, Some(&st), Operation::Apply);
    let c = p.change(&addr("db_instance.main")).unwrap();
    assert_eq!(c.action, Action::Delete);
    assert!(c.data_loss.as_ref().unwrap().protected);
    assert!(text(&p).contains("db_instance.main: destroyed (no longer in the spec)"), "{}", text(&p));
    // Destroy with the spec saying `protect: false` now: not protected.
    let p = plan(
        &SPEC.replace("    engine: mysql\n", "    engine: mysql\n    protect: false\n"),
        Some(&st),
        Operation::Destroy,
    );
    assert!(p.protected_changes().is_empty());
    assert_eq!(p.data_loss().count(), 1);
    // Only databases hold data: the subnet group's delete is no data loss.
    assert!(p.change(&addr("db_subnet_group.db")).unwrap().data_loss.is_none());
}

#[test]
fn updates_say_when_they_take_effect_and_settings_alone_say_nothing() {
    let st = applied(SPEC);
    let p = plan(&SPEC.replace("db.t3.micro", "db.t3.small"), Some(&st), Operation::Apply);
    let c = p.change(&addr("db_instance.main")).unwrap();
    assert_eq!(c.action, Action::Update);
    assert!(c.notes.iter().any(|n| n.starts_with("applies in the next maintenance window")), "{:?}", c.notes);
    assert!(c.data_loss.is_none());

    let now = SPEC.replace("db.t3.micro", "db.t3.small\n    apply_immediately: true");
    let c = plan(&now, Some(&st), Operation::Apply).change(&addr("db_instance.main")).unwrap().clone();
    assert!(c.notes.iter().any(|n| n.starts_with("applies immediately")), "{:?}", c.notes);

    let setting = SPEC.replace("    engine: mysql\n", "    engine: mysql\n    protect: false\n");
    let c = plan(&setting, Some(&st), Operation::Apply).change(&addr("db_instance.main")).unwrap().clone();
    assert_eq!(c.action, Action::Update);
    assert!(c.notes.is_empty(), "a trellis setting changes nothing in AWS: {:?}", c.notes);
}

#[test]
fn a_parameter_change_names_the_databases_that_wait_for_a_reboot_or_reboots_them() {
    let st = applied(SPEC);
    let edited = SPEC.replace("\"67108864\"", "\"134217728\"");
    let p = plan(&edited, Some(&st), Operation::Apply);
    let group = p.change(&addr("db_parameter_group.tuned")).unwrap();
    assert_eq!(group.action, Action::Update);
    assert!(
        group.notes.iter().any(|n| n == "static parameters take effect only after a reboot of db_instance.main"),
        "{:?}",
        group.notes
    );
    let db = p.change(&addr("db_instance.main")).unwrap();
    assert_eq!(db.action, Action::NoOp);
    assert!(db.notes.iter().any(|n| n.starts_with("pending reboot:")), "{:?}", db.notes);

    let rebooting = edited.replace("    engine: mysql\n", "    engine: mysql\n    reboot_for_parameters: true\n");
    let st = applied(&SPEC.replace("    engine: mysql\n", "    engine: mysql\n    reboot_for_parameters: true\n"));
    let p = plan(&rebooting, Some(&st), Operation::Apply);
    let db = p.change(&addr("db_instance.main")).unwrap();
    assert_eq!(db.action, Action::Update, "rebooted by this apply");
    assert!(db.notes.iter().any(|n| n.starts_with("reboot:")), "{:?}", db.notes);
    assert_eq!(p.change(&addr("db_parameter_group.tuned")).unwrap().notes.len(), 1, "no one left waiting");
}

#[test]
fn a_password_change_is_an_update_shown_without_its_value() {
    let st = applied(SPEC);
    let spec = support::spec(SPEC);
    let live: BTreeMap<Address, LiveObject> = st
        .resources
        .iter()
        .map(|r| {
            (
                r.address.clone(),
                LiveObject { address: r.address.clone(), id: r.id.clone(), attrs: r.attributes.clone() },
            )
        })
        .collect();
    let env = |_: &str| Some("a-new-password-42".to_string());
    let p = trellis_plan::plan(PlanInput {
        spec: &spec,
        prior: Some(&st),
        live: &live,
        orphans: &[],
        tags: &Default::default(),
        operation: Operation::Apply,
        targets: &[],
        replace: &[],
        env: &env,
    })
    .unwrap();
    let c = p.change(&addr("db_instance.main")).unwrap();
    assert_eq!(c.action, Action::Update);
    assert!(matches!(c.after.as_ref().unwrap()["master_user_password"], Value::Sensitive(_)));
    let shown = text(&p);
    assert!(shown.contains("master_user_password = (sensitive, changed)"), "{shown}");
    assert!(!shown.contains("a-new-password-42") && !shown.contains("hunter2"), "{shown}");
}

#[test]
fn a_read_replica_is_destroyed_without_a_final_snapshot() {
    // #39: AWS refuses `FinalDBSnapshotIdentifier` when it deletes a read replica, so a
    // destroy that named one would fail half-way on AWS.
    let spec = SPEC.replace(
        "    db_parameter_group_name: ${db_parameter_group.tuned}\n",
        "    db_parameter_group_name: ${db_parameter_group.tuned}\n    backup_retention_period: 7\n  db_instance.replica:\n    source_db_instance_identifier: ${db_instance.main}\n    db_instance_class: db.t3.micro\n",
    );
    let st = converged(&spec);
    let p = plan(&spec, Some(&st), Operation::Destroy);
    let replica = p.change(&addr("db_instance.replica")).unwrap().data_loss.clone().unwrap();
    assert_eq!(replica.final_snapshot, None);
    assert!(replica.protected, "still protected: its loss needs consent like any database's");
    let main = p.change(&addr("db_instance.main")).unwrap().data_loss.clone().unwrap();
    assert!(main.final_snapshot.is_some(), "the primary keeps its final snapshot");
    let shown = text(&p);
    assert!(
        shown.contains("db_instance.replica: destroyed; no final snapshot: a read replica takes no final snapshot"),
        "{shown}"
    );
}

#[test]
fn a_class_change_restarts_the_database_a_reboot_too_and_a_replacement_loses_data() {
    use trellis_core::schema::Effect;
    let st = applied(SPEC);
    let p = plan(&SPEC.replace("db.t3.micro", "db.t3.small"), Some(&st), Operation::Apply);
    let i = p.change(&addr("db_instance.main")).unwrap().interruption.clone().unwrap();
    assert_eq!((i.effect, i.because), (Effect::Restart, vec!["db_instance_class".to_string()]));
    assert!(i.about.contains("maintenance window"), "{}", i.about);

    let p = plan(&SPEC.replace("engine: mysql", "engine: mariadb"), Some(&st), Operation::Apply);
    let i = p.change(&addr("db_instance.main")).unwrap().interruption.clone().unwrap();
    assert_eq!((i.effect, i.because), (Effect::DataLoss, vec!["engine".to_string()]));

    let rebooting = SPEC.replace("    engine: mysql\n", "    engine: mysql\n    reboot_for_parameters: true\n");
    let st = applied(&rebooting);
    let p = plan(&rebooting.replace("67108864", "33554432"), Some(&st), Operation::Apply);
    let i = p.change(&addr("db_instance.main")).unwrap().interruption.clone().unwrap();
    assert_eq!((i.effect, i.because), (Effect::Restart, vec!["reboot_for_parameters".to_string()]));
}

#[test]
fn a_refusal_says_what_the_plan_says_of_snapshots_and_which_command_it_refuses() {
    // Protected, with no final snapshot: the refusal must not promise one.
    let skip = SPEC.replace("    engine: mysql\n", "    engine: mysql\n    skip_final_snapshot: true\n");
    let st = applied(&skip);
    let p = plan(&skip, Some(&st), Operation::Destroy);
    assert!(text(&p).contains("NO final snapshot"), "{}", text(&p));
    let why = p.refusal().expect("protected");
    assert!(why.starts_with("refusing to destroy: it would destroy the data of db_instance.main"), "{why}");
    assert!(!why.contains("final snapshots are still taken"), "{why}");
    assert!(why.contains("with no final snapshot, as the plan says"), "{why}");
    // With its snapshot, an apply's refusal says so.
    let st = applied(SPEC);
    let p = plan(&SPEC.replace("engine: mysql", "engine: mariadb"), Some(&st), Operation::Apply);
    let why = p.refusal().expect("protected");
    assert!(why.starts_with("refusing to apply:"), "{why}");
    assert!(why.contains("--allow-data-loss (final snapshots are still taken)"), "{why}");
    // Nothing protected, nothing refused.
    assert_eq!(plan(SPEC, Some(&st), Operation::Apply).refusal(), None);
}

#[test]
fn a_replica_whose_source_is_dropped_is_promoted_in_place_and_another_source_replaces_it() {
    let replicated = SPEC.replace(
        "    db_parameter_group_name: ${db_parameter_group.tuned}\n",
        "    db_parameter_group_name: ${db_parameter_group.tuned}\n    backup_retention_period: 7\n  db_instance.replica:\n    source_db_instance_identifier: ${db_instance.main}\n    db_instance_class: db.t3.micro\n",
    );
    let mut st = converged(&replicated);
    // AWS shows a replica with its source's engine, administrator and storage.
    let replica = st.resources.iter_mut().find(|r| r.address == addr("db_instance.replica")).unwrap();
    for (k, v) in [("engine", "mysql"), ("master_username", "admin")] {
        replica.attributes.insert(k.into(), Value::str(v));
    }
    replica.attributes.insert("allocated_storage".into(), Value::Int(20));
    let promoted = replicated.replace(
        "    source_db_instance_identifier: ${db_instance.main}\n    db_instance_class: db.t3.micro\n",
        "    engine: mysql\n    db_instance_class: db.t3.micro\n    allocated_storage: 20\n    master_username: admin\n    master_user_password: ${env.DB_PASSWORD}\n",
    );
    let p = plan(&promoted, Some(&st), Operation::Apply);
    let c = p.change(&addr("db_instance.replica")).unwrap();
    assert_eq!(c.action, Action::Update, "{}", text(&p));
    assert!(c.data_loss.is_none());
    assert!(c.notes.iter().any(|n| n.contains("promoted to a database of its own")), "{:?}", c.notes);

    // Another source is another replica: a replacement, as before.
    let moved = replicated
        .replace("  db_instance.replica:\n", "  db_instance.other:\n    engine: mysql\n    db_instance_class: db.t3.micro\n    allocated_storage: 20\n    master_username: admin\n    master_user_password: ${env.DB_PASSWORD}\n    backup_retention_period: 7\n  db_instance.replica:\n")
        .replace("source_db_instance_identifier: ${db_instance.main}", "source_db_instance_identifier: ${db_instance.other}");
    let p = plan(&moved, Some(&st), Operation::Apply);
    assert!(p.change(&addr("db_instance.replica")).unwrap().action.is_replace(), "{}", text(&p));
}
