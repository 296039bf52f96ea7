//! Safety and liveness across authority set changes, one test a finding (issue 17):
//!
//! 1. the old set's authority ends at the link that finalizes the enacting checkpoint, so
//!    honest votes fed in any order never finalize conflicting checkpoints across two sets;
//! 2. a set signalled on a fork (a faulty author's fake signal) never counts: votes held for
//!    it are checked again against the set enacted, and make no justification and no evidence;
//! 3. finality waits for the checkpoint's block even when no signal is known yet;
//! 4. a change signalled below the finalized checkpoint and not yet enacted survives a
//!    restart;
//! 5. a gadget behind its client's finality catches up from the client's justifications,
//!    enacting the set changes on the way;
//!
//! and a forced set that starts at the same checkpoint on every node.

mod common;

use common::*;
use parking_lot::Mutex;
use sc_finality_checkpoint::{
	authorities::ForcedSignal, ChainAncestry, CheckpointFinality, Error, OwnVoteGuard,
	VoteRejection,
};
use sp_core::{ed25519, Pair, H256};
use sp_finality_checkpoint::{
	AuthorityId, AuthoritySet, Checkpoint, CheckpointCertificate, CheckpointSignature, Epoch, Link,
};
use std::{collections::BTreeSet, sync::Arc};

fn authority_set(id: u64, keys: &[ed25519::Pair]) -> AuthoritySet {
	AuthoritySet { id, authorities: keys.iter().map(|k| AuthorityId::from(k.public())).collect() }
}

/// Votes of validators `indices` (keys `keys[i]` as index `i`) for `link`.
fn votes_of(
	keys: &[ed25519::Pair],
	indices: &[usize],
	link: Link<H256>,
) -> Vec<CheckpointSignature<H256>> {
	indices.iter().map(|i| vote(&keys[*i], *i as u32, link)).collect()
}

fn set_link(set_id: u64, source: Checkpoint<H256>, target: Checkpoint<H256>) -> Link<H256> {
	Link { set_id, source, target }
}

/// Whether `a` and `b` lie on one chain of the test tree, where fork 1 branches off the main
/// chain (fork 0) above checkpoint `branch`.
fn on_one_chain(branch: u64, a: &Checkpoint<H256>, b: &Checkpoint<H256>) -> bool {
	let fork = |c: &Checkpoint<H256>| u8::from(c.hash == cp(1, c.number.0).hash);
	let (low, high) = if a.number <= b.number { (a, b) } else { (b, a) };
	if low.number == high.number {
		return low == high;
	}
	(low.number.0 <= branch && fork(low) == 0) || fork(low) == fork(high)
}

/// Feeds `votes` in order to a fresh node of set 0 `keys[..4]` that noted set 1 `keys[4..]`
/// signalled at checkpoint 2, and returns every checkpoint it finalized.
fn finalized_in_order(
	keys: &[ed25519::Pair],
	votes: &[CheckpointSignature<H256>],
) -> Vec<Checkpoint<H256>> {
	let mut f = finality(&keys[..4]);
	assert!(f.note_signal(cp(0, 2), authority_set(1, &keys[4..])));
	let mut finalized = Vec::new();
	for v in votes {
		if let Ok(import) = f.add_checkpoint_signature(v.clone()) {
			finalized.extend(import.progress.finalized.map(|c| c.link.source));
		}
	}
	finalized
}

