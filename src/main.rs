//! The retain command-line program: parse, run, map errors to exit codes.
//!
//! Exit codes: 0 success (and a closed stdout pipe), 1 bad data or input (a missing column, an
//! unparsable value, an empty file, windows the data cannot cover, a model whose features do not
//! match), 2 usage or internal errors.

mod args;
mod commands;
mod memory;
mod output;
mod table;

use std::process::ExitCode;

/// mimalloc: polars allocates and frees many short-lived buffers, which glibc's allocator
/// serves with more page faults and lock traffic (about a tenth of `retain train`'s time).
/// Counted, for `--memory-limit` (`memory`).
#[global_allocator]
static GLOBAL: memory::Limited<mimalloc::MiMalloc> = memory::Limited(mimalloc::MiMalloc);

use clap::Parser;

use args::{Cli, Command};
use output::Ui;

/// `mi_option_purge_delay` in mimalloc's `mimalloc.h` (v2 and v3): the option is not exported
/// as a constant by the bindings.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Milliseconds freed memory waits for reuse before it goes back to the kernel (`main`).
const PURGE_DELAY_MS: std::os::raw::c_long = 1000;

fn main() -> ExitCode {
    // Hand freed memory back to the kernel only when it has not been reused for a second:
    // polars frees and reallocates large buffers from stage to stage, and with mimalloc's
    // default 10 ms purge delay each reuse faults the pages in again, zeroed (on a machine
    // with transparent huge pages, 2 MiB at a time). On `retain score` over Online Retail II
    // that was 9,000 page faults against 2,300 and about a third of the process's CPU time.
    // Never handing it back (the setting before) kept what one stage freed resident through
    // the next: on the x100 scale file 1.57 GB peak against 1.28 GB with a second's delay
    // (and 1.15 GB with 100 ms, 16% slower), at the same time within noise.
    // SAFETY: called first thing in main, before any thread is started.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, PURGE_DELAY_MS) };
    // No transparent huge pages for this process: the allocator reserves large regions and
    // touches them sparsely, and with huge pages every first touch zeroes 2 MiB. On `retain
    // score` over Online Retail II (boosted model, reasons) that is 0.55 s of system time
    // against 0.93, 1.87 s of wall time against 2.07 (medians of 7) and a lower peak.
    // SAFETY: a plain prctl on this process; its failure (an old kernel) changes nothing.
    #[cfg(target_os = "linux")]
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0)
    };
    retain_core::set_build_id(env!("RETAIN_BUILD_ID"));
    // A decoder's panic while an input is read (polars' Parquet reader panics on some
    // corrupt footers) is caught by the reader and reported as a corrupt file naming it:
    // its backtrace would only bury that message.
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !retain_core::activity::with_current(|file| file.is_some()) {
            report(info)
        }
    }));
    let cli = Cli::parse();
    if let Some(limit) = cli.memory_limit.or_else(memory::default_limit) {
        memory::set_limit(limit);
    }
    let ui = Ui::new(cli.quiet, cli.verbose, cli.format);
    if cli.verbose {
        init_debug_log();
    }
    let result = match &cli.command {
        Command::Demo(a) => commands::demo::run(a, &ui),
        Command::Generate(a) => commands::generate::run(a, &ui),
        Command::Features(a) => commands::features::run(a, &ui),
        Command::Train(a) => commands::train::run(a, &ui),
        Command::Evaluate(a) => commands::evaluate::run(a, &ui),
        Command::Score(a) => commands::score::run(a, &ui, false),
        Command::Plan(a) => commands::score::run(a, &ui, true),
        Command::Kpis(a) => commands::kpis::run(a, &ui, cli.verbose),
        Command::Report(a) => commands::html_report::run(a, &ui, cli.verbose),
    };
    match result {
        Ok(()) => {
            ui.finish();
            if cli.verbose {
                eprintln!(
                    "peak memory held: {:.2} GiB",
                    memory::peak() as f64 / (1u64 << 30) as f64
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            if is_broken_pipe(&e) {
                return ExitCode::SUCCESS;
            }
            eprintln!("error: {e}");
            for cause in e.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::from(exit_code(&e))
        }
    }
}

/// `--verbose`: the libraries' tracing events at debug level, on stderr.
fn init_debug_log() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("debug,polars=info"))
        .with_writer(std::io::stderr)
        .try_init();
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// 1 for anything the data or the user's inputs caused (bad data, bad configuration), 2 for
/// an internal fault and anything uncategorised: the first error in the chain that knows its
/// category decides.
fn exit_code(e: &anyhow::Error) -> u8 {
    use retain_core::{Categorized, ErrorCategory};
    fn category(c: &(dyn std::error::Error + 'static)) -> Option<ErrorCategory> {
        macro_rules! try_as {
            ($($t:ty),*) => {
                $(if let Some(e) = c.downcast_ref::<$t>() {
                    return Some(e.category());
                })*
            };
        }
        try_as!(
            retain_data::DataError,
            retain_features::FeatureError,
            retain_train::TrainError,
            retain_models::ModelError,
            retain_core::CoreError,
            retain_score::ScoreError,
            retain_clv::ClvError
        );
        if c.downcast_ref::<retain_sim::SimError>().is_some() {
            return Some(ErrorCategory::Config);
        }
        if c.downcast_ref::<retain_report::ReportError>().is_some() {
            return Some(ErrorCategory::Data);
        }
        None
    }
    let cat = e.chain().find_map(category);
    match cat {
        Some(ErrorCategory::Data | ErrorCategory::Config) => 1,
        // A plain message from the binary itself (an argument that does not fit the data,
        // two flags naming one folder) is the user's to fix.
        None if e.chain().count() == 1 && e.downcast_ref::<std::io::Error>().is_none() => 1,
        _ => 2,
    }
}
