//! `vars:`: each variable's type (a string, a number, a boolean or a list) and default,
//! and the values given from outside (`--var`, `--var-file`, `*.auto.yaml`, merged by
//! the caller into `LoadOptions::vars` as text), each checked against its type.
//!
//! A string, number or boolean stands for its text wherever `${var.NAME}` is written. A
//! list stands alone as a list's value (`subnet_ids: ${var.subnets}`, or as one item of
//! a list, in its place), or one element of it is taken (`${var.subnets[0]}`).

use marked_yaml::types::MarkedMappingNode;
use trellis_core::Part;

use super::repeat::EachValue;
use super::*;

/// What a variable holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum VarType {
    Text,
    Number,
    Bool,
    List,
    /// Keys to single values or to mappings of single values: what `for_each` takes,
    /// read as `${var.NAME.KEY}` or `${var.NAME.KEY.FIELD}`.
    Map,
}

impl VarType {
    const WORDS: [&'static str; 5] = ["string", "number", "bool", "list", "map"];

    pub(super) fn word(self) -> &'static str {
        match self {
            VarType::Text => "string",
            VarType::Number => "number",
            VarType::Bool => "bool",
            VarType::List => "list",
            VarType::Map => "map",
        }
    }

    fn of_word(word: &str) -> Option<VarType> {
        match word {
            "string" => Some(VarType::Text),
            "number" => Some(VarType::Number),
            "bool" => Some(VarType::Bool),
            "list" => Some(VarType::List),
            "map" => Some(VarType::Map),
            _ => None,
        }
    }
}

/// A variable's value, checked against its type.
enum Held {
    Text(String),
    List(Vec<String>),
    Map(BTreeMap<String, EachValue>),
}

/// A mapping node as a map variable's value: keys to single values, or to mappings of
/// single values.
fn node_map(node: &Node) -> Result<BTreeMap<String, EachValue>, String> {
    let Node::Mapping(m) = node else { return Err("a map is a mapping: write it `{a: 1, b: 2}`".into()) };
    let mut out = BTreeMap::new();
    for (k, v) in m.iter() {
        let value = match v {
            Node::Scalar(s) => EachValue::Text(s.as_str().to_string()),
            Node::Mapping(fields) => {
                let mut read = BTreeMap::new();
                for (f, fv) in fields.iter() {
                    let Node::Scalar(s) = fv else {
                        return Err(format!("`{}.{}` must be a single value", k.as_str(), f.as_str()));
                    };
                    read.insert(f.as_str().to_string(), s.as_str().to_string());
                }
                EachValue::Fields(read)
            }
            Node::Sequence(_) => {
                return Err(format!(
                    "`{}` holds a list; a map's values are single values or mappings of them",
                    k.as_str()
                ))
            }
        };
        out.insert(k.as_str().to_string(), value);
    }
    Ok(out)
}

/// A map as YAML's flow text, every word quoted: what `convert` reads back.
pub(crate) fn flow_map(map: &BTreeMap<String, EachValue>) -> String {
    let q = |s: &str| format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""));
    let entries: Vec<String> = map
        .iter()
        .map(|(k, v)| match v {
            EachValue::Text(t) => format!("{}: {}", q(k), q(t)),
            EachValue::Fields(f) => {
                let fields: Vec<String> = f.iter().map(|(a, b)| format!("{}: {}", q(a), q(b))).collect();
                format!("{}: {{{}}}", q(k), fields.join(", "))
            }
        })
        .collect();
    format!("{{{}}}", entries.join(", "))
}

