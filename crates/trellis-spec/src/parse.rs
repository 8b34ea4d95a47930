//! From marked YAML nodes to a validated [`Spec`], collecting every problem.

mod lookups;
mod refactor;
mod repeat;
mod stacks;

use std::collections::{BTreeMap, BTreeSet};

use ipnet::Ipv4Net;
use marked_yaml::loader::LoaderOptions;
use marked_yaml::types::{MarkedMappingNode, MarkedScalarNode};
use marked_yaml::{LoadError as YamlError, Node};
use trellis_core::kinds;
use trellis_core::schema::{Default, Kind, Mode, Object, Type};
use trellis_core::{Address, AddressError, Expr, LookupAddress, Part, Ref, Value};

use crate::diag::{did_you_mean, Diagnostic, Diagnostics, LineIndex, SourceFile, Span};
use crate::template::{split, Piece};
use crate::{LoadOptions, Lookup, Resource, S3Backend, Spec};
use repeat::{Each, Repeat};

/// AWS's limits on a tag: 128 characters of key, 256 of value.
const TAG_KEY_MAX: usize = 128;
const TAG_VALUE_MAX: usize = 256;

const TOP_KEYS: &[&str] =
    &["stack", "region", "vars", "backend", "stacks", "lookups", "resources", "outputs", "moved", "removed"];
const S3_KEYS: &[&str] = &["bucket", "key", "region", "lock_lease"];
const META_KEYS: &[&str] = &["depends_on", "sensitive", "count", "for_each", "ignore_changes"];

pub(crate) struct Parser<'a> {
    file: &'a SourceFile,
    lines: LineIndex,
    opts: &'a LoadOptions<'a>,
    diags: Vec<Diagnostic>,
    vars: BTreeMap<String, String>,
    /// Every resource, and every copy of a repeated one, the spec declares.
    addresses: BTreeSet<Address>,
    /// The resources with `count` or `for_each`, by their address without a key.
    repeats: BTreeMap<Address, Repeat>,
    /// Resources whose `count` or `for_each` is wrong (reported already): references to
    /// them are not reported again.
    broken: BTreeSet<Address>,
    /// The copy being read.
    each: Option<Each>,
    /// Every lookup the spec declares, then each as read.
    lookup_names: BTreeSet<LookupAddress>,
    lookups: BTreeMap<LookupAddress, Lookup>,
    /// The other stacks declared under `stacks:` or read by `${stack...}`.
    stacks: BTreeMap<String, crate::StackRef>,
    /// What the resource being read reads from lookups and other stacks.
    reads: BTreeSet<String>,
    /// This spec's own stack name, once read.
    me: Option<String>,
    /// Set when the scalar being read uses a lookup whose answer is not known.
    unresolved: bool,
    /// Where each reference from one resource to another is written, for cycle errors.
    edge_sites: BTreeMap<(Address, Address), Span>,
    current: Option<Address>,
    /// True while parsing a sensitive attribute: `${env.NAME}` stays a reference.
    keep_env: bool,
    /// Where the value being parsed sits (`security_group.app`, `.ingress`, `[1]`), to
    /// name a nested entry in a message.
    path: Vec<String>,
}

fn suggest(word: &str, candidates: impl IntoIterator<Item = impl AsRef<str>>) -> Option<String> {
    let owned: Vec<String> = candidates.into_iter().map(|c| c.as_ref().to_string()).collect();
    did_you_mean(word, owned.iter().map(String::as_str)).map(|s| format!("did you mean `{s}`?"))
}

/// The schema's defaults for what the spec leaves out: a fixed or stack-derived value,
/// or one read from the object another attribute refers to.
fn fill_defaults(kind: &Kind, attrs: &mut BTreeMap<String, Expr>, stack: &str, name: &str) {
    for a in kind.object.attrs {
        if a.mode == Mode::Optional && !attrs.contains_key(a.name) {
            if let Some(v) = a.default_value(stack, name) {
                attrs.insert(a.name.to_string(), Expr::Lit(v));
            }
        }
        if let (Default::RefAttr { via, attr }, false) = (a.default, attrs.contains_key(a.name)) {
            if let Some(Expr::Ref(r)) = attrs.get(via) {
                let r = Ref { address: r.address.clone(), attr: Some(attr.to_string()) };
                attrs.insert(a.name.to_string(), Expr::Ref(r));
            }
        }
    }
}

