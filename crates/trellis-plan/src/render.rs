//! The plan as a person reads it: `+ ~ -/+ -` per resource, a per-attribute diff with
//! unchanged attributes folded, drift first, and a summary line.

use std::collections::BTreeSet;
use std::fmt::Write;

use trellis_core::{Address, Attrs, Value};

use crate::{Action, Operation, Plan, ResourceChange};

/// The widest column that names are padded to, so that `=` signs line up. A longer
/// name is written as it is, unpadded: a width taken from input with no bound would
/// make the formatter panic past 65,535 (and a page of spaces before that).
pub const MAX_COLUMN: usize = 48;

/// The column width for names of these lengths: the longest, at most [`MAX_COLUMN`].
pub fn column_width(lengths: impl Iterator<Item = usize>) -> usize {
    lengths.max().unwrap_or(0).min(MAX_COLUMN)
}

#[derive(Debug, Clone, Copy, Default)]
pub struct RenderOptions {
    /// ANSI colours (only when writing to a terminal).
    pub color: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mark {
    Add,
    Change,
    Remove,
}

struct Out<'w> {
    text: String,
    color: bool,
    /// Where the text goes as it is made (after each resource), when streaming.
    sink: Option<&'w mut dyn std::io::Write>,
    /// The first write to the sink that failed; nothing more is written after it.
    failed: Option<std::io::Error>,
}

