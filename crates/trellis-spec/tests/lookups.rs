//! `lookups:`: declared filters, references to what they found (with and without the
//! answers), lists where lists are due, and the mistakes a person makes with them.

use std::collections::BTreeMap;

use trellis_core::{Address, Attrs, Expr, LookupAddress, Value};
use trellis_spec::{parse, Filter, LoadOptions, LookupValues, SourceFile, Spec};

fn load_with(text: &str, answers: Option<&LookupValues>) -> Result<Spec, String> {
    let file = SourceFile { name: "spec.yaml".into(), text: text.into() };
    parse(file, &LoadOptions { vars: BTreeMap::new(), env: &|_| None, lookups: answers, stacks: None })
        .map_err(|d| d.render(false))
}

fn errors(text: &str) -> String {
    match load_with(text, None) {
        Ok(_) => panic!("spec was accepted"),
        Err(e) => e,
    }
}

fn l(kind: &str, name: &str) -> LookupAddress {
    LookupAddress::parse(kind, name).unwrap()
}

fn a(s: &str) -> Address {
    s.parse().unwrap()
}

fn attrs(pairs: &[(&str, Value)]) -> Attrs {
    pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
}

fn strs(items: &[&str]) -> Value {
    Value::List(items.iter().map(|s| Value::str(*s)).collect())
}

const DEFAULT_VPC: &str = r#"stack: dv
lookups:
  vpc.default:
    default: true
  subnets.default:
    vpc_id: ${lookup.vpc.default}
    default_for_az: true
  ami.web:
    ssm_parameter: /aws/service/ami-amazon-linux-latest/al2023-ami-kernel-6.1-x86_64
  availability_zones.all:
resources:
  security_group.web:
    vpc_id: ${lookup.vpc.default}
    description: "web in ${lookup.vpc.default.cidr_block}"
  launch_template.web:
    image_id: ${lookup.ami.web}
    instance_type: t3.micro
  autoscaling_group.web:
    launch_template_id: ${launch_template.web}
    min_size: 1
    max_size: 2
    vpc_zone_identifier: ${lookup.subnets.default.ids}
outputs:
  zones: ${lookup.availability_zones.all.names}
"#;

fn answers() -> LookupValues {
    [
        (l("vpc", "default"), attrs(&[("id", Value::str("vpc-0d")), ("cidr_block", Value::str("172.31.0.0/16"))])),
        (l("subnets", "default"), attrs(&[("ids", strs(&["subnet-1", "subnet-2"]))])),
        (l("ami", "web"), attrs(&[("id", Value::str("ami-0123"))])),
        (
            l("availability_zones", "all"),
            attrs(&[("names", strs(&["r-1a", "r-1b"])), ("zone_ids", strs(&["z1", "z2"]))]),
        ),
    ]
    .into_iter()
    .collect()
}

#[test]
fn lookups_are_declared_with_their_filters_and_needs() {
    let spec = load_with(DEFAULT_VPC, None).unwrap();
    assert_eq!(spec.lookups.len(), 4);
    let subnets = &spec.lookups[&l("subnets", "default")];
    assert_eq!(subnets.filters["vpc_id"], Filter::From { lookup: l("vpc", "default"), attr: "id".into() });
    assert_eq!(subnets.filters["default_for_az"], Filter::Value(Value::Bool(true)));
    assert_eq!(subnets.needs().into_iter().collect::<Vec<_>>(), vec![l("vpc", "default")]);
    // A filter's default is filled in.
    assert_eq!(spec.lookups[&l("availability_zones", "all")].filters["state"], Filter::Value(Value::str("available")));
    // The query waits for the lookups it needs, then carries their answers.
    assert!(subnets.query(&LookupValues::new()).is_none());
    let q = subnets.query(&answers()).unwrap();
    assert_eq!(q.filters["vpc_id"], Value::str("vpc-0d"));
    assert_eq!(q.describe(), "default_for_az: true, vpc_id: vpc-0d");
}

#[test]
fn without_answers_values_from_lookups_are_unknown() {
    let spec = load_with(DEFAULT_VPC, None).unwrap();
    let sg = &spec.resources[&a("security_group.web")];
    assert_eq!(sg.attrs["vpc_id"], Expr::Lit(Value::Unknown));
    assert_eq!(sg.attrs["description"], Expr::Lit(Value::Unknown));
    assert_eq!(spec.resources[&a("autoscaling_group.web")].attrs["vpc_zone_identifier"], Expr::Lit(Value::Unknown));
    assert!(spec.lookups.values().all(|l| l.found.is_none()));
}

#[test]
fn with_answers_values_from_lookups_are_literals() {
    let answers = answers();
    let spec = load_with(DEFAULT_VPC, Some(&answers)).unwrap();
    let sg = &spec.resources[&a("security_group.web")];
    assert_eq!(sg.attrs["vpc_id"], Expr::Lit(Value::str("vpc-0d")));
    assert_eq!(sg.attrs["description"], Expr::Lit(Value::str("web in 172.31.0.0/16")));
    assert_eq!(spec.resources[&a("launch_template.web")].attrs["image_id"], Expr::Lit(Value::str("ami-0123")));
    let ids = &spec.resources[&a("autoscaling_group.web")].attrs["vpc_zone_identifier"];
    assert_eq!(ids.as_literal(), Some(strs(&["subnet-1", "subnet-2"])));
    assert_eq!(spec.outputs["zones"].as_literal(), Some(strs(&["r-1a", "r-1b"])));
    assert_eq!(spec.lookups[&l("ami", "web")].found.as_ref().unwrap()["id"], Value::str("ami-0123"));
    // Lookups are no resources: nothing in the graph depends on them.
    assert!(spec.resources[&a("security_group.web")].dependencies().is_empty());
}

