//! End-to-end harness: real `checkpoint-node` processes on 127.0.0.1, talked to over JSON-RPC
//! (jsonrpsee's WebSocket client; the checkpoint methods through their typed client), their
//! logs read from files. Every process is killed when its [`Node`] drops,
//! also when a test fails.

#![allow(dead_code)]

use codec::{Decode, Encode};
use jsonrpsee::{
	core::client::ClientT,
	ws_client::{WsClient, WsClientBuilder},
};
pub use sc_finality_checkpoint_rpc::{
	BlockCertificate, BlockRef, CertificateInfo, CheckpointApiClient, CheckpointStatus,
	EvidenceInfo, FinalityProofInfo,
};
use serde_json::{json, Value};
use sp_core::H256;
use sp_finality_checkpoint::{AuthorityId, Checkpoint, CheckpointSignature, Link};
use sp_keyring::Sr25519Keyring;
use std::{
	cell::RefCell,
	io::Read,
	net::TcpListener,
	path::{Path, PathBuf},
	process::{Child, Command, Stdio},
	sync::{Arc, LazyLock},
	time::{Duration, Instant},
};

/// The runtime the RPC clients run on.
static RUNTIME: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
	tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap()
});

/// How long a test waits for finality or a log line before it fails.
pub const LONG: Duration = Duration::from_secs(240);

/// The checkpoint interval of the end-to-end devnets (blocks between checkpoints), unless a
/// test needs another.
pub const INTERVAL: u64 = 2;

/// The node binary cargo built for these tests.
pub const BINARY: &str = env!("CARGO_BIN_EXE_checkpoint-node");

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
	TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Polls `f` every 500 ms until it returns `Some` or `timeout` passes.
pub fn wait_for<T>(what: &str, timeout: Duration, mut f: impl FnMut() -> Option<T>) -> T {
	let deadline = Instant::now() + timeout;
	loop {
		if let Some(value) = f() {
			return value;
		}
		assert!(Instant::now() < deadline, "timed out after {timeout:?} waiting for {what}");
		std::thread::sleep(Duration::from_millis(500));
	}
}

/// One running node.
pub struct Node {
	/// Name for messages (alice, bob, ...).
	pub name: String,
	child: RefCell<Option<Child>>,
	/// Base path (kept across restarts).
	pub base: PathBuf,
	/// Log file (appended to across restarts).
	pub log: PathBuf,
	/// JSON-RPC port.
	pub rpc_port: u16,
	/// P2P port.
	pub p2p_port: u16,
	args: Vec<String>,
	/// Environment variables of the process, from the next (re)start on.
	env: Vec<(String, String)>,
}

impl Node {
	/// Starts `checkpoint-node` with `args` plus base path, ports and log file of its own.
	pub fn start(name: &str, dir: &Path, args: &[&str]) -> Node {
		let base = dir.join(name);
		std::fs::create_dir_all(&base).unwrap();
		let mut node = Node {
			name: name.to_string(),
			child: RefCell::new(None),
			log: dir.join(format!("{name}.log")),
			base,
			rpc_port: free_port(),
			p2p_port: free_port(),
			args: args.iter().map(|a| a.to_string()).collect(),
			env: Vec::new(),
		};
		node.spawn();
		node
	}

	fn spawn(&mut self) {
		let log = std::fs::OpenOptions::new().create(true).append(true).open(&self.log).unwrap();
		let child = node_command()
			.envs(self.env.iter().map(|(k, v)| (k, v)))
			.args(&self.args)
			.args(["--base-path", self.base.to_str().unwrap()])
			.args(["--rpc-port", &self.rpc_port.to_string()])
			.args(["--listen-addr", &format!("/ip4/127.0.0.1/tcp/{}", self.p2p_port)])
			// Validators need a network key on disk or on the command line; one per node,
			// the same across restarts (unique: derived from the node's own port), unless the
			// test put one on disk (`key generate-node-key`).
			.args(
				(!self.has_network_key())
					.then(|| {
						["--node-key".to_string(), format!("{:064x}", u32::from(self.p2p_port) + 1)]
					})
					.into_iter()
					.flatten(),
			)
			.args(["--no-telemetry", "--no-mdns", "--rpc-cors", "all"])
			.args(
				(!self.args.iter().any(|a| a == "--prometheus-port")).then_some("--no-prometheus"),
			)
			.args(["--name", &self.name])
			.stdout(Stdio::null())
			.stderr(log)
			.spawn()
			.unwrap_or_else(|e| panic!("cannot start {BINARY}: {e}"));
		*self.child.get_mut() = Some(child);
		wait_for(&format!("{} RPC", self.name), Duration::from_secs(120), || {
			self.assert_running();
			self.try_rpc("system_health", json!([])).ok()
		});
	}

