use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use trellis_aws::{connect, Aws, AwsOptions, S3Options, S3Store};
use trellis_core::schema::Kind;
use trellis_core::{Address, Provider, ProviderError, RefreshRequest, Value};
use trellis_engine::{ApplyOptions, Event, OpKind, Report};
use trellis_plan::{
    adopt, plan, render, render_markdown, spec_digest, to_json, Action, Adoption, Operation, Plan, PlanInput,
    RenderOptions, SavedPlan, SpecSource, SAVED_PLAN_FORMAT,
};
use trellis_spec::{Diagnostics, LoadError, LoadOptions, S3Backend, Spec};
use trellis_state::{parse_state, write_private, LocalStore, State, StateError, StateLock, StateStore};

use crate::output::Ui;
use crate::{
    vars, ApplyArgs, BackendArgs, CloudArgs, Command, Format, GraphArgs, GraphFormat, OutputArgs, PlanArgs, ShowArgs,
    SpecArgs, StateCommand, StateFileArgs, EXIT_CHANGES, EXIT_ERROR, EXIT_INTERRUPTED, EXIT_OK,
};

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("{0}")]
    Spec(Diagnostics),
    #[error("{0}")]
    Read(String),
    #[error("{0}")]
    State(#[from] StateError),
    #[error("{0}")]
    Aws(String),
    #[error("{0}")]
    Plan(#[from] trellis_plan::PlanError),
    #[error("{0}")]
    Engine(#[from] trellis_engine::EngineError),
    #[error("{0}")]
    Usage(String),
}

type Result<T> = std::result::Result<T, CliError>;

pub fn run(command: Command, ui: &Ui) -> Result<i32> {
    match command {
        Command::Validate(args) => validate(&args, ui),
        Command::Graph(args) => runtime()?.block_on(graph(args, ui)),
        Command::Plan(args) => runtime()?.block_on(plan_cmd(args, ui)),
        Command::Apply(args) => match saved_plan_text(&args.spec.spec) {
            Some(text) => runtime()?.block_on(apply_saved(&text, args, ui)),
            None => runtime()?.block_on(apply_cmd(args, ui, Operation::Apply)),
        },
        Command::Show(args) => show(&args, ui),
        Command::Destroy(args) => runtime()?.block_on(apply_cmd(args, ui, Operation::Destroy)),
        Command::Import { spec, address, id, cloud } => runtime()?.block_on(import(&spec, &address, &id, &cloud, ui)),
        Command::State(StateCommand::List(file)) => state_list(&file, ui),
        Command::State(StateCommand::Show { address, file }) => state_show(&address, &file, ui),
        Command::State(StateCommand::Adopt { spec, cloud }) => runtime()?.block_on(state_adopt(&spec, &cloud, ui)),
        Command::State(StateCommand::Pull { spec, cloud, out }) => state_pull(&spec, &cloud, out.as_deref(), ui),
        Command::State(StateCommand::Push { spec, file, cloud, force }) => state_push(&spec, &file, &cloud, force, ui),
        Command::ForceUnlock { spec, lock_id, cloud, yes } => force_unlock(&spec, &lock_id, &cloud, yes, ui),
        Command::Output(args) => output(&args, ui),
    }
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Usage(format!("cannot start the async runtime: {e}")))
}

fn load_spec(args: &SpecArgs) -> Result<Spec> {
    let opts = LoadOptions { vars: vars(args), ..LoadOptions::default() };
    trellis_spec::load(&args.spec, &opts).map_err(|e| match e {
        LoadError::Invalid(d) => CliError::Spec(d),
        LoadError::Read { .. } => CliError::Read(e.to_string()),
    })
}

fn validate(args: &SpecArgs, ui: &Ui) -> Result<i32> {
    let spec = load_spec(args)?;
    ui.line(&format!(
        "{} is valid: stack `{}`, {} resource{}.",
        args.spec.display(),
        spec.stack,
        spec.resources.len(),
        if spec.resources.len() == 1 { "" } else { "s" }
    ));
    Ok(EXIT_OK)
}

async fn graph(args: GraphArgs, ui: &Ui) -> Result<i32> {
    let (spec, actions) = if args.plan {
        let session = open(&args.spec, &args.cloud, "plan", ui).await?;
        let plan = make_plan(&session, Operation::Apply, &[], Orphans::Journaled, ui).await?;
        let actions: BTreeMap<Address, Action> = plan.changes.iter().map(|c| (c.address.clone(), c.action)).collect();
        (session.spec, actions)
    } else {
        (load_spec(&args.spec)?, BTreeMap::new())
    };
    let class = |a: &Address| {
        actions.get(a).map(|action| match action {
            Action::Create => "create",
            Action::Update => "update",
            Action::DeleteThenCreate | Action::CreateThenDelete => "replace",
            Action::Delete => "delete",
            Action::NoOp => "noop",
        })
    };
    let graph = spec.graph();
    match args.format {
        GraphFormat::Mermaid => ui.out(&graph.to_mermaid(class)),
        GraphFormat::Dot => ui.out(&graph.to_dot(&spec.stack, |a| {
            let fill = match class(a)? {
                "create" => "#d7f5d7",
                "update" => "#fff3bf",
                "replace" => "#ffd8a8",
                "delete" => "#ffc9c9",
                _ => "#f1f3f5",
            };
            Some(format!("style=filled, fillcolor=\"{fill}\""))
        })),
    }
    Ok(EXIT_OK)
}

fn state_path(explicit: Option<&Path>, stack: &str) -> PathBuf {
    explicit.map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from("state").join(format!("{stack}.json")))
}

