//! What the server keeps, behind one trait with two implementations: [`SqliteStore`] (a file,
//! the default) and [`PostgresStore`] (several server processes share one registry).
//!
//! The rules that must hold under concurrency live in the database, never in a Rust lock:
//! one record per (account, region, certificateId) is a primary key; at most ten CAs per
//! (account, region, subject) and the facts a registration is decided on are read and written
//! in one transaction that holds the write lock from its first statement (SQLite
//! `BEGIN IMMEDIATE`; PostgreSQL transaction-scoped advisory locks); at most one DEFAULT-mode
//! holder per (region, certificateId) across accounts is a partial unique index as well.
//!
//! Operations that decide on stored facts take the decision as a closure (the library's pure
//! `admit`, `update_*`, `delete_*`, `tag_resource`): the store runs it inside the transaction,
//! between reading the facts and writing the result, so nothing can change in between.

use std::future::Future;

use iot_ca::{
    AccountFacts, AccountScope, CaCertificateDescription, CaCertificateUpdate, CertificateDescription, CertificateId,
    CertificateRegistration, CertificateStatus, CertificateUpdate, CreationKey, MarkerKey, Registration,
    RegistrationCode, ResourceArn, SortOrder, Tags, TemplateFacts, TemplateName,
};

use crate::error::ApiError;

mod postgres;
mod sqlite;

pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;

/// The schema version this server writes. A store with a newer one is refused at start.
pub const SCHEMA_VERSION: i64 = 1;

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

/// A decision taken on stored facts inside the store's transaction.
pub trait Decide<In, Out>: FnOnce(In) -> Result<Out, ApiError> + Send + 'static {}
impl<In, Out, F: FnOnce(In) -> Result<Out, ApiError> + Send + 'static> Decide<In, Out> for F {}

