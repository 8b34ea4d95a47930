//! End to end against moto's S3: a stack whose state lives in a bucket. Two applies at
//! once (one proceeds, the other is refused naming the holder), --lock-timeout, a write
//! from a stale read refused, a killed run's lock reported stale and broken with
//! force-unlock, and state push/pull keeping serial and lineage.

mod support;

use std::time::{Duration, Instant};

use support::{ec2, endpoint, tagged, Stack, NETWORK};
use trellis_aws::{S3Options, S3Store};
use trellis_state::{State, StateError, StateStore};

const KEY: &str = "teams/network.json";

/// A fresh bucket on the emulator, and a store on `KEY` in it.
async fn bucket(test: &str) -> (String, S3Store) {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    let name = format!("trellis-{}-{:x}", test.replace('_', "-"), nanos % 0xffff_ffff);
    let store = store(&name, None);
    store.client().create_bucket().bucket(&name).send().await.unwrap();
    (name, store)
}

fn store(bucket: &str, rescue_dir: Option<&std::path::Path>) -> S3Store {
    store_with_lease(bucket, rescue_dir, None)
}

fn store_with_lease(bucket: &str, rescue_dir: Option<&std::path::Path>, lease: Option<Duration>) -> S3Store {
    S3Store::connect(S3Options {
        bucket: bucket.into(),
        key: KEY.into(),
        region: Some("us-east-1".into()),
        endpoint_url: Some(endpoint()),
        lock_lease: lease,
        rescue_dir: rescue_dir.map(Into::into),
    })
    .unwrap()
}

/// The example network stack, keeping its state in `bucket`.
fn remote_spec(bucket: &str) -> String {
    format!("backend:\n  s3:\n    bucket: {bucket}\n    key: {KEY}\n{NETWORK}")
}

fn stored(store: &S3Store, stack: &Stack) -> State {
    store.read(&stack.name).unwrap().expect("a state in the bucket")
}

/// The state document alone, without the journal entries after it.
async fn document(store: &S3Store, bucket: &str) -> State {
    let out = store.client().get_object().bucket(bucket).key(KEY).send().await.unwrap();
    serde_json::from_slice(&out.body.collect().await.unwrap().into_bytes()).unwrap()
}

/// The keys of the journal entries in the bucket.
async fn journal_keys(store: &S3Store, bucket: &str) -> Vec<String> {
    let out = store.client().list_objects_v2().bucket(bucket).prefix(format!("{KEY}.journal/")).send().await.unwrap();
    out.contents().iter().filter_map(|o| o.key().map(str::to_string)).collect()
}

