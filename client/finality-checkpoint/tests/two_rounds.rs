//! Two vote rounds per checkpoint block, simulated with the real planner and state machine.
//!
//! Honest validators vote as the worker does: [`plan`] names the epoch, round one's block is
//! the ancestor of the node's best block at the epoch's height, round two's is the justified
//! block, and `own_vote_link` picks the source. Blocks form a tree that grows as Aura grows
//! it: every new block is authored on the best block of some node (the longest chain that
//! holds its highest justified checkpoint), and an Aura fork puts two blocks at one height.
//! Interval 1: epoch `e` names the block at height `e / 2`.
//!
//! - A block is final two vote rounds after its import, on a calm network.
//! - Two blocks at one height split round one, and the next height finalizes both its block
//!   and the one below it.
//! - Property: with fewer than a third of the validators faulty (signing for both blocks of
//!   a fork, random links, copies moved to the other block), votes delayed, reordered and
//!   repeated, and crashes that lose the write-behind buffer, all finalized blocks of all
//!   honest nodes lie on one chain and no honest validator breaks E1 or E2; once the network
//!   is calm again, every honest node finalizes each new block.

mod common;

use common::*;
use proptest::{prelude::*, sample::Index, test_runner::TestCaseError};
use sc_finality_checkpoint::{planner::SourceWait, CheckpointFinality, Progress, VoteRejection};
use sp_core::{ed25519, H256};
use sp_finality_checkpoint::{CheckpointSignature, Epoch, Link, ValidatorIndex};
use std::{sync::Arc, time::Instant};

/// Most blocks authored while the network misbehaves (the window, 16 blocks at interval 1,
/// is never the limit).
const MAX_BLOCKS: usize = 10;
/// Blocks authored on a calm network at the end of a case.
const CALM_BLOCKS: usize = 3;
/// Most calm rounds before a calm network must have come to rest: enough for the catch-up's
/// jumps from the lowest finality a case can leave.
const SETTLE_ROUNDS: usize = 16;
/// A node keeps the first two votes of a validator for one target (one and the evidence).
const KEPT_PER_TARGET: usize = 2;

// ---------------------------------------------------------------------------------------------
// The network.

struct Node {
	index: ValidatorIndex,
	finality: CheckpointFinality<H256>,
	storage: Arc<MemoryStorage>,
	inbox: Vec<CheckpointSignature<H256>>,
	/// Own votes `record_own_vote` took, across crashes.
	own: Vec<Link<H256>>,
	/// The highest target this process voted for (forgotten by a crash, as the worker's is).
	last_cast: Option<Epoch>,
	/// The bounded wait for a vote's source (in memory, as the worker's).
	wait: SourceWait,
	crashes: usize,
}

struct Net {
	keys: &'static [ed25519::Pair],
	blocks: Blocks,
	nodes: Vec<Node>,
	faulty: Vec<ValidatorIndex>,
	/// The clock of the source waits: it moves only when a calm network has nothing else to do.
	now: Instant,
	/// Every vote gossiped, in order.
	sent: Vec<CheckpointSignature<H256>>,
	/// Every block an honest node finalized.
	finalized: Vec<usize>,
	/// A faulty validator signed more votes for one target than a node keeps: honest nodes
	/// may then count different ones of them for good, and retry from different sources.
	beyond_kept: bool,
}

impl Net {
	fn new(n: usize, faulty: &[usize]) -> Self {
		let keys = &all_keys()[..n];
		let nodes = (0..n)
			.filter(|i| !faulty.contains(i))
			.map(|i| {
				let storage = Arc::new(MemoryStorage::default());
				Node {
					index: i as ValidatorIndex,
					finality: in_memory(keys, storage.clone()),
					storage,
					inbox: Vec::new(),
					own: Vec::new(),
					last_cast: None,
					wait: SourceWait::default(),
					crashes: 0,
				}
			})
			.collect();
		Self {
			keys,
			blocks: Blocks::new(),
			nodes,
			faulty: faulty.iter().map(|i| *i as ValidatorIndex).collect(),
			now: Instant::now(),
			sent: Vec::new(),
			finalized: vec![0],
			beyond_kept: false,
		}
	}

	/// Node `node`'s best block.
	fn best(&self, node: usize) -> usize {
		let justified = self.nodes[node].finality.highest_justified();
		self.blocks.best(Blocks::block(&justified.hash))
	}

