//! The one error type of sc-finality-checkpoint.
//!
//! Every variant names what failed (and, for storage, the path) and says what the operator
//! should do. Rejected votes are not errors of the node: they are
//! [`VoteRejection`](crate::types::VoteRejection)s.

use std::{io, path::PathBuf};

/// Errors of the checkpoint store and gadget.
#[derive(Debug, thiserror::Error)]
pub enum Error {
	/// The database could not be opened or created.
	#[error(
		"cannot open the checkpoint database at {path}: {source}. Check that the directory \
		 exists, is writable and is not used by another running node"
	)]
	Open {
		/// Database directory.
		path: PathBuf,
		/// The underlying error.
		#[source]
		source: io::Error,
	},
	/// The database files are damaged (a truncated or corrupted file), or were written by a
	/// newer node with more columns.
	#[error(
		"the checkpoint database at {path} is damaged or was written by a newer node: {source}. \
		 Nothing was changed. Run the newer node binary if one wrote it; otherwise stop the \
		 node and move the directory aside (or `purge-chain`): the node rebuilds it from the \
		 network. The own-vote guard is kept outside this directory, in the chain directory; \
		 leave it in place, it stops this validator from double-voting after a resync"
	)]
	Damaged {
		/// Database directory.
		path: PathBuf,
		/// The underlying error.
		#[source]
		source: io::Error,
	},
	/// Reading from the database failed.
	#[error("cannot read the checkpoint database at {path}: {source}. Check the disk and its permissions")]
	Read {
		/// Database directory.
		path: PathBuf,
		/// The underlying error.
		#[source]
		source: io::Error,
	},
	/// Writing to the database failed; nothing of the failed transaction was written.
	#[error(
		"cannot write to the checkpoint database at {path}: {source}. Check free disk space and \
		 permissions; nothing of this write was stored"
	)]
	Write {
		/// Database directory.
		path: PathBuf,
		/// The underlying error.
		#[source]
		source: io::Error,
	},
	/// A stored record does not decode.
	#[error(
		"corrupt record in the checkpoint database at {path} (column {column}, key 0x{key}): \
		 {reason}. Stop the node and move the directory aside (or `purge-chain`): the node \
		 rebuilds it from the network. The own-vote guard is kept outside this directory, in the \
		 chain directory; leave it in place, it stops this validator from double-voting after a \
		 resync"
	)]
	Corrupt {
		/// Database directory.
		path: PathBuf,
		/// Column name.
		column: &'static str,
		/// Hex of the key.
		key: String,
		/// What is wrong with the record.
		reason: String,
	},
	/// The database belongs to another chain.
	#[error(
		"the checkpoint database at {path} belongs to another chain (its genesis is {found}, \
		 this chain's is {expected}). Use another --base-path, or remove it with `purge-chain` \
		 if that chain's data is no longer needed"
	)]
	GenesisMismatch {
		/// Database directory.
		path: PathBuf,
		/// This chain's genesis hash.
		expected: String,
		/// The stored genesis hash.
		found: String,
	},
	/// The own-vote guard file belongs to another chain.
	#[error(
		"own-vote guard file {path} belongs to another chain (its genesis is {found}, this \
		 chain's is {expected}). Use another --base-path; remove it (`purge-chain \
		 --unsafe-reset-own-vote-guard`) only if that chain's validator will never vote again"
	)]
	GuardOfAnotherChain {
		/// Guard file path.
		path: PathBuf,
		/// This chain's genesis hash.
		expected: String,
		/// The genesis hash in the file.
		found: String,
	},
	/// The database was written by a newer version of the node.
	#[error(
		"the checkpoint database at {path} has schema version {found}, newer than the {supported} \
		 this node understands. Run the newer node binary that wrote it; nothing was changed"
	)]
	UnsupportedSchema {
		/// Database directory.
		path: PathBuf,
		/// Stored schema version.
		found: u32,
		/// Newest version this build understands.
		supported: u32,
	},
	/// The database was written by the one-round checkpoint protocol (protocol version 1,
	/// schema versions 1 and 2), whose records mean other things than the two-round protocol's:
	/// it is refused, never migrated, and nothing in it is changed.
	#[error(
		"the checkpoint database at {path} (schema version {found}) belongs to a chain of the \
		 one-round checkpoint protocol; this node runs two-round finality (protocol 2), whose \
		 chains start afresh. Nothing was changed: start this node on a chain of the new \
		 protocol with another --base-path, or move the directory aside (`purge-chain`) if its \
		 chain is being replaced"
	)]
	OneRoundDatabase {
		/// Database directory.
		path: PathBuf,
		/// Stored schema version (one of the one-round protocol's).
		found: u32,
	},
	/// A write was attempted before the database was checked against this chain.
	#[error(
		"the checkpoint database at {path} was written to before it was checked against the \
		 chain. Call restore_from_storage() before using the gadget"
	)]
	NotInitialised {
		/// Database directory.
		path: PathBuf,
	},
	/// The finalized watermark would move backwards; the write was refused.
	#[error(
		"refusing to move the finalized checkpoint of {path} back from {stored} to {new}. This \
		 is a bug in the caller: report it with the node's logs"
	)]
	WatermarkRegression {
		/// Database directory.
		path: PathBuf,
		/// Stored finalized checkpoint number.
		stored: u64,
		/// The lower number that was asked for.
		new: u64,
	},
	/// The own-vote guard file could not be read or made durable.
	#[error(
		"own-vote guard file {path}: {source}. The validator will not vote until this is fixed: \
		 check free disk space and permissions of the directory"
	)]
	Guard {
		/// Guard file path.
		path: PathBuf,
		/// The underlying error.
		#[source]
		source: io::Error,
	},
	/// The own-vote guard file exists but does not hold a valid guard.
	#[error(
		"own-vote guard file {path} is corrupt: {reason}. Do not delete it blindly: it records \
		 the highest checkpoint this validator voted for. Restore it from a backup, or set the \
		 validator's key aside until the chain has finalized past every checkpoint it may have \
		 voted for, then remove it with `purge-chain --unsafe-reset-own-vote-guard`"
	)]
	GuardCorrupt {
		/// Guard file path.
		path: PathBuf,
		/// What is wrong with it.
		reason: String,
	},
	/// The own-vote guard file was written by the one-round checkpoint protocol (protocol
	/// version 1): its checkpoint numbers are not epochs, so it guards nothing of this
	/// protocol. It is refused and left as it is.
	#[error(
		"own-vote guard file {path} was written by the one-round checkpoint protocol (version \
		 1); this node runs two-round finality (protocol 2), whose chains start afresh. Nothing \
		 was changed. Use another --base-path for the new chain; remove it with `purge-chain \
		 --unsafe-reset-own-vote-guard` only once this validator will never vote on the old \
		 chain again"
	)]
	OneRoundGuard {
		/// Guard file path.
		path: PathBuf,
	},
	/// The own vote breaks the validator's own-vote guard and was not cast.
	#[error(
		"not voting {from} -> {to}: it could conflict with an earlier own vote \
		 (highest own source {guard_source}, target {guard_target})"
	)]
	OwnVoteRefused {
		/// Source of the refused vote.
		from: sp_finality_checkpoint::Epoch,
		/// Target of the refused vote.
		to: sp_finality_checkpoint::Epoch,
		/// Highest own source so far.
		guard_source: sp_finality_checkpoint::Epoch,
		/// Highest own target so far.
		guard_target: sp_finality_checkpoint::Epoch,
	},
	/// The node's own vote does not pass the checks every vote must pass.
	#[error(
		"own vote rejected: {0}. Check that this node's `ckpt` key belongs to the current \
		 authority set and that its clock and chain are in sync"
	)]
	InvalidOwnVote(crate::types::VoteRejection),
	/// A certificate handed in to finalize does not verify against the current set; finality
	/// did not move.
	#[error(
		"refusing to finalize with an invalid checkpoint certificate: {0}. If it came from a \
		 peer, that peer is faulty; if it is the node's own, report it with the logs"
	)]
	InvalidCertificate(crate::types::CertificateError),
	/// A set change is signalled at or below the checkpoint to finalize, and the checkpoint's
	/// block is not imported, so whether the change is on its chain cannot be told yet.
	#[error(
		"checkpoint {0} waits for its block: a set change is signalled below it, and only the \
		 block tells whether the change is on its chain. It finalizes once the block is imported"
	)]
	BlockNotImported(sp_finality_checkpoint::Epoch),
	/// A verified certificate finalizes a block that is not a descendant of the finalized
	/// one: more than a third of the set signed for two chains. Finality stays where it is.
	#[error(
		"refusing to finalize checkpoint {source_number} ({source_hash}): it conflicts with the \
		 finalized checkpoint {finalized_number} ({finalized_hash}), so more than a third of \
		 the validators signed for two chains. Finality stops here: compare the evidence \
		 (`substrate_checkpoint_equivocations_total`, the logs) with the other operators and \
		 decide on a forced set change"
	)]
	ConflictingFinality {
		/// The finalized checkpoint.
		finalized_number: sp_finality_checkpoint::Epoch,
		/// Its block.
		finalized_hash: String,
		/// The checkpoint the certificate would finalize.
		source_number: sp_finality_checkpoint::Epoch,
		/// Its block.
		source_hash: String,
	},
	/// A finality proof cannot be built.
	#[error(
		"cannot prove finality: {0}. A node with checkpoint persistence on keeps the \
		 certificates that proofs need; ask one that has the whole chain"
	)]
	NoProof(String),
	/// The stored authority sets do not form a chain of sets.
	#[error(
		"the authority sets stored in the checkpoint database are not a chain of sets \
		 ({0}). Stop the node and move the checkpoint database aside (or `purge-chain`): the \
		 node rebuilds it from the network; keep the own-vote guard file"
	)]
	StoredSets(String),
}

/// Result with the crate's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

impl From<crate::types::OwnVoteRejection> for Error {
	fn from(rejection: crate::types::OwnVoteRejection) -> Self {
		use crate::types::OwnVoteRejection;
		match rejection {
			OwnVoteRejection::Guard { from, to, guard_source, guard_target } => {
				Error::OwnVoteRefused { from, to, guard_source, guard_target }
			}
			OwnVoteRejection::Invalid(rejection) => Error::InvalidOwnVote(rejection),
		}
	}
}
