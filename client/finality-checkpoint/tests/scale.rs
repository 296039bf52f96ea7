//! A scale simulation (issue 19): `N` validators in one process over a simulated network, in
//! virtual time, with the gadget's own state machine, planner, gossip messages and validator,
//! and ed25519 signatures.
//!
//! **What is real.** Each honest validator is a [`CheckpointFinality`] (in a
//! [`CheckpointLink`], on a [`MemoryStorage`], with the ancestry of the blocks it imported, so
//! it finalizes only imported blocks) driven as the worker drives it: on a block import it
//! retries a certificate that waited for its block and votes; on an accepted vote it takes it
//! with `add_verified_vote` and votes again when that moved something or a vote waits for its
//! source; on a certificate, `import_certificate`; every 6 s (the worker's tick) and when the
//! source wait's timer fires, it votes. A vote is what [`honest_link`] says (the planner's
//! [`Gates`], `plan`, [`SourceWait`] and `own_vote_link`, shared with `two_rounds.rs`), signed
//! with the validator's key and made durable by `record_own_vote` before it is sent. Like
//! the worker, a node casts at most one vote per event, and gossips the certificate of each
//! finality step. The fork choice is `CheckpointSelectChain`'s rule on each node's imported
//! blocks: the longest chain (the first imported wins a tie), unless it lacks the highest
//! justified checkpoint. Every message is a SCALE-encoded [`GossipMessage`]: the bytes are what
//! travels and what is counted.
//!
//! **The gossip validator.** Up to [`FULL_CHECK_MAX_N`] validators, every receiver runs the
//! real [`GossipValidator::check`] on the bytes (on its own published view) and only what it
//! lets through reaches the state machine, as in the gossip engine. Above that, each message
//! is decoded and its signatures verified once for all receivers, and each receiver makes the
//! validator's other checks with the same public functions (`FinalityView::check_vote`, the
//! finality check of a certificate), its pool refusing known votes and third variants as the
//! validator's record does; a certificate is then taken with `import_verified_certificate`.
//! Every receiver would run the same deterministic signature check, and `N²` of them per round
//! would not run in minutes at `N = 1000`. The small runs make both decisions for every
//! delivery and fail if they differ.
//!
//! **The network.** A full mesh: each message goes from its author over every link once, as
//! the gossip engine sends a new message to every peer; the engine's relay of messages
//! received from others is not simulated. Each directed link has a delay drawn from the seed
//! (20 to 180 ms) plus up to 20 ms of jitter per message, and drops each message with the
//! scenario's probability. A dropped message comes back only by the resend the validator
//! allows while finality stalls ([`RESEND_PERIOD`], checked at each gossip pass of 1.1 s):
//! a node sends its own votes above finality and its latest certificate again (the engine
//! would send every message it keeps). Blocks are authored by Aura, one a 3 s slot, round
//! robin, on the author's best block; they reach every node after a link delay and are never
//! lost (sync fetches them). A partition splits the validators into two halves, neither with
//! a supermajority, for a stretch of slots: messages across it are lost, blocks arrive when
//! it heals. Justification requests after a stall are not simulated.
//!
//! **Equivocators.** In an equivocator's slot the equivocators author two blocks on one parent
//! (an Aura fork), the first to one half of the honest validators and the second to the other
//! half, each [`TWIN_LAG_MS`] late to the half that gets the other first. They sign each link
//! an honest validator casts to one of those blocks and the same link moved to its twin: two
//! votes for one target, E1. Their vote for a twin reaches the other half of the honest
//! validators late too (honest relays would bring it within a link delay or two; sending it
//! never would take the evidence away, and with it accountability). In [`Kind::Worst`] they
//! also sign every other link the honest validators cast, so that finality goes on.
//!
//! **Scenarios**, per `N`: [`Kind::Calm`] (no faults: every block is final two vote rounds
//! after its import); [`Kind::Faulty`] (`(N - 1) / 3` equivocators, the most that `3f < N`
//! allows, who sign nothing else, so that the honest validators must make finality on their
//! own, 5 % of messages lost and a partition that heals: all finalized blocks lie on one
//! chain, and every honest node finalizes new blocks within [`RESUME_BOUND_MS`] of the heal);
//! [`Kind::Worst`] (one equivocator more, doing their worst: if two conflicting blocks are
//! finalized, the evidence the honest nodes stored names at least a third of the set).
//!
//! Measured: for each block authored from slot [`MEASURE_FROM_SLOT`] on (after the validators'
//! first listening and catch-up), the virtual time from its authoring to its finality on each
//! honest node, in ms and in mean link delays; gossip bytes (encoded length times receivers,
//! all `N - 1`) per finalized block. Deterministic for a seed.

mod common;

use codec::{DecodeAll, Encode};
use common::*;
use parking_lot::RwLock;
use rand::{rngs::StdRng, Rng, SeedableRng};
use sc_finality_checkpoint::{
	communication::{
		gossip::{cost, GossipValidator, RESEND_PERIOD},
		GossipMessage,
	},
	planner::{Gates, SourceWait},
	votes_conflict, ChainAncestry, CheckpointFinality, CheckpointLink, FinalityHandle,
	FinalityView, Progress, VoteRejection,
};
use sp_core::{ed25519, Pair, H256};
use sp_finality_checkpoint::{AuthorityId, Checkpoint, Epoch, Link, ValidatorIndex};
use sp_runtime::{generic, traits::BlakeTwo256, OpaqueExtrinsic};
use std::{
	cell::OnceCell,
	cmp::{Ordering, Reverse},
	collections::{BinaryHeap, HashMap, HashSet},
	rc::Rc,
	sync::Arc,
	time::{Duration, Instant},
};

