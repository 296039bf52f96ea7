//! Property tests of the checkpoint finality state machine. No disk: every node keeps its state
//! in a `MemoryStorage`, so a "crash" loses exactly the write-behind buffer.
//!
//! - Safety: with fewer than a third of the validators faulty, no two honest nodes ever
//!   finalize conflicting checkpoints, whatever the faulty validators sign and however votes
//!   are delayed, duplicated and reordered (crashes included).
//! - Own votes: the votes an honest validator recorded never break E1 or E2, across a crash
//!   and a restart from its storage, even when a buggy caller tries arbitrary own votes.
//! - Liveness sanity: honest validators on one chain finalize checkpoint `k` once the votes
//!   for `k + 1` are in.
//!
//! The checkpoint tree: fork 0 is the main chain; fork `b > 0` shares its parent fork's
//! checkpoints up to its branch height and has its own, `cp(b, k)`, above it.
//!
//! A schedule (a and b): the chains grow one height at a time; honest nodes vote for the newest
//! checkpoint of the fork they prefer (or of a random one) through `own_vote_link` and
//! `record_own_vote`; faulty validators sign random links, copy recent links (as they are or
//! moved to another fork) and, in half the cases, back every honest vote on whichever side;
//! each node receives random picks of its inbox, some of them again later, and now and then
//! everything in flight; nodes flush and crash. Then everything arrives, three synchronous
//! rounds on one fork follow (so nearly every case finalizes), and every node restarts once
//! more from its storage. With one faulty validator more than the bound allows, this schedule
//! finds conflicting finality within a run or two of 64 cases.

mod common;

use common::*;
use proptest::{
	prelude::*,
	sample::Index,
	strategy::{Union, W},
	test_runner::TestCaseError,
};
use sc_finality_checkpoint::{CheckpointFinality, Progress, VoteRejection};
use sp_core::{ed25519, H256};
use sp_finality_checkpoint::{
	signing_payload, Checkpoint, CheckpointCertificate, CheckpointSignature, Link, ValidatorIndex,
};
use sp_runtime::RuntimeAppPublic;
use std::{collections::BTreeSet, sync::Arc};

/// Highest checkpoint number of the tree.
const H: u64 = 8;
/// Most forks in the tree (fork numbers are taken modulo the tree's forks).
const MAX_FORKS: u8 = 3;
/// Echoing faulty validators copy one of this many latest votes.
const RECENT: usize = 6;
/// Synchronous rounds after the adversarial schedule, at heights `H - FINAL_ROUNDS + 1..=H`, so
/// that most cases finalize something.
const FINAL_ROUNDS: u64 = 3;

fn config() -> ProptestConfig {
	ProptestConfig { cases: 64, max_shrink_iters: 2048, ..ProptestConfig::default() }
}

// ---------------------------------------------------------------------------------------------
// The checkpoint tree and its ancestry oracle.

/// Fork `b > 0` shares fork `parent[b]`'s checkpoints up to height `branch[b]`.
#[derive(Debug, Clone)]
struct Tree {
	parent: Vec<u8>,
	branch: Vec<u64>,
}

impl Tree {
	fn forks(&self) -> u8 {
		self.parent.len() as u8
	}

	/// The fork whose own checkpoint is checkpoint `number` of fork `fork`'s chain.
	fn owner(&self, fork: u8, number: u64) -> u8 {
		let mut fork = fork % self.forks();
		while fork != 0 && number <= self.branch[fork as usize] {
			fork = self.parent[fork as usize];
		}
		fork
	}

	/// Checkpoint `number` of fork `fork`'s chain (genesis for 0).
	fn at(&self, fork: u8, number: u64) -> Checkpoint<H256> {
		cp(self.owner(fork, number), number)
	}

	/// Whether `a` is `b` or an ancestor of `b`.
	fn is_ancestor(&self, a: &Checkpoint<H256>, b: &Checkpoint<H256>) -> bool {
		let fork = if b.number.0 == 0 { 0 } else { b.hash.0[0] };
		a.number <= b.number && *a == self.at(fork, a.number.0)
	}
}

