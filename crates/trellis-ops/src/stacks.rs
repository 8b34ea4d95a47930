//! Reading the other stacks' states that `${stack.NAME.output.KEY}` names: each where
//! the spec's `stacks:` says, or that stack's own local file. They are read without
//! their locks and never written: a state is always replaced whole (renamed into place
//! on disk, put whole in S3), so a read sees one version, the one the plan names.

use trellis_spec::{Spec, StackOutputs, StackState, StackValues};

use crate::store::{default_state_path, store_for};
use crate::{BackendChoice, Error, Result};

/// Every other stack's state the spec reads, or where it was looked for.
pub(crate) fn read(spec: &Spec, choice: &BackendChoice) -> Result<StackValues> {
    // Only the endpoint carries over: `--state` and `--backend` are this stack's.
    let theirs = BackendChoice { endpoint_url: choice.endpoint_url.clone(), ..BackendChoice::default() };
    let mut values = StackValues::new();
    for r in spec.stacks.values().filter(|r| !choice.pending_stacks.contains(&r.name)) {
        let local = r.state.clone().unwrap_or_else(|| default_state_path(&r.name));
        let store = store_for(spec.region.as_ref(), r.backend.as_ref(), local, &theirs)?;
        let location = store.location();
        let state = store.read(&r.name).map_err(|e| {
            Error::Read(format!("cannot read the state of stack `{}` (which this spec reads outputs of): {e}", r.name))
        })?;
        let read = match state {
            None => StackState::Missing { location },
            Some(st) => StackState::Found(StackOutputs {
                location,
                lineage: st.lineage,
                serial: st.serial,
                outputs: st.outputs,
            }),
        };
        values.insert(r.name.clone(), read);
    }
    Ok(values)
}
