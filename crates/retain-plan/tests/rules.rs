//! Pairwise rules on a hand-counted basket set, recommendations and their tie-breaks, bad
//! inputs, and a brute-force check of the mining and the recommendations on random baskets.

use std::cmp::Ordering;

use proptest::prelude::*;
use retain_plan::rules::{
    AssociationRules, Baskets, MAX_PRODUCT_ID, Recommendation, Rule, RulesError, RulesParams,
};

/// Ten baskets over products 0..=4. Counts: n0 = 6, n1 = 6, n2 = 5, n3 = 3, n4 = 3; pairs
/// n01 = 5, n02 = 3, n03 = 2, n12 = 3, n13 = 2, n23 = 1, n24 = 1, n34 = 1, n04 = n14 = 0.
/// Lifts n_AB N / (n_A n_B): 01 50/36, 02 30/30 = 1 (not kept: not above 1), 03 20/18,
/// 12 30/30 = 1, 13 20/18, 23 10/15, 24 10/15, 34 10/9.
fn hand_baskets() -> Baskets {
    let baskets: [&[u32]; 10] = [
        &[0, 1, 2],
        &[1, 0],
        &[0, 1, 3],
        &[2, 0],
        &[1, 2],
        &[3, 2, 1, 0],
        &[3, 4],
        &[4],
        &[0, 1, 1],
        &[2, 4],
    ];
    Baskets::from_baskets(&baskets).unwrap()
}

fn assert_rule(rule: Rule, a: u32, b: u32, count: u32, support: f64, confidence: f64, lift: f64) {
    assert_eq!(
        (rule.antecedent, rule.consequent, rule.count),
        (a, b, count),
        "{rule:?}"
    );
    assert!((rule.support - support).abs() < 1e-12, "{rule:?}");
    assert!((rule.confidence - confidence).abs() < 1e-12, "{rule:?}");
    assert!((rule.lift - lift).abs() < 1e-12, "{rule:?}");
}

#[test]
fn hand_counts_support_confidence_lift() {
    let baskets = hand_baskets();
    assert_eq!(baskets.len(), 10);
    assert_eq!(baskets.n_products(), 5);
    assert_eq!(baskets.basket(8), Some(&[0, 1][..]));
    let rules =
        AssociationRules::mine(&baskets, &RulesParams::default().min_support_count(2)).unwrap();
    assert_eq!(rules.n_baskets(), 10);
    assert_eq!(rules.baskets_skipped(), 0);
    let counts: Vec<u32> = (0..5).map(|p| rules.support_count(p)).collect();
    assert_eq!(counts, [6, 6, 5, 3, 3]);
    let all: Vec<Rule> = rules.iter().collect();
    assert_eq!(all.len(), 6, "{all:?}");
    // Antecedents in increasing id, each one's rules best first.
    assert_rule(all[0], 0, 1, 5, 0.5, 5.0 / 6.0, 50.0 / 36.0);
    assert_rule(all[1], 0, 3, 2, 0.2, 2.0 / 6.0, 20.0 / 18.0);
    assert_rule(all[2], 1, 0, 5, 0.5, 5.0 / 6.0, 50.0 / 36.0);
    assert_rule(all[3], 1, 3, 2, 0.2, 2.0 / 6.0, 20.0 / 18.0);
    // 3 -> 0 and 3 -> 1 tie on every measure: the smaller consequent first.
    assert_rule(all[4], 3, 0, 2, 0.2, 2.0 / 3.0, 20.0 / 18.0);
    assert_rule(all[5], 3, 1, 2, 0.2, 2.0 / 3.0, 20.0 / 18.0);
    // Lift exactly 1 (0 -> 2, 1 -> 2) is not kept, nor lift below 1, nor count below 2.
    assert!(rules.rule(0, 2).is_none() && rules.rule(2, 1).is_none());
    assert!(rules.rule(2, 3).is_none() && rules.rule(3, 4).is_none());
    assert_eq!(rules.rule(3, 1), Some(all[5]));
    assert_eq!(rules.rules_from(2).count(), 0);
    assert_eq!(rules.rules_from(99).count(), 0);

    // With a minimum count of 1, 3 <-> 4 (lift 10/9, count 1) comes in, after 3 -> 0 and
    // 3 -> 1 by confidence (1/3 against 2/3) at the same lift.
    let rules =
        AssociationRules::mine(&baskets, &RulesParams::default().min_support_count(1)).unwrap();
    assert_eq!(rules.len(), 8);
    let from3: Vec<u32> = rules.rules_from(3).map(|r| r.consequent).collect();
    assert_eq!(from3, [0, 1, 4]);
    assert_rule(
        rules.rule(4, 3).unwrap(),
        4,
        3,
        1,
        0.1,
        1.0 / 3.0,
        10.0 / 9.0,
    );
    // A minimum confidence of 0.5 keeps 0 <-> 1, 3 -> 0 and 3 -> 1.
    let rules = AssociationRules::mine(
        &baskets,
        &RulesParams::default()
            .min_support_count(1)
            .min_confidence(0.5),
    )
    .unwrap();
    let kept: Vec<(u32, u32)> = rules.iter().map(|r| (r.antecedent, r.consequent)).collect();
    assert_eq!(kept, [(0, 1), (1, 0), (3, 0), (3, 1)]);
}

