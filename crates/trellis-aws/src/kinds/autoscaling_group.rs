//! `autoscaling_group`. A group's rollout (its instance refresh, watched and gated by
//! health) is `autoscaling_group/rollout.rs`.

use std::collections::{BTreeMap, BTreeSet};

use async_trait::async_trait;
use aws_sdk_autoscaling::operation::create_auto_scaling_group::builders::CreateAutoScalingGroupFluentBuilder;
use aws_sdk_autoscaling::types::{
    AutoScalingGroup, Filter, InstanceReusePolicy, LaunchTemplateSpecification, ScheduledUpdateGroupAction, Tag,
    WarmPoolConfiguration, WarmPoolState,
};
use trellis_core::schema::normalize_set;
use trellis_core::{Address, Attrs, ProviderError, Value};

use super::{AwsKind, Create, FoundBy, InVpc};
pub(crate) mod rollout;
use crate::aws::Aws;
use crate::service::Service;
use crate::limits::Call;
use crate::progress::Until;
use crate::util::Described;
use crate::util::{
    all_tags, aws_err, create_named, described_with, list_attr, opt_int, opt_str, retry_until, str_attr, tag_changes,
    Select,
};
use crate::TAG_STACK;

/// The AWS side of `autoscaling_group`.
pub(crate) struct Ops;

#[async_trait]
impl AwsKind for Ops {
    fn service(&self) -> &'static Service {
        &crate::service::AUTO_SCALING
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
        FoundBy::Listing
    }
    /// Auto Scaling has no VPC filter: every group, kept if it launches into a subnet
    /// found in the VPC.
    async fn list_in_vpc(&self, aws: &Aws, vpc: &InVpc<'_>) -> Result<Vec<String>, ProviderError> {
        let subnets: Vec<&String> = vpc.ids(&trellis_core::kinds::SUBNET).collect();
        let call = aws.asg.describe_auto_scaling_groups().into_paginator().send();
        let pages = crate::util::pages_with(aws, Call::AutoScaling, call).await?;
        Ok(pages
            .iter()
            .flat_map(|p| p.auto_scaling_groups())
            .filter(|g| {
                let zones = g.vpc_zone_identifier().unwrap_or_default().split(',');
                zones.map(str::trim).any(|s| subnets.iter().any(|n| *n == s))
            })
            .filter_map(|g| g.auto_scaling_group_name())
            .map(str::to_string)
            .collect())
    }
}

fn set(items: impl IntoIterator<Item = String>) -> Value {
    let mut v: Vec<Value> = items.into_iter().filter(|s| !s.is_empty()).map(Value::Str).collect();
    normalize_set(&mut v);
    Value::List(v)
}

pub(super) fn strings(attrs: &Attrs, name: &str) -> Vec<String> {
    list_attr(attrs, name).iter().filter_map(Value::as_str).map(str::to_string).collect()
}

pub(super) fn get_int(attrs: &Attrs, name: &str) -> Option<i32> {
    attrs.get(name).and_then(Value::as_int).map(|i| i as i32)
}

async fn groups(aws: &Aws, sel: Select<'_>) -> Result<Vec<AutoScalingGroup>, ProviderError> {
    let req = aws.asg.describe_auto_scaling_groups().max_records(100);
    let req = match sel {
        Select::Stack(stack) => req.filters(Filter::builder().name(format!("tag:{TAG_STACK}")).values(stack).build()),
        Select::Ids(ids) => req.set_auto_scaling_group_names(Some(ids.to_vec())),
    };
    let pages = crate::util::pages_with(aws, Call::AutoScaling, req.into_paginator().send()).await?;
    Ok(pages
        .into_iter()
        .flat_map(|p| p.auto_scaling_groups.unwrap_or_default())
        .filter(|g| g.status().is_none_or(|s| !s.starts_with("Delete")))
        .collect())
}

