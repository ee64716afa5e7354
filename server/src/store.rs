//! What the server keeps: the operations, written once in [`ops`] over a transaction ([`Tx`],
//! [`sql`]), and two engines that run them: [`SqliteStore`] (a file, the default) and
//! [`PostgresStore`] (several server processes share one registry).
//!
//! The rules that must hold under concurrency live in the database, never in a Rust lock:
//! one record per (account, region, certificateId) is a primary key; at most ten CAs per
//! (account, region, subject) and the facts a registration is decided on are read and written
//! in one transaction that holds the write lock from its first statement (SQLite
//! `BEGIN IMMEDIATE`; PostgreSQL transaction-scoped advisory locks); at most one DEFAULT-mode
//! holder per (region, certificateId) across accounts is a partial unique index as well.
//!
//! Operations that decide on stored facts take the decision as a closure (the library's pure
//! `admit`, `update_*`, `delete_*`, `tag_resource`): the operation runs it inside the
//! transaction, between reading the facts and writing the result, so nothing can change in
//! between.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use iot_ca::{CertificateId, CreationKey, MarkerKey, SortOrder};

use crate::error::ApiError;

pub mod devices;
pub mod fleet;
pub mod ops;
mod postgres;
pub mod provisioning;
pub mod sql;
mod sqlite;
pub mod things;

pub use postgres::PostgresStore;
pub use sql::{SCHEMA_VERSION, Tx};
pub use sqlite::SqliteStore;

/// How many connections a store holds and how long one call may take: the server's
/// `--store-connections` and `--request-deadline`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StoreLimits {
    /// PostgreSQL: connections per process at most; calls beyond wait for one, within the
    /// deadline (an unbounded pool met "sorry, too many clients already").
    pub connections: u32,
    /// How long one call may wait (for a connection, for SQLite's write lock) and run; past it
    /// the call answers ServiceUnavailableException instead of hanging on a store that does
    /// not answer. PostgreSQL's `statement_timeout` is set to it as well, so a statement stuck
    /// behind a lock ends on the server too.
    pub deadline: Duration,
}

impl Default for StoreLimits {
    fn default() -> Self {
        Self { connections: 16, deadline: Duration::from_secs(10) }
    }
}

/// `call` within `deadline`, or ServiceUnavailableException. What the call started on a
/// blocking thread may still finish afterwards: a 503 says the outcome is unknown, never that a
/// write did not happen (SDKs retry, and every write here is idempotent or refused as a
/// duplicate).
async fn within<T>(
    deadline: Duration,
    engine: &str,
    call: impl Future<Output = Result<T, ApiError>>,
) -> Result<T, ApiError> {
    tokio::time::timeout(deadline, call).await.unwrap_or_else(|_| {
        Err(ApiError::store_unavailable(format_args!(
            "{engine}: no answer within the {:.1} s deadline",
            deadline.as_secs_f64()
        )))
    })
}

/// Which CA a device certificate registration looks for.
#[derive(Clone, Debug)]
pub enum CaLookup {
    /// None (RegisterCertificateWithoutCA).
    None,
    /// The CA with this id (caCertificatePem was given).
    ById(CertificateId),
    /// The CAs whose subject is this issuer Name (DER).
    ByIssuer(Vec<u8>),
}

/// One page's worth of rows of a keyset query, after a key of type `K` (a creation key for
/// certificates, a name for things and policies).
#[derive(Clone, Debug)]
pub struct Keyset<K = CreationKey> {
    /// The key to start after, if any.
    pub after: Option<K>,
    /// The order.
    pub order: SortOrder,
    /// Rows to return at most (the page size plus one, so the caller knows whether more follow).
    pub limit: u32,
}

/// A certificate-issuing CA kept per (account, region): the claim issuer, the device issuer.
/// Its certificate and its P-256 key, both PEM.
#[derive(Clone)]
pub struct IssuerRecord {
    /// The certificate, PEM.
    pub certificate_pem: String,
    /// The key, PKCS#8 PEM.
    pub key_pem: String,
}

impl core::fmt::Debug for IssuerRecord {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("IssuerRecord").field("certificate_pem", &self.certificate_pem).finish_non_exhaustive()
    }
}

/// The registry's storage: a read or a write transaction, each run off the async workers (but
/// a SQLite lookup), the write committed before its answer returns.
pub trait Store: Send + Sync + 'static {
    /// The secret that seals list markers, shared by every process on this store.
    fn marker_key(&self) -> &MarkerKey;

    /// Runs `f` to read (SQLite: in one snapshot; PostgreSQL: statement by statement). What must
    /// read several statements as one snapshot, or write, runs as [`Store::write`].
    fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut dyn Tx) -> Result<T, ApiError> + Send + 'static,
    ) -> impl Future<Output = Result<T, ApiError>> + Send;

    /// Runs `f` to read as [`Store::read`] does, for a lookup by key: one row, or the few a key
    /// names (a describe, a connect's candidates). An engine whose reads never wait runs it
    /// where it is called (SQLite, in WAL mode), so it costs no hand-off to a blocking thread;
    /// the others run it as a read.
    fn lookup<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut dyn Tx) -> Result<T, ApiError> + Send + 'static,
    ) -> impl Future<Output = Result<T, ApiError>> + Send {
        self.read(f)
    }

    /// Runs `f` in a write transaction: its changes are kept when it answers `Ok`, and the
    /// answer comes once they are committed.
    fn write<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut dyn Tx) -> Result<T, ApiError> + Send + 'static,
    ) -> impl Future<Output = Result<T, ApiError>> + Send;
}

/// A store shared by reference: the HTTP API and the device endpoint serve one registry.
impl<S: Store> Store for Arc<S> {
    fn marker_key(&self) -> &MarkerKey {
        (**self).marker_key()
    }

    fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut dyn Tx) -> Result<T, ApiError> + Send + 'static,
    ) -> impl Future<Output = Result<T, ApiError>> + Send {
        (**self).read(f)
    }

    fn lookup<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut dyn Tx) -> Result<T, ApiError> + Send + 'static,
    ) -> impl Future<Output = Result<T, ApiError>> + Send {
        (**self).lookup(f)
    }

    fn write<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut dyn Tx) -> Result<T, ApiError> + Send + 'static,
    ) -> impl Future<Output = Result<T, ApiError>> + Send {
        (**self).write(f)
    }
}