impl Out<'_> {
    /// Text without colours, kept in memory.
    fn plain() -> Self {
        Out { text: String::new(), color: false, sink: None, failed: None }
    }

    /// Hands what is written so far to the sink, if there is one.
    fn flush(&mut self) {
        if let (Some(sink), None) = (self.sink.as_mut(), &self.failed) {
            if let Err(e) = sink.write_all(self.text.as_bytes()).and_then(|()| sink.flush()) {
                self.failed = Some(e);
            }
            self.text.clear();
        }
    }

    fn paint(&self, mark: Mark, s: &str) -> String {
        if !self.color {
            return s.to_string();
        }
        let code = match mark {
            Mark::Add => "32",
            Mark::Change => "33",
            Mark::Remove => "31",
        };
        format!("\x1b[{code}m{s}\x1b[0m")
    }

    fn bold(&self, s: &str) -> String {
        if self.color {
            format!("\x1b[1m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }

    fn line(&mut self, indent: usize, mark: Mark, body: &str) {
        let sym = match mark {
            Mark::Add => "+",
            Mark::Change => "~",
            Mark::Remove => "-",
        };
        let sym = self.paint(mark, sym);
        let _ = writeln!(self.text, "{:indent$}{sym} {body}", "");
    }
}

/// Orders attributes as the kind's schema lists them, unknown names last.
fn attr_order(address: &Address, names: BTreeSet<&String>) -> Vec<String> {
    let schema: Vec<&str> = address.kind.attr_names().collect();
    let mut out: Vec<String> = schema.iter().filter(|n| names.iter().any(|x| x == *n)).map(|s| s.to_string()).collect();
    out.extend(names.into_iter().filter(|n| !schema.contains(&n.as_str())).cloned());
    out
}

fn is_set(v: Option<&Value>) -> bool {
    !matches!(v, None | Some(Value::Null))
}

fn multiline(v: &Value) -> bool {
    match v {
        Value::List(items) => items.iter().any(|i| matches!(i, Value::Map(_))),
        Value::Map(m) => !m.is_empty(),
        _ => false,
    }
}

/// A text of several lines (a boot script): shown line by line, not as one quoted string.
fn text_lines(v: Option<&Value>) -> Option<&str> {
    v.and_then(Value::as_str).filter(|s| s.trim_end().contains('\n'))
}

/// The first 12 hex digits of a text's SHA-256, to tell two versions apart at a glance.
fn digest(text: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(text.as_bytes()).iter().take(6).map(|b| format!("{b:02x}")).collect()
}

/// Writes a text of several lines under its attribute name.
fn text_block(out: &mut Out, name: &str, width: usize, text: &str, mark: Mark) {
    out.line(6, mark, &format!("{name:width$} = <<EOT (sha256 {})", digest(text)));
    for l in text.lines() {
        let _ = writeln!(out.text, "{:10}{l}", "");
    }
    let _ = writeln!(out.text, "{:8}EOT", "");
}

/// Writes the line diff of two texts.
fn text_diff(out: &mut Out, name: &str, width: usize, before: &str, after: &str, note: &str) {
    let head = format!("{name:width$} = <<EOT (sha256 {} -> {}){note}", digest(before), digest(after));
    out.line(6, Mark::Change, &head);
    let d = similar::TextDiff::from_lines(before, after);
    for change in d.iter_all_changes() {
        let line = change.value().trim_end_matches('\n');
        match change.tag() {
            similar::ChangeTag::Equal => {
                let _ = writeln!(out.text, "{:12}{line}", "");
            }
            similar::ChangeTag::Insert => out.line(10, Mark::Add, line),
            similar::ChangeTag::Delete => out.line(10, Mark::Remove, line),
        }
    }
    let _ = writeln!(out.text, "{:8}EOT", "");
}

/// Writes every attribute of `attrs` with one mark (a create or a destroy).
fn whole(out: &mut Out, attrs: &Attrs, address: &Address, mark: Mark) {
    let names = attr_order(address, attrs.iter().filter(|(_, v)| is_set(Some(v))).map(|(k, _)| k).collect());
    let width = column_width(names.iter().map(String::len));
    for name in names {
        let v = &attrs[&name];
        if let Some(text) = text_lines(Some(v)) {
            text_block(out, &name, width, text, mark);
        } else if multiline(v) {
            let (open, close) = if matches!(v, Value::List(_)) { ("[", "]") } else { ("{", "}") };
            out.line(6, mark, &format!("{name:width$} = {open}"));
            match v {
                Value::List(items) => items.iter().for_each(|i| out.line(10, mark, &format!("{i},"))),
                Value::Map(m) => {
                    let w = column_width(m.keys().map(String::len));
                    m.iter().for_each(|(k, x)| out.line(10, mark, &format!("{k:w$} = {x}")));
                }
                _ => {}
            }
            let _ = writeln!(out.text, "{:8}{close}", "");
        } else {
            out.line(6, mark, &format!("{name:width$} = {v}"));
        }
    }
}

/// The note on a difference that `ignore_changes` keeps.
const IGNORED: &str = " # ignore_changes: kept as it is";

/// Writes the attributes that differ between `before` and `after` (`ignored`: the
/// `ignore_changes` paths, `NAME` or `NAME.KEY`, noted as kept); returns how many were
/// the same.
fn diff(
    out: &mut Out,
    before: &Attrs,
    after: &Attrs,
    address: &Address,
    forcing: &[String],
    ignored: &[String],
) -> usize {
    let names = attr_order(address, before.keys().chain(after.keys()).collect());
    let changed: Vec<&String> = names.iter().filter(|n| !same(before.get(*n), after.get(*n))).collect();
    let width = column_width(changed.iter().map(|n| n.len()));
    for name in &changed {
        let (b, a) = (before.get(*name).filter(|v| is_set(Some(v))), after.get(*name).filter(|v| is_set(Some(v))));
        let note = if forcing.iter().any(|f| f == *name) {
            out.paint(Mark::Remove, " # forces replacement")
        } else if ignored.iter().any(|i| i == *name) {
            IGNORED.to_string()
        } else {
            String::new()
        };
        if let (Some(bt), Some(at)) = (text_lines(b), text_lines(a)) {
            text_diff(out, name, width, bt, at, &note);
            continue;
        }
        match (b, a) {
            (None, Some(a)) if !multiline(a) => out.line(6, Mark::Add, &format!("{name:width$} = {a}{note}")),
            (Some(b), None) if !multiline(b) => out.line(6, Mark::Remove, &format!("{name:width$} = {b}{note}")),
            (b, a)
                if b.is_none_or(|b| matches!(b, Value::List(_))) && a.is_none_or(|a| matches!(a, Value::List(_))) =>
            {
                let empty = Vec::new();
                let bl = b.map(Value::as_list).unwrap_or(&empty);
                let al = a.map(Value::as_list).unwrap_or(&empty);
                out.line(6, Mark::Change, &format!("{name:width$} = [{note}"));
                let mut kept = 0;
                for item in al {
                    if bl.contains(item) {
                        kept += 1;
                    } else {
                        out.line(10, Mark::Add, &format!("{item},"));
                    }
                }
                for item in bl.iter().filter(|i| !al.contains(i)) {
                    out.line(10, Mark::Remove, &format!("{item},"));
                }
                if kept > 0 {
                    let _ = writeln!(out.text, "{:12}# ({kept} unchanged element{} hidden)", "", plural(kept));
                }
                let _ = writeln!(out.text, "{:8}]", "");
            }
            (b, a) if b.is_none_or(|b| matches!(b, Value::Map(_))) && a.is_none_or(|a| matches!(a, Value::Map(_))) => {
                let empty = Default::default();
                let bm = b.and_then(Value::as_map).unwrap_or(&empty);
                let am = a.and_then(Value::as_map).unwrap_or(&empty);
                out.line(6, Mark::Change, &format!("{name:width$} = {{{note}"));
                let keys: BTreeSet<&String> = bm.keys().chain(am.keys()).collect();
                let w = column_width(keys.iter().map(|k| k.len()));
                let mut kept = 0;
                for k in keys {
                    let note = if ignored.iter().any(|i| i.split_once('.') == Some((name.as_str(), k.as_str()))) {
                        IGNORED
                    } else {
                        ""
                    };
                    match (bm.get(k), am.get(k)) {
                        (Some(x), Some(y)) if x == y => kept += 1,
                        (Some(x), Some(y)) => out.line(10, Mark::Change, &format!("{k:w$} = {x} -> {y}{note}")),
                        (None, Some(y)) => out.line(10, Mark::Add, &format!("{k:w$} = {y}{note}")),
                        (Some(x), None) => out.line(10, Mark::Remove, &format!("{k:w$} = {x}{note}")),
                        (None, None) => {}
                    }
                }
                if kept > 0 {
                    let _ = writeln!(out.text, "{:12}# ({kept} unchanged element{} hidden)", "", plural(kept));
                }
                let _ = writeln!(out.text, "{:8}}}", "");
            }
            (Some(Value::Sensitive(_)), Some(Value::Sensitive(_))) => {
                out.line(6, Mark::Change, &format!("{name:width$} = (sensitive, changed){note}"));
            }
            (b, a) => {
                let b = b.cloned().unwrap_or(Value::Null);
                let a = a.cloned().unwrap_or(Value::Null);
                out.line(6, Mark::Change, &format!("{name:width$} = {b} -> {a}{note}"));
            }
        }
    }
    names.len() - changed.len()
}

fn same(a: Option<&Value>, b: Option<&Value>) -> bool {
    a.filter(|v| is_set(Some(v))) == b.filter(|v| is_set(Some(v)))
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

fn hidden(out: &mut Out, n: usize) {
    if n > 0 {
        let _ = writeln!(out.text, "{:8}# ({n} unchanged attribute{} hidden)", "", plural(n));
    }
}

fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => format!("`{one}`"),
        [init @ .., last] => {
            format!("{} and `{last}`", init.iter().map(|i| format!("`{i}`")).collect::<Vec<_>>().join(", "))
        }
    }
}

/// Renders the plan for a person.
pub fn render(plan: &Plan, opts: RenderOptions) -> String {
    let mut out = Out { color: opts.color, ..Out::plain() };
    render_into(&mut out, plan);
    out.text
}

/// Renders the plan for a person into `sink` as it goes, a resource at a time, so the
/// first lines of a large plan show at once and the whole text is never held.
pub fn render_to(plan: &Plan, opts: RenderOptions, sink: &mut dyn std::io::Write) -> std::io::Result<()> {
    let mut out = Out { text: String::new(), color: opts.color, sink: Some(sink), failed: None };
    render_into(&mut out, plan);
    out.flush();
    out.failed.map_or(Ok(()), Err)
}

fn render_into(out: &mut Out, plan: &Plan) {
    if !plan.targets.is_empty() {
        let names: Vec<String> = plan.targets.iter().map(ToString::to_string).collect();
        let _ = writeln!(
            out.text,
            "Warning: this plan is partial (--target {}): only these and what they depend on were planned.\n",
            names.join(", ")
        );
    }
    for o in &plan.orphans {
        let _ = writeln!(
            out.text,
            "Warning: {} ({}) carries this stack's tags but no state knows it; it is left alone (`trellis state adopt` or `apply --adopt-orphans` records it).",
            o.address, o.id
        );
    }
    if !plan.orphans.is_empty() {
        out.text.push('\n');
    }

    reads(out, plan);

    if !plan.drift.is_empty() {
        let _ = writeln!(out.text, "{}\n", out.bold("Objects have changed outside of trellis:"));
        for d in &plan.drift {
            match &d.after {
                Some(after) => {
                    let _ = writeln!(out.text, "  # {} has changed", d.address);
                    let head = out.paint(Mark::Change, "~");
                    let _ = writeln!(out.text, "  {head} {} {{", d.address);
                    let kept = diff(out, &d.before, after, &d.address, &[], &d.ignored);
                    hidden(out, kept);
                    let _ = writeln!(out.text, "    }}\n");
                }
                None => {
                    let _ = writeln!(out.text, "  # {} was deleted outside of trellis\n", d.address);
                }
            }
        }
        if plan.operation != Operation::RefreshOnly {
            let _ = writeln!(out.text, "The plan below takes these changes into account.\n");
        }
    }

    if plan.operation == Operation::RefreshOnly {
        let _ = writeln!(out.text, "{}", out.bold(&refresh_only_words(plan)));
        return;
    }
    if plan.is_empty() && plan.moves.is_empty() {
        let what = match plan.operation {
            Operation::Apply => "No changes. The live stack matches the spec.",
            Operation::Destroy | Operation::RefreshOnly => "No changes. Nothing in the state is left to destroy.",
        };
        let _ = writeln!(out.text, "{}", out.bold(what));
        if !plan.findings.is_empty() {
            out.text.push('\n');
            findings_text(out, &plan.findings, &|_| true);
        }
        return;
    }

    let loss = plan.data_loss_lines();
    if !loss.is_empty() {
        for line in &loss {
            let bang = out.paint(Mark::Remove, "!!");
            let _ = writeln!(out.text, "{bang} {}", out.bold(line));
        }
        out.text.push('\n');
    }

    let _ = writeln!(out.text, "{}\n", out.bold("trellis will perform the following actions:"));
    if !plan.default_tags.is_empty() {
        let tags: Vec<String> = plan.default_tags.iter().map(|(k, v)| format!("{k} = {v:?}")).collect();
        let _ = writeln!(
            out.text,
            "  # default tags, on every object that takes tags (under its own), not repeated below: {}\n",
            tags.join(", ")
        );
    }
    out.flush();
    // Updates whose only change is taking the default tags: one line for all of them.
    let mut tags_only: Vec<&Address> = Vec::new();
    // The stack's own changes, then each component's under its path (in the plan's
    // order within each).
    let mut shown_changes: Vec<&ResourceChange> = plan.changes.iter().filter(|c| shown(c)).collect();
    shown_changes.sort_by(|a, b| a.address.component.as_deref().cmp(&b.address.component.as_deref()));
    let mut group = None;
    for c in shown_changes {
        if only_default_tags(plan, c) {
            tags_only.push(&c.address);
            continue;
        }
        if c.address.component.is_some() && c.address.component != group {
            group = c.address.component.clone();
            let head = format!("── {} ──", c.address.component_text());
            let _ = writeln!(
                out.text,
                "  {}
",
                out.bold(&head)
            );
        }
        change_block(out, plan, c);
        out.flush();
    }
    if !tags_only.is_empty() {
        let names: Vec<String> = tags_only.iter().take(10).map(|a| a.to_string()).collect();
        let more = if tags_only.len() > 10 { format!(" and {} more", tags_only.len() - 10) } else { String::new() };
        let head = out.paint(Mark::Change, "  ~");
        let _ = writeln!(
            out.text,
            "{head} {} object{} take{} the default tags, their only change: {}{more}\n",
            tags_only.len(),
            if tags_only.len() == 1 { "" } else { "s" },
            if tags_only.len() == 1 { "s" } else { "" },
            names.join(", ")
        );
    }
    if !plan.findings.is_empty() {
        let unchanged = |a: &Address| plan.change(a).is_none_or(|c| c.action == Action::NoOp);
        findings_text(out, &plan.findings, &unchanged);
    }
    if !plan.preflight.is_empty() {
        let failed: Vec<_> = plan.preflight.iter().filter(|c| !c.ok).collect();
        let passed = plan.preflight.len() - failed.len();
        let head = format!(
            "Pre-flight: {passed} check{} against the account passed, {} failed",
            if passed == 1 { "" } else { "s" },
            failed.len()
        );
        let _ = writeln!(out.text, "{}", out.bold(&head));
        for c in failed {
            let _ = writeln!(out.text, "  {} {}: {}", out.paint(Mark::Remove, "FAILED"), c.address, c.detail);
        }
        out.text.push('\n');
    }
    let interrupted = plan.interruptions();
    if !interrupted.is_empty() {
        let _ = writeln!(out.text, "{}", out.bold("What this plan interrupts:"));
        for (address, i) in interrupted {
            let _ = writeln!(out.text, "  {address}: {}", i.line());
        }
        out.text.push('\n');
    }
    let _ = writeln!(out.text, "{} {}", out.bold("Plan:"), summary_words(&plan.summary()));
}

/// `Findings: 2 (1 critical, 1 high), 1 waived`.
pub fn findings_headline(findings: &[crate::Finding]) -> String {
    let open: Vec<&crate::Finding> = findings.iter().filter(|f| f.waived.is_none()).collect();
    let mut counts: Vec<String> = Vec::new();
    for s in trellis_core::schema::Severity::ALL.iter().rev() {
        let n = open.iter().filter(|f| f.severity == *s).count();
        if n > 0 {
            counts.push(format!("{n} {}", s.word()));
        }
    }
    let waived = findings.len() - open.len();
    let counts = if counts.is_empty() { String::new() } else { format!(" ({})", counts.join(", ")) };
    let waived = if waived == 0 { String::new() } else { format!(", {waived} waived") };
    format!("Findings: {}{counts}{waived}", open.len())
}

/// The findings, each with why it matters and its fix (in one line on an object the
/// plan leaves as it is, `standing`); waived ones with their reason.
fn findings_text(out: &mut Out, findings: &[crate::Finding], standing: &dyn Fn(&Address) -> bool) {
    let _ = writeln!(out.text, "{}", out.bold(&findings_headline(findings)));
    for f in findings.iter().filter(|f| f.waived.is_none() && !standing(&f.address)) {
        let mark = if f.severity >= trellis_core::schema::Severity::High { Mark::Remove } else { Mark::Change };
        let _ = writeln!(out.text, "  {}", out.paint(mark, &f.headline()));
        let _ = writeln!(out.text, "      why: {}", f.why);
        let _ = writeln!(out.text, "      fix: {}", f.fix);
        let _ = writeln!(out.text, "      rule: {} (waive it with `waive: {{ {}: <reason> }}`)", f.ids(), f.rule);
    }
    for f in findings.iter().filter(|f| f.waived.is_none() && standing(&f.address)) {
        let _ = writeln!(out.text, "  {} [{}; unchanged by this plan]", f.headline(), f.rule);
    }
    for f in findings.iter().filter(|f| f.waived.is_some()) {
        let _ = writeln!(out.text, "  waived: {} — {}", f.headline(), f.waived.as_deref().unwrap_or_default());
    }
    out.text.push('\n');
}

/// The findings alone, as `trellis check` prints them.
pub fn render_findings(findings: &[crate::Finding], opts: RenderOptions) -> String {
    let mut out = Out { color: opts.color, ..Out::plain() };
    if findings.is_empty() {
        return "No findings.\n".to_string();
    }
    findings_text(&mut out, findings, &|_| false);
    out.text
}

/// What a refresh-only plan says after its drift.
pub(crate) fn refresh_only_words(plan: &Plan) -> String {
    if plan.drift.is_empty() {
        return "No changes. The state matches the live objects; a refresh-only apply would record nothing.".into();
    }
    let n = plan.drift.len();
    format!(
        "This is a refresh-only plan: nothing in the cloud changes. Applying it records the {n} change{} above in the state as they are{}.",
        if n == 1 { "" } else { "s" },
        if plan.drift.iter().any(|d| d.after.is_none()) { " (objects deleted outside trellis leave it)" } else { "" }
    )
}

/// True for the changes a plan lists: everything but an object left as it is.
pub(crate) fn shown(c: &ResourceChange) -> bool {
    c.action != Action::NoOp || c.retag || c.previous_address.is_some()
}

/// `1 to add, 0 to change, 0 to replace, 0 to destroy.`, and the objects forgotten and
/// moved when there are any.
pub(crate) fn summary_words(s: &crate::Summary) -> String {
    let mut parts = vec![
        format!("{} to add", s.add),
        format!("{} to change", s.change),
        format!("{} to replace", s.replace),
        format!("{} to destroy", s.destroy),
    ];
    if s.forget > 0 {
        parts.push(format!("{} to forget", s.forget));
    }
    if s.moved > 0 {
        parts.push(format!("{} moved", s.moved));
    }
    parts.join(", ") + "."
}

/// The lookups, each `<= lookup.KIND.NAME (filters)` and what it found, and the other
/// stacks' states, each `<= stack.NAME (where, lineage, serial)` and the outputs read.
fn reads(out: &mut Out, plan: &Plan) {
    if !plan.stacks.is_empty() {
        let _ = writeln!(out.text, "{}\n", out.bold("Read from other stacks' states (never changed):"));
        out.text.push_str(&stacks_text(plan));
    }
    if plan.reads.is_empty() {
        return;
    }
    let _ = writeln!(out.text, "{}\n", out.bold("Read from the account (lookups, never changed):"));
    out.text.push_str(&reads_text(plan));
}

/// The plain-text lines of the other stacks' states read (for the markdown form too).
pub(crate) fn stacks_text(plan: &Plan) -> String {
    let mut text = String::new();
    for r in &plan.stacks {
        let _ = writeln!(text, "  <= stack.{} ({}, lineage {}, serial {})", r.stack, r.location, r.lineage, r.serial);
        let width = column_width(r.outputs.keys().map(String::len));
        for (name, v) in &r.outputs {
            let _ = writeln!(text, "       output.{name:width$} = {v}");
        }
        text.push('\n');
    }
    text
}

/// The plain-text lines of the lookups (for the markdown form too).
pub(crate) fn reads_text(plan: &Plan) -> String {
    let mut text = String::new();
    for r in &plan.reads {
        let _ = writeln!(text, "  <= {} ({})", r.address, r.filters);
        let width = column_width(r.found.keys().map(String::len));
        for (name, v) in &r.found {
            let _ = writeln!(text, "       {name:width$} = {v}");
        }
        text.push('\n');
    }
    text
}

/// What a change does, in words: `subnet.a must be replaced: ...`, after its move
/// when it moved: `subnet.a has moved to subnet.b; ...`.
pub(crate) fn describe(plan: &Plan, c: &ResourceChange) -> String {
    let what = describe_action(plan, c);
    match (&c.previous_address, c.action) {
        (Some(from), Action::NoOp) => format!("{from} has moved to {}", c.address),
        (Some(from), _) => format!("{from} has moved to {}; {what}", c.address),
        (None, _) => what,
    }
}

fn describe_action(plan: &Plan, c: &ResourceChange) -> String {
    if let (Action::Delete, Some(_)) = (c.action, c.address.deposed_of()) {
        return format!("{} will be destroyed: the old object of a replacement, kept until now", c.address.shown());
    }
    match c.action {
        Action::Forget => format!("{} will no longer be managed (it is not destroyed)", c.address),
        Action::Create => format!("{} will be created", c.address),
        Action::Update => format!("{} will be updated in place", c.address),
        Action::DeleteThenCreate | Action::CreateThenDelete if c.replace_because.is_empty() => {
            format!("{} will be replaced, as asked with --replace", c.address)
        }
        Action::DeleteThenCreate | Action::CreateThenDelete => {
            let n = c.replace_because.len();
            format!(
                "{} must be replaced: {} {} replacement",
                c.address,
                and_list(&c.replace_because),
                if n == 1 { "forces" } else { "force" }
            )
        }
        Action::Delete => match plan.operation {
            Operation::Destroy | Operation::RefreshOnly => format!("{} will be destroyed", c.address),
            Operation::Apply => format!("{} will be destroyed (it is no longer in the spec)", c.address),
        },
        Action::NoOp => format!("{} is up to date", c.address),
    }
}

/// One change: the comment line, the symbol and address, and the attribute diff.
/// A change's before and after with the default tags left out of their `tags`: each
/// key the planned object carries at its default value, on both sides (so a default
/// tag arriving, or changing value, is no change here).
type Pair<'a> = (Option<std::borrow::Cow<'a, Attrs>>, Option<std::borrow::Cow<'a, Attrs>>);

fn without_default_tags<'a>(plan: &Plan, c: &'a ResourceChange) -> Pair<'a> {
    use std::borrow::Cow;
    let tags_of = |a: Option<&Attrs>| match a.and_then(|a| a.get("tags")) {
        Some(Value::Map(m)) => Some(m.clone()),
        _ => None,
    };
    let Some(after_tags) = tags_of(c.after.as_ref()).filter(|_| !plan.default_tags.is_empty()) else {
        return (c.before.as_ref().map(Cow::Borrowed), c.after.as_ref().map(Cow::Borrowed));
    };
    let defaults: Vec<&String> = plan
        .default_tags
        .iter()
        .filter(|(k, d)| after_tags.get(*k).and_then(Value::as_str) == Some(d.as_str()))
        .map(|(k, _)| k)
        .collect();
    let strip = |a: Option<&'a Attrs>| {
        a.map(|a| match a.get("tags") {
            Some(Value::Map(m)) => {
                let mut a = a.clone();
                let kept =
                    m.iter().filter(|(k, _)| !defaults.contains(k)).map(|(k, v)| (k.clone(), v.clone())).collect();
                a.insert("tags".into(), Value::Map(kept));
                Cow::Owned(a)
            }
            _ => Cow::Borrowed(a),
        })
    };
    (strip(c.before.as_ref()), strip(c.after.as_ref()))
}

