//! What the RDS kinds share. RDS has no tag filters. Database instances come with
//! their tags, so one paginated `DescribeDBInstances` reads them all. Subnet and
//! parameter groups come without: their tags take a `ListTagsForResource` per group,
//! so a stack read asks only for groups whose name carries the stack's prefix (the
//! names trellis generates); groups the state knows under another name are read by name.

use std::collections::BTreeMap;

use aws_sdk_rds::types::Tag;
use trellis_core::{Address, Attrs, ProviderError, Value};

use crate::aws::Aws;
use crate::limits::Call;
use crate::util::{all_tags, aws_err, is_code, str_attr, tag_changes, Select, NOT_FOUND};

pub(crate) fn rds_tags(stack: &str, address: &Address, tags: Option<&Value>) -> Vec<Tag> {
    all_tags(stack, address, tags).into_iter().map(|(k, v)| Tag::builder().key(k).value(v).build()).collect()
}

pub(crate) fn tag_map(tags: &[Tag]) -> BTreeMap<String, String> {
    tags.iter().filter_map(|t| Some((t.key()?.to_string(), t.value().unwrap_or("").to_string()))).collect()
}

/// The prefix of the names trellis generates for a stack: RDS keeps names in lower case.
pub(crate) fn stack_prefix(stack: &str) -> String {
    let s: String = stack
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' { c.to_ascii_lowercase() } else { '-' })
        .collect();
    format!("{s}-")
}

/// A name for an RDS object: the spec's, or a generated lower-case one.
pub(crate) fn lower(name: String) -> String {
    name.to_ascii_lowercase()
}

pub(crate) async fn list_tags(aws: &Aws, arn: &str) -> Result<BTreeMap<String, String>, ProviderError> {
    aws.call(Call::Rds).await;
    let out = aws.rds.list_tags_for_resource().resource_name(arn).send().await.map_err(aws_err)?;
    Ok(tag_map(out.tag_list()))
}

/// Brings an RDS object's user tags from `before` to `after`; RDS tags by ARN.
pub(crate) async fn sync_tags(aws: &Aws, before: &Attrs, after: &Attrs) -> Result<(), ProviderError> {
    sync_tag_maps(aws, before, before.get("tags"), after.get("tags")).await
}

/// Brings the tags of the object whose ARN `attrs` records from `before` to `after`.
pub(crate) async fn sync_tag_maps(
    aws: &Aws,
    attrs: &Attrs,
    before: Option<&Value>,
    after: Option<&Value>,
) -> Result<(), ProviderError> {
    let Some(arn) = str_attr(attrs, "arn") else { return Ok(()) };
    let (set, unset) = tag_changes(before, after);
    if !set.is_empty() {
        aws.call(Call::Rds).await;
        let tags = set.into_iter().map(|(k, v)| Tag::builder().key(k).value(v).build()).collect();
        aws.rds.add_tags_to_resource().resource_name(arn).set_tags(Some(tags)).send().await.map_err(aws_err)?;
    }
    if !unset.is_empty() {
        aws.call(Call::Rds).await;
        aws.rds
            .remove_tags_from_resource()
            .resource_name(arn)
            .set_tag_keys(Some(unset))
            .send()
            .await
            .map_err(aws_err)?;
    }
    Ok(())
}

/// Groups of a stack (by name prefix, then by tag) or by name; `read` lists them all
/// or one by name, returning (name, arn, the object).
pub(crate) async fn groups_of<T, F, Fut>(
    aws: &Aws,
    sel: Select<'_>,
    read: F,
) -> Result<Vec<(T, BTreeMap<String, String>)>, ProviderError>
where
    F: Fn(Option<String>) -> Fut,
    Fut: std::future::Future<Output = Result<Vec<(String, String, T)>, ProviderError>>,
{
    let found: Vec<(String, String, T)> = match sel {
        Select::Stack(stack) => {
            let prefix = stack_prefix(stack);
            read(None).await?.into_iter().filter(|(name, _, _)| name.starts_with(&prefix)).collect()
        }
        Select::Ids(names) => {
            let mut out = Vec::new();
            for name in names {
                match read(Some(name.clone())).await {
                    Ok(mut one) => out.append(&mut one),
                    Err(e) if is_code(&e, NOT_FOUND) => {}
                    Err(e) => return Err(e),
                }
            }
            out
        }
    };
    let mut out = Vec::new();
    for (_, arn, obj) in found {
        let tags = list_tags(aws, &arn).await?;
        if !sel.keeps(&tags) {
            continue;
        }
        out.push((obj, tags));
    }
    Ok(out)
}
