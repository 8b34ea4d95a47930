//! Drift read out of a plan (`trellis_plan::drift`): each drifted attribute, a mapping
//! key by key, and whether a planned change only repairs drift or carries the spec's own.

mod support;

use support::{addr, converged};
use trellis_core::Value;
use trellis_plan::drift::{attributes, causes, is_ignored, Cause};
use trellis_plan::Operation;

const SPEC: &str = r#"stack: web
resources:
  vpc.main:
    cidr_block: 10.0.0.0/16
    tags: { Team: web }
  subnet.a:
    vpc_id: ${vpc.main}
    cidr_block: 10.0.1.0/24
"#;

#[test]
fn drifted_attributes_are_named_one_by_one_and_a_mapping_key_by_key() {
    let st = converged(SPEC);
    let p = support::plan_edited(SPEC, &st, Operation::Apply, &[], |live| {
        let vpc = &mut live.get_mut(&addr("vpc.main")).unwrap().attrs;
        vpc.insert("enable_dns_hostnames".into(), Value::Bool(true));
        let Some(Value::Map(tags)) = vpc.get_mut("tags") else { panic!("tags") };
        tags.insert("Owner".into(), Value::str("someone"));
    });
    let d = p.drift.iter().find(|d| d.address == addr("vpc.main")).expect("drift");
    let found: Vec<(String, Value, Value)> =
        attributes(d).into_iter().map(|a| (a.attribute, a.recorded, a.live)).collect();
    assert_eq!(
        found,
        [
            ("enable_dns_hostnames".to_string(), Value::Bool(false), Value::Bool(true)),
            ("tags.Owner".to_string(), Value::Null, Value::str("someone")),
        ]
    );
    // The change that undoes it repairs drift only.
    assert_eq!(causes(&p).get(&addr("vpc.main")), Some(&Cause::Drift));
}

#[test]
fn a_change_the_spec_asks_for_is_the_spec_s_even_with_drift_besides() {
    let st = converged(SPEC);
    let edited = SPEC.replace("tags: { Team: web }", "tags: { Team: platform }");
    let p = support::plan_edited(&edited, &st, Operation::Apply, &[], |live| {
        let vpc = &mut live.get_mut(&addr("vpc.main")).unwrap().attrs;
        vpc.insert("enable_dns_hostnames".into(), Value::Bool(true));
    });
    assert_eq!(causes(&p).get(&addr("vpc.main")), Some(&Cause::Spec));
    // A resource the spec adds is the spec's too.
    let more = format!("{SPEC}  subnet.b:\n    vpc_id: ${{vpc.main}}\n    cidr_block: 10.0.2.0/24\n");
    let p = support::plan_edited(&more, &st, Operation::Apply, &[], |_| {});
    assert_eq!(causes(&p).get(&addr("subnet.b")), Some(&Cause::Spec));
    assert_eq!(causes(&p).get(&addr("vpc.main")), None, "unchanged");
}

#[test]
fn an_object_deleted_outside_trellis_is_drift_and_made_again_as_its_repair() {
    let st = converged(SPEC);
    let p = support::plan_edited(SPEC, &st, Operation::Apply, &[], |live| {
        live.remove(&addr("subnet.a"));
    });
    let d = p.drift.iter().find(|d| d.address == addr("subnet.a")).expect("drift");
    assert!(d.after.is_none() && attributes(d).is_empty());
    assert_eq!(causes(&p).get(&addr("subnet.a")), Some(&Cause::Drift));
}

#[test]
fn drift_that_forces_a_replacement_is_still_drift_and_its_repair_a_replacement() {
    let st = converged(SPEC);
    let p = support::plan_edited(SPEC, &st, Operation::Apply, &[], |live| {
        let subnet = &mut live.get_mut(&addr("subnet.a")).unwrap().attrs;
        subnet.insert("cidr_block".into(), Value::str("10.0.9.0/24"));
    });
    assert!(p.change(&addr("subnet.a")).unwrap().action.is_replace());
    assert_eq!(causes(&p).get(&addr("subnet.a")), Some(&Cause::Drift));
}

#[test]
fn an_ignore_names_an_attribute_or_one_of_its_keys() {
    let ignored = ["tags".to_string(), "ingress".to_string(), "labels.Team".to_string()];
    assert!(is_ignored("tags.Owner", &ignored));
    assert!(is_ignored("ingress", &ignored));
    assert!(is_ignored("labels.Team", &ignored));
    assert!(!is_ignored("labels.Owner", &ignored));
    assert!(!is_ignored("ingress_rules", &ignored), "a prefix of a name is not the name");
}

#[test]
fn what_the_spec_leaves_to_aws_is_no_drift() {
    // An Elastic IP whose association is an `elastic_ip_association`'s: the address's
    // `instance_id` changes when the association is made, and that is no drift.
    let spec = "stack: web\nresources:\n  elastic_ip.a: {}\n  vpc.main:\n    cidr_block: 10.0.0.0/16\n";
    let st = converged(spec);
    let p = support::plan_edited(spec, &st, Operation::Apply, &[], |live| {
        let eip = &mut live.get_mut(&addr("elastic_ip.a")).unwrap().attrs;
        eip.insert("instance_id".into(), Value::str("i-0123456789abcdef0"));
    });
    assert!(p.drift.is_empty(), "{:?}", p.drift);
    // Set by the spec, the same change is drift.
    let spec = spec.replace("elastic_ip.a: {}", "elastic_ip.a:\n    instance_id: i-0aaaaaaaaaaaaaaaa");
    let st = converged(&spec);
    let p = support::plan_edited(&spec, &st, Operation::Apply, &[], |live| {
        let eip = &mut live.get_mut(&addr("elastic_ip.a")).unwrap().attrs;
        eip.insert("instance_id".into(), Value::str("i-0123456789abcdef0"));
    });
    let d = p.drift.iter().find(|d| d.address == addr("elastic_ip.a")).expect("drift");
    assert_eq!(attributes(d)[0].attribute, "instance_id");
}
