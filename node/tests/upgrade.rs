//! A runtime upgrade on a running chain, end to end: on a four-validator devnet Alice sets a
//! second wasm of the runtime one `spec_version` up (built by `--features
//! checkpoint-node/test-runtime-upgrade`, as `scripts/test.sh` does) with
//! `sudo(system.setCode)`. Every node runs the new code and finality goes on across the
//! upgrade, also on a validator killed and restarted after it; a transaction signed for the
//! new version is included. Real `checkpoint-node` processes on 127.0.0.1.

mod common;

use codec::Encode;
use common::*;
use serde_json::json;

/// The `specVersion` of `node`'s best block.
fn spec_version(node: &Node) -> u64 {
	node.rpc("state_getRuntimeVersion", json!([]))["specVersion"].as_u64().unwrap()
}

#[test]
fn finality_goes_on_across_a_runtime_upgrade_and_a_restart_after_it() {
	#[cfg(feature = "test-runtime-upgrade")]
	let code = checkpoint_runtime::upgrade::WASM_BINARY.expect("the upgrade wasm is built");
	#[cfg(not(feature = "test-runtime-upgrade"))]
	let code: &[u8] = {
		assert_ne!(
			std::env::var("CI").as_deref(),
			Ok("true"),
			"CI builds the tests with --features checkpoint-node/test-runtime-upgrade"
		);
		eprintln!(
			"SKIPPED: needs --features checkpoint-node/test-runtime-upgrade (scripts/test.sh)"
		);
		return;
	};
	let dir = tempfile::tempdir().unwrap();
	let (mut nodes, _spec) = devnet(dir.path(), INTERVAL, &[]);
	let old = spec_version(&nodes[0]);
	assert_eq!(old, u64::from(checkpoint_runtime::VERSION.spec_version));

	let set_code = frame_system::Call::set_code { code: code.to_vec() };
	sudo(&nodes[0], checkpoint_runtime::RuntimeCall::System(set_code));
	let upgraded_at = wait_for("the new runtime", LONG, || {
		(spec_version(&nodes[0]) == old + 1).then(|| nodes[0].header_number(None))
	});
	eprintln!("runtime upgraded to spec version {} at block #{upgraded_at}", old + 1);

	// Every node runs the new code and finalizes past the upgrade block.
	for node in &nodes {
		node.wait_finalized(upgraded_at + 4 * INTERVAL, LONG);
		assert_eq!(spec_version(node), old + 1, "{} runs the new runtime", node.name);
	}
	// The gadget reads the same set from the new code.
	let set: sp_finality_checkpoint::AuthoritySet =
		state_call(&nodes[0], "CheckpointApi_current_set", None);
	assert_eq!((set.id, set.authorities.len()), (0, 4));

	// A validator killed and restarted after the upgrade executes the new code and votes on.
	let (now, _) = nodes[0].finalized();
	let restart_mark = nodes[3].log_text().len();
	nodes[3].restart();
	for node in &nodes {
		node.wait_finalized(now + 4 * INTERVAL, LONG);
	}
	nodes[3].wait_log(restart_mark, "📝 Stored signature: own vote", LONG);

	// A transaction signed for the new spec version is included.
	let alice = sp_keyring::Sr25519Keyring::Alice;
	let nonce = |node: &Node| -> u32 {
		let account = alice.to_account_id();
		state_call_with(node, "AccountNonceApi_account_nonce", &account.encode(), None)
	};
	let before = nonce(&nodes[0]);
	let remark = frame_system::Call::remark { remark: b"after the upgrade".to_vec() };
	submit_signed(&nodes[0], alice, remark.into());
	wait_for("the remark included", LONG, || (nonce(&nodes[0]) == before + 1).then_some(()));

	for node in &nodes {
		let log = node.log_text();
		assert!(!log.contains("Equivocation"), "{} saw an equivocation", node.name);
		assert!(!log.contains("Block import error"), "{}: {log}", node.name);
	}
}
