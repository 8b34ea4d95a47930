//! End to end against the moto emulator: the database layer. Subnet groups, parameter
//! groups, databases and read replicas are created, read back, changed in place,
//! replaced (only with consent), repaired after drift and deleted (with and without a
//! final snapshot); the three database examples apply, re-plan empty and destroy; and
//! the master password appears nowhere trellis writes or prints.

mod support;

use support::{aws, tagged_all, Run, Stack, POSTGRES_REPLICAS, WEB_MYSQL};

fn all_of(r: &Run) -> String {
    format!("{}\n{}", r.stdout, r.stderr)
}

fn assert_clean(secret: &str, what: &str, text: &str) {
    assert!(!text.contains(secret), "{what} holds the password:\n{text}");
}

/// Where `needle` first appears in the output, for checking the order of operations.
fn at(out: &str, needle: &str) -> usize {
    out.find(needle).unwrap_or_else(|| panic!("`{needle}` is not in the output:\n{out}"))
}

/// The name in "final snapshot `NAME`" for `address` in a plan's data-loss section.
fn final_snapshot(out: &str, address: &str) -> String {
    let line = out
        .lines()
        .find(|l| l.contains(&format!("{address}:")) && l.contains("final snapshot"))
        .unwrap_or_else(|| panic!("no data-loss line for {address}:\n{out}"));
    line.split("final snapshot `").nth(1).unwrap().split('`').next().unwrap().to_string()
}

async fn db(id: &str) -> aws_sdk_rds_db::DbInstance {
    let aws = aws().await;
    let out = aws.rds().describe_db_instances().db_instance_identifier(id).send().await.unwrap();
    out.db_instances()[0].clone()
}

async fn db_exists(id: &str) -> bool {
    let aws = aws().await;
    aws.rds().describe_db_instances().db_instance_identifier(id).send().await.is_ok()
}

async fn parameters(group: &str) -> Vec<(String, String)> {
    let aws = aws().await;
    let out = aws.rds().describe_db_parameters().db_parameter_group_name(group).send().await.unwrap();
    let mut ps: Vec<(String, String)> = out
        .parameters()
        .iter()
        .filter_map(|p| Some((p.parameter_name()?.to_string(), p.parameter_value()?.to_string())))
        .collect();
    ps.sort();
    ps
}

mod aws_sdk_rds_db {
    pub use trellis_aws::sdk::rds::types::DbInstance;
}

#[tokio::test]
async fn web_mysql_keeps_its_password_out_of_everything_and_is_destroyed_only_with_consent() {
    let stack = Stack::new("web-mysql", WEB_MYSQL);
    // The example fixes the group's name (seed 000 calls it `scalingdb`); tests share
    // one emulator, so this copy gets the stack's name in front.
    let group = format!("{}-scalingdb", stack.name);
    stack.write_spec(&WEB_MYSQL.replace("name: scalingdb", &format!("name: {group}")));
    let pw = format!("pw-{}-Zq81", stack.name);
    let env = [("MYSQL_PASSWORD", pw.as_str())];
    let plan_file = stack.dir.path().join("reviewed.plan");
    let plan_path = plan_file.to_str().unwrap();
    let mut printed = String::new();

    let planned = stack.run_env(&["plan", "{spec}", "--out", plan_path], &env).expect_code(0);
    printed += &all_of(&planned);
    assert!(
        planned.stdout.lines().any(|l| l.contains("+ master_user_password ") && l.ends_with("= (sensitive)")),
        "{}",
        planned.stdout
    );
    let json = stack.run_env(&["plan", "{spec}", "--json"], &env).expect_code(0);
    printed += &all_of(&json);
    let applied = stack.run_env(&["apply", plan_path], &env).expect_code(0);
    printed += &all_of(&applied);
    assert!(
        applied.stdout.contains("database = \"") && applied.stdout.contains(".rds.amazonaws.com"),
        "{}",
        applied.stdout
    );
    let again = stack.run_env(&["plan", "{spec}", "--detailed-exitcode"], &env).expect_code(0);
    printed += &all_of(&again);

    // In AWS: the parameter group raises max_allowed_packet, and the database uses it,
    // in the private subnets, behind the security group that admits the app servers.
    assert!(parameters(&group).await.contains(&("max_allowed_packet".into(), "1073741824".into())));
    let main = db(&stack.id("db_instance.main")).await;
    assert_eq!(main.db_parameter_groups()[0].db_parameter_group_name(), Some(group.as_str()));
    assert_eq!(main.engine(), Some("mysql"));
    assert_eq!(main.db_name(), Some("businesses"));
    assert_eq!(main.vpc_security_groups()[0].vpc_security_group_id(), Some(stack.id("security_group.db").as_str()));
    let group = main.db_subnet_group().unwrap();
    assert_eq!(group.db_subnet_group_name(), Some(stack.id("db_subnet_group.db").as_str()));
    let mut subnets: Vec<&str> = group.subnets().iter().filter_map(|s| s.subnet_identifier()).collect();
    subnets.sort();
    let mut private = vec![stack.id("subnet.db_a"), stack.id("subnet.db_b")];
    private.sort();
    assert_eq!(subnets, private);

    // Destroy without consent changes nothing and says why.
    let refused = stack.run_env(&["destroy", "{spec}", "--auto-approve"], &env);
    printed += &all_of(&refused);
    assert_ne!(refused.code, 0);
    assert!(refused.stdout.contains("!! DATA LOSS: this plan destroys 1 database"), "{}", refused.stdout);
    assert!(
        refused.stderr.contains("refusing to destroy") && refused.stderr.contains("--allow-data-loss"),
        "{}",
        refused.stderr
    );
    assert_eq!(stack.state().resources.len(), 20);
    assert!(db_exists(&stack.id("db_instance.main")).await);
    let snapshot = final_snapshot(&refused.stdout, "db_instance.main");

    let db_id = stack.id("db_instance.main");
    let gone = stack.run_env(&["destroy", "{spec}", "--auto-approve", "--allow-data-loss"], &env).expect_code(0);
    printed += &all_of(&gone);
    assert!(stack.state().resources.is_empty());
    assert!(tagged_all(&stack.name).await.is_empty(), "{:?}", tagged_all(&stack.name).await);
    assert_eq!(stack.snapshots_of(&db_id).await, vec![snapshot], "the final snapshot the plan named");

    assert_clean(&pw, "the state", &std::fs::read_to_string(stack.state_path()).unwrap());
    assert_clean(&pw, "the saved plan", &std::fs::read_to_string(&plan_file).unwrap());
    assert_clean(&pw, "the output", &printed);
}

