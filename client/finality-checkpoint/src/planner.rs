//! The voting plan: which epoch a validator votes for next, or why it abstains.
//!
//! Pure: it sees epochs (the round-one epoch of the checkpoint block the best chain has
//! reached, finality, the highest justified epoch, the own-vote guard, the vote window) and
//! answers with a target epoch or an [`Abstention`]; [`SourceWait`] says when, given the time
//! it is told. Before the plan, the [`Gates`]: a key of the set, no sign of that key voting on
//! another machine, no major sync, and, with a new own-vote guard, a full checkpoint of
//! listening first. The worker asks them on every import and every vote import that moved
//! something, finds the target block (round one: on its best chain; round two: the justified
//! block) and signs.
//!
//! **Two rounds.** Round two comes first: when the highest justified epoch is a block's round
//! one `(2k, B)`, the vote `(2k, B) -> (2k + 1, B)` finalizes `B`. Otherwise round one: the
//! newest checkpoint block within reach, at its epoch `2k`.
//!
//! **When.** A vote whose target is more than one epoch above the highest justified one
//! waits up to [`VOTE_WAIT`] for the justification in between (none is awaited for genesis's
//! round two, which no one casts), so that honest votes share one source (a vote from an older
//! source than its peers' splits the count). The wait is for that justification, not for a
//! target: a chain that moves on meanwhile does not start it again, so blocks that come
//! faster than the wait do not hold the vote back for good. Each retry after a
//! split in a row doubles that wait (up to `VOTE_WAIT * 2^MAX_BACKOFF`), as Tendermint's round
//! timeouts grow: links slower than `VOTE_WAIT` would otherwise split every round and use up
//! the retry room below (see "Catch-up"); a growing wait outlasts any bounded delay, so the
//! votes come to share a source within a few retries.
//!
//! **A round two that cannot gather.** A validator that voted for a higher target before it
//! saw a block's round one `J` justified cannot cast `J + 1` any more (its own-vote guard
//! forbids it). If too many are in that place, `J + 1` never gathers. Such a validator, and
//! every validator once a supermajority voted from `J` without justifying `J + 1`, retries at
//! the round one of the block after the highest target voted from another source than `J`.
//! Votes from `J` do not move that epoch, so all who see the same votes retry at the same
//! one, from the same source.
//!
//! **Catch-up.** Votes are only accepted up to `window` epochs above the finalized one. When
//! the best chain is further ahead (after an outage of more than a third of the set, or a node
//! started long before the others), a validator votes inside the window instead of for the
//! newest checkpoint block: first a jump from the highest justified epoch to the round one at
//! or below `finalized + window / 2`, then, once that is justified, its round two (the link
//! that finalizes the jump's block, which must fit the window too). Finality then moves half a
//! window every two rounds until it reaches the tip, instead of stopping for good.
//!
//! Why half a window and not the highest checkpoint inside it: when honest votes split on one
//! target (different sources, because some validators had not yet seen a justification), the
//! voters can only try again at a higher target (the next block's round one), since an own
//! target never repeats. The other
//! half of the window is room for those retries; a jump to the window's edge would leave none,
//! and a split there would stop finality for good. A retry is made only on a split (a
//! supermajority of the set voted for the target, but on different links), never while too
//! few validators are up, so an outage does not use the room up; and since the wait before a
//! retry doubles, neither do links that are slow for a while.

use crate::state::{CheckpointHash, FinalityState, OwnVoteGuard, RoundTwoOutlook};
use sp_finality_checkpoint::Epoch;
use std::time::{Duration, Instant};

/// How long a validator waits for the justification of the epoch below its target before
/// voting from an older source.
pub const VOTE_WAIT: Duration = Duration::from_secs(3);

/// Retries after splits in a row double the wait at most this many times.
pub const MAX_BACKOFF: u32 = 5;

/// With a new own-vote guard, a validator listens at least this long (and through one full
/// checkpoint of votes) before its first vote: long enough for peers to hand it the votes they
/// hold, so that a second machine running its key is noticed before it signs anything.
pub const OBSERVE_PERIOD: Duration = Duration::from_secs(12);

