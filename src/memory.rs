//! The memory limit (`--memory-limit`): the allocator counts the bytes retain holds, and an
//! allocation that would take them past the limit stops the run with a message and exit code
//! 1, instead of the kernel's out-of-memory kill (exit 137, no message, often after the
//! machine has ground to a halt swapping).
//!
//! Nothing is half-written when the limit stops a run: every output is a temporary file until
//! it is complete and renamed ([`retain_core::write_atomic`]); the temporary file of the
//! stopped run is removed by the next run that writes in its folder.
//!
//! Counted is the heap: everything polars, the models and retain allocate. Memory-mapped
//! input files are not (the kernel can drop those pages at will). The default limit is 90%
//! of the machine's memory, or of the control group's limit when it has a lower one.
//!
//! Written by hand: the count is a thread-local add per allocation around mimalloc (batched
//! into a shared count), and the stop must not allocate (it runs inside the allocator), which
//! no crate offers with a message.

use std::alloc::{GlobalAlloc, Layout};
use std::cell::Cell;
use std::sync::atomic::{AtomicIsize, AtomicUsize, Ordering};

/// The allocator `A`, counting what it holds and refusing to go past [`set_limit`].
pub struct Limited<A>(pub A);

static IN_USE: AtomicIsize = AtomicIsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
static LIMIT: AtomicUsize = AtomicUsize::new(usize::MAX);

/// Each thread adds up its allocations and frees here and tells the shared count only when
/// they pass [`BATCH`] either way: one shared atomic add per allocation cost 13% of `retain
/// score` on Online Retail II (1.28 s against 1.11 s, medians of 5), from the threads
/// contending for its cache line. The count is then exact to `BATCH` bytes per thread.
const BATCH: isize = 1 << 20;

thread_local! {
    static LOCAL: Cell<isize> = const { Cell::new(0) };
}

/// Sets the limit in bytes.
pub fn set_limit(bytes: usize) {
    LIMIT.store(bytes, Ordering::Relaxed);
}

/// The most bytes held at once so far (to [`BATCH`] bytes per thread).
pub fn peak() -> usize {
    PEAK.load(Ordering::Relaxed)
}

/// Starts a new stage's peak: [`peak`] counts from the bytes held now.
fn restart_peak() {
    PEAK.store(
        IN_USE.load(Ordering::Relaxed).max(0) as usize,
        Ordering::Relaxed,
    );
}

/// Runs `f` as a stage named `name`: its wall time, its CPU time and the most bytes held
/// during it are added to `stages` (the run summary's `stages`).
pub fn stage<T>(stages: &mut Vec<retain_score::StageCost>, name: &str, f: impl FnOnce() -> T) -> T {
    restart_peak();
    let start = std::time::Instant::now();
    let cpu = retain_core::process_cpu_seconds();
    let out = f();
    let millis = |s: f64| (s * 1000.0).round() / 1000.0;
    stages.push(retain_score::StageCost {
        stage: name.to_string(),
        seconds: millis(start.elapsed().as_secs_f64()),
        cpu_seconds: millis((retain_core::process_cpu_seconds() - cpu).max(0.0)),
        peak_bytes: peak() as u64,
    });
    out
}

#[inline]
fn changed(delta: isize, request: usize) {
    let flush = LOCAL.try_with(|l| {
        let v = l.get() + delta;
        if v.abs() >= BATCH {
            l.set(0);
            Some(v)
        } else {
            l.set(v);
            None
        }
    });
    match flush {
        Ok(None) => {}
        Ok(Some(v)) => shared(v, request),
        // the thread's own count is gone (the thread is ending): straight to the shared one
        Err(_) => shared(delta, request),
    }
}

#[cold]
fn shared(delta: isize, request: usize) {
    let now = IN_USE.fetch_add(delta, Ordering::Relaxed) + delta;
    if delta <= 0 {
        return;
    }
    let now = now.max(0) as usize;
    if now > PEAK.load(Ordering::Relaxed) {
        PEAK.fetch_max(now, Ordering::Relaxed);
        let limit = LIMIT.load(Ordering::Relaxed);
        if now > limit {
            stop(limit, request);
        }
    }
}

/// A size in MiB below a GiB, else in GiB (formatting allocates nothing).
struct Size(usize);

impl std::fmt::Display for Size {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let b = self.0 as f64;
        if b < (1u64 << 30) as f64 {
            write!(f, "{:.1} MiB", b / (1u64 << 20) as f64)
        } else {
            write!(f, "{:.2} GiB", b / (1u64 << 30) as f64)
        }
    }
}

#[cold]
fn stop(limit: usize, request: usize) -> ! {
    use std::io::Write;
    let mut buf = [0u8; 1024];
    let n = {
        let mut w: &mut [u8] = &mut buf;
        retain_core::activity::with_current(|file| {
            let _ = match file {
                // more than any machine holds: the file claims sizes it does not have
                Some(f) if request > 1 << 40 => writeln!(
                    w,
                    "error: {f}: reading it asked for {} at once: the file is corrupt \
                     (a Parquet page or gzip stream claiming sizes it does not hold)",
                    Size(request)
                ),
                Some(f) => writeln!(
                    w,
                    "error: reading {f} needs more memory than --memory-limit {} allows: the \
                     run stopped, and no output is half-written; raise the limit, or read a \
                     smaller input",
                    Size(limit)
                ),
                None => writeln!(
                    w,
                    "error: this run needs more memory than --memory-limit {} allows: it \
                     stopped, and no output is half-written; raise the limit, or run on a \
                     smaller input (a date range, or a sample of clients)",
                    Size(limit)
                ),
            };
        });
        1024 - w.len()
    };
    // SAFETY: write(2) of a valid buffer to stderr, then _exit(2) without running any
    // destructor or handler (which could allocate).
    unsafe {
        libc::write(2, buf.as_ptr().cast(), n);
        libc::_exit(1)
    }
}

