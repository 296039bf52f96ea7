//! `checkpoint-node`: a Substrate solochain node whose blocks are authored by Aura and
//! finalized by the checkpoint finality gadget (`sc-finality-checkpoint`); there is no GRANDPA.

#![warn(missing_docs)]
// The node's results carry sc-cli's and sc-service's error types, which are large; boxing them
// at every call site would only hide the subcommands' plumbing.
#![allow(clippy::result_large_err)]

mod asf_service;
mod chain_spec;
mod cli;
mod command;
mod rpc;

fn main() -> sc_cli::Result<()> {
	command::run()
}
