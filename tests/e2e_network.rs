//! End to end against the moto emulator: the `trellis` binary applies, changes and
//! destroys the example network stack, while the SDK checks what is really there and
//! makes changes behind trellis's back. Each test uses its own stack name.

mod support;

use support::{ec2, ingress_ports, open_port, route_table_subnets, tagged, Stack, NETWORK};

fn replace(text: &str, from: &str, to: &str) -> String {
    assert!(text.contains(from), "the spec has no `{from}`");
    text.replacen(from, to, 1)
}

#[tokio::test]
async fn apply_tags_everything_replans_empty_and_destroys_to_nothing() {
    let stack = Stack::new("converge", NETWORK);
    let first = stack.plan().expect_code(2);
    assert!(first.stdout.contains("Plan: 14 to add, 0 to change, 0 to replace, 0 to destroy."), "{}", first.stdout);

    let applied = stack.apply();
    assert!(
        applied.stdout.contains("Apply complete! Resources: 14 added, 0 changed, 0 destroyed."),
        "{}",
        applied.stdout
    );
    let state = stack.state();
    assert_eq!(state.resources.len(), 14);
    assert!(state.serial > 1);

    // Every object is live, carries the stack and its address, and its Name.
    let client = ec2().await;
    let live = tagged(&client, &stack.name).await;
    assert_eq!(live.len(), 14, "{live:?}");
    for r in &state.resources {
        assert_eq!(live.get(&r.id), Some(&r.address.tag_value()), "{} is not tagged with its address", r.address);
        let tags = r.attributes["tags"].as_map().unwrap();
        assert_eq!(tags["Name"].as_str(), Some(format!("{}-{}", stack.name, r.address.name).as_str()));
    }
    let sg = client.describe_security_groups().group_ids(stack.id("security_group.app")).send().await.unwrap();
    let rule = &sg.security_groups()[0].ip_permissions()[0];
    assert_eq!(rule.user_id_group_pairs()[0].group_id(), Some(stack.id("security_group.lb").as_str()));

    let again = stack.plan().expect_code(0);
    assert!(again.stdout.contains("No changes."), "{}", again.stdout);
    // Where a plan's time goes, on request: each kind read, with what it found.
    let timed = stack.run(&["plan", "{spec}", "--timings"]).expect_code(0);
    let line = timed.stderr.lines().find(|l| l.starts_with("Timings: ")).unwrap_or_else(|| panic!("{}", timed.stderr));
    for part in
        ["spec, state and connection ", "; read ", "subnet ", "4 objects", "; plan ", "; print ", "; peak memory "]
    {
        assert!(line.contains(part), "`{part}` missing: {line}");
    }
    // Outputs are recorded and printed.
    let out = stack.run(&["output", "vpc_id", "--state", stack.state_path().to_str().unwrap()]).expect_code(0);
    assert_eq!(out.stdout.trim(), stack.id("vpc.main"));

    let json = stack.run(&["plan", "{spec}", "--json"]).expect_code(0);
    let j: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(j["summary"]["add"], 0);
    assert!(j["resource_changes"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["change"]["actions"] == serde_json::json!(["no-op"])));

    stack.destroy_and_check_clean();
    assert!(tagged(&client, &stack.name).await.is_empty());
}