	/// Whether a network key is on disk under the base path (`chains/<id>/network`).
	fn has_network_key(&self) -> bool {
		let chains = std::fs::read_dir(self.base.join("chains")).into_iter().flatten().flatten();
		chains.into_iter().any(|chain| chain.path().join("network/secret_ed25519").exists())
	}

	/// Panics (showing the log's tail) if the node process has exited.
	pub fn assert_running(&self) {
		let mut child = self.child.borrow_mut();
		let child = child.as_mut().expect("node is running");
		if let Some(status) = child.try_wait().unwrap() {
			panic!("{} exited with {status}", self.name);
		}
	}

	/// `kill -9`.
	pub fn kill(&mut self) {
		if let Some(mut child) = self.child.get_mut().take() {
			let _ = child.kill();
			let _ = child.wait();
		}
	}

	/// Sets `key` to `value` in the process's environment from the next (re)start on.
	pub fn set_env(&mut self, key: &str, value: &str) {
		self.env.push((key.to_string(), value.to_string()));
	}

	/// Starts the node again with the same base path, ports and arguments.
	pub fn restart(&mut self) {
		self.kill();
		self.spawn();
	}

	/// A JSON-RPC call; panics on error.
	pub fn rpc(&self, method: &str, params: Value) -> Value {
		self.try_rpc(method, params).unwrap_or_else(|e| panic!("{}: {method}: {e}", self.name))
	}

	/// A JSON-RPC call with jsonrpsee's client.
	pub fn try_rpc(&self, method: &str, params: Value) -> Result<Value, String> {
		let Value::Array(params) = params else { panic!("params of {method} are not a list") };
		self.with_client(|client| async move { client.request(method, params).await })
	}

	/// Runs `call` on a jsonrpsee WebSocket client connected to this node (a new one each
	/// time: the node may have restarted since); the error says what failed.
	pub fn with_client<T, F>(&self, call: impl FnOnce(Arc<WsClient>) -> F) -> Result<T, String>
	where
		F: std::future::Future<Output = Result<T, jsonrpsee::core::ClientError>>,
	{
		RUNTIME.block_on(async {
			let client = WsClientBuilder::default()
				.request_timeout(Duration::from_secs(10))
				.build(format!("ws://127.0.0.1:{}", self.rpc_port))
				.await
				.map_err(|e| format!("{}: cannot connect: {e}", self.name))?;
			call(Arc::new(client)).await.map_err(|e| e.to_string())
		})
	}

	/// `checkpoint_status`, with the typed client.
	pub fn status(&self) -> CheckpointStatus<H256> {
		self.with_client(|c| async move { CheckpointApiClient::<H256>::status(&*c).await })
			.unwrap_or_else(|e| panic!("{}: checkpoint_status: {e}", self.name))
	}

	/// `checkpoint_certificate(block)`, with the typed client.
	pub fn certificate(&self, block: BlockRef<H256>) -> Result<BlockCertificate<H256>, String> {
		self.with_client(|c| async move { CheckpointApiClient::certificate(&*c, block).await })
	}

	/// `checkpoint_proveFinality(block)`, with the typed client.
	pub fn prove_finality(&self, block: BlockRef<H256>) -> Result<FinalityProofInfo<H256>, String> {
		self.with_client(|c| async move { CheckpointApiClient::prove_finality(&*c, block).await })
	}

