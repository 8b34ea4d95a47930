//! Ctrl-C during apply, through a real SIGINT: nothing new starts, what is in flight
//! finishes and is recorded, the lock is released, and the next apply continues.

mod support;

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use support::{ec2, tagged, Stack, NETWORK};

#[tokio::test]
async fn ctrl_c_stops_new_work_and_records_what_finished() {
    let stack = Stack::new("interrupt", NETWORK);
    let spec = stack.spec.to_string_lossy().to_string();
    let mut child = stack
        .command(&["apply", &spec, "--auto-approve", "--parallelism", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = Vec::new();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    for line in lines.by_ref() {
        let line = line.unwrap();
        let first_done = line.contains(": Created after");
        out.push(line);
        if first_done {
            let sent = std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
            assert!(sent.success());
            break;
        }
    }
    out.extend(lines.map(|l| l.unwrap()));
    let status = child.wait().unwrap();
    let text = out.join("\n");
    assert_eq!(status.code(), Some(130), "{text}");
    assert!(text.contains("Interrupted: waiting for"), "{text}");
    assert!(text.contains("Apply interrupted:"), "{text}");

    // Whatever exists is recorded; the run stopped well before the end.
    let state = stack.state();
    let client = ec2().await;
    let live = tagged(&client, &stack.name).await;
    assert!(!state.resources.is_empty() && state.resources.len() < 14, "{} recorded", state.resources.len());
    assert_eq!(state.resources.len(), live.len(), "{live:?}");
    for r in &state.resources {
        assert_eq!(live.get(&r.id), Some(&r.address.tag_value()));
    }

    // The lock went with the process; the next apply finishes the stack.
    stack.plan().expect_code(2);
    stack.apply();
    assert_eq!(tagged(&client, &stack.name).await.len(), 14);
    stack.destroy_and_check_clean();
}
