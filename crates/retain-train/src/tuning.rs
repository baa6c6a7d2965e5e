//! Tuned candidates: the feature sets a model may read beyond the protocol's 29, the grid of
//! each model's strength, and the names that say both (`logistic_regression(C=0.003)+all`).
//!
//! **Feature sets.** A [`FeatureSet`] is the 29 protocol features plus any of the feature
//! families of `retain-features` ([`FeatureFamily`]: `windows`, `decayed`, `last_year`,
//! `gap_recency`) and the customer-base outputs (`customer_base`: BG/NBD P(no purchase in
//! `H_tr`), expected purchase days and BG/NBD + Gamma-Gamma CLV, and MBG/NBD P(no purchase)
//! and P(alive), fitted without labels on each window's own history up to its cutoff, as
//! `--hybrid` does; the MBG/NBD pair is left out of every window when it cannot be fitted in
//! one). A name ends with the
//! set's suffix: nothing for the 29 alone, `+all` for every family, else the short names of
//! its families (`+win+ly+cb`); `+cb` alone is the hybrid set.
//!
//! **Grid** ([`Grid`]). Logistic regression on signed-log, standardised features over a path
//! of `C` (fitted from the strongest penalty up, each fit starting from the previous
//! solution); gradient-boosted trees at learning rate 0.03 over leaves x least clients per
//! leaf x trees. The rank ensemble of a set is the mean normalised rank of a logistic
//! regression, a booster and BG/NBD P(no purchase), the pair of strengths chosen by the
//! ensemble's own validation score; the two-part value model
//! of a set pairs its booster's P(buy) with a spend regression of the same shape; the `log1p`
//! value regression fits every client's value on the log scale (0 for a client who did not
//! buy), which ranks buyers against non-buyers and spend in one model; the value rank
//! ensemble of a shape is the mean normalised rank of its two-part model, its `log1p`
//! regression and the customer-base CLV (amounts that find the big spenders, and a log-scale
//! model that orders everyone), its shape chosen by the ensemble's own validation score.
//!
//! **Least clients per leaf.** The booster's leaf limit is on the hessian, `p (1 - p)` per
//! client under log loss; near the churn rates of retail data (0.3 to 0.7) that is about 0.2
//! to 0.25, so `min_leaf = 50` clients is a hessian of 10 ([`HESSIAN_PER_CLIENT`]). The spend
//! regression's hessian is 1 per client, so there the limit is the count itself.

use std::fmt;
use std::str::FromStr;

use retain_core::kinds;
use retain_features::{FeatureFamilies, FeatureFamily, family_columns};
use retain_models::{
    GradientBoostingParams, GradientBoostingRegressorParams, LogisticParams, ValueTarget,
};
use serde::{Deserialize, Serialize};

/// The name of the customer-base family (fitted by this crate, not `retain-features`).
pub const CUSTOMER_BASE: &str = "customer_base";

/// Hessian of one client under log loss near the churn rates of retail data (module docs).
pub const HESSIAN_PER_CLIENT: f32 = 0.2;

/// Learning rate of the tuned boosters.
pub const TUNED_LEARNING_RATE: f32 = 0.03;

/// The feature families a model reads beyond the protocol's 29 (module docs). In
/// `retain.toml` a list of names; on the command line a comma-separated list, `all` or
/// `none`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FeatureSet {
    /// The families of `retain-features`.
    pub families: FeatureFamilies,
    /// The customer-base outputs (the hybrid columns).
    pub customer_base: bool,
}

impl Serialize for FeatureSet {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.names().serialize(s)
    }
}

impl<'de> Deserialize<'de> for FeatureSet {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let names = Vec::<String>::deserialize(d)?;
        names
            .iter()
            .map(|n| n.parse::<FeatureSet>())
            .try_fold(FeatureSet::none(), |acc, s| s.map(|s| acc.union(s)))
            .map_err(serde::de::Error::custom)
    }
}

/// A name that is no feature family.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown feature family `{0}`: expected windows, decayed, last_year, gap_recency or \
     customer_base (a comma-separated list, or all, or none)"
)]
pub struct UnknownFeatureFamily(pub String);

impl FeatureSet {
    /// The 29 alone.
    pub fn none() -> Self {
        Self::default()
    }

    /// Every family.
    pub fn all() -> Self {
        Self {
            families: FeatureFamilies::all(),
            customer_base: true,
        }
    }

    /// The customer-base outputs alone (the hybrid set).
    pub fn customer_base() -> Self {
        Self {
            families: FeatureFamilies::none(),
            customer_base: true,
        }
    }

    /// Whether it adds nothing to the 29.
    pub fn is_empty(&self) -> bool {
        self.families.is_empty() && !self.customer_base
    }

