//! The terminal, shared by every command: results on stdout (aligned tables, or with
//! `--format json` one JSON document and nothing else), progress and warnings on stderr.
//!
//! - `--quiet`: errors only (the JSON document of `--format json` is still printed: it is the
//!   result asked for, not chatter).
//! - default: results on stdout; a progress bar counting the command's steps on stderr when it
//!   is a terminal, and a line per finished step with its counts and time.
//! - `--verbose`: also each step's line when stderr is not a terminal, extra detail on
//!   stdout, the total time, and the libraries' debug log (set up in `main`).

use std::cell::Cell;
use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use anyhow::Result;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use retain_train::{Progress, ProgressEvent};
use serde::Serialize;

use crate::args::OutputFormat;
use crate::table::{Table, duration, thousands};

/// The terminal of one run.
pub struct Ui {
    quiet: bool,
    verbose: bool,
    format: OutputFormat,
    tty: bool,
    start: Instant,
    /// Steps finished, and steps announced with [`Ui::plan`].
    steps: Cell<(usize, usize)>,
}

impl Ui {
    /// The terminal for `--quiet`, `--verbose` and `--format`.
    pub fn new(quiet: bool, verbose: bool, format: OutputFormat) -> Self {
        Self {
            quiet,
            verbose,
            format,
            tty: std::io::stderr().is_terminal(),
            start: Instant::now(),
            steps: Cell::new((0, 0)),
        }
    }

    /// Whether the results go out as one JSON document.
    pub fn json(&self) -> bool {
        self.format == OutputFormat::Json
    }

    /// Whether `--verbose` asks for extra detail.
    pub fn verbose(&self) -> bool {
        self.verbose && !self.quiet
    }

    /// Announces `n` more steps: the progress bar counts them (`3/5`).
    pub fn plan(&self, n: usize) {
        let (done, total) = self.steps.get();
        self.steps.set((done, total + n));
    }

    /// Runs `f` under the progress bar labelled `msg`; the step's line reads `msg (1.2 s)`.
    pub fn step<T>(&self, msg: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
        self.step_counted(msg, f, |_, d| format!("{msg} ({})", duration(d)))
    }

    /// Runs `f` under the progress bar labelled `msg`; `done` words the step's line from the
    /// result and the time it took (`scored 5,878 clients in 0.4 s (14,000/s)`).
    pub fn step_counted<T>(
        &self,
        msg: &str,
        f: impl FnOnce() -> Result<T>,
        done: impl FnOnce(&T, Duration) -> String,
    ) -> Result<T> {
        self.step_reporting(msg, |_| f(), done)
    }

    /// [`Ui::step_counted`] for a library call that reports its own progress: `f` gets a
    /// [`Progress`] whose events (each evaluation run, each model fitted) show on the bar,
    /// `runs` being the evaluation runs the call will make (`run 2/4 at 2011-09-09: fitting
    /// random_forest`).
    pub fn step_with_progress<T>(
        &self,
        msg: &str,
        runs: usize,
        f: impl FnOnce(Progress) -> Result<T>,
        done: impl FnOnce(&T, Duration) -> String,
    ) -> Result<T> {
        self.step_reporting(
            msg,
            |bar| {
                let Some(bar) = bar else {
                    return f(Progress::default());
                };
                let bar = bar.clone();
                let label = msg.to_string();
                let run = std::sync::Mutex::new(String::new());
                f(Progress::new(move |e| {
                    let mut run = run.lock().unwrap_or_else(|p| p.into_inner());
                    match e {
                        ProgressEvent::Run {
                            done,
                            cutoff,
                            validation,
                        } => {
                            *run = format!(
                                "run {done}/{runs} at {cutoff}{}",
                                if validation { " (validation)" } else { "" }
                            );
                            bar.set_message(format!("{label}: {run}"));
                        }
                        ProgressEvent::Model(m) => {
                            bar.set_message(format!("{label}: {run}: fitting {m}"));
                        }
                    }
                }))
            },
            done,
        )
    }

    /// [`Ui::step_counted`] for a step that says how far it got: `f` gets a function that
    /// sets the bar's message (`msg: part 3/100, 2.4M lines/s`).
    pub fn step_with_messages<T>(
        &self,
        msg: &str,
        f: impl FnOnce(&dyn Fn(&str)) -> Result<T>,
        done: impl FnOnce(&T, Duration) -> String,
    ) -> Result<T> {
        self.step_reporting(
            msg,
            |bar| match bar {
                Some(bar) => f(&|m: &str| bar.set_message(format!("{msg}: {m}"))),
                None => f(&|_: &str| {}),
            },
            done,
        )
    }

