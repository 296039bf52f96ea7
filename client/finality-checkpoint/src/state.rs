//! The pure core of checkpoint finality: the vote, justify and finalize rules of the protocol
//! (`docs/design.md`) over the in-memory state.
//!
//! No I/O, no clock, no async and no storage here. Methods take votes and certificates and
//! return what changed together with the [`Write`]s that make the change durable; the shell,
//! [`CheckpointFinality`](crate::CheckpointFinality), persists them (as sc-consensus-beefy's
//! `Rounds` returns a `VoteImportResult` and its worker writes). Two changes must be durable
//! before they are made, and for them a step comes in two halves: an own vote
//! ([`FinalityState::begin_own_vote`] raises the guard and names the write,
//! [`FinalityState::finish_own_vote`] takes the vote once it is stored) and finality
//! ([`FinalityState::certificate_write`] names the write, [`FinalityState::finalize`] moves
//! finality once it is stored).
//!
//! # The protocol: two vote rounds per checkpoint block
//!
//! Votes link checkpoints, and a checkpoint is a (block, [`Epoch`]) pair, as in Gasper: epoch
//! `e` names the checkpoint block at height `(e / 2) * I` (`I` the interval), in round `e % 2`.
//! Genesis is epoch 0, justified and finalized.
//!
//! - **Round one.** When its best chain reaches checkpoint block `B` at height `k * I`, a
//!   validator votes `S -> (2k, B)`, `S` the highest justified epoch that is an ancestor of
//!   `B` (normally `(2k - 1, B')`, the previous block's round two).
//! - **Round two.** As soon as `(2k, B)` is justified in its view, it votes
//!   `(2k, B) -> (2k + 1, B)`.
//! - **Justified:** genesis, or the target of a supermajority link (more than 2/3 of the set)
//!   from a justified source. **Finalized:** a justified epoch `e` with a supermajority link
//!   to epoch `e + 1`. So round two's supermajority finalizes `B`, and justifies `(2k + 1, B)`,
//!   the next block's source; a round-one link `(2k - 1, B') -> (2k, B)` finalizes epoch
//!   `2k - 1`, whose block `B'` round two finalized already. A block is final two vote rounds
//!   after its import; nothing waits for the next block.
//! - **Slashing rules**, in epochs: no two votes of one validator for one target epoch (E1),
//!   and none whose span `(source, target)` strictly surrounds another's (E2). The own-vote
//!   guard ([`OwnVoteGuard`]: targets strictly increase, sources never decrease) keeps both;
//!   round one then round two of one block (`2k - 1 -> 2k`, then `2k -> 2k + 1`) keeps it.
//!   Evidence, the vote window, catch-up, the sets' source ranges, forced changes, pruning and
//!   retention all count epochs.
//!
//! **Accountable safety with two epochs on one block.** Casper FFG's proof is over epochs; a
//! block standing at two epochs changes nothing in it. Say `(e, B)` is finalized (by
//! `(e, B) -> (e + 1, B)`) and `(f, C)` is justified with `f > e` and `C` not a descendant of
//! `B`. Follow the chain of supermajority links that justified `(f, C)` down to the first
//! link whose target epoch is above `e`: its source epoch `s` is at most `e` (or it is not the
//! first). If `s == e`, two blocks are justified at epoch `e`, or the link starts at `B` and
//! `C` descends from it; if the target epoch is `e + 1`, the link and `B`'s finalizing link
//! share a target epoch; otherwise `s < e < e + 1 < t`, and it surrounds the finalizing link.
//! Each case needs a third of the set to break E1 or E2, and the evidence names them. The
//! argument never uses that the epochs of one block are distinct blocks, only that links go
//! from an ancestor (or the block itself) to a descendant.
//!
//! **When round two does not gather** (validators went down between the rounds, or votes
//! were late), `(2k, B)` stays justified and unfinalized. The next block's round one then
//! links `(2k, B) -> (2k + 2, C)` (after a bounded wait for `(2k + 1, B)`, see the planner),
//! and `C`'s round two finalizes `C` and `B` with it. Two blocks at one checkpoint height
//! (an Aura fork) can split round one; the voters try the next height, whose round two
//! finalizes.
//!
//! Safety argument for not checking ancestry here: an honest voter signs `S -> T` only with
//! `S` an ancestor of `T` (or `T`'s own block, in round two), and a supermajority link holds
//! more than 2/3 of the weight, so while less than 1/3 is faulty every counted link contains
//! an honest vote and its ancestry holds.

use crate::authorities::{AuthoritySets, EnactedSet, ForcedSignal, PendingSignals, SignalError};
pub use crate::types::{
	link_expired, CertificateError, CheckpointHash, OwnVoteRejection, VoteRejection, VoterSet,
};
use crate::types::{room_for, MAX_VOTES_PER_TARGET};
use codec::{Decode, Encode};
use sp_finality_checkpoint::{
	votes_conflict, AuthorityId, AuthoritySet, AuthoritySignature, Checkpoint,
	CheckpointCertificate, CheckpointSignature, Epoch, Link, SetId, ValidatorIndex,
};
use std::{
	collections::{BTreeMap, BTreeSet, HashMap},
	fmt::Debug,
	sync::Arc,
};

/// Epochs ahead of the finalized one for which votes are accepted by default (16 checkpoint
/// blocks).
pub const DEFAULT_VOTE_WINDOW: u64 = 32;

/// The highest source and target this validator ever signed.
///
/// A new vote is allowed only with a strictly higher target and a source no lower than any
/// before. That rules out two votes for one target number (E1) and a vote surrounding or
/// surrounded by an earlier one (E2).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Encode, Decode)]
pub struct OwnVoteGuard {
	/// Highest own source number.
	pub source: Epoch,
	/// Highest own target number.
	pub target: Epoch,
}

