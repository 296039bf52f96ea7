//! The node's service: client, transaction pool, Aura import queue, network, RPC and Aura
//! block authoring. Finality comes from the checkpoint gadget (`sc-finality-checkpoint`);
//! there is no GRANDPA. The gadget's database is opened and restored before the network
//! starts; its worker and maintenance task are essential tasks.

use checkpoint_runtime::{apis::RuntimeApi, opaque::Block};
use futures::{future::BoxFuture, FutureExt};
use sc_client_api::{Backend, HeaderBackend};
use sc_consensus_aura::{BuildVerifierParams, SlotProportion, StartAuraParams};
use sc_finality_checkpoint::{
	note_signals_above_finality, CheckpointBlockImport, CheckpointDB, CheckpointFinality,
	CheckpointLink, CheckpointPersistenceConfig, CheckpointSelectChain, CheckpointStorageAdapter,
	CheckpointVerifier, CheckpointWarpSyncProvider, CheckpointWorkerParams, ClientAncestry,
	EquivocationReporter, FinalityConfig, GuardFile, GUARD_FILE_NAME,
	LOG_TARGET as CHECKPOINT_LOG_TARGET,
};
use sc_network_sync::strategy::warp::WarpSyncConfig;
use sc_service::{error::Error as ServiceError, Configuration, TaskManager};
use sc_telemetry::{Telemetry, TelemetryWorker};
use sc_transaction_pool_api::OffchainTransactionPoolFactory;
use sp_blockchain::Backend as _;
use sp_consensus_aura::{
	inherents::InherentDataProvider as AuraInherentDataProvider, sr25519::AuthorityPair as AuraPair,
};
use sp_runtime::traits::Block as BlockT;
use std::{path::PathBuf, sync::Arc};

/// The full client.
pub(crate) type FullClient = sc_service::TFullClient<
	Block,
	RuntimeApi,
	sc_executor::WasmExecutor<sp_io::SubstrateHostFunctions>,
>;
type FullBackend = sc_service::TFullBackend<Block>;
/// The best chain among the descendants of the highest justified checkpoint.
type FullSelectChain =
	CheckpointSelectChain<Block, FullClient, sc_consensus::LongestChain<FullBackend, Block>>;
/// The client's block import, verifying and applying `CKPT` justifications.
type FullBlockImport = CheckpointBlockImport<Block, FullBackend, FullClient, Arc<FullClient>>;

/// The parts `new_partial` builds; also what the chain subcommands (check-block, revert, …)
/// need.
pub type Service = sc_service::PartialComponents<
	FullClient,
	FullBackend,
	FullSelectChain,
	sc_consensus::DefaultImportQueue<Block>,
	sc_transaction_pool::TransactionPoolHandle<Block, FullClient>,
	(FullBlockImport, Option<Telemetry>, CheckpointLink<<Block as BlockT>::Hash>, u32),
>;

/// Where the checkpoint database lives: `<base>/chains/<chain id>/checkpoints`, beside the
/// client database. `purge-chain` removes it too.
pub fn checkpoint_db_path(config: &Configuration) -> PathBuf {
	config.base_path.config_dir(config.chain_spec.id()).join("checkpoints")
}

/// Where the validator's own-vote guard lives: `<base>/chains/<chain id>/own-vote-guard`,
/// beside the checkpoint database and not in it, so that `purge-chain` and moving a damaged
/// database aside keep it (only `purge-chain --unsafe-reset-own-vote-guard` removes it).
pub fn own_vote_guard_path(config: &Configuration) -> PathBuf {
	config.base_path.config_dir(config.chain_spec.id()).join(GUARD_FILE_NAME)
}

/// Spawns the transaction pool's essential tasks so that their end at shutdown is no failure.
///
/// sc-transaction-pool 48's blocking `txpool-background` task reads a std channel in a loop: it
/// never sees the task manager's exit signal, and ends when the pool, its sender, is dropped,
/// after the signal. sc-service takes the end of an essential task for a failure, so every
/// ordinary shutdown logged ``Essential task `txpool-background` failed``. A pool task ends
/// only when the pool is gone; here such an end waits for the exit signal instead. A panic
/// still fails the node.
#[derive(Clone)]
struct PoolTasks(sc_service::SpawnEssentialTaskHandle);

impl PoolTasks {
	/// `task`, then waiting for the exit signal (which ends every task) instead of ending.
	fn until_exit(task: BoxFuture<'static, ()>) -> BoxFuture<'static, ()> {
		async move {
			task.await;
			futures::future::pending::<()>().await
		}
		.boxed()
	}
}

impl sp_core::traits::SpawnEssentialNamed for PoolTasks {
	fn spawn_essential_blocking(
		&self,
		name: &'static str,
		group: Option<&'static str>,
		task: BoxFuture<'static, ()>,
	) {
		self.0.spawn_essential_blocking(name, group, Self::until_exit(task))
	}

