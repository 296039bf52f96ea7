//! Benchmarks of checkpoint finality at 100 validators:
//!
//! - `vote_ingest/verify_only`: the signature check of one vote alone, and
//!   `vote_ingest/verify_and_persist`: `add_checkpoint_signature` on a state machine with a real
//!   store (kvdb-rocksdb in a temporary directory), a fresh vote every iteration, the buffer
//!   flushed every 100 votes and certificates written as finality advances.
//! - `restore/100x1000`: open the store and `restore_from_storage()` with 1000 finalized and
//!   retained checkpoints of 100 validators (votes and certificates) plus a full vote window.
//! - `prune/100_checkpoints_100_validators`: `prune_old_checkpoints` removing 100 checkpoints,
//!   on that store and on one ten times larger (`..._10x_db`): the cost follows what is
//!   deleted, not the size of the store.

#[path = "../tests/common/mod.rs"]
mod common;

use common::*;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use sc_finality_checkpoint::{
	CheckpointDB, CheckpointFinality, CheckpointPersistenceConfig, CheckpointStorageAdapter,
	FinalityConfig,
};
use sp_core::{ed25519, Pair, H256};
use sp_finality_checkpoint::{
	signing_payload, AuthoritySignature, CheckpointCertificate, CheckpointSignature,
};
use sp_runtime::RuntimeAppPublic;
use std::{
	hint::black_box,
	path::{Path, PathBuf},
	sync::Arc,
	time::{Duration, Instant},
};

const VALIDATORS: usize = 100;
/// Finalized and retained checkpoints of the restore store (and of the smaller prune store).
const RETAINED: u64 = 1000;
/// Checkpoints a prune removes.
const PRUNED: u64 = 100;

/// Votes of the validators on a chain that finalizes as they arrive: round `r` is every
/// validator's vote `r -> r + 1`, in validator order. The 67th vote of a round justifies
/// `r + 1` and finalizes `r`, so a fresh state machine takes every vote and its memory stays
/// bounded by the window, as in a live network.
struct Chain {
	keys: Vec<ed25519::Pair>,
	votes: Vec<CheckpointSignature<H256>>,
}

impl Chain {
	fn new() -> Self {
		Self { keys: keys(VALIDATORS), votes: Vec::new() }
	}

	/// The first `count` votes, signing more as needed.
	fn take(&mut self, count: usize) -> &[CheckpointSignature<H256>] {
		while self.votes.len() < count {
			let round = (self.votes.len() / VALIDATORS) as u64;
			self.votes.extend(votes(&self.keys, VALIDATORS, link(cp(0, round), cp(0, round + 1))));
		}
		&self.votes[..count]
	}
}

/// A state machine of the 100 validators on the store at `path`, restored.
fn open(path: &Path, keys: &[ed25519::Pair]) -> CheckpointFinality<H256> {
	let db = Arc::new(CheckpointDB::new(path).expect("open checkpoint db"));
	let mut finality =
		CheckpointFinality::new(GENESIS, voter_set(keys, 0), FinalityConfig::default());
	finality.set_storage(
		Arc::new(CheckpointStorageAdapter::new(db)),
		CheckpointPersistenceConfig::default(),
	);
	finality.restore_from_storage().expect("restore");
	finality
}

fn vote_ingest(c: &mut Criterion) {
	let mut chain = Chain::new();
	let set = voter_set(&chain.keys, 0);
	let mut group = c.benchmark_group("vote_ingest");
	group.throughput(Throughput::Elements(1));

	let pool = chain.take(10_000).to_vec();
	let mut next = 0;
	group.bench_function("verify_only", |b| {
		b.iter(|| {
			let v = &pool[next % pool.len()];
			next += 1;
			let public = &set.authorities()[v.validator_index as usize];
			black_box(public.verify(&signing_payload(&GENESIS, &v.link), &v.signature))
		})
	});
	assert!(pool.iter().take(100).all(|v| set.authorities()[v.validator_index as usize]
		.verify(&signing_payload(&GENESIS, &v.link), &v.signature)));

	group.bench_function("verify_and_persist", |b| {
		b.iter_custom(|iters| {
			let batch = chain.take(iters as usize).to_vec();
			let dir = tempfile::tempdir().expect("tempdir");
			let mut finality = open(dir.path(), &chain.keys);
			let start = Instant::now();
			for (i, v) in batch.into_iter().enumerate() {
				finality.add_checkpoint_signature(v).expect("a fresh, valid vote");
				if (i + 1) % 100 == 0 {
					finality.persistence().expect("storage").flush().expect("flush");
				}
			}
			finality.persistence().expect("storage").flush().expect("flush");
			let elapsed = start.elapsed();
			// Round r's 67th vote finalizes r: every vote counted.
			let rounds = iters / VALIDATORS as u64;
			let expected = if iters % 100 >= 67 { rounds } else { rounds.saturating_sub(1) };
			assert_eq!(finality.last_finalized().number.0, expected, "{iters} votes");
			elapsed
		})
	});
	group.finish();
}

