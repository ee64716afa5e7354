//! The store's operations, written once for both engines over a [`Tx`]: each reads the facts
//! its decision needs, runs the decision (the library's pure `admit`, `update_*`, `delete_*`,
//! `tag_resource`, given as a closure), and writes what it answered, all in the one transaction
//! the engine runs it in. The rules that must hold across processes are the database's: primary
//! keys, the partial unique index of DEFAULT-mode CAs, and the locks taken here first
//! ([`Tx::lock`]: SQLite's `BEGIN IMMEDIATE` holds them all, PostgreSQL takes advisory locks,
//! always in the order subject, then DEFAULT-mode claim, then record).

use iot_ca::{
    AccountFacts, AccountScope, CaCertificateDescription, CaCertificateUpdate, CertificateDescription, CertificateId,
    CertificateRegistration, CertificateStatus, CertificateUpdate, CreationKey, Registration, RegistrationCode,
    ResourceArn, ResourceType, SortOrder, Tags, TemplateFacts, TemplateName,
};

use super::sql::{Row, Tx, Value, params};
use super::{CaLookup, IssuerRecord, Keyset};
use crate::error::ApiError;

/// The scope's two key columns.
pub(super) fn keys(scope: &AccountScope) -> (&str, &str) {
    (scope.account().as_str(), scope.region().as_str())
}

/// Reads a stored CA record.
pub(super) fn ca_from_record(text: &str) -> Result<CaCertificateDescription, ApiError> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(ApiError::internal)?;
    iot_ca::wire::ca_record_from_json(&value).map_err(ApiError::internal)
}

/// Reads a stored device certificate record.
pub(super) fn certificate_from_record(text: &str) -> Result<CertificateDescription, ApiError> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(ApiError::internal)?;
    iot_ca::wire::certificate_record_from_json(&value).map_err(ApiError::internal)
}

/// Reads stored tags (`[{"Key", "Value"}]`).
fn tags_from_text(text: &str) -> Result<Tags, ApiError> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(ApiError::internal)?;
    let pairs: Vec<(&str, &str)> = value
        .as_array()
        .map(|items| items.iter().filter_map(|t| Some((t.get("Key")?.as_str()?, t.get("Value")?.as_str()?))).collect())
        .unwrap_or_default();
    Tags::new(&pairs).map_err(ApiError::internal)
}

/// Tags as stored.
fn tags_to_text(tags: &Tags) -> String {
    iot_ca::wire::tags_to_json(tags).to_string()
}

/// The registrationConfig.templateName a CA names, for the ListCACertificates filter.
fn template_of(d: &CaCertificateDescription) -> Option<String> {
    d.registration_config.as_ref().and_then(|c| c.template_name()).map(|n| n.as_str().to_owned())
}

fn ca_record_text(d: &CaCertificateDescription) -> String {
    iot_ca::wire::ca_record_to_json(d).to_string()
}

pub(super) fn certificate_record_text(d: &CertificateDescription) -> String {
    iot_ca::wire::certificate_record_to_json(d).to_string()
}