	/// `checkpoint_evidence`, with the typed client.
	pub fn evidence(&self) -> Vec<EvidenceInfo<H256>> {
		self.with_client(|c| async move { CheckpointApiClient::<H256>::evidence(&*c).await })
			.unwrap_or_else(|e| panic!("{}: checkpoint_evidence: {e}", self.name))
	}

	/// The first `count` items of `checkpoint_subscribeFinalized`, waiting at most `timeout`.
	pub fn finalized_items(&self, count: usize, timeout: Duration) -> Vec<CertificateInfo<H256>> {
		self.with_client(|c| async move {
			let mut subscription = CheckpointApiClient::<H256>::subscribe_finalized(&*c).await?;
			let mut items = Vec::new();
			let collect = async {
				while items.len() < count {
					match subscription.next().await {
						Some(item) => items.push(item?),
						None => break,
					}
				}
				Ok::<_, jsonrpsee::core::ClientError>(())
			};
			tokio::time::timeout(timeout, collect).await.map_err(|_| {
				jsonrpsee::core::ClientError::Custom(format!(
					"{} items of {count} in {timeout:?}",
					items.len()
				))
			})??;
			Ok(items)
		})
		.unwrap_or_else(|e| panic!("{}: checkpoint_subscribeFinalized: {e}", self.name))
	}

	/// The local peer id.
	pub fn peer_id(&self) -> String {
		self.rpc("system_localPeerId", json!([])).as_str().unwrap().to_string()
	}

	/// This node's multiaddress, for `--bootnodes`.
	pub fn multiaddr(&self) -> String {
		format!("/ip4/127.0.0.1/tcp/{}/p2p/{}", self.p2p_port, self.peer_id())
	}

	/// The header of block `hash` (the best block when `None`).
	pub fn header(&self, hash: Option<&str>) -> checkpoint_runtime::Header {
		serde_json::from_value(self.rpc("chain_getHeader", json!([hash]))).unwrap()
	}

	/// Number of a header given by hash (or the best block when `None`).
	pub fn header_number(&self, hash: Option<&str>) -> u64 {
		u64::from(self.header(hash).number)
	}

	/// The finalized block: (number, hash).
	pub fn finalized(&self) -> (u64, String) {
		let hash = self.rpc("chain_getFinalizedHead", json!([])).as_str().unwrap().to_string();
		(self.header_number(Some(&hash)), hash)
	}

	/// Waits until the finalized block is at least `number`.
	pub fn wait_finalized(&self, number: u64, timeout: Duration) -> (u64, String) {
		wait_for(&format!("{} to finalize #{number}", self.name), timeout, || {
			self.assert_running();
			self.try_rpc("chain_getFinalizedHead", json!([])).ok()?;
			let finalized = self.finalized();
			(finalized.0 >= number).then_some(finalized)
		})
	}

	/// The `CKPT` justification bytes of block `hash`, if it has one.
	pub fn ckpt_justification(&self, hash: &str) -> Option<Vec<u8>> {
		let block = self.rpc("chain_getBlock", json!([hash]));
		let justifications = block["justifications"].as_array()?;
		justifications.iter().find_map(|j| {
			let engine: Vec<u8> = serde_json::from_value(j[0].clone()).ok()?;
			(engine == b"CKPT").then(|| serde_json::from_value(j[1].clone()).ok())?
		})
	}

	/// The log so far.
	pub fn log_text(&self) -> String {
		std::fs::read_to_string(&self.log).unwrap_or_default()
	}

	/// Waits until `line` is in the log after byte `from` (a restart mark); returns the log
	/// from there. Fails at once when the node exited on its own: the line will never come.
	pub fn wait_log(&self, from: usize, line: &str, timeout: Duration) -> String {
		wait_for(&format!("{line:?} in {}'s log", self.name), timeout, || {
			let log = self.log_text();
			if log[from..].contains(line) {
				return Some(log[from..].to_string());
			}
			if self.child.borrow().is_some() {
				self.assert_running();
			}
			None
		})
	}