/// Finding 1. Checkpoint 2 enacts set 1 (four other validators). Honest set-0 validators vote
/// `2 -> 3`, then, their best chain moved to fork 1 before they saw 3 justified, `2 -> 4'`
/// (their guards allow it); set 1's vote `3 -> 4` and, having seen `4'` justified, `4' -> 5'`
/// (their guards allow that too). Before the fix, a node that enacted at 2 still counted
/// `2 -> 4'` (its source is the enacting checkpoint) and finalized `4'`, while another
/// finalized `3`: conflicting finality with no one accountable, the double vote split across
/// two sets.
#[test]
fn honest_votes_in_any_order_never_finalize_conflicting_checkpoints_across_a_set_change() {
	let keys = keys(8);
	let (old, new) = (&keys[..4], &keys[4..]);
	let signers = [0, 1, 2];
	let mut setup = Vec::new();
	for k in 1..=2 {
		setup.extend(votes_of(old, &signers, link(cp(0, k - 1), cp(0, k))));
	}
	let groups = [
		votes_of(old, &signers, link(cp(0, 2), cp(0, 3))),
		votes_of(old, &signers, link(cp(0, 2), cp(1, 4))),
		votes_of(new, &signers, set_link(1, cp(0, 3), cp(0, 4))),
		votes_of(new, &signers, set_link(1, cp(1, 4), cp(1, 5))),
	];
	// Every validator's votes keep its guard, in the order it cast them: all honest.
	for set_id in [0, 1] {
		for i in signers {
			let mut guard = OwnVoteGuard::default();
			let cast = setup.iter().chain(groups.iter().flatten());
			for v in cast.filter(|v| v.link.set_id == set_id && v.validator_index as usize == i) {
				assert!(guard.permits(&v.link), "{set_id}/{i}: {:?} breaks its guard", v.link);
				guard = guard.raised(&v.link);
			}
		}
	}

	let mut orders: Vec<Vec<usize>> = Vec::new();
	permutations(&mut vec![0, 1, 2, 3], 0, &mut orders);
	let mut seed = 17u64;
	let mut all = BTreeSet::new();
	for (round, order) in orders.iter().enumerate() {
		let mut fed = setup.clone();
		fed.extend(order.iter().flat_map(|g| groups[*g].clone()));
		// The group orders, and the same with the votes of the four groups shuffled.
		for shuffled in [false, true] {
			let mut votes = fed.clone();
			if shuffled {
				shuffle(&mut votes[setup.len()..], &mut seed);
			}
			let finalized = finalized_in_order(&keys, &votes);
			for a in &finalized {
				for b in &all {
					assert!(on_one_chain(2, a, b), "order {round} finalized {a:?}, another {b:?}");
				}
			}
			all.extend(finalized);
		}
	}
	// The old set's authority ended at 2 -> 3: 3 is final everywhere, 4' nowhere.
	assert!(all.contains(&cp(0, 3)), "{all:?}");
	assert!(!all.iter().any(|c| c.hash == cp(1, 4).hash), "{all:?}");
}

/// Finding 1, the rule itself: once 2 enacts set 1, set 0's links above it are refused, but
/// for the one that finalized 2, and a node that justified `4'` by them before it learned of
/// the enactment drops that justification.
#[test]
fn the_old_sets_links_above_the_enacting_checkpoint_are_refused_and_forgotten() {
	let keys = keys(4);
	let mut f = finality(&keys);
	assert!(f.note_signal(cp(0, 2), authority_set(1, &keys)));
	for k in 1..=2 {
		for v in votes(&keys, 3, link(cp(0, k - 1), cp(0, k))) {
			f.add_checkpoint_signature(v).unwrap();
		}
	}
	for v in votes(&keys, 3, link(cp(0, 2), cp(1, 4))) {
		f.add_checkpoint_signature(v).unwrap();
	}
	assert_eq!(f.highest_justified(), cp(1, 4), "set 0 justified 4' before the enactment");
	for v in votes(&keys, 3, link(cp(0, 2), cp(0, 3))) {
		f.add_checkpoint_signature(v).unwrap();
	}
	assert_eq!((f.last_finalized(), f.voters().set_id()), (cp(0, 2), 1));
	assert_eq!(f.highest_justified(), cp(0, 3), "4' was justified by set 0 beyond its authority");
	assert!(matches!(
		f.add_checkpoint_signature(vote(&keys[3], 3, link(cp(0, 2), cp(1, 4)))),
		Err(VoteRejection::WrongSet { current: 1, got: 0 })
	));
	// The own vote from 4' would be set 1's from a source set 1 never justified: no link.
	assert_eq!(f.own_vote_link(cp(1, 5), |c| c.number.0 <= 2 || c.hash == cp(1, 4).hash), None);
	assert_eq!(
		f.own_vote_link(cp(0, 4), |_| true).map(|l| (l.set_id, l.source)),
		Some((1, cp(0, 3)))
	);
}

