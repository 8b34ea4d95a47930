//! Carries out a plan.
//!
//! The operation graph is built from the plan alone (never from the spec): one node per
//! create, update or delete (a replace is a delete, then a create), per retag of a moved
//! object (after its update, if any) and per forget. Operations whose
//! dependencies are done run concurrently, up to `parallelism` at a time. Each operation
//! is journaled before its first call and its outcome after its last (an entry appended
//! to the store's journal, not the whole state), so whatever was created is recorded
//! before the run can report a failure. When an operation fails, everything that waits for it
//! is skipped and independent branches carry on.
//!
//! Architecture invariant: the engine knows no cloud. It drives any
//! [`trellis_core::Provider`], and owns the only writes of the state during an apply.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::Direction;
use tokio::sync::watch;
use tokio::task::JoinSet;
use trellis_core::{Address, Attrs, Provider, ProviderError, Value};
use trellis_plan::{Action, Plan, ResourceChange};
use trellis_state::{Entry, Journaled, ResourceState, State, StateError, StateLock, StateStore};

pub use trellis_state::OpKind;

/// One step of an apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Op {
    pub address: Address,
    pub kind: OpKind,
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind, self.address)
    }
}

/// What the engine tells the person watching, as it happens.
#[derive(Debug, Clone)]
pub enum Event {
    Started(Op),
    Finished {
        op: Op,
        id: Option<String>,
        elapsed: Duration,
    },
    Failed {
        op: Op,
        error: ProviderError,
    },
    Skipped {
        op: Op,
        because: Address,
    },
    /// The user interrupted; this many operations are still in flight.
    Interrupted {
        in_flight: usize,
    },
}

#[derive(Debug, Clone)]
pub struct Failure {
    pub op: Op,
    pub error: ProviderError,
}

/// How a run ended.
#[derive(Debug, Default)]
pub struct Report {
    pub created: usize,
    pub updated: usize,
    pub deleted: usize,
    /// Moved objects whose `trellis:address` tag was rewritten.
    pub retagged: usize,
    /// Objects that left management (untagged, out of the state).
    pub forgotten: usize,
    pub failures: Vec<Failure>,
    pub skipped: Vec<Op>,
    /// Set when the run was interrupted; `not_started` lists what it left undone.
    pub interrupted: bool,
    pub not_started: Vec<Op>,
    pub outputs: BTreeMap<String, Value>,
}

impl Report {
    pub fn ok(&self) -> bool {
        self.failures.is_empty() && self.skipped.is_empty() && !self.interrupted
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("could not save the state: {0}")]
    State(#[from] StateError),
    #[error("the plan's operations form a cycle at {0}")]
    Cycle(Address),
    #[error(
        "refusing to destroy {}: protected (a database, or `protect: true`); run again with --allow-data-loss, or turn its protection off in the spec",
        .0.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
    )]
    DataLoss(Vec<Address>),
}

pub struct ApplyOptions {
    pub parallelism: usize,
    /// Becomes true when the user interrupts: no new operation starts, the ones in
    /// flight finish and are recorded.
    pub interrupt: Option<watch::Receiver<bool>>,
    /// Reads `${env.NAME}` for sensitive attributes, just before the call that needs it.
    pub env: EnvReader,
    /// `--allow-data-loss`: carry out deletes and replacements of protected objects that hold data.
    pub allow_data_loss: bool,
}

/// Where `${env.NAME}` of a sensitive attribute is read from.
pub type EnvReader = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

impl Default for ApplyOptions {
    fn default() -> Self {
        ApplyOptions {
            parallelism: 10,
            interrupt: None,
            env: Arc::new(|name| std::env::var(name).ok()),
            allow_data_loss: false,
        }
    }
}

/// Resolves when the interrupt flag is (or becomes) true; never without a flag.
async fn interrupted(flag: &mut Option<watch::Receiver<bool>>) {
    let Some(rx) = flag else { return std::future::pending().await };
    while !*rx.borrow_and_update() {
        if rx.changed().await.is_err() {
            return std::future::pending().await;
        }
    }
}

