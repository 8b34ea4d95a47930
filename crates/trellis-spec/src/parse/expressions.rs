//! `${...}` that is more than a name: an expression (`${length(var.zones)}`,
//! `${count.index + 1}`, `${templatefile("boot.sh", { db = db_instance.main.address })}`).
//! The evaluator (`crate::expr`) is pure; what it reads comes through here, by the same
//! rules (and with the same messages) as a reference written alone.

use std::collections::BTreeMap;

use marked_yaml::types::MarkedScalarNode;
use trellis_core::schema::Type;
use trellis_core::{Expr, Part, Value};

use super::repeat::EachValue;
use super::Parser;
use crate::diag::Span;
use crate::expr::{self, Ast, EvalError, Names};
use crate::template::{split, Piece};

/// Characters that make a `${...}` that does not read as an expression worth reporting
/// as one, rather than as a reference written wrong.
const EXPRESSION_MARKS: &[char] = &['(', ')', '?', '+', '*', '/', '%', '!', '<', '>', '=', ',', '"'];

/// What the evaluator reads, answered by the parser.
struct Reader<'p, 'a> {
    parser: &'p mut Parser<'a>,
    at: Span,
}

impl Names for Reader<'_, '_> {
    fn name(&mut self, text: &str) -> Option<Expr> {
        self.parser.name_value(text, self.at)
    }

    fn read_file(&mut self, path: &str) -> Result<String, String> {
        let dir = std::path::Path::new(&self.parser.file.name).parent().unwrap_or(std::path::Path::new(""));
        let full = dir.join(path);
        std::fs::read_to_string(&full)
            .map_err(|e| format!("cannot read `{}` (relative to this file): {e}", full.display()))
    }
}

