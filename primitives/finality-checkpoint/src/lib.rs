//! Primitives of checkpoint finality, shared by the runtime and the client.
//!
//! Owns the wire and storage types of the protocol ([`Checkpoint`], [`CheckpointSignature`],
//! [`CheckpointCertificate`]), the `ckpt` application key type (ed25519), the consensus
//! [`ENGINE_ID`] and its header digest ([`ConsensusLog`]: authority set changes), the
//! domain-separated [`signing_payload`] and the [`CheckpointApi`] runtime API.

#![cfg_attr(not(feature = "std"), no_std)]
#![warn(missing_docs)]

extern crate alloc;

use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use scale_info::TypeInfo;
use sp_runtime::{traits::Header as HeaderT, ConsensusEngineId, DigestItem, KeyTypeId};

/// The consensus engine id of checkpoint finality; tags its justifications.
pub const ENGINE_ID: ConsensusEngineId = *b"CKPT";

/// The key type of checkpoint voting keys (`--key-type ckpt`).
pub const KEY_TYPE: KeyTypeId = KeyTypeId(*b"ckpt");

/// The protocol this crate speaks: 2, two vote rounds per checkpoint block ([`Epoch`]s).
/// Version 1 voted once per checkpoint; its votes, certificates and databases mean other
/// things and are refused, so chains of version 1 start afresh.
pub const PROTOCOL_VERSION: u32 = 2;

/// Domain tag at the start of every signed payload; it names the protocol version, so that no
/// signature of version 1 (tag `CKPT`) counts here.
pub const SIGNING_DOMAIN: [u8; 4] = *b"CKP2";

/// Tag in front of a certificate's SCALE in a `CKPT` justification (see
/// [`CheckpointCertificate::to_justification`]). Version 1 had none: its justifications start
/// with the link's set id, whose low bytes are not this tag for any set of a real chain.
pub const JUSTIFICATION_TAG: [u8; 4] = *b"CKP2";

mod app {
	use sp_application_crypto::{app_crypto, ed25519};
	app_crypto!(ed25519, super::KEY_TYPE);
}

sp_application_crypto::with_pair! {
	/// A checkpoint voting key pair.
	pub type AuthorityPair = app::Pair;
}

/// A checkpoint voter's public key.
pub type AuthorityId = app::Public;

/// A checkpoint voter's signature on a [`signing_payload`].
pub type AuthoritySignature = app::Signature;

/// Identifies an authority set; increases by one at every change of the set.
pub type SetId = u64;

/// Index of a validator in its authority set.
pub type ValidatorIndex = u32;

/// Epoch `e`: the checkpoint block at height `(e / 2) * interval`, in vote round `e % 2` there.
///
/// Every checkpoint block `B` at height `k * interval` stands at two epochs, as Gasper's
/// checkpoints are (block, epoch) pairs: round one links the highest justified epoch to
/// `(2k, B)`, round two links `(2k, B)` to `(2k + 1, B)`, which finalizes `B` (adjacent epochs)
/// and is the next block's source. Genesis is epoch 0, justified and finalized.
#[derive(
	Clone,
	Copy,
	Debug,
	Default,
	PartialEq,
	Eq,
	PartialOrd,
	Ord,
	Hash,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
pub struct Epoch(pub u64);

impl Epoch {
	/// The next epoch.
	pub fn next(self) -> Self {
		Self(self.0.saturating_add(1))
	}

	/// The height of this epoch's checkpoint block, checkpoints `interval` blocks apart.
	pub fn block_number(self, interval: u32) -> u64 {
		(self.0 / 2).saturating_mul(u64::from(interval.max(1)))
	}

	/// The round-one epoch of the checkpoint block at `height`; `None` if `height` is not a
	/// multiple of `interval`.
	pub fn of_block(height: u64, interval: u32) -> Option<Self> {
		let interval = u64::from(interval.max(1));
		height.is_multiple_of(interval).then(|| Self::at_or_below(height, interval as u32))
	}

	/// The round-one epoch of the highest checkpoint block at or below `height`.
	pub fn at_or_below(height: u64, interval: u32) -> Self {
		Self((height / u64::from(interval.max(1))).saturating_mul(2))
	}