type Block = generic::Block<generic::Header<u64, BlakeTwo256>, OpaqueExtrinsic>;

/// Virtual milliseconds since the simulation started.
type Ms = u64;

/// A check of the simulation; the error says what broke.
type Check<T = ()> = Result<T, String>;

/// An Aura slot: one block each.
const SLOT_MS: Ms = 3_000;
/// The shortest and longest base delay of a link.
const MIN_DELAY_MS: Ms = 20;
const MAX_DELAY_MS: Ms = 180;
/// Each message's extra delay, at most.
const JITTER_MS: Ms = 20;
/// The slowest a message crosses a link.
const WORST_DELAY_MS: Ms = MAX_DELAY_MS + JITTER_MS;
/// The worker's tick (`TICK_PERIOD`), at which it votes whatever happened.
const TICK_MS: Ms = 6_000;
/// The gossip engine's periodic pass (sc-network-gossip's maintenance interval), at which the
/// validator may allow a resend.
const GOSSIP_PASS_MS: Ms = 1_100;
/// How much later an equivocators' fork block, and their vote for it, reaches the honest half
/// that got the other block first: long enough for that half to justify the other first.
const TWIN_LAG_MS: Ms = 2 * WORST_DELAY_MS;
/// Blocks from this slot on are measured and checked; before it, validators listen with
/// their new own-vote guards (12 s and two blocks) and catch up.
const MEASURE_FROM_SLOT: u64 = 8;
/// Validators up to which every receiver runs the gossip validator itself.
const FULL_CHECK_MAX_N: usize = 100;
/// Messages lost in the faulty scenario.
const DROP: f64 = 0.05;
/// On a calm network a block is final on every node within this of its authoring: its
/// journey to each node and two vote rounds.
const CALM_BOUND_MS: Ms = 3 * WORST_DELAY_MS;
/// After the partition heals, every honest node finalizes a new block within this: a resend
/// period for the votes lost across it, and retries after the split votes, each waiting
/// twice as long for its source as the one before (3 s, 6 s, 12 s), a slot each.
const RESUME_BOUND_MS: Ms = 60_000;
/// Slots after the last block in which votes come to rest.
const DRAIN_SLOTS: u64 = 2;

// ---------------------------------------------------------------------------------------------
// Scenarios.

/// What goes wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
	/// Nothing.
	Calm,
	/// As many equivocators as `3f < N` allows, lost messages, a partition that heals.
	Faulty,
	/// One equivocator more than that, doing their worst.
	Worst,
}

impl Kind {
	fn name(self) -> &'static str {
		match self {
			Kind::Calm => "calm",
			Kind::Faulty => "faulty",
			Kind::Worst => "worst",
		}
	}
}

/// One run.
#[derive(Debug, Clone, Copy)]
struct Scenario {
	kind: Kind,
	n: usize,
	faulty: usize,
	drop: f64,
	/// Slots from which and until which the network is partitioned.
	partition: Option<(u64, u64)>,
	/// Slots authored.
	slots: u64,
	seed: u64,
}

impl Scenario {
	/// Scenario `kind` at `n` validators. Large sets author fewer blocks, so that `N = 1000`
	/// runs in minutes.
	fn new(kind: Kind, n: usize, seed: u64) -> Self {
		assert!(n >= 4, "a partition of fewer than four has a half with a supermajority");
		let (slots, partition) = if n <= FULL_CHECK_MAX_N { (42, (10, 18)) } else { (30, (8, 10)) };
		let tolerated = (n - 1) / 3;
		let (faulty, drop, partition) = match kind {
			Kind::Calm => (0, 0.0, None),
			Kind::Faulty => (tolerated, DROP, Some(partition)),
			Kind::Worst => (tolerated + 1, 0.0, None),
		};
		Self { kind, n, faulty, drop, partition, slots, seed }
	}

	/// The partition in virtual time.
	fn partition_ms(&self) -> Option<(Ms, Ms)> {
		self.partition.map(|(from, to)| (from * SLOT_MS, to * SLOT_MS))
	}
}

/// What a run measured.
struct Outcome {
	scenario: Scenario,
	/// Blocks some honest node finalized.
	final_blocks: usize,
	/// Authoring to finality of the measured blocks, on each honest node.
	latency: Vec<Ms>,
	/// The mean delay of the gossip messages delivered.
	mean_delay: f64,
	vote_bytes: u64,
	certificate_bytes: u64,
	/// Two conflicting blocks some honest nodes finalized.
	conflict: Option<(usize, usize)>,
	/// Validators the honest nodes' evidence names.
	named: usize,
	/// The longest an honest node took to finalize a new block after the heal.
	resume: Option<Ms>,
	wall: Duration,
}

impl Outcome {
	const HEADER: &'static str =
		"     N  scenario   f  final  latency ms p50/p99/max  delays p50/p99/max  \
	                              KB/final votes+certs  conflict  named  resume ms   wall s";

