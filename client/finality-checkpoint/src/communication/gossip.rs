//! The `sc-network-gossip` validator of checkpoint messages and the reputation costs of bad
//! gossip.
//!
//! A vote is checked once, here, before it travels on or reaches the worker: set, membership,
//! link and window against the published view, then against the vote pool (known votes and
//! a faulty validator's endless variants are not kept), then its signature, outside every
//! lock. The worker takes the votes this validator let through without checking their
//! signatures again. A certificate is verified against the set. A rejected message is dropped,
//! never stored, and costs its sender: much for a forgery (a bad signature, a signer or link
//! no honest node signs, bytes that do not decode), little for what an honest peer that is
//! merely ahead or behind sends (another set, a vote too far ahead or expired). The worker
//! applies the queued reports.

use super::{topic, GossipMessage};
use crate::{
	shared::SharedFinality,
	state::{link_expired, CertificateError, VoteRejection},
	CheckpointHash,
};
use codec::DecodeAll;
use parking_lot::Mutex;
use sc_network::{PeerId, ReputationChange};
use sc_network_gossip::{MessageIntent, ValidationResult, Validator, ValidatorContext};
use sp_finality_checkpoint::CheckpointNumber;
use sp_runtime::traits::Block as BlockT;
use std::time::{Duration, Instant};

/// While finality does not move for this long, stored votes and certificates are sent again,
/// once a period, also to peers that had them (one may have dropped a vote it could not use
/// yet). While finality moves, each message goes once to each peer.
pub const RESEND_PERIOD: Duration = Duration::from_secs(6);

/// Reputation costs of bad gossip: a forgery costs much, what an honest peer that is merely
/// ahead or behind sends costs little.
pub mod cost {
	use sc_network::ReputationChange as Rep;
	/// A message that does not decode.
	pub const MALFORMED: Rep = Rep::new(-1000, "checkpoint: malformed message");
	/// A vote or certificate whose signature does not verify.
	pub const BAD_SIGNATURE: Rep = Rep::new(-500, "checkpoint: bad signature");
	/// A vote no honest node signs or relays: its signer is not in the set, or its source is
	/// not below its target; or a certificate that does not finalize.
	pub const INVALID: Rep = Rep::new(-500, "checkpoint: invalid vote or certificate");
	/// A vote or certificate of another authority set (the peer is ahead or behind).
	pub const UNKNOWN_SET: Rep = Rep::new(-50, "checkpoint: unknown authority set");
	/// A vote too far ahead of our finality (the peer, or we, are ahead).
	pub const FUTURE: Rep = Rep::new(-50, "checkpoint: vote too far ahead");
	/// A vote that cannot matter any more (the peer is behind).
	pub const OUTDATED: Rep = Rep::new(-10, "checkpoint: expired vote");
}

/// The cost of a vote rejected for `rejection`; `None` for a well-formed vote that is merely
/// known already.
fn vote_cost(rejection: &VoteRejection) -> Option<ReputationChange> {
	match rejection {
		// A vote of the next set before its enactment here: the peer is merely ahead.
		VoteRejection::Duplicate | VoteRejection::EquivocationLimit { .. } => None,
		VoteRejection::WrongSet { .. } => Some(cost::UNKNOWN_SET),
		// Votes of a signalled set wait for its enactment; a set not even signalled here
		// may be a peer ahead of this node.
		VoteRejection::TooFarAhead { .. } | VoteRejection::FutureSet { .. } => Some(cost::FUTURE),
		VoteRejection::Expired { .. } => Some(cost::OUTDATED),
		VoteRejection::BadSignature => Some(cost::BAD_SIGNATURE),
		VoteRejection::UnknownValidator(_) | VoteRejection::InvalidLink { .. } => {
			Some(cost::INVALID)
		}
	}
}

/// The gossip validator.
pub struct GossipValidator<B: BlockT> {
	finality: SharedFinality<B::Hash>,
	topic: B::Hash,
	reports: Mutex<Vec<(PeerId, ReputationChange)>>,
	resend: Mutex<ResendClock>,
}

/// When finality last moved and when stored messages were last sent again.
struct ResendClock {
	finalized: CheckpointNumber,
	last: Instant,
}

