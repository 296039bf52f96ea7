//! Command line: `sc_cli::RunCmd` plus the `--checkpoint-*` flags, and the subcommands.

use sc_finality_checkpoint::{CheckpointPersistenceConfig, FinalityConfig};
use sc_service::DatabaseSource;
use std::{
	fs,
	io::{self, Write},
	path::Path,
};

/// The node's command line.
#[derive(Debug, clap::Parser)]
pub struct Cli {
	/// A subcommand; without one the node runs.
	#[command(subcommand)]
	pub subcommand: Option<Subcommand>,

	#[allow(missing_docs)]
	#[clap(flatten)]
	pub run: sc_cli::RunCmd,

	#[allow(missing_docs)]
	#[clap(flatten)]
	pub checkpoint: CheckpointCliParams,
}

/// `--checkpoint-persistence`: whether the checkpoint state is kept on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PersistenceMode {
	/// Persist votes, certificates and the finality watermark (the default).
	On,
	/// Keep the checkpoint state in memory only. For full nodes and throw-away devnets: a
	/// validator needs `--checkpoint-unsafe-persistence-off` as well, since without persistence
	/// it can double-vote after a restart.
	Off,
}

/// Flags of the checkpoint finality gadget's persistence.
#[derive(Debug, Clone, clap::Args)]
pub struct CheckpointCliParams {
	/// Epochs (two per checkpoint block) kept in the checkpoint database below the finalized
	/// one; older ones are pruned, but for the certificates of set changes.
	#[arg(
		long = "checkpoint-retention",
		value_name = "N",
		default_value_t = CheckpointPersistenceConfig::default().retention_checkpoints
	)]
	pub retention_checkpoints: u64,

	/// Seconds between flushes of buffered checkpoint votes to disk.
	#[arg(
		long = "checkpoint-flush-interval",
		value_name = "SECS",
		value_parser = clap::value_parser!(u64).range(1..),
		default_value_t = CheckpointPersistenceConfig::default().flush_interval_secs
	)]
	pub flush_interval_secs: u64,

	/// Seconds between prunes of old checkpoint data.
	#[arg(
		long = "checkpoint-prune-interval",
		value_name = "SECS",
		value_parser = clap::value_parser!(u64).range(1..),
		default_value_t = CheckpointPersistenceConfig::default().prune_interval_secs
	)]
	pub prune_interval_secs: u64,

	/// Persist the checkpoint state (`on`) or keep it in memory only (`off`; never on a
	/// validator).
	#[arg(
		long = "checkpoint-persistence",
		value_name = "MODE",
		value_enum,
		ignore_case = true,
		default_value_t = PersistenceMode::On
	)]
	pub persistence: PersistenceMode,

	/// Lets a validator run with `--checkpoint-persistence off`. Unsafe: after a restart it no
	/// longer knows its own votes, may sign conflicting ones (an equivocation that gets it
	/// reported and removed) and, on seeing its earlier votes come back through gossip, stops
	/// voting. For throw-away devnets only.
	#[arg(long = "checkpoint-unsafe-persistence-off")]
	pub unsafe_persistence_off: bool,

	/// Epochs above the finalized one that votes may target (two per checkpoint block, at
	/// least 4); votes further ahead are dropped. After a long outage validators catch up one
	/// window at a time. Every node of a chain should use the same value.
	#[arg(
		long = "checkpoint-vote-window",
		value_name = "EPOCHS",
		value_parser = clap::value_parser!(u64).range(4..),
		default_value_t = FinalityConfig::default().window
	)]
	pub vote_window: u64,
}

impl CheckpointCliParams {
	/// The gadget's persistence configuration these flags describe.
	pub fn persistence_config(&self) -> CheckpointPersistenceConfig {
		CheckpointPersistenceConfig {
			enabled: self.persistence == PersistenceMode::On,
			retention_checkpoints: self.retention_checkpoints,
			flush_interval_secs: self.flush_interval_secs,
			prune_interval_secs: self.prune_interval_secs,
		}
	}

	/// The state machine's configuration these flags describe.
	pub fn finality_config(&self) -> FinalityConfig {
		FinalityConfig { window: self.vote_window }
	}
}

/// The subcommands.
#[derive(Debug, clap::Subcommand)]
#[allow(clippy::large_enum_variant)]
pub enum Subcommand {
	/// Key management cli utilities
	#[command(subcommand)]
	Key(sc_cli::KeySubcommand),

	/// Build a chain specification.
	BuildSpec(sc_cli::BuildSpecCmd),

	/// Write the chain spec of a chain of your own: its validators' keys, sudo key, endowed
	/// accounts, checkpoint interval and boot nodes.
	ChainSpec(crate::chain_spec::ChainSpecCmd),

	/// Export a chain specification (`--chain dev|local|<path>`) to JSON, plain or raw.
	ExportChainSpec(sc_cli::ExportChainSpecCmd),

	/// Validate blocks.
	CheckBlock(sc_cli::CheckBlockCmd),

	/// Export blocks.
	ExportBlocks(sc_cli::ExportBlocksCmd),

