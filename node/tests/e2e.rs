//! End-to-end tests: the real `checkpoint-node` binary, several processes on 127.0.0.1 ports,
//! a real chain spec, JSON-RPC and logs. Run one at a time (`--test-threads 1`): each starts
//! up to five nodes.

mod common;

use common::*;
use sc_finality_checkpoint_rpc::{BlockInfo, CertificateOrigin, CheckpointInfo};
use serde_json::json;
use sp_core::H256;
use std::time::Duration;

#[test]
fn dev_chain_is_finalized_by_checkpoints_with_ckpt_justifications() {
	// `--dev`: Alice alone, the runtime's default interval: every block a checkpoint.
	const DEV_INTERVAL: u64 = 1;
	let dir = tempfile::tempdir().unwrap();
	let alice = Node::start("alice", dir.path(), &["--dev"]);

	let (number, hash) = alice.wait_finalized(DEV_INTERVAL, LONG);
	let justification =
		alice.ckpt_justification(&hash).expect("finalized block carries a CKPT justification");
	assert!(!justification.is_empty());

	let status = alice.status();
	// Epochs: block `number` stands at epochs `2 * number / DEV_INTERVAL` (round one) and
	// one more (round two); round two's certificate, from round one, finalizes it.
	let epoch = 2 * number / DEV_INTERVAL;
	assert!(status.finalized.block_number >= number, "{status:?}");
	assert_eq!(status.finalized.epoch, 2 * status.finalized.block_number / DEV_INTERVAL);
	assert_eq!((status.validators, status.interval), (1, DEV_INTERVAL as u32));
	assert!(status.persistence);
	// The certificate by number and by hash: the same, of round one to round two.
	let hash: H256 = hash.parse().unwrap();
	let by_number = alice.certificate(BlockRef::Number(number)).unwrap();
	let by_hash = alice.certificate(BlockRef::Hash(hash)).unwrap();
	assert_eq!(by_number, by_hash);
	let certificate = by_number.certificate;
	assert_eq!(by_number.block, BlockInfo { number, hash });
	assert_eq!(certificate.signers, vec![0]);
	assert_eq!(
		certificate.finalized,
		CheckpointInfo { block_number: number, block_hash: hash, epoch }
	);
	assert_eq!(certificate.target.epoch, epoch + 1);
	assert_eq!(certificate.decode().unwrap().link.source.hash, hash);
	// A block above the finalized one, and an unknown hash: errors that say why.
	let above = alice.certificate(BlockRef::Number(number + 1_000_000)).unwrap_err();
	assert!(above.contains("is not finalized yet"), "{above}");
	let unknown = alice.certificate(BlockRef::Hash(H256::repeat_byte(7))).unwrap_err();
	assert!(unknown.contains("is not known to this node"), "{unknown}");
	// The finality proof, as JSON and SCALE: no set change on the dev chain.
	let proof = alice.prove_finality(BlockRef::Number(number)).unwrap();
	assert!(proof.changes.is_empty());
	assert_eq!(proof.certificate.finalized.block_number, number);
	assert!(!proof.encoded.is_empty());

	// `checkpoint_subscribeFinalized`: certificates in order, each of which verifies against
	// the dev chain's set from the block it finalizes upwards.
	let set: sp_finality_checkpoint::AuthoritySet =
		state_call(&alice, "CheckpointApi_current_set", None);
	let voters = sc_finality_checkpoint::VoterSet::new(set.id, set.authorities).unwrap();
	let genesis: H256 =
		serde_json::from_value(alice.rpc("chain_getBlockHash", json!([0]))).unwrap();
	let items = alice.finalized_items(3, LONG);
	for pair in items.windows(2) {
		assert!(pair[0].finalized.block_number < pair[1].finalized.block_number, "{items:?}");
	}
	assert!(items[0].finalized.block_number >= number, "items start from the subscription");
	for item in &items {
		let certificate = item.decode().unwrap();
		voters.verify_certificate(&genesis, &certificate).unwrap();
		assert_eq!(item.signers, vec![0]);
		let canonical = alice.rpc("chain_getBlockHash", json!([item.finalized.block_number]));
		assert_eq!(json!(item.finalized.block_hash), canonical, "on the finalized chain");
	}

	// The node writes its log through a buffer: the lines of what RPC already shows may
	// still be on their way.
	for line in [
		"💾 Checkpoint persistence enabled",
		"🔄 Restoring checkpoint state from storage",
		"✅ Checkpoint state restored successfully",
		"📝 Stored signature",
		"📜 Stored certificate",
		"🏁 Updated last finalized checkpoint",
	] {
		alice.wait_log(0, line, Duration::from_secs(30));
	}
}

