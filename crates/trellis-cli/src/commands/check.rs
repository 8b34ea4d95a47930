//! `trellis check SPEC`: the spec's findings, offline (no account is read): every
//! object as the spec makes it, checked against its kind's rules.

use clap::Args;
use trellis_core::schema::Severity;
use trellis_ops::Result;
use trellis_plan::RenderOptions;

use crate::ui::Ui;
use crate::{SpecArgs, EXIT_OK};

#[derive(Args, Debug)]
pub struct CheckArgs {
    #[command(flatten)]
    spec: SpecArgs,
    /// Exit 1 when a finding at or above this severity is not waived (low, medium,
    /// high, critical). Default: the spec's `checks: { fail_on: ... }`, else high.
    #[arg(long, value_name = "SEVERITY")]
    fail_on: Option<Severity>,
    /// Print the findings as JSON (the `findings` of a JSON plan).
    #[arg(long)]
    json: bool,
}

pub fn run(args: &CheckArgs, ui: &Ui) -> Result<i32> {
    let spec = args.spec.load()?;
    let findings = trellis_ops::check_offline(&spec)?;
    if args.json {
        ui.json(&findings);
    } else {
        ui.out(&trellis_plan::render_findings(&findings, RenderOptions { color: ui.color_out }));
    }
    let threshold = args.fail_on.or(spec.fail_on).unwrap_or(Severity::High);
    let failing = trellis_plan::failing(&findings, threshold);
    if failing.is_empty() {
        return Ok(EXIT_OK);
    }
    Err(trellis_ops::Error::Findings(format!(
        "{} finding{} at or above {} (--fail-on {}).",
        failing.len(),
        if failing.len() == 1 { "" } else { "s" },
        threshold.word(),
        threshold.word()
    )))
}
