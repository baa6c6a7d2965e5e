//! `retain score`: apply the saved models and write the ranked outreach list and the run
//! summary.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use retain_clv::Valuation;
use retain_score::{Bands, RankBy, ScoreOptions, Scorer};
use serde::Serialize;

use super::common::{
    PlanRequest, ReadSummary, Ui, check_outputs, load, plan_scored, read_in_parts, read_summary,
    resolve_input, say_models, score_features, score_history,
};
use super::report::{ScoresView, plan_lines, report_drift, scores_view, summarize};
use crate::args::{RankByArg, ScoreArgs, defaults};

/// Rows of the list shown on the terminal and in the JSON.
const HEAD: usize = 10;

/// `retain score --format json`.
#[derive(Serialize)]
struct ScoreOutput<'a> {
    read: &'a ReadSummary,
    #[serde(flatten)]
    scores: ScoresView<'a>,
    outputs: BTreeMap<&'static str, &'a Path>,
    /// Wall time and peak heap of each stage (read, score, plan).
    stages: &'a [retain_score::StageCost],
}

pub fn run(args: &ScoreArgs, ui: &Ui, plan: bool) -> Result<()> {
    let plan = plan || args.plan;
    // streamed: read and condense, score, write; planning: read, condense, score, plan, write
    ui.plan(if plan { 5 } else { 2 });
    let (input, layout) = resolve_input(&args.input, None)?;
    let out = if plan && !args.plan && args.out == Path::new(defaults::SCORES) {
        PathBuf::from(defaults::PLAN)
    } else {
        args.out.clone()
    };
    let inputs: Vec<&Path> = [input.as_path(), args.model.as_path()]
        .into_iter()
        .chain(args.value_model.as_deref())
        .chain(args.contact.contacts.as_deref())
        .chain(args.contact.clients.as_deref())
        .collect();
    check_outputs(
        &inputs,
        &retain_score::list_paths(&out)
            .each_ref()
            .map(|p| p.as_path()),
    )?;
    let [csv, parquet, summary, jsonl] = retain_score::list_paths(&out);
    let mut files = vec![csv.as_path(), parquet.as_path(), summary.as_path()];
    if args.json_lines {
        files.push(jsonl.as_path());
    }
    super::common::check_files_writable(&files)?;
    let value_dir = args
        .value_model
        .clone()
        .or_else(|| Some(PathBuf::from(defaults::VALUE_MODEL)).filter(|p| p.exists()));
    if value_dir.is_none() {
        ui.say(format!(
            "no value model ({} does not exist and --value-model is not given): the columns \
             p_alive, expected_purchases, expected_next_purchase, clv, value_at_risk and \
             key_client are omitted",
            defaults::VALUE_MODEL
        ));
    }
    // Models first: a bad artifact is refused before the data are read.
    let scorer = Scorer::load(&args.model, value_dir.as_deref())?;
    let options = ScoreOptions {
        n_reasons: args.reasons as usize,
        reasons_for: args.reasons_for,
        rank_by: match args.rank_by {
            RankByArg::Churn => RankBy::Churn,
            RankByArg::ValueAtRisk => RankBy::ValueAtRisk,
        },
        key_share: args.key_share,
        valuation: Valuation {
            annual_discount_rate: args.discount_rate,
            margin: args.margin,
        },
        bands: Bands {
            medium: args.bands[0],
            high: args.bands[1],
        },
        drift_threshold: args.drift_threshold,
        chunk_clients: retain_score::DEFAULT_CHUNK_CLIENTS,
    };
    options.check()?;
    // The plan reads the lines themselves. The list alone needs only the clients' features,
    // computed part by part as the input is read: with `--date`, each part's as it arrives,
    // so memory never holds the whole history; without it, from the parts' condensed tables
    // once the last day is known.
    let mut stages = Vec::new();
    let (tx, features, ids, read) = crate::memory::stage(&mut stages, "read", || -> Result<_> {
        if !plan {
            let (features, ids, read) = read_in_parts(
                ui,
                "reading and computing the features of",
                &input,
                &layout,
                args.input.as_of,
                || scorer.part_features(args.date),
                |f, part| Ok(f.push(part)?),
            )?;
            return Ok((None, Some(features), ids, read));
        }
        let tx = load(ui, &input, &layout, args.input.as_of)?;
        let ids = tx.ids().clone();
        let read = read_summary(&tx);
        Ok((Some(tx), None, ids, read))
    })?;
    let date = match args.date {
        Some(d) => d,
        None => read.last_day()?,
    };
    say_models(ui, &scorer);
    let mut scores = crate::memory::stage(&mut stages, "score", || match features {
        Some(f) => score_features(ui, &scorer, f, ids, date, &options),
        None => {
            let tx = tx.as_ref().expect("the lines are read for the plan");
            let history = ui.step("condensing the history", || {
                Ok(retain_features::History::of(tx)?)
            })?;
            score_history(ui, &scorer, &history, date, &options)
        }
    })?;
    report_drift(ui, &scores);
    if args.fail_on_drift && !scores.summary.drifted().is_empty() {
        bail!(retain_score::ScoreError::Drift(format!(
            "{} of the scored distributions drifted past PSI {} (--fail-on-drift): the previous \
             list is left in place",
            scores.summary.drifted().len(),
            options.drift_threshold
        )));
    }
    if let Some(tx) = &tx {
        let uplift_dir = args
            .uplift_model
            .clone()
            .or_else(|| Some(PathBuf::from(defaults::UPLIFT_MODEL)).filter(|p| p.exists()));
        let request = PlanRequest {
            input: &args.input,
            contact: &args.contact,
            contact_defaults: (None, None),
            uplift_dir,
            days: args.plan_days,
            holdout_share: args.holdout_share,
            key_by: args.key_by.map(|k| match k {
                crate::args::KeyByArg::Clv => retain_plan::config::KeyBy::Clv,
                crate::args::KeyByArg::Revenue => retain_plan::config::KeyBy::Revenue,
            }),
            start: args.plan_start,
            loaded: None,
        };
        crate::memory::stage(&mut stages, "plan", || {
            plan_scored(ui, &request, &scorer, tx, &mut scores)
        })?;
    }

    let [csv, parquet, summary, jsonl] = crate::memory::stage(&mut stages, "write", || {
        scores.write_with(&out, args.json_lines)
    })?;
    if ui.emit(&ScoreOutput {
        read: &read,
        scores: scores_view(&scores, HEAD),
        outputs: {
            let mut o: BTreeMap<&'static str, &Path> = [
                ("csv", &*csv),
                ("parquet", &*parquet),
                ("summary", &*summary),
            ]
            .into();
            if args.json_lines {
                o.insert("jsonl", &*jsonl);
            }
            o
        },
        stages: &stages,
    })? {
        return Ok(());
    }
    summarize(ui, &scores, date, HEAD);
    if plan {
        plan_lines(ui, &scores);
    }
    ui.say(format!(
        "wrote {}, {} and {}{}",
        csv.display(),
        parquet.display(),
        summary.display(),
        if args.json_lines {
            format!(" and {}", jsonl.display())
        } else {
            String::new()
        }
    ));
    Ok(())
}
