//! Authority set changes through the shell on a real kvdb-rocksdb database: the hand-over at
//! the enacting checkpoint, votes of the next set that arrive early, the old set's votes
//! refused after it, the enacted set surviving a restart, its certificate surviving pruning,
//! and a finality that waits for the block that tells whether a signal is on its chain.

mod common;

use common::*;
use parking_lot::Mutex;
use sc_finality_checkpoint::{
	authorities::ForcedSignal, ChainAncestry, CheckpointDB, CheckpointFinality,
	CheckpointStorageAdapter, Error, VoteRejection,
};
use sp_core::{ed25519, Pair, H256};
use sp_finality_checkpoint::{AuthorityId, AuthoritySet, Checkpoint, Epoch, Link};
use std::sync::Arc;

/// Set 0 is validators 0..4, set 1 drops validator 0 and adds validator 4.
fn sets() -> (Vec<ed25519::Pair>, AuthoritySet) {
	let keys = keys(5);
	let next = AuthoritySet {
		id: 1,
		authorities: keys[1..].iter().map(|k| AuthorityId::from(k.public())).collect(),
	};
	(keys, next)
}

fn link_of(set_id: u64, source: u64, target: u64) -> Link<H256> {
	Link { set_id, source: cp(0, source), target: cp(0, target) }
}

/// Votes of set 1 (validators 1..5 as indices 0..4) `indices` for `source -> target`.
fn set_1_votes(
	keys: &[ed25519::Pair],
	indices: &[u32],
	source: u64,
	target: u64,
) -> Vec<sp_finality_checkpoint::CheckpointSignature<H256>> {
	indices.iter().map(|i| vote(&keys[*i as usize + 1], *i, link_of(1, source, target))).collect()
}

#[test]
fn a_set_change_hands_over_at_the_enacting_checkpoint_and_survives_a_restart() {
	let dir = tempfile::tempdir().unwrap();
	let (keys, next) = sets();
	let mut f = open(dir.path(), &keys[..4]);
	assert!(f.note_signal(cp(0, 2), next.clone()));
	assert!(!f.note_signal(cp(0, 2), next.clone()), "noted once");
	for k in 1..=2 {
		for v in votes(&keys, 3, link(cp(0, k - 1), cp(0, k))) {
			f.add_checkpoint_signature(v).unwrap();
		}
	}
	assert_eq!(f.last_finalized(), cp(0, 1));
	assert_eq!(f.voters().set_id(), 0);

	// Validator 4, new in set 1, votes early: the vote waits instead of being refused.
	let early = set_1_votes(&keys, &[3], 3, 4).remove(0);
	let held = f.add_checkpoint_signature(early.clone()).unwrap();
	assert_eq!(held.progress.finalized, None);
	// A vote of a set nobody signalled is refused.
	let unknown = vote(&keys[4], 0, link_of(2, 3, 4));
	assert_eq!(
		f.add_checkpoint_signature(unknown),
		Err(VoteRejection::FutureSet { current: 0, got: 2 })
	);

	// Set 0's link 2 -> 3 finalizes checkpoint 2, the signalling block: set 1 takes over.
	for v in votes(&keys, 3, link(cp(0, 2), cp(0, 3))) {
		f.add_checkpoint_signature(v).unwrap();
	}
	assert_eq!(f.last_finalized(), cp(0, 2));
	assert_eq!(f.voters().set_id(), 1);
	assert_eq!(f.votes_of(&keys[4].public().into()), vec![early], "the early vote is taken");

	// Set 0's votes above the enacting checkpoint are refused, and so are set 1's from it.
	assert!(matches!(
		f.add_checkpoint_signature(vote(&keys[0], 0, link(cp(0, 3), cp(0, 4)))),
		Err(VoteRejection::WrongSet { current: 1, got: 0 })
	));
	assert!(matches!(
		f.add_checkpoint_signature(set_1_votes(&keys, &[0], 2, 4).remove(0)),
		Err(VoteRejection::WrongSet { .. })
	));
	// Our own vote now signs with set 1.
	assert_eq!(f.own_vote_link(cp(0, 4), |_| true).map(|l| l.set_id), Some(1));

	// Two more of set 1 and the early vote make the supermajority that finalizes checkpoint 3.
	let mut finalized = None;
	for v in set_1_votes(&keys, &[0, 1], 3, 4) {
		finalized = f.add_checkpoint_signature(v).unwrap().progress.finalized.or(finalized);
	}
	let certificate = finalized.expect("set 1 finalizes checkpoint 3");
	assert_eq!((certificate.link.set_id, certificate.link.source), (1, cp(0, 3)));
	drop(f);

	// A restart resumes on set 1.
	let mut f = open(dir.path(), &keys[..4]);
	assert_eq!(f.voters().set_id(), 1);
	assert_eq!(f.last_finalized(), cp(0, 3));
	assert_eq!(f.voters().authorities(), &next.authorities[..]);
	for target in 5..=20 {
		for v in set_1_votes(&keys, &[0, 1, 2], target - 1, target) {
			f.add_checkpoint_signature(v).unwrap();
		}
	}
	assert_eq!(f.last_finalized(), cp(0, 19));
	// Pruning keeps the certificate that enacted set 1: a syncing node follows the change by it.
	let persistence = f.persistence().unwrap().clone();
	persistence.prune_old_checkpoints().unwrap();
	let storage = persistence.storage();
	let kept = storage.certificate(Epoch(2)).unwrap().expect("enacting certificate");
	assert_eq!((kept.link.set_id, kept.link.source), (0, cp(0, 2)));
	assert_eq!(storage.certificate(Epoch(5)).unwrap(), None, "pruned");
}

