//! Validation of whole specs: the example stacks load, and broken specs get every
//! problem reported with its place, reason and hint (pinned as snapshots).

use std::collections::BTreeMap;
use std::path::Path;

use trellis_core::{Expr, Value};
use trellis_spec::{load, parse, LoadOptions, SourceFile};

fn opts(env: &'static [(&'static str, &'static str)]) -> LoadOptions<'static> {
    let lookup: &'static dyn Fn(&str) -> Option<String> =
        Box::leak(Box::new(move |name: &str| env.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string())));
    LoadOptions { vars: BTreeMap::new(), env: lookup, lookups: None, stacks: None }
}

fn errors(text: &str) -> String {
    let file = SourceFile { name: "broken.yaml".into(), text: text.into() };
    match parse(file, &opts(&[])) {
        Ok(_) => panic!("spec was accepted"),
        Err(d) => d.render(false),
    }
}

#[test]
fn example_network_stack_loads() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../specs/examples/network.yaml");
    let spec = load(&path, &opts(&[])).expect("example is valid");
    assert_eq!(spec.stack, "network");
    assert_eq!(spec.resources.len(), 14);
    let app = &spec.resources[&"security_group.app".parse().unwrap()];
    // The group name is generated at create time; the Name tag defaults here.
    assert!(!app.attrs.contains_key("group_name"), "left to trellis to generate");
    assert!(matches!(&app.attrs["tags"], Expr::Map(m) if m["Name"] == Expr::Lit(Value::str("network-app"))));
    let deps: Vec<String> = app.dependencies().iter().map(ToString::to_string).collect();
    assert_eq!(deps, ["security_group.lb", "vpc.main"]);
    let order: Vec<String> = spec.graph().creation_order().unwrap().iter().map(ToString::to_string).collect();
    // The roots first (the VPC, and the NAT gateway's address, which needs nothing).
    assert_eq!(order[..2], ["elastic_ip.nat", "vpc.main"]);
    let at = |a: &str| order.iter().position(|x| x == a).unwrap();
    assert!(at("subnet.public_a") < at("nat_gateway.main") && at("nat_gateway.main") < at("route_table.private"));
}

#[test]
fn vars_can_be_overridden() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../specs/examples/network.yaml");
    let mut o = opts(&[]);
    o.vars.insert("vpc_cidr".into(), "10.9.0.0/16".into());
    let spec = load(&path, &o).unwrap();
    let vpc = &spec.resources[&"vpc.main".parse().unwrap()];
    assert_eq!(vpc.attrs["cidr_block"], Expr::Lit(Value::str("10.9.0.0/16")));
}

#[test]
fn typos_get_did_you_mean() {
    insta::assert_snapshot!(errors(
        r#"stack: demo
resorces: {}
resources:
  vpc.main:
    cidr_blok: 10.0.0.0/16
  subnett.a:
    vpc_id: ${vpc.main}
  subnet.b:
    vpc_id: ${vpc.mian}
    cidr_block: 10.0.1.0/24
  subnet.c:
    vpc_id: ${vpc.main}
    cidr_block: 10.0.2.0/24
    map_public_ip_on_lunch: true
  security_group.web:
    vpc_id: ${vpc.main}
    ingress:
      - protocol: tpc
        port: 80
        cidr: 0.0.0.0/0
      - protocol: tcp
        port: ${var.web_prot}
        cidr: 0.0.0.0/0
vars:
  web_port: "80"
"#
    ));
}

#[test]
fn bad_values_are_explained() {
    insta::assert_snapshot!(errors(
        r#"stack: demo
resources:
  vpc.main:
    cidr_block: 10.0.0.1/16
    enable_dns_support: yes
  subnet.a:
    vpc_id: ${subnet.b}
    cidr_block: 10.0.300.0/24
  subnet.b:
    vpc_id: vpc
    cidr_block: 10.0.1.0/24
    availability_zone: ${env.TRELLIS_TEST_UNSET}
  network_acl.data:
    vpc_id: ${vpc.main}
    ingress:
      - rule_number: 40000
        protocol: tcp
        port_range: { from: 22, to: 22 }
        cidr_block: 0.0.0.0/0
        rule_action: allow
      - rule_number: 100
        protocol: tcp
        cidr_block: 0.0.0.0/0
        rule_action: permit
  security_group.web:
    vpc_id: ${vpc.main}
    id: sg-123
    ingress:
      - protocol: tcp
        port: 80
  security_group.all:
    vpc_id: ${vpc.main}
    ingress:
      - protocol: all
        port: 80-70
        cidr: 0.0.0.0/0
"#
    ));
}

