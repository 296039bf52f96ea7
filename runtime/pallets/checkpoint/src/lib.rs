//! # Checkpoint pallet
//!
//! The on-chain state of checkpoint finality: the authority set of checkpoint voters
//! ([`Authorities`], `ckpt` ed25519 keys), the id of that set ([`CurrentSetId`]), a signalled
//! change the chain does not yet treat as enacted ([`PendingChange`]) and the number of blocks
//! between two checkpoints ([`CheckpointInterval`], at least 1, fixed at genesis).
//!
//! ## Set changes
//! The pallet is a session handler (`OneSessionHandler`, with the `ckpt` key of each validator's
//! session keys). At every new session it compares the session's validators with the newest set
//! it knows (the pending one, else the current one) and queues them when they differ
//! ([`QueuedSet`]). The next checkpoint block with no change pending signals the queued set: a
//! [`ConsensusLog::ScheduledChange`] digest under `CKPT` in its header, with the next set id.
//! At most one change is pending; a queued set waits for the pending one to be enacted.
//! Signalling in a checkpoint block keeps the proof of a change small: the enacting
//! checkpoint is usually the signalling block itself, whose header carries the new set.
//!
//! The client enacts a change signalled in block `B` by finality: at the first finalized
//! checkpoint at or above `B`. The chain cannot see finality, so it treats the change as enacted
//! (moves it into [`Authorities`] and [`CurrentSetId`], event [`Event::NewAuthorities`]) once it
//! has built the next checkpoint block: from there on, votes of the new set can exist. The
//! runtime API `CheckpointApi` exposes both sets.
//!
//! ## Equivocation reports
//! `report_equivocation_unsigned` takes two conflicting votes of one key and a key-ownership
//! proof (pallet-session's historical proof) and reports the offence through
//! [`Config::EquivocationReportSystem`] ([`EquivocationReportSystem`] checks it and hands it to
//! the offences pallet, whose handler the runtime chooses). The pallet records the sessions in
//! which each set was current ([`SetIdSessions`]) to tie a vote's set to the proof's session.
//! The node submits reports through the runtime API from its offchain context.
//!
//! The pallet implements [`sp_runtime::BoundToRuntimeAppPublic`] with the `ckpt` application
//! key, so a runtime can name it in `impl_opaque_keys!` and dev nodes (`--alice`) get their
//! checkpoint key generated into the keystore with the other session keys.

#![cfg_attr(not(feature = "std"), no_std)]
#![warn(missing_docs)]

extern crate alloc;

pub use equivocation::{EquivocationOffence, EquivocationReportSystem, TimeSlot};
pub use pallet::*;
pub use sp_finality_checkpoint::{AuthorityId, AuthoritySet, ConsensusLog, SetId};

pub mod equivocation;
pub mod weights;

/// Log target of the pallet.
const LOG_TARGET: &str = "runtime::checkpoint";

use frame_support::traits::{Get, OneSessionHandler};

#[cfg(feature = "runtime-benchmarks")]
mod benchmarking;
#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;

/// Blocks between two checkpoints when the genesis config does not say otherwise: every block
/// is a checkpoint, final two vote rounds after its import.
pub const DEFAULT_CHECKPOINT_INTERVAL: u32 = 1;

/// Why a [`GenesisConfig`] is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GenesisError {
	/// `checkpoint_interval` is 0; it must be at least 1 block.
	ZeroInterval,
	/// The authority at `index` already appears earlier in the list.
	DuplicateAuthority {
		/// Position of the second occurrence in `authorities`.
		index: u32,
	},
	/// More authorities than the runtime's `MaxAuthorities`.
	TooManyAuthorities {
		/// Number of authorities in the config.
		count: u32,
		/// The runtime's `MaxAuthorities`.
		max: u32,
	},
}

impl core::fmt::Display for GenesisError {
	fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
		match self {
			Self::ZeroInterval => write!(f, "checkpoint_interval must be at least 1 block, got 0"),
			Self::DuplicateAuthority { index } => {
				write!(f, "authority #{index} appears twice in authorities")
			}
			Self::TooManyAuthorities { count, max } => {
				write!(f, "{count} authorities, but the runtime allows at most {max}")
			}
		}
	}
}

