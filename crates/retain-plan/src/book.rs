//! What the planner knows of each client, gathered from the scored list, the client
//! attributes and the contacts log: the one place planning reads polars tables.
//!
//! - [`ClientBook`]: per client (in the scored list's order) its churn probability, value,
//!   RFM inputs, usual purchase time, consent, time zone, segment and margin;
//! - [`ContactBook`]: per client its contacts on each planned channel (answered or not), the
//!   local weekday and hour of each, when it last got each action, and how many contacts it
//!   had in the contact-pressure window. Built in one pass over the contacts log, which the
//!   reader sorted by client and time.

use std::collections::HashMap;

use polars::prelude::*;
use retain_data::{ClientAttributes, Contacts, TimeZoneSpec, client_cols, contact_cols};

use crate::config::PlanConfig;
use crate::shrink::Counts;
use crate::window::Cells;

/// Errors gathering the planner's inputs.
#[derive(Debug, thiserror::Error)]
pub enum BookError {
    /// A column the planner needs is missing or of the wrong type.
    #[error("the planner's input: {0}")]
    Polars(#[from] PolarsError),
    /// Inputs that do not fit together.
    #[error("{0}")]
    Invalid(String),
}

/// Per client, in the scored list's order.
#[derive(Debug, Clone, Default)]
pub struct ClientBook {
    /// Client ids.
    pub ids: Vec<i64>,
    /// P(churn) over the horizon (for a model without probabilities: the risk percentile).
    pub p_churn: Vec<f64>,
    /// Value over the horizon (CLV; 0 without a value model).
    pub value: Vec<f64>,
    /// Whether `value` comes from a value model.
    pub has_value_model: bool,
    /// Days since the last purchase.
    pub recency: Vec<f64>,
    /// Purchase days.
    pub frequency: Vec<f64>,
    /// Revenue (net, all time).
    pub monetary: Vec<f64>,
    /// Revenue over the key-client period (for `key_by = revenue`).
    pub period_revenue: Vec<f64>,
    /// Mean order value.
    pub mean_order_value: Vec<f64>,
    /// Usual purchase weekday (0 = Monday) and hour, in the shop's clock (taken as UTC).
    pub habit: Vec<Option<(u8, u8)>>,
    /// Consent per planned channel (bit c = channel c of the config).
    pub consent: Vec<u32>,
    /// Whether the client asked not to be contacted.
    pub do_not_contact: Vec<bool>,
    /// The client's time zone (UTC when unknown).
    pub zone: Vec<TimeZoneSpec>,
    /// The clients file's segment (index into `segment_names`), when it has one.
    pub segment: Option<Vec<u32>>,
    /// Names of the clients file's segments (`""` for clients without one).
    pub segment_names: Vec<String>,
    /// Gross margin (1 when unknown).
    pub margin: Vec<f64>,
    /// Whether a clients file gave the consent (else every channel is allowed).
    pub consent_on_record: bool,
}

impl ClientBook {
    /// Number of clients.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether there are no clients.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Fills the attributes from the clients file (consent per planned channel, do not
    /// contact, time zone, segment, margin). Without a file every planned channel is allowed
    /// and the summary says so; with one, a client missing from it or without consent on
    /// record for a channel is not contacted on that channel.
    pub fn set_attributes(
        &mut self,
        config: &PlanConfig,
        attributes: Option<&ClientAttributes>,
    ) -> Result<(), BookError> {
        let n = self.len();
        let all = if config.channels.len() >= 32 {
            u32::MAX
        } else {
            (1u32 << config.channels.len()) - 1
        };
        self.consent = vec![all; n];
        self.do_not_contact = vec![false; n];
        self.zone = vec![TimeZoneSpec::default(); n];
        self.margin = vec![1.0; n];
        self.segment = None;
        self.segment_names = Vec::new();
        self.consent_on_record = false;
        let Some(attr) = attributes else {
            return Ok(());
        };
        self.consent_on_record = true;
        let f = attr.frame();
        let names: Vec<String> = f.get_column_names().iter().map(|s| s.to_string()).collect();
        let seg = if names.iter().any(|c| c == client_cols::SEGMENT) {
            Some(f.column(client_cols::SEGMENT)?.str()?.clone())
        } else {
            None
        };
        let margin = if names.iter().any(|c| c == client_cols::MARGIN) {
            Some(f.column(client_cols::MARGIN)?.f64()?.clone())
        } else {
            None
        };
        let mut seg_index: HashMap<String, u32> = HashMap::new();
        let mut seg_of = vec![0u32; n];
        if seg.is_some() {
            self.segment_names.push(String::new());
            seg_index.insert(String::new(), 0);
        }
        let zones = attr.time_zones();
        for (i, seg_i) in seg_of.iter_mut().enumerate() {
            let id = self.ids[i];
            let mut mask = 0u32;
            for (c, ch) in config.channels.iter().enumerate() {
                if attr.consent(id, &ch.name) {
                    mask |= 1 << c;
                }
            }
            self.consent[i] = mask;
            self.do_not_contact[i] = attr.do_not_contact(id);
            let Some(r) = attr.row_of(id) else { continue };
            if let Some(z) = zones.get(r).copied().flatten() {
                self.zone[i] = z;
            }
            if let Some(m) = margin.as_ref().and_then(|m| m.get(r)) {
                self.margin[i] = m;
            }
            if let Some(s) = seg.as_ref().and_then(|s| s.get(r)) {
                let next = seg_index.len() as u32;
                let k = *seg_index.entry(s.to_string()).or_insert_with(|| {
                    self.segment_names.push(s.to_string());
                    next
                });
                *seg_i = k;
            }
        }
        if seg.is_some() {
            self.segment = Some(seg_of);
        }
        Ok(())
    }
}

/// One contact of a client in business terms: its local weekday and hour, and whether it
/// was answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalContact {
    /// The planned channel's index.
    pub channel: u8,
    /// 0 = Monday, local time.
    pub weekday: u8,
    /// Hour, local time.
    pub hour: u8,
    /// Answered (responded or converted).
    pub answered: bool,
}