/// Finding 1, the voter's side: with a change signalled at 2 and not enacted yet, an own
/// vote from source 2 or above goes to the next checkpoint only; a vote further up takes a
/// source below the signal. So an old-set validator that missed the enacting finality never
/// justifies a fork above the signal by itself.
#[test]
fn above_a_signal_the_old_set_votes_only_the_finalizing_link() {
	let keys = keys(4);
	let mut f = finality(&keys);
	for k in 1..=2 {
		for v in votes(&keys, 3, link(cp(0, k - 1), cp(0, k))) {
			f.add_checkpoint_signature(v).unwrap();
		}
	}
	assert_eq!((f.last_finalized(), f.highest_justified()), (cp(0, 1), cp(0, 2)));
	// The main chain is the target's; fork 1's checkpoint 2 is not on it.
	let main = |c: &Checkpoint<H256>| c.hash != cp(1, 2).hash;
	let own = |f: &CheckpointFinality<H256>, target| f.own_vote_link(target, main);
	assert_eq!(own(&f, cp(0, 4)).map(|l| l.source), Some(cp(0, 2)), "no signal yet");
	// A signal on another chain than the target's changes nothing.
	assert!(f.note_signal(cp(1, 2), authority_set(1, &keys)));
	assert_eq!(own(&f, cp(0, 4)).map(|l| l.source), Some(cp(0, 2)), "a fork's signal");
	assert!(f.note_signal(cp(0, 2), authority_set(1, &keys)));
	assert_eq!(own(&f, cp(0, 3)).map(|l| (l.set_id, l.source)), Some((0, cp(0, 2))));
	assert_eq!(own(&f, cp(0, 4)).map(|l| l.source), Some(cp(0, 1)), "from below the signal");
}

/// Finding 2. A faulty author seals checkpoint block 2' on a fork with a fake signal of set 1
/// (keys of its own); the real chain signals the real set 1 at 2. Votes signed by the fake
/// keys arrive early and are held; checkpoint 2 is finalized on the real chain. Before the
/// fix, the held votes were taken as verified: they justified 4 as the real set's validators
/// 0..2 and made evidence against them.
#[test]
fn votes_held_for_a_fake_signal_make_no_justification_and_no_evidence() {
	let keys = keys(4);
	let fake: Vec<_> = (0..4u8).map(|i| ed25519::Pair::from_seed(&[0xf0 + i; 32])).collect();
	let storage = Arc::new(MemoryStorage::default());
	let mut f = finality(&keys);
	f.set_storage(storage.clone(), persistence_config());
	f.restore_from_storage().unwrap();
	let chain = Tree::new(1);
	f.set_chain(chain.clone());
	chain.import(&[cp(0, 1), cp(0, 2), cp(0, 3), cp(1, 2)]);
	assert!(f.note_signal(cp(1, 2), authority_set(1, &fake)), "the fake signal, on a fork");
	assert!(f.note_signal(cp(0, 2), authority_set(1, &keys)), "the real one");

	// Set 1 votes signed by the fake keys, as validators 0..3: all held.
	let mut forged = votes_of(&fake, &[0, 1, 2], set_link(1, cp(0, 3), cp(0, 4)));
	// And a conflicting pair "of validator 0" (E1), to frame the real validator 0.
	forged.push(vote(&fake[0], 0, set_link(1, cp(0, 3), cp(1, 4))));
	for v in &forged {
		let held = f.add_checkpoint_signature(v.clone()).expect("held for the signalled fake set");
		assert_eq!(held.progress.finalized, None);
	}

	for k in 1..=3 {
		for v in votes(&keys, 3, link(cp(0, k - 1), cp(0, k))) {
			f.add_checkpoint_signature(v).unwrap();
		}
	}
	assert_eq!((f.last_finalized(), f.voters().set_id()), (cp(0, 2), 1));
	assert_eq!(f.voters().authorities(), &authority_set(1, &keys).authorities[..]);
	assert_eq!(f.highest_justified(), cp(0, 3), "nothing justified by the fake keys");
	assert_eq!(f.counters().equivocations, 0);
	f.persistence().unwrap().flush().unwrap();
	assert_eq!(storage.evidence(), 0, "no evidence against the real set");
	let own = f.votes_of(&keys[0].public().into());
	assert!(own.iter().all(|v| v.link.set_id == 0), "no set 1 vote in validator 0's name: {own:?}");

	// The real set 1 finalizes from there.
	let mut finalized = None;
	for v in votes_of(&keys, &[0, 1, 2], set_link(1, cp(0, 3), cp(0, 4))) {
		finalized = f.add_checkpoint_signature(v).unwrap().progress.finalized.or(finalized);
	}
	assert_eq!(finalized.map(|c| c.link.source), Some(cp(0, 3)));
}

