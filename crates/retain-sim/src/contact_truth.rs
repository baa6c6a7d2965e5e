//! The contact truth: each client's true response model and uplift, the expected incremental
//! profit of any contact, and the files `clients.csv` and `contact_truth.csv`.

use std::collections::HashMap;
use std::io::{self, BufRead, BufReader, Read, Write};

use serde::{Deserialize, Serialize};

use crate::contacts_config::ContactsConfig;
use crate::error::SimError;
use crate::transactions::FLUSH_AT;

/// How a contact changes a client's churn (the uplift quadrant).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClientType {
    /// A response revives the client if it is dead (`s_plus > 0`).
    Persuadable = 0,
    /// No effect; would stay anyway (buys at least moderately often, low dropout).
    SureThing = 1,
    /// No effect; would leave anyway.
    LostCause = 2,
    /// A response kills the client if it is alive (`s_minus > 0`): contact harms.
    SleepingDog = 3,
}

impl ClientType {
    /// Every type, in the order of the enum.
    pub const ALL: [ClientType; 4] = [
        ClientType::Persuadable,
        ClientType::SureThing,
        ClientType::LostCause,
        ClientType::SleepingDog,
    ];

    /// The name written in the truth file, e.g. `sleeping_dog`.
    pub fn as_str(self) -> &'static str {
        match self {
            ClientType::Persuadable => "persuadable",
            ClientType::SureThing => "sure_thing",
            ClientType::LostCause => "lost_cause",
            ClientType::SleepingDog => "sleeping_dog",
        }
    }

    /// The type named `s` (as written by [`ClientType::as_str`]).
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

/// One client's attributes and true response model. Channels, actions and segments are indexes
/// into the [`ContactsConfig`] of the [`ContactTruth`] holding it.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientTruth {
    /// The client (`Customer ID` of the transactions).
    pub client_id: i64,
    /// Consent per channel.
    pub consent: Vec<bool>,
    /// The client must not be contacted at all.
    pub do_not_contact: bool,
    /// Fixed UTC offset of the client's local time, hours.
    pub utc_offset_hours: i8,
    /// Number of the account manager (written `AM01`...) of a managed account.
    pub account_manager: Option<u16>,
    /// Index of the segment.
    pub segment: usize,
    /// Gross margin on revenue.
    pub margin: f64,
    /// NPS score (0-10), for some clients.
    pub nps: Option<u8>,
    /// Index of the preferred channel, the one with the highest response rate.
    pub preferred_channel: usize,
    /// Response rate `r_ic` per channel (inside the window).
    pub response_rates: Vec<f64>,
    /// Weekday of the contact window, 0 = Monday (local time).
    pub window_weekday: u8,
    /// First hour of the 2-hour contact window (local time).
    pub window_start_hour: u8,
    /// How a contact changes the client's churn.
    pub client_type: ClientType,
    /// Per action: P(a response revives the client when dead).
    pub s_plus: Vec<f64>,
    /// Per action: P(a response kills the client when alive).
    pub s_minus: Vec<f64>,
    /// BG/NBD purchase rate, per week.
    pub lambda: f64,
    /// BG/NBD dropout probability after each purchase.
    pub p: f64,
    /// True mean order value (Gamma-Gamma `p / nu`).
    pub mean_spend: f64,
    /// Alive on the span's last day (after every contact's effect).
    pub alive_at_end: bool,
    /// `V = margin x mean_spend x (1 - exp(-lambda p H / 7)) / p`: the margin an alive client
    /// brings over the horizon H.
    pub value_if_alive: f64,
    /// How many contacts revived the client.
    pub revived: u32,
    /// How many contacts killed the client.
    pub killed: u32,
}

impl ClientTruth {
    /// True if the client is a managed account (has an account manager).
    pub fn managed(&self) -> bool {
        self.account_manager.is_some()
    }

