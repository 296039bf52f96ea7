//! Genesis config presets: `development` (`--dev`, Alice alone) and `local_testnet`
//! (`--chain local`, Alice, Bob, Charlie and Dave).
//!
//! Every validator is an invulnerable of collator-selection with session keys: an Aura key
//! (sr25519) and a checkpoint key (`ckpt`, ed25519), both the well-known dev keys of its name,
//! as `--alice`, `--bob`, … put them into the keystore. The genesis session hands the keys to
//! Aura and the checkpoint pallet; their own authority lists stay empty.

use crate::{
	AccountId, Balance, BalancesConfig, CheckpointConfig, CollatorSelectionConfig,
	RuntimeGenesisConfig, SessionConfig, SessionKeys, SudoConfig, DEFAULT_CHECKPOINT_INTERVAL,
	UNIT,
};
use alloc::{vec, vec::Vec};
use frame_support::build_struct_json_patch;
use serde_json::Value;
use sp_consensus_aura::sr25519::AuthorityId as AuraId;
use sp_finality_checkpoint::AuthorityId as CheckpointId;
use sp_genesis_builder::PresetId;
use sp_keyring::{Ed25519Keyring, Sr25519Keyring};

/// Balance of every endowed dev account.
pub const ENDOWMENT: Balance = 1_000_000 * UNIT;

/// A dev validator: its account and session keys (Aura and checkpoint keys of its name).
fn authority_keys(
	validator: Sr25519Keyring,
	checkpoint: Ed25519Keyring,
) -> (AccountId, SessionKeys) {
	let aura: AuraId = validator.public().into();
	let checkpoint: CheckpointId = checkpoint.public().into();
	(validator.to_account_id(), SessionKeys { aura, checkpoint })
}

/// The genesis patch of a chain: its validators (account, Aura key, checkpoint key), each an
/// invulnerable of collator-selection with those session keys; the endowed accounts and their
/// balances; the sudo key and the checkpoint interval. What the presets and `checkpoint-node
/// chain-spec` build on.
pub fn genesis_patch(
	validators: Vec<(AccountId, AuraId, CheckpointId)>,
	endowed: Vec<(AccountId, Balance)>,
	root: AccountId,
	checkpoint_interval: u32,
) -> Value {
	let validators = validators
		.into_iter()
		.map(|(account, aura, checkpoint)| (account, SessionKeys { aura, checkpoint }))
		.collect();
	testnet_genesis(validators, endowed, root, checkpoint_interval)
}

/// The genesis patch for these validators, endowed accounts, sudo key and checkpoint interval.
fn testnet_genesis(
	validators: Vec<(AccountId, SessionKeys)>,
	endowed: Vec<(AccountId, Balance)>,
	root: AccountId,
	checkpoint_interval: u32,
) -> Value {
	build_struct_json_patch!(RuntimeGenesisConfig {
		balances: BalancesConfig { balances: endowed },
		collator_selection: CollatorSelectionConfig {
			invulnerables: validators
				.iter()
				.map(|(account, _)| account.clone())
				.collect::<Vec<_>>(),
		},
		session: SessionConfig {
			keys: validators
				.into_iter()
				.map(|(account, keys)| (account.clone(), account, keys))
				.collect::<Vec<_>>(),
		},
		checkpoint: CheckpointConfig { checkpoint_interval },
		sudo: SudoConfig { key: Some(root) },
	})
}

/// The well-known dev accounts (Alice … Ferdie and their stashes), all endowed.
fn dev_accounts() -> Vec<(AccountId, Balance)> {
	Sr25519Keyring::well_known().map(|k| (k.to_account_id(), ENDOWMENT)).collect()
}

/// `development`: Alice is the only Aura and checkpoint authority and the sudo key.
pub fn development_config_genesis() -> Value {
	testnet_genesis(
		vec![authority_keys(Sr25519Keyring::Alice, Ed25519Keyring::Alice)],
		dev_accounts(),
		Sr25519Keyring::Alice.to_account_id(),
		DEFAULT_CHECKPOINT_INTERVAL,
	)
}

