//! `cargo xtask bench [scale|journal|cli|apply|rollout]`: the figures of
//! `docs/benchmarks.md`, each section rewritten between its markers.

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use crate::*;

/// A section of docs/benchmarks.md that a `cargo xtask bench WHAT` rewrites alone,
/// between its two markers.
pub(crate) struct Section {
    pub(crate) start: &'static str,
    pub(crate) end: &'static str,
    pub(crate) what: &'static str,
}

pub(crate) const SCALE: Section = Section {
    start: "<!-- scale:start (written by `cargo xtask bench` and `cargo xtask bench scale`) -->\n",
    end: "<!-- scale:end -->",
    what: "large-spec",
};

pub(crate) const JOURNAL: Section = Section {
    start: "<!-- journal:start (written by `cargo xtask bench` and `cargo xtask bench journal`) -->\n",
    end: "<!-- journal:end -->",
    what: "state-write",
};

pub(crate) const CLI: Section = Section {
    start: "<!-- cli:start (written by `cargo xtask bench` and `cargo xtask bench cli`) -->\n",
    end: "<!-- cli:end -->",
    what: "command-line",
};

pub(crate) const APPLY: Section = Section {
    start: "<!-- apply:start (written by `cargo xtask bench` and `cargo xtask bench apply`) -->\n",
    end: "<!-- apply:end -->",
    what: "apply",
};

pub(crate) const RULES: Section = Section {
    start: "<!-- rules:start (written by `cargo xtask bench` and `cargo xtask bench rules`) -->\n",
    end: "<!-- rules:end -->",
    what: "listener rules",
};

pub(crate) const COMPONENTS: Section = Section {
    start: "<!-- components:start (written by `cargo xtask bench` and `cargo xtask bench components`) -->\n",
    end: "<!-- components:end -->",
    what: "components",
};

pub(crate) const ROLLOUT: Section = Section {
    start: "<!-- rollout:start (written by `cargo xtask bench` and `cargo xtask bench rollout`) -->\n",
    end: "<!-- rollout:end -->",
    what: "rollout",
};

/// AWS's request buckets as the fault layer enforces them (`faults.py`'s BUCKETS):
/// size and refill per second.
pub(crate) fn bucket_rate(name: &str) -> Option<(f64, f64)> {
    Some(match name {
        "ec2-describe" => (100.0, 20.0),
        "ec2-mutate" | "ec2-security-group-rules" => (50.0, 5.0),
        "ec2-run-instances" => (5.0, 2.0),
        "elb-account" | "elb-describe" => (40.0, 10.0),
        "elb-mutate" => (20.0, 3.0),
        "elb-create-load-balancer" => (10.0, 0.2),
        "rds" => (300.0, 12.0),
        _ => return None,
    })
}

/// The longest chain of changes in a JSON plan, following `depends_on`.
pub(crate) fn plan_depth(plan: &serde_json::Value) -> usize {
    use std::collections::BTreeMap;
    let changes = plan["resource_changes"].as_array().cloned().unwrap_or_default();
    let deps: BTreeMap<String, Vec<String>> = changes
        .iter()
        .map(|c| {
            let on = c["depends_on"].as_array().into_iter().flatten().filter_map(|d| d.as_str().map(String::from));
            (c["address"].as_str().unwrap_or_default().to_string(), on.collect())
        })
        .collect();
    pub(crate) fn depth(a: &str, deps: &BTreeMap<String, Vec<String>>, memo: &mut BTreeMap<String, usize>) -> usize {
        if let Some(d) = memo.get(a) {
            return *d;
        }
        let d = 1 + deps.get(a).into_iter().flatten().map(|b| depth(b, deps, memo)).max().unwrap_or(0);
        memo.insert(a.to_string(), d);
        d
    }
    let mut memo = BTreeMap::new();
    deps.keys().map(|a| depth(a, &deps, &mut memo)).max().unwrap_or(0)
}