    /// The time multiplier `m_i` at a local weekday (0 = Monday) and hour: 1 inside the window,
    /// `next_to_window` in the hour before and the hour after it (same weekday),
    /// `outside_window` elsewhere.
    pub fn time_multiplier(&self, cfg: &ContactsConfig, weekday: u8, hour: u8) -> f64 {
        let (w, h) = (self.window_weekday, self.window_start_hour);
        if weekday != w {
            cfg.outside_window
        } else if (h..h + 2).contains(&hour) {
            1.0
        } else if hour + 1 == h || hour == h + 2 {
            cfg.next_to_window
        } else {
            cfg.outside_window
        }
    }

    /// P(respond) to a contact on `channel` at a local weekday and hour:
    /// `r_ic * (1 - tau_c * (1 - m_i))`, `tau_c` the channel's time sensitivity.
    pub(crate) fn p_respond(
        &self,
        cfg: &ContactsConfig,
        channel: usize,
        weekday: u8,
        hour: u8,
    ) -> f64 {
        let tau = cfg.channels[channel].time_sensitivity;
        let m = self.time_multiplier(cfg, weekday, hour);
        self.response_rates[channel] * (1.0 - tau * (1.0 - m))
    }

    /// The incentive of `action` for this client, paid when it accepts.
    pub(crate) fn incentive(&self, cfg: &ContactsConfig, action: usize) -> f64 {
        let a = &cfg.actions[action];
        a.incentive + a.incentive_share * self.mean_spend
    }

    /// Why `action` on `channel` is not allowed for this client, if it is not.
    fn forbidden(&self, cfg: &ContactsConfig, channel: usize, action: usize) -> Option<String> {
        let (ch, a) = (&cfg.channels[channel], &cfg.actions[action]);
        if self.do_not_contact {
            Some("do not contact".into())
        } else if ch.managed_only && !self.managed() {
            Some(format!("{} is for managed accounts only", ch.name))
        } else if !self.consent[channel] {
            Some(format!("no consent to {}", ch.name))
        } else if !cfg.action_allowed(action, channel, self.managed()) {
            Some(if a.managed_only && !self.managed() {
                format!("{} is for managed accounts only", a.name)
            } else {
                format!("{} is not made on {}", a.name, ch.name)
            })
        } else {
            None
        }
    }
}

/// A contact of a plan: whom, on which channel, with which action, in which local window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedContact {
    /// The client.
    pub client_id: i64,
    /// Channel name.
    pub channel: String,
    /// Action name.
    pub action: String,
    /// Local weekday, 0 = Monday.
    pub weekday: u8,
    /// First hour (local) of the 2-hour window, 0..=22.
    pub start_hour: u8,
}

/// The true response model of every client, with the config's channels and actions: answers
/// what any contact or plan truly brings.
///
/// Built by [`generate_with_contacts`](crate::generate_with_contacts), or read back from its
/// `contact_truth.csv` with [`ContactTruth::read_csv`].
#[derive(Debug, Clone, PartialEq)]
pub struct ContactTruth {
    config: ContactsConfig,
    clients: Vec<ClientTruth>,
    index: HashMap<i64, usize>,
}

fn bool_str(b: bool) -> &'static str {
    if b { "true" } else { "false" }
}

/// `+01:00` for 1, `-05:00` for -5.
pub(crate) fn offset_str(hours: i8) -> String {
    let sign = if hours < 0 { '-' } else { '+' };
    format!("{sign}{:02}:00", hours.unsigned_abs())
}

fn check_hour(weekday: u8, start_hour: u8) -> Result<(), SimError> {
    if weekday > 6 {
        return Err(SimError::invalid(
            "weekday",
            weekday,
            "must be in 0..=6 (0 = Monday)",
        ));
    }
    if start_hour > 22 {
        return Err(SimError::invalid(
            "start_hour",
            start_hour,
            "must be in 0..=22 (the 2-hour window ends by midnight)",
        ));
    }
    Ok(())
}

