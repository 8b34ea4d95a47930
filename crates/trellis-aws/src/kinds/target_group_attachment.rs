//! A target registered in a target group. AWS has no object for it: its id is
//! `<target group arn>|<instance id>`, and it is read with DescribeTargetHealth, one
//! target group per call (AWS offers no batch across groups).
//!
//! A registration serves traffic: its create waits until the target is healthy (so a
//! fixed server replaced new-first takes requests before the old one leaves), and its
//! delete waits until the target has drained (the group's deregistration delay).

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_elasticloadbalancingv2::types::TargetDescription;
use trellis_core::{Address, Attrs, ProviderError, Value};

use super::{AwsKind, Create, FoundBy, InVpc};
use crate::aws::Aws;
use crate::service::Service;
use crate::limits::Call;
use crate::progress::Until;
use crate::util::Described;
use crate::util::{aws_err, is_code, opt_str, retry_until, str_attr, Select};

/// The AWS side of `target_group_attachment`.
pub(crate) struct Ops;

#[async_trait]
impl AwsKind for Ops {
    fn service(&self) -> &'static Service {
        &crate::service::ELB
    }
    async fn describe(&self, aws: &Aws, sel: Select<'_>) -> Result<Vec<Described>, ProviderError> {
        describe(aws, sel).await
    }
    async fn create(&self, aws: &Aws, c: &Create<'_>) -> Result<String, ProviderError> {
        create(aws, c).await
    }
    async fn configure(&self, aws: &Aws, id: &str, attrs: &Attrs) -> Result<(), ProviderError> {
        configure(aws, id, attrs).await
    }
    async fn update(&self, aws: &Aws, id: &str, before: &Attrs, after: &Attrs) -> Result<(), ProviderError> {
        update(aws, id, before, after).await
    }
    async fn delete(&self, aws: &Aws, address: &Address, id: &str, attrs: &Attrs) -> Result<(), ProviderError> {
        delete(aws, address, id, attrs).await
    }
    async fn sync_tags(
        &self,
        _aws: &Aws,
        _id: &str,
        _before: Option<&Value>,
        _after: Option<&Value>,
    ) -> Result<(), ProviderError> {
        Ok(())
    }
    /// Registering a target again is harmless.
    fn create_is_idempotent(&self) -> bool {
        true
    }
    fn found_by(&self) -> FoundBy {
        FoundBy::Listing
    }
    /// The registrations of instances found in the VPC (a group registers its own
    /// instances: those are not found as instances, so not here either).
    async fn list_in_vpc(&self, aws: &Aws, vpc: &InVpc<'_>) -> Result<Vec<String>, ProviderError> {
        let instances: Vec<&String> = vpc.ids(&trellis_core::kinds::INSTANCE).collect();
        let mut out = Vec::new();
        for arn in vpc.ids(&trellis_core::kinds::TARGET_GROUP) {
            aws.call(Call::ElbDescribe).await;
            let health = aws.elb.describe_target_health().target_group_arn(arn).send().await.map_err(aws_err)?;
            for target in health.target_health_descriptions().iter().filter_map(|d| d.target()?.id()) {
                if instances.iter().any(|i| *i == target) {
                    out.push(format!("{arn}|{target}"));
                }
            }
        }
        Ok(out)
    }
}

fn split(id: &str) -> Option<(&str, &str)> {
    id.split_once('|')
}

fn target(attrs: &Attrs) -> TargetDescription {
    TargetDescription::builder()
        .set_id(str_attr(attrs, "target_id").map(str::to_string))
        .set_port(attrs.get("port").and_then(Value::as_int).map(|p| p as i32))
        .build()
}

