//! The planner: compares what the spec asks for with the state of the last run and
//! the live objects just read, and decides one action per resource.
//!
//! Architecture invariant: this crate is pure. No IO, no async runtime, no AWS types:
//! it takes a spec, a state and a refresh result, and returns a [`Plan`]. Everything it
//! knows about kinds comes from the schemas in `trellis-core`.

mod adopt;
mod json;
mod markdown;
mod render;
mod rollout;
mod saved;

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use trellis_core::schema::{Attr, Kind, Mode};
use trellis_core::{kinds, secret, Address, Attrs, Expr, LiveObject, Ref, Value};
use trellis_graph::DepGraph;
use trellis_spec::Spec;
use trellis_state::{ResourceState, State};

pub use adopt::{adopt, Adoption, Refusal};
pub use json::{to_json, PlanJson};
pub use markdown::render_markdown;
pub use render::{column_width, render, render_to, RenderOptions, MAX_COLUMN};
pub use rollout::{batch_size, Rollout};
pub use saved::{differences, spec_digest, SavedPlan, SavedPlanError, SpecSource, SAVED_PLAN_FORMAT};
pub use trellis_spec::{Diagnostic, Diagnostics};

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
}

/// What a change that destroys data will do, for the plan's separate section and for
/// apply's refusal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataLoss {
    /// True unless the object says `protect: false`: apply then needs `--allow-data-loss`.
    pub protected: bool,
    /// The snapshot taken before the delete; none with `skip_final_snapshot: true`.
    pub final_snapshot: Option<String>,
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
    Address { name: format!("{}__deposed_{tail}", address.name), ..address.clone() }
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
            let snapshot = match &d.final_snapshot {
                Some(name) => format!("final snapshot `{name}` is taken first"),
                None => format!("NO final snapshot (`{}: true`)", r.skip_final_snapshot),
            };
            let guard = if d.protected { "protected".to_string() } else { format!("`{}: false`", r.protect) };
            lines.push(format!("  {}: {what}; {snapshot}; {guard}", c.address));
        }
        let guards: BTreeSet<&str> = lost
            .iter()
            .filter(|c| c.data_loss.as_ref().is_some_and(|d| d.protected))
            .filter_map(|c| rules(c))
            .map(|r| r.protect)
            .collect();
        if !guards.is_empty() {
            let settings: Vec<String> = guards.iter().map(|g| format!("`{g}: false`")).collect();
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
}

/// The plan's section on objects of kinds that hold no data but say `protect: true`.
fn protected_lines(plan: &Plan) -> Vec<String> {
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

#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("dependency cycle: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join(" -> "))]
    Cycle(Vec<Address>),
    /// A `moved:` entry the state cannot take, pointed at in the spec.
    #[error("{0}")]
    Spec(trellis_spec::Diagnostics),
}

/// What the planner compares.
pub struct PlanInput<'a> {
    pub spec: &'a Spec,
    /// The state of the previous run (none for a stack never applied).
    pub prior: Option<&'a State>,
    /// Live objects found for the state's addresses.
    pub live: &'a BTreeMap<Address, LiveObject>,
    pub orphans: &'a [LiveObject],
    /// For the live objects that carry one, the address their `trellis:address` tag
    /// names, keyed like `live`.
    pub tags: &'a BTreeMap<Address, Address>,
    pub operation: Operation,
    /// Plan only these addresses and what they need (for destroy: and what needs them).
    pub targets: &'a [Address],
    /// `--replace`: objects replaced although the spec did not change (a resource named
    /// without a key: every copy).
    pub replace: &'a [Address],
    /// Reads `${env.NAME}` for sensitive attributes, so that a changed secret shows as a
    /// change (as a digest: the value itself never enters the plan).
    pub env: &'a dyn Fn(&str) -> Option<String>,
}

