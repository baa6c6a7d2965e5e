//! Runs of equal keys in a sorted column: every one-pass kernel over client-ordered tables
//! (condensing, the features, the holdout, the category modes) walks a client's rows, or a
//! client-day's, as one range.

/// The runs of equal values of `keys[lo..hi]`, in order, as `(start, end)` ranges (`end`
/// excluded): each range holds one value, and two ranges side by side hold different ones.
pub(crate) fn runs<T: PartialEq>(
    keys: &[T],
    lo: usize,
    hi: usize,
) -> impl Iterator<Item = (usize, usize)> + '_ {
    let mut s = lo;
    std::iter::from_fn(move || {
        if s >= hi {
            return None;
        }
        let mut e = s + 1;
        while e < hi && keys[e] == keys[s] {
            e += 1;
        }
        let run = (s, e);
        s = e;
        Some(run)
    })
}

#[cfg(test)]
mod tests {
    use super::runs;

    #[test]
    fn runs_cover_the_range_each_of_one_value_neighbours_of_two() {
        let keys = [3, 3, 1, 1, 1, 3, 7, 7, 2];
        let all: Vec<(usize, usize)> = runs(&keys, 0, keys.len()).collect();
        assert_eq!(all, [(0, 2), (2, 5), (5, 6), (6, 8), (8, 9)]);
        // a sub-range cuts the runs at its ends
        let inner: Vec<(usize, usize)> = runs(&keys, 1, 7).collect();
        assert_eq!(inner, [(1, 2), (2, 5), (5, 6), (6, 7)]);
        assert_eq!(runs(&keys, 4, 4).count(), 0);
        assert_eq!(runs::<i64>(&[], 0, 0).count(), 0);
        // pairs of keys (a client and a day) as one key
        let pairs = [(1, 5), (1, 5), (1, 6), (2, 6)];
        let by_pair: Vec<(usize, usize)> = runs(&pairs, 0, 4).collect();
        assert_eq!(by_pair, [(0, 2), (2, 3), (3, 4)]);
    }
}
