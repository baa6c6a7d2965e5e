//! Generates a client base with its contacts log and prints the figures of the response model:
//! sizes, response rates against the truth, identifiability of the channel and the window,
//! treated against control by type, and the bulk log's speed.
//!
//! `cargo run -p retain-sim --release --example contacts -- [N_CLIENTS] [SEED] [OUT_DIR] [BULK_ROWS]`
//!
//! With `OUT_DIR`, writes `transactions.csv.gz`, `contacts.csv.gz`, `clients.csv` and
//! `contact_truth.csv.gz` there. With `BULK_ROWS` (e.g. 5000000), also times
//! `simulate_contacts_for` on 563,000 ids into `OUT_DIR/bulk_contacts.csv` (or nowhere).

use std::collections::HashMap;
use std::io::Write;
use std::time::Instant;

use chrono::{Datelike, TimeDelta, Timelike};
use retain_sim::{
    ClientType, Group, SimConfig, generate_csv_with_contacts, generate_with_contacts,
    simulate_contacts_for,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().map_or(Ok(3000), |s| s.parse())?;
    let seed: u64 = args.next().map_or(Ok(42), |s| s.parse())?;
    let out_dir = args.next().filter(|s| s != "-");
    let bulk_rows: Option<usize> = args.next().map(|s| s.parse()).transpose()?;
    let config = SimConfig::with_contacts(n, seed);

    let started = Instant::now();
    let out = generate_with_contacts(&config)?;
    let took = started.elapsed();
    let (tx, log, truth) = (&out.transactions, &out.contacts, &out.truth);
    let cfg = truth.config();
    println!(
        "{n} clients, seed {seed}: {} transaction rows, {} contact rows in {took:.2?}",
        tx.len(),
        log.len()
    );

    let clients = truth.clients();
    let managed = clients.iter().filter(|c| c.managed()).count();
    let dnc = clients.iter().filter(|c| c.do_not_contact).count();
    let alive = clients.iter().filter(|c| c.alive_at_end).count();
    let revived: u32 = clients.iter().map(|c| c.revived).sum();
    let killed: u32 = clients.iter().map(|c| c.killed).sum();
    println!(
        "managed {managed} ({:.1}%), do-not-contact {dnc}, alive at end {alive}, revivals {revived}, kills {killed}",
        100.0 * managed as f64 / n as f64
    );
    let mut types: HashMap<ClientType, usize> = HashMap::new();
    for c in clients {
        *types.entry(c.client_type).or_default() += 1;
    }
    for t in ClientType::ALL {
        print!("{} {}  ", t.as_str(), types.get(&t).copied().unwrap_or(0));
    }
    println!();
    let control = log
        .rows
        .iter()
        .filter(|r| r.group == Group::Control)
        .count();
    let responses = log
        .rows
        .iter()
        .filter(|r| r.outcome.is_some_and(|o| o.is_response()))
        .count();
    println!(
        "contacts: {} treated, {control} control, {responses} responses",
        log.len() - control
    );
    let (mut cr, mut cn) = (0usize, 0usize);
    for r in log.rows.iter().filter(|r| r.group != Group::Control) {
        if !truth.client(r.client_id)?.managed() {
            cn += 1;
            cr += usize::from(r.outcome.is_some_and(|o| o.is_response()));
        }
    }
    println!(
        "campaign contacts of unmanaged clients: {cn}, response rate {:.3}",
        cr as f64 / cn.max(1) as f64
    );

    // Response rates against the truth, per channel (treated rows).
    let local = |r: &retain_sim::Contact| {
        let c = truth.client(r.client_id).expect("known client");
        r.timestamp + TimeDelta::hours(i64::from(c.utc_offset_hours))
    };
    let mut by_channel = vec![(0.0, 0.0, 0usize); cfg.channels.len()];
    for r in log.rows.iter().filter(|r| r.group != Group::Control) {
        let t = local(r);
        let ch = &log.channels[usize::from(r.channel)];
        let p = truth.response_probability_at(
            r.client_id,
            ch,
            t.weekday().num_days_from_monday() as u8,
            t.hour() as u8,
        )?;
        let e = &mut by_channel[usize::from(r.channel)];
        e.0 += f64::from(u8::from(r.outcome.is_some_and(|o| o.is_response())));
        e.1 += p;
        e.2 += 1;
    }
    for (c, (obs, exp, k)) in by_channel.iter().enumerate() {
        println!(
            "  {:8} {k:6} contacts: {obs:5.0} responses, expected {exp:7.1} (z {:+.2})",
            cfg.channels[c].name,
            (obs - exp) / exp.max(1e-9).sqrt()
        );
    }

    // Identifiability per client.
    let mut per_client: HashMap<i64, Vec<&retain_sim::Contact>> = HashMap::new();
    for r in log.rows.iter().filter(|r| r.group != Group::Control) {
        per_client.entry(r.client_id).or_default().push(r);
    }
    let (mut n_channel, mut ok_channel) = (0, 0);
    let (mut n_window, mut ok_window) = ([0usize; 2], [0usize; 2]);
    for (id, rows) in &per_client {
        let c = truth.client(*id)?;
        let mut counts = vec![(0u32, 0u32); cfg.channels.len()];
        for r in rows {
            let e = &mut counts[usize::from(r.channel)];
            e.0 += 1;
            e.1 += u32::from(r.outcome.is_some_and(|o| o.is_response()));
        }
        let used = counts.iter().filter(|e| e.0 > 0).count();
        if rows.len() >= 30 && used >= 3 {
            n_channel += 1;
            let rate = |e: &(u32, u32)| f64::from(e.1) / f64::from(e.0.max(1));
            let best = counts.iter().map(rate).fold(0.0, f64::max);
            let argmax: Vec<usize> = (0..counts.len())
                .filter(|&k| counts[k].0 > 0 && rate(&counts[k]) == best)
                .collect();
            ok_channel += usize::from(argmax == [c.preferred_channel]);
        }
        // The window: the (weekday, 2-hour window) with the most responses per attempt (at
        // least 3 attempts), from every channel and from those where the time matters.
        for (k, min_tau) in [0.0, 0.5].into_iter().enumerate() {
            let timed: Vec<_> = rows
                .iter()
                .filter(|r| cfg.channels[usize::from(r.channel)].time_sensitivity >= min_tau)
                .collect();
            let n_resp = timed
                .iter()
                .filter(|r| r.outcome.is_some_and(|o| o.is_response()))
                .count();
            if n_resp < 10 {
                continue;
            }
            n_window[k] += 1;
            let mut cells = [[(0u32, 0u32); 24]; 7];
            for r in &timed {
                let t = local(r);
                let e = &mut cells[t.weekday().num_days_from_monday() as usize][t.hour() as usize];
                e.0 += 1;
                e.1 += u32::from(r.outcome.is_some_and(|o| o.is_response()));
            }
            let mut best = (-1.0, 0usize, 0usize);
            for (d, day) in cells.iter().enumerate().take(5) {
                for s in 9..=16 {
                    let (a, y) = (day[s].0 + day[s + 1].0, day[s].1 + day[s + 1].1);
                    if a >= 3 && f64::from(y) / f64::from(a) > best.0 {
                        best = (f64::from(y) / f64::from(a), d, s);
                    }
                }
            }
            ok_window[k] += usize::from(
                best.1 == usize::from(c.window_weekday)
                    && best.2.abs_diff(usize::from(c.window_start_hour)) <= 1,
            );
        }
    }
    println!(
        "channel: {ok_channel}/{n_channel} clients with >= 30 contacts over >= 3 channels ({:.1}%) pick the preferred channel",
        100.0 * ok_channel as f64 / n_channel.max(1) as f64
    );
    for (k, what) in ["every channel", "sms, phone, meeting"]
        .into_iter()
        .enumerate()
    {
        println!(
            "window ({what}): {}/{} clients with >= 10 responses ({:.1}%) pick a window within 1 hour",
            ok_window[k],
            n_window[k],
            100.0 * ok_window[k] as f64 / n_window[k].max(1) as f64
        );
    }

    // Treated against control: a purchase within 91 days after a campaign contact.
    let mut buys: HashMap<i64, Vec<chrono::NaiveDateTime>> = HashMap::new();
    for i in 0..tx.len() {
        if tx.quantity[i] > 0 {
            buys.entry(tx.customer_id[i])
                .or_default()
                .push(tx.invoice_date[i]);
        }
    }
    let end = config.end_date().and_hms_opt(23, 59, 59).expect("valid");
    let horizon = TimeDelta::days(91);
    let mut table: HashMap<(ClientType, Group), (f64, f64)> = HashMap::new();
    // The same, split by whether the client bought in the 91 days before the contact.
    let mut split: HashMap<(ClientType, bool, Group), (f64, f64)> = HashMap::new();
    for r in &log.rows {
        let service = r.group == Group::Service;
        if service || r.timestamp + horizon > end {
            continue;
        }
        let t = truth.client(r.client_id)?.client_type;
        let bought = buys.get(&r.client_id).is_some_and(|v| {
            v.iter()
                .any(|&d| d > r.timestamp && d <= r.timestamp + horizon)
        });
        let e = table.entry((t, r.group)).or_default();
        e.0 += f64::from(u8::from(bought));
        e.1 += 1.0;
        let active = buys.get(&r.client_id).is_some_and(|v| {
            v.iter()
                .any(|&d| d <= r.timestamp && d > r.timestamp - horizon)
        });
        let e = split.entry((t, active, r.group)).or_default();
        e.0 += f64::from(u8::from(bought));
        e.1 += 1.0;
    }
    for t in [ClientType::Persuadable, ClientType::SleepingDog] {
        for active in [false, true] {
            let (tb, tn) = split
                .get(&(t, active, Group::Treated))
                .copied()
                .unwrap_or_default();
            let (cb, cn) = split
                .get(&(t, active, Group::Control))
                .copied()
                .unwrap_or_default();
            let (pt, pc) = (tb / tn.max(1.0), cb / cn.max(1.0));
            let se = (pt * (1.0 - pt) / tn.max(1.0) + pc * (1.0 - pc) / cn.max(1.0)).sqrt();
            println!(
                "  {:12} {}: treated {pt:.3} (n {tn}), control {pc:.3} (n {cn}), diff {:+.3} (z {:+.1})",
                t.as_str(),
                if active { "active" } else { "lapsed" },
                pt - pc,
                (pt - pc) / se.max(1e-9)
            );
        }
    }
    for t in ClientType::ALL {
        let (tb, tn) = table.get(&(t, Group::Treated)).copied().unwrap_or_default();
        let (cb, cn) = table.get(&(t, Group::Control)).copied().unwrap_or_default();
        let (pt, pc) = (tb / tn.max(1.0), cb / cn.max(1.0));
        let se = (pt * (1.0 - pt) / tn.max(1.0) + pc * (1.0 - pc) / cn.max(1.0)).sqrt();
        println!(
            "  {:12} buy within 91 days: treated {pt:.3} (n {tn}), control {pc:.3} (n {cn}), diff {:+.3} (z {:+.1})",
            t.as_str(),
            pt - pc,
            (pt - pc) / se.max(1e-9)
        );
    }

    // The truth's own best channel and window against a random allowed contact.
    let (mut own, mut random, mut k) = (0.0, 0.0, 0usize);
    let mut state = seed;
    let mut next = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) as usize
    };
    for c in clients {
        let channels: Vec<&str> = (0..cfg.channels.len())
            .filter(|&ch| {
                truth
                    .expected_incremental_profit(
                        c.client_id,
                        &cfg.channels[ch].name,
                        "check_in",
                        0,
                        9,
                    )
                    .is_ok()
            })
            .map(|ch| cfg.channels[ch].name.as_str())
            .collect();
        let pref = &cfg.channels[c.preferred_channel].name;
        if channels.is_empty() || !channels.contains(&pref.as_str()) {
            continue;
        }
        own +=
            truth.response_probability(c.client_id, pref, c.window_weekday, c.window_start_hour)?;
        let ch = channels[next() % channels.len()];
        random += truth.response_probability(
            c.client_id,
            ch,
            (next() % 5) as u8,
            9 + (next() % 8) as u8,
        )?;
        k += 1;
    }
    println!(
        "P(respond) over {k} clients: preferred channel in the window {:.3}, random channel and window {:.3}",
        own / k as f64,
        random / k as f64
    );
    let best: f64 = clients
        .iter()
        .filter_map(|c| truth.best_contact(c.client_id).ok().flatten())
        .map(|(_, v)| v)
        .sum();
    let positive = clients
        .iter()
        .filter_map(|c| truth.best_contact(c.client_id).ok().flatten())
        .filter(|(_, v)| *v > 0.0)
        .count();
    println!("best contact per client: total {best:.0}, {positive} clients with a positive best");

    if let Some(dir) = &out_dir {
        std::fs::create_dir_all(dir)?;
        let gz = |name: &str| -> std::io::Result<_> {
            Ok(flate2::GzBuilder::new().mtime(0).write(
                std::fs::File::create(format!("{dir}/{name}"))?,
                flate2::Compression::new(6),
            ))
        };
        let (mut a, mut b, mut d) = (
            gz("transactions.csv.gz")?,
            gz("contacts.csv.gz")?,
            gz("contact_truth.csv.gz")?,
        );
        let counts = generate_csv_with_contacts(
            &config,
            &mut a,
            &mut b,
            std::fs::File::create(format!("{dir}/clients.csv"))?,
            &mut d,
        )?;
        a.finish()?.flush()?;
        b.finish()?.flush()?;
        d.finish()?.flush()?;
        println!("{counts:?}");
        for name in [
            "transactions.csv.gz",
            "contacts.csv.gz",
            "clients.csv",
            "contact_truth.csv.gz",
        ] {
            let size = std::fs::metadata(format!("{dir}/{name}"))?.len();
            println!("  {name}: {size} bytes");
        }
    }

    if let Some(rows) = bulk_rows {
        let ids: Vec<i64> = (0..563_000).map(|i| 100_000 + i).collect();
        let started = Instant::now();
        let written = match &out_dir {
            Some(dir) => simulate_contacts_for(
                &ids,
                &config,
                rows,
                seed,
                std::fs::File::create(format!("{dir}/bulk_contacts.csv"))?,
            )?,
            None => simulate_contacts_for(&ids, &config, rows, seed, std::io::sink())?,
        };
        println!(
            "bulk: {written} contact rows for {} clients in {:.2?}",
            ids.len(),
            started.elapsed()
        );
    }
    Ok(())
}
