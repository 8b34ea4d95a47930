//! End to end against the moto emulator: a VPC's default security group taken over.
//! `default_security_group_rules: none` empties it at create; a rule added outside is
//! drift that the next apply revokes; `aws-default` gives AWS's rules back. Left at
//! AWS's rules, the group is a finding (checkov CKV2_AWS_12).

mod support;

use support::{aws, Stack};

const SPEC: &str =
    "stack: vd\nresources:\n  vpc.main:\n    cidr_block: 10.9.0.0/16\n    default_security_group_rules: none\n";

async fn rules(group: &str) -> (usize, usize) {
    let out = aws().await.ec2().describe_security_groups().group_ids(group).send().await.unwrap();
    let g = &out.security_groups()[0];
    (g.ip_permissions().len(), g.ip_permissions_egress().len())
}

#[tokio::test]
async fn the_default_group_is_closed_kept_closed_and_given_back() {
    let stack = Stack::new("vpc-defaults", SPEC);
    let applied = stack.apply();
    assert!(!applied.stdout.contains("vpc-default-sg-open"), "closed: no finding\n{}", applied.stdout);
    let group = stack.state().resources[0].attributes["default_security_group_id"].as_str().unwrap().to_string();
    assert_eq!(rules(&group).await, (0, 0), "no rule left in the default group");
    assert_eq!(stack.plan().code, 0, "re-plans empty");

    // A rule added by hand is drift; the next apply takes it away again.
    let ec2 = aws().await;
    let ec2 = ec2.ec2();
    ec2.authorize_security_group_ingress()
        .group_id(&group)
        .ip_protocol("tcp")
        .from_port(22)
        .to_port(22)
        .cidr_ip("0.0.0.0/0")
        .send()
        .await
        .unwrap();
    let drifted = stack.plan();
    assert_eq!(drifted.code, 2, "{}\n{}", drifted.stdout, drifted.stderr);
    assert!(drifted.stdout.contains("default_security_group_rules"), "{}", drifted.stdout);
    stack.apply();
    assert_eq!(rules(&group).await, (0, 0));

    // AWS's own rules back, and the finding with them.
    stack.write_spec(&SPEC.replace("none", "aws-default"));
    let plan = stack.plan();
    assert!(
        plan.stdout.contains("vpc-default-sg-open")
            || plan.stdout.contains("the VPC's default security group allows traffic"),
        "{}",
        plan.stdout
    );
    stack.apply();
    assert_eq!(rules(&group).await, (1, 1), "all from its members in, all out");
    assert_eq!(stack.plan().code, 0);
    stack.destroy_and_check_clean();
}
