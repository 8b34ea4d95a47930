//! `${stack.NAME.output.KEY}` and `stacks:`: other stacks' outputs read with and
//! without their states, lists where lists are due, where a state is said to be, and
//! the mistakes a person makes with them.

use std::collections::BTreeMap;

use trellis_core::{Address, Expr, Value};
use trellis_spec::{parse, LoadOptions, SourceFile, Spec, StackOutputs, StackState, StackValues};

fn load_with(text: &str, stacks: Option<&StackValues>) -> Result<Spec, String> {
    let file = SourceFile { name: "app.yaml".into(), text: text.into() };
    parse(file, &LoadOptions { vars: BTreeMap::new(), env: &|_| None, lookups: None, stacks })
        .map_err(|d| d.render(false))
}

fn errors_with(text: &str, stacks: Option<&StackValues>) -> String {
    match load_with(text, stacks) {
        Ok(_) => panic!("spec was accepted"),
        Err(e) => e,
    }
}

fn a(s: &str) -> Address {
    s.parse().unwrap()
}

fn strs(items: &[&str]) -> Value {
    Value::List(items.iter().map(|s| Value::str(*s)).collect())
}

fn db_state(outputs: &[(&str, Value)]) -> StackValues {
    let outputs = outputs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
    let o = StackOutputs { location: "state/shared-db.json".into(), lineage: "l-1".into(), serial: 7, outputs };
    [("shared-db".to_string(), StackState::Found(o))].into_iter().collect()
}

const APP: &str = r#"stack: app
resources:
  security_group.app:
    vpc_id: ${stack.shared-db.output.vpc_id}
    description: "app in ${stack.shared-db.output.vpc_id}"
  launch_template.app:
    image_id: ami-0abcdef1234567890
    instance_type: t3.micro
    user_data: "DATABASE_URL=postgres://${stack.shared-db.output.endpoint}:${stack.shared-db.output.port}/app"
  autoscaling_group.app:
    launch_template_id: ${launch_template.app}
    min_size: 1
    max_size: 2
    vpc_zone_identifier: ${stack.shared-db.output.subnets}
  load_balancer.app:
    subnets: ["${stack.shared-db.output.subnets}", "${stack.shared-db.output.extra_subnet}"]
    security_groups: ["${security_group.app}"]
outputs:
  subnets: ${stack.shared-db.output.subnets}
"#;

fn full_state() -> StackValues {
    db_state(&[
        ("vpc_id", Value::str("vpc-0123abcd")),
        ("endpoint", Value::str("db.example")),
        ("port", Value::Int(5432)),
        ("subnets", strs(&["subnet-a1", "subnet-b2"])),
        ("extra_subnet", Value::str("subnet-c3")),
    ])
}

#[test]
fn without_the_states_the_outputs_are_unknown_and_the_stack_is_recorded() {
    let spec = load_with(APP, None).unwrap();
    let sg = &spec.resources[&a("security_group.app")];
    assert_eq!(sg.attrs["vpc_id"], Expr::Lit(Value::Unknown));
    assert_eq!(sg.attrs["description"], Expr::Lit(Value::Unknown));
    assert_eq!(spec.resources[&a("autoscaling_group.app")].attrs["vpc_zone_identifier"], Expr::Lit(Value::Unknown));
    let db = &spec.stacks["shared-db"];
    assert_eq!((db.backend.as_ref(), db.state.as_ref(), db.read.as_ref()), (None, None, None));
    assert_eq!(db.span.line, 4, "the first place it is read");
    assert_eq!(spec.stacks.len(), 1);
    // Where the values come from is kept for `graph`; outputs read nothing.
    assert_eq!(sg.reads.iter().collect::<Vec<_>>(), ["stack.shared-db"]);
    assert!(spec.resources[&a("load_balancer.app")].reads.contains("stack.shared-db"));
    assert!(spec
        .graph()
        .to_dot("app", |_| None)
        .contains("\"stack.shared-db\" -> \"security_group.app\" [style=dashed];"));
}

