//! Benchmarks of checkpoint finality, and the goals they check (on one core: the benchmarks
//! run single-threaded).
//!
//! - `vote_ingest/verify_only`: the signature check of one vote alone (sp-core's single
//!   ed25519 verification, the signing payload built per vote), the baseline of the others.
//! - `vote_ingest/ingest/{100,300,1000}`: `add_checkpoint_signature` at 100, 300 and 1000
//!   validators on a state machine with a real store (kvdb-rocksdb in a temporary directory),
//!   a fresh vote every iteration, the buffer flushed every 100 votes and certificates written
//!   as finality advances; one element per vote. **Goal:** ingest throughput at least 0.8 x
//!   that of `verify_only` (time per vote at most 1.25 x a single verification): checking
//!   the signature stays the cost of a vote, counting and persisting it adds little.
//! - `certificate_verify/batch/{100,1000}`: `VoterSet::verify_certificate` of a certificate of
//!   100 and 1000 signatures (every validator of the set), which verifies them as one
//!   ed25519-zebra batch; `certificate_verify/single/{100,1000}`: the same signatures verified
//!   one by one as `verify_only` does. One element per signature, so both report
//!   per-signature throughput. **Goal:** batch throughput at least 1.5 x single.
//! - `restore/100x{250,1000,4000}`: open the store and `restore_from_storage()` with 250, 1000
//!   and 4000 finalized and retained checkpoints of 100 validators (votes and certificates)
//!   plus a full vote window. **Goal:** at most 100 ms at 1000, and flat as retention grows
//!   (restore reads the watermarks and the window, not what lies below finality).
//! - `prune/deleted/{10,100,1000}`: `prune_old_checkpoints` removing 10, 100 and 1000
//!   checkpoints of 100 validators from a store of 10 000. **Goal:** the cost grows with what is
//!   deleted, at most in proportion (range deletions over key prefixes make it less).
//! - `prune/db/{1000,10000}`: removing 100 checkpoints from a store of 1000 and of 10 000.
//!   **Goal:** the cost follows what is deleted, not the size of the store (the two take about
//!   the same time).

#[path = "../tests/common/mod.rs"]
mod common;

use common::*;
use criterion::{criterion_group, criterion_main, BatchSize, BenchmarkId, Criterion, Throughput};
use sc_finality_checkpoint::{
	CertificateError, CheckpointDB, CheckpointFinality, CheckpointPersistenceConfig,
	CheckpointStorageAdapter, FinalityConfig,
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

/// Validators of the store benchmarks (restore, prune) and of `vote_ingest/verify_only`.
const VALIDATORS: usize = 100;
/// Finalized and retained checkpoints of the restore stores.
const RETAINED: [u64; 3] = [250, 1000, 4000];
/// Checkpoints in the stores of the prune benchmarks.
const PRUNE_STORES: [u64; 2] = [1000, 10_000];
/// Checkpoints a prune removes from the larger prune store.
const PRUNED: [u64; 3] = [10, 100, 1000];
/// Set sizes of `vote_ingest/ingest`.
const INGEST_VALIDATORS: [usize; 3] = [100, 300, 1000];
/// Certificate sizes (signatures, of as many validators) of `certificate_verify`.
const CERTIFICATE_SIGNATURES: [usize; 2] = [100, 1000];

/// `n` distinct deterministic validator key pairs: [`keys`]'s for the first 255 (its seeds
/// repeat a byte, so they would repeat beyond), then seeds holding the index.
fn validator_keys(n: usize) -> Vec<ed25519::Pair> {
	let mut pairs = keys(n.min(255));
	pairs.extend((255..n).map(|i| {
		let mut seed = [0u8; 32];
		seed[..8].copy_from_slice(&(i as u64).to_be_bytes());
		ed25519::Pair::from_seed(&seed)
	}));
	pairs
}

/// Votes of `validators` validators on a chain that finalizes as they arrive: round `r` is
/// every validator's vote `r -> r + 1`, in validator order. The threshold-th vote of a round
/// (the 67th of 100) justifies `r + 1` and finalizes `r`, so a fresh state machine takes every
/// vote and its memory stays bounded by the window, as in a live network. Votes are signed
/// when first asked for.
struct Chain {
	validators: usize,
	threshold: usize,
	keys: Vec<ed25519::Pair>,
	votes: Vec<CheckpointSignature<H256>>,
}

impl Chain {
	fn new(validators: usize) -> Self {
		let keys = validator_keys(validators);
		let threshold = voter_set(&keys, 0).threshold();
		Self { validators, threshold, keys, votes: Vec::new() }
	}

	/// The first `count` votes, signing more as needed.
	fn take(&mut self, count: usize) -> &[CheckpointSignature<H256>] {
		while self.votes.len() < count {
			let round = (self.votes.len() / self.validators) as u64;
			let link = link(cp(0, round), cp(0, round + 1));
			self.votes.extend(votes(&self.keys, self.validators, link));
		}
		&self.votes[..count]
	}

	/// The finalized epoch after the first `count` votes: round `r`'s threshold-th vote
	/// finalizes `r` (round 0's, genesis, final already).
	fn finalized_after(&self, count: u64) -> u64 {
		let (rounds, partial) = (count / self.validators as u64, count % self.validators as u64);
		if partial >= self.threshold as u64 {
			rounds
		} else {
			rounds.saturating_sub(1)
		}
	}
}

/// A state machine of the validators of `keys` (set 0) on the store at `path`, restored.
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
	let mut group = c.benchmark_group("vote_ingest");
	group.throughput(Throughput::Elements(1));

	let mut chain = Chain::new(VALIDATORS);
	let set = voter_set(&chain.keys, 0);
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

	let mut signed = Some(chain);
	for validators in INGEST_VALIDATORS {
		// At 100 validators, the votes signed for `verify_only` already.
		let mut chain = match signed.take() {
			Some(chain) if chain.validators == validators => chain,
			_ => Chain::new(validators),
		};
		if validators > VALIDATORS {
			// Each sample signs and ingests thousands of votes: fewer, longer samples.
			group.sample_size(10);
			group.measurement_time(Duration::from_secs(10));
		}
		group.bench_function(BenchmarkId::new("ingest", validators), |b| {
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
				// Every vote counted: each round's threshold-th vote finalized its source.
				assert_eq!(
					finality.last_finalized().number.0,
					chain.finalized_after(iters),
					"{iters} votes of {validators} validators"
				);
				elapsed
			})
		});
	}
	group.finish();
}

