//! Drift read out of a plan, attribute by attribute: what changed outside trellis
//! (`Plan::drift`, the state against the live objects), and for each planned change
//! whether it only repairs such drift or also carries a change of the spec. Pure:
//! `trellis drift` and `trellis reconcile` decide with it what to report, repair or
//! leave for a person.

use std::collections::BTreeMap;

use serde::Serialize;
use trellis_core::schema::{Mode, Type};
use trellis_core::{Address, Attrs, Value};

use crate::{Action, Drift, Plan};

/// One attribute (or one key of a mapping attribute, `tags.Owner`) that differs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AttrDrift {
    pub attribute: String,
    /// What the state recorded (the last apply).
    pub recorded: Value,
    /// What AWS holds now.
    pub live: Value,
}

/// The settable attributes of a drifted object that differ, a mapping's keys one by one.
/// An object deleted outside trellis has none: it is gone as a whole.
pub fn attributes(d: &Drift) -> Vec<AttrDrift> {
    let Some(live) = &d.after else { return Vec::new() };
    let mut out = Vec::new();
    for a in d.address.kind.object.attrs.iter().filter(|a| a.mode != Mode::Computed && !a.local) {
        let (was, now) = (d.before.get(a.name), live.get(a.name));
        if was == now {
            continue;
        }
        match (&a.ty, was, now) {
            (Type::Map, Some(Value::Map(w)), Some(Value::Map(n))) => {
                for key in w.keys().chain(n.keys().filter(|k| !w.contains_key(*k))) {
                    let (old, new) = (w.get(key), n.get(key));
                    if old != new {
                        out.push(AttrDrift {
                            attribute: format!("{}.{key}", a.name),
                            recorded: old.cloned().unwrap_or(Value::Null),
                            live: new.cloned().unwrap_or(Value::Null),
                        });
                    }
                }
            }
            _ => out.push(AttrDrift {
                attribute: a.name.to_string(),
                recorded: was.cloned().unwrap_or(Value::Null),
                live: now.cloned().unwrap_or(Value::Null),
            }),
        }
    }
    out
}

/// Whether `attribute` (`tags.Owner`) is named by `ignored` (`tags` or `tags.Owner`).
pub fn is_ignored(attribute: &str, ignored: &[String]) -> bool {
    ignored.iter().any(|i| attribute == i || attribute.strip_prefix(i.as_str()).is_some_and(|r| r.starts_with('.')))
}

/// Why a planned change is there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    /// It only brings the live object back to what the state records (and the spec
    /// still says): a repair of drift.
    Drift,
    /// The spec asks for something the state does not record (a new, changed or
    /// removed resource), with or without drift besides.
    Spec,
}

/// Each planned change's cause, by address.
pub fn causes(plan: &Plan) -> BTreeMap<Address, Cause> {
    let recorded: BTreeMap<&Address, &Attrs> =
        plan.prior_state.resources.iter().map(|r| (&r.address, &r.attributes)).collect();
    let deleted_outside: Vec<&Address> = plan.drift.iter().filter(|d| d.after.is_none()).map(|d| &d.address).collect();
    let mut out = BTreeMap::new();
    for c in plan.changes.iter().filter(|c| c.action != Action::NoOp) {
        let cause = match (c.action, recorded.get(&c.address)) {
            // Made again after a delete outside trellis: the state still records it.
            (Action::Create, Some(_)) if deleted_outside.contains(&&c.address) => Cause::Drift,
            // An update, or a replacement when the drift touched what forces one (the
            // data-loss gate then stands between it and a database).
            (Action::Update | Action::DeleteThenCreate | Action::CreateThenDelete, Some(was)) => {
                match (&c.before, &c.after) {
                    (Some(live), Some(want)) => {
                        let repairs =
                            |k: &String, v: &Value| live.get(k) == Some(v) || was.get(k) == Some(v) || v.has_unknown();
                        if want.iter().all(|(k, v)| repairs(k, v)) {
                            Cause::Drift
                        } else {
                            Cause::Spec
                        }
                    }
                    _ => Cause::Spec,
                }
            }
            _ => Cause::Spec,
        };
        out.insert(c.address.clone(), cause);
    }
    out
}
