//! The async worker: block imports -> own votes -> gossip -> finality on the client.
//!
//! It owns the gossip engine and drives the shared [`CheckpointFinality`]: it votes when the
//! fork choice's best chain (the one Aura authors on) reaches a checkpoint (waiting a bounded
//! time for the previous checkpoint's justification, so honest votes share one source),
//! imports gossiped votes and certificates, finalizes blocks on the client with the
//! certificate as `CKPT` justification, follows the client's finality when it moves by
//! imported justifications, and after a restart hands its restored own votes back to gossip
//! (the validator re-sends while finality stalls). Every call into the state machine that may
//! touch the disk runs on a blocking thread. The `checkpoint-maintenance` task
//! ([`run_maintenance`]) flushes and prunes.

use crate::{
	finality::{CheckpointFinality, CheckpointHash, Progress},
	fork_choice::ancestor_at,
	gossip::{topic, GossipMessage, GossipValidator, SharedFinality},
	metrics::Metrics,
	persistence::CheckpointFinalityPersistence,
	LOG_TARGET,
};
use codec::{DecodeAll, Encode};
use futures::{FutureExt, StreamExt};
use sc_client_api::{
	backend::Backend, BlockBackend, BlockchainEvents, FinalityNotification, Finalizer,
};
use sc_network::{NotificationService, ProtocolName};
use sc_network_gossip::{GossipEngine, Network as GossipNetwork, Syncing as GossipSyncing};
use sp_blockchain::{HeaderBackend, HeaderMetadata};
use sp_consensus::SelectChain;
use sp_core::crypto::ByteArray;
use sp_finality_checkpoint::{
	signing_payload, AuthorityId, Checkpoint, CheckpointCertificate, CheckpointNumber,
	CheckpointSignature, ValidatorIndex, ENGINE_ID, KEY_TYPE,
};
use sp_keystore::KeystorePtr;
use sp_runtime::traits::{Block as BlockT, Header as HeaderT, UniqueSaturatedInto};
use std::{
	sync::Arc,
	time::{Duration, Instant},
};
use substrate_prometheus_endpoint::Registry;

/// How often the worker retries what waits (a vote held for its source, client finality of a
/// block not yet imported).
pub const TICK_PERIOD: Duration = Duration::from_secs(6);

/// How long a validator waits for the previous checkpoint's justification before voting
/// from an older source.
pub const VOTE_WAIT: Duration = Duration::from_secs(3);

/// How often the maintenance task asks whether a flush or prune is due.
pub const MAINTENANCE_TICK: Duration = Duration::from_secs(1);

/// What the worker needs.
pub struct CheckpointWorkerParams<B: BlockT, C, N, S, SC> {
	/// The client.
	pub client: Arc<C>,
	/// The fork choice whose best chain the validator votes on: the one block authoring uses
	/// (a [`CheckpointSelectChain`](crate::CheckpointSelectChain)).
	pub select_chain: SC,
	/// The keystore; `None` on a node that never votes.
	pub keystore: Option<KeystorePtr>,
	/// The network, for the gossip engine.
	pub network: N,
	/// The sync service, for the gossip engine.
	pub sync: S,
	/// The notification service of the checkpoint protocol.
	pub notification_service: Box<dyn NotificationService>,
	/// The checkpoint protocol's name.
	pub protocol_name: ProtocolName,
	/// The restored state machine.
	pub finality: SharedFinality<B::Hash>,
	/// Blocks between checkpoints.
	pub interval: u32,
	/// Where to register metrics.
	pub prometheus_registry: Option<Registry>,
}

