//! What a long training or evaluation run tells a progress display: each evaluation run (a
//! cutoff, or the validation window of the selection) as it starts, and each model as it is
//! fitted. A library never prints: the caller turns the events into a progress bar.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use retain_core::Cutoff;

/// One event of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgressEvent<'a> {
    /// An evaluation run starts: the `done`-th so far (from 1), at `cutoff`; `validation`
    /// for the inner run the selection is made on.
    Run {
        /// Runs started so far, this one included.
        done: usize,
        /// The run's evaluation cutoff.
        cutoff: Cutoff,
        /// Whether it is the selection's validation run.
        validation: bool,
    },
    /// A model is being fitted.
    Model(&'a str),
}

type Callback = dyn Fn(ProgressEvent<'_>) + Send + Sync;

/// The progress callback of a run; the default reports nothing.
#[derive(Clone, Default)]
pub struct Progress(Option<Arc<(Box<Callback>, AtomicUsize)>>);

impl Progress {
    /// Reports every event to `f`.
    pub fn new(f: impl Fn(ProgressEvent<'_>) + Send + Sync + 'static) -> Self {
        Self(Some(Arc::new((Box::new(f), AtomicUsize::new(0)))))
    }

    /// Tells that an evaluation run starts.
    pub(crate) fn run(&self, cutoff: Cutoff, validation: bool) {
        if let Some(inner) = &self.0 {
            let done = inner.1.fetch_add(1, Ordering::Relaxed) + 1;
            (inner.0)(ProgressEvent::Run {
                done,
                cutoff,
                validation,
            });
        }
    }

    /// Tells that model `name` is being fitted.
    pub(crate) fn model(&self, name: &str) {
        if let Some(inner) = &self.0 {
            (inner.0)(ProgressEvent::Model(name));
        }
    }
}

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "Progress(reporting)"
        } else {
            "Progress(silent)"
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[test]
    fn events_reach_the_callback_in_order_and_runs_are_counted() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let s = seen.clone();
        let p = Progress::new(move |e| {
            s.lock().unwrap().push(match e {
                ProgressEvent::Run {
                    done, validation, ..
                } => format!("run {done} {validation}"),
                ProgressEvent::Model(m) => format!("model {m}"),
            })
        });
        let c: Cutoff = "2011-09-09".parse().unwrap();
        p.run(c, false);
        p.model("logistic_regression");
        p.clone().run(c, true);
        assert_eq!(
            *seen.lock().unwrap(),
            ["run 1 false", "model logistic_regression", "run 2 true"]
        );
        // the default is silent
        Progress::default().run(c, false);
    }
}
