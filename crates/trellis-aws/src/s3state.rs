//! The S3 state store: the state document is one object, its lock another (`<key>.lock`),
//! and each journal entry one more (`<key>.journal/<serial>/<seq>`, deleted by the next
//! full write).
//!
//! Both rely on S3's conditional writes. The lock is created with `If-None-Match: *`, so
//! of two runs exactly one gets it; the state is written with `If-Match` on the ETag it
//! was read at (or `If-None-Match: *` when there was none), so a write based on an old
//! read is refused even when a lock was broken. A refused or failed write leaves this
//! run's state in a local rescue file, never only in memory.
//!
//! [`StateStore`] is synchronous (the local store is plain file IO); the S3 calls run on
//! a small runtime of their own, so the store works from async code and from plain
//! commands alike.

use std::future::Future;
use std::path::PathBuf;
use std::sync::{mpsc, Arc, Mutex, OnceLock};
use std::time::Duration;

use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;
use trellis_core::ProviderError;
use trellis_state::{now_secs, parse_state, write_private, Line, LockInfo, State, StateError, StateLock, StateStore};

use crate::client::load_config;
use crate::util::aws_err;

/// Where a stack's state lives in S3.
#[derive(Debug, Clone, Default)]
pub struct S3Options {
    pub bucket: String,
    pub key: String,
    /// The bucket's region; without it the stack's region, then aws-config's rules.
    pub region: Option<String>,
    /// `--endpoint-url`; without it aws-config honours `AWS_ENDPOINT_URL`.
    pub endpoint_url: Option<String>,
    /// A lock not renewed for this long is reported as stale; a lock this store holds is
    /// renewed every third of it.
    pub lock_lease: Option<Duration>,
    /// Where a state the bucket refused is kept [default: the current directory].
    pub rescue_dir: Option<PathBuf>,
}

/// What this store last saw of the state object: the version its next write must replace.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Seen {
    /// Not read yet, or read and absent: a write must create the object.
    Nothing,
    /// Read (or written) at this ETag.
    At(String),
}

pub struct S3Store {
    client: aws_sdk_s3::Client,
    region: String,
    bucket: String,
    key: String,
    lease: Option<Duration>,
    rescue_dir: PathBuf,
    seen: Mutex<Seen>,
}

/// Runs `fut` to completion on the store's own runtime, from any thread or runtime.
fn block<F>(fut: F) -> Result<F::Output, String>
where
    F: Future + Send,
    F::Output: Send,
{
    static RUNTIME: OnceLock<Result<tokio::runtime::Runtime, String>> = OnceLock::new();
    let rt = RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .thread_name("trellis-s3")
                .enable_all()
                .build()
                .map_err(|e| format!("cannot start the S3 client's runtime: {e}"))
        })
        .as_ref()
        .map_err(Clone::clone)?;
    std::thread::scope(|s| s.spawn(|| rt.block_on(fut)).join()).map_err(|_| "the S3 call's thread died".to_string())
}

/// An SDK error, and whether it is S3's answer to a failed condition (HTTP 412).
fn s3_err<E>(e: SdkError<E, HttpResponse>) -> (ProviderError, bool)
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let precondition =
        e.raw_response().is_some_and(|r| r.status().as_u16() == 412) || e.code() == Some("PreconditionFailed");
    (aws_err(e), precondition)
}

fn is_missing(e: &ProviderError) -> bool {
    matches!(e.code.as_deref(), Some("NoSuchKey" | "NotFound"))
}

