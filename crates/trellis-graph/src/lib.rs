//! The dependency graph between resource addresses.
//!
//! An edge `a -> b` means "a depends on b": b must exist before a is created, and a
//! must be gone before b is deleted. Built by the spec validator (to find cycles) and
//! by the planner (to order changes); the engine builds its own operation graph from
//! the plan, not from this one.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use petgraph::algo::{tarjan_scc, toposort};
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;
use petgraph::Direction;
use trellis_core::Address;

#[derive(Debug, Default)]
pub struct DepGraph {
    graph: DiGraph<Address, ()>,
    index: BTreeMap<Address, NodeIndex>,
    /// What the resources read from outside the stack (`lookup.vpc.default`,
    /// `stack.network`) and who reads it: drawn, never ordered.
    reads: BTreeSet<(String, Address)>,
}

impl DepGraph {
    /// Builds the graph from each address and the addresses it depends on. Edges to
    /// addresses that are not nodes themselves are ignored (they are validated elsewhere).
    pub fn new<'a>(nodes: impl IntoIterator<Item = (&'a Address, &'a BTreeSet<Address>)>) -> Self {
        let nodes: Vec<_> = nodes.into_iter().collect();
        let mut g = DepGraph::default();
        for (addr, _) in &nodes {
            let ix = g.graph.add_node((*addr).clone());
            g.index.insert((*addr).clone(), ix);
        }
        for (addr, deps) in &nodes {
            let from = g.index[*addr];
            for dep in *deps {
                if let Some(&to) = g.index.get(dep) {
                    g.graph.update_edge(from, to, ());
                }
            }
        }
        g
    }

    /// Addresses in creation order: every address after everything it depends on. Ties
    /// are broken by address, so the order is the same on every run.
    pub fn creation_order(&self) -> Result<Vec<Address>, Vec<Address>> {
        if let Some(cycle) = self.find_cycle() {
            return Err(cycle);
        }
        // Kahn's algorithm over dependencies, smallest address first.
        let mut remaining: BTreeMap<NodeIndex, usize> =
            self.graph.node_indices().map(|n| (n, self.graph.edges_directed(n, Direction::Outgoing).count())).collect();
        let mut ready: BTreeSet<(Address, NodeIndex)> =
            remaining.iter().filter(|(_, c)| **c == 0).map(|(n, _)| (self.graph[*n].clone(), *n)).collect();
        let mut order = Vec::with_capacity(self.graph.node_count());
        while let Some(first) = ready.pop_first() {
            let (addr, n) = first;
            order.push(addr);
            for e in self.graph.edges_directed(n, Direction::Incoming) {
                let dependent = e.source();
                let c = remaining.get_mut(&dependent).expect("node in graph");
                *c -= 1;
                if *c == 0 {
                    ready.insert((self.graph[dependent].clone(), dependent));
                }
            }
        }
        debug_assert!(toposort(&self.graph, None).is_ok());
        Ok(order)
    }

    /// Addresses in deletion order: the reverse of creation order.
    pub fn deletion_order(&self) -> Result<Vec<Address>, Vec<Address>> {
        let mut order = self.creation_order()?;
        order.reverse();
        Ok(order)
    }

    /// One dependency cycle as a closed path `a, b, ..., a`, if the graph has any.
    pub fn find_cycle(&self) -> Option<Vec<Address>> {
        let mut sccs = tarjan_scc(&self.graph);
        sccs.sort_by_key(|scc| scc.iter().map(|n| self.graph[*n].clone()).min());
        for scc in sccs {
            let self_loop = scc.len() == 1 && self.graph.contains_edge(scc[0], scc[0]);
            if scc.len() < 2 && !self_loop {
                continue;
            }
            let members: BTreeSet<NodeIndex> = scc.iter().copied().collect();
            let start = *scc.iter().min_by_key(|n| &self.graph[**n]).expect("non-empty scc");
            // Walk inside the component until we come back to the start.
            let mut path = vec![start];
            let mut seen = BTreeSet::from([start]);
            let mut current = start;
            loop {
                let mut next: Vec<NodeIndex> = self
                    .graph
                    .neighbors_directed(current, Direction::Outgoing)
                    .filter(|n| members.contains(n))
                    .collect();
                next.sort_by_key(|n| self.graph[*n].clone());
                if next.contains(&start) {
                    path.push(start);
                    return Some(path.into_iter().map(|n| self.graph[n].clone()).collect());
                }
                let step = next.iter().copied().find(|n| !seen.contains(n)).or_else(|| next.first().copied())?;
                if !seen.insert(step) {
                    // Entered a loop not through start: report that loop instead.
                    let at = path.iter().position(|n| *n == step).expect("seen node is on the path");
                    let mut cyc: Vec<_> = path[at..].to_vec();
                    cyc.push(step);
                    return Some(cyc.into_iter().map(|n| self.graph[n].clone()).collect());
                }
                path.push(step);
                current = step;
            }
        }
        None
    }

    /// Everything `addr` depends on, directly or not.
    pub fn dependencies_of(&self, addr: &Address) -> BTreeSet<Address> {
        let mut out = BTreeSet::new();
        let Some(&start) = self.index.get(addr) else {
            return out;
        };
        let mut stack = vec![start];
        while let Some(n) = stack.pop() {
            for m in self.graph.neighbors_directed(n, Direction::Outgoing) {
                if out.insert(self.graph[m].clone()) {
                    stack.push(m);
                }
            }
        }
        out
    }

    /// Adds what `reader` reads from outside the stack (`lookup.KIND.NAME`,
    /// `stack.NAME`), shown in the drawings as dashed nodes and arrows.
    pub fn with_reads<'a>(mut self, reads: impl IntoIterator<Item = (&'a Address, &'a BTreeSet<String>)>) -> Self {
        for (reader, names) in reads {
            self.reads.extend(names.iter().map(|n| (n.clone(), reader.clone())));
        }
        self
    }

    /// The graph in Graphviz DOT, arrows pointing from a dependency to what needs it
    /// (the order things are created in). `style` may add attributes to a node.
    pub fn to_dot(&self, title: &str, style: impl Fn(&Address) -> Option<String>) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "digraph {:?} {{", title);
        let _ = writeln!(out, "  rankdir=LR;");
        let _ = writeln!(out, "  node [shape=box, fontname=\"Helvetica\"];");
        for addr in self.index.keys() {
            match style(addr) {
                Some(extra) => {
                    let _ = writeln!(out, "  {} [{extra}];", dot_id(addr));
                }
                None => {
                    let _ = writeln!(out, "  {};", dot_id(addr));
                }
            }
        }
        let mut edges: Vec<(&Address, &Address)> =
            self.graph.edge_references().map(|e| (&self.graph[e.target()], &self.graph[e.source()])).collect();
        edges.sort();
        for (dep, dependent) in edges {
            let _ = writeln!(out, "  {} -> {};", dot_id(dep), dot_id(dependent));
        }
        let sources: BTreeSet<&String> = self.reads.iter().map(|(n, _)| n).collect();
        for n in sources {
            let _ = writeln!(out, "  \"{n}\" [shape=ellipse, style=dashed];");
        }
        for (n, reader) in &self.reads {
            let _ = writeln!(out, "  \"{n}\" -> {} [style=dashed];", dot_id(reader));
        }
        out.push_str("}\n");
        out
    }
}

