//! Times loading and planning the generated network stack written flat and written as
//! copies of a component of 100 resources (two VPCs), in this process, with no cloud:
//! `cargo run --release -p trellis-plan --example components -- 10000`. One line a
//! size: `resources flat_load_ms flat_plan_ms component_load_ms component_plan_ms`,
//! each the best of three. `cargo xtask bench components` runs it for
//! docs/benchmarks.md.

#[path = "support/network.rs"]
mod network;
#[path = "../tests/support/mod.rs"]
mod plans;

use std::time::{Duration, Instant};

use trellis_spec::{load, LoadOptions, Spec};

/// The best of three runs of `f`: its time and its last result.
fn best<T>(mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut out = None;
    let mut fastest = Duration::MAX;
    for _ in 0..3 {
        let started = Instant::now();
        let v = f();
        fastest = fastest.min(started.elapsed());
        out = Some(v);
    }
    (fastest, out.expect("three runs"))
}

fn load_file(path: &std::path::Path) -> Spec {
    load(path, &LoadOptions::default()).unwrap_or_else(|e| panic!("the generated spec is invalid: {e}"))
}

fn main() {
    let sizes: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let dir = std::env::temp_dir().join(format!("trellis-bench-components-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("components/net")).expect("a temporary directory");
    for n in if sizes.is_empty() { vec![10_000] } else { sizes } {
        std::fs::write(dir.join("flat.yaml"), network::spec(n)).expect("written");
        let (stack, component) = network::component_spec(n);
        std::fs::write(dir.join("parts.yaml"), stack).expect("written");
        std::fs::write(dir.join("components/net/component.yaml"), component).expect("written");

        let (flat_load, flat) = best(|| load_file(&dir.join("flat.yaml")));
        let (flat_plan, flat_planned) = best(|| plans::run_spec(&flat, None));
        let (parts_load, parts) = best(|| load_file(&dir.join("parts.yaml")));
        let (parts_plan, parts_planned) = best(|| plans::run_spec(&parts, None));
        assert_eq!(flat.resources.len(), parts.resources.len(), "the same resources both ways");
        assert_eq!(flat_planned.changes.len(), parts_planned.changes.len());
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        println!(
            "{} {:.1} {:.1} {:.1} {:.1}",
            flat.resources.len(),
            ms(flat_load),
            ms(flat_plan),
            ms(parts_load),
            ms(parts_plan)
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
