//! A seeded simulator of a client base: BG/NBD or Pareto/NBD purchases, Gamma-Gamma spend,
//! weekday/hour habits, products and returns; and, on request, a contacts log drawn from a
//! known response model, to check next-best-contact rules against a truth.
//!
//! Three uses:
//! - **parameter recovery**: [`simulate_bgnbd_summaries`] and [`simulate_pareto_nbd_summaries`]
//!   draw customer-level summaries `(x, t_x, T, monetary)` from known truths
//!   ([`BgNbdTruth`], [`ParetoNbdTruth`], [`GammaGammaTruth`]), time in weeks;
//! - **sample data**: [`generate`] turns a [`SimConfig`] into a transaction log in the
//!   Online Retail II layout ([`Transactions`], written by [`Transactions::write_csv`]).
//!   The config (truth included) serialises to JSON, to be written beside the data;
//! - **contacts with a known truth**: with [`SimConfig::contacts`] set
//!   ([`SimConfig::with_contacts`]), [`generate_with_contacts`] also returns a contacts log
//!   ([`ContactLog`]) and every client's attributes and true response model
//!   ([`ContactTruth`]), which answers the true expected incremental profit of any contact or
//!   plan ([`ContactTruth::expected_incremental_profit`], [`ContactTruth::plan_profit`]).
//!   [`simulate_contacts_for`] writes a contacts log of any size for arbitrary ids (benches).
//!
//! Everything takes a seed and uses `ChaCha8Rng`: one seed, one output, byte for byte.
//!
//! # Contacts
//!
//! Without contacts (`SimConfig::contacts == None`, the default) nothing about them is drawn
//! and the transaction log is byte for byte what it was before they existed. With contacts,
//! every contact-related draw comes from ChaCha8 streams of its own (keys derived from the
//! seed, stream number = the client's `Customer ID`): a client whose contacts changed nothing
//! keeps exactly the purchases it has without contacts, so the difference between the two logs
//! is the contacts' effect. Defaults are in the table of [`ContactsConfig`].
//!
//! ## Files (written by [`generate_csv_with_contacts`])
//! | file | columns |
//! |---|---|
//! | `transactions.csv.gz` | the Online Retail II layout ([`CSV_HEADER`]), with the contacts' effects |
//! | `contacts.csv.gz` | `client_id, timestamp, channel, action, outcome, group, cost` ([`CONTACTS_HEADER`]): timestamp in UTC as `YYYY-MM-DDTHH:MM:SSZ`; outcome `no_answer` / `responded` / `converted`, empty for control rows; group `treated` / `control`; cost = channel cost + action cost + the incentive when converted, 0 for control rows. Sorted by time. |
//! | `clients.csv` | `client_id, consent_<channel>... (true/false), do_not_contact, timezone (+01:00), account_manager (AM07 or empty), segment, margin, nps (0-10 or empty)` |
//! | `contact_truth.csv.gz` | `client_id, preferred_channel, r_<channel>..., window_weekday (0 = Monday), window_start_hour (local), utc_offset, type, s_plus_<action>..., s_minus_<action>..., lambda (per week), p, mean_spend, alive_at_end, value_if_alive, revived, killed`, then the columns of `clients.csv` (see [`ContactTruth::write_csv`]); read back with [`ContactTruth::read_csv`] and the config |
//!
//! Transaction timestamps stay naive and are read as UTC: a client's local time is the UTC
//! time plus its country's fixed offset (United Kingdom, EIRE, Portugal +0; Germany, France,
//! Netherlands, Spain, Belgium, Switzerland +1; Australia +10; other countries +0).
//!
//! ## The response model (the truth)
//! Per client `i` (drawn from its purchase behaviour: purchase rate `lambda`, dropout `p`,
//! mean order value `m = p_gg / nu`, purchase habit, country):
//! - `do_not_contact` with probability 0.03; a **managed account** (an account manager) with
//!   probability 0.45 if `lambda * m >= 50` a week (big spenders), else 0.025 (about 8%);
//!   a **segment** (retail, wholesale, online; wholesale likelier when `m >= 400`); a margin
//!   uniform in the segment's range (to 3 decimals); an NPS score for 35% of clients
//!   (`round(N(mu_type, 2))` in 0..=10, `mu` = 6.5 persuadable, 8.5 sure thing, 4.5 lost cause,
//!   7.5 sleeping dog);
//! - **consent** per channel (email 0.90, sms 0.55, phone 0.75; meeting = managed account);
//! - a **preferred channel**, drawn among its consented channels with its segment's weights,
//!   and per-channel response rates
//!   `r_ic = sigmoid(base_c + shift_sc + boost * [c == preferred] + sigma * z_ic)`,
//!   `z_ic ~ N(0, 1)` cut at +-2. The config check demands `boost > spread of base + shift + 4
//!   sigma`, so the preferred channel is the best for every client (defaults: best 0.62-0.73,
//!   others 0.15-0.25);
//! - a **window**: a weekday `w_i` (Monday-Friday) and a start hour `h_i` in 9..=16 (local). The
//!   weekday is the local weekday of the purchase habit with probability 0.6 (when that is a
//!   weekday), else uniform over Monday-Friday; `h_i = clamp(round(H - 0.5 + 1.5 z), 9, 16)`,
//!   `H` the local hour of the purchase habit. The time multiplier is
//!   `m_i(d, h) = 1` if `d == w_i` and `h_i <= h < h_i + 2`; `0.3` if `d == w_i` and `h` is
//!   `h_i - 1` or `h_i + 2`; `0.05` otherwise;
//! - `P(respond | channel c, local weekday d, hour h) = r_ic * (1 - tau_c * (1 - m_i(d, h)))`,
//!   `tau_c` the channel's time sensitivity (phone and meeting 1, so `r_ic * m_i`; sms 0.6;
//!   email 0.3: a message is read when the client is free, a call must find it). With
//!   `tau = 1` everywhere a campaign at uniform times gets about 4% responses and no uplift
//!   measurable on thousands of clients; with these, about 21%;
//! - a **type**, from observable behaviour and the dropout: a frequent (`lambda > 0.25`),
//!   loyal (`p < 0.05`) buyer is a sleeping dog with probability 0.6, else a sure thing; any
//!   other client is a sleeping dog with probability 0.02, else persuadable with probability
//!   0.8 (moderate `lambda >= 0.03` and mid-value `150 <= m <= 600`), 0.4 (one of the two) or
//!   0.1 (neither), times 0.1 if not at risk (`p < 0.08`); the rest are sure things
//!   (`lambda >= 0.03`, `p < 0.05`) or lost causes. See [`UpliftSpec`];
//! - per action `a`: `s_plus[i][a] = save_a * u_i` for a persuadable (else 0),
//!   `s_minus[i][a] = harm_a * v_i` for a sleeping dog (else 0), `u_i, v_i ~ U(0.7, 1)`;
//!   `save` = 0.25 check_in, 0.6 discount_10, 0.75 loyalty_gift, 0.9 account_review; `harm` =
//!   0.45, 0.5, 0.4, 0.5.
//!
//! **Effects.** A client's own BG/NBD process is dead from its last purchase if it dropped
//! out. When a client *responds* to a treated contact with action `a` at time `t`: if dead,
//! it is revived with probability `s_plus[i][a]` and buys again as a BG/NBD client with its
//! own `lambda` and `p` from `t` (new purchases keep its weekday habit and clock); if alive,
//! it is killed with probability `s_minus[i][a]` and makes no purchase after `t`. Control rows
//! have no effect. The outcome is `converted` when a responder accepts (probability `accept`
//! of the action), which pays the incentive (`incentive + incentive_share * m`).
//!
//! **Value and profit.** `V_i = margin_i * m_i * (1 - exp(-lambda_i p_i H / 7)) / p_i`, the
//! margin an alive client brings over the horizon `H` = 91 days (the BG/NBD expected
//! purchases of an alive client). At the planning date (the span's last day), with
//! `alive = alive_at_end` (0 or 1) and `P(respond)` the mean over the window's two hours:
//! `EIP = P(respond) * [(1 - alive) s_plus V - alive s_minus V - incentive * accept] - cost_c - cost_a`.
//!
//! ## The history
//! Over the last `history_days` = 420 days (about 14 months): a campaign starts every 28 days
//! (15 campaigns) and lasts a week. Each picks a share uniform in [0.25, 0.35] of the clients
//! acquired before it starts who can be contacted (each client independently); 20% of the
//! picks are a random **control** group (logged with the channel and action they would have
//! received). Every pick gets a channel uniform among its consented channels, an action
//! uniform among those allowed on it, and a time uniform over business hours (9:00-18:00)
//! of the week's Monday-Friday, local time. Managed accounts also get a **service contact**
//! (action check_in, channel uniform among consented) every 7 days, placed in the client's
//! window with probability 0.75 (the account manager knows when the client is available;
//! with uniform times a client would need about 300 calls for 10 responses), else at a
//! uniform business time: about 60 contacts each over 3-4 channels.

mod catalogue;
mod config;
mod contact_truth;
mod contacts;
mod contacts_bulk;
mod contacts_config;
mod error;
mod generate;
mod process;
mod response;
mod sink;
mod summary;
#[cfg(test)]
mod theory;
mod transactions;
mod truth;

pub use config::{CountryWeight, SimConfig};
pub use contact_truth::{ClientTruth, ClientType, ContactTruth, PlannedContact};
pub use contacts::{CONTACTS_HEADER, Contact, ContactLog, Group, Outcome};
pub use contacts_bulk::simulate_contacts_for;
pub use contacts_config::{
    ActionSpec, ChannelSpec, ContactsConfig, CountryOffset, SegmentSpec, UpliftSpec,
};
pub use error::SimError;
pub use generate::{
    SimCounts, SimOutput, generate, generate_csv, generate_csv_with_contacts,
    generate_with_contacts,
};
pub use summary::{RfmSummary, simulate_bgnbd_summaries, simulate_pareto_nbd_summaries};
pub use transactions::{CSV_HEADER, Transactions};
pub use truth::{BgNbdTruth, GammaGammaTruth, ParetoNbdTruth};
