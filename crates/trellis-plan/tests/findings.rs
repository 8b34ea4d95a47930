//! The rules each kind declares, run on the resolved plan: what fires, what the graph
//! adds (a group that guards a database), what a `waive:` accepts, and how the text,
//! JSON and markdown plans carry findings.

mod support;

use support::{converged, run};
use trellis_core::schema::Severity;
use trellis_plan::{failing, render, Finding, RenderOptions};

const NET: &str = r#"stack: shop
resources:
  vpc.main:
    cidr_block: 10.0.0.0/16
    default_security_group_rules: none
  subnet.a:
    vpc_id: ${vpc.main}
    cidr_block: 10.0.1.0/24
  subnet.b:
    vpc_id: ${vpc.main}
    cidr_block: 10.0.2.0/24
"#;

#[test]
fn a_vpc_whose_default_group_keeps_aws_s_rules_is_a_low_finding() {
    let open = run(&NET.replace("    default_security_group_rules: none\n", ""), None).findings;
    assert!(
        open.iter().any(|f| f.rule == "vpc-default-sg-open" && f.checkov == Some("CKV2_AWS_12".into())),
        "{open:?}"
    );
    assert!(findings("").iter().all(|f| f.rule != "vpc-default-sg-open"), "closed: no finding");
}

fn findings(extra: &str) -> Vec<Finding> {
    run(&format!("{NET}{extra}"), None).findings
}

fn rules(f: &[Finding]) -> Vec<(&str, String)> {
    f.iter().map(|f| (f.rule.as_str(), f.address.to_string())).collect()
}

const DB: &str = r#"  db_subnet_group.db:
    subnet_ids: ["${subnet.a}", "${subnet.b}"]
  db_instance.main:
    engine: postgres
    db_instance_class: db.t3.micro
    allocated_storage: 20
    master_username: admin
    master_user_password: ${env.DB_PASSWORD}
    db_subnet_group_name: ${db_subnet_group.db}
    vpc_security_group_ids: ["${security_group.db}"]
    storage_encrypted: true
    deletion_protection: true
"#;

fn group(port: &str, cidr: &str) -> String {
    format!(
        "  security_group.db:\n    vpc_id: ${{vpc.main}}\n    description: db\n    ingress:\n      - protocol: tcp\n        port: {port}\n        cidr: {cidr}\n"
    )
}

#[test]
fn a_database_port_open_to_the_world_on_its_own_group_is_critical() {
    let f = findings(&format!("{}{DB}", group("5432", "0.0.0.0/0")));
    assert_eq!(rules(&f), [("sg-database-open", "security_group.db".to_string())], "{f:#?}");
    assert_eq!(f[0].severity, Severity::Critical);
    assert!(f[0].detail.contains("tcp 5432 from 0.0.0.0/0: the port of `db_instance.main`"), "{}", f[0].detail);
    // The engine's port, open on a group no database uses: high, by the port alone.
    let f = findings(&format!("{}{}", group("3306", "0.0.0.0/0"), DB.replace("[\"${security_group.db}\"]", "[]")));
    assert!(rules(&f).contains(&("sg-database-port-open", "security_group.db".to_string())), "{f:#?}");
    // From inside the VPC: nothing.
    let f = findings(&format!("{}{DB}", group("5432", "10.0.0.0/16")));
    assert!(f.is_empty(), "{f:#?}");
}

