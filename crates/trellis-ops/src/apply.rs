//! Carrying out a plan: the one decision of whether there is work (and whether it needs
//! a person's approval), and the engine's walk over it. The CLI only words the events
//! and the report, and turns Ctrl-C into the interrupt the options carry.

use std::collections::BTreeMap;
use std::sync::Arc;

use trellis_aws::Aws;
use trellis_core::Value;
use trellis_engine::{ApplyOptions, Event, Report};
use trellis_plan::{Operation, Plan};
use trellis_state::{State, StateLock, StateStore};

use crate::Result;

/// What applying a plan would do, decided once for `apply SPEC`, `destroy` and
/// `apply FILE` alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Work {
    /// Something is written: the cloud changes, or the state does (outputs, objects as
    /// refreshed or adopted, a journal to fold).
    pub apply: bool,
    /// A person approves it first: it changes the cloud, moves records, or (refresh
    /// only) records what changed outside trellis.
    pub ask: bool,
}

/// The work of `plan` over `prior`, the state as stored.
pub fn work(plan: &Plan, prior: Option<&State>) -> Work {
    let prior_outputs: BTreeMap<String, Value> = prior.map(|s| s.outputs.clone()).unwrap_or_default();
    let on_disk = prior.map(|s| (s.resources.as_slice(), !s.pending.is_empty()));
    let state_news = on_disk.is_some_and(|(r, pending)| pending || r != plan.prior_state.resources.as_slice())
        || (on_disk.is_none() && !plan.prior_state.resources.is_empty());
    let changes = !plan.is_empty() || !plan.moves.is_empty();
    let apply = changes || plan.state_moved(&prior_outputs) || state_news || plan.operation == Operation::RefreshOnly;
    Work { apply, ask: changes || plan.operation == Operation::RefreshOnly }
}

/// Walks `plan` with the engine onto `state`, under `lock`, telling each event.
pub async fn execute(
    aws: Arc<Aws>,
    plan: &Plan,
    store: &dyn StateStore,
    lock: &StateLock,
    state: State,
    options: ApplyOptions,
    on_event: impl Fn(Event),
) -> Result<Report> {
    let (report, _) = trellis_engine::apply(aws, plan, store, lock, state, options, on_event).await?;
    Ok(report)
}
