//! The configuration of the transaction-log generator.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::contacts_config::ContactsConfig;
use crate::error::{SimError, check_positive};
use crate::truth::{BgNbdTruth, GammaGammaTruth};

/// A country and its share of the clients.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CountryWeight {
    /// The country name as written in the `Country` column (no comma, quote or newline).
    pub name: String,
    /// Relative weight; the weights need not sum to 1.
    pub weight: f64,
}

impl CountryWeight {
    /// A country with its relative weight.
    pub fn new(name: impl Into<String>, weight: f64) -> Self {
        Self {
            name: name.into(),
            weight,
        }
    }
}

/// Parameters of [`generate`](crate::generate): a client base in the Online Retail II layout.
///
/// Clients make their first purchase at a uniform time in the first `acquisition_share` of the
/// span, then buy as BG/NBD clients (`bgnbd`, weeks) until the end of the span. Each purchase is
/// one invoice whose value is a Gamma-Gamma spend (`gamma_gamma`), split into lines of products
/// from a catalogue. Each client has a country, a preferred weekday and a preferred hour.
/// Some invoices are partly returned a few days later (a `C` invoice).
///
/// | Name | Default | Purpose | Range |
/// |---|---|---|---|
/// | `n_clients` | 3000 | number of clients (each buys at least once) | [1, 50,000,000] |
/// | `start_date` | 2022-01-01 | first day of the span | any date |
/// | `span_days` | 730 | length of the span in days; the last day is `start_date + span_days - 1` | [7, 36,500] |
/// | `acquisition_share` | 0.6 | first purchases are uniform over this first share of the span | (0, 1] |
/// | `bgnbd` | r 0.75, alpha 9.0, a 0.3, b 6.0 | purchase process, weeks | see [`BgNbdTruth`] |
/// | `gamma_gamma` | p 4.0, q 3.5, gamma 180 | invoice value (mean 288) | see [`GammaGammaTruth`] |
/// | `return_probability` | 0.03 | probability that an invoice is partly returned | [0, 1] |
/// | `max_return_delay_days` | 14 | a return comes 1..=this many days after its invoice (dropped if after the span) | [1, 365] |
/// | `countries` | United Kingdom 0.80, Germany 0.05, France 0.045, EIRE 0.025, Netherlands 0.02, Spain 0.015, Belgium 0.015, Switzerland 0.01, Portugal 0.01, Australia 0.01 | country of each client, by weight | non-empty, weights >= 0 with a positive sum |
/// | `weekday_habit` | 0.6 | mean probability that a purchase moves (by at most 3 days) to the client's preferred weekday | [0, 1] |
/// | `hour_spread` | 1.5 | standard deviation (hours) of an invoice's hour around the client's preferred hour; hours stay in 7..=20 | [0, 24] |
/// | `n_products` | 400 | size of the product catalogue | [1, 50,000] |
/// | `mean_lines_per_invoice` | 3.0 | about the mean number of lines of an invoice (more for larger invoices) | [1, 100] |
/// | `first_customer_id` | 12346 | `Customer ID` of the first client; ids are consecutive | [0, 2^53] |
/// | `first_invoice` | 500000 | number of the first invoice; numbers follow time order | [0, 2^53] |
/// | `seed` | 42 | seed of every random draw | any |
/// | `contacts` | none | the contacts simulation ([`ContactsConfig`]); when none, nothing about contacts is drawn and the log is byte for byte what it was before contacts existed | see [`ContactsConfig`] |
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SimConfig {
    /// Number of clients.
    pub n_clients: usize,
    /// First day of the span.
    pub start_date: NaiveDate,
    /// Length of the span in days.
    pub span_days: u32,
    /// First purchases are uniform over this first share of the span.
    pub acquisition_share: f64,
    /// The BG/NBD purchase process, in weeks.
    pub bgnbd: BgNbdTruth,
    /// The Gamma-Gamma distribution of invoice values.
    pub gamma_gamma: GammaGammaTruth,
    /// Probability that an invoice is partly returned.
    pub return_probability: f64,
    /// A return comes 1..=`max_return_delay_days` days after its invoice.
    pub max_return_delay_days: u32,
    /// Countries of the clients, by weight.
    pub countries: Vec<CountryWeight>,
    /// Mean probability that a purchase moves to the client's preferred weekday.
    pub weekday_habit: f64,
    /// Standard deviation (hours) of an invoice's hour around the client's preferred hour.
    pub hour_spread: f64,
    /// Size of the product catalogue.
    pub n_products: usize,
    /// About the mean number of lines of an invoice.
    pub mean_lines_per_invoice: f64,
    /// `Customer ID` of the first client.
    pub first_customer_id: i64,
    /// Number of the first invoice.
    pub first_invoice: u64,
    /// Seed of every random draw.
    pub seed: u64,
    /// The contacts simulation, if any (not written to JSON when none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contacts: Option<ContactsConfig>,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            n_clients: 3000,
            start_date: NaiveDate::from_ymd_opt(2022, 1, 1).expect("valid date"),
            span_days: 730,
            acquisition_share: 0.6,
            bgnbd: BgNbdTruth::default(),
            gamma_gamma: GammaGammaTruth::default(),
            return_probability: 0.03,
            max_return_delay_days: 14,
            countries: [
                ("United Kingdom", 0.80),
                ("Germany", 0.05),
                ("France", 0.045),
                ("EIRE", 0.025),
                ("Netherlands", 0.02),
                ("Spain", 0.015),
                ("Belgium", 0.015),
                ("Switzerland", 0.01),
                ("Portugal", 0.01),
                ("Australia", 0.01),
            ]
            .into_iter()
            .map(|(n, w)| CountryWeight::new(n, w))
            .collect(),
            weekday_habit: 0.6,
            hour_spread: 1.5,
            n_products: 400,
            mean_lines_per_invoice: 3.0,
            first_customer_id: 12346,
            first_invoice: 500_000,
            seed: 42,
            contacts: None,
        }
    }
}

