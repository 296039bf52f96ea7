//! Shared test fixtures: validator keys, signed votes, a block tree with the link an honest
//! validator votes for on it, and an in-memory `CheckpointStorage` that keeps what a real
//! store makes durable (so a "crash" drops only the write-behind buffer).

#![allow(dead_code)]

use parking_lot::Mutex;
use sc_finality_checkpoint::{
	authorities::PendingSignals,
	planner::{plan, Plan, SourceWait, VotingView},
	CheckpointFinality, CheckpointPersistenceConfig, CheckpointStorage, EnactedSet, Error,
	FinalityConfig, OwnVoteGuard, PruneOutcome, Result, StoredState, VoterSet,
};
use sp_core::{ed25519, Pair, H256};
use sp_finality_checkpoint::{
	signing_payload, AuthorityId, Checkpoint, CheckpointCertificate, CheckpointSignature, Epoch,
	Link, ValidatorIndex,
};
use std::{
	collections::BTreeMap,
	sync::atomic::{AtomicBool, Ordering},
	time::{Duration, Instant},
};

/// The genesis hash of the test chain.
pub const GENESIS: H256 = H256::repeat_byte(0xaa);

/// Most validators in a case of the property tests.
pub const MAX_N: usize = 7;

/// The keys of validators `0..MAX_N`, made once; `keys(n)` is a prefix of them.
pub fn all_keys() -> &'static [ed25519::Pair] {
	static KEYS: std::sync::OnceLock<Vec<ed25519::Pair>> = std::sync::OnceLock::new();
	KEYS.get_or_init(|| keys(MAX_N))
}

/// A property test's failure with `message`.
pub fn fail(message: impl Into<String>) -> proptest::test_runner::TestCaseError {
	proptest::test_runner::TestCaseError::fail(message.into())
}

/// No two of one validator's votes `own` are slashable (E1 or E2).
pub fn check_own_votes(own: &[Link<H256>]) -> std::result::Result<(), String> {
	for (i, a) in own.iter().enumerate() {
		if let Some(b) = own[i + 1..].iter().find(|b| sc_finality_checkpoint::votes_conflict(a, b))
		{
			return Err(format!("own votes {a:?} and {b:?} break E1/E2"));
		}
	}
	Ok(())
}

/// `n` deterministic validator key pairs, distinct for any `n` (the first 255 are seeded
/// `[i + 1; 32]`, as they always were).
pub fn keys(n: usize) -> Vec<ed25519::Pair> {
	(0..n)
		.map(|i| {
			let seed = match u8::try_from(i + 1) {
				Ok(byte) => [byte; 32],
				Err(_) => {
					let mut seed = [0xff; 32];
					seed[..8].copy_from_slice(&(i as u64).to_be_bytes());
					seed
				}
			};
			ed25519::Pair::from_seed(&seed)
		})
		.collect()
}

/// The voter set of `keys` with id `set_id`.
pub fn voter_set(keys: &[ed25519::Pair], set_id: u64) -> VoterSet {
	VoterSet::new(set_id, keys.iter().map(|k| AuthorityId::from(k.public())).collect()).unwrap()
}

/// Persistence as the database tests run it: on, a retention of five checkpoints.
pub fn persistence_config() -> CheckpointPersistenceConfig {
	CheckpointPersistenceConfig {
		enabled: true,
		retention_checkpoints: 5,
		flush_interval_secs: 10,
		prune_interval_secs: 300,
	}
}

/// A state machine of the test chain for `keys`, set 0, default window.
pub fn finality(keys: &[ed25519::Pair]) -> CheckpointFinality<H256> {
	CheckpointFinality::new(GENESIS, voter_set(keys, 0), FinalityConfig::default())
}

