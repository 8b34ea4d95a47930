//! `count` and `for_each`: copies at instance addresses, the references that name them,
//! and the mistakes a person makes with them.

use std::collections::BTreeMap;

use trellis_core::{Address, Expr, Value};
use trellis_spec::{parse, LoadOptions, SourceFile, Spec};

fn load(text: &str) -> Result<Spec, String> {
    let file = SourceFile { name: "spec.yaml".into(), text: text.into() };
    parse(file, &LoadOptions { vars: BTreeMap::new(), env: &|_| None, lookups: None, stacks: None })
        .map_err(|d| d.render(false))
}

fn errors(text: &str) -> String {
    match load(text) {
        Ok(_) => panic!("spec was accepted"),
        Err(e) => e,
    }
}

fn a(s: &str) -> Address {
    s.parse().unwrap()
}

fn lit(s: &str) -> Expr {
    Expr::Lit(Value::str(s))
}

const COPIES: &str = r#"stack: rep
vars:
  servers: "3"
resources:
  vpc.main:
    cidr_block: 10.0.0.0/16
  subnet.az:
    for_each:
      a: { cidr: 10.0.1.0/24, zone: us-east-1a }
      b: { cidr: 10.0.2.0/24, zone: us-east-1b }
    vpc_id: ${vpc.main}
    cidr_block: ${each.value.cidr}
    availability_zone: ${each.value.zone}
    tags: { Role: "web-${each.key}" }
  instance.web:
    count: ${var.servers}
    image_id: ami-0abcdef1234567890
    instance_type: t3.micro
    subnet_id: ${subnet.az["a"]}
    tags: { Slot: "${count.index}" }
  target_group.web:
    port: 80
    vpc_id: ${vpc.main}
  target_group_attachment.web:
    count: ${var.servers}
    target_group_arn: ${target_group.web}
    target_id: ${instance.web[count.index]}
  db_subnet_group.db:
    db_subnet_group_description: both zones
    subnet_ids: ${subnet.az[*].id}
  load_balancer.front:
    subnets: ["${subnet.az[*]}"]
    depends_on: [instance.web]
outputs:
  first: ${instance.web[0].private_ip}
  all: ${instance.web[*].private_ip}
"#;

#[test]
fn copies_get_instance_addresses_and_their_own_values() {
    let spec = load(COPIES).unwrap();
    let names: Vec<String> = spec.resources.keys().map(ToString::to_string).collect();
    for want in [
        "instance.web[0]",
        "instance.web[1]",
        "instance.web[2]",
        "subnet.az[\"a\"]",
        "subnet.az[\"b\"]",
        "target_group_attachment.web[2]",
    ] {
        assert!(names.contains(&want.to_string()), "{want} in {names:?}");
    }
    assert!(!names.iter().any(|n| n == "instance.web" || n == "instance.web[3]"), "{names:?}");
    let b = &spec.resources[&a("subnet.az[\"b\"]")];
    assert_eq!(b.attrs["cidr_block"], lit("10.0.2.0/24"));
    assert_eq!(b.attrs["availability_zone"], lit("us-east-1b"));
    let Expr::Map(tags) = &b.attrs["tags"] else { panic!() };
    assert_eq!(tags["Role"], lit("web-b"));
    assert_eq!(tags["Name"], lit("rep-az-b"), "each copy is named apart");
    let web2 = &spec.resources[&a("instance.web[2]")];
    let Expr::Map(tags) = &web2.attrs["tags"] else { panic!() };
    assert_eq!(tags["Slot"], lit("2"));
    assert_eq!(tags["Name"], lit("rep-web-2"));
    // An index taken from the copy being read.
    let att = &spec.resources[&a("target_group_attachment.web[1]")];
    let Expr::Ref(r) = &att.attrs["target_id"] else { panic!("{:?}", att.attrs["target_id"]) };
    assert_eq!(r.address, a("instance.web[1]"));
    // A whole list, alone or as a list item.
    let group = &spec.resources[&a("db_subnet_group.db")];
    let Expr::Set(items) = &group.attrs["subnet_ids"] else { panic!("{:?}", group.attrs["subnet_ids"]) };
    let refs: Vec<String> = items.iter().flat_map(|e| e.refs()).map(|r| r.address.to_string()).collect();
    assert_eq!(refs, ["subnet.az[\"a\"]", "subnet.az[\"b\"]"]);
    let lb = &spec.resources[&a("load_balancer.front")];
    assert_eq!(lb.attrs["subnets"].refs().len(), 2);
    // `depends_on` a repeated resource waits for every copy.
    let deps: Vec<String> = lb.depends_on.iter().map(ToString::to_string).collect();
    assert_eq!(deps, ["instance.web[0]", "instance.web[1]", "instance.web[2]"]);
    let Expr::List(all) = &spec.outputs["all"] else { panic!() };
    assert_eq!(all.len(), 3);
    // The graph orders copies like any resource.
    let order: Vec<String> = spec.graph().creation_order().unwrap().iter().map(ToString::to_string).collect();
    let pos = |s: &str| order.iter().position(|o| o == s).unwrap();
    assert!(pos("instance.web[1]") < pos("target_group_attachment.web[1]"));
    assert!(pos("subnet.az[\"a\"]") < pos("instance.web[0]"));
}

