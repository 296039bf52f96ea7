//! `CheckpointFinality`: the shell around the pure [`FinalityState`] that makes its changes
//! durable, counts them and publishes them to readers.
//!
//! Every method hands the state machine's input to [`FinalityState`], persists the
//! [`Write`]s it returns through the optional [`CheckpointFinalityPersistence`] and then
//! publishes a new [`FinalityView`]. The guarantees of the integration guide hold here: an own
//! vote is durable before [`CheckpointFinality::record_own_vote`] returns, and a certificate is
//! stored with the watermark it moves, in one transaction, before finality moves in memory.
//! With storage set, methods block on disk: call them from a blocking thread.

use crate::{
	authorities::{AuthoritySets, ForcedSignal, Signal, SignalError},
	error::{Error, Result},
	state::{
		FinalityConfig, FinalityState, OwnVoteGuard, Progress, Step, VoteRejection, VoterSet, Write,
	},
	store::persistence::{
		CheckpointFinalityPersistence, CheckpointPersistenceConfig, CheckpointStorage,
	},
	view::{FinalityCounters, FinalityView, Published},
	CheckpointHash, LOG_TARGET,
};
use sp_finality_checkpoint::{
	AuthorityId, AuthoritySet, Checkpoint, CheckpointCertificate, CheckpointNumber,
	CheckpointSignature, Link,
};
use std::{collections::HashSet, sync::Arc};

/// The chain's ancestry, which tells whether a signalled set change lies on the chain of a
/// checkpoint being finalized.
pub trait ChainAncestry<H>: Send + Sync {
	/// Whether `ancestor` is `block` or one of its ancestors; `None` when `block` is not
	/// imported.
	fn is_ancestor(&self, ancestor: &H, block: &H) -> Option<bool>;

	/// Whether `block` is imported.
	fn is_imported(&self, block: &H) -> bool {
		self.is_ancestor(block, block).is_some()
	}
}

/// What importing a vote did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoteImport<H> {
	/// The vote conflicts with an earlier vote of the same validator (E1 or E2); the pair is
	/// kept as evidence.
	pub equivocation: bool,
	/// What the vote justified or finalized.
	pub progress: Progress<H>,
}

/// What [`CheckpointFinality::restore_from_storage`] brought back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestoreSummary<H> {
	/// The finalized checkpoint after the restore.
	pub finalized: Checkpoint<H>,
	/// The highest justified checkpoint after the restore.
	pub justified: Checkpoint<H>,
	/// Votes above finality taken back into memory.
	pub votes: usize,
	/// The own-vote guard after the restore.
	pub guard: OwnVoteGuard,
	/// Whether a guard was found in storage; `false` for a validator that never voted here
	/// (or whose guard was wiped).
	pub guard_found: bool,
}

/// The checkpoint finality state machine with its persistence. See the module documentation.
pub struct CheckpointFinality<H> {
	state: FinalityState<H>,
	counters: FinalityCounters,
	persistence: Option<CheckpointFinalityPersistence<H>>,
	chain: Option<Arc<dyn ChainAncestry<H>>>,
	/// A certificate whose finality waits for its block (see [`Error::BlockNotImported`]).
	waiting: Option<CheckpointCertificate<H>>,
	published: Arc<Published<H>>,
}

impl<H: CheckpointHash> CheckpointFinality<H> {
	/// A state machine for the chain with `genesis_hash` (checkpoint 0, finalized) and the
	/// authority set `voters`.
	pub fn new(genesis_hash: H, voters: VoterSet, config: FinalityConfig) -> Self {
		let state = FinalityState::new(genesis_hash, voters, config);
		let counters = FinalityCounters::default();
		let published = Arc::new(Published::new(FinalityView::of(&state, &counters)));
		Self { state, counters, persistence: None, chain: None, waiting: None, published }
	}

	/// Asks `chain` whether signalled set changes lie on the chain of a checkpoint being
	/// finalized. Without one (tests without a chain), every signal at or below it does.
	pub fn set_chain(&mut self, chain: Arc<dyn ChainAncestry<H>>) {
		self.chain = Some(chain);
	}

