//! The fork choice over a real in-memory blockchain (`sc_client_api::in_mem`): a shorter fork
//! that holds the highest justified checkpoint wins over a longer one that does not. And the
//! readers of the state machine (fork choice and RPC `checkpoint_status`) answer at once while
//! the voter persists an own vote on a disk whose fsync takes 500 ms.

mod common;

use common::*;
use sc_client_api::{backend::NewBlockState, blockchain::Backend as _, in_mem::Blockchain};
use sc_finality_checkpoint::{
	CheckpointFinality, CheckpointPersistenceConfig, CheckpointSelectChain, SharedFinality,
};
use sc_finality_checkpoint_rpc::checkpoint_status;
use sp_blockchain::HeaderBackend;
use sp_consensus::{Error as ConsensusError, SelectChain};
use sp_core::H256;
use sp_finality_checkpoint::Checkpoint;
use sp_runtime::{
	generic,
	traits::{BlakeTwo256, Header as HeaderT},
	OpaqueExtrinsic,
};
use std::{
	sync::Arc,
	time::{Duration, Instant},
};

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
	Forks { chain, a, b2, b3 }
}

/// Makes `checkpoint` (number 1) justified in a one-validator state machine.
fn justify(finality: &mut CheckpointFinality<H256>, checkpoint: Checkpoint<H256>) {
	let key = &keys(1)[0];
	finality.add_checkpoint_signature(vote(key, 0, link(cp(0, 0), checkpoint))).unwrap();
	assert_eq!(finality.highest_justified(), checkpoint);
}

/// A one-validator state machine in which `checkpoint` (number 1) is justified.
fn justified(checkpoint: Checkpoint<H256>) -> SharedFinality<H256> {
	let mut finality = finality(&keys(1));
	justify(&mut finality, checkpoint);
	SharedFinality::new(finality)
}

fn select_chain(
	forks: &Forks,
	finality: SharedFinality<H256>,
) -> CheckpointSelectChain<Block, Blockchain<Block>, Longest> {
	CheckpointSelectChain::new(
		Longest(forks.chain.clone()),
		forks.chain.clone(),
		finality,
		INTERVAL,
	)
}

fn best_chain(forks: &Forks, finality: SharedFinality<H256>) -> H256 {
	futures::executor::block_on(select_chain(forks, finality).best_chain()).unwrap().hash()
}

#[test]
fn best_chain_keeps_to_the_justified_checkpoint() {
	let forks = forks();
	assert_eq!(forks.chain.info().best_hash, forks.a[5].hash(), "a5 is the longest chain");

	let nothing_justified = SharedFinality::new(finality(&keys(1)));
	assert_eq!(best_chain(&forks, nothing_justified), forks.a[5].hash());

	let on_a = justified(Checkpoint::new(1, forks.a[2].hash()));
	assert_eq!(best_chain(&forks, on_a), forks.a[5].hash());

	let on_b = justified(Checkpoint::new(1, forks.b2.hash()));
	assert_eq!(best_chain(&forks, on_b), forks.b3.hash(), "the shorter fork holds it");

	let not_imported = justified(Checkpoint::new(1, H256::repeat_byte(7)));
	assert_eq!(best_chain(&forks, not_imported), forks.a[5].hash(), "nothing to keep to yet");
}

/// The own-vote write of the slow disk: the guard's fsyncs take this long.
const SLOW_FSYNC: Duration = Duration::from_millis(500);

#[test]
fn readers_answer_at_once_while_an_own_vote_is_fsynced() {
	let forks = forks();
	let keys = keys(1);
	let disk = Arc::new(MemoryStorage::default());
	disk.slow_own_votes(SLOW_FSYNC);
	let mut finality = finality(&keys);
	finality.set_storage(disk.clone(), CheckpointPersistenceConfig::default());
	finality.restore_from_storage().unwrap();
	// Justified on the shorter fork, so the fork choice walks the chain to answer.
	let on_b = Checkpoint::new(1, forks.b2.hash());
	justify(&mut finality, on_b);
	let shared = SharedFinality::new(finality);
	let select_chain = select_chain(&forks, shared.clone());

	let voter = {
		let shared = shared.clone();
		let own = vote(&keys[0], 0, link(on_b, Checkpoint::new(2, H256::repeat_byte(2))));
		std::thread::spawn(move || shared.record_own_vote(own))
	};
	let deadline = Instant::now() + Duration::from_secs(10);
	while !disk.writing_own_vote() {
		assert!(Instant::now() < deadline, "the own vote never reached the disk");
		std::thread::yield_now();
	}

	let mut took = Vec::new();
	for _ in 0..5 {
		let start = Instant::now();
		let best = futures::executor::block_on(select_chain.best_chain()).unwrap();
		let status = checkpoint_status(&shared);
		took.push(start.elapsed());
		assert_eq!(best.hash(), forks.b3.hash());
		assert_eq!(status.justified.number, 1);
	}
	assert!(disk.writing_own_vote(), "measured after the write ended: {took:?}");
	took.sort();
	eprintln!("best_chain + checkpoint_status during a {SLOW_FSYNC:?} own-vote write: {took:?}");
	// Waiting for the voter would take the whole fsync; the median must be well under 5 ms.
	assert!(took[2] < Duration::from_millis(5), "readers waited for the disk: {took:?}");
	assert!(took[4] < SLOW_FSYNC / 5, "readers waited for the disk: {took:?}");

	voter.join().unwrap().unwrap();
	assert_eq!(checkpoint_status(&shared).own_vote_target, 2, "the view shows the vote once cast");
}
