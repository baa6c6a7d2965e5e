//! The configuration of the contacts simulation: channels, actions, segments, the response
//! model and the contact history.

use serde::{Deserialize, Serialize};

use crate::error::SimError;

/// A contact channel and its response model.
///
/// A client's response rate on channel `c` is `r_ic = sigmoid(base_logit_c + shift_sc +
/// boost * [c == preferred_i] + sigma * z_ic)` (see [`ContactsConfig`]); the probability of a
/// response to a contact at local time `t` is `r_ic * (1 - time_sensitivity_c * (1 - m_i(t)))`,
/// `m_i` being the client's time multiplier (1 inside its window).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelSpec {
    /// Name, as written in the files (lower case letters, digits and `_`).
    pub name: String,
    /// Cost of one contact on this channel (money).
    pub cost: f64,
    /// Probability that a client consents to this channel (ignored for `managed_only`
    /// channels: every managed account consents to them).
    pub consent: f64,
    /// Base logit of the response rate.
    pub base_logit: f64,
    /// How much the contact's local time matters, in [0, 1]: 1 for a call (it must reach the
    /// client when available), less for a message read later.
    #[serde(default = "one")]
    pub time_sensitivity: f64,
    /// Only managed accounts (clients with an account manager) can be reached this way.
    #[serde(default)]
    pub managed_only: bool,
}

/// An action (what the contact offers) and its true effect.
///
/// A persuadable client who responds while dead is revived with probability
/// `s_plus = save * u_i`, and while alive places an extra order within two weeks with the
/// same probability (the contact prompts it); a sleeping dog who responds while alive is
/// killed with probability
/// `s_minus = harm * v_i` (`u_i`, `v_i` uniform in [`UpliftSpec::susceptibility_min`], 1]).
/// The incentive, `incentive + incentive_share * mean order value`, is paid when a responder
/// accepts (probability `accept`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionSpec {
    /// Name, as written in the files (lower case letters, digits and `_`).
    pub name: String,
    /// The channels this action can be made on (names of [`ContactsConfig::channels`]).
    pub channels: Vec<String>,
    /// Only for managed accounts.
    #[serde(default)]
    pub managed_only: bool,
    /// Fixed incentive paid when accepted (money).
    #[serde(default)]
    pub incentive: f64,
    /// Incentive as a share of the client's mean order value, paid when accepted.
    #[serde(default)]
    pub incentive_share: f64,
    /// Probability that a responder accepts the offer (outcome `converted`).
    pub accept: f64,
    /// Cost of the action per contact, on top of the channel's (money).
    #[serde(default)]
    pub cost: f64,
    /// Largest probability that a response revives a dead persuadable client.
    pub save: f64,
    /// Largest probability that a response kills an alive sleeping dog.
    pub harm: f64,
}

/// A segment of the business: its share of the clients and its channel habits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SegmentSpec {
    /// Name, as written in the files (lower case letters, digits and `_`).
    pub name: String,
    /// Relative weight among clients whose mean order value is below
    /// [`ContactsConfig::big_order_value`].
    pub weight: f64,
    /// Relative weight among clients whose mean order value is at least `big_order_value`.
    pub big_order_weight: f64,
    /// Relative weight of each channel (in the order of `channels`) as the preferred one.
    pub preferred: Vec<f64>,
    /// Logit shift of each channel's response rate (in the order of `channels`).
    pub shift: Vec<f64>,
    /// Smallest gross margin of the segment's clients.
    pub margin_min: f64,
    /// Largest gross margin of the segment's clients.
    pub margin_max: f64,
}

/// The UTC offset (whole hours) of the clients of a country.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CountryOffset {
    /// The country name, as in [`SimConfig::countries`](crate::SimConfig::countries).
    pub country: String,
    /// Offset of local time from UTC, in hours.
    pub hours: i8,
}

