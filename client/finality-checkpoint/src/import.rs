//! Block import and the import queue's verifier: certificates as block justifications,
//! verified once, and the set changes that imported headers signal.
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
//!
//! The verifier hands the certificate it verified to block import (an intermediate of the
//! import), which verifies it again only if the gadget's sets changed in between: a synced
//! certificate is verified once.
//!
//! [`CheckpointBlockImport`] also reads each imported block's `CKPT` set change digests
//! ([`signals_of`]) and has the worker note the signalled set, keyed by the block, before the
//! block and its justification are imported (so that no checkpoint above it can be finalized
//! without it: finality waits until the checkpoint's block is imported), and forget it when
//! the import fails. Block import never touches the state itself: it sends the worker that
//! owns it a request, and waits for the answer only for a block that signals, forces or
//! justifies; any other block imports without waiting for the gadget.
//! [`note_signals_above_finality`] notes the signals again after a restart (the gadget stores
//! those below finality).

use crate::{
	authorities::{AuthoritySets, ForcedSignal, Signal},
	client::finalize_block,
	finality::CheckpointFinality,
	fork_choice::ancestor_at,
	link::{FinalityHandle, Request},
	metrics::JustificationMetrics,
	state::{CertificateError, CheckpointHash},
	view::FinalityView,
	LOG_TARGET,
};
use sc_client_api::{backend::Backend, Finalizer};
use sc_consensus::{
	BlockCheckParams, BlockImport, BlockImportParams, ForkChoiceStrategy, ImportResult,
	JustificationImport, StateAction, Verifier,
};
use sp_blockchain::{HeaderBackend, HeaderMetadata};
use sp_consensus::{BlockOrigin, Error as ConsensusError};
use sp_finality_checkpoint::{
	find_forced_change, find_scheduled_change, Checkpoint, CheckpointCertificate, Epoch, ENGINE_ID,
};
use sp_runtime::{
	traits::{Block as BlockT, Header as HeaderT, NumberFor, UniqueSaturatedInto},
	Justification,
};
use std::{collections::HashSet, marker::PhantomData, sync::Arc};
use substrate_prometheus_endpoint::Registry;

/// The set changes that `header` of block `hash` signals (checkpoints `interval` blocks
/// apart): a forced change at any height (its base, the checkpoint at or below it, read off
/// `client`, where its parent is), a scheduled one in a checkpoint block (pallet-checkpoint
/// signals only there; a signal elsewhere is refused with an error in the log).
pub fn signals_of<B, C>(
	client: &C,
	interval: u32,
	header: &B::Header,
	hash: B::Hash,
) -> Vec<Signal<B::Hash>>
where
	B: BlockT,
	C: HeaderMetadata<B, Error = sp_blockchain::Error> + ?Sized,
{
	let mut signals = Vec::new();
	let number: u64 = (*header.number()).unique_saturated_into();
	if let Some((delay, set)) = find_forced_change(header) {
		let base_epoch = Epoch::at_or_below(number, interval);
		let base_height = base_epoch.block_number(interval);
		let base_hash = if base_height == number {
			Some(hash)
		} else {
			ancestor_at::<B, _>(client, *header.parent_hash(), base_height)
		};
		match base_hash {
			Some(base_hash) => {
				let base = Checkpoint { number: base_epoch, hash: base_hash };
				let block_hash = hash;
				let signal = ForcedSignal { block_number: number, block_hash, delay, set, base };
				signals.push(Signal::Forced(signal));
			}
			None => log::error!(
				target: LOG_TARGET,
				"❌ Block #{number} ({hash:?}) forces authority set {}, but block #{base_height} \
				 below it is not known; ignored",
				set.id,
			),
		}
	}
	let Some(set) = find_scheduled_change(header) else { return signals };
	let Some(epoch) = Epoch::of_block(number, interval) else {
		log::error!(
			target: LOG_TARGET,
			"❌ Block #{number} ({hash:?}) signals authority set {} outside a checkpoint block; \
			 ignored. The runtime's pallet-checkpoint signals only at multiples of the interval \
			 ({interval}): check the runtime",
			set.id,
		);
		return signals;
	};
	signals.push(Signal::Scheduled(Checkpoint { number: epoch, hash }, set));
	signals
}

