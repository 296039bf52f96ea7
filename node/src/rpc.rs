//! The node's own RPC methods, added to those every Substrate node serves (`chain_*`,
//! `state_*`, `author_*`, `system_*`, the new JSON-RPC spec, …).

use checkpoint_runtime::{opaque::Block, AccountId, Balance, Nonce};
use jsonrpsee::RpcModule;
use sc_client_api::BlockBackend;
use sc_finality_checkpoint::{EvidenceLog, FinalityHandle};
use sc_finality_checkpoint_rpc::{CheckpointApiServer, CheckpointRpc};
use sc_rpc::SubscriptionTaskExecutor;
use sc_transaction_pool_api::TransactionPool;
use sp_api::ProvideRuntimeApi;
use sp_block_builder::BlockBuilder;
use sp_blockchain::{Error as BlockChainError, HeaderBackend, HeaderMetadata};
use sp_runtime::traits::Block as BlockT;
use std::sync::Arc;

/// What the full node's RPC methods need.
pub struct FullDeps<C, P> {
	/// The client.
	pub client: Arc<C>,
	/// The transaction pool.
	pub pool: Arc<P>,
	/// A handle on the checkpoint gadget's state.
	pub finality: FinalityHandle<<Block as BlockT>::Hash>,
	/// Blocks between checkpoints.
	pub interval: u32,
	/// The equivocations the node saw and their reports.
	pub evidence: EvidenceLog<<Block as BlockT>::Hash>,
	/// Where subscriptions run.
	pub executor: SubscriptionTaskExecutor,
}

/// All the node's own RPC methods in one module: `system_accountNextIndex`, `system_dryRun`,
/// `payment_*` and `checkpoint_*`.
pub fn create_full<C, P>(
	deps: FullDeps<C, P>,
) -> Result<RpcModule<()>, Box<dyn std::error::Error + Send + Sync>>
where
	C: ProvideRuntimeApi<Block>,
	C: HeaderBackend<Block> + HeaderMetadata<Block, Error = BlockChainError> + 'static,
	C: BlockBackend<Block> + Send + Sync + 'static,
	C::Api: substrate_frame_rpc_system::AccountNonceApi<Block, AccountId, Nonce>,
	C::Api: pallet_transaction_payment_rpc::TransactionPaymentRuntimeApi<Block, Balance>,
	C::Api: BlockBuilder<Block>,
	P: TransactionPool + 'static,
{
	use pallet_transaction_payment_rpc::{TransactionPayment, TransactionPaymentApiServer};
	use substrate_frame_rpc_system::{System, SystemApiServer};

	let mut module = RpcModule::new(());
	let FullDeps { client, pool, finality, interval, evidence, executor } = deps;

	module.merge(System::new(client.clone(), pool).into_rpc())?;
	module.merge(TransactionPayment::new(client.clone()).into_rpc())?;
	module.merge(CheckpointRpc::new(finality, client, interval, evidence, executor).into_rpc())?;

	Ok(module)
}
