//! The fingerprint of a set of lines that model cards record: the same for the same lines
//! however they were stored, ordered or split, so one machine's whole read, a part-by-part
//! read and a distributed run's workers all give the same value.
//!
//! Each client's lines are hashed in canonical order (SHA-256 of their client, day, amount
//! and quantity); the clients' digests are added as 256-bit numbers (mod 2^256), which no
//! order of the clients changes; the fingerprint is the SHA-256 of that sum with the counts
//! of clients and lines. A client must be whole in each piece added (as every part of
//! [`crate::PartReader`] and every partition of a distributed run is).

use polars::prelude::*;
use rayon::prelude::*;
use sha2::{Digest, Sha256};

use crate::cols;

/// An order-free fingerprint of canonical line tables (module docs): [`LinesDigest::add`]
/// each piece of whole clients, [`LinesDigest::merge`] the digests of other pieces, then
/// [`LinesDigest::hex`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinesDigest {
    /// The clients' digests summed mod 2^256, as little-endian 64-bit limbs.
    sum: [u64; 4],
    clients: u64,
    lines: u64,
}

impl LinesDigest {
    /// An empty digest (no line).
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds the lines of `frame`, a canonical line table (the columns of [`cols`], each
    /// client's lines together and in canonical order) whose clients are in no piece added
    /// before.
    ///
    /// Pieces of whole clients are hashed side by side and their digests added, which is
    /// the digest of the whole (the sum is the same in any order).
    pub fn add(&mut self, frame: &DataFrame) -> PolarsResult<()> {
        let client = frame.column(cols::CLIENT)?.i64()?.rechunk();
        let day = frame.column(cols::DAY)?.i32()?;
        let amount = frame.column(cols::AMOUNT)?.f64()?;
        let quantity = frame.column(cols::QUANTITY)?.f64()?;
        let bounds = crate::client_pieces(client.len(), |b| client.get(b) == client.get(b - 1));
        let digests: Vec<LinesDigest> = bounds
            .par_windows(2)
            .map(|w| {
                let (offset, len) = (w[0] as i64, w[1] - w[0]);
                let mut d = LinesDigest::new();
                d.add_lines(
                    &client.slice(offset, len),
                    &day.slice(offset, len),
                    &amount.slice(offset, len),
                    &quantity.slice(offset, len),
                );
                d
            })
            .collect();
        for d in &digests {
            self.merge(d);
        }
        Ok(())
    }

    /// [`LinesDigest::add`] of the lines of one piece of whole clients, in one pass.
    fn add_lines(
        &mut self,
        client: &Int64Chunked,
        day: &Int32Chunked,
        amount: &Float64Chunked,
        quantity: &Float64Chunked,
    ) {
        let mut buf: Vec<u8> = Vec::with_capacity(1 << 12);
        let mut current: Option<Option<i64>> = None;
        for (((c, d), a), q) in client
            .iter()
            .zip(day.iter())
            .zip(amount.iter())
            .zip(quantity.iter())
        {
            if current.is_some_and(|k| k != c) {
                self.add_client(&buf);
                buf.clear();
            }
            current = Some(c);
            buf.extend_from_slice(&c.unwrap_or(i64::MIN).to_le_bytes());
            buf.extend_from_slice(&d.unwrap_or(i32::MIN).to_le_bytes());
            buf.extend_from_slice(&a.unwrap_or(f64::NAN).to_bits().to_le_bytes());
            buf.extend_from_slice(&q.unwrap_or(f64::NAN).to_bits().to_le_bytes());
            self.lines += 1;
        }
        if current.is_some() {
            self.add_client(&buf);
        }
    }

    fn add_client(&mut self, lines: &[u8]) {
        let digest = Sha256::digest(lines);
        let mut carry = 0u64;
        for (i, limb) in self.sum.iter_mut().enumerate() {
            let d = u64::from_le_bytes(digest[8 * i..8 * i + 8].try_into().expect("8 bytes"));
            let (s, c1) = limb.overflowing_add(d);
            let (s, c2) = s.overflowing_add(carry);
            *limb = s;
            carry = u64::from(c1) + u64::from(c2);
        }
        self.clients += 1;
    }

    /// Adds the digest of other lines, of other clients.
    pub fn merge(&mut self, other: &LinesDigest) {
        let mut carry = 0u64;
        for (limb, &o) in self.sum.iter_mut().zip(&other.sum) {
            let (s, c1) = limb.overflowing_add(o);
            let (s, c2) = s.overflowing_add(carry);
            *limb = s;
            carry = u64::from(c1) + u64::from(c2);
        }
        self.clients += other.clients;
        self.lines += other.lines;
    }

    /// Clients added.
    pub fn clients(&self) -> u64 {
        self.clients
    }

    /// Lines added.
    pub fn lines(&self) -> u64 {
        self.lines
    }

    /// The digest as text, to carry a worker's digest to the one that merges them
    /// ([`LinesDigest::from_state`] reads it back): the sum's four limbs in hex, then the
    /// clients and the lines, `:`-separated.
    pub fn state(&self) -> String {
        let [a, b, c, d] = self.sum;
        format!(
            "{a:016x}{b:016x}{c:016x}{d:016x}:{}:{}",
            self.clients, self.lines
        )
    }

    /// The digest written by [`LinesDigest::state`]; `None` for any other text.
    pub fn from_state(text: &str) -> Option<Self> {
        let mut fields = text.split(':');
        let (sum, clients, lines) = (fields.next()?, fields.next()?, fields.next()?);
        if fields.next().is_some() || sum.len() != 64 || !sum.is_ascii() {
            return None;
        }
        let mut limbs = [0u64; 4];
        for (i, limb) in limbs.iter_mut().enumerate() {
            *limb = u64::from_str_radix(&sum[16 * i..16 * i + 16], 16).ok()?;
        }
        Some(Self {
            sum: limbs,
            clients: clients.parse().ok()?,
            lines: lines.parse().ok()?,
        })
    }

    /// The fingerprint: 64 hex digits.
    pub fn hex(&self) -> String {
        let mut h = Sha256::new();
        for limb in self.sum {
            h.update(limb.to_le_bytes());
        }
        h.update(self.clients.to_le_bytes());
        h.update(self.lines.to_le_bytes());
        h.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }
}
