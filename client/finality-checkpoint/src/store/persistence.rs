//! Persistence of the checkpoint state: what is stored, when, and through which interface.
//!
//! - [`CheckpointStorage`] is what the state machine needs from a store, with what it loads
//!   ([`StoredState`]) and what a prune did ([`PruneOutcome`]); the kvdb-rocksdb
//!   implementation, [`CheckpointStorageAdapter`](crate::CheckpointStorageAdapter), lives
//!   beside the database.
//! - [`CheckpointFinalityPersistence`] adds the timing: other validators' votes wait in a
//!   bounded write-behind buffer and are flushed in batches every `flush_interval_secs` (or
//!   when the buffer is full); old checkpoints are pruned every `prune_interval_secs`. Losing
//!   the buffer in a crash is harmless: votes are gossiped again. The node's own votes and
//!   certificates are never buffered.
//!
//! - [`run_maintenance`] is the `checkpoint-maintenance` task that drives the timing.
//!
//! Everything here but the task blocks on disk. Call it from a blocking thread
//! (`spawn_blocking`), never from an async executor thread.

use crate::{
	authorities::{EnactedSet, PendingSignals},
	error::Result,
	state::OwnVoteGuard,
	LOG_TARGET,
};
use codec::Encode;
use parking_lot::Mutex;
use sp_finality_checkpoint::{Checkpoint, CheckpointCertificate, CheckpointSignature, Epoch};
use std::{
	sync::Arc,
	time::{Duration, Instant},
};

/// Most votes the write-behind buffer holds; a full buffer is flushed at once.
pub const MAX_PENDING_VOTES: usize = 4096;

/// When and how much to persist; the node fills it from `--checkpoint-*` flags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointPersistenceConfig {
	/// Persist at all. Off only for throw-away nodes: a validator without persistence can
	/// double-vote after a restart.
	pub enabled: bool,
	/// Checkpoints kept below the finalized one; older ones are pruned.
	pub retention_checkpoints: u64,
	/// Seconds between flushes of the write-behind vote buffer.
	pub flush_interval_secs: u64,
	/// Seconds between prunes.
	pub prune_interval_secs: u64,
}

impl Default for CheckpointPersistenceConfig {
	fn default() -> Self {
		Self {
			enabled: true,
			retention_checkpoints: 1000,
			flush_interval_secs: 10,
			prune_interval_secs: 300,
		}
	}
}

/// What a store holds about the unfinalized part of the protocol state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredState<H> {
	/// The authority sets held at the finalized checkpoint; empty when no set change was
	/// enacted (the genesis set holds).
	pub authority_sets: Vec<EnactedSet<H>>,
	/// The set changes signalled and not enacted when they were last stored.
	pub signals: PendingSignals<H>,
	/// The finalized watermark, if any checkpoint was finalized.
	pub finalized: Option<Checkpoint<H>>,
	/// The highest justified checkpoint stored.
	pub justified: Option<Checkpoint<H>>,
	/// The own-vote guard: the highest of every copy kept.
	pub own_vote_guard: Option<OwnVoteGuard>,
	/// Votes whose targets lie above the finalized checkpoint (inside the asked-for window).
	pub votes: Vec<CheckpointSignature<H>>,
}

/// What a prune deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PruneOutcome {
	/// Everything below this checkpoint number is gone (but kept certificates).
	pub pruned_below: Epoch,
	/// Checkpoint numbers this run removed (`[from, pruned_below)`).
	pub checkpoints: u64,
	/// Range deletions issued; grows with the log of the pruned span, not with the DB's size.
	pub range_deletes: u64,
	/// Whether the write-ahead log had outgrown its cap, so the store flushed its columns.
	pub flushed_wal: bool,
}

