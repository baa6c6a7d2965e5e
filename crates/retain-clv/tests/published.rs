//! The published figures on the CDNOW sample and the donations data.

mod common;

use common::*;
use retain_clv::{
    BgBbParams, BgNbdParams, GammaGammaParams, MbgNbdParams, ParetoNbdParams, RfmModel,
};

#[test]
fn bgnbd_cdnow() {
    let m = BgNbdParams::new().fit(&cdnow()).expect("fit");
    eprintln!(
        "BG/NBD r={} alpha={} a={} b={} LL={} se={:?}",
        m.r(),
        m.alpha(),
        m.a(),
        m.b(),
        m.log_likelihood(),
        m.standard_errors()
    );
    sig(m.r(), 0.2426, 3);
    sig(m.alpha(), 4.4136, 3);
    sig(m.a(), 0.7929, 3);
    sig(m.b(), 2.4259, 3);
    assert!(
        (m.log_likelihood() - -9582.43).abs() < 0.01,
        "{}",
        m.log_likelihood()
    );
    // FHL 2005: client 1 (x=2, t_x=30.43, T=38.86) expects 1.226 purchases in the next 39 weeks.
    let e = m.conditional_expected_purchases(39.0, 2.0, 30.43, 38.86);
    assert!((e - 1.226).abs() < 5e-4, "{e}");
    for (t, want) in [
        (0.1429, 0.0078),
        (1.0, 0.0532),
        (3.0, 0.1506),
        (31.8571, 1.0405),
        (32.0, 1.0437),
        (78.0, 1.8576),
    ] {
        let got = m.expected_purchases(t);
        assert!(
            (got - want).abs() < 5e-4 + 1e-3 * want,
            "E[X({t})] = {got}, want {want}"
        );
    }
}

#[test]
fn pareto_nbd_cdnow() {
    let m = ParetoNbdParams::new().fit(&cdnow()).expect("fit");
    eprintln!(
        "Pareto/NBD r={} alpha={} s={} beta={} LL={} se={:?}",
        m.r(),
        m.alpha(),
        m.s(),
        m.beta(),
        m.log_likelihood(),
        m.standard_errors()
    );
    sig(m.r(), 0.5533, 3);
    sig(m.alpha(), 10.578, 3);
    sig(m.s(), 0.6062, 3);
    sig(m.beta(), 11.669, 3);
    assert!(
        (m.log_likelihood() - -9594.98).abs() < 0.01,
        "{}",
        m.log_likelihood()
    );
}

#[test]
fn mbgnbd_cdnow() {
    let m = MbgNbdParams::new().fit(&cdnow()).expect("fit");
    eprintln!(
        "MBG/NBD r={} alpha={} a={} b={} LL={}",
        m.r(),
        m.alpha(),
        m.a(),
        m.b(),
        m.log_likelihood()
    );
    sig(m.r(), 0.525, 3);
    sig(m.alpha(), 6.183, 3);
    sig(m.a(), 0.891, 3);
    sig(m.b(), 1.614, 3);
}

#[test]
fn gamma_gamma_cdnow() {
    let data = cdnow_spend();
    assert_eq!(data.n_clients(), 946.0);
    let m = GammaGammaParams::new().fit(&data).expect("fit");
    eprintln!(
        "Gamma-Gamma p={} q={} gamma={} LL={}",
        m.p(),
        m.q(),
        m.gamma(),
        m.log_likelihood()
    );
    sig(m.p(), 6.25, 3);
    sig(m.q(), 3.74, 3);
    sig(m.gamma(), 15.44, 3);
    assert!(
        (m.log_likelihood() - -4055.9177).abs() < 0.01,
        "{}",
        m.log_likelihood()
    );
    sig(
        m.conditional_expected_average_profit(0.0, 0.0),
        m.p() * m.gamma() / (m.q() - 1.0),
        12,
    );
}

#[test]
fn bgbb_donations() {
    let m = BgBbParams::new().fit(&donations()).expect("fit");
    eprintln!(
        "BG/BB alpha={} beta={} gamma={} delta={} LL={}",
        m.alpha(),
        m.beta(),
        m.gamma(),
        m.delta(),
        m.log_likelihood()
    );
    sig(m.alpha(), 1.204, 3);
    sig(m.beta(), 0.750, 3);
    sig(m.gamma(), 0.657, 3);
    sig(m.delta(), 2.783, 3);
}
