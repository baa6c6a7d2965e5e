//! Which channel reaches a client: each client's response rate per channel, its own history
//! shrunk toward its segment's rate and the segment's toward the population's.
//!
//! Two levels of empirical Bayes ([`crate::shrink`]), per channel `c`:
//! 1. **Segment**: segment `s` answered `K_sc` of `N_sc` contacts; the segments' rates are
//!    draws from `Beta(mu_c, kappa_seg_c)`, `mu_c` = the population's mean client rate and
//!    `kappa_seg_c` fitted on the segments' counts. A segment's rate is its posterior mean
//!    `m_sc = (K_sc + mu_c kappa_seg_c) / (N_sc + kappa_seg_c)`: a small segment leans on the
//!    population.
//! 2. **Client**: client `i` of segment `s` answered `k_ic` of `n_ic`; its rate is a draw from
//!    a beta with mean `m_sc` and strength `kappa_c`, fitted on all clients' counts (each with
//!    its segment's mean). Its estimate is `(k_ic + m_sc kappa_c) / (n_ic + kappa_c)`.
//!
//! The channel is the consented channel with the highest estimate (ties: the channel listed
//! first). Its **source** says what the estimate rests on: `own` when the client has been
//! contacted on that channel (its own answers, shrunk toward its segment's rate), `segment`
//! when it has not but its segment has, `population` otherwise; a client with no history
//! therefore gets its segment's channel.

use serde::{Deserialize, Serialize};

use crate::shrink::{BetaPrior, Counts, Tally, posterior_mean};

/// What an estimate rests on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// The client's own history (shrunk toward its segment).
    Own,
    /// The client's segment (the client has no history of its own).
    Segment,
    /// Everybody (neither the client nor its segment has history).
    Population,
    /// The client's purchase habits (time windows only).
    Purchases,
    /// The uplift model learned from the contacts log (actions only).
    Model,
    /// The average effect measured by the contacts log's experiments (actions only).
    Measured,
    /// The action catalogue's stated rates (actions only).
    Catalogue,
}

impl Source {
    /// The name written in the list.
    pub fn name(self) -> &'static str {
        match self {
            Self::Own => "own",
            Self::Segment => "segment",
            Self::Population => "population",
            Self::Purchases => "purchases",
            Self::Model => "model",
            Self::Measured => "measured",
            Self::Catalogue => "catalogue",
        }
    }
}

/// The fitted response-rate model of every channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChannelModel {
    /// Channel names, in the order of every per-channel vector.
    pub channels: Vec<String>,
    /// Segment names, in the order of every per-segment vector.
    pub segments: Vec<String>,
    /// Per channel: the population's prior of client rates (mean and strength).
    pub population: Vec<BetaPrior>,
    /// Per channel: the strength of the segments' prior.
    pub segment_strength: Vec<f64>,
    /// Per segment, per channel: the segment's rate (shrunk toward the population's).
    pub segment_rate: Vec<Vec<f64>>,
    /// Per segment, per channel: the segment's pooled counts.
    pub segment_counts: Vec<Vec<Counts>>,
    /// Per channel: the strength with which a client's rate is shrunk toward its segment's.
    pub client_strength: Vec<f64>,
}

/// A client's channel.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChannelChoice {
    /// Index of the channel in [`ChannelModel::channels`].
    pub channel: usize,
    /// Its estimated response rate.
    pub rate: f64,
    /// What the estimate rests on.
    pub source: Source,
    /// The client's own counts on that channel.
    pub counts: Counts,
}

