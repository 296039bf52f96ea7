//! `CheckpointDB`: the kvdb-rocksdb database of checkpoint finality.
//!
//! Owns the column and key layout, the schema version and the chain check (genesis hash in
//! META), and turns each state change into one atomic `DBTransaction`. Values are SCALE;
//! every numeric key part is big-endian, so keys sort by epoch:
//!
//! | column         | key                                              | value                    |
//! |----------------|--------------------------------------------------|--------------------------|
//! | `META`         | `schema_version`, `genesis`, `finalized`, ...    | SCALE                    |
//! | `SIGNATURES`   | target epoch ++ validator index ++ vote hash     | `CheckpointSignature`    |
//! | `CERTIFICATES` | finalized epoch                                  | `CheckpointCertificate`  |
//! | `EVIDENCE`     | target epoch ++ validator index ++ pair hash     | `(vote, vote)`           |
//!
//! There is no migration: a database of another schema is refused, nothing in it changed. One
//! of the one-round protocol (schema versions 1 and 2) numbers its records by checkpoint, not
//! by epoch, and its chain starts afresh under the two-round protocol
//! ([`Error::OneRoundDatabase`]); one of a newer schema needs the newer node
//! ([`Error::UnsupportedSchema`]).
//!
//! The module knows nothing of gossip or of the vote rules; it stores what it is given and
//! refuses only what would corrupt the store (a finality watermark moving backwards).
//! [`CheckpointStorageAdapter`] implements the persistence interface
//! ([`CheckpointStorage`]) on the database and the own-vote [`GuardFile`].

use crate::{
	authorities::{EnactedSet, PendingSignals},
	error::{Error, Result},
	state::OwnVoteGuard,
	store::guard::GuardFile,
	store::persistence::{CheckpointStorage, PruneOutcome, StoredState},
};
use codec::{Decode, Encode};
use kvdb::{DBTransaction, KeyValueDB};
use kvdb_rocksdb::{Database, DatabaseConfig};
use parking_lot::Mutex;
use sp_crypto_hashing::blake2_256;
use sp_finality_checkpoint::{Checkpoint, CheckpointCertificate, CheckpointSignature, Epoch};
use std::{
	path::{Path, PathBuf},
	sync::{Arc, OnceLock},
};

/// Column ids and their names (for errors and stats).
pub mod columns {
	/// Schema version, genesis hash, watermarks, own-vote guard copy, prune bookkeeping.
	pub const META: u32 = 0;
	/// Votes, by target epoch, validator index and vote hash.
	pub const SIGNATURES: u32 = 1;
	/// Certificates, by the epoch they finalize.
	pub const CERTIFICATES: u32 = 2;
	/// Pairs of conflicting votes of one validator.
	pub const EVIDENCE: u32 = 3;
	/// Number of columns.
	pub const NUM_COLUMNS: u32 = 4;
	/// Column names, indexed by column id.
	pub const NAMES: [&str; NUM_COLUMNS as usize] =
		["META", "SIGNATURES", "CERTIFICATES", "EVIDENCE"];
}

/// The schema version this build writes and the only one it opens.
///
/// - 1, 2: the one-round protocol (one vote round per checkpoint), numbered by checkpoint.
///   Refused with [`Error::OneRoundDatabase`], nothing in them changed: their chains do not
///   carry over to the two-round protocol (see [`ONE_ROUND_SCHEMA_VERSIONS`]).
/// - 3: the two-round protocol (`sp_finality_checkpoint::PROTOCOL_VERSION` 2): epochs instead
///   of checkpoint numbers in every key and record. META holds the enacted authority sets
///   (`authority_sets`), written with the finality that enacts a change, the set changes
///   signalled and not enacted (`pending_signals`; none when absent), and the epochs whose
///   certificates pruning keeps (`kept_certificates`, the set-enacting ones).
pub const SCHEMA_VERSION: u32 = 3;

