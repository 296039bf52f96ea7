//! The types the pure core and its callers share: the hash the state machine works with, an
//! authority set as the voter checks votes and certificates against it ([`VoterSet`]), and
//! why a vote or a certificate was refused.

use codec::{Decode, Encode};
use sp_finality_checkpoint::{
	signing_payload, supermajority_threshold, AuthorityId, CheckpointCertificate,
	CheckpointSignature, Epoch, JustificationError, Link, SetId, ValidatorIndex,
};
use sp_runtime::RuntimeAppPublic;
use std::{collections::BTreeSet, fmt::Debug, hash::Hash};

/// A block hash the state machine can work with.
pub trait CheckpointHash:
	Copy + Eq + Ord + Hash + Debug + Encode + Decode + Send + Sync + 'static
{
}
impl<T: Copy + Eq + Ord + Hash + Debug + Encode + Decode + Send + Sync + 'static> CheckpointHash
	for T
{
}

/// An authority set: its id and its voters in validator-index order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoterSet {
	set_id: SetId,
	authorities: Vec<AuthorityId>,
}

impl VoterSet {
	/// A set; `None` if it has no voters.
	pub fn new(set_id: SetId, authorities: Vec<AuthorityId>) -> Option<Self> {
		(!authorities.is_empty()).then_some(Self { set_id, authorities })
	}

	/// The set id.
	pub fn set_id(&self) -> SetId {
		self.set_id
	}

	/// The voters.
	pub fn authorities(&self) -> &[AuthorityId] {
		&self.authorities
	}

	/// Votes a link needs: more than two thirds of the set.
	pub fn threshold(&self) -> usize {
		supermajority_threshold(self.authorities.len())
	}

	/// The index of `id` in the set.
	pub fn index_of(&self, id: &AuthorityId) -> Option<ValidatorIndex> {
		self.authorities.iter().position(|a| a == id).map(|i| i as ValidatorIndex)
	}

	/// Set, membership, link shape and window, with checkpoint `finalized` final and votes
	/// accepted up to `window` checkpoints above it: the cheap checks, before the signature.
	pub fn check_vote<H>(
		&self,
		vote: &CheckpointSignature<H>,
		finalized: Epoch,
		window: u64,
	) -> Result<(), VoteRejection> {
		let link = &vote.link;
		if link.set_id != self.set_id {
			return Err(VoteRejection::WrongSet { current: self.set_id, got: link.set_id });
		}
		if vote.validator_index as usize >= self.authorities.len() {
			return Err(VoteRejection::UnknownValidator(vote.validator_index));
		}
		let (source, target) = (link.source.number, link.target.number);
		if source >= target {
			return Err(VoteRejection::InvalidLink { from: source, to: target });
		}
		if link_expired(link, finalized) {
			return Err(VoteRejection::Expired { from: source, to: target, finalized });
		}
		if target.0 > finalized.0.saturating_add(window) {
			return Err(VoteRejection::TooFarAhead { target, finalized, window });
		}
		Ok(())
	}

	/// Whether the vote's signature verifies for its validator on the chain with
	/// `genesis_hash`. The validator index must be in the set ([`Self::check_vote`]).
	pub fn check_signature<H: Encode>(
		&self,
		genesis_hash: &H,
		vote: &CheckpointSignature<H>,
	) -> Result<(), VoteRejection> {
		let public = self
			.authorities
			.get(vote.validator_index as usize)
			.ok_or(VoteRejection::UnknownValidator(vote.validator_index))?;
		if public.verify(&signing_payload(genesis_hash, &vote.link), &vote.signature) {
			Ok(())
		} else {
			Err(VoteRejection::BadSignature)
		}
	}

