//! End to end against the moto emulator: refactoring a spec without changing the
//! cloud. `moved:` and `trellis state mv` give objects new addresses (a database, a
//! subnet, a target group: the same ids, no replacement, their `trellis:address` tags
//! follow); `removed:`, `trellis state rm` and a destroy let objects go without
//! deleting them, untagged, so that no later plan calls them orphans. `ignore_changes`
//! leaves what another system sets; `--replace` replaces what the spec keeps;
//! `--refresh-only` takes drift into the state without touching the cloud; `protect:
//! true` guards any kind, also once its block is gone.

mod support;

use support::{aws, ec2, ingress_ports, open_port, tagged_all, Stack};

const MOVING: &str = r#"stack: moving
resources:
  vpc.main:
    cidr_block: 10.40.0.0/16
  subnet.a:
    vpc_id: ${vpc.main}
    cidr_block: 10.40.1.0/24
    availability_zone: us-east-1a
  subnet.b:
    vpc_id: ${vpc.main}
    cidr_block: 10.40.2.0/24
    availability_zone: us-east-1b
  target_group.web:
    port: 8080
    vpc_id: ${vpc.main}
  db_subnet_group.db:
    subnet_ids: ["${subnet.a}", "${subnet.b}"]
  db_instance.main:
    engine: postgres
    db_instance_class: db.t3.micro
    allocated_storage: 20
    master_username: app_admin
    master_user_password: ${env.TRELLIS_DB_PW}
    db_subnet_group_name: ${db_subnet_group.db}
    skip_final_snapshot: true
"#;

/// `MOVING` with three blocks renamed, and the `moved:` entries that say so.
fn moved() -> String {
    MOVING
        .replace("subnet.a:", "subnet.public_a:")
        .replace("${subnet.a}", "${subnet.public_a}")
        .replace("target_group.web:", "target_group.app:")
        .replace("db_instance.main:", "db_instance.primary:")
        + "moved:\n  - from: subnet.a\n    to: subnet.public_a\n  - from: target_group.web\n    to: target_group.app\n  - from: db_instance.main\n    to: db_instance.primary\n"
}

/// The `trellis:address` tag of the object with `id` (RDS objects as `kind:name`).
async fn tag_of(stack: &Stack, id: &str) -> Option<String> {
    tagged_all(&stack.name).await.get(id).cloned()
}