#[test]
fn with_the_states_the_outputs_are_literals_and_lists_go_where_lists_are_due() {
    let states = full_state();
    let spec = load_with(APP, Some(&states)).unwrap();
    let sg = &spec.resources[&a("security_group.app")];
    assert_eq!(sg.attrs["vpc_id"], Expr::Lit(Value::str("vpc-0123abcd")));
    assert_eq!(sg.attrs["description"], Expr::Lit(Value::str("app in vpc-0123abcd")));
    let lt = &spec.resources[&a("launch_template.app")];
    assert_eq!(lt.attrs["user_data"], Expr::Lit(Value::str("DATABASE_URL=postgres://db.example:5432/app")));
    let lits = |items: &[&str]| items.iter().map(|s| Expr::Lit(Value::str(*s))).collect::<Vec<_>>();
    assert_eq!(
        spec.resources[&a("autoscaling_group.app")].attrs["vpc_zone_identifier"],
        Expr::Set(lits(&["subnet-a1", "subnet-b2"]))
    );
    // A list output inside a list is spliced in its place.
    let lb = &spec.resources[&a("load_balancer.app")];
    let ids = match &lb.attrs["subnets"] {
        Expr::List(l) | Expr::Set(l) => l.clone(),
        other => panic!("{other:?}"),
    };
    assert_eq!(ids, lits(&["subnet-a1", "subnet-b2", "subnet-c3"]));
    assert_eq!(spec.outputs["subnets"], Expr::List(lits(&["subnet-a1", "subnet-b2"])));
    let read = spec.stacks["shared-db"].read.as_ref().unwrap();
    assert_eq!((read.lineage.as_str(), read.serial), ("l-1", 7));
}

#[test]
fn a_missing_output_names_the_state_and_suggests_the_closest() {
    let states = full_state();
    let text = APP.replace("output.endpoint}", "output.endpiont}");
    let e = errors_with(&text, Some(&states));
    assert!(
        e.contains("`stack.shared-db` has no output `endpiont` (its state at state/shared-db.json, serial 7)"),
        "{e}"
    );
    assert!(e.contains("did you mean `endpoint`?"), "{e}");
    assert!(e.contains("app.yaml:9:"), "{e}");
}

#[test]
fn a_stack_never_applied_is_an_error_that_says_what_to_do() {
    let states: StackValues =
        [("shared-db".to_string(), StackState::Missing { location: "state/shared-db.json".into() })].into();
    let e = errors_with(APP, Some(&states));
    assert!(e.contains("`stack.shared-db` has no state at state/shared-db.json"), "{e}");
    assert!(e.contains("apply the `shared-db` stack first"), "{e}");
}

#[test]
fn values_are_checked_against_what_the_attribute_takes() {
    let mut states = full_state();
    if let Some(StackState::Found(o)) = states.get_mut("shared-db") {
        o.outputs.insert("vpc_id".into(), Value::str("http://not-a-vpc/"));
        o.outputs.insert("subnets".into(), Value::str("subnet-a1"));
    }
    let e = errors_with(APP, Some(&states));
    assert!(e.contains("`http://not-a-vpc/` is not a vpc id"), "{e}");
    assert!(e.contains("is a single value (`subnet-a1`), and a list is due here"), "{e}");
    // A list where one value is due.
    let e = errors_with(&APP.replace("output.endpoint}", "output.subnets}"), Some(&full_state()));
    assert!(e.contains("`${stack.shared-db.output.subnets}` is a list, and a single value is due here"), "{e}");
}

#[test]
fn sensitive_outputs_are_not_passed_on() {
    let states = db_state(&[("vpc_id", Value::Sensitive("digest".into()))]);
    let text = "stack: app\nresources:\n  security_group.app:\n    vpc_id: ${stack.shared-db.output.vpc_id}\n    description: x\n";
    let e = errors_with(text, Some(&states));
    assert!(e.contains("output `vpc_id` is sensitive"), "{e}");
}

