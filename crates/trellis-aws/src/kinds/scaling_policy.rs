//! `scaling_policy`: a target tracking, simple or step policy of an auto scaling group.

use std::collections::BTreeMap;

use async_trait::async_trait;
use aws_sdk_autoscaling::operation::put_scaling_policy::builders::PutScalingPolicyFluentBuilder;
use aws_sdk_autoscaling::types::{
    MetricType, PredefinedMetricSpecification, ScalingPolicy, StepAdjustment, TargetTrackingConfiguration,
};
use trellis_core::{Address, Attrs, ProviderError, Value};

use super::{AwsKind, Create, FoundBy, InVpc};
use crate::aws::Aws;
use crate::service::Service;
use crate::limits::Call;
use crate::util::{aws_err, bool_attr, described_with, opt_int, opt_str, str_attr, Described, Select};

/// The AWS side of `scaling_policy`.
pub(crate) struct Ops;

#[async_trait]
impl AwsKind for Ops {
    fn service(&self) -> &'static Service {
        &crate::service::AUTO_SCALING
    }
    /// A policy's name is unique within its group only, and its id is its ARN.
    async fn named(&self, _aws: &Aws, _name: &str) -> Result<Option<String>, ProviderError> {
        Ok(None)
    }
    async fn describe(&self, aws: &Aws, sel: Select<'_>) -> Result<Vec<Described>, ProviderError> {
        describe(aws, sel).await
    }
    async fn create(&self, aws: &Aws, c: &Create<'_>) -> Result<String, ProviderError> {
        put(aws, c.attrs).await
    }
    /// PutScalingPolicy creates and updates alike; the ARN stays.
    async fn update(&self, aws: &Aws, _id: &str, _before: &Attrs, after: &Attrs) -> Result<(), ProviderError> {
        put(aws, after).await.map(|_| ())
    }
    async fn delete(&self, aws: &Aws, _address: &Address, id: &str, attrs: &Attrs) -> Result<(), ProviderError> {
        delete(aws, id, attrs).await
    }
    /// A policy carries no tags.
    async fn sync_tags(
        &self,
        _aws: &Aws,
        _id: &str,
        _before: Option<&Value>,
        _after: Option<&Value>,
    ) -> Result<(), ProviderError> {
        Ok(())
    }
    /// A put: sending it again is harmless.
    fn create_is_idempotent(&self) -> bool {
        true
    }
    fn found_by(&self) -> FoundBy {
        FoundBy::Listing
    }
    /// The policies of the groups found in the VPC.
    async fn list_in_vpc(&self, aws: &Aws, vpc: &InVpc<'_>) -> Result<Vec<String>, ProviderError> {
        let groups: Vec<&String> = vpc.ids(&trellis_core::kinds::AUTOSCALING_GROUP).collect();
        if groups.is_empty() {
            return Ok(Vec::new());
        }
        let call = aws.asg.describe_policies().max_records(50).into_paginator().send();
        let pages = crate::util::pages_with(aws, Call::AutoScaling, call).await?;
        Ok(pages
            .iter()
            .flat_map(|p| p.scaling_policies())
            .filter(|p| p.auto_scaling_group_name().is_some_and(|g| groups.iter().any(|n| *n == g)))
            .filter_map(|p| p.policy_arn())
            .map(str::to_string)
            .collect())
    }
}

fn observe(p: &ScalingPolicy) -> Described {
    let arn = p.policy_arn().unwrap_or_default();
    let cfg = p.target_tracking_configuration();
    let metric = cfg.and_then(|c| c.predefined_metric_specification());
    described_with(
        arn,
        BTreeMap::new(),
        vec![
            ("policy_name", opt_str(p.policy_name())),
            ("auto_scaling_group_name", opt_str(p.auto_scaling_group_name())),
            ("metric", opt_str(metric.and_then(|m| m.predefined_metric_type().map(MetricType::as_str)))),
            (
                "target_value",
                cfg.and_then(|c| c.target_value()).map(|v| Value::Int(v.round() as i64)).unwrap_or(Value::Null),
            ),
            ("resource_label", opt_str(metric.and_then(|m| m.resource_label()))),
            ("disable_scale_in", Value::Bool(cfg.and_then(|c| c.disable_scale_in()).unwrap_or(false))),
            ("policy_type", opt_str(p.policy_type())),
            ("adjustment_type", opt_str(p.adjustment_type())),
            ("scaling_adjustment", opt_int(p.scaling_adjustment())),
            ("cooldown", opt_int(p.cooldown())),
            ("min_adjustment_magnitude", opt_int(p.min_adjustment_magnitude())),
            ("step_adjustments", steps_value(p.step_adjustments())),
            ("metric_aggregation_type", opt_str(p.metric_aggregation_type())),
            ("estimated_instance_warmup", opt_int(p.estimated_instance_warmup())),
        ],
    )
}

