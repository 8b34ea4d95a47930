//! `cargo xtask bench rollout`: how long a rollout of 2, 10 and 50 instances takes on
//! the emulator against its bound, batches × (warmup + health checks). The emulator's
//! instance refresh (`crates/xtask/refresh.py`) holds each batch for its warmup and
//! until its new instances pass their health checks; the boot script makes those take
//! `HEALTH` seconds (`# emulator: healthy-after`). What is measured is trellis's own
//! overhead on top: starting the refresh, reading it and the instances' health, and the
//! reads around the update. The time is the apply's wall time, so it is a debug build's
//! (the rollout waits; trellis's CPU is not what it measures).

use std::process::{Command, Stdio};
use std::time::Instant;

use crate::{root, Moto, Result, REGION};

const WARMUP: u64 = 2;
const HEALTH: u64 = 1;

fn spec(n: usize, version: &str) -> String {
    format!(
        r#"stack: rollout{n}
region: {REGION}
resources:
  vpc.main:
    cidr_block: 10.9.0.0/16
  subnet.a:
    vpc_id: ${{vpc.main}}
    cidr_block: 10.9.0.0/20
    availability_zone: {REGION}a
  target_group.web:
    port: 8080
    vpc_id: ${{vpc.main}}
    deregistration_delay: 0
  launch_template.web:
    image_id: ami-0abcdef1234567890
    instance_type: t3.micro
    user_data: |
      #!/bin/sh
      echo {version}
      # emulator: healthy-after {HEALTH}s
  autoscaling_group.web:
    launch_template_id: ${{launch_template.web}}
    min_size: {n}
    max_size: {max}
    desired_capacity: {n}
    vpc_zone_identifier: ["${{subnet.a}}"]
    target_group_arns: ["${{target_group.web}}"]
    health_check_type: ELB
    health_check_grace_period: {WARMUP}
    instance_warmup: {WARMUP}
"#,
        max = n * 2,
    )
}

pub(crate) fn section() -> Result<String> {
    crate::run(crate::cargo().args(["build", "--quiet", "--bin", "trellis"]))?;
    let target =
        std::env::var("CARGO_TARGET_DIR").map(std::path::PathBuf::from).unwrap_or_else(|_| root().join("target"));
    let trellis = target.join("debug/trellis");
    let moto = Moto::start()?;
    let work = root().join(".trellis-demo/rollout");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).map_err(|e| e.to_string())?;
    let mut rows = Vec::new();
    for n in [2usize, 10, 50] {
        let path = work.join(format!("rollout{n}.yaml"));
        let path_arg = path.to_string_lossy().to_string();
        let apply = |args: &[&str]| -> Result<(f64, String)> {
            let mut cmd = Command::new(&trellis);
            cmd.current_dir(&work).args(args).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
            moto.configure(&mut cmd);
            let start = Instant::now();
            let out = cmd.output().map_err(|e| e.to_string())?;
            let took = start.elapsed().as_secs_f64();
            let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
            if !out.status.success() {
                return Err(format!("trellis {} failed:\n{text}", args.join(" ")));
            }
            Ok((took, text))
        };
        std::fs::write(&path, spec(n, "v1")).map_err(|e| e.to_string())?;
        apply(&["apply", &path_arg, "--auto-approve"])?;
        std::fs::write(&path, spec(n, "v2")).map_err(|e| e.to_string())?;
        let (took, said) = apply(&["apply", &path_arg, "--auto-approve"])?;
        if !said.contains("Successful") {
            return Err(format!("the rollout of {n} did not succeed:\n{said}"));
        }
        let group: f64 = said
            .lines()
            .find_map(|l| l.strip_prefix("autoscaling_group.web: Updated after ")?.split('s').next()?.parse().ok())
            .unwrap_or(took);
        apply(&["destroy", &path_arg, "--auto-approve"])?;
        let (size, first) = trellis_plan::batch_size(n as i64, 100, 110);
        let batches = (n as i64 + size - 1) / size;
        let bound = batches as f64 * (WARMUP + HEALTH) as f64;
        eprintln!(
            "xtask: rollout of {n}: {batches} batches of {size}, group updated in {group:.1} s (bound {bound:.0} s)"
        );
        rows.push(format!(
            "| {n} | {batches} × {size}{} | {group:.1} s | {bound:.0} s | {:.2}× | {took:.1} s |",
            if first { ", new first" } else { "" },
            group / bound
        ));
    }
    drop(moto);
    let _ = std::fs::remove_dir_all(&work);
    Ok(format!(
        "Measured with `cargo xtask bench rollout` (a debug build; the rollout waits on the emulator's \
simulated warmup of {WARMUP} s and health checks of {HEALTH} s per batch, and trellis reads the refresh \
every 500 ms as the test tooling sets `TRELLIS_ROLLOUT_POLL_MS`). Defaults: 100 % to 110 % healthy, \
so a batch is a tenth of the group, at least one, launched first. The bound is batches × (warmup + \
health checks); \"group\" is the group's update alone (start, watch, read back), \"apply\" the whole \
command with its refresh and the template's new version.\n\n\
| instances | batches | group | bound | ratio | apply |\n|---|---|---|---|---|---|\n{}\n",
        rows.join("\n")
    ))
}
