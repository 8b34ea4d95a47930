//! The layers above the schema know no particular kind: no kind's name, and no
//! attribute name that only some kinds have, is written in the source of the planner,
//! the engine or the parser (their tests aside). What a kind needs from them it declares
//! in its schema (`holds_data`, `restart`, `ref_checks`, `file_of`, ...).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use trellis_core::kinds;

/// Attribute names every kind (or the address itself) has.
const UNIVERSAL: [&str; 3] = ["id", "tags", "name"];

/// Words of the spec language itself that some kinds also have as attributes: a
/// variable's and an output's `description`, a variable's `type`, the state backend's
/// `bucket` (`backend: { s3: { bucket: ... } }`).
const LANGUAGE: [&str; 3] = ["description", "type", "bucket"];

/// Keys of Terraform's JSON plan format, which `plan --json` keeps (`change.actions`),
/// that some kinds also have as attributes (a listener rule's `actions`).
const PLAN_FORMAT: [&str; 1] = ["actions"];

/// The words written as string literals (`"like_this"`) outside comments and tests.
fn literals(text: &str) -> Vec<(usize, String)> {
    let code = text.split("#[cfg(test)]").next().unwrap_or("");
    let mut out = vec![];
    for (n, line) in code.lines().enumerate() {
        if line.trim_start().starts_with("//") {
            continue;
        }
        let parts: Vec<&str> = line.split('"').collect();
        for (i, part) in parts.iter().enumerate() {
            if i % 2 == 1 && !part.is_empty() && part.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
                out.push((n + 1, part.to_string()));
            }
        }
    }
    out
}

#[test]
fn the_planner_the_engine_and_the_parser_name_no_kind() {
    let names: BTreeSet<&str> = kinds::ALL.iter().map(|k| k.name).collect();
    let attrs: BTreeSet<&str> = kinds::ALL
        .iter()
        .flat_map(|k| k.attr_names())
        .filter(|a| !UNIVERSAL.contains(a) && !LANGUAGE.contains(a) && !PLAN_FORMAT.contains(a))
        .collect();
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let mut found = vec![];
    let mut files = 0;
    for layer in ["trellis-plan", "trellis-engine", "trellis-spec"] {
        for path in sources(&crates.join(layer).join("src")) {
            files += 1;
            for (line, word) in literals(&std::fs::read_to_string(&path).unwrap()) {
                if names.contains(word.as_str()) || attrs.contains(word.as_str()) {
                    found.push(format!("{}:{line}: \"{word}\"", path.display()));
                }
            }
        }
    }
    assert!(files >= 8, "the sources were found ({files} files)");
    let parse = crates.join("trellis-spec/src/parse/repeat.rs");
    assert!(sources(&crates.join("trellis-spec/src")).contains(&parse), "the check descends into subdirectories");
    assert!(found.is_empty(), "a layer names a kind or a kind's attribute:\n{}", found.join("\n"));
}

/// Every `.rs` file under `dir`, subdirectories included (`parse/`).
fn sources(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = vec![];
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(sources(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out
}

#[test]
fn the_check_sees_a_kind_named_in_code() {
    let text = "fn f() {\n    // \"db_instance\" in a comment is fine\n    let k = \"db_instance\";\n}\n#[cfg(test)]\nmod t { const X: &str = \"subnet\"; }\n";
    assert_eq!(literals(text), [(3, "db_instance".to_string())]);
}

/// The names under `[dependencies]` of a crate's Cargo.toml (dev-dependencies aside).
fn dependencies(krate: &str) -> Vec<String> {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let text = std::fs::read_to_string(crates.join(krate).join("Cargo.toml")).unwrap();
    let mut out = vec![];
    let mut inside = false;
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            inside = line == "[dependencies]";
            continue;
        }
        if inside && !line.is_empty() && !line.starts_with('#') {
            out.push(line.split(['=', '.', ' ']).next().unwrap().to_string());
        }
    }
    out
}