/// Plans one run: refresh the state against the live objects, then plan what the spec
/// wants (for apply) in creation order, then the deletes, dependents first.
pub fn plan(input: PlanInput<'_>) -> Result<Plan, PlanError> {
    let prior_resources: Vec<ResourceState> = input.prior.map(|s| s.resources.clone()).unwrap_or_default();
    let refresh_only = input.operation == Operation::RefreshOnly;
    // A refresh-only plan records what is live where the state holds it: moves wait
    // for an apply.
    let (moved, moves) =
        if refresh_only { (prior_resources.clone(), vec![]) } else { apply_moves(&prior_resources, input.spec)? };
    // Where the state held each moved object: the live objects were read under it.
    let origin: BTreeMap<&Address, &Address> = moves.iter().map(|m| (&m.to, &m.from)).collect();
    let (refreshed, drift) = refresh(&moved, &origin, &input);
    let current: BTreeMap<&Address, &ResourceState> = refreshed.iter().map(|r| (&r.address, r)).collect();
    let scope = scope(&input, &refreshed);
    let in_scope = |a: &Address| scope.as_ref().is_none_or(|s| s.contains(a));
    let serial = input.prior.map(|p| p.serial).unwrap_or(0);

    let mut changes = Vec::new();
    let mut planned: BTreeMap<Address, Attrs> = BTreeMap::new();
    if input.operation == Operation::Apply {
        let order = input.spec.graph().creation_order().map_err(PlanError::Cycle)?;
        for address in &order {
            let existing = current.get(address).copied();
            if !in_scope(address) {
                if let Some(r) = existing {
                    planned.insert(address.clone(), r.attributes.clone());
                }
                continue;
            }
            let replace = input.replace.iter().any(|r| r == address || (r.key.is_none() && address.resource() == *r));
            let resource = &input.spec.resources[address];
            let mut change = plan_resource(resource, existing, &planned, input.env, &input.spec.stack, replace);
            let was = origin.get(address).copied();
            change.previous_address = was.cloned();
            let tag = input.tags.get(was.unwrap_or(address));
            let tagged_elsewhere = kind_has_tags(address) && (tag.is_some_and(|t| t != address) || was.is_some());
            if tagged_elsewhere && matches!(change.action, Action::NoOp | Action::Update) {
                change.retag = true;
                let old = tag.unwrap_or(was.unwrap_or(address));
                change.notes.push(format!("its `trellis:address` tag names `{old}`; apply rewrites it"));
            }
            if let (true, Some(existing)) = (change.action.is_replace(), existing) {
                let settings = settings_of(Some(resource), &existing.attributes);
                change.data_loss = data_loss(existing.address.kind, &existing.attributes, &settings, serial);
                change.protected = protected(existing.address.kind, &settings);
            }
            planned.insert(address.clone(), change.after.clone().unwrap_or_default());
            changes.push(change);
        }
        plan_reboots(&mut changes, current.values().copied());
    }

    // Deletions: in state, not wanted (or everything, for destroy), dependents first;
    // what `removed:` names is forgotten instead, in either operation.
    let forgotten = |a: &Address| input.spec.removed.iter().any(|r| r.covers(a));
    let doomed: Vec<&ResourceState> = refreshed
        .iter()
        .filter(|r| match input.operation {
            Operation::Destroy => true,
            Operation::Apply => !input.spec.resources.contains_key(&r.address),
            Operation::RefreshOnly => false,
        })
        .filter(|r| in_scope(&r.address) && !forgotten(&r.address))
        .collect();
    let deps: Vec<(Address, BTreeSet<Address>)> =
        doomed.iter().map(|r| (r.address.clone(), r.dependencies.iter().cloned().collect())).collect();
    let order = DepGraph::new(deps.iter().map(|(a, d)| (a, d))).deletion_order().map_err(PlanError::Cycle)?;
    for address in order {
        let mut change = plan_delete(current[&address], input.spec.resources.get(&address), serial);
        if input.operation == Operation::Apply {
            change.notes.extend(why_copy_goes(input.spec, &address));
        }
        change.previous_address = origin.get(&address).map(|a| (*a).clone());
        changes.push(change);
    }
    for r in refreshed.iter().filter(|r| !refresh_only && in_scope(&r.address) && forgotten(&r.address)) {
        let mut change = plan_delete(r, None, serial);
        change.action = Action::Forget;
        change.data_loss = None;
        change.protected = false;
        change.previous_address = origin.get(&r.address).map(|a| (*a).clone());
        let tags = if kind_has_tags(&r.address) { "; its `trellis:` tags are removed" } else { "" };
        change.notes.push(format!("it stays in the cloud as it is{tags}"));
        changes.push(change);
    }

    let (outputs, planned_outputs) = match input.operation {
        Operation::Apply => {
            let outputs = input.spec.outputs.clone();
            let values = outputs.iter().map(|(k, e)| (k.clone(), e.eval(&|r| lookup(&planned, r)))).collect();
            (outputs, values)
        }
        // What the state will hold is what is live.
        Operation::RefreshOnly => {
            let live: BTreeMap<Address, Attrs> =
                refreshed.iter().map(|r| (r.address.clone(), r.attributes.clone())).collect();
            let outputs = input.spec.outputs.clone();
            let values = outputs.iter().map(|(k, e)| (k.clone(), e.eval(&|r| lookup(&live, r)))).collect();
            (outputs, values)
        }
        Operation::Destroy => (BTreeMap::new(), BTreeMap::new()),
    };
    Ok(Plan {
        format_version: PLAN_FORMAT_VERSION,
        stack: input.spec.stack.clone(),
        operation: input.operation,
        prior_state: PriorState { lineage: input.prior.map(|s| s.lineage.clone()), serial, resources: prior_resources },
        refreshed,
        drift,
        changes,
        outputs,
        planned_outputs,
        orphans: input.orphans.iter().map(|o| Orphan { address: o.address.clone(), id: o.id.clone() }).collect(),
        targets: input.targets.to_vec(),
        reads: reads(input.spec),
        stacks: stack_reads(input.spec),
        moves,
    })
}

