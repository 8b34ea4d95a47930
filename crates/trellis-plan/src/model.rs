//! What a plan is: its changes, drift, moves, orphans and reads, with the questions
//! asked of it (summary, data loss, protected changes).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use trellis_core::{Address, Attrs, Expr, Value};
use trellis_state::ResourceState;

use crate::{Finding, Interruption, Rollout};

/// Version of the plan document (saved and JSON plans).
pub const PLAN_FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    NoOp,
    Create,
    Update,
    /// Replace: delete the old object, then create the new one (AWS allows one object
    /// with the name the spec fixes).
    DeleteThenCreate,
    /// Replace: create the new object first (under a name of its own), move what refers
    /// to the old one over, then delete the old one, kept meanwhile under its deposed
    /// address.
    CreateThenDelete,
    Delete,
    /// Leave management: the object stays in the cloud, loses trellis's tags and leaves
    /// the state (`removed:`).
    Forget,
}

impl Action {
    /// The action as Terraform users read it in JSON plans.
    pub fn json_actions(self) -> &'static [&'static str] {
        match self {
            Action::NoOp => &["no-op"],
            Action::Create => &["create"],
            Action::Update => &["update"],
            Action::DeleteThenCreate => &["delete", "create"],
            Action::CreateThenDelete => &["create", "delete"],
            Action::Delete => &["delete"],
            Action::Forget => &["forget"],
        }
    }

    /// Either order of replacement.
    pub fn is_replace(self) -> bool {
        matches!(self, Action::DeleteThenCreate | Action::CreateThenDelete)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Operation {
    Apply,
    Destroy,
    /// `--refresh-only`: the state takes the live objects as they are (drift accepted,
    /// objects deleted outside trellis dropped); nothing in the cloud changes.
    RefreshOnly,
}

/// One resource's planned change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceChange {
    pub address: Address,
    pub action: Action,
    /// The live object's id, when there is one.
    pub id: Option<String>,
    /// The object as refreshed (none for a create).
    pub before: Option<Attrs>,
    /// The object as planned, `Unknown` where only apply can tell (none for a delete).
    pub after: Option<Attrs>,
    /// The spec's expressions, evaluated again at apply time once the values of the
    /// resources they refer to are known.
    pub config: Option<std::sync::Arc<BTreeMap<String, Expr>>>,
    /// For a replace: the attributes that force it.
    pub replace_because: Vec<String>,
    /// What must exist before this change runs (from the spec).
    pub depends_on: Vec<Address>,
    /// What the old object depended on (from the state): it is deleted before these.
    pub prior_depends_on: Vec<Address>,
    /// What else happens, in words (a new version, an instance refresh, why a
    /// replacement destroys first).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Attributes that are secrets: `before` and `after` hold their digests, `config`
    /// the `${env.NAME}` they are read from at apply time.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sensitive: Vec<String>,
    /// Set when the change deletes or replaces an object that holds data (a database).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_loss: Option<DataLoss>,
    /// Where the state held the object before this plan's `moved:` entries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_address: Option<Address>,
    /// The object's `trellis:address` tag names another address (it moved): apply
    /// rewrites it, so that a lost create at the old address never takes this object.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub retag: bool,
    /// A replacement asked for with `--replace`, whatever the spec says.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub replace_requested: bool,
    /// It deletes or replaces an object that says `protect: true` (or did when last
    /// applied): apply refuses it without `--allow-data-loss`. Set for a protected
    /// database's loss too.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub protected: bool,
    /// An update that replaces the object's running instances in batches: how.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollout: Option<Rollout>,
    /// What the change interrupts on the running object, when anything.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interruption: Option<Interruption>,
}

/// What a change that destroys data will do, for the plan's separate section and for
/// apply's refusal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataLoss {
    /// True unless the object says `protect: false`: apply then needs `--allow-data-loss`.
    pub protected: bool,
    /// The snapshot taken before the delete; none with `skip_final_snapshot: true`.
    pub final_snapshot: Option<String>,
    /// Why there is none when the spec did not say `skip_final_snapshot: true`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_snapshot_because: Option<String>,
}

impl ResourceChange {
    /// Where the old object of a create-before-destroy replacement is kept in the state
    /// between the create of its successor and its own delete.
    pub fn deposed_address(&self) -> Option<Address> {
        (self.action == Action::CreateThenDelete)
            .then(|| deposed_address(&self.address, self.id.as_deref().unwrap_or("")))
    }
}

