use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::schema::normalize_set;
use crate::{Address, Value};

/// A reference to another resource: `${kind.name}` (its id) or `${kind.name.attr}`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Ref {
    pub address: Address,
    pub attr: Option<String>,
    /// `${kind.name.attr[N]}`: element N of a list attribute (of a set, in its sorted order).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<usize>,
}

impl Ref {
    /// The attribute the reference reads; a bare address reads `id`.
    pub fn attr_name(&self) -> &str {
        self.attr.as_deref().unwrap_or("id")
    }
}

impl Ref {
    /// A reference to `address`'s `attr` (its id when `None`).
    pub fn new(address: Address, attr: Option<String>) -> Ref {
        Ref { address, attr, index: None }
    }

    /// What it reads, given the whole attribute `value`: the element it names, when it
    /// names one (unknown while the list is, or when it is too short).
    pub fn pick(&self, value: Value) -> Value {
        match (self.index, value) {
            (None, v) => v,
            (Some(i), Value::List(items)) => items.into_iter().nth(i).unwrap_or(Value::Unknown),
            (Some(_), _) => Value::Unknown,
        }
    }
}

impl fmt::Display for Ref {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let index = self.index.map(|i| format!("[{i}]")).unwrap_or_default();
        match &self.attr {
            Some(a) => write!(f, "${{{}.{a}{index}}}", self.address),
            None => write!(f, "${{{}}}", self.address),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Part {
    Lit(String),
    Ref(Ref),
    /// `${env.NAME}` inside a sensitive attribute: read when the value is needed (plan
    /// and apply), never written down.
    Env(String),
}

/// An attribute value as the spec wrote it, after variables and environment values
/// were substituted: literals, references to other resources, and strings that mix
/// the two. Plans carry these so the engine can fill in values known only after apply.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Expr {
    Lit(Value),
    Ref(Ref),
    Template(Vec<Part>),
    List(Vec<Expr>),
    /// A list whose order does not matter; evaluates sorted and de-duplicated.
    Set(Vec<Expr>),
    Map(BTreeMap<String, Expr>),
}

impl Expr {
    /// The value, with `resolve` answering each reference (`Value::Unknown` when the
    /// referenced value will only be known after apply).
    /// `${env.NAME}` parts (sensitive attributes only) evaluate to `Unknown` here: see
    /// [`Expr::eval_with_env`].
    pub fn eval(&self, resolve: &dyn Fn(&Ref) -> Value) -> Value {
        self.eval_with_env(resolve, &|_| None)
    }

    /// The value, with `env` answering `${env.NAME}` parts (`Unknown` when unset).
    pub fn eval_with_env(&self, resolve: &dyn Fn(&Ref) -> Value, env: &dyn Fn(&str) -> Option<String>) -> Value {
        match self {
            Expr::Lit(v) => v.clone(),
            Expr::Ref(r) => r.pick(resolve(r)),
            Expr::Template(parts) => {
                let mut out = String::new();
                for p in parts {
                    match p {
                        Part::Lit(s) => out.push_str(s),
                        Part::Ref(r) => match r.pick(resolve(r)) {
                            Value::Str(s) => out.push_str(&s),
                            Value::Int(i) => out.push_str(&i.to_string()),
                            Value::Bool(b) => out.push_str(&b.to_string()),
                            _ => return Value::Unknown,
                        },
                        Part::Env(name) => match env(name) {
                            Some(v) => out.push_str(&v),
                            None => return Value::Unknown,
                        },
                    }
                }
                Value::Str(out)
            }
            Expr::List(items) => Value::List(items.iter().map(|e| e.eval_with_env(resolve, env)).collect()),
            Expr::Set(items) => {
                let mut v: Vec<Value> = items.iter().map(|e| e.eval_with_env(resolve, env)).collect();
                normalize_set(&mut v);
                Value::List(v)
            }
            Expr::Map(m) => Value::Map(m.iter().map(|(k, e)| (k.clone(), e.eval_with_env(resolve, env))).collect()),
        }
    }

    /// The names of the environment variables a sensitive value reads.
    pub fn env_names(&self) -> Vec<&str> {
        match self {
            Expr::Template(parts) => parts
                .iter()
                .filter_map(|p| match p {
                    Part::Env(n) => Some(n.as_str()),
                    _ => None,
                })
                .collect(),
            Expr::List(items) | Expr::Set(items) => items.iter().flat_map(Expr::env_names).collect(),
            Expr::Map(m) => m.values().flat_map(Expr::env_names).collect(),
            _ => Vec::new(),
        }
    }

    /// Every reference inside, in order of appearance.
    pub fn refs(&self) -> Vec<&Ref> {
        let mut out = Vec::new();
        self.collect_refs(&mut out);
        out
    }

    fn collect_refs<'a>(&'a self, out: &mut Vec<&'a Ref>) {
        match self {
            Expr::Lit(_) => {}
            Expr::Ref(r) => out.push(r),
            Expr::Template(parts) => out.extend(parts.iter().filter_map(|p| match p {
                Part::Ref(r) => Some(r),
                Part::Lit(_) | Part::Env(_) => None,
            })),
            Expr::List(items) | Expr::Set(items) => items.iter().for_each(|e| e.collect_refs(out)),
            Expr::Map(m) => m.values().for_each(|e| e.collect_refs(out)),
        }
    }

    /// The literal value when the expression holds no reference.
    pub fn as_literal(&self) -> Option<Value> {
        if self.refs().is_empty() {
            Some(self.eval(&|_| Value::Unknown))
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evaluates_templates_and_sets() {
        let r = Ref::new("vpc.main".parse().unwrap(), None);
        let e = Expr::Template(vec![Part::Lit("in ".into()), Part::Ref(r.clone())]);
        assert_eq!(e.eval(&|_| Value::str("vpc-1")), Value::str("in vpc-1"));
        assert_eq!(e.eval(&|_| Value::Unknown), Value::Unknown);
        let s = Expr::Set(vec![Expr::Lit(Value::str("b")), Expr::Ref(r), Expr::Lit(Value::str("b"))]);
        assert_eq!(s.eval(&|_| Value::str("a")), Value::List(vec![Value::str("a"), Value::str("b")]));
        assert_eq!(s.refs().len(), 1);
    }
}
