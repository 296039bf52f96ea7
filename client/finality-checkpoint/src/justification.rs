//! Certificates as block justifications: verification, and the import side for syncing nodes.
//!
//! A finalized checkpoint block carries its [`CheckpointCertificate`], SCALE-encoded, as the
//! justification of engine [`ENGINE_ID`]. [`verify_certificate`] checks one against an
//! authority set; [`CheckpointBlockImport`] takes `CKPT` justifications off imported blocks
//! and off justification requests, verifies them against the runtime's authority set and only
//! then finalizes the block, so a node that syncs trusts proofs, not peers.
//! [`CheckpointVerifier`] wraps the consensus verifier and refuses a block that comes with a
//! `CKPT` justification that does not verify, so the peer that sent it loses reputation and is
//! dropped (a justification fetched on its own costs its sender the same way, through the sync
//! layer's report on a failed justification import).

use crate::{finality::VoterSet, LOG_TARGET};
use codec::{DecodeAll, Encode};
use sc_client_api::{backend::Backend, Finalizer};
use sc_consensus::{
	BlockCheckParams, BlockImport, BlockImportParams, ImportResult, JustificationImport, Verifier,
};
use sp_api::ProvideRuntimeApi;
use sp_blockchain::HeaderBackend;
use sp_consensus::Error as ConsensusError;
use sp_finality_checkpoint::{signing_payload, CheckpointApi, CheckpointCertificate, ENGINE_ID};
use sp_runtime::{
	traits::{Block as BlockT, Header as HeaderT, NumberFor, UniqueSaturatedInto},
	Justification, RuntimeAppPublic,
};
use std::{collections::BTreeSet, marker::PhantomData, sync::Arc};

/// Why a certificate or justification was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertificateError {
	/// The justification does not decode as a certificate.
	#[error("justification does not decode as a checkpoint certificate")]
	Malformed,
	/// The certificate is of another authority set.
	#[error("certificate of authority set {got}, the set at this block is {expected}")]
	WrongSet {
		/// The set at the block.
		expected: u64,
		/// The certificate's set.
		got: u64,
	},
	/// The link does not go to the next checkpoint, so it finalizes nothing.
	#[error("certificate link does not go from a checkpoint to the next one")]
	NotFinalizing,
	/// The certificate is for another block.
	#[error("certificate finalizes another block")]
	WrongBlock,
	/// Fewer distinct valid signers than the threshold.
	#[error("certificate has {got} signatures, {needed} are needed")]
	TooFewSignatures {
		/// Signatures present.
		got: usize,
		/// Threshold of the set.
		needed: usize,
	},
	/// A signer is not in the set, appears twice, or its signature does not verify.
	#[error("certificate signature of validator {0} is invalid, unknown or repeated")]
	BadSignature(u32),
	/// The runtime could not tell the authority set.
	#[error("cannot read the checkpoint authority set from the runtime: {0}")]
	Runtime(String),
}

/// Checks that `certificate` is a supermajority of valid, distinct signatures of `voters` on a
/// link from a checkpoint to the next one, on the chain with `genesis_hash`.
pub fn verify_certificate<H: Encode + Copy>(
	voters: &VoterSet,
	genesis_hash: &H,
	certificate: &CheckpointCertificate<H>,
) -> Result<(), CertificateError> {
	let link = &certificate.link;
	if link.set_id != voters.set_id() {
		return Err(CertificateError::WrongSet { expected: voters.set_id(), got: link.set_id });
	}
	if link.target.number != link.source.number.next() {
		return Err(CertificateError::NotFinalizing);
	}
	let needed = voters.threshold();
	if certificate.signatures.len() < needed {
		return Err(CertificateError::TooFewSignatures {
			got: certificate.signatures.len(),
			needed,
		});
	}
	let payload = signing_payload(genesis_hash, link);
	let mut seen = BTreeSet::new();
	for (index, signature) in &certificate.signatures {
		let valid = seen.insert(*index)
			&& voters
				.authorities()
				.get(*index as usize)
				.is_some_and(|public| public.verify(&payload, signature));
		if !valid {
			return Err(CertificateError::BadSignature(*index));
		}
	}
	Ok(())
}