/// True for kinds whose objects carry tags, trellis's own among them.
fn kind_has_tags(a: &Address) -> bool {
    a.kind.attr("tags").is_some()
}

/// The prior state's objects under the addresses the spec's `moved:` entries give them
/// (in order, each on what the ones before left), with the dependencies naming them
/// rewritten, and the moves made. A move onto an address the state holds already is the
/// spec's error, pointed at the move.
fn apply_moves(prior: &[ResourceState], spec: &Spec) -> Result<(Vec<ResourceState>, Vec<Moved>), PlanError> {
    if spec.moves.is_empty() {
        return Ok((prior.to_vec(), vec![]));
    }
    let mut resources: BTreeMap<Address, ResourceState> =
        prior.iter().map(|r| (r.address.clone(), r.clone())).collect();
    // Current address -> the one the state held it at.
    let mut first: BTreeMap<Address, Address> = BTreeMap::new();
    let mut problems = Vec::new();
    for m in &spec.moves {
        let hits: Vec<(Address, Address)> = resources.keys().filter_map(|a| Some((a.clone(), m.apply(a)?))).collect();
        for (from, to) in hits {
            if let Some(there) = resources.get(&to) {
                let message = format!("`{from}` cannot move to `{to}`: the state already holds `{to}` ({})", there.id);
                let help = format!(
                    "one address holds one object: `trellis state rm SPEC {to}` lets the other go first, or remove this move"
                );
                problems.push(trellis_spec::Diagnostic::new(message, Some(m.span)).help(help));
                continue;
            }
            let mut r = resources.remove(&from).expect("listed above");
            r.address = to.clone();
            resources.insert(to.clone(), r);
            let origin = first.remove(&from).unwrap_or(from);
            first.insert(to, origin);
        }
    }
    if !problems.is_empty() {
        return Err(PlanError::Spec(trellis_spec::Diagnostics { file: spec.file.clone(), items: problems }));
    }
    let renamed: BTreeMap<&Address, &Address> =
        first.iter().filter(|(to, from)| to != from).map(|(t, f)| (f, t)).collect();
    let mut out: Vec<ResourceState> = resources.into_values().collect();
    for r in &mut out {
        for d in &mut r.dependencies {
            if let Some(to) = renamed.get(d) {
                *d = (*to).clone();
            }
        }
    }
    // The state's order: by address.
    out.sort_by(|a, b| a.address.cmp(&b.address));
    let moves = first
        .into_iter()
        .filter(|(to, from)| to != from)
        .map(|(to, from)| {
            let id = out.iter().find(|r| r.address == to).map(|r| r.id.clone()).unwrap_or_default();
            Moved { from, to, id }
        })
        .collect();
    Ok((out, moves))
}

/// The other stacks' states the spec was read with, and the outputs it took from each.
fn stack_reads(spec: &Spec) -> Vec<StackRead> {
    spec.stacks
        .values()
        .filter_map(|r| {
            let o = r.read.as_ref()?;
            let outputs = r.keys.iter().filter_map(|k| Some((k.clone(), o.outputs.get(k)?.clone()))).collect();
            Some(StackRead {
                stack: r.name.clone(),
                location: o.location.clone(),
                lineage: o.lineage.clone(),
                serial: o.serial,
                outputs,
            })
        })
        .collect()
}

/// The lookups the spec was read with, and what each found.
fn reads(spec: &Spec) -> Vec<LookupRead> {
    spec.lookups
        .values()
        .filter_map(|l| {
            let found = l.found.clone()?;
            let filters = l.filters.iter().map(|(k, f)| format!("{k}: {}", filter_text(f))).collect::<Vec<_>>();
            Some(LookupRead { address: l.address.to_string(), filters: filters.join(", "), found })
        })
        .collect()
}

fn filter_text(f: &trellis_spec::Filter) -> String {
    match f {
        trellis_spec::Filter::Value(Value::Str(s)) => s.clone(),
        trellis_spec::Filter::Value(v) => v.to_string(),
        trellis_spec::Filter::From { lookup, attr } if attr == lookup.kind.default_attr => format!("${{{lookup}}}"),
        trellis_spec::Filter::From { lookup, attr } => format!("${{{lookup}.{attr}}}"),
    }
}

