//! The one normalisation of a live object (`observed`), what a read-back must match
//! (`mismatches`), and how a reference reads a planned value (`lookup`).

use std::collections::{BTreeMap, BTreeSet};

use trellis_core::schema::Mode;
use trellis_core::{secret, Address, Attrs, LiveObject, Ref, Value};

/// The value a reference reads from the planned attributes of another resource.
pub fn lookup(planned: &BTreeMap<Address, Attrs>, r: &Ref) -> Value {
    planned.get(&r.address).and_then(|attrs| attrs.get(r.attr_name())).cloned().unwrap_or(Value::Unknown)
}

/// One attribute of an object read back after apply that is not what was planned.
#[derive(Debug, Clone, PartialEq)]
pub struct Mismatch {
    pub attr: String,
    pub planned: Value,
    pub actual: Value,
}

/// What an object read back after its create or update lacks of what was `planned`
/// (the values the apply sent): every attribute the planner compares, by the same rule,
/// so an object that passes this check plans as no change. Values still unknown and
/// trellis's own settings are not checked.
pub fn mismatches(kind: &trellis_core::schema::Kind, planned: &Attrs, actual: &Attrs) -> Vec<Mismatch> {
    kind.object
        .attrs
        .iter()
        .filter(|a| a.settable() && !a.local && !a.write_only)
        .filter_map(|a| {
            let want = planned.get(a.name);
            if (want.is_none() && a.mode == Mode::OptionalComputed) || want.is_some_and(Value::has_unknown) {
                return None;
            }
            let have = actual.get(a.name);
            (!same(want, have)).then(|| Mismatch {
                attr: a.name.to_string(),
                planned: want.cloned().unwrap_or(Value::Null),
                actual: have.cloned().unwrap_or(Value::Null),
            })
        })
        .collect()
}

/// Equal for planning: an absent attribute and `null` are the same thing.
pub(crate) fn same(a: Option<&Value>, b: Option<&Value>) -> bool {
    let a = a.filter(|v| **v != Value::Null);
    let b = b.filter(|v| **v != Value::Null);
    a == b
}

/// A live object as trellis records and compares it: its secrets (`secret`) as digests
/// under the salts of `recorded` (a secret AWS does not return, a password, keeps the
/// recorded digest), and trellis's own settings (`protect`, ...) and write-only
/// attributes as `recorded` has them, since the cloud does not give them back. `recorded` is the state's object for the
/// planner's refresh and the saved-plan check, the planned attributes for the engine's
/// read-back, nothing for an adoption. The one normalisation of an observed object.
pub fn observed(live: &LiveObject, recorded: &Attrs, secret: &BTreeSet<&str>, stack: &str) -> LiveObject {
    let mut out = live.clone();
    for name in secret {
        let before = recorded.get(*name).filter(|v| !v.has_unknown());
        match out.attrs.get(*name) {
            None | Some(Value::Null) => {
                if let Some(d @ Value::Sensitive(_)) = before {
                    out.attrs.insert(name.to_string(), d.clone());
                }
            }
            Some(v) => {
                let v = secret::redact(v, before, || secret::new_salt(stack, &live.address, name));
                out.attrs.insert(name.to_string(), v);
            }
        }
    }
    for a in live.address.kind.unread_attrs() {
        match recorded.get(a.name).filter(|v| !v.has_unknown()) {
            Some(v) => out.attrs.insert(a.name.to_string(), v.clone()),
            // What AWS shows of a write-only attribute stands in until trellis records
            // one (an object being adopted).
            None if a.write_only => None,
            None => out.attrs.remove(a.name),
        };
    }
    out
}
