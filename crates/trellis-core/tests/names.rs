//! The names people bring from elsewhere: each Terraform resource type and each other
//! name of an attribute (Terraform's, an earlier trellis's) that a kind declares names
//! a real kind and real attributes, so every hint the parser gives from them is true.

use std::collections::BTreeMap;

use trellis_core::kinds;
use trellis_core::schema::{Object, Type};

/// Every object of a kind (its own, and those its attributes hold), with a path.
fn objects(path: String, obj: &'static Object, out: &mut Vec<(String, &'static Object)>) {
    out.push((path.clone(), obj));
    for a in obj.attrs {
        let mut ty = &a.ty;
        while let Type::List(inner) | Type::Set(inner) = ty {
            ty = inner;
        }
        if let Type::Object(inner) = ty {
            objects(format!("{path}.{}", a.name), inner, out);
        }
    }
}

#[test]
fn every_other_name_stands_for_attributes_that_exist() {
    for kind in kinds::ALL {
        let mut all = Vec::new();
        objects(kind.name.to_string(), &kind.object, &mut all);
        for (path, obj) in all {
            for other in obj.other_names {
                assert!(obj.attr(other.name).is_none(), "{path}: `{}` is an attribute, not another name", other.name);
                for a in other.attrs() {
                    assert!(obj.attr(a).is_some(), "{path}: `{}` stands for `{a}`, which it has not", other.name);
                }
            }
        }
    }
}

#[test]
fn every_terraform_type_is_one_kind_and_names_its_attributes() {
    let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
    for kind in kinds::ALL {
        assert!(!kind.terraform_types.is_empty(), "{} declares no Terraform type", kind.name);
        for t in kind.terraform_types {
            assert!(t.name.starts_with("aws_"), "{}: `{}`", kind.name, t.name);
            if let Some(other) = seen.insert(t.name, kind.name) {
                panic!("`{}` is declared by both {other} and {}", t.name, kind.name);
            }
            for a in t.attrs.split(", ").filter(|a| !a.is_empty()) {
                assert!(kind.attr(a).is_some(), "{}: `{}` becomes `{a}`, which it has not", kind.name, t.name);
            }
            // Found by its full name and without the provider's prefix.
            let short = t.name.trim_start_matches("aws_");
            assert_eq!(kinds::of_terraform(t.name).map(|(k, _)| k.name), Some(kind.name));
            assert_eq!(kinds::of_terraform(short).map(|(k, _)| k.name), Some(kind.name));
        }
    }
    // The in-domain types of the stacks users bring, each with a kind.
    for (ty, kind) in [
        ("aws_lb", "load_balancer"),
        ("lb", "load_balancer"),
        ("aws_alb", "load_balancer"),
        ("autoscaling_policy", "scaling_policy"),
        ("aws_lb_target_group", "target_group"),
        ("aws_lb_listener", "listener"),
        ("aws_lb_target_group_attachment", "target_group_attachment"),
        ("aws_eip", "elastic_ip"),
        ("aws_security_group_rule", "security_group"),
        ("aws_route_table_association", "route_table"),
        ("aws_iam_role_policy_attachment", "iam_role"),
        ("aws_cloudwatch_metric_alarm", "metric_alarm"),
        ("aws_s3_bucket", "s3_bucket"),
        ("aws_s3_bucket_versioning", "s3_bucket"),
    ] {
        assert_eq!(kinds::of_terraform(ty).map(|(k, _)| k.name), Some(kind), "{ty}");
    }
    assert!(kinds::of_terraform("aws_sqs_queue").is_none(), "a type with no kind is not taken for one");
}
