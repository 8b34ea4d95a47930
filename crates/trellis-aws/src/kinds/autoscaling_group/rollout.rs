//! A group's rollout: AWS's instance refresh with the spec's preferences and the new
//! launch template as its desired configuration (the group's own template changes only
//! when the refresh succeeds, so AWS's rollback returns to the version that worked),
//! watched until it ends, and gated by health: a new instance that its target groups
//! find unhealthy past its warmup stops the refresh and rolls it back.
//!
//! trellis-aws has the find / status / wait helpers terraform-provider-aws has per
//! resource; here they are `refreshes` with `own_refresh` (a refresh already under way
//! is waited for, never stacked, and one this rollout started, whose answer was lost, is
//! recognised by its desired configuration and watched as its own), `status` (one read
//! of a refresh) and `watch` (the wait, with the gate).

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use aws_sdk_autoscaling::types::{
    AlarmSpecification, DesiredConfiguration, InstanceRefresh, LaunchTemplateSpecification, RefreshPreferences,
    RefreshStrategy,
};
use aws_sdk_elasticloadbalancingv2::types::TargetDescription;
use trellis_core::{Attrs, ProviderError, Value};

use super::{get_int, strings, template};
use crate::aws::Aws;
use crate::errors::{class_of, Class};
use crate::limits::Call;
use crate::progress::{Event, RefreshStep};
use crate::util::{aws_err, bool_attr, is_code};

/// A refresh in one of these is still under way.
const ACTIVE: &[&str] = &["Pending", "InProgress", "Cancelling", "RollbackInProgress", "Baking"];

/// How often a refresh and its new instances' health are read.
fn poll_interval() -> Duration {
    let ms = std::env::var("TRELLIS_ROLLOUT_POLL_MS").ok().and_then(|v| v.parse().ok()).unwrap_or(3000);
    Duration::from_millis(ms)
}

/// The preferences as the spec gives them (trellis settings, never read back from AWS),
/// with trellis's defaults: full capacity kept, new instances first, roll back on failure.
pub(crate) fn preferences(attrs: &Attrs) -> RefreshPreferences {
    let checkpoints: Vec<i32> = attrs
        .get("checkpoint_percentages")
        .map(|v| v.as_list().iter().filter_map(Value::as_int).map(|p| p as i32).collect())
        .unwrap_or_default();
    let alarms = strings(attrs, "alarms");
    RefreshPreferences::builder()
        .min_healthy_percentage(get_int(attrs, "min_healthy_percentage").unwrap_or(100))
        .max_healthy_percentage(get_int(attrs, "max_healthy_percentage").unwrap_or(110))
        .set_instance_warmup(get_int(attrs, "instance_warmup"))
        .set_checkpoint_percentages((!checkpoints.is_empty()).then_some(checkpoints))
        .set_checkpoint_delay(get_int(attrs, "checkpoint_delay"))
        .skip_matching(bool_attr(attrs, "skip_matching").unwrap_or(true))
        .auto_rollback(bool_attr(attrs, "auto_rollback").unwrap_or(true))
        .set_bake_time(get_int(attrs, "bake_time").filter(|b| *b > 0))
        .set_alarm_specification(
            (!alarms.is_empty()).then(|| AlarmSpecification::builder().set_alarms(Some(alarms)).build()),
        )
        .build()
}