/// The schema versions the one-round protocol wrote. A database of one of them is refused
/// with [`Error::OneRoundDatabase`], never migrated.
pub const ONE_ROUND_SCHEMA_VERSIONS: std::ops::RangeInclusive<u32> = 1..=2;

mod meta {
	pub const SCHEMA_VERSION: &[u8] = b"schema_version";
	pub const GENESIS: &[u8] = b"genesis";
	pub const FINALIZED: &[u8] = b"finalized";
	pub const JUSTIFIED: &[u8] = b"justified";
	pub const OWN_VOTE_GUARD: &[u8] = b"own_vote_guard";
	pub const PRUNED_BELOW: &[u8] = b"pruned_below";
	pub const KEPT_CERTIFICATES: &[u8] = b"kept_certificates";
	pub const AUTHORITY_SETS: &[u8] = b"authority_sets";
	/// The set changes signalled and not yet enacted (`PendingSignals`); none when absent.
	pub const PENDING_SIGNALS: &[u8] = b"pending_signals";
}

/// Keys and bytes (keys plus values) of one column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnStats {
	/// Column name.
	pub column: &'static str,
	/// Number of keys.
	pub keys: u64,
	/// Bytes of keys and values.
	pub bytes: u64,
}

/// RocksDB's memory budget of each column, in MiB (its memtables, a quarter of it each, and a
/// share of the block cache). The store holds a retention of checkpoints, a few MiB even at a
/// hundred validators: with kvdb-rocksdb's default of 128 MiB a column, the memtables did not
/// fill in hours, so the write-ahead log kept every write, pruning's deletions too, and the
/// files grew with time instead of following the retention.
const COLUMN_MEMORY_BUDGET_MIB: usize = 4;

/// The write-ahead log size at which RocksDB flushes the memtables it holds, so that
/// compaction can drop what pruning deleted.
const MAX_WAL_BYTES: u64 = 1 << 20;

/// The checkpoint database. See the module documentation for the layout.
pub struct CheckpointDB {
	db: Database,
	path: PathBuf,
	/// SCALE of the genesis hash once [`CheckpointDB::initialise`] has checked it.
	genesis: OnceLock<Vec<u8>>,
	/// Serialises read-modify-write transactions (watermarks, prune bookkeeping).
	write_lock: Mutex<()>,
}

impl CheckpointDB {
	/// Opens the database at `path`, creating it (and missing columns) if needed.
	///
	/// The database is not usable for writes until [`CheckpointDB::initialise`] checked it
	/// against the chain.
	pub fn new(path: &Path) -> Result<Self> {
		let open_err = |source| Error::Open { path: path.to_path_buf(), source };
		std::fs::create_dir_all(path).map_err(open_err)?;
		let mut config = DatabaseConfig::with_columns(columns::NUM_COLUMNS);
		config.memory_budget =
			(0..columns::NUM_COLUMNS).map(|column| (column, COLUMN_MEMORY_BUDGET_MIB)).collect();
		config.max_total_wal_size = Some(MAX_WAL_BYTES);
		let db = Database::open(&config, path).map_err(|source| {
			// RocksDB's status text tells damage (a file it cannot parse, column families of a
			// newer schema) from a directory it cannot use.
			let text = source.to_string().to_lowercase();
			if text.contains("corruption") || text.contains("column famil") {
				Error::Damaged { path: path.to_path_buf(), source }
			} else {
				open_err(source)
			}
		})?;
		Ok(Self {
			db,
			path: path.to_path_buf(),
			genesis: OnceLock::new(),
			write_lock: Mutex::new(()),
		})
	}

	/// The database directory.
	pub fn path(&self) -> &Path {
		&self.path
	}

