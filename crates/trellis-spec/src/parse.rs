//! From marked YAML nodes to a validated [`Spec`], collecting every problem.

mod components;
mod drift;
mod expressions;
mod limits;
mod lookups;
mod refactor;
mod repeat;
mod resource;
mod stacks;
mod value;
mod vars;

pub use limits::refused as aws_refuses;

pub(crate) use vars::flow_text;

use std::collections::{BTreeMap, BTreeSet};

use marked_yaml::loader::LoaderOptions;
use marked_yaml::types::{MarkedMappingNode, MarkedScalarNode};
use marked_yaml::{LoadError as YamlError, Node};
use trellis_core::schema::{Default, Kind, Mode, Severity, Type};
use trellis_core::{Address, Expr, LookupAddress, Ref, Value};

use crate::diag::{did_you_mean, Diagnostic, Diagnostics, LineIndex, SourceFile, Span};
use crate::{LoadOptions, Lookup, Resource, S3Backend, Spec};
use repeat::{Each, Repeat};

/// AWS's limits on a tag: 128 characters of key, 256 of value.
const TAG_KEY_MAX: usize = 128;
const TAG_VALUE_MAX: usize = 256;

const TOP_KEYS: &[&str] = &[
    "stack",
    "region",
    "vars",
    "backend",
    "stacks",
    "lookups",
    "resources",
    "outputs",
    "moved",
    "removed",
    "checks",
    "drift",
    "components",
    "tags",
];
const S3_KEYS: &[&str] = &["bucket", "key", "region", "lock_lease"];
const META_KEYS: &[&str] = &["depends_on", "sensitive", "count", "for_each", "ignore_changes", "waive", "drift"];

