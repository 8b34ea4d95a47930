//! CloudWatch metric alarms. PutMetricAlarm makes and changes an alarm alike (it sets
//! every setting at once), so an update is the same call as the create. Alarms are
//! known by name; DescribeAlarms cannot filter by tag, so a stack's alarms are listed
//! by its name prefix and their tags read one alarm at a time (ListTagsForResource).

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_cloudwatch::operation::put_metric_alarm::builders::PutMetricAlarmFluentBuilder;
use aws_sdk_cloudwatch::types::{ComparisonOperator, Dimension, MetricAlarm, StandardUnit, Statistic, Tag};
use trellis_core::schema::normalize_set;
use trellis_core::{Address, Attrs, ProviderError, Value};

use super::{AwsKind, Create, FoundBy};
use crate::aws::Aws;
use crate::service::Service;
use crate::limits::Call;
use crate::util::Described;
use crate::util::{
    all_tags, aws_err, bool_attr, described_with, is_code, list_attr, opt_str, str_attr, tag_changes, Select,
};
use crate::TAG_STACK;

/// The AWS side of `metric_alarm`.
pub(crate) struct Ops;

#[async_trait]
impl AwsKind for Ops {
    fn service(&self) -> &'static Service {
        &crate::service::CLOUDWATCH
    }
    async fn describe(&self, aws: &Aws, sel: Select<'_>) -> Result<Vec<Described>, ProviderError> {
        describe(aws, sel).await
    }
    async fn create(&self, aws: &Aws, c: &Create<'_>) -> Result<String, ProviderError> {
        create(aws, c).await
    }
    async fn update(&self, aws: &Aws, id: &str, before: &Attrs, after: &Attrs) -> Result<(), ProviderError> {
        update(aws, id, before, after).await
    }
    async fn delete(&self, aws: &Aws, address: &Address, id: &str, _attrs: &Attrs) -> Result<(), ProviderError> {
        delete(aws, address, id).await
    }
    async fn sync_tags(
        &self,
        aws: &Aws,
        id: &str,
        before: Option<&Value>,
        after: Option<&Value>,
    ) -> Result<(), ProviderError> {
        sync_tags(aws, id, before, after).await
    }
    fn found_by(&self) -> FoundBy {
        FoundBy::Nothing(
            "an alarm belongs to no VPC, and a group's alarms are a trellis setting AWS does not give back",
        )
    }
}

fn set(items: &[String]) -> Value {
    let mut v: Vec<Value> = items.iter().map(Value::str).collect();
    normalize_set(&mut v);
    Value::List(v)
}

fn strings(attrs: &Attrs, name: &str) -> Vec<String> {
    list_attr(attrs, name).iter().filter_map(Value::as_str).map(str::to_string).collect()
}

fn observe(a: &MetricAlarm) -> Vec<(&'static str, Value)> {
    let dimensions: BTreeMap<String, Value> = a
        .dimensions()
        .iter()
        .filter_map(|d| Some((d.name()?.to_string(), Value::str(d.value().unwrap_or_default()))))
        .collect();
    vec![
        ("alarm_name", opt_str(a.alarm_name())),
        ("alarm_description", opt_str(a.alarm_description())),
        ("actions_enabled", a.actions_enabled().map(Value::Bool).unwrap_or(Value::Null)),
        ("alarm_actions", set(a.alarm_actions())),
        ("ok_actions", set(a.ok_actions())),
        ("insufficient_data_actions", set(a.insufficient_data_actions())),
        ("metric_name", opt_str(a.metric_name())),
        ("namespace", opt_str(a.namespace())),
        ("statistic", opt_str(a.statistic().map(Statistic::as_str))),
        ("extended_statistic", opt_str(a.extended_statistic())),
        ("dimensions", Value::Map(dimensions)),
        ("period", a.period().map(|p| Value::Int(p.into())).unwrap_or(Value::Null)),
        ("unit", opt_str(a.unit().map(StandardUnit::as_str))),
        ("evaluation_periods", a.evaluation_periods().map(|p| Value::Int(p.into())).unwrap_or(Value::Null)),
        ("datapoints_to_alarm", a.datapoints_to_alarm().map(|p| Value::Int(p.into())).unwrap_or(Value::Null)),
        ("threshold", a.threshold().map(|t| Value::Int(t.round() as i64)).unwrap_or(Value::Null)),
        ("comparison_operator", opt_str(a.comparison_operator().map(ComparisonOperator::as_str))),
        ("treat_missing_data", opt_str(a.treat_missing_data())),
        ("alarm_arn", opt_str(a.alarm_arn())),
    ]
}

