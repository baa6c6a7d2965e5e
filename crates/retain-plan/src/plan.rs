//! The planner: each client's next best contact (channel, window, action, offer), and the
//! plan that fits the team's capacity, chosen by expected profit.
//!
//! For client `i`, channel `c` and action `a`:
//!
//! `profit = r_ic * (e_ia * V_i - incentive_ia * accept_a) - cost_c - contact_cost_a`
//!
//! - `r_ic`: the estimated response rate ([`crate::channel`]);
//! - `e_ia`: the drop in churn probability when the client answers: from the uplift model of
//!   the contacts log's experiments when it is reliable (held-out Qini above twice its
//!   standard error: its per-client effect, negative for clients a contact harms); else
//!   `P(churn)_i x` the save rate measured by those experiments (the action's average effect
//!   per answer, as a share of the churners); else `P(churn)_i x save_rate_a`, the
//!   catalogue's stated rate;
//! - `V_i`: what a saved client is worth: its value over the horizon given it buys then (the
//!   event the churn label and the uplift are about), `clv_i / max(1 - P(churn)_i,
//!   min_retained_share)` (the CLV counts nothing from a client that does not buy), times its
//!   margin when the clients file has one; without a value model, net revenue x 91 / 365;
//! - `incentive_ia = incentive_a + incentive_share_a x mean order value_i`, paid when an
//!   answering client accepts (`accept_a`).
//!
//! **Next best contact** (the list's columns): `next_best_channel` is the consented channel
//! with the highest response estimate; `window` the best weekday and two-hour window
//! ([`crate::window`]); `action` the eligible action with the highest profit on that channel,
//! or `no_contact` when none pays. Each comes with its source and evidence.
//!
//! **The plan.** Every client not held out (a seeded random share, kept uncontacted to
//! measure the campaign), not under contact pressure, not marked do-not-contact, may get one
//! contact in the period: on a consented channel, with an eligible action past its cooldown,
//! on a business day with the client's window weekday (any business day when the period has
//! none). Profits do not depend on the day. The assignment maximising the total expected
//! profit within each channel's daily capacity is exact ([`crate::assign`]); the summary gives
//! the value of one more contact per channel, and the same capacity filled by ranking on
//! churn probability or on value at risk, for comparison.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use rayon::prelude::*;
use serde::Serialize;

use crate::assign::{Candidate, Capacity, assign};
use crate::book::{ClientBook, ContactBook};
use crate::channel::{ChannelModel, Source};
use crate::config::{KeyBy, PlanConfig};
use crate::segments::{
    ConcentrationCurve, RfmCuts, Segment, concentration_curve, key_clients, rfm,
};
use crate::window::{self, Window, WindowModel};

/// Errors of planning.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// A setting or an input is invalid.
    #[error("{0}")]
    Invalid(String),
    /// The assignment failed.
    #[error(transparent)]
    Assign(#[from] crate::assign::AssignError),
    /// Segments or key clients failed.
    #[error(transparent)]
    Segment(#[from] crate::segments::SegmentError),
    /// Key clients or the concentration curve failed.
    #[error(transparent)]
    Eval(#[from] retain_eval::EvalError),
}

/// What the contacts log's experiments say of an action.
#[derive(Debug, Clone, PartialEq)]
pub struct ActionEffect {
    /// Per client (the book's order): the uplift model's drop in churn probability when the
    /// client answers.
    pub per_answer: Vec<f64>,
    /// The model's held-out Qini coefficient, for the evidence.
    pub qini: f64,
    /// Whether the model ranks held-out clients better than chance beyond doubt (Qini above
    /// twice its standard error): only then are its per-client effects used.
    pub reliable: bool,
    /// The measured save rate (average effect per answer, as a share of the churners),
    /// used with each client's churn probability when the model is not reliable.
    pub save_rate: f64,
}

/// A product offered to a client.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Offer {
    /// The product.
    pub product: String,
    /// A product the client bought that it goes with.
    pub because: String,
    /// The rule's lift.
    pub lift: f64,
}

/// A contact the plan makes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Planned {
    /// The day.
    pub date: NaiveDate,
    /// The channel's index in the config.
    pub channel: usize,
    /// The action's index in the config.
    pub action: usize,
    /// Expected profit.
    pub profit: f64,
}

