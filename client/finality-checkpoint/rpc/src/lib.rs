//! JSON-RPC of checkpoint finality:
//!
//! - `checkpoint_status`: finalized and justified checkpoints (epochs and block hashes),
//!   own-vote guard, counters;
//! - `checkpoint_certificate(epoch)`: the stored certificate that finalized epoch `epoch`
//!   (signers and SCALE bytes), if retained; block `n`'s epochs are `2 * n / interval` and
//!   the one after;
//! - `checkpoint_subscribeFinalized`: the status each time the finalized checkpoint moves;
//! - `checkpoint_proveFinality(block)`: a SCALE-encoded
//!   [`FinalityProof`](sc_finality_checkpoint::FinalityProof) of the block (the set changes
//!   from genesis and the certificate), which
//!   [`verify_finality_proof`](sc_finality_checkpoint::verify_finality_proof) checks;
//! - `checkpoint_evidence`: the equivocations this node saw and how far their reports got
//!   (seen, submitted, included in a block, or failed and why).

#![warn(missing_docs)]

use codec::Encode;
use futures::StreamExt;
use jsonrpsee::{
	core::{async_trait, RpcResult, SubscriptionResult},
	proc_macros::rpc,
	types::{ErrorObject, ErrorObjectOwned},
	PendingSubscriptionSink, SubscriptionMessage,
};
use sc_client_api::BlockchainEvents;
use sc_finality_checkpoint::{
	prove_finality, CheckpointHash, EvidenceEntry, EvidenceLog, FinalityHandle, ReportStatus,
};
use serde::{Deserialize, Serialize};
use sp_blockchain::HeaderBackend;
use sp_core::Bytes;
use sp_finality_checkpoint::{Checkpoint, Epoch};
use sp_runtime::traits::Block as BlockT;
use std::{marker::PhantomData, sync::Arc};

/// A checkpoint as RPC returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckpointInfo<Hash> {
	/// Epoch (the block at height `(number / 2) * interval`, round `number % 2`).
	pub number: u64,
	/// Block hash.
	pub hash: Hash,
}

impl<H> From<Checkpoint<H>> for CheckpointInfo<H> {
	fn from(c: Checkpoint<H>) -> Self {
		Self { number: c.number.0, hash: c.hash }
	}
}

/// What `checkpoint_status` returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckpointStatus<Hash> {
	/// The finalized checkpoint.
	pub finalized: CheckpointInfo<Hash>,
	/// The highest justified checkpoint.
	pub justified: CheckpointInfo<Hash>,
	/// Authority set id.
	pub set_id: u64,
	/// Validators in the set.
	pub validators: u32,
	/// Highest own vote target (0 if this node never voted).
	pub own_vote_target: u64,
	/// Votes accepted.
	pub votes: u64,
	/// Votes rejected.
	pub rejected_votes: u64,
	/// Conflicting vote pairs seen.
	pub equivocations: u64,
	/// Whether persistence is on.
	pub persistence: bool,
}

/// What `checkpoint_certificate` returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CertificateInfo<Hash> {
	/// Authority set id.
	pub set_id: u64,
	/// The finalized checkpoint (the link's source).
	pub source: CheckpointInfo<Hash>,
	/// The link's target.
	pub target: CheckpointInfo<Hash>,
	/// Validator indices that signed.
	pub signers: Vec<u32>,
	/// The certificate, SCALE-encoded (as in the block's `CKPT` justification).
	pub encoded: Bytes,
}

/// One vote of an equivocation, as `checkpoint_evidence` returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VoteInfo<Hash> {
	/// The vote's source.
	pub source: CheckpointInfo<Hash>,
	/// The vote's target.
	pub target: CheckpointInfo<Hash>,
}

/// An equivocation and its report, as `checkpoint_evidence` returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EvidenceInfo<Hash> {
	/// The offender's checkpoint key (SS58).
	pub offender: String,
	/// The authority set of both votes.
	pub set_id: u64,
	/// The later target epoch of the two: with the set, the offence's time slot on chain.
	pub epoch: u64,
	/// The first vote.
	pub first: VoteInfo<Hash>,
	/// The vote that conflicts with it.
	pub second: VoteInfo<Hash>,
	/// The best block number when this node saw it.
	pub seen_at: u64,
	/// `seen` (this node authors no blocks, so it does not report), `submitted` (in this
	/// node's pool), `included` or `failed`.
	pub status: String,
	/// The block that included the report, once `included`.
	pub included_in: Option<u64>,
	/// Why the report failed, if `failed`.
	pub error: Option<String>,
}

impl<H: Clone + codec::Encode + PartialEq> From<&EvidenceEntry<H>> for EvidenceInfo<H> {
	fn from(entry: &EvidenceEntry<H>) -> Self {
		use sp_core::crypto::Ss58Codec;
		let proof = &entry.proof;
		let vote = |(link, _): &(sp_finality_checkpoint::Link<H>, _)| VoteInfo {
			source: link.source.clone().into(),
			target: link.target.clone().into(),
		};
		let (status, included_in, error) = match &entry.status {
			ReportStatus::Seen => ("seen", None, None),
			ReportStatus::Submitted => ("submitted", None, None),
			ReportStatus::Included(block) => ("included", Some(*block), None),
			ReportStatus::Failed(why) => ("failed", None, Some(why.clone())),
		};
		Self {
			offender: sp_core::ed25519::Public::from(proof.offender.clone()).to_ss58check(),
			set_id: proof.set_id(),
			epoch: proof.epoch().0,
			first: vote(&proof.first),
			second: vote(&proof.second),
			seen_at: entry.seen_at,
			status: status.into(),
			included_in,
			error,
		}
	}
}

