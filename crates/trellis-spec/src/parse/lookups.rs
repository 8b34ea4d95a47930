//! `lookups:`: objects the stack reads but does not own, each `KIND.NAME:` with its
//! filters, and the references `${lookup.KIND.NAME}` / `${lookup.KIND.NAME.ATTR}` to
//! what they found. The answers come in through `LoadOptions::lookups`; without them
//! (`validate`) every value read from a lookup is unknown.

use std::collections::{BTreeMap, BTreeSet};

use marked_yaml::types::{MarkedMappingNode, MarkedScalarNode};
use marked_yaml::Node;
use trellis_core::lookup::{self, LookupAttr};
use trellis_core::schema::Type;
use trellis_core::{Expr, LookupAddress, Value};

use super::value::a_kind;
use super::{node_kind, suggest, Parser};
use crate::diag::Span;
use crate::template::{split, Piece};
use crate::{Filter, Lookup};

/// The parts of `lookup.KIND.NAME[.ATTR]`, before they are checked.
fn parts(body: &str) -> Option<(&str, &str, Option<&str>)> {
    let mut it = body.strip_prefix("lookup.")?.split('.');
    let (kind, name, attr) = (it.next()?, it.next()?, it.next());
    it.next().is_none().then_some((kind, name, attr))
}

