//! The planner on `ignore_changes`: a difference there is drift marked ignored, never a
//! change; an update of something else sends the live value; a new object (created or
//! replacing) takes the spec's value.

mod support;

use std::collections::BTreeMap;

use support::{addr, converged};
use trellis_core::{Expr, Value};
use trellis_plan::{render, to_json, Action, Operation, Plan, RenderOptions};
use trellis_state::State;

const SPEC: &str = r#"stack: web
resources:
  vpc.main:
    cidr_block: 10.0.0.0/16
  subnet.a:
    vpc_id: ${vpc.main}
    cidr_block: 10.0.1.0/24
  launch_template.web:
    image_id: ami-1
    instance_type: t3.micro
  autoscaling_group.web:
    launch_template_id: ${launch_template.web}
    min_size: 1
    max_size: 4
    desired_capacity: 2
    vpc_zone_identifier: ["${subnet.a}"]
    tags: { Team: web, Tier: app }
    ignore_changes: [desired_capacity, tags.Team]
"#;

const ASG: &str = "autoscaling_group.web";

/// Plans `text` against `prior`, with the group changed live by `edit`.
fn plan_with_live(text: &str, prior: &State, edit: impl Fn(&mut BTreeMap<String, Value>)) -> Plan {
    support::plan_edited(text, prior, Operation::Apply, &[], |live| edit(&mut live.get_mut(&addr(ASG)).unwrap().attrs))
}

/// What another system does: scales the group to 3 and sets its `Team` tag.
fn scaled_and_retagged(attrs: &mut BTreeMap<String, Value>) {
    attrs.insert("desired_capacity".into(), Value::Int(3));
    let Some(Value::Map(tags)) = attrs.get_mut("tags") else { panic!("no tags: {attrs:?}") };
    tags.insert("Team".into(), Value::str("platform"));
}

fn tag<'a>(attrs: &'a BTreeMap<String, Value>, key: &str) -> Option<&'a Value> {
    attrs.get("tags").and_then(Value::as_map).and_then(|m| m.get(key))
}

#[test]
fn an_ignored_difference_is_drift_marked_ignored_and_plans_nothing() {
    let st = converged(SPEC);
    let p = plan_with_live(SPEC, &st, scaled_and_retagged);
    assert!(p.is_empty(), "{}", render(&p, RenderOptions::default()));
    assert_eq!(p.change(&addr(ASG)).unwrap().action, Action::NoOp);
    let d = p.drift.iter().find(|d| d.address == addr(ASG)).expect("the drift is shown");
    assert_eq!(d.ignored, ["desired_capacity", "tags.Team"]);
    let text = render(&p, RenderOptions::default());
    assert!(text.contains("ignore_changes: kept as it is"), "{text}");
    let j = to_json(&p);
    assert_eq!(j["resource_drift"][0]["ignored"], serde_json::json!(["desired_capacity", "tags.Team"]));
    // The state takes the live values.
    let asg = p.refreshed.iter().find(|r| r.address == addr(ASG)).unwrap();
    assert_eq!(asg.attributes["desired_capacity"], Value::Int(3));
    insta::assert_snapshot!(text);
}

#[test]
fn without_ignore_changes_the_same_difference_is_repaired() {
    let plain = SPEC.replace("    ignore_changes: [desired_capacity, tags.Team]\n", "");
    let st = converged(&plain);
    let p = plan_with_live(&plain, &st, scaled_and_retagged);
    let c = p.change(&addr(ASG)).unwrap();
    assert_eq!(c.action, Action::Update);
    let after = c.after.as_ref().unwrap();
    assert_eq!(after["desired_capacity"], Value::Int(2));
    assert_eq!(tag(after, "Team"), Some(&Value::str("web")));
    assert!(p.drift.iter().all(|d| d.ignored.is_empty()));
}

#[test]
fn an_update_of_something_else_keeps_the_ignored_live_values() {
    let st = converged(SPEC);
    let p = plan_with_live(&SPEC.replace("max_size: 4", "max_size: 5"), &st, scaled_and_retagged);
    let c = p.change(&addr(ASG)).unwrap();
    assert_eq!(c.action, Action::Update);
    let after = c.after.as_ref().unwrap();
    assert_eq!(after["max_size"], Value::Int(5));
    assert_eq!(after["desired_capacity"], Value::Int(3));
    assert_eq!(tag(after, "Team"), Some(&Value::str("platform")));
    // A key not ignored still follows the spec.
    assert_eq!(tag(after, "Tier"), Some(&Value::str("app")));
    // What the apply evaluates sends the live values too.
    let config = c.config.as_ref().unwrap();
    assert_eq!(config["desired_capacity"], Expr::Lit(Value::Int(3)));
    let Expr::Map(tags) = &config["tags"] else { panic!("{:?}", config["tags"]) };
    assert_eq!(tags["Team"], Expr::Lit(Value::str("platform")));
    assert_eq!(tags["Tier"], Expr::Lit(Value::str("app")));
    // Only the attribute the spec changed is shown as changing.
    let text = render(&p, RenderOptions::default());
    assert!(text.contains("max_size"), "{text}");
    assert!(!text.contains("desired_capacity = 3 -> 2") && !text.contains("\"platform\" -> \"web\""), "{text}");
}

#[test]
fn a_new_object_takes_the_spec_values_created_or_replacing() {
    let p = support::run(SPEC, None);
    let after = p.change(&addr(ASG)).unwrap().after.clone().unwrap();
    assert_eq!(after["desired_capacity"], Value::Int(2));
    assert_eq!(tag(&after, "Team"), Some(&Value::str("web")));

    // A replacement (its name is fixed and changed) is a new object: the spec's values.
    let named = SPEC.replace("    min_size: 1\n", "    auto_scaling_group_name: web-a\n    min_size: 1\n");
    let st = converged(&named);
    let p = plan_with_live(
        &named.replace("auto_scaling_group_name: web-a", "auto_scaling_group_name: web-b"),
        &st,
        scaled_and_retagged,
    );
    let c = p.change(&addr(ASG)).unwrap();
    assert!(matches!(c.action, Action::DeleteThenCreate | Action::CreateThenDelete), "{:?}", c.action);
    assert_eq!(c.replace_because, ["auto_scaling_group_name"]);
    let after = c.after.as_ref().unwrap();
    assert_eq!(after["desired_capacity"], Value::Int(2));
    assert_eq!(tag(after, "Team"), Some(&Value::str("web")));
}

#[test]
fn an_ignored_attribute_that_would_force_a_replacement_forces_none() {
    let named = SPEC.replace("    min_size: 1\n", "    auto_scaling_group_name: web-a\n    min_size: 1\n").replace(
        "ignore_changes: [desired_capacity, tags.Team]",
        "ignore_changes: [auto_scaling_group_name, desired_capacity, tags.Team]",
    );
    let st = converged(&named);
    let p =
        plan_with_live(&named.replace("auto_scaling_group_name: web-a", "auto_scaling_group_name: web-b"), &st, |_| {});
    let c = p.change(&addr(ASG)).unwrap();
    assert_eq!(c.action, Action::NoOp, "{}", render(&p, RenderOptions::default()));
    assert!(c.replace_because.is_empty());
}
