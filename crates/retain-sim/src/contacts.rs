//! The contact history: campaigns (with a random control group) and service contacts of
//! managed accounts, their outcomes under the known response model, and the contacts log.

use std::io::{self, Write};

use chrono::{NaiveDate, NaiveDateTime, TimeDelta};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::contact_truth::ClientTruth;
use crate::contacts_config::ContactsConfig;
use crate::response::{END_BUSINESS_HOUR, FIRST_BUSINESS_HOUR};
use crate::transactions::{FLUSH_AT, push_date, push_int, push_price};

/// The header of the contacts log ([`ContactLog::write_csv`], [`simulate_contacts_for`](crate::simulate_contacts_for)).
pub const CONTACTS_HEADER: &str = "client_id,timestamp,channel,action,outcome,group,cost";

/// Seconds in a day and in a week.
pub(crate) const DAY: i64 = 86_400;
pub(crate) const WEEK: f64 = 7.0 * 86_400.0;

/// The outcome of a treated contact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The client did not respond.
    NoAnswer,
    /// The client responded but did not accept the offer.
    Responded,
    /// The client responded and accepted the offer (the incentive is paid).
    Converted,
}

impl Outcome {
    /// The name written in the log.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::NoAnswer => "no_answer",
            Outcome::Responded => "responded",
            Outcome::Converted => "converted",
        }
    }

    /// True for `responded` and `converted`.
    pub fn is_response(self) -> bool {
        self != Outcome::NoAnswer
    }
}

/// Whether a campaign's pick was contacted or held out, or the contact was no campaign's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Group {
    /// A campaign's pick, contacted.
    Treated,
    /// A campaign's pick, held out at random: not contacted, logged with what it would have
    /// received.
    Control,
    /// A service contact (an account manager's call): contacted, but in no experiment, so
    /// its group is left empty in the log.
    Service,
}

impl Group {
    /// The name written in the log (empty for a service contact).
    pub fn as_str(self) -> &'static str {
        match self {
            Group::Treated => "treated",
            Group::Control => "control",
            Group::Service => "",
        }
    }
}

/// One row of the contacts log.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Contact {
    /// The client (`Customer ID`).
    pub client_id: i64,
    /// When, in UTC.
    pub timestamp: NaiveDateTime,
    /// Index of the channel in [`ContactLog::channels`].
    pub channel: u16,
    /// Index of the action in [`ContactLog::actions`].
    pub action: u16,
    /// Treated or control.
    pub group: Group,
    /// The outcome; `None` for control rows (not contacted).
    pub outcome: Option<Outcome>,
    /// Money spent: channel cost + action cost + the incentive when converted; 0 for control.
    pub cost: f64,
}

/// The contacts log: one row per contact (or held-out control), sorted by time.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ContactLog {
    /// Channel names, indexed by [`Contact::channel`].
    pub channels: Vec<String>,
    /// Action names, indexed by [`Contact::action`].
    pub actions: Vec<String>,
    /// The rows, by timestamp then client.
    pub rows: Vec<Contact>,
}