#[tokio::test]
async fn replicas_come_after_their_primary_and_go_before_it() {
    let stack = Stack::new("pg-replicas", POSTGRES_REPLICAS);
    let env = [("PG_PASSWORD", "replica-test-pw-1")];
    let applied = stack.run_env(&["apply", "{spec}", "--auto-approve"], &env).expect_code(0);
    let out = &applied.stdout;
    for r in ["db_instance.replica_a", "db_instance.replica_b"] {
        assert!(at(out, "db_instance.primary: Created") < at(out, &format!("{r}: Creating...")), "{out}");
        let replica = db(&stack.id(r)).await;
        assert_eq!(
            replica.read_replica_source_db_instance_identifier(),
            Some(stack.id("db_instance.primary").as_str())
        );
    }
    let primary = db(&stack.id("db_instance.primary")).await;
    assert_eq!(primary.backup_retention_period(), Some(7));
    assert!(out.contains("replicas = [\""), "{out}");
    stack.run_env(&["plan", "{spec}", "--detailed-exitcode"], &env).expect_code(0);

    let gone = stack.run_env(&["destroy", "{spec}", "--auto-approve", "--allow-data-loss"], &env).expect_code(0);
    let out = &gone.stdout;
    for r in ["db_instance.replica_a", "db_instance.replica_b"] {
        assert!(at(out, &format!("{r}: Destroyed")) < at(out, "db_instance.primary: Destroying..."), "{out}");
    }
    assert!(tagged_all(&stack.name).await.is_empty(), "{:?}", tagged_all(&stack.name).await);
}

const LIFECYCLE: &str = r#"stack: db-life
resources:
  vpc.main:
    cidr_block: 10.20.0.0/16
  subnet.a:
    vpc_id: ${vpc.main}
    cidr_block: 10.20.1.0/24
    availability_zone: us-east-1a
  subnet.b:
    vpc_id: ${vpc.main}
    cidr_block: 10.20.2.0/24
    availability_zone: us-east-1b
  security_group.db:
    vpc_id: ${vpc.main}
    description: postgres
    ingress:
      - { protocol: tcp, port: 5432, cidr: 10.20.0.0/16 }
  db_subnet_group.db:
    db_subnet_group_description: first
    subnet_ids: ["${subnet.a}", "${subnet.b}"]
  db_subnet_group.spare:
    subnet_ids: ["${subnet.a}", "${subnet.b}"]
  db_parameter_group.tuned:
    db_parameter_group_family: postgres16
    parameters:
      log_min_duration_statement: "500"
  db_instance.main:
    engine: postgres
    db_instance_class: db.t3.micro
    allocated_storage: 20
    db_name: app
    master_username: app_admin
    master_user_password: ${env.TRELLIS_DB_PW}
    db_subnet_group_name: ${db_subnet_group.db}
    db_parameter_group_name: ${db_parameter_group.tuned}
    vpc_security_group_ids: ["${security_group.db}"]
