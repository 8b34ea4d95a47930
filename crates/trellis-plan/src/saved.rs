//! Saved plans: `trellis plan --out FILE` writes one, `trellis apply FILE` carries out
//! exactly that plan, and only while nothing it was based on has moved.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use trellis_core::{Address, LiveObject};
use trellis_state::State;

use crate::{Action, Plan};

/// Version of the saved-plan file; the key also tells a plan file from a spec.
/// Format 2: a replacement's order is its action (`delete-then-create`,
/// `create-then-delete`), no longer a flag beside `replace`.
pub const SAVED_PLAN_FORMAT: u32 = 3;

/// The spec a plan was made from: where, its digest, and the `--var` values given.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpecSource {
    pub path: String,
    /// SHA-256 of the spec's text and the `--var` values.
    pub sha256: String,
    pub vars: BTreeMap<String, String>,
    /// The files of the components the spec uses, each with the SHA-256 of its text.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub components: BTreeMap<String, String>,
}

/// The SHA-256 of a text, in hex.
pub fn text_digest(text: &str) -> String {
    Sha256::digest(text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedPlan {
    pub trellis_saved_plan: u32,
    pub spec: SpecSource,
    pub region: Option<String>,
    /// A path, or `s3://bucket/key` for a state in S3.
    pub state_path: String,
    /// The region of the state's S3 bucket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_region: Option<String>,
    pub plan: Plan,
}

#[derive(Debug, thiserror::Error)]
pub enum SavedPlanError {
    #[error("not a trellis plan file: {0}")]
    NotAPlan(String),
    #[error("this plan file has format {0}; this trellis reads format {SAVED_PLAN_FORMAT}")]
    Version(u32),
}

/// The digest that ties a plan to the spec text and variables it was made from.
pub fn spec_digest(text: &str, vars: &BTreeMap<String, String>) -> String {
    let mut h = Sha256::new();
    h.update(text.as_bytes());
    for (k, v) in vars {
        h.update([0u8]);
        h.update(k.as_bytes());
        h.update(b"=");
        h.update(v.as_bytes());
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

impl SavedPlan {
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("plans serialize") + "\n"
    }

    /// True when `text` looks like a saved plan rather than a spec.
    pub fn sniff(text: &str) -> bool {
        text.trim_start().starts_with('{') && text.contains("\"trellis_saved_plan\"")
    }

    pub fn from_json(text: &str) -> Result<SavedPlan, SavedPlanError> {
        let v: serde_json::Value = serde_json::from_str(text).map_err(|e| SavedPlanError::NotAPlan(e.to_string()))?;
        let format = v
            .get("trellis_saved_plan")
            .and_then(|f| f.as_u64())
            .ok_or_else(|| SavedPlanError::NotAPlan("it has no `trellis_saved_plan` version".into()))?
            as u32;
        if format != SAVED_PLAN_FORMAT {
            return Err(SavedPlanError::Version(format));
        }
        serde_json::from_value(v).map_err(|e| SavedPlanError::NotAPlan(e.to_string()))
    }

    /// SHA-256 of the whole saved plan as written: what a reviewer approves and
    /// `apply FILE --digest` checks, so the file applied is byte for byte the one read.
    pub fn digest(&self) -> String {
        let text = serde_json::to_vec(self).expect("plans serialize");
        Sha256::digest(&text).iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The existing objects the plan changes, which apply re-reads before it starts.
    pub fn touched(&self) -> Vec<(Address, String)> {
        // A refresh-only plan records the drifted objects as it saw them.
        if self.plan.operation == crate::Operation::RefreshOnly {
            let drifted: BTreeSet<&Address> = self.plan.drift.iter().map(|d| &d.address).collect();
            return self
                .plan
                .refreshed
                .iter()
                .filter(|r| drifted.contains(&r.address))
                .map(|r| (r.address.clone(), r.id.clone()))
                .collect();
        }
        self.plan
            .changes
            .iter()
            .filter(|c| c.action != Action::NoOp)
            .filter_map(|c| Some((c.address.clone(), c.id.clone()?)))
            .collect()
    }

    /// Why this plan may no longer be applied, given what is true now: the state, the
    /// spec's digest (none when the spec cannot be read) and the touched objects as just
    /// read. Empty when it is still good.
    pub fn staleness(
        &self,
        state: Option<&State>,
        spec_sha256: Option<&str>,
        live: &BTreeMap<Address, LiveObject>,
    ) -> Vec<String> {
        let mut why = Vec::new();
        let prior = &self.plan.prior_state;
        match state {
            Some(s) if prior.lineage.as_deref() != Some(s.lineage.as_str()) => why.push(format!(
                "the state is a different one (lineage {} now, {} in the plan)",
                s.lineage,
                prior.lineage.as_deref().unwrap_or("none")
            )),
            Some(s) if s.serial != prior.serial => why.push(format!(
                "the state moved on since the plan was made (serial {} now, {} in the plan): another run changed the stack",
                s.serial, prior.serial
            )),
            None if prior.lineage.is_some() => why.push("the state the plan was made from is gone".into()),
            _ => {}
        }
        match spec_sha256 {
            None => why.push(format!("the spec {} cannot be read from here", self.spec.path)),
            Some(digest) if digest != self.spec.sha256 => {
                why.push(format!("the spec {} (or its --var values) changed since the plan was made", self.spec.path))
            }
            Some(_) => {}
        }
        let refreshed: BTreeMap<&Address, _> = self.plan.refreshed.iter().map(|r| (&r.address, r)).collect();
        let prior: BTreeMap<&Address, _> = prior.resources.iter().map(|r| (&r.address, r)).collect();
        for (address, _) in self.touched() {
            // The object as the plan saw it: secrets as digests, trellis's settings kept.
            let change = self.plan.changes.iter().find(|c| c.address == address);
            let was = change.and_then(|c| c.previous_address.as_ref()).unwrap_or(&address);
            let now = match (live.get(&address), prior.get(was)) {
                (Some(now), Some(before)) => {
                    let secret: BTreeSet<&str> = before
                        .sensitive
                        .iter()
                        .chain(change.iter().flat_map(|c| c.sensitive.iter()))
                        .map(String::as_str)
                        .collect();
                    Some(crate::observed(now, &before.attributes, &secret, &self.plan.stack))
                }
                (now, _) => now.cloned(),
            };
            match (refreshed.get(&address), now.as_ref()) {
                (Some(was), Some(now)) if was.attributes != now.attrs => {
                    let mut changed: Vec<&String> = was
                        .attributes
                        .keys()
                        .chain(now.attrs.keys())
                        .filter(|k| was.attributes.get(*k) != now.attrs.get(*k))
                        .collect();
                    changed.dedup();
                    let names: Vec<String> = changed.iter().map(|k| format!("`{k}`")).collect();
                    why.push(format!(
                        "{address} changed outside trellis since the plan was made ({})",
                        names.join(", ")
                    ));
                }
                (Some(_), None) => why.push(format!("{address} was deleted outside trellis since the plan was made")),
                _ => {}
            }
        }
        why
    }
}

/// Where a plan file differs from the plan made again from its spec, its state and the
/// live objects: one line per difference, naming the address and what differs. Empty
/// when the two are the same change for change, so what runs is what was reviewed.
pub fn differences(file: &Plan, fresh: &Plan) -> Vec<String> {
    let mut why = Vec::new();
    if file.operation != fresh.operation {
        why.push(format!("the file's operation is {:?}; the plan made now is {:?}", file.operation, fresh.operation));
    }
    if file.stack != fresh.stack {
        why.push(format!("the file names stack `{}`; the spec names `{}`", file.stack, fresh.stack));
    }
    let ours: BTreeMap<&Address, &crate::ResourceChange> = file.changes.iter().map(|c| (&c.address, c)).collect();
    let now: BTreeMap<&Address, &crate::ResourceChange> = fresh.changes.iter().map(|c| (&c.address, c)).collect();
    let word = |a: Action| a.json_actions().join("/");
    for address in ours.keys().chain(now.keys()).collect::<BTreeSet<_>>() {
        match (ours.get(address), now.get(address)) {
            (Some(f), None) => why.push(format!(
                "{address}: the file plans {} of an object the plan made now does not name",
                word(f.action)
            )),
            (None, Some(n)) => {
                why.push(format!("{address}: the file leaves out the {} the plan made now has", word(n.action)))
            }
            (Some(f), Some(n)) if f.action != n.action => why.push(format!(
                "{address}: the file says {}, the plan made now says {}",
                word(f.action),
                word(n.action)
            )),
            (Some(f), Some(n)) => {
                let fields = changed_fields(f, n);
                if !fields.is_empty() {
                    why.push(format!("{address}: its {} differ from the plan made now", fields.join(", ")));
                }
            }
            (None, None) => {}
        }
    }
    if file.moves != fresh.moves {
        why.push("the file's moves differ from the spec's `moved:` entries".into());
    }
    if file.targets != fresh.targets {
        why.push("the file's --target addresses differ".into());
    }
    if file.outputs != fresh.outputs || file.planned_outputs != fresh.planned_outputs {
        why.push("the file's outputs differ from the spec's".into());
    }
    if file.operation == crate::Operation::RefreshOnly
        && (file.drift != fresh.drift || file.refreshed != fresh.refreshed)
    {
        why.push("the objects the file would record differ from the objects as read now".into());
    }
    why
}

/// The fields of a change that differ, by their JSON names (attributes as
/// `after.NAME`).
fn changed_fields(f: &crate::ResourceChange, n: &crate::ResourceChange) -> Vec<String> {
    let (a, b) = (serde_json::to_value(f).unwrap_or_default(), serde_json::to_value(n).unwrap_or_default());
    let (Some(a), Some(b)) = (a.as_object(), b.as_object()) else { return vec!["contents".into()] };
    let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    let mut out = Vec::new();
    for k in keys {
        let (x, y) = (a.get(k), b.get(k));
        if x == y {
            continue;
        }
        match (k.as_str(), x.and_then(|v| v.as_object()), y.and_then(|v| v.as_object())) {
            ("before" | "after", Some(x), Some(y)) => {
                let names: BTreeSet<&String> = x.keys().chain(y.keys()).collect();
                out.extend(names.into_iter().filter(|m| x.get(*m) != y.get(*m)).map(|m| format!("`{k}.{m}`")));
            }
            _ => out.push(format!("`{k}`")),
        }
    }
    out
}
