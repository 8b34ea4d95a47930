//! `trellis state mv` and `trellis state rm`: an object's record renamed, or let go,
//! with its trellis tags brought along (the cloud object itself is never changed).

use trellis_core::{Address, Provider, ProviderError};
use trellis_state::{ResourceState, State};

use crate::{Error, Result, Session};

/// What `state mv` did.
pub struct Moved {
    pub from: Address,
    pub to: Address,
    pub id: String,
    /// The tag rewrite failed: the state holds the move, and the next apply retags it.
    pub tag_error: Option<ProviderError>,
    /// The spec does not declare `to` (the next plan would delete it).
    pub undeclared: bool,
}

/// What `state rm` did: the objects let go, with their ids.
pub struct Forgotten {
    pub objects: Vec<(Address, String)>,
    /// The spec still declares them: the next apply creates new ones.
    pub still_declared: Vec<Address>,
}

fn parse(text: &str) -> Result<Address> {
    text.parse().map_err(|e: trellis_core::AddressError| Error::Usage(e.to_string()))
}

fn not_in_state(state: &State, text: &str) -> Error {
    let known: Vec<String> = state.resources.iter().map(|r| r.address.to_string()).collect();
    let hint = trellis_spec::did_you_mean(text, known.iter().map(String::as_str))
        .map(|s| format!(" (did you mean `{s}`?)"))
        .unwrap_or_default();
    Error::Usage(format!("`{text}` is not in the state{hint}"))
}

impl Session {
    /// Renames the state's object at `from` to `to` (the dependencies naming it too),
    /// writes the state, then rewrites its `trellis:address` tag.
    pub async fn state_mv(&mut self, from: &str, to: &str) -> Result<Moved> {
        let (from_text, to_text) = (from, to);
        let (from, to) = (parse(from)?, parse(to)?);
        let mut state = self.state();
        if from.kind != to.kind {
            return Err(Error::Usage(format!(
                "`{from}` cannot move to `{to}`: a move keeps the kind (a {} is not a {})",
                from.kind, to.kind
            )));
        }
        let Some(mut r) = state.get(&from).cloned() else { return Err(not_in_state(&state, from_text)) };
        if let Some(there) = state.get(&to) {
            return Err(Error::Usage(format!(
                "`{to_text}` is in the state already ({}): one address holds one object; `trellis state rm` lets it go first",
                there.id
            )));
        }
        state.remove(&from);
        r.address = to.clone();
        let (id, attrs) = (r.id.clone(), r.attributes.clone());
        state.upsert(r);
        for other in &mut state.resources {
            for d in other.dependencies.iter_mut().filter(|d| **d == from) {
                *d = to.clone();
            }
        }
        self.store.write(&self.lock, &mut state)?;
        self.prior = Some(state);
        let tag_error = self.aws.retag(&self.spec.stack, &to, &id, &attrs, true).await.err();
        let undeclared = !self.spec.resources.contains_key(&to);
        Ok(Moved { from, to, id, tag_error, undeclared })
    }

    /// Lets the state's object at `address` go (a repeated resource named without a key:
    /// every copy): its trellis tags are removed first, then its record; it stays in the
    /// cloud as it is. A tag that cannot be removed stops before the state changes.
    pub async fn state_rm(&mut self, address: &str) -> Result<Forgotten> {
        let named = parse(address)?;
        let mut state = self.state();
        let doomed: Vec<ResourceState> = state
            .resources
            .iter()
            .filter(|r| r.address == named || (named.key.is_none() && r.address.resource() == named))
            .cloned()
            .collect();
        if doomed.is_empty() {
            return Err(not_in_state(&state, address));
        }
        let mut objects = Vec::new();
        for r in &doomed {
            self.aws.retag(&self.spec.stack, &r.address, &r.id, &r.attributes, false).await.map_err(|e| {
                Error::Aws(format!(
                    "{}: removing its trellis tags failed, so it stays in the state: AWS {e}",
                    r.address
                ))
            })?;
            state.remove(&r.address);
            self.store.write(&self.lock, &mut state)?;
            objects.push((r.address.clone(), r.id.clone()));
        }
        let still_declared =
            doomed.iter().map(|r| r.address.clone()).filter(|a| self.spec.resources.contains_key(a)).collect();
        self.prior = Some(state);
        Ok(Forgotten { objects, still_declared })
    }
}