	fn line(&self) -> String {
		let mut sorted = self.latency.clone();
		sorted.sort_unstable();
		let at = |q: usize| sorted.get((sorted.len().max(1) - 1) * q / 100).copied().unwrap_or(0);
		let (p50, p99, max) = (at(50), at(99), at(100));
		let d = |ms: Ms| ms as f64 / self.mean_delay.max(1.0);
		let per_block = |bytes: u64| bytes as f64 / 1024.0 / self.final_blocks.max(1) as f64;
		let s = &self.scenario;
		format!(
			"{:>6}  {:<8} {:>3}  {:>5}  {:>7}/{:>6}/{:>6}  {:>6.1}/{:>5.1}/{:>5.1}  {:>10.1}+{:<10.1}  \
			 {:>8}  {:>5}  {:>9}  {:>7.1}",
			s.n,
			s.kind.name(),
			s.faulty,
			self.final_blocks,
			p50,
			p99,
			max,
			d(p50),
			d(p99),
			d(max),
			per_block(self.vote_bytes),
			per_block(self.certificate_bytes),
			if self.conflict.is_some() { "yes" } else { "no" },
			self.named,
			self.resume.map_or("-".into(), |ms| ms.to_string()),
			self.wall.as_secs_f64(),
		)
	}
}

// ---------------------------------------------------------------------------------------------
// A node's chain.

/// The blocks one node imported, and when: the ancestry its state machine asks (which
/// finalizes only imported blocks) and its fork choice.
struct Imported {
	blocks: Arc<RwLock<Blocks>>,
	at: RwLock<Vec<Option<Ms>>>,
}

impl Imported {
	fn new(blocks: Arc<RwLock<Blocks>>) -> Self {
		Self { blocks, at: RwLock::new(vec![Some(0)]) }
	}

	fn has(&self, block: usize) -> bool {
		self.at.read().get(block).is_some_and(Option::is_some)
	}

	fn import(&self, block: usize, now: Ms) {
		let mut at = self.at.write();
		if at.len() <= block {
			at.resize(block + 1, None);
		}
		at[block] = Some(now);
	}

	/// `CheckpointSelectChain` over the longest chain: the highest block (the first imported
	/// of a height), unless it lacks the highest justified checkpoint `justified`; then the
	/// highest that holds it, if one is imported.
	fn best(&self, justified: &Checkpoint<H256>) -> usize {
		let (blocks, at) = (self.blocks.read(), self.at.read());
		let imported = || (0..at.len()).filter(|b| at[*b].is_some());
		let rank = |b: &usize| (blocks.height[*b], Reverse(at[*b]), Reverse(*b));
		let longest = imported().max_by_key(rank).unwrap_or(0);
		let base = Blocks::block(&justified.hash);
		if justified.number.0 == 0 || blocks.is_ancestor(base, longest) {
			return longest;
		}
		imported().filter(|b| blocks.is_ancestor(base, *b)).max_by_key(rank).unwrap_or(longest)
	}
}

impl ChainAncestry<H256> for Imported {
	fn is_ancestor(&self, ancestor: &H256, block: &H256) -> Option<bool> {
		let (a, b) = (Blocks::block(ancestor), Blocks::block(block));
		if !self.has(b) {
			return None;
		}
		Some(self.has(a) && self.blocks.read().is_ancestor(a, b))
	}
}

// ---------------------------------------------------------------------------------------------
// Messages and events.

/// A gossip message in flight, shared by its deliveries.
struct Msg {
	from: ValidatorIndex,
	honest: bool,
	bytes: Vec<u8>,
	/// The bytes decoded, once for all receivers.
	decoded: GossipMessage<H256>,
	/// Whether its signatures verify, checked once for all receivers when one needs it.
	verified: OnceCell<bool>,
}

/// Why a receiver refused a message; `forgery` for what only a forger sends.
#[derive(Debug)]
struct Refused {
	forgery: bool,
	reason: String,
}

enum Event {
	/// A node starts: it votes if it can (it cannot: it listens first).
	Start(usize),
	/// Aura slot: a block.
	Slot(u64),
	/// A block reaches a node.
	Import(usize, usize),
	/// A gossip message reaches a node.
	Deliver(usize, Rc<Msg>),
	/// A node's source-wait timer, set for that time.
	Timer(usize, Ms),
	/// The worker's tick.
	Tick(usize),
	/// The gossip engine's periodic pass.
	Pass(usize),
}

/// An event at a virtual time; the heap pops the earliest, then the first scheduled.
struct Pending {
	at: Ms,
	seq: u64,
	event: Event,
}

impl PartialEq for Pending {
	fn eq(&self, other: &Self) -> bool {
		(self.at, self.seq) == (other.at, other.seq)
	}
}

impl Eq for Pending {}

impl PartialOrd for Pending {
	fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
		Some(self.cmp(other))
	}
}

impl Ord for Pending {
	fn cmp(&self, other: &Self) -> Ordering {
		(other.at, other.seq).cmp(&(self.at, self.seq))
	}
}

// ---------------------------------------------------------------------------------------------
// The simulation.

/// An honest validator.
struct Node {
	index: ValidatorIndex,
	key: AuthorityId,
	link: CheckpointLink<H256>,
	handle: FinalityHandle<H256>,
	/// The real gossip validator, up to [`FULL_CHECK_MAX_N`] validators.
	validator: Option<GossipValidator<Block>>,
	storage: Arc<MemoryStorage>,
	chain: Arc<Imported>,
	/// Blocks that arrived before their parent.
	orphans: Vec<usize>,
	imports: usize,
	/// The best block, for the justified checkpoint and imports it was found for.
	best: Option<(Checkpoint<H256>, usize, usize)>,
	gates: Gates,
	wait: SourceWait,
	last_cast: Option<Epoch>,
	/// The source-wait timer set.
	timer: Option<Ms>,
	/// The half of the honest validators that gets the first block of a fork.
	side: usize,
	/// The validator's resend clock: the finality it saw, since when (or its last resend).
	resend: (Epoch, Ms),
	own: Vec<Link<H256>>,
	/// The finalized block.
	finalized: usize,
	/// When each block became final here.
	final_at: Vec<Option<Ms>>,
	/// When this node first finalized a block authored after the heal.
	resumed: Option<Ms>,
}

