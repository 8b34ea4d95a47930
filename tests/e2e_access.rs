//! End to end against the moto emulator: IAM roles, instance profiles and key pairs
//! (seed 002's receivers), made, read back, changed in place, repaired after changes
//! behind trellis's back, replaced and deleted, with the SDK checking what is there.

mod support;

use support::{aws, tagged_all, FaultLayer, Stack, RECEIVERS, RECEIVER_BOOT, SERVERS_PUB};

const ASSUME_EC2: &str = r#"      Version: "2012-10-17"
      Statement:
        - Effect: Allow
          Principal: { Service: ec2.amazonaws.com }
          Action: sts:AssumeRole"#;

/// A role, its profile, a key pair and an instance that takes both.
fn access_spec(extra_role: &str, instance_profile: &str) -> String {
    format!(
        r#"stack: access
region: us-east-1
resources:
  vpc.main:
    cidr_block: 10.7.0.0/16
  subnet.a:
    vpc_id: ${{vpc.main}}
    cidr_block: 10.7.1.0/24
  key_pair.admin:
    public_key_material_file: admin.pub
    tags: {{ Team: ops }}
  iam_role.app:
    description: The app's instances
    assume_role_policy_document:
{ASSUME_EC2}
    policy_arns: [arn:aws:iam::aws:policy/AmazonVPCReadOnlyAccess]
{extra_role}
  iam_role.other:
    assume_role_policy_document:
{ASSUME_EC2}
  iam_instance_profile.app:
    role_name: ${{iam_role.app}}
  iam_instance_profile.other:
    role_name: ${{iam_role.other}}
  instance.app:
    image_id: ami-0abcdef1234567890
    instance_type: t3.micro
    subnet_id: ${{subnet.a}}
    key_name: ${{key_pair.admin}}
{instance_profile}
"#
    )
}

const ADMIN_PUB: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIER8QB7nTLtEyHgmfUJM1LTDhtm4wVX1hOPNlKWHIrws admin@example\n";

/// The role as IAM has it: its path, description, trust policy (decoded), managed
/// policies and inline policy names.
async fn role(name: &str) -> (String, Option<String>, String, Vec<String>, Vec<String>) {
    let iam = aws().await.iam().clone();
    let r = iam.get_role().role_name(name).send().await.unwrap();
    let r = r.role().unwrap();
    let trust = percent_encoding::percent_decode_str(r.assume_role_policy_document().unwrap_or_default())
        .decode_utf8_lossy()
        .into_owned();
    let attached = iam.list_attached_role_policies().role_name(name).send().await.unwrap();
    let arns = attached.attached_policies().iter().filter_map(|p| p.policy_arn()).map(str::to_string).collect();
    let inline = iam.list_role_policies().role_name(name).send().await.unwrap().policy_names().to_vec();
    (r.path().to_string(), r.description().map(str::to_string), trust, arns, inline)
}

/// The roles a profile holds.
async fn profile_roles(name: &str) -> Vec<String> {
    let iam = aws().await.iam().clone();
    let p = iam.get_instance_profile().instance_profile_name(name).send().await.unwrap();
    p.instance_profile().unwrap().roles().iter().map(|r| r.role_name().to_string()).collect()
}

/// The profile an instance has, by name (EC2 names it by ARN).
async fn instance_profile(instance: &str) -> Option<String> {
    let out = aws().await.ec2().describe_instances().instance_ids(instance).send().await.unwrap();
    let i = &out.reservations()[0].instances()[0];
    i.iam_instance_profile().and_then(|p| p.arn()).map(|arn| arn.rsplit('/').next().unwrap().to_string())
}

/// A key pair's fingerprint and how many key pairs have its name.
async fn key(name: &str) -> (Option<String>, usize) {
    let out = aws()
        .await
        .ec2()
        .describe_key_pairs()
        .filters(trellis_aws::sdk::ec2::types::Filter::builder().name("key-name").values(name).build())
        .send()
        .await
        .unwrap();
    (out.key_pairs().first().and_then(|k| k.key_fingerprint()).map(str::to_string), out.key_pairs().len())
}

