//! Stored records: a [`CaCertificateDescription`] or a [`CertificateDescription`] as a store
//! keeps it (a JSON document in a database column) and reads it back.
//!
//! The document is the description's wire shape with epoch-second times
//! ([`description_to_json`], [`certificate_description_to_json`]), plus what DescribeCACertificate
//! does not show: `registrationConfig`, `tags` and the `findings` (by id). Reading one back
//! applies each member's own rule, so a record that a registration could not have produced is
//! refused rather than served.

use serde_json::{Map, Value};

use super::ca::{description_to_json, registration_config_to_json};
use super::json::{TimeFormat, registration_config_members, string, tag_pairs, tags_to_json, wrong_type};
use crate::device::certificate::CertificateDescription;
use crate::error::{Error, RequestError};
use crate::model::certificate_id::CertificateId;
use crate::model::description::{CaCertificateDescription, CertificateValidity};
use crate::model::enums::CertificateMode;
use crate::model::enums::CertificateStatus;
use crate::model::enums::Finding;
use crate::model::enums::{AutoRegistrationStatus, CaStatus};
use crate::model::registration_config::RegistrationConfig;
use crate::model::scope::AccountId;
use crate::model::tags::Tags;
use crate::x509::time::UnixTime;

use super::certificates::certificate_description_to_json;

fn object(value: &Value) -> Result<&Map<String, Value>, Error> {
    value.as_object().ok_or_else(|| wrong_type("record", "object"))
}

fn required<'a>(o: &'a Map<String, Value>, key: &'static str) -> Result<&'a str, Error> {
    string(o, key, key)?.ok_or(Error::Request(RequestError::MissingMember { member: key }))
}

fn time(o: &Map<String, Value>, key: &'static str) -> Result<UnixTime, Error> {
    o.get(key).and_then(Value::as_i64).map(UnixTime::from_secs).ok_or_else(|| wrong_type(key, "integer"))
}

fn id(o: &Map<String, Value>, key: &'static str) -> Result<CertificateId, Error> {
    let text = required(o, key)?;
    CertificateId::parse(text).ok_or_else(|| wrong_type(key, "certificate id"))
}

fn validity(o: &Map<String, Value>) -> Result<CertificateValidity, Error> {
    let v = o.get("validity").and_then(Value::as_object).ok_or_else(|| wrong_type("validity", "object"))?;
    Ok(CertificateValidity { not_before: time(v, "notBefore")?, not_after: time(v, "notAfter")? })
}

fn version(o: &Map<String, Value>) -> Result<u32, Error> {
    o.get("customerVersion")
        .and_then(Value::as_u64)
        .and_then(|v| u32::try_from(v).ok())
        .ok_or_else(|| wrong_type("customerVersion", "integer"))
}

/// A CA's stored record: DescribeCACertificate's `certificateDescription` members (times in
/// epoch seconds) plus `registrationConfig`, `tags` and `findings` (their ids).
#[must_use]
pub fn ca_record_to_json(d: &CaCertificateDescription) -> Value {
    let mut out = description_to_json(d, TimeFormat::EpochSeconds);
    if let Some(o) = out.as_object_mut() {
        if let Some(config) = &d.registration_config {
            o.insert("registrationConfig".into(), registration_config_to_json(config));
        }
        o.insert("tags".into(), tags_to_json(&d.tags));
        o.insert("findings".into(), d.findings.iter().map(|f| Value::from(f.id())).collect());
    }
    out
}

/// Reads back a record written by [`ca_record_to_json`].
///
/// # Errors
/// [`Error::Request`] naming the member that is missing, of the wrong type or outside its
/// rule; the tag and registrationConfig rules.
pub fn ca_record_from_json(value: &Value) -> Result<CaCertificateDescription, Error> {
    let o = object(value)?;
    let registration_config = registration_config_members(o)?
        .map(|(body, role, name)| RegistrationConfig::from_members(body, role, name))
        .transpose()?
        .flatten();
    let findings = match o.get("findings") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(ids)) => ids
            .iter()
            .map(|id| {
                Finding::ALL
                    .iter()
                    .copied()
                    .find(|f| Some(f.id()) == id.as_str())
                    .ok_or_else(|| wrong_type("findings", "finding id"))
            })
            .collect::<Result<_, _>>()?,
        Some(_) => return Err(wrong_type("findings", "array")),
    };
    Ok(CaCertificateDescription {
        certificate_arn: required(o, "certificateArn")?.to_owned(),
        certificate_id: id(o, "certificateId")?,
        status: CaStatus::parse(required(o, "status")?, "status")?,
        certificate_pem: required(o, "certificatePem")?.to_owned(),
        owned_by: AccountId::parse(required(o, "ownedBy")?)?,
        creation_date: time(o, "creationDate")?,
        last_modified_date: time(o, "lastModifiedDate")?,
        customer_version: version(o)?,
        generation_id: required(o, "generationId")?.to_owned(),
        auto_registration_status: AutoRegistrationStatus::parse(
            required(o, "autoRegistrationStatus")?,
            "autoRegistrationStatus",
        )?,
        validity: validity(o)?,
        certificate_mode: CertificateMode::parse(required(o, "certificateMode")?, "certificateMode")?,
        registration_config,
        tags: Tags::new(&tag_pairs(o)?)?,
        findings,
    })
}

/// A device certificate's stored record: DescribeCertificate's `certificateDescription`
/// members, times in epoch seconds.
#[must_use]
pub fn certificate_record_to_json(d: &CertificateDescription) -> Value {
    certificate_description_to_json(d, TimeFormat::EpochSeconds)
}

/// Reads back a record written by [`certificate_record_to_json`].
///
/// # Errors
/// [`Error::Request`] naming the member that is missing, of the wrong type or outside its rule.
pub fn certificate_record_from_json(value: &Value) -> Result<CertificateDescription, Error> {
    let o = object(value)?;
    let ca_certificate_id = match string(o, "caCertificateId", "caCertificateId")? {
        None => None,
        Some(_) => Some(id(o, "caCertificateId")?),
    };
    Ok(CertificateDescription {
        certificate_arn: required(o, "certificateArn")?.to_owned(),
        certificate_id: id(o, "certificateId")?,
        ca_certificate_id,
        status: CertificateStatus::parse(required(o, "status")?, "status")?,
        certificate_pem: required(o, "certificatePem")?.to_owned(),
        owned_by: AccountId::parse(required(o, "ownedBy")?)?,
        creation_date: time(o, "creationDate")?,
        last_modified_date: time(o, "lastModifiedDate")?,
        customer_version: version(o)?,
        generation_id: required(o, "generationId")?.to_owned(),
        validity: validity(o)?,
        certificate_mode: CertificateMode::parse(required(o, "certificateMode")?, "certificateMode")?,
    })
}
