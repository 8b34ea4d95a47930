//! End to end against the moto emulator: findings as a gate. A database behind its own
//! security group, encrypted at rest (read back as made, and planned empty after);
//! then an edit that opens the database's port to the internet: the plan names the
//! finding, `--fail-on high` (or the spec's `checks:`) refuses before any change, a
//! `waive:` with a reason lets it through and the plan prints the reason; `trellis
//! check` says the same offline.

mod support;

use support::{aws, ingress_ports, Stack};

const SAFE: &str = r#"stack: checks
resources:
  vpc.main:
    cidr_block: 10.0.0.0/16
    default_security_group_rules: none
  subnet.a:
    vpc_id: ${vpc.main}
    cidr_block: 10.0.1.0/24
    availability_zone: us-east-1a
  subnet.b:
    vpc_id: ${vpc.main}
    cidr_block: 10.0.2.0/24
    availability_zone: us-east-1b
  security_group.app:
    vpc_id: ${vpc.main}
    description: app servers
  security_group.db:
    vpc_id: ${vpc.main}
    description: the database
    ingress:
      - protocol: tcp
        port: 3306
        source_group: ${security_group.app}
  db_subnet_group.db:
    subnet_ids: ["${subnet.a}", "${subnet.b}"]
  db_instance.main:
    engine: mysql
    db_instance_class: db.t3.micro
    allocated_storage: 20
    master_username: admin
    master_user_password: ${env.DB_PASSWORD}
    db_subnet_group_name: ${db_subnet_group.db}
    vpc_security_group_ids: ["${security_group.db}"]
    storage_encrypted: true
    deletion_protection: false
    skip_final_snapshot: true
    waive:
      db-deletion-unprotected: "a test database, destroyed by the test"
"#;

const OPEN_RULE: &str = "      - protocol: tcp\n        port: 3306\n        cidr: 0.0.0.0/0\n";

#[tokio::test]
async fn opening_a_database_to_the_world_is_a_finding_that_fail_on_refuses_before_any_change() {
    let stack = Stack::new("checks", SAFE);
    let env = [("DB_PASSWORD", "a-Long-enough-pw-81")];
    stack.run_env(&["apply", "{spec}", "--auto-approve", "--fail-on", "low"], &env).expect_code(0);
    let again = stack.run_env(&["plan", "{spec}", "--detailed-exitcode"], &env).expect_code(0);
    assert!(again.stdout.contains("waived: LOW db_instance.main"), "{}", again.stdout);
    let aws = aws().await;
    let id = stack.id("db_instance.main");
    let out = aws.rds().describe_db_instances().db_instance_identifier(&id).send().await.unwrap();
    assert_eq!(out.db_instances()[0].storage_encrypted(), Some(true), "made encrypted, as the spec says");

    // The edit a tired operator makes "for now" (seed 000): 3306 from anywhere.
    let opened = SAFE.replace(
        "        source_group: ${security_group.app}\n",
        &format!("        source_group: ${{security_group.app}}\n{OPEN_RULE}"),
    );
    stack.write_spec(&opened);
    let plan = stack.run_env(&["plan", "{spec}"], &env).expect_code(0);
    assert!(plan.stdout.contains("Findings: 1 (1 critical)"), "{}", plan.stdout);
    assert!(
        plan.stdout.contains("CRITICAL security_group.db: a database's port is open to the internet (tcp 3306 from 0.0.0.0/0: the port of `db_instance.main`"),
        "{}",
        plan.stdout
    );
    let json = stack.run_env(&["plan", "{spec}", "--json"], &env).expect_code(0);
    let doc: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(doc["findings"][0]["rule"], "sg-database-open");
    let refused = stack.run_env(&["plan", "{spec}", "--fail-on", "high"], &env).expect_code(1);
    assert!(refused.stderr.contains("refusing: 1 finding at or above high"), "{}", refused.stderr);
    let refused = stack.run_env(&["apply", "{spec}", "--auto-approve", "--fail-on", "high"], &env).expect_code(1);
    assert!(refused.stderr.contains("Nothing was changed"), "{}", refused.stderr);
    let group = stack.id("security_group.db");
    assert!(!open_to_world(&group).await, "refused before any change");

    // The spec can say it once for everyone.
    stack.write_spec(&opened.replace("resources:\n", "checks:\n  fail_on: critical\nresources:\n"));
    stack.run_env(&["apply", "{spec}", "--auto-approve"], &env).expect_code(1);
    assert!(!open_to_world(&group).await);
    let file = stack.dir.path().join("open.plan");
    let refused = stack.run_env(&["plan", "{spec}", "--out", file.to_str().unwrap()], &env).expect_code(1);
    assert!(refused.stdout.contains("sg-database-open"), "the refused plan is shown: {}", refused.stdout);
    assert!(!file.exists(), "a refused plan is not saved");

    // Offline, the same finding and the same refusal.
    let offline = stack.run(&["check", "{spec}"]).expect_code(1);
    assert!(offline.stdout.contains("sg-database-open"), "{}", offline.stdout);

    // Accepted on purpose, with a reason the plan prints: applied.
    let waived = opened.replace(
        "    description: the database\n",
        "    description: the database\n    waive:\n      sg-database-open: \"a migration window, closed by SEC-42\"\n",
    );
    stack.write_spec(&waived);
    let applied = stack.run_env(&["apply", "{spec}", "--auto-approve", "--fail-on", "high"], &env).expect_code(0);
    assert!(applied.stdout.contains("— a migration window, closed by SEC-42"), "{}", applied.stdout);
    assert!(open_to_world(&group).await);
    assert!(ingress_ports(&support::ec2().await, &group).await.contains(&3306));
    stack.run_env(&["destroy", "{spec}", "--auto-approve", "--allow-data-loss"], &env).expect_code(0);
}

