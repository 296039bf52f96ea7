//! Persistence (stored, restored, the watermark, pruning, the buffer and the guard) and the
//! bad-input cases, on real kvdb-rocksdb databases in temporary directories.

mod common;

use common::*;
use sc_finality_checkpoint::{
	store::columns, CheckpointDB, CheckpointFinality, CheckpointPersistenceConfig,
	CheckpointStorageAdapter, EnactedSet, Error, FinalityConfig,
};
use sp_core::{Pair, H256};
use sp_finality_checkpoint::{CheckpointCertificate, Epoch, Link};
use std::{
	path::Path,
	sync::Arc,
	time::{Duration, Instant},
};

const N: usize = 4;

/// A state machine for four validators on the database at `path`, restored.
fn restore(path: &Path, genesis: H256) -> sc_finality_checkpoint::Result<()> {
	let db = Arc::new(CheckpointDB::new(path)?);
	let mut finality =
		CheckpointFinality::new(genesis, voter_set(&keys(N), 0), FinalityConfig::default());
	finality.set_storage(Arc::new(CheckpointStorageAdapter::new(db)), persistence_config());
	finality.restore_from_storage().map(drop)
}

/// Three of four validators vote `k-1 -> k` for every `k` in `1..=upto`: finalizes `upto - 1`.
fn drive(finality: &mut CheckpointFinality<H256>, upto: u64) {
	let keys = keys(N);
	for k in 1..=upto {
		for v in votes(&keys, 3, link(cp(0, k - 1), cp(0, k))) {
			finality.add_checkpoint_signature(v).unwrap();
		}
	}
}

fn flush(finality: &CheckpointFinality<H256>) {
	finality.persistence().unwrap().flush().unwrap();
}

fn keys_in(db: &CheckpointDB, column: u32) -> u64 {
	db.stats().unwrap()[column as usize].keys
}

#[test]
fn signatures_and_certificates_are_persisted() {
	let dir = tempfile::tempdir().unwrap();
	let mut finality = open(dir.path(), &common::keys(N));
	drive(&mut finality, 3);
	assert_eq!(finality.last_finalized(), cp(0, 2));
	flush(&finality);
	drop(finality);

	let db = CheckpointDB::new(dir.path()).unwrap();
	assert_eq!(keys_in(&db, columns::SIGNATURES), 9);
	assert_eq!(keys_in(&db, columns::CERTIFICATES), 2);
	let certificate: CheckpointCertificate<H256> = db.certificate(Epoch(2)).unwrap().unwrap();
	assert_eq!(certificate.link, link(cp(0, 2), cp(0, 3)));
	assert_eq!(certificate.signatures.iter().map(|(i, _)| *i).collect::<Vec<_>>(), vec![0, 1, 2]);
}

#[test]
fn reopened_db_restores_exactly_the_state() {
	let dir = tempfile::tempdir().unwrap();
	let keys = keys(N);
	let mut finality = open(dir.path(), &common::keys(N));
	drive(&mut finality, 2);
	// Above finality: the three votes for 2, then one vote and one own vote for 3.
	for v in votes(&keys, 1, link(cp(0, 2), cp(0, 3))) {
		finality.add_checkpoint_signature(v).unwrap();
	}
	let own = finality.own_vote_link(cp(0, 3), |_| true).unwrap();
	finality.record_own_vote(vote(&keys[3], 3, own)).unwrap();
	flush(&finality);
	let before = (
		finality.last_finalized(),
		finality.highest_justified(),
		finality.guard(),
		keys.iter().map(|k| finality.votes_of(&k.public().into())).collect::<Vec<_>>(),
	);
	drop(finality);

	let restored = open(dir.path(), &common::keys(N));
	let after = (
		restored.last_finalized(),
		restored.highest_justified(),
		restored.guard(),
		keys.iter().map(|k| restored.votes_of(&k.public().into())).collect::<Vec<_>>(),
	);
	assert_eq!(before, after);
	assert_eq!(after.3.iter().map(Vec::len).sum::<usize>(), 5);
}

