//! The planner on write-only attributes (a key pair's public key, which AWS does not
//! give back as it was given) and on IAM's policy documents.

mod support;

use support::{addr, converged, plan_edited};
use trellis_core::Value;
use trellis_plan::{mismatches, Action, Operation, Plan};

const SPEC: &str = r#"stack: web
resources:
  key_pair.admin:
    public_key_material: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIER8 admin@example"
  iam_role.app:
    assume_role_policy_document:
      Version: "2012-10-17"
      Statement:
        - { Effect: Allow, Principal: { Service: ec2.amazonaws.com }, Action: sts:AssumeRole }
    policies:
      read: { Version: "2012-10-17", Statement: [{ Effect: Allow, Action: "ec2:Describe*", Resource: "*" }] }
"#;

fn action(p: &Plan, address: &str) -> Action {
    p.changes.iter().find(|c| c.address == addr(address)).unwrap_or_else(|| panic!("no change of {address}")).action
}

#[test]
fn a_write_only_key_is_kept_from_the_state_and_a_new_one_replaces_the_key_pair() {
    let prior = converged(SPEC);
    // AWS answers the key in a form of its own (without the comment): not drift.
    let p = plan_edited(SPEC, &prior, Operation::Apply, &[], |live| {
        let kp = live.get_mut(&addr("key_pair.admin")).unwrap();
        kp.attrs.insert("public_key_material".into(), Value::str("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIER8"));
    });
    assert_eq!(action(&p, "key_pair.admin"), Action::NoOp);
    assert!(p.drift.is_empty(), "{:?}", p.drift);
    assert!(!p.has_changes());

    // A new key in the spec replaces it.
    let new_key = SPEC.replace("AAAAIER8 admin", "AAAAIJuc admin");
    let p = plan_edited(&new_key, &prior, Operation::Apply, &[], |_| {});
    let c = p.changes.iter().find(|c| c.address == addr("key_pair.admin")).unwrap();
    assert_eq!(c.action, Action::CreateThenDelete, "its name is generated: the new one is made first");
    assert_eq!(c.replace_because, ["public_key_material"]);

    // What an apply reads back is never held against it.
    let kind = addr("key_pair.admin").kind;
    let planned = prior.resources.iter().find(|r| r.address == addr("key_pair.admin")).unwrap().attributes.clone();
    let mut read = planned.clone();
    read.insert("public_key_material".into(), Value::str("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIER8"));
    assert!(mismatches(kind, &planned, &read).is_empty());
}

#[test]
fn policy_documents_changed_outside_are_drift_and_put_back_in_place() {
    let prior = converged(SPEC);
    let p = plan_edited(SPEC, &prior, Operation::Apply, &[], |live| {
        let role = live.get_mut(&addr("iam_role.app")).unwrap();
        let Some(Value::Map(policies)) = role.attrs.get_mut("policies") else { panic!("policies") };
        let Some(Value::Map(read)) = policies.get_mut("read") else { panic!("read") };
        read.insert("Version".into(), Value::str("2008-10-17"));
    });
    assert_eq!(action(&p, "iam_role.app"), Action::Update);
    assert_eq!(p.drift.len(), 1);
    let c = p.changes.iter().find(|c| c.address == addr("iam_role.app")).unwrap();
    assert!(c.replace_because.is_empty());
}
