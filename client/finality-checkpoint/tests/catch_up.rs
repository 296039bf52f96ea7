//! Property test of liveness after an outage: four honest validators, each with its own state
//! machine, vote as the planner says on a chain far ahead of finality, while their votes reach
//! each other late and in random order. Whatever the delays, finality catches up with the tip
//! inside a bounded number of rounds, nobody equivocates, and no vote leaves the window.
//! Certificates travel as gossip does: a validator that finalizes something sends the
//! certificate on, and one left behind (its votes refused as too far ahead) catches up by it.
//! A round that moves nothing is followed by a resend of everything held, as the gossip
//! engine does while finality stalls: a vote dropped as too far ahead is not lost for good.
//!
//! Each case starts from the split that a real outage leaves behind: two validators saw the
//! justification of block 1's round one (epoch 2) before the others went down, two did not, so
//! the first two vote its round two and the others jump from genesis: no link has a
//! supermajority.

mod common;

use common::*;
use proptest::prelude::*;
use sc_finality_checkpoint::{
	communication::GossipMessage,
	planner::{plan, Plan, VotingView},
	CheckpointFinality, FinalityConfig, OwnVoteGuard, Progress,
};
use sp_core::{ed25519, H256};
use sp_finality_checkpoint::Epoch;

type Message = GossipMessage<H256>;
/// Messages in flight: (recipient, message).
type Inbox = Vec<(usize, Message)>;

const N: usize = 4;
const WINDOW: u64 = 8;
const TIP: u64 = 60;
/// Rounds allowed: two per half window of progress, plus slack for splits and delays.
const MAX_ROUNDS: usize = 2 * (TIP / (WINDOW / 2)) as usize * 3 + 20;

struct Validator {
	finality: CheckpointFinality<H256>,
	key: ed25519::Pair,
	index: u32,
	last_cast: Option<Epoch>,
}

impl Validator {
	/// The vote the planner asks for now, recorded as the worker records it, and the
	/// certificate it made, if any: what the worker gossips.
	fn vote(&mut self) -> Vec<Message> {
		let f = &self.finality;
		let view = VotingView::new(f.state(), Epoch(TIP), self.last_cast);
		let Plan::Vote(number) = plan(&view) else { return Vec::new() };
		assert!(number.0 <= view.finalized.0 + WINDOW, "a vote outside the window");
		let Some(link) = f.own_vote_link(cp(0, number.0), |_| true) else { return Vec::new() };
		let signed = vote(&self.key, self.index, link);
		let import = self.finality.record_own_vote(signed.clone()).unwrap();
		self.last_cast = Some(number);
		let mut out = vec![Message::Vote(signed)];
		out.extend(certificate(import.progress));
		out
	}

	/// Every vote held above finality and the latest certificate: what the gossip engine
	/// sends again while finality stalls (`communication::gossip::RESEND_PERIOD`), also to peers that dropped
	/// a vote they could not use yet.
	fn held(&self) -> Vec<Message> {
		let f = &self.finality;
		let votes = f.voters().authorities().iter().flat_map(|a| f.votes_of(a)).map(Message::Vote);
		votes.chain(f.latest_certificate().cloned().map(Message::Certificate)).collect()
	}

	/// Takes a message; returns the certificate it made, if any.
	fn receive(&mut self, message: Message) -> Option<Message> {
		let progress = match message {
			Message::Vote(vote) => self.finality.add_checkpoint_signature(vote).ok()?.progress,
			Message::Certificate(c) => self.finality.import_certificate(c).ok()?,
		};
		certificate(progress)
	}
}

/// Finalized, justified and guard of each validator: what a round that moved nothing leaves
/// as it was.
fn states(validators: &[Validator]) -> Vec<(Epoch, Epoch, OwnVoteGuard)> {
	validators
		.iter()
		.map(|v| {
			let f = &v.finality;
			(f.last_finalized().number, f.highest_justified().number, f.guard())
		})
		.collect()
}

fn certificate(progress: Progress<H256>) -> Option<Message> {
	progress.finalized.map(Message::Certificate)
}

/// Sends `message` from validator `from` to every other: now, or a round late where `mask`
/// says so.
fn send(from: usize, message: &Message, mask: u16, now: &mut Inbox, late: &mut Inbox) {
	for to in (0..N).filter(|to| *to != from) {
		let queue = if mask & (1 << (from * N + to)) == 0 { &mut *now } else { &mut *late };
		queue.push((to, message.clone()));
	}
}

