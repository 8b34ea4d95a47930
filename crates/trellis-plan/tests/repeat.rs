//! The planner on `count` and `for_each`: growing adds copies, shrinking removes the
//! highest indexes and says so, a changed key set touches only the keys that changed, and
//! every rendering names copies by their instance addresses.

mod support;

use support::{addr, converged, run};
use trellis_core::Address;
use trellis_plan::{plan, render, render_markdown, to_json, Action, Operation, PlanInput, RenderOptions};

fn spec(servers: u32, zones: &[&str]) -> String {
    let zones: Vec<String> = zones.iter().map(|z| format!("\"{z}\"")).collect();
    format!(
        r#"stack: web
resources:
  vpc.main:
    cidr_block: 10.0.0.0/16
  subnet.az:
    for_each: [{zones}]
    vpc_id: ${{vpc.main}}
    cidr_block: 10.0.1.0/24
    availability_zone: us-east-${{each.key}}
  instance.web:
    count: {servers}
    image_id: ami-0abcdef1234567890
    instance_type: t3.micro
    subnet_id: ${{subnet.az["1a"]}}
  target_group.web:
    port: 80
    vpc_id: ${{vpc.main}}
  target_group_attachment.web:
    count: {servers}
    target_group_arn: ${{target_group.web}}
    target_id: ${{instance.web[count.index]}}
"#,
        zones = zones.join(", ")
    )
}

fn actions(p: &trellis_plan::Plan) -> Vec<(String, Action)> {
    p.changes.iter().filter(|c| c.action != Action::NoOp).map(|c| (c.address.to_string(), c.action)).collect()
}

#[test]
fn growing_a_count_adds_the_next_copies_only() {
    let before = converged(&spec(2, &["1a"]));
    let p = run(&spec(3, &["1a"]), Some(&before));
    assert_eq!(
        actions(&p),
        [
            ("instance.web[2]".to_string(), Action::Create),
            ("target_group_attachment.web[2]".to_string(), Action::Create)
        ]
    );
    let again = run(&spec(2, &["1a"]), Some(&before));
    assert!(again.is_empty(), "{}", render(&again, RenderOptions::default()));
}

#[test]
fn shrinking_a_count_removes_the_highest_indexes_and_says_so() {
    let before = converged(&spec(4, &["1a"]));
    let p = run(&spec(2, &["1a"]), Some(&before));
    let gone: Vec<String> =
        p.changes.iter().filter(|c| c.action == Action::Delete).map(|c| c.address.to_string()).collect();
    // Attachments go before the instances they attach.
    assert_eq!(
        gone,
        ["target_group_attachment.web[3]", "target_group_attachment.web[2]", "instance.web[3]", "instance.web[2]"]
    );
    let text = render(&p, RenderOptions::default());
    assert!(text.contains("  # note: `instance.web` now has count 2: the copies from index 2 up go"), "{text}");
    assert!(text.contains("  - instance.web[3] {"), "{text}");
    let md = render_markdown(&p);
    assert!(md.contains("instance.web[3]"), "{md}");
    let json = to_json(&p);
    let copy = json["resource_changes"].as_array().unwrap().iter().find(|c| c["address"] == "instance.web[3]").unwrap();
    assert_eq!(copy["name"], "web");
    assert_eq!(copy["index"], 3);
}

#[test]
fn a_changed_key_set_touches_only_the_keys_that_changed() {
    let before = converged(&spec(1, &["1a", "1b"]));
    let p = run(&spec(1, &["1a", "1c"]), Some(&before));
    assert_eq!(
        actions(&p),
        [("subnet.az[\"1c\"]".to_string(), Action::Create), ("subnet.az[\"1b\"]".to_string(), Action::Delete)]
    );
    let text = render(&p, RenderOptions::default());
    assert!(text.contains("# note: \"1b\" is no longer in `subnet.az`'s for_each"), "{text}");
    let json = to_json(&p);
    let new =
        json["resource_changes"].as_array().unwrap().iter().find(|c| c["address"] == "subnet.az[\"1c\"]").unwrap();
    assert_eq!(new["index"], "1c");
}

#[test]
fn a_target_without_a_key_is_every_copy() {
    let s = support::spec(&spec(3, &["1a"]));
    let live = Default::default();
    let planned = |targets: &[&str]| -> Vec<String> {
        let targets: Vec<Address> = targets.iter().map(|t| addr(t)).collect();
        let input = PlanInput {
            spec: &s,
            prior: None,
            live: &live,
            orphans: &[],
            tags: &Default::default(),
            operation: Operation::Apply,
            targets: &targets,
            replace: &[],
            env: &|_| None,
        };
        plan(input).unwrap().changes.iter().map(|c| c.address.to_string()).collect()
    };
    let all = planned(&["target_group_attachment.web"]);
    for want in
        ["target_group_attachment.web[0]", "target_group_attachment.web[2]", "instance.web[1]", "subnet.az[\"1a\"]"]
    {
        assert!(all.contains(&want.to_string()), "{want} in {all:?}");
    }
    let one = planned(&["target_group_attachment.web[1]"]);
    assert!(one.contains(&"instance.web[1]".to_string()), "{one:?}");
    assert!(!one.contains(&"instance.web[0]".to_string()), "{one:?}");
}
