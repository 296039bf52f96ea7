//! How the parts of the gadget reach its state, which one task owns.
//!
//! The worker owns the [`CheckpointFinality`]: it is the only one to change it. Before the
//! worker runs, a [`CheckpointLink`] holds it (the node restores it there, and hands the link
//! to the worker). Everything else holds a [`FinalityHandle`]: fork choice, the RPC, metrics
//! and the gossip validator read its published view, which never waits for the worker; block
//! import sends the worker a [`Request`] through it, and waits for the answer only where the
//! import needs one (a header that signals a set change, a forced change coming into force, a
//! justification).

use crate::{
	authorities::{AuthoritySets, Signal},
	error::Result,
	finality::CheckpointFinality,
	notification::{CertificateSender, CertificateStream},
	state::{Progress, Warp},
	store::persistence::CheckpointFinalityPersistence,
	view::{FinalityView, Published},
	CheckpointHash,
};
use futures::channel::{mpsc, oneshot};
use sp_finality_checkpoint::CheckpointCertificate;
use std::sync::Arc;

/// What block import asks of the worker that owns the state.
pub(crate) enum Request<H> {
	/// Note the set changes a block about to be imported signals, and answer once they are
	/// noted (so that no checkpoint above it is finalized without them).
	NoteSignals(Vec<Signal<H>>, oneshot::Sender<()>),
	/// Forget the set changes that a block signalled: its import failed.
	ForgetSignals(H),
	/// Put in force a forced change that the imported block at this height makes due.
	ApplyForced(u64, H, oneshot::Sender<()>),
	/// Take a justification's certificate, verified against these sets, and answer what it
	/// finalized.
	ImportCertificate(
		CheckpointCertificate<H>,
		Arc<AuthoritySets<H>>,
		oneshot::Sender<Result<Progress<H>>>,
	),
	/// Hold what a complete warp sync proof proved, until its target block's state comes.
	WarpProven(Warp<H>),
	/// The state of this block is being imported: jump to the warp proof held for it, and
	/// answer once that is stored (`false`: no proof held for this block).
	ApplyWarp(H, oneshot::Sender<Result<bool>>),
}

/// A handle on the gadget's state: its published view, its store, and the worker's inbox.
/// Cheap to clone.
pub struct FinalityHandle<H> {
	published: Arc<Published<H>>,
	requests: mpsc::UnboundedSender<Request<H>>,
}

impl<H> Clone for FinalityHandle<H> {
	fn clone(&self) -> Self {
		Self { published: self.published.clone(), requests: self.requests.clone() }
	}
}

impl<H: CheckpointHash> FinalityHandle<H> {
	/// The latest published view; never waits for the worker.
	pub fn view(&self) -> Arc<FinalityView<H>> {
		self.published.view()
	}

	/// The persistence layer, once set: stored certificates for RPC and proofs, the buffer for
	/// the metrics and the maintenance task. Reads of the store do not wait for its writes.
	pub fn persistence(&self) -> Option<CheckpointFinalityPersistence<H>> {
		self.published.persistence()
	}

	/// The certificates that finalize blocks on the client, in the order they do, from the
	/// moment of the subscription: `certificate_stream().subscribe(queue_warning)`.
	pub fn certificate_stream(&self) -> CertificateStream<H> {
		self.published.certificate_stream()
	}

	/// Where block import sends a certificate it finalized a block with.
	pub(crate) fn certificate_sender(&self) -> CertificateSender<H> {
		self.published.certificate_sender()
	}

	/// Sends `request` to the worker; `false` when the worker has ended.
	pub(crate) fn send(&self, request: Request<H>) -> bool {
		self.requests.unbounded_send(request).is_ok()
	}

	/// Sends the request that `make` builds around a reply channel and waits for the answer;
	/// `None` when the worker has ended.
	pub(crate) async fn ask<R>(
		&self,
		make: impl FnOnce(oneshot::Sender<R>) -> Request<H>,
	) -> Option<R> {
		let (reply, answer) = oneshot::channel();
		if !self.send(make(reply)) {
			return None;
		}
		answer.await.ok()
	}
}

/// The gadget's state before its worker runs, with the inbox the worker will read: restore it
/// here ([`Self::finality_mut`]), hand [`Self::handle`]s out, then give the link to the worker.
pub struct CheckpointLink<H> {
	finality: CheckpointFinality<H>,
	requests: mpsc::UnboundedReceiver<Request<H>>,
	handle: FinalityHandle<H>,
}

impl<H: CheckpointHash> CheckpointLink<H> {
	/// Links `finality`.
	pub fn new(finality: CheckpointFinality<H>) -> Self {
		let (sender, requests) = mpsc::unbounded();
		let handle = FinalityHandle { published: finality.published(), requests: sender };
		Self { finality, requests, handle }
	}

	/// A handle on the state, for fork choice, block import, the RPC and tests.
	pub fn handle(&self) -> FinalityHandle<H> {
		self.handle.clone()
	}

	/// The state, to read.
	pub fn finality(&self) -> &CheckpointFinality<H> {
		&self.finality
	}

	/// The state, to set up and restore before the worker runs.
	pub fn finality_mut(&mut self) -> &mut CheckpointFinality<H> {
		&mut self.finality
	}

	/// The state and the worker's inbox.
	pub(crate) fn into_parts(
		self,
	) -> (CheckpointFinality<H>, mpsc::UnboundedReceiver<Request<H>>, FinalityHandle<H>) {
		(self.finality, self.requests, self.handle)
	}
}
