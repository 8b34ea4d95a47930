//! `trellis drift SPEC`: what changed outside trellis, read-only. One batched read of
//! the live stack against the state (never the spec's pending changes), grouped per
//! resource and attribute. Exit 0: none; 2: drift; 1: an error.

use clap::Args;
use trellis_ops::{DriftReport, Result};
use trellis_plan::Operation;

use crate::ui::Ui;
use crate::{CloudArgs, SpecArgs, EXIT_OK};

/// The exit code of a run that found drift.
pub const EXIT_DRIFT: i32 = 2;

#[derive(Args, Debug)]
pub struct DriftArgs {
    #[command(flatten)]
    spec: SpecArgs,
    #[command(flatten)]
    cloud: CloudArgs,
    /// A difference that is known noise, `kind.name.attribute` (or `.tags.KEY`): counted
    /// and named in the report, not drift (repeatable; the spec's `drift.ignore` adds more).
    #[arg(long = "ignore", value_name = "ADDR.ATTR")]
    ignore: Vec<String>,
    /// Print the report as JSON (its schema is in docs/drift.md).
    #[arg(long)]
    json: bool,
}

pub async fn run(args: DriftArgs, ui: &Ui) -> Result<i32> {
    let ignore = trellis_ops::parse_ignores(&args.ignore)?;
    let mut session = super::open(&args.spec, &args.cloud, "drift", ui).await?;
    // A refresh-only plan: the state against the live objects, nothing of the spec's.
    let planned = session.plan(Operation::RefreshOnly, &[], &[], trellis_ops::Orphans::Journaled).await?;
    super::note_read(ui, &planned.read);
    let report = trellis_ops::drift_report(&session.spec, &planned.plan, &ignore, planned.read.calls);
    if args.json {
        ui.json(&report);
    } else {
        print(ui, &report);
    }
    Ok(if report.has_drift() { EXIT_DRIFT } else { EXIT_OK })
}

fn value(v: &trellis_core::Value) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// The report as text: each drifted resource with its policy, each attribute recorded
/// -> live, then the noise left out.
pub fn print(ui: &Ui, report: &DriftReport) {
    if report.resources.is_empty() {
        ui.line(&format!("No drift: the live objects of stack `{}` match its state.", report.stack));
    } else {
        let n = report.resources.len();
        ui.line(&format!(
            "Drift in stack `{}`: {n} resource{} changed outside trellis.",
            report.stack,
            if n == 1 { "" } else { "s" }
        ));
        for r in &report.resources {
            ui.line("");
            let what = if r.deleted { " deleted outside trellis".to_string() } else { String::new() };
            ui.line(&format!("  {} ({}) [{}]{what}", ui.paint("1", &r.address), r.id, r.policy.word()));
            for a in &r.attributes {
                ui.line(&format!("      ~ {}: {} -> {}", a.attribute, value(&a.recorded), value(&a.live)));
            }
        }
    }
    if !report.ignored.is_empty() {
        ui.line("");
        ui.line(&format!("Ignored as known noise ({}):", report.ignored.len()));
        for i in &report.ignored {
            ui.line(&format!("  {}.{} ({})", i.address, i.attribute, i.by));
        }
    }
}
