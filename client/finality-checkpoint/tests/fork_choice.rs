//! The fork choice over a real in-memory blockchain (`sc_client_api::in_mem`): a shorter fork
//! that holds the highest justified checkpoint wins over a longer one that does not, and
//! `ancestor_at` finds the checkpoint block on the fork it is asked about.

mod common;

use common::*;
use parking_lot::Mutex;
use sc_client_api::{backend::NewBlockState, blockchain::Backend as _, in_mem::Blockchain};
use sc_finality_checkpoint::{fork_choice::ancestor_at, CheckpointSelectChain, SharedFinality};
use sp_blockchain::HeaderBackend;
use sp_consensus::{Error as ConsensusError, SelectChain};
use sp_core::H256;
use sp_finality_checkpoint::Checkpoint;
use sp_runtime::{
	generic,
	traits::{BlakeTwo256, Header as HeaderT},
	OpaqueExtrinsic,
};
use std::sync::Arc;

type Header = generic::Header<u64, BlakeTwo256>;
type Block = generic::Block<Header, OpaqueExtrinsic>;

/// Checkpoint `n` is block `2n`.
const INTERVAL: u32 = 2;

/// The longest-chain rule over the in-memory chain, as `LongestChain` is over a backend.
#[derive(Clone)]
struct Longest(Arc<Blockchain<Block>>);

#[async_trait::async_trait]
impl SelectChain<Block> for Longest {
	async fn leaves(&self) -> Result<Vec<H256>, ConsensusError> {
		self.0.leaves().map_err(|e| ConsensusError::ChainLookup(e.to_string()))
	}

	async fn best_chain(&self) -> Result<Header, ConsensusError> {
		let best = self.0.info().best_hash;
		self.0
			.header(best)
			.ok()
			.flatten()
			.ok_or_else(|| ConsensusError::ChainLookup(format!("no header for {best:?}")))
	}
}

/// Imports a child of `parent` (`fork` tells siblings apart), as the new best block or not.
fn push(chain: &Blockchain<Block>, parent: &Header, fork: u8, best: bool) -> Header {
	let header = Header::new(
		parent.number + 1,
		H256::repeat_byte(fork),
		H256::zero(),
		parent.hash(),
		Default::default(),
	);
	let state = if best { NewBlockState::Best } else { NewBlockState::Normal };
	chain.insert(header.hash(), header.clone(), None, None, state, true).unwrap();
	header
}

/// Genesis -> a1 .. a5, the longest chain, and a1 -> b2 -> b3 beside it.
struct Forks {
	chain: Arc<Blockchain<Block>>,
	genesis: Header,
	a: Vec<Header>,
	b2: Header,
	b3: Header,
}

fn forks() -> Forks {
	let chain = Arc::new(Blockchain::<Block>::new());
	let genesis = Header::new(0, H256::zero(), H256::zero(), H256::zero(), Default::default());
	chain.insert(genesis.hash(), genesis.clone(), None, None, NewBlockState::Final, true).unwrap();
	let mut a = vec![genesis.clone()];
	for _ in 1..=5 {
		let next = push(&chain, a.last().unwrap(), 0xa, true);
		a.push(next);
	}
	let b2 = push(&chain, &a[1], 0xb, false);
	let b3 = push(&chain, &b2, 0xb, false);
	Forks { chain, genesis, a, b2, b3 }
}

/// A one-validator state machine in which `checkpoint` (number 1) is justified.
fn justified(checkpoint: Checkpoint<H256>) -> SharedFinality<H256> {
	let keys = keys(1);
	let mut finality = finality(&keys);
	finality.add_checkpoint_signature(vote(&keys[0], 0, link(cp(0, 0), checkpoint))).unwrap();
	assert_eq!(finality.highest_justified(), checkpoint);
	Arc::new(Mutex::new(finality))
}

fn best_chain(forks: &Forks, finality: SharedFinality<H256>) -> H256 {
	let select_chain = CheckpointSelectChain::new(
		Longest(forks.chain.clone()),
		forks.chain.clone(),
		finality,
		INTERVAL,
	);
	futures::executor::block_on(select_chain.best_chain()).unwrap().hash()
}

#[test]
fn best_chain_keeps_to_the_justified_checkpoint() {
	let forks = forks();
	assert_eq!(forks.chain.info().best_hash, forks.a[5].hash(), "a5 is the longest chain");

	let nothing_justified = Arc::new(Mutex::new(finality(&keys(1))));
	assert_eq!(best_chain(&forks, nothing_justified), forks.a[5].hash());

	let on_a = justified(Checkpoint::new(1, forks.a[2].hash()));
	assert_eq!(best_chain(&forks, on_a), forks.a[5].hash());

	let on_b = justified(Checkpoint::new(1, forks.b2.hash()));
	assert_eq!(best_chain(&forks, on_b), forks.b3.hash(), "the shorter fork holds it");

	let not_imported = justified(Checkpoint::new(1, H256::repeat_byte(7)));
	assert_eq!(best_chain(&forks, not_imported), forks.a[5].hash(), "nothing to keep to yet");
}

#[test]
fn ancestor_at_walks_back_along_the_given_fork() {
	let Forks { chain, genesis, a, b2, b3 } = forks();
	let at = |head: &Header, number| ancestor_at::<Block, _>(&*chain, head.hash(), number);
	assert_eq!(at(&b3, 2), Some(b2.hash()));
	assert_eq!(at(&a[5], 2), Some(a[2].hash()));
	assert_eq!(at(&b3, 3), Some(b3.hash()), "the head itself");
	assert_eq!(at(&b3, 0), Some(genesis.hash()));
	assert_eq!(at(&b3, 4), None, "above the head");
	assert_eq!(ancestor_at::<Block, _>(&*chain, H256::repeat_byte(7), 1), None, "unknown head");
}