impl ContactTruth {
    /// A truth over `clients` (ids must be unique) for a checked `config`.
    pub(crate) fn new(config: ContactsConfig, clients: Vec<ClientTruth>) -> Self {
        let index = clients
            .iter()
            .enumerate()
            .map(|(i, c)| (c.client_id, i))
            .collect();
        Self {
            config,
            clients,
            index,
        }
    }

    /// The contacts config the truth refers to (channel and action names, costs, ...).
    pub fn config(&self) -> &ContactsConfig {
        &self.config
    }

    /// Every client, in the order of the files.
    pub fn clients(&self) -> &[ClientTruth] {
        &self.clients
    }

    /// The truth of one client.
    ///
    /// # Errors
    /// [`SimError::UnknownClient`].
    pub fn client(&self, client_id: i64) -> Result<&ClientTruth, SimError> {
        self.index
            .get(&client_id)
            .map(|&i| &self.clients[i])
            .ok_or(SimError::UnknownClient(client_id))
    }

    fn channel(&self, name: &str) -> Result<usize, SimError> {
        self.config
            .channel_index(name)
            .ok_or_else(|| SimError::UnknownName {
                what: "channel",
                name: name.into(),
            })
    }

    fn action(&self, name: &str) -> Result<usize, SimError> {
        self.config
            .action_index(name)
            .ok_or_else(|| SimError::UnknownName {
                what: "action",
                name: name.into(),
            })
    }

    /// P(respond) to a contact on `channel` at one local weekday (0 = Monday) and hour (0..=23):
    /// `r_ic * (1 - tau_c * (1 - m_i(weekday, hour)))`.
    ///
    /// # Errors
    /// Unknown client or channel; weekday above 6 or hour above 23.
    pub fn response_probability_at(
        &self,
        client_id: i64,
        channel: &str,
        local_weekday: u8,
        local_hour: u8,
    ) -> Result<f64, SimError> {
        let c = self.client(client_id)?;
        let ch = self.channel(channel)?;
        if local_hour > 23 {
            return Err(SimError::invalid("hour", local_hour, "must be in 0..=23"));
        }
        check_hour(local_weekday, 0)?;
        Ok(c.p_respond(&self.config, ch, local_weekday, local_hour))
    }

    /// P(respond) to a contact on `channel` in the 2-hour window starting at a local weekday
    /// (0 = Monday) and hour: the mean of [`ContactTruth::response_probability_at`] over its
    /// two hours.
    ///
    /// # Errors
    /// Unknown client or channel; weekday above 6 or start hour above 22.
    pub fn response_probability(
        &self,
        client_id: i64,
        channel: &str,
        local_weekday: u8,
        local_start_hour: u8,
    ) -> Result<f64, SimError> {
        let c = self.client(client_id)?;
        let ch = self.channel(channel)?;
        check_hour(local_weekday, local_start_hour)?;
        Ok(self.window_probability(c, ch, local_weekday, local_start_hour))
    }

    fn window_probability(&self, c: &ClientTruth, ch: usize, weekday: u8, start: u8) -> f64 {
        0.5 * (c.p_respond(&self.config, ch, weekday, start)
            + c.p_respond(&self.config, ch, weekday, start + 1))
    }

    /// The expected incremental profit of one contact, at the planning date (the span's last
    /// day):
    ///
    /// `P(respond) * [(1 - alive) * s_plus * V + alive * s_plus * O - alive * s_minus * V
    /// - incentive * accept] - cost_channel - cost_action`
    ///
    /// with `P(respond)` from [`ContactTruth::response_probability`], `alive` the client's true
    /// state at the end of the span (0 or 1), `V` its `value_if_alive`, `O` the margin of one
    /// order (`margin x mean_spend`: the extra order a contact prompts an alive persuadable
    /// client to place), and the incentive
    /// (`incentive + incentive_share * mean_spend`) paid when a responder accepts.
    ///
    /// # Errors
    /// Unknown client, channel or action; a bad weekday or hour; or a contact the client's
    /// consent or the action's rules forbid ([`SimError::NotAllowed`]).
    pub fn expected_incremental_profit(
        &self,
        client_id: i64,
        channel: &str,
        action: &str,
        weekday: u8,
        start_hour: u8,
    ) -> Result<f64, SimError> {
        let c = self.client(client_id)?;
        let ch = self.channel(channel)?;
        let a = self.action(action)?;
        check_hour(weekday, start_hour)?;
        if let Some(reason) = c.forbidden(&self.config, ch, a) {
            return Err(SimError::NotAllowed { client_id, reason });
        }
        Ok(self.profit(c, ch, a, weekday, start_hour))
    }

