//! `retain generate`: simulate a client base with known parameters.

use anyhow::Result;

use super::common::{Ui, generate_sample};
use crate::args::GenerateArgs;

pub fn run(args: &GenerateArgs, ui: &Ui) -> Result<()> {
    let generated = generate_sample(args, ui)?;
    ui.emit(&generated)?;
    Ok(())
}
