//! Certificates as block justifications: verification, and the import side for syncing nodes.
//!
//! A finalized checkpoint block carries its [`CheckpointCertificate`], SCALE-encoded, as the
//! justification of engine [`ENGINE_ID`]. [`VoterSet::verify_certificate`] checks one against an
//! authority set; [`CheckpointBlockImport`] takes `CKPT` justifications off imported blocks
//! and off justification requests, verifies them against the authority set the gadget holds
//! (its published view) and only then finalizes the block, so a node that syncs trusts proofs,
//! not peers. Never against the runtime state of the block being imported: a fork's own state
//! can name any set, say a one-member set of whoever holds the sudo key.
//! [`CheckpointVerifier`] wraps the consensus verifier and refuses a block that comes with a
//! `CKPT` justification that does not verify, so the peer that sent it loses reputation and is
//! dropped (a justification fetched on its own costs its sender the same way, through the sync
//! layer's report on a failed justification import).

use crate::{
	metrics::JustificationMetrics,
	shared::{FinalityView, SharedFinality},
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

/// The authority set and checkpoint interval the runtime reports at block `at`: read at
/// start-up, at the finalized block.
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

/// Verifies the `CKPT` justification `encoded` for block `hash` at height `number` (checkpoints
/// `interval` blocks apart) against the authority set of `view`, the set the gadget holds.
pub fn verify_justification<B: BlockT>(
	view: &FinalityView<B::Hash>,
	interval: u32,
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
	view.voters.verify_certificate(&view.genesis_hash, &certificate)?;
	Ok(certificate)
}

/// Block import that verifies and applies `CKPT` justifications, wrapping the inner import.
/// Also the import queue's [`JustificationImport`] for justifications fetched on their own.
pub struct CheckpointBlockImport<B: BlockT, BE, C, I> {
	inner: I,
	client: Arc<C>,
	finality: SharedFinality<B::Hash>,
	interval: u32,
	metrics: Option<JustificationMetrics>,
	_phantom: PhantomData<BE>,
}

impl<B: BlockT, BE, C, I: Clone> Clone for CheckpointBlockImport<B, BE, C, I> {
	fn clone(&self) -> Self {
		Self {
			inner: self.inner.clone(),
			client: self.client.clone(),
			finality: self.finality.clone(),
			interval: self.interval,
			metrics: self.metrics.clone(),
			_phantom: PhantomData,
		}
	}
}

impl<B, BE, C, I> CheckpointBlockImport<B, BE, C, I>
where
	B: BlockT,
	BE: Backend<B>,
	C: HeaderBackend<B> + Finalizer<B, BE> + Send + Sync,
{
	/// Wraps `inner`, verifying against the set of `finality` (checkpoints `interval` blocks
	/// apart) and finalizing on `client`.
	pub fn new(inner: I, client: Arc<C>, finality: SharedFinality<B::Hash>, interval: u32) -> Self {
		Self { inner, client, finality, interval, metrics: None, _phantom: PhantomData }
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
		let verified =
			verify_justification::<B>(&self.finality.view(), self.interval, hash, number, &encoded);
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
	C: HeaderBackend<B> + Finalizer<B, BE> + Send + Sync,
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
	C: HeaderBackend<B> + Finalizer<B, BE> + Send + Sync,
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
/// justification a block comes with, if any, against the set the gadget holds. A block whose
/// justification does not verify is refused: the sync layer drops the peer that sent it with a
/// reputation cost, and fetches the block from another.
pub struct CheckpointVerifier<B: BlockT, V> {
	inner: V,
	finality: SharedFinality<B::Hash>,
	interval: u32,
}

impl<B: BlockT, V> CheckpointVerifier<B, V> {
	/// Wraps `inner`, verifying justifications against the set of `finality` (checkpoints
	/// `interval` blocks apart).
	pub fn new(inner: V, finality: SharedFinality<B::Hash>, interval: u32) -> Self {
		Self { inner, finality, interval }
	}
}

#[async_trait::async_trait]
impl<B, V> Verifier<B> for CheckpointVerifier<B, V>
where
	B: BlockT,
	V: Verifier<B>,
{
	async fn verify(&self, block: BlockImportParams<B>) -> Result<BlockImportParams<B>, String> {
		let block = self.inner.verify(block).await?;
		if let Some(encoded) = block.justifications.as_ref().and_then(|j| j.get(ENGINE_ID)) {
			let (hash, number) = (block.post_hash(), *block.header.number());
			let view = self.finality.view();
			if let Err(e) = verify_justification::<B>(&view, self.interval, hash, number, encoded) {
				log::warn!(
					target: LOG_TARGET,
					"⚠️ Refused block #{number} ({hash:?}): its checkpoint justification does not \
					 verify: {e}",
				);
				return Err(format!("invalid checkpoint justification: {e}"));
			}
		}
		Ok(block)
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::{
		state::{tests::signed_certificate as setup, FinalityConfig},
		CheckpointFinality,
	};
	use sp_core::{ed25519, Pair, H256};
	use sp_finality_checkpoint::{signing_payload, AuthorityId};

	type Block = sp_runtime::generic::Block<
		sp_runtime::generic::Header<u64, sp_runtime::traits::BlakeTwo256>,
		sp_runtime::OpaqueExtrinsic,
	>;

	/// The view of a gadget holding `voters` on the chain with genesis zero.
	fn view_of(voters: VoterSet) -> std::sync::Arc<FinalityView<H256>> {
		let finality = CheckpointFinality::new(H256::zero(), voters, FinalityConfig::default());
		SharedFinality::new(finality).view()
	}

	#[test]
	fn a_justification_must_finalize_the_very_block_it_comes_with() {
		let (_, voters, cert) = setup();
		let view = view_of(voters);
		let block = H256::repeat_byte(1);
		// Checkpoint 1 at interval 5 is block #5.
		let check = |hash, number, bytes: &[u8]| {
			verify_justification::<Block>(&view, 5, hash, number, bytes)
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

	/// A fork whose own state names a one-member set (sudo's key) signs a certificate alone,
	/// as set 0 or as a new set 1: valid for the set the fork claims, refused by the set the
	/// gadget holds.
	#[test]
	fn a_certificate_of_a_set_the_gadget_does_not_hold_is_refused() {
		let (_, voters, cert) = setup();
		let view = view_of(voters);
		let sudo = ed25519::Pair::from_seed(&[42; 32]);
		for set_id in [0, 1] {
			let link = sp_finality_checkpoint::Link { set_id, ..cert.link };
			let signature = sudo.sign(&signing_payload(&H256::zero(), &link)).into();
			let forged = CheckpointCertificate { link, signatures: vec![(0, signature)] };
			let claimed = VoterSet::new(set_id, vec![AuthorityId::from(sudo.public())]).unwrap();
			assert_eq!(claimed.verify_certificate(&H256::zero(), &forged), Ok(()));
			let refused =
				verify_justification::<Block>(&view, 5, link.source.hash, 5, &forged.encode());
			assert!(
				matches!(
					refused,
					Err(CertificateError::TooFewSignatures { .. }
						| CertificateError::WrongSet { .. })
				),
				"set {set_id}: {refused:?}"
			);
		}
	}
}