/// Who is helped or harmed by a contact, from observable behaviour.
///
/// A client's purchase rate `lambda` (per week) and mean order value `m` place it:
/// - **frequent** (`lambda > frequent_rate`): a sleeping dog with probability `dog_frequent`,
///   else a sure thing;
/// - otherwise a sleeping dog with probability `dog_other`, else persuadable with probability
///   `persuadable_both` if `moderate_rate <= lambda` and `mid_value_min <= m <= mid_value_max`,
///   `persuadable_one` if only one holds, `persuadable_neither` if none, times
///   `not_at_risk_factor` when the client's dropout probability `p` is below `at_risk_p` (the
///   persuadable are mostly clients at risk: a contact can only win back a client who left,
///   and those who leave easily show it in their recency); the rest are sure things
///   (`lambda >= moderate_rate` and `p < sure_thing_p`) or lost causes.
///
/// | Name | Default | Purpose | Range |
/// |---|---|---|---|
/// | `frequent_rate` | 0.25 | purchases per week above which a client is frequent (about 6.5% of clients) | (0, inf) |
/// | `moderate_rate` | 0.03 | purchases per week from which a client buys moderately often | [0, `frequent_rate`] |
/// | `mid_value_min` | 150 | smallest mid-value mean order value | [0, `mid_value_max`] |
/// | `mid_value_max` | 600 | largest mid-value mean order value | [`mid_value_min`, inf) |
/// | `dog_frequent` | 0.6 | P(sleeping dog) of a frequent client | [0, 1] |
/// | `dog_other` | 0.02 | P(sleeping dog) of another client | [0, 1] |
/// | `persuadable_both` | 0.6 | P(persuadable) of a moderate, mid-value client | [0, 1] |
/// | `persuadable_one` | 0.25 | P(persuadable) of a client with one of the two | [0, 1] |
/// | `persuadable_neither` | 0.05 | P(persuadable) of a client with neither | [0, 1] |
/// | `at_risk_p` | 0.03 | dropout probability from which a client is at risk (about 37% of clients) | [0, 1] |
/// | `not_at_risk_factor` | 0.2 | multiplies P(persuadable) of a client not at risk | [0, 1] |
/// | `sure_thing_p` | 0.05 | dropout probability below which an unaffected client is a sure thing | [0, 1] |
/// | `susceptibility_min` | 0.7 | `u_i`, `v_i` are uniform in [this, 1] | [0, 1] |
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UpliftSpec {
    /// Purchases per week above which a client is frequent.
    pub frequent_rate: f64,
    /// Purchases per week from which a client buys moderately often.
    pub moderate_rate: f64,
    /// Smallest mid-value mean order value.
    pub mid_value_min: f64,
    /// Largest mid-value mean order value.
    pub mid_value_max: f64,
    /// P(sleeping dog) of a frequent client.
    pub dog_frequent: f64,
    /// P(sleeping dog) of another client.
    pub dog_other: f64,
    /// P(persuadable) of a moderate, mid-value client.
    pub persuadable_both: f64,
    /// P(persuadable) of a client with one of the two.
    pub persuadable_one: f64,
    /// P(persuadable) of a client with neither.
    pub persuadable_neither: f64,
    /// Dropout probability from which a client is at risk.
    pub at_risk_p: f64,
    /// Multiplies P(persuadable) of a client not at risk.
    pub not_at_risk_factor: f64,
    /// Dropout probability below which an unaffected client is a sure thing.
    pub sure_thing_p: f64,
    /// The client's susceptibilities `u_i`, `v_i` are uniform in [this, 1].
    pub susceptibility_min: f64,
}

impl Default for UpliftSpec {
    fn default() -> Self {
        Self {
            frequent_rate: 0.25,
            moderate_rate: 0.03,
            mid_value_min: 150.0,
            mid_value_max: 600.0,
            dog_frequent: 0.6,
            dog_other: 0.02,
            persuadable_both: 0.8,
            persuadable_one: 0.4,
            persuadable_neither: 0.1,
            at_risk_p: 0.08,
            not_at_risk_factor: 0.1,
            sure_thing_p: 0.05,
            susceptibility_min: 0.7,
        }
    }
}