/// Rolls the group onto the launch template of `after`.
pub(crate) async fn roll(aws: &Aws, group: &str, before: &Attrs, after: &Attrs) -> Result<(), ProviderError> {
    let version = match after.get("launch_template_version") {
        Some(Value::Int(v)) => v.to_string(),
        Some(Value::Str(v)) => v.clone(),
        _ => "$Default".to_string(),
    };
    let old_version = match before.get("launch_template_version") {
        Some(Value::Int(v)) => v.to_string(),
        Some(Value::Str(v)) => v.clone(),
        _ => "its previous version".to_string(),
    };
    let wanted = template(after);
    let mut attempts = 0;
    // When this run first sent the start, less a minute for the clocks' difference.
    let mut sent_at: Option<std::time::SystemTime> = None;
    let started = loop {
        let refreshes = refreshes(aws, group).await?;
        // The refresh this run (or a killed run) started for this very configuration:
        // under way, or, once a start was sent whose answer was lost, already ended.
        // It is watched as this rollout's own, never started again.
        if let Some(ours) = own_refresh(&refreshes, &wanted, sent_at) {
            let step = RefreshStep::Recognised { version: version.clone() };
            aws.tell(Event::Refresh { group: group.to_string(), refresh: ours.clone(), step });
            break ours;
        }
        if let Some(other) = refreshes.iter().find(|r| r.active).map(|r| r.id.clone()) {
            let step = RefreshStep::AlreadyRunning;
            aws.tell(Event::Refresh { group: group.to_string(), refresh: other.clone(), step });
            watch(aws, group, &other, None).await.ok();
            continue;
        }
        // Sent once per round (the SDK does not resend it): a lost answer is resolved by
        // the look for this configuration's refresh above, never by starting another blind.
        sent_at.get_or_insert_with(|| std::time::SystemTime::now() - Duration::from_secs(60));
        aws.call(Call::AutoScaling).await;
        let sent = aws
            .once
            .asg
            .start_instance_refresh()
            .auto_scaling_group_name(group)
            .strategy(RefreshStrategy::Rolling)
            .desired_configuration(DesiredConfiguration::builder().launch_template(template(after)).build())
            .preferences(preferences(after))
            .send()
            .await
            .map_err(aws_err);
        match sent {
            Ok(out) => {
                let id = out.instance_refresh_id().unwrap_or_default().to_string();
                let step = RefreshStep::Started { version: version.clone() };
                aws.tell(Event::Refresh { group: group.to_string(), refresh: id.clone(), step });
                break id;
            }
            // Another refresh (or this one, whose answer was lost) is under way.
            Err(e) if is_code(&e, &["InstanceRefreshInProgress"]) => continue,
            // Its outcome is unknown, or AWS asks to slow down: look again, then resend.
            Err(e) if attempts < 8 && matches!(class_of(&e, &aws.recent), Class::Throttling | Class::Transient) => {
                attempts += 1;
                tokio::time::sleep(Duration::from_secs(2)).await;
                continue;
            }
            Err(e) => return Err(e),
        }
    };
    let gate = Gate {
        version,
        target_groups: strings(after, "target_group_arns"),
        warmup: Duration::from_secs(
            get_int(after, "instance_warmup")
                .or_else(|| get_int(after, "health_check_grace_period"))
                .unwrap_or(300)
                .max(0) as u64,
        ),
        auto_rollback: bool_attr(after, "auto_rollback").unwrap_or(true),
        old_version,
    };
    watch(aws, group, &started, Some(&gate)).await
}

/// What a batch must pass: the new instances healthy in every target group once their
/// warmup is over.
struct Gate {
    version: String,
    old_version: String,
    target_groups: Vec<String>,
    warmup: Duration,
    auto_rollback: bool,
}

/// One of a group's refreshes, as far as telling whose it is needs.
#[derive(Debug, Clone)]
struct Seen {
    id: String,
    active: bool,
    /// Its desired launch template (id, version), if it had one.
    desired: Option<(Option<String>, Option<String>)>,
    started: Option<std::time::SystemTime>,
}

/// The group's refreshes, newest first, as AWS lists them.
async fn refreshes(aws: &Aws, group: &str) -> Result<Vec<Seen>, ProviderError> {
    aws.call(Call::AutoScaling).await;
    let out = aws.asg.describe_instance_refreshes().auto_scaling_group_name(group).send().await.map_err(aws_err)?;
    Ok(out.instance_refreshes().iter().map(seen).collect())
}

fn seen(r: &InstanceRefresh) -> Seen {
    let desired = r.desired_configuration().and_then(|d| d.launch_template()).map(|t| {
        (t.launch_template_id().map(str::to_string), t.version().map(str::to_string))
    });
    Seen {
        id: r.instance_refresh_id().unwrap_or_default().to_string(),
        active: r.status().is_some_and(|s| ACTIVE.contains(&s.as_str())),
        desired,
        started: r.start_time().and_then(|t| std::time::SystemTime::try_from(*t).ok()),
    }
}

/// The refresh that rolls the group onto `wanted` and is this rollout's own: one under
/// way with that desired configuration, or (after a start was sent at `sent_at` whose
/// answer was lost) the newest one with it, started since, even if it has ended.
fn own_refresh(
    refreshes: &[Seen],
    wanted: &LaunchTemplateSpecification,
    sent_at: Option<std::time::SystemTime>,
) -> Option<String> {
    let want = (wanted.launch_template_id().map(str::to_string), wanted.version().map(str::to_string));
    let same = |r: &&Seen| r.desired.as_ref() == Some(&want);
    if let Some(r) = refreshes.iter().filter(same).find(|r| r.active) {
        return Some(r.id.clone());
    }
    let since = sent_at?;
    refreshes.iter().filter(same).find(|r| r.started.is_some_and(|t| t >= since)).map(|r| r.id.clone())
}

async fn status(aws: &Aws, group: &str, refresh: &str) -> Result<Option<InstanceRefresh>, ProviderError> {
    aws.call(Call::AutoScaling).await;
    let out = aws
        .asg
        .describe_instance_refreshes()
        .auto_scaling_group_name(group)
        .instance_refresh_ids(refresh)
        .send()
        .await
        .map_err(aws_err)?;
    Ok(out.instance_refreshes().first().cloned())
}

