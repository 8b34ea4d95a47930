//! Plans of a spec against the state a faithful cloud would leave: shared by the
//! planner's tests and the engine's (which include this file by path).
#![allow(dead_code)]

use std::collections::BTreeMap;

use trellis_core::schema::Mode;
use trellis_core::{Address, Attrs, LiveObject, Value};
use trellis_plan::{lookup, plan, Operation, Plan, PlanInput};
use trellis_spec::{parse, LoadOptions, SourceFile, Spec};
use trellis_state::{ResourceState, State};

pub fn spec(text: &str) -> Spec {
    parse(SourceFile { name: "web.yaml".into(), text: text.into() }, &LoadOptions::default()).unwrap()
}

pub fn addr(s: &str) -> Address {
    s.parse().unwrap()
}

/// Plans `text` against `prior`, with the live objects exactly as the state has them.
pub fn run(text: &str, prior: Option<&State>) -> Plan {
    run_spec(&spec(text), prior)
}

/// Plans `spec` against `prior`, with the live objects exactly as the state has them.
pub fn run_spec(spec: &Spec, prior: Option<&State>) -> Plan {
    let live: BTreeMap<Address, LiveObject> = prior
        .into_iter()
        .flat_map(|s| &s.resources)
        .map(|r| {
            (
                r.address.clone(),
                LiveObject { address: r.address.clone(), id: r.id.clone(), attrs: r.attributes.clone() },
            )
        })
        .collect();
    plan(PlanInput {
        spec,
        prior,
        live: &live,
        orphans: &[],
        tags: &Default::default(),
        operation: Operation::Apply,
        targets: &[],
        replace: &[],
        env: &|_| None,
    })
    .unwrap()
}

/// Plans `text` for `operation` against `prior`, with the live objects as the state has
/// them after `edit` (what changed outside trellis), replacing the `replace` addresses.
pub fn plan_edited(
    text: &str,
    prior: &State,
    operation: Operation,
    replace: &[&str],
    edit: impl Fn(&mut BTreeMap<Address, LiveObject>),
) -> Plan {
    let s = spec(text);
    let mut live: BTreeMap<Address, LiveObject> = prior
        .resources
        .iter()
        .map(|r| {
            let l = LiveObject { address: r.address.clone(), id: r.id.clone(), attrs: r.attributes.clone() };
            (r.address.clone(), l)
        })
        .collect();
    edit(&mut live);
    let replace: Vec<Address> = replace.iter().map(|a| addr(a)).collect();
    plan(PlanInput {
        spec: &s,
        prior: Some(prior),
        live: &live,
        orphans: &[],
        tags: &Default::default(),
        operation,
        targets: &[],
        replace: &replace,
        env: &|_| Some("secret-1".into()),
    })
    .unwrap()
}

/// The state after applying `text` from nothing: each object's configuration evaluated
/// in order, with made-up values where AWS decides (ids `<name>-1`, version 1).
pub fn converged(text: &str) -> State {
    let p = run(text, None);
    let mut st = State::new("web");
    let mut results: BTreeMap<Address, Attrs> = BTreeMap::new();
    for c in &p.changes {
        let kind = c.address.kind;
        let mut attrs: Attrs =
            c.config.as_ref().unwrap().iter().map(|(k, e)| (k.clone(), e.eval(&|r| lookup(&results, r)))).collect();
        let id = format!("{}-1", c.address.label());
        for a in kind.object.attrs {
            if attrs.contains_key(a.name) {
                continue;
            }
            let v = match (a.name, a.mode) {
                ("id", _) => Value::str(&id),
                ("latest_version" | "desired_capacity", _) => Value::Int(1),
                (n, _) if kind.generated_name == Some(n) => Value::Str(format!("web-{}", c.address.label())),
                (_, Mode::Computed | Mode::OptionalComputed) => Value::Str(format!("{}-{}", a.name, c.address.name)),
                _ => continue,
            };
            attrs.insert(a.name.to_string(), v);
        }
        results.insert(c.address.clone(), attrs.clone());
        st.upsert(ResourceState {
            address: c.address.clone(),
            id,
            attributes: attrs,
            dependencies: c.depends_on.clone(),
            sensitive: vec![],
        });
    }
    st
}
