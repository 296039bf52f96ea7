//! The `sc-network-gossip` validator of checkpoint messages and the reputation costs of bad
//! gossip.
//!
//! A vote is checked once, here, before it travels on or reaches the worker: set, membership,
//! link and window against the published view, then against the votes this validator let
//! through (known votes and a faulty validator's endless variants are not kept), then its
//! signature. It never waits for the worker, which owns the state: it reads the published
//! view, and its own record of the votes it let through. The worker takes the votes this
//! validator let through without checking their signatures again. A certificate is verified
//! against the set. A rejected message is dropped, never stored, and costs its sender: much for
//! a forgery (a bad signature, a signer or link no honest node signs, bytes that do not
//! decode), little for what an honest peer that is merely ahead or behind sends (another set, a
//! vote too far ahead or expired). The costs go to the worker through a channel; it reports
//! them to the network.

use super::{topic, GossipMessage};
use crate::{
	link::FinalityHandle,
	state::{link_expired, CertificateError, VoteRejection},
	types::room_for,
	CheckpointHash,
};
use codec::DecodeAll;
use futures::channel::mpsc;
use parking_lot::Mutex;
use sc_network::{PeerId, ReputationChange};
use sc_network_gossip::{MessageIntent, ValidationResult, Validator, ValidatorContext};
use sp_finality_checkpoint::{CheckpointSignature, Epoch, Link, SetId, ValidatorIndex};
use sp_runtime::traits::Block as BlockT;
use std::{
	collections::{BTreeMap, HashMap},
	time::{Duration, Instant},
};

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

/// A reputation change of a peer, for the worker to report to the network.
pub type PeerReport = (PeerId, ReputationChange);

/// The gossip validator.
pub struct GossipValidator<B: BlockT> {
	finality: FinalityHandle<B::Hash>,
	topic: B::Hash,
	known: Mutex<KnownVotes<B::Hash>>,
	reports: mpsc::UnboundedSender<PeerReport>,
	resend: Mutex<ResendClock>,
}

/// The links of the votes let through above finality, by target and signer: a vote known
/// already is not kept again, nor a third variant of one validator's target (the state
/// machine's own bound), so a faulty validator cannot flood the gossip.
struct KnownVotes<H> {
	finalized: Epoch,
	links: BTreeMap<Epoch, HashMap<Signer, Vec<Link<H>>>>,
}

/// A vote's signer: its set and its index in that set.
type Signer = (SetId, ValidatorIndex);

impl<H: CheckpointHash> KnownVotes<H> {
	/// Forgets the votes finality at `finalized` made useless.
	fn prune(&mut self, finalized: Epoch) {
		if finalized > self.finalized {
			self.links = self.links.split_off(&finalized.next());
			self.finalized = finalized;
		}
	}

	fn links_of(&self, vote: &CheckpointSignature<H>) -> &[Link<H>] {
		let signer = (vote.link.set_id, vote.validator_index);
		self.links
			.get(&vote.link.target.number)
			.and_then(|by_signer| by_signer.get(&signer))
			.map_or(&[], Vec::as_slice)
	}

	/// Whether `vote` is new and within the bound.
	fn admits(&self, vote: &CheckpointSignature<H>) -> Result<(), VoteRejection> {
		let links = self.links_of(vote);
		room_for(vote, links.len(), links.contains(&vote.link))
	}

	fn insert(&mut self, vote: &CheckpointSignature<H>) {
		if vote.link.target.number <= self.finalized || self.links_of(vote).contains(&vote.link) {
			return;
		}
		let signer = (vote.link.set_id, vote.validator_index);
		let links = self.links.entry(vote.link.target.number).or_default().entry(signer);
		links.or_default().push(vote.link);
	}
}

/// When finality last moved and when stored messages were last sent again.
struct ResendClock {
	finalized: Epoch,
	last: Instant,
}

