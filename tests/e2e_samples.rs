//! End to end against the moto emulator: AWS's own sample templates (issue #39), as
//! `specs/examples/` writes them, each with every setting of its template that is in
//! trellis's domain. Each applies, reads back as written, re-plans empty, takes an edit
//! where the template has something to change, and destroys to nothing.

mod support;

use support::{
    aws, issued_certificate, tagged_all, Stack, ASG_NOTIFICATIONS, EIP_ASSOCIATION, MYSQL_READ_REPLICA, SERVERS_PUB,
    VPC_MANAGED_NAT, WEB_BOOT, WORDPRESS_MULTI_AZ,
};
use trellis_core::Value;

fn output(stack: &Stack, name: &str) -> Option<Value> {
    stack.state().outputs.get(name).cloned()
}

fn empty_replan(stack: &Stack, args: &[&str], env: &[(&str, &str)]) {
    let mut plan = vec!["plan", "{spec}", "--detailed-exitcode"];
    plan.extend_from_slice(args);
    let again = stack.run_env(&plan, env).expect_code(0);
    assert!(again.stdout.contains("No changes."), "{}", again.stdout);
}

fn destroyed(stack: &Stack, args: &[&str], env: &[(&str, &str)]) {
    let mut destroy = vec!["destroy", "{spec}", "--auto-approve"];
    destroy.extend_from_slice(args);
    stack.run_env(&destroy, env).expect_code(0);
    assert!(stack.state().resources.is_empty());
}

#[tokio::test]
async fn the_vpc_with_managed_nat_sample_applies_replans_empty_and_destroys() {
    let stack = Stack::new("sample-vpc-nat", VPC_MANAGED_NAT);
    let applied = stack.apply();
    assert!(applied.stdout.contains("Resources: 14 added"), "{}", applied.stdout);
    let ec2 = aws().await.ec2().clone();

    // Each private subnet reaches out through the NAT gateway of its own zone.
    for i in 0..2 {
        let table = stack.id(&format!("route_table.private[{i}]"));
        let nat = stack.id(&format!("nat_gateway.zone[{i}]"));
        let out = ec2.describe_route_tables().route_table_ids(&table).send().await.unwrap();
        let t = &out.route_tables()[0];
        assert!(t.routes().iter().any(|r| r.nat_gateway_id() == Some(nat.as_str())), "{t:?}");
        let subnets: Vec<&str> = t.associations().iter().filter_map(|a| a.subnet_id()).collect();
        assert_eq!(subnets, [stack.id(&format!("subnet.private[{i}]")).as_str()]);
        let nats = ec2.describe_nat_gateways().nat_gateway_ids(&nat).send().await.unwrap();
        let placed = nats.nat_gateways()[0].subnet_id().unwrap().to_string();
        assert_eq!(placed, stack.id(&format!("subnet.public[{i}]")));
    }
    // The two public subnets share the ACL that lets everything through, in the zones
    // the lookup named first and second.
    let acl = stack.id("network_acl.public");
    let out = ec2.describe_network_acls().network_acl_ids(&acl).send().await.unwrap();
    let a = &out.network_acls()[0];
    let mut associated: Vec<String> =
        a.associations().iter().filter_map(|x| x.subnet_id().map(str::to_string)).collect();
    associated.sort();
    let mut public = vec![stack.id("subnet.public[0]"), stack.id("subnet.public[1]")];
    public.sort();
    assert_eq!(associated, public);
    assert!(a.entries().iter().any(|e| e.rule_number() == Some(100) && e.protocol() == Some("-1")));
    let zones = ec2.describe_availability_zones().send().await.unwrap();
    let first: Vec<String> =
        zones.availability_zones().iter().take(2).filter_map(|z| z.zone_name().map(str::to_string)).collect();
    let subnets = ec2
        .describe_subnets()
        .subnet_ids(stack.id("subnet.public[0]"))
        .subnet_ids(stack.id("subnet.public[1]"))
        .send()
        .await
        .unwrap();
    let mut placed: Vec<String> =
        subnets.subnets().iter().filter_map(|s| s.availability_zone().map(str::to_string)).collect();
    placed.sort();
    assert_eq!(placed, first);
    // The VPC's default security group is an output, as the template exports it.
    let vpc = stack.id("vpc.main");
    let groups = ec2
        .describe_security_groups()
        .filters(trellis_aws::sdk::ec2::types::Filter::builder().name("vpc-id").values(&vpc).build())
        .filters(trellis_aws::sdk::ec2::types::Filter::builder().name("group-name").values("default").build())
        .send()
        .await
        .unwrap();
    let default = groups.security_groups()[0].group_id().unwrap().to_string();
    assert_eq!(output(&stack, "default_security_group"), Some(Value::Str(default)));

    empty_replan(&stack, &[], &[]);
    destroyed(&stack, &[], &[]);
    let left = tagged_all(&stack.name).await;
    assert!(left.is_empty(), "{left:?}");
}

