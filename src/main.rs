//! The retain command-line program.
fn main() {}
