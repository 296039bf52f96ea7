//! JSON-RPC of checkpoint finality. Blocks are named by number or hash wherever a caller names
//! one ([`BlockRef`]), and come back with both; epochs (the vote targets: block
//! `(epoch / 2) * interval`, round `epoch % 2 + 1`) stand beside them, named as such.
//!
//! - `checkpoint_status`: the finalized and justified checkpoints, the authority set, the
//!   own-vote guard, counters;
//! - `checkpoint_certificate(block)`: the certificate that finalized `block` (of the first
//!   checkpoint block at or above it), from the checkpoint store, or from the block's `CKP2`
//!   justification once the store pruned it;
//! - `checkpoint_proveFinality(block)`: the [`FinalityProof`] of `block` (the set changes from
//!   genesis and the certificate), as JSON and SCALE-encoded; [`verify_finality_proof`]
//!   checks the SCALE form;
//! - `checkpoint_evidence`: the equivocations this node saw and how far their reports got
//!   (seen, submitted, included in a block, or failed and why);
//! - `checkpoint_subscribeFinalized`: each certificate that finalizes blocks on the node's
//!   client, in order, from the gadget's [`CertificateStream`].
//!
//! A call that cannot answer fails with an [`Error`] that says why (code and message), never
//! with a bare `null`. The trait is `#[rpc(client, server)]`: Rust callers get a typed client,
//! `CheckpointApiClient`, on any jsonrpsee client.
//!
//! [`FinalityProof`]: sc_finality_checkpoint::FinalityProof
//! [`verify_finality_proof`]: sc_finality_checkpoint::verify_finality_proof
//! [`CertificateStream`]: sc_finality_checkpoint::CertificateStream

#![warn(missing_docs)]

mod error;

pub use error::Error;

use codec::{Decode, Encode};
use futures::{FutureExt, StreamExt};
use jsonrpsee::{
	core::{async_trait, RpcResult},
	proc_macros::rpc,
	PendingSubscriptionSink,
};
use sc_client_api::BlockBackend;
use sc_finality_checkpoint::{
	justification_at, prove_finality, CheckpointHash, EvidenceEntry, EvidenceLog, FinalityHandle,
	FinalityProof, ReportStatus, SetChangeProof,
};
use sc_rpc::{
	utils::{BoundedVecDeque, PendingSubscription},
	SubscriptionTaskExecutor,
};
use serde::{Deserialize, Serialize};
use sp_blockchain::HeaderBackend;
use sp_core::Bytes;
use sp_finality_checkpoint::{Checkpoint, CheckpointCertificate, Epoch};
use sp_runtime::traits::{Block as BlockT, Header as HeaderT, UniqueSaturatedInto};
use std::{marker::PhantomData, sync::Arc};

/// How far above a pruned block `checkpoint_certificate` looks for a justification.
const JUSTIFICATION_SCAN: u64 = 1024;

/// A block as a caller names it: its number (a JSON number) or its hash (a `0x` string).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum BlockRef<Hash> {
	/// The block at this height of the finalized chain.
	Number(u64),
	/// The block with this hash.
	Hash(Hash),
}

/// A block: its number and hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlockInfo<Hash> {
	/// Block number.
	pub number: u64,
	/// Block hash.
	pub hash: Hash,
}

/// A checkpoint: a block and the epoch it stands at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckpointInfo<Hash> {
	/// The block's number.
	pub block_number: u64,
	/// The block's hash.
	pub block_hash: Hash,
	/// The epoch: `2 * block_number / interval` for round one, one more for round two.
	pub epoch: u64,
}

impl<Hash> CheckpointInfo<Hash> {
	/// The checkpoint `checkpoint` on a chain with checkpoints `interval` blocks apart.
	pub fn new(checkpoint: Checkpoint<Hash>, interval: u32) -> Self {
		Self {
			block_number: checkpoint.number.block_number(interval),
			block_hash: checkpoint.hash,
			epoch: checkpoint.number.0,
		}
	}
}