/// Parameters of the contacts simulation: the clients' attributes, a known response model,
/// the true effect of each action, and a history of campaigns and service contacts.
///
/// Turned on by [`SimConfig::contacts`](crate::SimConfig::contacts); see the crate docs for
/// the formulas and the files. Business hours are 9:00-18:00 local time, Monday to Friday;
/// a window is 2 hours starting at 9..=16.
///
/// | Name | Default | Purpose | Range |
/// |---|---|---|---|
/// | `channels` | email (cost 0.10, consent 0.90, base logit -1.7, time sensitivity 0.3), sms (0.30, 0.55, -1.5, 0.6), phone (4.00, 0.75, -1.3, 1.0), meeting (40.00, managed only, -1.2, 1.0) | see [`ChannelSpec`] | 1 to 16 channels, unique names |
/// | `actions` | check_in (any channel, accept 0.5, save 0.25, harm 0.45), discount_10 (email/sms/phone, 10% of the mean order, accept 0.6, save 0.6, harm 0.5), loyalty_gift (phone/meeting, 25, accept 0.8, save 0.75, harm 0.4), account_review (meeting, managed only, accept 0.7, save 0.9, harm 0.5) | see [`ActionSpec`] | 1 to 64 actions, unique names |
/// | `segments` | retail (weight 0.50, big-order weight 0.25, preferred email .45 sms .25 phone .25 meeting .05, margin 0.35-0.45), wholesale (0.15, 0.60, email .25 sms .10 phone .45 meeting .20, 0.25-0.32), online (0.35, 0.15, email .55 sms .35 phone .08 meeting .02, 0.30-0.40); logit shifts within +-0.2 | see [`SegmentSpec`] | 1 to 64 segments |
/// | `big_order_value` | 400 | mean order value from which a client draws its segment by `big_order_weight` | (0, inf) |
/// | `utc_offsets` | United Kingdom, EIRE, Portugal 0; Germany, France, Netherlands, Spain, Belgium, Switzerland +1; Australia +10 | fixed offset per country; other countries 0 | hours in [-12, 14] |
/// | `preferred_boost` | 2.2 | logit added to the preferred channel's rate | > every segment's spread of `base_logit + shift` + 4 `rate_sigma` |
/// | `rate_sigma` | 0.2 | scale of the client's logit noise `z_ic` (a standard normal cut at +-2) | [0, 2] |
/// | `next_to_window` | 0.3 | time multiplier in the hour before and the hour after the window, on its weekday | [`outside_window`, 1] |
/// | `outside_window` | 0.05 | time multiplier at any other time | [0, 1] |
/// | `window_same_weekday` | 0.6 | P(the window's weekday is the local weekday of the purchase habit), when that is Mon-Fri | [0, 1] |
/// | `window_hour_spread` | 1.5 | standard deviation (hours) of the window's start around the local purchase hour | [0, 24] |
/// | `do_not_contact` | 0.03 | share of clients who must not be contacted | [0, 1] |
/// | `managed_value_per_week` | 50 | expected spend per week (`lambda` x mean order value) from which a client is a big spender | (0, inf) |
/// | `managed_big` | 0.45 | P(managed account) of a big spender | [0, 1] |
/// | `managed_other` | 0.025 | P(managed account) of another client (about 8% managed overall) | [0, 1] |
/// | `account_managers` | 12 | number of account managers (`AM01`...) | [1, 999] |
/// | `nps_share` | 0.35 | share of clients with an NPS score | [0, 1] |
/// | `uplift` | see [`UpliftSpec`] | who is persuadable, a sleeping dog, ... | |
/// | `history_days` | 420 | the contact history covers the last this many days of the span (at most the span) | [28, 36,500] |
/// | `campaign_every_days` | 28 | a campaign starts every this many days; it lasts 7 days | [7, 3650] |
/// | `campaign_share_min` | 0.25 | each campaign picks a share, uniform in [min, max], of the eligible clients | [0, `campaign_share_max`] |
/// | `campaign_share_max` | 0.35 | see `campaign_share_min` | [`campaign_share_min`, 1] |
/// | `control_share` | 0.2 | share of a campaign's picked clients held out as control | [0, 1] |
/// | `service_every_days` | 7 | managed accounts get a service contact every this many days | [1, 3650] |
/// | `service_action` | check_in | the action of service contacts | a name of `actions` |
/// | `service_in_window` | 0.75 | P(a service contact is placed in the client's window: the account manager knows it) | [0, 1] |
/// | `horizon_days` | 91 | horizon H of the value of an alive client | [1, 36,500] |
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ContactsConfig {
    /// The channels.
    pub channels: Vec<ChannelSpec>,
    /// The actions.
    pub actions: Vec<ActionSpec>,
    /// The segments of the business.
    pub segments: Vec<SegmentSpec>,
    /// Mean order value from which a client draws its segment by `big_order_weight`.
    pub big_order_value: f64,
    /// UTC offset per country; other countries are at UTC.
    pub utc_offsets: Vec<CountryOffset>,
    /// Logit added to the preferred channel's response rate.
    pub preferred_boost: f64,
    /// Scale of the client's logit noise per channel.
    pub rate_sigma: f64,
    /// Time multiplier next to the window (hour before, hour after, same weekday).
    pub next_to_window: f64,
    /// Time multiplier elsewhere.
    pub outside_window: f64,
    /// P(the window's weekday is the purchase habit's).
    pub window_same_weekday: f64,
    /// Standard deviation (hours) of the window's start around the purchase hour.
    pub window_hour_spread: f64,
    /// Share of clients who must not be contacted.
    pub do_not_contact: f64,
    /// Expected spend per week from which a client is a big spender.
    pub managed_value_per_week: f64,
    /// P(managed account) of a big spender.
    pub managed_big: f64,
    /// P(managed account) of another client.
    pub managed_other: f64,
    /// Number of account managers.
    pub account_managers: u16,
    /// Share of clients with an NPS score.
    pub nps_share: f64,
    /// Who is helped or harmed by a contact.
    pub uplift: UpliftSpec,
    /// Length of the contact history, in days, ending on the span's last day.
    pub history_days: u32,
    /// Days between two campaign starts.
    pub campaign_every_days: u32,
    /// Smallest share of eligible clients picked by a campaign.
    pub campaign_share_min: f64,
    /// Largest share of eligible clients picked by a campaign.
    pub campaign_share_max: f64,
    /// Share of a campaign's picked clients held out as control.
    pub control_share: f64,
    /// Days between two service contacts of a managed account.
    pub service_every_days: u32,
    /// The action of service contacts.
    pub service_action: String,
    /// P(a service contact is placed in the client's window).
    pub service_in_window: f64,
    /// Horizon (days) of the value of an alive client.
    pub horizon_days: u32,
}