/// Notes the set changes signalled in imported blocks above the gadget's finalized
/// checkpoint, on the chains ending in `leaves`, and puts in force a forced change those
/// chains made due: after a restart, what block import did before it.
pub fn note_signals_above_finality<B, C>(
	client: &C,
	finality: &mut CheckpointFinality<B::Hash>,
	interval: u32,
	leaves: Vec<B::Hash>,
) where
	B: BlockT,
	B::Hash: CheckpointHash,
	C: HeaderBackend<B> + HeaderMetadata<B, Error = sp_blockchain::Error>,
{
	let floor = finality.last_finalized().number.block_number(interval);
	let mut seen = HashSet::new();
	for &leaf in &leaves {
		let mut hash = leaf;
		while let Ok(Some(header)) = client.header(hash) {
			let number: u64 = (*header.number()).unique_saturated_into();
			if number <= floor || !seen.insert(hash) {
				break;
			}
			for signal in signals_of::<B, _>(client, interval, &header, hash) {
				finality.note(signal);
			}
			hash = *header.parent_hash();
		}
	}
	for leaf in leaves {
		if let Ok(Some(number)) = client.number(leaf) {
			let _ = finality.apply_forced(number.unique_saturated_into(), leaf);
		}
	}
}

/// Verifies the `CKPT` justification `encoded` for block `hash` at height `number` (checkpoints
/// `interval` blocks apart) against the authority set the gadget tracks for it in `view`.
pub fn verify_justification<B: BlockT>(
	view: &FinalityView<B::Hash>,
	interval: u32,
	hash: B::Hash,
	number: NumberFor<B>,
	encoded: &[u8],
) -> Result<CheckpointCertificate<B::Hash>, CertificateError> {
	let certificate = CheckpointCertificate::<B::Hash>::from_justification(encoded)?;
	let number: u64 = number.unique_saturated_into();
	let source = certificate.link.source;
	if source.hash != hash || source.number.block_number(interval) != number {
		return Err(CertificateError::WrongBlock);
	}
	view.sets.verify_certificate(&view.genesis_hash, &certificate)?;
	Ok(certificate)
}

/// [`verify_justification`], but a certificate of a set not enacted here yet that verifies
/// against a set signalled under its id is `Ok(None)`: it may be genuine, and waits (this node
/// misses the certificate that enacts that set, which it asks peers for). Only a justification
/// that is not even that costs its sender.
fn verify_or_wait<B: BlockT>(
	view: &FinalityView<B::Hash>,
	interval: u32,
	hash: B::Hash,
	number: NumberFor<B>,
	encoded: &[u8],
) -> Result<Option<CheckpointCertificate<B::Hash>>, CertificateError> {
	match verify_justification::<B>(view, interval, hash, number, encoded) {
		Ok(certificate) => Ok(Some(certificate)),
		Err(CertificateError::FutureSet { got, .. })
			if early_certificate_is_valid(view, got, encoded) =>
		{
			Ok(None)
		}
		Err(e) => Err(e),
	}
}

/// What the verifier hands block import with a block whose `CKPT` justification it verified:
/// the certificate, and the sets it was verified against.
struct Verified<H> {
	certificate: CheckpointCertificate<H>,
	sets: Arc<AuthoritySets<H>>,
}

/// The key of [`Verified`] among a block's import intermediates.
const VERIFIED: &[u8] = b"checkpoint_verified_justification";

