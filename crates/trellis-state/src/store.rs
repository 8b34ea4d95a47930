use std::any::Any;
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::{replay_text, Line, State, StateError, FORMAT_VERSION};

/// Who holds a state lock, written into the lock (file or object) so a second run can
/// say who, where, since when and for what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockInfo {
    pub id: String,
    pub operation: String,
    /// The user who ran it (`$USER`).
    #[serde(default)]
    pub who: String,
    pub pid: u32,
    pub host: String,
    /// Seconds since the Unix epoch.
    pub since: u64,
    /// When the holder last renewed a remote lock (seconds since the Unix epoch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renewed: Option<u64>,
}

impl fmt::Display for LockInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}`", self.operation)?;
        if !self.who.is_empty() {
            write!(f, " by {}", self.who)?;
        }
        if self.since == 0 {
            return write!(f, " (lock id {})", self.id);
        }
        write!(f, " (process {} on {}, since {} UTC, lock id {})", self.pid, self.host, format_utc(self.since), self.id)
    }
}

impl LockInfo {
    /// A new holder record for this process.
    pub fn here(operation: &str) -> LockInfo {
        LockInfo {
            id: uuid::Uuid::new_v4().to_string(),
            operation: operation.to_string(),
            who: std::env::var("USER").or_else(|_| std::env::var("USERNAME")).unwrap_or_default(),
            pid: std::process::id(),
            host: hostname(),
            since: now_secs(),
            renewed: None,
        }
    }

    /// Why this lock looks abandoned, if it does: its process ran on this machine and is
    /// gone, or it is older than `lease`. Only a report: breaking it is the user's call.
    pub fn staleness(&self, lease: Option<Duration>, now: u64) -> Option<String> {
        if self.since == 0 {
            return Some("it names no holder trellis can read".into());
        }
        if self.host == hostname() && self.pid != 0 && !process_alive(self.pid) {
            return Some(format!("its process {} on this machine is gone", self.pid));
        }
        let (what, at) = match self.renewed {
            Some(at) => ("last renewed", at),
            None => ("taken", self.since),
        };
        let age = now.saturating_sub(at);
        match lease {
            Some(lease) if age > lease.as_secs() => Some(format!(
                "it was {what} {} ago, longer than the lock lease of {}",
                humanize(age),
                humanize(lease.as_secs())
            )),
            _ => None,
        }
    }

    /// A lock whose record cannot be read, known only by `id`.
    pub fn unknown(id: &str) -> LockInfo {
        LockInfo {
            id: id.to_string(),
            operation: "unknown (the lock holds no trellis record)".into(),
            who: String::new(),
            pid: 0,
            host: "unknown".into(),
            since: 0,
            renewed: None,
        }
    }
}

fn humanize(secs: u64) -> String {
    match secs {
        s if s < 120 => format!("{s}s"),
        s if s < 7200 => format!("{}m", s / 60),
        s => format!("{}h{:02}m", s / 3600, s % 3600 / 60),
    }
}

fn process_alive(pid: u32) -> bool {
    if cfg!(target_os = "linux") {
        Path::new(&format!("/proc/{pid}")).exists()
    } else {
        true // no dependable check here: never call a lock stale for this reason
    }
}

/// Seconds since the Unix epoch.
pub fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

fn format_utc(secs: u64) -> String {
    // Civil date from days since the epoch (Howard Hinnant's algorithm).
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// Where a stack's state is kept: a local file or a remote object. Every store locks,
/// reads and writes the same [`State`] document.
///
/// Architecture invariant: whoever writes a state holds its lock, and a remote write is
/// conditional on the version that was read, so even a broken lock cannot lose an update.
pub trait StateStore: Send + Sync {
    /// Where the state lives, for people: a path or `s3://bucket/key`.
    fn location(&self) -> String;
    /// Takes the lock at once, or fails naming its holder (and saying when it looks stale).
    fn lock(&self, operation: &str) -> Result<StateLock, StateError>;
    /// The stored state, or `None` when there is none yet.
    fn read(&self, stack: &str) -> Result<Option<State>, StateError>;
    /// Stores `state` exactly as given, serial included, with an empty journal after it.
    /// The caller holds `lock`.
    fn put(&self, lock: &StateLock, state: &State) -> Result<(), StateError>;
    /// Appends `line` to the journal of the stored document, durably: once it returns, a
    /// [`StateStore::read`] plays it. `state` is the state with the line played, for a
    /// store that must keep it elsewhere when it cannot append (S3's rescue file).
    fn append(&self, lock: &StateLock, line: &Line, state: &State) -> Result<(), StateError>;
    /// Who holds the lock now, if anyone.
    fn holder(&self) -> Result<Option<LockInfo>, StateError>;
    /// Breaks the lock whose id is `id`, returning who held it.
    fn force_unlock(&self, id: &str) -> Result<LockInfo, StateError>;
    /// How often a waiting run asks for the lock again.
    fn poll_interval(&self) -> Duration {
        Duration::from_millis(200)
    }
    /// Why `holder`'s lock looks abandoned, if it does (see [`LockInfo::staleness`]).
    fn staleness(&self, _holder: &LockInfo) -> Option<String> {
        None
    }
    /// The region of a remote store, to find it again from a saved plan.
    fn region(&self) -> Option<String> {
        None
    }

    /// Stores `state` with the next serial.
    fn write(&self, lock: &StateLock, state: &mut State) -> Result<(), StateError> {
        state.serial += 1;
        self.put(lock, state)
    }

    /// Takes the lock, waiting up to `timeout` while another run holds it
    /// (`--lock-timeout`); past that, fails naming the holder.
    fn lock_waiting(&self, operation: &str, timeout: Duration) -> Result<StateLock, StateError> {
        let start = std::time::Instant::now();
        loop {
            match self.lock(operation) {
                Err(StateError::Locked { .. }) if start.elapsed() < timeout => {
                    std::thread::sleep(self.poll_interval().min(timeout));
                }
                other => return other,
            }
        }
    }
}