#[test]
fn finality_watermark_survives_and_never_moves_backwards() {
	let dir = tempfile::tempdir().unwrap();
	let mut finality = open(dir.path(), &common::keys(N));
	drive(&mut finality, 5);
	assert_eq!(finality.last_finalized(), cp(0, 4));
	let old = finality.create_checkpoint_certificate(&link(cp(0, 4), cp(0, 5))).unwrap();
	drop(finality);

	let mut finality = open(dir.path(), &common::keys(N));
	assert_eq!(finality.last_finalized(), cp(0, 4));
	assert_eq!(finality.highest_justified(), cp(0, 5));
	// An old certificate moves nothing, in memory or on disk.
	let stale = CheckpointCertificate { link: link(cp(0, 2), cp(0, 3)), ..old };
	assert!(!finality.advance_finality(stale.clone()).unwrap());
	assert_eq!(finality.last_finalized(), cp(0, 4));
	drop(finality);

	let db = CheckpointDB::new(dir.path()).unwrap();
	db.initialise(&GENESIS).unwrap();
	let err = db.write_certificate(&stale, &cp(0, 3), None).unwrap_err();
	assert!(matches!(err, Error::WatermarkRegression { stored: 4, new: 2, .. }), "{err}");
	drop(db);
	assert_eq!(open(dir.path(), &common::keys(N)).last_finalized(), cp(0, 4));
}

#[test]
fn the_first_certificate_in_a_range_is_found_by_a_range_read() {
	let dir = tempfile::tempdir().unwrap();
	let db = CheckpointDB::new(dir.path()).unwrap();
	db.initialise(&GENESIS).unwrap();
	let at = |n| CheckpointCertificate { link: link(cp(0, n), cp(0, n + 1)), signatures: vec![] };
	for n in [3, 300, 70_000] {
		db.write_certificate(&at(n), &cp(0, n + 1), None).unwrap();
	}
	let first = |from, to| {
		let found = db.first_certificate_in::<H256>(Epoch(from), Epoch(to));
		found.unwrap().map(|c| c.link.source.number.0)
	};
	assert_eq!(first(0, 2), None);
	assert_eq!(first(0, 3), Some(3));
	assert_eq!(first(3, 3), Some(3));
	assert_eq!(first(4, 299), None);
	assert_eq!(first(4, u64::MAX), Some(300));
	assert_eq!(first(301, 100_000), Some(70_000));
	assert_eq!(first(70_001, u64::MAX), None);
}

#[test]
fn pruning_keeps_exactly_retention_checkpoints() {
	let dir = tempfile::tempdir().unwrap();
	let mut finality = open(dir.path(), &common::keys(N));
	drive(&mut finality, 21);
	flush(&finality);
	assert_eq!(finality.last_finalized(), cp(0, 20));
	let persistence = finality.persistence().unwrap().clone();
	let outcome = persistence.prune_old_checkpoints().unwrap();
	assert_eq!(outcome.pruned_below, Epoch(15));
	assert_eq!(outcome.checkpoints, 15);
	// A second prune has nothing to do.
	assert_eq!(persistence.prune_old_checkpoints().unwrap().checkpoints, 0);
	drop((finality, persistence));

	let db = CheckpointDB::new(dir.path()).unwrap();
	for n in 1..=20u64 {
		let kept = db.certificate::<H256>(Epoch(n)).unwrap().is_some();
		assert_eq!(kept, n >= 15, "certificate {n}");
	}
	// Votes for targets 15..=21 remain: three per checkpoint.
	assert_eq!(keys_in(&db, columns::SIGNATURES), 7 * 3);
}

#[test]
fn pruning_keeps_certificates_of_set_changes() {
	let dir = tempfile::tempdir().unwrap();
	let mut finality = open(dir.path(), &common::keys(N));
	drive(&mut finality, 3);
	drop(finality);
	let db = CheckpointDB::new(dir.path()).unwrap();
	db.initialise(&GENESIS).unwrap();
	// The finality of checkpoint 3 enacts set 1; then set 1 finalizes on to 30.
	let change = CheckpointCertificate {
		link: Link { set_id: 0, source: cp(0, 3), target: cp(0, 4) },
		signatures: vec![],
	};
	let set_1 = EnactedSet {
		id: 1,
		authorities: voter_set(&keys(N), 1).authorities().to_vec(),
		enacted_by: Some(cp(0, 3)),
		forced: false,
	};
	db.write_certificate(&change, &cp(0, 4), Some(std::slice::from_ref(&set_1))).unwrap();
	for n in 4..30 {
		let cert = CheckpointCertificate {
			link: Link { set_id: 1, source: cp(0, n), target: cp(0, n + 1) },
			signatures: vec![],
		};
		db.write_certificate(&cert, &cp(0, n + 1), None).unwrap();
	}
	db.prune_old_checkpoints::<H256>(5).unwrap();
	let kept: Vec<u64> =
		(1..30).filter(|n| db.certificate::<H256>(Epoch(*n)).unwrap().is_some()).collect();
	assert_eq!(kept, vec![3, 24, 25, 26, 27, 28, 29]);
	assert_eq!(db.load_state::<H256>(8).unwrap().authority_sets, vec![set_1]);
	assert_eq!(db.set_changes().unwrap(), vec![Epoch(3)]);
}