#[test]
fn count_zero_makes_nothing_and_a_list_of_none() {
    let none = COPIES.replace("servers: \"3\"", "servers: \"0\"");
    assert!(errors(&none).contains("`instance.web[0]` does not exist: `instance.web` has count 0 (no copies)"));
    let spec = load(&none.replace("  first: ${instance.web[0].private_ip}\n", "")).unwrap();
    assert!(!spec.resources.keys().any(|k| k.name == "web" && k.kind.name == "instance"));
    assert_eq!(spec.outputs["all"], Expr::List(Vec::new()));
    assert!(spec.resources[&a("load_balancer.front")].depends_on.is_empty());
}

#[test]
fn mistakes_with_copies_are_explained() {
    let cases: &[(&str, &str, &str)] = &[
        ("subnet_id: ${subnet.az[\"a\"]}", "subnet_id: ${subnet.az}", "`subnet.az` has `for_each`: say which copy"),
        (
            "subnet_id: ${subnet.az[\"a\"]}",
            "subnet_id: ${subnet.az[\"c\"]}",
            "`subnet.az[\"c\"]` does not exist: `subnet.az` has for_each keys \"a\", \"b\"",
        ),
        ("subnet_id: ${subnet.az[\"a\"]}", "subnet_id: ${subnet.az[0]}", "copies made by `for_each` are named by key"),
        (
            "target_id: ${instance.web[count.index]}",
            "target_id: ${instance.web[5]}",
            "`instance.web[5]` does not exist: `instance.web` has count 3 (indexes 0 to 2)",
        ),
        (
            "subnet_id: ${subnet.az[\"a\"]}",
            "subnet_id: ${subnet.az[*]}",
            "`subnet.az[*]` is a list of all its copies and stands alone",
        ),
        (
            "port: 80",
            "port: 80\n    count: ${vpc.main.cidr_block}",
            "`count` must be known when the spec is read, but `${vpc.main.cidr_block}` is known only after apply",
        ),
        ("port: 80", "port: 80\n    count: 2\n    for_each: [a]", "give `count` or `for_each`, not both"),
        ("port: 80", "port: 80\n    for_each: [a, a]", "`a` is in `for_each` twice"),
        ("port: 80", "port: 80\n    for_each: [\"10.0.0.0/8\"]", "`10.0.0.0/8` cannot be a `for_each` key"),
        (
            "cidr_block: 10.0.0.0/16",
            "cidr_block: 10.0.${count.index}.0/16",
            "`count.index` is only known inside a resource with `count`, and `vpc.main` has none",
        ),
        ("cidr_block: ${each.value.cidr}", "cidr_block: ${each.value.cidrr}", "`each.value` has no field `cidrr`"),
        (
            "db_subnet_group.db:",
            "db_subnet_group.db[0]:",
            "`db_subnet_group.db[0]` names a copy; a resource is declared once, as `db_subnet_group.db`",
        ),
        (
            "vpc_id: ${vpc.main}\n  target_group_attachment",
            "vpc_id: ${vpc.main[0]}\n  target_group_attachment",
            "`vpc.main` has no `count` or `for_each`: it has no copies to index",
        ),
    ];
    for (from, to, want) in cases {
        assert!(COPIES.contains(from), "{from}");
        let said = errors(&COPIES.replacen(from, to, 1));
        assert!(said.contains(want), "for {to:?} expected {want:?} in:\n{said}");
        assert!(said.contains("spec.yaml:"), "{said}");
    }
    // A mistake in the body is reported once, not once a copy.
    let said = errors(&COPIES.replace("instance_type: t3.micro", "instance_type: t3.micro\n    instance_typo: x"));
    assert_eq!(said.matches("has no attribute `instance_typo`").count(), 1, "{said}");
}
