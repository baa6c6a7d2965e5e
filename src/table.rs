//! Aligned terminal tables with headers: numbers right-aligned, text left-aligned, and the
//! number formats of the HTML report (thousands separators, money, percentages, durations).
//!
//! ```text
//! period   active at start  retention
//! 2023-01            1,204      81.2%
//! ```

pub use retain_report::format::{duration, fixed, money, percent, thousands};

/// Where a column's cells sit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    /// Flush left (text).
    Left,
    /// Flush right (numbers).
    Right,
}

/// A table of text cells under a header row.
#[derive(Debug, Clone, Default)]
pub struct Table {
    headers: Vec<String>,
    align: Vec<Option<Align>>,
    rows: Vec<Vec<String>>,
}

/// Whether a cell reads as a number: digits with separators, a sign, a decimal point, a
/// percent sign, or a unit after a space (`4.2 s`); `-` (missing) counts as a number.
fn numeric(cell: &str) -> bool {
    let head = cell.split(' ').next().unwrap_or("");
    let body = head
        .trim_start_matches(['-', '+'])
        .trim_end_matches(['%', 'x']);
    cell == "-"
        || (!body.is_empty()
            && body
                .chars()
                .all(|c| c.is_ascii_digit() || c == ',' || c == '.'))
}

impl Table {
    /// A table with these column headers; each column's alignment is detected from its cells
    /// (right when every cell is a number) unless set with [`Table::align`].
    pub fn new<S: AsRef<str>>(headers: &[S]) -> Self {
        Self {
            headers: headers.iter().map(|h| h.as_ref().to_string()).collect(),
            align: vec![None; headers.len()],
            rows: Vec::new(),
        }
    }

    /// Sets the alignment of column `col`.
    pub fn align(mut self, col: usize, a: Align) -> Self {
        if let Some(x) = self.align.get_mut(col) {
            *x = Some(a);
        }
        self
    }

    /// Adds a row (missing cells are blank, extra cells are dropped).
    pub fn row(&mut self, cells: Vec<String>) {
        let mut cells = cells;
        cells.resize(self.headers.len(), String::new());
        self.rows.push(cells);
    }

    /// The table as lines: the header, then the rows, columns two spaces apart, no trailing
    /// spaces.
    pub fn lines(&self) -> Vec<String> {
        let n = self.headers.len();
        let width = |c: usize| {
            self.rows
                .iter()
                .map(|r| r[c].chars().count())
                .chain([self.headers[c].chars().count()])
                .max()
                .unwrap_or(0)
        };
        let widths: Vec<usize> = (0..n).map(width).collect();
        let aligns: Vec<Align> = (0..n)
            .map(|c| {
                self.align[c].unwrap_or_else(|| {
                    let cells: Vec<&String> = self
                        .rows
                        .iter()
                        .map(|r| &r[c])
                        .filter(|s| !s.is_empty())
                        .collect();
                    if !cells.is_empty() && cells.iter().all(|s| numeric(s)) {
                        Align::Right
                    } else {
                        Align::Left
                    }
                })
            })
            .collect();
        let line = |cells: &[String]| {
            let mut s = String::new();
            for c in 0..n {
                if c > 0 {
                    s.push_str("  ");
                }
                let pad = widths[c] - cells[c].chars().count();
                match aligns[c] {
                    Align::Left => {
                        s.push_str(&cells[c]);
                        s.push_str(&" ".repeat(pad));
                    }
                    Align::Right => {
                        s.push_str(&" ".repeat(pad));
                        s.push_str(&cells[c]);
                    }
                }
            }
            s.trim_end().to_string()
        };
        std::iter::once(line(&self.headers))
            .chain(self.rows.iter().map(|r| line(r)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligns_numbers_right_and_text_left() {
        let mut t = Table::new(&["name", "clients", "share"]);
        t.row(vec!["a".into(), thousands(1234), percent(Some(0.5))]);
        t.row(vec!["longer".into(), thousands(7), "-".into()]);
        assert_eq!(
            t.lines(),
            vec![
                "name    clients  share",
                "a         1,234  50.0%",
                "longer        7      -",
            ]
        );
    }

    #[test]
    fn a_forced_alignment_wins() {
        let mut t = Table::new(&["id", "x"]).align(0, Align::Left);
        t.row(vec!["12".into(), "1".into()]);
        t.row(vec!["3".into(), "22".into()]);
        assert_eq!(t.lines(), vec!["id   x", "12   1", "3   22"]);
    }
}
