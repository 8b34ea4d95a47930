//! The planner on lookups: each is shown as a read with what it found, reads alone make
//! no change, and a new answer changes the resources that use it.

mod support;

use std::collections::BTreeMap;

use support::{addr, converged, run_spec};
use trellis_core::{Attrs, LookupAddress, Value};
use trellis_plan::{render, render_markdown, to_json, Action, RenderOptions};
use trellis_spec::{parse, LoadOptions, LookupValues, SourceFile, Spec};

const SPEC: &str = r#"stack: web
lookups:
  vpc.default:
    default: true
  ami.web:
    ssm_parameter: /aws/service/ami-amazon-linux-latest/al2023-ami-kernel-6.1-x86_64
resources:
  security_group.web:
    vpc_id: ${lookup.vpc.default}
    description: web
  launch_template.web:
    image_id: ${lookup.ami.web}
    instance_type: t3.micro
"#;

fn spec_with(vpc: &str, ami: &str) -> Spec {
    let one = |k: &str, v: &str| -> Attrs { [(k.to_string(), Value::str(v))].into_iter().collect() };
    let answers: LookupValues = [
        (LookupAddress::parse("vpc", "default").unwrap(), one("id", vpc)),
        (LookupAddress::parse("ami", "web").unwrap(), one("id", ami)),
    ]
    .into_iter()
    .collect();
    let opts = LoadOptions { vars: BTreeMap::new(), env: &|_| None, lookups: Some(&answers), stacks: None };
    parse(SourceFile { name: "web.yaml".into(), text: SPEC.into() }, &opts).unwrap()
}

#[test]
fn lookups_are_shown_as_reads_and_change_nothing_themselves() {
    let first = spec_with("vpc-0d", "ami-0001");
    let p = run_spec(&first, None);
    let text = render(&p, RenderOptions::default());
    assert!(text.contains("Read from the account (lookups, never changed):"), "{text}");
    assert!(
        text.contains(
            "  <= lookup.ami.web (ssm_parameter: /aws/service/ami-amazon-linux-latest/al2023-ami-kernel-6.1-x86_64)"
        ),
        "{text}"
    );
    assert!(text.contains("  <= lookup.vpc.default (default: true)\n       id = \"vpc-0d\""), "{text}");
    // The group is made in the VPC the lookup found.
    let sg = p.changes.iter().find(|c| c.address == addr("security_group.web")).unwrap();
    assert_eq!(sg.after.as_ref().unwrap()["vpc_id"], Value::str("vpc-0d"));
    let json = to_json(&p);
    assert_eq!(json["lookups"][1]["address"], "lookup.vpc.default");
    assert_eq!(json["lookups"][1]["found"]["id"], "vpc-0d");
    assert!(render_markdown(&p).contains("2 lookups read from the account"));

    // Converged, the same answers plan nothing, though the reads are still shown.
    let state =
        converged(SPEC.replace("${lookup.vpc.default}", "vpc-0d").replace("${lookup.ami.web}", "ami-0001").as_str());
    let again = run_spec(&first, Some(&state));
    let text = render(&again, RenderOptions::default());
    assert!(again.is_empty(), "{text}");
    assert!(text.contains("<= lookup.vpc.default") && text.contains("No changes."), "{text}");
}

#[test]
fn a_new_answer_changes_what_uses_it() {
    let state =
        converged(SPEC.replace("${lookup.vpc.default}", "vpc-0d").replace("${lookup.ami.web}", "ami-0001").as_str());
    // A newer AMI behind the same parameter: the template gets a new version.
    let p = run_spec(&spec_with("vpc-0d", "ami-0002"), Some(&state));
    let changed: Vec<(String, Action)> =
        p.changes.iter().filter(|c| c.action != Action::NoOp).map(|c| (c.address.to_string(), c.action)).collect();
    assert_eq!(changed, [("launch_template.web".to_string(), Action::Update)]);
    let text = render(&p, RenderOptions::default());
    assert!(text.contains("\"ami-0001\" -> \"ami-0002\""), "{text}");
}
