//! The planner on the load-balancing kinds: new template versions and the instance
//! refresh they cause, and replacements made before the old object goes.

mod support;

use support::{addr, converged, run};
use trellis_core::{Address, Value};
use trellis_plan::{render, Action, RenderOptions};

const SPEC: &str = r#"stack: web
resources:
  vpc.main:
    cidr_block: 10.0.0.0/16
  subnet.a:
    vpc_id: ${vpc.main}
    cidr_block: 10.0.1.0/24
    availability_zone: us-east-1a
  launch_template.web:
    image_id: ami-1
    instance_type: t3.micro
    user_data: |
      #!/bin/sh
      echo one
  target_group.web:
    port: 8080
    vpc_id: ${vpc.main}
  load_balancer.web:
    subnet_ids: ["${subnet.a}"]
  listener.http:
    load_balancer_arn: ${load_balancer.web}
    port: 80
    default_action:
      type: forward
      target_group_arn: ${target_group.web}
  autoscaling_group.web:
    launch_template_id: ${launch_template.web}
    min_size: 1
    max_size: 2
    vpc_zone_identifier: ["${subnet.a}"]
    target_group_arns: ["${target_group.web}"]
"#;

#[test]
fn a_converged_stack_plans_nothing() {
    let st = converged(SPEC);
    let p = run(SPEC, Some(&st));
    assert!(p.is_empty(), "{}", render(&p, RenderOptions::default()));
    // The group's template version defaults to the template's latest.
    let asg = &st.get(&addr("autoscaling_group.web")).unwrap().attributes;
    assert_eq!(asg["launch_template_version"], Value::Int(1));
}

#[test]
fn a_template_change_is_its_next_version_and_rolls_the_group() {
    let st = converged(SPEC);
    let p = run(&SPEC.replace("echo one", "echo two"), Some(&st));
    let lt = p.change(&addr("launch_template.web")).unwrap();
    assert_eq!(lt.action, Action::Update, "a new version, not a replacement");
    assert_eq!(lt.after.as_ref().unwrap()["latest_version"], Value::Int(2));
    assert_eq!(lt.notes, ["new version 2; version 1 is kept"]);
    let asg = p.change(&addr("autoscaling_group.web")).unwrap();
    assert_eq!(asg.action, Action::Update);
    assert_eq!(asg.after.as_ref().unwrap()["launch_template_version"], Value::Int(2));
    assert!(asg.notes[0].contains("instance refresh"), "{:?}", asg.notes);
    // Tags alone are no new version.
    let tagged =
        SPEC.replace("    instance_type: t3.micro\n", "    instance_type: t3.micro\n    tags: { Team: web }\n");
    let p2 = run(&tagged, Some(&st));
    let lt = p2.change(&addr("launch_template.web")).unwrap();
    assert_eq!(lt.action, Action::Update);
    assert!(lt.notes.is_empty());
    assert_eq!(p2.change(&addr("autoscaling_group.web")).unwrap().action, Action::NoOp);
    insta::assert_snapshot!(render(&p, RenderOptions::default()));
}

#[test]
fn a_replacement_with_a_generated_name_is_created_first() {
    let st = converged(SPEC);
    let p = run(&SPEC.replace("port: 8080", "port: 8081"), Some(&st));
    let tg = p.change(&addr("target_group.web")).unwrap();
    assert_eq!(tg.action, Action::Replace);
    assert!(tg.create_before_destroy);
    assert_eq!(tg.replace_because, ["port"]);
    // What refers to it follows in place (the listener) or is replaced (nothing here).
    assert_eq!(p.change(&addr("listener.http")).unwrap().action, Action::Update);
    assert_eq!(p.change(&addr("autoscaling_group.web")).unwrap().action, Action::Update);
    let text = render(&p, RenderOptions::default());
    assert!(text.contains("+/- target_group.web {"), "{text}");
    let j = trellis_plan::to_json(&p);
    let c = j["resource_changes"].as_array().unwrap().iter().find(|c| c["address"] == "target_group.web").unwrap();
    assert_eq!(c["change"]["actions"], serde_json::json!(["create", "delete"]));
    insta::assert_snapshot!(text);
}

#[test]
fn a_replacement_whose_name_the_spec_fixes_is_destroyed_first_and_says_why() {
    let named = SPEC.replace("  target_group.web:\n", "  target_group.web:\n    name: web-tg\n");
    let st = converged(&named);
    let p = run(&named.replace("port: 8080", "port: 8081"), Some(&st));
    let tg = p.change(&addr("target_group.web")).unwrap();
    assert_eq!(tg.action, Action::Replace);
    assert!(!tg.create_before_destroy);
    assert!(tg.notes[0].starts_with("destroy before create: the spec fixes `name`"), "{:?}", tg.notes);
    assert!(render(&p, RenderOptions::default()).contains("-/+ target_group.web {"));
}

#[test]
fn the_deposed_address_is_valid_and_stable() {
    let a = trellis_plan::deposed_address(&addr("target_group.web"), "arn:aws:elb:targetgroup/web/0AE3cb10073e9109");
    assert_eq!(a.to_string(), "target_group.web__deposed_073e9109");
    assert_eq!(a.to_string().parse::<Address>().unwrap(), a);
}
