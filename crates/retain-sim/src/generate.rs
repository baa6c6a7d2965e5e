//! The transaction-log generator: clients, invoices, lines and returns.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io::{self, Write};

use chrono::{Datelike, NaiveDateTime, TimeDelta};
use rand::distr::weighted::WeightedIndex;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Exp1, Poisson, StandardNormal};

use crate::catalogue::Catalogue;
use crate::config::SimConfig;
use crate::contact_truth::{ClientTruth, ContactTruth};
use crate::contacts::{
    Calendar, Contact, ContactLog, DAY, Drawn, Outcome, Reach, Scheduled, WEEK, outcomes, schedule,
    to_row,
};
use crate::contacts_config::ContactsConfig;
use crate::error::SimError;
use crate::process::{BgNbdSampler, SpendSampler};
use crate::response::{ClientBase, ClientModel};
use crate::sink::{CsvSink, Invoice, Sink};
use crate::transactions::{CSV_HEADER, Transactions};

/// First and last hour of the business day (inclusive).
pub(crate) const FIRST_HOUR: u32 = 7;
const LAST_HOUR: u32 = 20;
/// Relative weights of the preferred weekday, Monday first (few Saturday shoppers, as in
/// Online Retail II).
pub(crate) const WEEKDAY_WEIGHTS: [f64; 7] = [1.0, 1.1, 1.1, 1.2, 0.9, 0.1, 0.6];
/// Relative weights of the preferred hour, 7..=20 (a midday peak).
pub(crate) const HOUR_WEIGHTS: [f64; 14] = [
    0.2, 0.6, 1.0, 1.4, 1.6, 1.7, 1.6, 1.3, 1.0, 0.6, 0.4, 0.3, 0.2, 0.1,
];
/// Largest number of lines of one invoice.
const MAX_LINES: u64 = 200;
/// Stream of the catalogue draws (the clients use stream 0).
const CATALOGUE_STREAM: u64 = 1;
/// Keys (xor-ed into the seed) of the contact-related streams; each client's draws use its
/// `Customer ID` as the stream number, so they never touch the streams of the log above.
pub(crate) const PROFILE_KEY: u64 = 0x636f_6e74_6163_7473;
const REVIVE_KEY: u64 = 0x7265_7669_7665_6421;
const REVIVED_INVOICE_KEY: u64 = 0x7265_7669_7665_6469;

/// Where a purchase comes from, once contacts have had their effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    /// The client's own BG/NBD process (the only source without contacts).
    Natural,
    /// A purchase of the own process after a contact killed the client: its invoice is still
    /// drawn (so that every later invoice stays the same) but not written.
    Suppressed,
    /// A purchase after a contact revived the client, drawn from streams of its own.
    Revived,
}

/// A purchase before its invoice is drawn: when, whose, and what the invoice needs of the
/// client (carried along so that the time-ordered pass reads memory in order).
#[derive(Debug, Clone, Copy)]
struct Purchase {
    /// Seconds since `start_date` 00:00:00.
    ts: i64,
    client: Client,
    id: u32,
    source: Source,
}

/// A return waiting for its time; ordered by `(ts, seq)`, `seq` being the order of creation.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct PendingReturn {
    ts: i64,
    seq: u64,
    client: u32,
    lines: Vec<(u32, i64)>,
}

/// A client's habits: where it lives and when it shops.
#[derive(Debug, Clone, Copy)]
struct Habits {
    country: u16,
    weekday: u8,
    hour: u8,
    weekday_strength: f64,
}

/// What the invoice phase needs of a client.
#[derive(Debug, Clone, Copy)]
struct Client {
    nu: f64,
    country: u16,
    hour: u8,
}

/// Splits a spend into `k` lines whose sum of `qty * price` is close to `spend`.
///
/// Each line gets an Exponential share of the spend and buys `round(share / price)` units (at
/// least 1); the last line takes the remainder, so the error is about half a unit price unless
/// the cheapest possible lines already exceed the spend.
fn split_invoice<R: Rng>(
    rng: &mut R,
    catalogue: &Catalogue,
    spend: f64,
    k: usize,
    out: &mut Vec<(u32, i64)>,
) {
    let mut shares = [0.0_f64; MAX_LINES as usize];
    let shares = &mut shares[..k];
    for s in shares.iter_mut() {
        *s = Exp1.sample(rng);
    }
    let total: f64 = shares.iter().sum();
    let mut spent = 0.0;
    for (j, share) in shares.iter().enumerate() {
        let product = catalogue.popularity.sample(rng);
        let price = catalogue.price[product];
        let target = if j + 1 == k {
            spend - spent
        } else {
            spend * share / total
        };
        let qty = ((target / price).round() as i64).max(1);
        spent += qty as f64 * price;
        out.push((product as u32, qty));
    }
}