/// An epoch and its block's number, where no hash is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EpochInfo {
	/// The epoch.
	pub epoch: u64,
	/// The number of the epoch's block.
	pub block_number: u64,
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
	/// Blocks between checkpoint blocks.
	pub interval: u32,
	/// The highest target this node's key voted for; `None` if it never voted.
	pub own_vote_target: Option<EpochInfo>,
	/// Votes accepted since the node started.
	pub votes: u64,
	/// Votes rejected since the node started.
	pub rejected_votes: u64,
	/// Conflicting vote pairs seen since the node started.
	pub equivocations: u64,
	/// Whether the checkpoint store is on (`--checkpoint-persistence`).
	pub persistence: bool,
}

/// A certificate: a supermajority of one set's signatures on one link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CertificateInfo<Hash> {
	/// The authority set that signed.
	pub set_id: u64,
	/// The checkpoint it finalizes (the link's source).
	pub finalized: CheckpointInfo<Hash>,
	/// The checkpoint it justifies (the link's target).
	pub target: CheckpointInfo<Hash>,
	/// The validator indices that signed, in the set's order.
	pub signers: Vec<u32>,
	/// The certificate, SCALE-encoded: a block's `CKP2` justification without its tag.
	pub encoded: Bytes,
}

impl<Hash: Encode + Copy> CertificateInfo<Hash> {
	/// `certificate` on a chain with checkpoints `interval` blocks apart.
	pub fn new(certificate: &CheckpointCertificate<Hash>, interval: u32) -> Self {
		Self {
			set_id: certificate.link.set_id,
			finalized: CheckpointInfo::new(certificate.link.source, interval),
			target: CheckpointInfo::new(certificate.link.target, interval),
			signers: certificate.signatures.iter().map(|(i, _)| *i).collect(),
			encoded: certificate.encode().into(),
		}
	}

	/// The certificate, decoded from [`Self::encoded`].
	pub fn decode(&self) -> Result<CheckpointCertificate<Hash>, codec::Error>
	where
		Hash: Decode,
	{
		CheckpointCertificate::decode(&mut &self.encoded[..])
	}
}

/// Where `checkpoint_certificate` found the certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum CertificateOrigin {
	/// The checkpoint store (within `--checkpoint-retention`, or a set change's).
	Store,
	/// The `CKP2` justification in the block database.
	Justification,
}

/// What `checkpoint_certificate` returns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlockCertificate<Hash> {
	/// The block asked for.
	pub block: BlockInfo<Hash>,
	/// Where the certificate came from.
	pub origin: CertificateOrigin,
	/// The certificate that finalized the block: of the block itself if it is a checkpoint
	/// block, else of the first checkpoint block above it.
	pub certificate: CertificateInfo<Hash>,
}

/// One authority set change of a finality proof.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SetChangeInfo<Hash> {
	/// The checkpoint block whose header signals the change.
	pub signal: BlockInfo<Hash>,
	/// The headers from the enacting checkpoint block down to the signal's child, newest first.
	pub ancestry: Vec<BlockInfo<Hash>>,
	/// The old set's certificate that finalized the enacting checkpoint.
	pub certificate: CertificateInfo<Hash>,
}

/// What `checkpoint_proveFinality` returns: a [`FinalityProof`] as JSON, and SCALE-encoded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FinalityProofInfo<Hash> {
	/// The block asked for.
	pub block: BlockInfo<Hash>,
	/// The set changes from genesis, oldest first.
	pub changes: Vec<SetChangeInfo<Hash>>,
	/// The certificate that finalized the first checkpoint block at or above the block that
	/// the store kept.
	pub certificate: CertificateInfo<Hash>,
	/// The proof, SCALE-encoded: what `verify_finality_proof` takes.
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
	/// The number of this node's best block when it saw the equivocation.
	pub seen_at_block: u64,
	/// `seen` (this node authors no blocks, so it does not report), `submitted` (in this
	/// node's pool), `included` or `failed`.
	pub status: String,
	/// The number of the block that included the report, once `included`.
	pub included_in_block: Option<u64>,
	/// Why the report failed, if `failed`.
	pub error: Option<String>,
}

