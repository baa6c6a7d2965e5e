//! Pieces of whole clients of a client-ordered table, for work done side by side: the
//! condensing, the features and the lines' fingerprint each split a part this way.

/// The bounds of about four runs of whole clients per thread of a client-ordered table of
/// `n` rows, where `same_client(b)` says rows `b - 1` and `b` are of one client: `0`, the
/// first row of each run after the first, then `n` (`[0, 0]` when `n` is 0). No client is
/// cut between two runs.
pub fn client_pieces(n: usize, same_client: impl Fn(usize) -> bool) -> Vec<usize> {
    let pieces = rayon::current_num_threads().max(1) * 4;
    let mut bounds = vec![0];
    for k in 1..pieces {
        let mut b = (n * k / pieces).max(*bounds.last().unwrap_or(&0));
        while b > 0 && b < n && same_client(b) {
            b += 1;
        }
        if b > *bounds.last().unwrap_or(&0) && b < n {
            bounds.push(b);
        }
    }
    bounds.push(n);
    bounds
}
