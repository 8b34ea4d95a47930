//! End to end against the moto emulator: the web stack's dual-stack front door
//! (`specs/examples/web-https.yaml`). It applies, and AWS then holds IPv6 blocks on the
//! VPC and its subnets, an IPv6 default route, rules open to `::/0`, a load balancer
//! answering over both, a zone with the
//! certificate's validation records and the alias records to the load balancer, an
//! issued certificate served by the HTTPS listener, HTTP redirected, and three path
//! rules; it re-plans empty; two rules swap priorities in one apply; and it destroys
//! to nothing. The emulator issues a certificate only once its validation records are
//! in a zone, and answers a DNS change `PENDING` before `INSYNC`, as AWS does
//! (`crates/xtask/emulator.py`).

mod support;

use std::collections::BTreeMap;

use support::{aws, Stack};

const WEB_HTTPS: &str = include_str!("../specs/examples/web-https.yaml");

/// The listener's rules but its default one: priority -> its path.
async fn paths(listener: &str) -> BTreeMap<i64, String> {
    let aws = aws().await;
    let out = aws.elb().describe_rules().listener_arn(listener).send().await.unwrap();
    out.rules()
        .iter()
        .filter(|r| r.is_default() != Some(true))
        .map(|r| {
            let path = r.conditions()[0].path_pattern_config().unwrap().values()[0].clone();
            (r.priority().unwrap().parse().unwrap(), path)
        })
        .collect()
}