    fn profit(&self, c: &ClientTruth, ch: usize, a: usize, weekday: u8, start: u8) -> f64 {
        let cfg = &self.config;
        let p = self.window_probability(c, ch, weekday, start);
        let alive = if c.alive_at_end { 1.0 } else { 0.0 };
        let v = c.value_if_alive;
        let order = c.margin * c.mean_spend;
        let gain = (1.0 - alive) * c.s_plus[a] * v + alive * c.s_plus[a] * order
            - alive * c.s_minus[a] * v
            - c.incentive(cfg, a) * cfg.actions[a].accept;
        p * gain - cfg.channels[ch].cost - cfg.actions[a].cost
    }

    /// The sum of [`ContactTruth::expected_incremental_profit`] over a plan; 0 for an empty
    /// plan.
    ///
    /// # Errors
    /// The first contact that is unknown, malformed or not allowed.
    pub fn plan_profit(&self, plan: &[PlannedContact]) -> Result<f64, SimError> {
        plan.iter().try_fold(0.0, |sum, p| {
            Ok(sum
                + self.expected_incremental_profit(
                    p.client_id,
                    &p.channel,
                    &p.action,
                    p.weekday,
                    p.start_hour,
                )?)
        })
    }

    /// The allowed contact of highest expected incremental profit for a client (by brute force
    /// over channels, actions, Monday-Friday and the window starts of business hours, 9..=16),
    /// with its profit; `None` if nothing is allowed. Ties go to the first in that order.
    ///
    /// # Errors
    /// [`SimError::UnknownClient`].
    pub fn best_contact(&self, client_id: i64) -> Result<Option<(PlannedContact, f64)>, SimError> {
        let c = self.client(client_id)?;
        let cfg = &self.config;
        let mut best: Option<(usize, usize, u8, u8, f64)> = None;
        for ch in 0..cfg.channels.len() {
            for a in 0..cfg.actions.len() {
                if c.forbidden(cfg, ch, a).is_some() {
                    continue;
                }
                for weekday in 0..5 {
                    for start in
                        crate::response::FIRST_BUSINESS_HOUR..=crate::response::LAST_WINDOW_START
                    {
                        let v = self.profit(c, ch, a, weekday, start);
                        if best.is_none_or(|b| v > b.4) {
                            best = Some((ch, a, weekday, start, v));
                        }
                    }
                }
            }
        }
        Ok(best.map(|(ch, a, weekday, start_hour, v)| {
            (
                PlannedContact {
                    client_id,
                    channel: cfg.channels[ch].name.clone(),
                    action: cfg.actions[a].name.clone(),
                    weekday,
                    start_hour,
                },
                v,
            )
        }))
    }

    /// The header of [`ContactTruth::write_clients_csv`].
    pub fn clients_header(&self) -> String {
        let mut h = String::from("client_id");
        for c in &self.config.channels {
            h.push_str(",consent_");
            h.push_str(&c.name);
        }
        h.push_str(",do_not_contact,timezone,account_manager,segment,margin,nps");
        h
    }