/// Up to 32 letters, digits and `-`, starting with a letter: it prefixes AWS names.
pub fn valid_stack_name(name: &str) -> bool {
    name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && name.len() <= 32
}

fn node_kind(node: &Node) -> &'static str {
    match node {
        Node::Scalar(_) => "a single value",
        Node::Sequence(_) => "a list",
        Node::Mapping(_) => "a mapping",
    }
}

impl<'a> Parser<'a> {
    pub(crate) fn new(file: &'a SourceFile, opts: &'a LoadOptions<'a>) -> Self {
        Parser {
            file,
            lines: LineIndex::new(&file.text),
            opts,
            diags: Vec::new(),
            vars: BTreeMap::new(),
            addresses: BTreeSet::new(),
            repeats: BTreeMap::new(),
            broken: BTreeSet::new(),
            each: None,
            lookup_names: BTreeSet::new(),
            lookups: BTreeMap::new(),
            stacks: BTreeMap::new(),
            me: None,
            reads: BTreeSet::new(),
            unresolved: false,
            edge_sites: BTreeMap::new(),
            current: None,
            keep_env: false,
            path: Vec::new(),
        }
    }

    fn error(&mut self, message: impl Into<String>, span: Option<Span>, help: Option<String>) {
        let mut d = Diagnostic::new(message, span);
        d.help = help;
        self.diags.push(d);
    }

    fn marker_span(&self, m: Option<&marked_yaml::Marker>, len: usize) -> Option<Span> {
        m.map(|m| self.lines.span_at(&self.file.text, m.character(), len))
    }

    fn scalar_span(&self, s: &MarkedScalarNode) -> Span {
        let len = s.as_str().chars().count().max(1);
        self.marker_span(s.span().start(), len).unwrap_or_default()
    }

    fn node_span(&self, node: &Node) -> Span {
        match node {
            Node::Scalar(s) => self.scalar_span(s),
            other => self.marker_span(other.span().start(), 1).unwrap_or_default(),
        }
    }

    pub(crate) fn run(mut self) -> Result<Spec, Diagnostics> {
        let spec = self.parse_document();
        if self.diags.is_empty() {
            if let Some(spec) = spec {
                return Ok(spec);
            }
        }
        self.diags.sort_by_key(|d| d.span.map(|s| s.start).unwrap_or(usize::MAX));
        Err(Diagnostics { file: self.file.clone(), items: self.diags })
    }

    fn parse_document(&mut self) -> Option<Spec> {
        let options = LoaderOptions::default().error_on_duplicate_keys(true);
        let root = match marked_yaml::parse_yaml_with_options(0, &self.file.text, options) {
            Ok(root) => root,
            Err(e) => {
                self.yaml_error(e);
                return None;
            }
        };
        let Some(top) = root.as_mapping() else {
            let span = Some(self.node_span(&root));
            self.error("a spec must be a mapping with `stack` and `resources`", span, None);
            return None;
        };
        for key in top.keys() {
            if !TOP_KEYS.contains(&key.as_str()) {
                let help = suggest(key.as_str(), TOP_KEYS)
                    .or_else(|| Some(format!("the top-level keys are {}", TOP_KEYS.join(", "))));
                let span = Some(self.scalar_span(key));
                self.error(format!("unknown top-level key `{}`", key.as_str()), span, help);
            }
        }

        self.parse_vars(top);
        let stack = self.parse_stack(top);
        self.me = stack.clone();
        self.parse_stacks(top);
        self.parse_lookups(top);
        let region = top.get_node("region").and_then(|n| self.literal_string(n, "region"));

        let resources = self.parse_resources(top, stack.as_deref());
        let outputs = self.parse_outputs(top);
        let moves = self.parse_moves(top);
        let removed = self.parse_removed(top);
        let backend = top.get_node("backend").and_then(|n| self.parse_backend(n, stack.as_deref()));
        let spec = Spec {
            file: self.file.clone(),
            stack: stack?,
            region,
            vars: self.vars.clone(),
            resources,
            repeats: self.repeats.iter().map(|(a, r)| (a.clone(), r.public())).collect(),
            outputs,
            lookups: std::mem::take(&mut self.lookups),
            backend,
            stacks: std::mem::take(&mut self.stacks),
            moves,
            removed,
        };
        self.check_cycles(&spec);
        self.check_references(&spec);
        Some(spec)
    }

