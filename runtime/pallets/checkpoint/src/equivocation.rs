//! Equivocation reports: the offence of signing two conflicting checkpoint votes, and the
//! report system that checks a report ([`EquivocationProof`] and a key-ownership proof), hands
//! the offence to an offences handler and publishes reports from the node's offchain context.
//!
//! The model is pallet-grandpa's `equivocation` module. A report is valid when both votes are
//! the offender's signatures on this chain, belong to one set and break E1 or E2
//! ([`sp_finality_checkpoint::votes_conflict`]); when the key-ownership proof shows the key was a
//! validator's in a session during which that set was current ([`SetIdSessions`]); and when the
//! same offender was not reported already for the same set and epoch.
//!
//! IMPORTANT: the runtime must use the pallet's `ValidateUnsigned` (the `#[runtime]` macro does),
//! which admits `report_equivocation_unsigned` only from the local node or in a block.

use crate::{
	weights::WeightInfo, Call, Config, Error, Event, Pallet, ReportedEquivocations, SetIdSessions,
	LOG_TARGET,
};
use alloc::{boxed::Box, vec, vec::Vec};
use codec::{Decode, Encode};
use frame_support::{
	traits::{Get, KeyOwnerProofSystem},
	weights::{
		constants::{WEIGHT_REF_TIME_PER_MICROS, WEIGHT_REF_TIME_PER_NANOS},
		Weight,
	},
};
use sp_finality_checkpoint::{
	AuthorityId, Epoch, EquivocationError, EquivocationProof, SetId, KEY_TYPE,
};
use sp_runtime::{
	traits::Zero,
	transaction_validity::{
		InvalidTransaction, TransactionPriority, TransactionSource, TransactionValidity,
		TransactionValidityError, ValidTransaction,
	},
	DispatchError, KeyTypeId, Perbill,
};
use sp_session::{GetSessionNumber, GetValidatorCount};
use sp_staking::{
	offence::{Kind, Offence, OffenceReportSystem, ReportOffence},
	SessionIndex,
};

/// When an equivocation happened: the set and the later of the two target epochs. One
/// offender is reported at most once per time slot.
#[derive(Copy, Clone, PartialOrd, Ord, Eq, PartialEq, Encode, Decode, Debug)]
pub struct TimeSlot {
	/// The authority set of both votes. (Field order matters for `Ord`.)
	pub set_id: SetId,
	/// The later target epoch of the two votes.
	pub epoch: Epoch,
}

/// A checkpoint equivocation, as an offence for the offences pallet.
pub struct EquivocationOffence<Offender> {
	/// When it happened.
	pub time_slot: TimeSlot,
	/// The session of the key-ownership proof.
	pub session_index: SessionIndex,
	/// Validators in that session.
	pub validator_set_count: u32,
	/// Who signed both votes.
	pub offender: Offender,
}

impl<Offender: Clone> Offence<Offender> for EquivocationOffence<Offender> {
	const ID: Kind = *b"checkpoint:equiv";
	type Slot = TimeSlot;

	fn offenders(&self) -> Vec<Offender> {
		vec![self.offender.clone()]
	}

	fn session_index(&self) -> SessionIndex {
		self.session_index
	}

	fn validator_set_count(&self) -> u32 {
		self.validator_set_count
	}

	fn slot(&self) -> Self::Slot {
		self.time_slot
	}

	/// GRANDPA's `min((3k / n)^2, 1)`: one offender of many is a small fault, a third of the
	/// set is an attack on safety. Our chain has no stake to slash; the handler removes the
	/// offender whatever the fraction.
	fn slash_fraction(&self, offenders_count: u32) -> Perbill {
		Perbill::from_rational(3 * offenders_count, self.validator_set_count.max(1)).square()
	}
}

/// The report system of checkpoint equivocations: checks a report against the key-ownership
/// proof system `P` and the set's sessions, reports the offence to `R`, publishes reports as
/// unsigned extrinsics; `L` is how many blocks a report stays valid in the pool.
pub struct EquivocationReportSystem<T, R, P, L>(core::marker::PhantomData<(T, R, P, L)>);

impl<T, R, P, L>
	OffenceReportSystem<Option<T::AccountId>, (EquivocationProof<T::Hash>, T::KeyOwnerProof)>
	for EquivocationReportSystem<T, R, P, L>
