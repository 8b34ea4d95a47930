//! End to end against the moto emulator: an apply of the example network stack is
//! killed with SIGKILL after each of its AWS calls in turn (trellis's test hook
//! `TRELLIS_TEST_CRASH_AFTER_CALLS`), and every time the next apply converges: the
//! state file always parses, no object exists twice, and everything tagged with the
//! stack is in the state. What a killed run created is adopted through the journal,
//! also when AWS shows it only after the next run's first read.

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

    // Whatever the moment, the state on disk is whole: the document parses, and so does
    // every entry of its journal (but a last one the kill cut short).
    if stack.state_path().exists() {
        use trellis_state::StateStore;
        let store = trellis_state::LocalStore::new(stack.state_path());
        store.read(&stack.name).unwrap_or_else(|e| panic!("after {n} calls the state does not read: {e}"));
    }

    let next = stack.apply();
    let adopted = next.stderr.contains("journal of an interrupted run: adopted");
    let state = stack.state();
    assert_eq!(state.resources.len(), 14, "after {n} calls: {}", next.stdout);
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

/// A create the journal names whose object AWS shows only later (its answer was lost and
/// AWS finished it late, or its listing lags): the next run looks again before planning,
/// and takes the object rather than making a second one.
#[tokio::test]
async fn a_journaled_create_that_shows_late_is_adopted_not_made_twice() {
    use std::io::BufRead;

    let spec = "stack: late\nresources:\n  vpc.main:\n    cidr_block: 10.46.0.0/16\n  route_table.main:\n    vpc_id: ${vpc.main}\n";
    let stack = Stack::new("late", spec);
    stack.run(&["apply", "{spec}", "--target", "vpc.main", "--auto-approve"]).expect_code(0);
    let vpc = stack.id("vpc.main");
    // The state of a run killed after it journaled the route table's create.
    let mut state = stack.state();
    let table: trellis_core::Address = "route_table.main".parse().unwrap();
    state.pending.push(trellis_state::Pending { address: table.clone(), operation: trellis_state::OpKind::Create });
    std::fs::write(stack.state_path(), serde_json::to_string_pretty(&state).unwrap()).unwrap();

    let mut child = stack
        .command(&["apply", stack.spec.to_str().unwrap(), "--auto-approve"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut said = String::new();
    for line in stderr.lines() {
        let line = line.unwrap();
        said.push_str(&line);
        said.push('\n');
        if line.contains("looking for them again") {
            // Now AWS shows the object the killed run's create made.
            let client = ec2().await;
            let tag = |k: &str, v: &str| trellis_aws::sdk::ec2::types::Tag::builder().key(k).value(v).build();
            let spec = trellis_aws::sdk::ec2::types::TagSpecification::builder()
                .resource_type(trellis_aws::sdk::ec2::types::ResourceType::RouteTable)
                .tags(tag("trellis:stack", &stack.name))
                .tags(tag("trellis:address", "route_table.main"))
                .build();
            client.create_route_table().vpc_id(&vpc).tag_specifications(spec).send().await.unwrap();
        }
    }
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{said}\n{}", String::from_utf8_lossy(&out.stdout));
    assert!(said.contains("adopted route_table.main"), "{said}");
    let live = tagged(&ec2().await, &stack.name).await;
    let tables: Vec<&String> =
        live.iter().filter(|(_, a)| a.as_str() == "route_table.main").map(|(id, _)| id).collect();
    assert_eq!(tables.len(), 1, "one route table, not two: {live:?}");
    assert_eq!(&stack.id("route_table.main"), tables[0]);
    stack.run(&["plan", "{spec}", "--detailed-exitcode"]).expect_code(0);
    stack.destroy_and_check_clean();
}
