//! The planning settings: channels with their cost and daily capacity, the action catalogue,
//! the period, the hold-out, business hours and contact pressure (the `[plan]` table of
//! `retain.toml`).
//!
//! ```toml
//! [plan]
//! days = 7                 # the planning period, from the day after the scoring date
//! holdout_share = 0.1      # kept uncontacted, to measure the campaign
//! [plan.business_hours]
//! weekdays = [0, 1, 2, 3, 4]
//! open = 9
//! close = 18
//! [[plan.channels]]
//! name = "phone"
//! cost = 4.0
//! capacity_per_day = 150
//! [[plan.actions]]
//! id = "discount_10"
//! channels = ["email", "sms", "phone"]
//! incentive_share = 0.10   # of the client's mean order value, paid when accepted
//! accept_rate = 0.6
//! save_rate = 0.3          # P(saved | answered), used when the contacts log cannot tell
//! cooldown_days = 28
//! ```

use serde::{Deserialize, Serialize};

use crate::window::BusinessHours;

/// A channel the team can use.
///
/// | Name | Default | Purpose | Range |
/// |---|---|---|---|
/// | `name` | - | the label in the contacts log and the consent columns | non-empty |
/// | `cost` | 0 | cost of one contact (money) | >= 0 |
/// | `capacity_per_day` | - | contacts the team can make on it per day | >= 0 |
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelConfig {
    /// The channel's name (lower case, as the contacts log writes it).
    pub name: String,
    /// Cost of one contact.
    #[serde(default)]
    pub cost: f64,
    /// Contacts per day.
    pub capacity_per_day: u32,
}

/// An action of the catalogue: what a contact offers.
///
/// | Name | Default | Purpose | Range |
/// |---|---|---|---|
/// | `id` | - | the action id in the contacts log | non-empty |
/// | `channels` | all | channels it can be made on | names of `[[plan.channels]]` |
/// | `contact_cost` | 0 | cost per contact on top of the channel's | >= 0 |
/// | `incentive` | 0 | fixed incentive, paid when a responder accepts | >= 0 |
/// | `incentive_share` | 0 | incentive as a share of the client's mean order value | >= 0 |
/// | `accept_rate` | 1 | P(accepts the offer \| answered) | [0, 1] |
/// | `save_rate` | - | P(saved \| answered, would churn): used when the contacts log has no uplift model for the action | [0, 1] |
/// | `segments` | all | segments it is offered to (RFM segment names or the clients file's `segment`) | |
/// | `min_value` | 0 | offered to clients whose value (CLV) is at least this | >= 0 |
/// | `cooldown_days` | 0 | days after the client last got it before it can be made again | >= 0 |
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionConfig {
    /// The action's id.
    pub id: String,
    /// Channels it can be made on (empty = every channel).
    #[serde(default)]
    pub channels: Vec<String>,
    /// Cost per contact, on top of the channel's.
    #[serde(default)]
    pub contact_cost: f64,
    /// Fixed incentive paid when accepted.
    #[serde(default)]
    pub incentive: f64,
    /// Incentive as a share of the client's mean order value, paid when accepted.
    #[serde(default)]
    pub incentive_share: f64,
    /// P(accepts | answered).
    #[serde(default = "one")]
    pub accept_rate: f64,
    /// Stated P(saved | answered, would churn).
    pub save_rate: f64,
    /// Eligible segments (empty = all).
    #[serde(default)]
    pub segments: Vec<String>,
    /// Smallest value (CLV) of an eligible client.
    #[serde(default)]
    pub min_value: f64,
    /// Days between two contacts of this action with one client.
    #[serde(default)]
    pub cooldown_days: u32,
}

fn one() -> f64 {
    1.0
}

/// Contact pressure: at most `contacts` contacts in any `days` days, the planned one included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactCap {
    /// Most contacts in the window.
    pub contacts: u32,
    /// The window, in days.
    pub days: u32,
}

impl Default for ContactCap {
    fn default() -> Self {
        Self {
            contacts: 3,
            days: 30,
        }
    }
}

/// What makes a key client.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum KeyBy {
    /// Predicted value (CLV) over the horizon; revenue when there is no value model.
    #[default]
    Clv,
    /// Revenue over the last `key_period_days` days.
    Revenue,
}

