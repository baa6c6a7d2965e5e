"""Times the peer's classifiers and regressor on the ORII peer training features.

Run with the peer venv (scikit-learn, LightGBM):
    /tmp/peer-venv/bin/python crates/retain-models/examples/fit_orii_peer.py [repeats]
Same data, same used-feature rule and same hyper-parameters as BENCHMARK.md section 5;
compare with `cargo run --release -p retain-models --example fit_orii`.
Prints the median wall time of each fit over `repeats` runs (default 3). With
CONTRIBUTIONS=1 it also times LightGBM's per-feature contributions (`pred_contrib`, Tree
SHAP) on the evaluation features, once.
"""

import os
import statistics
import sys
import time

import lightgbm as lgb
import pandas as pd
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

HERE = os.path.dirname(os.path.abspath(__file__))
BASE = os.path.join(
    HERE, "../../../../shared/data/online_retail_ii/peer_features/orii_2011-09-09_h91"
)


def main() -> None:
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    tr = pd.read_csv(BASE + "_train.csv.gz")
    feats = [c for c in tr.columns[1:30] if tr[c].nunique() > 1]
    x, y, v = tr[feats].values, tr["churned"].values, tr["holdout_value"].values
    print(f"ORII train: {x.shape[0]} rows x {x.shape[1]} features, lightgbm {lgb.__version__}")
    models = {
        "logistic_regression": lambda: make_pipeline(
            StandardScaler(), LogisticRegression(C=1.0, max_iter=5000)
        ).fit(x, y),
        "decision_tree(depth 6)": lambda: DecisionTreeClassifier(
            max_depth=6, min_samples_split=40, min_samples_leaf=20, random_state=42
        ).fit(x, y),
        "random_forest(300)": lambda: RandomForestClassifier(
            n_estimators=300, random_state=42, n_jobs=2
        ).fit(x, y),
        "lgbm_classifier(300)": lambda: lgb.LGBMClassifier(
            n_estimators=300, learning_rate=0.05, random_state=42, n_jobs=2, verbose=-1
        ).fit(x, y),
        "lgbm_regressor(300)": lambda: lgb.LGBMRegressor(
            n_estimators=300, learning_rate=0.05, random_state=42, n_jobs=2, verbose=-1
        ).fit(x, v),
    }
    for name, fit in models.items():
        times = []
        for _ in range(repeats):
            t = time.perf_counter()
            fit()
            times.append(time.perf_counter() - t)
        print(f"{name:<26} median {statistics.median(times):8.4f} s  (min {min(times):.4f})")
    if os.environ.get("CONTRIBUTIONS") == "1":
        ev = pd.read_csv(BASE + "_eval.csv.gz")[feats].values
        m = models["lgbm_classifier(300)"]()
        t = time.perf_counter()
        m.predict_proba(ev, pred_contrib=True)
        print(f"lgbm_classifier(300) contributions of {ev.shape[0]} rows {time.perf_counter() - t:.3f} s")


if __name__ == "__main__":
    main()
