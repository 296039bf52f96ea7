//! Gossip: arbitrary bytes, and votes and certificates signed with real keys but with fuzzed
//! signers, indices, sets and links, through the real gossip validator into the state machine,
//! as the worker wires them (what the validator lets through is imported unverified).
//!
//! Checked after every message: bytes that do not decode cost `MALFORMED` and decoded ones do
//! not; a refused message stores nothing and moves nothing; finality never moves back and the
//! justified checkpoint stays at or above it; no validator holds more than two votes per
//! checkpoint of the window.

#![no_main]

use arbitrary::Arbitrary;
use codec::{DecodeAll, Encode};
use libfuzzer_sys::fuzz_target;
use sc_finality_checkpoint::{
	communication::{
		gossip::{cost, GossipValidator},
		GossipMessage,
	},
	CheckpointLink,
};
use sc_finality_checkpoint_fuzz::{common::*, *};
use sp_core::{Pair, H256};
use std::sync::Arc;

#[derive(Arbitrary, Debug)]
enum Message {
	Raw(Vec<u8>),
	Vote(SignedVote),
	Certificate(SignedCertificate),
}

fuzz_target!(|messages: Vec<Message>| {
	let storage = Arc::new(MemoryStorage::default());
	let mut finality = finality(validator_keys());
	finality.set_storage(storage.clone(), persistence_config());
	finality.restore_from_storage().expect("an empty store restores");
	let mut link = CheckpointLink::new(finality);
	let shared = link.handle();
	let (validator, _reports) = GossipValidator::<Block>::new(shared.clone());
	let stored = || {
		shared.persistence().expect("storage is set").flush().expect("memory store");
		storage.stored_votes()
	};

	for message in messages {
		let bytes = match message {
			Message::Raw(bytes) => bytes,
			Message::Vote(vote) => GossipMessage::Vote(vote.get()).encode(),
			Message::Certificate(certificate) => {
				GossipMessage::Certificate(certificate.get()).encode()
			}
		};
		let before = shared.view();
		let stored_before = stored();
		match validator.check(&bytes) {
			Err(rejection) => {
				let decodes = GossipMessage::<H256>::decode_all(&mut &bytes[..]).is_ok();
				assert_eq!(rejection == cost::MALFORMED, !decodes, "{rejection:?}");
				assert_eq!(stored(), stored_before, "a refused message was stored");
				assert_eq!(
					shared.view().finalized,
					before.finalized,
					"a refused message finalized"
				);
			}
			Ok(useful) => {
				let message = GossipMessage::<H256>::decode_all(&mut &bytes[..])
					.expect("the validator took only what decodes");
				if useful {
					match message {
						GossipMessage::Vote(vote) => {
							let _ = link.finality_mut().add_verified_vote(vote);
						}
						GossipMessage::Certificate(certificate) => {
							let _ = link.finality_mut().import_certificate(certificate);
						}
					}
				}
			}
		}
		let view = shared.view();
		assert!(view.finalized.number >= before.finalized.number, "finality moved back");
		assert!(view.justified.number >= view.finalized.number, "justified below finalized");
		let finality = link.finality();
		for key in validator_keys() {
			let held = finality.votes_of(&key.public().into()).len() as u64;
			assert!(held <= 2 * view.window, "{held} votes held of one validator");
		}
	}
});
