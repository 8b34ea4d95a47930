//! The planner on other stacks' outputs: the state each came from is shown with its
//! lineage and serial, and a changed output of that stack changes what uses it here.

mod support;

use std::collections::BTreeMap;

use support::{addr, converged, run_spec};
use trellis_core::Value;
use trellis_plan::{render, render_markdown, to_json, Action, RenderOptions};
use trellis_spec::{parse, LoadOptions, SourceFile, Spec, StackOutputs, StackState, StackValues};

const SPEC: &str = r#"stack: app
resources:
  security_group.app:
    vpc_id: ${stack.shared-db.output.vpc_id}
    description: app
  launch_template.app:
    image_id: ami-0abcdef1234567890
    instance_type: t3.micro
    user_data: "DATABASE_URL=postgres://${stack.shared-db.output.endpoint}/app"
"#;

fn spec_with(serial: u64, endpoint: &str) -> Spec {
    let outputs: BTreeMap<String, Value> = [
        ("vpc_id".to_string(), Value::str("vpc-0d")),
        ("endpoint".to_string(), Value::str(endpoint)),
        ("unread".to_string(), Value::str("x")),
    ]
    .into();
    let o = StackOutputs { location: "state/shared-db.json".into(), lineage: "5f1c".into(), serial, outputs };
    let states: StackValues = [("shared-db".to_string(), StackState::Found(o))].into();
    let opts = LoadOptions { vars: BTreeMap::new(), env: &|_| None, lookups: None, stacks: Some(&states) };
    parse(SourceFile { name: "app.yaml".into(), text: SPEC.into() }, &opts).unwrap()
}

fn literal(endpoint: &str) -> String {
    SPEC.replace("${stack.shared-db.output.vpc_id}", "vpc-0d").replace("${stack.shared-db.output.endpoint}", endpoint)
}

#[test]
fn the_state_read_is_named_with_its_lineage_and_serial() {
    let p = run_spec(&spec_with(4, "db-1.example"), None);
    let text = render(&p, RenderOptions::default());
    assert!(text.contains("Read from other stacks' states (never changed):"), "{text}");
    assert!(text.contains("  <= stack.shared-db (state/shared-db.json, lineage 5f1c, serial 4)"), "{text}");
    assert!(text.contains("output.endpoint = \"db-1.example\""), "{text}");
    assert!(!text.contains("unread"), "only the outputs read are shown: {text}");
    let sg = p.changes.iter().find(|c| c.address == addr("security_group.app")).unwrap();
    assert_eq!(sg.after.as_ref().unwrap()["vpc_id"], Value::str("vpc-0d"));
    let json = to_json(&p);
    assert_eq!(json["stacks"][0]["stack"], "shared-db");
    assert_eq!(json["stacks"][0]["serial"], 4);
    assert_eq!(json["stacks"][0]["lineage"], "5f1c");
    assert_eq!(json["stacks"][0]["outputs"]["vpc_id"], "vpc-0d");
    assert!(render_markdown(&p).contains("1 other stack's state read"), "{}", render_markdown(&p));

    // Converged on the same outputs: nothing to do, the read still shown.
    let state = converged(&literal("db-1.example"));
    let again = run_spec(&spec_with(4, "db-1.example"), Some(&state));
    let text = render(&again, RenderOptions::default());
    assert!(again.is_empty(), "{text}");
    assert!(text.contains("<= stack.shared-db") && text.contains("No changes."), "{text}");
}

#[test]
fn a_changed_output_there_is_a_change_here() {
    let state = converged(&literal("db-1.example"));
    // The database stack was applied again and its endpoint moved.
    let p = run_spec(&spec_with(5, "db-2.example"), Some(&state));
    let changed: Vec<(String, Action)> =
        p.changes.iter().filter(|c| c.action != Action::NoOp).map(|c| (c.address.to_string(), c.action)).collect();
    assert_eq!(changed, [("launch_template.app".to_string(), Action::Update)]);
    let text = render(&p, RenderOptions::default());
    assert!(text.contains("db-1.example/app") && text.contains("db-2.example/app"), "{text}");
    assert!(text.contains("serial 5"), "{text}");
}