/// Finding 2, at import: the signal of a block whose import fails is forgotten, so its set
/// is never enacted, whatever is finalized.
#[test]
fn the_signal_of_a_block_that_failed_to_import_is_forgotten() {
	let keys = keys(4);
	let fake: Vec<_> = (0..4u8).map(|i| ed25519::Pair::from_seed(&[0xf0 + i; 32])).collect();
	let mut f = finality(&keys);
	assert!(f.note_signal(cp(0, 2), authority_set(1, &fake)));
	f.forget_signals_of(&cp(0, 2).hash);
	assert!(f.state().sets().pending().is_empty());
	for k in 1..=3 {
		for v in votes(&keys, 3, link(cp(0, k - 1), cp(0, k))) {
			f.add_checkpoint_signature(v).unwrap();
		}
	}
	assert_eq!((f.last_finalized(), f.voters().set_id()), (cp(0, 2), 0));
}

/// Finding 3. A certificate of checkpoint 2 arrives before block 2, which signals set 1, is
/// imported. Before the fix, with no signal noted yet, the gadget finalized 2 at once without
/// enacting set 1, and refused every certificate of set 1 after it.
#[test]
fn finality_waits_for_the_checkpoint_block_even_with_no_signal_known() {
	let keys = keys(4);
	let mut f = finality(&keys);
	let chain = Tree::new(16);
	f.set_chain(chain.clone());
	chain.import(&[cp(0, 1)]);
	for k in 1..=3 {
		for v in votes(&keys, 3, link(cp(0, k - 1), cp(0, k))) {
			let _ = f.add_checkpoint_signature(v);
		}
	}
	assert_eq!(f.last_finalized(), cp(0, 1), "checkpoint 2 waits for its block");
	assert!(f.is_waiting());
	assert!(matches!(f.retry_waiting(), Err(Error::BlockNotImported(Epoch(2)))));

	// Block import notes the signal, then the block is in.
	assert!(f.note_signal(cp(0, 2), authority_set(1, &keys[1..])));
	chain.import(&[cp(0, 2), cp(0, 3)]);
	let progress = f.retry_waiting().unwrap();
	assert_eq!(progress.finalized.map(|c| c.link.source), Some(cp(0, 2)));
	assert_eq!(f.voters().set_id(), 1, "enacted");
}

/// More than a third signed for two chains: a valid certificate for a block off the finalized
/// chain is refused with an error that says so, and finality stays on its chain.
#[test]
fn a_certificate_off_the_finalized_chain_is_refused() {
	let keys = keys(4);
	let mut f = finality(&keys);
	let chain = Tree::new(2);
	f.set_chain(chain.clone());
	chain.import(&[cp(0, 1), cp(0, 2), cp(0, 3), cp(0, 4), cp(1, 3), cp(1, 4), cp(1, 5)]);
	for k in 1..=4 {
		for v in votes(&keys, 3, link(cp(0, k - 1), cp(0, k))) {
			f.add_checkpoint_signature(v).unwrap();
		}
	}
	assert_eq!(f.last_finalized(), cp(0, 3));
	let l = link(cp(1, 4), cp(1, 5));
	let other = CheckpointCertificate {
		link: l,
		signatures: votes(&keys, 3, l)
			.into_iter()
			.map(|v| (v.validator_index, v.signature))
			.collect(),
	};
	let refused = f.import_certificate(other);
	assert!(matches!(refused, Err(Error::ConflictingFinality { .. })), "{refused:?}");
	assert_eq!(f.last_finalized(), cp(0, 3), "finality stays on its chain");
}

