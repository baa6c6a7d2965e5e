//! Pairwise association rules between products, for the content of an offer: "clients who
//! bought X also buy Y".
//!
//! # Definitions
//!
//! A basket (an invoice) is a **set** of products: a product on several lines of one invoice
//! counts once. Over the `N` baskets mined, with `n_A` the baskets holding `A` and `n_AB` those
//! holding both `A` and `B`, the rule `A -> B` has
//!
//! * support `s(A, B) = n_AB / N`,
//! * confidence `c(A -> B) = s(A, B) / s(A) = n_AB / n_A`,
//! * lift `l(A -> B) = c(A -> B) / s(B) = n_AB N / (n_A n_B)` (symmetric in `A` and `B`).
//!
//! A rule is kept when `n_AB >=` the minimum support count (default 5 baskets), its lift is
//! above 1 (tested exactly in integers: `n_AB N > n_A n_B`) and its confidence is at least the
//! minimum confidence (default 0: no filter). Both directions of a pair are rules.
//!
//! **Ordering.** A rule ranks above another by higher lift, then higher confidence, then
//! higher support, then smaller consequent, then smaller antecedent. The rules of one
//! antecedent are stored best first in that order, at most
//! [`RulesParams::max_rules_per_product`] of them (default 200), and [`AssociationRules::iter`]
//! lists the antecedents in increasing id. Everything is deterministic, with or without
//! threads.
//!
//! **Large baskets.** A basket with more than [`RulesParams::max_basket_size`] distinct
//! products (default 1,000) is left out of the mining altogether: it counts neither in `N` nor
//! in any support (a stock-take or a wholesale order says little about a client's taste, and
//! this bounds the `O(s^2)` pair work of one basket). Online Retail II (41,943 invoices once
//! cancellations and returns are dropped, 4,985 products, 1.02 million lines) has one such
//! invoice, of 1,110 products. [`AssociationRules::baskets_skipped`] says how many were left
//! out.
//!
//! # Counting
//!
//! Products below the minimum support count cannot be in a kept rule (`n_AB <= n_A`), so they
//! are dropped from the baskets first. Then, for each antecedent `A` (in parallel with rayon),
//! a dense counter over the products is filled from the baskets holding `A` (a sparse
//! `X^T X` row, with the counter small enough to stay in cache) and the kept rules are read
//! off the products touched. The work is `sum over baskets of s^2` increments: 96 million
//! for Online Retail II, mined in about half a second (release build, two busy cores): 4.5
//! million rules pass the default thresholds, 0.7 million are kept at 200 per product.
//!
//! # Recommendations
//!
//! [`AssociationRules::recommend`] ranks the products a client has **not** bought by the best
//! rule from a product they did buy (the order above: lift, confidence, support, smaller
//! product), and names that rule's antecedent as the evidence (`because`: "bought X"; among
//! equal best rules, the smaller antecedent). It merges the client's antecedents' rule lists
//! (each already best first) with a heap and stops at `k` products, so the work is the
//! client's products plus about `k + (rules pointing at products already bought or already
//! suggested)` heap steps, never the whole candidate set; it is further bounded by
//! [`RulesParams::max_scan`] (default 20,000) heap steps per client.
//! Since the merge visits rules in the final order, stopping early can only shorten the list:
//! the recommendations returned are always the exact best ones among the kept rules.
//! [`AssociationRules::recommend_all`] does many clients with rayon. On Online Retail II
//! (82 distinct products per client on average), five products each for its 5,881 clients
//! take about 10 to 25 ms, and for 100 copies of them (588,100 clients) about 1.3 s (release
//! build, two busy cores).
//!
//! # Why hand-written
//!
//! The Rust crates for association rules mine frequent itemsets of any size from string
//! transactions (`fp-growth` 0.1, unmaintained since 2021, with no confidence or lift;
//! `arm-rs`, an FP-growth command-line program). Pairwise rules over dense product ids need
//! only the pair counts above, a hundred lines with no dependency beyond rayon, and
//! recommending from them (the heap merge) is specific to this use anyway.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Product ids must be below this bound (2^24): the caller maps product codes to dense ids
/// `0..n_products`, and per-product arrays are sized by the largest id.
pub const MAX_PRODUCT_ID: u32 = 1 << 24;