impl Node {
	fn finality(&self) -> &CheckpointFinality<H256> {
		self.link.finality()
	}
}

struct Sim {
	sc: Scenario,
	keys: Vec<ed25519::Pair>,
	blocks: Arc<RwLock<Blocks>>,
	/// When, and in which slot, each block was authored.
	created: Vec<(Ms, u64)>,
	/// The other block of an equivocators' fork, and which half of the honest validators got
	/// this one first.
	twin: Vec<Option<(usize, usize)>>,
	nodes: Vec<Node>,
	/// The honest node of each validator.
	node_of: Vec<Option<usize>>,
	faulty: Vec<ValidatorIndex>,
	/// Links the equivocators signed, and how many per target epoch.
	signed: HashSet<Link<H256>>,
	signed_per_target: HashMap<Epoch, usize>,
	queue: BinaryHeap<Pending>,
	seq: u64,
	now: Ms,
	base: Instant,
	rng: StdRng,
	/// The highest block authored before the partition healed.
	pre_heal_height: u64,
	/// Blocks some honest node finalized (a finality step's tip, for the one-chain check).
	finalized_tips: Vec<usize>,
	final_any: Vec<bool>,
	conflict: Option<(usize, usize)>,
	latency: Vec<Ms>,
	vote_bytes: u64,
	certificate_bytes: u64,
	delay_sum: u64,
	delays: u64,
}

impl Sim {
	fn new(sc: Scenario) -> Self {
		let keys = keys(sc.n);
		let faulty: Vec<ValidatorIndex> =
			(0..sc.faulty).map(|i| (i * sc.n / sc.faulty) as ValidatorIndex).collect();
		let blocks = Arc::new(RwLock::new(Blocks::new()));
		let honest: Vec<usize> =
			(0..sc.n).filter(|i| !faulty.contains(&(*i as ValidatorIndex))).collect();
		let mut node_of = vec![None; sc.n];
		let nodes = honest
			.iter()
			.enumerate()
			.map(|(node, &i)| {
				node_of[i] = Some(node);
				let storage = Arc::new(MemoryStorage::forgetting_votes());
				let chain = Arc::new(Imported::new(blocks.clone()));
				let mut finality = in_memory(&keys, storage.clone());
				finality.set_chain(chain.clone());
				let link = CheckpointLink::new(finality);
				let handle = link.handle();
				let validator =
					(sc.n <= FULL_CHECK_MAX_N).then(|| GossipValidator::new(handle.clone()).0);
				Node {
					index: i as ValidatorIndex,
					key: keys[i].public().into(),
					link,
					handle,
					validator,
					storage,
					chain,
					orphans: Vec::new(),
					imports: 1,
					best: None,
					gates: Gates::new(true),
					wait: SourceWait::default(),
					last_cast: None,
					timer: None,
					side: usize::from(node >= honest.len() / 2),
					resend: (Epoch(0), 0),
					own: Vec::new(),
					finalized: 0,
					final_at: vec![Some(0)],
					resumed: None,
				}
			})
			.collect();
		Self {
			sc,
			keys,
			blocks,
			created: vec![(0, 0)],
			twin: vec![None],
			nodes,
			node_of,
			faulty,
			signed: HashSet::new(),
			signed_per_target: HashMap::new(),
			queue: BinaryHeap::new(),
			seq: 0,
			now: 0,
			base: Instant::now(),
			rng: StdRng::seed_from_u64(sc.seed),
			pre_heal_height: 0,
			finalized_tips: vec![0],
			final_any: vec![true],
			conflict: None,
			latency: Vec::new(),
			vote_bytes: 0,
			certificate_bytes: 0,
			delay_sum: 0,
			delays: 0,
		}
	}

	fn at(&mut self, at: Ms, event: Event) {
		self.seq += 1;
		self.queue.push(Pending { at, seq: self.seq, event });
	}

	fn instant(&self, ms: Ms) -> Instant {
		self.base + Duration::from_millis(ms)
	}

	fn is_faulty(&self, validator: ValidatorIndex) -> bool {
		self.node_of[validator as usize].is_none()
	}

	/// The base delay of the link from validator `from` to validator `to`, drawn from the seed.
	fn link_delay(&self, from: ValidatorIndex, to: ValidatorIndex) -> Ms {
		let mut seed = self.sc.seed ^ ((u64::from(from) << 32) | u64::from(to));
		MIN_DELAY_MS + splitmix64(&mut seed) % (MAX_DELAY_MS - MIN_DELAY_MS + 1)
	}

	/// Whether the partition separates `from` and `to` at `at`.
	fn cut(&self, from: ValidatorIndex, to: ValidatorIndex, at: Ms) -> bool {
		let half = |v: ValidatorIndex| v as usize >= self.sc.n / 2;
		self.sc
			.partition_ms()
			.is_some_and(|(start, heal)| (start..heal).contains(&at) && half(from) != half(to))
	}

	/// The delay of a message from `from` to `to` sent now, `None` if it is lost.
	fn transit(&mut self, from: ValidatorIndex, to: ValidatorIndex) -> Option<Ms> {
		if self.cut(from, to, self.now) || (self.sc.drop > 0.0 && self.rng.gen_bool(self.sc.drop)) {
			return None;
		}
		Some(self.link_delay(from, to) + self.rng.gen_range(0..=JITTER_MS))
	}

