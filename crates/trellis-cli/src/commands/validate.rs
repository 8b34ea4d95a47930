//! `trellis validate SPEC`: the spec checked offline.

use trellis_ops::Result;

use crate::ui::Ui;
use crate::{SpecArgs, EXIT_OK};

pub fn run(args: &SpecArgs, ui: &Ui) -> Result<i32> {
    let spec = args.load()?;
    let plural = |n: usize| if n == 1 { "" } else { "s" };
    // Lookups are read from the account when planning, not here.
    let lookups = match spec.lookups.len() {
        0 => String::new(),
        n => format!(", {n} lookup{} (read when planning)", plural(n)),
    };
    ui.line(&format!(
        "{} is valid: stack `{}`, {} resource{}{lookups}.",
        args.spec.display(),
        spec.stack,
        spec.resources.len(),
        plural(spec.resources.len()),
    ));
    Ok(EXIT_OK)
}