/// The hour and minute of an invoice, around the client's preferred hour.
pub(crate) fn clock<R: Rng>(rng: &mut R, preferred_hour: u8, spread: f64) -> i64 {
    let z: f64 = StandardNormal.sample(rng);
    let hour = (f64::from(preferred_hour) + spread * z)
        .round()
        .clamp(f64::from(FIRST_HOUR), f64::from(LAST_HOUR));
    let minute = rng.random_range(0..60);
    hour as i64 * 3600 + minute * 60
}

/// Generates a client base's transaction log in the Online Retail II layout.
///
/// Each client gets a country, a preferred weekday and hour, a first purchase uniform in the
/// first `acquisition_share` of the span, and then BG/NBD repeat purchases (`config.bgnbd`,
/// weeks) until the span's end; a purchase moves to the preferred weekday (at most 3 days
/// away, never before the first purchase nor onto another purchase day of the client) with a
/// client-specific probability around `weekday_habit`. Each purchase is one invoice whose value
/// is a Gamma-Gamma spend (`config.gamma_gamma`) split into lines of catalogue products; with
/// probability `return_probability` some of its lines come back 1..=`max_return_delay_days`
/// days later as a `C` invoice (dropped when that falls after the span). Invoices are numbered
/// from `first_invoice` in time order; rows are sorted by invoice date, then invoice number
/// (purchases before returns at the same minute).
///
/// The same config gives the same log, byte for byte. Memory is about 270 bytes per row (four
/// owned strings a row); the defaults give about 6 invoices and 18 rows per client, so
/// 1,000,000 clients take about 4.8 GB here.
///
/// To write a large log straight to a file without holding it in memory, use
/// [`generate_csv`]: it writes the same bytes as `generate(config)?.write_csv(w)`.
///
/// With `config.contacts` set, the log includes the effects of the contact history (see
/// [`generate_with_contacts`], which also returns the contacts and their truth); without it,
/// the log is the same as before contacts existed, byte for byte.
///
/// # Errors
/// [`SimError::InvalidParameter`] naming the first field of `config` outside its range
/// (see [`SimConfig::check`]).
pub fn generate(config: &SimConfig) -> Result<Transactions, SimError> {
    config.check()?;
    let mut out = Transactions::default();
    simulate(config, &mut out).map_err(SimError::Io)?;
    Ok(out)
}

/// Generates the same log as [`generate`] and writes it as CSV to `w`, row by row, without
/// holding the rows in memory; the bytes are those of [`Transactions::write_csv`]. Returns the
/// number of rows written (the header excluded). The writer is buffered here. Memory is about
/// 40 bytes per purchase (the purchase times are sorted before the invoices are drawn).
///
/// # Errors
/// [`SimError::InvalidParameter`] as for [`generate`] (nothing is written then), or
/// [`SimError::Io`] if writing fails.
pub fn generate_csv(config: &SimConfig, w: impl Write) -> Result<u64, SimError> {
    config.check()?;
    let mut sink = CsvSink::new(w, CSV_HEADER);
    simulate(config, &mut sink)
        .and_then(|_| sink.finish())
        .map_err(SimError::Io)?;
    Ok(sink.rows)
}

/// Everything a config with contacts generates: the transaction log (with the effects of the
/// contacts), the contacts log, and the truth of every client (its attributes, response model
/// and uplift).
#[derive(Debug, Clone, PartialEq)]
pub struct SimOutput {
    /// The transaction log, as [`generate`] returns it.
    pub transactions: Transactions,
    /// The contacts log.
    pub contacts: ContactLog,
    /// The clients' attributes and true response model.
    pub truth: ContactTruth,
}

/// Row counts of [`generate_csv_with_contacts`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SimCounts {
    /// Rows of the transaction log.
    pub transactions: u64,
    /// Rows of the contacts log.
    pub contacts: u64,
    /// Clients (rows of `clients.csv` and `contact_truth.csv`).
    pub clients: u64,
}

