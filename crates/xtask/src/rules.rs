//! `cargo xtask bench rules`: a listener with 100 rules (AWS's default quota per load
//! balancer) on the emulator, behind a fault layer that injects nothing and counts the
//! calls by action. What is measured: the calls a plan of the applied stack makes to
//! read the rules (one `DescribeRules` for the listener, its tags 20 ARNs a call), and
//! the calls an apply that reverses the rules' order makes (one `SetRulePriorities`,
//! however many rules move).

use std::process::{Command, Stdio};
use std::time::Instant;

use crate::{fault_stats, root, Moto, Result, REGION};

const RULES: usize = 100;

/// The stack: one balancer, one listener, one target group per ten rules, and `RULES`
/// path rules whose priorities run up (`reversed`: down).
fn spec(reversed: bool) -> String {
    let mut s = format!(
        r#"stack: rules{RULES}
region: {REGION}
resources:
  vpc.main:
    cidr_block: 10.8.0.0/16
  subnet.a:
    vpc_id: ${{vpc.main}}
    cidr_block: 10.8.1.0/24
    availability_zone: {REGION}a
  subnet.b:
    vpc_id: ${{vpc.main}}
    cidr_block: 10.8.2.0/24
    availability_zone: {REGION}b
  load_balancer.web:
    subnets: ["${{subnet.a}}", "${{subnet.b}}"]
  listener.http:
    load_balancer_arn: ${{load_balancer.web}}
    port: 80
    default_actions:
      - {{ type: fixed-response, fixed_response_config: {{ status_code: "404" }} }}
"#
    );
    for g in 0..RULES / 10 {
        s += &format!("  target_group.g{g}:\n    port: 8080\n    vpc_id: ${{vpc.main}}\n");
    }
    for i in 0..RULES {
        let priority = if reversed { RULES - i } else { i + 1 };
        s += &format!(
            "  listener_rule.r{i}:\n    listener_arn: ${{listener.http}}\n    priority: {priority}\n    conditions: [{{ field: path-pattern, path_pattern_config: {{ values: [\"/p{i}/*\"] }} }}]\n    actions: [{{ type: forward, target_group_arn: \"${{target_group.g{}}}\" }}]\n",
            i / 10
        );
    }
    s
}

pub(crate) fn section() -> Result<String> {
    crate::run(crate::cargo().args(["build", "--quiet", "--bin", "trellis"]))?;
    let target =
        std::env::var("CARGO_TARGET_DIR").map(std::path::PathBuf::from).unwrap_or_else(|_| root().join("target"));
    let trellis = target.join("debug/trellis");
    let moto = Moto::start()?.with_fault_args(&["--profile", "none"])?;
    let port = moto.faults.as_ref().map(|(_, p)| *p).ok_or("no fault layer")?;
    let work = root().join(".trellis-demo/rules");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).map_err(|e| e.to_string())?;
    let path = work.join("rules.yaml");
    let path_arg = path.to_string_lossy().to_string();
    // Each command through the fault layer: the calls it made, by action, and its time.
    let run = |args: &[&str]| -> Result<(serde_json::Value, f64, String)> {
        let before = fault_stats(port)?["calls"].clone();
        let mut cmd = Command::new(&trellis);
        cmd.current_dir(&work).args(args).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        moto.configure(&mut cmd);
        cmd.env("AWS_ENDPOINT_URL", format!("http://127.0.0.1:{port}"));
        let start = Instant::now();
        let out = cmd.output().map_err(|e| e.to_string())?;
        let took = start.elapsed().as_secs_f64();
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        if !matches!(out.status.code(), Some(0 | 2)) {
            return Err(format!("trellis {} failed:\n{text}", args.join(" ")));
        }
        let after = fault_stats(port)?["calls"].clone();
        let mut made = serde_json::Map::new();
        for (action, n) in after.as_object().into_iter().flatten() {
            let was = before.get(action).and_then(serde_json::Value::as_i64).unwrap_or(0);
            let now = n.as_i64().unwrap_or(0);
            if now > was {
                made.insert(action.clone(), (now - was).into());
            }
        }
        Ok((serde_json::Value::Object(made), took, text))
    };
    let count = |calls: &serde_json::Value, action: &str| calls[action].as_i64().unwrap_or(0);
    std::fs::write(&path, spec(false)).map_err(|e| e.to_string())?;
    let (created, create_time, _) = run(&["apply", &path_arg, "--auto-approve"])?;
    let (planned, plan_time, said) = run(&["plan", &path_arg, "--detailed-exitcode"])?;
    if !said.contains("No changes.") {
        return Err(format!("the applied rules did not re-plan empty:\n{said}"));
    }
    std::fs::write(&path, spec(true)).map_err(|e| e.to_string())?;
    let (reordered, reorder_time, said) = run(&["apply", &path_arg, "--auto-approve"])?;
    if !said.contains(&format!("0 added, {RULES} changed")) {
        return Err(format!("the reversal was not {RULES} updates:\n{said}"));
    }
    let (_, _, said) = run(&["plan", &path_arg, "--detailed-exitcode"])?;
    if !said.contains("No changes.") {
        return Err(format!("the reversed rules did not re-plan empty:\n{said}"));
    }
    run(&["destroy", &path_arg, "--auto-approve"])?;
    drop(moto);
    let _ = std::fs::remove_dir_all(&work);
    let rows = [
        ("apply (create)", &created, create_time),
        ("plan, nothing to do", &planned, plan_time),
        ("apply reversing every priority", &reordered, reorder_time),
    ];
    let table: Vec<String> = rows
        .iter()
        .map(|(what, calls, took)| {
            format!(
                "| {what} | {} | {} | {} | {} | {} | {took:.1} s |",
                count(calls, "DescribeRules"),
                count(calls, "DescribeTags"),
                count(calls, "SetRulePriorities"),
                count(calls, "ModifyRule"),
                count(calls, "CreateRule"),
            )
        })
        .collect();
    eprintln!("xtask: rules: {}", table.join(" / "));
    Ok(format!(
        "Measured with `cargo xtask bench rules` (a debug build, on the emulator behind the fault layer with \
no faults, which counts the calls by action): one listener with {RULES} path rules, AWS's default quota of \
rules per load balancer. The plan reads all of a listener's rules in one `DescribeRules` (400 a page) and \
their tags 20 ARNs a call; reversing the order of all {RULES} rules is {RULES} updates in place whose \
priorities move in one `SetRulePriorities` (AWS judges the new order as a whole), with no `ModifyRule`, \
since conditions and actions did not change. An apply still reads each rule back after its own create or update (a `DescribeRules` of its listener each): the read-back is per object, as for every kind.\n\n\
| command | DescribeRules | DescribeTags | SetRulePriorities | ModifyRule | CreateRule | time |\n|---|---|---|---|---|---|---|\n{}\n",
        table.join("\n")
    ))
}