"#;

#[tokio::test]
async fn a_database_is_created_changed_repaired_replaced_with_consent_and_deleted() {
    let stack = Stack::new("db-life", LIFECYCLE);
    let pw1 = format!("first-{}-pw", stack.name);
    let env = [("TRELLIS_DB_PW", pw1.as_str())];
    let aws = aws().await;
    let mut printed = String::new();

    // Create and read back.
    printed += &all_of(&stack.run_env(&["apply", "{spec}", "--auto-approve"], &env).expect_code(0));
    let id = stack.id("db_instance.main");
    let group = stack.id("db_parameter_group.tuned");
    let live = db(&id).await;
    assert_eq!((live.db_instance_class(), live.allocated_storage()), (Some("db.t3.micro"), Some(20)));
    assert_eq!(live.db_parameter_groups()[0].db_parameter_group_name(), Some(group.as_str()));
    assert_eq!(parameters(&group).await, vec![("log_min_duration_statement".into(), "500".into())]);
    stack.run_env(&["plan", "{spec}", "--detailed-exitcode"], &env).expect_code(0);

    // In place: class, storage, tags, parameters.
    let edited = LIFECYCLE
        .replace("db_instance_class: db.t3.micro", "db_instance_class: db.t3.small")
        .replace("allocated_storage: 20", "allocated_storage: 30\n    tags: { Team: data }")
        .replace(
            "log_min_duration_statement: \"500\"",
            "log_min_duration_statement: \"250\"\n      work_mem: \"8192\"\n      shared_buffers: \"16384\"",
        );
    // Not the subnet group's description: moto 5.2.5's ModifyDBSubnetGroup loses the
    // group (it takes it out of its table and never puts it back).
    stack.write_spec(&edited);
    let plan = stack.run_env(&["plan", "{spec}", "--detailed-exitcode"], &env).expect_code(2);
    printed += &all_of(&plan);
    assert!(plan.stdout.contains("~ db_instance.main"), "{}", plan.stdout);
    assert!(plan.stdout.contains("applies in the next maintenance window"), "{}", plan.stdout);
    assert!(
        plan.stdout.contains("static parameters take effect only after a reboot of db_instance.main"),
        "{}",
        plan.stdout
    );
    assert!(plan.stdout.contains("Plan: 0 to add, 2 to change, 0 to replace, 0 to destroy."), "{}", plan.stdout);
    assert!(!plan.stdout.contains("DATA LOSS"), "{}", plan.stdout);
    printed += &all_of(&stack.run_env(&["apply", "{spec}", "--auto-approve"], &env).expect_code(0));
    let live = db(&id).await;
    assert_eq!((live.db_instance_class(), live.allocated_storage()), (Some("db.t3.small"), Some(30)));
    assert!(live.tag_list().iter().any(|t| t.key() == Some("Team") && t.value() == Some("data")));
    assert_eq!(
        parameters(&group).await,
        vec![
            ("log_min_duration_statement".into(), "250".into()),
            ("shared_buffers".into(), "16384".into()),
            ("work_mem".into(), "8192".into())
        ]
    );
    // The static one was refused `immediate` (as AWS does, see the emulator's shim) and
    // set for the next reboot; the dynamic ones at once.
    let methods = aws.rds().describe_db_parameters().db_parameter_group_name(&group).send().await.unwrap();
    let method = |name: &str| {
        let p = methods.parameters().iter().find(|p| p.parameter_name() == Some(name)).unwrap();
        p.apply_method().map(|m| m.as_str().to_string())
    };
    assert_eq!(method("shared_buffers").as_deref(), Some("pending-reboot"));
    assert_eq!(method("work_mem").as_deref(), Some("immediate"));
    assert_eq!(stack.id("db_instance.main"), id);
    stack.run_env(&["plan", "{spec}", "--detailed-exitcode"], &env).expect_code(0);

    // A new password is a change, shown without its value.
    let pw2 = format!("second-{}-pw", stack.name);
    let env2 = [("TRELLIS_DB_PW", pw2.as_str())];
    let rotate = stack.run_env(&["plan", "{spec}", "--detailed-exitcode"], &env2).expect_code(2);
    printed += &all_of(&rotate);
    assert!(rotate.stdout.contains("master_user_password = (sensitive, changed)"), "{}", rotate.stdout);
    printed += &all_of(&stack.run_env(&["apply", "{spec}", "--auto-approve"], &env2).expect_code(0));
    stack.run_env(&["plan", "{spec}", "--detailed-exitcode"], &env2).expect_code(0);
    let state = std::fs::read_to_string(stack.state_path()).unwrap();
    assert_clean(&pw1, "the state", &state);
    assert_clean(&pw2, "the state", &state);

    // A subnet group: a tag added outside trellis is drift, taken back; a new name
    // replaces the group, the new one first.
    let spare = stack.id("db_subnet_group.spare");
    let arn = stack.state().get(&"db_subnet_group.spare".parse().unwrap()).unwrap().attributes["arn"].clone();
    let tag = trellis_aws::sdk::rds::types::Tag::builder().key("Owner").value("someone").build();
    aws.rds().add_tags_to_resource().resource_name(arn.as_str().unwrap()).tags(tag).send().await.unwrap();
    let drift = stack.run_env(&["plan", "{spec}", "--detailed-exitcode"], &env2).expect_code(2);
    assert!(drift.stdout.contains("# db_subnet_group.spare has changed"), "{}", drift.stdout);
    assert!(drift.stdout.contains("~ db_subnet_group.spare"), "{}", drift.stdout);
    stack.run_env(&["apply", "{spec}", "--auto-approve"], &env2).expect_code(0);
    let tags = aws.rds().list_tags_for_resource().resource_name(arn.as_str().unwrap()).send().await.unwrap();
    assert!(!tags.tag_list().iter().any(|t| t.key() == Some("Owner")), "the stray tag is removed");
    // In place: its tags (its description and subnets go through ModifyDBSubnetGroup,
    // which moto 5.2.5 breaks; see docs/known-limits.md).
    let tagged = edited.replace("  db_subnet_group.spare:\n", "  db_subnet_group.spare:\n    tags: { Tier: data }\n");
    stack.write_spec(&tagged);
    let plan = stack.run_env(&["plan", "{spec}"], &env2).expect_code(0);
    assert!(plan.stdout.contains("~ db_subnet_group.spare"), "{}", plan.stdout);
    stack.run_env(&["apply", "{spec}", "--auto-approve"], &env2).expect_code(0);
    assert_eq!(stack.id("db_subnet_group.spare"), spare, "updated in place");
    let tags = aws.rds().list_tags_for_resource().resource_name(arn.as_str().unwrap()).send().await.unwrap();
    assert!(tags.tag_list().iter().any(|t| t.key() == Some("Tier") && t.value() == Some("data")));
    stack.run_env(&["plan", "{spec}", "--detailed-exitcode"], &env2).expect_code(0);
    let named = edited.replace(
        "  db_subnet_group.spare:\n",
        &format!("  db_subnet_group.spare:\n    db_subnet_group_name: {}-spare-two\n", stack.name),
    );
    stack.write_spec(&named);
    let plan = stack.run_env(&["plan", "{spec}"], &env2).expect_code(0);
    assert!(plan.stdout.contains("+/- db_subnet_group.spare"), "{}", plan.stdout);
    stack.run_env(&["apply", "{spec}", "--auto-approve"], &env2).expect_code(0);
    assert_eq!(stack.id("db_subnet_group.spare"), format!("{}-spare-two", stack.name));
    let old = aws.rds().describe_db_subnet_groups().db_subnet_group_name(&spare).send().await;
    assert!(old.is_err(), "the old subnet group is gone");
    stack.write_spec(&edited);
    stack.run_env(&["apply", "{spec}", "--auto-approve"], &env2).expect_code(0);

    // Drift: the class and a parameter changed outside trellis are shown and put back.
    aws.rds()
        .modify_db_instance()
        .db_instance_identifier(&id)
        .db_instance_class("db.t3.medium")
        .apply_immediately(true)
        .send()
        .await
        .unwrap();
    let p = trellis_aws::sdk::rds::types::Parameter::builder()
        .parameter_name("work_mem")
        .parameter_value("1024")
        .apply_method(trellis_aws::sdk::rds::types::ApplyMethod::Immediate)
        .build();
    aws.rds().modify_db_parameter_group().db_parameter_group_name(&group).parameters(p).send().await.unwrap();
    let drift = stack.run_env(&["plan", "{spec}", "--detailed-exitcode"], &env2).expect_code(2);
    assert!(drift.stdout.contains("# db_instance.main has changed"), "{}", drift.stdout);
    assert!(drift.stdout.contains("# db_parameter_group.tuned has changed"), "{}", drift.stdout);
    assert!(drift.stdout.contains("\"db.t3.medium\" -> \"db.t3.small\""), "{}", drift.stdout);
    stack.run_env(&["apply", "{spec}", "--auto-approve"], &env2).expect_code(0);
    assert_eq!(db(&id).await.db_instance_class(), Some("db.t3.small"));
    assert!(parameters(&group).await.contains(&("work_mem".into(), "8192".into())));

    // A parameter group that must be replaced is made first; the database moves to it.
    let regrouped = edited.replace(
        "    db_parameter_group_family: postgres16",
        "    db_parameter_group_family: postgres16\n    description: tuned v2",
    );
    stack.write_spec(&regrouped);
    let plan = stack.run_env(&["plan", "{spec}"], &env2).expect_code(0);
    assert!(plan.stdout.contains("+/- db_parameter_group.tuned"), "{}", plan.stdout);
    assert!(!plan.stdout.contains("DATA LOSS"), "{}", plan.stdout);
    stack.run_env(&["apply", "{spec}", "--auto-approve"], &env2).expect_code(0);
    let new_group = stack.id("db_parameter_group.tuned");
    assert_ne!(new_group, group);
    assert_eq!(db(&id).await.db_parameter_groups()[0].db_parameter_group_name(), Some(new_group.as_str()));
    let old = aws.rds().describe_db_parameter_groups().db_parameter_group_name(&group).send().await;
    assert!(old.map(|o| o.db_parameter_groups().is_empty()).unwrap_or(true), "the old group is gone");

    // A replacement asked for with --replace follows the same rules: loud, and refused
    // without consent.
    let asked = ["plan", "{spec}", "--replace", "db_instance.main", "--detailed-exitcode"];
    let asked = stack.run_env(&asked, &env2).expect_code(2);
    printed += &all_of(&asked);
    assert!(
        asked.stdout.contains("db_instance.main: replaced (as asked with --replace): a new, empty database"),
        "{}",
        asked.stdout
    );
    let refused = stack.run_env(&["apply", "{spec}", "--replace", "db_instance.main", "--auto-approve"], &env2);
    printed += &all_of(&refused);
    assert_eq!(refused.code, 1, "{}", refused.stdout);
    assert!(
        refused.stderr.contains("refusing to apply: it would destroy the data of db_instance.main"),
        "{}",
        refused.stderr
    );
    assert!(db_exists(&id).await);
    assert_eq!(stack.id("db_instance.main"), id);

    // A forced replacement of the database: planned loudly, refused without consent...
    let renamed = regrouped.replace("db_name: app", "db_name: app2");
    stack.write_spec(&renamed);
    let plan = stack.run_env(&["plan", "{spec}", "--detailed-exitcode"], &env2).expect_code(2);
    printed += &all_of(&plan);
    assert!(plan.stdout.contains("!! DATA LOSS"), "{}", plan.stdout);
    assert!(plan.stdout.contains("db_instance.main: replaced (`db_name` cannot change in place)"), "{}", plan.stdout);
    let snapshot = final_snapshot(&plan.stdout, "db_instance.main");
    let refused = stack.run_env(&["apply", "{spec}", "--auto-approve"], &env2);
    printed += &all_of(&refused);
    assert_ne!(refused.code, 0, "{}", refused.stdout);
    assert!(refused.stderr.contains("refusing to apply"), "{}", refused.stderr);
    assert!(db_exists(&id).await);
    assert_eq!(stack.id("db_instance.main"), id);
    // ...and done with it: the new database first, then the old one, after its snapshot.
    printed +=
        &all_of(&stack.run_env(&["apply", "{spec}", "--auto-approve", "--allow-data-loss"], &env2).expect_code(0));
    let new_id = stack.id("db_instance.main");
    assert_ne!(new_id, id);
    assert_eq!(db(&new_id).await.db_name(), Some("app2"));
    assert!(!db_exists(&id).await, "the old database is deleted");
    assert_eq!(stack.snapshots_of(&id).await, vec![snapshot]);
    stack.run_env(&["plan", "{spec}", "--detailed-exitcode"], &env2).expect_code(0);

    // Unprotected and without a final snapshot, removal from the spec needs no flag.
    let unprotected =
        renamed.replace("    db_name: app2", "    db_name: app2\n    protect: false\n    skip_final_snapshot: true");
    stack.write_spec(&unprotected);
    let local = stack.run_env(&["apply", "{spec}", "--auto-approve"], &env2).expect_code(0);
    assert!(local.stdout.contains("~ protect"), "{}", local.stdout);
    let without = unprotected.split("  db_instance.main:").next().unwrap().to_string();
    stack.write_spec(&without);
    let removal = stack.run_env(&["apply", "{spec}", "--auto-approve"], &env2).expect_code(0);
    printed += &all_of(&removal);
    assert!(removal.stdout.contains("NO final snapshot"), "{}", removal.stdout);
    assert!(!db_exists(&new_id).await);
    assert!(stack.snapshots_of(&new_id).await.is_empty());

    stack.destroy_and_check_clean();
    assert!(tagged_all(&stack.name).await.is_empty(), "{:?}", tagged_all(&stack.name).await);
    for pw in [&pw1, &pw2] {
        assert_clean(pw, "the state", &std::fs::read_to_string(stack.state_path()).unwrap());
        assert_clean(pw, "the output", &printed);
    }
}