#[tokio::test]
async fn the_auto_scaling_sample_notifies_scales_by_alarms_and_serves_https() {
    let stack = Stack::new("sample-asg", ASG_NOTIFICATIONS);
    stack.write_file("files/web-boot.sh", WEB_BOOT);
    stack.write_file("files/servers.pub", SERVERS_PUB);
    // Issued, as AWS needs a listener's certificates to be (pre-flight checks it).
    let (main, other) = (issued_certificate("www.example.com").await, issued_certificate("shop.example.com").await);
    let topic = "arn:aws:sns:us-east-1:123456789012:ops";
    let vars = |cert: &str| vec![format!("notification_topic={topic}"), format!("certificate_arn={cert}")];
    let args = |v: &[String]| -> Vec<String> { v.iter().flat_map(|x| ["--var".to_string(), x.clone()]).collect() };
    let given = args(&vars(&main));
    let given: Vec<&str> = given.iter().map(String::as_str).collect();
    let mut apply = vec!["apply", "{spec}", "--auto-approve"];
    apply.extend_from_slice(&given);
    let applied = stack.run(&apply).expect_code(0);
    assert!(applied.stdout.contains("Resources: 17 added"), "{}", applied.stdout);
    let aws = aws().await;

    // HTTPS with the template's policy and certificate.
    let listener = stack.id("listener.https");
    let l = aws.elb().describe_listeners().listener_arns(&listener).send().await.unwrap();
    let l = &l.listeners()[0];
    assert_eq!(l.ssl_policy(), Some("ELBSecurityPolicy-2016-08"));
    assert_eq!(l.certificates()[0].certificate_arn(), Some(main.as_str()));
    // The group tells the topic of the four kinds of event, and nothing else.
    let group = stack.id("autoscaling_group.web");
    let told =
        aws.autoscaling().describe_notification_configurations().auto_scaling_group_names(&group).send().await.unwrap();
    let mut kinds: Vec<&str> =
        told.notification_configurations().iter().filter_map(|n| n.notification_type()).collect();
    kinds.sort();
    assert_eq!(
        kinds,
        [
            "autoscaling:EC2_INSTANCE_LAUNCH",
            "autoscaling:EC2_INSTANCE_LAUNCH_ERROR",
            "autoscaling:EC2_INSTANCE_TERMINATE",
            "autoscaling:EC2_INSTANCE_TERMINATE_ERROR"
        ]
    );
    assert!(told.notification_configurations().iter().all(|n| n.topic_arn() == Some(topic)));
    // Simple policies of one instance either way, each fired by its CPU alarm.
    for (policy, step, alarm) in [("up", 1, "cpu_high"), ("down", -1, "cpu_low")] {
        let arn = stack.id(&format!("scaling_policy.{policy}"));
        let out = aws.autoscaling().describe_policies().auto_scaling_group_name(&group).send().await.unwrap();
        let p = out.scaling_policies().iter().find(|p| p.policy_arn() == Some(arn.as_str())).expect("the policy");
        assert_eq!(
            (p.policy_type(), p.adjustment_type(), p.scaling_adjustment(), p.cooldown()),
            (Some("SimpleScaling"), Some("ChangeInCapacity"), Some(step), Some(60))
        );
        let name = stack.id(&format!("metric_alarm.{alarm}"));
        let a = aws.cloudwatch().describe_alarms().alarm_names(&name).send().await.unwrap();
        assert_eq!(a.metric_alarms()[0].alarm_actions(), [arn]);
    }
    let mut plan = vec!["plan", "{spec}", "--detailed-exitcode"];
    plan.extend_from_slice(&given);
    let again = stack.run(&plan).expect_code(0);
    assert!(again.stdout.contains("No changes."), "{}", again.stdout);

    // A second certificate, served by SNI, and one notification type fewer: in place.
    let spec = std::fs::read_to_string(&stack.spec).unwrap();
    let edited = spec
        .replace(
            "      - certificate_arn: ${var.certificate_arn}\n",
            &format!("      - certificate_arn: ${{var.certificate_arn}}\n      - certificate_arn: {other}\n"),
        )
        .replace("          - autoscaling:EC2_INSTANCE_TERMINATE_ERROR\n", "");
    stack.write_spec(&edited);
    let changed = stack.run(&apply).expect_code(0);
    assert!(changed.stdout.contains("0 added, 2 changed, 0 destroyed"), "{}", changed.stdout);
    let certs = aws.elb().describe_listener_certificates().listener_arn(&listener).send().await.unwrap();
    let mut served: Vec<&str> = certs.certificates().iter().filter_map(|c| c.certificate_arn()).collect();
    served.sort();
    let mut want = vec![main.as_str(), other.as_str()];
    want.sort();
    assert_eq!(served, want);
    let told =
        aws.autoscaling().describe_notification_configurations().auto_scaling_group_names(&group).send().await.unwrap();
    assert_eq!(told.notification_configurations().len(), 3);
    let again = stack.run(&plan).expect_code(0);
    assert!(again.stdout.contains("No changes."), "{}", again.stdout);

    let mut destroy = vec!["destroy", "{spec}", "--auto-approve"];
    destroy.extend_from_slice(&given);
    stack.run(&destroy).expect_code(0);
    assert!(stack.state().resources.is_empty());
    let left = tagged_all(&stack.name).await;
    assert!(left.is_empty(), "{left:?}");
}