impl OwnVoteGuard {
	/// Whether a vote for `link` keeps the guard's promise.
	pub fn permits<H>(&self, link: &Link<H>) -> bool {
		link.target.number > self.target && link.source.number >= self.source
	}

	/// Whether this validator may have cast a vote for `link` before (its numbers lie inside
	/// the guard). A vote of its key outside the guard was cast by someone else.
	pub fn covers<H>(&self, link: &Link<H>) -> bool {
		link.target.number <= self.target && link.source.number <= self.source
	}

	/// The guard after voting for `link`.
	pub fn raised<H>(&self, link: &Link<H>) -> Self {
		self.merge(Self { source: link.source.number, target: link.target.number })
	}

	/// The component-wise maximum of two guards (of two copies of one).
	pub fn merge(&self, other: Self) -> Self {
		Self { source: self.source.max(other.source), target: self.target.max(other.target) }
	}
}

/// Tuning of the state machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FinalityConfig {
	/// Votes with targets more than this many checkpoints above the finalized one are dropped;
	/// it bounds memory whatever peers send.
	pub window: u64,
}

impl Default for FinalityConfig {
	fn default() -> Self {
		Self { window: DEFAULT_VOTE_WINDOW }
	}
}

/// Checkpoints justified and finalized by one step of the state machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress<H> {
	/// Checkpoints newly justified, lowest first.
	pub justified: Vec<Checkpoint<H>>,
	/// The certificate of a newly finalized checkpoint (its `link.source`).
	pub finalized: Option<CheckpointCertificate<H>>,
}

impl<H> Default for Progress<H> {
	fn default() -> Self {
		Self { justified: Vec::new(), finalized: None }
	}
}

/// A record that makes a change of the state durable; the shell hands each to its store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Write<H> {
	/// Another validator's vote; it may wait in the write-behind buffer (peers gossip it
	/// again if it is lost).
	Vote(CheckpointSignature<H>),
	/// Two conflicting votes of one validator.
	Evidence(CheckpointSignature<H>, CheckpointSignature<H>),
	/// The raised justified watermark.
	Justified(Checkpoint<H>),
	/// The own vote and the guard it raised: durable before the vote leaves this node.
	OwnVote(CheckpointSignature<H>, OwnVoteGuard),
	/// A guard raised over a vote of our key cast elsewhere: durable before voting goes on.
	Guard(OwnVoteGuard),
	/// A certificate with the justified watermark and, when its finality enacts a set change,
	/// the enacted sets held after it, in one transaction, durable before finality moves to
	/// its source.
	Certificate(CheckpointCertificate<H>, Checkpoint<H>, Option<Vec<EnactedSet<H>>>),
	/// The authority sets held after a forced change: durable before the new set is used.
	Sets(Vec<EnactedSet<H>>),
	/// The set changes signalled and not yet enacted, after one was noted or forgotten.
	Signals(PendingSignals<H>),
	/// What a warp sync proof proved: each change's certificate with the sets held after it,
	/// then the latest certificate, each stored as [`Write::Certificate`] is, in order; durable
	/// before finality jumps.
	Warp(Warp<H>),
}

/// What a warp sync proof proved above this node's finality: the certificates that enacted
/// its set changes, each with the enacted sets held after it, the certificate of the
/// checkpoint it finalizes, and the sets in force there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warp<H> {
	/// Each change's enacting certificate and the enacted sets held after it, oldest first.
	pub changes: Vec<(CheckpointCertificate<H>, Vec<EnactedSet<H>>)>,
	/// The certificate of the checkpoint the proof finalizes: its source. The certificate of
	/// the last change when that is the latest finality.
	pub latest: CheckpointCertificate<H>,
	/// The sets in force at the latest certificate, signals of none pending.
	pub sets: AuthoritySets<H>,
}

/// What a vote or a tally changed, and what to persist for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step<H> {
	/// The vote conflicts with an earlier vote of the same validator (E1 or E2); the pair is
	/// in `writes` as evidence.
	pub equivocation: bool,
	/// Checkpoints newly justified, lowest first.
	pub justified: Vec<Checkpoint<H>>,
	/// A certificate whose source is final once it is stored: persist
	/// [`FinalityState::certificate_write`], then call [`FinalityState::finalize`].
	pub finalizable: Option<CheckpointCertificate<H>>,
	/// Records to persist, in order; none of them is needed for safety.
	pub writes: Vec<Write<H>>,
}

impl<H> Default for Step<H> {
	fn default() -> Self {
		Self { equivocation: false, justified: Vec::new(), finalizable: None, writes: Vec::new() }
	}
}

/// The in-memory state of checkpoint finality and the rules that change it. See the module
/// documentation.
pub struct FinalityState<H> {
	genesis_hash: H,
	sets: Arc<AuthoritySets<H>>,
	config: FinalityConfig,
	last_finalized: Checkpoint<H>,
	/// Justified checkpoints above the finalized one.
	justified: BTreeMap<Epoch, H>,
	/// Votes above finality by target number and validator (set id and index): at most two
	/// per validator and target (the first and one conflicting vote, kept as evidence).
	votes: BTreeMap<Epoch, BTreeMap<Voter, Vec<CheckpointSignature<H>>>>,
	/// Verified votes of a signalled set that is not enacted yet, by target number: taken
	/// when the set is enacted, dropped when finality passes them.
	early: BTreeMap<Epoch, Vec<CheckpointSignature<H>>>,
	/// Signatures per link.
	links: HashMap<Link<H>, BTreeMap<ValidatorIndex, AuthoritySignature>>,
	guard: OwnVoteGuard,
	guard_found: bool,
	latest_certificate: Option<CheckpointCertificate<H>>,
}

