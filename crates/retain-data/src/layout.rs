//! How a transaction file's columns map onto retain's vocabulary.

use serde::{Deserialize, Serialize};

use crate::DataError;

/// Column mapping and cleaning rules for a transaction file.
///
/// Written in `retain.toml` under `[layout]`, or chosen by preset (`--layout online-retail-ii`).
/// A line's value is `amount`, or `quantity x unit_price` when there is no amount column.
///
/// | Name | Default | Purpose |
/// |---|---|---|
/// | `client_id` | required | integer client identifier; lines without one are dropped |
/// | `timestamp` | required | date or date-time of the line |
/// | `timestamp_format` | detected | chrono format of `timestamp` when it is text |
/// | `amount` | none | line value (negative for returns) |
/// | `quantity`, `unit_price` | none | line value = quantity x unit price when `amount` is absent |
/// | `invoice` | none | order id; without it each line is its own order |
/// | `product` | none | product id (product breadth) |
/// | `category` | none | a categorical such as country or region |
/// | `separator` | `","` | CSV field separator; `"whitespace"` for runs of blanks |
/// | `has_header` | `true` | whether the CSV's first line names the columns |
/// | `returns` | see [`ReturnRule`] | which lines are returns |
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Layout {
    /// Name of this layout (preset name or "custom"), recorded in model cards.
    #[serde(default = "custom")]
    pub name: String,
    /// Client identifier column.
    pub client_id: String,
    /// Timestamp (or date) column.
    pub timestamp: String,
    /// chrono format of the timestamp when stored as text; detected from the data if absent.
    #[serde(default)]
    pub timestamp_format: Option<String>,
    /// Line value column.
    #[serde(default)]
    pub amount: Option<String>,
    /// Quantity column.
    #[serde(default)]
    pub quantity: Option<String>,
    /// Unit price column.
    #[serde(default)]
    pub unit_price: Option<String>,
    /// Invoice / order id column.
    #[serde(default)]
    pub invoice: Option<String>,
    /// Product id column.
    #[serde(default)]
    pub product: Option<String>,
    /// Categorical column (country, region, ...).
    #[serde(default)]
    pub category: Option<String>,
    /// CSV separator: a single character, or `whitespace`.
    #[serde(default = "comma")]
    pub separator: String,
    /// Whether the CSV has a header line.
    #[serde(default = "yes")]
    pub has_header: bool,
    /// Return and cleaning rules.
    #[serde(default)]
    pub returns: ReturnRule,
}

/// Which lines are returns, and which purchase lines are dropped as free.
///
/// A line is a return if any enabled rule matches. Return lines never create purchase days
/// but count in net revenue and return features.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReturnRule {
    /// Invoices starting with this prefix are returns (e.g. `C` for cancellations).
    #[serde(default)]
    pub invoice_prefix: Option<String>,
    /// Lines with a negative quantity are returns.
    #[serde(default = "yes")]
    pub negative_quantity: bool,
    /// Lines with a negative amount are returns.
    #[serde(default = "yes")]
    pub negative_amount: bool,
    /// Drop purchase (non-return) lines whose unit price (or amount, without a price column) is <= 0.
    #[serde(default)]
    pub drop_free_purchases: bool,
}

impl ReturnRule {
    /// The rules in words, for messages: `invoices starting with "C", negative quantities`.
    pub fn describe(&self) -> String {
        let mut v = Vec::new();
        if let Some(p) = &self.invoice_prefix {
            v.push(format!("invoices starting with {p:?}"));
        }
        if self.negative_quantity {
            v.push("negative quantities".to_string());
        }
        if self.negative_amount {
            v.push("negative amounts".to_string());
        }
        if v.is_empty() {
            "no return rule".to_string()
        } else {
            format!("returns are {}", v.join(", "))
        }
    }
}

impl Default for ReturnRule {
    fn default() -> Self {
        Self {
            invoice_prefix: None,
            negative_quantity: true,
            negative_amount: true,
            drop_free_purchases: false,
        }
    }
}

fn custom() -> String {
    "custom".into()
}
fn comma() -> String {
    ",".into()
}
fn yes() -> bool {
    true
}

/// The built-in layouts.
pub const PRESETS: &[&str] = &["online-retail-ii", "cdnow"];

