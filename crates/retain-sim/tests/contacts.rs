//! The contacts simulation: files, determinism, the response model against the log, the
//! effect of contacts on the transactions, the profit of plans, and identifiability.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::OnceLock;

use chrono::{Datelike, NaiveDateTime, TimeDelta, Timelike};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use retain_sim::{
    CONTACTS_HEADER, ClientType, Contact, ContactTruth, ContactsConfig, Group, Outcome,
    PlannedContact, SimConfig, SimError, SimOutput, Transactions, generate, generate_csv,
    generate_csv_with_contacts, generate_with_contacts, simulate_contacts_for,
};

/// The default sample with its contacts (3,000 clients, 730 days, seed 42), made once.
fn sample() -> &'static (SimConfig, SimOutput) {
    static SAMPLE: OnceLock<(SimConfig, SimOutput)> = OnceLock::new();
    SAMPLE.get_or_init(|| {
        let config = SimConfig::with_contacts(3000, 42);
        let out = generate_with_contacts(&config).unwrap();
        (config, out)
    })
}

fn responded(r: &Contact) -> bool {
    r.outcome.is_some_and(Outcome::is_response)
}

/// The contact's local time (UTC + the client's offset).
fn local(truth: &ContactTruth, r: &Contact) -> NaiveDateTime {
    let c = truth.client(r.client_id).unwrap();
    r.timestamp + TimeDelta::hours(i64::from(c.utc_offset_hours))
}

/// The four files of a config, as bytes.
fn files(config: &SimConfig) -> [Vec<u8>; 4] {
    let mut f: [Vec<u8>; 4] = Default::default();
    let [a, b, c, d] = &mut f;
    generate_csv_with_contacts(config, a, b, c, d).unwrap();
    f
}

#[test]
fn same_seed_same_four_files_other_seed_differs() {
    let config = SimConfig::with_contacts(500, 7);
    let a = files(&config);
    assert_eq!(a, files(&config));
    let b = files(&SimConfig::with_contacts(500, 8));
    for k in 0..4 {
        assert_ne!(a[k], b[k], "file {k}");
        assert!(a[k].len() > 1000, "file {k}: {} bytes", a[k].len());
    }
    // Streaming writes the bytes of the in-memory outputs.
    let out = generate_with_contacts(&config).unwrap();
    let mut mem: [Vec<u8>; 4] = Default::default();
    out.transactions.write_csv(&mut mem[0]).unwrap();
    out.contacts.write_csv(&mut mem[1]).unwrap();
    out.truth.write_clients_csv(&mut mem[2]).unwrap();
    out.truth.write_csv(&mut mem[3]).unwrap();
    assert_eq!(mem, a);
    // generate / generate_csv give the same transactions (with the contacts' effects).
    assert_eq!(generate(&config).unwrap(), out.transactions);
    let mut streamed = Vec::new();
    generate_csv(&config, &mut streamed).unwrap();
    assert_eq!(streamed, a[0]);
}

#[test]
fn contacts_are_refused_without_their_config_and_checked_by_field() {
    let plain = SimConfig::with_clients(10, 1);
    let err = generate_with_contacts(&plain).unwrap_err();
    assert!(
        matches!(&err, SimError::InvalidParameter { field, .. } if field == "contacts"),
        "{err}"
    );
    assert!(simulate_contacts_for(&[1, 2], &plain, 10, 1, Vec::new()).is_err());
    // Without contacts, the JSON of the config has no `contacts` key (truth.json unchanged).
    let json = serde_json::to_string_pretty(&plain).unwrap();
    assert!(!json.contains("contacts"), "{json}");
    let with = SimConfig::with_contacts(10, 1);
    let json = serde_json::to_string(&with).unwrap();
    assert_eq!(serde_json::from_str::<SimConfig>(&json).unwrap(), with);

    let field = |edit: &dyn Fn(&mut ContactsConfig)| {
        let mut c = ContactsConfig::default();
        edit(&mut c);
        let config = SimConfig {
            contacts: Some(c),
            ..SimConfig::with_clients(10, 1)
        };
        match config.check() {
            Err(SimError::InvalidParameter { field, .. }) => field,
            Ok(()) => "ok".into(),
            Err(e) => panic!("{e}"),
        }
    };
    assert_eq!(field(&|_| {}), "ok");
    assert_eq!(
        field(&|c| c.channels[1].cost = -1.0),
        "contacts.channels[1].cost"
    );
    assert_eq!(
        field(&|c| c.channels[0].name = "E-mail".into()),
        "contacts.channels[0].name"
    );
    assert_eq!(
        field(&|c| c.channels[2].name = "email".into()),
        "contacts.channels[2].name"
    );
    assert_eq!(
        field(&|c| c.actions[1].channels.push("fax".into())),
        "contacts.actions[1].channels[3]"
    );
    assert_eq!(
        field(&|c| c.actions[2].accept = 1.5),
        "contacts.actions[2].accept"
    );
    assert_eq!(
        field(&|c| c.segments[0].shift.pop().map_or((), |_| ())),
        "contacts.segments[0].shift"
    );
    assert_eq!(
        field(&|c| c.preferred_boost = 1.0),
        "contacts.preferred_boost"
    );
    assert_eq!(
        field(&|c| c.next_to_window = 0.01),
        "contacts.next_to_window"
    );
    assert_eq!(
        field(&|c| c.utc_offsets[0].hours = 20),
        "contacts.utc_offsets[0].hours"
    );
    assert_eq!(
        field(&|c| c.uplift.moderate_rate = 1.0),
        "contacts.uplift.moderate_rate"
    );
    assert_eq!(field(&|c| c.history_days = 3), "contacts.history_days");
    assert_eq!(
        field(&|c| c.service_action = "visit".into()),
        "contacts.service_action"
    );
    assert_eq!(
        field(&|c| {
            c.campaign_share_min = 0.5;
            c.campaign_share_max = 0.4;
        }),
        "contacts.campaign_share_min"
    );
    // A channel with no action for unmanaged clients.
    assert_eq!(
        field(&|c| c.actions.retain(|a| a.name == "account_review")),
        "contacts.channels[0].name"
    );
}

