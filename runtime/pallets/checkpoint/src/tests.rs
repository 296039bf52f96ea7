//! Genesis, getter and set-change tests of the checkpoint pallet.

use crate::{
	mock::*, Authorities, AuthorityId, AuthoritySet, CheckpointInterval, CurrentSetId, Error,
	Event, ForcedChange, GenesisError, PendingChange, QueuedSet, SetIdSessions,
	DEFAULT_CHECKPOINT_INTERVAL,
};
use frame_support::{
	assert_noop, assert_ok,
	traits::{Hooks, OneSessionHandler},
	BoundedVec,
};
use sp_finality_checkpoint::{find_forced_change, find_scheduled_change};
use sp_runtime::{BoundToRuntimeAppPublic, RuntimeAppPublic};

/// Runs block `number` as the runtime does: a new session with `session` as validators if
/// given (pallet-session's hook runs first, with the next session index), then the pallet's
/// `on_initialize`. Returns the set
/// change the block's header signals.
fn run_block(number: u64, session: Option<&[AuthorityId]>) -> Option<AuthoritySet> {
	System::reset_events();
	System::set_block_number(number - 1);
	System::initialize(&number, &Default::default(), &Default::default());
	if let Some(keys) = session {
		let accounts: Vec<u64> = (0..keys.len() as u64).collect();
		let validators = || accounts.iter().zip(keys.iter().cloned());
		CurrentSession::set(CurrentSession::get() + 1);
		Checkpoint::on_new_session(true, validators(), validators());
	}
	Checkpoint::on_initialize(number);
	find_scheduled_change(&System::finalize())
}

fn events() -> Vec<Event<Test>> {
	System::events()
		.into_iter()
		.filter_map(|record| match record.event {
			RuntimeEvent::Checkpoint(event) => Some(event),
			_ => None,
		})
		.collect()
}

#[test]
fn a_new_set_is_signalled_in_the_header_of_the_next_checkpoint_block() {
	let genesis_set = vec![authority(1), authority(2)];
	let next_set = vec![authority(2), authority(3)];
	new_test_ext(genesis(genesis_set.clone(), 5)).execute_with(|| {
		// The session at block 7 queues the set; checkpoint block 10 signals it.
		assert_eq!(run_block(7, Some(&next_set)), None);
		assert_eq!(QueuedSet::<Test>::get().unwrap().into_inner(), next_set);
		assert_eq!(run_block(8, None), None);
		let signal = run_block(10, None);
		assert_eq!(signal, Some(AuthoritySet { id: 1, authorities: next_set.clone() }));
		assert_eq!(events(), vec![Event::ChangeSignalled { set_id: 1 }]);
		assert_eq!(QueuedSet::<Test>::get(), None);
		// Signalled, not enacted: the current set is still the genesis set.
		assert_eq!(Checkpoint::current_set(), AuthoritySet { id: 0, authorities: genesis_set });
		let pending = Checkpoint::pending_change().expect("a change is pending");
		assert_eq!(pending.set, AuthoritySet { id: 1, authorities: next_set.clone() });
		assert_eq!(pending.signalled_at, 10);
		// From the next checkpoint block on, the new set's votes can exist.
		assert_eq!(run_block(14, None), None);
		assert!(PendingChange::<Test>::exists());
		assert_eq!(run_block(15, None), None);
		assert_eq!(events(), vec![Event::NewAuthorities { set_id: 1 }]);
		assert_eq!(Checkpoint::current_set(), AuthoritySet { id: 1, authorities: next_set });
		assert_eq!(Checkpoint::pending_change(), None);
	});
}

#[test]
fn a_session_at_a_checkpoint_block_signals_in_that_block() {
	new_test_ext(genesis(vec![authority(1)], 5)).execute_with(|| {
		let signal = run_block(20, Some(&[authority(2)]));
		assert_eq!(signal, Some(AuthoritySet { id: 1, authorities: vec![authority(2)] }));
	});
}

#[test]
fn a_session_without_a_new_set_signals_nothing() {
	let set = vec![authority(1), authority(2)];
	new_test_ext(genesis(set.clone(), 5)).execute_with(|| {
		assert_eq!(run_block(10, Some(&set)), None);
		assert!(events().is_empty());
		// A session with no validators is never signalled: no set could finalize.
		assert_eq!(run_block(15, Some(&[])), None);
		// A change that is undone by the next session before it is signalled is dropped.
		assert_eq!(run_block(16, Some(&[authority(3)])), None);
		assert_eq!(run_block(17, Some(&set)), None);
		assert_eq!(run_block(20, None), None);
		assert_eq!(Checkpoint::pending_change(), None);
		assert_eq!(Checkpoint::current_set(), AuthoritySet { id: 0, authorities: set });
	});
}