fn one() -> f64 {
    1.0
}

fn channel(
    name: &str,
    cost: f64,
    consent: f64,
    base_logit: f64,
    time_sensitivity: f64,
    managed_only: bool,
) -> ChannelSpec {
    ChannelSpec {
        name: name.into(),
        cost,
        consent,
        base_logit,
        time_sensitivity,
        managed_only,
    }
}

impl Default for ContactsConfig {
    fn default() -> Self {
        let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let action = |name: &str, channels: &[&str], accept, save, harm| ActionSpec {
            name: name.into(),
            channels: names(channels),
            managed_only: false,
            incentive: 0.0,
            incentive_share: 0.0,
            accept,
            cost: 0.0,
            save,
            harm,
        };
        let segment =
            |name: &str, weight, big, preferred: [f64; 4], shift: [f64; 4], lo, hi| SegmentSpec {
                name: name.into(),
                weight,
                big_order_weight: big,
                preferred: preferred.to_vec(),
                shift: shift.to_vec(),
                margin_min: lo,
                margin_max: hi,
            };
        let offsets = [
            ("United Kingdom", 0),
            ("EIRE", 0),
            ("Portugal", 0),
            ("Germany", 1),
            ("France", 1),
            ("Netherlands", 1),
            ("Spain", 1),
            ("Belgium", 1),
            ("Switzerland", 1),
            ("Australia", 10),
        ];
        Self {
            channels: vec![
                channel("email", 0.10, 0.90, -1.7, 0.3, false),
                channel("sms", 0.30, 0.55, -1.5, 0.6, false),
                channel("phone", 4.00, 0.75, -1.3, 1.0, false),
                channel("meeting", 40.00, 1.0, -1.2, 1.0, true),
            ],
            actions: vec![
                action(
                    "check_in",
                    &["email", "sms", "phone", "meeting"],
                    0.5,
                    0.25,
                    0.45,
                ),
                ActionSpec {
                    incentive_share: 0.10,
                    ..action("discount_10", &["email", "sms", "phone"], 0.6, 0.6, 0.5)
                },
                ActionSpec {
                    incentive: 25.0,
                    ..action("loyalty_gift", &["phone", "meeting"], 0.8, 0.75, 0.4)
                },
                ActionSpec {
                    managed_only: true,
                    ..action("account_review", &["meeting"], 0.7, 0.9, 0.5)
                },
            ],
            segments: vec![
                segment(
                    "retail",
                    0.50,
                    0.25,
                    [0.45, 0.25, 0.25, 0.05],
                    [0.0, 0.1, 0.0, 0.0],
                    0.35,
                    0.45,
                ),
                segment(
                    "wholesale",
                    0.15,
                    0.60,
                    [0.25, 0.10, 0.45, 0.20],
                    [-0.1, -0.2, 0.2, 0.2],
                    0.25,
                    0.32,
                ),
                segment(
                    "online",
                    0.35,
                    0.15,
                    [0.55, 0.35, 0.08, 0.02],
                    [0.2, 0.1, -0.2, -0.2],
                    0.30,
                    0.40,
                ),
            ],
            big_order_value: 400.0,
            utc_offsets: offsets
                .into_iter()
                .map(|(c, h)| CountryOffset {
                    country: c.into(),
                    hours: h,
                })
                .collect(),
            preferred_boost: 2.2,
            rate_sigma: 0.2,
            next_to_window: 0.3,
            outside_window: 0.05,
            window_same_weekday: 0.6,
            window_hour_spread: 1.5,
            do_not_contact: 0.03,
            managed_value_per_week: 50.0,
            managed_big: 0.45,
            managed_other: 0.025,
            account_managers: 12,
            nps_share: 0.35,
            uplift: UpliftSpec::default(),
            history_days: 420,
            campaign_every_days: 28,
            campaign_share_min: 0.25,
            campaign_share_max: 0.35,
            control_share: 0.2,
            service_every_days: 7,
            service_action: "check_in".into(),
            service_in_window: 0.75,
            horizon_days: 91,
        }
    }
}

