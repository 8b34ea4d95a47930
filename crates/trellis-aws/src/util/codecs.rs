//! Translations between the spec's spelling and AWS's: protocols, user data (base64)
//! and IAM's JSON documents.

use trellis_core::Value;

use super::str_attr;

/// AWS's protocol names and numbers, as the spec writes them.
pub(crate) fn protocol_name(p: &str) -> String {
    match p {
        "6" | "tcp" => "tcp".into(),
        "17" | "udp" => "udp".into(),
        "1" | "icmp" => "icmp".into(),
        "-1" | "all" => "all".into(),
        other => other.into(),
    }
}

pub(crate) fn protocol_number(p: &str) -> &str {
    match p {
        "tcp" => "6",
        "udp" => "17",
        "icmp" => "1",
        "all" => "-1",
        other => other,
    }
}

/// User data as AWS returns it (base64), as the text the spec gave.
pub(crate) fn decode_user_data(b64: Option<&str>) -> Value {
    use base64::Engine;
    match b64.filter(|b| !b.is_empty()) {
        None => Value::Null,
        Some(b) => match base64::engine::general_purpose::STANDARD.decode(b) {
            Ok(bytes) => Value::Str(String::from_utf8_lossy(&bytes).into_owned()),
            Err(_) => Value::str(b),
        },
    }
}

/// The spec's text as AWS takes user data (base64).
pub(crate) fn encode_user_data(attrs: &trellis_core::Attrs) -> Option<String> {
    use base64::Engine;
    str_attr(attrs, "user_data").map(|u| base64::engine::general_purpose::STANDARD.encode(u))
}

/// A document attribute (`Type::Document`) as the JSON IAM takes.
pub(crate) fn document_json(v: &Value) -> String {
    fn json(v: &Value) -> serde_json::Value {
        match v {
            Value::Map(m) => serde_json::Value::Object(m.iter().map(|(k, v)| (k.clone(), json(v))).collect()),
            Value::List(items) => serde_json::Value::Array(items.iter().map(json).collect()),
            Value::Int(i) => serde_json::Value::from(*i),
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Null => serde_json::Value::Null,
            other => serde_json::Value::String(other.as_str().unwrap_or_default().to_string()),
        }
    }
    json(v).to_string()
}

/// A document as AWS returns it (JSON, URL-encoded by IAM) in the shape the spec
/// writes it: mappings, lists and strings (JSON's numbers and booleans as their text).
pub(crate) fn document_value(text: &str) -> Value {
    fn value(j: serde_json::Value) -> Value {
        match j {
            serde_json::Value::Object(m) => Value::Map(m.into_iter().map(|(k, v)| (k, value(v))).collect()),
            serde_json::Value::Array(items) => Value::List(items.into_iter().map(value).collect()),
            serde_json::Value::String(s) => Value::Str(s),
            serde_json::Value::Null => Value::Null,
            other => Value::Str(other.to_string()),
        }
    }
    let text = text.trim();
    let decoded = if text.starts_with('{') {
        std::borrow::Cow::Borrowed(text)
    } else {
        percent_encoding::percent_decode_str(text).decode_utf8_lossy()
    };
    match serde_json::from_str(&decoded) {
        Ok(j) => value(j),
        // Not JSON: shown as the text AWS gave, so the plan names the difference.
        Err(_) => Value::Str(decoded.into_owned()),
    }
}