    /// `resources:`, each `kind.name:` entry parsed against its kind's schema.
    fn parse_resources(&mut self, top: &MarkedMappingNode, stack: Option<&str>) -> BTreeMap<Address, Resource> {
        let mut resources = BTreeMap::new();
        match top.get_node("resources") {
            None => {
                let span = self.marker_span(top.span().start(), 1);
                self.error(
                    "the spec has no `resources`",
                    span,
                    Some("add `resources:` with at least one `kind.name:` entry".into()),
                );
            }
            Some(Node::Mapping(m)) => {
                self.collect_addresses(m);
                for (key, node) in m.iter() {
                    for r in self.parse_resource(key, node, stack.unwrap_or("stack")) {
                        resources.insert(r.address.clone(), r);
                    }
                }
                self.current = None;
            }
            Some(other) => {
                let span = Some(self.node_span(other));
                self.error(
                    format!("`resources` must be a mapping of `kind.name` to attributes, found {}", node_kind(other)),
                    span,
                    None,
                );
            }
        }
        resources
    }

    /// `outputs:`, names to values.
    fn parse_outputs(&mut self, top: &MarkedMappingNode) -> BTreeMap<String, Expr> {
        let mut outputs = BTreeMap::new();
        match top.get_node("outputs") {
            None => {}
            Some(Node::Mapping(m)) => {
                for (key, node) in m.iter() {
                    if let Some(e) = self.parse_any(node) {
                        outputs.insert(key.as_str().to_string(), e);
                    }
                }
            }
            Some(other) => {
                let span = Some(self.node_span(other));
                self.error(
                    format!("`outputs` must be a mapping of names to values, found {}", node_kind(other)),
                    span,
                    None,
                );
            }
        }
        outputs
    }

    fn yaml_error(&mut self, e: YamlError) {
        let (message, span, help) = match &e {
            YamlError::ScanError(m, se) => {
                let span = self.marker_span(Some(m), 1);
                let help = span.and_then(|at| self.unquoted_reference_in_flow(at));
                (format!("not valid YAML: {}", se.info()), span, help)
            }
            YamlError::DuplicateKey(inner) => {
                let first = self.scalar_span(&inner.prev_key);
                (
                    format!("`{}` is given twice", inner.key.as_str()),
                    Some(self.scalar_span(&inner.key)),
                    Some(format!("the first is at line {}; keep one", first.line)),
                )
            }
            YamlError::TopLevelMustBeMapping(m) | YamlError::TopLevelMustBeSequence(m) => (
                "a spec must be a mapping with `stack` and `resources`".to_string(),
                self.marker_span(Some(m), 1),
                None,
            ),
            YamlError::UnexpectedAnchor(m) => (
                "YAML anchors are not supported in specs".to_string(),
                self.marker_span(Some(m), 1),
                Some("use `vars` for shared values".into()),
            ),
            YamlError::MappingKeyMustBeScalar(m) => {
                ("keys must be plain words".to_string(), self.marker_span(Some(m), 1), None)
            }
            YamlError::UnexpectedTag(m) => {
                ("YAML tags (`!name`) are not supported in specs".to_string(), self.marker_span(Some(m), 1), None)
            }
        };
        self.error(message, span, help);
    }

    /// The usual cause of a YAML error inside `[ ]` or `{ }`: a `${...}` written there
    /// unquoted, where YAML reads its `{` as the start of a mapping. Says what to write.
    fn unquoted_reference_in_flow(&self, at: Span) -> Option<String> {
        let text = &self.file.text;
        let reference = text[..at.start].ends_with('$').then(|| &text[at.start - 1..])?;
        let reference = &reference[..reference.find('}').map(|i| i + 1).unwrap_or(reference.len().min(2))];
        let line_start = text[..at.start].rfind('\n').map(|i| i + 1).unwrap_or(0);
        let flow = text[line_start..at.start].contains(['[', '{']);
        flow.then(|| {
            format!(
                "inside `[ ]` or `{{ }}` a reference must be quoted: `\"{reference}\"`; or write the list one item a line (`- {reference}`)"
            )
        })
    }