#[test]
fn files_follow_their_layout() {
    let (config, out) = sample();
    let cfg = config.contacts.as_ref().unwrap();
    let (log, truth) = (&out.contacts, &out.truth);
    let mut text = Vec::new();
    log.write_csv(&mut text).unwrap();
    let text = String::from_utf8(text).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("client_id,timestamp,channel,action,outcome,group,cost")
    );
    assert_eq!(
        CONTACTS_HEADER,
        "client_id,timestamp,channel,action,outcome,group,cost"
    );
    for (line, row) in lines.zip(&log.rows) {
        let f: Vec<&str> = line.split(',').collect();
        assert_eq!(f.len(), 7, "{line}");
        assert_eq!(f[0], row.client_id.to_string());
        assert_eq!(f[1], row.timestamp.format("%Y-%m-%dT%H:%M:%SZ").to_string());
        assert_eq!(f[4], row.outcome.map_or("", Outcome::as_str));
        assert_eq!(f[5], row.group.as_str());
        assert_eq!(f[6], format!("{:.2}", row.cost));
    }
    assert_eq!(text.lines().count(), log.len() + 1);

    let mut clients = Vec::new();
    truth.write_clients_csv(&mut clients).unwrap();
    let clients = String::from_utf8(clients).unwrap();
    assert_eq!(
        clients.lines().next(),
        Some(
            "client_id,consent_email,consent_sms,consent_phone,consent_meeting,do_not_contact,timezone,account_manager,segment,margin,nps"
        )
    );
    assert_eq!(clients.lines().count(), config.n_clients + 1);
    let row = |id: i64| {
        clients
            .lines()
            .find(|l| l.starts_with(&format!("{id},")))
            .unwrap()
            .to_string()
    };
    let c = &truth.clients()[0];
    let want = format!(
        "{},{},{},{},{},{},+{:02}:00,{},{},{},{}",
        c.client_id,
        c.consent[0],
        c.consent[1],
        c.consent[2],
        c.consent[3],
        c.do_not_contact,
        c.utc_offset_hours,
        c.account_manager
            .map_or(String::new(), |a| format!("AM{a:02}")),
        cfg.segments[c.segment].name,
        c.margin,
        c.nps.map_or(String::new(), |n| n.to_string())
    );
    assert_eq!(row(c.client_id), want);
    // Time zones follow the countries.
    let mut countries: HashMap<i64, &str> = HashMap::new();
    for i in 0..out.transactions.len() {
        countries.insert(
            out.transactions.customer_id[i],
            &out.transactions.country[i],
        );
    }
    for c in truth.clients() {
        let want = match countries[&c.client_id] {
            "Germany" | "France" | "Netherlands" | "Spain" | "Belgium" | "Switzerland" => 1,
            "Australia" => 10,
            _ => 0,
        };
        assert_eq!(c.utc_offset_hours, want, "{}", countries[&c.client_id]);
        let tz = row(c.client_id).split(',').nth(6).unwrap().to_string();
        assert_eq!(tz, format!("+{want:02}:00"));
    }
}

#[test]
fn the_truth_file_reads_back_and_bad_files_are_named() {
    let (config, out) = sample();
    let cfg = config.contacts.as_ref().unwrap();
    let mut buf = Vec::new();
    out.truth.write_csv(&mut buf).unwrap();
    let back = ContactTruth::read_csv(&buf[..], cfg).unwrap();
    assert_eq!(back, out.truth);

    let text = String::from_utf8(buf).unwrap();
    let err =
        ContactTruth::read_csv(text.replacen("r_sms", "r_fax", 1).as_bytes(), cfg).unwrap_err();
    assert!(
        matches!(&err, SimError::Parse { line: 1, column, .. } if column == "r_sms"),
        "{err}"
    );
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    lines[3] = lines[3].replacen(",email,", ",fax,", 1);
    let err = ContactTruth::read_csv(lines.join("\n").as_bytes(), cfg).unwrap_err();
    assert!(
        matches!(&err, SimError::Parse { line: 4, column, .. } if column == "preferred_channel"),
        "{err}"
    );
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    lines[5] = lines[4].clone();
    let err = ContactTruth::read_csv(lines.join("\n").as_bytes(), cfg).unwrap_err();
    assert!(matches!(err, SimError::Parse { line: 6, .. }), "{err}");
    assert!(ContactTruth::read_csv(&b""[..], cfg).is_err());
}

