//! The planner on refactored specs: `moved:` gives the state's objects new addresses
//! (no replacement, dependencies and tags follow, an occupied address is refused),
//! `removed:` lets objects go without deleting them, and a stale `trellis:address`
//! tag is rewritten.

mod support;

use std::collections::BTreeMap;

use support::{addr, converged, run, spec};
use trellis_core::{Address, LiveObject};
use trellis_plan::{plan, render, render_markdown, to_json, Action, Operation, Plan, PlanError, PlanInput};
use trellis_state::State;

const BEFORE: &str = r#"stack: web
resources:
  vpc.main:
    cidr_block: 10.0.0.0/16
  subnet.a:
    vpc_id: ${vpc.main}
    cidr_block: 10.0.1.0/24
  route_table.public:
    vpc_id: ${vpc.main}
    subnet_ids: ["${subnet.a}"]
  scaling_policy.cpu:
    auto_scaling_group_name: web-asg
    policy_name: web-cpu
    metric: ASGAverageCPUUtilization
    target_value: 50
"#;

fn renamed(extra: &str) -> String {
    BEFORE
        .replace("subnet.a:", "subnet.public_a:")
        .replace("${subnet.a}", "${subnet.public_a}")
        .replace("scaling_policy.cpu:", "scaling_policy.cpu_target:")
        + extra
}

const MOVES: &str = r#"moved:
  - from: subnet.a
    to: subnet.public_a
  - from: scaling_policy.cpu
    to: scaling_policy.cpu_target
"#;

fn live_of(prior: &State) -> BTreeMap<Address, LiveObject> {
    prior
        .resources
        .iter()
        .map(|r| {
            let live = LiveObject { address: r.address.clone(), id: r.id.clone(), attrs: r.attributes.clone() };
            (r.address.clone(), live)
        })
        .collect()
}

/// Plans `text` against `prior`, the live objects as the state has them and tagged with
/// the addresses in `tags`.
fn plan_tagged(text: &str, prior: &State, tags: &BTreeMap<Address, Address>, operation: Operation) -> Plan {
    let s = spec(text);
    let live = live_of(prior);
    plan(PlanInput {
        spec: &s,
        prior: Some(prior),
        live: &live,
        orphans: &[],
        tags,
        operation,
        targets: &[],
        replace: &[],
        env: &|_| None,
    })
    .unwrap()
}

/// Every object tagged with its own address, as trellis leaves them.
fn own_tags(prior: &State) -> BTreeMap<Address, Address> {
    prior.resources.iter().map(|r| (r.address.clone(), r.address.clone())).collect()
}

fn shown(p: &Plan) -> Vec<(String, Action)> {
    p.changes
        .iter()
        .filter(|c| c.action != Action::NoOp || c.retag || c.previous_address.is_some())
        .map(|c| (c.address.to_string(), c.action))
        .collect()
}

