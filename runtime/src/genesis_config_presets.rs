//! Genesis config presets: `development` (`--dev`, Alice alone) and `local_testnet`
//! (`--chain local`, Alice, Bob, Charlie and Dave).
//!
//! Every validator has an Aura key (sr25519) and a checkpoint key (`ckpt`, ed25519), both the
//! well-known dev keys of its name, as `--alice`, `--bob`, … put them into the keystore.

use crate::{
	AccountId, BalancesConfig, CheckpointConfig, RuntimeGenesisConfig, SudoConfig,
	DEFAULT_CHECKPOINT_INTERVAL, UNIT,
};
use alloc::{vec, vec::Vec};
use frame_support::build_struct_json_patch;
use serde_json::Value;
use sp_consensus_aura::sr25519::AuthorityId as AuraId;
use sp_finality_checkpoint::AuthorityId as CheckpointId;
use sp_genesis_builder::PresetId;
use sp_keyring::{Ed25519Keyring, Sr25519Keyring};

/// Balance of every endowed dev account.
const ENDOWMENT: u128 = 1_000_000 * UNIT;

/// The Aura and checkpoint keys of a dev validator.
fn authority_keys(validator: Sr25519Keyring, checkpoint: Ed25519Keyring) -> (AuraId, CheckpointId) {
	(validator.public().into(), checkpoint.public().into())
}

/// The genesis patch for these validators, endowed accounts, sudo key and checkpoint interval.
fn testnet_genesis(
	authorities: Vec<(AuraId, CheckpointId)>,
	endowed_accounts: Vec<AccountId>,
	root: AccountId,
	checkpoint_interval: u32,
) -> Value {
	build_struct_json_patch!(RuntimeGenesisConfig {
		balances: BalancesConfig {
			balances: endowed_accounts.into_iter().map(|k| (k, ENDOWMENT)).collect::<Vec<_>>(),
		},
		aura: pallet_aura::GenesisConfig {
			authorities: authorities.iter().map(|(aura, _)| aura.clone()).collect::<Vec<_>>(),
		},
		checkpoint: CheckpointConfig {
			authorities: authorities.iter().map(|(_, ckpt)| ckpt.clone()).collect::<Vec<_>>(),
			checkpoint_interval,
		},
		sudo: SudoConfig { key: Some(root) },
	})
}

/// The well-known dev accounts (Alice … Ferdie and their stashes), all endowed.
fn dev_accounts() -> Vec<AccountId> {
	Sr25519Keyring::well_known().map(|k| k.to_account_id()).collect()
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

#[cfg(test)]
mod tests {
	use super::*;
	use sp_runtime::BuildStorage;

	/// The full genesis config of a preset: its patch over the default config.
	fn preset_config(id: &str) -> RuntimeGenesisConfig {
		let patch: Value =
			serde_json::from_slice(&get_preset(&id.into()).expect("preset exists")).unwrap();
		let mut config = serde_json::to_value(RuntimeGenesisConfig::default()).unwrap();
		json_merge(&mut config, patch);
		serde_json::from_value(config).expect("preset patch fits the genesis config")
	}

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

	#[test]
	fn presets_build() {
		for id in preset_names() {
			let config = preset_config(&id);
			assert_eq!(config.checkpoint.checkpoint_interval, DEFAULT_CHECKPOINT_INTERVAL);
			assert_eq!(config.aura.authorities.len(), config.checkpoint.authorities.len());
			config.build_storage().expect("preset genesis builds");
		}
	}

	#[test]
	fn local_has_four_authorities() {
		let config = preset_config(sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET);
		assert_eq!(config.checkpoint.authorities.len(), 4);
		let dev = preset_config(sp_genesis_builder::DEV_RUNTIME_PRESET);
		assert_eq!(
			dev.checkpoint.authorities,
			vec![CheckpointId::from(Ed25519Keyring::Alice.public())]
		);
	}
}