pub(crate) async fn describe(aws: &Aws, sel: Select<'_>) -> Result<Vec<Described>, ProviderError> {
    let groups = groups(aws, sel).await?;
    let names: Vec<String> = groups.iter().filter_map(|g| g.auto_scaling_group_name().map(str::to_string)).collect();
    let mut told = notifications(aws, &names).await?;
    let mut scheduled = if names.is_empty() { BTreeMap::new() } else { scheduled_actions(aws, &names).await? };
    Ok(groups
        .iter()
        .map(|g| {
            let tags = g
                .tags()
                .iter()
                .filter_map(|t| Some((t.key()?.to_string(), t.value().unwrap_or("").to_string())))
                .collect();
            let name = g.auto_scaling_group_name().unwrap_or_default();
            let mut seen = observe(g);
            seen.push(("notification_configurations", notifications_value(told.remove(name).unwrap_or_default())));
            seen.push(("scheduled_actions", Value::List(scheduled.remove(name).unwrap_or_default())));
            described_with(name, tags, seen)
        })
        .collect())
}

/// Each group's scheduled actions, by name: one paged read of the account's actions
/// when several groups are read, the group's own when one is.
async fn scheduled_actions(aws: &Aws, names: &[String]) -> Result<BTreeMap<String, Vec<Value>>, ProviderError> {
    let mut req = aws.asg.describe_scheduled_actions().max_records(100);
    if let [one] = names {
        req = req.auto_scaling_group_name(one);
    }
    let pages = crate::util::pages_with(aws, Call::AutoScaling, req.into_paginator().send()).await?;
    let mut out: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for a in pages.iter().flat_map(|p| p.scheduled_update_group_actions()) {
        let Some(group) = a.auto_scaling_group_name().filter(|g| names.iter().any(|n| n == g)) else { continue };
        out.entry(group.to_string()).or_default().push(scheduled_value(a));
    }
    for list in out.values_mut() {
        normalize_set(list);
    }
    Ok(out)
}

fn name_of(v: &Value) -> &str {
    v.as_map().and_then(|m| m.get("scheduled_action_name")).and_then(Value::as_str).unwrap_or("")
}

/// A time as the spec writes it: ISO 8601 in UTC, to the second.
fn time_text(t: &aws_smithy_types::DateTime) -> Value {
    t.fmt(aws_smithy_types::date_time::Format::DateTime).map(Value::Str).unwrap_or(Value::Null)
}

fn scheduled_value(a: &ScheduledUpdateGroupAction) -> Value {
    let mut m = BTreeMap::new();
    let mut put = |k: &str, v: Value| {
        if v != Value::Null {
            m.insert(k.to_string(), v);
        }
    };
    put("scheduled_action_name", opt_str(a.scheduled_action_name()));
    put("recurrence", opt_str(a.recurrence()));
    // A recurring action's start time is its next run, which AWS moves on: only a
    // one-off action's is the spec's.
    if a.recurrence().is_none() {
        put("start_time", a.start_time().map(time_text).unwrap_or(Value::Null));
    }
    put("end_time", a.end_time().map(time_text).unwrap_or(Value::Null));
    put("time_zone", opt_str(a.time_zone()));
    put("min_size", opt_int(a.min_size()));
    put("max_size", opt_int(a.max_size()));
    put("desired_capacity", opt_int(a.desired_capacity()));
    Value::Map(m)
}

fn parse_time(v: Option<&Value>) -> Result<Option<aws_smithy_types::DateTime>, ProviderError> {
    let Some(text) = v.and_then(Value::as_str) else { return Ok(None) };
    aws_smithy_types::DateTime::from_str(text, aws_smithy_types::date_time::Format::DateTime)
        .map(Some)
        .map_err(|e| ProviderError::new(Some("ValidationError"), format!("`{text}` is not a UTC time like 2026-12-24T18:00:00Z: {e}")))
}

