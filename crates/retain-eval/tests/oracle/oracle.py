import sys, json
sys.path.insert(0, "/work/shared/bench")
import numpy as np
from peer_pipeline import churn_metrics, value_metrics, gini
from sklearn.metrics import roc_auc_score, average_precision_score, brier_score_loss, log_loss
from scipy.stats import spearmanr

def rs(name, xs, fmt):
    print(f"const {name}: [{ 'f64' if fmt=='f' else ('u8' if fmt=='u' else 'i64')}; {len(xs)}] = [" + ", ".join((repr(float(x)) if fmt=='f' else str(int(x))) for x in xs) + "];")

# Fixture A: hand-made, 20 clients, ties, p in {0, 1}, a tie straddling the top-decile boundary (k = 2).
ids = [15, 3, 8, 21, 4, 11, 9, 2, 17, 6, 30, 12, 5, 14, 1, 7, 19, 10, 13, 16]
y   = [1, 0, 1, 1, 0, 1, 0, 0, 1, 1, 0, 1, 0, 1, 0, 1, 1, 0, 1, 1]
p   = [0.8, 0.8, 0.8, 0.75, 0.6, 0.6, 0.6, 0.5, 0.45, 0.4, 0.4, 0.35, 0.3, 0.3, 0.2, 0.1, 0.0, 0.05, 1.0, 0.55]
print("// A"); rs("A_IDS", ids, 'i'); rs("A_Y", y, 'u'); rs("A_P", p, 'f')
print(json.dumps(churn_metrics(y, p, ids, prob=True), indent=1))
for f in [roc_auc_score, average_precision_score]:
    print(f.__name__, repr(float(f(y, p))))
pc = np.clip(p, 1e-15, 1-1e-15)
print("brier", repr(float(brier_score_loss(y, pc))), "logloss", repr(float(log_loss(y, pc, labels=[0,1]))))

# Fixture B: 53 clients, seed 7, scores rounded to 1 decimal (many ties), not probabilities (range -2..2).
rng = np.random.default_rng(7)
n = 53
ids = rng.permutation(np.arange(100, 100 + n))
y = (rng.random(n) < 0.4).astype(int)
s = np.round(rng.normal(0, 1, n) + 0.8 * y, 1)
print("// B"); rs("B_IDS", ids, 'i'); rs("B_Y", y, 'u'); rs("B_S", s, 'f')
print(json.dumps(churn_metrics(y, s, ids, prob=False), indent=1))

# Value fixture V: 23 clients (k = 3), negatives, zeros, tied predictions across the boundary.
ids = [5, 9, 2, 14, 7, 1, 22, 3, 18, 11, 4, 16, 8, 20, 6, 13, 10, 12, 19, 15, 17, 21, 23]
v   = [120.5, -30.0, 0.0, 0.0, 455.25, 80.0, 12.0, -5.5, 0.0, 310.0, 45.0, 0.0, 99.99, 15.0, 0.0, 200.0, -12.25, 60.0, 0.0, 5.0, 33.3, 0.0, 150.0]
pr  = [100.0, 10.0, 5.0, 5.0, 300.0, 300.0, 20.0, 0.0, -3.0, 300.0, 40.0, 5.0, 300.0, 20.0, 1.0, 180.0, 0.0, 55.0, 2.0, 8.0, 30.0, 0.0, 120.0]
print("// V"); rs("V_IDS", ids, 'i'); rs("V_ACT", v, 'f'); rs("V_PRED", pr, 'f')
print(json.dumps(value_metrics(v, pr, ids), indent=1))
print("gini(v,pr)", repr(gini(v, pr, ids)), "gini(v,v)", repr(gini(v, v, ids)))
print("spearman", repr(float(spearmanr(v, pr).correlation)))

# Purchase counts P: BG/NBD-like expectations vs actual purchase days.
act = [0, 1, 0, 3, 2, 0, 5, 1, 0, 2]
exp = [0.21, 0.93, 0.4, 2.5, 2.5, 0.05, 3.7, 0.4, 0.12, 1.8]
print("// P"); rs("P_ACT", act, 'f'); rs("P_EXP", exp, 'f')
a=np.array(act,float); e=np.array(exp)
print("spearman", repr(float(spearmanr(a, e).correlation)), "mae", repr(float(np.mean(np.abs(a-e)))), "rmse", repr(float(np.sqrt(np.mean((a-e)**2)))), "sum_pred", repr(float(e.sum())))

# Calibration: sklearn.calibration.calibration_curve on fixture A and on fixture C (53 clients,
# probabilities rounded to 2 decimals, many ties).
from sklearn.calibration import calibration_curve
ids = [15, 3, 8, 21, 4, 11, 9, 2, 17, 6, 30, 12, 5, 14, 1, 7, 19, 10, 13, 16]
yA  = [1, 0, 1, 1, 0, 1, 0, 0, 1, 1, 0, 1, 0, 1, 0, 1, 1, 0, 1, 1]
pA  = [0.8, 0.8, 0.8, 0.75, 0.6, 0.6, 0.6, 0.5, 0.45, 0.4, 0.4, 0.35, 0.3, 0.3, 0.2, 0.1, 0.0, 0.05, 1.0, 0.55]
rng = np.random.default_rng(11)
yC = (rng.random(53) < 0.5).astype(int)
pC = np.round(np.clip(rng.beta(2, 3, 53) + 0.2 * yC, 0, 1), 2)
print("// C"); rs("C_Y", yC, 'u'); rs("C_P", pC, 'f')
for name, y, p in [("A", yA, pA), ("C", yC, pC)]:
    for strategy in ["quantile", "uniform"]:
        for nb in [10, 4]:
            t, pr = calibration_curve(y, p, n_bins=nb, strategy=strategy)
            edges = np.percentile(p, np.linspace(0, 1, nb + 1) * 100) if strategy == "quantile" else np.linspace(0, 1, nb + 1)
            counts = np.bincount(np.searchsorted(edges[1:-1], p), minlength=nb)
            print(f"calibration_curve({name}_Y, {name}_P, n_bins={nb}, strategy={strategy!r})")
            print("  prob_true", [repr(float(x)) for x in t])
            print("  prob_pred", [repr(float(x)) for x in pr])
            print("  counts", [int(c) for c in counts if c], "edges", [repr(float(e)) for e in edges])
