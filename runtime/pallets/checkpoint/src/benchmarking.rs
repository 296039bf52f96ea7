//! Benchmarks of the checkpoint pallet: its two calls and the two paths of `on_initialize`.
//! `src/weights.rs` is generated from them (see its header).
//!
//! `report_equivocation_unsigned` is benchmarked as pallet-grandpa benchmarks its report: by the
//! part that does not depend on the runtime, the check of the two votes
//! (`check_equivocation_proof`: two ed25519 signature checks over the chain's genesis hash).
//! The key-ownership proof and the offence belong to the runtime's `EquivocationReportSystem`;
//! [`Pallet::report_equivocation_weight`] adds pallet-grandpa's estimates of them.
//!
//! The offender's key is generated in the keystore: the benchmark CLI provides one, and so do the
//! externalities of the test suite (`mock::new_test_ext`).

use super::*;
use alloc::vec::Vec;
use frame_benchmarking::v2::*;
use frame_support::{traits::Hooks, BoundedVec};
use frame_system::{pallet_prelude::BlockNumberFor, RawOrigin};
use sp_application_crypto::RuntimeAppPublic;
use sp_finality_checkpoint::{signing_payload, Checkpoint, EquivocationProof, Link};
use sp_runtime::traits::{Hash, One, Zero};

/// `n` distinct authority keys, other ones for every `tag`. Public keys only: none of them signs.
fn authorities<T: Config>(n: u32, tag: u8) -> BoundedVec<AuthorityId, T::MaxAuthorities> {
	let keys = (0..n)
		.map(|i| {
			let mut raw = [tag; 32];
			raw[..4].copy_from_slice(&i.to_le_bytes());
			AuthorityId::from(sp_application_crypto::ed25519::Public::from_raw(raw))
		})
		.collect::<Vec<_>>();
	BoundedVec::truncate_from(keys)
}

#[benchmarks]
mod benchmarks {
	use super::*;

	/// Root forces a set of `a` authorities while a change of the largest set is pending and
	/// another is queued, both dropped: the most work the call does.
	#[benchmark]
	fn force_change(a: Linear<1, { T::MaxAuthorities::get() }>) {
		let max = T::MaxAuthorities::get();
		PendingChange::<T>::put(StoredPendingChange {
			set_id: Pallet::<T>::set_id() + 1,
			authorities: authorities::<T>(max, 1),
			signalled_at: Zero::zero(),
		});
		QueuedSet::<T>::put(authorities::<T>(max, 2));
		let set = authorities::<T>(a, 3);

		#[extrinsic_call]
		_(RawOrigin::Root, set, 10);

		let forced = ForcedChange::<T>::get().expect("the change is forced");
		assert_eq!(forced.authorities.len(), a as usize);
		assert!(PendingChange::<T>::get().is_none());
		assert!(QueuedSet::<T>::get().is_none());
	}

	/// The check of a report's two votes (E1: two links to one target epoch, to two blocks):
	/// both of one set, conflicting, and signed by the offender over the genesis hash.
	#[benchmark]
	fn check_equivocation_proof() -> Result<(), BenchmarkError> {
		let offender = AuthorityId::generate_pair(None);
		let genesis_hash = frame_system::Pallet::<T>::block_hash(BlockNumberFor::<T>::zero());
		let set_id = Pallet::<T>::set_id();
		let vote = |target: &[u8]| {
			let link = Link {
				set_id,
				source: Checkpoint::new(0, genesis_hash),
				target: Checkpoint::new(2, T::Hashing::hash(target)),
			};
			let signature = offender.sign(&signing_payload(&genesis_hash, &link)).ok_or(
				BenchmarkError::Stop("the keystore does not sign with the offender's key"),
			)?;
			Ok::<_, BenchmarkError>((link, signature))
		};
		let proof = EquivocationProof {
			offender: offender.clone(),
			first: vote(b"first")?,
			second: vote(b"second")?,
		};

		#[block]
		{
			Pallet::<T>::check_equivocation_proof(&proof)
				.map_err(|_| BenchmarkError::Stop("the votes do not prove an equivocation"))?;
		}

		Ok(())
	}

	/// `on_initialize` of a checkpoint block with no change to enact and no set queued: the hook
	/// of most blocks. A block that is no checkpoint, or that waits for a change, reads less.
	#[benchmark]
	fn on_initialize_idle() {
		CheckpointInterval::<T>::put(1);
		ForcedChange::<T>::kill();
		PendingChange::<T>::kill();
		QueuedSet::<T>::kill();
		let now = frame_system::Pallet::<T>::block_number();
		let set_id = Pallet::<T>::set_id();

		#[block]
		{
			Pallet::<T>::on_initialize(now);
		}

		assert_eq!(Pallet::<T>::set_id(), set_id);
		assert!(PendingChange::<T>::get().is_none());
	}

	/// `on_initialize` of the checkpoint block that enacts a pending change of `a` authorities,
	/// forgets the sessions of the oldest set it kept, and signals a queued set of `a`
	/// authorities: the most the hook does in one block. Enacting a forced change takes the same
	/// reads and writes; while one waits, the hook does nothing else.
	#[benchmark]
	fn on_initialize_change(a: Linear<1, { T::MaxAuthorities::get() }>) {
		let now: BlockNumberFor<T> = 10u32.into();
		frame_system::Pallet::<T>::set_block_number(now);
		CheckpointInterval::<T>::put(1);
		// As many changes so far as `SetIdSessions` keeps: the next one forgets set 1.
		let set_id = T::MaxSetIdSessionEntries::get().max(1);
		CurrentSetId::<T>::put(set_id);
		SetIdSessions::<T>::insert(1, (0, 0));
		SetIdSessions::<T>::insert(set_id, (0, 0));
		// Signalled in the checkpoint block before: enacted at this one.
		PendingChange::<T>::put(StoredPendingChange {
			set_id: set_id + 1,
			authorities: authorities::<T>(a, 1),
			signalled_at: now - One::one(),
		});
		QueuedSet::<T>::put(authorities::<T>(a, 2));

		#[block]
		{
			Pallet::<T>::on_initialize(now);
		}

		assert_eq!(Pallet::<T>::set_id(), set_id + 1);
		assert_eq!(PendingChange::<T>::get().map(|pending| pending.set_id), Some(set_id + 2));
		assert!(QueuedSet::<T>::get().is_none());
	}

	impl_benchmark_test_suite!(
		Pallet,
		crate::mock::new_test_ext(crate::mock::genesis(vec![crate::mock::authority(1)], 1)),
		crate::mock::Test,
	);
}
