//! What readers take of the state machine without waiting for it: the [`FinalityView`] the
//! shell publishes after every change, and the [`FinalityCounters`] in it.

use crate::{
	authorities::AuthoritySets,
	persistence::CheckpointFinalityPersistence,
	state::{FinalityState, OwnVoteGuard, VoteRejection, VoterSet},
	CheckpointHash,
};
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
	/// The persistence layer, if set (for stored certificates and the buffer's size).
	pub persistence: Option<CheckpointFinalityPersistence<H>>,
}

impl<H: CheckpointHash> FinalityView<H> {
	/// The view of `state`.
	pub(crate) fn of(
		state: &FinalityState<H>,
		counters: &FinalityCounters,
		persistence: Option<CheckpointFinalityPersistence<H>>,
	) -> Self {
		Self {
			genesis_hash: state.genesis_hash(),
			voters: state.voters().clone(),
			sets: state.sets().clone(),
			window: state.window(),
			finalized: state.last_finalized(),
			justified: state.highest_justified(),
			guard: state.guard(),
			counters: counters.clone(),
			persistence,
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
}