	/// The round-one epoch of the lowest checkpoint block at or above `height`.
	pub fn at_or_above(height: u64, interval: u32) -> Self {
		Self(height.div_ceil(u64::from(interval.max(1))).saturating_mul(2))
	}

	/// Whether this is round one at its block (`2k`), the round a new block's votes target;
	/// round two (`2k + 1`) targets a block whose round one is justified.
	pub fn is_round_one(self) -> bool {
		self.0.is_multiple_of(2)
	}

	/// Big-endian bytes: the key prefix that makes storage keys sort by epoch.
	pub fn to_be_bytes(self) -> [u8; 8] {
		self.0.to_be_bytes()
	}
}

impl core::fmt::Display for Epoch {
	fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
		write!(f, "epoch {}", self.0)
	}
}

/// A checkpoint: an epoch and the hash of its block.
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	PartialOrd,
	Ord,
	Hash,
	Encode,
	Decode,
	DecodeWithMemTracking,
	MaxEncodedLen,
	TypeInfo,
)]
pub struct Checkpoint<Hash> {
	/// The epoch.
	pub number: Epoch,
	/// Hash of the checkpoint block.
	pub hash: Hash,
}

impl<Hash> Checkpoint<Hash> {
	/// A checkpoint from its epoch and block hash.
	pub fn new(number: u64, hash: Hash) -> Self {
		Self { number: Epoch(number), hash }
	}
}

/// What a vote links: `source -> target` within an authority set.
#[derive(
	Clone,
	Copy,
	Debug,
	PartialEq,
	Eq,
	PartialOrd,
	Ord,
	Hash,
	Encode,
	Decode,
	DecodeWithMemTracking,
	TypeInfo,
)]
pub struct Link<Hash> {
	/// Authority set the vote belongs to.
	pub set_id: SetId,
	/// The justified checkpoint the vote builds on.
	pub source: Checkpoint<Hash>,
	/// The checkpoint the vote asks to justify.
	pub target: Checkpoint<Hash>,
}

/// A validator's checkpoint vote: a signed [`Link`].
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub struct CheckpointSignature<Hash> {
	/// The vote's link.
	pub link: Link<Hash>,
	/// Index of the voter in the authority set `link.set_id`.
	pub validator_index: ValidatorIndex,
	/// Signature over [`signing_payload`] of `link`.
	pub signature: AuthoritySignature,
}

/// A supermajority of votes for one link; the finality proof of `link.source`.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub struct CheckpointCertificate<Hash> {
	/// The link every signature signs.
	pub link: Link<Hash>,
	/// Voters and their signatures, sorted by validator index, no index twice.
	pub signatures: Vec<(ValidatorIndex, AuthoritySignature)>,
}

/// Why a `CKPT` justification is not a certificate of this protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JustificationError {
	/// It does not start with [`JUSTIFICATION_TAG`]: a certificate of protocol version 1, or
	/// not a certificate at all.
	OtherProtocol,
	/// It has the tag, but what follows does not decode as a certificate.
	Malformed,
}

impl<Hash: Encode> CheckpointCertificate<Hash> {
	/// The certificate as a `CKPT` justification: [`JUSTIFICATION_TAG`], then its SCALE.
	pub fn to_justification(&self) -> Vec<u8> {
		let mut bytes = JUSTIFICATION_TAG.to_vec();
		self.encode_to(&mut bytes);
		bytes
	}
}

impl<Hash: Decode> CheckpointCertificate<Hash> {
	/// The certificate of a `CKPT` justification made by [`Self::to_justification`]; all of
	/// `bytes` must decode.
	pub fn from_justification(bytes: &[u8]) -> Result<Self, JustificationError> {
		let body =
			bytes.strip_prefix(&JUSTIFICATION_TAG).ok_or(JustificationError::OtherProtocol)?;
		codec::DecodeAll::decode_all(&mut &body[..]).map_err(|_| JustificationError::Malformed)
	}
}

/// An authority set: its id and its voters in validator-index order.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub struct AuthoritySet {
	/// The set's id: 0 for the genesis set, one more at every change.
	pub id: SetId,
	/// The voters, in validator-index order.
	pub authorities: Vec<AuthorityId>,
}