#[tokio::test]
async fn a_saved_plan_that_changes_a_database_applies() {
    // The plan compares the live database with trellis's own settings and the password
    // digest of the state: so must the check that the saved plan is still good.
    let stack = Stack::new("db-saved", LIFECYCLE);
    let pw = format!("saved-{}-pw", stack.name);
    let env = [("TRELLIS_DB_PW", pw.as_str())];
    stack.run_env(&["apply", "{spec}", "--auto-approve"], &env).expect_code(0);
    let id = stack.id("db_instance.main");
    stack.write_spec(&LIFECYCLE.replace("db_instance_class: db.t3.micro", "db_instance_class: db.t3.small"));
    let plan_file = stack.dir.path().join("change.plan");
    let plan_path = plan_file.to_str().unwrap();
    stack.run_env(&["plan", "{spec}", "--out", plan_path], &env).expect_code(0);
    let applied = stack.run_env(&["apply", plan_path, "--auto-approve"], &env);
    assert_eq!(applied.code, 0, "the saved plan must apply\n{}\n{}", applied.stdout, applied.stderr);
    assert_eq!(db(&id).await.db_instance_class(), Some("db.t3.small"));
    stack.run_env(&["plan", "{spec}", "--detailed-exitcode"], &env).expect_code(0);
    stack.run_env(&["destroy", "{spec}", "--auto-approve", "--allow-data-loss"], &env).expect_code(0);
}