/// `local_testnet`: Alice, Bob, Charlie and Dave are the authorities (one faulty validator is
/// tolerated); Alice is the sudo key.
pub fn local_config_genesis() -> Value {
	testnet_genesis(
		vec![
			authority_keys(Sr25519Keyring::Alice, Ed25519Keyring::Alice),
			authority_keys(Sr25519Keyring::Bob, Ed25519Keyring::Bob),
			authority_keys(Sr25519Keyring::Charlie, Ed25519Keyring::Charlie),
			authority_keys(Sr25519Keyring::Dave, Ed25519Keyring::Dave),
		],
		dev_accounts(),
		Sr25519Keyring::Alice.to_account_id(),
		DEFAULT_CHECKPOINT_INTERVAL,
	)
}

/// The JSON genesis patch of preset `id`, or `None` for an unknown preset.
pub fn get_preset(id: &PresetId) -> Option<Vec<u8>> {
	let patch = match id.as_ref() {
		sp_genesis_builder::DEV_RUNTIME_PRESET => development_config_genesis(),
		sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET => local_config_genesis(),
		_ => return None,
	};
	Some(
		serde_json::to_string(&patch)
			.expect("serialization to json is expected to work; qed")
			.into_bytes(),
	)
}

/// The names of the presets.
pub fn preset_names() -> Vec<PresetId> {
	vec![
		PresetId::from(sp_genesis_builder::DEV_RUNTIME_PRESET),
		PresetId::from(sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET),
	]
}

/// The full genesis config of preset `id`: its patch over the default config.
#[cfg(test)]
pub(crate) fn preset_config(id: &str) -> RuntimeGenesisConfig {
	fn json_merge(base: &mut Value, patch: Value) {
		match (base, patch) {
			(Value::Object(base), Value::Object(patch)) => {
				for (key, value) in patch {
					json_merge(base.entry(key).or_insert(Value::Null), value);
				}
			}
			(base, patch) => *base = patch,
		}
	}
	let patch: Value =
		serde_json::from_slice(&get_preset(&id.into()).expect("preset exists")).unwrap();
	let mut config = serde_json::to_value(RuntimeGenesisConfig::default()).unwrap();
	json_merge(&mut config, patch);
	serde_json::from_value(config).expect("preset patch fits the genesis config")
}

#[cfg(test)]
mod tests {
	use super::*;
	use sp_runtime::BuildStorage;

	/// The Aura and checkpoint authorities of a preset's genesis state.
	fn genesis_authorities(id: &str) -> (Vec<AuraId>, Vec<CheckpointId>) {
		let config = preset_config(id);
		assert_eq!(config.checkpoint.checkpoint_interval, DEFAULT_CHECKPOINT_INTERVAL);
		sp_io::TestExternalities::new(config.build_storage().expect("preset genesis builds"))
			.execute_with(|| {
				(
					pallet_aura::Authorities::<crate::Runtime>::get().into_inner(),
					crate::Checkpoint::authorities(),
				)
			})
	}

	#[test]
	fn presets_build_with_one_validator_set_for_aura_and_checkpoints() {
		for id in preset_names() {
			let (aura, checkpoint) = genesis_authorities(&id);
			assert!(!aura.is_empty(), "{id:?}: no genesis validators");
			assert_eq!(aura.len(), checkpoint.len(), "{id:?}");
		}
	}

	#[test]
	fn local_has_four_authorities() {
		let (_, local) = genesis_authorities(sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET);
		assert_eq!(local.len(), 4);
		for name in [Ed25519Keyring::Alice, Ed25519Keyring::Bob, Ed25519Keyring::Dave] {
			assert!(local.contains(&name.public().into()), "{name:?} is no validator");
		}
		let (_, dev) = genesis_authorities(sp_genesis_builder::DEV_RUNTIME_PRESET);
		assert_eq!(dev, vec![CheckpointId::from(Ed25519Keyring::Alice.public())]);
	}
}