/// Builds the operation graph of a plan: nodes are operations, an edge `a -> b` means
/// `a` must finish before `b` starts.
pub fn operation_graph(plan: &Plan) -> Result<DiGraph<Op, ()>, EngineError> {
    let mut g: DiGraph<Op, ()> = DiGraph::new();
    let mut apply_node: BTreeMap<&Address, NodeIndex> = BTreeMap::new();
    let mut delete_node: BTreeMap<&Address, NodeIndex> = BTreeMap::new();
    let changes: BTreeMap<&Address, &ResourceChange> = plan.changes.iter().map(|c| (&c.address, c)).collect();

    for c in &plan.changes {
        let op = |kind| Op { address: c.address.clone(), kind };
        match c.action {
            Action::NoOp => {}
            Action::Forget => {
                g.add_node(op(OpKind::Forget));
            }
            Action::Create => {
                apply_node.insert(&c.address, g.add_node(op(OpKind::Create)));
            }
            Action::Update => {
                apply_node.insert(&c.address, g.add_node(op(OpKind::Update)));
            }
            Action::Delete => {
                delete_node.insert(&c.address, g.add_node(op(OpKind::Delete)));
            }
            Action::CreateThenDelete => {
                // The old object is deleted under its deposed address, once the new one
                // exists and everything that referred to the old one has moved over.
                let a = g.add_node(op(OpKind::Create));
                let deposed = c.deposed_address().expect("a create-before-destroy replace");
                let d = g.add_node(Op { address: deposed, kind: OpKind::Delete });
                g.add_edge(a, d, ());
                delete_node.insert(&c.address, d);
                apply_node.insert(&c.address, a);
            }
            Action::DeleteThenCreate => {
                let d = g.add_node(op(OpKind::Delete));
                let a = g.add_node(op(OpKind::Create));
                g.add_edge(d, a, ());
                delete_node.insert(&c.address, d);
                apply_node.insert(&c.address, a);
            }
        }
    }
    // A moved object's tag is rewritten once its update (if any) is done.
    for c in plan.changes.iter().filter(|c| c.retag && matches!(c.action, Action::NoOp | Action::Update)) {
        let r = g.add_node(Op { address: c.address.clone(), kind: OpKind::Retag });
        if let Some(&u) = apply_node.get(&c.address) {
            g.add_edge(u, r, ());
        }
    }
    // What refers to a create-before-destroy object is updated (or made) before the
    // old object goes.
    for c in plan.changes.iter().filter(|c| c.action == Action::CreateThenDelete) {
        let d = delete_node[&c.address];
        for user in plan.changes.iter().filter(|u| u.depends_on.contains(&c.address)) {
            if let Some(&a) = apply_node.get(&user.address) {
                g.update_edge(a, d, ());
            }
        }
    }
    for c in &plan.changes {
        // Creates and updates wait for what they refer to.
        if let Some(&me) = apply_node.get(&c.address) {
            for dep in &c.depends_on {
                if let Some(&d) = apply_node.get(dep) {
                    g.update_edge(d, me, ());
                }
            }
        }
        // Deletes run before the deletes of what the old object depended on.
        if let Some(&me) = delete_node.get(&c.address) {
            for dep in &c.prior_depends_on {
                if let Some(&d) = delete_node.get(dep) {
                    g.update_edge(me, d, ());
                }
            }
        }
        // An update that lets go of an object being deleted for good runs first
        // (a route table dropping a subnet before the subnet goes).
        if let Some(&me) = apply_node.get(&c.address) {
            for dep in &c.prior_depends_on {
                let pure_delete = changes.get(dep).is_some_and(|d| d.action == Action::Delete);
                if let (true, Some(&d)) = (pure_delete, delete_node.get(dep)) {
                    g.update_edge(me, d, ());
                }
            }
        }
    }
    order_siblings(plan, &mut g, &apply_node, &delete_node);
    if let Err(cycle) = petgraph::algo::toposort(&g, None) {
        return Err(EngineError::Cycle(g[cycle.node_id()].address.clone()));
    }
    Ok(g)
}

/// The updates of a kind whose objects hold distinct values under one parent
/// (`Kind::unique`) that change that value, by parent: each group's values are set
/// together, in one call, by its first update (its leader) before its own update runs.
#[derive(Debug, Default)]
struct Together {
    /// Each leader's group, the leader first.
    groups: BTreeMap<Address, Vec<Address>>,
    /// Every member of a group: its value is set by then.
    members: BTreeSet<Address>,
}

