//! What the IAM kinds share. IAM has no tag filter: trellis puts a stack's roles and
//! profiles under the path `/trellis/<stack>/` and lists them with that prefix, then
//! reads each one (its tags and policies are not in the listing). IAM is global and
//! eventually consistent: a name just made may be unknown to the next call for a
//! moment (`NoSuchEntity`, retried as eventual consistency), and EC2 may refuse a new
//! profile for longer (`errors.rs`).

use std::collections::BTreeMap;

use aws_sdk_iam::types::Tag;
use trellis_core::{ProviderError, Value};

use crate::aws::Aws;
use crate::limits::Call;
use crate::util::{aws_err, is_code, tag_changes};

/// Where a stack's IAM objects live.
pub(crate) fn stack_path(stack: &str) -> String {
    format!("/trellis/{stack}/")
}

pub(crate) fn iam_tags(all: BTreeMap<String, String>) -> Vec<Tag> {
    all.into_iter().filter_map(|(k, v)| Tag::builder().key(k).value(v).build().ok()).collect()
}

pub(crate) fn tag_map(tags: &[Tag]) -> BTreeMap<String, String> {
    tags.iter().map(|t| (t.key().to_string(), t.value().to_string())).collect()
}

/// An object that is not there (`NoSuchEntity`): `None`.
pub(crate) fn absent<T>(r: Result<T, ProviderError>) -> Result<Option<T>, ProviderError> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) if is_code(&e, &["NoSuchEntity"]) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Which IAM object a tag change is for: both tag by name, each with its own calls.
#[derive(Clone, Copy)]
pub(crate) enum Tagged {
    Role,
    Profile,
}

/// Brings a role's or a profile's user tags from `before` to `after`.
pub(crate) async fn sync_tags(
    aws: &Aws,
    what: Tagged,
    id: &str,
    before: Option<&Value>,
    after: Option<&Value>,
) -> Result<(), ProviderError> {
    let (set, unset) = tag_changes(before, after);
    if !set.is_empty() {
        aws.call(Call::Iam).await;
        let tags = Some(iam_tags(set));
        match what {
            Tagged::Role => aws.iam.tag_role().role_name(id).set_tags(tags).send().await.map(|_| ()).map_err(aws_err),
            Tagged::Profile => {
                let call = aws.iam.tag_instance_profile().instance_profile_name(id).set_tags(tags);
                call.send().await.map(|_| ()).map_err(aws_err)
            }
        }?;
    }
    if !unset.is_empty() {
        aws.call(Call::Iam).await;
        let keys = Some(unset);
        match what {
            Tagged::Role => {
                aws.iam.untag_role().role_name(id).set_tag_keys(keys).send().await.map(|_| ()).map_err(aws_err)
            }
            Tagged::Profile => {
                let call = aws.iam.untag_instance_profile().instance_profile_name(id).set_tag_keys(keys);
                call.send().await.map(|_| ()).map_err(aws_err)
            }
        }?;
    }
    Ok(())
}
