//! `trellis force-unlock SPEC LOCK_ID`: shows the holder, asks, then breaks the lock.

use clap::Args;
use trellis_ops::{open_store, Result};
use trellis_state::StateError;

use crate::ui::Ui;
use crate::{CloudArgs, SpecArgs, EXIT_ERROR, EXIT_OK};

#[derive(Args, Debug)]
pub struct ForceUnlockArgs {
    #[command(flatten)]
    spec: SpecArgs,
    /// The lock id, as the "is locked by" error shows it.
    lock_id: String,
    #[command(flatten)]
    cloud: CloudArgs,
    /// Do not ask for confirmation.
    #[arg(long)]
    yes: bool,
}

pub fn run(args: &ForceUnlockArgs, ui: &Ui) -> Result<i32> {
    let spec = args.spec.load()?;
    let store = open_store(&spec, &(&args.cloud.store).into())?;
    let lock_id = args.lock_id.as_str();
    let Some(holder) = store.holder()? else {
        return Err(StateError::NotLocked { path: store.location() }.into());
    };
    // Checked before asking (the store checks again when it deletes).
    if holder.id != lock_id {
        return Err(StateError::OtherLock {
            path: store.location(),
            holder: Box::new(holder),
            given: lock_id.to_string(),
        }
        .into());
    }
    ui.line(&format!("The state {} is locked by {holder}.", store.location()));
    match store.staleness(&holder) {
        Some(why) => ui.line(&format!("It looks stale: {why}.")),
        None => ui.line("Nothing shows that this run is over: break its lock only if you know it is."),
    }
    let refusal = "force-unlock needs approval: answer `yes` in a terminal, or pass --yes";
    if !args.yes && !super::confirm(ui, "Break this lock?", refusal)? {
        ui.line("The lock was left in place.");
        return Ok(EXIT_ERROR);
    }
    store.force_unlock(lock_id)?;
    ui.line(&format!(
        "Broke lock {lock_id}. Should its run still be going, its state stays safe: each of its writes is \
         conditional on the version it read, so once another run writes the state, its writes are refused and \
         kept in a rescue file."
    ));
    Ok(EXIT_OK)
}