#[test]
fn one_change_is_pending_at_a_time_and_the_next_one_waits_for_its_enactment() {
	let first = vec![authority(2), authority(3)];
	let second = vec![authority(3), authority(4)];
	new_test_ext(genesis(vec![authority(1), authority(2)], 5)).execute_with(|| {
		assert!(run_block(10, Some(&first)).is_some());
		// The set changes again while the first change is pending: queued, not signalled.
		assert_eq!(run_block(12, Some(&second)), None);
		assert_eq!(Checkpoint::pending_change().unwrap().set.authorities, first);
		// Block 15 enacts the first change on chain and, a checkpoint block, signals the second.
		let signal = run_block(15, None);
		assert_eq!(signal, Some(AuthoritySet { id: 2, authorities: second.clone() }));
		assert_eq!(
			events(),
			vec![Event::NewAuthorities { set_id: 1 }, Event::ChangeSignalled { set_id: 2 }]
		);
		assert_eq!(Checkpoint::current_set(), AuthoritySet { id: 1, authorities: first });
	});
}

#[test]
fn each_set_knows_the_sessions_it_was_current_in() {
	let sets = [vec![authority(2)], vec![authority(3)], vec![authority(4)], vec![authority(1)]];
	new_test_ext(genesis(vec![authority(1)], 5)).execute_with(|| {
		assert_eq!(SetIdSessions::<Test>::get(0), Some((0, 0)));
		// Session 1 queues set 1, block 10 signals it, block 15 enacts it: set 0 was current in
		// sessions 0 and 1, set 1 from session 1 on.
		run_block(7, Some(&sets[0]));
		run_block(10, None);
		run_block(15, None);
		assert_eq!(SetIdSessions::<Test>::get(0), Some((0, 1)));
		assert_eq!(SetIdSessions::<Test>::get(1), Some((1, 1)));
		assert!(Checkpoint::set_current_in_session(0, 1));
		assert!(!Checkpoint::set_current_in_session(1, 0));
		// Sessions 2 and 3 pass in set 1.
		run_block(17, Some(&sets[0]));
		run_block(18, Some(&sets[0]));
		assert_eq!(SetIdSessions::<Test>::get(1), Some((1, 3)));
		// Three more changes: with `MaxSetIdSessionEntries` 3, the oldest sets are forgotten
		// and can no longer be reported.
		for (i, set) in sets[1..].iter().enumerate() {
			let block = 20 + 10 * i as u64;
			run_block(block, Some(set));
			run_block(block + 5, None);
		}
		assert_eq!(Checkpoint::set_id(), 4);
		assert_eq!(SetIdSessions::<Test>::get(0), None);
		assert_eq!(SetIdSessions::<Test>::get(1), None);
		assert_eq!(SetIdSessions::<Test>::get(2), Some((4, 5)));
		assert_eq!(SetIdSessions::<Test>::get(4), Some((6, 6)));
	});
}

#[test]
fn enactment_height_is_the_checkpoint_after_the_first_one_at_or_above_the_signal() {
	new_test_ext(genesis(vec![authority(1)], 5)).execute_with(|| {
		assert_eq!(Checkpoint::enacted_on_chain_at(10), 15);
		assert_eq!(Checkpoint::enacted_on_chain_at(11), 20);
		assert_eq!(Checkpoint::enacted_on_chain_at(1), 10);
	});
	new_test_ext(genesis(vec![authority(1)], 1)).execute_with(|| {
		assert_eq!(Checkpoint::enacted_on_chain_at(7), 8);
	});
}

#[test]
fn the_genesis_session_sets_the_genesis_authorities() {
	new_test_ext(genesis(Vec::new(), 5)).execute_with(|| {
		let keys = [authority(1), authority(2)];
		let accounts = [0u64, 1];
		Checkpoint::on_genesis_session(accounts.iter().zip(keys.iter().cloned()));
		assert_eq!(Checkpoint::current_set(), AuthoritySet { id: 0, authorities: keys.to_vec() });
	});
}

#[test]
#[should_panic(expected = "not both")]
fn genesis_authorities_come_from_one_place() {
	new_test_ext(genesis(vec![authority(1)], 5)).execute_with(|| {
		Checkpoint::on_genesis_session([(&0u64, authority(2))].into_iter());
	});
}

#[test]
fn genesis_builds_authorities_set_id_and_interval() {
	let authorities = vec![authority(1), authority(2), authority(3)];
	new_test_ext(genesis(authorities.clone(), 7)).execute_with(|| {
		assert_eq!(Checkpoint::authorities(), authorities);
		assert_eq!(Authorities::<Test>::get().into_inner(), authorities);
		assert_eq!(Checkpoint::set_id(), 0);
		assert_eq!(CurrentSetId::<Test>::get(), 0);
		assert_eq!(Checkpoint::checkpoint_interval(), 7);
		assert_eq!(CheckpointInterval::<Test>::get(), 7);
	});
}

