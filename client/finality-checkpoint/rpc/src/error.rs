//! Why a checkpoint RPC call cannot answer: each error has its own code, and a message that
//! says what to ask instead.

use jsonrpsee::types::{ErrorObject, ErrorObjectOwned};

/// The first code of the checkpoint RPC's errors.
const BASE_ERROR: i32 = 7000;

/// Why a checkpoint RPC call cannot answer.
#[derive(Debug, thiserror::Error)]
pub enum Error {
	/// No block with this number or hash here (code 7001).
	#[error("block {0} is not known to this node")]
	UnknownBlock(String),
	/// The block is above the finalized one (code 7002).
	#[error("block #{block} is not finalized yet: this node's finalized block is #{finalized}")]
	NotFinalized {
		/// The block asked for.
		block: u64,
		/// The finalized block's number.
		finalized: u64,
	},
	/// The hash names a block of a fork that finality left behind (code 7003).
	#[error("block {hash} is not on the finalized chain: block #{number} there is {canonical}")]
	NotOnFinalizedChain {
		/// The hash asked for.
		hash: String,
		/// Its number.
		number: u64,
		/// The hash of the finalized chain's block at that number.
		canonical: String,
	},
	/// Neither the checkpoint store nor the block database holds a certificate (code 7004).
	#[error(
		"no certificate of block #{block} on this node: {}",
		if *persistence {
			"the checkpoint store pruned it (see --checkpoint-retention) and no checkpoint block \
			 at or above it has a CKP2 justification in the block database; ask an archive node"
		} else {
			"checkpoint persistence is off here and no checkpoint block at or above it has a \
			 CKP2 justification in the block database"
		}
	)]
	NoCertificate {
		/// The block asked for.
		block: u64,
		/// Whether the node has a checkpoint store.
		persistence: bool,
	},
	/// A block's justification does not decode as a certificate (code 7005).
	#[error(
		"the CKP2 justification of block #{block} is not a certificate of this protocol: {why}"
	)]
	BadJustification {
		/// The block.
		block: u64,
		/// What is wrong with it.
		why: String,
	},
	/// Finality proofs need the checkpoint store (code 7006).
	#[error(
		"checkpoint persistence is off on this node (--checkpoint-persistence off): it keeps no \
		 set changes to prove finality with; ask a node that keeps them"
	)]
	PersistenceOff,
	/// The checkpoint store failed to read (code 7007).
	#[error("the checkpoint store cannot answer: {0}")]
	Store(String),
	/// The block database failed to read (code 7008).
	#[error("the block database cannot answer: {0}")]
	Blockchain(String),
}

impl Error {
	/// The JSON-RPC error code.
	pub fn code(&self) -> i32 {
		BASE_ERROR
			+ match self {
				Error::UnknownBlock(_) => 1,
				Error::NotFinalized { .. } => 2,
				Error::NotOnFinalizedChain { .. } => 3,
				Error::NoCertificate { .. } => 4,
				Error::BadJustification { .. } => 5,
				Error::PersistenceOff => 6,
				Error::Store(_) => 7,
				Error::Blockchain(_) => 8,
			}
	}
}

impl From<Error> for ErrorObjectOwned {
	fn from(error: Error) -> Self {
		ErrorObject::owned(error.code(), error.to_string(), None::<()>)
	}
}
