//! `cargo xtask demo | test`: the project's own tooling. It needs only Rust and
//! Python 3: it makes a virtualenv under the repository (`.venv`, ignored by git),
//! installs the pinned moto server there, starts it on a free loopback port, runs the
//! demo or the tests against it, and stops it again, whatever happens.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

mod rollout;

const REGION: &str = "us-east-1";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("demo") => demo(),
        Some("test") => test(&args[1..]),
        Some("moto") => serve(),
        Some("docs") => docs(),
        Some("bench") if std::env::args().nth(2).as_deref() == Some("scale") => bench_section(&SCALE, scale_section),
        Some("bench") if std::env::args().nth(2).as_deref() == Some("journal") => {
            bench_section(&JOURNAL, journal_section)
        }
        Some("bench") if std::env::args().nth(2).as_deref() == Some("cli") => bench_section(&CLI, cli_section),
        Some("bench") if std::env::args().nth(2).as_deref() == Some("apply") => bench_section(&APPLY, apply_section),
        Some("bench") if std::env::args().nth(2).as_deref() == Some("rollout") => {
            bench_section(&ROLLOUT, rollout::section)
        }
        Some("bench") => bench(),
        Some("reliability") => reliability(),
        Some("fuzz") => fuzz(),
        _ => {
            eprintln!("usage: cargo xtask <demo | test [cargo test args] | moto>");
            eprintln!(
                "  demo  runs validate, plan, apply, plan, a rollout, a rolled-back rollout and destroy of specs/examples/web-asg.yaml on the emulator"
            );
            eprintln!("  test  runs every test, the end-to-end ones against the emulator");
            eprintln!("  moto  starts the emulator in the foreground and prints the variables to use it");
            eprintln!("  docs  rewrites the generated kind reference in docs/spec.md and draws docs/web-asg-graph.svg");
            eprintln!("  bench measures refresh calls and plan time for growing stacks; writes docs/benchmarks.md");
            eprintln!("  bench scale  only the section on loading and planning 1k to 50k resources (no emulator)");
            eprintln!("  bench journal  only the section on what an apply writes to its state, 100 to 10k resources");
            eprintln!("  bench cli  only the section on `trellis validate` and `trellis plan` of 1k to 50k resources");
            eprintln!(
                "  bench apply  only the section on applying 1,000 resources at 50 ms a call under AWS's rate limits"
            );
            eprintln!("  bench rollout  only the section on rolling 2, 10 and 50 instances onto a new version");
            eprintln!("  fuzz  runs the fuzz targets (crates/trellis-plan/tests/fuzz.rs) for 20,000 cases each");
            eprintln!("  reliability applies, plans and destroys every example through the fault layer; writes the figures of docs/reliability.md");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("xtask: {e}");
            ExitCode::FAILURE
        }
    }
}

type Result<T> = std::result::Result<T, String>;

/// The repository this xtask was started in. Found at run time, never compiled in: with
/// a shared `CARGO_TARGET_DIR`, one xtask binary may have been built from another checkout.
fn root() -> PathBuf {
    let start = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .or_else(|| std::env::current_dir().ok())
        .expect("a current directory");
    start
        .ancestors()
        .find(|d| d.join("crates/xtask/moto-requirements.txt").is_file())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| panic!("{} is not inside the trellis repository", start.display()))
}

fn requirements() -> Result<String> {
    let path = root().join("crates/xtask/moto-requirements.txt");
    std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))
}

fn venv() -> PathBuf {
    root().join(".venv")
}

fn venv_bin(name: &str) -> PathBuf {
    venv().join("bin").join(name)
}

fn run(cmd: &mut Command) -> Result<()> {
    let status = cmd.status().map_err(|e| format!("cannot run {cmd:?}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{cmd:?} failed: {status}"))
    }
}