#[tokio::test]
async fn moves_keep_the_objects_a_database_included_and_their_tags_follow() {
    let stack = Stack::new("moving", MOVING);
    let pw = format!("pw-{}-long-enough", stack.name);
    let env = [("TRELLIS_DB_PW", pw.as_str())];
    stack.run_env(&["apply", "{spec}", "--auto-approve"], &env).expect_code(0);
    let (subnet, tg, db) = (stack.id("subnet.a"), stack.id("target_group.web"), stack.id("db_instance.main"));

    stack.write_spec(&moved());
    let plan = stack.run_env(&["plan", "{spec}", "--detailed-exitcode"], &env).expect_code(2);
    let out = &plan.stdout;
    for line in [
        "# subnet.a has moved to subnet.public_a; subnet.public_a will be updated in place",
        "# target_group.web has moved to target_group.app; target_group.app will be updated in place",
        "# db_instance.main has moved to db_instance.primary; db_instance.primary will be updated in place",
        "its `trellis:address` tag names `db_instance.main`; apply rewrites it",
        "0 to add, 3 to change, 0 to replace, 0 to destroy, 3 moved.",
    ] {
        assert!(out.contains(line), "`{line}` is not in the plan:\n{out}");
    }
    assert!(!out.contains("DATA LOSS") && !out.contains("will be created"), "{out}");
    let json = stack.run_env(&["plan", "{spec}", "--json"], &env).expect_code(0);
    let json: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let change = json["resource_changes"].as_array().unwrap().iter().find(|c| c["address"] == "db_instance.primary");
    assert_eq!(change.unwrap()["previous_address"], "db_instance.main");
    assert_eq!(json["summary"]["moved"], 3);

    let applied = stack.run_env(&["apply", "{spec}", "--auto-approve"], &env).expect_code(0);
    assert!(applied.stdout.contains("0 added, 3 changed, 0 destroyed, 3 retagged."), "{}", applied.stdout);
    // The same objects, at their new addresses, tagged with them.
    assert_eq!(stack.id("subnet.public_a"), subnet);
    assert_eq!(stack.id("target_group.app"), tg);
    assert_eq!(stack.id("db_instance.primary"), db);
    let state = stack.state();
    assert!(state
        .resources
        .iter()
        .all(|r| !["subnet.a", "target_group.web", "db_instance.main"].contains(&r.address.to_string().as_str())));
    let dsg = state.resources.iter().find(|r| r.address.to_string() == "db_subnet_group.db").unwrap();
    assert!(dsg.dependencies.iter().any(|d| d.to_string() == "subnet.public_a"), "{:?}", dsg.dependencies);
    assert_eq!(tag_of(&stack, &subnet).await.as_deref(), Some("subnet.public_a"));
    assert_eq!(tag_of(&stack, &tg).await.as_deref(), Some("target_group.app"));
    assert_eq!(tag_of(&stack, &format!("db_instance:{db}")).await.as_deref(), Some("db_instance.primary"));
    stack.run_env(&["plan", "{spec}", "--detailed-exitcode"], &env).expect_code(0);

    // `state mv` does the same without a `moved:` entry: the block renamed, then the record.
    stack.write_spec(&moved().replace("subnet.public_a", "subnet.first"));
    let mv = stack.run_env(&["state", "mv", "{spec}", "subnet.public_a", "subnet.first"], &env).expect_code(0);
    assert!(mv.stdout.contains(&format!("Moved subnet.public_a ({subnet}) to subnet.first.")), "{}", mv.stdout);
    assert_eq!(tag_of(&stack, &subnet).await.as_deref(), Some("subnet.first"));
    let plan = stack.run_env(&["plan", "{spec}", "--detailed-exitcode"], &env).expect_code(2);
    assert!(plan.stdout.contains("# subnet.first will be updated in place"), "{}", plan.stdout);
    assert!(plan.stdout.contains("0 to add, 1 to change, 0 to replace, 0 to destroy."), "{}", plan.stdout);
    // A second move onto a taken address is refused, naming both.
    let taken = stack.run_env(&["state", "mv", "{spec}", "subnet.first", "subnet.b"], &env).expect_code(1);
    assert!(taken.stderr.contains("`subnet.b` is in the state already"), "{}", taken.stderr);
    let unknown = stack.run_env(&["state", "mv", "{spec}", "subnet.frist", "subnet.c"], &env).expect_code(1);
    assert!(unknown.stderr.contains("(did you mean `subnet.first`?)"), "{}", unknown.stderr);

    stack.run_env(&["apply", "{spec}", "--auto-approve"], &env).expect_code(0);
    stack.run_env(&["destroy", "{spec}", "--auto-approve", "--allow-data-loss"], &env).expect_code(0);
    assert!(stack.state().resources.is_empty());
    assert!(tagged_all(&stack.name).await.is_empty());
}

#[tokio::test]
async fn a_move_onto_an_address_the_state_holds_is_refused_at_the_move() {
    let spec =
        "stack: taken\nresources:\n  vpc.a:\n    cidr_block: 10.41.0.0/16\n  vpc.b:\n    cidr_block: 10.42.0.0/16\n";
    let stack = Stack::new("taken", spec);
    stack.apply();
    let only_b = spec.replace("  vpc.a:\n    cidr_block: 10.41.0.0/16\n", "");
    stack.write_spec(&format!("{only_b}moved:\n  - from: vpc.a\n    to: vpc.b\n"));
    let plan = stack.plan().expect_code(1);
    assert!(plan.stderr.contains("`vpc.a` cannot move to `vpc.b`: the state already holds `vpc.b`"), "{}", plan.stderr);
    assert!(plan.stderr.contains("stack.yaml:6:11"), "{}", plan.stderr);
    stack.write_spec(spec);
    stack.destroy_and_check_clean();
}