/// Votes above the highest justified epoch `J`, a round one, while its round two (`J + 1`)
/// is not justified: what the planner needs to tell that the round two can no longer gather.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoundTwoOutlook {
	/// A supermajority of the current set voted from `J`, yet `J + 1` is not justified: some
	/// of them voted for other targets, and cannot cast `J + 1` any more.
	pub scattered: bool,
	/// The highest target voted from a source other than `J` (`J` if none). Its voters
	/// cannot move to `J`'s round two either; a retry goes above it.
	pub highest_elsewhere: Epoch,
}

/// A validator: its set and its index there.
type Voter = (SetId, ValidatorIndex);

impl<H: CheckpointHash> FinalityState<H> {
	/// The state of the chain with `genesis_hash` (checkpoint 0, finalized) and the authority
	/// set `voters` of genesis.
	pub fn new(genesis_hash: H, voters: VoterSet, config: FinalityConfig) -> Self {
		Self {
			genesis_hash,
			sets: Arc::new(AuthoritySets::new(voters)),
			config,
			last_finalized: Checkpoint::new(0, genesis_hash),
			justified: BTreeMap::new(),
			votes: BTreeMap::new(),
			early: BTreeMap::new(),
			links: HashMap::new(),
			guard: OwnVoteGuard::default(),
			guard_found: false,
			latest_certificate: None,
		}
	}

	/// Takes back what the store kept: the enacted authority sets (none stored: the genesis
	/// set alone) and the changes signalled but not enacted, the finalized and justified
	/// watermarks, the own-vote guard (merged, never lowered) and the votes above finality
	/// (verified when they arrived) that still fit their set and the window. Returns how many
	/// votes were taken and the step they make, or the stored sets if they do not form a chain
	/// of sets.
	pub fn restore(
		&mut self,
		sets: Vec<EnactedSet<H>>,
		signals: PendingSignals<H>,
		finalized: Option<Checkpoint<H>>,
		justified: Option<Checkpoint<H>>,
		guard: Option<OwnVoteGuard>,
		votes: Vec<CheckpointSignature<H>>,
	) -> Result<(usize, Step<H>), Vec<EnactedSet<H>>> {
		if !sets.is_empty() {
			self.sets = Arc::new(AuthoritySets::restore(sets.clone()).ok_or(sets)?);
		}
		Arc::make_mut(&mut self.sets).restore_signals(signals);
		if let Some(guard) = guard {
			self.guard = self.guard.merge(guard);
			self.guard_found = true;
		}
		if let Some(finalized) = finalized {
			self.set_finalized(finalized);
		}
		if let Some(justified) = justified.filter(|j| j.number > self.last_finalized.number) {
			self.justified.insert(justified.number, justified.hash);
		}
		self.start_forced_set();
		let mut taken = 0;
		for vote in votes {
			// Stored votes were verified when they arrived; votes of another set or outside
			// the window are left alone.
			if self.check_vote(&vote).is_ok() && self.insert_vote(vote).is_ok() {
				taken += 1;
			}
		}
		Ok((taken, self.tally()))
	}

	/// The chain's genesis hash.
	pub fn genesis_hash(&self) -> H {
		self.genesis_hash
	}

	/// The current authority set.
	pub fn voters(&self) -> &Arc<VoterSet> {
		self.sets.current()
	}

	/// The authority sets tracked: enacted and signalled.
	pub fn sets(&self) -> &Arc<AuthoritySets<H>> {
		&self.sets
	}

	/// Notes a forced change (see [`AuthoritySets::note_forced`]). Forced changes are signalled
	/// at any height, and put in force by block import, not by finality. Returns the write
	/// that stores the signals, `None` if it was noted before.
	pub fn note_forced(
		&mut self,
		signal: ForcedSignal<H>,
	) -> Result<Option<Write<H>>, SignalError> {
		let new = Arc::make_mut(&mut self.sets).note_forced(signal)?;
		Ok(new.then(|| Write::Signals(self.sets.signals())))
	}

	/// Notes a set change signalled in checkpoint block `checkpoint`. A signal at or below the
	/// finalized checkpoint is late: finality passed it, and with it the enactment (or the
	/// fork it was on). Returns the write that stores the signals, `None` if it was noted
	/// before.
	pub fn note_signal(
		&mut self,
		checkpoint: Checkpoint<H>,
		set: AuthoritySet,
	) -> Result<Option<Write<H>>, SignalError> {
		if checkpoint.number <= self.last_finalized.number {
			return Err(SignalError::Late {
				checkpoint: checkpoint.number,
				finalized: self.last_finalized.number,
			});
		}
		let new = Arc::make_mut(&mut self.sets).note_signal(checkpoint, set)?;
		Ok(new.then(|| Write::Signals(self.sets.signals())))
	}

	/// Forgets the signals of block `hash`, whose import failed. Returns the write that stores
	/// the signals left, `None` if it signalled nothing.
	pub fn forget_signals_of(&mut self, hash: &H) -> Option<Write<H>> {
		if !self.sets.has_signal_of(hash) {
			return None;
		}
		Arc::make_mut(&mut self.sets)
			.forget_signals_of(hash)
			.then(|| Write::Signals(self.sets.signals()))
	}

	/// The vote window: targets more than this many checkpoints above the finalized one are
	/// refused.
	pub fn window(&self) -> u64 {
		self.config.window
	}

	/// The finalized checkpoint.
	pub fn last_finalized(&self) -> Checkpoint<H> {
		self.last_finalized
	}

	/// The highest justified checkpoint (the finalized one if none is above it).
	pub fn highest_justified(&self) -> Checkpoint<H> {
		self.justified
			.iter()
			.next_back()
			.map_or(self.last_finalized, |(n, h)| Checkpoint { number: *n, hash: *h })
	}

	/// Whether `checkpoint` is justified (the finalized one is).
	pub fn is_justified(&self, checkpoint: &Checkpoint<H>) -> bool {
		*checkpoint == self.last_finalized
			|| self.justified.get(&checkpoint.number) == Some(&checkpoint.hash)
	}

