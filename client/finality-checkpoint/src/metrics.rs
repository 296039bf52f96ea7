//! Prometheus metrics of the gadget, all named `substrate_checkpoint_*`.
//!
//! The state machine keeps plain counters ([`FinalityCounters`]); this module mirrors them from
//! the published [`FinalityView`] into the node's registry. Events are `Counter`s
//! (`*_total`); heights, sizes and the set id are `Gauge`s.

use crate::{
	planner::Abstention,
	view::{FinalityCounters, FinalityView},
	CheckpointHash,
};
use substrate_prometheus_endpoint::{
	register, Counter, CounterVec, Gauge, Opts, PrometheusError, Registry, U64,
};

/// The gadget's metrics.
pub struct Metrics {
	finalized: Gauge<U64>,
	justified: Gauge<U64>,
	own_vote_target: Gauge<U64>,
	pending_votes: Gauge<U64>,
	set_id: Gauge<U64>,
	votes: Counter<U64>,
	rejected_votes: Counter<U64>,
	certificates: Counter<U64>,
	equivocations: Counter<U64>,
	own_votes: Counter<U64>,
	own_vote_failures: Counter<U64>,
	persistence_failures: Counter<U64>,
	abstentions: CounterVec<U64>,
}

impl Metrics {
	/// Registers the metrics in `registry`.
	pub fn register(registry: &Registry) -> Result<Self, PrometheusError> {
		let gauge = |name: &str, help: &str| -> Result<Gauge<U64>, PrometheusError> {
			register(Gauge::new(format!("substrate_checkpoint_{name}"), help)?, registry)
		};
		let counter = |name: &str, help: &str| -> Result<Counter<U64>, PrometheusError> {
			register(Counter::new(format!("substrate_checkpoint_{name}"), help)?, registry)
		};
		Ok(Self {
			finalized: gauge(
				"finalized",
				"Epoch of the finalized checkpoint (its block is number epoch / 2 * interval)",
			)?,
			justified: gauge(
				"justified",
				"Epoch of the highest justified checkpoint (its block is number epoch / 2 * \
				 interval)",
			)?,
			own_vote_target: gauge(
				"own_vote_target",
				"Highest epoch this node voted for as a target (0: never voted)",
			)?,
			pending_votes: gauge(
				"pending_votes",
				"Votes (count) waiting in the write-behind buffer",
			)?,
			set_id: gauge("set_id", "Id of the current authority set")?,
			votes: counter("votes_total", "Votes accepted, own and others' (count)")?,
			rejected_votes: counter("rejected_votes_total", "Votes rejected (count)")?,
			certificates: counter(
				"certificates_total",
				"Certificates created or imported that finalized (count)",
			)?,
			equivocations: counter("equivocations_total", "Conflicting vote pairs seen (count)")?,
			own_votes: counter("own_votes_total", "Own votes cast (count)")?,
			own_vote_failures: counter(
				"own_vote_failures_total",
				"Own votes not cast because persisting them failed",
			)?,
			persistence_failures: counter(
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

	/// Brings the metrics up to the published `view`, with `pending_votes` in the write-behind
	/// buffer.
	pub fn update<H: CheckpointHash>(&self, view: &FinalityView<H>, pending_votes: usize) {
		let FinalityCounters {
			total_signatures,
			total_certificates,
			rejected_votes,
			equivocations,
			own_votes,
			own_vote_failures,
			persistence_failures,
		} = view.counters.clone();
		self.finalized.set(view.finalized.number.0);
		self.justified.set(view.justified.number.0);
		self.own_vote_target.set(view.guard.target.0);
		self.pending_votes.set(pending_votes as u64);
		self.set_id.set(view.voters.set_id());
		for (counter, total) in [
			(&self.votes, total_signatures),
			(&self.rejected_votes, rejected_votes),
			(&self.certificates, total_certificates),
			(&self.equivocations, equivocations),
			(&self.own_votes, own_votes),
			(&self.own_vote_failures, own_vote_failures),
			(&self.persistence_failures, persistence_failures),
		] {
			counter.inc_by(total.saturating_sub(counter.get()));
		}
	}
}

/// `CKPT` justifications imported with blocks or asked of peers, by outcome: kept by the
/// block import, which sees them before the worker does.
#[derive(Clone)]
pub struct JustificationMetrics(CounterVec<U64>);

impl JustificationMetrics {
	/// Registers `substrate_checkpoint_justification_imports_total{outcome}` in `registry`.
	pub fn register(registry: &Registry) -> Result<Self, PrometheusError> {
		let imports = CounterVec::new(
			Opts::new(
				"substrate_checkpoint_justification_imports_total",
				"CKPT justifications that came with imported blocks or were asked of peers, by \
				 outcome",
			),
			&["outcome"],
		)?;
		for outcome in ["accepted", "refused"] {
			imports.with_label_values(&[outcome]);
		}
		Ok(Self(register(imports, registry)?))
	}

	/// Counts one imported justification, accepted or refused.
	pub fn imported(&self, accepted: bool) {
		let outcome = if accepted { "accepted" } else { "refused" };
		self.0.with_label_values(&[outcome]).inc();
	}
}

/// Equivocation reports by outcome: kept by the reporter.
#[derive(Clone)]
pub struct ReportMetrics(CounterVec<U64>);

impl ReportMetrics {
	/// The outcomes, each a label value.
	pub const OUTCOMES: [&'static str; 3] = ["submitted", "failed", "included"];

	/// Registers `substrate_checkpoint_equivocation_reports_total{outcome}` in `registry`.
	pub fn register(registry: &Registry) -> Result<Self, PrometheusError> {
		let reports = CounterVec::new(
			Opts::new(
				"substrate_checkpoint_equivocation_reports_total",
				"Equivocation reports this node submitted to its transaction pool, that failed \
				 to be submitted, and that it saw included on chain",
			),
			&["outcome"],
		)?;
		for outcome in Self::OUTCOMES {
			reports.with_label_values(&[outcome]);
		}
		Ok(Self(register(reports, registry)?))
	}

	/// Counts one report with `outcome`, one of [`Self::OUTCOMES`].
	pub fn count(&self, outcome: &str) {
		self.0.with_label_values(&[outcome]).inc();
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