#[test]
fn a_moved_object_keeps_its_id_and_is_not_replaced() {
    let before = converged(BEFORE);
    let subnet_id = before.get(&addr("subnet.a")).unwrap().id.clone();
    let p = plan_tagged(&renamed(MOVES), &before, &own_tags(&before), Operation::Apply);
    // The subnet's `Name` tag follows its address (an update in place); the policy's
    // name is the spec's, so it is left as it is.
    assert_eq!(
        shown(&p),
        [("scaling_policy.cpu_target".to_string(), Action::NoOp), ("subnet.public_a".to_string(), Action::Update)]
    );
    let subnet = p.change(&addr("subnet.public_a")).unwrap();
    assert!(subnet.replace_because.is_empty());
    assert_eq!(subnet.previous_address, Some(addr("subnet.a")));
    assert_eq!(subnet.id.as_deref(), Some(subnet_id.as_str()));
    assert!(subnet.retag, "the subnet's tag names its old address");
    // A scaling policy carries no tags: nothing to rewrite.
    assert!(!p.change(&addr("scaling_policy.cpu_target")).unwrap().retag);
    // The refreshed state holds the objects at their new addresses, and what depended
    // on the old address depends on the new one.
    let moved = p.refreshed.iter().find(|r| r.address == addr("subnet.public_a")).unwrap();
    assert_eq!(moved.id, subnet_id);
    assert!(p.refreshed.iter().all(|r| r.address != addr("subnet.a")));
    let rt = p.refreshed.iter().find(|r| r.address == addr("route_table.public")).unwrap();
    assert!(rt.dependencies.contains(&addr("subnet.public_a")), "{:?}", rt.dependencies);
    assert!(!rt.dependencies.contains(&addr("subnet.a")));
    assert_eq!(p.summary().moved, 2);
    assert!(p.drift.is_empty());

    let text = render(&p, Default::default());
    assert!(
        text.contains("# subnet.a has moved to subnet.public_a; subnet.public_a will be updated in place"),
        "{text}"
    );
    assert!(text.contains(r#"Name = "web-a" -> "web-public_a""#), "{text}");
    assert!(text.contains("# scaling_policy.cpu has moved to scaling_policy.cpu_target\n"), "{text}");
    assert!(text.contains("0 to add, 1 to change, 0 to replace, 0 to destroy, 2 moved."), "{text}");
    assert!(!text.contains("will be created") && !text.contains("destroyed"), "{text}");
    let json = to_json(&p);
    let c = json["resource_changes"].as_array().unwrap().iter().find(|c| c["address"] == "subnet.public_a").unwrap();
    assert_eq!(c["previous_address"], "subnet.a");
    assert_eq!(c["change"]["actions"][0], "update");
    assert_eq!(c["retag"], true);
    assert_eq!(json["moves"][1]["from"], "subnet.a");
    assert_eq!(json["moves"][1]["id"], subnet_id.as_str());
    assert_eq!(json["summary"]["moved"], 2);
    let md = render_markdown(&p);
    assert!(md.contains("| move | `scaling_policy.cpu_target` | from `scaling_policy.cpu`"), "{md}");
    assert!(md.contains("| update | `subnet.public_a` | moved from `subnet.a`; `tags`"), "{md}");

    // Without the moves, the same rename is a delete and a create.
    let plain = run(&renamed(""), Some(&before));
    assert!(plain.changes.iter().any(|c| c.address == addr("subnet.a") && c.action == Action::Delete));
    assert!(plain.changes.iter().any(|c| c.address == addr("subnet.public_a") && c.action == Action::Create));
}

#[test]
fn once_the_state_holds_the_move_the_entry_changes_nothing() {
    let before = converged(BEFORE);
    let first = plan_tagged(&renamed(MOVES), &before, &own_tags(&before), Operation::Apply);
    let mut after = before.clone();
    after.resources = first.refreshed.clone();
    let subnet = after.resources.iter_mut().find(|r| r.address == addr("subnet.public_a")).unwrap();
    subnet.attributes = first.change(&addr("subnet.public_a")).unwrap().after.clone().unwrap();
    // As the apply leaves it: the tag rewritten.
    let p = plan_tagged(&renamed(MOVES), &after, &own_tags(&after), Operation::Apply);
    assert!(p.is_empty() && p.moves.is_empty(), "{}", render(&p, Default::default()));
    // A run killed before the tag was rewritten: the next plan rewrites it.
    let mut stale = own_tags(&after);
    stale.insert(addr("subnet.public_a"), addr("subnet.a"));
    let p = plan_tagged(&renamed(MOVES), &after, &stale, Operation::Apply);
    assert_eq!(shown(&p), [("subnet.public_a".to_string(), Action::NoOp)]);
    let c = p.change(&addr("subnet.public_a")).unwrap();
    assert!(c.retag && c.previous_address.is_none());
    assert!(c.notes.iter().any(|n| n.contains("tag names `subnet.a`")), "{:?}", c.notes);
}

#[test]
fn a_moved_object_whose_spec_changed_too_is_updated_at_its_new_address() {
    let before = converged(BEFORE);
    let text = renamed(MOVES).replace(
        "    cidr_block: 10.0.1.0/24\n",
        "    cidr_block: 10.0.1.0/24\n    map_public_ip_on_launch: true\n    tags: {Name: web-a}\n",
    );
    let p = plan_tagged(&text, &before, &own_tags(&before), Operation::Apply);
    let c = p.change(&addr("subnet.public_a")).unwrap();
    assert_eq!(c.action, Action::Update);
    assert_eq!(c.previous_address, Some(addr("subnet.a")));
    let text = render(&p, Default::default());
    assert!(
        text.contains("# subnet.a has moved to subnet.public_a; subnet.public_a will be updated in place"),
        "{text}"
    );
    assert!(text.contains("map_public_ip_on_launch = false -> true"), "{text}");
}

#[test]
fn a_move_onto_an_address_the_state_holds_is_refused_at_the_move() {
    let before = converged(BEFORE);
    // Both the old and the new address are in the state.
    let mut both = before.clone();
    let mut copy = before.get(&addr("subnet.a")).unwrap().clone();
    copy.address = addr("subnet.public_a");
    copy.id = "subnet-other".into();
    both.upsert(copy);
    let s = spec(&renamed(MOVES));
    let live = live_of(&both);
    let err = plan(PlanInput {
        spec: &s,
        prior: Some(&both),
        live: &live,
        orphans: &[],
        tags: &Default::default(),
        operation: Operation::Apply,
        targets: &[],
        replace: &[],
        env: &|_| None,
    })
    .unwrap_err();
    let PlanError::Spec(d) = err else { panic!("a spec error, got {err}") };
    let shown = d.to_string();
    assert!(
        shown.contains(
            "`subnet.a` cannot move to `subnet.public_a`: the state already holds `subnet.public_a` (subnet-other)"
        ),
        "{shown}"
    );
    assert_eq!(d.items[0].span.map(|s| s.line), Some(17), "{shown}");
}

const SERVERS: &str = r#"stack: web
resources:
  instance.web:
    count: 2
    image_id: ami-0abcdef1234567890
    instance_type: t3.micro
    subnet_id: subnet-0123456789abcdef0
"#;

#[test]
fn a_repeated_resource_moves_with_every_copy_and_a_single_one_can_become_a_copy() {
    let before = converged(SERVERS);
    let text =
        SERVERS.replace("instance.web:", "instance.app:") + "moved:\n  - from: instance.web\n    to: instance.app\n";
    let p = plan_tagged(&text, &before, &own_tags(&before), Operation::Apply);
    assert_eq!(
        shown(&p),
        [("instance.app[0]".to_string(), Action::Update), ("instance.app[1]".to_string(), Action::Update)]
    );
    assert_eq!(p.change(&addr("instance.app[1]")).unwrap().previous_address, Some(addr("instance.web[1]")));

    let single = SERVERS.replace("    count: 2\n", "");
    let before = converged(&single);
    let text = SERVERS.to_string() + "moved:\n  - from: instance.web\n    to: instance.web[0]\n";
    let p = plan_tagged(&text, &before, &own_tags(&before), Operation::Apply);
    assert_eq!(
        shown(&p),
        [("instance.web[0]".to_string(), Action::Update), ("instance.web[1]".to_string(), Action::Create)]
    );
    // Only its `Name` tag changes: `web-web` becomes `web-web-0`.
    let c = p.change(&addr("instance.web[0]")).unwrap();
    assert_eq!(c.previous_address, Some(addr("instance.web")));
    assert!(c.replace_because.is_empty());
}

#[test]
fn removed_objects_are_forgotten_not_destroyed_in_apply_and_in_destroy() {
    let before = converged(BEFORE);
    let text = BEFORE.replace("  scaling_policy.cpu:\n    auto_scaling_group_name: web-asg\n    policy_name: web-cpu\n    metric: ASGAverageCPUUtilization\n    target_value: 50\n", "")
        + "removed:\n  - from: scaling_policy.cpu\n";
    let p = plan_tagged(&text, &before, &own_tags(&before), Operation::Apply);
    assert_eq!(shown(&p), [("scaling_policy.cpu".to_string(), Action::Forget)]);
    assert_eq!(p.summary().forget, 1);
    assert_eq!(p.summary().destroy, 0);
    assert!(!p.is_empty());
    let out = render(&p, Default::default());
    assert!(out.contains("# scaling_policy.cpu will no longer be managed (it is not destroyed)"), "{out}");
    assert!(out.contains("0 to destroy, 1 to forget."), "{out}");
    let json = to_json(&p);
    let c = json["resource_changes"].as_array().unwrap().iter().find(|c| c["address"] == "scaling_policy.cpu").unwrap();
    assert_eq!(c["change"]["actions"][0], "forget");

    let d = plan_tagged(&text, &before, &own_tags(&before), Operation::Destroy);
    let forget: Vec<String> =
        d.changes.iter().filter(|c| c.action == Action::Forget).map(|c| c.address.to_string()).collect();
    assert_eq!(forget, ["scaling_policy.cpu"]);
    assert!(d.changes.iter().all(|c| c.address == addr("scaling_policy.cpu") || c.action == Action::Delete));
    assert!(d.change(&addr("vpc.main")).is_some_and(|c| c.action == Action::Delete));

    // A tagged kind's note says its tags go.
    let text = BEFORE
        .replace("  route_table.public:\n    vpc_id: ${vpc.main}\n    subnet_ids: [\"${subnet.a}\"]\n", "")
        + "removed:\n  - from: route_table.public\n";
    let p = plan_tagged(&text, &before, &own_tags(&before), Operation::Apply);
    let c = p.change(&addr("route_table.public")).unwrap();
    assert_eq!(c.action, Action::Forget);
    assert!(c.notes.iter().any(|n| n.contains("its `trellis:` tags are removed")), "{:?}", c.notes);
}

#[test]
fn a_removed_repeated_resource_forgets_every_copy() {
    let before = converged(SERVERS);
    let text = "stack: web\nresources:\n  vpc.main:\n    cidr_block: 10.0.0.0/16\nremoved:\n  - from: instance.web\n";
    let p = plan_tagged(text, &before, &own_tags(&before), Operation::Apply);
    let forgotten: Vec<String> =
        p.changes.iter().filter(|c| c.action == Action::Forget).map(|c| c.address.to_string()).collect();
    assert_eq!(forgotten, ["instance.web[0]", "instance.web[1]"]);
    assert!(p.changes.iter().all(|c| c.action != Action::Delete));
}

#[test]
fn plans_with_moves_and_forgets_follow_the_json_schema() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/json-plan.schema.json");
    let schema: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).expect("the schema itself is valid");
    let before = converged(BEFORE);
    let forget = BEFORE
        .replace("  route_table.public:\n    vpc_id: ${vpc.main}\n    subnet_ids: [\"${subnet.a}\"]\n", "")
        + "removed:\n  - from: route_table.public\n";
    for p in [
        plan_tagged(&renamed(MOVES), &before, &own_tags(&before), Operation::Apply),
        plan_tagged(&forget, &before, &own_tags(&before), Operation::Apply),
        plan_tagged(&forget, &before, &own_tags(&before), Operation::Destroy),
    ] {
        let json = to_json(&p);
        let errors: Vec<String> =
            validator.iter_errors(&json).map(|e| format!("{} at {}", e, e.instance_path())).collect();
        assert!(errors.is_empty(), "{errors:#?}");
    }
}
