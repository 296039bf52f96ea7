//! Dispatch of the command line: the subcommands, or the node itself.

use crate::{
	asf_service, chain_spec,
	cli::{Cli, Subcommand},
};
use checkpoint_runtime::opaque::Block;
use sc_cli::SubstrateCli;
use sc_service::PartialComponents;

impl SubstrateCli for Cli {
	fn impl_name() -> String {
		"Checkpoint Node".into()
	}

	fn impl_version() -> String {
		env!("SUBSTRATE_CLI_IMPL_VERSION").into()
	}

	fn executable_name() -> String {
		// Fixed rather than taken from the file name, so that a renamed binary keeps using
		// the same default base path.
		"checkpoint-node".into()
	}

	fn description() -> String {
		env!("CARGO_PKG_DESCRIPTION").into()
	}

	fn author() -> String {
		match env!("CARGO_PKG_AUTHORS") {
			"" => "the checkpoint-node developers".into(),
			authors => authors.into(),
		}
	}

	fn support_url() -> String {
		// Printed after a panic ("Please report it at: …"). No public tracker yet.
		"the issue tracker of the checkpoint-node repository".into()
	}

	fn copyright_start_year() -> i32 {
		2026
	}

	fn load_spec(&self, id: &str) -> Result<Box<dyn sc_service::ChainSpec>, String> {
		Ok(match id {
			"dev" => Box::new(chain_spec::development_chain_spec()?),
			"" | "local" => Box::new(chain_spec::local_chain_spec()?),
			path => {
				Box::new(chain_spec::ChainSpec::from_json_file(std::path::PathBuf::from(path))?)
			}
		})
	}
}

/// Parses the command line and runs it.
pub fn run() -> sc_cli::Result<()> {
	let cli = Cli::from_args();

	match &cli.subcommand {
		Some(Subcommand::Key(cmd)) => cmd.run(&cli),
		Some(Subcommand::ChainSpec(cmd)) => cmd.run(),
		Some(Subcommand::BuildSpec(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.sync_run(|config| cmd.run(config.chain_spec, config.network))
		}
		Some(Subcommand::ExportChainSpec(cmd)) => {
			let chain_spec = cli.load_spec(&cmd.chain)?;
			cmd.run(chain_spec)
		}
		Some(Subcommand::CheckBlock(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.async_run(|config| {
				let PartialComponents { client, task_manager, import_queue, .. } =
					asf_service::new_partial(&config, cli.checkpoint.finality_config())?;
				Ok((cmd.run(client, import_queue), task_manager))
			})
		}
		Some(Subcommand::ExportBlocks(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.async_run(|config| {
				let PartialComponents { client, task_manager, .. } =
					asf_service::new_partial(&config, cli.checkpoint.finality_config())?;
				Ok((cmd.run(client, config.database), task_manager))
			})
		}
		Some(Subcommand::ExportState(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.async_run(|config| {
				let PartialComponents { client, task_manager, .. } =
					asf_service::new_partial(&config, cli.checkpoint.finality_config())?;
				Ok((cmd.run(client, config.chain_spec), task_manager))
			})
		}
		Some(Subcommand::ImportBlocks(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.async_run(|config| {
				let PartialComponents { client, task_manager, import_queue, .. } =
					asf_service::new_partial(&config, cli.checkpoint.finality_config())?;
				Ok((cmd.run(client, import_queue), task_manager))
			})
		}
		Some(Subcommand::PurgeChain(cmd)) => {
			let runner = cli.create_runner(&cmd.inner)?;
			runner.sync_run(|config| {
				let checkpoint_db = asf_service::checkpoint_db_path(&config);
				let guard = asf_service::own_vote_guard_path(&config);
				cmd.run(config.database, &checkpoint_db, &guard)
			})
		}
		Some(Subcommand::Revert(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.async_run(|config| {
				let PartialComponents { client, task_manager, backend, .. } =
					asf_service::new_partial(&config, cli.checkpoint.finality_config())?;
				// No auxiliary data to revert: only unfinalized blocks are reverted, and the
				// checkpoint database only holds state about finalized checkpoints and votes,
				// which the gadget reconciles with the client's chain on start.
				Ok((cmd.run(client, backend, None), task_manager))
			})
		}
		Some(Subcommand::ChainInfo(cmd)) => {
			let runner = cli.create_runner(cmd)?;
			runner.sync_run(|config| cmd.run::<Block>(&config))
		}
		#[cfg(feature = "runtime-benchmarks")]
		Some(Subcommand::Benchmark(cmd)) => {
			use frame_benchmarking_cli::BenchmarkCmd;
			let runner = cli.create_runner(cmd)?;
			runner.sync_run(|config| match cmd {
				BenchmarkCmd::Pallet(cmd) => {
					// The runtime of `--runtime` if given (the template's node always passes the
					// chain spec, which would win over it), else the one of `--chain`'s spec.
					let chain_spec = cmd.runtime.is_none().then_some(config.chain_spec);
					cmd.run_with_spec::<sp_runtime::traits::HashingFor<Block>, ()>(chain_spec)
				}
				_ => Err("This node supports only `benchmark pallet` (the pallets' weights); \
				          the other benchmark subcommands are not wired up in it."
					.into()),
			})
		}
		#[cfg(not(feature = "runtime-benchmarks"))]
		Some(Subcommand::Benchmark(_)) => Err("Runtime benchmarking wasn't enabled when building \
		                                       the node. You can enable it with `--features \
		                                       runtime-benchmarks`."
			.into()),
		None => {
			let runner = cli.create_runner(&cli.run)?;
			let checkpoint_persistence = cli.checkpoint.persistence_config();
			let finality_config = cli.checkpoint.finality_config();
			let unsafe_persistence_off = cli.checkpoint.unsafe_persistence_off;
			runner.run_node_until_exit(|config| async move {
				if config.role.is_authority()
					&& !checkpoint_persistence.enabled
					&& !unsafe_persistence_off
				{
					return Err(sc_cli::Error::Input(
						"`--checkpoint-persistence off` on a validator: after a restart it would \
						 not know its own checkpoint votes and could sign conflicting ones. Keep \
						 persistence on, or add `--checkpoint-unsafe-persistence-off` on a \
						 throw-away devnet"
							.into(),
					));
				}
				match config.network.network_backend {
					sc_network::config::NetworkBackendType::Libp2p => {
						asf_service::new_full::<
							sc_network::NetworkWorker<
								Block,
								<Block as sp_runtime::traits::Block>::Hash,
							>,
						>(config, checkpoint_persistence, finality_config)
						.map_err(sc_cli::Error::Service)
					}
					sc_network::config::NetworkBackendType::Litep2p => {
						asf_service::new_full::<sc_network::Litep2pNetworkBackend>(
							config,
							checkpoint_persistence,
							finality_config,
						)
						.map_err(sc_cli::Error::Service)
					}
				}
			})
		}
	}
}