	/// Sends `message` from validator `from` to every other validator (the honest ones
	/// receive it), `late` by [`TWIN_LAG_MS`] to the honest half `late` names.
	fn broadcast(
		&mut self,
		from: ValidatorIndex,
		message: GossipMessage<H256>,
		late: Option<usize>,
	) {
		let bytes = message.encode();
		let sent = bytes.len() as u64 * (self.sc.n as u64 - 1);
		match message {
			GossipMessage::Vote(_) => self.vote_bytes += sent,
			GossipMessage::Certificate(_) => self.certificate_bytes += sent,
		}
		let decoded = GossipMessage::decode_all(&mut &bytes[..]).expect("an encoding decodes");
		let honest = !self.is_faulty(from);
		let msg = Rc::new(Msg { from, honest, bytes, decoded, verified: OnceCell::new() });
		for node in 0..self.nodes.len() {
			let to = self.nodes[node].index;
			if to == from {
				continue;
			}
			if let Some(delay) = self.transit(from, to) {
				self.delay_sum += delay;
				self.delays += 1;
				let lag = if late == Some(self.nodes[node].side) { TWIN_LAG_MS } else { 0 };
				self.at(self.now + delay + lag, Event::Deliver(node, msg.clone()));
			}
		}
	}

	/// Block `block`, authored by `from`, goes to every honest node: across the partition
	/// once it heals; `late` as in [`Self::broadcast`].
	fn send_block(&mut self, from: ValidatorIndex, block: usize, late: Option<usize>) {
		for node in 0..self.nodes.len() {
			let to = self.nodes[node].index;
			if to == from {
				continue;
			}
			let mut at = self.now;
			if self.cut(from, to, at) {
				at = self.sc.partition_ms().expect("cut").1;
			}
			let lag = if late == Some(self.nodes[node].side) { TWIN_LAG_MS } else { 0 };
			let delay = self.link_delay(from, to) + self.rng.gen_range(0..=JITTER_MS);
			self.at(at + delay + lag, Event::Import(node, block));
		}
	}

	fn new_block(&mut self, parent: usize, slot: u64) -> usize {
		let block = self.blocks.write().author(parent);
		if self.sc.partition_ms().is_some_and(|(_, heal)| self.now < heal) {
			self.pre_heal_height = self.pre_heal_height.max(self.blocks.read().height[block]);
		}
		self.created.push((self.now, slot));
		self.twin.push(None);
		self.final_any.push(false);
		block
	}

	/// Aura's slot `slot`: its author builds on its best block; an equivocator's slot (after
	/// the first blocks) makes an Aura fork of two blocks on the best block of honest node 0.
	fn slot(&mut self, slot: u64) -> Check {
		let author = (slot % self.sc.n as u64) as ValidatorIndex;
		match self.node_of[author as usize] {
			Some(node) => {
				let parent = self.best(node);
				let block = self.new_block(parent, slot);
				self.import(node, block)?;
				self.send_block(author, block, None);
			}
			None => {
				let parent = self.best(0);
				if slot < MEASURE_FROM_SLOT {
					let block = self.new_block(parent, slot);
					self.send_block(author, block, None);
					return Ok(());
				}
				let (a, b) = (self.new_block(parent, slot), self.new_block(parent, slot));
				self.twin[a] = Some((b, 0));
				self.twin[b] = Some((a, 1));
				self.send_block(author, a, Some(1));
				self.send_block(author, b, Some(0));
			}
		}
		Ok(())
	}

	/// Node `node`'s best block, found again only when its justified checkpoint or its blocks
	/// changed.
	fn best(&mut self, node: usize) -> usize {
		let n = &mut self.nodes[node];
		let justified = n.finality().highest_justified();
		match n.best {
			Some((j, imports, best)) if j == justified && imports == n.imports => best,
			_ => {
				let best = n.chain.best(&justified);
				n.best = Some((justified, n.imports, best));
				best
			}
		}
	}

	/// A block reaches node `node` (or is authored there): imported once its parent is, then
	/// what the worker does on an import.
	fn import(&mut self, node: usize, block: usize) -> Check {
		let blocks = self.blocks.clone();
		let blocks = blocks.read();
		let n = &mut self.nodes[node];
		if n.chain.has(block) {
			return Ok(());
		}
		if !n.chain.has(blocks.parent[block]) {
			n.orphans.push(block);
			return Ok(());
		}
		let mut ready = vec![block];
		while let Some(b) = ready.pop() {
			n.chain.import(b, self.now);
			n.imports += 1;
			let (children, rest) =
				std::mem::take(&mut n.orphans).into_iter().partition(|o| blocks.parent[*o] == b);
			n.orphans = rest;
			ready.extend(children);
		}
		drop(blocks);
		if self.nodes[node].finality().is_waiting() {
			if let Ok(progress) = self.nodes[node].link.finality_mut().retry_waiting() {
				if self.on_progress(node, progress)? {
					self.maybe_vote(node)?;
				}
			}
		}
		self.maybe_vote(node)
	}

