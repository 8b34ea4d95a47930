//! End to end against the moto emulator: stacks built by hand with the real awscli
//! (seed 002's commands, and a MySQL database) are taken over by `trellis discover`:
//! the spec it writes validates and refers to objects instead of ids, the first plan
//! changes tags only, the apply after it leaves nothing to do, an edited rule applies,
//! and destroy removes everything discovered.

mod support;

use std::process::Command;

use support::{aws, endpoint, tagged_all, Stack, SERVERS_PUB};
use trellis_aws::sdk::ec2::types::Filter;

/// Runs a script of awscli commands against the emulator; returns what it printed.
fn by_hand(stack: &Stack, script: &str, env: &[(&str, &str)]) -> String {
    let python = std::env::var("TRELLIS_TEST_PYTHON").expect("run with `cargo xtask test`");
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support").join(script);
    let out = Command::new("bash")
        .arg(path)
        .env("PYTHON", python)
        .env("NAME", &stack.name)
        .env("TMPDIR", &stack.work)
        .env("AWS_ENDPOINT_URL", endpoint())
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .envs(env.iter().copied())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{script} failed:\n{stderr}");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// The attributes each change of a JSON plan changes (trellis's own tags are not
/// attributes: they ride on `retag`).
fn changed_attributes(plan_json: &str) -> Vec<(String, Vec<String>)> {
    let plan: serde_json::Value = serde_json::from_str(plan_json).unwrap();
    let mut out = Vec::new();
    for c in plan["resource_changes"].as_array().unwrap() {
        let change = &c["change"];
        if change["actions"] == serde_json::json!(["no-op"]) {
            continue;
        }
        let empty = serde_json::Map::new();
        let before = change["before"].as_object().unwrap_or(&empty);
        let after = change["after"].as_object().unwrap_or(&empty);
        // Absent and null are the same to the planner.
        let get = |m: &serde_json::Map<String, serde_json::Value>, k: &str| m.get(k).filter(|v| !v.is_null()).cloned();
        let mut keys: Vec<String> =
            before.keys().chain(after.keys()).filter(|k| get(before, k) != get(after, k)).cloned().collect();
        keys.sort();
        keys.dedup();
        let actions = change["actions"].to_string();
        out.push((format!("{} {actions}", c["address"].as_str().unwrap()), keys));
    }
    out
}

/// Discovers `vpc` into `out/NAME.yaml`, checks the spec and the first plan, applies,
/// and points `stack` at the spec. Returns the spec's text.
fn discover(stack: &mut Stack, vpc: &str, env: &[(&str, &str)]) -> String {
    let found = stack.run_env(&["discover", "--vpc", vpc, "--stack", &stack.name.clone(), "--out", "out"], env);
    let found = found.expect_code(0);
    assert!(found.stdout.contains("Discovered "), "{}", found.stdout);
    stack.spec = stack.work.join("out").join(format!("{}.yaml", stack.name));
    let text = std::fs::read_to_string(&stack.spec).unwrap();
    stack.run_env(&["validate", "{spec}"], env).expect_code(0);
    // Other discovered objects are references, never ids (the header names the VPC).
    let resources = &text[text.find("\nresources:").unwrap()..];
    for id_prefix in ["vpc-", "subnet-", "sg-", "igw-", "rtb-", "acl-", "i-", "lt-", "arn:aws:elasticloadbalancing"] {
        let as_value = [format!(": {id_prefix}"), format!("- {id_prefix}")];
        assert!(!as_value.iter().any(|v| resources.contains(v)), "`{id_prefix}` written as an id:\n{text}");
    }
    // The first plan adds tags and changes nothing else.
    let plan = stack.run_env(&["plan", "{spec}", "--json"], env);
    for (change, keys) in changed_attributes(&plan.stdout) {
        assert!(change.contains("[\"update\"]") && keys == ["tags"], "{change} changes {keys:?}\n{text}");
    }
    stack.run_env(&["apply", "{spec}", "--auto-approve"], env).expect_code(0);
    stack.run_env(&["plan", "{spec}", "--detailed-exitcode"], env).expect_code(0);
    text
}

#[tokio::test]
async fn a_stack_typed_with_awscli_is_discovered_adopted_edited_and_destroyed() {
    let mut stack = Stack::new("discover", "stack: placeholder\nresources: {}\n");
    stack.write_file("servers.pub", SERVERS_PUB);
    let key = stack.work.join("servers.pub").to_string_lossy().to_string();
    let vpc = by_hand(&stack, "seed-002.sh", &[("PUBKEY", &key)]);
    assert!(vpc.starts_with("vpc-"), "{vpc}");

    let text = discover(&mut stack, &vpc, &[]);
    // Rules that name each other, the profile the receivers take, the group's policy.
    assert!(text.contains("source_group: ${security_group."), "{text}");
    assert!(text.contains("iam_instance_profile: ${iam_instance_profile."), "{text}");
    assert!(text.contains("auto_scaling_group_name: ${autoscaling_group."), "{text}");
    assert!(text.contains("launch_template_version: \"$Default\""), "{text}");
    assert!(text.contains("public_key_material_file: files/key_pair-"), "{text}");
    let state = stack.state();
    let count = |kind: &str| state.resources.iter().filter(|r| r.address.kind.name == kind).count();
    assert_eq!((count("instance"), count("target_group_attachment"), count("security_group")), (3, 2, 3));
    assert_eq!((count("autoscaling_group"), count("scaling_policy"), count("iam_role")), (1, 1, 1));

    // An edited rule applies: the load balancer's group opens 443 instead of 80.
    let lb_group = state
        .resources
        .iter()
        .find(|r| {
            r.address.kind.name == "security_group" && r.attributes["group_name"].as_str().unwrap().ends_with("-lb")
        })
        .unwrap()
        .id
        .clone();
    let edited = text.replacen("        port: 80\n", "        port: 443\n", 1);
    assert_ne!(edited, text);
    std::fs::write(&stack.spec, edited).unwrap();
    let changed = stack.apply();
    assert!(changed.stdout.contains("0 added, 1 changed, 0 destroyed"), "{}", changed.stdout);
    let ports = support::ingress_ports(aws().await.ec2(), &lb_group).await;
    assert_eq!(ports, [443]);
    stack.plan().expect_code(0);

    // Destroy removes everything discovered, the VPC last.
    stack.run(&["destroy", "{spec}", "--auto-approve"]).expect_code(0);
    let left = tagged_all(&stack.name).await;
    assert!(left.is_empty(), "{left:?}");
    let vpcs =
        aws().await.ec2().describe_vpcs().filters(Filter::builder().name("vpc-id").values(&vpc).build()).send().await;
    assert!(vpcs.unwrap().vpcs().is_empty(), "{vpc} is deleted");
    let groups = aws().await.autoscaling().describe_auto_scaling_groups().send().await.unwrap();
    assert!(!groups
        .auto_scaling_groups()
        .iter()
        .any(|g| g.auto_scaling_group_name() == Some(&format!("{}-web", stack.name))));
}

#[tokio::test]
async fn a_mysql_database_typed_with_awscli_is_discovered_with_its_password_from_the_environment() {
    let mut stack = Stack::new("discover-db", "stack: placeholder\nresources: {}\n");
    let password = "typed-by-hand-1";
    let vpc = by_hand(&stack, "mysql-by-hand.sh", &[("DB_PASSWORD", password)]);
    // The database is named `<NAME>-db`; its password's variable follows its address.
    let var = format!("{}_DB_MASTER_USER_PASSWORD", stack.name.replace('-', "_").to_uppercase());
    let env = [(var.as_str(), password)];

    let text = discover(&mut stack, &vpc, &env);
    assert!(text.contains(&format!("master_user_password: ${{env.{var}}}")), "{text}");
    assert!(text.contains(&format!("set {var} to it")), "{text}");
    assert!(text.contains("db_subnet_group_name: ${db_subnet_group."), "{text}");
    assert!(text.contains("db_parameter_group_name: ${db_parameter_group."), "{text}");
    assert!(text.contains("max_allowed_packet: 67108864"), "{text}");
    // The password is in the state only as a digest.
    let state = std::fs::read_to_string(stack.state_path()).unwrap();
    assert!(!state.contains(password));

    // An edited parameter applies in place.
    std::fs::write(&stack.spec, text.replace("max_allowed_packet: 67108864", "max_allowed_packet: 134217728")).unwrap();
    let changed = stack.run_env(&["apply", "{spec}", "--auto-approve"], &env).expect_code(0);
    assert!(changed.stdout.contains("0 added, 1 changed, 0 destroyed"), "{}", changed.stdout);
    stack.run_env(&["plan", "{spec}", "--detailed-exitcode"], &env).expect_code(0);

    // A database is never destroyed without consent; with it, everything goes.
    stack.run_env(&["destroy", "{spec}", "--auto-approve"], &env).expect_code(1);
    stack.run_env(&["destroy", "{spec}", "--auto-approve", "--allow-data-loss"], &env).expect_code(0);
    let left = tagged_all(&stack.name).await;
    assert!(left.is_empty(), "{left:?}");
    let dbs = aws().await.rds().describe_db_instances().send().await.unwrap();
    assert!(!dbs.db_instances().iter().any(|d| d.db_instance_identifier() == Some(&format!("{}-db", stack.name))));
}