/// Per client, from the contacts log.
#[derive(Debug, Clone, Default)]
pub struct ContactBook {
    /// Planned channels.
    pub n_channels: usize,
    /// Actions of the catalogue.
    pub n_actions: usize,
    /// Per client and planned channel: treated contacts and answers (`i * n_channels + c`).
    pub counts: Vec<Counts>,
    /// Offsets of each client's contacts in `events` (`n + 1` entries).
    pub offsets: Vec<u32>,
    /// Treated contacts on planned channels, in local time.
    pub events: Vec<LocalContact>,
    /// Per client and action: the day number it last got the action (`i32::MIN` = never).
    pub last_action: Vec<i32>,
    /// Per client: contacts (any channel, treated) in the contact-pressure window before the
    /// planning period.
    pub recent: Vec<u32>,
    /// Per client: whether it appears in the log at all (control rows included).
    pub in_log: Vec<bool>,
    /// Log rows of clients absent from the scored list (not used).
    pub unknown_rows: u64,
    /// Log rows on channels the plan does not use (they count for contact pressure only).
    pub other_channel_rows: u64,
    /// Log rows used.
    pub rows: u64,
}

impl ContactBook {
    /// An empty book (no contacts log) for `n` clients.
    pub fn empty(n: usize, config: &PlanConfig) -> Self {
        Self {
            n_channels: config.channels.len(),
            n_actions: config.actions.len(),
            counts: vec![Counts::default(); n * config.channels.len()],
            offsets: vec![0; n + 1],
            events: Vec::new(),
            last_action: vec![i32::MIN; n * config.actions.len()],
            recent: vec![0; n],
            in_log: vec![false; n],
            unknown_rows: 0,
            other_channel_rows: 0,
            rows: 0,
        }
    }