#[test]
fn flush_writes_the_buffered_votes() {
	let dir = tempfile::tempdir().unwrap();
	let keys = keys(N);
	let mut finality = open(dir.path(), &common::keys(N));
	for v in votes(&keys, 2, link(cp(0, 0), cp(0, 1))) {
		finality.add_checkpoint_signature(v).unwrap();
	}
	let persistence = finality.persistence().unwrap().clone();
	assert_eq!(persistence.pending_votes(), 2);

	let start = Instant::now();
	let early = persistence.maintenance_at(start + Duration::from_secs(1)).unwrap();
	assert_eq!(early.flushed, None);
	assert_eq!(persistence.pending_votes(), 2);
	let due = persistence.maintenance_at(start + Duration::from_secs(11)).unwrap();
	assert_eq!(due.flushed, Some(2));
	assert_eq!(due.pruned, None);
	assert_eq!(persistence.pending_votes(), 0);
	drop((finality, persistence));

	let db = CheckpointDB::new(dir.path()).unwrap();
	assert_eq!(keys_in(&db, columns::SIGNATURES), 2);
}

#[test]
fn unflushed_votes_are_lost_but_own_votes_and_guard_are_not() {
	let dir = tempfile::tempdir().unwrap();
	let keys = keys(N);
	let mut finality = open(dir.path(), &common::keys(N));
	finality.add_checkpoint_signature(vote(&keys[0], 0, link(cp(0, 0), cp(0, 1)))).unwrap();
	let own = finality.own_vote_link(cp(0, 1), |_| true).unwrap();
	finality.record_own_vote(vote(&keys[3], 3, own)).unwrap();
	drop(finality); // a crash: no flush

	let mut restored = open(dir.path(), &common::keys(N));
	assert_eq!(restored.votes_of(&keys[0].public().into()), vec![]);
	assert_eq!(restored.votes_of(&keys[3].public().into()).len(), 1);
	assert_eq!(restored.guard().target, Epoch(1));
	// The restored guard forbids a second vote for target 1, on any fork.
	assert_eq!(restored.own_vote_link(cp(1, 1), |_| true), None);
	assert!(matches!(
		restored.record_own_vote(vote(&keys[3], 3, link(cp(0, 0), cp(1, 1)))),
		Err(Error::OwnVoteRefused { .. })
	));
}

#[test]
fn guard_file_is_authoritative_over_the_db_copy() {
	let dir = tempfile::tempdir().unwrap();
	let keys = keys(N);
	let mut finality = open(dir.path(), &common::keys(N));
	let own = finality.own_vote_link(cp(0, 1), |_| true).unwrap();
	finality.record_own_vote(vote(&keys[3], 3, own)).unwrap();
	drop(finality);
	// Simulate a power loss that lost the (unsynced) DB but not the fsynced guard file.
	let guard = std::fs::read(dir.path().join(sc_finality_checkpoint::GUARD_FILE_NAME)).unwrap();
	std::fs::remove_dir_all(dir.path()).unwrap();
	std::fs::create_dir_all(dir.path()).unwrap();
	std::fs::write(dir.path().join(sc_finality_checkpoint::GUARD_FILE_NAME), guard).unwrap();

	let restored = open(dir.path(), &common::keys(N));
	assert_eq!(restored.guard().target, Epoch(1));
	assert_eq!(restored.own_vote_link(cp(0, 1), |_| true), None);
}

