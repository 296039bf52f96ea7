//! Finality proofs: the chain of authority set changes from a set the reader trusts (genesis's)
//! to the certificate of a block, as `grandpa_proveFinality` gives GRANDPA's.
//!
//! A [`FinalityProof`] holds, for every set change on the way, the header of the checkpoint
//! block that signals it (its `CKPT` `ScheduledChange` digest names the next set), the headers
//! from the enacting checkpoint down to it, and the certificate of the old set that finalized
//! the enacting checkpoint; then the certificate of the block asked for.
//! [`verify_finality_proof`] checks it knowing only the trusted set and the chain's genesis
//! hash: what a light client or a test needs. [`prove_finality`] builds one from the store
//! (which keeps the certificates of set-enacting checkpoints beyond the retention) and the
//! client's headers.

use crate::{
	error::{Error, Result},
	link::FinalityHandle,
	state::{CertificateError, CheckpointHash, VoterSet},
};
use codec::{Decode, Encode};
use sp_blockchain::HeaderBackend;
use sp_finality_checkpoint::{find_scheduled_change, Checkpoint, CheckpointCertificate, Epoch};
use sp_runtime::traits::{Block as BlockT, Header as HeaderT, UniqueSaturatedInto};

/// One authority set change and the certificate that enacted it.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct SetChangeProof<Header: HeaderT> {
	/// The checkpoint block whose header signals the change.
	pub signal: Header,
	/// The headers from the enacting checkpoint block down to the signal's child, newest
	/// first; empty when the signalling checkpoint enacted the change itself (the usual case).
	pub ancestry: Vec<Header>,
	/// The old set's certificate that finalized the enacting checkpoint.
	pub certificate: CheckpointCertificate<Header::Hash>,
}

/// The set changes from a trusted set to a finalized block, and that block's certificate.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct FinalityProof<Header: HeaderT> {
	/// The set changes, oldest first.
	pub changes: Vec<SetChangeProof<Header>>,
	/// The certificate that finalized the checkpoint block at or above the block asked for.
	pub certificate: CheckpointCertificate<Header::Hash>,
}

/// Why a finality proof does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
	/// A set change's certificate does not verify against the set it claims to hand over.
	#[error("set change {index}: {error}")]
	ChangeCertificate {
		/// Position of the change in the proof.
		index: usize,
		/// What is wrong with its certificate.
		error: CertificateError,
	},
	/// A set change's headers do not show the change.
	#[error("set change {index}: {reason}")]
	ChangeHeaders {
		/// Position of the change in the proof.
		index: usize,
		/// What is wrong.
		reason: &'static str,
	},
	/// The final certificate does not verify against the set the changes lead to.
	#[error("final certificate: {0}")]
	Certificate(CertificateError),
}

/// Checks `proof` on the chain with `genesis_hash` (checkpoints `interval` blocks apart),
/// trusting `trusted` (the genesis set, or a later set the reader knows). Returns the checkpoint
/// the proof finalizes and the set in force there.
pub fn verify_finality_proof<Header: HeaderT>(
	genesis_hash: &Header::Hash,
	trusted: VoterSet,
	interval: u32,
	proof: &FinalityProof<Header>,
) -> std::result::Result<(Checkpoint<Header::Hash>, VoterSet), ProofError>
where
	Header::Hash: CheckpointHash,
{
	let mut set = trusted;
	// Sources of the current set's links lie above the checkpoint that enacted it.
	let mut enacted_at: Option<Epoch> = None;
	let above_enactment =
		|number: Epoch, enacted_at: Option<Epoch>| enacted_at.is_none_or(|e| number > e);
	for (index, change) in proof.changes.iter().enumerate() {
		let headers = |reason| ProofError::ChangeHeaders { index, reason };
		let certificate = &change.certificate;
		set.verify_certificate(genesis_hash, certificate)
			.map_err(|error| ProofError::ChangeCertificate { index, error })?;
		let enacting = certificate.link.source;
		if !above_enactment(enacting.number, enacted_at) {
			return Err(headers("the certificate is of the set before the previous change"));
		}
		let next = find_scheduled_change(&change.signal)
			.ok_or_else(|| headers("the signal header has no set change digest"))?;
		if next.id != set.set_id() + 1 {
			return Err(headers("the signalled set is not the next one"));
		}
		let signal_number: u64 = (*change.signal.number()).unique_saturated_into();
		let signal = Epoch::of_block(signal_number, interval);
		if signal
			.is_none_or(|signal| signal > enacting.number || !above_enactment(signal, enacted_at))
		{
			return Err(headers(
				"the signal is not a checkpoint block at or below the enacting one",
			));
		}
		// The enacting checkpoint block descends from the signal: a chain of parent hashes.
		let mut child = enacting.hash;
		let mut child_number = enacting.number.block_number(interval);
		for header in change.ancestry.iter().chain(std::iter::once(&change.signal)) {
			let number: u64 = (*header.number()).unique_saturated_into();
			if header.hash() != child || number != child_number {
				return Err(headers(
					"the headers do not link the enacting checkpoint to the signal",
				));
			}
			child = *header.parent_hash();
			child_number = number.saturating_sub(1);
		}
		set = VoterSet::new(next.id, next.authorities)
			.ok_or_else(|| headers("the signalled set is empty"))?;
		enacted_at = Some(enacting.number);
	}
	let certificate = &proof.certificate;
	if !above_enactment(certificate.link.source.number, enacted_at) {
		return Err(ProofError::Certificate(CertificateError::WrongSet {
			expected: set.set_id() + 1,
			got: certificate.link.set_id,
		}));
	}
	set.verify_certificate(genesis_hash, certificate).map_err(ProofError::Certificate)?;
	Ok((certificate.link.source, set))
}

