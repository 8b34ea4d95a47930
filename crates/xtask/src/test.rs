//! `cargo xtask test` (every test, the end-to-end ones on the emulator) and `cargo xtask
//! fuzz` (the fuzz targets at length).

use std::io::Read;
use std::process::ExitCode;

use crate::*;

pub(crate) fn test(extra: &[String]) -> Result<ExitCode> {
    // Build first, so the emulator is not kept waiting during a long compile.
    run(cargo().args(["test", "--workspace", "--no-run", "--quiet"]))?;
    let moto = Moto::start()?.with_faults("mixed")?;
    let mut cmd = cargo();
    cmd.args(["test", "--workspace", "--no-fail-fast"]).args(extra);
    moto.configure(&mut cmd);
    let status = cmd.status().map_err(|e| e.to_string())?;
    if !status.success() {
        let mut log = String::new();
        let _ = std::fs::File::open(&moto.log).and_then(|mut f| f.read_to_string(&mut log));
        let tail: Vec<&str> = log.lines().filter(|l| l.contains("Error") || l.contains("Traceback")).take(20).collect();
        if !tail.is_empty() {
            eprintln!("xtask: errors in the moto log:\n{}", tail.join("\n"));
        }
    }
    drop(moto);
    Ok(if status.success() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// The fuzz targets at length: `cargo xtask test` runs 64 cases of each, this 20,000
/// (or `TRELLIS_FUZZ_CASES`).
pub(crate) fn fuzz() -> Result<ExitCode> {
    let cases = std::env::var("TRELLIS_FUZZ_CASES").unwrap_or_else(|_| "20000".into());
    let mut cmd = cargo();
    cmd.args(["test", "--release", "-p", "trellis-plan", "--test", "fuzz"]).env("TRELLIS_FUZZ_CASES", &cases);
    run(&mut cmd)?;
    eprintln!("xtask: every fuzz target held for {cases} cases");
    Ok(ExitCode::SUCCESS)
}