#[test]
fn local_devnet_survives_a_killed_validator_and_a_late_full_node_syncs() {
	let dir = tempfile::tempdir().unwrap();
	let spec = raw_chain_spec(dir.path(), "local", INTERVAL as u32);
	let spec = spec.to_str().unwrap();
	let alice = Node::start("alice", dir.path(), &["--chain", spec, "--alice", "--validator"]);
	let boot = alice.multiaddr();
	let validator = |name: &str, key: &str| {
		Node::start(name, dir.path(), &["--chain", spec, key, "--validator", "--bootnodes", &boot])
	};
	let bob = validator("bob", "--bob");
	let charlie = validator("charlie", "--charlie");
	let mut dave = validator("dave", "--dave");
	let all = [&alice, &bob, &charlie];

	// Finality advances on every node.
	let target = 3 * INTERVAL;
	for node in all.iter().copied().chain([&dave]) {
		node.wait_finalized(target, LONG);
	}

	// kill -9 one validator while it votes (right after it stored an own vote: one stored
	// after this mark, not any since its start): the other three (3 of 4) keep finalizing.
	let mark = dave.log_text().len();
	dave.wait_log(mark, "📝 Stored signature: own vote", LONG);
	dave.kill();
	let (before, _) = alice.finalized();
	for node in all {
		node.wait_finalized(before + 2 * INTERVAL, LONG);
	}

	// Restart it on the same base path: state restored, guard first, votes again, catches up.
	let restart_mark = dave.log_text().len();
	dave.restart();
	let (now, _) = alice.finalized();
	dave.wait_finalized(now, LONG);
	let log = dave.wait_log(restart_mark, "📝 Stored signature: own vote", LONG);
	let restored = log.find("✅ Checkpoint state restored successfully").expect("restore line");
	let restoring = log.find("🔄 Restoring checkpoint state from storage").expect("restoring line");
	let first_vote = log.find("📝 Stored signature: own vote").unwrap();
	assert!(restoring < restored && restored < first_vote, "guard restored before voting");
	let guard_target = own_vote_guard_target(&log[restored..]);
	assert!(guard_target > 0, "dave had voted before the kill; the restored guard says so");
	let first_target = own_votes(&log[first_vote..])[0].1;
	assert!(
		first_target > guard_target,
		"first vote after restart ({first_target}) is above the guard ({guard_target})"
	);

	// A full node joins late, syncs, verifies certificates and reaches the same finality.
	let (goal, _) = alice.wait_finalized(now + 2 * INTERVAL, LONG);
	let eve = Node::start("eve", dir.path(), &["--chain", spec, "--bootnodes", &boot]);
	let (eve_number, eve_hash) = eve.wait_finalized(goal, LONG);
	assert_eq!(eve_hash, alice.rpc("chain_getBlockHash", json!([eve_number])).as_str().unwrap());
	assert!(eve.ckpt_justification(&eve_hash).is_some(), "eve's finalized block has a CKPT proof");

	// Nobody saw an equivocation; everyone stayed on one finalized chain.
	for node in all.iter().copied().chain([&dave, &eve]) {
		assert!(!node.log_text().contains("Equivocation"), "{} logged an equivocation", node.name);
		assert_eq!(node.status().equivocations, 0, "{}", node.name);
		let (n, h) = node.finalized();
		assert_eq!(
			alice.rpc("chain_getBlockHash", json!([n])).as_str().unwrap(),
			h,
			"{}",
			node.name
		);
	}
}

#[test]
fn purge_chain_removes_the_checkpoint_database_and_keeps_the_guard_unless_told_unsafely() {
	let dir = tempfile::tempdir().unwrap();
	let base = dir.path().to_str().unwrap();
	let chain = dir.path().join("chains/dev");
	let guard = chain.join("own-vote-guard");
	let make = || {
		std::fs::create_dir_all(chain.join("db/full")).unwrap();
		std::fs::create_dir_all(chain.join("checkpoints")).unwrap();
		std::fs::write(&guard, b"x").unwrap();
	};
	make();
	let out = run_command(&["purge-chain", "--dev", "-y", "--base-path", base]);
	assert!(!chain.join("checkpoints").exists(), "checkpoint DB left behind");
	assert!(!chain.join("db/full").exists(), "client DB left behind");
	assert!(guard.exists(), "the own-vote guard must survive a purge");
	assert!(out.contains("Kept the own-vote guard"), "{out}");

	make();
	let out = run_command(&[
		"purge-chain",
		"--dev",
		"-y",
		"--unsafe-reset-own-vote-guard",
		"--base-path",
		base,
	]);
	assert!(!guard.exists(), "--unsafe-reset-own-vote-guard removes the guard");
	assert!(out.contains("may double-vote"), "{out}");
}

#[test]
fn cli_rejects_a_bad_persistence_mode() {
	let output = output_of(node_command().args(["--dev", "--checkpoint-persistence", "maybe"]));
	assert!(!output.status.success());
	assert!(String::from_utf8_lossy(&output.stderr).contains("--checkpoint-persistence"));
}

