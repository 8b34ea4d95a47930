//! The functions an expression may call. Each names itself and the argument that is
//! wrong when one is.

use std::collections::BTreeMap;
use std::net::IpAddr;

use ipnet::IpNet;
use trellis_core::{Expr, Part, Value};

use super::eval::{
    describe, entries, eval, from_parts, items, known, list, map, number, text_parts, EvalError, Names, Result,
};
use super::syntax::{self, Ast};

/// Every function, with its arguments as `docs/spec.md` lists them.
pub const FUNCTIONS: &[(&str, &str)] = &[
    ("length", "length(list | mapping | text)"),
    ("concat", "concat(list, list, ...)"),
    ("merge", "merge(mapping, mapping, ...)"),
    ("lookup", "lookup(mapping, key, default)"),
    ("element", "element(list, index)"),
    ("keys", "keys(mapping)"),
    ("values", "values(mapping)"),
    ("join", "join(separator, list)"),
    ("split", "split(separator, text)"),
    ("format", "format(spec, values...)"),
    ("lower", "lower(text)"),
    ("upper", "upper(text)"),
    ("replace", "replace(text, find, with)"),
    ("min", "min(number, ...)"),
    ("max", "max(number, ...)"),
    ("cidrsubnet", "cidrsubnet(prefix, newbits, netnum)"),
    ("cidrhost", "cidrhost(prefix, hostnum)"),
    ("file", "file(file)"),
    ("templatefile", "templatefile(file, mapping)"),
    ("jsonencode", "jsonencode(value)"),
    ("yamlencode", "yamlencode(value)"),
];

/// The label of a file argument in messages.
const FILE: &str = "file";

fn usage(name: &str) -> &'static str {
    FUNCTIONS.iter().find(|(n, _)| *n == name).map(|(_, u)| *u).unwrap_or("")
}

/// `name(args)`: the arguments read, then the function.
pub fn call(name: &str, args: &[Ast], names: &mut dyn Names) -> Result<Expr> {
    if !FUNCTIONS.iter().any(|(n, _)| *n == name) {
        let all: Vec<&str> = FUNCTIONS.iter().map(|(n, _)| *n).collect();
        let help = crate::did_you_mean(name, all.iter().copied())
            .map(|s| format!("did you mean `{s}`?"))
            .unwrap_or_else(|| format!("the functions are {}", all.join(", ")));
        return Err(EvalError::hint(format!("there is no function `{name}`"), help));
    }
    let values: Vec<Expr> = args.iter().map(|a| eval(a, names)).collect::<Result<_>>()?;
    let f = Call { name, args: &values };
    match name {
        "length" => f.length(),
        "concat" => f.concat(),
        "merge" => f.merge(),
        "lookup" => f.lookup(),
        "element" => f.element(),
        "keys" | "values" => f.keys_values(name == "keys"),
        "join" => f.join(),
        "split" => f.split(),
        "format" => f.format(),
        "lower" => Ok(Expr::Lit(Value::Str(f.text(1, "text")?.to_lowercase()))),
        "upper" => Ok(Expr::Lit(Value::Str(f.text(1, "text")?.to_uppercase()))),
        "replace" => f.replace(),
        "min" | "max" => f.min_max(name == "max"),
        "cidrsubnet" => f.cidrsubnet(),
        "cidrhost" => f.cidrhost(),
        "file" => {
            f.count(1, 1)?;
            let path = f.text(1, FILE)?;
            names.read_file(&path).map(|t| Expr::Lit(Value::Str(t))).map_err(|e| f.wrong(1, FILE, e))
        }
        "templatefile" => f.templatefile(names),
        "jsonencode" => f.jsonencode(),
        _ => f.yamlencode(),
    }
}

struct Call<'a> {
    name: &'a str,
    args: &'a [Expr],
}

