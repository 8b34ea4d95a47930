//! The rollout a change sets off: for a kind whose schema declares [`RolloutRules`]
//! (an auto scaling group), an in-place change of a trigger attribute replaces the
//! running instances in batches. What the plan says of it (how many, in what batches,
//! the health gates, what happens on failure) is worked out here from the schema's
//! names alone, so a reviewer sees the deployment before approving it.

use serde::{Deserialize, Serialize};
use trellis_core::schema::{Kind, RolloutRules};
use trellis_core::{Attrs, Expr, Ref, Value};

/// How one change rolls its instances over.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rollout {
    /// What one unit is called (`instance`).
    pub noun: String,
    /// Instances to replace: the wanted count, none when only apply can tell.
    pub instances: Option<i64>,
    /// How many are replaced at a time, and in how many batches.
    pub batch_size: Option<i64>,
    pub batches: Option<i64>,
    /// New instances are launched (and healthy) before old ones are terminated.
    pub launch_first: bool,
    pub min_healthy_percentage: i64,
    pub max_healthy_percentage: i64,
    /// Healthy instances never fewer than this during the roll.
    pub min_healthy_instances: Option<i64>,
    /// Seconds a new instance is given before its health counts, and where that
    /// figure comes from when the spec leaves it out.
    pub warmup_seconds: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warmup_from: Option<String>,
    /// The target groups whose health gates each batch (their count; 0: only AWS's
    /// own instance checks).
    pub health_checked_in: usize,
    pub checkpoints: Vec<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint_delay_seconds: Option<i64>,
    pub bake_time_seconds: i64,
    /// The alarms that stop it: addresses of the spec's alarms, or names.
    pub alarms: Vec<String>,
    pub skip_matching: bool,
    pub auto_rollback: bool,
    /// The configuration a failure returns to (`4`), when it is known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollback_to: Option<Value>,
    /// What happens on failure, in words.
    pub on_failure: String,
}

/// How many instances a batch replaces, and whether new ones come first, for `n`
/// instances kept between `min`% and `max`% healthy. New-first above 100 %: the room
/// above the wanted count, at least one; otherwise the room below it, at least one.
/// The emulator's instance refresh (`crates/xtask/emulator.py`) batches the same way.
pub fn batch_size(n: i64, min: i64, max: i64) -> (i64, bool) {
    if n <= 0 {
        return (0, max > 100);
    }
    let above = n * (max - 100) / 100;
    let below = n - (n * min + 99) / 100;
    let launch_first = max > 100;
    let size = if launch_first { (above + below).max(1) } else { below.max(1) };
    (size.min(n), launch_first)
}

/// The rollout of a change from `before` to `after`, when the kind has one and a
/// trigger changes (or is not known until apply).
pub fn rollout_of(
    kind: &Kind,
    before: &Attrs,
    after: &Attrs,
    config: Option<&std::collections::BTreeMap<String, Expr>>,
) -> Option<Rollout> {
    let rules = kind.rollout?;
    let differs = |k: &str| after.get(k).is_some_and(Value::has_unknown) || before.get(k) != after.get(k);
    if !rules.triggers.iter().any(|t| differs(t)) {
        return None;
    }
    Some(describe(rules, before, after, config))
}

fn int(attrs: &Attrs, name: &str) -> Option<i64> {
    attrs.get(name).and_then(Value::as_int)
}