/// A chain whose blocks are imported as the test says; every imported block descends from
/// every other (one chain).
#[derive(Default)]
struct Chain(Mutex<Vec<H256>>);

impl ChainAncestry<H256> for Chain {
	fn is_ancestor(&self, ancestor: &H256, block: &H256) -> Option<bool> {
		let imported = self.0.lock();
		imported.contains(block).then(|| imported.contains(ancestor))
	}
}

#[test]
fn a_checkpoint_above_a_signal_waits_for_its_block() {
	let (keys, next) = sets();
	let mut f = finality(&keys[..4]);
	let chain = Arc::new(Chain::default());
	f.set_chain(chain.clone());
	chain.0.lock().extend([cp(0, 1).hash, cp(0, 2).hash, cp(0, 3).hash]);
	assert!(f.note_signal(cp(0, 2), next));
	for k in 1..=3 {
		for v in votes(&keys, 3, link(cp(0, k - 1), cp(0, k))) {
			f.add_checkpoint_signature(v).unwrap();
		}
	}
	assert_eq!(f.last_finalized(), cp(0, 2), "checkpoint 2 enacts set 1");
	assert_eq!(f.voters().set_id(), 1);

	// A second change signalled at 4; set 1 finalizes 4 before its block is imported here.
	let third = AuthoritySet { id: 2, authorities: vec![AuthorityId::from(keys[0].public())] };
	assert!(f.note_signal(Checkpoint::new(4, cp(0, 4).hash), third));
	for (source, target) in [(3, 4), (4, 5)] {
		for v in set_1_votes(&keys, &[0, 1, 2], source, target) {
			f.add_checkpoint_signature(v).unwrap();
		}
	}
	assert_eq!(f.last_finalized(), cp(0, 3), "checkpoint 4 waits for its block");
	assert!(f.is_waiting());
	assert!(matches!(f.retry_waiting(), Err(Error::BlockNotImported(Epoch(4)))));

	chain.0.lock().push(cp(0, 4).hash);
	let progress = f.retry_waiting().unwrap();
	assert_eq!(progress.finalized.map(|c| c.link.source), Some(cp(0, 4)));
	assert_eq!(f.voters().set_id(), 2);
	assert!(!f.is_waiting());
}