/// Runs the outage-recovery scenario with the given delivery delays (one mask a round).
fn catch_up(delays: &[u16]) -> Result<(), TestCaseError> {
	let keys = keys(N);
	let mut validators: Vec<Validator> = keys
		.iter()
		.enumerate()
		.map(|(i, key)| Validator {
			finality: CheckpointFinality::new(
				GENESIS,
				voter_set(&keys, 0),
				FinalityConfig { window: WINDOW },
			),
			key: *key,
			index: i as u32,
			last_cast: None,
		})
		.collect();
	// Before the outage all four voted 0 -> 2 (block 1's round one); validators 0 and 1 got
	// the votes, 2 and 3 get them only after their first catch-up vote (from source 0, a
	// split).
	let first: Vec<_> = votes(&keys, N, link(cp(0, 0), cp(0, 2)));
	let mut late: Inbox = Vec::new();
	for v in &mut validators {
		v.finality.record_own_vote(first[v.index as usize].clone()).unwrap();
		v.last_cast = Some(Epoch(2));
		for vote in first.iter().filter(|vote| vote.validator_index != v.index) {
			if v.index < 2 {
				v.finality.add_checkpoint_signature(vote.clone()).unwrap();
			} else {
				late.push((v.index as usize, Message::Vote(vote.clone())));
			}
		}
	}
	prop_assert_eq!(validators[2].finality.highest_justified().number, Epoch(0));

	let mut rounds = 0;
	let mut resend = false;
	while validators.iter().any(|v| v.finality.last_finalized().number.0 + WINDOW < TIP) {
		prop_assert!(rounds < MAX_ROUNDS, "stalled: {:?}", states(&validators));
		let mask = delays[rounds % delays.len()];
		let mut now = std::mem::take(&mut late);
		let before = states(&validators);
		if resend {
			for (i, validator) in validators.iter().enumerate() {
				for message in validator.held() {
					send(i, &message, 0, &mut now, &mut Vec::new());
				}
			}
		}
		for (i, validator) in validators.iter_mut().enumerate() {
			for message in validator.vote() {
				send(i, &message, mask, &mut now, &mut late);
			}
		}
		// Delivered in a shuffled order (by the mask's rotation); what they make goes out
		// next round.
		let turn = mask as usize % now.len().max(1);
		now.rotate_left(turn);
		let mut made = Vec::new();
		for (to, message) in now {
			if let Some(certificate) = validators[to].receive(message) {
				made.push((to, certificate));
			}
		}
		for (from, certificate) in made {
			send(from, &certificate, 0, &mut late, &mut Vec::new());
		}
		resend = states(&validators) == before;
		rounds += 1;
	}
	for v in &validators {
		prop_assert_eq!(v.finality.counters().equivocations, 0);
	}
	Ok(())
}

proptest! {
	#![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

	#[test]
	fn finality_catches_up_with_the_tip_whatever_the_delays(
		// For each round, validator and vote: deliver now (true) or a round later.
		delays in proptest::collection::vec(any::<u16>(), MAX_ROUNDS),
	) {
		catch_up(&delays)?;
	}
}

/// A case CI found: two validators dropped a vote as too far ahead that the other two counted
/// to justify checkpoint 9; without the resend nobody ever sends it again.
#[test]
fn regression_split_justification() {
	let delays = [
		43620, 0, 15664, 58400, 35432, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 10097, 278, 391, 24033,
		60455, 17028, 26680, 35834, 42700, 61189, 13889, 26066, 6871, 22950, 12692, 19244, 3424,
		58348, 25384, 34119, 38778, 31738, 52098, 12190, 19548, 28804, 7391, 61806, 61186, 41354,
		10458, 12253, 40950, 65524, 25143, 45873, 47692, 38418, 41999, 34958, 44364, 26200, 31236,
		36022, 6362, 56753, 20141, 51280, 43343, 28805, 43187, 55696, 42960, 23137, 25451, 35723,
		42640, 24438, 57628, 43813, 6145, 58568, 25369, 5090, 53428, 54976, 3586, 59015, 54983,
		27852, 19731, 33836, 42223, 47793, 5990, 37524, 39910, 12162, 37648, 60848, 54855, 11679,
		18913, 49068, 46611, 64238, 30374, 11111, 44556, 55995, 33891, 18212, 38575,
	];
	catch_up(&delays).unwrap();
}