    fn parse_vars(&mut self, top: &MarkedMappingNode) {
        match top.get_node("vars") {
            None => {}
            Some(Node::Mapping(m)) => {
                for (key, node) in m.iter() {
                    match node {
                        Node::Scalar(s) => {
                            self.vars.insert(key.as_str().to_string(), s.as_str().to_string());
                        }
                        other => {
                            let span = Some(self.node_span(other));
                            self.error(
                                format!(
                                    "variable `{}` must be a single value, found {}",
                                    key.as_str(),
                                    node_kind(other)
                                ),
                                span,
                                None,
                            );
                        }
                    }
                }
            }
            Some(other) => {
                let span = Some(self.node_span(other));
                self.error(
                    format!("`vars` must be a mapping of names to default values, found {}", node_kind(other)),
                    span,
                    None,
                );
            }
        }
        for (name, value) in &self.opts.vars {
            if self.vars.contains_key(name) {
                self.vars.insert(name.clone(), value.clone());
            } else {
                let help = suggest(name, self.vars.keys()).or_else(|| Some("declare it under `vars:` first".into()));
                self.diags.push(Diagnostic {
                    message: format!("--var {name}: the spec declares no variable `{name}`"),
                    span: None,
                    label: None,
                    help,
                });
            }
        }
    }

    /// `backend: { s3: { bucket, key, region, lock_lease } }`.
    fn parse_backend(&mut self, node: &Node, stack: Option<&str>) -> Option<S3Backend> {
        let help = || Some("write `backend: { s3: { bucket: NAME, key: PATH } }`".to_string());
        let Some(m) = node.as_mapping().filter(|m| m.len() == 1) else {
            let span = Some(self.node_span(node));
            self.error("`backend` must name one store: `s3`", span, help());
            return None;
        };
        let (kind, body) = m.iter().next().expect("one entry");
        if kind.as_str() != "s3" {
            let span = Some(self.scalar_span(kind));
            let hint = suggest(kind.as_str(), ["s3"])
                .or_else(|| Some("the state is kept locally unless `backend: { s3: ... }` says otherwise".into()));
            self.error(
                format!("unknown backend `{}`; trellis keeps state locally or in `s3`", kind.as_str()),
                span,
                hint,
            );
            return None;
        }
        let Some(s3) = body.as_mapping() else {
            let span = Some(self.node_span(body));
            self.error(format!("`backend.s3` must be a mapping, found {}", node_kind(body)), span, help());
            return None;
        };
        let mut ok = true;
        for key in s3.keys() {
            if !S3_KEYS.contains(&key.as_str()) {
                let span = Some(self.scalar_span(key));
                let hint = suggest(key.as_str(), S3_KEYS)
                    .or_else(|| Some(format!("`backend.s3` takes {}", S3_KEYS.join(", "))));
                self.error(format!("unknown key `{}` in `backend.s3`", key.as_str()), span, hint);
                ok = false;
            }
        }
        let bucket = match s3.get_node("bucket") {
            Some(n) => self.literal_string(n, "backend.s3.bucket"),
            None => {
                let span = Some(self.scalar_span(kind));
                self.error(
                    "`backend.s3` has no `bucket`",
                    span,
                    Some("add `bucket: NAME`: an S3 bucket that exists (versioning on is wise)".into()),
                );
                None
            }
        };
        let key = match s3.get_node("key") {
            Some(n) => self.literal_string(n, "backend.s3.key"),
            None => Some(format!("trellis/{}.json", stack.unwrap_or("stack"))),
        };
        let region = s3.get_node("region").and_then(|n| self.literal_string(n, "backend.s3.region"));
        let lock_lease = match s3.get_node("lock_lease") {
            None => Some(None),
            Some(n) => {
                let text = self.literal_string(n, "backend.s3.lock_lease")?;
                match humantime::parse_duration(&text) {
                    Ok(d) => Some(Some(d)),
                    Err(e) => {
                        let span = Some(self.node_span(n));
                        self.error(
                            format!("`{text}` is not a duration: {e}"),
                            span,
                            Some("write it like `30m` or `2h`".into()),
                        );
                        None
                    }
                }
            }
        };
        if let Some(key) = key.as_deref().filter(|k| k.is_empty() || k.ends_with('/')) {
            let span = s3.get_node("key").map(|n| self.node_span(n));
            self.error(
                format!("`{key}` is not an object key"),
                span,
                Some("name the state object, such as `trellis/web.json`".into()),
            );
            ok = false;
        }
        let (bucket, key, lock_lease) = (bucket?, key?, lock_lease?);
        ok.then_some(S3Backend { bucket, key, region, lock_lease })
    }

