//! The plan as Markdown for a pull-request comment: a table of changes with the
//! destructive ones first, drift, and a collapsible diff per resource.

use std::fmt::Write;

use crate::render::{change_text, describe, drift_text, reads_text, shown, stacks_text, summary_words};
use crate::{Action, Plan, ResourceChange};

/// Moves each line's change symbol to the first column, so a `diff` code block
/// colours additions and removals.
fn as_diff(block: &str) -> String {
    let mut out = String::new();
    for line in block.lines() {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        let (mark, rest) = match trimmed.chars().next() {
            Some('+') => ('+', &trimmed[1..]),
            Some('-') if trimmed.starts_with("-/+") => ('!', &trimmed[3..]),
            Some('-') => ('-', &trimmed[1..]),
            Some('~') => ('!', &trimmed[1..]),
            _ => (' ', trimmed),
        };
        let _ = writeln!(out, "{mark}{:indent$}{rest}", "");
    }
    out
}

fn rank(a: Action) -> u8 {
    match a {
        Action::Delete => 0,
        Action::DeleteThenCreate | Action::CreateThenDelete => 1,
        Action::Create => 2,
        Action::Update => 3,
        Action::Forget => 4,
        Action::NoOp => 5,
    }
}

/// Renders the plan for a pull-request comment: a headline, the warnings a reviewer
/// must see, a table of the changes, then each change's diff folded away.
pub fn render_markdown(plan: &Plan) -> String {
    let mut out = String::new();
    let s = plan.summary();
    let _ = writeln!(out, "### trellis plan for `{}`\n", plan.stack);
    if plan.operation == crate::Operation::RefreshOnly {
        let _ = writeln!(out, "**Refresh only.** {}\n", crate::render::refresh_only_words(plan));
    } else if plan.is_empty() && plan.moves.is_empty() {
        let _ = writeln!(out, "**No changes.** The live stack matches the spec.");
    } else {
        let _ = writeln!(out, "**Plan: {}**\n", summary_words(&s));
    }
    warnings(&mut out, plan);
    let mut changes: Vec<_> = plan.changes.iter().filter(|c| shown(c)).collect();
    changes.sort_by_key(|c| rank(c.action));
    if !changes.is_empty() {
        out.push_str("| action | resource | why |\n|---|---|---|\n");
        for c in &changes {
            let (action, why) = table_row(plan, c);
            let _ = writeln!(out, "| {action} | `{}` | {why} |", c.address);
        }
        out.push('\n');
    }
    if !plan.stacks.is_empty() {
        let _ = writeln!(
            out,
            "<details><summary>{} other stack{} read</summary>\n\n```",
            plan.stacks.len(),
            if plan.stacks.len() == 1 { "'s state" } else { "s' states" }
        );
        out.push_str(stacks_text(plan).trim_end());
        out.push_str("\n```\n\n</details>\n\n");
    }
    if !plan.reads.is_empty() {
        let _ = writeln!(
            out,
            "<details><summary>{} lookup{} read from the account</summary>\n\n```",
            plan.reads.len(),
            if plan.reads.len() == 1 { "" } else { "s" }
        );
        out.push_str(reads_text(plan).trim_end());
        out.push_str("\n```\n\n</details>\n\n");
    }
    if !plan.drift.is_empty() {
        let _ = writeln!(
            out,
            "<details><summary>{} object{} changed outside of trellis</summary>\n\n```diff",
            plan.drift.len(),
            if plan.drift.len() == 1 { "" } else { "s" }
        );
        for d in &plan.drift {
            out.push_str(&as_diff(&drift_text(d)));
        }
        out.push_str("```\n\n</details>\n\n");
    }
    for c in &changes {
        let _ = writeln!(out, "<details><summary>{}</summary>\n\n```diff", describe(plan, c));
        // The block without its comment line (the summary says it) and trailing blanks.
        let text = change_text(plan, c);
        let body: Vec<&str> = text.lines().skip(1).filter(|l| !l.trim().is_empty()).collect();
        out.push_str(&as_diff(&body.join("\n")));
        out.push_str("```\n\n</details>\n\n");
    }
    out.truncate(out.trim_end().len());
    out.push('\n');
    out
}

