//! One module per subcommand, and the shared steps: `common` (inputs, models, the plan),
//! `report` (the views and tables printed), `pages` (the KPI tables and the HTML report).

pub mod common;
pub mod demo;
pub mod evaluate;
pub mod features;
pub mod generate;
pub mod html_report;
pub mod kpis;
pub mod pages;
pub mod report;
pub mod score;
pub mod train;
