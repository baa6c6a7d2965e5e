//! What the process is reading now, for a message that cannot be returned as an error: when
//! an allocation fails or passes the memory limit (a corrupt Parquet page or gzip stream can
//! claim exabytes), the binary's allocator stops the run and names the file being read.
//!
//! Readers hold the guard of [`reading`] while polars reads their input; the allocator calls
//! [`with_current`], which never blocks and never allocates.

use std::sync::{Arc, Mutex};

static CURRENT: Mutex<Option<Arc<str>>> = Mutex::new(None);

/// Records that the process is reading `path` until the returned guard is dropped.
#[must_use = "the record lasts as long as the guard"]
pub fn reading(path: &std::path::Path) -> Reading {
    let text: Arc<str> = Arc::from(path.display().to_string());
    let old = match CURRENT.lock() {
        Ok(mut c) => c.replace(text),
        Err(_) => None,
    };
    drop(old); // freed outside the lock
    Reading(())
}

/// The record of [`reading`]: cleared when dropped.
pub struct Reading(());

impl Drop for Reading {
    fn drop(&mut self) {
        done();
    }
}

/// Records that the reading is over.
fn done() {
    let old = match CURRENT.lock() {
        Ok(mut c) => c.take(),
        Err(_) => None,
    };
    drop(old);
}

/// Calls `f` with the file being read, if any; `f` gets `None` when nothing is being read or
/// the record is being changed at this moment (it never waits).
pub fn with_current<R>(f: impl FnOnce(Option<&str>) -> R) -> R {
    match CURRENT.try_lock() {
        Ok(c) => f(c.as_deref()),
        Err(_) => f(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_current_file_is_recorded_and_cleared() {
        let guard = reading(std::path::Path::new("a/b.parquet"));
        assert_eq!(
            with_current(|c| c.map(str::to_string)),
            Some("a/b.parquet".into())
        );
        drop(guard);
        assert_eq!(with_current(|c| c.map(str::to_string)), None);
    }
}
