//! Components from git: `source: git::URL//DIR?ref=REF`, fetched once into a cache
//! (a checkout per commit), recorded in `trellis.lock` beside the spec (the commit each
//! source's ref named and the SHA-256 of the component's files), and checked on every
//! run: a ref that names another commit than the lock's, or files that differ from the
//! lock's digest, are refused until `trellis get` takes them. Offline, the lock's commit
//! is used from the cache. Git itself does the fetching (`git ls-remote`, `git clone`),
//! as Terraform's and Cargo's git sources do, with whatever credentials it is set up
//! with.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

/// The lock file's name, beside the spec.
pub const LOCK_FILE: &str = "trellis.lock";

/// `git::URL//DIR?ref=REF`, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitSource {
    pub url: String,
    /// The component's directory inside the repository (empty for its root).
    pub dir: String,
    /// A tag, a branch or a full commit id.
    pub reference: String,
}

impl GitSource {
    pub fn parse(source: &str) -> Result<GitSource, String> {
        let rest = source.strip_prefix("git::").ok_or("a git source starts with `git::`")?;
        let (rest, reference) =
            rest.rsplit_once("?ref=").ok_or("pin the source to a tag or a commit: `git::URL//DIR?ref=v1.2.0`")?;
        if reference.is_empty() {
            return Err("`?ref=` is empty: give a tag or a commit".into());
        }
        // `//` after the scheme's own `://` separates the repository from the directory.
        let after_scheme = rest.find("://").map(|i| i + 3).unwrap_or(0);
        let (url, dir) = match rest[after_scheme..].find("//") {
            Some(i) => (&rest[..after_scheme + i], &rest[after_scheme + i + 2..]),
            None => (rest, ""),
        };
        if url.is_empty() {
            return Err("the repository's URL is empty".into());
        }
        if dir.split('/').any(|p| p == "..") {
            return Err("the directory is inside the repository: no `..`".into());
        }
        Ok(GitSource { url: url.to_string(), dir: dir.trim_matches('/').to_string(), reference: reference.to_string() })
    }
}

/// What the lock file holds for one source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Locked {
    pub commit: String,
    pub sha256: String,
}

/// The lock file, read once per run and written back when a source was added or taken
/// anew.
#[derive(Debug, Default)]
pub struct Sources {
    path: PathBuf,
    cache: PathBuf,
    locked: BTreeMap<String, Locked>,
    changed: bool,
    /// `trellis get`: every ref resolved again and its commit taken.
    pub update: bool,
    /// The lock file could not be read: what was wrong.
    pub broken: Option<String>,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn git(args: &[&str], dir: Option<&Path>) -> Result<String, String> {
    let mut cmd = Command::new("git");
    cmd.args(args).env("GIT_TERMINAL_PROMPT", "0");
    if let Some(d) = dir {
        cmd.current_dir(d);
    }
    let out = cmd.output().map_err(|e| format!("cannot run git: {e} (trellis uses git to fetch git sources)"))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(err.lines().find(|l| !l.trim().is_empty()).unwrap_or("git failed").trim().to_string());
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The SHA-256 of a directory's files: each relative path and its content, in order
/// (`.git` left out).
pub fn dir_digest(dir: &Path) -> Result<String, String> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, PathBuf)>) -> std::io::Result<()> {
        for entry in std::fs::read_dir(dir)? {
            let entry = entry?;
            let path = entry.path();
            if entry.file_name() == ".git" {
                continue;
            }
            if entry.file_type()?.is_dir() {
                walk(root, &path, out)?;
            } else {
                let rel = path.strip_prefix(root).unwrap_or(&path).to_string_lossy().replace('\\', "/");
                out.push((rel, path));
            }
        }
        Ok(())
    }
    let mut files = Vec::new();
    walk(dir, dir, &mut files).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    files.sort();
    let mut h = Sha256::new();
    for (rel, path) in files {
        let body = std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        h.update(rel.as_bytes());
        h.update([0u8]);
        h.update(Sha256::digest(&body));
    }
    Ok(hex(&h.finalize()))
}