/// The generated 1,000-resource stack applied through the fault layer with 50 ms
/// before every call and AWS's request buckets enforced (and no other fault): the wall
/// time against the bound no apply can beat, and the throttling AWS answered.
pub(crate) fn apply_section() -> Result<String> {
    const LATENCY: f64 = 0.05;
    let trellis = release_trellis()?;
    let scale = release_example("trellis-plan", "scale")?;
    let latency = LATENCY.to_string();
    let moto = Moto::start()?.with_fault_args(&["--profile", "none", "--rate-limits", "--latency", &latency])?;
    let port = moto.faults.as_ref().map(|(_, p)| *p).ok_or("no fault layer")?;
    let work = root().join(".trellis-demo/apply");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).map_err(|e| e.to_string())?;
    let spec = work.join("scale1000.yaml");
    let out = Command::new(&scale).args(["--spec", "1000"]).output().map_err(|e| e.to_string())?;
    std::fs::write(&spec, out.stdout).map_err(|e| e.to_string())?;
    let spec = spec.to_string_lossy().to_string();
    let command = |args: &[&str], through_faults: bool| {
        let mut cmd = Command::new(&trellis);
        cmd.current_dir(&work).args(args).stdin(Stdio::null());
        moto.configure(&mut cmd);
        if through_faults {
            cmd.env("AWS_ENDPOINT_URL", format!("http://127.0.0.1:{port}"));
        }
        cmd
    };
    // The plan's shape, read straight from the emulator.
    let json = command(&["plan", &spec, "--json"], false).output().map_err(|e| e.to_string())?;
    let plan: serde_json::Value = serde_json::from_slice(&json.stdout).map_err(|e| e.to_string())?;
    let depth = plan_depth(&plan);
    let operations = plan["resource_changes"].as_array().map_or(0, Vec::len);
    let before = fault_stats(port)?;
    let applied = timed(&mut command(&["apply", &spec, "--auto-approve"], true))?;
    let after = fault_stats(port)?;
    // A plan of the applied stack, which has nothing to do, straight from the emulator:
    // the median of five, with its breakdown.
    let mut noop = Vec::new();
    for _ in 0..5 {
        let run = timed(&mut command(&["plan", &spec, "--detailed-exitcode", "--timings"], false))?;
        noop.push((run.total, run.stderr));
    }
    noop.sort_by_key(|(t, _)| *t);
    let (noop_time, noop_said) = noop.swap_remove(2);
    let breakdown = noop_said.lines().find(|l| l.starts_with("Timings: ")).unwrap_or_default().to_string();
    let noop_calls = noop_said
        .lines()
        .find_map(|l| l.strip_prefix("Read ")?.split(" in ").nth(1)?.split(' ').next()?.parse::<usize>().ok())
        .unwrap_or(0);
    // One reconcile round of it (`reconcile --once`), with nothing drifted: its calls,
    // from the line the round prints (`...; N API calls, T s`).
    let round = timed(&mut command(&["reconcile", &spec, "--once"], false))?;
    let round_calls = round
        .first
        .split("; ")
        .find_map(|part| part.split_once(" API calls").map(|(n, _)| n.trim().parse::<usize>()))
        .and_then(|n| n.ok())
        .unwrap_or(0);
    drop(moto);
    let _ = std::fs::remove_dir_all(&work);
    let count = |stats: &serde_json::Value, path: &[&str]| path.iter().fold(stats, |v, k| &v[*k]).as_u64().unwrap_or(0);
    let calls = count(&after, &["requests"]) - count(&before, &["requests"]);
    let throttled = count(&after, &["throttle"]) - count(&before, &["throttle"]);
    let throttled_actions: Vec<String> = after["by_action"]
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(action, per)| {
            let n = per["throttle"].as_u64()? - count(&before, &["by_action", action, "throttle"]);
            (n > 0).then(|| format!("{action} {n}"))
        })
        .collect();
    let throttled = if throttled_actions.is_empty() {
        "0".to_string()
    } else {
        format!("{throttled} ({})", throttled_actions.join(", "))
    };
    let (mut buckets, mut slowest) = (Vec::new(), (0.0f64, String::new()));
    for (name, n) in after["by_bucket"].as_object().into_iter().flatten() {
        let n = n.as_u64().unwrap_or(0) - count(&before, &["by_bucket", name]);
        let Some((size, rate)) = bucket_rate(name) else { continue };
        let secs = (n as f64 - size).max(0.0) / rate;
        buckets.push(format!("{name}: {n} ({secs:.0} s)"));
        if secs > slowest.0 {
            slowest = (secs, name.clone());
        }
    }
    let per_operation = calls as f64 / operations.max(1) as f64;
    let chain = depth as f64 * per_operation * LATENCY;
    let bound = slowest.0.max(chain);
    let took = applied.total.as_secs_f64();
    let bound_by = if chain > slowest.0 { "the chain".to_string() } else { slowest.1 };
    Ok(format!(
        "## An apply at its bound\n\nThe generated 1,000-resource stack of the large-spec section below, applied \
(`trellis apply --auto-approve`, release build) through the fault layer with {:.0} ms before every call, as a \
distant region adds, and AWS's request buckets enforced (`faults.py --profile none --rate-limits --latency \
{LATENCY}`): a call that finds its bucket empty is throttled, as AWS does. No apply can beat the larger of two \
times: each bucket's calls beyond its burst at its refill rate, and the longest chain of changes (the plan's \
dependencies) at the calls an operation makes on average ({per_operation:.1}), each waiting the latency.\n\n\
| operations | AWS calls | calls by bucket (time beyond the burst) | longest chain | bound | apply time | ratio | throttled by AWS |\n\
|---|---|---|---|---|---|---|---|\n\
| {operations} | {calls} | {} | {depth} changes, {chain:.0} s | {bound:.0} s ({bound_by}) | {took:.0} s | {:.2}× | {throttled} |\n\n\
A plan of the applied stack then has nothing to do; straight from the emulator (no latency), it takes \
{:.0} ms (the median of five) and {noop_calls} API calls. Its breakdown (`plan --timings`; the kinds are read \
at once, so their times overlap):\n\n> {breakdown}\n\n\
One round of `trellis reconcile --once` on it, nothing drifted, makes {round_calls} API calls and takes {:.0} ms: \
the same batched read as the plan, under the state's lock. A round that finds drift to revert adds a second read \
of the stack for its targeted plan, and the changes.\n",
        LATENCY * 1000.0,
        buckets.join("; "),
        took / bound,
        noop_time.as_secs_f64() * 1000.0,
        round.total.as_secs_f64() * 1000.0
    ))
}

