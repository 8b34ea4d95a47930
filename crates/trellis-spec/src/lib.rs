//! Reads a trellis spec (one YAML file) into a validated [`Spec`], or reports every
//! problem at once as [`Diagnostics`] with `file:line:col`, the reason and a hint.
//!
//! The YAML layer is `marked-yaml`, which keeps a position on every node, so any
//! attribute, key or reference can be pointed at. Values are typed by the kind schemas
//! of `trellis-core`, not by YAML's guesses (`no` stays a string where a string is due).

mod diag;
pub mod emit;
pub mod expr;
mod parse;
pub mod sources;
mod template;
mod varfile;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use trellis_core::kinds;
use trellis_core::schema::Kind;
use trellis_core::{Address, Attrs, Expr, LookupAddress, LookupQuery, Value};
use trellis_graph::DepGraph;

pub use diag::{did_you_mean, Diagnostic, Diagnostics, SourceFile, Span};
pub use parse::{aws_refuses, valid_stack_name};
pub use varfile::{auto_var_files, read_var_file, var_values};

/// A validated spec: the desired stack.
#[derive(Debug, Clone)]
pub struct Spec {
    pub file: SourceFile,
    /// `checks: { fail_on: SEVERITY }`: findings at or above it make plan and apply refuse.
    pub fail_on: Option<trellis_core::schema::Severity>,
    pub stack: String,
    pub region: Option<String>,
    /// Variable values after `--var` overrides.
    pub vars: BTreeMap<String, String>,
    /// Every resource, a repeated one as one entry per copy (`instance.web[0]`, …).
    pub resources: BTreeMap<Address, Resource>,
    /// The resources with `count` or `for_each`, by their address without a key.
    pub repeats: BTreeMap<Address, Repetition>,
    pub outputs: BTreeMap<String, Expr>,
    /// What `lookups:` asks to find in the account.
    pub lookups: BTreeMap<LookupAddress, Lookup>,
    /// Where the state is kept when not in the local file (`backend: { s3: ... }`).
    pub backend: Option<S3Backend>,
    /// The other stacks whose outputs `${stack.NAME.output.KEY}` reads, by name.
    pub stacks: BTreeMap<String, StackRef>,
    /// `moved:`, in the order written: each applies to the state as the ones before it
    /// left it.
    pub moves: Vec<Move>,
    /// `removed:`: what leaves management without being deleted.
    pub removed: Vec<Removed>,
    /// `drift:`: what drift gets by default, and the differences that are known noise.
    pub drift: DriftSettings,
    /// The files of the components the spec uses, as read (a saved plan's digest covers
    /// them with the spec's own text).
    pub sources: Vec<SourceFile>,
    /// The stack's `tags:` (known values), which every object that takes tags carries
    /// under its own: a plan shows them once.
    pub default_tags: BTreeMap<String, String>,
}

/// What a difference between the state and a live object gets from `trellis reconcile`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DriftPolicy {
    /// Reported, nothing done (the default).
    #[default]
    Report,
    /// Repaired: the live object is changed back to what the spec and state say.
    Revert,
    /// Taken into the state as it is, as `--refresh-only` does.
    Accept,
}

impl DriftPolicy {
    pub const WORDS: [&'static str; 3] = ["report", "revert", "accept"];

    pub fn word(self) -> &'static str {
        match self {
            DriftPolicy::Report => "report",
            DriftPolicy::Revert => "revert",
            DriftPolicy::Accept => "accept",
        }
    }
}

impl std::str::FromStr for DriftPolicy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "report" => Ok(DriftPolicy::Report),
            "revert" => Ok(DriftPolicy::Revert),
            "accept" => Ok(DriftPolicy::Accept),
            _ => Err(format!("`{s}` is not a drift policy: report, revert or accept")),
        }
    }
}

/// The stack's `drift:` settings.
#[derive(Debug, Clone, Default)]
pub struct DriftSettings {
    /// What a resource without its own `drift:` gets.
    pub default: DriftPolicy,
    /// `kind.name.attribute` (or `.attribute.KEY` of a mapping): known noise, counted and
    /// named in reports but not drift.
    pub ignore: Vec<String>,
}

/// `kind.name.attr[.KEY]` (a copy as `kind.name[0].attr`): the address and the rest.
pub fn drift_ignore_target(text: &str) -> Option<(Address, String)> {
    // The address is `kind.name` or `kind.name[key]`; what follows is the attribute path.
    let (kind, rest) = text.split_once('.')?;
    let name_end = match rest.find('[') {
        Some(open) if rest[..open].chars().all(|c| c != '.') => open + rest[open..].find(']')? + 1,
        _ => rest.find('.')?,
    };
    let (name, attr) = (&rest[..name_end], rest[name_end..].strip_prefix('.')?);
    let address: Address = format!("{kind}.{name}").parse().ok()?;
    (!attr.is_empty()).then(|| (address, attr.to_string()))
}

/// One entry of `moved:`: the object the state holds at `from` is now at `to`. A
/// `from` without a key that names a repeated resource in the state, moved to another
/// address without a key, takes every copy along under the same keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Move {
    pub from: Address,
    pub to: Address,
    pub span: Span,
}

