//! End to end against the moto emulator: `trellis drift` and `trellis reconcile`
//! (issue #38). A rule opened by hand is reported (exit 2, `/status`, `/metrics`),
//! reverted by a `revert` resource's next round with one notification, taken into the
//! state by an `accept` one, and the spec's own change waits for a person. A SIGTERM
//! during a round lets it finish: the state stays consistent.

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use support::{aws, ingress_ports, open_port, FaultLayer, Stack};

const SPEC: &str = r#"stack: drift
drift:
  default: report
  ignore: [security_group.app.tags.Owner]
resources:
  vpc.main:
    cidr_block: 10.61.0.0/16
  security_group.db:
    vpc_id: ${vpc.main}
    description: the database
    ingress:
      - { protocol: tcp, port: 5432, cidr: 10.61.0.0/16 }
    drift: revert
  security_group.app:
    vpc_id: ${vpc.main}
    description: the app
    ingress:
      - { protocol: tcp, port: 8080, cidr: 10.61.0.0/16 }
  security_group.edge:
    vpc_id: ${vpc.main}
    description: the edge
    drift: accept
"#;

/// A GET of `path` from the reconciler's `--listen` address: the body.
fn get(port: u16, path: &str) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    text.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default()
}

fn status(port: u16) -> serde_json::Value {
    serde_json::from_str(&get(port, "/status")).unwrap()
}

/// Waits until `/status` satisfies `ok` (at most `secs`).
fn wait_status(port: u16, secs: u64, what: &str, ok: impl Fn(&serde_json::Value) -> bool) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Ok(text) = std::panic::catch_unwind(|| get(port, "/status")) {
            if let Ok(s) = serde_json::from_str::<serde_json::Value>(&text) {
                if ok(&s) {
                    return s;
                }
            }
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// A local test server that keeps the body of every POST it receives.
fn notify_server() -> (u16, Arc<Mutex<Vec<serde_json::Value>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let got = Arc::new(Mutex::new(Vec::new()));
    let keep = got.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut length = 0;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            keep.lock().unwrap().push(serde_json::from_slice(&body).unwrap());
            let mut s = stream;
            let _ = s.write_all(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n");
        }
    });
    (port, got)
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// `trellis reconcile SPEC --listen 127.0.0.1:PORT ARGS`, running in the background.
fn spawn_reconciler(stack: &Stack, listen: u16, args: &[&str]) -> std::process::Child {
    let address = format!("127.0.0.1:{listen}");
    let mut all = vec!["reconcile", stack.spec.to_str().unwrap(), "--listen", &address];
    all.extend_from_slice(args);
    stack.command(&all).stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped()).spawn().unwrap()
}

fn sigterm(child: &std::process::Child) {
    let ok = std::process::Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(ok.success());
}

fn wait_exit(child: &mut std::process::Child, secs: u64) -> (i32, String, String) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut out = String::new();
            let mut err = String::new();
            child.stdout.take().unwrap().read_to_string(&mut out).unwrap();
            child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
            return (status.code().unwrap_or(-1), out, err);
        }
        assert!(Instant::now() < deadline, "the reconciler did not exit");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[tokio::test]
