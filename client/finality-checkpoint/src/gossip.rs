//! Gossip of votes and certificates: the message format, the notification protocol and the
//! `sc-network-gossip` validator.
//!
//! Every message is checked before it travels on: a vote for set, membership, window,
//! duplicates and signature (by the state machine's read-only [`CheckpointFinality::validate_vote`]);
//! a certificate by [`verify_certificate`]. A rejected message is dropped, never stored, and
//! costs its sender reputation; the worker applies the queued reports.

use crate::{
	finality::{CheckpointFinality, VoteRejection},
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
use sp_finality_checkpoint::{CheckpointCertificate, CheckpointSignature};
use sp_runtime::traits::{Block as BlockT, Hash as HashT, Header as HeaderT};
use std::sync::Arc;

/// Votes and certificates are small; this bounds what a peer can push in one notification.
const MAX_NOTIFICATION_SIZE: u64 = 1024 * 1024;

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
}

impl<B: BlockT> GossipValidator<B>
where
	B::Hash: CheckpointHash,
{
	/// A validator checking against `finality`.
	pub fn new(finality: SharedFinality<B::Hash>) -> Self {
		Self { finality, topic: topic::<B>(), reports: Mutex::new(Vec::new()) }
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
				verify_certificate(finality.voters(), &finality.genesis_hash(), &certificate)
					.map_err(|_| cost::BAD_SIGNATURE)?;
				Ok(certificate.link.source.number > finality.last_finalized().number)
			}
		}
	}

	fn is_expired(&self, data: &[u8]) -> bool {
		let finalized = self.finality.lock().last_finalized().number;
		match GossipMessage::<B::Hash>::decode_all(&mut &data[..]) {
			Ok(GossipMessage::Vote(vote)) => vote.link.target.number <= finalized,
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
		Box::new(move |_topic, data| self.is_expired(data))
	}

	fn message_allowed<'a>(
		&'a self,
	) -> Box<dyn FnMut(&PeerId, MessageIntent, &B::Hash, &[u8]) -> bool + 'a> {
		Box::new(move |_who, _intent, _topic, data| !self.is_expired(data))
	}
}
