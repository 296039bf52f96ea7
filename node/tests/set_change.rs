//! Authority set changes on a real devnet, end to end: a validator joins by the operator flow
//! (`author_rotateKeysWithOwner`, `session.setKeys`, root's `addInvulnerable`), another is
//! removed, each change is signalled in a checkpoint block and enacted by the gadget when that
//! checkpoint is finalized; the new validator votes from the enactment on without a restart,
//! the removed one stops, a validator down from before a signal until after its enactment
//! resumes on the new set without equivocating, a fresh full node syncs from genesis
//! through both changes, and one started with `--sync warp` jumps there by their proofs.
//! Real `checkpoint-node` processes on 127.0.0.1.

mod common;

use checkpoint_runtime::RuntimeCall;
use codec::{Decode, Encode};
use common::*;
use sc_finality_checkpoint::{verify_finality_proof, FinalityProof, VoterSet};
use serde_json::json;
use sp_core::H256;
use sp_finality_checkpoint::{AuthorityId, AuthoritySet, CheckpointCertificate, PendingChange};
use sp_keyring::Sr25519Keyring;

/// The certificate a node stored as the justification of the checkpoint block at `number`.
fn certificate_at(node: &Node, number: u64) -> CheckpointCertificate<H256> {
	let hash = node.rpc("chain_getBlockHash", json!([number]));
	let bytes = node
		.ckpt_justification(hash.as_str().unwrap())
		.unwrap_or_else(|| panic!("{} has no justification of #{number}", node.name));
	CheckpointCertificate::from_justification(&bytes).unwrap()
}

/// The checkpoint block at or above `number` that `node` finalized with a certificate of its
/// own, and that certificate.
fn next_certificate(node: &Node, number: u64) -> CheckpointCertificate<H256> {
	let first = number.div_ceil(INTERVAL) * INTERVAL;
	let (finalized, _) = node.wait_finalized(first + 4 * INTERVAL, LONG);
	(first..=finalized)
		.step_by(INTERVAL as usize)
		.find(|n| {
			let hash = node.rpc("chain_getBlockHash", json!([n]));
			node.ckpt_justification(hash.as_str().unwrap()).is_some()
		})
		.map(|n| certificate_at(node, n))
		.unwrap_or_else(|| panic!("no certificate from #{first} to #{finalized}"))
}

/// The block of an epoch [`wait_enactment`] gives.
fn enacting_block(epoch: u64) -> u64 {
	sp_finality_checkpoint::Epoch(epoch).block_number(INTERVAL as u32)
}

/// Seconds of the day of a log line's `YYYY-MM-DD HH:MM:SS` timestamp.
fn seconds(line: &str) -> u64 {
	let time = line.split_whitespace().nth(1).expect("a timestamped line");
	time.split(':').fold(0, |total, part| total * 60 + part.parse::<u64>().unwrap())
}

/// From `log`: seconds from the import of the block signalling set `id` to its enactment, and to
/// the first finality after it (the first certificate of the new set).
fn change_timing(log: &str, id: u64) -> (u64, u64) {
	let lines: Vec<&str> = log.lines().collect();
	let find = |from: usize, text: &str| {
		(from..lines.len()).find(|i| lines[*i].contains(text)).unwrap_or_else(|| panic!("{text}"))
	};
	let signal = find(0, &format!("📣 Authority set {id} "));
	let enacted = find(signal, &format!("🔀 Authority set {id} "));
	let finality = find(enacted + 1, "🏁 Updated last finalized checkpoint");
	let at = |i: usize| seconds(lines[i]);
	(at(enacted) - at(signal), at(finality) - at(signal))
}