pub(crate) struct Parser<'a> {
    file: &'a SourceFile,
    lines: LineIndex,
    opts: &'a LoadOptions<'a>,
    diags: Vec<Diagnostic>,
    /// Each variable's value as text (a list as `["a", "b"]`).
    vars: BTreeMap<String, String>,
    /// The list variables' items.
    list_vars: BTreeMap<String, Vec<String>>,
    /// The map variables' entries.
    map_vars: BTreeMap<String, BTreeMap<String, repeat::EachValue>>,
    /// Inside a component: the inputs given as references to objects outside it (or
    /// values built from them), in the terms of the whole stack.
    ref_vars: BTreeMap<String, Expr>,
    /// Inside a component: which use of it is being read, for messages.
    used_by: Option<components::UseSite>,
    /// Inside a component: its path, which every address declared here carries.
    scope: Option<trellis_core::ComponentPath>,
    /// Inside a component: what is wrong with the inputs its use gives, by input, reported
    /// by the use where the value is written.
    /// (`true`: at the input's name, for one the component does not declare).
    input_problems: Vec<(String, Diagnostic, bool)>,
    /// Inside a component: the names of its outputs as declared.
    declared_outputs: BTreeSet<String>,
    /// The components this document uses, by name, with each copy's outputs.
    components: BTreeMap<String, components::Used>,
    /// The problems found in the files of the components used.
    more: Vec<Diagnostics>,
    /// The files of the components read, and the chain of them being read now.
    sources: Vec<SourceFile>,
    chain: Vec<std::path::PathBuf>,
    /// The git sources' lock and cache, opened at the first git source and shared with
    /// the components read.
    git: Option<std::rc::Rc<std::cell::RefCell<crate::sources::Sources>>>,
    /// `trellis get`: every git source's ref resolved again, and the lock rewritten.
    pub(crate) update_sources: bool,
    /// `tags:` of the stack and of each component it is inside: under every resource's own.
    default_tags: BTreeMap<String, Expr>,
    var_types: BTreeMap<String, vars::VarType>,
    /// Declared variables given no value (each reported once, at its declaration):
    /// what refers to them is unknown, not wrong.
    unset_vars: BTreeSet<String>,
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
                let r = Ref::new(r.address.clone(), Some(attr.to_string()));
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
            list_vars: BTreeMap::new(),
            map_vars: BTreeMap::new(),
            ref_vars: BTreeMap::new(),
            used_by: None,
            scope: None,
            components: BTreeMap::new(),
            declared_outputs: BTreeSet::new(),
            input_problems: Vec::new(),
            more: Vec::new(),
            sources: Vec::new(),
            chain: Vec::new(),
            default_tags: BTreeMap::new(),
            git: None,
            update_sources: false,
            var_types: BTreeMap::new(),
            unset_vars: BTreeSet::new(),
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
        if let Some(git) = &self.git {
            if self.diags.is_empty() && self.more.is_empty() {
                if let Err(e) = git.borrow().save() {
                    self.diags.push(Diagnostic::new(e, None));
                }
            }
        }
        if self.diags.is_empty() && self.more.is_empty() {
            if let Some(spec) = spec {
                return Ok(spec);
            }
        }
        self.diags.sort_by_key(|d| d.span.map(|s| s.start).unwrap_or(usize::MAX));
        Err(Diagnostics { file: self.file.clone(), items: self.diags, more: self.more })
    }

    /// `a` declared in the document being read: inside a component, at its path.
    pub(super) fn scoped(&self, a: Address) -> Address {
        if a.component.is_none() && self.scope.is_some() {
            a.in_component(self.scope.clone())
        } else {
            a
        }
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
        self.parse_default_tags(top);

        if let Some(Node::Mapping(m)) = top.get_node("resources") {
            self.collect_addresses(m);
        }
        let mut resources = self.parse_components(top, stack.as_deref().unwrap_or("stack"));
        resources.extend(self.parse_resources(top, stack.as_deref()));
        let outputs = self.parse_outputs(top);
        let moves = self.parse_moves(top);
        let removed = self.parse_removed(top);
        let backend = top.get_node("backend").and_then(|n| self.parse_backend(n, stack.as_deref()));
        let fail_on = top.get_node("checks").and_then(|n| self.parse_checks(n));
        let declared: BTreeSet<Address> = resources.keys().cloned().collect();
        let drift = top.get_node("drift").map(|n| self.parse_drift_settings(n, &declared)).unwrap_or_default();
        let spec = Spec {
            fail_on,
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
            drift,
            sources: std::mem::take(&mut self.sources),
            default_tags: self
                .default_tags
                .iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_literal()?.as_str()?.to_string())))
                .collect(),
        };
        self.check_cycles(&spec);
        self.check_references(&spec);
        Some(spec)
    }

    /// `resources:`, each `kind.name:` entry parsed against its kind's schema.
    fn parse_resources(&mut self, top: &MarkedMappingNode, stack: Option<&str>) -> BTreeMap<Address, Resource> {
        let mut resources = BTreeMap::new();
        match top.get_node("resources") {
            // A stack made of components alone.
            None if top.get_node("components").is_some() => {}
            None => {
                let span = self.marker_span(top.span().start(), 1);
                self.error(
                    "the spec has no `resources`",
                    span,
                    Some("add `resources:` with at least one `kind.name:` entry".into()),
                );
            }
            Some(Node::Mapping(m)) => {
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
                    // `instance.bastion:` holding attributes is a resource written one
                    // level too low, not an output.
                    if let Ok(address) = key.as_str().parse::<Address>() {
                        let span = Some(self.scalar_span(key));
                        self.error(
                            format!("output `{}` is named like a resource: `{address}` is a {}", key.as_str(), address.kind.name),
                            span,
                            Some(format!(
                                "a resource goes under `resources:`; an output's name is a plain word (`{}_id: ${{{address}}}`)",
                                address.name
                            )),
                        );
                        continue;
                    }
                    let node = match self.output_when(node) {
                        Some(Some(value)) => value,
                        // `when` is false: the output is not given, and its value (which may
                        // name copies that are not made) is not read.
                        Some(None) => continue,
                        None => node,
                    };
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

    /// An output written long, `{ value: ..., when: ..., description: ... }`: `Some` of
    /// its value when `when` holds (or is not given), `Some(None)` when it does not.
    /// `None` for an output written as its value alone.
    fn output_when<'n>(&mut self, node: &'n Node) -> Option<Option<&'n Node>> {
        const LONG: [&str; 3] = ["value", "when", "description"];
        let m = node.as_mapping()?;
        let value = m.get_node("value")?;
        if !m.keys().all(|k| LONG.contains(&k.as_str())) {
            return None; // a mapping that happens to have a `value` key
        }
        let Some(when) = m.get_node("when") else { return Some(Some(value)) };
        match self.parse_value(when, &Type::Bool) {
            Some(Expr::Lit(Value::Bool(holds))) => Some(holds.then_some(value)),
            Some(_) => {
                let span = Some(self.node_span(when));
                self.error(
                    "an output's `when` must be known when the spec is read",
                    span,
                    Some("give `true`, `false` or a boolean variable: `when: ${var.enable_replica}`".into()),
                );
                Some(None)
            }
            None => Some(None),
        }
    }

    fn yaml_error(&mut self, e: YamlError) {
        let (message, span, help) = match &e {
            YamlError::ScanError(m, se) => {
                let span = self.marker_span(Some(m), 1);
                let help = span.and_then(|at| {
                    self.unquoted_reference_in_flow(at).or_else(|| self.unquoted_colon_in_expression(at))
                });
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

    /// A `? :` written unquoted: YAML reads its `: ` as a mapping's. Says to quote it.
    fn unquoted_colon_in_expression(&self, at: Span) -> Option<String> {
        let text = &self.file.text;
        let line_start = text[..at.start.min(text.len())].rfind('\n').map(|i| i + 1).unwrap_or(0);
        let before = &text[line_start..at.start.min(text.len())];
        before
            .contains("${")
            .then(|| "a value holding `: ` (as `${a ? b : c}` does) must be quoted: `'${a ? b : c}'`".to_string())
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
    /// `checks: { fail_on: high }`: the severity from which a finding makes `plan` and
    /// `apply` refuse.
    fn parse_checks(&mut self, node: &Node) -> Option<Severity> {
        let Some(m) = node.as_mapping() else {
            let span = Some(self.node_span(node));
            self.error("`checks` must be a mapping", span, Some("e.g. `checks: { fail_on: high }`".into()));
            return None;
        };
        let mut out = None;
        for (key, value) in m.iter() {
            if key.as_str() != "fail_on" {
                let span = Some(self.scalar_span(key));
                self.error(
                    format!("`checks` has no setting `{}`", key.as_str()),
                    span,
                    Some("it has `fail_on`".into()),
                );
                continue;
            }
            let text = self.literal_string(value, "checks.fail_on")?;
            match text.parse::<Severity>() {
                Ok(s) => out = Some(s),
                Err(e) => {
                    let span = Some(self.node_span(value));
                    self.error(e, span, suggest(&text, Severity::ALL.map(Severity::word)));
                }
            }
        }
        out
    }

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
            let a = self.scoped(a);
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