fn tree() -> impl Strategy<Value = Tree> {
	// One or two forks beside the main chain, each branching off an earlier fork low enough
	// that the schedule (heights up to `H - FINAL_ROUNDS`) votes on its own checkpoints.
	let branch = prop_oneof![3 => 0..3u64, 1 => 0..H];
	prop::collection::vec((any::<Index>(), branch), 1..=(MAX_FORKS as usize - 1)).prop_map(|spec| {
		let mut tree = Tree { parent: vec![0], branch: vec![H] };
		for (b, (parent, at)) in spec.into_iter().enumerate() {
			tree.parent.push(parent.index(b + 1) as u8);
			tree.branch.push(at);
		}
		tree
	})
}

/// All of `finalized` lie on one chain: of any two, the lower is an ancestor of the higher
/// (so equal numbers mean equal hashes).
fn check_one_chain(tree: &Tree, finalized: &BTreeSet<Checkpoint<H256>>) -> Result<(), String> {
	for a in finalized {
		for b in finalized.range(a..) {
			if !tree.is_ancestor(a, b) {
				return Err(format!("conflicting finalized checkpoints {a:?} and {b:?}"));
			}
		}
	}
	Ok(())
}

/// Two justified checkpoints never share a height, and a justified checkpoint above a
/// finalized one descends from it.
fn check_justified(
	tree: &Tree,
	justified: &BTreeSet<Checkpoint<H256>>,
	finalized: &BTreeSet<Checkpoint<H256>>,
) -> Result<(), String> {
	for a in justified {
		if let Some(b) = justified.range(a..).nth(1).filter(|b| b.number == a.number) {
			return Err(format!("conflicting justified checkpoints {a:?} and {b:?}"));
		}
		if let Some(f) = finalized.iter().find(|f| f.number < a.number && !tree.is_ancestor(f, a)) {
			return Err(format!("justified {a:?} conflicts with finalized {f:?}"));
		}
	}
	Ok(())
}

/// A certificate holds a supermajority of valid, distinct signatures on a link from a
/// checkpoint to its child.
fn check_certificate(
	tree: &Tree,
	n: usize,
	certificate: &CheckpointCertificate<H256>,
) -> Result<(), String> {
	let l = &certificate.link;
	let set = voter_set(&all_keys()[..n], 0);
	if l.target.number != l.source.number.next() || !tree.is_ancestor(&l.source, &l.target) {
		return Err(format!("certificate of {l:?}: target is not a child of the source"));
	}
	if certificate.signatures.len() < set.threshold() {
		return Err(format!("certificate of {l:?}: {} signatures", certificate.signatures.len()));
	}
	let payload = signing_payload(&GENESIS, l);
	let mut previous = None;
	for (index, signature) in &certificate.signatures {
		if previous.is_some_and(|p| p >= *index) {
			return Err(format!("certificate of {l:?}: indices not strictly increasing"));
		}
		previous = Some(*index);
		let public = set.authorities().get(*index as usize);
		if !public.is_some_and(|p| p.verify(&payload, signature)) {
			return Err(format!("certificate of {l:?}: bad signature of validator {index}"));
		}
	}
	Ok(())
}

// ---------------------------------------------------------------------------------------------
// Schedules.