/// Finding 4. Two changes are signalled (set 1 at 2, set 2 at 4) and finality jumps to 5: set
/// 1 is enacted, set 2 waits for the next finalization, its signal below finality. Before the
/// fix, a restart lost it (signals were not stored, and headers are scanned only above
/// finality): the others enacted set 2, this node never did.
#[test]
fn a_change_signalled_below_finality_survives_a_restart() {
	let dir = tempfile::tempdir().unwrap();
	let keys = keys(6);
	let mut f = open(dir.path(), &keys[..4]);
	assert!(f.note_signal(cp(0, 2), authority_set(1, &keys[1..5])));
	assert!(f.note_signal(cp(0, 4), authority_set(2, &keys[2..6])));
	for v in votes(&keys, 3, link(cp(0, 0), cp(0, 5))) {
		f.add_checkpoint_signature(v).unwrap();
	}
	for v in votes(&keys, 3, link(cp(0, 5), cp(0, 6))) {
		f.add_checkpoint_signature(v).unwrap();
	}
	assert_eq!((f.last_finalized(), f.voters().set_id()), (cp(0, 5), 1));
	drop(f);

	let mut f = open(dir.path(), &keys[..4]);
	assert_eq!(f.voters().set_id(), 1);
	assert_eq!(f.state().sets().pending().len(), 1, "set 2's signal is back");
	// Set 1 (validators 1..5 as 0..4) finalizes 6: set 2 is enacted.
	let set_1 = &keys[1..5];
	for v in votes_of(set_1, &[0, 1, 2], set_link(1, cp(0, 6), cp(0, 7))) {
		f.add_checkpoint_signature(v).unwrap();
	}
	assert_eq!((f.last_finalized(), f.voters().set_id()), (cp(0, 6), 2));
	assert_eq!(f.voters().authorities(), &authority_set(2, &keys[2..6]).authorities[..]);
}

/// Finding 5. The client finalized up to checkpoint 6 with justifications on checkpoints 1, 2
/// (which enacts set 1) and 6 (set 1's, after a catch-up jump over 3..5), while the gadget's
/// database was moved aside. Before the fix the worker imported only the justification of the
/// client's finalized block, of set 1, which a gadget still on set 0 refuses; and it asked no
/// peer, since the client's finality was ahead.
#[test]
fn a_gadget_behind_its_client_catches_up_from_the_clients_justifications() {
	let keys = keys(5);
	let set_1 = &keys[1..5];
	let certificate = |set_id, signers: &[ed25519::Pair], source: u64, target: u64| {
		let link = set_link(set_id, cp(0, source), cp(0, target));
		let votes = votes_of(signers, &[0, 1, 2], link);
		CheckpointCertificate {
			link,
			signatures: votes.into_iter().map(|v| (v.validator_index, v.signature)).collect(),
		}
	};
	// Blocks 1 and 2 (heights 5 and 10, epochs 2 and 4) finalized by their round twos, the
	// second enacting set 1, which finalizes block 6 (epoch 12). Block `k`'s hash is epoch
	// `2k`'s.
	let on_client = [
		(1, certificate(0, &keys[..4], 2, 3)),
		(2, certificate(0, &keys[..4], 4, 5)),
		(6, certificate(1, set_1, 12, 13)),
	];
	let interval = 5;
	let justification_at = |height: u64| {
		let block = height / u64::from(interval);
		let found = on_client.iter().find(|(n, _)| *n == block);
		Some((cp(0, 2 * block).hash, found.map(|(_, c)| c.to_justification())))
	};
	let mut f = finality(&keys[..4]);
	assert!(f.note_signal(cp(0, 4), authority_set(1, set_1)));

	let (progress, stuck) = sc_finality_checkpoint::import_client_justifications(
		&mut f,
		interval,
		Epoch(1),
		Epoch(12),
		64,
		justification_at,
	);
	assert!(!stuck);
	assert_eq!(progress.finalized.map(|c| c.link.source), Some(cp(0, 12)));
	assert_eq!((f.last_finalized(), f.voters().set_id()), (cp(0, 12), 1));

	// A batch that ends before the next justification moves nothing and is not stuck; a
	// forged one stops the walk.
	let mut g = finality(&keys[..4]);
	let (progress, stuck) = sc_finality_checkpoint::import_client_justifications(
		&mut g,
		interval,
		Epoch(6),
		Epoch(10),
		64,
		justification_at,
	);
	assert!(progress.finalized.is_none() && !stuck);
	let (_, stuck) = sc_finality_checkpoint::import_client_justifications(
		&mut g,
		interval,
		Epoch(12),
		Epoch(12),
		64,
		justification_at,
	);
	assert!(stuck, "set 1's certificate before set 1 is enacted here");
	assert_eq!(g.last_finalized(), cp(0, 0));
}