fn products(recs: &[Recommendation]) -> Vec<(u32, u32)> {
    recs.iter().map(|r| (r.product, r.because)).collect()
}

#[test]
fn recommendations_and_their_ties() {
    let rules = AssociationRules::mine(
        &hand_baskets(),
        &RulesParams::default().min_support_count(1),
    )
    .unwrap();
    // From 0: 1 (lift 50/36), then 3 (20/18).
    let recs = rules.recommend(&[0], 5);
    assert_eq!(products(&recs), [(1, 0), (3, 0)]);
    assert!((recs[0].lift - 50.0 / 36.0).abs() < 1e-12);
    assert!((recs[0].confidence - 5.0 / 6.0).abs() < 1e-12);
    assert!((recs[0].support - 0.5).abs() < 1e-12);
    // From 3: 0 and 1 tie on lift, confidence and support: the smaller product first; 4 has
    // the same lift but a lower confidence.
    assert_eq!(
        products(&rules.recommend(&[3], 5)),
        [(0, 3), (1, 3), (4, 3)]
    );
    assert_eq!(products(&rules.recommend(&[3], 2)), [(0, 3), (1, 3)]);
    // 3 is suggested by 0 -> 3 (count 2) and by 4 -> 3 (count 1) at the same lift and
    // confidence: the higher support (and the smaller id) wins, so "because 0"; the support
    // tie-break alone is checked by the brute force below.
    assert_eq!(products(&rules.recommend(&[4, 0], 5)), [(1, 0), (3, 0)]);
    // 3 from 0 or from 1, all measures equal: because the smaller antecedent.
    assert_eq!(products(&rules.recommend(&[1, 0], 5)), [(3, 0)]);
    // 1 from 0 (lift 50/36) beats 1 from 3 (20/18).
    assert_eq!(products(&rules.recommend(&[3, 0], 5)), [(1, 0), (4, 3)]);
    // Nothing left to suggest, unknown products, duplicates, k = 0, no purchase.
    assert!(rules.recommend(&[0, 1, 3, 4], 5).is_empty());
    assert_eq!(
        products(&rules.recommend(&[0, 0, 77, 0], 5)),
        [(1, 0), (3, 0)]
    );
    assert!(rules.recommend(&[0], 0).is_empty());
    assert!(rules.recommend(&[], 3).is_empty());
    assert!(rules.recommend(&[2], 3).is_empty());
    // Many clients at once, in order, the same as one by one.
    let clients: Vec<Vec<u32>> = vec![vec![0], vec![3], vec![], vec![4, 0]];
    let all = rules.recommend_all(&clients, 5);
    let one: Vec<Vec<Recommendation>> = clients.iter().map(|c| rules.recommend(c, 5)).collect();
    assert_eq!(all, one);
}

#[test]
fn lines_in_any_order_with_repeats() {
    // Invoice ids 900, 12, 40 (not dense), lines shuffled, a product twice on one invoice.
    let basket_of_line = [40, 900, 12, 40, 900, 12, 900];
    let product_of_line = [3, 1, 2, 0, 0, 2, 1];
    let baskets = Baskets::from_lines(&basket_of_line, &product_of_line).unwrap();
    let got: Vec<&[u32]> = baskets.iter().collect();
    assert_eq!(got, [&[2][..], &[0, 3][..], &[0, 1][..]]);
    let sorted =
        Baskets::from_lines(&[12, 12, 40, 40, 900, 900, 900], &[2, 2, 0, 3, 0, 1, 1]).unwrap();
    assert_eq!(sorted, baskets);
    assert_eq!(
        sorted,
        Baskets::from_baskets(&[vec![2], vec![3, 0], vec![1, 0, 1]]).unwrap()
    );
}