#[tokio::test]
async fn rule_and_flag_changes_update_in_place() {
    let stack = Stack::new("inplace", NETWORK);
    stack.apply();
    let ids: Vec<String> =
        ["security_group.lb", "network_acl.data", "subnet.private_a"].iter().map(|a| stack.id(a)).collect();

    let mut spec = replace(
        NETWORK,
        "        description: HTTP from anywhere\n",
        "        description: HTTP from anywhere\n      - protocol: tcp\n        port: 443\n        cidr: 0.0.0.0/0\n",
    );
    spec = replace(&spec, "port_range: { from: 5432, to: 5432 }", "port_range: { from: 5433, to: 5433 }");
    spec = replace(
        &spec,
        "    cidr_block: 10.0.11.0/24\n    availability_zone: ${var.zone_a}\n",
        "    cidr_block: 10.0.11.0/24\n    availability_zone: ${var.zone_a}\n    map_public_ip_on_launch: true\n",
    );
    stack.write_spec(&spec);

    let plan = stack.plan().expect_code(2);
    assert!(plan.stdout.contains("Plan: 0 to add, 3 to change, 0 to replace, 0 to destroy."), "{}", plan.stdout);
    for addr in ["security_group.lb", "network_acl.data", "subnet.private_a"] {
        assert!(plan.stdout.contains(&format!("# {addr} will be updated in place")), "{addr}:\n{}", plan.stdout);
    }
    assert!(plan.stdout.contains("~ map_public_ip_on_launch = false -> true"), "{}", plan.stdout);

    stack.apply();
    let after: Vec<String> =
        ["security_group.lb", "network_acl.data", "subnet.private_a"].iter().map(|a| stack.id(a)).collect();
    assert_eq!(ids, after, "in-place updates must keep the objects");

    let client = ec2().await;
    let ports = ingress_ports(&client, &ids[0]).await;
    assert!(ports.contains(&443) && ports.contains(&80), "{ports:?}");
    let acl = client.describe_network_acls().network_acl_ids(&ids[1]).send().await.unwrap();
    let rule = acl.network_acls()[0]
        .entries()
        .iter()
        .find(|e| e.rule_number() == Some(300) && e.egress() == Some(false))
        .unwrap();
    assert_eq!(rule.port_range().unwrap().from(), Some(5433));
    let subnet = client.describe_subnets().subnet_ids(&ids[2]).send().await.unwrap();
    assert_eq!(subnet.subnets()[0].map_public_ip_on_launch(), Some(true));

    stack.plan().expect_code(0);
    stack.destroy_and_check_clean();
}