/// Puts the scheduled actions `after` adds or changes and deletes those it drops.
async fn sync_scheduled(aws: &Aws, id: &str, before: &Attrs, after: &Attrs) -> Result<(), ProviderError> {
    let by_name = |a: &Attrs| -> BTreeMap<String, Value> {
        list_attr(a, "scheduled_actions").iter().map(|v| (name_of(v).to_string(), v.clone())).collect()
    };
    let (was, want) = (by_name(before), by_name(after));
    for (name, action) in &want {
        if was.get(name) == Some(action) {
            continue;
        }
        let m = action.as_map().cloned().unwrap_or_default();
        let int = |k: &str| m.get(k).and_then(Value::as_int).map(|n| n as i32);
        let text = |k: &str| m.get(k).and_then(Value::as_str).map(str::to_string);
        aws.call(Call::AutoScaling).await;
        aws.asg
            .put_scheduled_update_group_action()
            .auto_scaling_group_name(id)
            .scheduled_action_name(name)
            .set_recurrence(text("recurrence"))
            .set_start_time(parse_time(m.get("start_time"))?)
            .set_end_time(parse_time(m.get("end_time"))?)
            .set_time_zone(text("time_zone"))
            .set_min_size(int("min_size"))
            .set_max_size(int("max_size"))
            .set_desired_capacity(int("desired_capacity"))
            .send()
            .await
            .map_err(aws_err)?;
    }
    for name in was.keys().filter(|n| !want.contains_key(*n)) {
        aws.call(Call::AutoScaling).await;
        let call = aws.asg.delete_scheduled_action().auto_scaling_group_name(id).scheduled_action_name(name);
        match call.send().await.map_err(aws_err) {
            Err(e) if !crate::util::is_code(&e, &["ValidationError"]) => return Err(e),
            _ => {}
        }
    }
    Ok(())
}

fn warm_pool_value(w: Option<&WarmPoolConfiguration>) -> Value {
    let Some(w) = w else { return Value::Null };
    let mut m = BTreeMap::new();
    m.insert("min_size".to_string(), Value::Int(w.min_size().unwrap_or(0).into()));
    if let Some(n) = w.max_group_prepared_capacity().filter(|n| *n >= 0) {
        m.insert("max_group_prepared_capacity".to_string(), Value::Int(n.into()));
    }
    m.insert("pool_state".to_string(), Value::str(w.pool_state().map(|s| s.as_str()).unwrap_or("Stopped")));
    let reuse = w.instance_reuse_policy().and_then(|p| p.reuse_on_scale_in()).unwrap_or(false);
    m.insert("reuse_on_scale_in".to_string(), Value::Bool(reuse));
    Value::Map(m)
}

/// Puts the warm pool `after` gives, or deletes the group's when it gives none.
async fn sync_warm_pool(aws: &Aws, id: &str, after: &Attrs) -> Result<(), ProviderError> {
    aws.call(Call::AutoScaling).await;
    let Some(w) = after.get("warm_pool").and_then(Value::as_map) else {
        let call = aws.asg.delete_warm_pool().auto_scaling_group_name(id).force_delete(true);
        return match call.send().await.map_err(aws_err) {
            Err(e) if !crate::util::is_code(&e, &["ValidationError", "ResourceContention"]) => Err(e),
            _ => Ok(()),
        };
    };
    let int = |k: &str| w.get(k).and_then(Value::as_int).map(|n| n as i32);
    aws.asg
        .put_warm_pool()
        .auto_scaling_group_name(id)
        .set_min_size(int("min_size"))
        .set_max_group_prepared_capacity(int("max_group_prepared_capacity"))
        .set_pool_state(w.get("pool_state").and_then(Value::as_str).map(WarmPoolState::from))
        .instance_reuse_policy(
            InstanceReusePolicy::builder()
                .reuse_on_scale_in(w.get("reuse_on_scale_in").and_then(Value::as_bool).unwrap_or(false))
                .build(),
        )
        .send()
        .await
        .map_err(aws_err)?;
    Ok(())
}

/// Each group's notifications, topic to types: paged reads of 100 groups at a time.
async fn notifications(
    aws: &Aws,
    names: &[String],
) -> Result<BTreeMap<String, BTreeMap<String, Vec<String>>>, ProviderError> {
    let mut out: BTreeMap<String, BTreeMap<String, Vec<String>>> = BTreeMap::new();
    for chunk in names.chunks(100) {
        let call = aws
            .asg
            .describe_notification_configurations()
            .set_auto_scaling_group_names(Some(chunk.to_vec()))
            .max_records(100)
            .into_paginator()
            .send();
        for page in crate::util::pages_with(aws, Call::AutoScaling, call).await? {
            for n in page.notification_configurations() {
                let (Some(group), Some(topic), Some(kind)) =
                    (n.auto_scaling_group_name(), n.topic_arn(), n.notification_type())
                else {
                    continue;
                };
                let types = out.entry(group.to_string()).or_default().entry(topic.to_string()).or_default();
                types.push(kind.to_string());
            }
        }
    }
    Ok(out)
}