fn count(n: i64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

fn load_ca(tx: &mut dyn Tx, scope: &AccountScope, id: &str) -> Result<Option<CaCertificateDescription>, ApiError> {
    let (a, r) = keys(scope);
    let row = tx.query_opt(
        "SELECT record FROM ca_certificates WHERE account = ?1 AND region = ?2 AND id = ?3",
        params![a, r, id],
    )?;
    row.map(|row| ca_from_record(&row.text(0)?)).transpose()
}

/// A device certificate and its stored tags.
fn load_certificate(
    tx: &mut dyn Tx,
    scope: &AccountScope,
    id: &str,
) -> Result<Option<(CertificateDescription, String)>, ApiError> {
    let (a, r) = keys(scope);
    let row = tx.query_opt(
        "SELECT record, tags FROM certificates WHERE account = ?1 AND region = ?2 AND id = ?3",
        params![a, r, id],
    )?;
    row.map(|row| Ok((certificate_from_record(&row.text(0)?)?, row.text(1)?))).transpose()
}

fn write_ca(tx: &mut dyn Tx, scope: &AccountScope, d: &CaCertificateDescription) -> Result<(), ApiError> {
    let (a, r) = keys(scope);
    tx.execute(
        "UPDATE ca_certificates SET record = ?4, template_name = ?5 WHERE account = ?1 AND region = ?2 AND id = ?3",
        params![a, r, d.certificate_id.as_str(), ca_record_text(d), template_of(d)],
    )?;
    Ok(())
}

/// The lock every write of CA `id` takes first.
fn lock_ca(tx: &mut dyn Tx, scope: &AccountScope, id: &str) -> Result<(), ApiError> {
    let (a, r) = keys(scope);
    tx.lock(&format!("ca/{a}/{r}/{id}"))
}

/// The lock every write of device certificate `id` takes first.
pub(super) fn lock_certificate(tx: &mut dyn Tx, scope: &AccountScope, id: &str) -> Result<(), ApiError> {
    let (a, r) = keys(scope);
    tx.lock(&format!("certificate/{a}/{r}/{id}"))
}

/// The `record`s of `table` in the scope, in keyset order, only those whose `column` is
/// `filter` when given.
///
/// The statement names only the conditions it has: a `(? IS NULL OR column = ?)` term kept
/// SQLite (and PostgreSQL's generic plan) from the `(account, region, column, creation_date,
/// id)` index, so a CA's first page walked the whole account (1.2 s for a CA with 13
/// certificates among 10^6; benches/LOAD.md "Registry size").
fn keyset_records(
    tx: &mut dyn Tx,
    scope: &AccountScope,
    table: &'static str,
    column: &'static str,
    filter: Option<String>,
    keyset: &Keyset,
) -> Result<Vec<String>, ApiError> {
    let (a, r) = keys(scope);
    let (cmp, order) = match keyset.order {
        SortOrder::Ascending => (">", "ASC"),
        _ => ("<", "DESC"),
    };
    let mut values: Vec<Value> = params![a, r, i64::from(keyset.limit)].to_vec();
    let mut conditions = String::new();
    if let Some(filter) = filter {
        values.push(Value::from(filter));
        conditions.push_str(&format!(" AND {column} = ?{}", values.len()));
    }
    if let Some(CreationKey { creation_date, certificate_id, .. }) = &keyset.after {
        values.extend([Value::Int(creation_date.as_secs()), Value::from(certificate_id.as_str())]);
        let n = values.len();
        conditions.push_str(&format!(" AND (creation_date, id) {cmp} (?{}, ?{n})", n - 1));
    }
    let sql = format!(
        "SELECT record FROM {table} WHERE account = ?1 AND region = ?2{conditions}
         ORDER BY creation_date {order}, id {order} LIMIT ?3"
    );
    tx.query(&sql, &values)?.iter().map(|row| row.text(0)).collect()
}

/// The scope's registration code, if one was issued and not deleted.
pub fn registration_code(tx: &mut dyn Tx, scope: &AccountScope) -> Result<Option<RegistrationCode>, ApiError> {
    let (a, r) = keys(scope);
    let row = tx.query_opt("SELECT code FROM registration_codes WHERE account = ?1 AND region = ?2", params![a, r])?;
    row.map(|row| RegistrationCode::parse(&row.text(0)?).map_err(ApiError::internal)).transpose()
}

/// Keeps `fresh` as the scope's code unless one exists; answers the one in force.
pub fn registration_code_or_insert(
    tx: &mut dyn Tx,
    scope: &AccountScope,
    fresh: &RegistrationCode,
) -> Result<RegistrationCode, ApiError> {
    let (a, r) = keys(scope);
    tx.execute(
        "INSERT INTO registration_codes (account, region, code) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
        params![a, r, fresh.as_str()],
    )?;
    registration_code(tx, scope)?.ok_or_else(|| ApiError::internal("the registration code vanished"))
}

/// Deletes the scope's code; `false` when there was none.
pub fn delete_registration_code(tx: &mut dyn Tx, scope: &AccountScope) -> Result<bool, ApiError> {
    let (a, r) = keys(scope);
    Ok(tx.execute("DELETE FROM registration_codes WHERE account = ?1 AND region = ?2", params![a, r])? > 0)
}

/// RegisterCACertificate's second phase: reads the [`AccountFacts`] of CA `id` with `subject`
/// (and `template`), lets `decide` admit it, stores the registration.
pub fn register_ca(
    tx: &mut dyn Tx,
    scope: &AccountScope,
    id: &CertificateId,
    subject: &[u8],
    template: Option<&TemplateName>,
    decide: impl FnOnce(AccountFacts) -> Result<Registration, ApiError>,
) -> Result<Registration, ApiError> {
    let (a, r) = keys(scope);
    let id = id.as_str();
    // Subject first, then the DEFAULT-mode claim: every transaction locks in this order.
    tx.lock(&format!("subject/{a}/{r}/{}", hex::encode(subject)))?;
    tx.lock(&format!("default/{r}/{id}"))?;
    let held = tx
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM ca_certificates WHERE account = ?1 AND region = ?2 AND id = ?3)",
            params![a, r, id],
        )?
        .bool(0)?;
    let same_subject = tx
        .query_one(
            "SELECT COUNT(*) FROM ca_certificates WHERE account = ?1 AND region = ?2 AND subject = ?3",
            params![a, r, subject],
        )?
        .int(0)?;
    let elsewhere = tx
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM ca_certificates
             WHERE region = ?1 AND id = ?2 AND mode = 'DEFAULT' AND account <> ?3)",
            params![r, id, a],
        )?
        .bool(0)?;
    let mut facts = AccountFacts::new()
        .with_already_registered(held)
        .with_same_subject_count(count(same_subject))
        .with_held_by_another_account_in_default_mode(elsewhere);
    if let Some(name) = template
        && let Some(t) = super::provisioning::template_facts(tx, scope, name)?
    {
        facts = facts.with_template(t);
    }
    let registration = decide(facts)?;
    let d = &registration.description;
    tx.execute(
        "INSERT INTO ca_certificates (account, region, id, subject, mode, creation_date, template_name, record)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            a,
            r,
            id,
            subject,
            d.certificate_mode.as_str(),
            d.creation_date.as_secs(),
            template_of(d),
            ca_record_text(d)
        ],
    )?;
    Ok(registration)
}

