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
    subnets: ["${subnet.a}"]
  listener.http:
    load_balancer_arn: ${load_balancer.web}
    port: 80
    default_actions:
      - type: forward
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
    assert_eq!(tg.action, Action::CreateThenDelete);
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
    assert_eq!(tg.action, Action::DeleteThenCreate);
    assert!(tg.notes[0].starts_with("destroy before create: the spec fixes `name`"), "{:?}", tg.notes);
    assert!(render(&p, RenderOptions::default()).contains("-/+ target_group.web {"));
}

#[test]
fn the_deposed_address_is_valid_and_stable() {
    let a = trellis_plan::deposed_address(&addr("target_group.web"), "arn:aws:elb:targetgroup/web/0AE3cb10073e9109");
    assert_eq!(a.to_string(), "target_group.web__deposed_073e9109");
    assert_eq!(a.to_string().parse::<Address>().unwrap(), a);
}

#[test]
fn a_deposed_object_left_behind_is_shown_as_its_resource() {
    // A run stopped after a new-first replacement's create left the old group deposed;
    // the next plan deletes it and says what it is, under the resource it belonged to.
    let mut st = converged(SPEC);
    let old = st.get(&addr("target_group.web")).unwrap().clone();
    let deposed = trellis_plan::deposed_address(&old.address, "arn:aws:elb:targetgroup/web/0AE3cb10073e9109");
    st.upsert(trellis_state::ResourceState { address: deposed, id: "old-arn".into(), ..old });
    let p = run(SPEC, Some(&st));
    let text = render(&p, RenderOptions::default());
    assert!(
        text.contains("target_group.web (deposed …073e9109) will be destroyed: the old object of a replacement"),
        "{text}"
    );
    assert!(text.contains("  - target_group.web (deposed …073e9109) {"), "{text}");
    assert!(!text.contains("__deposed_"), "{text}");
}

const SECRET_SPEC: &str = r##"stack: web
resources:
  launch_template.web:
    image_id: ami-1
    instance_type: t3.micro
    user_data: "#!/bin/sh\nexport TOKEN=${env.WEB_TOKEN}\n"
    sensitive: [user_data]
"##;

/// Plans `text` with `WEB_TOKEN` set to `token`; the live objects are `prior`'s, with
/// `plain_user_data` in place of the digest when given (AWS returns the script as text).
fn plan_with(
    text: &str,
    prior: Option<&trellis_state::State>,
    plain_user_data: Option<&str>,
    token: &str,
) -> trellis_plan::Plan {
    let spec = support::spec(text);
    let live: std::collections::BTreeMap<Address, trellis_core::LiveObject> = prior
        .into_iter()
        .flat_map(|s| &s.resources)
        .map(|r| {
            let mut attrs = r.attributes.clone();
            if let Some(plain) = plain_user_data {
                attrs.insert("user_data".into(), Value::str(plain));
            }
            (r.address.clone(), trellis_core::LiveObject { address: r.address.clone(), id: r.id.clone(), attrs })
        })
        .collect();
    let env = |name: &str| (name == "WEB_TOKEN").then(|| token.to_string());
    trellis_plan::plan(trellis_plan::PlanInput {
        spec: &spec,
        prior,
        live: &live,
        orphans: &[],
        tags: &Default::default(),
        operation: trellis_plan::Operation::Apply,
        targets: &[],
        replace: &[],
        env: &env,
    })
    .unwrap()
}