/// A certificate of the first `validators` of `keys` (all signing) for a finalizing link.
fn full_certificate(keys: &[ed25519::Pair], validators: usize) -> CheckpointCertificate<H256> {
	let link = link(cp(0, 1), cp(0, 2));
	let signatures =
		votes(keys, validators, link).into_iter().map(|v| (v.validator_index, v.signature));
	CheckpointCertificate { link, signatures: signatures.collect() }
}

fn certificate_verify(c: &mut Criterion) {
	let mut group = c.benchmark_group("certificate_verify");
	// One iteration verifies up to 1000 signatures (tens of milliseconds singly).
	group.sample_size(10);
	for signatures in CERTIFICATE_SIGNATURES {
		let keys = validator_keys(signatures);
		let set = voter_set(&keys, 0);
		let certificate = full_certificate(&keys, signatures);
		assert_eq!(set.verify_certificate(&GENESIS, &certificate), Ok(()));
		// The batch does verify: one wrong signature (another validator's) is found.
		let mut forged = certificate.clone();
		let bad = signatures / 2;
		forged.signatures[bad].1 = certificate.signatures[0].1.clone();
		assert_eq!(
			set.verify_certificate(&GENESIS, &forged),
			Err(CertificateError::BadSignature(bad as u32))
		);

		group.throughput(Throughput::Elements(signatures as u64));
		group.bench_function(BenchmarkId::new("batch", signatures), |b| {
			b.iter(|| black_box(set.verify_certificate(&GENESIS, black_box(&certificate))))
		});
		group.bench_function(BenchmarkId::new("single", signatures), |b| {
			b.iter(|| {
				let certificate = black_box(&certificate);
				let link = &certificate.link;
				black_box(certificate.signatures.iter().all(|(index, signature)| {
					let public = &set.authorities()[*index as usize];
					public.verify(&signing_payload(&GENESIS, link), signature)
				}))
			})
		});
	}
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
	for retained in RETAINED {
		let dir = stores.copy(retained);
		let path = dir.path().join("db");
		group.bench_function(format!("{VALIDATORS}x{retained}"), |b| {
			b.iter_custom(|iters| {
				let mut total = Duration::ZERO;
				for _ in 0..iters {
					let start = Instant::now();
					let finality = open(&path, &keys);
					total += start.elapsed();
					assert_eq!(finality.last_finalized(), cp(0, retained));
					assert_eq!(finality.highest_justified(), cp(0, retained + 1));
					assert_eq!(
						keys.iter()
							.map(|k| finality.votes_of(&k.public().into()).len())
							.sum::<usize>(),
						32 * VALIDATORS
					);
				}
				total
			})
		});
	}
	group.finish();
}

/// Times removing the oldest `deleted` checkpoints from a fresh copy of the store of
/// `finalized` checkpoints.
fn bench_prune(
	group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
	stores: &mut Stores,
	id: BenchmarkId,
	finalized: u64,
	deleted: u64,
) {
	group.bench_function(id, |b| {
		b.iter_batched(
			|| {
				let dir = stores.copy(finalized);
				let db = CheckpointDB::new(&dir.path().join("db")).expect("open");
				db.initialise(&GENESIS).expect("initialise");
				// Dropped in this order after the timed part: the database, then its copy.
				(db, dir)
			},
			|(db, dir)| {
				let outcome = db.prune_old_checkpoints::<H256>(finalized - deleted).expect("prune");
				assert_eq!(outcome.checkpoints, deleted);
				(db, dir)
			},
			BatchSize::PerIteration,
		)
	});
}

fn prune(c: &mut Criterion, stores: &mut Stores) {
	let mut group = c.benchmark_group("prune");
	group.sample_size(10);
	let largest = PRUNE_STORES[PRUNE_STORES.len() - 1];
	for deleted in PRUNED {
		bench_prune(&mut group, stores, BenchmarkId::new("deleted", deleted), largest, deleted);
	}
	for finalized in PRUNE_STORES {
		bench_prune(&mut group, stores, BenchmarkId::new("db", finalized), finalized, 100);
	}
	group.finish();
}

fn storage(c: &mut Criterion) {
	let mut stores = Stores::new();
	restore(c, &mut stores);
	prune(c, &mut stores);
}

criterion_group!(benches, vote_ingest, certificate_verify, storage);
criterion_main!(benches);