/// The parent a change's object is under, before and after, as text (`None`: unknown).
fn parent(attrs: Option<&Attrs>, among: &str) -> Option<String> {
    match attrs?.get(among)? {
        v if v.has_unknown() => None,
        v => Some(v.to_string()),
    }
}

fn together(plan: &Plan) -> Together {
    let mut by_parent: BTreeMap<(&str, String), Vec<Address>> = BTreeMap::new();
    for c in plan.changes.iter().filter(|c| c.action == Action::Update) {
        let Some(u) = c.address.kind.unique else { continue };
        let (Some(before), Some(after)) = (&c.before, &c.after) else { continue };
        if before.get(u.attr) == after.get(u.attr) {
            continue;
        }
        if let Some(p) = parent(Some(before), u.among) {
            by_parent.entry((c.address.kind.name, p)).or_default().push(c.address.clone());
        }
    }
    let mut t = Together::default();
    for members in by_parent.into_values() {
        t.members.extend(members.iter().cloned());
        t.groups.insert(members[0].clone(), members);
    }
    t
}

/// Orders the operations on objects that hold distinct values under one parent: the
/// deletes that free a value come before the group's move and before a create taking
/// it, and the creates after the move (which may free theirs).
fn order_siblings(
    plan: &Plan,
    g: &mut DiGraph<Op, ()>,
    apply_node: &BTreeMap<&Address, NodeIndex>,
    delete_node: &BTreeMap<&Address, NodeIndex>,
) {
    let t = together(plan);
    let leader_of: BTreeMap<(&str, String), &Address> = t
        .groups
        .keys()
        .filter_map(|l| {
            let c = plan.changes.iter().find(|c| &c.address == l)?;
            Some(((l.kind.name, parent(c.before.as_ref(), l.kind.unique?.among)?), l))
        })
        .collect();
    for (leader, members) in &t.groups {
        for m in &members[1..] {
            g.update_edge(apply_node[leader], apply_node[m], ());
        }
    }
    for c in &plan.changes {
        let Some(u) = c.address.kind.unique else { continue };
        // A delete (the old object of a replacement too) frees its parent's value.
        if let (Some(&d), Some(p)) = (delete_node.get(&c.address), parent(c.before.as_ref(), u.among)) {
            if let Some(leader) = leader_of.get(&(c.address.kind.name, p.clone())) {
                if *leader != &c.address {
                    g.update_edge(d, apply_node[leader], ());
                }
            }
            let value = c.before.as_ref().and_then(|b| b.get(u.attr));
            for other in plan.changes.iter().filter(|o| o.address.kind == c.address.kind && o.address != c.address) {
                let creates =
                    matches!(other.action, Action::Create | Action::CreateThenDelete | Action::DeleteThenCreate);
                let takes = other.after.as_ref().and_then(|a| a.get(u.attr)) == value && value.is_some();
                if creates && takes && parent(other.after.as_ref(), u.among).as_ref() == Some(&p) {
                    g.update_edge(d, apply_node[&other.address], ());
                }
            }
        }
        // A create waits for the move of its parent's group.
        let creates = matches!(c.action, Action::Create | Action::CreateThenDelete | Action::DeleteThenCreate);
        if let (true, Some(p)) = (creates, parent(c.after.as_ref(), u.among)) {
            if let Some(leader) = leader_of.get(&(c.address.kind.name, p)) {
                g.update_edge(apply_node[leader], apply_node[&c.address], ());
            }
        }
    }
}

struct Shared {
    stack: String,
    /// The attributes each reference reads at apply time.
    results: BTreeMap<Address, Attrs>,
}

/// Applies `plan` through `provider`, starting from `state` (the state read under
/// `lock`), journaling every operation in `store` before its first call and after its
/// last, and writing the state whole at the start and the end.
pub async fn apply<P: Provider>(
    provider: Arc<P>,
    plan: &Plan,
    store: &dyn StateStore,
    lock: &StateLock,
    state: State,
    opts: ApplyOptions,
    on_event: impl Fn(Event),
) -> Result<(Report, State), EngineError> {
    // Architecture invariant: nothing holding data is deleted without consent, whoever
    // calls the engine; checked before the first call.
    let refused: Vec<Address> = plan.protected_changes().into_iter().map(|c| c.address.clone()).collect();
    if !refused.is_empty() && !opts.allow_data_loss {
        return Err(EngineError::DataLoss(refused));
    }
    let mut walk = Walk::new(provider, plan, store, lock, state, opts, on_event)?;
    walk.run().await;
    walk.finish(plan)
}