#[tokio::test]
async fn cidr_change_replaces_the_subnet_and_says_why() {
    let stack = Stack::new("replace", NETWORK);
    stack.apply();
    let old = stack.id("subnet.private_a");

    stack.write_spec(&replace(NETWORK, "cidr_block: 10.0.11.0/24", "cidr_block: 10.0.21.0/24"));
    let plan = stack.plan().expect_code(2);
    assert!(
        plan.stdout.contains("# subnet.private_a must be replaced: `cidr_block` forces replacement"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains("~ cidr_block = \"10.0.11.0/24\" -> \"10.0.21.0/24\" # forces replacement"),
        "{}",
        plan.stdout
    );
    // The route table and the ACL follow the new subnet in place.
    assert!(plan.stdout.contains("Plan: 0 to add, 2 to change, 1 to replace, 0 to destroy."), "{}", plan.stdout);
    let json = stack.run(&["plan", "{spec}", "--json"]).expect_code(0);
    let j: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    let change = j["resource_changes"].as_array().unwrap().iter().find(|c| c["address"] == "subnet.private_a").unwrap();
    assert_eq!(change["change"]["replace_paths"], serde_json::json!([["cidr_block"]]));

    stack.apply();
    let new = stack.id("subnet.private_a");
    assert_ne!(old, new);
    let client = ec2().await;
    let found = client.describe_subnets().subnet_ids(&new).send().await.unwrap();
    assert_eq!(found.subnets()[0].cidr_block(), Some("10.0.21.0/24"));
    let associated = route_table_subnets(&client, &stack.id("route_table.private")).await;
    assert!(associated.contains(&new), "{associated:?}");

    stack.plan().expect_code(0);
    stack.destroy_and_check_clean();
}

#[tokio::test]
async fn changes_made_outside_trellis_show_as_drift_and_are_repaired() {
    let stack = Stack::new("drift", NETWORK);
    stack.apply();
    let client = ec2().await;
    let app = stack.id("security_group.app");
    let gone = stack.id("subnet.public_b");

    open_port(&client, &app, 22, "0.0.0.0/0").await;
    client.delete_subnet().subnet_id(&gone).send().await.unwrap();

    let plan = stack.plan().expect_code(2);
    assert!(plan.stdout.contains("Objects have changed outside of trellis:"), "{}", plan.stdout);
    assert!(plan.stdout.contains("# security_group.app has changed"), "{}", plan.stdout);
    assert!(plan.stdout.contains("+ { cidr = \"0.0.0.0/0\", port = 22, protocol = \"tcp\" },"), "{}", plan.stdout);
    assert!(plan.stdout.contains("# subnet.public_b was deleted outside of trellis"), "{}", plan.stdout);
    assert!(plan.stdout.contains("# subnet.public_b will be created"), "{}", plan.stdout);
    let j: serde_json::Value =
        serde_json::from_str(&stack.run(&["plan", "{spec}", "--json"]).expect_code(0).stdout).unwrap();
    assert_eq!(j["resource_drift"].as_array().unwrap().len(), 2);

    stack.apply();
    let ports = ingress_ports(&client, &app).await;
    assert_eq!(ports, [8080], "the out-of-band rule must be revoked");
    let back = stack.id("subnet.public_b");
    assert_ne!(back, gone);
    let associated = route_table_subnets(&client, &stack.id("route_table.public")).await;
    assert!(associated.contains(&back), "{associated:?}");

    stack.plan().expect_code(0);
    stack.destroy_and_check_clean();
}

#[tokio::test]
async fn a_resource_removed_from_the_spec_is_deleted() {
    let stack = Stack::new("remove", NETWORK);
    stack.apply();
    let db = stack.id("security_group.db");
    let start = NETWORK.find("  security_group.db:").unwrap();
    let end = NETWORK.find("\noutputs:").unwrap();
    stack.write_spec(&format!("{}{}", &NETWORK[..start], &NETWORK[end..]));

    let plan = stack.plan().expect_code(2);
    assert!(
        plan.stdout.contains("# security_group.db will be destroyed (it is no longer in the spec)"),
        "{}",
        plan.stdout
    );
    assert!(plan.stdout.contains("Plan: 0 to add, 0 to change, 0 to replace, 1 to destroy."), "{}", plan.stdout);
    stack.apply();
    let client = ec2().await;
    assert!(!tagged(&client, &stack.name).await.contains_key(&db));
    assert!(stack.state().get(&"security_group.db".parse().unwrap()).is_none());
    stack.plan().expect_code(0);
    stack.destroy_and_check_clean();
}

#[tokio::test]
async fn a_run_that_fails_halfway_records_what_it_made_and_the_next_finishes() {
    // 10.1.12.0/24 is a fine CIDR, but outside the VPC: only AWS can say so.
    let broken = replace(NETWORK, "cidr_block: 10.0.12.0/24", "cidr_block: 10.1.12.0/24");
    let stack = Stack::new("halfway", &broken);
    stack.run(&["validate", "{spec}"]).expect_code(0);

    let run = stack.run(&["apply", "{spec}", "--auto-approve"]).expect_code(1);
    assert!(run.stdout.contains("subnet.private_b: create failed: AWS InvalidSubnet.Range"), "{}", run.stdout);
    assert!(
        run.stdout.contains("route_table.private: create skipped, because subnet.private_b failed"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("Apply failed: 1 failed, 2 skipped"), "{}", run.stdout);

    // Everything that exists is in the state, and nothing in the state is missing.
    let client = ec2().await;
    let live = tagged(&client, &stack.name).await;
    let state = stack.state();
    assert_eq!(live.len(), 11, "{live:?}");
    assert_eq!(state.resources.len(), live.len());
    for r in &state.resources {
        assert_eq!(live.get(&r.id), Some(&r.address.tag_value()));
    }

    stack.write_spec(NETWORK);
    let plan = stack.plan().expect_code(2);
    assert!(plan.stdout.contains("Plan: 3 to add, 0 to change, 0 to replace, 0 to destroy."), "{}", plan.stdout);
    let done = stack.apply();
    assert!(done.stdout.contains("Apply complete! Resources: 3 added"), "{}", done.stdout);
    assert_eq!(tagged(&client, &stack.name).await.len(), 14);
    stack.plan().expect_code(0);
    stack.destroy_and_check_clean();
}

#[tokio::test]
async fn apply_without_a_terminal_needs_auto_approve() {
    let stack = Stack::new("approve", NETWORK);
    let run = stack.run(&["apply", "{spec}"]).expect_code(1);
    assert!(run.stderr.contains("apply needs approval"), "{}", run.stderr);
    assert!(run.stdout.contains("Plan: 14 to add"), "the plan is shown first:\n{}", run.stdout);
    let client = ec2().await;
    assert!(tagged(&client, &stack.name).await.is_empty(), "nothing may be created");
}

#[tokio::test]
async fn a_referenced_security_group_is_replaced_new_first() {
    let stack = Stack::new("sg-cbd", NETWORK);
    stack.apply();
    let (lb, app) = (stack.id("security_group.lb"), stack.id("security_group.app"));
    // The description cannot change in place; the app group's rule refers to this group.
    let edited =
        replace(NETWORK, "description: Load balancer, open to the internet on port 80", "description: The balancer");
    stack.write_spec(&edited);
    let plan = stack.plan().expect_code(2);
    assert!(plan.stdout.contains("+/- security_group.lb"), "{}", plan.stdout);
    assert!(plan.stdout.contains("~ security_group.app"), "{}", plan.stdout);
    stack.apply();
    let new_lb = stack.id("security_group.lb");
    assert_ne!(new_lb, lb);
    assert_eq!(stack.id("security_group.app"), app, "the app group is updated, not replaced");
    let client = ec2().await;
    let g = client.describe_security_groups().group_ids(&app).send().await.unwrap();
    let sources: Vec<&str> = g.security_groups()[0]
        .ip_permissions()
        .iter()
        .flat_map(|p| p.user_id_group_pairs())
        .filter_map(|p| p.group_id())
        .collect();
    assert_eq!(sources, [new_lb.as_str()]);
    assert!(client.describe_security_groups().group_ids(&lb).send().await.is_err(), "the old group is left");
    stack.plan().expect_code(0);
    stack.destroy_and_check_clean();
}

#[tokio::test]
async fn a_lost_state_is_rebuilt_by_adopting_the_tagged_objects() {
    let stack = Stack::new("adopt", NETWORK);
    stack.apply();
    let before = stack.state();
    std::fs::remove_file(stack.state_path()).unwrap();

    // Without a state, every object is an orphan: the plan says so before it would
    // create duplicates.
    let plan = stack.plan().expect_code(2);
    assert!(plan.stdout.contains("no state knows it"), "{}", plan.stdout);
    assert!(plan.stdout.contains("`trellis state adopt` or `apply --adopt-orphans` records it"), "{}", plan.stdout);

    let adopted = stack.run(&["state", "adopt", "{spec}"]).expect_code(0);
    assert!(adopted.stdout.contains("Adopted 14 objects."), "{}", adopted.stdout);
    let after = stack.state();
    for r in &before.resources {
        assert_eq!(after.get(&r.address).map(|a| a.id.as_str()), Some(r.id.as_str()), "{}", r.address);
    }
    let again = stack.plan().expect_code(0);
    assert!(again.stdout.contains("No changes."), "{}", again.stdout);
    // Adopting again finds nothing left to take.
    let twice = stack.run(&["state", "adopt", "{spec}"]).expect_code(0);
    assert!(twice.stdout.contains("Adopted 0 objects."), "{}", twice.stdout);

    // The same in one step: apply --adopt-orphans records them and creates nothing.
    std::fs::remove_file(stack.state_path()).unwrap();
    let applied = stack.run(&["apply", "{spec}", "--auto-approve", "--adopt-orphans"]).expect_code(0);
    assert!(applied.stderr.contains("--adopt-orphans: adopted vpc.main"), "{}", applied.stderr);
    assert!(applied.stdout.contains("No changes."), "{}", applied.stdout);
    let after = stack.state();
    for r in &before.resources {
        assert_eq!(after.get(&r.address).map(|a| a.id.as_str()), Some(r.id.as_str()), "{}", r.address);
    }
    assert_eq!(tagged(&ec2().await, &stack.name).await.len(), 14, "nothing was created twice");
    stack.destroy_and_check_clean();
    assert!(tagged(&ec2().await, &stack.name).await.is_empty());
}

#[tokio::test]
async fn import_records_an_existing_object_under_an_address_of_the_spec() {
    let stack = Stack::new("import", "stack: import\nresources:\n  vpc.main:\n    cidr_block: 10.50.0.0/16\n");
    let client = ec2().await;
    let made = client.create_vpc().cidr_block("10.50.0.0/16").send().await.unwrap();
    let id = made.vpc().unwrap().vpc_id().unwrap().to_string();

    let typo = stack.run(&["import", "{spec}", "vpc.mian", &id]);
    assert_ne!(typo.code, 0);
    assert!(typo.stderr.contains("did you mean `vpc.main`?"), "{}", typo.stderr);
    let missing = stack.run(&["import", "{spec}", "vpc.main", "vpc-00000000000000000"]);
    assert_ne!(missing.code, 0);
    assert!(missing.stderr.contains("no vpc with id `vpc-00000000000000000`"), "{}", missing.stderr);

    let imported = stack.run(&["import", "{spec}", "vpc.main", &id]).expect_code(0);
    assert!(imported.stdout.contains(&format!("imported vpc.main ({id})")), "{}", imported.stdout);
    assert_eq!(stack.id("vpc.main"), id);
    let again = stack.run(&["import", "{spec}", "vpc.main", &id]);
    assert!(again.stderr.contains("the state already has `vpc.main`"), "{}", again.stderr);

    // Managed from now on: the plan updates it in place (its Name tag), never creates.
    let plan = stack.plan().expect_code(2);
    assert!(plan.stdout.contains("~ vpc.main"), "{}", plan.stdout);
    assert!(plan.stdout.contains("Plan: 0 to add, 1 to change"), "{}", plan.stdout);
    stack.apply();
    stack.plan().expect_code(0);
    stack.destroy_and_check_clean();
    let gone = client.describe_vpcs().vpc_ids(&id).send().await;
    assert!(gone.map(|o| o.vpcs().is_empty()).unwrap_or(true), "destroy deleted the imported VPC");
}

const RULES: &str = r#"stack: rules
resources:
  vpc.main:
    cidr_block: 10.30.0.0/16
  subnet.a:
    vpc_id: ${vpc.main}
    cidr_block: 10.30.1.0/24
  security_group.cluster:
    vpc_id: ${vpc.main}
    description: cluster members talk to each other
    ingress:
      - { protocol: all, source_group: self, description: members }
      - { protocol: icmp, cidr: 10.0.0.0/8 }
      - { protocol: icmp, icmp_type: 8, cidr: 192.168.0.0/16, description: ping }
      - { protocol: icmp, icmp_type: 3, icmp_code: 4, cidr: 172.16.0.0/12 }
      - { protocol: tcp, port: "8000-8010", source_group: self }
      - { protocol: udp, port: 53, cidr: 10.30.0.0/16 }
    egress:
      - { protocol: all, cidr: 0.0.0.0/0 }
  network_acl.edge:
    vpc_id: ${vpc.main}
    subnet_ids: ["${subnet.a}"]
    ingress:
      - { rule_number: 100, protocol: icmp, rule_action: allow, cidr_block: 0.0.0.0/0 }
      - { rule_number: 110, protocol: icmp, rule_action: allow, cidr_block: 10.0.0.0/8, icmp_type_code: { type: 8, code: 0 } }
      - { rule_number: 120, protocol: all, rule_action: deny, cidr_block: 192.0.2.0/24 }
      - { rule_number: 130, protocol: tcp, rule_action: allow, cidr_block: 0.0.0.0/0, port_range: { from: 443, to: 443 } }
    egress:
      - { rule_number: 100, protocol: all, rule_action: allow, cidr_block: 0.0.0.0/0 }
"#;

#[tokio::test]
async fn icmp_all_and_self_rules_round_trip() {
    let stack = Stack::new("rules", RULES);
    stack.apply();
    // What AWS holds is what the spec says, so the next plan is empty.
    let again = stack.plan();
    assert_eq!(again.code, 0, "{}\n{}", again.stdout, again.stderr);

    let client = ec2().await;
    let group = stack.id("security_group.cluster");
    let out = client.describe_security_groups().group_ids(&group).send().await.unwrap();
    let perms = out.security_groups()[0].ip_permissions();
    let icmp: Vec<(Option<i32>, Option<i32>)> =
        perms.iter().filter(|p| p.ip_protocol() == Some("icmp")).map(|p| (p.from_port(), p.to_port())).collect();
    for want in [(Some(-1), Some(-1)), (Some(8), Some(-1)), (Some(3), Some(4))] {
        assert!(icmp.contains(&want), "ICMP {want:?} missing from {icmp:?}");
    }
    // `self` is the group's own id in AWS.
    let own: Vec<&str> = perms.iter().flat_map(|p| p.user_id_group_pairs()).filter_map(|g| g.group_id()).collect();
    assert_eq!(own, vec![group.as_str(), group.as_str()], "{perms:?}");

    let acl = stack.id("network_acl.edge");
    let out = client.describe_network_acls().network_acl_ids(&acl).send().await.unwrap();
    let entries = out.network_acls()[0].entries();
    let echo = entries.iter().find(|e| e.rule_number() == Some(110)).unwrap();
    let tc = echo.icmp_type_code().unwrap();
    assert_eq!((echo.protocol(), tc.r#type(), tc.code()), (Some("1"), Some(8), Some(0)));
    assert_eq!(entries.iter().find(|e| e.rule_number() == Some(120)).unwrap().protocol(), Some("-1"));

    // A rule changed to another ICMP type updates in place and converges.
    stack.write_spec(&RULES.replace("icmp_type: 8, cidr", "icmp_type: 0, cidr"));
    let plan = stack.plan();
    assert_eq!(plan.code, 2, "{}", plan.stdout);
    assert!(plan.stdout.contains("icmp_type = 0"), "{}", plan.stdout);
    stack.apply();
    stack.plan().expect_code(0);
    stack.destroy_and_check_clean();
}

#[tokio::test]
async fn a_delete_that_waits_names_what_still_uses_the_object() {
    let spec = "stack: x
region: us-east-1
resources:
  vpc.main:
    cidr_block: 10.8.0.0/16
";
    let stack = Stack::new("delete-blocked", spec);
    stack.apply();
    let vpc = stack.id("vpc.main");
    // An object of this stack that no state knows (left by a run whose state was lost):
    // AWS refuses to delete the VPC while it stands.
    use trellis_aws::sdk::ec2::types;
    let ec2 = ec2().await;
    let tags = |k: &str, v: &str| types::Tag::builder().key(k).value(v).build();
    let table = ec2
        .create_route_table()
        .vpc_id(&vpc)
        .tag_specifications(
            types::TagSpecification::builder()
                .resource_type(types::ResourceType::RouteTable)
                .tags(tags("trellis:stack", &stack.name))
                .tags(tags("trellis:address", "route_table.ghost"))
                .build(),
        )
        .send()
        .await
        .unwrap();
    let table = table.route_table().and_then(|t| t.route_table_id()).unwrap().to_string();

    let run = stack.run(&["destroy", "{spec}", "--auto-approve", "--delete-timeout", "3s"]).expect_code(1);
    let user = format!("route table {table} (route_table.ghost of stack {})", stack.name);
    let retrying = run.stderr.lines().find(|l| l.contains("is still in use")).unwrap_or_default();
    assert!(retrying.contains(&user), "the first retry must name what blocks the delete\n{}", run.stderr);
    let said = format!("{}{}", run.stdout, run.stderr);
    let gave_up = said.lines().find(|l| l.contains("gave up after")).unwrap_or_default();
    assert!(gave_up.contains("DependencyViolation"), "{said}");
    assert!(gave_up.contains(&user), "giving up must name what blocks the delete\n{said}");
    assert!(said.contains("vpc.main"), "{said}");
    assert!(stack.state().get(&"vpc.main".parse().unwrap()).is_some(), "the VPC stays in the state");

    ec2.delete_route_table().route_table_id(&table).send().await.unwrap();
    stack.destroy_and_check_clean();
}

#[tokio::test]
async fn concurrent_applies_take_turns_on_the_lock_and_make_each_object_once() {
    let spec = "stack: x
region: us-east-1
resources:
  vpc.main:
    cidr_block: 10.7.0.0/16
  subnet.a:
    vpc_id: ${vpc.main}
    cidr_block: 10.7.1.0/24
    availability_zone: us-east-1a
";
    let stack = Stack::new("lock-turns", spec);
    let spec_path = stack.spec.to_string_lossy().to_string();
    let runs: Vec<_> = (0..4)
        .map(|_| {
            stack
                .command(&["apply", &spec_path, "--auto-approve", "--lock-timeout", "3m"])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let outs: Vec<_> = runs.into_iter().map(|r| r.wait_with_output().unwrap()).collect();
    for o in &outs {
        assert!(o.status.success(), "{}\n{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    }
    // One run made both objects; each later one planned from its predecessor's state.
    let made: Vec<String> = outs
        .iter()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .filter(|out| out.contains("2 added"))
        .collect();
    assert_eq!(made.len(), 1, "exactly one run creates the objects");
    let idle = outs.iter().filter(|o| String::from_utf8_lossy(&o.stdout).contains("No changes")).count();
    assert_eq!(idle, 3, "the runs after it find nothing to do");
    let live = tagged(&ec2().await, &stack.name).await;
    assert_eq!(live.len(), 2, "one object per address: {live:?}");
    assert_eq!(stack.state().resources.len(), 2);
    stack.destroy_and_check_clean();
}

const WAY_OUT: &str = r#"stack: way-out
resources:
  vpc.main:
    cidr_block: 10.47.0.0/16
  subnet.public_a:
    vpc_id: ${vpc.main}
    cidr_block: 10.47.1.0/24
    availability_zone: us-east-1a
  subnet.public_b:
    vpc_id: ${vpc.main}
    cidr_block: 10.47.2.0/24
    availability_zone: us-east-1b
  subnet.private:
    vpc_id: ${vpc.main}
    cidr_block: 10.47.11.0/24
    availability_zone: us-east-1a
  internet_gateway.main:
    vpc_id: ${vpc.main}
  elastic_ip.nat:
    tags: { Role: nat }
  nat_gateway.main:
    subnet_id: ${subnet.public_a}
    allocation_id: ${elastic_ip.nat}
    depends_on: [internet_gateway.main]
  route_table.private:
    vpc_id: ${vpc.main}
    routes:
      - destination_cidr_block: 0.0.0.0/0
        nat_gateway_id: ${nat_gateway.main}
    subnet_ids: ["${subnet.private}"]
  instance.a:
    image_id: ami-0abcdef1234567890
    instance_type: t3.micro
    subnet_id: ${subnet.public_a}
  instance.b:
    image_id: ami-0abcdef1234567890
    instance_type: t3.micro
    subnet_id: ${subnet.public_b}
  elastic_ip.server:
    instance_id: ${instance.a}
outputs:
  nat_ip: ${nat_gateway.main.public_ip}
  server_ip: ${elastic_ip.server.public_ip}
"#;

/// An Elastic IP as AWS has it: the instance it is associated with, and its tags.
async fn eip(id: &str) -> (Option<String>, Vec<(String, String)>) {
    let out = ec2().await.describe_addresses().allocation_ids(id).send().await.unwrap();
    let a = &out.addresses()[0];
    let tags = a.tags().iter().map(|t| (t.key().unwrap().to_string(), t.value().unwrap().to_string())).collect();
    (a.instance_id().map(str::to_string), tags)
}

/// The NAT gateway a route table sends `0.0.0.0/0` to, as AWS has it.
async fn default_route_nat(table: &str) -> Option<String> {
    let out = ec2().await.describe_route_tables().route_table_ids(table).send().await.unwrap();
    let t = &out.route_tables()[0];
    t.routes()
        .iter()
        .find(|r| r.destination_cidr_block() == Some("0.0.0.0/0"))
        .and_then(|r| r.nat_gateway_id())
        .map(str::to_string)
}

/// Whether the NAT gateway is still there (not deleted).
async fn nat_exists(id: &str) -> bool {
    let out = ec2().await.describe_nat_gateways().nat_gateway_ids(id).send().await.unwrap();
    out.nat_gateways().iter().any(|g| g.state().is_some_and(|s| s.as_str() != "deleted"))
}

#[tokio::test]
async fn nat_gateways_and_elastic_ips_are_made_moved_repaired_replaced_and_released() {
    let stack = Stack::new("way-out", WAY_OUT);
    stack.apply();
    let (nat, table, server_ip) =
        (stack.id("nat_gateway.main"), stack.id("route_table.private"), stack.id("elastic_ip.server"));
    assert!(nat.starts_with("nat-") && server_ip.starts_with("eipalloc-"), "{nat} {server_ip}");
    assert_eq!(
        default_route_nat(&table).await.as_deref(),
        Some(nat.as_str()),
        "private subnets go out through the NAT gateway"
    );
    let a = stack.id("instance.a");
    assert_eq!(eip(&server_ip).await.0.as_deref(), Some(a.as_str()));
    assert!(eip(&stack.id("elastic_ip.nat")).await.1.contains(&("Role".into(), "nat".into())));
    let state = stack.state();
    let public_ip = state.get(&"nat_gateway.main".parse().unwrap()).unwrap().attributes["public_ip"].clone();
    assert_eq!(state.outputs["nat_ip"], public_ip, "the NAT gateway's address is its Elastic IP's");
    stack.plan().expect_code(0);

    // The server's address moves to the other instance: in place, the same allocation.
    let b = stack.id("instance.b");
    stack.write_spec(&WAY_OUT.replace("    instance_id: ${instance.a}", "    instance_id: ${instance.b}"));
    let moved = stack.apply();
    assert!(moved.stdout.contains("0 added, 1 changed, 0 destroyed"), "{}", moved.stdout);
    assert_eq!(stack.id("elastic_ip.server"), server_ip);
    assert_eq!(eip(&server_ip).await.0.as_deref(), Some(b.as_str()));

    // Disassociated behind trellis's back: shown as drift and associated again.
    let client = ec2().await;
    let association = client.describe_addresses().allocation_ids(&server_ip).send().await.unwrap().addresses()[0]
        .association_id()
        .unwrap()
        .to_string();
    client.disassociate_address().association_id(association).send().await.unwrap();
    let drift = stack.plan().expect_code(2);
    assert!(drift.stdout.contains("# elastic_ip.server has changed"), "{}", drift.stdout);
    stack.apply();
    assert_eq!(eip(&server_ip).await.0.as_deref(), Some(b.as_str()));

    // Another subnet replaces the NAT gateway (the old one goes first: it holds the
    // address), and the private route follows the new one.
    let elsewhere = WAY_OUT.replace("    instance_id: ${instance.a}", "    instance_id: ${instance.b}").replace(
        "    subnet_id: ${subnet.public_a}\n    allocation_id",
        "    subnet_id: ${subnet.public_b}\n    allocation_id",
    );
    stack.write_spec(&elsewhere);
    let plan = stack.plan().expect_code(2);
    assert!(
        plan.stdout.contains("# nat_gateway.main must be replaced: `subnet_id` forces replacement"),
        "{}",
        plan.stdout
    );
    stack.apply();
    let new_nat = stack.id("nat_gateway.main");
    assert_ne!(new_nat, nat);
    assert!(!nat_exists(&nat).await && nat_exists(&new_nat).await);
    assert_eq!(default_route_nat(&table).await.as_deref(), Some(new_nat.as_str()));
    stack.plan().expect_code(0);

    // Its tags changed behind trellis's back: drift, and put back.
    client
        .create_tags()
        .resources(&new_nat)
        .tags(trellis_aws::sdk::ec2::types::Tag::builder().key("Owner").value("someone").build())
        .send()
        .await
        .unwrap();
    let drift = stack.plan().expect_code(2);
    assert!(drift.stdout.contains("# nat_gateway.main has changed"), "{}", drift.stdout);
    stack.apply();
    stack.plan().expect_code(0);

    // The server's address replaced on request: a new allocation on the same instance,
    // the old one released.
    let replaced = stack.run(&["apply", "{spec}", "--auto-approve", "--replace", "elastic_ip.server"]).expect_code(0);
    assert!(replaced.stdout.contains("1 added, 0 changed, 1 destroyed"), "{}", replaced.stdout);
    let new_ip = stack.id("elastic_ip.server");
    assert_ne!(new_ip, server_ip);
    assert_eq!(eip(&new_ip).await.0.as_deref(), Some(b.as_str()));
    let old = client.describe_addresses().allocation_ids(&server_ip).send().await;
    assert!(old.map(|o| o.addresses().is_empty()).unwrap_or(true), "{server_ip} is released");
    let server_ip = new_ip;
    stack.plan().expect_code(0);

    // Destroy releases both addresses after the gateway is deleted.
    let nat_ip = stack.id("elastic_ip.nat");
    stack.destroy_and_check_clean();
    assert!(!nat_exists(&new_nat).await);
    for id in [nat_ip, server_ip] {
        let left = client.describe_addresses().allocation_ids(&id).send().await;
        assert!(left.map(|o| o.addresses().is_empty()).unwrap_or(true), "{id} is released");
    }
}