/// The release `trellis`, built.
pub(crate) fn release_trellis() -> Result<PathBuf> {
    run(cargo().args(["build", "--quiet", "--release", "--bin", "trellis"]))?;
    let target = std::env::var("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|_| root().join("target"));
    Ok(target.join("release/trellis"))
}

/// One run of a command: its wall time, when its first line of output came, its
/// standard error.
pub(crate) struct Timed {
    pub(crate) total: Duration,
    pub(crate) first_line: Duration,
    /// The first line of its standard output.
    pub(crate) first: String,
    pub(crate) stderr: String,
}

pub(crate) fn timed(cmd: &mut Command) -> Result<Timed> {
    let start = Instant::now();
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().map_err(|e| e.to_string())?;
    let mut stdout = BufReader::new(child.stdout.take().expect("piped"));
    let mut stderr = child.stderr.take().expect("piped");
    let errors = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let mut line = String::new();
    stdout.read_line(&mut line).map_err(|e| e.to_string())?;
    let first_line = start.elapsed();
    std::io::copy(&mut stdout, &mut std::io::sink()).map_err(|e| e.to_string())?;
    let status = child.wait().map_err(|e| e.to_string())?;
    let total = start.elapsed();
    let stderr = errors.join().unwrap_or_default();
    if !status.success() {
        return Err(format!("{cmd:?} failed: {stderr}"));
    }
    Ok(Timed { total, first_line, first: line, stderr })
}

/// `trellis validate` and `trellis plan` of the generated stack at 1k to 50k resources,
/// each the median of three runs, the plan against an empty emulator (warmed up
/// first: moto's first answer takes a second or two) with the peak memory its
/// `--timings` reports.
pub(crate) fn cli_section() -> Result<String> {
    let cpus = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let trellis = release_trellis()?;
    let scale = release_example("trellis-plan", "scale")?;
    let moto = Moto::start()?;
    let work = root().join(".trellis-demo/cli");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).map_err(|e| e.to_string())?;
    let median = |mut v: Vec<Duration>| {
        v.sort();
        v[v.len() / 2].as_secs_f64() * 1000.0
    };
    let (mut rows, mut base) = (Vec::new(), None);
    for (i, n) in [1_000, 1_000, 5_000, 10_000, 50_000].into_iter().enumerate() {
        let spec = work.join(format!("scale{n}.yaml"));
        let out = Command::new(&scale).args(["--spec", &n.to_string()]).output().map_err(|e| e.to_string())?;
        std::fs::write(&spec, out.stdout).map_err(|e| e.to_string())?;
        let trellis_at = |args: &[&str]| {
            let mut cmd = Command::new(&trellis);
            cmd.current_dir(&work).args(args).stdin(Stdio::null());
            moto.configure(&mut cmd);
            timed(&mut cmd)
        };
        let spec = spec.to_string_lossy().to_string();
        let peak_of = |run: &Timed| -> Result<u64> {
            let mb = run.stderr.split("; peak memory ").nth(1).and_then(|r| r.split(' ').next()?.parse().ok());
            mb.ok_or_else(|| format!("no peak memory in: {}", run.stderr))
        };
        let (mut validate, mut plan, mut first, mut peak) = (Vec::new(), Vec::new(), Vec::new(), 0u64);
        let (mut json, mut json_peak) = (Vec::new(), 0u64);
        for _ in 0..3 {
            validate.push(trellis_at(&["validate", &spec])?.total);
            let run = trellis_at(&["plan", &spec, "--timings"])?;
            plan.push(run.total);
            first.push(run.first_line);
            peak = peak.max(peak_of(&run)?);
            let run = trellis_at(&["plan", &spec, "--json", "--timings"])?;
            json.push(run.total);
            json_peak = json_peak.max(peak_of(&run)?);
        }
        if i == 0 {
            continue; // the emulator's warm-up
        }
        let (validate, plan, first, peak) = (median(validate), median(plan), median(first), peak as f64);
        let (json, json_peak) = (median(json), json_peak as f64);
        let (v1, p1, m1, j1, jm1) = *base.get_or_insert((validate, plan, peak, json, json_peak));
        rows.push(format!(
            "| {n} | {validate:.0} ms ({:.1}×) | {plan:.0} ms ({:.1}×) | {first:.0} ms | {peak:.0} MB ({:.1}×) | \
             {json:.0} ms ({:.1}×) | {json_peak:.0} MB ({:.1}×) |",
            validate / v1,
            plan / p1,
            peak / m1,
            json / j1,
            json_peak / jm1
        ));
        eprintln!("xtask: {n} resources validated and planned");
    }
    drop(moto);
    let _ = std::fs::remove_dir_all(&work);
    Ok(format!(
        "## The command line at scale\n\n`trellis validate` and `trellis plan` (a process each, release build, {cpus} \
cores) of the generated stack of the large-spec section below, the plan against an empty emulator: the whole \
plan is read from AWS (six tag-filtered describes that find nothing), planned and printed. Each time is the \
median of three runs; the first line is when the plan's first line of output came; the peak memory is the \
plan's own (`plan --timings`); `plan --json` prints the same plan as JSON, a resource at a time. In brackets, \
each figure's ratio to 1,000 resources.\n\n\
| resources | `validate` | `plan` | first line of the plan | peak memory of the plan | `plan --json` | its peak memory |\n\
|---|---|---|---|---|---|---|\n{}\n",
        rows.join("\n")
    ))
}