/// A set change signalled in block `signalled_at` that the chain does not yet treat as enacted.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub struct PendingChange<N> {
	/// The set that takes over.
	pub set: AuthoritySet,
	/// The block whose header carries the [`ConsensusLog::ScheduledChange`] digest.
	pub signalled_at: N,
}

/// The header digest items of checkpoint finality, under [`ENGINE_ID`].
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub enum ConsensusLog {
	/// The authority set changes to this set. The change signalled in block `B` is enacted by
	/// the first checkpoint at or above `B` on `B`'s chain that becomes finalized: the link that
	/// finalizes it is still the old set's, every vote with a higher source is the new set's.
	#[codec(index = 1)]
	ScheduledChange(AuthoritySet),
	/// The authority set changes to `set` without the finality of the current one, once the
	/// block `delay` blocks after this one is imported on this block's chain: root's way out
	/// when the current set is gone for good. Votes of `set` may have their source at the
	/// checkpoint finalized then.
	#[codec(index = 2)]
	ForcedChange {
		/// Blocks after the signalling block at which the change takes effect.
		delay: u32,
		/// The set that takes over.
		set: AuthoritySet,
	},
}

impl ConsensusLog {
	/// The log as a consensus digest item under [`ENGINE_ID`].
	pub fn into_digest(self) -> DigestItem {
		DigestItem::Consensus(ENGINE_ID, self.encode())
	}
}

/// The set change a header signals, if any: its first `CKPT` digest that decodes as a
/// [`ConsensusLog::ScheduledChange`].
pub fn find_scheduled_change<H: HeaderT>(header: &H) -> Option<AuthoritySet> {
	header.digest().convert_first(|item| match item.consensus_try_to(&ENGINE_ID)? {
		ConsensusLog::ScheduledChange(set) => Some(set),
		_ => None,
	})
}

/// The forced set change a header signals, if any, with its delay: its first `CKPT` digest that
/// decodes as a [`ConsensusLog::ForcedChange`].
pub fn find_forced_change<H: HeaderT>(header: &H) -> Option<(u32, AuthoritySet)> {
	header.digest().convert_first(|item| match item.consensus_try_to(&ENGINE_ID)? {
		ConsensusLog::ForcedChange { delay, set } => Some((delay, set)),
		_ => None,
	})
}

/// The bytes a voter signs: SCALE of `(b"CKP2", genesis_hash, set_id, source, target)`.
///
/// The domain tag keeps the signature from meaning anything elsewhere; the genesis hash binds it
/// to one chain; every field of the vote that matters is signed.
pub fn signing_payload<Hash: Encode>(genesis_hash: &Hash, link: &Link<Hash>) -> Vec<u8> {
	(SIGNING_DOMAIN, genesis_hash, link.set_id, &link.source, &link.target).encode()
}

/// Whether two votes of one validator, for `a` and `b`, conflict: E1 (two different links to
/// one target epoch) or E2 (one span strictly surrounds the other). The one statement of the
/// rule: the client's evidence, the runtime's check of a report and the tests all use it.
pub fn votes_conflict<H: PartialEq>(a: &Link<H>, b: &Link<H>) -> bool {
	let (sa, ta, sb, tb) = (a.source.number, a.target.number, b.source.number, b.target.number);
	(ta == tb && a != b) || (sa < sb && tb < ta) || (sb < sa && ta < tb)
}

/// Two votes of one authority, of one set, that conflict ([`votes_conflict`]): the proof of an
/// equivocation, as reported on chain.
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub struct EquivocationProof<Hash> {
	/// The key that signed both votes.
	pub offender: AuthorityId,
	/// The first vote: its link and the offender's signature over [`signing_payload`] of it.
	pub first: (Link<Hash>, AuthoritySignature),
	/// The second vote, conflicting with the first.
	pub second: (Link<Hash>, AuthoritySignature),
}

/// Why an [`EquivocationProof`] proves nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EquivocationError {
	/// The two votes belong to different authority sets.
	OtherSets,
	/// The votes do not conflict: neither E1 nor E2 is broken.
	NoConflict,
	/// A signature is not the offender's over the vote (or over another chain's payload).
	BadSignature,
}