impl Layout {
    /// The UCI Online Retail II layout (also the layout of `retain generate`'s sample data):
    /// `Invoice,StockCode,Description,Quantity,InvoiceDate,Price,Customer ID,Country`;
    /// C-invoices and negative quantities are returns; free purchase lines are dropped.
    pub fn online_retail_ii() -> Self {
        Self {
            name: "online-retail-ii".into(),
            client_id: "Customer ID".into(),
            timestamp: "InvoiceDate".into(),
            timestamp_format: Some("%Y-%m-%d %H:%M:%S".into()),
            amount: None,
            quantity: Some("Quantity".into()),
            unit_price: Some("Price".into()),
            invoice: Some("Invoice".into()),
            product: Some("StockCode".into()),
            category: Some("Country".into()),
            separator: ",".into(),
            has_header: true,
            returns: ReturnRule {
                invoice_prefix: Some("C".into()),
                negative_quantity: true,
                negative_amount: false,
                drop_free_purchases: true,
            },
        }
    }

    /// The CDNOW layout of Fader & Hardie: whitespace-separated, no header, columns
    /// master id, client id, date `YYYYMMDD`, number of CDs, dollar value. $0 lines are kept.
    pub fn cdnow() -> Self {
        Self {
            name: "cdnow".into(),
            client_id: "column_2".into(),
            timestamp: "column_3".into(),
            timestamp_format: Some("%Y%m%d".into()),
            amount: Some("column_5".into()),
            quantity: Some("column_4".into()),
            unit_price: None,
            invoice: None,
            product: None,
            category: None,
            separator: "whitespace".into(),
            has_header: false,
            returns: ReturnRule::default(),
        }
    }

    /// A preset by name (see [`PRESETS`]).
    pub fn preset(name: &str) -> Result<Self, DataError> {
        match name {
            "online-retail-ii" | "online_retail_ii" | "orii" => Ok(Self::online_retail_ii()),
            "cdnow" => Ok(Self::cdnow()),
            other => Err(DataError::Config(format!(
                "unknown layout preset `{other}`; the presets are: {}",
                PRESETS.join(", ")
            ))),
        }
    }

    /// Checks that the mapping is usable (a value rule, a sane separator).
    pub fn check(&self) -> Result<(), DataError> {
        if self.amount.is_none() && (self.quantity.is_none() || self.unit_price.is_none()) {
            return Err(DataError::Config(
                "the layout needs `amount`, or both `quantity` and `unit_price`, to value a line"
                    .into(),
            ));
        }
        if self.returns.invoice_prefix.as_deref() == Some("") {
            return Err(DataError::Config(
                "[layout.returns] invoice_prefix is empty: every invoice starts with it, so every \
                 line would be a return; remove the key, or give the prefix (e.g. \"C\")"
                    .into(),
            ));
        }
        if self.separator != "whitespace" && self.separator.len() != 1 {
            return Err(DataError::Config(format!(
                "separator must be one character or `whitespace`, not `{}`",
                self.separator
            )));
        }
        Ok(())
    }

    /// The input columns this layout reads, with their role, in a fixed order.
    pub fn columns(&self) -> Vec<(&'static str, &str)> {
        let mut v = vec![
            ("client_id", self.client_id.as_str()),
            ("timestamp", self.timestamp.as_str()),
        ];
        for (role, c) in [
            ("amount", &self.amount),
            ("quantity", &self.quantity),
            ("unit_price", &self.unit_price),
            ("invoice", &self.invoice),
            ("product", &self.product),
            ("category", &self.category),
        ] {
            if let Some(c) = c {
                v.push((role, c.as_str()));
            }
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_are_valid_and_toml_round_trips() {
        for p in PRESETS {
            let l = Layout::preset(p).unwrap();
            l.check().unwrap();
            let text = toml::to_string(&l).unwrap();
            let back: Layout = toml::from_str(&text).unwrap();
            assert_eq!(back, l);
        }
        assert!(Layout::preset("nope").is_err());
    }

    #[test]
    fn a_layout_without_a_value_rule_is_refused() {
        let mut l = Layout::cdnow();
        l.amount = None;
        let e = l.check().unwrap_err().to_string();
        assert!(e.contains("amount"), "{e}");
    }
}
