//! Gossip of votes and certificates: the message format, the notification protocol and the
//! `sc-network-gossip` validator.
//!
//! Every message is checked before it travels on: a vote for set, membership, window,
//! duplicates and signature (by the state machine's read-only [`CheckpointFinality::validate_vote`]);
//! a certificate by [`verify_certificate`]. A rejected message is dropped, never stored, and
//! costs its sender reputation; the worker applies the queued reports.

use crate::{
	finality::{link_expired, CheckpointFinality, VoteRejection},
	justification::verify_certificate,
	CheckpointHash,
};
use codec::{Decode, DecodeAll, Encode};
use parking_lot::Mutex;
use sc_network::{
	config::{NonReservedPeerMode, SetConfig},
	peer_store::PeerStoreProvider,
	NetworkBackend, NotificationMetrics, NotificationService, PeerId, ProtocolName,
	ReputationChange,
};
use sc_network_gossip::{MessageIntent, ValidationResult, Validator, ValidatorContext};
use sp_finality_checkpoint::{CheckpointCertificate, CheckpointNumber, CheckpointSignature};
use sp_runtime::traits::{Block as BlockT, Hash as HashT, Header as HeaderT};
use std::{
	sync::Arc,
	time::{Duration, Instant},
};

/// Votes and certificates are small; this bounds what a peer can push in one notification.
const MAX_NOTIFICATION_SIZE: u64 = 1024 * 1024;

/// While finality does not move for this long, stored votes and certificates are sent again,
/// once a period, also to peers that had them (one may have dropped a vote it could not use
/// yet). While finality moves, each message goes once to each peer.
pub const RESEND_PERIOD: Duration = Duration::from_secs(6);

/// Reputation costs of bad gossip.
pub mod cost {
	use sc_network::ReputationChange as Rep;
	/// A message that does not decode.
	pub const MALFORMED: Rep = Rep::new(-1000, "checkpoint: malformed message");
	/// A vote or certificate with an invalid signature, unknown signer, wrong set or shape.
	pub const BAD_SIGNATURE: Rep = Rep::new(-500, "checkpoint: invalid vote or certificate");
	/// A vote far ahead of finality.
	pub const TOO_FAR_AHEAD: Rep = Rep::new(-50, "checkpoint: vote too far ahead");
	/// A vote that cannot matter any more (could be an honest late peer).
	pub const EXPIRED: Rep = Rep::new(-10, "checkpoint: expired vote");
}

/// A gossip message.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub enum GossipMessage<H> {
	/// A validator's vote.
	Vote(CheckpointSignature<H>),
	/// A certificate finalizing its link's source.
	Certificate(CheckpointCertificate<H>),
}

/// The one gossip topic of checkpoint finality.
pub fn topic<B: BlockT>() -> B::Hash {
	<<B::Header as HeaderT>::Hashing as HashT>::hash(b"checkpoint")
}

/// The notification protocol name: `/<genesis hash hex>[/<fork id>]/checkpoint/1`.
pub fn protocol_name<H: AsRef<[u8]>>(genesis_hash: H, fork_id: Option<&str>) -> ProtocolName {
	let genesis = crate::db::hex(genesis_hash.as_ref());
	match fork_id {
		Some(fork) => format!("/{genesis}/{fork}/checkpoint/1").into(),
		None => format!("/{genesis}/checkpoint/1").into(),
	}
}

/// The notification protocol's configuration, to register with the network before it starts.
/// Gossip reaches every sync peer (the gossip engine adds them as reserved peers).
pub fn notification_config<B: BlockT, N: NetworkBackend<B, B::Hash>>(
	protocol_name: ProtocolName,
	metrics: NotificationMetrics,
	peer_store_handle: Arc<dyn PeerStoreProvider>,
) -> (N::NotificationProtocolConfig, Box<dyn NotificationService>) {
	N::notification_config(
		protocol_name,
		Vec::new(),
		MAX_NOTIFICATION_SIZE,
		None,
		SetConfig {
			in_peers: 0,
			out_peers: 0,
			reserved_nodes: Vec::new(),
			non_reserved_mode: NonReservedPeerMode::Deny,
		},
		metrics,
		peer_store_handle,
	)
}

/// The state machine shared by the worker, the gossip validator and the RPC.
pub type SharedFinality<H> = Arc<Mutex<CheckpointFinality<H>>>;

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
		let finalized = finality.lock().last_finalized().number;
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
		let finality = self.finality.lock();
		match message {
			GossipMessage::Vote(vote) => match finality.validate_vote(&vote) {
				Ok(()) => Ok(true),
				Err(VoteRejection::Duplicate) => Ok(false),
				Err(VoteRejection::Expired { .. }) => Err(cost::EXPIRED),
				Err(VoteRejection::TooFarAhead { .. }) => Err(cost::TOO_FAR_AHEAD),
				Err(_) => Err(cost::BAD_SIGNATURE),
			},
			GossipMessage::Certificate(certificate) => {
				// Known finality first: a certificate at or below it is not worth the
				// signature checks.
				if certificate.link.source.number <= finality.last_finalized().number {
					return Ok(false);
				}
				verify_certificate(finality.voters(), &finality.genesis_hash(), &certificate)
					.map_err(|_| cost::BAD_SIGNATURE)?;
				Ok(true)
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
		let finalized = self.finality.lock().last_finalized().number;
		Box::new(move |_topic, data| Self::is_expired(data, finalized))
	}

	fn message_allowed<'a>(
		&'a self,
	) -> Box<dyn FnMut(&PeerId, MessageIntent, &B::Hash, &[u8]) -> bool + 'a> {
		let finalized = self.finality.lock().last_finalized().number;
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
	use crate::{FinalityConfig, VoterSet};
	use sp_core::{ed25519, Pair, H256};
	use sp_finality_checkpoint::{signing_payload, AuthorityId, Checkpoint, Link};
	use sp_runtime::{generic, traits::BlakeTwo256, OpaqueExtrinsic};

	type Block = generic::Block<generic::Header<u64, BlakeTwo256>, OpaqueExtrinsic>;

	/// One validator (so each of its votes is a supermajority) and a gossip validator.
	fn setup() -> (ed25519::Pair, SharedFinality<H256>, GossipValidator<Block>) {
		let key = ed25519::Pair::from_seed(&[1; 32]);
		let voters = VoterSet::new(0, vec![AuthorityId::from(key.public())]).unwrap();
		let finality = Arc::new(Mutex::new(CheckpointFinality::new(
			H256::zero(),
			voters,
			FinalityConfig::default(),
		)));
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
		assert_eq!(validator.check(&bytes(&other_index)), Err(cost::BAD_SIGNATURE));
		assert_eq!(validator.check(&bytes(&vote(&key, 0, 40))), Err(cost::TOO_FAR_AHEAD));
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
