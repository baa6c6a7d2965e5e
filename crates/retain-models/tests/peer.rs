//! Parity with the Python reference (BENCHMARK.md sections 5, 6 and 10) on the peer's own
//! feature files, and artifact round trips of every kind.

mod common;

use common::{read_peer, roc_auc, select, used_columns};
use retain_models::{ChurnClassifier, LogisticParams, Solver};

// Reference values, produced once with scikit-learn 1.9.1 by:
//
// ```python
// import pandas as pd
// from sklearn.pipeline import make_pipeline
// from sklearn.preprocessing import StandardScaler
// from sklearn.linear_model import LogisticRegression
// from sklearn.metrics import roc_auc_score
// tr = pd.read_csv(base + "_train.csv.gz"); ev = pd.read_csv(base + "_eval.csv.gz")
// feats = [c for c in tr.columns[1:30] if tr[c].nunique() > 1]
// for tol in (1e-4, 1e-10):
//     m = make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000, C=1.0, tol=tol))
//     m.fit(tr[feats].values, tr["churned"].values)
//     auc = roc_auc_score(ev["churned"], m.predict_proba(ev[feats].values)[:, 1])
//     print(m[-1].intercept_[0], list(m[-1].coef_[0]), auc)
// ```
//
// `tol=1e-4` is scikit-learn's default (what the peer ran); it stops well before the optimum
// along the nearly collinear revenue columns (coefficients move by up to 0.05 between the two
// tolerances). `tol=1e-10` is the converged optimum, which retain must match closely.

struct Reference {
    intercept: f64,
    coef: &'static [f64],
    auc: f64,
}

const ORII_SKLEARN_DEFAULT: Reference = Reference {
    intercept: 0.9143743097314163,
    coef: &[
        0.49111388169517856,
        -0.2970383662623059,
        -0.6084036709654109,
        0.09860406392255167,
        -0.024714882646146377,
        0.8971142511122312,
        -0.8701923274766984,
        0.2668863834251595,
        -0.1652862430196872,
        -0.011911872461451112,
        0.050865769470318234,
        -0.08528256055781419,
        0.2891564061374328,
        0.3479777563654088,
        0.061706716027927835,
        0.35284491010045654,
        0.06852013724262092,
        -0.04041360504316795,
        -0.06376799191409815,
        0.14425558597428345,
        -0.7067600525742351,
        -0.03808705368460705,
        0.09574304070290465,
        -0.012972938072770172,
        -0.003924943944504197,
        -0.06435137876949905,
        -0.06295739346372321,
        0.03635280130908236,
        0.015269400411371436,
    ],
    auc: 0.7979766707129166,
};

const ORII_SKLEARN_CONVERGED: Reference = Reference {
    intercept: 0.9124303145219422,
    coef: &[
        0.4912307624762021,
        -0.29687603715419114,
        -0.6068614050882626,
        0.09890712586504333,
        -0.023116605132235474,
        0.8880335002055074,
        -0.8576175343483123,
        0.26083666278180256,
        -0.16471979356190034,
        -0.009993597378689614,
        0.0485767050981478,
        -0.0843422912276233,
        0.23306898886674635,
        0.34726511411234773,
        0.06139232580389811,
        0.35335932119970004,
        0.0722429931157905,
        -0.048889684730298685,
        -0.06393409205468491,
        0.14403671784699368,
        -0.7035011541494154,
        -0.03847668538342863,
        0.09750967415966436,
        -0.014958678600092902,
        -0.0013496385756367267,
        -0.06427659304061213,
        -0.0628955331828752,
        0.03632955422110567,
        0.015328650899954447,
    ],
    auc: 0.7979477689281876,
};

const CDNOW_SKLEARN_DEFAULT: Reference = Reference {
    intercept: 1.8041232046533753,
    coef: &[
        0.36672634728259346,
        -0.368348105282907,
        -0.3718359441486628,
        0.04418387007164653,
        -0.10825890225213128,
        -0.04276492371814766,
        -0.04276492371814766,
        0.1493757410262899,
        0.1455017623656482,
        0.1959070257702261,
        -0.1977005144450314,
        0.09315323954455187,
        0.37436017290826984,
        0.09391002226573955,
        0.3288309297839002,
        -0.02508217764183446,
        0.10554270956090167,
        0.03470855903995744,
        0.03529237589830446,
        -0.1690805989404366,
        -0.07243836798145836,
    ],
    auc: 0.785155444399003,
};

