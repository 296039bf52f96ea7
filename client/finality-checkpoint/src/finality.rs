//! `CheckpointFinality`: the executor of the [`Voter`]: it hands each input to the voter as an
//! [`Event`], performs the [`Action`]s the voter returns against its store, in order, feeds the
//! writes' results back, and publishes a new [`FinalityView`] when the event is done.
//!
//! The storage guarantees of `docs/design.md` hold here: an own vote is durable before
//! [`CheckpointFinality::record_own_vote`] returns, and a certificate is stored with the
//! watermark it moves, in one transaction, before finality moves in memory (the voter takes
//! such a change only once the executor reports its write done). With storage set, methods
//! block on disk: call them from a blocking thread (the worker does).

use crate::{
	authorities::{ForcedSignal, Signal},
	error::Result,
	state::{
		FinalityConfig, FinalityState, OwnVoteGuard, Progress, VoteRejection, VoterSet, Warp, Write,
	},
	store::persistence::{
		CheckpointFinalityPersistence, CheckpointPersistenceConfig, CheckpointStorage,
	},
	view::{FinalityCounters, FinalityView, Published},
	voter::{Action, ChainAncestry, Event, Outcome, VoteImport, Voter},
	AuthoritySets, CheckpointHash, LOG_TARGET,
};
use sp_finality_checkpoint::{
	AuthorityId, AuthoritySet, Checkpoint, CheckpointCertificate, CheckpointSignature, Epoch,
	EquivocationProof, Link,
};
use std::{collections::VecDeque, sync::Arc};

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

/// The voter with its persistence. See the module documentation.
pub struct CheckpointFinality<H> {
	voter: Voter<H>,
	persistence: Option<CheckpointFinalityPersistence<H>>,
	published: Arc<Published<H>>,
	/// Equivocations found and recorded, for the worker to hand to the reporter.
	reports: Vec<EquivocationProof<H>>,
}

/// The outcome of an event, of the kind the event has.
macro_rules! outcome {
	($self:ident, $event:expr, $kind:ident) => {
		match $self.run($event) {
			Outcome::$kind(outcome) => outcome,
			other => unreachable!("the voter answered {} with {other:?}", stringify!($kind)),
		}
	};
}

impl<H: CheckpointHash> CheckpointFinality<H> {
	/// A state machine for the chain with `genesis_hash` (checkpoint 0, finalized) and the
	/// authority set `voters`.
	pub fn new(genesis_hash: H, voters: VoterSet, config: FinalityConfig) -> Self {
		let voter = Voter::new(genesis_hash, voters, config);
		let published = Arc::new(Published::new(FinalityView::of(voter.state(), voter.counters())));
		Self { voter, persistence: None, published, reports: Vec::new() }
	}

	/// Asks `chain` whether signalled set changes lie on the chain of a checkpoint being
	/// finalized. Without one (tests without a chain), every signal at or below it does.
	pub fn set_chain(&mut self, chain: Arc<dyn ChainAncestry<H>>) {
		self.voter.set_chain(chain);
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
		let state = self.voter.state();
		let stored = persistence.storage().load(&state.genesis_hash(), state.window())?;
		if stored.authority_sets.is_empty() {
			// The first start (or a schema-1 store): the set given here is the genesis set.
			// Stored, later starts need no runtime state of genesis, which pruning discards.
			let sets = state.sets().enacted().cloned().collect::<Vec<_>>();
			persistence.storage().store_sets(&sets)?;
		}
		let votes = outcome!(self, Event::Restore(stored), Restored)?;
		Ok(self.summary(votes))
	}

	fn summary(&self, votes: usize) -> RestoreSummary<H> {
		let state = self.voter.state();
		RestoreSummary {
			finalized: state.last_finalized(),
			justified: state.highest_justified(),
			votes,
			guard: state.guard(),
			guard_found: state.guard_found(),
		}
	}

	/// The pure state machine, for reading.
	pub fn state(&self) -> &FinalityState<H> {
		self.voter.state()
	}

	/// What this shell publishes for readers.
	pub(crate) fn published(&self) -> Arc<Published<H>> {
		self.published.clone()
	}

	/// The chain's genesis hash.
	pub fn genesis_hash(&self) -> H {
		self.state().genesis_hash()
	}

	/// The current authority set.
	pub fn voters(&self) -> &VoterSet {
		self.state().voters()
	}

	/// The finalized checkpoint.
	pub fn last_finalized(&self) -> Checkpoint<H> {
		self.state().last_finalized()
	}

	/// The highest justified checkpoint (the finalized one if none is above it).
	pub fn highest_justified(&self) -> Checkpoint<H> {
		self.state().highest_justified()
	}

	/// The own-vote guard.
	pub fn guard(&self) -> OwnVoteGuard {
		self.state().guard()
	}

	/// The counters.
	pub fn counters(&self) -> &FinalityCounters {
		self.voter.counters()
	}

