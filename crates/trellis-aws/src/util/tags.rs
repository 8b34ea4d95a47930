//! Tags: what trellis puts on a new object, how user tags change, and an object read
//! back with its tags (`Described`).

use std::collections::BTreeMap;

use aws_sdk_ec2::types::{ResourceType, Tag, TagSpecification};
use trellis_core::{Address, Attrs, ProviderError, Value};

use super::aws_err;
use crate::aws::Aws;
use crate::limits::Call;
use crate::{TAG_ADDRESS, TAG_STACK};

/// The tags trellis puts on a new object: the user's (with `Name`), plus its own.
pub(crate) fn tag_spec(rt: ResourceType, stack: &str, address: &Address, tags: Option<&Value>) -> TagSpecification {
    let all = all_tags(stack, address, tags);
    TagSpecification::builder()
        .resource_type(rt)
        .set_tags(Some(all.into_iter().map(|(k, v)| Tag::builder().key(k).value(v).build()).collect()))
        .build()
}

pub(crate) fn tag_map(tags: Option<&Value>) -> BTreeMap<String, String> {
    tags.and_then(Value::as_map)
        .map(|m| m.iter().filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string()))).collect())
        .unwrap_or_default()
}

/// Brings an object's user tags from `before` to `after` (trellis's own tags stay).
pub(crate) async fn sync_tags(
    aws: &Aws,
    id: &str,
    before: Option<&Value>,
    after: Option<&Value>,
) -> Result<(), ProviderError> {
    let (set, unset) = tag_changes(before, after);
    let set: Vec<Tag> = set.iter().map(|(k, v)| Tag::builder().key(k).value(v).build()).collect();
    let unset: Vec<Tag> = unset.iter().map(|k| Tag::builder().key(k).build()).collect();
    if !set.is_empty() {
        aws.call(Call::Mutate).await;
        aws.ec2.create_tags().resources(id).set_tags(Some(set)).send().await.map_err(aws_err)?;
    }
    if !unset.is_empty() {
        aws.call(Call::Mutate).await;
        aws.ec2.delete_tags().resources(id).set_tags(Some(unset)).send().await.map_err(aws_err)?;
    }
    Ok(())
}

/// Builds a `Described` from an id, its tags and attributes, adding `id` and `tags`.
pub(crate) fn described(id: &str, tags: &[Tag], attrs: Vec<(&str, Value)>) -> Described {
    let all = tags.iter().filter_map(|t| Some((t.key()?.to_string(), t.value().unwrap_or("").to_string()))).collect();
    described_with(id, all, attrs)
}

/// The same from tags already read into a map (services other than EC2).
pub(crate) fn described_with(id: &str, all: BTreeMap<String, String>, mut attrs: Vec<(&str, Value)>) -> Described {
    let visible =
        all.iter().filter(|(k, _)| !k.starts_with("trellis:")).map(|(k, v)| (k.clone(), Value::str(v))).collect();
    attrs.push(("tags", Value::Map(visible)));
    attrs.push(("id", Value::str(id)));
    Described { id: id.to_string(), tags: all, attrs: attrs.into_iter().map(|(k, v)| (k.to_string(), v)).collect() }
}

/// The user's tags plus trellis's own, as the key/value pairs every service takes.
pub(crate) fn all_tags(stack: &str, address: &Address, tags: Option<&Value>) -> BTreeMap<String, String> {
    let mut all = tag_map(tags);
    all.insert(TAG_STACK.into(), stack.into());
    all.insert(TAG_ADDRESS.into(), address.tag_value());
    all
}

/// What tags to set and which keys to remove to go from `before` to `after`.
pub(crate) fn tag_changes(before: Option<&Value>, after: Option<&Value>) -> (BTreeMap<String, String>, Vec<String>) {
    let (b, a) = (tag_map(before), tag_map(after));
    let set = a.iter().filter(|(k, v)| b.get(*k) != Some(v)).map(|(k, v)| (k.clone(), v.clone())).collect();
    let unset = b.keys().filter(|k| !a.contains_key(*k)).cloned().collect();
    (set, unset)
}

/// One object as a describe call returned it, before it is matched to an address.
pub(crate) struct Described {
    pub id: String,
    pub tags: BTreeMap<String, String>,
    pub attrs: Attrs,
}

impl Described {
    pub(crate) fn address(&self) -> Option<Address> {
        self.tags.get(TAG_ADDRESS).and_then(|a| Address::from_tag(a).ok())
    }
}
