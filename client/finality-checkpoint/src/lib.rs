//! Checkpoint finality gadget: validators sign checkpoint blocks, a supermajority of
//! signatures forms a certificate, and certificates finalize blocks. Every signature,
//! certificate and the finality watermark is persisted in kvdb-rocksdb, and the own-vote guard
//! in an fsynced file, so a restarted validator resumes where it stopped and never signs two
//! conflicting votes.
//!
//! - [`finality`]: [`CheckpointFinality`], the pure vote/justify/finalize state machine.
//! - [`persistence`]: [`CheckpointStorage`], [`CheckpointStorageAdapter`],
//!   [`CheckpointPersistenceConfig`] and [`CheckpointFinalityPersistence`] (write-behind
//!   buffer, flush and prune timing).
//! - [`db`]: [`CheckpointDB`], the columns and key layout on disk.
//! - [`guard`]: the fsynced own-vote guard file.
//! - [`gossip`]: messages, the notification protocol and the gossip validator.
//! - [`planner`]: which checkpoint to vote for next (catch-up after outages), or why not.
//! - [`worker`]: the async worker that votes, gossips and finalizes on the client, and the
//!   maintenance task.
//! - [`fork_choice`]: the `SelectChain` that keeps to the highest justified checkpoint.
//! - [`justification`]: certificates as justifications; verification and import.
//! - [`metrics`]: Prometheus metrics `substrate_checkpoint_*`.
//! - [`error`]: the crate's [`Error`].
//!
//! Usage, as in the integration guide:
//!
//! ```no_run
//! # use sc_finality_checkpoint::*;
//! # use std::sync::Arc;
//! # fn run(genesis: sp_core::H256, voters: VoterSet, base: &std::path::Path) -> Result<()> {
//! let db = Arc::new(CheckpointDB::new(&base.join("checkpoints"))?);
//! let adapter = Arc::new(CheckpointStorageAdapter::new(db));
//! let mut finality = CheckpointFinality::new(genesis, voters, FinalityConfig::default());
//! finality.set_storage(adapter, CheckpointPersistenceConfig::default());
//! finality.restore_from_storage()?;
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

pub mod db;
pub mod error;
pub mod finality;
pub mod fork_choice;
pub mod gossip;
pub mod guard;
pub mod justification;
pub mod metrics;
pub mod persistence;
pub mod planner;
pub mod worker;

pub use db::{CheckpointDB, ColumnStats, PruneOutcome, StoredState};
pub use error::{Error, Result};
pub use finality::{
	CheckpointFinality, CheckpointHash, FinalityConfig, FinalityCounters, OwnVoteGuard, Progress,
	RestoreSummary, VoteImport, VoteRejection, VoterSet,
};
pub use fork_choice::CheckpointSelectChain;
pub use gossip::{notification_config, protocol_name, SharedFinality};
pub use guard::{GuardFile, GUARD_FILE_NAME};
pub use justification::{
	chain_params, verify_certificate, CheckpointBlockImport, CheckpointVerifier,
};
pub use persistence::{
	CheckpointFinalityPersistence, CheckpointPersistenceConfig, CheckpointStorage,
	CheckpointStorageAdapter, MaintenanceReport,
};
pub use planner::Abstention;
pub use worker::{run_checkpoint_worker, run_maintenance, CheckpointWorkerParams};

/// Log target of the gadget.
pub const LOG_TARGET: &str = "checkpoint";