#[test]
fn cycles_show_the_whole_path() {
    insta::assert_snapshot!(errors(
        r#"stack: demo
resources:
  vpc.main:
    cidr_block: 10.0.0.0/16
  security_group.a:
    vpc_id: ${vpc.main}
    ingress:
      - { protocol: tcp, port: 1, source_group: "${security_group.b}" }
  security_group.b:
    vpc_id: ${vpc.main}
    ingress:
      - { protocol: tcp, port: 2, source_group: "${security_group.c}" }
  security_group.c:
    vpc_id: ${vpc.main}
    depends_on: [security_group.a]
"#
    ));
}

#[test]
fn yaml_errors_and_duplicates_have_positions() {
    insta::assert_snapshot!("yaml_syntax", errors("stack: demo\nresources:\n  vpc.main: [\n"));
    insta::assert_snapshot!(
        "duplicate_key",
        errors("stack: demo\nresources:\n  vpc.main:\n    cidr_block: 10.0.0.0/16\n  vpc.main:\n    cidr_block: 10.1.0.0/16\n")
    );
    insta::assert_snapshot!("missing_stack", errors("resources: {}\nstack: \"bad name!\"\n"));
}

#[test]
fn templates_mix_text_and_references() {
    let text = r#"stack: demo
vars: { team: web }
resources:
  vpc.main:
    cidr_block: 10.0.0.0/16
    tags:
      Owner: ${env.OWNER}
      Purpose: "${var.team} tier for $${literal}"
  security_group.a:
    vpc_id: ${vpc.main}
    description: "group in ${vpc.main}"
"#;
    let spec = parse(SourceFile { name: "t.yaml".into(), text: text.into() }, &opts(&[("OWNER", "ops")])).unwrap();
    let vpc = &spec.resources[&"vpc.main".parse().unwrap()];
    let tags = vpc.attrs["tags"].as_literal().unwrap();
    assert_eq!(tags.as_map().unwrap()["Owner"], Value::str("ops"));
    assert_eq!(tags.as_map().unwrap()["Purpose"], Value::str("web tier for ${literal}"));
    let sg = &spec.resources[&"security_group.a".parse().unwrap()];
    assert!(matches!(&sg.attrs["description"], Expr::Template(p) if p.len() == 2));
}

#[test]
fn sensitive_attributes_keep_their_secret_out_of_the_spec() {
    let ok = "stack: s\nresources:\n  launch_template.a:\n    image_id: ami-1\n    instance_type: t3.micro\n    user_data: \"token=${env.TOKEN}\"\n    sensitive: [user_data]\n";
    // Parsed without the variable set: it is read at plan and apply time.
    let spec = parse(SourceFile { name: "s.yaml".into(), text: ok.into() }, &opts(&[])).unwrap();
    let r = &spec.resources[&"launch_template.a".parse().unwrap()];
    assert!(r.sensitive.contains("user_data"));
    assert_eq!(spec.secret_sources().len(), 1);
    assert_eq!(r.attrs["user_data"].env_names(), ["TOKEN"]);

    let literal = ok.replace("token=${env.TOKEN}", "token=abc");
    let err = errors(&literal);
    assert!(err.contains("`user_data` is sensitive: its value must come from `${env.NAME}`"), "{err}");
    let typo = ok.replace("sensitive: [user_data]", "sensitive: [user_dta]");
    let err = errors(&typo);
    assert!(err.contains("has no attribute `user_dta`") && err.contains("did you mean `user_data`?"), "{err}");
    let not_text = ok.replace("sensitive: [user_data]", "sensitive: [security_group_ids]");
    assert!(errors(&not_text).contains("cannot be sensitive"));
}