	/// Checks the database against the chain with `genesis_hash`: a new database is stamped
	/// with the schema version and genesis; a database of the one-round protocol (schema
	/// versions 1 and 2), of a newer schema or of another chain is refused without touching it.
	pub fn initialise<H: Encode>(&self, genesis_hash: &H) -> Result<()> {
		let genesis = genesis_hash.encode();
		let _lock = self.write_lock.lock();
		match self.get_meta::<u32>(meta::SCHEMA_VERSION)? {
			None => {
				if !self.is_empty()? {
					return Err(self.corrupt(
						columns::META,
						meta::SCHEMA_VERSION,
						"the database holds data but no schema version",
					));
				}
				let mut tx = DBTransaction::new();
				tx.put(columns::META, meta::SCHEMA_VERSION, &SCHEMA_VERSION.encode());
				tx.put(columns::META, meta::GENESIS, &genesis);
				self.write(tx)?;
			}
			Some(found) if ONE_ROUND_SCHEMA_VERSIONS.contains(&found) => {
				return Err(Error::OneRoundDatabase { path: self.path.clone(), found })
			}
			Some(found) if found > SCHEMA_VERSION => {
				return Err(Error::UnsupportedSchema {
					path: self.path.clone(),
					found,
					supported: SCHEMA_VERSION,
				})
			}
			Some(found) if found != SCHEMA_VERSION => {
				return Err(self.corrupt(
					columns::META,
					meta::SCHEMA_VERSION,
					&format!("schema version {found} was never written by any node"),
				))
			}
			Some(_) => {
				let stored = self.read(columns::META, meta::GENESIS)?.ok_or_else(|| {
					self.corrupt(columns::META, meta::GENESIS, "no genesis hash stored")
				})?;
				if stored != genesis {
					return Err(Error::GenesisMismatch {
						path: self.path.clone(),
						expected: array_bytes::bytes2hex("", &genesis),
						found: array_bytes::bytes2hex("", &stored),
					});
				}
			}
		}
		let _ = self.genesis.set(genesis);
		Ok(())
	}

	/// Loads the watermarks, the guard copy and the votes for targets in
	/// `(finalized, finalized + window]`. Reads nothing below the finalized checkpoint, so its
	/// cost does not grow with the retained history.
	pub fn load_state<H: Decode>(&self, window: u64) -> Result<StoredState<H>> {
		let authority_sets = self.get_meta(meta::AUTHORITY_SETS)?.unwrap_or_default();
		let signals = self.get_meta(meta::PENDING_SIGNALS)?.unwrap_or_default();
		let finalized: Option<Checkpoint<H>> = self.get_meta(meta::FINALIZED)?;
		let justified = self.get_meta(meta::JUSTIFIED)?;
		let own_vote_guard = self.get_meta(meta::OWN_VOTE_GUARD)?;
		let base = finalized.as_ref().map_or(0, |f| f.number.0);
		let mut votes = Vec::new();
		for number in base.saturating_add(1)..=base.saturating_add(window) {
			let prefix = number.to_be_bytes();
			for entry in self.db.iter_with_prefix(columns::SIGNATURES, &prefix) {
				let (key, value) = entry.map_err(|source| self.read_err(source))?;
				votes.push(self.decode(columns::SIGNATURES, &key, &value)?);
			}
		}
		Ok(StoredState { authority_sets, signals, finalized, justified, own_vote_guard, votes })
	}

	/// Every vote stored (down to the retention), lowest target first: what a validator
	/// signed and saw, for an operator's or a test's audit.
	pub fn votes<H: Decode>(&self) -> Result<Vec<CheckpointSignature<H>>> {
		self.db
			.iter(columns::SIGNATURES)
			.map(|entry| {
				let (key, value) = entry.map_err(|source| self.read_err(source))?;
				self.decode(columns::SIGNATURES, &key, &value)
			})
			.collect()
	}

	/// Stores votes in one transaction.
	pub fn write_votes<H: Encode>(&self, votes: &[CheckpointSignature<H>]) -> Result<()> {
		self.ensure_initialised()?;
		let mut tx = DBTransaction::with_capacity(votes.len());
		for vote in votes {
			let encoded = vote.encode();
			tx.put_vec(columns::SIGNATURES, &signature_key(vote, &encoded), encoded);
		}
		self.write(tx)
	}

