//! The operations the `trellis` commands are made of, without a command line or a
//! terminal: open a spec and its state store under lock ([`Session::open`]), read the
//! live stack, plan (adopting what a killed run left), check and carry in a saved plan
//! ([`SavedRun`]), import and adopt, move a state between backends, move or let go of
//! one object's record (`state mv`, `state rm`). Nothing here prints;
//! what a person should hear comes back as data, and the CLI words it.

pub mod all;
mod apply;
mod checks;
mod discover;
mod error;
mod lookups;
mod reconcile;
mod refactor;
mod saved;
mod session;
mod stacks;
mod state;
mod store;

pub use apply::{execute, work, Work};
pub use checks::{check_offline, refuse_findings, refuse_preflight};
pub use discover::{discover, DiscoverOptions, Discovery};
pub use error::Error;
pub use reconcile::{
    drift_report, next_wait, parse_ignores, round, DriftReport, DriftedResource, IgnoredDiff, Round, RoundOptions,
    DRIFT_FORMAT,
};
pub use refactor::{Forgotten, Moved};
pub use saved::{save_plan, SavedRun};
pub use session::{check_data_loss, get_sources, load_spec, OpenOptions, Orphans, Planned, Read, Session};
pub use state::{push_state, read_state, read_state_file};
pub use store::{default_state_path, open_store, parse_s3_url, store_for, BackendChoice};

pub type Result<T> = std::result::Result<T, Error>;
