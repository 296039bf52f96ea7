//! The own-vote guard file: the highest source and target this validator ever signed.
//!
//! kvdb-rocksdb writes with `sync = false`, which survives a process crash but not a power
//! loss. The guard must survive both, so it lives in a small file of its own, replaced
//! atomically and durably (write a temp file, fsync it, rename it over the old one, fsync the
//! directory), as CometBFT keeps its last-signed state. The file also names the chain
//! (genesis hash), and a checksum catches a damaged file.
//!
//! The file starts with a magic naming its format: `CKPTGRD2`, the two-round protocol's guard
//! of epochs. A `CKPTGRD1` file, the one-round protocol's guard of checkpoint numbers, is
//! refused ([`Error::OneRoundGuard`]) and left as it is, never read as a guard of epochs.
//!
//! The state's one owner writes it (an own vote, the own-key alarm); still, writes to one file
//! go one at a time, through a temporary file of this process's own, and each writes the
//! component-wise maximum of its guard and the highest one written before, so the guard on
//! disk never goes down, whoever else holds a handle on the file.

use crate::{
	error::{Error, Result},
	state::OwnVoteGuard,
};
use codec::{Decode, Encode};
use parking_lot::Mutex;
use sp_crypto_hashing::blake2_256;
use std::{
	fs::{self, File, OpenOptions},
	io::Write,
	path::{Path, PathBuf},
	sync::Arc,
};

/// File name of the guard. The node keeps it in the chain's directory
/// (`<base>/chains/<id>/own-vote-guard`), beside the checkpoint database and not inside it, so
/// that `purge-chain` and moving a damaged database aside leave it in place; only
/// `purge-chain --unsafe-reset-own-vote-guard` removes it.
pub const GUARD_FILE_NAME: &str = "own-vote-guard";

/// The magic of the two-round protocol's guard file (epochs).
const MAGIC: &[u8; 8] = b"CKPTGRD2";
/// The magic of the one-round protocol's guard file (checkpoint numbers): refused.
const ONE_ROUND_MAGIC: &[u8; 8] = b"CKPTGRD1";
const CHECKSUM_LEN: usize = 8;

/// The fsynced own-vote guard file of one chain. Clones share the writer's lock.
#[derive(Debug, Clone)]
pub struct GuardFile {
	path: PathBuf,
	/// The highest guard written by this handle (and its clones): one write at a time.
	written: Arc<Mutex<Option<OwnVoteGuard>>>,
}

impl GuardFile {
	/// The guard file [`GUARD_FILE_NAME`] in directory `dir`.
	pub fn in_dir(dir: &Path) -> Self {
		Self::at(dir.join(GUARD_FILE_NAME))
	}

	/// The guard file at `path`.
	pub fn at(path: PathBuf) -> Self {
		Self { path, written: Arc::new(Mutex::new(None)) }
	}

	/// The file's path.
	pub fn path(&self) -> &Path {
		&self.path
	}

	/// Reads the guard; `None` if no file exists. A file of another chain, of the one-round
	/// protocol or a damaged file is an error: the validator must not vote on a guess.
	pub fn read(&self, genesis: &[u8]) -> Result<Option<OwnVoteGuard>> {
		let bytes = match fs::read(&self.path) {
			Ok(bytes) => bytes,
			Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
			Err(source) => return Err(Error::Guard { path: self.path.clone(), source }),
		};
		let corrupt = |reason: &str| Error::GuardCorrupt {
			path: self.path.clone(),
			reason: reason.to_string(),
		};
		if bytes.starts_with(ONE_ROUND_MAGIC) {
			return Err(Error::OneRoundGuard { path: self.path.clone() });
		}
		if bytes.len() < MAGIC.len() + CHECKSUM_LEN || !bytes.starts_with(MAGIC) {
			return Err(corrupt("not a checkpoint own-vote guard file"));
		}
		let (body, checksum) = bytes.split_at(bytes.len() - CHECKSUM_LEN);
		if blake2_256(body)[..CHECKSUM_LEN] != *checksum {
			return Err(corrupt("checksum mismatch"));
		}
		let (stored_genesis, guard) = <(Vec<u8>, OwnVoteGuard)>::decode(&mut &body[MAGIC.len()..])
			.map_err(|e| corrupt(&e.to_string()))?;
		if stored_genesis != genesis {
			return Err(Error::GuardOfAnotherChain {
				path: self.path.clone(),
				expected: array_bytes::bytes2hex("", genesis),
				found: array_bytes::bytes2hex("", &stored_genesis),
			});
		}
		Ok(Some(guard))
	}

	/// Replaces the guard durably with `guard`, merged with the highest guard written before
	/// through this handle: when this returns `Ok`, a power loss cannot undo it, and a
	/// concurrent lower write cannot either.
	pub fn write(&self, genesis: &[u8], guard: &OwnVoteGuard) -> Result<()> {
		let mut written = self.written.lock();
		let guard = written.map_or(*guard, |w| w.merge(*guard));
		self.replace(genesis, &guard)?;
		*written = Some(guard);
		Ok(())
	}