/// The checkpoint RPC API.
#[rpc(server)]
pub trait CheckpointApi<Hash> {
	/// Finality status of the checkpoint gadget.
	#[method(name = "checkpoint_status")]
	fn status(&self) -> RpcResult<CheckpointStatus<Hash>>;

	/// The stored certificate that finalized epoch `number` (block `n`'s round one is epoch
	/// `2 * n / interval`).
	#[method(name = "checkpoint_certificate")]
	async fn certificate(&self, number: u64) -> RpcResult<Option<CertificateInfo<Hash>>>;

	/// The finality proof of block `number`, SCALE-encoded: the authority set changes from
	/// genesis and the certificate of the first checkpoint block at or above it. `None` while
	/// the block is not finalized.
	#[method(name = "checkpoint_proveFinality")]
	async fn prove_finality(&self, number: u64) -> RpcResult<Option<Bytes>>;

	/// The equivocations this node saw (the last 256) and how far their reports got, oldest
	/// first. Empty on a node that does not report.
	#[method(name = "checkpoint_evidence")]
	fn evidence(&self) -> RpcResult<Vec<EvidenceInfo<Hash>>>;

	/// The status each time the finalized checkpoint moves.
	#[subscription(
		name = "checkpoint_subscribeFinalized" => "checkpoint_finalized",
		unsubscribe = "checkpoint_unsubscribeFinalized",
		item = CheckpointStatus<Hash>,
	)]
	async fn subscribe_finalized(&self) -> SubscriptionResult;
}

/// The RPC handler.
pub struct CheckpointRpc<B: BlockT, C> {
	finality: FinalityHandle<B::Hash>,
	client: Arc<C>,
	interval: u32,
	evidence: EvidenceLog<B::Hash>,
	_phantom: PhantomData<B>,
}

impl<B: BlockT, C> CheckpointRpc<B, C> {
	/// A handler reading `finality` and the reporter's `evidence`; `client` drives the
	/// subscription and gives the headers of finality proofs (checkpoints `interval` blocks
	/// apart).
	pub fn new(
		finality: FinalityHandle<B::Hash>,
		client: Arc<C>,
		interval: u32,
		evidence: EvidenceLog<B::Hash>,
	) -> Self {
		Self { finality, client, interval, evidence, _phantom: PhantomData }
	}
}

/// What `checkpoint_status` answers, from the published view: it never waits for the voter's
/// disk writes.
pub fn checkpoint_status<H: CheckpointHash>(finality: &FinalityHandle<H>) -> CheckpointStatus<H> {
	let view = finality.view();
	CheckpointStatus {
		finalized: view.finalized.into(),
		justified: view.justified.into(),
		set_id: view.voters.set_id(),
		validators: view.voters.authorities().len() as u32,
		own_vote_target: view.guard.target.0,
		votes: view.counters.total_signatures,
		rejected_votes: view.counters.rejected_votes,
		equivocations: view.counters.equivocations,
		persistence: finality.persistence().is_some(),
	}
}

fn internal(e: impl ToString) -> ErrorObjectOwned {
	ErrorObject::owned(1, e.to_string(), None::<()>)
}

#[async_trait]
impl<B, C> CheckpointApiServer<B::Hash> for CheckpointRpc<B, C>
where
	B: BlockT,
	B::Hash: CheckpointHash + Serialize + for<'de> Deserialize<'de>,
	C: BlockchainEvents<B> + HeaderBackend<B> + Send + Sync + 'static,
{
	fn status(&self) -> RpcResult<CheckpointStatus<B::Hash>> {
		Ok(checkpoint_status(&self.finality))
	}

	async fn certificate(&self, number: u64) -> RpcResult<Option<CertificateInfo<B::Hash>>> {
		let Some(persistence) = self.finality.persistence() else {
			return Err(internal("checkpoint persistence is off on this node"));
		};
		let certificate =
			tokio::task::spawn_blocking(move || persistence.storage().certificate(Epoch(number)))
				.await
				.map_err(internal)?
				.map_err(internal)?;
		Ok(certificate.map(|c| CertificateInfo {
			set_id: c.link.set_id,
			source: c.link.source.into(),
			target: c.link.target.into(),
			signers: c.signatures.iter().map(|(i, _)| *i).collect(),
			encoded: c.encode().into(),
		}))
	}

	async fn prove_finality(&self, number: u64) -> RpcResult<Option<Bytes>> {
		let (client, finality, interval) =
			(self.client.clone(), self.finality.clone(), self.interval);
		let proof = tokio::task::spawn_blocking(move || {
			prove_finality::<B, C>(&client, &finality, interval, number)
		})
		.await
		.map_err(internal)?
		.map_err(internal)?;
		Ok(proof.map(|p| p.encode().into()))
	}

	fn evidence(&self) -> RpcResult<Vec<EvidenceInfo<B::Hash>>> {
		Ok(self.evidence.entries().iter().map(EvidenceInfo::from).collect())
	}

	async fn subscribe_finalized(&self, pending: PendingSubscriptionSink) -> SubscriptionResult {
		let sink = pending.accept().await?;
		let mut notifications = self.client.finality_notification_stream();
		let mut last = None;
		loop {
			let current = checkpoint_status(&self.finality);
			if last.as_ref() != Some(&current.finalized) {
				last = Some(current.finalized.clone());
				sink.send(SubscriptionMessage::from_json(&current)?).await?;
			}
			tokio::select! {
				_ = sink.closed() => return Ok(()),
				next = notifications.next() => if next.is_none() { return Ok(()) },
			}
		}
	}
}
