//! What trellis-aws tells the person watching while it waits and retries, as facts:
//! the CLI words them (`trellis-cli/src/progress.rs`). No English is written here but
//! the names of states (`Until`'s `Display`, which errors use too).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// Receives progress events (waits, retries) meant for the person running trellis.
pub type Progress = Arc<dyn Fn(&Event) + Send + Sync>;

/// One thing worth telling while a call waits or is retried.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// Polling until `subject` is `until`; `now` is what AWS says it is, when it says.
    /// Told at the first poll and at every long one.
    Waiting { subject: String, until: Until, now: Option<String> },
    /// AWS answered "not found" for something it has just made (eventual consistency);
    /// the SDK asks again.
    NotShownYet { message: String },
    /// A create names an object AWS does not show to it yet; it is sent again.
    ReferenceNotVisible { address: String, error: String },
    /// A create's outcome is unknown (or AWS says the object exists): the object is
    /// looked up by its tags before anything is sent again.
    CreateUnclear { address: String, error: String, exists: bool },
    /// The look-up found `id`, made by an earlier attempt: it is taken.
    CreateFound { address: String, id: String },
    /// The look-up found nothing: the create is sent again.
    CreateResent { address: String },
    /// A delete refused while something still uses the object; sent again after
    /// `retry_in`. The first time says AWS's `error` and what uses it.
    StillInUse { address: String, id: String, error: Option<String>, users: Vec<String>, retry_in: Duration },
    /// An instance is stopped so that its type can change.
    StoppingToResize { id: String, instance_type: String },
    /// A database is rebooted so that its static parameters take effect.
    RebootingForParameters { id: String },
    /// A killed run's journal names creates the read did not show: looked for again.
    LookingForJournalCreates { addresses: Vec<String> },
    /// A step of the instance refresh `refresh` of the group `group`.
    Refresh { group: String, refresh: String, step: RefreshStep },
}

/// What a wait waits for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Until {
    Available,
    Active,
    Deleted,
    Readable,
    /// An auto scaling group's instances in service, as many as it wants.
    AtCapacity,
    /// An instance's state (`running`, `stopped`).
    State(String),
    /// A target healthy in the target group named.
    Healthy {
        target_group: String,
    },
    /// A target drained from the target group named.
    Drained {
        target_group: String,
    },
}

impl fmt::Display for Until {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Until::Available => f.write_str("available"),
            Until::Active => f.write_str("active"),
            Until::Deleted => f.write_str("deleted"),
            Until::Readable => f.write_str("readable"),
            Until::AtCapacity => f.write_str("at capacity"),
            Until::State(s) => f.write_str(s),
            Until::Healthy { target_group } => write!(f, "healthy in {target_group}"),
            Until::Drained { target_group } => write!(f, "drained from {target_group}"),
        }
    }
}

/// A step of an instance refresh.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RefreshStep {
    /// It was running already (started by another run): waited for before a new one.
    AlreadyRunning,
    /// Started, to the launch template version named.
    Started { version: String },
    /// Found already started to the version named (by this run, whose answer was lost,
    /// or by a run that was stopped): watched as this rollout's own.
    Recognised { version: String },
    /// AWS's status changed.
    Status { status: String, percentage: Option<i32>, instances_left: Option<i32>, reason: Option<String> },
    /// trellis stops it (`rollback`: rolls it back; otherwise cancels it).
    Stopping { why: String, rollback: bool },
}