impl Move {
    /// Where the state's object at `a` goes under this move, if it is one it moves.
    pub fn apply(&self, a: &Address) -> Option<Address> {
        if *a == self.from {
            return Some(self.to.clone());
        }
        match (&a.key, &self.from.key, &self.to.key) {
            (Some(k), None, None) if a.resource() == self.from => Some(self.to.instance(k.clone())),
            _ => None,
        }
    }
}

/// One entry of `removed:`: the objects at `from` (without a key: the resource and all
/// its copies) stay in the cloud, untagged, and leave the state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Removed {
    pub from: Address,
    pub span: Span,
}

impl Removed {
    pub fn covers(&self, a: &Address) -> bool {
        *a == self.from || (self.from.key.is_none() && a.resource() == self.from)
    }
}

/// Another stack whose state this spec reads outputs from.
#[derive(Debug, Clone)]
pub struct StackRef {
    pub name: String,
    /// Its remote state, from `stacks: { NAME: { backend: { s3: ... } } }`.
    pub backend: Option<S3Backend>,
    /// Its local state file, from `stacks: { NAME: { state: PATH } }`; with neither,
    /// `state/NAME.json` in the working directory, where that stack keeps it.
    pub state: Option<std::path::PathBuf>,
    /// Where it is first declared or read in the file.
    pub span: Span,
    /// The outputs the spec reads from it.
    pub keys: BTreeSet<String>,
    /// What its state held, when the spec was read with the other stacks' states.
    pub read: Option<StackOutputs>,
}

/// Another stack's outputs as its state held them, and which state that was.
#[derive(Debug, Clone, PartialEq)]
pub struct StackOutputs {
    /// Where the state was read (`state/network.json`, `s3://bucket/key`).
    pub location: String,
    pub lineage: String,
    pub serial: u64,
    pub outputs: BTreeMap<String, Value>,
}

/// The other stacks' states, by stack name, as the spec is read with them.
pub type StackValues = BTreeMap<String, StackState>;

/// One other stack's state: read, or not there yet.
#[derive(Debug, Clone, PartialEq)]
pub enum StackState {
    Found(StackOutputs),
    /// No state at `location`: that stack was never applied (or lives elsewhere).
    Missing {
        location: String,
    },
}

/// The copies a `count` or `for_each` asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Repetition {
    Count(u32),
    ForEach(BTreeSet<String>),
}

impl Repetition {
    /// Why `copy` (an address of this resource's) is not among the copies any more.
    pub fn why_gone(&self, copy: &Address) -> String {
        let whole = copy.resource();
        match (self, &copy.key) {
            (Repetition::Count(n), Some(trellis_core::InstanceKey::Index(_))) => {
                format!("`{whole}` now has count {n}: the copies from index {n} up go")
            }
            (Repetition::ForEach(_), Some(trellis_core::InstanceKey::Key(k))) => {
                format!("\"{k}\" is no longer in `{whole}`'s for_each")
            }
            (Repetition::Count(_), _) => format!("`{whole}` now has `count`: its copies are `{whole}[0]` and on"),
            (Repetition::ForEach(_), _) => format!("`{whole}` now has `for_each`: its copies are named by key"),
        }
    }
}

/// One entry of `lookups:`: an object the stack reads but does not own.
#[derive(Debug, Clone)]
pub struct Lookup {
    pub address: LookupAddress,
    /// Every filter given or defaulted.
    pub filters: BTreeMap<String, Filter>,
    /// What was found, when the spec was read with the lookups' answers (plan, apply);
    /// `None` when it was read without them (`validate`), and then every value read
    /// from a lookup is `Value::Unknown`.
    pub found: Option<Attrs>,
    /// Where its key stands in the file.
    pub span: Span,
}

/// A filter's value: given, or read from another lookup (`vpc_id: ${lookup.vpc.main}`).
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    Value(Value),
    From { lookup: LookupAddress, attr: String },
}

/// The lookups' answers, as the spec is read with them.
pub type LookupValues = BTreeMap<LookupAddress, Attrs>;

impl Lookup {
    /// The lookups whose answers this one's filters need first.
    pub fn needs(&self) -> BTreeSet<LookupAddress> {
        self.filters
            .values()
            .filter_map(|f| match f {
                Filter::From { lookup, .. } => Some(lookup.clone()),
                Filter::Value(_) => None,
            })
            .collect()
    }

    /// The query to send, once every lookup it needs is in `answers`.
    pub fn query(&self, answers: &LookupValues) -> Option<LookupQuery> {
        let mut filters = BTreeMap::new();
        for (name, f) in &self.filters {
            let v = match f {
                Filter::Value(v) => v.clone(),
                Filter::From { lookup, attr } => answers.get(lookup)?.get(attr)?.clone(),
            };
            filters.insert(name.clone(), v);
        }
        Some(LookupQuery { address: self.address.clone(), filters })
    }
}

