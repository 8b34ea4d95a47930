use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::kinds;
use crate::schema::Kind;

/// A resource's address: `kind.name`, the key it has under `resources:` in a spec, and
/// for one copy of a repeated resource its instance key: `kind.name[0]` (`count`) or
/// `kind.name["a"]` (`for_each`). It carries its kind's schema, so code that holds an
/// address never looks the kind up by name; it is written (and compared, and ordered)
/// as above, copies in index order.
///
/// A resource declared inside a component carries the component's path in front:
/// `component.web.target_group.app`, `component.svc["api"].launch_template.app`, and
/// for components inside components each step in turn.
#[derive(Clone)]
pub struct Address {
    pub kind: &'static Kind,
    pub name: String,
    /// Which copy of a `count` or `for_each` resource; none for a single resource.
    pub key: Option<InstanceKey>,
    /// The component the resource is declared in; none for the stack's own.
    pub component: Option<ComponentPath>,
}

/// One step of a component path: `component.NAME`, with its copy's key when the
/// component has `count` or `for_each`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ComponentStep {
    pub name: String,
    pub key: Option<InstanceKey>,
}

/// The components a resource is nested in, outermost first (never empty).
pub type ComponentPath = Arc<[ComponentStep]>;

/// `component.web`, `component.svc["api"].component.db`: a path as written.
pub fn component_path_text(path: &[ComponentStep]) -> String {
    let mut out = String::new();
    for (i, step) in path.iter().enumerate() {
        if i > 0 {
            out.push('.');
        }
        out.push_str("component.");
        out.push_str(&step.name);
        match &step.key {
            None => {}
            Some(InstanceKey::Index(n)) => out.push_str(&format!("[{n}]")),
            Some(InstanceKey::Key(k)) => out.push_str(&format!("[\"{k}\"]")),
        }
    }
    out
}

/// The leading `component.NAME[key].` steps of a written address, and the rest.
fn split_components(s: &str) -> Result<(Option<ComponentPath>, &str), AddressError> {
    let mut steps = Vec::new();
    let mut rest = s;
    while let Some(after) = rest.strip_prefix("component.") {
        let end = after.find(['.', '[']).ok_or_else(|| AddressError::Shape(s.to_string()))?;
        let name = &after[..end];
        if !valid_name(name) {
            return Err(AddressError::Name(s.to_string()));
        }
        let (key, tail) = if after[end..].starts_with('[') {
            let close = end + after[end..].find(']').ok_or_else(|| AddressError::Shape(s.to_string()))?;
            let key = parse_key(&after[end..=close]).ok_or_else(|| AddressError::Shape(s.to_string()))?;
            (Some(key), &after[close + 1..])
        } else {
            (None, &after[end..])
        };
        rest = tail.strip_prefix('.').ok_or_else(|| AddressError::Shape(s.to_string()))?;
        steps.push(ComponentStep { name: name.to_string(), key });
    }
    Ok(((!steps.is_empty()).then(|| steps.into()), rest))
}

/// The same steps in a tag's form: `component.svc/api.`, `component.web:0.`.
fn split_tag_components(s: &str) -> Result<(Option<ComponentPath>, &str), AddressError> {
    let mut steps = Vec::new();
    let mut rest = s;
    while let Some(after) = rest.strip_prefix("component.") {
        let (word, tail) = after.split_once('.').ok_or_else(|| AddressError::Shape(s.to_string()))?;
        let (name, key) = if let Some((n, i)) = word.split_once(':') {
            (n, Some(InstanceKey::Index(i.parse().map_err(|_| AddressError::Shape(s.to_string()))?)))
        } else if let Some((n, k)) = word.split_once('/') {
            if !valid_key(k) {
                return Err(AddressError::Shape(s.to_string()));
            }
            (n, Some(InstanceKey::Key(k.to_string())))
        } else {
            (word, None)
        };
        if !valid_name(name) {
            return Err(AddressError::Name(s.to_string()));
        }
        steps.push(ComponentStep { name: name.to_string(), key });
        rest = tail;
    }
    Ok(((!steps.is_empty()).then(|| steps.into()), rest))
}

