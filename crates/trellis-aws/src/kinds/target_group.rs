//! `target_group`: created with its health check; its deregistration delay, stickiness
//! and slow start are target group attributes, set after the create.

use async_trait::async_trait;
use aws_sdk_elasticloadbalancingv2::operation::create_target_group::builders::CreateTargetGroupFluentBuilder;
use aws_sdk_elasticloadbalancingv2::types::{Matcher, ProtocolEnum, TargetGroup, TargetGroupAttribute, TargetTypeEnum};
use trellis_core::{Address, Attrs, ProviderError, Value};

use super::{AwsKind, Create, FoundBy, InVpc};
use crate::aws::Aws;
use crate::service::Service;
use crate::limits::Call;
use crate::service::elb::{arn_suffix, by_arns, of_stack, tags_for, tags_of};
use crate::util::Described;
use crate::util::{aws_err, create_named, delete_with_retry, described_with, opt_int, opt_str, str_attr, Select};

/// The AWS side of `target_group`.
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
    async fn delete(&self, aws: &Aws, address: &Address, id: &str, _attrs: &Attrs) -> Result<(), ProviderError> {
        delete(aws, address, id).await
    }
    /// Target group names are unique in a region.
    async fn named(&self, aws: &Aws, name: &str) -> Result<Option<String>, ProviderError> {
        aws.call(Call::ElbDescribe).await;
        match aws.elb.describe_target_groups().names(name).send().await.map_err(aws_err) {
            Ok(out) => Ok(out.target_groups().first().and_then(|g| g.target_group_arn()).map(str::to_string)),
            Err(e) if crate::util::is_code(&e, &["TargetGroupNotFound"]) => Ok(None),
            Err(e) => Err(e),
        }
    }
    fn found_by(&self) -> FoundBy {
        FoundBy::Listing
    }
    /// ELB has no VPC filter: every target group, kept if it is in the VPC.
    async fn list_in_vpc(&self, aws: &Aws, vpc: &InVpc<'_>) -> Result<Vec<String>, ProviderError> {
        let call = aws.elb.describe_target_groups().into_paginator().send();
        let pages = crate::util::pages_with(aws, Call::ElbDescribe, call).await?;
        Ok(pages
            .iter()
            .flat_map(|p| p.target_groups())
            .filter(|g| g.vpc_id() == Some(vpc.vpc))
            .filter_map(|g| g.target_group_arn())
            .map(str::to_string)
            .collect())
    }
}

/// The target group attributes a spec sets: each attribute, AWS's key, and whether
/// its text is a number, a boolean or a word.
const ATTRIBUTES: [(&str, &str, Text); 8] = [
    ("deregistration_delay", "deregistration_delay.timeout_seconds", Text::Int),
    ("stickiness_enabled", "stickiness.enabled", Text::Bool),
    ("stickiness_type", "stickiness.type", Text::Word),
    ("stickiness_lb_cookie_duration_seconds", "stickiness.lb_cookie.duration_seconds", Text::Int),
    ("stickiness_app_cookie_cookie_name", "stickiness.app_cookie.cookie_name", Text::Word),
    ("slow_start_duration_seconds", "slow_start.duration_seconds", Text::Int),
    ("load_balancing_algorithm_type", "load_balancing.algorithm.type", Text::Word),
    ("load_balancing_cross_zone_enabled", "load_balancing.cross_zone.enabled", Text::Word),
];

/// AWS gives and takes every target group attribute as text.
#[derive(Clone, Copy)]
enum Text {
    Int,
    Bool,
    Word,
}