fn describe(
    r: &RolloutRules,
    before: &Attrs,
    after: &Attrs,
    config: Option<&std::collections::BTreeMap<String, Expr>>,
) -> Rollout {
    // The count that runs when the rollout starts: what the spec wants, else what runs.
    let instances = int(after, r.capacity).or_else(|| int(before, r.capacity)).or_else(|| int(after, r.min_capacity));
    let min = int(after, r.min_healthy).unwrap_or(100);
    let max = int(after, r.max_healthy).unwrap_or(110);
    let (batch_size, launch_first) = match instances {
        Some(n) => {
            let (size, first) = batch_size(n, min, max);
            (Some(size), first)
        }
        None => (None, max > 100),
    };
    let batches = instances.zip(batch_size).map(|(n, b)| if b == 0 { 0 } else { (n + b - 1) / b });
    let (warmup_seconds, warmup_from) = match int(after, r.warmup) {
        Some(w) => (Some(w), None),
        None => (int(after, r.warmup_default), Some(r.warmup_default.to_string())),
    };
    let health_checked_in = after.get(r.health_from).map(|v| v.as_list().len()).unwrap_or(0);
    let checkpoints: Vec<i64> =
        after.get(r.checkpoints).map(|v| v.as_list().iter().filter_map(Value::as_int).collect()).unwrap_or_default();
    let alarms = alarm_names(r, after, config);
    let auto_rollback = after.get(r.auto_rollback).and_then(Value::as_bool).unwrap_or(true);
    let skip_matching = after.get(r.skip_matching).and_then(Value::as_bool).unwrap_or(true);
    let rollback_to = before.get(r.version).cloned().filter(|v| !v.has_unknown());
    let on_failure = match (&rollback_to, auto_rollback) {
        (Some(v), true) => format!("rolls back to {} {}", r.version_noun, plain(v)),
        (None, true) => format!("rolls back to the {} running now", r.version_noun),
        (_, false) => format!(
            "stops where it is (`{}: false`): {}s already replaced keep the new {}",
            r.auto_rollback, r.noun, r.version_noun
        ),
    };
    Rollout {
        noun: r.noun.to_string(),
        instances,
        batch_size,
        batches,
        launch_first,
        min_healthy_percentage: min,
        max_healthy_percentage: max,
        // New-first keeps everything above the minimum's room; old-first takes a whole
        // batch away, even past the minimum when AWS's "at least one" forces it (a
        // group of one at 50 % has none serving while it rolls).
        min_healthy_instances: instances.zip(batch_size).map(|(n, b)| {
            if launch_first {
                (n * min + 99) / 100
            } else {
                (n - b).max(0)
            }
        }),
        warmup_seconds,
        warmup_from,
        health_checked_in,
        checkpoint_delay_seconds: int(after, r.checkpoint_delay).filter(|_| !checkpoints.is_empty()),
        checkpoints,
        bake_time_seconds: int(after, r.bake_time).unwrap_or(0),
        alarms,
        skip_matching,
        auto_rollback,
        rollback_to,
        on_failure,
    }
}

/// The alarms by the spec's own words: `metric_alarm.errors` for a reference, the
/// name for a literal.
fn alarm_names(
    r: &RolloutRules,
    after: &Attrs,
    config: Option<&std::collections::BTreeMap<String, Expr>>,
) -> Vec<String> {
    let mut from_config = Vec::new();
    if let Some(Expr::List(items) | Expr::Set(items)) = config.and_then(|c| c.get(r.alarms)) {
        for item in items {
            match item {
                Expr::Ref(Ref { address, .. }) => from_config.push(address.to_string()),
                Expr::Lit(v) => from_config.push(plain(v)),
                _ => {}
            }
        }
    }
    if !from_config.is_empty() {
        from_config.sort();
        return from_config;
    }
    after.get(r.alarms).map(|v| v.as_list().iter().map(plain).collect()).unwrap_or_default()
}

fn plain(v: &Value) -> String {
    match v {
        Value::Str(s) => s.clone(),
        Value::Int(i) => i.to_string(),
        Value::Unknown => "(known after apply)".into(),
        other => format!("{other:?}"),
    }
}

impl Rollout {
    /// The outage it brings, when it leaves no healthy instance while it rolls: what
    /// the plan lists under what it interrupts.
    pub fn outage(&self, min_healthy: &str) -> Option<crate::Interruption> {
        (self.min_healthy_instances == Some(0) && self.instances.is_some_and(|n| n > 0)).then(|| crate::Interruption {
            effect: trellis_core::schema::Effect::Restart,
            because: vec![min_healthy.to_string()],
            about: format!(
                "old {}s are terminated before new ones serve, and none is left: it serves nothing until the new ones are healthy",
                self.noun
            ),
        })
    }

