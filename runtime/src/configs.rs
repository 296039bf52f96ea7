//! The pallets' configurations.

use frame_support::{
	derive_impl,
	dispatch::DispatchClass,
	parameter_types,
	traits::{ConstBool, ConstU128, ConstU32, ConstU64, ConstU8, VariantCountOf},
	weights::{
		constants::{RocksDbWeight, WEIGHT_REF_TIME_PER_SECOND},
		IdentityFee, Weight,
	},
	PalletId,
};
use frame_system::{
	limits::{BlockLength, BlockWeights},
	EnsureRoot,
};
use pallet_collator_selection::WeightInfo as _;
use pallet_transaction_payment::{ConstFeeMultiplier, FungibleAdapter, Multiplier};
use sp_consensus_aura::sr25519::AuthorityId as AuraId;
use sp_runtime::{
	traits::{One, OpaqueKeys},
	Perbill,
};
use sp_staking::{
	offence::{OffenceDetails, OnOffenceHandler},
	SessionIndex,
};
use sp_version::RuntimeVersion;

use super::{
	AccountId, Aura, Balance, Balances, Block, BlockNumber, CollatorSelection, Hash, Historical,
	Nonce, Offences, PalletInfo, Runtime, RuntimeCall, RuntimeEvent, RuntimeFreezeReason,
	RuntimeHoldReason, RuntimeOrigin, RuntimeTask, Session, SessionKeys, System,
	UncheckedExtrinsic, EXISTENTIAL_DEPOSIT, MAX_AUTHORITIES, MINUTES, SLOT_DURATION, VERSION,
};
use alloc::vec::Vec;

/// Share of a block's weight and length that normal (non-operational) extrinsics may use.
const NORMAL_DISPATCH_RATIO: Perbill = Perbill::from_percent(75);

parameter_types! {
	/// Block hashes kept for `frame_system::block_hash`.
	pub const BlockHashCount: BlockNumber = 2400;
	/// The runtime version, for `frame_system`.
	pub const Version: RuntimeVersion = VERSION;
	/// One second of compute per block: a third of the 3 s block time.
	pub RuntimeBlockWeights: BlockWeights = BlockWeights::with_sensible_defaults(
		Weight::from_parts(WEIGHT_REF_TIME_PER_SECOND, u64::MAX),
		NORMAL_DISPATCH_RATIO,
	);
	/// At most 5 MiB per block.
	pub RuntimeBlockLength: BlockLength =
		BlockLength::builder()
			.max_length(5 * 1024 * 1024)
			.modify_max_length_for_class(DispatchClass::Normal, |max| {
				*max = NORMAL_DISPATCH_RATIO * *max
			})
			.build();
	/// The generic Substrate SS58 prefix.
	pub const SS58Prefix: u8 = 42;
	/// Transaction fees do not scale with congestion on the devnet.
	pub FeeMultiplier: Multiplier = Multiplier::one();
}

#[derive_impl(frame_system::config_preludes::SolochainDefaultConfig)]
impl frame_system::Config for Runtime {
	type Block = Block;
	type BlockWeights = RuntimeBlockWeights;
	type BlockLength = RuntimeBlockLength;
	type AccountId = AccountId;
	type Nonce = Nonce;
	type Hash = Hash;
	type BlockHashCount = BlockHashCount;
	type DbWeight = RocksDbWeight;
	type Version = Version;
	type AccountData = pallet_balances::AccountData<Balance>;
	type SS58Prefix = SS58Prefix;
	type MaxConsumers = ConstU32<16>;
}

impl pallet_timestamp::Config for Runtime {
	/// Milliseconds since the unix epoch.
	type Moment = u64;
	type OnTimestampSet = Aura;
	type MinimumPeriod = ConstU64<{ SLOT_DURATION / 2 }>;
	type WeightInfo = ();
}

impl pallet_aura::Config for Runtime {
	type AuthorityId = AuraId;
	type DisabledValidators = ();
	type MaxAuthorities = ConstU32<MAX_AUTHORITIES>;
	type AllowMultipleBlocksPerSlot = ConstBool<false>;
	type SlotDuration = pallet_aura::MinimumPeriodTimesTwo<Runtime>;
}

