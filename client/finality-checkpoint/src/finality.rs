//! `CheckpointFinality`: the vote, justify and finalize state machine of DESIGN.md's protocol.
//!
//! Pure: no I/O and no async in here. It validates votes (set, membership, signature, window),
//! tallies supermajority links, justifies and finalizes checkpoints, keeps E1/E2 evidence and
//! enforces the own-vote rules through the [`OwnVoteGuard`]. Where the integration guide puts
//! its persistence hooks, it hands records to an optional [`CheckpointFinalityPersistence`],
//! reached only through the [`CheckpointStorage`](crate::CheckpointStorage) trait; with
//! storage set its methods block on disk, so call them from a blocking thread.
//!
//! Safety argument for not checking ancestry here: an honest voter signs `S -> T` only with
//! `S` an ancestor of `T`, and a supermajority link holds more than 2/3 of the weight, so
//! while less than 1/3 is faulty every counted link contains an honest vote and its
//! ancestry holds.

use crate::{
	error::{Error, Result},
	persistence::{CheckpointFinalityPersistence, CheckpointPersistenceConfig, CheckpointStorage},
	LOG_TARGET,
};
use codec::{Decode, Encode};
use sp_finality_checkpoint::{
	signing_payload, supermajority_threshold, AuthorityId, AuthoritySignature, Checkpoint,
	CheckpointCertificate, CheckpointNumber, CheckpointSignature, Link, SetId, ValidatorIndex,
};
use sp_runtime::RuntimeAppPublic;
use std::{
	collections::{BTreeMap, HashMap},
	fmt::Debug,
	hash::Hash,
	sync::Arc,
};

/// Checkpoints ahead of the finalized one for which votes are accepted by default.
pub const DEFAULT_VOTE_WINDOW: u64 = 32;

/// Votes kept per validator and target number: one, and a conflicting second as evidence.
/// Further variants are refused, so a faulty validator cannot grow memory.
const MAX_VOTES_PER_TARGET: usize = 2;

/// A block hash the state machine can work with.
pub trait CheckpointHash:
	Copy + Eq + Ord + Hash + Debug + Encode + Decode + Send + Sync + 'static
{
}
impl<T: Copy + Eq + Ord + Hash + Debug + Encode + Decode + Send + Sync + 'static> CheckpointHash
	for T
{
}

/// The highest source and target this validator ever signed.
///
/// A new vote is allowed only with a strictly higher target and a source no lower than any
/// before. That rules out two votes for one target number (E1) and a vote surrounding or
/// surrounded by an earlier one (E2).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Encode, Decode)]
pub struct OwnVoteGuard {
	/// Highest own source number.
	pub source: CheckpointNumber,
	/// Highest own target number.
	pub target: CheckpointNumber,
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

/// An authority set: its id and its voters in validator-index order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoterSet {
	set_id: SetId,
	authorities: Vec<AuthorityId>,
}

impl VoterSet {
	/// A set; `None` if it has no voters.
	pub fn new(set_id: SetId, authorities: Vec<AuthorityId>) -> Option<Self> {
		(!authorities.is_empty()).then_some(Self { set_id, authorities })
	}

	/// The set id.
	pub fn set_id(&self) -> SetId {
		self.set_id
	}

	/// The voters.
	pub fn authorities(&self) -> &[AuthorityId] {
		&self.authorities
	}

	/// Votes a link needs: more than two thirds of the set.
	pub fn threshold(&self) -> usize {
		supermajority_threshold(self.authorities.len())
	}