const SETTINGS: &str = r#"stack: db-settings
resources:
  vpc.main:
    cidr_block: 10.21.0.0/16
  subnet.a:
    vpc_id: ${vpc.main}
    cidr_block: 10.21.1.0/24
    availability_zone: us-east-1a
  subnet.b:
    vpc_id: ${vpc.main}
    cidr_block: 10.21.2.0/24
    availability_zone: us-east-1b
  db_subnet_group.db:
    subnet_ids: ["${subnet.a}", "${subnet.b}"]
  db_instance.main:
    engine: postgres
    db_instance_class: db.t3.micro
    allocated_storage: 20
    max_allocated_storage: 100
    master_username: app_admin
    master_user_password: ${env.TRELLIS_DB_PW}
    db_subnet_group_name: ${db_subnet_group.db}
    storage_encrypted: true
    backup_retention_period: 7
    preferred_backup_window: "03:00-03:30"
    preferred_maintenance_window: "sun:05:00-sun:06:00"
    copy_tags_to_snapshot: true
    enable_cloudwatch_logs_exports: [postgresql]
    auto_minor_version_upgrade: false
    protect: false
    skip_final_snapshot: true
"#;

#[tokio::test]
async fn a_database_s_windows_logs_and_storage_autoscaling_are_set_read_and_changed() {
    let stack = Stack::new("db-settings", SETTINGS);
    let env = [("TRELLIS_DB_PW", "settings-pw-81")];
    stack.run_env(&["apply", "{spec}", "--auto-approve"], &env).expect_code(0);
    let live = db(&stack.id("db_instance.main")).await;
    assert_eq!(live.preferred_backup_window(), Some("03:00-03:30"));
    assert_eq!(live.preferred_maintenance_window(), Some("sun:05:00-sun:06:00"));
    assert_eq!(live.max_allocated_storage(), Some(100));
    assert_eq!(live.copy_tags_to_snapshot(), Some(true));
    assert_eq!(live.enabled_cloudwatch_logs_exports(), ["postgresql"]);
    assert_eq!(live.auto_minor_version_upgrade(), Some(false));
    stack.run_env(&["plan", "{spec}", "--detailed-exitcode"], &env).expect_code(0);

    // In place: new windows, one more log, a higher ceiling; the database stays.
    let id = stack.id("db_instance.main");
    let edited = SETTINGS
        .replace("03:00-03:30", "04:00-04:30")
        .replace("sun:05:00-sun:06:00", "sat:06:00-sat:07:00")
        .replace("[postgresql]", "[postgresql, upgrade]")
        .replace("max_allocated_storage: 100", "max_allocated_storage: 200");
    stack.write_spec(&edited);
    let plan = stack.run_env(&["plan", "{spec}", "--detailed-exitcode"], &env).expect_code(2);
    assert!(plan.stdout.contains("~ db_instance.main"), "{}", plan.stdout);
    assert!(!plan.stdout.contains("DATA LOSS"), "{}", plan.stdout);
    stack.run_env(&["apply", "{spec}", "--auto-approve"], &env).expect_code(0);
    assert_eq!(stack.id("db_instance.main"), id);
    let live = db(&id).await;
    assert_eq!(live.preferred_backup_window(), Some("04:00-04:30"));
    assert_eq!(live.preferred_maintenance_window(), Some("sat:06:00-sat:07:00"));
    assert_eq!(live.max_allocated_storage(), Some(200));
    let mut logs = live.enabled_cloudwatch_logs_exports().to_vec();
    logs.sort();
    assert_eq!(logs, ["postgresql", "upgrade"]);
    stack.run_env(&["plan", "{spec}", "--detailed-exitcode"], &env).expect_code(0);

    stack.run_env(&["destroy", "{spec}", "--auto-approve"], &env).expect_code(0);
    assert!(!db_exists(&id).await);
    let left = tagged_all(&stack.name).await;
    assert!(left.is_empty(), "{left:?}");
}

