//! The validator's key: found in the authority set at every vote, and signing.
//!
//! The key is looked up in the keystore each time, not once at start, so a key inserted over
//! RPC (`author_insertKey`) or rotated in counts from the next vote, not the next restart.

use crate::state::VoterSet;
use codec::Encode;
use sp_core::crypto::ByteArray;
use sp_finality_checkpoint::{
	signing_payload, AuthorityId, AuthoritySignature, Link, ValidatorIndex, KEY_TYPE,
};
use sp_keystore::KeystorePtr;

/// Why a vote could not be signed.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
	/// The key is no longer in the keystore (removed between look-up and signing).
	#[error("checkpoint key {0} is not in the keystore; insert it again to vote")]
	KeyMissing(String),
	/// The keystore failed.
	#[error(
		"the keystore failed to sign a checkpoint vote: {0}; check its directory and permissions"
	)]
	Keystore(#[from] sp_keystore::Error),
}

/// The keystore of a validator; a node without one never votes.
#[derive(Clone)]
pub struct CheckpointKeystore(Option<KeystorePtr>);

impl CheckpointKeystore {
	/// Wraps `keystore` (`None` on a node that never votes).
	pub fn new(keystore: Option<KeystorePtr>) -> Self {
		Self(keystore)
	}

	/// Whether this node has a keystore to vote with.
	pub fn is_validator(&self) -> bool {
		self.0.is_some()
	}

	/// This node's key in `voters` and its index there, looked up now.
	pub fn local_key(&self, voters: &VoterSet) -> Option<(ValidatorIndex, AuthorityId)> {
		let keystore = self.0.as_ref()?;
		voters.authorities().iter().enumerate().find_map(|(i, id)| {
			keystore
				.has_keys(&[(id.to_raw_vec(), KEY_TYPE)])
				.then(|| (i as ValidatorIndex, id.clone()))
		})
	}

	/// Signs a vote for `link` on the chain with `genesis_hash` with `public`'s key.
	pub fn sign<H: Encode>(
		&self,
		public: &AuthorityId,
		genesis_hash: &H,
		link: &Link<H>,
	) -> Result<AuthoritySignature, SignError> {
		let missing = || SignError::KeyMissing(format!("{public:?}"));
		let keystore = self.0.as_ref().ok_or_else(missing)?;
		let payload = signing_payload(genesis_hash, link);
		keystore
			.ed25519_sign(KEY_TYPE, public.as_ref(), &payload)?
			.map(Into::into)
			.ok_or_else(missing)
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use sp_core::H256;
	use sp_finality_checkpoint::Checkpoint;
	use sp_keystore::{testing::MemoryKeystore, Keystore};
	use sp_runtime::RuntimeAppPublic;
	use std::sync::Arc;

	fn set(keys: &[sp_core::ed25519::Public]) -> VoterSet {
		VoterSet::new(0, keys.iter().map(|k| AuthorityId::from(*k)).collect()).unwrap()
	}

	fn link() -> Link<H256> {
		let target = Checkpoint::new(1, H256::repeat_byte(1));
		Link { set_id: 0, source: Checkpoint::new(0, H256::zero()), target }
	}

	#[test]
	fn a_key_inserted_later_counts_from_the_next_look_up() {
		let store = Arc::new(MemoryKeystore::new());
		let outsider = store.ed25519_generate_new(KEY_TYPE, None).unwrap();
		let other = sp_core::ed25519::Public::from_raw([7; 32]);
		let keystore = CheckpointKeystore::new(Some(store.clone()));
		assert!(keystore.is_validator());

		let mine = sp_core::ed25519::Public::from_raw([9; 32]);
		let voters = set(&[other, mine]);
		assert_eq!(keystore.local_key(&voters), None, "a key outside the set does not vote");
		let _ = outsider;

		// Inserted over RPC while running: found at the next vote.
		let inserted = store.ed25519_generate_new(KEY_TYPE, Some("//Inserted")).unwrap();
		let voters = set(&[other, inserted]);
		assert_eq!(keystore.local_key(&voters), Some((1, AuthorityId::from(inserted))));
	}

	#[test]
	fn signs_the_link_for_this_chain_only() {
		let store = Arc::new(MemoryKeystore::new());
		let public = AuthorityId::from(store.ed25519_generate_new(KEY_TYPE, None).unwrap());
		let keystore = CheckpointKeystore::new(Some(store));
		let genesis = H256::repeat_byte(0xaa);
		let signature = keystore.sign(&public, &genesis, &link()).unwrap();
		assert!(public.verify(&signing_payload(&genesis, &link()), &signature));
		assert!(!public.verify(&signing_payload(&H256::zero(), &link()), &signature));
	}

	#[test]
	fn no_keystore_or_no_key_is_a_clear_error() {
		let public = AuthorityId::from(sp_core::ed25519::Public::from_raw([3; 32]));
		let none = CheckpointKeystore::new(None);
		assert!(!none.is_validator());
		assert_eq!(none.local_key(&set(&[public.clone().into()])), None);
		assert!(matches!(
			none.sign(&public, &H256::zero(), &link()),
			Err(SignError::KeyMissing(_))
		));
		let empty = CheckpointKeystore::new(Some(Arc::new(MemoryKeystore::new())));
		assert!(matches!(
			empty.sign(&public, &H256::zero(), &link()),
			Err(SignError::KeyMissing(_))
		));
	}
}
