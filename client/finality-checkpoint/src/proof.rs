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
	authorities::{AuthoritySets, EnactedSet},
	error::{Error, Result},
	link::FinalityHandle,
	state::{CertificateError, CheckpointHash, VoterSet, Warp},
};
use codec::{Decode, Encode};
use sp_blockchain::HeaderBackend;
use sp_finality_checkpoint::{
	find_scheduled_change, Checkpoint, CheckpointCertificate, Epoch, SetId,
};
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

/// A warp sync proof: the set changes enacted from the set in force at the block it was asked
/// from, then how it ends.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct WarpProof<Header: HeaderT> {
	/// The set changes, oldest first.
	pub changes: Vec<SetChangeProof<Header>>,
	/// How the proof ends.
	pub end: WarpProofEnd<Header>,
}

/// How a [`WarpProof`] ends.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub enum WarpProofEnd<Header: HeaderT> {
	/// Complete: the latest finalized checkpoint block and its certificate.
	Latest(Header, CheckpointCertificate<Header::Hash>),
	/// At the size bound: the reader asks again from the last change's enacting block.
	SizeLimit,
	/// At a forced change: the certificates after it are of a set, with this id, that no
	/// certificate hands over to.
	ForcedChange(SetId),
}

/// What a warp proof read by [`WarpReader::read`] came to: the blocks it proved, each with the
/// certificate that finalized it, to import.
#[derive(Debug)]
pub enum WarpStep<Header: HeaderT> {
	/// More to fetch, from [`WarpReader::next_proof_context`] on.
	Partial(Vec<(Header, CheckpointCertificate<Header::Hash>)>),
	/// Finality proven to the target block (also the last of the blocks); the gadget jumps to
	/// [`Warp`] once the target's state is imported.
	Complete(Header, Vec<(Header, CheckpointCertificate<Header::Hash>)>, Warp<Header::Hash>),
}

/// Reads the warp proofs a syncing node fetches one after the other, from the sets and the
/// finalized checkpoint it holds: each proof goes on from the last set change of the one before
/// it. A proof that fails leaves the reader as it was, for the next peer's.
#[derive(Debug, Clone)]
pub struct WarpReader<H> {
	reader: ProofReader<H>,
	changes: Vec<(CheckpointCertificate<H>, Vec<EnactedSet<H>>)>,
	next: H,
}

impl<H: CheckpointHash> WarpReader<H> {
	/// A reader on the chain with `genesis_hash` (checkpoints `interval` blocks apart) that
	/// holds the enacted sets of `sets` and has finalized `finalized`.
	pub fn new(genesis_hash: H, interval: u32, sets: &AuthoritySets<H>, finalized: H) -> Self {
		let enacted = sets.enacted().cloned().collect();
		let sets = AuthoritySets::restore(enacted).unwrap_or_else(|| sets.clone());
		Self {
			reader: ProofReader::new(genesis_hash, interval, sets),
			changes: Vec::new(),
			next: finalized,
		}
	}

	/// The block to ask the next proof from: the last set change's enacting block, or the
	/// finalized block this reader started from.
	pub fn next_proof_context(&self) -> H {
		self.next
	}

	/// Progress, for the informant.
	pub fn status(&self) -> String {
		format!(
			"authority set {}, {} set changes proven",
			self.reader.sets().current().set_id(),
			self.changes.len()
		)
	}

