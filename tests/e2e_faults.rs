//! Every example stack through the fault layer (`crates/xtask/faults.py`, the mixed
//! profile: about one call in ten throttled, failed with a 5xx before or after it ran,
//! reset after it ran, or answered with a cut or garbled reply, and new EC2 ids invisible
//! to other calls for 1.5 s). Each converges in ONE apply, plans empty, has exactly one
//! tagged object per address, and destroys to nothing tagged in ONE destroy.

mod support;

use std::collections::BTreeMap;

use support::{
    endpoint, tagged_all, FaultLayer, Run, Stack, APP_TIER, FIXED_SERVERS, NETWORK, POSTGRES_REPLICAS, RECEIVERS,
    RECEIVER_BOOT, SERVERS_PUB, SHARED_DB, WEB_ASG, WEB_BOOT, WEB_MYSQL,
};

/// One apply, one empty plan, one object per address, one destroy.
async fn converges(test: &str, spec: &str, env: &[(&str, &str)], files: &[(&str, &str)]) -> Run {
    let stack = Stack::new(test, spec).through_faults();
    for (path, text) in files {
        stack.write_file(path, text);
    }
    let apply = converge(&stack, env).await;
    destroy_clean(&stack, env).await;
    apply
}

/// One apply, one empty plan, one object per address; the apply's run.
async fn converge(stack: &Stack, env: &[(&str, &str)]) -> Run {
    let apply = stack.run_env(&["apply", "{spec}", "--auto-approve"], env);
    assert_eq!(apply.code, 0, "one apply under faults must converge\n{}\n{}", apply.stdout, apply.stderr);
    assert!(apply.stdout.contains("Apply complete!"), "{}", apply.stdout);

    let plan = stack.run_env(&["plan", "{spec}", "--detailed-exitcode"], env);
    assert_eq!(plan.code, 0, "the plan after it must be empty\n{}\n{}", plan.stdout, plan.stderr);

    // Exactly one tagged object per address, and each of them is the one in the state.
    let state = stack.state();
    // Instances an auto scaling group launched carry its tags: they are the group's.
    let mut tagged = tagged_all(&stack.name).await;
    // Scaling policies carry no tags at all: they are listed by their group's name.
    tagged.retain(|id, address| {
        !(id.starts_with("i-") && address.starts_with("autoscaling_group.")) && !id.starts_with("scaling_policy:")
    });
    let mut per_address: BTreeMap<&str, usize> = BTreeMap::new();
    for address in tagged.values() {
        *per_address.entry(address.as_str()).or_default() += 1;
    }
    let twice: Vec<_> = per_address.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "objects made twice: {twice:?}\n{}", apply.stderr);
    for address in tagged.values() {
        assert!(
            state.resources.iter().any(|r| r.address.tag_value() == *address),
            "{address} is tagged but not in the state"
        );
    }
    for r in &state.resources {
        let untagged = ["listener", "scaling_policy", "target_group_attachment"].contains(&r.address.kind.name);
        assert!(
            untagged || per_address.contains_key(r.address.tag_value().as_str()),
            "{} is in the state but no tagged object",
            r.address
        );
    }
    apply
}

/// One destroy, and nothing tagged left.
async fn destroy_clean(stack: &Stack, env: &[(&str, &str)]) {
    let destroy = stack.run_env(&["destroy", "{spec}", "--auto-approve", "--allow-data-loss"], env);
    assert_eq!(destroy.code, 0, "one destroy under faults must finish\n{}\n{}", destroy.stdout, destroy.stderr);
    let left = tagged_all(&stack.name).await;
    assert!(left.is_empty(), "left behind after destroy: {left:?}");
    assert!(stack.state().resources.is_empty());
}

#[tokio::test]
async fn network_converges_through_faults() {
    converges("faults-network", NETWORK, &[], &[]).await;
}

#[tokio::test]
async fn web_asg_converges_through_faults() {
    converges("faults-web-asg", WEB_ASG, &[], &[("files/web-boot.sh", WEB_BOOT)]).await;
}

#[tokio::test]
async fn fixed_servers_converge_through_faults() {
    converges("faults-fixed", FIXED_SERVERS, &[], &[("files/receiver-boot.sh", RECEIVER_BOOT)]).await;
}