/// Why baskets could not be built or rules mined. Every variant names the offending input.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum RulesError {
    /// `product_of_line` and `basket_of_line` have different lengths.
    #[error("length mismatch: `product_of_line` has {got} entries, `basket_of_line` {expected}")]
    LengthMismatch {
        /// Length of `basket_of_line`.
        expected: usize,
        /// Length of `product_of_line`.
        got: usize,
    },
    /// A product id is not below [`MAX_PRODUCT_ID`].
    #[error(
        "product id {product} at {what} {index} is not below {MAX_PRODUCT_ID}; map product codes to dense ids first"
    )]
    ProductOutOfRange {
        /// `line` or `basket`.
        what: &'static str,
        /// Index of the line or basket.
        index: usize,
        /// The product id found.
        product: u32,
    },
    /// A parameter is invalid.
    #[error("invalid parameter `{name}`: {reason}")]
    InvalidParameter {
        /// The parameter name.
        name: &'static str,
        /// What is wrong with it.
        reason: String,
    },
}

// ---------------------------------------------------------------------------------------------
// Baskets
// ---------------------------------------------------------------------------------------------

/// Baskets as sets of dense product ids, stored compressed (one offset per basket).
///
/// Each basket's products are sorted and distinct; empty baskets are not kept.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Baskets {
    offsets: Vec<usize>,
    products: Vec<u32>,
    n_products: usize,
}

impl Baskets {
    /// Builds the baskets from invoice lines: line `i` puts product `product_of_line[i]` in
    /// basket `basket_of_line[i]`. Lines may come in any order (they are sorted here; sorted
    /// input is cheapest); basket ids need not be dense; a product repeated in a basket counts
    /// once. Baskets come out in increasing basket id.
    ///
    /// # Errors
    /// [`RulesError::LengthMismatch`], [`RulesError::ProductOutOfRange`] (naming the line).
    pub fn from_lines(basket_of_line: &[u32], product_of_line: &[u32]) -> Result<Self, RulesError> {
        if basket_of_line.len() != product_of_line.len() {
            return Err(RulesError::LengthMismatch {
                expected: basket_of_line.len(),
                got: product_of_line.len(),
            });
        }
        if let Some(index) = product_of_line.iter().position(|&p| p >= MAX_PRODUCT_ID) {
            return Err(RulesError::ProductOutOfRange {
                what: "line",
                index,
                product: product_of_line[index],
            });
        }
        let mut keys: Vec<u64> = basket_of_line
            .iter()
            .zip(product_of_line)
            .map(|(&b, &p)| (u64::from(b) << 32) | u64::from(p))
            .collect();
        if !keys.is_sorted() {
            keys.sort_unstable();
        }
        keys.dedup();
        let mut offsets = Vec::new();
        let mut products = Vec::with_capacity(keys.len());
        let mut current = None;
        for key in keys {
            let basket = key >> 32;
            if current != Some(basket) {
                offsets.push(products.len());
                current = Some(basket);
            }
            products.push(key as u32);
        }
        offsets.push(products.len());
        Ok(Self::from_parts(offsets, products))
    }

    /// Builds the baskets from one product list per basket (sorted and deduplicated here;
    /// empty lists are dropped).
    ///
    /// # Errors
    /// [`RulesError::ProductOutOfRange`] (naming the basket's position).
    pub fn from_baskets<B: AsRef<[u32]>>(baskets: &[B]) -> Result<Self, RulesError> {
        let mut offsets = vec![0];
        let mut products = Vec::new();
        for (index, basket) in baskets.iter().enumerate() {
            let basket = basket.as_ref();
            if let Some(&product) = basket.iter().find(|&&p| p >= MAX_PRODUCT_ID) {
                return Err(RulesError::ProductOutOfRange {
                    what: "basket",
                    index,
                    product,
                });
            }
            if basket.is_empty() {
                continue;
            }
            let start = products.len();
            products.extend_from_slice(basket);
            products[start..].sort_unstable();
            let mut kept = start;
            for i in start..products.len() {
                if i == start || products[i] != products[kept - 1] {
                    products[kept] = products[i];
                    kept += 1;
                }
            }
            products.truncate(kept);
            offsets.push(products.len());
        }
        Ok(Self::from_parts(offsets, products))
    }

    fn from_parts(offsets: Vec<usize>, products: Vec<u32>) -> Self {
        let n_products = products.iter().max().map_or(0, |&p| p as usize + 1);
        Self {
            offsets,
            products,
            n_products,
        }
    }