/// The scope's CA `id`.
pub fn ca(
    tx: &mut dyn Tx,
    scope: &AccountScope,
    id: &CertificateId,
) -> Result<Option<CaCertificateDescription>, ApiError> {
    load_ca(tx, scope, id.as_str())
}

/// UpdateCACertificate: `decide` sees the stored CA and the template it names; a changed
/// description is written.
pub fn update_ca(
    tx: &mut dyn Tx,
    scope: &AccountScope,
    id: &CertificateId,
    template: Option<&TemplateName>,
    decide: impl FnOnce(Option<CaCertificateDescription>, Option<TemplateFacts>) -> Result<CaCertificateUpdate, ApiError>,
) -> Result<(), ApiError> {
    lock_ca(tx, scope, id.as_str())?;
    let stored = load_ca(tx, scope, id.as_str())?;
    let facts = match template {
        Some(name) => super::provisioning::template_facts(tx, scope, name)?,
        None => None,
    };
    let update = decide(stored, facts)?;
    if update.changed {
        write_ca(tx, scope, &update.description)?;
    }
    Ok(())
}

/// DeleteCACertificate: `decide` sees the stored CA; on `Ok` it goes.
pub fn delete_ca(
    tx: &mut dyn Tx,
    scope: &AccountScope,
    id: &CertificateId,
    decide: impl FnOnce(Option<CaCertificateDescription>) -> Result<(), ApiError>,
) -> Result<(), ApiError> {
    let (a, r) = keys(scope);
    lock_ca(tx, scope, id.as_str())?;
    decide(load_ca(tx, scope, id.as_str())?)?;
    tx.execute(
        "DELETE FROM ca_certificates WHERE account = ?1 AND region = ?2 AND id = ?3",
        params![a, r, id.as_str()],
    )?;
    Ok(())
}

/// The scope's CAs in keyset order, only those naming `template` when given.
pub fn list_cas(
    tx: &mut dyn Tx,
    scope: &AccountScope,
    template: Option<&TemplateName>,
    keyset: &Keyset,
) -> Result<Vec<CaCertificateDescription>, ApiError> {
    let filter = template.map(|t| t.as_str().to_owned());
    let rows = keyset_records(tx, scope, "ca_certificates", "template_name", filter, keyset)?;
    rows.iter().map(|text| ca_from_record(text)).collect()
}