/// `s3://BUCKET/KEY` split in two.
fn parse_s3_url(url: &str) -> Option<(String, String)> {
    let (bucket, key) = url.strip_prefix("s3://")?.split_once('/')?;
    (!bucket.is_empty() && !key.is_empty() && !key.ends_with('/')).then(|| (bucket.to_string(), key.to_string()))
}

/// Where a command keeps the stack's state, first match wins: `--state PATH`,
/// `--backend`, the spec's `backend:` (`from_spec`), then `default_local`.
fn store_for(
    stack_region: Option<&String>,
    from_spec: Option<&S3Backend>,
    default_local: PathBuf,
    args: &BackendArgs,
) -> Result<Box<dyn StateStore>> {
    if let Some(path) = &args.state {
        return Ok(Box::new(LocalStore::new(path)));
    }
    let s3 = match args.backend.as_deref() {
        Some("local") => None,
        Some(url) => {
            let Some((bucket, key)) = parse_s3_url(url) else {
                return Err(CliError::Usage(format!("--backend `{url}`: give `s3://BUCKET/KEY` or `local`")));
            };
            let region = args.backend_region.clone().or_else(|| stack_region.cloned());
            Some(S3Backend { bucket, key, region, lock_lease: from_spec.and_then(|b| b.lock_lease) })
        }
        None => from_spec.cloned().map(|b| S3Backend {
            region: args.backend_region.clone().or(b.region).or_else(|| stack_region.cloned()),
            ..b
        }),
    };
    match s3 {
        None => Ok(Box::new(LocalStore::new(default_local))),
        Some(b) => Ok(Box::new(S3Store::connect(S3Options {
            bucket: b.bucket,
            key: b.key,
            region: b.region,
            endpoint_url: args.endpoint_url.clone(),
            lock_lease: args.lock_lease.or(b.lock_lease),
            rescue_dir: None,
        })?)),
    }
}

/// The spec's state store.
fn open_store(spec: &Spec, args: &BackendArgs) -> Result<Box<dyn StateStore>> {
    store_for(spec.region.as_ref(), spec.backend.as_ref(), state_path(None, &spec.stack), args)
}

/// Refuses to start a remote state from nothing while the local file has one: the
/// first plan would otherwise create every object again.
fn check_not_left_behind(spec: &Spec, store: &dyn StateStore, prior: Option<&State>, args: &BackendArgs) -> Result<()> {
    let local = state_path(None, &spec.stack);
    let remote = store.region().is_some(); // only a remote store has a region
    if prior.is_none() && remote && args.backend.is_none() && local.exists() {
        return Err(CliError::Usage(format!(
            "the spec keeps its state in {}, which has none yet, but {} holds this stack's state; move it there first \
             with `trellis state push SPEC {}` (or use --backend local to keep working from the file)",
            store.location(),
            local.display(),
            local.display()
        )));
    }
    Ok(())
}

/// The spec, its state store held under lock, the prior state and a connected provider.
struct Session {
    spec: Spec,
    store: Box<dyn StateStore>,
    lock: StateLock,
    prior: Option<State>,
    aws: Arc<Aws>,
}

fn timeouts(cloud: &CloudArgs) -> trellis_aws::Timeouts {
    trellis_aws::Timeouts { delete: cloud.delete_timeout, ..trellis_aws::Timeouts::default() }
}

