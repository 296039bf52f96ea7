//! Equivocations punished by the chain, end to end: on a four-validator devnet Dave runs a
//! test build (`--features checkpoint-node/test-double-vote`, never a default build) told to
//! sign two conflicting votes once. The others store the evidence, report it on chain through
//! their own transaction pools, the report is included, `checkpoint_evidence` says so, and Dave
//! leaves collator-selection's invulnerables: two sessions later he is out of the validators
//! and the checkpoint set, while finality goes on with the three others.
//! Real `checkpoint-node` processes on 127.0.0.1.

mod common;

use common::*;
use sp_core::crypto::Ss58Codec;
use sp_finality_checkpoint::{AuthorityId, AuthoritySet};
use sp_keyring::Ed25519Keyring;

#[test]
fn a_double_vote_is_reported_included_and_the_offender_leaves_the_set() {
	if !cfg!(feature = "test-double-vote") {
		assert_ne!(
			std::env::var("CI").as_deref(),
			Ok("true"),
			"CI builds the tests with --features checkpoint-node/test-double-vote"
		);
		eprintln!("SKIPPED: needs --features checkpoint-node/test-double-vote (scripts/test.sh)");
		return;
	}
	let dir = tempfile::tempdir().unwrap();
	let (mut nodes, _spec) = devnet(dir.path(), INTERVAL, &[]);
	let dave_key: AuthorityId = Ed25519Keyring::Dave.public().into();
	let dave_ss58 = Ed25519Keyring::Dave.public().to_ss58check();

	// Dave restarts as a faulty validator: a few blocks on, he signs two votes for one target.
	let (finalized, _) = nodes[0].finalized();
	let epoch = 2 * (finalized + 4 * INTERVAL) / INTERVAL;
	nodes[3].set_env("CHECKPOINT_TEST_DOUBLE_VOTE", &epoch.to_string());
	let mark = nodes[3].log_text().len();
	nodes[3].restart();
	nodes[3].wait_log(mark, "🧪 Test build: signed a conflicting vote", LONG);

	// The others see it, store it and report it; one of their blocks includes the report.
	for node in &nodes[..3] {
		node.wait_log(0, "⚠️ Equivocation by validator", LONG);
		node.wait_log(0, "📮 Reported the equivocation of", LONG);
	}
	let included = wait_for("the report included", LONG, || {
		nodes[0].evidence().into_iter().find(|e| e.status == "included")
	});
	assert_eq!(included.offender, dave_ss58, "{included:?}");
	assert_eq!(included.set_id, 0);
	assert!(included.included_in_block.is_some(), "{included:?}");
	let (first, second) = (&included.first, &included.second);
	assert_eq!(first.target.epoch, second.target.epoch);
	assert_ne!(first.target.block_hash, second.target.block_hash, "E1: two blocks");
	nodes[0].wait_log(0, "✅ The report of", LONG);

	// Two sessions (20 blocks each) later Dave is out of the validators, and the checkpoint set
	// that follows is signalled without him; the three others finalize on.
	let set = wait_for("a set without Dave", LONG * 2, || {
		let set: AuthoritySet = state_call(&nodes[0], "CheckpointApi_current_set", None);
		(!set.authorities.contains(&dave_key)).then_some(set)
	});
	assert_eq!((set.id, set.authorities.len()), (1, 3));
	nodes[3].wait_log(0, "👋 This node's checkpoint key is not in authority set 1", LONG);
	let (now, _) = nodes[0].finalized();
	for node in &nodes[..3] {
		node.wait_finalized(now + 4 * INTERVAL, LONG);
	}
	// The report went in once: every honest node's entry says included, none failed.
	for node in &nodes[..3] {
		let evidence = node.evidence();
		assert!(evidence.iter().all(|e| e.status == "included"), "{}: {evidence:?}", node.name);
	}
}
