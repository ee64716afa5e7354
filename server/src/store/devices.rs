//! The device endpoint's store operations (`crate::mqtt`), written once for both engines over a
//! [`Tx`] as [`super::ops`] is. Unlike the API's operations, which act in the caller's
//! (account, region), a device names no account: these look across the accounts of the
//! listener's region for the registries a device certificate may belong to
//! ([`connect_candidates`]), register what a connection decides (just-in-time registration,
//! [`register_jitr`]; just-in-time provisioning, [`provision_jitp`]), re-read the statuses of
//! the certificates connected right now ([`certificate_statuses`]), and keep the TLS root and
//! server certificates every process sharing the store serves ([`tls_identity_or_insert`]).

use std::collections::BTreeMap;

use iot_ca::{
    AccountId, AccountScope, CaCertificateDescription, CertificateDescription, CertificateId, CertificateStatus,
    Region, TemplateBody, TemplateName, TemplateParameters,
};

use super::ops::{ca_from_record, certificate_from_record, certificate_record_text, keys, lock_certificate};
use super::sql::{Tx, Value, params};
use crate::error::ApiError;

/// Rows each source of [`connect_candidates`] reads at most: a region's accounts holding one
/// certificate, or a CA of one subject. Ten CAs per (account, subject) is AWS's quota, so only
/// a crowd of accounts would reach it; past it the lookup is cut there, never unbounded.
pub const MAX_CANDIDATE_ROWS: i64 = 100;

/// Certificates [`certificate_statuses`] asks about in one statement.
const STATUS_CHUNK: usize = 200;

/// What one account's registry knows of a device that is connecting: the facts the connect
/// decision is made on, if that account turns out to be the device's.
#[derive(Clone, Debug)]
pub struct Candidate {
    /// The account.
    pub account: AccountId,
    /// Its record of the device certificate, if it holds one.
    pub record: Option<CertificateDescription>,
    /// Its CAs whose subject is the device certificate's issuer (whether they signed it is the
    /// caller's to verify: a signature is CPU work, off the store's thread).
    pub cas: Vec<CaCertificateDescription>,
    /// The bodies of the provisioning templates those CAs' registrationConfig name.
    pub templates: Vec<(TemplateName, TemplateBody)>,
}

impl Candidate {
    fn new(account: AccountId) -> Self {
        Self { account, record: None, cas: Vec::new(), templates: Vec::new() }
    }
}

/// The accounts of `region` a device certificate may belong to, each with what it knows: the
/// registries that hold the certificate `id`, and those with a CA whose subject is `issuer`
/// (DER). Every source of candidates is read here, in this one place: the account whose claim
/// issuer signed a provisioning claim is the next one (fleet provisioning).
///
/// # Errors
/// The store's; a stored record that does not read back is InternalFailure.
pub fn connect_candidates(
    tx: &mut dyn Tx,
    region: &Region,
    id: &CertificateId,
    issuer: &[u8],
) -> Result<Vec<Candidate>, ApiError> {
    let mut found: BTreeMap<String, Candidate> = BTreeMap::new();
    holders_of_certificate(tx, region, id, &mut found)?;
    holders_of_issuer(tx, region, issuer, &mut found)?;
    for candidate in found.values_mut() {
        templates_named(tx, region, candidate)?;
    }
    Ok(found.into_values().collect())
}

fn candidate<'a>(found: &'a mut BTreeMap<String, Candidate>, account: &str) -> Result<&'a mut Candidate, ApiError> {
    if !found.contains_key(account) {
        let parsed = AccountId::parse(account).map_err(ApiError::internal)?;
        found.insert(account.to_owned(), Candidate::new(parsed));
    }
    found.get_mut(account).ok_or_else(|| ApiError::internal("store: a candidate vanished"))
}

/// Source 1: the registries that hold the certificate.
fn holders_of_certificate(
    tx: &mut dyn Tx,
    region: &Region,
    id: &CertificateId,
    found: &mut BTreeMap<String, Candidate>,
) -> Result<(), ApiError> {
    let rows = tx.query(
        "SELECT account, record FROM certificates WHERE region = ?1 AND id = ?2 ORDER BY account LIMIT ?3",
        params![region.as_str(), id.as_str(), MAX_CANDIDATE_ROWS],
    )?;
    for row in rows {
        let record = certificate_from_record(&row.text(1)?)?;
        candidate(found, &row.text(0)?)?.record = Some(record);
    }
    Ok(())
}

/// Source 2: the registries with a CA whose subject is the certificate's issuer.
fn holders_of_issuer(
    tx: &mut dyn Tx,
    region: &Region,
    issuer: &[u8],
    found: &mut BTreeMap<String, Candidate>,
) -> Result<(), ApiError> {
    let rows = tx.query(
        "SELECT account, record FROM ca_certificates WHERE region = ?1 AND subject = ?2 ORDER BY account, id LIMIT ?3",
        params![region.as_str(), issuer, MAX_CANDIDATE_ROWS],
    )?;
    for row in rows {
        let ca = ca_from_record(&row.text(1)?)?;
        candidate(found, &row.text(0)?)?.cas.push(ca);
    }
    Ok(())
}