	/// Stores the node's own vote together with the META copy of its guard, in one transaction.
	pub fn write_own_vote<H: Encode>(
		&self,
		vote: &CheckpointSignature<H>,
		guard: &OwnVoteGuard,
	) -> Result<()> {
		self.ensure_initialised()?;
		let encoded = vote.encode();
		let mut tx = DBTransaction::new();
		tx.put_vec(columns::SIGNATURES, &signature_key(vote, &encoded), encoded);
		tx.put(columns::META, meta::OWN_VOTE_GUARD, &guard.encode());
		self.write(tx)
	}

	/// Stores the META copy of a raised own-vote guard.
	pub fn write_guard(&self, guard: &OwnVoteGuard) -> Result<()> {
		self.ensure_initialised()?;
		let mut tx = DBTransaction::new();
		tx.put(columns::META, meta::OWN_VOTE_GUARD, &guard.encode());
		self.write(tx)
	}

	/// Stores `certificate` and moves the finalized watermark to its source and the justified
	/// watermark to `justified`, in one transaction; with `sets` (the finality enacts a set
	/// change), also the authority sets held after it, the certificate is kept by pruning, and
	/// the justified watermark is set to `justified` even if lower (what the old set justified
	/// above the enacting checkpoint is not justified any more). Refuses to move finality
	/// backwards.
	pub fn write_certificate<H: Encode + Decode>(
		&self,
		certificate: &CheckpointCertificate<H>,
		justified: &Checkpoint<H>,
		sets: Option<&[EnactedSet<H>]>,
	) -> Result<()> {
		self.ensure_initialised()?;
		let _lock = self.write_lock.lock();
		let finalized = &certificate.link.source;
		let stored: Option<Checkpoint<H>> = self.get_meta(meta::FINALIZED)?;
		if let Some(stored) = stored.filter(|s| s.number >= finalized.number) {
			return Err(Error::WatermarkRegression {
				path: self.path.clone(),
				stored: stored.number.0,
				new: finalized.number.0,
			});
		}
		let mut tx = DBTransaction::new();
		let key = finalized.number.to_be_bytes();
		tx.put(columns::CERTIFICATES, &key, &certificate.encode());
		tx.put(columns::META, meta::FINALIZED, &finalized.encode());
		if sets.is_some() {
			tx.put(columns::META, meta::JUSTIFIED, &justified.encode());
		} else {
			self.put_justified(&mut tx, justified)?;
		}
		if let Some(sets) = sets {
			// The certificate of a set-enacting checkpoint is kept by pruning: a syncing node
			// and a light client follow the set change by it.
			let mut kept: Vec<Epoch> = self.get_meta(meta::KEPT_CERTIFICATES)?.unwrap_or_default();
			kept.push(finalized.number);
			tx.put(columns::META, meta::KEPT_CERTIFICATES, &kept.encode());
			tx.put(columns::META, meta::AUTHORITY_SETS, &sets.encode());
		}
		self.write(tx)
	}

	/// Stores the authority sets held after a forced change.
	pub fn write_sets<H: Encode>(&self, sets: &[EnactedSet<H>]) -> Result<()> {
		self.ensure_initialised()?;
		let mut tx = DBTransaction::new();
		tx.put(columns::META, meta::AUTHORITY_SETS, &sets.encode());
		self.write(tx)
	}

	/// Stores the set changes signalled and not yet enacted.
	pub fn write_signals<H: Encode>(&self, signals: &PendingSignals<H>) -> Result<()> {
		self.ensure_initialised()?;
		let mut tx = DBTransaction::new();
		tx.put(columns::META, meta::PENDING_SIGNALS, &signals.encode());
		self.write(tx)
	}

	/// Raises the justified watermark to `justified`; a lower one is ignored.
	pub fn write_justified<H: Encode + Decode>(&self, justified: &Checkpoint<H>) -> Result<()> {
		self.ensure_initialised()?;
		let _lock = self.write_lock.lock();
		let mut tx = DBTransaction::new();
		self.put_justified(&mut tx, justified)?;
		self.write(tx)
	}

