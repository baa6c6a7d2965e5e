//! Where the generator's invoices go: the in-memory columns or a CSV writer.

use std::io::{self, Write};

use chrono::NaiveDateTime;

use crate::catalogue::Catalogue;
use crate::transactions::{FLUSH_AT, Transactions, push_date, push_field, push_int, push_price};

/// One invoice, ready to be written: its lines are `(product index, quantity)`.
pub(crate) struct Invoice<'a> {
    pub(crate) invoice: &'a str,
    pub(crate) date: NaiveDateTime,
    pub(crate) customer: i64,
    pub(crate) country: &'a str,
    pub(crate) lines: &'a [(u32, i64)],
}

/// Receives the invoices of the log in order.
pub(crate) trait Sink {
    /// Called once before any invoice, with the catalogue and about the number of rows.
    fn start(&mut self, catalogue: &Catalogue, rows: usize);
    /// Takes one invoice.
    fn invoice(&mut self, catalogue: &Catalogue, inv: &Invoice<'_>) -> io::Result<()>;
}

impl Sink for Transactions {
    fn start(&mut self, _catalogue: &Catalogue, n: usize) {
        self.invoice.reserve(n);
        self.stock_code.reserve(n);
        self.description.reserve(n);
        self.quantity.reserve(n);
        self.invoice_date.reserve(n);
        self.price.reserve(n);
        self.customer_id.reserve(n);
        self.country.reserve(n);
    }

    fn invoice(&mut self, c: &Catalogue, inv: &Invoice<'_>) -> io::Result<()> {
        for &(product, qty) in inv.lines {
            let p = product as usize;
            self.invoice.push(inv.invoice.to_owned());
            self.stock_code.push(c.stock_code[p].clone());
            self.description.push(c.description[p].clone());
            self.quantity.push(qty);
            self.invoice_date.push(inv.date);
            self.price.push(c.price[p]);
            self.customer_id.push(inv.customer);
            self.country.push(inv.country.to_owned());
        }
        Ok(())
    }
}

/// Writes invoices as CSV rows, in chunks of about [`FLUSH_AT`] bytes.
///
/// The parts shared by rows are rendered once: `StockCode,Description,` and `Price` per
/// product, and the invoice, date and `Customer ID,Country` per invoice. The bytes are those of
/// [`Transactions::write_csv`] (both use the same field formatters).
pub(crate) struct CsvSink<W: Write> {
    pub(crate) w: W,
    pub(crate) buf: Vec<u8>,
    pub(crate) rows: u64,
    /// Per product: `StockCode,Description,` then `Price`, as byte ranges of `rendered`.
    product_head: Vec<(usize, usize)>,
    product_price: Vec<(usize, usize)>,
    rendered: Vec<u8>,
    /// Per invoice scratch: `Invoice,`, `InvoiceDate,`... see `invoice`.
    head: Vec<u8>,
    date: Vec<u8>,
    tail: Vec<u8>,
}

impl<W: Write> CsvSink<W> {
    /// A sink writing to `w`, after `header` (written first).
    pub(crate) fn new(w: W, header: &str) -> Self {
        let mut buf = Vec::with_capacity(FLUSH_AT + 4096);
        buf.extend_from_slice(header.as_bytes());
        buf.push(b'\n');
        Self {
            w,
            buf,
            rows: 0,
            product_head: Vec::new(),
            product_price: Vec::new(),
            rendered: Vec::new(),
            head: Vec::new(),
            date: Vec::new(),
            tail: Vec::new(),
        }
    }

    /// Writes what is left and flushes.
    pub(crate) fn finish(&mut self) -> io::Result<()> {
        self.w.write_all(&self.buf)?;
        self.buf.clear();
        self.w.flush()
    }
}

impl<W: Write> Sink for CsvSink<W> {
    fn start(&mut self, c: &Catalogue, _rows: usize) {
        for p in 0..c.price.len() {
            let at = self.rendered.len();
            push_field(&mut self.rendered, &c.stock_code[p]);
            self.rendered.push(b',');
            push_field(&mut self.rendered, &c.description[p]);
            self.rendered.push(b',');
            let mid = self.rendered.len();
            push_price(&mut self.rendered, c.price[p]);
            self.product_head.push((at, mid));
            self.product_price.push((mid, self.rendered.len()));
        }
    }

    fn invoice(&mut self, _c: &Catalogue, inv: &Invoice<'_>) -> io::Result<()> {
        self.head.clear();
        push_field(&mut self.head, inv.invoice);
        self.head.push(b',');
        self.date.clear();
        self.date.push(b',');
        push_date(&mut self.date, inv.date);
        self.date.push(b',');
        self.tail.clear();
        self.tail.push(b',');
        push_int(&mut self.tail, inv.customer);
        self.tail.push(b',');
        push_field(&mut self.tail, inv.country);
        self.tail.push(b'\n');
        for &(product, qty) in inv.lines {
            let p = product as usize;
            let (a, b) = self.product_head[p];
            let (c, d) = self.product_price[p];
            let buf = &mut self.buf;
            buf.extend_from_slice(&self.head);
            buf.extend_from_slice(&self.rendered[a..b]);
            push_int(buf, qty);
            buf.extend_from_slice(&self.date);
            buf.extend_from_slice(&self.rendered[c..d]);
            buf.extend_from_slice(&self.tail);
        }
        self.rows += inv.lines.len() as u64;
        if self.buf.len() >= FLUSH_AT {
            self.w.write_all(&self.buf)?;
            self.buf.clear();
        }
        Ok(())
    }
}
