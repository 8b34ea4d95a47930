//! `trellis drift` and `trellis reconcile`: what changed outside trellis, attribute by
//! attribute, and one reconcile round, which handles each drifted resource by its
//! policy (report, revert, accept) and leaves the spec's own changes alone unless told.
//! Nothing here loops, listens or prints: the CLI does (`commands/reconcile.rs`).

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant, SystemTime};

use serde::Serialize;
use trellis_core::{Address, Value};
use trellis_engine::ApplyOptions;
use trellis_plan::drift::{self, AttrDrift, Cause};
use trellis_plan::{Operation, Plan};
use trellis_spec::{drift_ignore_target, DriftPolicy, Spec};

use crate::{check_data_loss, refuse_preflight, Error, OpenOptions, Orphans, Result, Session};

/// The version of the JSON documents below (`docs/drift.md` describes them).
pub const DRIFT_FORMAT: u32 = 1;

/// The differences between the state and the live objects, with the known noise apart.
#[derive(Debug, Clone, Serialize)]
pub struct DriftReport {
    pub format_version: u32,
    pub stack: String,
    /// The resources whose live object differs from the state, or is gone.
    pub resources: Vec<DriftedResource>,
    /// Differences that are known noise, each named with what declared it so.
    pub ignored: Vec<IgnoredDiff>,
    /// The AWS calls the read took.
    pub api_calls: usize,
}