/// The prior state with each object replaced by what is live now (secrets read in
/// plain text replaced by their digests), and the drift between the two.
fn refresh(
    prior: &[ResourceState],
    origin: &BTreeMap<&Address, &Address>,
    input: &PlanInput<'_>,
) -> (Vec<ResourceState>, Vec<Drift>) {
    let mut refreshed = Vec::new();
    let mut drift = Vec::new();
    for r in prior {
        let mut secret: BTreeSet<&str> = r.sensitive.iter().map(String::as_str).collect();
        if let Some(res) = input.spec.resources.get(&r.address) {
            secret.extend(res.sensitive.iter().map(String::as_str));
        }
        let read_as = origin.get(&r.address).copied().unwrap_or(&r.address);
        let found = input.live.get(read_as).map(|l| LiveObject { address: r.address.clone(), ..l.clone() });
        let Some(live) = found.map(|l| observed(&l, &r.attributes, &secret, &input.spec.stack)) else {
            drift.push(Drift {
                address: r.address.clone(),
                before: r.attributes.clone(),
                after: None,
                ignored: vec![],
            });
            continue;
        };
        // An object recorded by a create that failed before it could be read back has no
        // attributes yet: nothing to compare, so no drift.
        if live.attrs != r.attributes && !r.attributes.is_empty() {
            let ignore = input.spec.resources.get(&r.address).map(|res| &res.ignore_changes);
            let ignored = ignore.into_iter().flatten().filter(|p| differs(&r.attributes, &live.attrs, p)).cloned();
            drift.push(Drift {
                address: r.address.clone(),
                before: r.attributes.clone(),
                after: Some(live.attrs.clone()),
                ignored: ignored.collect(),
            });
        }
        refreshed.push(ResourceState {
            id: live.id,
            attributes: live.attrs,
            sensitive: secret.iter().map(|s| s.to_string()).collect(),
            ..r.clone()
        });
    }
    (refreshed, drift)
}

/// True when the attribute at `path` (`NAME` or `NAME.KEY`) differs between two objects.
fn differs(a: &Attrs, b: &Attrs, path: &str) -> bool {
    let at = |x: &Attrs| match path.split_once('.') {
        None => x.get(path).cloned(),
        Some((name, key)) => x.get(name).and_then(Value::as_map).and_then(|m| m.get(key)).cloned(),
    };
    !same(at(a).as_ref(), at(b).as_ref())
}

/// With `--target`: the targets and what they depend on (or, for destroy, what depends
/// on them); everything else is left as it is. `None`: everything is in scope.
fn scope(input: &PlanInput<'_>, refreshed: &[ResourceState]) -> Option<BTreeSet<Address>> {
    if input.targets.is_empty() {
        return None;
    }
    // A repeated resource named without a key stands for all its copies.
    let named = |a: &Address| input.targets.iter().any(|t| t == a || (t.key.is_none() && a.resource() == *t));
    let known = input.spec.resources.keys().chain(refreshed.iter().map(|r| &r.address));
    let mut set: BTreeSet<Address> = known.filter(|a| named(a)).cloned().collect();
    let targets: Vec<Address> = set.iter().cloned().collect();
    match input.operation {
        Operation::Apply => {
            let g = input.spec.graph();
            for t in &targets {
                set.extend(g.dependencies_of(t));
            }
        }
        Operation::Destroy => loop {
            let more: Vec<Address> = refreshed
                .iter()
                .filter(|r| !set.contains(&r.address) && r.dependencies.iter().any(|d| set.contains(d)))
                .map(|r| r.address.clone())
                .collect();
            if more.is_empty() {
                break;
            }
            set.extend(more);
        },
        // It changes nothing, so there is nothing to limit (the session refuses targets).
        Operation::RefreshOnly => {}
    }
    Some(set)
}

/// Why a copy of a repeated resource (or a resource that has become one, or stopped
/// being one) goes, when that is why: `instance.web now has count 2`.
fn why_copy_goes(spec: &Spec, address: &Address) -> Option<String> {
    let whole = address.resource();
    match spec.repeats.get(&whole) {
        Some(r) => Some(r.why_gone(address)),
        None if address.key.is_some() && spec.resources.contains_key(&whole) => {
            Some(format!("`{whole}` no longer has `count` or `for_each`: it is one resource at `{whole}`"))
        }
        None => None,
    }
}