const CDNOW_SKLEARN_CONVERGED: Reference = Reference {
    intercept: 1.8037713209589894,
    coef: &[
        0.36633928243153246,
        -0.36773081145184006,
        -0.3667921509742766,
        0.044576896680242735,
        -0.10882784965594103,
        -0.08238557155350167,
        -0.08238557155350167,
        0.14763917189012152,
        0.13118949173961672,
        0.1924917711742647,
        -0.19327197000450946,
        0.08961869730528926,
        0.37306486032675673,
        0.09339450196065986,
        0.3293968097096639,
        -0.025057845868516105,
        0.1312282299869583,
        0.11917887458050568,
        0.03852180676783926,
        -0.17422982082175392,
        -0.07243755069079488,
    ],
    auc: 0.7848758052732948,
};

fn max_abs_diff(m: &retain_models::LogisticModel, r: &Reference) -> f64 {
    assert_eq!(m.coefficients().len(), r.coef.len());
    m.coefficients()
        .iter()
        .zip(r.coef)
        .map(|(a, b)| (a - b).abs())
        .fold((m.intercept() - r.intercept).abs(), f64::max)
}

fn logistic_parity(stem: &str, n_used: usize, converged: &Reference, default: &Reference) {
    let train = read_peer(&format!("{stem}_train.csv.gz"));
    let eval = read_peer(&format!("{stem}_eval.csv.gz"));
    let cols = used_columns(&train);
    assert_eq!(cols.len(), n_used);
    let (xt, xe) = (select(&train.x, &cols), select(&eval.x, &cols));
    let m = LogisticParams::new()
        .fit(xt.view(), &train.churned, None)
        .unwrap();
    let p = m.predict_proba(xe.view()).unwrap();
    let auc = roc_auc(p.as_slice().unwrap(), &eval.churned);
    let d_conv = max_abs_diff(&m, converged);
    let d_default = max_abs_diff(&m, default);
    eprintln!(
        "{stem}: AUC {auc:.6} (sklearn converged {:.6}, default {:.6}); max |coef diff| vs \
         converged {d_conv:.2e}, vs default {d_default:.2e}",
        converged.auc, default.auc
    );
    assert!(auc >= 0.793 || stem.contains("cdnow"), "AUC {auc}");
    assert!((auc - converged.auc).abs() < 1e-4, "AUC {auc}");
    assert!(
        d_conv < 5e-5,
        "max |coef diff| vs converged sklearn {d_conv}"
    );
    assert!(
        d_default < 0.1,
        "max |coef diff| vs default sklearn {d_default}"
    );
}

#[test]
fn logistic_matches_sklearn_on_online_retail() {
    logistic_parity(
        "online_retail_ii/peer_features/orii_2011-09-09_h91",
        29,
        &ORII_SKLEARN_CONVERGED,
        &ORII_SKLEARN_DEFAULT,
    );
}

#[test]
fn logistic_matches_sklearn_on_cdnow() {
    logistic_parity(
        "cdnow_sample/peer_features/cdnow_1997-09-30_h273",
        21,
        &CDNOW_SKLEARN_CONVERGED,
        &CDNOW_SKLEARN_DEFAULT,
    );
}