/// An exclusive hold on a state, released when dropped. What it holds depends on the
/// store: an OS file lock (which the OS also frees when the process dies), or a lock
/// object.
#[derive(Debug)]
pub struct StateLock {
    pub info: LockInfo,
    _held: Box<dyn Any + Send + Sync>,
}

impl StateLock {
    /// A lock described by `info`, released when `held` is dropped.
    pub fn new(info: LockInfo, held: impl Any + Send + Sync) -> StateLock {
        StateLock { info, _held: Box::new(held) }
    }
}

/// Reads a state document: checks its format version and that it is `stack`'s.
pub fn parse_state(text: &str, location: &str, stack: &str) -> Result<State, StateError> {
    let path = location.to_string();
    let version: serde_json::Value =
        serde_json::from_str(text).map_err(|source| StateError::Parse { path: path.clone(), source })?;
    let found = version.get("format_version").and_then(|v| v.as_u64()).unwrap_or(0) as u32;
    if found != FORMAT_VERSION {
        return Err(StateError::Version { path, found });
    }
    let mut state: State =
        serde_json::from_value(version).map_err(|source| StateError::Parse { path: path.clone(), source })?;
    // Attributes an earlier trellis recorded under other names or shapes.
    for r in &mut state.resources {
        r.address.kind.upgrade_attrs(&mut r.attributes);
    }
    if state.stack != stack {
        return Err(StateError::OtherStack { path, found: state.stack, expected: stack.to_string() });
    }
    Ok(state)
}

/// Replaces `path` with `text` atomically: a temporary file (mode 0600, fsync), then a
/// rename, then an fsync of the directory.
pub fn write_private(path: &Path, text: &str) -> Result<(), StateError> {
    write_counted(path, text, &IoCounts::default())
}

/// What a local store has written since it was made: bytes, and fsyncs (of files and
/// directories). Shared by its clones; for `cargo xtask bench`'s journal figures.
#[derive(Debug, Default)]
pub struct IoCounts {
    bytes: AtomicU64,
    syncs: AtomicU64,
}

impl IoCounts {
    pub fn bytes(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }

    pub fn syncs(&self) -> u64 {
        self.syncs.load(Ordering::Relaxed)
    }

    fn wrote(&self, bytes: usize, syncs: u64) {
        self.bytes.fetch_add(bytes as u64, Ordering::Relaxed);
        self.syncs.fetch_add(syncs, Ordering::Relaxed);
    }
}

fn write_counted(path: &Path, text: &str, counts: &IoCounts) -> Result<(), StateError> {
    let dir = dir_of(path);
    fs::create_dir_all(dir).map_err(io(dir))?;
    let tmp = with_suffix(path, &format!(".tmp-{}", std::process::id()));
    {
        let mut opts = OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
        let mut f = opts.open(&tmp).map_err(io(&tmp))?;
        f.write_all(text.as_bytes()).map_err(io(&tmp))?;
        f.sync_all().map_err(io(&tmp))?;
    }
    fs::rename(&tmp, path).map_err(io(path))?;
    sync_dir(dir);
    counts.wrote(text.len(), 2);
    Ok(())
}

/// The directory `path` is in (`.` for a bare file name).
fn dir_of(path: &Path) -> &Path {
    path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."))
}

/// Makes a directory's entries (a file renamed or made there) durable.
fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// A state file on the local disk: `<path>`, its journal `<path>.journal` (a line per
/// entry), its backup `<path>.backup` and its lock `<path>.lock`.
#[derive(Debug, Clone)]
pub struct LocalStore {
    path: PathBuf,
    counts: Arc<IoCounts>,
}

/// The OS lock on a local state's lock file.
///
/// The file is never removed: a run waiting for the lock may have it open already, and
/// a removed file would let that run lock the old file while a newcomer locks a new one
/// at the same path, both holding "the" lock. Releasing empties the record instead.
struct LocalHold {
    file: File,
}

impl Drop for LocalHold {
    fn drop(&mut self) {
        let _ = self.file.set_len(0);
        let _ = self.file.unlock();
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> StateError + '_ {
    move |source| StateError::Io { path: path.display().to_string(), source }
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

impl LocalStore {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        LocalStore { path: path.into(), counts: Arc::default() }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What this store (and its clones) wrote so far.
    pub fn io_counts(&self) -> &IoCounts {
        &self.counts
    }

    pub fn journal_path(&self) -> PathBuf {
        with_suffix(&self.path, ".journal")
    }

    /// How to recover from a state file that no longer parses: its backup (the version
    /// before the last write), when that one is sound; else taking the objects back by
    /// their tags.
    fn restore_help(&self, stack: &str) -> String {
        let backup = self.backup_path();
        let sound = fs::read_to_string(&backup).ok().and_then(|t| parse_state(&t, "", stack).ok());
        match sound {
            Some(b) => format!(
                "{} holds the version before the last write (serial {}, {} object{}); to go back to it, run \
                 `cp {} {}`, then `trellis plan`: the plan shows what changed since (objects made after it \
                 are found by their tags and listed as orphans, for `trellis state adopt`)",
                backup.display(),
                b.serial,
                b.resources.len(),
                if b.resources.len() == 1 { "" } else { "s" },
                backup.display(),
                self.path.display()
            ),
            None => format!(
                "there is no readable backup ({}); move the broken file aside, then `trellis state adopt SPEC` \
                 records the stack's objects again from their tags",
                backup.display()
            ),
        }
    }

    pub fn backup_path(&self) -> PathBuf {
        with_suffix(&self.path, ".backup")
    }

    pub fn lock_path(&self) -> PathBuf {
        with_suffix(&self.path, ".lock")
    }

    fn open_lock_file(&self) -> Result<(File, PathBuf), StateError> {
        let path = self.lock_path();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::create_dir_all(dir).map_err(io(dir))?;
        }
        let file =
            OpenOptions::new().read(true).write(true).create(true).truncate(false).open(&path).map_err(io(&path))?;
        Ok((file, path))
    }
}

fn read_holder(file: &mut File) -> LockInfo {
    let mut text = String::new();
    let _ = file.read_to_string(&mut text);
    serde_json::from_str(&text).unwrap_or_else(|_| LockInfo::unknown("?"))
}

impl StateStore for LocalStore {
    fn location(&self) -> String {
        self.path.display().to_string()
    }