    /// Number of (non-empty) baskets.
    pub fn len(&self) -> usize {
        self.offsets.len().saturating_sub(1)
    }

    /// Whether there is no basket.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// One more than the largest product id (0 when there is no basket).
    pub fn n_products(&self) -> usize {
        self.n_products
    }

    /// The sorted, distinct products of basket `i`, or `None` past the end.
    pub fn basket(&self, i: usize) -> Option<&[u32]> {
        let (start, end) = (*self.offsets.get(i)?, *self.offsets.get(i + 1)?);
        Some(&self.products[start..end])
    }

    /// The baskets in order.
    pub fn iter(&self) -> impl Iterator<Item = &[u32]> + '_ {
        self.offsets.windows(2).map(|w| &self.products[w[0]..w[1]])
    }
}

// ---------------------------------------------------------------------------------------------
// Parameters
// ---------------------------------------------------------------------------------------------

/// Parameters of the mining and of the recommendations; setters never fail,
/// [`RulesParams::check`] (called by [`AssociationRules::mine`]) validates.
///
/// | Name | Default | Purpose | Range |
/// |---|---|---|---|
/// | `min_support_count` | 5 | baskets holding both products of a kept rule | `>= 1` |
/// | `min_confidence` | 0 | smallest confidence of a kept rule | `[0, 1]` |
/// | `max_basket_size` | 1,000 | larger baskets are left out of the mining | `>= 2` |
/// | `max_rules_per_product` | 200 | rules kept per antecedent (the best ones) | `>= 1` |
/// | `max_scan` | 20,000 | heap steps per client when recommending | `>= 1` |
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RulesParams {
    min_support_count: u32,
    min_confidence: f64,
    max_basket_size: usize,
    max_rules_per_product: usize,
    max_scan: usize,
}

impl Default for RulesParams {
    fn default() -> Self {
        Self {
            min_support_count: 5,
            min_confidence: 0.0,
            max_basket_size: 1_000,
            max_rules_per_product: 200,
            max_scan: 20_000,
        }
    }
}

impl RulesParams {
    /// The smallest number of baskets holding both products of a kept rule.
    pub fn min_support_count(mut self, count: u32) -> Self {
        self.min_support_count = count;
        self
    }

    /// The smallest confidence of a kept rule.
    pub fn min_confidence(mut self, confidence: f64) -> Self {
        self.min_confidence = confidence;
        self
    }

    /// Baskets with more distinct products are left out of the mining.
    pub fn max_basket_size(mut self, size: usize) -> Self {
        self.max_basket_size = size;
        self
    }

    /// The number of rules kept per antecedent (the best ones); `usize::MAX` keeps all.
    pub fn max_rules_per_product(mut self, count: usize) -> Self {
        self.max_rules_per_product = count;
        self
    }

    /// The largest number of heap steps (rules looked at) per client when recommending.
    pub fn max_scan(mut self, steps: usize) -> Self {
        self.max_scan = steps;
        self
    }

    /// Checks every parameter against its range (see the table).
    ///
    /// # Errors
    /// [`RulesError::InvalidParameter`] naming the first one out of range.
    pub fn check(&self) -> Result<(), RulesError> {
        let bad = |name, reason: &str| {
            Err(RulesError::InvalidParameter {
                name,
                reason: reason.to_owned(),
            })
        };
        if self.min_support_count == 0 {
            return bad("min_support_count", "must be at least 1");
        }
        if !(0.0..=1.0).contains(&self.min_confidence) {
            return bad(
                "min_confidence",
                &format!("{} is outside [0, 1]", self.min_confidence),
            );
        }
        if self.max_basket_size < 2 {
            return bad("max_basket_size", "must be at least 2 (a pair)");
        }
        if self.max_rules_per_product == 0 {
            return bad("max_rules_per_product", "must be at least 1");
        }
        if self.max_scan == 0 {
            return bad("max_scan", "must be at least 1");
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// Rules
// ---------------------------------------------------------------------------------------------

/// One rule `antecedent -> consequent` with its measures (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Rule {
    /// The product bought (`A`).
    pub antecedent: u32,
    /// The product suggested (`B`).
    pub consequent: u32,
    /// Baskets holding both, `n_AB`.
    pub count: u32,
    /// `n_AB / N`.
    pub support: f64,
    /// `n_AB / n_A`.
    pub confidence: f64,
    /// `n_AB N / (n_A n_B)`.
    pub lift: f64,
}

/// A stored rule: the antecedent is implied by its position.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Entry {
    consequent: u32,
    count: u32,
    lift: f64,
}

/// The kept pairwise rules, grouped by antecedent, best first.
#[derive(Debug, Clone, PartialEq)]
pub struct AssociationRules {
    n_baskets: usize,
    baskets_skipped: usize,
    /// `n_A` per product over the baskets mined.
    product_count: Vec<u32>,
    /// Rules of antecedent `a` are `entries[offsets[a]..offsets[a + 1]]`.
    offsets: Vec<usize>,
    entries: Vec<Entry>,
    max_scan: usize,
}

/// A product suggested to a client, with the rule that suggests it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Recommendation {
    /// The product suggested (not bought by the client).
    pub product: u32,
    /// Lift of the best rule `because -> product`.
    pub lift: f64,
    /// Confidence of that rule.
    pub confidence: f64,
    /// Support of that rule.
    pub support: f64,
    /// The product the client bought that is the rule's antecedent ("bought X").
    pub because: u32,
}