#[test]
fn a_secret_is_planned_as_a_digest_and_a_changed_one_shows() {
    let first = plan_with(SECRET_SPEC, None, None, "s3cr3t-one");
    let c = first.change(&addr("launch_template.web")).unwrap();
    assert_eq!(c.sensitive, ["user_data"]);
    let Value::Sensitive(digest) = &c.after.as_ref().unwrap()["user_data"] else { panic!("{:?}", c.after) };
    assert!(digest.starts_with("sha256:"));
    let everything = serde_json::to_string(&first).unwrap() + &render(&first, RenderOptions::default());
    let everything = everything + &trellis_plan::to_json(&first).to_string();
    assert!(!everything.contains("s3cr3t-one"), "{everything}");
    assert!(everything.contains("WEB_TOKEN"), "the plan keeps where the secret comes from");
    let j = trellis_plan::to_json(&first);
    assert_eq!(j["resource_changes"][0]["change"]["after_sensitive"], serde_json::json!(["user_data"]));
    assert_eq!(j["resource_changes"][0]["change"]["after"]["user_data"], serde_json::Value::Null);

    // Applied: the state keeps the digest; AWS reads the script back in plain text.
    let mut st = trellis_state::State::new("web");
    let mut attrs = c.after.clone().unwrap();
    attrs.insert("id".into(), Value::str("lt-1"));
    attrs.insert("latest_version".into(), Value::Int(1));
    attrs.insert("launch_template_name".into(), Value::str("web-web"));
    st.upsert(trellis_state::ResourceState {
        address: addr("launch_template.web"),
        id: "lt-1".into(),
        attributes: attrs,
        dependencies: vec![],
        sensitive: vec!["user_data".into()],
    });
    let plain = "#!/bin/sh\nexport TOKEN=s3cr3t-one\n";
    let same = plan_with(SECRET_SPEC, Some(&st), Some(plain), "s3cr3t-one");
    assert!(same.is_empty(), "{}", render(&same, RenderOptions::default()));
    assert!(same.drift.is_empty());
    let text = serde_json::to_string(&same).unwrap();
    assert!(!text.contains("s3cr3t-one"), "{text}");

    let changed = plan_with(SECRET_SPEC, Some(&st), Some(plain), "s3cr3t-two");
    let text = render(&changed, RenderOptions::default());
    assert!(text.contains("user_data      = (sensitive, changed)"), "{text}");
    assert!(text.contains("new version 2"), "{text}");
    assert!(!text.contains("s3cr3t"), "{text}");
}

#[test]
fn plans_with_secrets_versions_and_create_first_replacements_follow_the_schema() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/json-plan.schema.json");
    let schema: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let st = converged(SPEC);
    let plans = [
        plan_with(SECRET_SPEC, None, None, "one"),
        run(&SPEC.replace("echo one", "echo two"), Some(&st)),
        run(&SPEC.replace("port: 8080", "port: 8081"), Some(&st)),
    ];
    for p in &plans {
        let j = trellis_plan::to_json(p);
        let errors: Vec<String> = validator.iter_errors(&j).map(|e| format!("{e} at {}", e.instance_path())).collect();
        assert!(errors.is_empty(), "{errors:#?}\n{j:#}");
    }
}

#[test]
fn an_element_of_a_list_reads_the_planned_list() {
    let spec = r#"stack: web
resources:
  vpc.main:
    cidr_block: 10.0.0.0/16
  subnet.a:
    vpc_id: ${vpc.main}
    cidr_block: 10.0.1.0/24
  security_group.lb:
    vpc_id: ${vpc.main}
    description: lb
  load_balancer.web:
    subnets: ["${subnet.a}"]
    security_groups: ["${security_group.lb}"]
  security_group.app:
    vpc_id: ${vpc.main}
    description: app
    tags: { Front: "${load_balancer.web.security_groups[0]}" }
"#;
    // Made from nothing, the element is known once the group is.
    let first = run(spec, None);
    let app = first.change(&addr("security_group.app")).unwrap();
    assert_eq!(app.after.as_ref().unwrap()["tags"].as_map().unwrap()["Front"], Value::Unknown);
    let st = converged(spec);
    let tags = st.get(&addr("security_group.app")).unwrap().attributes["tags"].clone();
    assert_eq!(tags.as_map().unwrap()["Front"], Value::str("lb-1"), "the first of the balancer's groups");
    assert!(run(spec, Some(&st)).is_empty());
}

#[test]
fn a_name_the_spec_fixes_is_known_to_what_refers_to_it() {
    // RDS knows a subnet group by its name, lowercased: the database that names the group
    // plans it before apply, where it showed `(known after apply)`.
    let spec = "stack: web\nresources:\n  db_subnet_group.db:\n    db_subnet_group_name: Fixed-Group\n    subnet_ids: [subnet-1, subnet-2]\n  db_instance.d:\n    engine: mysql\n    db_instance_class: db.t3.micro\n    allocated_storage: 20\n    master_username: admin\n    master_user_password: ${env.PW}\n    db_subnet_group_name: ${db_subnet_group.db}\n  db_subnet_group.other:\n    subnet_ids: [subnet-1, subnet-2]\n";
    let p = run(spec, None);
    let group = p.change(&addr("db_subnet_group.db")).unwrap().after.clone().unwrap();
    assert_eq!(group["id"], Value::str("fixed-group"));
    let db = p.change(&addr("db_instance.d")).unwrap().after.clone().unwrap();
    assert_eq!(db["db_subnet_group_name"], Value::str("fixed-group"));
    // A name trellis generates is known only once made.
    let other = p.change(&addr("db_subnet_group.other")).unwrap().after.clone().unwrap();
    assert_eq!(other["id"], Value::Unknown);
}