impl<H: Copy + Encode + PartialEq> EvidenceInfo<H> {
	/// `entry` on a chain with checkpoints `interval` blocks apart.
	pub fn new(entry: &EvidenceEntry<H>, interval: u32) -> Self {
		use sp_core::crypto::Ss58Codec;
		let proof = &entry.proof;
		let vote = |(link, _): &(sp_finality_checkpoint::Link<H>, _)| VoteInfo {
			source: CheckpointInfo::new(link.source, interval),
			target: CheckpointInfo::new(link.target, interval),
		};
		let (status, included_in_block, error) = match &entry.status {
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
			seen_at_block: entry.seen_at,
			status: status.into(),
			included_in_block,
			error,
		}
	}
}

/// The checkpoint RPC API.
#[rpc(client, server)]
pub trait CheckpointApi<Hash> {
	/// Finality status of the checkpoint gadget.
	#[method(name = "checkpoint_status")]
	fn status(&self) -> RpcResult<CheckpointStatus<Hash>>;

	/// The certificate that finalized `block` (a number or a hash): of the first checkpoint
	/// block at or above it. Fails if the block is unknown, off the finalized chain, not
	/// finalized yet, or its certificate is neither stored nor in a justification here.
	#[method(name = "checkpoint_certificate")]
	async fn certificate(&self, block: BlockRef<Hash>) -> RpcResult<BlockCertificate<Hash>>;

	/// The finality proof of `block` (a number or a hash) from the genesis set: the set
	/// changes and the certificate of the first checkpoint block at or above it that the store
	/// kept. Fails as `checkpoint_certificate` does, and on a node without a checkpoint store.
	#[method(name = "checkpoint_proveFinality")]
	async fn prove_finality(&self, block: BlockRef<Hash>) -> RpcResult<FinalityProofInfo<Hash>>;

	/// The equivocations this node saw (the last 256) and how far their reports got, oldest
	/// first. Empty on a node that does not report.
	#[method(name = "checkpoint_evidence")]
	fn evidence(&self) -> RpcResult<Vec<EvidenceInfo<Hash>>>;

	/// Each certificate that finalizes blocks on this node, in order: one item each time the
	/// finalized block moves by the gadget.
	#[subscription(
		name = "checkpoint_subscribeFinalized" => "checkpoint_finalized",
		unsubscribe = "checkpoint_unsubscribeFinalized",
		item = CertificateInfo<Hash>,
	)]
	fn subscribe_finalized(&self);
}

/// The RPC handler.
pub struct CheckpointRpc<B: BlockT, C> {
	finality: FinalityHandle<B::Hash>,
	client: Arc<C>,
	interval: u32,
	evidence: EvidenceLog<B::Hash>,
	executor: SubscriptionTaskExecutor,
	_phantom: PhantomData<B>,
}

impl<B: BlockT, C> CheckpointRpc<B, C> {
	/// A handler reading `finality` and the reporter's `evidence`, blocks and justifications
	/// from `client` (checkpoints `interval` blocks apart); subscriptions run on `executor`.
	pub fn new(
		finality: FinalityHandle<B::Hash>,
		client: Arc<C>,
		interval: u32,
		evidence: EvidenceLog<B::Hash>,
		executor: SubscriptionTaskExecutor,
	) -> Self {
		let interval = interval.max(1);
		Self { finality, client, interval, evidence, executor, _phantom: PhantomData }
	}
}

