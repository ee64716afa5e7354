//! What both engines share: the transaction the operations run in ([`Tx`]), the one bound value
//! type ([`Value`]) and the row it reads ([`Row`]), and the schema. Statements are written once,
//! with `?1`-style parameters, in the SQL both SQLite and PostgreSQL read (`ON CONFLICT DO
//! NOTHING`, `CAST(? AS TEXT)`, row values); the PostgreSQL adapter numbers them `$1`.

use crate::error::ApiError;

/// A value bound to a statement's parameter, or read from a row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    /// SQL NULL.
    Null,
    /// A 64-bit integer (`INTEGER` / `BIGINT`).
    Int(i64),
    /// Text.
    Text(String),
    /// Bytes (`BLOB` / `BYTEA`).
    Bytes(Vec<u8>),
    /// A boolean (SQLite keeps it as 0 or 1).
    Bool(bool),
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Self::Int(v)
    }
}

impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Self::Bool(v)
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Self::Text(v.to_owned())
    }
}

impl From<String> for Value {
    fn from(v: String) -> Self {
        Self::Text(v)
    }
}

impl From<&String> for Value {
    fn from(v: &String) -> Self {
        Self::Text(v.clone())
    }
}

impl From<Vec<u8>> for Value {
    fn from(v: Vec<u8>) -> Self {
        Self::Bytes(v)
    }
}

impl From<&[u8]> for Value {
    fn from(v: &[u8]) -> Self {
        Self::Bytes(v.to_vec())
    }
}

impl<T: Into<Self>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Self::Null, Into::into)
    }
}

/// Parameters, from anything a [`Value`] is made of: `params![a, r, id]`.
macro_rules! params {
    ($($v:expr),* $(,)?) => {
        &[$($crate::store::sql::Value::from($v)),*][..]
    };
}
pub(crate) use params;

/// One row of a result, its columns in the statement's order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Row(pub Vec<Value>);

impl Row {
    fn column(&self, i: usize) -> Result<&Value, ApiError> {
        self.0.get(i).ok_or_else(|| ApiError::internal(format_args!("store: no column {i} in a row")))
    }

    /// Column `i` as an integer.
    ///
    /// # Errors
    /// InternalFailure when the column is absent or not an integer.
    pub fn int(&self, i: usize) -> Result<i64, ApiError> {
        match self.column(i)? {
            Value::Int(v) => Ok(*v),
            other => Err(ApiError::internal(format_args!("store: column {i} is {other:?}, not an integer"))),
        }
    }

    /// Column `i` as text.
    ///
    /// # Errors
    /// InternalFailure when the column is absent or not text.
    pub fn text(&self, i: usize) -> Result<String, ApiError> {
        match self.column(i)? {
            Value::Text(v) => Ok(v.clone()),
            other => Err(ApiError::internal(format_args!("store: column {i} is {other:?}, not text"))),
        }
    }

    /// Column `i` as text, `None` for NULL.
    ///
    /// # Errors
    /// InternalFailure when the column is absent or neither text nor NULL.
    pub fn opt_text(&self, i: usize) -> Result<Option<String>, ApiError> {
        match self.column(i)? {
            Value::Null => Ok(None),
            _ => self.text(i).map(Some),
        }
    }

    /// Column `i` as bytes.
    ///
    /// # Errors
    /// InternalFailure when the column is absent or not bytes.
    pub fn bytes(&self, i: usize) -> Result<Vec<u8>, ApiError> {
        match self.column(i)? {
            Value::Bytes(v) => Ok(v.clone()),
            other => Err(ApiError::internal(format_args!("store: column {i} is {other:?}, not bytes"))),
        }
    }

    /// Column `i` as a boolean (SQLite's 0 and 1 included).
    ///
    /// # Errors
    /// InternalFailure when the column is absent or not a boolean.
    pub fn bool(&self, i: usize) -> Result<bool, ApiError> {
        match self.column(i)? {
            Value::Bool(v) => Ok(*v),
            Value::Int(v) => Ok(*v != 0),
            other => Err(ApiError::internal(format_args!("store: column {i} is {other:?}, not a boolean"))),
        }
    }
}

