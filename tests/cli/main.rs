//! End-to-end tests of the `retain` binary: run as a user would, in a temporary folder.

mod atomic;
mod bad_input;
mod corpus;
mod ids;
mod output;
mod pipeline;
mod plan;
mod report;
mod scale;

use std::path::Path;
use std::process::{Command, Output};

/// Runs `retain args...` in `dir`.
pub fn retain(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_retain"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the retain binary runs")
}

/// Stdout and stderr as text.
pub fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// The shared data folder beside the checkout.
pub fn shared(rel: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data")
        .join(rel)
}