/// The authority set and checkpoint interval the runtime reports at block `at`.
pub fn chain_params<B, C>(client: &C, at: B::Hash) -> Result<(VoterSet, u32), CertificateError>
where
	B: BlockT,
	C: ProvideRuntimeApi<B>,
	C::Api: CheckpointApi<B>,
{
	let api = client.runtime_api();
	let runtime = |e: sp_api::ApiError| CertificateError::Runtime(e.to_string());
	let authorities = api.authorities(at).map_err(runtime)?;
	let set_id = api.set_id(at).map_err(runtime)?;
	let interval = api.checkpoint_interval(at).map_err(runtime)?.max(1);
	let voters = VoterSet::new(set_id, authorities)
		.ok_or_else(|| CertificateError::Runtime("the authority set is empty".into()))?;
	Ok((voters, interval))
}

/// Verifies the `CKPT` justification `encoded` for block `hash` at height `number`, against
/// the authority set in the state of block `state_at` (the block itself, or its parent while
/// it is not imported yet).
pub fn verify_justification<B, C>(
	client: &C,
	state_at: B::Hash,
	hash: B::Hash,
	number: NumberFor<B>,
	encoded: &[u8],
) -> Result<CheckpointCertificate<B::Hash>, CertificateError>
where
	B: BlockT,
	C: ProvideRuntimeApi<B> + HeaderBackend<B>,
	C::Api: CheckpointApi<B>,
{
	let (voters, interval) = chain_params(client, state_at)?;
	check_justification::<B>(&voters, interval, &client.info().genesis_hash, hash, number, encoded)
}

/// Whether `encoded` is a certificate of `voters` (checkpoints `interval` blocks apart, chain
/// `genesis`) that finalizes block `hash` at height `number`.
fn check_justification<B: BlockT>(
	voters: &VoterSet,
	interval: u32,
	genesis: &B::Hash,
	hash: B::Hash,
	number: NumberFor<B>,
	encoded: &[u8],
) -> Result<CheckpointCertificate<B::Hash>, CertificateError> {
	let certificate = CheckpointCertificate::<B::Hash>::decode_all(&mut &encoded[..])
		.map_err(|_| CertificateError::Malformed)?;
	let number: u64 = number.unique_saturated_into();
	let source = certificate.link.source;
	if source.hash != hash || source.number.block_number(interval) != number {
		return Err(CertificateError::WrongBlock);
	}
	verify_certificate(voters, genesis, &certificate)?;
	Ok(certificate)
}

/// Block import that verifies and applies `CKPT` justifications, wrapping the inner import.
/// Also the import queue's [`JustificationImport`] for justifications fetched on their own.
pub struct CheckpointBlockImport<B, BE, C, I> {
	inner: I,
	client: Arc<C>,
	_phantom: PhantomData<(B, BE)>,
}

impl<B, BE, C, I: Clone> Clone for CheckpointBlockImport<B, BE, C, I> {
	fn clone(&self) -> Self {
		Self { inner: self.inner.clone(), client: self.client.clone(), _phantom: PhantomData }
	}
}

impl<B, BE, C, I> CheckpointBlockImport<B, BE, C, I>
where
	B: BlockT,
	BE: Backend<B>,
	C: ProvideRuntimeApi<B> + HeaderBackend<B> + Finalizer<B, BE> + Send + Sync,
	C::Api: CheckpointApi<B>,
{
	/// Wraps `inner`, verifying against `client`'s runtime.
	pub fn new(inner: I, client: Arc<C>) -> Self {
		Self { inner, client, _phantom: PhantomData }
	}

	fn apply(
		&self,
		hash: B::Hash,
		number: NumberFor<B>,
		encoded: Vec<u8>,
	) -> Result<(), ConsensusError> {
		verify_justification(&*self.client, hash, hash, number, &encoded).map_err(|e| {
			log::warn!(target: LOG_TARGET, "⚠️ Refused checkpoint justification of block #{number} ({hash:?}): {e}");
			ConsensusError::ClientImport(e.to_string())
		})?;
		if self.client.info().finalized_number >= number {
			return Ok(());
		}
		self.client
			.finalize_block(hash, Some((ENGINE_ID, encoded)), true)
			.map_err(|e| ConsensusError::ClientImport(e.to_string()))?;
		log::info!(target: LOG_TARGET, "🏁 Finalized #{number} ({hash:?}) by an imported checkpoint certificate");
		Ok(())
	}
}

