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

use iot_ca::{CertificateId, CreationKey, MarkerKey, SortOrder, TemplateFacts, TemplateName};

use crate::error::ApiError;

pub mod devices;
pub mod ops;
mod postgres;
pub mod sql;
mod sqlite;

pub use postgres::PostgresStore;
pub use sql::{SCHEMA_VERSION, Tx};
pub use sqlite::SqliteStore;

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

/// One page's worth of rows of a keyset query.
#[derive(Clone, Debug)]
pub struct Keyset {
    /// The key to start after, if any.
    pub after: Option<CreationKey>,
    /// The order.
    pub order: SortOrder,
    /// Rows to return at most (the page size plus one, so the caller knows whether more follow).
    pub limit: u32,
}

/// A provisioning template as stored.
#[derive(Clone, Debug)]
pub struct TemplateRecord {
    /// Its name.
    pub name: TemplateName,
    /// Its type and whether it is enabled.
    pub facts: TemplateFacts,
    /// The CreateProvisioningTemplate document, as given.
    pub document: serde_json::Value,
}

/// A claim-issuing CA: its certificate and its P-256 key, both PEM.
#[derive(Clone)]
pub struct ClaimIssuerRecord {
    /// The certificate, PEM.
    pub certificate_pem: String,
    /// The key, PKCS#8 PEM.
    pub key_pem: String,
}

impl core::fmt::Debug for ClaimIssuerRecord {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ClaimIssuerRecord").field("certificate_pem", &self.certificate_pem).finish_non_exhaustive()
    }
}

/// The registry's storage: a read or a write transaction, each run off the async workers, the
/// write committed before its answer returns.
pub trait Store: Send + Sync + 'static {
    /// The secret that seals list markers, shared by every process on this store.
    fn marker_key(&self) -> &MarkerKey;

    /// Runs `f` to read (SQLite: in one snapshot; PostgreSQL: statement by statement). What must
    /// read several statements as one snapshot, or write, runs as [`Store::write`].
    fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut dyn Tx) -> Result<T, ApiError> + Send + 'static,
    ) -> impl Future<Output = Result<T, ApiError>> + Send;

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

    fn write<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut dyn Tx) -> Result<T, ApiError> + Send + 'static,
    ) -> impl Future<Output = Result<T, ApiError>> + Send {
        (**self).write(f)
    }
}
