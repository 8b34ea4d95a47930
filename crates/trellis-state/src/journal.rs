//! The journal: an apply's steps, appended one at a time beside the stored state, so
//! that a step costs what it changes and not the size of the stack.
//!
//! A store keeps, next to the state document, the entries written since that document
//! (a line each in a local file, an object each in S3). Every entry names the lineage
//! and serial of the document it follows; reading the state plays the entries of the
//! stored serial over it and ignores any other (a journal left from before the last full
//! write). A full write ([`StateStore::put`]) starts an empty journal. [`Journaled`]
//! folds the journal into a full write at the start and end of a run and whenever it has
//! grown about as large as the state.

use serde::{Deserialize, Serialize};
use trellis_core::Address;

use crate::{OpKind, Pending, ResourceState, State, StateError, StateLock, StateStore};

/// One step of an apply, as the journal records it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "entry", rename_all = "snake_case")]
pub enum Entry {
    /// An operation is about to make its first AWS call (it joins `pending`).
    Started { address: Address, operation: OpKind },
    /// An operation ended: it leaves `pending`, and the objects it wrote (whole) and
    /// the addresses it removed are recorded.
    Settled {
        address: Address,
        operation: OpKind,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        set: Vec<ResourceState>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        removed: Vec<Address>,
    },
}

/// An entry as stored: which state document it follows, and its place after it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Line {
    pub lineage: String,
    pub serial: u64,
    /// 1 for the first entry after the document, then one more each.
    pub seq: u64,
    #[serde(flatten)]
    pub entry: Entry,
}

impl Line {
    /// Attributes an earlier trellis recorded under other names or shapes, as in a
    /// stored document.
    pub fn upgrade(&mut self) {
        if let Entry::Settled { set, .. } = &mut self.entry {
            for r in set {
                r.address.kind.upgrade_attrs(&mut r.attributes);
            }
        }
    }

    /// The stored form: one line of JSON, without its newline.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a journal entry serializes")
    }
}

impl State {
    /// Plays one journal entry over the state.
    pub fn play(&mut self, entry: &Entry) {
        match entry {
            Entry::Started { address, operation } => {
                self.pending.push(Pending { address: address.clone(), operation: *operation });
            }
            Entry::Settled { address, operation, set, removed } => {
                if let Some(i) = self.pending.iter().position(|p| p.address == *address && p.operation == *operation) {
                    self.pending.remove(i);
                }
                for a in removed {
                    self.remove(a);
                }
                for r in set {
                    self.upsert(r.clone());
                }
            }
        }
    }

    /// Plays a stored journal entry if it follows this document (same lineage and
    /// serial); returns whether it did.
    pub fn play_line(&mut self, line: &Line) -> bool {
        let follows = line.lineage == self.lineage && line.serial == self.serial;
        if follows {
            self.play(&line.entry);
        }
        follows
    }
}

/// Plays a local journal file's lines over `state`, returning how many followed it. A
/// last line without its newline is a write the process did not finish (it was killed
/// while appending): the step it announced never began, so it is left out. Any other
/// line that does not parse is an error.
pub fn replay_text(state: &mut State, text: &str, location: &str) -> Result<usize, StateError> {
    let mut played = 0;
    let complete = match text.rfind('\n') {
        Some(end) => &text[..end],
        None => return Ok(0),
    };
    for (i, raw) in complete.split('\n').enumerate() {
        if raw.trim().is_empty() {
            continue;
        }
        let mut line: Line = serde_json::from_str(raw).map_err(|source| StateError::Journal {
            path: location.to_string(),
            line: i + 1,
            source,
        })?;
        line.upgrade();
        played += usize::from(state.play_line(&line));
    }
    Ok(played)
}

/// How many entries may follow a state document before they are folded into a new
/// one: about as many as the objects it holds (an entry is at most an object or two),
/// so the folds cost, spread over the steps, a small multiple of one entry each.
pub fn fold_bound(resources: usize) -> u64 {
    (2 * resources).max(256) as u64
}

/// A state changed one step at a time: each step is appended to the store's journal
/// (durable when [`Journaled::record`] returns), and the whole state is written at
/// [`Journaled::begin`], at [`Journaled::finish`] and when the journal reaches
/// [`fold_bound`].
pub struct Journaled<'a> {
    store: &'a dyn StateStore,
    lock: &'a StateLock,
    state: State,
    /// Entries appended since the last full write.
    seq: u64,
}

impl<'a> Journaled<'a> {
    /// Writes `state` whole (the next serial, an empty journal) and journals from there.
    pub fn begin(store: &'a dyn StateStore, lock: &'a StateLock, mut state: State) -> Result<Self, StateError> {
        store.write(lock, &mut state)?;
        Ok(Journaled { store, lock, state, seq: 0 })
    }

    pub fn state(&self) -> &State {
        &self.state
    }

    /// Records one step: in memory, then in the store's journal.
    pub fn record(&mut self, entry: Entry) -> Result<(), StateError> {
        self.state.play(&entry);
        self.seq += 1;
        let line = Line { lineage: self.state.lineage.clone(), serial: self.state.serial, seq: self.seq, entry };
        self.store.append(self.lock, &line, &self.state)?;
        if self.seq >= fold_bound(self.state.resources.len()) {
            self.fold()?;
        }
        Ok(())
    }

    /// Writes the state whole, which empties the journal.
    pub fn fold(&mut self) -> Result<(), StateError> {
        self.store.write(self.lock, &mut self.state)?;
        self.seq = 0;
        Ok(())
    }

