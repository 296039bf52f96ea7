//! Hostile peers against the gossip validator and the state machine behind it, wired as the
//! worker wires them (a message the validator lets through is imported without its signature
//! checked again), on a real kvdb-rocksdb database: forged signatures, unknown validators, a set
//! nobody signalled, duplicates, equivocations, undecodable and oversized bytes, certificates
//! stuffed with signatures, and one million far-future votes. Each is refused with its
//! reputation cost, nothing of it reaches the database, equivocations become evidence, and what
//! is held stays bounded by the window.

mod common;

use codec::Encode;
use common::*;
use sc_finality_checkpoint::{
	communication::{
		gossip::{cost, GossipValidator},
		GossipMessage,
	},
	store::columns,
	CheckpointDB, CheckpointLink, CheckpointPersistenceConfig, CheckpointStorageAdapter,
};
use sc_network::ReputationChange;
use sp_core::{ed25519, Pair, H256};
use sp_finality_checkpoint::{CheckpointCertificate, CheckpointSignature, Link};
use std::{sync::Arc, time::Instant};

type Block = sp_runtime::generic::Block<
	sp_runtime::generic::Header<u64, sp_runtime::traits::BlakeTwo256>,
	sp_runtime::OpaqueExtrinsic,
>;

const N: usize = 4;

struct Node {
	finality: std::cell::RefCell<CheckpointLink<H256>>,
	validator: GossipValidator<Block>,
	db: Arc<CheckpointDB>,
}

impl Node {
	fn new(dir: &std::path::Path) -> Self {
		let db = Arc::new(CheckpointDB::new(dir).unwrap());
		let mut finality = finality(&keys(N));
		let config = CheckpointPersistenceConfig { enabled: true, ..Default::default() };
		finality.set_storage(Arc::new(CheckpointStorageAdapter::new(db.clone())), config);
		finality.restore_from_storage().unwrap();
		let link = CheckpointLink::new(finality);
		let (validator, _reports) = GossipValidator::new(link.handle());
		Self { validator, finality: link.into(), db }
	}

	/// What a peer's message does: its cost, or whether it was taken (and relayed).
	fn deliver(&self, bytes: &[u8]) -> Result<bool, ReputationChange> {
		let useful = self.validator.check(bytes)?;
		if useful {
			match codec::Decode::decode(&mut &bytes[..]).unwrap() {
				GossipMessage::<H256>::Vote(vote) => {
					let _ = self.finality.borrow_mut().finality_mut().add_verified_vote(vote);
				}
				GossipMessage::Certificate(certificate) => {
					let _ =
						self.finality.borrow_mut().finality_mut().import_certificate(certificate);
				}
			}
		}
		Ok(useful)
	}

	fn vote(&self, vote: &CheckpointSignature<H256>) -> Result<bool, ReputationChange> {
		self.deliver(&GossipMessage::Vote(vote.clone()).encode())
	}

	/// Votes in the database, after a flush of the write-behind buffer.
	fn stored_votes(&self) -> usize {
		self.finality.borrow().finality().persistence().unwrap().flush().unwrap();
		let stats = self.db.stats().unwrap();
		stats[columns::SIGNATURES as usize].keys as usize
	}
}