/// One copy of a repeated resource: its `count.index` or its `each.key`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum InstanceKey {
    Index(u32),
    Key(String),
}

impl fmt::Display for InstanceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InstanceKey::Index(i) => write!(f, "{i}"),
            InstanceKey::Key(k) => f.write_str(k),
        }
    }
}

/// Whether `s` can be a `for_each` key: letters, digits, `-` and `_`, since a key goes
/// into AWS names and tags, which take little else.
pub fn valid_key(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AddressError {
    #[error("`{0}` is not an address: expected `kind.name`, `kind.name[0]` or `kind.name[\"key\"]`")]
    Shape(String),
    #[error("`{0}` is not a valid resource name: use lower-case letters, digits and `_`, starting with a letter")]
    Name(String),
    /// The address is well formed, but trellis knows no kind of that name.
    #[error("unknown resource kind `{kind}` in `{address}`")]
    UnknownKind { address: String, kind: String },
}

impl Address {
    pub fn new(kind: &'static Kind, name: impl Into<String>) -> Self {
        Address { kind, name: name.into(), key: None, component: None }
    }

    /// This resource's copy `key`.
    pub fn instance(&self, key: InstanceKey) -> Self {
        Address { key: Some(key), ..self.clone() }
    }

    /// The resource this is a copy of (itself when it is no copy).
    pub fn resource(&self) -> Self {
        Address { key: None, ..self.clone() }
    }

    /// The same resource declared inside the component at `path` (at the stack's top
    /// level when `None`).
    pub fn in_component(&self, path: Option<ComponentPath>) -> Self {
        Address { component: path, ..self.clone() }
    }

    /// The component path as written, `component.svc["api"]`; empty at the top level.
    pub fn component_text(&self) -> String {
        self.component.as_deref().map(component_path_text).unwrap_or_default()
    }

    /// The name and instance key as one word for AWS names and `Name` tags: `web`,
    /// `web-0`, `web-a`; inside a component, each step's name and key first:
    /// `svc-api-app`.
    pub fn label(&self) -> String {
        let mut out = String::new();
        for step in self.component.iter().flat_map(|p| p.iter()) {
            out.push_str(&step.name);
            out.push('-');
            if let Some(k) = &step.key {
                out.push_str(&format!("{k}-"));
            }
        }
        match &self.key {
            None => out.push_str(&self.name),
            Some(k) => out.push_str(&format!("{}-{k}", self.name)),
        }
        out
    }

    /// The address as a tag value: AWS's tag rules (RDS, ELB) refuse `[`, `]` and `"`,
    /// so a copy is written `kind.name:0` or `kind.name/key` (a component's copy the
    /// same way, `component.svc/api.kind.name`). [`Address::from_tag`] reads it back.
    pub fn tag_value(&self) -> String {
        let mut out = String::new();
        for step in self.component.iter().flat_map(|p| p.iter()) {
            out.push_str("component.");
            out.push_str(&step.name);
            match &step.key {
                None => {}
                Some(InstanceKey::Index(i)) => out.push_str(&format!(":{i}")),
                Some(InstanceKey::Key(k)) => out.push_str(&format!("/{k}")),
            }
            out.push('.');
        }
        match &self.key {
            None => out.push_str(&format!("{}.{}", self.kind.name, self.name)),
            Some(InstanceKey::Index(i)) => out.push_str(&format!("{}.{}:{i}", self.kind.name, self.name)),
            Some(InstanceKey::Key(k)) => out.push_str(&format!("{}.{}/{k}", self.kind.name, self.name)),
        }
        out
    }

    pub fn from_tag(s: &str) -> Result<Self, AddressError> {
        let (component, s) = split_tag_components(s)?;
        let plain = if let Some((base, i)) = s.rsplit_once(':') {
            let index = i.parse().map_err(|_| AddressError::Shape(s.to_string()))?;
            base.parse::<Address>()?.instance(InstanceKey::Index(index))
        } else if let Some((base, k)) = s.split_once('/') {
            if !valid_key(k) {
                return Err(AddressError::Shape(s.to_string()));
            }
            base.parse::<Address>()?.instance(InstanceKey::Key(k.to_string()))
        } else {
            s.parse()?
        };
        Ok(plain.in_component(component))
    }

    #[allow(clippy::type_complexity)]
    fn sort_key(&self) -> (Option<&[ComponentStep]>, &str, &str, Option<&InstanceKey>) {
        (self.component.as_deref(), self.kind.name, &self.name, self.key.as_ref())
    }
}

/// Two component paths in order; the resources of one copy share one path, which is
/// then equal without a look at its steps.
fn cmp_paths(a: &Option<ComponentPath>, b: &Option<ComponentPath>) -> std::cmp::Ordering {
    match (a, b) {
        (None, None) => std::cmp::Ordering::Equal,
        (Some(x), Some(y)) if Arc::ptr_eq(x, y) => std::cmp::Ordering::Equal,
        _ => a.as_deref().cmp(&b.as_deref()),
    }
}

impl PartialEq for Address {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == std::cmp::Ordering::Equal
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
        cmp_paths(&self.component, &other.component)
            .then_with(|| (self.kind.name, &self.name, &self.key).cmp(&(other.kind.name, &other.name, &other.key)))
    }
}