where
	T: Config + frame_system::offchain::CreateBare<Call<T>>,
	R: ReportOffence<
		T::AccountId,
		P::IdentificationTuple,
		EquivocationOffence<P::IdentificationTuple>,
	>,
	P: KeyOwnerProofSystem<(KeyTypeId, AuthorityId), Proof = T::KeyOwnerProof>,
	P::IdentificationTuple: Clone,
	L: Get<u64>,
{
	type Longevity = L;

	fn publish_evidence(
		(equivocation_proof, key_owner_proof): (EquivocationProof<T::Hash>, T::KeyOwnerProof),
	) -> Result<(), ()> {
		use frame_system::offchain::SubmitTransaction;
		let call = Call::report_equivocation_unsigned {
			equivocation_proof: Box::new(equivocation_proof),
			key_owner_proof,
		};
		let result =
			SubmitTransaction::<T, Call<T>>::submit_transaction(T::create_bare(call.into()));
		match result {
			Ok(()) => log::info!(target: LOG_TARGET, "Submitted a checkpoint equivocation report"),
			Err(()) => log::error!(target: LOG_TARGET, "The pool refused an equivocation report"),
		}
		result
	}

	fn check_evidence(
		(equivocation_proof, key_owner_proof): (EquivocationProof<T::Hash>, T::KeyOwnerProof),
	) -> Result<(), TransactionValidityError> {
		let key = (KEY_TYPE, equivocation_proof.offender.clone());
		let offender = P::check_proof(key, key_owner_proof).ok_or(InvalidTransaction::BadProof)?;
		let time_slot = time_slot(&equivocation_proof);
		if R::is_known_offence(&[offender], &time_slot) {
			return Err(InvalidTransaction::Stale.into());
		}
		Ok(())
	}

	fn process_evidence(
		reporter: Option<T::AccountId>,
		(equivocation_proof, key_owner_proof): (EquivocationProof<T::Hash>, T::KeyOwnerProof),
	) -> Result<(), DispatchError> {
		Pallet::<T>::check_equivocation_proof(&equivocation_proof)?;
		let set_id = equivocation_proof.set_id();
		let session_index = key_owner_proof.session();
		let (first, last) = SetIdSessions::<T>::get(set_id).ok_or(Error::<T>::UnknownSet)?;
		if session_index < first || session_index > last {
			return Err(Error::<T>::SessionOutsideSet.into());
		}
		let validator_set_count = key_owner_proof.validator_count();
		let key = (KEY_TYPE, equivocation_proof.offender.clone());
		let offender =
			P::check_proof(key, key_owner_proof).ok_or(Error::<T>::InvalidKeyOwnershipProof)?;
		let time_slot = time_slot(&equivocation_proof);
		let offence =
			EquivocationOffence { time_slot, session_index, validator_set_count, offender };
		R::report_offence(reporter.into_iter().collect(), offence)
			.map_err(|_| Error::<T>::DuplicateOffenceReport)?;
		let now = frame_system::Pallet::<T>::block_number();
		let key = (equivocation_proof.offender.clone(), set_id, time_slot.epoch.0);
		ReportedEquivocations::<T>::insert(key, now);
		Pallet::<T>::deposit_event(Event::EquivocationReported {
			offender: equivocation_proof.offender,
			set_id,
			epoch: time_slot.epoch.0,
		});
		Ok(())
	}
}

/// The time slot of a report.
fn time_slot<H: Encode + PartialEq>(proof: &EquivocationProof<H>) -> TimeSlot {
	TimeSlot { set_id: proof.set_id(), epoch: proof.epoch() }
}

impl<T: Config> Pallet<T> {
	/// Checks the votes of a report: of one set, conflicting, and both the offender's
	/// signatures on this chain (over its genesis hash). The part of a report's check that the
	/// pallet owns, benchmarked as `check_equivocation_proof`.
	pub(crate) fn check_equivocation_proof(
		equivocation_proof: &EquivocationProof<T::Hash>,
	) -> Result<(), Error<T>> {
		let genesis_hash = frame_system::Pallet::<T>::block_hash(
			frame_system::pallet_prelude::BlockNumberFor::<T>::zero(),
		);
		equivocation_proof.check(&genesis_hash).map_err(|e| match e {
			EquivocationError::OtherSets => Error::<T>::VotesOfTwoSets,
			EquivocationError::NoConflict => Error::<T>::NoConflict,
			EquivocationError::BadSignature => Error::<T>::BadSignature,
		})
	}