/// One apply in progress: the operation graph, where each operation is in it, the
/// operations running, and the state as journaled.
struct Walk<'a, P, F> {
    provider: Arc<P>,
    graph: DiGraph<Op, ()>,
    /// Every operation's change, the deposed objects' deletes included.
    changes: BTreeMap<Address, ResourceChange>,
    /// The state, each step appended to the store's journal.
    journal: Journaled<'a>,
    shared: Shared,
    /// The groups of updates whose ordered values are set together.
    together: Together,
    report: Report,
    /// How many of each operation's predecessors have not succeeded yet.
    waiting: BTreeMap<NodeIndex, usize>,
    ready: VecDeque<NodeIndex>,
    /// Skipped, because something they wait for failed.
    blocked: BTreeSet<NodeIndex>,
    /// Finished, one way or the other.
    settled: BTreeSet<NodeIndex>,
    running: JoinSet<Outcome>,
    task_node: BTreeMap<tokio::task::Id, NodeIndex>,
    parallelism: usize,
    interrupt: Option<watch::Receiver<bool>>,
    stopping: bool,
    env: EnvReader,
    /// The first state write that failed: nothing new starts after it.
    save_error: Option<StateError>,
    on_event: F,
}

impl<'a, P: Provider, F: Fn(Event)> Walk<'a, P, F> {
    /// Builds the graph and writes the starting state: the plan's refreshed view (objects
    /// deleted outside trellis leave) with an empty journal, since the plan has dealt with
    /// what a killed run left there (adopted what it created).
    fn new(
        provider: Arc<P>,
        plan: &Plan,
        store: &'a dyn StateStore,
        lock: &'a StateLock,
        mut state: State,
        opts: ApplyOptions,
        on_event: F,
    ) -> Result<Self, EngineError> {
        let graph = operation_graph(plan)?;
        let together = together(plan);
        let mut changes: BTreeMap<Address, ResourceChange> =
            plan.changes.iter().map(|c| (c.address.clone(), c.clone())).collect();
        // The delete of a create-before-destroy's old object runs under its deposed address.
        for c in &plan.changes {
            if let Some(deposed) = c.deposed_address() {
                let old = ResourceChange { address: deposed.clone(), action: Action::Delete, ..c.clone() };
                changes.insert(deposed, old);
            }
        }
        state.resources = plan.refreshed.clone();
        state.pending.clear();
        state.resources.sort_by(|a, b| a.address.cmp(&b.address));
        let results = state.resources.iter().map(|r| (r.address.clone(), r.attributes.clone())).collect();
        let shared = Shared { stack: plan.stack.clone(), results };
        let journal = Journaled::begin(store, lock, state)?;
        let waiting: BTreeMap<NodeIndex, usize> =
            graph.node_indices().map(|n| (n, graph.edges_directed(n, Direction::Incoming).count())).collect();
        let ready = waiting.iter().filter(|(_, c)| **c == 0).map(|(n, _)| *n).collect();
        Ok(Walk {
            provider,
            graph,
            changes,
            journal,
            shared,
            together,
            report: Report::default(),
            waiting,
            ready,
            blocked: BTreeSet::new(),
            settled: BTreeSet::new(),
            running: JoinSet::new(),
            task_node: BTreeMap::new(),
            parallelism: opts.parallelism.max(1),
            interrupt: opts.interrupt,
            stopping: false,
            env: opts.env,
            save_error: None,
            on_event,
        })
    }

    /// Starts what is ready and settles what finishes, until nothing runs.
    async fn run(&mut self) {
        loop {
            // An interrupt that came while an operation finished is seen before anything
            // new starts (the select below may have taken the finished operation first).
            if !self.stopping && self.interrupt.as_ref().is_some_and(|rx| *rx.borrow()) {
                self.stop();
            }
            self.start_ready();
            if self.running.is_empty() {
                break;
            }
            let joined = tokio::select! {
                joined = self.running.join_next_with_id() => joined,
                () = interrupted(&mut self.interrupt), if !self.stopping => {
                    self.stop();
                    continue;
                }
            };
            let Some(joined) = joined else { break };
            let (n, outcome) = match joined {
                Ok((id, outcome)) => (self.task_node[&id], outcome),
                // A task that died is a bug in trellis, reported like a failed call.
                Err(e) => {
                    let message = format!("internal error, please report it: {e}");
                    let error = ProviderError::new(Some("TrellisInternal"), message);
                    let outcome =
                        Outcome { sent: None, id: None, object: None, error: Some(error), elapsed: Duration::ZERO };
                    (self.task_node[&e.id()], outcome)
                }
            };
            self.settle(n, outcome);
        }
    }