impl S3Store {
    /// Loads the AWS configuration (credential chain, region rules) and builds the client;
    /// no call is made yet. A custom endpoint gets path-style addressing, which
    /// S3-compatible servers expect.
    pub fn connect(opts: S3Options) -> Result<S3Store, StateError> {
        let location = format!("s3://{}/{}", opts.bucket, opts.key);
        let config = block(load_config(opts.region.as_deref(), opts.endpoint_url.as_deref()))
            .map_err(|message| StateError::Remote { path: location.clone(), message, rescued: None })?;
        let Some(region) = config.region().map(|r| r.to_string()) else {
            return Err(StateError::Remote {
                path: location,
                message: "no AWS region for the state bucket: set `backend.s3.region` or `region:` in the spec, \
                          or AWS_REGION"
                    .into(),
                rescued: None,
            });
        };
        let s3 = aws_sdk_s3::config::Builder::from(&config).force_path_style(config.endpoint_url().is_some()).build();
        Ok(S3Store {
            client: aws_sdk_s3::Client::from_conf(s3),
            region,
            bucket: opts.bucket,
            key: opts.key,
            lease: opts.lock_lease,
            rescue_dir: opts.rescue_dir.unwrap_or_default(),
            seen: Mutex::new(Seen::Nothing),
        })
    }

    /// The S3 client, for tests that look at the bucket behind trellis's back.
    pub fn client(&self) -> &aws_sdk_s3::Client {
        &self.client
    }

    fn lock_key(&self) -> String {
        format!("{}.lock", self.key)
    }

    /// Where the journal entries after the document of `serial` are kept (all of them
    /// without a serial).
    fn journal_prefix(&self, serial: Option<u64>) -> String {
        match serial {
            Some(serial) => format!("{}.journal/{serial:016}/", self.key),
            None => format!("{}.journal/", self.key),
        }
    }