impl ChannelModel {
    /// Fits the model from every client's counts: `clients` yields, for each client, its
    /// segment index and its counts per channel (`counts[c]`, one per channel).
    pub fn fit<'a>(
        channels: Vec<String>,
        segments: Vec<String>,
        clients: impl Iterator<Item = (usize, &'a [Counts])> + Clone,
    ) -> Self {
        let (nc, ns) = (channels.len(), segments.len());
        let mut pooled = vec![vec![Counts::default(); nc]; ns];
        let mut by_client: Vec<Tally> = vec![Tally::new(); nc];
        for (s, counts) in clients.clone() {
            for c in 0..nc {
                let k = counts.get(c).copied().unwrap_or_default();
                if let Some(p) = pooled.get_mut(s) {
                    p[c].add(k);
                }
                by_client[c].add(k, 0.0);
            }
        }
        let population: Vec<BetaPrior> = by_client.iter().map(Tally::fit_prior).collect();
        let mut segment_strength = Vec::with_capacity(nc);
        let mut segment_rate = vec![vec![0.0; nc]; ns];
        for c in 0..nc {
            let mu = population[c].mean;
            let mut t = Tally::new();
            for p in &pooled {
                t.add(p[c], mu);
            }
            let kappa = t.fit_strength();
            segment_strength.push(kappa);
            for s in 0..ns {
                segment_rate[s][c] = posterior_mean(pooled[s][c], mu, kappa);
            }
        }
        let mut tallies: Vec<Tally> = vec![Tally::new(); nc];
        for (s, counts) in clients {
            for c in 0..nc {
                let k = counts.get(c).copied().unwrap_or_default();
                let m = segment_rate.get(s).map_or(population[c].mean, |r| r[c]);
                tallies[c].add(k, m);
            }
        }
        let client_strength = tallies.iter().map(Tally::fit_strength).collect();
        Self {
            channels,
            segments,
            population,
            segment_strength,
            segment_rate,
            segment_counts: pooled,
            client_strength,
        }
    }

    /// The prior mean of a client of segment `segment` on channel `c` (the population's for
    /// an unknown segment).
    pub fn prior_rate(&self, segment: usize, c: usize) -> f64 {
        self.segment_rate
            .get(segment)
            .map_or(self.population[c].mean, |r| r[c])
    }

    /// The estimated response rate of a client of `segment` with `counts` on channel `c`.
    pub fn rate(&self, segment: usize, c: usize, counts: Counts) -> f64 {
        posterior_mean(counts, self.prior_rate(segment, c), self.client_strength[c])
    }

    /// Every channel's estimate for a client.
    pub fn rates(&self, segment: usize, counts: &[Counts]) -> Vec<f64> {
        (0..self.channels.len())
            .map(|c| self.rate(segment, c, counts.get(c).copied().unwrap_or_default()))
            .collect()
    }

    /// Whether the segment has any history on any channel.
    fn segment_has_history(&self, segment: usize) -> bool {
        self.segment_counts
            .get(segment)
            .is_some_and(|s| s.iter().any(|c| c.attempts > 0))
    }

    /// The consented channel with the highest estimate (`consent[c]`; None when no channel
    /// is consented).
    pub fn choose(
        &self,
        segment: usize,
        consent: &[bool],
        counts: &[Counts],
    ) -> Option<ChannelChoice> {
        let seg_history = self.segment_has_history(segment);
        let mut best: Option<ChannelChoice> = None;
        for c in 0..self.channels.len() {
            if !consent.get(c).copied().unwrap_or(false) {
                continue;
            }
            let k = counts.get(c).copied().unwrap_or_default();
            let (rate, source) = if k.attempts > 0 {
                (self.rate(segment, c, k), Source::Own)
            } else if seg_history {
                (self.prior_rate(segment, c), Source::Segment)
            } else {
                (self.population[c].mean, Source::Population)
            };
            if best.is_none_or(|b| rate > b.rate) {
                best = Some(ChannelChoice {
                    channel: c,
                    rate,
                    source,
                    counts: k,
                });
            }
        }
        best
    }