	fn put_justified<H: Encode + Decode>(
		&self,
		tx: &mut DBTransaction,
		justified: &Checkpoint<H>,
	) -> Result<()> {
		let stored: Option<Checkpoint<H>> = self.get_meta(meta::JUSTIFIED)?;
		if stored.is_none_or(|s| s.number < justified.number) {
			tx.put(columns::META, meta::JUSTIFIED, &justified.encode());
		}
		Ok(())
	}

	/// Stores two conflicting votes of one validator.
	pub fn write_evidence<H: Encode>(
		&self,
		first: &CheckpointSignature<H>,
		second: &CheckpointSignature<H>,
	) -> Result<()> {
		self.ensure_initialised()?;
		let encoded = (first, second).encode();
		let mut key = Vec::with_capacity(44);
		key.extend_from_slice(&first.link.target.number.to_be_bytes());
		key.extend_from_slice(&first.validator_index.to_be_bytes());
		key.extend_from_slice(&blake2_256(&encoded));
		let mut tx = DBTransaction::new();
		tx.put_vec(columns::EVIDENCE, &key, encoded);
		self.write(tx)
	}

	/// The certificate that finalized checkpoint `number`, if stored.
	pub fn certificate<H: Decode>(
		&self,
		number: Epoch,
	) -> Result<Option<CheckpointCertificate<H>>> {
		let key = number.to_be_bytes();
		self.read(columns::CERTIFICATES, &key)?
			.map(|value| self.decode(columns::CERTIFICATES, &key, &value))
			.transpose()
	}

	/// The certificate of the lowest checkpoint in `from..=to` that has one stored: a range
	/// read over big-endian key prefixes.
	pub fn first_certificate_in<H: Decode>(
		&self,
		from: Epoch,
		to: Epoch,
	) -> Result<Option<CheckpointCertificate<H>>> {
		for prefix in prefix_cover(from.0, to.0.saturating_add(1)) {
			if let Some(entry) = self.db.iter_with_prefix(columns::CERTIFICATES, &prefix).next() {
				let (key, value) = entry.map_err(|source| self.read_err(source))?;
				return self.decode(columns::CERTIFICATES, &key, &value).map(Some);
			}
		}
		Ok(None)
	}

	/// The set-enacting checkpoints whose certificates are kept, lowest first.
	pub fn set_changes(&self) -> Result<Vec<Epoch>> {
		Ok(self.get_meta(meta::KEPT_CERTIFICATES)?.unwrap_or_default())
	}

	/// Deletes votes, evidence and certificates of checkpoints more than `keep` below the
	/// finalized one, keeping the certificates of set-enacting checkpoints. One transaction.
	///
	/// The range already pruned is remembered, and each run deletes `[pruned_below, cutoff)`
	/// with range deletions over big-endian key prefixes: the cost grows with what is deleted,
	/// never with the size of the database. A prefix with no key under it gets no range
	/// deletion: RocksDB moves a file of nothing but range deletions down to the last level
	/// untouched, where it stays (an evidence column with nothing to delete grew by one such
	/// file at every prune).
	pub fn prune_old_checkpoints<H: Decode>(&self, keep: u64) -> Result<PruneOutcome> {
		self.ensure_initialised()?;
		let _lock = self.write_lock.lock();
		let finalized = self.get_meta::<Checkpoint<H>>(meta::FINALIZED)?.map_or(0, |f| f.number.0);
		let from: Epoch = self.get_meta(meta::PRUNED_BELOW)?.unwrap_or_default();
		let cutoff = Epoch(finalized.saturating_sub(keep));
		if cutoff <= from {
			return Ok(PruneOutcome { pruned_below: from, ..PruneOutcome::default() });
		}
		let kept: Vec<Epoch> = self.get_meta(meta::KEPT_CERTIFICATES)?.unwrap_or_default();
		let mut tx = DBTransaction::new();
		let mut range_deletes = 0;
		let mut delete = |column: u32, start: u64, end: u64| {
			for prefix in prefix_cover(start, end) {
				if self.db.iter_with_prefix(column, &prefix).next().is_some() {
					tx.delete_prefix(column, &prefix);
					range_deletes += 1;
				}
			}
		};
		delete(columns::SIGNATURES, from.0, cutoff.0);
		delete(columns::EVIDENCE, from.0, cutoff.0);
		let mut start = from.0;
		for kept in kept.iter().map(|k| k.0).filter(|k| (from.0..cutoff.0).contains(k)) {
			delete(columns::CERTIFICATES, start, kept);
			start = kept + 1;
		}
		delete(columns::CERTIFICATES, start, cutoff.0);
		tx.put(columns::META, meta::PRUNED_BELOW, &cutoff.encode());
		self.write(tx)?;
		let flushed_wal = self.unpin_wal()?;
		Ok(PruneOutcome {
			pruned_below: cutoff,
			checkpoints: cutoff.0 - from.0,
			range_deletes,
			flushed_wal,
		})
	}

