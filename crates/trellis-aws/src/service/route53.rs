//! What the Route53 kinds share: zones' tags (read 10 zones a call, set by
//! `ChangeTagsForResource`; records have none), the `/hostedzone/` prefix AWS puts on
//! ids, and the wait for a change to reach every Route53 server (`INSYNC`).

use std::collections::BTreeMap;

use aws_sdk_route53::types::{Tag, TagResourceType};
use trellis_core::{ProviderError, Value};

use crate::aws::Aws;
use crate::limits::Call;
use crate::progress::Until;
use crate::util::{aws_err, retry_until, tag_changes};

/// A zone's id as trellis keeps it: `Z...`, without AWS's `/hostedzone/`.
pub(crate) fn bare(id: &str) -> &str {
    id.trim_start_matches("/hostedzone/").trim_start_matches("/change/")
}

/// A DNS name as trellis keeps it: no root dot, `*` where Route53 writes `\052`.
pub(crate) fn plain_name(name: &str) -> String {
    name.trim_end_matches('.').replace("\\052", "*")
}

/// The tags of these zones, 10 a call.
pub(crate) async fn tags_of(
    aws: &Aws,
    zones: &[String],
) -> Result<BTreeMap<String, BTreeMap<String, String>>, ProviderError> {
    let mut out = BTreeMap::new();
    for chunk in zones.chunks(10) {
        aws.call(Call::Route53).await;
        let res = aws
            .r53
            .list_tags_for_resources()
            .resource_type(TagResourceType::Hostedzone)
            .set_resource_ids(Some(chunk.to_vec()))
            .send()
            .await
            .map_err(aws_err)?;
        for set in res.resource_tag_sets() {
            let tags =
                set.tags().iter().filter_map(|t| Some((t.key()?.to_string(), t.value().unwrap_or("").to_string())));
            out.insert(bare(set.resource_id().unwrap_or_default()).to_string(), tags.collect());
        }
    }
    Ok(out)
}

/// Sets and removes a zone's tags in one call.
pub(crate) async fn sync_tags(
    aws: &Aws,
    zone: &str,
    before: Option<&Value>,
    after: Option<&Value>,
) -> Result<(), ProviderError> {
    let (set, unset) = tag_changes(before, after);
    if set.is_empty() && unset.is_empty() {
        return Ok(());
    }
    let add: Vec<Tag> = set.into_iter().map(|(k, v)| Tag::builder().key(k).value(v).build()).collect();
    aws.call(Call::Route53).await;
    aws.r53
        .change_tags_for_resource()
        .resource_type(TagResourceType::Hostedzone)
        .resource_id(zone)
        .set_add_tags(Some(add).filter(|a| !a.is_empty()))
        .set_remove_tag_keys(Some(unset).filter(|u| !u.is_empty()))
        .send()
        .await
        .map_err(aws_err)?;
    Ok(())
}

/// Waits until the change `id` has reached every Route53 server.
pub(crate) async fn wait_in_sync(aws: &Aws, id: &str, subject: &str) -> Result<(), ProviderError> {
    let id = bare(id).to_string();
    retry_until(aws, aws.timeouts.ready, subject, Until::State("in sync".into()), || async {
        aws.call(Call::Route53).await;
        let out = aws.r53.get_change().id(&id).send().await.map_err(aws_err)?;
        let status = out.change_info().map(|c| c.status().as_str().to_string());
        Ok((status.as_deref() == Some("INSYNC")).then_some(()))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_and_names_are_kept_without_aws_decorations() {
        assert_eq!(bare("/hostedzone/Z123"), "Z123");
        assert_eq!(bare("/change/C9"), "C9");
        assert_eq!(bare("Z123"), "Z123");
        assert_eq!(plain_name("\\052.example.com."), "*.example.com");
        assert_eq!(plain_name("www.example.com"), "www.example.com");
    }
}
