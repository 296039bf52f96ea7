//! The certificates the gadget finalizes blocks with, as a stream: what
//! `checkpoint_subscribeFinalized` delivers (GRANDPA's justification stream is the model). One
//! item each time [`finalize_block`](crate::client) moves the client's finality, in that order.

use sc_utils::notification::{NotificationSender, NotificationStream, TracingKeyStr};
use sp_finality_checkpoint::CheckpointCertificate;

/// The tracing key of the certificate stream's channels.
#[derive(Clone)]
pub struct CertificateTracingKey;

impl TracingKeyStr for CertificateTracingKey {
	const TRACING_KEY: &'static str = "mpsc_checkpoint_certificate_notification_stream";
}

/// Subscribes to the certificates that finalize blocks on the client, in the order they do.
pub type CertificateStream<H> = NotificationStream<CheckpointCertificate<H>, CertificateTracingKey>;

/// Sends a certificate to every subscriber once it finalized its block on the client.
pub(crate) type CertificateSender<H> = NotificationSender<CheckpointCertificate<H>>;