	/// Flushes every column when the write-ahead log is over twice its cap; returns whether it
	/// did.
	///
	/// RocksDB keeps a log file until every column with data in it has flushed, and while the
	/// oldest one waits for a flush it starts no other for the logs' size. A column left with a
	/// memtable that no flush picked up (seen with the evidence column, which is rarely
	/// written) then holds the log, which grew without bound
	/// (`the_files_follow_the_retention_not_the_writes`). A manual compaction flushes the
	/// column first; it runs only then, so pruning's cost stays with what it deletes.
	fn unpin_wal(&self) -> Result<bool> {
		let io_err = |source| Error::Write { path: self.path.clone(), source };
		let mut wal = 0;
		for entry in std::fs::read_dir(&self.path).map_err(io_err)? {
			let entry = entry.map_err(io_err)?;
			if entry.path().extension().is_some_and(|e| e == "log") {
				wal += entry.metadata().map_err(io_err)?.len();
			}
		}
		if wal <= 2 * MAX_WAL_BYTES {
			return Ok(false);
		}
		for column in 0..columns::NUM_COLUMNS {
			self.db.force_compact(column).map_err(io_err)?;
		}
		Ok(true)
	}

	/// Keys and bytes per column. Walks the whole database: for operators and tests, not for
	/// a hot path.
	pub fn stats(&self) -> Result<Vec<ColumnStats>> {
		(0..columns::NUM_COLUMNS)
			.map(|col| {
				let mut stats =
					ColumnStats { column: columns::NAMES[col as usize], keys: 0, bytes: 0 };
				for entry in self.db.iter(col) {
					let (key, value) = entry.map_err(|source| self.read_err(source))?;
					stats.keys += 1;
					stats.bytes += (key.len() + value.len()) as u64;
				}
				Ok(stats)
			})
			.collect()
	}

	fn is_empty(&self) -> Result<bool> {
		for col in 0..columns::NUM_COLUMNS {
			if let Some(entry) = self.db.iter(col).next() {
				entry.map_err(|source| self.read_err(source))?;
				return Ok(false);
			}
		}
		Ok(true)
	}

	fn ensure_initialised(&self) -> Result<()> {
		match self.genesis.get() {
			Some(_) => Ok(()),
			None => Err(Error::NotInitialised { path: self.path.clone() }),
		}
	}

	fn get_meta<T: Decode>(&self, key: &[u8]) -> Result<Option<T>> {
		self.read(columns::META, key)?.map(|v| self.decode(columns::META, key, &v)).transpose()
	}

	fn read(&self, col: u32, key: &[u8]) -> Result<Option<Vec<u8>>> {
		self.db.get(col, key).map_err(|source| self.read_err(source))
	}