/// What `checkpoint_status` answers, from the published view (checkpoints `interval` blocks
/// apart): it never waits for the voter's disk writes.
pub fn checkpoint_status<H: CheckpointHash>(
	finality: &FinalityHandle<H>,
	interval: u32,
) -> CheckpointStatus<H> {
	let view = finality.view();
	let own = view.guard.target;
	CheckpointStatus {
		finalized: CheckpointInfo::new(view.finalized, interval),
		justified: CheckpointInfo::new(view.justified, interval),
		set_id: view.voters.set_id(),
		validators: view.voters.authorities().len() as u32,
		interval,
		own_vote_target: (own.0 > 0)
			.then(|| EpochInfo { epoch: own.0, block_number: own.block_number(interval) }),
		votes: view.counters.total_signatures,
		rejected_votes: view.counters.rejected_votes,
		equivocations: view.counters.equivocations,
		persistence: finality.persistence().is_some(),
	}
}

/// Block `at` of the finalized chain of `client`: its number and hash, or why it is not one.
fn finalized_block<B, C>(client: &C, at: BlockRef<B::Hash>) -> Result<BlockInfo<B::Hash>, Error>
where
	B: BlockT,
	C: HeaderBackend<B>,
{
	let blockchain = |e: sp_blockchain::Error| Error::Blockchain(e.to_string());
	let (number, hash) = match at {
		BlockRef::Number(number) => (number, client.hash(number.unique_saturated_into())),
		BlockRef::Hash(hash) => {
			let number = client.number(hash).map_err(blockchain)?;
			let number = number.ok_or_else(|| Error::UnknownBlock(format!("{hash:?}")))?;
			(number.unique_saturated_into(), Ok(Some(hash)))
		}
	};
	let finalized: u64 = client.info().finalized_number.unique_saturated_into();
	if number > finalized {
		return Err(Error::NotFinalized { block: number, finalized });
	}
	let hash =
		hash.map_err(blockchain)?.ok_or_else(|| Error::UnknownBlock(format!("#{number}")))?;
	if let BlockRef::Hash(_) = at {
		let canonical = client.hash(number.unique_saturated_into()).map_err(blockchain)?;
		if canonical != Some(hash) {
			return Err(Error::NotOnFinalizedChain {
				hash: format!("{hash:?}"),
				number,
				canonical: format!("{canonical:?}"),
			});
		}
	}
	Ok(BlockInfo { number, hash })
}

/// The certificate that finalized block `number` of the finalized chain: the first one stored
/// at or above it, else the first `CKP2` justification of a checkpoint block at or above it
/// (within [`JUSTIFICATION_SCAN`] blocks).
fn certificate_of<B, C>(
	client: &C,
	finality: &FinalityHandle<B::Hash>,
	interval: u32,
	number: u64,
) -> Result<(CertificateOrigin, CheckpointCertificate<B::Hash>), Error>
where
	B: BlockT,
	B::Hash: CheckpointHash,
	C: HeaderBackend<B> + BlockBackend<B>,
{
	let first = Epoch::at_or_above(number, interval);
	if let Some(persistence) = finality.persistence() {
		let stored = persistence
			.storage()
			.first_certificate_in(first, finality.view().finalized.number)
			.map_err(|e| Error::Store(e.to_string()))?;
		if let Some(certificate) = stored {
			return Ok((CertificateOrigin::Store, certificate));
		}
	}
	let finalized: u64 = client.info().finalized_number.unique_saturated_into();
	let last = finalized.min(first.block_number(interval).saturating_add(JUSTIFICATION_SCAN));
	let mut height = first.block_number(interval);
	while height <= last {
		if let Some((_, Some(encoded))) = justification_at::<B, C>(client, height) {
			let certificate = CheckpointCertificate::from_justification(&encoded)
				.map_err(|e| Error::BadJustification { block: height, why: format!("{e:?}") })?;
			return Ok((CertificateOrigin::Justification, certificate));
		}
		height += u64::from(interval);
	}
	Err(Error::NoCertificate { block: number, persistence: finality.persistence().is_some() })
}

