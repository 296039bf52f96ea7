//! The devnet runtime of the checkpoint finality node.
//!
//! Blocks are authored by Aura every [`MILLI_SECS_PER_BLOCK`] ms and finalized by the
//! checkpoint finality gadget of the node; there is no GRANDPA. The checkpoint authority set,
//! its set id and the checkpoint interval live in [`pallet_checkpoint`] and reach the client
//! through [`sp_finality_checkpoint::CheckpointApi`]. Besides Aura and Checkpoint the runtime
//! has System, Timestamp, Balances, TransactionPayment and Sudo.
//!
//! Genesis presets (see [`genesis_config_presets`]): `development` (Alice alone) and
//! `local_testnet` (Alice, Bob, Charlie, Dave).

#![cfg_attr(not(feature = "std"), no_std)]
// `construct_runtime`-generated code is large and recursive.
#![recursion_limit = "256"]

#[cfg(feature = "std")]
include!(concat!(env!("OUT_DIR"), "/wasm_binary.rs"));

/// This runtime one `spec_version` up (feature `upgrade-test-wasm`): the code that the runtime
/// upgrade test sets with `sudo(system.setCode)`.
#[cfg(all(feature = "std", feature = "upgrade-test-wasm"))]
pub mod upgrade {
	include!(concat!(env!("OUT_DIR"), "/wasm_binary_upgrade.rs"));
}

pub mod apis;
#[cfg(feature = "runtime-benchmarks")]
mod benchmarks;
pub mod configs;
pub mod genesis_config_presets;
#[cfg(test)]
mod tests;

extern crate alloc;

use alloc::vec::Vec;

use sp_runtime::{
	generic, impl_opaque_keys,
	traits::{BlakeTwo256, IdentifyAccount, Verify},
	MultiAddress, MultiSignature,
};
use sp_version::RuntimeVersion;

pub use apis::RuntimeApi;
pub use frame_system::Call as SystemCall;
pub use pallet_balances::Call as BalancesCall;
pub use pallet_timestamp::Call as TimestampCall;
#[cfg(any(feature = "std", test))]
pub use sp_runtime::BuildStorage;

/// Opaque types for the node: they do not depend on the runtime's extrinsic format, so the
/// client keeps working across runtime upgrades that change it.
pub mod opaque {
	use super::*;
	use sp_runtime::traits::Hash as HashT;

	pub use super::SessionKeys;
	pub use sp_runtime::OpaqueExtrinsic as UncheckedExtrinsic;

	/// Opaque block header type.
	pub type Header = generic::Header<BlockNumber, BlakeTwo256>;
	/// Opaque block type.
	pub type Block = generic::Block<Header, UncheckedExtrinsic>;
	/// Opaque block identifier type.
	pub type BlockId = generic::BlockId<Block>;
	/// Opaque block hash type.
	pub type Hash = <BlakeTwo256 as HashT>::Output;
}

impl_opaque_keys! {
	/// The keys a validator registers: its Aura (sr25519) and checkpoint (`ckpt`, ed25519) keys.
	pub struct SessionKeys {
		/// Aura block authoring key.
		pub aura: Aura,
		/// Checkpoint voting key.
		pub checkpoint: Checkpoint,
	}
}

/// Declares [`VERSION`] with `spec_version` `$spec` (`runtime_version` takes literals only).
macro_rules! runtime_version {
	($spec:tt) => {
		/// The runtime version.
		#[sp_version::runtime_version]
		pub const VERSION: RuntimeVersion = RuntimeVersion {
			spec_name: alloc::borrow::Cow::Borrowed("checkpoint-runtime"),
			impl_name: alloc::borrow::Cow::Borrowed("checkpoint-runtime"),
			authoring_version: 1,
			spec_version: $spec,
			impl_version: 1,
			apis: apis::RUNTIME_API_VERSIONS,
			transaction_version: 1,
			system_version: 1,
		};
	};
}
#[cfg(not(feature = "spec-bump"))]
runtime_version!(100);
// The upgrade test's second wasm: this runtime, one spec version up.
#[cfg(feature = "spec-bump")]
runtime_version!(101);

mod block_times {
	/// The targeted block time. Aura authors one block per slot of [`SLOT_DURATION`];
	/// `pallet_timestamp`'s minimum period is half of it and `pallet_aura` derives the slot
	/// duration from that.
	pub const MILLI_SECS_PER_BLOCK: u64 = 3000;

	/// The Aura slot duration. It cannot change once the chain has started.
	pub const SLOT_DURATION: u64 = MILLI_SECS_PER_BLOCK;
}
pub use block_times::*;

/// Blocks per minute.
pub const MINUTES: BlockNumber = 60_000 / (MILLI_SECS_PER_BLOCK as BlockNumber);
/// Blocks per hour.
pub const HOURS: BlockNumber = MINUTES * 60;
/// Blocks per day.
pub const DAYS: BlockNumber = HOURS * 24;

