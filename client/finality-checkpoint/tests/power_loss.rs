//! Power loss: the own vote is durable before it can leave the node. The test runs a validator's
//! own vote in a child process (this test binary again) under `strace`, and checks in the
//! system-call trace that the own-vote guard file was written, fsynced, renamed into place and
//! its directory fsynced before `record_own_vote` returned, which is what lets the worker gossip
//! the vote. Where `strace` is missing or not allowed to trace (it cannot trace `true`), the
//! test says so and checks nothing (a failure on CI, whose machine can); a traced child that
//! fails fails the test.

mod common;

use common::*;
use sc_finality_checkpoint::{
	CheckpointDB, CheckpointPersistenceConfig, CheckpointStorageAdapter, GuardFile,
};
use std::{path::Path, process::Command, sync::Arc};

const CHILD: &str = "POWER_LOSS_CHILD_DIR";
const RETURNED: &str = "OWN-VOTE-RETURNED";

/// The child's part: one own vote on a real database and guard file in `$POWER_LOSS_CHILD_DIR`,
/// then a marker on stdout. Does nothing when run as an ordinary test.
#[test]
fn own_vote_in_a_child_process() {
	let Ok(dir) = std::env::var(CHILD) else { return };
	let dir = Path::new(&dir);
	let keys = keys(4);
	let db = Arc::new(CheckpointDB::new(&dir.join("db")).unwrap());
	let guard = GuardFile::at(dir.join("own-vote-guard"));
	let mut finality = finality(&keys);
	let config = CheckpointPersistenceConfig { enabled: true, ..Default::default() };
	finality
		.set_storage(Arc::new(CheckpointStorageAdapter::new(db).with_guard_file(guard)), config);
	finality.restore_from_storage().unwrap();
	let own = finality.own_vote_link(cp(0, 1), |_| true).unwrap();
	finality.record_own_vote(vote(&keys[3], 3, own)).unwrap();
	// One write system call the trace can find: the vote may be gossiped from here on.
	use std::io::Write;
	std::io::stdout().write_all(format!("{RETURNED}\n").as_bytes()).unwrap();
	std::io::stdout().flush().unwrap();
}

#[test]
fn the_own_vote_is_fsynced_before_record_own_vote_returns() {
	let dir = tempfile::tempdir().unwrap();
	let trace = dir.path().join("trace");
	// Can strace trace at all here? Only that is a reason to skip.
	match Command::new("strace").args(["-f", "-qq", "-o", "/dev/null", "true"]).output() {
		Ok(probe) if probe.status.success() => {}
		Ok(probe) => {
			return skip(&format!(
				"strace cannot trace here ({}): this check needs ptrace",
				String::from_utf8_lossy(&probe.stderr).trim()
			));
		}
		Err(e) => return skip(&format!("no strace here ({e}); scripts/setup.sh installs it")),
	}
	let output = Command::new("strace")
		.args([
			"-f",
			"-qq",
			"-s",
			"256",
			"-e",
			"trace=openat,fsync,fdatasync,rename,renameat,renameat2,write",
			"-o",
		])
		.arg(&trace)
		.arg(std::env::current_exe().unwrap())
		.args(["own_vote_in_a_child_process", "--exact", "--nocapture", "--test-threads", "1"])
		.env(CHILD, dir.path())
		.output()
		.expect("strace ran a moment ago");
	assert!(
		output.status.success(),
		"the traced child failed ({}):\n{}\n{}",
		output.status,
		String::from_utf8_lossy(&output.stdout),
		String::from_utf8_lossy(&output.stderr)
	);
	assert!(String::from_utf8_lossy(&output.stdout).contains(RETURNED), "the child voted");
	let trace = std::fs::read_to_string(&trace).unwrap();
	let lines: Vec<&str> = trace.lines().collect();
	let returned = lines
		.iter()
		.position(|l| l.contains("write(") && l.contains(RETURNED))
		.expect("the marker in the trace");
	let before = &lines[..returned];

	// The guard's temporary file: opened, written, fsynced; renamed over the guard; the
	// directory fsynced. All before the call returned.
	let fd_of = |line: &str| line.rsplit('=').next().unwrap().trim().to_string();
	let tmp_open = before
		.iter()
		.position(|l| {
			l.contains("openat(") && l.contains("own-vote-guard") && l.contains("O_CREAT")
		})
		.expect("the guard's temporary file is created");
	let tmp_fd = fd_of(before[tmp_open]);
	let synced = before[tmp_open..]
		.iter()
		.position(|l| {
			(l.contains("fsync(") || l.contains("fdatasync(")) && l.contains(&format!("({tmp_fd})"))
		})
		.map(|i| i + tmp_open)
		.expect("the guard's temporary file is fsynced");
	let renamed = before[synced..]
		.iter()
		.position(|l| l.contains("rename") && l.contains("own-vote-guard\""))
		.map(|i| i + synced)
		.expect("the guard is renamed into place after the fsync");
	let dir_open = before[renamed..]
		.iter()
		.position(|l| l.contains("openat(") && l.contains(&format!("\"{}\"", dir.path().display())))
		.map(|i| i + renamed)
		.expect("the guard's directory is opened after the rename");
	let dir_fd = fd_of(before[dir_open]);
	assert!(
		before[dir_open..].iter().any(|l| l.contains(&format!("fsync({dir_fd})"))),
		"the directory is fsynced before the vote is returned:\n{}",
		before[tmp_open..].join("\n")
	);
	eprintln!(
		"own vote: guard created at trace line {tmp_open}, fsynced at {synced}, renamed at \
		 {renamed}, directory fsynced before the return at line {returned}"
	);
}
