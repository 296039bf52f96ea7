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
	error::Result,
	finality::{store_own_vote, CheckpointFinality, VoteImport},
	view::FinalityView,
	CheckpointHash,
};
use parking_lot::{Mutex, MutexGuard, RwLock};
use sp_finality_checkpoint::CheckpointSignature;
use std::sync::Arc;

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