async fn open(spec_args: &SpecArgs, cloud: &CloudArgs, operation: &str, ui: &Ui) -> Result<Session> {
    let spec = load_spec(spec_args)?;
    let store = open_store(&spec, &cloud.store)?;
    let lock = store.lock_waiting(operation, cloud.lock_timeout)?;
    let prior = store.read(&spec.stack)?;
    check_not_left_behind(&spec, &*store, prior.as_ref(), &cloud.store)?;
    let color = ui.color_err;
    let progress: trellis_aws::Progress = Arc::new(move |line: &str| {
        let mut e = std::io::stderr().lock();
        let _ = if color { writeln!(e, "\x1b[2m  … {line}\x1b[0m") } else { writeln!(e, "  … {line}") };
    });
    let aws = connect(AwsOptions {
        region: spec.region.clone(),
        endpoint_url: cloud.store.endpoint_url.clone(),
        progress: Some(progress),
        timeouts: timeouts(cloud),
        ..AwsOptions::default()
    })
    .await
    .map_err(|e| CliError::Aws(e.to_string()))?;
    Ok(Session { spec, store, lock, prior, aws: Arc::new(aws) })
}

/// Which orphans a plan takes into the state first.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Orphans {
    /// Only those a killed run's journal names (always done).
    Journaled,
    /// All of them (`apply --adopt-orphans`).
    AdoptAll,
}

async fn make_plan(
    s: &Session,
    operation: Operation,
    targets: &[String],
    orphan_policy: Orphans,
    ui: &Ui,
) -> Result<Plan> {
    let targets = parse_targets(s, targets)?;
    let refreshed = refresh(s, ui).await?;
    if operation == Operation::Apply {
        let missing: Vec<String> = s
            .spec
            .secret_sources()
            .into_iter()
            .filter(|(_, _, var)| std::env::var_os(var).is_none())
            .map(|(address, attr, var)| format!("{var} (read by the sensitive `{address}.{attr}`)"))
            .collect();
        if !missing.is_empty() {
            return Err(CliError::Usage(format!(
                "environment variables not set: {}\nhelp: export them before running trellis; their values never go into the plan or the state",
                missing.join(", ")
            )));
        }
    }
    // A run killed between a create call and its state write left the create in the
    // journal: the object it made carries its address tag and is adopted, not made twice.
    let mut prior = s.prior.clone();
    let mut live = refreshed.found;
    let mut orphans = refreshed.orphans;
    if orphan_policy == Orphans::AdoptAll && !orphans.is_empty() {
        prior.get_or_insert_with(|| State::new(&s.spec.stack));
    }
    if let Some(state) = prior.as_mut().filter(|st| !st.pending.is_empty() || orphan_policy == Orphans::AdoptAll) {
        let pending: BTreeSet<Address> = state.pending_creates().cloned().collect();
        let only = (orphan_policy == Orphans::Journaled).then_some(&pending);
        let adoption = adopt(&s.spec, state, orphans, only);
        let why = if only.is_some() { "journal of an interrupted run" } else { "--adopt-orphans" };
        for line in adoption_lines(&adoption, "adopted") {
            ui.note(&format!("{why}: {line}"));
        }
        for o in adoption.adopted {
            live.insert(o.address.clone(), o);
        }
        orphans = adoption.left;
    }
    Ok(plan(PlanInput {
        spec: &s.spec,
        prior: prior.as_ref(),
        live: &live,
        orphans: &orphans,
        operation,
        targets: &targets,
        env: &|name| std::env::var(name).ok(),
    })?)
}

/// Reads the live stack: every kind the spec or the state names, tag-filtered, plus the
/// state's objects by id.
async fn refresh(s: &Session, ui: &Ui) -> Result<trellis_core::RefreshResult> {
    let mut kinds: BTreeMap<&'static str, &'static Kind> =
        s.spec.resources.values().map(|r| (r.kind.name, r.kind)).collect();
    let known: Vec<(Address, String)> =
        s.prior.iter().flat_map(|st| st.resources.iter().map(|r| (r.address.clone(), r.id.clone()))).collect();
    for (a, _) in &known {
        kinds.insert(a.kind.name, a.kind);
    }
    let refreshed = s
        .aws
        .refresh(RefreshRequest {
            stack: s.spec.stack.clone(),
            kinds: kinds.into_values().collect(),
            known,
            by_id_only: false,
        })
        .await
        .map_err(|e| CliError::Aws(format!("reading the live stack failed: AWS {e}")))?;
    ui.note(&format!(
        "Read {} live object{} in {} API call{} (region {}).",
        refreshed.found.len(),
        if refreshed.found.len() == 1 { "" } else { "s" },
        refreshed.calls,
        if refreshed.calls == 1 { "" } else { "s" },
        s.aws.region()
    ));
    Ok(refreshed)
}

