//! Pre-flight questions from what the schema declares, and their judgement: images,
//! objects named by a literal id that the stack does not make, fixed names, room in
//! subnets (new ones by their range).

mod support;

use support::{addr, converged, run};
use trellis_core::preflight::Answers;
use trellis_plan::{preflight_judge, preflight_questions};

const SPEC: &str = r#"stack: web
resources:
  vpc.main:
    cidr_block: 10.0.0.0/16
  subnet.small:
    vpc_id: ${vpc.main}
    cidr_block: 10.0.1.0/28
  launch_template.web:
    image_id: ami-1234
    instance_type: t3.micro
    key_name: made-elsewhere
  autoscaling_group.web:
    launch_template_id: ${launch_template.web}
    min_size: 1
    max_size: 12
    vpc_zone_identifier: ["${subnet.small}"]
  db_subnet_group.db:
    db_subnet_group_name: fixed-name
    subnet_ids: ["${subnet.small}", "subnet-0existing"]
"#;

#[test]
fn a_new_stack_asks_for_its_image_literal_objects_and_fixed_names() {
    let p = run(SPEC, None);
    let q = preflight_questions(&p);
    assert_eq!(q.images, [(addr("launch_template.web"), "ami-1234".to_string())]);
    let objects: Vec<(String, &str, String)> =
        q.objects.iter().map(|(a, k, i)| (a.to_string(), *k, i.clone())).collect();
    assert_eq!(
        objects,
        [("launch_template.web".to_string(), "key_pair", "made-elsewhere".to_string())],
        "a reference to the stack's own subnet is not asked"
    );
    let names: Vec<(String, &str)> = q.names.iter().map(|(a, _, n)| (a.to_string(), n.as_str())).collect();
    assert_eq!(names, [("db_subnet_group.db".to_string(), "fixed-name")]);

    let none = preflight_judge(&p, &q, &Answers::default());
    let failed: Vec<(String, &str)> =
        none.iter().filter(|c| !c.ok).map(|c| (c.address.to_string(), c.check.as_str())).collect();
    assert_eq!(
        failed,
        [
            ("launch_template.web".to_string(), "image"),
            ("launch_template.web".to_string(), "exists"),
            ("autoscaling_group.web".to_string(), "addresses"),
        ],
        "a /28 holds 11, the group wants 12: {none:#?}"
    );
    let all = Answers {
        images: vec!["ami-1234".into()],
        objects: vec![("key_pair".into(), "made-elsewhere".into())],
        taken: vec![("db_subnet_group".into(), "fixed-name".into(), "fixed-name".into())],
        ..Answers::default()
    };
    let judged = preflight_judge(&p, &q, &all);
    let failed: Vec<&str> = judged.iter().filter(|c| !c.ok).map(|c| c.check.as_str()).collect();
    assert_eq!(failed, ["name", "addresses"]);
}

#[test]
fn an_unchanged_stack_asks_nothing_and_a_grown_group_asks_for_room() {
    let st = converged(SPEC);
    let p = run(SPEC, Some(&st));
    let q = preflight_questions(&p);
    assert!(q.images.is_empty() && q.objects.is_empty() && q.names.is_empty(), "{q:?}");
    let grown = run(&SPEC.replace("max_size: 12", "max_size: 30"), Some(&st));
    let q = preflight_questions(&grown);
    assert_eq!(q.subnets, ["small-1".to_string()], "the made subnet's id, as the state has it");
    let answers = Answers { free_addresses: vec![("small-1".into(), 25)], ..Answers::default() };
    let judged = preflight_judge(&grown, &q, &answers);
    assert_eq!(judged.len(), 1);
    assert!(!judged[0].ok && judged[0].detail == "30 addresses needed, 25 free in its subnet", "{judged:?}");
}

