//! End to end against the moto emulator: an apply of the example network stack is
//! killed with SIGKILL after each of its AWS calls in turn (trellis's test hook
//! `TRELLIS_TEST_CRASH_AFTER_CALLS`), and every time the next apply converges: the
//! state file always parses, no object exists twice, and everything tagged with the
//! stack is in the state. What a killed run created is adopted through the journal.

mod support;

use std::collections::BTreeMap;

use support::{ec2, tagged, Stack, NETWORK};

#[tokio::test]
async fn an_apply_killed_after_any_call_is_finished_by_the_next_without_duplicates() {
    killed_at_every_call(false).await;
}

/// The same through the fault layer: a kill -9 on top of lost replies, 5xx, throttling
/// and eventual consistency still converges in one more apply, nothing twice.
#[tokio::test]
async fn the_same_holds_through_the_fault_layer() {
    killed_at_every_call(true).await;
}

/// Crash points tried at once: each in its own stack, so they do not meet. Most of a
/// point's time is spent waiting (for the emulator, for retries), not computing.
const AT_ONCE: usize = 4;

async fn killed_at_every_call(faults: bool) {
    let mut adopted_somewhere = false;
    let mut first = 1;
    loop {
        let batch: Vec<_> = (first..first + AT_ONCE)
            .map(|n| std::thread::spawn(move || tokio_runtime().block_on(crash_at(n, faults))))
            .collect();
        let outcomes: Vec<Crash> =
            batch.into_iter().map(|t| t.join().unwrap_or_else(|e| std::panic::resume_unwind(e))).collect();
        adopted_somewhere |= outcomes.iter().any(|c| matches!(c, Crash::Recovered { adopted: true }));
        if let Some(calls) = outcomes.iter().find_map(|c| match c {
            Crash::NotReached { n } => Some(n - 1),
            _ => None,
        }) {
            // The whole apply takes fewer calls than n: every point has been tried.
            assert!(calls > 10, "the apply should take more than 10 calls; it took {calls}");
            break;
        }
        first += AT_ONCE;
    }
    assert!(adopted_somewhere, "some crash fell between a create call and its state write");
}

fn tokio_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

enum Crash {
    /// The apply finished before its nth call: there was nothing to kill.
    NotReached { n: usize },
    /// Killed after n calls, and the next apply converged.
    Recovered { adopted: bool },
}

/// Kills an apply after its nth AWS call, then checks that the next one converges.
async fn crash_at(n: usize, faults: bool) -> Crash {
    let client = ec2().await;
    let stack = Stack::new(if faults { "crash-faults" } else { "crash" }, NETWORK);
    let stack = if faults { stack.through_faults() } else { stack };
    let n_text = n.to_string();
    let killed = stack.run_env(&["apply", "{spec}", "--auto-approve"], &[("TRELLIS_TEST_CRASH_AFTER_CALLS", &n_text)]);
    if killed.code == 0 {
        stack.destroy_and_check_clean();
        return Crash::NotReached { n };
    }
    assert_eq!(killed.code, -1, "killed by a signal after {n} calls:\n{}\n{}", killed.stdout, killed.stderr);

    // Whatever the moment, the state on disk is whole.
    if stack.state_path().exists() {
        let text = std::fs::read_to_string(stack.state_path()).unwrap();
        serde_json::from_str::<trellis_state::State>(&text)
            .unwrap_or_else(|e| panic!("after {n} calls the state does not parse: {e}\n{text}"));
    }

    let next = stack.apply();
    let adopted = next.stderr.contains("journal of an interrupted run: adopted");
    let state = stack.state();
    assert_eq!(state.resources.len(), 12, "after {n} calls: {}", next.stdout);
    assert!(state.pending.is_empty(), "the journal is empty after a finished run");

    // Nothing twice, nothing unrecorded.
    let live = tagged(&client, &stack.name).await;
    let mut per_address: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (id, address) in &live {
        per_address.entry(address.as_str()).or_default().push(id.as_str());
    }
    let twice: Vec<_> = per_address.iter().filter(|(_, ids)| ids.len() > 1).collect();
    assert!(twice.is_empty(), "after a crash at call {n}, objects exist twice: {twice:?}");
    let recorded: BTreeMap<String, String> =
        state.resources.iter().map(|r| (r.id.clone(), r.address.tag_value())).collect();
    assert_eq!(live, recorded, "after a crash at call {n}, the state and the tagged objects differ");
    stack.run(&["plan", "{spec}", "--detailed-exitcode"]).expect_code(0);
    stack.destroy_and_check_clean();
    assert!(tagged(&client, &stack.name).await.is_empty());
    Crash::Recovered { adopted }
}