/// `--target` addresses, each of which must be in the spec or the state.
fn parse_targets(s: &Session, targets: &[String]) -> Result<Vec<Address>> {
    let mut known: BTreeSet<String> = s.spec.resources.keys().map(ToString::to_string).collect();
    known.extend(s.prior.iter().flat_map(|st| st.resources.iter().map(|r| r.address.to_string())));
    targets
        .iter()
        .map(|t| {
            if !known.contains(t) {
                let hint = trellis_spec::did_you_mean(t, known.iter().map(String::as_str))
                    .map(|m| format!(" (did you mean `{m}`?)"))
                    .unwrap_or_default();
                return Err(CliError::Usage(format!("--target {t}: no such resource in the spec or the state{hint}")));
            }
            t.parse().map_err(|e: trellis_core::AddressError| CliError::Usage(e.to_string()))
        })
        .collect()
}

async fn plan_cmd(args: PlanArgs, ui: &Ui) -> Result<i32> {
    let session = open(&args.spec, &args.cloud, "plan", ui).await?;
    let op = if args.destroy { Operation::Destroy } else { Operation::Apply };
    let plan = make_plan(&session, op, &args.targets, Orphans::Journaled, ui).await?;
    match if args.json { Format::Json } else { args.format } {
        Format::Json => ui.line(&serde_json::to_string_pretty(&to_json(&plan)).expect("plan JSON serializes")),
        Format::Markdown => ui.out(&render_markdown(&plan)),
        Format::Text => ui.out(&render(&plan, RenderOptions { color: ui.color_out })),
    }
    if let Some(out) = &args.out {
        let saved = SavedPlan {
            trellis_saved_plan: SAVED_PLAN_FORMAT,
            spec: SpecSource {
                path: args.spec.spec.display().to_string(),
                sha256: spec_digest(&session.spec.file.text, &vars(&args.spec)),
                vars: vars(&args.spec),
            },
            region: session.spec.region.clone(),
            state_path: session.store.location(),
            state_region: session.store.region(),
            plan: plan.clone(),
        };
        std::fs::write(out, saved.to_json())
            .map_err(|e| CliError::Read(format!("cannot write {}: {e}", out.display())))?;
        ui.note(&format!(
            "Saved the plan to {}. `trellis apply {}` carries out exactly this plan.",
            out.display(),
            out.display()
        ));
    }
    Ok(if args.detailed_exitcode && !plan.is_empty() { EXIT_CHANGES } else { EXIT_OK })
}

fn approved(ui: &Ui, operation: Operation) -> Result<bool> {
    let (what, question) = match operation {
        Operation::Destroy => ("destroy", "Do you want to destroy these objects?"),
        Operation::Apply => ("apply", "Do you want to perform these actions?"),
    };
    confirm(
        ui,
        question,
        &format!("{what} needs approval: run it in a terminal and answer `yes`, or pass --auto-approve"),
    )
}

/// Asks `question` on the terminal; only `yes` agrees. Without a terminal, fails with `refusal`.
fn confirm(ui: &Ui, question: &str, refusal: &str) -> Result<bool> {
    if !std::io::stdin().is_terminal() {
        return Err(CliError::Usage(refusal.to_string()));
    }
    ui.out(&format!("\n{question} Only `yes` is accepted: "));
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer).map_err(|e| CliError::Usage(e.to_string()))?;
    Ok(answer.trim() == "yes")
}

async fn apply_cmd(args: ApplyArgs, ui: &Ui, operation: Operation) -> Result<i32> {
    let session =
        open(&args.spec, &args.cloud, if operation == Operation::Destroy { "destroy" } else { "apply" }, ui).await?;
    let policy = if args.adopt_orphans { Orphans::AdoptAll } else { Orphans::Journaled };
    let plan = make_plan(&session, operation, &args.targets, policy, ui).await?;
    ui.out(&render(&plan, RenderOptions { color: ui.color_out }));
    let prior_outputs = session.prior.as_ref().map(|s| s.outputs.clone()).unwrap_or_default();
    // Objects adopted for this plan (from the journal, or --adopt-orphans) and a
    // journal to clear are news for the state even when the cloud needs no change.
    let on_disk = session.prior.as_ref().map(|s| (s.resources.as_slice(), !s.pending.is_empty()));
    let state_news = on_disk.is_some_and(|(r, pending)| pending || r != plan.prior_state.resources.as_slice())
        || (on_disk.is_none() && !plan.prior_state.resources.is_empty());
    if plan.is_empty() && !plan.state_moved(&prior_outputs) && !state_news {
        print_outputs(ui, &prior_outputs);
        return Ok(EXIT_OK);
    }
    data_loss_allowed(&plan, args.allow_data_loss)?;
    // With nothing to change in the cloud, only the state is brought up to date.
    if !plan.is_empty() && !args.auto_approve && !approved(ui, operation)? {
        ui.line("Nothing was changed.");
        return Ok(EXIT_ERROR);
    }
    ui.line("");
    let state = session.prior.clone().unwrap_or_else(|| State::new(&session.spec.stack));
    execute(session.aws.clone(), &plan, &*session.store, &session.lock, state, (&args).into(), ui).await
}

