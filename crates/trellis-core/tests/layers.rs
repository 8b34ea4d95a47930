//! The layers above the schema know no particular kind: no kind's name, and no
//! attribute name that only some kinds have, is written in the source of the planner,
//! the engine or the parser (their tests aside). What a kind needs from them it declares
//! in its schema (`holds_data`, `restart`, `ref_checks`, `file_of`, ...).

use std::collections::BTreeSet;
use std::path::Path;

use trellis_core::kinds;

/// Attribute names every kind (or the address itself) has.
const UNIVERSAL: [&str; 3] = ["id", "tags", "name"];

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
    let attrs: BTreeSet<&str> =
        kinds::ALL.iter().flat_map(|k| k.attr_names()).filter(|a| !UNIVERSAL.contains(a)).collect();
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