#[test]
fn foreign_genesis_is_refused_and_nothing_changes() {
	let dir = tempfile::tempdir().unwrap();
	let mut finality = open(dir.path(), &common::keys(N));
	drive(&mut finality, 3);
	drop(finality);

	let err = restore(dir.path(), H256::repeat_byte(0x01)).unwrap_err();
	assert!(matches!(err, Error::GenesisMismatch { .. }), "{err}");
	let message = err.to_string();
	assert!(message.contains(&dir.path().display().to_string()), "{message}");
	assert!(message.contains("purge-chain"), "{message}");
	assert_eq!(open(dir.path(), &common::keys(N)).last_finalized(), cp(0, 2));
}

#[test]
fn future_schema_version_is_refused() {
	let dir = tempfile::tempdir().unwrap();
	drop(open(dir.path(), &common::keys(N)));
	raw_put(dir.path(), columns::META, b"schema_version", &99u32.to_le_bytes());

	let err = restore(dir.path(), GENESIS).unwrap_err();
	assert!(matches!(err, Error::UnsupportedSchema { found: 99, supported: 3, .. }), "{err}");
	assert!(err.to_string().contains(&dir.path().display().to_string()));
	assert_eq!(
		raw_get(dir.path(), columns::META, b"schema_version"),
		Some(99u32.to_le_bytes().to_vec())
	);
}

/// Every record of the database at `path`, by column, opened raw (no schema check).
fn raw_records(path: &Path) -> Vec<(u32, Vec<u8>, Vec<u8>)> {
	let db = kvdb_rocksdb::Database::open(
		&kvdb_rocksdb::DatabaseConfig::with_columns(columns::NUM_COLUMNS),
		path,
	)
	.unwrap();
	let mut records = Vec::new();
	for column in 0..columns::NUM_COLUMNS {
		for entry in db.iter(column) {
			let (key, value) = entry.unwrap();
			records.push((column, key.to_vec(), value));
		}
	}
	records
}

/// Writes, byte for byte, a database as the one-round protocol's schema `version` (1 or 2)
/// left it: finalized checkpoint 7, justified 8, the guard at 7 -> 8, one vote for target 8,
/// the certificate of 7, version 1's `last_certificate_set` or version 2's kept certificates
/// and prune mark, and a guard file of that protocol in the directory. Returns every record
/// written.
fn write_one_round_database(path: &Path, version: u32) -> Vec<(u32, Vec<u8>, Vec<u8>)> {
	let keys = keys(N);
	let u64_le = |n: u64| n.to_le_bytes().to_vec();
	let checkpoint = |n: u64| [u64_le(n), hash(0, n).as_bytes().to_vec()].concat();
	let certificate = CheckpointCertificate {
		link: link(cp(0, 7), cp(0, 8)),
		signatures: votes(&keys, 3, link(cp(0, 7), cp(0, 8)))
			.into_iter()
			.map(|v| (v.validator_index, v.signature))
			.collect(),
	};
	let vote_bytes = codec::Encode::encode(&vote(&keys[3], 3, link(cp(0, 7), cp(0, 8))));
	let mut vote_key = 8u64.to_be_bytes().to_vec();
	vote_key.extend_from_slice(&3u32.to_be_bytes());
	vote_key.extend_from_slice(&sp_crypto_hashing::blake2_256(&vote_bytes));
	let mut records = vec![
		(columns::META, b"schema_version".to_vec(), version.to_le_bytes().to_vec()),
		(columns::META, b"genesis".to_vec(), GENESIS.as_bytes().to_vec()),
		(columns::META, b"finalized".to_vec(), checkpoint(7)),
		(columns::META, b"justified".to_vec(), checkpoint(8)),
		(columns::META, b"own_vote_guard".to_vec(), [u64_le(7), u64_le(8)].concat()),
		(columns::CERTIFICATES, 7u64.to_be_bytes().to_vec(), codec::Encode::encode(&certificate)),
		(columns::SIGNATURES, vote_key, vote_bytes),
	];
	match version {
		1 => {
			records.push((columns::META, b"last_certificate_set".to_vec(), u64_le(0)));
			records.push((columns::META, b"kept_certificates".to_vec(), vec![0]));
		}
		2 => {
			// One kept certificate (a compact length of 1, then checkpoint 3) and the prune
			// mark at 2.
			records.push((
				columns::META,
				b"kept_certificates".to_vec(),
				[vec![4], u64_le(3)].concat(),
			));
			records.push((columns::META, b"pruned_below".to_vec(), u64_le(2)));
		}
		_ => unreachable!("the one-round protocol wrote schema versions 1 and 2"),
	}
	{
		let db = kvdb_rocksdb::Database::open(
			&kvdb_rocksdb::DatabaseConfig::with_columns(columns::NUM_COLUMNS),
			path,
		)
		.unwrap();
		let mut tx = db.transaction();
		for (column, key, value) in &records {
			tx.put(*column, key, value);
		}
		db.write(tx).unwrap();
	}
	std::fs::write(path.join(sc_finality_checkpoint::GUARD_FILE_NAME), one_round_guard_file())
		.unwrap();
	records.sort();
	records
}