	/// The own-vote guard.
	pub fn guard(&self) -> OwnVoteGuard {
		self.guard
	}

	/// Whether the own-vote guard was restored from storage (rather than starting empty).
	pub fn guard_found(&self) -> bool {
		self.guard_found
	}

	/// Whether the votes for target `number` split: a supermajority of the set voted for it,
	/// but no link to it is a supermajority from a justified source, so it is not justified.
	/// Those voters can only try again at a higher target.
	pub fn split_at(&self, number: Epoch) -> bool {
		let current = self.voters();
		number > self.last_finalized.number
			&& !self.justified.contains_key(&number)
			&& self.votes.get(&number).is_some_and(|by| {
				by.keys().filter(|(set, _)| *set == current.set_id()).count() >= current.threshold()
			})
	}

	/// What keeps the round two of the highest justified epoch from gathering, while that
	/// epoch is an unfinalized block's round one; `None` at other times.
	pub fn round_two_outlook(&self) -> Option<RoundTwoOutlook> {
		let justified = self.highest_justified();
		if !justified.number.is_round_one() || justified.number <= self.last_finalized.number {
			return None;
		}
		let current = self.voters();
		let mut from_justified = BTreeSet::new();
		let mut elsewhere = justified.number;
		for (target, by) in self.votes.range(justified.number.next()..) {
			for ((set, index), votes) in by {
				for vote in votes {
					if vote.link.source == justified {
						if *set == current.set_id() {
							from_justified.insert(*index);
						}
					} else {
						elsewhere = elsewhere.max(*target);
					}
				}
			}
		}
		Some(RoundTwoOutlook {
			scattered: from_justified.len() >= current.threshold(),
			highest_elsewhere: elsewhere,
		})
	}

	/// The certificate of the latest finality step taken.
	pub fn latest_certificate(&self) -> Option<&CheckpointCertificate<H>> {
		self.latest_certificate.as_ref()
	}

	/// Votes of `key` above finality (in any set held), lowest target first: what a restarted
	/// node gossips again.
	pub fn votes_of(&self, key: &AuthorityId) -> Vec<CheckpointSignature<H>> {
		let voters: Vec<Voter> = self
			.sets
			.enacted()
			.filter_map(|set| {
				let index = set.authorities.iter().position(|a| a == key)?;
				Some((set.id, index as ValidatorIndex))
			})
			.collect();
		self.votes
			.values()
			.flat_map(|by| voters.iter().filter_map(|v| by.get(v)).flatten())
			.cloned()
			.collect()
	}

	/// Set, membership, link shape and window against the current finality. Returns the set
	/// of the vote, to check its signature with.
	pub fn check_vote(
		&self,
		vote: &CheckpointSignature<H>,
	) -> Result<&Arc<VoterSet>, VoteRejection> {
		self.sets.check_vote(vote, self.last_finalized.number, self.config.window)
	}

	/// Whether the pool would take the vote: not known yet, and not a third variant of one
	/// validator's target (gossip must not store and relay a faulty validator's endless
	/// variants).
	fn pool_admits(&self, vote: &CheckpointSignature<H>) -> Result<(), VoteRejection> {
		let held = self.votes_at((vote.link.set_id, vote.validator_index), vote.link.target.number);
		room_for(vote, held.len(), held.iter().any(|v| v.link == vote.link))
	}

	/// Checks a vote of a set that is signalled and not enacted yet against the sets signalled
	/// under its id (forks may signal others): `Ok` if it may wait for the enactment
	/// ([`Self::import_vote`] holds it, and checks it again against the set enacted), its
	/// rejection otherwise ([`VoteRejection::FutureSet`] for a set not even signalled).
	fn check_early_vote(&self, vote: &CheckpointSignature<H>) -> Result<(), VoteRejection> {
		let current = self.voters().set_id();
		let mut outcome = Err(VoteRejection::FutureSet { current, got: vote.link.set_id });
		for voters in self.sets.pending_sets(vote.link.set_id) {
			outcome = voters
				.check_vote(vote, self.last_finalized.number, self.config.window)
				.and_then(|()| self.check_held(vote))
				.and_then(|()| voters.check_signature(&self.genesis_hash, vote));
			if outcome.is_ok() {
				break;
			}
		}
		outcome
	}

	/// Whether the early votes held leave room for `vote`: not held yet, and not a third
	/// variant of one validator's target.
	fn check_held(&self, vote: &CheckpointSignature<H>) -> Result<(), VoteRejection> {
		let held = self.early.get(&vote.link.target.number).map_or(&[][..], Vec::as_slice);
		let same = |v: &&CheckpointSignature<H>| {
			v.link.set_id == vote.link.set_id && v.validator_index == vote.validator_index
		};
		room_for(vote, held.iter().filter(same).count(), held.iter().any(|v| v == vote))
	}

	/// Takes another validator's vote: checks set, window and duplicates, and the signature
	/// unless `verified` (the gossip validator checked it), then tallies. A valid vote of a
	/// signalled set that is not enacted yet is held until the enactment and returns an empty
	/// step.
	pub fn import_vote(
		&mut self,
		vote: CheckpointSignature<H>,
		verified: bool,
	) -> Result<Step<H>, VoteRejection> {
		let voters = match self.check_vote(&vote) {
			Err(VoteRejection::FutureSet { .. }) => {
				self.check_early_vote(&vote)?;
				self.early.entry(vote.link.target.number).or_default().push(vote);
				return Ok(Step::default());
			}
			checked => checked?.clone(),
		};
		self.pool_admits(&vote)?;
		if !verified {
			voters.check_signature(&self.genesis_hash, &vote)?;
		}
		let evidence = self.insert_vote(vote.clone())?;
		let mut step = self.tally();
		step.writes.insert(0, Write::Vote(vote.clone()));
		if let Some(first) = evidence {
			step.equivocation = true;
			step.writes.insert(1, Write::Evidence(first, vote));
		}
		Ok(step)
	}

