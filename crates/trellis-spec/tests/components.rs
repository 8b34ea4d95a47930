//! Components: a use per copy read from the component's file, its addresses, its inputs
//! (literal and by reference), its outputs read by the stack, default tags, `moved:` into
//! a component, and the mistakes a person makes, reported in the file they are in.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use trellis_core::{Address, Expr, Ref, Value};
use trellis_spec::{load, LoadError, LoadOptions, Spec};

/// A directory of files for one test, removed when it ends.
struct Dir(PathBuf);

impl Dir {
    fn new(name: &str, files: &[(&str, &str)]) -> Dir {
        let root = std::env::temp_dir().join(format!("trellis-components-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        for (path, text) in files {
            let p = root.join(path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        Dir(root)
    }

    fn load(&self) -> Result<Spec, String> {
        self.load_with(&[])
    }

    fn load_with(&self, vars: &[(&str, &str)]) -> Result<Spec, String> {
        let vars: BTreeMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let opts = LoadOptions { vars, env: &|_| None, lookups: None, stacks: None };
        load(&self.0.join("spec.yaml"), &opts).map_err(|e| match e {
            LoadError::Invalid(d) => d.render(false),
            other => other.to_string(),
        })
    }

    fn errors(&self) -> String {
        match self.load() {
            Ok(_) => panic!("the spec was accepted"),
            Err(e) => e,
        }
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn a(s: &str) -> Address {
    s.parse().unwrap()
}

fn attr(spec: &Spec, address: &str, name: &str) -> Expr {
    spec.resources[&a(address)].attrs.get(name).cloned().unwrap_or_else(|| panic!("{address} has no {name}"))
}

const SERVICE: &str = r#"inputs:
  vpc_id: { type: string }
  subnet_ids: { type: list }
  port: { type: number, default: 8080 }
  path: { type: string }
tags:
  Component: service
resources:
  target_group.app:
    port: ${var.port}
    vpc_id: ${var.vpc_id}
  launch_template.app:
    image_id: ami-0abcdef1234567890
    instance_type: t3.micro
    user_data_file: boot.sh
  autoscaling_group.app:
    launch_template_id: ${launch_template.app}
    min_size: 1
    max_size: 2
    vpc_zone_identifier: ${var.subnet_ids}
    target_group_arns: ["${target_group.app}"]
    tags: { Component: mine }
outputs:
  group: ${target_group.app}
  url: "http://${target_group.app.arn_suffix}${var.path}"
"#;

const STACK: &str = r#"stack: svc
vars:
  services:
    type: map
    default:
      api: { port: 8081, path: /api }
      web: { port: 8082, path: /web }
tags:
  Team: platform
resources:
  vpc.main:
    cidr_block: 10.0.0.0/16
  subnet.a:
    vpc_id: ${vpc.main}
    cidr_block: 10.0.1.0/24
  security_group.web:
    vpc_id: ${vpc.main}
    description: "${component.svc[\"api\"].output.url}"
components:
  svc:
    source: ./components/service
    for_each: ${var.services}
    inputs:
      vpc_id: ${vpc.main}
      subnet_ids: ["${subnet.a}"]
      port: ${each.value.port}
      path: ${each.value.path}
outputs:
  api: ${component.svc["api"].output.group}
"#;

fn service_dir(name: &str, stack: &str, service: &str) -> Dir {
    Dir::new(
        name,
        &[
            ("spec.yaml", stack),
            ("components/service/component.yaml", service),
            ("components/service/boot.sh", "#!/bin/sh\n"),
        ],
    )
}

#[test]
fn each_use_declares_its_resources_at_its_own_addresses() {
    let dir = service_dir("uses", STACK, SERVICE);
    let spec = dir.load().unwrap();
    for key in ["api", "web"] {
        for r in ["target_group.app", "launch_template.app", "autoscaling_group.app"] {
            assert!(spec.resources.contains_key(&a(&format!("component.svc[\"{key}\"].{r}"))), "{key} {r}");
        }
    }
    assert_eq!(spec.resources.len(), 3 + 6);
    // Literal inputs, typed by the component's declaration; each copy its own.
    assert_eq!(attr(&spec, "component.svc[\"api\"].target_group.app", "port"), Expr::Lit(Value::Int(8081)));
    assert_eq!(attr(&spec, "component.svc[\"web\"].target_group.app", "port"), Expr::Lit(Value::Int(8082)));
    // An input given as a reference is a reference to the stack's object.
    assert_eq!(
        attr(&spec, "component.svc[\"api\"].target_group.app", "vpc_id"),
        Expr::Ref(Ref::new(a("vpc.main"), None))
    );
    assert_eq!(
        attr(&spec, "component.svc[\"api\"].autoscaling_group.app", "vpc_zone_identifier"),
        Expr::Set(vec![Expr::Ref(Ref::new(a("subnet.a"), None))])
    );
    // The component's own references stay inside its use.
    assert_eq!(
        attr(&spec, "component.svc[\"web\"].autoscaling_group.app", "launch_template_id"),
        Expr::Ref(Ref::new(a("component.svc[\"web\"].launch_template.app"), None))
    );
    // A file is read beside the component's file.
    assert_eq!(
        attr(&spec, "component.svc[\"web\"].launch_template.app", "user_data"),
        Expr::Lit(Value::str("#!/bin/sh\n"))
    );
    // AWS names carry the use: the stack, the component and its key, the resource.
    let Expr::Map(tags) = attr(&spec, "component.svc[\"api\"].target_group.app", "tags") else { panic!("tags") };
    assert_eq!(tags["Name"], Expr::Lit(Value::str("svc-svc-api-app")));
    // Default tags: the stack's, the component's over them, the resource's own over both.
    assert_eq!(tags["Team"], Expr::Lit(Value::str("platform")));
    assert_eq!(tags["Component"], Expr::Lit(Value::str("service")));
    let Expr::Map(own) = attr(&spec, "component.svc[\"api\"].autoscaling_group.app", "tags") else { panic!("tags") };
    assert_eq!(own["Component"], Expr::Lit(Value::str("mine")));
    let Expr::Map(top) = attr(&spec, "vpc.main", "tags") else { panic!("tags") };
    assert_eq!(top["Team"], Expr::Lit(Value::str("platform")));
    assert!(!top.contains_key("Component"), "a component's tags stay in it");
    // Outputs read by the stack: a reference, and a text built from one.
    assert_eq!(spec.outputs["api"], Expr::Ref(Ref::new(a("component.svc[\"api\"].target_group.app"), None)));
    let Expr::Template(parts) = attr(&spec, "security_group.web", "description") else { panic!("a template") };
    assert_eq!(parts.len(), 3, "{parts:?}");
    // The graph runs through the use: the stack's object reads the component's.
    let deps = spec.resources[&a("security_group.web")].dependencies();
    assert!(deps.contains(&a("component.svc[\"api\"].target_group.app")), "{deps:?}");
    // The component's file is kept for the saved plan's digest.
    assert_eq!(spec.sources.len(), 1);
    assert!(spec.sources[0].name.ends_with("components/service/component.yaml"));
}

#[test]
fn components_inside_components_and_outputs_passed_on() {
    let outer = r#"inputs:
  cidr: { type: string }
components:
  net:
    source: ../inner
    inputs: { cidr: "${var.cidr}" }
resources:
  subnet.b:
    vpc_id: ${component.net.output.vpc}
    cidr_block: 10.1.2.0/24
outputs:
  vpc: ${component.net.output.vpc}
"#;
    let inner = "inputs:\n  cidr: { type: string }\nresources:\n  vpc.main:\n    cidr_block: ${var.cidr}\noutputs:\n  vpc: ${vpc.main}\n";
    let stack = r#"stack: nest
resources:
  subnet.c:
    vpc_id: ${component.outer.output.vpc}
    cidr_block: 10.1.3.0/24
components:
  outer:
    source: ./parts/outer
    inputs: { cidr: 10.1.0.0/16 }
"#;
    let dir = Dir::new(
        "nest",
        &[("spec.yaml", stack), ("parts/outer/component.yaml", outer), ("parts/inner/component.yaml", inner)],
    );
    let spec = dir.load().unwrap();
    let vpc = a("component.outer.component.net.vpc.main");
    assert_eq!(
        attr(&spec, "component.outer.component.net.vpc.main", "cidr_block"),
        Expr::Lit(Value::str("10.1.0.0/16"))
    );
    assert_eq!(attr(&spec, "component.outer.subnet.b", "vpc_id"), Expr::Ref(Ref::new(vpc.clone(), None)));
    assert_eq!(attr(&spec, "subnet.c", "vpc_id"), Expr::Ref(Ref::new(vpc, None)));
    assert_eq!(spec.sources.len(), 2);
}

#[test]
fn a_mistake_in_a_component_is_reported_in_its_file() {
    let broken = SERVICE.replace("    port: ${var.port}\n", "    port: ${var.prot}\n");
    let dir = service_dir("mistake", STACK, &broken);
    let e = dir.errors();
    assert!(e.contains("unknown variable `prot`"), "{e}");
    assert!(e.contains("did you mean `port`?"), "{e}");
    assert!(e.contains("components/service/component.yaml:10:11"), "{e}");
    assert!(e.contains("1 error in"), "one error, not one per use: {e}");
}

#[test]
fn inputs_are_held_to_the_component_s_declarations() {
    let stack = STACK.replace("      port: ${each.value.port}\n", "      port: eighty\n      colour: blue\n");
    let dir = service_dir("inputs", &stack, SERVICE);
    let e = dir.errors();
    assert!(e.contains("input `port` is a number: `eighty` is not a number"), "{e}");
    assert!(e.contains("spec.yaml:26:13"), "at the value given: {e}");
    assert!(e.contains("gives input `colour`, but the component ("), "{e}");
    assert!(e.contains("spec.yaml:27:7"), "at the input given: {e}");

    let missing = STACK.replace("      path: ${each.value.path}\n", "");
    let e = service_dir("missing", &missing, SERVICE).errors();
    assert!(e.contains("input `path` has no default, and `component.svc[\"api\"]` gives it no value"), "{e}");
    assert!(e.contains("component.yaml:5:3"), "{e}");
}

#[test]
fn references_to_components_name_what_is_wrong() {
    let cases = [
        (
            "${component.svc[\"api\"].output.groop}",
            "component `svc` has no output `groop`",
            Some("did you mean `group`?"),
        ),
        ("${component.svc.output.group}", "component `svc` has copies: say which one's `group`", None),
        ("${component.svcs[\"api\"].output.group}", "no component `svcs` is used here", Some("did you mean `svc`?")),
        ("${component.svc[\"db\"].output.group}", "component `svc` has no copy `[db]`", None),
        ("${component.svc[\"api\"].target_group.app}", "is not a reference", None),
    ];
    for (reference, message, help) in cases {
        let stack = STACK.replace("${component.svc[\"api\"].output.group}", reference);
        let e = service_dir("refs", &stack, SERVICE).errors();
        assert!(e.contains(message), "{reference}: {e}");
        if let Some(help) = help {
            assert!(e.contains(help), "{reference}: {e}");
        }
    }
}

#[test]
fn a_component_cannot_contain_itself_nor_be_missing() {
    let me = "components:\n  again:\n    source: .\nresources:\n  vpc.main:\n    cidr_block: 10.0.0.0/16\n";
    let dir = Dir::new(
        "loop",
        &[("spec.yaml", "stack: l\nresources: {}\ncomponents:\n  a: { source: ./c }\n"), ("c/component.yaml", me)],
    );
    assert!(dir.errors().contains("a component cannot contain itself"), "{}", dir.errors());
    let dir =
        Dir::new("absent", &[("spec.yaml", "stack: l\nresources: {}\ncomponents:\n  a: { source: ./nowhere }\n")]);
    let e = dir.errors();
    assert!(e.contains("cannot read component `a`"), "{e}");
    assert!(e.contains("spec.yaml:4:16"), "{e}");
    let url = "stack: l\nresources: {}\ncomponents:\n  a: { source: \"https://example.com/x.git\" }\n";
    let dir = Dir::new("url", &[("spec.yaml", url)]);
    assert!(dir.errors().contains("is neither a local path nor a git source"), "{}", dir.errors());
    let unpinned = "stack: l\nresources: {}\ncomponents:\n  a: { source: \"git::https://example.com/x.git//c\" }\n";
    let dir = Dir::new("unpinned", &[("spec.yaml", unpinned)]);
    assert!(dir.errors().contains("pin the source to a tag or a commit"), "{}", dir.errors());
}

#[test]
fn a_flat_resource_moves_into_a_component() {
    let stack =
        format!("{STACK}moved:\n  - {{ from: target_group.api, to: 'component.svc[\"api\"].target_group.app' }}\n");
    let spec = service_dir("moved", &stack, SERVICE).load().unwrap();
    assert_eq!(spec.moves.len(), 1);
    assert_eq!(spec.moves[0].to, a("component.svc[\"api\"].target_group.app"));
    let wrong =
        format!("{STACK}moved:\n  - {{ from: target_group.api, to: 'component.svc[\"db\"].target_group.app' }}\n");
    let e = service_dir("moved-wrong", &wrong, SERVICE).errors();
    assert!(e.contains("which the spec does not declare"), "{e}");
}

#[test]
fn the_stack_cannot_declare_a_component_s_resource() {
    let stack = STACK.replace("  subnet.a:\n", "  component.svc.vpc.x:\n    cidr_block: 10.0.0.0/16\n  subnet.a:\n");
    let e = service_dir("reach", &stack, SERVICE).errors();
    assert!(e.contains("is a resource of a component"), "{e}");
}

#[test]
fn path_of_a_spec_with_no_components_is_unchanged() {
    let dir = Dir::new("flat", &[("spec.yaml", "stack: f\nresources:\n  vpc.main:\n    cidr_block: 10.0.0.0/16\n")]);
    let spec = dir.load().unwrap();
    assert!(spec.sources.is_empty());
    assert!(Path::new(&spec.file.name).ends_with("spec.yaml"));
}

#[test]
fn an_input_s_validation_is_reported_where_the_value_is_given() {
    let service = SERVICE.replace(
        "  port: { type: number, default: 8080 }\n",
        "  port:\n    type: number\n    default: 8080\n    validation:\n      condition: ${var.port >= 1024}\n      message: a port under 1024 needs root on the instance\n",
    );
    let stack = STACK.replace("      port: ${each.value.port}\n", "      port: 80\n");
    let e = service_dir("validation", &stack, &service).errors();
    assert!(e.contains("input `port` = `80`: a port under 1024 needs root on the instance"), "{e}");
    assert!(e.contains("spec.yaml:26:13"), "at the value given: {e}");
    // The default holds, and a good value passes.
    assert!(service_dir("valid", STACK, &service).load().is_ok());
}