/// The registry's storage. Every call is scoped to one (account, region).
pub trait Store: Send + Sync + 'static {
    /// The secret that seals list markers, shared by every process on this store.
    fn marker_key(&self) -> &MarkerKey;

    /// The scope's registration code, if one was issued and not deleted.
    fn registration_code(
        &self,
        scope: &AccountScope,
    ) -> impl Future<Output = Result<Option<RegistrationCode>, ApiError>> + Send;

    /// Keeps `fresh` as the scope's code unless one exists; answers the one in force.
    fn registration_code_or_insert(
        &self,
        scope: &AccountScope,
        fresh: RegistrationCode,
    ) -> impl Future<Output = Result<RegistrationCode, ApiError>> + Send;

    /// Deletes the scope's code; `false` when there was none.
    fn delete_registration_code(&self, scope: &AccountScope) -> impl Future<Output = Result<bool, ApiError>> + Send;

    /// RegisterCACertificate's second phase: reads the [`AccountFacts`] of CA `id` with
    /// `subject` (and `template`), lets `decide` admit it, stores the registration.
    fn register_ca(
        &self,
        scope: &AccountScope,
        id: CertificateId,
        subject: Vec<u8>,
        template: Option<TemplateName>,
        decide: impl Decide<AccountFacts, Registration>,
    ) -> impl Future<Output = Result<Registration, ApiError>> + Send;

    /// The scope's CA `id`.
    fn ca(
        &self,
        scope: &AccountScope,
        id: &CertificateId,
    ) -> impl Future<Output = Result<Option<CaCertificateDescription>, ApiError>> + Send;

    /// UpdateCACertificate: `decide` sees the stored CA and the template it names; a changed
    /// description is written.
    fn update_ca(
        &self,
        scope: &AccountScope,
        id: CertificateId,
        template: Option<TemplateName>,
        decide: impl Decide<(Option<CaCertificateDescription>, Option<TemplateFacts>), CaCertificateUpdate>,
    ) -> impl Future<Output = Result<(), ApiError>> + Send;

    /// DeleteCACertificate: `decide` sees the stored CA; on `Ok` it goes.
    fn delete_ca(
        &self,
        scope: &AccountScope,
        id: CertificateId,
        decide: impl Decide<Option<CaCertificateDescription>, ()>,
    ) -> impl Future<Output = Result<(), ApiError>> + Send;

    /// The scope's CAs in keyset order, only those naming `template` when given.
    fn list_cas(
        &self,
        scope: &AccountScope,
        template: Option<TemplateName>,
        keyset: Keyset,
    ) -> impl Future<Output = Result<Vec<CaCertificateDescription>, ApiError>> + Send;

    /// RegisterCertificate's second phase: `decide` sees whether the scope holds `id` already
    /// and the CAs `lookup` finds; the registration it answers is stored.
    fn register_certificate(
        &self,
        scope: &AccountScope,
        id: CertificateId,
        lookup: CaLookup,
        decide: impl Decide<(bool, Vec<CaCertificateDescription>), CertificateRegistration>,
    ) -> impl Future<Output = Result<CertificateRegistration, ApiError>> + Send;

    /// The scope's device certificate `id`.
    fn certificate(
        &self,
        scope: &AccountScope,
        id: &CertificateId,
    ) -> impl Future<Output = Result<Option<CertificateDescription>, ApiError>> + Send;

    /// UpdateCertificate: `decide` sees the stored certificate; a changed one is written.
    fn update_certificate(
        &self,
        scope: &AccountScope,
        id: CertificateId,
        decide: impl Decide<Option<CertificateDescription>, CertificateUpdate>,
    ) -> impl Future<Output = Result<(), ApiError>> + Send;

    /// DeleteCertificate: `decide` sees the stored status; on `Ok` it goes.
    fn delete_certificate(
        &self,
        scope: &AccountScope,
        id: CertificateId,
        decide: impl Decide<Option<CertificateStatus>, ()>,
    ) -> impl Future<Output = Result<(), ApiError>> + Send;

    /// The scope's device certificates (signed by `ca` when given) in keyset order.
    fn list_certificates(
        &self,
        scope: &AccountScope,
        ca: Option<CertificateId>,
        keyset: Keyset,
    ) -> impl Future<Output = Result<Vec<CertificateDescription>, ApiError>> + Send;

    /// The tags of the resource `arn` names, `None` when the scope does not hold it.
    fn tags(
        &self,
        scope: &AccountScope,
        arn: &ResourceArn,
    ) -> impl Future<Output = Result<Option<Tags>, ApiError>> + Send;

    /// TagResource / UntagResource: `decide` sees the resource's tags and answers the new ones.
    fn update_tags(
        &self,
        scope: &AccountScope,
        arn: ResourceArn,
        decide: impl Decide<Option<Tags>, Tags>,
    ) -> impl Future<Output = Result<(), ApiError>> + Send;

    /// The scope's template `name`.
    fn template(
        &self,
        scope: &AccountScope,
        name: &TemplateName,
    ) -> impl Future<Output = Result<Option<TemplateFacts>, ApiError>> + Send;

    /// Stores a template; `false` when the scope holds one by that name.
    fn create_template(
        &self,
        scope: &AccountScope,
        template: TemplateRecord,
    ) -> impl Future<Output = Result<bool, ApiError>> + Send;

    /// Deletes a template; `false` when there was none.
    fn delete_template(
        &self,
        scope: &AccountScope,
        name: &TemplateName,
    ) -> impl Future<Output = Result<bool, ApiError>> + Send;

    /// The scope's claim issuer, `fresh` stored first when there is none (every process then
    /// uses the one that was stored first).
    fn claim_issuer_or_insert(
        &self,
        scope: &AccountScope,
        fresh: ClaimIssuerRecord,
    ) -> impl Future<Output = Result<ClaimIssuerRecord, ApiError>> + Send;

    /// The scope's claim issuer, if there is one.
    fn claim_issuer(
        &self,
        scope: &AccountScope,
    ) -> impl Future<Output = Result<Option<ClaimIssuerRecord>, ApiError>> + Send;
}

