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
    /// The writer is buffered here; pass a plain `File` or any other `Write`.
    ///
    /// # Errors
    /// Any I/O error of `w`.
    pub fn write_csv(&self, w: impl Write) -> io::Result<()> {
        let mut w = io::BufWriter::with_capacity(1 << 16, w);
        writeln!(w, "{CSV_HEADER}")?;
        for i in 0..self.len() {
            let d = self.invoice_date[i];
            write_field(&mut w, &self.invoice[i])?;
            w.write_all(b",")?;
            write_field(&mut w, &self.stock_code[i])?;
            w.write_all(b",")?;
            write_field(&mut w, &self.description[i])?;
            write!(
                w,
                ",{},{:04}-{:02}-{:02} {:02}:{:02}:{:02},{:.2},{},",
                self.quantity[i],
                d.year(),
                d.month(),
                d.day(),
                d.hour(),
                d.minute(),
                d.second(),
                self.price[i],
                self.customer_id[i],
            )?;
            write_field(&mut w, &self.country[i])?;
            w.write_all(b"\n")?;
        }
        w.flush()
    }
}

/// Writes `s`, quoted (with doubled quotes) if it holds a comma, quote or line break.
fn write_field(w: &mut impl Write, s: &str) -> io::Result<()> {
    if s.contains([',', '"', '\n', '\r']) {
        write!(w, "\"{}\"", s.replace('"', "\"\""))
    } else {
        w.write_all(s.as_bytes())
    }
}