impl pallet_balances::Config for Runtime {
	type MaxLocks = ConstU32<50>;
	type MaxReserves = ();
	type ReserveIdentifier = [u8; 8];
	type Balance = Balance;
	type RuntimeEvent = RuntimeEvent;
	type DustRemoval = ();
	type ExistentialDeposit = ConstU128<EXISTENTIAL_DEPOSIT>;
	type AccountStore = System;
	type WeightInfo = pallet_balances::weights::SubstrateWeight<Runtime>;
	type FreezeIdentifier = RuntimeFreezeReason;
	type MaxFreezes = VariantCountOf<RuntimeFreezeReason>;
	type RuntimeHoldReason = RuntimeHoldReason;
	type RuntimeFreezeReason = RuntimeFreezeReason;
	type DoneSlashHandler = ();
}

impl pallet_transaction_payment::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type OnChargeTransaction = FungibleAdapter<Balances, ()>;
	type OperationalFeeMultiplier = ConstU8<5>;
	type WeightToFee = IdentityFee<Balance>;
	type LengthToFee = IdentityFee<Balance>;
	type FeeMultiplierUpdate = ConstFeeMultiplier<FeeMultiplier>;
	type WeightInfo = pallet_transaction_payment::weights::SubstrateWeight<Runtime>;
}

impl pallet_sudo::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type RuntimeCall = RuntimeCall;
	type WeightInfo = pallet_sudo::weights::SubstrateWeight<Runtime>;
}

parameter_types! {
	/// Set changes back whose sessions stay reportable: an equivocation is reported within the
	/// few sessions after it or not at all.
	pub const MaxSetIdSessionEntries: u64 = 168;
	/// Blocks an equivocation report stays valid in the pool: a session.
	pub const ReportLongevity: u64 = SessionPeriod::get() as u64;
}

/// pallet-session's current session index, for the checkpoint pallet.
pub struct CurrentSession;

impl frame_support::traits::Get<u32> for CurrentSession {
	fn get() -> u32 {
		Session::current_index()
	}
}

impl pallet_checkpoint::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type MaxAuthorities = ConstU32<MAX_AUTHORITIES>;
	type CurrentSession = CurrentSession;
	type MaxSetIdSessionEntries = MaxSetIdSessionEntries;
	type KeyOwnerProof = sp_session::MembershipProof;
	type EquivocationReportSystem =
		pallet_checkpoint::EquivocationReportSystem<Self, Offences, Historical, ReportLongevity>;
	type WeightInfo = pallet_checkpoint::weights::SubstrateWeight<Runtime>;
}

/// Sessions' validators for the historical proofs: an account, nothing staked behind it.
impl pallet_session::historical::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type FullIdentification = ();
	type FullIdentificationOf = ValidatorIdentity;
}

/// The full identification of a validator: none beyond its account (no stake to slash).
pub struct ValidatorIdentity;

impl sp_runtime::traits::Convert<AccountId, Option<()>> for ValidatorIdentity {
	fn convert(_: AccountId) -> Option<()> {
		Some(())
	}
}

/// Collator-selection's sessions, with the (empty) identification of each validator, so that
/// pallet-session's historical roots note every session's validators.
pub struct HistoricalCollators;

impl pallet_session::SessionManager<AccountId> for HistoricalCollators {
	fn new_session(index: SessionIndex) -> Option<Vec<AccountId>> {
		<CollatorSelection as pallet_session::SessionManager<_>>::new_session(index)
	}
	fn new_session_genesis(index: SessionIndex) -> Option<Vec<AccountId>> {
		<CollatorSelection as pallet_session::SessionManager<_>>::new_session_genesis(index)
	}
	fn start_session(index: SessionIndex) {
		<CollatorSelection as pallet_session::SessionManager<_>>::start_session(index)
	}
	fn end_session(index: SessionIndex) {
		<CollatorSelection as pallet_session::SessionManager<_>>::end_session(index)
	}
}

impl pallet_session::historical::SessionManager<AccountId, ()> for HistoricalCollators {
	fn new_session(index: SessionIndex) -> Option<Vec<(AccountId, ())>> {
		<Self as pallet_session::SessionManager<_>>::new_session(index)
			.map(|validators| validators.into_iter().map(|v| (v, ())).collect())
	}
	fn new_session_genesis(index: SessionIndex) -> Option<Vec<(AccountId, ())>> {
		<Self as pallet_session::SessionManager<_>>::new_session_genesis(index)
			.map(|validators| validators.into_iter().map(|v| (v, ())).collect())
	}
	fn start_session(index: SessionIndex) {
		<Self as pallet_session::SessionManager<_>>::start_session(index)
	}
	fn end_session(index: SessionIndex) {
		<Self as pallet_session::SessionManager<_>>::end_session(index)
	}
}