/// The quoted warnings under the headline: a partial plan, data loss, deletes.
fn warnings(out: &mut String, plan: &Plan) {
    let s = plan.summary();
    if !plan.targets.is_empty() {
        let names: Vec<String> = plan.targets.iter().map(|t| format!("`{t}`")).collect();
        let _ = writeln!(out, "> **Partial plan** (`--target`): only {} and what they depend on.\n", names.join(", "));
    }
    let loss = plan.data_loss_lines();
    if let Some((head, rest)) = loss.split_first() {
        let _ = writeln!(out, "> [!CAUTION]\n> **{head}**");
        for line in rest {
            let _ = writeln!(out, "> - {}", line.trim());
        }
        out.push('\n');
    }
    let rollouts: Vec<&ResourceChange> = plan.changes.iter().filter(|c| c.rollout.is_some()).collect();
    for c in rollouts {
        let Some(r) = &c.rollout else { continue };
        let lines = r.lines();
        let _ = writeln!(out, "> **Rollout of `{}`:** {}", c.address, lines[0].trim_start_matches("rollout: "));
        for line in &lines[1..] {
            let _ = writeln!(out, "> - {}", line.trim());
        }
        out.push('\n');
    }
    if !plan.findings.is_empty() {
        let failing =
            plan.findings.iter().any(|f| f.waived.is_none() && f.severity >= trellis_core::schema::Severity::High);
        let _ = writeln!(
            out,
            "> [!{}]\n> **{}**",
            if failing { "WARNING" } else { "NOTE" },
            crate::findings_headline(&plan.findings)
        );
        for f in &plan.findings {
            match &f.waived {
                None => {
                    let _ = writeln!(
                        out,
                        "> - {}: {} `{}` ({}). {}",
                        f.severity.word(),
                        f.title,
                        f.address,
                        f.detail,
                        f.fix
                    );
                }
                Some(why) => {
                    let _ = writeln!(out, "> - waived: {} `{}` ({}): {why}", f.title, f.address, f.rule);
                }
            }
        }
        out.push('\n');
    }
    let interrupted = plan.interruptions();
    if !interrupted.is_empty() {
        let _ = writeln!(out, "> **What this plan interrupts:**");
        for (address, i) in interrupted {
            let _ = writeln!(out, "> - `{address}`: {}", i.line());
        }
        out.push('\n');
    }
    let destroy_first = plan.changes.iter().filter(|c| c.action == Action::DeleteThenCreate).count();
    if s.destroy + s.replace > 0 {
        let _ = writeln!(
            out,
            "> **Destructive:** {} object{} will be deleted{}.\n",
            s.destroy + s.replace,
            if s.destroy + s.replace == 1 { "" } else { "s" },
            match destroy_first {
                0 => String::new(),
                1 => " (one replacement deletes the old object before the new one exists)".to_string(),
                n => format!(" ({n} replacements delete the old object before the new one exists)"),
            }
        );
    }
}

/// The action and the "why" cell of a change's table row (notes escaped for the table).
fn table_row(plan: &Plan, c: &ResourceChange) -> (&'static str, String) {
    let (action, why) = match c.action {
        Action::Delete => ("**destroy**", "no longer in the spec".to_string()),
        Action::NoOp if c.previous_address.is_some() => {
            ("move", format!("from `{}`", c.previous_address.as_ref().map(ToString::to_string).unwrap_or_default()))
        }
        Action::NoOp => ("no change", String::new()),
        Action::Forget => ("forget", "stays in the cloud, no longer managed".to_string()),
        Action::DeleteThenCreate | Action::CreateThenDelete => (
            "**replace**",
            c.replace_because.iter().map(|a| format!("`{a}`")).collect::<Vec<_>>().join(", ")
                + " cannot change in place",
        ),
        Action::Create => ("create", String::new()),
        Action::Update => {
            let before = c.before.clone().unwrap_or_default();
            let after = c.after.clone().unwrap_or_default();
            let changed: Vec<String> =
                after.iter().filter(|(k, v)| before.get(*k) != Some(*v)).map(|(k, _)| format!("`{k}`")).collect();
            ("update", changed.join(", "))
        }
    };
    if plan.operation == crate::Operation::Destroy && c.action == Action::Delete {
        return (action, String::new());
    }
    let why = match (&c.previous_address, c.action) {
        (Some(from), a) if a != Action::NoOp && why.is_empty() => format!("moved from `{from}`"),
        (Some(from), a) if a != Action::NoOp => format!("moved from `{from}`; {why}"),
        _ => why,
    };
    if c.notes.is_empty() {
        return (action, why);
    }
    let notes = c.notes.iter().map(|n| n.replace('|', "\\|")).collect::<Vec<_>>().join("; ");
    (action, if why.is_empty() { notes } else { format!("{why}; {notes}") })
}