/// One client's next best contact and its place in the plan.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientPlan {
    /// RFM segment.
    pub segment: Segment,
    /// RFM code (`"545"`).
    pub rfm: String,
    /// Key client.
    pub key_client: bool,
    /// The highest-response consented channel (None: no channel consented).
    pub channel: Option<usize>,
    /// Its response estimate.
    pub channel_response: f64,
    /// What it rests on.
    pub channel_source: Source,
    /// Why.
    pub channel_evidence: String,
    /// The window.
    pub window: Window,
    /// What it rests on.
    pub window_source: Source,
    /// Why.
    pub window_evidence: String,
    /// The best action on the channel (None: no action pays).
    pub action: Option<usize>,
    /// Its expected profit (the best of no action: 0).
    pub expected_profit: f64,
    /// What the action's effect rests on.
    pub action_source: Source,
    /// Why.
    pub action_evidence: String,
    /// Products to offer.
    pub offers: Vec<Offer>,
    /// Whether the client had any contact before.
    pub contacted_before: bool,
    /// Kept uncontacted to measure the campaign.
    pub holdout: bool,
    /// Why the plan cannot contact it, if so (`do_not_contact`, `no_consent`,
    /// `contact_pressure`, `holdout`).
    pub excluded: Option<&'static str>,
    /// The plan's contact, if any.
    pub planned: Option<Planned>,
}

/// Per channel in the summary.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChannelSummary {
    /// Contacts per day available.
    pub capacity_per_day: u32,
    /// Contacts planned.
    pub planned: u32,
    /// Per day of the period.
    pub planned_by_day: Vec<u32>,
    /// Value of one more contact on the channel (its best day).
    pub marginal_value: f64,
    /// Population mean response rate.
    pub population_response: f64,
}

/// How one action's effect was estimated.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ActionSummary {
    /// `model` (the uplift model of the contacts log, reliable), `measured` (the log's
    /// average effect) or `catalogue` (the stated save rate).
    pub source: &'static str,
    /// The uplift model's held-out Qini, when it has one.
    pub qini: Option<f64>,
    /// The save rate used with the churn probability (measured or stated).
    pub save_rate: f64,
    /// Contacts planned with it.
    pub planned: u32,
}

/// Expected results of another way to fill the same capacity.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Baseline {
    /// Contacts made.
    pub contacts: u32,
    /// Their expected profit (the planner's own estimates).
    pub expected_profit: f64,
}

/// The plan's summary (written to `plan_summary.json`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlanSummary {
    /// First day of the period.
    pub start: NaiveDate,
    /// Days in the period.
    pub days: u32,
    /// Clients in the list.
    pub clients: usize,
    /// Clients held out.
    pub holdout: usize,
    /// Clients the plan may contact.
    pub eligible: usize,
    /// Contacts planned.
    pub planned: usize,
    /// Total expected profit of the plan.
    pub expected_profit: f64,
    /// Expected value saved (before incentives and costs).
    pub expected_saved_value: f64,
    /// Expected incentives paid.
    pub expected_incentives: f64,
    /// Contact costs.
    pub contact_costs: f64,
    /// Per channel.
    pub channels: BTreeMap<String, ChannelSummary>,
    /// Per action.
    pub actions: BTreeMap<String, ActionSummary>,
    /// The same capacity filled in order of churn probability (each client's best contact).
    pub by_churn_probability: Baseline,
    /// The same capacity filled in order of value at risk.
    pub by_value_at_risk: Baseline,
    /// Key clients: how many, their share of the clients and of the value.
    pub key_clients: usize,
    /// Key clients' share of the value.
    pub key_value_share: f64,
    /// What defines them.
    pub key_by: KeyBy,
    /// The RFM cut points.
    pub rfm_cuts: RfmCuts,
    /// Clients per RFM segment.
    pub segments: BTreeMap<String, usize>,
    /// The concentration curve of the key-client value.
    pub concentration: ConcentrationCurve,
    /// Clients per channel source, window source and action source.
    pub sources: BTreeMap<String, usize>,
    /// Whether consent came from a clients file (else every channel was allowed).
    pub consent_on_record: bool,
    /// Contacts log rows used, and rows of clients not in the list.
    pub contact_rows: u64,
    /// Contacts log rows of clients not in the list.
    pub contact_rows_unknown_clients: u64,
    /// The fitted shrinkage: per channel, the population's mean rate and prior strengths.
    pub channel_priors: BTreeMap<String, (f64, f64, f64)>,
    /// The window model's client strength.
    pub window_strength: f64,
}

