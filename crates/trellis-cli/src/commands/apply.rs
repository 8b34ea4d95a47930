//! `trellis apply SPEC`, `trellis apply FILE` (a saved plan) and `trellis destroy SPEC`:
//! plan, ask, then run the plan through the engine with Ctrl-C handling and report.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::sync::Arc;

use clap::Args;
use trellis_aws::Aws;
use trellis_core::Value;
use trellis_engine::{ApplyOptions, Event, OpKind, Report};
use trellis_ops::{check_data_loss, Orphans, Result, SavedRun};
use trellis_plan::{Operation, Plan};
use trellis_state::{State, StateLock, StateStore};

use crate::progress::Progress;
use crate::ui::Ui;
use crate::{CloudArgs, SpecArgs, EXIT_ERROR, EXIT_INTERRUPTED, EXIT_OK};

#[derive(Args, Debug)]
pub struct ApplyArgs {
    #[command(flatten)]
    spec: SpecArgs,
    #[command(flatten)]
    cloud: CloudArgs,
    /// Do not ask for confirmation.
    #[arg(long)]
    auto_approve: bool,
    /// Carry out deletes and replacements of protected objects: databases (their data is
    /// lost; a final snapshot is taken unless `skip_final_snapshot: true`) and anything
    /// that says `protect: true`.
    #[arg(long)]
    allow_data_loss: bool,
    /// First record the objects tagged with this stack that no state knows (as
    /// `trellis state adopt` does), then plan: they are managed instead of left alone.
    #[arg(long)]
    adopt_orphans: bool,
    /// Only this resource and what it depends on (for destroy: what depends on it); repeatable.
    #[arg(long = "target", value_name = "ADDR")]
    targets: Vec<String>,
    /// Replace this object although the spec did not change (repeatable; a repeated
    /// resource without a key: every copy). A database's data-loss rules apply.
    #[arg(long, value_name = "ADDR")]
    replace: Vec<String>,
    /// Only record in the state what changed outside trellis (after approval); nothing
    /// in the cloud changes.
    #[arg(long, conflicts_with = "replace")]
    refresh_only: bool,
    /// With a saved plan: apply it only if its digest (printed by `plan --out` and
    /// `show`) is this one, the one that was reviewed.
    #[arg(long, value_name = "SHA256")]
    digest: Option<String>,
    /// Refuse when the plan holds a finding at or above this severity that no `waive:`
    /// accepts (low, medium, high, critical); default: the spec's `checks:`.
    #[arg(long, value_name = "SEVERITY")]
    fail_on: Option<trellis_core::schema::Severity>,
    /// How many operations may run at once.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u16).range(1..=100))]
    parallelism: u16,
    /// Apply every stack of the directory given instead of a spec, in the order their
    /// `${stack.NAME.output...}` references give; a stack whose dependency failed is not
    /// applied. One approval for all (or --auto-approve).
    #[arg(long)]
    all: bool,
}

/// How the engine should run, from the command line.
impl From<&ApplyArgs> for ApplyOptions {
    fn from(args: &ApplyArgs) -> Self {
        ApplyOptions {
            parallelism: args.parallelism.into(),
            allow_data_loss: args.allow_data_loss,
            ..ApplyOptions::default()
        }
    }
}

