//! The async worker: the one owner of the state, and the executor of what it calls for.
//!
//! It owns the gossip engine and the state: the [`CheckpointFinality`] it takes from the
//! [`CheckpointLink`], which only it changes. Every call into the state runs on a blocking
//! thread (it may touch the disk), one at a time; meanwhile fork choice, the RPC, metrics and
//! the gossip validator read the published view, and block import's requests wait in the
//! worker's inbox. What it does with the state's answers:
//!
//! - votes when the planner's gates open and its plan names a checkpoint of the fork choice's
//!   best chain (the one Aura authors on), with the key the keystore finds in the set at that
//!   moment, and otherwise counts and logs (once per change) why it abstains;
//! - imports gossiped votes (their signatures checked once, by the gossip validator) and
//!   certificates, and turns a vote of its own key that it did not cast into the planner's
//!   alarm (the key runs on two machines);
//! - gossips and finalizes on the client what became final (`finalize_block`);
//! - follows the client's finality when it is ahead (imported justifications, or a checkpoint
//!   database moved aside: it imports the certificates the client holds, lowest first, so every
//!   set change on the way is enacted), and when finality stalls asks peers for the
//!   justifications of the checkpoint blocks above it (the network may have finalized past the
//!   next one by a catch-up jump, so that no peer has that one);
//! - after a restart, hands its restored own votes back to gossip;
//! - sends the equivocations the state finds to the reporter, to be reported on chain;
//! - answers block import's requests (the signals of a block about to be imported, a forced
//!   change in force, a justification's certificate) and reports the reputation costs the
//!   gossip validator sends it.

use crate::{
	client::{finalize_block, import_client_justifications, justification_at},
	communication::{
		gossip::{GossipValidator, PeerReport},
		topic, GossipMessage,
	},
	finality::CheckpointFinality,
	fork_choice::ancestor_at,
	keystore::CheckpointKeystore,
	link::{CheckpointLink, FinalityHandle, Request},
	metrics::Metrics,
	planner::{plan, Abstention, Gates, Plan, SourceWait, VotingView},
	report::ReportSender,
	state::{CheckpointHash, Progress, VoterSet, Warp},
	LOG_TARGET,
};
use codec::{DecodeAll, Encode};
use futures::channel::mpsc::UnboundedReceiver;
use futures::{FutureExt, StreamExt};
use sc_client_api::{
	backend::Backend, BlockBackend, BlockchainEvents, FinalityNotification, Finalizer,
};
use sc_consensus::JustificationSyncLink;
use sc_network::{NotificationService, ProtocolName};
use sc_network_gossip::{GossipEngine, Network as GossipNetwork, Syncing as GossipSyncing};
use sc_telemetry::{telemetry, TelemetryHandle, CONSENSUS_DEBUG, CONSENSUS_INFO};
use sp_blockchain::{HeaderBackend, HeaderMetadata};
use sp_consensus::{SelectChain, SyncOracle};
use sp_finality_checkpoint::{
	AuthorityId, Checkpoint, CheckpointCertificate, CheckpointSignature, Epoch, ValidatorIndex,
};
use sp_keystore::KeystorePtr;
use sp_runtime::traits::{
	Block as BlockT, Header as HeaderT, SaturatedConversion, UniqueSaturatedInto,
};
use std::{
	sync::Arc,
	time::{Duration, Instant},
};
use substrate_prometheus_endpoint::Registry;

/// How often the worker looks again at what no event announces: client finality of a block
/// not yet imported, a stall to ask peers about, the client's finality moved by sync. Votes
/// and finality follow imports, votes and certificates as they come, not this tick.
pub const TICK_PERIOD: Duration = Duration::from_secs(6);

