//! The `trellis` command line. `main` in the root package only calls [`main`]. Each
//! command is one module under `commands/`: its flags and a `run` that calls
//! `trellis-ops` (and the library crates under it) and words the outcome. The flags
//! shared by several commands are here.

mod commands;
mod progress;
mod ui;
mod waits;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser};
use trellis_ops::BackendChoice;

/// Exit codes: 0 success, 1 error, 2 changes present (with `plan --detailed-exitcode`),
/// 130 for an apply stopped by Ctrl-C.
pub const EXIT_OK: i32 = 0;
pub const EXIT_ERROR: i32 = 1;
pub const EXIT_CHANGES: i32 = 2;
/// An apply stopped by Ctrl-C (128 + SIGINT, as shells report it).
pub const EXIT_INTERRUPTED: i32 = 130;

#[derive(Parser, Debug)]
#[command(name = "trellis", version, about = "Declarative reconciler for load-balanced AWS stacks")]
pub struct Cli {
    #[command(subcommand)]
    command: commands::Command,
    /// Never colour the output (colour is only used on a terminal anyway; NO_COLOR works too).
    #[arg(long, global = true)]
    no_color: bool,
    /// Add the AWS SDK's own detail to errors (the same as TRELLIS_LOG=debug).
    #[arg(long, global = true)]
    verbose: bool,
}

#[derive(Args, Debug, Clone)]
struct SpecArgs {
    /// The spec file (YAML); for `apply`, also a plan saved with `plan --out`.
    spec: PathBuf,
    /// Set a variable declared under `vars:` (repeatable).
    /// A list is written `[a, b]`. It wins over var files.
    #[arg(long = "var", value_name = "NAME=VALUE", value_parser = parse_var)]
    vars: Vec<(String, String)>,
    /// Read variables from a YAML file of `name: value` (repeatable; later files win).
    /// Every `*.auto.yaml` beside the spec is read first, by name.
    #[arg(long = "var-file", value_name = "FILE")]
    var_files: Vec<PathBuf>,
}

impl SpecArgs {
    /// Every variable's value: the `*.auto.yaml` files, the `--var-file`s, then `--var`.
    fn vars(&self) -> trellis_ops::Result<BTreeMap<String, String>> {
        let given: BTreeMap<String, String> = self.vars.iter().cloned().collect();
        trellis_spec::var_values(&self.spec, &self.var_files, &given).map_err(trellis_ops::Error::from_load)
    }

    fn load(&self) -> trellis_ops::Result<trellis_spec::Spec> {
        trellis_ops::load_spec(&self.spec, &self.vars()?)
    }
}

/// Where the state is kept: the spec's `backend:`, or these flags.
#[derive(Args, Debug, Clone, Default)]
struct BackendArgs {
    /// The local state file [default: state/<stack>.json, unless the spec names a backend].
    #[arg(long, value_name = "PATH", conflicts_with = "backend")]
    state: Option<PathBuf>,
    /// Keep the state here instead of where the spec says: `s3://BUCKET/KEY`, or `local`
    /// for state/<stack>.json.
    #[arg(long, value_name = "URL")]
    backend: Option<String>,
    /// The region of the --backend bucket [default: the spec's backend region, then the stack's].
    #[arg(long, value_name = "REGION")]
    backend_region: Option<String>,
    /// Report a remote lock not renewed for this long as stale (`2h`); a held lock is
    /// renewed every third of it. Overrides `backend.s3.lock_lease`.
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    lock_lease: Option<Duration>,
    /// Send AWS calls here instead of AWS's endpoints (or set AWS_ENDPOINT_URL).
    #[arg(long, value_name = "URL")]
    endpoint_url: Option<String>,
    /// Read this other stack's outputs as unknown rather than from its state (what
    /// `plan --all` gives a stack whose dependency has changes not yet applied).
    #[arg(long = "pending-stack", value_name = "NAME", hide = true)]
    pending_stacks: Vec<String>,
}

impl From<&BackendArgs> for BackendChoice {
    fn from(a: &BackendArgs) -> BackendChoice {
        BackendChoice {
            pending_stacks: a.pending_stacks.iter().cloned().collect(),
            state: a.state.clone(),
            backend: a.backend.clone(),
            backend_region: a.backend_region.clone(),
            lock_lease: a.lock_lease,
            endpoint_url: a.endpoint_url.clone(),
        }
    }
}