const LETTING_GO: &str = r#"stack: letting-go
resources:
  vpc.main:
    cidr_block: 10.43.0.0/16
  subnet.a:
    vpc_id: ${vpc.main}
    cidr_block: 10.43.1.0/24
  vpc.kept:
    cidr_block: 10.44.0.0/16
  security_group.kept:
    vpc_id: ${vpc.kept}
    description: kept
  security_group.loose:
    vpc_id: ${vpc.kept}
    description: loose
"#;

/// The tags of an EC2 object, as AWS reports them; `None` when it does not exist.
async fn ec2_tags(id: &str) -> Option<Vec<String>> {
    let aws = aws().await;
    let f = trellis_aws::sdk::ec2::types::Filter::builder().name("resource-id").values(id).build();
    let exists = if id.starts_with("vpc-") {
        aws.ec2().describe_vpcs().vpc_ids(id).send().await.is_ok()
    } else {
        aws.ec2().describe_security_groups().group_ids(id).send().await.is_ok()
    };
    if !exists {
        return None;
    }
    let tags = aws.ec2().describe_tags().filters(f).send().await.unwrap();
    let mut keys: Vec<String> = tags.tags().iter().filter_map(|t| t.key().map(str::to_string)).collect();
    keys.sort();
    Some(keys)
}

#[tokio::test]
async fn removed_objects_leave_management_untagged_and_destroy_never_deletes_them() {
    let stack = Stack::new("letting-go", LETTING_GO);
    stack.apply();
    let (vpc, kept, loose) = (stack.id("vpc.kept"), stack.id("security_group.kept"), stack.id("security_group.loose"));

    // `removed:` in an apply: the group stays, without trellis's tags.
    let without_kept =
        LETTING_GO.replace("  security_group.kept:\n    vpc_id: ${vpc.kept}\n    description: kept\n", "");
    stack.write_spec(&format!("{without_kept}removed:\n  - from: security_group.kept\n"));
    let plan = stack.plan().expect_code(2);
    assert!(
        plan.stdout.contains("# security_group.kept will no longer be managed (it is not destroyed)"),
        "{}",
        plan.stdout
    );
    assert!(plan.stdout.contains("it stays in the cloud as it is; its `trellis:` tags are removed"), "{}", plan.stdout);
    assert!(plan.stdout.contains("0 to destroy, 1 to forget."), "{}", plan.stdout);
    let applied = stack.apply();
    assert!(applied.stdout.contains("0 added, 0 changed, 0 destroyed, 1 forgotten."), "{}", applied.stdout);
    assert!(stack.state().get(&"security_group.kept".parse().unwrap()).is_none());
    assert_eq!(ec2_tags(&kept).await, Some(vec!["Name".to_string()]), "it exists, with the user's tags only");
    let again = stack.plan().expect_code(0);
    assert!(!again.stdout.contains("Warning:"), "no orphan: {}", again.stdout);

    // `state rm`: the same, at once.
    let without_loose =
        without_kept.replace("  security_group.loose:\n    vpc_id: ${vpc.kept}\n    description: loose\n", "");
    stack.write_spec(&format!("{without_loose}removed:\n  - from: security_group.kept\n"));
    let rm = stack.run(&["state", "rm", "{spec}", "security_group.loose"]).expect_code(0);
    assert!(rm.stdout.contains(&format!("security_group.loose ({loose}) is no longer managed")), "{}", rm.stdout);
    assert_eq!(ec2_tags(&loose).await, Some(vec!["Name".to_string()]));
    stack.plan().expect_code(0);

    // A destroy forgets what `removed:` names rather than deleting it.
    let without_vpc = without_loose.replace("  vpc.kept:\n    cidr_block: 10.44.0.0/16\n", "");
    stack.write_spec(&format!("{without_vpc}removed:\n  - from: vpc.kept\n"));
    let destroyed = stack.run(&["destroy", "{spec}", "--auto-approve"]).expect_code(0);
    assert!(destroyed.stdout.contains("# vpc.kept will no longer be managed"), "{}", destroyed.stdout);
    assert!(destroyed.stdout.contains("0 added, 0 changed, 2 destroyed, 1 forgotten."), "{}", destroyed.stdout);
    assert!(stack.state().resources.is_empty());
    assert_eq!(ec2_tags(&vpc).await, Some(vec!["Name".to_string()]));
    assert!(tagged_all(&stack.name).await.is_empty(), "nothing is tagged with the stack any more");

    // What was let go is the user's now: cleaned up by hand.
    let aws = aws().await;
    for group in [&kept, &loose] {
        aws.ec2().delete_security_group().group_id(group.as_str()).send().await.unwrap();
    }
    aws.ec2().delete_vpc().vpc_id(&vpc).send().await.unwrap();
}