/// Ranks `(lift, count, consequent)` of one antecedent: best first.
fn entry_order(a: &Entry, b: &Entry) -> Ordering {
    b.lift
        .total_cmp(&a.lift)
        .then_with(|| b.count.cmp(&a.count))
        .then_with(|| a.consequent.cmp(&b.consequent))
}

/// What the pair counting of every antecedent shares.
struct PairCounts<'a> {
    /// The mined baskets restricted to frequent products.
    reduced: &'a Baskets,
    /// `baskets_of[start[a]..start[a + 1]]`: the reduced baskets holding product `a`.
    baskets_of: &'a [u32],
    start: &'a [usize],
    product_count: &'a [u32],
    n_baskets: u64,
    params: &'a RulesParams,
}

impl PairCounts<'_> {
    /// Counts the pairs of antecedent `a` into `acc` (all zero on entry and on exit) and
    /// returns its kept rules, best first.
    fn rules_of(&self, a: usize, acc: &mut [u32], touched: &mut Vec<u32>) -> Vec<Entry> {
        for &b in &self.baskets_of[self.start[a]..self.start[a + 1]] {
            for &p in self.reduced.basket(b as usize).unwrap_or(&[]) {
                if p as usize != a {
                    let slot = &mut acc[p as usize];
                    if *slot == 0 {
                        touched.push(p);
                    }
                    *slot += 1;
                }
            }
        }
        let n_a = self.product_count[a];
        let mut out = Vec::new();
        for p in touched.drain(..) {
            let count = std::mem::take(&mut acc[p as usize]);
            let n_b = self.product_count[p as usize];
            // Lift above 1, exactly: n_AB N > n_A n_B.
            let num = u128::from(count) * u128::from(self.n_baskets);
            let den = u128::from(n_a) * u128::from(n_b);
            let confidence = f64::from(count) / f64::from(n_a);
            if count >= self.params.min_support_count
                && num > den
                && confidence >= self.params.min_confidence
            {
                out.push(Entry {
                    consequent: p,
                    count,
                    lift: num as f64 / den as f64,
                });
            }
        }
        out.sort_unstable_by(entry_order);
        out.truncate(self.params.max_rules_per_product);
        out
    }
}

