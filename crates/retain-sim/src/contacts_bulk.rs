//! A contacts log of any size for arbitrary client ids, with the response model of the
//! simulator but no transactions: for scale benches.

use std::io::Write;

use rand::distr::weighted::WeightedIndex;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::Distribution;

use crate::config::SimConfig;
use crate::contacts::{
    CONTACTS_HEADER, Calendar, Drawn, Group, Reach, Scheduled, business_time, outcomes,
    push_contact, to_row, window_time,
};
use crate::error::SimError;
use crate::generate::{FIRST_HOUR, HOUR_WEIGHTS, PROFILE_KEY, WEEKDAY_WEIGHTS};
use crate::process::{BgNbdSampler, SpendSampler};
use crate::response::{ClientBase, ClientModel};
use crate::transactions::FLUSH_AT;

/// Stream key (xor-ed into the seed) of the clients' purchase behaviour drawn here.
const BASE_KEY: u64 = 0x6275_6c6b_6261_7365;

/// Writes a contacts log of about `rows` rows for the given clients to `w` (CSV, as
/// [`ContactLog::write_csv`](crate::ContactLog::write_csv)), with the response model of
/// `config.contacts` but no effect on any transaction. Returns the number of rows written.
///
/// Each id gets its own draws (a stream keyed by `seed` and the id): a country, purchase
/// habits, BG/NBD and Gamma-Gamma parameters from `config`'s priors, then its attributes and
/// response model as in [`generate_with_contacts`](crate::generate_with_contacts). The rows are
/// spread evenly over the clients that can be contacted (rows owed to a client that cannot are
/// carried to the next one, so the total is `rows` unless the last clients cannot be
/// contacted). A contact is a campaign-like contact at a uniform business time of a uniform
/// week of the history (in the client's window with probability `service_in_window` for a
/// managed account), on a uniform consented channel with a uniform allowed action; a share
/// `control_share` are control rows. Rows come client by client (in the order of
/// `client_ids`), by time within a client. Memory does not grow with `rows`.
///
/// # Errors
/// [`SimError::InvalidParameter`] for a bad `config` or one without `contacts` (nothing is
/// written then); [`SimError::Write`] if writing fails.
pub fn simulate_contacts_for(
    client_ids: &[i64],
    config: &SimConfig,
    rows: usize,
    seed: u64,
    mut w: impl Write,
) -> Result<u64, SimError> {
    config.check()?;
    let Some(cfg) = config.contacts.as_ref() else {
        return Err(SimError::invalid(
            "contacts",
            "none",
            "must be set to simulate contacts (e.g. SimConfig::with_contacts)",
        ));
    };
    let model = ClientModel::new(cfg);
    let cal = Calendar::new(cfg, config.start_date, config.span_days, seed);
    let weeks = ((cal.span - cal.history_start) / 7).max(1);
    let country =
        WeightedIndex::new(config.countries.iter().map(|c| c.weight)).expect("checked weights");
    let weekday = WeightedIndex::new(WEEKDAY_WEIGHTS).expect("positive weights");
    let hour = WeightedIndex::new(HOUR_WEIGHTS).expect("positive weights");
    let process = BgNbdSampler::new(&config.bgnbd);
    let spends = SpendSampler::new(&config.gamma_gamma);
    let base_rng = ChaCha8Rng::seed_from_u64(seed ^ BASE_KEY);
    let profile_rng = ChaCha8Rng::seed_from_u64(seed ^ PROFILE_KEY);
    let midnight = config.start_date.and_hms_opt(0, 0, 0).expect("valid time");
    let offsets: Vec<i8> = config
        .countries
        .iter()
        .map(|c| cfg.utc_offset(&c.name))
        .collect();
    let channels: Vec<&str> = cfg.channels.iter().map(|c| c.name.as_str()).collect();
    let actions: Vec<&str> = cfg.actions.iter().map(|a| a.name.as_str()).collect();

    let write_err = |source| SimError::Write {
        what: "contacts",
        source,
    };
    let mut buf = Vec::with_capacity(FLUSH_AT + 4096);
    buf.extend_from_slice(CONTACTS_HEADER.as_bytes());
    buf.push(b'\n');
    let (n, rows) = (client_ids.len() as u128, rows as u128);
    let mut written: u64 = 0;
    let mut scheduled: Vec<Scheduled> = Vec::new();
    let mut drawn: Vec<Drawn> = Vec::new();
    for (j, &id) in client_ids.iter().enumerate() {
        let owed = ((j as u128 + 1) * rows / n) as u64;
        if owed <= written {
            continue;
        }
        let mut rng = base_rng.clone();
        rng.set_stream(id as u64);
        let c = country.sample(&mut rng);
        let habit_weekday = weekday.sample(&mut rng) as u8;
        let habit_hour = FIRST_HOUR as u8 + hour.sample(&mut rng) as u8;
        let (lambda, p) = process.draw_client(&mut rng);
        let nu = spends.draw_nu(&mut rng);
        let base = ClientBase {
            id,
            offset: offsets[c],
            habit_weekday,
            habit_hour,
            lambda,
            p,
            mean_spend: config.gamma_gamma.p / nu,
        };
        let mut rng = profile_rng.clone();
        rng.set_stream(id as u64);
        let truth = model.draw(&base, &mut rng);
        let reach = Reach::new(cfg, &truth);
        if !reach.any() {
            continue;
        }
        scheduled.clear();
        let offset = truth.utc_offset_hours;
        let in_window = if truth.managed() {
            cfg.service_in_window
        } else {
            0.0
        };
        for _ in written..owed {
            let from = cal.history_start + 7 * rng.random_range(0..weeks);
            let group = if rng.random::<f64>() < cfg.control_share {
                Group::Control
            } else {
                Group::Treated
            };
            let (channel, action) = reach.pick(&mut rng);
            let when = if rng.random::<f64>() < in_window {
                window_time(&mut rng, &cal, offset, from, 7, &truth)
            } else {
                None
            }
            .or_else(|| business_time(&mut rng, &cal, offset, from, 7));
            if let Some((ts, weekday, hour)) = when {
                scheduled.push(Scheduled {
                    ts,
                    weekday,
                    hour,
                    channel,
                    action,
                    group,
                });
            }
        }
        scheduled.sort_by_key(|s| s.ts);
        outcomes(&mut rng, cfg, &truth, &scheduled, &mut drawn);
        for d in &drawn {
            let row = to_row(d, id, midnight);
            push_contact(
                &mut buf,
                &row,
                channels[usize::from(row.channel)],
                actions[usize::from(row.action)],
            );
        }
        written += drawn.len() as u64;
        // Times that fell outside the span are not retried; their rows stay owed.
        if buf.len() >= FLUSH_AT {
            w.write_all(&buf).map_err(write_err)?;
            buf.clear();
        }
    }
    w.write_all(&buf).map_err(write_err)?;
    w.flush().map_err(write_err)?;
    Ok(written)
}