#[test]
fn database_specs_are_checked_for_what_aws_would_refuse() {
    insta::assert_snapshot!(errors(
        r#"stack: db
resources:
  db_instance.primary:
    engine: postgres
    db_instance_class: db.t3.micro
    allocated_storage: 20
    master_username: admin
    master_user_password: ${env.PW}
    backup_retention_period: 0
  db_instance.replica:
    source_db_instance_identifier: ${db_instance.primary}
    db_instance_class: db.t3.micro
  db_instance.other_replica:
    source_db_instance_identifier: ${db_instance.primary}
    db_instance_class: db.t3.micro
    engine: postgres
  db_instance.no_password:
    engine: mysql
    db_instance_class: db.t3.micro
    allocated_storage: 20
    master_username: admin
  db_instance.plain_password:
    engine: mysql
    db_instance_class: db.t3.micro
    allocated_storage: 20
    master_username: admin
    master_user_password: hunter2hunter2
"#
    ));
}

#[test]
fn the_database_examples_load() {
    for (name, count) in [("web-mysql", 20), ("postgres-replicas", 8), ("shared-db", 12)] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../../specs/examples/{name}.yaml"));
        let spec = load(&path, &opts(&[])).unwrap_or_else(|e| panic!("{name}: {}", e));
        assert_eq!(spec.resources.len(), count, "{name}");
        let db = spec.resources.values().find(|r| r.kind.name == "db_instance").unwrap();
        assert!(db.sensitive.contains("master_user_password"), "{name}: the password is a secret by its kind");
    }
}

#[test]
fn a_backend_is_read_with_its_defaults() {
    let text = "stack: web\nregion: eu-west-1\nvars:\n  team: blue\nbackend:\n  s3:\n    bucket: ${var.team}-state\n    lock_lease: 2h\nresources:\n  vpc.main:\n    cidr_block: 10.0.0.0/16\n";
    let spec = parse(SourceFile { name: "web.yaml".into(), text: text.into() }, &opts(&[])).unwrap();
    let backend = spec.backend.expect("a backend");
    assert_eq!(backend.bucket, "blue-state");
    assert_eq!(backend.key, "trellis/web.json", "the key defaults to the stack's name");
    assert_eq!(backend.region, None, "the stack's region is the CLI's fallback");
    assert_eq!(backend.lock_lease, Some(std::time::Duration::from_secs(7200)));
    let plain = "stack: web\nresources:\n  vpc.main:\n    cidr_block: 10.0.0.0/16\n";
    assert!(parse(SourceFile { name: "w.yaml".into(), text: plain.into() }, &opts(&[])).unwrap().backend.is_none());
}

#[test]
fn backend_mistakes_are_explained() {
    insta::assert_snapshot!(errors(
        "stack: web\nbackend:\n  s3:\n    bukcet: state\n    key: teams/\n    lock_lease: a while\nresources:\n  vpc.main:\n    cidr_block: 10.0.0.0/16\n"
    ));
    insta::assert_snapshot!(
        "unknown_backend",
        errors("stack: web\nbackend:\n  s4: { bucket: x }\nresources:\n  vpc.main:\n    cidr_block: 10.0.0.0/16\n")
    );
}

#[test]
fn a_misspelt_attribute_is_one_error_and_nested_entries_are_named_by_path() {
    let out = errors(
        "stack: demo\nresources:\n  vpc.main:\n    cidr_blok: 10.0.0.0/16\n  security_group.web:\n    vpc_id: ${vpc.main}\n    ingress:\n      - { protocol: tcp, port: 80, cidr: 0.0.0.0/0 }\n      - { protocol: tcp, prot: 22, cidr: 10.0.0.0/8 }\n",
    );
    assert!(out.contains("`vpc.main` has no attribute `cidr_blok`"), "{out}");
    assert!(out.contains("did you mean `cidr_block`?"), "{out}");
    assert!(!out.contains("is missing `cidr_block`"), "the same mistake is not reported twice:\n{out}");
    assert!(out.contains("`security_group.web.ingress[1]` has no attribute `prot`"), "{out}");
    assert!(out.ends_with("2 errors in broken.yaml\n"), "{out}");
}