const SCALED: &str = r#"stack: scaled
resources:
  vpc.main:
    cidr_block: 10.42.0.0/16
  subnet.a:
    vpc_id: ${vpc.main}
    cidr_block: 10.42.1.0/24
    availability_zone: us-east-1a
  launch_template.web:
    image_id: ami-0abcdef1234567890
    instance_type: t3.micro
  autoscaling_group.web:
    launch_template_id: ${launch_template.web}
    min_size: 1
    max_size: 3
    desired_capacity: 1
    vpc_zone_identifier: ["${subnet.a}"]
    tags: { Team: web, Tier: app }
    ignore_changes: [desired_capacity, tags.Team]
"#;

/// The group's desired capacity, max size and `Team` tag, as AWS has them.
async fn group_of(name: &str) -> (i32, i32, Option<String>) {
    let aws = aws().await;
    let out = aws.autoscaling().describe_auto_scaling_groups().auto_scaling_group_names(name).send().await.unwrap();
    let g = &out.auto_scaling_groups()[0];
    let team = g.tags().iter().find(|t| t.key() == Some("Team")).and_then(|t| t.value()).map(str::to_string);
    (g.desired_capacity().unwrap(), g.max_size().unwrap(), team)
}

#[tokio::test]
async fn ignored_attributes_changed_outside_are_shown_as_ignored_and_never_reverted() {
    let stack = Stack::new("scaled", SCALED);
    stack.apply().expect_code(0);
    let group = stack.id("autoscaling_group.web");
    assert_eq!(group_of(&group).await, (1, 3, Some("web".into())));

    // Another system scales the group and sets its team.
    let aws = aws().await;
    let asg = aws.autoscaling();
    asg.set_desired_capacity().auto_scaling_group_name(&group).desired_capacity(2).send().await.unwrap();
    let team = trellis_aws::sdk::autoscaling::types::Tag::builder()
        .resource_id(&group)
        .resource_type("auto-scaling-group")
        .key("Team")
        .value("platform")
        .propagate_at_launch(true)
        .build();
    asg.create_or_update_tags().tags(team).send().await.unwrap();

    let plan = stack.run(&["plan", "{spec}", "--detailed-exitcode"]).expect_code(0);
    let out = &plan.stdout;
    for line in [
        "~ desired_capacity = 1 -> 2 # ignore_changes: kept as it is",
        "~ Team = \"web\" -> \"platform\" # ignore_changes: kept as it is",
        "No changes.",
    ] {
        assert!(out.contains(line), "`{line}` is not in the plan:\n{out}");
    }
    let json = stack.run(&["plan", "{spec}", "--json"]).expect_code(0);
    let json: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(json["resource_drift"][0]["ignored"], serde_json::json!(["desired_capacity", "tags.Team"]));

    // Changing something else updates the group and leaves what is ignored as it is.
    stack.write_spec(&SCALED.replace("max_size: 3", "max_size: 4"));
    let applied = stack.apply().expect_code(0);
    assert!(applied.stdout.contains("0 added, 1 changed, 0 destroyed"), "{}", applied.stdout);
    assert_eq!(group_of(&group).await, (2, 4, Some("platform".into())));
    stack.run(&["plan", "{spec}", "--detailed-exitcode"]).expect_code(0);

    // Without `ignore_changes`, the spec's values come back.
    let plain =
        SCALED.replace("max_size: 3", "max_size: 4").replace("    ignore_changes: [desired_capacity, tags.Team]\n", "");
    stack.write_spec(&plain);
    stack.apply().expect_code(0);
    assert_eq!(group_of(&group).await, (1, 4, Some("web".into())));
    stack.destroy_and_check_clean();
}

