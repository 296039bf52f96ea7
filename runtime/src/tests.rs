//! Equivocation reports on the real runtime, from the `local_testnet` genesis (Alice, Bob,
//! Charlie, Dave): a report is checked against pallet-session's historical key-ownership proofs
//! and the sets' sessions, goes through pallet-offences once, and removes the offender from the
//! validators from the session after next on; bad reports are refused with their reason.

use crate::{
	genesis_config_presets::preset_config, AllPalletsWithSystem, Checkpoint, CollatorSelection,
	Runtime, RuntimeEvent, RuntimeOrigin, Session, System,
};
use frame_support::{assert_noop, assert_ok, traits::OnInitialize};
use pallet_checkpoint::Error;
use sp_core::H256;
use sp_finality_checkpoint::{
	runtime_decl_for_checkpoint_api::CheckpointApiV3, signing_payload, AuthorityId,
	Checkpoint as Cp, EquivocationProof, Link, SetId,
};
use sp_keyring::{Ed25519Keyring, Sr25519Keyring};
use sp_runtime::{
	transaction_validity::{InvalidTransaction, TransactionSource},
	BuildStorage,
};
use sp_session::MembershipProof;

/// The genesis hash the test chain's block 1 names as its parent; votes are signed for it.
const GENESIS: H256 = H256::repeat_byte(7);

/// Runs the blocks up to `number` as far as the report checks need: every pallet's
/// `on_initialize` (pallet-session rotates every 20 blocks), no extrinsics.
fn run_to_block(number: u32) {
	while System::block_number() < number {
		let next = System::block_number() + 1;
		let parent = if next == 1 { GENESIS } else { H256::repeat_byte(next as u8) };
		System::initialize(&next, &parent, &Default::default());
		AllPalletsWithSystem::on_initialize(next);
	}
}

/// The `local_testnet` chain at block 1.
fn new_chain() -> sp_io::TestExternalities {
	let config = preset_config(sp_genesis_builder::LOCAL_TESTNET_RUNTIME_PRESET);
	let mut ext = sp_io::TestExternalities::new(config.build_storage().unwrap());
	ext.execute_with(|| run_to_block(1));
	ext
}

/// A vote of `key` in set `set_id` from epoch `source` to epoch `target` (block hashes made up
/// from `fork`), signed for the test chain.
fn vote(
	key: Ed25519Keyring,
	set_id: SetId,
	source: u64,
	target: u64,
	fork: u8,
) -> (Link<H256>, sp_finality_checkpoint::AuthoritySignature) {
	let link = Link {
		set_id,
		source: Cp::new(source, H256::repeat_byte(source as u8)),
		target: Cp::new(target, H256::repeat_byte(fork)),
	};
	let signature = key.sign(&signing_payload(&GENESIS, &link));
	(link, signature.into())
}

/// Bob's two votes for target epoch `target` of set `set_id` on two forks: E1.
fn double_vote(set_id: SetId, target: u64) -> EquivocationProof<H256> {
	EquivocationProof {
		offender: Ed25519Keyring::Bob.public().into(),
		first: vote(Ed25519Keyring::Bob, set_id, target - 1, target, 1),
		second: vote(Ed25519Keyring::Bob, set_id, target - 1, target, 2),
	}
}

/// The runtime API's key-ownership proof of `key` for set `set_id`, decoded.
fn ownership(set_id: SetId, key: Ed25519Keyring) -> Option<MembershipProof> {
	let authority: AuthorityId = key.public().into();
	<Runtime as CheckpointApiV3<crate::Block>>::generate_key_ownership_proof(set_id, authority)
		.map(|opaque| opaque.decode().expect("a historical membership proof"))
}

/// Reports `proof` as the block author would include it.
fn report(
	proof: EquivocationProof<H256>,
	ownership: MembershipProof,
) -> frame_support::dispatch::DispatchResultWithPostInfo {
	Checkpoint::report_equivocation_unsigned(RuntimeOrigin::none(), Box::new(proof), ownership)
}

/// The report as an unsigned call, for `ValidateUnsigned`.
fn call(
	proof: EquivocationProof<H256>,
	ownership: MembershipProof,
) -> pallet_checkpoint::Call<Runtime> {
	pallet_checkpoint::Call::report_equivocation_unsigned {
		equivocation_proof: Box::new(proof),
		key_owner_proof: ownership,
	}
}