/// A node's DOT id: the address in quotes, a copy's `"key"` escaped.
fn dot_id(a: &Address) -> String {
    format!("\"{}\"", a.to_string().replace('"', "\\\""))
}

impl DepGraph {
    /// The graph as a Mermaid flowchart, dependencies on the left. `class` may put a
    /// node in one of the classes `create`, `update`, `replace`, `delete`, `noop`.
    pub fn to_mermaid(&self, class: impl Fn(&Address) -> Option<&'static str>) -> String {
        // A copy's key joins its node id after `__`, which no resource name ends in.
        // A component's resources start with its label and `___`.
        let id = |a: &Address| {
            let scope = match &a.component {
                None => String::new(),
                Some(_) => format!("{}___", a.resource().in_component(a.component.clone()).label().replace('-', "_")),
            };
            match &a.key {
                None => format!("{scope}{}_{}", a.kind, a.name),
                Some(k) => format!("{scope}{}_{}__{}", a.kind, a.name, k.to_string().replace('-', "_")),
            }
        };
        let mut out = String::from("flowchart LR\n");
        for addr in self.index.keys() {
            let _ = writeln!(out, "  {}[\"{}\"]", id(addr), addr.to_string().replace('"', "#quot;"));
        }
        let mut edges: Vec<(&Address, &Address)> =
            self.graph.edge_references().map(|e| (&self.graph[e.target()], &self.graph[e.source()])).collect();
        edges.sort();
        for (dep, dependent) in edges {
            let _ = writeln!(out, "  {} --> {}", id(dep), id(dependent));
        }
        let read_id = |n: &str| format!("read_{}", n.replace(['.', '-'], "_"));
        let sources: BTreeSet<&String> = self.reads.iter().map(|(n, _)| n).collect();
        for n in sources {
            let _ = writeln!(out, "  {}([\"{n}\"])", read_id(n));
        }
        for (n, reader) in &self.reads {
            let _ = writeln!(out, "  {} -.-> {}", read_id(n), id(reader));
        }
        let classes: Vec<(&Address, &'static str)> =
            self.index.keys().filter_map(|a| class(a).map(|c| (a, c))).collect();
        if !classes.is_empty() {
            out.push_str("  classDef create fill:#d7f5d7,stroke:#2b8a3e\n");
            out.push_str("  classDef update fill:#fff3bf,stroke:#e67700\n");
            out.push_str("  classDef replace fill:#ffd8a8,stroke:#d9480f\n");
            out.push_str("  classDef delete fill:#ffc9c9,stroke:#c92a2a\n");
            out.push_str("  classDef noop fill:#f1f3f5,stroke:#868e96\n");
            for (a, c) in classes {
                let _ = writeln!(out, "  class {} {c}", id(a));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(s: &str) -> Address {
        s.parse().unwrap()
    }

    fn graph(edges: &[(&str, &[&str])]) -> DepGraph {
        let nodes: Vec<(Address, BTreeSet<Address>)> =
            edges.iter().map(|(n, deps)| (a(n), deps.iter().map(|d| a(d)).collect())).collect();
        DepGraph::new(nodes.iter().map(|(n, d)| (n, d)))
    }

    #[test]
    fn orders_dependencies_first_and_reverses_for_deletion() {
        let g = graph(&[("subnet.a", &["vpc.main"]), ("vpc.main", &[]), ("route_table.rt", &["vpc.main", "subnet.a"])]);
        let order: Vec<String> = g.creation_order().unwrap().iter().map(ToString::to_string).collect();
        assert_eq!(order, ["vpc.main", "subnet.a", "route_table.rt"]);
        let rev: Vec<String> = g.deletion_order().unwrap().iter().map(ToString::to_string).collect();
        assert_eq!(rev, ["route_table.rt", "subnet.a", "vpc.main"]);
    }

    #[test]
    fn reports_the_whole_cycle_path() {
        let g = graph(&[
            ("security_group.a", &["security_group.b"]),
            ("security_group.b", &["security_group.c"]),
            ("security_group.c", &["security_group.a"]),
            ("vpc.main", &[]),
        ]);
        let cycle: Vec<String> = g.find_cycle().unwrap().iter().map(ToString::to_string).collect();
        assert_eq!(cycle, ["security_group.a", "security_group.b", "security_group.c", "security_group.a"]);
        assert!(g.creation_order().is_err());
    }

    #[test]
    fn self_reference_is_a_cycle() {
        let g = graph(&[("security_group.a", &["security_group.a"])]);
        assert_eq!(g.find_cycle().unwrap().len(), 2);
    }

    #[test]
    fn mermaid_lists_nodes_edges_and_classes() {
        let g = graph(&[("subnet.a", &["vpc.main"]), ("vpc.main", &[])]);
        let m = g.to_mermaid(|a| (a.kind == "subnet").then_some("create"));
        assert!(m.starts_with("flowchart LR\n"), "{m}");
        assert!(m.contains("  vpc_main --> subnet_a\n"), "{m}");
        assert!(m.contains("  class subnet_a create\n"), "{m}");
    }

    #[test]
    fn dot_lists_nodes_and_edges() {
        let g = graph(&[("subnet.a", &["vpc.main"]), ("vpc.main", &[])]);
        let dot = g.to_dot("net", |_| None);
        assert!(dot.contains("\"vpc.main\" -> \"subnet.a\";"), "{dot}");
    }

    #[test]
    fn reads_from_outside_the_stack_are_dashed_nodes() {
        let reads: BTreeSet<String> = ["lookup.vpc.default".to_string(), "stack.shared-db".to_string()].into();
        let sg = a("security_group.web");
        let g = graph(&[("security_group.web", &[])]).with_reads([(&sg, &reads)]);
        let dot = g.to_dot("web", |_| None);
        assert!(dot.contains("  \"stack.shared-db\" [shape=ellipse, style=dashed];"), "{dot}");
        assert!(dot.contains("  \"lookup.vpc.default\" -> \"security_group.web\" [style=dashed];"), "{dot}");
        let m = g.to_mermaid(|_| None);
        assert!(m.contains("  read_stack_shared_db([\"stack.shared-db\"])\n"), "{m}");
        assert!(m.contains("  read_lookup_vpc_default -.-> security_group_web\n"), "{m}");
        assert!(g.creation_order().is_ok());
    }

    #[test]
    fn copies_are_their_own_nodes_with_keys_escaped() {
        let g =
            graph(&[("subnet.az[\"us-east-1a\"]", &["vpc.main"]), ("subnet.az[0]", &["vpc.main"]), ("vpc.main", &[])]);
        let dot = g.to_dot("net", |_| None);
        assert!(dot.contains("\"vpc.main\" -> \"subnet.az[\\\"us-east-1a\\\"]\";"), "{dot}");
        assert!(dot.contains("\"vpc.main\" -> \"subnet.az[0]\";"), "{dot}");
        let m = g.to_mermaid(|_| None);
        assert!(m.contains("  subnet_az__us_east_1a[\"subnet.az[#quot;us-east-1a#quot;]\"]\n"), "{m}");
        assert!(m.contains("  vpc_main --> subnet_az__0\n"), "{m}");
    }
}
