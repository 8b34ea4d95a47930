//! The planner: compares what the spec asks for with the state of the last run and
//! the live objects just read, and decides one action per resource.
//!
//! Architecture invariant: this crate is pure. No IO, no async runtime, no AWS types:
//! it takes a spec, a state and a refresh result, and returns a [`Plan`]. Everything it
//! knows about kinds comes from the schemas in `trellis-core`.

mod adopt;
pub mod drift;
mod findings;
mod interruption;
mod json;
mod markdown;
mod model;
mod observation;
mod order;
mod planner;
mod preflight;
mod render;
mod rollout;
mod saved;

pub use adopt::{adopt, Adoption, Refusal};
pub use findings::{check as check_findings, failing, Finding};
pub use interruption::{of_update as interruption_of_update, Interruption};
pub use json::{to_json, PlanJson};
pub use markdown::render_markdown;
pub use model::*;
pub use observation::{lookup, mismatches, observed, Mismatch};
pub use planner::{plan, PlanError, PlanInput};
pub use preflight::{judge as preflight_judge, questions as preflight_questions};
pub use render::{column_width, findings_headline, render, render_findings, render_to, RenderOptions, MAX_COLUMN};
pub use rollout::{batch_size, Rollout};
pub use saved::{differences, spec_digest, text_digest, SavedPlan, SavedPlanError, SpecSource, SAVED_PLAN_FORMAT};
pub use trellis_spec::{Diagnostic, Diagnostics};
