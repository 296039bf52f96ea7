//! The fork choice over a real in-memory blockchain (`sc_client_api::in_mem`): a shorter fork
//! that holds the highest justified checkpoint wins over a longer one that does not. And the
//! seam between the state's owner and everything else: while the owner persists an own vote on
//! a disk whose fsync takes seconds, block import, gossip validation, RPC `checkpoint_status`
//! and fork choice each answer at once, from the published view.

mod common;

use codec::Encode;
use common::*;
use sc_client_api::{
	backend::NewBlockState,
	blockchain::Backend as _,
	in_mem::{Backend as MemoryBackend, Blockchain},
	ClientImportOperation, Finalizer,
};
use sc_consensus::{BlockCheckParams, BlockImport, BlockImportParams, ImportResult};
use sc_finality_checkpoint::{
	communication::{gossip::GossipValidator, GossipMessage},
	CheckpointBlockImport, CheckpointFinality, CheckpointLink, CheckpointPersistenceConfig,
	CheckpointSelectChain, FinalityHandle,
};
use sc_finality_checkpoint_rpc::checkpoint_status;
use sp_blockchain::{CachedHeaderMetadata, HeaderBackend, HeaderMetadata};
use sp_consensus::{BlockOrigin, Error as ConsensusError, SelectChain};
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
fn justified(checkpoint: Checkpoint<H256>) -> FinalityHandle<H256> {
	let mut finality = finality(&keys(1));
	justify(&mut finality, checkpoint);
	CheckpointLink::new(finality).handle()
}

fn select_chain(
	forks: &Forks,
	finality: FinalityHandle<H256>,
) -> CheckpointSelectChain<Block, Blockchain<Block>, Longest> {
	CheckpointSelectChain::new(
		Longest(forks.chain.clone()),
		forks.chain.clone(),
		finality,
		INTERVAL,
	)
}

fn best_chain(forks: &Forks, finality: FinalityHandle<H256>) -> H256 {
	futures::executor::block_on(select_chain(forks, finality).best_chain()).unwrap().hash()
}

#[test]
fn best_chain_keeps_to_the_justified_checkpoint() {
	let forks = forks();
	assert_eq!(forks.chain.info().best_hash, forks.a[5].hash(), "a5 is the longest chain");

	let nothing_justified = CheckpointLink::new(finality(&keys(1))).handle();
	assert_eq!(best_chain(&forks, nothing_justified), forks.a[5].hash());

	let on_a = justified(Checkpoint::new(1, forks.a[2].hash()));
	assert_eq!(best_chain(&forks, on_a), forks.a[5].hash());

	let on_b = justified(Checkpoint::new(1, forks.b2.hash()));
	assert_eq!(best_chain(&forks, on_b), forks.b3.hash(), "the shorter fork holds it");

	let not_imported = justified(Checkpoint::new(1, H256::repeat_byte(7)));
	assert_eq!(best_chain(&forks, not_imported), forks.a[5].hash(), "nothing to keep to yet");
}

/// The in-memory chain as block import's client. Block import finalizes only blocks that
/// come with a justification, which none here does.
struct Client(Arc<Blockchain<Block>>);

impl HeaderBackend<Block> for Client {
	fn header(&self, hash: H256) -> sp_blockchain::Result<Option<Header>> {
		self.0.header(hash)
	}
	fn info(&self) -> sp_blockchain::Info<Block> {
		self.0.info()
	}
	fn status(&self, hash: H256) -> sp_blockchain::Result<sp_blockchain::BlockStatus> {
		self.0.status(hash)
	}
	fn number(&self, hash: H256) -> sp_blockchain::Result<Option<u64>> {
		self.0.number(hash)
	}
	fn hash(&self, number: u64) -> sp_blockchain::Result<Option<H256>> {
		self.0.hash(number)
	}
}

impl HeaderMetadata<Block> for Client {
	type Error = sp_blockchain::Error;
	fn header_metadata(&self, hash: H256) -> sp_blockchain::Result<CachedHeaderMetadata<Block>> {
		self.0.header_metadata(hash)
	}
	fn insert_header_metadata(&self, hash: H256, metadata: CachedHeaderMetadata<Block>) {
		self.0.insert_header_metadata(hash, metadata)
	}
	fn remove_header_metadata(&self, hash: H256) {
		self.0.remove_header_metadata(hash)
	}
}