#[test]
fn large_baskets_are_left_out() {
    let baskets =
        Baskets::from_baskets(&[vec![0, 1], vec![0, 1], vec![0, 1, 2], vec![2, 3]]).unwrap();
    let params = RulesParams::default()
        .min_support_count(1)
        .max_basket_size(2);
    let rules = AssociationRules::mine(&baskets, &params).unwrap();
    assert_eq!((rules.n_baskets(), rules.baskets_skipped()), (3, 1));
    // Over the three baskets kept: n0 = n1 = 2, n01 = 2, lift 2 x 3 / 4 = 1.5.
    assert_rule(rules.rule(0, 1).unwrap(), 0, 1, 2, 2.0 / 3.0, 1.0, 1.5);
    assert!(rules.rule(0, 2).is_none());
}

#[test]
fn empty_input() {
    let baskets = Baskets::from_lines(&[], &[]).unwrap();
    assert!(baskets.is_empty());
    assert_eq!(baskets.n_products(), 0);
    assert_eq!(baskets.basket(0), None);
    let rules = AssociationRules::mine(&baskets, &RulesParams::default()).unwrap();
    assert!(rules.is_empty());
    assert_eq!(rules.n_baskets(), 0);
    assert!(rules.recommend(&[1, 2, 3], 5).is_empty());
    assert!(rules.recommend_all::<Vec<u32>>(&[], 5).is_empty());
    let empty: [&[u32]; 2] = [&[], &[]];
    assert!(Baskets::from_baskets(&empty).unwrap().is_empty());
}

#[test]
fn bad_inputs_are_named() {
    assert_eq!(
        Baskets::from_lines(&[1, 2], &[1]).unwrap_err(),
        RulesError::LengthMismatch {
            expected: 2,
            got: 1
        }
    );
    assert_eq!(
        Baskets::from_lines(&[1, 2, 3], &[1, MAX_PRODUCT_ID, 2]).unwrap_err(),
        RulesError::ProductOutOfRange {
            what: "line",
            index: 1,
            product: MAX_PRODUCT_ID
        }
    );
    assert_eq!(
        Baskets::from_baskets(&[vec![1], vec![2, u32::MAX]]).unwrap_err(),
        RulesError::ProductOutOfRange {
            what: "basket",
            index: 1,
            product: u32::MAX
        }
    );
    let b = hand_baskets();
    let cases = [
        (
            RulesParams::default().min_support_count(0),
            "min_support_count",
        ),
        (RulesParams::default().min_confidence(1.5), "min_confidence"),
        (
            RulesParams::default().min_confidence(f64::NAN),
            "min_confidence",
        ),
        (RulesParams::default().max_basket_size(1), "max_basket_size"),
        (
            RulesParams::default().max_rules_per_product(0),
            "max_rules_per_product",
        ),
        (RulesParams::default().max_scan(0), "max_scan"),
    ];
    for (params, name) in cases {
        match AssociationRules::mine(&b, &params) {
            Err(RulesError::InvalidParameter { name: got, .. }) => assert_eq!(got, name),
            other => panic!("{name}: {other:?}"),
        }
    }
}

#[test]
fn same_rules_with_one_thread_or_many() {
    let baskets: Vec<Vec<u32>> = (0..400u32)
        .map(|i| (0..(i % 13)).map(|j| (i * 7 + j * j * 3) % 40).collect())
        .collect();
    let baskets = Baskets::from_baskets(&baskets).unwrap();
    let params = RulesParams::default().min_support_count(2);
    let many = AssociationRules::mine(&baskets, &params).unwrap();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let one = pool.install(|| AssociationRules::mine(&baskets, &params).unwrap());
    assert_eq!(many, one);
    assert!(!many.is_empty());
}

// ---------------------------------------------------------------------------------------------
// Brute force
// ---------------------------------------------------------------------------------------------

/// Every kept rule by direct counting, in the documented order (antecedent, then best first).
fn brute_rules(baskets: &[Vec<u32>], min_count: u32, n_products: u32) -> Vec<Rule> {
    let sets: Vec<Vec<u32>> = baskets
        .iter()
        .map(|b| {
            let mut b = b.clone();
            b.sort_unstable();
            b.dedup();
            b
        })
        .filter(|b| !b.is_empty())
        .collect();
    let n = sets.len() as u64;
    let has = |b: &Vec<u32>, p: u32| b.binary_search(&p).is_ok();
    let count = |p: u32| sets.iter().filter(|b| has(b, p)).count() as u64;
    let mut out = Vec::new();
    for a in 0..n_products {
        let mut list = Vec::new();
        for b in 0..n_products {
            if a == b {
                continue;
            }
            let nab = sets.iter().filter(|s| has(s, a) && has(s, b)).count() as u64;
            let (na, nb) = (count(a), count(b));
            if nab >= u64::from(min_count) && nab * n > na * nb {
                list.push(Rule {
                    antecedent: a,
                    consequent: b,
                    count: nab as u32,
                    support: nab as f64 / n as f64,
                    confidence: nab as f64 / na as f64,
                    lift: (nab * n) as f64 / (na * nb) as f64,
                });
            }
        }
        list.sort_by(better);
        out.extend(list);
    }
    out
}

