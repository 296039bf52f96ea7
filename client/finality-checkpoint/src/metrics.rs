//! Prometheus metrics of the gadget, all named `substrate_checkpoint_*`.
//!
//! The state machine keeps plain counters ([`FinalityCounters`]); this module mirrors them,
//! with the watermarks and the write-behind buffer's size, into the node's registry.

use crate::{
	finality::{CheckpointFinality, CheckpointHash, FinalityCounters},
	planner::Abstention,
};
use substrate_prometheus_endpoint::{
	register, CounterVec, Gauge, Opts, PrometheusError, Registry, U64,
};

/// The gadget's metrics.
pub struct Metrics {
	finalized: Gauge<U64>,
	justified: Gauge<U64>,
	own_vote_target: Gauge<U64>,
	pending_votes: Gauge<U64>,
	votes: Gauge<U64>,
	rejected_votes: Gauge<U64>,
	certificates: Gauge<U64>,
	equivocations: Gauge<U64>,
	own_votes: Gauge<U64>,
	own_vote_failures: Gauge<U64>,
	persistence_failures: Gauge<U64>,
	abstentions: CounterVec<U64>,
}

impl Metrics {
	/// Registers the metrics in `registry`.
	pub fn register(registry: &Registry) -> Result<Self, PrometheusError> {
		let gauge = |name: &str, help: &str| -> Result<Gauge<U64>, PrometheusError> {
			register(Gauge::new(format!("substrate_checkpoint_{name}"), help)?, registry)
		};
		Ok(Self {
			finalized: gauge("finalized", "Number of the finalized checkpoint")?,
			justified: gauge("justified", "Number of the highest justified checkpoint")?,
			own_vote_target: gauge("own_vote_target", "Highest checkpoint this node voted for")?,
			pending_votes: gauge("pending_votes", "Votes waiting in the write-behind buffer")?,
			votes: gauge("votes_total", "Votes accepted")?,
			rejected_votes: gauge("rejected_votes_total", "Votes rejected")?,
			certificates: gauge("certificates_total", "Certificates created and finalized")?,
			equivocations: gauge("equivocations_total", "Conflicting vote pairs seen")?,
			own_votes: gauge("own_votes_total", "Own votes cast")?,
			own_vote_failures: gauge(
				"own_vote_failures_total",
				"Own votes not cast because persisting them failed",
			)?,
			persistence_failures: gauge(
				"persistence_failures_total",
				"Writes of votes, certificates or evidence that failed",
			)?,
			abstentions: {
				let abstentions = CounterVec::new(
					Opts::new(
						"substrate_checkpoint_abstentions_total",
						"Checkpoints a validator did not vote for, by reason",
					),
					&["reason"],
				)?;
				// Every reason shows from the start, at 0.
				for reason in Abstention::ALL {
					abstentions.with_label_values(&[reason.label()]);
				}
				register(abstentions, registry)?
			},
		})
	}

	/// Counts one abstention for `reason`.
	pub fn abstained(&self, reason: Abstention) {
		self.abstentions.with_label_values(&[reason.label()]).inc();
	}

	/// Copies the state machine's numbers into the gauges.
	pub fn update<H: CheckpointHash>(&self, finality: &CheckpointFinality<H>) {
		let FinalityCounters {
			total_signatures,
			total_certificates,
			rejected_votes,
			equivocations,
			own_votes,
			own_vote_failures,
			persistence_failures,
		} = finality.counters().clone();
		self.finalized.set(finality.last_finalized().number.0);
		self.justified.set(finality.highest_justified().number.0);
		self.own_vote_target.set(finality.guard().target.0);
		self.pending_votes.set(finality.persistence().map_or(0, |p| p.pending_votes() as u64));
		self.votes.set(total_signatures);
		self.rejected_votes.set(rejected_votes);
		self.certificates.set(total_certificates);
		self.equivocations.set(equivocations);
		self.own_votes.set(own_votes);
		self.own_vote_failures.set(own_vote_failures);
		self.persistence_failures.set(persistence_failures);
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	/// The value of `substrate_checkpoint_abstentions_total{reason}` in `registry`.
	fn abstentions(registry: &Registry, reason: &str) -> Option<f64> {
		registry
			.gather()
			.into_iter()
			.find(|family| family.get_name() == "substrate_checkpoint_abstentions_total")?
			.get_metric()
			.iter()
			.find(|m| m.get_label().iter().any(|l| l.get_value() == reason))
			.map(|m| m.get_counter().get_value())
	}

	#[test]
	fn abstentions_are_counted_by_reason_and_every_reason_shows_from_the_start() {
		let registry = Registry::new();
		let metrics = Metrics::register(&registry).unwrap();
		for reason in Abstention::ALL {
			assert_eq!(abstentions(&registry, reason.label()), Some(0.0), "{reason:?}");
		}
		metrics.abstained(Abstention::Window);
		metrics.abstained(Abstention::Window);
		metrics.abstained(Abstention::Syncing);
		assert_eq!(abstentions(&registry, "window"), Some(2.0));
		assert_eq!(abstentions(&registry, "syncing"), Some(1.0));
		assert_eq!(abstentions(&registry, "guard"), Some(0.0));
	}
}