#[test]
fn stacks_says_where_a_state_is() {
    let text = format!(
        "stacks:\n  shared-db:\n    backend:\n      s3: {{ bucket: team-state, region: eu-west-1 }}\n  net:\n    state: ../net/state/net.json\n{}",
        APP
    );
    let spec = load_with(&text, None).unwrap();
    let db = &spec.stacks["shared-db"];
    let b = db.backend.as_ref().unwrap();
    assert_eq!(
        (b.bucket.as_str(), b.key.as_str(), b.region.as_deref()),
        ("team-state", "trellis/shared-db.json", Some("eu-west-1"))
    );
    assert_eq!(db.span.line, 2, "where it is declared");
    assert_eq!(spec.stacks["net"].state.as_deref(), Some(std::path::Path::new("../net/state/net.json")));
}

#[test]
fn mistakes_with_stacks_are_pointed_at() {
    let bad_ref =
        "stack: app\nresources:\n  security_group.app:\n    vpc_id: ${stack.net.vpc_id}\n    description: x\n";
    let e = errors_with(bad_ref, None);
    assert!(e.contains("is not a reference to another stack"), "{e}");
    assert!(e.contains("${stack.NAME.output.KEY}"), "{e}");

    let own =
        "stack: app\nresources:\n  security_group.app:\n    vpc_id: ${stack.app.output.vpc}\n    description: x\n";
    let e = errors_with(own, None);
    assert!(e.contains("`stack.app` is this spec's own stack"), "{e}");

    let both = "stack: app\nstacks:\n  net:\n    state: a.json\n    backend: { s3: { bucket: b } }\n    stat: x\nresources:\n  vpc.main:\n    cidr_block: 10.0.0.0/16\n";
    let e = errors_with(both, None);
    assert!(e.contains("gives both a `backend` and a `state` file"), "{e}");
    assert!(e.contains("unknown key `stat` in `stacks.net`"), "{e}");
    assert!(e.contains("did you mean `state`?"), "{e}");

    let name =
        "stack: app\nstacks:\n  Net_1: { state: a.json }\nresources:\n  vpc.main:\n    cidr_block: 10.0.0.0/16\n";
    assert!(errors_with(name, None).contains("`Net_1` is not a stack name"));
}

#[test]
fn a_lookup_may_filter_on_another_stacks_output() {
    let text = "stack: app\nlookups:\n  security_group.shared:\n    vpc_id: ${stack.shared-db.output.vpc_id}\n    group_name: shared\nresources:\n  vpc.main:\n    cidr_block: 10.0.0.0/16\n";
    let states = full_state();
    let spec = load_with(text, Some(&states)).unwrap();
    let l = spec.lookups.values().next().unwrap();
    assert_eq!(l.filters["vpc_id"], trellis_spec::Filter::Value(Value::str("vpc-0123abcd")));
    assert!(spec.stacks.contains_key("shared-db"));
}

#[test]
fn count_cannot_read_another_stack() {
    let text = "stack: app\nresources:\n  vpc.main:\n    count: ${stack.net.output.n}\n    cidr_block: 10.0.0.0/16\n";
    let e = errors_with(text, None);
    assert!(e.contains("`count` cannot read `${stack.net.output.n}`: copies are decided before lookups and other stacks' states are read"), "{e}");
}

#[test]
fn the_seed_004_pair_loads() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../specs/examples");
    let opts = LoadOptions { vars: BTreeMap::new(), env: &|_| None, lookups: None, stacks: None };
    let db = trellis_spec::load(&dir.join("shared-db.yaml"), &opts).unwrap();
    let app = trellis_spec::load(&dir.join("app-tier.yaml"), &opts).unwrap();
    assert!(db.stacks.is_empty());
    assert_eq!(app.stacks.keys().collect::<Vec<_>>(), ["shared-db"]);
    // Every output the app tier reads is one the database stack gives.
    let keys = &app.stacks["shared-db"].keys;
    assert!(!keys.is_empty());
    for k in keys {
        assert!(db.outputs.contains_key(k), "shared-db gives no `{k}`");
    }
}

#[test]
fn a_misspelt_stack_reference_gets_a_did_you_mean() {
    let text =
        "stack: app\nresources:\n  security_group.app:\n    vpc_id: ${stak.net.output.vpc_id}\n    description: x\n";
    let e = errors_with(text, None);
    assert!(e.contains("did you mean `${stack.net.output.vpc_id}`?"), "{e}");
}