#[test]
fn attributes_and_history_follow_the_config() {
    let (config, out) = sample();
    let cfg = config.contacts.as_ref().unwrap();
    let (log, truth) = (&out.contacts, &out.truth);
    let n = config.n_clients as f64;
    let managed = truth.clients().iter().filter(|c| c.managed()).count() as f64 / n;
    assert!(
        (0.06..=0.11).contains(&managed),
        "managed share {managed:.3}"
    );
    let dnc = truth.clients().iter().filter(|c| c.do_not_contact).count() as f64 / n;
    assert!(
        (0.015..=0.045).contains(&dnc),
        "do-not-contact share {dnc:.3}"
    );
    for c in truth.clients() {
        assert_eq!(
            c.consent[3],
            c.managed(),
            "meeting consent is for managed accounts"
        );
        let seg = &cfg.segments[c.segment];
        assert!((seg.margin_min..=seg.margin_max).contains(&c.margin));
        assert!(c.nps.is_none_or(|s| s <= 10));
    }
    // Managed accounts are the bigger spenders.
    let value = |managed: bool| {
        let v: Vec<f64> = truth
            .clients()
            .iter()
            .filter(|c| c.managed() == managed)
            .map(|c| c.lambda * c.mean_spend)
            .collect();
        v.iter().sum::<f64>() / v.len() as f64
    };
    assert!(value(true) > 2.0 * value(false));

    // Every contact: a client who can be reached, a consented channel, an allowed action, a
    // business hour of a weekday in the client's local time, inside the span and the history.
    let first = config.end_date() - chrono::Days::new(u64::from(cfg.history_days) - 1);
    let mut per_campaign: BTreeMap<i64, (usize, usize)> = BTreeMap::new();
    let start = config.start_date;
    for r in &log.rows {
        let c = truth.client(r.client_id).unwrap();
        assert!(!c.do_not_contact);
        let (ch, a) = (usize::from(r.channel), usize::from(r.action));
        assert!(c.consent[ch], "{r:?}");
        let allowed = truth.expected_incremental_profit(
            r.client_id,
            &log.channels[ch],
            &log.actions[a],
            0,
            9,
        );
        assert!(allowed.is_ok(), "{r:?}: {allowed:?}");
        let t = local(truth, r);
        assert!(t.weekday().num_days_from_monday() < 5, "{r:?} at {t}");
        assert!((9..18).contains(&t.hour()), "{r:?} at {t}");
        assert!(
            r.timestamp.date() >= first - chrono::Days::new(1)
                && r.timestamp.date() <= config.end_date()
        );
        match r.group {
            Group::Control => {
                assert_eq!((r.outcome, r.cost), (None, 0.0));
            }
            Group::Treated | Group::Service => {
                let base = cfg.channels[ch].cost + cfg.actions[a].cost;
                let want = if r.outcome == Some(Outcome::Converted) {
                    base + cfg.actions[a].incentive + cfg.actions[a].incentive_share * c.mean_spend
                } else {
                    base
                };
                assert!((r.cost - want).abs() < 1e-9, "{r:?}");
            }
        }
        // Campaigns start every 28 days from the history's first day and last a week.
        let day = (local(truth, r).date() - start).num_days();
        let since = day - (first - start).num_days();
        let campaign = since.div_euclid(28);
        if since.rem_euclid(28) < 7 && !c.managed() {
            let e = per_campaign.entry(campaign).or_default();
            e.0 += 1;
            e.1 += usize::from(r.group == Group::Control);
        } else {
            assert!(c.managed(), "a contact outside the campaigns: {r:?}");
        }
    }
    assert_eq!(per_campaign.len(), 15);
    let unmanaged = truth.clients().iter().filter(|c| !c.managed()).count() as f64;
    let (mut picked, mut control) = (0, 0);
    for (k, (rows, ctl)) in &per_campaign {
        let share = *rows as f64 / unmanaged;
        // Clients acquired after the campaign's start are not eligible: early campaigns pick less.
        assert!(
            (0.15..=0.37).contains(&share),
            "campaign {k}: share {share:.3}"
        );
        picked += rows;
        control += ctl;
    }
    let control = control as f64 / picked as f64;
    assert!((control - 0.2).abs() < 0.02, "control share {control:.3}");
    // Managed accounts get a service contact about every week of the history.
    let service: usize = log
        .rows
        .iter()
        .filter(|r| truth.client(r.client_id).unwrap().managed())
        .count();
    let managed_n = truth
        .clients()
        .iter()
        .filter(|c| c.managed() && !c.do_not_contact)
        .count();
    let per_client = service as f64 / managed_n as f64;
    assert!(
        (40.0..=65.0).contains(&per_client),
        "{per_client:.1} contacts per managed account"
    );
}

