//! The CPU time the process has used, for the stages' costs a run reports beside their wall
//! time (on two busy cores a stage's CPU time is twice its wall time).

/// The CPU time all of the process's threads have used so far, user and system, in seconds
/// (0 when the system does not say).
pub fn process_cpu_seconds() -> f64 {
    // SAFETY: an all-zero `rusage` is a valid value, and getrusage only fills the one it is
    // given.
    let usage = unsafe {
        let mut u: libc::rusage = std::mem::zeroed();
        (libc::getrusage(libc::RUSAGE_SELF, &mut u) == 0).then_some(u)
    };
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    usage.map_or(0.0, |u| seconds(u.ru_utime) + seconds(u.ru_stime))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cpu_time_grows_with_work_done() {
        let before = process_cpu_seconds();
        // some milliseconds of arithmetic the optimiser cannot drop
        let mut x = 1u64;
        for i in 0..20_000_000u64 {
            x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(i));
        }
        let after = process_cpu_seconds();
        assert!(before > 0.0, "{before}");
        assert!(after > before, "{before} -> {after} ({x})");
    }
}
