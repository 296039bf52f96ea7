//! Checkpoint finality gadget: validators sign checkpoint blocks, a supermajority of
//! signatures forms a certificate, and certificates finalize blocks. Every signature,
//! certificate and the finality watermark is persisted in kvdb-rocksdb, and the own-vote guard
//! in an fsynced file, so a restarted validator resumes where it stopped and never signs two
//! conflicting votes.
//!
//! One concern a module, from the pure core outwards:
//!
//! - `types`: what the core and its callers share: [`CheckpointHash`], [`VoterSet`] and why a
//!   vote or certificate was refused ([`VoteRejection`], [`CertificateError`]); re-exported by
//!   [`state`].
//! - [`state`]: [`FinalityState`], the pure vote/justify/finalize rules. No I/O: its methods
//!   return what changed and the [`Write`]s that make it durable.
//! - [`authorities`]: [`AuthoritySets`], the authority sets tracked from genesis through the
//!   changes finality enacted, against which every vote and certificate is checked. Pure.
//! - `finality`: [`CheckpointFinality`], the shell that persists those writes (own vote
//!   durable before it returns, certificate and watermark in one transaction) and publishes a
//!   [`FinalityView`] after each change.
//! - `view`: [`FinalityView`], what the shell publishes after each change, with its
//!   [`FinalityCounters`].
//! - `shared`: [`SharedFinality`], the voter's lock, the own-vote path that writes outside it,
//!   and the published view that fork choice, RPC, metrics and gossip read without waiting.
//! - [`planner`]: which checkpoint to vote for next and when (catch-up after outages, the
//!   bounded wait for a source), or why not. Pure.
//! - `keystore`: [`CheckpointKeystore`], the local key looked up at each vote, and signing.
//! - [`communication`]: the gossip messages, the notification protocol and the gossip
//!   validator with its reputation costs.
//! - `worker`: the async worker that votes, gossips and finalizes on the client.
//! - `justification`: certificates as justifications: verification, import, and
//!   [`finalize_block`], the one place that finalizes on the client; the set changes imported
//!   headers signal.
//! - `fork_choice`: [`CheckpointSelectChain`], which keeps to the highest justified
//!   checkpoint.
//! - [`proof`]: [`FinalityProof`], the set changes from genesis to a block's certificate:
//!   built from the store and the headers, verified knowing the genesis set alone.
//! - [`persistence`]: the storage interface [`CheckpointStorage`] with what it loads and
//!   prunes, the write-behind buffer and its timing, and the maintenance task.
//! - [`db`]: [`CheckpointDB`], the columns and key layout on disk, and
//!   [`CheckpointStorageAdapter`], the interface on it; `guard`: the fsynced own-vote guard
//!   file ([`GuardFile`]).
//! - `metrics`: Prometheus metrics `substrate_checkpoint_*`.
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

pub mod authorities;
pub mod communication;
pub mod db;
pub mod error;
mod finality;
mod fork_choice;
mod guard;
mod justification;
mod keystore;
mod metrics;
pub mod persistence;
pub mod planner;
pub mod proof;
mod shared;
pub mod state;
mod types;
mod view;
mod worker;

pub use authorities::{AuthoritySets, EnactedSet, PendingSignals, SignalledChange};
pub use communication::{notification_config, protocol_name};
pub use db::{CheckpointDB, CheckpointStorageAdapter, ColumnStats};
pub use error::{Error, Result};
pub use finality::{ChainAncestry, CheckpointFinality, RestoreSummary, VoteImport};
pub use fork_choice::CheckpointSelectChain;
pub use guard::{GuardFile, GUARD_FILE_NAME};
pub use justification::{
	chain_params, finalize_block, import_client_justifications, note_signals_above_finality,
	CheckpointBlockImport, CheckpointVerifier, ClientAncestry,
};
pub use keystore::{CheckpointKeystore, SignError};
pub use persistence::{
	run_maintenance, CheckpointFinalityPersistence, CheckpointPersistenceConfig, CheckpointStorage,
	MaintenanceReport, PruneOutcome, StoredState,
};
pub use planner::Abstention;
pub use proof::{prove_finality, verify_finality_proof, FinalityProof, ProofError, SetChangeProof};
pub use shared::SharedFinality;
pub use state::{
	votes_conflict, CertificateError, CheckpointHash, FinalityConfig, FinalityState, OwnVoteGuard,
	Progress, VoteRejection, VoterSet, Write,
};
pub use view::{FinalityCounters, FinalityView};
pub use worker::{run_checkpoint_worker, CheckpointWorkerParams};

/// Log target of the gadget.
pub const LOG_TARGET: &str = "checkpoint";