/// An update whose only change is the default tags arriving (or changing value).
fn only_default_tags(plan: &Plan, c: &ResourceChange) -> bool {
    if c.action != Action::Update || plan.default_tags.is_empty() || c.retag || c.previous_address.is_some() {
        return false;
    }
    // As the diff reads them: an attribute not set is the same as one absent.
    let (before, after) = without_default_tags(plan, c);
    let empty = Attrs::new();
    let (b, a) = (before.as_deref().unwrap_or(&empty), after.as_deref().unwrap_or(&empty));
    b.keys().chain(a.keys()).all(|k| b.get(k).filter(|v| is_set(Some(v))) == a.get(k).filter(|v| is_set(Some(v))))
}

fn change_block(out: &mut Out, plan: &Plan, c: &ResourceChange) {
    let (before, after) = without_default_tags(plan, c);
    let (before, after) = (before.as_deref(), after.as_deref());
    let empty = Attrs::new();
    let (sym, mark) = match c.action {
        Action::Create => ("  +", Mark::Add),
        Action::Update => ("  ~", Mark::Change),
        Action::CreateThenDelete => ("+/-", Mark::Remove),
        Action::DeleteThenCreate => ("-/+", Mark::Remove),
        Action::Delete => ("  -", Mark::Remove),
        Action::NoOp | Action::Forget => ("   ", Mark::Change),
    };
    let _ = writeln!(out.text, "  # {}", out.bold(&describe(plan, c)));
    for n in &c.notes {
        let _ = writeln!(out.text, "  # note: {n}");
    }
    if let Some(r) = &c.rollout {
        for line in r.lines() {
            let _ = writeln!(out.text, "  # {line}");
        }
    }
    if let Some(i) = &c.interruption {
        let _ = writeln!(out.text, "  # interrupts: {}", i.line());
    }
    let sym = out.paint(mark, sym);
    let id = match (&c.id, c.action) {
        (Some(id), Action::NoOp | Action::Forget) => format!(" ({id})"),
        _ => String::new(),
    };
    let _ = writeln!(out.text, "{sym} {}{id} {{", c.address.shown());
    match c.action {
        Action::Create => whole(out, after.unwrap_or(&empty), &c.address, Mark::Add),
        Action::Delete => whole(out, c.before.as_ref().unwrap_or(&empty), &c.address, Mark::Remove),
        Action::Forget => hidden(out, c.before.as_ref().map_or(0, |b| b.values().filter(|v| is_set(Some(v))).count())),
        _ => {
            let kept =
                diff(out, before.unwrap_or(&empty), after.unwrap_or(&empty), &c.address, &c.replace_because, &[]);
            hidden(out, kept);
        }
    }
    let _ = writeln!(out.text, "    }}\n");
}

/// The plain-text block of one change (for the markdown form).
pub(crate) fn change_text(plan: &Plan, c: &ResourceChange) -> String {
    let mut out = Out::plain();
    change_block(&mut out, plan, c);
    out.text
}

/// The plain-text block of one drift entry (for the markdown form).
pub(crate) fn drift_text(d: &crate::Drift) -> String {
    let mut out = Out::plain();
    match &d.after {
        Some(after) => {
            let _ = writeln!(out.text, "  ~ {} {{", d.address);
            let kept = diff(&mut out, &d.before, after, &d.address, &[], &d.ignored);
            hidden(&mut out, kept);
            let _ = writeln!(out.text, "    }}");
        }
        None => {
            let _ = writeln!(out.text, "  - {} (deleted outside of trellis)", d.address);
        }
    }
    out.text
}