/// The settings of the registry's RDS complete-mysql example that were missing: the
/// password kept by Secrets Manager (none in trellis's environment), Performance
/// Insights, the certificate authority.
const MANAGED: &str = r#"stack: db-managed
resources:
  vpc.main:
    cidr_block: 10.22.0.0/16
  subnet.a:
    vpc_id: ${vpc.main}
    cidr_block: 10.22.1.0/24
    availability_zone: us-east-1a
  subnet.b:
    vpc_id: ${vpc.main}
    cidr_block: 10.22.2.0/24
    availability_zone: us-east-1b
  db_subnet_group.db:
    subnet_ids: ["${subnet.a}", "${subnet.b}"]
  db_option_group.audit:
    engine_name: mysql
    major_engine_version: "8.0"
    options:
      - option_name: MARIADB_AUDIT_PLUGIN
        option_settings: { SERVER_AUDIT_EVENTS: CONNECT }
  db_instance.main:
    engine: mysql
    db_instance_class: db.t3.micro
    allocated_storage: 20
    master_username: admin
    option_group_name: ${db_option_group.audit}
    manage_master_user_password: true
    db_subnet_group_name: ${db_subnet_group.db}
    storage_encrypted: true
    enable_performance_insights: true
    performance_insights_retention_period: 7
    ca_certificate_identifier: rds-ca-rsa2048-g1
    apply_immediately: true
    protect: false
    skip_final_snapshot: true