/// A transaction of either engine. The operations of `ops.rs` are written against it alone.
pub trait Tx {
    /// Runs a statement; answers the rows it changed.
    ///
    /// # Errors
    /// The engine's error: a unique key violated is ResourceAlreadyExistsException, anything
    /// else InternalFailure.
    fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, ApiError>;

    /// Runs a query; answers its rows.
    ///
    /// # Errors
    /// As [`Tx::execute`].
    fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, ApiError>;

    /// Holds the lock named `name` until the transaction ends, whichever process asks next
    /// (PostgreSQL: a transaction-scoped advisory lock). SQLite's write transactions hold the
    /// whole database from their first statement (`BEGIN IMMEDIATE`), so there it is a no-op.
    ///
    /// # Errors
    /// As [`Tx::execute`].
    fn lock(&mut self, name: &str) -> Result<(), ApiError>;

    /// The first row of a query, if any.
    ///
    /// # Errors
    /// As [`Tx::execute`].
    fn query_opt(&mut self, sql: &str, params: &[Value]) -> Result<Option<Row>, ApiError> {
        Ok(self.query(sql, params)?.into_iter().next())
    }

    /// The first row of a query that always answers one (`COUNT`, `EXISTS`).
    ///
    /// # Errors
    /// As [`Tx::execute`], and InternalFailure when there is no row.
    fn query_one(&mut self, sql: &str, params: &[Value]) -> Result<Row, ApiError> {
        self.query_opt(sql, params)?.ok_or_else(|| ApiError::internal("store: a query answered no row"))
    }
}

/// The schema version this server writes. A store with a newer one is refused at start; an
/// older one gets the tables it lacks (every statement of the schema is `IF NOT EXISTS`) and
/// this version.
///
/// 2: things, thing types and groups, policies, their attachments, device issuers, templates
/// with versions (an older store's `provisioning_templates` are copied in at open), the claims
/// issued and fleet provisioning's ownership tokens.
pub const SCHEMA_VERSION: i64 = 2;

/// The schema, written once for both databases: `{bytes}`, `{int}` and `{bool}` are the
/// column types each spells differently.
const SCHEMA: &str = "
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
-- ListCACertificates by templateName, and DeleteProvisioningTemplate's count of the CAs naming it.
CREATE INDEX IF NOT EXISTS ca_by_template ON ca_certificates (account, region, template_name, creation_date, id);
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
CREATE TABLE IF NOT EXISTS templates (
    account TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL, record TEXT NOT NULL,
    PRIMARY KEY (account, region, name));
CREATE TABLE IF NOT EXISTS template_versions (
    account TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL, version_id {int} NOT NULL,
    body TEXT NOT NULL, creation_date {int} NOT NULL,
    PRIMARY KEY (account, region, name, version_id));
CREATE TABLE IF NOT EXISTS claims (
    region TEXT NOT NULL, id TEXT NOT NULL, account TEXT NOT NULL, template_name TEXT NOT NULL,
    not_after {int} NOT NULL,
    PRIMARY KEY (region, id));
CREATE TABLE IF NOT EXISTS ownership_tokens (
    account TEXT NOT NULL, region TEXT NOT NULL, certificate_id TEXT NOT NULL, expires {int} NOT NULL,
    PRIMARY KEY (account, region, certificate_id));
CREATE INDEX IF NOT EXISTS tokens_by_expiry ON ownership_tokens (expires);
CREATE TABLE IF NOT EXISTS device_issuers (
    account TEXT NOT NULL, region TEXT NOT NULL, certificate_pem TEXT NOT NULL, key_pem TEXT NOT NULL,
    PRIMARY KEY (account, region));