	/// The link this node should vote for to target `target`, or `None` to abstain.
	///
	/// The source is the highest justified checkpoint below `target` for which `is_ancestor`
	/// holds (the caller asks its chain) and from which the sets admit a link to `target` (an
	/// enacting checkpoint is the old set's source of one link only); the link must keep the
	/// own-vote guard's promise and the target must lie inside the vote window.
	///
	/// From a source at or above a set change signalled on the target's chain, the link goes
	/// to the next checkpoint only (else the source is a lower one): whatever the old set then
	/// justifies above the signal finalizes the checkpoint below it, so that a node counting
	/// it enacts the change there, and an old-set validator that has not seen the enacting
	/// finality yet never justifies a fork above it on its own.
	pub fn own_vote_link(
		&self,
		target: Checkpoint<H>,
		is_ancestor: impl Fn(&Checkpoint<H>) -> bool,
	) -> Option<Link<H>> {
		let finalized = self.last_finalized.number;
		if target.number <= finalized || target.number.0 > finalized.0 + self.config.window {
			return None;
		}
		let sets = &self.sets;
		let signalled_at_or_below = |source: &Checkpoint<H>| {
			sets.pending()
				.iter()
				.any(|p| p.checkpoint.number <= source.number && is_ancestor(&p.checkpoint))
		};
		let link = self
			.justified
			.range(..target.number)
			.rev()
			.map(|(n, h)| Checkpoint { number: *n, hash: *h })
			.chain(std::iter::once(self.last_finalized))
			.filter(|c| is_ancestor(c))
			.map(|source| Link {
				set_id: sets.set_for_source(source.number).set_id(),
				source,
				target,
			})
			.filter(|link| {
				link.target.number == link.source.number.next()
					|| !signalled_at_or_below(&link.source)
			})
			.find(|link| sets.set_of(link).is_ok())?;
		self.guard.permits(&link).then_some(link)
	}

	/// First half of an own vote: checks the guard, the vote and its signature, raises the
	/// guard and returns the write that must be durable before the vote is taken
	/// ([`Self::finish_own_vote`]) or gossiped. The guard stays raised whatever happens next.
	pub fn begin_own_vote(
		&mut self,
		vote: &CheckpointSignature<H>,
	) -> Result<Write<H>, OwnVoteRejection> {
		if !self.guard.permits(&vote.link) {
			return Err(OwnVoteRejection::Guard {
				from: vote.link.source.number,
				to: vote.link.target.number,
				guard_source: self.guard.source,
				guard_target: self.guard.target,
			});
		}
		self.check_vote(vote)
			.and_then(|voters| voters.check_signature(&self.genesis_hash, vote))
			.map_err(OwnVoteRejection::Invalid)?;
		self.guard = self.guard.raised(&vote.link);
		Ok(Write::OwnVote(vote.clone(), self.guard))
	}

	/// Second half of an own vote, once it is stored: takes it and tallies. A vote that
	/// finality passed in the meantime is not taken.
	pub fn finish_own_vote(&mut self, vote: CheckpointSignature<H>) -> Step<H> {
		if self.check_vote(&vote).is_err() {
			return Step::default();
		}
		let evidence = self.insert_vote(vote.clone()).ok().flatten();
		let mut step = self.tally();
		if let Some(first) = evidence {
			step.equivocation = true;
			step.writes.insert(0, Write::Evidence(first, vote));
		}
		step
	}

	/// Takes a vote that arrived from the network signed with this node's own key (as
	/// validator `vote.validator_index`). When it is valid and lies outside the own-vote guard,
	/// this node cannot have cast it (its key votes on another machine): the guard is raised
	/// to cover it, and the write returned must be durable before voting goes on. A vote
	/// inside the guard (an own vote from before a restart or purge, echoed back) or an
	/// invalid one returns `None` and changes nothing.
	pub fn raise_guard_over(&mut self, vote: &CheckpointSignature<H>) -> Option<Write<H>> {
		if self.guard.covers(&vote.link)
			|| self
				.check_vote(vote)
				.and_then(|voters| voters.check_signature(&self.genesis_hash, vote))
				.is_err()
		{
			return None;
		}
		self.guard = self.guard.raised(&vote.link);
		Some(Write::Guard(self.guard))
	}

	/// The certificate for `link` from the signatures collected, if they are a supermajority.
	pub fn create_checkpoint_certificate(
		&self,
		link: &Link<H>,
	) -> Option<CheckpointCertificate<H>> {
		let signatures = self.links.get(link)?;
		(signatures.len() >= self.threshold_of(link)?).then(|| CheckpointCertificate {
			link: *link,
			signatures: signatures.iter().map(|(i, s)| (*i, s.clone())).collect(),
		})
	}

	/// First half of finalizing `certificate.link.source`: the certificate with the justified
	/// watermark and the set change its finality enacts, if any (`is_ancestor` says whether a
	/// signalling block of [`AuthoritySets::signals_up_to`] the source is on the source's
	/// chain), to be stored in one transaction before [`Self::finalize`]. `None` for a
	/// checkpoint at or below the finalized one: finality never moves backwards.
	pub fn certificate_write(
		&self,
		certificate: &CheckpointCertificate<H>,
		is_ancestor: impl Fn(&H) -> bool,
	) -> Option<Write<H>> {
		(certificate.link.source.number > self.last_finalized.number).then(|| {
			let mut sets = (*self.sets).clone();
			let enacted = sets
				.finalize(certificate.link.source, is_ancestor)
				.map(|_| sets.enacted().cloned().collect::<Vec<_>>());
			// An enactment ends the old set's authority at the certificate's link: what its
			// other links justified above the enacting checkpoint is not justified any more.
			let justified = match enacted {
				Some(_) => certificate.link.target,
				None => self.highest_justified().max(certificate.link.target),
			};
			Write::Certificate(certificate.clone(), justified, enacted)
		})
	}