impl Text {
    fn read(self, text: &str) -> Value {
        match self {
            Text::Int => text.parse::<i64>().map(Value::Int).unwrap_or(Value::Null),
            Text::Bool => text.parse::<bool>().map(Value::Bool).unwrap_or(Value::Null),
            // An app cookie's name reads back empty while another type is chosen.
            Text::Word if text.is_empty() => Value::Null,
            Text::Word => Value::Str(text.to_string()),
        }
    }
    fn write(self, v: &Value) -> Option<String> {
        match (self, v) {
            (Text::Int, Value::Int(i)) => Some(i.to_string()),
            (Text::Bool, Value::Bool(b)) => Some(b.to_string()),
            (Text::Word, Value::Str(s)) => Some(s.clone()),
            _ => None,
        }
    }
}

/// The attributes' values as AWS describes them.
fn read_attributes(described: &[TargetGroupAttribute]) -> Vec<(&'static str, Value)> {
    ATTRIBUTES
        .iter()
        .map(|(name, key, text)| {
            let v = described.iter().find(|a| a.key() == Some(*key)).and_then(|a| a.value()).map(|t| text.read(t));
            (*name, v.unwrap_or(Value::Null))
        })
        .collect()
}

async fn read(aws: &Aws, arns: Vec<String>) -> Result<Vec<TargetGroup>, ProviderError> {
    let out = aws.elb.describe_target_groups().set_target_group_arns(Some(arns)).send().await.map_err(aws_err)?;
    Ok(out.target_groups.unwrap_or_default())
}

pub(crate) async fn describe(aws: &Aws, sel: Select<'_>) -> Result<Vec<Described>, ProviderError> {
    let groups: Vec<TargetGroup> = match sel {
        Select::Stack(_) => {
            let pages = crate::util::pages_with(
                aws,
                Call::ElbDescribe,
                aws.elb.describe_target_groups().page_size(400).into_paginator().send(),
            )
            .await?;
            pages.into_iter().flat_map(|p| p.target_groups.unwrap_or_default()).collect()
        }
        Select::Ids(ids) => by_arns(aws, ids, "TargetGroupNotFound", |chunk| read(aws, chunk)).await?,
    };
    let groups: Vec<(String, TargetGroup)> =
        groups.into_iter().map(|g| (g.target_group_arn().unwrap_or_default().to_string(), g)).collect();
    let arns: Vec<String> = groups.iter().map(|(a, _)| a.clone()).collect();
    let tags = tags_of(aws, &arns).await?;
    let groups = match sel {
        Select::Stack(stack) => of_stack(groups, &tags, stack),
        Select::Ids(_) => groups,
    };
    let mut out = Vec::new();
    for (arn, g) in groups {
        // Attributes come one target group per call: AWS offers no batch.
        aws.call(Call::ElbDescribe).await;
        let attrs = aws.elb.describe_target_group_attributes().target_group_arn(&arn).send().await.map_err(aws_err)?;
        let settings = read_attributes(attrs.attributes());
        out.push(described_with(&arn, tags.get(&arn).cloned().unwrap_or_default(), observe(&arn, &g, settings)));
    }
    Ok(out)
}