#[test]
fn responses_match_the_response_model() {
    let (config, out) = sample();
    let cfg = config.contacts.as_ref().unwrap();
    let (log, truth) = (&out.contacts, &out.truth);
    // Pooled per channel and per time multiplier: observed responses against the sum of the
    // truth's probabilities, within 4 standard errors.
    let mut cells: BTreeMap<(usize, u8), (f64, f64, f64)> = BTreeMap::new();
    for r in log.rows.iter().filter(|r| r.group != Group::Control) {
        let c = truth.client(r.client_id).unwrap();
        let t = local(truth, r);
        let (weekday, hour) = (t.weekday().num_days_from_monday() as u8, t.hour() as u8);
        let ch = &log.channels[usize::from(r.channel)];
        let p = truth
            .response_probability_at(r.client_id, ch, weekday, hour)
            .unwrap();
        let m = c.time_multiplier(cfg, weekday, hour);
        let level = if m == 1.0 {
            0
        } else if m == cfg.next_to_window {
            1
        } else {
            2
        };
        let e = cells.entry((usize::from(r.channel), level)).or_default();
        e.0 += f64::from(u8::from(responded(r)));
        e.1 += p;
        e.2 += p * (1.0 - p);
    }
    for ((ch, level), (obs, exp, var)) in &cells {
        if *var < 1.0 {
            continue;
        }
        let z = (obs - exp) / var.sqrt();
        assert!(
            z.abs() < 4.0,
            "channel {ch} level {level}: {obs} responses, expected {exp:.1} (z {z:.2})"
        );
    }
    // The multiplier is steep: inside the window the pooled rate is several times the rest.
    let rate = |level: u8| {
        let (o, n) = log
            .rows
            .iter()
            .filter(|r| {
                r.group != Group::Control && log.channels[usize::from(r.channel)] == "phone"
            })
            .filter(|r| {
                let c = truth.client(r.client_id).unwrap();
                let t = local(truth, r);
                let m = c.time_multiplier(
                    cfg,
                    t.weekday().num_days_from_monday() as u8,
                    t.hour() as u8,
                );
                (m == 1.0) == (level == 0)
            })
            .fold((0.0, 0.0), |(o, n), r| {
                (o + f64::from(u8::from(responded(r))), n + 1.0)
            });
        o / n
    };
    assert!(
        rate(0) > 5.0 * rate(1),
        "phone: {:.3} in the window, {:.3} outside",
        rate(0),
        rate(1)
    );
    // Control rows are never answered nor paid.
    assert!(
        log.rows
            .iter()
            .filter(|r| r.group == Group::Control)
            .all(|r| r.outcome.is_none() && r.cost == 0.0)
    );
}

/// Per client: its purchase rows `(date, stock code, quantity, price)`, sorted.
fn purchases(tx: &Transactions) -> HashMap<i64, Vec<(NaiveDateTime, String, i64, u64)>> {
    let mut out: HashMap<i64, Vec<_>> = HashMap::new();
    for i in 0..tx.len() {
        out.entry(tx.customer_id[i]).or_default().push((
            tx.invoice_date[i],
            tx.stock_code[i].clone(),
            tx.quantity[i],
            (tx.price[i] * 100.0).round() as u64,
        ));
    }
    for v in out.values_mut() {
        v.sort();
    }
    out
}

#[test]
fn contacts_change_purchases_only_through_their_effects() {
    // The same config without contacts draws the same own purchases: the difference is the
    // contacts' effect, client by client.
    let (config, out) = sample();
    let without = generate(&SimConfig {
        contacts: None,
        ..config.clone()
    })
    .unwrap();
    let (on, off) = (purchases(&out.transactions), purchases(&without));
    let treated: HashSet<i64> = out
        .contacts
        .rows
        .iter()
        .filter(|r| r.group != Group::Control)
        .map(|r| r.client_id)
        .collect();
    let empty = Vec::new();
    let (mut unchanged, mut revived_more, mut killed_less) = (0, 0, 0);
    for c in out.truth.clients() {
        let (a, b) = (
            on.get(&c.client_id).unwrap_or(&empty),
            off.get(&c.client_id).unwrap_or(&empty),
        );
        let a_set: HashSet<_> = a.iter().collect();
        let b_set: HashSet<_> = b.iter().collect();
        match c.client_type {
            // No effect: the same rows, contacted or not; so for everyone never treated.
            ClientType::SureThing | ClientType::LostCause => assert_eq!(a, b, "{}", c.client_id),
            ClientType::Persuadable => {
                assert!(
                    b_set.is_subset(&a_set),
                    "a persuadable lost purchases: {}",
                    c.client_id
                );
                assert_eq!(c.killed, 0);
                if c.revived > 0 {
                    revived_more += usize::from(a.len() > b.len());
                }
            }
            ClientType::SleepingDog => {
                assert!(
                    a_set.is_subset(&b_set),
                    "a sleeping dog gained purchases: {}",
                    c.client_id
                );
                assert_eq!(c.revived, 0);
                if c.killed > 0 {
                    killed_less += usize::from(a.len() < b.len());
                }
            }
        }
        if !treated.contains(&c.client_id) {
            assert_eq!(
                a, b,
                "never treated (control or not picked): {}",
                c.client_id
            );
            assert_eq!((c.revived, c.killed), (0, 0));
            unchanged += 1;
        }
        // Nobody buys after being killed for good.
        if c.killed > 0 && c.revived == 0 {
            assert!(!c.alive_at_end);
        }
    }
    assert!(unchanged > 100, "{unchanged} clients never treated");
    assert!(
        revived_more >= 20,
        "{revived_more} revived clients bought more"
    );
    assert!(
        killed_less >= 20,
        "{killed_less} killed clients bought less"
    );
}

