//! The planner on hand-made states and live objects (no cloud involved: it is pure),
//! with the rendered plans pinned as snapshots.

use std::collections::BTreeMap;

use trellis_core::{Address, Attrs, LiveObject, Value};
use trellis_plan::{plan, render, render_to, to_json, Action, Operation, Plan, PlanInput, RenderOptions};
use trellis_spec::{parse, LoadOptions, SourceFile, Spec};
use trellis_state::{ResourceState, State};

const SPEC: &str = r#"stack: demo
resources:
  vpc.main:
    cidr_block: 10.0.0.0/16
    default_security_group_rules: none
  subnet.a:
    vpc_id: ${vpc.main}
    cidr_block: 10.0.1.0/24
    availability_zone: us-east-1a
  security_group.web:
    vpc_id: ${vpc.main}
    ingress:
      - protocol: tcp
        port: 80
        cidr: 0.0.0.0/0
outputs:
  subnet: ${subnet.a}
"#;

fn spec(text: &str) -> Spec {
    parse(SourceFile { name: "demo.yaml".into(), text: text.into() }, &LoadOptions::default()).unwrap()
}

fn addr(s: &str) -> Address {
    s.parse().unwrap()
}

fn s(v: &str) -> Value {
    Value::str(v)
}

fn map(pairs: &[(&str, Value)]) -> Value {
    Value::Map(pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect())
}

fn attrs(pairs: &[(&str, Value)]) -> Attrs {
    pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
}

/// The live objects exactly as `SPEC` asks for them.
fn converged() -> Vec<(Address, String, Attrs, Vec<Address>)> {
    vec![
        (
            addr("vpc.main"),
            "vpc-1".into(),
            attrs(&[
                ("cidr_block", s("10.0.0.0/16")),
                ("instance_tenancy", s("default")),
                ("amazon_provided_ipv6_cidr_block", Value::Bool(false)),
                ("enable_dns_support", Value::Bool(true)),
                ("enable_dns_hostnames", Value::Bool(false)),
                ("default_security_group_rules", s("none")),
                ("default_network_acl_ingress", Value::List(vec![])),
                ("default_network_acl_egress", Value::List(vec![])),
                ("main_route_table_routes", Value::List(vec![])),
                ("default_network_acl_id", s("acl-1")),
                ("main_route_table_id", s("rtb-main")),
                ("tags", map(&[("Name", s("demo-main"))])),
                ("id", s("vpc-1")),
            ]),
            vec![],
        ),
        (
            addr("subnet.a"),
            "subnet-1".into(),
            attrs(&[
                ("vpc_id", s("vpc-1")),
                ("cidr_block", s("10.0.1.0/24")),
                ("availability_zone", s("us-east-1a")),
                ("map_public_ip_on_launch", Value::Bool(false)),
                ("assign_ipv6_address_on_creation", Value::Bool(false)),
                ("tags", map(&[("Name", s("demo-a"))])),
                ("id", s("subnet-1")),
            ]),
            vec![addr("vpc.main")],
        ),
        (
            addr("security_group.web"),
            "sg-1".into(),
            attrs(&[
                ("group_name", s("demo-web")),
                ("description", s("Managed by trellis")),
                ("vpc_id", s("vpc-1")),
                (
                    "ingress",
                    Value::List(vec![map(&[
                        ("cidr", s("0.0.0.0/0")),
                        ("port", Value::Int(80)),
                        ("protocol", s("tcp")),
                    ])]),
                ),
                ("egress", Value::List(vec![map(&[("cidr", s("0.0.0.0/0")), ("protocol", s("all"))])])),
                ("tags", map(&[("Name", s("demo-web"))])),
                ("id", s("sg-1")),
            ]),
            vec![addr("vpc.main")],
        ),
    ]
}

fn state_of(objects: &[(Address, String, Attrs, Vec<Address>)]) -> State {
    let mut st = State::new("demo");
    st.lineage = "test-lineage".into();
    st.serial = 7;
    for (a, id, at, deps) in objects {
        st.upsert(ResourceState {
            address: a.clone(),
            id: id.clone(),
            attributes: at.clone(),
            dependencies: deps.clone(),
            sensitive: vec![],
        });
    }
    st
}