/// `kind.name__deposed_<last 8 letters and digits of the id>` (with the copy's key, if
/// any): a valid address no spec is likely to use, stable for one old object.
pub fn deposed_address(address: &Address, old_id: &str) -> Address {
    let tail: String = old_id.chars().filter(char::is_ascii_alphanumeric).map(|c| c.to_ascii_lowercase()).collect();
    let tail = &tail[tail.len().saturating_sub(8)..];
    Address { name: format!("{}{}{tail}", address.name, trellis_core::DEPOSED), ..address.clone() }
}

/// A difference between the last run's state and the live object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Drift {
    pub address: Address,
    pub before: Attrs,
    /// The live object, or none when it was deleted outside trellis.
    pub after: Option<Attrs>,
    /// The differences the spec's `ignore_changes` names: kept, not repaired.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ignored: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PriorState {
    pub lineage: Option<String>,
    pub serial: u64,
    pub resources: Vec<ResourceState>,
}

/// What one of the spec's `lookups:` found in the account for this plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LookupRead {
    /// `lookup.KIND.NAME`.
    pub address: String,
    /// Its filters as sent: `default: true`.
    pub filters: String,
    pub found: Attrs,
}

/// Another stack's state this plan read outputs from (`${stack.NAME.output.KEY}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StackRead {
    pub stack: String,
    /// Where its state was read.
    pub location: String,
    pub lineage: String,
    pub serial: u64,
    /// The outputs read, with their values.
    pub outputs: BTreeMap<String, Value>,
}

/// An object the state held at `from`, now at `to` (`moved:`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Moved {
    pub from: Address,
    pub to: Address,
    pub id: String,
}

/// Objects tagged with the stack that no state knows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Orphan {
    pub address: Address,
    pub id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub format_version: u32,
    pub stack: String,
    pub operation: Operation,
    /// The state as the previous run left it.
    pub prior_state: PriorState,
    /// The same objects as just read from the cloud (deleted ones absent).
    pub refreshed: Vec<ResourceState>,
    pub drift: Vec<Drift>,
    /// In the order they would run one at a time: creates and updates after what they
    /// need, deletes before what they needed.
    pub changes: Vec<ResourceChange>,
    pub outputs: BTreeMap<String, Expr>,
    pub planned_outputs: BTreeMap<String, Value>,
    pub orphans: Vec<Orphan>,
    /// `--target` addresses; empty for a full plan.
    #[serde(default)]
    pub targets: Vec<Address>,
    /// What the spec's lookups found (read for every plan, never changed).
    #[serde(default)]
    pub reads: Vec<LookupRead>,
    /// The other stacks' states the spec read outputs from.
    #[serde(default)]
    pub stacks: Vec<StackRead>,
    /// The state's objects the spec's `moved:` entries gave new addresses (`refreshed`
    /// and `changes` name them by the new ones).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub moves: Vec<Moved>,
    /// What the live account answered before the first change (`preflight.rs`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub preflight: Vec<trellis_core::preflight::Check>,
    /// The risky settings of what the plan leaves in place or makes (`Kind::rules`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<Finding>,
    /// The stack's `tags:`: every object that takes tags carries them under its own.
    /// The text plan says them once and leaves them out of each object.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub default_tags: BTreeMap<String, String>,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    pub add: usize,
    pub change: usize,
    pub replace: usize,
    pub destroy: usize,
    pub forget: usize,
    pub moved: usize,
}

impl Plan {
    pub fn summary(&self) -> Summary {
        let mut s = Summary { moved: self.moves.len(), ..Summary::default() };
        for c in &self.changes {
            match c.action {
                Action::Create => s.add += 1,
                Action::Update => s.change += 1,
                Action::DeleteThenCreate | Action::CreateThenDelete => s.replace += 1,
                Action::Delete => s.destroy += 1,
                Action::Forget => s.forget += 1,
                Action::NoOp => {}
            }
        }
        s
    }

    /// True when applying would change nothing in the cloud (a move alone changes the
    /// state only, for kinds without tags).
    pub fn is_empty(&self) -> bool {
        self.changes.iter().all(|c| c.action == Action::NoOp && !c.retag)
    }