/// Treated against control in the campaigns: the share who buy within 91 days after the
/// contact, per type, with the standard error of the difference.
fn campaign_uplift(config: &SimConfig, out: &SimOutput) -> HashMap<ClientType, (f64, f64)> {
    let mut buys: HashMap<i64, Vec<NaiveDateTime>> = HashMap::new();
    let tx = &out.transactions;
    for i in 0..tx.len() {
        if tx.quantity[i] > 0 {
            buys.entry(tx.customer_id[i])
                .or_default()
                .push(tx.invoice_date[i]);
        }
    }
    let end = config.end_date().and_hms_opt(23, 59, 59).unwrap();
    let horizon = TimeDelta::days(91);
    let mut cells: HashMap<(ClientType, Group), (f64, f64)> = HashMap::new();
    for r in &out.contacts.rows {
        let c = out.truth.client(r.client_id).unwrap();
        let service = r.group == Group::Service;
        if service || r.timestamp + horizon > end {
            continue;
        }
        let bought = buys.get(&r.client_id).is_some_and(|v| {
            v.iter()
                .any(|&d| d > r.timestamp && d <= r.timestamp + horizon)
        });
        let e = cells.entry((c.client_type, r.group)).or_default();
        e.0 += f64::from(u8::from(bought));
        e.1 += 1.0;
    }
    ClientType::ALL
        .into_iter()
        .map(|t| {
            let (tb, tn) = cells[&(t, Group::Treated)];
            let (cb, cn) = cells[&(t, Group::Control)];
            let (pt, pc) = (tb / tn, cb / cn);
            let se = (pt * (1.0 - pt) / tn + pc * (1.0 - pc) / cn).sqrt();
            (t, (pt - pc, se))
        })
        .collect()
}

#[test]
fn treated_persuadables_buy_more_and_sleeping_dogs_less_than_control() {
    // The default effects are a few points of the 91-day purchase rate: too small to show
    // against control on 3,000 clients. Here every response saves or harms (save = harm = 1),
    // half of each campaign is control and campaigns come every 14 days, on 30,000 clients.
    let mut cfg = ContactsConfig::default();
    for a in &mut cfg.actions {
        a.save = 1.0;
        a.harm = 1.0;
    }
    cfg.uplift.susceptibility_min = 1.0;
    cfg.control_share = 0.5;
    cfg.campaign_every_days = 14;
    cfg.campaign_share_min = 0.6;
    cfg.campaign_share_max = 0.7;
    let config = SimConfig {
        contacts: Some(cfg),
        ..SimConfig::with_clients(30_000, 5)
    };
    let out = generate_with_contacts(&config).unwrap();
    let uplift = campaign_uplift(&config, &out);
    let z = |t| uplift[&t].0 / uplift[&t].1;
    let report = format!("(difference, standard error) by type: {uplift:?}");
    assert!(z(ClientType::Persuadable) > 3.0, "{report}");
    assert!(z(ClientType::SleepingDog) < -3.0, "{report}");
    for t in [ClientType::SureThing, ClientType::LostCause] {
        assert!(z(t).abs() < 3.0, "{report}");
    }
}