/// `trellis import SPEC ADDR ID`: reads the object by id and records it at ADDR.
async fn import(spec: &SpecArgs, address: &str, id: &str, cloud: &CloudArgs, ui: &Ui) -> Result<i32> {
    let s = open(spec, cloud, "import", ui).await?;
    let declared = s.spec.resources.keys().map(ToString::to_string);
    let Some(resource) = address.parse().ok().and_then(|a: Address| s.spec.resources.get(&a)) else {
        let hint = trellis_spec::did_you_mean(address, declared.collect::<Vec<_>>().iter().map(String::as_str))
            .map(|m| format!(" (did you mean `{m}`?)"))
            .unwrap_or_default();
        return Err(CliError::Usage(format!("import: the spec declares no `{address}`{hint}")));
    };
    let address = resource.address.clone();
    let mut state = s.prior.clone().unwrap_or_else(|| State::new(&s.spec.stack));
    if let Some(known) = state.get(&address) {
        return Err(CliError::Usage(format!(
            "import: the state already has `{address}` as {}; a second object cannot share its address",
            known.id
        )));
    }
    let read = s
        .aws
        .refresh(RefreshRequest {
            stack: s.spec.stack.clone(),
            kinds: vec![resource.kind],
            known: vec![(address.clone(), id.to_string())],
            by_id_only: true,
        })
        .await
        .map_err(|e| CliError::Aws(format!("reading {id} failed: AWS {e}")))?;
    let Some(object) = read.found.get(&address).cloned() else {
        return Err(CliError::Usage(format!("import: no {} with id `{id}` was found", resource.kind.name)));
    };
    let adoption = adopt(&s.spec, &mut state, vec![object], None);
    s.store.write(&s.lock, &mut state)?;
    for line in adoption_lines(&adoption, "imported") {
        ui.line(&line);
    }
    ui.line("`trellis plan` shows how it compares with the spec.");
    Ok(EXIT_OK)
}

/// The lines that tell what an adoption did, `verb` (adopted, imported) for each object taken.
fn adoption_lines(adoption: &Adoption, verb: &str) -> Vec<String> {
    let taken = adoption.adopted.iter().map(|o| format!("{verb} {} ({})", o.address, o.id));
    let refused =
        adoption.refused.iter().map(|r| format!("left alone: {} ({}): {}", r.address, r.ids.join(", "), r.why));
    taken.chain(refused).collect()
}

/// Refuses, before anything is asked or called, a plan that destroys protected data
/// without `--allow-data-loss`.
fn data_loss_allowed(plan: &Plan, allow: bool) -> Result<()> {
    let refused = plan.protected_data_loss();
    if refused.is_empty() || allow {
        return Ok(());
    }
    let names: Vec<String> = refused.iter().map(|c| c.address.to_string()).collect();
    Err(CliError::Usage(format!(
        "refusing to apply: it would destroy the data of {} (protected). Nothing was changed.\nhelp: if the data may go, run again with --allow-data-loss (final snapshots are still taken), or set `protect: false` on the database in the spec",
        names.join(", ")
    )))
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
    let result = trellis_engine::apply(aws.clone(), plan, store, lock, state, options, |e| print_event(ui, e)).await;
    watcher.abort();
    // What AWS made trellis retry, in one line (tests and reliability runs read it).
    if let Some(line) = aws.retry_stats().summary() {
        eprintln!("{line}");
    }
    let (report, _) = result?;
    Ok(summarize(ui, &report, store, plan.operation))
}

fn print_event(ui: &Ui, e: Event) {
    let verb = |k: OpKind| match k {
        OpKind::Create => ("Creating", "Created"),
        OpKind::Update => ("Updating", "Updated"),
        OpKind::Delete => ("Destroying", "Destroyed"),
    };
    match e {
        Event::Started(op) => ui.line(&format!("{}: {}...", op.address, verb(op.kind).0)),
        Event::Finished { op, id, elapsed } => {
            let id = id.map(|i| format!(" [id={i}]")).unwrap_or_default();
            ui.line(&format!("{}: {} after {:.1}s{id}", op.address, verb(op.kind).1, elapsed.as_secs_f64()));
        }
        Event::Failed { op, error } => ui.line(&format!(
            "{}: {} {}",
            op.address,
            ui.paint("31", &format!("{} failed:", op.kind)),
            aws_error(&error)
        )),
        Event::Skipped { op, because } => {
            ui.line(&format!("{}: {} skipped, because {because} failed", op.address, op.kind))
        }
        Event::Interrupted { in_flight } => ui.line(&format!(
            "\nInterrupted: waiting for {in_flight} operation{} in flight to finish; nothing new will start. \
             Press Ctrl-C again to abandon {}.",
            if in_flight == 1 { "" } else { "s" },
            if in_flight == 1 { "it" } else { "them" }
        )),
    }
}