    /// The plan's lines for it, without indentation.
    pub fn lines(&self) -> Vec<String> {
        let noun = |n: i64| if n == 1 { self.noun.clone() } else { format!("{}s", self.noun) };
        let mut lines = Vec::new();
        let head = match (self.instances, self.batch_size, self.batches) {
            (Some(n), Some(b), Some(k)) => format!(
                "rollout: {n} {} replaced in {k} batch{} of {b}, {}",
                noun(n),
                if k == 1 { "" } else { "es" },
                if self.launch_first { "new ones launched first" } else { "old ones terminated first" }
            ),
            _ => format!("rollout: every {} replaced (how many is known after apply)", self.noun),
        };
        lines.push(head);
        let floor = self.min_healthy_instances.map(|m| format!(", never fewer than {m} healthy")).unwrap_or_default();
        lines.push(format!(
            "  keeps {} % to {} % of capacity{floor}",
            self.min_healthy_percentage, self.max_healthy_percentage
        ));
        let warmup = match (self.warmup_seconds, &self.warmup_from) {
            (Some(w), None) => format!("{w} s"),
            (Some(w), Some(from)) => format!("{w} s (the group's `{from}`)"),
            (None, _) => "AWS's default".to_string(),
        };
        let health = match self.health_checked_in {
            0 => "by EC2's instance checks only (no target group)".to_string(),
            1 => "in its target group".to_string(),
            n => format!("in each of its {n} target groups"),
        };
        lines.push(format!("  each batch: warmup {warmup}, then healthy {health}"));
        if !self.checkpoints.is_empty() {
            let at: Vec<String> = self.checkpoints.iter().map(|p| format!("{p} %")).collect();
            let delay = self
                .checkpoint_delay_seconds
                .map(|d| format!("{d} s"))
                .unwrap_or_else(|| "3600 s (AWS's default)".into());
            lines.push(format!("  checkpoints at {}, each a pause of {delay}", at.join(", ")));
        }
        if self.bake_time_seconds > 0 {
            lines.push(format!("  bake time {} s after the last batch", self.bake_time_seconds));
        }
        if !self.alarms.is_empty() {
            lines.push(format!("  stopped by an alarm in ALARM: {}", self.alarms.join(", ")));
        }
        if self.skip_matching {
            lines.push(format!("  {}s already on the new configuration are kept", self.noun));
        }
        lines.push(format!("  on failure: {}", self.on_failure));
        lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_old_first_roll_says_how_few_are_left_and_a_dark_one_is_an_outage() {
        let rules = trellis_core::kinds::AUTOSCALING_GROUP.rollout.unwrap();
        let attrs = |n: i64, min: i64, max: i64| -> Attrs {
            [
                (rules.capacity.to_string(), Value::Int(n)),
                (rules.min_healthy.to_string(), Value::Int(min)),
                (rules.max_healthy.to_string(), Value::Int(max)),
            ]
            .into_iter()
            .collect()
        };
        // One instance at 50 %: AWS replaces it anyway, so none serves meanwhile.
        let r = describe(rules, &attrs(1, 50, 100), &attrs(1, 50, 100), None);
        assert_eq!((r.launch_first, r.min_healthy_instances), (false, Some(0)));
        assert!(r.lines()[1].contains("never fewer than 0 healthy"), "{:?}", r.lines());
        assert!(r.outage(rules.min_healthy).is_some());
        // Four at 50 %, old first: two at a time, two left.
        let r = describe(rules, &attrs(4, 50, 100), &attrs(4, 50, 100), None);
        assert_eq!((r.batch_size, r.min_healthy_instances), (Some(2), Some(2)));
        assert!(r.outage(rules.min_healthy).is_none());
        // New first keeps the minimum: one at 100 % to 110 % keeps its one.
        let r = describe(rules, &attrs(1, 100, 110), &attrs(1, 100, 110), None);
        assert_eq!((r.launch_first, r.min_healthy_instances), (true, Some(1)));
        assert!(r.outage(rules.min_healthy).is_none());
    }

    #[test]
    fn a_group_of_one_is_never_taken_to_zero() {
        assert_eq!(batch_size(1, 100, 110), (1, true));
        assert_eq!(batch_size(1, 100, 200), (1, true));
        assert_eq!(batch_size(1, 90, 100), (1, false));
    }

    #[test]
    fn batches_follow_the_healthy_percentages() {
        assert_eq!(batch_size(10, 100, 110), (1, true));
        assert_eq!(batch_size(10, 100, 200), (10, true));
        assert_eq!(batch_size(50, 100, 110), (5, true));
        assert_eq!(batch_size(10, 90, 100), (1, false));
        assert_eq!(batch_size(10, 50, 100), (5, false));
        assert_eq!(batch_size(10, 90, 120), (3, true));
        assert_eq!(batch_size(0, 100, 110), (0, true));
    }
}