impl Sources {
    /// The lock file beside `spec`, and the cache under `cache` (`TRELLIS_CACHE_DIR`,
    /// else the user's cache directory).
    pub fn open(spec: &Path, cache: PathBuf) -> Sources {
        let path = spec.parent().unwrap_or(Path::new("")).join(LOCK_FILE);
        let mut out = Sources { path, cache, ..Sources::default() };
        if let Ok(text) = std::fs::read_to_string(&out.path) {
            match read_lock(&text) {
                Ok(locked) => out.locked = locked,
                Err(e) => out.broken = Some(format!("{} is not a trellis lock file: {e}", out.path.display())),
            }
        }
        out
    }

    /// Where the component of `source` is, fetched when it is not yet, held to the lock.
    pub fn resolve(&mut self, source: &str, git_source: &GitSource) -> Result<PathBuf, (String, String)> {
        let locked = self.locked.get(source).cloned();
        let commit = self.commit(git_source, locked.as_ref())?;
        let checkout =
            self.checkout(git_source, &commit).map_err(|e| (e, "check the URL and that git can reach it".into()))?;
        let dir = if git_source.dir.is_empty() { checkout } else { checkout.join(&git_source.dir) };
        if !dir.is_dir() {
            return Err((
                format!("commit {} of {} has no directory `{}`", short(&commit), git_source.url, git_source.dir),
                "the part after `//` is the component's directory inside the repository".into(),
            ));
        }
        let sha256 = dir_digest(&dir).map_err(|e| (e, String::new()))?;
        match locked {
            Some(l) if !self.update && l.sha256 != sha256 => {
                return Err((
                    format!(
                        "the files of `{source}` differ from what {LOCK_FILE} recorded (sha256 {} now, {} locked)",
                        short(&sha256),
                        short(&l.sha256)
                    ),
                    "if the change is meant, run `trellis get` to take it; the cached copy may also have been edited"
                        .into(),
                ))
            }
            Some(l) if l.commit == commit && l.sha256 == sha256 => {}
            _ => {
                self.locked.insert(source.to_string(), Locked { commit, sha256 });
                self.changed = true;
            }
        }
        Ok(dir)
    }

    /// The commit the source's ref names, held to the lock's unless updating. Offline, the
    /// lock's.
    fn commit(&self, s: &GitSource, locked: Option<&Locked>) -> Result<String, (String, String)> {
        let is_commit = s.reference.len() == 40 && s.reference.chars().all(|c| c.is_ascii_hexdigit());
        if is_commit {
            return Ok(s.reference.to_lowercase());
        }
        let remote = git(&["ls-remote", "--", &s.url, &s.reference], None).and_then(|out| {
            let refs: BTreeMap<&str, &str> =
                out.lines().filter_map(|l| l.split_once('\t')).map(|(sha, name)| (name, sha)).collect();
            let tag = format!("refs/tags/{}", s.reference);
            refs.get(format!("{tag}^{{}}").as_str())
                .or_else(|| refs.get(tag.as_str()))
                .or_else(|| refs.get(format!("refs/heads/{}", s.reference).as_str()))
                .map(|c| c.to_string())
                .ok_or_else(|| format!("{} has no tag or branch `{}`", s.url, s.reference))
        });
        match (remote, locked) {
            (Ok(c), Some(l)) if c != l.commit && !self.update => Err((
                format!(
                    "`{}` of {} now names commit {}, but {LOCK_FILE} recorded {}: the component changed under the same ref",
                    s.reference,
                    s.url,
                    short(&c),
                    short(&l.commit)
                ),
                format!("if the change is meant, run `trellis get` to take it; or pin `?ref={}`", l.commit),
            )),
            (Ok(c), _) => Ok(c),
            // Offline (or the repository gone): the lock's commit, from the cache.
            (Err(_), Some(l)) if !self.update => Ok(l.commit.clone()),
            (Err(e), _) => Err((format!("cannot read `{}` of {}: {e}", s.reference, s.url), "check the URL and the ref".into())),
        }
    }