fn live_of(objects: &[(Address, String, Attrs, Vec<Address>)]) -> BTreeMap<Address, LiveObject> {
    objects
        .iter()
        .map(|(a, id, at, _)| (a.clone(), LiveObject { address: a.clone(), id: id.clone(), attrs: at.clone() }))
        .collect()
}

fn run(spec_text: &str, prior: Option<&State>, live: &BTreeMap<Address, LiveObject>, op: Operation) -> Plan {
    let spec = spec(spec_text);
    plan(PlanInput {
        spec: &spec,
        prior,
        live,
        orphans: &[],
        tags: &Default::default(),
        operation: op,
        targets: &[],
        replace: &[],
        env: &|_| None,
    })
    .unwrap()
}

fn text(p: &Plan) -> String {
    render(p, RenderOptions::default())
}

#[test]
fn first_plan_creates_everything_in_dependency_order() {
    let p = run(SPEC, None, &BTreeMap::new(), Operation::Apply);
    let order: Vec<String> = p.changes.iter().map(|c| c.address.to_string()).collect();
    assert_eq!(order, ["vpc.main", "security_group.web", "subnet.a"]);
    assert!(p.changes.iter().all(|c| c.action == Action::Create));
    // The subnet's VPC id is only known after apply.
    assert_eq!(p.change(&addr("subnet.a")).unwrap().after.as_ref().unwrap()["vpc_id"], Value::Unknown);
    assert_eq!(p.planned_outputs["subnet"], Value::Unknown);
    insta::assert_snapshot!(text(&p));
}

#[test]
fn converged_stack_plans_nothing() {
    let objects = converged();
    let st = state_of(&objects);
    let p = run(SPEC, Some(&st), &live_of(&objects), Operation::Apply);
    assert!(p.is_empty(), "{}", text(&p));
    assert!(p.drift.is_empty());
    assert_eq!(p.planned_outputs["subnet"], s("subnet-1"));
    assert_eq!(text(&p), "No changes. The live stack matches the spec.\n");
}

#[test]
fn in_place_and_forced_changes_are_told_apart() {
    let objects = converged();
    let st = state_of(&objects);
    let edited = SPEC
        .replace("cidr_block: 10.0.1.0/24", "cidr_block: 10.0.5.0/24\n    map_public_ip_on_launch: true")
        .replace("port: 80", "port: 443");
    let p = run(&edited, Some(&st), &live_of(&objects), Operation::Apply);
    let subnet = p.change(&addr("subnet.a")).unwrap();
    assert_eq!(subnet.action, Action::DeleteThenCreate);
    assert_eq!(subnet.replace_because, ["cidr_block"]);
    assert_eq!(p.change(&addr("security_group.web")).unwrap().action, Action::Update);
    assert_eq!(p.change(&addr("vpc.main")).unwrap().action, Action::NoOp);
    insta::assert_snapshot!(text(&p));
    let j = to_json(&p);
    let sub = j["resource_changes"].as_array().unwrap().iter().find(|c| c["address"] == "subnet.a").unwrap();
    assert_eq!(sub["change"]["actions"], serde_json::json!(["delete", "create"]));
    assert_eq!(sub["change"]["replace_paths"], serde_json::json!([["cidr_block"]]));
    assert!(sub["change"]["after_unknown"].as_array().unwrap().contains(&serde_json::json!("id")));
}

#[test]
fn replacing_a_dependency_replaces_what_cannot_move() {
    let objects = converged();
    let st = state_of(&objects);
    let p = run(&SPEC.replace("10.0.0.0/16", "10.1.0.0/16"), Some(&st), &live_of(&objects), Operation::Apply);
    assert_eq!(p.change(&addr("vpc.main")).unwrap().replace_because, ["cidr_block"]);
    // vpc_id becomes unknown, and it forces replacement of both dependents.
    assert_eq!(p.change(&addr("subnet.a")).unwrap().replace_because, ["vpc_id"]);
    assert_eq!(p.change(&addr("security_group.web")).unwrap().replace_because, ["vpc_id"]);
}