#[test]
fn a_create_says_the_name_trellis_will_give_it() {
    let spec = "stack: Shop\nresources:\n  target_group.web:\n    port: 80\n    vpc_id: vpc-1\n  db_subnet_group.db:\n    subnet_ids: [subnet-1, subnet-2]\n  target_group.fixed:\n    name: my-group\n    port: 80\n    vpc_id: vpc-1\n";
    let p = run(spec, None);
    let note = |a: &str| p.change(&addr(a)).unwrap().notes.clone();
    assert_eq!(
        note("target_group.web"),
        ["`name` will be `Shop-web`, made up by trellis (with a suffix if that name is taken)"]
    );
    // RDS keeps names in lower case.
    assert!(note("db_subnet_group.db")[0].contains("`shop-db`"), "{:?}", note("db_subnet_group.db"));
    // A name the spec gives is no guess.
    assert!(note("target_group.fixed").is_empty());
}

/// Three rules of one listener, routed by path.
const RULES: &str = r#"stack: web
resources:
  listener_rule.a:
    listener_arn: arn:aws:elasticloadbalancing:us-east-1:1:listener/app/web/1/2
    priority: 10
    conditions: [{ field: path-pattern, path_pattern_config: { values: ["/a/*"] } }]
    actions: [{ type: fixed-response, fixed_response_config: { status_code: "200" } }]
  listener_rule.b:
    listener_arn: arn:aws:elasticloadbalancing:us-east-1:1:listener/app/web/1/2
    priority: 20
    conditions: [{ field: path-pattern, path_pattern_config: { values: ["/b/*"] } }]
    actions: [{ type: fixed-response, fixed_response_config: { status_code: "200" } }]
  listener_rule.c:
    listener_arn: arn:aws:elasticloadbalancing:us-east-1:1:listener/app/web/1/2
    priority: 30
    conditions: [{ field: host-header, host_header_config: { values: [c.example.com] } }]
    actions: [{ type: fixed-response, fixed_response_config: { status_code: "200" } }]
"#;

fn notes_of(plan: &trellis_plan::Plan, address: &str) -> Vec<String> {
    plan.changes.iter().find(|c| c.address == addr(address)).map(|c| c.notes.clone()).unwrap_or_default()
}

#[test]
fn a_priority_swap_is_two_updates_that_say_where_each_rule_now_stands() {
    let before = converged(RULES);
    let swapped =
        RULES.replace("priority: 10", "priority: 1x").replace("priority: 20", "priority: 10").replace("1x", "20");
    let plan = run(&swapped, Some(&before));
    let actions: Vec<Action> = plan.changes.iter().map(|c| c.action).collect();
    assert_eq!(actions, vec![Action::Update, Action::Update, Action::NoOp], "in place, never replaced");
    let a = notes_of(&plan, "listener_rule.a").join("\n");
    assert!(
        a.contains(
            "priority 10 → 20: tried after listener_rule.b (priority 10) and before listener_rule.c (priority 30)"
        ),
        "{a}"
    );
    assert!(a.contains("moved together with listener_rule.b in one `set-rule-priorities` call"), "{a}");
    let b = notes_of(&plan, "listener_rule.b").join("\n");
    assert!(b.contains("tried before listener_rule.a (priority 20), first of this stack's rules"), "{b}");
}

#[test]
fn a_removed_rule_says_where_its_requests_go() {
    let before = converged(RULES);
    let (head, _) = RULES.split_once("  listener_rule.b:").unwrap();
    let (_, rest) = RULES.split_once("  listener_rule.b:").unwrap();
    let without_a = format!("stack: web\nresources:\n  listener_rule.b:{rest}");
    let plan = run(&without_a, Some(&before));
    let a = notes_of(&plan, "listener_rule.a").join("\n");
    assert!(
        a.contains("once it is gone, requests for path-pattern /a/* go to the first of this stack's rules after it that matches (listener_rule.b (priority 20), listener_rule.c (priority 30)), else the listener's default action"),
        "{a}"
    );
    // The last rule has nothing after it.
    let without_c = head.to_string() + "  listener_rule.b:" + rest.split_once("  listener_rule.c:").unwrap().0;
    let plan = run(&without_c, Some(&before));
    let c = notes_of(&plan, "listener_rule.c").join("\n");
    assert!(c.contains("requests for host-header c.example.com go to the listener's default action"), "{c}");
}
