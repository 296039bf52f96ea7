//! Builders of the crate's unit tests: keys, sets, checkpoints, links, signed votes and
//! certificates, on the chain with genesis hash zero. One copy, for every module's tests.

use crate::VoterSet;
use sp_core::{ed25519, Pair, H256};
use sp_finality_checkpoint::{
	signing_payload, AuthorityId, Checkpoint, CheckpointCertificate, CheckpointSignature, Link,
	SetId,
};

/// The keys of seeds `seeds` (seed `s` is the secret `[s; 32]`).
pub(crate) fn keys(seeds: std::ops::Range<u8>) -> Vec<ed25519::Pair> {
	seeds.map(|s| ed25519::Pair::from_seed(&[s; 32])).collect()
}

/// The public keys of `keys`.
pub(crate) fn ids(keys: &[ed25519::Pair]) -> Vec<AuthorityId> {
	keys.iter().map(|k| AuthorityId::from(k.public())).collect()
}

/// Set `id` of `keys`, in order.
pub(crate) fn set(id: SetId, keys: &[ed25519::Pair]) -> VoterSet {
	VoterSet::new(id, ids(keys)).expect("keys given")
}

/// Checkpoint `number` of the one chain (genesis zero, then blocks named by their number).
pub(crate) fn cp(number: u64) -> Checkpoint<H256> {
	Checkpoint::new(number, H256::repeat_byte(number as u8))
}

/// The link `source -> target` of set `set_id` on that chain.
pub(crate) fn link(set_id: SetId, source: u64, target: u64) -> Link<H256> {
	Link { set_id, source: cp(source), target: cp(target) }
}

/// The vote of `keys[index]` for `link`.
pub(crate) fn vote(
	keys: &[ed25519::Pair],
	index: usize,
	link: Link<H256>,
) -> CheckpointSignature<H256> {
	let signature = keys[index].sign(&signing_payload(&H256::zero(), &link)).into();
	CheckpointSignature { link, validator_index: index as u32, signature }
}

/// The certificate of the first `signers` of `keys` on `link`.
pub(crate) fn certificate(
	keys: &[ed25519::Pair],
	signers: usize,
	link: Link<H256>,
) -> CheckpointCertificate<H256> {
	let payload = signing_payload(&H256::zero(), &link);
	let signatures = keys.iter().take(signers).enumerate();
	let signatures = signatures.map(|(i, k)| (i as u32, k.sign(&payload).into())).collect();
	CheckpointCertificate { link, signatures }
}
