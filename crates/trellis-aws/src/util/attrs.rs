//! Reading the schema-shaped attributes a kind's request is built from, and the values
//! an answer gives back.

use trellis_core::Value;

pub(crate) fn opt_int(v: Option<i32>) -> Value {
    v.map(|i| Value::Int(i.into())).unwrap_or(Value::Null)
}

pub(crate) fn opt_str(v: Option<&str>) -> Value {
    v.map(Value::str).unwrap_or(Value::Null)
}

pub(crate) fn str_attr<'a>(attrs: &'a trellis_core::Attrs, name: &str) -> Option<&'a str> {
    attrs.get(name).and_then(Value::as_str)
}

pub(crate) fn bool_attr(attrs: &trellis_core::Attrs, name: &str) -> Option<bool> {
    attrs.get(name).and_then(Value::as_bool)
}

pub(crate) fn list_attr<'a>(attrs: &'a trellis_core::Attrs, name: &str) -> &'a [Value] {
    attrs.get(name).map(Value::as_list).unwrap_or(&[])
}

/// Items of `want` missing from `have`.
pub(crate) fn missing_from<'a>(want: &'a [Value], have: &[Value]) -> Vec<&'a Value> {
    want.iter().filter(|w| !have.contains(w)).collect()
}