/// The delete of `r`, which the spec (`resource`, when it still names it) no longer wants.
fn plan_delete(r: &ResourceState, resource: Option<&trellis_spec::Resource>, serial: u64) -> ResourceChange {
    let settings = settings_of(resource, &r.attributes);
    ResourceChange {
        data_loss: data_loss(r.address.kind, &r.attributes, &settings, serial),
        protected: protected(r.address.kind, &settings),
        replace_requested: false,
        rollout: None,
        address: r.address.clone(),
        action: Action::Delete,
        id: Some(r.id.clone()),
        before: Some(r.attributes.clone()),
        after: None,
        config: None,
        replace_because: vec![],
        depends_on: vec![],
        prior_depends_on: r.dependencies.clone(),
        notes: vec![],
        sensitive: r.sensitive.clone(),
        previous_address: None,
        retag: false,
    }
}

/// The value a reference reads from the planned attributes of another resource.
pub fn lookup(planned: &BTreeMap<Address, Attrs>, r: &Ref) -> Value {
    planned.get(&r.address).and_then(|attrs| attrs.get(r.attr_name())).cloned().unwrap_or(Value::Unknown)
}

/// One attribute of an object read back after apply that is not what was planned.
#[derive(Debug, Clone, PartialEq)]
pub struct Mismatch {
    pub attr: String,
    pub planned: Value,
    pub actual: Value,
}

/// What an object read back after its create or update lacks of what was `planned`
/// (the values the apply sent): every attribute the planner compares, by the same rule,
/// so an object that passes this check plans as no change. Values still unknown and
/// trellis's own settings are not checked.
pub fn mismatches(kind: &trellis_core::schema::Kind, planned: &Attrs, actual: &Attrs) -> Vec<Mismatch> {
    kind.object
        .attrs
        .iter()
        .filter(|a| a.settable() && !a.local && !a.write_only)
        .filter_map(|a| {
            let want = planned.get(a.name);
            if (want.is_none() && a.mode == Mode::OptionalComputed) || want.is_some_and(Value::has_unknown) {
                return None;
            }
            let have = actual.get(a.name);
            (!same(want, have)).then(|| Mismatch {
                attr: a.name.to_string(),
                planned: want.cloned().unwrap_or(Value::Null),
                actual: have.cloned().unwrap_or(Value::Null),
            })
        })
        .collect()
}

/// Equal for planning: an absent attribute and `null` are the same thing.
fn same(a: Option<&Value>, b: Option<&Value>) -> bool {
    let a = a.filter(|v| **v != Value::Null);
    let b = b.filter(|v| **v != Value::Null);
    a == b
}

/// A live object as trellis records and compares it: its secrets (`secret`) as digests
/// under the salts of `recorded` (a secret AWS does not return, a password, keeps the
/// recorded digest), and trellis's own settings (`protect`, ...) and write-only
/// attributes as `recorded` has them, since the cloud does not give them back. `recorded` is the state's object for the
/// planner's refresh and the saved-plan check, the planned attributes for the engine's
/// read-back, nothing for an adoption. The one normalisation of an observed object.
pub fn observed(live: &LiveObject, recorded: &Attrs, secret: &BTreeSet<&str>, stack: &str) -> LiveObject {
    let mut out = live.clone();
    for name in secret {
        let before = recorded.get(*name).filter(|v| !v.has_unknown());
        match out.attrs.get(*name) {
            None | Some(Value::Null) => {
                if let Some(d @ Value::Sensitive(_)) = before {
                    out.attrs.insert(name.to_string(), d.clone());
                }
            }
            Some(v) => {
                let v = secret::redact(v, before, || secret::new_salt(stack, &live.address, name));
                out.attrs.insert(name.to_string(), v);
            }
        }
    }
    for a in live.address.kind.unread_attrs() {
        match recorded.get(a.name).filter(|v| !v.has_unknown()) {
            Some(v) => out.attrs.insert(a.name.to_string(), v.clone()),
            // What AWS shows of a write-only attribute stands in until trellis records
            // one (an object being adopted).
            None if a.write_only => None,
            None => out.attrs.remove(a.name),
        };
    }
    out
}