/// A state machine of `keys` (set 0) on `storage`, restored from it: a node's start, or its
/// restart after a crash that lost the write-behind buffer.
pub fn in_memory(
	keys: &[ed25519::Pair],
	storage: std::sync::Arc<MemoryStorage>,
) -> CheckpointFinality<H256> {
	let mut finality = finality(keys);
	finality.set_storage(storage, CheckpointPersistenceConfig::default());
	finality.restore_from_storage().expect("restore from memory storage");
	finality
}

/// A state machine of `keys` (set 0) on the kvdb-rocksdb database at `path`, with the
/// database tests' persistence, restored from it.
pub fn open(path: &std::path::Path, keys: &[ed25519::Pair]) -> CheckpointFinality<H256> {
	let db = std::sync::Arc::new(sc_finality_checkpoint::CheckpointDB::new(path).unwrap());
	let adapter = sc_finality_checkpoint::CheckpointStorageAdapter::new(db);
	let mut finality = finality(keys);
	finality.set_storage(std::sync::Arc::new(adapter), persistence_config());
	finality.restore_from_storage().unwrap();
	finality
}

/// The hash of checkpoint `number` on fork `fork` (fork 0 is the main chain).
pub fn hash(fork: u8, number: u64) -> H256 {
	let mut bytes = [fork; 32];
	bytes[24..].copy_from_slice(&number.to_be_bytes());
	if number == 0 {
		return GENESIS;
	}
	H256(bytes)
}

/// Checkpoint `number` on fork `fork`.
pub fn cp(fork: u8, number: u64) -> Checkpoint<H256> {
	Checkpoint::new(number, hash(fork, number))
}

/// The link `source -> target` of set 0.
pub fn link(source: Checkpoint<H256>, target: Checkpoint<H256>) -> Link<H256> {
	Link { set_id: 0, source, target }
}

/// `key`'s vote (as validator `index`) for `link` on the test chain.
pub fn vote(
	key: &ed25519::Pair,
	index: ValidatorIndex,
	link: Link<H256>,
) -> CheckpointSignature<H256> {
	let signature = key.sign(&signing_payload(&GENESIS, &link));
	CheckpointSignature { link, validator_index: index, signature: signature.into() }
}

/// Votes of validators `0..count` for `link`.
pub fn votes(
	keys: &[ed25519::Pair],
	count: usize,
	link: Link<H256>,
) -> Vec<CheckpointSignature<H256>> {
	keys.iter().take(count).enumerate().map(|(i, k)| vote(k, i as u32, link)).collect()
}

// ---------------------------------------------------------------------------------------------
// The block tree.

/// A block tree as Aura grows it, at interval 1 (epoch `e` names the block at height `e / 2`).
/// Block 0 is genesis; every other block has a parent one lower.
#[derive(Debug, Default)]
pub struct Blocks {
	/// Each block's parent (genesis its own).
	pub parent: Vec<usize>,
	/// Each block's height.
	pub height: Vec<u64>,
}

impl Blocks {
	pub fn new() -> Self {
		Self { parent: vec![0], height: vec![0] }
	}

	pub fn hash(block: usize) -> H256 {
		if block == 0 {
			GENESIS
		} else {
			H256::from_low_u64_be(block as u64)
		}
	}

	pub fn block(hash: &H256) -> usize {
		if *hash == GENESIS {
			0
		} else {
			hash.to_low_u64_be() as usize
		}
	}

	/// A new block on `parent`.
	pub fn author(&mut self, parent: usize) -> usize {
		self.parent.push(parent);
		self.height.push(self.height[parent] + 1);
		self.parent.len() - 1
	}

	/// `block`'s ancestor (or itself) at `height`.
	pub fn at_height(&self, mut block: usize, height: u64) -> usize {
		while self.height[block] > height {
			block = self.parent[block];
		}
		block
	}

	/// Whether `a` is `b` or an ancestor of `b`.
	pub fn is_ancestor(&self, a: usize, b: usize) -> bool {
		self.height[a] <= self.height[b] && self.at_height(b, self.height[a]) == a
	}

