//! What AWS takes of a value, as each attribute declares it (`Attr::min_len`,
//! `max_len`, `range`, `pattern` from AWS's API models, and `valid` for the rules
//! AWS states only in words): a literal outside it is refused where it is written,
//! instead of by AWS halfway through an apply.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use trellis_core::schema::{Attr, Type};
use trellis_core::{Expr, Value};

use super::*;

/// A model's pattern (Java's syntax, unanchored in Smithy but applied whole by AWS)
/// as a Rust regex over the whole value; `None` when it cannot be read.
fn compiled(pattern: &'static str) -> Option<regex::Regex> {
    static CACHE: OnceLock<Mutex<HashMap<&'static str, Option<regex::Regex>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
    let mut cache = cache.lock().unwrap_or_else(|e| e.into_inner());
    cache
        .entry(pattern)
        .or_insert_with(|| {
            let rust = pattern
                // Java's `\w` is ASCII; Rust's is Unicode.
                .replace("\\w", "0-9A-Za-z_")
                // Java writes the astral planes as UTF-16 surrogate pairs.
                .replace("\\uD800\\uDC00-\\uDBFF\\uDFFF", "\\u{10000}-\\u{10FFFF}");
            // `\w` stood inside a class in every model pattern this reads; outside
            // one it would need brackets of its own.
            regex::Regex::new(&format!("^(?:{rust})$")).ok()
        })
        .clone()
}

/// The problems of `value` against what `attr` declares AWS takes.
/// `top`: an attribute of the resource itself, whose string's longest the resource's
/// own check says (with its advice on generated names).
pub(crate) fn problems(attr: &Attr, value: &Expr, top: bool) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let count = match value {
        Expr::List(items) | Expr::Set(items) => Some(items.len()),
        Expr::Map(items) => Some(items.len()),
        Expr::Lit(Value::List(items)) => Some(items.len()),
        Expr::Lit(Value::Map(items)) => Some(items.len()),
        Expr::Lit(Value::Str(s)) => Some(s.chars().count()),
        _ => None,
    };
    let unit = if matches!(attr.ty, Type::List(_) | Type::Set(_) | Type::Map) { "items" } else { "characters" };
    if let Some(n) = count {
        if let Some(min) = attr.min_len.filter(|m| n < *m) {
            out.push((
                format!("`{}` is {n} {unit}; AWS takes at least {min}", attr.name),
                if unit == "items" {
                    "give one or more".to_string()
                } else {
                    "give a value, or leave it out".to_string()
                },
            ));
        }
        let said_elsewhere = top && unit == "characters";
        if let Some(max) = attr.max_len.filter(|m| n > *m && !said_elsewhere) {
            out.push((format!("`{}` is {n} {unit}; AWS takes at most {max}", attr.name), "shorten it".to_string()));
        }
    }
    if let (Some((lo, hi)), Expr::Lit(Value::Int(n))) = (attr.range, value) {
        if !(lo..=hi).contains(n) {
            let span = if hi == i64::MAX { format!("{lo} or more") } else { format!("{lo} to {hi}") };
            out.push((format!("`{}` is {n}; AWS takes {span}", attr.name), format!("give a value from {span}")));
        }
    }
    if let (Some(pattern), Expr::Lit(Value::Str(s))) = (attr.pattern, value) {
        if compiled(pattern).is_some_and(|re| !re.is_match(s)) {
            let shown: String = if attr.sensitive { "(sensitive)".into() } else { s.chars().take(60).collect() };
            out.push((
                format!("`{}` is `{shown}`, which AWS does not take", attr.name),
                format!("AWS's API takes values matching `{pattern}`"),
            ));
        }
    }
    if let (Some(valid), Expr::Lit(v)) = (attr.valid, value) {
        if let Some(why) = valid(v) {
            out.push((format!("`{}`: {why}", attr.name), "AWS's API reference states this limit".to_string()));
        }
    }
    out
}

/// What AWS would refuse of a value read from outside the spec (a secret from the
/// environment), without the value: `None` when it is fine.
pub fn refused(attr: &Attr, value: &Value) -> Option<String> {
    let said: Vec<String> = problems(attr, &Expr::Lit(value.clone()), false).into_iter().map(|(m, _)| m).collect();
    (!said.is_empty()).then(|| said.join("; "))
}

impl Parser<'_> {
    /// Refuses, at `span`, a literal of `attr` that AWS would refuse.
    pub(super) fn check_aws_limits(&mut self, attr: &Attr, value: &Expr, span: Span, top: bool) {
        for (message, hint) in problems(attr, value, top) {
            self.error(message, Some(span), Some(hint));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_models_patterns_read_as_aws_applies_them() {
        let iam = compiled("[\\w+=,.@-]+").unwrap();
        assert!(iam.is_match("web-role_1@x"));
        assert!(!iam.is_match("web role") && !iam.is_match("rôle"));
        let xml = compiled("[\\u0020-\\uD7FF\\uE000-\\uFFFD\\uD800\\uDC00-\\uDBFF\\uDFFF\\r\\n\\t]*").unwrap();
        assert!(xml.is_match("any name, ünïcode and 🙂"));
        assert!(!xml.is_match("bell\u{7}"));
        let text = compiled("[\\u0009\\u000A\\u000D\\u0020-\\u007E\\u00A1-\\u00FF]*").unwrap();
        assert!(text.is_match("café\tok") && !text.is_match("→"));
        let namespace = compiled("[^:].*").unwrap();
        assert!(namespace.is_match("AWS/EC2") && !namespace.is_match(":x"));
    }
}