/// The finality proof of block `number` from the genesis set: the set changes kept by the
/// store of `finality` and the certificate of the first checkpoint at or above the block that
/// it kept, with headers from `client` (checkpoints `interval` blocks apart). `None` if that
/// block is not finalized yet.
pub fn prove_finality<B, C>(
	client: &C,
	finality: &FinalityHandle<B::Hash>,
	interval: u32,
	number: u64,
) -> Result<Option<FinalityProof<B::Header>>>
where
	B: BlockT,
	B::Hash: CheckpointHash,
	C: HeaderBackend<B>,
{
	let view = finality.view();
	let persistence =
		finality.persistence().ok_or_else(|| Error::NoProof("persistence is off".into()))?;
	let storage = persistence.storage();
	let interval = interval.max(1);
	let first = Epoch::at_or_above(number, interval);
	let Some(certificate) = storage.first_certificate_in(first, view.finalized.number)? else {
		return Ok(None);
	};
	let mut changes = Vec::new();
	for enacting in storage.set_changes()? {
		if enacting >= certificate.link.source.number {
			break;
		}
		let change = storage
			.certificate(enacting)?
			.ok_or_else(|| Error::NoProof(format!("the certificate of {enacting} is missing")))?;
		changes.push(set_change_proof::<B, C>(client, interval, change)?);
	}
	Ok(Some(FinalityProof { changes, certificate }))
}