	/// Epoch `epoch` of `block` (its round one or round two, whichever `epoch` is).
	pub fn checkpoint(&self, epoch: Epoch, block: usize) -> Checkpoint<H256> {
		assert_eq!(epoch.0 / 2, self.height[block], "epoch {epoch} is not of block {block}");
		Checkpoint::new(epoch.0, Self::hash(block))
	}

	/// The highest block that holds `base` (ties: the first authored), the fork choice of a
	/// node whose highest justified block is `base`.
	pub fn best(&self, base: usize) -> usize {
		(0..self.parent.len())
			.filter(|b| self.is_ancestor(base, *b))
			.max_by_key(|b| (self.height[*b], std::cmp::Reverse(*b)))
			.expect("base holds itself")
	}
}

/// The link an honest validator votes for now, as the worker's `try_vote` picks it: the
/// planner's epoch for a best block `best` ([`plan`]), with `wait` the bounded wait for its
/// source ([`SourceWait`], at the given time; without it the wait is over), round one's block
/// the ancestor of `best` at the epoch's height, round two's the justified block, and the
/// source that `own_vote_link` picks. `None` to abstain; `Err` names a link no honest node may
/// sign (a target other than the plan's, a source not below it or not justified).
pub fn honest_link(
	blocks: &Blocks,
	finality: &CheckpointFinality<H256>,
	best: usize,
	last_cast: Option<Epoch>,
	wait: Option<(&mut SourceWait, Instant)>,
) -> std::result::Result<Option<Link<H256>>, String> {
	let tip = Epoch(2 * blocks.height[best]);
	let view = VotingView::new(finality.state(), tip, last_cast);
	let Plan::Vote(epoch) = plan(&view) else { return Ok(None) };
	if let Some((wait, now)) = wait {
		if wait.ready(&view, epoch, now).is_err() {
			return Ok(None);
		}
	}
	let block = if epoch.is_round_one() {
		blocks.at_height(best, epoch.0 / 2)
	} else {
		let justified = finality.highest_justified();
		if justified.number.next() != epoch {
			return Err(format!("round two {epoch} is not of the justified block {justified:?}"));
		}
		Blocks::block(&justified.hash)
	};
	let target = blocks.checkpoint(epoch, block);
	let below = |c: &Checkpoint<H256>| blocks.is_ancestor(Blocks::block(&c.hash), block);
	let Some(l) = finality.own_vote_link(target, below) else { return Ok(None) };
	if l.target != target {
		return Err(format!("link {l:?} for target {target:?}"));
	}
	if !below(&l.source) {
		return Err(format!("source of {l:?} is not below its target"));
	}
	if !finality.state().is_justified(&l.source) {
		return Err(format!("source of {l:?} unjustified"));
	}
	Ok(Some(l))
}

// ---------------------------------------------------------------------------------------------
// Storage.

#[derive(Default)]
struct Durable {
	finalized: Option<Checkpoint<H256>>,
	justified: Option<Checkpoint<H256>>,
	guard: Option<OwnVoteGuard>,
	votes: BTreeMap<(Epoch, ValidatorIndex, Vec<u8>), CheckpointSignature<H256>>,
	certificates: BTreeMap<Epoch, CheckpointCertificate<H256>>,
	authority_sets: Vec<EnactedSet<H256>>,
	signals: PendingSignals<H256>,
	evidence: Vec<(CheckpointSignature<H256>, CheckpointSignature<H256>)>,
}

/// A store in memory, for the pure property tests: no disk, same durability contract.
#[derive(Default)]
pub struct MemoryStorage {
	state: Mutex<Durable>,
	fail_writes: AtomicBool,
	/// How long an own-vote write takes (the guard's fsyncs on a slow disk).
	own_vote_delay: Mutex<Duration>,
	/// An own-vote write is under way.
	writing_own_vote: AtomicBool,
	/// Other validators' votes are not kept (see [`Self::forgetting_votes`]).
	forget_votes: AtomicBool,
}

