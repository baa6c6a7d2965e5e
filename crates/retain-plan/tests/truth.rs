//! Next best contact against a simulated truth (retain-sim's contacts, with each client's true
//! response rates, window and effect of each action): the channel and window estimates, the
//! plan's true incremental profit against ranking by churn probability and by value at risk,
//! and the choices made on contacts before a date checked on the contacts after it.
//!
//! The whole product path: the simulated files are read by retain's readers, the churn and
//! value models and the uplift models are trained and the clients scored as `retain train`
//! and `retain score --plan` do, and the plan is judged by the simulator's truth.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use chrono::Datelike;
use retain_clv::RfmKind;
use retain_core::{Cutoff, DataSource, Horizon};
use retain_data::{
    ClientAttributes, ClientsLayout, Contacts, ContactsLayout, Layout, Transactions, contact_cols,
    read_clients, read_contacts, read_transactions,
};
use retain_features::History;
use retain_plan::config::{ChannelConfig, PlanConfig};
use retain_plan::plan::{Plan, Planned};
use retain_plan::run::{RunInputs, plan_scores};
use retain_score::{ScoreOptions, Scorer, Scores};
use retain_sim::{ContactTruth, PlannedContact, SimConfig, generate_with_contacts};
use retain_train::{
    BacktestParams, ChurnChoice, Protocol, TrainParams, UpliftParams, ValueChoice, train,
    train_uplift,
};

struct World {
    _dir: tempfile::TempDir,
    tx: Transactions,
    contacts: Contacts,
    clients: ClientAttributes,
    truth: ContactTruth,
    scores: Scores,
    uplift: Option<retain_core::Artifact<retain_models::UpliftSet>>,
    last: Cutoff,
}

fn write(path: &Path, f: impl FnOnce(&mut std::fs::File) -> std::io::Result<()>) {
    let mut file = std::fs::File::create(path).unwrap();
    f(&mut file).unwrap();
}

/// Simulates `n` clients with contacts, reads them back, trains and scores at the last day.
fn world(n: usize, seed: u64) -> World {
    let config = SimConfig::with_contacts(n, seed);
    let out = generate_with_contacts(&config).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (t, c, k) = (
        dir.path().join("transactions.csv"),
        dir.path().join("contacts.csv"),
        dir.path().join("clients.csv"),
    );
    write(&t, |w| out.transactions.write_csv(w));
    write(&c, |w| out.contacts.write_csv(w));
    write(&k, |w| out.truth.write_clients_csv(w));
    let tx = read_transactions(&t, &Layout::online_retail_ii()).unwrap();
    let contacts = read_contacts(&c, &ContactsLayout::default()).unwrap();
    let clients = read_clients(&k, &ClientsLayout::default()).unwrap();
    let last = Cutoff::new(tx.stats().last_day.unwrap());
    let h = Horizon::new(91).unwrap();
    let source = DataSource {
        rows: tx.stats().lines,
        lines_sha256: tx.lines_sha256(),
        ..DataSource::default()
    };
    let trained = train(
        &tx,
        &TrainParams {
            backtest: BacktestParams::new(Protocol {
                cutoff: last,
                horizon: h,
                train_horizon: h,
            }),
            churn: ChurnChoice::Logistic,
            value: ValueChoice::Clv,
            rfm: RfmKind::Bgnbd,
        },
        &source,
    )
    .unwrap();
    let (cd, vd) = (dir.path().join("churn"), dir.path().join("value"));
    retain_models::save_checked(&cd, &trained.churn).unwrap();
    retain_models::save_checked(&vd, &trained.value).unwrap();
    let history = History::of(&tx).unwrap();
    let scores = Scorer::load(&cd, Some(&vd))
        .unwrap()
        .score(&history, last, &ScoreOptions::default())
        .unwrap();
    let uplift = train_uplift(&history, &contacts, &UpliftParams::new(last, h), &source).unwrap();
    World {
        _dir: dir,
        tx,
        contacts,
        clients,
        truth: out.truth,
        scores,
        uplift,
        last,
    }
}

/// Capacities that bind: a team that cannot call everybody.
fn config() -> PlanConfig {
    let ch = |name: &str, cost, cap| ChannelConfig {
        name: name.into(),
        cost,
        capacity_per_day: cap,
    };
    PlanConfig {
        channels: vec![
            ch("email", 0.10, 60),
            ch("sms", 0.30, 20),
            ch("phone", 4.00, 8),
            ch("meeting", 40.00, 1),
        ],
        ..PlanConfig::default()
    }
}