impl Finalizer<Block, MemoryBackend<Block>> for Client {
	fn apply_finality(
		&self,
		_: &mut ClientImportOperation<Block, MemoryBackend<Block>>,
		_: H256,
		_: Option<sp_runtime::Justification>,
		_: bool,
	) -> sp_blockchain::Result<()> {
		unreachable!("no block here comes with a justification")
	}
	fn finalize_block(
		&self,
		_: H256,
		_: Option<sp_runtime::Justification>,
		_: bool,
	) -> sp_blockchain::Result<()> {
		unreachable!("no block here comes with a justification")
	}
}

/// The client's own import: the block goes into the in-memory chain.
struct Import(Arc<Blockchain<Block>>);

#[async_trait::async_trait]
impl BlockImport<Block> for Import {
	type Error = ConsensusError;

	async fn check_block(&self, _: BlockCheckParams<Block>) -> Result<ImportResult, Self::Error> {
		Ok(ImportResult::imported(false))
	}

	async fn import_block(
		&self,
		block: BlockImportParams<Block>,
	) -> Result<ImportResult, Self::Error> {
		let header = block.header;
		self.0
			.insert(header.hash(), header, None, None, NewBlockState::Normal, true)
			.map_err(|e| ConsensusError::ClientImport(e.to_string()))?;
		Ok(ImportResult::imported(false))
	}
}

/// The own-vote write of the slow disk: the guard's fsyncs take this long.
const SLOW_FSYNC: Duration = Duration::from_secs(3);

#[test]
fn block_import_gossip_rpc_and_fork_choice_answer_at_once_while_an_own_vote_is_fsynced() {
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
	let mut owned = CheckpointLink::new(finality);
	let handle = owned.handle();
	let select_chain = select_chain(&forks, handle.clone());
	let (validator, _reports) = GossipValidator::<Block>::new(handle.clone());
	let block_import = CheckpointBlockImport::<Block, MemoryBackend<Block>, _, _>::new(
		Import(forks.chain.clone()),
		Arc::new(Client(forks.chain.clone())),
		handle.clone(),
		INTERVAL,
	);

	// The owner of the state (the worker, on its blocking thread) casts an own vote.
	let owner = {
		let own = vote(&keys[0], 0, link(on_b, Checkpoint::new(2, H256::repeat_byte(2))));
		std::thread::spawn(move || owned.finality_mut().record_own_vote(own).map(|_| ()))
	};
	let deadline = Instant::now() + Duration::from_secs(10);
	while !disk.writing_own_vote() {
		assert!(Instant::now() < deadline, "the own vote never reached the disk");
		std::thread::yield_now();
	}

	let mut took = Vec::new();
	let mut parent = forks.b3.clone();
	for round in 0..5u64 {
		let start = Instant::now();
		// Block import of a block that signals nothing and comes without a justification.
		let child = Header::new(
			parent.number + 1,
			H256::repeat_byte(0xc),
			H256::zero(),
			parent.hash(),
			Default::default(),
		);
		let block = BlockImportParams::new(BlockOrigin::NetworkBroadcast, child.clone());
		let imported = futures::executor::block_on(block_import.import_block(block));
		// Gossip validation of a fresh vote, read against the published view.
		let fresh = link_to(on_b, 3 + round);
		let checked = validator.check(&GossipMessage::Vote(vote(&keys[0], 0, fresh)).encode());
		let best = futures::executor::block_on(select_chain.best_chain()).unwrap();
		let status = checkpoint_status(&handle, INTERVAL);
		took.push(start.elapsed());
		assert!(matches!(imported, Ok(ImportResult::Imported(_))), "{imported:?}");
		assert_eq!(checked, Ok(true));
		assert_eq!(best.hash(), child.hash(), "the fork of the justified checkpoint grows");
		assert_eq!(status.justified.epoch, 1);
		parent = child;
	}
	assert!(disk.writing_own_vote(), "measured after the write ended: {took:?}");
	took.sort();
	eprintln!(
		"block import + gossip validation + best_chain + checkpoint_status during a \
		 {SLOW_FSYNC:?} own-vote write: {took:?}"
	);
	// Waiting for the owner would take the whole fsync; the median must be well under 5 ms.
	assert!(took[2] < Duration::from_millis(5), "readers waited for the disk: {took:?}");
	assert!(took[4] < SLOW_FSYNC / 5, "readers waited for the disk: {took:?}");

	owner.join().unwrap().unwrap();
	let own = checkpoint_status(&handle, INTERVAL).own_vote_target.map(|target| target.epoch);
	assert_eq!(own, Some(2), "the view shows the vote once cast");
}

/// The link from `source` to checkpoint `target` of a block no fork here has.
fn link_to(source: Checkpoint<H256>, target: u64) -> sp_finality_checkpoint::Link<H256> {
	link(source, Checkpoint::new(target, H256::repeat_byte(target as u8)))
}