	/// Reads `proof`: the changes this reader does not hold yet, then its end.
	pub fn read<Header: HeaderT<Hash = H>>(
		&mut self,
		proof: &WarpProof<Header>,
	) -> std::result::Result<WarpStep<Header>, ProofError> {
		let mut next = self.clone();
		let mut blocks = Vec::new();
		for (index, change) in proof.changes.iter().enumerate() {
			if next.reader.holds(&change.certificate) {
				continue;
			}
			next.reader.apply_change(index, change)?;
			let enacting = change.ancestry.first().unwrap_or(&change.signal).clone();
			let sets = next.reader.sets().enacted().cloned().collect();
			next.changes.push((change.certificate.clone(), sets));
			next.next = enacting.hash();
			blocks.push((enacting, change.certificate.clone()));
		}
		let step = match &proof.end {
			WarpProofEnd::Latest(header, latest) => {
				let number: u64 = (*header.number()).unique_saturated_into();
				let source = latest.link.source;
				if header.hash() != source.hash
					|| number != source.number.block_number(next.reader.interval)
				{
					return Err(ProofError::LatestHeader);
				}
				next.reader.verify_final(latest)?;
				blocks.push((header.clone(), latest.clone()));
				let warp = Warp {
					changes: next.changes.clone(),
					latest: latest.clone(),
					sets: next.reader.sets().clone(),
				};
				WarpStep::Complete(header.clone(), blocks, warp)
			}
			WarpProofEnd::SizeLimit if blocks.is_empty() => return Err(ProofError::NoProgress),
			WarpProofEnd::SizeLimit => WarpStep::Partial(blocks),
			WarpProofEnd::ForcedChange(set_id) => return Err(ProofError::ForcedChange(*set_id)),
		};
		*self = next;
		Ok(step)
	}
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
	/// A warp proof's latest header is not the block its certificate finalizes.
	#[error("the latest header is not the block of the latest certificate")]
	LatestHeader,
	/// A partial warp proof with no set change the reader does not hold: it would be asked
	/// for again and again.
	#[error("a partial warp proof without a new set change")]
	NoProgress,
	/// A warp proof that ends at a forced change.
	#[error(
		"the warp proof ends at a forced change (authority set {0} took over without a \
		 certificate of the set before it): warp sync cannot pass it. Start this node with \
		 `--sync full`"
	)]
	ForcedChange(SetId),
}

/// The sets a proof's reader holds, carried through a proof's set changes by the rules the
/// gadget follows: each change's certificate verified against the set in force, its headers
/// linking the enacting checkpoint to the signal, the change noted
/// ([`AuthoritySets::note_signal`]) and enacted ([`AuthoritySets::finalize`]). Pure.
#[derive(Debug, Clone)]
pub struct ProofReader<H> {
	genesis_hash: H,
	interval: u32,
	sets: AuthoritySets<H>,
}

impl<H: CheckpointHash> ProofReader<H> {
	/// A reader on the chain with `genesis_hash` (checkpoints `interval` blocks apart) that
	/// trusts `sets` (the genesis set, or the sets a node tracks).
	pub fn new(genesis_hash: H, interval: u32, sets: AuthoritySets<H>) -> Self {
		Self { genesis_hash, interval: interval.max(1), sets }
	}

	/// The sets held.
	pub fn sets(&self) -> &AuthoritySets<H> {
		&self.sets
	}

	/// Whether the set change enacted by the certificate's source is held already: at or below
	/// the last enactment.
	pub fn holds(&self, change: &CheckpointCertificate<H>) -> bool {
		self.enacted_at().is_some_and(|e| change.link.source.number <= e)
	}

	/// The checkpoint that enacted the set in force; `None` for the first set tracked.
	fn enacted_at(&self) -> Option<Epoch> {
		self.sets.enacted().last().and_then(|set| set.enacted_by).map(|e| e.number)
	}

	/// Checks set change `index` of a proof and puts its set in force.
	pub fn apply_change<Header: HeaderT<Hash = H>>(
		&mut self,
		index: usize,
		change: &SetChangeProof<Header>,
	) -> std::result::Result<(), ProofError> {
		let headers = |reason| ProofError::ChangeHeaders { index, reason };
		let certificate = &change.certificate;
		let current = self.sets.current().set_id();
		if certificate.link.set_id != current {
			let error =
				CertificateError::WrongSet { expected: current, got: certificate.link.set_id };
			return Err(ProofError::ChangeCertificate { index, error });
		}
		self.sets
			.verify_certificate(&self.genesis_hash, certificate)
			.map_err(|error| ProofError::ChangeCertificate { index, error })?;
		let enacting = certificate.link.source;
		let next = find_scheduled_change(&change.signal)
			.ok_or_else(|| headers("the signal header has no set change digest"))?;
		if next.id != current + 1 {
			return Err(headers("the signalled set is not the next one"));
		}
		let signal_number: u64 = (*change.signal.number()).unique_saturated_into();
		let enacted_at = self.enacted_at();
		let signal = Epoch::of_block(signal_number, self.interval)
			.filter(|s| *s <= enacting.number && enacted_at.is_none_or(|e| *s > e))
			.ok_or_else(|| {
				headers("the signal is not a checkpoint block at or below the enacting one")
			})?;
		// The enacting checkpoint block descends from the signal: a chain of parent hashes.
		let mut child = enacting.hash;
		let mut child_number = enacting.number.block_number(self.interval);
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
		let signal_hash = change.signal.hash();
		self.sets
			.note_signal(Checkpoint { number: signal, hash: signal_hash }, next)
			.map_err(|_| headers("the signalled set is empty"))?;
		self.sets
			.finalize(enacting, |hash| *hash == signal_hash)
			.ok_or_else(|| headers("the enacting checkpoint does not enact the change"))?;
		Ok(())
	}