#[test]
fn a_reference_unquoted_in_a_flow_collection_gets_a_hint() {
    let list = errors(
        "stack: demo\nresources:\n  vpc.main:\n    cidr_block: 10.0.0.0/16\n  route_table.rt:\n    vpc_id: ${vpc.main}\n    subnet_ids: [${subnet.a}, ${subnet.b}]\n",
    );
    assert!(list.contains("broken.yaml:7:19"), "{list}");
    assert!(list.contains("help: inside `[ ]` or `{ }` a reference must be quoted: `\"${subnet.a}\"`"), "{list}");
    let map = errors(
        "stack: demo\nresources:\n  vpc.main: { cidr_block: 10.0.0.0/16 }\n  subnet.a: { vpc_id: ${vpc.main} }\n",
    );
    assert!(map.contains("`\"${vpc.main}\"`; or write the list one item a line"), "{map}");
    let other = errors("stack: demo\nresources: [a, b\n");
    assert!(!other.contains("must be quoted"), "only a reference gets the hint: {other}");
}

#[test]
fn moves_and_removals_are_checked_against_the_spec() {
    insta::assert_snapshot!(errors(
        r#"stack: web
resources:
  vpc.main:
    cidr_block: 10.0.0.0/16
  subnet.public_a:
    vpc_id: ${vpc.main}
    cidr_block: 10.0.1.0/24
moved:
  - from: subnet.a
    to: subnet.publc_a
  - from: vpc.main
    to: vpc.core
  - from: subnet.b
    to: vpc.main
  - { from: subnet.c, to: subnet.public_a, form: x }
  - from: subnet.c
    to: subnet.public_a
removed:
  - from: vpc.main
  - from: subnet
"#
    ));
    let ok = r#"stack: web
resources:
  vpc.main:
    cidr_block: 10.0.0.0/16
  subnet.public:
    count: 2
    vpc_id: ${vpc.main}
    cidr_block: 10.0.${count.index}.0/24
moved:
  - from: subnet.a
    to: subnet.public[0]
  - from: subnet.old
    to: subnet.public
removed:
  - from: instance.bastion
"#;
    let spec = trellis_spec::parse(SourceFile { name: "ok.yaml".into(), text: ok.into() }, &opts(&[])).unwrap();
    assert_eq!(spec.moves.len(), 2);
    assert_eq!(spec.moves[0].to.to_string(), "subnet.public[0]");
    assert_eq!(spec.removed[0].from.to_string(), "instance.bastion");
    // A whole resource's move takes its copies along under the same keys.
    let copy: trellis_core::Address = "subnet.old[1]".parse().unwrap();
    assert_eq!(spec.moves[1].apply(&copy).map(|a| a.to_string()).as_deref(), Some("subnet.public[1]"));
    assert!(spec.removed[0].covers(&"instance.bastion[3]".parse().unwrap()));
}

#[test]
fn ignore_changes_names_what_the_spec_can_set() {
    insta::assert_snapshot!(errors(
        r#"stack: web
resources:
  autoscaling_group.web:
    launch_template_id: lt-1
    min_size: 1
    max_size: 2
    vpc_zone_identifier: [subnet-1]
    ignore_changes: [desired_capacty, id, min_size.x, tags., tags.Team]
  subnet.a:
    vpc_id: vpc-1
    cidr_block: 10.0.1.0/24
    ignore_changes: tags
"#
    ));
    let ok = r#"stack: web
resources:
  autoscaling_group.web:
    launch_template_id: lt-1
    min_size: 1
    max_size: 2
    vpc_zone_identifier: [subnet-1]
    ignore_changes: [desired_capacity, tags.Team]
"#;
    let spec = trellis_spec::parse(SourceFile { name: "ok.yaml".into(), text: ok.into() }, &opts(&[])).unwrap();
    let asg = &spec.resources[&"autoscaling_group.web".parse().unwrap()];
    assert_eq!(asg.ignore_changes.iter().map(String::as_str).collect::<Vec<_>>(), ["desired_capacity", "tags.Team"]);
    // It is a setting of trellis, never an attribute sent to AWS.
    assert!(!asg.attrs.contains_key("ignore_changes"));
}

