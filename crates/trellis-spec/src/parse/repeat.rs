//! `count` and `for_each`: a resource written once and made several times, and the
//! references that name its copies (`${instance.web[0]}`, `${instance.web[count.index]}`,
//! `${instance.web[*].id}`). Copies are made here, when the spec is read: every later
//! stage sees plain resources at instance addresses.

use std::collections::BTreeMap;

use marked_yaml::types::{MarkedMappingNode, MarkedScalarNode};
use marked_yaml::Node;
use trellis_core::schema::Type;
use trellis_core::{valid_key, Address, Expr, InstanceKey};

use super::{node_kind, suggest, Parser};
use crate::diag::Span;
use crate::template::{split, Piece};

/// How many copies of a resource the spec asks for.
#[derive(Debug, Clone)]
pub(super) enum Repeat {
    Count(u32),
    /// Each key with its `each.value`.
    ForEach(BTreeMap<String, EachValue>),
}

/// `each.value`: the list item or the map value; a mapping's fields are
/// `each.value.FIELD`.
#[derive(Debug, Clone)]
pub(super) enum EachValue {
    Text(String),
    Fields(BTreeMap<String, String>),
}

/// The copy being read: what `count.index`, `each.key` and `each.value` stand for.
#[derive(Debug, Clone)]
pub(super) struct Each {
    pub key: InstanceKey,
    pub value: Option<EachValue>,
}

impl Repeat {
    pub(super) fn public(&self) -> crate::Repetition {
        match self {
            Repeat::Count(n) => crate::Repetition::Count(*n),
            Repeat::ForEach(m) => crate::Repetition::ForEach(m.keys().cloned().collect()),
        }
    }

    pub(super) fn copies(&self) -> Vec<Each> {
        match self {
            Repeat::Count(n) => (0..*n).map(|i| Each { key: InstanceKey::Index(i), value: None }).collect(),
            Repeat::ForEach(m) => {
                m.iter().map(|(k, v)| Each { key: InstanceKey::Key(k.clone()), value: Some(v.clone()) }).collect()
            }
        }
    }

    fn has(&self, key: &InstanceKey) -> bool {
        match (self, key) {
            (Repeat::Count(n), InstanceKey::Index(i)) => i < n,
            (Repeat::ForEach(m), InstanceKey::Key(k)) => m.contains_key(k),
            _ => false,
        }
    }

    fn meta(&self) -> &'static str {
        match self {
            Repeat::Count(_) => "count",
            Repeat::ForEach(_) => "for_each",
        }
    }

    /// What the copies are, for a message: `count 3 (indexes 0 to 2)`.
    fn describe(&self) -> String {
        match self {
            Repeat::Count(0) => "count 0 (no copies)".into(),
            Repeat::Count(n) => format!("count {n} (indexes 0 to {})", n - 1),
            Repeat::ForEach(m) if m.is_empty() => "an empty for_each".into(),
            Repeat::ForEach(m) => {
                format!("for_each keys {}", m.keys().map(|k| format!("\"{k}\"")).collect::<Vec<_>>().join(", "))
            }
        }
    }
}

/// The body of `text` when it is one `${...}` alone; empty otherwise.
fn lone_body(text: &str) -> String {
    match split(text).ok().as_deref() {
        Some([Piece::Ref { body, .. }]) => body.clone(),
        _ => String::new(),
    }
}

/// The parts of an indexed reference `kind.name[INDEX]` or `kind.name[INDEX].attr`.
pub(super) struct Indexed<'b> {
    pub base: &'b str,
    pub index: &'b str,
    pub attr: Option<&'b str>,
}

pub(super) fn indexed(body: &str) -> Option<Indexed<'_>> {
    let open = body.find('[')?;
    let close = open + body[open..].find(']')?;
    let rest = &body[close + 1..];
    let attr = match rest {
        "" => None,
        _ => Some(rest.strip_prefix('.')?),
    };
    Some(Indexed { base: &body[..open], index: body[open + 1..close].trim(), attr })
}