/// The built example `name` of a release build.
pub(crate) fn release_example(package: &str, name: &str) -> Result<PathBuf> {
    run(cargo().args(["build", "--quiet", "--release", "-p", package, "--example", name]))?;
    let target = std::env::var("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|_| root().join("target"));
    Ok(target.join("release/examples").join(name))
}

/// What an apply writes to its state as the stack grows: the `journal` example of
/// trellis-engine, one process per size, in a scratch directory of the repository's
/// disk (fsyncs on a memory file system would cost nothing).
pub(crate) fn journal_section() -> Result<String> {
    let example = release_example("trellis-engine", "journal")?;
    let scratch = root().join(".trellis-demo/journal");
    std::fs::create_dir_all(&scratch).map_err(|e| e.to_string())?;
    let (mut rows, mut largest) = (Vec::new(), 0.0);
    for n in [100, 1_000, 10_000] {
        let out =
            Command::new(&example).arg(n.to_string()).current_dir(&scratch).output().map_err(|e| e.to_string())?;
        let line = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let f: Vec<f64> = line.split(' ').filter_map(|v| v.parse().ok()).collect();
        let [resources, ops, bytes, syncs, document, ms] = f[..] else {
            return Err(format!("the journal example printed `{line}`{}", String::from_utf8_lossy(&out.stderr)));
        };
        rows.push(format!(
            "| {resources} | {ops} | {:.1} MB | {syncs} | {:.0} | {:.2} | {:.1} MB | {:.0} ms |",
            bytes / 1e6,
            bytes / ops,
            syncs / ops,
            document / 1e6,
            ms
        ));
        largest = document;
        eprintln!("xtask: {resources} resources applied in memory");
    }
    let _ = std::fs::remove_dir_all(&scratch);
    Ok(format!(
        "## What an apply writes to its state

The generated stack of the large-spec section below, planned against \
an empty state and applied through a cloud that answers at once (in memory), with the state in a local file: \
`cargo run --release -p trellis-engine --example journal -- 100 1000 10000`. Bytes and fsyncs count everything \
written for the state over the whole apply: each operation's two journal entries (before its first call and \
after its last), the full writes at the start and the end of the run and whenever the journal grew as long as \
the state, and their `.backup` copies. Before the journal, every operation rewrote the whole document twice, \
with a backup copy each time: four times the state's size, which grows during the apply, so at 10,000 \
resources about {:.0} MB per operation (twice the final state), against the flat kilobyte here.\n\n\
| resources | operations | bytes written | fsyncs | bytes per operation | fsyncs per operation | final state | apply time (no cloud) |\n\
|---|---|---|---|---|---|---|---|\n{}\n",
        largest * 2.0 / 1e6,
        rows.join("\n")
    ))
}

/// Loading and planning large specs, with no cloud: the `scale` example of trellis-plan
/// in a release build, one process per size, each figure also as its ratio to 1,000.
pub(crate) fn scale_section() -> Result<String> {
    let cpus = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let example = release_example("trellis-plan", "scale")?;
    let mut rows = Vec::new();
    let mut base: Option<(f64, f64, f64)> = None;
    for n in [1_000, 5_000, 10_000, 50_000] {
        let out = Command::new(&example).arg(n.to_string()).output().map_err(|e| e.to_string())?;
        let line = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let f: Vec<f64> = line.split(' ').filter_map(|v| v.parse().ok()).collect();
        let [resources, load, plan, _, peak] = f[..] else { return Err(format!("the scale example printed `{line}`")) };
        let (l1, p1, m1) = *base.get_or_insert((load, plan, peak));
        rows.push(format!(
            "| {resources} | {load:.0} ms ({:.1}×) | {plan:.0} ms ({:.1}×) | {:.0} MB ({:.1}×) |",
            load / l1,
            plan / p1,
            peak / 1024.0,
            peak / m1
        ));
        eprintln!("xtask: {resources} resources loaded and planned");
    }
    Ok(format!(
        "## Large specs\n\nLoading (parsing and checking, as `trellis validate`) and planning against an empty \
state and an empty cloud, in one process with no emulator: `cargo run --release -p trellis-plan --example scale`, \
release build, {cpus} cores. Each VPC of the generated stack is 50 resources: an internet gateway, ten subnets, \
a route table and a network ACL over them, and 36 security groups each open to the previous one. In brackets, \
each figure's ratio to 1,000 resources: linear growth is a ratio equal to the size's.\n\n\
| resources | load | plan | peak memory |\n|---|---|---|---|\n{}\n",
        rows.join("\n")
    ))
}

/// The same large stack written flat and as copies of a component: what reading the
/// components costs. The `components` example of trellis-plan, best of three each.
pub(crate) fn components_section() -> Result<String> {
    let cpus = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let example = release_example("trellis-plan", "components")?;
    let out = Command::new(&example).args(["1000", "10000", "50000"]).output().map_err(|e| e.to_string())?;
    let mut rows = Vec::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let f: Vec<f64> = line.split(' ').filter_map(|v| v.parse().ok()).collect();
        let [n, fl, fp, cl, cp] = f[..] else { return Err(format!("the components example printed `{line}`")) };
        let copies = (n / 100.0).ceil();
        rows.push(format!(
            "| {n} | {copies} | {fl:.0} + {fp:.0} = {:.0} ms | {cl:.0} + {cp:.0} = {:.0} ms | {:.2}× |",
            fl + fp,
            cl + cp,
            (cl + cp) / (fl + fp)
        ));
    }
    if rows.is_empty() {
        return Err(format!("the components example failed: {}", String::from_utf8_lossy(&out.stderr)));
    }
    eprintln!("xtask: components measured");
    Ok(format!(
        "The large-spec stack above written flat and written as copies (`count`) of a component of 100 \
resources (two of its VPCs, their CIDRs computed from `count.index` by expressions): loading (reading the spec and \
each copy's component file, as `trellis validate`) plus planning, best of three, in one process with no emulator: \
`cargo run --release -p trellis-plan --example components`, release build, {cpus} cores. The ratio is the \
components' cost to the flat stack's; the aim is at most 1.2×.\n\n\
| resources | copies | flat: load + plan | components: load + plan | ratio |\n|---|---|---|---|---|\n{}\n",
        rows.join("\n")
    ))
}