#[tokio::test]
async fn receivers_with_their_role_and_key_converge_through_faults() {
    // IAM's lag too: a new role or profile is unknown to other calls for 1.5 s, and EC2
    // refuses to launch an instance with a new profile for 4.5 s (whether a launch comes
    // that soon depends on the run: `e2e_access` waits for EC2 for certain).
    let files = [("files/receiver-boot.sh", RECEIVER_BOOT), ("files/servers.pub", SERVERS_PUB)];
    converges("faults-receivers", RECEIVERS, &[], &files).await;
}

#[tokio::test]
async fn web_mysql_converges_through_faults() {
    // The example fixes its parameter group's name; each run gets its own.
    let group = format!("faults{}", std::process::id());
    let spec = WEB_MYSQL.replace("name: scalingdb", &format!("name: {group}"));
    converges("faults-mysql", &spec, &[("MYSQL_PASSWORD", "faults-mysql-pw-1")], &[]).await;
}

#[tokio::test]
async fn postgres_replicas_converge_through_faults() {
    converges("faults-pg", POSTGRES_REPLICAS, &[("PG_PASSWORD", "faults-pg-pw-1")], &[]).await;
}

#[tokio::test]
async fn shared_db_and_the_app_tier_on_it_converge_through_faults() {
    // Two stacks, the app tier reading the database stack's state beside it.
    let env = [("APP_DB_PASSWORD", "faults-shared-pw-1")];
    let db = Stack::new("faults-shared-db", SHARED_DB).through_faults();
    let app = db.beside("faults-app-tier", "shared-db", APP_TIER);
    converge(&db, &env).await;
    converge(&app, &env).await;
    destroy_clean(&app, &env).await;
    destroy_clean(&db, &env).await;
}

#[test]
fn the_fault_layer_injects_what_it_says() {
    // Through the layer with the mixed profile, a hundred reads meet faults of several
    // kinds: the tests above do not pass by running faultless.
    let stack = Stack::new("faults-probe", NETWORK).through_faults();
    let before = stats(&stack.endpoint);
    for _ in 0..10 {
        let plan = stack.run(&["plan", "{spec}", "--detailed-exitcode"]);
        assert_eq!(plan.code, 2, "{}", plan.stderr);
    }
    let after = stats(&stack.endpoint);
    let delta = |k: &str| after[k].as_u64().unwrap() - before[k].as_u64().unwrap();
    assert!(delta("requests") >= 60, "{after}");
    let faults: u64 =
        ["throttle", "error_before", "error_after", "reset_after", "garbled"].iter().map(|k| delta(k)).sum();
    assert!(faults >= 1, "no fault injected in {} requests: {after}", delta("requests"));
}

#[tokio::test]
async fn a_delete_aws_accepts_but_does_not_make_fails_the_destroy_and_keeps_the_record() {
    // The cloud answers DeleteSecurityGroup with success and keeps the group: trellis
    // reads a delete back as it does a create, so the group is not forgotten.
    let layer = FaultLayer::start(&["--profile", "none", "--swallow", "DeleteSecurityGroup"]);
    let spec = "stack: x
region: us-east-1
resources:
  vpc.main:
    cidr_block: 10.9.0.0/16
  security_group.web:
    vpc_id: ${vpc.main}
    description: kept by the cloud
";
    let mut stack = Stack::new("faults-undeleted", spec);
    stack.apply();
    let group = stack.id("security_group.web");
    let plain = stack.endpoint.clone();
    stack.endpoint = layer.url.clone();
    let run = stack.run(&["destroy", "{spec}", "--auto-approve"]).expect_code(1);
    let said = format!("{}{}", run.stdout, run.stderr);
    for needle in ["security_group.web", "DeleteNotDone", &format!("{group} is still there")] {
        assert!(said.contains(needle), "the failure must say {needle:?}\n{said}");
    }
    assert_eq!(stats(&layer.url)["swallowed"], 1, "{said}");
    // The group is still recorded, and the VPC it holds was not tried.
    let state = stack.state();
    assert_eq!(state.get(&"security_group.web".parse().unwrap()).map(|r| r.id.as_str()), Some(group.as_str()));
    assert!(state.get(&"vpc.main".parse().unwrap()).is_some(), "{said}");
    // Against a cloud that deletes, the next destroy finishes.
    stack.endpoint = plain;
    stack.destroy_and_check_clean();
    assert!(tagged_all(&stack.name).await.is_empty());
}