	/// The worker's `maybe_vote`: the gates, then [`honest_link`]; sets the source timer; signs,
	/// stores and sends the vote.
	fn maybe_vote(&mut self, node: usize) -> Check {
		let best = self.best(node);
		let (now, base) = (self.instant(self.now), self.base);
		let blocks = self.blocks.clone();
		let blocks = blocks.read();
		let n = &mut self.nodes[node];
		let tip = Epoch(2 * blocks.height[best]);
		let link = match n.gates.open(true, false, tip, now) {
			Err(_) => None,
			Ok(()) => {
				let wait = Some((&mut n.wait, now));
				honest_link(&blocks, n.link.finality(), best, n.last_cast, wait)
					.map_err(|e| format!("validator {}: {e}", n.index))?
			}
		};
		drop(blocks);
		let deadline =
			n.wait.deadline().map(|d| d.saturating_duration_since(base).as_millis() as Ms);
		if deadline != n.timer {
			n.timer = deadline;
			if let Some(d) = deadline {
				self.at(d.max(self.now), Event::Timer(node, d));
			}
		}
		let Some(l) = link else { return Ok(()) };
		let n = &mut self.nodes[node];
		let v = vote(&self.keys[n.index as usize], n.index, l);
		let import = n
			.link
			.finality_mut()
			.record_own_vote(v.clone())
			.map_err(|e| format!("validator {}: own vote {l:?} refused: {e}", n.index))?;
		n.own.push(l);
		n.last_cast = Some(l.target.number);
		let from = n.index;
		self.broadcast(from, GossipMessage::Vote(v), None);
		self.echo(l);
		self.on_progress(node, import.progress)?;
		Ok(())
	}

	/// The equivocators sign honest link `l` to a block of their fork, and `l` moved to the
	/// other block (E1); in [`Kind::Worst`] every honest link. At most two links per target:
	/// more are neither kept nor relayed.
	fn echo(&mut self, l: Link<H256>) {
		let block = Blocks::block(&l.target.hash);
		let twin = self.twin.get(block).copied().flatten();
		if self.faulty.is_empty() || (twin.is_none() && self.sc.kind != Kind::Worst) {
			return;
		}
		let mut links = vec![(l, twin.map(|(_, side)| 1 - side))];
		if let Some((other, side)) = twin {
			let blocks = self.blocks.read();
			let round_two = !l.target.number.is_round_one();
			let moved = Link {
				source: if round_two {
					blocks.checkpoint(l.source.number, other)
				} else {
					l.source
				},
				target: blocks.checkpoint(l.target.number, other),
				..l
			};
			links.push((moved, Some(side)));
		}
		for (link, late) in links {
			let count = self.signed_per_target.entry(link.target.number).or_default();
			if *count >= 2 || !self.signed.insert(link) {
				continue;
			}
			*count += 1;
			for who in self.faulty.clone() {
				let v = vote(&self.keys[who as usize], who, link);
				self.broadcast(who, GossipMessage::Vote(v), late);
			}
		}
	}

	/// The gossip validator's decision on `msg` at a receiver with view `view`, from the same
	/// public checks, with the signatures verified once for all receivers. A known vote passes
	/// here: the receiver's pool refuses it.
	fn precheck(view: &FinalityView<H256>, msg: &Msg) -> Result<bool, Refused> {
		match &msg.decoded {
			GossipMessage::Vote(v) => {
				let voters = view.check_vote(v).map_err(|r| Refused {
					forgery: matches!(
						r,
						VoteRejection::UnknownValidator(_) | VoteRejection::InvalidLink { .. }
					),
					reason: r.to_string(),
				})?;
				if *msg
					.verified
					.get_or_init(|| voters.check_signature(&view.genesis_hash, v).is_ok())
				{
					Ok(true)
				} else {
					Err(Refused { forgery: true, reason: "bad signature".into() })
				}
			}
			GossipMessage::Certificate(c) => {
				if c.link.source.number <= view.finalized.number {
					return Ok(false);
				}
				let verify = || view.sets.verify_certificate(&view.genesis_hash, c).is_ok();
				if *msg.verified.get_or_init(verify) {
					Ok(true)
				} else {
					Err(Refused { forgery: true, reason: "invalid certificate".into() })
				}
			}
		}
	}

	/// Message `msg` reaches node `node`: the gossip validator's decision, then what the
	/// worker does with what it lets through.
	fn deliver(&mut self, node: usize, msg: &Msg) -> Check {
		let view = self.nodes[node].handle.view();
		let shared = Self::precheck(&view, msg);
		let full = self.nodes[node].validator.as_ref().map(|validator| validator.check(&msg.bytes));
		let decision = match full {
			Some(full) => {
				let agree = matches!(
					(&full, &shared),
					(Ok(true), Ok(true)) | (Ok(false), Ok(_)) | (Err(_), Err(_))
				);
				if !agree {
					return Err(format!(
						"node {node}: the gossip validator says {full:?} and the shared check \
						 {shared:?} of a message of validator {}",
						msg.from
					));
				}
				full.map_err(|c| Refused {
					forgery: [cost::MALFORMED, cost::BAD_SIGNATURE, cost::INVALID].contains(&c),
					reason: c.reason.into(),
				})
			}
			None => shared,
		};
		let full_check = self.nodes[node].validator.is_some();
		match decision {
			Err(refused) if refused.forgery => {
				return Err(format!(
					"node {node}: a message of validator {} refused as forged: {}",
					msg.from, refused.reason
				))
			}
			Ok(true) => {}
			_ => return Ok(()),
		}
		match &msg.decoded {
			GossipMessage::Vote(v) => {
				let imported = self.nodes[node].link.finality_mut().add_verified_vote(v.clone());
				match imported {
					Ok(import) => {
						if import.equivocation && msg.honest {
							return Err(format!(
								"node {node}: honest validator {} equivocated with {:?}",
								msg.from, v.link
							));
						}
						let moved = self.on_progress(node, import.progress)?;
						if moved || self.nodes[node].wait.is_waiting() {
							self.maybe_vote(node)?;
						}
					}
					Err(VoteRejection::Duplicate | VoteRejection::EquivocationLimit { .. })
						if !full_check => {}
					Err(rejection) => {
						return Err(format!(
							"node {node}: a vote the gossip validator let through is refused: \
							 {rejection} ({:?})",
							v.link
						))
					}
				}
			}
			GossipMessage::Certificate(c) => {
				let finality = self.nodes[node].link.finality_mut();
				let imported = if full_check {
					finality.import_certificate(c.clone())
				} else {
					finality.import_verified_certificate(c.clone(), &view.sets)
				};
				// Refused only while its block is not imported here: it waits for it.
				if let Ok(progress) = imported {
					if self.on_progress(node, progress)? {
						self.maybe_vote(node)?;
					}
				}
			}
		}
		Ok(())
	}