/// The schema, written once for both databases: `{bytes}`, `{int}` and `{bool}` are the
/// column types each spells differently.
pub(crate) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value {bytes} NOT NULL);
CREATE TABLE IF NOT EXISTS registration_codes (
    account TEXT NOT NULL, region TEXT NOT NULL, code TEXT NOT NULL,
    PRIMARY KEY (account, region));
CREATE TABLE IF NOT EXISTS ca_certificates (
    account TEXT NOT NULL, region TEXT NOT NULL, id TEXT NOT NULL,
    subject {bytes} NOT NULL, mode TEXT NOT NULL, creation_date {int} NOT NULL,
    template_name TEXT, record TEXT NOT NULL,
    PRIMARY KEY (account, region, id));
CREATE INDEX IF NOT EXISTS ca_by_subject ON ca_certificates (account, region, subject);
CREATE INDEX IF NOT EXISTS ca_by_creation ON ca_certificates (account, region, creation_date, id);
CREATE UNIQUE INDEX IF NOT EXISTS ca_default_holder ON ca_certificates (region, id) WHERE mode = 'DEFAULT';
CREATE TABLE IF NOT EXISTS certificates (
    account TEXT NOT NULL, region TEXT NOT NULL, id TEXT NOT NULL,
    ca_id TEXT, creation_date {int} NOT NULL, record TEXT NOT NULL, tags TEXT NOT NULL DEFAULT '[]',
    PRIMARY KEY (account, region, id));
CREATE INDEX IF NOT EXISTS certificates_by_creation ON certificates (account, region, creation_date, id);
CREATE INDEX IF NOT EXISTS certificates_by_ca ON certificates (account, region, ca_id, creation_date, id);
CREATE TABLE IF NOT EXISTS provisioning_templates (
    account TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL,
    type TEXT NOT NULL, enabled {bool} NOT NULL, document TEXT NOT NULL,
    PRIMARY KEY (account, region, name));
CREATE TABLE IF NOT EXISTS claim_issuers (
    account TEXT NOT NULL, region TEXT NOT NULL, certificate_pem TEXT NOT NULL, key_pem TEXT NOT NULL,
    PRIMARY KEY (account, region));
";

/// [`SCHEMA`] with the column types of one database.
pub(crate) fn schema(bytes: &str, int: &str, boolean: &str) -> String {
    SCHEMA.replace("{bytes}", bytes).replace("{int}", int).replace("{bool}", boolean)
}

/// Reads a stored CA record.
pub(crate) fn ca_from_record(text: &str) -> Result<CaCertificateDescription, ApiError> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(ApiError::internal)?;
    iot_ca::wire::ca_record_from_json(&value).map_err(ApiError::internal)
}

/// Reads a stored device certificate record.
pub(crate) fn certificate_from_record(text: &str) -> Result<CertificateDescription, ApiError> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(ApiError::internal)?;
    iot_ca::wire::certificate_record_from_json(&value).map_err(ApiError::internal)
}

/// Reads stored tags (`[{"Key", "Value"}]`).
pub(crate) fn tags_from_text(text: &str) -> Result<Tags, ApiError> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(ApiError::internal)?;
    let pairs: Vec<(&str, &str)> = value
        .as_array()
        .map(|items| items.iter().filter_map(|t| Some((t.get("Key")?.as_str()?, t.get("Value")?.as_str()?))).collect())
        .unwrap_or_default();
    Tags::new(&pairs).map_err(ApiError::internal)
}

/// Tags as stored.
pub(crate) fn tags_to_text(tags: &Tags) -> String {
    iot_ca::wire::tags_to_json(tags).to_string()
}

/// The registrationConfig.templateName a CA names, for the ListCACertificates filter.
pub(crate) fn template_of(d: &CaCertificateDescription) -> Option<String> {
    d.registration_config.as_ref().and_then(|c| c.template_name()).map(|n| n.as_str().to_owned())
}