#[test]
fn drift_is_reported_and_repaired() {
    let objects = converged();
    let st = state_of(&objects);
    let mut live = live_of(&objects);
    live.remove(&addr("subnet.a"));
    let sg = live.get_mut(&addr("security_group.web")).unwrap();
    sg.attrs.insert(
        "ingress".into(),
        Value::List(vec![
            map(&[("cidr", s("0.0.0.0/0")), ("port", Value::Int(22)), ("protocol", s("tcp"))]),
            map(&[("cidr", s("0.0.0.0/0")), ("port", Value::Int(80)), ("protocol", s("tcp"))]),
        ]),
    );
    let p = run(SPEC, Some(&st), &live, Operation::Apply);
    assert_eq!(p.drift.len(), 2);
    assert_eq!(p.change(&addr("subnet.a")).unwrap().action, Action::Create);
    assert_eq!(p.change(&addr("security_group.web")).unwrap().action, Action::Update);
    // The plan keeps the previous run's state beside the refreshed one.
    assert_eq!(p.prior_state.resources.len(), 3);
    assert_eq!(p.refreshed.len(), 2);
    insta::assert_snapshot!(text(&p));
}

#[test]
fn removed_resources_are_deleted_dependents_first() {
    let objects = converged();
    let st = state_of(&objects);
    let only_vpc =
        "stack: demo\nresources:\n  vpc.main:\n    cidr_block: 10.0.0.0/16\n    default_security_group_rules: none\n";
    let p = run(only_vpc, Some(&st), &live_of(&objects), Operation::Apply);
    let deletes: Vec<String> =
        p.changes.iter().filter(|c| c.action == Action::Delete).map(|c| c.address.to_string()).collect();
    assert_eq!(deletes, ["subnet.a", "security_group.web"]);
    let all = run(SPEC, Some(&st), &live_of(&objects), Operation::Destroy);
    let order: Vec<String> = all.changes.iter().map(|c| c.address.to_string()).collect();
    assert_eq!(order.last().unwrap(), "vpc.main");
    assert_eq!(all.summary().destroy, 3);
    insta::assert_snapshot!(text(&p));
}

#[test]
fn colour_only_when_asked() {
    let p = run(SPEC, None, &BTreeMap::new(), Operation::Apply);
    assert!(!text(&p).contains('\x1b'));
    assert!(render(&p, RenderOptions { color: true }).contains("\x1b[32m+"));
}

/// A sink that keeps each write apart.
#[derive(Default)]
struct Writes(Vec<String>);

