//! Unit tests of the pure state machine: vote validation, justification and finality, the
//! own-vote rules and their failure modes. No disk: storage is `MemoryStorage`.

mod common;

use common::*;
use sc_finality_checkpoint::{
	state::RoundTwoOutlook, CheckpointFinality, Error, FinalityConfig, VoteRejection,
};
use sp_core::{ed25519, Pair, H256};
use sp_finality_checkpoint::AuthorityId;
use sp_finality_checkpoint::{Epoch, Link};
use std::sync::Arc;

const N: usize = 4;

fn with_storage(keys: &[ed25519::Pair]) -> (CheckpointFinality<H256>, Arc<MemoryStorage>) {
	let storage = Arc::new(MemoryStorage::default());
	(in_memory(keys, storage.clone()), storage)
}

#[test]
fn supermajority_justifies_and_consecutive_link_finalizes() {
	let keys = keys(N);
	let mut f = finality(&keys);
	let l01 = link(cp(0, 0), cp(0, 1));
	let mut vs = votes(&keys, 3, l01).into_iter();
	for v in vs.by_ref().take(2) {
		assert_eq!(f.add_checkpoint_signature(v).unwrap().progress.justified, vec![]);
	}
	let third = f.add_checkpoint_signature(vs.next().unwrap()).unwrap();
	assert_eq!(third.progress.justified, vec![cp(0, 1)]);
	// Genesis is already finalized: the link 0 -> 1 finalizes nothing new.
	assert_eq!(third.progress.finalized, None);

	let mut last = None;
	for v in votes(&keys, 3, link(cp(0, 1), cp(0, 2))) {
		last = Some(f.add_checkpoint_signature(v).unwrap());
	}
	let cert = last.unwrap().progress.finalized.expect("checkpoint 1 finalized");
	assert_eq!(cert.link, link(cp(0, 1), cp(0, 2)));
	assert_eq!(cert.signatures.len(), 3);
	assert_eq!(f.last_finalized(), cp(0, 1));
	assert_eq!(f.highest_justified(), cp(0, 2));
	assert_eq!(f.counters().total_certificates, 1);
}

#[test]
fn skipping_link_justifies_without_finalizing() {
	let keys = keys(N);
	let mut f = finality(&keys);
	for v in votes(&keys, 3, link(cp(0, 0), cp(0, 2))) {
		f.add_checkpoint_signature(v).unwrap();
	}
	assert_eq!(f.highest_justified(), cp(0, 2));
	assert_eq!(f.last_finalized(), cp(0, 0));
}

#[test]
fn link_from_unjustified_source_waits_for_its_source() {
	let keys = keys(N);
	let mut f = finality(&keys);
	for v in votes(&keys, 3, link(cp(0, 1), cp(0, 2))) {
		f.add_checkpoint_signature(v).unwrap();
	}
	assert_eq!(f.highest_justified(), cp(0, 0));
	let mut progress = None;
	for v in votes(&keys, 3, link(cp(0, 0), cp(0, 1))) {
		progress = Some(f.add_checkpoint_signature(v).unwrap().progress);
	}
	let progress = progress.unwrap();
	assert_eq!(progress.justified, vec![cp(0, 1), cp(0, 2)]);
	assert_eq!(progress.finalized.unwrap().link.source, cp(0, 1));
}