	/// Export the state of a given block into a chain spec.
	ExportState(sc_cli::ExportStateCmd),

	/// Import blocks.
	ImportBlocks(sc_cli::ImportBlocksCmd),

	/// Remove the whole chain: the client database and the checkpoint database (the own-vote
	/// guard stays, unless `--unsafe-reset-own-vote-guard`).
	PurgeChain(PurgeChainWithCheckpointsCmd),

	/// Revert the chain to a previous state.
	Revert(sc_cli::RevertCmd),

	/// Db meta columns information.
	ChainInfo(sc_cli::ChainInfoCmd),

	/// Benchmark the runtime's pallets (`benchmark pallet`), to regenerate their weights; the
	/// other benchmark subcommands are not supported by this node.
	#[cfg(feature = "runtime-benchmarks")]
	#[command(subcommand)]
	Benchmark(frame_benchmarking_cli::BenchmarkCmd),

	/// Benchmark the runtime's pallets: needs a node built with `--features
	/// runtime-benchmarks`.
	#[cfg(not(feature = "runtime-benchmarks"))]
	Benchmark(BenchmarkNotBuiltCmd),
}

/// `benchmark …` in a node built without `--features runtime-benchmarks`: takes whatever
/// follows and refuses it, saying how to build a node that benchmarks.
#[cfg(not(feature = "runtime-benchmarks"))]
#[derive(Debug, Clone, clap::Args)]
pub struct BenchmarkNotBuiltCmd {
	/// The benchmark subcommand and its arguments (`pallet --pallet … --extrinsic …`).
	#[arg(trailing_var_arg = true, allow_hyphen_values = true)]
	pub args: Vec<String>,
}

/// Remove the whole chain: the client database and then the checkpoint database
/// (`<base>/chains/<id>/checkpoints`). One confirmation covers both; `-y` skips it.
///
/// The validator's own-vote guard (`<base>/chains/<id>/own-vote-guard`, the highest checkpoint
/// it signed) stays: a purged validator resyncs and votes again only above it, so it can never
/// sign a vote that conflicts with one it signed before the purge.
//
// `sc_cli::PurgeChainCmd` removes the client database; this wrapper adds the checkpoint one.
// Its name differs from the inner command's: clap names an argument group after the struct,
// and two groups named `PurgeChainCmd` make the subcommand panic at parse time.
#[derive(Debug, Clone, clap::Parser)]
pub struct PurgeChainWithCheckpointsCmd {
	#[allow(missing_docs)]
	#[clap(flatten)]
	pub inner: sc_cli::PurgeChainCmd,

	/// Also remove the own-vote guard. UNSAFE on a validator: after a resync it may sign votes
	/// that conflict with ones it signed before, and be reported for equivocation. Only for a
	/// key that never voted on this chain, or a chain that is thrown away.
	#[arg(long)]
	pub unsafe_reset_own_vote_guard: bool,
}

impl PurgeChainWithCheckpointsCmd {
	/// Removes the client database `database` and then the checkpoint database directory
	/// `checkpoint_db`, if present; the own-vote guard `guard` only with
	/// `--unsafe-reset-own-vote-guard`.
	pub fn run(
		&self,
		database: DatabaseSource,
		checkpoint_db: &Path,
		guard: &Path,
	) -> sc_cli::Result<()> {
		let Some(db_path) = database.path().and_then(|p| p.parent()).map(Path::to_path_buf) else {
			// A database without a path: sc-cli refuses it with its own error.
			return self.inner.run(database);
		};

		if !self.inner.yes {
			print!("Are you sure to remove {:?} and {:?}? [y/N]: ", db_path, checkpoint_db);
			io::stdout().flush()?;

			let mut input = String::new();
			io::stdin().read_line(&mut input)?;
			match input.trim().chars().next() {
				Some('y') | Some('Y') => {}
				_ => {
					println!("Aborted");
					return Ok(());
				}
			}
		}

		// Confirmed (or `-y`): sc-cli must not ask a second time.
		let mut confirmed = self.inner.clone();
		confirmed.yes = true;
		confirmed.run(database)?;

		match fs::remove_dir_all(checkpoint_db) {
			Ok(()) => println!("{:?} removed.", checkpoint_db),
			Err(err) if err.kind() == io::ErrorKind::NotFound => {
				eprintln!("{:?} did not exist.", checkpoint_db)
			}
			Err(err) => return Err(err.into()),
		}

		if !self.unsafe_reset_own_vote_guard {
			if guard.exists() {
				println!(
					"Kept the own-vote guard {:?}: this validator votes again only above the \
					 checkpoints it signed before (`--unsafe-reset-own-vote-guard` removes it).",
					guard
				);
			}
			return Ok(());
		}
		match fs::remove_file(guard) {
			Ok(()) => {
				eprintln!(
					"{:?} removed: this validator no longer knows what it signed and may \
					 double-vote after a resync.",
					guard
				);
				Ok(())
			}
			Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(()),
			Err(err) => Err(err.into()),
		}
	}
}
