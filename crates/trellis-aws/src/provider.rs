//! The `Provider` implementation: the batched refresh, the create loop that never
//! makes an object twice, read-back, update, retag and delete, each through the kind's
//! module in `kinds/`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::Ordering;
use std::time::Duration;

use trellis_core::{Address, Attrs, CreateError, LiveObject, Provider, ProviderError, RefreshRequest, RefreshResult};

use crate::aws::Aws;
use crate::progress::Event;
use crate::{errors, kinds, util, RetryStats, TAG_ADDRESS, TAG_STACK};

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
                        // Only an object of the kind its tag names is an orphan: an
                        // instance a group launched carries the group's tags (propagated
                        // at launch), and belongs to the group, never to its address.
                        if let Some(address) = d.address().filter(|a| a.kind == kind) {
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

    async fn set_together(
        &self,
        kind: &'static trellis_core::schema::Kind,
        attr: &str,
        objects: &[(Address, String, trellis_core::Value)],
    ) -> Result<(), ProviderError> {
        let ops = Self::kind_of(kind)?;
        let pairs: Vec<(String, trellis_core::Value)> =
            objects.iter().map(|(_, id, v)| (id.clone(), v.clone())).collect();
        ops.set_together(self, attr, &pairs).await
    }

    async fn delete(&self, address: &Address, id: &str, attrs: &Attrs) -> Result<(), ProviderError> {
        let ops = Self::kind_of(address.kind)?;
        // From now on "not found" means gone, not "not visible yet".
        self.recent.forget(id);
        ops.delete(self, address, id, attrs).await?;
        self.read_back_gone(id, ops).await
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
        ops: &dyn kinds::AwsKind,
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
                    self.tell(Event::ReferenceNotVisible { address: address.to_string(), error: e.to_string() });
                }
                Class::Transient if ops.create_is_idempotent() => {}
                Class::Transient | Class::Exists => {
                    let exists = class == Class::Exists;
                    self.tell(Event::CreateUnclear { address: address.to_string(), error: e.to_string(), exists });
                    if let Some(id) = self.look_for(ops, &c, replacing).await? {
                        self.stats.adopted.fetch_add(1, Ordering::Relaxed);
                        self.tell(Event::CreateFound { address: address.to_string(), id: id.clone() });
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
                    self.tell(Event::CreateResent { address: address.to_string() });
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
        ops: &dyn kinds::AwsKind,
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
    async fn read_back(
        &self,
        address: &Address,
        id: &str,
        ops: &dyn kinds::AwsKind,
    ) -> Result<LiveObject, ProviderError> {
        let ids = [id.to_string()];
        let found = util::retry_until(
            self,
            self.timeouts.ready,
            &format!("{address}: {id}"),
            crate::Until::Readable,
            || async {
                let mut all = ops.describe(self, util::Select::Ids(&ids)).await?;
                Ok(all.pop())
            },
        )
        .await?;
        Ok(LiveObject { address: address.clone(), id: id.to_string(), attrs: found.attrs })
    }
}

/// How long a deleted object may still be shown before its delete is called undone.
/// AWS shows a delete at once or within seconds (the kinds whose deletes take longer
/// wait for them, and their reads leave out what is being deleted).
const GONE_WITHIN: Duration = Duration::from_secs(30);

impl Aws {
    /// Reads a deleted object back through its kind's read by id: a delete AWS accepted
    /// but did not carry out (moto once ignored a scaling policy's by ARN) fails the
    /// resource, which then stays in the state, instead of being forgotten while it
    /// still exists.
    async fn read_back_gone(&self, id: &str, ops: &dyn kinds::AwsKind) -> Result<(), ProviderError> {
        let ids = [id.to_string()];
        let start = std::time::Instant::now();
        let mut delay = Duration::from_millis(250);
        loop {
            let still = match ops.describe(self, util::Select::Ids(&ids)).await {
                Ok(found) => found.into_iter().any(|d| d.id == id),
                Err(e) if util::is_code(&e, util::NOT_FOUND) => false,
                Err(e) => return Err(e),
            };
            if !still {
                return Ok(());
            }
            if start.elapsed() >= GONE_WITHIN {
                return Err(ProviderError::new(
                    Some("DeleteNotDone"),
                    format!(
                        "{id} is still there {}s after AWS accepted its delete; it stays in the state",
                        GONE_WITHIN.as_secs()
                    ),
                ));
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_secs(4));
        }
    }
}

impl Aws {
    fn kind_of(kind: &trellis_core::schema::Kind) -> Result<&'static dyn kinds::AwsKind, ProviderError> {
        kinds::ops(kind)
            .ok_or_else(|| ProviderError::new(None, format!("trellis-aws has no support for kind `{kind}`")))
    }
}