/// What RegisterCertificate's second phase decides on: whether the scope holds `id` already,
/// and the CAs `lookup` finds. Takes the certificate's lock first.
pub fn registration_facts(
    tx: &mut dyn Tx,
    scope: &AccountScope,
    id: &CertificateId,
    lookup: &CaLookup,
) -> Result<(bool, Vec<CaCertificateDescription>), ApiError> {
    let (a, r) = keys(scope);
    lock_certificate(tx, scope, id.as_str())?;
    let held = tx
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM certificates WHERE account = ?1 AND region = ?2 AND id = ?3)",
            params![a, r, id.as_str()],
        )?
        .bool(0)?;
    let cas = match lookup {
        CaLookup::None => Vec::new(),
        CaLookup::ById(ca) => load_ca(tx, scope, ca.as_str())?.into_iter().collect(),
        CaLookup::ByIssuer(issuer) => tx
            .query(
                "SELECT record FROM ca_certificates WHERE account = ?1 AND region = ?2 AND subject = ?3",
                params![a, r, issuer.as_slice()],
            )?
            .iter()
            .map(|row: &Row| ca_from_record(&row.text(0)?))
            .collect::<Result<Vec<_>, _>>()?,
    };
    Ok((held, cas))
}

/// RegisterCertificate's second phase: `decide` sees whether the scope holds `id` already and
/// the CAs `lookup` finds; the registration it answers is stored.
pub fn register_certificate(
    tx: &mut dyn Tx,
    scope: &AccountScope,
    id: &CertificateId,
    lookup: &CaLookup,
    decide: impl FnOnce(bool, Vec<CaCertificateDescription>) -> Result<CertificateRegistration, ApiError>,
) -> Result<CertificateRegistration, ApiError> {
    let (held, cas) = registration_facts(tx, scope, id, lookup)?;
    let registration = decide(held, cas)?;
    insert_certificate(tx, scope, &registration.description)?;
    Ok(registration)
}

/// Stores a device certificate the scope did not hold (one the server issued, or one a
/// provisioning registered): a new id, so a conflict is the store's to refuse.
pub fn insert_certificate(tx: &mut dyn Tx, scope: &AccountScope, d: &CertificateDescription) -> Result<(), ApiError> {
    let (a, r) = keys(scope);
    tx.execute(
        "INSERT INTO certificates (account, region, id, ca_id, creation_date, record) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            a,
            r,
            d.certificate_id.as_str(),
            d.ca_certificate_id.as_ref().map(CertificateId::as_str),
            d.creation_date.as_secs(),
            certificate_record_text(d)
        ],
    )?;
    Ok(())
}

/// Writes a changed device certificate.
pub fn write_certificate(tx: &mut dyn Tx, scope: &AccountScope, d: &CertificateDescription) -> Result<(), ApiError> {
    let (a, r) = keys(scope);
    tx.execute(
        "UPDATE certificates SET record = ?4 WHERE account = ?1 AND region = ?2 AND id = ?3",
        params![a, r, d.certificate_id.as_str(), certificate_record_text(d)],
    )?;
    Ok(())
}

/// The scope's device certificate `id`.
pub fn certificate(
    tx: &mut dyn Tx,
    scope: &AccountScope,
    id: &CertificateId,
) -> Result<Option<CertificateDescription>, ApiError> {
    Ok(load_certificate(tx, scope, id.as_str())?.map(|(d, _)| d))
}

/// UpdateCertificate: `decide` sees the stored certificate; a changed one is written.
pub fn update_certificate(
    tx: &mut dyn Tx,
    scope: &AccountScope,
    id: &CertificateId,
    decide: impl FnOnce(Option<CertificateDescription>) -> Result<CertificateUpdate, ApiError>,
) -> Result<(), ApiError> {
    let (a, r) = keys(scope);
    lock_certificate(tx, scope, id.as_str())?;
    let stored = load_certificate(tx, scope, id.as_str())?.map(|(d, _)| d);
    let update = decide(stored)?;
    if update.changed {
        tx.execute(
            "UPDATE certificates SET record = ?4 WHERE account = ?1 AND region = ?2 AND id = ?3",
            params![a, r, id.as_str(), certificate_record_text(&update.description)],
        )?;
    }
    Ok(())
}

/// DeleteCertificate: `decide` sees the stored status and whether things or policies are
/// attached; on `Ok` the certificate goes, with whatever attachments a forced delete let
/// through (no attachment outlives its certificate).
pub fn delete_certificate(
    tx: &mut dyn Tx,
    scope: &AccountScope,
    id: &CertificateId,
    decide: impl FnOnce(Option<CertificateStatus>, bool) -> Result<(), ApiError>,
) -> Result<(), ApiError> {
    let (a, r) = keys(scope);
    lock_certificate(tx, scope, id.as_str())?;
    let arn = ResourceArn::new(scope, ResourceType::Certificate, id.clone());
    let attached = super::things::certificate_attached(tx, scope, &arn)?;
    decide(load_certificate(tx, scope, id.as_str())?.map(|(d, _)| d.status), attached)?;
    super::things::detach_certificate(tx, scope, &arn)?;
    tx.execute("DELETE FROM certificates WHERE account = ?1 AND region = ?2 AND id = ?3", params![a, r, id.as_str()])?;
    Ok(())
}

