//! # Checkpoint pallet
//!
//! The on-chain state of checkpoint finality: the authority set of checkpoint voters
//! ([`Authorities`], `ckpt` ed25519 keys), the id of that set ([`CurrentSetId`]) and the number
//! of blocks between two checkpoints ([`CheckpointInterval`], at least 1).
//!
//! Everything is fixed at genesis (see [`GenesisConfig`]); the pallet has no calls and no events.
//! The runtime exposes the state to the client through `sp_finality_checkpoint::CheckpointApi`
//! using the getters [`Pallet::authorities`], [`Pallet::set_id`] and
//! [`Pallet::checkpoint_interval`].
//!
//! The pallet implements [`sp_runtime::BoundToRuntimeAppPublic`] with the `ckpt` application
//! key, so a runtime can name it in `impl_opaque_keys!` and dev nodes (`--alice`) get their
//! checkpoint key generated into the keystore with the other session keys.

#![cfg_attr(not(feature = "std"), no_std)]
#![warn(missing_docs)]

extern crate alloc;

pub use pallet::*;
pub use sp_finality_checkpoint::{AuthorityId, SetId};

#[cfg(test)]
mod mock;
#[cfg(test)]
mod tests;

/// Blocks between two checkpoints when the genesis config does not say otherwise.
pub const DEFAULT_CHECKPOINT_INTERVAL: u32 = 5;

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
	use super::{AuthorityId, GenesisError, SetId, DEFAULT_CHECKPOINT_INTERVAL};
	use alloc::vec::Vec;
	use frame_support::pallet_prelude::*;
	use frame_system::pallet_prelude::BlockNumberFor;

	/// The checkpoint pallet.
	#[pallet::pallet]
	pub struct Pallet<T>(_);

	/// Configuration of the checkpoint pallet.
	#[pallet::config]
	pub trait Config: frame_system::Config {
		/// The most checkpoint authorities the set may hold.
		#[pallet::constant]
		type MaxAuthorities: Get<u32>;
	}

	/// The current checkpoint authority set, in validator-index order.
	#[pallet::storage]
	pub type Authorities<T: Config> =
		StorageValue<_, BoundedVec<AuthorityId, T::MaxAuthorities>, ValueQuery>;

	/// The id of the current authority set; 0 for the genesis set.
	#[pallet::storage]
	pub type CurrentSetId<T> = StorageValue<_, SetId, ValueQuery>;

	/// Blocks between two checkpoints (at least 1): checkpoint `k` is the block at `k * interval`.
	#[pallet::storage]
	pub type CheckpointInterval<T> =
		StorageValue<_, u32, ValueQuery, ConstU32<DEFAULT_CHECKPOINT_INTERVAL>>;

	/// Genesis state of the pallet.
	#[pallet::genesis_config]
	pub struct GenesisConfig<T: Config> {
		/// The genesis authority set (set id 0), in validator-index order. No key twice, at most
		/// `MaxAuthorities`.
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
			CheckpointInterval::<T>::put(self.checkpoint_interval);
		}
	}

	#[pallet::hooks]
	impl<T: Config> Hooks<BlockNumberFor<T>> for Pallet<T> {
		fn integrity_test() {
			assert!(T::MaxAuthorities::get() > 0, "pallet-checkpoint: MaxAuthorities must be > 0");
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
	}
}

impl<T: Config> sp_runtime::BoundToRuntimeAppPublic for Pallet<T> {
	type Public = AuthorityId;
}