impl std::io::Write for Writes {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.push(String::from_utf8(buf.to_vec()).unwrap());
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_plan_streams_a_resource_at_a_time_and_reads_as_the_whole_text() {
    let p = run(SPEC, None, &BTreeMap::new(), Operation::Apply);
    let mut sink = Writes::default();
    render_to(&p, RenderOptions::default(), &mut sink).unwrap();
    assert_eq!(sink.0.concat(), text(&p));
    // The heading, then each of the three resources as soon as it is rendered, then the summary.
    assert_eq!(sink.0.len(), 5, "{:#?}", sink.0);
    assert!(sink.0[0].ends_with("trellis will perform the following actions:\n\n"), "{:?}", sink.0[0]);
    let blocks: Vec<&str> = sink.0[1..4]
        .iter()
        .map(|w| w.lines().map(str::trim).find(|l| l.starts_with("+ ")).unwrap_or_default())
        .collect();
    assert_eq!(blocks, ["+ vpc.main {", "+ security_group.web {", "+ subnet.a {"]);
    assert!(sink.0[4].starts_with("Plan: 3 to add"), "{:?}", sink.0[4]);

    // A reader that went away (`| head`) ends it with the error, after one write.
    struct Closed(usize);
    impl std::io::Write for Closed {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            self.0 += 1;
            Err(std::io::ErrorKind::BrokenPipe.into())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut closed = Closed(0);
    let err = render_to(&p, RenderOptions::default(), &mut closed).unwrap_err();
    assert_eq!((err.kind(), closed.0), (std::io::ErrorKind::BrokenPipe, 1));
}

fn run_targeted(
    spec_text: &str,
    prior: Option<&State>,
    live: &BTreeMap<Address, LiveObject>,
    op: Operation,
    targets: &[&str],
) -> Plan {
    let spec = spec(spec_text);
    let targets: Vec<Address> = targets.iter().map(|t| addr(t)).collect();
    plan(PlanInput {
        spec: &spec,
        prior,
        live,
        orphans: &[],
        tags: &Default::default(),
        operation: op,
        targets: &targets,
        replace: &[],
        env: &|_| None,
    })
    .unwrap()
}

#[test]
fn target_plans_only_the_closure_of_its_dependencies() {
    let p = run_targeted(SPEC, None, &BTreeMap::new(), Operation::Apply, &["subnet.a"]);
    let planned: Vec<String> = p.changes.iter().map(|c| c.address.to_string()).collect();
    assert_eq!(planned, ["vpc.main", "subnet.a"]);
    assert!(text(&p).starts_with("Warning: this plan is partial (--target subnet.a)"), "{}", text(&p));

    // Destroying the VPC takes what depends on it along.
    let objects = converged();
    let st = state_of(&objects);
    let d = run_targeted(SPEC, Some(&st), &live_of(&objects), Operation::Destroy, &["subnet.a"]);
    let doomed: Vec<String> = d.changes.iter().map(|c| c.address.to_string()).collect();
    assert_eq!(doomed, ["subnet.a"]);
    let d = run_targeted(SPEC, Some(&st), &live_of(&objects), Operation::Destroy, &["vpc.main"]);
    assert_eq!(d.summary().destroy, 3);
}

#[test]
fn markdown_puts_destructive_changes_first() {
    let objects = converged();
    let st = state_of(&objects);
    let edited = SPEC.replace("cidr_block: 10.0.1.0/24", "cidr_block: 10.0.5.0/24").replace("port: 80", "port: 443");
    let mut live = live_of(&objects);
    live.get_mut(&addr("vpc.main")).unwrap().attrs.insert("enable_dns_support".into(), Value::Bool(false));
    let p = run(&edited, Some(&st), &live, Operation::Apply);
    insta::assert_snapshot!(trellis_plan::render_markdown(&p));
}

#[test]
fn saved_plans_round_trip_and_know_when_they_are_stale() {
    use trellis_plan::{spec_digest, SavedPlan, SpecSource, SAVED_PLAN_FORMAT};
    let objects = converged();
    let st = state_of(&objects);
    let edited = SPEC.replace("port: 80", "port: 443");
    let live = live_of(&objects);
    let p = run(&edited, Some(&st), &live, Operation::Apply);
    let digest = spec_digest(&edited, &BTreeMap::new());
    let saved = SavedPlan {
        trellis_saved_plan: SAVED_PLAN_FORMAT,
        spec: SpecSource {
            path: "demo.yaml".into(),
            sha256: digest.clone(),
            vars: BTreeMap::new(),
            components: BTreeMap::new(),
        },
        region: None,
        state_path: "state/demo.json".into(),
        state_region: None,
        plan: p,
    };
    let text = saved.to_json();
    assert!(SavedPlan::sniff(&text));
    assert!(!SavedPlan::sniff(SPEC));
    let back = SavedPlan::from_json(&text).unwrap();
    assert_eq!(back, saved);
    // The reason for a replacement survives the round trip.
    assert_eq!(back.touched(), [(addr("security_group.web"), "sg-1".to_string())]);

    assert!(back.staleness(Some(&st), Some(&digest), &live).is_empty());
    let mut moved = st.clone();
    moved.serial += 1;
    assert_eq!(
        back.staleness(Some(&moved), Some(&digest), &live),
        ["the state moved on since the plan was made (serial 8 now, 7 in the plan): another run changed the stack"]
    );
    let other = spec_digest(&edited, &[("x".to_string(), "1".to_string())].into_iter().collect());
    assert_eq!(
        back.staleness(Some(&st), Some(&other), &live),
        ["the spec demo.yaml (or its --var values) changed since the plan was made"]
    );
    let mut drifted = live.clone();
    drifted.get_mut(&addr("security_group.web")).unwrap().attrs.insert("ingress".into(), Value::List(vec![]));
    assert_eq!(
        back.staleness(Some(&st), Some(&digest), &drifted),
        ["security_group.web changed outside trellis since the plan was made (`ingress`)"]
    );
    drifted.remove(&addr("security_group.web"));
    assert_eq!(
        back.staleness(Some(&st), Some(&digest), &drifted),
        ["security_group.web was deleted outside trellis since the plan was made"]
    );
}

#[test]
fn json_plans_follow_the_published_schema() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/json-plan.schema.json");
    let schema: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).expect("the schema itself is valid");

