//! Property test of the set-change rules: nodes that see the same chain in any order agree on
//! the sets and never finalize off it, whatever else they see.
//!
//! The chain: checkpoints `1..=H` on the main chain (fork 0), two changes signalled on it (set
//! 1 at `s1`, set 2 at `s2 > s1`), and a fork (fork 1, branching above `branch`) whose block at
//! `fake_at` signals a fake set of a faulty author's keys under the id of one of the real
//! changes; another fake signal rides on a sibling block of the main chain whose import fails
//! (noted, then forgotten, as block import does). The honest validators certify every link
//! `k -> k + 1` of the main chain with the set in force for it, by the rule computed here apart
//! from the gadget: a change is enacted by the first finalized checkpoint at or above its
//! signal, one change per finalization.
//!
//! Each of three nodes, backed by a `MemoryStorage`, imports the blocks in height order (noting
//! signals), and in between takes the certificates in a random order, some of them again, none
//! of them for sure (delayed certificates), takes votes the fake keys signed for its set, and
//! crashes and restarts from its storage (rescanning the signals of the imported blocks above
//! its finality, as the node does; those below come from the store). At the end every block is
//! imported and every certificate arrives in order.
//!
//! Checked: no node ever finalizes a checkpoint off the main chain or holds the fake set; at
//! the end every node has finalized `H - 1` and holds the set the rule says, and no evidence was
//! stored against anyone.

mod common;

use common::*;
use parking_lot::Mutex;
use proptest::{prelude::*, test_runner::TestCaseError};
use sc_finality_checkpoint::{ChainAncestry, CheckpointFinality};
use sp_core::{ed25519, Pair, H256};
use sp_finality_checkpoint::{
	AuthorityId, AuthoritySet, CheckpointCertificate, CheckpointSignature, Link,
};
use std::{
	collections::BTreeSet,
	sync::{Arc, OnceLock},
};

/// The highest checkpoint of the chain.
const H: u64 = 10;

/// Keys of the honest validators: set `s` is `honest()[s..s + 4]`.
fn honest() -> &'static [ed25519::Pair] {
	static KEYS: OnceLock<Vec<ed25519::Pair>> = OnceLock::new();
	KEYS.get_or_init(|| keys(6))
}

/// The faulty author's keys.
fn fake() -> &'static [ed25519::Pair] {
	static KEYS: OnceLock<Vec<ed25519::Pair>> = OnceLock::new();
	KEYS.get_or_init(|| (0..4u8).map(|i| ed25519::Pair::from_seed(&[0xf0 + i; 32])).collect())
}

fn set_keys(id: u64) -> &'static [ed25519::Pair] {
	&honest()[id as usize..id as usize + 4]
}

fn authority_set(id: u64, keys: &[ed25519::Pair]) -> AuthoritySet {
	AuthoritySet { id, authorities: keys.iter().map(|k| AuthorityId::from(k.public())).collect() }
}

fn signed(keys: &[ed25519::Pair], link: Link<H256>) -> Vec<CheckpointSignature<H256>> {
	keys.iter().take(3).enumerate().map(|(i, k)| vote(k, i as u32, link)).collect()
}

#[derive(Debug, Clone)]
enum Action {
	/// Import the next block (height order).
	Import,
	/// Take the certificate of link `k -> k + 1`, `k` this modulo `H - 1`, plus one.
	Certificate(u64),
	/// Take the votes that make that certificate, one by one.
	Votes(u64),
	/// Take the fake keys' votes, under the fake set's id, for the links `k -> k + 1'` and
	/// `k + 1' -> k + 2'` onto fork 1 (a fork finality, and a double vote in the name of the
	/// real set's validators, if they counted).
	Forged(u64),
	/// Crash and restart from storage.
	Crash,
}

#[derive(Debug, Clone)]
struct Scenario {
	s1: u64,
	s2: u64,
	branch: u64,
	fake_at: u64,
	fake_id: u64,
	failed_at: u64,
	nodes: Vec<Vec<Action>>,
}

fn action() -> impl Strategy<Value = Action> {
	prop_oneof![
		4 => Just(Action::Import),
		3 => any::<u64>().prop_map(Action::Certificate),
		2 => any::<u64>().prop_map(Action::Votes),
		2 => any::<u64>().prop_map(Action::Forged),
		1 => Just(Action::Crash),
	]
}