impl Parser<'_> {
    /// The expression a `${...}` body holds, when it is more than a name (a name alone
    /// is read by the reference rules). A body that is neither is reported here when it
    /// looks like an expression, and left to the reference rules otherwise.
    pub(super) fn expression(&mut self, body: &str, at: Span) -> Option<Result<Ast, ()>> {
        match expr::parse(body) {
            Ok(ast) if ast.is_name() => None,
            Ok(ast) => Some(Ok(ast)),
            Err(e) if body.contains(EXPRESSION_MARKS) => {
                let where_ = self.lines.shift(&self.file.text, at, 2 + e.offset, 1);
                self.error(e.message, Some(where_), Some("see \"Expressions\" in docs/spec.md".into()));
                Some(Err(()))
            }
            Err(_) => None,
        }
    }

    /// The value of an expression, its problems reported at `at`.
    pub(super) fn evaluate(&mut self, ast: &Ast, at: Span) -> Option<Expr> {
        let mut reader = Reader { parser: self, at };
        match expr::evaluate(ast, &mut reader) {
            Ok(e) => Some(e),
            Err(EvalError::Reported) => None,
            Err(EvalError::Wrong(message, help)) => {
                self.error(message, Some(at), help);
                None
            }
        }
    }

    /// A scalar that is one `${expression}` alone: its value, or `Some(None)` after
    /// reporting; `None` when it is something else.
    pub(super) fn lone_expression(&mut self, s: &MarkedScalarNode) -> Option<Option<Expr>> {
        let pieces = split(s.as_str()).ok()?;
        let [Piece::Ref { body, offset }] = pieces.as_slice() else { return None };
        let span = self.scalar_span(s);
        let quote = matches!(self.file.text[span.start..].chars().next(), Some('"' | '\''));
        let at = self.lines.shift(&self.file.text, span, usize::from(quote) + offset, body.chars().count() + 3);
        match self.expression(body, at)? {
            Ok(ast) => {
                self.unresolved = false;
                let value = self.evaluate(&ast, at);
                // What reads a lookup whose answer is not known yet is not known either.
                if std::mem::take(&mut self.unresolved) {
                    return Some(value.map(|_| Expr::Lit(Value::Unknown)));
                }
                Some(value)
            }
            Err(()) => Some(None),
        }
    }

    /// The whole value a name stands for inside an expression: a variable (a list or a
    /// map whole), a copy's key, a reference, a component's output, a lookup's answer.
    fn name_value(&mut self, text: &str, at: Span) -> Option<Expr> {
        if let Some(e) = self.given_expr(text) {
            return Some(e);
        }
        if text.starts_with("component.") {
            return self.component_output(text, at, true);
        }
        if let Some(name) = text.strip_prefix("var.").filter(|n| !n.contains(['.', '['])) {
            if self.unset_vars.contains(name) {
                return Some(Expr::Lit(Value::Unknown));
            }
            if let Some(items) = self.list_vars.get(name) {
                return Some(Expr::Lit(Value::List(items.iter().map(Value::str).collect())));
            }
            if let Some(map) = self.map_vars.get(name) {
                return Some(Expr::Lit(Value::Map(map.iter().map(|(k, v)| (k.clone(), each_value(v))).collect())));
            }
        }
        if text == "each.value" {
            if let Some(EachValue::Fields(f)) = self.each.as_ref().and_then(|e| e.value.as_ref()) {
                return Some(Expr::Lit(each_value(&EachValue::Fields(f.clone()))));
            }
        }
        if text == "count.index" {
            return self.each_ref(&["count", "index"], at).map(|i| Expr::Lit(Value::Int(i.parse().unwrap_or(0))));
        }
        if let Some((base, attr)) = text.split_once("[*]") {
            let attr = attr.strip_prefix('.').map(str::to_string);
            return self.splat_refs(base, attr, at, &Type::Str).map(Expr::List);
        }
        if text.starts_with("lookup.") {
            let (address, attr) = self.checked_lookup(text, at)?;
            if attr.list {
                return Some(match self.answer_of(&address, attr.name) {
                    Some(v) => Expr::Lit(v),
                    None => Expr::Lit(Value::Unknown),
                });
            }
        }
        let part = self.resolve_ref(text, at, &Type::Str)?;
        Some(match part {
            Part::Lit(s) => Expr::Lit(Value::Str(s)),
            Part::Ref(r) => Expr::Ref(r),
            env @ Part::Env(_) => Expr::Template(vec![env]),
        })
    }

    /// `for_each: ${expression}`: its keys (a list of texts, or a mapping's keys with
    /// their values), known when the spec is read.
    pub(super) fn for_each_expression(&mut self, s: &MarkedScalarNode) -> Option<Option<BTreeMap<String, EachValue>>> {
        let value = self.lone_expression(s)?;
        let span = self.scalar_span(s);
        let Some(value) = value else { return Some(None) };
        let mut out = BTreeMap::new();
        match expr::eval::known(&value) {
            Some(Value::List(items)) => {
                for item in items {
                    let Value::Str(k) = item else {
                        self.error(format!("`for_each` takes texts, found {item}"), Some(span), None);
                        return Some(None);
                    };
                    out.insert(k.clone(), EachValue::Text(k));
                }
            }
            Some(Value::Map(m)) => {
                for (k, v) in m {
                    let value = match v {
                        Value::Map(fields) => {
                            EachValue::Fields(fields.into_iter().map(|(f, fv)| (f, scalar_text(&fv))).collect())
                        }
                        other => EachValue::Text(scalar_text(&other)),
                    };
                    out.insert(k, value);
                }
            }
            _ => {
                self.error(
                    format!(
                        "`for_each` must be a list or a mapping known when the spec is read, found {}",
                        expr::eval::describe(&value)
                    ),
                    Some(span),
                    Some("build it from variables, keys and lookups: what apply makes is not known yet".into()),
                );
                return Some(None);
            }
        }
        for k in out.keys() {
            if !trellis_core::valid_key(k) {
                self.error(
                    format!("`{k}` cannot be a `for_each` key"),
                    Some(span),
                    Some("a key goes into AWS names and tags: use letters, digits, `-` and `_`".into()),
                );
                return Some(None);
            }
        }
        Some(Some(out))
    }
}

fn scalar_text(v: &Value) -> String {
    match v {
        Value::Str(s) => s.clone(),
        other => other.to_string(),
    }
}

fn each_value(v: &EachValue) -> Value {
    match v {
        EachValue::Text(t) => Value::str(t),
        EachValue::Fields(f) => Value::Map(f.iter().map(|(k, v)| (k.clone(), Value::str(v))).collect()),
    }
}