	/// The block node `node` finalized.
	fn finalized_block(&self, node: usize) -> usize {
		Blocks::block(&self.nodes[node].finality.last_finalized().hash)
	}

	/// Node `node` votes as the worker does, or abstains where the plan says so; with
	/// `patient`, it also waits for the source as the worker does ([`SourceWait`], on the
	/// simulated clock), without, the wait is over (a slow network). Returns the epoch it
	/// voted for.
	fn vote(&mut self, node: usize, patient: bool) -> Result<Option<Epoch>, TestCaseError> {
		let best = self.best(node);
		let n = &mut self.nodes[node];
		let wait = patient.then_some((&mut n.wait, self.now));
		let l = honest_link(&self.blocks, &n.finality, best, n.last_cast, wait).map_err(fail)?;
		let Some(l) = l else { return Ok(None) };
		let epoch = l.target.number;
		let v = vote(&self.keys[n.index as usize], n.index, l);
		let import = n
			.finality
			.record_own_vote(v.clone())
			.map_err(|e| fail(format!("validator {}: own vote {l:?} refused: {e}", n.index)))?;
		n.own.push(l);
		n.last_cast = Some(epoch);
		self.observe(node, import.progress)?;
		self.send(v);
		Ok(Some(epoch))
	}

	/// Every honest node votes, patiently, then every vote arrives (in far less than a
	/// source wait). Returns how many voted.
	fn calm_round(&mut self) -> Result<usize, TestCaseError> {
		let mut voted = 0;
		for node in 0..self.nodes.len() {
			voted += usize::from(self.vote(node, true)?.is_some());
		}
		self.deliver_all(&mut 0)?;
		Ok(voted)
	}

	/// The clock moves to the end of the longest source wait under way, if any.
	fn expire_waits(&mut self) -> bool {
		let deadline = self.nodes.iter().filter_map(|n| n.wait.deadline()).max();
		if let Some(deadline) = deadline {
			self.now = self.now.max(deadline);
		}
		deadline.is_some()
	}

	/// Calm rounds until no one has anything to vote for, the clock moving on only when
	/// votes wait for their source and nothing else happens: the worker votes as soon as an
	/// import, a justification or its timer lets it, so this is where a calm network comes
	/// to rest.
	fn settle(&mut self) -> Result<(), TestCaseError> {
		for _ in 0..SETTLE_ROUNDS {
			if self.calm_round()? == 0 && !self.expire_waits() {
				return Ok(());
			}
		}
		Err(fail(format!("still voting after {SETTLE_ROUNDS} calm rounds")))
	}

	fn sign_and_send(&mut self, who: ValidatorIndex, l: Link<H256>) {
		let v = vote(&self.keys[who as usize], who, l);
		let signed = self.sent.iter().filter(|s| {
			s.validator_index == who && s.link.target.number == l.target.number && **s != v
		});
		self.beyond_kept |= signed.count() >= KEPT_PER_TARGET;
		self.send(v);
	}

	/// Gossip: the vote joins every honest node's inbox.
	fn send(&mut self, v: CheckpointSignature<H256>) {
		for node in &mut self.nodes {
			node.inbox.push(v.clone());
		}
		self.sent.push(v);
	}

	fn receive(&mut self, node: usize, v: CheckpointSignature<H256>) -> Result<(), TestCaseError> {
		let honest = !self.faulty.contains(&v.validator_index);
		match self.nodes[node].finality.add_checkpoint_signature(v.clone()) {
			Ok(import) => {
				prop_assert!(
					!(import.equivocation && honest),
					"honest validator {} reported equivocating with {:?}",
					v.validator_index,
					v.link
				);
				self.observe(node, import.progress)
			}
			Err(VoteRejection::Duplicate | VoteRejection::Expired { .. }) => Ok(()),
			Err(VoteRejection::EquivocationLimit { .. }) if !honest => Ok(()),
			Err(rejection) => Err(fail(format!("node {node}: vote {v:?} rejected: {rejection}"))),
		}
	}

	fn deliver_all(&mut self, seed: &mut u64) -> Result<(), TestCaseError> {
		for node in 0..self.nodes.len() {
			let mut inbox = std::mem::take(&mut self.nodes[node].inbox);
			shuffle(&mut inbox, seed);
			for v in inbox {
				self.receive(node, v)?;
			}
		}
		Ok(())
	}

