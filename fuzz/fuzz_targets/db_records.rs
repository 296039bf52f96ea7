//! Every record decoder of the checkpoint database, and the restore that reads them: a real
//! kvdb-rocksdb database holding finality, votes, a certificate, evidence, the authority sets
//! and an own vote (with its guard file) gets records overwritten, deleted or added with
//! arbitrary bytes, and a guard file of arbitrary bytes; then it is opened, restored, read
//! (certificates, evidence, set changes), pruned, and voted on.
//!
//! Whatever the damage, the node gets an error or a state, never a panic; and a state it
//! restores keeps the justified checkpoint at or above the finalized one.

#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use sc_finality_checkpoint::{
	store::columns, CheckpointDB, CheckpointFinality, CheckpointStorageAdapter, GuardFile,
};
use sc_finality_checkpoint_fuzz::{common::*, *};
use sp_core::H256;
use sp_finality_checkpoint::Epoch;
use std::{
	path::{Path, PathBuf},
	sync::{Arc, OnceLock},
};

#[derive(Arbitrary, Debug)]
enum Key {
	/// The key of the n-th record (modulo their number) of the column.
	Existing(u16),
	/// A META key, of this schema or the last.
	Meta(u8),
	Raw(Vec<u8>),
}

#[derive(Arbitrary, Debug)]
struct Record {
	column: u8,
	key: Key,
	/// `None` deletes the record.
	value: Option<Vec<u8>>,
}

#[derive(Arbitrary, Debug)]
struct Damage {
	records: Vec<Record>,
	guard: Option<Vec<u8>>,
}

const META_KEYS: [&[u8]; 10] = [
	b"schema_version",
	b"genesis",
	b"finalized",
	b"justified",
	b"own_vote_guard",
	b"pruned_below",
	b"last_certificate_set",
	b"kept_certificates",
	b"authority_sets",
	b"pending_signals",
];

fn open(
	dir: &Path,
) -> sc_finality_checkpoint::Result<(Arc<CheckpointDB>, CheckpointFinality<H256>)> {
	let db = Arc::new(CheckpointDB::new(&dir.join("db"))?);
	let adapter =
		CheckpointStorageAdapter::new(db.clone()).with_guard_file(GuardFile::at(dir.join("guard")));
	let mut finality = finality(validator_keys());
	finality.set_storage(Arc::new(adapter), persistence_config());
	finality.restore_from_storage()?;
	Ok((db, finality))
}

/// A database as a validator leaves it: checkpoints 1 and 2 finalized, votes for 3, an
/// equivocation, an own vote for 4 and its guard.
fn template() -> &'static Path {
	static TEMPLATE: OnceLock<tempfile::TempDir> = OnceLock::new();
	TEMPLATE
		.get_or_init(|| {
			let dir = scratch();
			let (_db, mut finality) = open(dir.path()).expect("a new database opens");
			let keys = validator_keys();
			for k in 1..=3 {
				for v in votes(keys, 3, link(cp(0, k - 1), cp(0, k))) {
					finality.add_checkpoint_signature(v).expect("a valid vote");
				}
			}
			finality.record_own_vote(vote(&keys[0], 0, link(cp(0, 3), cp(0, 4)))).unwrap();
			finality.add_checkpoint_signature(vote(&keys[1], 1, link(cp(0, 3), cp(0, 4)))).unwrap();
			finality.add_checkpoint_signature(vote(&keys[1], 1, link(cp(0, 3), cp(1, 4)))).unwrap();
			finality.persistence().unwrap().flush().unwrap();
			assert_eq!(finality.last_finalized(), cp(0, 2));
			dir
		})
		.path()
}

/// A temporary directory in memory where there is a tmpfs.
fn scratch() -> tempfile::TempDir {
	let shm = Path::new("/dev/shm");
	if shm.is_dir() { tempfile::tempdir_in(shm) } else { tempfile::tempdir() }.unwrap()
}

fn copy_dir(from: &Path, to: &Path) {
	std::fs::create_dir_all(to).unwrap();
	for entry in std::fs::read_dir(from).unwrap() {
		let path = entry.unwrap().path();
		let target: PathBuf = to.join(path.file_name().unwrap());
		if path.is_dir() {
			copy_dir(&path, &target);
		} else {
			std::fs::copy(&path, &target).unwrap();
		}
	}
}

fn damage(dir: &Path, damage: &Damage) {
	if let Some(bytes) = &damage.guard {
		std::fs::write(dir.join("guard"), bytes).unwrap();
	}
	let config = kvdb_rocksdb::DatabaseConfig::with_columns(columns::NUM_COLUMNS);
	let db = kvdb_rocksdb::Database::open(&config, dir.join("db")).unwrap();
	let mut tx = db.transaction();
	for record in damage.records.iter().take(16) {
		let column = u32::from(record.column) % columns::NUM_COLUMNS;
		let key = match &record.key {
			Key::Existing(n) => {
				let keys: Vec<_> = db.iter(column).map(|entry| entry.unwrap().0).collect();
				match keys.len() {
					0 => continue,
					len => keys[*n as usize % len].to_vec(),
				}
			}
			Key::Meta(n) => META_KEYS[*n as usize % META_KEYS.len()].to_vec(),
			Key::Raw(key) => key.clone(),
		};
		let column = if matches!(record.key, Key::Meta(_)) { columns::META } else { column };
		match &record.value {
			Some(value) => tx.put(column, &key, value),
			None => tx.delete(column, &key),
		}
	}
	db.write(tx).unwrap();
}

fuzz_target!(|input: Damage| {
	let dir = scratch();
	copy_dir(template(), dir.path());
	damage(dir.path(), &input);
	let Ok((db, mut finality)) = open(dir.path()) else { return };
	assert!(finality.highest_justified().number >= finality.last_finalized().number);
	for number in 0..6 {
		let _ = db.certificate::<H256>(Epoch(number));
	}
	let _ = db.set_changes();
	let _ = db.stats();
	let _ = db.prune_old_checkpoints::<H256>(1);
	let keys = validator_keys();
	let next = finality.last_finalized().number.0 + 1;
	for v in votes(keys, 3, link(cp(0, next - 1), cp(0, next))) {
		let _ = finality.add_checkpoint_signature(v);
	}
	let _ = finality.record_own_vote(vote(&keys[0], 0, link(cp(0, next), cp(0, next + 1))));
	let _ = finality.persistence().unwrap().flush();
});