    fn stop(&mut self) {
        self.stopping = true;
        (self.on_event)(Event::Interrupted { in_flight: self.running.len() });
    }

    /// Starts what is ready, as long as there is room: an operation is only spawned when
    /// it can really begin, so an interrupt leaves nothing half-queued. The journal holds
    /// each operation before AWS hears of it.
    fn start_ready(&mut self) {
        while self.save_error.is_none() && !self.stopping && self.running.len() < self.parallelism {
            let Some(n) = self.ready.pop_front() else { break };
            let op = self.graph[n].clone();
            let job = match prepare(&op, &self.changes, &self.together, &self.shared, self.journal.state(), &*self.env)
            {
                Ok(job) => job,
                Err(error) => {
                    (self.on_event)(Event::Failed { op: op.clone(), error: error.clone() });
                    self.report.failures.push(Failure { op, error });
                    self.settled.insert(n);
                    skip_after(&self.graph, n, &mut self.blocked, &mut self.report, &self.on_event);
                    continue;
                }
            };
            if let Err(e) = self.journal.record(Entry::Started { address: op.address.clone(), operation: op.kind }) {
                self.save_error.get_or_insert(e);
                break;
            }
            (self.on_event)(Event::Started(op.clone()));
            let provider = self.provider.clone();
            let stack = self.shared.stack.clone();
            let handle = self.running.spawn(async move {
                let start = Instant::now();
                let outcome = run(&*provider, &stack, &op, job).await;
                Outcome { elapsed: start.elapsed(), ..outcome }
            });
            self.task_node.insert(handle.id(), n);
        }
    }

    /// Records a finished operation, writes the state, and releases what waited for it
    /// (or skips it all, after a failure).
    fn settle(&mut self, n: NodeIndex, outcome: Outcome) {
        let op = self.graph[n].clone();
        let (entry, error) =
            record(&op, &self.changes[&op.address], &outcome, &mut self.shared, self.journal.state(), &mut self.report);
        self.settled.insert(n);
        let succeeded = error.is_none();
        match error {
            None => (self.on_event)(Event::Finished { op, id: outcome.id, elapsed: outcome.elapsed }),
            Some(error) => {
                (self.on_event)(Event::Failed { op: op.clone(), error: error.clone() });
                self.report.failures.push(Failure { op, error });
            }
        }
        if let Err(e) = self.journal.record(entry) {
            self.save_error.get_or_insert(e);
        }
        if !succeeded {
            skip_after(&self.graph, n, &mut self.blocked, &mut self.report, &self.on_event);
            return;
        }
        for next in self.graph.neighbors_directed(n, Direction::Outgoing) {
            let c = self.waiting.get_mut(&next).expect("node in graph");
            *c -= 1;
            if *c == 0 && !self.blocked.contains(&next) {
                self.ready.push_back(next);
            }
        }
    }

    /// The report, with what an interrupt left undone and the outputs from what is known
    /// now (values that failed to appear are left out), and the last state written.
    fn finish(mut self, plan: &Plan) -> Result<(Report, State), EngineError> {
        if let Some(e) = self.save_error {
            return Err(e.into());
        }
        if self.stopping {
            self.report.interrupted = true;
            self.report.not_started = self
                .graph
                .node_indices()
                .filter(|n| !self.settled.contains(n) && !self.blocked.contains(n))
                .map(|n| self.graph[n].clone())
                .collect();
        }
        let resolve = |r: &trellis_core::Ref| trellis_plan::lookup(&self.shared.results, r);
        self.report.outputs =
            plan.outputs.iter().map(|(k, e)| (k.clone(), e.eval(&resolve))).filter(|(_, v)| !v.has_unknown()).collect();
        let state = self.journal.finish(self.report.outputs.clone())?;
        Ok((self.report, state))
    }
}

