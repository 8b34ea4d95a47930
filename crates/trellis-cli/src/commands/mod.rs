//! One module per command. Each has its flags (a clap `Args`) and a `run` that returns
//! the exit code; what several share (opening a session with progress output, asking
//! for approval, wording an AWS error or an adoption) is at the bottom of this file.

mod all;
mod apply;
mod check;
mod completions;
mod discover;
pub(crate) mod drift;
mod force_unlock;
mod get;
mod graph;
mod import;
mod output;
mod plan;
mod reconcile;
mod show;
mod state;
mod validate;

use std::io::{BufRead, IsTerminal, Write};
use std::sync::Arc;

use clap::Subcommand;
use trellis_core::ProviderError;
use trellis_ops::{OpenOptions, Orphans, Planned, Read, Result, Session};
use trellis_plan::Adoption;

use crate::ui::Ui;
use crate::{CloudArgs, SpecArgs};

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Check a spec offline: kinds, attributes, types, references, cycles.
    Validate(SpecArgs),
    /// Fetch the spec's git components at what their refs name now and write
    /// `trellis.lock` beside it (every other run holds them to the lock).
    Get(SpecArgs),
    /// Check a spec's objects for risky settings offline (open ports, public or
    /// unencrypted databases, ...): the findings every plan shows.
    Check(check::CheckArgs),
    /// Print the dependency graph of a spec (Graphviz DOT or Mermaid).
    Graph(graph::GraphArgs),
    /// Show what apply would change: spec vs state vs the live cloud.
    Plan(plan::PlanArgs),
    /// Make the cloud match the spec, or carry out a plan saved with `plan --out`.
    Apply(apply::ApplyArgs),
    /// Report what changed outside trellis, read-only: the state against the live
    /// objects, per resource and attribute. Exit 0 none, 2 drift, 1 an error.
    Drift(drift::DriftArgs),
    /// Keep the stack converged: a round every `--every`, each handling drift by its
    /// resource's policy (report, revert, accept); `--once` for cron.
    Reconcile(reconcile::ReconcileArgs),
    /// Show a plan saved with `plan --out`.
    Show(show::ShowArgs),
    /// Delete everything the stack's state holds, dependents first.
    Destroy(apply::ApplyArgs),
    /// Record an existing object under an address of the spec (`trellis import SPEC
    /// ADDR ID`): read by its id, it is managed from then on.
    Import(import::ImportArgs),
    /// Write the spec and the state of a stack built by hand (`trellis discover --vpc
    /// VPC_ID --stack NAME`): every object of the VPC, ids of each other as references.
    Discover(discover::DiscoverArgs),
    /// Inspect the state, or move it between the local file and S3.
    #[command(subcommand)]
    State(state::StateCommand),
    /// Break a state lock whose run is gone, after showing who held it.
    ForceUnlock(force_unlock::ForceUnlockArgs),
    /// Print the stack's outputs from the state.
    Output(output::OutputArgs),
    /// Print the completion script of a shell (bash, zsh, fish).
    Completions(completions::CompletionsArgs),
}

pub fn run(command: Command, ui: &Ui) -> Result<i32> {
    match command {
        Command::Validate(args) => validate::run(&args, ui),
        Command::Check(args) => check::run(&args, ui),
        Command::Get(args) => get::run(&args, ui),
        Command::Graph(args) => runtime()?.block_on(graph::run(args, ui)),
        Command::Plan(args) => runtime()?.block_on(plan::run(args, ui)),
        Command::Apply(args) => runtime()?.block_on(apply::run(args, ui, trellis_plan::Operation::Apply)),
        Command::Drift(args) => runtime()?.block_on(drift::run(args, ui)),
        Command::Reconcile(args) => runtime()?.block_on(reconcile::run(args, ui)),
        Command::Show(args) => show::run(&args, ui),
        Command::Destroy(args) => runtime()?.block_on(apply::run(args, ui, trellis_plan::Operation::Destroy)),
        Command::Import(args) => runtime()?.block_on(import::run(&args, ui)),
        Command::Discover(args) => runtime()?.block_on(discover::run(args, ui)),
        Command::State(command) => state::run(command, ui),
        Command::ForceUnlock(args) => force_unlock::run(&args, ui),
        Command::Output(args) => output::run(&args, ui),
        Command::Completions(args) => completions::run(&args, ui),
    }
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| trellis_ops::Error::Usage(format!("cannot start the async runtime: {e}")))
}

/// Waits and retries, as lines shown dimmed on stderr.
pub(crate) fn progress_lines(ui: &Ui) -> trellis_aws::Progress {
    let color = ui.color_err;
    Arc::new(move |event: &trellis_aws::Event| {
        let line = crate::waits::word(event);
        let mut e = std::io::stderr().lock();
        let _ = if color { writeln!(e, "\x1b[2m  … {line}\x1b[0m") } else { writeln!(e, "  … {line}") };
    })
}

/// Opens a session for `operation`, with waits and retries shown dimmed on stderr.
async fn open(spec: &SpecArgs, cloud: &CloudArgs, operation: &str, ui: &Ui) -> Result<Session> {
    let progress = progress_lines(ui);
    Session::open(OpenOptions {
        spec: &spec.spec,
        vars: spec.vars()?,
        backend: (&cloud.store).into(),
        lock_timeout: cloud.lock_timeout,
        delete_timeout: cloud.delete_timeout,
        operation,
        progress: Some(progress),
    })
    .await
}

/// "Read 13 live objects in 19 API calls (region eu-west-1)." on stderr.
fn note_read(ui: &Ui, read: &Read) {
    ui.note(&format!(
        "Read {} live object{} in {} API call{} (region {}).",
        read.objects,
        if read.objects == 1 { "" } else { "s" },
        read.calls,
        if read.calls == 1 { "" } else { "s" },
        read.region
    ));
}

/// What was read, and what was adopted before planning, on stderr.
fn note_planned(ui: &Ui, planned: &Planned) {
    note_read(ui, &planned.read);
    if let Some((adoption, orphans)) = &planned.adoption {
        let why = match orphans {
            Orphans::Journaled => "journal of an interrupted run",
            Orphans::AdoptAll => "--adopt-orphans",
        };
        if adoption.waited {
            ui.note(&format!("{why}: some of its creates were not shown by the first read; looked for them again"));
        }
        for line in adoption_lines(adoption, "adopted") {
            ui.note(&format!("{why}: {line}"));
        }
    }
}

/// The lines that tell what an adoption did, `verb` (adopted, imported) for each object taken.
fn adoption_lines(adoption: &Adoption, verb: &str) -> Vec<String> {
    let taken = adoption.adopted.iter().map(|o| format!("{verb} {} ({})", o.address, o.id));
    let refused =
        adoption.refused.iter().map(|r| format!("left alone: {} ({}): {}", r.address, r.ids.join(", "), r.why));
    taken.chain(refused).collect()
}

/// Asks `question` on the terminal; only `yes` agrees. Without a terminal, fails with `refusal`.
fn confirm(ui: &Ui, question: &str, refusal: &str) -> Result<bool> {
    if !std::io::stdin().is_terminal() {
        return Err(trellis_ops::Error::Usage(refusal.to_string()));
    }
    ui.out(&format!("\n{question} Only `yes` is accepted: "));
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer).map_err(|e| trellis_ops::Error::Usage(e.to_string()))?;
    Ok(answer.trim() == "yes")
}

/// AWS's code and message.
fn aws_error(e: &ProviderError) -> String {
    match &e.code {
        Some(code) => format!("AWS {code}: {}", e.message),
        None => e.message.clone(),
    }
}
