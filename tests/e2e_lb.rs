//! End to end against the moto emulator: the load-balancing layer. The two example
//! stacks apply, re-plan empty and destroy to nothing tagged; template versions, the
//! instance refresh, create-before-destroy replacement, in-place updates and drift of
//! every kind are checked through the SDK.

mod support;

use support::{aws, group_instances, tagged_all, targets, Stack, FIXED_SERVERS, RECEIVER_BOOT, WEB_ASG, WEB_BOOT};

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
    for r in state.resources.iter().filter(|r| !["listener", "scaling_policy"].contains(&r.address.kind.name)) {
        assert_eq!(live.get(&r.id), Some(&r.address.tag_value()), "{} is not tagged", r.address);
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
    let lt = &state.resources.iter().find(|r| r.address.kind.name == "launch_template").unwrap().attributes;
    assert_eq!(lt["user_data"].as_str(), Some(WEB_BOOT));
    assert_eq!(lt["latest_version"].as_int(), Some(1));

    let again = stack.plan().expect_code(0);
    assert!(again.stdout.contains("No changes."), "{}", again.stdout);
    // The refresh stays batched: 24 calls for 13 objects of 12 kinds (see
    // docs/benchmarks.md for how that holds as stacks grow); the VPCs' default groups,
    // default ACLs and main tables, and the groups' scheduled actions, are one read
    // each for all of the stack's.
    assert!(again.stderr.contains("Read 13 live objects in 24 API calls"), "{}", again.stderr);

    // Editing the boot script: a new template version, and the group rolls onto it.
    stack.write_file("files/web-boot.sh", &format!("{WEB_BOOT}echo v2\n"));
    let edited = stack.plan().expect_code(2);
    assert!(edited.stdout.contains("note: new version 2; version 1 is kept"), "{}", edited.stdout);
    assert!(edited.stdout.contains("+ echo v2"), "{}", edited.stdout);
    assert!(edited.stdout.contains("launch_template_version = 1 -> 2"), "{}", edited.stdout);
    assert!(edited.stdout.contains("instance refresh"), "{}", edited.stdout);
    assert!(edited.stdout.contains("Plan: 0 to add, 2 to change, 0 to replace, 0 to destroy."), "{}", edited.stdout);

    // And it rolls: version 2 holds the new script, the group's instances are new and
    // launched from version 2 (moto needs the launcher's shim for that version's user
    // data, see crates/xtask/emulator.py).
    stack.apply();
    let rolled = group_instances(&group).await;
    assert_eq!(rolled.len(), 1);
    assert!(rolled.iter().all(|i| !instances.contains(i)), "{instances:?} -> {rolled:?}");
    let template = stack.id("launch_template.web");
    let v2 =
        aws.ec2().describe_launch_template_versions().launch_template_id(&template).versions("2").send().await.unwrap();
    let data = v2.launch_template_versions()[0].launch_template_data().unwrap();
    use base64::Engine;
    let script = base64::engine::general_purpose::STANDARD.decode(data.user_data().unwrap()).unwrap();
    assert!(String::from_utf8(script).unwrap().ends_with("echo v2\n"));
    let described = aws.ec2().describe_instances().set_instance_ids(Some(rolled.clone())).send().await.unwrap();
    for i in described.reservations().iter().flat_map(|r| r.instances()) {
        let lt = i.tags().iter().find(|t| t.key() == Some("aws:ec2launchtemplate:version")).and_then(|t| t.value());
        assert!(lt.is_none() || lt == Some("2"), "{:?}", i.tags());
    }
    let g = aws.autoscaling().describe_auto_scaling_groups().auto_scaling_group_names(&group).send().await.unwrap();
    assert_eq!(g.auto_scaling_groups()[0].launch_template().unwrap().version(), Some("2"));
    stack.plan().expect_code(0);

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
    instance_warmup: 1
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
    let aws = aws().await;

    // Every instance was replaced, by instances of the new type.
    let after = group_instances(&group).await;
    assert_eq!(after.len(), 2);
    assert!(after.iter().all(|i| !before.contains(i)), "{before:?} -> {after:?}");
    let described = aws.ec2().describe_instances().set_instance_ids(Some(after.clone())).send().await.unwrap();
    for i in described.reservations().iter().flat_map(|r| r.instances()) {
        assert_eq!(i.instance_type().map(|t| t.as_str()), Some("t3.small"));
    }
    let g = aws.autoscaling().describe_auto_scaling_groups().auto_scaling_group_names(&group).send().await.unwrap();
    assert_eq!(g.auto_scaling_groups()[0].launch_template().unwrap().version(), Some("2"));
    stack.plan().expect_code(0);

    // Sizes change in place.
    let small = replace(&replace(REFRESH, "t3.micro", "t3.small"), "min_size: 2", "min_size: 3");
    stack.write_spec(&small);
    stack.apply();
    assert_eq!(stack.id("autoscaling_group.app"), group);
    assert_eq!(group_instances(&group).await.len(), 3);
    stack.plan().expect_code(0);

    // A version made behind trellis's back is drift; trellis makes the next one.
    use trellis_aws::sdk::ec2::types::{InstanceType, RequestLaunchTemplateData};
    let data = RequestLaunchTemplateData::builder()
        .image_id("ami-0abcdef1234567890")
        .instance_type(InstanceType::T3Large)
        .build();
    aws.ec2()
        .create_launch_template_version()
        .launch_template_id(&template)
        .launch_template_data(data)
        .send()
        .await
        .unwrap();
    let plan = stack.plan().expect_code(2);
    assert!(plan.stdout.contains("# launch_template.app has changed"), "{}", plan.stdout);
    assert!(plan.stdout.contains("instance_type  = \"t3.small\" -> \"t3.large\""), "{}", plan.stdout);
    assert!(plan.stdout.contains("note: new version 4"), "{}", plan.stdout);
    stack.apply();
    stack.plan().expect_code(0);

    // Names given in the spec: the template and the group are replaced, new first.
    let named = replace(
        &replace(
            &small,
            "  launch_template.app:\n",
            "  launch_template.app:\n    launch_template_name: app-template\n",
        ),
        "  autoscaling_group.app:\n",
        "  autoscaling_group.app:\n    auto_scaling_group_name: app-group\n",
    );
    let named = named
        .replace("app-template", &format!("{}-tpl", stack.name))
        .replace("app-group", &format!("{}-grp", stack.name));
    stack.write_spec(&named);
    let plan = stack.plan().expect_code(2);
    assert!(plan.stdout.contains("+/- launch_template.app"), "{}", plan.stdout);
    assert!(plan.stdout.contains("+/- autoscaling_group.app"), "{}", plan.stdout);
    let applied = stack.apply();
    assert!(applied.stdout.contains("2 added, 0 changed, 2 destroyed"), "{}", applied.stdout);
    assert_eq!(stack.id("autoscaling_group.app"), format!("{}-grp", stack.name));
    assert_ne!(stack.id("launch_template.app"), template);
    assert_eq!(group_instances(&stack.id("autoscaling_group.app")).await.len(), 3);
    let old = aws.autoscaling().describe_auto_scaling_groups().auto_scaling_group_names(&group).send().await.unwrap();
    assert!(old.auto_scaling_groups().is_empty(), "the old group is still there");
    stack.plan().expect_code(0);
    stack.destroy_and_check_clean();
    assert!(tagged_all(&stack.name).await.is_empty());
}