#[derive(Debug, Clone)]
enum Step {
	/// The chains grow: checkpoints one height higher exist (up to `H - FINAL_ROUNDS`).
	Tick,
	/// Honest node `node` votes for the checkpoint at the current height on fork `fork` (its
	/// preferred fork if `None`), or abstains where the rules say so.
	Vote { node: Index, fork: Option<u8> },
	/// Every honest node votes as in `Vote`, on its preferred fork.
	Round,
	/// Faulty validator `who` signs `source -> target` on any forks.
	Faulty { who: Index, source: (u8, u64), span: u64, target_fork: u8 },
	/// Faulty validator `who` signs a link someone signed lately, or that link retargeted to
	/// the same height on fork `fork`.
	Echo { who: Index, pick: Index, fork: Option<u8> },
	/// Honest node `node` receives the messages at `picks` of its inbox, which keeps them if
	/// `keep` (they arrive again later).
	Deliver { node: Index, picks: Vec<Index>, keep: bool },
	/// The network is calm for a moment: everything in flight arrives, in a random order.
	Sync { seed: u64 },
	/// Honest node `node` flushes its write-behind buffer.
	Flush { node: Index },
	/// Honest node `node` crashes and restarts from its storage.
	Crash { node: Index },
	/// A buggy caller on honest node `node` tries to record an arbitrary own vote; it is not
	/// gossiped.
	Rogue { node: Index, source: (u8, u64), span: u64, target_fork: u8 },
}

#[derive(Debug, Clone)]
struct Scenario {
	n: usize,
	faulty: Vec<usize>,
	tree: Tree,
	steps: Vec<Step>,
	/// The fork each validator prefers (honest ones split, to give faulty ones a chance).
	prefers: Vec<u8>,
	/// The fork of the final rounds.
	best_fork: u8,
	/// Faulty validators back every honest vote at once with their own for the same link,
	/// whichever side it is on: with a third of the weight that splits finality.
	backing: bool,
	seed: u64,
}

fn step(crash: u32, rogue: u32) -> impl Strategy<Value = Step> {
	let fork = prop_oneof![3 => Just(None), 2 => (0..MAX_FORKS).prop_map(Some)];
	let span = (0..MAX_FORKS, 0..H, 1..=3u64, 0..MAX_FORKS);
	let options: Vec<W<BoxedStrategy<Step>>> = vec![
		(8, (any::<Index>(), fork).prop_map(|(node, fork)| Step::Vote { node, fork }).boxed()),
		(3, Just(Step::Tick).boxed()),
		(2, Just(Step::Round).boxed()),
		(
			3,
			(any::<Index>(), span.clone())
				.prop_map(|(who, (sf, sh, span, target_fork))| Step::Faulty {
					who,
					source: (sf, sh),
					span,
					target_fork,
				})
				.boxed(),
		),
		(
			3,
			(any::<Index>(), any::<Index>(), prop::option::of(0..MAX_FORKS))
				.prop_map(|(who, pick, fork)| Step::Echo { who, pick, fork })
				.boxed(),
		),
		(
			8,
			(any::<Index>(), prop::collection::vec(any::<Index>(), 1..6), any::<bool>())
				.prop_map(|(node, picks, keep)| Step::Deliver { node, picks, keep })
				.boxed(),
		),
		(2, any::<u64>().prop_map(|seed| Step::Sync { seed }).boxed()),
		(1, any::<Index>().prop_map(|node| Step::Flush { node }).boxed()),
		(crash, any::<Index>().prop_map(|node| Step::Crash { node }).boxed()),
		(
			rogue,
			(any::<Index>(), span)
				.prop_map(|(node, (sf, sh, span, target_fork))| Step::Rogue {
					node,
					source: (sf, sh),
					span,
					target_fork,
				})
				.boxed(),
		),
	];
	Union::new_weighted(options.into_iter().filter(|(w, _)| *w > 0).collect())
}

