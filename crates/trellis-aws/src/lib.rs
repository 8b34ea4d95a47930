//! The only crate that talks to AWS. It implements [`trellis_core::Provider`] for the
//! resource kinds of `trellis_core::kinds`: batched, tag-filtered refresh; create,
//! update and delete per kind, with waits for readiness and retries where AWS is
//! eventually consistent.
//!
//! Architecture invariant: AWS SDK types never leave this crate. Live objects come out
//! as `trellis_core::Attrs` in the shape of the kind's schema, errors as
//! `ProviderError { code, message }`.

mod client;
mod discover;
mod errors;
mod kinds;
mod limits;
mod lookups;
mod s3state;
mod util;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use trellis_core::{Address, Attrs, CreateError, LiveObject, Provider, ProviderError, RefreshRequest, RefreshResult};

pub use client::{connect, AwsOptions};
pub use discover::{owned_by_aws, Found, FOLLOWED};
pub use errors::RetryStats;
pub use s3state::{S3Options, S3Store};

/// The AWS SDKs trellis uses, for tests that change objects behind trellis's back.
pub mod sdk {
    pub use aws_sdk_autoscaling as autoscaling;
    pub use aws_sdk_cloudwatch as cloudwatch;
    pub use aws_sdk_ec2 as ec2;
    pub use aws_sdk_elasticloadbalancingv2 as elb;
    pub use aws_sdk_iam as iam;
    pub use aws_sdk_rds as rds;
    pub use aws_sdk_s3 as s3;
    pub use aws_sdk_ssm as ssm;
}

/// Tag keys trellis puts on every object it creates.
pub const TAG_STACK: &str = "trellis:stack";
pub const TAG_ADDRESS: &str = "trellis:address";

/// Receives progress lines (waits, retries) meant for the person running trellis.
pub type Progress = Arc<dyn Fn(&str) + Send + Sync>;

/// One client per service.
pub(crate) struct Clients {
    pub ec2: aws_sdk_ec2::Client,
    pub elb: aws_sdk_elasticloadbalancingv2::Client,
    pub asg: aws_sdk_autoscaling::Client,
    pub rds: aws_sdk_rds::Client,
    pub ssm: aws_sdk_ssm::Client,
    pub iam: aws_sdk_iam::Client,
    pub cw: aws_sdk_cloudwatch::Client,
}

/// A connected AWS provider.
pub struct Aws {
    pub(crate) ec2: aws_sdk_ec2::Client,
    pub(crate) elb: aws_sdk_elasticloadbalancingv2::Client,
    pub(crate) asg: aws_sdk_autoscaling::Client,
    pub(crate) rds: aws_sdk_rds::Client,
    /// For lookups of public parameters (an AMI's id).
    pub(crate) ssm: aws_sdk_ssm::Client,
    /// IAM (global): roles and instance profiles.
    pub(crate) iam: aws_sdk_iam::Client,
    /// CloudWatch: metric alarms.
    pub(crate) cw: aws_sdk_cloudwatch::Client,
    /// The same clients making one attempt per call, for the calls that create an
    /// object: their outcome, when unknown, is looked up before they are sent again.
    pub(crate) once: Clients,
    /// Ids this run made, changed or just saw listed: a "not found" naming one is
    /// eventual consistency.
    pub(crate) recent: Arc<errors::Recent>,
    pub(crate) stats: Arc<errors::RetryStats>,
    pub(crate) region: String,
    pub(crate) calls: AtomicUsize,
    pub(crate) limits: limits::Limits,
    pub(crate) timeouts: Timeouts,
    pub(crate) progress: Option<Progress>,
    /// Test hook (`TRELLIS_TEST_CRASH_AFTER_CALLS=N`): the process kills itself with
    /// SIGKILL instead of making call N+1, so tests can crash an apply at every point.
    pub(crate) crash_after: Option<usize>,
    /// The last refresh's reads, by kind (see [`Aws::read_times`]).
    pub(crate) read_times: std::sync::Mutex<Vec<(&'static str, usize, Duration)>>,
}

#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// How long to retry a delete that AWS refuses because something still uses the
    /// object (`DependencyViolation`), such as interfaces that linger after a load balancer.
    pub delete: Duration,
    /// How long a just-created object may stay invisible or not yet ready.
    pub ready: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts { delete: Duration::from_secs(600), ready: Duration::from_secs(300) }
    }
}

