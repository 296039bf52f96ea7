//! What the fuzz targets share: the gadget's test fixtures (keys, signed votes, the in-memory
//! store), and fuzzer-chosen checkpoints, links, votes and certificates that are signed with
//! real keys, so that inputs get past the signature checks into the rules behind them.

#[path = "../../client/finality-checkpoint/tests/common/mod.rs"]
pub mod common;

use arbitrary::Arbitrary;
use common::{cp, GENESIS};
use sp_core::{ed25519, Pair, H256};
use sp_finality_checkpoint::{
	signing_payload, Checkpoint, CheckpointCertificate, CheckpointSignature, Link,
};
use std::sync::OnceLock;

/// Validators in the fuzzed set.
pub const N: usize = 4;

/// The block type of the fuzzed chain.
pub type Block = sp_runtime::generic::Block<Header, sp_runtime::OpaqueExtrinsic>;
/// The header type of the fuzzed chain.
pub type Header = sp_runtime::generic::Header<u64, sp_runtime::traits::BlakeTwo256>;

/// The keys of the `N` validators, then one outsider's.
pub fn all_keys() -> &'static [ed25519::Pair] {
	static KEYS: OnceLock<Vec<ed25519::Pair>> = OnceLock::new();
	KEYS.get_or_init(|| common::keys(N + 1))
}

/// The validators' keys.
pub fn validator_keys() -> &'static [ed25519::Pair] {
	&all_keys()[..N]
}

/// A checkpoint: one of three forks, numbers up to 47 (beyond the default window of 32).
#[derive(Arbitrary, Debug, Clone, Copy)]
pub struct FuzzCheckpoint {
	fork: u8,
	number: u8,
}

impl FuzzCheckpoint {
	/// The checkpoint.
	pub fn get(self) -> Checkpoint<H256> {
		cp(self.fork % 3, u64::from(self.number % 48))
	}
}

/// A link, mostly of set 0 (the only one enacted), now and then of sets 1 and 2.
#[derive(Arbitrary, Debug, Clone, Copy)]
pub struct FuzzLink {
	set: u8,
	source: FuzzCheckpoint,
	target: FuzzCheckpoint,
}

impl FuzzLink {
	/// The link.
	pub fn get(self) -> Link<H256> {
		let set_id = if self.set < 224 { 0 } else { u64::from(self.set % 3) };
		Link { set_id, source: self.source.get(), target: self.target.get() }
	}
}

/// A vote signed by one of the keys (the outsider's included) under one of the indices (two
/// beyond the set included).
#[derive(Arbitrary, Debug, Clone, Copy)]
pub struct SignedVote {
	signer: u8,
	index: u8,
	link: FuzzLink,
}

impl SignedVote {
	/// The signed vote.
	pub fn get(self) -> CheckpointSignature<H256> {
		let key = &all_keys()[self.signer as usize % (N + 1)];
		common::vote(key, u32::from(self.index) % (N as u32 + 2), self.link.get())
	}
}

/// A certificate of up to eight signatures, each by one of the keys under one of the indices.
#[derive(Arbitrary, Debug, Clone)]
pub struct SignedCertificate {
	signatures: Vec<(u8, u8)>,
	link: FuzzLink,
}

impl SignedCertificate {
	/// The signed certificate.
	pub fn get(&self) -> CheckpointCertificate<H256> {
		let link = self.link.get();
		let payload = signing_payload(&GENESIS, &link);
		let signatures = self
			.signatures
			.iter()
			.take(8)
			.map(|&(signer, index)| {
				let key = &all_keys()[signer as usize % (N + 1)];
				(u32::from(index) % (N as u32 + 2), key.sign(&payload).into())
			})
			.collect();
		CheckpointCertificate { link, signatures }
	}
}

/// Whether checkpoint `a` is an ancestor of (or is) `b` in the fuzzed tree, where every fork
/// leaves the main chain at genesis and a checkpoint's hash starts with its fork's number.
pub fn is_ancestor(a: &Checkpoint<H256>, b: &Checkpoint<H256>) -> bool {
	a.number.0 == 0 || (a.number <= b.number && a.hash.0[0] == b.hash.0[0])
}