fn observe(arn: &str, g: &TargetGroup, settings: Vec<(&'static str, Value)>) -> Vec<(&'static str, Value)> {
    let mut seen = vec![
        ("name", opt_str(g.target_group_name())),
        ("protocol", opt_str(g.protocol().map(|p| p.as_str()))),
        ("port", opt_int(g.port())),
        ("vpc_id", opt_str(g.vpc_id())),
        ("target_type", opt_str(g.target_type().map(|t| t.as_str()))),
        ("health_check_protocol", opt_str(g.health_check_protocol().map(|p| p.as_str()))),
        ("health_check_port", opt_str(g.health_check_port())),
        ("health_check_path", opt_str(g.health_check_path())),
        ("health_check_interval_seconds", opt_int(g.health_check_interval_seconds())),
        ("health_check_timeout_seconds", opt_int(g.health_check_timeout_seconds())),
        ("healthy_threshold_count", opt_int(g.healthy_threshold_count())),
        ("unhealthy_threshold_count", opt_int(g.unhealthy_threshold_count())),
        ("matcher", opt_str(g.matcher().and_then(|x| x.http_code()))),
        ("arn_suffix", arn_suffix(arn)),
    ];
    seen.extend(settings);
    seen
}

/// The health check's settings set on a create or modify builder (both take the same
/// setters); one the spec leaves out is not sent, so AWS keeps its value.
macro_rules! with_health_check {
    ($b:expr, $attrs:expr) => {
        $b.set_health_check_path(text($attrs, "health_check_path"))
            .set_health_check_port(text($attrs, "health_check_port"))
            .set_health_check_protocol(text($attrs, "health_check_protocol").as_deref().map(ProtocolEnum::from))
            .set_health_check_interval_seconds(int($attrs, "health_check_interval_seconds"))
            .set_health_check_timeout_seconds(int($attrs, "health_check_timeout_seconds"))
            .set_healthy_threshold_count(int($attrs, "healthy_threshold_count"))
            .set_unhealthy_threshold_count(int($attrs, "unhealthy_threshold_count"))
            .set_matcher(text($attrs, "matcher").map(|m| Matcher::builder().http_code(m).build()))
    };
}

fn request(b: CreateTargetGroupFluentBuilder, c: &Create<'_>, name: String) -> CreateTargetGroupFluentBuilder {
    let attrs = c.attrs;
    let b = b
        .name(name)
        .set_protocol(str_attr(attrs, "protocol").map(ProtocolEnum::from))
        .set_port(attrs.get("port").and_then(Value::as_int).map(|p| p as i32))
        .set_vpc_id(str_attr(attrs, "vpc_id").map(str::to_string))
        .set_target_type(str_attr(attrs, "target_type").map(TargetTypeEnum::from))
        .set_tags(Some(tags_for(c.stack, c.address, attrs.get("tags"))));
    with_health_check!(b, attrs)
}

/// The attribute changes a spec asks for: those of `keys` it sets.
fn attribute_changes(attrs: &Attrs, keys: &[&str]) -> Vec<TargetGroupAttribute> {
    ATTRIBUTES
        .iter()
        .filter(|(name, _, _)| keys.contains(name))
        .filter_map(|(name, key, text)| {
            let value = text.write(attrs.get(*name)?)?;
            Some(TargetGroupAttribute::builder().key(*key).value(value).build())
        })
        .collect()
}

/// The health check's settings, each its own attribute as in awscli.
const HEALTH_CHECK: [&str; 8] = [
    "health_check_protocol",
    "health_check_port",
    "health_check_path",
    "health_check_interval_seconds",
    "health_check_timeout_seconds",
    "healthy_threshold_count",
    "unhealthy_threshold_count",
    "matcher",
];

fn int(attrs: &Attrs, key: &str) -> Option<i32> {
    attrs.get(key).and_then(Value::as_int).map(|i| i as i32)
}

fn text(attrs: &Attrs, key: &str) -> Option<String> {
    str_attr(attrs, key).map(str::to_string)
}

pub(crate) async fn create(aws: &Aws, c: &Create<'_>) -> Result<String, ProviderError> {
    create_named(c, "name", |name| async move {
        aws.call(Call::ElbMutate).await;
        let out = request(aws.once.elb.create_target_group(), c, name).send().await.map_err(aws_err)?;
        out.target_groups()
            .first()
            .and_then(|g| g.target_group_arn())
            .map(str::to_string)
            .ok_or_else(|| ProviderError::new(None, "CreateTargetGroup returned no ARN"))
    })
    .await
}

pub(crate) async fn configure(aws: &Aws, id: &str, attrs: &Attrs) -> Result<(), ProviderError> {
    let all: Vec<&str> = ATTRIBUTES.iter().map(|(name, _, _)| *name).collect();
    set_attributes(aws, id, attribute_changes(attrs, &all)).await
}

/// One call for all the attributes that change.
async fn set_attributes(aws: &Aws, id: &str, changes: Vec<TargetGroupAttribute>) -> Result<(), ProviderError> {
    if changes.is_empty() {
        return Ok(());
    }
    aws.call(Call::ElbMutate).await;
    let modify = aws.elb.modify_target_group_attributes().target_group_arn(id).set_attributes(Some(changes));
    modify.send().await.map_err(aws_err)?;
    Ok(())
}

pub(crate) async fn update(aws: &Aws, id: &str, before: &Attrs, after: &Attrs) -> Result<(), ProviderError> {
    // Only what the spec sets is sent: the rest keeps AWS's values.
    let changed = |k: &&str| after.get(*k).is_some() && before.get(*k) != after.get(*k);
    if HEALTH_CHECK.iter().any(changed) {
        aws.call(Call::ElbMutate).await;
        let modify = aws.elb.modify_target_group().target_group_arn(id);
        with_health_check!(modify, after).send().await.map_err(aws_err)?;
    }
    let moved: Vec<&str> = ATTRIBUTES.iter().map(|(name, _, _)| *name).filter(|k| changed(k)).collect();
    set_attributes(aws, id, attribute_changes(after, &moved)).await
}

pub(crate) async fn delete(aws: &Aws, address: &Address, id: &str) -> Result<(), ProviderError> {
    // `ResourceInUse` while a listener that is itself being deleted still holds it.
    delete_with_retry(aws, address, id, || async {
        aws.call(Call::ElbMutate).await;
        aws.elb.delete_target_group().target_group_arn(id).send().await.map(|_| ()).map_err(aws_err)
    })
    .await
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::super::roundtrip::{self, gives_back};
    use super::*;

    /// Every attribute a create sends.
    fn all() -> Vec<&'static str> {
        let head = ["name", "protocol", "port", "vpc_id", "target_type"];
        let settings = ATTRIBUTES.iter().map(|(name, _, _)| *name);
        head.into_iter().chain(HEALTH_CHECK).chain(settings).chain(["tags"]).collect()
    }

    proptest! {
        #[test]
        fn a_target_group_comes_back_as_it_was_created(attrs in roundtrip::attrs("target_group", &all(), vec![])) {
            let address = roundtrip::address("target_group");
            let name = crate::util::str_attr(&attrs, "name").unwrap_or("generated").to_string();
            let sent = request(roundtrip::elb().create_target_group(), &roundtrip::create(&address, &attrs), name);
            let i = sent.as_input();
            let answer = TargetGroup::builder()
                .set_target_group_name(i.get_name().clone())
                .set_protocol(i.get_protocol().clone())
                .set_port(*i.get_port())
                .set_vpc_id(i.get_vpc_id().clone())
                .set_target_type(i.get_target_type().clone())
                .set_health_check_path(i.get_health_check_path().clone())
                .set_health_check_port(i.get_health_check_port().clone())
                .set_health_check_protocol(i.get_health_check_protocol().clone())
                .set_health_check_interval_seconds(*i.get_health_check_interval_seconds())
                .set_health_check_timeout_seconds(*i.get_health_check_timeout_seconds())
                .set_healthy_threshold_count(*i.get_healthy_threshold_count())
                .set_unhealthy_threshold_count(*i.get_unhealthy_threshold_count())
                .set_matcher(i.get_matcher().clone())
                .build();
            // The other settings are attributes, set and read as text.
            let every: Vec<&str> = ATTRIBUTES.iter().map(|(name, _, _)| *name).collect();
            let settings = read_attributes(&attribute_changes(&attrs, &every));
            let tags = roundtrip::tag_pairs(i.get_tags().iter().flatten().map(|t| (t.key(), t.value())));
            let mut back = described_with("arn:tg", tags, observe("arn:tg", &answer, settings)).attrs;
            if !attrs.contains_key("name") {
                back.remove("name");
            }
            gives_back(&attrs, &back, &all())?;
        }
    }
}