	/// Persists through `storage` with `config`'s timing; with `enabled: false` the state
	/// lives in memory only (and a restarted validator may double-vote).
	pub fn set_storage(
		&mut self,
		storage: Arc<dyn CheckpointStorage<H>>,
		config: CheckpointPersistenceConfig,
	) {
		if !config.enabled {
			log::warn!(
				target: LOG_TARGET,
				"⚠️ Checkpoint persistence disabled: votes, certificates and the own-vote guard \
				 are lost on restart",
			);
			self.persistence = None;
		} else {
			log::info!(
				target: LOG_TARGET,
				"💾 Checkpoint persistence enabled (retention {} checkpoints, flush every {}s, \
				 prune every {}s)",
				config.retention_checkpoints,
				config.flush_interval_secs,
				config.prune_interval_secs,
			);
			self.persistence = Some(CheckpointFinalityPersistence::new(storage, config));
		}
		self.published.set_persistence(self.persistence.clone());
		self.publish();
	}

	/// The persistence layer, if set: the maintenance task shares it.
	pub fn persistence(&self) -> Option<&CheckpointFinalityPersistence<H>> {
		self.persistence.as_ref()
	}

	/// Rebuilds the state from storage: finality and justified watermarks, the own-vote guard
	/// (before any vote can be cast) and the votes above finality. Refuses a store of another
	/// chain or of a newer schema. A no-op without storage.
	pub fn restore_from_storage(&mut self) -> Result<RestoreSummary<H>> {
		let Some(persistence) = self.persistence.clone() else { return Ok(self.summary(0)) };
		log::info!(target: LOG_TARGET, "🔄 Restoring checkpoint state from storage");
		let stored = persistence.storage().load(&self.state.genesis_hash(), self.state.window())?;
		if stored.authority_sets.is_empty() {
			// The first start (or a schema-1 store): the set given here is the genesis set.
			// Stored, later starts need no runtime state of genesis, which pruning discards.
			let sets = self.state.sets().enacted().cloned().collect::<Vec<_>>();
			persistence.storage().store_sets(&sets)?;
		}
		let (restored, step) = self
			.state
			.restore(
				stored.authority_sets,
				stored.signals,
				stored.finalized,
				stored.justified,
				stored.own_vote_guard,
				stored.votes,
			)
			.map_err(|sets| {
				let ids: Vec<_> = sets.iter().map(|s| s.id).collect();
				Error::StoredSets(format!("set ids {ids:?}"))
			})?;
		self.apply(step);
		let guard = self.state.guard();
		log::info!(
			target: LOG_TARGET,
			"✅ Checkpoint state restored successfully: authority set {}, finalized {}, justified \
			 {}, {} votes, own-vote guard {} -> {}",
			self.state.voters().set_id(),
			self.state.last_finalized().number,
			self.state.highest_justified().number,
			restored,
			guard.source,
			guard.target,
		);
		self.publish();
		Ok(self.summary(restored))
	}

	fn summary(&self, votes: usize) -> RestoreSummary<H> {
		RestoreSummary {
			finalized: self.state.last_finalized(),
			justified: self.state.highest_justified(),
			votes,
			guard: self.state.guard(),
			guard_found: self.state.guard_found(),
		}
	}

	/// The pure state machine, for reading.
	pub fn state(&self) -> &FinalityState<H> {
		&self.state
	}

	/// What this shell publishes for readers.
	pub(crate) fn published(&self) -> Arc<Published<H>> {
		self.published.clone()
	}

	/// The chain's genesis hash.
	pub fn genesis_hash(&self) -> H {
		self.state.genesis_hash()
	}

	/// The current authority set.
	pub fn voters(&self) -> &VoterSet {
		self.state.voters()
	}

	/// The finalized checkpoint.
	pub fn last_finalized(&self) -> Checkpoint<H> {
		self.state.last_finalized()
	}

	/// The highest justified checkpoint (the finalized one if none is above it).
	pub fn highest_justified(&self) -> Checkpoint<H> {
		self.state.highest_justified()
	}

	/// The own-vote guard.
	pub fn guard(&self) -> OwnVoteGuard {
		self.state.guard()
	}

	/// The counters.
	pub fn counters(&self) -> &FinalityCounters {
		&self.counters
	}

	/// The certificate of the latest finality step taken by this instance.
	pub fn latest_certificate(&self) -> Option<&CheckpointCertificate<H>> {
		self.state.latest_certificate()
	}

	/// Votes of `key` above finality, lowest target first.
	pub fn votes_of(&self, key: &AuthorityId) -> Vec<CheckpointSignature<H>> {
		self.state.votes_of(key)
	}

	/// Notes a set change a block's header signals ([`Self::note_signal`] or
	/// [`Self::note_forced`]). Returns whether it is new.
	pub(crate) fn note(&mut self, signal: Signal<H>) -> bool {
		match signal {
			Signal::Scheduled(checkpoint, set) => self.note_signal(checkpoint, set),
			Signal::Forced(forced) => self.note_forced(forced),
		}
	}

