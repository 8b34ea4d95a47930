//! The stack's `tags:` in a plan: said once at the top, left out of each object, and a
//! change that only brings them is one line for all the objects it touches.

mod support;

use support::{converged, run};
use trellis_plan::{render, Action, RenderOptions};

const BASE: &str = "stack: web\nresources:\n  vpc.main:\n    cidr_block: 10.0.0.0/16\n  subnet.a:\n    vpc_id: ${vpc.main}\n    cidr_block: 10.0.1.0/24\n    tags: { Team: mine }\n";

#[test]
fn default_tags_are_said_once_and_left_out_of_each_object() {
    let text = BASE.replace("resources:", "tags:\n  Team: platform\n  CostCenter: web\nresources:");
    let plan = run(&text, None);
    let out = render(&plan, RenderOptions::default());
    assert!(out.contains("# default tags, on every object that takes tags (under its own), not repeated below: CostCenter = \"web\", Team = \"platform\""), "{out}");
    // The vpc's block shows its own `Name` only; the subnet its own `Team`.
    let vpc = out.split("+ vpc.main {").nth(1).unwrap().split("\n    }").next().unwrap();
    assert!(!vpc.contains("CostCenter") && !vpc.contains("platform"), "{vpc}");
    let subnet = out.split("+ subnet.a {").nth(1).unwrap().split("\n    }").next().unwrap();
    assert!(subnet.contains("Team = \"mine\""), "the object's own value stays: {subnet}");
    assert!(!subnet.contains("CostCenter"), "{subnet}");
}

#[test]
fn a_change_that_only_brings_the_default_tags_is_one_line() {
    let mut prior = converged(BASE);
    // `converged` makes up every computed value; AWS gives a VPC without IPv6 none.
    for r in &mut prior.resources {
        r.attributes.remove("ipv6_cidr_block");
    }
    let text = BASE.replace("resources:", "tags:\n  Team: platform\nresources:");
    let plan = run(&text, Some(&prior));
    // Both objects change (AWS gets the tag) ...
    assert!(
        plan.changes.iter().all(|c| c.action == Action::Update || c.address.to_string() == "subnet.a"),
        "{:?}",
        plan.changes
    );
    let out = render(&plan, RenderOptions::default());
    // ... the vpc only by the default tag: one line. The subnet keeps its own `Team`,
    // so it does not change at all.
    assert!(out.contains("~ 1 object takes the default tags, their only change: vpc.main"), "{out}");
    assert!(!out.contains("~ vpc.main {"), "{out}");
    assert!(out.contains("Plan: 0 to add, 1 to change"), "{out}");
}
