//! `trellis import SPEC ADDR ID`: an existing object recorded under an address of the spec.

use clap::Args;
use trellis_ops::Result;

use crate::ui::Ui;
use crate::{CloudArgs, SpecArgs, EXIT_OK};

#[derive(Args, Debug)]
pub struct ImportArgs {
    #[command(flatten)]
    spec: SpecArgs,
    /// The address in the spec, `kind.name`.
    address: String,
    /// The object's AWS id (for RDS, its name; for ELB objects, the ARN).
    id: String,
    #[command(flatten)]
    cloud: CloudArgs,
}

pub async fn run(args: &ImportArgs, ui: &Ui) -> Result<i32> {
    let session = super::open(&args.spec, &args.cloud, "import", ui).await?;
    let adoption = session.import(&args.address, &args.id).await?;
    for line in super::adoption_lines(&adoption, "imported") {
        ui.line(&line);
    }
    ui.line("`trellis plan` shows how it compares with the spec.");
    Ok(EXIT_OK)
}
