//! End to end against the moto emulator: the launch template and auto scaling group
//! settings of the registry's `terraform-aws-autoscaling` complete example that were
//! missing. A template whose interface gives instances a public address (with its
//! groups on the interface), detailed monitoring, unlimited credits and a placement
//! zone; a group that rebalances Spot capacity, replaces instances after a week, ends
//! the oldest first, warms instances up for a minute and sends two group metrics. Each
//! reads back as sent, re-plans empty, changes in place (the template as its next
//! version, rolled through the group), and destroys to nothing.

mod support;

use support::{aws, Stack};

const SPEC: &str = r#"stack: gs
resources:
  vpc.main:
    cidr_block: 10.60.0.0/16
  subnet.public:
    vpc_id: ${vpc.main}
    cidr_block: 10.60.1.0/24
    availability_zone: us-east-1a
  internet_gateway.main:
    vpc_id: ${vpc.main}
  route_table.public:
    vpc_id: ${vpc.main}
    routes:
      - { destination_cidr_block: 0.0.0.0/0, gateway_id: "${internet_gateway.main}" }
    subnet_ids: ["${subnet.public}"]
  security_group.web:
    vpc_id: ${vpc.main}
    description: web servers
  launch_template.web:
    image_id: ami-0abcdef1234567890
    instance_type: t3.micro
    metadata_options: { http_tokens: required }
    network_interfaces:
      - device_index: 0
        associate_public_ip_address: true
        delete_on_termination: true
        groups: ["${security_group.web}"]
    monitoring: { enabled: true }
    credit_specification: { cpu_credits: unlimited }
    placement: { availability_zone: us-east-1a }
  autoscaling_group.web:
    launch_template_id: ${launch_template.web}
    vpc_zone_identifier: ["${subnet.public}"]
    min_size: 1
    max_size: 2
    desired_capacity: 1
    instance_warmup: 1
    capacity_rebalance: true
    max_instance_lifetime: 604800
    termination_policies: [OldestInstance, Default]
    default_instance_warmup: 60
    enabled_metrics: [GroupInServiceInstances, GroupDesiredCapacity]
    scheduled_actions:
      - { scheduled_action_name: night, recurrence: "0 22 * * *", time_zone: Europe/Paris, min_size: 1, max_size: 1 }
    warm_pool: { min_size: 1, pool_state: Stopped, reuse_on_scale_in: true }
"#;

