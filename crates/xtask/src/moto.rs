//! The emulator: the pinned moto installed into `.venv`, started on a free loopback port
//! behind its shims (`emulator.py`) and, when asked, the fault layer (`faults.py`).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::*;

/// Makes `.venv` and installs the pinned moto into it, unless that was done already.
pub(crate) fn ensure_moto() -> Result<()> {
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
pub(crate) struct Moto {
    pub(crate) child: Child,
    pub(crate) port: u16,
    pub(crate) log: PathBuf,
    /// `crates/xtask/faults.py` with the mixed profile, for the tests that run through it.
    pub(crate) faults: Option<(Child, u16)>,
}

pub(crate) fn free_port() -> Result<u16> {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map_err(|e| e.to_string()).map(|a| a.port())
}

/// Waits until something accepts connections on the port.
pub(crate) fn wait_listening(port: u16, child: &mut Child, what: &str) -> Result<()> {
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
    pub(crate) fn start() -> Result<Moto> {
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
    pub(crate) fn with_faults(self, profile: &str) -> Result<Moto> {
        self.with_fault_args(&["--profile", profile])
    }

    /// Also starts the fault layer in front of moto, with these arguments.
    pub(crate) fn with_fault_args(mut self, args: &[&str]) -> Result<Moto> {
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

    pub(crate) fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Makes an S3 bucket on the emulator (which takes unsigned requests).
    pub(crate) fn create_bucket(&self, name: &str) -> Result<()> {
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

    pub(crate) fn wait_ready(&mut self) -> Result<()> {
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
    pub(crate) fn configure(&self, cmd: &mut Command) {
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

/// The fault layer's counts (`GET /_faults/stats`).
pub(crate) fn fault_stats(port: u16) -> Result<serde_json::Value> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    write!(s, "GET /_faults/stats HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").map_err(|e| e.to_string())?;
    let mut text = String::new();
    s.read_to_string(&mut text).map_err(|e| e.to_string())?;
    let body = text.split("\r\n\r\n").nth(1).ok_or("the fault layer answered no body")?;
    serde_json::from_str(body).map_err(|e| e.to_string())
}