impl Aws {
    pub fn region(&self) -> &str {
        &self.region
    }

    /// The EC2 client, for tests that change objects outside trellis.
    pub fn ec2(&self) -> &aws_sdk_ec2::Client {
        &self.ec2
    }

    /// The Elastic Load Balancing (v2) client, for tests.
    pub fn elb(&self) -> &aws_sdk_elasticloadbalancingv2::Client {
        &self.elb
    }

    /// The Auto Scaling client, for tests.
    pub fn autoscaling(&self) -> &aws_sdk_autoscaling::Client {
        &self.asg
    }

    /// The RDS client, for tests.
    pub fn rds(&self) -> &aws_sdk_rds::Client {
        &self.rds
    }

    /// The SSM client, for tests.
    pub fn ssm(&self) -> &aws_sdk_ssm::Client {
        &self.ssm
    }

    /// The CloudWatch client, for tests.
    pub fn cloudwatch(&self) -> &aws_sdk_cloudwatch::Client {
        &self.cw
    }

    /// The IAM client, for tests.
    pub fn iam(&self) -> &aws_sdk_iam::Client {
        &self.iam
    }

    /// How long the last refresh's read of each kind took, with the objects it found
    /// (the kinds are read at once, so these overlap): for `--timings`.
    pub fn read_times(&self) -> Vec<(&'static str, usize, Duration)> {
        self.read_times.lock().expect("read times").clone()
    }

    /// API calls made so far.
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::Relaxed)
    }

    /// Waits for the call's rate-limit token and counts the call.
    pub(crate) async fn call(&self, class: limits::Call) {
        self.limits.take(class).await;
        self.count_call();
    }

    /// Counts a call about to be made (and, under the crash hook, dies before it).
    pub(crate) fn count_call(&self) {
        let n = self.calls.fetch_add(1, Ordering::Relaxed) + 1;
        if self.crash_after.is_some_and(|limit| n > limit) {
            let pid = std::process::id().to_string();
            let _ = std::process::Command::new("kill").args(["-KILL", &pid]).status();
            std::process::abort();
        }
    }

    /// Tells the person watching what is being waited for (the session's progress lines).
    pub fn say(&self, line: &str) {
        if let Some(p) = &self.progress {
            p(line);
        }
    }

    fn kind_of(kind: &trellis_core::schema::Kind) -> Result<kinds::KindOps, ProviderError> {
        kinds::ops(kind)
            .ok_or_else(|| ProviderError::new(None, format!("trellis-aws has no support for kind `{kind}`")))
    }
}

/// One object as a describe call returned it, before it is matched to an address.
pub(crate) struct Described {
    pub id: String,
    pub tags: BTreeMap<String, String>,
    pub attrs: Attrs,
}

impl Described {
    fn address(&self) -> Option<Address> {
        self.tags.get(TAG_ADDRESS).and_then(|a| Address::from_tag(a).ok())
    }
}