    /// Sets the outputs, writes the state whole, and gives it back.
    pub fn finish(
        mut self,
        outputs: std::collections::BTreeMap<String, trellis_core::Value>,
    ) -> Result<State, StateError> {
        self.state.outputs = outputs;
        self.fold()?;
        Ok(self.state)
    }

    /// The state as recorded so far, without writing it again.
    pub fn into_state(self) -> State {
        self.state
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::LocalStore;
    use trellis_core::Attrs;

    fn object(address: &str, id: &str) -> ResourceState {
        ResourceState {
            address: address.parse().unwrap(),
            id: id.into(),
            attributes: Attrs::new(),
            dependencies: vec![],
            sensitive: vec![],
        }
    }

    fn started(address: &str) -> Entry {
        Entry::Started { address: address.parse().unwrap(), operation: OpKind::Create }
    }

    fn created(address: &str, id: &str) -> Entry {
        Entry::Settled {
            address: address.parse().unwrap(),
            operation: OpKind::Create,
            set: vec![object(address, id)],
            removed: vec![],
        }
    }

    #[test]
    fn a_line_is_one_json_object_that_reads_back_as_written() {
        let line = Line { lineage: "l".into(), serial: 4, seq: 2, entry: created("vpc.main", "vpc-1") };
        let text = line.to_json();
        assert!(!text.contains('\n'), "{text}");
        assert!(
            text.starts_with(r#"{"lineage":"l","serial":4,"seq":2,"entry":"settled","address":"vpc.main""#),
            "{text}"
        );
        assert_eq!(serde_json::from_str::<Line>(&text).unwrap(), line);
    }

    #[test]
    fn only_entries_that_follow_the_stored_document_are_played() {
        let mut state = State::new("web");
        state.serial = 7;
        let at = |serial, seq, entry| Line { lineage: state.lineage.clone(), serial, seq, entry };
        let text = [
            at(6, 1, created("vpc.old", "vpc-0")), // before the last full write
            at(7, 1, started("vpc.main")),
            at(7, 2, created("vpc.main", "vpc-1")),
            Line { lineage: "another".into(), ..at(7, 3, created("vpc.other", "vpc-2")) },
            at(7, 3, started("subnet.a")),
        ]
        .iter()
        .map(|l| l.to_json() + "\n")
        .collect::<String>();
        // A kill -9 in the middle of an append leaves half a line.
        let torn = format!("{text}{}", &at(7, 4, created("subnet.a", "subnet-1")).to_json()[..30]);
        let played = replay_text(&mut state, &torn, "web.json.journal").unwrap();
        assert_eq!(played, 3);
        let addresses: Vec<String> = state.resources.iter().map(|r| r.address.to_string()).collect();
        assert_eq!(addresses, ["vpc.main"]);
        assert_eq!(state.pending, [Pending { address: "subnet.a".parse().unwrap(), operation: OpKind::Create }]);

        let broken = text.replacen("\"seq\":2", "\"seq\":", 1);
        let err = replay_text(&mut State::new("web"), &broken, "web.json.journal").unwrap_err().to_string();
        assert!(err.starts_with("web.json.journal:3: a journal line is damaged"), "{err}");
        assert!(err.contains("help: move the journal aside") && err.contains("`trellis state adopt SPEC`"), "{err}");
    }

    #[test]
    fn each_step_is_read_back_from_the_journal_and_a_fold_empties_it() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::new(dir.path().join("web.json"));
        let lock = store.lock("apply").unwrap();
        let mut run = Journaled::begin(&store, &lock, State::new("web")).unwrap();
        assert_eq!(run.state().serial, 1);
        run.record(started("vpc.main")).unwrap();
        let on_disk = store.read("web").unwrap().unwrap();
        assert_eq!(on_disk.pending.len(), 1, "the step is on disk before its call");
        run.record(created("vpc.main", "vpc-1")).unwrap();
        run.record(started("vpc.gone")).unwrap();
        run.record(created("vpc.gone", "vpc-2")).unwrap();
        run.record(Entry::Settled {
            address: "vpc.gone".parse().unwrap(),
            operation: OpKind::Delete,
            set: vec![],
            removed: vec!["vpc.gone".parse().unwrap()],
        })
        .unwrap();
        let on_disk = store.read("web").unwrap().unwrap();
        assert_eq!(&on_disk, run.state());
        assert_eq!(on_disk.serial, 1, "steps do not rewrite the document");
        let journal = std::fs::read_to_string(store.journal_path()).unwrap();
        assert_eq!(journal.lines().count(), 5);

        let state = run.finish(Default::default()).unwrap();
        assert_eq!(state.serial, 2);
        assert_eq!(std::fs::read_to_string(store.journal_path()).unwrap(), "", "a full write empties the journal");
        assert_eq!(store.read("web").unwrap().unwrap(), state);
    }

    #[test]
    fn the_journal_is_folded_once_it_is_as_long_as_the_bound() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::new(dir.path().join("web.json"));
        let lock = store.lock("apply").unwrap();
        let mut run = Journaled::begin(&store, &lock, State::new("web")).unwrap();
        let bound = fold_bound(0);
        for i in 0..bound {
            run.record(started(&format!("vpc.v{i}"))).unwrap();
        }
        assert_eq!(run.state().serial, 2, "folded after {bound} entries");
        assert_eq!(std::fs::read_to_string(store.journal_path()).unwrap(), "");
        run.record(started("vpc.last")).unwrap();
        let on_disk = store.read("web").unwrap().unwrap();
        assert_eq!(on_disk.pending.len() as u64, bound + 1, "what was folded and what followed");
    }
}