	/// The own votes `(source, target)` the log shows after byte `from`, in order.
	pub fn own_votes(&self, from: usize) -> Vec<(u64, u64)> {
		own_votes(&self.log_text()[from..])
	}

	/// The votes of `key` in the stopped node's checkpoint database (RocksDB admits one process
	/// at a time): those whose signer, in the authority sets the database holds, is `key`.
	/// Unlike the log, which a kill -9 can cut, the database has every own vote the node
	/// gossiped (it is stored first), down to the retention.
	pub fn stored_votes_of(&self, key: &AuthorityId) -> Vec<CheckpointSignature<H256>> {
		assert!(self.child.borrow().is_none(), "{} must be stopped", self.name);
		let chains = std::fs::read_dir(self.base.join("chains")).unwrap();
		let chain = chains.into_iter().next().expect("a chain directory").unwrap().path();
		let db = sc_finality_checkpoint::CheckpointDB::new(&chain.join("checkpoints")).unwrap();
		let sets = db.load_state::<H256>(0).unwrap().authority_sets;
		let signer = |vote: &CheckpointSignature<H256>| {
			let set = sets.iter().find(|set| set.id == vote.link.set_id)?;
			set.authorities.get(vote.validator_index as usize)
		};
		let votes = db.votes::<H256>().unwrap();
		votes.into_iter().filter(|vote| signer(vote) == Some(key)).collect()
	}

	/// Stops the node as an operator does (SIGINT, so it shuts down and flushes its log),
	/// with `kill -9` after 60 s; does not start it again.
	pub fn stop(&mut self) {
		if let Some(child) = self.child.get_mut() {
			let _ = Command::new("kill").args(["-INT", &child.id().to_string()]).status();
			let deadline = Instant::now() + Duration::from_secs(60);
			while child.try_wait().unwrap().is_none() && Instant::now() < deadline {
				std::thread::sleep(Duration::from_millis(100));
			}
		}
		self.kill();
	}

	/// Starts a stopped node again with the same base path, ports and arguments.
	pub fn start_again(&mut self) {
		self.spawn();
	}

	/// The `--chain` argument the node was started with.
	pub fn chain_arg(&self) -> &str {
		let i = self.args.iter().position(|a| a == "--chain").expect("started with --chain");
		&self.args[i + 1]
	}
}

/// The own votes `(source, target)` in a log: its `📝 Stored signature: own vote epoch s ->
/// epoch t` lines.
pub fn own_votes(log: &str) -> Vec<(u64, u64)> {
	log.lines()
		.filter_map(|line| line.split("📝 Stored signature: own vote ").nth(1))
		.map(|vote| {
			let mut numbers =
				vote.split("->").map(|n| n.trim().trim_start_matches("epoch ").parse());
			(numbers.next().unwrap().unwrap(), numbers.next().unwrap().unwrap())
		})
		.collect()
}

/// The guard target in the first line of `log`, a `✅ Checkpoint state restored successfully
/// ... own-vote guard epoch s -> epoch t` line.
pub fn own_vote_guard_target(log: &str) -> u64 {
	let line = log.lines().next().unwrap();
	let guard = line.split("own-vote guard").nth(1).expect("guard in restore line");
	guard.rsplit("epoch ").next().unwrap().trim().parse().unwrap()
}

/// Panics if a vote of `before` conflicts with one of `after` (E1 or E2, by the gadget's
/// rule): `who`'s votes. One list twice checks all its pairs.
pub fn assert_no_conflict(who: &str, before: &[Link<H256>], after: &[Link<H256>]) {
	for a in before {
		if let Some(b) = after.iter().find(|b| sc_finality_checkpoint::votes_conflict(a, b)) {
			panic!("{who} cast {a:?} and {b:?}, which conflict");
		}
	}
}