	/// Records what node `node` finalized; finality never regresses and every finalized
	/// block of every honest node lies on one chain.
	fn observe(&mut self, node: usize, progress: Progress<H256>) -> Result<(), TestCaseError> {
		if let Some(certificate) = progress.finalized {
			let l = certificate.link;
			prop_assert_eq!(l.target.number, l.source.number.next(), "not adjacent: {:?}", l);
		}
		let block = self.finalized_block(node);
		if !self.finalized.contains(&block) {
			for other in &self.finalized {
				let (a, b) = (*other.min(&block), *other.max(&block));
				prop_assert!(
					self.blocks.is_ancestor(a, b),
					"conflicting finalized blocks {} and {} (heights {} and {})",
					a,
					b,
					self.blocks.height[a],
					self.blocks.height[b]
				);
			}
			self.finalized.push(block);
		}
		Ok(())
	}

	/// The node restarts from its storage: its write-behind buffer is lost, peers gossip
	/// everything again.
	fn crash(&mut self, node: usize) -> Result<(), TestCaseError> {
		let n = &mut self.nodes[node];
		let (finalized, guard) = (n.finality.last_finalized(), n.finality.guard());
		n.finality = in_memory(self.keys, n.storage.clone());
		prop_assert_eq!(n.finality.last_finalized(), finalized, "finality lost in a crash");
		prop_assert_eq!(n.finality.guard(), guard, "own-vote guard lost in a crash");
		n.last_cast = None;
		n.wait = SourceWait::default();
		n.inbox = self.sent.clone();
		n.crashes += 1;
		Ok(())
	}

	fn check_own_votes(&self) -> Result<(), TestCaseError> {
		for node in &self.nodes {
			check_own_votes(&node.own).map_err(|e| {
				fail(format!("validator {} ({} crashes): {e}", node.index, node.crashes))
			})?;
		}
		Ok(())
	}
}

// ---------------------------------------------------------------------------------------------
// The happy path and an Aura fork, step by step.

/// Four honest validators on a calm network: each new block is final after its two rounds
/// (round one justifies it, round two finalizes it), never later.
#[test]
fn a_block_is_final_two_vote_rounds_after_its_import() {
	let mut net = Net::new(4, &[]);
	let mut tip = 0;
	for height in 1..=6u64 {
		tip = net.blocks.author(tip);
		assert_eq!(net.calm_round().unwrap(), 4, "everyone casts round one");
		for node in 0..4 {
			let justified = net.nodes[node].finality.highest_justified();
			assert_eq!(justified, net.blocks.checkpoint(Epoch(2 * height), tip), "round one");
			assert_eq!(net.blocks.height[net.finalized_block(node)], height - 1);
		}
		assert_eq!(net.calm_round().unwrap(), 4, "everyone casts round two");
		for node in 0..4 {
			assert_eq!(net.finalized_block(node), tip, "block #{height} after round two");
			assert_eq!(net.nodes[node].finality.last_finalized().number, Epoch(2 * height));
		}
		assert_eq!(net.calm_round().unwrap(), 0, "nothing more to vote for");
	}
	// Two own votes a block, one for each round, and none conflicts.
	assert!(net.nodes.iter().all(|n| n.own.len() == 12));
	net.check_own_votes().unwrap();
}

/// Two blocks at height 2 split round one two to two: neither is justified, nothing is
/// final. The next block (on one of them) finalizes at once, and the fork's block below it
/// with it.
#[test]
fn an_aura_fork_at_a_checkpoint_height_does_not_stop_finality() {
	let mut net = Net::new(4, &[]);
	let one = net.blocks.author(0);
	net.calm_round().unwrap();
	net.calm_round().unwrap();
	assert!((0..4).all(|node| net.finalized_block(node) == one));

	let (left, right) = (net.blocks.author(one), net.blocks.author(one));
	// Validators 0 and 1 see `left` first, 2 and 3 `right`: each votes for what it saw.
	for (node, block) in [(0, left), (1, left), (2, right), (3, right)] {
		let n = &mut net.nodes[node];
		let l = n.finality.own_vote_link(net.blocks.checkpoint(Epoch(4), block), |_| true);
		let l = l.expect("a source");
		assert_eq!(l.source, net.blocks.checkpoint(Epoch(3), one));
		let v = vote(&net.keys[node], node as ValidatorIndex, l);
		n.finality.record_own_vote(v.clone()).unwrap();
		n.own.push(l);
		n.last_cast = Some(Epoch(4));
		net.send(v);
	}
	net.deliver_all(&mut 0).unwrap();
	for node in 0..4 {
		let finality = &net.nodes[node].finality;
		assert_eq!(finality.highest_justified(), net.blocks.checkpoint(Epoch(3), one));
		assert!(finality.state().split_at(Epoch(4)), "the votes for epoch 4 split");
	}
	// Nothing to vote for until a block is built on one of them.
	assert_eq!(net.calm_round().unwrap(), 0);
	assert!(!net.expire_waits());

	// Round one of block #3 skips an epoch (from block #1's round two): it waits for the
	// source first, in case a late justification of block #2 comes, then goes.
	let three = net.blocks.author(right);
	assert_eq!(net.calm_round().unwrap(), 0, "waiting for the source");
	assert!(net.expire_waits());
	assert_eq!(net.calm_round().unwrap(), 4, "round one of block #3, from block #1's round two");
	assert_eq!(net.calm_round().unwrap(), 4, "round two of block #3");
	for node in 0..4 {
		assert_eq!(net.finalized_block(node), three, "block #3 final after its two rounds");
		assert!(net.blocks.is_ancestor(right, net.finalized_block(node)));
	}
	net.check_own_votes().unwrap();
}