#[test]
fn terraform_and_earlier_names_get_the_awscli_name_in_the_hint() {
    insta::assert_snapshot!(errors(
        r#"stack: web
resources:
  db_instance.main:
    engine: postgres
    instance_class: db.t3.micro
    allocated_storage: 20
    username: app
    master_user_password: ${env.PW}
  load_balancer.front:
    subnet_ids: [subnet-1, subnet-2]
  target_group.web:
    port: 80
    vpc_id: vpc-1
    health_check: { path: /health }
  listener.http:
    load_balancer_arn: arn:lb
    port: 80
    default_action: { type: redirect, redirect: { status_code: HTTP_301 } }
  instance.a:
    ami: ami-1
    instance_type: t3.micro
    subnet_id: subnet-1
  listener.two:
    load_balancer_arn: arn:lb
    port: 81
    default_actions:
      - { type: fixed-response, fixed_response_config: { status_code: "404" } }
      - { type: fixed-response, fixed_response_config: { status_code: "500" } }
"#
    ));
}

#[test]
fn iam_documents_and_key_pairs_are_checked() {
    insta::assert_snapshot!(errors(
        r#"stack: demo
resources:
  iam_role.app:
    assume_role_policy_document: '{"Version": "2012-10-17"}'
    policies:
      read: arn:aws:iam::aws:policy/ReadOnlyAccess
  iam_role.ok:
    assume_role_policy_document: { Version: "2012-10-17", Statement: [] }
    policies:
      read: arn:aws:iam::aws:policy/ReadOnlyAccess
  key_pair.admin:
    tags: { Team: ops }
  instance.a:
    image_id: ami-0abc
    instance_type: t3.micro
    subnet_id: subnet-0abc
    iam_instance_profile: ${iam_role.ok}
"#
    ));
}

#[test]
fn the_receivers_example_loads_with_its_documents_and_key() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../specs/examples/receivers.yaml");
    let spec = load(&path, &opts(&[])).expect("example is valid");
    assert_eq!(spec.resources.len(), 21);
    let role = &spec.resources[&"iam_role.receivers".parse().unwrap()];
    let Some(Expr::Map(doc)) = role.attrs.get("assume_role_policy_document") else { panic!("a document") };
    assert_eq!(doc["Version"], Expr::Lit(Value::str("2012-10-17")));
    let key = &spec.resources[&"key_pair.servers".parse().unwrap()];
    let Some(Expr::Lit(Value::Str(material))) = key.attrs.get("public_key_material") else { panic!("the key") };
    assert!(material.starts_with("ssh-ed25519 "), "{material}");
    assert!(!key.attrs.contains_key("public_key_material_file"));
    let receiver = &spec.resources[&"instance.receiver[0]".parse().unwrap()];
    let deps: Vec<String> = receiver.dependencies().iter().map(ToString::to_string).collect();
    assert!(
        deps.contains(&"iam_instance_profile.receivers".to_string()) && deps.contains(&"key_pair.servers".to_string())
    );
}

#[test]
fn a_network_acl_rule_for_all_protocols_takes_no_port_range() {
    // #39: it passed validate, then AWS dropped the range and no apply converged.
    let text = errors(
        r#"stack: demo
resources:
  vpc.main:
    cidr_block: 10.0.0.0/16
  network_acl.data:
    vpc_id: ${vpc.main}
    ingress:
      - rule_number: 100
        protocol: all
        port_range: { from: 0, to: 65535 }
        cidr_block: 0.0.0.0/0
        rule_action: allow
"#,
    );
    assert!(text.contains("a rule for `all` protocols covers every port: remove `port_range`"), "{text}");
    assert!(text.contains("broken.yaml:10:"), "pointed at the range: {text}");
}