/// Marks everything downstream of `n` as skipped.
fn skip_after(
    graph: &DiGraph<Op, ()>,
    n: NodeIndex,
    blocked: &mut BTreeSet<NodeIndex>,
    report: &mut Report,
    on_event: &impl Fn(Event),
) {
    let mut stack: Vec<NodeIndex> = graph.neighbors_directed(n, Direction::Outgoing).collect();
    while let Some(m) = stack.pop() {
        if blocked.insert(m) {
            on_event(Event::Skipped { op: graph[m].clone(), because: graph[n].address.clone() });
            report.skipped.push(graph[m].clone());
            stack.extend(graph.neighbors_directed(m, Direction::Outgoing));
        }
    }
}

/// What one operation needs, resolved against the results so far.
enum Job {
    Create {
        attrs: Attrs,
        replacing: Vec<String>,
    },
    Update {
        id: String,
        before: Attrs,
        after: Attrs,
        /// For a group's leader: the ordered values of the group to set first.
        together: Option<SetTogether>,
    },
    Delete {
        id: String,
        before: Attrs,
    },
    /// Trellis's tags set for the object's address (`managed`) or removed.
    Retag {
        id: String,
        attrs: Attrs,
        managed: bool,
    },
}

/// The values a group's leader sets for the whole group, in one call.
struct SetTogether {
    kind: &'static trellis_core::schema::Kind,
    attr: &'static str,
    objects: Vec<(Address, String, Value)>,
}