fn contacts_required(config: &SimConfig) -> Result<&ContactsConfig, SimError> {
    config.contacts.as_ref().ok_or_else(|| {
        SimError::invalid(
            "contacts",
            "none",
            "must be set to simulate contacts (e.g. SimConfig::with_contacts)",
        )
    })
}

/// Generates the transaction log, the contacts log and the contact truth of a config with
/// `contacts` set (see the crate docs for the model and the files).
///
/// The transactions are those of a run without contacts, except that a contact that kills a
/// client removes its later purchases, and one that revives a dead client adds purchases from
/// then on (invoice numbers follow the final time order). Every contact-related draw comes
/// from streams of its own (keyed by the seed and the client's id), so a client whose contacts
/// changed nothing keeps exactly the purchases of the run without contacts.
///
/// # Errors
/// [`SimError::InvalidParameter`] naming the first bad field, or `contacts` if it is not set.
pub fn generate_with_contacts(config: &SimConfig) -> Result<SimOutput, SimError> {
    config.check()?;
    contacts_required(config)?;
    let mut transactions = Transactions::default();
    let (contacts, truth) = simulate(config, &mut transactions)
        .map_err(SimError::Io)?
        .expect("contacts are set");
    Ok(SimOutput {
        transactions,
        contacts,
        truth,
    })
}

/// Generates the same four outputs as [`generate_with_contacts`] and writes them as CSV:
/// the transactions are streamed (as [`generate_csv`] does), then the contacts log
/// ([`ContactLog::write_csv`]), `clients.csv` ([`ContactTruth::write_clients_csv`]) and
/// `contact_truth.csv` ([`ContactTruth::write_csv`]). The bytes are those of the in-memory
/// outputs' `write_csv`. Writers are buffered here.
///
/// # Errors
/// As [`generate_with_contacts`] (nothing is written then), or [`SimError::Io`] /
/// [`SimError::Write`] naming the output whose writer failed.
pub fn generate_csv_with_contacts(
    config: &SimConfig,
    transactions: impl Write,
    contacts: impl Write,
    clients: impl Write,
    truth: impl Write,
) -> Result<SimCounts, SimError> {
    config.check()?;
    contacts_required(config)?;
    let mut sink = CsvSink::new(transactions, CSV_HEADER);
    let out = simulate(config, &mut sink)
        .and_then(|out| sink.finish().map(|()| out))
        .map_err(SimError::Io)?;
    let (log, contact_truth) = out.expect("contacts are set");
    let write = |what, r: io::Result<()>| r.map_err(|source| SimError::Write { what, source });
    write("contacts", log.write_csv(contacts))?;
    write("clients", contact_truth.write_clients_csv(clients))?;
    write("contact truth", contact_truth.write_csv(truth))?;
    Ok(SimCounts {
        transactions: sink.rows,
        contacts: log.len() as u64,
        clients: contact_truth.clients().len() as u64,
    })
}

/// What a contact did to a client's purchase process.
#[derive(Debug, Clone, Copy)]
enum Life {
    /// Its own process; dead from the given time (its last purchase) if it dropped out.
    Natural(Option<i64>),
    /// Revived; dead from the given time if the revived process dropped out.
    Revived(Option<i64>),
    /// Killed by a contact.
    Killed,
}

impl Life {
    fn alive_at(self, ts: i64) -> bool {
        match self {
            Life::Natural(death) | Life::Revived(death) => death.is_none_or(|d| ts < d),
            Life::Killed => false,
        }
    }
}

/// The contacts simulation inside [`simulate`]: one call per client, after its own purchases.
struct ContactSim<'a> {
    cfg: &'a ContactsConfig,
    model: ClientModel<'a>,
    cal: Calendar,
    profile_rng: ChaCha8Rng,
    revive_rng: ChaCha8Rng,
    midnight: NaiveDateTime,
    start_weekday: i64,
    clients: Vec<ClientTruth>,
    rows: Vec<Contact>,
    scheduled: Vec<Scheduled>,
    drawn: Vec<Drawn>,
}