fn scenario() -> impl Strategy<Value = Scenario> {
	(1..=4u64, 1..=4u64, 1..=3u64, 0..8u64, 1..=2u64, 1..=H).prop_flat_map(
		|(s1, gap, branch, fake_offset, fake_id, failed_at)| {
			let fake_at = (branch + 1 + fake_offset).min(H);
			let steps = prop::collection::vec(prop::collection::vec(action(), 0..48), 3);
			steps.prop_map(move |nodes| Scenario {
				s1,
				s2: s1 + gap,
				branch,
				fake_at,
				fake_id,
				failed_at,
				nodes,
			})
		},
	)
}

/// The set that signs the link `k -> k + 1`, for `k` in `1..H`, by the enactment rule.
fn certifying_sets(s1: u64, s2: u64) -> Vec<u64> {
	let mut current = 0;
	let mut sets = Vec::new();
	for k in 1..H {
		sets.push(current);
		// The link finalized `k`: the lowest signal at or below it not yet enacted takes over.
		let next = [(s1, 1), (s2, 2)].into_iter().find(|(s, id)| *id == current + 1 && *s <= k);
		if let Some((_, id)) = next {
			current = id;
		}
	}
	sets.push(current);
	sets
}

/// The blocks a node imported: main checkpoints up to a height, and the fork's.
struct Imported {
	branch: u64,
	blocks: Mutex<BTreeSet<H256>>,
}

impl Imported {
	fn position(&self, hash: &H256) -> Option<(u8, u64)> {
		(0..=H).flat_map(|n| [(0, n), (1, n)]).find(|(f, n)| cp(*f, *n).hash == *hash)
	}
}

impl ChainAncestry<H256> for Imported {
	fn is_ancestor(&self, ancestor: &H256, block: &H256) -> Option<bool> {
		let blocks = self.blocks.lock();
		if !blocks.contains(block) {
			return None;
		}
		let (Some((fa, na)), Some((fb, nb))) = (self.position(ancestor), self.position(block))
		else {
			return Some(false);
		};
		let on_chain = fa == fb || (fa == 0 && na <= self.branch);
		Some(blocks.contains(ancestor) && na <= nb && on_chain)
	}
}

struct Node {
	finality: CheckpointFinality<H256>,
	storage: Arc<MemoryStorage>,
	chain: Arc<Imported>,
	/// The height of the last block imported.
	height: u64,
}

struct Sim<'a> {
	scenario: &'a Scenario,
	certificates: Vec<CheckpointCertificate<H256>>,
}