	fn write(&self, tx: DBTransaction) -> Result<()> {
		self.db.write(tx).map_err(|source| Error::Write { path: self.path.clone(), source })
	}

	fn decode<T: Decode>(&self, col: u32, key: &[u8], mut value: &[u8]) -> Result<T> {
		let decoded = T::decode(&mut value).map_err(|e| self.corrupt(col, key, &e.to_string()))?;
		if !value.is_empty() {
			return Err(self.corrupt(col, key, "trailing bytes after the record"));
		}
		Ok(decoded)
	}

	fn corrupt(&self, col: u32, key: &[u8], reason: &str) -> Error {
		Error::Corrupt {
			path: self.path.clone(),
			column: columns::NAMES[col as usize],
			key: array_bytes::bytes2hex("", key),
			reason: reason.to_string(),
		}
	}

	fn read_err(&self, source: std::io::Error) -> Error {
		Error::Read { path: self.path.clone(), source }
	}
}

/// `target epoch ++ validator index ++ blake2_256(vote)`: votes sort by target, then voter.
fn signature_key<H>(vote: &CheckpointSignature<H>, encoded: &[u8]) -> [u8; 44] {
	let mut key = [0u8; 44];
	key[..8].copy_from_slice(&vote.link.target.number.to_be_bytes());
	key[8..12].copy_from_slice(&vote.validator_index.to_be_bytes());
	key[12..].copy_from_slice(&blake2_256(encoded));
	key
}

/// Splits the numbers `[start, end)` into key prefixes of big-endian `u64`s: a prefix of
/// `8 - k` bytes covers `256^k` aligned numbers. At most `2 * 255 * 8` prefixes, whatever the
/// span, so a prune issues few range deletions.
fn prefix_cover(mut start: u64, end: u64) -> Vec<Vec<u8>> {
	let mut prefixes = Vec::new();
	while start < end {
		let mut k = 0;
		while k < 7 {
			let block = 1u128 << (8 * (k + 1));
			if u128::from(start) % block != 0 || u128::from(start) + block > u128::from(end) {
				break;
			}
			k += 1;
		}
		prefixes.push(start.to_be_bytes()[..8 - k].to_vec());
		start += 1u64 << (8 * k);
	}
	prefixes
}

/// [`CheckpointStorage`] on a [`CheckpointDB`] and the own-vote [`GuardFile`].
///
/// The node keeps the guard file outside the database directory
/// ([`Self::with_guard_file`]), so that removing the database (`purge-chain`, moving a corrupt
/// one aside) leaves the record of what this validator signed.
pub struct CheckpointStorageAdapter {
	db: Arc<CheckpointDB>,
	guard: GuardFile,
	/// A guard file where earlier versions kept it (in the database directory): read and
	/// merged on load, never written.
	legacy_guard: Option<GuardFile>,
	/// SCALE of the genesis hash, set by `load`.
	genesis: OnceLock<Vec<u8>>,
}

impl CheckpointStorageAdapter {
	/// Wraps `db`; the guard file lives in the database's directory.
	pub fn new(db: Arc<CheckpointDB>) -> Self {
		let guard = GuardFile::in_dir(db.path());
		Self { db, guard, legacy_guard: None, genesis: OnceLock::new() }
	}

	/// Keeps the own-vote guard in `guard` instead of the database directory. A guard file
	/// left in the database directory by an earlier version is still read and merged.
	pub fn with_guard_file(mut self, guard: GuardFile) -> Self {
		self.legacy_guard = Some(std::mem::replace(&mut self.guard, guard));
		self
	}

	/// The database.
	pub fn db(&self) -> &Arc<CheckpointDB> {
		&self.db
	}

	/// Writes `guard` durably to the guard file; only after `load` checked the chain.
	fn write_guard_file(&self, guard: &OwnVoteGuard) -> Result<()> {
		let genesis = self
			.genesis
			.get()
			.ok_or_else(|| Error::NotInitialised { path: self.db.path().into() })?;
		self.guard.write(genesis, guard)
	}
}