/// `text` as a value of `ty`, or why it is not one.
fn convert(ty: VarType, text: &str) -> Result<Held, String> {
    match ty {
        VarType::Text => Ok(Held::Text(text.to_string())),
        VarType::Number => text
            .trim()
            .parse::<i64>()
            .map(|n| Held::Text(n.to_string()))
            .map_err(|_| format!("`{text}` is not a number")),
        VarType::Bool => match text.trim() {
            "true" | "false" => Ok(Held::Text(text.trim().to_string())),
            _ => Err(format!("`{text}` is not `true` or `false`")),
        },
        VarType::List => flow_list(text).map(Held::List),
        VarType::Map => {
            let doc = marked_yaml::parse_yaml(0, format!("v: {text}"))
                .map_err(|_| format!("`{text}` is not a map: write it `{{a: 1, b: 2}}`"))?;
            let node = doc.as_mapping().and_then(|m| m.get_node("v")).ok_or("not a map")?;
            node_map(node).map(Held::Map)
        }
    }
}

/// A list written as YAML's `[a, b]` (how `--var` and var files give one).
fn flow_list(text: &str) -> Result<Vec<String>, String> {
    let not_a_list = || format!("`{text}` is not a list: write it `[a, b]`");
    if !text.trim_start().starts_with('[') {
        return Err(not_a_list());
    }
    let doc = marked_yaml::parse_yaml(0, format!("v: {text}")).map_err(|_| not_a_list())?;
    let items = doc.as_mapping().and_then(|m| m.get_node("v")).and_then(Node::as_sequence).ok_or_else(not_a_list)?;
    items
        .iter()
        .map(|i| {
            i.as_scalar()
                .map(|s| s.as_str().to_string())
                .ok_or_else(|| "a list variable holds single values".to_string())
        })
        .collect()
}

/// A list as YAML's flow text, each item quoted: what `flow_list` reads back.
pub(crate) fn flow_text(items: &[String]) -> String {
    let quoted: Vec<String> =
        items.iter().map(|i| format!("\"{}\"", i.replace('\\', "\\\\").replace('"', "\\\""))).collect();
    format!("[{}]", quoted.join(", "))
}

/// The variable's name when `text` is `${var.NAME}` and nothing else.
fn lone_var(text: &str) -> Option<String> {
    let pieces = crate::template::split(text).ok()?;
    let [crate::template::Piece::Ref { body, .. }] = pieces.as_slice() else { return None };
    body.strip_prefix("var.").map(str::to_string)
}

