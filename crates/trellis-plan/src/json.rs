//! The plan as a JSON document (`trellis plan --json`), described in docs/json-plan.md.

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{json, Map, Value as J};
use trellis_core::{Address, Attrs, InstanceKey, Value};

use crate::{Action, Plan, ResourceChange};

/// Paths of the values a JSON plan leaves out: unknown ones, and secrets.
#[derive(Default)]
struct Marks {
    unknown: Vec<String>,
    sensitive: Vec<String>,
}

/// A value with unknowns and secrets as `null`, their paths noted in `marks`.
fn split(v: &Value, path: &str, marks: &mut Marks) -> J {
    match v {
        Value::Unknown => {
            marks.unknown.push(path.to_string());
            J::Null
        }
        Value::Sensitive(_) => {
            marks.sensitive.push(path.to_string());
            J::Null
        }
        Value::List(items) => {
            J::Array(items.iter().enumerate().map(|(i, x)| split(x, &format!("{path}[{i}]"), marks)).collect())
        }
        Value::Map(m) => J::Object(
            m.iter()
                .map(|(k, x)| {
                    let p = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
                    (k.clone(), split(x, &p, marks))
                })
                .collect(),
        ),
        other => other.to_json(),
    }
}

fn attrs_json(attrs: Option<&Attrs>) -> (J, Marks) {
    let mut marks = Marks::default();
    let j = match attrs {
        None => J::Null,
        Some(a) => split(&Value::Map(a.clone()), "", &mut marks),
    };
    (j, marks)
}

/// The JSON plan as one value (for tests and tools that hold it whole).
pub fn to_json(plan: &Plan) -> J {
    serde_json::to_value(PlanJson(plan)).expect("a JSON plan serializes")
}

/// The JSON plan, serialized a resource at a time: written with
/// `serde_json::to_writer`, it is never held whole, so its cost is linear in the plan
/// and its memory that of the largest resource.
pub struct PlanJson<'a>(pub &'a Plan);

/// A JSON array whose items are made as they are written.
struct Each<I>(std::cell::Cell<Option<I>>);

impl<I: Iterator<Item = J>> Serialize for Each<I> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.take().into_iter().flatten())
    }
}

fn each<I: Iterator<Item = J>>(items: I) -> Each<I> {
    Each(std::cell::Cell::new(Some(items)))
}

impl Serialize for PlanJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let plan = self.0;
        let mut m = s.serialize_map(Some(14))?;
        m.serialize_entry("format_version", &plan.format_version.to_string())?;
        m.serialize_entry("stack", &plan.stack)?;
        m.serialize_entry("operation", &plan.operation)?;
        m.serialize_entry(
            "prior_state",
            &json!({ "lineage": plan.prior_state.lineage, "serial": plan.prior_state.serial }),
        )?;
        m.serialize_entry("resource_drift", &each(plan.drift.iter().map(drift_json)))?;
        m.serialize_entry("resource_changes", &each(plan.changes.iter().map(|c| change_json(plan, c))))?;
        let mut outputs = Map::new();
        for (name, v) in &plan.planned_outputs {
            let mut marks = Marks::default();
            let after = split(v, "", &mut marks);
            outputs.insert(
                name.clone(),
                json!({ "after": after, "after_unknown": !marks.unknown.is_empty(), "sensitive": !marks.sensitive.is_empty() }),
            );
        }
        m.serialize_entry("output_changes", &outputs)?;
        m.serialize_entry(
            "lookups",
            &each(plan.reads.iter().map(|r| {
                let (found, _) = attrs_json(Some(&r.found));
                json!({ "address": r.address, "filters": r.filters, "found": found })
            })),
        )?;
        m.serialize_entry(
            "stacks",
            &each(plan.stacks.iter().map(|r| {
                let outputs: Map<String, J> = r.outputs.iter().map(|(k, v)| (k.clone(), v.to_json())).collect();
                json!({ "stack": r.stack, "location": r.location, "lineage": r.lineage, "serial": r.serial, "outputs": outputs })
            })),
        )?;
        m.serialize_entry(
            "moves",
            &each(plan.moves.iter().map(|m| json!({"from": m.from.to_string(), "to": m.to.to_string(), "id": m.id}))),
        )?;
        m.serialize_entry(
            "orphans",
            &each(plan.orphans.iter().map(|o| json!({"address": o.address.to_string(), "id": o.id}))),
        )?;
        m.serialize_entry("findings", &plan.findings)?;
        m.serialize_entry("preflight", &plan.preflight)?;
        let s = plan.summary();
        m.serialize_entry(
            "summary",
            &json!({ "add": s.add, "change": s.change, "replace": s.replace, "destroy": s.destroy, "forget": s.forget, "moved": s.moved }),
        )?;
        m.end()
    }
}

fn change_json(plan: &Plan, c: &ResourceChange) -> J {
    let (before, before_marks) = attrs_json(c.before.as_ref());
    let (after, after_marks) = attrs_json(c.after.as_ref());
    let reason = match c.action {
        Action::DeleteThenCreate | Action::CreateThenDelete if c.replace_because.is_empty() => {
            J::String("replace_by_request".into())
        }
        Action::DeleteThenCreate | Action::CreateThenDelete => J::String("replace_because_cannot_update".into()),
        Action::Delete if plan.operation == crate::Operation::Apply => {
            J::String("delete_because_no_resource_config".into())
        }
        _ => J::Null,
    };
    json!({
        "address": c.address.to_string(),
        "previous_address": c.previous_address.as_ref().map(ToString::to_string),
        "kind": c.address.kind.name,
        "name": c.address.name,
        "index": index_json(&c.address),
        "id": c.id,
        "change": {
            "actions": c.action.json_actions(),
            "before": before,
            "after": after,
            "after_unknown": after_marks.unknown,
            "before_sensitive": before_marks.sensitive,
            "after_sensitive": after_marks.sensitive,
            "replace_paths": c.replace_because.iter().map(|p| vec![p]).collect::<Vec<_>>(),
        },
        "action_reason": reason,
        "depends_on": c.depends_on.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "notes": c.notes,
        "retag": c.retag,
        "replace_requested": c.replace_requested,
        "protected": c.protected,
        "rollout": c.rollout.as_ref().map(|r| serde_json::to_value(r).unwrap_or(J::Null)),
        "interruption": c.interruption.as_ref().map(|i| serde_json::to_value(i).unwrap_or(J::Null)),
        "data_loss": c.data_loss.as_ref().map(|d| json!({
            "protected": d.protected,
            "final_snapshot": d.final_snapshot,
        })),
    })
}

fn drift_json(d: &crate::Drift) -> J {
    let (before, _) = attrs_json(Some(&d.before));
    let (after, _) = attrs_json(d.after.as_ref());
    json!({
        "address": d.address.to_string(),
        "kind": d.address.kind.name,
        "name": d.address.name,
        "index": index_json(&d.address),
        "change": {
            "actions": if d.after.is_some() { ["update"] } else { ["delete"] },
            "before": before,
            "after": after,
        },
        "ignored": d.ignored,
    })
}

/// A copy's `count.index` (a number) or `each.key` (a string), as Terraform's JSON has
/// it; `null` for a resource without `count` or `for_each`.
fn index_json(a: &Address) -> J {
    match &a.key {
        None => J::Null,
        Some(InstanceKey::Index(i)) => J::from(*i),
        Some(InstanceKey::Key(k)) => J::String(k.clone()),
    }
}
