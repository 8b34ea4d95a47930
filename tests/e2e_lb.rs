//! End to end against the moto emulator: the load-balancing layer. The two example
//! stacks apply, re-plan empty and destroy to nothing tagged; template versions, the
//! instance refresh, create-before-destroy replacement, in-place updates and drift of
//! every kind are checked through the SDK.

mod support;

use support::{aws, group_instances, tagged_all, targets, Stack, FIXED_SERVERS, WEB_ASG, WEB_BOOT};

fn replace(text: &str, from: &str, to: &str) -> String {
    assert!(text.contains(from), "the spec has no `{from}`");
    text.replacen(from, to, 1)
}

fn web_asg(test: &str) -> Stack {
    let stack = Stack::new(test, WEB_ASG);
    stack.write_file("files/web-boot.sh", WEB_BOOT);
    stack
}

#[tokio::test]
async fn web_asg_applies_serves_replans_empty_and_destroys() {
    let stack = web_asg("web-asg");
    let applied = stack.apply();
    assert!(applied.stdout.contains("Apply complete! Resources: 13 added"), "{}", applied.stdout);
    let state = stack.state();
    assert!(state.outputs["url"].as_str().unwrap().starts_with("http://"), "{:?}", state.outputs);
    assert!(state.outputs["url"].as_str().unwrap().contains(".elb.amazonaws.com"));

    // Every object carries the stack's tags.
    let live = tagged_all(&stack.name).await;
    for r in state.resources.iter().filter(|r| !["listener", "scaling_policy"].contains(&r.kind.as_str())) {
        assert_eq!(live.get(&r.id), Some(&r.address.to_string()), "{} is not tagged", r.address);
    }
    // The group reached its capacity, and its instance is registered in the target group.
    let group = stack.id("autoscaling_group.web");
    let instances = group_instances(&group).await;
    assert_eq!(instances.len(), 1);
    assert_eq!(targets(&stack.id("target_group.web")).await, instances);
    // The listener forwards to the target group; the template holds the boot script.
    let aws = aws().await;
    let l = aws.elb().describe_listeners().listener_arns(stack.id("listener.http")).send().await.unwrap();
    assert_eq!(l.listeners()[0].default_actions()[0].target_group_arn(), Some(stack.id("target_group.web").as_str()));
    let state = stack.state();
    let lt = &state.resources.iter().find(|r| r.kind == "launch_template").unwrap().attributes;
    assert_eq!(lt["user_data"].as_str(), Some(WEB_BOOT));
    assert_eq!(lt["latest_version"].as_int(), Some(1));

    let again = stack.plan().expect_code(0);
    assert!(again.stdout.contains("No changes."), "{}", again.stdout);

    // Editing the boot script: a new template version, and the group rolls onto it.
    stack.write_file("files/web-boot.sh", &format!("{WEB_BOOT}echo v2\n"));
    let edited = stack.plan().expect_code(2);
    assert!(edited.stdout.contains("note: new version 2; version 1 is kept"), "{}", edited.stdout);
    assert!(edited.stdout.contains("+ echo v2"), "{}", edited.stdout);
    assert!(edited.stdout.contains("launch_template_version = 1 -> 2"), "{}", edited.stdout);
    assert!(edited.stdout.contains("instance refresh"), "{}", edited.stdout);
    assert!(edited.stdout.contains("Plan: 0 to add, 2 to change, 0 to replace, 0 to destroy."), "{}", edited.stdout);

    stack.destroy_and_check_clean();
    assert!(tagged_all(&stack.name).await.is_empty(), "{:?}", tagged_all(&stack.name).await);
}

const REFRESH: &str = r#"stack: refresh
resources:
  vpc.main:
    cidr_block: 10.7.0.0/16
  subnet.a:
    vpc_id: ${vpc.main}
    cidr_block: 10.7.1.0/24
    availability_zone: us-east-1a
  launch_template.app:
    image_id: ami-0abcdef1234567890
    instance_type: t3.micro
  autoscaling_group.app:
    launch_template_id: ${launch_template.app}
    min_size: 2
    max_size: 4
    vpc_zone_identifier: ["${subnet.a}"]
"#;

#[tokio::test]
async fn a_new_template_version_rolls_the_group_onto_it() {
    let stack = Stack::new("refresh", REFRESH);
    stack.apply();
    let group = stack.id("autoscaling_group.app");
    let before = group_instances(&group).await;
    assert_eq!(before.len(), 2);

    stack.write_spec(&replace(REFRESH, "t3.micro", "t3.small"));
    let plan = stack.plan().expect_code(2);
    assert!(plan.stdout.contains("note: new version 2"), "{}", plan.stdout);
    assert!(plan.stdout.contains("instance refresh"), "{}", plan.stdout);
    // The template is kept (same id), not replaced.
    assert!(!plan.stdout.contains("must be replaced"), "{}", plan.stdout);
    let template = stack.id("launch_template.app");
    stack.apply();
    assert_eq!(stack.id("launch_template.app"), template);

    // Every instance was replaced, by instances of the new type.
    let after = group_instances(&group).await;
    assert_eq!(after.len(), 2);
    assert!(after.iter().all(|i| !before.contains(i)), "{before:?} -> {after:?}");
    let aws = aws().await;
    let described = aws.ec2().describe_instances().set_instance_ids(Some(after.clone())).send().await.unwrap();
    for i in described.reservations().iter().flat_map(|r| r.instances()) {
        assert_eq!(i.instance_type().map(|t| t.as_str()), Some("t3.small"));
    }
    let g = aws.autoscaling().describe_auto_scaling_groups().auto_scaling_group_names(&group).send().await.unwrap();
    assert_eq!(g.auto_scaling_groups()[0].launch_template().unwrap().version(), Some("2"));
    stack.plan().expect_code(0);

    // Sizes change in place.
    stack.write_spec(&replace(&replace(REFRESH, "t3.micro", "t3.small"), "min_size: 2", "min_size: 3"));
    stack.apply();
    assert_eq!(stack.id("autoscaling_group.app"), group);
    assert_eq!(group_instances(&group).await.len(), 3);
    stack.plan().expect_code(0);
    stack.destroy_and_check_clean();
    assert!(tagged_all(&stack.name).await.is_empty());
}