impl<'a> ContactSim<'a> {
    fn new(config: &'a SimConfig, cfg: &'a ContactsConfig) -> Self {
        Self {
            cfg,
            model: ClientModel::new(cfg),
            cal: Calendar::new(cfg, config.start_date, config.span_days, config.seed),
            profile_rng: ChaCha8Rng::seed_from_u64(config.seed ^ PROFILE_KEY),
            revive_rng: ChaCha8Rng::seed_from_u64(config.seed ^ REVIVE_KEY),
            midnight: config.start_date.and_hms_opt(0, 0, 0).expect("valid time"),
            start_weekday: i64::from(config.start_date.weekday().num_days_from_monday()),
            clients: Vec::with_capacity(config.n_clients),
            rows: Vec::new(),
            scheduled: Vec::new(),
            drawn: Vec::new(),
        }
    }

    /// Draws the client's truth and contacts, applies their effects to its purchases
    /// (`purchases[first..]`, all its own, on `days`), and appends revived purchases.
    #[allow(clippy::too_many_arguments)]
    fn client(
        &mut self,
        config: &SimConfig,
        client: u32,
        habits: &Habits,
        (lambda, p, nu): (f64, f64, f64),
        died: bool,
        purchases: &mut Vec<Purchase>,
        first: usize,
        days: &[i64],
    ) {
        let cfg = self.cfg;
        let id = config.first_customer_id + i64::from(client);
        let base = ClientBase {
            id,
            offset: cfg.utc_offset(&config.countries[usize::from(habits.country)].name),
            habit_weekday: habits.weekday,
            habit_hour: habits.hour,
            lambda,
            p,
            mean_spend: config.gamma_gamma.p / nu,
        };
        let mut rng = self.profile_rng.clone();
        rng.set_stream(id as u64);
        let mut truth = self.model.draw(&base, &mut rng);
        let reach = Reach::new(cfg, &truth);
        let acquired = purchases[first].ts;
        schedule(
            &mut rng,
            cfg,
            &self.cal,
            &truth,
            &reach,
            acquired,
            &mut self.scheduled,
        );
        outcomes(&mut rng, cfg, &truth, &self.scheduled, &mut self.drawn);

        let own_death = if died {
            purchases[first..].iter().map(|p| p.ts).max()
        } else {
            None
        };
        let mut life = Life::Natural(own_death);
        let mut revived: Vec<i64> = Vec::new();
        let mut segment_from = 0;
        let mut taken: Vec<i64> = days.to_vec();
        let mut revive_rng: Option<ChaCha8Rng> = None;
        for d in &self.drawn {
            self.rows.push(to_row(d, id, self.midnight));
            if !d.outcome.is_some_and(Outcome::is_response) {
                continue;
            }
            let (ts, action) = (d.contact.ts, usize::from(d.contact.action));
            if life.alive_at(ts) {
                if d.effect_draw < truth.s_minus[action] {
                    match life {
                        Life::Natural(_) => {
                            for p in &mut purchases[first..] {
                                if p.ts > ts {
                                    p.source = Source::Suppressed;
                                }
                            }
                        }
                        Life::Revived(_) => {
                            let mut k = segment_from;
                            while k < revived.len() {
                                if revived[k] > ts {
                                    revived.swap_remove(k);
                                } else {
                                    k += 1;
                                }
                            }
                        }
                        Life::Killed => unreachable!("a killed client is not alive"),
                    }
                    life = Life::Killed;
                    truth.killed += 1;
                } else if d.effect_draw < truth.s_plus[action] {
                    // An alive persuadable client: the contact prompts an extra order within
                    // two weeks (never on a day it already buys).
                    let rng = revive_rng.get_or_insert_with(|| {
                        let mut r = self.revive_rng.clone();
                        r.set_stream(id as u64);
                        r
                    });
                    let day = ts.div_euclid(DAY) + rng.random_range(1..=PROMPT_DAYS);
                    if day < i64::from(config.span_days) && !taken.contains(&day) {
                        taken.push(day);
                        revived.push(day * DAY + clock(rng, habits.hour, config.hour_spread));
                    }
                }
            } else if d.effect_draw < truth.s_plus[action] {
                let rng = revive_rng.get_or_insert_with(|| {
                    let mut r = self.revive_rng.clone();
                    r.set_stream(id as u64);
                    r
                });
                segment_from = revived.len();
                let death = revive(
                    rng,
                    config,
                    self.start_weekday,
                    (lambda, p),
                    habits,
                    ts,
                    &mut taken,
                    &mut revived,
                );
                life = Life::Revived(death);
                truth.revived += 1;
            }
        }
        truth.alive_at_end = life.alive_at(i64::from(config.span_days) * DAY);
        let client_data = purchases[first].client;
        revived.sort_unstable();
        for ts in revived {
            purchases.push(Purchase {
                ts,
                client: client_data,
                id: client,
                source: Source::Revived,
            });
        }
        self.clients.push(truth);
    }