#[tokio::test]
async fn the_receivers_example_applies_replans_empty_and_destroys_to_nothing_tagged() {
    let stack = Stack::new("receivers", RECEIVERS);
    stack.write_file("files/receiver-boot.sh", RECEIVER_BOOT);
    stack.write_file("files/servers.pub", SERVERS_PUB);
    let applied = stack.apply();
    assert!(applied.stdout.contains("Resources: 21 added"), "{}", applied.stdout);

    // The role is under the stack's path, trusts EC2, may use the VPC API; both
    // receivers take it through the profile, and log in with the imported key.
    let role_name = stack.id("iam_role.receivers");
    let (path, _, trust, arns, _) = role(&role_name).await;
    assert_eq!(path, format!("/trellis/{}/", stack.name));
    assert!(trust.contains("ec2.amazonaws.com") && trust.contains("sts:AssumeRole"), "{trust}");
    assert_eq!(arns, ["arn:aws:iam::aws:policy/AmazonVPCFullAccess"]);
    let profile = stack.id("iam_instance_profile.receivers");
    assert_eq!(profile_roles(&profile).await, [role_name]);
    let key_name = stack.id("key_pair.servers");
    assert_eq!(key_name, format!("{}-servers", stack.name));
    assert_eq!(key(&key_name).await.1, 1);
    for i in 0..2 {
        let id = stack.id(&format!("instance.receiver[{i}]"));
        assert_eq!(instance_profile(&id).await.as_deref(), Some(profile.as_str()));
        let out = aws().await.ec2().describe_instances().instance_ids(&id).send().await.unwrap();
        assert_eq!(out.reservations()[0].instances()[0].key_name(), Some(key_name.as_str()));
    }
    assert_eq!(instance_profile(&stack.id("instance.data_access")).await, None);
    // No private key anywhere in the state: only the public key trellis was given.
    let state = std::fs::read_to_string(stack.state_path()).unwrap();
    assert!(!state.contains("PRIVATE KEY"));
    stack.plan().expect_code(0);

    stack.destroy_and_check_clean();
    let left = tagged_all(&stack.name).await;
    assert!(left.is_empty(), "{left:?}");
    assert_eq!(key(&key_name).await.1, 0);
}

