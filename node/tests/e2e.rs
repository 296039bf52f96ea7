//! End-to-end tests: the real `checkpoint-node` binary, several processes on 127.0.0.1 ports,
//! a real chain spec, JSON-RPC and logs. Run one at a time (`--test-threads 1`): each starts
//! up to five nodes.

mod common;

use common::*;
use serde_json::json;
use std::time::Duration;

#[test]
fn dev_chain_is_finalized_by_checkpoints_with_ckpt_justifications() {
	// `--dev`: Alice alone, the runtime's default interval: every block a checkpoint.
	const DEV_INTERVAL: u64 = 1;
	let dir = tempfile::tempdir().unwrap();
	let alice = Node::start("alice", dir.path(), &["--dev"]);

	let (number, hash) = alice.wait_finalized(DEV_INTERVAL, LONG);
	let justification =
		alice.ckpt_justification(&hash).expect("finalized block carries a CKPT justification");
	assert!(!justification.is_empty());

	let status = alice.rpc("checkpoint_status", json!([]));
	// Epochs: block `number` stands at epochs `2 * number / DEV_INTERVAL` (round one) and
	// one more (round two); round two's certificate, from round one, finalizes it.
	let epoch = 2 * number / DEV_INTERVAL;
	assert!(status["finalized"]["number"].as_u64().unwrap() >= epoch, "{status}");
	assert_eq!(status["validators"], 1);
	assert!(status["persistence"].as_bool().unwrap());
	let certificate = alice.rpc("checkpoint_certificate", json!([epoch]));
	assert_eq!(certificate["signers"], json!([0]), "{certificate}");
	assert_eq!(certificate["source"]["hash"], json!(hash));

	// The node writes its log through a buffer: the lines of what RPC already shows may
	// still be on their way.
	for line in [
		"💾 Checkpoint persistence enabled",
		"🔄 Restoring checkpoint state from storage",
		"✅ Checkpoint state restored successfully",
		"📝 Stored signature",
		"📜 Stored certificate",
		"🏁 Updated last finalized checkpoint",
	] {
		alice.wait_log(0, line, Duration::from_secs(30));
	}
}

#[test]
fn local_devnet_survives_a_killed_validator_and_a_late_full_node_syncs() {
	let dir = tempfile::tempdir().unwrap();
	let spec = raw_chain_spec(dir.path(), "local", INTERVAL as u32);
	let spec = spec.to_str().unwrap();
	let alice = Node::start("alice", dir.path(), &["--chain", spec, "--alice", "--validator"]);
	let boot = alice.multiaddr();
	let validator = |name: &str, key: &str| {
		Node::start(name, dir.path(), &["--chain", spec, key, "--validator", "--bootnodes", &boot])
	};
	let bob = validator("bob", "--bob");
	let charlie = validator("charlie", "--charlie");
	let mut dave = validator("dave", "--dave");
	let all = [&alice, &bob, &charlie];

	// Finality advances on every node.
	let target = 3 * INTERVAL;
	for node in all.iter().copied().chain([&dave]) {
		node.wait_finalized(target, LONG);
	}

	// kill -9 one validator while it votes (right after it stored an own vote: one stored
	// after this mark, not any since its start): the other three (3 of 4) keep finalizing.
	let mark = dave.log_text().len();
	dave.wait_log(mark, "📝 Stored signature: own vote", LONG);
	dave.kill();
	let (before, _) = alice.finalized();
	for node in all {
		node.wait_finalized(before + 2 * INTERVAL, LONG);
	}

	// Restart it on the same base path: state restored, guard first, votes again, catches up.
	let restart_mark = dave.log_text().len();
	dave.restart();
	let (now, _) = alice.finalized();
	dave.wait_finalized(now, LONG);
	let log = dave.wait_log(restart_mark, "📝 Stored signature: own vote", LONG);
	let restored = log.find("✅ Checkpoint state restored successfully").expect("restore line");
	let restoring = log.find("🔄 Restoring checkpoint state from storage").expect("restoring line");
	let first_vote = log.find("📝 Stored signature: own vote").unwrap();
	assert!(restoring < restored && restored < first_vote, "guard restored before voting");
	let guard_target = own_vote_guard_target(&log[restored..]);
	assert!(guard_target > 0, "dave had voted before the kill; the restored guard says so");
	let first_target = own_votes(&log[first_vote..])[0].1;
	assert!(
		first_target > guard_target,
		"first vote after restart ({first_target}) is above the guard ({guard_target})"
	);

	// A full node joins late, syncs, verifies certificates and reaches the same finality.
	let (goal, _) = alice.wait_finalized(now + 2 * INTERVAL, LONG);
	let eve = Node::start("eve", dir.path(), &["--chain", spec, "--bootnodes", &boot]);
	let (eve_number, eve_hash) = eve.wait_finalized(goal, LONG);
	assert_eq!(eve_hash, alice.rpc("chain_getBlockHash", json!([eve_number])).as_str().unwrap());
	assert!(eve.ckpt_justification(&eve_hash).is_some(), "eve's finalized block has a CKPT proof");

	// Nobody saw an equivocation; everyone stayed on one finalized chain.
	for node in all.iter().copied().chain([&dave, &eve]) {
		assert!(!node.log_text().contains("Equivocation"), "{} logged an equivocation", node.name);
		let status = node.rpc("checkpoint_status", json!([]));
		assert_eq!(status["equivocations"], 0, "{}: {status}", node.name);
		let (n, h) = node.finalized();
		assert_eq!(
			alice.rpc("chain_getBlockHash", json!([n])).as_str().unwrap(),
			h,
			"{}",
			node.name
		);
	}
}

#[test]
fn purge_chain_removes_the_checkpoint_database_and_keeps_the_guard_unless_told_unsafely() {
	let dir = tempfile::tempdir().unwrap();
	let base = dir.path().to_str().unwrap();
	let chain = dir.path().join("chains/dev");
	let guard = chain.join("own-vote-guard");
	let make = || {
		std::fs::create_dir_all(chain.join("db/full")).unwrap();
		std::fs::create_dir_all(chain.join("checkpoints")).unwrap();
		std::fs::write(&guard, b"x").unwrap();
	};
	make();
	let out = run_command(&["purge-chain", "--dev", "-y", "--base-path", base]);
	assert!(!chain.join("checkpoints").exists(), "checkpoint DB left behind");
	assert!(!chain.join("db/full").exists(), "client DB left behind");
	assert!(guard.exists(), "the own-vote guard must survive a purge");
	assert!(out.contains("Kept the own-vote guard"), "{out}");

	make();
	let out = run_command(&[
		"purge-chain",
		"--dev",
		"-y",
		"--unsafe-reset-own-vote-guard",
		"--base-path",
		base,
	]);
	assert!(!guard.exists(), "--unsafe-reset-own-vote-guard removes the guard");
	assert!(out.contains("may double-vote"), "{out}");
}

#[test]
fn cli_rejects_a_bad_persistence_mode() {
	let output = output_of(node_command().args(["--dev", "--checkpoint-persistence", "maybe"]));
	assert!(!output.status.success());
	assert!(String::from_utf8_lossy(&output.stderr).contains("--checkpoint-persistence"));
}
