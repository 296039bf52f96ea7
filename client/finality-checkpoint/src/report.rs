//! Equivocation reports: the node's part of on-chain accountability.
//!
//! The voter hands every equivocation it finds (two conflicting votes of one key, E1 or E2) to
//! the worker as an [`EquivocationProof`], and the worker sends it here. The
//! [`EquivocationReporter`] asks the runtime for a key-ownership proof (pallet-session's
//! historical proof, of a session in which the votes' set was current), has the runtime submit
//! an unsigned `report_equivocation_unsigned` into this node's own transaction pool (the
//! offchain pool: the report is not gossiped, this node's blocks include it), then looks at
//! every new best block until the runtime says the report is in. What it saw and did is
//! published as an [`EvidenceLog`], which the `checkpoint_evidence` RPC reads.

use crate::{metrics::ReportMetrics, LOG_TARGET};
use futures::{
	channel::mpsc::{unbounded, UnboundedReceiver, UnboundedSender},
	StreamExt,
};
use parking_lot::RwLock;
use sc_client_api::BlockchainEvents;
use sc_transaction_pool_api::OffchainTransactionPoolFactory;
use sp_api::{ApiExt, ProvideRuntimeApi};
use sp_blockchain::HeaderBackend;
use sp_finality_checkpoint::{CheckpointApi, EquivocationProof};
use sp_runtime::traits::{Block as BlockT, UniqueSaturatedInto};
use std::sync::Arc;
use substrate_prometheus_endpoint::Registry;

/// Entries the [`EvidenceLog`] keeps; the oldest go first.
const MAX_ENTRIES: usize = 256;

/// The first `CheckpointApi` version with equivocation reports.
const REPORTING_API_VERSION: u32 = 3;

/// Where the worker sends the equivocations the state finds.
pub type ReportSender<H> = UnboundedSender<EquivocationProof<H>>;

/// How far the report of one equivocation got.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReportStatus {
	/// Seen, not reported: this node authors no blocks, which its report would need.
	Seen,
	/// In this node's transaction pool; a block this node authors will include it.
	Submitted,
	/// Included on chain: the runtime accepted it in this block.
	Included(u64),
	/// Not submitted, for this reason.
	Failed(String),
}

/// One equivocation and what became of its report.
#[derive(Clone, Debug)]
pub struct EvidenceEntry<H> {
	/// The two conflicting votes and their signer.
	pub proof: EquivocationProof<H>,
	/// The best block number when the node saw it.
	pub seen_at: u64,
	/// How far its report got.
	pub status: ReportStatus,
}

/// The equivocations this node saw and their reports, newest last: published by the reporter,
/// read by the RPC. Readers take the list as it was at the last change and never wait.
#[derive(Clone, Default)]
pub struct EvidenceLog<H>(Arc<RwLock<Arc<Vec<EvidenceEntry<H>>>>>);

impl<H: Clone> EvidenceLog<H> {
	/// The entries as last published.
	pub fn entries(&self) -> Arc<Vec<EvidenceEntry<H>>> {
		self.0.read().clone()
	}

	/// Publishes the list that `change` makes of the current one.
	fn update(&self, change: impl FnOnce(&mut Vec<EvidenceEntry<H>>)) {
		let mut entries = (*self.entries()).clone();
		change(&mut entries);
		let excess = entries.len().saturating_sub(MAX_ENTRIES);
		entries.drain(..excess);
		*self.0.write() = Arc::new(entries);
	}
}

/// Why a report was not submitted.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
	/// The runtime cannot take reports.
	#[error(
		"the runtime's CheckpointApi is version {0}, reports need {REPORTING_API_VERSION}: \
		 upgrade the runtime to report equivocations"
	)]
	RuntimeTooOld(u32),
	/// No key-ownership proof at the blocks tried.
	#[error(
		"the runtime cannot prove that the offender's key was a validator's while set {0} was \
		 current (the set is past the historical window, or the blocks of its sessions are \
		 pruned): nothing to report with"
	)]
	NoOwnershipProof(u64),
	/// The pool refused the extrinsic.
	#[error("the transaction pool refused the report: reported already, or the runtime finds it invalid")]
	Refused,
	/// A runtime call failed.
	#[error("runtime call failed: {0}")]
	Runtime(#[from] sp_api::ApiError),
}

/// Reports the equivocations the worker sends it; see the module documentation. Spawn
/// [`EquivocationReporter::run`] as a task of its own.
pub struct EquivocationReporter<B: BlockT, C> {
	client: Arc<C>,
	pool: OffchainTransactionPoolFactory<B>,
	proofs: UnboundedReceiver<EquivocationProof<B::Hash>>,
	log: EvidenceLog<B::Hash>,
	metrics: Option<ReportMetrics>,
	/// Whether this node authors blocks: only then can its unsigned reports, which are not
	/// gossiped, be included.
	authoring: bool,
}

