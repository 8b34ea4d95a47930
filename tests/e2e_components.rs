//! End to end against the moto emulator: a stack made of components. The services
//! example (`specs/examples/services.yaml`) uses one component twice, through
//! `for_each` over a map variable; it applies, AWS holds each use's objects under its
//! own names with the stack's and the component's tags, it re-plans empty and destroys
//! to nothing. A flat stack refactored into a component with `moved:` keeps every
//! object: the plan replaces nothing and the apply only rewrites addresses.

mod support;

use support::{aws, Stack};

const SERVICES: &str = include_str!("../specs/examples/services.yaml");
const SERVICE: &str = include_str!("../specs/examples/components/service/component.yaml");
const BOOT: &str = include_str!("../specs/examples/components/service/boot.sh.tpl");

/// The tags AWS holds on a load balancing object.
async fn elb_tags(arn: &str) -> std::collections::BTreeMap<String, String> {
    let out = aws().await.elb().describe_tags().resource_arns(arn).send().await.unwrap();
    out.tag_descriptions()[0]
        .tags()
        .iter()
        .map(|t| (t.key().unwrap().to_string(), t.value().unwrap().to_string()))
        .collect()
}

#[tokio::test]
async fn a_component_used_twice_applies_replans_empty_and_destroys() {
    let stack = Stack::new("components", SERVICES);
    stack.write_file("components/service/component.yaml", SERVICE);
    stack.write_file("components/service/boot.sh.tpl", BOOT);
    let applied = stack.apply();
    assert!(applied.stdout.contains("Apply complete! Resources: 17 added"), "{}\n{}", applied.stdout, applied.stderr);
    let aws = aws().await;

    // Each use made its own objects, named after the stack, the component and its key.
    for (key, port, priority, path) in [("api", 8081, "10", "/api/*"), ("admin", 8082, "20", "/admin/*")] {
        let tg = stack.id(&format!("component.svc[\"{key}\"].target_group.app"));
        let out = aws.elb().describe_target_groups().target_group_arns(&tg).send().await.unwrap();
        let group = &out.target_groups()[0];
        assert_eq!(group.target_group_name(), Some(format!("{}-svc-{key}-app", stack.name).as_str()));
        assert_eq!(group.port(), Some(port));
        // The stack's tags and the component's, and the address trellis finds it by.
        let tags = elb_tags(&tg).await;
        assert_eq!(tags["Team"], "platform");
        assert_eq!(tags["Component"], "service");
        assert_eq!(tags["trellis:address"], format!("component.svc/{key}.target_group.app"));

        let rule = stack.id(&format!("component.svc[\"{key}\"].listener_rule.app"));
        let out = aws.elb().describe_rules().rule_arns(&rule).send().await.unwrap();
        let rule = &out.rules()[0];
        assert_eq!(rule.priority(), Some(priority));
        assert_eq!(rule.conditions()[0].path_pattern_config().unwrap().values(), [path]);
        assert_eq!(rule.actions()[0].target_group_arn(), Some(tg.as_str()));

        let name = stack.id(&format!("component.svc[\"{key}\"].autoscaling_group.app"));
        let out =
            aws.autoscaling().describe_auto_scaling_groups().auto_scaling_group_names(&name).send().await.unwrap();
        let asg = &out.auto_scaling_groups()[0];
        assert_eq!(asg.target_group_arns(), std::slice::from_ref(&tg));
        let template = stack.id(&format!("component.svc[\"{key}\"].launch_template.app"));
        assert_eq!(asg.launch_template().unwrap().launch_template_id(), Some(template.as_str()));
        // Its boot script, rendered by `templatefile` with this use's values.
        let versions = aws
            .ec2()
            .describe_launch_template_versions()
            .launch_template_id(&template)
            .versions("1")
            .send()
            .await
            .unwrap();
        let data = versions.launch_template_versions()[0].launch_template_data().unwrap();
        use base64::Engine;
        let script = base64::engine::general_purpose::STANDARD.decode(data.user_data().unwrap()).unwrap();
        let script = String::from_utf8(script).unwrap();
        assert!(script.contains(&format!("The {key} service: answers /health and /{key}/ on port {port}")), "{script}");
        assert!(script.contains(&format!("http.server {port} ")), "{script}");
    }
    // The stack's output reads the component's.
    let api = stack.id("component.svc[\"api\"].target_group.app");
    assert_eq!(stack.state().outputs["api_group"].as_str(), Some(api.as_str()));

    let again = stack.plan();
    assert_eq!(again.code, 0, "the second plan is empty:\n{}\n{}", again.stdout, again.stderr);

    // A change inside one use is planned under its component.
    stack.write_file(
        "components/service/component.yaml",
        &SERVICE.replace("deregistration_delay: 30", "deregistration_delay: 20"),
    );
    let changed = stack.plan();
    assert_eq!(changed.code, 2, "{}\n{}", changed.stdout, changed.stderr);
    assert!(changed.stdout.contains("── component.svc[\"api\"] ──"), "{}", changed.stdout);
    assert!(changed.stdout.contains("Plan: 0 to add, 2 to change, 0 to replace, 0 to destroy."), "{}", changed.stdout);

    stack.destroy_and_check_clean();
    let left = aws.elb().describe_target_groups().send().await.unwrap();
    assert!(
        left.target_groups().iter().all(|g| !g.target_group_name().unwrap_or("").starts_with(&stack.name)),
        "every target group of the stack is gone"
    );
}