    /// Writes `clients.csv`: what the business knows of each client, one row per client:
    /// `client_id, consent_<channel>... (true/false), do_not_contact (true/false), timezone
    /// (+01:00), account_manager (AM07 or empty), segment, margin, nps (0-10 or empty)`.
    ///
    /// # Errors
    /// Any I/O error of `w`.
    pub fn write_clients_csv(&self, mut w: impl Write) -> io::Result<()> {
        let mut buf = Vec::with_capacity(FLUSH_AT + 4096);
        writeln!(buf, "{}", self.clients_header())?;
        for c in &self.clients {
            write!(buf, "{}", c.client_id)?;
            for &ok in &c.consent {
                write!(buf, ",{}", bool_str(ok))?;
            }
            write!(
                buf,
                ",{},{},",
                bool_str(c.do_not_contact),
                offset_str(c.utc_offset_hours)
            )?;
            if let Some(am) = c.account_manager {
                write!(buf, "AM{am:02}")?;
            }
            write!(
                buf,
                ",{},{},",
                self.config.segments[c.segment].name, c.margin
            )?;
            if let Some(nps) = c.nps {
                write!(buf, "{nps}")?;
            }
            buf.push(b'\n');
            if buf.len() >= FLUSH_AT {
                w.write_all(&buf)?;
                buf.clear();
            }
        }
        w.write_all(&buf)?;
        w.flush()
    }

    /// The header of [`ContactTruth::write_csv`].
    pub fn header(&self) -> String {
        let cfg = &self.config;
        let mut h = String::from("client_id,preferred_channel");
        for c in &cfg.channels {
            h.push_str(",r_");
            h.push_str(&c.name);
        }
        h.push_str(",window_weekday,window_start_hour,utc_offset,type");
        for prefix in ["s_plus_", "s_minus_"] {
            for a in &cfg.actions {
                h.push(',');
                h.push_str(prefix);
                h.push_str(&a.name);
            }
        }
        h.push_str(",lambda,p,mean_spend,alive_at_end,value_if_alive,revived,killed");
        h.push_str(",segment,margin,account_manager,do_not_contact");
        for c in &cfg.channels {
            h.push_str(",consent_");
            h.push_str(&c.name);
        }
        h.push_str(",nps");
        h
    }

    /// Writes `contact_truth.csv`, one row per client, columns as in [`ContactTruth::header`]:
    /// `client_id, preferred_channel, r_<channel>..., window_weekday (0 = Monday),
    /// window_start_hour (local), utc_offset (+01:00), type, s_plus_<action>...,
    /// s_minus_<action>..., lambda (per week), p, mean_spend, alive_at_end, value_if_alive,
    /// revived, killed`, then the attributes of `clients.csv` (`segment, margin,
    /// account_manager, do_not_contact, consent_<channel>..., nps`) so that the file alone
    /// (with the config) gives back the truth. Numbers are written in full (shortest form that
    /// reads back to the same `f64`).
    ///
    /// # Errors
    /// Any I/O error of `w`.
    pub fn write_csv(&self, mut w: impl Write) -> io::Result<()> {
        let cfg = &self.config;
        let mut buf = Vec::with_capacity(FLUSH_AT + 4096);
        writeln!(buf, "{}", self.header())?;
        for c in &self.clients {
            write!(
                buf,
                "{},{}",
                c.client_id, cfg.channels[c.preferred_channel].name
            )?;
            for r in &c.response_rates {
                write!(buf, ",{r}")?;
            }
            write!(
                buf,
                ",{},{},{},{}",
                c.window_weekday,
                c.window_start_hour,
                offset_str(c.utc_offset_hours),
                c.client_type.as_str()
            )?;
            for s in c.s_plus.iter().chain(&c.s_minus) {
                write!(buf, ",{s}")?;
            }
            write!(
                buf,
                ",{},{},{},{},{},{},{},{},{},",
                c.lambda,
                c.p,
                c.mean_spend,
                bool_str(c.alive_at_end),
                c.value_if_alive,
                c.revived,
                c.killed,
                cfg.segments[c.segment].name,
                c.margin
            )?;
            if let Some(am) = c.account_manager {
                write!(buf, "AM{am:02}")?;
            }
            write!(buf, ",{}", bool_str(c.do_not_contact))?;
            for &ok in &c.consent {
                write!(buf, ",{}", bool_str(ok))?;
            }
            buf.push(b',');
            if let Some(nps) = c.nps {
                write!(buf, "{nps}")?;
            }
            buf.push(b'\n');
            if buf.len() >= FLUSH_AT {
                w.write_all(&buf)?;
                buf.clear();
            }
        }
        w.write_all(&buf)?;
        w.flush()
    }