	fn replace(&self, genesis: &[u8], guard: &OwnVoteGuard) -> Result<()> {
		let io_err = |source| Error::Guard { path: self.path.clone(), source };
		let mut body = MAGIC.to_vec();
		(genesis, guard).encode_to(&mut body);
		let checksum = blake2_256(&body);
		body.extend_from_slice(&checksum[..CHECKSUM_LEN]);

		// A name of this process's own: another process writing a guard beside it (which the
		// database's lock should rule out) cannot interleave its bytes with these.
		let tmp = self.path.with_extension(format!("tmp.{}", std::process::id()));
		let mut file = OpenOptions::new()
			.write(true)
			.create(true)
			.truncate(true)
			.open(&tmp)
			.map_err(io_err)?;
		file.write_all(&body).map_err(io_err)?;
		file.sync_all().map_err(io_err)?;
		drop(file);
		fs::rename(&tmp, &self.path).map_err(io_err)?;
		let dir = self.path.parent().unwrap_or(Path::new("."));
		File::open(dir).and_then(|d| d.sync_all()).map_err(io_err)
	}
}

#[cfg(test)]
mod tests {
	use super::*;
	use sp_finality_checkpoint::Epoch;

	fn guard(source: u64, target: u64) -> OwnVoteGuard {
		OwnVoteGuard { source: Epoch(source), target: Epoch(target) }
	}

	#[test]
	fn round_trip_and_replace() {
		let dir = tempfile::tempdir().unwrap();
		let file = GuardFile::in_dir(dir.path());
		assert_eq!(file.read(b"g").unwrap(), None);
		file.write(b"g", &guard(1, 2)).unwrap();
		file.write(b"g", &guard(2, 3)).unwrap();
		assert_eq!(file.read(b"g").unwrap(), Some(guard(2, 3)));
		let leftovers: Vec<_> =
			fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().path()).collect();
		assert_eq!(leftovers, vec![file.path().to_path_buf()], "no temporary file left");
	}

	/// The own-vote path writes outside the voter's lock and the own-key alarm under it: a
	/// write of a lower guard that lands last must not lower the guard on disk.
	#[test]
	fn a_late_lower_write_never_lowers_the_guard() {
		let dir = tempfile::tempdir().unwrap();
		let file = GuardFile::in_dir(dir.path());
		let alarm = file.clone();
		alarm.write(b"g", &guard(1, 7)).unwrap();
		file.write(b"g", &guard(2, 3)).unwrap();
		assert_eq!(file.read(b"g").unwrap(), Some(guard(2, 7)));

		// Many writers at once: the file ends at the maximum of all.
		let writers: Vec<_> = (1..=16u64)
			.map(|i| {
				let file = file.clone();
				std::thread::spawn(move || file.write(b"g", &guard(i % 5, i)).unwrap())
			})
			.collect();
		writers.into_iter().for_each(|w| w.join().unwrap());
		assert_eq!(file.read(b"g").unwrap(), Some(guard(4, 16)));
	}

	#[test]
	fn foreign_and_damaged_files_are_refused() {
		let dir = tempfile::tempdir().unwrap();
		let file = GuardFile::in_dir(dir.path());
		file.write(b"chain-a", &guard(1, 2)).unwrap();
		let err = file.read(b"chain-b").unwrap_err();
		assert!(matches!(err, Error::GuardOfAnotherChain { .. }), "{err}");
		assert!(err.to_string().contains(&file.path().display().to_string()), "{err}");

		let mut bytes = fs::read(file.path()).unwrap();
		let last = bytes.len() - 1;
		bytes[last] ^= 0xff;
		fs::write(file.path(), &bytes).unwrap();
		let err = file.read(b"chain-a").unwrap_err();
		assert!(matches!(err, Error::GuardCorrupt { .. }), "{err}");
		assert!(err.to_string().contains(GUARD_FILE_NAME));

		fs::write(file.path(), b"junk").unwrap();
		assert!(matches!(file.read(b"chain-a"), Err(Error::GuardCorrupt { .. })));
	}

	#[test]
	fn the_file_is_written_with_the_two_round_magic() {
		let dir = tempfile::tempdir().unwrap();
		let file = GuardFile::in_dir(dir.path());
		file.write(b"g", &guard(1, 2)).unwrap();
		assert!(fs::read(file.path()).unwrap().starts_with(b"CKPTGRD2"));
	}

	/// A guard file of the one-round protocol, byte for byte as it wrote one (magic, SCALE of
	/// genesis and guard, checksum), and one cut short: both refused with the one-round error,
	/// neither read nor changed.
	#[test]
	fn a_one_round_guard_file_is_refused_and_left_untouched() {
		let dir = tempfile::tempdir().unwrap();
		let file = GuardFile::in_dir(dir.path());
		let mut old = b"CKPTGRD1".to_vec();
		(b"g".to_vec(), 7u64, 8u64).encode_to(&mut old);
		let checksum = blake2_256(&old);
		old.extend_from_slice(&checksum[..CHECKSUM_LEN]);
		for bytes in [old.clone(), [&b"CKPTGRD1"[..], &[0xab; 8]].concat()] {
			fs::write(file.path(), &bytes).unwrap();
			let err = file.read(b"g").unwrap_err();
			assert!(matches!(err, Error::OneRoundGuard { .. }), "{err}");
			let message = err.to_string();
			assert!(message.contains(&file.path().display().to_string()), "{message}");
			assert!(message.contains("one-round"), "{message}");
			assert!(message.contains("--unsafe-reset-own-vote-guard"), "{message}");
			assert_eq!(fs::read(file.path()).unwrap(), bytes, "the old guard file was written to");
		}
	}
}
