//! End-to-end tests of finality that never stops for good, and of the operator actions that
//! must not make a validator double-vote: an outage of half the set that outlasts the vote
//! window, a purged and resynced validator, and one validator key on two machines. Real
//! `checkpoint-node` processes on 127.0.0.1, one test at a time.

mod common;

use common::*;
use serde_json::json;
use std::time::Instant;

/// No node logged or counted an equivocation, and all are on alice's finalized chain.
fn assert_no_equivocation_one_chain(nodes: &[&Node]) {
	let alice = nodes[0];
	for node in nodes {
		assert!(!node.log_text().contains("Equivocation"), "{} logged an equivocation", node.name);
		assert_eq!(node.status().equivocations, 0, "{}", node.name);
		let (n, h) = node.finalized();
		let alices = alice.rpc("chain_getBlockHash", json!([n]));
		assert_eq!(alices.as_str().unwrap(), h, "{} finalized another chain", node.name);
	}
}

#[test]
fn finality_resumes_after_half_the_set_was_down_longer_than_the_vote_window() {
	// Interval 1 (a checkpoint every block, 3 s) and a window of 16 epochs, 8 blocks: an
	// outage of 24 blocks is three windows.
	const WINDOW: u64 = 16;
	const OUTAGE_BLOCKS: u64 = 24;
	let dir = tempfile::tempdir().unwrap();
	let window = WINDOW.to_string();
	let (mut nodes, _) = devnet(dir.path(), 1, &["--checkpoint-vote-window", &window]);

	// Charlie and dave crash; alice and bob (2 of 4) author on but cannot finalize.
	nodes[2].kill();
	nodes[3].kill();
	let mark = nodes[0].log_text().len();
	let (stalled, _) = nodes[0].finalized();
	let down_at = nodes[0].header_number(None);
	wait_for("alice and bob to author through the outage", LONG, || {
		(nodes[0].header_number(None) >= down_at + OUTAGE_BLOCKS).then_some(())
	});
	let (during, _) = nodes[0].finalized();
	// Votes charlie and dave cast just before the crash may still finalize one more.
	assert!(during <= stalled + 2, "2 of 4 cannot finalize (finalized {stalled} -> {during})");
	// An operator sees why, at info level, once per change of reason (not per block).
	nodes[0].wait_log(mark, "voted for everything inside the vote window", LONG);
	let log = nodes[0].log_text()[mark..].to_string();
	assert_eq!(log.matches("inside the vote window").count(), 1, "logged once:\n{log}");

	// They come back: finality resumes and catches up with the tip on all four.
	let tip = nodes[0].header_number(None);
	let back = Instant::now();
	nodes[2].start_again();
	nodes[3].start_again();
	nodes[0].wait_finalized(during + 1, LONG);
	let resumed = back.elapsed();
	for node in &nodes {
		node.wait_finalized(tip, LONG);
	}
	let caught_up = back.elapsed();
	println!(
		"outage of {} blocks ({} windows): finality resumed {:.1} s and passed the tip at the \
		 restart (#{tip}) {:.1} s after the restart",
		tip - down_at,
		(tip - down_at) / (WINDOW / 2),
		resumed.as_secs_f64(),
		caught_up.as_secs_f64(),
	);
	assert_no_equivocation_one_chain(&nodes.iter().collect::<Vec<_>>());
}

#[test]
fn a_purged_validator_keeps_its_guard_resyncs_and_never_contradicts_its_earlier_votes() {
	let dir = tempfile::tempdir().unwrap();
	let (mut nodes, _) = devnet(dir.path(), INTERVAL, &[]);
	let dave = &mut nodes[3];
	dave.wait_log(0, "📝 Stored signature: own vote", LONG);
	dave.stop();
	let before = dave.own_votes(0);
	assert!(!before.is_empty());
	let highest = before.iter().map(|v| v.1).max().unwrap();

	// purge-chain removes both databases and keeps the guard.
	let base = dave.base.to_str().unwrap().to_string();
	let out =
		run_command(&["purge-chain", "-y", "--chain", dave.chain_arg(), "--base-path", &base]);
	assert!(out.contains("Kept the own-vote guard"), "{out}");
	let chain_dir = dave.base.join("chains/local_testnet");
	assert!(!chain_dir.join("db").exists() && !chain_dir.join("checkpoints").exists());
	assert!(chain_dir.join("own-vote-guard").exists(), "the guard survives the purge");

	// Restarted, it restores the guard it had, resyncs from genesis and votes only above it.
	let mark = dave.log_text().len();
	dave.start_again();
	let log = dave.wait_log(mark, "✅ Checkpoint state restored successfully", LONG);
	let restored = &log[log.find("✅ Checkpoint state").unwrap()..];
	let guard = own_vote_guard_target(restored);
	assert_eq!(guard, highest, "the restored guard is the last vote before the purge");
	let (goal, _) = nodes[0].finalized();
	nodes[3].wait_finalized(goal, LONG);
	nodes[3].wait_log(mark, "📝 Stored signature: own vote", LONG);
	let after = nodes[3].own_votes(mark);
	assert!(after.iter().all(|v| v.1 > highest), "after the purge: {after:?}, guard #{highest}");
	assert_no_conflict("Dave, across the purge", &logged_links(&before), &logged_links(&after));
	// Finality goes on with it.
	let (now, _) = nodes[0].finalized();
	for node in &nodes {
		node.wait_finalized(now + INTERVAL, LONG);
	}
	assert_no_equivocation_one_chain(&nodes.iter().collect::<Vec<_>>());
}

#[test]
fn a_second_node_with_the_same_validator_key_raises_the_alarm_and_never_votes() {
	let dir = tempfile::tempdir().unwrap();
	let (nodes, spec) = devnet(dir.path(), INTERVAL, &[]);
	let spec = spec.as_str();

	// A second machine gets dave's checkpoint key (only that one: it does not author) and a
	// fresh base path, so a fresh own-vote guard.
	let base = dir.path().join("dave-twin");
	run_command(&[
		"key",
		"insert",
		"--chain",
		spec,
		"--base-path",
		base.to_str().unwrap(),
		"--key-type",
		"ckpt",
		"--scheme",
		"ed25519",
		"--suri",
		"//Dave",
	]);
	let boot = nodes[0].multiaddr();
	let twin = Node::start(
		"dave-twin",
		dir.path(),
		&["--chain", spec, "--validator", "--bootnodes", &boot],
	);
	let log = twin.wait_log(0, "🚨", LONG);
	assert!(log.contains("the same key runs on two nodes"), "{log}");

	// It never votes; the others finalize on and see no equivocation.
	let (now, _) = nodes[0].finalized();
	for node in &nodes {
		node.wait_finalized(now + 2 * INTERVAL, LONG);
	}
	twin.wait_finalized(now + 2 * INTERVAL, LONG);
	assert!(twin.own_votes(0).is_empty(), "the twin cast a vote");
	let status = twin.status();
	assert!(status.own_vote_target.is_some(), "guard raised to cover dave: {status:?}");
	let mut all: Vec<&Node> = nodes.iter().collect();
	all.push(&twin);
	assert_no_equivocation_one_chain(&all);
}