impl<Hash: Encode + PartialEq> EquivocationProof<Hash> {
	/// The set both votes belong to.
	pub fn set_id(&self) -> SetId {
		self.first.0.set_id
	}

	/// The later of the two target epochs: with the set id, when the offence happened.
	pub fn epoch(&self) -> Epoch {
		self.first.0.target.number.max(self.second.0.target.number)
	}

	/// Checks that the votes are of one set, conflict, and are both signed by the offender
	/// on the chain of `genesis_hash`.
	pub fn check(&self, genesis_hash: &Hash) -> Result<(), EquivocationError> {
		use sp_application_crypto::RuntimeAppPublic;
		let (first, second) = (&self.first, &self.second);
		if first.0.set_id != second.0.set_id {
			return Err(EquivocationError::OtherSets);
		}
		if !votes_conflict(&first.0, &second.0) {
			return Err(EquivocationError::NoConflict);
		}
		let signed = |(link, signature): &(Link<Hash>, AuthoritySignature)| {
			self.offender.verify(&signing_payload(genesis_hash, link), signature)
		};
		if !(signed(first) && signed(second)) {
			return Err(EquivocationError::BadSignature);
		}
		Ok(())
	}
}

/// A key-ownership proof of the runtime's own type (pallet-session's historical proof), SCALE
/// encoded, as the client passes it between the runtime API calls.
pub type OpaqueKeyOwnershipProof = sp_runtime::OpaqueValue;

/// Votes needed out of `n` equal-weight voters: more than two thirds, `n - floor((n - 1) / 3)`.
pub fn supermajority_threshold(n: usize) -> usize {
	n - n.saturating_sub(1) / 3
}