#[test]
fn bad_votes_are_rejected_counted_and_not_stored() {
	let keys = keys(N);
	let (mut f, storage) = with_storage(&keys);
	let outsider = ed25519::Pair::from_seed(&[99; 32]);
	let good = link(cp(0, 0), cp(0, 1));
	let cases: Vec<(_, VoteRejection)> = vec![
		// forged: validator 1's index, someone else's key
		(vote(&outsider, 1, good), VoteRejection::BadSignature),
		// a validator's signature, but on another chain
		(
			{
				let mut v = vote(&keys[1], 1, good);
				v.signature = keys[1]
					.sign(&sp_finality_checkpoint::signing_payload(&H256::zero(), &good))
					.into();
				v
			},
			VoteRejection::BadSignature,
		),
		// valid signature by validator 2 presented as validator 1
		(vote(&keys[2], 1, good), VoteRejection::BadSignature),
		(vote(&outsider, 7, good), VoteRejection::UnknownValidator(7)),
		(
			// a set nobody signalled
			vote(&keys[0], 0, Link { set_id: 5, ..good }),
			VoteRejection::FutureSet { current: 0, got: 5 },
		),
		(
			vote(&keys[0], 0, link(cp(0, 40), cp(0, 41))),
			VoteRejection::TooFarAhead { target: Epoch(41), finalized: Epoch(0), window: 32 },
		),
		(
			vote(&keys[0], 0, link(cp(0, 2), cp(0, 1))),
			VoteRejection::InvalidLink { from: Epoch(2), to: Epoch(1) },
		),
	];
	let count = cases.len() as u64;
	for (v, expected) in cases {
		assert_eq!(f.add_checkpoint_signature(v), Err(expected));
	}
	assert_eq!(f.counters().rejected_votes, count);
	assert_eq!(f.counters().total_signatures, 0);
	assert_eq!(f.persistence().unwrap().pending_votes(), 0);
	f.persistence().unwrap().flush().unwrap();
	assert_eq!(storage.stored_votes(), 0);

	// A duplicate is refused too, and stored once.
	f.add_checkpoint_signature(vote(&keys[0], 0, good)).unwrap();
	assert_eq!(f.add_checkpoint_signature(vote(&keys[0], 0, good)), Err(VoteRejection::Duplicate));
	assert_eq!(f.persistence().unwrap().pending_votes(), 1);
}

#[test]
fn expired_votes_are_rejected() {
	let keys = keys(N);
	let mut f = finality(&keys);
	for k in 1..=3 {
		for v in votes(&keys, 3, link(cp(0, k - 1), cp(0, k))) {
			f.add_checkpoint_signature(v).unwrap();
		}
	}
	assert_eq!(f.last_finalized(), cp(0, 2));
	let late = vote(&keys[3], 3, link(cp(0, 1), cp(0, 2)));
	assert!(matches!(f.add_checkpoint_signature(late), Err(VoteRejection::Expired { .. })));
	let surround_finality = vote(&keys[3], 3, link(cp(0, 1), cp(0, 3)));
	assert!(matches!(
		f.add_checkpoint_signature(surround_finality),
		Err(VoteRejection::Expired { .. })
	));
}

#[test]
fn equivocations_are_kept_as_evidence_and_bounded() {
	let keys = keys(N);
	let (mut f, storage) = with_storage(&keys);
	// E1: two targets at height 1 on two forks.
	f.add_checkpoint_signature(vote(&keys[0], 0, link(cp(0, 0), cp(0, 1)))).unwrap();
	let e1 = f.add_checkpoint_signature(vote(&keys[0], 0, link(cp(0, 0), cp(1, 1)))).unwrap();
	assert!(e1.equivocation);
	// A third vote for that height is refused (gossip refuses it too: hostile_peers.rs).
	let third = vote(&keys[0], 0, link(cp(0, 0), cp(2, 1)));
	let limit = VoteRejection::EquivocationLimit { validator: 0, target: Epoch(1) };
	assert_eq!(f.add_checkpoint_signature(third), Err(limit));
	// E2: 2 -> 3 then 1 -> 4 surrounds it.
	f.add_checkpoint_signature(vote(&keys[1], 1, link(cp(0, 2), cp(0, 3)))).unwrap();
	let e2 = f.add_checkpoint_signature(vote(&keys[1], 1, link(cp(0, 1), cp(0, 4)))).unwrap();
	assert!(e2.equivocation);
	// Not an equivocation: increasing targets with non-decreasing sources.
	let fine = f.add_checkpoint_signature(vote(&keys[2], 2, link(cp(0, 0), cp(0, 1)))).unwrap();
	assert!(!fine.equivocation);
	let fine = f.add_checkpoint_signature(vote(&keys[2], 2, link(cp(0, 1), cp(0, 2)))).unwrap();
	assert!(!fine.equivocation);
	assert_eq!(f.counters().equivocations, 2);
	assert_eq!(storage.evidence(), 2);
}