    /// Both sets' families.
    pub fn union(self, other: Self) -> Self {
        let mut families = self.families;
        for f in other.families.iter() {
            families.insert(f);
        }
        Self {
            families,
            customer_base: self.customer_base || other.customer_base,
        }
    }

    /// The family names, in column order (`customer_base` last).
    pub fn names(&self) -> Vec<String> {
        let mut out: Vec<String> = self.families.iter().map(|f| f.name().to_string()).collect();
        if self.customer_base {
            out.push(CUSTOMER_BASE.to_string());
        }
        out
    }

    /// The columns of the `retain-features` families (the customer-base columns are not in
    /// the feature frame: the models compute them).
    pub fn family_columns(&self) -> Vec<String> {
        family_columns(&self.families)
    }

    /// The suffix of a candidate's name (module docs).
    pub fn suffix(&self) -> String {
        if self.is_empty() {
            return String::new();
        }
        if *self == Self::all() {
            return "+all".into();
        }
        let mut s = String::new();
        for f in self.families.iter() {
            s.push('+');
            s.push_str(short(f));
        }
        if self.customer_base {
            s.push_str(kinds::HYBRID_SUFFIX);
        }
        s
    }

    /// The set of a suffix (`""`, `+all`, `+win+cb`, ...), `None` if it is not one.
    pub fn from_suffix(suffix: &str) -> Option<Self> {
        match suffix {
            "" => return Some(Self::none()),
            "+all" => return Some(Self::all()),
            _ => {}
        }
        let mut set = Self::none();
        for part in suffix.strip_prefix('+')?.split('+') {
            if part == "cb" {
                set.customer_base = true;
            } else {
                let f = FeatureFamily::ALL.into_iter().find(|f| short(*f) == part)?;
                set.families.insert(f);
            }
        }
        (set.suffix() == suffix).then_some(set)
    }
}

fn short(f: FeatureFamily) -> &'static str {
    match f {
        FeatureFamily::Windows => "win",
        FeatureFamily::Decayed => "dec",
        FeatureFamily::LastYear => "ly",
        FeatureFamily::GapRecency => "gap",
    }
}

impl fmt::Display for FeatureSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("none");
        }
        f.write_str(&self.names().join(","))
    }
}

impl FromStr for FeatureSet {
    type Err = UnknownFeatureFamily;
    /// `windows,customer_base`, `all`, `none` (or an empty string).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "" | "none" => Ok(Self::none()),
            "all" => Ok(Self::all()),
            list => {
                let mut set = Self::none();
                for name in list.split(',').map(str::trim) {
                    if name == CUSTOMER_BASE {
                        set.customer_base = true;
                    } else {
                        let f: FeatureFamily = name
                            .parse()
                            .map_err(|_| UnknownFeatureFamily(name.to_string()))?;
                        set.families.insert(f);
                    }
                }
                Ok(set)
            }
        }
    }
}

/// A booster's shape: leaves per tree, least clients per leaf, trees (module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Shape {
    /// Leaves per tree.
    pub leaves: usize,
    /// Least clients per leaf.
    pub min_leaf: u32,
    /// Boosting rounds.
    pub trees: usize,
}

impl Shape {
    /// The churn booster of this shape.
    pub fn classifier(&self, seed: u64) -> GradientBoostingParams {
        GradientBoostingParams::new()
            .n_trees(self.trees)
            .learning_rate(TUNED_LEARNING_RATE)
            .max_leaves(self.leaves)
            .min_leaf_weight(self.min_leaf as f32 * HESSIAN_PER_CLIENT)
            .seed(seed)
    }

    /// The spend regression of this shape (on `log1p` of the spend).
    pub fn spend(&self, seed: u64) -> GradientBoostingRegressorParams {
        GradientBoostingRegressorParams::new()
            .trees(
                GradientBoostingParams::new()
                    .n_trees(self.trees)
                    .learning_rate(TUNED_LEARNING_RATE)
                    .max_leaves(self.leaves)
                    .min_leaf_weight(self.min_leaf as f32)
                    .l2(0.0)
                    .seed(seed),
            )
            .target(ValueTarget::Log1p)
    }

    fn params(&self) -> String {
        format!(
            "leaves={},min_leaf={},trees={}",
            self.leaves, self.min_leaf, self.trees
        )
    }
}

/// What a tuned candidate is, with its strength.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Tuned {
    /// Logistic regression on signed-log, standardised features.
    Logistic {
        /// Inverse regularisation strength.
        c: f64,
    },
    /// Gradient-boosted trees.
    Boosting(Shape),
    /// The rank ensemble of the logistic regression, the booster and BG/NBD P(no purchase).
    Ensemble {
        /// The logistic regression's `C`.
        c: f64,
        /// The booster's shape.
        shape: Shape,
    },
    /// P(buy) of the booster x E[spend | buy] of a spend regression of the same shape.
    TwoPart(Shape),
    /// The rank ensemble of the two-part model, the `log1p` value regression (both of this
    /// shape) and the customer-base CLV.
    ValueEnsemble(Shape),
    /// A regression of `log1p` of every client's value (0 for no purchase, returns cut at
    /// 0), back on the value scale by Duan's smearing.
    LogValue(Shape),
}

