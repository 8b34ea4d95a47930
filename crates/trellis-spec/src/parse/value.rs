//! One value against its schema type: scalars coerced, `${...}` references resolved
//! and checked, templates, lists, sets and mappings.

use std::collections::{BTreeMap, BTreeSet};

use ipnet::{Ipv4Net, Ipv6Net};
use marked_yaml::types::MarkedScalarNode;
use marked_yaml::Node;
use trellis_core::kinds;
use trellis_core::schema::Type;
use trellis_core::{Address, AddressError, Expr, Part, Ref, Value};

use super::*;
use crate::diag::Span;
use crate::template::{split, Piece};

impl Parser<'_> {
    pub(super) fn parse_value(&mut self, node: &Node, ty: &Type) -> Option<Expr> {
        // An expression standing alone: its value, as a value of `ty`.
        if let Node::Scalar(s) = node {
            if let Some(value) = self.lone_expression(s) {
                let at = self.scalar_span(s);
                return self.fit_expr(value?, ty, at, s.as_str().trim_start_matches("${").trim_end_matches('}'));
            }
        }
        // An input given as a reference, or a component's output, standing alone.
        if let Node::Scalar(s) = node {
            if let Some(body) = lone_ref(s.as_str()) {
                if let Some(e) = self.given_expr(&body) {
                    let at = self.scalar_span(s);
                    return self.fit_expr(e, ty, at, &body);
                }
            }
        }
        match (ty, node) {
            (Type::List(item) | Type::Set(item), Node::Sequence(items)) => {
                let mut parsed: Vec<Option<Vec<Expr>>> = Vec::with_capacity(items.len());
                for (i, n) in items.iter().enumerate() {
                    self.path.push(format!("[{i}]"));
                    // An item `${kind.name[*]}` stands for all the copies, in its place.
                    match n {
                        Node::Scalar(s) if self.splat(s).is_some() => parsed.push(self.expand_splat(s, item)),
                        Node::Scalar(s) if self.list_var(s).is_some() => parsed.push(self.expand_list_var(s, item)),
                        Node::Scalar(s) if self.lookup_list(s) => parsed.push(
                            self.expand_lookup_list(s, item)
                                .map(|l| l.unwrap_or_else(|| vec![Expr::Lit(Value::Unknown)])),
                        ),
                        // An output of another stack that is a list, in its place.
                        Node::Scalar(s) if self.is_stack_ref(s) => match self.stack_items(s, item) {
                            Some(items) => parsed.push(items),
                            None => parsed.push(self.parse_value(n, item).map(|e| vec![e])),
                        },
                        _ => parsed.push(self.parse_value(n, item).map(|e| vec![e])),
                    }
                    self.path.pop();
                }
                let parsed: Option<Vec<Vec<Expr>>> = parsed.into_iter().collect();
                let parsed = parsed?.into_iter().flatten().collect();
                Some(if matches!(ty, Type::Set(_)) { Expr::Set(parsed) } else { Expr::List(parsed) })
            }
            // A variable given no value: unknown, whatever it holds (reported where declared).
            (_, Node::Scalar(s)) if self.unset_var(s) => Some(Expr::Lit(Value::Unknown)),
            (Type::List(item) | Type::Set(item), Node::Scalar(s)) if self.list_var(s).is_some() => {
                let parsed = self.expand_list_var(s, item)?;
                Some(if matches!(ty, Type::Set(_)) { Expr::Set(parsed) } else { Expr::List(parsed) })
            }
            (Type::List(item) | Type::Set(item), Node::Scalar(s)) if self.splat(s).is_some() => {
                let parsed = self.expand_splat(s, item)?;
                Some(if matches!(ty, Type::Set(_)) { Expr::Set(parsed) } else { Expr::List(parsed) })
            }
            (Type::List(item) | Type::Set(item), Node::Scalar(s)) if self.lookup_list(s) => {
                let Some(parsed) = self.expand_lookup_list(s, item)? else { return Some(Expr::Lit(Value::Unknown)) };
                Some(if matches!(ty, Type::Set(_)) { Expr::Set(parsed) } else { Expr::List(parsed) })
            }
            (Type::List(item) | Type::Set(item), Node::Scalar(s)) if self.is_stack_ref(s) => {
                let Some(parsed) = self.stack_list(s, item)? else { return Some(Expr::Lit(Value::Unknown)) };
                Some(if matches!(ty, Type::Set(_)) { Expr::Set(parsed) } else { Expr::List(parsed) })
            }
            (Type::Object(obj), Node::Mapping(m)) => {
                let span = self.node_span(node);
                let owner = if self.path.is_empty() { "this entry".to_string() } else { self.path.concat() };
                self.parse_object(obj, m, span, &[], &owner, &BTreeSet::new()).map(Expr::Map)
            }
            (Type::Map, Node::Mapping(m)) => {
                let mut out = BTreeMap::new();
                for (k, v) in m.iter() {
                    out.insert(k.as_str().to_string(), self.parse_value(v, &Type::Str)?);
                }
                Some(Expr::Map(out))
            }
            // A document is any mapping; its strings may hold references.
            (Type::Document, Node::Mapping(_)) => self.parse_any(node),
            (Type::List(_) | Type::Set(_) | Type::Object(_) | Type::Map | Type::Document, other) => {
                let span = Some(self.node_span(other));
                let hint = match other {
                    Node::Scalar(_) if matches!(ty, Type::Document) => Some(
                        "write the document as a mapping, not a string: JSON is YAML too, so `{...}` without the quotes works"
                            .to_string(),
                    ),
                    // `${var.tags}` for a mapping, `${subnet.a}` for a list: one value
                    // where more are needed, which no quoting mends.
                    Node::Scalar(s) if lone_ref(s.as_str()).is_some() => lone_value_hint(s.as_str(), ty, &self.var_types),
                    Node::Scalar(s) if s.as_str().contains("${") => Some(
                        "a `${...}` inside `[...]` or `{...}` needs quotes, or write the list one `- item` per line"
                            .to_string(),
                    ),
                    _ => None,
                };
                self.error(format!("expected a {}, found {}", ty.describe(), node_kind(other)), span, hint);
                None
            }
            (_, Node::Scalar(s)) => self.parse_scalar(s, ty),
            (_, other) => {
                let span = Some(self.node_span(other));
                self.error(format!("expected a {}, found {}", ty.describe(), node_kind(other)), span, None);
                None
            }
        }
    }

    /// A value of any shape (outputs): scalars become strings or references.
    pub(super) fn parse_any(&mut self, node: &Node) -> Option<Expr> {
        if let Node::Scalar(s) = node {
            if let Some(value) = self.lone_expression(s) {
                return value;
            }
            if let Some(body) = lone_ref(s.as_str()) {
                if let Some(e) = self.given_expr(&body) {
                    return Some(e);
                }
            }
        }
        match node {
            Node::Scalar(s) if self.unset_var(s) => Some(Expr::Lit(Value::Unknown)),
            Node::Scalar(s) if self.splat(s).is_some() => self.expand_splat(s, &Type::Str).map(Expr::List),
            Node::Scalar(s) if self.list_var(s).is_some() => self.expand_list_var(s, &Type::Str).map(Expr::List),
            Node::Scalar(s) if self.lookup_list(s) => {
                Some(self.expand_lookup_list(s, &Type::Str)?.map_or(Expr::Lit(Value::Unknown), Expr::List))
            }
            Node::Scalar(s) if self.is_stack_ref(s) => match self.stack_items(s, &Type::Str) {
                Some(items) => items.map(Expr::List),
                None => self.parse_scalar(s, &Type::Str),
            },
            Node::Scalar(s) => self.parse_scalar(s, &Type::Str),
            Node::Sequence(items) => {
                let parsed: Option<Vec<Expr>> =
                    items.iter().map(|n| self.parse_any(n)).collect::<Vec<_>>().into_iter().collect();
                Some(Expr::List(parsed?))
            }
            Node::Mapping(m) => {
                let mut out = BTreeMap::new();
                for (k, v) in m.iter() {
                    out.insert(k.as_str().to_string(), self.parse_any(v)?);
                }
                Some(Expr::Map(out))
            }
        }
    }

    pub(super) fn parse_scalar(&mut self, s: &MarkedScalarNode, ty: &Type) -> Option<Expr> {
        let span = self.scalar_span(s);
        let text = s.as_str();
        // Positions inside the scalar are counted from its first character, past a quote.
        let quote = matches!(self.file.text[span.start..].chars().next(), Some('"' | '\''));
        let base = usize::from(quote);
        let pieces = match split(text) {
            Ok(p) => p,
            Err(e) => {
                let at = self.lines.shift(&self.file.text, span, base + e.offset, 2);
                self.error(
                    e.message,
                    Some(at),
                    Some("close it: `${kind.name}`, `${var.name}` or `${env.NAME}`".into()),
                );
                return None;
            }
        };
        let mut parts: Vec<Part> = Vec::new();
        let mut ok = true;
        self.unresolved = false;
        for piece in pieces {
            match piece {
                Piece::Text(t) => parts.push(Part::Lit(t)),
                Piece::Ref { body, offset } => {
                    let at = self.lines.shift(&self.file.text, span, base + offset, body.chars().count() + 3);
                    if let Some(e) = self.given_expr(&body) {
                        match self.given_parts(e, at, &body) {
                            Some(p) => parts.extend(p),
                            None => ok = false,
                        }
                        continue;
                    }
                    match self.expression(&body, at) {
                        Some(Ok(ast)) => {
                            let unresolved = self.unresolved;
                            match self.evaluate(&ast, at).and_then(|e| self.given_parts(e, at, &body)) {
                                Some(p) => parts.extend(p),
                                None => ok = false,
                            }
                            self.unresolved |= unresolved;
                            continue;
                        }
                        Some(Err(())) => {
                            ok = false;
                            continue;
                        }
                        None => {}
                    }
                    match self.resolve_ref(&body, at, ty) {
                        Some(p) => parts.push(p),
                        None => ok = false,
                    }
                }
            }
        }
        if !ok {
            return None;
        }
        // Merge adjacent text.
        let mut merged: Vec<Part> = Vec::new();
        for p in parts {
            match (merged.last_mut(), p) {
                (Some(Part::Lit(a)), Part::Lit(b)) => a.push_str(&b),
                (_, p) => merged.push(p),
            }
        }
        // Read without the lookups' answers (`validate`): known at plan time.
        if std::mem::take(&mut self.unresolved) {
            return Some(Expr::Lit(Value::Unknown));
        }
        match merged.as_slice() {
            [] => self.coerce("", ty, span).map(Expr::Lit),
            [Part::Lit(t)] => self.coerce(t, ty, span).map(Expr::Lit),
            [Part::Ref(r)] => Some(Expr::Ref(r.clone())),
            _ => {
                if !matches!(ty, Type::Str) {
                    self.error(
                        format!("a {} cannot be built from text and references", ty.describe()),
                        Some(span),
                        Some("give the reference alone, e.g. `${vpc.main}`".into()),
                    );
                    return None;
                }
                Some(Expr::Template(merged))
            }
        }
    }

    /// One `${...}`: a variable, an environment variable, or a reference to another
    /// resource's attribute, checked against that attribute's type. Longer than most: one
    /// arm per form of reference, each with its own messages and hints, read best whole.
    pub(super) fn resolve_ref(&mut self, body: &str, at: Span, ty: &Type) -> Option<Part> {
        if body.starts_with("component.") {
            // `given_expr` took every reference that reads: this one says why not.
            self.component_output(body, at, true)?;
            return None;
        }
        if let Some((name, index)) = var_element_of(body).filter(|(name, _)| self.ref_vars.contains_key(*name)) {
            let index = match index {
                "count.index" => self.each_ref(&["count", "index"], at)?,
                n => n.to_string(),
            };
            let item = match (&self.ref_vars[name], index.parse::<usize>()) {
                (Expr::List(items) | Expr::Set(items), Ok(i)) => items.get(i).cloned(),
                _ => None,
            };
            let Some(item) = item else {
                self.error(format!("input `{name}` has no element `[{index}]`"), Some(at), None);
                return None;
            };
            let mut parts = self.given_parts(item, at, body)?;
            return match parts.len() {
                1 => parts.pop(),
                _ => {
                    self.error(format!("`${{{body}}}` is built from text: give it whole"), Some(at), None);
                    None
                }
            };
        }
        if let Some((name, index)) = var_element_of(body) {
            let index = match index {
                "count.index" => self.each_ref(&["count", "index"], at)?,
                n => n.to_string(),
            };
            let Ok(index) = index.parse::<usize>() else {
                self.error(
                    format!("`[{index}]` is not an index of a list"),
                    Some(at),
                    Some("write a number, `[0]`, or `[count.index]` in a copy".into()),
                );
                return None;
            };
            return self.var_element(name, index, at);
        }
        // `LIST[count.index]` in a copy: the copy's own element of a list attribute.
        if let Some(list) = body.strip_suffix("[count.index]") {
            if element_of(&format!("{list}[0]")).is_some() {
                let index = self.each_ref(&["count", "index"], at)?;
                return self.resolve_ref(&format!("{list}[{index}]"), at, ty);
            }
        }
        if let Some((list, index)) = element_of(body) {
            return self.element_ref(list, index, at, ty);
        }
        let segments: Vec<&str> = body.split('.').collect();
        match segments.as_slice() {
            ["var", name] if self.list_vars.contains_key(*name) => {
                self.error(
                    format!("variable `{name}` is a list: it cannot be part of a text"),
                    Some(at),
                    Some(format!(
                        "give it alone as a list's value, `${{var.{name}}}`, or one element, `${{var.{name}[0]}}`"
                    )),
                );
                None
            }
            ["var", name] if self.unset_vars.contains(*name) => self.unset_ref(name),
            ["var", name] if self.map_vars.contains_key(*name) => {
                let one = self.map_vars[*name].keys().next().cloned().unwrap_or_else(|| "KEY".into());
                self.error(
                    format!("variable `{name}` is a map: it cannot be part of a text"),
                    Some(at),
                    Some(format!("take one value, `${{var.{name}.{one}}}`, or give it whole to `for_each`")),
                );
                None
            }
            ["var", name, key] => self.map_entry(name, &[key], at),
            ["var", name, key, field] => self.map_entry(name, &[key, field], at),
            ["var", name] => match self.vars.get(*name) {
                Some(v) => Some(Part::Lit(v.clone())),
                None => {
                    let help = suggest(name, self.vars.keys())
                        .or_else(|| Some(format!("declare it: `vars: {{ {name}: ... }}`")));
                    self.error(format!("unknown variable `{name}`"), Some(at), help);
                    None
                }
            },
            // A secret is read when it is needed (plan and apply), not here: `validate`
            // works without it.
            ["env", name] if self.keep_env => Some(Part::Env(name.to_string())),
            ["env", name] => match (self.opts.env)(name) {
                Some(v) => Some(Part::Lit(v)),
                None => {
                    self.error(
                        format!("environment variable `{name}` is not set"),
                        Some(at),
                        Some(format!("export {name}=... before running trellis")),
                    );
                    None
                }
            },
            ["count", ..] | ["each", ..] => self.each_ref(&segments, at).map(Part::Lit),
            ["lookup", ..] => self.lookup_ref(body, at, ty).map(Part::Lit),
            ["stack", ..] => self.stack_ref(body, at).map(Part::Lit),
            _ if body.contains('[') => {
                let Some(r) = repeat::indexed(body) else {
                    self.error(
                        format!("`${{{body}}}` is not a reference"),
                        Some(at),
                        Some(
                            "a copy is `${kind.name[0]}`, `${kind.name[\"key\"]}` or `${kind.name[0].attribute}`"
                                .into(),
                        ),
                    );
                    return None;
                };
                let address = self.indexed_address(&r, at)?;
                self.check_ref(address, r.attr.map(str::to_string), at, ty).map(Part::Ref)
            }
            [kind, name] | [kind, name, _] => {
                let attr = segments.get(2).map(|s| s.to_string());
                let text = format!("{kind}.{name}");
                if let Err(e) = text.parse::<Address>() {
                    if !matches!(e, AddressError::UnknownKind { .. }) {
                        self.error(e.to_string(), Some(at), None);
                        return None;
                    }
                }
                let address = self.declared(&text, at)?;
                if self.unindexed(&address, at) {
                    return None;
                }
                self.check_ref(address, attr, at, ty).map(Part::Ref)
            }
            [_, name, "output", key] => {
                self.error(
                    format!("`${{{body}}}` is not a reference"),
                    Some(at),
                    Some(format!("did you mean `${{stack.{name}.output.{key}}}`?")),
                );
                None
            }
            _ => {
                self.error(
                    format!("`${{{body}}}` is not a reference"),
                    Some(at),
                    Some("write `${kind.name}`, `${kind.name.attribute}`, `${var.name}`, `${env.NAME}`, `${lookup.KIND.NAME}` or `${stack.NAME.output.KEY}`".into()),
                );
                None
            }
        }
    }

    /// `${LIST[N]}`: element N of a list attribute of a resource or a lookup, checked
    /// like a reference to one element (a security group's id where one is due).
    fn element_ref(&mut self, list: &str, index: usize, at: Span, ty: &Type) -> Option<Part> {
        if list.starts_with("lookup.") {
            let (address, attr) = self.checked_lookup(list, at)?;
            if !attr.list {
                self.error(
                    format!("`${{{list}}}` is not a list: it has no `[{index}]`"),
                    Some(at),
                    Some(format!("write `${{{list}}}`")),
                );
                return None;
            }
            if let Type::Ref(want) = ty {
                if attr.id_of != Some(*want) {
                    self.error(
                        format!(
                            "expected the id of {}, but `${{{list}[{index}]}}` is one of {}",
                            a_kind(want),
                            attr.doc.to_lowercase()
                        ),
                        Some(at),
                        None,
                    );
                    return None;
                }
            }
            return match self.answer_of(&address, attr.name) {
                Some(Value::List(items)) => match items.get(index) {
                    Some(Value::Str(s)) => Some(Part::Lit(s.clone())),
                    Some(other) => Some(Part::Lit(other.to_string())),
                    None => {
                        let n = items.len();
                        self.error(
                            format!(
                                "`${{{list}}}` has {n} element{}: there is no `[{index}]`",
                                if n == 1 { "" } else { "s" }
                            ),
                            Some(at),
                            (n > 0).then(|| format!("the last is `[{}]`", n - 1)),
                        );
                        None
                    }
                },
                Some(_) | None => {
                    self.unresolved = true;
                    Some(Part::Lit(String::new()))
                }
            };
        }
        let Some(Part::Ref(mut r)) = self.resolve_ref(list, at, &Type::Str) else { return None };
        let inner = match r.address.kind.attr(r.attr_name()).map(|a| &a.ty) {
            Some(Type::List(t) | Type::Set(t)) => *t,
            _ => {
                self.error(
                    format!("`{r}` is not a list: it has no `[{index}]`"),
                    Some(at),
                    Some(format!("write `{r}` alone")),
                );
                return None;
            }
        };
        r.index = Some(index);
        if let Type::Ref(want) = ty {
            if !matches!(inner, Type::Ref(k) if k == want) {
                self.error(
                    format!("expected the id of {}, but `{r}` holds {}", a_kind(want), inner.describe()),
                    Some(at),
                    None,
                );
                return None;
            }
        }
        Some(Part::Ref(r))
    }

    /// `text` (`kind.name`) is not declared: says so, with the closest address.
    pub(super) fn not_declared(&mut self, text: &str, at: Span) {
        let candidates: Vec<String> = self
            .addresses
            .iter()
            .filter(|a| a.key.is_none())
            .chain(self.repeats.keys())
            .map(ToString::to_string)
            .chain(self.lookup_names.iter().map(ToString::to_string))
            .chain(["var.", "env."].map(String::from))
            .collect();
        let kind = text.split('.').next().unwrap_or(text);
        let help = suggest(text, &candidates).or_else(|| {
            kinds::get(kind).is_none().then(|| {
                format!("`{kind}` is not a kind; references are `${{kind.name}}`, `${{var.name}}` or `${{env.NAME}}`")
            })
        });
        self.error(format!("`{text}` is not declared in this spec"), Some(at), help);
    }

    /// A reference to `address`'s `attr`, checked: the attribute exists, it is what `ty`
    /// wants, and it is not the resource's own. Records where it is written.
    pub(super) fn check_ref(&mut self, address: Address, attr: Option<String>, at: Span, ty: &Type) -> Option<Ref> {
        let target = address.kind;
        if let Some(a) = &attr {
            if target.attr(a).is_none() {
                let help = suggest(a, target.attr_names());
                self.error(format!("`{address}` has no attribute `{a}`"), Some(at), help);
                return None;
            }
        }
        let r = Ref::new(address.clone(), attr);
        if let Type::Ref(want) = ty {
            // The object's id, or an attribute that holds an id of the kind wanted (a VPC's
            // `default_security_group_id`, an address's `allocation_id`).
            let own_id = *want == target.name && r.attr_name() == "id";
            let holds_one = target.attr(r.attr_name()).is_some_and(|a| matches!(a.ty, Type::Ref(k) if k == *want));
            if !own_id && !holds_one {
                self.error(
                    format!(
                        "expected the id of {}, but `{r}` is {}",
                        a_kind(want),
                        if r.attr_name() == "id" {
                            a_kind(target.name)
                        } else {
                            format!("its `{}` attribute", r.attr_name())
                        }
                    ),
                    Some(at),
                    Some(format!("refer to {} like `${{{want}.NAME}}`", a_kind(want))),
                );
                return None;
            }
        }
        if let Some(me) = &self.current {
            if *me == address {
                let hint = matches!(ty, Type::Ref(k) if *k == me.kind.name)
                    .then(|| "write `self` for the object's own id (e.g. `source_group: self`)".to_string());
                self.error(format!("`{me}` refers to itself"), Some(at), hint);
                return None;
            }
            self.edge_sites.entry((me.clone(), address)).or_insert(at);
        }
        Some(r)
    }

    /// A scalar's text as a value of `ty`. Longer than most: one arm per scalar type, each
    /// with its own message; splitting them would only scatter the table.
    pub(super) fn coerce(&mut self, text: &str, ty: &Type, span: Span) -> Option<Value> {
        let fail = |p: &mut Self, msg: String, help: Option<String>| {
            p.error(msg, Some(span), help);
            None
        };
        match ty {
            Type::Str => Some(Value::str(text)),
            Type::Int => match text.parse::<i64>() {
                Ok(i) => Some(Value::Int(i)),
                Err(_) => fail(self, format!("expected an integer, found `{text}`"), None),
            },
            Type::Version => match text.parse::<i64>() {
                Ok(i) if i >= 1 => Some(Value::Int(i)),
                _ if text == "$Default" || text == "$Latest" => Some(Value::str(text)),
                _ => fail(
                    self,
                    format!("`{text}` is not a version"),
                    Some("give a version number, or `$Default` or `$Latest` as AWS names them".into()),
                ),
            },
            Type::Bool => match text {
                "true" => Some(Value::Bool(true)),
                "false" => Some(Value::Bool(false)),
                _ => fail(self, format!("expected `true` or `false`, found `{text}`"), None),
            },
            Type::Cidr => match text.parse::<Ipv4Net>() {
                Ok(net) if net.trunc() == net => Some(Value::str(text)),
                Ok(net) => fail(
                    self,
                    format!("`{text}` has host bits set past its /{} prefix", net.prefix_len()),
                    Some(format!("did you mean `{}`?", net.trunc())),
                ),
                Err(_) => fail(
                    self,
                    format!("`{text}` is not an IPv4 CIDR block"),
                    Some("write it as address/prefix, e.g. `10.0.0.0/16`".into()),
                ),
            },
            Type::IpCidr if text.contains(':') => match text.parse::<Ipv6Net>() {
                // As AWS gives it back: compressed, lower case.
                Ok(net) if net.trunc() == net => Some(Value::Str(net.to_string())),
                Ok(net) => fail(
                    self,
                    format!("`{text}` has host bits set past its /{} prefix", net.prefix_len()),
                    Some(format!("did you mean `{}`?", net.trunc())),
                ),
                Err(_) => fail(
                    self,
                    format!("`{text}` is not an IPv6 CIDR block"),
                    Some("write it as address/prefix, e.g. `::/0` or `2600:1f18:6a2::/56`".into()),
                ),
            },
            Type::IpCidr => self.coerce(text, &Type::Cidr, span),
            Type::Enum(words) => {
                // Any case, written down in AWS's spelling: what is sent and read back
                // is that, so `MySQL` plans no change against `mysql`.
                if let Some(word) = words.iter().find(|w| w.eq_ignore_ascii_case(text)) {
                    Some(Value::str(*word))
                } else {
                    let help = suggest(text, words.iter()).or_else(|| Some(format!("use one of {}", words.join(", "))));
                    fail(self, format!("`{text}` is not allowed here"), help)
                }
            }
            Type::Protocol => {
                let p = match text.to_ascii_lowercase().as_str() {
                    "tcp" | "6" => "tcp",
                    "udp" | "17" => "udp",
                    "icmp" | "1" => "icmp",
                    "all" | "-1" => "all",
                    _ => {
                        return fail(
                            self,
                            format!("`{text}` is not a protocol"),
                            suggest(text, ["tcp", "udp", "icmp", "all"])
                                .or_else(|| Some("use tcp, udp, icmp or all".into())),
                        )
                    }
                };
                Some(Value::str(p))
            }
            Type::Port => {
                let port = |s: &str| s.trim().parse::<u16>().ok();
                match text.split_once('-') {
                    None => match port(text) {
                        Some(p) => Some(Value::Int(p.into())),
                        None => fail(
                            self,
                            format!("`{text}` is not a port"),
                            Some("a port is 0 to 65535, a range `8000-8010`".into()),
                        ),
                    },
                    Some((a, b)) => match (port(a), port(b)) {
                        (Some(a), Some(b)) if a == b => Some(Value::Int(a.into())),
                        (Some(a), Some(b)) if a < b => Some(Value::Str(format!("{a}-{b}"))),
                        _ => fail(
                            self,
                            format!("`{text}` is not a port range"),
                            Some("write `from-to` with from < to, e.g. `8000-8010`".into()),
                        ),
                    },
                }
            }
            Type::Ref(kind) => {
                let prefix = kinds::get(kind).map(|k| k.id_prefix).unwrap_or("");
                // `self`: the object's own id, inside an object of the kind it names.
                let own_kind = self.current.as_ref().is_some_and(|me| me.kind.name == *kind);
                if text == "self" && own_kind {
                    Some(Value::str("self"))
                } else if text.starts_with(prefix) && text.len() > prefix.len() {
                    Some(Value::str(text))
                } else {
                    fail(
                        self,
                        format!("`{text}` is not a {kind} id"),
                        Some(format!("refer to one in this spec as `${{{kind}.NAME}}`, or give an existing id like `{prefix}0123abcd`")),
                    )
                }
            }
            Type::List(_) | Type::Set(_) | Type::Object(_) | Type::Map | Type::Document => {
                fail(self, format!("expected a {}, found a single value", ty.describe()), None)
            }
        }
    }
}