/// Largest value of the cut standard normal noise of a response rate's logit.
pub(crate) const Z_CUT: f64 = 2.0;

fn check_unit(field: impl FnOnce() -> String, value: f64) -> Result<(), SimError> {
    if value.is_finite() && (0.0..=1.0).contains(&value) {
        Ok(())
    } else {
        Err(SimError::invalid(field(), value, "must be in [0, 1]"))
    }
}

fn check_non_negative(field: impl FnOnce() -> String, value: f64) -> Result<(), SimError> {
    if value.is_finite() && value >= 0.0 {
        Ok(())
    } else {
        Err(SimError::invalid(field(), value, "must be finite and >= 0"))
    }
}

fn check_name(field: impl FnOnce() -> String, name: &str) -> Result<(), SimError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(SimError::invalid(
            field(),
            format!("{name:?}"),
            "must be 1 to 64 lower case letters, digits or `_`",
        ))
    }
}

fn check_unique<'a>(field: &str, names: impl Iterator<Item = &'a str>) -> Result<(), SimError> {
    let mut seen = std::collections::HashSet::new();
    for (i, n) in names.enumerate() {
        if !seen.insert(n) {
            return Err(SimError::invalid(
                format!("contacts.{field}[{i}].name"),
                format!("{n:?}"),
                "is a duplicate",
            ));
        }
    }
    Ok(())
}

fn check_days(
    field: &str,
    value: u32,
    (lo, hi): (u32, u32),
    reason: &'static str,
) -> Result<(), SimError> {
    if (lo..=hi).contains(&value) {
        Ok(())
    } else {
        Err(SimError::invalid(
            format!("contacts.{field}"),
            value,
            reason,
        ))
    }
}

impl ContactsConfig {
    /// Index of the channel named `name`.
    pub fn channel_index(&self, name: &str) -> Option<usize> {
        self.channels.iter().position(|c| c.name == name)
    }