	/// Notes a set change signalled in checkpoint block `checkpoint` (block import reads it
	/// off the header) and stores the signals. Returns whether it is new.
	pub fn note_signal(&mut self, checkpoint: Checkpoint<H>, set: AuthoritySet) -> bool {
		let (id, size) = (set.id, set.authorities.len());
		match self.state.note_signal(checkpoint, set) {
			Ok(Some(write)) => {
				log::info!(
					target: LOG_TARGET,
					"📣 Authority set {id} ({size} validators) signalled in checkpoint block {} \
					 ({:?}); it takes over once a checkpoint at or above it is finalized",
					checkpoint.number,
					checkpoint.hash,
				);
				self.persist_signals(&write);
				self.publish();
				true
			}
			Ok(None) => false,
			Err(e @ SignalError::Late { .. }) => {
				log::debug!(target: LOG_TARGET, "Set change signal passed by finality: {e}");
				false
			}
			Err(e) => {
				log::warn!(target: LOG_TARGET, "⚠️ Ignored a set change signal: {e}");
				false
			}
		}
	}

	/// The link this node should vote for to target `target`, or `None` to abstain (see
	/// [`FinalityState::own_vote_link`]).
	pub fn own_vote_link(
		&self,
		target: Checkpoint<H>,
		is_ancestor: impl Fn(&Checkpoint<H>) -> bool,
	) -> Option<Link<H>> {
		self.state.own_vote_link(target, is_ancestor)
	}

	/// Whether votes for target `number` split (see [`FinalityState::split_at`]).
	pub fn split_at(&self, number: CheckpointNumber) -> bool {
		self.state.split_at(number)
	}

	/// Validates and takes another validator's vote: set, membership, window, duplicates, then
	/// the signature. Keeps E1/E2 evidence, buffers the vote for persistence and returns what
	/// it justified or finalized. A rejected vote changes nothing but the counters.
	pub fn add_checkpoint_signature(
		&mut self,
		signature: CheckpointSignature<H>,
	) -> std::result::Result<VoteImport<H>, VoteRejection> {
		self.import_vote(signature, false)
	}

	/// [`Self::add_checkpoint_signature`] for a vote whose signature the gossip validator
	/// checked already: it is not checked again.
	pub fn add_verified_vote(
		&mut self,
		signature: CheckpointSignature<H>,
	) -> std::result::Result<VoteImport<H>, VoteRejection> {
		self.import_vote(signature, true)
	}

	fn import_vote(
		&mut self,
		signature: CheckpointSignature<H>,
		verified: bool,
	) -> std::result::Result<VoteImport<H>, VoteRejection> {
		let link = signature.link;
		let step = match self.state.import_vote(signature, verified) {
			Ok(step) => step,
			Err(rejection) => {
				self.counters.rejected_votes += 1;
				log::debug!(target: LOG_TARGET, "Rejected vote {link:?}: {rejection}");
				self.publish();
				return Err(rejection);
			}
		};
		self.counters.total_signatures += 1;
		let equivocation = step.equivocation;
		let progress = self.apply(step);
		self.publish();
		Ok(VoteImport { equivocation, progress })
	}

	/// Records this node's own signed vote: checks the guard and the vote, raises the guard,
	/// and makes both durable before returning. Only a vote for which this returns `Ok` may be
	/// gossiped. Fails closed: when persisting fails, the guard stays raised, the vote is not
	/// taken and the error says why.
	pub fn record_own_vote(&mut self, vote: CheckpointSignature<H>) -> Result<VoteImport<H>> {
		// The raised guard is published (and kept) whatever follows.
		let write = self.state.begin_own_vote(&vote)?;
		self.publish();
		if let Err(e) = self.persist(&write) {
			self.counters.own_vote_failures += 1;
			log::error!(
				target: LOG_TARGET,
				"❌ Not voting for checkpoint {}: the vote could not be persisted: {e}",
				vote.link.target.number,
			);
			self.publish();
			return Err(e);
		}
		if self.persistence.is_some() {
			log::info!(
				target: LOG_TARGET,
				"📝 Stored signature: own vote {} -> {}",
				vote.link.source.number,
				vote.link.target.number,
			);
		}
		let step = self.state.finish_own_vote(vote);
		self.counters.own_votes += 1;
		self.counters.total_signatures += 1;
		let progress = self.apply(step);
		self.publish();
		Ok(VoteImport { equivocation: false, progress })
	}