/// Blocks between two checkpoints unless the genesis config says otherwise.
pub const DEFAULT_CHECKPOINT_INTERVAL: u32 = pallet_checkpoint::DEFAULT_CHECKPOINT_INTERVAL;

/// Most Aura and checkpoint authorities.
pub const MAX_AUTHORITIES: u32 = 32;

/// One unit of the native token, in its smallest indivisible parts.
pub const UNIT: Balance = 1_000_000_000_000;
/// A thousandth of a [`UNIT`].
pub const MILLI_UNIT: Balance = 1_000_000_000;
/// A millionth of a [`UNIT`].
pub const MICRO_UNIT: Balance = 1_000_000;

/// Existential deposit.
pub const EXISTENTIAL_DEPOSIT: Balance = MILLI_UNIT;

/// A transaction signature.
pub type Signature = MultiSignature;

/// An account id: the public key of the transaction signing scheme.
pub type AccountId = <<Signature as Verify>::Signer as IdentifyAccount>::AccountId;

/// Balance of an account.
pub type Balance = u128;

/// Index of a transaction of an account.
pub type Nonce = u32;

/// A block hash.
pub type Hash = sp_core::H256;

/// A block number.
pub type BlockNumber = u32;

/// The address format for describing accounts.
pub type Address = MultiAddress<AccountId, ()>;

/// Block header type as expected by this runtime.
pub type Header = generic::Header<BlockNumber, BlakeTwo256>;

/// Block type as expected by this runtime.
pub type Block = generic::Block<Header, UncheckedExtrinsic>;

/// A block with its justifications.
pub type SignedBlock = generic::SignedBlock<Block>;

/// BlockId type as expected by this runtime.
pub type BlockId = generic::BlockId<Block>;

/// The transaction extensions: the checks and payments of a signed extrinsic.
pub type TxExtension = (
	frame_system::AuthorizeCall<Runtime>,
	frame_system::CheckNonZeroSender<Runtime>,
	frame_system::CheckSpecVersion<Runtime>,
	frame_system::CheckTxVersion<Runtime>,
	frame_system::CheckGenesis<Runtime>,
	frame_system::CheckEra<Runtime>,
	frame_system::CheckNonce<Runtime>,
	frame_system::CheckWeight<Runtime>,
	pallet_transaction_payment::ChargeTransactionPayment<Runtime>,
	frame_system::WeightReclaim<Runtime>,
);

/// Unchecked extrinsic type as expected by this runtime.
pub type UncheckedExtrinsic =
	generic::UncheckedExtrinsic<Address, RuntimeCall, Signature, TxExtension>;

/// The payload being signed in transactions.
pub type SignedPayload = generic::SignedPayload<RuntimeCall, TxExtension>;

/// Runtime migrations besides the pallets' own.
#[allow(unused_parens)]
type Migrations = ();

/// Executive: dispatches to the pallets.
pub type Executive = frame_executive::Executive<
	Runtime,
	Block,
	frame_system::ChainContext<Runtime>,
	Runtime,
	AllPalletsWithSystem,
	Migrations,
>;

#[frame_support::runtime]
mod runtime {
	// The runtime.
	#[runtime::runtime]
	#[runtime::derive(
		RuntimeCall,
		RuntimeEvent,
		RuntimeError,
		RuntimeOrigin,
		RuntimeFreezeReason,
		RuntimeHoldReason,
		RuntimeSlashReason,
		RuntimeLockId,
		RuntimeTask,
		RuntimeViewFunction
	)]
	pub struct Runtime;

	// Accounts, blocks, events.
	#[runtime::pallet_index(0)]
	pub type System = frame_system;

	// The timestamp inherent.
	#[runtime::pallet_index(1)]
	pub type Timestamp = pallet_timestamp;

	// Aura block authoring.
	// Session rotation runs before Aura's hooks, so Aura authors with the session's set.
	#[runtime::pallet_index(7)]
	pub type CollatorSelection = pallet_collator_selection;

	#[runtime::pallet_index(8)]
	pub type Session = pallet_session;

	#[runtime::pallet_index(2)]
	pub type Aura = pallet_aura;

	// The native token.
	#[runtime::pallet_index(3)]
	pub type Balances = pallet_balances;

	// Transaction fees.
	#[runtime::pallet_index(4)]
	pub type TransactionPayment = pallet_transaction_payment;

	// The devnet's superuser.
	#[runtime::pallet_index(5)]
	pub type Sudo = pallet_sudo;

	// Checkpoint finality: authorities, set id, interval.
	#[runtime::pallet_index(6)]
	pub type Checkpoint = pallet_checkpoint;

	#[runtime::pallet_index(9)]
	pub type Historical = pallet_session::historical;

	#[runtime::pallet_index(10)]
	pub type Offences = pallet_offences;
}
