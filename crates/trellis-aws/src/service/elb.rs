//! What the Elastic Load Balancing kinds share: tags (read 20 ARNs a call, since the
//! describe calls have no tag filter), reads by ARN that survive a missing one, the
//! ARN suffixes CloudWatch and scaling policies use, and the actions of listeners and
//! their rules.

use std::collections::BTreeMap;
use std::future::Future;

use aws_sdk_elasticloadbalancingv2::types::{
    Action, ActionTypeEnum, FixedResponseActionConfig, ForwardActionConfig, RedirectActionConfig,
    RedirectActionStatusCodeEnum, Tag, TargetGroupStickinessConfig, TargetGroupTuple,
};
use trellis_core::{Address, ProviderError, Value};

use crate::aws::Aws;
use crate::limits::Call;
use crate::util::{all_tags, aws_err, is_code, opt_int, opt_str, tag_changes};
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

/// A mapping of the pairs that are set.
pub(crate) fn map(pairs: Vec<(&str, Value)>) -> Value {
    Value::Map(pairs.into_iter().filter(|(_, v)| *v != Value::Null).map(|(k, v)| (k.to_string(), v)).collect())
}

/// A forward's weighted target groups as the schema writes them, or `None` when the
/// forward is to one group without stickiness (the spec's `target_group_arn`, which
/// AWS also gives back as a one-group `ForwardConfig`).
fn forward_value(a: &Action) -> Option<Value> {
    let f = a.forward_config()?;
    let sticky = f.target_group_stickiness_config().filter(|s| s.enabled() == Some(true));
    if f.target_groups().len() <= 1 && sticky.is_none() && a.target_group_arn().is_some() {
        return None;
    }
    let groups = f
        .target_groups()
        .iter()
        .map(|t| map(vec![("target_group_arn", opt_str(t.target_group_arn())), ("weight", opt_int(t.weight()))]))
        .collect();
    let stickiness =
        sticky.map(|s| map(vec![("enabled", Value::Bool(true)), ("duration_seconds", opt_int(s.duration_seconds()))]));
    Some(map(vec![
        ("target_groups", Value::List(groups)),
        ("target_group_stickiness_config", stickiness.unwrap_or(Value::Null)),
    ]))
}

/// An action (a listener's default, a rule's) in the schema's shape.
pub(crate) fn action_value(a: &Action) -> Value {
    let kind = a.r#type().map(|t| t.as_str()).unwrap_or("");
    let mut pairs = vec![("type", Value::str(kind))];
    match a.r#type() {
        Some(ActionTypeEnum::Forward) => match forward_value(a) {
            Some(f) => pairs.push(("forward_config", f)),
            None => pairs.push(("target_group_arn", opt_str(a.target_group_arn()))),
        },
        Some(ActionTypeEnum::FixedResponse) => {
            if let Some(f) = a.fixed_response_config() {
                pairs.push((
                    "fixed_response_config",
                    map(vec![
                        ("status_code", opt_str(f.status_code())),
                        ("content_type", opt_str(f.content_type())),
                        ("message_body", opt_str(f.message_body())),
                    ]),
                ));
            }
        }
        Some(ActionTypeEnum::Redirect) => {
            if let Some(r) = a.redirect_config() {
                pairs.push((
                    "redirect_config",
                    map(vec![
                        ("protocol", opt_str(r.protocol())),
                        ("port", opt_str(r.port())),
                        ("host", opt_str(r.host())),
                        ("path", opt_str(r.path())),
                        ("query", opt_str(r.query())),
                        ("status_code", opt_str(r.status_code().map(|s| s.as_str()))),
                    ]),
                ));
            }
        }
        _ => {}
    }
    map(pairs)
}

/// The request's form of an action written in the schema's shape.
pub(crate) fn action(v: Option<&Value>) -> Result<Action, ProviderError> {
    let empty = BTreeMap::new();
    let m = v.and_then(Value::as_map).unwrap_or(&empty);
    let s = |m: &BTreeMap<String, Value>, k: &str| m.get(k).and_then(Value::as_str).map(str::to_string);
    let int = |m: &BTreeMap<String, Value>, k: &str| m.get(k).and_then(Value::as_int).map(|n| n as i32);
    let sub = |m: &BTreeMap<String, Value>, k: &str| m.get(k).and_then(Value::as_map).cloned().unwrap_or_default();
    let kind = s(m, "type").unwrap_or_default();
    let b = Action::builder().r#type(ActionTypeEnum::from(kind.as_str()));
    let b = match kind.as_str() {
        "forward" if m.contains_key("forward_config") => {
            let f = sub(m, "forward_config");
            let groups = f.get("target_groups").map(Value::as_list).unwrap_or_default();
            let groups = groups
                .iter()
                .filter_map(Value::as_map)
                .map(|t| {
                    TargetGroupTuple::builder()
                        .set_target_group_arn(s(t, "target_group_arn"))
                        .set_weight(int(t, "weight"))
                        .build()
                })
                .collect();
            let stickiness = f.get("target_group_stickiness_config").and_then(Value::as_map).map(|st| {
                TargetGroupStickinessConfig::builder()
                    .set_enabled(st.get("enabled").and_then(Value::as_bool))
                    .set_duration_seconds(int(st, "duration_seconds"))
                    .build()
            });
            b.forward_config(
                ForwardActionConfig::builder()
                    .set_target_groups(Some(groups))
                    .set_target_group_stickiness_config(stickiness)
                    .build(),
            )
        }
        "forward" => b.set_target_group_arn(s(m, "target_group_arn")),
        "fixed-response" => {
            let f = sub(m, "fixed_response_config");
            b.fixed_response_config(
                FixedResponseActionConfig::builder()
                    .set_status_code(s(&f, "status_code"))
                    .set_content_type(s(&f, "content_type"))
                    .set_message_body(s(&f, "message_body"))
                    .build(),
            )
        }
        "redirect" => {
            let r = sub(m, "redirect_config");
            b.redirect_config(
                RedirectActionConfig::builder()
                    .set_protocol(s(&r, "protocol"))
                    .set_port(s(&r, "port"))
                    .set_host(s(&r, "host"))
                    .set_path(s(&r, "path"))
                    .set_query(s(&r, "query"))
                    .set_status_code(s(&r, "status_code").as_deref().map(RedirectActionStatusCodeEnum::from))
                    .build(),
            )
        }
        _ => b,
    };
    Ok(b.build())
}