    fn finish(mut self) -> (ContactLog, ContactTruth) {
        // Sort by time; ties keep the client order (a stable sort).
        self.rows.sort_by_key(|r| r.timestamp);
        let cfg = self.cfg;
        let log = ContactLog {
            channels: cfg.channels.iter().map(|c| c.name.clone()).collect(),
            actions: cfg.actions.iter().map(|a| a.name.clone()).collect(),
            rows: self.rows,
        };
        (log, ContactTruth::new(cfg.clone(), self.clients))
    }
}

/// Days within which a contact prompts an alive persuadable client's extra order.
const PROMPT_DAYS: i64 = 14;

/// The purchases of a client revived at `from_ts`: its own BG/NBD process (rate `lambda`,
/// dropout `p`) restarted then, with its weekday habit and clock, on days after the contact's
/// that are not already purchase days. Appends their times to `out`; returns the time of
/// death (its last purchase) if the process dropped out before the span's end.
#[allow(clippy::too_many_arguments)]
fn revive<R: Rng>(
    rng: &mut R,
    config: &SimConfig,
    start_weekday: i64,
    (lambda, p): (f64, f64),
    habits: &Habits,
    from_ts: i64,
    taken: &mut Vec<i64>,
    out: &mut Vec<i64>,
) -> Option<i64> {
    let span = i64::from(config.span_days);
    let age = (span * DAY - from_ts) as f64 / WEEK;
    let mut times = Vec::new();
    let died = BgNbdSampler::repeat_purchases(rng, lambda, p, age, |t, _| times.push(t));
    let first_day = from_ts.div_euclid(DAY) + 1;
    let mut last = None;
    for t in times {
        let mut day = ((from_ts as f64 + t * WEEK) / DAY as f64).floor() as i64;
        day = day.max(first_day);
        if day >= span {
            continue;
        }
        if rng.random_bool(habits.weekday_strength) {
            let weekday = (start_weekday + day).rem_euclid(7);
            let mut offset = (i64::from(habits.weekday) - weekday).rem_euclid(7);
            if offset > 3 {
                offset -= 7;
            }
            let moved = day + offset;
            if (first_day..span).contains(&moved) && !taken.contains(&moved) {
                day = moved;
            }
        }
        taken.push(day);
        let ts = day * DAY + clock(rng, habits.hour, config.hour_spread);
        out.push(ts);
        last = last.max(Some(ts));
    }
    if died { last } else { None }
}