#[tokio::test]
async fn the_mysql_read_replica_sample_makes_its_replica_only_when_asked() {
    let stack = Stack::new("sample-mysql", MYSQL_READ_REPLICA);
    let env = [("DB_PASSWORD", "sample-password-1")];
    let user = ["--var", "db_user=admin"];
    let applied = stack.run_env(&["apply", "{spec}", "--auto-approve", "--var", "db_user=admin"], &env).expect_code(0);
    assert!(applied.stdout.contains("Resources: 7 added"), "{}", applied.stdout);
    let aws = aws().await;
    let main = stack.id("db_instance.main");
    let out = aws.rds().describe_db_instances().db_instance_identifier(&main).send().await.unwrap();
    let db = &out.db_instances()[0];
    assert_eq!(
        (db.engine(), db.storage_encrypted(), db.backup_retention_period(), db.allocated_storage(), db.db_name()),
        (Some("mysql"), Some(true), Some(7), Some(20), Some("MyDatabase"))
    );
    let replica = stack.id("db_instance.replica[0]");
    let out = aws.rds().describe_db_instances().db_instance_identifier(&replica).send().await.unwrap();
    assert_eq!(out.db_instances()[0].read_replica_source_db_instance_identifier(), Some(main.as_str()));
    let jdbc = output(&stack, "replica_jdbc_connection_string").expect("the replica's output");
    assert!(jdbc.as_str().is_some_and(|s| s.starts_with("jdbc:mysql://") && s.ends_with("/MyDatabase")), "{jdbc:?}");
    // The database's group admits the VPC's default group, as the template's parameter does.
    let group = stack.id("security_group.db");
    let sg = aws.ec2().describe_security_groups().group_ids(&group).send().await.unwrap();
    let pairs = sg.security_groups()[0].ip_permissions()[0].user_id_group_pairs().to_vec();
    let vpc_default =
        stack.state().get(&"vpc.main".parse().unwrap()).unwrap().attributes["default_security_group_id"].clone();
    assert_eq!(pairs[0].group_id(), vpc_default.as_str());
    // `engine: MySQL` is AWS's `mysql`: no drift.
    empty_replan(&stack, &user, &env);

    // No replica: it goes (with consent, as every database does), and so does its output.
    let without = ["--var", "db_user=admin", "--var", "enable_read_replica=false"];
    let mut apply = vec!["apply", "{spec}", "--auto-approve", "--allow-data-loss"];
    apply.extend_from_slice(&without);
    let dropped = stack.run_env(&apply, &env).expect_code(0);
    assert!(dropped.stdout.contains("1 destroyed"), "{}", dropped.stdout);
    assert_eq!(output(&stack, "replica_jdbc_connection_string"), None);
    assert!(output(&stack, "jdbc_connection_string").is_some());
    empty_replan(&stack, &without, &env);

    destroyed(&stack, &["--allow-data-loss", "--var", "db_user=admin"], &env);
    let left = tagged_all(&stack.name).await;
    assert!(left.is_empty(), "{left:?}");
}