	/// The certificate of the latest finality step taken by this instance.
	pub fn latest_certificate(&self) -> Option<&CheckpointCertificate<H>> {
		self.state().latest_certificate()
	}

	/// Votes of `key` above finality, lowest target first.
	pub fn votes_of(&self, key: &AuthorityId) -> Vec<CheckpointSignature<H>> {
		self.state().votes_of(key)
	}

	/// Notes a set change a block's header signals ([`Self::note_signal`] or
	/// [`Self::note_forced`]). Returns whether it is new.
	pub(crate) fn note(&mut self, signal: Signal<H>) -> bool {
		outcome!(self, Event::Signal(signal), Noted)
	}

	/// Notes a set change signalled in checkpoint block `checkpoint` (block import reads it
	/// off the header) and stores the signals. Returns whether it is new.
	pub fn note_signal(&mut self, checkpoint: Checkpoint<H>, set: AuthoritySet) -> bool {
		self.note(Signal::Scheduled(checkpoint, set))
	}

	/// Notes a forced set change (block import reads it off the header) and stores the
	/// signals. Returns whether it is new.
	pub fn note_forced(&mut self, signal: ForcedSignal<H>) -> bool {
		self.note(Signal::Forced(signal))
	}

	/// Forgets the set changes that block `hash` signalled: its import failed, so it is on no
	/// chain and its signal must never be the set.
	pub fn forget_signals_of(&mut self, hash: &H) {
		self.run(Event::ForgetSignals(*hash));
	}

	/// The link this node should vote for to target `target`, or `None` to abstain (see
	/// [`FinalityState::own_vote_link`]).
	pub fn own_vote_link(
		&self,
		target: Checkpoint<H>,
		is_ancestor: impl Fn(&Checkpoint<H>) -> bool,
	) -> Option<Link<H>> {
		self.state().own_vote_link(target, is_ancestor)
	}

	/// Whether votes for target `number` split (see [`FinalityState::split_at`]).
	pub fn split_at(&self, number: Epoch) -> bool {
		self.state().split_at(number)
	}

	/// Validates and takes another validator's vote: set, membership, window, duplicates, then
	/// the signature. Keeps E1/E2 evidence, buffers the vote for persistence and returns what
	/// it justified or finalized. A rejected vote changes nothing but the counters.
	pub fn add_checkpoint_signature(
		&mut self,
		vote: CheckpointSignature<H>,
	) -> std::result::Result<VoteImport<H>, VoteRejection> {
		outcome!(self, Event::Vote(vote, false), Vote)
	}

	/// [`Self::add_checkpoint_signature`] for a vote whose signature the gossip validator
	/// checked already: it is not checked again.
	pub fn add_verified_vote(
		&mut self,
		vote: CheckpointSignature<H>,
	) -> std::result::Result<VoteImport<H>, VoteRejection> {
		outcome!(self, Event::Vote(vote, true), Vote)
	}

	/// Records this node's own signed vote: checks the guard and the vote, raises the guard,
	/// and makes both durable before returning. Only a vote for which this returns `Ok` may be
	/// gossiped. Fails closed: when persisting fails, the guard stays raised, the vote is not
	/// taken and the error says why.
	pub fn record_own_vote(&mut self, vote: CheckpointSignature<H>) -> Result<VoteImport<H>> {
		outcome!(self, Event::OwnVote(vote), OwnVote)
	}

	/// Checks a vote that arrived from the network signed with this node's own key (as
	/// validator `vote.validator_index`). Returns `Ok(true)` when it is valid and lies outside
	/// the own-vote guard, so this node cannot have cast it: its key votes on another machine.
	/// The guard is then raised to cover it and made durable, so that this node never signs a
	/// vote conflicting with it. A vote inside the guard (an own vote from before a restart or
	/// purge, echoed back) or an invalid one returns `Ok(false)` and changes nothing.
	pub fn check_own_key_vote(&mut self, vote: &CheckpointSignature<H>) -> Result<bool> {
		outcome!(self, Event::OwnKeyVote(vote.clone()), OwnKeyVote)
	}

	/// Takes a certificate that arrived on its own (gossip or an imported justification):
	/// finalizes its source as [`Self::advance_finality`] does, then re-checks the votes held,
	/// which may now justify or finalize more (their source was the certificate's target).
	/// The progress names the highest certificate that finalized something.
	pub fn import_certificate(
		&mut self,
		certificate: CheckpointCertificate<H>,
	) -> Result<Progress<H>> {
		let finality = outcome!(self, Event::Certificate(certificate, None), Finality);
		finality.map(Option::unwrap_or_default)
	}

	/// [`Self::import_certificate`] for a certificate verified already against `verified_with`,
	/// the authority sets of a published view: its signatures are verified again only if the
	/// sets changed since.
	pub fn import_verified_certificate(
		&mut self,
		certificate: CheckpointCertificate<H>,
		verified_with: &Arc<AuthoritySets<H>>,
	) -> Result<Progress<H>> {
		let event = Event::Certificate(certificate, Some(verified_with.clone()));
		outcome!(self, event, Finality).map(Option::unwrap_or_default)
	}