#[test]
fn waive_names_a_rule_of_the_kind_with_a_reason_and_checks_a_severity() {
    let text = r#"stack: web
checks:
  fail_on: severe
resources:
  vpc.main:
    cidr_block: 10.0.0.0/16
  security_group.web:
    vpc_id: ${vpc.main}
    description: web
    waive:
      sg-ssh-opn: "the bastion"
      sg-rdp-open: ""
"#;
    let e = errors(text);
    assert!(e.contains("`severe` is not a severity: low, medium, high or critical"), "{e}");
    assert!(e.contains("`security_group.web` waives `sg-ssh-opn`, which is not a rule of its kind"), "{e}");
    assert!(e.contains("did you mean `sg-ssh-open`"), "{e}");
    assert!(e.contains("waiving `sg-rdp-open` needs a reason"), "{e}");
    let good = text.replace("severe", "HIGH").replace("sg-ssh-opn", "sg-ssh-open").replace("\"\"", "\"office only\"");
    let spec = parse(SourceFile { name: "ok.yaml".into(), text: good }, &opts(&[])).unwrap();
    assert_eq!(spec.fail_on, Some(trellis_core::schema::Severity::High));
    let web = &spec.resources[&"security_group.web".parse().unwrap()];
    assert_eq!(web.waive["sg-ssh-open"], "the bastion");
}

#[test]
fn enums_take_any_case_and_keep_aws_spelling() {
    let text = r#"stack: web
resources:
  vpc.main:
    cidr_block: 10.0.0.0/16
    instance_tenancy: Default
  target_group.web:
    vpc_id: ${vpc.main}
    port: 80
    protocol: http
"#;
    let spec = parse(SourceFile { name: "ok.yaml".into(), text: text.into() }, &opts(&[])).unwrap();
    let vpc = &spec.resources[&"vpc.main".parse().unwrap()];
    assert_eq!(vpc.attrs["instance_tenancy"], Expr::Lit(Value::str("default")));
    let tg = &spec.resources[&"target_group.web".parse().unwrap()];
    assert_eq!(tg.attrs["protocol"], Expr::Lit(Value::str("HTTP")));
}

#[test]
fn an_element_of_a_list_attribute_is_a_reference_of_its_own() {
    let text = r#"stack: web
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
    ingress:
      - protocol: tcp
        port: 80
        source_group: ${load_balancer.web.security_groups[0]}
"#;
    let spec = parse(SourceFile { name: "ok.yaml".into(), text: text.into() }, &opts(&[])).unwrap();
    let app = &spec.resources[&"security_group.app".parse().unwrap()];
    let Expr::Set(rules) = &app.attrs["ingress"] else { panic!("{:?}", app.attrs["ingress"]) };
    let Expr::Map(rule) = &rules[0] else { panic!() };
    let Expr::Ref(r) = &rule["source_group"] else { panic!("{:?}", rule["source_group"]) };
    assert_eq!((r.attr.as_deref(), r.index), (Some("security_groups"), Some(0)));
    assert_eq!(r.to_string(), "${load_balancer.web.security_groups[0]}");
    let deps: Vec<String> = app.dependencies().iter().map(ToString::to_string).collect();
    assert!(deps.contains(&"load_balancer.web".to_string()), "{deps:?}");

    let e = errors(&text.replace("security_groups[0]", "dns_name[0]"));
    assert!(e.contains("`${load_balancer.web.dns_name}` is not a list: it has no `[0]`"), "{e}");
    let e = errors(&text.replace("security_groups[0]", "subnets[0]"));
    assert!(e.contains("expected the id of a security_group, but `${load_balancer.web.subnets[0]}` holds"), "{e}");
}

