//! A seeded simulator of a client base (BG/NBD purchases, Gamma-Gamma spend, habits, returns).
