//! The way out of a set that is gone for good, end to end: two of four validators die for good,
//! finality stops, and root removes them from the session set and forces the two survivors in
//! (`checkpoint.forceChange` with a delay). Every node puts the new set in force when it
//! imports the block the delay names, and finality resumes by the new set alone. Real
//! `checkpoint-node` processes on 127.0.0.1.

mod common;

use checkpoint_runtime::RuntimeCall;
use common::*;
use sp_finality_checkpoint::{AuthorityId, AuthoritySet, CheckpointCertificate};
use sp_keyring::{Ed25519Keyring, Sr25519Keyring};

#[test]
fn root_forces_a_new_set_when_half_of_the_old_one_is_gone_for_good() {
	let dir = tempfile::tempdir().unwrap();
	let (mut nodes, _) = devnet(dir.path(), INTERVAL, &[]);
	nodes[2].kill();
	nodes[3].kill();
	// Two of four cannot finalize: finality stops within a checkpoint or two.
	let (stalled, _) = nodes[0].finalized();
	let best = nodes[0].header_number(None);
	wait_for("eight more blocks", LONG, || {
		(nodes[0].header_number(None) >= best + 8).then_some(())
	});
	let (still, _) = nodes[0].finalized();
	assert!(still <= stalled + 2 * INTERVAL, "finality went on from #{stalled} to #{still}");

	for who in [Sr25519Keyring::Charlie, Sr25519Keyring::Dave] {
		let remove =
			pallet_collator_selection::Call::remove_invulnerable { who: who.to_account_id() };
		sudo(&nodes[0], RuntimeCall::CollatorSelection(remove));
	}
	let survivors: Vec<AuthorityId> =
		[Ed25519Keyring::Alice, Ed25519Keyring::Bob].iter().map(|k| k.public().into()).collect();
	let force = pallet_checkpoint::Call::force_change {
		authorities: survivors.clone().try_into().unwrap(),
		delay: 2,
	};
	sudo(&nodes[0], RuntimeCall::Checkpoint(force));

	let forced = wait_for("the chain to hold the survivors", LONG, || {
		let set: AuthoritySet = state_call(&nodes[0], "CheckpointApi_current_set", None);
		(set.authorities == survivors).then_some(set)
	});
	let line = format!("⚡ Authority set {} (2 validators) forced in at block #", forced.id);
	for node in &nodes[..2] {
		node.wait_log(0, &line, LONG);
	}
	// Finality resumes by the forced set alone.
	let (resumed, hash) = nodes[0].wait_finalized(still + 3 * INTERVAL, LONG);
	nodes[1].wait_finalized(resumed, LONG);
	let bytes = nodes[0].ckpt_justification(&hash).expect("a certificate");
	let certificate = CheckpointCertificate::<sp_core::H256>::from_justification(&bytes).unwrap();
	assert_eq!(certificate.link.set_id, forced.id);
	assert_eq!(certificate.signatures.len(), 2);
}
