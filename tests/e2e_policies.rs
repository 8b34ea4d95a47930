//! End to end against the moto emulator: a customer-managed IAM policy attached to a
//! role by reference. It applies under the stack's IAM path, re-plans empty; each
//! change of its document is a new default version, IAM's five kept by deleting the
//! oldest; and it destroys to nothing, the role's attachment first.

mod support;

use support::{aws, Stack};

const SPEC: &str = r#"stack: pol
resources:
  iam_policy.read:
    description: read the assets
    policy_document:
      Version: "2012-10-17"
      Statement:
        - { Effect: Allow, Action: "s3:GetObject", Resource: "arn:aws:s3:::assets/v0/*" }
    tags: { Team: platform }
  iam_role.app:
    assume_role_policy_document:
      Version: "2012-10-17"
      Statement:
        - { Effect: Allow, Principal: { Service: ec2.amazonaws.com }, Action: "sts:AssumeRole" }
    policy_arns: ["${iam_policy.read}"]
"#;

#[tokio::test]
async fn a_managed_policy_is_attached_versioned_and_destroyed() {
    let stack = Stack::new("policies", SPEC);
    let applied = stack.apply();
    assert!(applied.stdout.contains("Apply complete! Resources: 2 added"), "{}\n{}", applied.stdout, applied.stderr);
    let iam = aws().await;
    let iam = iam.iam();
    let arn = stack.id("iam_policy.read");
    let got = iam.get_policy().policy_arn(&arn).send().await.unwrap();
    let policy = got.policy().unwrap();
    assert_eq!(policy.path(), Some(format!("/trellis/{}/", stack.name).as_str()));
    assert_eq!(policy.default_version_id(), Some("v1"));
    assert_eq!(policy.description(), Some("read the assets"));
    assert!(policy.tags().iter().any(|t| t.key() == "Team" && t.value() == "platform"));
    let role = stack.id("iam_role.app");
    let attached = iam.list_attached_role_policies().role_name(&role).send().await.unwrap();
    assert_eq!(attached.attached_policies()[0].policy_arn(), Some(arn.as_str()));
    assert_eq!(stack.plan().code, 0, "re-plans empty");

    // Six changes of the document: six new default versions, five kept at most.
    for n in 1..=6 {
        stack.write_spec(&SPEC.replace("assets/v0/*", &format!("assets/v{n}/*")));
        let plan = stack.plan();
        assert!(plan.stdout.contains("iam_policy.read will be updated in place"), "{}", plan.stdout);
        stack.apply();
    }
    let versions = iam.list_policy_versions().policy_arn(&arn).send().await.unwrap();
    assert!(versions.versions().len() <= 5, "{:?}", versions.versions());
    let default = versions.versions().iter().find(|v| v.is_default_version()).unwrap();
    assert_eq!(default.version_id(), Some("v7"));
    let doc = iam.get_policy_version().policy_arn(&arn).version_id("v7").send().await.unwrap();
    assert!(doc.policy_version().unwrap().document().unwrap().contains("v6"), "the newest document is in force");
    assert_eq!(stack.plan().code, 0, "re-plans empty after the versions");
    assert_eq!(stack.id("iam_policy.read"), arn, "the same policy throughout");

    stack.destroy_and_check_clean();
    assert!(iam.get_policy().policy_arn(&arn).send().await.is_err(), "the policy is gone");
}
