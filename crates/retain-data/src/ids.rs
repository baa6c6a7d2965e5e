//! Client ids as users have them: integers of any size up to 64 bits, or text of any length
//! ("C-00123", UUIDs, e-mail addresses), read exactly and written back exactly.
//!
//! Every later stage works on an `i64` code per client, so the group-bys and joins stay
//! integer-keyed and fast. The code is a function of the id alone, so every reader (the
//! transactions, the contacts log, the client attributes) codes an id the same way without
//! sharing a dictionary:
//!
//! - an integer id (an integer column, a whole float up to 2^53, or text that is an integer
//!   written in decimal: `-?[0-9]+`, optionally `.0`, as spreadsheets export them) is
//!   its own code, exactly (never through a float); zero-padded digits are the integer
//!   (`00013` is client 13, as fixed-width exports such as CDNOW's write it) and are written
//!   back plainly (`13`); two spellings of one integer in one input (`0013` and `13`, `13`
//!   and `13.0`) are refused, naming both, rather than silently made one client;
//! - any other text (`C-00123`, `+5`, `1e5`, a UUID, a 25-digit number) is kept as text, and its
//!   code is its 64-bit FNV-1a hash folded into a range no integer id may use
//!   ([`TEXT_CODES`]: the lowest 2^62 codes, below about -6.9e18; an integer id there is
//!   read as text). A collision between two ids of one
//!   input (chance about n^2 / 2^63: 4e-6 for six million ids) is refused, naming both.
//!
//! [`ClientIds`] keeps the text of the coded text ids, so every output writes the id as it
//! was read: the `client_id` column stays an integer column when every id is an integer, and
//! becomes a text column (integers written in decimal) when any id is text.
//!
//! A hand-written hash rather than a crate: FNV-1a is a dozen lines, stable across platforms
//! and releases by definition (a hash crate's output may change between versions, which would
//! change the canonical order and so the last digit of float sums).

use std::collections::HashMap;
use std::sync::Arc;

use polars::prelude::*;

/// Codes `[TEXT_CODES.start, TEXT_CODES.end)` are text ids'; an integer id there is refused.
pub const TEXT_CODES: std::ops::Range<i64> = i64::MIN..i64::MIN + (1 << 62);

/// The code of one trimmed, non-empty id written as text.
pub fn code_of_text(id: &str) -> i64 {
    match integer_text(id) {
        Some(v) if !TEXT_CODES.contains(&v) => v,
        _ => TEXT_CODES.start + (fnv1a(id.as_bytes()) >> 2) as i64,
    }
}

/// Whether a code is a text id's.
pub fn is_text_code(code: i64) -> bool {
    TEXT_CODES.contains(&code)
}

/// `-?[0-9]+(\.0+)?` within `i64`, as its value.
fn integer_text(s: &str) -> Option<i64> {
    let int = match s.find('.') {
        Some(dot) => {
            let frac = &s[dot + 1..];
            if frac.is_empty() || !frac.bytes().all(|b| b == b'0') {
                return None;
            }
            &s[..dot]
        }
        None => s,
    };
    let digits = int.strip_prefix('-').unwrap_or(int);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    int.parse().ok()
}

/// Whether an integer id's `text` is written plainly (`-?[1-9][0-9]*` or `0`: no leading
/// zeros, no `.0`), so it is the one spelling of its integer.
fn is_plain(text: &str) -> bool {
    let d = text.strip_prefix('-').unwrap_or(text);
    !d.is_empty()
        && d.bytes().all(|b| b.is_ascii_digit())
        && (d.len() == 1 || !d.starts_with('0'))
        && !(d == "0" && text.len() > 1)
}

fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// The text of an input's text ids, by code: what turns codes back into the ids as read.
/// Empty (every id an integer) for integer ids and for tables built in memory.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClientIds {
    text: Arc<HashMap<i64, String>>,
}

/// Two different ids of one input with one code: two spellings of one integer (`00123` and
/// `123`), or two text ids whose hashes collide (module docs).
#[derive(Debug, Clone, PartialEq)]
pub struct IdCollision(pub String, pub String);

impl ClientIds {
    /// Collects the text ids of a coded column: `codes[i]` is the code of `texts[i]` (as
    /// written: blanks around it are ignored; null where there is no id). Refuses two texts
    /// with one code.
    pub fn collect(codes: &Int64Chunked, texts: &StringChunked) -> Result<Self, IdCollision> {
        let mut text: HashMap<i64, String> = HashMap::new();
        // integer ids written otherwise than plainly (`00123`, `123.0`), by code: two
        // spellings of one integer would silently be one client
        let mut spelled: HashMap<i64, &str> = HashMap::new();
        for (c, t) in codes.iter().zip(texts.iter()) {
            let (Some(c), Some(t)) = (c, t) else { continue };
            let t = t.trim();
            if !is_text_code(c) {
                if !is_plain(t) {
                    match spelled.get(&c) {
                        Some(seen) if *seen != t => {
                            return Err(IdCollision(seen.to_string(), t.to_string()));
                        }
                        Some(_) => {}
                        None => {
                            spelled.insert(c, t);
                        }
                    }
                }
                continue;
            }
            match text.get(&c) {
                Some(seen) if seen != t => {
                    return Err(IdCollision(seen.clone(), t.to_string()));
                }
                Some(_) => {}
                None => {
                    text.insert(c, t.to_string());
                }
            }
        }
        if !spelled.is_empty() {
            for (c, t) in codes.iter().zip(texts.iter()) {
                if let (Some(c), Some(t)) = (c, t.map(str::trim))
                    && let Some(seen) = spelled.get(&c)
                    && *seen != t
                {
                    return Err(IdCollision(seen.to_string(), t.to_string()));
                }
            }
        }
        Ok(Self {
            text: Arc::new(text),
        })
    }