/// The change that brings one declared resource from `existing` (refreshed) to the spec.
fn plan_resource(
    resource: &trellis_spec::Resource,
    existing: Option<&ResourceState>,
    planned: &BTreeMap<Address, Attrs>,
    env: &dyn Fn(&str) -> Option<String>,
    stack: &str,
    replace: bool,
) -> ResourceChange {
    let kind = resource.kind;
    let mut after = desired(resource, existing, planned, env, stack);
    let mut config = resource.attrs.clone();
    if let Some(e) = existing.filter(|_| !resource.ignore_changes.is_empty()) {
        keep_ignored(&mut after, &e.attributes, &resource.ignore_changes);
    }
    let changed: Vec<&Attr> = existing.map(|e| changed_attrs(kind, &after, e)).unwrap_or_default();
    let replace_because: Vec<String> = changed.iter().filter(|a| a.force_new).map(|a| a.name.to_string()).collect();
    let mut action = match existing {
        None => Action::Create,
        Some(_) if !replace_because.is_empty() || replace => Action::DeleteThenCreate,
        Some(_) if !changed.is_empty() => Action::Update,
        Some(_) => Action::NoOp,
    };
    let mut notes = Vec::new();
    if let (Action::Update, Some(existing)) = (action, existing) {
        notes = update_notes(kind, &changed, &mut after, existing);
    }
    match (action, existing) {
        // A new object takes the spec's values, ignored ones included.
        (Action::DeleteThenCreate, _) if !resource.ignore_changes.is_empty() => {
            after = desired(resource, existing, planned, env, stack);
        }
        // An update sends the live values of what is ignored, so it leaves them alone.
        (Action::Update | Action::NoOp, Some(e)) if !resource.ignore_changes.is_empty() => {
            keep_ignored_config(std::sync::Arc::make_mut(&mut config), &e.attributes, &resource.ignore_changes);
        }
        _ => {}
    }
    let rollout = match (action, existing) {
        (Action::Update, Some(e)) => rollout::rollout_of(kind, &e.attributes, &after, Some(&config)),
        _ => None,
    };
    if action == Action::DeleteThenCreate {
        let (order, note) = replacement_order(kind, &after, existing);
        action = order;
        notes.extend(note);
    }
    // What AWS decides: kept from the live object unless a new one will be made.
    for attr in kind.object.attrs.iter().filter(|a| a.mode == Mode::Computed || a.mode == Mode::OptionalComputed) {
        if after.contains_key(attr.name) {
            continue;
        }
        let known = match (action, existing) {
            (Action::NoOp | Action::Update, Some(e)) => e.attributes.get(attr.name).cloned(),
            _ => None,
        };
        after.insert(attr.name.to_string(), known.unwrap_or(Value::Unknown));
    }
    ResourceChange {
        address: resource.address.clone(),
        action,
        id: existing.map(|e| e.id.clone()),
        before: existing.map(|e| e.attributes.clone()),
        after: Some(after),
        config: Some(config),
        replace_because,
        depends_on: resource.dependencies().into_iter().collect(),
        prior_depends_on: existing.map(|e| e.dependencies.clone()).unwrap_or_default(),
        notes,
        sensitive: resource.sensitive.iter().cloned().collect(),
        data_loss: None,
        previous_address: None,
        retag: false,
        replace_requested: replace && existing.is_some(),
        protected: false,
        rollout,
    }
}

/// Each path of `ignore` (`NAME`, or `NAME.KEY` in a mapping) set in `attrs` as `live`
/// has it, or left out where `live` has none.
fn keep_ignored(attrs: &mut Attrs, live: &Attrs, ignore: &BTreeSet<String>) {
    for path in ignore {
        match path.split_once('.') {
            None => match live.get(path) {
                Some(v) => attrs.insert(path.clone(), v.clone()),
                None => attrs.remove(path),
            },
            Some((name, key)) => {
                let Some(Value::Map(map)) = attrs.get_mut(name) else { continue };
                match live.get(name).and_then(Value::as_map).and_then(|m| m.get(key)) {
                    Some(v) => map.insert(key.to_string(), v.clone()),
                    None => map.remove(key),
                }
            }
        };
    }
}

/// The same for the expressions an update evaluates at apply time: what is ignored
/// becomes the live value, so the update sends it unchanged.
fn keep_ignored_config(config: &mut BTreeMap<String, Expr>, live: &Attrs, ignore: &BTreeSet<String>) {
    for path in ignore {
        match path.split_once('.') {
            None => match live.get(path) {
                Some(v) => config.insert(path.clone(), Expr::Lit(v.clone())),
                None => config.remove(path),
            },
            Some((name, key)) => {
                if let Some(Expr::Lit(Value::Map(m))) = config.get(name) {
                    let entries = m.iter().map(|(k, v)| (k.clone(), Expr::Lit(v.clone()))).collect();
                    config.insert(name.to_string(), Expr::Map(entries));
                }
                let Some(Expr::Map(map)) = config.get_mut(name) else { continue };
                match live.get(name).and_then(Value::as_map).and_then(|m| m.get(key)) {
                    Some(v) => map.insert(key.to_string(), Expr::Lit(v.clone())),
                    None => map.remove(key),
                }
            }
        };
    }
}