impl ContactLog {
    /// Number of rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// True when there are no rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Writes the log as CSV: [`CONTACTS_HEADER`], timestamps as `YYYY-MM-DDTHH:MM:SSZ`
    /// (UTC), outcome `no_answer` / `responded` / `converted` (empty for control rows), group
    /// `treated` / `control`, cost with 2 decimals.
    ///
    /// # Errors
    /// Any I/O error of `w`.
    pub fn write_csv(&self, mut w: impl Write) -> io::Result<()> {
        let mut buf = Vec::with_capacity(FLUSH_AT + 4096);
        buf.extend_from_slice(CONTACTS_HEADER.as_bytes());
        buf.push(b'\n');
        for row in &self.rows {
            push_contact(
                &mut buf,
                row,
                &self.channels[usize::from(row.channel)],
                &self.actions[usize::from(row.action)],
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

/// Appends one contacts row (with its line break).
pub(crate) fn push_contact(buf: &mut Vec<u8>, row: &Contact, channel: &str, action: &str) {
    push_int(buf, row.client_id);
    buf.push(b',');
    push_date(buf, row.timestamp);
    // `YYYY-MM-DD HH:MM:SS` -> `YYYY-MM-DDTHH:MM:SSZ`
    let at = buf.len() - 9;
    buf[at] = b'T';
    buf.extend_from_slice(b"Z,");
    buf.extend_from_slice(channel.as_bytes());
    buf.push(b',');
    buf.extend_from_slice(action.as_bytes());
    buf.push(b',');
    if let Some(o) = row.outcome {
        buf.extend_from_slice(o.as_str().as_bytes());
    }
    buf.push(b',');
    buf.extend_from_slice(row.group.as_str().as_bytes());
    buf.push(b',');
    push_price(buf, row.cost);
    buf.push(b'\n');
}

/// The calendar of the contact history, in days since the span's start.
#[derive(Debug, Clone)]
pub(crate) struct Calendar {
    /// Weekday (0 = Monday) of day 0.
    pub(crate) start_weekday: i64,
    /// Number of days of the span.
    pub(crate) span: i64,
    /// First day of the history.
    pub(crate) history_start: i64,
    /// Campaigns: first day (a campaign lasts 7 days) and the share of eligible clients picked.
    pub(crate) campaigns: Vec<(i64, f64)>,
    /// Days between two service contacts.
    pub(crate) service_every: i64,
}

/// Stream key of the campaign shares (xor-ed into the seed).
const CAMPAIGN_KEY: u64 = 0x6361_6d70_6169_676e;

impl Calendar {
    /// The history of `cfg` over a span of `span` days starting on `start`; campaign shares
    /// drawn from the seed.
    pub(crate) fn new(cfg: &ContactsConfig, start: NaiveDate, span: u32, seed: u64) -> Self {
        use chrono::Datelike;
        let span = i64::from(span);
        let history_start = span - i64::from(cfg.history_days).min(span);
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ CAMPAIGN_KEY);
        let mut campaigns = Vec::new();
        let mut day = history_start;
        while day + 7 <= span {
            let share = rng.random_range(cfg.campaign_share_min..=cfg.campaign_share_max);
            campaigns.push((day, share));
            day += i64::from(cfg.campaign_every_days);
        }
        Self {
            start_weekday: i64::from(start.weekday().num_days_from_monday()),
            span,
            history_start,
            campaigns,
            service_every: i64::from(cfg.service_every_days),
        }
    }

    fn weekday(&self, day: i64) -> i64 {
        (self.start_weekday + day).rem_euclid(7)
    }
}

/// A contact before its outcome: UTC seconds since the span's start, local weekday and hour.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Scheduled {
    pub(crate) ts: i64,
    pub(crate) weekday: u8,
    pub(crate) hour: u8,
    pub(crate) channel: u16,
    pub(crate) action: u16,
    pub(crate) group: Group,
}

/// A contact with its drawn outcome; `effect_draw` decides a revival or kill (by the caller,
/// who knows whether the client is alive).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Drawn {
    pub(crate) contact: Scheduled,
    pub(crate) outcome: Option<Outcome>,
    pub(crate) effect_draw: f64,
    pub(crate) cost: f64,
}

/// A local time in `[from, from + len)` days (and inside the span): a uniform business day
/// (Mon-Fri local), hour in business hours and minute; `None` if there is no such day or the
/// UTC time falls outside the span.
pub(crate) fn business_time<R: Rng>(
    rng: &mut R,
    cal: &Calendar,
    offset: i8,
    from: i64,
    len: i64,
) -> Option<(i64, u8, u8)> {
    let days = from..(from + len).min(cal.span);
    let n = days.clone().filter(|&d| cal.weekday(d) < 5).count();
    if n == 0 {
        return None;
    }
    let k = rng.random_range(0..n);
    let day = days
        .filter(|&d| cal.weekday(d) < 5)
        .nth(k)
        .expect("k < n business days");
    let hour = rng.random_range(FIRST_BUSINESS_HOUR..END_BUSINESS_HOUR);
    let minute = rng.random_range(0..60i64);
    to_utc(cal, offset, day, hour, minute)
}

/// A local time inside the client's window, on the window's weekday in `[from, from + len)`.
pub(crate) fn window_time<R: Rng>(
    rng: &mut R,
    cal: &Calendar,
    offset: i8,
    from: i64,
    len: i64,
    client: &ClientTruth,
) -> Option<(i64, u8, u8)> {
    let day = (from..(from + len).min(cal.span))
        .find(|&d| cal.weekday(d) == i64::from(client.window_weekday))?;
    let hour = client.window_start_hour + rng.random_range(0..2u8);
    let minute = rng.random_range(0..60i64);
    to_utc(cal, offset, day, hour, minute)
}

fn to_utc(cal: &Calendar, offset: i8, day: i64, hour: u8, minute: i64) -> Option<(i64, u8, u8)> {
    let ts = day * DAY + i64::from(hour) * 3600 + minute * 60 - i64::from(offset) * 3600;
    (0..cal.span * DAY)
        .contains(&ts)
        .then_some((ts, cal.weekday(day) as u8, hour))
}

/// Channels a client can be contacted on (consented and eligible), and with which actions.
pub(crate) struct Reach {
    channels: Vec<u16>,
    /// Per channel of `channels`: the allowed actions.
    actions: Vec<Vec<u16>>,
    /// Channels on which the service action is allowed.
    service_channels: Vec<u16>,
    service_action: u16,
}

impl Reach {
    pub(crate) fn new(cfg: &ContactsConfig, client: &ClientTruth) -> Self {
        let managed = client.managed();
        let service_action = cfg
            .action_index(&cfg.service_action)
            .expect("checked service action");
        let mut reach = Self {
            channels: Vec::new(),
            actions: Vec::new(),
            service_channels: Vec::new(),
            service_action: service_action as u16,
        };
        if client.do_not_contact {
            return reach;
        }
        for c in 0..cfg.channels.len() {
            if !client.consent[c] || (cfg.channels[c].managed_only && !managed) {
                continue;
            }
            let allowed: Vec<u16> = (0..cfg.actions.len())
                .filter(|&a| cfg.action_allowed(a, c, managed))
                .map(|a| a as u16)
                .collect();
            if allowed.is_empty() {
                continue;
            }
            if allowed.contains(&reach.service_action) {
                reach.service_channels.push(c as u16);
            }
            reach.channels.push(c as u16);
            reach.actions.push(allowed);
        }
        reach
    }

