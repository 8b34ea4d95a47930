//! Times loading and planning a generated spec of N resources, in this process, with no
//! cloud: `cargo run --release -p trellis-plan --example scale -- 1000 10000`. Each VPC
//! of the generated stack is 50 resources: the VPC, an internet gateway, ten subnets, a
//! route table and a network ACL over them, and 36 security groups each open to the
//! previous one. `cargo xtask bench` runs it for docs/benchmarks.md; one line a size:
//! `resources load_ms plan_ms changes peak_kb` (the peak resident memory of the process
//! so far, from /proc; 0 where there is none).

use std::collections::BTreeMap;
use std::fmt::Write;
use std::time::Instant;

use trellis_plan::{plan, Operation, PlanInput};
use trellis_spec::{parse, LoadOptions, SourceFile};

fn spec(resources: usize) -> String {
    let mut s = String::from("stack: scale\nregion: us-east-1\nresources:\n");
    for v in 0..resources.div_ceil(50) {
        let _ = write!(s, "  vpc.v{v}:\n    cidr_block: 10.{}.0.0/16\n", v % 256);
        let _ = write!(s, "  internet_gateway.v{v}:\n    vpc_id: ${{vpc.v{v}}}\n");
        let mut subnets = String::new();
        for n in 0..10 {
            let _ =
                write!(s, "  subnet.v{v}_{n}:\n    vpc_id: ${{vpc.v{v}}}\n    cidr_block: 10.{}.{n}.0/24\n", v % 256);
            let _ = writeln!(subnets, "      - ${{subnet.v{v}_{n}}}");
        }
        let _ = write!(
            s,
            "  route_table.v{v}:\n    vpc_id: ${{vpc.v{v}}}\n    routes:\n      - destination_cidr_block: 0.0.0.0/0\n        gateway_id: ${{internet_gateway.v{v}}}\n    subnet_ids:\n{subnets}"
        );
        let _ = write!(
            s,
            "  network_acl.v{v}:\n    vpc_id: ${{vpc.v{v}}}\n    subnet_ids:\n{subnets}    ingress:\n      - {{ rule_number: 100, protocol: tcp, port_range: {{ from: 443, to: 443 }}, cidr_block: 0.0.0.0/0, rule_action: allow }}\n"
        );
        for g in 0..36 {
            let from = if g == 0 {
                "cidr: 0.0.0.0/0".to_string()
            } else {
                format!("source_group: ${{security_group.v{v}_{}}}", g - 1)
            };
            let _ = write!(
                s,
                "  security_group.v{v}_{g}:\n    vpc_id: ${{vpc.v{v}}}\n    description: tier {g}\n    ingress:\n      - protocol: tcp\n        port: 443\n        {from}\n"
            );
        }
    }
    s
}

fn main() {
    let sizes: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    for n in if sizes.is_empty() { vec![1000] } else { sizes } {
        let text = spec(n);
        let started = Instant::now();
        let spec = match parse(SourceFile { name: "scale.yaml".into(), text }, &LoadOptions::default()) {
            Ok(spec) => spec,
            Err(d) => panic!("the generated spec is invalid:\n{}", d.render(false)),
        };
        let loaded = started.elapsed();
        let started = Instant::now();
        let planned = plan(PlanInput {
            spec: &spec,
            prior: None,
            live: &BTreeMap::new(),
            orphans: &[],
            tags: &Default::default(),
            operation: Operation::Apply,
            targets: &[],
            replace: &[],
            env: &|_| None,
        })
        .expect("the generated spec plans");
        let planning = started.elapsed();
        println!(
            "{} {:.1} {:.1} {} {}",
            spec.resources.len(),
            loaded.as_secs_f64() * 1000.0,
            planning.as_secs_f64() * 1000.0,
            planned.changes.len(),
            peak_kb()
        );
    }
}

/// The process's peak resident memory in KB (`VmHWM`), or 0 off Linux.
fn peak_kb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap_or("");
    line.split_whitespace().nth(1).and_then(|v| v.parse().ok()).unwrap_or(0)
}