	/// What a step finalized: gossiped and checked, as the worker's `on_progress`. Returns
	/// whether it justified or finalized anything.
	fn on_progress(&mut self, node: usize, progress: Progress<H256>) -> Check<bool> {
		let moved = !progress.justified.is_empty() || progress.finalized.is_some();
		if let Some(certificate) = progress.finalized {
			let from = self.nodes[node].index;
			self.broadcast(from, GossipMessage::Certificate(certificate), None);
		}
		self.observe(node)?;
		Ok(moved)
	}

	/// Records what node `node` finalized: finality moves along its chain; every finalized
	/// block of every honest node lies on one chain (unless more than a third equivocate:
	/// then the first conflict is kept); on a calm network every measured block is final by
	/// its own round two, in time.
	fn observe(&mut self, node: usize) -> Check {
		let finalized = self.nodes[node].finality().last_finalized();
		let tip = Blocks::block(&finalized.hash);
		let was = self.nodes[node].finalized;
		if tip == was {
			return Ok(());
		}
		let blocks = self.blocks.clone();
		let blocks = blocks.read();
		if !blocks.is_ancestor(was, tip) {
			return Err(format!(
				"node {node}: finality moved from block {was} to {tip}, off its chain"
			));
		}
		let mut b = tip;
		while b != was {
			let (created, slot) = self.created[b];
			let n = &mut self.nodes[node];
			if n.final_at.len() <= b {
				n.final_at.resize(b + 1, None);
			}
			n.final_at[b] = Some(self.now);
			self.final_any[b] = true;
			if slot >= MEASURE_FROM_SLOT {
				self.latency.push(self.now - created);
				if self.sc.kind == Kind::Calm && (b != tip || !finalized.number.is_round_one()) {
					return Err(format!(
						"node {node}: block #{} final only through a later checkpoint {finalized:?}",
						blocks.height[b]
					));
				}
				if self.sc.kind == Kind::Calm && self.now > created + CALM_BOUND_MS {
					return Err(format!(
						"node {node}: block #{} final {} ms after its authoring",
						blocks.height[b],
						self.now - created
					));
				}
			}
			b = blocks.parent[b];
		}
		let n = &mut self.nodes[node];
		n.finalized = tip;
		if let Some((_, heal)) = self.sc.partition_ms() {
			if self.now >= heal && n.resumed.is_none() && blocks.height[tip] > self.pre_heal_height
			{
				n.resumed = Some(self.now);
			}
		}
		if !self.finalized_tips.contains(&tip) {
			let other =
				self.finalized_tips.iter().copied().find(|other| {
					!blocks.is_ancestor(*other, tip) && !blocks.is_ancestor(tip, *other)
				});
			if let Some(other) = other {
				if self.sc.kind != Kind::Worst {
					return Err(format!(
						"conflicting finalized blocks {other} and {tip} (heights {} and {}) with \
						 {} of {} validators equivocating",
						blocks.height[other], blocks.height[tip], self.sc.faulty, self.sc.n
					));
				}
				self.conflict.get_or_insert((other, tip));
			}
			self.finalized_tips.push(tip);
		}
		Ok(())
	}

	/// The gossip engine's periodic pass: while finality has not moved for
	/// [`RESEND_PERIOD`], the validator lets stored messages go again, once a period.
	fn pass(&mut self, node: usize) {
		let n = &mut self.nodes[node];
		let finalized = n.finality().last_finalized().number;
		if n.resend.0 != finalized {
			n.resend = (finalized, self.now);
			return;
		}
		if self.now - n.resend.1 < RESEND_PERIOD.as_millis() as Ms {
			return;
		}
		n.resend.1 = self.now;
		let votes = n.finality().votes_of(&n.key);
		let certificate = n.finality().latest_certificate().cloned();
		let from = n.index;
		for v in votes {
			self.broadcast(from, GossipMessage::Vote(v), None);
		}
		if let Some(c) = certificate {
			self.broadcast(from, GossipMessage::Certificate(c), None);
		}
	}

	fn run(mut self) -> Check<Outcome> {
		let wall = Instant::now();
		for node in 0..self.nodes.len() {
			let start = self.rng.gen_range(0..1_000);
			self.nodes[node].resend.1 = start;
			self.at(start, Event::Start(node));
			self.at(start + TICK_MS, Event::Tick(node));
			self.at(start + GOSSIP_PASS_MS, Event::Pass(node));
		}
		self.at(SLOT_MS, Event::Slot(1));
		let end = (self.sc.slots + DRAIN_SLOTS) * SLOT_MS;
		while let Some(Pending { at, event, .. }) = self.queue.pop() {
			if at > end {
				break;
			}
			self.now = at;
			match event {
				Event::Start(node) => self.maybe_vote(node)?,
				Event::Slot(slot) => {
					self.slot(slot)?;
					if slot < self.sc.slots {
						self.at(at + SLOT_MS, Event::Slot(slot + 1));
					}
				}
				Event::Import(node, block) => self.import(node, block)?,
				Event::Deliver(node, msg) => self.deliver(node, &msg)?,
				Event::Timer(node, set) => {
					if self.nodes[node].timer == Some(set) {
						self.maybe_vote(node)?;
					}
				}
				Event::Tick(node) => {
					self.at(at + TICK_MS, Event::Tick(node));
					self.maybe_vote(node)?;
				}
				Event::Pass(node) => {
					self.at(at + GOSSIP_PASS_MS, Event::Pass(node));
					self.pass(node);
				}
			}
		}
		let outcome = self.finish()?;
		Ok(Outcome { wall: wall.elapsed(), ..outcome })
	}