    /// Gathers the log in one pass (module docs). `start_day` is the first day of the
    /// planning period (day number): contacts on or after it are not history and are left out.
    pub fn build(
        contacts: &Contacts,
        clients: &ClientBook,
        config: &PlanConfig,
        start_day: i32,
    ) -> Result<Self, BookError> {
        let n = clients.len();
        let mut book = Self::empty(n, config);
        let f = contacts.frame();
        let client = f.column(contact_cols::CLIENT)?.i64()?;
        let ts = f.column(contact_cols::TS)?.i64()?;
        let day = f.column(contact_cols::DAY)?.i32()?;
        let channel = f.column(contact_cols::CHANNEL)?.str()?;
        let action = f.column(contact_cols::ACTION)?.str()?;
        let outcome = f.column(contact_cols::OUTCOME)?.i8()?;
        let control = f.column(contact_cols::CONTROL)?.bool()?;
        let row_of: HashMap<i64, usize> = clients
            .ids
            .iter()
            .enumerate()
            .map(|(i, &c)| (c, i))
            .collect();
        let ch_index: HashMap<&str, usize> = config
            .channels
            .iter()
            .enumerate()
            .map(|(i, c)| (c.name.as_str(), i))
            .collect();
        let act_index: HashMap<&str, usize> = config
            .actions
            .iter()
            .enumerate()
            .map(|(i, a)| (a.id.as_str(), i))
            .collect();
        let cap_from = start_day - config.contact_cap.days as i32;
        // One pass over the log's columns, zipped (no per-row chunk lookups). The log is
        // sorted by client, so a client's row in the list is looked up once per run of rows.
        // Events are gathered with their client's row, then laid out client by client (a
        // counting sort: the list's order is not the log's).
        let mut gathered: Vec<(u32, LocalContact)> = Vec::with_capacity(f.height());
        let mut last: Option<(i64, Option<usize>)> = None;
        let rows = client
            .iter()
            .zip(ts.iter())
            .zip(day.iter())
            .zip(channel.iter())
            .zip(action.iter())
            .zip(outcome.iter())
            .zip(control.iter());
        for ((((((c, t), d), ch), a), o), ctl) in rows {
            let (Some(c), Some(t), Some(d)) = (c, t, d) else {
                continue;
            };
            if d >= start_day {
                continue;
            }
            let row = match last {
                Some((lc, r)) if lc == c => r,
                _ => {
                    let r = row_of.get(&c).copied();
                    last = Some((c, r));
                    r
                }
            };
            let Some(i) = row else {
                book.unknown_rows += 1;
                continue;
            };
            book.rows += 1;
            book.in_log[i] = true;
            if ctl == Some(true) {
                continue;
            }
            if d >= cap_from {
                book.recent[i] += 1;
            }
            if let Some(&k) = a.and_then(|a| act_index.get(a)) {
                let slot = &mut book.last_action[i * book.n_actions + k];
                *slot = (*slot).max(d);
            }
            let Some(&chi) = ch.and_then(|c| ch_index.get(c)) else {
                book.other_channel_rows += 1;
                continue;
            };
            let answered = o.is_some_and(|o| o >= 1);
            let k = &mut book.counts[i * book.n_channels + chi];
            k.attempts += 1;
            k.responses += u32::from(answered);
            let local = clients.zone[i].local_secs(t);
            let local_day = local.div_euclid(86_400);
            // 1970-01-01 was a Thursday (weekday 3, Monday = 0).
            let weekday = (local_day + 3).rem_euclid(7) as u8;
            let hour = (local.rem_euclid(86_400) / 3_600) as u8;
            gathered.push((
                i as u32,
                LocalContact {
                    channel: chi as u8,
                    weekday,
                    hour,
                    answered,
                },
            ));
        }
        let mut start = vec![0u32; n + 1];
        for (i, _) in &gathered {
            start[*i as usize + 1] += 1;
        }
        for i in 0..n {
            start[i + 1] += start[i];
        }
        book.offsets.clone_from(&start);
        let mut next = start;
        let filler = LocalContact {
            channel: 0,
            weekday: 0,
            hour: 0,
            answered: false,
        };
        book.events = vec![filler; gathered.len()];
        // the log's order within a client (by time) is kept
        for (i, e) in gathered {
            let slot = &mut next[i as usize];
            book.events[*slot as usize] = e;
            *slot += 1;
        }
        Ok(book)
    }