	/// Checks a vote that arrived from the network signed with this node's own key (as
	/// validator `vote.validator_index`). Returns `Ok(true)` when it is valid and lies outside
	/// the own-vote guard, so this node cannot have cast it: its key votes on another machine.
	/// The guard is then raised to cover it and made durable, so that this node never signs a
	/// vote conflicting with it. A vote inside the guard (an own vote from before a restart or
	/// purge, echoed back) or an invalid one returns `Ok(false)` and changes nothing.
	pub fn check_own_key_vote(&mut self, vote: &CheckpointSignature<H>) -> Result<bool> {
		let Some(write) = self.state.raise_guard_over(vote) else { return Ok(false) };
		self.publish();
		if let Err(e) = self.persist(&write) {
			self.counters.own_vote_failures += 1;
			log::error!(target: LOG_TARGET, "❌ Cannot persist the raised own-vote guard: {e}");
			return Err(e);
		}
		Ok(true)
	}

	/// Takes a certificate that arrived on its own (gossip or an imported justification):
	/// finalizes its source as [`Self::advance_finality`] does, then re-checks the votes held,
	/// which may now justify or finalize more (their source was the certificate's target).
	/// The progress names the highest certificate that finalized something.
	pub fn import_certificate(
		&mut self,
		certificate: CheckpointCertificate<H>,
	) -> Result<Progress<H>> {
		let progress = self.verify_and_finalize(certificate, None)?.unwrap_or_default();
		self.publish();
		Ok(progress)
	}

	/// [`Self::import_certificate`] for a certificate verified already against `verified_with`,
	/// the authority sets of a published view: its signatures are verified again only if the
	/// sets changed since.
	pub fn import_verified_certificate(
		&mut self,
		certificate: CheckpointCertificate<H>,
		verified_with: &Arc<AuthoritySets<H>>,
	) -> Result<Progress<H>> {
		let progress = self.verify_and_finalize(certificate, Some(verified_with))?;
		self.publish();
		Ok(progress.unwrap_or_default())
	}

	/// Notes a forced set change (block import reads it off the header) and stores the
	/// signals. Returns whether it is new.
	pub fn note_forced(&mut self, signal: ForcedSignal<H>) -> bool {
		let (id, size) = (signal.set.id, signal.set.authorities.len());
		let (number, hash, effective_at) =
			(signal.block_number, signal.block_hash, signal.effective_at());
		match self.state.note_forced(signal) {
			Ok(Some(write)) => {
				log::warn!(
					target: LOG_TARGET,
					"⚡ Forced change to authority set {id} ({size} validators) signalled in block \
					 #{number} ({hash:?}): in force from block #{effective_at}, without finality",
				);
				self.persist_signals(&write);
				self.publish();
				true
			}
			Ok(None) => false,
			Err(e) => {
				log::debug!(target: LOG_TARGET, "Forced change signal ignored: {e}");
				false
			}
		}
	}

	/// Forgets the set changes that block `hash` signalled: its import failed, so it is on no
	/// chain and its signal must never be the set.
	pub fn forget_signals_of(&mut self, hash: &H) {
		if let Some(write) = self.state.forget_signals_of(hash) {
			log::debug!(target: LOG_TARGET, "Forgot the set change signals of block {hash:?}: its import failed");
			self.persist_signals(&write);
			self.publish();
		}
	}

	/// Stores the signals noted; a failure is logged (the signals stay noted in memory, and a
	/// restart notes those above finality again from the headers).
	fn persist_signals(&mut self, write: &Write<H>) {
		if let Err(e) = self.persist(write) {
			self.counters.persistence_failures += 1;
			log::warn!(target: LOG_TARGET, "⚠️ Failed to persist {}: {e}", write_name(write));
		}
	}