fn aws_error(e: &ProviderError) -> String {
    match &e.code {
        Some(code) => format!("AWS {code}: {}", e.message),
        None => e.message.clone(),
    }
}

fn summarize(ui: &Ui, report: &Report, store: &dyn StateStore, operation: Operation) -> i32 {
    let counts = format!("{} added, {} changed, {} destroyed", report.created, report.updated, report.deleted);
    ui.line("");
    if report.ok() {
        let what = if operation == Operation::Destroy { "Destroy complete!" } else { "Apply complete!" };
        ui.line(&format!("{} Resources: {counts}.", ui.paint("1;32", what)));
        if operation == Operation::Apply {
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
        ui.line(&format!("  {} {}: {}", f.op.kind, f.op.address, aws_error(&f.error)));
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

fn print_outputs(ui: &Ui, outputs: &std::collections::BTreeMap<String, Value>) {
    if outputs.is_empty() {
        return;
    }
    ui.line("\nOutputs:\n");
    let width = outputs.keys().map(String::len).max().unwrap_or(0);
    for (k, v) in outputs {
        ui.line(&format!("{k:width$} = {v}"));
    }
}

/// The state for `state` and `output` commands: the spec's (from its backend, or
/// `state/<stack>.json`), or the file --state names.
fn read_state(file: &StateFileArgs) -> Result<State> {
    match (&file.spec, &file.store.state) {
        (Some(spec), _) => {
            let spec = load_spec(&SpecArgs { spec: spec.clone(), vars: vec![] })?;
            let store = open_store(&spec, &file.store)?;
            store.read(&spec.stack)?.ok_or_else(|| CliError::Read(format!("{}: no state yet", store.location())))
        }
        (None, Some(path)) => {
            let text = std::fs::read_to_string(path).map_err(|e| CliError::Read(format!("{}: {e}", path.display())))?;
            serde_json::from_str(&text)
                .map_err(|e| CliError::Read(format!("{} is not a trellis state: {e}", path.display())))
        }
        (None, None) => Err(CliError::Usage(
            "say which state: --spec SPEC (its backend, or state/<stack>.json) or --state PATH".into(),
        )),
    }
}

fn state_list(file: &StateFileArgs, ui: &Ui) -> Result<i32> {
    let state = read_state(file)?;
    let width = state.resources.iter().map(|r| r.address.to_string().len()).max().unwrap_or(0);
    for r in &state.resources {
        ui.line(&format!("{:width$}  {}", r.address.to_string(), r.id));
    }
    Ok(EXIT_OK)
}

fn state_show(address: &str, file: &StateFileArgs, ui: &Ui) -> Result<i32> {
    let state = read_state(file)?;
    let addr: Address = address.parse().map_err(|e: trellis_core::AddressError| CliError::Usage(e.to_string()))?;
    let Some(r) = state.get(&addr) else {
        let known: Vec<String> = state.resources.iter().map(|r| r.address.to_string()).collect();
        let hint = trellis_spec::did_you_mean(address, known.iter().map(String::as_str))
            .map(|s| format!(" (did you mean `{s}`?)"))
            .unwrap_or_default();
        return Err(CliError::Usage(format!("`{address}` is not in the state{hint}")));
    };
    ui.line(&format!("# {} ({})", r.address, r.id));
    let width = r.attributes.keys().map(String::len).max().unwrap_or(0);
    for (k, v) in &r.attributes {
        ui.line(&format!("{k:width$} = {v}"));
    }
    if !r.dependencies.is_empty() {
        let deps: Vec<String> = r.dependencies.iter().map(ToString::to_string).collect();
        ui.line(&format!("# depends on: {}", deps.join(", ")));
    }
    Ok(EXIT_OK)
}

fn output(args: &OutputArgs, ui: &Ui) -> Result<i32> {
    let state = read_state(&args.file)?;
    let selected: std::collections::BTreeMap<String, Value> = match &args.name {
        Some(name) => match state.outputs.get(name) {
            Some(v) => [(name.clone(), v.clone())].into_iter().collect(),
            None => {
                let hint = trellis_spec::did_you_mean(name, state.outputs.keys().map(String::as_str))
                    .map(|s| format!(" (did you mean `{s}`?)"))
                    .unwrap_or_default();
                return Err(CliError::Usage(format!("no output `{name}` in the state{hint}")));
            }
        },
        None => state.outputs.clone(),
    };
    if args.json {
        let j: serde_json::Map<String, serde_json::Value> =
            selected.iter().map(|(k, v)| (k.clone(), v.to_json())).collect();
        ui.line(&serde_json::to_string_pretty(&j).expect("outputs serialize"));
    } else if let (Some(_), Some(Value::Str(s))) = (&args.name, selected.values().next()) {
        ui.line(s); // a single string prints bare, for shell use
    } else {
        let width = selected.keys().map(String::len).max().unwrap_or(0);
        for (k, v) in &selected {
            ui.line(&format!("{k:width$} = {v}"));
        }
    }
    Ok(EXIT_OK)
}

/// The file's text when it is a saved plan rather than a spec.
fn saved_plan_text(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    SavedPlan::sniff(&text).then_some(text)
}

fn load_saved(text: &str, path: &Path) -> Result<SavedPlan> {
    SavedPlan::from_json(text).map_err(|e| CliError::Read(format!("{}: {e}", path.display())))
}

fn show(args: &ShowArgs, ui: &Ui) -> Result<i32> {
    let text =
        std::fs::read_to_string(&args.file).map_err(|e| CliError::Read(format!("{}: {e}", args.file.display())))?;
    let saved = load_saved(&text, &args.file)?;
    if args.json {
        ui.line(&serde_json::to_string_pretty(&to_json(&saved.plan)).expect("plan JSON serializes"));
    } else {
        ui.out(&render(&saved.plan, RenderOptions { color: ui.color_out }));
    }
    Ok(EXIT_OK)
}

/// Carries out a saved plan, after checking that nothing it was based on has moved:
/// the state (lineage and serial), the spec (digest) and the objects it changes (re-read).
async fn apply_saved(text: &str, args: ApplyArgs, ui: &Ui) -> Result<i32> {
    let file = &args.spec.spec;
    let saved = load_saved(text, file)?;
    let plan = &saved.plan;
    let spec_now = std::fs::read_to_string(&saved.spec.path).ok();
    let digest = spec_now.as_deref().map(|t| spec_digest(t, &saved.spec.vars));
    let saved_s3 = parse_s3_url(&saved.state_path).map(|(bucket, key)| S3Backend {
        bucket,
        key,
        region: saved.state_region.clone(),
        lock_lease: None,
    });
    let store =
        store_for(saved.region.as_ref(), saved_s3.as_ref(), PathBuf::from(&saved.state_path), &args.cloud.store)?;
    let lock = store.lock_waiting("apply", args.cloud.lock_timeout)?;
    let state = store.read(&plan.stack)?;
    let aws = connect(AwsOptions {
        region: saved.region.clone(),
        endpoint_url: args.cloud.store.endpoint_url.clone(),
        timeouts: timeouts(&args.cloud),
        ..AwsOptions::default()
    })
    .await
    .map_err(|e| CliError::Aws(e.to_string()))?;
    let touched = saved.touched();
    let kinds: BTreeMap<&'static str, &'static Kind> = touched.iter().map(|(a, _)| (a.kind.name, a.kind)).collect();
    let live = aws
        .refresh(RefreshRequest {
            stack: plan.stack.clone(),
            kinds: kinds.into_values().collect(),
            known: touched,
            by_id_only: true,
        })
        .await
        .map_err(|e| CliError::Aws(format!("re-reading the objects the plan changes failed: AWS {e}")))?;
    let why = saved.staleness(state.as_ref(), digest.as_deref(), &live.found);
    if !why.is_empty() {
        let list: Vec<String> = why.iter().map(|w| format!("  - {w}")).collect();
        return Err(CliError::Usage(format!(
            "the saved plan {} is stale and was not applied:\n{}\nMake a new plan.",
            file.display(),
            list.join("\n")
        )));
    }
    ui.out(&render(plan, RenderOptions { color: ui.color_out }));
    if plan.is_empty() {
        return Ok(EXIT_OK);
    }
    ui.line("");
    let state = state.unwrap_or_else(|| State::new(&plan.stack));
    data_loss_allowed(plan, args.allow_data_loss)?;
    execute(Arc::new(aws), plan, &*store, &lock, state, (&args).into(), ui).await
}

/// `trellis state adopt SPEC`: records the stack's tagged objects that no state knows.
async fn state_adopt(spec: &SpecArgs, cloud: &CloudArgs, ui: &Ui) -> Result<i32> {
    let s = open(spec, cloud, "adopt", ui).await?;
    let refreshed = refresh(&s, ui).await?;
    let mut state = s.prior.clone().unwrap_or_else(|| State::new(&s.spec.stack));
    let adoption = adopt(&s.spec, &mut state, refreshed.orphans, None);
    for line in adoption_lines(&adoption, "adopted") {
        ui.line(&line);
    }
    let adopted = adoption.adopted.len();
    if adopted > 0 {
        s.store.write(&s.lock, &mut state)?;
    }
    ui.line(&format!(
        "\nAdopted {adopted} object{}. `trellis plan` shows how they compare with the spec.",
        if adopted == 1 { "" } else { "s" }
    ));
    Ok(EXIT_OK)
}

/// `trellis state pull SPEC`: the stored state, as it is.
fn state_pull(spec: &SpecArgs, cloud: &CloudArgs, out: Option<&Path>, ui: &Ui) -> Result<i32> {
    let spec = load_spec(spec)?;
    let store = open_store(&spec, &cloud.store)?;
    let state =
        store.read(&spec.stack)?.ok_or_else(|| CliError::Read(format!("{}: no state yet", store.location())))?;
    let text = serde_json::to_string_pretty(&state).expect("state serializes") + "\n";
    match out {
        None => ui.out(&text),
        Some(path) => {
            write_private(path, &text)?;
            ui.note(&format!(
                "Saved {} (serial {}, lineage {}) to {}.",
                store.location(),
                state.serial,
                state.lineage,
                path.display()
            ));
        }
    }
    Ok(EXIT_OK)
}

/// `trellis state push SPEC FILE`: stores FILE as the stack's state, serial and lineage
/// unchanged, under the lock. It refuses to replace another history or a newer state
/// unless forced.
fn state_push(spec: &SpecArgs, file: &Path, cloud: &CloudArgs, force: bool, ui: &Ui) -> Result<i32> {
    let spec = load_spec(spec)?;
    let text = std::fs::read_to_string(file).map_err(|e| CliError::Read(format!("{}: {e}", file.display())))?;
    let state = parse_state(&text, &file.display().to_string(), &spec.stack)?;
    let store = open_store(&spec, &cloud.store)?;
    let lock = store.lock_waiting("push", cloud.lock_timeout)?;
    if let Some(current) = store.read(&spec.stack)?.filter(|_| !force) {
        let refuse = |why: String| {
            CliError::Usage(format!("{} was not replaced: {why}; --force replaces it anyway", store.location()))
        };
        if current.lineage != state.lineage {
            return Err(refuse(format!(
                "it holds lineage {}, {} has {}: they are histories of different states",
                current.lineage,
                file.display(),
                state.lineage
            )));
        }
        if current.serial > state.serial {
            return Err(refuse(format!(
                "it is newer (serial {}) than {} (serial {}); pull it first",
                current.serial,
                file.display(),
                state.serial
            )));
        }
        if current.serial == state.serial && current != state {
            return Err(refuse(format!("it has serial {} too, with different contents", state.serial)));
        }
    }
    store.put(&lock, &state)?;
    ui.line(&format!(
        "Pushed {} to {} (serial {}, lineage {}).",
        file.display(),
        store.location(),
        state.serial,
        state.lineage
    ));
    Ok(EXIT_OK)
}

/// `trellis force-unlock SPEC LOCK_ID`: shows the holder, asks, then breaks the lock.
fn force_unlock(spec: &SpecArgs, lock_id: &str, cloud: &CloudArgs, yes: bool, ui: &Ui) -> Result<i32> {
    let spec = load_spec(spec)?;
    let store = open_store(&spec, &cloud.store)?;
    let Some(holder) = store.holder()? else {
        return Err(StateError::NotLocked { path: store.location() }.into());
    };
    // Checked before asking (the store checks again when it deletes).
    if holder.id != lock_id {
        return Err(StateError::OtherLock {
            path: store.location(),
            holder: Box::new(holder),
            given: lock_id.to_string(),
        }
        .into());
    }
    ui.line(&format!("The state {} is locked by {holder}.", store.location()));
    match store.staleness(&holder) {
        Some(why) => ui.line(&format!("It looks stale: {why}.")),
        None => ui.line("Nothing shows that this run is over: break its lock only if you know it is."),
    }
    let refusal = "force-unlock needs approval: answer `yes` in a terminal, or pass --yes";
    if !yes && !confirm(ui, "Break this lock?", refusal)? {
        ui.line("The lock was left in place.");
        return Ok(EXIT_ERROR);
    }
    store.force_unlock(lock_id)?;
    ui.line(&format!(
        "Broke lock {lock_id}. Should its run still be going, its state stays safe: each of its writes is \
         conditional on the version it read, so once another run writes the state, its writes are refused and \
         kept in a rescue file."
    ));
    Ok(EXIT_OK)
}
