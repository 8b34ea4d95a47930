//! `${stack.NAME.output.KEY}`: an output of another stack, read from that stack's
//! state, and `stacks:`, which says where a stack's state is when it is not in its
//! local file. The states come in through `LoadOptions::stacks`; without them
//! (`validate`) every value read from another stack is unknown.

use std::path::PathBuf;

use marked_yaml::types::{MarkedMappingNode, MarkedScalarNode};
use marked_yaml::Node;
use trellis_core::schema::Type;
use trellis_core::{Expr, Value};

use super::{node_kind, suggest, valid_stack_name, Parser};
use crate::diag::Span;
use crate::template::{split, Piece};
use crate::{StackOutputs, StackRef, StackState};

const STACK_KEYS: &[&str] = &["backend", "state"];

/// The stack and output of `stack.NAME.output.KEY`.
fn parts(body: &str) -> Option<(&str, &str)> {
    match body.split('.').collect::<Vec<_>>().as_slice() {
        ["stack", name, "output", key] if !name.is_empty() && !key.is_empty() => Some((name, key)),
        _ => None,
    }
}

/// The body of a scalar that is one `${stack...}` and nothing else.
fn lone_stack_ref(text: &str) -> Option<String> {
    match split(text).ok()?.as_slice() {
        [Piece::Ref { body, .. }] if body.starts_with("stack.") => Some(body.clone()),
        _ => None,
    }
}

