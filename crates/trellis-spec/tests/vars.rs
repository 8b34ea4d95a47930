//! Typed variables (strings, numbers, booleans, lists), their values from `--var`,
//! var files and `*.auto.yaml`, and outputs given only `when` their copies exist.

use std::collections::BTreeMap;

use trellis_core::{Expr, Value};
use trellis_spec::{parse, var_values, LoadOptions, SourceFile, Spec};

fn with(vars: &[(&str, &str)], text: &str) -> Result<Spec, String> {
    let vars: BTreeMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let opts = LoadOptions { vars, ..LoadOptions::default() };
    parse(SourceFile { name: "spec.yaml".into(), text: text.into() }, &opts).map_err(|d| d.render(false))
}

const NETWORK: &str = r#"stack: typed
vars:
  cidrs: [10.1.0.0/24, 10.1.1.0/24]
  zones: { type: list, default: [us-east-1a, us-east-1b] }
  subnet_count: { type: number, default: 2, description: how many subnets }
  replica: { type: bool, default: false }
  name: web
resources:
  vpc.main:
    cidr_block: 10.1.0.0/16
  subnet.app:
    count: ${var.subnet_count}
    vpc_id: ${vpc.main}
    cidr_block: ${var.cidrs[count.index]}
    availability_zone: ${var.zones[count.index]}
  db_subnet_group.main:
    subnet_ids: ${subnet.app[*]}
  security_group.optional:
    count: ${var.replica}
    vpc_id: ${vpc.main}
    description: only with a replica
outputs:
  zones: ${var.zones}
  first_zone: ${var.zones[0]}
  optional_group:
    value: ${security_group.optional[0].id}
    when: ${var.replica}
    description: the group, when there is one
  always:
    value: ${vpc.main.id}
"#;

fn lit(spec: &Spec, address: &str, attr: &str) -> Expr {
    spec.resources[&address.parse().unwrap()].attrs[attr].clone()
}

#[test]
fn lists_numbers_and_booleans_are_used_where_their_type_fits() {
    let spec = with(&[], NETWORK).unwrap();
    assert_eq!(lit(&spec, "subnet.app[1]", "cidr_block"), Expr::Lit(Value::str("10.1.1.0/24")));
    assert_eq!(lit(&spec, "subnet.app[0]", "availability_zone"), Expr::Lit(Value::str("us-east-1a")));
    // `false` makes no copy, and the output that names one is not given at all.
    assert!(!spec.resources.keys().any(|a| a.to_string().starts_with("security_group.optional")));
    assert!(!spec.outputs.contains_key("optional_group"));
    assert!(spec.outputs.contains_key("always"));
    assert!(matches!(&spec.outputs["zones"], Expr::List(l) if l.len() == 2));
    assert_eq!(spec.outputs["first_zone"], Expr::Lit(Value::str("us-east-1a")));
}

#[test]
fn values_from_outside_are_held_to_the_declared_type() {
    let spec = with(&[("replica", "true"), ("subnet_count", "1"), ("zones", "[eu-west-1c]")], NETWORK).unwrap();
    assert!(spec.resources.contains_key(&"security_group.optional[0]".parse().unwrap()));
    assert!(spec.outputs.contains_key("optional_group"));
    assert_eq!(lit(&spec, "subnet.app[0]", "availability_zone"), Expr::Lit(Value::str("eu-west-1c")));
    assert!(!spec.resources.contains_key(&"subnet.app[1]".parse().unwrap()));

    let bad = with(&[("subnet_count", "two"), ("replica", "yes"), ("zones", "us-east-1a")], NETWORK).unwrap_err();
    assert!(bad.contains("variable `subnet_count` is a number: `two` is not a number"), "{bad}");
    assert!(bad.contains("variable `replica` is a bool: `yes` is not `true` or `false`"), "{bad}");
    assert!(bad.contains("variable `zones` is a list: `us-east-1a` is not a list: write it `[a, b]`"), "{bad}");
    let unknown = with(&[("zone", "[a]")], NETWORK).unwrap_err();
    assert!(unknown.contains("declares no variable `zone`") && unknown.contains("did you mean `zones`?"), "{unknown}");
}

#[test]
fn a_list_cannot_be_part_of_a_text_and_an_index_must_exist() {
    let text = NETWORK.replace("description: only with a replica", "description: \"in ${var.zones}\"");
    let err = with(&[("replica", "true")], &text).unwrap_err();
    assert!(err.contains("variable `zones` is a list: it cannot be part of a text"), "{err}");
    assert!(err.contains("spec.yaml:"), "the place is given: {err}");
    let err = with(&[("subnet_count", "3")], NETWORK).unwrap_err();
    assert!(err.contains("variable `cidrs` has 2 elements: there is no [2]"), "{err}");
    let err = with(&[], &NETWORK.replace("${var.zones[0]}", "${var.name[0]}")).unwrap_err();
    assert!(err.contains("variable `name` is a string, not a list"), "{err}");
}

#[test]
fn a_variable_without_a_default_must_be_given() {
    let text = "stack: s\nvars:\n  cidr: { type: string }\nresources:\n  vpc.main:\n    cidr_block: ${var.cidr}\n";
    let err = with(&[], text).unwrap_err();
    assert!(err.contains("variable `cidr` has no default and is given no value"), "{err}");
    assert!(err.contains("spec.yaml:3:3"), "{err}");
    assert!(with(&[("cidr", "10.2.0.0/16")], text).is_ok());
    let typo = "stack: s\nvars:\n  n: { type: nubmer, default: 1 }\nresources: {}\n";
    let err = with(&[], typo).unwrap_err();
    assert!(err.contains("`nubmer` is not a variable type") && err.contains("did you mean `number`?"), "{err}");
    let wrong = "stack: s\nvars:\n  n: { type: number, default: many }\nresources: {}\n";
    assert!(with(&[], wrong).unwrap_err().contains("variable `n` is a number: `many` is not a number"));
}

