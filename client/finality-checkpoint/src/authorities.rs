//! The authority sets of the chain, tracked from genesis through the changes that finality
//! enacted, as sc-consensus-grandpa's `authorities.rs` tracks GRANDPA's.
//!
//! Every vote, certificate and imported justification is checked against the set tracked for
//! its checkpoint, never against the set a block's state names: a fork's own state can name any
//! set. A change is signalled by a `CKPT` [`ScheduledChange`] digest in checkpoint block `B`
//! (pallet-checkpoint deposits it only there) and enacted by the first checkpoint at or above
//! `B`, on `B`'s chain, that becomes finalized; the link that finalizes it is still the old
//! set's, and the new set's votes have their sources above it. When finality lags behind
//! several signals, each finalization enacts at most one change, in the order of the signals.
//! A node cannot skip an enacting checkpoint: the certificates above it are the new set's,
//! which it can check only once the change is enacted, so every node that finalized the same
//! chain holds the same sets.
//!
//! **Where the old set's authority ends.** Once checkpoint `E` enacts a change, the old set's
//! authority ends at the link `E -> E+1` that finalized `E`: no other link of the old set with
//! a target above `E` is counted, held as justifying or relayed. Otherwise old-set votes
//! `E -> E+2'` on a fork could justify a checkpoint that the new set then finalizes, while
//! another node finalizes `E+1`: a double vote split across two sets, of which no one is
//! accountable.
//!
//! **Signals are keyed by block.** Forks may signal different sets under one id, and a block
//! that fails to import may carry a signal too: every signal is held with its block, the one
//! enacted is the one on the chain of the finalized checkpoint, and votes of a signalled set
//! that arrive early are checked against the candidates only to be held, then again against
//! the set actually enacted. Pending signals are stored ([`PendingSignals`]), so that a
//! restart between two signals forgets neither.
//!
//! Root can also force a change ([`ForcedChange`]) when more than a third of the set is gone
//! for good and nothing can be finalized: it takes effect when the block `delay` blocks after
//! the signal is imported on the signal's chain, without finality. The forced set starts at
//! the checkpoint at or below the signalling block (its `base`, the same on every node): votes
//! of the new set may have their source there, and it counts as justified.
//!
//! Only the newest [`KEPT_SETS`] enacted sets are held: votes of older sets are expired. The
//! history lives on in the certificates of the enacting checkpoints, which the store keeps.
//!
//! Pure: no I/O, no client. The caller tells the ancestry of a signalling block.
//!
//! [`ScheduledChange`]: sp_finality_checkpoint::ConsensusLog::ScheduledChange
//! [`ForcedChange`]: sp_finality_checkpoint::ConsensusLog::ForcedChange

use crate::types::{CertificateError, CheckpointHash, VoteRejection, VoterSet};
use codec::{Decode, Encode};
use sp_finality_checkpoint::{
	AuthorityId, AuthoritySet, Checkpoint, CheckpointCertificate, CheckpointSignature, Epoch, Link,
	SetId,
};
use std::sync::Arc;

/// Enacted sets held: the current one and the one before it, whose votes may still have a
/// source at the enacting checkpoint.
pub const KEPT_SETS: usize = 2;

/// An enacted authority set and the checkpoint whose finality enacted it.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct EnactedSet<H> {
	/// The set id.
	pub id: SetId,
	/// The voters, in validator-index order.
	pub authorities: Vec<AuthorityId>,
	/// The enacting checkpoint; `None` for the first set tracked (genesis). Votes of this set
	/// have their sources above it (at or above it for a forced change).
	pub enacted_by: Option<Checkpoint<H>>,
	/// Whether root forced the change in, at the finalized checkpoint `enacted_by`.
	pub forced: bool,
}

impl<H: PartialEq> EnactedSet<H> {
	/// Whether a vote of this set may have its source at `source`: above the enacting
	/// checkpoint, or at or above it for a forced change. The set before it covers the rest.
	pub fn admits_source(&self, source: Epoch) -> bool {
		match &self.enacted_by {
			None => true,
			Some(e) if self.forced => source >= e.number,
			Some(e) => source > e.number,
		}
	}

