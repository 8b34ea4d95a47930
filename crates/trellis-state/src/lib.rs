//! The state: what trellis last saw of every object it manages, the [`StateStore`]
//! interface every place that keeps it implements, and the local file store (atomic
//! replace, backup, mode 0600, exclusive lock). Remote stores live with their SDK
//! (S3: `trellis-aws`).

mod journal;
mod store;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use trellis_core::{Address, Attrs, Value};

pub use journal::{fold_bound, replay_text, Entry, Journaled, Line};
pub use store::{
    hostname, now_secs, parse_state, write_private, IoCounts, LocalStore, LockInfo, StateLock, StateStore,
};

/// Version of the state document's format; bumped on incompatible changes.
pub const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct State {
    pub format_version: u32,
    /// The identity of this state, fixed when it is first written: two states with
    /// different lineages describe different stacks, even under one name.
    pub lineage: String,
    /// Grows by one on every write.
    pub serial: u64,
    pub stack: String,
    /// Sorted by address.
    pub resources: Vec<ResourceState>,
    pub outputs: BTreeMap<String, Value>,
    /// The write-ahead journal: operations an apply started and has not recorded yet.
    /// Written before the AWS call, removed once its outcome is in `resources`; an entry
    /// left behind means the run was killed in between.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pending: Vec<Pending>,
}

/// One operation in flight, as the journal records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pending {
    pub address: Address,
    pub operation: OpKind,
}

/// What one step of an apply does to one object: the engine's operations and the
/// journal's entries. Written as `create`, `update`, `delete`, `retag` (trellis's tags
/// on a moved object rewritten) and `forget` (its tags removed, then its record).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OpKind {
    Create,
    Update,
    Delete,
    Retag,
    Forget,
}

impl std::fmt::Display for OpKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            OpKind::Create => "create",
            OpKind::Update => "update",
            OpKind::Delete => "delete",
            OpKind::Retag => "retag",
            OpKind::Forget => "forget",
        })
    }
}

/// One managed object as last seen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceState {
    /// Its kind is the address's (`kind.name`); a state naming a kind this trellis
    /// does not know fails to load, saying which.
    pub address: Address,
    pub id: String,
    pub attributes: Attrs,
    /// Addresses this object depended on when it was last written: deletion order
    /// comes from here, since a deleted resource is no longer in the spec.
    pub dependencies: Vec<Address>,
    /// Attributes whose values are secrets: the state holds their salted digests.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sensitive: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("{path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("{path} is not a trellis state file: {source}")]
    Parse { path: String, source: serde_json::Error },
    /// A local state file that does not parse, with what can bring it back.
    #[error("{path} is not a trellis state file any more: {source}\n  help: {help}")]
    Damaged { path: String, source: serde_json::Error, help: String },
    /// A journal line that does not parse (other than a last one the writer did not
    /// finish, which is left out).
    #[error(
        "{path}:{line}: a journal line is damaged: {source}\n  help: move the journal aside; the objects \
         the steps it recorded made carry the stack's tags, so `trellis plan` lists them as orphans and \
         `trellis state adopt SPEC` records them again"
    )]
    Journal { path: String, line: usize, source: serde_json::Error },
    #[error("{path} has state format {found}; this trellis reads format {FORMAT_VERSION}")]
    Version { path: String, found: u32 },
    #[error("{path} holds the state of stack `{found}`, not `{expected}`")]
    OtherStack { path: String, found: String, expected: String },
    #[error("the state {path} is locked by {holder}{}", lock_hint(holder, stale.as_deref()))]
    Locked { path: String, holder: Box<LockInfo>, stale: Option<String> },
    #[error(
        "the state {path} was changed by another run since this one read it ({detail}), so it was not \
         overwritten: its lock was broken or bypassed{}",
        rescued.as_ref().map(|r| format!(". This run's state is saved in {r}: compare the two, then `trellis state push SPEC {r}` (with --force if it must win)")).unwrap_or_default()
    )]
    Conflict { path: String, detail: String, rescued: Option<String> },
    #[error("{path}: {message}{}", rescued.as_ref().map(|r| format!(". This run's state is saved in {r}; `trellis state push SPEC {r}` stores it once the store is reachable")).unwrap_or_default())]
    Remote { path: String, message: String, rescued: Option<String> },
    #[error("the state {path} is not locked")]
    NotLocked { path: String },
    #[error("the state {path} is locked by {holder}, not under lock id {given}; nothing was broken")]
    OtherLock { path: String, holder: Box<LockInfo>, given: String },
    #[error(
        "the state {path} is locked by {holder}, a process that is still running: a local lock is an OS \
         lock that frees itself when its process ends, so stop that process rather than breaking the lock"
    )]
    LiveLocalLock { path: String, holder: Box<LockInfo> },
}

fn lock_hint(holder: &LockInfo, stale: Option<&str>) -> String {
    match stale {
        Some(why) => format!(
            "\n  The lock looks stale: {why}. If that run is surely over, break it with \
             `trellis force-unlock SPEC {}`.",
            holder.id
        ),
        None => "\n  Wait for it with --lock-timeout DURATION.".to_string(),
    }
}

impl State {
    /// A new, empty state with a fresh lineage.
    pub fn new(stack: &str) -> State {
        State {
            format_version: FORMAT_VERSION,
            lineage: uuid::Uuid::new_v4().to_string(),
            serial: 0,
            stack: stack.to_string(),
            resources: Vec::new(),
            outputs: BTreeMap::new(),
            pending: Vec::new(),
        }
    }

    /// Addresses whose create a killed run left in the journal: an object tagged with
    /// one of them is that create's, to be adopted rather than made again.
    pub fn pending_creates(&self) -> impl Iterator<Item = &Address> {
        self.pending.iter().filter(|p| p.operation == OpKind::Create).map(|p| &p.address)
    }

    pub fn get(&self, address: &Address) -> Option<&ResourceState> {
        self.resources.binary_search_by(|r| r.address.cmp(address)).ok().map(|i| &self.resources[i])
    }

    /// Inserts or replaces the entry for `r.address`, keeping the order.
    pub fn upsert(&mut self, r: ResourceState) {
        match self.resources.binary_search_by(|x| x.address.cmp(&r.address)) {
            Ok(i) => self.resources[i] = r,
            Err(i) => self.resources.insert(i, r),
        }
    }

    pub fn remove(&mut self, address: &Address) -> Option<ResourceState> {
        let i = self.resources.binary_search_by(|r| r.address.cmp(address)).ok()?;
        Some(self.resources.remove(i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upsert_keeps_resources_sorted_and_unique() {
        let mut s = State::new("demo");
        for name in ["subnet.b", "vpc.main", "subnet.a", "subnet.b"] {
            let address: Address = name.parse().unwrap();
            s.upsert(ResourceState {
                address,
                id: name.into(),
                attributes: Attrs::new(),
                dependencies: vec![],
                sensitive: vec![],
            });
        }
        let names: Vec<String> = s.resources.iter().map(|r| r.address.to_string()).collect();
        assert_eq!(names, ["subnet.a", "subnet.b", "vpc.main"]);
        assert!(s.remove(&"subnet.a".parse().unwrap()).is_some());
        assert!(s.get(&"subnet.a".parse().unwrap()).is_none());
    }
}
