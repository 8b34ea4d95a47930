//! A target registered in a target group. AWS has no object for it: its id is
//! `<target group arn>|<instance id>`, and it is read with DescribeTargetHealth, one
//! target group per call (AWS offers no batch across groups).

use std::collections::BTreeMap;

use aws_sdk_elasticloadbalancingv2::types::TargetDescription;
use trellis_core::{Address, Attrs, ProviderError, Value};

use super::Create;
use crate::limits::Call;
use crate::util::{aws_err, is_code, opt_str, str_attr, Select};
use crate::{Aws, Described};

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

pub(crate) async fn configure(_aws: &Aws, _id: &str, _attrs: &Attrs) -> Result<(), ProviderError> {
    Ok(())
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
        Err(e) if !is_code(&e, &["TargetGroupNotFound", "InvalidTarget"]) => Err(e),
        _ => Ok(()),
    }
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