	/// Puts in force the forced change that imported block `hash` at height `number` makes due,
	/// if its signal is on that block's chain: the sets are stored first. Returns whether a set
	/// was forced in, and what the votes held for it justified or finalized.
	pub fn apply_forced(&mut self, number: u64, hash: H) -> Result<Option<Progress<H>>> {
		let due: Vec<H> = self.state.sets().forced_due(number).copied().collect();
		if due.is_empty() {
			return Ok(None);
		}
		let on_chain: HashSet<H> = due
			.into_iter()
			.filter(|signal| {
				self.chain.as_ref().is_none_or(|c| c.is_ancestor(signal, &hash) == Some(true))
			})
			.collect();
		let is_ancestor = |signal: &H| on_chain.contains(signal);
		let Some(write) = self.state.forced_write(number, is_ancestor) else { return Ok(None) };
		self.persist(&write).inspect_err(|e| {
			log::error!(target: LOG_TARGET, "❌ Cannot store the forced authority set; it waits: {e}");
		})?;
		let Some((set, step)) = self.state.apply_forced(number, is_ancestor) else {
			return Ok(None);
		};
		log::warn!(
			target: LOG_TARGET,
			"⚡ Authority set {} ({} validators) forced in at block #{number}: votes with sources \
			 at or above checkpoint {} are this set's; finalized from there on {:?}",
			set.id,
			set.authorities.len(),
			set.enacted_by.map_or(0, |c| c.number.0),
			self.state.last_finalized().hash,
		);
		let progress = self.apply(step);
		self.publish();
		Ok(Some(progress))
	}

	/// Whether a certificate waits for its block to be imported ([`Self::retry_waiting`]).
	pub fn is_waiting(&self) -> bool {
		self.waiting.is_some()
	}

	/// Finalizes with the certificate that waited for its block, if the block is imported
	/// now.
	pub fn retry_waiting(&mut self) -> Result<Progress<H>> {
		let Some(certificate) = self.waiting.take() else { return Ok(Progress::default()) };
		let progress = self.finalize(certificate)?.unwrap_or_default();
		self.publish();
		Ok(progress)
	}

	/// The certificate for `link` from the signatures collected, if they are a supermajority.
	pub fn create_checkpoint_certificate(
		&self,
		link: &Link<H>,
	) -> Option<CheckpointCertificate<H>> {
		self.state.create_checkpoint_certificate(link)
	}

	/// Finalizes `certificate.link.source`: verifies the certificate against the set, persists
	/// it with the watermark it moves (one transaction), then moves finality in memory and
	/// drops what lies below it. Returns `Ok(false)` for a checkpoint at or below the
	/// finalized one: finality never moves backwards. On an invalid certificate or a
	/// persistence error nothing moves.
	pub fn advance_finality(&mut self, certificate: CheckpointCertificate<H>) -> Result<bool> {
		let moved = self.verify_and_finalize(certificate, None)?.is_some();
		self.publish();
		Ok(moved)
	}

	/// Verifies `certificate` against the set of its link, unless it was verified against
	/// these very sets (`verified_with`), then finalizes its source; `None` when finality is at
	/// or above it already.
	fn verify_and_finalize(
		&mut self,
		certificate: CheckpointCertificate<H>,
		verified_with: Option<&Arc<AuthoritySets<H>>>,
	) -> Result<Option<Progress<H>>> {
		if certificate.link.source.number <= self.state.last_finalized().number {
			return Ok(None);
		}
		if !verified_with.is_some_and(|sets| Arc::ptr_eq(self.state.sets(), sets)) {
			self.state
				.sets()
				.verify_certificate(&self.state.genesis_hash(), &certificate)
				.map_err(Error::InvalidCertificate)?;
		}
		self.finalize(certificate)
	}

	/// The signalling blocks at or below `checkpoint` that lie on its chain. Until the
	/// checkpoint's block is imported, nobody can tell whether a signal not noted yet lies
	/// below it: [`Error::BlockNotImported`], even when no signal is pending.
	fn signals_on_chain(&self, checkpoint: &Checkpoint<H>) -> Result<HashSet<H>> {
		let signals = self.state.sets().signals_up_to(checkpoint.number).copied();
		let Some(chain) = &self.chain else { return Ok(signals.collect()) };
		if !chain.is_imported(&checkpoint.hash) {
			return Err(Error::BlockNotImported(checkpoint.number));
		}
		let mut on_chain = HashSet::new();
		for signal in signals {
			match chain.is_ancestor(&signal, &checkpoint.hash) {
				Some(true) => {
					on_chain.insert(signal);
				}
				Some(false) => {}
				None => {
					return Err(Error::BlockNotImported(checkpoint.number));
				}
			}
		}
		Ok(on_chain)
	}