/// Runs the simulation for a checked `config`, handing the rows to `sink` in order; returns the
/// contacts and their truth when `config.contacts` is set.
fn simulate(
    config: &SimConfig,
    sink: &mut impl Sink,
) -> io::Result<Option<(ContactLog, ContactTruth)>> {
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    let mut catalogue_rng = rng.clone();
    catalogue_rng.set_stream(CATALOGUE_STREAM);
    let catalogue = Catalogue::draw(&mut catalogue_rng, config.n_products);

    let country_dist =
        WeightedIndex::new(config.countries.iter().map(|c| c.weight)).expect("checked weights");
    let weekday_dist = WeightedIndex::new(WEEKDAY_WEIGHTS).expect("positive weights");
    let hour_dist = WeightedIndex::new(HOUR_WEIGHTS).expect("positive weights");
    let process = BgNbdSampler::new(&config.bgnbd);
    let spends = SpendSampler::new(&config.gamma_gamma);
    let gg = &config.gamma_gamma;
    let reference_spend = if gg.q > 1.0 {
        gg.mean_spend()
    } else {
        gg.p * gg.gamma / gg.q
    };
    let extra_lines = config.mean_lines_per_invoice - 1.0;

    let span = i64::from(config.span_days);
    let start_weekday = i64::from(config.start_date.weekday().num_days_from_monday());
    let acquisition_days = config.acquisition_share * span as f64;

    let mut contact_sim = config
        .contacts
        .as_ref()
        .map(|cfg| ContactSim::new(config, cfg));

    // Phase 1, client by client: habits, latent parameters and purchase times.
    let mut purchases: Vec<Purchase> = Vec::with_capacity(config.n_clients * 6);
    let mut client_country: Vec<u16> = Vec::with_capacity(config.n_clients);
    let mut times: Vec<f64> = Vec::new();
    let mut days: Vec<i64> = Vec::new();
    for client in 0..config.n_clients as u32 {
        let habits = Habits {
            country: country_dist.sample(&mut rng) as u16,
            weekday: weekday_dist.sample(&mut rng) as u8,
            hour: FIRST_HOUR as u8 + hour_dist.sample(&mut rng) as u8,
            weekday_strength: (config.weekday_habit * rng.random_range(0.5..1.5)).min(1.0),
        };
        let acquired = rng.random::<f64>() * acquisition_days;
        let age_weeks = (span as f64 - acquired) / 7.0;
        let (lambda, p) = process.draw_client(&mut rng);
        let nu = spends.draw_nu(&mut rng);
        let client_data = Client {
            nu,
            country: habits.country,
            hour: habits.hour,
        };
        client_country.push(habits.country);
        times.clear();
        times.push(0.0);
        let died =
            BgNbdSampler::repeat_purchases(&mut rng, lambda, p, age_weeks, |t, _| times.push(t));

        days.clear();
        for (j, &t) in times.iter().enumerate() {
            let mut day = ((acquired + 7.0 * t).floor() as i64).min(span - 1);
            let lowest = if j == 0 { 0 } else { days[0] };
            if rng.random_bool(habits.weekday_strength) {
                let weekday = (start_weekday + day).rem_euclid(7);
                let mut offset = (i64::from(habits.weekday) - weekday).rem_euclid(7);
                if offset > 3 {
                    offset -= 7;
                }
                let moved = day + offset;
                if (lowest..span).contains(&moved) && !days.contains(&moved) {
                    day = moved;
                }
            }
            day = day.max(lowest);
            days.push(day);
            let ts = day * 86_400 + clock(&mut rng, habits.hour, config.hour_spread);
            purchases.push(Purchase {
                ts,
                client: client_data,
                id: client,
                source: Source::Natural,
            });
        }
        if let Some(sim) = contact_sim.as_mut() {
            let first = purchases.len() - times.len();
            sim.client(
                config,
                client,
                &habits,
                (lambda, p, nu),
                died,
                &mut purchases,
                first,
                &days,
            );
        }
    }
    // Stable: ties keep the generation order, so the order is fixed by the seed.
    purchases.sort_by_key(|p| p.ts);

    // Phase 2, in time order: each purchase's invoice (and maybe a later return), numbered as
    // they come; returns wait in a heap and come out before the first purchase after them.
    sink.start(
        &catalogue,
        purchases.len() * (config.mean_lines_per_invoice.ceil() as usize + 1),
    );
    let mut rows = RowWriter {
        config,
        catalogue: &catalogue,
        sink,
        next_invoice: config.first_invoice,
        midnight: config.start_date.and_hms_opt(0, 0, 0).expect("valid time"),
        invoice: String::new(),
    };
    let mut revived_rng = ChaCha8Rng::seed_from_u64(config.seed ^ REVIVED_INVOICE_KEY);
    let mut pending: BinaryHeap<Reverse<PendingReturn>> = BinaryHeap::new();
    let mut lines: Vec<(u32, i64)> = Vec::with_capacity(MAX_LINES as usize);
    let mut n_returns = 0_u64;
    for purchase in &purchases {
        while pending.peek().is_some_and(|r| r.0.ts < purchase.ts) {
            let Reverse(r) = pending.pop().expect("peeked");
            rows.write(
                r.ts,
                r.client,
                client_country[r.client as usize],
                true,
                &r.lines,
            )?;
        }
        let client = purchase.client;
        // Revived purchases draw their invoices from a stream of their own, so that every
        // other invoice is the same as without contacts; suppressed ones are drawn, not written.
        let rng = if purchase.source == Source::Revived {
            &mut revived_rng
        } else {
            &mut rng
        };
        let written = purchase.source != Source::Suppressed;
        let spend = spends.draw_spend(rng, client.nu);
        let mean_extra = extra_lines * (spend / reference_spend).min(5.0);
        let mut k = 1 + if mean_extra > 0.0 {
            Poisson::new(mean_extra).expect("positive mean").sample(rng) as u64
        } else {
            0
        };
        k = k.min(MAX_LINES).min(spend.max(1.0) as u64);
        lines.clear();
        split_invoice(rng, &catalogue, spend, k as usize, &mut lines);
        if written {
            rows.write(purchase.ts, purchase.id, client.country, false, &lines)?;
        }

        if rng.random_bool(config.return_probability) {
            let delay = rng.random_range(1..=i64::from(config.max_return_delay_days));
            let ts = (purchase.ts.div_euclid(86_400) + delay) * 86_400
                + clock(rng, client.hour, config.hour_spread);
            let mut returned: Vec<(u32, i64)> = Vec::new();
            for &(product, qty) in &lines {
                if rng.random_bool(0.5) {
                    returned.push((product, -rng.random_range(1..=qty)));
                }
            }
            if returned.is_empty() {
                let (product, qty) = lines[rng.random_range(0..lines.len())];
                returned.push((product, -rng.random_range(1..=qty)));
            }
            if ts < span * 86_400 && written {
                n_returns += 1;
                pending.push(Reverse(PendingReturn {
                    ts,
                    seq: n_returns,
                    client: purchase.id,
                    lines: returned,
                }));
            }
        }
    }
    while let Some(Reverse(r)) = pending.pop() {
        rows.write(
            r.ts,
            r.client,
            client_country[r.client as usize],
            true,
            &r.lines,
        )?;
    }
    Ok(contact_sim.map(ContactSim::finish))
}