    /// The keys under `prefix`, sorted.
    fn list(&self, prefix: &str) -> Result<Vec<String>, StateError> {
        let mut keys = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let request =
                self.client.list_objects_v2().bucket(&self.bucket).prefix(prefix).set_continuation_token(token.take());
            let out = block(request.send()).map_err(|m| self.remote(m))?.map_err(|e| self.remote(aws_err(e)))?;
            keys.extend(out.contents().iter().filter_map(|o| o.key().map(str::to_string)));
            match out.next_continuation_token() {
                Some(next) if out.is_truncated() == Some(true) => token = Some(next.to_string()),
                _ => break,
            }
        }
        keys.sort();
        Ok(keys)
    }

    /// Plays the journal entries stored after `state`'s document over it, read 16 at a
    /// time, in order.
    fn replay(&self, state: &mut State) -> Result<(), StateError> {
        let keys = self.list(&self.journal_prefix(Some(state.serial)))?;
        for chunk in keys.chunks(16) {
            let bodies = block(futures_util::future::join_all(chunk.iter().map(|key| async move {
                let out = self.client.get_object().bucket(&self.bucket).key(key).send().await.map_err(aws_err)?;
                let bytes = out.body.collect().await.map_err(|e| ProviderError::new(None, e.to_string()))?;
                Ok::<_, ProviderError>(bytes.into_bytes())
            })))
            .map_err(|m| self.remote(m))?;
            for (key, body) in chunk.iter().zip(bodies) {
                let body = body.map_err(|e| self.remote(format!("reading s3://{}/{key} failed: {e}", self.bucket)))?;
                let mut line: Line = serde_json::from_slice(&body).map_err(|source| StateError::Journal {
                    path: format!("s3://{}/{key}", self.bucket),
                    line: 1,
                    source,
                })?;
                line.upgrade();
                state.play_line(&line);
            }
        }
        Ok(())
    }

    /// Deletes the journal entries a full write left behind. Entries of other serials
    /// are never played, so failing to delete those is harmless (the next full write
    /// tries again); entries that would follow `serial` must go.
    fn clear_journal(&self, serial: u64) -> Result<(), StateError> {
        let keys = self.list(&self.journal_prefix(None))?;
        let mut failed = Vec::new();
        for chunk in keys.chunks(1000) {
            let ids: Vec<_> = chunk
                .iter()
                .filter_map(|k| aws_sdk_s3::types::ObjectIdentifier::builder().key(k).build().ok())
                .collect();
            let Ok(delete) = aws_sdk_s3::types::Delete::builder().set_objects(Some(ids)).quiet(true).build() else {
                continue;
            };
            let sent = block(self.client.delete_objects().bucket(&self.bucket).delete(delete).send());
            match sent {
                Ok(Ok(out)) => failed.extend(out.errors().iter().filter_map(|e| e.key().map(str::to_string))),
                _ => failed.extend(chunk.iter().cloned()),
            }
        }
        let live = self.journal_prefix(Some(serial));
        match failed.iter().find(|k| k.starts_with(&live)) {
            Some(key) => Err(self.remote(format!(
                "the state was written, but its journal entry s3://{}/{key} could not be deleted; delete the \
                 objects under s3://{}/{live} before the next run",
                self.bucket, self.bucket
            ))),
            None => Ok(()),
        }
    }

    fn remote(&self, e: impl std::fmt::Display) -> StateError {
        StateError::Remote { path: self.location(), message: format!("S3 {e}"), rescued: None }
    }

    /// The object at `key` and its ETag, or `None` when there is none.
    fn get(&self, key: &str) -> Result<Option<(Vec<u8>, String)>, StateError> {
        let got = block(async {
            let out = self.client.get_object().bucket(&self.bucket).key(key).send().await?;
            let etag = out.e_tag().unwrap_or_default().to_string();
            Ok((out.body.collect().await.map(|b| b.into_bytes().to_vec()), etag))
        })
        .map_err(|m| self.remote(m))?;
        match got {
            Ok((Ok(bytes), etag)) => Ok(Some((bytes, etag))),
            Ok((Err(e), _)) => Err(self.remote(format!("reading s3://{}/{key} failed: {e}", self.bucket))),
            Err(e) => match s3_err(e) {
                (e, _) if is_missing(&e) => Ok(None),
                (e, _) => Err(self.remote(e)),
            },
        }
    }

    /// The lock object's holder and ETag, if there is one. A lock object trellis cannot
    /// read is still a lock: its ETag is its id.
    fn read_lock(&self) -> Result<Option<(LockInfo, String)>, StateError> {
        Ok(self.get(&self.lock_key())?.map(|(bytes, etag)| {
            let info = serde_json::from_slice(&bytes).unwrap_or_else(|_| LockInfo::unknown(etag.trim_matches('"')));
            (info, etag)
        }))
    }

    /// Keeps this run's state on the local disk when the store refused it.
    fn rescue(&self, state: &State) -> Option<String> {
        let path = self.rescue_dir.join(format!("trellis-rescue-{}.json", state.stack));
        let text = serde_json::to_string_pretty(state).ok()? + "\n";
        write_private(&path, &text).ok()?;
        Some(path.display().to_string())
    }
}

/// A PutObject of the lock object holding `info`; the caller adds its condition.
fn put_lock(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    info: &LockInfo,
) -> aws_sdk_s3::operation::put_object::builders::PutObjectFluentBuilder {
    let body = serde_json::to_vec_pretty(info).expect("lock info serializes");
    client.put_object().bucket(bucket).key(key).content_type("application/json").body(ByteStream::from(body))
}

/// Deletes the lock object if it is still at `etag`: never a lock someone took since.
fn delete_lock(client: &aws_sdk_s3::Client, bucket: &str, key: &str, etag: String) -> Result<(), String> {
    match block(client.delete_object().bucket(bucket).key(key).if_match(etag).send())? {
        Ok(_) => Ok(()),
        Err(e) => Err(aws_err(e).to_string()),
    }
}

/// The held lock object; deleted when dropped, only if it is still this run's. With a
/// lease, a thread renews it (a rewrite with `If-Match`, stamped `renewed`) every third
/// of the lease, so a run that lasts longer than its lease is not taken for a dead one.
struct S3Hold {
    client: aws_sdk_s3::Client,
    bucket: String,
    key: String,
    etag: Arc<Mutex<String>>,
    renewer: Option<(mpsc::Sender<()>, std::thread::JoinHandle<()>)>,
}