#[test]
fn the_sdk_and_the_async_runtime_stay_where_they_belong() {
    // The SDK only in trellis-aws; the planner's layers pure: no runtime, no AWS crate,
    // not even through trellis-aws or the crates built on it.
    for krate in ["trellis-core", "trellis-spec", "trellis-graph", "trellis-plan", "trellis-state", "trellis-engine"] {
        let deps = dependencies(krate);
        assert!(!deps.is_empty() || krate == "trellis-core", "{krate}'s dependencies were read");
        let aws: Vec<&String> = deps.iter().filter(|d| d.starts_with("aws-")).collect();
        assert!(aws.is_empty(), "{krate} depends on {aws:?}: the AWS SDK belongs in trellis-aws only");
        for above in ["trellis-aws", "trellis-ops", "trellis-cli"] {
            assert!(!deps.iter().any(|d| d == above), "{krate} depends on {above}, a crate above it");
        }
        if krate != "trellis-engine" {
            assert!(!deps.iter().any(|d| d == "tokio"), "{krate} depends on tokio; it must stay pure");
        }
    }
    // The async runtime: the engine, trellis-aws, trellis-ops (which drives both) and the CLI.
    for krate in ["trellis-engine", "trellis-aws", "trellis-ops", "trellis-cli"] {
        assert!(dependencies(krate).iter().any(|d| d == "tokio"), "{krate} is async: the list above is true");
    }
    for krate in ["trellis-ops", "trellis-cli"] {
        let aws: Vec<String> = dependencies(krate).into_iter().filter(|d| d.starts_with("aws-")).collect();
        assert!(aws.is_empty(), "{krate} depends on {aws:?}: it reaches AWS through trellis-aws");
    }
    assert!(dependencies("trellis-aws").iter().any(|d| d == "aws-sdk-ec2"), "the check reads real manifests");
}

/// The top-level modules of `src` that `text` names through `crate::module`.
fn crate_paths(text: &str, modules: &[String]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let code = text.split("#[cfg(test)]").next().unwrap_or(text);
    for line in code.lines().filter(|l| !l.trim_start().starts_with("//")) {
        let mut rest = line;
        while let Some(at) = rest.find("crate::") {
            rest = &rest[at + "crate::".len()..];
            let name: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            // `use crate::{a, b}` names several.
            let names: Vec<String> = if rest.starts_with('{') {
                rest[1..rest.find('}').unwrap_or(rest.len())]
                    .split(',')
                    .map(|n| n.trim().split("::").next().unwrap_or("").to_string())
                    .collect()
            } else {
                vec![name]
            };
            out.extend(names.into_iter().filter(|n| modules.contains(n)));
        }
    }
    out
}

/// The modules of trellis-aws depend on one another without a cycle: `aws.rs` knows no
/// kind, the kinds build on `util/` and `service/`, and `provider.rs` and
/// `discover.rs` on the kinds.
#[test]
fn trellis_aws_modules_form_no_cycle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../trellis-aws/src");
    let module_of = |path: &Path| -> String {
        let rel = path.strip_prefix(&src).unwrap();
        let first = rel.components().next().unwrap().as_os_str().to_string_lossy().to_string();
        first.trim_end_matches(".rs").to_string()
    };
    let files = sources(&src);
    let mut modules: Vec<String> = files.iter().map(|f| module_of(f)).filter(|m| m != "lib").collect();
    modules.sort();
    modules.dedup();
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in &files {
        let from = module_of(file);
        let text = std::fs::read_to_string(file).unwrap();
        let to = crate_paths(&text, &modules);
        edges.entry(from.clone()).or_default().extend(to.into_iter().filter(|t| *t != from));
    }
    assert!(edges.get("kinds").is_some_and(|e| e.contains("util")), "the check reads the uses: {edges:?}");
    // Depth-first search for a path back to where it started.
    fn path_back(edges: &BTreeMap<String, BTreeSet<String>>, start: &str, at: &str, seen: &mut Vec<String>) -> bool {
        for next in edges.get(at).into_iter().flatten() {
            if next == start {
                seen.push(next.clone());
                return true;
            }
            if !seen.contains(next) {
                seen.push(next.clone());
                if path_back(edges, start, next, seen) {
                    return true;
                }
                seen.pop();
            }
        }
        false
    }
    for m in &modules {
        let mut path = vec![m.clone()];
        assert!(!path_back(&edges, m, m, &mut path), "trellis-aws's modules form a cycle: {}", path.join(" -> "));
    }
}

#[test]
fn the_cycle_check_reads_braced_uses() {
    let modules = vec!["errors".to_string(), "limits".to_string(), "kinds".to_string()];
    let text = "use crate::{errors, limits};\nlet x = crate::kinds::ops(k);\n// crate::util in a comment\n";
    let found: Vec<String> = crate_paths(text, &modules).into_iter().collect();
    assert_eq!(found, ["errors", "kinds", "limits"]);
}
