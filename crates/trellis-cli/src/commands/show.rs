//! `trellis show FILE`: a saved plan, as text or JSON.

use std::path::PathBuf;

use clap::Args;
use trellis_ops::{Error, Result, SavedRun};
use trellis_plan::PlanJson;

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
        ui.json(&PlanJson(&saved.plan));
    } else {
        ui.plan(&saved.plan);
        ui.note(&format!(
            "Digest {}: `trellis apply {} --digest {}` applies this file and no other.",
            saved.digest(),
            args.file.display(),
            saved.digest()
        ));
    }
    Ok(EXIT_OK)
}