#[test]
fn own_votes_follow_the_guard() {
	let keys = keys(N);
	let (mut f, _storage) = with_storage(&keys);
	let me = 3;
	let l = f.own_vote_link(cp(0, 1), |_| true).unwrap();
	assert_eq!(l, link(cp(0, 0), cp(0, 1)));
	f.record_own_vote(vote(&keys[me], me as u32, l)).unwrap();
	// E1: no second vote for height 1, whatever the fork.
	assert_eq!(f.own_vote_link(cp(1, 1), |_| true), None);
	assert!(matches!(
		f.record_own_vote(vote(&keys[me], me as u32, link(cp(0, 0), cp(1, 1)))),
		Err(Error::OwnVoteRefused { .. })
	));
	// Others justify 1 and 2; we vote 2 -> 3. A later vote 1 -> 4 would surround it (E2) and
	// is refused: its source is below an earlier own source.
	for v in votes(&keys, 2, link(cp(0, 0), cp(0, 1))) {
		f.add_checkpoint_signature(v).unwrap();
	}
	for v in votes(&keys, 3, link(cp(0, 1), cp(0, 2))) {
		f.add_checkpoint_signature(v).unwrap();
	}
	assert_eq!(f.last_finalized(), cp(0, 1));
	let l = f.own_vote_link(cp(0, 3), |_| true).unwrap();
	assert_eq!(l.source, cp(0, 2));
	f.record_own_vote(vote(&keys[me], me as u32, l)).unwrap();
	assert!(matches!(
		f.record_own_vote(vote(&keys[me], me as u32, link(cp(0, 1), cp(0, 4)))),
		Err(Error::OwnVoteRefused { .. })
	));
	assert_eq!(f.counters().own_votes, 2);
}

#[test]
fn own_vote_source_is_the_highest_justified_ancestor() {
	let keys = keys(N);
	let mut f = finality(&keys);
	for v in votes(&keys, 3, link(cp(0, 0), cp(1, 1))) {
		f.add_checkpoint_signature(v).unwrap();
	}
	// Checkpoint 1 of fork 1 is justified, but our chain (fork 0) does not contain it.
	let ours = |c: &sp_finality_checkpoint::Checkpoint<H256>| {
		c.number.0 == 0 || c.hash == hash(0, c.number.0)
	};
	assert_eq!(f.own_vote_link(cp(0, 2), ours).unwrap().source, cp(0, 0));
	let theirs = |c: &sp_finality_checkpoint::Checkpoint<H256>| {
		c.number.0 == 0 || c.hash == hash(1, c.number.0)
	};
	assert_eq!(f.own_vote_link(cp(1, 2), theirs).unwrap().source, cp(1, 1));
}

#[test]
fn own_vote_persist_failure_means_no_vote() {
	let keys = keys(N);
	let (mut f, storage) = with_storage(&keys);
	storage.fail_writes(true);
	let l = f.own_vote_link(cp(0, 1), |_| true).unwrap();
	let err = f.record_own_vote(vote(&keys[3], 3, l)).unwrap_err();
	assert!(matches!(err, Error::Write { .. }), "{err}");
	assert_eq!(f.counters().own_vote_failures, 1);
	assert_eq!(f.counters().own_votes, 0);
	assert_eq!(f.votes_of(&AuthorityId::from(keys[3].public())), vec![]);
	// Fail closed: the guard stays raised, so the same target is never signed later.
	storage.fail_writes(false);
	assert_eq!(f.own_vote_link(cp(0, 1), |_| true), None);
}

#[test]
fn own_vote_with_a_key_outside_the_set_is_refused() {
	let keys = keys(N);
	let mut f = finality(&keys);
	let outsider = ed25519::Pair::from_seed(&[99; 32]);
	let l = f.own_vote_link(cp(0, 1), |_| true).unwrap();
	assert!(matches!(
		f.record_own_vote(vote(&outsider, 3, l)),
		Err(Error::InvalidOwnVote(VoteRejection::BadSignature))
	));
}

#[test]
fn certificate_persist_failure_holds_finality_until_it_succeeds() {
	let keys = keys(N);
	let (mut f, storage) = with_storage(&keys);
	for v in votes(&keys, 3, link(cp(0, 0), cp(0, 1))) {
		f.add_checkpoint_signature(v).unwrap();
	}
	storage.fail_writes(true);
	let vs = votes(&keys, 3, link(cp(0, 1), cp(0, 2)));
	for v in vs.iter().cloned() {
		assert_eq!(f.add_checkpoint_signature(v).unwrap().progress.finalized, None);
	}
	assert_eq!(f.last_finalized(), cp(0, 0));
	assert!(f.counters().persistence_failures > 0);
	storage.fail_writes(false);
	// The next vote retries; finality moves once the certificate is stored.
	let progress = f.add_checkpoint_signature(vote(&keys[3], 3, link(cp(0, 1), cp(0, 2)))).unwrap();
	assert_eq!(progress.progress.finalized.unwrap().link.source, cp(0, 1));
	assert_eq!(storage.certificates().len(), 1);
	assert_eq!(f.last_finalized(), cp(0, 1));
}