	/// The index of `id` in the set.
	pub fn index_of(&self, id: &AuthorityId) -> Option<ValidatorIndex> {
		self.authorities.iter().position(|a| a == id).map(|i| i as ValidatorIndex)
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

/// Why a vote was not taken. Each is counted; the gossip layer turns it into a reputation cost.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VoteRejection {
	/// The vote belongs to another authority set.
	#[error("vote of authority set {got}, the current set is {current}")]
	WrongSet {
		/// Current set id.
		current: SetId,
		/// The vote's set id.
		got: SetId,
	},
	/// The validator index is not in the set.
	#[error("validator index {0} is not in the authority set")]
	UnknownValidator(ValidatorIndex),
	/// The signature does not verify for the validator and this chain.
	#[error("signature does not verify")]
	BadSignature,
	/// The source is not below the target.
	#[error("source {from} is not below target {to}")]
	InvalidLink {
		/// Source number.
		from: CheckpointNumber,
		/// Target number.
		to: CheckpointNumber,
	},
	/// The vote cannot matter any more: it is at or below the finalized checkpoint.
	#[error("vote {from} -> {to} is expired: checkpoint {finalized} is finalized")]
	Expired {
		/// Source number.
		from: CheckpointNumber,
		/// Target number.
		to: CheckpointNumber,
		/// Finalized number.
		finalized: CheckpointNumber,
	},
	/// The target is too far ahead of the finalized checkpoint.
	#[error("target {target} is more than {window} checkpoints ahead of finalized {finalized}")]
	TooFarAhead {
		/// Target number.
		target: CheckpointNumber,
		/// Finalized number.
		finalized: CheckpointNumber,
		/// The window.
		window: u64,
	},
	/// The vote is already known.
	#[error("vote already known")]
	Duplicate,
	/// The validator already has two conflicting votes for this target; evidence is kept.
	#[error("validator {validator} already equivocated on target {target}")]
	EquivocationLimit {
		/// The validator.
		validator: ValidatorIndex,
		/// Target number.
		target: CheckpointNumber,
	},
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

/// What importing a vote did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoteImport<H> {
	/// The vote conflicts with an earlier vote of the same validator (E1 or E2); the pair is
	/// kept as evidence.
	pub equivocation: bool,
	/// What the vote justified or finalized.
	pub progress: Progress<H>,
}

/// Counters of the state machine, read by the metrics module.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FinalityCounters {
	/// Votes accepted (own and others').
	pub total_signatures: u64,
	/// Certificates created and finalized.
	pub total_certificates: u64,
	/// Votes rejected.
	pub rejected_votes: u64,
	/// Conflicting vote pairs seen (E1 or E2).
	pub equivocations: u64,
	/// Own votes cast (persisted, ready for gossip).
	pub own_votes: u64,
	/// Own votes not cast because persisting them failed.
	pub own_vote_failures: u64,
	/// Other writes (buffered votes, certificates, justified, evidence) that failed.
	pub persistence_failures: u64,
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

/// The checkpoint finality state machine. See the module documentation.
pub struct CheckpointFinality<H> {
	genesis_hash: H,
	voters: VoterSet,
	config: FinalityConfig,
	last_finalized: Checkpoint<H>,
	/// Justified checkpoints above the finalized one.
	justified: BTreeMap<CheckpointNumber, H>,
	/// Votes above finality by target number and validator: at most two per validator and
	/// target (the first and one conflicting vote, kept as evidence).
	votes: BTreeMap<CheckpointNumber, BTreeMap<ValidatorIndex, Vec<CheckpointSignature<H>>>>,
	/// Signatures per link.
	links: HashMap<Link<H>, BTreeMap<ValidatorIndex, AuthoritySignature>>,
	guard: OwnVoteGuard,
	guard_found: bool,
	latest_certificate: Option<CheckpointCertificate<H>>,
	counters: FinalityCounters,
	persistence: Option<CheckpointFinalityPersistence<H>>,
}

impl<H: CheckpointHash> CheckpointFinality<H> {
	/// A state machine for the chain with `genesis_hash` (checkpoint 0, finalized) and the
	/// authority set `voters`.
	pub fn new(genesis_hash: H, voters: VoterSet, config: FinalityConfig) -> Self {
		Self {
			genesis_hash,
			voters,
			config,
			last_finalized: Checkpoint::new(0, genesis_hash),
			justified: BTreeMap::new(),
			votes: BTreeMap::new(),
			links: HashMap::new(),
			guard: OwnVoteGuard::default(),
			guard_found: false,
			latest_certificate: None,
			counters: FinalityCounters::default(),
			persistence: None,
		}
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
			return;
		}
		log::info!(
			target: LOG_TARGET,
			"💾 Checkpoint persistence enabled (retention {} checkpoints, flush every {}s, prune every {}s)",
			config.retention_checkpoints,
			config.flush_interval_secs,
			config.prune_interval_secs,
		);
		self.persistence = Some(CheckpointFinalityPersistence::new(storage, config));
	}

	/// The persistence layer, if set: the maintenance task shares it.
	pub fn persistence(&self) -> Option<&CheckpointFinalityPersistence<H>> {
		self.persistence.as_ref()
	}

