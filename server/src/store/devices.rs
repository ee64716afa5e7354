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
    AccountId, AccountScope, BoundTemplate, CaCertificateDescription, CertificateDescription, CertificateId,
    CertificateStatus, ClaimRecord, Region, TemplateBody, TemplateName, UnixTime,
};

use super::ops::{self, ca_from_record, certificate_from_record, certificate_record_text, keys, lock_certificate};
use super::sql::{Tx, Value, params};
use crate::error::ApiError;

/// Rows each source of [`connect_candidates`] reads at most: a region's accounts holding one
/// certificate, or a CA of one subject. Ten CAs per (account, subject) is AWS's quota, so only
/// a crowd of accounts would reach it; past it the lookup is cut there, never unbounded.
pub const MAX_CANDIDATE_ROWS: i64 = 100;

/// Certificates [`certificate_statuses`] asks about in one statement.
pub const STATUS_CHUNK: usize = 200;

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
    /// The provisioning claim it issued as this certificate, if it did.
    pub claim: Option<ClaimRecord>,
}

impl Candidate {
    fn new(account: AccountId) -> Self {
        Self { account, record: None, cas: Vec::new(), templates: Vec::new(), claim: None }
    }
}

/// The accounts of `region` a device certificate may belong to, each with what it knows: the
/// registries that hold the certificate `id`, and those with a CA whose subject is `issuer`
/// (DER), and the one that issued it as a provisioning claim (fleet provisioning). Every source
/// of candidates is read here, in this one place.
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
    if let Some((account, claim)) = super::fleet::claim(tx, region, id)? {
        candidate(&mut found, account.as_str())?.claim = Some(claim);
    }
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
        let scope = AccountScope::new(candidate.account.clone(), region.clone());
        // A disabled template provisions nothing (the decision then refuses the device naming
        // the template); a body that does not read is left out the same way.
        let Some((template, body)) = super::provisioning::template_with_body(tx, &scope, &name)? else { continue };
        if template.enabled
            && let Ok(body) = TemplateBody::parse(&body)
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

/// Just-in-time provisioning, in the one transaction it runs in: unless the scope already
/// holds the certificate (a device that raced itself is provisioned once), stores `record` as
/// the connect decision says and applies the plan of the CA's bound template
/// ([`super::provisioning::provision_jitp`]: the things, groups, policies and attachments it
/// names), so a device is provisioned with all of its resources or none. Answers whether this
/// call provisioned it.
///
/// # Errors
/// The store's; the plan's (a template that FAILs, a resource that conflicts), as the
/// library's exceptions.
pub fn provision_jitp(
    tx: &mut dyn Tx,
    scope: &AccountScope,
    record: &CertificateDescription,
    template: &BoundTemplate,
    now: UnixTime,
) -> Result<bool, ApiError> {
    lock_certificate(tx, scope, record.certificate_id.as_str())?;
    if ops::certificate(tx, scope, &record.certificate_id)?.is_some() {
        return Ok(false);
    }
    super::provisioning::provision_jitp(tx, scope, record, template, now)?;
    Ok(true)
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
    statuses_in_chunks(tx, region, wanted, STATUS_CHUNK)
}