// SAFETY: every call is forwarded to `A` unchanged; only the count is added.
unsafe impl<A: GlobalAlloc> GlobalAlloc for Limited<A> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        changed(layout.size() as isize, layout.size());
        // SAFETY: the caller's contract, forwarded.
        unsafe { self.0.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        changed(layout.size() as isize, layout.size());
        // SAFETY: the caller's contract, forwarded.
        unsafe { self.0.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        changed(-(layout.size() as isize), 0);
        // SAFETY: the caller's contract, forwarded.
        unsafe { self.0.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        changed(
            new_size as isize - layout.size() as isize,
            new_size.saturating_sub(layout.size()),
        );
        // SAFETY: the caller's contract, forwarded.
        unsafe { self.0.realloc(ptr, layout, new_size) }
    }
}

/// The default limit: 90% of the machine's memory, or of the control group's limit when
/// lower; `None` when neither can be read (no limit).
pub fn default_limit() -> Option<usize> {
    let total = std::fs::read_to_string("/proc/meminfo").ok().and_then(|m| {
        m.lines()
            .find_map(|l| l.strip_prefix("MemTotal:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<usize>().ok())
            .map(|kb| kb * 1024)
    });
    let group = std::fs::read_to_string("/sys/fs/cgroup/memory.max")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok());
    let least = match (total, group) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }?;
    Some(least / 10 * 9)
}

/// Parses a size: bytes, or a number with a unit `K`, `M`, `G`, `T` (powers of 1024; `KiB`,
/// `MB`, `GiB`, ... also accepted).
pub fn parse_size(s: &str) -> Result<usize, String> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let v: f64 = num
        .parse()
        .map_err(|_| format!("{s:?} is not a size (for example 8G, 512M)"))?;
    let unit = unit.trim().to_ascii_uppercase();
    let scale: f64 = match unit.trim_end_matches("IB").trim_end_matches('B') {
        "" => 1.0,
        "K" => 1024.0,
        "M" => 1024.0 * 1024.0,
        "G" => 1024.0 * 1024.0 * 1024.0,
        "T" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        _ => return Err(format!("{s:?}: unknown unit (use K, M, G or T)")),
    };
    let bytes = v * scale;
    if !(bytes >= 1.0 && bytes < usize::MAX as f64) {
        return Err(format!("{s:?} is not a usable memory limit"));
    }
    Ok(bytes as usize)
}

/// Memory a line takes while its part is read and condensed, in bytes (measured on Online
/// Retail II's Parquet: about 450 bytes per line at the peak of a part), doubled for slack.
const BYTES_PER_PART_LINE: usize = 1024;

/// Lines per part of a streamed read: [`retain_data::READ_PART_LINES`], or fewer when an
/// eighth of the memory limit would not hold a part (up to three parts are held at once: the
/// one condensed, the one read next, and one waiting between them); `RETAIN_PART_LINES` sets
/// it outright (tests, tuning).
pub fn part_lines() -> u64 {
    if let Some(n) = std::env::var("RETAIN_PART_LINES")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .filter(|&n| n > 0)
    {
        return n;
    }
    let limit = LIMIT.load(Ordering::Relaxed);
    let fit = (limit / 8 / BYTES_PER_PART_LINE) as u64;
    fit.clamp(1 << 14, retain_data::READ_PART_LINES)
}

/// How many parts a streamed read holds at once (1 to 3), when its largest part holds
/// `largest` lines: three (one read, one put in order, one condensed) when three such parts
/// fit the three eighths of the limit that [`part_lines`] sizes parts for, fewer when the
/// parts are larger than that (a Parquet row group is never split, so a file of large row
/// groups makes large parts), one at the least: the parts are then read, put in order and
/// condensed one after another, more slowly, holding one part's lines, not three.
pub fn parts_held(largest: u64) -> usize {
    parts_held_under(LIMIT.load(Ordering::Relaxed), largest)
}

fn parts_held_under(limit: usize, largest: u64) -> usize {
    let part_bytes = (largest as u128).max(1) * BYTES_PER_PART_LINE as u128;
    let room = (limit / 8 * 3) as u128;
    (room / part_bytes).clamp(1, 3) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_with_units() {
        assert_eq!(parse_size("512M"), Ok(512 << 20));
        assert_eq!(parse_size("8G"), Ok(8 << 30));
        assert_eq!(parse_size("1.5GiB"), Ok(3 << 29));
        assert_eq!(parse_size("4096"), Ok(4096));
        assert!(parse_size("0").is_err());
        assert!(parse_size("-1G").is_err());
        assert!(parse_size("8X").is_err());
    }

    #[test]
    fn parts_larger_than_the_limit_sizes_are_held_fewer_at_once() {
        // the parts the limit sizes (an eighth of it each): three at once
        let limit = 80 << 20;
        let sized = (limit / 8 / BYTES_PER_PART_LINE) as u64;
        assert_eq!(parts_held_under(limit, sized), 3);
        assert_eq!(parts_held_under(limit, 1), 3);
        // one and a half times as large: two; three times: one
        assert_eq!(parts_held_under(limit, sized * 3 / 2), 2);
        assert_eq!(parts_held_under(limit, sized * 3), 1);
        // larger than the whole limit: still one (the limit then stops the run, naming it)
        assert_eq!(parts_held_under(limit, 200_000), 1);
        // no overflow at the extremes
        assert_eq!(parts_held_under(1, u64::MAX), 1);
        assert_eq!(parts_held_under(usize::MAX, u64::MAX), 1);
        assert_eq!(parts_held_under(8 << 30, retain_data::READ_PART_LINES), 3);
    }
}