	/// Whether a link of the set before this one lies inside that set's authority, which this
	/// set's enactment ends: for a change enacted by checkpoint `E`, links with targets at or
	/// below `E` and the link `E -> E+1` that finalized `E`; for a forced change starting at
	/// checkpoint `C`, links with targets at or below `C`.
	pub fn admits_predecessor_link(&self, link: &Link<H>) -> bool {
		match &self.enacted_by {
			None => false,
			Some(c) if self.forced => link.target.number <= c.number,
			Some(e) => {
				link.target.number <= e.number
					|| (link.source == *e && link.target.number == e.number.next())
			}
		}
	}
}

/// A set change that a block's header signals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signal<H> {
	/// A scheduled change, signalled in this checkpoint block: the set takes over once a
	/// checkpoint at or above it is finalized.
	Scheduled(Checkpoint<H>, AuthoritySet),
	/// A forced change.
	Forced(ForcedSignal<H>),
}

/// A forced set change signalled in an imported block and not yet in force.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct ForcedSignal<H> {
	/// Height of the signalling block.
	pub block_number: u64,
	/// Hash of the signalling block.
	pub block_hash: H,
	/// Blocks after the signal at which the change takes effect.
	pub delay: u32,
	/// The set that takes over.
	pub set: AuthoritySet,
	/// The checkpoint at or below the signalling block, on its chain: where the forced set
	/// starts on every node, whatever each one had finalized.
	pub base: Checkpoint<H>,
}

impl<H> ForcedSignal<H> {
	/// The height from which the change is in force.
	pub fn effective_at(&self) -> u64 {
		self.block_number.saturating_add(u64::from(self.delay))
	}
}

/// A set change signalled in an imported checkpoint block and not yet enacted.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct SignalledChange<H> {
	/// The signalling checkpoint block.
	pub checkpoint: Checkpoint<H>,
	/// The set that takes over.
	pub set: AuthoritySet,
}

/// The changes signalled and not yet enacted, as stored: a restart must not forget a change
/// signalled below the finalized checkpoint and waiting for the next finalization.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct PendingSignals<H> {
	/// Scheduled changes, lowest block first.
	pub scheduled: Vec<SignalledChange<H>>,
	/// Forced changes not in force yet.
	pub forced: Vec<ForcedSignal<H>>,
}

impl<H> Default for PendingSignals<H> {
	fn default() -> Self {
		Self { scheduled: Vec::new(), forced: Vec::new() }
	}
}

/// Why a signal was not taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignalError {
	/// The signalled set has no voters: it could never finalize anything.
	#[error("set change to set {0} with no voters")]
	EmptySet(SetId),
	/// The signalled set id is not above the current one.
	#[error("set change to set {got}, but set {current} is enacted already")]
	Outdated {
		/// The current set id.
		current: SetId,
		/// The signalled id.
		got: SetId,
	},
	/// The signalling checkpoint is at or below the finalized one: finality passed it.
	#[error("set change signalled at {checkpoint}, at or below finalized {finalized}")]
	Late {
		/// The signalling checkpoint.
		checkpoint: Epoch,
		/// The finalized checkpoint.
		finalized: Epoch,
	},
}

/// The sets the chain has had, and the changes signalled but not enacted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthoritySets<H> {
	/// Enacted sets, oldest first; ids increase by one.
	enacted: Vec<(EnactedSet<H>, Arc<VoterSet>)>,
	/// Signalled changes, lowest block first.
	pending: Vec<SignalledChange<H>>,
	/// Forced changes signalled and not in force yet.
	forced: Vec<ForcedSignal<H>>,
}

impl<H: CheckpointHash> AuthoritySets<H> {
	/// Tracking from `voters`, the set at the first checkpoint this node trusts (genesis).
	pub fn new(voters: VoterSet) -> Self {
		let first = EnactedSet {
			id: voters.set_id(),
			authorities: voters.authorities().to_vec(),
			enacted_by: None,
			forced: false,
		};
		Self { enacted: vec![(first, Arc::new(voters))], pending: Vec::new(), forced: Vec::new() }
	}

