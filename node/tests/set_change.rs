//! The runtime side of an authority set change on a real devnet: root removes a validator, the
//! session that drops it is signalled in a checkpoint block's header (`CKPT`
//! `ConsensusLog::ScheduledChange`), and the chain's pending and current sets follow through
//! `CheckpointApi` v2. The gadget does not enact changes yet (see the README), so finality goes
//! on with the genesis set. Real `checkpoint-node` processes on 127.0.0.1.

mod common;

use checkpoint_runtime::RuntimeCall;
use common::*;
use sp_finality_checkpoint::{find_scheduled_change, AuthorityId, AuthoritySet, PendingChange};
use sp_keyring::{Ed25519Keyring, Sr25519Keyring};
use sp_runtime::traits::Header as _;

/// Checkpoint interval of the devnet.
const INTERVAL: u64 = 2;

#[test]
fn removing_a_validator_is_signalled_in_a_checkpoint_block_and_the_chain_follows() {
	let dir = tempfile::tempdir().unwrap();
	let (nodes, _) = devnet(dir.path(), INTERVAL, &[]);
	let alice = &nodes[0];
	let genesis_set: AuthoritySet = state_call(alice, "CheckpointApi_current_set", None);
	assert_eq!(genesis_set.id, 0);
	assert_eq!(genesis_set.authorities.len(), 4);
	let dave: AuthorityId = Ed25519Keyring::Dave.public().into();
	assert!(genesis_set.authorities.contains(&dave));

	let remove =
		RuntimeCall::CollatorSelection(pallet_collator_selection::Call::remove_invulnerable {
			who: Sr25519Keyring::Dave.to_account_id(),
		});
	let from = alice.header_number(None);
	submit_signed(
		alice,
		Sr25519Keyring::Alice,
		RuntimeCall::Sudo(pallet_sudo::Call::sudo { call: Box::new(remove) }),
	);

	// Two session rotations (a minute each) take Dave out; the next checkpoint block signals it.
	let mut next = from + 1;
	let (signal_hash, signal_number, signalled) =
		wait_for("the set change signal", LONG * 2, || {
			let best = alice.header_number(None);
			while next <= best {
				let hash = alice.rpc("chain_getBlockHash", serde_json::json!([next]));
				let hash = hash.as_str().unwrap().to_string();
				let found = find_scheduled_change(&alice.header(Some(&hash)));
				next += 1;
				if let Some(set) = found {
					return Some((hash, next - 1, set));
				}
			}
			None
		});
	assert_eq!(
		signal_number % INTERVAL,
		0,
		"signalled in block #{signal_number}, not a checkpoint"
	);
	assert_eq!(signalled.id, 1);
	let expected: Vec<_> =
		genesis_set.authorities.iter().filter(|a| **a != dave).cloned().collect();
	assert_eq!(signalled.authorities, expected);

	let pending: Option<PendingChange<u32>> =
		state_call(alice, "CheckpointApi_pending_change", Some(&signal_hash));
	let pending = pending.expect("the change is pending in the signalling block");
	assert_eq!(pending.set, signalled);
	assert_eq!(u64::from(pending.signalled_at), signal_number);
	assert_eq!(*alice.header(Some(&signal_hash)).number() as u64, signal_number);

	// One interval later the chain treats it as enacted.
	let current = wait_for("the chain to enact set 1", LONG, || {
		let set: AuthoritySet = state_call(alice, "CheckpointApi_current_set", None);
		(set.id == 1).then_some(set)
	});
	assert_eq!(current, signalled);
	let none: Option<PendingChange<u32>> = state_call(alice, "CheckpointApi_pending_change", None);
	assert_eq!(none, None);

	// Finality goes on past the signal (with the genesis set, which the gadget still holds).
	for node in &nodes {
		node.wait_finalized(signal_number + INTERVAL, LONG);
	}
}
