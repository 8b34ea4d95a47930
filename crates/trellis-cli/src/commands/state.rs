//! `trellis state list|show|adopt|mv|rm|pull|push`: the state looked at, taken back
//! from the cloud's tags, one record renamed or let go, or moved between backends.

use std::path::{Path, PathBuf};

use clap::Subcommand;
use trellis_core::Address;
use trellis_ops::{open_store, push_state, read_state_file, Error, Result};
use trellis_state::write_private;

use crate::ui::Ui;
use crate::{CloudArgs, SpecArgs, StateFileArgs, EXIT_OK};

#[derive(Subcommand, Debug)]
pub enum StateCommand {
    /// List the addresses and ids in the state.
    List {
        /// The spec (or give --spec or --state).
        #[arg(value_name = "SPEC", num_args = 0..=1)]
        words: Vec<String>,
        #[command(flatten)]
        file: StateFileArgs,
    },
    /// Show one resource's recorded attributes.
    Show {
        /// `SPEC ADDRESS`: the spec and the resource's address, `kind.name` (just
        /// `ADDRESS` with --spec or --state).
        #[arg(value_name = "SPEC ADDRESS", num_args = 1..=2, required = true)]
        words: Vec<String>,
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
    /// Give the object at FROM the address TO, keeping the object (the spec's block was
    /// renamed); its `trellis:address` tag follows. A `moved:` entry in the spec does the
    /// same at the next apply, where a reviewer sees it.
    Mv {
        #[command(flatten)]
        spec: SpecArgs,
        /// The address the state holds it at.
        from: String,
        /// Its new address.
        to: String,
        #[command(flatten)]
        cloud: CloudArgs,
    },
    /// Stop managing the object at ADDRESS (without a key: every copy) without deleting
    /// it: its trellis tags are removed, then its record. `removed:` in the spec does the
    /// same at the next apply.
    Rm {
        #[command(flatten)]
        spec: SpecArgs,
        address: String,
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

pub fn run(command: StateCommand, ui: &Ui) -> Result<i32> {
    match command {
        StateCommand::List { words, file } => list(&words, &file, ui),
        StateCommand::Show { words, file } => show(&words, &file, ui),
        StateCommand::Adopt { spec, cloud } => super::runtime()?.block_on(adopt(&spec, &cloud, ui)),
        StateCommand::Mv { spec, from, to, cloud } => super::runtime()?.block_on(mv(&spec, &from, &to, &cloud, ui)),
        StateCommand::Rm { spec, address, cloud } => super::runtime()?.block_on(rm(&spec, &address, &cloud, ui)),
        StateCommand::Pull { spec, cloud, out } => pull(&spec, &cloud, out.as_deref(), ui),
        StateCommand::Push { spec, file, cloud, force } => push(&spec, &file, &cloud, force, ui),
    }
}

fn list(words: &[String], file: &StateFileArgs, ui: &Ui) -> Result<i32> {
    let (state, _) = file.read(words, 0)?;
    let width = trellis_plan::column_width(state.resources.iter().map(|r| r.address.to_string().len()));
    for r in &state.resources {
        ui.line(&format!("{:width$}  {}", r.address.to_string(), r.id));
    }
    Ok(EXIT_OK)
}

fn show(words: &[String], file: &StateFileArgs, ui: &Ui) -> Result<i32> {
    let (state, words) = file.read(words, 1)?;
    let Some(address) = words.first().map(String::as_str) else {
        return Err(Error::Usage("say which resource: `trellis state show SPEC ADDRESS`".into()));
    };
    let addr: Address = address.parse().map_err(|e: trellis_core::AddressError| Error::Usage(e.to_string()))?;
    let Some(r) = state.get(&addr) else {
        let known: Vec<String> = state.resources.iter().map(|r| r.address.to_string()).collect();
        let hint = trellis_spec::did_you_mean(address, known.iter().map(String::as_str))
            .map(|s| format!(" (did you mean `{s}`?)"))
            .unwrap_or_default();
        return Err(Error::Usage(format!("`{address}` is not in the state{hint}")));
    };
    ui.line(&format!("# {} ({})", r.address, r.id));
    let width = trellis_plan::column_width(r.attributes.keys().map(String::len));
    for (k, v) in &r.attributes {
        ui.line(&format!("{k:width$} = {v}"));
    }
    if !r.dependencies.is_empty() {
        let deps: Vec<String> = r.dependencies.iter().map(ToString::to_string).collect();
        ui.line(&format!("# depends on: {}", deps.join(", ")));
    }
    Ok(EXIT_OK)
}

/// `trellis state adopt SPEC`: records the stack's tagged objects that no state knows.
async fn adopt(spec: &SpecArgs, cloud: &CloudArgs, ui: &Ui) -> Result<i32> {
    let mut session = super::open(spec, cloud, "adopt", ui).await?;
    let (adoption, read) = session.adopt_orphans().await?;
    super::note_read(ui, &read);
    for line in super::adoption_lines(&adoption, "adopted") {
        ui.line(&line);
    }
    let adopted = adoption.adopted.len();
    ui.line(&format!(
        "\nAdopted {adopted} object{}. `trellis plan` shows how they compare with the spec.",
        if adopted == 1 { "" } else { "s" }
    ));
    Ok(EXIT_OK)
}

/// `trellis state mv SPEC FROM TO`.
async fn mv(spec: &SpecArgs, from: &str, to: &str, cloud: &CloudArgs, ui: &Ui) -> Result<i32> {
    let mut session = super::open(spec, cloud, "state mv", ui).await?;
    let moved = session.state_mv(from, to).await?;
    ui.line(&format!("Moved {} ({}) to {}.", moved.from, moved.id, moved.to));
    if let Some(e) = &moved.tag_error {
        ui.note(&format!(
            "warning: its `trellis:address` tag still names {} ({}); the next apply rewrites it",
            moved.from,
            super::aws_error(e)
        ));
    }
    if moved.undeclared {
        ui.note(&format!("warning: the spec does not declare {}: the next plan would destroy it", moved.to));
    }
    Ok(EXIT_OK)
}

/// `trellis state rm SPEC ADDRESS`.
async fn rm(spec: &SpecArgs, address: &str, cloud: &CloudArgs, ui: &Ui) -> Result<i32> {
    let mut session = super::open(spec, cloud, "state rm", ui).await?;
    let gone = session.state_rm(address).await?;
    for (a, id) in &gone.objects {
        ui.line(&format!("{a} ({id}) is no longer managed: it stays in the cloud, without trellis's tags."));
    }
    for a in &gone.still_declared {
        ui.note(&format!("warning: the spec still declares {a}: the next apply creates a new one"));
    }
    Ok(EXIT_OK)
}

/// `trellis state pull SPEC`: the stored state, as it is.
fn pull(spec: &SpecArgs, cloud: &CloudArgs, out: Option<&Path>, ui: &Ui) -> Result<i32> {
    let spec = spec.load()?;
    let store = open_store(&spec, &(&cloud.store).into())?;
    let state = store.read(&spec.stack)?.ok_or_else(|| Error::Read(format!("{}: no state yet", store.location())))?;
    let text = serde_json::to_string_pretty(&state).expect("state serializes") + "\n";
    match out {
        None => ui.out(&text),
        Some(path) => {
            write_private(path, &text)?;
            ui.note(&format!(
                "Saved {} (serial {}, lineage {}) to {}.",
                store.location(),
                state.serial,
                state.lineage,
                path.display()
            ));
        }
    }
    Ok(EXIT_OK)
}

/// `trellis state push SPEC FILE`: stores FILE as the stack's state, serial and lineage
/// unchanged, under the lock.
fn push(spec: &SpecArgs, file: &Path, cloud: &CloudArgs, force: bool, ui: &Ui) -> Result<i32> {
    let spec = spec.load()?;
    let state = read_state_file(file, &spec.stack)?;
    let store = open_store(&spec, &(&cloud.store).into())?;
    let lock = store.lock_waiting("push", cloud.lock_timeout)?;
    push_state(&*store, &lock, &state, file, force)?;
    ui.line(&format!(
        "Pushed {} to {} (serial {}, lineage {}).",
        file.display(),
        store.location(),
        state.serial,
        state.lineage
    ));
    Ok(EXIT_OK)
}