#[test]
fn expected_profit_follows_the_truth() {
    let (config, out) = sample();
    let cfg = config.contacts.as_ref().unwrap();
    let truth = &out.truth;
    assert_eq!(truth.plan_profit(&[]).unwrap(), 0.0);

    // A client worked by hand: a dead persuadable reached by email in its window.
    let c = truth
        .clients()
        .iter()
        .find(|c| {
            c.client_type == ClientType::Persuadable
                && !c.alive_at_end
                && !c.do_not_contact
                && c.consent[0]
        })
        .unwrap();
    let (w, h) = (c.window_weekday, c.window_start_hour);
    let r = c.response_rates[0];
    let tau = cfg.channels[0].time_sensitivity;
    let discount = &cfg.actions[1];
    let incentive = discount.incentive_share * c.mean_spend;
    let v = c.margin * c.mean_spend * (1.0 - (-c.lambda * c.p * 13.0).exp()) / c.p;
    assert!((c.value_if_alive - v).abs() < 1e-9 * v.max(1.0));
    let want = r * (c.s_plus[1] * v - incentive * discount.accept) - 0.10;
    let got = truth
        .expected_incremental_profit(c.client_id, "email", "discount_10", w, h)
        .unwrap();
    assert!((got - want).abs() < 1e-9, "{got} vs {want}");
    // Outside the window (another weekday): the multiplier is outside_window.
    let other = (w + 1) % 5;
    let m = 1.0 - tau * (1.0 - cfg.outside_window);
    let want = r * m * (c.s_plus[1] * v - incentive * discount.accept) - 0.10;
    let got = truth
        .expected_incremental_profit(c.client_id, "email", "discount_10", other, h)
        .unwrap();
    assert!((got - want).abs() < 1e-9, "{got} vs {want}");
    // One hour early: half the window (1.0) and half next to it.
    let m_next = 1.0 - tau * (1.0 - cfg.next_to_window);
    let p = truth
        .response_probability(c.client_id, "email", w, h - 1)
        .unwrap();
    assert!((p - r * (m_next + 1.0) / 2.0).abs() < 1e-12);

    // Plans: the sum of their contacts; unknown names and forbidden contacts are errors.
    let plan = vec![
        PlannedContact {
            client_id: c.client_id,
            channel: "email".into(),
            action: "discount_10".into(),
            weekday: w,
            start_hour: h,
        };
        2
    ];
    let one = truth
        .expected_incremental_profit(c.client_id, "email", "discount_10", w, h)
        .unwrap();
    assert!((truth.plan_profit(&plan).unwrap() - 2.0 * one).abs() < 1e-9);
    let bad = |p: PlannedContact| truth.plan_profit(&[p]).unwrap_err();
    let base = plan[0].clone();
    assert!(matches!(
        bad(PlannedContact {
            client_id: -1,
            ..base.clone()
        }),
        SimError::UnknownClient(-1)
    ));
    assert!(matches!(
        bad(PlannedContact {
            channel: "fax".into(),
            ..base.clone()
        }),
        SimError::UnknownName {
            what: "channel",
            ..
        }
    ));
    assert!(matches!(
        bad(PlannedContact {
            action: "gift".into(),
            ..base.clone()
        }),
        SimError::UnknownName { what: "action", .. }
    ));
    assert!(matches!(
        bad(PlannedContact {
            weekday: 7,
            ..base.clone()
        }),
        SimError::InvalidParameter { .. }
    ));
    assert!(matches!(
        bad(PlannedContact {
            start_hour: 23,
            ..base.clone()
        }),
        SimError::InvalidParameter { .. }
    ));
    let err = bad(PlannedContact {
        channel: "meeting".into(),
        action: "account_review".into(),
        ..base.clone()
    });
    assert!(matches!(err, SimError::NotAllowed { .. }), "{err}");
    let dnc = truth.clients().iter().find(|c| c.do_not_contact).unwrap();
    let err = bad(PlannedContact {
        client_id: dnc.client_id,
        ..base.clone()
    });
    assert!(err.to_string().contains("do not contact"), "{err}");
    let no_sms = truth
        .clients()
        .iter()
        .find(|c| !c.do_not_contact && !c.consent[1])
        .unwrap();
    let err = bad(PlannedContact {
        client_id: no_sms.client_id,
        channel: "sms".into(),
        ..base
    });
    assert!(err.to_string().contains("no consent to sms"), "{err}");

    // The truth's own channel and window against random ones, with the same action: higher
    // for clients a contact helps (dead persuadables), lower for those it harms (alive
    // sleeping dogs), on average.
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let (mut helped, mut harmed) = ((0.0, 0.0, 0), (0.0, 0.0, 0));
    for c in truth.clients() {
        let pref = &cfg.channels[c.preferred_channel].name;
        let action = "check_in";
        if truth
            .expected_incremental_profit(c.client_id, pref, action, 0, 9)
            .is_err()
        {
            continue;
        }
        let allowed: Vec<&str> = cfg
            .channels
            .iter()
            .map(|ch| ch.name.as_str())
            .filter(|ch| {
                truth
                    .expected_incremental_profit(c.client_id, ch, action, 0, 9)
                    .is_ok()
            })
            .collect();
        let own = truth
            .expected_incremental_profit(
                c.client_id,
                pref,
                action,
                c.window_weekday,
                c.window_start_hour,
            )
            .unwrap();
        let ch = allowed[rng.random_range(0..allowed.len())];
        let random = truth
            .expected_incremental_profit(
                c.client_id,
                ch,
                action,
                rng.random_range(0..5),
                rng.random_range(9..=16),
            )
            .unwrap();
        let cell = match (c.client_type, c.alive_at_end) {
            (ClientType::Persuadable, false) => &mut helped,
            (ClientType::SleepingDog, true) => &mut harmed,
            _ => continue,
        };
        cell.0 += own;
        cell.1 += random;
        cell.2 += 1;
    }
    assert!(helped.2 >= 50 && harmed.2 >= 30, "{helped:?} {harmed:?}");
    assert!(
        helped.0 > helped.1,
        "helped: own {} vs random {}",
        helped.0,
        helped.1
    );
    assert!(
        harmed.0 < harmed.1,
        "harmed: own {} vs random {}",
        harmed.0,
        harmed.1
    );

    // The best contact by brute force: nothing allowed does better.
    for c in truth.clients().iter().take(300) {
        let Some((best, v)) = truth.best_contact(c.client_id).unwrap() else {
            assert!(c.do_not_contact || !c.consent.iter().any(|&x| x));
            continue;
        };
        assert_eq!(truth.plan_profit(std::slice::from_ref(&best)).unwrap(), v);
        for ch in &cfg.channels {
            for a in &cfg.actions {
                for w in 0..5 {
                    for h in 9..=16 {
                        if let Ok(x) =
                            truth.expected_incremental_profit(c.client_id, &ch.name, &a.name, w, h)
                        {
                            assert!(x <= v, "{best:?} {v} < {x}");
                        }
                    }
                }
            }
        }
    }
}