#[test]
fn validators_join_and_leave_and_finality_carries_across_the_changes() {
	let dir = tempfile::tempdir().unwrap();
	let (mut nodes, spec) = devnet(dir.path(), INTERVAL, &[]);
	let genesis_set: AuthoritySet = state_call(&nodes[0], "CheckpointApi_current_set", None);
	assert_eq!((genesis_set.id, genesis_set.authorities.len()), (0, 4));
	let boot = nodes[0].multiaddr();

	// Eve runs a validator node with an empty keystore, generates her session keys there and
	// registers them on chain, as an operator does.
	let eve =
		Node::start("eve", dir.path(), &["--chain", &spec, "--validator", "--bootnodes", &boot]);
	let eve_account = Sr25519Keyring::Eve.to_account_id();
	let generated = eve.rpc(
		"author_rotateKeysWithOwner",
		json!([sp_core::bytes::to_hex(&eve_account.encode(), false)]),
	);
	let hex = |field: &str| sp_core::bytes::from_hex(generated[field].as_str().unwrap()).unwrap();
	let keys = checkpoint_runtime::SessionKeys::decode(&mut &hex("keys")[..]).unwrap();
	let eve_key: AuthorityId = keys.checkpoint.clone();
	submit_signed(
		&eve,
		Sr25519Keyring::Eve,
		RuntimeCall::Session(pallet_session::Call::set_keys { keys, proof: hex("proof") }),
	);
	wait_for("Eve's session keys on chain", LONG, || {
		let nonce: u32 =
			state_call_with(&eve, "AccountNonceApi_account_nonce", &eve_account.encode(), None);
		(nonce == 1).then_some(())
	});

	// Root adds Eve: a set of five is signalled in a checkpoint block, and the gadget enacts it
	// when that checkpoint is finalized. Eve votes from then on, without a restart.
	let from = nodes[0].header_number(None);
	let add = pallet_collator_selection::Call::add_invulnerable { who: eve_account };
	sudo(&nodes[0], RuntimeCall::CollatorSelection(add));
	let (signal_1, signal_1_hash, set_1) =
		wait_for_signal(&nodes[0], from, LONG * 2, |set| set.authorities.contains(&eve_key));
	assert_eq!(signal_1 % INTERVAL, 0, "signalled in block #{signal_1}, not a checkpoint");
	assert_eq!((set_1.id, set_1.authorities.len()), (1, 5));
	let pending: Option<PendingChange<u32>> =
		state_call(&nodes[0], "CheckpointApi_pending_change", Some(&signal_1_hash));
	assert_eq!(
		pending.map(|p| (p.set, u64::from(p.signalled_at))),
		Some((set_1.clone(), signal_1))
	);
	let enacted_1 = wait_enactment(&nodes[0], 0, &set_1, LONG);
	for node in nodes.iter().chain([&eve]) {
		assert_eq!(wait_enactment(node, 0, &set_1, LONG), enacted_1, "{}", node.name);
	}
	let eve_index = set_1.authorities.iter().position(|a| *a == eve_key).unwrap();
	eve.wait_log(
		0,
		&format!("🗳️ Voting on checkpoints as validator {eve_index} of authority set 1"),
		LONG,
	);
	let enacting_1 = enacting_block(enacted_1);
	assert!(enacting_1 >= signal_1);
	assert_eq!(certificate_at(&nodes[0], enacting_1).link.set_id, 0, "set 0 enacted set 1");
	assert_eq!(next_certificate(&nodes[0], enacting_1 + 1).link.set_id, 1);

	// Charlie and Bob go down, then root removes Dave: the three left of set 1's five cannot
	// finalize the signal, so the change waits. (Two-round finality finalizes a signal within
	// a fraction of a block time: Bob is killed before it, not between its import and its
	// finality, and meets the signal when he syncs after his restart.)
	let from = nodes[0].header_number(None);
	let dave: AuthorityId = sp_keyring::Ed25519Keyring::Dave.public().into();
	let who = Sr25519Keyring::Dave.to_account_id();
	let remove = pallet_collator_selection::Call::remove_invulnerable { who };
	nodes[2].kill();
	nodes[1].kill();
	sudo(&nodes[0], RuntimeCall::CollatorSelection(remove));
	let (signal_2, _, set_2) =
		wait_for_signal(&nodes[0], from, LONG * 2, |set| !set.authorities.contains(&dave));
	assert_eq!((set_2.id, set_2.authorities.len()), (2, 4));
	assert_eq!(signal_2 % INTERVAL, 0);
	let bob_log = nodes[1].log_text();
	assert!(!bob_log.contains("🔀 Authority set 2 "), "Bob enacted set 2 before he was killed");
	let bob_before = own_votes(&bob_log);

	// Charlie comes back: set 1 finalizes the signal (or a checkpoint above it, the first
	// after the outage) and set 2 takes over. Bob is still down, so set 2's finality needs
	// Eve's votes.
	nodes[2].start_again();
	let enacted_2 = wait_enactment(&nodes[0], 0, &set_2, LONG);
	let enacting_2 = enacting_block(enacted_2);
	assert!(enacting_2 >= signal_2);
	assert_eq!(certificate_at(&nodes[0], enacting_2).link.set_id, 1, "set 1 enacted set 2");
	let certificate = next_certificate(&nodes[0], enacting_2 + 1);
	assert_eq!(certificate.link.set_id, 2);
	let eve_index = set_2.authorities.iter().position(|a| *a == eve_key).unwrap() as u32;
	assert!(
		certificate.signatures.iter().any(|(i, _)| *i == eve_index),
		"Eve's vote is in set 2's certificate {certificate:?}"
	);
	nodes[3].wait_log(0, "👋 This node's checkpoint key is not in authority set 2", LONG);

	// Bob restarts on set 1 with the signal above his finality, and enacts set 2 as the
	// others did. None of his votes conflicts with one from before the kill.
	let mark = nodes[1].log_text().len();
	nodes[1].start_again();
	// His restore line names the set he held and what enacted it.
	assert_eq!(wait_enactment(&nodes[1], mark, &set_1, LONG), enacted_1);
	assert_eq!(wait_enactment(&nodes[1], mark, &set_2, LONG), enacted_2);
	let (target, _) = nodes[0].finalized();
	nodes[1].wait_finalized(target + 2 * INTERVAL, LONG);
	let bob_after = nodes[1].own_votes(mark);
	assert!(bob_after.iter().any(|v| v.0 > 2 * enacting_2 / INTERVAL), "Bob votes in set 2");
	assert_no_conflict(
		"Bob, across the kill",
		&logged_links(&bob_before),
		&logged_links(&bob_after),
	);
	for node in nodes.iter().chain([&eve]) {
		assert!(!node.log_text().contains("Equivocation"), "{} saw an equivocation", node.name);
	}

	// `checkpoint_proveFinality` proves the finalized block from the genesis set: both changes,
	// then set 2's certificate.
	let (target, target_hash) = nodes[0].finalized();
	let genesis_hash = nodes[0].rpc("chain_getBlockHash", json!([0]));
	let genesis_hash: H256 = serde_json::from_value(genesis_hash).unwrap();
	let info = nodes[0].prove_finality(BlockRef::Number(target)).unwrap();
	let proof =
		FinalityProof::<checkpoint_runtime::Header>::decode(&mut &info.encoded[..]).unwrap();
	assert_eq!(proof.changes.len(), 2);
	assert_eq!(info.changes.len(), 2, "the JSON form shows both changes: {info:?}");
	assert_eq!(info.changes[1].certificate.set_id, 1);
	assert_eq!(info.certificate.set_id, 2);
	let genesis_voters = VoterSet::new(0, genesis_set.authorities.clone()).unwrap();
	let (proven, set) =
		verify_finality_proof(&genesis_hash, genesis_voters.clone(), INTERVAL as u32, &proof)
			.unwrap();
	assert_eq!((proven.number.block_number(INTERVAL as u32), set.set_id()), (target, 2));
	assert_eq!(format!("{:?}", proven.hash), target_hash);
	let mut forged = proof.clone();
	forged.changes.remove(1);
	assert!(verify_finality_proof(&genesis_hash, genesis_voters, INTERVAL as u32, &forged).is_err());

	// The figures the README and the issue notes quote (the second change waited for Charlie).
	let (enactment, finality) = change_timing(&nodes[0].log_text(), 1);
	eprintln!(
		"set change 1 on Alice: signalling block imported -> enacted {enactment} s -> first \
		 finality by the new set {finality} s"
	);

	// A fresh full node syncs from genesis and follows both changes by their certificates.
	let started = std::time::Instant::now();
	let fresh = Node::start("ferdie", dir.path(), &["--chain", &spec, "--bootnodes", &boot]);
	fresh.wait_finalized(target, LONG);
	let full_sync = started.elapsed();
	let hash = fresh.rpc("chain_getBlockHash", json!([target]));
	assert_eq!(hash.as_str(), Some(target_hash.as_str()));
	assert_eq!(wait_enactment(&fresh, 0, &set_1, LONG), enacted_1);
	assert_eq!(wait_enactment(&fresh, 0, &set_2, LONG), enacted_2);

	// A fresh node started with `--sync warp` reaches the finalized head through the set-change
	// proofs of its peers, imports the state there and follows finality from it. It enacts no
	// set by finality: the proof brings both.
	let started = std::time::Instant::now();
	let args = ["--chain", spec.as_str(), "--bootnodes", boot.as_str(), "--sync", "warp"];
	let warped = Node::start("george", dir.path(), &args);
	warped.wait_log(0, "Warp sync is complete, continuing with state sync", LONG);
	let log = warped.wait_log(0, "⏩ Warp sync: checkpoint", LONG);
	let jump = log.lines().find(|l| l.contains("⏩ Warp sync: checkpoint")).unwrap();
	assert!(jump.contains("2 set changes on the way"), "{jump}");
	assert!(jump.contains("authority set 2 "), "{jump}");
	warped.wait_log(0, "State sync is complete, continuing with block sync", LONG);
	let (head, _) = nodes[0].finalized();
	let (warp_finalized, _) = warped.wait_finalized(head, LONG);
	let warp_sync = started.elapsed();
	// The blocks below the warp target come afterwards, by gap sync, in the background.
	warped.wait_log(0, "Block history download is complete", LONG);
	let hash = warped.rpc("chain_getBlockHash", json!([target]));
	assert_eq!(hash.as_str(), Some(target_hash.as_str()), "the warp node is on the same chain");
	let log = warped.log_text();
	assert!(!log.contains("Block import error"), "a warp block was refused:\n{log}");
	warped.wait_finalized(warp_finalized + 2 * INTERVAL, LONG);
	let log = warped.log_text();
	assert!(!log.contains("🔀 Authority set"), "George enacted a set by finality:\n{log}");
	eprintln!(
		"sync to #{target} ({head} on the warp node): full {:.1} s, warp {:.1} s",
		full_sync.as_secs_f64(),
		warp_sync.as_secs_f64()
	);
}