impl Parser<'_> {
    /// `lookups:`, read after `vars` and before any resource. Every entry's address is
    /// known before its filters are read, so a filter may name a later lookup.
    pub(super) fn parse_lookups(&mut self, top: &MarkedMappingNode) {
        let m = match top.get_node("lookups") {
            None => return,
            Some(Node::Mapping(m)) => m,
            Some(other) => {
                let span = Some(self.node_span(other));
                self.error(
                    format!("`lookups` must be a mapping of `kind.name` to filters, found {}", node_kind(other)),
                    span,
                    Some("e.g. `lookups: { vpc.default: { default: true } }`".into()),
                );
                return;
            }
        };
        let mut entries = Vec::new();
        for (key, node) in m.iter() {
            if let Some(address) = self.lookup_address(key) {
                self.lookup_names.insert(address.clone());
                entries.push((address, key, node));
            }
        }
        for (address, key, node) in entries {
            let span = self.scalar_span(key);
            if let Some(l) = self.parse_lookup(address, node, span) {
                self.lookups.insert(l.address.clone(), l);
            }
        }
        self.check_lookup_cycles();
    }

    fn lookup_address(&mut self, key: &MarkedScalarNode) -> Option<LookupAddress> {
        let span = Some(self.scalar_span(key));
        let text = key.as_str();
        let Some((kind, name)) = text.split_once('.') else {
            self.error(
                format!("`{text}` is not a lookup: expected `kind.name`"),
                span,
                Some("e.g. `vpc.default:` or `ami.web:`".into()),
            );
            return None;
        };
        let Some(address) = LookupAddress::parse(kind, name) else {
            let kinds: Vec<&str> = lookup::ALL.iter().map(|k| k.name).collect();
            let help = suggest(kind, &kinds).unwrap_or_else(|| format!("the lookup kinds are {}", kinds.join(", ")));
            self.error(format!("`{kind}` is not a kind of lookup"), span, Some(help));
            return None;
        };
        if !trellis_core::valid_name(name) {
            self.error(
                format!("`{name}` is not a valid lookup name"),
                span,
                Some("use lower-case letters, digits and `_`, starting with a letter".into()),
            );
            return None;
        }
        Some(address)
    }

    fn parse_lookup(&mut self, address: LookupAddress, node: &Node, span: Span) -> Option<Lookup> {
        let kind = address.kind;
        // `availability_zones.all:` with nothing after it: no filters.
        let body = match node {
            Node::Mapping(m) => Some(m),
            Node::Scalar(s) if s.as_str().is_empty() => None,
            other => {
                let span = Some(self.node_span(other));
                self.error(
                    format!("`{address}` must be a mapping of filters, found {}", node_kind(other)),
                    span,
                    Some(format!(
                        "its filters are {}",
                        kind.filters.iter().map(|f| f.name).collect::<Vec<_>>().join(", ")
                    )),
                );
                return None;
            }
        };
        let mut filters = BTreeMap::new();
        let mut ok = true;
        for (key, value) in body.into_iter().flat_map(|b| b.iter()) {
            let Some(filter) = kind.filter(key.as_str()) else {
                let names: Vec<&str> = kind.filters.iter().map(|f| f.name).collect();
                let help = suggest(key.as_str(), &names)
                    .unwrap_or_else(|| format!("a `{}` lookup takes {}", kind.name, names.join(", ")));
                let at = Some(self.scalar_span(key));
                self.error(format!("`{address}` has no filter `{}`", key.as_str()), at, Some(help));
                ok = false;
                continue;
            };
            match self.parse_filter(&address, value, &filter.ty) {
                Some(f) => {
                    filters.insert(filter.name.to_string(), f);
                }
                None => ok = false,
            }
        }
        for f in kind.filters {
            if let (Some(d), false) = (f.default, filters.contains_key(f.name)) {
                filters.insert(f.name.to_string(), Filter::Value(Value::str(d)));
            }
        }
        let given: Vec<&str> = filters.keys().map(String::as_str).collect();
        if let (true, Some(missing)) = (ok, kind.missing(&given)) {
            self.error(
                format!("`{address}` needs {missing}"),
                Some(span),
                Some("without it the lookup could match anything; see the lookup kinds in docs/spec.md".to_string()),
            );
            ok = false;
        }
        let found = self.opts.lookups.and_then(|answers| answers.get(&address)).cloned();
        ok.then_some(Lookup { address, filters, found, span })
    }

    /// One filter's value: written out, from `${var.*}`, or a whole `${lookup.*}`.
    fn parse_filter(&mut self, me: &LookupAddress, node: &Node, ty: &Type) -> Option<Filter> {
        if let Node::Scalar(s) = node {
            if let Some(body) = lone_ref(s.as_str()).filter(|b| b.starts_with("lookup.")) {
                let at = self.scalar_span(s);
                let (address, attr) = self.checked_lookup(&body, at)?;
                if address == *me {
                    self.error(format!("`{me}` refers to itself"), Some(at), None);
                    return None;
                }
                if attr.list && !matches!(ty, Type::List(_)) {
                    self.error(
                        format!("`${{{body}}}` is a list, and this filter takes a single value"),
                        Some(at),
                        None,
                    );
                    return None;
                }
                return Some(Filter::From { lookup: address, attr: attr.name.to_string() });
            }
            let resource = split(s.as_str()).ok().and_then(|pieces| {
                pieces.into_iter().find_map(|p| match p {
                    Piece::Ref { body, .. } if !["var.", "env.", "stack."].iter().any(|v| body.starts_with(v)) => {
                        Some(body)
                    }
                    _ => None,
                })
            });
            if let Some(body) = resource.filter(|b| !b.starts_with("lookup.")) {
                let span = Some(self.scalar_span(s));
                self.error(
                    format!("a filter of `{me}` cannot read `${{{body}}}`"),
                    span,
                    Some(
                        "lookups are read before anything is made: give a value, a `${var.NAME}`, a `${lookup...}` or a `${stack...}`"
                            .into(),
                    ),
                );
                return None;
            }
            if s.as_str().contains("${lookup.") {
                let span = Some(self.scalar_span(s));
                self.error(
                    "a filter reads another lookup whole, not inside text",
                    span,
                    Some("write the reference alone, e.g. `vpc_id: ${lookup.vpc.main}`".into()),
                );
                return None;
            }
        }
        match self.parse_value(node, ty)?.as_literal() {
            Some(v) => Some(Filter::Value(v)),
            None => {
                let span = Some(self.node_span(node));
                self.error(
                    format!("a filter of `{me}` cannot read a resource"),
                    span,
                    Some(
                        "lookups are read before anything is made: give a value, a `${var.NAME}` or a `${lookup...}`"
                            .into(),
                    ),
                );
                None
            }
        }
    }

    /// A lookup cycle (`a` filters on `b`, `b` on `a`) has no first lookup to make.
    fn check_lookup_cycles(&mut self) {
        let needs: BTreeMap<LookupAddress, BTreeSet<LookupAddress>> =
            self.lookups.iter().map(|(a, l)| (a.clone(), l.needs())).collect();
        let mut done: BTreeSet<LookupAddress> = BTreeSet::new();
        loop {
            let ready: Vec<LookupAddress> = needs
                .iter()
                .filter(|(a, n)| !done.contains(*a) && n.iter().all(|d| done.contains(d) || !needs.contains_key(d)))
                .map(|(a, _)| a.clone())
                .collect();
            if ready.is_empty() {
                break;
            }
            done.extend(ready);
        }
        let stuck: Vec<String> = needs.keys().filter(|a| !done.contains(*a)).map(ToString::to_string).collect();
        if let Some(first) = stuck.first() {
            let span = self.lookups.values().find(|l| l.address.to_string() == *first).map(|l| l.span);
            self.error(
                format!("lookup cycle: {} each filter on another", stuck.join(", ")),
                span,
                Some("nothing in a cycle can be looked up first: give one of these filters a value".into()),
            );
        }
    }

    /// `lookup.KIND.NAME[.ATTR]` checked: declared, and the attribute exists.
    pub(super) fn checked_lookup(&mut self, body: &str, at: Span) -> Option<(LookupAddress, &'static LookupAttr)> {
        let Some((kind, name, attr)) = parts(body) else {
            self.error(
                format!("`${{{body}}}` is not a reference to a lookup"),
                Some(at),
                Some("write `${lookup.KIND.NAME}` or `${lookup.KIND.NAME.ATTRIBUTE}`".into()),
            );
            return None;
        };
        let address = LookupAddress::parse(kind, name).filter(|a| self.lookup_names.contains(a));
        let Some(address) = address else {
            let declared: Vec<String> = self.lookup_names.iter().map(ToString::to_string).collect();
            let help = suggest(&format!("lookup.{kind}.{name}"), &declared)
                .or_else(|| Some(format!("declare it: `lookups: {{ {kind}.{name}: {{ ... }} }}`")));
            self.error(format!("`lookup.{kind}.{name}` is not declared under `lookups:`"), Some(at), help);
            return None;
        };
        if self.current.is_some() {
            self.reads.insert(address.to_string());
        }
        let attr_name = attr.unwrap_or(address.kind.default_attr);
        let Some(a) = address.kind.attr(attr_name) else {
            let help = suggest(attr_name, address.kind.attrs.iter().map(|a| a.name));
            self.error(format!("`{address}` has no attribute `{attr_name}`"), Some(at), help);
            return None;
        };
        Some((address, a))
    }

    /// `${lookup...}` inside a value: the answer's text, checked against `ty`. Read
    /// without answers, the value is unknown (`self.unresolved`).
    pub(super) fn lookup_ref(&mut self, body: &str, at: Span, ty: &Type) -> Option<String> {
        let (address, attr) = self.checked_lookup(body, at)?;
        if attr.list {
            self.error(
                format!("`${{{body}}}` is a list and stands alone"),
                Some(at),
                Some(format!("give it as a whole list value, e.g. `subnet_ids: ${{{body}}}`")),
            );
            return None;
        }
        if let Type::Ref(want) = ty {
            if attr.id_of != Some(*want) {
                self.error(
                    format!("expected the id of {}, but `${{{body}}}` is {}", a_kind(want), attr.doc.to_lowercase()),
                    Some(at),
                    Some(format!("refer to {} like `${{{want}.NAME}}`, or to a `{want}` lookup", a_kind(want))),
                );
                return None;
            }
        }
        match self.answer(&address, attr.name) {
            Some(Value::Str(s)) => Some(s),
            Some(other) => Some(other.to_string()),
            None => {
                self.unresolved = true;
                Some(String::new())
            }
        }
    }

    pub(super) fn answer_of(&self, address: &LookupAddress, attr: &str) -> Option<Value> {
        self.answer(address, attr)
    }

    fn answer(&self, address: &LookupAddress, attr: &str) -> Option<Value> {
        self.opts.lookups.and_then(|answers| answers.get(address)).and_then(|a| a.get(attr)).cloned()
    }

    /// A lone `${lookup.KIND.NAME.ATTR}` whose attribute is a list, where a list is due.
    pub(super) fn lookup_list(&self, s: &MarkedScalarNode) -> bool {
        let Some(body) = lone_ref(s.as_str()) else { return false };
        let Some((kind, _, attr)) = parts(&body) else { return false };
        let Some(kind) = lookup::get(kind) else { return false };
        kind.attr(attr.unwrap_or(kind.default_attr)).is_some_and(|a| a.list)
    }

    /// The items of a list a lookup found, each checked as a value of `item`; `None`
    /// for the whole list when it is not known yet (read without answers).
    pub(super) fn expand_lookup_list(&mut self, s: &MarkedScalarNode, item: &Type) -> Option<Option<Vec<Expr>>> {
        let body = lone_ref(s.as_str())?;
        let at = self.scalar_span(s);
        let (address, attr) = self.checked_lookup(&body, at)?;
        if let Type::Ref(want) = item {
            if attr.id_of != Some(*want) {
                self.error(
                    format!("expected ids of {want}s, but `${{{body}}}` is {}", attr.doc.to_lowercase()),
                    Some(at),
                    None,
                );
                return None;
            }
        }
        let Some(found) = self.answer(&address, attr.name) else { return Some(None) };
        let mut out = Vec::new();
        for v in found.as_list() {
            let text = v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string());
            out.push(Expr::Lit(self.coerce(&text, item, at)?));
        }
        Some(Some(out))
    }
}

/// The body of a scalar that is one `${...}` and nothing else.
fn lone_ref(text: &str) -> Option<String> {
    match split(text).ok()?.as_slice() {
        [Piece::Ref { body, .. }] => Some(body.clone()),
        _ => None,
    }
}
