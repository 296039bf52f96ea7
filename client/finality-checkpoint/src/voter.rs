//! The voter: the one place the finality state changes, as a machine that takes an [`Event`]
//! and returns the [`Action`]s it calls for (the shape of BEEFY's rounds and of GRANDPA's
//! voter set state). It never touches a disk.
//!
//! A change that must be durable before it takes effect (an own vote, a certificate with the
//! watermark it moves, a guard raised over a vote of our key cast elsewhere, a forced set) is
//! split in two: the voter returns [`Action::Store`] with what to resume, and the change takes
//! effect only on the [`Event::Stored`] that reports the write done, so a failed write leaves
//! the state as it was (persist, then swap). Records not needed for safety (other validators'
//! votes, evidence, the justified watermark, the signals) are [`Action::Record`]s; a failed one
//! comes back as [`Event::RecordFailed`] and is counted. The last action of an event (and of
//! the writes it set off) is [`Action::Done`] with its [`Outcome`].
//!
//! The executor, [`CheckpointFinality`](crate::CheckpointFinality), performs the actions in
//! order against its store and publishes the view; the worker runs it on a blocking thread.

use crate::{
	authorities::{AuthoritySets, Signal, SignalError},
	error::{Error, Result},
	state::{FinalityConfig, FinalityState, Progress, Step, VoteRejection, VoterSet, Warp, Write},
	store::StoredState,
	view::FinalityCounters,
	CheckpointHash, LOG_TARGET,
};
use sp_finality_checkpoint::{
	Checkpoint, CheckpointCertificate, CheckpointSignature, EquivocationProof,
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

/// What the voter reacts to.
pub(crate) enum Event<H> {
	/// Another validator's vote; `true`: its signature was checked already (by the gossip
	/// validator).
	Vote(CheckpointSignature<H>, bool),
	/// This node's own signed vote.
	OwnVote(CheckpointSignature<H>),
	/// A vote signed with this node's key that came from the network.
	OwnKeyVote(CheckpointSignature<H>),
	/// A certificate that came on its own, verified already against these sets if given.
	Certificate(CheckpointCertificate<H>, Option<Arc<AuthoritySets<H>>>),
	/// The certificate that waits for its block: the block may be imported now.
	RetryWaiting,
	/// A set change that a header signals.
	Signal(Signal<H>),
	/// The block whose signals to forget: its import failed.
	ForgetSignals(H),
	/// A block imported at this height, which may make a forced change due.
	BlockImported(u64, H),
	/// What a warp sync proof proved: finality jumps there once it is stored.
	Warp(Warp<H>),
	/// What the store kept, read at start-up.
	Restore(StoredState<H>),
	/// An [`Action::Store`] was performed, with this result.
	Stored(Resume<H>, Result<()>),
	/// An [`Action::Record`] failed.
	RecordFailed(&'static str, Error),
}

/// What the voter asks of its executor, in order.
pub(crate) enum Action<H> {
	/// Persist a record that safety does not need; report a failure as
	/// [`Event::RecordFailed`].
	Record(Write<H>),
	/// Persist a record the change waits for, then report as [`Event::Stored`].
	Store(Write<H>, Resume<H>),
	/// Hand an equivocation, whose evidence is recorded, to be reported on chain.
	Report(EquivocationProof<H>),
	/// What the event, and the writes it set off, came to.
	Done(Outcome<H>),
}

/// What an event came to.
#[derive(Debug)]
pub(crate) enum Outcome<H> {
	/// A vote's: taken, or rejected.
	Vote(std::result::Result<VoteImport<H>, VoteRejection>),
	/// An own vote's: taken, or why not (refused by the guard or the rules, or not
	/// persisted).
	OwnVote(Result<VoteImport<H>>),
	/// An own-key vote's: whether it raised the guard (made durable), or why the raised guard
	/// is not durable.
	OwnKeyVote(Result<bool>),
	/// A certificate's or a retry's: what it finalized, `None` when finality is at or above it.
	Finality(Result<Option<Progress<H>>>),
	/// A signal's: whether it is new.
	Noted(bool),
	/// A block's: what the forced change it made due finalized, `None` when none came into
	/// force.
	Forced(Result<Option<Progress<H>>>),
	/// A restore's: how many stored votes were taken back.
	Restored(Result<usize>),
	/// Nothing to tell.
	Nothing,
}

/// What the voter resumes once a write is done. Opaque to the executor.
pub(crate) struct Resume<H>(Pending<H>);

enum Pending<H> {
	/// Finalize the certificate's source, its signals on chain found already.
	Finalize { certificate: CheckpointCertificate<H>, on_chain: HashSet<H>, then: Then<H> },
	/// Take the own vote.
	OwnVote(CheckpointSignature<H>),
	/// The raised guard is durable.
	Guard,
	/// Put the forced set in force at this height.
	Forced(u64, HashSet<H>),
	/// Jump to what the warp sync proof proved.
	Warp(Warp<H>),
}

/// Where the outcome of a step goes: `Ok(None)` finalized nothing (finality was at or above
/// the certificate), `Ok(Some(progress))` is what a step justified and finalized.
enum Then<H> {
	/// It is the event's: report it.
	Report(Report),
	/// A certificate a tally made finalized (or failed to): it joins the progress of the step
	/// that made it, `justified` so far. Its failure is that step's business, and only logged.
	Merge(Vec<Checkpoint<H>>, Box<Then<H>>),
	/// The step of the finality `certificate` brought is applied: the progress names it.
	Finalized(CheckpointCertificate<H>, Box<Then<H>>),
}

/// The kind of event a report answers.
enum Report {
	Vote { equivocation: bool },
	OwnVote,
	Certificate,
	Forced,
	Restored { votes: usize },
}

/// The voter. See the module documentation.
pub(crate) struct Voter<H> {
	state: FinalityState<H>,
	counters: FinalityCounters,
	chain: Option<Arc<dyn ChainAncestry<H>>>,
	/// A certificate whose finality waits for its block (see [`Error::BlockNotImported`]).
	waiting: Option<CheckpointCertificate<H>>,
}

impl<H: CheckpointHash> Voter<H> {
	/// A voter for the chain with `genesis_hash` (checkpoint 0, finalized) and the authority
	/// set `voters`.
	pub(crate) fn new(genesis_hash: H, voters: VoterSet, config: FinalityConfig) -> Self {
		let state = FinalityState::new(genesis_hash, voters, config);
		Self { state, counters: FinalityCounters::default(), chain: None, waiting: None }
	}

	/// Asks `chain` whether signalled set changes lie on the chain of a checkpoint being
	/// finalized. Without one, every signal at or below it does.
	pub(crate) fn set_chain(&mut self, chain: Arc<dyn ChainAncestry<H>>) {
		self.chain = Some(chain);
	}

	/// The state, for reading.
	pub(crate) fn state(&self) -> &FinalityState<H> {
		&self.state
	}

	/// The counters.
	pub(crate) fn counters(&self) -> &FinalityCounters {
		&self.counters
	}

	/// Whether a certificate waits for its block.
	pub(crate) fn is_waiting(&self) -> bool {
		self.waiting.is_some()
	}

	/// Takes `event`; returns what to do, in order.
	pub(crate) fn on(&mut self, event: Event<H>) -> Vec<Action<H>> {
		let mut out = Vec::new();
		match event {
			Event::Vote(vote, verified) => self.on_vote(vote, verified, &mut out),
			Event::OwnVote(vote) => match self.state.begin_own_vote(&vote) {
				Ok(write) => out.push(Action::Store(write, Resume(Pending::OwnVote(vote)))),
				Err(rejection) => out.push(Action::Done(Outcome::OwnVote(Err(rejection.into())))),
			},
			Event::OwnKeyVote(vote) => match self.state.raise_guard_over(&vote) {
				Some(write) => out.push(Action::Store(write, Resume(Pending::Guard))),
				None => out.push(Action::Done(Outcome::OwnKeyVote(Ok(false)))),
			},
			Event::Certificate(certificate, verified_with) => {
				self.on_certificate(certificate, verified_with, &mut out)
			}
			Event::RetryWaiting => match self.waiting.take() {
				Some(certificate) => {
					self.finalize(certificate, Then::Report(Report::Certificate), &mut out)
				}
				None => out.push(Action::Done(Outcome::Finality(Ok(None)))),
			},
			Event::Signal(signal) => {
				let noted = self.note(signal, &mut out);
				out.push(Action::Done(Outcome::Noted(noted)));
			}
			Event::ForgetSignals(hash) => {
				if let Some(write) = self.state.forget_signals_of(&hash) {
					log::debug!(
						target: LOG_TARGET,
						"Forgot the set change signals of block {hash:?}: its import failed",
					);
					out.push(Action::Record(write));
				}
				out.push(Action::Done(Outcome::Nothing));
			}
			Event::BlockImported(number, hash) => self.on_block(number, hash, &mut out),
			Event::Warp(warp) => match self.state.warp_write(&warp) {
				Some(write) => out.push(Action::Store(write, Resume(Pending::Warp(warp)))),
				None => out.push(Action::Done(Outcome::Finality(Ok(None)))),
			},
			Event::Restore(stored) => self.on_restore(stored, &mut out),
			Event::Stored(Resume(pending), result) => self.on_stored(pending, result, &mut out),
			Event::RecordFailed(what, e) => {
				self.counters.persistence_failures += 1;
				log::warn!(target: LOG_TARGET, "⚠️ Failed to persist {what}: {e}");
			}
		}
		out
	}

	fn on_vote(&mut self, vote: CheckpointSignature<H>, verified: bool, out: &mut Vec<Action<H>>) {
		let link = vote.link;
		match self.state.import_vote(vote, verified) {
			Ok(step) => {
				self.counters.total_signatures += 1;
				let equivocation = step.equivocation;
				self.apply(step, Then::Report(Report::Vote { equivocation }), out);
			}
			Err(rejection) => {
				self.counters.rejected_votes += 1;
				log::debug!(target: LOG_TARGET, "Rejected vote {link:?}: {rejection}");
				out.push(Action::Done(Outcome::Vote(Err(rejection))));
			}
		}
	}

	/// A certificate at or below finality finalizes nothing; one verified against these very
	/// sets is not verified again.
	fn on_certificate(
		&mut self,
		certificate: CheckpointCertificate<H>,
		verified_with: Option<Arc<AuthoritySets<H>>>,
		out: &mut Vec<Action<H>>,
	) {
		if certificate.link.source.number <= self.state.last_finalized().number {
			return out.push(Action::Done(Outcome::Finality(Ok(None))));
		}
		if !verified_with.is_some_and(|sets| Arc::ptr_eq(self.state.sets(), &sets)) {
			let verified =
				self.state.sets().verify_certificate(&self.state.genesis_hash(), &certificate);
			if let Err(e) = verified {
				return out
					.push(Action::Done(Outcome::Finality(Err(Error::InvalidCertificate(e)))));
			}
		}
		self.finalize(certificate, Then::Report(Report::Certificate), out)
	}

	/// Notes a set change; returns whether it is new.
	fn note(&mut self, signal: Signal<H>, out: &mut Vec<Action<H>>) -> bool {
		let noted = match signal {
			Signal::Scheduled(checkpoint, set) => {
				let (id, size) = (set.id, set.authorities.len());
				self.state.note_signal(checkpoint, set).inspect(|write| {
					if write.is_some() {
						log::info!(
							target: LOG_TARGET,
							"📣 Authority set {id} ({size} validators) signalled in checkpoint \
							 block {} ({:?}); it takes over once a checkpoint at or above it is \
							 finalized",
							checkpoint.number,
							checkpoint.hash,
						);
					}
				})
			}
			Signal::Forced(signal) => {
				let (id, size) = (signal.set.id, signal.set.authorities.len());
				let (number, hash, effective_at) =
					(signal.block_number, signal.block_hash, signal.effective_at());
				self.state.note_forced(signal).inspect(|write| {
					if write.is_some() {
						log::warn!(
							target: LOG_TARGET,
							"⚡ Forced change to authority set {id} ({size} validators) signalled \
							 in block #{number} ({hash:?}): in force from block #{effective_at}, \
							 without finality",
						);
					}
				})
			}
		};
		match noted {
			Ok(Some(write)) => {
				out.push(Action::Record(write));
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

	/// A forced change that the imported block `hash` at height `number` makes due comes into
	/// force if its signal is on that block's chain, once the sets are stored.
	fn on_block(&mut self, number: u64, hash: H, out: &mut Vec<Action<H>>) {
		let on_chain: HashSet<H> = self
			.state
			.sets()
			.forced_due(number)
			.filter(|signal| {
				self.chain.as_ref().is_none_or(|c| c.is_ancestor(signal, &hash) == Some(true))
			})
			.copied()
			.collect();
		let write = (!on_chain.is_empty())
			.then(|| self.state.forced_write(number, |signal| on_chain.contains(signal)))
			.flatten();
		match write {
			Some(write) => {
				out.push(Action::Store(write, Resume(Pending::Forced(number, on_chain))))
			}
			None => out.push(Action::Done(Outcome::Forced(Ok(None)))),
		}
	}

	fn on_restore(&mut self, stored: StoredState<H>, out: &mut Vec<Action<H>>) {
		let restored = self.state.restore(
			stored.authority_sets,
			stored.signals,
			stored.finalized,
			stored.justified,
			stored.own_vote_guard,
			stored.votes,
		);
		match restored {
			Ok((votes, step)) => self.apply(step, Then::Report(Report::Restored { votes }), out),
			Err(sets) => {
				let ids: Vec<_> = sets.iter().map(|s| s.id).collect();
				let e = Error::StoredSets(format!("set ids {ids:?}"));
				out.push(Action::Done(Outcome::Restored(Err(e))));
			}
		}
	}

	fn on_stored(&mut self, pending: Pending<H>, result: Result<()>, out: &mut Vec<Action<H>>) {
		match pending {
			Pending::Finalize { certificate, on_chain, then } => {
				let checkpoint = certificate.link.source;
				if let Err(e) = result {
					self.counters.persistence_failures += 1;
					log::error!(
						target: LOG_TARGET,
						"❌ Failed to persist the certificate of {}; finality waits: {e}",
						checkpoint.number,
					);
					return self.resume(then, Err(e), out);
				}
				let finalized = self.state.finalize(certificate.clone(), |h| on_chain.contains(h));
				let Some((enacted, step)) = finalized else {
					return self.resume(then, Ok(None), out);
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
						"🔀 Authority set {} ({} validators) enacted by {}: votes with \
						 sources above it are this set's",
						set.id,
						set.authorities.len(),
						checkpoint.number,
					);
				}
				self.apply(step, Then::Finalized(certificate, Box::new(then)), out)
			}
			Pending::OwnVote(vote) => {
				if let Err(e) = result {
					self.counters.own_vote_failures += 1;
					log::error!(
						target: LOG_TARGET,
						"❌ Not voting for {}: the vote could not be persisted: {e}",
						vote.link.target.number,
					);
					return out.push(Action::Done(Outcome::OwnVote(Err(e))));
				}
				let step = self.state.finish_own_vote(vote);
				self.counters.own_votes += 1;
				self.counters.total_signatures += 1;
				self.apply(step, Then::Report(Report::OwnVote), out)
			}
			Pending::Guard => {
				if let Err(e) = &result {
					self.counters.own_vote_failures += 1;
					log::error!(target: LOG_TARGET, "❌ Cannot persist the raised own-vote guard: {e}");
				}
				out.push(Action::Done(Outcome::OwnKeyVote(result.map(|()| true))));
			}
			Pending::Forced(number, on_chain) => {
				if let Err(e) = result {
					log::error!(
						target: LOG_TARGET,
						"❌ Cannot store the forced authority set; it waits: {e}",
					);
					return out.push(Action::Done(Outcome::Forced(Err(e))));
				}
				let forced = self.state.apply_forced(number, |signal| on_chain.contains(signal));
				let Some((set, step)) = forced else {
					return out.push(Action::Done(Outcome::Forced(Ok(None))));
				};
				log::warn!(
					target: LOG_TARGET,
					"⚡ Authority set {} ({} validators) forced in at block #{number}: votes with \
					 sources at or above checkpoint {} are this set's; finalized from there on \
					 {:?}",
					set.id,
					set.authorities.len(),
					set.enacted_by.map_or(0, |c| c.number.0),
					self.state.last_finalized().hash,
				);
				self.apply(step, Then::Report(Report::Forced), out)
			}
			Pending::Warp(warp) => {
				if let Err(e) = result {
					self.counters.persistence_failures += 1;
					log::error!(
						target: LOG_TARGET,
						"❌ Failed to persist what the warp sync proof proved; finality stays at \
						 {}: {e}",
						self.state.last_finalized().number,
					);
					return out.push(Action::Done(Outcome::Finality(Err(e))));
				}
				let (changes, latest) = (warp.changes.len(), warp.latest.clone());
				let Some(step) = self.state.warp(warp) else {
					return out.push(Action::Done(Outcome::Finality(Ok(None))));
				};
				self.counters.total_certificates += 1;
				let source = latest.link.source;
				log::info!(
					target: LOG_TARGET,
					"⏩ Warp sync: checkpoint {} ({:?}) finalized by the proof, {changes} set \
					 changes on the way; authority set {} ({} validators) in force",
					source.number,
					source.hash,
					self.state.voters().set_id(),
					self.state.voters().authorities().len(),
				);
				let then = Then::Finalized(latest, Box::new(Then::Report(Report::Certificate)));
				self.apply(step, then, out)
			}
		}
	}

	/// Records a step's writes (none is needed for safety), then finalizes what it made final.
	fn apply(&mut self, step: Step<H>, then: Then<H>, out: &mut Vec<Action<H>>) {
		for write in step.writes {
			if let Write::Evidence(first, second) = &write {
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
			let report = match &write {
				Write::Evidence(first, second) => self.equivocation_proof(first, second),
				_ => None,
			};
			out.push(Action::Record(write));
			out.extend(report.map(Action::Report));
		}
		match step.finalizable {
			Some(certificate) => {
				self.finalize(certificate, Then::Merge(step.justified, Box::new(then)), out)
			}
			None => {
				let progress = Progress { justified: step.justified, finalized: None };
				self.resume(then, Ok(Some(progress)), out)
			}
		}
	}

	/// The report of two conflicting votes of one validator: its key from the votes' set.
	fn equivocation_proof(
		&self,
		first: &CheckpointSignature<H>,
		second: &CheckpointSignature<H>,
	) -> Option<EquivocationProof<H>> {
		let set = self.state.sets().by_id(second.link.set_id)?;
		let offender = set.authorities().get(second.validator_index as usize)?.clone();
		Some(EquivocationProof {
			offender,
			first: (first.link, first.signature.clone()),
			second: (second.link, second.signature.clone()),
		})
	}

	/// Finalizes the source of a verified certificate once it is stored with the set change
	/// its finality enacts. Until the checkpoint's block is imported, it waits
	/// ([`Error::BlockNotImported`]); a block off the finalized chain is refused
	/// ([`Error::ConflictingFinality`]).
	fn finalize(
		&mut self,
		certificate: CheckpointCertificate<H>,
		then: Then<H>,
		out: &mut Vec<Action<H>>,
	) {
		if let Err(e) = self.on_finalized_chain(&certificate.link.source) {
			log::error!(target: crate::LOG_TARGET, "❌ {e}");
			return self.resume(then, Err(e), out);
		}
		let on_chain = match self.signals_on_chain(&certificate.link.source) {
			Ok(on_chain) => on_chain,
			Err(e) => {
				// Verified already: it finalizes once its block is imported.
				self.waiting = Some(certificate);
				return self.resume(then, Err(e), out);
			}
		};
		match self.state.certificate_write(&certificate, |h| on_chain.contains(h)) {
			Some(write) => out.push(Action::Store(
				write,
				Resume(Pending::Finalize { certificate, on_chain, then }),
			)),
			None => self.resume(then, Ok(None), out),
		}
	}

	/// Whether `checkpoint` descends from the finalized checkpoint, as far as the chain can
	/// tell (a block it has not imported is not refused here).
	fn on_finalized_chain(&self, checkpoint: &Checkpoint<H>) -> Result<()> {
		let finalized = self.state.last_finalized();
		let Some(chain) = &self.chain else { return Ok(()) };
		if checkpoint.number <= finalized.number
			|| !chain.is_imported(&finalized.hash)
			|| chain.is_ancestor(&finalized.hash, &checkpoint.hash) != Some(false)
		{
			return Ok(());
		}
		Err(Error::ConflictingFinality {
			finalized_number: finalized.number,
			finalized_hash: format!("{:?}", finalized.hash),
			source_number: checkpoint.number,
			source_hash: format!("{:?}", checkpoint.hash),
		})
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
				None => return Err(Error::BlockNotImported(checkpoint.number)),
			}
		}
		Ok(on_chain)
	}

	/// Hands the outcome of a step on to where it goes.
	fn resume(
		&mut self,
		then: Then<H>,
		result: Result<Option<Progress<H>>>,
		out: &mut Vec<Action<H>>,
	) {
		match then {
			Then::Report(report) => out.push(Action::Done(self.report(report, result))),
			Then::Merge(justified, then) => {
				let mut progress = Progress { justified, finalized: None };
				match result {
					Ok(Some(more)) => {
						progress.justified.extend(more.justified);
						progress.finalized = more.finalized;
					}
					Err(e @ Error::BlockNotImported(_)) => log::debug!(target: LOG_TARGET, "{e}"),
					_ => {}
				}
				self.resume(*then, Ok(Some(progress)), out)
			}
			Then::Finalized(certificate, then) => {
				let result = result.map(|progress| {
					progress.map(|mut progress| {
						progress.finalized.get_or_insert(certificate);
						progress
					})
				});
				self.resume(*then, result, out)
			}
		}
	}

	fn report(&self, report: Report, result: Result<Option<Progress<H>>>) -> Outcome<H> {
		match report {
			Report::Vote { equivocation } => Outcome::Vote(Ok(VoteImport {
				equivocation,
				progress: result.ok().flatten().unwrap_or_default(),
			})),
			Report::OwnVote => Outcome::OwnVote(Ok(VoteImport {
				equivocation: false,
				progress: result.ok().flatten().unwrap_or_default(),
			})),
			Report::Certificate => Outcome::Finality(result),
			Report::Forced => Outcome::Forced(result.map(|p| Some(p.unwrap_or_default()))),
			Report::Restored { votes } => {
				let guard = self.state.guard();
				// How the current set came in: a kill between a finality that enacted it and its
				// `🔀` line leaves this the only record of the enactment in the log.
				let current = self.state.sets().enacted().last().and_then(|set| {
					let how = if set.forced { "forced in by" } else { "enacted by" };
					set.enacted_by.as_ref().map(|by| format!(" ({how} {})", by.number))
				});
				log::info!(
					target: LOG_TARGET,
					"✅ Checkpoint state restored successfully: authority set {}{}, finalized {}, \
					 justified {}, {} votes, own-vote guard {} -> {}",
					self.state.voters().set_id(),
					current.unwrap_or_default(),
					self.state.last_finalized().number,
					self.state.highest_justified().number,
					votes,
					guard.source,
					guard.target,
				);
				Outcome::Restored(Ok(votes))
			}
		}
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::testing::{self, cp, link};
	use sp_core::{ed25519, Pair, H256};
	use sp_finality_checkpoint::AuthorityId;

	fn voter(keys: &[ed25519::Pair]) -> Voter<H256> {
		Voter::new(H256::zero(), testing::set(0, keys), FinalityConfig::default())
	}

	fn full_disk() -> Error {
		let source = std::io::Error::new(std::io::ErrorKind::StorageFull, "disk full");
		Error::Write { path: "disk".into(), source }
	}

	/// The write the actions wait for, and what comes after it.
	fn store_of(actions: Vec<Action<H256>>) -> (Write<H256>, Resume<H256>) {
		let mut stores = actions.into_iter().filter_map(|action| match action {
			Action::Store(write, resume) => Some((write, resume)),
			_ => None,
		});
		let store = stores.next().expect("a write to wait for");
		assert!(stores.next().is_none(), "one write waited for at a time");
		store
	}

	fn outcome_of(actions: Vec<Action<H256>>) -> Outcome<H256> {
		let mut done = actions.into_iter().filter_map(|action| match action {
			Action::Done(outcome) => Some(outcome),
			Action::Store(..) => panic!("waits for a write"),
			Action::Record(_) | Action::Report(_) => None,
		});
		let outcome = done.next().expect("an outcome");
		assert!(done.next().is_none(), "one outcome an event");
		outcome
	}

	#[test]
	fn an_equivocation_is_recorded_then_handed_over_as_a_report_that_checks() {
		let keys = testing::keys(1..5);
		let mut voter = voter(&keys);
		let first = testing::vote(&keys, 2, link(0, 0, 2));
		assert!(voter
			.on(Event::Vote(first.clone(), false))
			.iter()
			.all(|a| { !matches!(a, Action::Report(_) | Action::Record(Write::Evidence(..))) }));
		let mut second = testing::vote(&keys, 2, link(0, 0, 2));
		second.link.target.hash = H256::repeat_byte(0xee);
		second.signature = testing::vote(&keys, 2, second.link).signature;
		let actions = voter.on(Event::Vote(second.clone(), false));
		let recorded = actions.iter().position(
			|a| matches!(a, Action::Record(Write::Evidence(f, s)) if *f == first && *s == second),
		);
		let reported = actions.iter().position(|a| matches!(a, Action::Report(_)));
		assert!(recorded.unwrap() < reported.unwrap(), "recorded, then reported");
		let Action::Report(proof) = &actions[reported.unwrap()] else { unreachable!() };
		assert_eq!(proof.offender, AuthorityId::from(keys[2].public()));
		assert_eq!((proof.first.0, proof.second.0), (first.link, second.link));
		assert_eq!(proof.check(&H256::zero()), Ok(()), "the runtime's check passes");
	}

	#[test]
	fn an_own_vote_is_taken_only_once_its_write_is_done_and_a_failed_write_fails_closed() {
		let keys = testing::keys(1..5);
		let mut voter = voter(&keys);
		let own = testing::vote(&keys, 0, link(0, 0, 1));
		let (write, resume) = store_of(voter.on(Event::OwnVote(own.clone())));
		assert!(matches!(write, Write::OwnVote(ref vote, _) if *vote == own));
		assert!(voter.state().guard().covers(&own.link), "the guard is raised first");
		assert!(voter.state().votes_of(&testing::ids(&keys)[0]).is_empty(), "not taken yet");

		let failed = outcome_of(voter.on(Event::Stored(resume, Err(full_disk()))));
		assert!(matches!(failed, Outcome::OwnVote(Err(Error::Write { .. }))));
		assert!(voter.state().votes_of(&testing::ids(&keys)[0]).is_empty(), "never taken");
		assert_eq!(voter.counters().own_vote_failures, 1);
		// The guard stays raised: the vote that may be on disk is never contradicted.
		let again = outcome_of(voter.on(Event::OwnVote(own.clone())));
		assert!(matches!(again, Outcome::OwnVote(Err(Error::OwnVoteRefused { .. }))));

		let other = testing::vote(&keys, 0, link(0, 0, 2));
		let (_, resume) = store_of(voter.on(Event::OwnVote(other.clone())));
		let taken = outcome_of(voter.on(Event::Stored(resume, Ok(()))));
		assert!(matches!(taken, Outcome::OwnVote(Ok(_))));
		assert_eq!(voter.state().votes_of(&testing::ids(&keys)[0]), vec![other]);
	}

	#[test]
	fn finality_moves_only_once_the_certificate_is_stored() {
		let keys = testing::keys(1..5);
		let mut voter = voter(&keys);
		for index in 0..3 {
			let outcome = outcome_of(
				voter.on(Event::Vote(testing::vote(&keys, index, link(0, 0, 1)), false)),
			);
			assert!(matches!(outcome, Outcome::Vote(Ok(_))));
		}
		assert_eq!(voter.state().highest_justified(), cp(1));
		for index in 0..2 {
			voter.on(Event::Vote(testing::vote(&keys, index, link(0, 1, 2)), false));
		}
		let third = voter.on(Event::Vote(testing::vote(&keys, 2, link(0, 1, 2)), false));
		let (write, resume) = store_of(third);
		assert!(matches!(write, Write::Certificate(ref c, ..) if c.link == link(0, 1, 2)));
		assert_eq!(voter.state().last_finalized(), cp(0), "not final before it is stored");

		let done = outcome_of(voter.on(Event::Stored(resume, Ok(()))));
		let Outcome::Vote(Ok(import)) = done else { panic!("{done:?}") };
		assert_eq!(import.progress.finalized.map(|c| c.link), Some(link(0, 1, 2)));
		assert_eq!(voter.state().last_finalized(), cp(1));
		assert_eq!(voter.counters().total_certificates, 1);
	}

	#[test]
	fn a_certificate_that_cannot_be_stored_finalizes_nothing() {
		let keys = testing::keys(1..5);
		let mut voter = voter(&keys);
		let certificate = testing::certificate(&keys, 3, link(0, 1, 2));
		let (_, resume) = store_of(voter.on(Event::Certificate(certificate.clone(), None)));
		let failed = outcome_of(voter.on(Event::Stored(resume, Err(full_disk()))));
		assert!(matches!(failed, Outcome::Finality(Err(Error::Write { .. }))));
		assert_eq!(voter.state().last_finalized(), cp(0));
		assert_eq!(voter.counters().persistence_failures, 1);
		// Offered again, it asks for the write again, and finalizes once that is done.
		let (_, resume) = store_of(voter.on(Event::Certificate(certificate, None)));
		let done = outcome_of(voter.on(Event::Stored(resume, Ok(()))));
		assert!(matches!(done, Outcome::Finality(Ok(Some(_)))));
		assert_eq!(voter.state().last_finalized(), cp(1));
	}
}
