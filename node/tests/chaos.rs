//! Crash loop: a four-validator devnet where a random validator is killed with `kill -9` at a
//! random moment (right after it stored an own vote, or after a random pause, while it prunes
//! every second) and restarted from the same base path, again and again. Safety must hold
//! through every crash: no node ever records an equivocation, and no own vote is lost (the
//! guard each restart restores covers every vote the node cast before the kill). Prints the
//! figures: kills, restores logged, the p50 and worst time for the restarted node's finality to
//! pass its pre-kill height.
//!
//! `CHAOS_KILLS` sets the number of kills (3 by default, as in `scripts/test.sh`);
//! `scripts/chaos.sh` runs the long version on a release build.

mod common;

use common::*;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Checkpoint interval of the devnet.
const INTERVAL: u64 = 2;

/// xorshift64: random enough to pick a validator and a pause; the seed is printed.
struct Rng(u64);

impl Rng {
	fn next(&mut self, below: u64) -> u64 {
		self.0 ^= self.0 << 13;
		self.0 ^= self.0 >> 7;
		self.0 ^= self.0 << 17;
		self.0 % below
	}
}

#[test]
fn a_crash_loop_never_breaks_safety() {
	let kills: usize = std::env::var("CHAOS_KILLS").ok().and_then(|k| k.parse().ok()).unwrap_or(3);
	let seed = std::env::var("CHAOS_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
		SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos() as u64 | 1
	});
	eprintln!("chaos: {kills} kills, seed {seed} (CHAOS_SEED={seed} repeats the choices)");
	let mut rng = Rng(seed);
	let dir = tempfile::tempdir().unwrap();
	// Prune every second, keeping little: kills land during prunes too.
	let flags = ["--checkpoint-prune-interval", "1", "--checkpoint-retention", "4"];
	let (mut nodes, _) = devnet(dir.path(), INTERVAL, &flags);

	let mut recoveries = Vec::new();
	let mut after_vote = 0;
	for kill in 0..kills {
		let v = rng.next(nodes.len() as u64) as usize;
		let node = &mut nodes[v];
		if rng.next(2) == 0 {
			// Right after it stored an own vote.
			let seen = node.own_votes(0).len();
			wait_for(&format!("a new own vote of {}", node.name), LONG, || {
				(node.own_votes(0).len() > seen).then_some(())
			});
			after_vote += 1;
		} else {
			std::thread::sleep(Duration::from_millis(rng.next(6000)));
		}
		let (before, _) = node.finalized();
		node.kill();
		let cast = node.own_votes(0);
		let mark = node.log_text().len();
		let started = Instant::now();
		node.start_again();
		let restored = node.wait_log(mark, "✅ Checkpoint state restored", LONG);
		let guard = own_vote_guard_target(
			restored.lines().find(|l| l.contains("✅ Checkpoint state restored")).unwrap(),
		);
		let highest = cast.iter().map(|v| v.1).max().unwrap_or(0);
		assert!(
			guard >= highest,
			"kill {kill}: {} restored guard #{guard} below its own vote for #{highest}",
			node.name
		);
		node.wait_finalized(before + 1, LONG);
		recoveries.push(started.elapsed());
		eprintln!(
			"kill {}/{kills}: {} at #{before}, finality passed it again after {:?}",
			kill + 1,
			node.name,
			started.elapsed()
		);
	}

	let restores: usize = nodes
		.iter()
		.map(|n| n.log_text().matches("✅ Checkpoint state restored").count().saturating_sub(1))
		.sum();
	let equivocations: usize =
		nodes.iter().map(|n| n.log_text().matches("⚠️ Equivocation").count()).sum();
	for node in &nodes {
		let votes = node.own_votes(0);
		for (i, a) in votes.iter().enumerate() {
			for b in &votes[i + 1..] {
				assert!(!votes_conflict(*a, *b), "{} cast {a:?} and {b:?}", node.name);
			}
		}
	}
	recoveries.sort();
	eprintln!(
		"chaos figures: kills {kills} ({after_vote} right after an own vote), restores logged \
		 {restores}, time for finality to pass the pre-kill height p50 {:?} worst {:?}, \
		 equivocations recorded {equivocations}, own votes lost 0",
		recoveries[recoveries.len() / 2],
		recoveries.last().unwrap(),
	);
	assert_eq!(restores, kills);
	assert_eq!(equivocations, 0);
}