impl Call<'_> {
    fn wrong(&self, n: usize, label: &str, why: impl Into<String>) -> EvalError {
        EvalError::hint(
            format!("`{}`: argument {n} ({label}) {}", self.name, why.into()),
            format!("it is called `{}`", usage(self.name)),
        )
    }

    fn count(&self, min: usize, max: usize) -> Result<()> {
        let n = self.args.len();
        if n < min || n > max {
            let want = match (min, max) {
                (a, b) if a == b => format!("{a}"),
                (a, usize::MAX) => format!("at least {a}"),
                (a, b) => format!("{a} to {b}"),
            };
            return Err(EvalError::hint(
                format!("`{}` takes {want} argument{}, given {n}", self.name, if want == "1" { "" } else { "s" }),
                format!("it is called `{}`", usage(self.name)),
            ));
        }
        Ok(())
    }

    fn arg(&self, n: usize) -> &Expr {
        &self.args[n - 1]
    }

    fn text(&self, n: usize, label: &str) -> Result<String> {
        self.count(n, usize::MAX).ok();
        match known(self.arg(n)) {
            Some(Value::Str(s)) => Ok(s),
            Some(Value::Int(i)) => Ok(i.to_string()),
            Some(Value::Bool(b)) => Ok(b.to_string()),
            _ => Err(self.wrong(
                n,
                label,
                format!("must be a text known when the spec is read, found {}", describe(self.arg(n))),
            )),
        }
    }

    fn int(&self, n: usize, label: &str) -> Result<i64> {
        number(self.arg(n))
            .ok_or_else(|| self.wrong(n, label, format!("must be a whole number, found {}", describe(self.arg(n)))))
    }

    fn list(&self, n: usize, label: &str) -> Result<Vec<Expr>> {
        items(self.arg(n))
            .ok_or_else(|| self.wrong(n, label, format!("must be a list, found {}", describe(self.arg(n)))))
    }

    fn mapping(&self, n: usize, label: &str) -> Result<BTreeMap<String, Expr>> {
        entries(self.arg(n))
            .ok_or_else(|| self.wrong(n, label, format!("must be a mapping, found {}", describe(self.arg(n)))))
    }

    fn length(&self) -> Result<Expr> {
        self.count(1, 1)?;
        let n = if let Some(items) = items(self.arg(1)) {
            items.len()
        } else if let Some(m) = entries(self.arg(1)) {
            m.len()
        } else if let Some(Value::Str(s)) = known(self.arg(1)) {
            s.chars().count()
        } else {
            return Err(self.wrong(
                1,
                "value",
                format!("must be a list, a mapping or a text, found {}", describe(self.arg(1))),
            ));
        };
        Ok(Expr::Lit(Value::Int(n as i64)))
    }

    fn concat(&self) -> Result<Expr> {
        self.count(1, usize::MAX)?;
        let mut out = Vec::new();
        for n in 1..=self.args.len() {
            out.extend(self.list(n, "list")?);
        }
        Ok(list(out))
    }

    fn merge(&self) -> Result<Expr> {
        self.count(1, usize::MAX)?;
        let mut out = BTreeMap::new();
        for n in 1..=self.args.len() {
            out.extend(self.mapping(n, "mapping")?);
        }
        Ok(map(out))
    }

    fn lookup(&self) -> Result<Expr> {
        self.count(2, 3)?;
        let m = self.mapping(1, "mapping")?;
        let key = self.text(2, "key")?;
        match (m.get(&key), self.args.get(2)) {
            (Some(v), _) => Ok(v.clone()),
            (None, Some(default)) => Ok(default.clone()),
            (None, None) => {
                let have: Vec<&str> = m.keys().map(String::as_str).collect();
                Err(self.wrong(
                    2,
                    "key",
                    format!(
                        "\"{key}\" is not in the mapping (its keys are {}), and no default is given",
                        have.join(", ")
                    ),
                ))
            }
        }
    }

    fn element(&self) -> Result<Expr> {
        self.count(2, 2)?;
        let items = self.list(1, "list")?;
        let i = self.int(2, "index")?;
        if items.is_empty() {
            return Err(self.wrong(1, "list", "is empty"));
        }
        if i < 0 {
            return Err(self.wrong(2, "index", "must be 0 or more"));
        }
        // As Terraform's: an index past the end wraps around.
        Ok(items[(i as usize) % items.len()].clone())
    }

    fn keys_values(&self, keys: bool) -> Result<Expr> {
        self.count(1, 1)?;
        let m = self.mapping(1, "mapping")?;
        Ok(if keys {
            Expr::Lit(Value::List(m.into_keys().map(Value::Str).collect()))
        } else {
            list(m.into_values().collect())
        })
    }

    fn join(&self) -> Result<Expr> {
        self.count(2, 2)?;
        let sep = self.text(1, "separator")?;
        let mut parts = Vec::new();
        for (i, item) in self.list(2, "list")?.iter().enumerate() {
            if i > 0 {
                parts.push(Part::Lit(sep.clone()));
            }
            parts.extend(
                text_parts(item).ok_or_else(|| {
                    self.wrong(2, "list", format!("item {i} is {}, not a single value", describe(item)))
                })?,
            );
        }
        Ok(from_parts(parts))
    }

    fn split(&self) -> Result<Expr> {
        self.count(2, 2)?;
        let sep = self.text(1, "separator")?;
        let text = self.text(2, "text")?;
        if sep.is_empty() {
            return Err(self.wrong(1, "separator", "must not be empty"));
        }
        if text.is_empty() {
            return Ok(Expr::Lit(Value::List(Vec::new())));
        }
        Ok(Expr::Lit(Value::List(text.split(sep.as_str()).map(Value::str).collect())))
    }

    fn format(&self) -> Result<Expr> {
        self.count(1, usize::MAX)?;
        let spec = self.text(1, "spec")?;
        let mut parts = Vec::new();
        let mut next = 2;
        let mut chars = spec.chars().peekable();
        let mut lit = String::new();
        while let Some(c) = chars.next() {
            if c != '%' {
                lit.push(c);
                continue;
            }
            let verb = chars
                .next()
                .ok_or_else(|| self.wrong(1, "spec", "ends with a lone `%`: write `%%` for a percent sign"))?;
            if verb == '%' {
                lit.push('%');
                continue;
            }
            if !['s', 'd', 'v'].contains(&verb) {
                return Err(self.wrong(1, "spec", format!("has `%{verb}`: the verbs are `%s`, `%d`, `%v` and `%%`")));
            }
            let Some(value) = self.args.get(next - 1) else {
                return Err(self.wrong(
                    1,
                    "spec",
                    format!("has more verbs than the {} values given", self.args.len() - 1),
                ));
            };
            parts.push(Part::Lit(std::mem::take(&mut lit)));
            if verb == 'd' {
                parts.push(Part::Lit(self.int(next, "value")?.to_string()));
            } else {
                parts.extend(
                    text_parts(value).ok_or_else(|| {
                        self.wrong(next, "value", format!("is {}, not a single value", describe(value)))
                    })?,
                );
            }
            next += 1;
        }
        parts.push(Part::Lit(lit));
        if next <= self.args.len() {
            return Err(self.wrong(next, "value", "has no verb in the spec to take it"));
        }
        Ok(from_parts(parts))
    }

    fn replace(&self) -> Result<Expr> {
        self.count(3, 3)?;
        let text = self.text(1, "text")?;
        let find = self.text(2, "find")?;
        let with = self.text(3, "with")?;
        if find.is_empty() {
            return Err(self.wrong(2, "find", "must not be empty"));
        }
        Ok(Expr::Lit(Value::Str(text.replace(&find, &with))))
    }

    fn min_max(&self, max: bool) -> Result<Expr> {
        self.count(1, usize::MAX)?;
        let numbers: Vec<i64> = (1..=self.args.len()).map(|n| self.int(n, "number")).collect::<Result<_>>()?;
        let v = if max { numbers.iter().max() } else { numbers.iter().min() };
        Ok(Expr::Lit(Value::Int(*v.expect("one at least"))))
    }

    fn prefix(&self, n: usize) -> Result<IpNet> {
        let text = self.text(n, "prefix")?;
        text.parse::<IpNet>()
            .map_err(|_| self.wrong(n, "prefix", format!("`{text}` is not a CIDR block, like `10.0.0.0/16`")))
    }

    fn cidrsubnet(&self) -> Result<Expr> {
        self.count(3, 3)?;
        let net = self.prefix(1)?.trunc();
        let newbits = self.int(2, "newbits")?;
        let netnum = self.int(3, "netnum")?;
        let new_len = i64::from(net.prefix_len()) + newbits;
        if newbits < 0 || new_len > i64::from(net.max_prefix_len()) {
            return Err(self.wrong(
                2,
                "newbits",
                format!("{newbits} would make a /{new_len}, past /{}", net.max_prefix_len()),
            ));
        }
        if netnum < 0 || (newbits < 64 && netnum >= 1i64 << newbits) {
            return Err(self.wrong(
                3,
                "netnum",
                format!("{netnum} does not fit in {newbits} bits (0 to {})", (1i128 << newbits) - 1),
            ));
        }
        let host_bits = u32::from(net.max_prefix_len()) - new_len as u32;
        let offset = (netnum as u128) << host_bits;
        let sub = match net {
            IpNet::V4(n) => {
                let base = u32::from(n.network()) as u128 + offset;
                IpNet::new(IpAddr::V4((base as u32).into()), new_len as u8)
            }
            IpNet::V6(n) => {
                let base = u128::from(n.network()) + offset;
                IpNet::new(IpAddr::V6(base.into()), new_len as u8)
            }
        };
        Ok(Expr::Lit(Value::Str(sub.expect("a prefix within range").to_string())))
    }

    fn cidrhost(&self) -> Result<Expr> {
        self.count(2, 2)?;
        let net = self.prefix(1)?.trunc();
        let hostnum = self.int(2, "hostnum")?;
        let host_bits = u32::from(net.max_prefix_len() - net.prefix_len());
        let size: i128 = 1i128 << host_bits.min(127);
        if hostnum < 0 || i128::from(hostnum) >= size {
            return Err(self.wrong(2, "hostnum", format!("{hostnum} is not in {net} (0 to {})", size - 1)));
        }
        let host = match net {
            IpNet::V4(n) => IpAddr::V4((u32::from(n.network()) + hostnum as u32).into()),
            IpNet::V6(n) => IpAddr::V6((u128::from(n.network()) + hostnum as u128).into()),
        };
        Ok(Expr::Lit(Value::Str(host.to_string())))
    }

    fn templatefile(&self, names: &mut dyn Names) -> Result<Expr> {
        self.count(2, 2)?;
        // A template that renders itself (or a ring of them) would never end.
        thread_local!(static DEPTH: std::cell::Cell<usize> = const { std::cell::Cell::new(0) });
        let depth = DEPTH.with(|d| d.get());
        if depth >= 8 {
            return Err(self.wrong(1, FILE, "renders templates more than 8 deep: does a template render itself?"));
        }
        DEPTH.with(|d| d.set(depth + 1));
        let out = self.render_template(names);
        DEPTH.with(|d| d.set(depth));
        out
    }

    fn render_template(&self, names: &mut dyn Names) -> Result<Expr> {
        let path = self.text(1, FILE)?;
        let vars = self.mapping(2, "mapping")?;
        let text = names.read_file(&path).map_err(|e| self.wrong(1, FILE, e))?;
        let pieces = crate::template::split(&text).map_err(|e| {
            self.wrong(1, FILE, format!("holds a template error at character {}: {}", e.offset, e.message))
        })?;
        let mut scope = TemplateNames { vars: &vars, outer: names, file: &path };
        let mut parts = Vec::new();
        for piece in pieces {
            match piece {
                crate::template::Piece::Text(t) => parts.push(Part::Lit(t)),
                crate::template::Piece::Ref { body, offset } => {
                    let at = |message: String| {
                        EvalError::new(format!("`{path}`, `${{{body}}}` at character {offset}: {message}"))
                    };
                    let ast = syntax::parse(&body).map_err(|e| at(e.message))?;
                    let value = eval(&ast, &mut scope).map_err(|e| match e {
                        EvalError::Wrong(m, h) => EvalError::Wrong(format!("`{path}`, `${{{body}}}`: {m}"), h),
                        other => other,
                    })?;
                    parts.extend(
                        text_parts(&value)
                            .ok_or_else(|| at(format!("{} cannot be part of a text", describe(&value))))?,
                    );
                }
            }
        }
        Ok(from_parts(parts))
    }

    fn jsonencode(&self) -> Result<Expr> {
        self.count(1, 1)?;
        let v = known(self.arg(1)).ok_or_else(|| {
            self.wrong(1, "value", format!("must be known when the spec is read, found {}", describe(self.arg(1))))
        })?;
        Ok(Expr::Lit(Value::Str(json(&v).to_string())))
    }

    fn yamlencode(&self) -> Result<Expr> {
        self.count(1, 1)?;
        let v = known(self.arg(1)).ok_or_else(|| {
            self.wrong(1, "value", format!("must be known when the spec is read, found {}", describe(self.arg(1))))
        })?;
        let mut out = String::new();
        yaml(&v, 0, &mut out);
        Ok(Expr::Lit(Value::Str(out)))
    }
}

