//! The generated transaction log: column vectors in the Online Retail II layout.

use std::io::{self, Write};

use chrono::{Datelike, NaiveDateTime, Timelike};

/// The header of [`Transactions::write_csv`], the same as the UCI/Kaggle `online_retail_II.csv`.
pub const CSV_HEADER: &str =
    "Invoice,StockCode,Description,Quantity,InvoiceDate,Price,Customer ID,Country";

/// A transaction log as column vectors, one entry per invoice line, in the Online Retail II
/// layout. Rows are sorted by `invoice_date`, then invoice number.
///
/// A purchase is an invoice like `"500123"` of one or more lines with positive quantities;
/// a return is an invoice like `"C500124"` whose lines have negative quantities. Line revenue
/// is `quantity * price`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Transactions {
    /// Invoice number; returns start with `C`.
    pub invoice: Vec<String>,
    /// Product code, e.g. `85123` or `85123A`.
    pub stock_code: Vec<String>,
    /// Product name in capitals, without commas.
    pub description: Vec<String>,
    /// Units; negative on returns.
    pub quantity: Vec<i64>,
    /// Date and time of the invoice (naive local time, minute precision).
    pub invoice_date: Vec<NaiveDateTime>,
    /// Unit price, rounded to cents, > 0.
    pub price: Vec<f64>,
    /// The client.
    pub customer_id: Vec<i64>,
    /// The client's country.
    pub country: Vec<String>,
}

impl Transactions {
    /// An empty log with room for `n` rows in every column.
    pub fn with_capacity(n: usize) -> Self {
        Self {
            invoice: Vec::with_capacity(n),
            stock_code: Vec::with_capacity(n),
            description: Vec::with_capacity(n),
            quantity: Vec::with_capacity(n),
            invoice_date: Vec::with_capacity(n),
            price: Vec::with_capacity(n),
            customer_id: Vec::with_capacity(n),
            country: Vec::with_capacity(n),
        }
    }

    /// Number of rows (invoice lines).
    pub fn len(&self) -> usize {
        self.invoice.len()
    }

    /// True when there are no rows.
    pub fn is_empty(&self) -> bool {
        self.invoice.is_empty()
    }

    /// Writes the log as CSV: the header [`CSV_HEADER`], dates as `YYYY-MM-DD HH:MM:SS`,
    /// prices with 2 decimals, RFC 4180 quoting where a field needs it.
    ///
    /// Rows are buffered here (64 KiB at a time); pass a plain `File` or any other `Write`.
    ///
    /// # Errors
    /// Any I/O error of `w`.
    pub fn write_csv(&self, mut w: impl Write) -> io::Result<()> {
        let mut buf = Vec::with_capacity(FLUSH_AT + 4096);
        buf.extend_from_slice(CSV_HEADER.as_bytes());
        buf.push(b'\n');
        for i in 0..self.len() {
            push_row(
                &mut buf,
                &self.invoice[i],
                &self.stock_code[i],
                &self.description[i],
                self.quantity[i],
                self.invoice_date[i],
                self.price[i],
                self.customer_id[i],
                &self.country[i],
            );
            if buf.len() >= FLUSH_AT {
                w.write_all(&buf)?;
                buf.clear();
            }
        }
        w.write_all(&buf)?;
        w.flush()
    }
}

/// Rows are written to the writer in chunks of about this many bytes.
pub(crate) const FLUSH_AT: usize = 1 << 16;

/// Appends one CSV row (with its line break) in the layout of [`CSV_HEADER`] to `buf`.
///
/// Formats by hand: this is the hot loop of writing millions of rows. The bytes are those of
/// `{quantity},{date:%Y-%m-%d %H:%M:%S},{price:.2}` with std/chrono formatting.
#[allow(clippy::too_many_arguments)]
pub(crate) fn push_row(
    buf: &mut Vec<u8>,
    invoice: &str,
    stock_code: &str,
    description: &str,
    quantity: i64,
    d: NaiveDateTime,
    price: f64,
    customer: i64,
    country: &str,
) {
    push_field(buf, invoice);
    buf.push(b',');
    push_field(buf, stock_code);
    buf.push(b',');
    push_field(buf, description);
    buf.push(b',');
    push_int(buf, quantity);
    buf.push(b',');
    push_date(buf, d);
    buf.push(b',');
    push_price(buf, price);
    buf.push(b',');
    push_int(buf, customer);
    buf.push(b',');
    push_field(buf, country);
    buf.push(b'\n');
}

