use trellis_spec::Diagnostics;
use trellis_state::StateError;

/// What stops a command. Each variant's text is already worded for the person running it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The spec is invalid: rendered with its `file:line:col` snippets.
    #[error("{0}")]
    Spec(Diagnostics),
    /// A file could not be read or is not what it should be.
    #[error("{0}")]
    Read(String),
    #[error("{0}")]
    State(#[from] StateError),
    /// AWS refused or failed a call outside the engine's walk.
    #[error("{0}")]
    Aws(String),
    #[error("{0}")]
    Plan(#[from] trellis_plan::PlanError),
    #[error("{0}")]
    Engine(#[from] trellis_engine::EngineError),
    /// The plan holds findings at or above the severity that refuses it.
    #[error("{0}")]
    Findings(String),
    /// The request cannot be carried out as given (flags, approval, a stale plan).
    #[error("{0}")]
    Usage(String),
}

impl Error {
    /// A spec or var file that could not be read or is not valid.
    pub fn from_load(e: trellis_spec::LoadError) -> Error {
        match e {
            trellis_spec::LoadError::Invalid(d) => Error::Spec(d),
            e @ trellis_spec::LoadError::Read { .. } => Error::Read(e.to_string()),
        }
    }
}