/// The gates a vote passes before the plan is asked (see the module documentation).
#[derive(Debug)]
pub struct Gates {
	listening: Listening,
	/// A vote of our key that we did not cast arrived: no more votes from this process.
	alarm: bool,
}

/// A validator with a new own-vote guard listens before its first vote.
#[derive(Debug, Clone, Copy)]
enum Listening {
	/// No need, or done.
	Done,
	/// Not yet: the node was syncing, or has not looked yet.
	NotStarted,
	/// Since the best chain was at this checkpoint block (its round-one epoch), at this time.
	Since(Epoch, Instant),
}

impl Gates {
	/// The gates of a validator; `listen_first` when its own-vote guard is new (first start,
	/// or a wiped guard).
	pub fn new(listen_first: bool) -> Self {
		let listening = if listen_first { Listening::NotStarted } else { Listening::Done };
		Self { listening, alarm: false }
	}

	/// A vote of our key that we did not cast arrived: voting stays off. Returns whether this
	/// is news.
	pub fn alarm(&mut self) -> bool {
		!std::mem::replace(&mut self.alarm, true)
	}

	/// Whether a vote may be planned now, with the best chain at round-one epoch `tip`: `has_key`,
	/// the node is `syncing`, at `now`.
	pub fn open(
		&mut self,
		has_key: bool,
		syncing: bool,
		tip: Epoch,
		now: Instant,
	) -> Result<(), Abstention> {
		if !has_key {
			return Err(Abstention::NoKey);
		}
		if self.alarm {
			return Err(Abstention::OwnKeyElsewhere);
		}
		if syncing {
			return Err(Abstention::Syncing);
		}
		if let Listening::NotStarted = self.listening {
			self.listening = Listening::Since(tip, now);
		}
		if let Listening::Since(from, since) = self.listening {
			// The checkpoint block after `from`'s was reached while listening, and its votes
			// (both rounds) had the time of one checkpoint (and at least `OBSERVE_PERIOD`) to
			// arrive: the tip is two blocks, four epochs, on.
			if tip.0 < from.0 + 4 || now.saturating_duration_since(since) < OBSERVE_PERIOD {
				return Err(Abstention::Observing);
			}
			self.listening = Listening::Done;
		}
		Ok(())
	}
}

/// Why a validator does not vote now. Each is counted in
/// `substrate_checkpoint_abstentions_total{reason}` and logged once per change of reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Abstention {
	/// The node runs as a validator, but no key of the authority set is in its keystore.
	NoKey,
	/// The node is major-syncing: its best chain is not the network's yet.
	Syncing,
	/// The own-vote guard is new (first start, or a wiped guard): the node listens for one
	/// full checkpoint of votes before its first own vote, to catch its key voting elsewhere.
	Observing,
	/// A vote signed with this node's key that it did not cast arrived: the key runs on
	/// another machine. Voting stays off until the node is restarted.
	OwnKeyElsewhere,
	/// The own-vote guard covers the checkpoints the best chain has reached (votes cast before
	/// a restart or a purge): the node waits for the chain to pass it.
	Guard,
	/// Everything inside the vote window is voted for; the best chain is beyond it and the
	/// node waits for other validators' votes to finalize what it voted for.
	Window,
	/// Waiting (a bounded time) for the justification of the epoch below the target, so that
	/// honest votes share one source.
	WaitingForSource,
	/// No justified checkpoint is an ancestor of the target on this node's chain.
	NoSource,
	/// The vote could not be signed or made durable (fail closed).
	Failed,
}

impl Abstention {
	/// Every reason, for metrics.
	pub const ALL: [Abstention; 9] = [
		Abstention::NoKey,
		Abstention::Syncing,
		Abstention::Observing,
		Abstention::OwnKeyElsewhere,
		Abstention::Guard,
		Abstention::Window,
		Abstention::WaitingForSource,
		Abstention::NoSource,
		Abstention::Failed,
	];

