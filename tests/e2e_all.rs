//! End to end against the moto emulator: `plan --all` and `apply --all` over a
//! directory holding a network stack and an app stack that reads its outputs. The app
//! is not run while the network fails; before the network applies, the app is planned
//! with its outputs unknown; then both apply in order (the app in the network's VPC),
//! and both plan empty.

mod support;

use support::{aws, Stack};

const NETWORK: &str = r#"stack: network
resources:
  vpc.main:
    cidr_block: 10.40.0.0/16
  subnet.a:
    vpc_id: ${vpc.main}
    cidr_block: 10.41.1.0/24
    availability_zone: us-east-1a
outputs:
  vpc_id: ${vpc.main}
  subnet_id: ${subnet.a}
"#;

const APP: &str = r#"stack: app
resources:
  security_group.app:
    vpc_id: ${stack.network.output.vpc_id}
    description: the app
outputs:
  group: ${security_group.app}
"#;

#[tokio::test]
async fn apply_all_runs_stacks_in_order_and_not_after_a_failure() {
    // The network's subnet lies outside its VPC: AWS refuses it.
    let network = Stack::new("all-network", NETWORK);
    let app = network.beside("all-app", "network", APP);
    let dir = network.spec.parent().unwrap().to_string_lossy().to_string();

    let failed = network.run(&["apply", "--all", &dir, "--auto-approve"]);
    assert_eq!(failed.code, 1, "{}\n{}", failed.stdout, failed.stderr);
    let order = format!("in order: {} → {}", network.name, app.name);
    assert!(failed.stdout.contains(&order), "{}", failed.stdout);
    assert!(
        failed.stdout.contains(&format!("{} reads the outputs of {}", app.name, network.name)),
        "{}",
        failed.stdout
    );
    assert!(failed.stdout.contains(&format!("━━ stack {} (", network.name)), "{}", failed.stdout);
    assert!(!failed.stdout.contains(&format!("━━ stack {} (", app.name)), "the app is not run: {}", failed.stdout);
    let summary = failed.stdout.split("Summary of apply --all:").nth(1).unwrap().to_string();
    assert!(summary.contains("FAILED"), "{summary}");
    assert!(summary.contains(&format!("not run  it reads `{}`, which did not apply", network.name)), "{summary}");
    assert!(!app.state_path().exists(), "nothing of the app was applied");

    // Mended, both apply: the network first, the app in its VPC.
    network.write_spec(&NETWORK.replace("10.41.1.0/24", "10.40.1.0/24"));
    // Before it applies, the app is planned with the network's outputs unknown.
    let first = network.run(&["plan", "--all", &dir, "--detailed-exitcode"]);
    assert_eq!(first.code, 2, "{}\n{}", first.stdout, first.stderr);
    assert!(
        first.stdout.contains(&format!("(the outputs of {} are read as known after apply", network.name)),
        "{}",
        first.stdout
    );
    let summary = first.stdout.split("Summary of plan --all:").nth(1).unwrap().to_string();
    assert_eq!(summary.matches("changes  Plan: ").count(), 2, "{summary}");
    let applied = network.run(&["apply", "--all", &dir, "--auto-approve"]);
    assert_eq!(applied.code, 0, "{}\n{}", applied.stdout, applied.stderr);
    let net_at = applied.stdout.find(&format!("━━ stack {} (", network.name)).unwrap();
    let app_at = applied.stdout.find(&format!("━━ stack {} (", app.name)).unwrap();
    assert!(net_at < app_at, "{}", applied.stdout);
    let vpc = network.id("vpc.main");
    let group = app.id("security_group.app");
    let out = aws().await.ec2().describe_security_groups().group_ids(&group).send().await.unwrap();
    assert_eq!(out.security_groups()[0].vpc_id(), Some(vpc.as_str()));

    // Both plan empty, and say so in one summary.
    let planned = network.run(&["plan", "--all", &dir, "--detailed-exitcode"]);
    assert_eq!(planned.code, 0, "{}\n{}", planned.stdout, planned.stderr);
    let summary = planned.stdout.split("Summary of plan --all:").nth(1).unwrap().to_string();
    assert_eq!(summary.matches("ok       No changes.").count(), 2, "{summary}");

    app.destroy_and_check_clean();
    network.destroy_and_check_clean();
}

#[test]
fn all_refuses_what_is_given_per_stack() {
    let network = Stack::new("all-flags", NETWORK);
    let dir = network.spec.parent().unwrap().to_string_lossy().to_string();
    let run = network.run(&["plan", "--all", &dir, "--target", "vpc.main"]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("--target"), "{}", run.stderr);
    let run = network.run(&["apply", "--all", &dir, "--state", "x.json", "--auto-approve"]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("--state"), "{}", run.stderr);
}
