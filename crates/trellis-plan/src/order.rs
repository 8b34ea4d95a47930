//! What the plan says about objects that a parent tries in order (`Kind::unique`: a
//! listener's rules by priority): where what an object matched goes when it leaves or
//! moves, and which moves are made together. Only the stack's own siblings are known;
//! the note says so.

use std::collections::BTreeMap;

use trellis_core::schema::Unique;
use trellis_core::{Address, Attrs, Value};

use crate::{Action, ResourceChange};

/// A sibling in the planned order: its address and its value.
type Placed = (Address, i64);

/// The parent of an object, as text, when known.
fn parent(attrs: &Attrs, u: &Unique) -> Option<String> {
    attrs.get(u.among).filter(|v| !v.has_unknown()).map(Value::to_string)
}

fn place(attrs: &Attrs, u: &Unique) -> Option<i64> {
    attrs.get(u.attr).and_then(Value::as_int)
}

fn list(placed: &[&Placed], u: &Unique) -> String {
    let each: Vec<String> = placed.iter().map(|(a, v)| format!("{a} ({} {v})", u.attr)).collect();
    each.join(", ")
}

/// Adds the notes to the changes of ordered kinds.
pub(crate) fn notes(changes: &mut [ResourceChange]) {
    // The order each parent will have: the objects that stay or come, by value.
    let mut planned: BTreeMap<(&str, String), Vec<Placed>> = BTreeMap::new();
    for c in changes.iter().filter(|c| c.action != Action::Delete && c.action != Action::Forget) {
        let Some(u) = c.address.kind.unique else { continue };
        let Some(after) = &c.after else { continue };
        if let (Some(p), Some(v)) = (parent(after, u), place(after, u)) {
            planned.entry((c.address.kind.name, p)).or_default().push((c.address.clone(), v));
        }
    }
    for order in planned.values_mut() {
        order.sort_by_key(|(_, v)| *v);
    }
    // The moves of one parent, made together.
    let mut moving: BTreeMap<(&str, String), Vec<Address>> = BTreeMap::new();
    for c in changes.iter().filter(|c| c.action == Action::Update) {
        let Some(u) = c.address.kind.unique else { continue };
        let (Some(before), Some(after)) = (&c.before, &c.after) else { continue };
        if before.get(u.attr) != after.get(u.attr) {
            if let Some(p) = parent(before, u) {
                moving.entry((c.address.kind.name, p)).or_default().push(c.address.clone());
            }
        }
    }
    let mut notes: Vec<(usize, String)> = Vec::new();
    for (i, c) in changes.iter().enumerate() {
        let Some(u) = c.address.kind.unique else { continue };
        let gone = matches!(c.action, Action::Delete | Action::DeleteThenCreate);
        if let (true, Some(before)) = (gone, &c.before) {
            let (Some(p), Some(v)) = (parent(before, u), place(before, u)) else { continue };
            let key = (c.address.kind.name, p);
            let later: Vec<&Placed> =
                planned.get(&key).into_iter().flatten().filter(|(a, w)| *w > v && *a != c.address).collect();
            let when = if c.action == Action::Delete { "once it is gone" } else { "while it is replaced" };
            let next = match later.as_slice() {
                [] => String::new(),
                later => {
                    format!("the first of this stack's {}s after it that matches ({}), else ", u.noun, list(later, u))
                }
            };
            notes.push((i, format!("{when}, requests for {} go to {next}{}", (u.matches)(before), u.otherwise)));
        }
        if c.action == Action::Update {
            let (Some(before), Some(after)) = (&c.before, &c.after) else { continue };
            let (Some(was), Some(is), Some(p)) = (place(before, u), place(after, u), parent(after, u)) else {
                continue;
            };
            if was == is {
                continue;
            }
            let key = (c.address.kind.name, p);
            let order = planned.get(&key).map(Vec::as_slice).unwrap_or_default();
            let ahead: Vec<&Placed> = order.iter().filter(|(a, w)| *w < is && *a != c.address).collect();
            let behind: Vec<&Placed> = order.iter().filter(|(a, w)| *w > is && *a != c.address).collect();
            let mut say = format!("{} {was} → {is}: tried", u.attr);
            match (ahead.last(), behind.first()) {
                (Some(a), Some(b)) => say += &format!(" after {} and before {}", list(&[a], u), list(&[b], u)),
                (Some(a), None) => say += &format!(" after {}, last of this stack's {}s", list(&[a], u), u.noun),
                (None, Some(b)) => say += &format!(" before {}, first of this stack's {}s", list(&[b], u), u.noun),
                (None, None) => say += &format!(" as this stack's only {}", u.noun),
            }
            let with: Vec<String> = moving
                .get(&(c.address.kind.name, parent(before, u).unwrap_or_default()))
                .into_iter()
                .flatten()
                .filter(|a| **a != c.address)
                .map(ToString::to_string)
                .collect();
            if !with.is_empty() {
                say += &format!("; moved together with {} in one `{}` call", with.join(", "), u.call);
            }
            notes.push((i, say));
        }
    }
    for (i, note) in notes {
        changes[i].notes.push(note);
    }
}
