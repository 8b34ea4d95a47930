//! `cargo xtask demo | test`: the project's own tooling. It needs only Rust and
//! Python 3: it makes a virtualenv under the repository (`.venv`, ignored by git),
//! installs the pinned moto server there, starts it on a free loopback port, runs the
//! demo or the tests against it, and stops it again, whatever happens.

use std::process::ExitCode;

mod bench;
mod demo;
mod docs;
mod moto;
mod reliability;
mod rollout;
mod rules;
mod test;
mod tooling;

pub(crate) use bench::*;
pub(crate) use demo::*;
pub(crate) use docs::*;
pub(crate) use moto::*;
pub(crate) use reliability::*;
pub(crate) use test::*;
pub(crate) use tooling::*;

pub(crate) const REGION: &str = "us-east-1";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("demo") => demo(),
        Some("test") => test(&args[1..]),
        Some("moto") => serve(),
        Some("docs") => docs(),
        Some("bench") if std::env::args().nth(2).as_deref() == Some("scale") => bench_section(&SCALE, scale_section),
        Some("bench") if std::env::args().nth(2).as_deref() == Some("journal") => {
            bench_section(&JOURNAL, journal_section)
        }
        Some("bench") if std::env::args().nth(2).as_deref() == Some("cli") => bench_section(&CLI, cli_section),
        Some("bench") if std::env::args().nth(2).as_deref() == Some("apply") => bench_section(&APPLY, apply_section),
        Some("bench") if std::env::args().nth(2).as_deref() == Some("rollout") => {
            bench_section(&ROLLOUT, rollout::section)
        }
        Some("bench") if std::env::args().nth(2).as_deref() == Some("rules") => bench_section(&RULES, rules::section),
        Some("bench") if std::env::args().nth(2).as_deref() == Some("components") => {
            bench_section(&COMPONENTS, components_section)
        }
        Some("bench") => bench(),
        Some("reliability") => reliability(),
        Some("fuzz") => fuzz(),
        _ => {
            eprintln!("usage: cargo xtask <demo | test [cargo test args] | moto>");
            eprintln!(
                "  demo  runs validate, plan, apply, plan, a rollout, a rolled-back rollout and destroy of specs/examples/web-asg.yaml on the emulator"
            );
            eprintln!("  test  runs every test, the end-to-end ones against the emulator");
            eprintln!("  moto  starts the emulator in the foreground and prints the variables to use it");
            eprintln!("  docs  rewrites the generated kind reference in docs/spec.md and draws docs/web-asg-graph.svg");
            eprintln!("  bench measures refresh calls and plan time for growing stacks; writes docs/benchmarks.md");
            eprintln!("  bench scale  only the section on loading and planning 1k to 50k resources (no emulator)");
            eprintln!("  bench journal  only the section on what an apply writes to its state, 100 to 10k resources");
            eprintln!("  bench cli  only the section on `trellis validate` and `trellis plan` of 1k to 50k resources");
            eprintln!("  bench rules  only the section on a listener with 100 rules: its read and a reordering");
            eprintln!(
                "  bench apply  only the section on applying 1,000 resources at 50 ms a call under AWS's rate limits"
            );
            eprintln!("  bench rollout  only the section on rolling 2, 10 and 50 instances onto a new version");
            eprintln!("  fuzz  runs the fuzz targets (crates/trellis-plan/tests/fuzz.rs) for 20,000 cases each");
            eprintln!("  reliability applies, plans and destroys every example through the fault layer; writes the figures of docs/reliability.md");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

pub(crate) type Result<T> = std::result::Result<T, String>;

#[cfg(test)]
mod tests {
    use super::is_package_variable;

    #[test]
    fn only_the_variables_of_the_package_cargo_ran_are_kept_from_the_build() {
        for name in [
            "CARGO_MANIFEST_DIR",
            "CARGO_MANIFEST_PATH",
            "CARGO_PKG_NAME",
            "CARGO_PKG_VERSION_MAJOR",
            "CARGO_CRATE_NAME",
        ] {
            assert!(is_package_variable(name), "{name}");
        }
        for name in ["CARGO", "CARGO_TARGET_DIR", "CARGO_HOME", "CARGO_TERM_COLOR", "CARGO_BUILD_JOBS", "PATH"] {
            assert!(!is_package_variable(name), "{name}");
        }
    }
}
