//! Genesis and getter tests of the checkpoint pallet.

use crate::{
	mock::*, Authorities, CheckpointInterval, CurrentSetId, GenesisError,
	DEFAULT_CHECKPOINT_INTERVAL,
};
use sp_runtime::{BoundToRuntimeAppPublic, RuntimeAppPublic};

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
