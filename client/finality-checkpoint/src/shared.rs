//! The state machine as the node shares it: the voter's lock, the own-vote path beside it, and
//! the view that readers take without waiting.
//!
//! The worker changes the state under the lock of [`SharedFinality::lock`]. Fork choice, RPC,
//! metrics and the gossip validator's cheap checks read [`SharedFinality::view`] instead: a
//! [`FinalityView`] the shell publishes after every change, so a slow disk under the voter
//! never delays block authoring or an RPC answer. [`SharedFinality::record_own_vote`] makes the
//! own vote durable (the guard's fsyncs and the database write) outside the lock, one own vote
//! at a time. Async callers take the lock on a blocking thread ([`SharedFinality::with_lock`]).

use crate::{
	authorities::AuthoritySets,
	error::Result,
	finality::{store_own_vote, CheckpointFinality, FinalityCounters, VoteImport},
	persistence::CheckpointFinalityPersistence,
	state::{FinalityState, OwnVoteGuard, VoteRejection, VoterSet},
	CheckpointHash,
};
use parking_lot::{Mutex, MutexGuard, RwLock};
use sp_finality_checkpoint::{Checkpoint, CheckpointSignature};
use std::sync::Arc;

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

/// The state machine shared by the worker, the gossip validator, the fork choice, the RPC and
/// the metrics. Cheap to clone.
pub struct SharedFinality<H> {
	finality: Arc<Mutex<CheckpointFinality<H>>>,
	view: Arc<RwLock<Arc<FinalityView<H>>>>,
	/// Serializes own votes while their writes run outside the voter's lock.
	own_votes: Arc<Mutex<()>>,
}

impl<H> Clone for SharedFinality<H> {
	fn clone(&self) -> Self {
		Self {
			finality: self.finality.clone(),
			view: self.view.clone(),
			own_votes: self.own_votes.clone(),
		}
	}
}

impl<H: CheckpointHash> SharedFinality<H> {
	/// Shares `finality`.
	pub fn new(finality: CheckpointFinality<H>) -> Self {
		let view = finality.view_handle();
		Self { finality: Arc::new(Mutex::new(finality)), view, own_votes: Arc::new(Mutex::new(())) }
	}

	/// The voter's lock. Held across disk writes: readers use [`Self::view`].
	pub fn lock(&self) -> MutexGuard<'_, CheckpointFinality<H>> {
		self.finality.lock()
	}

	/// Runs `f` on the state machine under the voter's lock, on a blocking thread, so that an
	/// async task never waits on the disk (the lock is held across fsyncs). Needs a Tokio
	/// runtime.
	pub fn with_lock<R: Send + 'static>(
		&self,
		f: impl FnOnce(&mut CheckpointFinality<H>) -> R + Send + 'static,
	) -> impl std::future::Future<Output = R> + Send + 'static {
		let finality = self.finality.clone();
		blocking(move || f(&mut finality.lock()))
	}

	/// The latest published view; never waits for the voter.
	pub fn view(&self) -> Arc<FinalityView<H>> {
		self.view.read().clone()
	}

	/// [`CheckpointFinality::record_own_vote`] with the own vote's writes made outside the
	/// voter's lock: gossip, fork choice and RPC go on while the guard is fsynced. Blocks on
	/// disk: call it from a blocking thread.
	pub fn record_own_vote(&self, vote: CheckpointSignature<H>) -> Result<VoteImport<H>> {
		let _one_at_a_time = self.own_votes.lock();
		let (write, storage) = self.finality.lock().begin_own_vote(&vote)?;
		let stored = store_own_vote(storage.as_deref(), &write);
		self.finality.lock().finish_own_vote(vote, stored)
	}
}

/// Runs `f` on a blocking thread of the Tokio runtime. The future borrows nothing of its
/// caller (the worker's gossip engine is not `Sync`).
pub(crate) async fn blocking<R: Send + 'static>(f: impl FnOnce() -> R + Send + 'static) -> R {
	tokio::task::spawn_blocking(f).await.expect("checkpoint finality call panicked")
}