#[test]
fn terraform_s_names_get_trellis_s_as_their_hint() {
    let cases = [
        ("  aws_lb.web:\n    subnets: [subnet-1]\n", "`aws_lb` is Terraform's type; here it is `load_balancer`"),
        ("  lb.web:\n    subnets: [subnet-1]\n", "`aws_lb` is Terraform's type; here it is `load_balancer`"),
        ("  autoscaling_policy.cpu: {}\n", "here it is `scaling_policy`"),
        ("  aws_lb_target_group.web: {}\n", "here it is `target_group`"),
        ("  aws_route_table_association.a: {}\n", "here it is written as `subnet_ids` of a `route_table`"),
        (
            "  security_group.web:\n    vpc_id: vpc-1\n    description: web\n    ingress:\n      - { protocol: tcp, from_port: 80, cidr: 0.0.0.0/0 }\n",
            "`from_port` is Terraform's name; here it is `port`",
        ),
        ("  load_balancer.web:\n    subnets: [subnet-1]\n    internal: true\n", "here it is `scheme`"),
        (
            "  load_balancer.web:\n    subnets: [subnet-1]\n    enable_deletion_protection: true\n",
            "here it is `deletion_protection`",
        ),
        ("  elastic_ip.a:\n    vpc: true\n", "`vpc` is Terraform's name; here it is `domain`"),
        ("  security_group.web:\n    vpc_id: vpc-1\n    description: web\n    name_prefix: web-\n", "leave it out, or give the whole name"),
        (
            "  scaling_policy.up:\n    auto_scaling_group_name: web\n    adjustment_type: ChangeInCapacity\n    scaling_adjustment: 1\n",
            "write `policy_type: SimpleScaling`",
        ),
    ];
    for (resource, hint) in cases {
        let err = errors(&format!("stack: s\nresources:\n{resource}"));
        assert!(err.contains(hint), "no `{hint}` for\n{resource}\n{err}");
        assert_eq!(err.matches("error:").count(), 1, "one mistake, one error:\n{err}");
    }
}

#[test]
fn a_resource_written_under_outputs_is_an_error_not_an_output() {
    let err = errors(
        "stack: s\nresources:\n  vpc.main:\n    cidr_block: 10.0.0.0/16\noutputs:\n  instance.bastion:\n    instance_type: t3.micro\n  vpc_id: ${vpc.main}\n",
    );
    assert!(err.contains("output `instance.bastion` is named like a resource"), "{err}");
    assert!(err.contains("broken.yaml:6:3"), "{err}");
    assert!(err.contains("a resource goes under `resources:`"), "{err}");
    assert_eq!(err.matches("error:").count(), 1, "{err}");
}