    /// True if the client can be contacted at all.
    pub(crate) fn any(&self) -> bool {
        !self.channels.is_empty()
    }

    /// A uniform channel, then a uniform action allowed on it.
    pub(crate) fn pick<R: Rng>(&self, rng: &mut R) -> (u16, u16) {
        let k = rng.random_range(0..self.channels.len());
        let actions = &self.actions[k];
        (
            self.channels[k],
            actions[rng.random_range(0..actions.len())],
        )
    }
}

/// The client's contacts in the history: campaigns it is picked by after `acquired_ts`, and
/// weekly service contacts if it is a managed account. Appended to `out`, sorted by time.
pub(crate) fn schedule<R: Rng>(
    rng: &mut R,
    cfg: &ContactsConfig,
    cal: &Calendar,
    client: &ClientTruth,
    reach: &Reach,
    acquired_ts: i64,
    out: &mut Vec<Scheduled>,
) {
    out.clear();
    if !reach.any() {
        return;
    }
    let offset = client.utc_offset_hours;
    for &(day, share) in &cal.campaigns {
        let picked = rng.random::<f64>() < share;
        if !picked || acquired_ts >= day * DAY {
            continue;
        }
        let group = if rng.random::<f64>() < cfg.control_share {
            Group::Control
        } else {
            Group::Treated
        };
        let (channel, action) = reach.pick(rng);
        if let Some((ts, weekday, hour)) = business_time(rng, cal, offset, day, 7) {
            out.push(Scheduled {
                ts,
                weekday,
                hour,
                channel,
                action,
                group,
            });
        }
    }
    if client.managed() && !reach.service_channels.is_empty() {
        let mut day = cal.history_start;
        while day < cal.span {
            if acquired_ts < day * DAY {
                let k = rng.random_range(0..reach.service_channels.len());
                let channel = reach.service_channels[k];
                let when = if rng.random::<f64>() < cfg.service_in_window {
                    window_time(rng, cal, offset, day, cal.service_every, client)
                } else {
                    business_time(rng, cal, offset, day, cal.service_every)
                };
                if let Some((ts, weekday, hour)) = when {
                    out.push(Scheduled {
                        ts,
                        weekday,
                        hour,
                        channel,
                        action: reach.service_action,
                        group: Group::Service,
                    });
                }
            }
            day += cal.service_every;
        }
    }
    out.sort_by_key(|s| s.ts);
}

/// Draws the outcome of each scheduled contact (three draws each, in time order).
pub(crate) fn outcomes<R: Rng>(
    rng: &mut R,
    cfg: &ContactsConfig,
    client: &ClientTruth,
    scheduled: &[Scheduled],
    out: &mut Vec<Drawn>,
) {
    out.clear();
    for &s in scheduled {
        let (u_respond, u_accept, effect_draw) = (
            rng.random::<f64>(),
            rng.random::<f64>(),
            rng.random::<f64>(),
        );
        let (channel, action) = (usize::from(s.channel), usize::from(s.action));
        let (outcome, cost) = match s.group {
            Group::Control => (None, 0.0),
            Group::Treated | Group::Service => {
                let p = client.p_respond(cfg, channel, s.weekday, s.hour);
                let base = cfg.channels[channel].cost + cfg.actions[action].cost;
                if u_respond >= p {
                    (Some(Outcome::NoAnswer), base)
                } else if u_accept < cfg.actions[action].accept {
                    (
                        Some(Outcome::Converted),
                        base + client.incentive(cfg, action),
                    )
                } else {
                    (Some(Outcome::Responded), base)
                }
            }
        };
        out.push(Drawn {
            contact: s,
            outcome,
            effect_draw,
            cost,
        });
    }
}

/// Converts a drawn contact to a log row.
pub(crate) fn to_row(d: &Drawn, client_id: i64, midnight: NaiveDateTime) -> Contact {
    Contact {
        client_id,
        timestamp: midnight + TimeDelta::seconds(d.contact.ts),
        channel: d.contact.channel,
        action: d.contact.action,
        group: d.contact.group,
        outcome: d.outcome,
        cost: d.cost,
    }
}