	/// Second half, once the certificate is stored: finalizes its source, enacts the set
	/// change that finality enacts (with the same `is_ancestor`), justifies its target and
	/// drops what lies below finality. Returns `None` (and changes nothing) when finality is
	/// already at or above the source, else the set enacted, if any, and the step the votes
	/// held for it make.
	#[allow(clippy::type_complexity)]
	pub fn finalize(
		&mut self,
		certificate: CheckpointCertificate<H>,
		is_ancestor: impl Fn(&H) -> bool,
	) -> Option<(Option<EnactedSet<H>>, Step<H>)> {
		if certificate.link.source.number <= self.last_finalized.number {
			return None;
		}
		let enacted = Arc::make_mut(&mut self.sets).finalize(certificate.link.source, is_ancestor);
		self.set_finalized(certificate.link.source);
		// The certificate's supermajority link justifies its target, whether this node saw the
		// votes or only the certificate (as the watermark just stored says). A different
		// checkpoint already justified at that height stays (see `tally`). An enactment ends
		// the old set's authority at this link: nothing else it justified stays.
		let target = certificate.link.target;
		if enacted.is_some() {
			self.justified.clear();
		}
		self.justified.entry(target.number).or_insert(target.hash);
		self.latest_certificate = Some(certificate);
		let step = if enacted.is_some() { self.after_enactment() } else { self.tally() };
		Some((enacted, step))
	}

	/// First half of a warp to what a warp sync proof proved: the certificates to store, those
	/// at or below the finalized checkpoint left out. `None` when finality is at or above the
	/// proof's.
	pub fn warp_write(&self, warp: &Warp<H>) -> Option<Write<H>> {
		let finalized = self.last_finalized.number;
		(warp.latest.link.source.number > finalized).then(|| {
			let mut above = warp.clone();
			above.changes.retain(|(certificate, _)| certificate.link.source.number > finalized);
			Write::Warp(above)
		})
	}

	/// Second half, once stored: the proof's sets in force (signals noted here dropped: they
	/// were of blocks the proof passed), its checkpoint finalized and the latest certificate's
	/// target justified, what lies below dropped. The own-vote guard stays as it is: a
	/// validator that warp-syncs still signs only above it. Returns the step the votes held
	/// make, `None` (and changes nothing) when finality is at or above the proof's.
	pub fn warp(&mut self, warp: Warp<H>) -> Option<Step<H>> {
		let latest = warp.latest;
		if latest.link.source.number <= self.last_finalized.number {
			return None;
		}
		self.sets = Arc::new(warp.sets);
		self.justified.clear();
		self.early.clear();
		self.set_finalized(latest.link.source);
		self.justified.insert(latest.link.target.number, latest.link.target.hash);
		self.latest_certificate = Some(latest);
		let sets = self.sets.clone();
		self.votes.retain(|_, by| {
			by.retain(|&(set_id, _), _| sets.by_id(set_id).is_some());
			!by.is_empty()
		});
		Some(self.after_enactment())
	}

	/// First half of a forced change that the imported block at height `block_number` puts in
	/// force (`is_ancestor` says whether a signalling block of
	/// [`AuthoritySets::forced_due`] is on its chain): the sets to store before it is made.
	pub fn forced_write(
		&self,
		block_number: u64,
		is_ancestor: impl Fn(&H) -> bool,
	) -> Option<Write<H>> {
		let mut sets = (*self.sets).clone();
		sets.apply_forced(block_number, is_ancestor)
			.map(|_| Write::Sets(sets.enacted().cloned().collect()))
	}

	/// Second half, once the sets are stored: the forced set is the current one, from its
	/// base checkpoint on (see [`Self::start_forced_set`]). Returns it and the step the votes
	/// held for it make.
	pub fn apply_forced(
		&mut self,
		block_number: u64,
		is_ancestor: impl Fn(&H) -> bool,
	) -> Option<(EnactedSet<H>, Step<H>)> {
		let enacted = Arc::make_mut(&mut self.sets).apply_forced(block_number, is_ancestor)?;
		self.start_forced_set();
		Some((enacted, self.after_enactment()))
	}

	/// A forced set starts at its base checkpoint, on every node alike: above this node's
	/// finality, the forcing finalizes it (as GRANDPA's forced change restarts its voters from
	/// the block it names), so that it is the source of the new set's first votes and the vote
	/// window starts there. Derived from the stored sets at a restart.
	fn start_forced_set(&mut self) {
		let current = self.sets.enacted().last().filter(|set| set.forced);
		if let Some(base) = current.and_then(|set| set.enacted_by) {
			self.set_finalized(base);
		}
	}

	/// After a set change: takes the votes that waited for the new set, checked again against
	/// the set enacted (they were held on a check against every set signalled under their id),
	/// drops every link the sets no longer admit (the old set's above the enacting
	/// checkpoint), and tallies.
	fn after_enactment(&mut self) -> Step<H> {
		let mut step = Step::default();
		for vote in std::mem::take(&mut self.early).into_values().flatten() {
			if let Ok(mut taken) = self.import_vote(vote, false) {
				step.writes.append(&mut taken.writes);
				step.justified.append(&mut taken.justified);
				step.equivocation |= taken.equivocation;
			}
		}
		let sets = self.sets.clone();
		self.links.retain(|link, _| sets.set_of(link).is_ok());
		let tally = self.tally();
		step.justified.extend(tally.justified);
		step.finalizable = tally.finalizable;
		step.writes.extend(tally.writes);
		step
	}

