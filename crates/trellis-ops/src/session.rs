//! A run against one stack: its spec, its state store held under lock, the state as it
//! was read, and a connected provider. Every command that reads the cloud starts here.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use trellis_aws::{connect, Aws, AwsOptions, Progress};
use trellis_core::schema::Kind;
use trellis_core::{Address, Provider, RefreshRequest, RefreshResult};
use trellis_plan::{adopt, plan, Adoption, Operation, Plan, PlanInput};
use trellis_spec::{LoadOptions, LookupValues, Spec, StackValues};
use trellis_state::{State, StateLock, StateStore};

use crate::store::{check_not_left_behind, open_store};
use crate::{BackendChoice, Error, Result};

/// How to open a session.
pub struct OpenOptions<'a> {
    pub spec: &'a Path,
    /// `--var NAME=VALUE`.
    pub vars: BTreeMap<String, String>,
    pub backend: BackendChoice,
    /// How long to wait for a lock another run holds.
    pub lock_timeout: Duration,
    /// How long a delete that AWS refuses as in use is retried.
    pub delete_timeout: Duration,
    /// What the lock says this run is doing (`plan`, `apply`, ...).
    pub operation: &'a str,
    /// Told about each wait and retry as it happens.
    pub progress: Option<Progress>,
}

/// The spec, its state store held under lock, the prior state and a connected provider.
pub struct Session {
    pub spec: Spec,
    pub store: Box<dyn StateStore>,
    pub lock: StateLock,
    /// The state as read when the lock was taken.
    pub prior: Option<State>,
    pub aws: Arc<Aws>,
    /// Where the spec came from, to read it again with the lookups' answers.
    source: Source,
}

/// The spec's file and what it was read with, kept until its lookups are answered.
struct Source {
    path: PathBuf,
    vars: BTreeMap<String, String>,
    stacks: Option<StackValues>,
    /// The spec's lookups are still to be answered (by the first refresh).
    lookups_pending: bool,
}

/// What a refresh read, for the line that reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Read {
    pub objects: usize,
    pub calls: usize,
    pub region: String,
    /// How long the read took, and each kind's part of it (the kinds are read at once):
    /// `(kind, objects found, time)`.
    pub took: Duration,
    pub per_kind: Vec<(&'static str, usize, Duration)>,
}

/// Which orphans a plan takes into the state first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Orphans {
    /// Only those a killed run's journal names (always done).
    Journaled,
    /// All of them (`apply --adopt-orphans`).
    AdoptAll,
}

/// A plan and what was done to make it.
pub struct Planned {
    pub plan: Plan,
    pub read: Read,
    /// The orphans taken into the state before planning, and why (`None`: none looked at).
    pub adoption: Option<(Adoption, Orphans)>,
    /// How long planning took once the live objects were read.
    pub planning: Duration,
}

/// Reads and checks the spec; `--var` values fill its `vars:`. Values read from
/// lookups and other stacks are unknown (see [`Session::open`], which reads them).
pub fn load_spec(path: &Path, vars: &BTreeMap<String, String>) -> Result<Spec> {
    load_spec_with(path, vars, None, None)
}