async fn drift_is_reported_reverted_accepted_and_spec_changes_wait() {
    let stack = Stack::new("drift-rounds", SPEC);
    stack.apply();
    let clean = stack.run(&["drift", "{spec}"]).expect_code(0);
    assert!(clean.stdout.contains("No drift"), "{}", clean.stdout);
    let ec2 = aws().await.ec2().clone();
    let (db, app, edge) =
        (stack.id("security_group.db"), stack.id("security_group.app"), stack.id("security_group.edge"));

    // By hand: SSH opened on the database's group, 443 on the edge, a tag on the app.
    open_port(&ec2, &db, 22, "0.0.0.0/0").await;
    open_port(&ec2, &edge, 443, "0.0.0.0/0").await;
    let tag = trellis_aws::sdk::ec2::types::Tag::builder().key("Owner").value("someone").build();
    ec2.create_tags().resources(&app).tags(tag).send().await.unwrap();

    let found = stack.run(&["drift", "{spec}"]).expect_code(2);
    assert!(found.stdout.contains("security_group.db") && found.stdout.contains("[revert]"), "{}", found.stdout);
    assert!(found.stdout.contains("~ ingress:"), "{}", found.stdout);
    assert!(found.stdout.contains("security_group.edge") && found.stdout.contains("[accept]"), "{}", found.stdout);
    assert!(found.stdout.contains("Ignored as known noise (1):"), "{}", found.stdout);
    assert!(found.stdout.contains("security_group.app.tags.Owner (drift.ignore)"), "{}", found.stdout);
    let json = stack.run(&["drift", "{spec}", "--json"]).expect_code(2);
    let j: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(j["format_version"], 1);
    let schema: serde_json::Value =
        serde_json::from_str(include_str!("../docs/drift.schema.json")).expect("the schema is JSON");
    let validator = jsonschema::validator_for(&schema).expect("the schema itself is valid");
    let problems: Vec<String> = validator.iter_errors(&j).map(|e| e.to_string()).collect();
    assert!(problems.is_empty(), "{problems:?}\n{j:#}");
    let drifted: Vec<&str> =
        j["resources"].as_array().unwrap().iter().map(|r| r["address"].as_str().unwrap()).collect();
    assert_eq!(drifted, ["security_group.db", "security_group.edge"]);
    assert_eq!(j["resources"][0]["attributes"][0]["attribute"], "ingress");
    assert_eq!(j["ignored"][0]["by"], "drift.ignore");
    // `--ignore` takes a difference out, and says so.
    let quiet = stack.run(&[
        "drift",
        "{spec}",
        "--ignore",
        "security_group.db.ingress",
        "--ignore",
        "security_group.edge.ingress",
    ]);
    let quiet = quiet.expect_code(0);
    assert!(quiet.stdout.contains("security_group.db.ingress (--ignore)"), "{}", quiet.stdout);
    stack.run(&["drift", "{spec}", "--ignore", "security_group.db.ingres"]).expect_code(1);

    // The reconciler: a round every 2 s, with its status served and its news posted.
    let (notify_port, notified) = notify_server();
    let listen = free_port();
    let notify = format!("http://127.0.0.1:{notify_port}/hook");
    let mut reconciler = spawn_reconciler(&stack, listen, &["--every", "2s", "--notify", &notify]);
    let first = wait_status(listen, 60, "the first round", |s| s["rounds"].as_u64() >= Some(1));
    let round = &first["last_round"];
    assert!(validator.is_valid(&round["drift"]), "a round's drift is the same document: {round:#}");
    assert_eq!(round["reverted"], serde_json::json!(["security_group.db"]), "{first:#}");
    assert_eq!(round["accepted"], serde_json::json!(["security_group.edge"]), "{first:#}");
    assert_eq!(round["drift"]["resources"].as_array().unwrap().len(), 2, "{first:#}");
    let metrics = get(listen, "/metrics");
    let stack_label = format!("{{stack=\"{}\"}}", stack.name);
    for line in [
        format!("trellis_reconcile_rounds_total{stack_label} 1"),
        format!("trellis_drifted_resources{stack_label} 2"),
        format!("trellis_reverts_total{stack_label} 1"),
        format!("trellis_accepts_total{stack_label} 1"),
    ] {
        assert!(metrics.lines().any(|l| l == line), "`{line}` is not in:\n{metrics}");
    }
    assert!(metrics.contains("# TYPE trellis_api_calls_total counter"), "{metrics}");
    // Reverted: SSH is closed again. Accepted: 443 stays, and the state records it.
    assert_eq!(ingress_ports(&ec2, &db).await, [5432]);
    assert!(ingress_ports(&ec2, &edge).await.contains(&443));

    // The next round finds nothing: no second notification.
    wait_status(listen, 30, "a third round", |s| s["rounds"].as_u64() >= Some(3));
    {
        let got = notified.lock().unwrap();
        assert_eq!(got.len(), 1, "one document, for the round that found drift: {got:?}");
        assert_eq!(got[0]["reverted"], serde_json::json!(["security_group.db"]));
    }
    stack.run(&["drift", "{spec}"]).expect_code(0);

    // A spec change is not applied by reconcile without --apply-spec-changes.
    let wider = SPEC.replace(
        "      - { protocol: tcp, port: 8080, cidr: 10.61.0.0/16 }",
        "      - { protocol: tcp, port: 8080, cidr: 10.61.0.0/16 }\n      - { protocol: tcp, port: 9090, cidr: 10.61.0.0/16 }",
    );
    stack.write_spec(&wider);
    let now = status(listen)["rounds"].as_u64().unwrap();
    let later = wait_status(listen, 30, "a round after the edit", |s| s["rounds"].as_u64() >= Some(now + 2));
    assert!(
        later["last_round"]["spec_changes_pending"].as_array().unwrap().iter().any(|a| a == "security_group.app"),
        "{later:#}"
    );
    assert!(!ingress_ports(&ec2, &app).await.contains(&9090));
    // Rounds never overlap: each starts after the one before finished.
    let history = later["history"].as_array().unwrap();
    for pair in history.windows(2) {
        assert!(pair[1][1].as_str() >= pair[0][2].as_str(), "{history:?}");
    }

    sigterm(&reconciler);
    let (code, out, err) = wait_exit(&mut reconciler, 30);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(err.contains("stopped"), "{err}");
    assert!(out.contains("Round 1 at "), "{out}");

    // Told to, one round applies the spec's change too.
    let once = stack.run(&["reconcile", "{spec}", "--once", "--apply-spec-changes"]).expect_code(0);
    assert!(once.stdout.contains("spec changes applied: security_group.app"), "{}", once.stdout);
    assert!(ingress_ports(&ec2, &app).await.contains(&9090));
    stack.plan().expect_code(0);
    stack.destroy_and_check_clean();
}