#[tokio::test]
async fn a_change_aws_accepts_but_does_not_make_fails_the_apply_and_the_next_apply_makes_it() {
    // The cloud answers ModifySubnetAttribute with success and does nothing: trellis's
    // read-back must catch it (Terraform's "inconsistent result after apply").
    let layer = FaultLayer::start(&["--profile", "none", "--swallow", "ModifySubnetAttribute"]);
    let spec = "stack: x
region: us-east-1
resources:
  vpc.main:
    cidr_block: 10.9.0.0/16
  subnet.public:
    vpc_id: ${vpc.main}
    cidr_block: 10.9.1.0/24
    availability_zone: us-east-1a
    map_public_ip_on_launch: true
";
    let mut stack = Stack::new("faults-inconsistent", spec);
    stack.endpoint = layer.url.clone();
    let run = stack.run(&["apply", "{spec}", "--auto-approve"]).expect_code(1);
    let said = format!("{}{}", run.stdout, run.stderr);
    for needle in ["subnet.public", "InconsistentResult", "`map_public_ip_on_launch`: planned true, actual false"] {
        assert!(said.contains(needle), "the failure must say {needle:?}\n{said}");
    }
    assert_eq!(stats(&layer.url)["swallowed"], 1, "{said}");

    // Nothing is lost: the subnet is recorded as it really is, once.
    let state = stack.state();
    let subnet = state.get(&"subnet.public".parse().unwrap()).expect("the subnet AWS made is in the state");
    assert_eq!(subnet.attributes.get("map_public_ip_on_launch"), Some(&trellis_core::Value::Bool(false)));
    let tagged = tagged_all(&stack.name).await;
    assert_eq!(tagged.len(), 2, "{tagged:?}");

    // Straight to the emulator, the next plan wants the change and the apply makes it.
    stack.endpoint = endpoint();
    let plan = stack.plan();
    assert_eq!(plan.code, 2, "{}\n{}", plan.stdout, plan.stderr);
    assert!(plan.stdout.contains("map_public_ip_on_launch"), "{}", plan.stdout);
    stack.apply();
    assert_eq!(stack.plan().code, 0);
    stack.destroy_and_check_clean();
}

fn stats(endpoint: &str) -> serde_json::Value {
    support::fault_stats(endpoint)
}

const SLOW: &str = r#"stack: slow
resources:
  vpc.main:
    cidr_block: 10.45.0.0/16
    enable_dns_hostnames: true
  subnet.a:
    vpc_id: ${vpc.main}
    cidr_block: 10.45.1.0/24
    availability_zone: us-east-1a
"#;

#[tokio::test]
async fn what_still_runs_is_reported_in_plain_lines_without_a_terminal_and_under_a_bar_on_one() {
    // Every call takes 0.5 s, as from a distant region: creating the VPC takes seconds.
    let layer = FaultLayer::start(&["--profile", "none", "--latency", "0.5"]);
    let mut stack = Stack::new("progress", SLOW);
    stack.endpoint = layer.url.clone();
    let every = [("TRELLIS_PROGRESS_INTERVAL", "1s")];
    let apply = stack.run_env(&["apply", "{spec}", "--auto-approve"], &every).expect_code(0);
    let still = apply.stdout.lines().find(|l| l.starts_with("vpc.main: Still creating... [")).unwrap_or_else(|| {
        panic!("no line for the VPC still being created:\n{}", apply.stdout);
    });
    assert!(still.ends_with("s elapsed]"), "{still}");
    assert!(apply.stdout.contains("vpc.main: Created after"), "{}", apply.stdout);
    // Without a terminal: lines only, no bar and no cursor movement.
    assert!(!apply.stdout.contains("operations done") && !apply.stdout.contains('\x1b'), "{:?}", apply.stdout);

    // On a terminal (a pseudo-terminal from `script`), the bar is drawn under the lines.
    let spec = stack.spec.to_string_lossy().to_string();
    let line = format!("{} destroy {spec} --auto-approve", env!("CARGO_BIN_EXE_trellis"));
    let tty = std::process::Command::new("script")
        .args(["-qec", &line, "/dev/null"])
        .current_dir(&stack.work)
        .env("AWS_ENDPOINT_URL", &stack.endpoint)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("TRELLIS_PROGRESS_INTERVAL", "1s")
        .env("NO_COLOR", "1")
        .env_remove("AWS_PROFILE")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let shown = String::from_utf8_lossy(&tty.stdout);
    assert!(tty.status.success(), "{shown}");
    assert!(shown.contains("operations done"), "no bar on a terminal:\n{shown}");
    assert!(shown.contains("vpc.main: Destroyed after") && shown.contains("Destroy complete!"), "{shown}");
    assert!(stack.state().resources.is_empty());
    assert!(tagged_all(&stack.name).await.is_empty());
}
