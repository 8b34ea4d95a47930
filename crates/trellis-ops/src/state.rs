//! The state outside a run: reading it for `state list/show` and `output`, and storing
//! a state file as the stack's (`state push`).

use std::path::Path;

use trellis_state::{parse_state, State, StateLock, StateStore};

use crate::session::load_spec;
use crate::{open_store, BackendChoice, Error, Result};

/// The state for the `state` and `output` commands: the spec's (from its backend, or
/// `state/<stack>.json`), or the file `choice.state` names.
pub fn read_state(
    spec: Option<&Path>,
    vars: &std::collections::BTreeMap<String, String>,
    choice: &BackendChoice,
) -> Result<State> {
    match (spec, &choice.state) {
        (Some(spec), _) => {
            let spec = load_spec(spec, vars)?;
            let store = open_store(&spec, choice)?;
            store.read(&spec.stack)?.ok_or_else(|| Error::Read(format!("{}: no state yet", store.location())))
        }
        (None, Some(path)) => {
            let text = std::fs::read_to_string(path).map_err(|e| Error::Read(format!("{}: {e}", path.display())))?;
            serde_json::from_str(&text)
                .map_err(|e| Error::Read(format!("{} is not a trellis state: {e}", path.display())))
        }
        (None, None) => Err(Error::Usage(
            "say which state: give the spec first (its backend, or state/<stack>.json), or --state PATH".into(),
        )),
    }
}

/// Reads the state file `file` for `stack`, to be pushed.
pub fn read_state_file(file: &Path, stack: &str) -> Result<State> {
    let text = std::fs::read_to_string(file).map_err(|e| Error::Read(format!("{}: {e}", file.display())))?;
    Ok(parse_state(&text, &file.display().to_string(), stack)?)
}

/// Stores `state` (read from `file`) as the stack's, serial and lineage unchanged, under
/// `lock`. Unless `force`, it refuses to replace another history or a newer state.
pub fn push_state(store: &dyn StateStore, lock: &StateLock, state: &State, file: &Path, force: bool) -> Result<()> {
    if let Some(current) = store.read(&state.stack)?.filter(|_| !force) {
        if let Some(why) = push_refusal(&current, state, file) {
            return Err(Error::Usage(format!(
                "{} was not replaced: {why}; --force replaces it anyway",
                store.location()
            )));
        }
    }
    store.put(lock, state)?;
    Ok(())
}

/// Why `new` (from `file`) may not replace `current`.
fn push_refusal(current: &State, new: &State, file: &Path) -> Option<String> {
    if current.lineage != new.lineage {
        return Some(format!(
            "it holds lineage {}, {} has {}: they are histories of different states",
            current.lineage,
            file.display(),
            new.lineage
        ));
    }
    if current.serial > new.serial {
        return Some(format!(
            "it is newer (serial {}) than {} (serial {}); pull it first",
            current.serial,
            file.display(),
            new.serial
        ));
    }
    if current.serial == new.serial && current != new {
        return Some(format!("it has serial {} too, with different contents", new.serial));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_push_may_only_move_one_history_forward() {
        let file = Path::new("web.json");
        let a = State::new("web");
        let mut newer = a.clone();
        newer.serial += 1;
        assert_eq!(push_refusal(&a, &newer, file), None);
        assert_eq!(push_refusal(&a, &a, file), None, "the same state again is fine");
        assert!(push_refusal(&newer, &a, file).unwrap().contains("newer (serial"));
        let other = State::new("web");
        assert!(push_refusal(&a, &other, file).unwrap().contains("histories of different states"));
        let mut changed = a.clone();
        changed.outputs.insert("x".into(), trellis_core::Value::Str("y".into()));
        assert!(push_refusal(&a, &changed, file).unwrap().contains("with different contents"));
    }
}