#[async_trait::async_trait]
impl<B, BE, C, I> BlockImport<B> for CheckpointBlockImport<B, BE, C, I>
where
	B: BlockT,
	BE: Backend<B>,
	C: ProvideRuntimeApi<B> + HeaderBackend<B> + Finalizer<B, BE> + Send + Sync,
	C::Api: CheckpointApi<B>,
	I: BlockImport<B> + Send + Sync,
	I::Error: Into<ConsensusError>,
{
	type Error = ConsensusError;

	async fn check_block(&self, block: BlockCheckParams<B>) -> Result<ImportResult, Self::Error> {
		self.inner.check_block(block).await.map_err(Into::into)
	}

	async fn import_block(
		&self,
		mut block: BlockImportParams<B>,
	) -> Result<ImportResult, Self::Error> {
		let hash = block.post_hash();
		let number = *block.header.number();
		// The certificate is stored only once verified, by `finalize_block`.
		let justification = block.justifications.take().and_then(|mut j| {
			let ours = j.get(ENGINE_ID).cloned();
			j.remove(ENGINE_ID);
			if j.iter().next().is_some() {
				block.justifications = Some(j);
			}
			ours
		});
		let result = self.inner.import_block(block).await.map_err(Into::into)?;
		if let (ImportResult::Imported(_) | ImportResult::AlreadyInChain, Some(encoded)) =
			(&result, justification)
		{
			// A bad justification costs the block nothing: it stays imported, unfinalized.
			let _ = self.apply(hash, number, encoded);
		}
		Ok(result)
	}
}

#[async_trait::async_trait]
impl<B, BE, C, I> JustificationImport<B> for CheckpointBlockImport<B, BE, C, I>
where
	B: BlockT,
	BE: Backend<B>,
	C: ProvideRuntimeApi<B> + HeaderBackend<B> + Finalizer<B, BE> + Send + Sync,
	C::Api: CheckpointApi<B>,
	I: Send + Sync,
{
	type Error = ConsensusError;

	async fn on_start(&mut self) -> Vec<(B::Hash, NumberFor<B>)> {
		Vec::new()
	}

	async fn import_justification(
		&mut self,
		hash: B::Hash,
		number: NumberFor<B>,
		justification: Justification,
	) -> Result<(), Self::Error> {
		let (engine, encoded) = justification;
		if engine != ENGINE_ID {
			return Err(ConsensusError::ClientImport(format!(
				"justification of engine {engine:?}; this chain finalizes with {ENGINE_ID:?}"
			)));
		}
		self.apply(hash, number, encoded)
	}
}

/// The import queue's verifier: the consensus verifier `inner` (Aura's), then the `CKPT`
/// justification a block comes with, if any. A block whose justification does not verify is
/// refused: the sync layer drops the peer that sent it with a reputation cost, and fetches the
/// block from another.
pub struct CheckpointVerifier<B, C, V> {
	inner: V,
	client: Arc<C>,
	_phantom: PhantomData<B>,
}

impl<B, C, V> CheckpointVerifier<B, C, V> {
	/// Wraps `inner`, verifying justifications against `client`'s runtime.
	pub fn new(inner: V, client: Arc<C>) -> Self {
		Self { inner, client, _phantom: PhantomData }
	}
}