impl<H: Encode + Decode + Send + Sync> CheckpointStorage<H> for CheckpointStorageAdapter {
	fn load(&self, genesis_hash: &H, window: u64) -> Result<StoredState<H>> {
		self.db.initialise(genesis_hash)?;
		let genesis = self.genesis.get_or_init(|| genesis_hash.encode());
		let mut state = self.db.load_state(window)?;
		let mut copies = vec![state.own_vote_guard, self.guard.read(genesis)?];
		if let Some(legacy) = &self.legacy_guard {
			copies.push(legacy.read(genesis)?);
		}
		state.own_vote_guard = copies.into_iter().flatten().reduce(|a, b| a.merge(b));
		Ok(state)
	}

	fn store_votes(&self, votes: &[CheckpointSignature<H>]) -> Result<()> {
		self.db.write_votes(votes)
	}

	fn store_own_vote(&self, vote: &CheckpointSignature<H>, guard: &OwnVoteGuard) -> Result<()> {
		// The guard first: if the process dies between the two writes, the guard is ahead of
		// the stored vote, which only ever costs a vote, never a double vote.
		self.write_guard_file(guard)?;
		self.db.write_own_vote(vote, guard)
	}

	fn store_guard(&self, guard: &OwnVoteGuard) -> Result<()> {
		self.write_guard_file(guard)?;
		self.db.write_guard(guard)
	}

	fn store_certificate(
		&self,
		certificate: &CheckpointCertificate<H>,
		justified: &Checkpoint<H>,
		sets: Option<&[EnactedSet<H>]>,
	) -> Result<()> {
		self.db.write_certificate(certificate, justified, sets)
	}

	fn store_sets(&self, sets: &[EnactedSet<H>]) -> Result<()> {
		self.db.write_sets(sets)
	}

	fn store_signals(&self, signals: &PendingSignals<H>) -> Result<()> {
		self.db.write_signals(signals)
	}

	fn store_justified(&self, justified: &Checkpoint<H>) -> Result<()> {
		self.db.write_justified(justified)
	}

	fn store_evidence(
		&self,
		first: &CheckpointSignature<H>,
		second: &CheckpointSignature<H>,
	) -> Result<()> {
		self.db.write_evidence(first, second)
	}

	fn certificate(&self, number: Epoch) -> Result<Option<CheckpointCertificate<H>>> {
		self.db.certificate(number)
	}

	fn first_certificate_in(
		&self,
		from: Epoch,
		to: Epoch,
	) -> Result<Option<CheckpointCertificate<H>>> {
		self.db.first_certificate_in(from, to)
	}

	fn set_changes(&self) -> Result<Vec<Epoch>> {
		self.db.set_changes()
	}

	fn prune(&self, keep: u64) -> Result<PruneOutcome> {
		self.db.prune_old_checkpoints::<H>(keep)
	}
}

#[cfg(test)]
mod tests {
	use super::*;

	fn covered(prefixes: &[Vec<u8>]) -> Vec<u64> {
		let mut numbers = Vec::new();
		for prefix in prefixes {
			let free = 8 - prefix.len();
			let mut base = [0u8; 8];
			base[..prefix.len()].copy_from_slice(prefix);
			let base = u64::from_be_bytes(base);
			numbers.extend(base..base + (1u64 << (8 * free)));
		}
		numbers
	}

	#[test]
	fn prefix_cover_is_exact() {
		for (start, end) in
			[(0, 1), (0, 256), (3, 700), (255, 257), (1000, 1100), (0, 70_000), (5, 5)]
		{
			let prefixes = prefix_cover(start, end);
			assert_eq!(covered(&prefixes), (start..end).collect::<Vec<_>>(), "[{start}, {end})");
			assert!(prefixes.len() <= 2 * 255 * 8);
		}
		// A large span needs few prefixes.
		assert!(prefix_cover(0, 1 << 40).len() <= 8);
	}
}