/// Votes `(source, target)` as a log numbers them, as links (of set 0, and no hashes: two votes
/// for one target on two forks look alike; the database has the whole link).
pub fn logged_links(votes: &[(u64, u64)]) -> Vec<Link<H256>> {
	let checkpoint = |number| Checkpoint::new(number, H256::zero());
	let link = |&(source, target): &(u64, u64)| Link {
		set_id: 0,
		source: checkpoint(source),
		target: checkpoint(target),
	};
	votes.iter().map(link).collect()
}

/// A `checkpoint-node` command whose process runs in a process group of its own (a Ctrl-C
/// meant for the harness reaches it only through the harness) and is killed when the harness
/// thread that started it dies, even by `kill -9`: no node outlives its test.
pub fn node_command() -> Command {
	use std::os::unix::process::CommandExt;
	let mut command = Command::new(BINARY);
	command.process_group(0);
	// SAFETY: prctl is async-signal-safe, and nothing else runs between fork and exec.
	unsafe {
		command.pre_exec(|| {
			if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
				return Err(std::io::Error::last_os_error());
			}
			Ok(())
		});
	}
	command
}

/// How long a `checkpoint-node` subcommand (build-spec, key, purge-chain) may take.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(120);

/// Runs `command` to completion with its output captured, killing it (and failing) after
/// [`COMMAND_TIMEOUT`].
pub fn output_of(command: &mut Command) -> std::process::Output {
	let mut child = command
		.stdin(Stdio::null())
		.stdout(Stdio::piped())
		.stderr(Stdio::piped())
		.spawn()
		.expect("checkpoint-node starts");
	let read = |mut pipe: Box<dyn Read + Send>| {
		std::thread::spawn(move || {
			let mut bytes = Vec::new();
			let _ = pipe.read_to_end(&mut bytes);
			bytes
		})
	};
	let stdout = read(Box::new(child.stdout.take().unwrap()));
	let stderr = read(Box::new(child.stderr.take().unwrap()));
	let deadline = Instant::now() + COMMAND_TIMEOUT;
	let status = loop {
		if let Some(status) = child.try_wait().unwrap() {
			break status;
		}
		if Instant::now() > deadline {
			let _ = child.kill();
			let _ = child.wait();
			panic!("{command:?} did not finish within {COMMAND_TIMEOUT:?}");
		}
		std::thread::sleep(Duration::from_millis(20));
	};
	std::process::Output { status, stdout: stdout.join().unwrap(), stderr: stderr.join().unwrap() }
}

/// Runs `checkpoint-node` with `args` to completion; panics with its output if it fails.
pub fn run_command(args: &[&str]) -> String {
	let output = output_of(node_command().args(args));
	let text = format!(
		"{}{}",
		String::from_utf8_lossy(&output.stdout),
		String::from_utf8_lossy(&output.stderr)
	);
	assert!(output.status.success(), "checkpoint-node {args:?} failed: {text}");
	text
}

impl Drop for Node {
	fn drop(&mut self) {
		self.kill();
		if std::thread::panicking() {
			let log = self.log_text();
			// The whole log outlives the test's temporary directory, for a post-mortem.
			let kept = std::env::temp_dir().join("checkpoint-e2e-failed");
			if std::fs::create_dir_all(&kept).is_ok()
				&& std::fs::write(kept.join(format!("{}.log", self.name)), &log).is_ok()
			{
				eprintln!("---- {}'s whole log: {} ----", self.name, kept.display());
			}
			let tail: Vec<&str> = log.lines().rev().take(40).collect();
			eprintln!("---- last lines of {} ----", self.name);
			for line in tail.into_iter().rev() {
				eprintln!("{line}");
			}
		}
	}
}