	/// Stores a certificate made from verified votes (with the set change its finality enacts),
	/// then finalizes its source and takes what that makes final in turn. `None` when finality
	/// is at or above the source already; else the progress, naming the highest certificate
	/// that finalized something.
	fn finalize(&mut self, certificate: CheckpointCertificate<H>) -> Result<Option<Progress<H>>> {
		let checkpoint = certificate.link.source;
		let on_chain = match self.signals_on_chain(&checkpoint) {
			Ok(on_chain) => on_chain,
			Err(e) => {
				// Verified already: it finalizes once its block is imported.
				self.waiting = Some(certificate);
				return Err(e);
			}
		};
		let is_ancestor = |hash: &H| on_chain.contains(hash);
		let Some(write) = self.state.certificate_write(&certificate, is_ancestor) else {
			return Ok(None);
		};
		if let Err(e) = self.persist(&write) {
			self.counters.persistence_failures += 1;
			log::error!(
				target: LOG_TARGET,
				"❌ Failed to persist the certificate of checkpoint {}; finality waits: {e}",
				checkpoint.number,
			);
			return Err(e);
		}
		if self.persistence.is_some() {
			log::info!(
				target: LOG_TARGET,
				"📜 Stored certificate for checkpoint {} ({} signatures)",
				checkpoint.number,
				certificate.signatures.len(),
			);
		}
		let Some((enacted, step)) = self.state.finalize(certificate.clone(), is_ancestor) else {
			return Ok(None);
		};
		self.counters.total_certificates += 1;
		log::info!(
			target: LOG_TARGET,
			"🏁 Updated last finalized checkpoint: {} ({:?})",
			checkpoint.number,
			checkpoint.hash,
		);
		if let Some(set) = enacted {
			log::info!(
				target: LOG_TARGET,
				"🔀 Authority set {} ({} validators) enacted by checkpoint {}: votes with sources \
				 above it are this set's",
				set.id,
				set.authorities.len(),
				checkpoint.number,
			);
		}
		let mut progress = self.apply(step);
		progress.finalized.get_or_insert(certificate);
		Ok(Some(progress))
	}

	/// Persists a step's records (a failure is counted and logged: none of them is needed for
	/// safety) and finalizes what it made final.
	fn apply(&mut self, step: Step<H>) -> Progress<H> {
		for write in &step.writes {
			if let Write::Evidence(first, second) = write {
				self.counters.equivocations += 1;
				log::warn!(
					target: LOG_TARGET,
					"⚠️ Equivocation by validator {}: {} -> {} and {} -> {}",
					second.validator_index,
					first.link.source.number,
					first.link.target.number,
					second.link.source.number,
					second.link.target.number,
				);
			}
			if let Err(e) = self.persist(write) {
				self.counters.persistence_failures += 1;
				log::warn!(target: LOG_TARGET, "⚠️ Failed to persist {}: {e}", write_name(write));
			}
		}
		let mut progress = Progress { justified: step.justified, finalized: None };
		match step.finalizable.map(|certificate| self.finalize(certificate)) {
			Some(Ok(Some(more))) => {
				progress.justified.extend(more.justified);
				progress.finalized = more.finalized;
			}
			Some(Err(e @ Error::BlockNotImported(_))) => {
				log::debug!(target: LOG_TARGET, "{e}");
			}
			_ => {}
		}
		progress
	}

	/// Hands one record to the store; a no-op without persistence.
	fn persist(&self, write: &Write<H>) -> Result<()> {
		let Some(persistence) = &self.persistence else { return Ok(()) };
		let storage = persistence.storage();
		match write {
			Write::Vote(vote) => persistence.buffer_vote(vote.clone()),
			Write::Evidence(first, second) => storage.store_evidence(first, second),
			Write::Justified(justified) => storage.store_justified(justified),
			Write::OwnVote(vote, guard) => storage.store_own_vote(vote, guard),
			Write::Guard(guard) => storage.store_guard(guard),
			Write::Certificate(certificate, justified, sets) => {
				storage.store_certificate(certificate, justified, sets.as_deref())
			}
			Write::Sets(sets) => storage.store_sets(sets),
			Write::Signals(signals) => storage.store_signals(signals),
		}
	}

	/// Publishes the current view to readers.
	fn publish(&self) {
		self.published.set_view(FinalityView::of(&self.state, &self.counters));
	}
}

/// What a record is, for a log line.
fn write_name<H>(write: &Write<H>) -> &'static str {
	match write {
		Write::Vote(_) => "a signature",
		Write::Evidence(..) => "equivocation evidence",
		Write::Justified(_) => "the justified checkpoint",
		Write::OwnVote(..) => "an own vote",
		Write::Guard(_) => "the own-vote guard",
		Write::Certificate(..) => "a certificate",
		Write::Sets(_) => "the authority sets",
		Write::Signals(_) => "the signalled set changes",
	}
}
