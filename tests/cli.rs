//! The CLI contract that needs no cloud: validation messages and exit codes, the DOT
//! graph, and the state lock. Rendered output is pinned with snapshots.

use std::process::Command;
use trellis_state::StateStore;

fn trellis(dir: &std::path::Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_trellis"))
        .current_dir(dir)
        .args(args)
        .env("NO_COLOR", "1")
        // No AWS call may happen in these tests: an unroutable endpoint proves it.
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env("AWS_ACCESS_KEY_ID", "x")
        .env("AWS_SECRET_ACCESS_KEY", "x")
        .env("AWS_REGION", "us-east-1")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

fn examples() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("specs/examples")
}

#[test]
fn validate_accepts_the_example() {
    let (code, out, _) = trellis(&examples(), &["validate", "network.yaml"]);
    assert_eq!(code, 0);
    assert_eq!(out, "network.yaml is valid: stack `network`, 12 resources.\n");
}

#[test]
fn validate_reports_every_error_with_its_place() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("bad.yaml"),
        "stack: demo\nresources:\n  vpc.main:\n    cidr_block: 10.0.0.0/16\n  subnet.a:\n    vpc_id: ${vpc.mian}\n    cidr_block: 10.0.1.0/33\n",
    )
    .unwrap();
    let (code, out, err) = trellis(dir.path(), &["validate", "bad.yaml"]);
    assert_eq!(code, 1);
    assert_eq!(out, "");
    assert!(err.contains("bad.yaml:6:13"), "{err}");
    assert!(err.contains("bad.yaml:7:17"), "{err}");
    insta::assert_snapshot!(err);
}

#[test]
fn var_overrides_are_checked() {
    let (code, _, err) = trellis(&examples(), &["validate", "network.yaml", "--var", "vpc_cdir=10.1.0.0/16"]);
    assert_eq!(code, 1);
    assert!(err.contains("--var vpc_cdir: the spec declares no variable `vpc_cdir`"), "{err}");
    assert!(err.contains("did you mean `vpc_cidr`?"), "{err}");
}

#[test]
fn graph_prints_dot() {
    let (code, out, _) = trellis(&examples(), &["graph", "network.yaml"]);
    assert_eq!(code, 0);
    insta::assert_snapshot!(out);
}

#[test]
fn a_locked_state_fails_at_once_naming_the_holder() {
    let dir = tempfile::tempdir().unwrap();
    let spec = examples().join("network.yaml");
    let store = trellis_state::LocalStore::new(dir.path().join("state/network.json"));
    let lock = store.lock("apply").unwrap();
    let started = std::time::Instant::now();
    let (code, _, err) = trellis(dir.path(), &["plan", spec.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(err.contains("is locked by `apply`") && err.contains(&format!("process {}", std::process::id())), "{err}");
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    drop(lock);
}

#[test]
fn lock_timeout_waits_for_the_holder_before_failing() {
    let dir = tempfile::tempdir().unwrap();
    let spec = examples().join("network.yaml");
    let store = trellis_state::LocalStore::new(dir.path().join("state/network.json"));
    let lock = store.lock("apply").unwrap();
    let started = std::time::Instant::now();
    let (code, _, err) = trellis(dir.path(), &["plan", spec.to_str().unwrap(), "--lock-timeout", "1500ms"]);
    assert_eq!(code, 1);
    assert!(err.contains("is locked by `apply`") && err.contains(&format!("process {}", std::process::id())), "{err}");
    assert!(started.elapsed() >= std::time::Duration::from_millis(1500), "it waited first");
    drop(lock);
    let (_, _, err) = trellis(dir.path(), &["plan", spec.to_str().unwrap(), "--lock-timeout", "soon"]);
    assert!(err.contains("--lock-timeout"), "a bad duration is a usage error: {err}");
}

#[test]
fn missing_files_and_states_are_plain_errors() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, err) = trellis(dir.path(), &["validate", "nope.yaml"]);
    assert_eq!(code, 1);
    assert!(err.starts_with("error: cannot read nope.yaml:"), "{err}");
    let (code, _, err) = trellis(dir.path(), &["state", "list"]);
    assert_eq!(code, 1);
    assert!(err.contains("--spec SPEC"), "{err}");
}