/// Writes a store of `validators` validators with checkpoints `1..=finalized` finalized
/// (their votes and certificates; signatures need not verify for storage) and a full default
/// window (32) of votes above that finalizes nothing: all validators vote `finalized ->
/// finalized + 1` (the link that finalized it), and above, half vote the main chain and half a
/// fork. Then reopens it once so that the write-ahead log is flushed into table files.
fn build_store(path: &Path, validators: usize, finalized: u64) {
	let signature: AuthoritySignature = keys(1)[0].sign(b"storage filler").into();
	let filler = |index: usize, source, target| CheckpointSignature {
		link: link(source, target),
		validator_index: index as u32,
		signature: signature.clone(),
	};
	{
		let db = CheckpointDB::new(path).expect("open");
		db.initialise(&GENESIS).expect("initialise");
		for chunk in (1..=finalized + 1).collect::<Vec<_>>().chunks(100) {
			let batch: Vec<_> = chunk
				.iter()
				.flat_map(|t| (0..validators).map(move |i| (i, *t)))
				.map(|(i, t)| filler(i, cp(0, t - 1), cp(0, t)))
				.collect();
			db.write_votes(&batch).expect("write votes");
		}
		let threshold = voter_set(&keys(validators), 0).threshold();
		for number in 1..=finalized {
			let certificate = CheckpointCertificate {
				link: link(cp(0, number), cp(0, number + 1)),
				signatures: (0..threshold as u32).map(|i| (i, signature.clone())).collect(),
			};
			db.write_certificate(&certificate, &cp(0, number + 1), None)
				.expect("write certificate");
		}
		let window: Vec<_> = (finalized + 2..=finalized + 32)
			.flat_map(|t| (0..validators).map(move |i| (i, t)))
			.map(|(i, t)| filler(i, cp(0, t - 1), cp((i % 2) as u8, t)))
			.collect();
		db.write_votes(&window).expect("write window");
	}
	drop(CheckpointDB::new(path).expect("reopen"));
}

/// A copy of the store at `from` in `to`: table files are immutable, so they are hard-linked;
/// the rest (manifest, current, options, logs) is copied.
fn clone_store(from: &Path, to: &Path) {
	std::fs::create_dir_all(to).expect("create dir");
	for entry in std::fs::read_dir(from).expect("read dir") {
		let entry = entry.expect("dir entry");
		let (path, target) = (entry.path(), to.join(entry.file_name()));
		if path.extension().is_some_and(|e| e == "sst") {
			std::fs::hard_link(&path, &target).expect("hard link");
		} else if path.is_file() {
			std::fs::copy(&path, &target).expect("copy");
		}
	}
}

/// Stores built once per run, under one directory (hard links need one file system).
struct Stores {
	root: tempfile::TempDir,
	built: Vec<(u64, PathBuf)>,
}

impl Stores {
	fn new() -> Self {
		Self { root: tempfile::tempdir().expect("tempdir"), built: Vec::new() }
	}

	/// The store with `finalized` checkpoints of 100 validators.
	fn get(&mut self, finalized: u64) -> PathBuf {
		if let Some((_, path)) = self.built.iter().find(|(f, _)| *f == finalized) {
			return path.clone();
		}
		let path = self.root.path().join(format!("template-{finalized}"));
		let start = Instant::now();
		build_store(&path, VALIDATORS, finalized);
		eprintln!(
			"built a store of {finalized} checkpoints x {VALIDATORS} validators in {:?}",
			start.elapsed()
		);
		self.built.push((finalized, path.clone()));
		path
	}

	/// A fresh copy of the store with `finalized` checkpoints.
	fn copy(&mut self, finalized: u64) -> tempfile::TempDir {
		let template = self.get(finalized);
		let dir = tempfile::tempdir_in(self.root.path()).expect("tempdir");
		clone_store(&template, &dir.path().join("db"));
		dir
	}
}

fn restore(c: &mut Criterion, stores: &mut Stores) {
	let keys = keys(VALIDATORS);
	let mut group = c.benchmark_group("restore");
	group.sample_size(10);
	let mut copy = None;
	group.bench_function("100x1000", |b| {
		let dir = copy.get_or_insert_with(|| stores.copy(RETAINED));
		let path = dir.path().join("db");
		b.iter_custom(|iters| {
			let mut total = Duration::ZERO;
			for _ in 0..iters {
				let start = Instant::now();
				let finality = open(&path, &keys);
				total += start.elapsed();
				assert_eq!(finality.last_finalized(), cp(0, RETAINED));
				assert_eq!(finality.highest_justified(), cp(0, RETAINED + 1));
				assert_eq!(
					keys.iter().map(|k| finality.votes_of(&k.public().into()).len()).sum::<usize>(),
					32 * VALIDATORS
				);
			}
			total
		})
	});
	group.finish();
}

fn prune(c: &mut Criterion, stores: &mut Stores) {
	let mut group = c.benchmark_group("prune");
	group.sample_size(10);
	for (name, finalized) in [
		("100_checkpoints_100_validators", RETAINED),
		("100_checkpoints_100_validators_10x_db", 10 * RETAINED),
	] {
		// Keep all but the oldest 100 checkpoints: the prune removes [0, 100).
		let keep = finalized - PRUNED;
		group.bench_function(name, |b| {
			b.iter_batched(
				|| {
					let dir = stores.copy(finalized);
					let db = CheckpointDB::new(&dir.path().join("db")).expect("open");
					db.initialise(&GENESIS).expect("initialise");
					// Dropped in this order after the timed part: the database, then its copy.
					(db, dir)
				},
				|(db, dir)| {
					let outcome = db.prune_old_checkpoints::<H256>(keep).expect("prune");
					assert_eq!(outcome.checkpoints, PRUNED);
					(db, dir)
				},
				BatchSize::PerIteration,
			)
		});
	}
	group.finish();
}

fn storage(c: &mut Criterion) {
	let mut stores = Stores::new();
	restore(c, &mut stores);
	prune(c, &mut stores);
}

criterion_group!(benches, vote_ingest, storage);
criterion_main!(benches);