sp_api::decl_runtime_apis! {
	/// What the client needs from the runtime to vote on checkpoints.
	///
	/// Version 2 adds the current and pending sets, version 3 equivocation reports. The chain's view of the set is what the
	/// runtime signalled; the client enacts a change by finality and verifies by the set it
	/// tracks, never by this API at the block being finalized.
	#[api_version(2)]
	pub trait CheckpointApi {
		/// The current authority set of checkpoint voters, in validator-index order.
		fn authorities() -> Vec<AuthorityId>;
		/// The id of the current authority set.
		fn set_id() -> SetId;
		/// Blocks between two checkpoints (at least 1).
		fn checkpoint_interval() -> u32;
		/// The current authority set, id and voters.
		#[api_version(2)]
		fn current_set() -> AuthoritySet;
		/// The signalled change the chain does not yet treat as enacted, if any.
		#[api_version(2)]
		fn pending_change() -> Option<PendingChange<sp_runtime::traits::NumberFor<Block>>>;
		/// A proof that `authority` held its key in the session of set `set_id`, to report its
		/// equivocation with; `None` when the runtime cannot prove it (the set's sessions are
		/// past the historical window, or the key is not a validator's there).
		#[api_version(3)]
		fn generate_key_ownership_proof(
			set_id: SetId,
			authority: AuthorityId,
		) -> Option<OpaqueKeyOwnershipProof>;
		/// Submits an unsigned `report_equivocation` extrinsic to the transaction pool of the
		/// offchain context (the caller registers it); `None` if the proof does not decode or
		/// the pool refuses the extrinsic.
		#[api_version(3)]
		fn submit_report_equivocation_unsigned_extrinsic(
			proof: EquivocationProof<Block::Hash>,
			key_owner_proof: OpaqueKeyOwnershipProof,
		) -> Option<()>;
		/// The block that included the accepted report of `offender`'s equivocation in set
		/// `set_id` whose later target epoch is `epoch`, if any.
		#[api_version(3)]
		fn equivocation_reported(
			offender: AuthorityId,
			set_id: SetId,
			epoch: Epoch,
		) -> Option<sp_runtime::traits::NumberFor<Block>>;
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	#[test]
	fn threshold_is_more_than_two_thirds() {
		let expected = [(1, 1), (2, 2), (3, 3), (4, 3), (5, 4), (6, 5), (7, 5), (10, 7), (100, 67)];
		for (n, t) in expected {
			assert_eq!(supermajority_threshold(n), t, "n = {n}");
			assert!(3 * t > 2 * n, "n = {n}: {t} is not more than 2/3");
			assert!(3 * (t - 1) <= 2 * n, "n = {n}: {t} is more than needed");
		}
	}

	#[test]
	fn scheduled_change_is_found_in_the_digest() {
		use sp_runtime::{generic::Header, traits::BlakeTwo256};
		let set = AuthoritySet { id: 1, authorities: Vec::new() };
		let mut header = Header::<u32, BlakeTwo256>::new(
			5,
			Default::default(),
			Default::default(),
			Default::default(),
			Default::default(),
		);
		assert_eq!(find_scheduled_change(&header), None);
		// Another engine's log, and an undecodable `CKPT` log, are not a change.
		header.digest_mut().push(DigestItem::Consensus(*b"aura", vec![1, 2]));
		header.digest_mut().push(DigestItem::Consensus(ENGINE_ID, vec![9]));
		assert_eq!(find_scheduled_change(&header), None);
		let forced = ConsensusLog::ForcedChange { delay: 3, set: set.clone() };
		header.digest_mut().push(forced.into_digest());
		assert_eq!(find_scheduled_change(&header), None, "a forced change is not a scheduled one");
		assert_eq!(find_forced_change(&header), Some((3, set.clone())));
		header.digest_mut().push(ConsensusLog::ScheduledChange(set.clone()).into_digest());
		assert_eq!(find_scheduled_change(&header), Some(set));
	}

	#[test]
	fn payload_binds_chain_set_and_link() {
		let link = Link {
			set_id: 1,
			source: Checkpoint::new(1, [1u8; 32]),
			target: Checkpoint::new(2, [2u8; 32]),
		};
		let base = signing_payload(&[0u8; 32], &link);
		assert!(base.starts_with(b"CKP2"));
		assert_ne!(base, signing_payload(&[9u8; 32], &link));
		assert_ne!(base, signing_payload(&[0u8; 32], &Link { set_id: 2, ..link }));
		let other_target = Link { target: Checkpoint::new(2, [3u8; 32]), ..link };
		assert_ne!(base, signing_payload(&[0u8; 32], &other_target));
	}

	#[test]
	fn epochs_name_each_checkpoint_block_twice() {
		let heights: Vec<u64> = (0..6).map(|e| Epoch(e).block_number(5)).collect();
		assert_eq!(heights, [0, 0, 5, 5, 10, 10]);
		assert_eq!(Epoch::of_block(10, 5), Some(Epoch(4)));
		assert_eq!(Epoch::of_block(11, 5), None);
		assert_eq!(Epoch::at_or_below(14, 5), Epoch(4));
		assert_eq!(Epoch::at_or_below(7, 1), Epoch(14));
		assert_eq!((Epoch::at_or_above(11, 5), Epoch::at_or_above(10, 5)), (Epoch(6), Epoch(4)));
		assert!(Epoch(4).is_round_one() && !Epoch(5).is_round_one());
	}

	#[test]
	fn justifications_of_another_protocol_version_are_refused() {
		let link = Link {
			set_id: 0,
			source: Checkpoint::new(2, [1u8; 32]),
			target: Checkpoint::new(3, [1u8; 32]),
		};
		let certificate = CheckpointCertificate::<[u8; 32]> { link, signatures: Vec::new() };
		let justification = certificate.to_justification();
		assert_eq!(
			CheckpointCertificate::from_justification(&justification),
			Ok(certificate.clone())
		);
		// Version 1 wrote the bare SCALE: refused as another protocol's.
		assert_eq!(
			CheckpointCertificate::<[u8; 32]>::from_justification(&certificate.encode()),
			Err(JustificationError::OtherProtocol)
		);
		let mut long = justification.clone();
		long.push(0);
		assert_eq!(
			CheckpointCertificate::<[u8; 32]>::from_justification(&long),
			Err(JustificationError::Malformed)
		);
		// A version 1 node reads the tag as the low bytes of the set id: no set it tracks.
		let old = CheckpointCertificate::<[u8; 32]>::decode(&mut &justification[..]);
		assert!(old.map_or(true, |c| c.link.set_id >= u64::from(u32::from_le_bytes(*b"CKP2"))));
	}
}