	/// The `reason` label of the abstention metric.
	pub fn label(&self) -> &'static str {
		match self {
			Abstention::NoKey => "no_key",
			Abstention::Syncing => "syncing",
			Abstention::Observing => "observing",
			Abstention::OwnKeyElsewhere => "own_key_elsewhere",
			Abstention::Guard => "guard",
			Abstention::Window => "window",
			Abstention::WaitingForSource => "waiting_for_source",
			Abstention::NoSource => "no_source",
			Abstention::Failed => "failed",
		}
	}

	/// What an operator reads in the log.
	pub fn explain(&self) -> &'static str {
		match self {
			Abstention::NoKey => {
				"no `ckpt` key of the authority set is in the keystore (insert one with \
				 `author_insertKey` or `key insert --key-type ckpt`)"
			}
			Abstention::Syncing => "the node is major-syncing",
			Abstention::Observing => {
				"the own-vote guard is new: listening for one full checkpoint of votes first, in \
				 case this key already votes on another machine"
			}
			Abstention::OwnKeyElsewhere => {
				"this validator's key votes on another machine; voting is off until restart"
			}
			Abstention::Guard => {
				"the own-vote guard covers the epochs reached so far (votes cast before a \
				 restart or purge); waiting for the chain to pass it"
			}
			Abstention::Window => {
				"voted for everything inside the vote window; waiting for more validators' votes \
				 to finalize it"
			}
			Abstention::WaitingForSource => {
				"waiting for the justification of the epoch below the target (the previous \
				 block's round two)"
			}
			Abstention::NoSource => "no justified checkpoint is an ancestor of the target",
			Abstention::Failed => "the vote could not be signed or persisted",
		}
	}
}

/// What the plan says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plan {
	/// Vote for this epoch: a round one on the best chain, or the round two of the justified
	/// block.
	Vote(Epoch),
	/// Nothing new to vote for: the newest checkpoint is voted for, or none is above finality.
	Idle,
	/// Abstain, for this reason.
	Abstain(Abstention),
}

/// Where voting stands, as numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VotingView {
	/// The round-one epoch of the highest checkpoint block the best chain has reached.
	pub tip: Epoch,
	/// The finalized epoch.
	pub finalized: Epoch,
	/// The highest justified epoch.
	pub justified: Epoch,
	/// The own-vote guard.
	pub guard: OwnVoteGuard,
	/// Epochs above the finalized one that votes may target.
	pub window: u64,
	/// The highest target this process voted for itself, if any.
	pub last_cast: Option<Epoch>,
	/// The votes for the guard's target split: a supermajority of the set voted for it, but no
	/// link has a supermajority.
	pub split: bool,
	/// While the highest justified epoch is an unfinalized round one: what keeps its round
	/// two from gathering (see [`FinalityState::round_two_outlook`]).
	pub round_two: Option<RoundTwoOutlook>,
}

impl VotingView {
	/// The view of a validator whose best chain reached round-one epoch `tip`, with the state
	/// machine `finality`; `last_cast` is the highest target it voted for since it started.
	pub fn new<H: CheckpointHash>(
		finality: &FinalityState<H>,
		tip: Epoch,
		last_cast: Option<Epoch>,
	) -> Self {
		let guard = finality.guard();
		VotingView {
			tip,
			finalized: finality.last_finalized().number,
			justified: finality.highest_justified().number,
			guard,
			window: finality.window(),
			last_cast,
			split: finality.split_at(guard.target),
			round_two: finality.round_two_outlook(),
		}
	}
}

/// The highest epoch a vote may target now: a jump goes half a window above finality; once
/// it is justified, the epoch after it (its round two, or the next block's round one); after a
/// split at our last target, the next block's round one; when the justified round one's
/// round two cannot gather, the retry above it. Never beyond the window.
pub fn catch_up_limit(view: &VotingView) -> Epoch {
	let window = view.window.max(2);
	let edge = view.finalized.0.saturating_add(window);
	let mut limit = view.finalized.0.saturating_add(window / 2);
	if view.justified.0 >= limit {
		limit = view.justified.0.saturating_add(1);
	}
	if view.split {
		limit = limit.max(next_round_one(view.guard.target).0);
	}
	if let Some(retry) = round_two_retry(view) {
		limit = limit.max(retry.0);
	}
	Epoch(limit.min(edge))
}