#[test]
fn an_instance_type_must_be_offered_in_its_zone_and_limits_count_what_is_held() {
    let spec = r#"stack: web
resources:
  vpc.main:
    cidr_block: 10.0.0.0/16
  subnet.a:
    vpc_id: ${vpc.main}
    cidr_block: 10.0.1.0/24
    availability_zone: us-east-1e
  instance.app:
    image_id: ami-1234
    instance_type: t3.micro
    subnet_id: ${subnet.a}
  elastic_ip.a:
    instance_id: ${instance.app}
  elastic_ip.b: {}
"#;
    let p = run(spec, None);
    let q = preflight_questions(&p);
    assert_eq!(q.instance_types, ["t3.micro"]);
    assert_eq!(q.limits, ["vpc-max-elastic-ips"]);
    let answers = Answers {
        images: vec!["ami-1234".into()],
        offered: vec![("t3.micro".into(), "us-east-1a".into())],
        limits: vec![("vpc-max-elastic-ips".into(), 5, 4)],
        ..Answers::default()
    };
    let judged = preflight_judge(&p, &q, &answers);
    let failed: Vec<(&str, &str)> =
        judged.iter().filter(|c| !c.ok).map(|c| (c.check.as_str(), c.detail.as_str())).collect();
    assert_eq!(
        failed,
        [
            ("offered", "t3.micro is not offered in us-east-1e, a zone of its subnets"),
            ("limit", "vpc-max-elastic-ips: 4 held + 2 new = 6, the account's limit is 5"),
        ]
    );
    let room = Answers { limits: vec![("vpc-max-elastic-ips".into(), 5, 3)], ..answers };
    assert!(preflight_judge(&p, &q, &room).iter().any(|c| c.check == "limit" && c.ok));
}

#[test]
fn a_group_is_checked_for_its_templates_type_and_a_database_for_the_rds_quota() {
    let spec = r#"stack: web
resources:
  vpc.main:
    cidr_block: 10.0.0.0/16
  subnet.a:
    vpc_id: ${vpc.main}
    cidr_block: 10.0.1.0/24
    availability_zone: us-east-1e
  launch_template.web:
    image_id: ami-1234
    instance_type: m7g.large
  autoscaling_group.web:
    launch_template_id: ${launch_template.web}
    min_size: 1
    max_size: 2
    vpc_zone_identifier: ["${subnet.a}"]
  db_subnet_group.db:
    subnet_ids: ["${subnet.a}"]
  db_instance.main:
    engine: mysql
    db_instance_class: db.t3.micro
    allocated_storage: 20
    master_username: admin
    master_user_password: ${env.DB_PASSWORD}
    db_subnet_group_name: ${db_subnet_group.db}
"#;
    let p = run(spec, None);
    let q = preflight_questions(&p);
    assert_eq!(q.instance_types, ["m7g.large"], "the group's type is its template's");
    assert_eq!(q.limits, ["rds:DBInstances"]);
    let answers = Answers { limits: vec![("rds:DBInstances".into(), 40, 40)], ..Answers::default() };
    let failed: Vec<(String, String)> = preflight_judge(&p, &q, &answers)
        .into_iter()
        .filter(|c| !c.ok)
        .map(|c| (c.address.to_string(), c.check))
        .collect::<Vec<_>>()
        .into_iter()
        .filter(|(_, k)| k != "image")
        .collect();
    assert_eq!(
        failed,
        [
            ("autoscaling_group.web".to_string(), "offered".to_string()),
            ("db_instance.main".to_string(), "limit".to_string())
        ]
    );
}

/// A listener that serves a certificate the stack does not make asks whether ACM has
/// issued it, and fails pre-flight while it has not; one the stack makes is waited for
/// by its own create, and one AWS shows under no kind (IAM's) is not judged.
#[test]
fn a_listener_serving_a_certificate_not_issued_fails_before_the_apply() {
    let cert = "arn:aws:acm:us-east-1:123456789012:certificate/0e6d";
    let spec = format!(
        r#"stack: web
resources:
  listener.https:
    load_balancer_arn: arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/app/web/1
    port: 443
    protocol: HTTPS
    certificates: [{{ certificate_arn: "{cert}" }}]
    default_actions: [{{ type: fixed-response, fixed_response_config: {{ status_code: "404" }} }}]
"#
    );
    let p = run(&spec, None);
    let q = preflight_questions(&p);
    let asked: Vec<(String, &str, String)> = q.usable.iter().map(|(a, k, i)| (a.to_string(), *k, i.clone())).collect();
    assert_eq!(asked, [("listener.https".to_string(), "acm_certificate", cert.to_string())]);
    let pending = Answers {
        unusable: vec![("acm_certificate".into(), cert.into(), "PENDING_VALIDATION".into())],
        ..Answers::default()
    };
    let checks = preflight_judge(&p, &q, &pending);
    // (The load balancer, named by a literal id, is asked about apart.)
    let failed: Vec<&trellis_core::preflight::Check> = checks.iter().filter(|c| !c.ok && c.check != "exists").collect();
    assert_eq!(failed.len(), 1, "{checks:#?}");
    assert_eq!(failed[0].check, "usable");
    assert!(failed[0].detail.contains("has status PENDING_VALIDATION, not ISSUED"), "{}", failed[0].detail);
    // Issued (or unknown to ACM): nothing of it fails.
    assert!(preflight_judge(&p, &q, &Answers::default()).iter().all(|c| c.ok || c.check == "exists"));
}