/// Checkpoints whose client justifications one call into the voter imports when it follows
/// the client's finality: the voter's lock is let go in between.
const CLIENT_JUSTIFICATIONS_PER_CALL: u64 = 64;

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
	/// The sync service: for the gossip engine, to know when the node is major-syncing, and to
	/// ask peers for a missed justification.
	pub sync: S,
	/// The notification service of the checkpoint protocol.
	pub notification_service: Box<dyn NotificationService>,
	/// The checkpoint protocol's name.
	pub protocol_name: ProtocolName,
	/// The restored state machine, which the worker owns from now on.
	pub link: CheckpointLink<B::Hash>,
	/// Blocks between checkpoints.
	pub interval: u32,
	/// Where to register metrics.
	pub prometheus_registry: Option<Registry>,
	/// Where to send telemetry (`checkpoint.*` events, as GRANDPA's `afg.*`).
	pub telemetry: Option<TelemetryHandle>,
	/// Where to send the equivocations the state finds, to be reported on chain (an
	/// [`EquivocationReporter`](crate::EquivocationReporter)); `None` reports nothing.
	pub equivocation_reports: Option<ReportSender<B::Hash>>,
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
	S: GossipSyncing<B> + SyncOracle + JustificationSyncLink<B> + Clone + Send + 'static,
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
		link,
		interval,
		prometheus_registry,
		telemetry,
		equivocation_reports,
	} = params;
	let guard_found = link.finality().state().guard_found();
	let (finality, requests, handle) = link.into_parts();
	let (validator, reports) = GossipValidator::<B>::new(handle.clone());
	let validator = Arc::new(validator);
	let gossip = GossipEngine::new(
		network,
		sync.clone(),
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
	let keystore = CheckpointKeystore::new(keystore);
	if !keystore.is_validator() {
		log::info!(target: LOG_TARGET, "👀 Following checkpoint finality (not a validator)");
	}
	let gates = Gates::new(keystore.is_validator() && !guard_found);
	let mut worker = Worker {
		client,
		select_chain,
		finality: Some(finality),
		handle,
		requests,
		reports,
		interval: interval.max(1),
		local: None,
		warned_no_key: false,
		keystore,
		sync,
		gossip,
		validator,
		metrics,
		telemetry,
		pending_client_finality: None,
		source_wait: SourceWait::default(),
		last_cast: None,
		gates,
		abstention: None,
		logged: None,
		stalled_at: None,
		requested: None,
		warp: None,
		equivocation_reports,
		_phantom: std::marker::PhantomData,
	};
	worker.run().await
}

struct Worker<B: BlockT, BE, C, S, SC> {
	client: Arc<C>,
	select_chain: SC,
	/// The state; `None` only while a call into it runs on a blocking thread.
	finality: Option<CheckpointFinality<B::Hash>>,
	/// The view the state publishes.
	handle: FinalityHandle<B::Hash>,
	/// Block import's requests.
	requests: UnboundedReceiver<Request<B::Hash>>,
	/// The gossip validator's reputation costs.
	reports: UnboundedReceiver<PeerReport>,
	interval: u32,
	/// This node's key in the current set, as last looked up in the keystore.
	local: Option<(ValidatorIndex, AuthorityId)>,
	/// Whether the warning for a key in neither the current nor a signalled set was given.
	warned_no_key: bool,
	keystore: CheckpointKeystore,
	sync: S,
	gossip: GossipEngine<B>,
	validator: Arc<GossipValidator<B>>,
	metrics: Option<Metrics>,
	telemetry: Option<TelemetryHandle>,
	/// A certificate the client could not finalize with yet, retried at the next import or
	/// tick. (The voter finalizes only checkpoints whose blocks are imported: waiting for a
	/// block is its business.)
	pending_client_finality: Option<CheckpointCertificate<B::Hash>>,
	/// The bounded wait of a vote for its predecessor's justification.
	source_wait: SourceWait,
	/// The highest target this process voted for.
	last_cast: Option<Epoch>,
	/// The gates before the plan.
	gates: Gates,
	/// The current abstention and the checkpoint it was counted for.
	abstention: Option<(Abstention, Epoch)>,
	/// The reason last logged; a vote ends it, except a vote after the bounded wait for a
	/// source, so that waits while finality stalls are logged once, not at every checkpoint.
	logged: Option<Abstention>,
	/// The finalized checkpoint seen at the last tick, to tell a stall.
	stalled_at: Option<Epoch>,
	/// The finalized checkpoint above which justifications were asked of peers.
	requested: Option<Epoch>,
	/// What a complete warp sync proof proved, held until its target block's state is
	/// imported.
	warp: Option<Warp<B::Hash>>,
	/// Where the equivocations found go to be reported.
	equivocation_reports: Option<ReportSender<B::Hash>>,
	_phantom: std::marker::PhantomData<BE>,
}

