//! Variable values kept in files: `--var-file FILE` and every `*.auto.yaml` beside the
//! spec. Each is a YAML mapping of variable names to values (a single value or a list).
//! They are read into text, as `--var` gives it, before the spec is loaded, so that a
//! saved plan records every value it was made with.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use marked_yaml::Node;

use crate::diag::{Diagnostic, Diagnostics, LineIndex, SourceFile};
use crate::parse::flow_text;
use crate::LoadError;

/// The `*.auto.yaml` files in the spec's directory, by name.
pub fn auto_var_files(spec: &Path) -> Vec<PathBuf> {
    let dir = match spec.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let Ok(entries) = std::fs::read_dir(&dir) else { return Vec::new() };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.ends_with(".auto.yaml")))
        .collect();
    files.sort();
    files
}

/// Every variable value for the spec at `spec`: its `*.auto.yaml` files by name, then
/// `files` in order, then `given` (`--var`); a later value of a name wins.
pub fn var_values(
    spec: &Path,
    files: &[PathBuf],
    given: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>, LoadError> {
    let mut out = BTreeMap::new();
    for file in auto_var_files(spec).iter().chain(files) {
        out.extend(read_var_file(file)?);
    }
    out.extend(given.iter().map(|(k, v)| (k.clone(), v.clone())));
    Ok(out)
}

/// One var file's values, as text.
pub fn read_var_file(path: &Path) -> Result<BTreeMap<String, String>, LoadError> {
    let text =
        std::fs::read_to_string(path).map_err(|source| LoadError::Read { path: path.display().to_string(), source })?;
    let file = SourceFile { name: path.display().to_string(), text };
    let lines = LineIndex::new(&file.text);
    let at = |node: &Node| node.span().start().map(|m| lines.span_at(&file.text, m.character(), 1));
    let mut problems = Vec::new();
    let mut out = BTreeMap::new();
    let options = marked_yaml::loader::LoaderOptions::default().error_on_duplicate_keys(true);
    match marked_yaml::parse_yaml_with_options(0, &file.text, options) {
        Err(e) => problems.push(Diagnostic::new(format!("not a var file: {e}"), None)),
        Ok(Node::Mapping(m)) => {
            for (name, value) in m.iter() {
                match value {
                    Node::Scalar(s) => {
                        out.insert(name.as_str().to_string(), s.as_str().to_string());
                    }
                    Node::Sequence(items) => {
                        let texts: Option<Vec<String>> =
                            items.iter().map(|i| i.as_scalar().map(|s| s.as_str().to_string())).collect();
                        match texts {
                            Some(t) => {
                                out.insert(name.as_str().to_string(), flow_text(&t));
                            }
                            None => problems.push(
                                Diagnostic::new(
                                    format!("`{}`: a list variable holds single values", name.as_str()),
                                    at(value),
                                )
                                .help("write `name: [a, b]`"),
                            ),
                        }
                    }
                    Node::Mapping(_) => problems.push(
                        Diagnostic::new(
                            format!("`{}`: a variable is a single value or a list", name.as_str()),
                            at(value),
                        )
                        .help("a var file gives values; types and defaults are declared under the spec's `vars:`"),
                    ),
                }
            }
        }
        Ok(other) => problems.push(
            Diagnostic::new("a var file is a mapping of variable names to values", at(&other))
                .help("write `name: value`, one a line"),
        ),
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(LoadError::Invalid(Diagnostics::new(file, problems)))
    }
}
