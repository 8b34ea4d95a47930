//! Times loading and planning a generated spec of N resources, in this process, with no
//! cloud: `cargo run --release -p trellis-plan --example scale -- 1000 10000`. Each VPC
//! of the generated stack is 50 resources: the VPC, an internet gateway, ten subnets, a
//! route table and a network ACL over them, and 36 security groups each open to the
//! previous one. `cargo xtask bench` runs it for docs/benchmarks.md; one line a size:
//! `resources load_ms plan_ms changes peak_kb` (the peak resident memory of the process
//! so far, from /proc; 0 where there is none). `-- --spec N` prints the spec instead.

#[path = "support/network.rs"]
mod network;
#[path = "../tests/support/mod.rs"]
mod plans;

use std::time::Instant;

use network::spec;

fn main() {
    // `--spec N` prints the generated spec instead, to time the CLI on it.
    if std::env::args().nth(1).as_deref() == Some("--spec") {
        let n = std::env::args().nth(2).and_then(|n| n.parse().ok()).unwrap_or(1000);
        print!("{}", spec(n));
        return;
    }
    let sizes: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    for n in if sizes.is_empty() { vec![1000] } else { sizes } {
        let text = spec(n);
        let started = Instant::now();
        let spec = network::load("scale.yaml", text);
        let loaded = started.elapsed();
        let started = Instant::now();
        let planned = plans::run_spec(&spec, None);
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