/// `n` in 4..=7 validators, `f` of them faulty with `3f < n`, a tree of two or three forks and
/// a schedule; with `force_crash`, one crash of an honest node at a random point.
fn scenario(crash: u32, rogue: u32, force_crash: bool) -> impl Strategy<Value = Scenario> {
	(4..=MAX_N)
		.prop_flat_map(|n| {
			// Mostly as many faulty validators as the bound allows: the interesting case.
			let max = (n - 1) / 3;
			let faulty = prop_oneof![2 => Just(max), 1 => 0..=max]
				.prop_flat_map(move |f| prop::sample::subsequence((0..n).collect::<Vec<_>>(), f));
			(Just(n), faulty)
		})
		.prop_flat_map(move |(n, faulty)| {
			(
				Just(n),
				Just(faulty),
				tree(),
				prop::collection::vec(step(crash, rogue), 10..60),
				(prop::collection::vec(0..MAX_FORKS, MAX_N), 0..MAX_FORKS),
				(any::<bool>(), any::<u64>()),
				(any::<Index>(), any::<Index>()),
			)
		})
		.prop_map(
			move |(
				n,
				faulty,
				tree,
				mut steps,
				(prefers, best_fork),
				(backing, seed),
				(at, node),
			)| {
				if force_crash {
					steps.insert(at.index(steps.len() + 1), Step::Crash { node });
				}
				Scenario { n, faulty, tree, steps, prefers, best_fork, backing, seed }
			},
		)
}

// ---------------------------------------------------------------------------------------------
// The simulation.

struct Node {
	index: ValidatorIndex,
	finality: CheckpointFinality<H256>,
	storage: Arc<MemoryStorage>,
	inbox: Vec<CheckpointSignature<H256>>,
	/// Own votes `record_own_vote` took, across crashes.
	own: Vec<Link<H256>>,
	/// The node's `last_finalized()` history.
	finalized: Vec<Checkpoint<H256>>,
	crashes: usize,
}

struct Sim<'a> {
	scenario: &'a Scenario,
	keys: &'a [ed25519::Pair],
	nodes: Vec<Node>,
	faulty: Vec<ValidatorIndex>,
	/// The height of the chains' newest checkpoints.
	height: u64,
	/// Every vote gossiped, in order: what peers send again to a restarted node.
	sent: Vec<CheckpointSignature<H256>>,
	/// Every checkpoint an honest node reported justified or finalized, every certificate.
	justified: BTreeSet<Checkpoint<H256>>,
	finalized: BTreeSet<Checkpoint<H256>>,
	certificates: Vec<CheckpointCertificate<H256>>,
}

impl<'a> Sim<'a> {
	fn new(scenario: &'a Scenario) -> Self {
		let keys = &all_keys()[..scenario.n];
		let nodes = (0..scenario.n)
			.filter(|i| !scenario.faulty.contains(i))
			.map(|i| {
				let storage = Arc::new(MemoryStorage::default());
				Node {
					index: i as ValidatorIndex,
					finality: in_memory(keys, storage.clone()),
					storage,
					inbox: Vec::new(),
					own: Vec::new(),
					finalized: vec![cp(0, 0)],
					crashes: 0,
				}
			})
			.collect();
		let faulty = scenario.faulty.iter().map(|i| *i as ValidatorIndex).collect();
		Self {
			scenario,
			keys,
			nodes,
			faulty,
			height: 1,
			sent: Vec::new(),
			justified: BTreeSet::new(),
			finalized: BTreeSet::from([cp(0, 0)]),
			certificates: Vec::new(),
		}
	}