/// A plan: per client (the book's order) and its summary.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Per client.
    pub clients: Vec<ClientPlan>,
    /// Summary.
    pub summary: PlanSummary,
    /// Channel names (the config's order).
    pub channel_names: Vec<String>,
    /// Action ids (the config's order).
    pub action_names: Vec<String>,
    /// The contacts of the comparison plans (`by_churn_probability`, `by_value_at_risk`):
    /// (client index, contact).
    pub baselines: BTreeMap<&'static str, Vec<(usize, Planned)>>,
}

/// Everything the planner reads.
#[derive(Debug, Clone, Copy)]
pub struct PlanInputs<'a> {
    /// Per client.
    pub clients: &'a ClientBook,
    /// Per client, from the contacts log.
    pub contacts: &'a ContactBook,
    /// Learned effects by action id (actions absent use the catalogue).
    pub effects: &'a BTreeMap<String, ActionEffect>,
    /// Products per client, if the data have products.
    pub offers: Option<&'a [Vec<Offer>]>,
    /// First day of the period.
    pub start: NaiveDate,
}

fn held_out(client: i64, seed: u64, share: f64) -> bool {
    if share <= 0.0 {
        return false;
    }
    let h =
        retain_data::splitmix64(retain_data::splitmix64(seed ^ 0x005E_ED0F_4E57) ^ client as u64);
    ((h >> 11) as f64 / (1u64 << 53) as f64) < share
}

/// What one candidate contact is worth and why.
#[derive(Debug, Clone, Copy)]
struct Choice {
    channel: usize,
    action: usize,
    profit: f64,
    saved: f64,
    incentive: f64,
    cost: f64,
    earliest: u16,
}

/// How an action's effect is known for a client: the uplift model's per-client effect when
/// reliable; else the measured save rate (from the log's experiments) times the client's
/// churn probability; else the catalogue's stated save rate times it.
fn effect_of(
    effects: &BTreeMap<String, ActionEffect>,
    spec: &crate::config::ActionConfig,
    i: usize,
    p: f64,
) -> (f64, Source) {
    match effects.get(&spec.id) {
        Some(e) if e.reliable => (e.per_answer[i], Source::Model),
        Some(e) => (p * e.save_rate, Source::Measured),
        None => (p * spec.save_rate, Source::Catalogue),
    }
}