#[test]
fn a_valid_report_is_accepted_once_and_removes_the_offender_at_the_next_sessions() {
	new_chain().execute_with(|| {
		let bob = Sr25519Keyring::Bob.to_account_id();
		let bob_key: AuthorityId = Ed25519Keyring::Bob.public().into();
		let proof = ownership(0, Ed25519Keyring::Bob).expect("Bob is a validator of set 0");
		assert_eq!((proof.session, proof.validator_count), (0, 4));

		// The pool takes it from the local node, not from the network.
		let local = Checkpoint::validate_unsigned(
			TransactionSource::Local,
			&call(double_vote(0, 4), proof.clone()),
		);
		assert!(local.is_ok(), "{local:?}");
		let external = Checkpoint::validate_unsigned(
			TransactionSource::External,
			&call(double_vote(0, 4), proof.clone()),
		);
		assert_eq!(external, Err(InvalidTransaction::Call.into()));

		assert_ok!(report(double_vote(0, 4), proof.clone()));
		let events: Vec<RuntimeEvent> = System::events().into_iter().map(|r| r.event).collect();
		assert!(events.contains(&RuntimeEvent::Checkpoint(
			pallet_checkpoint::Event::EquivocationReported {
				offender: bob_key.clone(),
				set_id: 0,
				epoch: 4
			}
		)));
		assert!(events.iter().any(|e| matches!(e, RuntimeEvent::Offences(_))), "{events:?}");
		assert!(!pallet_collator_selection::Invulnerables::<Runtime>::get().contains(&bob));
		let included = <Runtime as CheckpointApiV3<crate::Block>>::equivocation_reported(
			bob_key.clone(),
			0,
			sp_finality_checkpoint::Epoch(4),
		);
		assert_eq!(included, Some(1), "the node reads that block 1 has the report");

		// The same offence again: refused in the pool and in the block.
		let again = Checkpoint::validate_unsigned(
			TransactionSource::Local,
			&call(double_vote(0, 4), proof.clone()),
		);
		assert_eq!(again, Err(InvalidTransaction::Stale.into()));
		assert_noop!(report(double_vote(0, 4), proof), Error::<Runtime>::DuplicateOffenceReport);

		// Session 1 was queued with Bob before the report; session 2 (block 40) is without him,
		// and the checkpoint set of session 2 is signalled in block 41 without his key and
		// becomes set 1 on chain in block 42.
		run_to_block(20);
		assert!(Session::validators().contains(&bob));
		run_to_block(42);
		assert!(!Session::validators().contains(&bob));
		let set = Checkpoint::current_set();
		assert_eq!(set.id, 1);
		assert_eq!(set.authorities.len(), 3);
		assert!(!set.authorities.contains(&bob_key));
		assert_eq!(pallet_collator_selection::Invulnerables::<Runtime>::get().len(), 3);
	});
}

#[test]
fn forged_and_non_conflicting_reports_are_refused() {
	new_chain().execute_with(|| {
		let proof = ownership(0, Ed25519Keyring::Bob).unwrap();

		// Charlie's signature under Bob's name.
		let mut forged = double_vote(0, 4);
		forged.second.1 = vote(Ed25519Keyring::Charlie, 0, 3, 4, 2).1;
		assert_noop!(report(forged, proof.clone()), Error::<Runtime>::BadSignature);

		// Signed for another chain.
		let mut foreign = double_vote(0, 4);
		let link = foreign.second.0;
		foreign.second.1 = Ed25519Keyring::Bob.sign(&signing_payload(&H256::zero(), &link)).into();
		assert_noop!(report(foreign, proof.clone()), Error::<Runtime>::BadSignature);

		// The same vote twice, and two votes in a row (3 -> 4, 4 -> 5): no rule broken.
		let mut same = double_vote(0, 4);
		same.second = same.first.clone();
		assert_noop!(report(same, proof.clone()), Error::<Runtime>::NoConflict);
		let mut in_a_row = double_vote(0, 4);
		in_a_row.second = vote(Ed25519Keyring::Bob, 0, 4, 5, 2);
		assert_noop!(report(in_a_row, proof.clone()), Error::<Runtime>::NoConflict);

		// A surround (E2) is an equivocation too.
		let mut surround = double_vote(0, 6);
		surround.first = vote(Ed25519Keyring::Bob, 0, 2, 7, 1);
		assert_ok!(report(surround, proof.clone()));

		// Another validator's key-ownership proof does not prove Bob's key.
		let charlie = ownership(0, Ed25519Keyring::Charlie).unwrap();
		assert_noop!(
			report(double_vote(0, 8), charlie),
			Error::<Runtime>::InvalidKeyOwnershipProof
		);
	});
}

#[test]
fn reports_of_a_wrong_set_or_another_session_are_refused() {
	new_chain().execute_with(|| {
		let session_0 = ownership(0, Ed25519Keyring::Bob).unwrap();

		// Votes of two sets, and of a set the chain never had.
		let mut two_sets = double_vote(0, 4);
		two_sets.second = vote(Ed25519Keyring::Bob, 1, 3, 4, 2);
		assert_noop!(report(two_sets, session_0.clone()), Error::<Runtime>::VotesOfTwoSets);
		assert_noop!(report(double_vote(1, 4), session_0.clone()), Error::<Runtime>::UnknownSet);
		assert_eq!(ownership(1, Ed25519Keyring::Bob), None, "set 1 is not current");

		// Dave leaves by root: set 1 (Alice, Bob, Charlie) takes over in session 2.
		let dave = Sr25519Keyring::Dave.to_account_id();
		assert_ok!(CollatorSelection::remove_invulnerable(RuntimeOrigin::root(), dave));
		run_to_block(42);
		assert_eq!(Checkpoint::set_id(), 1);
		let session_2 = ownership(1, Ed25519Keyring::Bob).expect("Bob is in set 1");
		assert_eq!((session_2.session, session_2.validator_count), (2, 3));

		// Set 1's votes with the proof of session 0, when set 1 did not exist: refused.
		assert_noop!(
			report(double_vote(1, 90), session_0.clone()),
			Error::<Runtime>::SessionOutsideSet
		);
		// With the proof of its own session: accepted. Set 0's votes with session 0's proof,
		// still in the historical window: accepted.
		assert_ok!(report(double_vote(1, 90), session_2));
		assert_ok!(report(double_vote(0, 60), session_0));
	});
}