/// The planning settings (module docs for the `retain.toml` form).
///
/// | Name | Default | Purpose | Range |
/// |---|---|---|---|
/// | `channels` | email 0.10/200 a day, sms 0.30/60, phone 4/20, meeting 40/4 | channels, costs, daily capacities | non-empty, distinct names |
/// | `actions` | check_in, discount_10, loyalty_gift, account_review ([`PlanConfig::default`]) | the catalogue | non-empty, distinct ids |
/// | `days` | 7 | length of the planning period | 1-366 |
/// | `holdout_share` | 0.1 | clients kept uncontacted at random (seeded) | [0, 1) |
/// | `seed` | 42 | seed of the hold-out | any |
/// | `business_hours` | Mon-Fri 9-18 | contact windows, client's local time | see [`BusinessHours`] |
/// | `contact_cap` | 3 in 30 days | contact pressure, the planned contact included | contacts >= 1, days >= 1 |
/// | `key_by` | clv | key clients by predicted value or by revenue | |
/// | `key_share` | 0.8 | key clients bring this share of the value | (0, 1] |
/// | `key_period_days` | 365 | the revenue window of `key_by = "revenue"` | >= 1 |
/// | `offers` | 3 | products offered per client (association rules) | 0-10 |
/// | `min_own_responses` | 3 | responses a client needs for its own time window | >= 1 |
/// | `min_retained_share` | 0.05 | floor of `1 - P(churn)` in the value of a saved client | (0, 1] |
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PlanConfig {
    /// Channels.
    pub channels: Vec<ChannelConfig>,
    /// The action catalogue.
    pub actions: Vec<ActionConfig>,
    /// Days in the planning period.
    pub days: u32,
    /// Share of clients held out.
    pub holdout_share: f64,
    /// Seed of the hold-out.
    pub seed: u64,
    /// Business hours.
    pub business_hours: BusinessHours,
    /// Contact pressure.
    pub contact_cap: ContactCap,
    /// What makes a key client.
    pub key_by: KeyBy,
    /// Share of value the key clients bring.
    pub key_share: f64,
    /// Revenue window of `key_by = revenue`.
    pub key_period_days: u32,
    /// Products offered per client.
    pub offers: usize,
    /// Responses a client needs for its own window.
    pub min_own_responses: u32,
    /// Floor of `1 - P(churn)` in a saved client's value.
    pub min_retained_share: f64,
}

impl Default for PlanConfig {
    fn default() -> Self {
        let ch = |name: &str, cost, cap| ChannelConfig {
            name: name.into(),
            cost,
            capacity_per_day: cap,
        };
        let all = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let action = |id: &str, channels: &[&str], save_rate| ActionConfig {
            id: id.into(),
            channels: all(channels),
            contact_cost: 0.0,
            incentive: 0.0,
            incentive_share: 0.0,
            accept_rate: 1.0,
            save_rate,
            segments: Vec::new(),
            min_value: 0.0,
            cooldown_days: 14,
        };
        Self {
            channels: vec![
                ch("email", 0.10, 200),
                ch("sms", 0.30, 60),
                ch("phone", 4.00, 20),
                ch("meeting", 40.00, 4),
            ],
            actions: vec![
                ActionConfig {
                    accept_rate: 0.5,
                    ..action("check_in", &["email", "sms", "phone", "meeting"], 0.10)
                },
                ActionConfig {
                    incentive_share: 0.10,
                    accept_rate: 0.6,
                    cooldown_days: 28,
                    ..action("discount_10", &["email", "sms", "phone"], 0.25)
                },
                ActionConfig {
                    incentive: 25.0,
                    accept_rate: 0.8,
                    cooldown_days: 56,
                    min_value: 200.0,
                    ..action("loyalty_gift", &["phone", "meeting"], 0.30)
                },
                ActionConfig {
                    accept_rate: 0.7,
                    cooldown_days: 56,
                    min_value: 1_000.0,
                    ..action("account_review", &["meeting"], 0.40)
                },
            ],
            days: 7,
            holdout_share: 0.1,
            seed: 42,
            business_hours: BusinessHours::default(),
            contact_cap: ContactCap::default(),
            key_by: KeyBy::Clv,
            key_share: 0.8,
            key_period_days: 365,
            offers: 3,
            min_own_responses: 3,
            min_retained_share: 0.05,
        }
    }
}