impl MemoryStorage {
	/// A store that keeps everything but other validators' votes (the flushed write-behind
	/// buffer): a thousand simulated nodes would otherwise hold every vote of the run. Fine
	/// for nodes that never restart.
	pub fn forgetting_votes() -> Self {
		let storage = Self::default();
		storage.forget_votes.store(true, Ordering::SeqCst);
		storage
	}

	/// Makes every later write fail (as a full disk would) or succeed again.
	pub fn fail_writes(&self, fail: bool) {
		self.fail_writes.store(fail, Ordering::SeqCst);
	}

	/// Makes every later own-vote write take `delay`, as an fsync on a slow disk.
	pub fn slow_own_votes(&self, delay: Duration) {
		*self.own_vote_delay.lock() = delay;
	}

	/// Whether an own-vote write is under way.
	pub fn writing_own_vote(&self) -> bool {
		self.writing_own_vote.load(Ordering::SeqCst)
	}

	fn check_write(&self) -> Result<()> {
		if self.fail_writes.load(Ordering::SeqCst) {
			return Err(Error::Write {
				path: "memory".into(),
				source: std::io::Error::new(std::io::ErrorKind::StorageFull, "disk full"),
			});
		}
		Ok(())
	}

	/// Evidence pairs stored.
	pub fn evidence(&self) -> usize {
		self.state.lock().evidence.len()
	}

	/// The evidence pairs stored, in the order they were.
	pub fn evidence_pairs(&self) -> Vec<(CheckpointSignature<H256>, CheckpointSignature<H256>)> {
		self.state.lock().evidence.clone()
	}

	/// Votes stored.
	pub fn stored_votes(&self) -> usize {
		self.state.lock().votes.len()
	}

	/// Certificates stored.
	pub fn certificates(&self) -> Vec<CheckpointCertificate<H256>> {
		self.state.lock().certificates.values().cloned().collect()
	}
}

impl CheckpointStorage<H256> for MemoryStorage {
	fn load(&self, _genesis: &H256, window: u64) -> Result<StoredState<H256>> {
		let state = self.state.lock();
		let base = state.finalized.map_or(0, |f| f.number.0);
		Ok(StoredState {
			authority_sets: state.authority_sets.clone(),
			signals: state.signals.clone(),
			finalized: state.finalized,
			justified: state.justified,
			own_vote_guard: state.guard,
			votes: state
				.votes
				.iter()
				.filter(|((t, _, _), _)| t.0 > base && t.0 <= base + window)
				.map(|(_, v)| v.clone())
				.collect(),
		})
	}

	fn store_votes(&self, votes: &[CheckpointSignature<H256>]) -> Result<()> {
		self.check_write()?;
		if !self.forget_votes.load(Ordering::SeqCst) {
			keep_votes(&mut self.state.lock(), votes);
		}
		Ok(())
	}

	fn store_own_vote(&self, vote: &CheckpointSignature<H256>, guard: &OwnVoteGuard) -> Result<()> {
		self.writing_own_vote.store(true, Ordering::SeqCst);
		std::thread::sleep(*self.own_vote_delay.lock());
		self.writing_own_vote.store(false, Ordering::SeqCst);
		self.check_write()?;
		let mut state = self.state.lock();
		keep_votes(&mut state, std::slice::from_ref(vote));
		state.guard = Some(*guard);
		Ok(())
	}

	fn store_guard(&self, guard: &OwnVoteGuard) -> Result<()> {
		self.check_write()?;
		self.state.lock().guard = Some(*guard);
		Ok(())
	}

