//! `trellis get SPEC`: git components fetched at what their refs name now, and the
//! lock file rewritten.

use trellis_ops::Result;

use crate::ui::Ui;
use crate::{SpecArgs, EXIT_OK};

pub fn run(args: &SpecArgs, ui: &Ui) -> Result<i32> {
    let locked = trellis_ops::get_sources(&args.spec, &args.vars()?)?;
    if locked.is_empty() {
        ui.line(&format!("{} uses no git component: nothing to lock.", args.spec.display()));
        return Ok(EXIT_OK);
    }
    for (source, l) in &locked {
        ui.line(&format!("{source}: commit {}, files sha256 {}", &l.commit[..l.commit.len().min(12)], &l.sha256[..12]));
    }
    let lock = args.spec.parent().unwrap_or(std::path::Path::new("")).join(trellis_spec::sources::LOCK_FILE);
    ui.line(&format!(
        "Locked {} git component{} in {}.",
        locked.len(),
        if locked.len() == 1 { "" } else { "s" },
        lock.display()
    ));
    Ok(EXIT_OK)
}