impl Parser<'_> {
    /// `stacks: { NAME: { backend: { s3: ... } } }` or `{ NAME: { state: PATH } }`.
    pub(super) fn parse_stacks(&mut self, top: &MarkedMappingNode) {
        let m = match top.get_node("stacks") {
            None => return,
            Some(Node::Mapping(m)) => m,
            Some(other) => {
                let span = Some(self.node_span(other));
                self.error(
                    format!(
                        "`stacks` must be a mapping of stack names to where their states are, found {}",
                        node_kind(other)
                    ),
                    span,
                    Some("e.g. `stacks: { network: { backend: { s3: { bucket: NAME, key: PATH } } } }`".into()),
                );
                return;
            }
        };
        for (key, node) in m.iter() {
            let span = self.scalar_span(key);
            let Some(name) = self.other_stack_name(key.as_str(), span) else { continue };
            let Some(body) = node.as_mapping() else {
                let at = Some(self.node_span(node));
                self.error(
                    format!("`stacks.{name}` must be a mapping, found {}", node_kind(node)),
                    at,
                    Some("give `backend: { s3: ... }` or `state: PATH`".into()),
                );
                continue;
            };
            let mut ok = true;
            for k in body.keys() {
                if !STACK_KEYS.contains(&k.as_str()) {
                    let at = Some(self.scalar_span(k));
                    let hint = suggest(k.as_str(), STACK_KEYS)
                        .or_else(|| Some(format!("`stacks.{name}` takes {}", STACK_KEYS.join(" or "))));
                    self.error(format!("unknown key `{}` in `stacks.{name}`", k.as_str()), at, hint);
                    ok = false;
                }
            }
            let backend = body.get_node("backend").and_then(|n| self.parse_backend(n, Some(&name)));
            ok &= body.get_node("backend").is_none() || backend.is_some();
            let state = match body.get_node("state") {
                None => None,
                Some(n) => match self.literal_string(n, &format!("stacks.{name}.state")) {
                    Some(p) => Some(PathBuf::from(p)),
                    None => {
                        ok = false;
                        None
                    }
                },
            };
            if backend.is_some() && state.is_some() {
                self.error(
                    format!("`stacks.{name}` gives both a `backend` and a `state` file"),
                    Some(span),
                    Some("a stack's state is in one place: keep the one it is applied with".into()),
                );
                ok = false;
            }
            if ok {
                let read = self.read_of(&name);
                self.stacks
                    .insert(name.clone(), StackRef { name, backend, state, span, keys: Default::default(), read });
            }
        }
    }

    /// `name` checked as another stack's name.
    fn other_stack_name(&mut self, name: &str, at: Span) -> Option<String> {
        if !valid_stack_name(name) {
            self.error(
                format!("`{name}` is not a stack name"),
                Some(at),
                Some("stack names are up to 32 letters, digits and `-`, starting with a letter".into()),
            );
            return None;
        }
        if self.me.as_deref() == Some(name) {
            self.error(
                format!("`stack.{name}` is this spec's own stack"),
                Some(at),
                Some("refer to this stack's resources directly, e.g. `${vpc.main}`".into()),
            );
            return None;
        }
        Some(name.to_string())
    }

    /// What the other stack's state held, when the spec is read with the states.
    fn read_of(&self, name: &str) -> Option<StackOutputs> {
        match self.opts.stacks?.get(name)? {
            StackState::Found(o) => Some(o.clone()),
            StackState::Missing { .. } => None,
        }
    }

    /// The value of `${stack.NAME.output.KEY}`: `Some(None)` when the states were not
    /// read (`validate`), `None` after reporting why it cannot be had.
    fn stack_value(&mut self, body: &str, at: Span) -> Option<Option<Value>> {
        let Some((name, key)) = parts(body) else {
            self.error(
                format!("`${{{body}}}` is not a reference to another stack"),
                Some(at),
                Some("write `${stack.NAME.output.KEY}`: KEY is one of that stack's `outputs`".into()),
            );
            return None;
        };
        let name = self.other_stack_name(name, at)?;
        if !self.stacks.contains_key(&name) {
            let read = self.read_of(&name);
            let r =
                StackRef { name: name.clone(), backend: None, state: None, span: at, keys: Default::default(), read };
            self.stacks.insert(name.clone(), r);
        }
        if let Some(r) = self.stacks.get_mut(&name) {
            r.keys.insert(key.to_string());
        }
        if self.current.is_some() {
            self.reads.insert(format!("stack.{name}"));
        }
        let Some(state) = self.opts.stacks.and_then(|s| s.get(&name)) else { return Some(None) };
        let o = match state {
            StackState::Found(o) => o,
            StackState::Missing { location } => {
                self.error(
                    format!("`stack.{name}` has no state at {location}"),
                    Some(at),
                    Some(format!(
                        "apply the `{name}` stack first; if its state is kept elsewhere, say where: `stacks: {{ {name}: {{ backend: {{ s3: {{ bucket: ..., key: ... }} }} }} }}`"
                    )),
                );
                return None;
            }
        };
        match o.outputs.get(key) {
            Some(Value::Sensitive(_)) => {
                self.error(
                    format!("`stack.{name}`'s output `{key}` is sensitive, and only its digest is stored"),
                    Some(at),
                    Some("pass the secret itself through `${env.NAME}`".into()),
                );
                None
            }
            Some(v) => Some(Some(v.clone())),
            None => {
                let help = suggest(key, o.outputs.keys()).or_else(|| {
                    Some(if o.outputs.is_empty() {
                        format!("it has none yet: add `outputs: {{ {key}: ... }}` to its spec and apply it")
                    } else {
                        format!("its outputs are {}", o.outputs.keys().cloned().collect::<Vec<_>>().join(", "))
                    })
                });
                self.error(
                    format!("`stack.{name}` has no output `{key}` (its state at {}, serial {})", o.location, o.serial),
                    Some(at),
                    help,
                );
                None
            }
        }
    }

    /// `${stack...}` inside a value: the output's text. Read without the states, the
    /// value is unknown (`self.unresolved`).
    pub(super) fn stack_ref(&mut self, body: &str, at: Span) -> Option<String> {
        match self.stack_value(body, at)? {
            None => {
                self.unresolved = true;
                Some(String::new())
            }
            Some(Value::Str(s)) => Some(s),
            Some(v @ (Value::List(_) | Value::Map(_))) => {
                let what = if matches!(v, Value::List(_)) { "a list" } else { "a mapping" };
                self.error(
                    format!("`${{{body}}}` is {what}, and a single value is due here"),
                    Some(at),
                    matches!(v, Value::List(_))
                        .then(|| format!("give it alone where a list is due, e.g. `subnet_ids: ${{{body}}}`")),
                );
                None
            }
            Some(other) => Some(other.to_string()),
        }
    }

    /// True when `s` is one `${stack...}` and nothing else.
    pub(super) fn is_stack_ref(&self, s: &MarkedScalarNode) -> bool {
        lone_stack_ref(s.as_str()).is_some()
    }

    /// A lone `${stack...}` where a list is due: its items checked as values of `item`,
    /// `Some(None)` when the states were not read.
    pub(super) fn stack_list(&mut self, s: &MarkedScalarNode, item: &Type) -> Option<Option<Vec<Expr>>> {
        let body = lone_stack_ref(s.as_str())?;
        let at = self.scalar_span(s);
        match self.stack_value(&body, at)? {
            None => Some(None),
            Some(Value::List(items)) => {
                let mut out = Vec::with_capacity(items.len());
                for v in items {
                    let text = v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string());
                    out.push(Expr::Lit(self.coerce(&text, item, at)?));
                }
                Some(Some(out))
            }
            Some(v) => {
                let text = v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string());
                self.error(
                    format!("`${{{body}}}` is a single value (`{text}`), and a list is due here"),
                    Some(at),
                    Some(format!("put it in a list: `[\"${{{body}}}\"]`")),
                );
                None
            }
        }
    }

    /// A lone `${stack...}` item of a list whose output is itself a list: its items, in
    /// its place. `None` when it is not one (it is read as one item).
    pub(super) fn stack_items(&mut self, s: &MarkedScalarNode, item: &Type) -> Option<Option<Vec<Expr>>> {
        let body = lone_stack_ref(s.as_str())?;
        let (name, key) = parts(&body)?;
        let found = self.opts.stacks?.get(name)?;
        let StackState::Found(o) = found else { return None };
        if !matches!(o.outputs.get(key), Some(Value::List(_))) {
            return None;
        }
        Some(self.stack_list(s, item).flatten())
    }
}
