//! The vote core fed arbitrary sequences: other validators' votes and certificates (signed,
//! with fuzzed signers, indices, sets and links), this node's own votes as the worker makes
//! them and as a buggy caller might, flushes, failing writes (a full disk) and crashes with a
//! restart from the store.
//!
//! Invariants: no two own votes that were recorded break E1 (one target number) or E2
//! (surround), across crashes; a restarted node's guard covers every own vote recorded before
//! the crash and its finality is the stored one; finality never moves back while the node
//! runs; the justified checkpoint stays at or above it.

#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use sc_finality_checkpoint::CheckpointFinality;
use sc_finality_checkpoint_fuzz::{common::*, *};
use sp_core::H256;
use sp_finality_checkpoint::Link;
use std::sync::Arc;

#[derive(Arbitrary, Debug)]
enum Op {
	/// Another validator's vote.
	Vote(SignedVote),
	/// A certificate from the network.
	Certificate(SignedCertificate),
	/// The own vote the worker would cast for this target.
	Own(FuzzCheckpoint),
	/// A buggy caller's own vote for any link.
	OwnRaw(FuzzLink),
	Flush,
	FailWrites(bool),
	Crash,
}

/// This node is validator 0.
const OWN: usize = 0;

fn start(storage: &Arc<MemoryStorage>) -> CheckpointFinality<H256> {
	let mut finality = finality(validator_keys());
	finality.set_storage(storage.clone(), persistence_config());
	finality.restore_from_storage().expect("the memory store restores");
	finality
}

/// E1: two votes for one target number; E2: one surrounds the other.
fn conflict(a: &Link<H256>, b: &Link<H256>) -> bool {
	let surrounds = |x: &Link<H256>, y: &Link<H256>| {
		x.source.number < y.source.number && y.target.number < x.target.number
	};
	(a.target.number == b.target.number && a != b) || surrounds(a, b) || surrounds(b, a)
}

fuzz_target!(|ops: Vec<Op>| {
	let storage = Arc::new(MemoryStorage::default());
	let mut finality = start(&storage);
	let mut own: Vec<Link<H256>> = Vec::new();
	let key = &validator_keys()[OWN];

	for op in ops {
		let before = finality.last_finalized();
		let crash = matches!(op, Op::Crash);
		let own_vote = match op {
			Op::Vote(vote) => {
				let _ = finality.add_checkpoint_signature(vote.get());
				None
			}
			Op::Certificate(certificate) => {
				let _ = finality.import_certificate(certificate.get());
				None
			}
			Op::Own(target) => {
				let target = target.get();
				finality.own_vote_link(target, |c| is_ancestor(c, &target))
			}
			Op::OwnRaw(link) => Some(link.get()),
			Op::Flush => {
				let _ = finality.persistence().expect("storage is set").flush();
				None
			}
			Op::FailWrites(fail) => {
				storage.fail_writes(fail);
				None
			}
			Op::Crash => {
				finality = start(&storage);
				let guard = finality.guard();
				for link in &own {
					assert!(
						guard.covers(link),
						"restored guard {guard:?} misses own vote {link:?}"
					);
				}
				assert!(
					finality.last_finalized().number <= before.number,
					"finality grew on restart"
				);
				None
			}
		};
		if let Some(link) = own_vote {
			if finality.record_own_vote(vote(key, OWN as u32, link)).is_ok() {
				if let Some(earlier) = own.iter().find(|earlier| conflict(earlier, &link)) {
					panic!("own votes {earlier:?} and {link:?} conflict");
				}
				own.push(link);
			}
		}
		if !crash {
			assert!(finality.last_finalized().number >= before.number, "finality moved back");
		}
		assert!(finality.highest_justified().number >= finality.last_finalized().number);
	}
});