/// Runs the worker until the network shuts down. Spawn it as the essential task
/// `checkpoint-finality`.
pub async fn run_checkpoint_worker<B, BE, C, N, S, SC>(
	params: CheckpointWorkerParams<B, C, N, S, SC>,
) where
	B: BlockT,
	B::Hash: CheckpointHash,
	BE: Backend<B>,
	C: HeaderBackend<B>
		+ HeaderMetadata<B, Error = sp_blockchain::Error>
		+ BlockBackend<B>
		+ BlockchainEvents<B>
		+ Finalizer<B, BE>
		+ Send
		+ Sync
		+ 'static,
	N: GossipNetwork<B> + Clone + Send + 'static,
	S: GossipSyncing<B> + Clone + Send + 'static,
	SC: SelectChain<B> + 'static,
{
	let CheckpointWorkerParams {
		client,
		select_chain,
		keystore,
		network,
		sync,
		notification_service,
		protocol_name,
		finality,
		interval,
		prometheus_registry,
	} = params;
	let validator = Arc::new(GossipValidator::<B>::new(finality.clone()));
	let gossip = GossipEngine::new(
		network,
		sync,
		notification_service,
		protocol_name,
		validator.clone(),
		prometheus_registry.as_ref(),
	);
	let metrics = prometheus_registry.as_ref().and_then(|r| match Metrics::register(r) {
		Ok(metrics) => Some(metrics),
		Err(e) => {
			log::warn!(target: LOG_TARGET, "⚠️ Checkpoint metrics not registered: {e}");
			None
		}
	});
	let local = keystore.as_ref().and_then(|keystore| {
		let finality = finality.lock();
		finality.voters().authorities().iter().enumerate().find_map(|(i, id)| {
			keystore
				.has_keys(&[(id.to_raw_vec(), KEY_TYPE)])
				.then(|| (i as ValidatorIndex, id.clone()))
		})
	});
	match &local {
		Some((index, _)) => {
			log::info!(target: LOG_TARGET, "🗳️ Voting on checkpoints as validator {index}")
		}
		None => {
			log::info!(target: LOG_TARGET, "👀 Following checkpoint finality (not a validator)")
		}
	}
	let mut worker = Worker {
		client,
		select_chain,
		finality,
		interval: interval.max(1),
		local,
		keystore,
		gossip,
		validator,
		metrics,
		pending_client_finality: None,
		waiting: None,
		_phantom: std::marker::PhantomData,
	};
	worker.run().await
}

struct Worker<B: BlockT, BE, C, SC> {
	client: Arc<C>,
	select_chain: SC,
	finality: SharedFinality<B::Hash>,
	interval: u32,
	local: Option<(ValidatorIndex, AuthorityId)>,
	keystore: Option<KeystorePtr>,
	gossip: GossipEngine<B>,
	validator: Arc<GossipValidator<B>>,
	metrics: Option<Metrics>,
	/// A certificate whose block the client does not have yet.
	pending_client_finality: Option<CheckpointCertificate<B::Hash>>,
	/// The checkpoint we hold our vote for, waiting for its predecessor's justification.
	waiting: Option<(CheckpointNumber, Instant)>,
	_phantom: std::marker::PhantomData<BE>,
}