	/// Votes a link needs: more than two thirds of the set of its link; `None` for a link of
	/// no set held.
	fn threshold_of(&self, link: &Link<H>) -> Option<usize> {
		self.sets.set_of(link).ok().map(|voters| voters.threshold())
	}

	/// Justifies every target of a supermajority link from a justified source, then names the
	/// certificate of the highest justified source of a supermajority link to the next
	/// checkpoint, which finalizes that source once stored.
	pub fn tally(&mut self) -> Step<H> {
		let mut step = Step::default();
		loop {
			let next = self
				.links
				.iter()
				.filter(|(link, sigs)| {
					self.threshold_of(link).is_some_and(|t| sigs.len() >= t)
						&& link.target.number > self.last_finalized.number
						&& self.is_justified(&link.source)
						&& !self.is_justified(&link.target)
				})
				.map(|(link, _)| link.target)
				.min();
			let Some(target) = next else { break };
			if let Some(existing) = self.justified.get(&target.number) {
				// Two justified checkpoints at one height need a third of the weight to vote
				// twice. Keep the first; the evidence is in the vote pool.
				log::error!(
					target: crate::LOG_TARGET,
					"❌ Conflicting justified checkpoints at {}: {:?} and {:?}; more than a third \
					 of the validators equivocated",
					target.number,
					existing,
					target.hash,
				);
				self.links.retain(|link, _| link.target != target);
				continue;
			}
			self.justified.insert(target.number, target.hash);
			step.justified.push(target);
		}

		step.finalizable = self
			.links
			.iter()
			.filter(|(link, sigs)| {
				self.threshold_of(link).is_some_and(|t| sigs.len() >= t)
					&& link.target.number == link.source.number.next()
					&& link.source.number > self.last_finalized.number
					&& self.is_justified(&link.source)
			})
			.map(|(link, _)| *link)
			.max_by_key(|link| link.source.number)
			.and_then(|link| self.create_checkpoint_certificate(&link));
		if step.finalizable.is_none() && !step.justified.is_empty() {
			step.writes.push(Write::Justified(self.highest_justified()));
		}
		step
	}

	fn set_finalized(&mut self, checkpoint: Checkpoint<H>) {
		if checkpoint.number <= self.last_finalized.number {
			return;
		}
		self.last_finalized = checkpoint;
		let above = checkpoint.number.next();
		self.votes = self.votes.split_off(&above);
		self.justified = self.justified.split_off(&above);
		self.early = self.early.split_off(&above);
		self.links.retain(|link, _| link.target.number > checkpoint.number);
	}

	/// The votes held of validator `voter` for target number `target`.
	fn votes_at(&self, voter: Voter, target: Epoch) -> &[CheckpointSignature<H>] {
		self.votes.get(&target).and_then(|by| by.get(&voter)).map_or(&[], Vec::as_slice)
	}

	/// Adds a checked vote; returns an earlier vote of the same validator it conflicts with.
	fn insert_vote(
		&mut self,
		vote: CheckpointSignature<H>,
	) -> Result<Option<CheckpointSignature<H>>, VoteRejection> {
		let (index, link) = (vote.validator_index, vote.link);
		let voter = (link.set_id, index);
		let mut earlier = self.votes.values().filter_map(|by| by.get(&voter)).flatten();
		if earlier.clone().any(|v| v.link == link) {
			return Err(VoteRejection::Duplicate);
		}
		let conflict = earlier.find(|v| votes_conflict(&v.link, &link)).cloned();
		let own = self.votes.entry(link.target.number).or_default().entry(voter).or_default();
		if own.len() >= MAX_VOTES_PER_TARGET {
			return Err(VoteRejection::EquivocationLimit {
				validator: index,
				target: link.target.number,
			});
		}
		self.links.entry(link).or_default().insert(index, vote.signature.clone());
		own.push(vote);
		Ok(conflict)
	}
}

#[cfg(test)]
pub(crate) mod tests {
	use super::*;
	use crate::testing::{self, cp};
	use sp_core::{ed25519, Pair, H256};
	use sp_finality_checkpoint::signing_payload;

	/// Four validators and a certificate of the first three on `2 -> 3`, block 1's round two
	/// (genesis zero).
	pub(crate) fn signed_certificate() -> (Vec<ed25519::Pair>, VoterSet, CheckpointCertificate<H256>)
	{
		let keys = testing::keys(1..5);
		let certificate = testing::certificate(&keys, 3, testing::link(0, 2, 3));
		(keys.clone(), testing::set(0, &keys), certificate)
	}

	#[test]
	fn valid_certificate_verifies() {
		let (_, voters, cert) = signed_certificate();
		assert_eq!(voters.verify_certificate(&H256::zero(), &cert), Ok(()));
	}

	#[test]
	fn forged_short_repeated_and_foreign_certificates_fail() {
		let (keys, voters, cert) = signed_certificate();
		assert!(voters.verify_certificate(&H256::repeat_byte(9), &cert).is_err(), "other chain");

		let mut short = cert.clone();
		short.signatures.pop();
		assert_eq!(
			voters.verify_certificate(&H256::zero(), &short),
			Err(CertificateError::TooFewSignatures { got: 2, needed: 3 })
		);

		let mut repeated = cert.clone();
		repeated.signatures[2] = repeated.signatures[0].clone();
		assert_eq!(
			voters.verify_certificate(&H256::zero(), &repeated),
			Err(CertificateError::BadSignature(0))
		);

		let mut forged = cert.clone();
		let payload = signing_payload(&H256::zero(), &cert.link);
		forged.signatures[2] = (2, keys[3].sign(&payload).into());
		assert_eq!(
			voters.verify_certificate(&H256::zero(), &forged),
			Err(CertificateError::BadSignature(2))
		);

		let mut skipping = cert.clone();
		skipping.link.target.number = sp_finality_checkpoint::Epoch(4);
		assert_eq!(
			voters.verify_certificate(&H256::zero(), &skipping),
			Err(CertificateError::NotFinalizing)
		);

		let mut other_set = cert;
		other_set.link.set_id = 1;
		assert!(matches!(
			voters.verify_certificate(&H256::zero(), &other_set),
			Err(CertificateError::WrongSet { .. })
		));
	}