/// A guard file as the one-round protocol wrote it: `CKPTGRD1`, the SCALE of the genesis hash
/// and of the guard 7 -> 8, and an 8-byte checksum.
fn one_round_guard_file() -> Vec<u8> {
	let mut bytes = b"CKPTGRD1".to_vec();
	codec::Encode::encode_to(&(GENESIS.as_bytes().to_vec(), 7u64, 8u64), &mut bytes);
	let checksum = sp_crypto_hashing::blake2_256(&bytes);
	bytes.extend_from_slice(&checksum[..8]);
	bytes
}

/// A database of the one-round protocol (schema versions 1 and 2) is refused on restore with
/// an error that names the path and the fix, and nothing in it is overwritten: every record
/// and the guard file are byte-identical afterwards, and no record is added.
#[test]
fn a_one_round_database_is_refused_and_nothing_in_it_changes() {
	for version in [1u32, 2] {
		let dir = tempfile::tempdir().unwrap();
		let written = write_one_round_database(dir.path(), version);
		let guard_path = dir.path().join(sc_finality_checkpoint::GUARD_FILE_NAME);

		// Through the normal start, and on this chain or another: the protocol is checked first.
		for genesis in [GENESIS, H256::repeat_byte(0x01)] {
			let err = restore(dir.path(), genesis).unwrap_err();
			assert!(
				matches!(&err, Error::OneRoundDatabase { path, found } if path == dir.path() && *found == version),
				"version {version}: {err}"
			);
			let message = err.to_string();
			assert!(message.contains(&dir.path().display().to_string()), "{message}");
			assert!(message.contains(&format!("schema version {version}")), "{message}");
			assert!(message.contains("one-round"), "{message}");
			assert!(message.contains("--base-path"), "{message}");
			assert!(message.contains("purge-chain"), "{message}");
			assert!(message.contains("Nothing was changed"), "{message}");
		}
		// And on the database itself.
		let db = CheckpointDB::new(dir.path()).unwrap();
		let err = db.initialise(&GENESIS).unwrap_err();
		assert!(matches!(err, Error::OneRoundDatabase { .. }), "{err}");
		let v = vote(&keys(N)[0], 0, link(cp(0, 8), cp(0, 9)));
		assert!(matches!(db.write_votes(&[v]), Err(Error::NotInitialised { .. })));
		drop(db);

		assert_eq!(raw_records(dir.path()), written, "version {version}: records changed");
		for (column, key, value) in &written {
			assert_eq!(raw_get(dir.path(), *column, key).as_ref(), Some(value));
		}
		assert_eq!(std::fs::read(&guard_path).unwrap(), one_round_guard_file());
	}
}

#[test]
fn corrupt_record_is_a_clear_error_and_is_kept() {
	let dir = tempfile::tempdir().unwrap();
	let mut finality = open(dir.path(), &common::keys(N));
	drive(&mut finality, 2);
	drop(finality);
	let mut key = 2u64.to_be_bytes().to_vec();
	key.extend_from_slice(&[0; 36]);
	raw_put(dir.path(), columns::SIGNATURES, &key, b"\x01garbage");

	let err = restore(dir.path(), GENESIS).unwrap_err();
	assert!(matches!(err, Error::Corrupt { column: "SIGNATURES", .. }), "{err}");
	assert!(err.to_string().contains(&dir.path().display().to_string()));
	assert_eq!(raw_get(dir.path(), columns::SIGNATURES, &key), Some(b"\x01garbage".to_vec()));
}

#[test]
fn data_without_schema_version_is_corrupt() {
	let dir = tempfile::tempdir().unwrap();
	raw_put(dir.path(), columns::SIGNATURES, b"stray", b"x");
	let err = restore(dir.path(), GENESIS).unwrap_err();
	assert!(matches!(err, Error::Corrupt { column: "META", .. }), "{err}");
}