    let objects = converged();
    let st = state_of(&objects);
    let mut drifted = live_of(&objects);
    drifted.remove(&addr("subnet.a"));
    let plans = [
        run(SPEC, None, &BTreeMap::new(), Operation::Apply),
        run(SPEC, Some(&st), &live_of(&objects), Operation::Apply),
        run(&SPEC.replace("10.0.0.0/16", "10.1.0.0/16"), Some(&st), &live_of(&objects), Operation::Apply),
        run(SPEC, Some(&st), &drifted, Operation::Apply),
        run(SPEC, Some(&st), &live_of(&objects), Operation::Destroy),
        run_targeted(SPEC, None, &BTreeMap::new(), Operation::Apply, &["subnet.a"]),
    ];
    for p in &plans {
        let j = to_json(p);
        let errors: Vec<String> =
            validator.iter_errors(&j).map(|e| format!("{} at {}", e, e.instance_path())).collect();
        assert!(errors.is_empty(), "{errors:#?}\n{j:#}");
    }
    // The schema is not a rubber stamp: a broken plan fails it.
    let mut broken = to_json(&plans[0]);
    broken["resource_changes"][0]["change"]["actions"] = serde_json::json!(["explode"]);
    assert!(!validator.is_valid(&broken));
}

#[test]
fn a_read_back_that_differs_from_what_was_sent_is_named_attribute_by_attribute() {
    let kind = trellis_core::kinds::get("subnet").unwrap();
    let sent: Attrs = [
        ("vpc_id", s("vpc-1")),
        ("cidr_block", s("10.0.1.0/24")),
        ("map_public_ip_on_launch", Value::Bool(true)),
        ("tags", Value::Map(BTreeMap::new())),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    // AWS's own choices (the zone, left out) and computed values are not checked.
    let mut live = sent.clone();
    live.insert("availability_zone".into(), s("us-east-1c"));
    live.insert("id".into(), s("subnet-1"));
    assert!(trellis_plan::mismatches(kind, &sent, &live).is_empty());
    // A flag AWS accepted but did not set, and a stray tag, are both named.
    live.insert("map_public_ip_on_launch".into(), Value::Bool(false));
    live.insert("tags".into(), Value::Map([("Owner".to_string(), s("ops"))].into()));
    let found = trellis_plan::mismatches(kind, &sent, &live);
    let names: Vec<&str> = found.iter().map(|m| m.attr.as_str()).collect();
    assert_eq!(names, vec!["map_public_ip_on_launch", "tags"], "{found:?}");
    assert_eq!(found[0].planned, Value::Bool(true));
    assert_eq!(found[0].actual, Value::Bool(false));
}

#[test]
fn two_new_objects_in_a_set_are_two_items_known_after_apply() {
    // #39: a route table associated with two new subnets showed one unknown item.
    let text = r#"stack: web
resources:
  vpc.main:
    cidr_block: 10.0.0.0/16
  subnet.a:
    vpc_id: ${vpc.main}
    cidr_block: 10.0.1.0/24
  subnet.b:
    vpc_id: ${vpc.main}
    cidr_block: 10.0.2.0/24
  route_table.private:
    vpc_id: ${vpc.main}
    subnet_ids: ["${subnet.a}", "${subnet.b}"]
"#;
    let p = run(text, None, &BTreeMap::new(), Operation::Apply);
    let rt = p.change(&"route_table.private".parse().unwrap()).unwrap();
    assert_eq!(rt.after.as_ref().unwrap()["subnet_ids"], Value::List(vec![Value::Unknown, Value::Unknown]));
}