/// Half of set 0 is gone for good: root forces the survivors in. The change takes effect at
/// the import of the block `delay` after the signal, without finality; the new set votes from
/// the finalized checkpoint on and finalizes by itself; the old set's votes above it are
/// refused; a restart keeps the forced set.
#[test]
fn a_forced_change_takes_over_without_finality_and_survives_a_restart() {
	let dir = tempfile::tempdir().unwrap();
	let (keys, _) = sets();
	let mut f = open(dir.path(), &keys[..4]);
	for k in 1..=2 {
		for v in votes(&keys, 3, link(cp(0, k - 1), cp(0, k))) {
			f.add_checkpoint_signature(v).unwrap();
		}
	}
	assert_eq!(f.last_finalized(), cp(0, 1));
	// Validators 2 and 3 are gone: nothing more is finalized. Root forces 0 and 1 in.
	let survivors = AuthoritySet {
		id: 1,
		authorities: keys[..2].iter().map(|k| AuthorityId::from(k.public())).collect(),
	};
	// Signalled in a block above checkpoint 1, the one finalized: the forced set starts there.
	let signal = ForcedSignal {
		block_number: 10,
		block_hash: H256::repeat_byte(10),
		delay: 2,
		set: survivors.clone(),
		base: cp(0, 1),
	};
	assert!(f.note_forced(signal));
	assert_eq!(f.apply_forced(11, H256::repeat_byte(11)).unwrap(), None, "not in force yet");
	assert_eq!(f.voters().set_id(), 0);
	assert!(f.apply_forced(12, H256::repeat_byte(12)).unwrap().is_some());
	assert_eq!(f.voters().set_id(), 1);

	// The old set's votes at or above the finalized checkpoint are refused; the new set's may
	// have their source at it.
	assert!(matches!(
		f.add_checkpoint_signature(vote(&keys[0], 0, link(cp(0, 1), cp(0, 3)))),
		Err(VoteRejection::WrongSet { current: 1, got: 0 })
	));
	let forced_vote =
		|i: usize, source, target| vote(&keys[i], i as u32, link_of(1, source, target));
	for i in 0..2 {
		f.add_checkpoint_signature(forced_vote(i, 1, 3)).unwrap();
	}
	let mut finalized = None;
	for i in 0..2 {
		finalized = f.add_checkpoint_signature(forced_vote(i, 3, 4)).unwrap().progress.finalized;
	}
	assert_eq!(finalized.map(|c| (c.link.set_id, c.link.source)), Some((1, cp(0, 3))));
	drop(f);

	let f = open(dir.path(), &keys[..4]);
	assert_eq!(f.voters().set_id(), 1);
	assert_eq!(f.voters().authorities(), &survivors.authorities[..]);
	assert_eq!(f.last_finalized(), cp(0, 3));
}

/// The first start stores the set it was given (genesis's): a restart takes the stored sets,
/// whatever the node reads from the runtime then (state pruning discards genesis's state, and
/// a later block's state may hold another set).
#[test]
fn the_genesis_set_is_stored_at_the_first_start() {
	let dir = tempfile::tempdir().unwrap();
	let (keys, _) = sets();
	drop(open(dir.path(), &keys[..4]));
	let db = Arc::new(CheckpointDB::new(dir.path()).unwrap());
	let mut restarted =
		CheckpointFinality::new(GENESIS, voter_set(&keys[1..], 7), Default::default());
	restarted.set_storage(Arc::new(CheckpointStorageAdapter::new(db)), persistence_config());
	restarted.restore_from_storage().unwrap();
	assert_eq!(restarted.voters().set_id(), 0);
	assert_eq!(restarted.voters().authorities(), voter_set(&keys[..4], 0).authorities());
}