	fn keys() -> Vec<ed25519::Pair> {
		testing::keys(1..5)
	}

	fn state(keys: &[ed25519::Pair]) -> FinalityState<H256> {
		FinalityState::new(H256::zero(), testing::set(0, keys), FinalityConfig::default())
	}

	fn vote(
		keys: &[ed25519::Pair],
		index: usize,
		source: u64,
		target: u64,
	) -> CheckpointSignature<H256> {
		testing::vote(keys, index, testing::link(0, source, target))
	}

	#[test]
	fn a_vote_names_its_write_and_finality_waits_for_the_certificate_write() {
		let keys = keys();
		let mut state = state(&keys);
		for i in 0..3 {
			let step = state.import_vote(vote(&keys, i, 0, 1), false).unwrap();
			assert_eq!(step.writes[0], Write::Vote(vote(&keys, i, 0, 1)));
		}
		assert!(state.is_justified(&cp(1)));
		let mut last = Step::default();
		for i in 0..3 {
			last = state.import_vote(vote(&keys, i, 1, 2), true).unwrap();
		}
		let certificate = last.finalizable.expect("1 -> 2 finalizes 1");
		assert_eq!(last.justified, vec![cp(2)]);
		assert!(
			!last.writes.iter().any(|w| matches!(w, Write::Justified(_))),
			"in the certificate"
		);
		// Nothing final until the shell says the certificate is stored.
		assert_eq!(state.last_finalized(), cp(0));
		assert_eq!(
			state.certificate_write(&certificate, |_| true),
			Some(Write::Certificate(certificate.clone(), cp(2), None))
		);
		assert!(state.finalize(certificate.clone(), |_| true).is_some());
		assert_eq!(state.last_finalized(), cp(1));
		assert_eq!(
			state.certificate_write(&certificate, |_| true),
			None,
			"finality never moves back"
		);
		assert!(state.finalize(certificate, |_| true).is_none());
	}

	#[test]
	fn a_justification_that_finalizes_nothing_writes_the_watermark() {
		let keys = keys();
		let mut state = state(&keys);
		let steps: Vec<_> =
			(0..3).map(|i| state.import_vote(vote(&keys, i, 0, 2), false).unwrap()).collect();
		assert_eq!(steps[2].justified, vec![cp(2)]);
		assert_eq!(steps[2].finalizable, None);
		assert_eq!(steps[2].writes.last(), Some(&Write::Justified(cp(2))));
	}

	#[test]
	fn a_conflicting_vote_comes_with_its_evidence() {
		let keys = keys();
		let mut state = state(&keys);
		state.import_vote(vote(&keys, 3, 0, 2), false).unwrap();
		let step = state.import_vote(vote(&keys, 3, 0, 3), false).unwrap();
		assert!(!step.equivocation, "a higher target from the same source is no conflict");
		let step = state.import_vote(vote(&keys, 3, 1, 2), false).unwrap();
		assert!(step.equivocation);
		assert_eq!(step.writes[1], Write::Evidence(vote(&keys, 3, 0, 2), vote(&keys, 3, 1, 2)));
		assert_eq!(state.import_vote(vote(&keys, 3, 1, 2), false), Err(VoteRejection::Duplicate));
	}

	#[test]
	fn unverified_votes_are_checked_and_verified_ones_are_not() {
		let keys = keys();
		let mut state = state(&keys);
		let mut forged = vote(&keys, 1, 0, 1);
		forged.validator_index = 2;
		assert_eq!(state.import_vote(forged.clone(), false), Err(VoteRejection::BadSignature));
		// The gossip validator vouches for the signature: only the cheap checks remain.
		assert!(state.import_vote(forged, true).is_ok());
	}

	#[test]
	fn an_own_vote_raises_the_guard_before_it_is_stored() {
		let keys = keys();
		let mut state = state(&keys);
		let own = vote(&keys, 0, 0, 1);
		let write = state.begin_own_vote(&own).unwrap();
		assert_eq!(
			write,
			Write::OwnVote(
				own.clone(),
				OwnVoteGuard { source: cp(0).number, target: cp(1).number }
			)
		);
		// Not stored (the write failed): the guard stays raised and the vote is not taken.
		assert_eq!(state.guard().target, cp(1).number);
		assert!(state.votes_of(&keys[0].public().into()).is_empty());
		assert!(matches!(state.begin_own_vote(&own), Err(OwnVoteRejection::Guard { .. })));
		assert_eq!(state.own_vote_link(cp(1), |_| true), None);
		// Stored: taken.
		assert!(!state.finish_own_vote(own.clone()).equivocation);
		assert_eq!(state.votes_of(&keys[0].public().into()), vec![own]);
	}

	#[test]
	fn a_vote_of_our_key_outside_the_guard_raises_it() {
		let keys = keys();
		let mut state = state(&keys);
		let own = vote(&keys, 0, 0, 1);
		state.begin_own_vote(&own).unwrap();
		assert_eq!(state.raise_guard_over(&own), None, "our own vote, echoed back");
		let twin = vote(&keys, 0, 0, 3);
		let raised = OwnVoteGuard { source: cp(0).number, target: cp(3).number };
		assert_eq!(state.raise_guard_over(&twin), Some(Write::Guard(raised)));
		assert_eq!(state.guard(), raised);
		let mut forged = vote(&keys, 1, 0, 5);
		forged.validator_index = 0;
		assert_eq!(state.raise_guard_over(&forged), None, "an invalid vote proves nothing");
	}
}