/// A step's bounds are numbers with a fraction in AWS; the spec's are whole.
fn bound(b: Option<f64>) -> Value {
    b.map(|v| Value::Int(v.round() as i64)).unwrap_or(Value::Null)
}

fn steps_value(steps: &[StepAdjustment]) -> Value {
    if steps.is_empty() {
        return Value::Null;
    }
    let step = |s: &StepAdjustment| {
        let pairs = [
            ("metric_interval_lower_bound", bound(s.metric_interval_lower_bound())),
            ("metric_interval_upper_bound", bound(s.metric_interval_upper_bound())),
            ("scaling_adjustment", opt_int(s.scaling_adjustment())),
        ];
        Value::Map(pairs.into_iter().filter(|(_, v)| *v != Value::Null).map(|(k, v)| (k.to_string(), v)).collect())
    };
    Value::List(steps.iter().map(step).collect())
}

fn steps(attrs: &Attrs) -> Option<Vec<StepAdjustment>> {
    let list = attrs.get("step_adjustments")?.as_list();
    let int = |m: &std::collections::BTreeMap<String, Value>, k: &str| m.get(k).and_then(Value::as_int);
    let made = list.iter().filter_map(Value::as_map).map(|m| {
        StepAdjustment::builder()
            .set_metric_interval_lower_bound(int(m, "metric_interval_lower_bound").map(|v| v as f64))
            .set_metric_interval_upper_bound(int(m, "metric_interval_upper_bound").map(|v| v as f64))
            .set_scaling_adjustment(int(m, "scaling_adjustment").map(|v| v as i32))
            .build()
    });
    Some(made.collect())
}

pub(crate) async fn describe(aws: &Aws, sel: Select<'_>) -> Result<Vec<Described>, ProviderError> {
    // Policies carry no tags: the state knows them by ARN. All policies are listed in
    // pages of 50 and matched, rather than asking group by group.
    let Select::Ids(ids) = sel else { return Ok(Vec::new()) };
    let pages = crate::util::pages_with(
        aws,
        Call::AutoScaling,
        aws.asg.describe_policies().max_records(50).into_paginator().send(),
    )
    .await?;
    Ok(pages
        .into_iter()
        .flat_map(|p| p.scaling_policies.unwrap_or_default())
        .filter(|p| p.policy_arn().is_some_and(|a| ids.iter().any(|i| i == a)))
        .map(|p| observe(&p))
        .collect())
}

fn request(b: PutScalingPolicyFluentBuilder, attrs: &Attrs) -> PutScalingPolicyFluentBuilder {
    let int = |k: &str| attrs.get(k).and_then(Value::as_int).map(|v| v as i32);
    let text = |k: &str| str_attr(attrs, k).map(str::to_string);
    let kind = str_attr(attrs, "policy_type").unwrap_or("TargetTrackingScaling");
    let b = b
        .set_auto_scaling_group_name(text("auto_scaling_group_name"))
        .set_policy_name(text("policy_name"))
        .policy_type(kind)
        .set_adjustment_type(text("adjustment_type"))
        .set_scaling_adjustment(int("scaling_adjustment"))
        .set_cooldown(int("cooldown"))
        .set_min_adjustment_magnitude(int("min_adjustment_magnitude"))
        .set_step_adjustments(steps(attrs))
        .set_metric_aggregation_type(text("metric_aggregation_type"))
        .set_estimated_instance_warmup(int("estimated_instance_warmup"));
    if kind != "TargetTrackingScaling" {
        return b;
    }
    let metric = PredefinedMetricSpecification::builder()
        .set_predefined_metric_type(str_attr(attrs, "metric").map(MetricType::from))
        .set_resource_label(text("resource_label"))
        .build();
    let cfg = TargetTrackingConfiguration::builder()
        .predefined_metric_specification(metric)
        .set_target_value(attrs.get("target_value").and_then(Value::as_int).map(|v| v as f64))
        .set_disable_scale_in(bool_attr(attrs, "disable_scale_in"))
        .build();
    b.target_tracking_configuration(cfg)
}

