//! `retain generate`: simulate a client base with known parameters.

use anyhow::Result;

use super::common::{Ui, generate_sample};
use crate::args::GenerateArgs;

pub fn run(args: &GenerateArgs, ui: &Ui) -> Result<()> {
    if let (Some(factor), Some(from)) = (args.replicate, &args.from) {
        let done = ui.step(&format!("replicating {} x{factor}", from.display()), || {
            Ok(retain_data::write_replicated(
                from,
                factor,
                &args.out,
                args.buckets,
            )?)
        })?;
        if !ui.emit(&done)? {
            ui.say(format!(
                "wrote {}: {} lines of {} clients in {} file(s), {} row groups",
                done.path.display(),
                crate::table::thousands(done.lines as i64),
                crate::table::thousands(done.clients as i64),
                done.files,
                done.row_groups
            ));
        }
        return Ok(());
    }
    let generated = generate_sample(args, ui)?;
    ui.emit(&generated)?;
    Ok(())
}