impl Parser<'_> {
    /// A resource's `count` or `for_each`, when it has one. Read before any resource body,
    /// so that references to copies can be checked; errors are reported here, once.
    pub(super) fn parse_repeat(&mut self, body: &MarkedMappingNode) -> Option<Option<Repeat>> {
        match (body.get_node("count"), body.get_node("for_each")) {
            (None, None) => Some(None),
            (Some(_), Some(f)) => {
                let span = Some(self.node_span(f));
                self.error(
                    "give `count` or `for_each`, not both",
                    span,
                    Some("`count: N` makes numbered copies, `for_each` one copy per key".into()),
                );
                None
            }
            (Some(n), None) => self.parse_count(n).map(|c| Some(Repeat::Count(c))),
            (None, Some(f)) => self.parse_for_each(f).map(|m| Some(Repeat::ForEach(m))),
        }
    }

    /// A value `count` or `for_each` needs now: references to resources are known only
    /// after apply, too late to decide how many objects there are.
    fn known_now(&mut self, node: &Node, what: &str) -> bool {
        let Node::Scalar(s) = node else { return true };
        let late = split(s.as_str()).ok().and_then(|pieces| {
            pieces.into_iter().find_map(|p| match p {
                // An expression is known or not by what it reads: its value says.
                Piece::Ref { body, .. } if crate::expr::parse(&body).is_ok_and(|a| !a.is_name()) => None,
                Piece::Ref { body, .. } if !body.starts_with("var.") && !body.starts_with("env.") => Some(body),
                _ => None,
            })
        });
        let Some(late) = late else { return true };
        let span = Some(self.scalar_span(s));
        if late.starts_with("lookup.") || late.starts_with("stack.") {
            self.error(
                format!(
                    "`{what}` cannot read `${{{late}}}`: copies are decided before lookups and other stacks' states are read"
                ),
                span,
                Some("write the keys out, or give them as `${var.NAME}`".into()),
            );
            return false;
        }
        self.error(
            format!("`{what}` must be known when the spec is read, but `${{{late}}}` is known only after apply"),
            span,
            Some("give a number, a list or a mapping written out, or `${var.NAME}`".into()),
        );
        false
    }

    fn parse_count(&mut self, node: &Node) -> Option<u32> {
        if !self.known_now(node, "count") {
            return None;
        }
        if let Some(n) = self.var_count(node) {
            return Some(n);
        }
        let Expr::Lit(v) = self.parse_value(node, &Type::Int)? else {
            let span = Some(self.node_span(node));
            self.error(
                "`count` must be known when the spec is read, but this is known only after apply",
                span,
                Some("build it from variables, keys and lookups".into()),
            );
            return None;
        };
        if v == trellis_core::Value::Unknown {
            return None; // an unset variable or an unread lookup, reported where it is
        }
        let n = v.as_int().unwrap_or(-1);
        match u32::try_from(n) {
            Ok(n) => Some(n),
            Err(_) => {
                let span = Some(self.node_span(node));
                self.error(format!("`count` must be 0 or more, found {n}"), span, None);
                None
            }
        }
    }

    fn parse_for_each(&mut self, node: &Node) -> Option<BTreeMap<String, EachValue>> {
        let mut out = BTreeMap::new();
        let mut ok = true;
        match node {
            Node::Sequence(items) => {
                for item in items.iter() {
                    let Some(key) = self.for_each_word(item, "a `for_each` list item") else {
                        ok = false;
                        continue;
                    };
                    let key_node = item.as_scalar().expect("a word is a scalar");
                    if out.contains_key(&key) {
                        let span = Some(self.scalar_span(key_node));
                        self.error(
                            format!("`{key}` is in `for_each` twice"),
                            span,
                            Some("keys name copies: keep one".into()),
                        );
                        ok = false;
                    } else if self.check_key(&key, key_node) {
                        out.insert(key.clone(), EachValue::Text(key));
                    } else {
                        ok = false;
                    }
                }
            }
            Node::Mapping(m) => {
                for (k, v) in m.iter() {
                    if !self.check_key(k.as_str(), k) {
                        ok = false;
                        continue;
                    }
                    let value = match v {
                        Node::Mapping(fields) => {
                            let mut read = BTreeMap::new();
                            for (f, fv) in fields.iter() {
                                match self.for_each_word(fv, "an `each.value` field") {
                                    Some(w) => {
                                        read.insert(f.as_str().to_string(), w);
                                    }
                                    None => ok = false,
                                }
                            }
                            EachValue::Fields(read)
                        }
                        other => match self.for_each_word(other, "an `each.value`") {
                            Some(w) => EachValue::Text(w),
                            None => {
                                ok = false;
                                continue;
                            }
                        },
                    };
                    out.insert(k.as_str().to_string(), value);
                }
            }
            Node::Scalar(s) if crate::expr::parse(&lone_body(s.as_str())).is_ok_and(|a| !a.is_name()) => {
                match self.for_each_expression(s) {
                    Some(Some(m)) => out = m,
                    _ => ok = false,
                }
            }
            Node::Scalar(s) if self.map_var(s).is_some() => {
                out = self.map_var(s).expect("a map variable");
                for key in out.keys() {
                    if !valid_key(key) {
                        let span = Some(self.scalar_span(s));
                        self.error(
                            format!("`{key}`, a key of the map, cannot be a `for_each` key"),
                            span,
                            Some("a key goes into AWS names and tags: use letters, digits, `-` and `_`".into()),
                        );
                        ok = false;
                    }
                }
            }
            Node::Scalar(s) if self.list_var(s).is_some() => {
                let name = self.list_var(s).expect("a list variable");
                for key in self.list_vars[&name].clone() {
                    if self.check_key(&key, s) {
                        out.insert(key.clone(), EachValue::Text(key));
                    } else {
                        ok = false;
                    }
                }
            }
            Node::Scalar(_) => {
                let span = Some(self.node_span(node));
                self.error(
                    format!("`for_each` must be a list or a mapping, found {}", node_kind(node)),
                    span,
                    Some("e.g. `for_each: [a, b]` or `for_each: { a: 10.0.1.0/24, b: 10.0.2.0/24 }`".into()),
                );
                ok = false;
            }
        }
        ok.then_some(out)
    }

    /// One word of a `for_each`: a single value, `${var.*}` substituted.
    fn for_each_word(&mut self, node: &Node, what: &str) -> Option<String> {
        if !matches!(node, Node::Scalar(_)) {
            let span = Some(self.node_span(node));
            self.error(format!("{what} must be a single value, found {}", node_kind(node)), span, None);
            return None;
        }
        if !self.known_now(node, "for_each") {
            return None;
        }
        match self.parse_value(node, &Type::Str)? {
            Expr::Lit(v) => v.as_str().map(str::to_string),
            _ => None,
        }
    }

    fn check_key(&mut self, key: &str, at: &MarkedScalarNode) -> bool {
        if valid_key(key) {
            return true;
        }
        let span = Some(self.scalar_span(at));
        self.error(
            format!("`{key}` cannot be a `for_each` key"),
            span,
            Some("a key goes into AWS names and tags: use letters, digits, `-` and `_`; map it to the value, `{ a: 10.0.1.0/24 }`".into()),
        );
        false
    }

    /// `count.index`, `each.key`, `each.value` and `each.value.FIELD` inside a copy.
    pub(super) fn each_ref(&mut self, segments: &[&str], at: Span) -> Option<String> {
        let each = self.each.clone();
        let not_here = |p: &mut Self, what: &str, meta: &str| {
            let me = p.current.as_ref().map(|a| format!("`{}`", a.resource())).unwrap_or_else(|| "this value".into());
            p.error(
                format!("`{what}` is only known inside a resource with `{meta}`, and {me} has none"),
                Some(at),
                None,
            );
            None
        };
        match (segments, each) {
            (["count", "index"], Some(Each { key: InstanceKey::Index(i), .. })) => Some(i.to_string()),
            (["count", "index"], _) => not_here(self, "count.index", "count"),
            (["each", "key"], Some(Each { key: InstanceKey::Key(k), .. })) => Some(k),
            (["each", "value"], Some(Each { value: Some(EachValue::Text(v)), .. })) => Some(v),
            (["each", "value"], Some(Each { value: Some(EachValue::Fields(f)), .. })) => {
                let one = f.keys().next().cloned().unwrap_or_else(|| "FIELD".into());
                self.error(
                    "`each.value` is a mapping here",
                    Some(at),
                    Some(format!("name one of its fields, e.g. `${{each.value.{one}}}`")),
                );
                None
            }
            (["each", "value", field], Some(Each { value: Some(EachValue::Fields(f)), .. })) => match f.get(*field) {
                Some(v) => Some(v.clone()),
                None => {
                    let help = suggest(field, f.keys());
                    self.error(format!("`each.value` has no field `{field}`"), Some(at), help);
                    None
                }
            },
            (["each", "value", _], Some(Each { value: Some(EachValue::Text(_)), .. })) => {
                self.error(
                    "`each.value` is a single value here, with no fields",
                    Some(at),
                    Some("write `${each.value}`, or make the `for_each` a mapping of mappings".into()),
                );
                None
            }
            (["each", ..], _) => not_here(self, &segments.join("."), "for_each"),
            _ => None,
        }
    }

    /// The copy an indexed reference names: `kind.name[0]`, `kind.name["a"]`,
    /// `kind.name[count.index]`, `kind.name[each.key]`. `None` after reporting why not.
    pub(super) fn indexed_address(&mut self, r: &Indexed<'_>, at: Span) -> Option<Address> {
        let base = self.declared(r.base, at)?;
        let Some(repeat) = self.repeats.get(&base).cloned() else {
            self.error(
                format!("`{base}` has no `count` or `for_each`: it has no copies to index"),
                Some(at),
                Some(format!("refer to it as `${{{base}}}`")),
            );
            return None;
        };
        let key = match r.index {
            "*" => {
                self.error(
                    format!("`{base}[*]` is a list of all its copies and stands alone"),
                    Some(at),
                    Some(format!("give it as a whole list value, e.g. `subnet_ids: ${{{base}[*].id}}`")),
                );
                return None;
            }
            "count.index" | "each.key" => {
                let segments: Vec<&str> = r.index.split('.').collect();
                let word = self.each_ref(&segments, at)?;
                match r.index {
                    "count.index" => InstanceKey::Index(word.parse().expect("an index")),
                    _ => InstanceKey::Key(word),
                }
            }
            i => match format!("{base}[{i}]").parse::<Address>() {
                Ok(a) => a.key.expect("an indexed address"),
                Err(_) => {
                    self.error(
                        format!("`[{i}]` is not an index"),
                        Some(at),
                        Some("write `[0]`, `[\"key\"]`, `[count.index]`, `[each.key]` or `[*]`".into()),
                    );
                    return None;
                }
            },
        };
        if !repeat.has(&key) {
            let copy = base.instance(key);
            let hint = match (&repeat, &copy.key) {
                (Repeat::Count(_), Some(InstanceKey::Key(_))) => {
                    Some("copies made by `count` are numbered: `[0]`".into())
                }
                (Repeat::ForEach(_), Some(InstanceKey::Index(_))) => {
                    Some("copies made by `for_each` are named by key: `[\"key\"]`".into())
                }
                _ => None,
            };
            self.error(format!("`{copy}` does not exist: `{base}` has {}", repeat.describe()), Some(at), hint);
            return None;
        }
        Some(base.instance(key))
    }

    /// A reference to a repeated resource without an index: which copy is unclear.
    pub(super) fn unindexed(&mut self, a: &Address, at: Span) -> bool {
        let Some(repeat) = self.repeats.get(a) else { return false };
        let one = match repeat {
            Repeat::Count(_) => "0".to_string(),
            Repeat::ForEach(m) => format!("\"{}\"", m.keys().next().map(String::as_str).unwrap_or("key")),
        };
        self.error(
            format!("`{a}` has `{}`: say which copy", repeat.meta()),
            Some(at),
            Some(format!("refer to one, `${{{a}[{one}]}}`, or to all of them as a list, `${{{a}[*].id}}`")),
        );
        true
    }

    /// A `${kind.name[*]}` or `${kind.name[*].attr}` standing alone: the reference to each
    /// copy, in order. `None` when the scalar is something else.
    pub(super) fn splat(&self, s: &MarkedScalarNode) -> Option<(String, Option<String>)> {
        let pieces = split(s.as_str()).ok()?;
        let [Piece::Ref { body, .. }] = pieces.as_slice() else { return None };
        let r = indexed(body).filter(|r| r.index == "*")?;
        Some((r.base.to_string(), r.attr.map(str::to_string)))
    }

    /// The list a splat stands for, each item checked as a value of `item`.
    pub(super) fn expand_splat(&mut self, s: &MarkedScalarNode, item: &Type) -> Option<Vec<Expr>> {
        let (base, attr) = self.splat(s)?;
        let at = self.scalar_span(s);
        self.splat_refs(&base, attr, at, item)
    }

    /// `base[*]` or `base[*].attr`: a reference to each copy, checked as a value of `item`.
    pub(super) fn splat_refs(&mut self, base: &str, attr: Option<String>, at: Span, item: &Type) -> Option<Vec<Expr>> {
        let address = self.declared(base, at)?;
        let Some(repeat) = self.repeats.get(&address).cloned() else {
            self.error(
                format!("`{address}` has no `count` or `for_each`: `[*]` lists the copies of one that has"),
                Some(at),
                Some(format!("refer to it as `${{{address}}}`")),
            );
            return None;
        };
        let mut out = Vec::new();
        for each in repeat.copies() {
            out.push(self.check_ref(address.instance(each.key), attr.clone(), at, item).map(Expr::Ref)?);
        }
        Some(out)
    }

    /// `kind.name` as written in a reference, when the spec declares it (as a resource or
    /// a repeated one). Reports an unknown one with a did-you-mean.
    pub(super) fn declared(&mut self, text: &str, at: Span) -> Option<Address> {
        match text.parse::<Address>().map(|a| self.scoped(a)) {
            Ok(a) if a.key.is_none() && (self.addresses.contains(&a) || self.repeats.contains_key(&a)) => Some(a),
            Ok(a) if self.broken.contains(&a) => None,
            _ => {
                self.not_declared(text, at);
                None
            }
        }
    }
}