// ---------------------------------------------------------------------------------------------
// Schedules.

#[derive(Debug, Clone)]
enum Step {
	/// A block on node `on`'s best block; with `twin`, a second one beside it (an Aura fork).
	Author { on: Index, twin: bool },
	/// Honest node `node` votes as the plan says.
	Vote { node: Index },
	/// Every honest node votes.
	Round,
	/// Every faulty validator signs round one for every block at the height of node `node`'s
	/// best block, from that node's highest justified checkpoint: E1 on each fork.
	Equivocate { node: Index },
	/// Faulty validator `who` signs a link between any two blocks, at either round of each.
	Faulty { who: Index, source: (Index, bool), target: (Index, bool) },
	/// Faulty validator `who` signs a link someone signed lately, moved to the other block of
	/// its target's height if there is one.
	Echo { who: Index, pick: Index },
	/// Honest node `node` receives the messages at `picks` of its inbox, which keeps them if
	/// `keep` (they arrive again later).
	Deliver { node: Index, picks: Vec<Index>, keep: bool },
	/// Everything in flight arrives, in a random order.
	Sync { seed: u64 },
	/// Honest node `node` flushes its write-behind buffer.
	Flush { node: Index },
	/// Honest node `node` crashes and restarts from its storage.
	Crash { node: Index },
}

fn step() -> impl Strategy<Value = Step> {
	prop_oneof![
		3 => (any::<Index>(), prop::bool::weighted(0.4)).prop_map(|(on, twin)| Step::Author { on, twin }),
		8 => any::<Index>().prop_map(|node| Step::Vote { node }),
		2 => Just(Step::Round),
		2 => any::<Index>().prop_map(|node| Step::Equivocate { node }),
		2 => (any::<Index>(), (any::<Index>(), any::<bool>()), (any::<Index>(), any::<bool>()))
			.prop_map(|(who, source, target)| Step::Faulty { who, source, target }),
		2 => (any::<Index>(), any::<Index>()).prop_map(|(who, pick)| Step::Echo { who, pick }),
		8 => (any::<Index>(), prop::collection::vec(any::<Index>(), 1..6), any::<bool>())
			.prop_map(|(node, picks, keep)| Step::Deliver { node, picks, keep }),
		2 => any::<u64>().prop_map(|seed| Step::Sync { seed }),
		1 => any::<Index>().prop_map(|node| Step::Flush { node }),
		1 => any::<Index>().prop_map(|node| Step::Crash { node }),
	]
}

/// `n` in 4..=7 validators, mostly as many faulty as `3f < n` allows, and a schedule.
fn scenario() -> impl Strategy<Value = (usize, Vec<usize>, Vec<Step>, u64)> {
	(4..=MAX_N).prop_flat_map(|n| {
		let max = (n - 1) / 3;
		let faulty = prop_oneof![2 => Just(max), 1 => 0..=max]
			.prop_flat_map(move |f| prop::sample::subsequence((0..n).collect::<Vec<_>>(), f));
		(Just(n), faulty, prop::collection::vec(step(), 10..80), any::<u64>())
	})
}