    /// Index of the action named `name`.
    pub fn action_index(&self, name: &str) -> Option<usize> {
        self.actions.iter().position(|a| a.name == name)
    }

    /// The UTC offset (hours) of a country's clients: from `utc_offsets`, 0 if not listed.
    pub fn utc_offset(&self, country: &str) -> i8 {
        self.utc_offsets
            .iter()
            .find(|o| o.country == country)
            .map_or(0, |o| o.hours)
    }

    /// True if `action` can be made on `channel` to a client (managed account or not).
    pub(crate) fn action_allowed(&self, action: usize, channel: usize, managed: bool) -> bool {
        let a = &self.actions[action];
        (managed || !a.managed_only) && a.channels.iter().any(|c| *c == self.channels[channel].name)
    }

    /// Checks every parameter against the range in the table above; the error names the field
    /// as `contacts.<path>`.
    pub fn check(&self) -> Result<(), SimError> {
        let n_channels = self.channels.len();
        if !(1..=16).contains(&n_channels) {
            return Err(SimError::invalid(
                "contacts.channels",
                format!("{n_channels} entries"),
                "needs 1 to 16 channels",
            ));
        }
        for (i, c) in self.channels.iter().enumerate() {
            let f = |name: &'static str| move || format!("contacts.channels[{i}].{name}");
            check_name(f("name"), &c.name)?;
            check_non_negative(f("cost"), c.cost)?;
            check_unit(f("consent"), c.consent)?;
            if !(c.base_logit.is_finite() && c.base_logit.abs() <= 20.0) {
                return Err(SimError::invalid(
                    f("base_logit")(),
                    c.base_logit,
                    "must be in [-20, 20]",
                ));
            }
            check_unit(f("time_sensitivity"), c.time_sensitivity)?;
        }
        check_unique("channels", self.channels.iter().map(|c| c.name.as_str()))?;

        if !(1..=64).contains(&self.actions.len()) {
            return Err(SimError::invalid(
                "contacts.actions",
                format!("{} entries", self.actions.len()),
                "needs 1 to 64 actions",
            ));
        }
        for (i, a) in self.actions.iter().enumerate() {
            let f = |name: &'static str| move || format!("contacts.actions[{i}].{name}");
            check_name(f("name"), &a.name)?;
            if a.channels.is_empty() {
                return Err(SimError::invalid(
                    f("channels")(),
                    "[]",
                    "needs at least one channel",
                ));
            }
            for (j, c) in a.channels.iter().enumerate() {
                if self.channel_index(c).is_none() {
                    return Err(SimError::invalid(
                        format!("contacts.actions[{i}].channels[{j}]"),
                        format!("{c:?}"),
                        "is not a name of contacts.channels",
                    ));
                }
            }
            check_non_negative(f("incentive"), a.incentive)?;
            check_non_negative(f("incentive_share"), a.incentive_share)?;
            check_unit(f("accept"), a.accept)?;
            check_non_negative(f("cost"), a.cost)?;
            check_unit(f("save"), a.save)?;
            check_unit(f("harm"), a.harm)?;
        }
        check_unique("actions", self.actions.iter().map(|a| a.name.as_str()))?;
        // Every channel must carry an action for each client who can be reached on it.
        for (c, ch) in self.channels.iter().enumerate() {
            let any = |managed| (0..self.actions.len()).any(|a| self.action_allowed(a, c, managed));
            if !any(true) || (!ch.managed_only && !any(false)) {
                return Err(SimError::invalid(
                    format!("contacts.channels[{c}].name"),
                    format!("{:?}", ch.name),
                    "no action can be made on this channel (for every client who can be reached on it)",
                ));
            }
        }

        if !(1..=64).contains(&self.segments.len()) {
            return Err(SimError::invalid(
                "contacts.segments",
                format!("{} entries", self.segments.len()),
                "needs 1 to 64 segments",
            ));
        }
        for (i, s) in self.segments.iter().enumerate() {
            let f = |name: &'static str| move || format!("contacts.segments[{i}].{name}");
            check_name(f("name"), &s.name)?;
            check_non_negative(f("weight"), s.weight)?;
            check_non_negative(f("big_order_weight"), s.big_order_weight)?;
            for (name, v) in [("preferred", &s.preferred), ("shift", &s.shift)] {
                if v.len() != n_channels {
                    return Err(SimError::invalid(
                        f(name)(),
                        format!("{} entries", v.len()),
                        "needs one entry per channel",
                    ));
                }
            }
            for (j, &w) in s.preferred.iter().enumerate() {
                check_non_negative(|| format!("contacts.segments[{i}].preferred[{j}]"), w)?;
            }
            for (j, &x) in s.shift.iter().enumerate() {
                if !(x.is_finite() && x.abs() <= 20.0) {
                    return Err(SimError::invalid(
                        format!("contacts.segments[{i}].shift[{j}]"),
                        x,
                        "must be in [-20, 20]",
                    ));
                }
            }
            check_unit(f("margin_min"), s.margin_min)?;
            check_unit(f("margin_max"), s.margin_max)?;
            if s.margin_min > s.margin_max {
                return Err(SimError::invalid(
                    f("margin_min")(),
                    s.margin_min,
                    "must be <= margin_max",
                ));
            }
        }
        check_unique("segments", self.segments.iter().map(|s| s.name.as_str()))?;
        for (field, total) in [
            (
                "weight",
                self.segments.iter().map(|s| s.weight).sum::<f64>(),
            ),
            (
                "big_order_weight",
                self.segments.iter().map(|s| s.big_order_weight).sum(),
            ),
        ] {
            if !(total.is_finite() && total > 0.0) {
                return Err(SimError::invalid(
                    format!("contacts.segments (sum of {field})"),
                    total,
                    "must be finite and > 0",
                ));
            }
        }
        if !(self.big_order_value.is_finite() && self.big_order_value > 0.0) {
            return Err(SimError::invalid(
                "contacts.big_order_value",
                self.big_order_value,
                "must be finite and > 0",
            ));
        }
        for (i, o) in self.utc_offsets.iter().enumerate() {
            if o.country.trim().is_empty() {
                return Err(SimError::invalid(
                    format!("contacts.utc_offsets[{i}].country"),
                    format!("{:?}", o.country),
                    "must be non-empty",
                ));
            }
            if !(-12..=14).contains(&o.hours) {
                return Err(SimError::invalid(
                    format!("contacts.utc_offsets[{i}].hours"),
                    o.hours,
                    "must be in [-12, 14]",
                ));
            }
        }

        if !(self.rate_sigma.is_finite() && (0.0..=2.0).contains(&self.rate_sigma)) {
            return Err(SimError::invalid(
                "contacts.rate_sigma",
                self.rate_sigma,
                "must be in [0, 2]",
            ));
        }
        // The preferred channel must be the best one for every client: its boost beats any
        // spread of base + shift and the noise of two channels.
        let spread = self
            .segments
            .iter()
            .map(|s| {
                let logits = self
                    .channels
                    .iter()
                    .zip(&s.shift)
                    .map(|(c, x)| c.base_logit + x);
                let hi = logits.clone().fold(f64::NEG_INFINITY, f64::max);
                let lo = logits.fold(f64::INFINITY, f64::min);
                hi - lo
            })
            .fold(0.0, f64::max);
        let need = spread + 2.0 * Z_CUT * self.rate_sigma;
        if !(self.preferred_boost.is_finite()
            && self.preferred_boost > need
            && self.preferred_boost <= 40.0)
        {
            return Err(SimError::invalid(
                "contacts.preferred_boost",
                self.preferred_boost,
                "must be <= 40 and exceed every segment's spread of base_logit + shift plus 4 rate_sigma, so that the preferred channel is always the best",
            ));
        }
        check_unit(|| "contacts.outside_window".into(), self.outside_window)?;
        check_unit(|| "contacts.next_to_window".into(), self.next_to_window)?;
        if self.next_to_window < self.outside_window {
            return Err(SimError::invalid(
                "contacts.next_to_window",
                self.next_to_window,
                "must be >= outside_window",
            ));
        }
        check_unit(
            || "contacts.window_same_weekday".into(),
            self.window_same_weekday,
        )?;
        if !(self.window_hour_spread.is_finite() && (0.0..=24.0).contains(&self.window_hour_spread))
        {
            return Err(SimError::invalid(
                "contacts.window_hour_spread",
                self.window_hour_spread,
                "must be in [0, 24]",
            ));
        }
        check_unit(|| "contacts.do_not_contact".into(), self.do_not_contact)?;
        if !(self.managed_value_per_week.is_finite() && self.managed_value_per_week > 0.0) {
            return Err(SimError::invalid(
                "contacts.managed_value_per_week",
                self.managed_value_per_week,
                "must be finite and > 0",
            ));
        }
        check_unit(|| "contacts.managed_big".into(), self.managed_big)?;
        check_unit(|| "contacts.managed_other".into(), self.managed_other)?;
        if !(1..=999).contains(&self.account_managers) {
            return Err(SimError::invalid(
                "contacts.account_managers",
                self.account_managers,
                "must be in [1, 999]",
            ));
        }
        check_unit(|| "contacts.nps_share".into(), self.nps_share)?;

        let u = &self.uplift;
        let f = |name: &'static str| move || format!("contacts.uplift.{name}");
        if !(u.frequent_rate.is_finite() && u.frequent_rate > 0.0) {
            return Err(SimError::invalid(
                f("frequent_rate")(),
                u.frequent_rate,
                "must be finite and > 0",
            ));
        }
        if !(u.moderate_rate.is_finite() && (0.0..=u.frequent_rate).contains(&u.moderate_rate)) {
            return Err(SimError::invalid(
                f("moderate_rate")(),
                u.moderate_rate,
                "must be in [0, frequent_rate]",
            ));
        }
        check_non_negative(f("mid_value_min"), u.mid_value_min)?;
        if !(u.mid_value_max.is_finite() && u.mid_value_max >= u.mid_value_min) {
            return Err(SimError::invalid(
                f("mid_value_max")(),
                u.mid_value_max,
                "must be finite and >= mid_value_min",
            ));
        }
        for (name, v) in [
            ("dog_frequent", u.dog_frequent),
            ("dog_other", u.dog_other),
            ("persuadable_both", u.persuadable_both),
            ("persuadable_one", u.persuadable_one),
            ("persuadable_neither", u.persuadable_neither),
            ("at_risk_p", u.at_risk_p),
            ("not_at_risk_factor", u.not_at_risk_factor),
            ("sure_thing_p", u.sure_thing_p),
            ("susceptibility_min", u.susceptibility_min),
        ] {
            check_unit(f(name), v)?;
        }

        check_days(
            "history_days",
            self.history_days,
            (28, 36_500),
            "must be in [28, 36500]",
        )?;
        check_days(
            "campaign_every_days",
            self.campaign_every_days,
            (7, 3650),
            "must be in [7, 3650]",
        )?;
        check_unit(
            || "contacts.campaign_share_min".into(),
            self.campaign_share_min,
        )?;
        check_unit(
            || "contacts.campaign_share_max".into(),
            self.campaign_share_max,
        )?;
        if self.campaign_share_min > self.campaign_share_max {
            return Err(SimError::invalid(
                "contacts.campaign_share_min",
                self.campaign_share_min,
                "must be <= campaign_share_max",
            ));
        }
        check_unit(|| "contacts.control_share".into(), self.control_share)?;
        check_days(
            "service_every_days",
            self.service_every_days,
            (1, 3650),
            "must be in [1, 3650]",
        )?;
        let Some(service) = self.action_index(&self.service_action) else {
            return Err(SimError::invalid(
                "contacts.service_action",
                format!("{:?}", self.service_action),
                "is not a name of contacts.actions",
            ));
        };
        if !(0..n_channels).any(|c| self.action_allowed(service, c, true)) {
            return Err(SimError::invalid(
                "contacts.service_action",
                format!("{:?}", self.service_action),
                "cannot be made to a managed account on any channel",
            ));
        }
        check_unit(
            || "contacts.service_in_window".into(),
            self.service_in_window,
        )?;
        check_days(
            "horizon_days",
            self.horizon_days,
            (1, 36_500),
            "must be in [1, 36500]",
        )?;
        Ok(())
    }
}