#[test]
fn default_genesis_is_valid_and_uses_default_interval() {
	let config = crate::GenesisConfig::<Test>::default();
	assert_eq!(config.checkpoint_interval, DEFAULT_CHECKPOINT_INTERVAL);
	assert_eq!(config.validate(), Ok(()));
	new_test_ext(config).execute_with(|| {
		assert!(Checkpoint::authorities().is_empty());
		assert_eq!(Checkpoint::checkpoint_interval(), DEFAULT_CHECKPOINT_INTERVAL);
	});
}

#[test]
fn interval_zero_is_rejected() {
	assert_eq!(genesis(vec![authority(1)], 0).validate(), Err(GenesisError::ZeroInterval));
}

#[test]
#[should_panic(expected = "checkpoint_interval must be at least 1")]
fn interval_zero_fails_genesis_build() {
	new_test_ext(genesis(vec![authority(1)], 0));
}

#[test]
fn duplicate_authority_is_rejected() {
	let config = genesis(vec![authority(1), authority(2), authority(1)], 5);
	assert_eq!(config.validate(), Err(GenesisError::DuplicateAuthority { index: 2 }));
}

#[test]
#[should_panic(expected = "appears twice")]
fn duplicate_authority_fails_genesis_build() {
	new_test_ext(genesis(vec![authority(1), authority(1)], 5));
}

#[test]
fn too_many_authorities_are_rejected() {
	let authorities: Vec<_> = (1..=MAX_AUTHORITIES as u8 + 1).map(authority).collect();
	assert_eq!(
		genesis(authorities, 5).validate(),
		Err(GenesisError::TooManyAuthorities { count: MAX_AUTHORITIES + 1, max: MAX_AUTHORITIES })
	);
	let full: Vec<_> = (1..=MAX_AUTHORITIES as u8).map(authority).collect();
	assert_eq!(genesis(full, 5).validate(), Ok(()));
}

#[test]
fn session_key_is_the_ckpt_key() {
	type Public = <Checkpoint as BoundToRuntimeAppPublic>::Public;
	assert_eq!(<Public as RuntimeAppPublic>::ID, sp_finality_checkpoint::KEY_TYPE);
}

#[test]
fn root_forces_a_change_that_takes_effect_after_the_delay() {
	let genesis_set = vec![authority(1), authority(2), authority(3), authority(4)];
	let survivors = vec![authority(1), authority(2)];
	new_test_ext(genesis(genesis_set, 5)).execute_with(|| {
		// A change that the gone set would have to finalize is pending, another queued.
		run_block(7, Some(&[authority(1), authority(2), authority(3)]));
		assert!(run_block(10, None).is_some());
		run_block(12, Some(&[authority(1), authority(3)]));
		assert!(QueuedSet::<Test>::exists());

		System::reset_events();
		System::initialize(&13, &Default::default(), &Default::default());
		Checkpoint::on_initialize(13);
		let set = BoundedVec::truncate_from(survivors.clone());
		assert_noop!(
			Checkpoint::force_change(RuntimeOrigin::signed(1), set.clone(), 3),
			sp_runtime::DispatchError::BadOrigin
		);
		assert_noop!(
			Checkpoint::force_change(RuntimeOrigin::root(), BoundedVec::new(), 3),
			Error::<Test>::EmptySet
		);
		assert_ok!(Checkpoint::force_change(RuntimeOrigin::root(), set.clone(), 3));
		assert_noop!(
			Checkpoint::force_change(RuntimeOrigin::root(), set, 3),
			Error::<Test>::ForcedChangePending
		);
		// The id after every set signalled, the pending change's (1) included: nodes hold that
		// set under id 1, and one id names one set. Signalled in this header; the pending
		// change and the queued set are dropped.
		let forced = AuthoritySet { id: 2, authorities: survivors.clone() };
		assert_eq!(find_forced_change(&System::finalize()), Some((3, forced.clone())));
		assert_eq!(events(), vec![Event::ChangeForced { set_id: 2, effective_at: 16 }]);
		assert!(!PendingChange::<Test>::exists() && !QueuedSet::<Test>::exists());

		// Nothing moves, and nothing is signalled, until block 16.
		assert_eq!(run_block(15, Some(&[authority(3)])), None);
		assert_eq!(Checkpoint::current_set().id, 0);
		assert_eq!(run_block(16, None), None);
		assert_eq!(events(), vec![Event::NewAuthorities { set_id: 2 }]);
		assert_eq!(Checkpoint::current_set(), forced);
		assert!(!ForcedChange::<Test>::exists());
		// The session queued before is signalled as the next change.
		assert_eq!(
			run_block(20, None),
			Some(AuthoritySet { id: 3, authorities: vec![authority(3)] })
		);
	});
}