#[tokio::test]
async fn a_sigterm_mid_round_lets_the_round_finish_and_the_state_stays_consistent() {
    // Every call waits, so that the round is still running when the signal comes.
    let layer = FaultLayer::start(&["--profile", "none", "--latency", "0.4"]);
    let mut stack = Stack::new("drift-sigterm", SPEC);
    stack.apply();
    let ec2 = aws().await.ec2().clone();
    let db = stack.id("security_group.db");
    open_port(&ec2, &db, 22, "0.0.0.0/0").await;
    stack.endpoint = layer.url.clone();

    let listen = free_port();
    let mut reconciler = spawn_reconciler(&stack, listen, &["--every", "1h"]);
    wait_status(listen, 30, "the round to start", |s| s["busy"] == true);
    // A person's apply meanwhile finds the state locked: the two never interleave.
    let person = stack.run(&["plan", "{spec}"]);
    assert_eq!(person.code, 1, "{}", person.stderr);
    assert!(person.stderr.contains("lock"), "{}", person.stderr);
    sigterm(&reconciler);
    let (code, out, err) = wait_exit(&mut reconciler, 120);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("reverted: security_group.db"), "the round finished its work: {out}\n{err}");
    assert!(err.contains("stopped"), "{err}");

    // Nothing half-done: no journal left, the state loads, and nothing drifts.
    let journal = trellis_state::LocalStore::new(stack.state_path()).journal_path();
    assert!(std::fs::read_to_string(&journal).unwrap_or_default().trim().is_empty(), "a journal was left");
    assert_eq!(ingress_ports(&ec2, &db).await, [5432]);
    stack.endpoint = support::endpoint();
    stack.run(&["drift", "{spec}"]).expect_code(0);
    stack.destroy_and_check_clean();
}
