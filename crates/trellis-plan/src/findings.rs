//! The risky settings of a plan: every object the plan leaves in place or makes is
//! checked against its kind's rules (`Kind::rules`), with the resolved graph (what its
//! references name, what names it) at hand. A resource's `waive:` accepts a rule's
//! findings on it with a reason, which the plan prints. The planner names no kind here.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use trellis_core::schema::{Severity, Subject};
use trellis_core::{Address, Attrs};

use crate::model::{Action, ResourceChange};

/// One place the plan breaks a rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub address: Address,
    /// trellis's rule id (what `waive:` names).
    pub rule: String,
    /// The checkov policy that checks the same, where one exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkov: Option<String>,
    pub severity: Severity,
    pub title: String,
    /// Where, in the object's own words (`tcp 22 from 0.0.0.0/0`).
    pub detail: String,
    pub why: String,
    pub fix: String,
    /// The reason given in the resource's `waive:`, when it accepts this finding.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waived: Option<String>,
}

impl Finding {
    /// `HIGH security_group.db: SSH is open to the internet (tcp 22 from 0.0.0.0/0)`.
    pub fn headline(&self) -> String {
        format!("{} {}: {} ({})", self.severity.word().to_uppercase(), self.address, self.title, self.detail)
    }

    /// `sg-ssh-open, checkov CKV_AWS_24`.
    pub fn ids(&self) -> String {
        match &self.checkov {
            Some(c) => format!("{}, checkov {c}", self.rule),
            None => self.rule.clone(),
        }
    }
}

/// The findings of the objects `changes` leave in place or make, with `waivers` (by
/// address: rule id to reason) applied; strongest first, then by address.
pub fn check(changes: &[ResourceChange], waivers: &dyn Fn(&Address) -> BTreeMap<String, String>) -> Vec<Finding> {
    let live: Vec<&ResourceChange> =
        changes.iter().filter(|c| !matches!(c.action, Action::Delete | Action::Forget) && c.after.is_some()).collect();
    let by_address: BTreeMap<&Address, &ResourceChange> = live.iter().map(|c| (&c.address, *c)).collect();
    // What each object's attributes refer to, by attribute: the spec's references.
    let refers = |c: &ResourceChange, attr: Option<&str>| -> Vec<Address> {
        let Some(config) = &c.config else { return vec![] };
        config
            .iter()
            .filter(|(name, _)| attr.is_none_or(|a| a == name.as_str()))
            .flat_map(|(_, e)| e.refs())
            .map(|r| r.address.clone())
            .collect()
    };
    // Who refers to whom, once: a rule asking for its object's referrers costs the
    // referrers, not the plan.
    let mut referred_by: BTreeMap<&Address, Vec<&ResourceChange>> = BTreeMap::new();
    for o in &live {
        for target in refers(o, None) {
            if let Some((address, _)) = by_address.get_key_value(&target) {
                referred_by.entry(*address).or_default().push(*o);
            }
        }
    }
    let mut out = Vec::new();
    for c in &live {
        let rules = c.address.kind.rules;
        if rules.is_empty() {
            continue;
        }
        let attrs = c.after.as_ref().expect("filtered on after");
        let refs = |name: &str| -> Vec<&Attrs> {
            refers(c, Some(name)).iter().filter_map(|a| by_address.get(a)).filter_map(|o| o.after.as_ref()).collect()
        };
        let referrers = |kind: &str| -> Vec<(&Address, &Attrs)> {
            let by = referred_by.get(&c.address).map(Vec::as_slice).unwrap_or_default();
            let mut found: Vec<(&Address, &Attrs)> = by
                .iter()
                .filter(|o| o.address.kind.name == kind)
                .filter_map(|o| Some((&o.address, o.after.as_ref()?)))
                .collect();
            found.dedup_by(|a, b| a.0 == b.0);
            found
        };
        let subject = Subject { attrs, refs: &refs, referrers: &referrers };
        let waived = waivers(&c.address);
        for rule in rules {
            for detail in (rule.check)(&subject) {
                out.push(Finding {
                    address: c.address.clone(),
                    rule: rule.id.to_string(),
                    checkov: rule.checkov.map(str::to_string),
                    severity: rule.severity,
                    title: rule.title.to_string(),
                    detail,
                    why: rule.why.to_string(),
                    fix: rule.fix.to_string(),
                    waived: waived.get(rule.id).cloned(),
                });
            }
        }
    }
    out.sort_by(|a, b| b.severity.cmp(&a.severity).then_with(|| a.address.cmp(&b.address)));
    out
}

/// The findings not waived at or above `threshold`: what makes `--fail-on` refuse.
pub fn failing(findings: &[Finding], threshold: Severity) -> Vec<&Finding> {
    findings.iter().filter(|f| f.waived.is_none() && f.severity >= threshold).collect()
}
