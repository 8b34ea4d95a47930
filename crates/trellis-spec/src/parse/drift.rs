//! What drift (a live object that differs from the state) gets: a resource's `drift:`
//! (`report`, `revert` or `accept`) and the stack's `drift: { default, ignore }`.

use std::collections::BTreeSet;

use marked_yaml::Node;
use trellis_core::Address;

use super::*;
use crate::{DriftPolicy, DriftSettings};

impl Parser<'_> {
    /// A resource's `drift: report|revert|accept`.
    pub(super) fn parse_drift_policy(&mut self, node: &Node, me: &Address) -> Option<DriftPolicy> {
        let text = self.literal_string(node, &format!("{me}.drift"))?;
        match text.parse::<DriftPolicy>() {
            Ok(p) => Some(p),
            Err(e) => {
                let span = Some(self.node_span(node));
                self.error(e, span, suggest(&text, DriftPolicy::WORDS));
                None
            }
        }
    }

    /// The stack's `drift: { default: report, ignore: [ADDR.ATTR, ...] }`.
    pub(super) fn parse_drift_settings(&mut self, node: &Node, addresses: &BTreeSet<Address>) -> DriftSettings {
        let mut out = DriftSettings::default();
        let Some(m) = node.as_mapping() else {
            let span = Some(self.node_span(node));
            self.error(
                "`drift` must be a mapping",
                span,
                Some("e.g. `drift: { default: report, ignore: [instance.web.tags.Owner] }`".into()),
            );
            return out;
        };
        for (key, value) in m.iter() {
            match key.as_str() {
                "default" => {
                    if let Some(p) = self.parse_drift_policy_word(value) {
                        out.default = p;
                    }
                }
                "ignore" => out.ignore = self.parse_drift_ignores(value, addresses),
                other => {
                    let span = Some(self.scalar_span(key));
                    let help =
                        suggest(other, ["default", "ignore"]).or_else(|| Some("it has `default` and `ignore`".into()));
                    self.error(format!("`drift` has no setting `{other}`"), span, help);
                }
            }
        }
        out
    }

    fn parse_drift_policy_word(&mut self, node: &Node) -> Option<DriftPolicy> {
        let text = self.literal_string(node, "drift.default")?;
        match text.parse::<DriftPolicy>() {
            Ok(p) => Some(p),
            Err(e) => {
                let span = Some(self.node_span(node));
                self.error(e, span, suggest(&text, DriftPolicy::WORDS));
                None
            }
        }
    }

    /// `ignore: [ADDR.ATTR]`: differences that are known noise, each an attribute (or a
    /// key of a mapping attribute: `tags.Owner`) of a resource the spec declares.
    fn parse_drift_ignores(&mut self, node: &Node, addresses: &BTreeSet<Address>) -> Vec<String> {
        let Some(items) = node.as_sequence() else {
            let span = Some(self.node_span(node));
            self.error("`drift.ignore` must be a list", span, Some("e.g. `ignore: [instance.web.tags.Owner]`".into()));
            return Vec::new();
        };
        let mut out = Vec::new();
        for item in items.iter() {
            let span = Some(self.node_span(item));
            let Some(text) = item.as_scalar().map(|s| s.as_str().to_string()) else {
                self.error("each `drift.ignore` entry is `kind.name.attribute`", span, None);
                continue;
            };
            match crate::drift_ignore_target(&text) {
                Some((address, attr))
                    if addresses.contains(&address) || addresses.iter().any(|a| a.resource() == address) =>
                {
                    if address.kind.attr(attr.split('.').next().unwrap_or("")).is_none() {
                        let help = suggest(attr.split('.').next().unwrap_or(""), address.kind.attr_names());
                        self.error(format!("`{address}` has no attribute `{attr}`"), span, help);
                    } else {
                        out.push(text);
                    }
                }
                Some((address, _)) => {
                    let help =
                        suggest(&address.to_string(), addresses.iter().map(ToString::to_string).collect::<Vec<_>>());
                    self.error(format!("`{address}` is not declared in this spec"), span, help);
                }
                None => self.error(
                    format!("`{text}` is not `kind.name.attribute`"),
                    span,
                    Some("e.g. `instance.web.tags.Owner`".into()),
                ),
            }
        }
        out
    }
}
