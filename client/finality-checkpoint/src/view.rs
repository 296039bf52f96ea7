//! What readers take of the state machine without waiting for it: the [`FinalityView`] the
//! shell publishes after every change, the [`FinalityCounters`] in it, and the store readers
//! read stored certificates from.

use crate::{
	authorities::AuthoritySets,
	notification::{CertificateSender, CertificateStream},
	state::{FinalityState, OwnVoteGuard, VoteRejection, VoterSet},
	store::persistence::CheckpointFinalityPersistence,
	CheckpointHash,
};
use parking_lot::RwLock;
use sp_finality_checkpoint::{Checkpoint, CheckpointSignature};
use std::sync::Arc;

/// Counters of the state machine, read by the metrics module.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FinalityCounters {
	/// Votes accepted (own and others').
	pub total_signatures: u64,
	/// Certificates created and finalized.
	pub total_certificates: u64,
	/// Votes rejected.
	pub rejected_votes: u64,
	/// Conflicting vote pairs seen (E1 or E2).
	pub equivocations: u64,
	/// Own votes cast (persisted, ready for gossip).
	pub own_votes: u64,
	/// Own votes not cast because persisting them failed.
	pub own_vote_failures: u64,
	/// Other writes (buffered votes, certificates, justified, evidence) that failed.
	pub persistence_failures: u64,
}

/// What readers see of the state machine: published by the shell after every change.
#[derive(Clone)]
pub struct FinalityView<H> {
	/// The chain's genesis hash.
	pub genesis_hash: H,
	/// The current authority set.
	pub voters: Arc<VoterSet>,
	/// The authority sets tracked: enacted and signalled.
	pub sets: Arc<AuthoritySets<H>>,
	/// The vote window.
	pub window: u64,
	/// The finalized checkpoint.
	pub finalized: Checkpoint<H>,
	/// The highest justified checkpoint.
	pub justified: Checkpoint<H>,
	/// The own-vote guard.
	pub guard: OwnVoteGuard,
	/// The counters.
	pub counters: FinalityCounters,
}

impl<H: CheckpointHash> FinalityView<H> {
	/// The view of `state`.
	pub(crate) fn of(state: &FinalityState<H>, counters: &FinalityCounters) -> Self {
		Self {
			genesis_hash: state.genesis_hash(),
			voters: state.voters().clone(),
			sets: state.sets().clone(),
			window: state.window(),
			finalized: state.last_finalized(),
			justified: state.highest_justified(),
			guard: state.guard(),
			counters: counters.clone(),
		}
	}

	/// Set, membership, link shape and window against this view: the checks that need no
	/// vote pool and no signature. Returns the vote's set, to check the signature with.
	pub fn check_vote(
		&self,
		vote: &CheckpointSignature<H>,
	) -> std::result::Result<&Arc<VoterSet>, VoteRejection> {
		self.sets.check_vote(vote, self.finalized.number, self.window)
	}

	/// A vote of a set signalled and not enacted yet, checked against every set signalled
	/// under its id (forks may signal others) as that set will check it, signature included:
	/// `Ok` if it may wait for the enactment, else the rejection by the last set tried
	/// ([`VoteRejection::FutureSet`] for a set not even signalled).
	pub fn check_early_vote(
		&self,
		vote: &CheckpointSignature<H>,
	) -> std::result::Result<(), VoteRejection> {
		let current = self.voters.set_id();
		let mut outcome = Err(VoteRejection::FutureSet { current, got: vote.link.set_id });
		for voters in self.sets.pending_sets(vote.link.set_id) {
			outcome = voters
				.check_vote(vote, self.finalized.number, self.window)
				.and_then(|()| voters.check_signature(&self.genesis_hash, vote));
			if outcome.is_ok() {
				break;
			}
		}
		outcome
	}
}

/// What the shell publishes: its view after every change, its persistence layer once set, and
/// the certificates that finalized blocks on the client. Shared by the shell (the only writer)
/// and the [`FinalityHandle`](crate::FinalityHandle)s; a reader holds either lock only to clone
/// an `Arc`, never across a disk access.
pub(crate) struct Published<H> {
	view: RwLock<Arc<FinalityView<H>>>,
	persistence: RwLock<Option<CheckpointFinalityPersistence<H>>>,
	certificates: (CertificateSender<H>, CertificateStream<H>),
}

impl<H: CheckpointHash> Published<H> {
	/// Publishes `view` first.
	pub(crate) fn new(view: FinalityView<H>) -> Self {
		Self {
			view: RwLock::new(Arc::new(view)),
			persistence: RwLock::new(None),
			certificates: CertificateStream::channel(),
		}
	}

	/// Where the certificates that finalize blocks on the client go.
	pub(crate) fn certificate_sender(&self) -> CertificateSender<H> {
		self.certificates.0.clone()
	}

	/// The certificates that finalize blocks on the client, to subscribe to.
	pub(crate) fn certificate_stream(&self) -> CertificateStream<H> {
		self.certificates.1.clone()
	}

	/// The latest view.
	pub(crate) fn view(&self) -> Arc<FinalityView<H>> {
		self.view.read().clone()
	}

	/// The persistence layer, if set.
	pub(crate) fn persistence(&self) -> Option<CheckpointFinalityPersistence<H>> {
		self.persistence.read().clone()
	}

	/// Replaces the view.
	pub(crate) fn set_view(&self, view: FinalityView<H>) {
		*self.view.write() = Arc::new(view);
	}

	/// Replaces the persistence layer.
	pub(crate) fn set_persistence(&self, persistence: Option<CheckpointFinalityPersistence<H>>) {
		*self.persistence.write() = persistence;
	}
}