#[test]
fn each_unset_variable_is_one_error_however_often_it_is_used() {
    // Five variables declared and never given, used nine times over: five errors, each
    // at its declaration, and nothing said at the uses (no "unknown variable", no
    // "a list, not a list", no did-you-mean to another declared variable).
    let text = r#"stack: s
vars:
  vpc_id: { type: string }
  vpc_ids: { type: string }
  public_subnet_ids: { type: list }
  image: { type: string }
  size: { type: number }
resources:
  security_group.web:
    vpc_id: ${var.vpc_id}
    description: web
  security_group.db:
    vpc_id: ${var.vpc_ids}
    description: db
  instance.a:
    image_id: ${var.image}
    instance_type: t3.micro
    subnet_id: ${var.public_subnet_ids[0]}
    security_group_ids: ["${security_group.web}"]
  load_balancer.web:
    subnets: ${var.public_subnet_ids}
  launch_template.web:
    image_id: ${var.image}
    instance_type: t3.micro
  autoscaling_group.web:
    launch_template_id: ${launch_template.web}
    min_size: ${var.size}
    max_size: ${var.size}
    vpc_zone_identifier: ${var.public_subnet_ids}
"#;
    let err = with(&[], text).unwrap_err();
    assert_eq!(err.matches("error:").count(), 5, "{err}");
    for name in ["vpc_id", "vpc_ids", "public_subnet_ids", "image", "size"] {
        assert!(err.contains(&format!("variable `{name}` has no default and is given no value")), "{err}");
    }
    assert!(err.contains("`--var-file`") && err.contains("`*.auto.yaml`"), "{err}");
    for wrong in ["unknown variable", "not a list", "did you mean", "needs quotes"] {
        assert!(!err.contains(wrong), "`{wrong}` in\n{err}");
    }
    // Given, the same spec is valid.
    let given = [
        ("vpc_id", "vpc-1"),
        ("vpc_ids", "vpc-2"),
        ("public_subnet_ids", "[subnet-1, subnet-2]"),
        ("image", "ami-1"),
        ("size", "2"),
    ];
    with(&given, text).unwrap();
}

#[test]
fn the_quoting_hint_is_given_only_where_quoting_is_the_cause() {
    let spec =
        |value: &str| format!("stack: s\nvars:\n  tags: web\nresources:\n  load_balancer.web:\n    subnets: {value}\n");
    // One reference where a list is needed: quoting mends nothing.
    let err = with(&[], &spec("${var.tags}")).unwrap_err();
    assert!(!err.contains("needs quotes"), "{err}");
    assert!(err.contains("declare it a list, `tags: { type: list }`"), "{err}");
    let err = with(
        &[],
        "stack: s\nresources:\n  vpc.main:\n    cidr_block: 10.0.0.0/16\n    tags: ${var.tags}\nvars:\n  tags: x\n",
    )
    .unwrap_err();
    assert!(!err.contains("needs quotes") && err.contains("write the mapping out here"), "{err}");
    // Several references YAML read as one text: quoting is the cause.
    let err = with(&[], &spec("${var.tags}, ${var.tags}")).unwrap_err();
    assert!(err.contains("needs quotes"), "{err}");
}

#[test]
fn var_files_and_auto_files_are_read_in_order_and_the_command_line_wins() {
    let dir = std::env::temp_dir().join(format!("trellis-vars-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let spec = dir.join("stack.yaml");
    std::fs::write(&spec, NETWORK).unwrap();
    std::fs::write(dir.join("a.auto.yaml"), "replica: true\nzones: [us-west-2a, \"us-west-2b\"]\nname: from-a\n")
        .unwrap();
    std::fs::write(dir.join("b.auto.yaml"), "name: from-b\n").unwrap();
    let extra = dir.join("prod.yaml");
    std::fs::write(&extra, "subnet_count: 1\nname: from-file\n").unwrap();
    let given: BTreeMap<String, String> = [("name".to_string(), "from-flag".to_string())].into();
    let values = var_values(&spec, std::slice::from_ref(&extra), &given).unwrap();
    assert_eq!(values["name"], "from-flag");
    assert_eq!(values["subnet_count"], "1");
    assert_eq!(values["zones"], r#"["us-west-2a", "us-west-2b"]"#);
    let loaded = with(&values.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect::<Vec<_>>(), NETWORK).unwrap();
    assert_eq!(lit(&loaded, "subnet.app[0]", "availability_zone"), Expr::Lit(Value::str("us-west-2a")));
    assert!(loaded.outputs.contains_key("optional_group"));

    std::fs::write(&extra, "subnet_count:\n  nested: 1\n").unwrap();
    let Err(trellis_spec::LoadError::Invalid(d)) = var_values(&spec, &[extra], &BTreeMap::new()) else {
        panic!("a mapping is not a value")
    };
    let text = d.render(false);
    assert!(
        text.contains("`subnet_count`: a variable is a single value or a list") && text.contains("prod.yaml:2:"),
        "{text}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