/// Makes `.venv` and installs the pinned moto into it, unless that was done already.
fn ensure_moto() -> Result<()> {
    let marker = venv().join(".trellis-requirements");
    let wanted = requirements()?;
    if venv_bin("moto_server").exists() && std::fs::read_to_string(&marker).ok() == Some(wanted.clone()) {
        return Ok(());
    }
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    if !venv_bin("python").exists() {
        eprintln!("xtask: creating {} with {python}", venv().display());
        run(Command::new(&python).args(["-m", "venv"]).arg(venv()))?;
    }
    eprintln!("xtask: installing the packages pinned in crates/xtask/moto-requirements.txt into .venv");
    let reqs = root().join("crates/xtask/moto-requirements.txt");
    run(Command::new(venv_bin("python"))
        .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r"])
        .arg(&reqs))?;
    std::fs::write(&marker, &wanted).map_err(|e| e.to_string())?;
    Ok(())
}

/// A running moto server, and the fault layer in front of it; both stopped when dropped.
struct Moto {
    child: Child,
    port: u16,
    log: PathBuf,
    /// `crates/xtask/faults.py` with the mixed profile, for the tests that run through it.
    faults: Option<(Child, u16)>,
}

fn free_port() -> Result<u16> {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map_err(|e| e.to_string()).map(|a| a.port())
}

/// Waits until something accepts connections on the port.
fn wait_listening(port: u16, child: &mut Child, what: &str) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("{what} exited at start ({status})"));
        }
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(format!("{what} did not listen on port {port} within 30s"))
}

impl Moto {
    /// Starts moto (through `emulator.py`, which carries the shims for its defects).
    fn start() -> Result<Moto> {
        ensure_moto()?;
        let port = free_port()?;
        let log = venv().join(format!("moto-{port}.log"));
        let out = std::fs::File::create(&log).map_err(|e| e.to_string())?;
        let child = Command::new(venv_bin("python"))
            .arg(root().join("crates/xtask/emulator.py"))
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(out.try_clone().map_err(|e| e.to_string())?)
            .stderr(out)
            .spawn()
            .map_err(|e| format!("cannot start moto: {e}"))?;
        let mut moto = Moto { child, port, log, faults: None };
        moto.wait_ready()?;
        eprintln!("xtask: moto is listening on {} (log: {})", moto.url(), moto.log.display());
        Ok(moto)
    }

    /// Also starts the fault layer in front of moto, with `profile`.
    fn with_faults(self, profile: &str) -> Result<Moto> {
        self.with_fault_args(&["--profile", profile])
    }

    /// Also starts the fault layer in front of moto, with these arguments.
    fn with_fault_args(mut self, args: &[&str]) -> Result<Moto> {
        let port = free_port()?;
        let profile = args.join(" ");
        let mut child = Command::new(venv_bin("python"))
            .arg(root().join("crates/xtask/faults.py"))
            .args(["--listen", &port.to_string(), "--upstream", &self.url()])
            .args(args)
            .stdout(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start the fault layer: {e}"))?;
        wait_listening(port, &mut child, "the fault layer")?;
        eprintln!("xtask: the fault layer ({profile}) is listening on http://127.0.0.1:{port}");
        self.faults = Some((child, port));
        Ok(self)
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Makes an S3 bucket on the emulator (which takes unsigned requests).
    fn create_bucket(&self, name: &str) -> Result<()> {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).map_err(|e| e.to_string())?;
        let req = format!("PUT /{name} HTTP/1.0\r\nHost: 127.0.0.1:{}\r\nContent-Length: 0\r\n\r\n", self.port);
        s.write_all(req.as_bytes()).map_err(|e| e.to_string())?;
        let mut first = String::new();
        BufReader::new(&mut s).read_line(&mut first).map_err(|e| e.to_string())?;
        if first.contains(" 200") {
            Ok(())
        } else {
            Err(format!("creating the bucket {name} on moto failed: {}", first.trim()))
        }
    }

    fn wait_ready(&mut self) -> Result<()> {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("moto_server exited at start ({status}); see {}", self.log.display()));
            }
            if let Ok(mut s) = TcpStream::connect(("127.0.0.1", self.port)) {
                let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
                let req = format!("GET /moto-api/ HTTP/1.0\r\nHost: 127.0.0.1:{}\r\n\r\n", self.port);
                let mut first = String::new();
                if s.write_all(req.as_bytes()).is_ok()
                    && BufReader::new(&mut s).read_line(&mut first).is_ok()
                    && first.starts_with("HTTP/")
                {
                    return Ok(());
                }
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        Err(format!("moto_server did not answer within 60s; see {}", self.log.display()))
    }

