//! Certificates as block justifications: verification, and the import side for syncing nodes.
//!
//! A finalized checkpoint block carries its [`CheckpointCertificate`], SCALE-encoded, as the
//! justification of engine [`ENGINE_ID`]. [`VoterSet::verify_certificate`] checks one against an
//! authority set; [`CheckpointBlockImport`] takes `CKPT` justifications off imported blocks
//! and off justification requests, verifies them against the runtime's authority set and only
//! then finalizes the block, so a node that syncs trusts proofs, not peers.
//! [`CheckpointVerifier`] wraps the consensus verifier and refuses a block that comes with a
//! `CKPT` justification that does not verify, so the peer that sent it loses reputation and is
//! dropped (a justification fetched on its own costs its sender the same way, through the sync
//! layer's report on a failed justification import).

use crate::{
	metrics::JustificationMetrics,
	state::{CertificateError, VoterSet},
	LOG_TARGET,
};
use codec::{DecodeAll, Encode};
use sc_client_api::{backend::Backend, Finalizer};
use sc_consensus::{
	BlockCheckParams, BlockImport, BlockImportParams, ImportResult, JustificationImport, Verifier,
};
use sp_api::ProvideRuntimeApi;
use sp_blockchain::HeaderBackend;
use sp_consensus::Error as ConsensusError;
use sp_finality_checkpoint::{CheckpointApi, CheckpointCertificate, ENGINE_ID};
use sp_runtime::{
	traits::{Block as BlockT, Header as HeaderT, NumberFor, UniqueSaturatedInto},
	Justification,
};
use std::{marker::PhantomData, sync::Arc};
use substrate_prometheus_endpoint::Registry;

/// Finalizes block `hash` at height `number` on the client with `certificate` as its `CKPT`
/// justification, unless the client has finalized that height already (`Ok(false)`). The one
/// place the gadget finalizes on the client: the worker after a certificate, and justification
/// import.
pub fn finalize_block<B, BE, C>(
	client: &C,
	hash: B::Hash,
	number: NumberFor<B>,
	certificate: &CheckpointCertificate<B::Hash>,
) -> sp_blockchain::Result<bool>
where
	B: BlockT,
	BE: Backend<B>,
	C: HeaderBackend<B> + Finalizer<B, BE>,
{
	if client.info().finalized_number >= number {
		return Ok(false);
	}
	client.finalize_block(hash, Some((ENGINE_ID, certificate.encode())), true)?;
	log::info!(
		target: LOG_TARGET,
		"🏁 Finalized block #{number} ({hash:?}) by checkpoint {}",
		certificate.link.source.number,
	);
	Ok(true)
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
	voters.verify_certificate(genesis, &certificate)?;
	Ok(certificate)
}

/// Block import that verifies and applies `CKPT` justifications, wrapping the inner import.
/// Also the import queue's [`JustificationImport`] for justifications fetched on their own.
pub struct CheckpointBlockImport<B, BE, C, I> {
	inner: I,
	client: Arc<C>,
	metrics: Option<JustificationMetrics>,
	_phantom: PhantomData<(B, BE)>,
}

impl<B, BE, C, I: Clone> Clone for CheckpointBlockImport<B, BE, C, I> {
	fn clone(&self) -> Self {
		Self {
			inner: self.inner.clone(),
			client: self.client.clone(),
			metrics: self.metrics.clone(),
			_phantom: PhantomData,
		}
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
		Self { inner, client, metrics: None, _phantom: PhantomData }
	}

	/// Counts accepted and refused justifications in `registry`
	/// (`substrate_checkpoint_justification_imports_total`).
	pub fn with_metrics(mut self, registry: Option<&Registry>) -> Self {
		self.metrics = registry.and_then(|r| match JustificationMetrics::register(r) {
			Ok(metrics) => Some(metrics),
			Err(e) => {
				log::warn!(target: LOG_TARGET, "⚠️ Justification import metrics not registered: {e}");
				None
			}
		});
		self
	}

	fn apply(
		&self,
		hash: B::Hash,
		number: NumberFor<B>,
		encoded: Vec<u8>,
	) -> Result<(), ConsensusError> {
		let verified = verify_justification(&*self.client, hash, hash, number, &encoded);
		if let Some(metrics) = &self.metrics {
			metrics.imported(verified.is_ok());
		}
		let certificate = verified.map_err(|e| {
				log::warn!(target: LOG_TARGET, "⚠️ Refused checkpoint justification of block #{number} ({hash:?}): {e}");
				ConsensusError::ClientImport(e.to_string())
			})?;
		finalize_block(&*self.client, hash, number, &certificate)
			.map_err(|e| ConsensusError::ClientImport(e.to_string()))?;
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
	use crate::state::tests::signed_certificate as setup;
	use sp_core::H256;

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
}
