//! The `trellis` command line. `main` in the root package only calls [`main`]; each
//! command here is a thin layer over the library crates.

mod commands;
mod output;

use std::collections::BTreeMap;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

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
    command: Command,
    /// Never colour the output (colour is only used on a terminal anyway; NO_COLOR works too).
    #[arg(long, global = true)]
    no_color: bool,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Check a spec offline: kinds, attributes, types, references, cycles.
    Validate(SpecArgs),
    /// Print the dependency graph of a spec (Graphviz DOT or Mermaid).
    Graph(GraphArgs),
    /// Show what apply would change: spec vs state vs the live cloud.
    Plan(PlanArgs),
    /// Make the cloud match the spec, or carry out a plan saved with `plan --out`.
    Apply(ApplyArgs),
    /// Show a plan saved with `plan --out`.
    Show(ShowArgs),
    /// Delete everything the stack's state holds, dependents first.
    Destroy(ApplyArgs),
    /// Record an existing object under an address of the spec (`trellis import SPEC
    /// ADDR ID`): read by its id, it is managed from then on.
    Import {
        #[command(flatten)]
        spec: SpecArgs,
        /// The address in the spec, `kind.name`.
        address: String,
        /// The object's AWS id (for RDS, its name; for ELB objects, the ARN).
        id: String,
        #[command(flatten)]
        cloud: CloudArgs,
    },
    /// Inspect the state, or move it between the local file and S3.
    #[command(subcommand)]
    State(StateCommand),
    /// Break a state lock whose run is gone, after showing who held it.
    ForceUnlock {
        #[command(flatten)]
        spec: SpecArgs,
        /// The lock id, as the "is locked by" error shows it.
        lock_id: String,
        #[command(flatten)]
        cloud: CloudArgs,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
    },
    /// Print the stack's outputs from the state.
    Output(OutputArgs),
}

#[derive(Args, Debug, Clone)]
struct SpecArgs {
    /// The spec file (YAML); for `apply`, also a plan saved with `plan --out`.
    spec: PathBuf,
    /// Set a variable declared under `vars:` (repeatable).
    #[arg(long = "var", value_name = "NAME=VALUE", value_parser = parse_var)]
    vars: Vec<(String, String)>,
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
    lock_lease: Option<std::time::Duration>,
    /// Send AWS calls here instead of AWS's endpoints (or set AWS_ENDPOINT_URL).
    #[arg(long, value_name = "URL")]
    endpoint_url: Option<String>,
}

#[derive(Args, Debug, Clone)]
struct CloudArgs {
    #[command(flatten)]
    store: BackendArgs,
    /// Wait this long for a state lock another run holds (`30s`, `5m`) before failing.
    #[arg(long, value_name = "DURATION", default_value = "0s", value_parser = humantime::parse_duration)]
    lock_timeout: std::time::Duration,
    /// Retry a delete that AWS refuses because something still uses the object
    /// (`DependencyViolation`, `ResourceInUse`) for this long (`90s`, `20m`) before failing.
    #[arg(long, value_name = "DURATION", default_value = "10m", value_parser = humantime::parse_duration)]
    delete_timeout: std::time::Duration,
}

#[derive(Args, Debug)]
struct PlanArgs {
    #[command(flatten)]
    spec: SpecArgs,
    #[command(flatten)]
    cloud: CloudArgs,
    /// Print the plan as JSON (see docs/json-plan.md); the same as --format json.
    #[arg(long)]
    json: bool,
    /// How to print the plan: for a person, as JSON, or as Markdown for a pull request.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Plan only this resource and what it depends on (repeatable); the plan is partial.
    #[arg(long = "target", value_name = "ADDR")]
    targets: Vec<String>,
    /// Exit 0 when there is nothing to do, 2 when there are changes, 1 on error.
    #[arg(long)]
    detailed_exitcode: bool,
    /// Plan the destruction of everything in the state.
    #[arg(long)]
    destroy: bool,
    /// Save the plan to FILE; `trellis apply FILE` then carries out exactly this plan.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
}

