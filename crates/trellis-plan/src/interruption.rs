//! What a change interrupts on the running system, from what each attribute declares
//! in the schema (`Attr::effect`): an update's strongest effect among the attributes it
//! changes, a replacement's order, a loss of data. The planner names no kind here.

use serde::{Deserialize, Serialize};
use trellis_core::schema::{Attr, Effect, Kind};

use crate::model::{Action, ResourceChange};

/// What a change will interrupt, before anyone approves it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Interruption {
    /// The strongest effect of the change.
    pub effect: Effect,
    /// The attributes (or the reason) that bring it.
    pub because: Vec<String>,
    /// What happens and for roughly how long.
    pub about: String,
}

impl Interruption {
    /// `restart (instance_type): the instance stops and starts again: ...`.
    pub fn line(&self) -> String {
        let because = if self.because.is_empty() { String::new() } else { format!(" ({})", self.because.join(", ")) };
        format!("{}{because}: {}", self.effect.word(), self.about)
    }
}

/// The strongest effect of changing `changed` on an object of `kind`, when it is more
/// than nothing: the attributes with that effect, and the first one's words.
pub fn of_update(kind: &Kind, changed: &[&Attr]) -> Option<Interruption> {
    let effects: Vec<(&Attr, Effect, &str)> = changed
        .iter()
        .filter(|a| !a.local)
        .map(|a| {
            let (effect, about) = a.effect(kind);
            (*a, effect, about)
        })
        .collect();
    let strongest = effects.iter().map(|(_, e, _)| *e).max().filter(|e| *e > Effect::None)?;
    let at: Vec<&(&Attr, Effect, &str)> = effects.iter().filter(|(_, e, _)| *e == strongest).collect();
    Some(Interruption {
        effect: strongest,
        because: at.iter().map(|(a, _, _)| a.name.to_string()).collect(),
        about: at[0].2.to_string(),
    })
}

/// What a replacement or a delete interrupts (an update's was set when it was planned).
pub fn of_change(c: &ResourceChange) -> Option<Interruption> {
    let because = || {
        if c.replace_because.is_empty() {
            vec!["--replace".to_string()]
        } else {
            c.replace_because.clone()
        }
    };
    let (effect, because, about) = match (c.action, &c.data_loss) {
        (Action::CreateThenDelete | Action::DeleteThenCreate, Some(_)) => {
            (Effect::DataLoss, because(), "a new object replaces it; the old one's data goes with it".to_string())
        }
        (Action::CreateThenDelete, None) => (
            Effect::Replace,
            because(),
            "a new object is made first and takes over, then the old one is deleted".to_string(),
        ),
        (Action::DeleteThenCreate, None) => (
            Effect::Replace,
            because(),
            "the old object is deleted first: nothing serves in its place until the new one is ready".to_string(),
        ),
        (Action::Delete, Some(_)) => (Effect::DataLoss, vec![], "it is deleted, with its data".to_string()),
        _ => return c.interruption.clone(),
    };
    Some(Interruption { effect, because, about })
}