impl Parser<'_> {
    pub(super) fn parse_vars(&mut self, top: &MarkedMappingNode) {
        // Declared but given no value yet: each must get one from outside.
        let mut unset: Vec<(String, Span)> = Vec::new();
        let key = if self.used_by.is_some() { "inputs" } else { "vars" };
        match top.get_node(key) {
            None => {}
            Some(Node::Mapping(m)) => {
                for (key, node) in m.iter() {
                    let name = key.as_str().to_string();
                    let span = self.scalar_span(key);
                    match self.declaration(&name, node) {
                        Some((ty, Some(value))) => {
                            self.var_types.insert(name.clone(), ty);
                            self.hold(&name, value);
                        }
                        Some((ty, None)) => {
                            self.var_types.insert(name.clone(), ty);
                            unset.push((name, span));
                        }
                        // Reported at the declaration: its uses are unknown, not unknown names.
                        None => {
                            self.unset_vars.insert(name);
                        }
                    }
                }
            }
            Some(other) => {
                let span = Some(self.node_span(other));
                self.error(
                    format!("`{key}` must be a mapping of names to default values, found {}", node_kind(other)),
                    span,
                    Some("`name: value`, `name: [a, b]` or `name: { type: number, default: 2 }`".into()),
                );
            }
        }
        let given: Vec<String> = self.opts.vars.keys().chain(self.ref_vars.keys()).cloned().collect();
        for name in &given {
            let Some(ty) = self.var_types.get(name).copied() else {
                let known = self.var_types.keys().cloned().collect::<Vec<_>>();
                let (message, help) = match &self.used_by {
                    None => (
                        format!("variable `{name}` is given a value (by --var, --var-file or a *.auto.yaml), but the spec declares no variable `{name}`"),
                        suggest(name, &known).or_else(|| Some("declare it under `vars:` first".into())),
                    ),
                    Some(u) => (
                        format!("`{}` gives input `{name}`, but the component (`{}`) declares no input `{name}`", u.address, self.file.name),
                        suggest(name, &known).or_else(|| Some(format!("declare it under `inputs:`; the inputs are {}", known.join(", ")))),
                    ),
                };
                let d = Diagnostic { message, span: None, label: None, help };
                if self.used_by.is_some() {
                    self.input_problems.push((name.to_string(), d, true));
                } else {
                    self.diags.push(d);
                }
                continue;
            };
            let given_at =
                self.used_by.as_ref().map(|u| format!(" (`{}` declares it for `{}`)", self.file.name, u.address));
            let word = if self.used_by.is_some() { "input" } else { "variable" };
            if let Some(e) = self.ref_vars.get(name) {
                // A value built from references: known after apply, so only its shape is checked.
                let fits = match ty {
                    VarType::List => matches!(e, Expr::List(_) | Expr::Set(_)),
                    VarType::Map => matches!(e, Expr::Map(_)),
                    VarType::Text => !matches!(e, Expr::List(_) | Expr::Set(_) | Expr::Map(_)),
                    VarType::Number | VarType::Bool => false,
                };
                if !fits {
                    self.given_problem(
                        name,
                        Diagnostic {
                            message: format!(
                                "{word} `{name}` is a {}, but it is given a value of other shape{}",
                                ty.word(),
                                given_at.unwrap_or_default()
                            ),
                            span: None,
                            label: None,
                            help: Some("a number or a boolean must be known when the spec is read".into()),
                        },
                    );
                }
                continue;
            }
            let value = &self.opts.vars[name];
            match convert(ty, value) {
                Ok(held) => self.hold(name, held),
                Err(why) => self.given_problem(
                    name,
                    Diagnostic {
                        message: format!("{word} `{name}` is a {}: {why}{}", ty.word(), given_at.unwrap_or_default()),
                        span: None,
                        label: None,
                        help: None,
                    },
                ),
            }
        }
        for (name, span) in unset {
            if !given.contains(&name) {
                self.unset_vars.insert(name.clone());
                let (message, help) = match &self.used_by {
                    None => (
                        format!("variable `{name}` has no default and is given no value"),
                        format!(
                            "give it with `--var {name}=...`, in a `--var-file`, or in a `*.auto.yaml` beside the spec"
                        ),
                    ),
                    Some(u) => (
                        format!("input `{name}` has no default, and `{}` gives it no value", u.address),
                        format!("give it under the component's `inputs:` at {}", u.site),
                    ),
                };
                self.error(message, Some(span), Some(help));
            }
        }
        if let Some(Node::Mapping(m)) = top.get_node(key) {
            for (name, node) in m.iter() {
                if let Some(rules) = node.as_mapping().and_then(|d| d.get_node("validation")) {
                    self.validate_var(name.as_str(), rules);
                }
            }
        }
    }

    /// A variable's `validation: { condition: ${...}, message: ... }` (or a list of
    /// them), checked against its value once every variable has one. A condition that
    /// reads what only apply knows is not checked.
    fn validate_var(&mut self, name: &str, rules: &Node) {
        let list: Vec<Node> = match rules {
            Node::Sequence(items) => items.iter().cloned().collect(),
            other => vec![other.clone()],
        };
        for rule in &list {
            let Some(m) = rule.as_mapping() else {
                let span = Some(self.node_span(rule));
                self.error(
                    format!(
                        "variable `{name}`'s `validation` must be a mapping: `{{ condition: ${{...}}, message: ... }}`"
                    ),
                    span,
                    None,
                );
                continue;
            };
            let (Some(condition), Some(message)) = (m.get_node("condition"), m.get_scalar("message")) else {
                let span = Some(self.node_span(rule));
                self.error(
                    format!("variable `{name}`'s `validation` needs a `condition` and a `message`"),
                    span,
                    Some(format!(
                        "e.g. `{{ condition: '${{length(var.{name}) >= 2}}', message: give two zones or more }}`"
                    )),
                );
                continue;
            };
            if self.unset_vars.contains(name) {
                continue; // reported where it is declared
            }
            match self.parse_value(condition, &Type::Bool) {
                Some(Expr::Lit(Value::Bool(true))) | Some(Expr::Lit(Value::Unknown)) | None => {}
                Some(Expr::Lit(Value::Bool(false))) => {
                    let value = self.vars.get(name).cloned().unwrap_or_default();
                    let word = if self.used_by.is_some() { "input" } else { "variable" };
                    let d = Diagnostic {
                        message: format!("{word} `{name}` = `{value}`: {}", message.as_str()),
                        span: Some(self.node_span(condition)),
                        label: Some("this condition does not hold".into()),
                        help: None,
                    };
                    match (&self.used_by, self.opts.vars.contains_key(name) || self.ref_vars.contains_key(name)) {
                        // A component's input as given: reported where it is given.
                        (Some(_), true) => self.input_problems.push((name.to_string(), d, false)),
                        _ => self.diags.push(d),
                    }
                }
                Some(_) => {
                    let span = Some(self.node_span(condition));
                    self.error(
                        "a validation's `condition` must be `true` or `false` when the spec is read",
                        span,
                        Some("compare the variable itself: what apply makes is not known yet".into()),
                    );
                }
            }
        }
    }

    /// A value given from outside that does not fit: the stack's own are reported
    /// without a place; a component's inputs by its use, where the value is written.
    fn given_problem(&mut self, name: &str, d: Diagnostic) {
        if self.used_by.is_some() {
            self.input_problems.push((name.to_string(), d, false));
        } else {
            self.diags.push(d);
        }
    }

    fn hold(&mut self, name: &str, value: Held) {
        match value {
            Held::Text(t) => {
                self.list_vars.remove(name);
                self.map_vars.remove(name);
                self.vars.insert(name.to_string(), t);
            }
            Held::List(items) => {
                self.map_vars.remove(name);
                self.vars.insert(name.to_string(), flow_text(&items));
                self.list_vars.insert(name.to_string(), items);
            }
            Held::Map(map) => {
                self.list_vars.remove(name);
                self.vars.insert(name.to_string(), flow_map(&map));
                self.map_vars.insert(name.to_string(), map);
            }
        }
    }

    /// One entry of `vars:`: its type, and its default when it has one. `None` after
    /// reporting what is wrong.
    fn declaration(&mut self, name: &str, node: &Node) -> Option<(VarType, Option<Held>)> {
        match node {
            Node::Scalar(s) => Some((VarType::Text, Some(Held::Text(s.as_str().to_string())))),
            Node::Sequence(_) => Some((VarType::List, Some(self.default_list(name, node)?))),
            Node::Mapping(m) => {
                for key in m.keys() {
                    if !["type", "default", "description", "validation"].contains(&key.as_str()) {
                        let span = Some(self.scalar_span(key));
                        let help = suggest(key.as_str(), ["type", "default", "description", "validation"]);
                        self.error(format!("variable `{name}` has no setting `{}`", key.as_str()), span, help);
                        return None;
                    }
                }
                let Some(word) = m.get_scalar("type") else {
                    let span = Some(self.node_span(node));
                    self.error(
                        format!("variable `{name}` is a mapping: say its `type`"),
                        span,
                        Some(format!(
                            "`{name}: {{ type: number, default: 2 }}`; the types are {}",
                            VarType::WORDS.join(", ")
                        )),
                    );
                    return None;
                };
                let Some(ty) = VarType::of_word(word.as_str()) else {
                    let span = Some(self.scalar_span(word));
                    let help = suggest(word.as_str(), VarType::WORDS)
                        .or_else(|| Some(format!("the types are {}", VarType::WORDS.join(", "))));
                    self.error(format!("`{}` is not a variable type", word.as_str()), span, help);
                    return None;
                };
                let Some(default) = m.get_node("default") else { return Some((ty, None)) };
                let held = match (ty, default) {
                    (VarType::List, _) => self.default_list(name, default)?,
                    (VarType::Map, _) => match node_map(default) {
                        Ok(map) => Held::Map(map),
                        Err(why) => {
                            let span = Some(self.node_span(default));
                            self.error(format!("variable `{name}` is a map: {why}"), span, None);
                            return None;
                        }
                    },
                    (_, Node::Scalar(s)) => match convert(ty, s.as_str()) {
                        Ok(held) => held,
                        Err(why) => {
                            let span = Some(self.scalar_span(s));
                            self.error(format!("variable `{name}` is a {}: {why}", ty.word()), span, None);
                            return None;
                        }
                    },
                    (_, other) => {
                        let span = Some(self.node_span(other));
                        self.error(
                            format!("variable `{name}` is a {}, but its default is {}", ty.word(), node_kind(other)),
                            span,
                            None,
                        );
                        return None;
                    }
                };
                Some((ty, Some(held)))
            }
        }
    }

    fn default_list(&mut self, name: &str, node: &Node) -> Option<Held> {
        let Node::Sequence(items) = node else {
            let span = Some(self.node_span(node));
            self.error(format!("variable `{name}` is a list, but its default is {}", node_kind(node)), span, None);
            return None;
        };
        let mut out = Vec::new();
        for item in items.iter() {
            let Node::Scalar(s) = item else {
                let span = Some(self.node_span(item));
                self.error(format!("the items of list variable `{name}` are single values"), span, None);
                return None;
            };
            out.push(s.as_str().to_string());
        }
        Some(Held::List(out))
    }

    /// The list variable a scalar stands for, when it is `${var.NAME}` alone and NAME
    /// is a list.
    pub(super) fn list_var(&self, s: &MarkedScalarNode) -> Option<String> {
        lone_var(s.as_str()).filter(|name| self.list_vars.contains_key(name))
    }

    /// A list variable's items, each checked as a value of `item`.
    pub(super) fn expand_list_var(&mut self, s: &MarkedScalarNode, item: &Type) -> Option<Vec<Expr>> {
        let name = self.list_var(s)?;
        let span = self.scalar_span(s);
        let items = self.list_vars.get(&name).cloned().unwrap_or_default();
        items.iter().map(|i| self.coerce(i, item, span).map(Expr::Lit)).collect()
    }

    /// Whether `s` is `${var.NAME}` alone, NAME declared but given no value.
    pub(super) fn unset_var(&self, s: &MarkedScalarNode) -> bool {
        lone_var(s.as_str()).is_some_and(|name| self.unset_vars.contains(&name))
    }

    /// A reference to a variable given no value: unknown (its declaration says what to
    /// do), so that one unset variable is one error, not one per use.
    pub(super) fn unset_ref(&mut self, name: &str) -> Option<Part> {
        if !self.unset_vars.contains(name) {
            return None;
        }
        self.unresolved = true;
        Some(Part::Lit(String::new()))
    }

    /// `${var.NAME[N]}`: one element of a list variable.
    pub(super) fn var_element(&mut self, name: &str, index: usize, at: Span) -> Option<Part> {
        if let Some(unknown) = self.unset_ref(name) {
            return Some(unknown);
        }
        let Some(items) = self.list_vars.get(name) else {
            let (message, help) = match self.var_types.get(name) {
                Some(ty) => (format!("variable `{name}` is a {}, not a list", ty.word()), None),
                None => (
                    format!("unknown variable `{name}`"),
                    suggest(name, self.var_types.keys().cloned().collect::<Vec<_>>()),
                ),
            };
            self.error(message, Some(at), help);
            return None;
        };
        match items.get(index) {
            Some(v) => Some(Part::Lit(v.clone())),
            None => {
                let n = items.len();
                self.error(
                    format!(
                        "variable `{name}` has {n} element{}: there is no [{index}]",
                        if n == 1 { "" } else { "s" }
                    ),
                    Some(at),
                    None,
                );
                None
            }
        }
    }

    /// `${var.NAME.KEY}` or `${var.NAME.KEY.FIELD}`: one value of a map variable.
    pub(super) fn map_entry(&mut self, name: &str, path: &[&str], at: Span) -> Option<Part> {
        if let Some(unknown) = self.unset_ref(name) {
            return Some(unknown);
        }
        let Some(map) = self.map_vars.get(name) else {
            let message = match self.var_types.get(name) {
                Some(ty) => format!("variable `{name}` is a {}, not a map", ty.word()),
                None => format!("unknown variable `{name}`"),
            };
            self.error(message, Some(at), None);
            return None;
        };
        let keys: Vec<String> = map.keys().cloned().collect();
        let found = match (map.get(path[0]), path.get(1)) {
            (Some(EachValue::Text(t)), None) => Ok(t.clone()),
            (Some(EachValue::Fields(f)), Some(field)) => f
                .get(*field)
                .cloned()
                .ok_or_else(|| (format!("`var.{name}.{}` has no field `{field}`", path[0]), suggest(field, f.keys()))),
            (Some(EachValue::Fields(f)), None) => Err((
                format!("`var.{name}.{}` is a mapping", path[0]),
                f.keys().next().map(|k| format!("name one of its fields, e.g. `${{var.{name}.{}.{k}}}`", path[0])),
            )),
            (Some(EachValue::Text(_)), Some(_)) => {
                Err((format!("`var.{name}.{}` is a single value, with no fields", path[0]), None))
            }
            (None, _) => Err((format!("map variable `{name}` has no key `{}`", path[0]), suggest(path[0], &keys))),
        };
        match found {
            Ok(t) => Some(Part::Lit(t)),
            Err((message, help)) => {
                self.error(message, Some(at), help);
                None
            }
        }
    }

    /// The map variable a scalar stands for, when it is `${var.NAME}` alone and NAME is
    /// a map (a `for_each`).
    pub(super) fn map_var(&self, s: &MarkedScalarNode) -> Option<BTreeMap<String, EachValue>> {
        lone_var(s.as_str()).and_then(|name| self.map_vars.get(&name).cloned())
    }

    /// A variable standing for a number of copies: a number, or a boolean (one copy or
    /// none), so that `count: ${var.enable_replica}` makes a resource optional.
    pub(super) fn var_count(&self, node: &Node) -> Option<u32> {
        let name = lone_var(node.as_scalar()?.as_str())?;
        match (self.var_types.get(&name), self.vars.get(&name).map(String::as_str)) {
            (Some(VarType::Bool), Some("true")) => Some(1),
            (Some(VarType::Bool), Some(_)) => Some(0),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_written_out_reads_back_as_it_was() {
        let items: Vec<String> = vec!["a".into(), "b \"quoted\"".into(), "c\\d".into(), "".into(), "1, 2".into()];
        let Held::List(back) = convert(VarType::List, &flow_text(&items)).unwrap() else { panic!("a list") };
        assert_eq!(back, items);
    }

    #[test]
    fn values_are_held_to_their_type() {
        assert!(matches!(convert(VarType::Number, " 3 "), Ok(Held::Text(t)) if t == "3"));
        assert!(convert(VarType::Number, "three").is_err());
        assert!(convert(VarType::Bool, "yes").is_err());
        assert!(convert(VarType::List, "a, b").is_err());
        assert!(matches!(convert(VarType::Text, "[a]"), Ok(Held::Text(t)) if t == "[a]"));
        assert!(convert(VarType::Map, "[a]").is_err());
    }

    #[test]
    fn a_map_written_out_reads_back_as_it_was() {
        let mut map = BTreeMap::new();
        map.insert("api".to_string(), EachValue::Fields([("port".to_string(), "80\"80".to_string())].into()));
        map.insert("web".to_string(), EachValue::Text("a: b".into()));
        let Held::Map(back) = convert(VarType::Map, &flow_map(&map)).unwrap() else { panic!("a map") };
        assert_eq!(format!("{back:?}"), format!("{map:?}"));
    }
}