/// A known value as JSON (mappings with their keys in order).
pub fn json(v: &Value) -> serde_json::Value {
    match v {
        Value::Null | Value::Unknown => serde_json::Value::Null,
        Value::Bool(b) => serde_json::Value::Bool(*b),
        Value::Int(i) => serde_json::Value::from(*i),
        Value::Str(s) | Value::Sensitive(s) => serde_json::Value::String(s.clone()),
        Value::List(items) => serde_json::Value::Array(items.iter().map(json).collect()),
        Value::Map(m) => serde_json::Value::Object(m.iter().map(|(k, v)| (k.clone(), json(v))).collect()),
    }
}

/// A text as YAML takes it: plain when it cannot be read as anything else, quoted
/// (JSON's quoting, which YAML reads) otherwise.
fn yaml_text(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c))
        && !s.starts_with(['-', '.'])
        && s.parse::<f64>().is_err()
        && !["true", "false", "yes", "no", "on", "off", "null", "y", "n", "~"]
            .contains(&s.to_ascii_lowercase().as_str());
    if plain {
        s.to_string()
    } else {
        serde_json::Value::String(s.to_string()).to_string()
    }
}

/// A known value as block-style YAML, `depth` levels in.
fn yaml(v: &Value, depth: usize, out: &mut String) {
    let pad = "  ".repeat(depth);
    match v {
        Value::List(items) if !items.is_empty() => {
            for item in items {
                out.push_str(&format!("{pad}-"));
                match item {
                    Value::List(l) if !l.is_empty() => {
                        out.push('\n');
                        yaml(item, depth + 1, out);
                    }
                    Value::Map(m) if !m.is_empty() => {
                        out.push('\n');
                        yaml(item, depth + 1, out);
                    }
                    scalar => out.push_str(&format!(" {}\n", yaml_scalar(scalar))),
                }
            }
        }
        Value::Map(m) if !m.is_empty() => {
            for (k, item) in m {
                out.push_str(&format!("{pad}{}:", yaml_text(k)));
                match item {
                    Value::List(l) if !l.is_empty() => {
                        out.push('\n');
                        yaml(item, depth + 1, out);
                    }
                    Value::Map(m) if !m.is_empty() => {
                        out.push('\n');
                        yaml(item, depth + 1, out);
                    }
                    scalar => out.push_str(&format!(" {}\n", yaml_scalar(scalar))),
                }
            }
        }
        scalar => out.push_str(&format!("{pad}{}\n", yaml_scalar(scalar))),
    }
}