impl Provider for Aws {
    async fn refresh(&self, req: RefreshRequest) -> Result<RefreshResult, ProviderError> {
        let mut result = RefreshResult::default();
        // Ids are unique within a kind only: RDS names a subnet group and a database alike.
        let known_ids: BTreeMap<(&str, &str), &Address> =
            req.known.iter().map(|(a, id)| ((a.kind.name, id.as_str()), a)).collect();
        // One tag-filtered, paginated read per kind, all kinds at once.
        let (stack, known, by_id_only) = (&req.stack, &req.known, req.by_id_only);
        let reads = req.kinds.iter().map(|k| async move {
            let started = std::time::Instant::now();
            let ops = Self::kind_of(k)?;
            let wanted: Vec<String> = known.iter().filter(|(a, _)| a.kind == *k).map(|(_, id)| id.clone()).collect();
            let mut found =
                if by_id_only { Vec::new() } else { ops.describe(self, util::Select::Stack(stack)).await? };
            // Objects of the state whose tags were removed: one more read, by id.
            let seen: BTreeSet<&str> = found.iter().map(|d| d.id.as_str()).collect();
            let missing: Vec<String> = wanted.iter().filter(|id| !seen.contains(id.as_str())).cloned().collect();
            if !missing.is_empty() {
                found.extend(ops.describe(self, util::Select::Ids(&missing)).await?);
            }
            Ok::<_, ProviderError>((*k, found, started.elapsed()))
        });
        let per_kind = futures_util::future::try_join_all(reads).await?;
        *self.read_times.lock().expect("read times") =
            per_kind.iter().map(|(k, found, took)| (k.name, found.len(), *took)).collect();
        for (kind, objects, _) in per_kind {
            for d in objects {
                match known_ids.get(&(kind.name, d.id.as_str())) {
                    Some(address) => {
                        if let Some(tagged) = d.address() {
                            result.tagged.insert((*address).clone(), tagged);
                        }
                        result.found.insert(
                            (*address).clone(),
                            LiveObject { address: (*address).clone(), id: d.id, attrs: d.attrs },
                        );
                    }
                    None => {
                        if let Some(address) = d.address() {
                            result.orphans.push(LiveObject { address, id: d.id, attrs: d.attrs });
                        }
                    }
                }
            }
        }
        // AWS has just shown these objects: a "not found" naming one in the next two
        // minutes is a call AWS has not caught up with (a killed run's objects are
        // seconds old), not an object that is gone.
        for id in result.found.values().map(|o| &o.id).chain(result.orphans.iter().map(|o| &o.id)) {
            self.recent.touch(id);
        }
        Ok(result)
    }

    async fn create(
        &self,
        stack: &str,
        address: &Address,
        attrs: &Attrs,
        replacing: &[String],
    ) -> Result<LiveObject, CreateError> {
        let ops = Self::kind_of(address.kind)?;
        let id = self.create_call(ops, stack, address, attrs, replacing).await?;
        self.recent.touch(&id);
        // From here on the object exists: every failure must hand its id back.
        let finish = async {
            ops.configure(self, &id, attrs).await?;
            self.read_back(address, &id, ops).await
        };
        match finish.await {
            Ok(obj) => Ok(obj),
            Err(error) => {
                let created = self.read_back(address, &id, ops).await.unwrap_or_else(|_| LiveObject {
                    address: address.clone(),
                    id: id.clone(),
                    attrs: Attrs::new(),
                });
                Err(CreateError { created: Some(created), error })
            }
        }
    }

    async fn update(
        &self,
        _stack: &str,
        address: &Address,
        id: &str,
        before: &Attrs,
        after: &Attrs,
    ) -> Result<LiveObject, ProviderError> {
        let ops = Self::kind_of(address.kind)?;
        self.recent.touch(id);
        ops.update(self, id, before, after).await?;
        ops.sync_tags(self, id, before.get("tags"), after.get("tags")).await?;
        self.read_back(address, id, ops).await
    }

    async fn retag(
        &self,
        stack: &str,
        address: &Address,
        id: &str,
        attrs: &Attrs,
        managed: bool,
    ) -> Result<(), ProviderError> {
        let ops = Self::kind_of(address.kind)?;
        self.recent.touch(id);
        let ours = |address: &str| {
            let tags = [(TAG_STACK, stack), (TAG_ADDRESS, address)];
            trellis_core::Value::Map(
                tags.into_iter().map(|(k, v)| (k.to_string(), trellis_core::Value::str(v))).collect(),
            )
        };
        let tag = address.tag_value();
        // Setting both tags is enough to move; removing needs them named as they are.
        let (before, after) = if managed { (None, Some(ours(&tag))) } else { (Some(ours(&tag)), None) };
        ops.retag(self, id, attrs, before.as_ref(), after.as_ref()).await
    }

    async fn delete(&self, address: &Address, id: &str, attrs: &Attrs) -> Result<(), ProviderError> {
        let ops = Self::kind_of(address.kind)?;
        // From now on "not found" means gone, not "not visible yet".
        self.recent.forget(id);
        ops.delete(self, address, id, attrs).await
    }
}

/// How many times a create is sent at most (throttled, or after a lost answer that no
/// look-up explained).
const CREATE_ATTEMPTS: u32 = 8;

/// A fresh idempotency token (AWS takes up to 64 ASCII characters).
fn client_token() -> String {
    use std::hash::{BuildHasher, Hasher};
    let part = || {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos());
        h.finish()
    };
    format!("trellis-{:016x}{:016x}", part(), part())
}