/// Fits the same data with [`Solver::Lbfgs`] (linfa-logistic) and [`Solver::Newton`]: the
/// same optimum (coefficients and intercept to 1e-4, eval AUC to 1e-4), and sample weights
/// refused by L-BFGS.
fn lbfgs_matches_newton(stem: &str, converged: &Reference) {
    let train = read_peer(&format!("{stem}_train.csv.gz"));
    let eval = read_peer(&format!("{stem}_eval.csv.gz"));
    let cols = used_columns(&train);
    let (xt, xe) = (select(&train.x, &cols), select(&eval.x, &cols));
    let y = &train.churned;
    let newton = LogisticParams::new().fit(xt.view(), y, None).unwrap();
    let lbfgs = LogisticParams::new().solver(Solver::Lbfgs);
    let t = std::time::Instant::now();
    let m = lbfgs.fit(xt.view(), y, None).unwrap();
    let fit_s = t.elapsed().as_secs_f64();
    let auc = |m: &retain_models::LogisticModel| {
        let p = m.predict_proba(xe.view()).unwrap();
        roc_auc(p.as_slice().unwrap(), &eval.churned)
    };
    let (auc_l, auc_n) = (auc(&m), auc(&newton));
    let d = m
        .coefficients()
        .iter()
        .zip(newton.coefficients())
        .map(|(a, b)| (a - b).abs())
        .fold((m.intercept() - newton.intercept()).abs(), f64::max);
    let d_conv = max_abs_diff(&m, converged);
    eprintln!(
        "{stem}: L-BFGS AUC {auc_l:.6} (Newton {auc_n:.6}); max |coef diff| vs Newton {d:.2e}, \
         vs converged sklearn {d_conv:.2e} (L-BFGS fit {fit_s:.2} s)"
    );
    assert!(d < 1e-4, "max |coef diff| L-BFGS vs Newton {d}");
    assert!(
        (auc_l - auc_n).abs() < 1e-4,
        "AUC L-BFGS {auc_l} vs Newton {auc_n}"
    );
    let w = vec![1.0; y.len()];
    assert!(matches!(
        lbfgs.fit(xt.view(), y, Some(&w)),
        Err(retain_models::ModelError::WeightsUnsupported { .. })
    ));
}

#[test]
fn lbfgs_logistic_matches_newton_on_online_retail() {
    lbfgs_matches_newton(
        "online_retail_ii/peer_features/orii_2011-09-09_h91",
        &ORII_SKLEARN_CONVERGED,
    );
}

#[test]
fn lbfgs_logistic_matches_newton_on_cdnow() {
    lbfgs_matches_newton(
        "cdnow_sample/peer_features/cdnow_1997-09-30_h273",
        &CDNOW_SKLEARN_CONVERGED,
    );
}

#[test]
fn online_retail_logistic_artifact_round_trips_bit_for_bit() {
    use retain_core::{ARTIFACT_FORMAT, Artifact, DataSource, FeatureSchema, ModelCard};
    use retain_models::{AnyClassifier, load_checked, save_checked};

    let train = read_peer("online_retail_ii/peer_features/orii_2011-09-09_h91_train.csv.gz");
    let schema = FeatureSchema::new(train.names.iter().cloned());
    let params = LogisticParams::new().check().unwrap();
    let model: AnyClassifier = params
        .fit(train.x.view(), &train.churned, None)
        .unwrap()
        .into();
    let card = ModelCard::new(
        model.kind(),
        chrono::NaiveDate::from_ymd_opt(2011, 6, 10).unwrap(),
        91,
        None,
        schema.clone(),
        DataSource::default(),
        params.to_record(),
    );
    assert_eq!(card.format, ARTIFACT_FORMAT);
    let dir = tempfile::tempdir().unwrap();
    let a = Artifact { card, model };
    save_checked(dir.path(), &a).unwrap();
    let b: Artifact<AnyClassifier> = load_checked(dir.path(), &schema).unwrap();
    assert_eq!(a.card, b.card);
    let (pa, pb) = (
        a.model.predict_proba(train.x.view()).unwrap(),
        b.model.predict_proba(train.x.view()).unwrap(),
    );
    assert!(pa.iter().zip(&pb).all(|(u, v)| u.to_bits() == v.to_bits()));
}

/// Fits a tree kind on the ORII peer training set and returns its eval ROC AUC.
fn orii_auc(
    fit: impl Fn(ndarray::ArrayView2<f64>, &[bool]) -> retain_models::AnyClassifier,
) -> f64 {
    let stem = "online_retail_ii/peer_features/orii_2011-09-09_h91";
    let train = read_peer(&format!("{stem}_train.csv.gz"));
    let eval = read_peer(&format!("{stem}_eval.csv.gz"));
    let cols = used_columns(&train);
    let (xt, xe) = (select(&train.x, &cols), select(&eval.x, &cols));
    let t = std::time::Instant::now();
    let m = fit(xt.view(), &train.churned);
    let fit_s = t.elapsed().as_secs_f64();
    let p = m.predict_proba(xe.view()).unwrap();
    let auc = roc_auc(p.as_slice().unwrap(), &eval.churned);
    let json_kb = serde_json::to_string(&m).unwrap().len() / 1024;
    eprintln!(
        "ORII {}: AUC {auc:.4} (fit {fit_s:.2} s, model.json {json_kb} KiB)",
        m.kind()
    );
    auc
}