impl S3Hold {
    fn new(store: &S3Store, etag: String, info: &LockInfo) -> S3Hold {
        let mut hold = S3Hold {
            client: store.client.clone(),
            bucket: store.bucket.clone(),
            key: store.lock_key(),
            etag: Arc::new(Mutex::new(etag)),
            renewer: None,
        };
        if let Some(lease) = store.lease {
            let every = (lease / 3).max(Duration::from_secs(1));
            let (stop, stopped) = mpsc::channel::<()>();
            let (client, bucket, key, etag) =
                (hold.client.clone(), hold.bucket.clone(), hold.key.clone(), hold.etag.clone());
            let mut info = info.clone();
            let thread = std::thread::spawn(move || {
                while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(every) {
                    info.renewed = Some(now_secs());
                    let current = etag.lock().unwrap_or_else(|p| p.into_inner()).clone();
                    match block(put_lock(&client, &bucket, &key, &info).if_match(current).send()) {
                        Ok(Ok(out)) => {
                            *etag.lock().unwrap_or_else(|p| p.into_inner()) =
                                out.e_tag().unwrap_or_default().to_string()
                        }
                        Ok(Err(e)) => {
                            if !s3_err(e).1 {
                                continue; // a failed renewal is tried again at the next tick
                            }
                            eprintln!(
                                "warning: the state lock s3://{bucket}/{key} was broken by someone else. This run goes \
                                 on: its state writes are conditional on the version it read, so should another run \
                                 write the state, they are refused and kept in a rescue file."
                            );
                            return;
                        }
                        Err(_) => {}
                    }
                }
            });
            hold.renewer = Some((stop, thread));
        }
        hold
    }
}

impl Drop for S3Hold {
    fn drop(&mut self) {
        if let Some((stop, thread)) = self.renewer.take() {
            drop(stop);
            let _ = thread.join();
        }
        let etag = self.etag.lock().unwrap_or_else(|p| p.into_inner()).clone();
        if let Err(why) = delete_lock(&self.client, &self.bucket, &self.key, etag) {
            // Nothing to return to from a drop: say it where the user looks.
            eprintln!(
                "warning: could not release the state lock s3://{}/{}: {why}. The next run will show it; \
                 `trellis force-unlock` breaks it.",
                self.bucket, self.key
            );
        }
    }
}

impl StateStore for S3Store {
    fn location(&self) -> String {
        format!("s3://{}/{}", self.bucket, self.key)
    }

    fn poll_interval(&self) -> Duration {
        Duration::from_secs(1)
    }

    fn staleness(&self, holder: &LockInfo) -> Option<String> {
        holder.staleness(self.lease, now_secs())
    }

    fn region(&self) -> Option<String> {
        Some(self.region.clone())
    }

    fn lock(&self, operation: &str) -> Result<StateLock, StateError> {
        // A lock deleted between our failed create and our read is simply retried; S3
        // answers 409 to a create racing another one, which is retried too.
        for _ in 0..5 {
            let info = LockInfo::here(operation);
            let put = block(put_lock(&self.client, &self.bucket, &self.lock_key(), &info).if_none_match("*").send())
                .map_err(|m| self.remote(m))?;
            match put {
                Ok(out) => {
                    let hold = S3Hold::new(self, out.e_tag().unwrap_or_default().to_string(), &info);
                    return Ok(StateLock::new(info, hold));
                }
                Err(e) => {
                    let (e, precondition) = s3_err(e);
                    if e.code.as_deref() == Some("ConditionalRequestConflict") {
                        std::thread::sleep(Duration::from_millis(200));
                        continue;
                    }
                    if !precondition {
                        return Err(self.remote(e));
                    }
                    if let Some((holder, _)) = self.read_lock()? {
                        let stale = self.staleness(&holder);
                        return Err(StateError::Locked { path: self.location(), holder: Box::new(holder), stale });
                    }
                }
            }
        }
        Err(self.remote("the lock object keeps changing; try again"))
    }

