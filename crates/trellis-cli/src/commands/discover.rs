//! `trellis discover --vpc VPC_ID --stack NAME`: the spec and the state of a stack
//! built by hand, from what lives in the VPC.

use std::path::PathBuf;

use clap::Args;
use trellis_ops::{DiscoverOptions, Result};

use crate::ui::Ui;
use crate::{parse_var, BackendArgs, EXIT_OK};

#[derive(Args, Debug)]
pub struct DiscoverArgs {
    /// The VPC whose objects the stack takes over (repeat for several).
    #[arg(long, value_name = "VPC_ID")]
    vpc: Vec<String>,
    /// Also every VPC carrying this tag (`--tag Project=shop`).
    #[arg(long, value_name = "KEY=VALUE", value_parser = parse_var)]
    tag: Option<(String, String)>,
    /// The new stack's name: the spec is `OUT/NAME.yaml`, its state the stack's.
    #[arg(long)]
    stack: String,
    /// Where the spec and the files it names (boot scripts, public keys) are written.
    #[arg(long, value_name = "DIR", default_value = ".")]
    out: PathBuf,
    /// The region to read (else `AWS_REGION` or the profile's).
    #[arg(long)]
    region: Option<String>,
    #[command(flatten)]
    store: BackendArgs,
}

pub async fn run(args: DiscoverArgs, ui: &Ui) -> Result<i32> {
    let progress = super::progress_lines(ui);
    let env = |name: &str| std::env::var(name).ok();
    let found = trellis_ops::discover(DiscoverOptions {
        vpcs: args.vpc,
        tag: args.tag,
        stack: args.stack,
        out: args.out,
        region: args.region,
        backend: (&args.store).into(),
        progress: Some(progress),
        env: &env,
    })
    .await?;
    let total: usize = found.counts.values().sum();
    let kinds: Vec<String> = found.counts.iter().map(|(k, n)| format!("{n} {k}")).collect();
    ui.line(&format!(
        "Discovered {total} objects in {} ({}), in {} API calls (region {}):",
        found.vpcs.join(", "),
        kinds.join(", "),
        found.calls,
        found.region
    ));
    ui.line(&format!("  wrote {}", found.spec_path.display()));
    for f in &found.files {
        ui.line(&format!("  wrote {}", f.display()));
    }
    ui.line("  and the state, which adopts every object as it is.");
    for (var, attr, set) in &found.secrets {
        if *set {
            ui.line(&format!("{attr} is read from {var}, which is set: the state records its digest."));
        } else {
            ui.line(&format!(
                "{attr} is read from {var}: AWS never shows it. Set {var} to its value before a plan, or the plan sets it."
            ));
        }
    }
    let spec = found.spec_path.display();
    ui.line(&format!(
        "Next: `trellis plan {spec}` shows only the tags the first apply adds: trellis's own, and a `Name` on objects that have none."
    ));
    Ok(EXIT_OK)
}