fn notifications_value(topics: BTreeMap<String, Vec<String>>) -> Value {
    let one = |(topic, types): (String, Vec<String>)| {
        Value::Map(
            [("topic_arn".to_string(), Value::Str(topic)), ("notification_types".to_string(), set(types))]
                .into_iter()
                .collect(),
        )
    };
    let mut v: Vec<Value> = topics.into_iter().map(one).collect();
    normalize_set(&mut v);
    Value::List(v)
}

/// The spec's notifications, topic to types.
fn notifications_of(attrs: &Attrs) -> BTreeMap<String, Vec<String>> {
    let list = attrs.get("notification_configurations").map(Value::as_list).unwrap_or_default();
    list.iter()
        .filter_map(Value::as_map)
        .filter_map(|m| {
            let topic = m.get("topic_arn")?.as_str()?.to_string();
            let types = m.get("notification_types").map(Value::as_list).unwrap_or_default();
            Some((topic, types.iter().filter_map(Value::as_str).map(str::to_string).collect()))
        })
        .collect()
}

/// Puts each topic whose types are new or changed (a put replaces a topic's types) and
/// deletes the topics no longer named.
async fn sync_notifications(aws: &Aws, id: &str, before: &Attrs, after: &Attrs) -> Result<(), ProviderError> {
    let (was, want) = (notifications_of(before), notifications_of(after));
    for (topic, types) in want.iter().filter(|(t, types)| was.get(*t) != Some(*types)) {
        aws.call(Call::AutoScaling).await;
        let put = aws.asg.put_notification_configuration().auto_scaling_group_name(id).topic_arn(topic);
        put.set_notification_types(Some(types.clone())).send().await.map_err(aws_err)?;
    }
    for topic in was.keys().filter(|t| !want.contains_key(*t)) {
        aws.call(Call::AutoScaling).await;
        let delete = aws.asg.delete_notification_configuration().auto_scaling_group_name(id).topic_arn(topic);
        delete.send().await.map_err(aws_err)?;
    }
    Ok(())
}

fn observe(g: &AutoScalingGroup) -> Vec<(&'static str, Value)> {
    let name = g.auto_scaling_group_name().unwrap_or_default();
    let lt = g.launch_template();
    // A group made without a version launches `$Default`, and AWS then shows none.
    let mut version = match lt.map(|t| t.version()) {
        Some(Some(v)) => v.parse::<i64>().map(Value::Int).unwrap_or_else(|_| Value::str(v)),
        Some(None) => Value::str("$Default"),
        None => Value::Null,
    };
    // Instances still on an older version (an instance refresh that failed or was
    // cut short) show as that version, so the next plan rolls them again.
    let oldest = g.instances().iter().filter_map(|i| i.launch_template()?.version()?.parse::<i64>().ok()).min();
    if let (Value::Int(v), Some(old)) = (&version, oldest) {
        if old < *v {
            version = Value::Int(old);
        }
    }
    vec![
        ("auto_scaling_group_name", Value::str(name)),
        ("launch_template_id", opt_str(lt.and_then(|t| t.launch_template_id()))),
        ("launch_template_version", version),
        ("min_size", opt_int(g.min_size())),
        ("max_size", opt_int(g.max_size())),
        ("desired_capacity", opt_int(g.desired_capacity())),
        ("vpc_zone_identifier", set(g.vpc_zone_identifier().unwrap_or("").split(',').map(|s| s.trim().to_string()))),
        ("target_group_arns", set(g.target_group_arns().iter().cloned())),
        ("health_check_type", opt_str(g.health_check_type())),
        ("health_check_grace_period", opt_int(g.health_check_grace_period())),
        ("capacity_rebalance", Value::Bool(g.capacity_rebalance().unwrap_or(false))),
        ("max_instance_lifetime", Value::Int(g.max_instance_lifetime().unwrap_or(0).into())),
        ("termination_policies", Value::List(g.termination_policies().iter().map(Value::str).collect())),
        ("default_instance_warmup", opt_int(g.default_instance_warmup().filter(|w| *w >= 0))),
        ("enabled_metrics", set(g.enabled_metrics().iter().filter_map(|m| m.metric().map(str::to_string)))),
        ("warm_pool", warm_pool_value(g.warm_pool_configuration())),
    ]
}