fn plan_of(w: &World, start: Option<chrono::NaiveDate>) -> Plan {
    plan_scores(
        &config(),
        &w.scores,
        RunInputs {
            transactions: &w.tx,
            contacts: Some(&w.contacts),
            clients: Some(&w.clients),
            uplift: w.uplift.as_ref(),
            start,
        },
    )
    .unwrap()
}

fn list_ids(w: &World) -> Vec<i64> {
    w.scores
        .table
        .column("client_id")
        .unwrap()
        .i64()
        .unwrap()
        .into_no_null_iter()
        .collect()
}

/// Per client: treated contacts, responses and the channels used (the whole log).
fn history_counts(contacts: &Contacts) -> HashMap<i64, (u32, u32, BTreeSet<String>)> {
    let f = contacts.frame();
    let client = f.column(contact_cols::CLIENT).unwrap().i64().unwrap();
    let channel = f.column(contact_cols::CHANNEL).unwrap().str().unwrap();
    let outcome = f.column(contact_cols::OUTCOME).unwrap().i8().unwrap();
    let control = f.column(contact_cols::CONTROL).unwrap().bool().unwrap();
    let mut out: HashMap<i64, (u32, u32, BTreeSet<String>)> = HashMap::new();
    for i in 0..f.height() {
        if control.get(i) == Some(true) {
            continue;
        }
        let e = out.entry(client.get(i).unwrap()).or_default();
        e.0 += 1;
        e.1 += u32::from(outcome.get(i).unwrap() >= 1);
        e.2.insert(channel.get(i).unwrap().to_string());
    }
    out
}

fn as_truth(w: &World, plan: &Plan, contacts: &[(usize, Planned)]) -> Vec<PlannedContact> {
    let ids = list_ids(w);
    contacts
        .iter()
        .map(|(i, p)| PlannedContact {
            client_id: ids[*i],
            channel: plan.channel_names[p.channel].clone(),
            action: plan.action_names[p.action].clone(),
            weekday: p.date.weekday().num_days_from_monday() as u8,
            start_hour: plan.clients[*i].window.start,
        })
        .collect()
}