#[test]
fn votes_below_finality_are_forgotten() {
	let keys = keys(N);
	let mut f = CheckpointFinality::new(GENESIS, voter_set(&keys, 0), FinalityConfig { window: 4 });
	for k in 1..=10 {
		for v in votes(&keys, 3, link(cp(0, k - 1), cp(0, k))) {
			f.add_checkpoint_signature(v).unwrap();
		}
	}
	assert_eq!(f.last_finalized(), cp(0, 9));
	assert_eq!(keys.iter().map(|k| f.votes_of(&k.public().into()).len()).sum::<usize>(), 3);
}

#[test]
fn a_certificate_alone_finalizes_its_source_and_justifies_its_target() {
	let keys = keys(N);
	let mut source = finality(&keys);
	for l in [link(cp(0, 0), cp(0, 1)), link(cp(0, 1), cp(0, 2))] {
		for v in votes(&keys, 3, l) {
			source.add_checkpoint_signature(v).unwrap();
		}
	}
	let certificate = source.latest_certificate().cloned().expect("checkpoint 1 finalized");

	// A node that saw none of the votes, only the certificate.
	let mut f = finality(&keys);
	assert!(f.advance_finality(certificate).unwrap());
	assert_eq!(f.last_finalized(), cp(0, 1));
	assert_eq!(f.highest_justified(), cp(0, 2));
	// Its own vote for checkpoint 3 links from the justified checkpoint 2, like everyone's.
	let link = f.own_vote_link(cp(0, 3), |_| true).expect("may vote");
	assert_eq!(link.source, cp(0, 2));
}

#[test]
fn a_vote_of_our_key_outside_the_guard_was_cast_elsewhere() {
	let keys = keys(N);
	let (mut f, storage) = with_storage(&keys);
	let me = 3;
	let own = f.own_vote_link(cp(0, 2), |_| true).unwrap();
	let mine = vote(&keys[me], me as u32, own);
	f.record_own_vote(mine.clone()).unwrap();

	// Our own vote, echoed back or from before a purge: inside the guard, no alarm.
	assert!(!f.check_own_key_vote(&mine).unwrap());
	assert!(!f.check_own_key_vote(&vote(&keys[me], me as u32, link(cp(0, 0), cp(1, 1)))).unwrap());
	// Forged (another key under our index) or outside the window: not ours, not an alarm.
	assert!(!f.check_own_key_vote(&vote(&keys[0], me as u32, link(cp(0, 0), cp(0, 3)))).unwrap());
	assert!(!f.check_own_key_vote(&vote(&keys[me], me as u32, link(cp(0, 0), cp(0, 99)))).unwrap());
	assert_eq!(f.guard().target, Epoch(2));

	// A valid vote above our guard: someone else runs our key. The guard covers it at once,
	// durably, so we can never sign a vote that conflicts with it.
	let twin = vote(&keys[me], me as u32, link(cp(0, 0), cp(0, 4)));
	assert!(f.check_own_key_vote(&twin).unwrap());
	assert_eq!(f.guard().target, Epoch(4));
	assert_eq!(f.own_vote_link(cp(0, 4), |_| true), None);
	assert!(f.own_vote_link(cp(0, 5), |_| true).is_some());

	// A guard that cannot be made durable is an error, and stays raised in memory.
	storage.fail_writes(true);
	let later = vote(&keys[me], me as u32, link(cp(0, 0), cp(0, 6)));
	assert!(f.check_own_key_vote(&later).is_err());
	assert_eq!(f.guard().target, Epoch(6));
}