	/// Checks that `certificate` is a supermajority of valid, distinct signatures of this set
	/// on a link from an epoch to the next one, on the chain with `genesis_hash`. The
	/// signatures are verified as one batch (ed25519-zebra's, under the ZIP-215 rules that
	/// sp-core's single verification follows too, so the two agree); when the batch fails,
	/// one by one, to name the bad signer.
	pub fn verify_certificate<H: Encode>(
		&self,
		genesis_hash: &H,
		certificate: &CheckpointCertificate<H>,
	) -> Result<(), CertificateError> {
		let link = &certificate.link;
		if link.set_id != self.set_id {
			return Err(CertificateError::WrongSet { expected: self.set_id, got: link.set_id });
		}
		if link.target.number != link.source.number.next() {
			return Err(CertificateError::NotFinalizing);
		}
		let needed = self.threshold();
		if certificate.signatures.len() < needed {
			return Err(CertificateError::TooFewSignatures {
				got: certificate.signatures.len(),
				needed,
			});
		}
		// More signatures than signers: a peer making this node verify signatures for nothing.
		if certificate.signatures.len() > self.authorities.len() {
			return Err(CertificateError::TooManySignatures {
				got: certificate.signatures.len(),
				signers: self.authorities.len(),
			});
		}
		let payload = signing_payload(genesis_hash, link);
		let mut seen = BTreeSet::new();
		let mut publics = Vec::with_capacity(certificate.signatures.len());
		let mut batch = ed25519_zebra::batch::Verifier::new();
		for (index, signature) in &certificate.signatures {
			let public = self
				.authorities
				.get(*index as usize)
				.filter(|_| seen.insert(*index))
				.ok_or(CertificateError::BadSignature(*index))?;
			let key = <[u8; 32]>::try_from(AsRef::<[u8]>::as_ref(public)).ok();
			let raw = <[u8; 64]>::try_from(AsRef::<[u8]>::as_ref(signature)).ok();
			let (Some(key), Some(raw)) = (key, raw) else {
				return Err(CertificateError::BadSignature(*index));
			};
			let signature = ed25519_zebra::Signature::from_bytes(&raw);
			batch.queue((ed25519_zebra::VerificationKeyBytes::from(key), signature, &payload));
			publics.push(public);
		}
		if batch.verify(rand::thread_rng()).is_ok() {
			return Ok(());
		}
		// Single verification is the reference; under ZIP-215 it finds the signature the
		// batch refused.
		let bad = certificate
			.signatures
			.iter()
			.zip(publics)
			.find(|((_, signature), public)| !public.verify(&payload, signature));
		match bad {
			Some(((index, _), _)) => Err(CertificateError::BadSignature(*index)),
			None => Ok(()),
		}
	}
}

impl From<JustificationError> for CertificateError {
	fn from(error: JustificationError) -> Self {
		match error {
			JustificationError::OtherProtocol => Self::OtherProtocol,
			JustificationError::Malformed => Self::Malformed,
		}
	}
}

/// Why a certificate or justification was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertificateError {
	/// The justification does not decode as a certificate.
	#[error("justification does not decode as a checkpoint certificate")]
	Malformed,
	/// The justification is not of this protocol version: a node of the one-round protocol
	/// (version 1) made it, or it is no certificate at all.
	#[error(
		"justification is not a certificate of the two-round checkpoint protocol (version 2); \
		 chains of the one-round protocol start afresh and cannot be followed by this node"
	)]
	OtherProtocol,
	/// The certificate is of another authority set.
	#[error("certificate of authority set {got}, the gadget's set is {expected}")]
	WrongSet {
		/// The set the gadget holds.
		expected: u64,
		/// The certificate's set.
		got: u64,
	},
	/// The certificate is of a set this node has not enacted (yet): it needs the certificate
	/// of the enacting checkpoint first.
	#[error("certificate of authority set {got}, not enacted here yet (current set {current})")]
	FutureSet {
		/// The current set.
		current: u64,
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
	/// More signatures than the set has signers.
	#[error("certificate has {got} signatures, the set has {signers} signers")]
	TooManySignatures {
		/// Signatures present.
		got: usize,
		/// Signers in the set.
		signers: usize,
	},
	/// A signer is not in the set, appears twice, or its signature does not verify.
	#[error("certificate signature of validator {0} is invalid, unknown or repeated")]
	BadSignature(u32),
	/// The runtime could not tell the authority set.
	#[error("cannot read the checkpoint authority set from the runtime: {0}")]
	Runtime(String),
}