fn prepare(
    op: &Op,
    changes: &BTreeMap<Address, ResourceChange>,
    together: &Together,
    shared: &Shared,
    state: &State,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Job, ProviderError> {
    let change = &changes[&op.address];
    let resolve = |r: &trellis_core::Ref| trellis_plan::lookup(&shared.results, r);
    let evaluate = || -> Result<Attrs, ProviderError> {
        let config =
            change.config.as_ref().ok_or_else(|| ProviderError::new(None, "the plan has no configuration for it"))?;
        let attrs: Attrs = config.iter().map(|(k, e)| (k.clone(), e.eval_with_env(&resolve, env))).collect();
        if let Some((name, _)) = attrs.iter().find(|(_, v)| v.has_unknown()) {
            let missing: Vec<&str> = config[name].env_names().into_iter().filter(|n| env(n).is_none()).collect();
            let message = match missing.as_slice() {
                [] => format!("`{name}` refers to a value that is still unknown"),
                names => format!("`{name}` is sensitive and reads {}, which is not set", names.join(", ")),
            };
            return Err(ProviderError::new(None, message));
        }
        Ok(attrs)
    };
    let current = state.get(&op.address);
    Ok(match op.kind {
        OpKind::Create => Job::Create { attrs: evaluate()?, replacing: change.id.iter().cloned().collect() },
        OpKind::Update => {
            let cur = current.ok_or_else(|| ProviderError::new(None, "it is not in the state any more"))?;
            let after = evaluate()?;
            let mut before = cur.attributes.clone();
            // A secret the plan found unchanged (same digest) is handed over as the same
            // text on both sides, so the provider sees no change in it.
            for name in &change.sensitive {
                let planned = change.after.as_ref().and_then(|a| a.get(name));
                if planned.is_some() && planned == cur.attributes.get(name) {
                    if let Some(plain) = after.get(name) {
                        before.insert(name.clone(), plain.clone());
                    }
                }
            }
            // A member of a group finds its value set (by the leader, just before).
            let unique = op.address.kind.unique.filter(|_| together.members.contains(&op.address));
            if let Some(u) = unique {
                if let Some(v) = after.get(u.attr) {
                    before.insert(u.attr.to_string(), v.clone());
                }
            }
            let together = match (together.groups.get(&op.address), unique) {
                (Some(group), Some(u)) => Some(set_together(group, u.attr, changes, &resolve, state)?),
                _ => None,
            };
            Job::Update { id: cur.id.clone(), before, after, together }
        }
        OpKind::Delete => {
            let (id, mut before) = match current {
                Some(cur) => (cur.id.clone(), cur.attributes.clone()),
                None => (change.id.clone().unwrap_or_default(), change.before.clone().unwrap_or_default()),
            };
            // The final snapshot the plan named, and nothing else, is what the delete takes
            // (the kind's data rules name the settings).
            let rules = op.address.kind.holds_data;
            // A loss the plan named and the run was allowed (the spec's consent or
            // `--allow-data-loss`) is consented to: a kind whose consent is a setting
            // (a bucket's `force_destroy`) is told so by it.
            if let (Some(_), Some(trellis_core::schema::Guard::Consent(name))) =
                (&change.data_loss, rules.map(|r| r.guard))
            {
                before.insert(name.into(), Value::Bool(true));
            }
            let snapshots = rules.and_then(|r| Some((r.skip_final_snapshot?, r.final_snapshot_name?)));
            if let (Some(loss), Some((skip, named))) = (&change.data_loss, snapshots) {
                before.insert(skip.into(), Value::Bool(loss.final_snapshot.is_none()));
                match &loss.final_snapshot {
                    Some(name) => before.insert(named.into(), Value::str(name)),
                    None => before.remove(named),
                };
            }
            Job::Delete { id, before }
        }
        OpKind::Retag | OpKind::Forget => {
            let cur = current.ok_or_else(|| ProviderError::new(None, "it is not in the state any more"))?;
            Job::Retag { id: cur.id.clone(), attrs: cur.attributes.clone(), managed: op.kind == OpKind::Retag }
        }
    })
}

/// A group's new values, each read from its member's spec as it evaluates now.
fn set_together(
    group: &[Address],
    attr: &'static str,
    changes: &BTreeMap<Address, ResourceChange>,
    resolve: &dyn Fn(&trellis_core::Ref) -> Value,
    state: &State,
) -> Result<SetTogether, ProviderError> {
    let mut objects = Vec::new();
    for member in group {
        let cur = state
            .get(member)
            .ok_or_else(|| ProviderError::new(None, format!("{member} is not in the state any more")))?;
        let value = changes[member].config.as_ref().and_then(|c| c.get(attr)).map(|e| e.eval(resolve));
        match value {
            Some(v) if !v.has_unknown() => objects.push((member.clone(), cur.id.clone(), v)),
            _ => return Err(ProviderError::new(None, format!("{member}: `{attr}` is still unknown"))),
        }
    }
    Ok(SetTogether { kind: group[0].kind, attr, objects })
}

struct Outcome {
    /// What the create or update sent (the spec's values at apply time), to check the
    /// object read back against.
    sent: Option<Attrs>,
    id: Option<String>,
    /// The object as it now is (`None` after a delete, or when nothing was made).
    object: Option<(String, Attrs)>,
    error: Option<ProviderError>,
    elapsed: Duration,
}

async fn run<P: Provider>(provider: &P, stack: &str, op: &Op, job: Job) -> Outcome {
    let none = Outcome { sent: None, id: None, object: None, error: None, elapsed: Duration::ZERO };
    match job {
        Job::Create { attrs, replacing } => match provider.create(stack, &op.address, &attrs, &replacing).await {
            Ok(obj) => {
                Outcome { id: Some(obj.id.clone()), object: Some((obj.id, obj.attrs)), sent: Some(attrs), ..none }
            }
            Err(e) => Outcome {
                id: e.created.as_ref().map(|o| o.id.clone()),
                object: e.created.map(|o| (o.id, o.attrs)),
                error: Some(e.error),
                ..none
            },
        },
        Job::Update { id, before, after, together } => {
            if let Some(t) = together {
                if let Err(e) = provider.set_together(t.kind, t.attr, &t.objects).await {
                    return Outcome { id: Some(id), error: Some(e), ..none };
                }
            }
            match provider.update(stack, &op.address, &id, &before, &after).await {
                Ok(obj) => Outcome { id: Some(id), object: Some((obj.id, obj.attrs)), sent: Some(after), ..none },
                Err(e) => Outcome { id: Some(id), error: Some(e), ..none },
            }
        }
        Job::Delete { id, before } => match provider.delete(&op.address, &id, &before).await {
            Ok(()) => Outcome { id: Some(id), ..none },
            Err(e) => Outcome { id: Some(id), error: Some(e), ..none },
        },
        Job::Retag { id, attrs, managed } => match provider.retag(stack, &op.address, &id, &attrs, managed).await {
            Ok(()) => Outcome { id: Some(id), ..none },
            Err(e) => Outcome { id: Some(id), error: Some(e), ..none },
        },
    }
}

/// An operation's outcome: the journal entry that records it in the state (the object
/// as it really is), written into the results too, and the error of the operation,
/// which for a create or update AWS accepted is the difference between the object read
/// back and what was sent.
fn record(
    op: &Op,
    change: &ResourceChange,
    outcome: &Outcome,
    shared: &mut Shared,
    state: &State,
    report: &mut Report,
) -> (Entry, Option<ProviderError>) {
    let mut inconsistent = None;
    let (mut set, mut removed) = (Vec::new(), Vec::new());
    match (op.kind, &outcome.object) {
        (OpKind::Create | OpKind::Update, Some((id, attrs))) => {
            // Create-before-destroy: the old object stays recorded, under its deposed
            // address, until its own delete succeeds.
            if let (OpKind::Create, Some(deposed)) = (op.kind, change.deposed_address()) {
                if let Some(old) = state.get(&op.address) {
                    set.push(ResourceState { address: deposed, ..old.clone() });
                }
            }
            // Secrets read back in plain text are kept as digests under the salt the plan
            // used (or, when the plan could not tell yet, a new one); trellis's own
            // settings are as planned.
            let mut planned_attrs = change.after.clone().unwrap_or_default();
            // A setting of trellis's that refers to another object (a group's alarms)
            // was known only once that object was made: recorded as it was sent.
            if let Some(sent) = &outcome.sent {
                for (k, v) in sent {
                    let local = op.address.kind.attr(k).is_some_and(|a| a.local);
                    if local && !v.has_unknown() && !change.sensitive.contains(k) {
                        planned_attrs.insert(k.clone(), v.clone());
                    }
                }
            }
            let secret: BTreeSet<&str> = change.sensitive.iter().map(String::as_str).collect();
            let live = trellis_core::LiveObject { address: op.address.clone(), id: id.clone(), attrs: attrs.clone() };
            let attrs = trellis_plan::observed(&live, &planned_attrs, &secret, &shared.stack).attrs;
            if let Some(sent) = &outcome.sent {
                let kind = op.address.kind;
                // Secrets are compared as the digests the plan holds.
                let mut planned = sent.clone();
                for name in &change.sensitive {
                    match change.after.as_ref().and_then(|a| a.get(name)) {
                        Some(d) => planned.insert(name.clone(), d.clone()),
                        None => planned.remove(name),
                    };
                }
                inconsistent = inconsistency(&trellis_plan::mismatches(kind, &planned, &attrs));
            }
            set.push(ResourceState {
                address: op.address.clone(),
                id: id.clone(),
                attributes: attrs.clone(),
                dependencies: change.depends_on.clone(),
                sensitive: change.sensitive.clone(),
            });
            shared.results.insert(op.address.clone(), attrs);
        }
        // A forgotten object leaves the state only once its tags are gone, so that a
        // run killed in between forgets it again rather than leaving a tagged orphan.
        (OpKind::Delete | OpKind::Forget, _) if outcome.error.is_none() => {
            removed.push(op.address.clone());
            shared.results.remove(&op.address);
        }
        _ => {}
    }
    let entry = Entry::Settled { address: op.address.clone(), operation: op.kind, set, removed };
    if let Some(e) = &outcome.error {
        return (entry, Some(e.clone()));
    }
    if inconsistent.is_some() {
        return (entry, inconsistent);
    }
    match op.kind {
        OpKind::Create => report.created += 1,
        OpKind::Update => report.updated += 1,
        OpKind::Delete => report.deleted += 1,
        OpKind::Retag => report.retagged += 1,
        OpKind::Forget => report.forgotten += 1,
    }
    (entry, None)
}

/// The error for an object AWS accepted that does not match the plan (Terraform's
/// "inconsistent result after apply"), naming each attribute.
fn inconsistency(found: &[trellis_plan::Mismatch]) -> Option<ProviderError> {
    if found.is_empty() {
        return None;
    }
    let each: Vec<String> =
        found.iter().map(|m| format!("`{}`: planned {}, actual {}", m.attr, m.planned, m.actual)).collect();
    Some(ProviderError::new(
        Some("InconsistentResult"),
        format!("AWS accepted the change but the object does not match the plan: {}", each.join("; ")),
    ))
}
