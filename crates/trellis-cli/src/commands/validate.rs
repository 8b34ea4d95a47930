//! `trellis validate SPEC`: the spec checked offline.

use trellis_ops::Result;

use crate::ui::Ui;
use crate::{SpecArgs, EXIT_OK};

pub fn run(args: &SpecArgs, ui: &Ui) -> Result<i32> {
    let spec = args.load()?;
    ui.line(&format!(
        "{} is valid: stack `{}`, {} resource{}.",
        args.spec.display(),
        spec.stack,
        spec.resources.len(),
        if spec.resources.len() == 1 { "" } else { "s" }
    ));
    Ok(EXIT_OK)
}