/// `backend: { s3: { bucket, key, region, lock_lease } }`: the state in an S3 object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Backend {
    pub bucket: String,
    /// The object's key; `trellis/<stack>.json` when left out.
    pub key: String,
    /// The bucket's region, when it differs from the stack's.
    pub region: Option<String>,
    /// A lock not renewed for this long is reported as stale.
    pub lock_lease: Option<std::time::Duration>,
}

/// One resource as the spec asks for it.
#[derive(Debug, Clone)]
pub struct Resource {
    pub address: Address,
    pub kind: &'static Kind,
    /// Every settable attribute the spec gives or that has a default.
    pub attrs: std::sync::Arc<BTreeMap<String, Expr>>,
    /// Extra ordering from `depends_on:`.
    pub depends_on: BTreeSet<Address>,
    /// Attributes whose values never reach a plan, a state or a log (`sensitive:`, and
    /// those the kind marks sensitive): they read `${env.NAME}` when needed.
    pub sensitive: BTreeSet<String>,
    /// `ignore_changes:`: attribute names, or `NAME.KEY` for one key of a mapping
    /// (`tags.Team`), that an existing object keeps as they are live.
    pub ignore_changes: BTreeSet<String>,
    /// `waive:`: the rules (by id) whose findings on it are accepted, each with its reason.
    pub waive: BTreeMap<String, String>,
    /// `drift:` on the resource, when given (else the stack's default).
    pub drift: Option<DriftPolicy>,
    /// What it reads from outside the stack: `lookup.KIND.NAME` and `stack.NAME`
    /// (their values are literals in `attrs`; this keeps where they came from, for `graph`).
    pub reads: BTreeSet<String>,
    /// Where the resource's key stands in the file.
    pub span: Span,
}

impl Resource {
    /// Every address this resource needs first: its references and `depends_on`.
    pub fn dependencies(&self) -> BTreeSet<Address> {
        let mut deps: BTreeSet<Address> =
            self.attrs.values().flat_map(|e| e.refs()).map(|r| r.address.clone()).collect();
        deps.extend(self.depends_on.iter().cloned());
        deps.remove(&self.address);
        deps
    }
}

impl Spec {
    /// The environment variables sensitive attributes read, with where: `(address,
    /// attribute, variable)`.
    pub fn secret_sources(&self) -> Vec<(&Address, &str, &str)> {
        let mut out = Vec::new();
        for r in self.resources.values() {
            for name in &r.sensitive {
                if let Some(e) = r.attrs.get(name) {
                    out.extend(e.env_names().into_iter().map(|v| (&r.address, name.as_str(), v)));
                }
            }
        }
        out
    }

    pub fn graph(&self) -> DepGraph {
        let deps: Vec<(Address, BTreeSet<Address>)> =
            self.resources.values().map(|r| (r.address.clone(), r.dependencies())).collect();
        DepGraph::new(deps.iter().map(|(a, d)| (a, d)))
            .with_reads(self.resources.values().map(|r| (&r.address, &r.reads)))
    }
}

/// What the command line adds to a spec: `--var` values and where `${env.X}` reads.
pub struct LoadOptions<'a> {
    pub vars: BTreeMap<String, String>,
    pub env: &'a dyn Fn(&str) -> Option<String>,
    /// The lookups' answers; without them, values read from lookups are unknown.
    pub lookups: Option<&'a LookupValues>,
    /// The other stacks' states; without them, their outputs are unknown.
    pub stacks: Option<&'a StackValues>,
}

impl Default for LoadOptions<'_> {
    fn default() -> Self {
        LoadOptions { vars: BTreeMap::new(), env: &|name| std::env::var(name).ok(), lookups: None, stacks: None }
    }
}

/// Why a spec could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("{0}")]
    Invalid(Diagnostics),
}

/// Reads and validates the spec at `path`.
pub fn load(path: &Path, opts: &LoadOptions<'_>) -> Result<Spec, LoadError> {
    let text =
        std::fs::read_to_string(path).map_err(|source| LoadError::Read { path: path.display().to_string(), source })?;
    parse(SourceFile { name: path.display().to_string(), text }, opts).map_err(LoadError::Invalid)
}

/// `trellis get`: reads the spec with every git component's ref resolved again and
/// fetched, and rewrites `trellis.lock` with what they name now. Returns the spec and
/// the lock's entries.
pub fn get(path: &Path, opts: &LoadOptions<'_>) -> Result<(Spec, BTreeMap<String, sources::Locked>), LoadError> {
    let text =
        std::fs::read_to_string(path).map_err(|source| LoadError::Read { path: path.display().to_string(), source })?;
    let file = SourceFile { name: path.display().to_string(), text };
    let mut parser = parse::Parser::new(&file, opts);
    parser.update_sources = true;
    let spec = parser.run().map_err(LoadError::Invalid)?;
    let lock = sources::Sources::open(path, sources::cache_dir(opts.env));
    Ok((spec, lock.locked().clone()))
}

/// Validates a spec held in memory.
pub fn parse(file: SourceFile, opts: &LoadOptions<'_>) -> Result<Spec, Diagnostics> {
    parse::Parser::new(&file, opts).run()
}

/// The names of all kinds, for messages.
pub fn kind_names() -> Vec<&'static str> {
    kinds::names().collect()
}