/// Block import that verifies and applies `CKPT` justifications, wrapping the inner import.
/// Also the import queue's [`JustificationImport`] for justifications fetched on their own.
pub struct CheckpointBlockImport<B: BlockT, BE, C, I> {
	inner: I,
	client: Arc<C>,
	finality: FinalityHandle<B::Hash>,
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
	B::Hash: CheckpointHash,
	BE: Backend<B>,
	C: HeaderBackend<B> + Finalizer<B, BE> + Send + Sync,
{
	/// Wraps `inner`, verifying against the set of `finality` (checkpoints `interval` blocks
	/// apart) and finalizing on `client`.
	pub fn new(inner: I, client: Arc<C>, finality: FinalityHandle<B::Hash>, interval: u32) -> Self {
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

	/// The target block of a warp sync, with its state: the gadget jumps to the finality the
	/// proof proved for it (stored first), before the block is imported as finalized. A state
	/// that no warp proof proved final is refused: the gadget could not follow it.
	async fn warp_to(&self, hash: B::Hash, number: NumberFor<B>) -> Result<(), ConsensusError> {
		let warped = self
			.finality
			.ask(|done| Request::ApplyWarp(hash, done))
			.await
			.ok_or_else(|| ConsensusError::ClientImport("the checkpoint worker has ended".into()))?
			.map_err(|e| ConsensusError::ClientImport(e.to_string()))?;
		if !warped {
			return Err(ConsensusError::ClientImport(format!(
				"the state of block #{number} ({hash:?}) comes without a warp sync proof of its \
				 finality: checkpoint finality supports `--sync warp` and `--sync full` only"
			)));
		}
		Ok(())
	}

	/// Verifies the `CKPT` justification `encoded` of block `hash` against the published view
	/// (unless the verifier did, against the sets the view still holds: `verified`), has the
	/// worker import it into the gadget (it is stored, with an fsync), then finalizes the block
	/// on the client.
	async fn apply(
		&self,
		hash: B::Hash,
		number: NumberFor<B>,
		encoded: Vec<u8>,
		verified: Option<Verified<B::Hash>>,
	) -> Result<(), ConsensusError> {
		let view = self.finality.view();
		let verified = match verified {
			Some(Verified { certificate, sets }) if Arc::ptr_eq(&sets, &view.sets) => {
				Ok(Some(certificate))
			}
			_ => verify_or_wait::<B>(&view, self.interval, hash, number, &encoded),
		};
		if let Some(metrics) = &self.metrics {
			metrics.imported(verified.is_ok());
		}
		let height: u64 = number.unique_saturated_into();
		if verified.is_err() && height <= view.finalized.number.block_number(self.interval) {
			// Finality is past it (an answer to a request that finality overtook): of no use,
			// possibly of a set no longer held, and not the sender's fault.
			return Ok(());
		}
		let certificate = verified.map_err(|e| {
				log::warn!(target: LOG_TARGET, "⚠️ Refused checkpoint justification of block #{number} ({hash:?}): {e}");
				ConsensusError::ClientImport(e.to_string())
			})?;
		let Some(certificate) = certificate else {
			// Of a signalled set not enacted here yet: not the sender's fault. The enacting
			// certificate comes first, then this one again.
			log::debug!(
				target: LOG_TARGET,
				"Checkpoint justification of block #{number} ({hash:?}) waits: its set is not \
				 enacted here yet",
			);
			return Ok(());
		};
		// The gadget first, here and now: the certificate is stored, and the set change its
		// finality enacts is in force before the next block's justification is verified.
		let (imported, sets) = (certificate.clone(), view.sets.clone());
		self.finality
			.ask(|done| Request::ImportCertificate(imported, sets, done))
			.await
			.ok_or_else(|| ConsensusError::ClientImport("the checkpoint worker has ended".into()))?
			.map_err(|e| ConsensusError::ClientImport(e.to_string()))?;
		finalize_block(
			&*self.client,
			&self.finality.certificate_sender(),
			hash,
			number,
			&certificate,
		)
		.map_err(|e| ConsensusError::ClientImport(e.to_string()))?;
		Ok(())
	}
}

#[async_trait::async_trait]
impl<B, BE, C, I> BlockImport<B> for CheckpointBlockImport<B, BE, C, I>
where
	B: BlockT,
	B::Hash: CheckpointHash,
	BE: Backend<B>,
	C: HeaderBackend<B>
		+ HeaderMetadata<B, Error = sp_blockchain::Error>
		+ Finalizer<B, BE>
		+ Send
		+ Sync,
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
		if block.with_state() {
			self.warp_to(hash, number).await?;
			block.finalized = true;
			return self.inner.import_block(block).await.map_err(Into::into);
		}
		if block.origin == BlockOrigin::WarpSync {
			// A header of a warp sync proof, which the proof's reader verified: the import
			// queue hands it over bare (no verifier ran, no body, no justification), so it is
			// stored as it is, not executed and not made best; gap sync fills in the rest.
			block.fork_choice = Some(ForkChoiceStrategy::Custom(false));
			block.state_action = StateAction::Skip;
			return self.inner.import_block(block).await.map_err(Into::into);
		}
		// Before the block is in the client, so that no checkpoint above it is finalized
		// without its signal (finality waits for the checkpoint's block to be imported, and
		// then this block is in); forgotten again if the import fails. Only a block that
		// signals waits for the worker.
		let signals = signals_of::<B, _>(&*self.client, self.interval, &block.header, hash);
		if !signals.is_empty() {
			self.finality.ask(|done| Request::NoteSignals(signals, done)).await;
		}
		// The certificate is stored only once verified, by `apply`.
		let justification = block.justifications.as_ref().and_then(|j| j.get(ENGINE_ID).cloned());
		let verified = block.remove_intermediate::<Verified<B::Hash>>(VERIFIED).ok();
		strip_justification(&mut block);
		let result = self.inner.import_block(block).await.map_err(Into::into);
		let imported =
			matches!(result, Ok(ImportResult::Imported(_) | ImportResult::AlreadyInChain));
		if !imported && self.finality.view().sets.has_signal_of(&hash) {
			// On no chain: its signal must never be the set.
			self.finality.send(Request::ForgetSignals(hash));
		}
		let result = result?;
		let height: u64 = number.unique_saturated_into();
		if matches!(result, ImportResult::Imported(_))
			&& self.finality.view().sets.forced_due(height).next().is_some()
		{
			// A forced change in force from this block on. If it cannot be stored, the next
			// import tries again.
			self.finality.ask(|done| Request::ApplyForced(height, hash, done)).await;
		}
		if let (ImportResult::Imported(_) | ImportResult::AlreadyInChain, Some(encoded)) =
			(&result, justification)
		{
			// A bad justification costs the block nothing: it stays imported, unfinalized.
			let _ = self.apply(hash, number, encoded, verified).await;
		}
		Ok(result)
	}
}