/// The spec's attributes evaluated against what is planned so far; a secret as its
/// digest, under the salt the state uses for it.
fn desired(
    resource: &trellis_spec::Resource,
    existing: Option<&ResourceState>,
    planned: &BTreeMap<Address, Attrs>,
    env: &dyn Fn(&str) -> Option<String>,
    stack: &str,
) -> Attrs {
    resource
        .attrs
        .iter()
        .map(|(k, e)| {
            if !resource.sensitive.contains(k) {
                return (k.clone(), e.eval(&|r| lookup(planned, r)));
            }
            let plain = e.eval_with_env(&|r| lookup(planned, r), env);
            let previous = existing.and_then(|x| x.attributes.get(k));
            let v = match plain {
                Value::Unknown => Value::Unknown,
                v => secret::redact(&v, previous, || secret::new_salt(stack, &resource.address, k)),
            };
            (k.clone(), v)
        })
        .collect()
}

/// The settable attributes whose wanted value differs from `existing`'s (or is not
/// known yet). An attribute the spec leaves to AWS never differs.
fn changed_attrs<'k>(kind: &'k Kind, after: &Attrs, existing: &ResourceState) -> Vec<&'k Attr> {
    kind.object
        .attrs
        .iter()
        .filter(|a| a.settable())
        .filter(|attr| {
            let want = after.get(attr.name);
            if want.is_none() && attr.mode == Mode::OptionalComputed {
                return false; // left to AWS: whatever is live is fine
            }
            want.is_some_and(Value::has_unknown) || !same(want, existing.attributes.get(attr.name))
        })
        .collect()
}

/// What an update says beside its diff; a versioned kind's next version number goes
/// into `after` (it keeps its object: a change of its data is the next version).
fn update_notes(kind: &Kind, changed: &[&Attr], after: &mut Attrs, existing: &ResourceState) -> Vec<String> {
    let mut notes = Vec::new();
    if let Some(counter) = kind.versioned {
        if changed.iter().any(|a| a.name != "tags") {
            if let Some(n) = existing.attributes.get(counter).and_then(Value::as_int) {
                after.insert(counter.to_string(), Value::Int(n + 1));
                notes.push(format!("new version {}; version {n} is kept", n + 1));
            }
        }
    }
    for a in changed.iter().filter(|a| a.note.is_some()) {
        notes.push(format!("`{}`: {}", a.name, a.note.unwrap_or_default()));
    }
    if let Some(say) = kind.update_note.filter(|_| changed.iter().any(|a| !a.local)) {
        notes.push(say(after));
    }
    notes
}

/// Which way a replacement goes. A kind whose name AWS can generate is made first and
/// the old object deleted after, unless the spec fixes a name the old object still holds.
fn replacement_order(kind: &Kind, after: &Attrs, existing: Option<&ResourceState>) -> (Action, Option<String>) {
    if kind.new_first {
        let note = "create before destroy: the new object is made and ready first, then the old one is deleted (nothing about it is unique in AWS, and it may be serving)";
        return (Action::CreateThenDelete, Some(note.to_string()));
    }
    let Some(name_attr) = kind.generated_name else {
        return (Action::DeleteThenCreate, None);
    };
    let spec_name = after.get(name_attr);
    let old_name = existing.and_then(|e| e.attributes.get(name_attr));
    if spec_name.is_none() || spec_name != old_name {
        let generated = if spec_name.is_none() { " under a generated name" } else { "" };
        let note =
            format!("create before destroy: the new object is made first{generated}, then the old one is deleted");
        return (Action::CreateThenDelete, Some(note));
    }
    let note = format!(
        "destroy before create: the spec fixes `{name_attr}`, and AWS allows one object per name; leave `{name_attr}` out to replace without a gap"
    );
    (Action::DeleteThenCreate, Some(note))
}

/// Whether deleting or replacing an object with these settings (as [`settings_of`]
/// gives them) needs consent: a kind that holds data unless it says `protect: false`,
/// any other kind when it says `protect: true`.
fn protected(kind: &Kind, settings: &Attrs) -> bool {
    let name = kind.holds_data.map_or(trellis_core::schema::PROTECT, |r| r.protect);
    let flag = settings.get(name).and_then(Value::as_bool);
    match kind.holds_data {
        Some(_) => flag != Some(false),
        None => flag == Some(true),
    }
}