/// The scope's device certificates (signed by `ca` when given) in keyset order.
pub fn list_certificates(
    tx: &mut dyn Tx,
    scope: &AccountScope,
    ca: Option<&CertificateId>,
    keyset: &Keyset,
) -> Result<Vec<CertificateDescription>, ApiError> {
    let filter = ca.map(|c| c.as_str().to_owned());
    let rows = keyset_records(tx, scope, "certificates", "ca_id", filter, keyset)?;
    rows.iter().map(|text| certificate_from_record(text)).collect()
}

/// The tags of the resource `arn` names, `None` when the scope does not hold it.
pub fn tags(tx: &mut dyn Tx, scope: &AccountScope, arn: &ResourceArn) -> Result<Option<Tags>, ApiError> {
    let id = arn.certificate_id().as_str();
    match arn.resource_type() {
        ResourceType::CaCertificate => Ok(load_ca(tx, scope, id)?.map(|d| d.tags)),
        _ => load_certificate(tx, scope, id)?.map(|(_, t)| tags_from_text(&t)).transpose(),
    }
}

/// TagResource / UntagResource: `decide` sees the resource's tags and answers the new ones.
pub fn update_tags(
    tx: &mut dyn Tx,
    scope: &AccountScope,
    arn: &ResourceArn,
    decide: impl FnOnce(Option<Tags>) -> Result<Tags, ApiError>,
) -> Result<(), ApiError> {
    let (a, r) = keys(scope);
    let id = arn.certificate_id().as_str();
    match arn.resource_type() {
        ResourceType::CaCertificate => {
            lock_ca(tx, scope, id)?;
            let stored = load_ca(tx, scope, id)?;
            let tags = decide(stored.as_ref().map(|d| d.tags.clone()))?;
            if let Some(mut d) = stored {
                d.tags = tags;
                write_ca(tx, scope, &d)?;
            }
        }
        _ => {
            lock_certificate(tx, scope, id)?;
            let stored = load_certificate(tx, scope, id)?.map(|(_, t)| tags_from_text(&t)).transpose()?;
            let tags = decide(stored)?;
            tx.execute(
                "UPDATE certificates SET tags = ?4 WHERE account = ?1 AND region = ?2 AND id = ?3",
                params![a, r, id, tags_to_text(&tags)],
            )?;
        }
    }
    Ok(())
}

/// Which certificate-issuing CA of a scope.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IssuerKind {
    /// The claim issuer (CreateProvisioningClaim).
    Claim,
    /// The device issuer (CreateKeysAndCertificate, CreateCertificateFromCsr, fleet
    /// provisioning).
    Device,
}

impl IssuerKind {
    const fn table(self) -> &'static str {
        match self {
            Self::Claim => "claim_issuers",
            Self::Device => "device_issuers",
        }
    }
}

/// The scope's issuer of `kind`, if there is one.
pub fn issuer(tx: &mut dyn Tx, scope: &AccountScope, kind: IssuerKind) -> Result<Option<IssuerRecord>, ApiError> {
    let (a, r) = keys(scope);
    let sql = format!("SELECT certificate_pem, key_pem FROM {} WHERE account = ?1 AND region = ?2", kind.table());
    let row = tx.query_opt(&sql, params![a, r])?;
    row.map(|row| Ok(IssuerRecord { certificate_pem: row.text(0)?, key_pem: row.text(1)? })).transpose()
}

/// The scope's issuer of `kind`, `fresh` stored first when there is none (every process then
/// uses the one that was stored first).
pub fn issuer_or_insert(
    tx: &mut dyn Tx,
    scope: &AccountScope,
    kind: IssuerKind,
    fresh: &IssuerRecord,
) -> Result<IssuerRecord, ApiError> {
    let (a, r) = keys(scope);
    let sql = format!(
        "INSERT INTO {} (account, region, certificate_pem, key_pem) VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
        kind.table()
    );
    tx.execute(&sql, params![a, r, fresh.certificate_pem.as_str(), fresh.key_pem.as_str()])?;
    issuer(tx, scope, kind)?.ok_or_else(|| ApiError::internal("the issuer vanished"))
}