/// Largest id or invoice number accepted (exact in an f64).
const MAX_ID: u64 = 1 << 53;

fn check_range(
    field: &str,
    value: f64,
    lo: f64,
    hi: f64,
    reason: &'static str,
) -> Result<(), SimError> {
    if value.is_finite() && (lo..=hi).contains(&value) {
        Ok(())
    } else {
        Err(SimError::invalid(field, value, reason))
    }
}

impl SimConfig {
    /// The default configuration with another number of clients and seed.
    pub fn with_clients(n_clients: usize, seed: u64) -> Self {
        Self {
            n_clients,
            seed,
            ..Self::default()
        }
    }

    /// The default configuration with contacts ([`ContactsConfig::default`]), another number
    /// of clients and seed: the sample with its contacts log.
    pub fn with_contacts(n_clients: usize, seed: u64) -> Self {
        Self {
            contacts: Some(ContactsConfig::default()),
            ..Self::with_clients(n_clients, seed)
        }
    }

    /// The last day of the span, `start_date + span_days - 1`.
    pub fn end_date(&self) -> NaiveDate {
        self.start_date + chrono::Days::new(u64::from(self.span_days.max(1)) - 1)
    }

    /// Checks every parameter against the range in the table above; the error names the field.
    pub fn check(&self) -> Result<(), SimError> {
        if !(1..=50_000_000).contains(&self.n_clients) {
            return Err(SimError::invalid(
                "n_clients",
                self.n_clients,
                "must be in [1, 50000000]",
            ));
        }
        if !(7..=36_500).contains(&self.span_days) {
            return Err(SimError::invalid(
                "span_days",
                self.span_days,
                "must be in [7, 36500]",
            ));
        }
        if self
            .start_date
            .checked_add_days(chrono::Days::new(u64::from(self.span_days) + 400))
            .is_none()
        {
            return Err(SimError::invalid(
                "start_date",
                self.start_date,
                "the span must end before year 262143",
            ));
        }
        let share = self.acquisition_share;
        if !(share.is_finite() && share > 0.0 && share <= 1.0) {
            return Err(SimError::invalid(
                "acquisition_share",
                share,
                "must be in (0, 1]",
            ));
        }
        self.bgnbd.check()?;
        self.gamma_gamma.check()?;
        check_range(
            "return_probability",
            self.return_probability,
            0.0,
            1.0,
            "must be in [0, 1]",
        )?;
        if !(1..=365).contains(&self.max_return_delay_days) {
            let v = self.max_return_delay_days;
            return Err(SimError::invalid(
                "max_return_delay_days",
                v,
                "must be in [1, 365]",
            ));
        }
        if self.countries.is_empty() || self.countries.len() > usize::from(u16::MAX) {
            let n = self.countries.len();
            return Err(SimError::invalid(
                "countries",
                format!("{n} entries"),
                "needs 1 to 65535 countries",
            ));
        }
        for (i, c) in self.countries.iter().enumerate() {
            if c.name.trim().is_empty() || c.name.contains([',', '"', '\n', '\r']) {
                let reason = "must be non-empty, without comma, quote or newline";
                return Err(SimError::invalid(
                    format!("countries[{i}].name"),
                    format!("{:?}", c.name),
                    reason,
                ));
            }
            check_range(
                &format!("countries[{i}].weight"),
                c.weight,
                0.0,
                f64::MAX,
                "must be finite and >= 0",
            )?;
        }
        let total: f64 = self.countries.iter().map(|c| c.weight).sum();
        check_positive("countries (sum of weights)", total)?;
        check_range(
            "weekday_habit",
            self.weekday_habit,
            0.0,
            1.0,
            "must be in [0, 1]",
        )?;
        check_range(
            "hour_spread",
            self.hour_spread,
            0.0,
            24.0,
            "must be in [0, 24]",
        )?;
        if !(1..=50_000).contains(&self.n_products) {
            return Err(SimError::invalid(
                "n_products",
                self.n_products,
                "must be in [1, 50000]",
            ));
        }
        let lines = self.mean_lines_per_invoice;
        check_range(
            "mean_lines_per_invoice",
            lines,
            1.0,
            100.0,
            "must be in [1, 100]",
        )?;
        let last_id = self.first_customer_id.checked_add(self.n_clients as i64);
        if self.first_customer_id < 0 || last_id.is_none_or(|l| l as u64 > MAX_ID) {
            let reason = "must be >= 0, with first_customer_id + n_clients <= 2^53";
            return Err(SimError::invalid(
                "first_customer_id",
                self.first_customer_id,
                reason,
            ));
        }
        if self.first_invoice > MAX_ID {
            return Err(SimError::invalid(
                "first_invoice",
                self.first_invoice,
                "must be <= 2^53",
            ));
        }
        if let Some(contacts) = &self.contacts {
            contacts.check()?;
        }
        Ok(())
    }
}