/// `proof` on a chain with checkpoints `interval` blocks apart, for `block`.
fn proof_info<Header: HeaderT>(
	block: BlockInfo<Header::Hash>,
	proof: &FinalityProof<Header>,
	interval: u32,
) -> FinalityProofInfo<Header::Hash>
where
	Header::Hash: Copy,
{
	let info = |header: &Header| BlockInfo {
		number: (*header.number()).unique_saturated_into(),
		hash: header.hash(),
	};
	let change = |change: &SetChangeProof<Header>| SetChangeInfo {
		signal: info(&change.signal),
		ancestry: change.ancestry.iter().map(info).collect(),
		certificate: CertificateInfo::new(&change.certificate, interval),
	};
	FinalityProofInfo {
		block,
		changes: proof.changes.iter().map(change).collect(),
		certificate: CertificateInfo::new(&proof.certificate, interval),
		encoded: proof.encode().into(),
	}
}

/// Runs `f` on a blocking thread (it reads the disk).
async fn blocking<T: Send + 'static>(
	f: impl FnOnce() -> Result<T, Error> + Send + 'static,
) -> Result<T, Error> {
	tokio::task::spawn_blocking(f).await.map_err(|e| Error::Blockchain(e.to_string()))?
}

#[async_trait]
impl<B, C> CheckpointApiServer<B::Hash> for CheckpointRpc<B, C>
where
	B: BlockT,
	B::Hash: CheckpointHash + Serialize + for<'de> Deserialize<'de>,
	C: HeaderBackend<B> + BlockBackend<B> + Send + Sync + 'static,
{
	fn status(&self) -> RpcResult<CheckpointStatus<B::Hash>> {
		Ok(checkpoint_status(&self.finality, self.interval))
	}

	async fn certificate(&self, block: BlockRef<B::Hash>) -> RpcResult<BlockCertificate<B::Hash>> {
		let (client, finality, interval) =
			(self.client.clone(), self.finality.clone(), self.interval);
		Ok(blocking(move || {
			let block = finalized_block::<B, C>(&client, block)?;
			let (origin, certificate) =
				certificate_of::<B, C>(&client, &finality, interval, block.number)?;
			Ok(BlockCertificate {
				block,
				origin,
				certificate: CertificateInfo::new(&certificate, interval),
			})
		})
		.await?)
	}

	async fn prove_finality(
		&self,
		block: BlockRef<B::Hash>,
	) -> RpcResult<FinalityProofInfo<B::Hash>> {
		let (client, finality, interval) =
			(self.client.clone(), self.finality.clone(), self.interval);
		Ok(blocking(move || {
			let block = finalized_block::<B, C>(&client, block)?;
			if finality.persistence().is_none() {
				return Err(Error::PersistenceOff);
			}
			let proof = prove_finality::<B, C>(&client, &finality, interval, block.number)
				.map_err(|e| Error::Store(e.to_string()))?
				.ok_or(Error::NoCertificate { block: block.number, persistence: true })?;
			Ok(proof_info(block, &proof, interval))
		})
		.await?)
	}

	fn evidence(&self) -> RpcResult<Vec<EvidenceInfo<B::Hash>>> {
		let entries = self.evidence.entries();
		Ok(entries.iter().map(|entry| EvidenceInfo::new(entry, self.interval)).collect())
	}

	fn subscribe_finalized(&self, pending: PendingSubscriptionSink) {
		let interval = self.interval;
		let stream = self
			.finality
			.certificate_stream()
			.subscribe(100_000)
			.map(move |certificate| CertificateInfo::new(&certificate, interval));
		let pipe =
			PendingSubscription::from(pending).pipe_from_stream(stream, BoundedVecDeque::default());
		self.executor.spawn("checkpoint-rpc-subscription", Some("rpc"), pipe.boxed());
	}
}