    /// The client's counts per planned channel.
    pub fn counts_of(&self, i: usize) -> &[Counts] {
        &self.counts[i * self.n_channels..(i + 1) * self.n_channels]
    }

    /// The client's contacts in local one-hour cells, each expecting `rates[channel]` answers
    /// (the client's estimated rate on the contact's channel).
    pub fn cells_of(&self, i: usize, rates: &[f64]) -> Cells {
        let mut cells = crate::window::empty_cells();
        self.add_cells(i, rates, &mut cells);
        cells
    }

    /// Adds the client's contacts to `cells` (as [`ContactBook::cells_of`] counts them).
    pub fn add_cells(&self, i: usize, rates: &[f64], cells: &mut Cells) {
        let (a, b) = (self.offsets[i] as usize, self.offsets[i + 1] as usize);
        for e in &self.events[a..b] {
            let c = &mut cells[usize::from(e.weekday)][usize::from(e.hour)];
            c.attempts += 1;
            c.responses += u32::from(e.answered);
            let r = rates.get(usize::from(e.channel)).copied().unwrap_or(0.0);
            c.expected += r;
            c.variance += r * (1.0 - r);
        }
    }

    /// The day the client last got action `a` (`None` = never).
    pub fn last_action_of(&self, i: usize, a: usize) -> Option<i32> {
        let d = self.last_action[i * self.n_actions + a];
        (d != i32::MIN).then_some(d)
    }
}

/// Reads the list columns the planner needs from the scored list and the features frame,
/// both with one row per client in the same order (`client_id` first): the churn probability
/// (`churn_probability`, else `1 - risk_rank / n` for a model without probabilities), the
/// value (`clv`, or 0), and from the features `days_since_last`, `frequency` (purchase days:
/// `frequency + 1`), `net_revenue`, `avg_invoice_value`, `preferred_weekday`,
/// `preferred_hour` (an hour of 0 counts as unknown: the features hold 0 when the data have
/// dates only).
pub fn client_book(list: &DataFrame, features: &DataFrame) -> Result<ClientBook, BookError> {
    let ids: Vec<i64> = list
        .column("client_id")?
        .i64()?
        .into_no_null_iter()
        .collect();
    let fids: Vec<i64> = features
        .column("client_id")?
        .i64()?
        .into_no_null_iter()
        .collect();
    if ids != fids {
        return Err(BookError::Invalid(
            "the scored list and the features hold different clients or orders".into(),
        ));
    }
    let n = ids.len();
    let f64s = |df: &DataFrame, name: &str| -> Result<Vec<f64>, BookError> {
        Ok(df
            .column(name)?
            .cast(&DataType::Float64)?
            .f64()?
            .iter()
            .map(|v| v.unwrap_or(0.0))
            .collect())
    };
    let has = |df: &DataFrame, name: &str| df.get_column_names().iter().any(|c| *c == name);
    let p_churn = if has(list, "churn_probability") {
        f64s(list, "churn_probability")?
    } else {
        let rank = f64s(list, "risk_rank")?;
        rank.iter().map(|r| 1.0 - r / n.max(1) as f64).collect()
    };
    let has_value_model = has(list, "clv");
    let value = if has_value_model {
        f64s(list, "clv")?
    } else {
        vec![0.0; n]
    };
    let weekday = f64s(features, "preferred_weekday")?;
    let hour = f64s(features, "preferred_hour")?;
    let habit = weekday
        .iter()
        .zip(&hour)
        .map(|(&d, &h)| {
            // hour 0 is what the features hold when the data have no clock time
            ((0.0..7.0).contains(&d) && (1.0..24.0).contains(&h)).then_some((d as u8, h as u8))
        })
        .collect();
    Ok(ClientBook {
        p_churn,
        value,
        has_value_model,
        recency: f64s(features, "days_since_last")?,
        frequency: f64s(features, "frequency")?
            .iter()
            .map(|f| f + 1.0)
            .collect(),
        monetary: f64s(features, "net_revenue")?,
        period_revenue: Vec::new(),
        mean_order_value: f64s(features, "avg_invoice_value")?,
        habit,
        ids,
        ..ClientBook::default()
    })
}