#[async_trait::async_trait]
impl<B, BE, C, I> JustificationImport<B> for CheckpointBlockImport<B, BE, C, I>
where
	B: BlockT,
	B::Hash: CheckpointHash,
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
		self.apply(hash, number, encoded, None).await
	}
}

/// The import queue's verifier: the consensus verifier `inner` (Aura's), then the `CKPT`
/// justification a block comes with, if any, against the set the gadget holds. A block whose
/// justification does not verify is refused: the sync layer drops the peer that sent it with a
/// reputation cost, and fetches the block from another.
pub struct CheckpointVerifier<B: BlockT, V> {
	inner: V,
	finality: FinalityHandle<B::Hash>,
	interval: u32,
}

impl<B: BlockT, V> CheckpointVerifier<B, V> {
	/// Wraps `inner`, verifying justifications against the set of `finality` (checkpoints
	/// `interval` blocks apart).
	pub fn new(inner: V, finality: FinalityHandle<B::Hash>, interval: u32) -> Self {
		Self { inner, finality, interval }
	}
}

#[async_trait::async_trait]
impl<B, V> Verifier<B> for CheckpointVerifier<B, V>
where
	B: BlockT,
	B::Hash: CheckpointHash,
	V: Verifier<B>,
{
	async fn verify(&self, block: BlockImportParams<B>) -> Result<BlockImportParams<B>, String> {
		let block = self.inner.verify(block).await?;
		let mut block = block;
		if block.with_state() || block.origin == BlockOrigin::WarpSync {
			// Warp sync's: the proof's reader verified their certificates against the sets it
			// carried through the proof, which this node does not hold yet.
			return Ok(block);
		}
		if let Some(encoded) = block.justifications.as_ref().and_then(|j| j.get(ENGINE_ID)) {
			let (hash, number) = (block.post_hash(), *block.header.number());
			let view = self.finality.view();
			let height: u64 = number.unique_saturated_into();
			let finalized = view.finalized.number.block_number(self.interval);
			match verify_or_wait::<B>(&view, self.interval, hash, number, encoded) {
				Ok(Some(certificate)) => {
					let sets = view.sets.clone();
					block.insert_intermediate(VERIFIED, Verified { certificate, sets });
				}
				// Finality is past it: of no use, and possibly of a set no longer held. The
				// block comes in without it.
				Err(_) if height <= finalized => strip_justification(&mut block),
				// Of a set not enacted here yet: this node misses the certificate that enacts
				// it (its block came before its finality did, and that certificate comes by a
				// justification request). Blocks come in order, so the signal of that set is
				// noted here: a certificate that verifies against it may be genuine, and the
				// block comes in without it; one of a set never signalled is forged.
				Ok(None) => {
					log::debug!(
						target: LOG_TARGET,
						"Block #{number} comes without its justification of a set not enacted \
						 here yet",
					);
					strip_justification(&mut block);
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

/// Whether a certificate of set `set_id`, not enacted in `view`, may be genuine: a set is
/// signalled under that id and the certificate verifies against it.
fn early_certificate_is_valid<H: CheckpointHash>(
	view: &FinalityView<H>,
	set_id: u64,
	encoded: &[u8],
) -> bool {
	let Ok(certificate) = CheckpointCertificate::<H>::from_justification(encoded) else {
		return false;
	};
	view.sets
		.pending_sets(set_id)
		.any(|voters| voters.verify_certificate(&view.genesis_hash, &certificate).is_ok())
}

/// Takes the `CKPT` justification off `block`, keeping any other engine's.
fn strip_justification<B: BlockT>(block: &mut BlockImportParams<B>) {
	if let Some(mut justifications) = block.justifications.take() {
		justifications.remove(ENGINE_ID);
		if justifications.iter().next().is_some() {
			block.justifications = Some(justifications);
		}
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::{
		state::{tests::signed_certificate as setup, FinalityConfig},
		testing, CheckpointFinality, CheckpointLink, VoterSet,
	};
	use codec::Encode;
	use sp_core::{ed25519, Pair, H256};
	use sp_finality_checkpoint::{signing_payload, AuthorityId};

	type Block = sp_runtime::generic::Block<
		sp_runtime::generic::Header<u64, sp_runtime::traits::BlakeTwo256>,
		sp_runtime::OpaqueExtrinsic,
	>;

	/// The view of a gadget holding `voters` on the chain with genesis zero.
	fn view_of(voters: VoterSet) -> std::sync::Arc<FinalityView<H256>> {
		let finality = CheckpointFinality::new(H256::zero(), voters, FinalityConfig::default());
		CheckpointLink::new(finality).handle().view()
	}

	#[test]
	fn a_justification_must_finalize_the_very_block_it_comes_with() {
		let (_, voters, cert) = setup();
		let view = view_of(voters);
		let block = H256::repeat_byte(2);
		// Epoch 2 at interval 5 is block #5 (its round one; the certificate is round two's).
		let check = |hash, number, bytes: &[u8]| {
			verify_justification::<Block>(&view, 5, hash, number, bytes)
		};
		let justification = cert.to_justification();
		assert_eq!(check(block, 5, &justification), Ok(cert.clone()));
		assert_eq!(check(block, 6, &justification), Err(CertificateError::WrongBlock));
		assert_eq!(
			check(H256::repeat_byte(7), 5, &justification),
			Err(CertificateError::WrongBlock)
		);
		// The one-round protocol's justification: the bare certificate.
		assert_eq!(check(block, 5, &cert.encode()), Err(CertificateError::OtherProtocol));
		assert_eq!(check(block, 5, &[1, 2, 3]), Err(CertificateError::OtherProtocol));
		let mut trailing = justification;
		trailing.push(0);
		assert_eq!(check(block, 5, &trailing), Err(CertificateError::Malformed));
		let mut short = cert;
		short.signatures.pop();
		assert!(matches!(
			check(block, 5, &short.to_justification()),
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
			let refused = verify_justification::<Block>(
				&view,
				5,
				link.source.hash,
				5,
				&forged.to_justification(),
			);
			assert!(
				matches!(
					refused,
					Err(CertificateError::TooFewSignatures { .. }
						| CertificateError::FutureSet { .. })
				),
				"set {set_id}: {refused:?}"
			);
		}
	}

	/// The import queue's verifier that lets every block through, as Aura's does a good one.
	struct PassThrough;

	#[async_trait::async_trait]
	impl Verifier<Block> for PassThrough {
		async fn verify(
			&self,
			block: BlockImportParams<Block>,
		) -> Result<BlockImportParams<Block>, String> {
			Ok(block)
		}
	}

	/// A forged justification costs the peer that sent the block (the import queue reports a
	/// block the verifier refuses); a genuine one of a signalled set this node has not enacted
	/// yet only waits: the block comes in without it.
	#[test]
	fn the_verifier_refuses_forged_justifications_and_lets_early_ones_wait() {
		let keys = testing::keys(1..7);
		let set = testing::set;
		let mut link = CheckpointLink::new(CheckpointFinality::new(
			H256::zero(),
			set(0, &keys[..4]),
			FinalityConfig::default(),
		));
		let verifier = CheckpointVerifier::<Block, _>::new(PassThrough, link.handle(), 5);
		let header = sp_runtime::generic::Header::new(
			5,
			H256::zero(),
			H256::zero(),
			H256::repeat_byte(4),
			Default::default(),
		);
		let signed = |set_id, signers: &[ed25519::Pair]| {
			let link = sp_finality_checkpoint::Link {
				set_id,
				source: sp_finality_checkpoint::Checkpoint::new(2, header.hash()),
				target: testing::cp(3),
			};
			testing::certificate(signers, signers.len(), link)
		};
		let verify = |certificate: CheckpointCertificate<H256>| {
			let mut block = BlockImportParams::new(
				sp_consensus::BlockOrigin::NetworkInitialSync,
				header.clone(),
			);
			block.justifications = Some((ENGINE_ID, certificate.to_justification()).into());
			futures::executor::block_on(verifier.verify(block)).map(|mut b| {
				let kept = b.justifications.as_ref().is_some_and(|j| j.get(ENGINE_ID).is_some());
				// What block import is handed: the certificate verified, once.
				let verified = b.remove_intermediate::<Verified<H256>>(VERIFIED).ok();
				assert_eq!(kept, verified.is_some_and(|v| v.certificate == certificate));
				kept
			})
		};

		assert_eq!(verify(signed(0, &keys[..3])), Ok(true), "a genuine one is kept");
		assert!(verify(signed(0, &keys[3..6])).is_err(), "signers of another set");
		assert!(verify(signed(1, &keys[2..5])).is_err(), "a set never signalled");

		let next = sp_finality_checkpoint::AuthoritySet {
			id: 1,
			authorities: set(1, &keys[2..6]).authorities().to_vec(),
		};
		let signal = sp_finality_checkpoint::Checkpoint::new(2, H256::repeat_byte(9));
		assert!(link.finality_mut().note_signal(signal, next));
		assert_eq!(verify(signed(1, &keys[2..5])), Ok(false), "early: the block comes without it");
		assert!(verify(signed(1, &keys[..3])).is_err(), "not the signalled set's signers");
	}
}