const SMALL: &str = r#"stack: small
resources:
  vpc.main:
    cidr_block: 10.43.0.0/16
  subnet.a:
    vpc_id: ${vpc.main}
    cidr_block: 10.43.1.0/24
    availability_zone: us-east-1a
  security_group.app:
    vpc_id: ${vpc.main}
    description: app
    ingress:
      - { protocol: tcp, port: 80, cidr: 10.43.0.0/16 }
outputs:
  subnet: ${subnet.a}
"#;

/// Whether EC2 still has the subnet.
async fn subnet_exists(id: &str) -> bool {
    let out = ec2()
        .await
        .describe_subnets()
        .filters(trellis_aws::sdk::ec2::types::Filter::builder().name("subnet-id").values(id).build());
    !out.send().await.unwrap().subnets().is_empty()
}

#[tokio::test]
async fn replace_makes_a_new_object_of_one_the_spec_keeps_and_refresh_only_records_drift_and_nothing_else() {
    let stack = Stack::new("lifecycle", SMALL);
    stack.apply();
    let (subnet, group) = (stack.id("subnet.a"), stack.id("security_group.app"));

    // --replace: named in the plan, then a new subnet, the old one gone, nothing else touched.
    let plan = stack.run(&["plan", "{spec}", "--replace", "subnet.a", "--detailed-exitcode"]).expect_code(2);
    assert!(plan.stdout.contains("# subnet.a will be replaced, as asked with --replace"), "{}", plan.stdout);
    assert!(plan.stdout.contains("0 to add, 0 to change, 1 to replace, 0 to destroy"), "{}", plan.stdout);
    let typo = stack.run(&["plan", "{spec}", "--replace", "subnet.b"]).expect_code(1);
    assert!(
        typo.stderr.contains("--replace subnet.b: no such resource in the spec (did you mean `subnet.a`?)"),
        "{}",
        typo.stderr
    );
    stack.run(&["plan", "{spec}", "--destroy", "--replace", "subnet.a"]).expect_code(2);
    let applied = stack.run(&["apply", "{spec}", "--replace", "subnet.a", "--auto-approve"]).expect_code(0);
    assert!(applied.stdout.contains("1 added, 0 changed, 1 destroyed"), "{}", applied.stdout);
    let new_subnet = stack.id("subnet.a");
    assert_ne!(new_subnet, subnet);
    assert!(subnet_exists(&new_subnet).await && !subnet_exists(&subnet).await);
    assert_eq!(stack.id("security_group.app"), group);
    assert_eq!(stack.state().outputs["subnet"], trellis_core::Value::str(&new_subnet));
    stack.plan().expect_code(0);

    // A saved plan carries the request: the reviewed replacement is the one applied.
    stack.run(&["plan", "{spec}", "--replace", "security_group.app", "--out", "sg.plan"]).expect_code(0);
    let shown = stack.run(&["show", "sg.plan", "--json"]).expect_code(0);
    assert!(shown.stdout.contains("\"replace_by_request\""), "{}", shown.stdout);
    stack.run(&["apply", "sg.plan"]).expect_code(0);
    let new_group = stack.id("security_group.app");
    assert_ne!(new_group, group);
    stack.plan().expect_code(0);

    // Someone opens SSH by hand, and that is right: the refresh-only plan shows it and
    // changes nothing, not even the state.
    let client = ec2().await;
    open_port(&client, &new_group, 22, "10.43.0.0/16").await;
    let serial = stack.state().serial;
    let plan = stack.run(&["plan", "{spec}", "--refresh-only", "--detailed-exitcode"]).expect_code(2);
    for line in ["# security_group.app has changed", "This is a refresh-only plan: nothing in the cloud changes."] {
        assert!(plan.stdout.contains(line), "`{line}` is not in:\n{}", plan.stdout);
    }
    assert!(!plan.stdout.contains("will be updated"), "{}", plan.stdout);
    let json = stack.run(&["plan", "{spec}", "--refresh-only", "--json"]).expect_code(0);
    let json: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(json["operation"], "refresh_only");
    assert_eq!(stack.state().serial, serial);
    // Recording it needs approval, like any apply.
    let unasked = stack.run(&["apply", "{spec}", "--refresh-only"]).expect_code(1);
    assert!(unasked.stderr.contains("needs approval"), "{}", unasked.stderr);
    let recorded = stack.run(&["apply", "{spec}", "--refresh-only", "--auto-approve"]).expect_code(0);
    assert!(recorded.stdout.contains("Refresh complete!"), "{}", recorded.stdout);
    let st = stack.state();
    assert!(st.serial > serial);
    let sg = st.get(&"security_group.app".parse().unwrap()).unwrap();
    assert_eq!(sg.attributes["ingress"].as_list().len(), 2, "{:?}", sg.attributes["ingress"]);
    let mut ports = ingress_ports(&client, &new_group).await;
    ports.sort();
    assert_eq!(ports, [22, 80], "the cloud is as it was");
    stack.run(&["plan", "{spec}", "--refresh-only", "--detailed-exitcode"]).expect_code(0);
    // The spec still says port 80 only: a plain plan now proposes that, with no drift.
    let plan = stack.plan().expect_code(2);
    assert!(plan.stdout.contains("~ security_group.app") && !plan.stdout.contains("has changed"), "{}", plan.stdout);
    stack.run(&["apply", "{spec}", "--refresh-only", "--replace", "subnet.a"]).expect_code(2);
    stack.destroy_and_check_clean();
}