/// What the checkpoint state machine needs from a store. Every method is one atomic write or
/// a read; all of them block.
pub trait CheckpointStorage<H>: Send + Sync {
	/// Checks the store against the chain with `genesis_hash` (creating it if new) and loads
	/// the state above the finalized checkpoint, votes up to `window` checkpoints ahead. The
	/// own-vote guard returned is the highest of every copy kept.
	fn load(&self, genesis_hash: &H, window: u64) -> Result<StoredState<H>>;
	/// Stores other validators' votes in one transaction.
	fn store_votes(&self, votes: &[CheckpointSignature<H>]) -> Result<()>;
	/// Makes the own `vote` and the raised `guard` durable before returning.
	fn store_own_vote(&self, vote: &CheckpointSignature<H>, guard: &OwnVoteGuard) -> Result<()>;
	/// Makes a raised `guard` durable before returning (a vote of our key cast elsewhere).
	fn store_guard(&self, guard: &OwnVoteGuard) -> Result<()>;
	/// Stores a certificate together with the finality watermark it moves (its source), the
	/// justified watermark (raised; set as given when the finality enacts a set change, which
	/// ends what the old set justified above it) and, when that finality enacts a set change,
	/// the authority sets held after it, in one transaction. The certificate of a set-enacting checkpoint is
	/// kept by pruning: it is a link of the proof chain.
	fn store_certificate(
		&self,
		certificate: &CheckpointCertificate<H>,
		justified: &Checkpoint<H>,
		sets: Option<&[EnactedSet<H>]>,
	) -> Result<()>;
	/// Stores the authority sets held after a forced change.
	fn store_sets(&self, sets: &[EnactedSet<H>]) -> Result<()>;
	/// Stores the set changes signalled and not yet enacted.
	fn store_signals(&self, signals: &PendingSignals<H>) -> Result<()>;
	/// Raises the justified watermark.
	fn store_justified(&self, justified: &Checkpoint<H>) -> Result<()>;
	/// Stores two conflicting votes of one validator.
	fn store_evidence(
		&self,
		first: &CheckpointSignature<H>,
		second: &CheckpointSignature<H>,
	) -> Result<()>;
	/// The certificate that finalized checkpoint `number`, if kept.
	fn certificate(&self, number: Epoch) -> Result<Option<CheckpointCertificate<H>>>;
	/// The certificate of the lowest checkpoint in `from..=to` that has one kept. By default
	/// one [`Self::certificate`] look-up a checkpoint; a store with ordered keys reads a range.
	fn first_certificate_in(
		&self,
		from: Epoch,
		to: Epoch,
	) -> Result<Option<CheckpointCertificate<H>>> {
		for number in from.0..=to.0 {
			if let Some(certificate) = self.certificate(Epoch(number))? {
				return Ok(Some(certificate));
			}
		}
		Ok(None)
	}
	/// The set-enacting checkpoints whose certificates are kept, lowest first.
	fn set_changes(&self) -> Result<Vec<Epoch>>;
	/// Deletes what lies more than `keep` checkpoints below the finalized one.
	fn prune(&self, keep: u64) -> Result<PruneOutcome>;
}

/// What one [`CheckpointFinalityPersistence::maintenance_at`] call did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MaintenanceReport {
	/// Votes flushed, if a flush was due.
	pub flushed: Option<usize>,
	/// What the prune removed, if a prune was due.
	pub pruned: Option<PruneOutcome>,
}

struct Schedule {
	last_flush: Instant,
	last_prune: Instant,
}

struct Inner<H> {
	storage: Arc<dyn CheckpointStorage<H>>,
	config: CheckpointPersistenceConfig,
	pending: Mutex<Vec<CheckpointSignature<H>>>,
	schedule: Mutex<Schedule>,
}

/// A store with the write-behind buffer and the flush and prune timing. Cheap to clone: the
/// gadget and the `checkpoint-maintenance` task share one.
pub struct CheckpointFinalityPersistence<H> {
	inner: Arc<Inner<H>>,
}

impl<H> Clone for CheckpointFinalityPersistence<H> {
	fn clone(&self) -> Self {
		Self { inner: self.inner.clone() }
	}
}

impl<H: Encode> CheckpointFinalityPersistence<H> {
	/// Persistence through `storage` with `config`'s timing.
	pub fn new(
		storage: Arc<dyn CheckpointStorage<H>>,
		config: CheckpointPersistenceConfig,
	) -> Self {
		let now = Instant::now();
		Self {
			inner: Arc::new(Inner {
				storage,
				config,
				pending: Mutex::new(Vec::new()),
				schedule: Mutex::new(Schedule { last_flush: now, last_prune: now }),
			}),
		}
	}

	/// The configuration.
	pub fn config(&self) -> &CheckpointPersistenceConfig {
		&self.inner.config
	}

	/// The store.
	pub fn storage(&self) -> &dyn CheckpointStorage<H> {
		&*self.inner.storage
	}

	/// The store, shared: for writes made outside the lock of the state machine.
	pub fn storage_handle(&self) -> Arc<dyn CheckpointStorage<H>> {
		self.inner.storage.clone()
	}