	/// Rebuilds the state from storage: finality and justified watermarks, the own-vote guard
	/// (before any vote can be cast) and the votes above finality. Refuses a store of another
	/// chain or of a newer schema. A no-op without storage.
	pub fn restore_from_storage(&mut self) -> Result<RestoreSummary<H>> {
		if let Some(persistence) = self.persistence.clone() {
			log::info!(target: LOG_TARGET, "🔄 Restoring checkpoint state from storage");
			let state = persistence.storage().load(&self.genesis_hash, self.config.window)?;
			if let Some(guard) = state.own_vote_guard {
				self.guard = self.guard.merge(guard);
				self.guard_found = true;
			}
			if let Some(finalized) = state.finalized {
				self.set_finalized(finalized);
			}
			if let Some(justified) =
				state.justified.filter(|j| j.number > self.last_finalized.number)
			{
				self.justified.insert(justified.number, justified.hash);
			}
			let mut restored = 0;
			for vote in state.votes {
				// Stored votes were verified when they arrived; votes of another set or outside
				// the window are left alone.
				if self.check_vote(&vote).is_ok() && self.insert_vote(vote).is_ok() {
					restored += 1;
				}
			}
			self.process_links();
			log::info!(
				target: LOG_TARGET,
				"✅ Checkpoint state restored successfully: finalized {}, justified {}, {} votes, \
				 own-vote guard {} -> {}",
				self.last_finalized.number,
				self.highest_justified().number,
				restored,
				self.guard.source,
				self.guard.target,
			);
			Ok(self.summary(restored))
		} else {
			Ok(self.summary(0))
		}
	}

	fn summary(&self, votes: usize) -> RestoreSummary<H> {
		RestoreSummary {
			finalized: self.last_finalized,
			justified: self.highest_justified(),
			votes,
			guard: self.guard,
			guard_found: self.guard_found,
		}
	}

	/// The chain's genesis hash.
	pub fn genesis_hash(&self) -> H {
		self.genesis_hash
	}