pub async fn run(args: ApplyArgs, ui: &Ui, operation: Operation) -> Result<i32> {
    if args.all {
        let per_stack =
            !args.targets.is_empty() || !args.replace.is_empty() || args.digest.is_some() || args.refresh_only;
        if operation == Operation::Destroy || per_stack || !args.spec.vars.is_empty() || !args.spec.var_files.is_empty()
        {
            return Err(trellis_ops::Error::Usage(
                "--all applies each stack as it is (apply only): --target, --replace, --digest, --refresh-only, --var and --var-file are given per stack (each stack's *.auto.yaml is read)".into(),
            ));
        }
        let mut forwarded =
            vec!["--auto-approve".to_string(), "--parallelism".to_string(), args.parallelism.to_string()];
        forwarded.extend(args.cloud.forwarded()?);
        if args.allow_data_loss {
            forwarded.push("--allow-data-loss".into());
        }
        if args.adopt_orphans {
            forwarded.push("--adopt-orphans".into());
        }
        if let Some(f) = args.fail_on {
            forwarded.extend(["--fail-on".to_string(), f.word().to_string()]);
        }
        return super::all::run("apply", &args.spec.spec, &forwarded, args.auto_approve, crate::EXIT_OK, ui);
    }
    if operation == Operation::Apply {
        if let Some(text) = SavedRun::sniff(&args.spec.spec) {
            return apply_saved(&text, args, ui).await;
        }
    }
    if args.digest.is_some() {
        return Err(trellis_ops::Error::Usage(
            "--digest is for a saved plan: `trellis apply FILE --digest SHA256`".into(),
        ));
    }
    let verb = if operation == Operation::Destroy { "destroy" } else { "apply" };
    let operation = match (operation, args.refresh_only) {
        (Operation::Destroy, true) => {
            return Err(trellis_ops::Error::Usage("destroy takes no --refresh-only: use apply --refresh-only".into()))
        }
        (_, true) => Operation::RefreshOnly,
        (op, false) => op,
    };
    let mut session = super::open(&args.spec, &args.cloud, verb, ui).await?;
    let policy = if args.adopt_orphans { Orphans::AdoptAll } else { Orphans::Journaled };
    let planned = session.plan(operation, &args.targets, &args.replace, policy).await?;
    super::note_planned(ui, &planned);
    let plan = planned.plan;
    ui.plan(&plan);
    let work = trellis_ops::work(&plan, session.prior.as_ref());
    if !work.apply {
        print_outputs(ui, &session.prior.as_ref().map(|s| s.outputs.clone()).unwrap_or_default());
        return Ok(EXIT_OK);
    }
    check_data_loss(&plan, args.allow_data_loss)?;
    trellis_ops::refuse_preflight(&plan)?;
    trellis_ops::refuse_findings(&plan, args.fail_on.or(session.spec.fail_on))?;
    // With nothing to change in the cloud, only the state is brought up to date.
    // A refresh-only apply changes only the state, but what it records is reviewed.
    if work.ask && !args.auto_approve && !approved(ui, operation)? {
        ui.line("Nothing was changed.");
        return Ok(EXIT_ERROR);
    }
    ui.line("");
    execute(session.aws.clone(), &plan, &*session.store, &session.lock, session.state(), (&args).into(), ui).await
}

/// Carries out a saved plan once [`SavedRun::open`] has found it current.
async fn apply_saved(text: &str, args: ApplyArgs, ui: &Ui) -> Result<i32> {
    let run = SavedRun::open(
        text,
        &args.spec.spec,
        &(&args.cloud.store).into(),
        args.cloud.lock_timeout,
        args.cloud.delete_timeout,
        args.digest.as_deref(),
        Some(super::progress_lines(ui)),
    )
    .await?;
    let plan = &run.saved.plan;
    ui.plan(plan);
    // The state as the file's plan read it (its serial is the one checked above).
    if !trellis_ops::work(plan, Some(&run.state)).apply {
        return Ok(EXIT_OK);
    }
    ui.line("");
    check_data_loss(plan, args.allow_data_loss)?;
    trellis_ops::refuse_preflight(plan)?;
    trellis_ops::refuse_findings(plan, args.fail_on.or(run.fail_on))?;
    execute(run.aws.clone(), plan, &*run.store, &run.lock, run.state.clone(), (&args).into(), ui).await
}

fn approved(ui: &Ui, operation: Operation) -> Result<bool> {
    let (what, question) = match operation {
        Operation::Destroy => ("destroy", "Do you want to destroy these objects?"),
        Operation::Apply => ("apply", "Do you want to perform these actions?"),
        Operation::RefreshOnly => {
            ("apply --refresh-only", "Do you want to record these changes in the state? Nothing in the cloud changes.")
        }
    };
    super::confirm(
        ui,
        question,
        &format!("{what} needs approval: run it in a terminal and answer `yes`, or pass --auto-approve"),
    )
}