#[test]
fn persistence_off_needs_the_unsafe_flag_on_a_validator_and_keeps_nothing_on_disk() {
	let dir = tempfile::tempdir().unwrap();
	// Refused on a validator, with the flag that would allow it named.
	let refused = dir.path().join("refused");
	let output = output_of(node_command().args([
		"--dev",
		"--checkpoint-persistence",
		"off",
		"--base-path",
		refused.to_str().unwrap(),
	]));
	assert!(!output.status.success());
	let stderr = String::from_utf8_lossy(&output.stderr);
	assert!(stderr.contains("--checkpoint-unsafe-persistence-off"), "{stderr}");

	// Allowed with it: the warning, and nothing on disk; certificates come from the blocks'
	// justifications, finality proofs are refused with the reason.
	let args = ["--dev", "--checkpoint-persistence", "off", "--checkpoint-unsafe-persistence-off"];
	let mut alice = Node::start("alice", dir.path(), &args);
	alice.wait_log(0, "⚠️ Checkpoint persistence is OFF on a validator", LONG);
	alice.wait_log(0, "💭 Checkpoint persistence is off", LONG);
	let (number, _) = alice.wait_finalized(2, LONG);
	assert!(!alice.status().persistence);
	let certificate = alice.certificate(BlockRef::Number(number)).unwrap();
	assert_eq!(certificate.origin, CertificateOrigin::Justification);
	assert_eq!(certificate.certificate.finalized.block_number, number);
	let refused = alice.prove_finality(BlockRef::Number(number)).unwrap_err();
	assert!(refused.contains("checkpoint persistence is off"), "{refused}");
	let chain = alice.base.join("chains/dev");
	assert!(!chain.join("checkpoints").exists(), "a checkpoint database was written");
	assert!(!chain.join("own-vote-guard").exists(), "an own-vote guard was written");

	// After a restart nothing is restored, and finality goes on from the client's.
	let mark = alice.log_text().len();
	alice.restart();
	alice.wait_finalized(number + 2, LONG);
	let log = alice.wait_log(mark, "💭 Checkpoint persistence is off", LONG);
	assert!(!log.contains("Restoring checkpoint state"), "{log}");
	assert!(!chain.join("checkpoints").exists(), "a checkpoint database was written");
}

/// `GET /metrics` of the Prometheus endpoint on `port`: the exposition text.
fn scrape(port: u16) -> String {
	use std::io::{Read, Write};
	let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
	stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
	write!(stream, "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
		.unwrap();
	let mut response = String::new();
	stream.read_to_string(&mut response).unwrap();
	assert!(response.starts_with("HTTP/1.1 200"), "{response}");
	response.split_once("\r\n\r\n").expect("a body").1.to_string()
}

/// The value of the sample `name` (the sum over its label values) in `text`.
fn sample(text: &str, name: &str) -> Option<f64> {
	let values: Vec<f64> = text
		.lines()
		.filter(|line| !line.starts_with('#'))
		.filter_map(|line| {
			let (series, value) = line.rsplit_once(' ')?;
			let metric = series.split('{').next()?;
			(metric == name).then(|| value.parse().ok())?
		})
		.collect();
	(!values.is_empty()).then(|| values.iter().sum())
}

#[test]
fn prometheus_serves_every_metric_the_readme_lists_typed_and_moving() {
	// The README's metric table: `| `name` | type | what |`.
	let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"))
		.expect("README.md");
	let listed: Vec<(String, String)> = readme
		.lines()
		.filter_map(|line| {
			let mut cells = line.strip_prefix("| `substrate_checkpoint_")?.split('|');
			let name = format!("substrate_checkpoint_{}", cells.next()?.trim().trim_matches('`'));
			Some((name, cells.next()?.trim().to_string()))
		})
		.collect();
	assert!(listed.len() >= 15, "the README lists its metrics in a table: {listed:?}");

	let dir = tempfile::tempdir().unwrap();
	let port = free_port();
	let alice =
		Node::start("alice", dir.path(), &["--dev", "--prometheus-port", &port.to_string()]);
	alice.wait_finalized(2, LONG);
	let first = scrape(port);
	for (name, kind) in &listed {
		assert!(
			first.contains(&format!("# TYPE {name} {kind}\n")),
			"{name} is no {kind}:\n{first}"
		);
		assert!(sample(&first, name).is_some(), "{name} has no sample:\n{first}");
	}
	// Finality, votes and certificates move; counters never go down.
	let (number, _) = alice.finalized();
	alice.wait_finalized(number + 3, LONG);
	let second = wait_for("the metrics to follow finality", LONG, || {
		let text = scrape(port);
		let finalized = sample(&text, "substrate_checkpoint_finalized")?;
		(finalized >= 2.0 * (number + 3) as f64).then_some(text)
	});
	for name in [
		"substrate_checkpoint_finalized",
		"substrate_checkpoint_justified",
		"substrate_checkpoint_votes_total",
		"substrate_checkpoint_own_votes_total",
		"substrate_checkpoint_certificates_total",
	] {
		let (before, after) = (sample(&first, name).unwrap(), sample(&second, name).unwrap());
		assert!(after > before, "{name} did not move: {before} -> {after}");
	}
	for (name, kind) in &listed {
		if kind == "counter" {
			let (before, after) = (sample(&first, name).unwrap(), sample(&second, name).unwrap());
			assert!(after >= before, "counter {name} went down: {before} -> {after}");
		}
	}
}