#[test]
fn ssh_rdp_and_every_port_open_are_found_with_checkov_ids() {
    let f = findings(&group("22", "0.0.0.0/0"));
    assert_eq!(rules(&f), [("sg-ssh-open", "security_group.db".to_string())]);
    assert_eq!(f[0].checkov.as_deref(), Some("CKV_AWS_24"));
    let f = findings(&group("\"3380-3400\"", "0.0.0.0/0"));
    assert_eq!(rules(&f), [("sg-rdp-open", "security_group.db".to_string())], "a range that holds 3389");
    let all = "  security_group.db:\n    vpc_id: ${vpc.main}\n    description: db\n    ingress:\n      - protocol: all\n        cidr: 0.0.0.0/0\n";
    let f: Vec<String> = findings(all).into_iter().map(|f| f.rule).collect();
    for rule in ["sg-all-open", "sg-ssh-open", "sg-rdp-open", "sg-database-port-open"] {
        assert!(f.iter().any(|r| r == rule), "{rule}: {f:?}");
    }
    let acl = "  network_acl.public:\n    vpc_id: ${vpc.main}\n    ingress:\n      - rule_number: 100\n        protocol: tcp\n        rule_action: allow\n        cidr_block: 0.0.0.0/0\n        port_range: { from: 22, to: 22 }\n";
    assert_eq!(rules(&findings(acl)), [("nacl-ssh-open", "network_acl.public".to_string())]);
    let denied = acl.replace("rule_action: allow", "rule_action: deny");
    assert!(findings(&denied).is_empty());
    let everything =
        acl.replace("protocol: tcp", "protocol: all").replace("        port_range: { from: 22, to: 22 }\n", "");
    let got: Vec<String> = findings(&everything).into_iter().map(|f| f.rule).collect();
    assert_eq!(got, ["nacl-ssh-open", "nacl-rdp-open", "nacl-all-open"]);
}

/// `::/0` is the whole internet as much as `0.0.0.0/0`: every rule that flags one
/// flags the other, and says which.
#[test]
fn rules_open_to_every_ipv6_address_are_found_as_ipv4_ones_are() {
    let f = findings(&group("22", "\"::/0\""));
    assert_eq!(rules(&f), [("sg-ssh-open", "security_group.db".to_string())], "{f:#?}");
    assert!(f[0].detail.contains("tcp 22 from ::/0"), "{}", f[0].detail);
    let f = findings(&format!("{}{DB}", group("5432", "\"::/0\"")));
    assert_eq!(rules(&f), [("sg-database-open", "security_group.db".to_string())], "{f:#?}");
    let acl = "  network_acl.public:\n    vpc_id: ${vpc.main}\n    ingress:\n      - rule_number: 100\n        protocol: tcp\n        rule_action: allow\n        ipv6_cidr_block: \"::/0\"\n        port_range: { from: 3389, to: 3389 }\n";
    let f = findings(acl);
    assert_eq!(rules(&f), [("nacl-rdp-open", "network_acl.public".to_string())], "{f:#?}");
    assert!(f[0].detail.contains("from ::/0"), "{}", f[0].detail);
    // A range of one's own stays quiet.
    assert!(findings(&group("22", "\"2600:1f18:1a2::/56\"")).is_empty());
}

#[test]
fn a_database_is_checked_for_exposure_encryption_backups_and_protection() {
    let bare = DB
        .replace("    storage_encrypted: true\n", "")
        .replace("    deletion_protection: true\n", "    publicly_accessible: true\n    backup_retention_period: 0\n");
    let f = findings(&format!("{}{bare}", group("5432", "10.0.0.0/16")));
    let mut got: Vec<&str> = f.iter().map(|f| f.rule.as_str()).collect();
    got.sort();
    assert_eq!(got, ["db-deletion-unprotected", "db-no-backups", "db-public", "db-unencrypted"]);
    let severities: Vec<Severity> = f.iter().map(|f| f.severity).collect();
    assert!(severities.windows(2).all(|w| w[0] >= w[1]), "strongest first: {severities:?}");
}