"#;

#[tokio::test]
async fn secrets_manager_keeps_the_password_and_insights_and_the_ca_change_in_place() {
    let stack = Stack::new("db-managed", MANAGED);
    // No password in the environment: none is needed.
    stack.run(&["apply", "{spec}", "--auto-approve"]).expect_code(0);
    let id = stack.id("db_instance.main");
    let live = db(&id).await;
    let secret = live.master_user_secret().and_then(|s| s.secret_arn()).unwrap().to_string();
    assert!(secret.starts_with("arn:aws:secretsmanager:"), "{secret}");
    assert_eq!(live.performance_insights_enabled(), Some(true));
    assert_eq!(live.performance_insights_retention_period(), Some(7));
    assert_eq!(live.ca_certificate_identifier(), Some("rds-ca-rsa2048-g1"));
    let group = stack.id("db_option_group.audit");
    assert_eq!(live.option_group_memberships()[0].option_group_name(), Some(group.as_str()));
    let options = |group: String| async move {
        let out = aws().await.rds().describe_option_groups().option_group_name(group).send().await.unwrap();
        let o = &out.option_groups_list()[0].options()[0];
        (o.option_name().unwrap().to_string(), o.option_settings()[0].value().unwrap().to_string())
    };
    assert_eq!(options(group.clone()).await, ("MARIADB_AUDIT_PLUGIN".to_string(), "CONNECT".to_string()));
    let state = stack.state();
    let recorded = &state.resources.iter().find(|r| r.address.to_string() == "db_instance.main").unwrap().attributes;
    assert_eq!(
        recorded["master_user_secret_arn"].as_str(),
        Some(secret.as_str()),
        "the application reads the secret's ARN"
    );
    stack.run(&["plan", "{spec}", "--detailed-exitcode"]).expect_code(0);

    let edited = MANAGED
        .replace("enable_performance_insights: true", "enable_performance_insights: false")
        .replace("    performance_insights_retention_period: 7\n", "")
        .replace("rds-ca-rsa2048-g1", "rds-ca-ecc384-g1")
        .replace("SERVER_AUDIT_EVENTS: CONNECT }", "SERVER_AUDIT_EVENTS: \"CONNECT,QUERY\" }");
    stack.write_spec(&edited);
    let plan = stack.run(&["plan", "{spec}", "--detailed-exitcode"]).expect_code(2);
    assert!(plan.stdout.contains("~ db_instance.main"), "{}", plan.stdout);
    assert!(
        plan.stdout.contains("restarts to take its new certificate"),
        "the plan says what the change interrupts:\n{}",
        plan.stdout
    );
    stack.run(&["apply", "{spec}", "--auto-approve"]).expect_code(0);
    assert_eq!(stack.id("db_instance.main"), id, "changed in place");
    let live = db(&id).await;
    assert_eq!(live.performance_insights_enabled(), Some(false));
    assert_eq!(live.ca_certificate_identifier(), Some("rds-ca-ecc384-g1"));
    assert_eq!(options(group.clone()).await.1, "CONNECT,QUERY", "the option group's settings change in place");
    stack.run(&["plan", "{spec}", "--detailed-exitcode"]).expect_code(0);

    stack.run(&["destroy", "{spec}", "--auto-approve"]).expect_code(0);
    assert!(!db_exists(&id).await);
}

