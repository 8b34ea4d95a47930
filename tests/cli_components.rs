//! Components from git, with no cloud: a component pinned to a tag of a repository made
//! here is fetched into the cache once and locked in `trellis.lock` (its commit and its
//! files' digest); a tag moved to other content is refused until `trellis get` takes
//! it; a cached copy edited by hand is refused; and the lock makes the run work with
//! the repository gone.

use std::path::Path;
use std::process::Command;

fn trellis(dir: &Path, cache: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_trellis"))
        .current_dir(dir)
        .args(args)
        .env("NO_COLOR", "1")
        .env("TRELLIS_CACHE_DIR", cache)
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env("AWS_REGION", "us-east-1")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .current_dir(dir)
        .args(args)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

const COMPONENT: &str = "inputs:\n  cidr: { type: string }\nresources:\n  vpc.main:\n    cidr_block: ${var.cidr}\noutputs:\n  vpc: ${vpc.main}\n";

#[test]
fn a_git_component_is_fetched_locked_and_held_to_the_lock() {
    let root = tempfile::tempdir().unwrap();
    let repo = root.path().join("parts");
    let work = root.path().join("stack");
    let cache = root.path().join("cache");
    std::fs::create_dir_all(repo.join("net")).unwrap();
    std::fs::create_dir_all(&work).unwrap();
    git(&repo, &["init", "--quiet", "--initial-branch=main"]);
    std::fs::write(repo.join("net/component.yaml"), COMPONENT).unwrap();
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "--quiet", "-m", "net"]);
    git(&repo, &["tag", "v1"]);
    let first = git(&repo, &["rev-parse", "HEAD"]);

    let url = format!("file://{}", repo.display());
    let spec = format!(
        "stack: git\ncomponents:\n  net:\n    source: git::{url}//net?ref=v1\n    inputs: {{ cidr: 10.0.0.0/16 }}\nresources:\n  subnet.a:\n    vpc_id: ${{component.net.output.vpc}}\n    cidr_block: 10.0.1.0/24\n"
    );
    std::fs::write(work.join("stack.yaml"), &spec).unwrap();

    // Fetched once, and locked.
    let (code, out, err) = trellis(&work, &cache, &["validate", "stack.yaml"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("2 resources"), "{out}");
    let lock = std::fs::read_to_string(work.join("trellis.lock")).unwrap();
    assert!(lock.contains(&first), "{lock}");
    assert!(lock.contains(&format!("git::{url}//net?ref=v1")), "{lock}");
    assert!(cache.join("components").is_dir());

    // The tag moves to other content: refused, naming both commits, until `get`.
    std::fs::write(
        repo.join("net/component.yaml"),
        COMPONENT.replace("vpc.main:", "vpc.main:\n    enable_dns_hostnames: true"),
    )
    .unwrap();
    git(&repo, &["commit", "--quiet", "-am", "dns"]);
    git(&repo, &["tag", "-f", "v1"]);
    let second = git(&repo, &["rev-parse", "HEAD"]);
    let (code, out, err) = trellis(&work, &cache, &["validate", "stack.yaml"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("`v1` of"), "{err}");
    assert!(err.contains(&format!("now names commit {}", &second[..12])), "{err}");
    assert!(err.contains(&format!("recorded {}", &first[..12])), "{err}");
    assert!(err.contains("run `trellis get`"), "{err}");
    assert!(err.contains("stack.yaml:4:13"), "at the source: {err}");
    assert_eq!(
        std::fs::read_to_string(work.join("trellis.lock")).unwrap(),
        lock,
        "a refused run leaves the lock alone"
    );

    let (code, out, err) = trellis(&work, &cache, &["get", "stack.yaml"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains(&format!("commit {}", &second[..12])), "{out}");
    let (code, out, err) = trellis(&work, &cache, &["validate", "stack.yaml"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(std::fs::read_to_string(work.join("trellis.lock")).unwrap().contains(&second));

    // A cached copy edited by hand no longer matches the lock's digest.
    let cached = walk_for(&cache, "component.yaml");
    let edited: Vec<_> = cached.iter().filter(|p| p.to_string_lossy().contains(&second)).collect();
    assert_eq!(edited.len(), 1, "{cached:?}");
    std::fs::write(edited[0], COMPONENT.replace("10", "11")).unwrap();
    let (code, _, err) = trellis(&work, &cache, &["validate", "stack.yaml"]);
    assert_eq!(code, 1);
    assert!(err.contains("differ from what trellis.lock recorded"), "{err}");
    std::fs::write(edited[0], COMPONENT.replace("vpc.main:", "vpc.main:\n    enable_dns_hostnames: true")).unwrap();

    // Offline: the repository gone, the lock's commit is read from the cache.
    std::fs::remove_dir_all(&repo).unwrap();
    let (code, out, err) = trellis(&work, &cache, &["validate", "stack.yaml"]);
    assert_eq!(code, 0, "{out}{err}");
}

fn walk_for(dir: &Path, name: &str) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk_for(&path, name));
        } else if path.file_name().is_some_and(|n| n == name) {
            out.push(path);
        }
    }
    out
}