    /// Sets the variables that point AWS clients at this server and nowhere else.
    fn configure(&self, cmd: &mut Command) {
        cmd.env("AWS_ENDPOINT_URL", self.url())
            .env("TRELLIS_TEST_ENDPOINT", self.url())
            // The tests that need a fault layer of their own start it with this Python.
            .env("TRELLIS_TEST_PYTHON", venv_bin("python"))
            // The emulator's refreshes take seconds, not AWS's minutes: read them often.
            .env("TRELLIS_ROLLOUT_POLL_MS", "500")
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_REGION", REGION)
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_SESSION_TOKEN")
            .env_remove("AWS_DEFAULT_PROFILE");
        if let Some((_, port)) = &self.faults {
            cmd.env("TRELLIS_TEST_FAULTY_ENDPOINT", format!("http://127.0.0.1:{port}"));
        }
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        if let Some((child, _)) = &mut self.faults {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

/// The cargo that runs xtask, for a build of the workspace. `cargo run` gave xtask the
/// variables it sets for a package being run (`CARGO_MANIFEST_DIR`, `CARGO_PKG_NAME`,
/// ...); passed on, they would reach the build scripts of the crates below the AWS
/// SDKs, and ring's asks to be run again whenever they change: a plain `cargo build`
/// (without them) and `cargo xtask test` (with xtask's, whose path is the checkout's)
/// would then each rebuild the SDKs after the other. The build sees none of them.
fn cargo() -> Command {
    let mut c = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    c.current_dir(root());
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        if is_package_variable(&name) {
            c.env_remove(name.as_ref());
        }
    }
    c
}

/// A variable cargo sets for the package it runs or builds, as opposed to one that
/// configures cargo itself (`CARGO_TARGET_DIR`, `CARGO_HOME`, `CARGO_TERM_COLOR`, ...).
fn is_package_variable(name: &str) -> bool {
    name.starts_with("CARGO_PKG_")
        || name.starts_with("CARGO_MANIFEST_")
        || name.starts_with("CARGO_BIN_")
        || matches!(name, "CARGO_CRATE_NAME" | "CARGO_PRIMARY_PACKAGE" | "CARGO_RUSTC_CURRENT_DIR" | "OUT_DIR")
}

fn test(extra: &[String]) -> Result<ExitCode> {
    // Build first, so the emulator is not kept waiting during a long compile.
    run(cargo().args(["test", "--workspace", "--no-run", "--quiet"]))?;
    let moto = Moto::start()?.with_faults("mixed")?;
    let mut cmd = cargo();
    cmd.args(["test", "--workspace", "--no-fail-fast"]).args(extra);
    moto.configure(&mut cmd);
    let status = cmd.status().map_err(|e| e.to_string())?;
    if !status.success() {
        let mut log = String::new();
        let _ = std::fs::File::open(&moto.log).and_then(|mut f| f.read_to_string(&mut log));
        let tail: Vec<&str> = log.lines().filter(|l| l.contains("Error") || l.contains("Traceback")).take(20).collect();
        if !tail.is_empty() {
            eprintln!("xtask: errors in the moto log:\n{}", tail.join("\n"));
        }
    }
    drop(moto);
    Ok(if status.success() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

fn demo() -> Result<ExitCode> {
    run(cargo().args(["build", "--quiet", "--workspace", "--bins"]))?;
    let target = std::env::var("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|_| root().join("target"));
    let trellis = target.join("debug/trellis");
    let moto = Moto::start()?;
    let work = root().join(".trellis-demo");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).map_err(|e| e.to_string())?;
    let state = work.join("web-asg.json");
    // The spec and its boot script are copied, so the demo can ship new versions of the
    // script without touching the example.
    std::fs::create_dir_all(work.join("files")).map_err(|e| e.to_string())?;
    std::fs::copy(root().join("specs/examples/web-asg.yaml"), work.join("web-asg.yaml")).map_err(|e| e.to_string())?;
    let boot = work.join("files/web-boot.sh");
    std::fs::copy(root().join("specs/examples/files/web-boot.sh"), &boot).map_err(|e| e.to_string())?;
    let spec_path = work.join("web-asg.yaml");
    let spec = spec_path.to_str().ok_or("the demo directory is not UTF-8")?;
    let state_arg = state.to_string_lossy().to_string();
    let append = |line: &'static str| {
        let boot = boot.clone();
        move || -> Result<()> {
            let mut text = std::fs::read_to_string(&boot).map_err(|e| e.to_string())?;
            text.push_str(line);
            std::fs::write(&boot, text).map_err(|e| e.to_string())?;
            println!("(appended to files/web-boot.sh: {})", line.trim_end());
            Ok(())
        }
    };
    type Edit<'a> = Option<Box<dyn Fn() -> Result<()> + 'a>>;
    let steps: Vec<(&str, Edit, Vec<&str>, &[i32])> = vec![
        ("Check the spec offline", None, vec!["validate", spec], &[0]),
        ("Preview: everything is new", None, vec!["plan", spec, "--state", &state_arg, "--detailed-exitcode"], &[2]),
        ("Create the stack", None, vec!["apply", spec, "--state", &state_arg, "--auto-approve"], &[0]),
        ("Plan again: nothing to do", None, vec!["plan", spec, "--state", &state_arg, "--detailed-exitcode"], &[0]),
        (
            "Ship version 2: the plan says how it rolls out",
            Some(Box::new(append("echo \"version 2\"\n"))),
            vec!["plan", spec, "--state", &state_arg, "--detailed-exitcode"],
            &[2],
        ),
        (
            "Roll it out: new instances first, healthy before old ones go",
            None,
            vec!["apply", spec, "--state", &state_arg, "--auto-approve"],
            &[0],
        ),
        (
            "Ship a broken version 3: its instances fail their health checks, and it rolls back",
            Some(Box::new(append("# emulator: unhealthy\n"))),
            vec!["apply", spec, "--state", &state_arg, "--auto-approve"],
            &[1],
        ),
        (
            "Version 2 still serves; the change is still to make",
            None,
            vec!["plan", spec, "--state", &state_arg, "--detailed-exitcode"],
            &[2],
        ),
        ("What trellis recorded", None, vec!["state", "list", "--state", &state_arg], &[0]),
        ("The load balancer's URL", None, vec!["output", "url", "--state", &state_arg], &[0]),
        ("Tear it all down", None, vec!["destroy", spec, "--state", &state_arg, "--auto-approve"], &[0]),
    ];
    for (title, edit, args, ok) in steps {
        println!("\n\x1b[1m== {title}\x1b[0m");
        if let Some(edit) = edit {
            edit()?;
        }
        println!("$ trellis {}\n", args.join(" "));
        let mut cmd = Command::new(&trellis);
        cmd.current_dir(root()).args(&args).stdin(Stdio::null());
        moto.configure(&mut cmd);
        let status = cmd.status().map_err(|e| format!("cannot run {}: {e}", trellis.display()))?;
        let code = status.code().unwrap_or(-1);
        if !ok.contains(&code) {
            return Err(format!("`trellis {}` exited {code}, expected {ok:?}", args.join(" ")));
        }
    }
    drop(moto);
    let _ = std::fs::remove_dir_all(&work);

    println!("Demo complete: the emulator is stopped and its data gone.");
    Ok(ExitCode::SUCCESS)
}

/// The fuzz targets at length: `cargo xtask test` runs 64 cases of each, this 20,000
/// (or `TRELLIS_FUZZ_CASES`).
fn fuzz() -> Result<ExitCode> {
    let cases = std::env::var("TRELLIS_FUZZ_CASES").unwrap_or_else(|_| "20000".into());
    let mut cmd = cargo();
    cmd.args(["test", "--release", "-p", "trellis-plan", "--test", "fuzz"]).env("TRELLIS_FUZZ_CASES", &cases);
    run(&mut cmd)?;
    eprintln!("xtask: every fuzz target held for {cases} cases");
    Ok(ExitCode::SUCCESS)
}

fn serve() -> Result<ExitCode> {
    let mut moto = Moto::start()?;
    println!("export AWS_ENDPOINT_URL={} TRELLIS_TEST_ENDPOINT={} AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION={REGION}", moto.url(), moto.url());
    println!("(Ctrl-C stops it)");
    let status = moto.child.wait().map_err(|e| e.to_string())?;
    Err(format!("moto_server stopped: {status}"))
}

/// Rewrites the generated part of docs/spec.md from the kind schemas.
fn docs() -> Result<ExitCode> {
    let mut cmd = cargo();
    cmd.args(["run", "--quiet", "--example", "kinds-reference", "-p", "trellis-core"]);
    let out = cmd.output().map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    let generated = String::from_utf8(out.stdout).map_err(|e| e.to_string())?;
    let path = root().join("docs/spec.md");
    let doc = std::fs::read_to_string(&path).map_err(|e| e.to_string())?;
    let start_marker = "<!-- kinds:start (generated by `cargo xtask docs`) -->\n";
    let start = doc.find(start_marker).ok_or("docs/spec.md lacks the kinds:start marker")? + start_marker.len();
    let end = doc.find("<!-- kinds:end -->").ok_or("docs/spec.md lacks the kinds:end marker")?;
    let updated = format!("{}{}{}", &doc[..start], generated, &doc[end..]);
    std::fs::write(&path, updated).map_err(|e| e.to_string())?;
    eprintln!("xtask: docs/spec.md updated");
    // A picture of the example's dependency graph for the README, laid out and drawn by
    // the layout-rs library from the DOT that `trellis graph` prints.
    let spec = trellis_spec::load(&root().join("specs/examples/web-asg.yaml"), &Default::default())
        .map_err(|e| e.to_string())?;
    let svg = render_svg(&spec.graph().to_dot(&spec.stack, |_| None))?;
    std::fs::write(root().join("docs/web-asg-graph.svg"), svg).map_err(|e| e.to_string())?;
    eprintln!("xtask: docs/web-asg-graph.svg drawn");
    Ok(ExitCode::SUCCESS)
}

/// A section of docs/benchmarks.md that a `cargo xtask bench WHAT` rewrites alone,
/// between its two markers.
struct Section {
    start: &'static str,
    end: &'static str,
    what: &'static str,
}

const SCALE: Section = Section {
    start: "<!-- scale:start (written by `cargo xtask bench` and `cargo xtask bench scale`) -->\n",
    end: "<!-- scale:end -->",
    what: "large-spec",
};

const JOURNAL: Section = Section {
    start: "<!-- journal:start (written by `cargo xtask bench` and `cargo xtask bench journal`) -->\n",
    end: "<!-- journal:end -->",
    what: "state-write",
};

const CLI: Section = Section {
    start: "<!-- cli:start (written by `cargo xtask bench` and `cargo xtask bench cli`) -->\n",
    end: "<!-- cli:end -->",
    what: "command-line",
};

const APPLY: Section = Section {
    start: "<!-- apply:start (written by `cargo xtask bench` and `cargo xtask bench apply`) -->\n",
    end: "<!-- apply:end -->",
    what: "apply",
};

const ROLLOUT: Section = Section {
    start: "<!-- rollout:start (written by `cargo xtask bench` and `cargo xtask bench rollout`) -->\n",
    end: "<!-- rollout:end -->",
    what: "rollout",
};

/// AWS's request buckets as the fault layer enforces them (`faults.py`'s BUCKETS):
/// size and refill per second.
fn bucket_rate(name: &str) -> Option<(f64, f64)> {
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
fn plan_depth(plan: &serde_json::Value) -> usize {
    use std::collections::BTreeMap;
    let changes = plan["resource_changes"].as_array().cloned().unwrap_or_default();
    let deps: BTreeMap<String, Vec<String>> = changes
        .iter()
        .map(|c| {
            let on = c["depends_on"].as_array().into_iter().flatten().filter_map(|d| d.as_str().map(String::from));
            (c["address"].as_str().unwrap_or_default().to_string(), on.collect())
        })
        .collect();
    fn depth(a: &str, deps: &BTreeMap<String, Vec<String>>, memo: &mut BTreeMap<String, usize>) -> usize {
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
fn apply_section() -> Result<String> {
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
at once, so their times overlap):\n\n> {breakdown}\n",
        LATENCY * 1000.0,
        buckets.join("; "),
        took / bound,
        noop_time.as_secs_f64() * 1000.0
    ))
}

/// The release `trellis`, built.
fn release_trellis() -> Result<PathBuf> {
    run(cargo().args(["build", "--quiet", "--release", "--bin", "trellis"]))?;
    let target = std::env::var("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|_| root().join("target"));
    Ok(target.join("release/trellis"))
}

/// One run of a command: its wall time, when its first line of output came, its
/// standard error.
struct Timed {
    total: Duration,
    first_line: Duration,
    stderr: String,
}

fn timed(cmd: &mut Command) -> Result<Timed> {
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
    Ok(Timed { total, first_line, stderr })
}

/// `trellis validate` and `trellis plan` of the generated stack at 1k to 50k resources,
/// each the median of three runs, the plan against an empty emulator (warmed up
/// first: moto's first answer takes a second or two) with the peak memory its
/// `--timings` reports.
fn cli_section() -> Result<String> {
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
fn release_example(package: &str, name: &str) -> Result<PathBuf> {
    run(cargo().args(["build", "--quiet", "--release", "-p", package, "--example", name]))?;
    let target = std::env::var("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|_| root().join("target"));
    Ok(target.join("release/examples").join(name))
}

/// What an apply writes to its state as the stack grows: the `journal` example of
/// trellis-engine, one process per size, in a scratch directory of the repository's
/// disk (fsyncs on a memory file system would cost nothing).
fn journal_section() -> Result<String> {
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
fn scale_section() -> Result<String> {
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

/// `cargo xtask bench scale|journal`: rewrites only that section of docs/benchmarks.md
/// (added at the end when it is not there yet).
fn bench_section(section: &Section, measure: fn() -> Result<String>) -> Result<ExitCode> {
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
fn bench_spec(n: usize) -> String {
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
fn bench_lb_spec(n: usize) -> String {
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
fn bench() -> Result<ExitCode> {
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
{}{}{}\n\n{}{}{}\n\n{}{}{}\n\n{}{}{}\n\n## Rollouts\n\n{}{}{}\n",
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
        ROLLOUT.start,
        rollout::section()?,
        ROLLOUT.end
    );
    std::fs::write(root().join("docs/benchmarks.md"), doc).map_err(|e| e.to_string())?;
    eprintln!("xtask: wrote docs/benchmarks.md");
    Ok(ExitCode::SUCCESS)
}

/// The fault layer's counts (`GET /_faults/stats`).
fn fault_stats(port: u16) -> Result<serde_json::Value> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    write!(s, "GET /_faults/stats HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").map_err(|e| e.to_string())?;
    let mut text = String::new();
    s.read_to_string(&mut text).map_err(|e| e.to_string())?;
    let body = text.split("\r\n\r\n").nth(1).ok_or("the fault layer answered no body")?;
    serde_json::from_str(body).map_err(|e| e.to_string())
}

/// Every example, RUNS times, through the fault layer (mixed profile, a fixed seed):
/// one apply, one plan, one destroy each; the layer's counts and trellis's own say what
/// happened. Rewrites the measured section of docs/reliability.md.
fn reliability() -> Result<ExitCode> {
    const RUNS: usize = 3;
    const KINDS: [&str; 6] = ["throttle", "error_before", "error_after", "reset_after", "garbled", "not_yet_visible"];
    run(cargo().args(["test", "--workspace", "--no-run", "--quiet"]))?;
    let target = std::env::var("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|_| root().join("target"));
    let trellis = target.join("debug/trellis");
    let moto = Moto::start()?.with_faults("mixed")?;
    let port = moto.faults.as_ref().map(|(_, p)| *p).ok_or("no fault layer")?;
    let work = root().join(".trellis-demo/reliability");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(work.join("files")).map_err(|e| e.to_string())?;
    for f in ["web-boot.sh", "receiver-boot.sh"] {
        std::fs::copy(root().join("specs/examples/files").join(f), work.join("files").join(f))
            .map_err(|e| e.to_string())?;
    }
    let examples = ["network", "web-asg", "fixed-servers", "web-mysql", "postgres-replicas", "shared-db"];
    let mut rows = Vec::new();
    let (mut converged, mut total) = (0, 0);
    let mut sums = [0u64; 7];
    for example in examples {
        for n in 1..=RUNS {
            let text = std::fs::read_to_string(root().join(format!("specs/examples/{example}.yaml")))
                .map_err(|e| e.to_string())?;
            let stack = format!("rel-{example}-{n}");
            let text: String = text
                .lines()
                .map(|l| {
                    if l.starts_with("stack:") {
                        format!("stack: {stack}")
                    } else {
                        l.replace("name: scalingdb", &format!("name: {stack}-params"))
                    }
                })
                .collect::<Vec<_>>()
                .join("\n");
            let spec = work.join(format!("{stack}.yaml"));
            std::fs::write(&spec, text).map_err(|e| e.to_string())?;
            let spec = spec.to_string_lossy().to_string();
            let before = fault_stats(port)?;
            let start = Instant::now();
            let mut codes = Vec::new();
            let mut retried = String::new();
            for args in [
                vec!["apply", &spec, "--auto-approve"],
                vec!["plan", &spec, "--detailed-exitcode"],
                vec!["destroy", &spec, "--auto-approve", "--allow-data-loss"],
            ] {
                let mut cmd = Command::new(&trellis);
                cmd.current_dir(&work).args(&args).stdin(Stdio::null());
                moto.configure(&mut cmd);
                cmd.env("AWS_ENDPOINT_URL", format!("http://127.0.0.1:{port}"))
                    .env("MYSQL_PASSWORD", "reliability-pw-1")
                    .env("PG_PASSWORD", "reliability-pw-2")
                    .env("APP_DB_PASSWORD", "reliability-pw-3")
                    .env("NO_COLOR", "1");
                let out = cmd.output().map_err(|e| e.to_string())?;
                codes.push(out.status.code().unwrap_or(-1));
                let err = String::from_utf8_lossy(&out.stderr);
                if args[0] == "apply" {
                    retried = err.lines().find_map(|l| l.strip_prefix("Retried: ")).unwrap_or("").to_string();
                    if !out.status.success() {
                        let failed: Vec<String> = String::from_utf8_lossy(&out.stdout)
                            .lines()
                            .filter(|l| l.contains(" failed:"))
                            .map(str::to_string)
                            .collect();
                        eprintln!("xtask: {stack}: apply failed:\n{}", failed.join("\n"));
                    }
                }
            }
            let secs = start.elapsed().as_secs_f64();
            let after = fault_stats(port)?;
            let delta = |k: &str| after[k].as_u64().unwrap_or(0) - before[k].as_u64().unwrap_or(0);
            let counts: Vec<u64> = std::iter::once(delta("requests")).chain(KINDS.iter().map(|k| delta(k))).collect();
            for (s, c) in sums.iter_mut().zip(&counts) {
                *s += c;
            }
            total += 1;
            let ok = codes == [0, 0, 0];
            converged += usize::from(ok);
            let cells: Vec<String> = counts.iter().map(u64::to_string).collect();
            rows.push(format!(
                "| {example} | {n} | {} | {} | {} | {secs:.1} s |",
                cells.join(" | "),
                if retried.is_empty() { "–".to_string() } else { retried },
                codes.iter().map(i32::to_string).collect::<Vec<_>>().join(", "),
            ));
            eprintln!("xtask: {stack}: exit codes {codes:?}");
        }
    }
    drop(moto);
    let _ = std::fs::remove_dir_all(root().join(".trellis-demo"));
    let sum: Vec<String> = sums.iter().map(u64::to_string).collect();
    let table = format!(
        "<!-- measured:start (written by `cargo xtask reliability`) -->\n\
Every example, {RUNS} times, through the fault layer (`mixed`, as the tests run it), debug build, \
{} cores. Each run is one `apply`, one `plan --detailed-exitcode` and one `destroy \
--allow-data-loss`; the fault counts are the layer's own (`/_faults/stats` before and after \
the run), \"Retried\" is the line trellis prints after the apply (its create loop's \
decisions; the SDK's retries of other calls are not counted there).\n\n\
| example | run | requests | throttled | 5xx before | 5xx after | reset after | garbled | not yet visible | retried (apply) | exit codes | time |\n\
|---|---|---|---|---|---|---|---|---|---|---|---|\n{}\n| all | {total} | {} | | | |\n\n\
**{converged} of {total} runs converged in one apply, planned empty and destroyed in one destroy.**\n\
<!-- measured:end -->",
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        rows.join("\n"),
        sum.join(" | "),
    );
    let path = root().join("docs/reliability.md");
    let doc = std::fs::read_to_string(&path).map_err(|e| e.to_string())?;
    let (Some(a), Some(b)) = (doc.find("<!-- measured:start"), doc.find("<!-- measured:end -->")) else {
        return Err("docs/reliability.md lacks the measured:start/end markers".into());
    };
    let updated = format!("{}{}{}", &doc[..a], table, &doc[b + "<!-- measured:end -->".len()..]);
    std::fs::write(&path, updated).map_err(|e| e.to_string())?;
    eprintln!("xtask: wrote docs/reliability.md ({converged} of {total} runs converged)");
    Ok(if converged == total { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// Lays out a DOT graph and draws it as SVG with the layout-rs library.
fn render_svg(dot: &str) -> Result<String> {
    let mut parser = layout::gv::DotParser::new(dot);
    let tree = parser.process().map_err(|e| format!("cannot read the DOT graph: {e}"))?;
    let mut builder = layout::gv::GraphBuilder::new();
    builder.visit_graph(&tree);
    let mut graph = builder.get();
    let mut svg = layout::backends::svg::SVGWriter::new();
    graph.do_it(false, false, false, &mut svg);
    Ok(svg.finalize())
}

#[cfg(test)]
mod tests {
    use super::is_package_variable;

    #[test]
    fn only_the_variables_of_the_package_cargo_ran_are_kept_from_the_build() {
        for name in [
            "CARGO_MANIFEST_DIR",
            "CARGO_MANIFEST_PATH",
            "CARGO_PKG_NAME",
            "CARGO_PKG_VERSION_MAJOR",
            "CARGO_CRATE_NAME",
        ] {
            assert!(is_package_variable(name), "{name}");
        }
        for name in ["CARGO", "CARGO_TARGET_DIR", "CARGO_HOME", "CARGO_TERM_COLOR", "CARGO_BUILD_JOBS", "PATH"] {
            assert!(!is_package_variable(name), "{name}");
        }
    }
}
