//! `moved:` and `removed:`: how a refactored spec tells the planner that an object the
//! state holds has a new address, or leaves management without being deleted.

use marked_yaml::types::MarkedMappingNode;
use marked_yaml::Node;
use trellis_core::Address;

use super::{node_kind, suggest, Parser};
use crate::diag::Span;
use crate::{Move, Removed};

const MOVED_KEYS: &[&str] = &["from", "to"];
const REMOVED_KEYS: &[&str] = &["from"];

impl Parser<'_> {
    /// `moved: [{from: ADDR, to: ADDR}, ...]`, after the resources are known: `to` must be
    /// declared, `from` no longer, both of one kind, and each `from` moved once.
    pub(super) fn parse_moves(&mut self, top: &MarkedMappingNode) -> Vec<Move> {
        let mut out: Vec<Move> = Vec::new();
        for (entry, span) in self.entries(top, "moved", "e.g. `moved: [{from: subnet.a, to: subnet.public_a}]`") {
            let Some(from) = self.entry_address(&entry, "moved", "from", span) else { continue };
            let Some(to) = self.entry_address(&entry, "moved", "to", span) else { continue };
            let at = self.key_span(&entry, "from", span);
            if from.kind != to.kind {
                self.error(
                    format!("`{from}` cannot move to `{to}`: a move keeps the kind"),
                    Some(self.key_span(&entry, "to", span)),
                    Some(format!("a {} becomes a {} only by replacing it: remove this move", from.kind, to.kind)),
                );
                continue;
            }
            if self.addresses.contains(&from) {
                self.error(
                    format!("`{from}` is still declared: a move's `from` is the old address, whose block is gone"),
                    Some(at),
                    Some(format!("rename the block `{from}` to `{to}`, or remove this move")),
                );
                continue;
            }
            if !self.declares(&to) {
                let help = suggest(&to.to_string(), self.declared_names());
                let help = help.or_else(|| Some(format!("declare `{to}` under `resources:`, or remove this move")));
                self.error(
                    format!("`{from}` moves to `{to}`, which the spec does not declare"),
                    Some(self.key_span(&entry, "to", span)),
                    help,
                );
                continue;
            }
            if let Some(first) = out.iter().find(|m| m.from == from) {
                let line = first.span.line;
                self.error(
                    format!("`{from}` is moved twice (first on line {line})"),
                    Some(at),
                    Some("an object has one new address: keep one of these moves".into()),
                );
                continue;
            }
            if let Some(first) = out.iter().find(|m| m.to == to) {
                let line = first.span.line;
                self.error(
                    format!("`{to}` receives two moves (the first on line {line})"),
                    Some(self.key_span(&entry, "to", span)),
                    Some("one address holds one object: keep one of these moves".into()),
                );
                continue;
            }
            out.push(Move { from, to, span: at });
        }
        out
    }

    /// `removed: [{from: ADDR}, ...]`: addresses (a repeated resource without a key: all
    /// its copies) whose objects stay in the cloud but leave the state. The spec must
    /// not declare them any more.
    pub(super) fn parse_removed(&mut self, top: &MarkedMappingNode) -> Vec<Removed> {
        let mut out: Vec<Removed> = Vec::new();
        for (entry, span) in self.entries(top, "removed", "e.g. `removed: [{from: instance.bastion}]`") {
            let Some(from) = self.entry_address(&entry, "removed", "from", span) else { continue };
            let at = self.key_span(&entry, "from", span);
            if self.declares(&from) {
                self.error(
                    format!("`{from}` is still declared: trellis cannot both manage it and let it go"),
                    Some(at),
                    Some(format!("remove the block `{from}` from `resources:`, or this entry")),
                );
                continue;
            }
            if out.iter().any(|r| r.from == from) {
                self.error(format!("`{from}` is removed twice"), Some(at), Some("keep one of these entries".into()));
                continue;
            }
            out.push(Removed { from, span: at });
        }
        out
    }

    /// The mappings of a top-level list (`moved`, `removed`), with where each stands.
    fn entries(&mut self, top: &MarkedMappingNode, key: &str, example: &str) -> Vec<(MarkedMappingNode, Span)> {
        let Some(node) = top.get_node(key) else { return Vec::new() };
        let Node::Sequence(items) = node else {
            let span = Some(self.node_span(node));
            self.error(format!("`{key}` must be a list, found {}", node_kind(node)), span, Some(example.into()));
            return Vec::new();
        };
        let mut out = Vec::new();
        for item in items.iter() {
            let span = self.node_span(item);
            match item {
                Node::Mapping(m) => out.push((m.clone(), span)),
                other => self.error(
                    format!("each entry of `{key}` is a mapping, found {}", node_kind(other)),
                    Some(span),
                    Some(example.into()),
                ),
            }
        }
        out
    }

    /// The address under `field` of an entry of `list`, with unknown keys of the entry
    /// reported once (on its `from`).
    fn entry_address(&mut self, entry: &MarkedMappingNode, list: &str, field: &str, span: Span) -> Option<Address> {
        let keys = if list == "moved" { MOVED_KEYS } else { REMOVED_KEYS };
        if field == "from" {
            for k in entry.keys() {
                if !keys.contains(&k.as_str()) {
                    let help = suggest(k.as_str(), keys)
                        .or_else(|| Some(format!("an entry of `{list}` has {}", keys.join(" and "))));
                    let at = Some(self.scalar_span(k));
                    self.error(format!("unknown key `{}` in `{list}`", k.as_str()), at, help);
                }
            }
        }
        let Some(node) = entry.get_node(field) else {
            self.error(format!("this entry of `{list}` has no `{field}`"), Some(span), None);
            return None;
        };
        let Some(text) = node.as_scalar().map(|s| s.as_str().to_string()) else {
            let at = Some(self.node_span(node));
            self.error(format!("`{field}` is an address like `subnet.a`, found {}", node_kind(node)), at, None);
            return None;
        };
        match text.parse::<Address>() {
            Ok(a) => Some(a),
            Err(e) => {
                let at = Some(self.node_span(node));
                self.error(e.to_string(), at, Some("addresses are `kind.name`, or `kind.name[KEY]` for a copy".into()));
                None
            }
        }
    }

    /// Where the value of `field` stands in an entry, or the entry itself.
    fn key_span(&self, entry: &MarkedMappingNode, field: &str, or: Span) -> Span {
        entry.get_node(field).map(|n| self.node_span(n)).unwrap_or(or)
    }

    /// True when the spec declares `a`: a resource, a copy, or a repeated resource whole.
    fn declares(&self, a: &Address) -> bool {
        self.addresses.contains(a) || self.repeats.contains_key(a) || self.broken.contains(a)
    }

    fn declared_names(&self) -> Vec<String> {
        self.addresses.iter().chain(self.repeats.keys()).map(ToString::to_string).collect()
    }
}