/// A forced set starts at the checkpoint at or below its signalling block, the same on every
/// node: one that had finalized 1 and one that had finalized 2 agree on which set a link
/// belongs to, and both take the base as finalized (the forcing chain's, as GRANDPA's forced
/// change restarts its voters from the block it names). Before, each started the set at its
/// own finalized checkpoint.
#[test]
fn a_forced_set_starts_at_the_same_checkpoint_on_every_node() {
	let keys = keys(4);
	let survivors = authority_set(1, &keys[..2]);
	let signal = ForcedSignal {
		block_number: 16,
		block_hash: H256::repeat_byte(16),
		delay: 2,
		set: survivors,
		base: cp(0, 3),
	};
	let dir = tempfile::tempdir().unwrap();
	let mut nodes: Vec<_> = [1u64, 2]
		.into_iter()
		.map(|finalized_at| {
			let path = dir.path().join(finalized_at.to_string());
			let mut f = open(&path, &keys);
			for k in 1..=finalized_at + 1 {
				for v in votes(&keys, 3, link(cp(0, k - 1), cp(0, k))) {
					f.add_checkpoint_signature(v).unwrap();
				}
			}
			assert_eq!(f.last_finalized(), cp(0, finalized_at));
			assert!(f.note_forced(signal.clone()));
			assert!(f.apply_forced(18, H256::repeat_byte(18)).unwrap().is_some());
			// A restart starts the forced set at its base again.
			drop(f);
			open(&path, &keys)
		})
		.collect();
	let forced_votes = |source, target| votes_of(&keys, &[0, 1], set_link(1, source, target));
	for (node, f) in nodes.iter_mut().enumerate() {
		assert_eq!(f.voters().set_id(), 1);
		assert_eq!(f.last_finalized(), cp(0, 3), "node {node}: the base");
		// The old set's link above the base is refused everywhere.
		assert!(matches!(
			f.add_checkpoint_signature(vote(&keys[2], 2, link(cp(0, 3), cp(0, 4)))),
			Err(VoteRejection::WrongSet { .. })
		));
		let mut finalized = None;
		for (source, target) in [(3, 4), (4, 5)] {
			for v in forced_votes(cp(0, source), cp(0, target)) {
				finalized = f.add_checkpoint_signature(v).unwrap().progress.finalized.or(finalized);
			}
		}
		assert_eq!(finalized.map(|c| (c.link.set_id, c.link.source)), Some((1, cp(0, 4))));
	}
}

/// The ancestry of the tree of [`on_one_chain`] with fork 1 branching above checkpoint
/// `branch`, with blocks imported as the test says.
struct Tree {
	branch: u64,
	imported: Mutex<BTreeSet<H256>>,
}

impl Tree {
	fn new(branch: u64) -> Arc<Self> {
		Arc::new(Self { branch, imported: Mutex::default() })
	}

	fn import(&self, checkpoints: &[Checkpoint<H256>]) {
		self.imported.lock().extend(checkpoints.iter().map(|c| c.hash));
	}
}

impl ChainAncestry<H256> for Tree {
	fn is_ancestor(&self, ancestor: &H256, block: &H256) -> Option<bool> {
		let imported = self.imported.lock();
		if !imported.contains(block) {
			return None;
		}
		let of =
			|hash: &H256| (0..=16).flat_map(|n| [cp(0, n), cp(1, n)]).find(|c| c.hash == *hash);
		let (Some(a), Some(b)) = (of(ancestor), of(block)) else { return Some(false) };
		Some(
			imported.contains(ancestor)
				&& a.number <= b.number
				&& on_one_chain(self.branch, &a, &b),
		)
	}
}

fn permutations(items: &mut Vec<usize>, k: usize, out: &mut Vec<Vec<usize>>) {
	if k == items.len() {
		out.push(items.clone());
		return;
	}
	for i in k..items.len() {
		items.swap(k, i);
		permutations(items, k + 1, out);
		items.swap(k, i);
	}
}
