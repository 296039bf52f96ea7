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

/// `checkpoint-node chain-spec`: the chain spec of a chain of your own, in one command.
///
/// Each `--validator` is `ACCOUNT:AURA:CKPT`: the validator's account, its Aura key (sr25519)
/// and its checkpoint key (`ckpt`, ed25519), each an SS58 address or a `0x` public key as
/// `checkpoint-node key inspect` prints them. Validators become collator-selection's
/// invulnerables with those session keys; more than two thirds of them must be up to finalize.
#[derive(Debug, Clone, clap::Parser)]
pub struct ChainSpecCmd {
	/// The chain's name, shown by the node and wallets.
	#[arg(long)]
	pub name: String,

	/// The chain's id: also the directory of its data under the base path (`chains/<id>`).
	#[arg(long)]
	pub id: String,

	/// `live`, `local` or `development`.
	#[arg(long, default_value = "live", value_parser = ["live", "local", "development"])]
	pub chain_type: String,

	/// A validator, `ACCOUNT:AURA:CKPT`; once per validator.
	#[arg(long = "validator", value_name = "ACCOUNT:AURA:CKPT", required = true)]
	pub validators: Vec<String>,

	/// The sudo key's account (governance: set changes, runtime upgrades).
	#[arg(long, value_name = "ACCOUNT")]
	pub sudo: String,

	/// An endowed account, `ACCOUNT` (the default balance) or `ACCOUNT=BALANCE` (in plancks,
	/// 10^12 to a unit); once per account. The sudo account is always endowed.
	#[arg(long = "endow", value_name = "ACCOUNT[=BALANCE]")]
	pub endowed: Vec<String>,

	/// Blocks between checkpoint blocks.
	#[arg(long, default_value_t = checkpoint_runtime::DEFAULT_CHECKPOINT_INTERVAL)]
	pub checkpoint_interval: u32,

	/// A boot node's multiaddress; once per boot node.
	#[arg(long = "bootnode", value_name = "MULTIADDR")]
	pub bootnodes: Vec<String>,

	/// Write the raw spec (the genesis storage itself), as every node of the chain should get.
	#[arg(long)]
	pub raw: bool,
}

/// `text` as an SS58 address or a `0x` hex public key of type `T`, or why not.
fn public<T: sp_core::crypto::Ss58Codec + for<'a> TryFrom<&'a [u8]>>(
	text: &str,
	what: &str,
) -> Result<T, String> {
	if let Some(hex) = text.strip_prefix("0x") {
		let bytes = sp_core::bytes::from_hex(hex).map_err(|e| format!("{what} {text}: {e}"))?;
		return T::try_from(&bytes[..]).map_err(|_| format!("{what} {text}: wrong length"));
	}
	T::from_ss58check(text).map_err(|e| format!("{what} {text}: {e:?}"))
}

impl ChainSpecCmd {
	/// The chain spec these arguments describe.
	pub fn chain_spec(&self) -> Result<ChainSpec, String> {
		use checkpoint_runtime::{genesis_config_presets, AccountId};
		use sp_core::{ed25519, sr25519};
		let account = |text: &str| public::<sr25519::Public>(text, "account").map(AccountId::from);
		let mut validators = Vec::new();
		for validator in &self.validators {
			let [who, aura, ckpt] = validator.split(':').collect::<Vec<_>>()[..] else {
				return Err(format!("--validator {validator}: expected ACCOUNT:AURA:CKPT"));
			};
			let aura = public::<sr25519::Public>(aura, "Aura key")?;
			let ckpt = public::<ed25519::Public>(ckpt, "checkpoint key")?;
			validators.push((account(who)?, aura.into(), ckpt.into()));
		}
		for (i, (who, aura, ckpt)) in validators.iter().enumerate() {
			let twice = validators[..i].iter().any(|(w, a, c)| w == who || a == aura || c == ckpt);
			if twice {
				return Err(format!("--validator {}: an account or key twice", self.validators[i]));
			}
		}
		if self.checkpoint_interval == 0 {
			return Err("--checkpoint-interval must be at least 1".into());
		}
		let root = account(&self.sudo)?;
		let mut endowed = vec![(root.clone(), genesis_config_presets::ENDOWMENT)];
		for entry in &self.endowed {
			let (who, balance) = match entry.split_once('=') {
				Some((who, balance)) => {
					(who, balance.parse().map_err(|e| format!("--endow {entry}: {e}"))?)
				}
				None => (entry.as_str(), genesis_config_presets::ENDOWMENT),
			};
			let who = account(who)?;
			endowed.retain(|(w, _)| *w != who);
			endowed.push((who, balance));
		}
		let chain_type = match self.chain_type.as_str() {
			"development" => ChainType::Development,
			"local" => ChainType::Local,
			_ => ChainType::Live,
		};
		let boot_nodes = self
			.bootnodes
			.iter()
			.map(|a| a.parse().map_err(|e| format!("--bootnode {a}: {e}")))
			.collect::<Result<Vec<_>, String>>()?;
		let patch = genesis_config_presets::genesis_patch(
			validators,
			endowed,
			root,
			self.checkpoint_interval,
		);
		Ok(ChainSpec::builder(wasm_binary()?, None)
			.with_name(&self.name)
			.with_id(&self.id)
			.with_chain_type(chain_type)
			.with_protocol_id(PROTOCOL_ID)
			.with_properties(properties())
			.with_boot_nodes(boot_nodes)
			.with_genesis_config_patch(patch)
			.build())
	}

	/// Prints the chain spec as JSON, plain or raw.
	pub fn run(&self) -> sc_cli::Result<()> {
		let spec = self.chain_spec().map_err(sc_cli::Error::Input)?;
		let json = spec.as_json(self.raw).map_err(sc_cli::Error::Input)?;
		println!("{json}");
		Ok(())
	}
}