/// Small versions of the tree models, fast enough for debug builds.
#[test]
fn tree_models_on_online_retail() {
    use retain_models::{DecisionTreeParams, GradientBoostingParams, RandomForestParams};
    let dt = orii_auc(|x, y| DecisionTreeParams::new().fit(x, y, None).unwrap().into());
    let rf = orii_auc(|x, y| {
        let p = RandomForestParams::new().n_trees(15);
        p.fit(x, y, None).unwrap().into()
    });
    let gb = orii_auc(|x, y| {
        let p = GradientBoostingParams::new().n_trees(60).learning_rate(0.1);
        p.fit(x, y, None).unwrap().into()
    });
    assert!(dt > 0.76, "decision tree {dt}");
    assert!(rf > 0.75, "random forest (15 trees) {rf}");
    assert!(gb > 0.78, "gradient boosting (60 trees) {gb}");
}

/// The full-size models of issue 5 (300 trees each):
/// `cargo test --release -p retain-models --test peer -- --ignored --nocapture`.
/// Measured (release, 2 shared cores): decision tree 0.7748, random forest 0.7840
/// (retain's histogram forest; smartcore's gave 0.7854 in 194 s debug / 24.7 s release),
/// gradient boosting 0.7900 (retain's booster; forust-ml gave 0.7881).
/// Peer (BENCHMARK.md section 10): RF 0.783, LightGBM 0.786.
#[test]
#[ignore = "full-size ensembles: run in release"]
fn full_size_tree_models_on_online_retail() {
    use retain_models::{DecisionTreeParams, GradientBoostingParams, RandomForestParams};
    let dt = orii_auc(|x, y| DecisionTreeParams::new().fit(x, y, None).unwrap().into());
    let rf = orii_auc(|x, y| RandomForestParams::new().fit(x, y, None).unwrap().into());
    let gb = orii_auc(|x, y| {
        GradientBoostingParams::new()
            .fit(x, y, None)
            .unwrap()
            .into()
    });
    assert!(dt > 0.74, "decision tree {dt}");
    assert!(rf > 0.77, "random forest {rf}");
    assert!(gb > 0.77, "gradient boosting {gb}");
}

/// The reasons of the full-size booster on real data (300 trees of 31 leaves, up to about
/// 20 levels deep): for every evaluation client, the Tree SHAP values plus the expected
/// log-odds add up to the client's log-odds (local accuracy), to 1e-9.
#[test]
fn booster_reasons_add_up_on_online_retail() {
    use retain_models::{ChurnClassifier, GradientBoostingParams};
    let stem = "online_retail_ii/peer_features/orii_2011-09-09_h91";
    let train = read_peer(&format!("{stem}_train.csv.gz"));
    let eval = read_peer(&format!("{stem}_eval.csv.gz"));
    let cols = used_columns(&train);
    let (xt, xe) = (select(&train.x, &cols), select(&eval.x, &cols));
    let m = GradientBoostingParams::new()
        .fit(xt.view(), &train.churned, None)
        .unwrap();
    // Every 10th client: a debug build stays within seconds.
    let rows: Vec<usize> = (0..xe.nrows()).step_by(10).collect();
    let x = xe.select(ndarray::Axis(0), &rows);
    let phi = m.contributions(x.view()).unwrap().unwrap();
    let z = m.decision_function(x.view()).unwrap();
    let base = m.expected_log_odds();
    for (i, (row, zi)) in phi.rows().into_iter().zip(&z).enumerate() {
        let sum = base + row.sum();
        assert!(
            (sum - zi).abs() <= 1e-9 * zi.abs().max(1.0),
            "client {}: reasons add up to {sum}, log-odds {zi}",
            rows[i]
        );
    }
}
