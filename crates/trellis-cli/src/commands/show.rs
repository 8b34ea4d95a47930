//! `trellis show FILE`: a saved plan, as text or JSON.

use std::path::PathBuf;

use clap::Args;
use trellis_ops::{Error, Result, SavedRun};
use trellis_plan::{render, to_json, RenderOptions};

use crate::ui::Ui;
use crate::EXIT_OK;

#[derive(Args, Debug)]
pub struct ShowArgs {
    /// The saved plan.
    file: PathBuf,
    /// Print it as JSON (see docs/json-plan.md).
    #[arg(long)]
    json: bool,
}

pub fn run(args: &ShowArgs, ui: &Ui) -> Result<i32> {
    let text = std::fs::read_to_string(&args.file).map_err(|e| Error::Read(format!("{}: {e}", args.file.display())))?;
    let saved = SavedRun::load(&text, &args.file)?;
    if args.json {
        ui.line(&serde_json::to_string_pretty(&to_json(&saved.plan)).expect("plan JSON serializes"));
    } else {
        ui.out(&render(&saved.plan, RenderOptions { color: ui.color_out }));
    }
    Ok(EXIT_OK)
}
