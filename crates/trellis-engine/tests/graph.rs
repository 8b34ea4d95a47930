//! The operation graph built from a plan: a create-before-destroy replacement makes the
//! new object, moves what refers to it, and only then deletes the old one.

#[path = "../../trellis-plan/tests/support/mod.rs"]
mod support;

use petgraph::algo::has_path_connecting;
use support::{converged, run};
use trellis_core::Address;
use trellis_engine::{operation_graph, Op, OpKind};

const SPEC: &str = r#"stack: web
resources:
  vpc.main:
    cidr_block: 10.0.0.0/16
  subnet.a:
    vpc_id: ${vpc.main}
    cidr_block: 10.0.1.0/24
  target_group.web:
    port: 8080
    vpc_id: ${vpc.main}
  load_balancer.web:
    subnets: ["${subnet.a}"]
  listener.http:
    load_balancer_arn: ${load_balancer.web}
    port: 80
    default_actions: [{ type: forward, target_group_arn: "${target_group.web}" }]
"#;

#[test]
fn create_before_destroy_deletes_the_old_object_last() {
    let st = converged(SPEC);
    let p = run(&SPEC.replace("port: 8080", "port: 9090"), Some(&st));
    let g = operation_graph(&p).unwrap();
    let find = |address: &str, kind: OpKind| {
        let a: Address = address.parse().unwrap();
        g.node_indices()
            .find(|n| g[*n] == Op { address: a.clone(), kind })
            .unwrap_or_else(|| panic!("no {kind} {address}"))
    };
    let create = find("target_group.web", OpKind::Create);
    let listener = find("listener.http", OpKind::Update);
    let old = find("target_group.web__deposed_web1", OpKind::Delete);
    assert!(has_path_connecting(&g, create, listener, None));
    assert!(has_path_connecting(&g, listener, old, None));
    assert!(!has_path_connecting(&g, old, create, None));
    assert_eq!(g.node_count(), 3, "only the replacement, its old object and the listener");
}

#[test]
fn destroy_first_deletes_before_it_creates() {
    let named = SPEC.replace("  target_group.web:\n", "  target_group.web:\n    name: web-tg\n");
    let st = converged(&named);
    let p = run(&named.replace("port: 8080", "port: 9090"), Some(&st));
    let g = operation_graph(&p).unwrap();
    let a: Address = "target_group.web".parse().unwrap();
    let find = |kind| g.node_indices().find(|n| g[*n] == Op { address: a.clone(), kind }).unwrap();
    assert!(has_path_connecting(&g, find(OpKind::Delete), find(OpKind::Create), None));
}