#[test]
fn what_aws_refuses_is_refused_at_its_place() {
    // Ten values users wrote that passed validate and apply, and AWS refused each.
    let long = |n: usize| "a".repeat(n);
    let cases: Vec<(String, &str)> = vec![
        (
            format!("  iam_role.r:\n    assume_role_policy_document: {{ Version: \"2012-10-17\" }}\n    description: {}\n", long(1100)),
            "`description` of `iam_role.r` is 1100 characters; AWS takes at most 1000",
        ),
        (
            format!("  target_group.t:\n    port: 80\n    vpc_id: vpc-1\n    health_check_path: /{}\n", long(1100)),
            "`health_check_path` of `target_group.t` is 1101 characters; AWS takes at most 1024",
        ),
        (
            "  target_group.t:\n    port: 80\n    vpc_id: vpc-1\n    health_check_interval_seconds: 400\n".into(),
            "`health_check_interval_seconds` is 400; AWS takes 5 to 300",
        ),
        (
            "  metric_alarm.a:\n    metric_name: m\n    namespace: n\n    statistic: Sum\n    period: 45\n    evaluation_periods: 1\n    threshold: 1\n    comparison_operator: GreaterThanThreshold\n".into(),
            "45 s is not a period CloudWatch takes",
        ),
        (
            format!("  metric_alarm.a:\n    metric_name: m\n    namespace: n\n    statistic: Sum\n    period: 60\n    evaluation_periods: 1\n    threshold: 1\n    comparison_operator: GreaterThanThreshold\n    alarm_description: {}\n", long(1100)),
            "`alarm_description` of `metric_alarm.a` is 1100 characters; AWS takes at most 1024",
        ),
        ("  security_group.g:\n    vpc_id: vpc-1\n    description: Café\n".into(), "not `é`"),
        (
            "  db_instance.d:\n    engine: mysql\n    db_instance_class: db.t3.micro\n    allocated_storage: 20\n    master_username: admin\n    master_user_password: ${env.PW}\n    backup_retention_period: 40\n".into(),
            "`backup_retention_period` is 40; AWS takes 0 to 35",
        ),
        (
            "  db_instance.d:\n    engine: mysql\n    db_instance_class: db.t3.micro\n    allocated_storage: 20\n    master_username: db-admin\n    master_user_password: ${env.PW}\n".into(),
            "not `db-admin`",
        ),
        (
            "  db_instance.d:\n    engine: mysql\n    db_instance_class: db.t3.micro\n    allocated_storage: 5\n    storage_type: gp3\n    master_username: admin\n    master_user_password: ${env.PW}\n".into(),
            "5 GiB is outside what AWS takes for mysql on gp3 storage: 20 to 65536 GiB",
        ),
        (
            "  security_group.g:\n    vpc_id: vpc-1\n    description: web\n    ingress:\n      - { protocol: tcp, port: 80, cidr: 0.0.0.0/0, description: \"<web>\" }\n".into(),
            "not `<>`",
        ),
    ];
    for (resource, expected) in cases {
        let err = errors(&format!("stack: s\nresources:\n{resource}"));
        assert!(err.contains(expected), "no `{expected}` in\n{err}");
        assert!(err.contains("broken.yaml:"), "{err}");
        assert_eq!(err.matches("error:").count(), 1, "one mistake, one error:\n{err}");
    }
}

#[test]
fn a_database_s_windows_and_monitoring_are_held_to_what_aws_takes() {
    let db = |extra: &str| {
        errors(&format!(
            "stack: s\nresources:\n  db_instance.d:\n    engine: postgres\n    db_instance_class: db.t3.micro\n    allocated_storage: 20\n    master_username: admin\n    master_user_password: ${{env.PW}}\n{extra}"
        ))
    };
    assert!(db("    preferred_backup_window: 3am\n").contains("`3am` is not a window AWS takes"));
    assert!(db("    preferred_maintenance_window: sunday:05:00-sun:06:00\n").contains("`ddd:hh24:mi-ddd:hh24:mi`"));
    assert!(db("    monitoring_interval: 7\n").contains("7 is not an interval AWS takes"));
    assert!(db("    monitoring_interval: 60\n").contains("needs `monitoring_role_arn`"));
    assert!(db("    max_allocated_storage: 10\n").contains("a ceiling above `allocated_storage` (20 GiB)"));
}

/// IPv6 ranges are taken where either family goes, kept as AWS gives them back
/// (compressed, lower case), and refused with a hint when their host bits are set.
#[test]
fn ipv6_ranges_are_canonical_and_checked() {
    let text = r#"stack: demo
resources:
  vpc.main:
    cidr_block: 10.0.0.0/16
  security_group.web:
    vpc_id: ${vpc.main}
    description: web
    ingress:
      - { protocol: tcp, port: 443, cidr: "0::0/0" }
      - { protocol: tcp, port: 80, cidr: "2600:1F18:01A2::/56" }
"#;
    let spec = parse(SourceFile { name: "web.yaml".into(), text: text.into() }, &opts(&[])).unwrap();
    let sg = &spec.resources[&"security_group.web".parse().unwrap()];
    let shown = format!("{:?}", sg.attrs["ingress"]);
    assert!(shown.contains("\"::/0\"") && shown.contains("\"2600:1f18:1a2::/56\""), "{shown}");
    let bad = errors(&text.replace("2600:1F18:01A2::/56", "2600:1f18:1a2::1/56"));
    assert!(bad.contains("has host bits set past its /56 prefix"), "{bad}");
    assert!(bad.contains("did you mean `2600:1f18:1a2::/56`?"), "{bad}");
}
