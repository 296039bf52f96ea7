//! `checkpoint-node`: a Substrate solochain node whose blocks are authored by Aura and
//! finalized by the checkpoint finality gadget (`sc-finality-checkpoint`); there is no GRANDPA.

#![warn(missing_docs)]

mod asf_service;
mod chain_spec;
mod cli;
mod command;
mod rpc;

fn main() -> sc_cli::Result<()> {
	command::run()
}