impl AssociationRules {
    /// Mines the pairwise rules of `baskets` (see the module documentation). No basket gives
    /// no rule.
    ///
    /// # Errors
    /// [`RulesError::InvalidParameter`] from [`RulesParams::check`].
    pub fn mine(baskets: &Baskets, params: &RulesParams) -> Result<Self, RulesError> {
        params.check()?;
        let n_products = baskets.n_products();
        let mut product_count = vec![0u32; n_products];
        let mut n_baskets = 0usize;
        for basket in baskets.iter().filter(|b| b.len() <= params.max_basket_size) {
            n_baskets += 1;
            for &p in basket {
                product_count[p as usize] += 1;
            }
        }
        let baskets_skipped = baskets.len() - n_baskets;
        let frequent = |p: u32| product_count[p as usize] >= params.min_support_count;

        // The mined baskets restricted to frequent products; only those with a pair matter.
        let mut offsets = vec![0];
        let mut products = Vec::new();
        for basket in baskets.iter().filter(|b| b.len() <= params.max_basket_size) {
            let start = products.len();
            products.extend(basket.iter().copied().filter(|&p| frequent(p)));
            if products.len() - start < 2 {
                products.truncate(start);
            } else {
                offsets.push(products.len());
            }
        }
        let reduced = Baskets {
            offsets,
            products,
            n_products,
        };

        // For each product, the reduced baskets holding it.
        let mut start = vec![0usize; n_products + 1];
        for &p in &reduced.products {
            start[p as usize + 1] += 1;
        }
        for p in 0..n_products {
            start[p + 1] += start[p];
        }
        let mut fill = start.clone();
        let mut baskets_of = vec![0u32; reduced.products.len()];
        for (b, basket) in reduced.iter().enumerate() {
            for &p in basket {
                baskets_of[fill[p as usize]] = b as u32;
                fill[p as usize] += 1;
            }
        }

        let counts = PairCounts {
            reduced: &reduced,
            baskets_of: &baskets_of,
            start: &start,
            product_count: &product_count,
            n_baskets: n_baskets as u64,
            params,
        };
        let per_product: Vec<Vec<Entry>> = (0..n_products)
            .into_par_iter()
            .map_init(
                || (vec![0u32; n_products], Vec::new()),
                |(acc, touched), a| counts.rules_of(a, acc, touched),
            )
            .collect();

        let mut offsets = Vec::with_capacity(n_products + 1);
        offsets.push(0);
        let mut entries = Vec::with_capacity(per_product.iter().map(Vec::len).sum());
        for list in per_product {
            entries.extend(list);
            offsets.push(entries.len());
        }
        Ok(Self {
            n_baskets,
            baskets_skipped,
            product_count,
            offsets,
            entries,
            max_scan: params.max_scan,
        })
    }

    /// Number of baskets mined (`N`).
    pub fn n_baskets(&self) -> usize {
        self.n_baskets
    }

    /// Number of baskets left out for holding more than `max_basket_size` products.
    pub fn baskets_skipped(&self) -> usize {
        self.baskets_skipped
    }

    /// Number of kept rules.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no rule was kept.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Baskets mined that hold `product` (`n_A`; 0 for an unknown product).
    pub fn support_count(&self, product: u32) -> u32 {
        self.product_count
            .get(product as usize)
            .copied()
            .unwrap_or(0)
    }

    fn range(&self, antecedent: u32) -> std::ops::Range<usize> {
        let a = antecedent as usize;
        match (self.offsets.get(a), self.offsets.get(a + 1)) {
            (Some(&s), Some(&e)) => s..e,
            _ => 0..0,
        }
    }

    fn rule_at(&self, antecedent: u32, pos: usize) -> Rule {
        let e = self.entries[pos];
        Rule {
            antecedent,
            consequent: e.consequent,
            count: e.count,
            support: f64::from(e.count) / self.n_baskets as f64,
            confidence: f64::from(e.count) / f64::from(self.product_count[antecedent as usize]),
            lift: e.lift,
        }
    }