#[test]
fn writes_before_the_chain_check_are_refused() {
	let dir = tempfile::tempdir().unwrap();
	let db = CheckpointDB::new(dir.path()).unwrap();
	let v = vote(&keys(1)[0], 0, link(cp(0, 0), cp(0, 1)));
	assert!(matches!(db.write_votes(&[v]), Err(Error::NotInitialised { .. })));
}

fn raw_put(path: &Path, column: u32, key: &[u8], value: &[u8]) {
	let db = kvdb_rocksdb::Database::open(
		&kvdb_rocksdb::DatabaseConfig::with_columns(columns::NUM_COLUMNS),
		path,
	)
	.unwrap();
	let mut tx = db.transaction();
	tx.put(column, key, value);
	db.write(tx).unwrap();
}

fn raw_get(path: &Path, column: u32, key: &[u8]) -> Option<Vec<u8>> {
	let db = kvdb_rocksdb::Database::open(
		&kvdb_rocksdb::DatabaseConfig::with_columns(columns::NUM_COLUMNS),
		path,
	)
	.unwrap();
	db.get(column, key).unwrap()
}

/// A state machine on the database in `dir/checkpoints` with the guard beside it, as the node
/// keeps them.
fn open_with_guard_outside(dir: &Path) -> CheckpointFinality<H256> {
	try_open_with_guard_outside(dir).unwrap()
}

/// [`open_with_guard_outside`], the error if the state cannot be restored.
fn try_open_with_guard_outside(
	dir: &Path,
) -> sc_finality_checkpoint::Result<CheckpointFinality<H256>> {
	let db = Arc::new(CheckpointDB::new(&dir.join("checkpoints"))?);
	let guard = sc_finality_checkpoint::GuardFile::at(dir.join("own-vote-guard"));
	let adapter = CheckpointStorageAdapter::new(db).with_guard_file(guard);
	let mut finality = finality(&keys(N));
	finality.set_storage(Arc::new(adapter), persistence_config());
	finality.restore_from_storage()?;
	Ok(finality)
}

/// A guard file of the one-round protocol (`CKPTGRD1`) beside a new database, where the node
/// keeps it and `purge-chain` leaves it: the validator does not start, the error names the
/// file and the fix, and the file is byte-identical afterwards.
#[test]
fn a_one_round_guard_file_is_refused_and_left_untouched() {
	let dir = tempfile::tempdir().unwrap();
	let guard = dir.path().join("own-vote-guard");
	for bytes in [one_round_guard_file(), [&b"CKPTGRD1junk"[..], &[0x5a; 8]].concat()] {
		std::fs::write(&guard, &bytes).unwrap();
		let err = try_open_with_guard_outside(dir.path()).err().expect("an old guard is refused");
		assert!(matches!(&err, Error::OneRoundGuard { path } if *path == guard), "{err}");
		let message = err.to_string();
		assert!(message.contains(&guard.display().to_string()), "{message}");
		assert!(message.contains("one-round"), "{message}");
		assert!(message.contains("--unsafe-reset-own-vote-guard"), "{message}");
		assert_eq!(std::fs::read(&guard).unwrap(), bytes, "the old guard file was written to");
	}
	// The one left in the database directory by an earlier version is refused the same way.
	std::fs::remove_file(&guard).unwrap();
	let legacy = dir.path().join("checkpoints").join(sc_finality_checkpoint::GUARD_FILE_NAME);
	std::fs::write(&legacy, one_round_guard_file()).unwrap();
	let err = try_open_with_guard_outside(dir.path()).err().expect("an old guard is refused");
	assert!(matches!(&err, Error::OneRoundGuard { path } if *path == legacy), "{err}");
	assert_eq!(std::fs::read(&legacy).unwrap(), one_round_guard_file());
	assert!(!guard.exists(), "no new guard file was written");
}