pub(crate) async fn put(aws: &Aws, attrs: &Attrs) -> Result<String, ProviderError> {
    aws.call(Call::AutoScaling).await;
    let out = request(aws.asg.put_scaling_policy(), attrs).send().await.map_err(aws_err)?;
    if let Some(arn) = out.policy_arn() {
        return Ok(arn.to_string());
    }
    // Some endpoints (moto) answer without the ARN: read it back by group and name.
    aws.call(Call::AutoScaling).await;
    let found = aws
        .asg
        .describe_policies()
        .set_auto_scaling_group_name(str_attr(attrs, "auto_scaling_group_name").map(str::to_string))
        .set_policy_names(str_attr(attrs, "policy_name").map(|n| vec![n.to_string()]))
        .send()
        .await
        .map_err(aws_err)?;
    found
        .scaling_policies()
        .first()
        .and_then(|p| p.policy_arn())
        .map(str::to_string)
        .ok_or_else(|| ProviderError::new(None, "PutScalingPolicy returned no ARN, and the policy cannot be read back"))
}

pub(crate) async fn delete(aws: &Aws, id: &str, attrs: &Attrs) -> Result<(), ProviderError> {
    aws.call(Call::AutoScaling).await;
    let r = aws
        .asg
        .delete_policy()
        .set_auto_scaling_group_name(str_attr(attrs, "auto_scaling_group_name").map(str::to_string))
        .policy_name(id)
        .send()
        .await;
    match r.map_err(aws_err) {
        // Deleting the group deletes its policies.
        Err(e) if e.message.contains("not found") || e.message.contains("does not exist") => Ok(()),
        other => other.map(|_| ()),
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::super::roundtrip::{self, gives_back};
    use super::*;

    const COMMON: &[&str] = &["policy_name", "auto_scaling_group_name", "policy_type"];
    const TRACKING: &[&str] =
        &["metric", "target_value", "resource_label", "disable_scale_in", "estimated_instance_warmup"];
    const SIMPLE: &[&str] = &["adjustment_type", "scaling_adjustment", "cooldown", "min_adjustment_magnitude"];
    const STEPS: &[&str] =
        &["adjustment_type", "min_adjustment_magnitude", "step_adjustments", "metric_aggregation_type", "estimated_instance_warmup"];

    /// A policy of one type, with that type's attributes.
    fn a_policy() -> BoxedStrategy<Attrs> {
        let of = |kind: &'static str, own: &'static [&'static str]| {
            let names: Vec<&'static str> = COMMON.iter().chain(own).copied().collect();
            let attrs = roundtrip::attrs("scaling_policy", &names, vec![("policy_type", Just(Value::str(kind)).boxed())]);
            // The spec's default, which every policy reads back.
            attrs
                .prop_map(|mut a| {
                    a.entry("disable_scale_in".to_string()).or_insert(Value::Bool(false));
                    a
                })
                // A step policy has one step or more (`validate` says so).
                .prop_filter("steps", |a| a.get("step_adjustments") != Some(&Value::List(vec![])))
        };
        prop_oneof![of("TargetTrackingScaling", TRACKING), of("SimpleScaling", SIMPLE), of("StepScaling", STEPS)].boxed()
    }

    fn every() -> Vec<&'static str> {
        let mut all: Vec<&str> = COMMON.iter().chain(TRACKING).chain(SIMPLE).chain(STEPS).copied().collect();
        all.sort();
        all.dedup();
        all
    }

    proptest! {
        #[test]
        fn a_policy_comes_back_as_it_was_put(attrs in a_policy()) {
            let sent = request(roundtrip::asg().put_scaling_policy(), &attrs);
            let i = sent.as_input();
            let answer = ScalingPolicy::builder()
                .set_policy_arn(Some("arn:policy".into()))
                .set_policy_name(i.get_policy_name().clone())
                .set_auto_scaling_group_name(i.get_auto_scaling_group_name().clone())
                .set_policy_type(i.get_policy_type().clone())
                .set_adjustment_type(i.get_adjustment_type().clone())
                .set_scaling_adjustment(*i.get_scaling_adjustment())
                .set_cooldown(*i.get_cooldown())
                .set_min_adjustment_magnitude(*i.get_min_adjustment_magnitude())
                .set_step_adjustments(i.get_step_adjustments().clone())
                .set_metric_aggregation_type(i.get_metric_aggregation_type().clone())
                .set_estimated_instance_warmup(*i.get_estimated_instance_warmup())
                .set_target_tracking_configuration(i.get_target_tracking_configuration().clone())
                .build();
            gives_back(&attrs, &observe(&answer).attrs, &every())?;
        }
    }
}
