//! `trellis graph SPEC`: the dependency graph as DOT or Mermaid, coloured by the plan
//! with `--plan`.

use std::collections::BTreeMap;

use clap::Args;
use trellis_core::Address;
use trellis_ops::{Orphans, Result};
use trellis_plan::{Action, Operation};

use crate::ui::Ui;
use crate::{CloudArgs, SpecArgs, EXIT_OK};

#[derive(Args, Debug)]
pub struct GraphArgs {
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

pub async fn run(args: GraphArgs, ui: &Ui) -> Result<i32> {
    let (spec, actions) = if args.plan {
        let mut session = super::open(&args.spec, &args.cloud, "plan", ui).await?;
        let planned = session.plan(Operation::Apply, &[], &[], Orphans::Journaled).await?;
        super::note_planned(ui, &planned);
        let actions: BTreeMap<Address, Action> =
            planned.plan.changes.iter().map(|c| (c.address.clone(), c.action)).collect();
        (session.spec, actions)
    } else {
        (args.spec.load()?, BTreeMap::new())
    };
    let class = |a: &Address| {
        actions.get(a).map(|action| match action {
            Action::Create => "create",
            Action::Update => "update",
            Action::DeleteThenCreate | Action::CreateThenDelete => "replace",
            Action::Delete => "delete",
            Action::NoOp | Action::Forget => "noop",
        })
    };
    let graph = spec.graph();
    match args.format {
        GraphFormat::Mermaid => ui.out(&graph.to_mermaid(class)),
        GraphFormat::Dot => ui.out(&graph.to_dot(&spec.stack, |a| {
            let fill = match class(a)? {
                "create" => "#d7f5d7",
                "update" => "#fff3bf",
                "replace" => "#ffd8a8",
                "delete" => "#ffc9c9",
                _ => "#f1f3f5",
            };
            Some(format!("style=filled, fillcolor=\"{fill}\""))
        })),
    }
    Ok(EXIT_OK)
}
