//! A resource's block: its address, copies, meta keys, attributes checked against its
//! kind's object, defaults, files read, and what AWS cannot hold.

use std::collections::{BTreeMap, BTreeSet};

use marked_yaml::types::{MarkedMappingNode, MarkedScalarNode};
use marked_yaml::Node;
use trellis_core::kinds;
use trellis_core::schema::{Default, Kind, Mode, Object, Type};
use trellis_core::{Address, AddressError, Expr, Value};

use super::*;
use crate::diag::{did_you_mean, Span};
use crate::Resource;

impl Parser<'_> {
    /// One `kind.name:` entry: one resource, or one per copy when it has `count` or
    /// `for_each` (reading stops at the first copy with errors: the others would repeat
    /// them).
    pub(super) fn parse_resource(&mut self, key: &MarkedScalarNode, node: &Node, stack: &str) -> Vec<Resource> {
        let key_span = self.scalar_span(key);
        let Some(address) = self.parse_address(key, key_span) else { return Vec::new() };
        let Node::Mapping(body) = node else {
            let span = Some(self.node_span(node));
            self.error(format!("`{address}` must be a mapping of attributes, found {}", node_kind(node)), span, None);
            return Vec::new();
        };
        let Some(repeat) = self.repeats.get(&address).cloned() else {
            if self.broken.contains(&address) {
                return Vec::new();
            }
            return self.parse_instance(address, body, key_span, stack).into_iter().collect();
        };
        let mut out = Vec::new();
        for each in repeat.copies() {
            let copy = address.instance(each.key.clone());
            self.each = Some(each);
            let errors = self.diags.len();
            let parsed = self.parse_instance(copy, body, key_span, stack);
            self.each = None;
            out.extend(parsed);
            if self.diags.len() > errors {
                break;
            }
        }
        out
    }

    pub(super) fn parse_instance(
        &mut self,
        address: Address,
        body: &MarkedMappingNode,
        key_span: Span,
        stack: &str,
    ) -> Option<Resource> {
        let kind = address.kind;
        self.current = Some(address.clone());
        self.reads.clear();

        let mut depends_on = BTreeSet::new();
        if let Some(dnode) = body.get_node("depends_on") {
            depends_on = self.parse_depends_on(dnode, &address);
        }
        let mut sensitive: BTreeSet<String> =
            kind.object.attrs.iter().filter(|a| a.sensitive).map(|a| a.name.to_string()).collect();
        if let Some(snode) = body.get_node("sensitive") {
            sensitive.extend(self.parse_sensitive(snode, kind, &address));
        }
        let ignore_changes = match body.get_node("ignore_changes") {
            Some(node) => self.parse_ignore_changes(node, kind, &address),
            None => BTreeSet::new(),
        };
        let waive = match body.get_node("waive") {
            Some(node) => self.parse_waive(node, kind, &address),
            None => BTreeMap::new(),
        };
        let drift = body.get_node("drift").and_then(|node| self.parse_drift_policy(node, &address));
        self.path = vec![address.to_string()];
        let attrs = self.parse_object(&kind.object, body, key_span, META_KEYS, &address.to_string(), &sensitive);
        self.path.clear();
        let mut attrs = attrs?;
        self.check_secret_sources(kind, body, &attrs, &sensitive);
        fill_defaults(kind, &mut attrs, stack, &address.label());
        self.read_files(kind, body, &mut attrs)?;
        if let Some(Expr::Map(tags)) = attrs.get_mut("tags") {
            tags.entry("Name".into()).or_insert_with(|| Expr::Lit(Value::Str(format!("{stack}-{}", address.label()))));
        } else if kind.attr("tags").is_some() {
            let name = Expr::Lit(Value::Str(format!("{stack}-{}", address.label())));
            attrs.insert("tags".into(), Expr::Map([("Name".to_string(), name)].into_iter().collect()));
        }
        // The stack's (and its components') `tags:`, under the resource's own.
        if let Some(Expr::Map(tags)) = attrs.get_mut("tags") {
            for (k, v) in &self.default_tags {
                tags.entry(k.clone()).or_insert_with(|| v.clone());
            }
        }
        self.check_limits(&address, body, &attrs, key_span);
        let reads = std::mem::take(&mut self.reads);
        Some(Resource {
            address,
            kind,
            attrs: attrs.into(),
            depends_on,
            sensitive,
            ignore_changes,
            waive,
            drift,
            reads,
            span: key_span,
        })
    }

    /// What AWS cannot hold, refused here rather than half-way through an apply: the
    /// address as the `trellis:address` tag and any tag value over 256 characters, a tag
    /// key over 128, a name over its kind's limit.
    pub(super) fn check_limits(
        &mut self,
        address: &Address,
        body: &MarkedMappingNode,
        attrs: &BTreeMap<String, Expr>,
        key_span: Span,
    ) {
        let shown = |text: &str| -> String {
            let n = text.chars().count();
            if n <= 60 {
                text.to_string()
            } else {
                format!("{}… ({n} characters)", text.chars().take(40).collect::<String>())
            }
        };
        let tag = address.tag_value();
        if tag.chars().count() > TAG_VALUE_MAX {
            self.error(
                format!("`{}` is too long for AWS: its `trellis:address` tag would be {} characters, and AWS holds at most {TAG_VALUE_MAX}", shown(&address.to_string()), tag.chars().count()),
                Some(key_span),
                Some("give the resource a shorter name (or its copies shorter `for_each` keys)".into()),
            );
            return;
        }
        // A resource's own strings against their longest (given or made up from the
        // stack and the resource); every other limit is held where it is read
        // (`limits.rs`).
        for a in address.kind.object.attrs.iter() {
            let (Some(max), Some(Expr::Lit(Value::Str(text)))) = (a.max_len, attrs.get(a.name)) else { continue };
            let n = text.chars().count();
            if n > max {
                let span = body.get_node(a.name).map(|node| self.node_span(node)).unwrap_or(key_span);
                let named = address.kind.generated_name == Some(a.name);
                let hint = if body.get_node(a.name).is_some() && !named {
                    "shorten it".to_string()
                } else if body.get_node(a.name).is_some() {
                    format!("shorten it, or leave `{}` out and trellis generates a name that fits", a.name)
                } else {
                    "the default `<stack>-<name>` is too long here: give a shorter resource name, or set the name yourself".into()
                };
                self.error(
                    format!("`{}` of `{address}` is {n} characters; AWS takes at most {max}", a.name),
                    Some(span),
                    Some(hint),
                );
            }
        }
        if let Some(Expr::Map(tags)) = attrs.get("tags") {
            let at = body.get_node("tags").map(|node| self.node_span(node)).unwrap_or(key_span);
            for (k, v) in tags {
                if k.chars().count() > TAG_KEY_MAX {
                    self.error(
                        format!("the tag key `{}` is longer than the {TAG_KEY_MAX} characters AWS holds", shown(k)),
                        Some(at),
                        None,
                    );
                }
                if let Expr::Lit(Value::Str(text)) = v {
                    if text.chars().count() > TAG_VALUE_MAX {
                        let hint = (k == "Name" && body.get_node("tags").is_none()).then(|| {
                            "`Name` defaults to `<stack>-<name>`: give a shorter name, or set `tags: { Name: ... }`"
                                .to_string()
                        });
                        self.error(
                            format!(
                                "the value of tag `{}` is {} characters; AWS holds at most {TAG_VALUE_MAX}",
                                shown(k),
                                text.chars().count()
                            ),
                            Some(at),
                            hint,
                        );
                    }
                }
            }
        }
    }

    /// A resource's key, `kind.name`, with a did-you-mean for an unknown kind.
    pub(super) fn parse_address(&mut self, key: &MarkedScalarNode, key_span: Span) -> Option<Address> {
        match key.as_str().parse::<Address>().map(|a| self.scoped(a)) {
            Ok(a) if a.component.as_ref() != self.scope.as_ref() => {
                self.error(
                    format!("`{}` is a resource of a component: it is declared in the component's file", key.as_str()),
                    Some(key_span),
                    Some("declare it here as `kind.name`, or give the component an input".into()),
                );
                None
            }
            Ok(a) if a.key.is_some() => {
                self.error(
                    format!("`{a}` names a copy; a resource is declared once, as `{}`", a.resource()),
                    Some(key_span),
                    Some("give it `count: N` or `for_each: [...]` to make copies".into()),
                );
                None
            }
            Ok(a) => Some(a),
            Err(AddressError::UnknownKind { kind, .. }) => {
                let terraform = kinds::of_terraform(&kind).map(|(k, t)| t.hint(k.name));
                let help = terraform
                    .or_else(|| suggest(&kind, kinds::names()))
                    .or_else(|| Some(format!("the kinds are {}", kinds::names().collect::<Vec<_>>().join(", "))));
                self.error(format!("unknown resource kind `{kind}`"), Some(key_span), help);
                None
            }
            Err(e) => {
                self.error(
                    e.to_string(),
                    Some(key_span),
                    Some("resources are keyed `kind.name`, e.g. `subnet.public_a`".into()),
                );
                None
            }
        }
    }

    /// A sensitive attribute's value must come from the environment, never from the spec
    /// or a file the spec names.
    pub(super) fn check_secret_sources(
        &mut self,
        kind: &Kind,
        body: &MarkedMappingNode,
        attrs: &BTreeMap<String, Expr>,
        sensitive: &BTreeSet<String>,
    ) {
        for name in sensitive {
            let Some(e) = attrs.get(name) else { continue };
            if e.env_names().is_empty() {
                let span = body.get_node(name).map(|n| self.node_span(n));
                self.error(
                    format!("`{name}` is sensitive: its value must come from `${{env.NAME}}`"),
                    span,
                    Some("a value written in the spec is in git already; pass the secret in the environment".into()),
                );
            }
        }
        for (file, target) in kind.object.attrs.iter().filter_map(|a| Some((a.name, a.file_of?))) {
            if body.contains_key(file) && sensitive.contains(target) {
                let span = body.get_node(file).map(|n| self.node_span(n));
                self.error(
                    format!("a sensitive `{target}` cannot come from `{file}`"),
                    span,
                    Some(format!("give `{target}` with `${{env.NAME}}` for the secret part")),
                );
            }
        }
    }

    /// Each file-backed attribute (`Attr::file_of`) replaced by the text of the file it
    /// names, relative to the spec's directory, as the attribute it fills.
    pub(super) fn read_files(
        &mut self,
        kind: &Kind,
        body: &MarkedMappingNode,
        attrs: &mut BTreeMap<String, Expr>,
    ) -> Option<()> {
        for (file_attr, target) in kind.object.attrs.iter().filter_map(|a| Some((a.name, a.file_of?))) {
            let Some(file) = attrs.remove(file_attr) else { continue };
            let span = body.get_node(file_attr).map(|n| self.node_span(n));
            if attrs.contains_key(target) {
                self.error(format!("give `{target}` or `{file_attr}`, not both"), span, None);
                return None;
            }
            let name = file.as_literal().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
            let dir = std::path::Path::new(&self.file.name).parent().unwrap_or(std::path::Path::new(""));
            let path = dir.join(&name);
            match std::fs::read_to_string(&path) {
                Ok(text) => {
                    attrs.insert(target.into(), Expr::Lit(Value::Str(text)));
                }
                Err(e) => {
                    self.error(
                        format!("cannot read `{}`: {e}", path.display()),
                        span,
                        Some("the path is relative to the spec's directory".into()),
                    );
                    return None;
                }
            }
        }
        Some(())
    }

    /// `sensitive: [attr, ...]`: string attributes whose values stay out of plans and states.
    pub(super) fn parse_sensitive(&mut self, node: &Node, kind: &Kind, me: &Address) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        let Node::Sequence(items) = node else {
            let span = Some(self.node_span(node));
            self.error(
                "`sensitive` must be a list of attribute names",
                span,
                Some("e.g. `sensitive: [user_data]`".into()),
            );
            return out;
        };
        for item in items.iter() {
            let span = self.node_span(item);
            let name = item.as_scalar().map(|s| s.as_str().to_string()).unwrap_or_default();
            match kind.attr(&name) {
                Some(a) if a.settable() && matches!(a.ty, Type::Str) => {
                    out.insert(name);
                }
                Some(a) => self.error(
                    format!(
                        "`{me}.{name}` cannot be sensitive: only string attributes set in the spec can be ({})",
                        a.ty.describe()
                    ),
                    Some(span),
                    None,
                ),
                None => {
                    let help = suggest(&name, kind.attr_names());
                    self.error(format!("`{me}` has no attribute `{name}`"), Some(span), help);
                }
            }
        }
        out
    }

    /// `waive: { RULE: reason }`: findings of the kind's rules accepted on this resource,
    /// each with the reason the plan prints.
    pub(super) fn parse_waive(&mut self, node: &Node, kind: &Kind, me: &Address) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        let Some(m) = node.as_mapping() else {
            let span = Some(self.node_span(node));
            self.error(
                "`waive` must map rule ids to reasons",
                span,
                Some("e.g. `waive: { sg-ssh-open: \"the bastion; reviewed by security\" }`".into()),
            );
            return out;
        };
        for (key, value) in m.iter() {
            let id = key.as_str();
            if !kind.rules.iter().any(|r| r.id == id) {
                let span = Some(self.scalar_span(key));
                let ids: Vec<&str> = kind.rules.iter().map(|r| r.id).collect();
                let help = super::suggest(id, &ids).or_else(|| {
                    Some(if ids.is_empty() {
                        format!("`{}` has no rules to waive", kind.name)
                    } else {
                        format!("the rules of `{}` are {}", kind.name, ids.join(", "))
                    })
                });
                self.error(format!("`{me}` waives `{id}`, which is not a rule of its kind"), span, help);
                continue;
            }
            match self.literal_string(value, &format!("{me}.waive.{id}")) {
                Some(reason) if !reason.trim().is_empty() => {
                    out.insert(id.to_string(), reason);
                }
                Some(_) => {
                    let span = Some(self.node_span(value));
                    self.error(
                        format!("waiving `{id}` needs a reason"),
                        span,
                        Some("say why the risk is accepted".into()),
                    );
                }
                None => {}
            }
        }
        out
    }

    /// `ignore_changes: [attr, tags.KEY, ...]`: attributes (or keys of a mapping
    /// attribute) whose differences are neither planned nor repaired once the object exists.
    pub(super) fn parse_ignore_changes(&mut self, node: &Node, kind: &Kind, me: &Address) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        let Node::Sequence(items) = node else {
            let span = Some(self.node_span(node));
            self.error(
                "`ignore_changes` must be a list of attribute names",
                span,
                Some("e.g. `ignore_changes: [desired_capacity, tags.Team]`".into()),
            );
            return out;
        };
        let settable = || kind.object.attrs.iter().filter(|a| a.settable() && !a.local).map(|a| a.name);
        for item in items.iter() {
            let span = self.node_span(item);
            let path = item.as_scalar().map(|s| s.as_str().to_string()).unwrap_or_default();
            let (name, key) = match path.split_once('.') {
                Some((name, key)) => (name, Some(key)),
                None => (path.as_str(), None),
            };
            match kind.attr(name) {
                Some(a) if !a.settable() || a.local => self.error(
                    format!(
                        "`{me}.{name}` cannot be ignored: it is {}",
                        if a.local { "a trellis setting" } else { "set by AWS only" }
                    ),
                    Some(span),
                    None,
                ),
                Some(a) if key.is_some() && !matches!(a.ty, Type::Map) => self.error(
                    format!("`{path}`: `{name}` has no keys to ignore (its type is {})", a.ty.describe()),
                    Some(span),
                    Some(format!("ignore all of it: `{name}`")),
                ),
                Some(_) if key == Some("") => {
                    self.error(format!("`{path}` names no key"), Some(span), Some(format!("e.g. `{name}.Team`")))
                }
                Some(_) => {
                    out.insert(path.clone());
                }
                None => {
                    let help = suggest(name, settable());
                    self.error(format!("`{me}` has no attribute `{name}` to ignore"), Some(span), help);
                }
            }
        }
        out
    }

    pub(super) fn parse_depends_on(&mut self, node: &Node, me: &Address) -> BTreeSet<Address> {
        let mut out = BTreeSet::new();
        let Node::Sequence(items) = node else {
            let span = Some(self.node_span(node));
            self.error(
                "`depends_on` must be a list of addresses",
                span,
                Some("e.g. `depends_on: [internet_gateway.main]`".into()),
            );
            return out;
        };
        for item in items.iter() {
            let span = self.node_span(item);
            let Some(s) = item.as_scalar() else {
                self.error("`depends_on` lists addresses like `vpc.main`", Some(span), None);
                continue;
            };
            let parsed = s.as_str().parse::<Address>().map(|a| self.scoped(a));
            // A repeated resource named whole: every copy of it.
            let named: Vec<Address> = match &parsed {
                Ok(a) => match self.repeats.get(a) {
                    Some(r) => r.copies().into_iter().map(|each| a.instance(each.key)).collect(),
                    None => vec![a.clone()],
                },
                Err(_) => Vec::new(),
            };
            let whole_self = parsed.as_ref().is_ok_and(|a| self.repeats.contains_key(a) && *a == me.resource());
            if named.contains(me) || whole_self {
                self.error(format!("`{me}` cannot depend on itself"), Some(span), None);
                continue;
            }
            match parsed {
                Ok(a) if self.broken.contains(&a.resource()) => {}
                Ok(_) if named.iter().all(|a| self.addresses.contains(a)) => {
                    for a in named {
                        self.edge_sites.entry((me.clone(), a.clone())).or_insert(span);
                        out.insert(a);
                    }
                }
                Ok(a) => {
                    let help = suggest(&a.to_string(), self.addresses.iter().map(ToString::to_string));
                    self.error(format!("`depends_on` names `{a}`, which the spec does not declare"), Some(span), help);
                }
                Err(e) => self.error(e.to_string(), Some(span), None),
            }
        }
        out
    }

    /// Parses a mapping against an object schema: unknown keys, missing required
    /// attributes, each value's type, then the object's own check.
    pub(super) fn parse_object(
        &mut self,
        obj: &Object,
        body: &MarkedMappingNode,
        owner_span: Span,
        skip: &[&str],
        owner: &str,
        sensitive: &BTreeSet<String>,
    ) -> Option<BTreeMap<String, Expr>> {
        let mut attrs = BTreeMap::new();
        let mut key_spans = BTreeMap::new();
        let mut suggested: BTreeSet<&str> = BTreeSet::new();
        let errors_before = self.diags.len();
        for (key, node) in body.iter() {
            let name = key.as_str();
            if skip.contains(&name) {
                continue;
            }
            let key_span = self.scalar_span(key);
            let Some(attr) = obj.attr(name) else {
                if name == "name_prefix" {
                    let help = "trellis names what you leave unnamed after the stack and the resource \
                                (`STACK-NAME`), unique and kept across replacements: leave it out, or give the whole name";
                    self.error(format!("`{owner}` has no attribute `{name}`"), Some(key_span), Some(help.into()));
                    continue;
                }
                if let Some(other) = obj.other_name(name) {
                    // What it stands for is not reported missing as well.
                    for a in other.attrs() {
                        suggested.insert(a);
                    }
                    self.error(format!("`{owner}` has no attribute `{name}`"), Some(key_span), Some(other.hint()));
                    continue;
                }
                let names = obj.attrs.iter().filter(|a| a.settable()).map(|a| a.name);
                let close = did_you_mean(name, names.clone().chain(skip.iter().copied()));
                let help = close
                    .map(|s| format!("did you mean `{s}`?"))
                    .or_else(|| Some(format!("`{owner}` takes {}", names.collect::<Vec<_>>().join(", "))));
                // The attribute it stands for is not reported missing as well: one
                // mistake, one error.
                suggested.extend(close);
                self.error(format!("`{owner}` has no attribute `{name}`"), Some(key_span), help);
                continue;
            };
            if !attr.settable() {
                self.error(
                    format!("`{name}` is set by AWS and cannot be given in the spec"),
                    Some(key_span),
                    Some(format!("read it elsewhere as `${{{owner}.{name}}}`")),
                );
                continue;
            }
            key_spans.insert(name, key_span);
            self.keep_env = sensitive.contains(name);
            self.path.push(format!(".{name}"));
            let parsed = self.parse_value(node, &attr.ty);
            self.path.pop();
            self.keep_env = false;
            if let Some(e) = parsed {
                let span = self.node_span(node);
                let top = self.path.len() <= 1;
                self.check_aws_limits(attr, &e, span, top);
                attrs.insert(name.to_string(), e);
            }
        }
        // Defaults, here so that nested objects get theirs too (a default made of the
        // stack and resource names is filled in by `parse_resource`).
        for a in obj.attrs.iter().filter(|a| a.mode == Mode::Optional) {
            if attrs.contains_key(a.name) || matches!(a.default, Default::StackName) {
                continue;
            }
            if let Some(v) = a.default_value("", "") {
                attrs.insert(a.name.to_string(), Expr::Lit(v));
            }
        }
        for attr in obj.attrs.iter().filter(|a| a.mode == Mode::Required) {
            if !body.contains_key(attr.name) && !suggested.contains(attr.name) {
                self.error(
                    format!("`{owner}` is missing `{}`", attr.name),
                    Some(owner_span),
                    Some(format!("add `{}:` ({})", attr.name, attr.ty.describe())),
                );
            }
        }
        if let (Some(check), true) = (obj.check, self.diags.len() == errors_before) {
            let literal: Option<BTreeMap<String, Value>> =
                attrs.iter().map(|(k, e)| Some((k.clone(), e.as_literal().unwrap_or(Value::Unknown)))).collect();
            if let Some((at, message)) = literal.as_ref().and_then(check) {
                let span = key_spans.get(at).copied().unwrap_or(owner_span);
                self.error(message, Some(span), None);
            }
        }
        (self.diags.len() == errors_before).then_some(attrs)
    }
}