	/// Puts in force the forced change that imported block `hash` at height `number` makes due,
	/// if its signal is on that block's chain: the sets are stored first. Returns whether a set
	/// was forced in, and what the votes held for it justified or finalized.
	pub fn apply_forced(&mut self, number: u64, hash: H) -> Result<Option<Progress<H>>> {
		outcome!(self, Event::BlockImported(number, hash), Forced)
	}

	/// Jumps to what a warp sync proof proved: stores its certificates and the sets they
	/// enacted, then finalizes its checkpoint with the proof's sets in force. Returns what that
	/// finalized, `None` when finality is at or above the proof's already.
	pub fn warp(&mut self, warp: Warp<H>) -> Result<Option<Progress<H>>> {
		outcome!(self, Event::Warp(warp), Finality)
	}

	/// Whether a certificate waits for its block to be imported ([`Self::retry_waiting`]).
	pub fn is_waiting(&self) -> bool {
		self.voter.is_waiting()
	}

	/// Finalizes with the certificate that waited for its block, if the block is imported
	/// now.
	pub fn retry_waiting(&mut self) -> Result<Progress<H>> {
		outcome!(self, Event::RetryWaiting, Finality).map(Option::unwrap_or_default)
	}

	/// The certificate for `link` from the signatures collected, if they are a supermajority.
	pub fn create_checkpoint_certificate(
		&self,
		link: &Link<H>,
	) -> Option<CheckpointCertificate<H>> {
		self.state().create_checkpoint_certificate(link)
	}

	/// Finalizes `certificate.link.source`: verifies the certificate against the set, persists
	/// it with the watermark it moves (one transaction), then moves finality in memory and
	/// drops what lies below it. Returns `Ok(false)` for a checkpoint at or below the
	/// finalized one: finality never moves backwards. On an invalid certificate or a
	/// persistence error nothing moves.
	pub fn advance_finality(&mut self, certificate: CheckpointCertificate<H>) -> Result<bool> {
		let finality = outcome!(self, Event::Certificate(certificate, None), Finality);
		finality.map(|progress| progress.is_some())
	}

	/// The equivocations found since the last call, to be reported on chain.
	pub(crate) fn take_reports(&mut self) -> Vec<EquivocationProof<H>> {
		std::mem::take(&mut self.reports)
	}

	/// Hands `event` to the voter and performs what it asks, in order, until it is done;
	/// publishes the view. Returns the event's outcome.
	fn run(&mut self, event: Event<H>) -> Outcome<H> {
		let mut actions: VecDeque<Action<H>> = self.voter.on(event).into();
		let mut outcome = Outcome::Nothing;
		while let Some(action) = actions.pop_front() {
			let more = match action {
				Action::Record(write) => match self.persist(&write) {
					Ok(()) => continue,
					Err(e) => self.voter.on(Event::RecordFailed(write_name(&write), e)),
				},
				Action::Store(write, resume) => {
					// What the voter did so far (a raised guard) is seen while the write runs.
					self.publish();
					let stored = self.persist(&write);
					if stored.is_ok() {
						self.log_stored(&write);
					}
					self.voter.on(Event::Stored(resume, stored))
				}
				Action::Report(proof) => {
					self.reports.push(proof);
					continue;
				}
				Action::Done(done) => {
					outcome = done;
					continue;
				}
			};
			for action in more.into_iter().rev() {
				actions.push_front(action);
			}
		}
		self.publish();
		outcome
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
			// One transaction a certificate, in order: a crash between two leaves the store at
			// an enacting checkpoint with its sets, a state this node could have reached by
			// finality. The latest is stored on its own unless it is the last change's.
			Write::Warp(warp) => {
				for (certificate, sets) in &warp.changes {
					storage.store_certificate(certificate, &certificate.link.target, Some(sets))?;
				}
				let last = warp.changes.last().map(|(c, _)| c.link.source.number);
				if last.is_none_or(|last| warp.latest.link.source.number > last) {
					storage.store_certificate(&warp.latest, &warp.latest.link.target, None)?;
				}
				Ok(())
			}
		}
	}

	/// The log line of a durable own vote or certificate.
	fn log_stored(&self, write: &Write<H>) {
		if self.persistence.is_none() {
			return;
		}
		match write {
			Write::OwnVote(vote, _) => log::info!(
				target: LOG_TARGET,
				"📝 Stored signature: own vote {} -> {}",
				vote.link.source.number,
				vote.link.target.number,
			),
			Write::Certificate(certificate, ..) => log::info!(
				target: LOG_TARGET,
				"📜 Stored certificate for {} ({} signatures)",
				certificate.link.source.number,
				certificate.signatures.len(),
			),
			_ => {}
		}
	}

	/// Publishes the current view to readers.
	fn publish(&self) {
		self.published.set_view(FinalityView::of(self.voter.state(), self.voter.counters()));
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
		Write::Warp(_) => "a warp sync proof's certificates",
	}
}
