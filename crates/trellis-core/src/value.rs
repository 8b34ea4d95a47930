use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The attributes of one resource, by name.
pub type Attrs = BTreeMap<String, Value>;

/// A value of an attribute: what a spec asks for, what AWS reports, or what a plan
/// expects. `Unknown` stands for a value that only exists after apply (an id AWS has
/// yet to assign); it never appears in a state.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Value {
    #[default]
    Null,
    Bool(bool),
    Int(i64),
    Str(String),
    List(Vec<Value>),
    Map(BTreeMap<String, Value>),
    Unknown,
    /// A secret, as its salted digest (`sha256:<salt>:<hex>`, see `secret`): what
    /// states and plans hold in place of a sensitive attribute's value.
    Sensitive(String),
}

const UNKNOWN_KEY: &str = "$unknown";
const SENSITIVE_KEY: &str = "$sensitive";

impl Value {
    pub fn str(s: impl Into<String>) -> Value {
        Value::Str(s.into())
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn as_list(&self) -> &[Value] {
        match self {
            Value::List(l) => l,
            _ => &[],
        }
    }

    pub fn as_map(&self) -> Option<&BTreeMap<String, Value>> {
        match self {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    /// True when this value or anything inside it is `Unknown`.
    pub fn has_unknown(&self) -> bool {
        match self {
            Value::Unknown => true,
            Value::List(l) => l.iter().any(Value::has_unknown),
            Value::Map(m) => m.values().any(Value::has_unknown),
            _ => false,
        }
    }

    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            Value::Null => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Int(i) => J::from(*i),
            Value::Str(s) => J::String(s.clone()),
            Value::List(l) => J::Array(l.iter().map(Value::to_json).collect()),
            Value::Map(m) => J::Object(m.iter().map(|(k, v)| (k.clone(), v.to_json())).collect()),
            Value::Unknown => J::Object([(UNKNOWN_KEY.to_string(), J::Bool(true))].into_iter().collect()),
            Value::Sensitive(d) => J::Object([(SENSITIVE_KEY.to_string(), J::String(d.clone()))].into_iter().collect()),
        }
    }

    pub fn from_json(j: &serde_json::Value) -> Value {
        use serde_json::Value as J;
        match j {
            J::Null => Value::Null,
            J::Bool(b) => Value::Bool(*b),
            J::Number(n) => n.as_i64().map(Value::Int).unwrap_or_else(|| Value::Str(n.to_string())),
            J::String(s) => Value::Str(s.clone()),
            J::Array(a) => Value::List(a.iter().map(Value::from_json).collect()),
            J::Object(o) if o.len() == 1 && o.get(UNKNOWN_KEY) == Some(&J::Bool(true)) => Value::Unknown,
            J::Object(o) if o.len() == 1 && o.get(SENSITIVE_KEY).is_some_and(J::is_string) => {
                Value::Sensitive(o[SENSITIVE_KEY].as_str().unwrap_or_default().to_string())
            }
            J::Object(o) => Value::Map(o.iter().map(|(k, v)| (k.clone(), Value::from_json(v))).collect()),
        }
    }
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(s)
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Value::from_json(&serde_json::Value::deserialize(d)?))
    }
}

/// Renders a value the way plans show it: strings quoted, maps as `{ k = v }`.
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("null"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Str(s) => write!(f, "{s:?}"),
            Value::Unknown => f.write_str("(known after apply)"),
            Value::Sensitive(_) => f.write_str("(sensitive)"),
            Value::List(l) => {
                f.write_str("[")?;
                for (i, v) in l.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{v}")?;
                }
                f.write_str("]")
            }
            Value::Map(m) => {
                if m.is_empty() {
                    return f.write_str("{}");
                }
                f.write_str("{ ")?;
                for (i, (k, v)) in m.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{k} = {v}")?;
                }
                f.write_str(" }")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_round_trip_keeps_unknown() {
        let v = Value::Map(
            [("a".to_string(), Value::Unknown), ("b".to_string(), Value::List(vec![Value::Int(1), Value::str("x")]))]
                .into_iter()
                .collect(),
        );
        let text = serde_json::to_string(&v).unwrap();
        let back: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back, v);
        assert!(back.has_unknown());
    }

    #[test]
    fn displays_like_a_plan() {
        let v = Value::Map([("port".to_string(), Value::Int(80))].into_iter().collect());
        assert_eq!(v.to_string(), "{ port = 80 }");
        assert_eq!(Value::Unknown.to_string(), "(known after apply)");
    }
}
