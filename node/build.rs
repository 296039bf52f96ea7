//! Emits `SUBSTRATE_CLI_IMPL_VERSION` (crate version plus git commit) for `--version`, and
//! reruns when the git HEAD moves.

use substrate_build_script_utils::{generate_cargo_keys, rerun_if_git_head_changed};

fn main() {
	generate_cargo_keys();
	rerun_if_git_head_changed();
}