/// The proof of the set change that `certificate` enacted: the headers from its source down to
/// the checkpoint block that signals the next set.
fn set_change_proof<B: BlockT, C: HeaderBackend<B>>(
	client: &C,
	interval: u32,
	certificate: CheckpointCertificate<B::Hash>,
) -> Result<SetChangeProof<B::Header>> {
	let mut ancestry = Vec::new();
	let mut hash = certificate.link.source.hash;
	loop {
		let header = client
			.header(hash)
			.map_err(|e| Error::NoProof(e.to_string()))?
			.ok_or_else(|| Error::NoProof(format!("header {hash:?} is missing")))?;
		let number: u64 = (*header.number()).unique_saturated_into();
		let next = certificate.link.set_id + 1;
		if number.is_multiple_of(u64::from(interval))
			&& find_scheduled_change(&header).is_some_and(|set| set.id == next)
		{
			return Ok(SetChangeProof { signal: header, ancestry, certificate });
		}
		if number == 0 {
			return Err(Error::NoProof(format!("no signal of set {next} in the chain")));
		}
		hash = *header.parent_hash();
		ancestry.push(header);
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::testing::{keys, set};
	use sp_core::{ed25519, H256};
	use sp_finality_checkpoint::{AuthoritySet, ConsensusLog, Link};
	use sp_runtime::{generic::Digest, traits::BlakeTwo256};

	type Header = sp_runtime::generic::Header<u64, BlakeTwo256>;
	const INTERVAL: u32 = 2;

	/// Block `number` on `parent`, signalling `change` if any.
	fn header(number: u64, parent: H256, change: Option<&VoterSet>) -> Header {
		let mut digest = Digest::default();
		if let Some(set) = change {
			let next = AuthoritySet { id: set.set_id(), authorities: set.authorities().to_vec() };
			digest.push(ConsensusLog::ScheduledChange(next).into_digest());
		}
		Header::new(number, H256::zero(), H256::zero(), parent, digest)
	}

	/// A certificate of the first three `keys` as set `set_id` on `source -> target`.
	fn certificate(
		keys: &[ed25519::Pair],
		set_id: u64,
		source: Checkpoint<H256>,
		target: Checkpoint<H256>,
	) -> CheckpointCertificate<H256> {
		crate::testing::certificate(keys, 3, Link { set_id, source, target })
	}

	/// Set 0 (seeds 1..5) hands over to set 1 (seeds 2..6) signalled in block 4 (epoch 4),
	/// enacted by block 6's round two (`6 -> 7`; block 4 was never finalized); set 1 then
	/// finalizes block 8 (`8 -> 9`).
	fn proof() -> (VoterSet, FinalityProof<Header>) {
		let (old, new) = (keys(1..5), keys(2..6));
		let signal = header(4, H256::repeat_byte(3), Some(&set(1, &new)));
		let five = header(5, signal.hash(), None);
		let enacting = header(6, five.hash(), None);
		let change = SetChangeProof {
			certificate: certificate(
				&old,
				0,
				Checkpoint::new(6, enacting.hash()),
				Checkpoint::new(7, enacting.hash()),
			),
			signal,
			ancestry: vec![enacting, five],
		};
		let last = certificate(
			&new,
			1,
			Checkpoint::new(8, H256::repeat_byte(10)),
			Checkpoint::new(9, H256::repeat_byte(10)),
		);
		(set(0, &old), FinalityProof { changes: vec![change], certificate: last })
	}

	#[test]
	fn a_proof_leads_from_the_genesis_set_through_its_changes() {
		let (genesis, proof) = proof();
		let (finalized, set) = verify_finality_proof(&H256::zero(), genesis, INTERVAL, &proof)
			.expect("the proof verifies");
		assert_eq!(finalized, Checkpoint::new(8, H256::repeat_byte(10)));
		assert_eq!(set.set_id(), 1);
		// SCALE round trip: what the RPC sends.
		let decoded = FinalityProof::<Header>::decode(&mut &proof.encode()[..]).unwrap();
		assert_eq!(decoded, proof);
	}

	#[test]
	fn forged_or_incomplete_proofs_are_refused() {
		let (genesis, proof) = proof();
		let verify = |proof: &FinalityProof<Header>| {
			verify_finality_proof(&H256::zero(), genesis.clone(), INTERVAL, proof)
		};

		// The change left out: set 1's certificate against set 0.
		let mut skipped = proof.clone();
		skipped.changes.clear();
		assert!(matches!(verify(&skipped), Err(ProofError::Certificate(_))));

		// The change's certificate signed by the new set, not the old.
		let mut forged = proof.clone();
		let c = &proof.changes[0].certificate;
		forged.changes[0].certificate = certificate(&keys(2..6), 0, c.link.source, c.link.target);
		assert!(matches!(verify(&forged), Err(ProofError::ChangeCertificate { index: 0, .. })));

		// A signal header without the digest, or one that is not the enacting block's ancestor.
		let mut no_digest = proof.clone();
		no_digest.changes[0].signal = header(4, H256::repeat_byte(3), None);
		assert!(matches!(verify(&no_digest), Err(ProofError::ChangeHeaders { index: 0, .. })));
		let mut unlinked = proof.clone();
		unlinked.changes[0].ancestry.pop();
		assert!(matches!(verify(&unlinked), Err(ProofError::ChangeHeaders { index: 0, .. })));

		// A set that signals itself the next set (a sudo fork naming a one-member set) still
		// needs the old set's certificate.
		let mut sudo = proof;
		let sudo_key = keys(42..43);
		sudo.changes[0].signal = header(4, H256::repeat_byte(3), Some(&set(1, &sudo_key)));
		assert!(verify(&sudo).is_err());
	}
}