	/// The tracked sets as stored: `None` unless the enacted sets are non-empty, each has
	/// voters, their ids increase (by one but across a forced change) and their enacting
	/// checkpoints increase (a forced change may be enacted at the checkpoint of the change
	/// before it).
	pub fn restore(enacted: Vec<EnactedSet<H>>) -> Option<Self> {
		let mut sets: Vec<(EnactedSet<H>, Arc<VoterSet>)> = Vec::with_capacity(enacted.len());
		for set in enacted {
			if let Some((last, _)) = sets.last() {
				let in_order = (set.id == last.id + 1 || (set.forced && set.id > last.id))
					&& set.enacted_by.is_some_and(|e| {
						last.enacted_by.is_none_or(|l| {
							e.number > l.number || (set.forced && e.number == l.number)
						})
					});
				if !in_order {
					return None;
				}
			}
			let voters = VoterSet::new(set.id, set.authorities.clone())?;
			sets.push((set, Arc::new(voters)));
		}
		if sets.is_empty() {
			return None;
		}
		Some(Self { enacted: sets, pending: Vec::new(), forced: Vec::new() })
	}

	/// The enacted sets, oldest first.
	pub fn enacted(&self) -> impl Iterator<Item = &EnactedSet<H>> {
		self.enacted.iter().map(|(set, _)| set)
	}

	/// The signalled changes not yet enacted, lowest block first.
	pub fn pending(&self) -> &[SignalledChange<H>] {
		&self.pending
	}

	/// The newest enacted set.
	pub fn current(&self) -> &Arc<VoterSet> {
		&self.enacted.last().expect("never empty; qed").1
	}

	/// The enacted set with id `id`, if held.
	pub fn by_id(&self, id: SetId) -> Option<&Arc<VoterSet>> {
		self.enacted.iter().find(|(set, _)| set.id == id).map(|(_, voters)| voters)
	}

	/// The set a vote or certificate for `link` is checked against: the enacted set of its id,
	/// whose range holds the link (its source above the set's enacting checkpoint, and the link
	/// inside the authority the next set's enactment ends, see
	/// [`EnactedSet::admits_predecessor_link`]). A vote of a set not enacted yet is
	/// [`VoteRejection::FutureSet`]: it may wait for the enactment.
	pub fn set_of(&self, link: &Link<H>) -> Result<&Arc<VoterSet>, VoteRejection> {
		let current = self.current().set_id();
		if link.set_id > current {
			return Err(VoteRejection::FutureSet { current, got: link.set_id });
		}
		let wrong = VoteRejection::WrongSet { current, got: link.set_id };
		let index = self.enacted.iter().position(|(set, _)| set.id == link.set_id).ok_or(wrong)?;
		let (set, voters) = &self.enacted[index];
		let before_end =
			self.enacted.get(index + 1).is_none_or(|(next, _)| next.admits_predecessor_link(link));
		if set.admits_source(link.source.number) && before_end {
			Ok(voters)
		} else {
			Err(VoteRejection::WrongSet { current, got: link.set_id })
		}
	}

	/// Set, membership, link shape and window of `vote` against the set of its link (see
	/// [`Self::set_of`]), with checkpoint `finalized` final and votes accepted up to `window`
	/// checkpoints above it. Returns that set, to check the signature with.
	pub fn check_vote(
		&self,
		vote: &CheckpointSignature<H>,
		finalized: Epoch,
		window: u64,
	) -> Result<&Arc<VoterSet>, VoteRejection> {
		let voters = self.set_of(&vote.link)?;
		voters.check_vote(vote, finalized, window)?;
		Ok(voters)
	}

	/// Checks `certificate` against the set of its link (see [`Self::set_of`]) on the chain
	/// with `genesis_hash`.
	pub fn verify_certificate(
		&self,
		genesis_hash: &H,
		certificate: &CheckpointCertificate<H>,
	) -> Result<(), CertificateError> {
		let got = certificate.link.set_id;
		let voters = self.set_of(&certificate.link).map_err(|rejection| match rejection {
			VoteRejection::FutureSet { current, .. } => {
				CertificateError::FutureSet { current, got }
			}
			_ => CertificateError::WrongSet { expected: self.current().set_id(), got },
		})?;
		voters.verify_certificate(genesis_hash, certificate)
	}

