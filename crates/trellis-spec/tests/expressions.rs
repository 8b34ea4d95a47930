//! Expressions in a spec: `${...}` that computes, read with the spec's variables, copies,
//! references and files, checked against the attribute's type, and the mistakes a
//! person makes with them, at `file:line:col`.

use std::collections::BTreeMap;

use trellis_core::{Address, Expr, Part, Ref, Value};
use trellis_spec::{load, LoadError, LoadOptions, Spec};

fn spec_in(name: &str, text: &str, files: &[(&str, &str)]) -> Result<Spec, String> {
    let dir = std::env::temp_dir().join(format!("trellis-expr-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for (path, body) in files {
        std::fs::write(dir.join(path), body).unwrap();
    }
    std::fs::write(dir.join("spec.yaml"), text).unwrap();
    let opts = LoadOptions { vars: BTreeMap::new(), env: &|_| None, lookups: None, stacks: None };
    let out = load(&dir.join("spec.yaml"), &opts).map_err(|e| match e {
        LoadError::Invalid(d) => d.render(false),
        other => other.to_string(),
    });
    let _ = std::fs::remove_dir_all(&dir);
    out
}

fn a(s: &str) -> Address {
    s.parse().unwrap()
}

fn attr(spec: &Spec, address: &str, name: &str) -> Expr {
    spec.resources[&a(address)].attrs.get(name).cloned().unwrap_or_else(|| panic!("{address} has no {name}"))
}

const HEAD: &str = r#"stack: ex
vars:
  zones: [us-east-1a, us-east-1b, us-east-1c]
  base: 10.0.0.0/16
  env: prod
  sizes:
    type: map
    default: { prod: 3, dev: 1 }
resources:
  vpc.main:
    cidr_block: ${var.base}
"#;

#[test]
fn expressions_compute_from_variables_and_copies() {
    let text = format!(
        r#"{HEAD}  subnet.az:
    count: ${{length(var.zones)}}
    vpc_id: ${{vpc.main}}
    cidr_block: ${{cidrsubnet(var.base, 8, count.index + 1)}}
    availability_zone: ${{element(var.zones, count.index)}}
    tags:
      Name: ${{format("%s-%d", upper(var.env), count.index + 1)}}
      Tier: '${{var.env == "prod" ? "critical" : "normal"}}'
  autoscaling_group.web:
    launch_template_id: lt-0123456789abcdef0
    min_size: ${{lookup(var.sizes, var.env, 1)}}
    max_size: ${{max(lookup(var.sizes, var.env, 1) * 2, 4)}}
    vpc_zone_identifier: ${{subnet.az[*].id}}
"#
    );
    let spec = spec_in("compute", &text, &[]).unwrap();
    for i in 0..3 {
        let s = format!("subnet.az[{i}]");
        assert_eq!(attr(&spec, &s, "cidr_block"), Expr::Lit(Value::Str(format!("10.0.{}.0/24", i + 1))));
        let Expr::Map(tags) = attr(&spec, &s, "tags") else { panic!("tags") };
        assert_eq!(tags["Name"], Expr::Lit(Value::Str(format!("PROD-{}", i + 1))));
        assert_eq!(tags["Tier"], Expr::Lit(Value::str("critical")));
    }
    assert_eq!(attr(&spec, "subnet.az[2]", "availability_zone"), Expr::Lit(Value::str("us-east-1c")));
    assert_eq!(attr(&spec, "autoscaling_group.web", "min_size"), Expr::Lit(Value::Int(3)));
    assert_eq!(attr(&spec, "autoscaling_group.web", "max_size"), Expr::Lit(Value::Int(6)));
    let Expr::Set(subnets) = attr(&spec, "autoscaling_group.web", "vpc_zone_identifier") else { panic!("a set") };
    assert_eq!(subnets.len(), 3);
}

#[test]
fn a_template_file_takes_values_known_only_after_apply() {
    let text = format!(
        r#"{HEAD}  db_instance.main:
    engine: mysql
    db_instance_class: db.t3.micro
    allocated_storage: 20
    master_username: admin
    master_user_password: ${{env.DB_PASSWORD}}
  launch_template.web:
    image_id: ami-0abcdef1234567890
    instance_type: t3.micro
    user_data: ${{templatefile("boot.sh.tpl", {{ db = db_instance.main.endpoint, port = 3306, env = var.env }})}}
"#
    );
    let files = [("boot.sh.tpl", "#!/bin/sh\necho ${env}\nDB=${db}:${port}\n$${literal}\n")];
    let spec = spec_in("template", &text, &files).unwrap();
    let Expr::Template(parts) = attr(&spec, "launch_template.web", "user_data") else { panic!("a template") };
    assert_eq!(
        parts,
        vec![
            Part::Lit("#!/bin/sh\necho prod\nDB=".into()),
            Part::Ref(Ref::new(a("db_instance.main"), Some("endpoint".into()))),
            Part::Lit(":3306\n${literal}\n".into()),
        ]
    );
    // The template reads the database: the graph orders the template after it.
    assert!(spec.resources[&a("launch_template.web")].dependencies().contains(&a("db_instance.main")));
}

#[test]
fn mistakes_are_reported_where_they_are_written() {
    let cases: &[(&str, &str, &str)] = &[
        ("    cidr_block: ${cidrsubnet(var.base, 8)}\n", "`cidrsubnet` takes 3 arguments, given 2", "spec.yaml:14:17"),
        (
            "    cidr_block: ${cidrsubnet(var.base, \"eight\", 1)}\n",
            "`cidrsubnet`: argument 2 (newbits) must be a whole number",
            "spec.yaml:14:17",
        ),
        ("    cidr_block: ${cidrsubnet(var.bsae, 8, 1)}\n", "unknown variable `bsae`", "spec.yaml:14:17"),
        ("    cidr_block: ${lenght(var.zones)}\n", "did you mean `length`?", "spec.yaml:14:17"),
        ("    cidr_block: ${length(var.zones) +}\n", "expected a value", "spec.yaml:14:38"),
        ("    cidr_block: ${length(var.zones)}\n", "`3` is not an IPv4 CIDR block", "spec.yaml:14:17"),
        (
            "    cidr_block: '${vpc.main.id == \"x\" ? \"10.1.0.0/16\" : var.base}'\n",
            "compare values known when the spec is read",
            "spec.yaml:14:18",
        ),
        (
            "    cidr_block: ${var.env == \"x\" ? \"10.1.0.0/16\" : var.base}\n",
            "must be quoted: `'${a ? b : c}'`",
            "spec.yaml:14:",
        ),
    ];
    for (line, message, place) in cases {
        let text = format!("{HEAD}  subnet.x:\n    vpc_id: ${{vpc.main}}\n{line}");
        let e = spec_in("mistakes", &text, &[]).expect_err(line);
        assert!(e.contains(message), "{line}: {e}");
        assert!(e.contains(place), "{line}: {e}");
    }
    // `count` must be known now.
    let text = format!("{HEAD}  subnet.x:\n    count: ${{length(vpc.main.ipv6_cidr_block)}}\n    vpc_id: ${{vpc.main}}\n    cidr_block: 10.0.9.0/24\n");
    let e = spec_in("count", &text, &[]).unwrap_err();
    assert!(e.contains("`length`: argument 1 (value) must be a list, a mapping or a text"), "{e}");
}

#[test]
fn for_each_takes_an_expression_known_now() {
    let text = format!(
        "{HEAD}  subnet.az:\n    for_each: ${{toset_like(var.zones)}}\n    vpc_id: ${{vpc.main}}\n    cidr_block: 10.0.1.0/24\n"
    );
    assert!(spec_in("fe-bad", &text, &[]).unwrap_err().contains("there is no function `toset_like`"));
    let text = format!(
        "{HEAD}  subnet.az:\n    for_each: ${{concat(var.zones, [\"us-east-1d\"])}}\n    vpc_id: ${{vpc.main}}\n    cidr_block: ${{cidrsubnet(var.base, 8, length(each.key))}}\n"
    );
    let spec = spec_in("fe", &text, &[]).unwrap();
    assert!(spec.resources.contains_key(&a("subnet.az[\"us-east-1d\"]")));
    assert_eq!(spec.resources.len(), 5);
}

#[test]
fn a_variable_s_validation_holds_its_value() {
    let text = HEAD.replace(
        "  env: prod\n",
        "  env:\n    type: string\n    default: qa\n    validation:\n      - { condition: '${var.env == \"prod\" || var.env == \"dev\"}', message: env is prod or dev }\n",
    );
    let e = spec_in("validation", &text, &[]).unwrap_err();
    assert!(e.contains("variable `env` = `qa`: env is prod or dev"), "{e}");
    assert!(e.contains("this condition does not hold"), "{e}");
    let ok = text.replace("default: qa", "default: dev");
    assert!(spec_in("validation-ok", &ok, &[]).is_ok());
}