#[tokio::test]
async fn the_eip_sample_tells_an_instance_its_own_address() {
    let stack = Stack::new("sample-eip", EIP_ASSOCIATION);
    stack.write_file("files/servers.pub", SERVERS_PUB);
    let applied = stack.apply();
    assert!(applied.stdout.contains("Resources: 5 added"), "{}", applied.stdout);
    let aws = aws().await;
    let instance = stack.id("instance.server");
    let allocation = stack.id("elastic_ip.address");
    let out = aws.ec2().describe_addresses().allocation_ids(&allocation).send().await.unwrap();
    let address = &out.addresses()[0];
    assert_eq!(address.instance_id(), Some(instance.as_str()));
    assert_eq!(address.association_id(), Some(stack.id("elastic_ip_association.address").as_str()));
    let ip = address.public_ip().unwrap().to_string();
    // The instance was told the address it now answers on.
    let data = aws
        .ec2()
        .describe_instance_attribute()
        .instance_id(&instance)
        .attribute("userData".into())
        .send()
        .await
        .unwrap();
    let text = data.user_data().and_then(|u| u.value()).unwrap();
    use base64::Engine;
    let decoded = String::from_utf8(base64::engine::general_purpose::STANDARD.decode(text).unwrap()).unwrap();
    assert_eq!(decoded, format!("IPAddress={ip}"));
    assert_eq!(output(&stack, "instance_ip_address"), Some(Value::Str(ip)));
    // The address's association is the association's: the address plans no change.
    empty_replan(&stack, &[], &[]);
    // Nor is it drift: the address's instance was set by the spec's own association,
    // and the instance's public address by the Elastic IP.
    let drift = stack.run(&["drift", "{spec}"]);
    assert_eq!(drift.code, 0, "{}{}", drift.stdout, drift.stderr);

    destroyed(&stack, &[], &[]);
    let out = aws
        .ec2()
        .describe_addresses()
        .filters(trellis_aws::sdk::ec2::types::Filter::builder().name("allocation-id").values(&allocation).build())
        .send()
        .await
        .unwrap();
    assert!(out.addresses().is_empty(), "the address is released");
    let left = tagged_all(&stack.name).await;
    assert!(left.is_empty(), "{left:?}");
}

#[tokio::test]
async fn the_wordpress_sample_keeps_sessions_sticky_behind_its_balancer() {
    let stack = Stack::new("sample-wordpress", WORDPRESS_MULTI_AZ);
    stack.write_file("files/servers.pub", SERVERS_PUB);
    let env = [("DB_PASSWORD", "sample-password-2")];
    let user = ["--var", "db_user=wpadmin"];
    let applied =
        stack.run_env(&["apply", "{spec}", "--auto-approve", "--var", "db_user=wpadmin"], &env).expect_code(0);
    assert!(applied.stdout.contains("Resources: 9 added"), "{}", applied.stdout);
    let aws = aws().await;
    let tg = stack.id("target_group.web");
    let attrs = aws.elb().describe_target_group_attributes().target_group_arn(&tg).send().await.unwrap();
    let get =
        |k: &str| attrs.attributes().iter().find(|a| a.key() == Some(k)).and_then(|a| a.value()).map(str::to_string);
    assert_eq!(get("stickiness.enabled").as_deref(), Some("true"));
    assert_eq!(get("stickiness.type").as_deref(), Some("lb_cookie"));
    assert_eq!(get("stickiness.lb_cookie.duration_seconds").as_deref(), Some("30"));
    let g = aws.elb().describe_target_groups().target_group_arns(&tg).send().await.unwrap();
    let g = &g.target_groups()[0];
    assert_eq!(
        (g.health_check_path(), g.health_check_interval_seconds(), g.unhealthy_threshold_count()),
        (Some("/wordpress/wp-admin/install.php"), Some(10), Some(5))
    );
    // The web servers admit 80 from the group AWS gave the balancer.
    let lb = stack.id("load_balancer.web");
    let balancers = aws.elb().describe_load_balancers().load_balancer_arns(&lb).send().await.unwrap();
    let lb_group = balancers.load_balancers()[0].security_groups()[0].clone();
    let web = stack.id("security_group.web");
    let sg = aws.ec2().describe_security_groups().group_ids(&web).send().await.unwrap();
    let http = sg.security_groups()[0].ip_permissions().iter().find(|p| p.from_port() == Some(80)).unwrap();
    assert_eq!(http.user_id_group_pairs()[0].group_id(), Some(lb_group.as_str()));
    // The boot script knows where the database is, never its password.
    let state = std::fs::read_to_string(stack.state_path()).unwrap();
    assert!(!state.contains("sample-password-2"));
    let template = stack.state().get(&"launch_template.web".parse().unwrap()).unwrap().attributes["user_data"].clone();
    let endpoint = stack.state().get(&"db_instance.wordpress".parse().unwrap()).unwrap().attributes["endpoint"].clone();
    assert!(template.as_str().unwrap().contains(endpoint.as_str().unwrap()));
    empty_replan(&stack, &user, &env);

    destroyed(&stack, &["--allow-data-loss", "--var", "db_user=wpadmin"], &env);
    let left = tagged_all(&stack.name).await;
    assert!(left.is_empty(), "{left:?}");
}
