//! Fork choice: author and vote on the best chain among the descendants of the highest
//! justified checkpoint, so that a justified checkpoint is never abandoned.

use crate::{link::FinalityHandle, CheckpointHash};
use sp_blockchain::{HeaderBackend, HeaderMetadata};
use sp_consensus::{Error as ConsensusError, SelectChain};
use sp_finality_checkpoint::Checkpoint;
use sp_runtime::traits::{Block as BlockT, Header as HeaderT, NumberFor, UniqueSaturatedInto};
use std::sync::Arc;

/// The hash of the block at height `number` on the chain ending in `head`, found by walking
/// back from `head` (the worker asks at most one checkpoint interval deep). `None` when `head`
/// is below `number` or a header on the way is unknown.
pub fn ancestor_at<B, C>(client: &C, head: B::Hash, number: u64) -> Option<B::Hash>
where
	B: BlockT,
	C: HeaderMetadata<B, Error = sp_blockchain::Error> + ?Sized,
{
	let mut hash = head;
	loop {
		let header = client.header_metadata(hash).ok()?;
		let height: u64 = header.number.unique_saturated_into();
		if height <= number {
			return (height == number).then_some(hash);
		}
		hash = header.parent;
	}
}

/// A [`SelectChain`] that prefers chains containing the highest justified checkpoint.
pub struct CheckpointSelectChain<B: BlockT, C, L> {
	inner: L,
	client: Arc<C>,
	finality: FinalityHandle<B::Hash>,
	interval: u32,
}

impl<B: BlockT, C, L: Clone> Clone for CheckpointSelectChain<B, C, L> {
	fn clone(&self) -> Self {
		Self {
			inner: self.inner.clone(),
			client: self.client.clone(),
			finality: self.finality.clone(),
			interval: self.interval,
		}
	}
}

impl<B, C, L> CheckpointSelectChain<B, C, L>
where
	B: BlockT,
	B::Hash: CheckpointHash,
	C: HeaderBackend<B> + HeaderMetadata<B, Error = sp_blockchain::Error>,
{
	/// Wraps `inner` (the longest-chain rule); checkpoints are `interval` blocks apart.
	pub fn new(inner: L, client: Arc<C>, finality: FinalityHandle<B::Hash>, interval: u32) -> Self {
		Self { inner, client, finality, interval: interval.max(1) }
	}

	fn contains(&self, header: &B::Header, justified: &Checkpoint<B::Hash>) -> bool {
		let number: u64 = (*header.number()).unique_saturated_into();
		if number < justified.number.block_number(self.interval) {
			return false;
		}
		sp_blockchain::lowest_common_ancestor(&*self.client, justified.hash, header.hash())
			.is_ok_and(|ancestor| ancestor.hash == justified.hash)
	}
}

#[async_trait::async_trait]
impl<B, C, L> SelectChain<B> for CheckpointSelectChain<B, C, L>
where
	B: BlockT,
	B::Hash: CheckpointHash,
	C: HeaderBackend<B> + HeaderMetadata<B, Error = sp_blockchain::Error> + Send + Sync,
	L: SelectChain<B>,
{
	async fn leaves(&self) -> Result<Vec<B::Hash>, ConsensusError> {
		self.inner.leaves().await
	}

	async fn best_chain(&self) -> Result<B::Header, ConsensusError> {
		let best = self.inner.best_chain().await?;
		// The published view: authoring never waits for the voter's disk writes.
		let justified = self.finality.view().justified;
		if justified.number.0 == 0 || self.contains(&best, &justified) {
			return Ok(best);
		}
		let mut candidates = Vec::new();
		for leaf in self.inner.leaves().await? {
			if let Ok(Some(header)) = self.client.header(leaf) {
				if self.contains(&header, &justified) {
					candidates.push(header);
				}
			}
		}
		// Without a block on top of the justified checkpoint (not imported yet), the longest
		// chain it is.
		Ok(candidates.into_iter().max_by_key(|h| *h.number()).unwrap_or(best))
	}

	async fn finality_target(
		&self,
		base_hash: B::Hash,
		maybe_max_number: Option<NumberFor<B>>,
	) -> Result<B::Hash, ConsensusError> {
		self.inner.finality_target(base_hash, maybe_max_number).await
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use sc_client_api::{backend::NewBlockState, in_mem::Blockchain};
	use sp_core::H256;
	use sp_runtime::{generic, traits::BlakeTwo256, OpaqueExtrinsic};

	type Header = generic::Header<u64, BlakeTwo256>;
	type Block = generic::Block<Header, OpaqueExtrinsic>;

	/// A child of `parent`; `fork` tells siblings apart.
	fn push(chain: &Blockchain<Block>, parent: &Header, fork: u8) -> Header {
		let number = parent.number + 1;
		let header = Header::new(
			number,
			H256::repeat_byte(fork),
			H256::zero(),
			parent.hash(),
			Default::default(),
		);
		chain.insert(header.hash(), header.clone(), None, None, NewBlockState::Best, true).unwrap();
		header
	}

	#[test]
	fn ancestor_at_walks_back_along_the_given_fork() {
		let chain = Blockchain::<Block>::new();
		let genesis = Header::new(0, H256::zero(), H256::zero(), H256::zero(), Default::default());
		chain
			.insert(genesis.hash(), genesis.clone(), None, None, NewBlockState::Final, true)
			.unwrap();
		let a1 = push(&chain, &genesis, 0xa);
		let a2 = push(&chain, &a1, 0xa);
		let a3 = push(&chain, &a2, 0xa);
		let b2 = push(&chain, &a1, 0xb);
		let b3 = push(&chain, &b2, 0xb);
		let at = |head: &Header, number| ancestor_at::<Block, _>(&chain, head.hash(), number);
		assert_eq!(at(&b3, 2), Some(b2.hash()));
		assert_eq!(at(&a3, 2), Some(a2.hash()));
		assert_eq!(at(&b3, 3), Some(b3.hash()), "the head itself");
		assert_eq!(at(&b3, 0), Some(genesis.hash()));
		assert_eq!(at(&b3, 4), None, "above the head");
		assert_eq!(ancestor_at::<Block, _>(&chain, H256::repeat_byte(7), 1), None, "unknown head");
	}
}