#[async_trait::async_trait]
impl<B, C, V> Verifier<B> for CheckpointVerifier<B, C, V>
where
	B: BlockT,
	C: ProvideRuntimeApi<B> + HeaderBackend<B> + Send + Sync,
	C::Api: CheckpointApi<B>,
	V: Verifier<B>,
{
	async fn verify(&self, block: BlockImportParams<B>) -> Result<BlockImportParams<B>, String> {
		let block = self.inner.verify(block).await?;
		if let Some(encoded) = block.justifications.as_ref().and_then(|j| j.get(ENGINE_ID)) {
			// Not imported yet: the set is read from the parent's state.
			let parent = *block.header.parent_hash();
			let (hash, number) = (block.post_hash(), *block.header.number());
			match verify_justification(&*self.client, parent, hash, number, encoded) {
				Ok(_) => {}
				// No state to check against (pruned): not the peer's fault. Block import
				// checks it again against the block's own state.
				Err(CertificateError::Runtime(e)) => {
					log::debug!(target: LOG_TARGET, "Checkpoint justification of #{number} not checked before import: {e}")
				}
				Err(e) => {
					log::warn!(
						target: LOG_TARGET,
						"⚠️ Refused block #{number} ({hash:?}): its checkpoint justification does \
						 not verify: {e}",
					);
					return Err(format!("invalid checkpoint justification: {e}"));
				}
			}
		}
		Ok(block)
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use sp_core::{ed25519, Pair, H256};
	use sp_finality_checkpoint::{AuthorityId, Checkpoint, Link};

	fn setup() -> (Vec<ed25519::Pair>, VoterSet, CheckpointCertificate<H256>) {
		let keys: Vec<_> = (0..4u8).map(|i| ed25519::Pair::from_seed(&[i + 1; 32])).collect();
		let voters =
			VoterSet::new(0, keys.iter().map(|k| AuthorityId::from(k.public())).collect()).unwrap();
		let link = Link {
			set_id: 0,
			source: Checkpoint::new(1, H256::repeat_byte(1)),
			target: Checkpoint::new(2, H256::repeat_byte(2)),
		};
		let payload = signing_payload(&H256::zero(), &link);
		let signatures = keys
			.iter()
			.take(3)
			.enumerate()
			.map(|(i, k)| (i as u32, k.sign(&payload).into()))
			.collect();
		(keys, voters, CheckpointCertificate { link, signatures })
	}

	#[test]
	fn a_justification_must_finalize_the_very_block_it_comes_with() {
		type Block = sp_runtime::generic::Block<
			sp_runtime::generic::Header<u64, sp_runtime::traits::BlakeTwo256>,
			sp_runtime::OpaqueExtrinsic,
		>;
		let (_, voters, cert) = setup();
		let (genesis, block) = (H256::zero(), H256::repeat_byte(1));
		// Checkpoint 1 at interval 5 is block #5.
		let check = |hash, number, bytes: &[u8]| {
			check_justification::<Block>(&voters, 5, &genesis, hash, number, bytes)
		};
		assert_eq!(check(block, 5, &cert.encode()), Ok(cert.clone()));
		assert_eq!(check(block, 6, &cert.encode()), Err(CertificateError::WrongBlock));
		assert_eq!(
			check(H256::repeat_byte(7), 5, &cert.encode()),
			Err(CertificateError::WrongBlock)
		);
		assert_eq!(check(block, 5, &[1, 2, 3]), Err(CertificateError::Malformed));
		let mut trailing = cert.encode();
		trailing.push(0);
		assert_eq!(check(block, 5, &trailing), Err(CertificateError::Malformed));
		let mut short = cert;
		short.signatures.pop();
		assert!(matches!(
			check(block, 5, &short.encode()),
			Err(CertificateError::TooFewSignatures { .. })
		));
	}

	#[test]
	fn valid_certificate_verifies() {
		let (_, voters, cert) = setup();
		assert_eq!(verify_certificate(&voters, &H256::zero(), &cert), Ok(()));
	}

	#[test]
	fn forged_short_repeated_and_foreign_certificates_fail() {
		let (keys, voters, cert) = setup();
		assert!(verify_certificate(&voters, &H256::repeat_byte(9), &cert).is_err(), "other chain");

		let mut short = cert.clone();
		short.signatures.pop();
		assert_eq!(
			verify_certificate(&voters, &H256::zero(), &short),
			Err(CertificateError::TooFewSignatures { got: 2, needed: 3 })
		);

		let mut repeated = cert.clone();
		repeated.signatures[2] = repeated.signatures[0].clone();
		assert_eq!(
			verify_certificate(&voters, &H256::zero(), &repeated),
			Err(CertificateError::BadSignature(0))
		);

		let mut forged = cert.clone();
		let payload = signing_payload(&H256::zero(), &cert.link);
		forged.signatures[2] = (2, keys[3].sign(&payload).into());
		assert_eq!(
			verify_certificate(&voters, &H256::zero(), &forged),
			Err(CertificateError::BadSignature(2))
		);

		let mut skipping = cert.clone();
		skipping.link.target.number = sp_finality_checkpoint::CheckpointNumber(3);
		assert_eq!(
			verify_certificate(&voters, &H256::zero(), &skipping),
			Err(CertificateError::NotFinalizing)
		);

		let mut other_set = cert;
		other_set.link.set_id = 1;
		assert!(matches!(
			verify_certificate(&voters, &H256::zero(), &other_set),
			Err(CertificateError::WrongSet { .. })
		));
	}
}