#[test]
fn a_guard_outside_the_database_survives_its_removal() {
	let dir = tempfile::tempdir().unwrap();
	let keys = keys(N);
	let mut finality = open_with_guard_outside(dir.path());
	assert!(!finality.state().guard_found(), "a new validator has no guard yet");
	let own = finality.own_vote_link(cp(0, 2), |_| true).unwrap();
	finality.record_own_vote(vote(&keys[3], 3, own)).unwrap();
	drop(finality);
	assert!(dir.path().join("own-vote-guard").exists());
	assert!(!dir.path().join("checkpoints/own-vote-guard").exists());

	// `purge-chain`, or a corrupt database moved aside: the database goes, the guard stays.
	std::fs::remove_dir_all(dir.path().join("checkpoints")).unwrap();
	let restored = open_with_guard_outside(dir.path());
	assert!(restored.state().guard_found());
	assert_eq!(restored.guard().target, Epoch(2));
	assert_eq!(restored.last_finalized(), cp(0, 0), "the database itself starts over");
	assert_eq!(restored.own_vote_link(cp(1, 1), |_| true), None, "no vote at or below 2");
}

#[test]
fn a_guard_left_in_the_database_directory_by_an_earlier_version_is_merged() {
	let dir = tempfile::tempdir().unwrap();
	let keys = keys(N);
	// An earlier version: guard inside the database directory, at target 3.
	let mut old = open(&dir.path().join("checkpoints"), &common::keys(N));
	let own = old.own_vote_link(cp(0, 3), |_| true).unwrap();
	old.record_own_vote(vote(&keys[3], 3, own)).unwrap();
	drop(old);

	let mut new = open_with_guard_outside(dir.path());
	assert_eq!(new.guard().target, Epoch(3));
	// The next own vote writes the new file, and the old one still counts after a purge.
	let own = new.own_vote_link(cp(0, 4), |_| true).unwrap();
	new.record_own_vote(vote(&keys[3], 3, own)).unwrap();
	drop(new);
	assert!(dir.path().join("own-vote-guard").exists());
	assert_eq!(open_with_guard_outside(dir.path()).guard().target, Epoch(4));
}

#[test]
fn a_vote_of_our_key_cast_elsewhere_raises_the_durable_guard() {
	let dir = tempfile::tempdir().unwrap();
	let keys = keys(N);
	let mut finality = open_with_guard_outside(dir.path());
	// Validator 3's key signs 0 -> 5 on another machine.
	let twin = vote(&keys[3], 3, link(cp(0, 0), cp(0, 5)));
	assert!(finality.check_own_key_vote(&twin).unwrap());
	drop(finality);
	std::fs::remove_dir_all(dir.path().join("checkpoints")).unwrap();
	let restored = open_with_guard_outside(dir.path());
	assert_eq!(restored.guard().target, Epoch(5), "durable in the guard file");
	assert_eq!(restored.own_vote_link(cp(0, 5), |_| true), None);
}

/// What a directory's files hold, in bytes: RocksDB's table files, its write-ahead logs, its
/// own text log `LOG`, and the rest (manifest, options).
#[derive(Default, Clone, Copy)]
struct DirBytes {
	tables: u64,
	wal: u64,
	info_log: u64,
	other: u64,
}

impl DirBytes {
	fn of(dir: &Path) -> Self {
		let mut bytes = Self::default();
		for entry in std::fs::read_dir(dir).unwrap() {
			let entry = entry.unwrap();
			let len = entry.metadata().unwrap().len();
			let name = entry.file_name().to_string_lossy().into_owned();
			let slot = if name.ends_with(".sst") {
				&mut bytes.tables
			} else if name.ends_with(".log") {
				&mut bytes.wal
			} else if name.starts_with("LOG") {
				&mut bytes.info_log
			} else {
				&mut bytes.other
			};
			*slot += len;
		}
		bytes
	}

	fn total(&self) -> u64 {
		self.tables + self.wal + self.info_log + self.other
	}
}

/// This process's resident memory in KiB (`VmRSS`), where /proc tells it.
fn resident_kib() -> Option<u64> {
	let status = std::fs::read_to_string("/proc/self/status").ok()?;
	let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
	line.split_whitespace().nth(1)?.parse().ok()
}

/// A number from the environment, or `default`.
fn env_or(name: &str, default: u64) -> u64 {
	std::env::var(name).ok().map_or(default, |v| v.parse().expect(name))
}