/// Writes a raw chain spec of `chain` with checkpoint interval `interval` into `dir`.
pub fn raw_chain_spec(dir: &Path, chain: &str, interval: u32) -> PathBuf {
	let plain = output_of(node_command().args([
		"build-spec",
		"--disable-default-bootnode",
		"--chain",
		chain,
	]));
	assert!(plain.status.success(), "build-spec: {}", String::from_utf8_lossy(&plain.stderr));
	let mut spec: Value = serde_json::from_slice(&plain.stdout).unwrap();
	let patch = &mut spec["genesis"]["runtimeGenesis"]["patch"];
	assert!(patch.is_object(), "no genesis patch in the chain spec: {spec}");
	patch["checkpoint"]["checkpointInterval"] = json!(interval);
	let plain_path = dir.join(format!("{chain}-plain.json"));
	std::fs::write(&plain_path, serde_json::to_vec_pretty(&spec).unwrap()).unwrap();
	let raw = output_of(
		node_command()
			.args(["build-spec", "--raw", "--disable-default-bootnode", "--chain"])
			.arg(&plain_path),
	);
	assert!(raw.status.success(), "build-spec --raw: {}", String::from_utf8_lossy(&raw.stderr));
	let raw_path = dir.join(format!("{chain}-raw.json"));
	std::fs::write(&raw_path, raw.stdout).unwrap();
	raw_path
}

/// Starts alice, bob, charlie and dave from a raw `local` spec with checkpoint `interval`,
/// each with `extra` flags; waits until all four finalized checkpoint 2. Returns the nodes and
/// the spec's path.
pub fn devnet(dir: &std::path::Path, interval: u64, extra: &[&str]) -> (Vec<Node>, String) {
	let spec = raw_chain_spec(dir, "local", interval as u32);
	let spec = spec.to_str().unwrap();
	let args = |key: &'static str, boot: Option<&str>| {
		let mut args = vec!["--chain", spec, key, "--validator"];
		args.extend_from_slice(extra);
		if let Some(boot) = boot {
			args.extend_from_slice(&["--bootnodes", boot]);
		}
		args.into_iter().map(String::from).collect::<Vec<_>>()
	};
	let start = |name: &str, args: Vec<String>| {
		Node::start(name, dir, &args.iter().map(String::as_str).collect::<Vec<_>>())
	};
	let alice = start("alice", args("--alice", None));
	let boot = alice.multiaddr();
	let mut nodes = vec![alice];
	for (name, key) in [("bob", "--bob"), ("charlie", "--charlie"), ("dave", "--dave")] {
		nodes.push(start(name, args(key, Some(&boot))));
	}
	for node in &nodes {
		node.wait_finalized(2 * interval, LONG);
	}
	(nodes, spec.to_string())
}

/// The runtime API call `method` (e.g. `CheckpointApi_current_set`) without arguments at block
/// `at` (the best block when `None`), its SCALE result decoded.
pub fn state_call<T: Decode>(node: &Node, method: &str, at: Option<&str>) -> T {
	state_call_with(node, method, &[], at)
}

/// The runtime API call `method` with SCALE-encoded `args` at block `at` (the best block when
/// `None`), its SCALE result decoded.
pub fn state_call_with<T: Decode>(node: &Node, method: &str, args: &[u8], at: Option<&str>) -> T {
	let args = sp_core::bytes::to_hex(args, false);
	let result = node.rpc("state_call", json!([method, args, at]));
	let bytes = sp_core::bytes::from_hex(result.as_str().unwrap()).unwrap();
	T::decode(&mut &bytes[..]).unwrap_or_else(|e| panic!("{method}: {e}"))
}