    /// What `plan --detailed-exitcode` reports as changes: for a refresh-only plan, the
    /// drift it would record; otherwise anything to do in the cloud.
    pub fn has_changes(&self) -> bool {
        match self.operation {
            Operation::RefreshOnly => !self.drift.is_empty(),
            Operation::Apply | Operation::Destroy => !self.is_empty(),
        }
    }

    /// True when the refreshed objects or the outputs differ from what the state holds,
    /// so a run with nothing to change still has something to record.
    pub fn state_moved(&self, prior_outputs: &BTreeMap<String, Value>) -> bool {
        let known: BTreeMap<String, Value> = self
            .planned_outputs
            .iter()
            .filter(|(_, v)| !v.has_unknown())
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        self.refreshed != self.prior_state.resources || &known != prior_outputs
    }

    pub fn change(&self, address: &Address) -> Option<&ResourceChange> {
        self.changes.iter().find(|c| &c.address == address)
    }

    /// The plan's data-loss section, one line each: what is lost, why, and the final
    /// snapshot; then what apply will require. Empty when no data is at stake.
    /// The changes that interrupt something, strongest first (then in plan order):
    /// the plan's summary of what it will interrupt and for roughly how long.
    pub fn interruptions(&self) -> Vec<(&Address, &Interruption)> {
        let mut out: Vec<(&Address, &Interruption)> =
            self.changes.iter().filter_map(|c| Some((&c.address, c.interruption.as_ref()?))).collect();
        out.sort_by_key(|(_, i)| std::cmp::Reverse(i.effect));
        out
    }

    pub fn data_loss_lines(&self) -> Vec<String> {
        let lost: Vec<&ResourceChange> = self.data_loss().collect();
        let rules = |c: &ResourceChange| c.address.kind.holds_data;
        let nouns: BTreeSet<&str> = lost.iter().filter_map(|c| rules(c)).map(|r| r.noun).collect();
        let noun = match nouns.iter().collect::<Vec<_>>().as_slice() {
            [one] => **one,
            _ => "object",
        };
        let mut lines = protected_lines(self);
        if lost.is_empty() {
            return lines;
        }
        lines.push(format!(
            "DATA LOSS: this plan destroys {} {noun}{} and the data in {}:",
            lost.len(),
            if lost.len() == 1 { "" } else { "s" },
            if lost.len() == 1 { "it" } else { "them" }
        ));
        for c in &lost {
            let (Some(d), Some(r)) = (c.data_loss.as_ref(), rules(c)) else { continue };
            let what = match c.action {
                _ if c.replace_requested && c.replace_because.is_empty() => {
                    format!("replaced (as asked with --replace): a new, empty {}", r.noun)
                }
                Action::DeleteThenCreate | Action::CreateThenDelete => format!(
                    "replaced ({} cannot change in place): a new, empty {}",
                    c.replace_because.iter().map(|a| format!("`{a}`")).collect::<Vec<_>>().join(", "),
                    r.noun
                ),
                _ if self.operation == Operation::Destroy => "destroyed".to_string(),
                _ => "destroyed (no longer in the spec)".to_string(),
            };
            let snapshot = match (&d.final_snapshot, &d.no_snapshot_because) {
                (Some(name), _) => format!("final snapshot `{name}` is taken first"),
                (None, Some(why)) => format!("no final snapshot: {why}"),
                (None, None) => match r.skip_final_snapshot {
                    Some(setting) => format!("NO final snapshot (`{setting}: true`)"),
                    None => "no final snapshot".to_string(),
                },
            };
            let guard = if d.protected { "protected".to_string() } else { r.consent_words() };
            lines.push(format!("  {}: {what}; {snapshot}; {guard}", c.address));
        }
        let guards: BTreeSet<String> = lost
            .iter()
            .filter(|c| c.data_loss.as_ref().is_some_and(|d| d.protected))
            .filter_map(|c| rules(c))
            .map(|r| r.consent_words())
            .collect();
        if !guards.is_empty() {
            let settings: Vec<String> = guards.iter().cloned().collect();
            lines.push(format!(
                "apply refuses this unless run with --allow-data-loss, or each {noun} says {}",
                settings.join(" or ")
            ));
        }
        lines
    }

