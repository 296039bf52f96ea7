//! The certificate and finality-proof verifiers, against an oracle: a certificate verifies
//! exactly when it is of set 0, finalizes (its target is the checkpoint after its source), and
//! has at least the threshold and at most the set's size of signatures, all valid and of
//! distinct validators. A finality proof with no set change verifies only with such a
//! certificate; arbitrary bytes decoded as a certificate or a proof never panic a verifier.

#![no_main]

use arbitrary::Arbitrary;
use codec::DecodeAll;
use libfuzzer_sys::fuzz_target;
use sc_finality_checkpoint::{verify_finality_proof, AuthoritySets, FinalityProof};
use sc_finality_checkpoint_fuzz::{common::*, *};
use sp_core::H256;
use sp_finality_checkpoint::{signing_payload, CheckpointCertificate};
use sp_runtime::RuntimeAppPublic;
use std::collections::BTreeSet;

#[derive(Arbitrary, Debug)]
enum Input {
	Certificate { certificate: SignedCertificate, interval: u8 },
	RawCertificate(Vec<u8>),
	RawProof { bytes: Vec<u8>, interval: u8 },
}

/// What the certificate rules say, checked signature by signature here.
fn valid(certificate: &CheckpointCertificate<H256>) -> bool {
	let set = voter_set(validator_keys(), 0);
	let link = &certificate.link;
	let payload = signing_payload(&GENESIS, link);
	let mut signers = BTreeSet::new();
	link.set_id == 0
		&& link.target.number == link.source.number.next()
		&& (set.threshold()..=N).contains(&certificate.signatures.len())
		&& certificate.signatures.iter().all(|(index, signature)| {
			signers.insert(*index)
				&& set
					.authorities()
					.get(*index as usize)
					.is_some_and(|key| key.verify(&payload, signature))
		})
}

fn check(certificate: CheckpointCertificate<H256>, interval: u8) {
	let sets = AuthoritySets::<H256>::new(voter_set(validator_keys(), 0));
	let verified = sets.verify_certificate(&GENESIS, &certificate);
	assert_eq!(verified.is_ok(), valid(&certificate), "{verified:?} for {certificate:?}");
	let proof = FinalityProof::<Header> { changes: Vec::new(), certificate: certificate.clone() };
	let proven =
		verify_finality_proof(&GENESIS, voter_set(validator_keys(), 0), interval.into(), &proof);
	if let Ok((checkpoint, set)) = proven {
		assert!(verified.is_ok(), "a proof with a certificate that does not verify: {proof:?}");
		assert_eq!(checkpoint, certificate.link.source);
		assert_eq!(set.set_id(), 0);
	}
}

fuzz_target!(|input: Input| match input {
	Input::Certificate { certificate, interval } => check(certificate.get(), interval),
	Input::RawCertificate(bytes) => {
		if let Ok(certificate) = CheckpointCertificate::<H256>::decode_all(&mut &bytes[..]) {
			check(certificate, 5);
		}
	}
	Input::RawProof { bytes, interval } => {
		if let Ok(proof) = FinalityProof::<Header>::decode_all(&mut &bytes[..]) {
			let set = voter_set(validator_keys(), 0);
			let _ = verify_finality_proof(&GENESIS, set, interval.into(), &proof);
		}
	}
});
