//! Planning: the spec's moves applied to the prior state, the refreshed objects and
//! their drift, one change per declared resource and the deletes, in order.

use std::collections::{BTreeMap, BTreeSet};

use trellis_core::schema::{Attr, Effect, Kind, Mode};
use trellis_core::{kinds, secret, Address, Attrs, Expr, LiveObject, Value};
use trellis_graph::DepGraph;
use trellis_spec::Spec;
use trellis_state::{ResourceState, State};

use crate::model::*;
use crate::observation::*;
use crate::rollout;

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
                change.protected = protected(existing.address.kind, &existing.attributes, &settings);
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
    crate::order::notes(&mut changes);
    for c in &mut changes {
        c.interruption = crate::interruption::of_change(c);
    }
    let waivers = |a: &Address| input.spec.resources.get(a).map(|r| r.waive.clone()).unwrap_or_default();
    let findings = match input.operation {
        Operation::Destroy => vec![],
        _ => crate::findings::check(&changes, &waivers),
    };
    Ok(Plan {
        preflight: vec![],
        findings,
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
        default_tags: input.spec.default_tags.clone(),
    })
}

/// True for kinds whose objects carry tags, trellis's own among them.
pub(crate) fn kind_has_tags(a: &Address) -> bool {
    a.kind.attr("tags").is_some()
}

