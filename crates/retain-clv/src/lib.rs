//! Customer-base models: BG/NBD, Pareto/NBD, MBG/NBD, BG/BB, Gamma-Gamma.