    /// The repository at `commit`, cloned into the cache once.
    fn checkout(&self, s: &GitSource, commit: &str) -> Result<PathBuf, String> {
        let repo = hex(&Sha256::digest(s.url.as_bytes()))[..16].to_string();
        let dir = self.cache.join(repo).join(commit);
        if dir.is_dir() {
            return Ok(dir);
        }
        let parent = dir.parent().expect("a cache directory");
        std::fs::create_dir_all(parent).map_err(|e| format!("cannot make the cache {}: {e}", parent.display()))?;
        let tmp = parent.join(format!(".{commit}.{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&tmp);
        let tmp_text = tmp.to_string_lossy().to_string();
        git(&["clone", "--quiet", "--no-checkout", "--", &s.url, &tmp_text], None)?;
        let fetched = git(&["checkout", "--quiet", "--detach", commit], Some(&tmp)).or_else(|_| {
            git(&["fetch", "--quiet", "origin", commit], Some(&tmp))?;
            git(&["checkout", "--quiet", "--detach", commit], Some(&tmp))
        });
        if let Err(e) = fetched {
            let _ = std::fs::remove_dir_all(&tmp);
            return Err(format!("{} has no commit {}: {e}", s.url, short(commit)));
        }
        std::fs::rename(&tmp, &dir)
            .or_else(|e| if dir.is_dir() { Ok(()) } else { Err(e) })
            .map_err(|e| e.to_string())?;
        Ok(dir)
    }

    /// Writes the lock file when a source was added or taken anew.
    pub fn save(&self) -> Result<(), String> {
        if !self.changed {
            return Ok(());
        }
        let mut components = serde_json::Map::new();
        for (source, l) in &self.locked {
            components.insert(source.clone(), serde_json::json!({ "commit": l.commit, "sha256": l.sha256 }));
        }
        let doc = serde_json::json!({
            "_comment": "written by trellis: the commit and the files' digest of each git component; `trellis get` refreshes it",
            "components": components,
        });
        let text = serde_json::to_string_pretty(&doc).expect("JSON") + "\n";
        std::fs::write(&self.path, text).map_err(|e| format!("cannot write {}: {e}", self.path.display()))
    }

    /// Every source the lock records.
    pub fn locked(&self) -> &BTreeMap<String, Locked> {
        &self.locked
    }
}

fn read_lock(text: &str) -> Result<BTreeMap<String, Locked>, String> {
    let doc: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let Some(components) = doc.get("components").and_then(|c| c.as_object()) else {
        return Err("no `components`".into());
    };
    components
        .iter()
        .map(|(source, v)| {
            let field = |k: &str| {
                v.get(k).and_then(|x| x.as_str()).map(str::to_string).ok_or(format!("`{source}` has no `{k}`"))
            };
            Ok((source.clone(), Locked { commit: field("commit")?, sha256: field("sha256")? }))
        })
        .collect()
}

fn short(sha: &str) -> &str {
    &sha[..sha.len().min(12)]
}

/// Where fetched components are kept: `TRELLIS_CACHE_DIR`, else `$XDG_CACHE_HOME/trellis`
/// or `~/.cache/trellis`, each with `components/` under it.
pub fn cache_dir(env: &dyn Fn(&str) -> Option<String>) -> PathBuf {
    if let Some(d) = env("TRELLIS_CACHE_DIR") {
        return PathBuf::from(d).join("components");
    }
    let base = env("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| env("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("trellis").join("components")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_git_sources() {
        let s = GitSource::parse("git::https://github.com/acme/parts.git//service/web?ref=v1.2.0").unwrap();
        assert_eq!(s.url, "https://github.com/acme/parts.git");
        assert_eq!(s.dir, "service/web");
        assert_eq!(s.reference, "v1.2.0");
        let root = GitSource::parse("git::file:///tmp/repo?ref=main").unwrap();
        assert_eq!((root.url.as_str(), root.dir.as_str()), ("file:///tmp/repo", ""));
        let ssh = GitSource::parse("git::git@github.com:acme/parts.git//svc?ref=v1").unwrap();
        assert_eq!((ssh.url.as_str(), ssh.dir.as_str()), ("git@github.com:acme/parts.git", "svc"));
        assert!(GitSource::parse("git::https://x/y.git//svc").unwrap_err().contains("pin the source"));
        assert!(GitSource::parse("git::https://x/y.git//../svc?ref=v1").is_err());
    }

    #[test]
    fn a_lock_file_reads_back() {
        let text = "{\"components\": {\"git::a?ref=v1\": {\"commit\": \"abc\", \"sha256\": \"def\"}}}";
        let l = read_lock(text).unwrap();
        assert_eq!(l["git::a?ref=v1"], Locked { commit: "abc".into(), sha256: "def".into() });
        assert!(read_lock("{}").is_err());
    }
}
