//! Warp sync on checkpoint certificates: [`CheckpointWarpSyncProvider`], the node's
//! [`WarpSyncProvider`], as `sc-consensus-grandpa`'s `warp_proof.rs` is GRANDPA's.
//!
//! A node answers a peer's warp proof request from its store, which keeps the certificate of
//! every set-enacting checkpoint ([`prove_warp`]): the set changes from the block asked from
//! on, as many as fit in [`MAX_WARP_PROOF_SIZE`], then the latest finalized checkpoint block and
//! its certificate. A syncing node reads them with a [`WarpReader`] from the sets its gadget
//! holds (the genesis set on a new node) by the gadget's own rules, imports each proven block
//! with its certificate as its justification and, once the proof is complete, hands what it
//! proved ([`Warp`]) to the worker. When the target block's state is imported, block import has
//! the gadget jump there (stored first) and finalizes the block; from then on the node follows
//! finality as any other. A forced change ends a proof: no certificate hands over to the forced
//! set, so a chain that had one syncs in full past it.

use crate::{
	link::{FinalityHandle, Request},
	proof::{prove_warp, WarpProof, WarpReader, WarpStep},
	state::CheckpointHash,
	LOG_TARGET,
};
use codec::{DecodeAll, Encode};
use sc_network_sync::strategy::warp::{
	EncodedProof, VerificationResult, Verifier, WarpSyncProvider,
};
use sp_blockchain::HeaderBackend;
use sp_finality_checkpoint::{CheckpointCertificate, ENGINE_ID};
use sp_runtime::{
	traits::{Block as BlockT, Header as HeaderT},
	Justifications,
};
use std::sync::Arc;

/// The encoded size a warp proof stops at before its next set change, as GRANDPA's
/// (`MAX_WARP_SYNC_PROOF_SIZE`); the reader asks for the rest from there.
pub const MAX_WARP_PROOF_SIZE: usize = 8 * 1024 * 1024;

/// The gadget's [`WarpSyncProvider`]: proofs from this node's store, and readers for the
/// proofs of peers. Pass it as the network's `WarpSyncConfig::WithProvider`.
pub struct CheckpointWarpSyncProvider<B: BlockT, C> {
	client: Arc<C>,
	finality: FinalityHandle<B::Hash>,
	interval: u32,
	max_proof_size: usize,
}

impl<B: BlockT, C> CheckpointWarpSyncProvider<B, C> {
	/// Proofs of the gadget behind `finality`, with headers from `client`, on a chain with
	/// checkpoints `interval` blocks apart.
	pub fn new(client: Arc<C>, finality: FinalityHandle<B::Hash>, interval: u32) -> Self {
		Self { client, finality, interval, max_proof_size: MAX_WARP_PROOF_SIZE }
	}

	/// Proofs stop before a set change that would take them past `bytes`.
	pub fn with_max_proof_size(mut self, bytes: usize) -> Self {
		self.max_proof_size = bytes;
		self
	}
}

impl<B, C> WarpSyncProvider<B> for CheckpointWarpSyncProvider<B, C>
where
	B: BlockT,
	B::Hash: CheckpointHash,
	C: HeaderBackend<B> + Send + Sync,
{
	fn generate(
		&self,
		start: B::Hash,
	) -> Result<EncodedProof, Box<dyn std::error::Error + Send + Sync>> {
		let proof = prove_warp::<B, C>(
			&*self.client,
			&self.finality,
			self.interval,
			start,
			self.max_proof_size,
		)
		.inspect_err(|e| {
			log::debug!(target: LOG_TARGET, "No warp sync proof from {start:?}: {e}");
		})?;
		Ok(EncodedProof(proof.encode()))
	}

	fn create_verifier(&self) -> Box<dyn Verifier<B>> {
		let view = self.finality.view();
		let reader =
			WarpReader::new(view.genesis_hash, self.interval, &view.sets, view.finalized.hash);
		Box::new(CheckpointWarpVerifier::<B> { reader, finality: self.finality.clone() })
	}
}

/// Reads the warp proofs of peers for the sync layer, which drops a peer whose proof fails.
struct CheckpointWarpVerifier<B: BlockT> {
	reader: WarpReader<B::Hash>,
	finality: FinalityHandle<B::Hash>,
}

impl<B: BlockT> Verifier<B> for CheckpointWarpVerifier<B>
where
	B::Hash: CheckpointHash,
{
	fn verify(
		&mut self,
		proof: &EncodedProof,
	) -> Result<VerificationResult<B>, Box<dyn std::error::Error + Send + Sync>> {
		let proof = WarpProof::<B::Header>::decode_all(&mut &proof.0[..])
			.map_err(|e| format!("malformed warp sync proof: {e}"))?;
		let step = self.reader.read(&proof).inspect_err(|e| {
			log::warn!(target: LOG_TARGET, "⚠️ Refused a peer's warp sync proof: {e}");
		})?;
		Ok(match step {
			WarpStep::Partial(blocks) => {
				log::info!(
					target: LOG_TARGET,
					"⏩ Warp sync proof verified in part: {}",
					self.reader.status(),
				);
				VerificationResult::Partial(justified(blocks))
			}
			WarpStep::Complete(target, blocks, warp) => {
				log::info!(
					target: LOG_TARGET,
					"⏩ Warp sync proof verified to block #{} ({:?}): {}",
					target.number(),
					target.hash(),
					self.reader.status(),
				);
				// The worker jumps there with the target's state.
				if !self.finality.send(Request::WarpProven(warp)) {
					log::error!(
						target: LOG_TARGET,
						"❌ The checkpoint worker has ended: warp sync cannot finish",
					);
				}
				VerificationResult::Complete(target, justified(blocks))
			}
		})
	}

	fn next_proof_context(&self) -> B::Hash {
		self.reader.next_proof_context()
	}

	fn status(&self) -> Option<String> {
		Some(self.reader.status())
	}
}

/// Proven blocks as the sync layer imports them: each with its certificate as its `CKPT`
/// justification.
fn justified<Header: HeaderT>(
	blocks: Vec<(Header, CheckpointCertificate<Header::Hash>)>,
) -> Vec<(Header, Justifications)> {
	blocks
		.into_iter()
		.map(|(header, certificate)| {
			(header, Justifications::from((ENGINE_ID, certificate.to_justification())))
		})
		.collect()
}