fn request(b: CreateAutoScalingGroupFluentBuilder, c: &Create<'_>, name: &str) -> CreateAutoScalingGroupFluentBuilder {
    let attrs = c.attrs;
    b.auto_scaling_group_name(name)
        .launch_template(template(attrs))
        .set_min_size(get_int(attrs, "min_size"))
        .set_max_size(get_int(attrs, "max_size"))
        .set_desired_capacity(get_int(attrs, "desired_capacity"))
        .vpc_zone_identifier(strings(attrs, "vpc_zone_identifier").join(","))
        .set_target_group_arns(Some(strings(attrs, "target_group_arns")))
        .set_health_check_type(str_attr(attrs, "health_check_type").map(str::to_string))
        .set_health_check_grace_period(get_int(attrs, "health_check_grace_period"))
        .set_capacity_rebalance(attrs.get("capacity_rebalance").and_then(Value::as_bool))
        .set_max_instance_lifetime(get_int(attrs, "max_instance_lifetime").filter(|n| *n > 0))
        .set_termination_policies(Some(strings(attrs, "termination_policies")).filter(|p| !p.is_empty()))
        .set_default_instance_warmup(get_int(attrs, "default_instance_warmup"))
        .set_tags(Some(asg_tags(name, all_tags(c.stack, c.address, attrs.get("tags")))))
}

pub(super) fn template(attrs: &Attrs) -> LaunchTemplateSpecification {
    let version = match attrs.get("launch_template_version") {
        Some(Value::Int(v)) => Some(v.to_string()),
        Some(Value::Str(v)) => Some(v.clone()),
        _ => None,
    };
    LaunchTemplateSpecification::builder()
        .set_launch_template_id(str_attr(attrs, "launch_template_id").map(str::to_string))
        .set_version(version)
        .build()
}

fn asg_tags(name: &str, tags: BTreeMap<String, String>) -> Vec<Tag> {
    tags.into_iter()
        .map(|(k, v)| {
            Tag::builder()
                .resource_id(name)
                .resource_type("auto-scaling-group")
                .key(k)
                .value(v)
                .propagate_at_launch(true)
                .build()
        })
        .collect()
}

pub(crate) async fn create(aws: &Aws, c: &Create<'_>) -> Result<String, ProviderError> {
    create_named(c, "auto_scaling_group_name", |name| async move {
        aws.call(Call::AutoScaling).await;
        request(aws.once.asg.create_auto_scaling_group(), c, &name).send().await.map_err(aws_err)?;
        Ok(name)
    })
    .await
}

/// Ids of the group's InService instances, or `None` when the group is gone.
async fn in_service(aws: &Aws, name: &str) -> Result<Option<(Vec<String>, i32)>, ProviderError> {
    let found = groups(aws, Select::Ids(&[name.to_string()])).await?;
    Ok(found.first().map(|g| {
        let ids = g
            .instances()
            .iter()
            .filter(|i| i.lifecycle_state().is_some_and(|s| s.as_str() == "InService"))
            .filter_map(|i| i.instance_id().map(str::to_string))
            .collect();
        (ids, g.desired_capacity().unwrap_or(0))
    }))
}

/// Waits until the group has its desired number of InService instances, none of them
/// in `old` (instances being replaced).
async fn wait_capacity(aws: &Aws, name: &str, old: &BTreeSet<String>) -> Result<(), ProviderError> {
    retry_until(aws, aws.timeouts.ready, &format!("group {name}"), Until::AtCapacity, || async {
        let Some((ids, desired)) = in_service(aws, name).await? else { return Ok(None) };
        let fresh = ids.iter().filter(|i| !old.contains(*i)).count();
        Ok((fresh as i32 >= desired && ids.len() as i32 >= desired).then_some(()))
    })
    .await
}