impl<B, BE, C, SC> Worker<B, BE, C, SC>
where
	B: BlockT,
	B::Hash: CheckpointHash,
	BE: Backend<B>,
	C: HeaderBackend<B>
		+ HeaderMetadata<B, Error = sp_blockchain::Error>
		+ BlockBackend<B>
		+ BlockchainEvents<B>
		+ Finalizer<B, BE>
		+ Send
		+ Sync
		+ 'static,
	SC: SelectChain<B> + 'static,
{
	async fn run(&mut self) {
		let mut imports = self.client.import_notification_stream().fuse();
		let mut finality_notifications = self.client.finality_notification_stream().fuse();
		let mut messages = self.gossip.messages_for(topic::<B>()).fuse();
		let mut tick = futures_timer::Delay::new(TICK_PERIOD).fuse();

		self.reconcile_with_client().await;
		self.regossip_restored();
		self.maybe_vote().await;
		loop {
			let gossip = &mut self.gossip;
			futures::select! {
				_ = gossip.fuse() => {
					log::error!(target: LOG_TARGET, "❌ Checkpoint gossip engine stopped; the worker ends");
					return;
				},
				notification = finality_notifications.next() => match notification {
					Some(notification) => self.on_client_finalized(notification).await,
					None => return,
				},
				// Any import: the fork choice's best chain need not be the client's best.
				notification = imports.next() => match notification {
					Some(_) => {
						self.retry_client_finality().await;
						self.maybe_vote().await;
					},
					None => return,
				},
				message = messages.next() => match message {
					Some(message) => self.on_message(&message.message).await,
					None => return,
				},
				_ = tick => {
					tick = futures_timer::Delay::new(TICK_PERIOD).fuse();
					self.on_tick().await;
				},
			}
			for (peer, cost) in self.validator.take_reports() {
				self.gossip.report(peer, cost);
			}
			if let Some(metrics) = &self.metrics {
				metrics.update(&self.finality.lock());
			}
		}
	}

	/// Runs `f` on the state machine on a blocking thread. The future borrows nothing of the
	/// worker (whose gossip engine is not `Sync`).
	fn with_finality<R: Send + 'static>(
		&self,
		f: impl FnOnce(&mut CheckpointFinality<B::Hash>) -> R + Send + 'static,
	) -> impl std::future::Future<Output = R> + Send + 'static {
		let finality = self.finality.clone();
		async move {
			tokio::task::spawn_blocking(move || f(&mut finality.lock()))
				.await
				.expect("checkpoint state machine call panicked")
		}
	}

	fn gossip(&mut self, message: GossipMessage<B::Hash>, force: bool) {
		self.gossip.gossip_message(topic::<B>(), message.encode(), force);
	}

	/// Votes for the checkpoint the fork choice's best chain has reached, if the rules allow.
	async fn maybe_vote(&mut self) {
		let (Some((index, public)), Some(keystore)) = (self.local.clone(), self.keystore.clone())
		else {
			return;
		};
		let best = match self.select_chain.best_chain().await {
			Ok(best) => best,
			Err(e) => {
				log::debug!(target: LOG_TARGET, "No best chain to vote on: {e}");
				return;
			}
		};
		let best_number: u64 = (*best.number()).unique_saturated_into();
		let number = CheckpointNumber(best_number / u64::from(self.interval));
		if number.0 == 0 {
			return;
		}
		let height = number.block_number(self.interval);
		let Some(hash) = ancestor_at::<B, _>(&*self.client, best.hash(), height) else { return };
		{
			let finality = self.finality.lock();
			if number <= finality.guard().target || number <= finality.last_finalized().number {
				return;
			}
			let previous_justified = finality.highest_justified().number.next() >= number;
			if !previous_justified {
				match self.waiting {
					Some((waiting, since)) if waiting == number && since.elapsed() >= VOTE_WAIT => {
					}
					Some((waiting, _)) if waiting == number => return,
					_ => {
						self.waiting = Some((number, Instant::now()));
						return;
					}
				}
			}
		}
		self.waiting = None;
		let target = Checkpoint { number, hash };
		let client = self.client.clone();
		// Asked of the target block itself, not of the best chain by number: a reorg while
		// the vote waits for the lock cannot pair a source with a target that does not
		// descend from it.
		let below_target = move |c: &Checkpoint<B::Hash>| {
			sp_blockchain::lowest_common_ancestor(&*client, c.hash, target.hash)
				.is_ok_and(|ancestor| ancestor.hash == c.hash)
		};
		let outcome = self
			.with_finality(move |finality| {
				let link = finality.own_vote_link(target, below_target)?;
				let payload = signing_payload(&finality.genesis_hash(), &link);
				let signature = match keystore.ed25519_sign(KEY_TYPE, public.as_ref(), &payload) {
					Ok(Some(signature)) => signature,
					other => {
						log::error!(target: LOG_TARGET, "❌ Cannot sign checkpoint vote: {other:?}");
						return None;
					}
				};
				let vote = CheckpointSignature {
					link,
					validator_index: index,
					signature: signature.into(),
				};
				Some(finality.record_own_vote(vote.clone()).map(|import| (vote, import.progress)))
			})
			.await;
		match outcome {
			Some(Ok((vote, progress))) => {
				log::debug!(
					target: LOG_TARGET,
					"Voted {} -> {}",
					vote.link.source.number,
					vote.link.target.number,
				);
				self.gossip(GossipMessage::Vote(vote), false);
				self.on_progress(progress).await;
			}
			// The state machine logged why (a refused or unpersisted vote is never gossiped).
			Some(Err(_)) => {}
			None => log::debug!(target: LOG_TARGET, "Abstaining on checkpoint {number}"),
		}
	}

	async fn on_message(&mut self, data: &[u8]) {
		match GossipMessage::<B::Hash>::decode_all(&mut &data[..]) {
			Ok(GossipMessage::Vote(vote)) => {
				if let Ok(import) =
					self.with_finality(move |f| f.add_checkpoint_signature(vote)).await
				{
					self.on_progress(import.progress).await;
				}
				if self.waiting.is_some() {
					self.maybe_vote().await;
				}
			}
			Ok(GossipMessage::Certificate(certificate)) => {
				let cert = certificate.clone();
				if let Ok(true) = self.with_finality(move |f| f.advance_finality(cert)).await {
					self.finalize_on_client(certificate).await;
				}
			}
			Err(_) => {}
		}
	}

	async fn on_progress(&mut self, progress: Progress<B::Hash>) {
		if let Some(certificate) = progress.finalized {
			self.gossip(GossipMessage::Certificate(certificate.clone()), false);
			self.finalize_on_client(certificate).await;
		}
	}

	/// Finalizes the certificate's source block on the client, with the certificate as its
	/// `CKPT` justification; remembers it if the block is not imported yet.
	async fn finalize_on_client(&mut self, certificate: CheckpointCertificate<B::Hash>) {
		let checkpoint = certificate.link.source;
		let height = checkpoint.number.block_number(self.interval);
		let finalized: u64 = self.client.info().finalized_number.unique_saturated_into();
		if finalized >= height {
			return;
		}
		if !matches!(self.client.number(checkpoint.hash), Ok(Some(_))) {
			self.pending_client_finality = Some(certificate);
			return;
		}
		let client = self.client.clone();
		let justification = (ENGINE_ID, certificate.encode());
		let result = tokio::task::spawn_blocking(move || {
			client.finalize_block(checkpoint.hash, Some(justification), true)
		})
		.await;
		match result {
			Ok(Ok(())) => {
				self.pending_client_finality = None;
				log::info!(
					target: LOG_TARGET,
					"🏁 Finalized block #{height} ({:?}) by checkpoint {}",
					checkpoint.hash,
					checkpoint.number,
				);
			}
			Ok(Err(e)) => {
				log::warn!(target: LOG_TARGET, "⚠️ Cannot finalize block #{height} yet: {e}");
				self.pending_client_finality = Some(certificate);
			}
			Err(e) => {
				log::error!(target: LOG_TARGET, "❌ Finalizing block #{height} panicked: {e}")
			}
		}
	}

	async fn retry_client_finality(&mut self) {
		if let Some(certificate) = self.pending_client_finality.take() {
			self.finalize_on_client(certificate).await;
		}
	}

	/// Follows the client's finality when it moved by an imported justification (sync).
	async fn on_client_finalized(&mut self, notification: FinalityNotification<B>) {
		let number: u64 = (*notification.header.number()).unique_saturated_into();
		self.import_client_certificate(notification.hash, number).await;
	}

	async fn import_client_certificate(&mut self, hash: B::Hash, number: u64) {
		let interval = u64::from(self.interval);
		if !number.is_multiple_of(interval)
			|| number / interval <= self.finality.lock().last_finalized().number.0
		{
			return;
		}
		let encoded = match self.client.justifications(hash) {
			Ok(Some(justifications)) => justifications.get(ENGINE_ID).cloned(),
			_ => None,
		};
		let Some(certificate) = encoded
			.and_then(|e| CheckpointCertificate::<B::Hash>::decode_all(&mut &e[..]).ok())
			.filter(|c| c.link.source.hash == hash)
		else {
			return;
		};
		// The client verified it on import (`CheckpointBlockImport`) or created it here.
		let _ = self.with_finality(move |f| f.advance_finality(certificate)).await;
	}

	/// Brings the state machine and the client's finality together after a restart.
	async fn reconcile_with_client(&mut self) {
		let info = self.client.info();
		let client_finalized: u64 = info.finalized_number.unique_saturated_into();
		self.import_client_certificate(info.finalized_hash, client_finalized).await;
		let ours = self.finality.lock().last_finalized();
		if ours.number.block_number(self.interval) > client_finalized {
			let certificate = self
				.with_finality(move |f| {
					f.persistence()
						.and_then(|p| p.storage().certificate(ours.number).ok().flatten())
				})
				.await;
			if let Some(certificate) = certificate {
				self.finalize_on_client(certificate).await;
			}
		}
	}

	async fn on_tick(&mut self) {
		self.retry_client_finality().await;
		self.maybe_vote().await;
	}

	/// Hands the gossip engine what a restart restored: own votes above finality and the
	/// latest certificate. The engine sends them on and, while finality stalls, again.
	fn regossip_restored(&mut self) {
		let (votes, certificate) = {
			let finality = self.finality.lock();
			let votes = self.local.as_ref().map(|(i, _)| finality.votes_of(*i)).unwrap_or_default();
			(votes, finality.latest_certificate().cloned())
		};
		for vote in votes {
			self.gossip(GossipMessage::Vote(vote), true);
		}
		if let Some(certificate) = certificate {
			self.gossip(GossipMessage::Certificate(certificate), true);
		}
	}
}

/// Runs the essential task `checkpoint-maintenance`: every [`MAINTENANCE_TICK`] it lets the
/// persistence layer flush and prune when their intervals have passed, on a blocking thread.
pub async fn run_maintenance<H: Encode + Send + Sync + 'static>(
	persistence: CheckpointFinalityPersistence<H>,
) {
	loop {
		futures_timer::Delay::new(MAINTENANCE_TICK).await;
		let p = persistence.clone();
		match tokio::task::spawn_blocking(move || p.perform_periodic_maintenance()).await {
			Ok(Ok(_)) => {}
			Ok(Err(e)) => log::error!(target: LOG_TARGET, "❌ Checkpoint maintenance failed: {e}"),
			Err(e) => log::error!(target: LOG_TARGET, "❌ Checkpoint maintenance panicked: {e}"),
		}
	}
}