#[derive(Args, Debug)]
struct ApplyArgs {
    #[command(flatten)]
    spec: SpecArgs,
    #[command(flatten)]
    cloud: CloudArgs,
    /// Do not ask for confirmation.
    #[arg(long)]
    auto_approve: bool,
    /// Carry out deletes and replacements of protected databases (their data is lost;
    /// a final snapshot is taken unless `skip_final_snapshot: true`).
    #[arg(long)]
    allow_data_loss: bool,
    /// First record the objects tagged with this stack that no state knows (as
    /// `trellis state adopt` does), then plan: they are managed instead of left alone.
    #[arg(long)]
    adopt_orphans: bool,
    /// Only this resource and what it depends on (for destroy: what depends on it); repeatable.
    #[arg(long = "target", value_name = "ADDR")]
    targets: Vec<String>,
    /// How many operations may run at once.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u16).range(1..=100))]
    parallelism: u16,
}

#[derive(Args, Debug)]
struct GraphArgs {
    #[command(flatten)]
    spec: SpecArgs,
    #[command(flatten)]
    cloud: CloudArgs,
    #[arg(long, value_enum, default_value_t = GraphFormat::Dot)]
    format: GraphFormat,
    /// Colour each node by its planned action (reads the state and the live stack).
    #[arg(long)]
    plan: bool,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum GraphFormat {
    Dot,
    Mermaid,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Text,
    Json,
    Markdown,
}

#[derive(Args, Debug)]
struct ShowArgs {
    /// The saved plan.
    file: PathBuf,
    /// Print it as JSON (see docs/json-plan.md).
    #[arg(long)]
    json: bool,
}

#[derive(Args, Debug, Clone)]
struct StateFileArgs {
    /// The spec, to find its state (its backend, or `state/<stack>.json`); or give --state.
    #[arg(long, value_name = "SPEC")]
    spec: Option<PathBuf>,
    #[command(flatten)]
    store: BackendArgs,
}

#[derive(Subcommand, Debug)]
enum StateCommand {
    /// List the addresses and ids in the state.
    List(StateFileArgs),
    /// Show one resource's recorded attributes.
    Show {
        /// The resource address, `kind.name`.
        address: String,
        #[command(flatten)]
        file: StateFileArgs,
    },
    /// Take back the objects tagged with this stack that no state knows (left by a lost
    /// state file or a run killed mid-create): each is recorded under the address its
    /// tag names, when the spec declares that address and the state has none there.
    Adopt {
        #[command(flatten)]
        spec: SpecArgs,
        #[command(flatten)]
        cloud: CloudArgs,
    },
    /// Print the stack's state as stored (in its backend), or save it to --out.
    Pull {
        #[command(flatten)]
        spec: SpecArgs,
        #[command(flatten)]
        cloud: CloudArgs,
        /// Write it to this file (mode 0600) instead of standard output.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Store a state file as the stack's state (in its backend), keeping its serial and
    /// lineage: how a stack moves from the local file to S3 and back.
    Push {
        #[command(flatten)]
        spec: SpecArgs,
        /// The state file to store.
        file: PathBuf,
        #[command(flatten)]
        cloud: CloudArgs,
        /// Replace a stored state of another lineage or a higher serial.
        #[arg(long)]
        force: bool,
    },
}

#[derive(Args, Debug)]
struct OutputArgs {
    /// Only this output.
    name: Option<String>,
    #[command(flatten)]
    file: StateFileArgs,
    /// Print as JSON.
    #[arg(long)]
    json: bool,
}

fn parse_var(s: &str) -> Result<(String, String), String> {
    s.split_once('=').map(|(k, v)| (k.to_string(), v.to_string())).ok_or_else(|| format!("`{s}` is not NAME=VALUE"))
}

fn vars(args: &SpecArgs) -> BTreeMap<String, String> {
    args.vars.iter().cloned().collect()
}

/// Runs trellis with the process's arguments; returns the exit code.
pub fn main() -> i32 {
    let cli = Cli::parse();
    let ui = output::Ui::new(cli.no_color);
    match commands::run(cli.command, &ui) {
        Ok(code) => code,
        Err(e) => {
            ui.error(&e);
            EXIT_ERROR
        }
    }
}