    /// The lock is an OS file lock, so a holder that died cannot leave it stuck.
    fn lock(&self, operation: &str) -> Result<StateLock, StateError> {
        let (mut file, path) = self.open_lock_file()?;
        match file.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                let holder = read_holder(&mut file);
                return Err(StateError::Locked { path: self.location(), holder: Box::new(holder), stale: None });
            }
            Err(fs::TryLockError::Error(e)) => return Err(io(&path)(e)),
        }
        let info = LockInfo::here(operation);
        let text = serde_json::to_string_pretty(&info).expect("lock info serializes");
        file.set_len(0).map_err(io(&path))?;
        file.seek(SeekFrom::Start(0)).map_err(io(&path))?;
        file.write_all(text.as_bytes()).map_err(io(&path))?;
        file.sync_all().map_err(io(&path))?;
        Ok(StateLock::new(info, LocalHold { file }))
    }

    fn holder(&self) -> Result<Option<LockInfo>, StateError> {
        if !self.lock_path().exists() {
            return Ok(None);
        }
        let (mut file, path) = self.open_lock_file()?;
        match file.try_lock() {
            Ok(()) => {
                let _ = file.unlock();
                Ok(None)
            }
            Err(fs::TryLockError::WouldBlock) => Ok(Some(read_holder(&mut file))),
            Err(fs::TryLockError::Error(e)) => Err(io(&path)(e)),
        }
    }

    /// A local lock is an OS lock: never stale, and only its own process frees it.
    fn force_unlock(&self, id: &str) -> Result<LockInfo, StateError> {
        match self.holder()? {
            None => Err(StateError::NotLocked { path: self.location() }),
            Some(holder) if holder.id != id => {
                Err(StateError::OtherLock { path: self.location(), holder: Box::new(holder), given: id.to_string() })
            }
            Some(holder) => Err(StateError::LiveLocalLock { path: self.location(), holder: Box::new(holder) }),
        }
    }

    fn read(&self, stack: &str) -> Result<Option<State>, StateError> {
        let text = match fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io(&self.path)(e)),
        };
        let mut state = match parse_state(&text, &self.location(), stack) {
            Err(StateError::Parse { path, source }) => {
                return Err(StateError::Damaged { help: self.restore_help(stack), path, source })
            }
            other => other?,
        };
        let journal = self.journal_path();
        match fs::read_to_string(&journal) {
            Ok(text) => {
                replay_text(&mut state, &text, &journal.display().to_string())?;
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io(&journal)(e)),
        }
        Ok(Some(state))
    }

    /// The previous version is copied to the backup first; then the new one replaces it
    /// atomically, and the journal is emptied. A crash before the journal is emptied
    /// leaves entries of the previous serial, which reads ignore.
    fn put(&self, _lock: &StateLock, state: &State) -> Result<(), StateError> {
        let text = serde_json::to_string_pretty(state).expect("state serializes") + "\n";
        if self.path.exists() {
            let backup = self.backup_path();
            let copied = fs::copy(&self.path, &backup).map_err(io(&backup))?;
            self.counts.wrote(copied as usize, 0);
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                fs::set_permissions(&backup, fs::Permissions::from_mode(0o600)).map_err(io(&backup))?;
            }
        }
        write_counted(&self.path, &text, &self.counts)?;
        let journal = self.journal_path();
        match OpenOptions::new().write(true).open(&journal) {
            Ok(f) if f.metadata().map_err(io(&journal))?.len() > 0 => {
                f.set_len(0).map_err(io(&journal))?;
                f.sync_all().map_err(io(&journal))?;
                self.counts.wrote(0, 1);
            }
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io(&journal)(e)),
        }
        Ok(())
    }

    /// One line at the end of `<path>.journal` (mode 0600), then an fsync of its data;
    /// the directory too when the journal file was new.
    fn append(&self, _lock: &StateLock, line: &Line, _state: &State) -> Result<(), StateError> {
        let path = self.journal_path();
        let mut opts = OpenOptions::new();
        opts.append(true).create(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
        let new = !path.exists();
        let mut f = opts.open(&path).map_err(io(&path))?;
        let text = line.to_json() + "\n";
        f.write_all(text.as_bytes()).map_err(io(&path))?;
        f.sync_data().map_err(io(&path))?;
        let mut syncs = 1;
        if new {
            sync_dir(dir_of(&path));
            syncs += 1;
        }
        self.counts.wrote(text.len(), syncs);
        Ok(())
    }
}