#[frame_support::pallet]
pub mod pallet {
	use super::{
		weights::WeightInfo, AuthorityId, AuthoritySet, GenesisError, SetId,
		DEFAULT_CHECKPOINT_INTERVAL,
	};
	use alloc::{boxed::Box, vec::Vec};
	use frame_support::{dispatch::DispatchResultWithPostInfo, pallet_prelude::*};
	use frame_system::pallet_prelude::{BlockNumberFor, OriginFor};
	use sp_finality_checkpoint::EquivocationProof;
	use sp_runtime::traits::Saturating;
	use sp_session::{GetSessionNumber, GetValidatorCount};
	use sp_staking::{offence::OffenceReportSystem, SessionIndex};

	/// The storage layout's version: 1, the layout with `SetIdSessions` and
	/// `ReportedEquivocations`. A change of the layout bumps it and brings its migration.
	pub const STORAGE_VERSION: StorageVersion = StorageVersion::new(1);

	/// The checkpoint pallet.
	#[pallet::pallet]
	#[pallet::storage_version(STORAGE_VERSION)]
	pub struct Pallet<T>(_);

	/// Configuration of the checkpoint pallet.
	#[pallet::config]
	pub trait Config: frame_system::Config {
		/// The overarching event type.
		#[allow(deprecated)]
		type RuntimeEvent: From<Event<Self>> + IsType<<Self as frame_system::Config>::RuntimeEvent>;

		/// The most checkpoint authorities the set may hold.
		#[pallet::constant]
		type MaxAuthorities: Get<u32>;

		/// The index of the current session (pallet-session's `current_index`).
		type CurrentSession: Get<SessionIndex>;

		/// Sets whose sessions are kept in [`SetIdSessions`] for checking reports; older ones
		/// can no longer be reported.
		#[pallet::constant]
		type MaxSetIdSessionEntries: Get<u64>;

		/// A proof that a key was a validator's in a session, with that session and the
		/// number of its validators.
		type KeyOwnerProof: Parameter + GetSessionNumber + GetValidatorCount;

		/// Checks, reports and publishes equivocation reports ([`EquivocationReportSystem`]
		/// with the offences pallet; `()` turns reporting off).
		type EquivocationReportSystem: OffenceReportSystem<
			Option<Self::AccountId>,
			(EquivocationProof<Self::Hash>, Self::KeyOwnerProof),
		>;

		/// Weights of the calls and of `on_initialize`, from the benchmarks
		/// ([`crate::weights::SubstrateWeight`]; `()` in tests).
		type WeightInfo: WeightInfo;
	}

	/// Events of the checkpoint pallet.
	#[pallet::event]
	#[pallet::generate_deposit(pub(super) fn deposit_event)]
	pub enum Event<T: Config> {
		/// A set change was signalled in this block's header; it waits for enactment.
		ChangeSignalled {
			/// The id of the set that takes over.
			set_id: SetId,
		},
		/// The chain treats the pending change as enacted: the set is the current one.
		NewAuthorities {
			/// The id of the now current set.
			set_id: SetId,
		},
		/// Root forced a set change, signalled in this block's header; it takes effect at
		/// block `effective_at` without the finality of the current set.
		ChangeForced {
			/// The id of the set that takes over.
			set_id: SetId,
			/// The block from which the set is in force.
			effective_at: BlockNumberFor<T>,
		},
		/// An equivocation report was accepted and its offence reported.
		EquivocationReported {
			/// The key that signed the two conflicting votes.
			offender: AuthorityId,
			/// The set of both votes.
			set_id: SetId,
			/// The later target epoch of the two.
			epoch: u64,
		},
	}

	/// Errors of the checkpoint pallet.
	#[pallet::error]
	pub enum Error<T> {
		/// A set with no authorities could never finalize anything.
		EmptySet,
		/// A forced change is pending already; wait until it takes effect.
		ForcedChangePending,
		/// The reported votes belong to two authority sets.
		VotesOfTwoSets,
		/// The reported votes do not conflict (neither E1 nor E2).
		NoConflict,
		/// A reported vote is not the offender's signature on this chain.
		BadSignature,
		/// The reported set is unknown, or too old to report.
		UnknownSet,
		/// The key-ownership proof is of a session in which the reported set was not current.
		SessionOutsideSet,
		/// The key-ownership proof does not prove the offender's key.
		InvalidKeyOwnershipProof,
		/// This offender was already reported for this set and epoch.
		DuplicateOffenceReport,
	}

