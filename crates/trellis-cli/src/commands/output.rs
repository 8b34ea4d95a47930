//! `trellis output`: the stack's outputs from the state.

use std::collections::BTreeMap;

use clap::Args;
use trellis_core::Value;
use trellis_ops::{Error, Result};

use crate::ui::Ui;
use crate::{StateFileArgs, EXIT_OK};

#[derive(Args, Debug)]
pub struct OutputArgs {
    /// `SPEC [NAME]`: the spec, and only this output (just `NAME` with --spec or --state).
    #[arg(value_name = "SPEC [NAME]", num_args = 0..=2)]
    words: Vec<String>,
    #[command(flatten)]
    file: StateFileArgs,
    /// Print as JSON.
    #[arg(long)]
    json: bool,
}

pub fn run(args: &OutputArgs, ui: &Ui) -> Result<i32> {
    let (state, words) = args.file.read(&args.words, 1)?;
    let name = words.into_iter().next();
    let selected: BTreeMap<String, Value> = match &name {
        Some(name) => match state.outputs.get(name) {
            Some(v) => [(name.clone(), v.clone())].into_iter().collect(),
            None => {
                let hint = trellis_spec::did_you_mean(name, state.outputs.keys().map(String::as_str))
                    .map(|s| format!(" (did you mean `{s}`?)"))
                    .unwrap_or_default();
                return Err(Error::Usage(format!("no output `{name}` in the state{hint}")));
            }
        },
        None => state.outputs.clone(),
    };
    if args.json {
        let j: serde_json::Map<String, serde_json::Value> =
            selected.iter().map(|(k, v)| (k.clone(), v.to_json())).collect();
        ui.line(&serde_json::to_string_pretty(&j).expect("outputs serialize"));
    } else if let (Some(_), Some(Value::Str(s))) = (&name, selected.values().next()) {
        ui.line(s); // a single string prints bare, for shell use
    } else {
        let width = trellis_plan::column_width(selected.keys().map(String::len));
        for (k, v) in &selected {
            ui.line(&format!("{k:width$} = {v}"));
        }
    }
    Ok(EXIT_OK)
}