impl Aws {
    /// The create call of a kind, sent so that nothing is made twice: the SDK never
    /// resends it; when its outcome is unknown (a 5xx, a reset, an unreadable answer) or
    /// AWS says the object exists, the object is looked up by its tags first, taken if
    /// found, and only then is the create sent again (with the same `ClientToken`
    /// where the call takes one).
    async fn create_call(
        &self,
        ops: kinds::KindOps,
        stack: &str,
        address: &Address,
        attrs: &Attrs,
        replacing: &[String],
    ) -> Result<String, ProviderError> {
        use errors::Class;
        let token = client_token();
        let generated = address.kind.generated_name.is_some_and(|name| !attrs.contains_key(name));
        let mut suffix = false;
        let mut delay = Duration::from_millis(500);
        let start = std::time::Instant::now();
        for attempt in 1.. {
            let c = kinds::Create { stack, address, attrs, token: &token, suffix };
            let e = match ops.create(self, &c).await {
                Ok(id) => return Ok(id),
                Err(e) => e,
            };
            let class = errors::class_of(&e, &self.recent);
            self.stats.count(class);
            match class {
                Class::Throttling => {}
                Class::EventualConsistency if start.elapsed() < errors::PROPAGATION => {
                    self.say(&format!("{address}: waiting for what it refers to to become visible ({e})"));
                }
                Class::Transient if ops.create_is_idempotent() => {}
                Class::Transient | Class::Exists => {
                    let why = if class == Class::Exists { "AWS says it exists" } else { "its outcome is unknown" };
                    self.say(&format!("{address}: create answered {e}; {why}, looking for the object by its tags"));
                    if let Some(id) = self.look_for(ops, &c, replacing).await? {
                        self.stats.adopted.fetch_add(1, Ordering::Relaxed);
                        self.say(&format!("{address}: found {id}, made by the earlier attempt; taking it"));
                        return Ok(id);
                    }
                    if class == Class::Exists {
                        if !generated || suffix {
                            return Err(e);
                        }
                        // The generated name belongs to the object this one replaces.
                        suffix = true;
                        continue;
                    }
                    self.stats.resent.fetch_add(1, Ordering::Relaxed);
                    self.say(&format!("{address}: not found; sending the create again"));
                }
                _ => return Err(e),
            }
            if attempt >= CREATE_ATTEMPTS {
                return Err(e);
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_secs(16));
        }
        unreachable!("the loop returns")
    }

    /// The object a create with an unknown outcome may have made: tagged with its
    /// address, and none of the objects it replaces. Asked a few times, since a new
    /// object can take a moment to show in AWS's listings.
    async fn look_for(
        &self,
        ops: kinds::KindOps,
        c: &kinds::Create<'_>,
        replacing: &[String],
    ) -> Result<Option<String>, ProviderError> {
        for wait in [0, 2, 4] {
            tokio::time::sleep(Duration::from_secs(wait)).await;
            let found = match ops.find_created(self, c).await {
                Ok(found) => found,
                // A listed object that its own reads do not show yet: ask again.
                Err(e) if util::is_code(&e, util::NOT_FOUND) && wait < 4 => continue,
                Err(e) => return Err(e),
            };
            if let Some(d) =
                found.into_iter().find(|d| d.address().as_ref() == Some(c.address) && !replacing.contains(&d.id))
            {
                return Ok(Some(d.id));
            }
        }
        Ok(None)
    }

    /// What the retries did so far.
    pub fn retry_stats(&self) -> &RetryStats {
        &self.stats
    }

    /// Reads one object by id, waiting while AWS does not show it yet.
    async fn read_back(&self, address: &Address, id: &str, ops: kinds::KindOps) -> Result<LiveObject, ProviderError> {
        let ids = [id.to_string()];
        let found = util::retry_until(
            self,
            self.timeouts.ready,
            &format!("{address}: waiting for {id} to be readable"),
            || async {
                let mut all = ops.describe(self, util::Select::Ids(&ids)).await?;
                Ok(all.pop())
            },
        )
        .await?;
        Ok(LiveObject { address: address.clone(), id: id.to_string(), attrs: found.attrs })
    }
}