/// PutMetricAlarm with every setting of `attrs`; `tags` only on a create (PutMetricAlarm
/// ignores them for an alarm that exists).
fn request(
    b: PutMetricAlarmFluentBuilder,
    attrs: &Attrs,
    name: &str,
    tags: Option<BTreeMap<String, String>>,
) -> PutMetricAlarmFluentBuilder {
    let int = |k: &str| attrs.get(k).and_then(Value::as_int).map(|i| i as i32);
    let dimensions: Vec<Dimension> = attrs
        .get("dimensions")
        .and_then(Value::as_map)
        .map(|m| {
            m.iter().map(|(k, v)| Dimension::builder().name(k).value(v.as_str().unwrap_or_default()).build()).collect()
        })
        .unwrap_or_default();
    b.alarm_name(name)
        .set_alarm_description(str_attr(attrs, "alarm_description").map(str::to_string))
        .set_actions_enabled(bool_attr(attrs, "actions_enabled"))
        .set_alarm_actions(Some(strings(attrs, "alarm_actions")))
        .set_ok_actions(Some(strings(attrs, "ok_actions")))
        .set_insufficient_data_actions(Some(strings(attrs, "insufficient_data_actions")))
        .set_metric_name(str_attr(attrs, "metric_name").map(str::to_string))
        .set_namespace(str_attr(attrs, "namespace").map(str::to_string))
        .set_statistic(str_attr(attrs, "statistic").map(Statistic::from))
        .set_extended_statistic(str_attr(attrs, "extended_statistic").map(str::to_string))
        .set_dimensions(Some(dimensions))
        .set_period(int("period"))
        .set_unit(str_attr(attrs, "unit").map(StandardUnit::from))
        .set_evaluation_periods(int("evaluation_periods"))
        .set_datapoints_to_alarm(int("datapoints_to_alarm"))
        .set_threshold(attrs.get("threshold").and_then(Value::as_int).map(|t| t as f64))
        .set_comparison_operator(str_attr(attrs, "comparison_operator").map(ComparisonOperator::from))
        .set_treat_missing_data(str_attr(attrs, "treat_missing_data").map(str::to_string))
        .set_tags(tags.map(|t| t.into_iter().map(|(k, v)| Tag::builder().key(k).value(v).build()).collect()))
}

async fn alarms(aws: &Aws, sel: Select<'_>) -> Result<Vec<MetricAlarm>, ProviderError> {
    let mut found = Vec::new();
    match sel {
        Select::Stack(stack) => {
            let pages = crate::util::pages_with(
                aws,
                Call::CloudWatch,
                aws.cw
                    .describe_alarms()
                    .alarm_name_prefix(format!("{stack}-"))
                    .max_records(100)
                    .into_paginator()
                    .send(),
            )
            .await?;
            found.extend(pages.into_iter().flat_map(|p| p.metric_alarms.unwrap_or_default()));
        }
        Select::Ids(ids) => {
            for chunk in ids.chunks(100) {
                aws.call(Call::CloudWatch).await;
                let out =
                    aws.cw.describe_alarms().set_alarm_names(Some(chunk.to_vec())).send().await.map_err(aws_err)?;
                found.extend(out.metric_alarms.unwrap_or_default());
            }
        }
    }
    Ok(found)
}

async fn tags_of(aws: &Aws, arn: &str) -> Result<BTreeMap<String, String>, ProviderError> {
    aws.call(Call::CloudWatch).await;
    let out = aws.cw.list_tags_for_resource().resource_arn(arn).send().await.map_err(aws_err)?;
    Ok(out.tags().iter().filter_map(|t| Some((t.key()?.to_string(), t.value()?.to_string()))).collect())
}

pub(crate) async fn describe(aws: &Aws, sel: Select<'_>) -> Result<Vec<Described>, ProviderError> {
    let stack = match sel {
        Select::Stack(s) => Some(s.to_string()),
        Select::Ids(_) => None,
    };
    let mut out = Vec::new();
    for a in alarms(aws, sel).await? {
        let (Some(name), Some(arn)) = (a.alarm_name(), a.alarm_arn()) else { continue };
        let tags = match tags_of(aws, arn).await {
            Ok(t) => t,
            Err(e) if is_code(&e, crate::util::NOT_FOUND) => continue,
            Err(e) => return Err(e),
        };
        // A name prefix is not ownership: only the stack's own alarms.
        if stack.as_deref().is_some_and(|s| tags.get(TAG_STACK).map(String::as_str) != Some(s)) {
            continue;
        }
        out.push(described_with(name, tags, observe(&a)));
    }
    Ok(out)
}

pub(crate) async fn create(aws: &Aws, c: &Create<'_>) -> Result<String, ProviderError> {
    let name = str_attr(c.attrs, "alarm_name").unwrap_or_default().to_string();
    // PutMetricAlarm would silently take over an alarm of that name: refuse one that is
    // not this address's.
    let names = [name.clone()];
    if let Some(existing) = alarms(aws, Select::Ids(&names)).await?.first() {
        let ours = match existing.alarm_arn() {
            Some(arn) => tags_of(aws, arn).await?.get(crate::TAG_ADDRESS) == Some(&c.address.tag_value()),
            None => false,
        };
        if !ours {
            return Err(ProviderError::new(
                Some("AlarmExists"),
                format!("an alarm named {name} already exists and is not this stack's; give `alarm_name` another name"),
            ));
        }
    }
    aws.call(Call::CloudWatch).await;
    request(aws.once.cw.put_metric_alarm(), c.attrs, &name, Some(all_tags(c.stack, c.address, c.attrs.get("tags"))))
        .send()
        .await
        .map_err(aws_err)?;
    Ok(name)
}