async fn open_to_world(group: &str) -> bool {
    let ec2 = support::ec2().await;
    let out = ec2.describe_security_groups().group_ids(group).send().await.unwrap();
    out.security_groups()[0]
        .ip_permissions()
        .iter()
        .any(|p| p.ip_ranges().iter().any(|r| r.cidr_ip() == Some("0.0.0.0/0")))
}

const SERVERS: &str = r#"stack: preflight
resources:
  vpc.main:
    cidr_block: 10.0.0.0/16
  subnet.small:
    vpc_id: ${vpc.main}
    cidr_block: 10.0.1.0/28
    availability_zone: us-east-1a
  launch_template.web:
    image_id: ami-0abcdef1234567890
    instance_type: t3.micro
    metadata_options: { http_tokens: required }
    block_device_mappings:
      - device_name: /dev/xvda
        ebs: { volume_size: 20, volume_type: gp3, encrypted: true }
  instance.bastion:
    image_id: ami-0abcdef1234567890
    instance_type: t3.micro
    subnet_id: ${subnet.small}
    metadata_options: { http_tokens: required, http_put_response_hop_limit: 2 }
    block_device_mappings:
      - device_name: /dev/xvda
        ebs: { volume_size: 8, encrypted: true }
  autoscaling_group.web:
    launch_template_id: ${launch_template.web}
    min_size: 1
    max_size: 2
    vpc_zone_identifier: ["${subnet.small}"]
  key_pair.deploy:
    key_name: KEYNAME
    public_key_material: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGiY0mYmCbXQhx1f3cFL5ZJh0PfS1OV8vV9zDWfCJUtQ deploy
"#;

/// What the account holds of the stack: nothing when a pre-flight check refused.
async fn nothing_made(stack: &Stack) -> bool {
    let empty_state = !stack.state_path().exists() || stack.state().resources.is_empty();
    support::tagged(&support::ec2().await, &stack.name).await.is_empty() && empty_state
}