/// Submits `call`, signed by `signer` with its next nonce, to `node`'s pool.
pub fn submit_signed(node: &Node, signer: Sr25519Keyring, call: checkpoint_runtime::RuntimeCall) {
	use checkpoint_runtime::{Runtime, SignedPayload, TxExtension, UncheckedExtrinsic};
	let account = signer.to_account_id();
	// The versions the chain runs now (a runtime upgrade changes them), not this build's.
	let version = node.rpc("state_getRuntimeVersion", json!([]));
	let spec_version = version["specVersion"].as_u64().unwrap() as u32;
	let transaction_version = version["transactionVersion"].as_u64().unwrap() as u32;
	let nonce = node.rpc("system_accountNextIndex", json!([account.to_string()]));
	let nonce = nonce.as_u64().unwrap() as u32;
	let genesis = node.rpc("chain_getBlockHash", json!([0]));
	let genesis: H256 = serde_json::from_value(genesis).unwrap();
	let extension: TxExtension = (
		frame_system::AuthorizeCall::<Runtime>::new(),
		frame_system::CheckNonZeroSender::<Runtime>::new(),
		frame_system::CheckSpecVersion::<Runtime>::new(),
		frame_system::CheckTxVersion::<Runtime>::new(),
		frame_system::CheckGenesis::<Runtime>::new(),
		frame_system::CheckEra::<Runtime>::from(sp_runtime::generic::Era::Immortal),
		frame_system::CheckNonce::<Runtime>::from(nonce),
		frame_system::CheckWeight::<Runtime>::new(),
		pallet_transaction_payment::ChargeTransactionPayment::<Runtime>::from(0),
		frame_system::WeightReclaim::<Runtime>::new(),
	);
	// What the extensions add to the signed payload without carrying it in the extrinsic.
	let implicit = ((), (), spec_version, transaction_version, genesis, genesis, (), (), (), ());
	let payload = SignedPayload::from_raw(call.clone(), extension.clone(), implicit);
	let signature = payload.using_encoded(|bytes| signer.sign(bytes));
	let extrinsic =
		UncheckedExtrinsic::new_signed(call, account.into(), signature.into(), extension);
	let hex = sp_core::bytes::to_hex(&extrinsic.encode(), false);
	node.rpc("author_submitExtrinsic", json!([hex]));
}

/// Submits `call` to `node` as root (`sudo`, signed by Alice, the devnet's sudo key).
pub fn sudo(node: &Node, call: checkpoint_runtime::RuntimeCall) {
	let call = Box::new(call);
	submit_signed(
		node,
		Sr25519Keyring::Alice,
		checkpoint_runtime::RuntimeCall::Sudo(pallet_sudo::Call::sudo { call }),
	);
}

/// The first block above `from` on `node`'s best chain whose header signals a set change that
/// `wanted` accepts, waiting up to `timeout`: its number, hash and the set.
pub fn wait_for_signal(
	node: &Node,
	from: u64,
	timeout: Duration,
	wanted: impl Fn(&sp_finality_checkpoint::AuthoritySet) -> bool,
) -> (u64, String, sp_finality_checkpoint::AuthoritySet) {
	let mut next = from + 1;
	wait_for(&format!("a set change signal on {}", node.name), timeout, || {
		node.assert_running();
		let best = node.header_number(None);
		while next <= best {
			let hash = node.rpc("chain_getBlockHash", json!([next]));
			let hash = hash.as_str()?.to_string();
			let found = sp_finality_checkpoint::find_scheduled_change(&node.header(Some(&hash)));
			next += 1;
			if let Some(set) = found.filter(|set| wanted(set)) {
				return Some((next - 1, hash, set));
			}
		}
		None
	})
}

/// The epoch whose finality enacted set `set`, as `node`'s log after byte `from` says, waiting
/// up to `timeout`: its `🔀` line, or, when a kill fell between that finality's write and the
/// line, the restore line that names the set and what enacted it. After an outage the first
/// checkpoint finalized at or above the signal may be a later one than the signal's own, so
/// tests read the epoch off one node and expect the same on the others.
pub fn wait_enactment(
	node: &Node,
	from: usize,
	set: &sp_finality_checkpoint::AuthoritySet,
	timeout: Duration,
) -> u64 {
	let logged = format!(
		"🔀 Authority set {} ({} validators) enacted by epoch ",
		set.id,
		set.authorities.len()
	);
	let restored = format!("restored successfully: authority set {} (enacted by epoch ", set.id);
	wait_for(&format!("set {} enacted in {}'s log", set.id, node.name), timeout, || {
		let log = node.log_text();
		let at = [&logged, &restored]
			.into_iter()
			.find_map(|line| log[from..].find(line.as_str()).map(|at| from + at + line.len()))?;
		log[at..].chars().take_while(char::is_ascii_digit).collect::<String>().parse().ok()
	})
}