impl<B: BlockT> GossipValidator<B>
where
	B::Hash: CheckpointHash,
{
	/// A validator checking against `finality`.
	pub fn new(finality: SharedFinality<B::Hash>) -> Self {
		let finalized = finality.view().finalized.number;
		let resend = Mutex::new(ResendClock { finalized, last: Instant::now() });
		Self { finality, topic: topic::<B>(), reports: Mutex::new(Vec::new()), resend }
	}

	/// Reputation changes queued since the last call.
	pub fn take_reports(&self) -> Vec<(PeerId, ReputationChange)> {
		std::mem::take(&mut *self.reports.lock())
	}

	/// Checks one message; `Err` carries the sender's reputation cost, `Ok(false)` means
	/// well-formed but useless (known or old).
	pub fn check(&self, data: &[u8]) -> Result<bool, ReputationChange> {
		let message =
			GossipMessage::<B::Hash>::decode_all(&mut &data[..]).map_err(|_| cost::MALFORMED)?;
		let view = self.finality.view();
		let rejected = |rejection: VoteRejection| vote_cost(&rejection).map_or(Ok(false), Err);
		match message {
			GossipMessage::Vote(vote) => {
				let voters = match view.check_vote(&vote) {
					Ok(voters) => voters,
					// A vote of the signalled next set waits for the enactment, checked as
					// that set will check it.
					Err(VoteRejection::FutureSet { .. }) => {
						return self
							.finality
							.lock()
							.state()
							.check_early_vote(&vote)
							.map_or_else(rejected, |()| Ok(true))
					}
					Err(rejection) => return rejected(rejection),
				};
				if let Err(rejection) = self.finality.lock().state().pool_admits(&vote) {
					return rejected(rejection);
				}
				voters
					.check_signature(&view.genesis_hash, &vote)
					.map_or_else(rejected, |()| Ok(true))
			}
			GossipMessage::Certificate(certificate) => {
				// Known finality first: a certificate at or below it is not worth the
				// signature checks.
				if certificate.link.source.number <= view.finalized.number {
					return Ok(false);
				}
				match view.sets.verify_certificate(&view.genesis_hash, &certificate) {
					Ok(()) => Ok(true),
					// Of a set not enacted here yet: this node is behind, the sender is not at
					// fault.
					Err(CertificateError::FutureSet { .. }) => Ok(false),
					Err(CertificateError::WrongSet { .. }) => Err(cost::UNKNOWN_SET),
					Err(CertificateError::BadSignature(_)) => Err(cost::BAD_SIGNATURE),
					Err(_) => Err(cost::INVALID),
				}
			}
		}
	}

	/// Whether the engine's periodic pass may send known messages again now: finality at
	/// `finalized` has not moved for [`RESEND_PERIOD`], nor have they been re-sent within it.
	fn resend_due(&self, finalized: CheckpointNumber) -> bool {
		let mut clock = self.resend.lock();
		let now = Instant::now();
		if clock.finalized != finalized {
			*clock = ResendClock { finalized, last: now };
			return false;
		}
		let due = now.duration_since(clock.last) >= RESEND_PERIOD;
		if due {
			clock.last = now;
		}
		due
	}

	/// Whether a stored message is of no use any more, given finality at `finalized`: the
	/// same rule as the state machine's for expired votes.
	fn is_expired(data: &[u8], finalized: CheckpointNumber) -> bool {
		match GossipMessage::<B::Hash>::decode_all(&mut &data[..]) {
			Ok(GossipMessage::Vote(vote)) => link_expired(&vote.link, finalized),
			// The latest certificate stays, for peers that join late.
			Ok(GossipMessage::Certificate(c)) => c.link.source.number < finalized,
			Err(_) => true,
		}
	}
}