/// trellis's own settings of an object (`protect`, `skip_final_snapshot`, ...): as the
/// spec gives them now when it still names the object, else as the state recorded them.
fn settings_of(resource: Option<&trellis_spec::Resource>, recorded: &Attrs) -> Attrs {
    let mut out = recorded.clone();
    if let Some(res) = resource {
        for a in res.kind.local_attrs() {
            if let Some(v) = res.attrs.get(a.name).and_then(Expr::as_literal) {
                out.insert(a.name.to_string(), v);
            }
        }
    }
    out
}

/// For a delete or replacement of an object that holds data: whether it is protected
/// and which final snapshot its delete takes (the kind's `DataRules` name the settings).
/// The snapshot is named after the object and the state serial this run will write, so
/// two runs never pick the same name.
fn data_loss(kind: &Kind, live: &Attrs, settings: &Attrs, serial: u64) -> Option<DataLoss> {
    let rules = kind.holds_data?;
    let flag = |name: &str| settings.get(name).and_then(Value::as_bool);
    let final_snapshot = (flag(rules.skip_final_snapshot) != Some(true)).then(|| {
        match settings.get(rules.final_snapshot_name).and_then(Value::as_str) {
            Some(name) => name.to_string(),
            None => {
                // Named after the object's AWS name, or its id.
                let name = kind.generated_name.and_then(|n| live.get(n)).and_then(Value::as_str);
                let id = name.or(live.get("id").and_then(Value::as_str)).unwrap_or(kind.name);
                format!("{id}-final-{}", serial + 1)
            }
        }
    });
    Some(DataLoss { protected: flag(rules.protect) != Some(false), final_snapshot })
}

/// Objects whose kind declares a `RestartLink` (a database and its parameter group)
/// are restarted when a change waits for it and they opt in: when the linked object's
/// watched attribute changes in this run, or when AWS already reports a pending
/// restart. Others are told they will wait.
fn plan_reboots<'a>(changes: &mut [ResourceChange], current: impl Iterator<Item = &'a ResourceState>) {
    let link_of = |a: &Address| a.kind.restart;
    let pending: BTreeSet<&Address> = current
        .filter(|r| {
            link_of(&r.address).is_some_and(|l| r.attributes.get(l.pending).and_then(Value::as_bool) == Some(true))
        })
        .map(|r| &r.address)
        .collect();
    // Linked objects whose watched attribute changes, keyed by the attribute watched.
    let watched: BTreeSet<&str> = kinds::ALL.iter().filter_map(|k| k.restart).map(|l| l.watched).collect();
    let changed: BTreeSet<(Address, &str)> = changes
        .iter()
        .filter(|c| c.action == Action::Update)
        .flat_map(|c| watched.iter().map(move |w| (c, *w)))
        .filter(|(c, w)| {
            let get = |a: &Option<Attrs>| a.as_ref().and_then(|a| a.get(*w)).cloned();
            c.address.kind.attr(w).is_some() && !same(get(&c.before).as_ref(), get(&c.after).as_ref())
        })
        .map(|(c, w)| (c.address.clone(), w))
        .collect();
    let mut waiting: BTreeMap<Address, (&str, Vec<String>)> = BTreeMap::new();
    for c in changes.iter_mut() {
        let Some(link) = link_of(&c.address) else { continue };
        if !matches!(c.action, Action::NoOp | Action::Update) {
            continue;
        }
        let via_kind = c.address.kind.attr(link.via).and_then(|a| match a.ty {
            trellis_core::schema::Type::Ref(k) => Some(k),
            _ => None,
        });
        let group = match c.config.as_ref().and_then(|cfg| cfg.get(link.via)) {
            Some(Expr::Ref(r))
                if Some(r.address.kind.name) == via_kind && changed.contains(&(r.address.clone(), link.watched)) =>
            {
                Some(r.address.clone())
            }
            _ => None,
        };
        let opted_in = c.after.as_ref().and_then(|a| a.get(link.opt_in)).and_then(Value::as_bool) == Some(true);
        let why = match (&group, pending.contains(&c.address)) {
            (_, true) => link.pending_why.to_string(),
            (Some(g), false) => format!("`{g}` {}", link.changed_why),
            (None, false) => continue,
        };
        if opted_in {
            if c.action == Action::NoOp {
                c.action = Action::Update;
            }
            c.notes.push(format!("reboot: {why}; trellis reboots it (`{}: true`)", link.opt_in));
        } else {
            c.notes.push(format!("pending reboot: {why}; set `{}: true` to let trellis reboot it", link.opt_in));
            if let Some(g) = group {
                waiting.entry(g).or_insert((link.waits, vec![])).1.push(c.address.to_string());
            }
        }
    }
    for c in changes.iter_mut() {
        if let Some((waits, objects)) = waiting.get(&c.address) {
            c.notes.push(format!("{waits} {}", objects.join(", ")));
        }
    }
}