/// This machine's name, as lock records give it.
pub fn hostname() -> String {
    fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| fs::read_to_string("/etc/hostname"))
        .map(|s| s.trim().to_string())
        .ok()
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "localhost".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ResourceState;
    use trellis_core::Attrs;

    #[test]
    fn a_state_naming_an_unknown_kind_is_one_clear_error_and_an_old_kind_field_is_ignored() {
        let text = |address: &str| {
            format!(
                r#"{{"format_version": 1, "lineage": "l", "serial": 3, "stack": "web", "outputs": {{}},
                "resources": [{{"address": "{address}", "kind": "vpc", "id": "vpc-1", "attributes": {{}}, "dependencies": []}}]}}"#
            )
        };
        let old = parse_state(&text("vpc.main"), "web.json", "web").unwrap();
        assert_eq!(old.resources[0].address.kind.name, "vpc");
        let err = parse_state(&text("queue.jobs"), "web.json", "web").unwrap_err().to_string();
        assert!(
            err.starts_with("web.json is not a trellis state file: unknown resource kind `queue` in `queue.jobs`"),
            "{err}"
        );
    }

    #[test]
    fn a_damaged_state_file_names_its_backup_and_how_to_restore_it() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::new(dir.path().join("web.json"));
        let lock = store.lock("apply").unwrap();
        let mut state = State::new("web");
        store.write(&lock, &mut state).unwrap();
        store.write(&lock, &mut state).unwrap();
        fs::write(store.path(), "{\"format_version\": 1, \"lin").unwrap();
        let err = store.read("web").unwrap_err().to_string();
        let (path, backup) = (store.path().display().to_string(), store.backup_path().display().to_string());
        assert!(err.starts_with(&format!("{path} is not a trellis state file any more: EOF")), "{err}");
        assert!(
            err.contains(&format!("{backup} holds the version before the last write (serial 1, 0 objects)")),
            "{err}"
        );
        assert!(err.contains(&format!("`cp {backup} {path}`")), "{err}");
        fs::write(store.backup_path(), "garbage").unwrap();
        let err = store.read("web").unwrap_err().to_string();
        assert!(err.contains("there is no readable backup") && err.contains("`trellis state adopt SPEC`"), "{err}");
    }

    #[test]
    fn writes_atomically_with_backup_and_growing_serial() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::new(dir.path().join("s/demo.json"));
        assert!(store.read("demo").unwrap().is_none());
        let lock = store.lock("apply").unwrap();
        let mut state = State::new("demo");
        store.write(&lock, &mut state).unwrap();
        assert_eq!(state.serial, 1);
        state.upsert(ResourceState {
            address: "vpc.main".parse().unwrap(),
            id: "vpc-1".into(),
            attributes: Attrs::new(),
            dependencies: vec![],
            sensitive: vec![],
        });
        store.write(&lock, &mut state).unwrap();
        let back = store.read("demo").unwrap().unwrap();
        assert_eq!(back, state);
        assert_eq!(back.serial, 2);
        let backup: State = serde_json::from_str(&fs::read_to_string(store.backup_path()).unwrap()).unwrap();
        assert_eq!(backup.serial, 1);
        assert_eq!(backup.lineage, state.lineage);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(fs::metadata(store.path()).unwrap().permissions().mode() & 0o777, 0o600);
            assert_eq!(fs::metadata(store.backup_path()).unwrap().permissions().mode() & 0o777, 0o600);
        }
        assert!(matches!(store.read("other"), Err(StateError::OtherStack { .. })));
    }

    #[test]
    fn runs_that_wait_for_the_lock_take_turns_and_lose_no_write() {
        // Each run reads the state, then writes it with the next serial, under the lock:
        // a run that held the lock at the same time as another would write a serial twice.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("demo.json");
        let (runs, turns) = (8, 25);
        let threads: Vec<_> = (0..runs)
            .map(|_| {
                let store = LocalStore::new(&path);
                std::thread::spawn(move || {
                    for _ in 0..turns {
                        let lock = store.lock_waiting("apply", Duration::from_secs(120)).unwrap();
                        let mut state = store.read("demo").unwrap().unwrap_or_else(|| State::new("demo"));
                        std::thread::yield_now();
                        store.write(&lock, &mut state).unwrap();
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let store = LocalStore::new(&path);
        assert_eq!(store.read("demo").unwrap().unwrap().serial, runs * turns);
        assert!(store.holder().unwrap().is_none(), "nobody holds the lock after the last run");
    }

    #[test]
    fn a_run_that_had_the_lock_file_open_and_a_newcomer_never_both_hold_it() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::new(dir.path().join("demo.json"));
        let first = store.lock("apply").unwrap();
        // A waiting run has opened the lock file and is about to try it again.
        let waiter = OpenOptions::new().read(true).write(true).open(store.lock_path()).unwrap();
        drop(first);
        waiter.try_lock().expect("the waiter takes the freed lock");
        assert!(store.lock("plan").is_err(), "a newcomer must find the lock the waiter holds");
    }

    #[test]
    fn second_lock_fails_naming_the_holder_and_frees_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::new(dir.path().join("demo.json"));
        let first = store.lock("apply").unwrap();
        let err = store.lock("plan").unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("locked by `apply`"), "{msg}");
        assert!(msg.contains(&format!("process {}", std::process::id())), "{msg}");
        drop(first);
        assert!(store.lock("plan").is_ok());
    }

    #[test]
    fn a_lock_timeout_waits_for_the_holder_and_gives_up_after_it() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalStore::new(dir.path().join("demo.json"));
        let first = store.lock("apply").unwrap();
        let waited = std::time::Instant::now();
        let err = store.lock_waiting("plan", std::time::Duration::from_millis(300)).unwrap_err();
        assert!(waited.elapsed() >= std::time::Duration::from_millis(300), "it waited before giving up");
        assert!(err.to_string().contains("locked by `apply`"), "{err}");
        let releaser = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(300));
            drop(first);
        });
        let lock = store.lock_waiting("plan", std::time::Duration::from_secs(20));
        releaser.join().unwrap();
        assert_eq!(lock.unwrap().info.operation, "plan");
    }

    #[test]
    fn a_lock_is_stale_when_its_local_process_is_gone_or_its_lease_is_over() {
        let mut info = LockInfo::here("apply");
        let now = info.since + 90;
        assert_eq!(info.staleness(None, now), None, "this process is alive and there is no lease");
        assert_eq!(info.staleness(Some(Duration::from_secs(120)), now), None, "within its lease");
        let over = info.staleness(Some(Duration::from_secs(60)), now).unwrap();
        assert_eq!(over, "it was taken 90s ago, longer than the lock lease of 60s");
        info.renewed = Some(now - 10);
        assert_eq!(info.staleness(Some(Duration::from_secs(60)), now), None, "renewed within its lease");
        let over = info.staleness(Some(Duration::from_secs(60)), now + 100).unwrap();
        assert_eq!(over, "it was last renewed 110s ago, longer than the lock lease of 60s");
        info.renewed = None;
        info.pid = u32::MAX; // no such process
        assert!(info.staleness(None, now).unwrap().contains("on this machine is gone"));
        info.host = "elsewhere".into();
        assert_eq!(info.staleness(None, now), None, "another machine's process cannot be checked");
        info.who = "alice".into();
        assert!(info.to_string().starts_with("`apply` by alice (process "), "{info}");
    }

    #[test]
    fn formats_dates() {
        assert_eq!(format_utc(0), "1970-01-01 00:00:00");
        assert_eq!(format_utc(1_795_000_000), "2026-11-18 11:06:40");
    }
}