	/// Queues another validator's vote for the next flush; flushes at once when the buffer is
	/// full.
	pub fn buffer_vote(&self, vote: CheckpointSignature<H>) -> Result<()> {
		let full = {
			let mut pending = self.inner.pending.lock();
			pending.push(vote);
			pending.len() >= MAX_PENDING_VOTES
		};
		if full {
			self.flush()?;
		}
		Ok(())
	}

	/// Votes waiting for the next flush.
	pub fn pending_votes(&self) -> usize {
		self.inner.pending.lock().len()
	}

	/// Writes the buffered votes in one transaction and returns how many. On failure the votes
	/// go back to the buffer (up to its bound) for the next attempt.
	pub fn flush(&self) -> Result<usize> {
		let batch = std::mem::take(&mut *self.inner.pending.lock());
		if batch.is_empty() {
			return Ok(0);
		}
		match self.inner.storage.store_votes(&batch) {
			Ok(()) => {
				log::debug!(target: LOG_TARGET, "📝 Stored signature batch of {}", batch.len());
				Ok(batch.len())
			}
			Err(e) => {
				let mut pending = self.inner.pending.lock();
				let newer = std::mem::replace(&mut *pending, batch);
				pending.extend(newer);
				if pending.len() > MAX_PENDING_VOTES {
					let dropped = pending.len() - MAX_PENDING_VOTES;
					pending.truncate(MAX_PENDING_VOTES);
					log::warn!(
						target: LOG_TARGET,
						"⚠️ Dropped {dropped} buffered votes after a failed flush; peers gossip them again",
					);
				}
				Err(e)
			}
		}
	}

	/// Deletes checkpoints more than `retention_checkpoints` below the finalized one.
	pub fn prune_old_checkpoints(&self) -> Result<PruneOutcome> {
		self.inner.storage.prune(self.inner.config.retention_checkpoints)
	}

	/// Flushes and prunes if their intervals have passed. Run it every few seconds from the
	/// `checkpoint-maintenance` task (on a blocking thread).
	pub fn perform_periodic_maintenance(&self) -> Result<MaintenanceReport> {
		self.maintenance_at(Instant::now())
	}

	/// [`Self::perform_periodic_maintenance`] at a given time (for tests and benchmarks).
	pub fn maintenance_at(&self, now: Instant) -> Result<MaintenanceReport> {
		let config = &self.inner.config;
		let (flush_due, prune_due) = {
			let mut schedule = self.inner.schedule.lock();
			let due = |last: &mut Instant, secs| {
				let due = now.saturating_duration_since(*last) >= Duration::from_secs(secs);
				if due {
					*last = now;
				}
				due
			};
			(
				due(&mut schedule.last_flush, config.flush_interval_secs),
				due(&mut schedule.last_prune, config.prune_interval_secs),
			)
		};
		let mut report = MaintenanceReport::default();
		if flush_due {
			let pending = self.pending_votes();
			if pending > 0 {
				log::info!(target: LOG_TARGET, "💾 Auto-flushing checkpoint database: {pending} signatures");
			}
			report.flushed = Some(self.flush()?);
		}
		if prune_due {
			let outcome = self.prune_old_checkpoints()?;
			if outcome.checkpoints > 0 {
				log::info!(
					target: LOG_TARGET,
					"🧹 Auto-pruning old checkpoint data: {} checkpoints below {} removed",
					outcome.checkpoints,
					outcome.pruned_below,
				);
			}
			if outcome.flushed_wal {
				log::debug!(
					target: LOG_TARGET,
					"Checkpoint database: the write-ahead log had outgrown its cap; columns flushed",
				);
			}
			report.pruned = Some(outcome);
		}
		Ok(report)
	}
}

/// How often the maintenance task asks whether a flush or prune is due.
pub const MAINTENANCE_TICK: Duration = Duration::from_secs(1);

/// Runs the essential task `checkpoint-maintenance`: every [`MAINTENANCE_TICK`] it lets the
/// persistence layer flush and prune when their intervals have passed, on a blocking thread.
pub async fn run_maintenance<H: Encode + Send + Sync + 'static>(
	persistence: CheckpointFinalityPersistence<H>,
) {
	loop {
		futures_timer::Delay::new(MAINTENANCE_TICK).await;
		let p = persistence.clone();
		match tokio::task::spawn_blocking(move || p.perform_periodic_maintenance()).await {
			Ok(Ok(_)) => {}
			Ok(Err(e)) => log::error!(target: LOG_TARGET, "❌ Checkpoint maintenance failed: {e}"),
			Err(e) => log::error!(target: LOG_TARGET, "❌ Checkpoint maintenance panicked: {e}"),
		}
	}
}