	fn spawn_essential(
		&self,
		name: &'static str,
		group: Option<&'static str>,
		task: BoxFuture<'static, ()>,
	) {
		self.0.spawn_essential(name, group, Self::until_exit(task))
	}
}

/// Builds the client, backend, keystore, task manager, transaction pool, the checkpoint state
/// machine (with `finality_config`, not yet restored) and the Aura import queue.
pub fn new_partial(
	config: &Configuration,
	finality_config: FinalityConfig,
) -> Result<Service, ServiceError> {
	let telemetry = config
		.telemetry_endpoints
		.clone()
		.filter(|x| !x.is_empty())
		.map(|endpoints| -> Result<_, sc_telemetry::Error> {
			let worker = TelemetryWorker::new(16)?;
			let telemetry = worker.handle().new_telemetry(endpoints);
			Ok((worker, telemetry))
		})
		.transpose()?;

	let executor = sc_service::new_wasm_executor::<sp_io::SubstrateHostFunctions>(&config.executor);
	let (client, backend, keystore_container, task_manager) =
		sc_service::new_full_parts::<Block, RuntimeApi, _>(
			config,
			telemetry.as_ref().map(|(_, telemetry)| telemetry.handle()),
			executor,
			// Blocks carrying a certificate keep their bodies under block pruning: they are the
			// finality proofs a syncing node asks for.
			vec![Arc::new(|justifications: &sp_runtime::Justifications| {
				justifications.get(sp_finality_checkpoint::ENGINE_ID).is_some()
			})],
		)?;
	let client = Arc::new(client);

	let telemetry = telemetry.map(|(worker, telemetry)| {
		task_manager.spawn_handle().spawn("telemetry", None, worker.run());
		telemetry
	});

	// The gadget tracks the set from genesis through the changes finality enacted, restored from
	// its database, which stores the genesis set at its first start. The genesis state is read
	// on a new node; once state pruning has discarded it, the database's sets are what counts,
	// and the finalized state gives the interval.
	let info = client.info();
	let genesis = info.genesis_hash;
	let (voters, interval) = sc_finality_checkpoint::chain_params(&*client, genesis)
		.or_else(|_| sc_finality_checkpoint::chain_params(&*client, info.finalized_hash))
		.map_err(|e| ServiceError::Other(format!("checkpoint finality: {e}")))?;
	let mut gadget = CheckpointFinality::new(genesis, voters, finality_config);
	gadget.set_chain(Arc::new(ClientAncestry::new(client.clone())));
	// The worker owns the state once it runs; the rest holds a handle on it.
	let link = CheckpointLink::new(gadget);
	let finality = link.handle();
	let select_chain = CheckpointSelectChain::new(
		sc_consensus::LongestChain::new(backend.clone()),
		client.clone(),
		finality.clone(),
		interval,
	);

	let transaction_pool = Arc::new(
		sc_transaction_pool::Builder::new(
			PoolTasks(task_manager.spawn_essential_handle()),
			client.clone(),
			config.role.is_authority().into(),
		)
		.with_options(config.transaction_pool.clone())
		.with_prometheus(config.prometheus_registry())
		.build(),
	);

	// Justifications are verified against the set the gadget holds, never against the state of
	// the block they finalize.
	let block_import: FullBlockImport =
		CheckpointBlockImport::new(client.clone(), client.clone(), finality.clone(), interval)
			.with_metrics(config.prometheus_registry());

	let cidp_client = client.clone();
	let aura_verifier =
		sc_consensus_aura::build_verifier::<AuraPair, _, _, _>(BuildVerifierParams {
			client: client.clone(),
			create_inherent_data_providers: move |parent_hash, _| {
				let cidp_client = cidp_client.clone();
				async move {
					let slot_duration = sc_consensus_aura::standalone::slot_duration_at(
						&*cidp_client,
						parent_hash,
					)?;
					let timestamp = sp_timestamp::InherentDataProvider::from_system_time();
					let slot = AuraInherentDataProvider::from_timestamp_and_slot_duration(
						*timestamp,
						slot_duration,
					);
					Ok((slot, timestamp))
				}
			},
			check_for_equivocation: Default::default(),
			telemetry: telemetry.as_ref().map(|x| x.handle()),
			compatibility_mode: Default::default(),
		});
	// Aura's checks, then the `CKPT` justification a block comes with: a peer that sends one
	// that does not verify is dropped with a reputation cost.
	let import_queue = sc_consensus::BasicQueue::new(
		CheckpointVerifier::new(aura_verifier, finality.clone(), interval),
		Box::new(block_import.clone()),
		Some(Box::new(block_import.clone())),
		&task_manager.spawn_essential_handle(),
		config.prometheus_registry(),
	);

	Ok(sc_service::PartialComponents {
		client,
		backend,
		task_manager,
		import_queue,
		keystore_container,
		select_chain,
		transaction_pool,
		other: (block_import, telemetry, link, interval),
	})
}

/// Builds and starts a full node (a validator with `--validator`, `--alice`, … or `--dev`):
/// network, RPC, offchain workers and, on validators, Aura authoring.
/// `checkpoint_persistence` and `finality_config` come from the `--checkpoint-*` flags.
pub fn new_full<N: sc_network::NetworkBackend<Block, <Block as BlockT>::Hash>>(
	config: Configuration,
	checkpoint_persistence: CheckpointPersistenceConfig,
	finality_config: FinalityConfig,
) -> Result<TaskManager, ServiceError> {
	let sc_service::PartialComponents {
		client,
		backend,
		mut task_manager,
		import_queue,
		keystore_container,
		select_chain,
		transaction_pool,
		other: (block_import, mut telemetry, mut link, interval),
	} = new_partial(&config, finality_config)?;
	let finality = link.handle();

	let role = config.role;
	let force_authoring = config.force_authoring;
	let backoff_authoring_blocks: Option<()> = None;
	let prometheus_registry = config.prometheus_registry().cloned();

	if !checkpoint_persistence.enabled && role.is_authority() {
		log::warn!(
			target: CHECKPOINT_LOG_TARGET,
			"⚠️ Checkpoint persistence is OFF on a validator (--checkpoint-unsafe-persistence-off): \
			 after a restart it can sign conflicting checkpoint votes. Use \
			 `--checkpoint-persistence on` for anything but a throw-away devnet.",
		);
	}

	if !checkpoint_persistence.enabled {
		log::info!(
			target: CHECKPOINT_LOG_TARGET,
			"💭 Checkpoint persistence is off: votes, certificates and the finality watermark \
			 stay in memory and are gone after a restart; certificates are read from the blocks' \
			 justifications, and this node serves no finality or warp proofs",
		);
	}
	if checkpoint_persistence.enabled {
		let path = checkpoint_db_path(&config);
		let guard = GuardFile::at(own_vote_guard_path(&config));
		let checkpoint_error =
			|e: sc_finality_checkpoint::Error| ServiceError::Other(e.to_string());
		// Opening and restoring read the disk: off the async executor's thread.
		tokio::task::block_in_place(|| {
			let db = Arc::new(CheckpointDB::new(&path).map_err(checkpoint_error)?);
			let adapter = Arc::new(CheckpointStorageAdapter::new(db).with_guard_file(guard));
			let finality = link.finality_mut();
			finality.set_storage(adapter, checkpoint_persistence.clone());
			finality.restore_from_storage().map_err(checkpoint_error)
		})?;
		// The set changes signalled above finality, which block import noted before the
		// restart.
		let leaves =
			backend.blockchain().leaves().map_err(|e| ServiceError::Other(e.to_string()))?;
		note_signals_above_finality(&*client, link.finality_mut(), interval, leaves);
	}

	let mut net_config = sc_network::config::FullNetworkConfiguration::<
		Block,
		<Block as BlockT>::Hash,
		N,
	>::new(&config.network, prometheus_registry.clone());
	let metrics = N::register_notification_metrics(config.prometheus_registry());

	let checkpoint_protocol = sc_finality_checkpoint::protocol_name(
		client.info().genesis_hash,
		config.chain_spec.fork_id(),
	);
	let (checkpoint_protocol_config, checkpoint_notification_service) =
		sc_finality_checkpoint::notification_config::<Block, N>(
			checkpoint_protocol.clone(),
			metrics.clone(),
			net_config.peer_store_handle(),
		);
	net_config.add_notification_protocol(checkpoint_protocol_config);

	let (network, system_rpc_tx, tx_handler_controller, sync_service, _bitswap) =
		sc_service::build_network(sc_service::BuildNetworkParams {
			config: &config,
			net_config,
			client: client.clone(),
			transaction_pool: transaction_pool.clone(),
			spawn_handle: task_manager.spawn_handle(),
			spawn_essential_handle: task_manager.spawn_essential_handle(),
			import_queue,
			block_announce_validator_builder: None,
			// `--sync warp`: set-change proofs from the checkpoint store.
			warp_sync_config: Some(WarpSyncConfig::WithProvider(Arc::new(
				CheckpointWarpSyncProvider::new(client.clone(), finality.clone(), interval),
			))),
			block_relay: None,
			metrics,
			gap_sync_body_policy: None,
		})?;

	if config.offchain_worker.enabled {
		let offchain_workers =
			sc_offchain::OffchainWorkers::new(sc_offchain::OffchainWorkerOptions {
				runtime_api_provider: client.clone(),
				is_validator: role.is_authority(),
				keystore: Some(keystore_container.keystore()),
				offchain_db: backend.offchain_storage(),
				transaction_pool: Some(OffchainTransactionPoolFactory::new(
					transaction_pool.clone(),
				)),
				network_provider: Arc::new(network.clone()),
				enable_http_requests: true,
				custom_extensions: |_| vec![],
			})?;
		task_manager.spawn_handle().spawn(
			"offchain-workers-runner",
			"offchain-worker",
			offchain_workers.run(client.clone(), task_manager.spawn_handle()).boxed(),
		);
	}

	// Equivocations the gadget finds are reported on chain through this node's own pool.
	let (reporter, equivocation_reports, evidence) = EquivocationReporter::new(
		client.clone(),
		OffchainTransactionPoolFactory::new(transaction_pool.clone()),
		role.is_authority(),
		prometheus_registry.as_ref(),
	);
	task_manager.spawn_handle().spawn(
		"checkpoint-equivocation-reporter",
		Some("checkpoint"),
		reporter.run(),
	);

	let rpc_builder = {
		let client = client.clone();
		let pool = transaction_pool.clone();
		let finality = finality.clone();
		let evidence = evidence.clone();

		Box::new(move |executor| {
			let deps = crate::rpc::FullDeps {
				client: client.clone(),
				pool: pool.clone(),
				finality: finality.clone(),
				interval,
				evidence: evidence.clone(),
				executor,
			};
			crate::rpc::create_full(deps).map_err(Into::into)
		})
	};

	let _rpc_handlers = sc_service::spawn_tasks(sc_service::SpawnTasksParams {
		network: network.clone(),
		client: client.clone(),
		keystore: keystore_container.keystore(),
		task_manager: &mut task_manager,
		transaction_pool: transaction_pool.clone(),
		rpc_builder,
		backend,
		system_rpc_tx,
		tx_handler_controller,
		sync_service: sync_service.clone(),
		config,
		telemetry: telemetry.as_mut(),
		tracing_execute_block: None,
	})?;

	if role.is_authority() {
		let proposer_factory = sc_basic_authorship::ProposerFactory::new(
			task_manager.spawn_handle(),
			client.clone(),
			transaction_pool.clone(),
			prometheus_registry.as_ref(),
			telemetry.as_ref().map(|x| x.handle()),
		);

		let slot_duration = sc_consensus_aura::slot_duration(&*client)?;

		let aura = sc_consensus_aura::start_aura::<AuraPair, _, _, _, _, _, _, _, _, _, _>(
			StartAuraParams {
				slot_duration,
				client: client.clone(),
				select_chain: select_chain.clone(),
				block_import,
				proposer_factory,
				create_inherent_data_providers: move |_, ()| async move {
					let timestamp = sp_timestamp::InherentDataProvider::from_system_time();
					let slot = AuraInherentDataProvider::from_timestamp_and_slot_duration(
						*timestamp,
						slot_duration,
					);
					Ok((slot, timestamp))
				},
				force_authoring,
				backoff_authoring_blocks,
				keystore: keystore_container.keystore(),
				sync_oracle: sync_service.clone(),
				justification_sync_link: sync_service.clone(),
				block_proposal_slot_portion: SlotProportion::new(2f32 / 3f32),
				max_block_proposal_slot_portion: None,
				telemetry: telemetry.as_ref().map(|x| x.handle()),
				compatibility_mode: Default::default(),
			},
		)?;

		// Essential: if authoring fails, the node goes down with it.
		task_manager.spawn_essential_handle().spawn_blocking("aura", Some("block-authoring"), aura);
	}

	// The gadget runs on every node: validators vote, full nodes follow certificates.
	let maintenance = finality.persistence();
	task_manager.spawn_essential_handle().spawn(
		"checkpoint-finality",
		Some("checkpoint"),
		sc_finality_checkpoint::run_checkpoint_worker::<_, FullBackend, _, _, _, _>(
			CheckpointWorkerParams {
				client: client.clone(),
				select_chain,
				keystore: role.is_authority().then(|| keystore_container.keystore()),
				network: network.clone(),
				sync: sync_service.clone(),
				notification_service: checkpoint_notification_service,
				protocol_name: checkpoint_protocol,
				link,
				interval,
				prometheus_registry: prometheus_registry.clone(),
				telemetry: telemetry.as_ref().map(|t| t.handle()),
				equivocation_reports: Some(equivocation_reports),
			},
		),
	);
	if let Some(persistence) = maintenance {
		task_manager.spawn_essential_handle().spawn(
			"checkpoint-maintenance",
			Some("checkpoint"),
			sc_finality_checkpoint::run_maintenance(persistence),
		);
	}

	Ok(task_manager)
}