/// Appends `d` as `YYYY-MM-DD HH:MM:SS`, as chrono's `%Y-%m-%d %H:%M:%S` would.
pub(crate) fn push_date(buf: &mut Vec<u8>, d: NaiveDateTime) {
    let year = d.year();
    if (0..=9999).contains(&year) {
        let y = year as u32;
        push_2(buf, y / 100);
        push_2(buf, y % 100);
        for (sep, v) in [
            (b'-', d.month()),
            (b'-', d.day()),
            (b' ', d.hour()),
            (b':', d.minute()),
            (b':', d.second()),
        ] {
            buf.push(sep);
            push_2(buf, v);
        }
    } else {
        buf.extend_from_slice(d.format("%Y-%m-%d %H:%M:%S").to_string().as_bytes());
    }
}

/// Appends `price` with 2 decimals, as `format!("{price:.2}")` would.
pub(crate) fn push_price(buf: &mut Vec<u8>, price: f64) {
    let cents = (price * 100.0).round();
    if price >= 0.0 && cents < 1e15 && (price * 100.0 - cents).abs() < 1e-6 {
        let cents = cents as i64;
        push_int(buf, cents / 100);
        buf.push(b'.');
        push_2(buf, (cents % 100) as u32);
    } else {
        buf.extend_from_slice(format!("{price:.2}").as_bytes());
    }
}

/// Appends the decimal digits of `v`.
pub(crate) fn push_int(buf: &mut Vec<u8>, v: i64) {
    if v < 0 {
        buf.push(b'-');
    }
    let mut u = v.unsigned_abs();
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (u % 10) as u8;
        u /= 10;
        if u == 0 {
            break;
        }
    }
    buf.extend_from_slice(&digits[i..]);
}

/// Appends `v < 100` as two digits.
fn push_2(buf: &mut Vec<u8>, v: u32) {
    buf.extend_from_slice(&[b'0' + (v / 10) as u8, b'0' + (v % 10) as u8]);
}

/// Appends `s`, quoted (with doubled quotes) if it holds a comma, quote or line break.
pub(crate) fn push_field(buf: &mut Vec<u8>, s: &str) {
    if s.bytes().any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r')) {
        buf.push(b'"');
        buf.extend_from_slice(s.replace('"', "\"\"").as_bytes());
        buf.push(b'"');
    } else {
        buf.extend_from_slice(s.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn row(quantity: i64, d: NaiveDateTime, price: f64, desc: &str) -> String {
        let mut buf = Vec::new();
        push_row(
            &mut buf, "C1", "85123A", desc, quantity, d, price, 12346, "EIRE",
        );
        String::from_utf8(buf).unwrap()
    }

    #[test]
    fn rows_are_formatted_like_std() {
        let d = NaiveDate::from_ymd_opt(2011, 3, 4)
            .unwrap()
            .and_hms_opt(7, 5, 9)
            .unwrap();
        assert_eq!(
            row(-12, d, 2.55, "RED MUG"),
            "C1,85123A,RED MUG,-12,2011-03-04 07:05:09,2.55,12346,EIRE\n"
        );
        let prices = [
            0.0, 0.01, 0.1, 1.0, 2.5, 10.05, 38970.0, 0.285, 1e-9, 123456.789, -53594.36, 1e20,
        ];
        for price in prices {
            let want = format!("{price:.2}");
            assert_eq!(
                row(1, d, price, "X").split(',').nth(5).unwrap(),
                want,
                "{price}"
            );
        }
        for q in [0, 1, 9, 10, 99, 100, -1, -80995, i64::MAX, i64::MIN] {
            assert_eq!(
                row(q, d, 1.0, "X").split(',').nth(3).unwrap(),
                q.to_string()
            );
        }
        let late = NaiveDate::from_ymd_opt(12345, 12, 31)
            .unwrap()
            .and_hms_opt(23, 59, 0)
            .unwrap();
        let want = late.format("%Y-%m-%d %H:%M:%S").to_string();
        assert_eq!(row(1, late, 1.0, "X").split(',').nth(4).unwrap(), want);
        let quoted = "C1,85123A,\"A, \"\"B\"\"\",1,2011-03-04 07:05:09,1.00,12346,EIRE\n";
        assert_eq!(row(1, d, 1.0, "A, \"B\""), quoted);
    }
}