const GUARDED: &str = r#"stack: guarded
resources:
  vpc.main:
    cidr_block: 10.44.0.0/16
    protect: true
  subnet.a:
    vpc_id: ${vpc.main}
    cidr_block: 10.44.1.0/24
    availability_zone: us-east-1a
"#;

#[tokio::test]
async fn protect_keeps_any_kind_until_protect_false_is_applied_even_once_its_block_is_gone() {
    let stack = Stack::new("guarded", GUARDED);
    stack.apply();
    let vpc = stack.id("vpc.main");
    let vpc_addr = "vpc.main".parse().unwrap();
    assert_eq!(stack.state().get(&vpc_addr).unwrap().attributes["protect"], trellis_core::Value::Bool(true));

    // The blocks go: the plan says the VPC is protected as last applied, apply refuses
    // before any call, and so does destroy.
    stack.write_spec("stack: guarded\nresources: {}\n");
    let plan = stack.plan().expect_code(2);
    assert!(plan.stdout.contains("PROTECTED: this plan destroys 1 object marked `protect: true`"), "{}", plan.stdout);
    assert!(
        plan.stdout.contains("vpc.main: destroyed (no longer in the spec; protected as last applied)"),
        "{}",
        plan.stdout
    );
    let refused = stack.run(&["apply", "{spec}", "--auto-approve"]).expect_code(1);
    assert!(
        refused.stderr.contains("refusing to apply: it would destroy vpc.main, protected by `protect: true`"),
        "{}",
        refused.stderr
    );
    let refused = stack.run(&["destroy", "{spec}", "--auto-approve"]).expect_code(1);
    assert!(refused.stderr.contains("refusing to destroy: it would destroy vpc.main"), "{}", refused.stderr);
    assert!(refused.stderr.contains("--allow-data-loss"), "{}", refused.stderr);
    assert_eq!(stack.state().resources.len(), 2, "nothing was changed");
    assert!(tagged_all(&stack.name).await.contains_key(&vpc));

    // `protect: false` applied first changes the state only, then the blocks can go.
    stack.write_spec(&GUARDED.replace("protect: true", "protect: false"));
    let off = stack.apply();
    assert!(off.stdout.contains("0 added, 1 changed, 0 destroyed"), "{}", off.stdout);
    assert_eq!(stack.id("vpc.main"), vpc);
    stack.write_spec("stack: guarded\nresources: {}\n");
    let gone = stack.apply();
    assert!(gone.stdout.contains("0 added, 0 changed, 2 destroyed"), "{}", gone.stdout);
    assert!(tagged_all(&stack.name).await.is_empty());
}
