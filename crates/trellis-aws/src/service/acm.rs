//! What ACM's kind needs of its service: tags, read and set one certificate a call
//! (ACM has no batch), and the idempotency token a request takes (32 word characters).

use std::collections::BTreeMap;

use aws_sdk_acm::types::Tag;
use trellis_core::{ProviderError, Value};

use crate::aws::Aws;
use crate::limits::Call;
use crate::util::{aws_err, tag_changes};

/// The tags of one certificate.
pub(crate) async fn tags_of(aws: &Aws, arn: &str) -> Result<BTreeMap<String, String>, ProviderError> {
    aws.call(Call::Acm).await;
    let out = aws.acm.list_tags_for_certificate().certificate_arn(arn).send().await.map_err(aws_err)?;
    Ok(out.tags().iter().map(|t| (t.key().to_string(), t.value().unwrap_or("").to_string())).collect())
}

pub(crate) async fn sync_tags(
    aws: &Aws,
    arn: &str,
    before: Option<&Value>,
    after: Option<&Value>,
) -> Result<(), ProviderError> {
    let (set, unset) = tag_changes(before, after);
    if !set.is_empty() {
        let tags: Vec<Tag> = set
            .into_iter()
            .map(|(k, v)| Tag::builder().key(k).value(v).build())
            .collect::<Result<_, _>>()
            .map_err(|e| ProviderError::new(None, e.to_string()))?;
        aws.call(Call::Acm).await;
        aws.acm.add_tags_to_certificate().certificate_arn(arn).set_tags(Some(tags)).send().await.map_err(aws_err)?;
    }
    if !unset.is_empty() {
        let tags: Vec<Tag> = unset
            .into_iter()
            .map(|k| Tag::builder().key(k).build())
            .collect::<Result<_, _>>()
            .map_err(|e| ProviderError::new(None, e.to_string()))?;
        aws.call(Call::Acm).await;
        aws.acm
            .remove_tags_from_certificate()
            .certificate_arn(arn)
            .set_tags(Some(tags))
            .send()
            .await
            .map_err(aws_err)?;
    }
    Ok(())
}

/// ACM's idempotency token for trellis's create token: its word characters, at most
/// 32 (ACM's limit), so a resent request names the same token.
pub(crate) fn token(create_token: &str) -> String {
    create_token
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .rev()
        .take(32)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_token_is_what_acm_takes_and_keeps_the_random_part() {
        let t = super::token("trellis-0123456789abcdef0123456789abcdef");
        assert_eq!(t, "0123456789abcdef0123456789abcdef");
        assert!(t.len() <= 32 && t.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
    }
}