    fn step_reporting<T>(
        &self,
        msg: &str,
        f: impl FnOnce(Option<&ProgressBar>) -> Result<T>,
        done: impl FnOnce(&T, Duration) -> String,
    ) -> Result<T> {
        let (finished, planned) = self.steps.get();
        let total = planned.max(finished + 1);
        let start = Instant::now();
        let bar = if self.quiet || !self.tty {
            None
        } else {
            let counted = planned > 0;
            let b = ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr());
            let template = if counted {
                "{spinner} [{bar:20}] {pos}/{len} {msg} {elapsed}"
            } else {
                "{spinner} {msg} {elapsed}"
            };
            b.set_style(
                ProgressStyle::with_template(template)
                    .expect("a valid template")
                    .progress_chars("=> "),
            );
            b.set_position(finished as u64);
            b.set_message(msg.to_string());
            b.enable_steady_tick(Duration::from_millis(100));
            Some(b)
        };
        let out = f(bar.as_ref());
        if let Some(b) = bar {
            b.finish_and_clear();
        }
        self.steps.set((finished + 1, planned));
        if let Ok(t) = &out
            && !self.quiet
            && (self.tty || self.verbose)
        {
            let line = done(t, start.elapsed());
            if planned > 0 {
                eprintln!("  [{}/{total}] {line}", finished + 1);
            } else {
                eprintln!("  {line}");
            }
        }
        out
    }

    /// Prints a result line on stdout (not with `--quiet` or `--format json`).
    pub fn say(&self, line: impl AsRef<str>) {
        if !self.quiet && !self.json() {
            // a closed pipe is not an error: the outputs are still written
            let _ = writeln!(std::io::stdout().lock(), "{}", line.as_ref());
        }
    }

    /// Prints a table on stdout, indented by `indent` spaces (not with `--quiet` or
    /// `--format json`).
    pub fn table(&self, t: &Table, indent: usize) {
        for line in t.lines() {
            self.say(format!("{:indent$}{line}", ""));
        }
    }

    /// Prints `warning: msg` on stderr (not with `--quiet`).
    pub fn warn(&self, msg: impl AsRef<str>) {
        if !self.quiet {
            eprintln!("warning: {}", msg.as_ref());
        }
    }

    /// With `--format json`, prints `doc` on stdout as the run's one JSON document (pretty);
    /// otherwise nothing. Returns whether it printed.
    pub fn emit<T: Serialize>(&self, doc: &T) -> Result<bool> {
        if !self.json() {
            return Ok(false);
        }
        let mut out = std::io::stdout().lock();
        // as an io::Error, so that a closed pipe is recognised as one
        serde_json::to_writer_pretty(&mut out, doc).map_err(std::io::Error::from)?;
        writeln!(out)?;
        out.flush()?;
        Ok(true)
    }

    /// The end of a successful run: with `--verbose`, the total time on stderr.
    pub fn finish(&self) {
        if self.verbose() {
            eprintln!("done in {}", duration(self.start.elapsed()));
        }
    }
}

/// `n` things in `d` as a rate for people: `14,000/s` (three significant digits).
pub fn per_second(n: u64, d: Duration) -> String {
    format!("{}/s", rate(n, d))
}

/// `n` things in `d` per second, to three significant digits: `14,000`.
pub fn rate(n: u64, d: Duration) -> String {
    let s = d.as_secs_f64();
    if s <= 0.0 {
        return "-".into();
    }
    let r = n as f64 / s;
    let digits = if r >= 1.0 {
        r.log10().floor() as i32 + 1
    } else {
        1
    };
    let unit = 10f64.powi((digits - 3).max(0));
    thousands(((r / unit).round() * unit) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_keep_three_significant_digits() {
        assert_eq!(per_second(5878, Duration::from_millis(420)), "14,000/s");
        assert_eq!(per_second(809_490, Duration::from_secs(2)), "405,000/s");
        assert_eq!(per_second(7, Duration::from_secs(2)), "4/s");
        assert_eq!(per_second(7, Duration::ZERO), "-/s");
    }
}