    /// The kept rules of one antecedent, best first (none for an unknown product).
    pub fn rules_from(&self, antecedent: u32) -> impl Iterator<Item = Rule> + '_ {
        self.range(antecedent)
            .map(move |pos| self.rule_at(antecedent, pos))
    }

    /// The rule `antecedent -> consequent` if it was kept.
    pub fn rule(&self, antecedent: u32, consequent: u32) -> Option<Rule> {
        self.rules_from(antecedent)
            .find(|r| r.consequent == consequent)
    }

    /// Every kept rule: antecedents in increasing id, each one's rules best first.
    pub fn iter(&self) -> impl Iterator<Item = Rule> + '_ {
        (0..self.offsets.len().saturating_sub(1) as u32).flat_map(|a| self.rules_from(a))
    }

    /// Up to `k` products the client has not bought, best first (see the module
    /// documentation for the order and the bound on the work). `bought` may hold duplicates
    /// and unknown products (they have no rule).
    pub fn recommend(&self, bought: &[u32], k: usize) -> Vec<Recommendation> {
        self.recommend_with(bought, k, &mut Scratch::new(self.product_count.len()))
    }

    /// [`AssociationRules::recommend`] for many clients, in parallel; one list per client, in
    /// the caller's order.
    pub fn recommend_all<B: AsRef<[u32]> + Sync>(
        &self,
        clients: &[B],
        k: usize,
    ) -> Vec<Vec<Recommendation>> {
        let n = self.product_count.len();
        clients
            .par_iter()
            .map_init(
                || Scratch::new(n),
                |scratch, bought| self.recommend_with(bought.as_ref(), k, scratch),
            )
            .collect()
    }

    fn recommend_with(&self, bought: &[u32], k: usize, s: &mut Scratch) -> Vec<Recommendation> {
        let mut out = Vec::with_capacity(k.min(64));
        if k == 0 || self.entries.is_empty() {
            return out;
        }
        let n = self.product_count.len();
        // Heads collected first and heapified at once (linear time), reusing the buffer.
        let mut heads = std::mem::take(&mut s.heap).into_vec();
        heads.clear();
        for &a in bought {
            if (a as usize) < n && !s.bought.get(a) {
                s.bought.set(a);
                let range = self.range(a);
                if !range.is_empty() {
                    heads.push(self.head(a, range.start, range.end));
                }
            }
        }
        s.heap = BinaryHeap::from(heads);
        let mut steps = 0;
        while let Some(head) = s.heap.pop() {
            steps += 1;
            let b = head.consequent;
            if !s.bought.get(b) && !s.taken.get(b) {
                s.taken.set(b);
                out.push(Recommendation {
                    product: b,
                    lift: head.lift,
                    confidence: head.confidence,
                    support: f64::from(head.count) / self.n_baskets as f64,
                    because: head.antecedent,
                });
                if out.len() == k {
                    break;
                }
            }
            if steps >= self.max_scan {
                break;
            }
            if head.pos + 1 < head.end {
                s.heap
                    .push(self.head(head.antecedent, head.pos + 1, head.end));
            }
        }
        s.heap.clear();
        for &a in bought {
            if (a as usize) < n {
                s.bought.clear(a);
            }
        }
        for r in &out {
            s.taken.clear(r.product);
        }
        out
    }

    fn head(&self, antecedent: u32, pos: usize, end: usize) -> Head {
        let e = self.entries[pos];
        Head {
            lift: e.lift,
            confidence: f64::from(e.count) / f64::from(self.product_count[antecedent as usize]),
            count: e.count,
            consequent: e.consequent,
            antecedent,
            pos,
            end,
        }
    }
}

/// The next rule of one antecedent's list in the recommendation merge.
#[derive(Debug, Clone, Copy)]
struct Head {
    lift: f64,
    confidence: f64,
    count: u32,
    consequent: u32,
    antecedent: u32,
    pos: usize,
    end: usize,
}

impl Ord for Head {
    /// Greater = better: higher lift, confidence, support; then smaller consequent, smaller
    /// antecedent.
    fn cmp(&self, other: &Self) -> Ordering {
        self.lift
            .total_cmp(&other.lift)
            .then_with(|| self.confidence.total_cmp(&other.confidence))
            .then_with(|| self.count.cmp(&other.count))
            .then_with(|| other.consequent.cmp(&self.consequent))
            .then_with(|| other.antecedent.cmp(&self.antecedent))
    }
}

impl PartialOrd for Head {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Head {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Head {}

/// A set of product ids as bits.
#[derive(Debug, Clone)]
struct BitSet(Vec<u64>);

impl BitSet {
    fn new(n: usize) -> Self {
        Self(vec![0; n.div_ceil(64)])
    }

    fn get(&self, i: u32) -> bool {
        self.0
            .get(i as usize / 64)
            .is_some_and(|w| w >> (i % 64) & 1 == 1)
    }

    fn set(&mut self, i: u32) {
        self.0[i as usize / 64] |= 1 << (i % 64);
    }

    fn clear(&mut self, i: u32) {
        self.0[i as usize / 64] &= !(1 << (i % 64));
    }
}

/// Per-thread buffers of the recommendation merge, cleared after each client.
#[derive(Debug, Clone)]
struct Scratch {
    bought: BitSet,
    taken: BitSet,
    heap: BinaryHeap<Head>,
}

impl Scratch {
    fn new(n_products: usize) -> Self {
        Self {
            bought: BitSet::new(n_products),
            taken: BitSet::new(n_products),
            heap: BinaryHeap::new(),
        }
    }
}