/// Per client: treated contacts, by channel and by local (weekday, hour).
struct History<'a> {
    rows: HashMap<i64, Vec<&'a Contact>>,
}

impl<'a> History<'a> {
    fn new(out: &'a SimOutput) -> Self {
        let mut rows: HashMap<i64, Vec<&Contact>> = HashMap::new();
        for r in out
            .contacts
            .rows
            .iter()
            .filter(|r| r.group != Group::Control)
        {
            rows.entry(r.client_id).or_default().push(r);
        }
        Self { rows }
    }
}

/// The window estimator of the tests: the (weekday, 2-hour window from 9..=16) with the most
/// responses per attempt, among windows of at least 3 attempts. `attempts` are
/// `(local weekday, local hour, responded)`.
fn best_window(attempts: &[(u8, u8, bool)]) -> Option<(u8, u8)> {
    let mut cells = [[(0u32, 0u32); 24]; 7];
    for &(d, h, y) in attempts {
        let e = &mut cells[usize::from(d)][usize::from(h)];
        e.0 += 1;
        e.1 += u32::from(y);
    }
    let mut best: Option<(f64, u8, u8)> = None;
    for d in 0..5u8 {
        for s in 9..=16u8 {
            let (a, b) = (
                cells[usize::from(d)][usize::from(s)],
                cells[usize::from(d)][usize::from(s) + 1],
            );
            let n = a.0 + b.0;
            if n >= 3 {
                let rate = f64::from(a.1 + b.1) / f64::from(n);
                if best.is_none_or(|x| rate > x.0) {
                    best = Some((rate, d, s));
                }
            }
        }
    }
    best.map(|(_, d, s)| (d, s))
}

#[test]
fn channel_and_window_are_identifiable_from_the_sample() {
    let (config, out) = sample();
    let cfg = config.contacts.as_ref().unwrap();
    let truth = &out.truth;
    let history = History::new(out);
    let (mut n_channel, mut ok_channel) = (0, 0);
    let (mut n_window, mut ok_window) = (0, 0);
    let (mut n_timed, mut ok_timed) = (0, 0);
    for (id, rows) in &history.rows {
        let c = truth.client(*id).unwrap();
        let mut per_channel = vec![(0u32, 0u32); cfg.channels.len()];
        for r in rows {
            let e = &mut per_channel[usize::from(r.channel)];
            e.0 += 1;
            e.1 += u32::from(responded(r));
        }
        let used = per_channel.iter().filter(|e| e.0 > 0).count();
        if rows.len() >= 30 && used >= 3 {
            n_channel += 1;
            let rate = |e: (u32, u32)| f64::from(e.1) / f64::from(e.0);
            let best = (0..per_channel.len())
                .filter(|&k| per_channel[k].0 > 0)
                .max_by(|&a, &b| rate(per_channel[a]).total_cmp(&rate(per_channel[b])))
                .unwrap();
            ok_channel += usize::from(best == c.preferred_channel);
        }
        let attempts = |min_tau: f64| -> Vec<(u8, u8, bool)> {
            rows.iter()
                .filter(|r| cfg.channels[usize::from(r.channel)].time_sensitivity >= min_tau)
                .map(|r| {
                    let t = local(truth, r);
                    (
                        t.weekday().num_days_from_monday() as u8,
                        t.hour() as u8,
                        responded(r),
                    )
                })
                .collect()
        };
        let close = |w: Option<(u8, u8)>| {
            w.is_some_and(|(d, s)| d == c.window_weekday && s.abs_diff(c.window_start_hour) <= 1)
        };
        let all = attempts(0.0);
        if all.iter().filter(|a| a.2).count() >= 10 {
            n_window += 1;
            ok_window += usize::from(close(best_window(&all)));
        }
        // The same on the channels where the time matters (sms, phone, meeting).
        let timed = attempts(0.5);
        if timed.iter().filter(|a| a.2).count() >= 10 {
            n_timed += 1;
            ok_timed += usize::from(close(best_window(&timed)));
        }
    }
    let share = |ok: usize, n: usize| ok as f64 / n as f64;
    let report = format!(
        "channel {ok_channel}/{n_channel}, window {ok_window}/{n_window}, window on timed channels {ok_timed}/{n_timed}"
    );
    assert!(
        n_channel >= 150 && n_window >= 150 && n_timed >= 100,
        "{report}"
    );
    assert!(share(ok_channel, n_channel) >= 0.90, "{report}");
    assert!(share(ok_window, n_window) >= 0.85, "{report}");
    assert!(share(ok_timed, n_timed) >= 0.95, "{report}");
}

