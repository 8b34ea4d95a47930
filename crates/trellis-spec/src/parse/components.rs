//! `components:`: a stack made of parts. A component is a directory holding
//! `component.yaml` (its `inputs`, declared as `vars` are, its `resources`, `outputs`,
//! `tags` and the `components` it uses in turn). Each use (each copy, with `count` or
//! `for_each`) is read here by a parser of its own over the component's file, with the
//! use's inputs as its variables and the use's path in front of every address it
//! declares (`component.web.target_group.app`). Like copies, components end in the
//! parser: every later stage sees plain resources at their full addresses.
//!
//! Inputs given as literals become the component's variables (checked against their
//! declared type, as `--var` values are); inputs that hold references to the stack's
//! objects (`${vpc.main}`, `${component.net.output.subnet_ids}`) stay expressions in
//! the stack's terms, and `${var.NAME}` inside the component stands for them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use marked_yaml::loader::LoaderOptions;
use marked_yaml::types::{MarkedMappingNode, MarkedScalarNode};
use marked_yaml::Node;
use trellis_core::schema::Type;
use trellis_core::{component_path_text, valid_name, Address, ComponentStep, Expr, InstanceKey, Part, Value};

use super::repeat::{EachValue, Repeat};
use super::vars::flow_map;
use super::{node_kind, suggest, Parser};
use crate::diag::{Diagnostics, SourceFile, Span};
use crate::sources::{cache_dir, GitSource, Sources};
use crate::template::{split, Piece};
use crate::{LoadOptions, Resource};

/// The file a component's directory holds.
pub const COMPONENT_FILE: &str = "component.yaml";
const USE_KEYS: &[&str] = &["source", "inputs", "count", "for_each"];
const COMPONENT_KEYS: &[&str] = &["inputs", "resources", "outputs", "components", "tags", "description"];
/// Components inside components, at most this deep (a guard against a source that
/// names a directory above itself in a loop the chain check cannot see).
const MAX_DEPTH: usize = 16;

/// Which use of a component is being read: its address and where it is written.
#[derive(Debug, Clone)]
pub(crate) struct UseSite {
    pub address: String,
    pub site: String,
}

/// A component this document uses.
#[derive(Debug, Clone, Default)]
pub(crate) struct Used {
    repeat: Option<Repeat>,
    /// Each copy's outputs (`None` for a component without copies).
    outputs: BTreeMap<Option<InstanceKey>, BTreeMap<String, Expr>>,
    /// Its outputs' names as declared, to tell a misspelt one from a missing one.
    declared: BTreeSet<String>,
    /// Reported already: what refers to it is not reported again.
    broken: bool,
}

/// The value of a literal expression as the text a variable is given (`--var` form).
fn literal_text(e: &Expr) -> Option<String> {
    match e.as_literal()? {
        Value::Str(s) => Some(s),
        Value::Int(i) => Some(i.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::List(items) => {
            let words: Option<Vec<String>> = items.iter().map(|v| v.as_str().map(str::to_string)).collect();
            Some(super::flow_text(&words?))
        }
        Value::Map(m) => {
            let mut out = BTreeMap::new();
            for (k, v) in m {
                let value = match v {
                    Value::Str(s) => EachValue::Text(s),
                    Value::Map(fields) => EachValue::Fields(
                        fields.into_iter().map(|(f, fv)| Some((f, fv.as_str()?.to_string()))).collect::<Option<_>>()?,
                    ),
                    _ => return None,
                };
                out.insert(k, value);
            }
            Some(flow_map(&out))
        }
        _ => None,
    }
}

/// The components named by `component.NAME` in any string under `node`.
fn components_named(node: &Node, out: &mut BTreeSet<String>) {
    match node {
        Node::Scalar(s) => {
            for piece in split(s.as_str()).unwrap_or_default() {
                if let Piece::Ref { body, .. } = piece {
                    if let Some(rest) = body.strip_prefix("component.") {
                        let end = rest.find(['.', '[']).unwrap_or(rest.len());
                        out.insert(rest[..end].to_string());
                    }
                }
            }
        }
        Node::Sequence(items) => items.iter().for_each(|n| components_named(n, out)),
        Node::Mapping(m) => m.values().for_each(|n| components_named(n, out)),
    }
}

/// `dir/source`, or `dir/source/component.yaml` when it names a directory, without
/// `./` and `..` steps (so the chain check compares like with like).
fn component_file(dir: &Path, source: &str) -> PathBuf {
    let mut path = PathBuf::new();
    for part in dir.join(source).components() {
        match part {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir if path.file_name().is_some_and(|n| n != "..") => {
                path.pop();
            }
            other => path.push(other),
        }
    }
    if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
        path
    } else {
        path.join(COMPONENT_FILE)
    }
}

