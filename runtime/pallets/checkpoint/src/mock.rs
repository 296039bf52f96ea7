//! A test runtime with System and the checkpoint pallet. The tests play pallet-session's part
//! by calling the pallet's `OneSessionHandler` themselves.

use crate as pallet_checkpoint;
use crate::AuthorityId;
use frame_support::{
	derive_impl, parameter_types,
	traits::{ConstU32, ConstU64},
};
use sp_keystore::{testing::MemoryKeystore, KeystoreExt};
use sp_runtime::BuildStorage;

type Block = frame_system::mocking::MockBlock<Test>;

frame_support::construct_runtime!(
	pub enum Test {
		System: frame_system,
		Checkpoint: pallet_checkpoint,
	}
);

#[derive_impl(frame_system::config_preludes::TestDefaultConfig)]
impl frame_system::Config for Test {
	type Block = Block;
}

/// `MaxAuthorities` of the test runtime.
pub const MAX_AUTHORITIES: u32 = 4;

parameter_types! {
	/// The session index the tests set, as pallet-session's `current_index` would be.
	pub static CurrentSession: u32 = 0;
}

impl pallet_checkpoint::Config for Test {
	type RuntimeEvent = RuntimeEvent;
	type MaxAuthorities = ConstU32<MAX_AUTHORITIES>;
	type CurrentSession = CurrentSession;
	type MaxSetIdSessionEntries = ConstU64<3>;
	type KeyOwnerProof = sp_session::MembershipProof;
	// Reports are checked end to end in the runtime's tests, with the historical proofs.
	type EquivocationReportSystem = ();
	type WeightInfo = ();
}

/// A distinct test authority key for every `n`.
pub fn authority(n: u8) -> AuthorityId {
	sp_core::ed25519::Public::from_raw([n; 32]).into()
}

/// The pallet's genesis config for these authorities and interval.
pub fn genesis(
	authorities: Vec<AuthorityId>,
	checkpoint_interval: u32,
) -> pallet_checkpoint::GenesisConfig<Test> {
	pallet_checkpoint::GenesisConfig { authorities, checkpoint_interval, ..Default::default() }
}

/// Externalities built from `config`, with a keystore (the benchmarks sign votes with a key
/// they generate, as in the benchmark CLI's); panics as genesis does on an invalid config.
pub fn new_test_ext(config: pallet_checkpoint::GenesisConfig<Test>) -> sp_io::TestExternalities {
	let mut ext: sp_io::TestExternalities =
		RuntimeGenesisConfig { system: Default::default(), checkpoint: config }
			.build_storage()
			.expect("genesis storage builds")
			.into();
	ext.register_extension(KeystoreExt::new(MemoryKeystore::new()));
	ext
}