	fn run(&mut self) -> Result<(), TestCaseError> {
		let scenario = self.scenario;
		let tree = &scenario.tree;
		for step in &scenario.steps {
			match step {
				Step::Tick => self.height = (self.height + 1).min(H - FINAL_ROUNDS),
				Step::Vote { node, fork } => {
					let node = node.index(self.nodes.len());
					let index = self.nodes[node].index as usize;
					self.honest_vote(node, fork.unwrap_or(scenario.prefers[index]))?
				}
				Step::Round => {
					for node in 0..self.nodes.len() {
						let index = self.nodes[node].index as usize;
						self.honest_vote(node, scenario.prefers[index])?;
					}
				}
				Step::Faulty { who, source: (sf, sh), span, target_fork } => {
					if !self.faulty.is_empty() {
						let who = self.faulty[who.index(self.faulty.len())];
						let target = tree.at(*target_fork, (sh + span).min(H));
						self.sign_and_send(who, link(tree.at(*sf, *sh), target));
					}
				}
				Step::Echo { who, pick, fork } => {
					if !self.faulty.is_empty() && !self.sent.is_empty() {
						let who = self.faulty[who.index(self.faulty.len())];
						// One of the latest votes: links still being voted on.
						let recent = self.sent.len().min(RECENT);
						let mut l = self.sent[self.sent.len() - 1 - pick.index(recent)].link;
						if let Some(fork) = fork {
							l.target = tree.at(*fork, l.target.number.0);
						}
						self.sign_and_send(who, l);
					}
				}
				Step::Deliver { node, picks, keep } => {
					let node = node.index(self.nodes.len());
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
					let node = &self.nodes[node.index(self.nodes.len())];
					node.finality.persistence().expect("storage set").flush().expect("flush");
				}
				Step::Crash { node } => self.crash(node.index(self.nodes.len()))?,
				Step::Rogue { node, source: (sf, sh), span, target_fork } => {
					let node = node.index(self.nodes.len());
					let target = tree.at(*target_fork, (sh + span).min(H));
					self.rogue_vote(node, link(tree.at(*sf, *sh), target))?;
				}
			}
		}

		// Eventually everything arrives, in a random order; then a few synchronous rounds on
		// the best fork.
		let mut seed = scenario.seed;
		self.deliver_all(&mut seed)?;
		for height in H - FINAL_ROUNDS + 1..=H {
			self.height = height;
			for node in 0..self.nodes.len() {
				self.honest_vote(node, scenario.best_fork)?;
			}
			self.deliver_all(&mut seed)?;
		}
		// Every node restarts once more: what it finalized, its guard and its own votes are
		// durable.
		for node in 0..self.nodes.len() {
			self.crash(node)?;
		}
		Ok(())
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

	fn sign_and_send(&mut self, who: ValidatorIndex, l: Link<H256>) {
		self.send(vote(&self.keys[who as usize], who, l));
	}

	/// Gossip: the vote joins every honest node's inbox.
	fn send(&mut self, v: CheckpointSignature<H256>) {
		for node in &mut self.nodes {
			node.inbox.push(v.clone());
		}
		self.sent.push(v);
	}

	/// The honest voter rule: target the newest checkpoint of fork `fork`, with the source the
	/// state machine proposes; abstain where it proposes nothing.
	fn honest_vote(&mut self, node: usize, fork: u8) -> Result<(), TestCaseError> {
		let tree = &self.scenario.tree;
		let n = &mut self.nodes[node];
		let target = tree.at(fork, self.height);
		let Some(l) = n.finality.own_vote_link(target, |c| tree.is_ancestor(c, &target)) else {
			return Ok(());
		};
		prop_assert_eq!(l.target, target);
		prop_assert!(tree.is_ancestor(&l.source, &target), "source of {:?} is not an ancestor", l);
		prop_assert!(
			n.finality.state().is_justified(&l.source),
			"source of {:?} is not justified",
			l
		);
		let v = vote(&self.keys[n.index as usize], n.index, l);
		let import = n
			.finality
			.record_own_vote(v.clone())
			.map_err(|e| fail(format!("node {}: own vote {l:?} refused: {e}", n.index)))?;
		n.own.push(l);
		self.observe(node, import.progress)?;
		self.send(v);
		if self.scenario.backing {
			for who in self.faulty.clone() {
				self.sign_and_send(who, l);
			}
		}
		Ok(())
	}

	/// A caller ignoring `own_vote_link`: whatever `record_own_vote` takes counts as an own
	/// vote and must keep E1/E2.
	fn rogue_vote(&mut self, node: usize, l: Link<H256>) -> Result<(), TestCaseError> {
		let n = &mut self.nodes[node];
		let v = vote(&self.keys[n.index as usize], n.index, l);
		if let Ok(import) = n.finality.record_own_vote(v) {
			n.own.push(l);
			self.observe(node, import.progress)?;
		}
		Ok(())
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

	fn observe(&mut self, node: usize, progress: Progress<H256>) -> Result<(), TestCaseError> {
		let n = &mut self.nodes[node];
		let last = n.finality.last_finalized();
		self.justified.extend(progress.justified);
		if let Some(certificate) = progress.finalized {
			prop_assert_eq!(certificate.link.source, last, "certificate is not of the finalized");
			self.finalized.insert(certificate.link.source);
			self.certificates.push(certificate);
		}
		let previous = *n.finalized.last().expect("starts with genesis");
		prop_assert!(
			previous.number <= last.number,
			"finality regressed: {:?} -> {:?}",
			previous,
			last
		);
		if previous != last {
			n.finalized.push(last);
			self.finalized.insert(last);
		}
		Ok(())
	}

	/// Replaces the node's state machine by a fresh one restored from the same storage: the
	/// write-behind buffer is lost, durable state kept. Peers gossip everything again.
	fn crash(&mut self, node: usize) -> Result<(), TestCaseError> {
		let n = &mut self.nodes[node];
		let (finalized, guard) = (n.finality.last_finalized(), n.finality.guard());
		let restarted = in_memory(self.keys, n.storage.clone());
		prop_assert_eq!(restarted.last_finalized(), finalized, "finality lost in a crash");
		prop_assert_eq!(restarted.guard(), guard, "own-vote guard lost in a crash");
		let restored = restarted.votes_of(&restarted.voters().authorities()[n.index as usize]);
		// Own votes that can still count (not expired by finality) come back, to be gossiped.
		for own in n.own.iter().filter(|l| l.source.number >= finalized.number) {
			prop_assert!(restored.iter().any(|v| v.link == *own), "own vote {:?} lost", own);
		}
		self.justified.insert(restarted.highest_justified());
		n.finality = restarted;
		n.inbox = self.sent.clone();
		n.crashes += 1;
		Ok(())
	}

	fn check_safety(&self) -> Result<(), TestCaseError> {
		let tree = &self.scenario.tree;
		check_one_chain(tree, &self.finalized).map_err(fail)?;
		check_justified(tree, &self.justified, &self.finalized).map_err(fail)?;
		let mut seen = BTreeSet::new();
		for certificate in &self.certificates {
			if seen.insert(codec::Encode::encode(certificate)) {
				check_certificate(tree, self.scenario.n, certificate).map_err(fail)?;
			}
		}
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

proptest! {
	#![proptest_config(config())]

	/// (a) With `3f < n`, all checkpoints any honest node finalized lie on one chain.
	#[test]
	fn honest_nodes_never_finalize_conflicting_checkpoints(scenario in scenario(1, 0, false)) {
		let mut sim = Sim::new(&scenario);
		sim.run()?;
		sim.check_safety()?;
		sim.check_own_votes()?;
	}

	/// (b) Every own vote a validator recorded keeps E1/E2 with every other, across a crash
	/// and restart from its storage, even when a caller tries arbitrary votes.
	#[test]
	fn own_votes_never_break_e1_e2_across_a_crash(scenario in scenario(1, 3, true)) {
		let mut sim = Sim::new(&scenario);
		sim.run()?;
		// The forced crash mid-schedule, besides the restart of every node at the end.
		prop_assert!(sim.nodes.iter().any(|n| n.crashes > 1));
		sim.check_own_votes()?;
	}

	/// (c) All honest on one chain, every vote delivered (in a random order): after the votes
	/// for `k + 1` checkpoint `k` is finalized, and not before. Up to `f` validators stay
	/// silent: the other `n - f` are a supermajority. Checked after every single vote: `k + 1`
	/// is justified and `k` finalized exactly when the `n - floor((n - 1) / 3)`-th vote for
	/// `k -> k + 1` arrives.
	#[test]
	fn one_honest_chain_finalizes_each_checkpoint(
		n in 4..=MAX_N,
		silent in any::<Index>(),
		mut seed in any::<u64>(),
	) {
		let keys = &all_keys()[..n];
		let voting = n - silent.index((n - 1) / 3 + 1);
		let threshold = n - (n - 1) / 3;
		let mut nodes: Vec<_> = (0..n).map(|_| finality(keys)).collect();
		let main = |c: &Checkpoint<H256>| c.hash == hash(0, c.number.0);
		for k in 1..=H {
			let target = cp(0, k);
			let mut round = Vec::new();
			for (i, node) in nodes.iter_mut().enumerate().take(voting) {
				let l = node.own_vote_link(target, main);
				prop_assert_eq!(l, Some(link(cp(0, k - 1), target)));
				let v = vote(&keys[i], i as ValidatorIndex, l.unwrap());
				node.record_own_vote(v.clone()).map_err(|e| fail(e.to_string()))?;
				round.push(v);
			}
			for (i, node) in nodes.iter_mut().enumerate() {
				shuffle(&mut round, &mut seed);
				let mut count = usize::from(i < voting);
				let mut others = round.iter().filter(|v| v.validator_index as usize != i);
				loop {
					let (justified, finalized) = if count >= threshold {
						(target, cp(0, k - 1))
					} else {
						(cp(0, k - 1), cp(0, k.saturating_sub(2)))
					};
					prop_assert_eq!(node.highest_justified(), justified, "node {} {} votes", i, count);
					prop_assert_eq!(node.last_finalized(), finalized, "node {} {} votes", i, count);
					let Some(v) = others.next() else { break };
					prop_assert!(node.add_checkpoint_signature(v.clone()).is_ok());
					count += 1;
				}
				prop_assert_eq!(count, voting);
			}
		}
	}
}

// ---------------------------------------------------------------------------------------------
// The checkers can fail: they catch what the protocol rules out once its assumptions break.

/// Two of four validators faulty (not below a third): two honest nodes finalize conflicting
/// checkpoints, and the safety checker says so.
#[test]
fn safety_checker_catches_conflicting_finality_beyond_the_fault_bound() {
	let keys = keys(4);
	let tree = Tree { parent: vec![0, 0], branch: vec![H, 0] };
	let mut finalized = BTreeSet::new();
	for (me, fork) in [(0usize, 0u8), (1, 1)] {
		let mut node = finality(&keys);
		for k in 1..=2 {
			let l = link(tree.at(fork, k - 1), tree.at(fork, k));
			for i in [me, 2, 3] {
				node.add_checkpoint_signature(vote(&keys[i], i as ValidatorIndex, l)).unwrap();
			}
		}
		finalized.insert(node.last_finalized());
	}
	assert_eq!(finalized, BTreeSet::from([cp(0, 1), cp(1, 1)]));
	assert!(check_one_chain(&tree, &finalized).is_err());
	let justified = BTreeSet::from([cp(1, 2)]);
	assert!(check_justified(&tree, &justified, &BTreeSet::from([cp(0, 1)])).is_err());
}

/// A validator restarted without its storage votes for the same height again; the own-vote
/// checker catches it (with storage restored, the guard refuses).
#[test]
fn own_vote_checker_catches_a_validator_that_forgot_its_votes() {
	let keys = keys(4);
	let storage = Arc::new(MemoryStorage::default());
	let mut node = in_memory(&keys, storage.clone());
	let first = node.own_vote_link(cp(0, 1), |_| true).unwrap();
	node.record_own_vote(vote(&keys[0], 0, first)).unwrap();

	assert_eq!(in_memory(&keys, storage).own_vote_link(cp(1, 1), |_| true), None);

	let mut amnesiac = finality(&keys);
	let second = amnesiac.own_vote_link(cp(1, 1), |_| true).unwrap();
	amnesiac.record_own_vote(vote(&keys[0], 0, second)).unwrap();
	assert!(check_own_votes(&[first, second]).is_err());
	assert!(check_own_votes(&[link(cp(0, 2), cp(0, 3)), link(cp(0, 1), cp(0, 4))]).is_err());
	assert!(check_own_votes(&[link(cp(0, 0), cp(0, 1)), link(cp(0, 1), cp(0, 2))]).is_ok());
}