/// A tuned candidate: a model with its strength, on a feature set.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spec {
    /// The model.
    pub model: Tuned,
    /// Its features beyond the 29.
    pub set: FeatureSet,
}

impl Spec {
    /// The candidate's name: `kind(params)suffix` (module docs).
    pub fn name(&self) -> String {
        let (kind, params) = match self.model {
            Tuned::Logistic { c } => (kinds::LOGISTIC, format!("C={c}")),
            Tuned::Boosting(s) => (kinds::GRADIENT_BOOSTING, s.params()),
            Tuned::Ensemble { c, shape } => {
                (kinds::RANK_ENSEMBLE, format!("C={c},{}", shape.params()))
            }
            Tuned::TwoPart(s) => (kinds::TWO_PART, s.params()),
            Tuned::ValueEnsemble(s) => (kinds::RANK_ENSEMBLE_VALUE, s.params()),
            Tuned::LogValue(s) => (kinds::GRADIENT_BOOSTING_REGRESSOR, s.params()),
        };
        format!("{kind}({params}){}", self.set.suffix())
    }

    /// The candidate a name gives, `None` if the name is not a tuned candidate's.
    pub fn parse(name: &str) -> Option<Self> {
        let (kind, rest) = name.split_once('(')?;
        let (params, suffix) = rest.split_once(')')?;
        let set = FeatureSet::from_suffix(suffix)?;
        let mut c = None;
        let (mut leaves, mut min_leaf, mut trees) = (None, None, None);
        for kv in params.split(',') {
            let (k, v) = kv.split_once('=')?;
            match k {
                "C" => {
                    c = Some(
                        v.parse::<f64>()
                            .ok()
                            .filter(|c| c.is_finite() && *c > 0.0)?,
                    )
                }
                "leaves" => leaves = Some(v.parse::<usize>().ok().filter(|&l| l >= 2)?),
                "min_leaf" => min_leaf = Some(v.parse::<u32>().ok()?),
                "trees" => trees = Some(v.parse::<usize>().ok().filter(|&t| t >= 1)?),
                _ => return None,
            }
        }
        let shape = match (leaves, min_leaf, trees) {
            (Some(leaves), Some(min_leaf), Some(trees)) => Some(Shape {
                leaves,
                min_leaf,
                trees,
            }),
            (None, None, None) => None,
            _ => return None,
        };
        let model = match (kind, c, shape) {
            (kinds::LOGISTIC, Some(c), None) => Tuned::Logistic { c },
            (kinds::GRADIENT_BOOSTING, None, Some(s)) => Tuned::Boosting(s),
            (kinds::RANK_ENSEMBLE, Some(c), Some(shape)) => Tuned::Ensemble { c, shape },
            (kinds::TWO_PART, None, Some(s)) => Tuned::TwoPart(s),
            (kinds::RANK_ENSEMBLE_VALUE, None, Some(s)) => Tuned::ValueEnsemble(s),
            (kinds::GRADIENT_BOOSTING_REGRESSOR, None, Some(s)) => Tuned::LogValue(s),
            _ => return None,
        };
        let spec = Spec { model, set };
        (spec.name() == name).then_some(spec)
    }

    /// Whether it is a value model.
    pub fn is_value(&self) -> bool {
        matches!(
            self.model,
            Tuned::TwoPart(_) | Tuned::ValueEnsemble(_) | Tuned::LogValue(_)
        )
    }

    /// The tuned candidates it is made of (itself for a single model).
    pub fn members(&self) -> Vec<Spec> {
        let set = self.set;
        match self.model {
            Tuned::Ensemble { c, shape } => vec![
                Spec {
                    model: Tuned::Logistic { c },
                    set,
                },
                Spec {
                    model: Tuned::Boosting(shape),
                    set,
                },
            ],
            Tuned::TwoPart(s) | Tuned::ValueEnsemble(s) => vec![Spec {
                model: Tuned::Boosting(s),
                set,
            }],
            Tuned::LogValue(_) => Vec::new(),
            _ => vec![*self],
        }
    }
}

/// The strengths tried on the validation targets (module docs).
///
/// | Name | Default |
/// |---|---|
/// | `cs` | 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1 |
/// | `leaves` | 4, 7 |
/// | `min_leaf` | 25, 50 clients |
/// | `trees` | 50, 100, 200 (at learning rate 0.03; one fit of 200 gives all three) |
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Grid {
    /// Logistic `C`s, strongest penalty first.
    pub cs: Vec<f64>,
    /// Leaves per tree.
    pub leaves: Vec<usize>,
    /// Least clients per leaf.
    pub min_leaf: Vec<u32>,
    /// Trees.
    pub trees: Vec<usize>,
}