impl Sim<'_> {
	fn start(&self, storage: Arc<MemoryStorage>, chain: Arc<Imported>) -> CheckpointFinality<H256> {
		let mut f = CheckpointFinality::new(GENESIS, voter_set(set_keys(0), 0), Default::default());
		f.set_storage(storage, persistence_config());
		f.restore_from_storage().expect("restores");
		f.set_chain(chain);
		f
	}

	/// What block import notes for the blocks at checkpoint `k`: the main block's signal, the
	/// fork block's fake one, and the failed sibling's fake one, forgotten again.
	fn note_imported(&self, node: &mut Node, k: u64) {
		let s = self.scenario;
		for (at, id) in [(s.s1, 1), (s.s2, 2)] {
			if at == k {
				node.finality.note_signal(cp(0, k), authority_set(id, set_keys(id)));
			}
		}
		if s.fake_at == k && k > s.branch {
			node.finality.note_signal(cp(1, k), authority_set(s.fake_id, fake()));
		}
		if s.failed_at == k {
			let sibling = cp(2, k);
			node.finality.note_signal(sibling, authority_set(s.fake_id, fake()));
			node.finality.forget_signals_of(&sibling.hash);
		}
	}

	fn import(&self, node: &mut Node) {
		if node.height >= H {
			return;
		}
		node.height += 1;
		let k = node.height;
		let mut blocks = vec![cp(0, k).hash];
		if k > self.scenario.branch {
			blocks.push(cp(1, k).hash);
		}
		// Noted before the block is in the client, as block import does.
		self.note_imported(node, k);
		node.chain.blocks.lock().extend(blocks);
		let _ = node.finality.retry_waiting();
	}

	fn crash(&self, node: &mut Node) {
		node.finality = self.start(node.storage.clone(), node.chain.clone());
		// The restart's header scan: signals of imported blocks above finality.
		let floor = node.finality.last_finalized().number.0;
		for k in floor + 1..=node.height {
			self.note_imported(node, k);
		}
	}

	fn check(&self, node: &Node, who: usize) -> Result<(), TestCaseError> {
		let finalized = node.finality.last_finalized();
		prop_assert_eq!(finalized, cp(0, finalized.number.0), "node {} off the main chain", who);
		let fake_set = authority_set(0, fake()).authorities;
		prop_assert!(
			node.finality.state().sets().enacted().all(|set| set.authorities != fake_set),
			"node {} holds the fake set",
			who
		);
		Ok(())
	}

	fn run(&self) -> Result<(), TestCaseError> {
		let mut nodes: Vec<Node> = (0..self.scenario.nodes.len())
			.map(|_| {
				let storage = Arc::new(MemoryStorage::default());
				let chain = Arc::new(Imported {
					branch: self.scenario.branch,
					blocks: Mutex::new(BTreeSet::from([GENESIS])),
				});
				Node {
					finality: self.start(storage.clone(), chain.clone()),
					storage,
					chain,
					height: 0,
				}
			})
			.collect();
		for (who, node) in nodes.iter_mut().enumerate() {
			for action in &self.scenario.nodes[who] {
				match action {
					Action::Import => self.import(node),
					Action::Certificate(k) => {
						let certificate = self.certificates[(*k % (H - 1)) as usize].clone();
						let _ = node.finality.import_certificate(certificate);
					}
					Action::Votes(k) => {
						let certificate = &self.certificates[(*k % (H - 1)) as usize];
						for v in signed(set_keys(certificate.link.set_id), certificate.link) {
							let _ = node.finality.add_checkpoint_signature(v);
						}
					}
					Action::Forged(k) => {
						let k = 1 + *k % (H - 2);
						let set_id = self.scenario.fake_id;
						let links = [
							Link { set_id, source: cp(0, k), target: cp(1, k + 1) },
							Link { set_id, source: cp(1, k + 1), target: cp(1, k + 2) },
						];
						for v in links.into_iter().flat_map(|link| signed(fake(), link)) {
							let _ = node.finality.add_checkpoint_signature(v);
						}
					}
					Action::Crash => self.crash(node),
				}
				self.check(node, who)?;
			}
			// Everything arrives.
			while node.height < H {
				self.import(node);
			}
			for certificate in &self.certificates {
				let _ = node.finality.import_certificate(certificate.clone());
				self.check(node, who)?;
			}
			let expected = *certifying_sets(self.scenario.s1, self.scenario.s2).last().unwrap();
			prop_assert_eq!(node.finality.last_finalized(), cp(0, H - 1), "node {}", who);
			prop_assert_eq!(node.finality.voters().set_id(), expected, "node {}", who);
			prop_assert_eq!(
				node.finality.voters().authorities(),
				&authority_set(expected, set_keys(expected)).authorities[..],
				"node {}",
				who
			);
			node.finality.persistence().unwrap().flush().unwrap();
			prop_assert_eq!(node.storage.evidence(), 0, "node {}: evidence", who);
		}
		Ok(())
	}
}

/// The certificates of the main chain's links `k -> k + 1`, `k` in `1..H`, each by its set.
fn certificates(s1: u64, s2: u64) -> Vec<CheckpointCertificate<H256>> {
	let sets = certifying_sets(s1, s2);
	(1..H)
		.map(|k| {
			let set_id = sets[(k - 1) as usize];
			let link = Link { set_id, source: cp(0, k), target: cp(0, k + 1) };
			let signatures = signed(set_keys(set_id), link)
				.into_iter()
				.map(|v| (v.validator_index, v.signature))
				.collect();
			CheckpointCertificate { link, signatures }
		})
		.collect()
}

proptest! {
	#![proptest_config(ProptestConfig { cases: 96, max_shrink_iters: 1024, ..ProptestConfig::default() })]

	/// See the module documentation.
	#[test]
	fn nodes_agree_on_the_sets_whatever_order_forks_failed_imports_and_restarts(
		scenario in scenario()
	) {
		let sim = Sim { scenario: &scenario, certificates: certificates(scenario.s1, scenario.s2) };
		sim.run()?;
	}
}

#[test]
fn the_enactment_rule_here_is_the_one_of_the_design() {
	// Set 1 signalled at 2, set 2 at 3: 2 enacts set 1, 3 enacts set 2.
	assert_eq!(certifying_sets(2, 3)[..4], [0, 0, 1, 2]);
	// Set 2 signalled at 6: set 1 certifies 3..=6.
	assert_eq!(certifying_sets(2, 6)[..7], [0, 0, 1, 1, 1, 1, 2]);
}