const FLAT: &str = r#"stack: flat
region: us-east-1
resources:
  vpc.main:
    cidr_block: 10.0.0.0/16
  subnet.a:
    vpc_id: ${vpc.main}
    cidr_block: 10.0.1.0/24
    availability_zone: us-east-1a
  target_group.api:
    port: 8081
    vpc_id: ${vpc.main}
  launch_template.api:
    image_id: ami-0abcdef1234567890
    instance_type: t3.micro
  autoscaling_group.api:
    launch_template_id: ${launch_template.api}
    min_size: 1
    max_size: 2
    vpc_zone_identifier: ["${subnet.a}"]
    target_group_arns: ["${target_group.api}"]
"#;

const APP: &str = r#"inputs:
  vpc_id: { type: string }
  subnet_ids: { type: list }
  port: { type: number }
resources:
  target_group.app:
    port: ${var.port}
    vpc_id: ${var.vpc_id}
  launch_template.app:
    image_id: ami-0abcdef1234567890
    instance_type: t3.micro
  autoscaling_group.app:
    launch_template_id: ${launch_template.app}
    min_size: 1
    max_size: 2
    vpc_zone_identifier: ${var.subnet_ids}
    target_group_arns: ["${target_group.app}"]
outputs:
  group: ${target_group.app}
"#;

#[tokio::test]
async fn a_flat_stack_moved_into_a_component_replaces_nothing() {
    let stack = Stack::new("extract", FLAT);
    stack.apply();
    let before: Vec<String> =
        ["target_group.api", "launch_template.api", "autoscaling_group.api"].iter().map(|a| stack.id(a)).collect();

    // The three objects become a component's; the AWS names they were given stay theirs
    // (a name trellis made up is kept from the state), only their `Name` tags follow.
    stack.write_file("parts/app/component.yaml", APP);
    let extracted = FLAT.split("  target_group.api:").next().unwrap().to_string()
        + r#"components:
  web:
    source: ./parts/app
    inputs:
      vpc_id: ${vpc.main}
      subnet_ids: ["${subnet.a}"]
      port: 8081
moved:
  - { from: target_group.api, to: component.web.target_group.app }
  - { from: launch_template.api, to: component.web.launch_template.app }
  - { from: autoscaling_group.api, to: component.web.autoscaling_group.app }
"#;
    stack.write_spec(&extracted);
    let plan = stack.plan();
    assert_eq!(plan.code, 2, "{}\n{}", plan.stdout, plan.stderr);
    assert!(plan.stdout.contains("target_group.api has moved to component.web.target_group.app"), "{}", plan.stdout);
    assert!(plan.stdout.contains("0 to add"), "{}", plan.stdout);
    assert!(plan.stdout.contains("0 to replace, 0 to destroy"), "{}", plan.stdout);
    stack.apply();
    let after: Vec<String> =
        ["component.web.target_group.app", "component.web.launch_template.app", "component.web.autoscaling_group.app"]
            .iter()
            .map(|a| stack.id(a))
            .collect();
    assert_eq!(before, after, "the same objects, at their new addresses");
    let tags = elb_tags(&after[0]).await;
    assert_eq!(tags["trellis:address"], "component.web.target_group.app");
    let again = stack.plan();
    assert_eq!(again.code, 0, "{}\n{}", again.stdout, again.stderr);
    stack.destroy_and_check_clean();
}