	/// The signalled (or forced), not yet enacted sets with id `id`, one per signalling block
	/// (forks, or a block that failed to import, may signal other sets under one id): what an
	/// early vote or certificate is checked against to wait, never to count.
	pub fn pending_sets(&self, id: SetId) -> impl Iterator<Item = VoterSet> + '_ {
		let scheduled = self.pending.iter().map(|p| &p.set);
		scheduled
			.chain(self.forced.iter().map(|f| &f.set))
			.filter(move |s| s.id == id)
			.filter_map(|s| VoterSet::new(s.id, s.authorities.clone()))
	}

	/// The signals not yet enacted, to store.
	pub fn signals(&self) -> PendingSignals<H> {
		PendingSignals { scheduled: self.pending.clone(), forced: self.forced.clone() }
	}

	/// Takes back stored signals that may still follow the current set (a higher id, voters);
	/// the others were enacted or overtaken before the store was written.
	pub fn restore_signals(&mut self, signals: PendingSignals<H>) {
		for change in signals.scheduled {
			if self.check_next(&change.set).is_ok()
				&& !self.pending.iter().any(|p| p.checkpoint == change.checkpoint)
			{
				let number = change.checkpoint.number;
				let at = self.pending.partition_point(|p| p.checkpoint.number <= number);
				self.pending.insert(at, change);
			}
		}
		for signal in signals.forced {
			if self.check_next(&signal.set).is_ok()
				&& !self.forced.iter().any(|f| f.block_hash == signal.block_hash)
			{
				self.forced.push(signal);
			}
		}
	}

	/// Whether block `hash` signalled a change not yet enacted.
	pub fn has_signal_of(&self, hash: &H) -> bool {
		self.pending.iter().any(|p| p.checkpoint.hash == *hash)
			|| self.forced.iter().any(|f| f.block_hash == *hash)
	}

	/// Forgets the signals of block `hash` (its import failed: it is on no chain). Returns
	/// whether there were any.
	pub fn forget_signals_of(&mut self, hash: &H) -> bool {
		if !self.has_signal_of(hash) {
			return false;
		}
		self.pending.retain(|p| p.checkpoint.hash != *hash);
		self.forced.retain(|f| f.block_hash != *hash);
		true
	}

	/// The set whose votes may have `source` as their source: what an own vote signs with.
	pub fn set_for_source(&self, source: Epoch) -> &Arc<VoterSet> {
		self.enacted
			.iter()
			.rev()
			.find(|(set, _)| set.admits_source(source))
			.map_or_else(|| &self.enacted[0].1, |(_, voters)| voters)
	}

	/// Notes the change that checkpoint block `checkpoint` signals. Returns `false` if it was
	/// noted before.
	pub fn note_signal(
		&mut self,
		checkpoint: Checkpoint<H>,
		set: AuthoritySet,
	) -> Result<bool, SignalError> {
		self.check_next(&set)?;
		if self.pending.iter().any(|p| p.checkpoint == checkpoint) {
			return Ok(false);
		}
		let at = self.pending.partition_point(|p| p.checkpoint.number <= checkpoint.number);
		self.pending.insert(at, SignalledChange { checkpoint, set });
		Ok(true)
	}

	/// Whether a signalled `set` may follow the current one: a higher id, and voters.
	fn check_next(&self, set: &AuthoritySet) -> Result<(), SignalError> {
		let current = self.current().set_id();
		if set.id <= current {
			return Err(SignalError::Outdated { current, got: set.id });
		}
		if set.authorities.is_empty() {
			return Err(SignalError::EmptySet(set.id));
		}
		Ok(())
	}

	/// The signalling blocks at or below checkpoint `number` whose ancestry
	/// [`Self::finalize`] asks for when that checkpoint is finalized.
	pub fn signals_up_to(&self, number: Epoch) -> impl Iterator<Item = &H> {
		self.pending
			.iter()
			.filter(move |p| p.checkpoint.number <= number)
			.map(|p| &p.checkpoint.hash)
	}

	/// Applies the finality of checkpoint `finalized`: drops the signals at or below it that
	/// are not on its chain (`is_ancestor` of a signalling block hash says whether it is an
	/// ancestor of the finalized block, or the block itself), and enacts the lowest signal
	/// that is, if its set is the next one. Returns the set enacted; it must be stored with the
	/// finality that enacts it.
	pub fn finalize(
		&mut self,
		finalized: Checkpoint<H>,
		is_ancestor: impl Fn(&H) -> bool,
	) -> Option<EnactedSet<H>> {
		if self
			.enacted
			.last()
			.and_then(|(set, _)| set.enacted_by)
			.is_some_and(|e| e.number >= finalized.number)
		{
			// One change per finalization, strictly above the last enactment.
			return None;
		}
		self.pending
			.retain(|p| p.checkpoint.number > finalized.number || is_ancestor(&p.checkpoint.hash));
		let next_id = self.current().set_id() + 1;
		let position = self
			.pending
			.iter()
			.position(|p| p.checkpoint.number <= finalized.number && p.set.id == next_id)?;
		let change = self.pending.remove(position);
		let set = EnactedSet {
			id: change.set.id,
			authorities: change.set.authorities,
			enacted_by: Some(finalized),
			forced: false,
		};
		self.enact(set)
	}

	/// Notes a forced change signalled in an imported block. Returns `false` if it was noted
	/// before.
	pub fn note_forced(&mut self, signal: ForcedSignal<H>) -> Result<bool, SignalError> {
		self.check_next(&signal.set)?;
		if self.forced.iter().any(|f| f.block_hash == signal.block_hash) {
			return Ok(false);
		}
		self.forced.push(signal);
		Ok(true)
	}

	/// The signalling blocks of the forced changes in force at height `block_number`, whose
	/// ancestry [`Self::apply_forced`] asks for.
	pub fn forced_due(&self, block_number: u64) -> impl Iterator<Item = &H> {
		self.forced.iter().filter(move |f| f.effective_at() <= block_number).map(|f| &f.block_hash)
	}

	/// Puts in force the forced change that the imported block at height `block_number` makes
	/// due, if its signal is on that block's chain (`is_ancestor`). The set starts at the
	/// signal's base checkpoint, or at the current set's start if that is higher (a scheduled
	/// change enacted above the forcing block). Returns the set enacted; it must be stored
	/// before it is used.
	pub fn apply_forced(
		&mut self,
		block_number: u64,
		is_ancestor: impl Fn(&H) -> bool,
	) -> Option<EnactedSet<H>> {
		let due = self
			.forced
			.iter()
			.filter(|f| f.effective_at() <= block_number && is_ancestor(&f.block_hash))
			.min_by_key(|f| f.block_number)?
			.clone();
		let start = match self.enacted.last().and_then(|(set, _)| set.enacted_by) {
			Some(current) if current.number > due.base.number => current,
			_ => due.base,
		};
		let set = EnactedSet {
			id: due.set.id,
			authorities: due.set.authorities,
			enacted_by: Some(start),
			forced: true,
		};
		self.enact(set)
	}

	/// Adds an enacted set, keeps the newest [`KEPT_SETS`] and drops the signals it makes stale.
	fn enact(&mut self, set: EnactedSet<H>) -> Option<EnactedSet<H>> {
		let voters = VoterSet::new(set.id, set.authorities.clone())?;
		self.enacted.push((set.clone(), Arc::new(voters)));
		if self.enacted.len() > KEPT_SETS {
			self.enacted.drain(..self.enacted.len() - KEPT_SETS);
		}
		self.pending.retain(|p| p.set.id > set.id);
		self.forced.retain(|f| f.set.id > set.id);
		Some(set)
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use crate::testing::{self, cp, link};
	use sp_core::H256;

	fn ids(seeds: &[u8]) -> Vec<AuthorityId> {
		seeds.iter().flat_map(|&s| testing::ids(&testing::keys(s..s + 1))).collect()
	}

	fn genesis() -> AuthoritySets<H256> {
		AuthoritySets::new(VoterSet::new(0, ids(&[1, 2, 3, 4])).unwrap())
	}

	fn change(id: SetId, seeds: &[u8]) -> AuthoritySet {
		AuthoritySet { id, authorities: ids(seeds) }
	}

	/// Checkpoint `number` on a chain marked by `byte` (the signalling block of a change).
	fn signal(number: u64, byte: u8) -> Checkpoint<H256> {
		Checkpoint::new(number, H256::repeat_byte(byte))
	}

	#[test]
	fn a_change_is_enacted_by_the_first_finalized_checkpoint_at_or_above_its_signal() {
		let mut sets = genesis();
		let b = signal(2, 0xb);
		assert_eq!(sets.note_signal(b, change(1, &[2, 3, 4, 5])), Ok(true));
		assert_eq!(sets.note_signal(b, change(1, &[2, 3, 4, 5])), Ok(false), "noted twice");
		assert_eq!(
			sets.pending_sets(1).map(|s| s.authorities().len()).collect::<Vec<_>>(),
			vec![4]
		);
		// Checkpoint 1 is below the signal: nothing enacted.
		assert_eq!(sets.finalize(cp(1), |_| true), None);
		assert_eq!(sets.current().set_id(), 0);
		// Checkpoint 2 on the signal's chain enacts set 1.
		let enacted = sets.finalize(cp(2), |h| *h == b.hash).expect("enacted");
		assert_eq!(enacted.id, 1);
		assert_eq!(enacted.enacted_by, Some(cp(2)));
		assert_eq!(sets.current().set_id(), 1);
		assert!(sets.pending().is_empty());

		// The link that finalized checkpoint 2 was the old set's, and the old set's authority
		// ends there: its links below it stand, no other with a target above 2 does. Sources
		// above it are the new set's.
		assert_eq!(sets.set_of(&link(0, 2, 3)).unwrap().set_id(), 0);
		assert_eq!(sets.set_of(&link(0, 1, 2)).unwrap().set_id(), 0);
		let fork = Link { set_id: 0, source: cp(2), target: signal(3, 0xf) };
		assert_eq!(
			sets.set_of(&fork).unwrap().set_id(),
			0,
			"to another block 3: the old set would equivocate, accountably"
		);
		for (source, target) in [(1, 3), (2, 4), (0, 5)] {
			assert!(
				matches!(
					sets.set_of(&link(0, source, target)),
					Err(VoteRejection::WrongSet { .. })
				),
				"{source} -> {target}"
			);
		}
		let other_source = Link { set_id: 0, source: signal(2, 0xf), target: cp(3) };
		assert!(sets.set_of(&other_source).is_err(), "from another checkpoint 2");
		assert!(matches!(sets.set_of(&link(0, 3, 4)), Err(VoteRejection::WrongSet { .. })));
		assert_eq!(sets.set_of(&link(1, 3, 4)).unwrap().set_id(), 1);
		assert!(matches!(sets.set_of(&link(1, 2, 3)), Err(VoteRejection::WrongSet { .. })));
		assert!(matches!(sets.set_of(&link(2, 3, 4)), Err(VoteRejection::FutureSet { .. })));
		assert_eq!(sets.set_for_source(Epoch(2)).set_id(), 0);
		assert_eq!(sets.set_for_source(Epoch(3)).set_id(), 1);
	}

	#[test]
	fn a_skipped_checkpoint_moves_the_enactment_to_the_next_finalized_one() {
		let mut sets = genesis();
		let b = signal(2, 0xb);
		sets.note_signal(b, change(1, &[2, 3, 4, 5])).unwrap();
		// Checkpoint 2 never finalized; checkpoint 3 is, with the signal below it.
		let enacted = sets.finalize(cp(3), |h| *h == b.hash).expect("enacted");
		assert_eq!(enacted.enacted_by, Some(cp(3)));
		assert_eq!(sets.set_of(&link(0, 3, 4)).unwrap().set_id(), 0);
		assert_eq!(sets.set_of(&link(1, 4, 5)).unwrap().set_id(), 1);
	}

	#[test]
	fn a_signal_on_a_fork_that_finality_left_is_dropped() {
		let mut sets = genesis();
		let (fork, canon) = (signal(2, 0xf), signal(4, 0xc));
		sets.note_signal(fork, change(1, &[9])).unwrap();
		sets.note_signal(canon, change(1, &[2, 3, 4, 5])).unwrap();
		// Finality passes checkpoint 2 on the other chain: the fork's signal goes.
		assert_eq!(sets.finalize(cp(2), |h| *h == canon.hash), None);
		assert_eq!(sets.pending().len(), 1);
		let enacted = sets.finalize(cp(4), |h| *h == canon.hash).expect("the canonical change");
		assert_eq!(enacted.authorities, ids(&[2, 3, 4, 5]));
	}

	#[test]
	fn two_pending_changes_are_enacted_one_finalization_apart_in_order() {
		let mut sets = genesis();
		sets.note_signal(signal(2, 0xa), change(1, &[2, 3, 4, 5])).unwrap();
		sets.note_signal(signal(4, 0xb), change(2, &[3, 4, 5, 6])).unwrap();
		// Finality jumps over both signals: only the first is enacted by this finalization.
		assert_eq!(sets.finalize(cp(5), |_| true).map(|s| s.id), Some(1));
		assert_eq!(sets.finalize(cp(5), |_| true), None, "the same checkpoint again");
		assert_eq!(sets.finalize(cp(6), |_| true).map(|s| s.id), Some(2));
		let enacted: Vec<_> =
			sets.enacted().map(|s| (s.id, s.enacted_by.map(|c| c.number.0))).collect();
		assert_eq!(enacted, vec![(1, Some(5)), (2, Some(6))], "the newest two are held");
		// Set 1 lives between its enactment and the next: sources 6 only.
		assert_eq!(sets.set_of(&link(1, 6, 7)).unwrap().set_id(), 1);
		assert!(sets.set_of(&link(1, 7, 8)).is_err());
		assert_eq!(sets.set_of(&link(2, 7, 8)).unwrap().set_id(), 2);
		assert!(matches!(sets.set_of(&link(0, 1, 2)), Err(VoteRejection::WrongSet { .. })));
	}

	#[test]
	fn outdated_and_empty_signals_are_refused() {
		let mut sets = genesis();
		assert_eq!(
			sets.note_signal(signal(2, 0), change(0, &[1])),
			Err(SignalError::Outdated { current: 0, got: 0 })
		);
		assert_eq!(sets.note_signal(signal(2, 0), change(1, &[])), Err(SignalError::EmptySet(1)));
	}

	#[test]
	fn certificates_are_checked_against_the_set_of_their_link() {
		let mut sets = genesis();
		let future = CheckpointCertificate { link: link(1, 3, 4), signatures: Vec::new() };
		assert_eq!(
			sets.verify_certificate(&H256::zero(), &future),
			Err(CertificateError::FutureSet { current: 0, got: 1 })
		);
		sets.note_signal(signal(2, 0xa), change(1, &[2, 3, 4, 5])).unwrap();
		sets.finalize(cp(2), |_| true).unwrap();
		let stale = CheckpointCertificate { link: link(0, 3, 4), signatures: Vec::new() };
		assert_eq!(
			sets.verify_certificate(&H256::zero(), &stale),
			Err(CertificateError::WrongSet { expected: 1, got: 0 })
		);
		assert_eq!(
			sets.verify_certificate(&H256::zero(), &future),
			Err(CertificateError::TooFewSignatures { got: 0, needed: 3 }),
			"checked by set 1 now"
		);
	}

	#[test]
	fn restore_takes_back_what_was_stored_and_refuses_what_cannot_be() {
		let mut sets = genesis();
		sets.note_signal(signal(2, 0xa), change(1, &[2, 3, 4, 5])).unwrap();
		sets.finalize(cp(2), |_| true).unwrap();
		let enacted: Vec<_> = sets.enacted().cloned().collect();
		let restored = AuthoritySets::restore(enacted.clone()).unwrap();
		assert_eq!(restored.enacted().cloned().collect::<Vec<_>>(), enacted);
		assert_eq!(restored.current().set_id(), 1);

		assert!(AuthoritySets::<H256>::restore(Vec::new()).is_none());
		let mut gap = enacted.clone();
		gap[1].id = 5;
		assert!(AuthoritySets::restore(gap).is_none());
		let mut unenacted = enacted;
		unenacted[1].enacted_by = None;
		assert!(AuthoritySets::restore(unenacted).is_none());
	}
}