/// Waits for the refresh to end, saying how far it is; with a gate, a new instance
/// found unhealthy past its warmup stops it (rolled back, or cancelled when the spec
/// turned rollback off). Ok only when it succeeded.
async fn watch(aws: &Aws, group: &str, refresh: &str, gate: Option<&Gate>) -> Result<(), ProviderError> {
    let start = Instant::now();
    let limit = aws.timeouts.ready.max(Duration::from_secs(3600));
    let mut last_said: Option<RefreshStep> = None;
    let mut seen: BTreeMap<String, Instant> = BTreeMap::new();
    let mut unhealthy: BTreeMap<String, String> = BTreeMap::new();
    let mut stopped: Option<String> = None;
    loop {
        let r = status(aws, group, refresh).await?;
        let Some(r) = r else {
            return Err(ProviderError::new(
                Some("InstanceRefreshNotFound"),
                format!("instance refresh {refresh} of {group} is gone"),
            ));
        };
        let state = r.status().map(|s| s.as_str().to_string()).unwrap_or_default();
        let step = step_of(&r);
        if last_said.as_ref() != Some(&step) {
            aws.tell(Event::Refresh { group: group.to_string(), refresh: refresh.to_string(), step: step.clone() });
            last_said = Some(step);
        }
        match state.as_str() {
            "Successful" => return Ok(()),
            "Failed" | "Cancelled" | "RollbackSuccessful" | "RollbackFailed" => {
                return Err(failure(group, refresh, &r, &unhealthy, stopped.as_deref(), gate));
            }
            _ => {}
        }
        if let (Some(gate), None, "InProgress" | "Baking") = (gate, &stopped, state.as_str()) {
            let bad = check_health(aws, group, gate, &mut seen).await?;
            if !bad.is_empty() {
                unhealthy.extend(bad);
                let why = "new instances are unhealthy past their warmup".to_string();
                stop(aws, group, gate.auto_rollback).await?;
                let step = RefreshStep::Stopping { why: why.clone(), rollback: gate.auto_rollback };
                aws.tell(Event::Refresh { group: group.to_string(), refresh: refresh.to_string(), step });
                stopped = Some(why);
            }
        }
        if start.elapsed() > limit && stopped.is_none() {
            let why = format!("not finished after {} s", limit.as_secs());
            stop(aws, group, gate.is_none_or(|g| g.auto_rollback)).await?;
            stopped = Some(why);
        }
        tokio::time::sleep(poll_interval()).await;
    }
}

/// Where the refresh is, as AWS says.
fn step_of(r: &InstanceRefresh) -> RefreshStep {
    RefreshStep::Status {
        status: r.status().map(|s| s.as_str()).unwrap_or("?").to_string(),
        percentage: r.percentage_complete(),
        instances_left: r.instances_to_update(),
        reason: r.status_reason().filter(|s| !s.is_empty()).map(str::to_string),
    }
}

/// Rolls the refresh back (or cancels it); a refresh that has already ended or is
/// already rolling back is left to end.
async fn stop(aws: &Aws, group: &str, rollback: bool) -> Result<(), ProviderError> {
    aws.call(Call::AutoScaling).await;
    let sent = if rollback {
        aws.asg.rollback_instance_refresh().auto_scaling_group_name(group).send().await.map(|_| ()).map_err(aws_err)
    } else {
        aws.asg.cancel_instance_refresh().auto_scaling_group_name(group).send().await.map(|_| ()).map_err(aws_err)
    };
    match sent {
        Err(e) if is_code(&e, &["ActiveInstanceRefreshNotFound", "IrreversibleInstanceRefresh"]) => Ok(()),
        other => other,
    }
}