/// Offences (checkpoint equivocations) are kept and handed to [`RemoveOffenders`].
impl pallet_offences::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type IdentificationTuple = pallet_session::historical::IdentificationTuple<Self>;
	type OnOffenceHandler = RemoveOffenders;
}

/// The punishment on a chain without stake: an offender leaves collator-selection's
/// invulnerables (event `CollatorSelection::InvulnerableRemoved`), so the session after the next
/// no longer has it and the checkpoint set that follows signals it out. Removal that would
/// leave fewer than `MinEligibleCollators` validators is refused and logged; root decides then.
pub struct RemoveOffenders;

impl OnOffenceHandler<AccountId, pallet_session::historical::IdentificationTuple<Runtime>, Weight>
	for RemoveOffenders
{
	fn on_offence(
		offenders: &[OffenceDetails<
			AccountId,
			pallet_session::historical::IdentificationTuple<Runtime>,
		>],
		_slash_fraction: &[Perbill],
		session: SessionIndex,
	) -> Weight {
		let mut weight = Weight::zero();
		for details in offenders {
			let (who, ()) = &details.offender;
			let result = CollatorSelection::remove_invulnerable(
				frame_system::RawOrigin::Root.into(),
				who.clone(),
			);
			weight.saturating_accrue(
				<Runtime as pallet_collator_selection::Config>::WeightInfo::remove_invulnerable(
					MAX_AUTHORITIES,
				),
			);
			if let Err(e) = result {
				log::warn!(
					target: "runtime::checkpoint",
					"Offender {who:?} of session {session} stays a validator: {e:?}",
				);
			}
		}
		weight
	}
}

parameter_types! {
	/// A session lasts a minute: short, so that devnets and tests see set changes soon.
	pub const SessionPeriod: BlockNumber = MINUTES;
	/// The first session starts at genesis.
	pub const SessionOffset: BlockNumber = 0;
	/// Account of collator-selection's reward pot (unused: no candidacy, no rewards).
	pub const PotId: PalletId = PalletId(*b"PotStake");
}

/// Sessions rotate every [`SessionPeriod`] blocks. Their validators come from
/// collator-selection's invulnerables, which root adds and removes; Aura and the checkpoint
/// pallet take their keys from the validators' session keys.
impl pallet_session::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type ValidatorId = AccountId;
	type ValidatorIdOf = pallet_collator_selection::IdentityCollator;
	type ShouldEndSession = pallet_session::PeriodicSessions<SessionPeriod, SessionOffset>;
	type NextSessionRotation = pallet_session::PeriodicSessions<SessionPeriod, SessionOffset>;
	type SessionManager = pallet_session::historical::NoteHistoricalRoot<Self, HistoricalCollators>;
	type SessionHandler = <SessionKeys as OpaqueKeys>::KeyTypeIdProviders;
	type Keys = SessionKeys;
	type DisablingStrategy = ();
	type WeightInfo = ();
	type Currency = Balances;
	type KeyDeposit = ConstU128<0>;
}

/// The validator set is root-governed: `collatorSelection.addInvulnerable(account)` (the account
/// must have set its session keys) and `removeInvulnerable(account)`, through Sudo. Candidacy is
/// off (no candidates, no bonds): only the invulnerables validate.
impl pallet_collator_selection::Config for Runtime {
	type RuntimeEvent = RuntimeEvent;
	type Currency = Balances;
	type UpdateOrigin = EnsureRoot<AccountId>;
	type PotId = PotId;
	type MaxCandidates = ConstU32<0>;
	type MinEligibleCollators = ConstU32<1>;
	type MaxInvulnerables = ConstU32<MAX_AUTHORITIES>;
	type KickThreshold = SessionPeriod;
	type ValidatorId = AccountId;
	type ValidatorIdOf = pallet_collator_selection::IdentityCollator;
	type ValidatorRegistration = Session;
	type WeightInfo = ();
}

/// Unsigned extrinsics from the runtime's offchain context: the checkpoint pallet's
/// equivocation reports.
impl<LocalCall> frame_system::offchain::CreateTransactionBase<LocalCall> for Runtime
where
	RuntimeCall: From<LocalCall>,
{
	type Extrinsic = UncheckedExtrinsic;
	type RuntimeCall = RuntimeCall;
}

impl<LocalCall> frame_system::offchain::CreateBare<LocalCall> for Runtime
where
	RuntimeCall: From<LocalCall>,
{
	fn create_bare(call: RuntimeCall) -> UncheckedExtrinsic {
		UncheckedExtrinsic::new_bare(call)
	}
}