#[test]
fn next_best_contact_against_the_simulated_truth() {
    let n = std::env::var("RETAIN_TRUTH_CLIENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(8_000);
    let w = world(n, 7);
    let plan = plan_of(&w, None);
    for (a, x) in &plan.summary.actions {
        eprintln!(
            "action {a}: effect from the {}, save rate {:.3}, Qini {:?}, planned {}",
            x.source, x.save_rate, x.qini, x.planned
        );
    }
    let ids = list_ids(&w);
    let hist = history_counts(&w.contacts);

    // Channel: clients with 30+ contacts over 3+ channels get their true best consented
    // channel.
    let (mut hit, mut n) = (0, 0);
    for (i, id) in ids.iter().enumerate() {
        let Some((k, _, chans)) = hist.get(id) else {
            continue;
        };
        if *k < 30 || chans.len() < 3 {
            continue;
        }
        let t = w.truth.client(*id).unwrap();
        let best = (0..t.response_rates.len())
            .filter(|&c| t.consent[c])
            .max_by(|&a, &b| t.response_rates[a].total_cmp(&t.response_rates[b]))
            .unwrap();
        let name = &w.truth.config().channels[best].name;
        n += 1;
        hit += usize::from(plan.clients[i].channel.map(|c| &plan.channel_names[c]) == Some(name));
    }
    let channel_share = hit as f64 / n as f64;
    eprintln!(
        "channel: {hit} of {n} clients with 30+ contacts over 3+ channels ({channel_share:.3})"
    );
    assert!(n >= 100, "{n} clients qualify");
    assert!(channel_share >= 0.90, "{channel_share}");

    // Clients without contact history are marked and get their segment's channel.
    let fresh: Vec<usize> = (0..ids.len())
        .filter(|&i| !plan.clients[i].contacted_before)
        .collect();
    assert!(!fresh.is_empty());
    for &i in &fresh {
        let c = &plan.clients[i];
        assert!(!hist.contains_key(&ids[i]));
        assert_ne!(c.channel_source.name(), "own", "client {}", ids[i]);
    }

    // Window: clients with 10+ responses get a window within an hour of their true one.
    let (mut hit, mut n) = (0, 0);
    for (i, id) in ids.iter().enumerate() {
        let Some((_, r, _)) = hist.get(id) else {
            continue;
        };
        if *r < 10 {
            continue;
        }
        let t = w.truth.client(*id).unwrap();
        let win = plan.clients[i].window;
        n += 1;
        hit += usize::from(
            win.weekday == t.window_weekday
                && (i32::from(win.start) - i32::from(t.window_start_hour)).abs() <= 1,
        );
    }
    let window_share = hit as f64 / n as f64;
    eprintln!("window: {hit} of {n} clients with 10+ responses ({window_share:.3})");
    assert!(n >= 100, "{n} clients qualify");
    assert!(window_share >= 0.80, "{window_share}");

    // Targeting: at equal capacity, the plan's true incremental profit beats ranking by
    // churn probability and by value at risk.
    let planned: Vec<(usize, Planned)> = plan
        .clients
        .iter()
        .enumerate()
        .filter_map(|(i, c)| c.planned.clone().map(|p| (i, p)))
        .collect();
    let truth_of = |c: &[(usize, Planned)]| w.truth.plan_profit(&as_truth(&w, &plan, c)).unwrap();
    let ours = truth_of(&planned);
    let by_churn = truth_of(&plan.baselines["by_churn_probability"]);
    let by_var = truth_of(&plan.baselines["by_value_at_risk"]);
    eprintln!(
        "true incremental profit: plan {ours:.2} ({} contacts), by churn probability \
         {by_churn:.2} ({}), by value at risk {by_var:.2} ({}); the plan earns {:.2} and \
         {:.2} more",
        planned.len(),
        plan.baselines["by_churn_probability"].len(),
        plan.baselines["by_value_at_risk"].len(),
        ours - by_churn,
        ours - by_var
    );
    assert!(
        ours > by_churn && ours > by_var,
        "{ours} {by_churn} {by_var}"
    );
    assert!(ours > 0.0);
}

#[test]
fn channels_and_windows_chosen_on_the_past_answer_more_often_after() {
    let w = world(5_000, 11);
    // Fitted on the contacts before a date 120 days before the end; judged on those after.
    let split = w.last.days_before(120).date();
    let plan = plan_of(&w, Some(split));
    let ids = list_ids(&w);
    let row: HashMap<i64, usize> = ids.iter().enumerate().map(|(i, &c)| (c, i)).collect();
    let f = w.contacts.frame();
    let client = f.column(contact_cols::CLIENT).unwrap().i64().unwrap();
    let ts = f.column(contact_cols::TS).unwrap().i64().unwrap();
    let day = f.column(contact_cols::DAY).unwrap().i32().unwrap();
    let channel = f.column(contact_cols::CHANNEL).unwrap().str().unwrap();
    let outcome = f.column(contact_cols::OUTCOME).unwrap().i8().unwrap();
    let control = f.column(contact_cols::CONTROL).unwrap().bool().unwrap();
    let start = retain_core::day_number(split);
    // [recommended?] -> (answered, contacts), for the channel and for the window
    let mut by_channel: BTreeMap<bool, (f64, f64)> = BTreeMap::new();
    let mut by_window: BTreeMap<bool, (f64, f64)> = BTreeMap::new();
    for r in 0..f.height() {
        if day.get(r).unwrap() < start || control.get(r) == Some(true) {
            continue;
        }
        let id = client.get(r).unwrap();
        let Some(&i) = row.get(&id) else { continue };
        let c = &plan.clients[i];
        if !c.contacted_before {
            continue;
        }
        let answered = f64::from(u8::from(outcome.get(r).unwrap() >= 1));
        let ch = channel.get(r).unwrap();
        let same = c.channel.map(|k| plan.channel_names[k].as_str()) == Some(ch);
        let e = by_channel.entry(same).or_default();
        e.0 += answered;
        e.1 += 1.0;
        let local = w.clients.time_zone(id).local_secs(ts.get(r).unwrap());
        let weekday = ((local.div_euclid(86_400) + 3).rem_euclid(7)) as u8;
        let hour = (local.rem_euclid(86_400) / 3_600) as u8;
        let inside =
            weekday == c.window.weekday && (c.window.start..c.window.start + 2).contains(&hour);
        let e = by_window.entry(inside).or_default();
        e.0 += answered;
        e.1 += 1.0;
    }
    let rate = |m: &BTreeMap<bool, (f64, f64)>, k: bool| m[&k].0 / m[&k].1;
    eprintln!(
        "after {split}: recommended channel answered {:.3} ({} contacts) against {:.3} ({}); \
         inside the recommended window {:.3} ({}) against {:.3} ({})",
        rate(&by_channel, true),
        by_channel[&true].1,
        rate(&by_channel, false),
        by_channel[&false].1,
        rate(&by_window, true),
        by_window[&true].1,
        rate(&by_window, false),
        by_window[&false].1,
    );
    assert!(rate(&by_channel, true) > rate(&by_channel, false) * 1.2);
    assert!(rate(&by_window, true) > rate(&by_window, false) * 1.2);
}