	/// A forced set change signalled and not yet in force.
	#[derive(
		CloneNoBound,
		PartialEqNoBound,
		EqNoBound,
		DebugNoBound,
		Encode,
		Decode,
		DecodeWithMemTracking,
		TypeInfo,
		MaxEncodedLen,
	)]
	#[scale_info(skip_type_params(T))]
	pub struct StoredForcedChange<T: Config> {
		/// The id of the set that takes over.
		pub set_id: SetId,
		/// Its voters, in validator-index order.
		pub authorities: BoundedVec<AuthorityId, T::MaxAuthorities>,
		/// The block from which the set is in force.
		pub effective_at: BlockNumberFor<T>,
	}

	/// A set change signalled in a header and not yet enacted on chain.
	#[derive(
		CloneNoBound,
		PartialEqNoBound,
		EqNoBound,
		DebugNoBound,
		Encode,
		Decode,
		DecodeWithMemTracking,
		TypeInfo,
		MaxEncodedLen,
	)]
	#[scale_info(skip_type_params(T))]
	pub struct StoredPendingChange<T: Config> {
		/// The id of the set that takes over.
		pub set_id: SetId,
		/// Its voters, in validator-index order.
		pub authorities: BoundedVec<AuthorityId, T::MaxAuthorities>,
		/// The block whose header carries the signal.
		pub signalled_at: BlockNumberFor<T>,
	}

	/// The current checkpoint authority set, in validator-index order.
	#[pallet::storage]
	pub type Authorities<T: Config> =
		StorageValue<_, BoundedVec<AuthorityId, T::MaxAuthorities>, ValueQuery>;

	/// The id of the current authority set; 0 for the genesis set.
	#[pallet::storage]
	pub type CurrentSetId<T> = StorageValue<_, SetId, ValueQuery>;

	/// The signalled set change the chain does not yet treat as enacted; at most one.
	#[pallet::storage]
	pub type PendingChange<T: Config> = StorageValue<_, StoredPendingChange<T>, OptionQuery>;

	/// A forced set change not yet in force; at most one.
	#[pallet::storage]
	pub type ForcedChange<T: Config> = StorageValue<_, StoredForcedChange<T>, OptionQuery>;

	/// The set of a session that differs from the newest set, waiting to be signalled at the
	/// next checkpoint block with no change pending.
	#[pallet::storage]
	pub type QueuedSet<T: Config> =
		StorageValue<_, BoundedVec<AuthorityId, T::MaxAuthorities>, OptionQuery>;

	/// The first and last session during which each set was current (at its start or from its
	/// enactment on chain), for the sets of the last `MaxSetIdSessionEntries` changes.
	#[pallet::storage]
	pub type SetIdSessions<T> =
		StorageMap<_, Twox64Concat, SetId, (SessionIndex, SessionIndex), OptionQuery>;

	/// The block that included the accepted report of each offence, by offender, set and epoch
	/// ([`crate::TimeSlot`]): what the node reads to tell that its report is in.
	#[pallet::storage]
	pub type ReportedEquivocations<T: Config> =
		StorageMap<_, Twox64Concat, (AuthorityId, SetId, u64), BlockNumberFor<T>, OptionQuery>;

	/// Blocks between two checkpoints (at least 1): the checkpoint blocks are those at multiples
	/// of the interval.
	#[pallet::storage]
	pub type CheckpointInterval<T> =
		StorageValue<_, u32, ValueQuery, ConstU32<DEFAULT_CHECKPOINT_INTERVAL>>;

	/// Genesis state of the pallet.
	#[pallet::genesis_config]
	pub struct GenesisConfig<T: Config> {
		/// The genesis authority set (set id 0), in validator-index order. No key twice, at most
		/// `MaxAuthorities`. Leave it empty in a runtime with pallet-session: the genesis session's
		/// validators are the set then.
		pub authorities: Vec<AuthorityId>,
		/// Blocks between two checkpoints; at least 1.
		pub checkpoint_interval: u32,
		/// Ties the config to the runtime; carries no data.
		#[serde(skip)]
		pub _config: core::marker::PhantomData<T>,
	}

	impl<T: Config> Default for GenesisConfig<T> {
		fn default() -> Self {
			Self {
				authorities: Vec::new(),
				checkpoint_interval: DEFAULT_CHECKPOINT_INTERVAL,
				_config: Default::default(),
			}
		}
	}

	impl<T: Config> GenesisConfig<T> {
		/// Checks the config: interval at least 1, no duplicate authority, at most
		/// `MaxAuthorities` authorities.
		pub fn validate(&self) -> Result<(), GenesisError> {
			if self.checkpoint_interval == 0 {
				return Err(GenesisError::ZeroInterval);
			}
			let max = T::MaxAuthorities::get();
			if self.authorities.len() > max as usize {
				let count = u32::try_from(self.authorities.len()).unwrap_or(u32::MAX);
				return Err(GenesisError::TooManyAuthorities { count, max });
			}
			// At most `MaxAuthorities` keys: the quadratic check stays small.
			for (index, authority) in self.authorities.iter().enumerate() {
				if self.authorities[..index].contains(authority) {
					return Err(GenesisError::DuplicateAuthority { index: index as u32 });
				}
			}
			Ok(())
		}
	}

	#[pallet::genesis_build]
	impl<T: Config> BuildGenesisConfig for GenesisConfig<T> {
		fn build(&self) {
			if let Err(e) = self.validate() {
				panic!("pallet-checkpoint: invalid genesis config: {e}");
			}
			let authorities =
				BoundedVec::<_, T::MaxAuthorities>::try_from(self.authorities.clone())
					.expect("validate() checked the number of authorities; qed");
			Authorities::<T>::put(authorities);
			CurrentSetId::<T>::put(0);
			SetIdSessions::<T>::insert(0, (0, 0));
			CheckpointInterval::<T>::put(self.checkpoint_interval);
		}
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn on_initialize(now: BlockNumberFor<T>) -> Weight {
			match Self::enact_and_signal(now) {
				Some(authorities) => T::WeightInfo::on_initialize_change(authorities),
				None => T::WeightInfo::on_initialize_idle(),
			}
		}

		fn integrity_test() {
			assert!(T::MaxAuthorities::get() > 0, "pallet-checkpoint: MaxAuthorities must be > 0");
		}
	}

	#[pallet::call]
	impl<T: Config> Pallet<T> {
		/// Forces the authority set to `authorities` `delay` blocks after this block, without
		/// the finality of the current set: for a set of which more than a third is gone for
		/// good, so that finality cannot move and no scheduled change can be enacted. Nodes
		/// switch when they import the block `delay` blocks after this one; the new set's votes
		/// may have their source at the checkpoint finalized then. A scheduled or queued change
		/// is dropped. Root only.
		///
		/// The trade-off: if the old set was not gone but cut off, it can finalize on its side
		/// while the new set finalizes on this one. Use it when the old set cannot come back,
		/// with a `delay` long enough for every node to import the signal.
		#[pallet::call_index(0)]
		#[pallet::weight(T::WeightInfo::force_change(authorities.len() as u32))]
		pub fn force_change(
			origin: OriginFor<T>,
			authorities: BoundedVec<AuthorityId, T::MaxAuthorities>,
			delay: u32,
		) -> DispatchResult {
			frame_system::ensure_root(origin)?;
			ensure!(!authorities.is_empty(), Error::<T>::EmptySet);
			ensure!(ForcedChange::<T>::get().is_none(), Error::<T>::ForcedChangePending);
			// Above every set signalled so far, the pending one included: nodes that noted the
			// pending change hold its set under its id, and one id must name one set.
			let pending = PendingChange::<T>::get().map(|p| p.set_id);
			let set_id = pending.unwrap_or_default().max(Self::set_id()) + 1;
			let log = super::ConsensusLog::ForcedChange {
				delay,
				set: AuthoritySet { id: set_id, authorities: authorities.to_vec() },
			};
			frame_system::Pallet::<T>::deposit_log(log.into_digest());
			let now = frame_system::Pallet::<T>::block_number();
			let effective_at = now.saturating_add(delay.into());
			PendingChange::<T>::kill();
			QueuedSet::<T>::kill();
			ForcedChange::<T>::put(StoredForcedChange { set_id, authorities, effective_at });
			Self::deposit_event(Event::ChangeForced { set_id, effective_at });
			Ok(())
		}

		/// Reports that `equivocation_proof.offender` signed two conflicting votes, with a
		/// proof that the key was a validator's in a session of the votes' set. Unsigned, from
		/// the node that saw the evidence (see [`Pallet::validate_unsigned`]); free.
		///
		/// Its weight is [`Pallet::report_equivocation_weight`]: the benchmarked check of the
		/// votes and pallet-grandpa's estimates of the key-ownership proof and the offence.
		#[pallet::call_index(1)]
		#[pallet::weight(Pallet::<T>::report_equivocation_weight(key_owner_proof.validator_count()))]
		pub fn report_equivocation_unsigned(
			origin: OriginFor<T>,
			equivocation_proof: Box<EquivocationProof<T::Hash>>,
			key_owner_proof: T::KeyOwnerProof,
		) -> DispatchResultWithPostInfo {
			frame_system::ensure_none(origin)?;
			T::EquivocationReportSystem::process_evidence(
				None,
				(*equivocation_proof, key_owner_proof),
			)?;
			Ok(Pays::No.into())
		}
	}

	// GRANDPA's way, as in pallet-grandpa of this release: `#[pallet::authorize]` needs
	// authorized general transactions, which the runtime's offchain submission does not build.
	#[allow(deprecated)]
	#[pallet::validate_unsigned]
	impl<T: Config> ValidateUnsigned for Pallet<T> {
		type Call = Call<T>;

		fn validate_unsigned(source: TransactionSource, call: &Self::Call) -> TransactionValidity {
			Self::validate_unsigned(source, call)
		}

		fn pre_dispatch(call: &Self::Call) -> Result<(), TransactionValidityError> {
			Self::pre_dispatch(call)
		}
	}

	impl<T: Config> Pallet<T> {
		/// The current checkpoint authority set, in validator-index order.
		pub fn authorities() -> Vec<AuthorityId> {
			Authorities::<T>::get().into_inner()
		}

		/// The id of the current authority set.
		pub fn set_id() -> SetId {
			CurrentSetId::<T>::get()
		}

		/// Blocks between two checkpoints; never 0.
		pub fn checkpoint_interval() -> u32 {
			CheckpointInterval::<T>::get().max(1)
		}

		/// The current authority set, id and voters.
		pub fn current_set() -> AuthoritySet {
			AuthoritySet { id: Self::set_id(), authorities: Self::authorities() }
		}

		/// The pending set change, if any.
		pub fn pending_change() -> Option<sp_finality_checkpoint::PendingChange<BlockNumberFor<T>>>
		{
			PendingChange::<T>::get().map(|pending| sp_finality_checkpoint::PendingChange {
				set: AuthoritySet {
					id: pending.set_id,
					authorities: pending.authorities.into_inner(),
				},
				signalled_at: pending.signalled_at,
			})
		}

		/// The height from which the chain treats a change signalled at `signalled_at` as
		/// enacted: the block of the checkpoint after the first checkpoint at or above the
		/// signal (the signalling block itself), where the earliest votes of the new set can
		/// have their source.
		pub fn enacted_on_chain_at(signalled_at: BlockNumberFor<T>) -> BlockNumberFor<T> {
			let interval = BlockNumberFor::<T>::from(Self::checkpoint_interval());
			let last_before = signalled_at.saturating_add(interval) - One::one();
			let first_checkpoint = (last_before / interval).saturating_mul(interval);
			first_checkpoint.saturating_add(interval)
		}

		/// The work of `on_initialize` at block `now`: enacts the forced or pending change that
		/// is due, then, in a checkpoint block with no change pending, signals the queued set.
		/// Returns the size of the largest set it enacted or signalled (the component of
		/// [`WeightInfo::on_initialize_change`]), `None` if it did neither.
		fn enact_and_signal(now: BlockNumberFor<T>) -> Option<u32> {
			// `None` is below every `Some`: the largest set so far, if any.
			let mut largest = None;
			if let Some(forced) = ForcedChange::<T>::get() {
				// Nothing is signalled while a forced change waits.
				if now < forced.effective_at {
					return None;
				}
				largest = Some(forced.authorities.len() as u32);
				Self::note_enacted(forced.set_id);
				Authorities::<T>::put(forced.authorities);
				CurrentSetId::<T>::put(forced.set_id);
				ForcedChange::<T>::kill();
				Self::deposit_event(Event::NewAuthorities { set_id: forced.set_id });
			}
			if let Some(pending) = PendingChange::<T>::get() {
				// A queued set waits while a change is pending.
				if now < Self::enacted_on_chain_at(pending.signalled_at) {
					return largest;
				}
				largest = largest.max(Some(pending.authorities.len() as u32));
				Self::note_enacted(pending.set_id);
				Authorities::<T>::put(pending.authorities);
				CurrentSetId::<T>::put(pending.set_id);
				PendingChange::<T>::kill();
				Self::deposit_event(Event::NewAuthorities { set_id: pending.set_id });
			}
			let interval = BlockNumberFor::<T>::from(Self::checkpoint_interval());
			if (now % interval).is_zero() {
				if let Some(queued) = QueuedSet::<T>::take() {
					largest = largest.max(Some(queued.len() as u32));
					Self::signal_change(queued, now);
				}
			}
			largest
		}

		/// The newest set the chain knows: the forced one, else the pending one, else the
		/// current one.
		fn newest_set() -> Vec<AuthorityId> {
			ForcedChange::<T>::get()
				.map(|forced| forced.authorities.into_inner())
				.or_else(|| {
					PendingChange::<T>::get().map(|pending| pending.authorities.into_inner())
				})
				.unwrap_or_else(Self::authorities)
		}

		/// Queues the set of a new session for signalling when it differs from the newest set;
		/// a session that returns to the newest set drops what was queued.
		pub(super) fn queue_set(authorities: Vec<AuthorityId>) {
			if authorities.is_empty() {
				// No set could finalize: never signalled.
				return;
			}
			if authorities == Self::newest_set() {
				QueuedSet::<T>::kill();
			} else {
				QueuedSet::<T>::put(BoundedVec::truncate_from(authorities));
			}
		}

		/// Signals `authorities` in the header of block `now`, a checkpoint block with no change
		/// pending.
		fn signal_change(
			authorities: BoundedVec<AuthorityId, T::MaxAuthorities>,
			now: BlockNumberFor<T>,
		) {
			let set_id = Self::set_id() + 1;
			let log = super::ConsensusLog::ScheduledChange(AuthoritySet {
				id: set_id,
				authorities: authorities.to_vec(),
			});
			frame_system::Pallet::<T>::deposit_log(log.into_digest());
			PendingChange::<T>::put(StoredPendingChange { set_id, authorities, signalled_at: now });
			Self::deposit_event(Event::ChangeSignalled { set_id });
		}

		/// The block that included the accepted report of `offender`'s equivocation in set
		/// `set_id` at `epoch` (the later target of its two votes), if any.
		pub fn equivocation_reported(
			offender: AuthorityId,
			set_id: SetId,
			epoch: u64,
		) -> Option<BlockNumberFor<T>> {
			ReportedEquivocations::<T>::get((offender, set_id, epoch))
		}

		/// Notes that `set_id` becomes current on chain in this session: it is the first session
		/// of the set and, once more, the last of the set it replaces. Forgets the set
		/// `MaxSetIdSessionEntries` changes back.
		fn note_enacted(set_id: SetId) {
			let session = T::CurrentSession::get();
			SetIdSessions::<T>::mutate(Self::set_id(), |sessions| {
				if let Some((_, last)) = sessions {
					*last = session;
				}
			});
			SetIdSessions::<T>::insert(set_id, (session, session));
			if let Some(old) = set_id.checked_sub(T::MaxSetIdSessionEntries::get().max(1)) {
				SetIdSessions::<T>::remove(old);
			}
		}

		/// Notes that the current set is current in the new session `session`.
		pub(super) fn note_session(session: SessionIndex) {
			SetIdSessions::<T>::mutate(Self::set_id(), |sessions| {
				let first = sessions.map_or(session, |(first, _)| first);
				*sessions = Some((first, session));
			});
		}

		/// Sets the genesis authority set; `authorities` empty leaves it as it is.
		pub(super) fn initialize_authorities(authorities: Vec<AuthorityId>) {
			if authorities.is_empty() {
				return;
			}
			assert!(
				Authorities::<T>::get().is_empty(),
				"pallet-checkpoint: the genesis authorities come from the genesis config or the \
				 genesis session, not both"
			);
			let authorities = BoundedVec::<_, T::MaxAuthorities>::try_from(authorities)
				.expect("pallet-checkpoint: more genesis session validators than MaxAuthorities");
			Authorities::<T>::put(authorities);
		}
	}
}

impl<T: Config> OneSessionHandler<T::AccountId> for Pallet<T> {
	type Key = AuthorityId;

	fn on_genesis_session<'a, I>(validators: I)
	where
		I: Iterator<Item = (&'a T::AccountId, AuthorityId)> + 'a,
	{
		Self::initialize_authorities(validators.map(|(_, key)| key).collect());
	}

	fn on_new_session<'a, I>(_changed: bool, validators: I, _queued_validators: I)
	where
		I: Iterator<Item = (&'a T::AccountId, AuthorityId)> + 'a,
	{
		Self::note_session(T::CurrentSession::get());
		// Compared at every session, not only when pallet-session says the set changed.
		Self::queue_set(validators.map(|(_, key)| key).collect());
	}

	fn on_disabled(_validator_index: u32) {}
}

impl<T: Config> sp_runtime::BoundToRuntimeAppPublic for Pallet<T> {
	type Public = AuthorityId;
}