    fn parse_stack(&mut self, top: &MarkedMappingNode) -> Option<String> {
        let Some(node) = top.get_node("stack") else {
            let span = self.marker_span(top.span().start(), 1);
            self.error("the spec has no `stack` name", span, Some("add `stack: my-stack` at the top".into()));
            return None;
        };
        let name = self.literal_string(node, "stack")?;
        if !valid_stack_name(&name) {
            let span = Some(self.node_span(node));
            self.error(
                format!("`{name}` is not a usable stack name"),
                span,
                Some("use up to 32 letters, digits and `-`, starting with a letter: it prefixes AWS names".into()),
            );
            return None;
        }
        Some(name)
    }

    /// A value that must be a plain string after `${var.*}` / `${env.*}` substitution.
    fn literal_string(&mut self, node: &Node, what: &str) -> Option<String> {
        match self.parse_value(node, &Type::Str)? {
            Expr::Lit(Value::Str(s)) => Some(s),
            _ => {
                let span = Some(self.node_span(node));
                self.error(format!("`{what}` cannot refer to resources"), span, None);
                None
            }
        }
    }

    /// Every address the spec declares, each copy of a repeated resource included, before
    /// any body is read: a reference may point forward.
    fn collect_addresses(&mut self, m: &MarkedMappingNode) {
        for (key, node) in m.iter() {
            let Ok(a) = key.as_str().parse::<Address>() else { continue };
            if a.key.is_some() {
                continue;
            }
            let Some(body) = node.as_mapping() else {
                self.addresses.insert(a);
                continue;
            };
            match self.parse_repeat(body) {
                Some(None) => {
                    self.addresses.insert(a);
                }
                Some(Some(repeat)) => {
                    self.addresses.extend(repeat.copies().into_iter().map(|each| a.instance(each.key)));
                    self.repeats.insert(a, repeat);
                }
                None => {
                    self.broken.insert(a);
                }
            }
        }
    }