#[tokio::test]
async fn roles_profiles_and_key_pairs_are_changed_repaired_and_replaced() {
    let profile_line = "    iam_instance_profile: ${iam_instance_profile.app}";
    let stack = Stack::new("access", &access_spec("", profile_line));
    stack.write_file("admin.pub", ADMIN_PUB);
    stack.apply();
    let (role_name, other_role) = (stack.id("iam_role.app"), stack.id("iam_role.other"));
    let (app_profile, other_profile) = (stack.id("iam_instance_profile.app"), stack.id("iam_instance_profile.other"));
    let instance = stack.id("instance.app");
    assert_eq!(instance_profile(&instance).await.as_deref(), Some(app_profile.as_str()));
    let (fingerprint, _) = key(&stack.id("key_pair.admin")).await;
    assert!(fingerprint.is_some());
    stack.plan().expect_code(0);

    // Behind trellis's back: the managed policy detached, an inline one put, the
    // description changed. The plan shows the drift, and apply puts the spec back.
    let iam = aws().await.iam().clone();
    iam.detach_role_policy()
        .role_name(&role_name)
        .policy_arn("arn:aws:iam::aws:policy/AmazonVPCReadOnlyAccess")
        .send()
        .await
        .unwrap();
    let doc = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#;
    iam.put_role_policy().role_name(&role_name).policy_name("by-hand").policy_document(doc).send().await.unwrap();
    iam.update_role().role_name(&role_name).description("edited by hand").send().await.unwrap();
    let drift = stack.plan().expect_code(2);
    assert!(drift.stdout.contains("# iam_role.app has changed"), "{}", drift.stdout);
    assert!(drift.stdout.contains("by-hand"), "{}", drift.stdout);
    assert!(drift.stdout.contains("1 to change"), "{}", drift.stdout);
    stack.apply();
    let (_, description, _, arns, inline) = role(&role_name).await;
    assert_eq!(description.as_deref(), Some("The app's instances"));
    assert_eq!(arns, ["arn:aws:iam::aws:policy/AmazonVPCReadOnlyAccess"]);
    assert!(inline.is_empty(), "{inline:?}");
    stack.plan().expect_code(0);

    // Edited in the spec: an inline policy, a longer session and a tag: in place, the
    // same role. The instance moves to the other profile in place too.
    let extra = r#"    max_session_duration: 7200
    tags: { Team: app }
    policies:
      read-acls:
        Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Action: [ec2:DescribeNetworkAcls]
            Resource: "*""#;
    stack.write_spec(&access_spec(extra, "    iam_instance_profile: ${iam_instance_profile.other}"));
    let changed = stack.apply();
    assert!(changed.stdout.contains("0 added, 2 changed, 0 destroyed"), "{}", changed.stdout);
    assert_eq!(stack.id("iam_role.app"), role_name);
    assert_eq!(stack.id("instance.app"), instance);
    let (_, _, _, _, inline) = role(&role_name).await;
    assert_eq!(inline, ["read-acls"]);
    let r = iam.get_role().role_name(&role_name).send().await.unwrap();
    assert_eq!(r.role().unwrap().max_session_duration(), Some(7200));
    assert!(r.role().unwrap().tags().iter().any(|t| t.key() == "Team" && t.value() == "app"));
    assert_eq!(instance_profile(&instance).await.as_deref(), Some(other_profile.as_str()));
    stack.plan().expect_code(0);

    // A profile's role swapped in place, and the instance's profile taken away.
    let swapped = access_spec(extra, "").replace(
        "  iam_instance_profile.other:\n    role_name: ${iam_role.other}",
        "  iam_instance_profile.other:\n    role_name: ${iam_role.app}",
    );
    stack.write_spec(&swapped);
    stack.apply();
    assert_eq!(profile_roles(&other_profile).await, [role_name.as_str()]);
    assert_eq!(instance_profile(&instance).await, None);
    stack.plan().expect_code(0);

    // Its role taken out of a profile behind trellis's back: drift, and put back.
    iam.remove_role_from_instance_profile()
        .instance_profile_name(&other_profile)
        .role_name(&role_name)
        .send()
        .await
        .unwrap();
    let drift = stack.plan().expect_code(2);
    assert!(drift.stdout.contains("# iam_instance_profile.other has changed"), "{}", drift.stdout);
    stack.apply();
    assert_eq!(profile_roles(&other_profile).await, [role_name.as_str()]);

    // A name fixed in the spec replaces the role (the old one goes first: the name is
    // taken); the profiles that held it take the new one in place.
    let renamed = format!("{}-app-2", stack.name);
    let fixed = swapped.replace(
        "    description: The app's instances",
        &format!("    role_name: {renamed}\n    description: The app's instances"),
    );
    stack.write_spec(&fixed);
    let plan = stack.plan().expect_code(2);
    assert!(plan.stdout.contains("# iam_role.app must be replaced: `role_name` forces replacement"), "{}", plan.stdout);
    stack.apply();
    assert_eq!(stack.id("iam_role.app"), renamed);
    assert!(iam.get_role().role_name(&role_name).send().await.is_err(), "the old role is deleted");
    assert_eq!(profile_roles(&app_profile).await, [renamed.as_str()]);
    assert_eq!(profile_roles(&other_profile).await, [renamed.as_str()]);
    let (_, _, _, arns, inline) = role(&renamed).await;
    assert_eq!((arns.len(), inline), (1, vec!["read-acls".to_string()]));
    stack.plan().expect_code(0);
    let role_name = renamed;

    // A profile replaced on request: its name is generated, so the new one is made
    // first, and the old one deleted after.
    let replaced = stack.run(&["apply", "{spec}", "--auto-approve", "--replace", "iam_instance_profile.other"]);
    let replaced = replaced.expect_code(0);
    assert!(replaced.stdout.contains("1 added, 0 changed, 1 destroyed"), "{}", replaced.stdout);
    let new_profile = stack.id("iam_instance_profile.other");
    assert_ne!(new_profile, other_profile);
    assert!(iam.get_instance_profile().instance_profile_name(&other_profile).send().await.is_err());
    assert_eq!(profile_roles(&new_profile).await, [role_name.as_str()]);
    let other_profile = new_profile;
    stack.plan().expect_code(0);

    // The key pair deleted behind trellis's back is imported again; its tags change in
    // place.
    let old_key = stack.id("key_pair.admin");
    aws().await.ec2().delete_key_pair().key_name(&old_key).send().await.unwrap();
    let gone = stack.plan().expect_code(2);
    assert!(gone.stdout.contains("key_pair.admin"), "{}", gone.stdout);
    stack.apply();
    assert_eq!(key(&old_key).await, (fingerprint.clone(), 1), "the same key, imported again");
    stack.write_spec(&fixed.replace("tags: { Team: ops }", "tags: { Team: platform }"));
    let retagged = stack.apply();
    assert!(retagged.stdout.contains("0 added, 1 changed, 0 destroyed"), "{}", retagged.stdout);
    assert_eq!(stack.id("key_pair.admin"), old_key, "tags change in place");

    // A new public key replaces the key pair (made first under a second name: the spec
    // leaves the name to trellis), and the instance that logs in with it.
    stack.write_file(
        "admin.pub",
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJucK9ouQy6Q+uYBop6iXarE7kOc6IeNF4q0b9416ME+ admin@example\n",
    );
    let plan = stack.plan().expect_code(2);
    assert!(
        plan.stdout.contains("# key_pair.admin must be replaced: `public_key_material` forces replacement"),
        "{}",
        plan.stdout
    );
    stack.apply();
    let new_key = stack.id("key_pair.admin");
    assert_ne!(new_key, old_key);
    assert_eq!(key(&old_key).await.1, 0, "the old key pair is deleted");
    let (new_fingerprint, n) = key(&new_key).await;
    assert_eq!(n, 1);
    assert_ne!(new_fingerprint, fingerprint);
    stack.plan().expect_code(0);

    stack.destroy_and_check_clean();
    let left = tagged_all(&stack.name).await;
    assert!(left.is_empty(), "{left:?}");
    for name in [role_name, other_role] {
        assert!(iam.get_role().role_name(&name).send().await.is_err(), "{name} is deleted");
    }
    for name in [app_profile, other_profile] {
        assert!(iam.get_instance_profile().instance_profile_name(&name).send().await.is_err(), "{name} is deleted");
    }
}

#[tokio::test]
async fn an_instance_waits_until_ec2_knows_its_new_instance_profile() {
    // Through a fault layer of its own: IAM hides a new role or profile from its own
    // calls for 1 s, and EC2 refuses to launch with a new profile for 12 s, as AWS does
    // for a profile made seconds ago.
    let layer = FaultLayer::start(&["--profile", "none", "--consistency", "1", "--profile-lag", "12"]);
    let mut stack =
        Stack::new("profile-lag", &access_spec("", "    iam_instance_profile: ${iam_instance_profile.app}"));
    stack.endpoint = layer.url.clone();
    stack.write_file("admin.pub", ADMIN_PUB);
    let applied = stack.apply();
    let said = format!("{}{}", applied.stdout, applied.stderr);
    assert!(said.contains("Invalid IAM Instance Profile name"), "EC2 refused the new profile at first:\n{said}");
    assert!(said.contains("instance.app: waiting for what it refers to to become visible"), "{said}");
    let profile = stack.id("iam_instance_profile.app");
    assert_eq!(instance_profile(&stack.id("instance.app")).await.as_deref(), Some(profile.as_str()));
    stack.plan().expect_code(0);
    stack.destroy_and_check_clean();
}