/// The prior state's objects under the addresses the spec's `moved:` entries give them
/// (in order, each on what the ones before left), with the dependencies naming them
/// rewritten, and the moves made. A move onto an address the state holds already is the
/// spec's error, pointed at the move.
pub(crate) fn apply_moves(prior: &[ResourceState], spec: &Spec) -> Result<(Vec<ResourceState>, Vec<Moved>), PlanError> {
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
        return Err(PlanError::Spec(trellis_spec::Diagnostics::new(spec.file.clone(), problems)));
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
pub(crate) fn stack_reads(spec: &Spec) -> Vec<StackRead> {
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
pub(crate) fn reads(spec: &Spec) -> Vec<LookupRead> {
    spec.lookups
        .values()
        .filter_map(|l| {
            let found = l.found.clone()?;
            let filters = l.filters.iter().map(|(k, f)| format!("{k}: {}", filter_text(f))).collect::<Vec<_>>();
            Some(LookupRead { address: l.address.to_string(), filters: filters.join(", "), found })
        })
        .collect()
}

pub(crate) fn filter_text(f: &trellis_spec::Filter) -> String {
    match f {
        trellis_spec::Filter::Value(Value::Str(s)) => s.clone(),
        trellis_spec::Filter::Value(v) => v.to_string(),
        trellis_spec::Filter::From { lookup, attr } if attr == lookup.kind.default_attr => format!("${{{lookup}}}"),
        trellis_spec::Filter::From { lookup, attr } => format!("${{{lookup}.{attr}}}"),
    }
}

/// The prior state with each object replaced by what is live now (secrets read in
/// plain text replaced by their digests), and the drift between the two.
pub(crate) fn refresh(
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
        // What the spec leaves to AWS (or to another resource: an Elastic IP's instance
        // set by an association) is not compared, so its change is no drift: the record
        // takes the live value before the two are compared.
        let mut recorded = r.attributes.clone();
        if let Some(res) = input.spec.resources.get(&r.address) {
            let left_to_aws = r.address.kind.object.attrs.iter().filter(|a| a.mode == Mode::OptionalComputed);
            for a in left_to_aws.filter(|a| !res.attrs.contains_key(a.name)) {
                match live.attrs.get(a.name) {
                    Some(v) => recorded.insert(a.name.to_string(), v.clone()),
                    None => recorded.remove(a.name),
                };
            }
        }
        // An object recorded by a create that failed before it could be read back has no
        // attributes yet: nothing to compare, so no drift.
        if live.attrs != recorded && !r.attributes.is_empty() {
            let ignore = input.spec.resources.get(&r.address).map(|res| &res.ignore_changes);
            let ignored: Vec<String> =
                ignore.into_iter().flatten().filter(|p| differs(&recorded, &live.attrs, p)).cloned().collect();
            drift.push(Drift {
                address: r.address.clone(),
                before: recorded,
                after: Some(live.attrs.clone()),
                ignored,
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
pub(crate) fn differs(a: &Attrs, b: &Attrs, path: &str) -> bool {
    let at = |x: &Attrs| match path.split_once('.') {
        None => x.get(path).cloned(),
        Some((name, key)) => x.get(name).and_then(Value::as_map).and_then(|m| m.get(key)).cloned(),
    };
    !same(at(a).as_ref(), at(b).as_ref())
}

/// With `--target`: the targets and what they depend on (or, for destroy, what depends
/// on them); everything else is left as it is. `None`: everything is in scope.
pub(crate) fn scope(input: &PlanInput<'_>, refreshed: &[ResourceState]) -> Option<BTreeSet<Address>> {
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
pub(crate) fn why_copy_goes(spec: &Spec, address: &Address) -> Option<String> {
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
pub(crate) fn plan_delete(r: &ResourceState, resource: Option<&trellis_spec::Resource>, serial: u64) -> ResourceChange {
    let settings = settings_of(resource, &r.attributes);
    ResourceChange {
        data_loss: data_loss(r.address.kind, &r.attributes, &settings, serial),
        protected: protected(r.address.kind, &r.attributes, &settings),
        replace_requested: false,
        rollout: None,
        interruption: None,
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

/// The change that brings one declared resource from `existing` (refreshed) to the spec.
pub(crate) fn plan_resource(
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
    // Taken away, an attribute whose removal AWS makes in place (a replica promoted)
    // is an update that says so.
    let removed = |a: &Attr| {
        a.removed_in_place.is_some()
            && after.get(a.name).is_none_or(|v| *v == Value::Null)
            && existing.and_then(|e| e.attributes.get(a.name)).is_some_and(|v| *v != Value::Null)
    };
    let in_place: Vec<&Attr> = changed.iter().copied().filter(|a| removed(a)).collect();
    let replace_because: Vec<String> =
        changed.iter().filter(|a| a.force_new && !removed(a)).map(|a| a.name.to_string()).collect();
    let mut action = match existing {
        None => Action::Create,
        Some(_) if !replace_because.is_empty() || replace => Action::DeleteThenCreate,
        Some(_) if !changed.is_empty() => Action::Update,
        Some(_) => Action::NoOp,
    };
    let mut notes = Vec::new();
    if let (Action::Update, Some(existing)) = (action, existing) {
        notes = update_notes(kind, &changed, &mut after, existing);
        for a in &in_place {
            notes.push(format!("`{}` removed: {}", a.name, a.removed_in_place.unwrap_or_default()));
        }
    }
    // The name a create will take where the spec leaves it to trellis: said, not
    // promised (a name someone else holds gets a suffix at apply).
    if let (Action::Create, Some(name)) = (action, kind.generated_name) {
        if !resource.attrs.contains_key(name) {
            let max = kind.attr(name).and_then(|a| a.max_len).unwrap_or(255);
            let mut made = trellis_core::names::generated_name(stack, &resource.address, max, "");
            if kind.id_is.is_some_and(|(attr, lower)| attr == name && lower) {
                made = made.to_lowercase();
            }
            notes.push(format!("`{name}` will be `{made}`, made up by trellis (with a suffix if that name is taken)"));
        }
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
    let mut interruption = if action == Action::Update { crate::interruption::of_update(kind, &changed) } else { None };
    // A rollout that leaves nothing serving is an outage, whatever the attributes say.
    if let (Some(r), Some(rules)) = (&rollout, kind.rollout) {
        if let Some(outage) = r.outage(rules.min_healthy) {
            if interruption.as_ref().is_none_or(|i| i.effect < outage.effect) {
                interruption = Some(outage);
            }
        }
    }
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
        // Set by AWS only when asked for: none while the spec does not ask.
        let asked = |s: &str| !matches!(after.get(s), None | Some(Value::Null) | Some(Value::Bool(false)));
        if attr.computed_with.is_some_and(|s| !asked(s)) {
            continue;
        }
        let known = match (action, existing) {
            (Action::NoOp | Action::Update, Some(e)) => e.attributes.get(attr.name).cloned(),
            _ => None,
        };
        after.insert(attr.name.to_string(), known.unwrap_or(Value::Unknown));
    }
    // An object AWS knows by a name the spec fixes has that name as its id (as AWS
    // stores it), so what refers to it is known now.
    if let (Some((name, lower)), Some(Value::Unknown)) = (kind.id_is, after.get("id")) {
        if let Some(Value::Str(n)) = after.get(name) {
            let id = if lower { n.to_lowercase() } else { n.clone() };
            after.insert("id".to_string(), Value::Str(id));
        }
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
        interruption,
    }
}

/// Each path of `ignore` (`NAME`, or `NAME.KEY` in a mapping) set in `attrs` as `live`
/// has it, or left out where `live` has none.
pub(crate) fn keep_ignored(attrs: &mut Attrs, live: &Attrs, ignore: &BTreeSet<String>) {
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
pub(crate) fn keep_ignored_config(config: &mut BTreeMap<String, Expr>, live: &Attrs, ignore: &BTreeSet<String>) {
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
pub(crate) fn desired(
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
pub(crate) fn changed_attrs<'k>(kind: &'k Kind, after: &Attrs, existing: &ResourceState) -> Vec<&'k Attr> {
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
pub(crate) fn update_notes(kind: &Kind, changed: &[&Attr], after: &mut Attrs, existing: &ResourceState) -> Vec<String> {
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
pub(crate) fn replacement_order(
    kind: &Kind,
    after: &Attrs,
    existing: Option<&ResourceState>,
) -> (Action, Option<String>) {
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
/// gives them) needs consent: an object that holds data (as `live` says) unless its
/// settings consent, any other object when it says `protect: true`.
pub(crate) fn protected(kind: &Kind, live: &Attrs, settings: &Attrs) -> bool {
    match kind.holds_data {
        Some(rules) => rules.holds_data(live) && !rules.consented(settings),
        None => settings.get(trellis_core::schema::PROTECT).and_then(Value::as_bool) == Some(true),
    }
}

/// trellis's own settings of an object (`protect`, `skip_final_snapshot`, ...): as the
/// spec gives them now when it still names the object, else as the state recorded them.
pub(crate) fn settings_of(resource: Option<&trellis_spec::Resource>, recorded: &Attrs) -> Attrs {
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
pub(crate) fn data_loss(kind: &Kind, live: &Attrs, settings: &Attrs, serial: u64) -> Option<DataLoss> {
    let rules = kind.holds_data?;
    if !rules.holds_data(live) {
        return None;
    }
    let flag = |name: &str| settings.get(name).and_then(Value::as_bool);
    let protected = !rules.consented(settings);
    if let Some((attr, why)) = rules.no_final_snapshot {
        if live.get(attr).is_some_and(|v| v.as_str().is_some_and(|s| !s.is_empty())) {
            return Some(DataLoss { protected, final_snapshot: None, no_snapshot_because: Some(why.to_string()) });
        }
    }
    let (Some(skip), Some(named)) = (rules.skip_final_snapshot, rules.final_snapshot_name) else {
        let why = rules.lost.unwrap_or("it takes no snapshot").to_string();
        return Some(DataLoss { protected, final_snapshot: None, no_snapshot_because: Some(why) });
    };
    let final_snapshot = (flag(skip) != Some(true)).then(|| {
        match settings.get(named).and_then(Value::as_str) {
            Some(name) => name.to_string(),
            None => {
                // Named after the object's AWS name, or its id.
                let name = kind.generated_name.and_then(|n| live.get(n)).and_then(Value::as_str);
                let id = name.or(live.get("id").and_then(Value::as_str)).unwrap_or(kind.name);
                format!("{id}-final-{}", serial + 1)
            }
        }
    });
    Some(DataLoss { protected, final_snapshot, no_snapshot_because: None })
}

/// Objects whose kind declares a `RestartLink` (a database and its parameter group)
/// are restarted when a change waits for it and they opt in: when the linked object's
/// watched attribute changes in this run, or when AWS already reports a pending
/// restart. Others are told they will wait.
pub(crate) fn plan_reboots<'a>(changes: &mut [ResourceChange], current: impl Iterator<Item = &'a ResourceState>) {
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
            let weaker = c.interruption.as_ref().is_none_or(|i| i.effect < Effect::Restart);
            if weaker {
                c.interruption = Some(crate::Interruption {
                    effect: Effect::Restart,
                    because: vec![link.opt_in.to_string()],
                    about: format!("it reboots: {why}; minutes offline"),
                });
            }
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
