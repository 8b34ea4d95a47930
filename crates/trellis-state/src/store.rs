use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::{State, StateError, FORMAT_VERSION};

/// Who holds a state lock, written into the lock file so a second run can say so.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockInfo {
    pub id: String,
    pub operation: String,
    pub pid: u32,
    pub host: String,
    /// Seconds since the Unix epoch.
    pub since: u64,
}

impl fmt::Display for LockInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` (process {} on {}, since {} UTC, lock id {})",
            self.operation,
            self.pid,
            self.host,
            format_utc(self.since),
            self.id
        )
    }
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

/// A state file on the local disk: `<path>`, its backup `<path>.backup` and its lock
/// `<path>.lock`.
#[derive(Debug, Clone)]
pub struct LocalStore {
    path: PathBuf,
}

/// An exclusive hold on a state. Released when dropped (and by the OS if the process dies).
#[derive(Debug)]
pub struct StateLock {
    file: File,
    path: PathBuf,
    pub info: LockInfo,
}

impl Drop for StateLock {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
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
        LocalStore { path: path.into() }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn backup_path(&self) -> PathBuf {
        with_suffix(&self.path, ".backup")
    }

    pub fn lock_path(&self) -> PathBuf {
        with_suffix(&self.path, ".lock")
    }

    /// Takes the lock at once or fails naming its holder. The lock is an OS file lock,
    /// so a holder that died does not leave it stuck.
    pub fn lock(&self, operation: &str) -> Result<StateLock, StateError> {
        let path = self.lock_path();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::create_dir_all(dir).map_err(io(dir))?;
        }
        let mut file =
            OpenOptions::new().read(true).write(true).create(true).truncate(false).open(&path).map_err(io(&path))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                let mut text = String::new();
                let _ = file.read_to_string(&mut text);
                let holder = serde_json::from_str(&text).unwrap_or(LockInfo {
                    id: "?".into(),
                    operation: "unknown".into(),
                    pid: 0,
                    host: "unknown".into(),
                    since: 0,
                });
                return Err(StateError::Locked { path: self.path.display().to_string(), holder });
            }
            Err(fs::TryLockError::Error(e)) => return Err(io(&path)(e)),
        }
        let since = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        let info = LockInfo {
            id: uuid::Uuid::new_v4().to_string(),
            operation: operation.to_string(),
            pid: std::process::id(),
            host: hostname(),
            since,
        };
        let text = serde_json::to_string_pretty(&info).expect("lock info serializes");
        file.set_len(0).map_err(io(&path))?;
        file.seek(SeekFrom::Start(0)).map_err(io(&path))?;
        file.write_all(text.as_bytes()).map_err(io(&path))?;
        file.sync_all().map_err(io(&path))?;
        Ok(StateLock { file, path, info })
    }

    /// Takes the lock, waiting up to `timeout` while another run holds it
    /// (`--lock-timeout`); past that, fails naming the holder.
    pub fn lock_waiting(&self, operation: &str, timeout: std::time::Duration) -> Result<StateLock, StateError> {
        let start = std::time::Instant::now();
        loop {
            match self.lock(operation) {
                Err(StateError::Locked { .. }) if start.elapsed() < timeout => {
                    std::thread::sleep(std::time::Duration::from_millis(200).min(timeout));
                }
                other => return other,
            }
        }
    }

    /// The stored state, or `None` when there is none yet.
    pub fn read(&self, stack: &str) -> Result<Option<State>, StateError> {
        let text = match fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io(&self.path)(e)),
        };
        let path = self.path.display().to_string();
        let version: serde_json::Value =
            serde_json::from_str(&text).map_err(|source| StateError::Parse { path: path.clone(), source })?;
        let found = version.get("format_version").and_then(|v| v.as_u64()).unwrap_or(0) as u32;
        if found != FORMAT_VERSION {
            return Err(StateError::Version { path, found });
        }
        let state: State =
            serde_json::from_value(version).map_err(|source| StateError::Parse { path: path.clone(), source })?;
        if state.stack != stack {
            return Err(StateError::OtherStack { path, found: state.stack, expected: stack.to_string() });
        }
        Ok(Some(state))
    }

    /// Writes the state with the next serial: to a temporary file first (mode 0600,
    /// fsync), the previous version copied to the backup, then an atomic rename.
    /// The caller must hold the lock.
    pub fn write(&self, _lock: &StateLock, state: &mut State) -> Result<(), StateError> {
        state.serial += 1;
        let text = serde_json::to_string_pretty(state).expect("state serializes") + "\n";
        let dir = self.path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
        fs::create_dir_all(dir).map_err(io(dir))?;
        let tmp = with_suffix(&self.path, &format!(".tmp-{}", std::process::id()));
        {
            let mut opts = OpenOptions::new();
            opts.write(true).create(true).truncate(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
            let mut f = opts.open(&tmp).map_err(io(&tmp))?;
            f.write_all(text.as_bytes()).map_err(io(&tmp))?;
            f.sync_all().map_err(io(&tmp))?;
        }
        if self.path.exists() {
            let backup = self.backup_path();
            fs::copy(&self.path, &backup).map_err(io(&backup))?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                fs::set_permissions(&backup, fs::Permissions::from_mode(0o600)).map_err(io(&backup))?;
            }
        }
        fs::rename(&tmp, &self.path).map_err(io(&self.path))?;
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    }
}

fn hostname() -> String {
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
            kind: "vpc".into(),
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
    fn formats_dates() {
        assert_eq!(format_utc(0), "1970-01-01 00:00:00");
        assert_eq!(format_utc(1_795_000_000), "2026-11-18 11:06:40");
    }
}
