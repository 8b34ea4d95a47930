//! `plan --all DIR` and `apply --all DIR`: every stack of a directory, in the order their
//! `${stack.NAME.output.KEY}` references give (`trellis_ops::all`). Each stack runs as
//! its own `trellis plan`/`trellis apply` process, as Terragrunt's `run-all` runs
//! Terraform, so each has its own lock, state and session; the stacks of one level
//! (those that need only earlier levels) run at once. Each one's output is printed
//! whole under its name, in order, then one summary; a stack whose dependency failed
//! is not run.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use trellis_ops::all::{levels, stacks, stopped_by, StackSpec};
use trellis_ops::{Error, Result};

use crate::ui::Ui;
use crate::{EXIT_ERROR, EXIT_OK};

/// What happened to one stack.
enum Outcome {
    /// Its exit code and the line that sums up its plan or apply.
    Ran { code: i32, summary: String },
    /// Not run: the dependencies that failed.
    Stopped(Vec<String>),
}

/// The line of a run's output that sums it up.
fn summary_of(out: &str) -> String {
    out.lines()
        .rev()
        .find(|l| {
            l.starts_with("Plan:")
                || l.starts_with("No changes.")
                || l.starts_with("Apply complete!")
                || l.starts_with("Destroy complete!")
        })
        .unwrap_or("")
        .to_string()
}

fn run_one(verb: &str, stack: &StackSpec, forwarded: &[String], pending: &[String]) -> Result<Output> {
    let me = std::env::current_exe().map_err(|e| Error::Usage(format!("cannot find trellis's own program: {e}")))?;
    Command::new(me)
        .arg(verb)
        .arg(&stack.path)
        .args(forwarded)
        .args(pending.iter().flat_map(|n| ["--pending-stack".to_string(), n.clone()]))
        .stdin(Stdio::null())
        .output()
        .map_err(|e| Error::Usage(format!("cannot run trellis {verb} {}: {e}", stack.path.display())))
}

/// Runs `verb` (`plan` or `apply`) on every stack of `dir`. `forwarded` are the flags
/// each run gets; `changes_code` is the exit code for "plans have changes" (2 with
/// `--detailed-exitcode`, else 0).
pub fn run(verb: &str, dir: &Path, forwarded: &[String], approve: bool, changes_code: i32, ui: &Ui) -> Result<i32> {
    let all = stacks(dir)?;
    let order = levels(&all)?;
    let line: Vec<String> =
        order.iter().map(|level| level.iter().map(|s| s.name.clone()).collect::<Vec<_>>().join(" + ")).collect();
    ui.line(&format!(
        "{} stack{} in {}, in order: {}",
        all.len(),
        if all.len() == 1 { "" } else { "s" },
        dir.display(),
        line.join(" → ")
    ));
    for s in all.iter().filter(|s| !s.needs.is_empty()) {
        let needs: Vec<&str> = s.needs.iter().map(String::as_str).collect();
        ui.line(&format!("  {} reads the outputs of {}", s.name, needs.join(", ")));
    }
    if verb == "apply" && !approve {
        let question = format!("Apply these {} stacks in this order, each without a prompt of its own?", all.len());
        if !super::confirm(ui, &question, "apply --all needs --auto-approve when no one can be asked")? {
            ui.line("Apply cancelled.");
            return Ok(EXIT_ERROR);
        }
    }
    let mut failed: BTreeSet<String> = BTreeSet::new();
    // Planned stacks with changes not applied: what reads them reads unknown values.
    let mut changing: BTreeSet<String> = BTreeSet::new();
    let mut outcomes: Vec<(StackSpec, Outcome)> = Vec::new();
    for level in order {
        let stopped = stopped_by(&all, &failed);
        let (run, skip): (Vec<StackSpec>, Vec<StackSpec>) = level.into_iter().partition(|s| !stopped.contains(&s.name));
        let outputs: Vec<Result<Output>> = std::thread::scope(|scope| {
            let handles: Vec<_> = run
                .iter()
                .map(|s| {
                    let pending: Vec<String> = s.needs.iter().filter(|n| changing.contains(*n)).cloned().collect();
                    scope.spawn(move || run_one(verb, s, forwarded, &pending))
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|_| Err(Error::Usage("a stack's run panicked".into()))))
                .collect()
        });
        for (stack, output) in run.into_iter().zip(outputs) {
            let output = output?;
            let stdout = String::from_utf8_lossy(&output.stdout);
            let stderr = String::from_utf8_lossy(&output.stderr);
            ui.line(&format!("\n{}", ui.paint("1", &format!("━━ stack {} ({}) ━━", stack.name, stack.path.display()))));
            let pending: Vec<&str> = stack.needs.iter().filter(|n| changing.contains(*n)).map(String::as_str).collect();
            if !pending.is_empty() {
                ui.line(&format!(
                    "(the outputs of {} are read as known after apply: {} changes planned)",
                    pending.join(", "),
                    if pending.len() == 1 { "it has" } else { "they have" }
                ));
            }
            ui.out(&stdout);
            if !stderr.is_empty() {
                ui.note(stderr.trim_end());
            }
            let code = output.status.code().unwrap_or(EXIT_ERROR);
            if code != EXIT_OK && code != 2 {
                failed.insert(stack.name.clone());
            }
            if verb == "plan" && code == 2 {
                changing.insert(stack.name.clone());
            }
            outcomes.push((stack, Outcome::Ran { code, summary: summary_of(&stdout) }));
        }
        for stack in skip {
            let why: Vec<String> =
                stack.needs.iter().filter(|n| failed.contains(*n) || stopped.contains(*n)).cloned().collect();
            outcomes.push((stack, Outcome::Stopped(why)));
        }
    }
    ui.line(&format!("\n{}", ui.paint("1", &format!("Summary of {verb} --all:"))));
    let width = outcomes.iter().map(|(s, _)| s.name.len()).max().unwrap_or(0);
    let (mut any_failed, mut any_changes) = (false, false);
    for (stack, outcome) in &outcomes {
        let text = match outcome {
            Outcome::Ran { code: 0, summary } => format!("ok       {summary}"),
            Outcome::Ran { code: 2, summary } => {
                any_changes = true;
                format!("changes  {summary}")
            }
            Outcome::Ran { code: c, .. } => {
                any_failed = true;
                format!("FAILED   (exit {c}; its output is above)")
            }
            Outcome::Stopped(why) => {
                any_failed = true;
                let names: Vec<String> = why.iter().map(|n| format!("`{n}`")).collect();
                format!("not run  it reads {}, which did not {verb}", names.join(", "))
            }
        };
        ui.line(&format!("  {:width$}  {text}", stack.name));
    }
    Ok(if any_failed {
        EXIT_ERROR
    } else if any_changes {
        changes_code
    } else {
        EXIT_OK
    })
}