	/// The weight of `report_equivocation_unsigned` with a key-ownership proof of a session of
	/// `validator_count` validators, composed as pallet-grandpa composes the weight of its
	/// report: the benchmarked check of the two votes ([`WeightInfo::check_equivocation_proof`]),
	/// the pallet's own storage (the set's sessions read, the report recorded), and what the
	/// runtime's report system adds, as pallet-grandpa's `default_weights.rs` estimates it: the
	/// key-ownership proof's check (35 µs, 175 ns a validator, 5 reads) and the offence's report
	/// and handling (110 µs, 14 reads, 10 writes; no nominators). Those estimates are not
	/// measured here: the historical proofs are pallet-grandpa's, and an offence handler without
	/// stake to slash (this runtime's removes a collator) does less than staking's.
	pub fn report_equivocation_weight(validator_count: u32) -> Weight {
		let db = T::DbWeight::get();
		T::WeightInfo::check_equivocation_proof()
			// The key-ownership proof.
			.saturating_add(Weight::from_parts(35 * WEIGHT_REF_TIME_PER_MICROS, 0))
			.saturating_add(
				Weight::from_parts(175 * WEIGHT_REF_TIME_PER_NANOS, 0)
					.saturating_mul(u64::from(validator_count)),
			)
			.saturating_add(db.reads(5))
			// The offence's report and its handler.
			.saturating_add(Weight::from_parts(110 * WEIGHT_REF_TIME_PER_MICROS, 0))
			.saturating_add(db.reads_writes(14, 10))
			// `SetIdSessions` read, `ReportedEquivocations` written.
			.saturating_add(db.reads_writes(1, 1))
	}

	/// `ValidateUnsigned` of `report_equivocation_unsigned`: only from the local node or in a
	/// block, only a report the report system accepts, one per offender and time slot, never
	/// gossiped (so only the reporting node's own blocks include it).
	pub fn validate_unsigned(source: TransactionSource, call: &Call<T>) -> TransactionValidity {
		let Call::report_equivocation_unsigned { equivocation_proof, key_owner_proof } = call
		else {
			return InvalidTransaction::Call.into();
		};
		if !matches!(source, TransactionSource::Local | TransactionSource::InBlock) {
			log::warn!(
				target: LOG_TARGET,
				"Refused an unsigned equivocation report from outside this node ({source:?})",
			);
			return InvalidTransaction::Call.into();
		}
		let evidence = (*equivocation_proof.clone(), key_owner_proof.clone());
		T::EquivocationReportSystem::check_evidence(evidence)?;
		let longevity =
			<T::EquivocationReportSystem as OffenceReportSystem<_, _>>::Longevity::get();
		let slot = time_slot(equivocation_proof);
		ValidTransaction::with_tag_prefix("CheckpointEquivocation")
			.priority(TransactionPriority::MAX)
			.and_provides((equivocation_proof.offender.clone(), slot.set_id, slot.epoch))
			.longevity(longevity)
			.propagate(false)
			.build()
	}

	/// `ValidateUnsigned::pre_dispatch`: the report system's check again, in the block.
	pub fn pre_dispatch(call: &Call<T>) -> Result<(), TransactionValidityError> {
		let Call::report_equivocation_unsigned { equivocation_proof, key_owner_proof } = call
		else {
			return Err(InvalidTransaction::Call.into());
		};
		T::EquivocationReportSystem::check_evidence((
			*equivocation_proof.clone(),
			key_owner_proof.clone(),
		))
	}

	/// Publishes a report from the offchain context (the node's runtime API call); `None` if
	/// the pool refuses it.
	pub fn submit_unsigned_equivocation_report(
		equivocation_proof: EquivocationProof<T::Hash>,
		key_owner_proof: T::KeyOwnerProof,
	) -> Option<()> {
		T::EquivocationReportSystem::publish_evidence((equivocation_proof, key_owner_proof)).ok()
	}

	/// Whether set `set_id` was current during session `session`, as far as the pallet still
	/// knows ([`SetIdSessions`]).
	pub fn set_current_in_session(set_id: SetId, session: SessionIndex) -> bool {
		SetIdSessions::<T>::get(set_id)
			.is_some_and(|(first, last)| first <= session && session <= last)
	}
}
