//! What apply shows while it runs: a line as each operation starts and ends, a line
//! every interval for each operation still running (`Still creating... [1m20s
//! elapsed]`: a load balancer, a database or an instance refresh can take minutes), and
//! on a terminal a bar of the operations done out of the total, kept under the lines.
//! Without a terminal there is no bar, only the lines.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use trellis_core::Address;
use trellis_engine::{Event, OpKind};

/// How often an operation still running is reported, unless `TRELLIS_PROGRESS_INTERVAL`
/// (`30s`, `2m`) says otherwise.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(10);

pub struct Progress {
    bar: Option<ProgressBar>,
    running: Mutex<BTreeMap<(Address, OpKind), Instant>>,
}

impl Progress {
    /// For `total` operations; the bar only when `terminal` (stdout is one).
    pub fn new(total: u64, terminal: bool) -> Arc<Progress> {
        let bar = terminal.then(|| {
            let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stdout());
            let style = ProgressStyle::with_template("{bar:30} {pos}/{len} operations done [{elapsed}]")
                .expect("a valid template")
                .progress_chars("=> ");
            bar.set_style(style);
            bar.enable_steady_tick(Duration::from_secs(1));
            bar
        });
        Arc::new(Progress { bar, running: Mutex::new(BTreeMap::new()) })
    }

    /// The interval from `TRELLIS_PROGRESS_INTERVAL`, or the default.
    pub fn interval() -> Duration {
        std::env::var("TRELLIS_PROGRESS_INTERVAL")
            .ok()
            .and_then(|v| humantime::parse_duration(&v).ok())
            .filter(|d| !d.is_zero())
            .unwrap_or(DEFAULT_INTERVAL)
    }

    /// Writes a line above the bar (or plainly, without one).
    pub fn line(&self, text: &str) {
        match &self.bar {
            Some(bar) => bar.println(text),
            None => println!("{text}"),
        }
    }

    /// Keeps track of what runs, and moves the bar on as operations settle.
    pub fn event(&self, e: &Event) {
        let mut running = self.running.lock().expect("progress lock");
        let settled = match e {
            Event::Started(op) => {
                running.insert((op.address.clone(), op.kind), Instant::now());
                false
            }
            Event::Finished { op, .. } | Event::Failed { op, .. } => {
                running.remove(&(op.address.clone(), op.kind));
                true
            }
            Event::Skipped { .. } => true,
            Event::Interrupted { .. } => false,
        };
        if let (true, Some(bar)) = (settled, &self.bar) {
            bar.inc(1);
        }
    }

    /// The lines for the operations that have run for at least `interval`, in address order.
    pub fn still_running(&self, interval: Duration) -> Vec<String> {
        let running = self.running.lock().expect("progress lock");
        running
            .iter()
            .filter(|(_, since)| since.elapsed() >= interval)
            .map(|((address, kind), since)| still_line(address, *kind, since.elapsed()))
            .collect()
    }

    /// Every `interval`, a line for each operation still running; stops when the
    /// returned task is aborted.
    pub fn watch(self: &Arc<Self>, interval: Duration) -> tokio::task::JoinHandle<()> {
        let me = self.clone();
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
            loop {
                ticks.tick().await;
                for line in me.still_running(interval) {
                    me.line(&line);
                }
            }
        })
    }

    /// Takes the bar away, leaving the lines.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// `vpc.main: Still creating... [1m20s elapsed]`.
pub fn still_line(address: &Address, kind: OpKind, elapsed: Duration) -> String {
    let verb = match kind {
        OpKind::Create => "creating",
        OpKind::Update => "modifying",
        OpKind::Delete => "destroying",
        OpKind::Retag | OpKind::Forget => "rewriting its tags",
    };
    format!("{address}: Still {verb}... [{} elapsed]", elapsed_words(elapsed))
}

/// Whole seconds as Terraform users read them: `45s`, `1m20s`, `1h2m0s`.
pub fn elapsed_words(d: Duration) -> String {
    let s = d.as_secs();
    match (s / 3600, s / 60 % 60, s % 60) {
        (0, 0, sec) => format!("{sec}s"),
        (0, min, sec) => format!("{min}m{sec}s"),
        (h, min, sec) => format!("{h}h{min}m{sec}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use trellis_engine::Op;

    #[test]
    fn elapsed_reads_as_terraform_users_expect() {
        assert_eq!(elapsed_words(Duration::from_millis(9_900)), "9s");
        assert_eq!(elapsed_words(Duration::from_secs(80)), "1m20s");
        assert_eq!(elapsed_words(Duration::from_secs(3_720)), "1h2m0s");
        let db: Address = "db_instance.main".parse().unwrap();
        assert_eq!(
            still_line(&db, OpKind::Delete, Duration::from_secs(130)),
            "db_instance.main: Still destroying... [2m10s elapsed]"
        );
    }

    #[test]
    fn only_what_still_runs_past_the_interval_is_reported() {
        let p = Progress::new(3, false);
        let op = |a: &str, kind| Op { address: a.parse().unwrap(), kind };
        p.event(&Event::Started(op("vpc.main", OpKind::Create)));
        p.event(&Event::Started(op("subnet.a", OpKind::Update)));
        assert!(p.still_running(Duration::from_millis(200)).is_empty(), "nothing has run that long yet");
        std::thread::sleep(Duration::from_millis(250));
        p.event(&Event::Finished { op: op("subnet.a", OpKind::Update), id: None, elapsed: Duration::ZERO });
        assert_eq!(p.still_running(Duration::from_millis(200)), ["vpc.main: Still creating... [0s elapsed]"]);
    }
}
