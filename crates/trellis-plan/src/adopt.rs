//! Adoption: recording objects tagged with the stack that no state knows (a create a
//! killed run left in the journal, `--adopt-orphans`, `state adopt`, `import`).

use std::collections::{BTreeMap, BTreeSet};

use trellis_core::{Address, Expr, LiveObject};
use trellis_spec::Spec;
use trellis_state::{ResourceState, State};

/// What [`adopt`] did.
#[derive(Debug, Default)]
pub struct Adoption {
    /// The objects now in the state, as read.
    pub adopted: Vec<LiveObject>,
    /// The orphans it did not take, including those outside `only`.
    pub left: Vec<LiveObject>,
    /// The orphans it could have taken but refused, and why.
    pub refused: Vec<Refusal>,
    /// Objects a journal names were not shown by the first read and were looked for again.
    pub waited: bool,
}

/// Orphans carrying one address's tag that adoption leaves alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub address: Address,
    pub ids: Vec<String>,
    pub why: String,
}

/// Records `orphans` under the address their tag names: one object per address that the
/// spec declares and the state lacks, and with `only`, only those addresses. Everything
/// else is left alone; [`Adoption::refused`] says why for each address in scope.
pub fn adopt(spec: &Spec, state: &mut State, orphans: Vec<LiveObject>, only: Option<&BTreeSet<Address>>) -> Adoption {
    let mut out = Adoption::default();
    let mut by_address: BTreeMap<Address, Vec<LiveObject>> = BTreeMap::new();
    for o in orphans {
        if only.is_some_and(|only| !only.contains(&o.address)) {
            out.left.push(o);
        } else {
            by_address.entry(o.address.clone()).or_default().push(o);
        }
    }
    for (address, mut objects) in by_address {
        let why = match (spec.resources.get(&address), state.get(&address), objects.len()) {
            (None, _, _) => Some(format!("the spec has no `{address}`")),
            (_, Some(known), _) => Some(format!(
                "it carries the tag of `{address}`, which the state has as {}: delete the leftover by hand",
                known.id
            )),
            (_, _, 2..) => Some(format!(
                "they all carry the tag of `{address}`: keep one by deleting the others, then run `trellis state adopt`"
            )),
            _ => None,
        };
        if let Some(why) = why {
            let ids = objects.iter().map(|o| o.id.clone()).collect();
            out.refused.push(Refusal { address, ids, why });
            out.left.extend(objects);
            continue;
        }
        let resource = &spec.resources[&address];
        let object = objects.remove(0);
        // Recorded as after an apply: secrets as digests (under new salts).
        let secret: BTreeSet<&str> = resource.sensitive.iter().map(String::as_str).collect();
        let mut recorded = crate::observed(&object, &Default::default(), &secret, &spec.stack).attrs;
        // trellis's own settings as the spec gives them, as an apply records them.
        for a in resource.kind.local_attrs() {
            if let Some(v) = resource.attrs.get(a.name).and_then(Expr::as_literal) {
                recorded.insert(a.name.to_string(), v);
            }
        }
        state.upsert(ResourceState {
            address: address.clone(),
            id: object.id.clone(),
            attributes: recorded,
            dependencies: resource.dependencies().into_iter().collect(),
            sensitive: resource.sensitive.iter().cloned().collect(),
        });
        out.adopted.push(object);
    }
    out
}
