//! Damaged and hostile storage under a real kvdb-rocksdb database: a truncated database file, a
//! corrupt own-vote guard file, a database written with more columns (a newer schema), a
//! read-only directory and a full disk.
//! Each refusal is one clear error that names the path and the fix, and overwrites nothing; a
//! full disk fails the own vote closed, and voting resumes when space returns.
//!
//! The read-only and full-disk tests mount a small tmpfs, which needs root (`CAP_SYS_ADMIN`);
//! where the mount is refused they say so and why, and check nothing.

mod common;

use common::*;
use sc_finality_checkpoint::{
	store::columns, CheckpointDB, CheckpointFinality, CheckpointStorageAdapter, Error, GuardFile,
};
use sp_core::H256;
use std::{
	path::{Path, PathBuf},
	process::Command,
	sync::Arc,
};

const N: usize = 4;

/// A state machine for four validators on the database at `path` (guard file beside it),
/// restored; the error if it cannot be.
fn try_open(path: &Path) -> sc_finality_checkpoint::Result<CheckpointFinality<H256>> {
	let db = Arc::new(CheckpointDB::new(&path.join("db"))?);
	let guard = GuardFile::at(path.join("own-vote-guard"));
	let mut finality = finality(&keys(N));
	finality.set_storage(
		Arc::new(CheckpointStorageAdapter::new(db).with_guard_file(guard)),
		persistence_config(),
	);
	finality.restore_from_storage()?;
	Ok(finality)
}

/// Finalizes checkpoint 1 with three validators' votes.
fn drive(finality: &mut CheckpointFinality<H256>) {
	let keys = keys(N);
	for k in 1..=2 {
		for v in votes(&keys, 3, link(cp(0, k - 1), cp(0, k))) {
			finality.add_checkpoint_signature(v).unwrap();
		}
	}
	assert_eq!(finality.last_finalized(), cp(0, 1));
}

/// The data files under `dir` (not RocksDB's own info logs, options and lock), each with its
/// length and a hash of its bytes.
fn snapshot(dir: &Path) -> Vec<(String, usize, [u8; 32])> {
	let mut files: Vec<_> = std::fs::read_dir(dir)
		.unwrap()
		.map(|e| e.unwrap().path())
		.filter(|p| p.is_file())
		.filter_map(|p| {
			let name = p.file_name()?.to_string_lossy().into_owned();
			let info = name == "LOCK" || name.starts_with("LOG") || name.starts_with("OPTIONS");
			let bytes = std::fs::read(&p).ok()?;
			(!info).then(|| (name, bytes.len(), sp_crypto_hashing::blake2_256(&bytes)))
		})
		.collect();
	files.sort();
	files
}

fn assert_names_path_and_fix(err: &Error, path: &Path, fix: &str) {
	let message = err.to_string();
	assert!(message.contains(&path.display().to_string()), "no path in: {message}");
	assert!(message.contains(fix), "no {fix:?} in: {message}");
}

#[test]
fn a_truncated_database_file_is_a_clear_error_and_nothing_is_overwritten() {
	let dir = tempfile::tempdir().unwrap();
	drive(&mut try_open(dir.path()).unwrap());
	let db = dir.path().join("db");
	// `CURRENT` names the manifest in use; cut it short, as a crash of the file system might.
	let current = db.join("CURRENT");
	let bytes = std::fs::read(&current).unwrap();
	std::fs::write(&current, &bytes[..bytes.len() / 2]).unwrap();
	let before = snapshot(&db);

	let err = try_open(dir.path()).err().expect("a damaged database is refused");
	assert!(matches!(err, Error::Damaged { .. }), "{err}");
	assert_names_path_and_fix(&err, &db, "move the directory aside");
	assert_eq!(snapshot(&db), before, "the damaged database was written to");
}

#[test]
fn a_corrupt_guard_file_stops_the_validator_and_nothing_is_overwritten() {
	let dir = tempfile::tempdir().unwrap();
	let mut finality = try_open(dir.path()).unwrap();
	drive(&mut finality);
	let own = finality.own_vote_link(cp(0, 3), |_| true).expect("a vote to cast");
	finality.record_own_vote(vote(&keys(N)[3], 3, own)).unwrap();
	drop(finality);
	let guard = dir.path().join("own-vote-guard");
	let mut bytes = std::fs::read(&guard).unwrap();
	let middle = bytes.len() / 2;
	bytes[middle] ^= 0xff;
	std::fs::write(&guard, &bytes).unwrap();
	// The database opens, so RocksDB may rewrite its own files (a log replayed into a table):
	// what must not change is what it holds.
	let before = contents(&dir.path().join("db"));

	let err = try_open(dir.path()).err().expect("a corrupt guard is refused");
	assert!(matches!(err, Error::GuardCorrupt { .. }), "{err}");
	assert_names_path_and_fix(&err, &guard, "--unsafe-reset-own-vote-guard");
	assert_eq!(std::fs::read(&guard).unwrap(), bytes, "the guard file was written to");
	assert_eq!(contents(&dir.path().join("db")), before, "the database was written to");
}