/// Why the core refuses to take an own vote (the shell's `Error::OwnVoteRefused` and
/// `Error::InvalidOwnVote` say it to the operator).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OwnVoteRejection {
	/// The own-vote guard does not permit the vote: it could conflict with one cast before.
	Guard {
		/// Source of the refused vote.
		from: Epoch,
		/// Target of the refused vote.
		to: Epoch,
		/// Highest own source so far.
		guard_source: Epoch,
		/// Highest own target so far.
		guard_target: Epoch,
	},
	/// The vote does not pass the checks every vote must pass.
	Invalid(VoteRejection),
}

/// Why a vote was not taken. Each is counted; the gossip layer turns it into a reputation cost.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VoteRejection {
	/// The vote belongs to another authority set.
	#[error("vote of authority set {got}, the current set is {current}")]
	WrongSet {
		/// Current set id.
		current: SetId,
		/// The vote's set id.
		got: SetId,
	},
	/// The vote belongs to a set that is signalled but not enacted yet; it may wait for the
	/// enactment.
	#[error("vote of authority set {got}, which is not enacted yet (current set {current})")]
	FutureSet {
		/// Current set id.
		current: SetId,
		/// The vote's set id.
		got: SetId,
	},
	/// The validator index is not in the set.
	#[error("validator index {0} is not in the authority set")]
	UnknownValidator(ValidatorIndex),
	/// The signature does not verify for the validator and this chain.
	#[error("signature does not verify")]
	BadSignature,
	/// The source is not below the target.
	#[error("source {from} is not below target {to}")]
	InvalidLink {
		/// Source number.
		from: Epoch,
		/// Target number.
		to: Epoch,
	},
	/// The vote cannot matter any more: it is at or below the finalized checkpoint.
	#[error("vote {from} -> {to} is expired: {finalized} is finalized")]
	Expired {
		/// Source number.
		from: Epoch,
		/// Target number.
		to: Epoch,
		/// Finalized number.
		finalized: Epoch,
	},
	/// The target is too far ahead of the finalized checkpoint.
	#[error("target {target} is more than {window} checkpoints ahead of finalized {finalized}")]
	TooFarAhead {
		/// Target number.
		target: Epoch,
		/// Finalized number.
		finalized: Epoch,
		/// The window.
		window: u64,
	},
	/// The vote is already known.
	#[error("vote already known")]
	Duplicate,
	/// The validator already has two conflicting votes for this target; evidence is kept.
	#[error("validator {validator} already equivocated on target {target}")]
	EquivocationLimit {
		/// The validator.
		validator: ValidatorIndex,
		/// Target number.
		target: Epoch,
	},
}

/// Whether a vote for `link` can no longer matter with checkpoint `finalized` final: its
/// source lies below finality or its target at or below it.
pub fn link_expired<H>(link: &Link<H>, finalized: Epoch) -> bool {
	link.source.number < finalized || link.target.number <= finalized
}

/// Votes kept per validator and target number: one, and a conflicting second as evidence.
/// Further variants are refused, so a faulty validator cannot grow memory or flood gossip.
pub(crate) const MAX_VOTES_PER_TARGET: usize = 2;

/// Whether a validator's votes held for `vote`'s target (`held` of them, `known` if `vote` is
/// among them) leave room for it: not known already, and not beyond
/// [`MAX_VOTES_PER_TARGET`]. The one rule of the vote pool, the early votes and gossip.
pub(crate) fn room_for<H>(
	vote: &CheckpointSignature<H>,
	held: usize,
	known: bool,
) -> Result<(), VoteRejection> {
	if known {
		return Err(VoteRejection::Duplicate);
	}
	if held >= MAX_VOTES_PER_TARGET {
		return Err(VoteRejection::EquivocationLimit {
			validator: vote.validator_index,
			target: vote.link.target.number,
		});
	}
	Ok(())
}
