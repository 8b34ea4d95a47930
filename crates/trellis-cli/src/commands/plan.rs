//! `trellis plan SPEC`: what apply would change, as text, JSON or Markdown; saved with
//! `--out` for `apply FILE`.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::Args;
use trellis_ops::{save_plan, Orphans, Result};
use trellis_plan::{render_markdown, Operation, PlanJson};

use crate::ui::Ui;
use crate::{CloudArgs, SpecArgs, EXIT_CHANGES, EXIT_OK};

#[derive(Args, Debug)]
pub struct PlanArgs {
    #[command(flatten)]
    spec: SpecArgs,
    #[command(flatten)]
    cloud: CloudArgs,
    /// Print the plan as JSON (see docs/json-plan.md); the same as --format json.
    #[arg(long)]
    json: bool,
    /// How to print the plan: for a person, as JSON, or as Markdown for a pull request.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Plan only this resource and what it depends on (repeatable); the plan is partial.
    #[arg(long = "target", value_name = "ADDR")]
    targets: Vec<String>,
    /// Exit 0 when there is nothing to do, 2 when there are changes, 1 on error.
    #[arg(long)]
    detailed_exitcode: bool,
    /// Plan the destruction of everything in the state.
    #[arg(long, conflicts_with_all = ["refresh_only", "replace"])]
    destroy: bool,
    /// Replace this object although the spec did not change (repeatable; a repeated
    /// resource without a key: every copy). A database's data-loss rules apply.
    #[arg(long, value_name = "ADDR")]
    replace: Vec<String>,
    /// Only take what changed outside trellis into the state: nothing in the cloud
    /// changes (`apply --refresh-only` records it).
    #[arg(long, conflicts_with = "replace")]
    refresh_only: bool,
    /// Exit 1 when the plan holds a finding at or above this severity that no
    /// `waive:` accepts (low, medium, high, critical); default: the spec's `checks:`.
    #[arg(long, value_name = "SEVERITY")]
    fail_on: Option<trellis_core::schema::Severity>,
    /// Save the plan to FILE; `trellis apply FILE` then carries out exactly this plan.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Say on stderr where the time went: loading the spec and state, reading each
    /// kind, planning, printing; and the peak memory.
    #[arg(long)]
    timings: bool,
    /// Plan every stack of the directory given instead of a spec, in the order their
    /// `${stack.NAME.output...}` references give, independent ones at once; one summary.
    #[arg(long)]
    all: bool,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Text,
    Json,
    Markdown,
}

pub async fn run(args: PlanArgs, ui: &Ui) -> Result<i32> {
    if args.all {
        let per_stack = !args.targets.is_empty() || !args.replace.is_empty() || args.out.is_some() || args.destroy;
        if per_stack
            || !args.spec.vars.is_empty()
            || !args.spec.var_files.is_empty()
            || args.json
            || args.format != Format::Text
        {
            return Err(trellis_ops::Error::Usage(
                "--all plans each stack as it is: --target, --replace, --out, --destroy, --var, --var-file and JSON output are given per stack (each stack's *.auto.yaml is read)".into(),
            ));
        }
        let mut forwarded = vec!["--detailed-exitcode".to_string()];
        forwarded.extend(args.cloud.forwarded()?);
        if let Some(f) = args.fail_on {
            forwarded.extend(["--fail-on".to_string(), f.word().to_string()]);
        }
        let changes = if args.detailed_exitcode { 2 } else { crate::EXIT_OK };
        return super::all::run("plan", &args.spec.spec, &forwarded, true, changes, ui);
    }
    let started = Instant::now();
    let mut session = super::open(&args.spec, &args.cloud, "plan", ui).await?;
    let opened = started.elapsed();
    let op = match (args.destroy, args.refresh_only) {
        (true, _) => Operation::Destroy,
        (false, true) => Operation::RefreshOnly,
        (false, false) => Operation::Apply,
    };
    let planned = session.plan(op, &args.targets, &args.replace, Orphans::Journaled).await?;
    super::note_planned(ui, &planned);
    let plan = &planned.plan;
    // A plan the account or the findings refuse is shown, but not saved.
    let refusal = trellis_ops::refuse_preflight(plan)
        .and_then(|()| trellis_ops::refuse_findings(plan, args.fail_on.or(session.spec.fail_on)));
    // The file first, so that the plan printed can carry its digest.
    let saved = match (&args.out, &refusal) {
        (Some(out), Ok(())) => Some((out, save_plan(&session, &args.spec.spec, &args.spec.vars()?, plan, out)?)),
        _ => None,
    };
    let printing = Instant::now();
    match if args.json { Format::Json } else { args.format } {
        Format::Json => ui.json(&PlanJson(plan)),
        Format::Markdown => {
            ui.out(&render_markdown(plan));
            if let Some((out, digest)) = &saved {
                ui.out(&format!(
                    "\nPlan file `{}`, digest `{digest}`: `trellis apply {} --digest {digest}` applies this plan and no other.\n",
                    out.display(),
                    out.display()
                ));
            }
        }
        Format::Text => ui.plan(plan),
    }
    if args.timings {
        ui.note(&timings(opened, &planned, printing.elapsed()));
    }
    if let Some((out, digest)) = &saved {
        ui.note(&format!(
            "Saved the plan to {} (digest {digest}). `trellis apply {} --digest {digest}` carries out exactly this plan.",
            out.display(),
            out.display()
        ));
    }
    refusal?;
    Ok(if args.detailed_exitcode && plan.has_changes() { EXIT_CHANGES } else { EXIT_OK })
}

/// `Timings: spec, state and connection 12 ms; read 340 ms in 46 calls (subnet 35 ms,
/// 10 objects; ...); plan 8 ms; print 3 ms.`, the slowest kinds first.
fn timings(opened: Duration, planned: &trellis_ops::Planned, printed: Duration) -> String {
    let ms = |d: Duration| format!("{} ms", d.as_millis());
    let mut kinds = planned.read.per_kind.clone();
    kinds.sort_by_key(|k| std::cmp::Reverse(k.2));
    let kinds: Vec<String> = kinds.iter().map(|(k, n, t)| format!("{k} {}, {n} objects", ms(*t))).collect();
    let peak = peak_memory_mb().map(|mb| format!("; peak memory {mb} MB")).unwrap_or_default();
    format!(
        "Timings: spec, state and connection {}; read {} in {} calls ({}); plan {}; print {}{peak}.",
        ms(opened),
        ms(planned.read.took),
        planned.read.calls,
        kinds.join("; "),
        ms(planned.planning),
        ms(printed)
    )
}

/// The most memory this process has held (Linux's `VmHWM`), where the system says.
fn peak_memory_mb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: u64 =
        status.lines().find_map(|l| l.strip_prefix("VmHWM:"))?.trim().trim_end_matches("kB").trim().parse().ok()?;
    Some(kb.div_ceil(1024))
}
