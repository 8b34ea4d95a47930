//! Spec text from expressions: what `trellis discover` writes. Block style for mappings
//! and lists, strings quoted only where YAML or the spec language needs it, references
//! as `${kind.name}`, and a literal `${` written `$${`, so the parser gives back the
//! expression it was given (`tests/emit.rs` checks that both ways).

use std::fmt::Write;

use trellis_core::Part;
use trellis_core::{Expr, Value};

/// One `key: value` entry of a mapping, `value` indented under `key` when it is a
/// non-empty mapping or list. `indent` is the key's column.
pub fn entry(out: &mut String, indent: usize, key: &str, value: &Expr) {
    let pad = " ".repeat(indent);
    // Keys are never read for references: not escaped.
    let key = quote_if_needed(key);
    match &lift(value) {
        Expr::Map(m) if !m.is_empty() => {
            let _ = writeln!(out, "{pad}{key}:");
            for (k, v) in m {
                entry(out, indent + 2, k, v);
            }
        }
        Expr::List(items) | Expr::Set(items) if !items.is_empty() => {
            let _ = writeln!(out, "{pad}{key}:");
            for item in items {
                list_item(out, indent + 2, item);
            }
        }
        other => {
            let _ = writeln!(out, "{pad}{key}: {}", inline(other));
        }
    }
}

/// `- item` at `indent`; a mapping's first entry goes on the dash's line.
fn list_item(out: &mut String, indent: usize, item: &Expr) {
    let pad = " ".repeat(indent);
    match &lift(item) {
        Expr::Map(m) if !m.is_empty() => {
            let mut first = true;
            for (k, v) in m {
                let mut one = String::new();
                entry(&mut one, indent + 2, k, v);
                if first {
                    // Replace the first entry's indentation with the dash.
                    let _ = write!(out, "{pad}- {}", &one[indent + 2..]);
                    first = false;
                } else {
                    out.push_str(&one);
                }
            }
        }
        Expr::List(items) | Expr::Set(items) if !items.is_empty() => {
            let _ = writeln!(out, "{pad}-");
            for i in items {
                list_item(out, indent + 2, i);
            }
        }
        other => {
            let _ = writeln!(out, "{pad}- {}", inline(other));
        }
    }
}

/// A literal mapping or list as expressions, so it is written in block style too.
fn lift(e: &Expr) -> Expr {
    match e {
        Expr::Lit(Value::Map(m)) => Expr::Map(m.iter().map(|(k, v)| (k.clone(), Expr::Lit(v.clone()))).collect()),
        Expr::Lit(Value::List(items)) => Expr::List(items.iter().cloned().map(Expr::Lit).collect()),
        other => other.clone(),
    }
}

/// A value on one line: a scalar, a reference, or an empty collection.
fn inline(e: &Expr) -> String {
    match e {
        Expr::Lit(v) => value_inline(v),
        Expr::Ref(r) => r.to_string(),
        Expr::Template(parts) => {
            let mut s = String::new();
            for p in parts {
                match p {
                    Part::Lit(t) => s.push_str(&t.replace("${", "$${")),
                    Part::Ref(r) => s.push_str(&r.to_string()),
                    Part::Env(name) => {
                        let _ = write!(s, "${{env.{name}}}");
                    }
                }
            }
            quote_if_needed(&s)
        }
        Expr::List(_) | Expr::Set(_) => "[]".into(),
        Expr::Map(_) => "{}".into(),
    }
}

fn value_inline(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Str(s) => scalar_text(s),
        Value::List(items) if items.is_empty() => "[]".into(),
        Value::Map(m) if m.is_empty() => "{}".into(),
        Value::List(items) => format!("[{}]", items.iter().map(value_inline).collect::<Vec<_>>().join(", ")),
        Value::Map(m) => {
            let parts: Vec<String> =
                m.iter().map(|(k, v)| format!("{}: {}", quote_if_needed(k), value_inline(v))).collect();
            format!("{{ {} }}", parts.join(", "))
        }
        // Never written by discover: secrets are `${env.…}`, and nothing is unknown.
        Value::Unknown | Value::Sensitive(_) => "null".into(),
    }
}

/// A literal string as spec text: `${` escaped, quoted where YAML would read it
/// otherwise.
pub fn scalar_text(s: &str) -> String {
    quote_if_needed(&s.replace("${", "$${"))
}

/// Plain when YAML reads the text back unchanged as a string (or it is one reference,
/// `${vpc.main}`, which block style takes plain); otherwise double-quoted, escaped as
/// JSON escapes, which YAML's double-quoted strings share.
fn quote_if_needed(s: &str) -> String {
    let plain = is_one_ref(s)
        || (!s.is_empty()
            && s.chars().all(|c| c.is_ascii_alphanumeric() || " _-./:@+=()*;?&!^~<>|%$".contains(c))
            && !s.starts_with(|c: char| " -?:@&*!|>%$~".contains(c))
            && !s.ends_with([' ', ':'])
            && !s.contains(": ")
            && !matches!(s.to_ascii_lowercase().as_str(), "null" | "true" | "false" | "yes" | "no" | "on" | "off"));
    if plain {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `${…}` with nothing around it: a reference (or `${env.NAME}`).
fn is_one_ref(s: &str) -> bool {
    s.starts_with("${")
        && s.ends_with('}')
        && s[2..].find('}') == Some(s.len() - 3)
        && !s[2..].contains(['{', ' ', '"'])
}