#[test]
fn ten_responses_at_uniform_times_find_the_window() {
    // The steepness of the multiplier alone: phone contacts (time sensitivity 1) at uniform
    // business times until 10 responses; the estimator's window is within an hour of the
    // truth for at least 85% of the clients.
    let (_, out) = sample();
    let truth = &out.truth;
    let mut rng = ChaCha8Rng::seed_from_u64(11);
    let (mut ok, mut n) = (0, 0);
    for c in truth.clients().iter().take(1000) {
        let mut attempts = Vec::new();
        let mut responses = 0;
        while responses < 10 {
            let (d, h) = (rng.random_range(0..5u8), rng.random_range(9..18u8));
            let p = truth
                .response_probability_at(c.client_id, "phone", d, h)
                .unwrap();
            let y = rng.random::<f64>() < p;
            responses += usize::from(y);
            attempts.push((d, h, y));
        }
        n += 1;
        ok +=
            usize::from(best_window(&attempts).is_some_and(|(d, s)| {
                d == c.window_weekday && s.abs_diff(c.window_start_hour) <= 1
            }));
    }
    let share = ok as f64 / n as f64;
    assert!(share >= 0.85, "{ok}/{n} = {share:.3}");
}

#[test]
fn bulk_contacts_follow_the_model_for_any_ids() {
    let config = SimConfig::with_contacts(3000, 42);
    let ids: Vec<i64> = (0..5000).map(|i| 900_000 + 7 * i).collect();
    let mut a = Vec::new();
    let rows = simulate_contacts_for(&ids, &config, 40_000, 9, &mut a).unwrap();
    assert_eq!(rows, 40_000);
    let mut b = Vec::new();
    simulate_contacts_for(&ids, &config, 40_000, 9, &mut b).unwrap();
    assert_eq!(a, b);
    let mut c = Vec::new();
    simulate_contacts_for(&ids, &config, 40_000, 10, &mut c).unwrap();
    assert_ne!(a, c);
    let text = String::from_utf8(a).unwrap();
    assert_eq!(text.lines().next(), Some(CONTACTS_HEADER));
    assert_eq!(text.lines().count(), 40_001);
    let known: HashSet<i64> = ids.iter().copied().collect();
    let (mut control, mut responses, mut treated) = (0, 0, 0);
    let mut clients = HashSet::new();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        assert_eq!(f.len(), 7);
        let id: i64 = f[0].parse().unwrap();
        assert!(known.contains(&id));
        clients.insert(id);
        assert!(
            NaiveDateTime::parse_from_str(f[1], "%Y-%m-%dT%H:%M:%SZ").is_ok(),
            "{line}"
        );
        match f[5] {
            "control" => {
                control += 1;
                assert_eq!((f[4], f[6]), ("", "0.00"));
            }
            "treated" => {
                treated += 1;
                responses += usize::from(matches!(f[4], "responded" | "converted"));
            }
            g => panic!("group {g}"),
        }
    }
    assert!(clients.len() > 4500, "{} clients", clients.len());
    let control = f64::from(control) / 40_000.0;
    assert!((control - 0.2).abs() < 0.01, "{control}");
    let rate = responses as f64 / f64::from(treated);
    assert!((0.12..=0.35).contains(&rate), "response rate {rate:.3}");
    // Empty input: just the header.
    let mut empty = Vec::new();
    assert_eq!(
        simulate_contacts_for(&[], &config, 100, 1, &mut empty).unwrap(),
        0
    );
    assert_eq!(
        String::from_utf8(empty).unwrap(),
        format!("{CONTACTS_HEADER}\n")
    );
}

#[test]
fn small_and_odd_configs_work_with_contacts() {
    // One client, a one-week span (the history shrinks to it), a country west of UTC.
    let mut cfg = ContactsConfig::default();
    cfg.utc_offsets.push(retain_sim::CountryOffset {
        country: "Brazil".into(),
        hours: -3,
    });
    cfg.managed_other = 1.0;
    let config = SimConfig {
        span_days: 7,
        countries: vec![retain_sim::CountryWeight::new("Brazil", 1.0)],
        contacts: Some(cfg.clone()),
        ..SimConfig::with_clients(50, 3)
    };
    let out = generate_with_contacts(&config).unwrap();
    assert_eq!(out.truth.clients().len(), 50);
    let end = config.end_date().and_hms_opt(23, 59, 59).unwrap();
    for r in &out.contacts.rows {
        assert!(
            r.timestamp <= end && r.timestamp.date() >= config.start_date,
            "{r:?}"
        );
        let t = local(&out.truth, r);
        assert!((9..18).contains(&t.hour()) && t.weekday().num_days_from_monday() < 5);
    }
    assert!(out.truth.clients().iter().all(|c| c.utc_offset_hours == -3));
    let mut buf = Vec::new();
    out.truth.write_csv(&mut buf).unwrap();
    assert_eq!(ContactTruth::read_csv(&buf[..], &cfg).unwrap(), out.truth);
    let mut clients = Vec::new();
    out.truth.write_clients_csv(&mut clients).unwrap();
    assert!(String::from_utf8(clients).unwrap().contains(",-03:00,"));

    // Nobody may be contacted: an empty log, and the transactions of the run without contacts.
    cfg.do_not_contact = 1.0;
    let config = SimConfig {
        contacts: Some(cfg),
        ..SimConfig::with_clients(300, 4)
    };
    let out = generate_with_contacts(&config).unwrap();
    assert!(out.contacts.is_empty());
    let plain = generate(&SimConfig {
        contacts: None,
        ..config.clone()
    })
    .unwrap();
    assert_eq!(out.transactions, plain);
    let one = generate_with_contacts(&SimConfig::with_contacts(1, 0)).unwrap();
    assert_eq!(one.truth.clients().len(), 1);
}