/// Every record of the database at `path`, by column.
fn contents(path: &Path) -> Vec<(u32, Vec<u8>, Vec<u8>)> {
	let config = kvdb_rocksdb::DatabaseConfig::with_columns(columns::NUM_COLUMNS);
	let db = kvdb_rocksdb::Database::open(&config, path).unwrap();
	let mut records = Vec::new();
	for column in 0..columns::NUM_COLUMNS {
		for entry in db.iter(column) {
			let (key, value) = entry.unwrap();
			records.push((column, key.to_vec(), value));
		}
	}
	assert!(records.len() > 5, "a database with votes and a certificate");
	records
}

#[test]
fn a_database_with_more_columns_than_this_node_knows_is_refused() {
	let dir = tempfile::tempdir().unwrap();
	let db = dir.path().join("db");
	{
		let newer = kvdb_rocksdb::Database::open(
			&kvdb_rocksdb::DatabaseConfig::with_columns(columns::NUM_COLUMNS + 1),
			&db,
		)
		.unwrap();
		let mut tx = newer.transaction();
		let newer_schema = sc_finality_checkpoint::store::db::SCHEMA_VERSION + 1;
		tx.put(columns::META, b"schema_version", &newer_schema.to_le_bytes());
		tx.put(columns::NUM_COLUMNS, b"new", b"column");
		newer.write(tx).unwrap();
	}
	let before = snapshot(&db);
	let err = try_open(dir.path()).err().expect("a newer database is refused");
	assert!(matches!(err, Error::Damaged { .. } | Error::UnsupportedSchema { .. }), "{err}");
	assert_names_path_and_fix(&err, &db, "newer");
	assert_eq!(snapshot(&db), before);
}

/// A small tmpfs at a new directory, unmounted when dropped; `None` (with the reason printed)
/// where mounting is not allowed. One at a time: a process another test forks inherits open
/// files until it execs, which can keep a deleted file's space in use or a remount busy.
struct Tmpfs(PathBuf, #[allow(dead_code)] std::sync::MutexGuard<'static, ()>);

impl Tmpfs {
	fn mount(dir: &Path, size: &str) -> Option<Self> {
		static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
		let serial = ONE_AT_A_TIME.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
		let path = dir.join("mnt");
		std::fs::create_dir_all(&path).unwrap();
		let out = Command::new("mount")
			.args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
			.arg(&path)
			.output();
		match out {
			Ok(out) if out.status.success() => Some(Self(path, serial)),
			Ok(out) => {
				skip(&format!(
					"cannot mount a tmpfs here ({}): this check needs root",
					String::from_utf8_lossy(&out.stderr).trim()
				));
				None
			}
			Err(e) => {
				skip(&format!("no `mount` command ({e})"));
				None
			}
		}
	}

	fn remount(&self, options: &str) {
		let status = Command::new("mount")
			.args(["-o", &format!("remount,{options}")])
			.arg(&self.0)
			.status()
			.unwrap();
		assert!(status.success(), "remount {options}");
	}
}

impl Drop for Tmpfs {
	fn drop(&mut self) {
		let _ = Command::new("umount").arg("-l").arg(&self.0).status();
	}
}

#[test]
fn a_read_only_directory_is_a_clear_error() {
	let dir = tempfile::tempdir().unwrap();
	let Some(mount) = Tmpfs::mount(dir.path(), "64m") else { return };
	drive(&mut try_open(&mount.0).unwrap());
	mount.remount("ro");
	let err = try_open(&mount.0).err().expect("a read-only database is refused");
	assert_names_path_and_fix(&err, &mount.0.join("db"), "writable");
}

#[test]
fn a_full_disk_fails_the_own_vote_closed_and_voting_resumes_when_space_returns() {
	let dir = tempfile::tempdir().unwrap();
	let Some(mount) = Tmpfs::mount(dir.path(), "64m") else { return };
	let keys = keys(N);
	let mut finality = try_open(&mount.0).unwrap();
	drive(&mut finality);

	// Fill the disk to the last byte.
	let filler = mount.0.join("filler");
	let mut file = std::fs::File::create(&filler).unwrap();
	let chunk = vec![7u8; 1 << 16];
	while std::io::Write::write_all(&mut file, &chunk).is_ok() {}
	let _ = std::io::Write::write_all(&mut file, &[7u8]);
	drop(file);

	let target = cp(0, 3);
	let own = finality.own_vote_link(target, |_| true).expect("a vote to cast");
	let err = finality.record_own_vote(vote(&keys[3], 3, own)).expect_err("no space, no vote");
	assert!(matches!(err, Error::Guard { .. } | Error::Write { .. }), "{err}");
	assert!(err.to_string().contains("free disk space"), "{err}");
	assert_eq!(finality.counters().own_votes, 0);
	assert!(finality.votes_of(&keys[3].public().into()).is_empty());
	// Fail closed: the guard stays raised over the vote that was not cast.
	assert_eq!(finality.own_vote_link(target, |_| true), None);
	// Following the chain goes on: other validators' votes are taken in memory.
	let others = votes(&keys, 3, link(cp(0, 2), cp(0, 3)));
	for v in others {
		finality.add_checkpoint_signature(v).unwrap();
	}

	std::fs::remove_file(&filler).unwrap();
	let next = finality.own_vote_link(cp(0, 4), |_| true).expect("a higher target");
	finality.record_own_vote(vote(&keys[3], 3, next)).expect("space is back: the vote is cast");
	assert_eq!(finality.counters().own_votes, 1);
}

use sp_core::Pair as _;
