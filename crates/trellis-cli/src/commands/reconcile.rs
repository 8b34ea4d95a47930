//! `trellis reconcile SPEC --every DURATION`: a loop of rounds (`trellis_ops::round`),
//! one at a time, each under the state's lock for its own length only. Drift is handled
//! by each resource's policy; the spec's own changes wait for a person unless
//! `--apply-spec-changes`. `--listen` serves `/status` (JSON) and `/metrics` (Prometheus
//! text); `--notify` posts each round that found or repaired drift. SIGTERM or Ctrl-C
//! lets the round in flight finish, then exits.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use clap::Args;
use serde::Serialize;
use trellis_ops::{OpenOptions, Result, Round, RoundOptions};

use crate::ui::Ui;
use crate::{CloudArgs, SpecArgs, EXIT_ERROR, EXIT_OK};

#[derive(Args, Debug)]
pub struct ReconcileArgs {
    #[command(flatten)]
    spec: SpecArgs,
    #[command(flatten)]
    cloud: CloudArgs,
    /// Start a round this often (`30s`, `10m`, `1h`); a round that runs longer is
    /// followed by the next at once, never overlapped.
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration, required_unless_present = "once")]
    every: Option<Duration>,
    /// Run one round and exit (for cron or a CI schedule): 0 clean or repaired, 2 drift
    /// left reported, 1 an error.
    #[arg(long, conflicts_with = "every")]
    once: bool,
    /// Also apply what the spec asks for that the state does not record.
    #[arg(long)]
    apply_spec_changes: bool,
    /// Let a revert delete or replace a database or a `protect: true` object.
    #[arg(long)]
    allow_data_loss: bool,
    /// Known noise, `kind.name.attribute` (repeatable), as for `trellis drift`.
    #[arg(long = "ignore", value_name = "ADDR.ATTR")]
    ignore: Vec<String>,
    /// Serve `/status` and `/metrics` on this address (`127.0.0.1:9090`).
    #[arg(long, value_name = "ADDR")]
    listen: Option<String>,
    /// POST each round that found or repaired drift to this URL, as JSON.
    #[arg(long, value_name = "URL")]
    notify: Option<String>,
}

/// What `/status` shows and `/metrics` counts.
#[derive(Debug, Default, Serialize)]
struct Status {
    format_version: u32,
    stack: String,
    /// A round is running now.
    busy: bool,
    rounds: u64,
    round_errors: u64,
    reverts: u64,
    accepts: u64,
    api_calls: u64,
    notifications_sent: u64,
    notifications_failed: u64,
    /// RFC 3339: when the last round without an error finished.
    last_success: Option<String>,
    #[serde(skip)]
    last_success_unix: Option<u64>,
    last_round: Option<Round>,
    /// The last rounds' numbers and times, oldest first (at most 20).
    history: Vec<(u64, String, String)>,
}

fn metrics(s: &Status) -> String {
    let stack = &s.stack;
    let drifted = s.last_round.as_ref().map_or(0, |r| r.drift.resources.len());
    let mut out = String::new();
    let mut one = |name: &str, kind: &str, help: &str, value: String| {
        out.push_str(&format!("# HELP {name} {help}\n# TYPE {name} {kind}\n{name}{{stack=\"{stack}\"}} {value}\n"));
    };
    one("trellis_reconcile_rounds_total", "counter", "Reconcile rounds run.", s.rounds.to_string());
    one(
        "trellis_reconcile_round_errors_total",
        "counter",
        "Rounds that ended with an error.",
        s.round_errors.to_string(),
    );
    one("trellis_drifted_resources", "gauge", "Resources drifted at the last round.", drifted.to_string());
    one("trellis_reverts_total", "counter", "Resources changed back to the state.", s.reverts.to_string());
    one("trellis_accepts_total", "counter", "Drifted resources taken into the state.", s.accepts.to_string());
    one("trellis_api_calls_total", "counter", "AWS API calls made by the rounds.", s.api_calls.to_string());
    one(
        "trellis_notifications_failed_total",
        "counter",
        "Notifications not delivered.",
        s.notifications_failed.to_string(),
    );
    one(
        "trellis_last_success_timestamp_seconds",
        "gauge",
        "When the last round without an error finished (Unix time).",
        s.last_success_unix.unwrap_or(0).to_string(),
    );
    one("trellis_reconcile_busy", "gauge", "1 while a round runs.", u8::from(s.busy).to_string());
    out
}

/// Serves `/status` and `/metrics` from a thread of its own until the process exits.
fn serve(address: &str, status: Arc<Mutex<Status>>) -> Result<()> {
    let server = tiny_http::Server::http(address)
        .map_err(|e| trellis_ops::Error::Usage(format!("--listen {address}: cannot listen there: {e}")))?;
    std::thread::spawn(move || {
        for request in server.incoming_requests() {
            let (body, kind, code) = {
                let s = status.lock().expect("the status");
                match request.url() {
                    "/status" => (serde_json::to_string_pretty(&*s).unwrap_or_default(), "application/json", 200),
                    "/metrics" => (metrics(&s), "text/plain; version=0.0.4", 200),
                    _ => ("not found: /status or /metrics\n".to_string(), "text/plain", 404),
                }
            };
            let header = tiny_http::Header::from_bytes("Content-Type", kind).expect("a valid header");
            let _ = request.respond(tiny_http::Response::from_string(body).with_header(header).with_status_code(code));
        }
    });
    Ok(())
}