CREATE TABLE IF NOT EXISTS things (
    account TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL, record TEXT NOT NULL,
    PRIMARY KEY (account, region, name));
CREATE TABLE IF NOT EXISTS thing_types (
    account TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL, record TEXT NOT NULL,
    PRIMARY KEY (account, region, name));
CREATE TABLE IF NOT EXISTS thing_groups (
    account TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL, record TEXT NOT NULL,
    PRIMARY KEY (account, region, name));
CREATE TABLE IF NOT EXISTS thing_group_members (
    account TEXT NOT NULL, region TEXT NOT NULL, group_name TEXT NOT NULL, thing_name TEXT NOT NULL,
    PRIMARY KEY (account, region, group_name, thing_name));
-- A thing's groups in name order (provisioning's facts) without walking the scope's members.
DROP INDEX IF EXISTS members_by_thing;
CREATE INDEX IF NOT EXISTS members_by_thing_group ON thing_group_members (account, region, thing_name, group_name);
CREATE TABLE IF NOT EXISTS policies (
    account TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL, record TEXT NOT NULL,
    PRIMARY KEY (account, region, name));
CREATE TABLE IF NOT EXISTS policy_targets (
    account TEXT NOT NULL, region TEXT NOT NULL, policy_name TEXT NOT NULL, target TEXT NOT NULL,
    PRIMARY KEY (account, region, policy_name, target));
CREATE INDEX IF NOT EXISTS targets_by_target ON policy_targets (account, region, target, policy_name);
CREATE TABLE IF NOT EXISTS thing_principals (
    account TEXT NOT NULL, region TEXT NOT NULL, thing_name TEXT NOT NULL, principal TEXT NOT NULL,
    PRIMARY KEY (account, region, thing_name, principal));
CREATE INDEX IF NOT EXISTS principals_by_principal ON thing_principals (account, region, principal, thing_name);
-- The device endpoint (store/devices.rs): a device's certificate and CAs looked up across the
-- accounts of a region, and the TLS root and server certificates it serves.
CREATE INDEX IF NOT EXISTS certificates_by_region_id ON certificates (region, id);
CREATE INDEX IF NOT EXISTS ca_by_region_subject ON ca_certificates (region, subject);
CREATE TABLE IF NOT EXISTS tls_identities (
    name TEXT PRIMARY KEY, certificate_pem TEXT NOT NULL, key_pem TEXT NOT NULL);
";

/// The schema (`SCHEMA`) with the column types of one database.
pub fn schema(bytes: &str, int: &str, boolean: &str) -> String {
    SCHEMA.replace("{bytes}", bytes).replace("{int}", int).replace("{bool}", boolean)
}

/// `sql` with its `?N` parameters written `$N`, as PostgreSQL reads them (no statement here has
/// a `?` of its own).
pub fn dollar_params(sql: &str) -> String {
    sql.replace('?', "$")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_read_their_types_and_refuse_others() {
        let row = Row(vec![Value::Int(1), Value::Text("a".into()), Value::Null, Value::Bytes(vec![1])]);
        assert_eq!(row.int(0).unwrap(), 1);
        assert!(row.bool(0).unwrap());
        assert_eq!(row.text(1).unwrap(), "a");
        assert_eq!(row.opt_text(2).unwrap(), None);
        assert_eq!(row.bytes(3).unwrap(), vec![1]);
        assert_eq!(row.int(1).unwrap_err().name, "InternalFailureException");
        assert_eq!(row.text(4).unwrap_err().name, "InternalFailureException");
    }

    #[test]
    fn parameters_are_numbered_for_postgres() {
        assert_eq!(dollar_params("SELECT a FROM t WHERE b = ?1 AND c = ?2"), "SELECT a FROM t WHERE b = $1 AND c = $2");
        let p: &[Value] = params![1i64, "x", None::<String>, true];
        assert_eq!(p, [Value::Int(1), Value::Text("x".into()), Value::Null, Value::Bool(true)]);
    }
}
