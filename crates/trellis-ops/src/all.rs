//! `plan --all DIR` and `apply --all DIR`: the stacks of a directory, in the order their
//! `${stack.NAME.output.KEY}` references give, as levels whose stacks need only earlier
//! levels (so each level's stacks may run at once), and what a failed stack stops.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::{Error, Result};

/// One stack of the directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackSpec {
    pub path: PathBuf,
    pub name: String,
    /// The stacks of the same directory whose outputs it reads.
    pub needs: BTreeSet<String>,
}

/// Whether a YAML file is a stack's spec (not a var file, a component or a lock).
fn is_stack_spec(path: &Path) -> bool {
    let name = path.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
    if !(name.ends_with(".yaml") || name.ends_with(".yml")) || name.ends_with(".auto.yaml") {
        return false;
    }
    std::fs::read_to_string(path).is_ok_and(|t| t.lines().any(|l| l.starts_with("stack:")))
}

/// Every stack spec in `dir` (not its subdirectories), each read as `validate` reads it
/// (other stacks' outputs unknown), with the stacks of `dir` it reads.
pub fn stacks(dir: &Path) -> Result<Vec<StackSpec>> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| Error::Usage(format!("cannot read the directory {}: {e}", dir.display())))?;
    let mut paths: Vec<PathBuf> =
        entries.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| is_stack_spec(p)).collect();
    paths.sort();
    if paths.is_empty() {
        return Err(Error::Usage(format!(
            "{} holds no stack spec (a YAML file with `stack:` at its top)",
            dir.display()
        )));
    }
    let mut out: Vec<StackSpec> = Vec::new();
    for path in paths {
        let vars = trellis_spec::var_values(&path, &[], &BTreeMap::new()).map_err(Error::from_load)?;
        let spec = crate::load_spec(&path, &vars)?;
        if let Some(other) = out.iter().find(|s| s.name == spec.stack) {
            return Err(Error::Usage(format!(
                "{} and {} are both stack `{}`: each stack of a directory has its own name",
                other.path.display(),
                path.display(),
                spec.stack
            )));
        }
        out.push(StackSpec { path, name: spec.stack.clone(), needs: spec.stacks.keys().cloned().collect() });
    }
    let names: BTreeSet<String> = out.iter().map(|s| s.name.clone()).collect();
    for s in &mut out {
        // A stack kept elsewhere is read from its state as it is; only this directory's
        // stacks are ordered.
        s.needs.retain(|n| names.contains(n));
    }
    Ok(out)
}

/// The stacks in levels: each needs only stacks of earlier levels. A cycle is an error
/// naming it.
pub fn levels(stacks: &[StackSpec]) -> Result<Vec<Vec<StackSpec>>> {
    let mut done: BTreeSet<String> = BTreeSet::new();
    let mut left: Vec<&StackSpec> = stacks.iter().collect();
    let mut out = Vec::new();
    while !left.is_empty() {
        let (ready, rest): (Vec<&StackSpec>, Vec<&StackSpec>) =
            left.into_iter().partition(|s| s.needs.iter().all(|n| done.contains(n)));
        if ready.is_empty() {
            let names: Vec<String> = rest.iter().map(|s| format!("`{}`", s.name)).collect();
            return Err(Error::Usage(format!(
                "stacks {} read each other's outputs: none can go first",
                names.join(", ")
            )));
        }
        done.extend(ready.iter().map(|s| s.name.clone()));
        out.push(ready.into_iter().cloned().collect());
        left = rest;
    }
    Ok(out)
}

/// The stacks a failed one stops: those that read it, and those that read them.
pub fn stopped_by(stacks: &[StackSpec], failed: &BTreeSet<String>) -> BTreeSet<String> {
    let mut out: BTreeSet<String> = BTreeSet::new();
    loop {
        let more: Vec<String> = stacks
            .iter()
            .filter(|s| !out.contains(&s.name) && s.needs.iter().any(|n| failed.contains(n) || out.contains(n)))
            .map(|s| s.name.clone())
            .collect();
        if more.is_empty() {
            return out;
        }
        out.extend(more);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(name: &str, needs: &[&str]) -> StackSpec {
        StackSpec {
            path: PathBuf::from(format!("{name}.yaml")),
            name: name.into(),
            needs: needs.iter().map(|n| n.to_string()).collect(),
        }
    }

    #[test]
    fn levels_follow_what_each_stack_reads() {
        let all = [s("app", &["network", "db"]), s("db", &["network"]), s("network", &[]), s("tools", &[])];
        let names: Vec<Vec<String>> =
            levels(&all).unwrap().iter().map(|l| l.iter().map(|s| s.name.clone()).collect()).collect();
        assert_eq!(names, vec![vec!["network", "tools"], vec!["db"], vec!["app"]]);
        let stopped = stopped_by(&all, &["network".to_string()].into());
        assert_eq!(stopped, ["app", "db"].map(String::from).into());
        let cycle = [s("a", &["b"]), s("b", &["a"])];
        assert!(levels(&cycle).unwrap_err().to_string().contains("read each other's outputs"));
    }
}