#[tokio::test]
async fn a_group_and_its_template_take_the_complete_example_s_settings() {
    let stack = Stack::new("group-settings", SPEC);
    let applied = stack.apply();
    assert!(applied.stdout.contains("Apply complete!"), "{}\n{}", applied.stdout, applied.stderr);
    let aws = aws().await;
    let lt = stack.id("launch_template.web");
    let sg = stack.id("security_group.web");
    let versions =
        aws.ec2().describe_launch_template_versions().launch_template_id(&lt).versions("$Latest").send().await.unwrap();
    let data = versions.launch_template_versions()[0].launch_template_data().unwrap();
    let nic = &data.network_interfaces()[0];
    assert_eq!(nic.associate_public_ip_address(), Some(true));
    assert_eq!(nic.device_index(), Some(0));
    assert_eq!(nic.groups(), [sg.clone()]);
    assert!(data.security_group_ids().is_empty(), "the groups are on the interface only");
    assert_eq!(data.monitoring().and_then(|m| m.enabled()), Some(true));
    assert_eq!(data.credit_specification().and_then(|c| c.cpu_credits()), Some("unlimited"));
    assert_eq!(data.placement().and_then(|p| p.availability_zone()), Some("us-east-1a"));

    let name = stack.id("autoscaling_group.web");
    let read = || async {
        let out =
            aws.autoscaling().describe_auto_scaling_groups().auto_scaling_group_names(&name).send().await.unwrap();
        out.auto_scaling_groups()[0].clone()
    };
    let g = read().await;
    assert_eq!(g.capacity_rebalance(), Some(true));
    assert_eq!(g.max_instance_lifetime(), Some(604_800));
    assert_eq!(g.termination_policies(), ["OldestInstance", "Default"]);
    assert_eq!(g.default_instance_warmup(), Some(60));
    let mut metrics: Vec<&str> = g.enabled_metrics().iter().filter_map(|m| m.metric()).collect();
    metrics.sort();
    assert_eq!(metrics, ["GroupDesiredCapacity", "GroupInServiceInstances"]);
    let pool = g.warm_pool_configuration().unwrap();
    assert_eq!((pool.min_size(), pool.pool_state().map(|s| s.as_str())), (Some(1), Some("Stopped")));
    assert_eq!(pool.instance_reuse_policy().and_then(|p| p.reuse_on_scale_in()), Some(true));
    let actions = aws.autoscaling().describe_scheduled_actions().auto_scaling_group_name(&name).send().await.unwrap();
    let night = &actions.scheduled_update_group_actions()[0];
    assert_eq!(
        (night.recurrence(), night.time_zone(), night.max_size()),
        (Some("0 22 * * *"), Some("Europe/Paris"), Some(1))
    );
    let again = stack.plan();
    assert_eq!(again.code, 0, "re-plans empty:\n{}\n{}", again.stdout, again.stderr);

    // In place: the group's settings by UpdateAutoScalingGroup and the metrics calls,
    // the template's as its next version, which the group then rolls out.
    let changed = SPEC
        .replace("monitoring: { enabled: true }", "monitoring: { enabled: false }")
        .replace("capacity_rebalance: true", "capacity_rebalance: false")
        .replace("max_instance_lifetime: 604800", "max_instance_lifetime: 0")
        .replace("termination_policies: [OldestInstance, Default]", "termination_policies: [NewestInstance]")
        .replace("default_instance_warmup: 60", "default_instance_warmup: 120")
        .replace("enabled_metrics: [GroupInServiceInstances, GroupDesiredCapacity]", "enabled_metrics: [GroupInServiceInstances]")
        .replace("min_size: 1, max_size: 1 }", "min_size: 1, max_size: 2 }\n      - { scheduled_action_name: launch-day, start_time: \"2030-01-01T08:00:00Z\", min_size: 2, max_size: 2 }")
        .replace("    warm_pool: { min_size: 1, pool_state: Stopped, reuse_on_scale_in: true }\n", "");
    stack.write_spec(&changed);
    let plan = stack.plan();
    assert!(plan.stdout.contains("autoscaling_group.web will be updated in place"), "{}", plan.stdout);
    assert!(plan.stdout.contains("0 to replace"), "{}", plan.stdout);
    let applied = stack.apply();
    assert!(applied.stdout.contains("Apply complete!"), "{}\n{}", applied.stdout, applied.stderr);
    let g = read().await;
    assert_eq!(g.capacity_rebalance(), Some(false));
    assert_eq!(g.max_instance_lifetime().unwrap_or(0), 0);
    assert_eq!(g.termination_policies(), ["NewestInstance"]);
    assert_eq!(g.default_instance_warmup(), Some(120));
    let metrics: Vec<&str> = g.enabled_metrics().iter().filter_map(|m| m.metric()).collect();
    assert_eq!(metrics, ["GroupInServiceInstances"]);
    assert!(g.warm_pool_configuration().is_none(), "the warm pool is gone");
    let actions = aws.autoscaling().describe_scheduled_actions().auto_scaling_group_name(&name).send().await.unwrap();
    let mut names: Vec<(&str, Option<i32>)> = actions
        .scheduled_update_group_actions()
        .iter()
        .map(|a| (a.scheduled_action_name().unwrap(), a.max_size()))
        .collect();
    names.sort();
    assert_eq!(names, [("launch-day", Some(2)), ("night", Some(2))]);
    let versions =
        aws.ec2().describe_launch_template_versions().launch_template_id(&lt).versions("$Latest").send().await.unwrap();
    let latest = &versions.launch_template_versions()[0];
    assert_eq!(latest.version_number(), Some(2));
    assert_eq!(latest.launch_template_data().unwrap().monitoring().and_then(|m| m.enabled()), Some(false));
    let again = stack.plan();
    assert_eq!(again.code, 0, "re-plans empty:\n{}\n{}", again.stdout, again.stderr);

    stack.destroy_and_check_clean();
}