impl DriftReport {
    pub fn has_drift(&self) -> bool {
        !self.resources.is_empty()
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct DriftedResource {
    pub address: String,
    pub id: String,
    /// What reconcile does with it: `report`, `revert` or `accept`.
    #[serde(serialize_with = "policy_word")]
    pub policy: DriftPolicy,
    /// Deleted outside trellis.
    pub deleted: bool,
    pub attributes: Vec<AttrDrift>,
}

#[derive(Debug, Clone, Serialize)]
pub struct IgnoredDiff {
    pub address: String,
    pub attribute: String,
    /// `--ignore`, `drift.ignore` (the spec) or `ignore_changes` (the resource).
    pub by: &'static str,
}

fn policy_word<S: serde::Serializer>(p: &DriftPolicy, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(p.word())
}

/// `--ignore ADDR.ATTR` values, checked: each names an attribute of its kind.
pub fn parse_ignores(flags: &[String]) -> Result<Vec<(Address, String)>> {
    flags
        .iter()
        .map(|f| match drift_ignore_target(f) {
            Some((a, attr)) if a.kind.attr(attr.split('.').next().unwrap_or("")).is_some() => Ok((a, attr)),
            Some((a, attr)) => Err(Error::Usage(format!("--ignore {f}: `{a}` has no attribute `{attr}`"))),
            None => {
                Err(Error::Usage(format!("--ignore {f}: write `kind.name.attribute`, e.g. instance.web.tags.Owner")))
            }
        })
        .collect()
}

/// Whether an ignore entry for `target` covers the object at `address`: the same
/// address, or the repeated resource it is a copy of.
fn covers(target: &Address, address: &Address) -> bool {
    target == address || (target.key.is_none() && &address.resource() == target)
}

/// The drift `plan` found, by each resource's policy, with `flags` (`--ignore`) and the
/// spec's `drift.ignore` taken out as noise.
pub fn drift_report(spec: &Spec, plan: &Plan, flags: &[(Address, String)], api_calls: usize) -> DriftReport {
    let from_spec: Vec<(Address, String)> = spec.drift.ignore.iter().filter_map(|t| drift_ignore_target(t)).collect();
    let sensitive: BTreeMap<&Address, &Vec<String>> =
        plan.prior_state.resources.iter().map(|r| (&r.address, &r.sensitive)).collect();
    let ids: BTreeMap<&Address, &str> =
        plan.prior_state.resources.iter().map(|r| (&r.address, r.id.as_str())).collect();
    let mut resources = Vec::new();
    let mut ignored = Vec::new();
    for d in &plan.drift {
        let address = d.address.to_string();
        let mut kept = Vec::new();
        for mut a in drift::attributes(d) {
            let by =
                if drift::is_ignored(&a.attribute, &d.ignored) {
                    Some("ignore_changes")
                } else if flags.iter().any(|(t, attr)| {
                    covers(t, &d.address) && drift::is_ignored(&a.attribute, std::slice::from_ref(attr))
                }) {
                    Some("--ignore")
                } else if from_spec.iter().any(|(t, attr)| {
                    covers(t, &d.address) && drift::is_ignored(&a.attribute, std::slice::from_ref(attr))
                }) {
                    Some("drift.ignore")
                } else {
                    None
                };
            match by {
                Some(by) => ignored.push(IgnoredDiff { address: address.clone(), attribute: a.attribute, by }),
                None => {
                    // A secret's value is never shown, recorded or live.
                    let secret = sensitive.get(&d.address).is_some_and(|s| drift::is_ignored(&a.attribute, s));
                    if secret {
                        a.recorded = Value::str("(sensitive)");
                        a.live = Value::str("(sensitive)");
                    }
                    kept.push(a);
                }
            }
        }
        let deleted = d.after.is_none();
        if kept.is_empty() && !deleted {
            continue;
        }
        let policy = spec.resources.get(&d.address).and_then(|r| r.drift).unwrap_or(spec.drift.default);
        resources.push(DriftedResource {
            address,
            id: ids.get(&d.address).map(|s| s.to_string()).unwrap_or_default(),
            policy,
            deleted,
            attributes: kept,
        });
    }
    DriftReport { format_version: DRIFT_FORMAT, stack: spec.stack.clone(), resources, ignored, api_calls }
}

/// What one reconcile round is told to do beyond each resource's drift policy.
#[derive(Debug, Clone, Default)]
pub struct RoundOptions {
    /// Apply the spec's own changes too (`--apply-spec-changes`).
    pub apply_spec_changes: bool,
    /// Let a revert delete or replace a database (`--allow-data-loss`).
    pub allow_data_loss: bool,
    pub ignore: Vec<(Address, String)>,
}

/// What one round found and did.
#[derive(Debug, Clone, Serialize)]
pub struct Round {
    pub number: u64,
    /// RFC 3339, UTC.
    pub started: String,
    pub finished: String,
    pub seconds: f64,
    pub drift: DriftReport,
    /// Changed back to what the state records.
    pub reverted: Vec<String>,
    /// Taken into the state as they are live.
    pub accepted: Vec<String>,
    /// Drift left as it is (policy `report`, or a revert that was refused).
    pub reported: Vec<String>,
    /// Changes the spec asks for that this round did not make.
    pub spec_changes_pending: Vec<String>,
    /// Changes the spec asks for that this round made (`--apply-spec-changes`).
    pub spec_changes_applied: Vec<String>,
    pub errors: Vec<String>,
    /// AWS calls of the round (reads and changes).
    pub api_calls: usize,
    /// AWS throttled a call of the round (retried or not): the next round waits longer.
    pub throttled: bool,
}

impl Round {
    /// The round found or repaired drift: a notification is due.
    pub fn newsworthy(&self) -> bool {
        self.drift.has_drift() || !self.reverted.is_empty() || !self.accepted.is_empty()
    }
}

fn now_text(t: SystemTime) -> String {
    humantime::format_rfc3339_seconds(t).to_string()
}

/// One round: open the spec and its state under lock, read the live stack, and handle
/// each drifted resource by its policy. The lock is held for the round only, so a person
/// and a reconciler never interleave, and a person may apply between rounds.
pub async fn round(number: u64, open: OpenOptions<'_>, opts: &RoundOptions) -> Round {
    let started = SystemTime::now();
    let clock = Instant::now();
    let mut round = Round {
        number,
        started: now_text(started),
        finished: String::new(),
        seconds: 0.0,
        drift: DriftReport {
            format_version: DRIFT_FORMAT,
            stack: String::new(),
            resources: vec![],
            ignored: vec![],
            api_calls: 0,
        },
        reverted: vec![],
        accepted: vec![],
        reported: vec![],
        spec_changes_pending: vec![],
        spec_changes_applied: vec![],
        errors: vec![],
        api_calls: 0,
        throttled: false,
    };
    if let Err(e) = run_round(open, opts, &mut round).await {
        round.errors.push(e.to_string());
    }
    round.finished = now_text(SystemTime::now());
    round.seconds = clock.elapsed().as_secs_f64();
    round
}

async fn run_round(open: OpenOptions<'_>, opts: &RoundOptions, round: &mut Round) -> Result<()> {
    let mut session = Session::open(open).await?;
    let handled = handle(&mut session, opts, round).await;
    // Counted on every path, a failed round's too; throttling as trellis-aws's one
    // classifier counted it, retried or not.
    round.api_calls = session.aws.calls();
    round.throttled = session.aws.retry_stats().throttling.load(std::sync::atomic::Ordering::Relaxed) > 0;
    handled
}

async fn handle(session: &mut Session, opts: &RoundOptions, round: &mut Round) -> Result<()> {
    let planned = session.plan(Operation::Apply, &[], &[], Orphans::Journaled).await?;
    let plan = planned.plan;
    round.drift = drift_report(&session.spec, &plan, &opts.ignore, planned.read.calls);
    let causes = drift::causes(&plan);
    let policy_of = |a: &str| round.drift.resources.iter().find(|r| r.address == a).map(|r| r.policy);
    let with = |p: DriftPolicy| round.drift.resources.iter().filter(move |r| r.policy == p);

    // Accept: the live object becomes the record (a deleted one leaves the state).
    let accept: Vec<&str> = with(DriftPolicy::Accept).map(|r| r.address.as_str()).collect();
    if !accept.is_empty() {
        let mut state = session.state();
        for a in &accept {
            let address: Address = a.parse().map_err(|e: trellis_core::AddressError| Error::Usage(e.to_string()))?;
            match plan.refreshed.iter().find(|r| r.address == address) {
                Some(live) => {
                    if let Some(r) = state.resources.iter_mut().find(|r| r.address == address) {
                        r.attributes = live.attributes.clone();
                    }
                }
                None => state.resources.retain(|r| r.address != address),
            }
        }
        session.store.write(&session.lock, &mut state)?;
        session.prior = Some(state);
        round.accepted = accept.iter().map(|s| s.to_string()).collect();
    }

    // What to change: the drift to revert, and (when told) the spec's own changes,
    // except on a resource whose drift is only reported or accepted.
    let mut targets: BTreeSet<String> = BTreeSet::new();
    for (address, cause) in &causes {
        let name = address.to_string();
        match (cause, policy_of(&name)) {
            (Cause::Drift, Some(DriftPolicy::Revert)) => {
                targets.insert(name);
            }
            (Cause::Drift, _) => {}
            (Cause::Spec, Some(p)) if p != DriftPolicy::Revert => {
                round.spec_changes_pending.push(name.clone());
                round.reported.push(name);
            }
            (Cause::Spec, _) if opts.apply_spec_changes => {
                targets.insert(name);
            }
            (Cause::Spec, _) => round.spec_changes_pending.push(name),
        }
    }
    let reported: Vec<String> =
        with(DriftPolicy::Report).map(|r| r.address.clone()).filter(|a| !round.reported.contains(a)).collect();
    round.reported.extend(reported);
    if !targets.is_empty() {
        let list: Vec<String> = targets.iter().cloned().collect();
        let planned = session.plan(Operation::Apply, &list, &[], Orphans::Journaled).await?;
        let plan = planned.plan;
        // A target brings what it depends on: nothing beyond the chosen may change.
        let beyond: Vec<String> = plan
            .changes
            .iter()
            .filter(|c| c.action != trellis_plan::Action::NoOp && !targets.contains(&c.address.to_string()))
            .map(|c| c.address.to_string())
            .collect();
        if !beyond.is_empty() {
            return Err(Error::Usage(format!(
                "not reverting: it would also change {} (a spec change this round does not make)",
                beyond.join(", ")
            )));
        }
        check_data_loss(&plan, opts.allow_data_loss)?;
        refuse_preflight(&plan)?;
        let options = ApplyOptions { allow_data_loss: opts.allow_data_loss, ..ApplyOptions::default() };
        let report = crate::execute(
            session.aws.clone(),
            &plan,
            &*session.store,
            &session.lock,
            session.state(),
            options,
            |_| {},
        )
        .await?;
        for f in &report.failures {
            round.errors.push(format!("{} {}: {}", f.op.kind, f.op.address, f.error));
        }
        let failed: BTreeSet<String> = report.failures.iter().map(|f| f.op.address.to_string()).collect();
        for t in targets.iter().filter(|t| !failed.contains(*t)) {
            if causes.get(&t.parse::<Address>().expect("a planned address")) == Some(&Cause::Drift) {
                round.reverted.push(t.clone());
            } else {
                round.spec_changes_applied.push(t.clone());
            }
        }
    }
    Ok(())
}

/// How long to wait before the next round: the interval, doubled for each throttled
/// round in a row (at most 16 times), so that a reconciler eases off an account AWS is
/// already limiting.
pub fn next_wait(every: Duration, throttled_in_a_row: u32) -> Duration {
    every * 2u32.pow(throttled_in_a_row.min(4))
}
