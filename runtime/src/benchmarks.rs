//! The pallets `checkpoint-node benchmark pallet` can benchmark (feature `runtime-benchmarks`):
//! `--pallet <name>` takes a first name below. Only pallet-checkpoint's weights come from its own
//! benchmarks (`runtime/pallets/checkpoint/src/weights.rs`); the others run on the weights their
//! crates ship, and are listed for comparing those with this machine.

use super::Runtime;

// What the System and baseline benchmarks need of the runtime: their defaults. (At module level,
// not in `dispatch_benchmark` as in polkadot-sdk's template: rustc warns of `impl`s in a body.)
impl frame_system_benchmarking::Config for Runtime {}
impl frame_benchmarking::baseline::Config for Runtime {}

frame_benchmarking::define_benchmarks!(
	[frame_benchmarking, BaselineBench::<Runtime>]
	[frame_system, SystemBench::<Runtime>]
	[frame_system_extensions, SystemExtensionsBench::<Runtime>]
	[pallet_balances, Balances]
	[pallet_timestamp, Timestamp]
	[pallet_sudo, Sudo]
	[pallet_checkpoint, Checkpoint]
);