	fn store_certificate(
		&self,
		certificate: &CheckpointCertificate<H256>,
		justified: &Checkpoint<H256>,
		sets: Option<&[EnactedSet<H256>]>,
	) -> Result<()> {
		self.check_write()?;
		let mut state = self.state.lock();
		if let Some(sets) = sets {
			state.authority_sets = sets.to_vec();
			// An enactment sets the justified watermark, even lower.
			state.justified = None;
		}
		let finalized = certificate.link.source;
		assert!(state.finalized.is_none_or(|f| f.number < finalized.number), "finality regressed");
		state.certificates.insert(finalized.number, certificate.clone());
		state.finalized = Some(finalized);
		if state.justified.is_none_or(|j| j.number < justified.number) {
			state.justified = Some(*justified);
		}
		Ok(())
	}

	fn store_justified(&self, justified: &Checkpoint<H256>) -> Result<()> {
		self.check_write()?;
		let mut state = self.state.lock();
		if state.justified.is_none_or(|j| j.number < justified.number) {
			state.justified = Some(*justified);
		}
		Ok(())
	}

	fn store_evidence(
		&self,
		first: &CheckpointSignature<H256>,
		second: &CheckpointSignature<H256>,
	) -> Result<()> {
		self.check_write()?;
		self.state.lock().evidence.push((first.clone(), second.clone()));
		Ok(())
	}

	fn certificate(&self, number: Epoch) -> Result<Option<CheckpointCertificate<H256>>> {
		Ok(self.state.lock().certificates.get(&number).cloned())
	}

	fn store_sets(&self, sets: &[EnactedSet<H256>]) -> Result<()> {
		self.check_write()?;
		self.state.lock().authority_sets = sets.to_vec();
		Ok(())
	}

	fn store_signals(&self, signals: &PendingSignals<H256>) -> Result<()> {
		self.check_write()?;
		self.state.lock().signals = signals.clone();
		Ok(())
	}

	fn set_changes(&self) -> Result<Vec<Epoch>> {
		let state = self.state.lock();
		Ok(state.authority_sets.iter().filter_map(|s| s.enacted_by.map(|c| c.number)).collect())
	}

	fn prune(&self, _keep: u64) -> Result<PruneOutcome> {
		Ok(PruneOutcome::default())
	}
}

/// Adds `votes` to what the store keeps.
fn keep_votes(state: &mut Durable, votes: &[CheckpointSignature<H256>]) {
	for v in votes {
		let key = (v.link.target.number, v.validator_index, codec::Encode::encode(v));
		state.votes.insert(key, v.clone());
	}
}

/// splitmix64: moves `seed` on and returns the next reproducible pseudo-random number.
pub fn splitmix64(seed: &mut u64) -> u64 {
	*seed = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
	let mut z = *seed;
	z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
	z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
	z ^ (z >> 31)
}

/// Fisher-Yates with [`splitmix64`]: a reproducible order from a generated seed.
pub fn shuffle<T>(items: &mut [T], seed: &mut u64) {
	for i in (1..items.len()).rev() {
		let z = splitmix64(seed);
		items.swap(i, (z % (i as u64 + 1)) as usize);
	}
}

/// Says why a check cannot run here, so that it is seen: on stderr, and as a line of the file
/// `$CHECKPOINT_SKIPS` names (`scripts/test.sh` prints it at the end of the run). On CI
/// (`CI=true`: root on Debian, with `strace` and `mount` installed by `scripts/setup.sh`) every
/// check can run, so a skip there fails the test.
pub fn skip(reason: &str) {
	eprintln!("SKIPPED: {reason}");
	if let Ok(path) = std::env::var("CHECKPOINT_SKIPS") {
		use std::io::Write;
		let line = format!("{}: {reason}\n", std::thread::current().name().unwrap_or("?"));
		let file = std::fs::OpenOptions::new().create(true).append(true).open(path);
		let _ = file.and_then(|mut f| f.write_all(line.as_bytes()));
	}
	assert!(
		std::env::var("CI").as_deref() != Ok("true"),
		"skipped on CI, whose machine can run this check: {reason}"
	);
}