/// Turns the group's metrics collection on or off to give the metrics `after` names.
async fn sync_metrics(aws: &Aws, id: &str, before: &Attrs, after: &Attrs) -> Result<(), ProviderError> {
    let (was, want) = (strings(before, "enabled_metrics"), strings(after, "enabled_metrics"));
    let on: Vec<String> = want.iter().filter(|m| !was.contains(m)).cloned().collect();
    let off: Vec<String> = was.iter().filter(|m| !want.contains(m)).cloned().collect();
    if !on.is_empty() {
        aws.call(Call::AutoScaling).await;
        let call = aws.asg.enable_metrics_collection().auto_scaling_group_name(id).granularity("1Minute");
        call.set_metrics(Some(on)).send().await.map_err(aws_err)?;
    }
    if !off.is_empty() {
        aws.call(Call::AutoScaling).await;
        aws.asg.disable_metrics_collection().auto_scaling_group_name(id).set_metrics(Some(off)).send().await.map_err(aws_err)?;
    }
    Ok(())
}

pub(crate) async fn configure(aws: &Aws, id: &str, attrs: &Attrs) -> Result<(), ProviderError> {
    sync_notifications(aws, id, &Attrs::new(), attrs).await?;
    sync_metrics(aws, id, &Attrs::new(), attrs).await?;
    sync_scheduled(aws, id, &Attrs::new(), attrs).await?;
    if attrs.get("warm_pool").is_some_and(|w| *w != Value::Null) {
        sync_warm_pool(aws, id, attrs).await?;
    }
    wait_capacity(aws, id, &BTreeSet::new()).await
}

pub(crate) async fn update(aws: &Aws, id: &str, before: &Attrs, after: &Attrs) -> Result<(), ProviderError> {
    let changed = |k: &str| before.get(k) != after.get(k);
    let new_template = changed("launch_template_id") || changed("launch_template_version");
    // The launch template is not among them: it changes through the instance refresh's
    // desired configuration, so the group keeps its working version until the new one
    // has rolled out (and AWS's rollback has the old one to return to).
    let group_fields = [
        "min_size",
        "max_size",
        "desired_capacity",
        "vpc_zone_identifier",
        "health_check_type",
        "health_check_grace_period",
        "capacity_rebalance",
        "max_instance_lifetime",
        "termination_policies",
        "default_instance_warmup",
    ];
    if group_fields.iter().any(|k| changed(k)) {
        aws.call(Call::AutoScaling).await;
        aws.asg
            .update_auto_scaling_group()
            .auto_scaling_group_name(id)
            .set_min_size(get_int(after, "min_size"))
            .set_max_size(get_int(after, "max_size"))
            .set_desired_capacity(get_int(after, "desired_capacity").filter(|_| changed("desired_capacity")))
            .vpc_zone_identifier(strings(after, "vpc_zone_identifier").join(","))
            .set_health_check_type(str_attr(after, "health_check_type").map(str::to_string))
            .set_health_check_grace_period(get_int(after, "health_check_grace_period"))
            .set_capacity_rebalance(after.get("capacity_rebalance").and_then(Value::as_bool))
            .set_max_instance_lifetime(get_int(after, "max_instance_lifetime"))
            .set_termination_policies(Some(strings(after, "termination_policies")).filter(|p| !p.is_empty()))
            .set_default_instance_warmup(get_int(after, "default_instance_warmup"))
            .send()
            .await
            .map_err(aws_err)?;
    }
    let (was, want) = (strings(before, "target_group_arns"), strings(after, "target_group_arns"));
    let attach: Vec<String> = want.iter().filter(|t| !was.contains(t)).cloned().collect();
    let detach: Vec<String> = was.iter().filter(|t| !want.contains(t)).cloned().collect();
    if !attach.is_empty() {
        aws.call(Call::AutoScaling).await;
        aws.asg
            .attach_load_balancer_target_groups()
            .auto_scaling_group_name(id)
            .set_target_group_arns(Some(attach))
            .send()
            .await
            .map_err(aws_err)?;
    }
    if !detach.is_empty() {
        aws.call(Call::AutoScaling).await;
        aws.asg
            .detach_load_balancer_target_groups()
            .auto_scaling_group_name(id)
            .set_target_group_arns(Some(detach))
            .send()
            .await
            .map_err(aws_err)?;
    }
    if changed("notification_configurations") {
        sync_notifications(aws, id, before, after).await?;
    }
    if changed("enabled_metrics") {
        sync_metrics(aws, id, before, after).await?;
    }
    if changed("scheduled_actions") {
        sync_scheduled(aws, id, before, after).await?;
    }
    let pool = |a: &Attrs| a.get("warm_pool").filter(|w| **w != Value::Null).cloned();
    if pool(before) != pool(after) {
        sync_warm_pool(aws, id, after).await?;
    }
    if new_template {
        rollout::roll(aws, id, before, after).await?;
    }
    Ok(())
}

