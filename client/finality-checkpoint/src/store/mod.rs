//! The gadget's storage, which knows nothing of gossip or of the vote rules.
//!
//! - [`persistence`]: the interface the state machine writes through ([`CheckpointStorage`]),
//!   what it loads and prunes, the write-behind buffer and its timing, and the maintenance
//!   task.
//! - [`db`]: [`CheckpointDB`], the kvdb-rocksdb columns and key layout, and
//!   [`CheckpointStorageAdapter`], the interface on it.
//! - `guard`: [`GuardFile`], the fsynced own-vote guard file beside the database.

pub mod db;
mod guard;
pub mod persistence;

pub use db::{columns, CheckpointDB, CheckpointStorageAdapter, ColumnStats};
pub use guard::{GuardFile, GUARD_FILE_NAME};
pub use persistence::{
	run_maintenance, CheckpointFinalityPersistence, CheckpointPersistenceConfig, CheckpointStorage,
	MaintenanceReport, PruneOutcome, StoredState,
};