    /// Adds the text ids of `other` (read from another part of the same input); refuses a
    /// code with two texts.
    pub fn merge(&mut self, other: &ClientIds) -> Result<(), IdCollision> {
        if other.text.is_empty() {
            return Ok(());
        }
        for (c, t) in other.text.iter() {
            if let Some(seen) = self.text.get(c)
                && seen != t
            {
                return Err(IdCollision(seen.clone(), t.clone()));
            }
        }
        let text = Arc::make_mut(&mut self.text);
        for (c, t) in other.text.iter() {
            text.entry(*c).or_insert_with(|| t.clone());
        }
        Ok(())
    }

    /// Whether any id is text (the outputs' `client_id` column is then text).
    pub fn has_text(&self) -> bool {
        !self.text.is_empty()
    }

    /// The id of a code as read: its text, or the integer written plainly.
    pub fn label(&self, code: i64) -> String {
        match self.text.get(&code) {
            Some(t) => t.clone(),
            None => code.to_string(),
        }
    }

    /// The ids of a column of codes: the codes themselves when every id is an integer, else
    /// a text column of [`ClientIds::label`]s.
    pub fn ids(&self, codes: &Column) -> PolarsResult<Column> {
        if !self.has_text() {
            return Ok(codes.clone());
        }
        let ca = codes.i64()?;
        let out: StringChunked = ca.iter().map(|c| c.map(|c| self.label(c))).collect();
        Ok(out.with_name(codes.name().clone()).into_column())
    }

    /// Replaces the code column `name` of `df` by the ids ([`ClientIds::ids`]).
    pub fn decode(&self, df: &mut DataFrame, name: &str) -> PolarsResult<()> {
        if !self.has_text() {
            return Ok(());
        }
        let ids = self.ids(df.column(name)?)?;
        df.with_column(ids)?;
        Ok(())
    }
}

/// Whether the client of `code` is in the seeded client sample of `fraction` (in (0, 1]):
/// the SplitMix64 hash of the code, mixed with the seed's, below `fraction` of the hash range.
/// A function of the code alone, so every part of a split input agrees.
pub fn in_client_sample(code: i64, fraction: f64, seed: u64) -> bool {
    if fraction >= 1.0 {
        return true;
    }
    let h = crate::replicate::splitmix64(code as u64 ^ crate::replicate::splitmix64(seed));
    // 2^64 * fraction, exact for the fractions a user writes to about 1e-16
    (h as f64) < fraction * 18_446_744_073_709_551_616.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_are_their_own_codes_and_text_is_kept() {
        assert_eq!(code_of_text("13085"), 13085);
        assert_eq!(code_of_text("13085.0"), 13085);
        assert_eq!(code_of_text("-7"), -7);
        assert_eq!(code_of_text("00013"), 13);
        assert_eq!(code_of_text("9007199254740993"), 9_007_199_254_740_993);
        assert_eq!(code_of_text("9223372036854775807"), i64::MAX);
        for text in [
            "13085.5",
            "+5",
            "13.",
            "1e5",
            "C-00123",
            "9223372036854775808",
            "123456789012345678901234567890",
            "4f1c2a9e-7d3b-4c55-9a61-0b8f3e2d1c77",
            "ana@example.com",
        ] {
            assert!(is_text_code(code_of_text(text)), "{text}");
        }
        // an integer in the text codes' range is coded as text, so it cannot alias one
        let low = (TEXT_CODES.start + 5).to_string();
        assert!(is_text_code(code_of_text(&low)));
    }

    #[test]
    fn outputs_get_the_ids_back_exactly() {
        let texts = ["C-1", "42", "C-1", "a0042"];
        let codes: Int64Chunked = texts.iter().map(|t| Some(code_of_text(t))).collect();
        let texts_ca: StringChunked = texts.iter().map(|t| Some(*t)).collect();
        let ids = ClientIds::collect(&codes, &texts_ca).unwrap();
        assert!(ids.has_text());
        let out = ids
            .ids(&codes.with_name("client_id".into()).into_column())
            .unwrap();
        let got: Vec<&str> = out.str().unwrap().iter().map(|v| v.unwrap()).collect();
        assert_eq!(got, texts);
        let ints = ClientIds::default();
        assert_eq!(ints.label(42), "42");
    }

    #[test]
    fn two_spellings_of_one_integer_are_refused() {
        for (a, b) in [("000123", "00123"), ("123", "0123"), ("7.0", "7")] {
            let texts: StringChunked = [Some(a), Some("9"), Some(b)].into_iter().collect();
            let codes: Int64Chunked = texts.iter().map(|t| t.map(code_of_text)).collect();
            // both named (the plain spelling is found on a second pass, so may come second)
            let Err(IdCollision(x, y)) = ClientIds::collect(&codes, &texts) else {
                panic!("{a} and {b} were taken for one client");
            };
            let mut got = [x, y];
            got.sort();
            let mut want = [a.to_string(), b.to_string()];
            want.sort();
            assert_eq!(got, want);
        }
        let texts: StringChunked = [Some("0042"), Some("0042"), Some("7")]
            .into_iter()
            .collect();
        let codes: Int64Chunked = texts.iter().map(|t| t.map(code_of_text)).collect();
        assert!(ClientIds::collect(&codes, &texts).is_ok());
    }

    #[test]
    fn a_collision_names_both_ids() {
        let codes: Int64Chunked = [Some(TEXT_CODES.start), Some(TEXT_CODES.start)]
            .into_iter()
            .collect();
        let texts: StringChunked = [Some("a"), Some("b")].into_iter().collect();
        assert_eq!(
            ClientIds::collect(&codes, &texts),
            Err(IdCollision("a".into(), "b".into()))
        );
    }
}
