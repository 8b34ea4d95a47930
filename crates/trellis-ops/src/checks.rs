//! Findings as a gate: a plan refused when it holds findings at or above a severity
//! that no `waive:` accepts (`--fail-on`, or the spec's `checks: { fail_on: ... }`),
//! and a spec's findings computed offline (`trellis check`), from a plan that makes
//! everything, with no account read.

use std::collections::BTreeMap;

use trellis_core::schema::Severity;
use trellis_plan::{Finding, Operation, Plan, PlanInput};
use trellis_spec::Spec;

use crate::{Error, Result};

/// Refuses `plan` when it holds an unwaived finding at or above `threshold`.
pub fn refuse_findings(plan: &Plan, threshold: Option<Severity>) -> Result<()> {
    let Some(threshold) = threshold else { return Ok(()) };
    let failing = trellis_plan::failing(&plan.findings, threshold);
    if failing.is_empty() {
        return Ok(());
    }
    let lines: Vec<String> = failing.iter().map(|f| format!("  {}", f.headline())).collect();
    Err(Error::Findings(format!(
        "refusing: {} finding{} at or above {} (fail_on). Nothing was changed.\n{}\nhelp: fix the spec as each finding says, or accept one on its resource with `waive: {{ {}: <reason> }}`",
        failing.len(),
        if failing.len() == 1 { "" } else { "s" },
        threshold.word(),
        lines.join("\n"),
        failing[0].rule,
    )))
}

/// Refuses `plan` when a pre-flight check failed: the apply would fail half way.
pub fn refuse_preflight(plan: &Plan) -> Result<()> {
    let failed: Vec<String> =
        plan.preflight.iter().filter(|c| !c.ok).map(|c| format!("  {}: {}", c.address, c.detail)).collect();
    if failed.is_empty() {
        return Ok(());
    }
    Err(Error::Findings(format!(
        "refusing: {} pre-flight check{} failed; the apply would stop half way. Nothing was changed.\n{}",
        failed.len(),
        if failed.len() == 1 { "" } else { "s" },
        failed.join("\n")
    )))
}

/// The findings of `spec` as if everything in it were made now, without AWS: what the
/// objects will be is what the spec says (AWS's choices are unknown, and a rule that
/// needs one does not guess). Secrets read from the environment are not needed.
pub fn check_offline(spec: &Spec) -> Result<Vec<Finding>> {
    let live = BTreeMap::new();
    let plan = trellis_plan::plan(PlanInput {
        spec,
        prior: None,
        live: &live,
        orphans: &[],
        tags: &Default::default(),
        operation: Operation::Apply,
        targets: &[],
        replace: &[],
        env: &|_| Some(String::new()),
    })?;
    Ok(plan.findings)
}