/// Hands invoices to a sink, numbering them in the order written.
struct RowWriter<'a, S: Sink> {
    config: &'a SimConfig,
    catalogue: &'a Catalogue,
    sink: &'a mut S,
    next_invoice: u64,
    midnight: NaiveDateTime,
    invoice: String,
}

impl<S: Sink> RowWriter<'_, S> {
    fn write(
        &mut self,
        ts: i64,
        client: u32,
        country: u16,
        is_return: bool,
        lines: &[(u32, i64)],
    ) -> io::Result<()> {
        use std::fmt::Write as _;
        let number = self.next_invoice;
        self.next_invoice += 1;
        self.invoice.clear();
        if is_return {
            self.invoice.push('C');
        }
        write!(self.invoice, "{number}").expect("writing to a String");
        let inv = Invoice {
            invoice: &self.invoice,
            date: self.midnight + TimeDelta::seconds(ts),
            customer: self.config.first_customer_id + i64::from(client),
            country: &self.config.countries[usize::from(country)].name,
            lines,
        };
        self.sink.invoice(self.catalogue, &inv)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invoice_lines_add_up_to_the_spend() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let catalogue = Catalogue::draw(&mut rng, 400);
        let spends = SpendSampler::new(&crate::GammaGammaTruth::default());
        let mut lines = Vec::new();
        let (mut rel_err, mut n) = (0.0, 0.0);
        for i in 0..5_000 {
            let nu = spends.draw_nu(&mut rng);
            let spend = spends.draw_spend(&mut rng, nu);
            let k = 1 + i % 6;
            lines.clear();
            split_invoice(&mut rng, &catalogue, spend, k, &mut lines);
            assert_eq!(lines.len(), k);
            assert!(lines.iter().all(|&(p, q)| q >= 1 && (p as usize) < 400));
            let total: f64 = lines
                .iter()
                .map(|&(p, q)| q as f64 * catalogue.price[p as usize])
                .sum();
            // The last line takes the remainder: off by at most half its price, unless the
            // other lines already (nearly) exceed the spend.
            let (last, _) = lines[k - 1];
            let last_price = catalogue.price[last as usize];
            let others: f64 = lines[..k - 1]
                .iter()
                .map(|&(p, q)| q as f64 * catalogue.price[p as usize])
                .sum();
            if spend - others >= last_price / 2.0 {
                assert!(
                    (total - spend).abs() <= last_price / 2.0 + 1e-9,
                    "{total} vs {spend}"
                );
            }
            rel_err += (total - spend).abs() / spend;
            n += 1.0;
        }
        assert!(rel_err / n < 0.02, "mean relative error {}", rel_err / n);
    }
}