fn observe(group: &str, t: &TargetDescription, id: &str) -> Attrs {
    [
        ("target_group_arn", Value::str(group)),
        ("target_id", opt_str(t.id())),
        ("port", t.port().map(|p| Value::Int(p.into())).unwrap_or(Value::Null)),
        ("id", Value::str(id)),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

pub(crate) async fn describe(aws: &Aws, sel: Select<'_>) -> Result<Vec<Described>, ProviderError> {
    let Select::Ids(ids) = sel else { return Ok(Vec::new()) };
    let mut wanted: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (group, instance) in ids.iter().filter_map(|id| split(id)) {
        wanted.entry(group).or_default().push(instance);
    }
    let mut out = Vec::new();
    for (group, instances) in wanted {
        aws.call(Call::ElbDescribe).await;
        let res = match aws.elb.describe_target_health().target_group_arn(group).send().await.map_err(aws_err) {
            Ok(r) => r,
            Err(e) if is_code(&e, &["TargetGroupNotFound"]) => continue,
            Err(e) => return Err(e),
        };
        for d in res.target_health_descriptions() {
            let Some(t) = d.target() else { continue };
            let Some(target) = t.id() else { continue };
            let gone = d.target_health().and_then(|h| h.state()).is_some_and(|s| s.as_str() == "draining");
            if gone || !instances.contains(&target) {
                continue;
            }
            let id = format!("{group}|{target}");
            let attrs = observe(group, t, &id);
            out.push(Described { id, tags: BTreeMap::new(), attrs });
        }
    }
    Ok(out)
}

pub(crate) async fn create(aws: &Aws, c: &Create<'_>) -> Result<String, ProviderError> {
    let attrs = c.attrs;
    let group = str_attr(attrs, "target_group_arn").unwrap_or_default();
    aws.call(Call::ElbMutate).await;
    aws.elb.register_targets().target_group_arn(group).targets(target(attrs)).send().await.map_err(aws_err)?;
    Ok(format!("{group}|{}", str_attr(attrs, "target_id").unwrap_or_default()))
}

/// The target's health in its group: state, reason and AWS's description; `None` when
/// the group does not list it.
async fn health(
    aws: &Aws,
    group: &str,
    instance: &str,
    port: Option<i32>,
) -> Result<Option<(String, String, String)>, ProviderError> {
    aws.call(Call::ElbDescribe).await;
    let t = TargetDescription::builder().id(instance).set_port(port).build();
    let res = aws.elb.describe_target_health().target_group_arn(group).targets(t).send().await.map_err(aws_err)?;
    Ok(res.target_health_descriptions().iter().find(|d| d.target().and_then(|t| t.id()) == Some(instance)).and_then(
        |d| {
            let h = d.target_health()?;
            Some((
                h.state().map(|s| s.as_str().to_string()).unwrap_or_default(),
                h.reason().map(|r| r.as_str().to_string()).unwrap_or_default(),
                h.description().unwrap_or_default().to_string(),
            ))
        },
    ))
}

/// Waits until the target is healthy, or unused (no load balancer sends to the group
/// yet, so nothing checks it). A target still unhealthy when the wait runs out fails
/// the create with AWS's reason; the registration is kept in the state.
pub(crate) async fn configure(aws: &Aws, id: &str, attrs: &Attrs) -> Result<(), ProviderError> {
    let Some((group, instance)) = split(id) else { return Ok(()) };
    let port = attrs.get("port").and_then(Value::as_int).map(|p| p as i32);
    let until = Until::Healthy { target_group: group.rsplit(':').next().unwrap_or(group).to_string() };
    let last = std::sync::Mutex::new(None);
    let waited = retry_until(aws, aws.timeouts.ready, instance, until, || async {
        let h = health(aws, group, instance, port).await?;
        let done = matches!(h.as_ref().map(|(s, _, _)| s.as_str()), Some("healthy" | "unused"));
        *last.lock().expect("last health") = h;
        Ok(done.then_some(()))
    })
    .await;
    match (waited, last.into_inner().expect("last health")) {
        (Ok(()), _) => Ok(()),
        (Err(_), Some((state, reason, text))) => Err(ProviderError::new(
            Some(if reason.is_empty() { "TargetNotHealthy" } else { reason.as_str() }),
            format!("{instance} is {state} in its target group: {text}"),
        )),
        (Err(e), None) => Err(e),
    }
}

pub(crate) async fn update(_aws: &Aws, _id: &str, _before: &Attrs, _after: &Attrs) -> Result<(), ProviderError> {
    Ok(()) // every attribute forces a new registration
}

pub(crate) async fn delete(aws: &Aws, _address: &Address, id: &str, attrs: &Attrs) -> Result<(), ProviderError> {
    let Some((group, instance)) = split(id) else { return Ok(()) };
    let mut t = attrs.clone();
    t.insert("target_id".into(), Value::str(instance));
    aws.call(Call::ElbMutate).await;
    match aws.elb.deregister_targets().target_group_arn(group).targets(target(&t)).send().await.map_err(aws_err) {
        Err(e) if is_code(&e, &["TargetGroupNotFound", "InvalidTarget"]) => return Ok(()),
        Err(e) => return Err(e),
        Ok(_) => {}
    }
    // The load balancer finishes the requests in flight for the group's deregistration
    // delay: only then is the instance free to go.
    let port = attrs.get("port").and_then(Value::as_int).map(|p| p as i32);
    let until = Until::Drained { target_group: group.rsplit(':').next().unwrap_or(group).to_string() };
    retry_until(aws, aws.timeouts.delete, instance, until, || async {
        match health(aws, group, instance, port).await {
            Ok(h) => Ok(h.is_none_or(|(state, _, _)| state != "draining").then_some(())),
            Err(e) if is_code(&e, &["TargetGroupNotFound", "InvalidTarget"]) => Ok(Some(())),
            Err(e) => Err(e),
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::super::roundtrip::{self, gives_back};
    use super::*;

    proptest! {
        #[test]
        fn a_registration_comes_back_as_it_was_made(
            attrs in roundtrip::attrs("target_group_attachment", &["target_group_arn", "target_id", "port"], vec![]),
        ) {
            // AWS answers DescribeTargetHealth with the target as registered.
            let group = str_attr(&attrs, "target_group_arn").unwrap();
            let back = observe(group, &target(&attrs), "id");
            gives_back(&attrs, &back, &["target_group_arn", "target_id", "port"])?;
        }
    }
}
