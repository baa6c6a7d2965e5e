//! Customer-base models: BG/NBD, Pareto/NBD, MBG/NBD, BG/BB, Gamma-Gamma.
//!
//! Every model follows one shape: `XParams` (setters never fail) -> `check()` ->
//! `fit(&data)` -> a fitted `X` with private fields and accessors. Data are validated once, by
//! the constructors of [`RfmData`], [`BgBbData`] and [`SpendData`]. Fits minimise the mean
//! negative log-likelihood over log-parameters (L-BFGS, several starting points) on compressed
//! rows and never return non-finite parameters: a failed fit is a [`ClvError::NoConvergence`]
//! carrying a [`DataSummary`].
//!
//! ```
//! use retain_clv::{BgNbdParams, RfmData, RfmModel};
//! let data = RfmData::new(
//!     vec![0.0, 2.0, 1.0, 5.0, 0.0, 3.0],
//!     vec![0.0, 30.4, 1.7, 29.4, 0.0, 20.0],
//!     vec![38.9, 38.9, 38.9, 38.9, 30.0, 32.0],
//! )?;
//! # let _ = &data;
//! // let model = BgNbdParams::new().fit(&data)?;
//! // let churn = model.p_no_purchase(13.0, 2.0, 30.4, 38.9);
//! # Ok::<(), retain_clv::ClvError>(())
//! ```

mod bgbb;
mod bgnbd;
mod clv;
mod data;
mod error;
mod gamma_gamma;
mod model;
mod optim;
mod params;
mod pareto;
mod saved;
pub mod special;

pub use bgbb::{BgBb, BgBbParams, BgBbValidParams};
pub use bgnbd::{BgNbd, BgNbdParams, BgNbdValidParams, MbgNbd, MbgNbdParams, MbgNbdValidParams};
pub use clv::{ClvParams, ClvValidParams, expected_value};
pub use data::{BgBbData, RfmData, SpendData};
pub use error::{ClvError, DataSummary, Result};
pub use gamma_gamma::{GammaGamma, GammaGammaParams, GammaGammaValidParams};
pub use model::RfmModel;
pub use optim::FitSettings;
pub use pareto::{ParetoNbd, ParetoNbdParams, ParetoNbdValidParams};
pub use saved::{AnyRfmModel, CLV_FEATURES, ClientValues, ClvModel, RfmKind, RfmRows, Valuation};