#[tokio::test]
async fn a_missing_image_a_full_subnet_and_a_taken_name_are_refused_before_any_change() {
    let stack = Stack::new("preflight", SERVERS);
    let key = format!("{}-deploy", stack.name);
    let spec = SERVERS.replace("KEYNAME", &key);

    // An image the region does not have.
    stack.write_spec(&spec.replace("ami-0abcdef1234567890", "ami-00000000000000bad"));
    let refused = stack.run(&["apply", "{spec}", "--auto-approve"]).expect_code(1);
    assert!(
        refused
            .stdout
            .contains("FAILED launch_template.web: image ami-00000000000000bad does not exist in this region"),
        "{}",
        refused.stdout
    );
    assert!(
        refused.stderr.contains("pre-flight checks failed") && refused.stderr.contains("Nothing was changed"),
        "{}",
        refused.stderr
    );
    assert!(nothing_made(&stack).await, "refused before the first change");

    // A /28 has 11 addresses: a group of up to 20 does not fit.
    stack.write_spec(&spec.replace("max_size: 2", "max_size: 20"));
    let refused = stack.run(&["plan", "{spec}"]).expect_code(1);
    assert!(
        refused.stdout.contains("FAILED autoscaling_group.web: 20 addresses needed, 11 free in its subnet"),
        "{}",
        refused.stdout
    );

    // A key pair made by hand under the name the spec fixes.
    let ec2 = support::ec2().await;
    ec2.create_key_pair().key_name(&key).send().await.unwrap();
    stack.write_spec(&spec);
    let refused = stack.run(&["apply", "{spec}", "--auto-approve"]).expect_code(1);
    assert!(
        refused.stdout.contains(&format!("FAILED key_pair.deploy: the name `{key}` is taken by {key}")),
        "{}",
        refused.stdout
    );
    assert!(nothing_made(&stack).await);

    // With the name free again, every check passes and the stack is made.
    ec2.delete_key_pair().key_name(&key).send().await.unwrap();
    let applied = stack.run(&["apply", "{spec}", "--auto-approve"]).expect_code(0);
    assert!(applied.stdout.contains("Pre-flight: 7 checks against the account passed, 0 failed"), "{}", applied.stdout);
    // IMDSv2 only and encrypted volumes, as the findings' fixes say: none left, and
    // the stack plans empty (what AWS reads back is what was sent).
    assert!(
        !applied.stdout.contains("imds-v1") && !applied.stdout.contains("volume-unencrypted"),
        "{}",
        applied.stdout
    );
    stack.plan().expect_code(0);
    let versions = ec2
        .describe_launch_template_versions()
        .launch_template_id(stack.id("launch_template.web"))
        .send()
        .await
        .unwrap();
    let data = versions.launch_template_versions()[0].launch_template_data().unwrap();
    assert_eq!(data.metadata_options().and_then(|m| m.http_tokens()).map(|t| t.as_str()), Some("required"));
    assert_eq!(data.block_device_mappings()[0].ebs().and_then(|e| e.encrypted()), Some(true));
    let bastion = ec2.describe_instances().instance_ids(stack.id("instance.bastion")).send().await.unwrap();
    let m = bastion.reservations()[0].instances()[0].metadata_options().unwrap().clone();
    assert_eq!((m.http_tokens().map(|t| t.as_str()), m.http_put_response_hop_limit()), (Some("required"), Some(2)));
    // Turned down in place (modify-instance-metadata-options): a finding again.
    stack.write_spec(&spec.replace(
        "http_tokens: required, http_put_response_hop_limit: 2",
        "http_tokens: optional, http_put_response_hop_limit: 2",
    ));
    let changed = stack.apply();
    assert!(
        changed.stdout.contains("HIGH instance.bastion: the metadata service answers IMDSv1"),
        "{}",
        changed.stdout
    );
    stack.plan().expect_code(0);
    stack.destroy_and_check_clean();
}
