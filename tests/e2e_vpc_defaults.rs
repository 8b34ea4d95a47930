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

const CLOSED: &str = r#"stack: vn
resources:
  vpc.main:
    cidr_block: 10.8.0.0/16
    default_network_acl_ingress: []
    default_network_acl_egress:
      - { rule_number: 100, protocol: tcp, rule_action: allow, cidr_block: 10.8.0.0/16, port_range: { from: 443, to: 443 } }
    main_route_table_routes: []
  internet_gateway.main:
    vpc_id: ${vpc.main}
"#;

async fn default_acl(id: &str) -> (Vec<i32>, Vec<i32>) {
    let out = aws().await.ec2().describe_network_acls().network_acl_ids(id).send().await.unwrap();
    let numbers = |egress: bool| {
        let mut n: Vec<i32> = out.network_acls()[0]
            .entries()
            .iter()
            .filter(|e| e.egress() == Some(egress))
            .filter_map(|e| e.rule_number())
            .filter(|n| *n < 32767)
            .collect();
        n.sort();
        n
    };
    (numbers(false), numbers(true))
}

async fn main_routes(id: &str) -> Vec<String> {
    let out = aws().await.ec2().describe_route_tables().route_table_ids(id).send().await.unwrap();
    let t = &out.route_tables()[0];
    t.routes()
        .iter()
        .filter(|r| r.gateway_id() != Some("local"))
        .filter_map(|r| r.destination_cidr_block())
        .map(str::to_string)
        .collect()
}

#[tokio::test]
async fn the_default_acl_and_main_table_are_taken_over() {
    let stack = Stack::new("vpc-default-acl", CLOSED);
    stack.apply();
    let state = stack.state();
    let vpc = &state.resources.iter().find(|r| r.address.to_string() == "vpc.main").unwrap().attributes;
    let acl = vpc["default_network_acl_id"].as_str().unwrap().to_string();
    let main = vpc["main_route_table_id"].as_str().unwrap().to_string();
    assert_eq!(default_acl(&acl).await, (vec![], vec![100]), "AWS's allow-all rules are gone; ours is in");
    assert_eq!(stack.plan().code, 0, "re-plans empty");

    // A route to the internet added to the main table by hand would make every subnet
    // without a table of its own public: drift, taken away by the next apply.
    let ec2 = aws().await;
    let ec2 = ec2.ec2();
    let igw = stack.id("internet_gateway.main");
    ec2.create_route().route_table_id(&main).destination_cidr_block("0.0.0.0/0").gateway_id(&igw).send().await.unwrap();
    ec2.create_network_acl_entry()
        .network_acl_id(&acl)
        .rule_number(50)
        .protocol("-1")
        .rule_action(trellis_aws::sdk::ec2::types::RuleAction::Allow)
        .egress(false)
        .cidr_block("0.0.0.0/0")
        .send()
        .await
        .unwrap();
    let drifted = stack.plan();
    assert_eq!(drifted.code, 2, "{}\n{}", drifted.stdout, drifted.stderr);
    assert!(drifted.stdout.contains("main_route_table_routes"), "{}", drifted.stdout);
    assert!(drifted.stdout.contains("default_network_acl_ingress"), "{}", drifted.stdout);
    stack.apply();
    assert_eq!(main_routes(&main).await, Vec::<String>::new());
    assert_eq!(default_acl(&acl).await, (vec![], vec![100]));

    // Left out, they are left alone: the hand-made route stays.
    let loose = CLOSED.replace("    main_route_table_routes: []\n", "");
    stack.write_spec(&loose);
    ec2.create_route().route_table_id(&main).destination_cidr_block("0.0.0.0/0").gateway_id(&igw).send().await.unwrap();
    assert_eq!(stack.plan().code, 0, "not managed, not drift");
    ec2.delete_route().route_table_id(&main).destination_cidr_block("0.0.0.0/0").send().await.unwrap();
    stack.destroy_and_check_clean();
}