impl<B, BE, C, S, SC> Worker<B, BE, C, S, SC>
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
	S: SyncOracle + JustificationSyncLink<B>,
	SC: SelectChain<B> + 'static,
{
	/// The state, to read.
	fn finality(&self) -> &CheckpointFinality<B::Hash> {
		self.finality.as_ref().expect("the worker holds the state between calls")
	}

	/// Runs `f` on the state on a blocking thread (it may touch the disk), so that the async
	/// executor never waits on it.
	async fn voter<R: Send + 'static>(
		&mut self,
		f: impl FnOnce(&mut CheckpointFinality<B::Hash>) -> R + Send + 'static,
	) -> R {
		let mut finality = self.finality.take().expect("the worker holds the state between calls");
		let (finality, result, reports) = tokio::task::spawn_blocking(move || {
			let result = f(&mut finality);
			let reports = finality.take_reports();
			(finality, result, reports)
		})
		.await
		.expect("checkpoint finality call panicked");
		self.finality = Some(finality);
		if let Some(sender) = &self.equivocation_reports {
			for proof in reports {
				// The reporter ends only with the node.
				let _ = sender.unbounded_send(proof);
			}
		}
		result
	}

	async fn run(&mut self) {
		let mut imports = self.client.import_notification_stream().fuse();
		let mut finality_notifications = self.client.finality_notification_stream().fuse();
		let mut messages = self.gossip.messages_for(topic::<B>()).fuse();
		let mut tick = futures_timer::Delay::new(TICK_PERIOD).fuse();
		// Fires when a vote held back for its source may go without it.
		let mut source_timer = futures::future::Fuse::terminated();
		let mut source_deadline = None;

		self.reconcile_with_client().await;
		self.local = self.local_key();
		self.regossip_restored();
		self.maybe_vote().await;
		loop {
			let deadline = self.source_wait.deadline();
			if deadline != source_deadline {
				source_deadline = deadline;
				source_timer = match deadline {
					Some(at) => {
						futures_timer::Delay::new(at.saturating_duration_since(Instant::now()))
							.fuse()
					}
					None => futures::future::Fuse::terminated(),
				};
			}
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
						self.retry_waiting_finality().await;
						self.retry_client_finality().await;
						self.maybe_vote().await;
					},
					None => return,
				},
				message = messages.next() => match message {
					Some(message) => self.on_message(&message.message).await,
					None => return,
				},
				request = self.requests.next() => match request {
					Some(request) => self.on_request(request).await,
					None => return,
				},
				report = self.reports.next() => if let Some((peer, cost)) = report {
					self.gossip.report(peer, cost);
				},
				_ = tick => {
					tick = futures_timer::Delay::new(TICK_PERIOD).fuse();
					self.on_tick().await;
				},
				_ = source_timer => self.maybe_vote().await,
			}
			if let Some(metrics) = &self.metrics {
				let pending = self.handle.persistence().map_or(0, |p| p.pending_votes());
				metrics.update(&self.handle.view(), pending);
			}
		}
	}

	fn gossip(&mut self, message: GossipMessage<B::Hash>, force: bool) {
		self.gossip.gossip_message(topic::<B>(), message.encode(), force);
	}

	/// This node's key in the current authority set, looked up in the keystore each time (a
	/// key inserted over RPC, or a set change that brings the key in, counts from the next
	/// vote). Logs when it changes, and warns once when the key is in neither the current set
	/// nor a signalled one. `None`, and no word of keys, on a node that is no validator.
	fn local_key(&mut self) -> Option<(ValidatorIndex, AuthorityId)> {
		if !self.keystore.is_validator() {
			return None;
		}
		let view = self.handle.view();
		let set_id = view.voters.set_id();
		let local = self.keystore.local_key(&view.voters);
		match (&self.local, &local) {
			(Some((was, _)), Some((index, _))) if was == index => {}
			(_, Some((index, _))) => log::info!(
				target: LOG_TARGET,
				"🗳️ Voting on checkpoints as validator {index} of authority set {set_id}",
			),
			(Some(_), None) => log::info!(
				target: LOG_TARGET,
				"👋 This node's checkpoint key is not in authority set {set_id}: it stops voting",
			),
			(None, None) => {}
		}
		if local.is_some() {
			self.warned_no_key = false;
		} else if !self.warned_no_key {
			self.warned_no_key = true;
			let next = view.sets.pending().iter().find(|change| {
				VoterSet::new(change.set.id, change.set.authorities.clone())
					.is_some_and(|set| self.keystore.local_key(&set).is_some())
			});
			match next {
				Some(change) => log::info!(
					target: LOG_TARGET,
					"⏳ This node's checkpoint key is in the signalled authority set {}: it votes \
					 once that set is enacted",
					change.set.id,
				),
				None => log::warn!(
					target: LOG_TARGET,
					"⚠️ This validator has no checkpoint key (key type `ckpt`, ed25519) of authority \
					 set {set_id} or of a signalled set in its keystore, so it does not vote. Insert \
					 it with `checkpoint-node key insert --base-path <path> --chain <chain> \
					 --key-type ckpt --scheme ed25519 --suri <secret>` (or the `author_insertKey` \
					 RPC), and have it in the set through `session.setKeys` and governance",
				),
			}
		}
		local
	}

	/// Votes as the planner says, or records why not.
	async fn maybe_vote(&mut self) {
		if !self.keystore.is_validator() {
			return;
		}
		// A vote that justified or finalized (the last one a supermajority needed) makes the
		// next vote due at once, round two or the next block's round one, not at the next
		// import or gossip message. Each vote has a higher target than the last, so this ends.
		loop {
			let best = match self.select_chain.best_chain().await {
				Ok(best) => best,
				Err(e) => {
					log::debug!(target: LOG_TARGET, "No best chain to vote on: {e}");
					return;
				}
			};
			let best_number: u64 = (*best.number()).unique_saturated_into();
			let tip = Epoch::at_or_below(best_number, self.interval);
			match self.try_vote(best.hash(), tip).await {
				Ok(Some(moved)) => {
					self.note_abstention(None, tip);
					if !moved {
						return;
					}
				}
				Ok(None) => return,
				Err(reason) => return self.note_abstention(Some(reason), tip),
			}
		}
	}

	/// Counts an abstention once per reason and checkpoint and logs it once per change of
	/// reason; `None` (a vote was cast) ends it.
	fn note_abstention(&mut self, reason: Option<Abstention>, tip: Epoch) {
		match reason {
			Some(reason) => {
				if self.abstention != Some((reason, tip)) {
					if let Some(metrics) = &self.metrics {
						metrics.abstained(reason);
					}
				}
				if self.logged != Some(reason) {
					let view = self.handle.view();
					let (finalized, justified) = (view.finalized.number, view.justified.number);
					log::info!(
						target: LOG_TARGET,
						"⏸️ Not voting (best block at {tip}, justified {justified}, finalized \
						 {finalized}): {}",
						reason.explain(),
					);
					self.logged = Some(reason);
				}
				self.abstention = Some((reason, tip));
			}
			None => {
				match self.logged {
					Some(Abstention::WaitingForSource) | None => {}
					Some(previous) => {
						log::info!(
							target: LOG_TARGET,
							"▶️ Voting again after abstaining ({})",
							previous.label(),
						);
						self.logged = None;
					}
				}
				self.abstention = None;
			}
		}
	}

	/// Votes for the checkpoint the plan names on the chain ending in `best`. `Ok(None)`:
	/// nothing to vote for; `Ok(Some(moved))`: voted, and `moved` if the vote justified or
	/// finalized a checkpoint.
	async fn try_vote(&mut self, best: B::Hash, tip: Epoch) -> Result<Option<bool>, Abstention> {
		self.local = self.local_key();
		let syncing = self.sync.is_major_syncing();
		self.gates.open(self.local.is_some(), syncing, tip, Instant::now())?;
		let view = VotingView::new(self.finality().state(), tip, self.last_cast);
		let number = match plan(&view) {
			Plan::Vote(number) => number,
			Plan::Idle => return Ok(None),
			Plan::Abstain(reason) => return Err(reason),
		};
		self.source_wait.ready(&view, number, Instant::now())?;
		let hash = if number.is_round_one() {
			ancestor_at::<B, _>(&*self.client, best, number.block_number(self.interval))
		} else {
			// Round two: the block whose round one is justified.
			let justified = self.finality().state().highest_justified();
			(justified.number.next() == number).then_some(justified.hash)
		};
		let Some(hash) = hash else { return Ok(None) };
		let target = Checkpoint { number, hash };
		let client = self.client.clone();
		// Asked of the target block itself, not of the best chain by number: a reorg while
		// the vote waits for the lock cannot pair a source with a target that does not
		// descend from it.
		let below_target = move |c: &Checkpoint<B::Hash>| {
			sp_blockchain::lowest_common_ancestor(&*client, c.hash, target.hash)
				.is_ok_and(|ancestor| ancestor.hash == c.hash)
		};
		let keystore = self.keystore.clone();
		let outcome = self
			.voter(move |f| {
				let link = f.own_vote_link(target, below_target).ok_or(Abstention::NoSource)?;
				// The set of the link: the one enacted for its source, which a set change may
				// make other than the current one.
				let voters = f.state().sets().by_id(link.set_id).cloned();
				let (index, public) =
					voters.and_then(|v| keystore.local_key(&v)).ok_or(Abstention::NoKey)?;
				let signature = keystore.sign(&public, &f.genesis_hash(), &link).map_err(|e| {
					log::error!(target: LOG_TARGET, "❌ Cannot sign checkpoint vote: {e}");
					Abstention::Failed
				})?;
				let vote = CheckpointSignature { link, validator_index: index, signature };
				// The state machine logged why if this fails (a refused or unpersisted vote is
				// never gossiped).
				let import = f.record_own_vote(vote.clone()).map_err(|_| Abstention::Failed)?;
				Ok((vote, import.progress))
			})
			.await;
		let (vote, progress) = outcome?;
		#[cfg(feature = "test-double-vote")]
		self.double_vote_once(&vote);
		self.validator.note_vote(&vote);
		log::debug!(
			target: LOG_TARGET,
			"Voted {} -> {}",
			vote.link.source.number,
			vote.link.target.number,
		);
		telemetry!(
			self.telemetry;
			CONSENSUS_DEBUG;
			"checkpoint.voted";
			"source" => vote.link.source.number.0,
			"target" => vote.link.target.number.0,
			"target_hash" => ?vote.link.target.hash,
		);
		self.last_cast = Some(number);
		self.gossip(GossipMessage::Vote(vote), false);
		Ok(Some(self.on_progress(progress).await))
	}

	/// Test builds only (feature `test-double-vote`, never in a default build): with
	/// `CHECKPOINT_TEST_DOUBLE_VOTE=<epoch>` set, the first time this node casts a vote whose
	/// target is at or above that epoch, it also signs two votes that break E1 (one target
	/// epoch, ten above, for two blocks, from the target just voted for) and gossips them, as a
	/// faulty validator would. Neither is recorded: the own-vote guard does not know them.
	#[cfg(feature = "test-double-vote")]
	fn double_vote_once(&mut self, vote: &CheckpointSignature<B::Hash>) {
		static DONE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
		let from = std::env::var("CHECKPOINT_TEST_DOUBLE_VOTE").ok().and_then(|v| v.parse().ok());
		if from.is_none_or(|from| vote.link.target.number.0 < from)
			|| DONE.swap(true, std::sync::atomic::Ordering::SeqCst)
		{
			return;
		}
		let Some((_, public)) = self.local.clone() else { return };
		let genesis_hash = self.finality().genesis_hash();
		let target = Epoch(vote.link.target.number.0 + 10);
		for hash in [Default::default(), vote.link.target.hash] {
			let link = sp_finality_checkpoint::Link {
				set_id: vote.link.set_id,
				source: vote.link.target,
				target: Checkpoint { number: target, hash },
			};
			match self.keystore.sign(&public, &genesis_hash, &link) {
				Ok(signature) => {
					log::warn!(
						target: LOG_TARGET,
						"🧪 Test build: signed a conflicting vote {} -> {target} ({hash:?})",
						link.source.number,
					);
					let validator_index = vote.validator_index;
					let vote = CheckpointSignature { link, validator_index, signature };
					self.gossip(GossipMessage::Vote(vote), true);
				}
				Err(e) => log::error!(target: LOG_TARGET, "❌ Test build: cannot sign: {e}"),
			}
		}
	}

	async fn on_message(&mut self, data: &[u8]) {
		match GossipMessage::<B::Hash>::decode_all(&mut &data[..]) {
			Ok(GossipMessage::Vote(vote)) => {
				// Signed by our key in the vote's own set (indices change with the set).
				let own_key = self.local.as_ref().is_some_and(|(_, key)| {
					self.handle.view().sets.by_id(vote.link.set_id).is_some_and(|set| {
						set.authorities().get(vote.validator_index as usize) == Some(key)
					})
				});
				let link = vote.link;
				let (elsewhere, import) = self
					.voter(move |f| {
						// A failure to persist the raised guard still counts: it is raised in
						// memory and voting stops.
						let elsewhere = own_key && f.check_own_key_vote(&vote).unwrap_or(true);
						// The gossip validator checked the signature.
						(elsewhere, f.add_verified_vote(vote))
					})
					.await;
				if elsewhere {
					self.on_own_key_elsewhere(link);
				}
				let moved = match import {
					Ok(import) => self.on_progress(import.progress).await,
					Err(_) => false,
				};
				if moved || self.source_wait.is_waiting() {
					self.maybe_vote().await;
				}
			}
			Ok(GossipMessage::Certificate(certificate)) => {
				if let Ok(progress) = self.voter(move |f| f.import_certificate(certificate)).await {
					if self.on_progress(progress).await {
						self.maybe_vote().await;
					}
				}
			}
			Err(_) => {}
		}
	}

	/// Answers a request of block import.
	async fn on_request(&mut self, request: Request<B::Hash>) {
		let progress = match request {
			Request::NoteSignals(signals, done) => {
				self.voter(move |f| {
					for signal in signals {
						f.note(signal);
					}
				})
				.await;
				let _ = done.send(());
				None
			}
			Request::ForgetSignals(hash) => {
				self.voter(move |f| f.forget_signals_of(&hash)).await;
				None
			}
			Request::ApplyForced(number, hash, done) => {
				let forced = self.voter(move |f| f.apply_forced(number, hash)).await;
				let _ = done.send(());
				forced.ok().flatten()
			}
			Request::ImportCertificate(certificate, sets, done) => {
				let imported = certificate.link.source.number;
				let result =
					self.voter(move |f| f.import_verified_certificate(certificate, &sets)).await;
				// Block import finalizes the certificate's own block; what the votes held
				// finalized beyond it is the worker's to apply.
				let progress = result.as_ref().ok().map(|progress| Progress {
					justified: progress.justified.clone(),
					finalized: progress
						.finalized
						.clone()
						.filter(|c| c.link.source.number > imported),
				});
				let _ = done.send(result);
				progress
			}
			Request::WarpProven(warp) => {
				self.warp = Some(warp);
				None
			}
			Request::ApplyWarp(hash, done) => {
				// Block import finalizes the target block with its state; nothing to gossip or
				// finalize here.
				match self.warp.take_if(|warp| warp.latest.link.source.hash == hash) {
					Some(warp) => {
						let result = self.voter(move |f| f.warp(warp)).await;
						let _ = done.send(result.map(|_| true));
					}
					None => {
						let _ = done.send(Ok(false));
					}
				}
				None
			}
		};
		if let Some(progress) = progress {
			if self.on_progress(progress).await {
				self.maybe_vote().await;
			}
		}
	}

	/// A valid vote signed with our key that this process did not cast, outside the guard.
	fn on_own_key_elsewhere(&mut self, link: sp_finality_checkpoint::Link<B::Hash>) {
		if self.gates.alarm() {
			log::error!(
				target: LOG_TARGET,
				"🚨 A checkpoint vote {} -> {} signed with this validator's key came in that this \
				 process did not cast. Either the same key runs on two nodes, or this node cast it \
				 before a restart that lost its record of it (checkpoint persistence off, or its \
				 checkpoint database and own-vote guard removed): the two look the same from here. \
				 This node stops voting, and its own-vote guard now covers that vote. If a second \
				 node has the key, stop one of the two (or give it a key of its own); then restart \
				 this node to vote again",
				link.source.number,
				link.target.number,
			);
		}
	}

	/// Gossips and applies on the client what a step of the state machine finalized. Returns
	/// whether anything was justified or finalized (the plan may have changed).
	async fn on_progress(&mut self, progress: Progress<B::Hash>) -> bool {
		let moved = !progress.justified.is_empty() || progress.finalized.is_some();
		if let Some(certificate) = progress.finalized {
			self.gossip(GossipMessage::Certificate(certificate.clone()), false);
			self.finalize_on_client(certificate).await;
		}
		moved
	}

	/// Finalizes the certificate's source block on the client, with the certificate as its
	/// `CKPT` justification; remembers it to retry if the client cannot yet.
	async fn finalize_on_client(&mut self, certificate: CheckpointCertificate<B::Hash>) {
		let checkpoint = certificate.link.source;
		let height = checkpoint.number.block_number(self.interval);
		let finalized: u64 = self.client.info().finalized_number.unique_saturated_into();
		if finalized >= height {
			return;
		}
		let client = self.client.clone();
		let pending = certificate.clone();
		let sender = self.finality().published().certificate_sender();
		let result = tokio::task::spawn_blocking(move || {
			finalize_block(
				&*client,
				&sender,
				checkpoint.hash,
				height.saturated_into(),
				&certificate,
			)
		})
		.await
		.unwrap_or_else(|e| Err(sp_blockchain::Error::Application(Box::new(e))));
		match result {
			Ok(finalized) => {
				self.pending_client_finality = None;
				if finalized {
					telemetry!(
						self.telemetry;
						CONSENSUS_INFO;
						"checkpoint.finalized_blocks_up_to";
						"number" => height,
						"hash" => ?checkpoint.hash,
						"checkpoint" => checkpoint.number.0,
					);
				}
			}
			Err(e) => {
				log::warn!(target: LOG_TARGET, "⚠️ Cannot finalize block #{height} yet: {e}");
				self.pending_client_finality = Some(pending);
			}
		}
	}

	/// Finalizes with a certificate that waited for its block, now that blocks came in.
	async fn retry_waiting_finality(&mut self) {
		if !self.finality().is_waiting() {
			return;
		}
		if let Ok(progress) = self.voter(|f| f.retry_waiting()).await {
			if self.on_progress(progress).await {
				self.maybe_vote().await;
			}
		}
	}

	async fn retry_client_finality(&mut self) {
		if let Some(certificate) = self.pending_client_finality.take() {
			self.finalize_on_client(certificate).await;
		}
	}

	/// Follows the client's finality when it moved by an imported justification (sync).
	async fn on_client_finalized(&mut self, _notification: FinalityNotification<B>) {
		self.follow_client_finality().await;
	}

	/// When the client's finality is ahead of the gadget's, imports the certificates the
	/// client holds as justifications of its finalized checkpoint blocks, lowest first (each
	/// verified against the sets tracked, so every set change on the way is enacted), a batch
	/// at a time, until the gadget is level or a certificate does not import.
	async fn follow_client_finality(&mut self) {
		let mut from = self.handle.view().finalized.number.next();
		loop {
			let client_finalized: u64 = self.client.info().finalized_number.unique_saturated_into();
			let to = Epoch::at_or_below(client_finalized, self.interval);
			if from > to || self.handle.view().finalized.number >= to {
				return;
			}
			let (client, interval) = (self.client.clone(), self.interval);
			let (progress, stuck) = self
				.voter(move |f| {
					import_client_justifications(
						f,
						interval,
						from,
						to,
						CLIENT_JUSTIFICATIONS_PER_CALL,
						|height| justification_at::<B, C>(&*client, height),
					)
				})
				.await;
			if self.on_progress(progress).await {
				self.maybe_vote().await;
			}
			if stuck {
				return;
			}
			let finalized = self.handle.view().finalized.number;
			from =
				Epoch(from.0.saturating_add(CLIENT_JUSTIFICATIONS_PER_CALL)).max(finalized.next());
		}
	}

	/// Brings the state machine and the client's finality together after a restart.
	async fn reconcile_with_client(&mut self) {
		let info = self.client.info();
		let client_finalized: u64 = info.finalized_number.unique_saturated_into();
		self.follow_client_finality().await;
		let ours = self.handle.view().finalized;
		if let Some(persistence) = self
			.handle
			.persistence()
			.filter(|_| ours.number.block_number(self.interval) > client_finalized)
		{
			let certificate = tokio::task::spawn_blocking(move || {
				persistence.storage().certificate(ours.number).ok().flatten()
			})
			.await
			.ok()
			.flatten();
			if let Some(certificate) = certificate {
				self.finalize_on_client(certificate).await;
			}
		}
	}

	async fn on_tick(&mut self) {
		self.retry_client_finality().await;
		self.follow_client_finality().await;
		self.request_missed_justifications();
		self.maybe_vote().await;
	}

	/// When finality has not moved since the last tick, asks peers for the justifications of
	/// the checkpoint blocks on the best chain above the finalized checkpoint (inside the vote
	/// window, and above the client's finality): a certificate this node missed (it was down,
	/// or its gossip got lost) comes back with one, without waiting for new votes. Every one,
	/// not only the next: the network may have finalized past the next by a catch-up jump, so
	/// that no peer has its justification, while one above it (say the checkpoint that enacts
	/// a set change) carries one. A justification of a set not enacted here yet waits and
	/// costs its sender nothing; a refused one costs it (the sync layer's report on a failed
	/// justification import).
	fn request_missed_justifications(&mut self) {
		let view = self.handle.view();
		let finalized = view.finalized.number;
		if self.stalled_at != Some(finalized) {
			self.stalled_at = Some(finalized);
			return;
		}
		// Once per stall: the sync layer keeps asking peers until one answers, and drops the
		// requests that finality passes.
		if self.requested == Some(finalized) {
			return;
		}
		let info = self.client.info();
		let client_finalized: u64 = info.finalized_number.unique_saturated_into();
		let best: u64 = info.best_number.unique_saturated_into();
		let interval = u64::from(self.interval);
		let last =
			best.min(Epoch(finalized.0.saturating_add(view.window)).block_number(self.interval));
		let lowest = client_finalized.max(finalized.block_number(self.interval)) + 1;
		// One walk down the best chain from the highest checkpoint asked for; the requests go
		// out lowest first, so that the next checkpoint's is answered first (a justification
		// answered above it, even one that only waits here, makes the sync layer drop the
		// requests below it).
		let mut wanted = Vec::new();
		let mut at = ancestor_at::<B, _>(&*self.client, info.best_hash, last - last % interval);
		while let Some(hash) = at {
			let Ok(header) = self.client.header_metadata(hash) else { break };
			let height: u64 = header.number.unique_saturated_into();
			if height < lowest {
				break;
			}
			if height.is_multiple_of(interval) {
				wanted.push((hash, header.number));
			}
			at = Some(header.parent);
		}
		let asked = wanted.len();
		for (hash, number) in wanted.into_iter().rev() {
			self.sync.request_justification(&hash, number);
		}
		if asked > 0 {
			log::debug!(
				target: LOG_TARGET,
				"Finality stalls at {finalized}: asked peers for the justifications of \
				 {asked} checkpoint blocks above it",
			);
		}
		self.requested = Some(finalized);
	}

	/// Hands the gossip engine what a restart restored: own votes above finality and the
	/// latest certificate. The engine sends them on and, while finality stalls, again.
	fn regossip_restored(&mut self) {
		let finality = self.finality();
		let votes = self.local.as_ref().map(|(_, key)| finality.votes_of(key)).unwrap_or_default();
		let certificate = finality.latest_certificate().cloned();
		for vote in votes {
			self.validator.note_vote(&vote);
			self.gossip(GossipMessage::Vote(vote), true);
		}
		if let Some(certificate) = certificate {
			self.gossip(GossipMessage::Certificate(certificate), true);
		}
	}
}