    /// The sentence behind a choice: "answered 12 of 31 phone contacts (estimate 38%,
    /// segment wholesale 21%)", "no contact history: retail clients answer email 14%".
    pub fn evidence(&self, segment: usize, choice: &ChannelChoice) -> String {
        let name = &self.channels[choice.channel];
        let seg = self
            .segments
            .get(segment)
            .map(String::as_str)
            .unwrap_or("all");
        match choice.source {
            Source::Own => format!(
                "answered {} of {} {name} contacts (estimate {:.0}%, segment {seg} {:.0}%)",
                choice.counts.responses,
                choice.counts.attempts,
                100.0 * choice.rate,
                100.0 * self.prior_rate(segment, choice.channel)
            ),
            Source::Segment => format!(
                "no {name} contact yet: {seg} clients answer {name} {:.0}% of the time",
                100.0 * choice.rate
            ),
            _ => format!(
                "no {name} contact yet: clients answer {name} {:.0}% of the time",
                100.0 * choice.rate
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model() -> ChannelModel {
        // Segment 0 mostly answers email, segment 1 mostly the phone; one client in four of
        // each prefers the other channel: the clients really differ, so the fitted strength
        // leaves room for a client's own history.
        let mut data = Vec::new();
        for s in 0..2usize {
            for i in 0..200u32 {
                let flip = i % 4 == 0;
                let (hi, lo) = (14, 2);
                let email_first = (s == 0) != flip;
                let (e, p) = if email_first { (hi, lo) } else { (lo, hi) };
                data.push((s, vec![Counts::new(20, e), Counts::new(20, p)]));
            }
        }
        ChannelModel::fit(
            vec!["email".into(), "phone".into()],
            vec!["a".into(), "b".into()],
            data.iter().map(|(s, c)| (*s, c.as_slice())),
        )
    }

    #[test]
    fn segments_keep_their_own_rates() {
        let m = model();
        assert!(m.segment_rate[0][0] > 0.5 && m.segment_rate[0][1] < 0.3);
        assert!(m.segment_rate[1][0] < 0.3 && m.segment_rate[1][1] > 0.5);
        assert!(
            m.client_strength.iter().all(|&k| k < 20.0),
            "{:?}",
            m.client_strength
        );
    }

    #[test]
    fn a_client_without_history_gets_its_segments_channel() {
        let m = model();
        let none = [Counts::default(); 2];
        let a = m.choose(0, &[true, true], &none).unwrap();
        let b = m.choose(1, &[true, true], &none).unwrap();
        assert_eq!((a.channel, a.source), (0, Source::Segment));
        assert_eq!((b.channel, b.source), (1, Source::Segment));
        // without consent for its segment's channel it gets the other one
        assert_eq!(m.choose(0, &[false, true], &none).unwrap().channel, 1);
        assert!(m.choose(0, &[false, false], &none).is_none());
    }

    #[test]
    fn enough_own_history_overrides_the_segment() {
        let m = model();
        // A segment-0 client that answered the phone 25 of 30 times and email 3 of 30.
        let own = [Counts::new(30, 3), Counts::new(30, 25)];
        let c = m.choose(0, &[true, true], &own).unwrap();
        assert_eq!((c.channel, c.source), (1, Source::Own));
        // History on email only: the phone's estimate is its segment's rate.
        let email_only = [Counts::new(30, 2), Counts::default()];
        let e = m.choose(0, &[true, true], &email_only).unwrap();
        assert_eq!((e.channel, e.source), (1, Source::Segment));
        assert!(m.evidence(0, &e).starts_with("no phone contact yet"));
        assert!(
            c.rate < 25.0 / 30.0,
            "shrunk toward the segment: {}",
            c.rate
        );
        // One contact is not enough to leave the segment's channel.
        let thin = [Counts::new(1, 0), Counts::new(1, 1)];
        let t = m.choose(0, &[true, true], &thin).unwrap();
        assert_eq!((t.channel, t.source), (0, Source::Own));
        assert!(
            m.evidence(0, &c)
                .starts_with("answered 25 of 30 phone contacts")
        );
    }
}