impl<B: BlockT> GossipValidator<B>
where
	B::Hash: CheckpointHash,
{
	/// A validator checking against the view of `finality`, and the channel on which it sends
	/// the reputation costs of what it rejects.
	pub fn new(finality: FinalityHandle<B::Hash>) -> (Self, mpsc::UnboundedReceiver<PeerReport>) {
		let finalized = finality.view().finalized.number;
		let resend = Mutex::new(ResendClock { finalized, last: Instant::now() });
		let known = Mutex::new(KnownVotes { finalized, links: BTreeMap::new() });
		let (reports, receiver) = mpsc::unbounded();
		(Self { finality, topic: topic::<B>(), known, reports, resend }, receiver)
	}

	/// Records a vote that reached the state without this validator (an own vote, a restored
	/// one): its echo is known.
	pub(crate) fn note_vote(&self, vote: &CheckpointSignature<B::Hash>) {
		let mut known = self.known.lock();
		known.prune(self.finality.view().finalized.number);
		known.insert(vote);
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
				// A vote of the signalled next set waits for the enactment, checked as that
				// set will check it.
				let voters = match view.check_vote(&vote) {
					Ok(voters) => Some(voters),
					Err(VoteRejection::FutureSet { .. }) => None,
					Err(rejection) => return rejected(rejection),
				};
				{
					let mut known = self.known.lock();
					known.prune(view.finalized.number);
					if let Err(rejection) = known.admits(&vote) {
						return rejected(rejection);
					}
				}
				let checked = match voters {
					Some(voters) => voters.check_signature(&view.genesis_hash, &vote),
					None => view.check_early_vote(&vote),
				};
				match checked {
					Ok(()) => {
						self.known.lock().insert(&vote);
						Ok(true)
					}
					Err(rejection) => rejected(rejection),
				}
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
	fn resend_due(&self, finalized: Epoch) -> bool {
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
	fn is_expired(data: &[u8], finalized: Epoch) -> bool {
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
				// The worker applies it; if the worker has ended, nobody needs it.
				let _ = self.reports.unbounded_send((*sender, cost));
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
	use crate::{
		communication::GossipMessage, testing, CheckpointFinality, CheckpointLink, FinalityConfig,
	};
	use codec::Encode;
	use sp_core::{ed25519, Pair, H256};
	use sp_finality_checkpoint::{signing_payload, CheckpointSignature};
	use sp_runtime::{generic, traits::BlakeTwo256, OpaqueExtrinsic};

	type Block = generic::Block<generic::Header<u64, BlakeTwo256>, OpaqueExtrinsic>;

	/// One validator (so each of its votes is a supermajority) and a gossip validator.
	fn setup() -> (ed25519::Pair, CheckpointLink<H256>, GossipValidator<Block>) {
		let key = testing::keys(1..2).remove(0);
		let voters = testing::set(0, std::slice::from_ref(&key));
		let link = CheckpointLink::new(CheckpointFinality::new(
			H256::zero(),
			voters,
			FinalityConfig::default(),
		));
		let (validator, _reports) = GossipValidator::new(link.handle());
		(key, link, validator)
	}

	fn vote(key: &ed25519::Pair, source: u64, target: u64) -> CheckpointSignature<H256> {
		testing::vote(std::slice::from_ref(key), 0, testing::link(0, source, target))
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
		let (key, mut link, validator) = setup();
		assert_eq!(validator.check(&bytes(&vote(&key, 0, 40))), Err(cost::FUTURE));
		let mut next_set = vote(&key, 0, 1);
		next_set.link.set_id = 1;
		assert_eq!(validator.check(&bytes(&next_set)), Err(cost::FUTURE));
		for (source, target) in [(0, 1), (1, 2)] {
			link.finality_mut().add_checkpoint_signature(vote(&key, source, target)).unwrap();
		}
		assert_eq!(validator.check(&bytes(&vote(&key, 0, 3))), Err(cost::OUTDATED));
		for c in [cost::UNKNOWN_SET, cost::FUTURE, cost::OUTDATED] {
			assert!(c.value > cost::BAD_SIGNATURE.value / 5, "{c:?} is not a forgery's cost");
		}
	}

	#[test]
	fn known_and_finalized_messages_stop_travelling() {
		let (key, mut link, validator) = setup();
		let first = vote(&key, 0, 1);
		assert_eq!(validator.check(&bytes(&first)), Ok(true));
		link.finality_mut().add_checkpoint_signature(first.clone()).unwrap();
		assert_eq!(validator.check(&bytes(&first)), Ok(false), "a known vote is not kept again");
		// Two variants of one validator's target are kept (the second is evidence), a third is
		// not.
		let variant = |n: u8| {
			let mut v = vote(&key, 0, 1);
			v.link.target.hash = H256::repeat_byte(0x10 + n);
			v.signature = key.sign(&signing_payload(&H256::zero(), &v.link)).into();
			v
		};
		assert_eq!(validator.check(&bytes(&variant(1))), Ok(true));
		assert_eq!(validator.check(&bytes(&variant(2))), Ok(false), "a third variant is not kept");
		assert_eq!(validator.check(&bytes(&variant(2))), Ok(false));

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
		let import = link.finality_mut().add_checkpoint_signature(second).unwrap();
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
