//! Hyper-parameter types shared by the models (linfa's `XParams(XValidParams)` shape).

/// Defines `$params(pub $valid)` with never-failing setters, `check()` and a doc table.
macro_rules! model_params {
    ($params:ident, $valid:ident, $model:literal) => {
        #[doc = concat!("Checked hyper-parameters of the ", $model, " fit; obtained from [`", stringify!($params), "::check`].")]
        #[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
        pub struct $valid {
            pub(crate) settings: $crate::optim::FitSettings,
        }

        impl $valid {
            /// The optimiser settings.
            pub fn settings(&self) -> &$crate::optim::FitSettings {
                &self.settings
            }
        }

        #[doc = concat!("Hyper-parameters of the ", $model, " fit. Setters never fail; [`", stringify!($params), "::check`] validates.")]
        ///
        /// | Name | Default | Purpose | Range |
        /// |---|---|---|---|
        /// | `max_iterations` | 1000 | L-BFGS iterations per starting point | `>= 1` |
        /// | `gradient_tolerance` | 1e-7 | stop when the largest gradient component of the mean NLL (in log-parameters) is below | `> 0` |
        /// | `n_starts` | 3 | starting points available: ranked by likelihood, tried in turn until one converges to an interior optimum | `>= 1` |
        #[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
        pub struct $params(pub(crate) $valid);

        impl $params {
            /// Default hyper-parameters.
            pub fn new() -> Self {
                Self::default()
            }

            /// Sets the iteration cap per starting point.
            pub fn max_iterations(mut self, n: usize) -> Self {
                self.0.settings.max_iterations = n;
                self
            }

            /// Sets the gradient tolerance.
            pub fn gradient_tolerance(mut self, tol: f64) -> Self {
                self.0.settings.gradient_tolerance = tol;
                self
            }

            /// Sets the number of starting points.
            pub fn n_starts(mut self, n: usize) -> Self {
                self.0.settings.n_starts = n;
                self
            }

            /// Validates the hyper-parameters.
            pub fn check(self) -> $crate::error::Result<$valid> {
                self.0.settings.check()?;
                Ok(self.0)
            }
        }
    };
}

pub(crate) use model_params;