pub(crate) async fn update(aws: &Aws, id: &str, _before: &Attrs, after: &Attrs) -> Result<(), ProviderError> {
    aws.call(Call::CloudWatch).await;
    request(aws.cw.put_metric_alarm(), after, id, None).send().await.map_err(aws_err)?;
    Ok(())
}

/// Tags are set on the alarm's ARN.
pub(crate) async fn sync_tags(
    aws: &Aws,
    name: &str,
    before: Option<&Value>,
    after: Option<&Value>,
) -> Result<(), ProviderError> {
    let (set, unset) = tag_changes(before, after);
    if set.is_empty() && unset.is_empty() {
        return Ok(());
    }
    let names = [name.to_string()];
    let Some(arn) = alarms(aws, Select::Ids(&names)).await?.first().and_then(|a| a.alarm_arn().map(str::to_string))
    else {
        return Err(ProviderError::new(Some("ResourceNotFound"), format!("alarm {name} does not exist")));
    };
    if !set.is_empty() {
        aws.call(Call::CloudWatch).await;
        let tags = set.into_iter().map(|(k, v)| Tag::builder().key(k).value(v).build()).collect();
        aws.cw.tag_resource().resource_arn(&arn).set_tags(Some(tags)).send().await.map_err(aws_err)?;
    }
    if !unset.is_empty() {
        aws.call(Call::CloudWatch).await;
        aws.cw.untag_resource().resource_arn(&arn).set_tag_keys(Some(unset)).send().await.map_err(aws_err)?;
    }
    Ok(())
}

pub(crate) async fn delete(aws: &Aws, _address: &Address, name: &str) -> Result<(), ProviderError> {
    aws.call(Call::CloudWatch).await;
    match aws.cw.delete_alarms().alarm_names(name).send().await.map_err(aws_err) {
        Err(e) if !is_code(&e, crate::util::NOT_FOUND) && !is_code(&e, &["ResourceNotFound"]) => Err(e),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::super::roundtrip::{self, gives_back};
    use super::*;

    const ALARM: &[&str] = &[
        "alarm_name",
        "alarm_description",
        "actions_enabled",
        "alarm_actions",
        "ok_actions",
        "insufficient_data_actions",
        "metric_name",
        "namespace",
        "statistic",
        "extended_statistic",
        "dimensions",
        "period",
        "unit",
        "evaluation_periods",
        "datapoints_to_alarm",
        "threshold",
        "comparison_operator",
        "treat_missing_data",
    ];

    proptest! {
        #[test]
        fn an_alarm_comes_back_as_it_was_put(attrs in roundtrip::attrs("metric_alarm", ALARM, vec![
            ("unit", prop_oneof![Just(Value::str("Count")), Just(Value::str("Percent")), Just(Value::str("Seconds"))].boxed()),
        ])) {
            let name = str_attr(&attrs, "alarm_name").unwrap_or("generated").to_string();
            let sent = request(roundtrip::cloudwatch().put_metric_alarm(), &attrs, &name, None);
            let i = sent.as_input();
            // DescribeAlarms answers the alarm as it was put.
            let answer = MetricAlarm::builder()
                .set_alarm_name(i.get_alarm_name().clone())
                .set_alarm_description(i.get_alarm_description().clone())
                .set_actions_enabled(*i.get_actions_enabled())
                .set_alarm_actions(i.get_alarm_actions().clone())
                .set_ok_actions(i.get_ok_actions().clone())
                .set_insufficient_data_actions(i.get_insufficient_data_actions().clone())
                .set_metric_name(i.get_metric_name().clone())
                .set_namespace(i.get_namespace().clone())
                .set_statistic(i.get_statistic().clone())
                .set_extended_statistic(i.get_extended_statistic().clone())
                .set_dimensions(i.get_dimensions().clone())
                .set_period(*i.get_period())
                .set_unit(i.get_unit().clone())
                .set_evaluation_periods(*i.get_evaluation_periods())
                .set_datapoints_to_alarm(*i.get_datapoints_to_alarm())
                .set_threshold(*i.get_threshold())
                .set_comparison_operator(i.get_comparison_operator().clone())
                .set_treat_missing_data(i.get_treat_missing_data().clone())
                .build();
            let back = described_with(&name, BTreeMap::new(), observe(&answer)).attrs;
            gives_back(&attrs, &back, ALARM)?;
        }
    }
}