/// Posts `round` to `url`; `Err` says why it was not delivered.
async fn notify(url: String, round: &Round) -> std::result::Result<(), String> {
    let body = serde_json::to_string(round).unwrap_or_default();
    tokio::task::spawn_blocking(move || {
        let agent = ureq::AgentBuilder::new().timeout(Duration::from_secs(10)).build();
        agent
            .post(&url)
            .set("Content-Type", "application/json")
            .send_string(&body)
            .map(|_| ())
            .map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| e.to_string())?
}

/// A SIGTERM or Ctrl-C: the round in flight finishes, and no other starts.
fn stop_signal() -> tokio::sync::watch::Receiver<bool> {
    let (tx, rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        #[cfg(unix)]
        {
            let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(t) => t,
                Err(_) => return,
            };
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
        let _ = tx.send(true);
    });
    rx
}

fn say(ui: &Ui, r: &Round) {
    let mut parts = vec![format!("{} drifted", r.drift.resources.len())];
    for (n, what) in [(&r.reverted, "reverted"), (&r.accepted, "accepted"), (&r.reported, "reported")] {
        if !n.is_empty() {
            parts.push(format!("{what}: {}", n.join(", ")));
        }
    }
    if !r.spec_changes_pending.is_empty() {
        parts.push(format!("spec changes left for a person: {}", r.spec_changes_pending.join(", ")));
    }
    if !r.spec_changes_applied.is_empty() {
        parts.push(format!("spec changes applied: {}", r.spec_changes_applied.join(", ")));
    }
    parts.push(format!("{} API calls, {:.1}s", r.api_calls, r.seconds));
    ui.line(&format!("Round {} at {}: {}", r.number, r.started, parts.join("; ")));
    for e in &r.errors {
        ui.line(&format!("  error: {e}"));
    }
}

pub async fn run(args: ReconcileArgs, ui: &Ui) -> Result<i32> {
    let ignore = trellis_ops::parse_ignores(&args.ignore)?;
    let vars = args.spec.vars()?;
    let spec = trellis_ops::load_spec(&args.spec.spec, &vars)?;
    let status = Arc::new(Mutex::new(Status {
        format_version: trellis_ops::DRIFT_FORMAT,
        stack: spec.stack,
        ..Status::default()
    }));
    if let Some(address) = &args.listen {
        serve(address, status.clone())?;
        ui.note(&format!("serving /status and /metrics on http://{address}"));
    }
    let mut stop = stop_signal();
    let options =
        RoundOptions { apply_spec_changes: args.apply_spec_changes, allow_data_loss: args.allow_data_loss, ignore };
    let vars = args.spec.vars()?;
    let mut throttled_in_a_row = 0;
    let mut number = 0;
    loop {
        number += 1;
        status.lock().expect("the status").busy = true;
        let open = OpenOptions {
            spec: &args.spec.spec,
            vars: vars.clone(),
            backend: (&args.cloud.store).into(),
            lock_timeout: args.cloud.lock_timeout,
            delete_timeout: args.cloud.delete_timeout,
            operation: "reconcile",
            progress: Some(super::progress_lines(ui)),
        };
        // Not raced against the stop signal: a round runs to its end.
        let round = trellis_ops::round(number, open, &options).await;
        say(ui, &round);
        throttled_in_a_row = if round.throttled { throttled_in_a_row + 1 } else { 0 };
        let mut delivered = None;
        if let (Some(url), true) = (&args.notify, round.newsworthy()) {
            delivered = Some(notify(url.clone(), &round).await);
            if let Some(Err(e)) = &delivered {
                ui.line(&format!("  notify {url}: not delivered: {e}"));
            }
        }
        let outcome = if !round.errors.is_empty() {
            EXIT_ERROR
        } else if !round.reported.is_empty() {
            super::drift::EXIT_DRIFT
        } else {
            EXIT_OK
        };
        {
            let mut s = status.lock().expect("the status");
            s.busy = false;
            s.rounds += 1;
            s.reverts += round.reverted.len() as u64;
            s.accepts += round.accepted.len() as u64;
            s.api_calls += round.api_calls as u64;
            match delivered {
                Some(Ok(())) => s.notifications_sent += 1,
                Some(Err(_)) => s.notifications_failed += 1,
                None => {}
            }
            if round.errors.is_empty() {
                s.last_success = Some(round.finished.clone());
                s.last_success_unix =
                    SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).ok().map(|d| d.as_secs());
            } else {
                s.round_errors += 1;
            }
            s.history.push((round.number, round.started.clone(), round.finished.clone()));
            if s.history.len() > 20 {
                s.history.remove(0);
            }
            s.last_round = Some(round);
        }
        if args.once {
            return Ok(outcome);
        }
        if *stop.borrow() {
            ui.note("stopped after the round in flight");
            return Ok(EXIT_OK);
        }
        let wait = trellis_ops::next_wait(args.every.unwrap_or(Duration::from_secs(600)), throttled_in_a_row);
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = stop.changed() => {
                ui.note("stopped between rounds");
                return Ok(EXIT_OK);
            }
        }
    }
}