    /// Changes that destroy data.
    pub fn data_loss(&self) -> impl Iterator<Item = &ResourceChange> {
        self.changes.iter().filter(|c| c.data_loss.is_some())
    }

    /// Changes that destroy protected data or a protected object: apply refuses them
    /// unless data loss is allowed.
    pub fn protected_changes(&self) -> Vec<&ResourceChange> {
        self.changes.iter().filter(|c| c.protected).collect()
    }

    /// Why apply (or destroy) refuses this plan without `--allow-data-loss`, with the
    /// way to let it through; `None` when it has no protected change. The words about
    /// final snapshots say what the plan's DATA LOSS section says, no more.
    pub fn refusal(&self) -> Option<String> {
        let refused = self.protected_changes();
        if refused.is_empty() {
            return None;
        }
        let names: Vec<String> = refused.iter().map(|c| c.address.to_string()).collect();
        let verb = if self.operation == Operation::Destroy { "destroy" } else { "apply" };
        if refused.iter().any(|c| c.address.kind.holds_data.is_none()) {
            return Some(format!(
                "refusing to {verb}: it would destroy {}, protected by `{p}: true`. Nothing was changed.\nhelp: if they may go, run again with --allow-data-loss, or apply `{p}: false` on them first (an object no longer in the spec keeps the protection it was last applied with)",
                names.join(", "),
                p = trellis_core::schema::PROTECT,
            ));
        }
        // The hint names the setting of the first refused kind (all kinds that hold data
        // declare it in their schema).
        let rules = refused.iter().find_map(|c| c.address.kind.holds_data);
        let (consent, noun) = rules.map_or((format!("`{}: false`", trellis_core::schema::PROTECT), "resource"), |r| {
            (r.consent_words(), r.noun)
        });
        // Say of the final snapshots only what the plan says: which are taken, which not.
        let (taken, none): (Vec<&ResourceChange>, Vec<&ResourceChange>) =
            refused.iter().partition(|c| c.data_loss.as_ref().is_some_and(|d| d.final_snapshot.is_some()));
        let takes_snapshots =
            refused.iter().any(|c| c.address.kind.holds_data.is_some_and(|r| r.skip_final_snapshot.is_some()));
        let snapshots = match (taken.is_empty(), none.is_empty()) {
            _ if !takes_snapshots => String::new(),
            (_, true) => " (final snapshots are still taken)".to_string(),
            (true, false) => " (with no final snapshot, as the plan says)".to_string(),
            (false, false) => format!(
                " (final snapshots are still taken, but none of {})",
                none.iter().map(|c| c.address.to_string()).collect::<Vec<_>>().join(", ")
            ),
        };
        Some(format!(
            "refusing to {verb}: it would destroy the data of {} (protected). Nothing was changed.\nhelp: if the data may go, run again with --allow-data-loss{snapshots}, or set {consent} on the {noun} in the spec",
            names.join(", ")
        ))
    }
}

/// The plan's section on objects of kinds that hold no data but say `protect: true`.
pub(crate) fn protected_lines(plan: &Plan) -> Vec<String> {
    let guarded: Vec<&ResourceChange> =
        plan.changes.iter().filter(|c| c.protected && c.address.kind.holds_data.is_none()).collect();
    if guarded.is_empty() {
        return vec![];
    }
    let n = guarded.len();
    let mut lines = vec![format!(
        "PROTECTED: this plan destroys {n} object{} marked `{}: true`:",
        if n == 1 { "" } else { "s" },
        trellis_core::schema::PROTECT
    )];
    for c in guarded {
        let what = match c.action {
            _ if c.replace_requested && c.replace_because.is_empty() => {
                "replaced (as asked with --replace)".to_string()
            }
            Action::DeleteThenCreate | Action::CreateThenDelete => format!(
                "replaced ({} cannot change in place)",
                c.replace_because.iter().map(|a| format!("`{a}`")).collect::<Vec<_>>().join(", ")
            ),
            _ if plan.operation == Operation::Destroy => "destroyed".to_string(),
            _ => "destroyed (no longer in the spec; protected as last applied)".to_string(),
        };
        lines.push(format!("  {}: {what}", c.address));
    }
    lines.push(format!(
        "apply refuses this unless run with --allow-data-loss, or `{}: false` is applied first",
        trellis_core::schema::PROTECT
    ));
    lines
}
