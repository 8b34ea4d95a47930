//! `plan --out FILE` and `apply FILE`: writing a plan, and taking one back only while
//! nothing it was based on has moved.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use trellis_aws::Aws;
use trellis_core::schema::Kind;
use trellis_core::{Provider, RefreshRequest};
use trellis_plan::{differences, spec_digest, Plan, SavedPlan, SpecSource, SAVED_PLAN_FORMAT};
use trellis_spec::S3Backend;
use trellis_state::{State, StateLock, StateStore};

use crate::session::connect_aws;
use crate::store::{parse_s3_url, store_for};
use crate::{BackendChoice, Error, Result, Session};
use trellis_aws::Progress;

/// Writes `plan`, made in `session` from the spec at `spec_path` with `vars`, to `out`;
/// returns the file's digest, which `apply FILE --digest` checks.
pub fn save_plan(
    session: &Session,
    spec_path: &Path,
    vars: &BTreeMap<String, String>,
    plan: &Plan,
    out: &Path,
) -> Result<String> {
    let saved = SavedPlan {
        trellis_saved_plan: SAVED_PLAN_FORMAT,
        spec: SpecSource {
            path: spec_path.display().to_string(),
            sha256: spec_digest(&session.spec.file.text, vars),
            vars: vars.clone(),
            components: session
                .spec
                .sources
                .iter()
                .map(|f| (f.name.clone(), trellis_plan::text_digest(&f.text)))
                .collect(),
        },
        region: session.spec.region.clone(),
        state_path: session.store.location(),
        state_region: session.store.region(),
        plan: plan.clone(),
    };
    std::fs::write(out, saved.to_json()).map_err(|e| Error::Read(format!("cannot write {}: {e}", out.display())))?;
    Ok(saved.digest())
}

/// A saved plan ready to be carried out: its state store under lock, the state it
/// applies onto and a provider in its region. Only [`SavedRun::open`] makes one, and
/// only when the plan is not stale.
pub struct SavedRun {
    pub saved: SavedPlan,
    pub store: Box<dyn StateStore>,
    pub lock: StateLock,
    pub state: State,
    pub aws: Arc<Aws>,
    /// The spec's `checks: { fail_on: ... }`: a saved plan is held to it like any apply.
    pub fail_on: Option<trellis_core::schema::Severity>,
}

impl SavedRun {
    /// The file's text when it is a saved plan rather than a spec.
    pub fn sniff(path: &Path) -> Option<String> {
        let text = std::fs::read_to_string(path).ok()?;
        SavedPlan::sniff(&text).then_some(text)
    }

    /// Reads a saved plan file.
    pub fn load(text: &str, path: &Path) -> Result<SavedPlan> {
        SavedPlan::from_json(text).map_err(|e| Error::Read(format!("{}: {e}", path.display())))
    }

    /// Takes the plan's state under lock and checks that nothing it was based on has
    /// moved: the state (lineage and serial), the spec (digest) and the objects it
    /// changes (re-read by id). A stale plan is refused with every reason.
    pub async fn open(
        text: &str,
        file: &Path,
        choice: &BackendChoice,
        lock_timeout: Duration,
        delete_timeout: Duration,
        digest: Option<&str>,
        progress: Option<Progress>,
    ) -> Result<SavedRun> {
        let saved = Self::load(text, file)?;
        if let Some(wanted) = digest {
            let actual = saved.digest();
            if !actual.eq_ignore_ascii_case(wanted.trim()) {
                return Err(Error::Usage(format!(
                    "the saved plan {} has digest {actual}, not the {} that was approved; it was not applied",
                    file.display(),
                    wanted.trim()
                )));
            }
        }
        let spec_now = std::fs::read_to_string(&saved.spec.path).ok();
        let digest = spec_now.as_deref().map(|t| spec_digest(t, &saved.spec.vars));
        let saved_s3 = parse_s3_url(&saved.state_path).map(|(bucket, key)| S3Backend {
            bucket,
            key,
            region: saved.state_region.clone(),
            lock_lease: None,
        });
        let store = store_for(saved.region.as_ref(), saved_s3.as_ref(), PathBuf::from(&saved.state_path), choice)?;
        let lock = store.lock_waiting("apply", lock_timeout)?;
        let state = store.read(&saved.plan.stack)?;
        let aws = connect_aws(saved.region.clone(), choice, delete_timeout, None).await?;
        let touched = saved.touched();
        let kinds: BTreeMap<&'static str, &'static Kind> = touched.iter().map(|(a, _)| (a.kind.name, a.kind)).collect();
        let live = aws
            .refresh(RefreshRequest {
                stack: saved.plan.stack.clone(),
                kinds: kinds.into_values().collect(),
                known: touched,
                by_id_only: true,
            })
            .await
            .map_err(|e| Error::Aws(format!("re-reading the objects the plan changes failed: AWS {e}")))?;
        let mut why = saved.staleness(state.as_ref(), digest.as_deref(), &live.found);
        for (path, sha) in &saved.spec.components {
            match std::fs::read_to_string(path).map(|t| trellis_plan::text_digest(&t)) {
                Ok(now) if now == *sha => {}
                Ok(_) => why.push(format!("the component file {path} changed since the plan was made")),
                Err(_) => why.push(format!("the component file {path} cannot be read from here")),
            }
        }
        if !why.is_empty() {
            let list: Vec<String> = why.iter().map(|w| format!("  - {w}")).collect();
            return Err(Error::Usage(format!(
                "the saved plan {} is stale and was not applied:\n{}\nMake a new plan.",
                file.display(),
                list.join("\n")
            )));
        }
        drop(aws);
        // The file's own changes are not trusted: the plan is made again from the same
        // spec, state and live objects, and the two must agree change for change, or an
        // edited file (a no-op turned into a delete) would run what nobody reviewed.
        let spec = crate::session::load_spec(Path::new(&saved.spec.path), &saved.spec.vars)?;
        let opts = crate::OpenOptions {
            spec: Path::new(&saved.spec.path),
            vars: saved.spec.vars.clone(),
            backend: choice.clone(),
            lock_timeout,
            delete_timeout,
            operation: "apply",
            progress,
        };
        let mut session = Session::open_on(opts, spec, store, lock).await?;
        let targets: Vec<String> = saved.plan.targets.iter().map(ToString::to_string).collect();
        let replace: Vec<String> =
            saved.plan.changes.iter().filter(|c| c.replace_requested).map(|c| c.address.to_string()).collect();
        let fresh = session.plan(saved.plan.operation, &targets, &replace, crate::Orphans::Journaled).await?.plan;
        let why = differences(&saved.plan, &fresh);
        if !why.is_empty() {
            let list: Vec<String> = why.iter().map(|w| format!("  - {w}")).collect();
            return Err(Error::Usage(format!(
                "the saved plan {} is not the plan its spec, state and live objects give now, and was not applied:\n{}\nMake a new plan, and review it.",
                file.display(),
                list.join("\n")
            )));
        }
        let state = session.state();
        let fail_on = session.spec.fail_on;
        Ok(SavedRun { saved, store: session.store, lock: session.lock, state, aws: session.aws, fail_on })
    }
}
