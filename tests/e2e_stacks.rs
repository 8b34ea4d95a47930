//! End to end on moto: stacks that build on each other. The seed-004 pair (a database
//! stack and an app tier that reads its outputs from its local state file), a network
//! stack whose state is in S3 read through `stacks:`, a changed output there shown as a
//! change here, and a stack that reads one never applied.

mod support;

use support::{aws, endpoint, tagged_all, Stack, APP_TIER, NETWORK, SHARED_DB};
use trellis_aws::{S3Options, S3Store};
use trellis_state::StateStore;

#[tokio::test]
async fn the_app_tier_reads_the_database_stack_and_never_touches_it() {
    let env = [("APP_DB_PASSWORD", "shared-db-test-pw-1")];
    let db = Stack::new("shared-db", SHARED_DB);
    let app = db.beside("app-tier", "shared-db", APP_TIER);

    // Before the database stack exists, the app tier's plan says what to do.
    let early = app.run(&["plan", "{spec}"]).expect_code(1);
    assert!(
        early.stderr.contains(&format!("`stack.{}` has no state at state/{}.json", db.name, db.name)),
        "{}",
        early.stderr
    );
    assert!(early.stderr.contains(&format!("apply the `{}` stack first", db.name)), "{}", early.stderr);
    let valid = app.run(&["validate", "{spec}"]).expect_code(0);
    assert!(
        valid.stdout.contains(&format!("outputs of 1 other stack ({}; read when planning)", db.name)),
        "{}",
        valid.stdout
    );

    db.run_env(&["apply", "{spec}", "--auto-approve"], &env).expect_code(0);
    let db_id = db.id("db_instance.shared");
    let db_state = db.state();
    let plan = app.run(&["plan", "{spec}"]).expect_code(0);
    let read = format!(
        "<= stack.{} (state/{}.json, lineage {}, serial {})",
        db.name, db.name, db_state.lineage, db_state.serial
    );
    assert!(plan.stdout.contains(&read), "{}", plan.stdout);
    assert!(plan.stdout.contains("Plan: 6 to add, 0 to change, 0 to replace, 0 to destroy."), "{}", plan.stdout);
    app.apply();
    app.plan().expect_code(0);
    db.run_env(&["plan", "{spec}", "--detailed-exitcode"], &env).expect_code(0);

    // What the app made is in the database stack's network, with its groups.
    let vpc = db.id("vpc.main");
    let tg = app.id("target_group.app");
    let out = aws().await.elb().describe_target_groups().target_group_arns(&tg).send().await.unwrap();
    assert_eq!(out.target_groups()[0].vpc_id(), Some(vpc.as_str()));
    let json = app.run(&["plan", "{spec}", "--json"]).expect_code(0);
    let json: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(json["stacks"][0]["stack"], db.name.as_str());
    assert_eq!(json["stacks"][0]["outputs"]["vpc_id"], vpc.as_str());

    // The app tier grows: only its group changes, and the database stack stays as it was.
    app.write_spec(
        &APP_TIER.replace("stack.shared-db.", &format!("stack.{}.", db.name)).replace("max_size: 6", "max_size: 8"),
    );
    let grown = app.plan().expect_code(2);
    assert!(grown.stdout.contains("Plan: 0 to add, 1 to change, 0 to replace, 0 to destroy."), "{}", grown.stdout);
    app.apply();
    assert_eq!(db.state().serial, db_state.serial, "the database stack's state was not written");

    // The database stack hands the app tier another group: its own plan changes only an
    // output, and the app tier's next plan shows what that changes there.
    db.write_spec(
        &SHARED_DB.replace("app_security_group: ${security_group.app}", "app_security_group: ${security_group.lb}"),
    );
    db.run_env(&["apply", "{spec}", "--auto-approve"], &env).expect_code(0);
    assert_eq!(db.id("db_instance.shared"), db_id);
    let moved = app.plan().expect_code(2);
    assert!(moved.stdout.contains("~ launch_template.app"), "{}", moved.stdout);
    assert!(moved.stdout.contains(&format!("serial {}", db.state().serial)), "{}", moved.stdout);
    assert!(moved.stdout.contains(&db.id("security_group.lb")), "{}", moved.stdout);
    app.apply();

    // The app tier goes without the database stack; then the database stack.
    app.run(&["destroy", "{spec}", "--auto-approve"]).expect_code(0);
    assert!(tagged_all(&app.name).await.is_empty(), "{:?}", tagged_all(&app.name).await);
    assert_eq!(db.id("db_instance.shared"), db_id);
    db.run_env(&["destroy", "{spec}", "--auto-approve", "--allow-data-loss"], &env).expect_code(0);
    assert!(tagged_all(&db.name).await.is_empty(), "{:?}", tagged_all(&db.name).await);
}

const APP_ON_NETWORK: &str = r#"stack: web-on-net
stacks:
  net:
    backend:
      s3: { bucket: BUCKET, key: teams/net.json }
resources:
  security_group.web:
    vpc_id: ${stack.net.output.vpc_id}
    description: web
  load_balancer.web:
    subnets: ${stack.net.output.public_subnets}
    security_groups: ["${security_group.web}"]
outputs:
  dns: ${load_balancer.web.dns_name}
"#;

#[tokio::test]
async fn a_stack_whose_state_is_in_s3_is_read_through_stacks() {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    let bucket = format!("trellis-stacks-{:x}", nanos % 0xffff_ffff);
    let store = S3Store::connect(S3Options {
        bucket: bucket.clone(),
        key: "teams/net.json".into(),
        region: Some("us-east-1".into()),
        endpoint_url: Some(endpoint()),
        lock_lease: None,
        rescue_dir: None,
    })
    .unwrap();
    store.client().create_bucket().bucket(&bucket).send().await.unwrap();

    let net =
        Stack::new("net-s3", &format!("backend:\n  s3:\n    bucket: {bucket}\n    key: teams/net.json\n{NETWORK}"));
    let app = Stack::new(
        "web-on-net",
        &APP_ON_NETWORK
            .replace("BUCKET", &bucket)
            .replace("stack.net.", &format!("stack.{}.", net.name))
            .replace("  net:\n", &format!("  {}:\n", net.name)),
    );

    let early = app.run(&["plan", "{spec}"]).expect_code(1);
    assert!(early.stderr.contains(&format!("has no state at s3://{bucket}/teams/net.json")), "{}", early.stderr);

    net.apply();
    let plan = app.plan().expect_code(2);
    assert!(
        plan.stdout.contains(&format!("<= stack.{} (s3://{bucket}/teams/net.json, lineage ", net.name)),
        "{}",
        plan.stdout
    );
    app.apply();
    app.plan().expect_code(0);
    let lb = app.id("load_balancer.web");
    let out = aws().await.elb().describe_load_balancers().load_balancer_arns(&lb).send().await.unwrap();
    let mut subnets: Vec<String> =
        out.load_balancers()[0].availability_zones().iter().filter_map(|z| z.subnet_id().map(str::to_string)).collect();
    subnets.sort();
    let stored = store.read(&net.name).unwrap().expect("the network's state in the bucket");
    let id = |a: &str| stored.get(&a.parse().unwrap()).unwrap().id.clone();
    let mut want = vec![id("subnet.public_a"), id("subnet.public_b")];
    want.sort();
    assert_eq!(subnets, want);

    app.destroy_and_check_clean();
    net.run(&["destroy", "{spec}", "--auto-approve"]).expect_code(0);
    assert!(tagged_all(&net.name).await.is_empty());
    assert!(tagged_all(&app.name).await.is_empty());
}