	/// The current authority set.
	pub fn voters(&self) -> &VoterSet {
		&self.voters
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
	pub fn split_at(&self, number: CheckpointNumber) -> bool {
		number > self.last_finalized.number
			&& !self.justified.contains_key(&number)
			&& self.votes.get(&number).is_some_and(|by| by.len() >= self.voters.threshold())
	}

	/// The vote window: targets more than this many checkpoints above the finalized one are
	/// refused.
	pub fn window(&self) -> u64 {
		self.config.window
	}

	/// The counters.
	pub fn counters(&self) -> &FinalityCounters {
		&self.counters
	}

	/// The certificate of the latest finality step taken by this instance.
	pub fn latest_certificate(&self) -> Option<&CheckpointCertificate<H>> {
		self.latest_certificate.as_ref()
	}

	/// Votes of `validator` above finality, lowest target first: what a restarted node gossips
	/// again.
	pub fn votes_of(&self, validator: ValidatorIndex) -> Vec<CheckpointSignature<H>> {
		self.votes.values().filter_map(|by| by.get(&validator)).flatten().cloned().collect()
	}

	/// Validates and takes another validator's vote: set, membership, window, duplicates, then
	/// the signature. Keeps E1/E2 evidence, buffers the vote for persistence and returns what
	/// it justified or finalized. A rejected vote changes nothing but the counters.
	pub fn add_checkpoint_signature(
		&mut self,
		signature: CheckpointSignature<H>,
	) -> std::result::Result<VoteImport<H>, VoteRejection> {
		let evidence = match self.validate_and_insert(&signature) {
			Ok(evidence) => evidence,
			Err(rejection) => {
				self.counters.rejected_votes += 1;
				log::debug!(target: LOG_TARGET, "Rejected vote {:?}: {rejection}", signature.link);
				return Err(rejection);
			}
		};
		self.counters.total_signatures += 1;

		// PERSISTENCE HOOK: the vote joins the write-behind buffer.
		if let Some(persistence) = &self.persistence {
			if let Err(e) = persistence.buffer_vote(signature.clone()) {
				self.counters.persistence_failures += 1;
				log::warn!(target: LOG_TARGET, "⚠️ Failed to persist signature: {e}");
			}
		}
		let equivocation = evidence.is_some();
		if let Some(first) = evidence {
			self.record_evidence(&first, &signature);
		}
		Ok(VoteImport { equivocation, progress: self.process_links() })
	}

	/// Checks a vote as [`Self::add_checkpoint_signature`] would, without taking it: what the
	/// gossip validator asks before it lets a vote travel on.
	pub fn validate_vote(
		&self,
		vote: &CheckpointSignature<H>,
	) -> std::result::Result<(), VoteRejection> {
		self.check_vote(vote)?;
		let held = self.votes_at(vote.validator_index, vote.link.target.number);
		if held.iter().any(|v| v.link == vote.link) {
			return Err(VoteRejection::Duplicate);
		}
		// Checked here too, not only when inserting: gossip must not store and relay a
		// faulty validator's endless variants of one target.
		if held.len() >= MAX_VOTES_PER_TARGET {
			return Err(VoteRejection::EquivocationLimit {
				validator: vote.validator_index,
				target: vote.link.target.number,
			});
		}
		self.check_signature(vote)
	}

	/// The link this node should vote for to target `target`, or `None` to abstain.
	///
	/// The source is the highest justified checkpoint below `target` for which `is_ancestor`
	/// holds (the caller asks its chain); the link must keep the own-vote guard's promise and
	/// the target must lie inside the vote window.
	pub fn own_vote_link(
		&self,
		target: Checkpoint<H>,
		is_ancestor: impl Fn(&Checkpoint<H>) -> bool,
	) -> Option<Link<H>> {
		let finalized = self.last_finalized.number;
		if target.number <= finalized || target.number.0 > finalized.0 + self.config.window {
			return None;
		}
		let source = self
			.justified
			.range(..target.number)
			.rev()
			.map(|(n, h)| Checkpoint { number: *n, hash: *h })
			.chain(std::iter::once(self.last_finalized))
			.find(|c| is_ancestor(c))?;
		let link = Link { set_id: self.voters.set_id, source, target };
		self.guard.permits(&link).then_some(link)
	}

	/// Records this node's own signed vote: checks the guard and the vote, raises the guard,
	/// and makes both durable before returning. Only a vote for which this returns `Ok` may be
	/// gossiped. Fails closed: when persisting fails, the guard stays raised, the vote is not
	/// taken and the error says why.
	pub fn record_own_vote(&mut self, vote: CheckpointSignature<H>) -> Result<VoteImport<H>> {
		if !self.guard.permits(&vote.link) {
			return Err(Error::OwnVoteRefused {
				from: vote.link.source.number,
				to: vote.link.target.number,
				guard_source: self.guard.source,
				guard_target: self.guard.target,
			});
		}
		self.check_vote(&vote)
			.and_then(|()| self.check_signature(&vote))
			.map_err(Error::InvalidOwnVote)?;
		self.guard = self.guard.raised(&vote.link);

		// PERSISTENCE HOOK: the own vote is durable before anyone can see it.
		if let Some(persistence) = &self.persistence {
			if let Err(e) = persistence.storage().store_own_vote(&vote, &self.guard) {
				self.counters.own_vote_failures += 1;
				log::error!(
					target: LOG_TARGET,
					"❌ Not voting for checkpoint {}: the vote could not be persisted: {e}",
					vote.link.target.number,
				);
				return Err(e);
			}
			log::info!(
				target: LOG_TARGET,
				"📝 Stored signature: own vote {} -> {}",
				vote.link.source.number,
				vote.link.target.number,
			);
		}
		let evidence = self.insert_vote(vote.clone()).map_err(Error::InvalidOwnVote)?;
		if let Some(first) = evidence {
			self.record_evidence(&first, &vote);
		}
		self.counters.own_votes += 1;
		self.counters.total_signatures += 1;
		Ok(VoteImport { equivocation: false, progress: self.process_links() })
	}

	/// Checks a vote that arrived from the network signed with this node's own key (as
	/// validator `vote.validator_index`). Returns `Ok(true)` when it is valid and lies outside
	/// the own-vote guard, so this node cannot have cast it: its key votes on another machine.
	/// The guard is then raised to cover it and made durable, so that this node never signs a
	/// vote conflicting with it. A vote inside the guard (an own vote from before a restart or
	/// purge, echoed back) or an invalid one returns `Ok(false)` and changes nothing.
	pub fn check_own_key_vote(&mut self, vote: &CheckpointSignature<H>) -> Result<bool> {
		if self.guard.covers(&vote.link)
			|| self.check_vote(vote).and_then(|()| self.check_signature(vote)).is_err()
		{
			return Ok(false);
		}
		self.guard = self.guard.raised(&vote.link);
		// PERSISTENCE HOOK: the raised guard is durable before the caller goes on.
		if let Some(persistence) = &self.persistence {
			if let Err(e) = persistence.storage().store_guard(&self.guard) {
				self.counters.own_vote_failures += 1;
				log::error!(target: LOG_TARGET, "❌ Cannot persist the raised own-vote guard: {e}");
				return Err(e);
			}
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
		if !self.advance_finality(certificate.clone())? {
			return Ok(Progress::default());
		}
		let mut progress = self.process_links();
		if progress.finalized.is_none() {
			progress.finalized = Some(certificate);
		}
		Ok(progress)
	}

	/// The certificate for `link` from the signatures collected, if they are a supermajority.
	pub fn create_checkpoint_certificate(
		&self,
		link: &Link<H>,
	) -> Option<CheckpointCertificate<H>> {
		let signatures = self.links.get(link)?;
		(signatures.len() >= self.voters.threshold()).then(|| CheckpointCertificate {
			link: *link,
			signatures: signatures.iter().map(|(i, s)| (*i, s.clone())).collect(),
		})
	}

	/// Finalizes `certificate.link.source`: persists the certificate with the watermark it
	/// moves (one transaction), then moves finality in memory and drops what lies below it.
	/// Returns `Ok(false)` for a checkpoint at or below the finalized one: finality never
	/// moves backwards. On a persistence error nothing moves.
	pub fn advance_finality(&mut self, certificate: CheckpointCertificate<H>) -> Result<bool> {
		let checkpoint = certificate.link.source;
		if checkpoint.number <= self.last_finalized.number {
			return Ok(false);
		}
		let justified = self.highest_justified().max(certificate.link.target);

		// PERSISTENCE HOOK: certificate and watermark in one transaction.
		if let Some(persistence) = &self.persistence {
			if let Err(e) = persistence.storage().store_certificate(&certificate, &justified) {
				self.counters.persistence_failures += 1;
				log::error!(
					target: LOG_TARGET,
					"❌ Failed to persist the certificate of checkpoint {}; finality waits: {e}",
					checkpoint.number,
				);
				return Err(e);
			}
			log::info!(
				target: LOG_TARGET,
				"📜 Stored certificate for checkpoint {} ({} signatures)",
				checkpoint.number,
				certificate.signatures.len(),
			);
		}
		self.set_finalized(checkpoint);
		// The certificate's supermajority link justifies its target, whether this node saw the
		// votes or only the certificate (as the watermark just stored says). A different
		// checkpoint already justified at that height stays (see `process_links`).
		let target = certificate.link.target;
		self.justified.entry(target.number).or_insert(target.hash);
		self.counters.total_certificates += 1;
		self.latest_certificate = Some(certificate);
		log::info!(
			target: LOG_TARGET,
			"🏁 Updated last finalized checkpoint: {} ({:?})",
			checkpoint.number,
			checkpoint.hash,
		);
		Ok(true)
	}

	fn set_finalized(&mut self, checkpoint: Checkpoint<H>) {
		if checkpoint.number <= self.last_finalized.number {
			return;
		}
		self.last_finalized = checkpoint;
		let above = checkpoint.number.next();
		self.votes = self.votes.split_off(&above);
		self.justified = self.justified.split_off(&above);
		self.links.retain(|link, _| link.target.number > checkpoint.number);
	}

	/// Set, membership, link shape and window: the cheap checks, before the signature.
	fn check_vote(&self, vote: &CheckpointSignature<H>) -> std::result::Result<(), VoteRejection> {
		let link = &vote.link;
		if link.set_id != self.voters.set_id {
			return Err(VoteRejection::WrongSet { current: self.voters.set_id, got: link.set_id });
		}
		if vote.validator_index as usize >= self.voters.authorities.len() {
			return Err(VoteRejection::UnknownValidator(vote.validator_index));
		}
		let (source, target) = (link.source.number, link.target.number);
		if source >= target {
			return Err(VoteRejection::InvalidLink { from: source, to: target });
		}
		let finalized = self.last_finalized.number;
		if link_expired(link, finalized) {
			return Err(VoteRejection::Expired { from: source, to: target, finalized });
		}
		if target.0 > finalized.0.saturating_add(self.config.window) {
			return Err(VoteRejection::TooFarAhead {
				target,
				finalized,
				window: self.config.window,
			});
		}
		Ok(())
	}

	fn check_signature(
		&self,
		vote: &CheckpointSignature<H>,
	) -> std::result::Result<(), VoteRejection> {
		let public = &self.voters.authorities[vote.validator_index as usize];
		let payload = signing_payload(&self.genesis_hash, &vote.link);
		if public.verify(&payload, &vote.signature) {
			Ok(())
		} else {
			Err(VoteRejection::BadSignature)
		}
	}

	fn validate_and_insert(
		&mut self,
		vote: &CheckpointSignature<H>,
	) -> std::result::Result<Option<CheckpointSignature<H>>, VoteRejection> {
		self.validate_vote(vote)?;
		self.insert_vote(vote.clone())
	}

	/// The votes held of validator `index` for target number `target`.
	fn votes_at(
		&self,
		index: ValidatorIndex,
		target: CheckpointNumber,
	) -> &[CheckpointSignature<H>] {
		self.votes.get(&target).and_then(|by| by.get(&index)).map_or(&[], Vec::as_slice)
	}

	/// Adds a checked vote; returns an earlier vote of the same validator it conflicts with.
	fn insert_vote(
		&mut self,
		vote: CheckpointSignature<H>,
	) -> std::result::Result<Option<CheckpointSignature<H>>, VoteRejection> {
		let (index, link) = (vote.validator_index, vote.link);
		let mut earlier = self.votes.values().filter_map(|by| by.get(&index)).flatten();
		if earlier.clone().any(|v| v.link == link) {
			return Err(VoteRejection::Duplicate);
		}
		let conflict = earlier.find(|v| conflicts(&v.link, &link)).cloned();
		let own = self.votes.entry(link.target.number).or_default().entry(index).or_default();
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

	fn record_evidence(&mut self, first: &CheckpointSignature<H>, second: &CheckpointSignature<H>) {
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
		if let Some(persistence) = &self.persistence {
			if let Err(e) = persistence.storage().store_evidence(first, second) {
				self.counters.persistence_failures += 1;
				log::warn!(target: LOG_TARGET, "⚠️ Failed to persist equivocation evidence: {e}");
			}
		}
	}

	/// Justifies every target of a supermajority link from a justified source, then finalizes
	/// the highest justified source of a supermajority link to the next checkpoint.
	fn process_links(&mut self) -> Progress<H> {
		let threshold = self.voters.threshold();
		let set_id = self.voters.set_id;
		let mut progress = Progress::default();
		loop {
			let next = self
				.links
				.iter()
				.filter(|(link, sigs)| {
					sigs.len() >= threshold
						&& link.set_id == set_id
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
					target: LOG_TARGET,
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
			progress.justified.push(target);
		}

		let finalizing = self
			.links
			.iter()
			.filter(|(link, sigs)| {
				sigs.len() >= threshold
					&& link.set_id == set_id
					&& link.target.number == link.source.number.next()
					&& link.source.number > self.last_finalized.number
					&& self.is_justified(&link.source)
			})
			.map(|(link, _)| *link)
			.max_by_key(|link| link.source.number);
		if let Some(link) = finalizing {
			let certificate = self
				.create_checkpoint_certificate(&link)
				.expect("the link has a supermajority; qed");
			if let Ok(true) = self.advance_finality(certificate.clone()) {
				progress.finalized = Some(certificate);
			}
		} else if !progress.justified.is_empty() {
			if let Some(persistence) = &self.persistence {
				if let Err(e) = persistence.storage().store_justified(&self.highest_justified()) {
					self.counters.persistence_failures += 1;
					log::warn!(target: LOG_TARGET, "⚠️ Failed to persist the justified checkpoint: {e}");
				}
			}
		}
		progress
	}
}

/// Whether a vote for `link` can no longer matter with checkpoint `finalized` final: its
/// source lies below finality or its target at or below it.
pub fn link_expired<H>(link: &Link<H>, finalized: CheckpointNumber) -> bool {
	link.source.number < finalized || link.target.number <= finalized
}

/// E1 (two votes for one target number) or E2 (one vote's span strictly surrounds the other's).
fn conflicts<H: PartialEq>(a: &Link<H>, b: &Link<H>) -> bool {
	let (sa, ta, sb, tb) = (a.source.number, a.target.number, b.source.number, b.target.number);
	(ta == tb && a != b) || (sa < sb && tb < ta) || (sb < sa && ta < tb)
}
