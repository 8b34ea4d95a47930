//! `cargo xtask reliability`: every example applied, planned and destroyed through the
//! fault layer, for the figures of `docs/reliability.md`.

use std::path::PathBuf;
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

use crate::*;

/// Every example, RUNS times, through the fault layer (mixed profile, a fixed seed):
/// one apply, one plan, one destroy each; the layer's counts and trellis's own say what
/// happened. Rewrites the measured section of docs/reliability.md.
pub(crate) fn reliability() -> Result<ExitCode> {
    const RUNS: usize = 3;
    const KINDS: [&str; 6] = ["throttle", "error_before", "error_after", "reset_after", "garbled", "not_yet_visible"];
    run(cargo().args(["test", "--workspace", "--no-run", "--quiet"]))?;
    let target = std::env::var("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|_| root().join("target"));
    let trellis = target.join("debug/trellis");
    let moto = Moto::start()?.with_faults("mixed")?;
    let port = moto.faults.as_ref().map(|(_, p)| *p).ok_or("no fault layer")?;
    let work = root().join(".trellis-demo/reliability");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(work.join("files")).map_err(|e| e.to_string())?;
    for f in ["web-boot.sh", "receiver-boot.sh"] {
        std::fs::copy(root().join("specs/examples/files").join(f), work.join("files").join(f))
            .map_err(|e| e.to_string())?;
    }
    let examples = ["network", "web-asg", "fixed-servers", "web-mysql", "postgres-replicas", "shared-db"];
    let mut rows = Vec::new();
    let (mut converged, mut total) = (0, 0);
    let mut sums = [0u64; 7];
    for example in examples {
        for n in 1..=RUNS {
            let text = std::fs::read_to_string(root().join(format!("specs/examples/{example}.yaml")))
                .map_err(|e| e.to_string())?;
            let stack = format!("rel-{example}-{n}");
            let text: String = text
                .lines()
                .map(|l| {
                    if l.starts_with("stack:") {
                        format!("stack: {stack}")
                    } else {
                        l.replace("name: scalingdb", &format!("name: {stack}-params"))
                    }
                })
                .collect::<Vec<_>>()
                .join("\n");
            let spec = work.join(format!("{stack}.yaml"));
            std::fs::write(&spec, text).map_err(|e| e.to_string())?;
            let spec = spec.to_string_lossy().to_string();
            let before = fault_stats(port)?;
            let start = Instant::now();
            let mut codes = Vec::new();
            let mut retried = String::new();
            for args in [
                vec!["apply", &spec, "--auto-approve"],
                vec!["plan", &spec, "--detailed-exitcode"],
                vec!["destroy", &spec, "--auto-approve", "--allow-data-loss"],
            ] {
                let mut cmd = Command::new(&trellis);
                cmd.current_dir(&work).args(&args).stdin(Stdio::null());
                moto.configure(&mut cmd);
                cmd.env("AWS_ENDPOINT_URL", format!("http://127.0.0.1:{port}"))
                    .env("MYSQL_PASSWORD", "reliability-pw-1")
                    .env("PG_PASSWORD", "reliability-pw-2")
                    .env("APP_DB_PASSWORD", "reliability-pw-3")
                    .env("NO_COLOR", "1");
                let out = cmd.output().map_err(|e| e.to_string())?;
                codes.push(out.status.code().unwrap_or(-1));
                let err = String::from_utf8_lossy(&out.stderr);
                if args[0] == "apply" {
                    retried = err.lines().find_map(|l| l.strip_prefix("Retried: ")).unwrap_or("").to_string();
                    if !out.status.success() {
                        let failed: Vec<String> = String::from_utf8_lossy(&out.stdout)
                            .lines()
                            .filter(|l| l.contains(" failed:"))
                            .map(str::to_string)
                            .collect();
                        eprintln!("xtask: {stack}: apply failed:\n{}", failed.join("\n"));
                    }
                }
            }
            let secs = start.elapsed().as_secs_f64();
            let after = fault_stats(port)?;
            let delta = |k: &str| after[k].as_u64().unwrap_or(0) - before[k].as_u64().unwrap_or(0);
            let counts: Vec<u64> = std::iter::once(delta("requests")).chain(KINDS.iter().map(|k| delta(k))).collect();
            for (s, c) in sums.iter_mut().zip(&counts) {
                *s += c;
            }
            total += 1;
            let ok = codes == [0, 0, 0];
            converged += usize::from(ok);
            let cells: Vec<String> = counts.iter().map(u64::to_string).collect();
            rows.push(format!(
                "| {example} | {n} | {} | {} | {} | {secs:.1} s |",
                cells.join(" | "),
                if retried.is_empty() { "–".to_string() } else { retried },
                codes.iter().map(i32::to_string).collect::<Vec<_>>().join(", "),
            ));
            eprintln!("xtask: {stack}: exit codes {codes:?}");
        }
    }
    drop(moto);
    let _ = std::fs::remove_dir_all(root().join(".trellis-demo"));
    let sum: Vec<String> = sums.iter().map(u64::to_string).collect();
    let table = format!(
        "<!-- measured:start (written by `cargo xtask reliability`) -->\n\
Every example, {RUNS} times, through the fault layer (`mixed`, as the tests run it), debug build, \
{} cores. Each run is one `apply`, one `plan --detailed-exitcode` and one `destroy \
--allow-data-loss`; the fault counts are the layer's own (`/_faults/stats` before and after \
the run), \"Retried\" is the line trellis prints after the apply (its create loop's \
decisions; the SDK's retries of other calls are not counted there).\n\n\
| example | run | requests | throttled | 5xx before | 5xx after | reset after | garbled | not yet visible | retried (apply) | exit codes | time |\n\
|---|---|---|---|---|---|---|---|---|---|---|---|\n{}\n| all | {total} | {} | | | |\n\n\
**{converged} of {total} runs converged in one apply, planned empty and destroyed in one destroy.**\n\
<!-- measured:end -->",
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        rows.join("\n"),
        sum.join(" | "),
    );
    let path = root().join("docs/reliability.md");
    let doc = std::fs::read_to_string(&path).map_err(|e| e.to_string())?;
    let (Some(a), Some(b)) = (doc.find("<!-- measured:start"), doc.find("<!-- measured:end -->")) else {
        return Err("docs/reliability.md lacks the measured:start/end markers".into());
    };
    let updated = format!("{}{}{}", &doc[..a], table, &doc[b + "<!-- measured:end -->".len()..]);
    std::fs::write(&path, updated).map_err(|e| e.to_string())?;
    eprintln!("xtask: wrote docs/reliability.md ({converged} of {total} runs converged)");
    Ok(if converged == total { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}