/// `cargo xtask bench scale|journal`: rewrites only that section of docs/benchmarks.md
/// (added at the end when it is not there yet).
pub(crate) fn bench_section(section: &Section, measure: fn() -> Result<String>) -> Result<ExitCode> {
    let path = root().join("docs/benchmarks.md");
    let doc = std::fs::read_to_string(&path).map_err(|e| e.to_string())?;
    let text = measure()?;
    let (start, end) = (section.start, section.end);
    let updated = match (doc.find(start), doc.find(end)) {
        (Some(at), Some(to)) => format!("{}{text}{}", &doc[..at + start.len()], &doc[to..]),
        _ => format!("{}\n{start}{text}{end}\n", doc.trim_end_matches('\n').to_string() + "\n"),
    };
    std::fs::write(&path, updated).map_err(|e| e.to_string())?;
    eprintln!("xtask: wrote the {} section of docs/benchmarks.md", section.what);
    Ok(ExitCode::SUCCESS)
}

/// A stack of one VPC, `n` subnets and `n` security groups with two rules each.
pub(crate) fn bench_spec(n: usize) -> String {
    let mut s = format!("stack: bench{n}\nregion: {REGION}\nresources:\n  vpc.main:\n    cidr_block: 10.0.0.0/16\n");
    for i in 0..n {
        s.push_str(&format!(
            "  subnet.s{i}:\n    vpc_id: ${{vpc.main}}\n    cidr_block: 10.0.{i}.0/24\n  security_group.g{i}:\n    vpc_id: ${{vpc.main}}\n    ingress:\n      - {{ protocol: tcp, port: 443, cidr: 10.0.{i}.0/24 }}\n      - {{ protocol: tcp, port: 22, cidr: 10.1.0.0/16 }}\n"
        ));
    }
    s
}