/// The bodies of the templates the candidate's CAs name (JITP by template name).
fn templates_named(tx: &mut dyn Tx, region: &Region, candidate: &mut Candidate) -> Result<(), ApiError> {
    let names: Vec<TemplateName> = candidate
        .cas
        .iter()
        .filter_map(|ca| ca.registration_config.as_ref().and_then(|c| c.template_name()).cloned())
        .collect();
    for name in names {
        if candidate.templates.iter().any(|(n, _)| *n == name) {
            continue;
        }
        let row = tx.query_opt(
            "SELECT document FROM provisioning_templates WHERE account = ?1 AND region = ?2 AND name = ?3",
            params![candidate.account.as_str(), region.as_str(), name.as_str()],
        )?;
        let Some(row) = row else { continue };
        let document: serde_json::Value = serde_json::from_str(&row.text(0)?).map_err(ApiError::internal)?;
        // A template whose body does not read is left out: the decision then refuses the
        // device with "template not supplied", which names it.
        if let Some(body) = document.get("templateBody").and_then(serde_json::Value::as_str)
            && let Ok(body) = TemplateBody::parse(body)
        {
            candidate.templates.push((name, body));
        }
    }
    Ok(())
}

/// Stores `record`, a certificate just-in-time registration registers (PENDING_ACTIVATION),
/// unless the scope already holds it (another connection of the same device, in this process
/// or another, registered it first). Answers whether this call stored it.
///
/// # Errors
/// The store's.
pub fn register_jitr(tx: &mut dyn Tx, scope: &AccountScope, record: &CertificateDescription) -> Result<bool, ApiError> {
    insert_certificate(tx, scope, record)
}

/// Just-in-time provisioning, in the one transaction it runs in: registers the certificate as
/// the connect decision says (`record`, ACTIVE) unless the scope already holds it, and applies
/// the template of the CA's registrationConfig with `parameters`. Answers whether this call
/// registered it (a device that raced itself is provisioned once).
///
/// For now only the registration is done: the template engine that creates the template's
/// things and policies is plugged in here, inside this transaction, so a device is provisioned
/// with all of its resources or none.
///
/// # Errors
/// The store's.
pub fn provision_jitp(
    tx: &mut dyn Tx,
    scope: &AccountScope,
    record: &CertificateDescription,
    parameters: &TemplateParameters,
) -> Result<bool, ApiError> {
    let _ = parameters;
    insert_certificate(tx, scope, record)
}

fn insert_certificate(tx: &mut dyn Tx, scope: &AccountScope, d: &CertificateDescription) -> Result<bool, ApiError> {
    let (a, r) = keys(scope);
    lock_certificate(tx, scope, d.certificate_id.as_str())?;
    let inserted = tx.execute(
        "INSERT INTO certificates (account, region, id, ca_id, creation_date, record) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT DO NOTHING",
        params![
            a,
            r,
            d.certificate_id.as_str(),
            d.ca_certificate_id.as_ref().map(CertificateId::as_str),
            d.creation_date.as_secs(),
            certificate_record_text(d)
        ],
    )?;
    Ok(inserted > 0)
}

/// The status of each (account, certificateId) of `region` in `wanted`, in its order: `None`
/// when the account no longer holds the certificate.
///
/// # Errors
/// The store's.
pub fn certificate_statuses(
    tx: &mut dyn Tx,
    region: &Region,
    wanted: &[(AccountId, CertificateId)],
) -> Result<Vec<Option<CertificateStatus>>, ApiError> {
    let mut ids: Vec<&str> = wanted.iter().map(|(_, id)| id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    let mut statuses: BTreeMap<(String, String), CertificateStatus> = BTreeMap::new();
    for chunk in ids.chunks(STATUS_CHUNK) {
        let placeholders: Vec<String> = (0..chunk.len()).map(|i| format!("?{}", i + 2)).collect();
        let sql = format!(
            "SELECT account, id, record FROM certificates WHERE region = ?1 AND id IN ({})",
            placeholders.join(", ")
        );
        let mut values = vec![Value::from(region.as_str())];
        values.extend(chunk.iter().map(|id| Value::from(*id)));
        for row in tx.query(&sql, &values)? {
            let record = certificate_from_record(&row.text(2)?)?;
            statuses.insert((row.text(0)?, row.text(1)?), record.status);
        }
    }
    Ok(wanted
        .iter()
        .map(|(account, id)| statuses.get(&(account.as_str().to_owned(), id.as_str().to_owned())).copied())
        .collect())
}

/// A TLS certificate chain and its private key, both PEM, as the device endpoint serves them.
#[derive(Clone)]
pub struct TlsIdentityRecord {
    /// The certificate (or chain), PEM.
    pub certificate_pem: String,
    /// The private key, PKCS#8 PEM.
    pub key_pem: String,
}

impl core::fmt::Debug for TlsIdentityRecord {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TlsIdentityRecord").field("certificate_pem", &self.certificate_pem).finish_non_exhaustive()
    }
}

/// The TLS identity stored as `name` (`root`, or `server/<endpoint address>`), if any.
///
/// # Errors
/// The store's.
pub fn tls_identity(tx: &mut dyn Tx, name: &str) -> Result<Option<TlsIdentityRecord>, ApiError> {
    let row = tx.query_opt("SELECT certificate_pem, key_pem FROM tls_identities WHERE name = ?1", params![name])?;
    row.map(|row| Ok(TlsIdentityRecord { certificate_pem: row.text(0)?, key_pem: row.text(1)? })).transpose()
}

/// The TLS identity stored as `name`, `fresh` stored first when there is none: the first
/// process to store one wins, and every process sharing the store serves it.
///
/// # Errors
/// The store's.
pub fn tls_identity_or_insert(
    tx: &mut dyn Tx,
    name: &str,
    fresh: &TlsIdentityRecord,
) -> Result<TlsIdentityRecord, ApiError> {
    tx.execute(
        "INSERT INTO tls_identities (name, certificate_pem, key_pem) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
        params![name, fresh.certificate_pem.as_str(), fresh.key_pem.as_str()],
    )?;
    tls_identity(tx, name)?.ok_or_else(|| ApiError::internal("the TLS identity vanished"))
}
