//! What the Elastic Load Balancing kinds share: tags (read 20 ARNs a call, since the
//! describe calls have no tag filter), reads by ARN that survive a missing one, and the
//! ARN suffixes CloudWatch and scaling policies use.

use std::collections::BTreeMap;
use std::future::Future;

use aws_sdk_elasticloadbalancingv2::types::Tag;
use trellis_core::{Address, ProviderError, Value};

use crate::aws::Aws;
use crate::limits::Call;
use crate::util::{all_tags, aws_err, is_code, tag_changes};
use crate::TAG_STACK;

/// The tags of these ARNs, 20 per call.
pub(crate) async fn tags_of(
    aws: &Aws,
    arns: &[String],
) -> Result<BTreeMap<String, BTreeMap<String, String>>, ProviderError> {
    let mut out = BTreeMap::new();
    for chunk in arns.chunks(20) {
        aws.call(Call::ElbDescribe).await;
        let res = aws.elb.describe_tags().set_resource_arns(Some(chunk.to_vec())).send().await.map_err(aws_err)?;
        for d in res.tag_descriptions() {
            let tags = d
                .tags()
                .iter()
                .filter_map(|t| Some((t.key()?.to_string(), t.value().unwrap_or("").to_string())))
                .collect();
            out.insert(d.resource_arn().unwrap_or_default().to_string(), tags);
        }
    }
    Ok(out)
}

/// Keeps the objects tagged with `stack`.
pub(crate) fn of_stack<T>(
    items: Vec<(String, T)>,
    tags: &BTreeMap<String, BTreeMap<String, String>>,
    stack: &str,
) -> Vec<(String, T)> {
    items
        .into_iter()
        .filter(|(arn, _)| tags.get(arn).and_then(|t| t.get(TAG_STACK)).is_some_and(|s| s == stack))
        .collect()
}

pub(crate) fn tags_for(stack: &str, address: &Address, tags: Option<&Value>) -> Vec<Tag> {
    all_tags(stack, address, tags).into_iter().map(|(k, v)| Tag::builder().key(k).value(v).build()).collect()
}

pub(crate) async fn sync_tags(
    aws: &Aws,
    arn: &str,
    before: Option<&Value>,
    after: Option<&Value>,
) -> Result<(), ProviderError> {
    let (set, unset) = tag_changes(before, after);
    if !set.is_empty() {
        aws.call(Call::ElbMutate).await;
        let tags = set.into_iter().map(|(k, v)| Tag::builder().key(k).value(v).build()).collect();
        aws.elb.add_tags().resource_arns(arn).set_tags(Some(tags)).send().await.map_err(aws_err)?;
    }
    if !unset.is_empty() {
        aws.call(Call::ElbMutate).await;
        aws.elb.remove_tags().resource_arns(arn).set_tag_keys(Some(unset)).send().await.map_err(aws_err)?;
    }
    Ok(())
}

/// Reads objects by ARN, 20 a call. ELB fails the whole call when one ARN is unknown,
/// so a chunk that fails that way is read again one ARN at a time, and the missing
/// ones are left out.
pub(crate) async fn by_arns<T, F, Fut>(
    aws: &Aws,
    arns: &[String],
    not_found: &str,
    read: F,
) -> Result<Vec<T>, ProviderError>
where
    F: Fn(Vec<String>) -> Fut,
    Fut: Future<Output = Result<Vec<T>, ProviderError>>,
{
    let mut out = Vec::new();
    for chunk in arns.chunks(20) {
        aws.call(Call::ElbDescribe).await;
        match read(chunk.to_vec()).await {
            Ok(found) => out.extend(found),
            Err(e) if is_code(&e, &[not_found]) => {
                for arn in chunk {
                    aws.call(Call::ElbDescribe).await;
                    match read(vec![arn.clone()]).await {
                        Ok(found) => out.extend(found),
                        Err(e) if is_code(&e, &[not_found]) => {}
                        Err(e) => return Err(e),
                    }
                }
            }
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}

/// `targetgroup/<name>/<hash>` or `app/<name>/<hash>`: the ARN after its resource type.
pub(crate) fn arn_suffix(arn: &str) -> Value {
    let resource = arn.rsplit(':').next().unwrap_or(arn);
    Value::str(resource.strip_prefix("loadbalancer/").unwrap_or(resource))
}