#[test]
fn an_unknown_lookup_kind_or_filter_is_named_with_a_suggestion() {
    let e = errors("stack: s\nlookups:\n  vcp.main: { default: true }\nresources: {}\n");
    assert!(e.contains("spec.yaml:3:3") && e.contains("`vcp` is not a kind of lookup") && e.contains("`vpc`"), "{e}");
    let e = errors("stack: s\nlookups:\n  vpc.main: { defualt: true }\nresources: {}\n");
    assert!(e.contains("`lookup.vpc.main` has no filter `defualt`") && e.contains("did you mean `default`?"), "{e}");
}

#[test]
fn a_lookup_without_the_filters_it_needs_is_refused() {
    let e = errors("stack: s\nlookups:\n  ami.web: { owners: [amazon] }\nresources: {}\n");
    assert!(e.contains("`lookup.ami.web` needs `ssm_parameter` or `owners` and `name`"), "{e}");
    let e = errors("stack: s\nlookups:\n  vpc.any: {}\nresources: {}\n");
    assert!(e.contains("`lookup.vpc.any` needs `id`, `default`, `cidr_block` or `tags`"), "{e}");
}

#[test]
fn references_to_lookups_are_checked() {
    let base = "stack: s\nlookups:\n  vpc.main: { tags: { Name: shared } }\n  subnets.all: { vpc_id: \"${lookup.vpc.main}\" }\nresources:\n";
    let e = errors(&format!("{base}  security_group.a:\n    vpc_id: ${{lookup.vpc.mian}}\n"));
    assert!(e.contains("`lookup.vpc.mian` is not declared under `lookups:`") && e.contains("lookup.vpc.main"), "{e}");
    let e = errors(&format!("{base}  security_group.a:\n    vpc_id: ${{lookup.vpc.main.cidr}}\n"));
    assert!(e.contains("has no attribute `cidr`") && e.contains("cidr_block"), "{e}");
    // The CIDR block is no VPC id.
    let e = errors(&format!("{base}  security_group.a:\n    vpc_id: ${{lookup.vpc.main.cidr_block}}\n"));
    assert!(e.contains("expected the id of a vpc"), "{e}");
    // A list where one value is due.
    let e = errors(&format!(
        "{base}  security_group.a:\n    vpc_id: ${{lookup.vpc.main}}\n    description: ${{lookup.subnets.all.ids}}\n"
    ));
    assert!(e.contains("is a list and stands alone"), "{e}");
    // The ids of subnets are no ids of security groups.
    let e = errors(&format!(
        "{base}  instance.a:\n    image_id: ami-1\n    instance_type: t3.micro\n    subnet_id: subnet-1\n    security_group_ids: ${{lookup.subnets.all.ids}}\n"
    ));
    assert!(e.contains("expected ids of security_groups"), "{e}");
}

#[test]
fn lookup_filters_read_no_resources_and_form_no_cycles() {
    let e = errors("stack: s\nlookups:\n  subnet.a: { vpc_id: \"${vpc.main}\" }\nresources:\n  vpc.main: { cidr_block: 10.0.0.0/16 }\n");
    assert!(e.contains("a filter of `lookup.subnet.a` cannot read `${vpc.main}`"), "{e}");
    let e = errors(
        "stack: s\nlookups:\n  vpc.a: { id: \"${lookup.security_group.b.vpc_id}\" }\n  security_group.b: { group_name: default, vpc_id: \"${lookup.vpc.a}\" }\nresources: {}\n",
    );
    assert!(e.contains("lookup cycle: lookup.security_group.b, lookup.vpc.a"), "{e}");
}

#[test]
fn copies_cannot_be_counted_from_a_lookup() {
    let e = errors(
        "stack: s\nlookups:\n  availability_zones.all:\nresources:\n  vpc.main:\n    for_each: [\"${lookup.availability_zones.all.names}\"]\n    cidr_block: 10.0.0.0/16\n",
    );
    assert!(e.contains("copies are decided before lookups and other stacks' states are read"), "{e}");
}

#[test]
fn an_element_of_a_lookup_list_is_one_value() {
    let text = DEFAULT_VPC.replace(
        "  launch_template.web:\n",
        "  instance.one:\n    image_id: ${lookup.ami.web}\n    instance_type: t3.micro\n    subnet_id: ${lookup.subnets.default.ids[1]}\n  launch_template.web:\n",
    );
    let answers = answers();
    let spec = load_with(&text, Some(&answers)).unwrap();
    assert_eq!(spec.resources[&a("instance.one")].attrs["subnet_id"], Expr::Lit(Value::str("subnet-2")));
    let without = load_with(&text, None).unwrap();
    assert_eq!(without.resources[&a("instance.one")].attrs["subnet_id"], Expr::Lit(Value::Unknown));
    let e = load_with(&text.replace("ids[1]", "ids[2]"), Some(&answers)).unwrap_err();
    assert!(e.contains("`${lookup.subnets.default.ids}` has 2 elements: there is no `[2]`"), "{e}");
    let e = errors(&text.replace("${lookup.subnets.default.ids[1]}", "${lookup.vpc.default.cidr_block[0]}"));
    assert!(e.contains("is not a list: it has no `[0]`"), "{e}");
}
