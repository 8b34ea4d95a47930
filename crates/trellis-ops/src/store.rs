//! Where a stack's state is kept: the `--state`/`--backend` flags, the spec's `backend:`,
//! or the local default.

use std::path::PathBuf;
use std::time::Duration;

use trellis_aws::{S3Options, S3Store};
use trellis_spec::{S3Backend, Spec};
use trellis_state::{LocalStore, State, StateStore};

use crate::{Error, Result};

/// The state location a person asked for on the command line (all optional).
#[derive(Debug, Clone, Default)]
pub struct BackendChoice {
    /// A local state file, instead of anything else.
    pub state: Option<PathBuf>,
    /// `s3://BUCKET/KEY`, or `local` for `state/<stack>.json`.
    pub backend: Option<String>,
    /// The region of the `backend` bucket.
    pub backend_region: Option<String>,
    /// How long an unrenewed remote lock takes to count as stale.
    pub lock_lease: Option<Duration>,
    /// Where AWS calls go instead of AWS's endpoints.
    pub endpoint_url: Option<String>,
    /// Other stacks whose outputs are read as unknown, not from their states: `plan
    /// --all` plans a stack whose dependency has changes planned but not applied.
    pub pending_stacks: std::collections::BTreeSet<String>,
}

/// `state/<stack>.json`, where a stack without a backend keeps its state.
pub fn default_state_path(stack: &str) -> PathBuf {
    PathBuf::from("state").join(format!("{stack}.json"))
}

/// `s3://BUCKET/KEY` split in two.
pub fn parse_s3_url(url: &str) -> Option<(String, String)> {
    let (bucket, key) = url.strip_prefix("s3://")?.split_once('/')?;
    (!bucket.is_empty() && !key.is_empty() && !key.ends_with('/')).then(|| (bucket.to_string(), key.to_string()))
}

/// Where a command keeps the stack's state, first match wins: `--state PATH`,
/// `--backend`, the spec's `backend:` (`from_spec`), then `default_local`.
pub fn store_for(
    stack_region: Option<&String>,
    from_spec: Option<&S3Backend>,
    default_local: PathBuf,
    choice: &BackendChoice,
) -> Result<Box<dyn StateStore>> {
    if let Some(path) = &choice.state {
        return Ok(Box::new(LocalStore::new(path)));
    }
    let s3 = match choice.backend.as_deref() {
        Some("local") => None,
        Some(url) => {
            let Some((bucket, key)) = parse_s3_url(url) else {
                return Err(Error::Usage(format!("--backend `{url}`: give `s3://BUCKET/KEY` or `local`")));
            };
            let region = choice.backend_region.clone().or_else(|| stack_region.cloned());
            Some(S3Backend { bucket, key, region, lock_lease: from_spec.and_then(|b| b.lock_lease) })
        }
        None => from_spec.cloned().map(|b| S3Backend {
            region: choice.backend_region.clone().or(b.region).or_else(|| stack_region.cloned()),
            ..b
        }),
    };
    match s3 {
        None => Ok(Box::new(LocalStore::new(default_local))),
        Some(b) => Ok(Box::new(S3Store::connect(S3Options {
            bucket: b.bucket,
            key: b.key,
            region: b.region,
            endpoint_url: choice.endpoint_url.clone(),
            lock_lease: choice.lock_lease.or(b.lock_lease),
            rescue_dir: None,
        })?)),
    }
}

/// The spec's state store.
pub fn open_store(spec: &Spec, choice: &BackendChoice) -> Result<Box<dyn StateStore>> {
    store_for(spec.region.as_ref(), spec.backend.as_ref(), default_state_path(&spec.stack), choice)
}

/// Refuses to start a remote state from nothing while the local file has one: the
/// first plan would otherwise create every object again.
pub(crate) fn check_not_left_behind(
    spec: &Spec,
    store: &dyn StateStore,
    prior: Option<&State>,
    choice: &BackendChoice,
) -> Result<()> {
    let local = default_state_path(&spec.stack);
    let remote = store.region().is_some(); // only a remote store has a region
    if prior.is_none() && remote && choice.backend.is_none() && local.exists() {
        return Err(Error::Usage(format!(
            "the spec keeps its state in {}, which has none yet, but {} holds this stack's state; move it there first \
             with `trellis state push SPEC {}` (or use --backend local to keep working from the file)",
            store.location(),
            local.display(),
            local.display()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_urls_need_a_bucket_and_a_key() {
        assert_eq!(parse_s3_url("s3://b/k/state.json"), Some(("b".into(), "k/state.json".into())));
        for bad in ["s3://b", "s3://b/", "s3:///k", "s3://b/dir/", "b/k", "https://b/k"] {
            assert_eq!(parse_s3_url(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_flags_win_over_the_spec() {
        let spec_backend = S3Backend { bucket: "b".into(), key: "k".into(), region: None, lock_lease: None };
        let file = tempfile::tempdir().unwrap().path().join("s.json");
        let choice = BackendChoice { state: Some(file.clone()), ..BackendChoice::default() };
        let store = store_for(None, Some(&spec_backend), PathBuf::from("state/x.json"), &choice).unwrap();
        assert_eq!(store.location(), file.display().to_string());
        let local = BackendChoice { backend: Some("local".into()), ..BackendChoice::default() };
        let store = store_for(None, Some(&spec_backend), PathBuf::from("state/x.json"), &local).unwrap();
        assert_eq!(store.location(), "state/x.json");
        let bad = BackendChoice { backend: Some("s3://nokey".into()), ..BackendChoice::default() };
        let err = store_for(None, None, PathBuf::from("state/x.json"), &bad).err().unwrap();
        assert!(err.to_string().contains("give `s3://BUCKET/KEY` or `local`"), "{err}");
    }
}
