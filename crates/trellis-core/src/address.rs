use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A resource's address: `kind.name`, the key it has under `resources:` in a spec.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Address {
    pub kind: String,
    pub name: String,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AddressError {
    #[error("`{0}` is not an address: expected `kind.name`")]
    Shape(String),
    #[error("`{0}` is not a valid resource name: use lower-case letters, digits and `_`, starting with a letter")]
    Name(String),
}

impl Address {
    pub fn new(kind: impl Into<String>, name: impl Into<String>) -> Self {
        Address { kind: kind.into(), name: name.into() }
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
        Ok(Address::new(kind, name))
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.kind, self.name)
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
        assert_eq!(a.kind, "subnet");
        assert_eq!(a.name, "public_a");
        assert_eq!(a.to_string(), "subnet.public_a");
    }

    #[test]
    fn rejects_bad_shapes() {
        assert_eq!("subnet".parse::<Address>(), Err(AddressError::Shape("subnet".into())));
        assert_eq!("a.b.c".parse::<Address>(), Err(AddressError::Shape("a.b.c".into())));
        assert_eq!("subnet.Public".parse::<Address>(), Err(AddressError::Name("subnet.Public".into())));
    }
}