    fn holder(&self) -> Result<Option<LockInfo>, StateError> {
        Ok(self.read_lock()?.map(|(info, _)| info))
    }

    fn force_unlock(&self, id: &str) -> Result<LockInfo, StateError> {
        let Some((holder, etag)) = self.read_lock()? else {
            return Err(StateError::NotLocked { path: self.location() });
        };
        if holder.id != id {
            return Err(StateError::OtherLock {
                path: self.location(),
                holder: Box::new(holder),
                given: id.to_string(),
            });
        }
        // If-Match: a lock taken anew since we read it is not the one the user named.
        delete_lock(&self.client, &self.bucket, &self.lock_key(), etag).map_err(|m| self.remote(m))?;
        Ok(holder)
    }

    fn read(&self, stack: &str) -> Result<Option<State>, StateError> {
        let got = self.get(&self.key)?;
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        let Some((bytes, etag)) = got else {
            *seen = Seen::Nothing;
            return Ok(None);
        };
        let text = String::from_utf8(bytes).map_err(|_| self.remote("the state object is not UTF-8 text"))?;
        let mut state = parse_state(&text, &self.location(), stack)?;
        *seen = Seen::At(etag);
        drop(seen);
        self.replay(&mut state)?;
        Ok(Some(state))
    }

    fn put(&self, _lock: &StateLock, state: &State) -> Result<(), StateError> {
        let text = serde_json::to_string_pretty(state).expect("state serializes") + "\n";
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        let request = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(&self.key)
            .content_type("application/json")
            .body(ByteStream::from(text.into_bytes()));
        let (request, read_at) = match &*seen {
            Seen::At(etag) => (request.if_match(etag.clone()), format!("it was read at ETag {etag}")),
            Seen::Nothing => (request.if_none_match("*"), "there was none when this run read it".to_string()),
        };
        match block(request.send()) {
            Ok(Ok(out)) => {
                *seen = Seen::At(out.e_tag().unwrap_or_default().to_string());
                drop(seen);
                self.clear_journal(state.serial)
            }
            Ok(Err(e)) => {
                let rescued = self.rescue(state);
                match s3_err(e) {
                    (_, true) => Err(StateError::Conflict { path: self.location(), detail: read_at, rescued }),
                    (e, false) => {
                        Err(StateError::Remote { path: self.location(), message: format!("S3 {e}"), rescued })
                    }
                }
            }
            Err(message) => Err(StateError::Remote { path: self.location(), message, rescued: self.rescue(state) }),
        }
    }

    /// A new object per entry, created with `If-None-Match: *`: an entry already there
    /// was written by another run at the same serial, whose lock this one broke.
    fn append(&self, _lock: &StateLock, line: &Line, state: &State) -> Result<(), StateError> {
        let key = format!("{}{:010}", self.journal_prefix(Some(line.serial)), line.seq);
        let request = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(&key)
            .content_type("application/json")
            .if_none_match("*")
            .body(ByteStream::from(line.to_json().into_bytes()));
        match block(request.send()) {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => {
                let rescued = self.rescue(state);
                match s3_err(e) {
                    (_, true) => Err(StateError::Conflict {
                        path: self.location(),
                        detail: format!("another run wrote the journal entry s3://{}/{key}", self.bucket),
                        rescued,
                    }),
                    (e, false) => {
                        Err(StateError::Remote { path: self.location(), message: format!("S3 {e}"), rescued })
                    }
                }
            }
            Err(message) => Err(StateError::Remote { path: self.location(), message, rescued: self.rescue(state) }),
        }
    }
}