#[tokio::test]
async fn two_applies_at_once_one_proceeds_the_other_is_refused_naming_the_holder() {
    let (bucket, store) = bucket("race").await;
    let stack = Stack::new("race", &remote_spec(&bucket));
    let spec = stack.spec.to_str().unwrap().to_string();
    let spawn = || {
        stack
            .command(&["apply", &spec, "--auto-approve"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(), spawn());
    let (a_pid, b_pid) = (a.id(), b.id());
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    let runs = [(a_pid, a), (b_pid, b)];
    let winners: Vec<_> = runs.iter().filter(|(_, o)| o.status.code() == Some(0)).collect();
    let losers: Vec<_> = runs.iter().filter(|(_, o)| o.status.code() == Some(1)).collect();
    assert_eq!((winners.len(), losers.len()), (1, 1), "exactly one apply proceeds");
    let winner_pid = winners[0].0;
    let refusal = String::from_utf8_lossy(&losers[0].1.stderr);
    assert!(refusal.contains(&format!("the state s3://{bucket}/{KEY} is locked by `apply`")), "{refusal}");
    assert!(refusal.contains(&format!("process {winner_pid} on ")), "the holder is named: {refusal}");
    assert!(refusal.contains("--lock-timeout"), "{refusal}");
    assert!(String::from_utf8_lossy(&losers[0].1.stdout).is_empty(), "the refused run planned nothing");

    // The winner's work is all in the bucket, once, and its lock is gone.
    let state = stored(&store, &stack);
    assert_eq!(state.resources.len(), 14);
    assert_eq!(tagged(&ec2().await, &stack.name).await.len(), 14);
    assert_eq!(store.holder().unwrap(), None, "the lock object was deleted");
    assert!(!stack.state_path().exists(), "nothing was written to the local state file");

    // Without a timeout a held lock fails at once; with one, the run waits for it.
    let held = store.lock("test-hold").unwrap();
    let started = Instant::now();
    let refused = stack.run(&["plan", "{spec}"]).expect_code(1);
    assert!(started.elapsed() < Duration::from_secs(20));
    assert!(refused.stderr.contains("is locked by `test-hold`"), "{}", refused.stderr);
    let mut waiting =
        stack.command(&["plan", &spec, "--lock-timeout", "2m"]).stdout(std::process::Stdio::null()).spawn().unwrap();
    std::thread::sleep(Duration::from_secs(3));
    assert!(waiting.try_wait().unwrap().is_none(), "the run waits while the lock is held");
    drop(held);
    assert_eq!(waiting.wait().unwrap().code(), Some(0), "it proceeds once the lock is released");

    stack.run(&["destroy", "{spec}", "--auto-approve"]).expect_code(0);
    assert!(stored(&store, &stack).resources.is_empty());
    assert!(tagged(&ec2().await, &stack.name).await.is_empty());
}

#[tokio::test]
async fn a_state_write_based_on_a_stale_read_is_refused_and_rescued() {
    let (bucket, _) = bucket("etag").await;
    let rescue = tempfile::tempdir().unwrap();
    let first = store(&bucket, Some(rescue.path()));
    let second = store(&bucket, Some(rescue.path()));

    // The second store reads, then the first writes (as after a broken lock).
    let lock = second.lock("apply").unwrap();
    assert!(second.read("etag").unwrap().is_none());
    drop(lock);
    let lock = first.lock("apply").unwrap();
    assert!(first.read("etag").unwrap().is_none());
    let mut theirs = State::new("etag");
    first.write(&lock, &mut theirs).unwrap();
    drop(lock);

    let lock = second.lock("apply").unwrap();
    let mut mine = State::new("etag");
    let err = second.write(&lock, &mut mine).unwrap_err();
    assert!(matches!(err, StateError::Conflict { .. }), "{err}");
    let msg = err.to_string();
    assert!(msg.contains("was changed by another run since this one read it"), "{msg}");
    assert!(msg.contains("trellis state push"), "{msg}");
    let kept: State =
        serde_json::from_str(&std::fs::read_to_string(rescue.path().join("trellis-rescue-etag.json")).unwrap())
            .unwrap();
    assert_eq!(kept.lineage, mine.lineage, "the refused state is kept on disk");
    assert_eq!(first.read("etag").unwrap().unwrap(), theirs, "the stored state is untouched");

    // Read again, the same store writes at the new version; an older version is refused.
    let now = second.read("etag").unwrap().unwrap();
    let mut next = now.clone();
    second.write(&lock, &mut next).unwrap();
    assert_eq!(next.serial, now.serial + 1);
    let mut stale = theirs.clone();
    let err = first.write(&lock, &mut stale).unwrap_err();
    assert!(matches!(err, StateError::Conflict { .. }), "{err}");
    assert_eq!(std::fs::read_dir(rescue.path()).unwrap().count(), 1, "one rescue file per stack, the latest state");
    assert_eq!(second.read("etag").unwrap().unwrap(), next);
}

#[tokio::test]
async fn a_held_lock_is_renewed_so_a_long_run_outlives_its_lease() {
    let (bucket, _) = bucket("lease").await;
    let lease = Some(Duration::from_secs(3));
    let (holder, other) = (store_with_lease(&bucket, None, lease), store_with_lease(&bucket, None, lease));
    let lock = holder.lock("apply").unwrap();
    std::thread::sleep(Duration::from_secs(5)); // longer than the lease
    let seen = other.holder().unwrap().expect("the lock is held");
    assert_eq!(seen.id, lock.info.id);
    assert!(seen.renewed.is_some_and(|at| at > seen.since), "the holder renewed it: {seen:?}");
    match other.lock("plan") {
        Err(StateError::Locked { stale, .. }) => assert_eq!(stale, None, "a renewed lock is not stale"),
        other => panic!("the lock should be held: {other:?}"),
    }
    drop(lock);
    assert_eq!(other.holder().unwrap(), None, "released with its renewed ETag");
    // Unrenewed, the same lock would have been reported stale after the lease.
    let old = trellis_state::LockInfo { renewed: None, ..seen };
    assert!(old.staleness(lease, old.since + 5).unwrap().contains("longer than the lock lease of 3s"));
}

#[tokio::test]
async fn a_killed_runs_lock_is_reported_stale_and_broken_with_force_unlock() {
    let (bucket, store) = bucket("stale").await;
    let stack = Stack::new("stale", &remote_spec(&bucket));
    let killed = stack.run_env(&["apply", "{spec}", "--auto-approve"], &[("TRELLIS_TEST_CRASH_AFTER_CALLS", "20")]);
    assert_eq!(killed.code, -1, "killed by SIGKILL:\n{}\n{}", killed.stdout, killed.stderr);
    let holder = store.holder().unwrap().expect("a killed run leaves its lock object");
    assert_eq!(holder.operation, "apply");
    let killed_state = stored(&store, &stack);
    assert!(!killed_state.pending.is_empty(), "the journal in the bucket names the operations in flight");
    // Each step went to the bucket as an entry of its own after the document, which was
    // written once, at the start of the run.
    let document = document(&store, &bucket).await;
    assert!(document.pending.is_empty() && document.resources.is_empty(), "{document:?}");
    let entries = journal_keys(&store, &bucket).await;
    let after = format!("{KEY}.journal/{:016}/", document.serial);
    assert!(entries.len() >= 2 && entries.iter().all(|k| k.starts_with(&after)), "{entries:?}");
    assert!(
        !killed_state.resources.is_empty(),
        "what the killed run created is recorded: {entries:?} {killed_state:?}"
    );

    let refused = stack.run(&["apply", "{spec}", "--auto-approve"]).expect_code(1);
    assert!(
        refused.stderr.contains(&format!("looks stale: its process {} on this machine is gone", holder.pid)),
        "{}",
        refused.stderr
    );
    assert!(refused.stderr.contains(&format!("trellis force-unlock SPEC {}", holder.id)), "{}", refused.stderr);

    // A wrong id breaks nothing; without --yes and no terminal, nothing either.
    let wrong = stack.run(&["force-unlock", "{spec}", "not-the-id", "--yes"]).expect_code(1);
    assert!(wrong.stderr.contains("not under lock id not-the-id; nothing was broken"), "{}", wrong.stderr);
    stack.run(&["force-unlock", "{spec}", &holder.id]).expect_code(1);
    assert!(store.holder().unwrap().is_some());
    let broke = stack.run(&["force-unlock", "{spec}", &holder.id, "--yes"]).expect_code(0);
    assert!(broke.stdout.contains(&format!("process {}", holder.pid)), "the holder is shown: {}", broke.stdout);
    assert_eq!(store.holder().unwrap(), None);

    // The next apply (a saved plan: it finds the state in the bucket again) finishes the
    // stack from the journal, with nothing twice.
    stack.run(&["plan", "{spec}", "--out", "finish.plan"]).expect_code(0);
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(stack.dir.path().join("finish.plan")).unwrap()).unwrap();
    assert_eq!(saved["state_path"], format!("s3://{bucket}/{KEY}"));
    stack.run(&["apply", "finish.plan"]).expect_code(0);
    let state = stored(&store, &stack);
    assert_eq!(state.resources.len(), 14);
    assert!(state.pending.is_empty());
    assert_eq!(journal_keys(&store, &bucket).await, Vec::<String>::new(), "the last full write emptied the journal");
    let live = tagged(&ec2().await, &stack.name).await;
    let recorded: std::collections::BTreeMap<String, String> =
        state.resources.iter().map(|r| (r.id.clone(), r.address.tag_value())).collect();
    assert_eq!(live, recorded, "everything tagged is in the state, once");
    stack.run(&["destroy", "{spec}", "--auto-approve"]).expect_code(0);
    assert!(tagged(&ec2().await, &stack.name).await.is_empty());
}

#[tokio::test]
async fn push_and_pull_move_a_state_between_the_file_and_s3_keeping_serial_and_lineage() {
    let (bucket, store) = bucket("move").await;
    let stack = Stack::new("move", NETWORK);
    stack.apply();
    let local = stack.state();
    let url = format!("s3://{bucket}/{KEY}");
    let file = stack.state_path().to_str().unwrap().to_string();

    // With a backend in the spec and nothing in the bucket yet, trellis will not start
    // over while the local file holds the stack.
    stack.write_spec(&remote_spec(&bucket));
    let guard = stack.run(&["plan", "{spec}"]).expect_code(1);
    assert!(guard.stderr.contains("trellis state push SPEC"), "{}", guard.stderr);

    let pushed = stack.run(&["state", "push", "{spec}", &file]).expect_code(0);
    assert!(pushed.stdout.contains(&format!("serial {}", local.serial)), "{}", pushed.stdout);
    assert_eq!(stored(&store, &stack), local, "the bucket holds the file's state, serial and lineage unchanged");
    let pulled = stack.run(&["state", "pull", "{spec}"]).expect_code(0);
    assert_eq!(serde_json::from_str::<State>(&pulled.stdout).unwrap(), local, "pull gives it back as it is");
    stack.plan().expect_code(0);
    let listed = stack.run(&["state", "list", "--spec", "{spec}"]).expect_code(0);
    assert!(listed.stdout.contains("vpc.main"), "state list reads the bucket: {}", listed.stdout);

    // The bucket moves on; an older file may not replace it, nor one of another lineage.
    stack.run(&["destroy", "{spec}", "--auto-approve"]).expect_code(0);
    let remote = stored(&store, &stack);
    assert!(remote.serial > local.serial && remote.resources.is_empty());
    let older = stack.run(&["state", "push", "{spec}", &file]).expect_code(1);
    assert!(older.stderr.contains("newer"), "{}", older.stderr);
    let other_path = stack.dir.path().join("other.json");
    let other = State { lineage: "another-history".into(), serial: remote.serial + 10, ..remote.clone() };
    std::fs::write(&other_path, serde_json::to_string(&other).unwrap()).unwrap();
    let refused = stack.run(&["state", "push", "{spec}", other_path.to_str().unwrap()]).expect_code(1);
    assert!(refused.stderr.contains("lineage"), "{}", refused.stderr);
    assert_eq!(stored(&store, &stack), remote, "a refused push changes nothing");

    // And back to a local file: pull --out, then use it with --backend local.
    std::fs::remove_file(stack.state_path()).unwrap();
    stack.run(&["state", "pull", "{spec}", "--out", &file]).expect_code(0);
    assert_eq!(stack.state(), remote);
    let local_plan = stack.run(&["plan", "{spec}", "--backend", "local", "--destroy", "--detailed-exitcode"]);
    local_plan.expect_code(0);
    let via_flag = stack.run(&["state", "pull", "{spec}", "--backend", &url]).expect_code(0);
    assert_eq!(serde_json::from_str::<State>(&via_flag.stdout).unwrap(), remote);
}
