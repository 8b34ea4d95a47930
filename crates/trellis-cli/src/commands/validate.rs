//! `trellis validate SPEC`: the spec checked offline.

use trellis_ops::Result;

use crate::ui::Ui;
use crate::{SpecArgs, EXIT_OK};

pub fn run(args: &SpecArgs, ui: &Ui) -> Result<i32> {
    let spec = args.load()?;
    let plural = |n: usize| if n == 1 { "" } else { "s" };
    // Lookups are read from the account, other stacks' states from their stores, when
    // planning, not here.
    let lookups = match spec.lookups.len() {
        0 => String::new(),
        n => format!(", {n} lookup{} (read when planning)", plural(n)),
    };
    let stacks = match spec.stacks.len() {
        0 => String::new(),
        n => {
            let names: Vec<&str> = spec.stacks.keys().map(String::as_str).collect();
            format!(", outputs of {n} other stack{} ({}; read when planning)", plural(n), names.join(", "))
        }
    };
    ui.line(&format!(
        "{} is valid: stack `{}`, {} resource{}{lookups}{stacks}.",
        args.spec.display(),
        spec.stack,
        spec.resources.len(),
        plural(spec.resources.len()),
    ));
    Ok(EXIT_OK)
}
