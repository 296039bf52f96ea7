//! Networking of checkpoint finality: the gossip message format, its topic, and the
//! notification protocol's name and configuration. [`gossip`] holds the validator that
//! checks what travels and the reputation costs of what does not.

#[cfg(feature = "test-helpers")]
pub mod gossip;
#[cfg(not(feature = "test-helpers"))]
pub(crate) mod gossip;

use codec::{Decode, Encode};
use sc_network::{
	config::{NonReservedPeerMode, SetConfig},
	peer_store::PeerStoreProvider,
	NetworkBackend, NotificationMetrics, NotificationService, ProtocolName,
};
use sp_finality_checkpoint::{CheckpointCertificate, CheckpointSignature};
use sp_runtime::traits::{Block as BlockT, Hash as HashT, Header as HeaderT};
use std::sync::Arc;

/// Votes and certificates are small; this bounds what a peer can push in one notification.
const MAX_NOTIFICATION_SIZE: u64 = 1024 * 1024;

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

/// The notification protocol name: `/<genesis hash hex>[/<fork id>]/checkpoint/2`.
pub fn protocol_name<H: AsRef<[u8]>>(genesis_hash: H, fork_id: Option<&str>) -> ProtocolName {
	let genesis = array_bytes::bytes2hex("", genesis_hash.as_ref());
	match fork_id {
		Some(fork) => format!("/{genesis}/{fork}/checkpoint/2").into(),
		None => format!("/{genesis}/checkpoint/2").into(),
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