/// When the highest justified epoch `J` is an unfinalized round one whose round two cannot
/// gather, the round one to retry at: the next block's above every target voted from another
/// source. It cannot gather when our own last vote came from below `J` and targets above
/// `J + 1` (we cannot cast `J + 1`), or when a supermajority voted from `J` without
/// justifying it (its voters cannot all cast it). Votes from `J` do not move the retry, so
/// every validator that sees the same votes retries at the same epoch, from `J`.
fn round_two_retry(view: &VotingView) -> Option<Epoch> {
	let outlook = view.round_two?;
	let justified = view.justified;
	let barred = view.guard.source < justified && view.guard.target > justified.next();
	(barred || outlook.scattered)
		.then(|| next_round_one(outlook.highest_elsewhere.max(justified.next())))
}

/// The round-one epoch of the checkpoint block after `epoch`'s.
fn next_round_one(epoch: Epoch) -> Epoch {
	Epoch((epoch.0 / 2).saturating_add(1).saturating_mul(2))
}

/// Which epoch to vote for, if any. See the module documentation.
pub fn plan(view: &VotingView) -> Plan {
	let limit = catch_up_limit(view);
	let round_two = view.justified.next();
	if view.justified.is_round_one()
		&& view.justified > view.finalized
		&& round_two > view.guard.target
		&& round_two <= limit
	{
		return Plan::Vote(round_two);
	}
	let reach = view.tip.min(limit);
	// Round one targets a block's first epoch.
	let target = Epoch(reach.0 - reach.0 % 2);
	if target <= view.finalized {
		return Plan::Idle;
	}
	if target > view.guard.target {
		return Plan::Vote(target);
	}
	if view.tip > reach {
		Plan::Abstain(Abstention::Window)
	} else if view.last_cast == Some(view.guard.target) {
		Plan::Idle
	} else {
		Plan::Abstain(Abstention::Guard)
	}
}

/// The highest epoch a vote's source may still come to: the one after the highest justified
/// epoch, or the one after that when the justified epoch is a finalized block's round one
/// (genesis), whose round two no one casts.
fn awaited(view: &VotingView) -> Epoch {
	let settled = view.justified == view.finalized && view.justified.is_round_one();
	let next = view.justified.next();
	if settled {
		next.next()
	} else {
		next
	}
}

/// The bounded wait for a vote's source (see the module documentation).
#[derive(Debug, Default)]
pub struct SourceWait {
	/// The epoch whose justification a held-back vote waits for, since when. Keyed by the
	/// source, not the target: a chain that moves on during the wait does not start it again
	/// (with blocks as frequent as the wait, it would never end).
	waiting: Option<(Epoch, Instant)>,
	/// Retries after a split in a row, and the last target counted as one.
	retries: Option<(u32, Epoch)>,
}

impl SourceWait {
	/// Whether the vote for `number` the plan named may go at `now`; `Err(WaitingForSource)`
	/// while it waits for the justification of the checkpoint below it.
	pub fn ready(
		&mut self,
		view: &VotingView,
		number: Epoch,
		now: Instant,
	) -> Result<(), Abstention> {
		let awaited = awaited(view);
		if awaited >= number {
			self.waiting = None;
			self.retries = None;
			return Ok(());
		}
		match self.waiting {
			Some((held, since)) if held == awaited => {
				if now.saturating_duration_since(since) < self.wait() {
					return Err(Abstention::WaitingForSource);
				}
				self.waiting = None;
				Ok(())
			}
			_ => {
				// A new wait: after a split, it is the next retry of a row.
				if view.split && self.retries.is_none_or(|(_, last)| last < number) {
					let count = self.retries.map_or(1, |(count, _)| count.saturating_add(1));
					self.retries = Some((count, number));
				}
				self.waiting = Some((awaited, now));
				Err(Abstention::WaitingForSource)
			}
		}
	}