impl PlanConfig {
    /// Refuses settings outside their ranges, naming the first.
    pub fn check(&self) -> Result<(), String> {
        let bad = |what: String| Err(format!("[plan] {what}"));
        if self.channels.is_empty() {
            return bad("needs at least one channel ([[plan.channels]])".into());
        }
        if self.channels.len() > 32 {
            return bad(format!("has {} channels; at most 32", self.channels.len()));
        }
        let mut names = std::collections::BTreeSet::new();
        for c in &self.channels {
            if c.name.trim().is_empty() || c.name != c.name.trim().to_lowercase() {
                return bad(format!(
                    "channel name {:?} must be non-empty, trimmed and lower case",
                    c.name
                ));
            }
            if !names.insert(c.name.as_str()) {
                return bad(format!("channel {:?} is listed twice", c.name));
            }
            if !(c.cost >= 0.0 && c.cost.is_finite()) {
                return bad(format!(
                    "channel {:?}: cost {} must be >= 0",
                    c.name, c.cost
                ));
            }
        }
        if self.actions.is_empty() {
            return bad("needs at least one action ([[plan.actions]])".into());
        }
        let mut ids = std::collections::BTreeSet::new();
        for a in &self.actions {
            if a.id.trim().is_empty() {
                return bad("an action has an empty id".into());
            }
            if !ids.insert(a.id.as_str()) {
                return bad(format!("action {:?} is listed twice", a.id));
            }
            for c in &a.channels {
                if !names.contains(c.as_str()) {
                    return bad(format!(
                        "action {:?} names channel {c:?}, which is not among the channels ({})",
                        a.id,
                        names.iter().copied().collect::<Vec<_>>().join(", ")
                    ));
                }
            }
            for (what, v) in [
                ("contact_cost", a.contact_cost),
                ("incentive", a.incentive),
                ("incentive_share", a.incentive_share),
                ("min_value", a.min_value),
            ] {
                if !(v >= 0.0 && v.is_finite()) {
                    return bad(format!("action {:?}: {what} {v} must be >= 0", a.id));
                }
            }
            for (what, v) in [("accept_rate", a.accept_rate), ("save_rate", a.save_rate)] {
                if !(0.0..=1.0).contains(&v) {
                    return bad(format!("action {:?}: {what} {v} must be in [0, 1]", a.id));
                }
            }
        }
        if !(1..=366).contains(&self.days) {
            return bad(format!("days {} must be from 1 to 366", self.days));
        }
        if !(0.0..1.0).contains(&self.holdout_share) {
            return bad(format!(
                "holdout_share {} must be in [0, 1)",
                self.holdout_share
            ));
        }
        self.business_hours
            .check()
            .map_err(|e| format!("[plan] {e}"))?;
        if self.contact_cap.contacts == 0 || self.contact_cap.days == 0 {
            return bad("contact_cap needs contacts >= 1 and days >= 1".into());
        }
        if !(self.key_share > 0.0 && self.key_share <= 1.0) {
            return bad(format!("key_share {} must be in (0, 1]", self.key_share));
        }
        if self.key_period_days == 0 {
            return bad("key_period_days must be >= 1".into());
        }
        if self.offers > 10 {
            return bad(format!("offers {} must be at most 10", self.offers));
        }
        if self.min_own_responses == 0 {
            return bad("min_own_responses must be >= 1".into());
        }
        if !(self.min_retained_share > 0.0 && self.min_retained_share <= 1.0) {
            return bad(format!(
                "min_retained_share {} must be in (0, 1]",
                self.min_retained_share
            ));
        }
        Ok(())
    }

    /// The index of channel `name`.
    pub fn channel_index(&self, name: &str) -> Option<usize> {
        self.channels.iter().position(|c| c.name == name)
    }

    /// The channels action `a` can be made on, as indices.
    pub fn action_channels(&self, a: &ActionConfig) -> Vec<usize> {
        if a.channels.is_empty() {
            (0..self.channels.len()).collect()
        } else {
            a.channels
                .iter()
                .filter_map(|c| self.channel_index(c))
                .collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_bad_settings_are_named() {
        let c = PlanConfig::default();
        c.check().unwrap();
        let mut bad = c.clone();
        bad.actions[0].channels.push("fax".into());
        assert!(bad.check().unwrap_err().contains("\"fax\""));
        let mut bad = c.clone();
        bad.holdout_share = 1.0;
        assert!(bad.check().unwrap_err().contains("holdout_share"));
        let mut bad = c.clone();
        bad.channels[1].name = "email".into();
        assert!(bad.check().unwrap_err().contains("twice"));
        let toml_text = r#"
            days = 5
            [[channels]]
            name = "phone"
            cost = 3.5
            capacity_per_day = 40
            [[actions]]
            id = "call"
            save_rate = 0.2
        "#;
        let parsed: PlanConfig = toml::from_str(toml_text).unwrap();
        parsed.check().unwrap();
        assert_eq!(parsed.days, 5);
        assert_eq!(parsed.actions[0].accept_rate, 1.0);
        assert_eq!(parsed.action_channels(&parsed.actions[0]), vec![0]);
        assert!(toml::from_str::<PlanConfig>("dayz = 3").is_err());
    }
}
