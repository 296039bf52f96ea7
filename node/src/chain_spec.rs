//! The built-in chain specs, `--dev` and `--chain local`, from the runtime's genesis presets.

use checkpoint_runtime::WASM_BINARY;
use sc_service::{ChainType, Properties};

/// The chain spec type of the node (no extensions).
pub type ChainSpec = sc_service::GenericChainSpec;

/// Network protocol id of both built-in chains.
const PROTOCOL_ID: &str = "ckpt";

/// Token properties shown by wallets and explorers (`checkpoint_runtime::UNIT` is 10^12).
fn properties() -> Properties {
	let mut properties = Properties::new();
	properties.insert("tokenSymbol".into(), "CKPT".into());
	properties.insert("tokenDecimals".into(), 12.into());
	properties.insert("ss58Format".into(), 42.into());
	properties
}

/// The runtime's wasm, which only a build with the wasm builder enabled contains.
fn wasm_binary() -> Result<&'static [u8], String> {
	WASM_BINARY.ok_or_else(|| {
		"The runtime wasm is not available: the node was built with SKIP_WASM_BUILD. \
		 Rebuild without it to start a chain."
			.to_string()
	})
}

/// `--dev`: Alice alone authors and finalizes (runtime preset `development`).
pub fn development_chain_spec() -> Result<ChainSpec, String> {
	Ok(ChainSpec::builder(wasm_binary()?, None)
		.with_name("Development")
		.with_id("dev")
		.with_chain_type(ChainType::Development)
		.with_protocol_id(PROTOCOL_ID)
		.with_properties(properties())
		.with_genesis_config_preset_name(sp_genesis_builder::DEV_RUNTIME_PRESET)
		.build())
}

/// `--chain local`: Alice, Bob, Charlie and Dave author and finalize (runtime preset
/// `local_testnet`).
pub fn local_chain_spec() -> Result<ChainSpec, String> {
	Ok(ChainSpec::builder(wasm_binary()?, None)
		.with_name("Local Testnet")
		.with_id("local_testnet")
		.with_chain_type(ChainType::Local)
		.with_protocol_id(PROTOCOL_ID)
		.with_properties(properties())
		.with_genesis_config_preset_name(sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET)
		.build())
}