/// Runs a plan through the engine with Ctrl-C handling, and summarises the outcome.
/// The first interrupt stops new operations and lets the ones in flight finish and be
/// recorded; a second one abandons them.
async fn execute(
    aws: Arc<Aws>,
    plan: &Plan,
    store: &dyn StateStore,
    lock: &StateLock,
    state: State,
    options: ApplyOptions,
    ui: &Ui,
) -> Result<i32> {
    let (tx, rx) = tokio::sync::watch::channel(false);
    let watcher = tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            let _ = tx.send(true);
            if tokio::signal::ctrl_c().await.is_ok() {
                eprintln!(
                    "\nSecond interrupt: abandoning the operations in flight. They stay in the state's journal: \
                     the next plan adopts what they created."
                );
                std::process::exit(EXIT_INTERRUPTED);
            }
        }
    });
    let options = ApplyOptions { interrupt: Some(rx), ..options };
    let total = trellis_engine::operation_graph(plan).map(|g| g.node_count()).unwrap_or(0);
    let progress = Progress::new(total as u64, std::io::stdout().is_terminal());
    let ticker = progress.watch(Progress::interval());
    let on_event = |e: Event| {
        progress.event(&e);
        progress.line(&event_line(ui, e));
    };
    let result = trellis_ops::execute(aws.clone(), plan, store, lock, state, options, on_event).await;
    ticker.abort();
    progress.finish();
    watcher.abort();
    // What AWS made trellis retry, in one line (tests and reliability runs read it).
    if let Some(line) = aws.retry_stats().summary() {
        eprintln!("{line}");
    }
    let report = result?;
    Ok(summarize(ui, &report, store, plan.operation))
}
/// The line an engine event is told in.
fn event_line(ui: &Ui, e: Event) -> String {
    let verb = |k: OpKind| match k {
        OpKind::Create => ("Creating", "Created"),
        OpKind::Update => ("Updating", "Updated"),
        OpKind::Delete => ("Destroying", "Destroyed"),
        OpKind::Retag => ("Rewriting its trellis tags", "Retagged"),
        OpKind::Forget => ("Forgetting (removing its trellis tags)", "Forgotten"),
    };
    match e {
        Event::Started(op) => format!("{}: {}...", op.address.shown(), verb(op.kind).0),
        Event::Finished { op, id, elapsed } => {
            let id = id.map(|i| format!(" [id={i}]")).unwrap_or_default();
            format!("{}: {} after {:.1}s{id}", op.address.shown(), verb(op.kind).1, elapsed.as_secs_f64())
        }
        Event::Failed { op, error } => {
            format!(
                "{}: {} {}",
                op.address.shown(),
                ui.paint("31", &format!("{} failed:", op.kind)),
                super::aws_error(&error)
            )
        }
        Event::Skipped { op, because } => {
            format!("{}: {} skipped, because {because} failed", op.address.shown(), op.kind)
        }
        Event::Interrupted { in_flight } => format!(
            "\nInterrupted: waiting for {in_flight} operation{} in flight to finish; nothing new will start. \
             Press Ctrl-C again to abandon {}.",
            if in_flight == 1 { "" } else { "s" },
            if in_flight == 1 { "it" } else { "them" }
        ),
    }
}

fn summarize(ui: &Ui, report: &Report, store: &dyn StateStore, operation: Operation) -> i32 {
    let mut counts = format!("{} added, {} changed, {} destroyed", report.created, report.updated, report.deleted);
    if report.forgotten > 0 {
        counts.push_str(&format!(", {} forgotten", report.forgotten));
    }
    if report.retagged > 0 {
        counts.push_str(&format!(", {} retagged", report.retagged));
    }
    ui.line("");
    if report.ok() {
        match operation {
            Operation::RefreshOnly => ui.line(&format!(
                "{} The state records the objects as they are live; nothing in the cloud was changed.",
                ui.paint("1;32", "Refresh complete!")
            )),
            Operation::Destroy => ui.line(&format!("{} Resources: {counts}.", ui.paint("1;32", "Destroy complete!"))),
            Operation::Apply => ui.line(&format!("{} Resources: {counts}.", ui.paint("1;32", "Apply complete!"))),
        }
        if operation != Operation::Destroy {
            print_outputs(ui, &report.outputs);
        }
        return EXIT_OK;
    }
    let (title, code, next) = if report.interrupted {
        ("Apply interrupted:", EXIT_INTERRUPTED, "run apply again to continue")
    } else {
        ("Apply failed:", EXIT_ERROR, "fix the cause and run again to finish")
    };
    ui.line(&format!(
        "{} {} failed, {} skipped, {} not started; {counts}.",
        ui.paint("1;31", title),
        report.failures.len(),
        report.skipped.len(),
        report.not_started.len()
    ));
    for f in &report.failures {
        ui.line(&format!("  {} {}: {}", f.op.kind, f.op.address.shown(), super::aws_error(&f.error)));
    }
    for s in &report.skipped {
        ui.line(&format!("  {} {}: skipped", s.kind, s.address));
    }
    for s in &report.not_started {
        ui.line(&format!("  {} {}: not started", s.kind, s.address));
    }
    ui.line(&format!("Everything that finished is recorded in {}; {next}.", store.location()));
    code
}

fn print_outputs(ui: &Ui, outputs: &BTreeMap<String, Value>) {
    if outputs.is_empty() {
        return;
    }
    ui.line("\nOutputs:\n");
    let width = trellis_plan::column_width(outputs.keys().map(String::len));
    for (k, v) in outputs {
        ui.line(&format!("{k:width$} = {v}"));
    }
}