/// The documented rule order, best first: lift, confidence, support desc; consequent, then
/// antecedent asc.
fn better(x: &Rule, y: &Rule) -> Ordering {
    y.lift
        .total_cmp(&x.lift)
        .then(y.confidence.total_cmp(&x.confidence))
        .then(y.support.total_cmp(&x.support))
        .then(x.consequent.cmp(&y.consequent))
        .then(x.antecedent.cmp(&y.antecedent))
}

/// Every candidate scored by its best rule from a bought product, sorted, the first k.
fn brute_recommend(rules: &[Rule], bought: &[u32], k: usize) -> Vec<(u32, u32)> {
    let mut best: Vec<Rule> = Vec::new();
    for r in rules
        .iter()
        .filter(|r| bought.contains(&r.antecedent) && !bought.contains(&r.consequent))
    {
        match best.iter_mut().find(|b| b.consequent == r.consequent) {
            Some(b) => {
                if better(r, b) == Ordering::Less {
                    *b = *r;
                }
            }
            None => best.push(*r),
        }
    }
    best.sort_by(better);
    best.iter()
        .take(k)
        .map(|r| (r.consequent, r.antecedent))
        .collect()
}

fn basket_sets() -> impl Strategy<Value = Vec<Vec<u32>>> {
    // Few products so that counts, lifts and confidences tie often.
    prop::collection::vec(prop::collection::vec(0u32..8, 0..6), 0..40)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn mining_and_recommending_match_brute_force(
        sets in basket_sets(),
        min_count in 1u32..4,
        clients in prop::collection::vec(prop::collection::vec(0u32..9, 0..5), 1..8),
        k in 0usize..6,
    ) {
        let baskets = Baskets::from_baskets(&sets).unwrap();
        let params = RulesParams::default().min_support_count(min_count);
        let rules = AssociationRules::mine(&baskets, &params).unwrap();
        let n_products = baskets.n_products() as u32;
        let want = brute_rules(&sets, min_count, n_products);
        let got: Vec<Rule> = rules.iter().collect();
        prop_assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(&want) {
            prop_assert_eq!(
                (g.antecedent, g.consequent, g.count),
                (w.antecedent, w.consequent, w.count)
            );
            prop_assert!((g.support - w.support).abs() < 1e-12);
            prop_assert!((g.confidence - w.confidence).abs() < 1e-12);
            prop_assert!((g.lift - w.lift).abs() < 1e-12);
            prop_assert!(g.lift > 1.0);
        }
        let all = rules.recommend_all(&clients, k);
        for (bought, recs) in clients.iter().zip(&all) {
            prop_assert_eq!(products(recs), brute_recommend(&want, bought, k));
            for r in recs {
                prop_assert!(!bought.contains(&r.product), "bought {} recommended", r.product);
                prop_assert!(bought.contains(&r.because));
            }
        }
    }

    /// Bounding the work (rules kept per product, heap steps per client) only shortens the
    /// lists: what is returned is a prefix of the answer over the rules kept.
    #[test]
    fn bounds_only_shorten_the_lists(
        sets in basket_sets(),
        clients in prop::collection::vec(prop::collection::vec(0u32..8, 0..5), 1..8),
        max_rules in 1usize..4,
        max_scan in 1usize..6,
    ) {
        let baskets = Baskets::from_baskets(&sets).unwrap();
        let all_rules = RulesParams::default().min_support_count(1);
        let full = AssociationRules::mine(&baskets, &all_rules).unwrap();
        let capped = AssociationRules::mine(
            &baskets,
            &all_rules.max_rules_per_product(max_rules),
        ).unwrap();
        for a in 0..baskets.n_products() as u32 {
            let f: Vec<Rule> = full.rules_from(a).take(max_rules).collect();
            let c: Vec<Rule> = capped.rules_from(a).collect();
            prop_assert_eq!(f, c);
        }
        let scanned = AssociationRules::mine(
            &baskets,
            &all_rules.max_scan(max_scan),
        ).unwrap();
        for bought in &clients {
            let exact = full.recommend(bought, 4);
            let short = scanned.recommend(bought, 4);
            prop_assert!(short.len() <= exact.len().min(max_scan));
            prop_assert_eq!(&exact[..short.len()], &short[..]);
        }
    }
}
