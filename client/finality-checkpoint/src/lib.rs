//! Checkpoint finality gadget: validators sign checkpoint blocks, a supermajority of
//! signatures forms a certificate, and certificates finalize blocks. Every signature,
//! certificate and the finality watermark is persisted in kvdb-rocksdb, and the own-vote guard
//! in an fsynced file, so a restarted validator resumes where it stopped and never signs two
//! conflicting votes.
//!
//! One concern a module, from the pure core outwards:
//!
//! - `types`: what the core and its callers share: [`CheckpointHash`], [`VoterSet`] and why a
//!   vote or certificate was refused ([`VoteRejection`], [`CertificateError`]).
//! - `state`: `FinalityState`, the pure vote/justify/finalize rules. No I/O: its methods
//!   return what changed and the writes that make it durable.
//! - [`authorities`]: [`AuthoritySets`], the authority sets tracked from genesis through the
//!   changes finality enacted, against which every vote and certificate is checked. Pure.
//! - `voter`: the only mutator of the state: `on(Event) -> Vec<Action>`, pure. A change that
//!   must be durable first (an own vote, a certificate with its watermark, a raised guard, a
//!   forced set) takes effect only once its write is reported done.
//! - `finality`: [`CheckpointFinality`], the voter's executor: it performs the voter's writes
//!   in order (own vote durable before it returns, certificate and watermark in one
//!   transaction), feeds their results back and publishes a [`FinalityView`] after each event.
//! - `view`: [`FinalityView`], what the shell publishes after each change, with its
//!   [`FinalityCounters`].
//! - `link`: [`CheckpointLink`], the state before the worker owns it, and [`FinalityHandle`],
//!   what everything else holds: the published view that fork choice, RPC, metrics and gossip
//!   read without waiting, and the worker's inbox for block import's requests.
//! - `planner`: which checkpoint to vote for next and when (catch-up after outages, the
//!   bounded wait for a source), or why not. Pure.
//! - `keystore`: the local key, looked up in the set at each vote, and signing.
//! - [`communication`]: the gossip messages, the notification protocol and the gossip
//!   validator with its reputation costs.
//! - `worker`: the async worker, the one owner of the state: it votes, gossips, answers block
//!   import and finalizes on the client.
//! - `import`: block import and the import queue's verifier: `CKPT` justifications verified
//!   once, and the set changes imported headers signal (sent to the worker).
//! - `client`: what the gadget reads off the client and writes to it: the chain parameters
//!   ([`chain_params`]), the ancestry the voter asks ([`ClientAncestry`]), `finalize_block`
//!   (the one place that finalizes on the client) and the certificates the client holds.
//! - `fork_choice`: [`CheckpointSelectChain`], which keeps to the highest justified
//!   checkpoint.
//! - [`proof`]: [`FinalityProof`], the set changes from genesis to a block's certificate:
//!   built from the store and the headers, verified knowing the genesis set alone; and the
//!   [`WarpProof`]s warp sync fetches, read by a [`WarpReader`] with the gadget's rules.
//! - `warp`: [`CheckpointWarpSyncProvider`], the node's warp sync provider on those proofs.
//! - [`store`]: the storage. [`store::persistence`]: the interface [`CheckpointStorage`] with
//!   what it loads and prunes, the write-behind buffer and its timing, and the maintenance
//!   task; [`store::db`]: [`CheckpointDB`], the columns and key layout on disk, and
//!   [`CheckpointStorageAdapter`], the interface on it; `store::guard`: the fsynced own-vote
//!   guard file ([`GuardFile`]).
//! - `metrics`: Prometheus metrics `substrate_checkpoint_*`.
//! - `notification`: [`CertificateStream`], the certificates that finalized blocks on the
//!   client, in order, for the RPC's finality subscription.
//! - [`error`]: the crate's [`Error`].
//!
//! Usage:
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

// The public API: the block import and its link, the gadget's start, its configuration, the
// RPC's handle, the finality proof, and the storage types. The
// `test-helpers` feature opens the pure core (`state`, `planner`, the gossip validator) to the
// crate's own tests, benchmarks and fuzzers.

pub mod authorities;
mod client;
pub mod communication;
pub mod error;
mod finality;
mod fork_choice;
mod import;
mod keystore;
mod link;
mod metrics;
mod notification;
#[cfg(feature = "test-helpers")]
pub mod planner;
#[cfg(not(feature = "test-helpers"))]
mod planner;
pub mod proof;
mod report;
#[cfg(feature = "test-helpers")]
pub mod state;
#[cfg(not(feature = "test-helpers"))]
mod state;
pub mod store;
#[cfg(test)]
mod testing;
mod types;
mod view;
mod voter;
mod warp;
mod worker;

pub use authorities::{AuthoritySets, EnactedSet, PendingSignals, SignalledChange};
#[cfg(feature = "test-helpers")]
pub use client::import_client_justifications;
pub use client::{chain_params, justification_at, ClientAncestry};
pub use communication::{notification_config, protocol_name};
pub use error::{Error, Result};
pub use finality::{CheckpointFinality, RestoreSummary};
pub use fork_choice::CheckpointSelectChain;
pub use import::{note_signals_above_finality, CheckpointBlockImport, CheckpointVerifier};
pub use link::{CheckpointLink, FinalityHandle};
pub use notification::{CertificateStream, CertificateTracingKey};
pub use proof::{
	prove_finality, prove_warp, verify_finality_proof, FinalityProof, ProofError, ProofReader,
	SetChangeProof, WarpProof, WarpProofEnd, WarpReader, WarpStep,
};
pub use report::{
	EquivocationReporter, EvidenceEntry, EvidenceLog, ReportError, ReportSender, ReportStatus,
};
pub use sp_finality_checkpoint::votes_conflict;
pub use state::{
	CertificateError, CheckpointHash, FinalityConfig, OwnVoteGuard, Progress, VoteRejection,
	VoterSet, Warp,
};
pub use store::{
	run_maintenance, CheckpointDB, CheckpointFinalityPersistence, CheckpointPersistenceConfig,
	CheckpointStorage, CheckpointStorageAdapter, ColumnStats, GuardFile, MaintenanceReport,
	PruneOutcome, StoredState, GUARD_FILE_NAME,
};
pub use view::{FinalityCounters, FinalityView};
pub use voter::{ChainAncestry, VoteImport};
pub use warp::{CheckpointWarpSyncProvider, MAX_WARP_PROOF_SIZE};
pub use worker::{run_checkpoint_worker, CheckpointWorkerParams};

/// Log target of the gadget.
pub const LOG_TARGET: &str = "checkpoint";