impl Default for Grid {
    fn default() -> Self {
        Self {
            cs: vec![0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0],
            leaves: vec![4, 7],
            min_leaf: vec![25, 50],
            trees: vec![50, 100, 200],
        }
    }
}

impl Grid {
    /// Every booster shape of the grid.
    pub fn shapes(&self) -> Vec<Shape> {
        let mut out = Vec::new();
        for &leaves in &self.leaves {
            for &min_leaf in &self.min_leaf {
                for &trees in &self.trees {
                    out.push(Shape {
                        leaves,
                        min_leaf,
                        trees,
                    });
                }
            }
        }
        out
    }

    /// Every single-model candidate (logistic and booster) of the grid on `set`.
    pub fn singles(&self, set: FeatureSet) -> Vec<Spec> {
        let logistic = self.cs.iter().map(|&c| Spec {
            model: Tuned::Logistic { c },
            set,
        });
        let boosting = self.shapes().into_iter().map(|s| Spec {
            model: Tuned::Boosting(s),
            set,
        });
        logistic.chain(boosting).collect()
    }

    /// Every value candidate of the grid on `set`: two-part models and `log1p` regressions.
    pub fn values(&self, set: FeatureSet) -> Vec<Spec> {
        let shapes = self.shapes();
        let two = shapes.iter().map(|&s| Spec {
            model: Tuned::TwoPart(s),
            set,
        });
        let log = shapes.iter().map(|&s| Spec {
            model: Tuned::LogValue(s),
            set,
        });
        two.chain(log).collect()
    }
}

/// The logistic regression of the tuned candidates (signed-log features).
pub fn tuned_logistic() -> LogisticParams {
    LogisticParams::new().signed_log(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_others_are_refused() {
        let shape = Shape {
            leaves: 4,
            min_leaf: 50,
            trees: 300,
        };
        let sets = [
            FeatureSet::none(),
            FeatureSet::all(),
            FeatureSet::customer_base(),
            "windows,last_year".parse().unwrap(),
        ];
        for set in sets {
            for model in [
                Tuned::Logistic { c: 0.003 },
                Tuned::Boosting(shape),
                Tuned::Ensemble { c: 0.03, shape },
                Tuned::TwoPart(shape),
                Tuned::ValueEnsemble(shape),
                Tuned::LogValue(shape),
            ] {
                let spec = Spec { model, set };
                assert_eq!(Spec::parse(&spec.name()), Some(spec), "{}", spec.name());
            }
        }
        assert_eq!(
            Spec {
                model: Tuned::Logistic { c: 0.003 },
                set: FeatureSet::all()
            }
            .name(),
            "logistic_regression(C=0.003)+all"
        );
        assert_eq!(
            Spec {
                model: Tuned::Boosting(shape),
                set: "windows,customer_base".parse().unwrap()
            }
            .name(),
            "gradient_boosting(leaves=4,min_leaf=50,trees=300)+win+cb"
        );
        for bad in [
            "logistic_regression",
            "logistic_regression(C=0)+all",
            "logistic_regression(C=0.1)+bogus",
            "logistic_regression(C=0.1,leaves=4)",
            "gradient_boosting(leaves=4,min_leaf=50)",
            "random_forest(C=1)",
            "logistic_regression(C=0.10)",
            "logistic_regression(C=0.1)+cb+win",
        ] {
            assert_eq!(Spec::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn feature_sets_parse_from_the_command_line_and_toml() {
        let s: FeatureSet = "windows, customer_base".parse().unwrap();
        assert!(s.customer_base && s.families.contains(FeatureFamily::Windows));
        assert_eq!(s.to_string(), "windows,customer_base");
        assert_eq!("all".parse::<FeatureSet>().unwrap(), FeatureSet::all());
        assert_eq!("none".parse::<FeatureSet>().unwrap(), FeatureSet::none());
        let e = "windows,weather".parse::<FeatureSet>().unwrap_err();
        assert!(e.to_string().contains("`weather`"), "{e}");
        #[derive(Deserialize)]
        struct T {
            families: FeatureSet,
        }
        let t: T = toml::from_str(r#"families = ["last_year", "customer_base"]"#).unwrap();
        assert_eq!(t.families, "last_year,customer_base".parse().unwrap());
        assert!(toml::from_str::<T>(r#"families = ["nope"]"#).is_err());
        assert_eq!(FeatureSet::all().suffix(), "+all");
        assert_eq!(FeatureSet::customer_base().suffix(), "+cb");
    }
}