#[test]
fn hostile_gossip_is_refused_with_its_cost_and_never_stored() {
	let dir = tempfile::tempdir().unwrap();
	let node = Node::new(dir.path());
	let keys = keys(N);
	let outsider = ed25519::Pair::from_seed(&[99; 32]);
	let good = link(cp(0, 0), cp(0, 1));

	assert_eq!(node.deliver(&[]), Err(cost::MALFORMED), "no bytes");
	assert_eq!(node.deliver(&[9, 9, 9]), Err(cost::MALFORMED), "not a message");
	let mut oversized = GossipMessage::Vote(vote(&keys[0], 0, good)).encode();
	oversized.extend(std::iter::repeat_n(0u8, 1 << 20));
	assert_eq!(node.deliver(&oversized), Err(cost::MALFORMED), "a vote with 1 MiB behind it");
	assert_eq!(node.vote(&vote(&outsider, 1, good)), Err(cost::BAD_SIGNATURE), "forged");
	assert_eq!(node.vote(&vote(&keys[2], 1, good)), Err(cost::BAD_SIGNATURE), "another's index");
	assert_eq!(node.vote(&vote(&outsider, 7, good)), Err(cost::INVALID), "unknown validator");
	let unsignalled = Link { set_id: 3, ..good };
	assert_eq!(node.vote(&vote(&keys[0], 0, unsignalled)), Err(cost::FUTURE), "unknown set");
	let backwards = link(cp(0, 2), cp(0, 1));
	assert_eq!(node.vote(&vote(&keys[0], 0, backwards)), Err(cost::INVALID), "source above target");
	assert_eq!(node.stored_votes(), 0, "nothing refused reaches the database");

	// A valid vote once; again, it is known and goes no further.
	assert_eq!(node.vote(&vote(&keys[0], 0, good)), Ok(true));
	assert_eq!(node.vote(&vote(&keys[0], 0, good)), Ok(false));
	assert_eq!(node.stored_votes(), 1);

	// Validator 1 equivocates: the second vote for target 1 travels (others must see it) and
	// becomes evidence; a third variant is not kept or relayed.
	assert_eq!(node.vote(&vote(&keys[1], 1, good)), Ok(true));
	assert_eq!(node.vote(&vote(&keys[1], 1, link(cp(0, 0), cp(1, 1)))), Ok(true));
	assert_eq!(node.vote(&vote(&keys[1], 1, link(cp(0, 0), cp(2, 1)))), Ok(false));
	let evidence = node.db.stats().unwrap()[columns::EVIDENCE as usize].keys;
	assert_eq!(evidence, 1, "the equivocation is evidence");
	assert_eq!(node.finality.borrow().handle().view().counters.equivocations, 1);
	assert_eq!(node.stored_votes(), 3);

	// Certificates: forged, and stuffed with more signatures than the set has signers.
	let certificate = |signers: &[ed25519::Pair], link: Link<H256>| {
		let payload = sp_finality_checkpoint::signing_payload(&GENESIS, &link);
		let signatures =
			signers.iter().enumerate().map(|(i, k)| (i as u32 % 4, k.sign(&payload).into()));
		GossipMessage::Certificate(CheckpointCertificate { link, signatures: signatures.collect() })
	};
	let next = link(cp(0, 1), cp(0, 2));
	let forged = certificate(&[outsider; 3], next);
	assert_eq!(node.deliver(&forged.encode()), Err(cost::BAD_SIGNATURE));
	let stuffed: Vec<_> = keys.iter().cycle().take(5000).cloned().collect();
	let start = Instant::now();
	assert_eq!(node.deliver(&certificate(&stuffed, next).encode()), Err(cost::INVALID));
	let stuffed_time = start.elapsed();
	assert_eq!(node.finality.borrow().handle().view().finalized, cp(0, 0), "finality did not move");
	eprintln!("a certificate of 5000 signatures was refused in {stuffed_time:?}, none verified");
}

/// Resident memory of this process, in KiB.
fn rss_kib() -> u64 {
	let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
	let pages: u64 = statm.split_whitespace().nth(1).and_then(|p| p.parse().ok()).unwrap_or(0);
	pages * 4
}

#[test]
fn a_million_far_future_votes_cost_their_senders_and_hold_nothing() {
	let dir = tempfile::tempdir().unwrap();
	let node = Node::new(dir.path());
	let key = &keys(N)[0];
	let signature: sp_finality_checkpoint::AuthoritySignature = key.sign(b"not a vote").into();
	let (before, start) = (rss_kib(), Instant::now());
	for i in 0..1_000_000u64 {
		let far = link(cp(0, 100 + i), cp(0, 101 + i));
		let vote =
			CheckpointSignature { link: far, validator_index: 0, signature: signature.clone() };
		assert_eq!(node.vote(&vote), Err(cost::FUTURE));
	}
	let (elapsed, grown) = (start.elapsed(), rss_kib().saturating_sub(before));
	assert!(node.finality.borrow().finality().votes_of(&key.public().into()).is_empty());
	assert_eq!(node.stored_votes(), 0);
	eprintln!(
		"1,000,000 far-future votes refused in {elapsed:?} ({:.2} µs each, no signature \
		 checked); resident memory grew by {grown} KiB; votes held: 0 (at most {} validators \
		 x 2 x {} window)",
		elapsed.as_secs_f64() * 1e6 / 1e6,
		N,
		node.finality.borrow().handle().view().window,
	);
}