#[tokio::test]
async fn fixed_servers_apply_update_drift_replace_and_destroy() {
    let stack = Stack::new("fixed", FIXED_SERVERS);
    stack.write_file("files/receiver-boot.sh", RECEIVER_BOOT);
    stack.apply();
    let state = stack.state();
    let tg = stack.id("target_group.receivers");
    let (a, b) = (stack.id("instance.receiver[0]"), stack.id("instance.receiver[1]"));
    let mut both = vec![a.clone(), b.clone()];
    both.sort();
    assert_eq!(targets(&tg).await, both);
    assert_eq!(state.outputs["receivers"].as_list().len(), 2);
    // The boot script went to the instance, base64-encoded, and reads back as text.
    let ud = aws()
        .await
        .ec2()
        .describe_instance_attribute()
        .instance_id(&a)
        .attribute(trellis_aws::sdk::ec2::types::InstanceAttributeName::UserData)
        .send()
        .await
        .unwrap();
    assert!(ud.user_data().and_then(|u| u.value()).is_some_and(|v| !v.contains("#!/bin/bash")));
    let receiver = state.resources.iter().find(|r| r.address.to_string() == "instance.receiver[0]").unwrap();
    assert_eq!(receiver.attributes["user_data"].as_str(), Some(RECEIVER_BOOT));
    stack.plan().expect_code(0);

    // In place: the balancer's idle timeout, the target group's health check path, and
    // the listener's action; ids stay.
    let lb = stack.id("load_balancer.front");
    let edited = replace(FIXED_SERVERS, "    health_check_path: /health", "    health_check_path: /ready");
    let edited = replace(
        &edited,
        "    security_groups: [\"${security_group.lb}\"]\n    depends_on",
        "    security_groups: [\"${security_group.lb}\"]\n    idle_timeout: 120\n    depends_on",
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

    // The copies' type changes in place (stopped, changed, started); the security groups
    // of one, changed behind trellis's back, are put back.
    aws.ec2().modify_instance_attribute().instance_id(&b).groups(stack.id("security_group.lb")).send().await.unwrap();
    let larger = replace(&edited, "  instance_type: t3.micro\n", "  instance_type: t3.small\n");
    stack.write_spec(&larger);
    let plan = stack.plan().expect_code(2);
    assert!(plan.stdout.contains("# instance.receiver[1] has changed"), "{}", plan.stdout);
    assert!(plan.stdout.contains("stopped, changed and started again"), "{}", plan.stdout);
    assert!(plan.stdout.contains("0 to add, 2 to change, 0 to replace"), "{}", plan.stdout);
    stack.apply();
    assert_eq!((stack.id("instance.receiver[0]"), stack.id("instance.receiver[1]")), (a.clone(), b.clone()));
    for id in [&a, &b] {
        let i = aws.ec2().describe_instances().instance_ids(id).send().await.unwrap();
        let i = &i.reservations()[0].instances()[0];
        assert_eq!(i.instance_type().map(|t| t.as_str()), Some("t3.small"));
        assert_eq!(i.security_groups()[0].group_id(), Some(stack.id("security_group.receivers").as_str()));
    }
    stack.write_spec(&edited);
    stack.apply();
    stack.plan().expect_code(0);

    // Drift: a target deregistered behind trellis's back is registered again.
    use trellis_aws::sdk::elb::types::TargetDescription;
    let target = TargetDescription::builder().id(&a).build();
    aws.elb().deregister_targets().target_group_arn(&tg).targets(target).send().await.unwrap();
    let drift = stack.plan().expect_code(2);
    assert!(
        drift.stdout.contains("target_group_attachment.receiver[0] was deleted outside of trellis"),
        "{}",
        drift.stdout
    );
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
    // (The registrations are replaced new-first too, so the first deposed object to go
    // is one of theirs; the old group is what must wait for the listener.)
    let deleted = applied.stdout.find("target_group.receivers (deposed …").unwrap();
    assert!(created < listener && listener < deleted, "{}", applied.stdout);
    assert!(stack.state().resources.iter().all(|r| !r.address.name.contains("deposed")));
    stack.plan().expect_code(0);

    // A changed image replaces the copies; the registrations follow them.
    stack.write_spec(&replace(
        &replace(&edited, "  target_group.receivers:\n    port: 8080", "  target_group.receivers:\n    port: 8081"),
        "  image: ami-0abcdef1234567890",
        "  image: ami-0fedcba9876543210",
    ));
    let plan = stack.plan().expect_code(2);
    assert!(
        plan.stdout.contains("instance.receiver[1] must be replaced: `image_id` forces replacement"),
        "{}",
        plan.stdout
    );
    stack.apply();
    let mut now = vec![stack.id("instance.receiver[0]"), stack.id("instance.receiver[1]")];
    assert!(!now.contains(&a) && !now.contains(&b), "{now:?}");
    now.sort();
    assert_eq!(targets(&new_tg).await, now);
    stack.plan().expect_code(0);

    stack.destroy_and_check_clean();
    assert!(tagged_all(&stack.name).await.is_empty(), "{:?}", tagged_all(&stack.name).await);
}

#[tokio::test]
async fn changes_behind_trellis_back_show_as_drift_and_are_repaired() {
    let stack = web_asg("lb-drift");
    stack.apply();
    let aws = aws().await;
    let (group, tg, lb) =
        (stack.id("autoscaling_group.web"), stack.id("target_group.web"), stack.id("load_balancer.web"));

    // One change per kind, with the SDK.
    aws.autoscaling().update_auto_scaling_group().auto_scaling_group_name(&group).max_size(5).send().await.unwrap();
    aws.elb().modify_target_group().target_group_arn(&tg).health_check_path("/other").send().await.unwrap();
    use trellis_aws::sdk::elb::types::{Action, ActionTypeEnum, FixedResponseActionConfig, LoadBalancerAttribute};
    let idle = LoadBalancerAttribute::builder().key("idle_timeout.timeout_seconds").value("300").build();
    aws.elb().modify_load_balancer_attributes().load_balancer_arn(&lb).attributes(idle).send().await.unwrap();
    let fixed = Action::builder()
        .r#type(ActionTypeEnum::FixedResponse)
        .fixed_response_config(FixedResponseActionConfig::builder().status_code("503").build())
        .build();
    aws.elb().modify_listener().listener_arn(stack.id("listener.http")).default_actions(fixed).send().await.unwrap();
    aws.autoscaling()
        .delete_policy()
        .auto_scaling_group_name(&group)
        .policy_name(format!("{}-cpu", stack.name))
        .send()
        .await
        .unwrap();

    let plan = stack.plan().expect_code(2);
    // Compared with the alignment spaces squeezed out.
    let squeezed = plan.stdout.split(' ').filter(|w| !w.is_empty()).collect::<Vec<_>>().join(" ");
    for seen in [
        "# autoscaling_group.web has changed",
        "max_size = 3 -> 5",
        "# target_group.web has changed",
        "health_check_path = \"/health\" -> \"/other\"",
        "# load_balancer.web has changed",
        "idle_timeout = 60 -> 300",
        "# listener.http has changed",
        "# scaling_policy.cpu was deleted outside of trellis",
        "Plan: 1 to add, 4 to change, 0 to replace, 0 to destroy.",
    ] {
        let seen = seen.split(' ').filter(|w| !w.is_empty()).collect::<Vec<_>>().join(" ");
        assert!(squeezed.contains(&seen), "no `{seen}` in\n{}", plan.stdout);
    }
    stack.apply();
    stack.plan().expect_code(0);
    let g = aws.autoscaling().describe_auto_scaling_groups().auto_scaling_group_names(&group).send().await.unwrap();
    assert_eq!(g.auto_scaling_groups()[0].max_size(), Some(3));
    let l = aws.elb().describe_listeners().listener_arns(stack.id("listener.http")).send().await.unwrap();
    assert_eq!(l.listeners()[0].default_actions()[0].target_group_arn(), Some(tg.as_str()));
    let p = aws.autoscaling().describe_policies().auto_scaling_group_name(&group).send().await.unwrap();
    assert_eq!(p.scaling_policies().len(), 1);

    // In place: the policy's target; replaced, new first: the balancer (its scheme) and
    // with it the listener, which cannot move to another balancer.
    let edited = replace(WEB_ASG, "target_value: 50", "target_value: 60");
    let edited = replace(
        &edited,
        "    security_groups: [\"${security_group.lb}\"]\n    depends_on",
        "    security_groups: [\"${security_group.lb}\"]\n    scheme: internal\n    depends_on",
    );
    stack.write_spec(&edited);
    let plan = stack.plan().expect_code(2);
    assert!(plan.stdout.contains("+/- load_balancer.web"), "{}", plan.stdout);
    assert!(plan.stdout.contains("-/+ listener.http"), "{}", plan.stdout);
    assert!(plan.stdout.contains("~ scaling_policy.cpu"), "{}", plan.stdout);
    let policy = stack.id("scaling_policy.cpu");
    stack.apply();
    assert_eq!(stack.id("scaling_policy.cpu"), policy);
    let p = aws.autoscaling().describe_policies().auto_scaling_group_name(&group).send().await.unwrap();
    let target = p.scaling_policies()[0].target_tracking_configuration().unwrap().target_value();
    assert_eq!(target, Some(60.0));
    let new_lb = stack.id("load_balancer.web");
    assert_ne!(new_lb, lb);
    let d = aws.elb().describe_load_balancers().load_balancer_arns(&new_lb).send().await.unwrap();
    assert_eq!(d.load_balancers()[0].scheme().map(|s| s.as_str()), Some("internal"));
    assert!(aws.elb().describe_load_balancers().load_balancer_arns(&lb).send().await.is_err(), "old balancer left");
    let l = aws.elb().describe_listeners().listener_arns(stack.id("listener.http")).send().await.unwrap();
    assert_eq!(l.listeners()[0].load_balancer_arn(), Some(new_lb.as_str()));
    stack.plan().expect_code(0);

    stack.destroy_and_check_clean();
    assert!(tagged_all(&stack.name).await.is_empty());
}

/// A stack of copies: subnets per key, a subnet group that lists them all, numbered
/// instances and an attachment per instance.
const COPIES: &str = r#"stack: copies
region: us-east-1
vars:
  servers: 2
resources:
  vpc.main:
    cidr_block: 10.4.0.0/16
  subnet.az:
    for_each:
      a: { cidr: 10.4.1.0/24, zone: us-east-1a }
      b: { cidr: 10.4.2.0/24, zone: us-east-1b }
    vpc_id: ${vpc.main}
    cidr_block: ${each.value.cidr}
    availability_zone: ${each.value.zone}
  db_subnet_group.db:
    subnet_ids: ${subnet.az[*].id}
  instance.web:
    count: ${var.servers}
    image_id: ami-0abcdef1234567890
    instance_type: t3.micro
    subnet_id: ${subnet.az["a"]}
  target_group.web:
    port: 80
    vpc_id: ${vpc.main}
  target_group_attachment.web:
    count: ${var.servers}
    target_group_arn: ${target_group.web}
    target_id: ${instance.web[count.index]}
outputs:
  ips: ${instance.web[*].private_ip}
"#;

async fn instance_state(id: &str) -> String {
    let out = aws().await.ec2().describe_instances().instance_ids(id).send().await.unwrap();
    let i = &out.reservations()[0].instances()[0];
    i.state().and_then(|s| s.name()).map(|n| n.as_str().to_string()).unwrap_or_default()
}

#[tokio::test]
async fn copies_grow_shrink_and_follow_their_keys() {
    let stack = Stack::new("copies", COPIES);
    stack.apply();
    let (web0, web1) = (stack.id("instance.web[0]"), stack.id("instance.web[1]"));
    let tg = stack.id("target_group.web");
    let mut both = vec![web0.clone(), web1.clone()];
    both.sort();
    assert_eq!(targets(&tg).await, both);
    assert_eq!(stack.state().outputs["ips"].as_list().len(), 2);
    // Each copy is tagged with its own address (in the tag-safe form) and named apart.
    let live = tagged_all(&stack.name).await;
    assert_eq!(live.get(&web1).map(String::as_str), Some("instance.web:1"));
    assert_eq!(live.get(&stack.id("subnet.az[\"b\"]")).map(String::as_str), Some("subnet.az/b"));
    let out = aws().await.ec2().describe_instances().instance_ids(&web1).send().await.unwrap();
    let name = out.reservations()[0].instances()[0].tags().iter().find(|t| t.key() == Some("Name")).cloned();
    assert_eq!(name.and_then(|t| t.value().map(str::to_string)), Some(format!("{}-web-1", stack.name)));
    let group = stack.id("db_subnet_group.db");
    let subnets = |g: String| async move {
        let out = aws().await.rds().describe_db_subnet_groups().db_subnet_group_name(g).send().await.unwrap();
        let mut ids: Vec<String> = out.db_subnet_groups()[0]
            .subnets()
            .iter()
            .filter_map(|s| s.subnet_identifier().map(str::to_string))
            .collect();
        ids.sort();
        ids
    };
    let mut az = vec![stack.id("subnet.az[\"a\"]"), stack.id("subnet.az[\"b\"]")];
    az.sort();
    assert_eq!(subnets(group.clone()).await, az);
    stack.plan().expect_code(0);

    // Growing the count adds the next copy and its attachment, nothing else.
    stack.write_spec(&replace(COPIES, "  servers: 2", "  servers: 3"));
    let plan = stack.plan().expect_code(2);
    assert!(plan.stdout.contains("Plan: 2 to add, 0 to change, 0 to replace, 0 to destroy."), "{}", plan.stdout);
    assert!(plan.stdout.contains("  + instance.web[2] {"), "{}", plan.stdout);
    stack.apply();
    assert_eq!((stack.id("instance.web[0]"), stack.id("instance.web[1]")), (web0.clone(), web1.clone()));
    let web2 = stack.id("instance.web[2]");
    assert_eq!(targets(&tg).await.len(), 3);
    // A target without a key is every copy; nothing is left to do for them.
    stack.run(&["plan", "{spec}", "--target", "target_group_attachment.web", "--detailed-exitcode"]).expect_code(0);

    // Shrinking it removes the highest indexes, attachments first, and says why.
    stack.write_spec(&replace(COPIES, "  servers: 2", "  servers: 1"));
    let plan = stack.plan().expect_code(2);
    assert!(plan.stdout.contains("Plan: 0 to add, 0 to change, 0 to replace, 4 to destroy."), "{}", plan.stdout);
    assert!(
        plan.stdout.contains("note: `instance.web` now has count 1: the copies from index 1 up go"),
        "{}",
        plan.stdout
    );
    stack.apply();
    assert_eq!(targets(&tg).await, vec![web0.clone()]);
    assert_eq!(stack.id("instance.web[0]"), web0);
    for gone in [&web1, &web2] {
        assert_eq!(instance_state(gone).await, "terminated", "{gone}");
    }
    assert_eq!(stack.state().outputs["ips"].as_list().len(), 1);
    stack.plan().expect_code(0);

    // A changed key set touches only the keys that changed: `b` goes, `c` comes, `a` and
    // what uses it stay; the subnet group follows in place.
    let a = stack.id("subnet.az[\"a\"]");
    let keys = replace(
        &replace(COPIES, "  servers: 2", "  servers: 1"),
        "      b: { cidr: 10.4.2.0/24, zone: us-east-1b }",
        "      c: { cidr: 10.4.3.0/24, zone: us-east-1c }",
    );
    stack.write_spec(&keys);
    let plan = stack.plan().expect_code(2);
    assert!(plan.stdout.contains("Plan: 1 to add, 1 to change, 0 to replace, 1 to destroy."), "{}", plan.stdout);
    assert!(plan.stdout.contains("note: \"b\" is no longer in `subnet.az`'s for_each"), "{}", plan.stdout);
    stack.apply();
    assert_eq!(stack.id("subnet.az[\"a\"]"), a);
    assert_eq!(stack.id("db_subnet_group.db"), group);
    let mut az = vec![a, stack.id("subnet.az[\"c\"]")];
    az.sort();
    assert_eq!(subnets(group).await, az);
    stack.plan().expect_code(0);

    stack.destroy_and_check_clean();
    assert!(tagged_all(&stack.name).await.is_empty(), "{:?}", tagged_all(&stack.name).await);
}

#[tokio::test]
async fn a_group_s_instances_are_the_group_s_not_orphans() {
    // Beside the group, a server of its own: instances are read, and the group's carry
    // the group's tags (propagated at launch).
    let spec = replace(
        WEB_ASG,
        "  load_balancer.web:\n",
        "  instance.bastion:\n    image_id: ${var.image}\n    instance_type: t3.micro\n    subnet_id: ${subnet.public_a}\n    security_group_ids: [\"${security_group.web}\"]\n    associate_public_ip_address: true\n\n  load_balancer.web:\n",
    );
    let stack = Stack::new("asg-orphans", &spec);
    stack.write_file("files/web-boot.sh", WEB_BOOT);
    stack.apply();
    let group = stack.id("autoscaling_group.web");
    let launched = group_instances(&group).await;
    assert_eq!(launched.len(), 1);
    // The group's instance does carry the stack's tags, naming the group.
    let live = tagged_all(&stack.name).await;
    assert_eq!(live.get(&launched[0]).map(String::as_str), Some("autoscaling_group.web"), "{live:?}");

    // The server asked for a public address, sent in its network interface as AWS
    // requires, and is in its group (the emulator's shim for moto's instance groups).
    let bastion = stack.id("instance.bastion");
    let out = aws().await.ec2().describe_instances().instance_ids(&bastion).send().await.unwrap();
    let i = &out.reservations()[0].instances()[0];
    assert!(i.public_ip_address().is_some());
    assert_eq!(i.security_groups()[0].group_id(), Some(stack.id("security_group.web").as_str()));

    let plan = stack.plan().expect_code(0);
    let said = format!("{}{}", plan.stdout, plan.stderr);
    assert!(!said.contains("no state knows it"), "{said}");
    // Adopting orphans takes none, and never records an instance under the group's address.
    stack.run(&["state", "adopt", "{spec}"]).expect_code(0);
    let apply = stack.run(&["apply", "{spec}", "--auto-approve", "--adopt-orphans"]).expect_code(0);
    assert!(!apply.stdout.contains(&launched[0]), "{}", apply.stdout);
    let state = stack.state();
    assert_eq!(state.get(&"autoscaling_group.web".parse().unwrap()).unwrap().id, group);
    for r in &state.resources {
        assert_ne!(r.id, launched[0], "{} records the group's instance", r.address);
    }
    stack.destroy_and_check_clean();
    assert!(tagged_all(&stack.name).await.is_empty(), "{:?}", tagged_all(&stack.name).await);
}

#[tokio::test]
async fn balancing_settings_are_set_read_and_changed_in_place() {
    let spec = replace(
        WEB_ASG,
        "    depends_on: [internet_gateway.main]\n",
        "    depends_on: [internet_gateway.main]\n    drop_invalid_header_fields: true\n",
    );
    let spec = replace(
        &spec,
        "    deregistration_delay: 30\n",
        "    deregistration_delay: 30\n    load_balancing_algorithm_type: least_outstanding_requests\n",
    );
    let stack = Stack::new("lb-settings", &spec);
    stack.write_file("files/web-boot.sh", WEB_BOOT);
    stack.apply();
    let elb = aws().await.elb().clone();
    let lb = stack.id("load_balancer.web");
    let tg = stack.id("target_group.web");
    let lb_attr = |key: &'static str| {
        let (elb, lb) = (elb.clone(), lb.clone());
        async move {
            let out = elb.describe_load_balancer_attributes().load_balancer_arn(&lb).send().await.unwrap();
            out.attributes().iter().find(|a| a.key() == Some(key)).and_then(|a| a.value()).map(str::to_string)
        }
    };
    let tg_attr = |key: &'static str| {
        let (elb, tg) = (elb.clone(), tg.clone());
        async move {
            let out = elb.describe_target_group_attributes().target_group_arn(&tg).send().await.unwrap();
            out.attributes().iter().find(|a| a.key() == Some(key)).and_then(|a| a.value()).map(str::to_string)
        }
    };
    assert_eq!(lb_attr("routing.http.drop_invalid_header_fields.enabled").await.as_deref(), Some("true"));
    assert_eq!(tg_attr("load_balancing.algorithm.type").await.as_deref(), Some("least_outstanding_requests"));
    let plan = stack.plan().expect_code(0);
    assert!(!plan.stdout.contains("lb-invalid-headers-kept"), "{}", plan.stdout);

    // Changed in place: the balancer and the group stay.
    let spec = std::fs::read_to_string(&stack.spec).unwrap();
    let spec = replace(&spec, "least_outstanding_requests", "round_robin");
    stack.write_spec(&replace(
        &spec,
        "    drop_invalid_header_fields: true\n",
        "    drop_invalid_header_fields: true\n    preserve_host_header: true\n",
    ));
    let plan = stack.plan().expect_code(2);
    assert!(plan.stdout.contains("Plan: 0 to add, 2 to change, 0 to replace, 0 to destroy."), "{}", plan.stdout);
    stack.apply();
    assert_eq!((stack.id("load_balancer.web"), stack.id("target_group.web")), (lb.clone(), tg.clone()));
    assert_eq!(lb_attr("routing.http.preserve_host_header.enabled").await.as_deref(), Some("true"));
    assert_eq!(tg_attr("load_balancing.algorithm.type").await.as_deref(), Some("round_robin"));
    stack.plan().expect_code(0);
    stack.destroy_and_check_clean();
}
