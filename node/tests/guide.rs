//! The validator guide (`docs/validator.md`), followed as written from a clean directory: keys
//! generated with `key generate`, a chain spec of two validators from `checkpoint-node
//! chain-spec`, the network key and session keys put in place with `key generate-node-key`
//! and `key insert`, two validators started from it: both author and finalize.
//! Real `checkpoint-node` processes on 127.0.0.1.

mod common;

use common::*;
use serde_json::Value;

/// `checkpoint-node args…`, its standard output as JSON.
fn json_of(args: &[&str]) -> Value {
	let output = output_of(node_command().args(args));
	assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
	serde_json::from_slice(&output.stdout).unwrap_or_else(|e| panic!("{args:?}: {e}"))
}

/// A validator's keys as the guide makes them: (account, session phrase, Aura key, `ckpt` key).
fn validator_keys() -> (String, String, String, String) {
	let account = json_of(&["key", "generate", "--scheme", "sr25519", "--output-type", "json"]);
	let session = json_of(&["key", "generate", "--scheme", "sr25519", "--output-type", "json"]);
	let phrase = session["secretPhrase"].as_str().unwrap().to_string();
	let ckpt =
		json_of(&["key", "inspect", "--scheme", "ed25519", "--output-type", "json", &phrase]);
	let ss58 = |v: &Value| v["ss58Address"].as_str().unwrap().to_string();
	(ss58(&account), phrase, ss58(&session), ss58(&ckpt))
}

#[test]
fn the_validator_guide_starts_a_two_validator_chain_that_finalizes() {
	let dir = tempfile::tempdir().unwrap();
	let keys = [validator_keys(), validator_keys()];

	// Step 3: the chain spec, raw, with both validators; the first one's account is sudo.
	let validators: Vec<String> =
		keys.iter().map(|(account, _, aura, ckpt)| format!("{account}:{aura}:{ckpt}")).collect();
	let mut args = vec!["chain-spec", "--name", "My Chain", "--id", "my_chain", "--raw"];
	for validator in &validators {
		args.extend(["--validator", validator]);
	}
	args.extend(["--sudo", &keys[0].0]);
	let output = output_of(node_command().args(&args));
	assert!(output.status.success(), "chain-spec: {}", String::from_utf8_lossy(&output.stderr));
	let spec = dir.path().join("my-chain.json");
	std::fs::write(&spec, &output.stdout).unwrap();
	let spec = spec.to_str().unwrap();

	// Steps 4 and 5: per node, its network key and its session keys in its keystore.
	let mut peer_ids = Vec::new();
	for (i, (_, phrase, _, _)) in keys.iter().enumerate() {
		let base = dir.path().join(format!("v{i}"));
		let base = base.to_str().unwrap();
		run_command(&["key", "generate-node-key", "--base-path", base, "--chain", spec]);
		let key_file = format!("{base}/chains/my_chain/network/secret_ed25519");
		let peer = run_command(&["key", "inspect-node-key", "--file", &key_file]);
		peer_ids.push(peer.trim().to_string());
		for (key_type, scheme) in [("aura", "sr25519"), ("ckpt", "ed25519")] {
			run_command(&[
				"key",
				"insert",
				"--base-path",
				base,
				"--chain",
				spec,
				"--key-type",
				key_type,
				"--scheme",
				scheme,
				"--suri",
				phrase,
			]);
		}
	}

	// Step 6: both validators, the second booting from the first.
	let first = Node::start("v0", dir.path(), &["--chain", spec, "--validator"]);
	assert_eq!(first.peer_id(), peer_ids[0], "the node runs with the generated network key");
	let boot = first.multiaddr();
	let second =
		Node::start("v1", dir.path(), &["--chain", spec, "--validator", "--bootnodes", &boot]);
	assert_eq!(second.peer_id(), peer_ids[1]);

	// Step 7: what the logs and RPC say when all is well. Two of two must be up to finalize.
	for (index, node) in [&first, &second].into_iter().enumerate() {
		node.wait_finalized(4, LONG);
		node.wait_log(0, "🗳️ Voting on checkpoints as validator", LONG);
		node.wait_log(0, "🏁 Finalized block #", LONG);
		let status = node.status();
		assert_eq!((status.validators, status.set_id), (2, 0), "{}", node.name);
		assert!(status.own_vote_target.is_some(), "validator {index} voted");
	}

	// Two of two: every vote is needed, so a validator that casts the vote completing a
	// supermajority must cast its next one at once. Each block is final by its own two rounds:
	// finality stays within two blocks of the best for the next 15 blocks, and neither
	// validator runs through its vote window (votes of the two for different blocks).
	let marks = [first.log_text().len(), second.log_text().len()];
	let (start, _) = first.finalized();
	let mut worst = 0;
	wait_for("15 more blocks finalized", LONG, || {
		let best = first.header_number(None);
		let (finalized, _) = first.finalized();
		worst = worst.max(best.saturating_sub(finalized));
		(finalized >= start + 15).then_some(())
	});
	assert!(worst <= 2, "finality fell {worst} blocks behind the best block");
	for (node, mark) in [&first, &second].into_iter().zip(marks) {
		let log = &node.log_text()[mark..];
		assert!(!log.contains("inside the vote window"), "{} split its votes:\n{log}", node.name);
	}
}