/// A stack of N load-balancing tiers without instances: per tier a launch template, a
/// target group, an auto scaling group of size 0 in that group, and a scaling policy.
pub(crate) fn bench_lb_spec(n: usize) -> String {
    let mut s = format!(
        "stack: benchlb{n}\nregion: {REGION}\nresources:\n  vpc.main:\n    cidr_block: 10.0.0.0/16\n  subnet.a:\n    vpc_id: ${{vpc.main}}\n    cidr_block: 10.0.1.0/24\n"
    );
    for i in 0..n {
        s.push_str(&format!(
            "  launch_template.t{i}:\n    image_id: ami-0abcdef1234567890\n    instance_type: t3.micro\n  target_group.g{i}:\n    port: 8080\n    vpc_id: ${{vpc.main}}\n  autoscaling_group.a{i}:\n    launch_template_id: ${{launch_template.t{i}}}\n    min_size: 0\n    max_size: 2\n    vpc_zone_identifier: [\"${{subnet.a}}\"]\n    target_group_arns: [\"${{target_group.g{i}}}\"]\n  scaling_policy.p{i}:\n    auto_scaling_group_name: ${{autoscaling_group.a{i}}}\n    metric: ASGAverageCPUUtilization\n    target_value: 50\n"
        ));
    }
    s
}