/// The files follow the retention, not the writes, and level off: the devnet's write pattern
/// (four validators, every vote of both rounds, interval 1 and 3 s blocks: 2400 epochs an
/// hour; the buffer flushed every 10 s and pruned every 300 s, as the node's defaults do) for
/// `CHECKPOINT_DB_HOURS` hours (default 12) at `--checkpoint-retention`
/// `CHECKPOINT_DB_RETENTION` (default 100), as fast as the disk takes it. Prints the
/// directory's files at every hour (`scripts/db-growth.sh` runs it longer). With
/// kvdb-rocksdb's default memory budget (128 MiB a column) the memtables never filled, so the
/// write-ahead log kept every write and the directory grew with time; each prune left a file
/// of range deletions in the evidence column that no compaction ever removed; and a column
/// that no flush picked up could hold the write-ahead log, which then grew without bound (the
/// store now flushes its columns when the log is over twice its cap). RocksDB's
/// text log `LOG` grows with every flush and compaction, and with wall time (statistics every
/// 10 minutes, which this compressed run does not show), until the node's next start.
/// The process's resident memory (the state machine, the store and RocksDB's caches of it) is
/// printed beside, not asserted: the allocator decides when freed memory goes back.
#[test]
fn the_files_follow_the_retention_not_the_writes() {
	const EPOCHS_AN_HOUR: u64 = 2400;
	const FLUSH_EVERY: u64 = 7;
	const PRUNE_EVERY: u64 = 200;
	let hours = env_or("CHECKPOINT_DB_HOURS", 12).max(2);
	let retention = env_or("CHECKPOINT_DB_RETENTION", 100);
	let dir = tempfile::tempdir().unwrap();
	let keys = keys(N);
	let db = Arc::new(CheckpointDB::new(dir.path()).unwrap());
	let mut finality = finality(&keys);
	let config =
		CheckpointPersistenceConfig { retention_checkpoints: retention, ..persistence_config() };
	finality.set_storage(Arc::new(CheckpointStorageAdapter::new(db)), config);
	finality.restore_from_storage().unwrap();
	let persistence = finality.persistence().unwrap().clone();
	let mut written = 0u64;
	let mut hourly = Vec::new();
	let mut unpinned = 0;
	println!(
		"hour  written MiB  directory KiB (tables + write-ahead log + LOG + other)  process RSS MiB"
	);
	for k in 1..=hours * EPOCHS_AN_HOUR {
		for v in votes(&keys, N, link(cp(0, k - 1), cp(0, k))) {
			written += codec::Encode::encoded_size(&v) as u64;
			finality.add_checkpoint_signature(v).unwrap();
		}
		if k % FLUSH_EVERY == 0 {
			flush(&finality);
		}
		if k % PRUNE_EVERY == 0 {
			let outcome = persistence.prune_old_checkpoints().unwrap();
			unpinned += usize::from(outcome.flushed_wal);
		}
		if k % EPOCHS_AN_HOUR == 0 {
			let bytes = DirBytes::of(dir.path());
			let kib = |b: u64| b as f64 / 1024.0;
			let rss =
				resident_kib().map_or("?".into(), |kib| format!("{:.1}", kib as f64 / 1024.0));
			println!(
				"{:>4}  {:>11.1}  {:>8.0} ({:.0} + {:.0} + {:.0} + {:.0})  {rss}",
				k / EPOCHS_AN_HOUR,
				written as f64 / (1024.0 * 1024.0),
				kib(bytes.total()),
				kib(bytes.tables),
				kib(bytes.wal),
				kib(bytes.info_log),
				kib(bytes.other),
			);
			hourly.push(bytes);
		}
	}
	assert_eq!(finality.last_finalized(), cp(0, hours * EPOCHS_AN_HOUR - 1));
	println!("the write-ahead log outgrew its cap and the columns were flushed {unpinned} times");
	let files = DirBytes::of(dir.path()).total();
	assert!(
		files < written / 3,
		"{files} bytes in the directory after {written} bytes of votes, retention {retention}"
	);
	// Level at every hour: the write-ahead log within twice its cap (and a prune's writes),
	// the tables and the rest within a bound of what the retention keeps, whatever the hour.
	let kept = retention * (written / (hours * EPOCHS_AN_HOUR)) * 2;
	for (hour, bytes) in hourly.iter().enumerate().map(|(h, b)| (h + 1, b)) {
		assert!(bytes.wal <= 3 << 20, "hour {hour}: {} bytes of write-ahead log", bytes.wal);
		let tables = bytes.tables + bytes.other;
		assert!(
			tables <= (512 << 10) + 4 * kept,
			"hour {hour}: {tables} bytes of tables and manifest, {kept} bytes retained"
		);
	}
}