impl std::hash::Hash for Address {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.sort_key().hash(state)
    }
}

impl fmt::Debug for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Address({self})")
    }
}

/// Whether `s` can be a kind's or a resource's name: lower-case letters, digits and
/// `_`, starting with a letter.
pub fn valid_name(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// `[0]` or `["key"]` after an address, as written.
fn parse_key(s: &str) -> Option<InstanceKey> {
    let inner = s.strip_prefix('[')?.strip_suffix(']')?;
    if let Some(k) = inner.strip_prefix('"').and_then(|k| k.strip_suffix('"')) {
        return valid_key(k).then(|| InstanceKey::Key(k.to_string()));
    }
    let plain =
        !inner.is_empty() && inner.chars().all(|c| c.is_ascii_digit()) && (inner == "0" || !inner.starts_with('0'));
    plain.then(|| inner.parse().ok().map(InstanceKey::Index)).flatten()
}

impl FromStr for Address {
    type Err = AddressError;
    fn from_str(whole: &str) -> Result<Self, Self::Err> {
        let (component, s) = split_components(whole)?;
        let (base, key) = match s.find('[') {
            Some(at) => (&s[..at], Some(parse_key(&s[at..]).ok_or_else(|| AddressError::Shape(whole.to_string()))?)),
            None => (s, None),
        };
        let (kind, name) = base.split_once('.').ok_or_else(|| AddressError::Shape(whole.to_string()))?;
        if kind.is_empty() || name.is_empty() || name.contains('.') {
            return Err(AddressError::Shape(whole.to_string()));
        }
        if !valid_name(kind) || !valid_name(name) {
            return Err(AddressError::Name(whole.to_string()));
        }
        let known = kinds::get(kind)
            .ok_or_else(|| AddressError::UnknownKind { address: whole.to_string(), kind: kind.to_string() })?;
        Ok(Address { kind: known, name: name.to_string(), key, component })
    }
}

/// The mark in the name of a deposed object's address: the old object of a new-first
/// replacement, kept in the state under `kind.name__deposed_<tail of its id>` until
/// its own delete (`trellis_plan::deposed_address` makes it).
pub const DEPOSED: &str = "__deposed_";

impl Address {
    /// For a deposed object's address, the address it was replaced at and the tail of
    /// its id that names it.
    pub fn deposed_of(&self) -> Option<(Address, &str)> {
        let (base, tail) = self.name.split_once(DEPOSED)?;
        Some((Address { name: base.to_string(), ..self.clone() }, tail))
    }

    /// The address as a person reads it: a deposed object as the resource it belonged
    /// to, `instance.app["2"] (deposed …9b89399b)`, where the state's key reads
    /// `instance.app__deposed_9b89399b["2"]`; any other as it is written.
    pub fn shown(&self) -> String {
        match self.deposed_of() {
            Some((of, tail)) => format!("{of} (deposed …{tail})"),
            None => self.to_string(),
        }
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(path) = &self.component {
            write!(f, "{}.", component_path_text(path))?;
        }
        write!(f, "{}.{}", self.kind.name, self.name)?;
        match &self.key {
            None => Ok(()),
            Some(InstanceKey::Index(i)) => write!(f, "[{i}]"),
            Some(InstanceKey::Key(k)) => write!(f, "[\"{k}\"]"),
        }
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
    fn a_deposed_object_is_shown_as_its_resource() {
        let a: Address = "instance.app__deposed_9b89399b[\"2\"]".parse().unwrap();
        assert_eq!(a.shown(), "instance.app[\"2\"] (deposed …9b89399b)");
        assert_eq!(a.to_string(), "instance.app__deposed_9b89399b[\"2\"]", "the state's key is unchanged");
        let plain: Address = "instance.app[2]".parse().unwrap();
        assert_eq!(plain.shown(), "instance.app[2]");
    }

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

    #[test]
    fn copies_parse_print_and_sort_by_index() {
        let a: Address = "instance.web[10]".parse().unwrap();
        assert_eq!(a.key, Some(InstanceKey::Index(10)));
        assert_eq!(a.to_string(), "instance.web[10]");
        let b: Address = "instance.web[\"us-east-1a\"]".parse().unwrap();
        assert_eq!(b.to_string(), "instance.web[\"us-east-1a\"]");
        assert_eq!(b.resource().to_string(), "instance.web");
        assert_eq!(b.label(), "web-us-east-1a");
        let two: Address = "instance.web[2]".parse().unwrap();
        let bare: Address = "instance.web".parse().unwrap();
        assert!(bare < two && two < a && a < b, "a resource, then its copies by index, then by key");
        for bad in [
            "instance.web[]",
            "instance.web[01]",
            "instance.web[-1]",
            "instance.web[a]",
            "instance.web[\"a.b\"]",
            "instance.web[0]x",
        ] {
            assert!(matches!(bad.parse::<Address>(), Err(AddressError::Shape(_))), "{bad}");
        }
    }

    #[test]
    fn component_addresses_parse_print_and_label() {
        let a: Address = "component.svc[\"api\"].component.db.db_instance.main[0]".parse().unwrap();
        assert_eq!(a.to_string(), "component.svc[\"api\"].component.db.db_instance.main[0]");
        assert_eq!(a.label(), "svc-api-db-main-0");
        assert_eq!(a.tag_value(), "component.svc/api.component.db.db_instance.main:0");
        assert_eq!(Address::from_tag(&a.tag_value()).unwrap(), a);
        assert_eq!(a.component_text(), "component.svc[\"api\"].component.db");
        let flat: Address = "db_instance.main[0]".parse().unwrap();
        assert_ne!(flat, a);
        assert_eq!(a.in_component(None), flat);
        assert!(flat < a, "the stack's own resources sort before its components'");
        for bad in ["component.web", "component.web.", "component.Web.vpc.main", "component.web[x].vpc.main"] {
            assert!(bad.parse::<Address>().is_err(), "{bad}");
        }
    }

    proptest::proptest! {
        #[test]
        fn tag_values_read_back(name in "[a-z][a-z0-9_]{0,12}", index in proptest::option::of(0u32..5000), key in "[A-Za-z0-9_-]{1,20}", keyed: bool, path in proptest::collection::vec(("[a-z][a-z0-9_]{0,8}", proptest::option::of(0u32..50), proptest::option::of("[A-Za-z0-9_-]{1,8}")), 0..3)) {
            let steps: Vec<ComponentStep> = path
                .into_iter()
                .map(|(name, i, k)| ComponentStep { name, key: k.map(InstanceKey::Key).or(i.map(InstanceKey::Index)) })
                .collect();
            let base = Address::new(kinds::get("subnet").unwrap(), name).in_component((!steps.is_empty()).then(|| steps.into()));
            let a = match (index, keyed) {
                (Some(i), false) => base.instance(InstanceKey::Index(i)),
                (_, true) => base.instance(InstanceKey::Key(key)),
                (None, false) => base,
            };
            let tag = a.tag_value();
            proptest::prop_assert!(!tag.contains(['[', ']', '"']), "{}", tag);
            proptest::prop_assert_eq!(Address::from_tag(&tag).unwrap(), a.clone());
            proptest::prop_assert_eq!(a.to_string().parse::<Address>().unwrap(), a);
        }
    }
}
