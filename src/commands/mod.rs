//! One module per subcommand.

pub mod common;
pub mod demo;
pub mod evaluate;
pub mod features;
pub mod generate;
pub mod html_report;
pub mod kpis;
pub mod report;
pub mod score;
pub mod train;