	/// Checks the certificate that ends a proof against the sets held.
	pub fn verify_final(
		&self,
		certificate: &CheckpointCertificate<H>,
	) -> std::result::Result<(), ProofError> {
		self.sets
			.verify_certificate(&self.genesis_hash, certificate)
			.map_err(ProofError::Certificate)
	}
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
	let mut reader = ProofReader::new(*genesis_hash, interval, AuthoritySets::new(trusted));
	for (index, change) in proof.changes.iter().enumerate() {
		reader.apply_change(index, change)?;
	}
	reader.verify_final(&proof.certificate)?;
	Ok((proof.certificate.link.source, (**reader.sets().current()).clone()))
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

/// The warp sync proof from block `start` of the finalized chain: the set changes enacted at or
/// above it, from the store of `finality` (which keeps their certificates) with headers from
/// `client` (checkpoints `interval` blocks apart), as many as fit in `max_size` encoded bytes
/// (at least one); then the latest finalized checkpoint block and its certificate, unless the
/// size bound or a forced change ends the proof first. A change at `start` itself is in it
/// again: the reader skips what it holds.
pub fn prove_warp<B, C>(
	client: &C,
	finality: &FinalityHandle<B::Hash>,
	interval: u32,
	start: B::Hash,
	max_size: usize,
) -> Result<WarpProof<B::Header>>
where
	B: BlockT,
	B::Hash: CheckpointHash,
	C: HeaderBackend<B>,
{
	let interval = interval.max(1);
	let start_number: u64 = client
		.number(start)
		.map_err(|e| Error::NoProof(e.to_string()))?
		.ok_or_else(|| Error::NoProof(format!("block {start:?} is not known here")))?
		.unique_saturated_into();
	let persistence =
		finality.persistence().ok_or_else(|| Error::NoProof("persistence is off".into()))?;
	let storage = persistence.storage();
	let finalized = finality.view().finalized;
	let mut changes: Vec<SetChangeProof<B::Header>> = Vec::new();
	let mut size = 0;
	// The set whose certificate comes next; a different one took over by a forced change.
	let mut expected = None;
	for enacting in storage.set_changes()? {
		if enacting.block_number(interval) < start_number {
			continue;
		}
		let certificate = storage
			.certificate(enacting)?
			.ok_or_else(|| Error::NoProof(format!("the certificate of {enacting} is missing")))?;
		let set_id = certificate.link.set_id;
		if expected.is_some_and(|expected| set_id != expected) {
			return Ok(WarpProof { changes, end: WarpProofEnd::ForcedChange(set_id) });
		}
		expected = Some(set_id + 1);
		let change = set_change_proof::<B, C>(client, interval, certificate)?;
		size += change.encoded_size();
		if size > max_size && !changes.is_empty() {
			return Ok(WarpProof { changes, end: WarpProofEnd::SizeLimit });
		}
		changes.push(change);
	}
	let latest = storage.certificate(finalized.number)?.ok_or_else(|| {
		Error::NoProof(format!("the certificate of finalized {} is missing", finalized.number))
	})?;
	if expected.is_some_and(|expected| latest.link.set_id != expected) {
		return Ok(WarpProof { changes, end: WarpProofEnd::ForcedChange(latest.link.set_id) });
	}
	let header = client
		.header(latest.link.source.hash)
		.map_err(|e| Error::NoProof(e.to_string()))?
		.ok_or_else(|| {
			Error::NoProof(format!("header {:?} is missing", latest.link.source.hash))
		})?;
	Ok(WarpProof { changes, end: WarpProofEnd::Latest(header, latest) })
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

	/// The proof of `proof()` as a warp proof, ending with block 8 and its certificate.
	fn warp_proof() -> (VoterSet, WarpProof<Header>) {
		let (genesis, proof) = proof();
		let enacting = proof.changes[0].ancestry[0].hash();
		let seven = header(7, enacting, None);
		let eight = header(8, seven.hash(), None);
		let latest = certificate(
			&keys(2..6),
			1,
			Checkpoint::new(8, eight.hash()),
			Checkpoint::new(9, eight.hash()),
		);
		(genesis, WarpProof { changes: proof.changes, end: WarpProofEnd::Latest(eight, latest) })
	}

	#[test]
	fn a_warp_proof_carries_the_sets_to_the_latest_block() {
		let (genesis, proof) = warp_proof();
		let mut reader =
			WarpReader::new(H256::zero(), INTERVAL, &AuthoritySets::new(genesis), H256::zero());
		let encoded = proof.encode();
		let decoded = WarpProof::<Header>::decode(&mut &encoded[..]).unwrap();
		let WarpStep::Complete(target, blocks, warp) = reader.read(&decoded).unwrap() else {
			panic!("a complete proof")
		};
		assert_eq!(*target.number(), 8);
		// The enacting block (#6) with set 0's certificate, then the target with set 1's.
		let numbers: Vec<u64> = blocks.iter().map(|(h, _)| *h.number()).collect();
		assert_eq!(numbers, vec![6, 8]);
		assert_eq!(warp.sets.current().set_id(), 1);
		assert_eq!(warp.changes.len(), 1);
		assert_eq!(warp.latest.link.source.number, Epoch(8));
		assert_eq!(reader.next_proof_context(), blocks[0].0.hash());
	}

	#[test]
	fn tampered_warp_proofs_are_refused_and_leave_the_reader_as_it_was() {
		let (genesis, proof) = warp_proof();
		let reader =
			WarpReader::new(H256::zero(), INTERVAL, &AuthoritySets::new(genesis), H256::zero());
		let read = |proof: &WarpProof<Header>| reader.clone().read(proof).map(|_| ());

		// A signature flipped in the change's certificate, or in the latest one.
		let mut flipped = proof.clone();
		let (_, signature) = &mut flipped.changes[0].certificate.signatures[0];
		let mut bytes = signature.encode();
		bytes[0] ^= 1;
		*signature = Decode::decode(&mut &bytes[..]).unwrap();
		assert!(matches!(read(&flipped), Err(ProofError::ChangeCertificate { index: 0, .. })));
		// The set change removed: set 1's latest certificate against set 0.
		let mut removed = proof.clone();
		removed.changes.clear();
		assert!(matches!(read(&removed), Err(ProofError::Certificate(_))));
		// The latest header not the certificate's block.
		let mut other = proof.clone();
		if let WarpProofEnd::Latest(header, _) = &mut other.end {
			header.digest.push(sp_runtime::DigestItem::Other(vec![1]));
		}
		assert_eq!(read(&other), Err(ProofError::LatestHeader));
		// A partial proof with nothing new, and one that stops at a forced change.
		let nothing = WarpProof::<Header> { changes: vec![], end: WarpProofEnd::SizeLimit };
		assert_eq!(read(&nothing), Err(ProofError::NoProgress));
		let forced =
			WarpProof { changes: proof.changes.clone(), end: WarpProofEnd::ForcedChange(2) };
		assert_eq!(read(&forced), Err(ProofError::ForcedChange(2)));

		// After a failed proof the reader takes a good one, in two parts: the change (a size
		// bound after it), then the change again (skipped, held) and the latest block.
		let mut reader = reader;
		assert!(reader.read(&flipped).is_err());
		let first = WarpProof { changes: proof.changes.clone(), end: WarpProofEnd::SizeLimit };
		assert!(matches!(reader.read(&first), Ok(WarpStep::Partial(blocks)) if blocks.len() == 1));
		assert!(
			matches!(reader.read(&proof), Ok(WarpStep::Complete(_, blocks, _)) if blocks.len() == 1)
		);
	}
}