impl Parser<'_> {
    /// `tags:` of the document: under every resource's own tags (a component's over the
    /// stack's).
    pub(super) fn parse_default_tags(&mut self, top: &MarkedMappingNode) {
        let Some(node) = top.get_node("tags") else { return };
        self.path = vec!["tags".into()];
        if let Some(Expr::Map(m)) = self.parse_value(node, &Type::Map) {
            self.default_tags.extend(m);
        }
        self.path.clear();
    }

    /// `components:`: each component used, each copy read from its file. Returns the
    /// resources they declare, at their full addresses.
    pub(super) fn parse_components(&mut self, top: &MarkedMappingNode, stack: &str) -> BTreeMap<Address, Resource> {
        let mut out = BTreeMap::new();
        let Some(node) = top.get_node("components") else { return out };
        let Node::Mapping(m) = node else {
            let span = Some(self.node_span(node));
            self.error(
                format!("`components` must be a mapping of names to uses, found {}", node_kind(node)),
                span,
                Some("e.g. `components: { web: { source: ./components/service, inputs: { port: 80 } } }`".into()),
            );
            return out;
        };
        let mut uses: Vec<(&MarkedScalarNode, &MarkedMappingNode, BTreeSet<String>)> = Vec::new();
        for (key, block) in m.iter() {
            let name = key.as_str();
            let span = Some(self.scalar_span(key));
            if !valid_name(name) {
                self.error(
                    format!("`{name}` is not a usable component name"),
                    span,
                    Some("use lower-case letters, digits and `_`, starting with a letter".into()),
                );
                continue;
            }
            let Node::Mapping(body) = block else {
                self.error(
                    format!(
                        "component `{name}` must be a mapping with `source` and `inputs`, found {}",
                        node_kind(block)
                    ),
                    span,
                    None,
                );
                continue;
            };
            let mut ok = true;
            for k in body.keys() {
                if !USE_KEYS.contains(&k.as_str()) {
                    let help = suggest(k.as_str(), USE_KEYS)
                        .or_else(|| Some(format!("a component's use takes {}", USE_KEYS.join(", "))));
                    let at = Some(self.scalar_span(k));
                    self.error(format!("component `{name}` has no setting `{}`", k.as_str()), at, help);
                    ok = false;
                }
            }
            let repeat = if ok { self.parse_repeat(body) } else { None };
            let used = Used { repeat: repeat.clone().flatten(), broken: repeat.is_none(), ..Used::default() };
            self.components.insert(name.to_string(), used);
            if repeat.is_some() {
                let mut needs = BTreeSet::new();
                if let Some(inputs) = body.get_node("inputs") {
                    components_named(inputs, &mut needs);
                }
                uses.push((key, body, needs));
            }
        }
        // A component whose inputs read another's outputs is read after it.
        let mut done: BTreeSet<String> = BTreeSet::new();
        while !uses.is_empty() {
            let ready = uses
                .iter()
                .position(|(_, _, needs)| needs.iter().all(|n| done.contains(n) || !self.components.contains_key(n)));
            let Some(at) = ready else {
                let names: Vec<String> = uses.iter().map(|(k, _, _)| format!("`{}`", k.as_str())).collect();
                let span = Some(self.scalar_span(uses[0].0));
                self.error(
                    format!("components {} read each other's outputs: none can be read first", names.join(", ")),
                    span,
                    Some("pass the value from the stack instead, or move the shared part into one component".into()),
                );
                for (k, _, _) in &uses {
                    if let Some(u) = self.components.get_mut(k.as_str()) {
                        u.broken = true;
                    }
                }
                break;
            };
            let (key, body, _) = uses.remove(at);
            done.insert(key.as_str().to_string());
            self.read_component(key, body, stack, &mut out);
        }
        out
    }

    /// One component use: its source read, and each copy parsed with its inputs.
    fn read_component(
        &mut self,
        key: &MarkedScalarNode,
        body: &MarkedMappingNode,
        stack: &str,
        out: &mut BTreeMap<Address, Resource>,
    ) {
        let name = key.as_str().to_string();
        let key_span = self.scalar_span(key);
        let Some(file) = self.component_source(&name, body, key_span) else {
            self.components.get_mut(&name).expect("declared").broken = true;
            return;
        };
        let repeat = self.components[&name].repeat.clone();
        let copies: Vec<Option<super::repeat::Each>> = match &repeat {
            None => vec![None],
            Some(r) => r.copies().into_iter().map(Some).collect(),
        };
        let site = format!("{}:{}:{}", self.file.name, key_span.line, key_span.col);
        for each in copies {
            let mut steps: Vec<ComponentStep> = self.scope.as_deref().map(<[_]>::to_vec).unwrap_or_default();
            steps.push(ComponentStep { name: name.clone(), key: each.as_ref().map(|e| e.key.clone()) });
            let scope: trellis_core::ComponentPath = steps.into();
            let address = component_path_text(&scope);
            let errors = self.diags.len();
            self.each = each.clone();
            let (literals, references) = self.component_inputs(body, &address);
            self.each = None;
            if self.diags.len() > errors {
                self.components.get_mut(&name).expect("declared").broken = true;
                return;
            }
            let opts = LoadOptions {
                vars: literals,
                env: self.opts.env,
                lookups: self.opts.lookups,
                stacks: self.opts.stacks,
            };
            let mut child = Parser::new(&file, &opts);
            child.scope = Some(scope);
            child.ref_vars = references;
            child.used_by = Some(UseSite { address, site: site.clone() });
            child.chain = self.chain.clone();
            child.chain.push(PathBuf::from(&file.name));
            child.default_tags = self.default_tags.clone();
            child.me = self.me.clone();
            // One lock for the stack, beside its file, whichever component meets git first.
            child.git = Some(self.git_sources());
            child.update_sources = self.update_sources;
            let (resources, outputs) = child.parse_component_document(stack);
            let misfits = !child.input_problems.is_empty();
            for (input, mut d, at_name) in std::mem::take(&mut child.input_problems) {
                let given = body
                    .get_node("inputs")
                    .and_then(Node::as_mapping)
                    .and_then(|m| m.iter().find(|(k, _)| k.as_str() == input).map(|(k, v)| (k.clone(), v.clone())));
                d.span = Some(match given {
                    Some((_, Node::Scalar(v))) if !at_name => self.scalar_span(&v),
                    Some((k, _)) => self.scalar_span(&k),
                    None => key_span,
                });
                self.diags.push(d);
            }
            // `extend`, not `append`: a B-tree's append rebuilds the whole tree, which
            // over hundreds of copies would cost the stack's size squared.
            self.addresses.extend(std::mem::take(&mut child.addresses));
            self.repeats.extend(std::mem::take(&mut child.repeats));
            self.broken.extend(std::mem::take(&mut child.broken));
            self.sources.append(&mut child.sources);
            out.extend(resources);
            let failed = misfits || !child.diags.is_empty() || !child.more.is_empty();
            if !child.diags.is_empty() || !child.more.is_empty() {
                child.diags.sort_by_key(|d| d.span.map(|s| s.start).unwrap_or(usize::MAX));
                self.more.push(Diagnostics { file: file.clone(), items: child.diags, more: child.more });
            }
            let used = self.components.get_mut(&name).expect("declared");
            used.broken |= failed;
            used.declared = child.declared_outputs;
            used.outputs.insert(each.map(|e| e.key), outputs);
            if failed {
                break; // the other copies would repeat the same problems
            }
        }
        if !self.sources.iter().any(|s| s.name == file.name) {
            self.sources.push(file);
        }
    }

    /// The component's file, read; `None` after saying why not.
    fn component_source(&mut self, name: &str, body: &MarkedMappingNode, key_span: Span) -> Option<SourceFile> {
        let Some(node) = body.get_node("source") else {
            self.error(
                format!("component `{name}` has no `source`"),
                Some(key_span),
                Some(format!("add `source: ./components/{name}`: a directory holding `{COMPONENT_FILE}`")),
            );
            return None;
        };
        let source = self.literal_string(node, "source")?;
        let at = Some(self.node_span(node));
        let path = if source.starts_with("git::") {
            let git = match GitSource::parse(&source) {
                Ok(g) => g,
                Err(e) => {
                    self.error(
                        format!("`{source}` is not a git source: {e}"),
                        at,
                        Some("e.g. `git::https://github.com/acme/parts.git//service?ref=v1.2.0`".into()),
                    );
                    return None;
                }
            };
            let sources = self.git_sources();
            if let Some(broken) = sources.borrow().broken.clone() {
                self.error(broken, at, Some("remove it and run `trellis get` to write it again".to_string()));
                return None;
            }
            let resolved = sources.borrow_mut().resolve(&source, &git);
            match resolved {
                Ok(dir) => component_file(&dir, "."),
                Err((message, help)) => {
                    self.error(message, at, (!help.is_empty()).then_some(help));
                    return None;
                }
            }
        } else if source.contains("://") {
            self.error(
                format!("`{source}` is neither a local path nor a git source"),
                at,
                Some("give a directory relative to this file, or `git::URL//DIR?ref=TAG`".into()),
            );
            return None;
        } else {
            let dir = Path::new(&self.file.name).parent().unwrap_or(Path::new(""));
            component_file(dir, &source)
        };
        if self.chain.contains(&path) || self.chain.len() >= MAX_DEPTH {
            self.error(
                format!(
                    "component `{name}` uses `{}`, which is already being read: a component cannot contain itself",
                    path.display()
                ),
                at,
                None,
            );
            return None;
        }
        match std::fs::read_to_string(&path) {
            Ok(text) => Some(SourceFile { name: path.display().to_string(), text }),
            Err(e) => {
                self.error(
                    format!("cannot read component `{name}` at `{}`: {e}", path.display()),
                    at,
                    Some(format!("`source` is a directory holding `{COMPONENT_FILE}`, relative to this file")),
                );
                None
            }
        }
    }

    /// The git sources' lock and cache: the stack's, opened beside its file at the
    /// first git source.
    fn git_sources(&mut self) -> std::rc::Rc<std::cell::RefCell<Sources>> {
        if self.git.is_none() {
            let mut sources = Sources::open(Path::new(&self.file.name), cache_dir(self.opts.env));
            sources.update = self.update_sources;
            self.git = Some(std::rc::Rc::new(std::cell::RefCell::new(sources)));
        }
        self.git.clone().expect("opened")
    }

    /// A use's `inputs:`, read in this document's terms: literal values as text (a
    /// variable's form), values that hold references as expressions.
    fn component_inputs(
        &mut self,
        body: &MarkedMappingNode,
        address: &str,
    ) -> (BTreeMap<String, String>, BTreeMap<String, Expr>) {
        let (mut literals, mut references) = (BTreeMap::new(), BTreeMap::new());
        let Some(node) = body.get_node("inputs") else { return (literals, references) };
        let Node::Mapping(m) = node else {
            let span = Some(self.node_span(node));
            self.error(format!("`inputs` must be a mapping of names to values, found {}", node_kind(node)), span, None);
            return (literals, references);
        };
        for (k, v) in m.iter() {
            self.path = vec![format!("{address}.inputs.{}", k.as_str())];
            let Some(e) = self.parse_any(v) else { continue };
            match literal_text(&e) {
                Some(text) => {
                    literals.insert(k.as_str().to_string(), text);
                }
                None => {
                    references.insert(k.as_str().to_string(), e);
                }
            }
        }
        self.path.clear();
        (literals, references)
    }

    /// A component's own file: what it declares, with its inputs given.
    pub(super) fn parse_component_document(
        &mut self,
        stack: &str,
    ) -> (BTreeMap<Address, Resource>, BTreeMap<String, Expr>) {
        let options = LoaderOptions::default().error_on_duplicate_keys(true);
        let root = match marked_yaml::parse_yaml_with_options(0, &self.file.text, options) {
            Ok(root) => root,
            Err(e) => {
                self.yaml_error(e);
                return Default::default();
            }
        };
        let Some(top) = root.as_mapping() else {
            let span = Some(self.node_span(&root));
            self.error("a component must be a mapping with `inputs`, `resources` and `outputs`", span, None);
            return Default::default();
        };
        for key in top.keys() {
            if !COMPONENT_KEYS.contains(&key.as_str()) {
                let word = key.as_str();
                let help = if super::TOP_KEYS.contains(&word) {
                    Some(format!(
                        "`{word}` belongs to the stack's own file; a component takes {}",
                        COMPONENT_KEYS.join(", ")
                    ))
                } else {
                    suggest(word, COMPONENT_KEYS)
                        .or_else(|| Some(format!("a component takes {}", COMPONENT_KEYS.join(", "))))
                };
                let span = Some(self.scalar_span(key));
                self.error(format!("unknown key `{word}` in a component"), span, help);
            }
        }
        self.parse_vars(top);
        self.parse_default_tags(top);
        if let Some(Node::Mapping(m)) = top.get_node("resources") {
            self.collect_addresses(m);
        }
        let mut resources = self.parse_components(top, stack);
        if top.get_node("resources").is_some() {
            resources.extend(self.parse_resources(top, Some(stack)));
        }
        if let Some(Node::Mapping(m)) = top.get_node("outputs") {
            self.declared_outputs = m.keys().map(|k| k.as_str().to_string()).collect();
        }
        let outputs = self.parse_outputs(top);
        (resources, outputs)
    }

    /// What `${component.NAME.output.KEY}` (or `${component.NAME[KEY].output.KEY}`)
    /// stands for, in this document's terms; `None` after saying why not (or silently
    /// when `report` is false).
    pub(super) fn component_output(&mut self, body: &str, at: Span, report: bool) -> Option<Expr> {
        let rest = body.strip_prefix("component.")?;
        let end = rest.find(['.', '[']).unwrap_or(rest.len());
        let name = &rest[..end];
        let mut tail = &rest[end..];
        let mut index = None;
        if tail.starts_with('[') {
            let close = tail.find(']')?;
            index = Some(tail[1..close].trim().to_string());
            tail = &tail[close + 1..];
        }
        let fail = |p: &mut Self, message: String, help: Option<String>| {
            if report {
                p.error(message, Some(at), help);
            }
            None
        };
        let Some(key) = tail.strip_prefix(".output.").filter(|k| !k.is_empty() && !k.contains('.')) else {
            return fail(
                self,
                format!("`${{{body}}}` is not a reference"),
                Some(format!("a component gives values through its outputs: `${{component.{name}.output.KEY}}`")),
            );
        };
        let Some(used) = self.components.get(name).cloned() else {
            let help = suggest(name, self.components.keys());
            return fail(self, format!("no component `{name}` is used here"), help);
        };
        if used.broken {
            return None;
        }
        let copy = match (index.as_deref(), &used.repeat) {
            (None, None) => None,
            (None, Some(r)) => {
                let one = r.copies().first().map(|e| match &e.key {
                    InstanceKey::Index(i) => i.to_string(),
                    InstanceKey::Key(k) => format!("\"{k}\""),
                });
                return fail(
                    self,
                    format!("component `{name}` has copies: say which one's `{key}`"),
                    Some(format!("e.g. `${{component.{name}[{}].output.{key}}}`", one.unwrap_or_else(|| "0".into()))),
                );
            }
            (Some(_), None) => {
                return fail(
                    self,
                    format!("component `{name}` has no `count` or `for_each`: it has no copies to index"),
                    Some(format!("write `${{component.{name}.output.{key}}}`")),
                )
            }
            (Some(i @ ("count.index" | "each.key")), Some(_)) => {
                let word = self.each_ref(&i.split('.').collect::<Vec<_>>(), at)?;
                Some(if i == "count.index" { InstanceKey::Index(word.parse().ok()?) } else { InstanceKey::Key(word) })
            }
            (Some(i), Some(_)) => match format!("vpc.x[{i}]").parse::<Address>().ok().and_then(|a| a.key) {
                Some(k) => Some(k),
                None => {
                    return fail(self, format!("`[{i}]` is not an index"), Some("write `[0]` or `[\"key\"]`".into()))
                }
            },
        };
        let Some(outputs) = used.outputs.get(&copy) else {
            let what = copy.map(|k| format!("[{k}]")).unwrap_or_default();
            return fail(self, format!("component `{name}` has no copy `{what}`"), None);
        };
        match outputs.get(key) {
            Some(e) => Some(e.clone()),
            None if used.declared.contains(key) => {
                fail(self, format!("output `{key}` of component `{name}` is not given (its `when` is false)"), None)
            }
            None => {
                let help = suggest(key, &used.declared);
                fail(self, format!("component `{name}` has no output `{key}`"), help)
            }
        }
    }

    /// What a `${...}` body stands for when it is an input given as a reference or a
    /// component's output: an expression in this document's terms. Reports nothing.
    pub(super) fn given_expr(&mut self, body: &str) -> Option<Expr> {
        if let Some(name) = body.strip_prefix("var.") {
            return self.ref_vars.get(name).cloned();
        }
        if body.starts_with("component.") {
            return self.component_output(body, Span::default(), false);
        }
        None
    }

    /// A given expression (an input or a component's output) as a value of `ty`: its
    /// references checked like the document's own.
    pub(super) fn fit_expr(&mut self, e: Expr, ty: &Type, at: Span, body: &str) -> Option<Expr> {
        let shape = |e: &Expr| match e {
            Expr::List(_) | Expr::Set(_) => "a list",
            Expr::Map(_) => "a mapping",
            Expr::Lit(Value::List(_)) => "a list",
            Expr::Lit(Value::Map(_)) => "a mapping",
            _ => "a single value",
        };
        match (e, ty) {
            (Expr::Ref(r), _) => {
                let index = r.index;
                let mut checked = self.check_ref(r.address, r.attr, at, ty)?;
                checked.index = index;
                Some(Expr::Ref(checked))
            }
            (Expr::Lit(Value::Unknown), _) => Some(Expr::Lit(Value::Unknown)),
            (Expr::Lit(Value::List(items)), Type::List(item) | Type::Set(item)) => {
                let fitted: Option<Vec<Expr>> =
                    items.into_iter().map(|v| self.fit_expr(Expr::Lit(v), item, at, body)).collect();
                Some(if matches!(ty, Type::Set(_)) { Expr::Set(fitted?) } else { Expr::List(fitted?) })
            }
            (Expr::List(items) | Expr::Set(items), Type::List(item) | Type::Set(item)) => {
                let fitted: Option<Vec<Expr>> = items.into_iter().map(|e| self.fit_expr(e, item, at, body)).collect();
                Some(if matches!(ty, Type::Set(_)) { Expr::Set(fitted?) } else { Expr::List(fitted?) })
            }
            (e @ (Expr::Map(_) | Expr::Lit(Value::Map(_))), Type::Map | Type::Object(_) | Type::Document) => Some(e),
            (Expr::Lit(v @ (Value::Str(_) | Value::Int(_) | Value::Bool(_))), _)
                if !matches!(ty, Type::List(_) | Type::Set(_) | Type::Object(_) | Type::Map | Type::Document) =>
            {
                let text = match v {
                    Value::Str(s) => s,
                    other => other.to_string(),
                };
                self.coerce(&text, ty, at).map(Expr::Lit)
            }
            (Expr::Template(parts), Type::Str) => Some(Expr::Template(parts)),
            (e, _) => {
                let message = format!("expected a {}, but `${{{body}}}` is {}", ty.describe(), shape(&e));
                self.error(message, Some(at), None);
                None
            }
        }
    }

    /// A given expression inside a text: its parts, or why it cannot be there.
    pub(super) fn given_parts(&mut self, e: Expr, at: Span, body: &str) -> Option<Vec<Part>> {
        match e {
            Expr::Lit(Value::Unknown) => {
                self.unresolved = true;
                Some(vec![Part::Lit(String::new())])
            }
            Expr::Lit(Value::Str(s)) => Some(vec![Part::Lit(s)]),
            Expr::Lit(v @ (Value::Int(_) | Value::Bool(_))) => Some(vec![Part::Lit(v.to_string())]),
            Expr::Ref(r) => {
                let index = r.index;
                let mut checked = self.check_ref(r.address, r.attr, at, &Type::Str)?;
                checked.index = index;
                Some(vec![Part::Ref(checked)])
            }
            Expr::Template(parts) => Some(parts),
            _ => {
                self.error(
                    format!("`${{{body}}}` is a list or a mapping: it cannot be part of a text"),
                    Some(at),
                    Some(format!("give it alone, as the whole value: `${{{body}}}`")),
                );
                None
            }
        }
    }
}
