//! The state: what trellis last saw of every object it manages, and the local file
//! store that keeps it safe (atomic replace, backup, mode 0600, exclusive lock).

mod store;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use trellis_core::{Address, Attrs, Value};

pub use store::{LocalStore, LockInfo, StateLock};

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
    /// `create`, `update` or `delete`.
    pub operation: String,
}

/// One managed object as last seen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceState {
    pub address: Address,
    pub kind: String,
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
    #[error("{path} has state format {found}; this trellis reads format {FORMAT_VERSION}")]
    Version { path: String, found: u32 },
    #[error("{path} holds the state of stack `{found}`, not `{expected}`")]
    OtherStack { path: String, found: String, expected: String },
    #[error("the state {path} is locked by {holder}")]
    Locked { path: String, holder: LockInfo },
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
        self.pending.iter().filter(|p| p.operation == "create").map(|p| &p.address)
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
                kind: address.kind.clone(),
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