/// Plans every client (module docs).
pub fn plan(config: &PlanConfig, inputs: PlanInputs<'_>) -> Result<Plan, PlanError> {
    config.check().map_err(PlanError::Invalid)?;
    let cb = inputs.clients;
    let book = inputs.contacts;
    let n = cb.len();
    if n == 0 {
        return Err(PlanError::Invalid("no client to plan".into()));
    }
    for (a, e) in inputs.effects {
        if e.per_answer.len() != n {
            return Err(PlanError::Invalid(format!(
                "the effect of action {a} has {} entries for {n} clients",
                e.per_answer.len()
            )));
        }
    }
    let nc = config.channels.len();
    let days = config.days as usize;
    let start_day = retain_core::day_number(inputs.start);

    // Segments and key clients.
    let r = rfm(&cb.ids, &cb.recency, &cb.frequency, &cb.monetary)?;
    let rfm_segment: Vec<Segment> = r.scores.iter().map(|s| s.segment()).collect();
    let key_values: Vec<f64> = match config.key_by {
        KeyBy::Clv if cb.has_value_model => cb.value.clone(),
        _ if !cb.period_revenue.is_empty() => cb.period_revenue.clone(),
        _ => cb.monetary.clone(),
    };
    let key = key_clients(&key_values, &cb.ids, config.key_share)?;
    let concentration = concentration_curve(&key_values, &cb.ids, config.key_share, 101)?;

    // The shrinkage groups: the clients file's segment, else the RFM segment.
    let (group, group_names): (Vec<usize>, Vec<String>) = match &cb.segment {
        Some(s) => (
            s.iter().map(|&k| k as usize).collect(),
            cb.segment_names.clone(),
        ),
        None => (
            rfm_segment
                .iter()
                .map(|s| Segment::ALL.iter().position(|x| x == s).unwrap_or(0))
                .collect(),
            Segment::ALL.iter().map(|s| s.name().to_string()).collect(),
        ),
    };
    let channel_names: Vec<String> = config.channels.iter().map(|c| c.name.clone()).collect();
    let action_names: Vec<String> = config.actions.iter().map(|a| a.id.clone()).collect();
    let channel_model = ChannelModel::fit(
        channel_names.clone(),
        group_names.clone(),
        (0..n).map(|i| (group[i], book.counts_of(i))),
    );
    // Each client's estimated rate per channel: what a contact on it is expected to bring,
    // against which the windows are judged (one row of `nc` per client).
    let cm = &channel_model;
    let rates: Vec<f64> = (0..n)
        .into_par_iter()
        .flat_map_iter(|i| {
            let counts = book.counts_of(i);
            let g = group[i];
            (0..nc).map(move |c| cm.rate(g, c, counts[c]))
        })
        .collect();
    let rates_of = |i: usize| &rates[i * nc..(i + 1) * nc];
    let with_contacts = |i: &usize| book.offsets[*i] != book.offsets[*i + 1];
    let mut pooled = vec![window::empty_cells(); group_names.len()];
    for i in (0..n).filter(with_contacts) {
        if let Some(p) = pooled.get_mut(group[i]) {
            book.add_cells(i, rates_of(i), p);
        }
    }
    let window_model = WindowModel::fit(
        config.business_hours.clone(),
        pooled,
        config.min_own_responses,
        (0..n)
            .filter(with_contacts)
            .take(window::FIT_CLIENTS)
            .map(|i| (group[i], book.cells_of(i, rates_of(i)))),
    )
    .map_err(PlanError::Invalid)?;

    // The period's days and their weekdays; capacity only on business days.
    let period: Vec<NaiveDate> = (0..days)
        .map(|d| inputs.start + chrono::Days::new(d as u64))
        .collect();
    let weekday_of = |d: usize| period[d].weekday().num_days_from_monday() as u8;
    let business = |d: usize| config.business_hours.weekdays.contains(&weekday_of(d));
    let action_channels: Vec<Vec<usize>> = config
        .actions
        .iter()
        .map(|a| config.action_channels(a))
        .collect();
    let noon = i64::from(start_day) * 86_400 + 12 * 3_600;

    // Per client: next best contact and the plan's candidates.
    let per_client: Vec<(ClientPlan, Vec<Choice>, Vec<u16>)> = (0..n)
        .into_par_iter()
        .map(|i| {
            let seg = group[i];
            let counts = book.counts_of(i);
            let consent: Vec<bool> = (0..nc).map(|c| cb.consent[i] >> c & 1 == 1).collect();
            let ch = channel_model.choose(seg, &consent, counts);
            // Usual purchase time, shop clock (UTC) to the client's local time.
            let offset_h = (cb.zone[i].offset_minutes_at(noon) as f64 / 60.0).round() as i64;
            let habit = cb.habit[i].map(|(d, h)| {
                let t = i64::from(d) * 24 + i64::from(h) + offset_h;
                ((t.div_euclid(24).rem_euclid(7)) as u8, t.rem_euclid(24) as u8)
            });
            // Own cells only for a client with enough answers to choose its own window.
            let answers: u32 = counts.iter().map(|c| c.responses).sum();
            let cells = if answers >= config.min_own_responses {
                book.cells_of(i, rates_of(i))
            } else {
                window::empty_cells()
            };
            let w = window_model.choose(seg, &cells, habit);
            let p = cb.p_churn[i].clamp(0.0, 1.0);
            // What a saved client is worth: its value given it buys in the horizon, the
            // event the churn label and the uplift are about. The CLV counts nothing from a
            // client that does not buy, so that is `clv / P(buys) = clv / (1 - P(churn))`.
            let retained = (1.0 - p).max(config.min_retained_share);
            let value = if cb.has_value_model {
                cb.value[i].max(0.0)
            } else {
                cb.monetary[i].max(0.0) * 91.0 / 365.0
            };
            let v_saved = value / retained * cb.margin[i];
            let rates: Vec<f64> = (0..nc)
                .map(|c| match ch.map(|x| x.source) {
                    Some(Source::Population) | None => channel_model.population[c].mean,
                    _ => channel_model.rate(seg, c, counts[c]),
                })
                .collect();
            let seg_name_rfm = rfm_segment[i].name();
            let seg_name_attr = cb
                .segment
                .as_ref()
                .map(|s| cb.segment_names[s[i] as usize].as_str());
            let mut options: Vec<Choice> = Vec::new();
            for (a, spec) in config.actions.iter().enumerate() {
                if !spec.segments.is_empty()
                    && !spec
                        .segments
                        .iter()
                        .any(|s| s == seg_name_rfm || Some(s.as_str()) == seg_name_attr)
                {
                    continue;
                }
                if value < spec.min_value {
                    continue;
                }
                let earliest = match book.last_action_of(i, a) {
                    Some(last) => (last + spec.cooldown_days as i32 - start_day).max(0),
                    None => 0,
                };
                if earliest >= days as i32 {
                    continue;
                }
                let (effect, _) = effect_of(inputs.effects, spec, i, p);
                let incentive = spec.incentive + spec.incentive_share * cb.mean_order_value[i].max(0.0);
                for &c in &action_channels[a] {
                    if !consent[c] {
                        continue;
                    }
                    let r = rates[c];
                    let cost = config.channels[c].cost + spec.contact_cost;
                    let saved = r * effect * v_saved;
                    let paid = r * incentive * spec.accept_rate;
                    options.push(Choice {
                        channel: c,
                        action: a,
                        profit: saved - paid - cost,
                        saved,
                        incentive: paid,
                        cost,
                        earliest: earliest as u16,
                    });
                }
            }
            // The next best action on the next best channel.
            let best_on_channel = ch.and_then(|x| {
                options
                    .iter()
                    .filter(|o| o.channel == x.channel)
                    .max_by(|a, b| a.profit.total_cmp(&b.profit).then(b.action.cmp(&a.action)))
                    .copied()
            });
            let (action, expected_profit) = match best_on_channel {
                Some(o) if o.profit > 0.0 => (Some(o.action), o.profit),
                _ => (None, 0.0),
            };
            let action_source = action.map_or(Source::Catalogue, |a| {
                effect_of(inputs.effects, &config.actions[a], i, p).1
            });
            let action_evidence = match best_on_channel {
                Some(o) if action.is_some() => {
                    let spec = &config.actions[o.action];
                    let effect = match (inputs.effects.get(&spec.id), action_source) {
                        (Some(e), Source::Model) => format!(
                            "an answer cuts churn by {:.1} points (uplift model, Qini {:.4})",
                            100.0 * e.per_answer[i],
                            e.qini
                        ),
                        (Some(e), _) => format!(
                            "churn {:.0}% x measured save rate {:.1}% (the log's experiments)",
                            100.0 * p,
                            100.0 * e.save_rate
                        ),
                        _ => format!(
                            "churn {:.0}% x stated save rate {:.0}%",
                            100.0 * p,
                            100.0 * spec.save_rate
                        ),
                    };
                    format!(
                        "{effect}; a saved client is worth {:.2}; expected {:.2} saved, {:.2} incentive, {:.2} cost",
                        v_saved, o.saved, o.incentive, o.cost
                    )
                }
                Some(o) => format!(
                    "no action pays on this channel (best {:.2}: {})",
                    o.profit, config.actions[o.action].id
                ),
                None => "no eligible action on a consented channel".to_string(),
            };
            let holdout = held_out(cb.ids[i], config.seed, config.holdout_share);
            let excluded = if cb.do_not_contact[i] {
                Some("do_not_contact")
            } else if consent.iter().all(|&c| !c) {
                Some("no_consent")
            } else if book.recent[i] + 1 > config.contact_cap.contacts {
                Some("contact_pressure")
            } else if holdout {
                Some("holdout")
            } else {
                None
            };
            // Days with the window's weekday, else every business day.
            let on_weekday: Vec<u16> = (0..days)
                .filter(|&d| business(d) && weekday_of(d) == w.window.weekday)
                .map(|d| d as u16)
                .collect();
            let feasible: Vec<u16> = if on_weekday.is_empty() {
                (0..days).filter(|&d| business(d)).map(|d| d as u16).collect()
            } else {
                on_weekday
            };
            let cands = if excluded.is_some() {
                Vec::new()
            } else {
                options.iter().filter(|o| o.profit > 0.0).copied().collect()
            };
            let cp = ClientPlan {
                segment: rfm_segment[i],
                rfm: r.scores[i].code(),
                key_client: key.flags[i],
                channel: ch.map(|x| x.channel),
                channel_response: ch.map_or(0.0, |x| x.rate),
                channel_source: ch.map_or(Source::Population, |x| x.source),
                channel_evidence: ch.map_or_else(
                    || "no consented channel".to_string(),
                    |x| channel_model.evidence(seg, &x),
                ),
                window: w.window,
                window_source: w.source,
                window_evidence: w.evidence,
                action,
                expected_profit,
                action_source,
                action_evidence,
                offers: inputs
                    .offers
                    .and_then(|o| o.get(i).cloned())
                    .unwrap_or_default(),
                contacted_before: book.in_log[i],
                holdout,
                excluded,
                planned: None,
            };
            (cp, cands, feasible)
        })
        .collect();

    // The assignment: one pseudo-channel per (channel, day), so a candidate names its day.
    let mut candidates: Vec<Candidate> = Vec::new();
    let mut meta: Vec<(usize, usize)> = Vec::new(); // (client, option index)
    let mut flat_options: Vec<Choice> = Vec::new();
    for (i, (_, opts, feasible)) in per_client.iter().enumerate() {
        for o in opts {
            for &d in feasible {
                if d < o.earliest {
                    continue;
                }
                candidates.push(Candidate {
                    client: i as u32,
                    channel: (o.channel * days + d as usize) as u16,
                    earliest_day: 0,
                    profit: o.profit,
                });
                meta.push((i, flat_options.len()));
            }
            flat_options.push(*o);
        }
    }
    let mut caps = Vec::with_capacity(nc * days);
    for ch in &config.channels {
        for d in 0..days {
            caps.push(if business(d) { ch.capacity_per_day } else { 0 });
        }
    }
    let capacity = Capacity::new(nc * days, 1, caps)?;
    let assignment = assign(n, &candidates, &capacity)?;

    let mut clients: Vec<ClientPlan> = Vec::with_capacity(n);
    let mut summary_channels: BTreeMap<String, ChannelSummary> = config
        .channels
        .iter()
        .enumerate()
        .map(|(c, ch)| {
            (
                ch.name.clone(),
                ChannelSummary {
                    capacity_per_day: ch.capacity_per_day,
                    planned: 0,
                    planned_by_day: vec![0; days],
                    marginal_value: (0..days)
                        .map(|d| assignment.marginal_value[c * days + d])
                        .fold(0.0, f64::max),
                    population_response: channel_model.population[c].mean,
                },
            )
        })
        .collect();
    let mut actions: BTreeMap<String, ActionSummary> = config
        .actions
        .iter()
        .map(|a| {
            let e = inputs.effects.get(&a.id);
            (
                a.id.clone(),
                ActionSummary {
                    source: match e {
                        Some(e) if e.reliable => "model",
                        Some(_) => "measured",
                        None => "catalogue",
                    },
                    qini: e.map(|e| e.qini),
                    save_rate: e.map_or(a.save_rate, |e| e.save_rate),
                    planned: 0,
                },
            )
        })
        .collect();
    let (mut saved, mut incentives, mut costs, mut total) = (0.0, 0.0, 0.0, 0.0);
    let mut planned_count = 0usize;
    for (i, (mut cp, _, _)) in per_client.into_iter().enumerate() {
        if let Some((k, _day)) = assignment.chosen[i] {
            let (_, oi) = meta[k];
            let o = flat_options[oi];
            let slot = candidates[k].channel as usize;
            let d = slot % days;
            cp.planned = Some(Planned {
                date: period[d],
                channel: o.channel,
                action: o.action,
                profit: o.profit,
            });
            let chs = summary_channels
                .get_mut(&config.channels[o.channel].name)
                .expect("every channel has a summary");
            chs.planned += 1;
            chs.planned_by_day[d] += 1;
            actions
                .get_mut(&config.actions[o.action].id)
                .expect("every action has a summary")
                .planned += 1;
            saved += o.saved;
            incentives += o.incentive;
            costs += o.cost;
            total += o.profit;
            planned_count += 1;
        }
        clients.push(cp);
    }

    // Baselines: the same capacity, clients in rank order, each its best contact.
    let baseline = |score: &dyn Fn(usize) -> f64| -> (Baseline, Vec<(usize, Planned)>) {
        let mut order: Vec<usize> = (0..n).filter(|&i| clients[i].excluded.is_none()).collect();
        order.sort_by(|&a, &b| {
            score(b)
                .total_cmp(&score(a))
                .then(cb.ids[a].cmp(&cb.ids[b]))
        });
        let mut left: Vec<u32> = capacity.slots().to_vec();
        let mut by_client: Vec<Vec<usize>> = vec![Vec::new(); n];
        for (k, c) in candidates.iter().enumerate() {
            by_client[c.client as usize].push(k);
        }
        let (mut contacts, mut profit) = (Vec::new(), 0.0);
        for i in order {
            let best = by_client[i]
                .iter()
                .filter(|&&k| left[candidates[k].channel as usize] > 0)
                .max_by(|&&a, &&b| {
                    candidates[a]
                        .profit
                        .total_cmp(&candidates[b].profit)
                        .then(b.cmp(&a))
                });
            if let Some(&k) = best {
                let slot = candidates[k].channel as usize;
                left[slot] -= 1;
                let o = flat_options[meta[k].1];
                profit += o.profit;
                contacts.push((
                    i,
                    Planned {
                        date: period[slot % days],
                        channel: o.channel,
                        action: o.action,
                        profit: o.profit,
                    },
                ));
            }
        }
        (
            Baseline {
                contacts: contacts.len() as u32,
                expected_profit: profit,
            },
            contacts,
        )
    };
    let (by_churn_probability, churn_contacts) = baseline(&|i| cb.p_churn[i]);
    let (by_value_at_risk, var_contacts) = baseline(&|i| cb.p_churn[i] * cb.value[i]);
    let baselines = BTreeMap::from([
        ("by_churn_probability", churn_contacts),
        ("by_value_at_risk", var_contacts),
    ]);

    let mut sources: BTreeMap<String, usize> = BTreeMap::new();
    let mut segments: BTreeMap<String, usize> = BTreeMap::new();
    for cp in &clients {
        *sources
            .entry(format!("channel:{}", cp.channel_source.name()))
            .or_insert(0) += 1;
        *sources
            .entry(format!("window:{}", cp.window_source.name()))
            .or_insert(0) += 1;
        if cp.action.is_some() {
            *sources
                .entry(format!("action:{}", cp.action_source.name()))
                .or_insert(0) += 1;
        }
        *segments.entry(cp.segment.name().to_string()).or_insert(0) += 1;
    }
    let channel_priors = config
        .channels
        .iter()
        .enumerate()
        .map(|(c, ch)| {
            (
                ch.name.clone(),
                (
                    channel_model.population[c].mean,
                    channel_model.segment_strength[c],
                    channel_model.client_strength[c],
                ),
            )
        })
        .collect();
    let summary = PlanSummary {
        start: inputs.start,
        days: config.days,
        clients: n,
        holdout: clients.iter().filter(|c| c.holdout).count(),
        eligible: clients.iter().filter(|c| c.excluded.is_none()).count(),
        planned: planned_count,
        expected_profit: total,
        expected_saved_value: saved,
        expected_incentives: incentives,
        contact_costs: costs,
        channels: summary_channels,
        actions,
        by_churn_probability,
        by_value_at_risk,
        key_clients: key.count,
        key_value_share: key.share_of_value,
        key_by: config.key_by,
        rfm_cuts: r.cuts,
        segments,
        concentration,
        sources,
        consent_on_record: cb.consent_on_record,
        contact_rows: book.rows,
        contact_rows_unknown_clients: book.unknown_rows,
        channel_priors,
        window_strength: window_model.client_strength,
    };
    Ok(Plan {
        clients,
        summary,
        channel_names,
        action_names,
        baselines,
    })
}