/// The new instances (on the gate's version, InService) that a target group finds
/// unhealthy after their warmup, with AWS's reason. `seen` remembers when each was
/// first seen in service, which starts its warmup.
async fn check_health(
    aws: &Aws,
    group: &str,
    gate: &Gate,
    seen: &mut BTreeMap<String, Instant>,
) -> Result<BTreeMap<String, String>, ProviderError> {
    aws.call(Call::AutoScaling).await;
    let out = aws.asg.describe_auto_scaling_groups().auto_scaling_group_names(group).send().await.map_err(aws_err)?;
    let fresh: BTreeSet<String> = out
        .auto_scaling_groups()
        .iter()
        .flat_map(|g| g.instances())
        .filter(|i| i.lifecycle_state().is_some_and(|s| s.as_str() == "InService"))
        .filter(|i| i.launch_template().and_then(|t| t.version()) == Some(gate.version.as_str()))
        .filter_map(|i| i.instance_id().map(str::to_string))
        .collect();
    let now = Instant::now();
    for id in &fresh {
        seen.entry(id.clone()).or_insert(now);
    }
    let due: Vec<String> =
        fresh.iter().filter(|i| seen.get(*i).is_some_and(|t| now.duration_since(*t) >= gate.warmup)).cloned().collect();
    let mut bad = BTreeMap::new();
    if due.is_empty() {
        return Ok(bad);
    }
    for tg in &gate.target_groups {
        aws.call(Call::ElbDescribe).await;
        let targets: Vec<TargetDescription> = due.iter().map(|i| TargetDescription::builder().id(i).build()).collect();
        let out = aws
            .elb
            .describe_target_health()
            .target_group_arn(tg)
            .set_targets(Some(targets))
            .send()
            .await
            .map_err(aws_err)?;
        for d in out.target_health_descriptions() {
            let Some(h) = d.target_health() else { continue };
            if h.state().is_some_and(|s| s.as_str() == "unhealthy") {
                let id = d.target().and_then(|t| t.id()).unwrap_or_default().to_string();
                let reason = h.reason().map(|r| r.as_str().to_string()).unwrap_or_default();
                let text = h.description().unwrap_or_default();
                let tg_name = tg.rsplit(':').next().unwrap_or(tg);
                bad.insert(
                    id,
                    format!(
                        "{reason} in {tg_name}{}",
                        if text.is_empty() { String::new() } else { format!(" ({text})") }
                    ),
                );
            }
        }
    }
    Ok(bad)
}

/// The error of a refresh that did not succeed: the group, how it ended and AWS's
/// reason, the instances found unhealthy and why, and what runs now.
fn failure(
    group: &str,
    refresh: &str,
    r: &InstanceRefresh,
    unhealthy: &BTreeMap<String, String>,
    stopped: Option<&str>,
    gate: Option<&Gate>,
) -> ProviderError {
    let state = r.status().map(|s| s.as_str()).unwrap_or("?");
    let mut msg = format!("group {group}: instance refresh {refresh} ended {state}");
    if let Some(reason) = r.status_reason().filter(|s| !s.is_empty()) {
        msg.push_str(&format!(" ({reason})"));
    }
    if let Some(why) = stopped {
        msg.push_str(&format!("; trellis stopped it: {why}"));
    }
    if !unhealthy.is_empty() {
        let list: Vec<String> = unhealthy.iter().map(|(i, why)| format!("{i}: {why}")).collect();
        msg.push_str(&format!("; unhealthy: {}", list.join(", ")));
    }
    if let Some(g) = gate {
        match state {
            "RollbackSuccessful" => {
                msg.push_str(&format!("; the group runs launch template version {} again", g.old_version))
            }
            "Cancelled" | "Failed" => msg.push_str("; instances already replaced keep the new version"),
            _ => {}
        }
    }
    let code = if state == "RollbackSuccessful" { "RolledBack" } else { "InstanceRefreshFailed" };
    ProviderError::new(Some(code), msg)
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

    use super::*;

    fn refresh(id: &str, active: bool, version: &str, started: SystemTime) -> Seen {
        Seen {
            id: id.into(),
            active,
            desired: Some((Some("lt-1".into()), Some(version.into()))),
            started: Some(started),
        }
    }

    fn wanted(version: &str) -> LaunchTemplateSpecification {
        LaunchTemplateSpecification::builder().launch_template_id("lt-1").version(version).build()
    }

    #[test]
    fn a_refresh_under_way_to_the_same_configuration_is_ours() {
        let t = SystemTime::now();
        let list = [refresh("other", true, "2", t), refresh("old", false, "3", t)];
        // Another version's refresh under way is someone else's: waited for, not taken.
        assert_eq!(own_refresh(&list, &wanted("3"), None), None);
        let list = [refresh("ours", true, "3", t)];
        assert_eq!(own_refresh(&list, &wanted("3"), None).as_deref(), Some("ours"));
    }

    #[test]
    fn an_ended_refresh_is_ours_only_if_started_since_this_run_sent_one() {
        let sent = SystemTime::now();
        let before = sent - Duration::from_secs(600);
        let list = [refresh("new", false, "3", sent + Duration::from_secs(1)), refresh("old", false, "3", before)];
        // Before anything was sent, an ended refresh is history, not this rollout.
        assert_eq!(own_refresh(&list, &wanted("3"), None), None);
        // After a start whose answer was lost, the newest one since is ours, even ended.
        assert_eq!(own_refresh(&list, &wanted("3"), Some(sent)).as_deref(), Some("new"));
        assert_eq!(own_refresh(&list[1..], &wanted("3"), Some(sent)), None);
        // A refresh with no desired configuration is never ours.
        let bare = [Seen { desired: None, ..refresh("bare", true, "3", sent) }];
        assert_eq!(own_refresh(&bare, &wanted("3"), Some(sent)), None);
    }
}