const REPLICATED: &str = r#"stack: db-promote
resources:
  vpc.main:
    cidr_block: 10.23.0.0/16
  subnet.a:
    vpc_id: ${vpc.main}
    cidr_block: 10.23.1.0/24
    availability_zone: us-east-1a
  subnet.b:
    vpc_id: ${vpc.main}
    cidr_block: 10.23.2.0/24
    availability_zone: us-east-1b
  db_subnet_group.db:
    subnet_ids: ["${subnet.a}", "${subnet.b}"]
  db_instance.main:
    engine: mysql
    db_instance_class: db.t3.micro
    allocated_storage: 20
    master_username: admin
    master_user_password: ${env.TRELLIS_DB_PW}
    db_subnet_group_name: ${db_subnet_group.db}
    backup_retention_period: 7
    skip_final_snapshot: true
  db_instance.reports:
    source_db_instance_identifier: ${db_instance.main}
    db_instance_class: db.t3.micro
"#;

#[tokio::test]
async fn a_replica_whose_source_is_dropped_is_promoted_in_place_with_its_data() {
    let stack = Stack::new("db-promote", REPLICATED);
    let env = [("TRELLIS_DB_PW", "promote-pw-81")];
    stack.run_env(&["apply", "{spec}", "--auto-approve"], &env).expect_code(0);
    let id = stack.id("db_instance.reports");
    assert_eq!(db(&id).await.read_replica_source_db_instance_identifier(), Some(stack.id("db_instance.main").as_str()));

    // The replica becomes a database of its own: what a primary says it must have.
    let promoted = REPLICATED.replace(
        "    source_db_instance_identifier: ${db_instance.main}\n    db_instance_class: db.t3.micro\n",
        "    engine: mysql\n    db_instance_class: db.t3.micro\n    allocated_storage: 20\n    master_username: admin\n    master_user_password: ${env.TRELLIS_DB_PW}\n    backup_retention_period: 7\n",
    );
    stack.write_spec(&promoted);
    let plan = stack.run_env(&["plan", "{spec}", "--detailed-exitcode"], &env).expect_code(2);
    assert!(plan.stdout.contains("db_instance.reports will be updated in place"), "{}", plan.stdout);
    assert!(plan.stdout.contains("promoted to a database of its own"), "{}", plan.stdout);
    assert!(plan.stdout.contains("0 to replace") && !plan.stdout.contains("DATA LOSS"), "{}", plan.stdout);
    stack.run_env(&["apply", "{spec}", "--auto-approve"], &env).expect_code(0);
    assert_eq!(stack.id("db_instance.reports"), id, "the same database, under the same address");
    let live = db(&id).await;
    assert_eq!(live.read_replica_source_db_instance_identifier(), None);
    assert_eq!(live.backup_retention_period(), Some(7));
    let primary = db(&stack.id("db_instance.main")).await;
    assert!(
        primary.read_replica_db_instance_identifiers().is_empty(),
        "{:?}",
        primary.read_replica_db_instance_identifiers()
    );
    stack.run_env(&["plan", "{spec}", "--detailed-exitcode"], &env).expect_code(0);

    stack.run_env(&["destroy", "{spec}", "--auto-approve", "--allow-data-loss"], &env).expect_code(0);
    assert!(!db_exists(&id).await);
}