fn yaml_scalar(v: &Value) -> String {
    match v {
        Value::Null | Value::Unknown => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Str(s) | Value::Sensitive(s) => yaml_text(s),
        Value::List(_) => "[]".into(),
        Value::Map(_) => "{}".into(),
    }
}

/// Names inside a template: its variables only (and the functions).
struct TemplateNames<'a> {
    vars: &'a BTreeMap<String, Expr>,
    outer: &'a mut dyn Names,
    file: &'a str,
}

impl Names for TemplateNames<'_> {
    fn name(&mut self, text: &str) -> Option<Expr> {
        // Never reached for a missing name: `resolve` below says why first.
        self.resolve(text).ok()
    }

    fn read_file(&mut self, path: &str) -> std::result::Result<String, String> {
        self.outer.read_file(path)
    }
}

impl TemplateNames<'_> {
    /// `name`, `name.field`, `name[0]`, `name["key"]` in the template's variables.
    fn resolve(&self, text: &str) -> std::result::Result<Expr, EvalError> {
        let end = text.find(['.', '[']).unwrap_or(text.len());
        let (first, mut rest) = (&text[..end], &text[end..]);
        let Some(mut value) = self.vars.get(first).cloned() else {
            let have: Vec<&str> = self.vars.keys().map(String::as_str).collect();
            return Err(EvalError::hint(
                format!("the template `{}` has no variable `{first}`", self.file),
                format!(
                    "give it in the mapping of `templatefile`; it has {}",
                    if have.is_empty() { "none".to_string() } else { have.join(", ") }
                ),
            ));
        };
        while !rest.is_empty() {
            let (key, tail) = if let Some(r) = rest.strip_prefix('.') {
                let end = r.find(['.', '[']).unwrap_or(r.len());
                (Expr::Lit(Value::str(&r[..end])), &r[end..])
            } else {
                let close = rest.find(']').unwrap_or(rest.len() - 1);
                let inner = rest[1..close].trim_matches('"');
                let key = inner
                    .parse::<i64>()
                    .map(|i| Expr::Lit(Value::Int(i)))
                    .unwrap_or_else(|_| Expr::Lit(Value::str(inner)));
                (key, &rest[close + 1..])
            };
            value = match (items(&value), entries(&value)) {
                (Some(list), _) => number(&key).and_then(|i| list.get(usize::try_from(i).ok()?).cloned()),
                (_, Some(m)) => known(&key).and_then(|k| k.as_str().and_then(|k| m.get(k).cloned())),
                _ => None,
            }
            .ok_or_else(|| EvalError::new(format!("`{text}` names nothing in the template's variables")))?;
            rest = tail;
        }
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    struct NoNames;
    impl Names for NoNames {
        fn name(&mut self, _: &str) -> Option<Expr> {
            None
        }
        fn read_file(&mut self, path: &str) -> std::result::Result<String, String> {
            Err(format!("no file {path}"))
        }
    }

    fn run(text: &str) -> Result<Expr> {
        eval(&syntax::parse(text).unwrap(), &mut NoNames)
    }

    fn val(text: &str) -> Value {
        known(&run(text).unwrap_or_else(|e| panic!("{text}: {e:?}"))).unwrap()
    }

    fn err(text: &str) -> String {
        match run(text) {
            Err(EvalError::Wrong(m, h)) => format!("{m} / {}", h.unwrap_or_default()),
            other => panic!("{text}: {other:?}"),
        }
    }

    #[test]
    fn each_function_gives_what_terraform_users_expect() {
        assert_eq!(val("length([1, 2, 3])"), Value::Int(3));
        assert_eq!(val("length({a: 1})"), Value::Int(1));
        assert_eq!(val("concat([1], [2, 3])"), Value::List(vec![Value::Int(1), Value::Int(2), Value::Int(3)]));
        assert_eq!(val("lookup(merge({a: 1}, {a: 2, b: 3}), \"a\", 0)"), Value::Int(2));
        assert_eq!(val("lookup({a: 1}, \"z\", 9)"), Value::Int(9));
        assert_eq!(val("element([\"a\", \"b\"], 3)"), Value::str("b"));
        assert_eq!(val("keys({b: 1, a: 2})"), Value::List(vec![Value::str("a"), Value::str("b")]));
        assert_eq!(val("join(\",\", split(\"-\", \"a-b-c\"))"), Value::str("a,b,c"));
        assert_eq!(val("format(\"%s-%d%%\", \"web\", 7)"), Value::str("web-7%"));
        assert_eq!(val("upper(replace(\"a.b\", \".\", \"_\"))"), Value::str("A_B"));
        assert_eq!(val("max(3, min(9, 5), 4)"), Value::Int(5));
        assert_eq!(val("cidrsubnet(\"10.0.0.0/16\", 8, 2)"), Value::str("10.0.2.0/24"));
        assert_eq!(val("cidrsubnet(\"2600:1f18:6a2::/56\", 8, 1)"), Value::str("2600:1f18:6a2:1::/64"));
        assert_eq!(val("cidrhost(\"10.0.1.0/24\", 5)"), Value::str("10.0.1.5"));
        assert_eq!(val("jsonencode({b: [1, true], a: \"x\"})"), Value::str("{\"a\":\"x\",\"b\":[1,true]}"));
        assert_eq!(
            val("yamlencode({a: [\"x\", \"true\"], b: {c: 1}})"),
            Value::str("a:\n  - x\n  - \"true\"\nb:\n  c: 1\n")
        );
        assert_eq!(val("2 + 3 * 4 - 10 / 3 % 2"), Value::Int(13));
        assert_eq!(val("1 < 2 && !(2 == 3) ? \"y\" : \"n\""), Value::str("y"));
        assert_eq!(val("[1, 2][1]"), Value::Int(2));
        assert_eq!(val("{a: {b: 5}}.a.b"), Value::Int(5));
    }

    #[test]
    fn errors_name_the_function_and_the_argument() {
        assert!(err("cidrsubnet(\"10.0.0.0/16\", \"x\", 1)")
            .contains("`cidrsubnet`: argument 2 (newbits) must be a whole number"));
        assert!(err("cidrsubnet(\"10.0.0.0/30\", 8, 1)").contains("argument 2 (newbits) 8 would make a /38"));
        assert!(err("cidrsubnet(\"10.0.0.0/16\", 2, 4)").contains("argument 3 (netnum) 4 does not fit in 2 bits"));
        assert!(err("cidrhost(\"10.0.0.0/16\", 70000)").contains("argument 2 (hostnum)"));
        assert!(err("lenght([1])").contains("did you mean `length`?"));
        assert!(err("join(\",\")").contains("`join` takes 2 arguments, given 1 / it is called `join(separator, list)`"));
        assert!(err("lookup({a: 1}, \"b\")").contains("\"b\" is not in the mapping (its keys are a)"));
        assert!(err("format(\"%s %s\", \"a\")").contains("more verbs than the 1 values given"));
        assert!(err("\"a\" + 1").contains("`+` adds numbers"));
        assert!(err("1 / 0").contains("divides by zero"));
        assert!(err("file(\"x.txt\")").contains("`file`: argument 1 (file) no file x.txt"));
        // A template that renders itself stops.
        struct Loop;
        impl Names for Loop {
            fn name(&mut self, _: &str) -> Option<Expr> {
                None
            }
            fn read_file(&mut self, _: &str) -> std::result::Result<String, String> {
                Ok("${templatefile(\"t\", {})}".into())
            }
        }
        let looped = eval(&syntax::parse("templatefile(\"t\", {})").unwrap(), &mut Loop);
        assert!(matches!(looped, Err(EvalError::Wrong(m, _)) if m.contains("more than 8 deep")));
    }

    proptest! {
        #[test]
        fn arithmetic_is_integer_arithmetic(a in -1_000_000i64..1_000_000, b in 1i64..1000, c in -1000i64..1000) {
            let text = format!("({a}) + ({b}) * ({c}) - ({a}) / ({b}) % ({b})");
            let want = a + b * c - a / b % b;
            prop_assert_eq!(val(&text), Value::Int(want));
        }

        #[test]
        fn split_undoes_join(words in prop::collection::vec("[a-z0-9 ]{1,6}", 1..6)) {
            let list: Vec<String> = words.iter().map(|w| format!("{w:?}")).collect();
            let text = format!("split(\",\", join(\",\", [{}]))", list.join(", "));
            prop_assert_eq!(val(&text), Value::List(words.iter().map(Value::str).collect()));
        }

        #[test]
        fn a_subnet_lies_inside_its_block_and_its_hosts_inside_it(a in 0u8..=255, b in 0u8..=255, len in 8u8..=24, newbits in 1i64..=8, pick in 0i64..256, host in 0i64..8) {
            let block = format!("{a}.{b}.0.0/{len}");
            let netnum = pick % (1 << newbits);
            let sub = val(&format!("cidrsubnet({block:?}, {newbits}, {netnum})"));
            let sub: ipnet::Ipv4Net = sub.as_str().unwrap().parse().unwrap();
            let parent: ipnet::Ipv4Net = block.parse::<ipnet::Ipv4Net>().unwrap().trunc();
            prop_assert!(parent.contains(&sub));
            prop_assert_eq!(i64::from(sub.prefix_len()), i64::from(len) + newbits);
            let host = host % (1i64 << (32 - sub.prefix_len()));
            let ip = val(&format!("cidrhost({:?}, {host})", sub.to_string()));
            let ip: std::net::Ipv4Addr = ip.as_str().unwrap().parse().unwrap();
            prop_assert!(sub.contains(&ip));
        }

        #[test]
        fn jsonencode_writes_what_json_reads(words in prop::collection::btree_map("[a-z]{1,5}", "[ -~]{0,8}", 0..5), n in any::<i64>()) {
            let mut m: BTreeMap<String, Value> = words.into_iter().map(|(k, v)| (k, Value::Str(v))).collect();
            m.insert("n".into(), Value::Int(n));
            let encoded = json(&Value::Map(m.clone())).to_string();
            let back: serde_json::Value = serde_json::from_str(&encoded).unwrap();
            prop_assert_eq!(back, json(&Value::Map(m)));
        }

        #[test]
        fn yamlencode_writes_what_yaml_reads(words in prop::collection::btree_map("[a-z]{1,5}", "[ -~]{0,8}", 1..5)) {
            let m: BTreeMap<String, Value> = words.iter().map(|(k, v)| (k.clone(), Value::Str(v.clone()))).collect();
            let mut text = String::new();
            yaml(&Value::Map(m), 0, &mut text);
            let doc = marked_yaml::parse_yaml(0, &text).unwrap();
            let read = doc.as_mapping().unwrap();
            for (k, v) in &words {
                prop_assert_eq!(read.get_scalar(k).map(|s| s.as_str().to_string()), Some(v.clone()), "{}", text);
            }
        }
    }
}