	/// The checks at the end of a run, and what it measured.
	fn finish(self) -> Check<Outcome> {
		let sc = self.sc;
		let voters = voter_set(&self.keys, 0);
		let mut named = HashSet::new();
		for n in &self.nodes {
			check_own_votes(&n.own).map_err(|e| format!("validator {}: {e}", n.index))?;
			for (a, b) in n.storage.evidence_pairs() {
				let genuine = a.validator_index == b.validator_index
					&& votes_conflict(&a.link, &b.link)
					&& voters.check_signature(&GENESIS, &a).is_ok()
					&& voters.check_signature(&GENESIS, &b).is_ok();
				if !genuine {
					return Err(format!(
						"node of {}: evidence {a:?} and {b:?} proves nothing",
						n.index
					));
				}
				if !self.is_faulty(a.validator_index) {
					return Err(format!("evidence against honest validator {}", a.validator_index));
				}
				named.insert(a.validator_index);
			}
		}
		// (b) Conflicting finality only with evidence against a third of the set.
		if let Some((a, b)) = self.conflict {
			if named.len() * 3 < sc.n {
				return Err(format!(
					"blocks {a} and {b} both finalized, with evidence against only {} of {}",
					named.len(),
					sc.n
				));
			}
		}
		// (d) On a calm network every measured block is final on every node.
		let blocks = self.blocks.read();
		if sc.kind == Kind::Calm {
			for b in 1..self.created.len() {
				for n in &self.nodes {
					if self.created[b].1 >= MEASURE_FROM_SLOT
						&& n.final_at.get(b).is_none_or(|t| t.is_none())
					{
						return Err(format!(
							"validator {}: block #{} never final (finalized #{})",
							n.index, blocks.height[b], blocks.height[n.finalized]
						));
					}
				}
			}
		}
		// (c) Finality resumes after the partition heals.
		let mut resume = None;
		if let Some((_, heal)) = sc.partition_ms() {
			for n in &self.nodes {
				let Some(at) = n.resumed else {
					return Err(format!(
						"validator {}: nothing finalized after the heal (finalized #{})",
						n.index, blocks.height[n.finalized]
					));
				};
				if at - heal > RESUME_BOUND_MS {
					return Err(format!(
						"validator {}: {} ms after the heal to finalize again",
						n.index,
						at - heal
					));
				}
				resume = resume.max(Some(at - heal));
			}
		}
		Ok(Outcome {
			scenario: sc,
			final_blocks: self.final_any.iter().skip(1).filter(|f| **f).count(),
			latency: self.latency,
			mean_delay: self.delay_sum as f64 / self.delays.max(1) as f64,
			vote_bytes: self.vote_bytes,
			certificate_bytes: self.certificate_bytes,
			conflict: self.conflict,
			named: named.len(),
			resume,
			wall: Duration::ZERO,
		})
	}
}

/// Runs the three scenarios at `n` validators, prints a line each, and returns them.
fn simulate(n: usize, seed: u64) -> Vec<Outcome> {
	[Kind::Calm, Kind::Faulty, Kind::Worst]
		.into_iter()
		.map(|kind| {
			let sc = Scenario::new(kind, n, seed);
			let outcome = Sim::new(sc).run().unwrap_or_else(|e| panic!("{sc:?}: {e}"));
			println!("{}", outcome.line());
			outcome
		})
		.collect()
}

/// Four and ten validators, each through the three scenarios: every check holds, the fork's
/// equivocations leave evidence, and a worst case does finalize two conflicting blocks (so
/// that its check is not vacuous; at ten, the honest half that the equivocators need for a
/// second certificate does not always fall their way).
#[test]
fn small_networks_stay_safe_accountable_and_live() {
	println!("{}", Outcome::HEADER);
	let mut conflicts = 0;
	for n in [4, 10] {
		let outcomes = simulate(n, 1);
		let worst = outcomes.iter().find(|o| o.scenario.kind == Kind::Worst).expect("ran");
		conflicts += usize::from(worst.conflict.is_some());
		let faulty = outcomes.iter().find(|o| o.scenario.kind == Kind::Faulty).expect("ran");
		assert!(faulty.named > 0, "N = {n}: no evidence of the fork's equivocations");
	}
	assert!(conflicts > 0, "the equivocators finalized no conflict at any N");
}

/// The scale run: the three scenarios at each `N` of `CHECKPOINT_SCALE_N` (a comma list,
/// default `4,100,1000`) with seed `CHECKPOINT_SCALE_SEED` (default 1), a table line each.
/// Ignored by default (`N = 1000` takes minutes); `scripts/scale-sim.sh` runs it.
#[test]
#[ignore]
fn scale() {
	let list = std::env::var("CHECKPOINT_SCALE_N").unwrap_or_else(|_| "4,100,1000".into());
	let seed = std::env::var("CHECKPOINT_SCALE_SEED").map_or(1, |s| s.parse().expect("a seed"));
	println!("seed {seed}");
	println!("{}", Outcome::HEADER);
	for n in list.split(',').map(|n| n.trim().parse::<usize>().expect("a number of validators")) {
		simulate(n, seed);
	}
}