    /// One `kind.name:` entry: one resource, or one per copy when it has `count` or
    /// `for_each` (reading stops at the first copy with errors: the others would repeat
    /// them).
    fn parse_resource(&mut self, key: &MarkedScalarNode, node: &Node, stack: &str) -> Vec<Resource> {
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

    fn parse_instance(
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
        self.check_limits(&address, body, &attrs, key_span);
        let reads = std::mem::take(&mut self.reads);
        Some(Resource {
            address,
            kind,
            attrs: attrs.into(),
            depends_on,
            sensitive,
            ignore_changes,
            reads,
            span: key_span,
        })
    }

    /// What AWS cannot hold, refused here rather than half-way through an apply: the
    /// address as the `trellis:address` tag and any tag value over 256 characters, a tag
    /// key over 128, a name over its kind's limit.
    fn check_limits(
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
        for a in address.kind.object.attrs.iter() {
            let (Some(max), Some(Expr::Lit(Value::Str(text)))) = (a.max_len, attrs.get(a.name)) else { continue };
            let n = text.chars().count();
            if n > max {
                let span = body.get_node(a.name).map(|node| self.node_span(node)).unwrap_or(key_span);
                let hint = if body.get_node(a.name).is_some() {
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
    fn parse_address(&mut self, key: &MarkedScalarNode, key_span: Span) -> Option<Address> {
        match key.as_str().parse::<Address>() {
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
                let help = suggest(&kind, kinds::names())
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
    fn check_secret_sources(
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
    fn read_files(&mut self, kind: &Kind, body: &MarkedMappingNode, attrs: &mut BTreeMap<String, Expr>) -> Option<()> {
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
    fn parse_sensitive(&mut self, node: &Node, kind: &Kind, me: &Address) -> BTreeSet<String> {
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

    /// `ignore_changes: [attr, tags.KEY, ...]`: attributes (or keys of a mapping
    /// attribute) whose differences are neither planned nor repaired once the object exists.
    fn parse_ignore_changes(&mut self, node: &Node, kind: &Kind, me: &Address) -> BTreeSet<String> {
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

    fn parse_depends_on(&mut self, node: &Node, me: &Address) -> BTreeSet<Address> {
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
            let parsed = s.as_str().parse::<Address>();
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
    fn parse_object(
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

    fn parse_value(&mut self, node: &Node, ty: &Type) -> Option<Expr> {
        match (ty, node) {
            (Type::List(item) | Type::Set(item), Node::Sequence(items)) => {
                let mut parsed: Vec<Option<Vec<Expr>>> = Vec::with_capacity(items.len());
                for (i, n) in items.iter().enumerate() {
                    self.path.push(format!("[{i}]"));
                    // An item `${kind.name[*]}` stands for all the copies, in its place.
                    match n {
                        Node::Scalar(s) if self.splat(s).is_some() => parsed.push(self.expand_splat(s, item)),
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
    fn parse_any(&mut self, node: &Node) -> Option<Expr> {
        match node {
            Node::Scalar(s) if self.splat(s).is_some() => self.expand_splat(s, &Type::Str).map(Expr::List),
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

    fn parse_scalar(&mut self, s: &MarkedScalarNode, ty: &Type) -> Option<Expr> {
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
    fn resolve_ref(&mut self, body: &str, at: Span, ty: &Type) -> Option<Part> {
        let segments: Vec<&str> = body.split('.').collect();
        match segments.as_slice() {
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

    /// `text` (`kind.name`) is not declared: says so, with the closest address.
    fn not_declared(&mut self, text: &str, at: Span) {
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
    fn check_ref(&mut self, address: Address, attr: Option<String>, at: Span, ty: &Type) -> Option<Ref> {
        let target = address.kind;
        if let Some(a) = &attr {
            if target.attr(a).is_none() {
                let help = suggest(a, target.attr_names());
                self.error(format!("`{address}` has no attribute `{a}`"), Some(at), help);
                return None;
            }
        }
        let r = Ref { address: address.clone(), attr };
        if let Type::Ref(want) = ty {
            if *want != target.name || r.attr_name() != "id" {
                self.error(
                    format!(
                        "expected the id of a {want}, but `{r}` is {}",
                        if r.attr_name() == "id" {
                            format!("a {}", target.name)
                        } else {
                            format!("its `{}` attribute", r.attr_name())
                        }
                    ),
                    Some(at),
                    Some(format!("refer to a {want} like `${{{want}.NAME}}`")),
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
    fn coerce(&mut self, text: &str, ty: &Type, span: Span) -> Option<Value> {
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
            Type::Enum(words) => {
                if words.contains(&text) {
                    Some(Value::str(text))
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

    /// The checks each kind declares against the objects it refers to
    /// (`Kind::ref_checks`: a read replica's source keeps backups).
    fn check_references(&mut self, spec: &Spec) {
        for r in spec.resources.values() {
            for rule in r.kind.ref_checks {
                let Some(Expr::Ref(other)) = r.attrs.get(rule.via) else { continue };
                let Some(that) = spec.resources.get(&other.address) else { continue };
                let read = |name: &str| that.attrs.get(name).and_then(Expr::as_literal);
                let Some((message, help)) = (rule.check)(&r.address.to_string(), &other.address.to_string(), &read)
                else {
                    continue;
                };
                let span = self.edge_sites.get(&(r.address.clone(), other.address.clone())).copied();
                self.diags.push(Diagnostic::new(message, span).help(help));
            }
        }
    }

    fn check_cycles(&mut self, spec: &Spec) {
        if let Some(cycle) = spec.graph().find_cycle() {
            let path: Vec<String> = cycle.iter().map(ToString::to_string).collect();
            let span = self.edge_sites.get(&(cycle[0].clone(), cycle[1].clone())).copied();
            self.diags.push(
                Diagnostic::new(format!("dependency cycle: {}", path.join(" -> ")), span)
                    .label(format!("`{}` needs `{}` here", cycle[0], cycle[1]))
                    .help("nothing in a cycle can be created first: remove one of these references"),
            );
        }
    }
}