/// A kind's name with its article: `a vpc`, `an instance`.
pub(super) fn a_kind(kind: &str) -> String {
    let vowel = kind.starts_with(['a', 'e', 'i', 'o', 'u']);
    format!("{} {kind}", if vowel { "an" } else { "a" })
}

/// `var.NAME[N]` or `var.NAME[count.index]`: the variable's name and the index as written.
fn var_element_of(body: &str) -> Option<(&str, &str)> {
    let (name, rest) = body.strip_prefix("var.")?.split_once('[')?;
    Some((name, rest.strip_suffix(']')?))
}

/// `LIST[N]` where LIST names an attribute (`kind.name.attr`, `kind.name[key].attr`,
/// `lookup.KIND.NAME.attr`), not a copy (`kind.name[0]`): the list and the index.
fn element_of(body: &str) -> Option<(&str, usize)> {
    let open = body.rfind('[')?;
    let index: usize = body.strip_suffix(']')?[open + 1..].parse().ok()?;
    let list = &body[..open];
    // An attribute follows the address: `kind.name.attr`, or `.attr` after a copy's key.
    let names_attribute = match list.rfind(']') {
        Some(k) => list[k + 1..].starts_with('.'),
        None => list.matches('.').count() >= 2,
    };
    names_attribute.then_some((list, index))
}

/// The body of `text` when it is one `${...}` and nothing else.
fn lone_ref(text: &str) -> Option<String> {
    let pieces = crate::template::split(text).ok()?;
    let [Piece::Ref { body, .. }] = pieces.as_slice() else { return None };
    Some(body.clone())
}

/// The hint for one reference given where a list or a mapping is needed.
fn lone_value_hint(text: &str, ty: &Type, var_types: &BTreeMap<String, super::vars::VarType>) -> Option<String> {
    let body = lone_ref(text)?;
    match (ty, body.strip_prefix("var.")) {
        (Type::List(_) | Type::Set(_), Some(name)) if var_types.contains_key(name) => {
            Some(format!("declare it a list, `{name}: {{ type: list }}`, or write the list: `[\"{text}\"]`"))
        }
        (Type::List(_) | Type::Set(_), _) => Some(format!("write it as a list of one: `[\"{text}\"]`")),
        (Type::Map | Type::Object(_), Some(_)) => {
            Some("a variable holds a string, a number, a boolean or a list: write the mapping out here".into())
        }
        _ => None,
    }
}