#[derive(Args, Debug, Clone)]
struct CloudArgs {
    #[command(flatten)]
    store: BackendArgs,
    /// Wait this long for a state lock another run holds (`30s`, `5m`) before failing.
    #[arg(long, value_name = "DURATION", default_value = "0s", value_parser = humantime::parse_duration)]
    lock_timeout: Duration,
    /// Retry a delete that AWS refuses because something still uses the object
    /// (`DependencyViolation`, `ResourceInUse`) for this long (`90s`, `20m`) before failing.
    #[arg(long, value_name = "DURATION", default_value = "10m", value_parser = humantime::parse_duration)]
    delete_timeout: Duration,
}

impl CloudArgs {
    /// The flags each stack of `--all` gets as given here. A state's place is each
    /// stack's own: `--state` and `--backend` are refused.
    fn forwarded(&self) -> trellis_ops::Result<Vec<String>> {
        if self.store.state.is_some() || self.store.backend.is_some() || self.store.backend_region.is_some() {
            return Err(trellis_ops::Error::Usage(
                "--all keeps each stack's state where its spec says: --state, --backend and --backend-region are given per stack".into(),
            ));
        }
        let mut out = vec![
            "--lock-timeout".to_string(),
            humantime::format_duration(self.lock_timeout).to_string(),
            "--delete-timeout".to_string(),
            humantime::format_duration(self.delete_timeout).to_string(),
        ];
        if let Some(lease) = self.store.lock_lease {
            out.extend(["--lock-lease".to_string(), humantime::format_duration(lease).to_string()]);
        }
        if let Some(url) = &self.store.endpoint_url {
            out.extend(["--endpoint-url".to_string(), url.clone()]);
        }
        Ok(out)
    }
}

/// A state named by a spec or a path, for the commands that only read it. The spec is
/// the first word, as for every command (`trellis output SPEC NAME`); `--spec SPEC` or
/// `--state PATH` name it instead, and then every word is the command's own.
#[derive(Args, Debug, Clone)]
struct StateFileArgs {
    /// The spec, to find its state (its backend, or `state/<stack>.json`), when it is not
    /// given first.
    #[arg(long = "spec", value_name = "SPEC")]
    spec: Option<PathBuf>,
    /// Set a variable declared under `vars:` (repeatable), as for `plan`: a spec whose
    /// variables have no default is read with them.
    #[arg(long = "var", value_name = "NAME=VALUE", value_parser = parse_var)]
    vars: Vec<(String, String)>,
    /// Read variables from a YAML file of `name: value` (repeatable), as for `plan`.
    #[arg(long = "var-file", value_name = "FILE")]
    var_files: Vec<PathBuf>,
    #[command(flatten)]
    store: BackendArgs,
}

impl StateFileArgs {
    /// Reads the state, taking the spec from `words` unless a flag named the state;
    /// returns it with the words left for the command (at most `rest` of them).
    fn read(&self, words: &[String], rest: usize) -> trellis_ops::Result<(trellis_state::State, Vec<String>)> {
        // The first word is the spec unless --spec named it, or --state named the file
        // and the words are only what the command takes (`state show --state F ADDR`).
        let first_is_spec = self.spec.is_none() && (self.store.state.is_none() || words.len() > rest);
        let (spec, words) = match words.split_first() {
            Some((first, others)) if first_is_spec => (Some(PathBuf::from(first)), others.to_vec()),
            _ => (self.spec.clone(), words.to_vec()),
        };
        if words.len() > rest {
            return Err(trellis_ops::Error::Usage(format!("unexpected `{}`", words[rest..].join(" "))));
        }
        let vars = match &spec {
            Some(spec) => {
                let given: BTreeMap<String, String> = self.vars.iter().cloned().collect();
                trellis_spec::var_values(spec, &self.var_files, &given).map_err(trellis_ops::Error::from_load)?
            }
            None => BTreeMap::new(),
        };
        Ok((trellis_ops::read_state(spec.as_deref(), &vars, &(&self.store).into())?, words))
    }
}

fn parse_var(s: &str) -> Result<(String, String), String> {
    s.split_once('=').map(|(k, v)| (k.to_string(), v.to_string())).ok_or_else(|| format!("`{s}` is not NAME=VALUE"))
}

/// Runs trellis with the process's arguments; returns the exit code.
pub fn main() -> i32 {
    let cli = Cli::parse();
    if cli.verbose {
        // Before any thread starts: the AWS crate reads it when it words an error.
        std::env::set_var("TRELLIS_LOG", "debug");
    }
    let ui = ui::Ui::new(cli.no_color);
    match commands::run(cli.command, &ui) {
        Ok(code) => code,
        Err(e) => {
            ui.error(&e);
            EXIT_ERROR
        }
    }
}
