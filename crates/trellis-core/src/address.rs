use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::kinds;
use crate::schema::Kind;

/// A resource's address: `kind.name`, the key it has under `resources:` in a spec. It
/// carries its kind's schema, so code that holds an address never looks the kind up by
/// name; it is written (and compared, and ordered) as `kind.name`.
#[derive(Clone)]
pub struct Address {
    pub kind: &'static Kind,
    pub name: String,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AddressError {
    #[error("`{0}` is not an address: expected `kind.name`")]
    Shape(String),
    #[error("`{0}` is not a valid resource name: use lower-case letters, digits and `_`, starting with a letter")]
    Name(String),
    /// The address is well formed, but trellis knows no kind of that name.
    #[error("unknown resource kind `{kind}` in `{address}`")]
    UnknownKind { address: String, kind: String },
}

impl Address {
    pub fn new(kind: &'static Kind, name: impl Into<String>) -> Self {
        Address { kind, name: name.into() }
    }

    fn key(&self) -> (&str, &str) {
        (self.kind.name, &self.name)
    }
}

impl PartialEq for Address {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}

impl Eq for Address {}

impl PartialOrd for Address {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Address {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.key().cmp(&other.key())
    }
}

impl std::hash::Hash for Address {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.key().hash(state)
    }
}

impl fmt::Debug for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Address({self})")
    }
}

pub(crate) fn valid_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

impl FromStr for Address {
    type Err = AddressError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (kind, name) = s.split_once('.').ok_or_else(|| AddressError::Shape(s.to_string()))?;
        if kind.is_empty() || name.is_empty() || name.contains('.') {
            return Err(AddressError::Shape(s.to_string()));
        }
        if !valid_name(kind) || !valid_name(name) {
            return Err(AddressError::Name(s.to_string()));
        }
        let known = kinds::get(kind)
            .ok_or_else(|| AddressError::UnknownKind { address: s.to_string(), kind: kind.to_string() })?;
        Ok(Address::new(known, name))
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.kind.name, self.name)
    }
}

impl Serialize for Address {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Address {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints() {
        let a: Address = "subnet.public_a".parse().unwrap();
        assert_eq!(a.kind.name, "subnet");
        assert_eq!(a.name, "public_a");
        assert_eq!(a.to_string(), "subnet.public_a");
    }

    #[test]
    fn rejects_bad_shapes() {
        assert_eq!("subnet".parse::<Address>(), Err(AddressError::Shape("subnet".into())));
        assert_eq!("a.b.c".parse::<Address>(), Err(AddressError::Shape("a.b.c".into())));
        assert_eq!("subnet.Public".parse::<Address>(), Err(AddressError::Name("subnet.Public".into())));
        assert_eq!(
            "subnt.a".parse::<Address>(),
            Err(AddressError::UnknownKind { address: "subnt.a".into(), kind: "subnt".into() })
        );
    }
}
