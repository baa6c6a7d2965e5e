"""EMPC oracles for tests/empc.rs.

Run: python tests/oracle/empc_oracle.py   (needs numpy, scipy; empulse 0.13.1 for the last part).
"""
import numpy as np
from scipy.special import betainc
from scipy.integrate import quad
from scipy.stats import beta as beta_dist

A, B, CLV, D, F = 6.0, 14.0, 200.0, 10.0, 1.0

# 1. By hand: y = [1, 0, 1, 0], s = [0.9, 0.8, 0.3, 0.1]. ROC hull (FPR, TPR): (0,0), (0,.5),
#    (.5,1), (1,1). pi0 = pi1 = 1/2, delta = 0.05, phi = 0.005.
#    gamma_0 = phi / (1 - delta) = 1/190; gamma_1 = ((delta + phi) * 1 + phi) / (1 - delta) = 6/95.
#    Point 1 (r0 = .5, r1 = 0):  P = 200 (0.95 g - 0.005) * 0.25             = 47.5 g - 0.25
#    Point 2 (r0 = 1, r1 = .5):  P = 200 [(0.95 g - 0.005) 0.5 - 0.055 * 0.25] = 95 g - 3.25
g0, g1 = 1 / 190, 6 / 95
I = lambda x: betainc(A, B, x)
M = lambda x: A / (A + B) * betainc(A + 1, B, x)
hand = 47.5 * (M(g1) - M(g0)) - 0.25 * (I(g1) - I(g0)) + 95 * (M(1) - M(g1)) - 3.25 * (I(1) - I(g1))
frac = 0.25 * (I(g1) - I(g0)) + 0.75 * (I(1) - I(g1))
print("hand empc", repr(hand), "fraction", repr(frac))

# 2. Brute force: integral over gamma of the max over ALL ROC points (not just the hull).
def brute(y, s):
    y = np.asarray(y); s = np.asarray(s, float); n = len(y)
    pts = [(0, 0)] + [(int(((s >= t) & (y == 0)).sum()), int(((s >= t) & (y == 1)).sum())) for t in np.unique(s)]
    def best(g):
        return max((g * (CLV - D) - F) * tp / n - (D + F) * fp / n for fp, tp in pts)
    val, err = quad(lambda g: best(g) * beta_dist.pdf(g, A, B), 0, 1, limit=500, epsabs=1e-14, epsrel=1e-13)
    return val, err
print("brute tiny", brute([1, 0, 1, 0], [0.9, 0.8, 0.3, 0.1]))

A_Y = [1, 0, 1, 1, 0, 1, 0, 0, 1, 1, 0, 1, 0, 1, 0, 1, 1, 0, 1, 1]
A_P = [0.8, 0.8, 0.8, 0.75, 0.6, 0.6, 0.6, 0.5, 0.45, 0.4, 0.4, 0.35, 0.3, 0.3, 0.2, 0.1, 0.0, 0.05, 1.0, 0.55]
print("brute A", brute(A_Y, A_P))

# 3. empulse 0.13.1 (pip install empulse): empc_score and empc_score.optimal_rate, defaults
#    alpha=6, beta=14, clv=200, incentive_cost=10, contact_cost=1.
try:
    from empulse.metrics import empc_score
    for name, y, s in [("tiny", [1, 0, 1, 0], [0.9, 0.8, 0.3, 0.1]),
                       ("doc", [0, 1, 0, 1, 0, 1, 0, 1], [0.1, 0.2, 0.3, 0.4, 0.5, 0.7, 0.8, 0.9]),
                       ("A", A_Y, A_P)]:
        print("empulse", name, repr(float(empc_score(y, s))), repr(float(empc_score.optimal_rate(y, s))))
    print("empulse A clv=50 d=5 f=2 alpha=2 beta=3",
          repr(float(empc_score(A_Y, A_P, alpha=2, beta=3, clv=50, incentive_cost=5, contact_cost=2))),
          repr(float(empc_score.optimal_rate(A_Y, A_P, alpha=2, beta=3, clv=50, incentive_cost=5, contact_cost=2))))
except ImportError:
    print("empulse not installed")