fn statuses_in_chunks(
    tx: &mut dyn Tx,
    region: &Region,
    wanted: &[(AccountId, CertificateId)],
    chunk_size: usize,
) -> Result<Vec<Option<CertificateStatus>>, ApiError> {
    let mut ids: Vec<&str> = wanted.iter().map(|(_, id)| id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    let mut statuses: BTreeMap<(String, String), CertificateStatus> = BTreeMap::new();
    for chunk in ids.chunks(chunk_size.max(1)) {
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

#[cfg(test)]
mod tests {
    use iot_ca::{CertificateFacts, Policy};

    use super::*;
    use crate::store::{SqliteStore, Store};

    fn account(n: u8) -> AccountId {
        AccountId::parse(&format!("{n}").repeat(12)).unwrap()
    }

    fn region() -> Region {
        Region::parse("us-east-1").unwrap()
    }

    /// A self-signed certificate registered without a CA in `account`, as its description.
    fn record(account: &AccountId, name: &str, status: &str) -> CertificateDescription {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(vec![name.to_owned()]).unwrap();
        params.distinguished_name.push(rcgen::DnType::CommonName, name);
        let now = std::time::SystemTime::now();
        let at = |t: std::time::SystemTime| {
            let secs = t.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
            time::OffsetDateTime::from_unix_timestamp(i64::try_from(secs).unwrap()).unwrap()
        };
        params.not_before = at(now - std::time::Duration::from_secs(86_400));
        params.not_after = at(now + std::time::Duration::from_secs(86_400));
        let pem = params.self_signed(&key).unwrap().pem();
        let body = serde_json::json!({"certificatePem": pem, "status": status}).to_string();
        let request = iot_ca::wire::register_certificate_without_ca_request_from_json(&body).unwrap();
        let checked =
            iot_ca::check_certificate_without_ca(&request, Policy::default(), UnixTime::from_system_time(now)).unwrap();
        let scope = AccountScope::new(account.clone(), region());
        iot_ca::admit_certificate(checked, &CertificateFacts::new(), &scope, &mut rand::rng()).unwrap().description
    }

    async fn store() -> (SqliteStore, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        (SqliteStore::open(&dir.path().join("s.sqlite3")).await.unwrap(), dir)
    }

    #[tokio::test]
    async fn registrations_are_once_and_statuses_read_across_accounts() {
        let (store, _dir) = store().await;
        let (one, two) = (account(1), account(2));
        let active = record(&one, "active", "ACTIVE");
        let revoked = record(&two, "revoked", "REVOKED");
        let gone = record(&one, "gone", "ACTIVE");
        for (owner, d) in [(&one, &active), (&two, &revoked)] {
            let (scope, d1, d2) = (AccountScope::new(owner.clone(), region()), d.clone(), d.clone());
            let scope2 = scope.clone();
            assert!(store.write(move |tx| register_jitr(tx, &scope, &d1)).await.unwrap());
            let template = iot_ca::ProvisioningTemplate::parse(r#"{"Resources": {}}"#, None)
                .unwrap()
                .bind(&iot_ca::TemplateParameters::default())
                .unwrap();
            let at = UnixTime::from_secs(1_800_000_000);
            assert!(!store.write(move |tx| provision_jitp(tx, &scope2, &d2, &template, at)).await.unwrap(), "twice");
        }
        let wanted = vec![
            (one.clone(), active.certificate_id.clone()),
            (two.clone(), revoked.certificate_id.clone()),
            (one.clone(), gone.certificate_id.clone()),
            // The right certificate in the wrong account is not there.
            (two.clone(), active.certificate_id.clone()),
        ];
        for chunk in [1, 2, STATUS_CHUNK] {
            let wanted = wanted.clone();
            let statuses = store.read(move |tx| statuses_in_chunks(tx, &region(), &wanted, chunk)).await.unwrap();
            assert_eq!(statuses, [Some(CertificateStatus::Active), Some(CertificateStatus::Revoked), None, None]);
        }
        let id = active.certificate_id.clone();
        let found = store.read(move |tx| connect_candidates(tx, &region(), &id, b"no such issuer")).await.unwrap();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].account, one);
        assert_eq!(found[0].record.as_ref().map(|r| r.status), Some(CertificateStatus::Active));
        let elsewhere = active.certificate_id.clone();
        let other_region = Region::parse("eu-west-1").unwrap();
        let none = store.read(move |tx| connect_candidates(tx, &other_region, &elsewhere, b"")).await.unwrap();
        assert!(none.is_empty(), "registries are per region");
    }

    #[tokio::test]
    async fn the_first_tls_identity_stored_wins() {
        let (store, _dir) = store().await;
        let first = TlsIdentityRecord { certificate_pem: "first".into(), key_pem: "k1".into() };
        let second = TlsIdentityRecord { certificate_pem: "second".into(), key_pem: "k2".into() };
        assert!(store.read(|tx| tls_identity(tx, "root")).await.unwrap().is_none());
        let kept = store.write(move |tx| tls_identity_or_insert(tx, "root", &first)).await.unwrap();
        assert_eq!(kept.certificate_pem, "first");
        let kept = store.write(move |tx| tls_identity_or_insert(tx, "root", &second)).await.unwrap();
        assert_eq!((kept.certificate_pem.as_str(), kept.key_pem.as_str()), ("first", "k1"));
        assert!(!format!("{kept:?}").contains("k1"), "the key stays out of Debug");
    }
}