	/// Whether a vote is held back: a new justification may let it go.
	pub fn is_waiting(&self) -> bool {
		self.waiting.is_some()
	}

	/// When the vote held back may go without its source: the worker's timer for it.
	pub fn deadline(&self) -> Option<Instant> {
		self.waiting.map(|(_, since)| since + self.wait())
	}

	/// How long a vote waits for its source now: [`VOTE_WAIT`], doubled for each retry after
	/// a split in a row.
	pub fn wait(&self) -> Duration {
		let retries = self.retries.map_or(0, |(count, _)| count.min(MAX_BACKOFF));
		VOTE_WAIT * (1 << retries)
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	fn n(x: u64) -> Epoch {
		Epoch(x)
	}

	/// Window 8 (jumps of 4).
	fn view(tip: u64, finalized: u64, justified: u64, guard: u64, last: Option<u64>) -> VotingView {
		VotingView {
			tip: n(tip),
			finalized: n(finalized),
			justified: n(justified),
			guard: OwnVoteGuard { source: n(finalized), target: n(guard) },
			window: 8,
			last_cast: last.map(n),
			split: false,
			round_two: None,
		}
	}

	#[test]
	fn the_gates_want_a_key_no_twin_no_sync_and_a_checkpoint_of_listening_with_a_new_guard() {
		let start = Instant::now();
		let mut gates = Gates::new(true);
		assert_eq!(gates.open(false, false, n(10), start), Err(Abstention::NoKey));
		assert_eq!(gates.open(true, true, n(10), start), Err(Abstention::Syncing));
		// Listening starts once the node has a key and is not syncing: at block 5 (epoch 10).
		assert_eq!(gates.open(true, false, n(10), start), Err(Abstention::Observing));
		let later = start + OBSERVE_PERIOD;
		assert_eq!(
			gates.open(true, false, n(12), later),
			Err(Abstention::Observing),
			"one checkpoint block"
		);
		assert_eq!(gates.open(true, false, n(14), start), Err(Abstention::Observing), "too soon");
		assert_eq!(gates.open(true, false, n(14), later), Ok(()));
		assert_eq!(gates.open(true, false, n(14), later), Ok(()), "listened once");
		assert!(gates.alarm(), "news");
		assert!(!gates.alarm(), "no news");
		assert_eq!(gates.open(true, false, n(16), later), Err(Abstention::OwnKeyElsewhere));

		let mut known_guard = Gates::new(false);
		assert_eq!(known_guard.open(true, false, n(10), start), Ok(()), "no listening");
	}

	#[test]
	fn round_one_on_a_new_block_round_two_once_it_is_justified() {
		// Block 2's round two (epoch 5) justified, block 3 arrived: its round one.
		assert_eq!(plan(&view(6, 4, 5, 5, Some(5))), Plan::Vote(n(6)));
		// Its round one justified: round two, which finalizes it.
		assert_eq!(plan(&view(6, 4, 6, 6, Some(6))), Plan::Vote(n(7)));
		assert_eq!(plan(&view(6, 6, 7, 7, Some(7))), Plan::Idle, "both rounds voted");
		// Round two comes before the round one of a block that arrived meanwhile.
		assert_eq!(plan(&view(8, 4, 6, 6, Some(6))), Plan::Vote(n(7)));
		assert_eq!(plan(&view(0, 0, 0, 0, None)), Plan::Idle, "nothing above genesis yet");
		assert_eq!(plan(&view(10, 10, 10, 0, None)), Plan::Idle, "tip is finalized");
		assert_eq!(plan(&view(4, 0, 0, 0, None)), Plan::Vote(n(4)), "a jump inside the window");
	}

	#[test]
	fn far_ahead_it_jumps_half_a_window_then_finalizes_the_jump() {
		// Finalized 2, tip 40, window 8: jump to 6 first.
		assert_eq!(plan(&view(40, 2, 2, 2, None)), Plan::Vote(n(6)));
		// Voted for 6, not yet justified: everything in reach is voted for.
		assert_eq!(plan(&view(40, 2, 2, 6, Some(6))), Plan::Abstain(Abstention::Window));
		// 6 justified: its round two, 6 -> 7, fits the window and finalizes 6.
		assert_eq!(plan(&view(40, 2, 6, 6, Some(6))), Plan::Vote(n(7)));
		// 6 finalized, 7 justified: the next jump.
		assert_eq!(plan(&view(40, 6, 7, 7, Some(7))), Plan::Vote(n(10)));
		// Half a window from an odd epoch lands on a round one.
		assert_eq!(plan(&view(40, 7, 7, 7, Some(7))), Plan::Vote(n(10)));
	}

	#[test]
	fn catch_up_reaches_the_tip_window_by_window() {
		// A supermajority that follows the plan: every vote justifies its target, and a link
		// to the next checkpoint finalizes its source.
		for window in [4, 5, 8, 32] {
			let tip = 200;
			let (mut finalized, mut justified, mut guard) = (n(2), n(2), n(2));
			let mut rounds = 0;
			loop {
				let v = VotingView {
					tip: n(tip),
					finalized,
					justified,
					guard: OwnVoteGuard { source: justified, target: guard },
					window,
					last_cast: Some(guard),
					split: false,
					round_two: None,
				};
				let target = match plan(&v) {
					Plan::Vote(target) => target,
					Plan::Idle => break,
					Plan::Abstain(reason) => panic!("stalled at {v:?}: {reason:?}"),
				};
				assert!(target.0 <= finalized.0 + window, "inside the window");
				if target == justified.next() {
					finalized = justified;
				}
				justified = target;
				guard = target;
				rounds += 1;
			}
			assert_eq!(justified, n(tip + 1), "window {window}: both rounds of the tip's block");
			assert_eq!(finalized, n(tip), "window {window}: the tip's block is final");
			assert!(
				rounds <= 2 * tip / (window / 2).max(1) + 2,
				"window {window}: {rounds} rounds"
			);
		}
	}

	#[test]
	fn a_split_moves_the_target_up_but_an_outage_does_not() {
		// Voted 2 -> 6, nobody else (an outage): wait at the window.
		let stalled = view(40, 2, 2, 6, Some(6));
		assert_eq!(plan(&stalled), Plan::Abstain(Abstention::Window));
		// The same, but a supermajority voted for 6 on different links: try the next block's
		// round one, 8, and so on up to the window's edge, never beyond.
		let split = VotingView { split: true, ..stalled };
		assert_eq!(plan(&split), Plan::Vote(n(8)));
		let at_edge = VotingView { guard: OwnVoteGuard { source: n(2), target: n(10) }, ..split };
		assert_eq!(plan(&at_edge), Plan::Abstain(Abstention::Window));
	}

	/// Block 4's round one (epoch 8) justified, its round two (9) not: a validator that voted
	/// 4 -> 10 before it saw 8 justified cannot cast 9, and the catch-up limit (9) would keep
	/// it from anything else for good.
	#[test]
	fn a_round_two_that_cannot_gather_is_retried_above_every_stale_vote() {
		let outlook = |scattered, highest_elsewhere| {
			Some(RoundTwoOutlook { scattered, highest_elsewhere: n(highest_elsewhere) })
		};
		let barred = VotingView { round_two: outlook(false, 10), ..view(12, 4, 8, 10, Some(10)) };
		assert_eq!(
			plan(&VotingView { round_two: None, ..barred }),
			Plan::Abstain(Abstention::Window)
		);
		assert_eq!(plan(&barred), Plan::Vote(n(12)), "the round one above its own stale vote");
		// A validator that cast 9 waits for it while it can still gather ...
		let cast = VotingView {
			guard: OwnVoteGuard { source: n(8), target: n(9) },
			last_cast: Some(n(9)),
			..barred
		};
		assert_eq!(plan(&cast), Plan::Abstain(Abstention::Window));
		// ... and once a supermajority voted from 8 without justifying 9, it retries at the
		// same epoch, whoever voted from 8 for what.
		let scattered = VotingView { round_two: outlook(true, 10), ..cast };
		assert_eq!(plan(&scattered), Plan::Vote(n(12)));
		// The retry does not march on: the barred validator's vote from 8 leaves it where it is.
		let moved = VotingView {
			guard: OwnVoteGuard { source: n(8), target: n(12) },
			last_cast: Some(n(12)),
			round_two: outlook(true, 10),
			..barred
		};
		assert_eq!(plan(&moved), Plan::Idle);
		// Never beyond the window's edge (finalized 4 + window 8).
		let at_edge = VotingView { round_two: outlook(true, 12), ..moved };
		assert_eq!(plan(&at_edge), Plan::Idle);
	}

	#[test]
	fn a_guard_above_the_chain_is_an_abstention_not_idleness() {
		// Restarted or purged: the guard says 9, the chain is at 6 again.
		assert_eq!(plan(&view(6, 2, 3, 9, None)), Plan::Abstain(Abstention::Guard));
		assert_eq!(plan(&view(10, 2, 3, 5, None)), Plan::Vote(n(6)), "jump limit 2 + 8 / 2");
	}

	#[test]
	fn a_vote_waits_a_bounded_time_for_its_source() {
		let start = Instant::now();
		let mut wait = SourceWait::default();
		// Checkpoint 3 justified: the vote for 4 goes at once.
		assert_eq!(wait.ready(&view(4, 2, 3, 3, None), n(4), start), Ok(()));
		assert!(!wait.is_waiting());
		// Only 2 justified (1 finalized): the vote for 4 waits for 3, at most VOTE_WAIT.
		let behind = view(4, 1, 2, 3, None);
		assert_eq!(wait.ready(&behind, n(4), start), Err(Abstention::WaitingForSource));
		assert!(wait.is_waiting());
		assert_eq!(wait.deadline(), Some(start + VOTE_WAIT));
		let almost = start + VOTE_WAIT - Duration::from_millis(1);
		assert_eq!(wait.ready(&behind, n(4), almost), Err(Abstention::WaitingForSource));
		assert_eq!(wait.ready(&behind, n(4), start + VOTE_WAIT), Ok(()));
		assert!(!wait.is_waiting());
	}

	#[test]
	fn round_one_of_the_first_block_does_not_wait_for_the_round_two_of_genesis() {
		let mut wait = SourceWait::default();
		assert_eq!(wait.ready(&view(2, 0, 0, 0, None), n(2), Instant::now()), Ok(()));
		// Above it, a vote from genesis waits as any other.
		let behind = view(4, 0, 0, 2, None);
		assert_eq!(wait.ready(&behind, n(4), Instant::now()), Err(Abstention::WaitingForSource));
	}

	#[test]
	fn a_wait_is_for_a_source_and_a_justification_ends_it() {
		let start = Instant::now();
		let mut wait = SourceWait::default();
		let behind = view(5, 1, 2, 3, None);
		assert_eq!(wait.ready(&behind, n(4), start), Err(Abstention::WaitingForSource));
		// The chain moved on: the wait for the same source goes on, not again from the start
		// (with a block every VOTE_WAIT it would never end), and the vote for 5 goes at its end.
		let almost = start + VOTE_WAIT - Duration::from_millis(1);
		assert_eq!(wait.ready(&behind, n(5), almost), Err(Abstention::WaitingForSource));
		assert_eq!(wait.deadline(), Some(start + VOTE_WAIT));
		assert_eq!(wait.ready(&behind, n(5), start + VOTE_WAIT), Ok(()));
		// The next vote from that old source waits again.
		let later = start + VOTE_WAIT;
		assert_eq!(wait.ready(&behind, n(6), later), Err(Abstention::WaitingForSource));
		// The justifications of 4 and 5 arrive: the vote for 6 goes at once.
		assert_eq!(wait.ready(&view(6, 2, 5, 3, None), n(6), later), Ok(()));
		assert!(!wait.is_waiting());
	}

	#[test]
	fn each_retry_after_a_split_in_a_row_doubles_the_wait() {
		let start = Instant::now();
		let mut wait = SourceWait::default();
		assert_eq!(wait.wait(), VOTE_WAIT);
		// Votes for 6 split (finalized 2, justified 2): the retry for 7 waits twice as long.
		let split = |guard, tip| VotingView { split: true, ..view(tip, 2, 2, guard, Some(guard)) };
		assert_eq!(wait.ready(&split(6, 7), n(7), start), Err(Abstention::WaitingForSource));
		assert_eq!(wait.wait(), VOTE_WAIT * 2);
		let late = start + VOTE_WAIT * 2 - Duration::from_millis(1);
		assert_eq!(wait.ready(&split(6, 7), n(7), late), Err(Abstention::WaitingForSource));
		assert_eq!(wait.ready(&split(6, 7), n(7), start + VOTE_WAIT * 2), Ok(()), "counted once");
		// 7 split too: four times; and so on, up to the cap.
		assert_eq!(wait.ready(&split(7, 8), n(8), start), Err(Abstention::WaitingForSource));
		assert_eq!(wait.wait(), VOTE_WAIT * 4);
		// A chain that moves on during one wait is no retry.
		assert_eq!(wait.ready(&split(7, 9), n(9), start), Err(Abstention::WaitingForSource));
		assert_eq!(wait.wait(), VOTE_WAIT * 4);
		for (guard, target) in (8..20).map(|g| (g, g + 1)) {
			let _ = wait.ready(&split(guard, target), n(target), start);
			let released = start + wait.wait();
			assert_eq!(wait.ready(&split(guard, target), n(target), released), Ok(()));
		}
		assert_eq!(wait.wait(), VOTE_WAIT * (1 << MAX_BACKOFF));
		// A vote whose source is there resets it.
		assert_eq!(wait.ready(&view(21, 2, 20, 20, Some(20)), n(21), start), Ok(()));
		assert_eq!(wait.wait(), VOTE_WAIT);
	}

	/// Links slower than `VOTE_WAIT` for a while: every round whose wait is shorter than the
	/// delay splits (the votes leave before the justification in between arrives). With a
	/// fixed wait that uses up the retry room above the catch-up jump and stops voting at the
	/// window's edge for good; with the doubling wait a few retries outlast the delay.
	#[test]
	fn slow_links_do_not_use_up_the_retry_room() {
		let window = crate::state::DEFAULT_VOTE_WINDOW;
		for delay_secs in [4, 10, 30, 90] {
			let delay = Duration::from_secs(delay_secs);
			let mut wait = SourceWait::default();
			let (finalized, justified) = (n(2), n(2));
			let mut guard = n(2 + window / 2);
			let start = Instant::now();
			let rounds = loop {
				let v = VotingView {
					tip: n(100),
					finalized,
					justified,
					guard: OwnVoteGuard { source: justified, target: guard },
					window,
					last_cast: Some(guard),
					split: true,
					round_two: None,
				};
				let target = match plan(&v) {
					Plan::Vote(target) => target,
					other => panic!("delay {delay_secs}s: retries used up at {guard}: {other:?}"),
				};
				assert_eq!(wait.ready(&v, target, start), Err(Abstention::WaitingForSource));
				guard = target;
				if wait.wait() < delay {
					// The wait ends before the justification arrives: the vote leaves from
					// the old source, and the round splits.
					assert_eq!(wait.ready(&v, target, start + wait.wait()), Ok(()));
				} else {
					// Every vote of the round waited for the same source: no split.
					// Two epochs a retry: the next block's round one.
					break (guard.0 - (2 + window / 2)) / 2;
				}
			};
			assert!(rounds <= u64::from(MAX_BACKOFF), "delay {delay_secs}s: {rounds} retries");
		}
	}
}
