//! What the gadget reads off the client and writes to it: the chain parameters the runtime
//! reports at start-up ([`chain_params`]), the ancestry the voter asks ([`ClientAncestry`]),
//! [`finalize_block`], the one place the gadget finalizes on the client, and the certificates
//! the client holds as justifications, which the gadget imports when the client's finality is
//! ahead of its own ([`import_client_justifications`]).

use crate::{
	finality::CheckpointFinality,
	notification::CertificateSender,
	state::{CertificateError, CheckpointHash, Progress, VoterSet},
	voter::ChainAncestry,
	LOG_TARGET,
};
use sc_client_api::{backend::Backend, BlockBackend, Finalizer};
use sp_api::ProvideRuntimeApi;
use sp_blockchain::{HeaderBackend, HeaderMetadata};
use sp_finality_checkpoint::{Checkpoint, CheckpointApi, CheckpointCertificate, Epoch, ENGINE_ID};
use sp_runtime::traits::{Block as BlockT, NumberFor, UniqueSaturatedInto};
use std::{marker::PhantomData, sync::Arc};

/// Finalizes block `hash` at height `number` on the client with `certificate` as its `CKPT`
/// justification, unless the client has finalized that height already (`Ok(false)`), and
/// hands the certificate to the subscribers of `finalized`. The one place the gadget finalizes
/// on the client: the worker after a certificate, and justification import.
pub(crate) fn finalize_block<B, BE, C>(
	client: &C,
	finalized: &CertificateSender<B::Hash>,
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
	client.finalize_block(hash, Some((ENGINE_ID, certificate.to_justification())), true)?;
	log::info!(
		target: LOG_TARGET,
		"🏁 Finalized block #{number} ({hash:?}) by {}",
		certificate.link.source.number,
	);
	let _ = finalized.notify(|| Ok::<_, ()>(certificate.clone()));
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

/// The client's answer to [`ChainAncestry`].
pub struct ClientAncestry<B, C> {
	client: Arc<C>,
	_phantom: PhantomData<B>,
}

impl<B, C> ClientAncestry<B, C> {
	/// Asks `client`.
	pub fn new(client: Arc<C>) -> Self {
		Self { client, _phantom: PhantomData }
	}
}

impl<B, C> ChainAncestry<B::Hash> for ClientAncestry<B, C>
where
	B: BlockT,
	C: HeaderBackend<B> + HeaderMetadata<B, Error = sp_blockchain::Error> + Send + Sync,
{
	fn is_ancestor(&self, ancestor: &B::Hash, block: &B::Hash) -> Option<bool> {
		let known = |hash| matches!(self.client.number(hash), Ok(Some(_)));
		if !known(*block) {
			return None;
		}
		// A signal whose block failed to import is on no chain.
		Some(
			known(*ancestor)
				&& sp_blockchain::lowest_common_ancestor(&*self.client, *ancestor, *block)
					.is_ok_and(|common| common.hash == *ancestor),
		)
	}
}

/// The hash of `client`'s block at `height` of its best chain (the finalized chain below its
/// finality) and that block's `CKPT` justification, if it has one; `None` if no block is there.
pub fn justification_at<B, C>(client: &C, height: u64) -> Option<(B::Hash, Option<Vec<u8>>)>
where
	B: BlockT,
	C: HeaderBackend<B> + BlockBackend<B>,
{
	let hash = client.hash(height.unique_saturated_into()).ok().flatten()?;
	let justifications = client.justifications(hash).ok().flatten();
	Some((hash, justifications.and_then(|j| j.into_justification(ENGINE_ID))))
}

/// Imports into `finality` the certificates its client holds as `CKPT` justifications of the
/// finalized checkpoint blocks `from..=to` (at most `limit` of them), lowest first: when the
/// client's finality is ahead of the gadget's (a checkpoint database moved aside,
/// certificates missed), the gadget catches up from what is on disk, enacting every set
/// change on the way. `justification_at(height)` gives the hash of the finalized block at that
/// height and its `CKPT` justification, if any. Returns what was finalized, and whether it
/// stopped at a certificate that does not import.
pub fn import_client_justifications<H: CheckpointHash>(
	finality: &mut CheckpointFinality<H>,
	interval: u32,
	from: Epoch,
	to: Epoch,
	limit: u64,
	justification_at: impl Fn(u64) -> Option<(H, Option<Vec<u8>>)>,
) -> (Progress<H>, bool) {
	let mut progress = Progress::default();
	let last = to.0.min(from.0.saturating_add(limit.saturating_sub(1)));
	for number in from.0..=last {
		let checkpoint = Epoch(number);
		if checkpoint <= finality.last_finalized().number {
			continue;
		}
		let Some((hash, Some(encoded))) = justification_at(checkpoint.block_number(interval))
		else {
			continue;
		};
		let certificate = match CheckpointCertificate::<H>::from_justification(&encoded) {
			Ok(c) if c.link.source == Checkpoint::new(number, hash) => c,
			_ => continue,
		};
		match finality.import_certificate(certificate) {
			Ok(more) => {
				progress.justified.extend(more.justified);
				progress.finalized = more.finalized.or(progress.finalized);
			}
			Err(e) => {
				log::debug!(
					target: LOG_TARGET,
					"The client's justification of epoch {number} does not import yet: {e}",
				);
				return (progress, true);
			}
		}
	}
	(progress, false)
}