#[tokio::test]
async fn fixed_servers_apply_update_drift_replace_and_destroy() {
    let stack = Stack::new("fixed", FIXED_SERVERS);
    stack.apply();
    let state = stack.state();
    let tg = stack.id("target_group.receivers");
    let (a, b) = (stack.id("instance.receiver_a"), stack.id("instance.receiver_b"));
    let mut both = vec![a.clone(), b.clone()];
    both.sort();
    assert_eq!(targets(&tg).await, both);
    assert_eq!(state.outputs["receivers"].as_list().len(), 2);
    stack.plan().expect_code(0);

    // In place: the balancer's idle timeout, the target group's health check path, and
    // the listener's action; ids stay.
    let lb = stack.id("load_balancer.front");
    let edited = replace(FIXED_SERVERS, "      path: /health", "      path: /ready");
    let edited = replace(
        &edited,
        "    security_group_ids: [\"${security_group.lb}\"]\n    depends_on",
        "    security_group_ids: [\"${security_group.lb}\"]\n    idle_timeout: 120\n    depends_on",
    );
    stack.write_spec(&edited);
    let plan = stack.plan().expect_code(2);
    assert!(plan.stdout.contains("Plan: 0 to add, 2 to change, 0 to replace, 0 to destroy."), "{}", plan.stdout);
    stack.apply();
    assert_eq!(stack.id("load_balancer.front"), lb);
    assert_eq!(stack.id("target_group.receivers"), tg);
    let aws = aws().await;
    let attrs = aws.elb().describe_load_balancer_attributes().load_balancer_arn(&lb).send().await.unwrap();
    let idle = attrs.attributes().iter().find(|a| a.key() == Some("idle_timeout.timeout_seconds")).unwrap();
    assert_eq!(idle.value(), Some("120"));
    let g = aws.elb().describe_target_groups().target_group_arns(&tg).send().await.unwrap();
    assert_eq!(g.target_groups()[0].health_check_path(), Some("/ready"));
    stack.plan().expect_code(0);

    // Drift: a target deregistered behind trellis's back is registered again.
    use trellis_aws::sdk::elb::types::TargetDescription;
    let target = TargetDescription::builder().id(&a).build();
    aws.elb().deregister_targets().target_group_arn(&tg).targets(target).send().await.unwrap();
    let drift = stack.plan().expect_code(2);
    assert!(drift.stdout.contains("target_group_attachment.a was deleted outside of trellis"), "{}", drift.stdout);
    stack.apply();
    assert_eq!(targets(&tg).await, both);

    // A port change replaces the target group, new one first: the listener moves over
    // and the old group goes last.
    stack.write_spec(&replace(
        &edited,
        "  target_group.receivers:\n    port: 8080",
        "  target_group.receivers:\n    port: 8081",
    ));
    let plan = stack.plan().expect_code(2);
    assert!(plan.stdout.contains("+/- target_group.receivers"), "{}", plan.stdout);
    assert!(plan.stdout.contains("create before destroy"), "{}", plan.stdout);
    let applied = stack.apply();
    let new_tg = stack.id("target_group.receivers");
    assert_ne!(new_tg, tg);
    let l = aws.elb().describe_listeners().listener_arns(stack.id("listener.http")).send().await.unwrap();
    assert_eq!(l.listeners()[0].default_actions()[0].target_group_arn(), Some(new_tg.as_str()));
    assert_eq!(targets(&new_tg).await, both);
    let old = aws.elb().describe_target_groups().target_group_arns(&tg).send().await;
    assert!(old.is_err(), "the old target group is still there");
    let created = applied.stdout.find("target_group.receivers: Created").unwrap();
    let listener = applied.stdout.find("listener.http: Updated").unwrap();
    let deleted = applied.stdout.find("__deposed_").unwrap();
    assert!(created < listener && listener < deleted, "{}", applied.stdout);
    assert!(stack.state().resources.iter().all(|r| !r.address.name.contains("deposed")));
    stack.plan().expect_code(0);

    // A changed image replaces an instance; the registration follows it.
    stack.write_spec(&replace(
        &replace(&edited, "  target_group.receivers:\n    port: 8080", "  target_group.receivers:\n    port: 8081"),
        "  instance.receiver_b:\n    image_id: ${var.image}",
        "  instance.receiver_b:\n    image_id: ami-0fedcba9876543210",
    ));
    let plan = stack.plan().expect_code(2);
    assert!(
        plan.stdout.contains("instance.receiver_b must be replaced: `image_id` forces replacement"),
        "{}",
        plan.stdout
    );
    stack.apply();
    let new_b = stack.id("instance.receiver_b");
    assert_ne!(new_b, b);
    let mut now = vec![a.clone(), new_b];
    now.sort();
    assert_eq!(targets(&new_tg).await, now);
    stack.plan().expect_code(0);

    stack.destroy_and_check_clean();
    assert!(tagged_all(&stack.name).await.is_empty(), "{:?}", tagged_all(&stack.name).await);
}