#[test]
fn a_certificate_from_gossip_also_settles_the_votes_waiting_for_it() {
	let keys = keys(N);
	// Votes 2 -> 3 wait here: their source 2 is not justified on this node.
	let mut f = finality(&keys);
	for v in votes(&keys, 3, link(cp(0, 2), cp(0, 3))) {
		assert_eq!(f.add_checkpoint_signature(v).unwrap().progress, Default::default());
	}
	// The certificate 1 -> 2 arrives (this node missed its votes): it finalizes 1, justifies
	// 2, and with that the waiting link 2 -> 3 finalizes 2 at once.
	let mut other = finality(&keys);
	for l in [link(cp(0, 0), cp(0, 1)), link(cp(0, 1), cp(0, 2))] {
		for v in votes(&keys, 3, l) {
			other.add_checkpoint_signature(v).unwrap();
		}
	}
	let certificate = other.latest_certificate().cloned().unwrap();
	let progress = f.import_certificate(certificate.clone()).unwrap();
	assert_eq!(progress.justified, vec![cp(0, 3)]);
	assert_eq!(progress.finalized.unwrap().link, link(cp(0, 2), cp(0, 3)));
	assert_eq!(f.last_finalized(), cp(0, 2));
	// Known again: nothing moves.
	assert_eq!(f.import_certificate(certificate).unwrap(), Default::default());
}

#[test]
fn votes_of_a_supermajority_on_different_links_are_a_split() {
	let keys = keys(N);
	let mut f = finality(&keys);
	// Two validators vote 0 -> 3, so 3 is not split yet: only two voted.
	for v in votes(&keys, 2, link(cp(0, 0), cp(0, 3))) {
		f.add_checkpoint_signature(v).unwrap();
	}
	assert!(!f.split_at(Epoch(3)));
	// A third votes 1 -> 3 (it counted 1 as justified): three of four voted, no link has three.
	f.add_checkpoint_signature(vote(&keys[2], 2, link(cp(0, 1), cp(0, 3)))).unwrap();
	assert!(f.split_at(Epoch(3)));
	assert!(!f.split_at(Epoch(4)), "nobody voted for 4");
	// The fourth joins the first two: 0 -> 3 is a supermajority, 3 is justified, no split.
	f.add_checkpoint_signature(vote(&keys[3], 3, link(cp(0, 0), cp(0, 3)))).unwrap();
	assert_eq!(f.highest_justified(), cp(0, 3));
	assert!(!f.split_at(Epoch(3)));
}

/// What the planner is told about a justified round one's round two: who voted from it, and
/// the highest target voted from elsewhere (see `planner::round_two_retry`).
#[test]
fn the_round_two_outlook_tells_when_a_round_two_can_no_longer_gather() {
	let keys = keys(N);
	let mut f = finality(&keys);
	assert_eq!(f.state().round_two_outlook(), None, "genesis is finalized");
	// Validator 3 votes 0 -> 4 before it sees epoch 2 justified by the others.
	f.add_checkpoint_signature(vote(&keys[3], 3, link(cp(0, 0), cp(0, 4)))).unwrap();
	for v in votes(&keys, 3, link(cp(0, 0), cp(0, 2))) {
		f.add_checkpoint_signature(v).unwrap();
	}
	assert_eq!(f.highest_justified(), cp(0, 2));
	let outlook = |f: &CheckpointFinality<H256>| f.state().round_two_outlook().unwrap();
	assert_eq!(
		outlook(&f),
		RoundTwoOutlook { scattered: false, highest_elsewhere: Epoch(4) },
		"validator 3 cannot cast 2 -> 3"
	);
	// Two cast round two, one retries from 2 at 6: a supermajority voted from 2, and 3 is not
	// justified. The retry from 2 does not move the highest target voted from elsewhere.
	let round_two = link(cp(0, 2), cp(0, 3));
	f.add_checkpoint_signature(vote(&keys[0], 0, round_two)).unwrap();
	f.add_checkpoint_signature(vote(&keys[1], 1, link(cp(0, 2), cp(0, 6)))).unwrap();
	assert!(!outlook(&f).scattered, "two of four");
	f.add_checkpoint_signature(vote(&keys[2], 2, round_two)).unwrap();
	assert_eq!(outlook(&f), RoundTwoOutlook { scattered: true, highest_elsewhere: Epoch(4) });
	// Once a round two is justified, there is no outlook to give.
	for i in [0, 2] {
		f.add_checkpoint_signature(vote(&keys[i], i as u32, link(cp(0, 2), cp(0, 6)))).unwrap();
	}
	assert_eq!(f.highest_justified(), cp(0, 6));
	assert!(f.state().round_two_outlook().is_some(), "6 is an unfinalized round one");
	for v in votes(&keys, 3, link(cp(0, 6), cp(0, 7))) {
		f.add_checkpoint_signature(v).unwrap();
	}
	assert_eq!(f.last_finalized(), cp(0, 6));
	assert_eq!(f.state().round_two_outlook(), None, "7 is a round two");
}
