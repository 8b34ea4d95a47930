//! The repository, its venv and the cargo the tasks run: what every task uses.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::*;

/// The repository this xtask was started in. Found at run time, never compiled in: with
/// a shared `CARGO_TARGET_DIR`, one xtask binary may have been built from another checkout.
pub(crate) fn root() -> PathBuf {
    let start = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .or_else(|| std::env::current_dir().ok())
        .expect("a current directory");
    start
        .ancestors()
        .find(|d| d.join("crates/xtask/moto-requirements.txt").is_file())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| panic!("{} is not inside the trellis repository", start.display()))
}

pub(crate) fn requirements() -> Result<String> {
    let path = root().join("crates/xtask/moto-requirements.txt");
    std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))
}

pub(crate) fn venv() -> PathBuf {
    root().join(".venv")
}

pub(crate) fn venv_bin(name: &str) -> PathBuf {
    venv().join("bin").join(name)
}

pub(crate) fn run(cmd: &mut Command) -> Result<()> {
    let status = cmd.status().map_err(|e| format!("cannot run {cmd:?}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{cmd:?} failed: {status}"))
    }
}

/// The cargo that runs xtask, for a build of the workspace. `cargo run` gave xtask the
/// variables it sets for a package being run (`CARGO_MANIFEST_DIR`, `CARGO_PKG_NAME`,
/// ...); passed on, they would reach the build scripts of the crates below the AWS
/// SDKs, and ring's asks to be run again whenever they change: a plain `cargo build`
/// (without them) and `cargo xtask test` (with xtask's, whose path is the checkout's)
/// would then each rebuild the SDKs after the other. The build sees none of them.
pub(crate) fn cargo() -> Command {
    let mut c = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    c.current_dir(root());
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        if is_package_variable(&name) {
            c.env_remove(name.as_ref());
        }
    }
    c
}

/// A variable cargo sets for the package it runs or builds, as opposed to one that
/// configures cargo itself (`CARGO_TARGET_DIR`, `CARGO_HOME`, `CARGO_TERM_COLOR`, ...).
pub(crate) fn is_package_variable(name: &str) -> bool {
    name.starts_with("CARGO_PKG_")
        || name.starts_with("CARGO_MANIFEST_")
        || name.starts_with("CARGO_BIN_")
        || matches!(name, "CARGO_CRATE_NAME" | "CARGO_PRIMARY_PACKAGE" | "CARGO_RUSTC_CURRENT_DIR" | "OUT_DIR")
}