    /// Reads back a `contact_truth.csv` written by [`ContactTruth::write_csv`], with the
    /// contacts config it was generated with (the `contacts` of the `SimConfig` written beside
    /// the data).
    ///
    /// # Errors
    /// An invalid `config`; a header that is not the config's (naming the first column that
    /// differs); a field that does not parse (naming line and column); a duplicate client.
    pub fn read_csv(r: impl Read, config: &ContactsConfig) -> Result<Self, SimError> {
        config.check()?;
        let mut lines = BufReader::new(r).lines();
        let parse_err = |line: usize, column: &str, reason: String| SimError::Parse {
            line,
            column: column.into(),
            reason,
        };
        let io_err = |line: usize, e: io::Error| parse_err(line, "", format!("reading: {e}"));
        let header_line = match lines.next() {
            Some(h) => h.map_err(|e| io_err(1, e))?,
            None => return Err(parse_err(1, "", "the file is empty".into())),
        };
        let empty = Self::new(config.clone(), Vec::new());
        let want = empty.header();
        let want_cols: Vec<&str> = want.split(',').collect();
        let got: Vec<&str> = header_line.trim_end_matches('\r').split(',').collect();
        for i in 0..want_cols.len().max(got.len()) {
            let (w, g) = (want_cols.get(i), got.get(i));
            if w != g {
                return Err(parse_err(
                    1,
                    w.or(g).copied().unwrap_or(""),
                    format!(
                        "header column {} is {:?}, expected {:?} (the config's channels and actions)",
                        i + 1,
                        g.copied().unwrap_or("<missing>"),
                        w.copied().unwrap_or("<nothing>")
                    ),
                ));
            }
        }
        let (nc, na) = (config.channels.len(), config.actions.len());
        let mut clients = Vec::new();
        let mut seen = HashMap::new();
        for (k, line) in lines.enumerate() {
            let n = k + 2;
            let line = line.map_err(|e| io_err(n, e))?;
            let line = line.trim_end_matches('\r');
            if line.is_empty() {
                continue;
            }
            let fields: Vec<&str> = line.split(',').collect();
            if fields.len() != want_cols.len() {
                return Err(parse_err(
                    n,
                    "",
                    format!("{} fields, expected {}", fields.len(), want_cols.len()),
                ));
            }
            let mut at = 0usize;
            let mut next = || {
                let i = at;
                at += 1;
                (fields[i], want_cols[i])
            };
            let bad =
                |col: &str, v: &str, what: &str| parse_err(n, col, format!("{v:?} is not {what}"));
            fn num<T: std::str::FromStr>(v: &str) -> Option<T> {
                v.parse().ok()
            }
            let float = |(v, col): (&str, &str)| {
                num::<f64>(v)
                    .filter(|x| x.is_finite())
                    .ok_or_else(|| bad(col, v, "a finite number"))
            };
            let prob = |(v, col): (&str, &str)| {
                num::<f64>(v)
                    .filter(|x| (0.0..=1.0).contains(x))
                    .ok_or_else(|| bad(col, v, "a number in [0, 1]"))
            };
            let boolean = |(v, col): (&str, &str)| match v {
                "true" => Ok(true),
                "false" => Ok(false),
                _ => Err(bad(col, v, "true or false")),
            };
            let (v, col) = next();
            let client_id: i64 = num(v).ok_or_else(|| bad(col, v, "an integer"))?;
            let (v, col) = next();
            let preferred_channel = config
                .channel_index(v)
                .ok_or_else(|| bad(col, v, "a channel of the config"))?;
            let response_rates = (0..nc)
                .map(|_| prob(next()))
                .collect::<Result<Vec<_>, _>>()?;
            let (v, col) = next();
            let window_weekday: u8 = num(v)
                .filter(|w| *w < 7)
                .ok_or_else(|| bad(col, v, "a weekday 0..=6"))?;
            let (v, col) = next();
            let window_start_hour: u8 = num(v)
                .filter(|h| *h <= 22)
                .ok_or_else(|| bad(col, v, "an hour 0..=22"))?;
            let (v, col) = next();
            let utc_offset_hours =
                parse_offset(v).ok_or_else(|| bad(col, v, "an offset like +01:00"))?;
            let (v, col) = next();
            let client_type = ClientType::parse(v).ok_or_else(|| bad(col, v, "a client type"))?;
            let s_plus = (0..na)
                .map(|_| prob(next()))
                .collect::<Result<Vec<_>, _>>()?;
            let s_minus = (0..na)
                .map(|_| prob(next()))
                .collect::<Result<Vec<_>, _>>()?;
            let lambda = float(next())?;
            let p = prob(next())?;
            let mean_spend = float(next())?;
            let alive_at_end = boolean(next())?;
            let value_if_alive = float(next())?;
            let (v, col) = next();
            let revived: u32 = num(v).ok_or_else(|| bad(col, v, "a count"))?;
            let (v, col) = next();
            let killed: u32 = num(v).ok_or_else(|| bad(col, v, "a count"))?;
            let (v, col) = next();
            let segment = config
                .segments
                .iter()
                .position(|s| s.name == v)
                .ok_or_else(|| bad(col, v, "a segment of the config"))?;
            let margin = prob(next())?;
            let (v, col) = next();
            let account_manager = if v.is_empty() {
                None
            } else {
                Some(
                    v.strip_prefix("AM")
                        .and_then(num::<u16>)
                        .ok_or_else(|| bad(col, v, "empty or like AM07"))?,
                )
            };
            let do_not_contact = boolean(next())?;
            let consent = (0..nc)
                .map(|_| boolean(next()))
                .collect::<Result<Vec<_>, _>>()?;
            let (v, col) = next();
            let nps = if v.is_empty() {
                None
            } else {
                Some(
                    num::<u8>(v)
                        .filter(|x| *x <= 10)
                        .ok_or_else(|| bad(col, v, "empty or a score 0..=10"))?,
                )
            };
            if seen.insert(client_id, n).is_some() {
                return Err(parse_err(
                    n,
                    "client_id",
                    format!("client {client_id} appears twice"),
                ));
            }
            clients.push(ClientTruth {
                client_id,
                consent,
                do_not_contact,
                utc_offset_hours,
                account_manager,
                segment,
                margin,
                nps,
                preferred_channel,
                response_rates,
                window_weekday,
                window_start_hour,
                client_type,
                s_plus,
                s_minus,
                lambda,
                p,
                mean_spend,
                alive_at_end,
                value_if_alive,
                revived,
                killed,
            });
        }
        Ok(Self::new(config.clone(), clients))
    }
}

/// Parses `+01:00` / `-05:00` (whole hours, -12..=14).
fn parse_offset(s: &str) -> Option<i8> {
    let b = s.as_bytes();
    if b.len() != 6 || !matches!(b[0], b'+' | b'-') || &s[3..] != ":00" {
        return None;
    }
    let h: i8 = s[1..3].parse().ok()?;
    let h = if b[0] == b'-' { -h } else { h };
    (-12..=14).contains(&h).then_some(h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_round_trip() {
        for h in -12..=14 {
            assert_eq!(parse_offset(&offset_str(h)), Some(h));
        }
        assert_eq!(offset_str(1), "+01:00");
        assert_eq!(offset_str(-5), "-05:00");
        assert_eq!(offset_str(10), "+10:00");
        for bad in ["+1:00", "01:00", "+01:30", "+15:00", "", "+aa:00"] {
            assert_eq!(parse_offset(bad), None, "{bad}");
        }
    }
}