#[tokio::test]
async fn the_https_front_door_applies_replans_empty_swaps_rules_and_destroys() {
    let stack = Stack::new("web-https", WEB_HTTPS);
    let applied = stack.apply();
    assert!(applied.stdout.contains("Apply complete! Resources: 22 added"), "{}\n{}", applied.stdout, applied.stderr);
    let aws = aws().await;

    // The certificate is issued, for both names, and the HTTPS listener serves it.
    let cert = stack.id("acm_certificate.web");
    let detail = aws.acm().describe_certificate().certificate_arn(&cert).send().await.unwrap();
    let detail = detail.certificate().unwrap();
    assert_eq!(detail.status().map(|s| s.as_str()), Some("ISSUED"));
    let mut names = detail.subject_alternative_names().to_vec();
    names.sort();
    assert_eq!(names, ["example.com", "www.example.com"]);
    let https = stack.id("listener.https");
    let l = aws.elb().describe_listeners().listener_arns(&https).send().await.unwrap();
    let l = &l.listeners()[0];
    assert_eq!(l.certificates()[0].certificate_arn(), Some(cert.as_str()));
    assert_eq!(l.ssl_policy(), Some("ELBSecurityPolicy-TLS13-1-2-2021-06"));
    // HTTP is redirected to HTTPS.
    let http = aws.elb().describe_listeners().listener_arns(stack.id("listener.http")).send().await.unwrap();
    let redirect = http.listeners()[0].default_actions()[0].redirect_config().unwrap();
    assert_eq!(redirect.protocol(), Some("HTTPS"));

    // The zone holds the validation records and the aliases to the load balancer.
    let zone = stack.id("route53_zone.main");
    let sets = aws.route53().list_resource_record_sets().hosted_zone_id(&zone).send().await.unwrap();
    let cnames = sets.resource_record_sets().iter().filter(|s| s.r#type().as_str() == "CNAME").count();
    assert!(cnames >= 1, "the validation records are in the zone");
    let lb = stack.id("load_balancer.web");
    let lb = aws.elb().describe_load_balancers().load_balancer_arns(&lb).send().await.unwrap();
    let lb = &lb.load_balancers()[0];
    let www = sets
        .resource_record_sets()
        .iter()
        .find(|s| s.name() == "www.example.com." && s.r#type().as_str() == "A")
        .unwrap();
    let alias = www.alias_target().unwrap();
    assert_eq!(alias.dns_name().trim_end_matches('.'), lb.dns_name().unwrap());
    assert_eq!(alias.hosted_zone_id(), lb.canonical_hosted_zone_id().unwrap());
    assert_eq!(stack.state().outputs["url"].as_str(), Some("https://www.example.com/"));

    // Dual stack: the VPC's /56, each subnet's /64 of it, the route and the rules.
    let vpc = aws.ec2().describe_vpcs().vpc_ids(stack.id("vpc.main")).send().await.unwrap();
    let v6 = vpc.vpcs()[0].ipv6_cidr_block_association_set()[0].ipv6_cidr_block().unwrap().to_string();
    assert!(v6.ends_with("/56"), "{v6}");
    let subnet = aws.ec2().describe_subnets().subnet_ids(stack.id("subnet.public_b")).send().await.unwrap();
    let subnet = &subnet.subnets()[0];
    let block = subnet.ipv6_cidr_block_association_set()[0].ipv6_cidr_block().unwrap();
    assert!(block.ends_with("/64"), "{block}");
    let prefix = |c: &str| u128::from(c.split('/').next().unwrap().parse::<std::net::Ipv6Addr>().unwrap());
    assert_eq!(prefix(block) >> 72, prefix(&v6) >> 72, "{block} is inside {v6}");
    assert_eq!((prefix(block) >> 64) & 0xff, 2, "ipv6_netnum 2");
    assert_eq!(subnet.assign_ipv6_address_on_creation(), Some(true));
    let rt = aws.ec2().describe_route_tables().route_table_ids(stack.id("route_table.public")).send().await.unwrap();
    let igw = stack.id("internet_gateway.main");
    assert!(
        rt.route_tables()[0]
            .routes()
            .iter()
            .any(|r| r.destination_ipv6_cidr_block() == Some("::/0") && r.gateway_id() == Some(igw.as_str())),
        "the IPv6 default route"
    );
    // Private subnets reach out over IPv6 through the egress-only gateway.
    let private =
        aws.ec2().describe_route_tables().route_table_ids(stack.id("route_table.private")).send().await.unwrap();
    let eigw = stack.id("egress_only_internet_gateway.main");
    assert!(
        private.route_tables()[0].routes().iter().any(|r| r.destination_ipv6_cidr_block() == Some("::/0")
            && r.egress_only_internet_gateway_id() == Some(eigw.as_str())),
        "the egress-only route"
    );
    let sg = aws.ec2().describe_security_groups().group_ids(stack.id("security_group.lb")).send().await.unwrap();
    let mut open6: Vec<i32> = sg.security_groups()[0]
        .ip_permissions()
        .iter()
        .filter(|p| p.ipv6_ranges().iter().any(|r| r.cidr_ipv6() == Some("::/0")))
        .filter_map(|p| p.from_port())
        .collect();
    open6.sort();
    assert_eq!(open6, vec![80, 443]);
    assert_eq!(lb.ip_address_type().map(|t| t.as_str()), Some("dualstack"));
    let aaaa =
        sets.resource_record_sets().iter().find(|s| s.name() == "www.example.com." && s.r#type().as_str() == "AAAA");
    assert!(aaaa.and_then(|s| s.alias_target()).is_some(), "the AAAA alias");

    // Three path rules, in order.
    let want: BTreeMap<i64, String> =
        [(10, "/app1/*"), (20, "/app2/*"), (30, "/*")].into_iter().map(|(p, s)| (p, s.to_string())).collect();
    assert_eq!(paths(&https).await, want);
    let again = stack.plan().expect_code(0);
    assert!(again.stdout.contains("No changes."), "{}", again.stdout);

    // The first two rules swap places in one apply.
    let swapped = WEB_HTTPS
        .replacen("priority: 10", "priority: 1x", 1)
        .replacen("priority: 20", "priority: 10", 1)
        .replacen("1x", "20", 1);
    stack.write_spec(&swapped);
    let applied = stack.apply();
    assert!(applied.stdout.contains("Apply complete! Resources: 0 added, 2 changed"), "{}", applied.stdout);
    let got = paths(&https).await;
    assert_eq!((got[&10].as_str(), got[&20].as_str()), ("/app2/*", "/app1/*"));
    assert!(stack.plan().expect_code(0).stdout.contains("No changes."));

    // Destroyed to nothing: the certificate, its validation records and the zone too.
    stack.destroy_and_check_clean();
    assert!(aws.acm().describe_certificate().certificate_arn(&cert).send().await.is_err(), "the certificate is gone");
    assert!(aws.route53().get_hosted_zone().id(&zone).send().await.is_err(), "the zone is gone");
}

/// A listener that serves a certificate ACM has not issued (requested by hand, its
/// validation records nowhere) is refused before any change.
#[tokio::test]
async fn a_listener_serving_a_certificate_not_issued_is_refused_before_the_apply() {
    let aws = aws().await;
    let requested = aws
        .acm()
        .request_certificate()
        .domain_name("pending.example.org")
        .validation_method("DNS".into())
        .send()
        .await
        .unwrap();
    let cert = requested.certificate_arn().unwrap().to_string();
    let stack = Stack::new("cert-pending", WEB_HTTPS);
    // The stack's own certificate is left out: the listener serves the one made by hand.
    let spec = WEB_HTTPS.replace("certificate_arn: ${acm_certificate.web}", &format!("certificate_arn: \"{cert}\""));
    stack.write_spec(&spec);
    let refused = stack.run(&["apply", "{spec}", "--auto-approve"]).expect_code(1);
    let said = format!("{}{}", refused.stdout, refused.stderr);
    assert!(
        said.contains(&format!(
            "FAILED listener.https: acm_certificate `{cert}` has status PENDING_VALIDATION, not ISSUED"
        )),
        "{said}"
    );
    assert!(refused.stderr.contains("Nothing was changed"), "{}", refused.stderr);
    assert!(!stack.state_path().exists() || stack.state().resources.is_empty(), "nothing was made");
}

/// A zone the stack does not own (made by hand here, as a registrar makes one) is found
/// by its domain, and the stack's records go into it, and leave it, without the zone
/// itself ever being the stack's.
#[tokio::test]
async fn records_go_into_a_zone_found_by_its_name() {
    let aws = aws().await;
    let domain = format!("lookup-{}.example.net", std::process::id());
    let made = aws.route53().create_hosted_zone().name(&domain).caller_reference(&domain).send().await.unwrap();
    let zone = made.hosted_zone().unwrap().id().trim_start_matches("/hostedzone/").to_string();
    let spec = format!(
        r#"stack: zone-lookup
lookups:
  route53_zone.main:
    name: {domain}
resources:
  route53_record.verify:
    hosted_zone_id: ${{lookup.route53_zone.main}}
    name: _verify.{domain}
    type: TXT
    ttl: 300
    resource_records: ['"made by trellis"']
outputs:
  name_servers: ${{lookup.route53_zone.main.name_servers}}
"#
    );
    let stack = Stack::new("zone-lookup", &spec);
    let applied = stack.apply();
    assert!(applied.stdout.contains("Apply complete! Resources: 1 added"), "{}", applied.stdout);
    let txt = || async {
        let sets = aws.route53().list_resource_record_sets().hosted_zone_id(&zone).send().await.unwrap();
        sets.resource_record_sets()
            .iter()
            .filter(|s| s.r#type().as_str() == "TXT")
            .flat_map(|s| s.resource_records().iter().map(|r| r.value().to_string()))
            .collect::<Vec<_>>()
    };
    assert_eq!(txt().await, ["\"made by trellis\""]);
    assert!(stack.plan().expect_code(0).stdout.contains("No changes."));
    stack.destroy_and_check_clean();
    assert!(txt().await.is_empty(), "the record went with the stack");
    assert!(aws.route53().get_hosted_zone().id(&zone).send().await.is_ok(), "the zone is not the stack's");
}

/// A private zone answers in the VPCs it names: one more is associated, and one less
/// dissociated, in place, and the zone keeps its id.
#[tokio::test]
async fn a_private_zone_takes_and_leaves_vpcs_in_place() {
    let spec = r#"stack: private-zone
resources:
  vpc.a:
    cidr_block: 10.40.0.0/16
    enable_dns_support: true
    enable_dns_hostnames: true
  vpc.b:
    cidr_block: 10.41.0.0/16
    enable_dns_support: true
    enable_dns_hostnames: true
  route53_zone.internal:
    name: internal.example
    vpcs: ["${vpc.a}"]
  route53_record.db:
    hosted_zone_id: ${route53_zone.internal}
    name: db.internal.example
    type: CNAME
    ttl: 60
    resource_records: [db.example.com]
"#;
    let stack = Stack::new("private-zone", spec);
    stack.apply();
    let zone = stack.id("route53_zone.internal");
    let vpcs = || async {
        let out = aws().await.route53().get_hosted_zone().id(&zone).send().await.unwrap();
        let mut ids: Vec<String> = out.vpcs().iter().filter_map(|v| v.vpc_id().map(str::to_string)).collect();
        ids.sort();
        ids
    };
    assert_eq!(vpcs().await, [stack.id("vpc.a")]);
    assert!(stack.plan().expect_code(0).stdout.contains("No changes."));

    stack.write_spec(&spec.replace(r#"vpcs: ["${vpc.a}"]"#, r#"vpcs: ["${vpc.a}", "${vpc.b}"]"#));
    let applied = stack.apply();
    assert!(applied.stdout.contains("Resources: 0 added, 1 changed, 0 destroyed"), "{}", applied.stdout);
    let mut both = vec![stack.id("vpc.a"), stack.id("vpc.b")];
    both.sort();
    assert_eq!(vpcs().await, both);
    assert_eq!(stack.id("route53_zone.internal"), zone, "the same zone");

    stack.write_spec(&spec.replace(r#"vpcs: ["${vpc.a}"]"#, r#"vpcs: ["${vpc.b}"]"#));
    stack.apply();
    assert_eq!(vpcs().await, [stack.id("vpc.b")]);
    assert!(stack.plan().expect_code(0).stdout.contains("No changes."));
    stack.destroy_and_check_clean();
}