impl<B, C> EquivocationReporter<B, C>
where
	B: BlockT,
	C: ProvideRuntimeApi<B> + HeaderBackend<B> + BlockchainEvents<B> + Send + Sync + 'static,
	C::Api: CheckpointApi<B>,
{
	/// A reporter submitting through `pool` if the node is `authoring` (else it only notes
	/// what it sees), the sender the worker takes
	/// ([`CheckpointWorkerParams::equivocation_reports`](crate::CheckpointWorkerParams)), and
	/// the log the RPC reads.
	pub fn new(
		client: Arc<C>,
		pool: OffchainTransactionPoolFactory<B>,
		authoring: bool,
		registry: Option<&Registry>,
	) -> (Self, ReportSender<B::Hash>, EvidenceLog<B::Hash>) {
		let (sender, proofs) = unbounded();
		let log = EvidenceLog::default();
		let metrics = registry.and_then(|r| match ReportMetrics::register(r) {
			Ok(metrics) => Some(metrics),
			Err(e) => {
				log::warn!(target: LOG_TARGET, "⚠️ Equivocation report metrics not registered: {e}");
				None
			}
		});
		(Self { client, pool, proofs, log: log.clone(), metrics, authoring }, sender, log)
	}

	/// Reports what comes in and follows the reports until they are included; ends when the
	/// worker does.
	pub async fn run(mut self) {
		let mut imports = self.client.import_notification_stream().fuse();
		loop {
			futures::select! {
				proof = self.proofs.next() => match proof {
					Some(proof) => self.on_evidence(proof),
					None => return,
				},
				notification = imports.next() => match notification {
					Some(notification) if notification.is_new_best => {
						self.check_included(notification.hash)
					}
					Some(_) => {}
					None => return,
				},
			}
		}
	}

	/// Notes an equivocation and reports it, once per offender, set and epoch.
	fn on_evidence(&mut self, proof: EquivocationProof<B::Hash>) {
		let entries = self.log.entries();
		let known = entries.iter().any(|e| {
			same_offence(&e.proof, &proof) && !matches!(e.status, ReportStatus::Failed(_))
		});
		if known {
			return;
		}
		let seen_at = self.client.info().best_number.unique_saturated_into();
		if !self.authoring {
			// A node that authors no block could not get its unsigned report included.
			self.log.update(|entries| {
				entries.push(EvidenceEntry { proof, seen_at, status: ReportStatus::Seen })
			});
			return;
		}
		let status = match self.submit(&proof) {
			Ok(()) => {
				log::info!(
					target: LOG_TARGET,
					"📮 Reported the equivocation of {} in authority set {} at epoch {} on chain",
					proof.offender,
					proof.set_id(),
					proof.epoch(),
				);
				self.count("submitted");
				ReportStatus::Submitted
			}
			Err(e) => {
				log::warn!(
					target: LOG_TARGET,
					"⚠️ Equivocation of {} in authority set {} not reported: {e}",
					proof.offender,
					proof.set_id(),
				);
				self.count("failed");
				ReportStatus::Failed(e.to_string())
			}
		};
		self.log.update(|entries| entries.push(EvidenceEntry { proof, seen_at, status }));
	}

	/// Proves the offender's key and submits the report at the best block. The key is proved
	/// at the best block, else at the blocks the votes target (the historical proof is of the
	/// session current where it is made, which must be one of the votes' set).
	fn submit(&self, proof: &EquivocationProof<B::Hash>) -> Result<(), ReportError> {
		let best = self.client.info().best_hash;
		let api = self.client.runtime_api();
		let version = api.api_version::<dyn CheckpointApi<B>>(best)?.unwrap_or(0);
		if version < REPORTING_API_VERSION {
			return Err(ReportError::RuntimeTooOld(version));
		}
		let set_id = proof.set_id();
		let ownership = [best, proof.second.0.target.hash, proof.first.0.target.hash]
			.into_iter()
			.find_map(|at| {
				let offender = proof.offender.clone();
				api.generate_key_ownership_proof(at, set_id, offender).ok().flatten()
			})
			.ok_or(ReportError::NoOwnershipProof(set_id))?;
		let mut api = self.client.runtime_api();
		api.register_extension(self.pool.offchain_transaction_pool(best));
		api.submit_report_equivocation_unsigned_extrinsic(best, proof.clone(), ownership)?
			.ok_or(ReportError::Refused)
	}

	/// Asks the runtime at `best` whether the submitted reports are in.
	fn check_included(&self, best: B::Hash) {
		let entries = self.log.entries();
		let submitted = |e: &EvidenceEntry<B::Hash>| e.status == ReportStatus::Submitted;
		if !entries.iter().any(submitted) {
			return;
		}
		let api = self.client.runtime_api();
		let included: Vec<(usize, u64)> = entries
			.iter()
			.enumerate()
			.filter(|(_, e)| submitted(e))
			.filter_map(|(i, e)| {
				let p = &e.proof;
				let at = api
					.equivocation_reported(best, p.offender.clone(), p.set_id(), p.epoch())
					.ok()
					.flatten()?;
				Some((i, at.unique_saturated_into()))
			})
			.collect();
		for (i, block) in &included {
			let p = &entries[*i].proof;
			log::info!(
				target: LOG_TARGET,
				"✅ The report of {}'s equivocation in authority set {} is in block #{block}",
				p.offender,
				p.set_id(),
			);
			self.count("included");
		}
		if !included.is_empty() {
			self.log.update(|entries| {
				for (i, block) in included {
					entries[i].status = ReportStatus::Included(block);
				}
			});
		}
	}

	fn count(&self, outcome: &str) {
		if let Some(metrics) = &self.metrics {
			metrics.count(outcome);
		}
	}
}

/// Whether two proofs are of one offence: one offender, set and epoch (the runtime takes one
/// report of each).
fn same_offence<H: codec::Encode + PartialEq>(
	a: &EquivocationProof<H>,
	b: &EquivocationProof<H>,
) -> bool {
	a.offender == b.offender && a.set_id() == b.set_id() && a.epoch() == b.epoch()
}