impl<B: BlockT> Validator<B> for GossipValidator<B>
where
	B::Hash: CheckpointHash,
{
	fn validate(
		&self,
		_context: &mut dyn ValidatorContext<B>,
		sender: &PeerId,
		data: &[u8],
	) -> ValidationResult<B::Hash> {
		match self.check(data) {
			Ok(true) => ValidationResult::ProcessAndKeep(self.topic),
			Ok(false) => ValidationResult::Discard,
			Err(cost) => {
				log::debug!(target: crate::LOG_TARGET, "Gossip from {sender} rejected: {}", cost.reason);
				self.reports.lock().push((*sender, cost));
				ValidationResult::Discard
			}
		}
	}

	fn message_expired<'a>(&'a self) -> Box<dyn FnMut(B::Hash, &[u8]) -> bool + 'a> {
		let finalized = self.finality.view().finalized.number;
		Box::new(move |_topic, data| Self::is_expired(data, finalized))
	}

	fn message_allowed<'a>(
		&'a self,
	) -> Box<dyn FnMut(&PeerId, MessageIntent, &B::Hash, &[u8]) -> bool + 'a> {
		let finalized = self.finality.view().finalized.number;
		// Asked once per pass, and only by the engine's periodic pass (every 750 ms), which
		// marks messages a peer already has as `PeriodicRebroadcast`; those it lacks go as
		// `Broadcast`.
		let mut resend = None;
		Box::new(move |_who, intent, _topic, data| {
			if Self::is_expired(data, finalized) {
				return false;
			}
			intent != MessageIntent::PeriodicRebroadcast
				|| *resend.get_or_insert_with(|| self.resend_due(finalized))
		})
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::{communication::GossipMessage, CheckpointFinality, FinalityConfig, VoterSet};
	use codec::Encode;
	use sp_core::{ed25519, Pair, H256};
	use sp_finality_checkpoint::{
		signing_payload, AuthorityId, Checkpoint, CheckpointSignature, Link,
	};
	use sp_runtime::{generic, traits::BlakeTwo256, OpaqueExtrinsic};

	type Block = generic::Block<generic::Header<u64, BlakeTwo256>, OpaqueExtrinsic>;

	/// One validator (so each of its votes is a supermajority) and a gossip validator.
	fn setup() -> (ed25519::Pair, SharedFinality<H256>, GossipValidator<Block>) {
		let key = ed25519::Pair::from_seed(&[1; 32]);
		let voters = VoterSet::new(0, vec![AuthorityId::from(key.public())]).unwrap();
		let finality = SharedFinality::new(CheckpointFinality::new(
			H256::zero(),
			voters,
			FinalityConfig::default(),
		));
		(key, finality.clone(), GossipValidator::new(finality))
	}

	fn checkpoint(number: u64) -> Checkpoint<H256> {
		let hash = if number == 0 { H256::zero() } else { H256::repeat_byte(number as u8) };
		Checkpoint::new(number, hash)
	}

	fn vote(key: &ed25519::Pair, source: u64, target: u64) -> CheckpointSignature<H256> {
		let link = Link { set_id: 0, source: checkpoint(source), target: checkpoint(target) };
		let signature = key.sign(&signing_payload(&H256::zero(), &link)).into();
		CheckpointSignature { link, validator_index: 0, signature }
	}

	fn bytes(vote: &CheckpointSignature<H256>) -> Vec<u8> {
		GossipMessage::Vote(vote.clone()).encode()
	}

	#[test]
	fn malformed_and_forged_messages_cost_reputation() {
		let (key, _, validator) = setup();
		assert_eq!(validator.check(&[]), Err(cost::MALFORMED));
		assert_eq!(validator.check(&[7, 1, 2, 3]), Err(cost::MALFORMED));
		let mut trailing = bytes(&vote(&key, 0, 1));
		trailing.push(0);
		assert_eq!(validator.check(&trailing), Err(cost::MALFORMED));

		let stranger = ed25519::Pair::from_seed(&[2; 32]);
		assert_eq!(validator.check(&bytes(&vote(&stranger, 0, 1))), Err(cost::BAD_SIGNATURE));
		let mut other_index = vote(&key, 0, 1);
		other_index.validator_index = 1;
		assert_eq!(validator.check(&bytes(&other_index)), Err(cost::INVALID));
		assert_eq!(validator.check(&bytes(&vote(&key, 1, 1))), Err(cost::INVALID));
	}

	#[test]
	fn a_peer_merely_ahead_or_behind_costs_little() {
		let (key, finality, validator) = setup();
		assert_eq!(validator.check(&bytes(&vote(&key, 0, 40))), Err(cost::FUTURE));
		let mut next_set = vote(&key, 0, 1);
		next_set.link.set_id = 1;
		assert_eq!(validator.check(&bytes(&next_set)), Err(cost::FUTURE));
		for (source, target) in [(0, 1), (1, 2)] {
			finality.lock().add_checkpoint_signature(vote(&key, source, target)).unwrap();
		}
		assert_eq!(validator.check(&bytes(&vote(&key, 0, 3))), Err(cost::OUTDATED));
		for c in [cost::UNKNOWN_SET, cost::FUTURE, cost::OUTDATED] {
			assert!(c.value > cost::BAD_SIGNATURE.value / 5, "{c:?} is not a forgery's cost");
		}
	}

	#[test]
	fn known_and_finalized_messages_stop_travelling() {
		let (key, finality, validator) = setup();
		let first = vote(&key, 0, 1);
		assert_eq!(validator.check(&bytes(&first)), Ok(true));
		finality.lock().add_checkpoint_signature(first.clone()).unwrap();
		assert_eq!(validator.check(&bytes(&first)), Ok(false), "a known vote is not kept again");

		// A fresh vote goes to peers that lack it, but is not sent again to those that have it
		// while finality moves.
		let second = vote(&key, 1, 2);
		let mut allowed = validator.message_allowed();
		let peer = PeerId::random();
		let topic = topic::<Block>();
		assert!(allowed(&peer, MessageIntent::Broadcast, &topic, &bytes(&second)));
		assert!(!allowed(&peer, MessageIntent::PeriodicRebroadcast, &topic, &bytes(&second)));
		drop(allowed);

		// Vote 1 -> 2 finalizes checkpoint 1: the vote 0 -> 1 expires, and so does the
		// certificate once a later one exists.
		let import = finality.lock().add_checkpoint_signature(second).unwrap();
		let certificate = import.progress.finalized.expect("checkpoint 1 finalized");
		let mut expired = validator.message_expired();
		assert!(expired(topic, &bytes(&first)));
		assert!(!expired(topic, &GossipMessage::Certificate(certificate.clone()).encode()));
		assert!(expired(topic, &[0xff]));
		drop(expired);
		assert_eq!(
			validator.check(&GossipMessage::Certificate(certificate).encode()),
			Ok(false),
			"a certificate at or below finality is not kept"
		);
	}
}