/// Applies stacks of growing size on the emulator and measures what a plan costs:
/// API calls of the refresh (deterministic) and wall time (this machine, emulator).
pub(crate) fn bench() -> Result<ExitCode> {
    run(cargo().args(["build", "--quiet", "--release", "--workspace", "--bins"]))?;
    let target = std::env::var("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|_| root().join("target"));
    let trellis = target.join("release/trellis");
    let moto = Moto::start()?;
    let work = root().join(".trellis-demo/bench");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).map_err(|e| e.to_string())?;
    let invoke = |args: &[&str]| -> Result<(std::time::Duration, String)> {
        let mut cmd = Command::new(&trellis);
        cmd.current_dir(&work).args(args).stdin(Stdio::null());
        moto.configure(&mut cmd);
        let start = Instant::now();
        let out = cmd.output().map_err(|e| e.to_string())?;
        let elapsed = start.elapsed();
        if !out.status.success() {
            return Err(format!("trellis {} failed: {}", args.join(" "), String::from_utf8_lossy(&out.stderr)));
        }
        Ok((elapsed, String::from_utf8_lossy(&out.stderr).into_owned()))
    };
    let plan_cost = |spec: &str| -> Result<(usize, std::time::Duration)> {
        let mut times = Vec::new();
        let mut calls = String::new();
        for _ in 0..5 {
            let (t, err) = invoke(&["plan", spec, "--detailed-exitcode"])?;
            times.push(t);
            calls = err.lines().find(|l| l.starts_with("Read ")).unwrap_or("").to_string();
        }
        times.sort();
        let api_calls: usize =
            calls.split(" in ").nth(1).and_then(|r| r.split(' ').next()).and_then(|c| c.parse().ok()).unwrap_or(0);
        Ok((api_calls, times[times.len() / 2]))
    };
    // One stack applied with its state in the local file, then in S3, where every state
    // write (the journal entry before each operation, its outcome after) is a
    // conditional PutObject.
    moto.create_bucket("bench-state")?;
    let mut store_rows = Vec::new();
    let n = 50;
    let spec = work.join(format!("store{n}.yaml"));
    std::fs::write(&spec, bench_spec(n).replace("stack: bench", "stack: store")).map_err(|e| e.to_string())?;
    let spec = spec.to_string_lossy().to_string();
    let s3 = format!("s3://bench-state/store{n}.json");
    for (store, flags) in [("local file", vec![]), ("S3", vec!["--backend", s3.as_str()])] {
        let with = |args: &[&str]| -> Result<std::time::Duration> {
            let all: Vec<&str> = args.iter().chain(flags.iter()).copied().collect();
            Ok(invoke(&all)?.0)
        };
        let apply = with(&["apply", &spec, "--auto-approve", "--parallelism", "10"])?;
        let mut times = Vec::new();
        for _ in 0..5 {
            times.push(with(&["plan", &spec, "--detailed-exitcode"])?);
        }
        times.sort();
        with(&["state", "pull", &spec, "--out", "bench-state.json"])?;
        let state = std::fs::read_to_string(work.join("bench-state.json")).map_err(|e| e.to_string())?;
        let serial = state
            .lines()
            .find_map(|l| l.trim().strip_prefix("\"serial\": "))
            .map(|v| v.trim_end_matches(',').to_string())
            .unwrap_or_default();
        store_rows.push(format!(
            "| {store} | {} | {serial} | {:.0} ms | {:.1} s |",
            1 + 2 * n,
            times[2].as_secs_f64() * 1000.0,
            apply.as_secs_f64()
        ));
        with(&["destroy", &spec, "--auto-approve"])?;
        eprintln!("xtask: state in the {store} done");
    }
    let mut lb_rows = Vec::new();
    for n in [5usize, 25, 50] {
        let spec = work.join(format!("benchlb{n}.yaml"));
        std::fs::write(&spec, bench_lb_spec(n)).map_err(|e| e.to_string())?;
        let spec = spec.to_string_lossy().to_string();
        let (apply, _) = invoke(&["apply", &spec, "--auto-approve", "--parallelism", "10"])?;
        let (api_calls, median) = plan_cost(&spec)?;
        let objects = 2 + 4 * n;
        lb_rows.push(format!(
            "| {objects} | {api_calls} | {} | {} | {:.0} ms | {:.1} s |",
            // by itself: one describe per object (two for a template: its version),
            // and the target groups' attributes, which AWS offers one group at a time
            objects + n + n,
            n,
            median.as_secs_f64() * 1000.0,
            apply.as_secs_f64()
        ));
        invoke(&["destroy", &spec, "--auto-approve"])?;
        eprintln!("xtask: {objects} load-balancing objects done");
    }
    let mut rows = Vec::new();
    for n in [10usize, 50, 100, 200] {
        let spec = work.join(format!("bench{n}.yaml"));
        std::fs::write(&spec, bench_spec(n)).map_err(|e| e.to_string())?;
        let spec = spec.to_string_lossy().to_string();
        let (apply, _) = invoke(&["apply", &spec, "--auto-approve", "--parallelism", "10"])?;
        let (api_calls, median) = plan_cost(&spec)?;
        let objects = 1 + 2 * n;
        rows.push(format!(
            "| {objects} | {api_calls} | {} | {:.0} ms | {:.1} s |",
            // one describe per object plus the VPC's two attribute reads
            objects + 2,
            median.as_secs_f64() * 1000.0,
            apply.as_secs_f64()
        ));
        invoke(&["destroy", &spec, "--auto-approve"])?;
        eprintln!("xtask: {} objects done", objects);
    }
    drop(moto);
    let _ = std::fs::remove_dir_all(root().join(".trellis-demo"));
    let cpus = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let table = rows.join("\n");
    let lb_table = lb_rows.join("\n");
    let store_table = store_rows.join("\n");
    let doc = format!(
        "# Benchmarks\n\nWritten by `cargo xtask bench`: release build, the moto emulator on loopback, {cpus} cores. \
Each stack is one VPC with N subnets and N security groups (two rules each); the plan is \
run five times after apply and the median is shown. API calls are what the refresh of \
`trellis plan` made (counted by the AWS crate); they do not depend on the machine. The \
third column is what reading each object by itself would cost (one describe per object, \
plus the two per-VPC DNS attribute reads that AWS only offers one at a time). Times are \
on the emulator, which answers in about a millisecond; real AWS adds tens of \
milliseconds per call, which is where the batched reads pay off. Apply time is bound \
by the client-side limit kept under AWS's mutating-call bucket (a burst of 40 of its 50, then 4.75 of its 5 \
calls a second), which trellis keeps on the emulator too.\n\n\
| objects | refresh API calls | one call per object | plan time (median of 5) | apply time |\n|---|---|---|---|---|\n{table}\n\n\
## Load-balancing kinds\n\n\
Each stack is a VPC and a subnet with N tiers: a launch template, a target group, an auto \
scaling group of size 0 in that target group, and a target-tracking policy. The ELB API has \
no tag filter, so target groups are listed (400 a page) and their tags read 20 ARNs a call; \
their attributes (deregistration delay) come one target group per call, because AWS offers \
nothing else: that column is listed apart. Templates are read with one call for all of them \
and one for all their latest versions, groups 100 a page, policies 50 a page.\n\n\
| objects | refresh API calls | one call per object | of which per-object by necessity | plan time (median of 5) | apply time |\n|---|---|---|---|---|---|\n{lb_table}\n\n\
## Where the state is kept\n\n\
A network stack of 101 objects (as above), applied with its state in the local file and then in \
S3 (`--backend s3://…`, on the same emulator). The apply writes the whole state at its start \
and its end (and when the journal grows as long as the state), so its serial counts those \
full writes; between them, each operation adds two journal entries (a line of the local \
journal file, or a small object each in S3, one conditional PutObject). A plan adds four S3 \
calls: the lock object's create and delete, the state's read and the listing of its \
journal. Both applies are bound by the mutating-call bucket, so the difference between them \
is noise of the run. On the emulator a PutObject takes about a millisecond; on AWS each \
journal entry waits for S3 (tens of milliseconds, not measured here), since it is written \
ahead of its operation.\n\n\
| state store | objects | full state writes in the apply (serial) | plan time (median of 5) | apply time |\n|---|---|---|---|---|\n{store_table}\n\n\
{}{}{}\n\n{}{}{}\n\n{}{}{}\n\n{}{}{}\n\n## Components\n\n{}{}{}\n\n## A listener's rules\n\n{}{}{}\n\n## Rollouts\n\nA rollout's new instances warm up and pass their health checks at once (both start\nwhen an instance is registered), so a batch takes the longer of the two plus trellis's\nread interval, and a rollout stays under the bound, which adds them.\n\n{}{}{}\n",
        APPLY.start,
        apply_section()?,
        APPLY.end,
        JOURNAL.start,
        journal_section()?,
        JOURNAL.end,
        CLI.start,
        cli_section()?,
        CLI.end,
        SCALE.start,
        scale_section()?,
        SCALE.end,
        COMPONENTS.start,
        components_section()?,
        COMPONENTS.end,
        RULES.start,
        crate::rules::section()?,
        RULES.end,
        ROLLOUT.start,
        rollout::section()?,
        ROLLOUT.end
    );
    std::fs::write(root().join("docs/benchmarks.md"), doc).map_err(|e| e.to_string())?;
    eprintln!("xtask: wrote docs/benchmarks.md");
    Ok(ExitCode::SUCCESS)
}