impl Net {
	fn run(&mut self, steps: &[Step], seed: u64) -> Result<(), TestCaseError> {
		let honest = self.nodes.len();
		for step in steps {
			match step {
				Step::Author { on, twin } => {
					if self.blocks.parent.len() > MAX_BLOCKS {
						continue;
					}
					let parent = self.best(on.index(honest));
					self.blocks.author(parent);
					if *twin {
						self.blocks.author(parent);
					}
				}
				Step::Vote { node } => {
					self.vote(node.index(honest), false)?;
				}
				Step::Round => {
					for node in 0..honest {
						self.vote(node, false)?;
					}
				}
				Step::Equivocate { node } => {
					let node = node.index(honest);
					let best = self.best(node);
					let height = self.blocks.height[best];
					let source = self.nodes[node].finality.highest_justified();
					let twins: Vec<usize> = (0..self.blocks.parent.len())
						.filter(|b| self.blocks.height[*b] == height && height > 0)
						.collect();
					for who in self.faulty.clone() {
						for block in &twins {
							let target = self.blocks.checkpoint(Epoch(2 * height), *block);
							if target.number > source.number {
								self.sign_and_send(who, Link { set_id: 0, source, target });
							}
						}
					}
				}
				Step::Faulty { who, source: (s, s_two), target: (t, t_two) } => {
					if !self.faulty.is_empty() {
						let who = self.faulty[who.index(self.faulty.len())];
						let count = self.blocks.parent.len();
						let at = |block: usize, two: bool| {
							let epoch = 2 * self.blocks.height[block] + u64::from(two);
							self.blocks.checkpoint(Epoch(epoch), block)
						};
						let (source, target) =
							(at(s.index(count), *s_two), at(t.index(count), *t_two));
						if target.number > source.number {
							self.sign_and_send(who, Link { set_id: 0, source, target });
						}
					}
				}
				Step::Echo { who, pick } => {
					if !self.faulty.is_empty() && !self.sent.is_empty() {
						let who = self.faulty[who.index(self.faulty.len())];
						let recent = self.sent.len().min(6);
						let mut l = self.sent[self.sent.len() - 1 - pick.index(recent)].link;
						let block = Blocks::block(&l.target.hash);
						let height = self.blocks.height[block];
						if let Some(other) = (1..self.blocks.parent.len())
							.find(|b| *b != block && self.blocks.height[*b] == height)
						{
							l.target.hash = Blocks::hash(other);
						}
						self.sign_and_send(who, l);
					}
				}
				Step::Deliver { node, picks, keep } => {
					let node = node.index(honest);
					for pick in picks {
						let inbox = &mut self.nodes[node].inbox;
						if inbox.is_empty() {
							break;
						}
						let i = pick.index(inbox.len());
						let v = if *keep { inbox[i].clone() } else { inbox.swap_remove(i) };
						self.receive(node, v)?;
					}
				}
				Step::Sync { seed } => self.deliver_all(&mut seed.clone())?,
				Step::Flush { node } => {
					let node = &self.nodes[node.index(honest)];
					node.finality.persistence().expect("storage set").flush().expect("flush");
				}
				Step::Crash { node } => self.crash(node.index(honest))?,
			}
		}

		// The network calms down: everything arrives, the faulty validators fall silent, and
		// blocks are built on one chain; once the votes come to rest, each is final everywhere.
		// Unless a faulty validator signed more for one target than a node keeps: then the
		// nodes may hold different votes of it (safety still holds; relaying the certificates
		// that justify a source is what would settle that).
		self.deliver_all(&mut seed.clone())?;
		for _ in 0..CALM_BLOCKS {
			let newest = self.blocks.author(self.best(0));
			if self.beyond_kept {
				for _ in 0..SETTLE_ROUNDS {
					self.calm_round()?;
					self.expire_waits();
				}
				continue;
			}
			self.settle()?;
			for node in 0..honest {
				prop_assert_eq!(
					self.finalized_block(node),
					newest,
					"validator {} has not finalized the newest block #{} (finalized {:?})",
					self.nodes[node].index,
					self.blocks.height[newest],
					self.nodes[node].finality.last_finalized()
				);
			}
		}
		self.check_own_votes()
	}
}

proptest! {
	#![proptest_config(ProptestConfig { cases: 128, max_shrink_iters: 2048, ..ProptestConfig::default() })]

	/// Safety and the own-vote rules hold whatever the faulty minority signs and however votes
	/// travel, with Aura forks at checkpoint heights and crashes; and finality catches up with
	/// the newest block once the network is calm.
	#[test]
	fn two_rounds_stay_safe_and_finalize_after_forks_equivocations_and_crashes(
		(n, faulty, steps, seed) in scenario()
	) {
		Net::new(n, &faulty).run(&steps, seed)?;
	}
}
