//! `trellis completions SHELL`: the shell's completion script for every command and
//! flag, written by clap_complete from the same definitions the parser uses.

use clap::{Args, CommandFactory};
use clap_complete::Shell;
use trellis_ops::Result;

use crate::ui::Ui;
use crate::EXIT_OK;

#[derive(Args, Debug)]
pub struct CompletionsArgs {
    /// bash, zsh or fish (also elvish and powershell). Install, for example, with
    /// `trellis completions bash > ~/.local/share/bash-completion/completions/trellis`.
    shell: Shell,
}

pub fn run(args: &CompletionsArgs, ui: &Ui) -> Result<i32> {
    let mut command = crate::Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, "trellis", &mut script);
    ui.out(&String::from_utf8_lossy(&script));
    Ok(EXIT_OK)
}