#[test]
fn a_trust_policy_open_to_anyone_and_plain_http_are_found() {
    let role = r#"  iam_role.app:
    assume_role_policy_document:
      Version: "2012-10-17"
      Statement:
        - Effect: Allow
          Principal: { AWS: "*" }
          Action: sts:AssumeRole
"#;
    assert_eq!(rules(&findings(role)), [("iam-trust-anyone", "iam_role.app".to_string())]);
    let service = role.replace("{ AWS: \"*\" }", "{ Service: ec2.amazonaws.com }");
    assert!(findings(&service).is_empty());
    let lb = r#"  target_group.web:
    port: 80
    vpc_id: ${vpc.main}
  load_balancer.web:
    subnets: ["${subnet.a}", "${subnet.b}"]
    deletion_protection: true
    drop_invalid_header_fields: true
  listener.http:
    load_balancer_arn: ${load_balancer.web}
    port: 80
    default_actions:
      - type: forward
        target_group_arn: ${target_group.web}
"#;
    assert_eq!(rules(&findings(lb)), [("listener-plain-http", "listener.http".to_string())]);
    // A balancer that passes invalid headers on (CKV_AWS_131).
    let headers = lb.replace("    drop_invalid_header_fields: true\n", "");
    assert!(rules(&findings(&headers)).contains(&("lb-invalid-headers-kept", "load_balancer.web".to_string())));
    let redirect = lb.replace(
        "      - type: forward\n        target_group_arn: ${target_group.web}\n",
        "      - type: redirect\n        redirect_config: { protocol: HTTPS, port: \"443\", status_code: HTTP_301 }\n",
    );
    assert!(findings(&redirect).is_empty(), "{:#?}", findings(&redirect));
}

#[test]
fn a_waiver_keeps_the_finding_with_its_reason_and_out_of_the_gate() {
    let waived = group("22", "0.0.0.0/0").replace(
        "    description: db\n",
        "    description: db\n    waive:\n      sg-ssh-open: \"the bastion; reviewed by security in SEC-12\"\n",
    );
    let f = findings(&waived);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].waived.as_deref(), Some("the bastion; reviewed by security in SEC-12"));
    assert!(failing(&f, Severity::Low).is_empty(), "a waived finding never refuses");
    let open = findings(&group("22", "0.0.0.0/0"));
    assert_eq!(failing(&open, Severity::High).len(), 1);
    assert!(failing(&open, Severity::Critical).is_empty());
}

#[test]
fn plans_carry_findings_in_text_json_and_markdown() {
    let spec = format!("{NET}{}{DB}", group("5432", "0.0.0.0/0"));
    let p = run(&spec, None);
    let text = render(&p, RenderOptions::default());
    assert!(text.contains("Findings: 1 (1 critical)"), "{text}");
    assert!(text.contains("  CRITICAL security_group.db: a database's port is open to the internet"), "{text}");
    assert!(text.contains("      fix: allow the database's port only from"), "{text}");
    let json = trellis_plan::to_json(&p);
    assert_eq!(json["findings"][0]["rule"], "sg-database-open");
    assert_eq!(json["findings"][0]["severity"], "critical");
    let md = trellis_plan::render_markdown(&p);
    assert!(md.contains("> [!WARNING]\n> **Findings: 1 (1 critical)**"), "{md}");
    // Once made, an unchanged object's finding is one line.
    let st = converged(&spec);
    let again = run(&spec, Some(&st));
    let text = render(&again, RenderOptions::default());
    assert!(text.contains("[sg-database-open; unchanged by this plan]"), "{text}");
    assert!(!text.contains("      why:"), "{text}");
}

#[test]
fn launchers_are_checked_for_imdsv1_and_unencrypted_volumes() {
    let lt = "  launch_template.web:\n    image_id: ami-1\n    instance_type: t3.micro\n";
    let mut got: Vec<String> = findings(lt).into_iter().map(|f| f.rule).collect();
    got.sort();
    assert_eq!(got, ["imds-v1", "volume-unencrypted"]);
    let hardened = format!(
        "{lt}    metadata_options: {{ http_tokens: required }}\n    block_device_mappings:\n      - device_name: /dev/xvda\n        ebs: {{ encrypted: true }}\n"
    );
    assert!(findings(&hardened).is_empty(), "{:#?}", findings(&hardened));
    let half = hardened.replace("encrypted: true", "encrypted: false").replace("required", "optional");
    let details: Vec<String> = findings(&half).into_iter().map(|f| f.detail).collect();
    assert_eq!(details, ["metadata_options.http_tokens: optional", "/dev/xvda is not encrypted"]);
    let instance = "  instance.app:\n    image_id: ami-1\n    instance_type: t3.micro\n    subnet_id: ${subnet.a}\n    metadata_options: { http_tokens: required }\n";
    let got: Vec<String> = findings(instance).into_iter().map(|f| f.rule).collect();
    assert_eq!(got, ["volume-unencrypted"]);
}