/// `trellis get`: the spec read with every git component fetched again at what its ref
/// names now, and `trellis.lock` rewritten; the lock's entries.
pub fn get_sources(
    path: &Path,
    vars: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, trellis_spec::sources::Locked>> {
    let opts = LoadOptions { vars: vars.clone(), ..LoadOptions::default() };
    trellis_spec::get(path, &opts).map(|(_, locked)| locked).map_err(Error::from_load)
}

fn load_spec_with(
    path: &Path,
    vars: &BTreeMap<String, String>,
    lookups: Option<&LookupValues>,
    stacks: Option<&StackValues>,
) -> Result<Spec> {
    let opts = LoadOptions { vars: vars.clone(), lookups, stacks, ..LoadOptions::default() };
    trellis_spec::load(path, &opts).map_err(Error::from_load)
}

/// Connects to AWS in `region` (the aws-config chain fills what is not given).
pub(crate) async fn connect_aws(
    region: Option<String>,
    choice: &BackendChoice,
    delete_timeout: Duration,
    progress: Option<Progress>,
) -> Result<Aws> {
    connect(AwsOptions {
        region,
        endpoint_url: choice.endpoint_url.clone(),
        progress,
        timeouts: trellis_aws::Timeouts { delete: delete_timeout, ..trellis_aws::Timeouts::default() },
    })
    .await
    .map_err(|e| Error::Aws(e.message)) // worded for a person already: no region, no credentials
}

impl Session {
    /// Loads the spec, takes its state's lock (waiting up to `lock_timeout`), reads the
    /// state and connects to AWS.
    pub async fn open(opts: OpenOptions<'_>) -> Result<Session> {
        let spec = load_spec(opts.spec, &opts.vars)?;
        let store = open_store(&spec, &opts.backend)?;
        let lock = store.lock_waiting(opts.operation, opts.lock_timeout)?;
        Self::open_on(opts, spec, store, lock).await
    }

    /// A session on a store already held under `lock` (a saved plan's), with the spec
    /// as [`load_spec`] read it.
    pub(crate) async fn open_on(
        opts: OpenOptions<'_>,
        spec: Spec,
        store: Box<dyn StateStore>,
        lock: StateLock,
    ) -> Result<Session> {
        let prior = store.read(&spec.stack)?;
        check_not_left_behind(&spec, &*store, prior.as_ref(), &opts.backend)?;
        let aws = connect_aws(spec.region.clone(), &opts.backend, opts.delete_timeout, opts.progress).await?;
        // The other stacks' states are read now and the spec read again with them, so
        // that every command sees their values. The lookups are answered by the first
        // refresh, in the same batch of reads (a lookup may filter on another stack's
        // output, so the states come first). A spec with neither is read once. A
        // destroy deletes what the state holds and needs neither (nor fails when a
        // lookup finds nothing or a stack is gone).
        let reads = opts.operation != "destroy";
        let stacks =
            if reads && !spec.stacks.is_empty() { Some(crate::stacks::read(&spec, &opts.backend)?) } else { None };
        let spec = match &stacks {
            Some(s) => load_spec_with(opts.spec, &opts.vars, None, Some(s))?,
            None => spec,
        };
        let lookups_pending = reads && !spec.lookups.is_empty();
        let source = Source { path: opts.spec.to_path_buf(), vars: opts.vars, stacks, lookups_pending };
        Ok(Session { spec, store, lock, prior, aws: Arc::new(aws), source })
    }

    /// Reads the live stack: every kind the spec or the state names, tag-filtered, plus
    /// the state's objects by id. The spec's lookups, the first time, are answered
    /// alongside (copies never depend on them, so neither waits for the other), and the
    /// spec is read again with their answers.
    pub async fn refresh(&mut self) -> Result<(RefreshResult, Read)> {
        let mut kinds: BTreeMap<&'static str, &'static Kind> =
            self.spec.resources.values().map(|r| (r.kind.name, r.kind)).collect();
        let known: Vec<(Address, String)> =
            self.prior.iter().flat_map(|st| st.resources.iter().map(|r| (r.address.clone(), r.id.clone()))).collect();
        for (a, _) in &known {
            kinds.insert(a.kind.name, a.kind);
        }
        let request = RefreshRequest {
            stack: self.spec.stack.clone(),
            kinds: kinds.into_values().collect(),
            known,
            by_id_only: false,
        };
        let before = self.aws.calls();
        let started = std::time::Instant::now();
        let lookups = async {
            match self.source.lookups_pending {
                true => crate::lookups::answer(&self.aws, &self.spec).await.map(Some),
                false => Ok(None),
            }
        };
        let (refreshed, answers) = tokio::join!(self.aws.refresh(request), lookups);
        // A lookup's failure is the spec's, and told first.
        if let Some(answers) = answers? {
            let src = &self.source;
            self.spec = load_spec_with(&src.path, &src.vars, Some(&answers), src.stacks.as_ref())?;
            self.source.lookups_pending = false;
        }
        let refreshed = refreshed.map_err(|e| {
            let help = (e.code.as_deref() == Some("NetworkError")).then(|| {
                format!(
                    "\nhelp: check the network and the region (`{}`); an emulator is reached through AWS_ENDPOINT_URL or --endpoint-url",
                    self.aws.region()
                )
            });
            // An id AWS refuses (a damaged state record) is named with its address and file.
            let named: Vec<String> = self
                .prior
                .iter()
                .flat_map(|st| st.resources.iter())
                .filter(|r| !r.id.is_empty() && e.message.contains(r.id.as_str()))
                .map(|r| format!("{} (id `{}`)", r.address, r.id))
                .collect();
            let whose = match named.as_slice() {
                [] => String::new(),
                _ => format!("\nthe state {} records that id for {}", self.store.location(), named.join(", ")),
            };
            Error::Aws(format!("reading the live stack failed: AWS {e}{whose}{}", help.unwrap_or_default()))
        })?;
        let read = Read {
            objects: refreshed.found.len(),
            calls: self.aws.calls() - before,
            region: self.aws.region().to_string(),
            took: started.elapsed(),
            per_kind: self.aws.read_times(),
        };
        Ok((refreshed, read))
    }

    /// Refreshes and plans `operation`. Orphans a killed run's journal names are adopted
    /// first (the object it made carries its address tag and is taken, not made twice);
    /// with [`Orphans::AdoptAll`], every orphan the spec has an address for.
    /// `replace`: the `--replace` addresses, objects the spec declares that are replaced
    /// although nothing in the spec asks for it.
    pub async fn plan(
        &mut self,
        operation: Operation,
        targets: &[String],
        replace: &[String],
        orphans: Orphans,
    ) -> Result<Planned> {
        let targets = self.parse_addresses("--target", targets, true)?;
        let replace = self.parse_addresses("--replace", replace, false)?;
        if !targets.is_empty() && operation == Operation::RefreshOnly {
            return Err(Error::Usage(
                "--target cannot be used with --refresh-only: the refresh records every object of the stack".into(),
            ));
        }
        if !replace.is_empty() && operation != Operation::Apply {
            let what = if operation == Operation::Destroy { "destroy" } else { "--refresh-only" };
            return Err(Error::Usage(format!(
                "--replace cannot be used with {what}: it replaces objects the spec keeps"
            )));
        }
        if operation == Operation::Apply {
            self.check_secret_sources()?;
        }
        let (refreshed, read) = self.refresh().await?;
        let mut prior = self.prior.clone();
        let mut live = refreshed.found;
        let mut left = refreshed.orphans;
        if orphans == Orphans::AdoptAll && !left.is_empty() {
            prior.get_or_insert_with(|| State::new(&self.spec.stack));
        }
        let mut adoption = None;
        if let Some(state) = prior.as_mut().filter(|st| !st.pending.is_empty() || orphans == Orphans::AdoptAll) {
            let pending: BTreeSet<Address> = state.pending_creates().cloned().collect();
            let only = (orphans == Orphans::Journaled).then_some(&pending);
            let mut taken = adopt(&self.spec, state, left, only);
            // A journaled create the read did not show may still appear: looked for again
            // before the plan may make it a second time.
            let unseen: BTreeSet<Address> = pending.iter().filter(|a| state.get(a).is_none()).cloned().collect();
            if !unseen.is_empty() && !taken.refused.iter().any(|r| unseen.contains(&r.address)) {
                let late = self.look_again(state, &unseen).await?;
                let more = adopt(&self.spec, state, late, Some(&unseen));
                taken.adopted.extend(more.adopted);
                taken.refused.extend(more.refused);
                taken.waited = true;
            }
            for o in &taken.adopted {
                live.insert(o.address.clone(), o.clone());
            }
            left = taken.left.clone();
            adoption = Some((taken, orphans));
        }
        let started = std::time::Instant::now();
        let mut plan = plan(PlanInput {
            spec: &self.spec,
            prior: prior.as_ref(),
            live: &live,
            orphans: &left,
            tags: &refreshed.tagged,
            operation,
            targets: &targets,
            replace: &replace,
            env: &|name| std::env::var(name).ok(),
        })
        .map_err(|e| match e {
            trellis_plan::PlanError::Spec(d) => Error::Spec(d),
            e => Error::Plan(e),
        })?;
        let planning = started.elapsed();
        if operation == Operation::Apply {
            let questions = trellis_plan::preflight_questions(&plan);
            let answers = self.aws.preflight(&questions).await.map_err(|e| Error::Aws(format!("pre-flight: {e}")))?;
            plan.preflight = trellis_plan::preflight_judge(&plan, &questions, &answers);
        }
        Ok(Planned { plan, read, adoption, planning })
    }

    /// The objects tagged with an address of `unseen` (creates a killed run's journal
    /// names, which the refresh did not show) that no state knows, read again after 2 and
    /// then 4 more seconds: AWS may list a new object only some seconds after it made it,
    /// and a create whose answer was lost may still be running. Only their kinds are read.
    async fn look_again(&self, state: &State, unseen: &BTreeSet<Address>) -> Result<Vec<trellis_core::LiveObject>> {
        let known: BTreeSet<&str> = state.resources.iter().map(|r| r.id.as_str()).collect();
        let mut kinds: Vec<&'static Kind> = unseen.iter().map(|a| a.kind).collect();
        kinds.dedup_by(|a, b| a.name == b.name);
        let names: Vec<String> = unseen.iter().map(ToString::to_string).collect();
        self.aws.tell(trellis_aws::Event::LookingForJournalCreates { addresses: names });
        let mut found = Vec::new();
        for wait in [2, 4] {
            tokio::time::sleep(Duration::from_secs(wait)).await;
            let request = RefreshRequest {
                stack: self.spec.stack.clone(),
                kinds: kinds.clone(),
                known: vec![],
                by_id_only: false,
            };
            let read = self
                .aws
                .refresh(request)
                .await
                .map_err(|e| Error::Aws(format!("reading the live stack failed: AWS {e}")))?;
            found = read
                .orphans
                .into_iter()
                .filter(|o| unseen.contains(&o.address) && !known.contains(o.id.as_str()))
                .collect();
            if unseen.iter().all(|a| found.iter().any(|o| &o.address == a)) {
                break;
            }
        }
        Ok(found)
    }

    /// Fails, naming them, when environment variables a sensitive attribute reads are unset.
    fn check_secret_sources(&self) -> Result<()> {
        let missing: Vec<String> = self
            .spec
            .secret_sources()
            .into_iter()
            .filter(|(_, _, var)| std::env::var_os(var).is_none())
            .map(|(address, attr, var)| format!("{var} (read by the sensitive `{address}.{attr}`)"))
            .collect();
        if !missing.is_empty() {
            return Err(Error::Usage(format!(
                "environment variables not set: {}\nhelp: export them before running trellis; their values never go into the plan or the state",
                missing.join(", ")
            )));
        }
        // A secret is first seen here: what AWS would refuse of it is said now, never
        // the value itself.
        let refused: Vec<String> = self
            .spec
            .secret_sources()
            .into_iter()
            .filter_map(|(address, attr, var)| {
                let schema = address.kind.attr(attr)?;
                let written = self.spec.resources.get(address)?.attrs.get(attr)?;
                let value = written.eval_with_env(&|_| trellis_core::Value::Unknown, &|n| std::env::var(n).ok());
                let why = trellis_spec::aws_refuses(schema, &value)?;
                Some(format!("{var} (for `{address}.{attr}`): {why}"))
            })
            .collect();
        if refused.is_empty() {
            return Ok(());
        }
        Err(Error::Usage(format!(
            "AWS would refuse these secrets: {}\nhelp: choose values AWS takes, and export them again",
            refused.join("; ")
        )))
    }

    /// `--target` addresses, each of which must be in the spec or the state.
    /// The addresses given to `flag`, each one the spec declares (or, `with_state`, the
    /// state holds).
    fn parse_addresses(&self, flag: &str, targets: &[String], with_state: bool) -> Result<Vec<Address>> {
        // A repeated resource's address without a key names all its copies.
        let mut known: BTreeSet<String> = self.spec.resources.keys().map(ToString::to_string).collect();
        known.extend(self.spec.repeats.keys().map(ToString::to_string));
        for r in self.prior.iter().flat_map(|st| st.resources.iter()).filter(|_| with_state) {
            known.insert(r.address.to_string());
            known.insert(r.address.resource().to_string());
        }
        let place = if with_state { "in the spec or the state" } else { "in the spec" };
        targets
            .iter()
            .map(|t| {
                if !known.contains(t) {
                    let hint = trellis_spec::did_you_mean(t, known.iter().map(String::as_str))
                        .map(|m| format!(" (did you mean `{m}`?)"))
                        .unwrap_or_default();
                    return Err(Error::Usage(format!("{flag} {t}: no such resource {place}{hint}")));
                }
                t.parse().map_err(|e: trellis_core::AddressError| Error::Usage(e.to_string()))
            })
            .collect()
    }

    /// The state to apply onto: the prior one, or a new one for the stack.
    pub fn state(&self) -> State {
        self.prior.clone().unwrap_or_else(|| State::new(&self.spec.stack))
    }

    /// `trellis state adopt`: records the stack's tagged objects that no state knows, and
    /// writes the state when any was taken.
    pub async fn adopt_orphans(&mut self) -> Result<(Adoption, Read)> {
        let (refreshed, read) = self.refresh().await?;
        let mut state = self.state();
        let adoption = adopt(&self.spec, &mut state, refreshed.orphans, None);
        if !adoption.adopted.is_empty() {
            self.store.write(&self.lock, &mut state)?;
        }
        Ok((adoption, read))
    }

    /// `trellis import`: reads the object with `id` and records it at `address`, which the
    /// spec must declare and the state must not hold yet.
    pub async fn import(&self, address: &str, id: &str) -> Result<Adoption> {
        let Some(resource) = address.parse().ok().and_then(|a: Address| self.spec.resources.get(&a)) else {
            let declared: Vec<String> = self.spec.resources.keys().map(ToString::to_string).collect();
            let hint = trellis_spec::did_you_mean(address, declared.iter().map(String::as_str))
                .map(|m| format!(" (did you mean `{m}`?)"))
                .unwrap_or_default();
            return Err(Error::Usage(format!("import: the spec declares no `{address}`{hint}")));
        };
        let address = resource.address.clone();
        let mut state = self.state();
        if let Some(known) = state.get(&address) {
            return Err(Error::Usage(format!(
                "import: the state already has `{address}` as {}; a second object cannot share its address",
                known.id
            )));
        }
        let read = self
            .aws
            .refresh(RefreshRequest {
                stack: self.spec.stack.clone(),
                kinds: vec![resource.kind],
                known: vec![(address.clone(), id.to_string())],
                by_id_only: true,
            })
            .await
            .map_err(|e| Error::Aws(format!("reading {id} failed: AWS {e}")))?;
        let Some(object) = read.found.get(&address).cloned() else {
            return Err(Error::Usage(format!("import: no {} with id `{id}` was found", resource.kind.name)));
        };
        let adoption = adopt(&self.spec, &mut state, vec![object], None);
        self.store.write(&self.lock, &mut state)?;
        Ok(adoption)
    }
}

/// Refuses, before anything is asked or called, a plan that destroys protected data
/// without `allow` (`--allow-data-loss`).
pub fn check_data_loss(plan: &Plan, allow: bool) -> Result<()> {
    let refused = plan.protected_changes();
    if refused.is_empty() || allow {
        return Ok(());
    }
    Err(Error::Usage(plan.refusal().unwrap_or_default()))
}