pub(crate) async fn sync_tags(
    aws: &Aws,
    id: &str,
    before: Option<&Value>,
    after: Option<&Value>,
) -> Result<(), ProviderError> {
    let (set, unset) = tag_changes(before, after);
    if !set.is_empty() {
        aws.call(Call::AutoScaling).await;
        aws.asg.create_or_update_tags().set_tags(Some(asg_tags(id, set))).send().await.map_err(aws_err)?;
    }
    if !unset.is_empty() {
        let tags = unset.into_iter().map(|k| (k, String::new())).collect();
        aws.call(Call::AutoScaling).await;
        aws.asg.delete_tags().set_tags(Some(asg_tags(id, tags))).send().await.map_err(aws_err)?;
    }
    Ok(())
}

pub(crate) async fn delete(aws: &Aws, _address: &Address, id: &str) -> Result<(), ProviderError> {
    // ForceDelete terminates the instances with the group (and its policies go too).
    aws.call(Call::AutoScaling).await;
    let r = aws.asg.delete_auto_scaling_group().auto_scaling_group_name(id).force_delete(true).send().await;
    match r.map_err(aws_err) {
        Err(e) if e.message.contains("not found") => return Ok(()),
        Err(e) => return Err(e),
        Ok(_) => {}
    }
    // Its instances hold network interfaces in subnets and security groups: wait until
    // the group is gone.
    retry_until(aws, aws.timeouts.delete, &format!("group {id}"), Until::Deleted, || async {
        aws.call(Call::AutoScaling).await;
        let out = aws.asg.describe_auto_scaling_groups().auto_scaling_group_names(id).send().await.map_err(aws_err)?;
        Ok(out.auto_scaling_groups().is_empty().then_some(()))
    })
    .await
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::super::roundtrip::{self, gives_back};
    use super::*;

    const GROUP: &[&str] = &[
        "auto_scaling_group_name",
        "launch_template_id",
        "launch_template_version",
        "min_size",
        "max_size",
        "desired_capacity",
        "vpc_zone_identifier",
        "target_group_arns",
        "health_check_type",
        "health_check_grace_period",
        "capacity_rebalance",
        "max_instance_lifetime",
        "termination_policies",
        "default_instance_warmup",
        "notification_configurations",
        "tags",
    ];

    proptest! {
        #[test]
        fn a_group_comes_back_as_it_was_made(
            attrs in roundtrip::attrs("autoscaling_group", GROUP, vec![
                ("launch_template_version", prop_oneof![
                    (1i64..50).prop_map(Value::Int),
                    Just(Value::str("$Default")),
                    Just(Value::str("$Latest")),
                ].boxed()),
                ("max_instance_lifetime", prop_oneof![Just(0i64), 86_400i64..31_536_000].prop_map(Value::Int).boxed()),
                ("default_instance_warmup", (0i64..3600).prop_map(Value::Int).boxed()),
            ]),
        ) {
            // What `validate` refuses: a topic twice, or one told of nothing.
            let topics = notifications_of(&attrs);
            let written = attrs.get("notification_configurations").map(Value::as_list).unwrap_or_default().len();
            prop_assume!(topics.len() == written && topics.values().all(|t| !t.is_empty()));
            let address = roundtrip::address("autoscaling_group");
            let name = str_attr(&attrs, "auto_scaling_group_name").unwrap_or("generated").to_string();
            let sent = request(roundtrip::asg().create_auto_scaling_group(), &roundtrip::create(&address, &attrs), &name);
            let i = sent.as_input();
            let answer = AutoScalingGroup::builder()
                .set_auto_scaling_group_name(i.get_auto_scaling_group_name().clone())
                .set_launch_template(i.get_launch_template().clone())
                .set_min_size(*i.get_min_size())
                .set_max_size(*i.get_max_size())
                .set_desired_capacity(*i.get_desired_capacity())
                .set_vpc_zone_identifier(i.get_vpc_zone_identifier().clone())
                .set_target_group_arns(i.get_target_group_arns().clone())
                .set_health_check_type(i.get_health_check_type().clone())
                .set_health_check_grace_period(*i.get_health_check_grace_period())
                .set_capacity_rebalance(*i.get_capacity_rebalance())
                .set_max_instance_lifetime(*i.get_max_instance_lifetime())
                // Left out, AWS answers its default policy.
                .set_termination_policies(Some(i.get_termination_policies().clone().unwrap_or_else(|| vec!["Default".into()])))
                .set_default_instance_warmup(*i.get_default_instance_warmup())
                .build();
            let tags = roundtrip::tag_pairs(i.get_tags().iter().flatten().map(|t| (t.key(), t.value())));
            let mut seen = observe(&answer);
            // Notifications are put after the create, each topic with its types.
            seen.push(("notification_configurations", notifications_value(notifications_of(&attrs).into_iter().collect())));
            let mut back = described_with(&name, tags, seen).attrs;
            if !attrs.contains_key("auto_scaling_group_name") {
                back.remove("auto_scaling_group_name");
            }
            // None given (the schema refuses an empty list): AWS's default policy.
            let mut attrs = attrs;
            if attrs.get("termination_policies").is_none_or(|p| p.as_list().is_empty()) {
                attrs.remove("termination_policies");
                prop_assert_eq!(back.remove("termination_policies"), Some(Value::List(vec![Value::str("Default")])));
            }
            // Sent with no version (the template's latest, unknown here), it reads `$Default`.
            if !attrs.contains_key("launch_template_version") {
                prop_assert_eq!(back.remove("launch_template_version"), Some(Value::str("$Default")));
            }
            gives_back(&attrs, &back, GROUP)?;
        }
    }

    proptest! {
        /// A scheduled action and a warm pool, as put, come back as the spec wrote them.
        #[test]
        fn schedules_and_warm_pools_come_back_as_put(
            name in "[a-z]{1,12}",
            recurring in any::<bool>(),
            sizes in (proptest::option::of(0i32..5), proptest::option::of(5i32..10), proptest::option::of(0i32..10)),
            zone in proptest::option::of(Just("Europe/Paris")),
            secs in 1_700_000_000i64..1_900_000_000,
            pool in (0i32..5, proptest::option::of(0i32..20), 0usize..3, any::<bool>()),
        ) {
            let (min, max, desired) = sizes;
            prop_assume!(min.is_some() || max.is_some() || desired.is_some());
            let start = aws_smithy_types::DateTime::from_secs(secs);
            let action = ScheduledUpdateGroupAction::builder()
                .auto_scaling_group_name("g")
                .scheduled_action_name(&name)
                .set_recurrence(recurring.then(|| "0 22 * * *".to_string()))
                .set_start_time((!recurring).then_some(start))
                .set_time_zone(zone.map(str::to_string))
                .set_min_size(min)
                .set_max_size(max)
                .set_desired_capacity(desired)
                .build();
            let back = scheduled_value(&action);
            let m = back.as_map().unwrap();
            prop_assert_eq!(name_of(&back), name.as_str());
            if !recurring {
                let again = parse_time(m.get("start_time")).unwrap();
                prop_assert_eq!(again, Some(start), "the start time reads back as it is sent");
            }
            prop_assert_eq!(m.get("min_size").and_then(Value::as_int), min.map(i64::from));
            prop_assert_eq!(m.get("desired_capacity").and_then(Value::as_int), desired.map(i64::from));

            let (min_size, prepared, state, reuse) = pool;
            let state = ["Stopped", "Running", "Hibernated"][state];
            let w = WarmPoolConfiguration::builder()
                .min_size(min_size)
                .set_max_group_prepared_capacity(prepared)
                .pool_state(WarmPoolState::from(state))
                .instance_reuse_policy(InstanceReusePolicy::builder().reuse_on_scale_in(reuse).build())
                .build();
            let mut want = BTreeMap::new();
            want.insert("min_size".to_string(), Value::Int(min_size.into()));
            if let Some(p) = prepared {
                want.insert("max_group_prepared_capacity".to_string(), Value::Int(p.into()));
            }
            want.insert("pool_state".to_string(), Value::str(state));
            want.insert("reuse_on_scale_in".to_string(), Value::Bool(reuse));
            prop_assert_eq!(warm_pool_value(Some(&w)), Value::Map(want));
        }
    }
}
