//! AWS's JSON wire shapes (feature `wire`, on by default): the RegisterCACertificate request as
//! `aws iot register-ca-certificate --cli-input-json` takes it, and the responses, stored
//! description, claim and errors as botocore sees them.
//!
//! The request decoder walks a `serde_json::Value` by hand so that every fault is a typed
//! [`RequestError`] naming the member, in AWS's order, and no input panics.

use serde_json::{Map, Value, json};

mod certificates;

pub use certificates::{
    ProvisioningTemplate, certificate_description_to_json, certificate_entry_to_json, certificate_id_from_path,
    certificate_registration_to_json, connect_decision_to_json, delete_certificate_request_from_rest,
    describe_certificate_response_to_json, list_certificates_by_ca_request_from_rest,
    list_certificates_query_from_rest, list_certificates_response_to_json, refuse_reason_code,
    register_certificate_request_from_json, register_certificate_request_from_rest,
    register_certificate_response_to_json, register_certificate_without_ca_request_from_json, template_facts_from_json,
    update_certificate_request_from_rest,
};

use crate::ca::register::Registration;
use crate::ca::request::RegisterCaCertificateRequest;
use crate::error::{Error, RequestError, TagError};
use crate::model::description::CaCertificateDescription;
use crate::model::enums::CertificateMode;
use crate::model::registration_code::RegistrationCode;
use crate::model::registration_config::RegistrationConfig;
use crate::model::tags::Tags;
use crate::provisioning::claim::ProvisioningClaim;
use crate::x509::time::UnixTime;

mod lifecycle;
mod stored;

pub use stored::{ca_record_from_json, ca_record_to_json, certificate_record_from_json, certificate_record_to_json};

pub use lifecycle::{
    ca_certificate_entry_to_json, ca_certificate_id_from_path, describe_ca_certificate_response_to_json,
    list_ca_certificates_query_from_rest, list_ca_certificates_response_to_json,
    list_tags_for_resource_request_from_rest, list_tags_for_resource_response_to_json, tag_resource_request_from_json,
    untag_resource_request_from_json, update_ca_certificate_request_from_rest,
};

/// Largest request document accepted, in bytes: two certificate fields, a template body and
/// 50 tags fit with room to spare.
pub const MAX_REQUEST_JSON_BYTES: usize = 512 * 1024;

/// How times are written: RFC 3339 text (the CLI) or epoch seconds (the REST-JSON protocol).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TimeFormat {
    /// `2026-11-28T17:09:08Z`.
    #[default]
    Rfc3339,
    /// `1795885748`.
    EpochSeconds,
}

impl TimeFormat {
    /// `t` in this format.
    #[must_use]
    pub fn write(self, t: UnixTime) -> Value {
        match self {
            Self::Rfc3339 => Value::String(t.to_string()),
            Self::EpochSeconds => Value::from(t.as_secs()),
        }
    }
}

pub(crate) fn wrong_type(member: &str, expected: &'static str) -> Error {
    Error::Request(RequestError::WrongType { member: member.chars().take(256).collect(), expected })
}

pub(crate) fn refuse_unknown(object: &Map<String, Value>, prefix: &str, known: &[&str]) -> Result<(), Error> {
    match object.keys().find(|k| !known.contains(&k.as_str())) {
        Some(k) => Err(Error::Request(RequestError::UnknownMember {
            member: format!("{prefix}{k}").chars().take(256).collect(),
        })),
        None => Ok(()),
    }
}

/// A member that is absent or null reads as `None`.
pub(crate) fn string<'a>(object: &'a Map<String, Value>, key: &str, path: &str) -> Result<Option<&'a str>, Error> {
    match object.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(wrong_type(path, "string")),
    }
}

pub(crate) fn boolean(object: &Map<String, Value>, key: &str) -> Result<bool, Error> {
    match object.get(key) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(wrong_type(key, "boolean")),
    }
}

/// The request document as text: at most [`MAX_REQUEST_JSON_BYTES`] bytes of UTF-8, checked
/// before anything is parsed. A transport that reads a body calls this on the bytes it read.
///
/// # Errors
/// [`RequestError::DocumentTooLarge`], [`RequestError::NotUtf8`] (InvalidRequestException).
pub fn request_document(bytes: &[u8]) -> Result<&str, Error> {
    if bytes.len() > MAX_REQUEST_JSON_BYTES {
        return Err(RequestError::DocumentTooLarge { len: bytes.len(), max: MAX_REQUEST_JSON_BYTES }.into());
    }
    core::str::from_utf8(bytes).map_err(|e| RequestError::NotUtf8 { valid_up_to: e.valid_up_to() }.into())
}

/// The string form of `tags` that boto3's documentation gives for `--cli-input-json`:
/// `"key1=value1&key2=value2"`, split on `&`, then on the first `=`. An empty string is no
/// tags; the rules of [`Tags::new`] then apply as to the list form.
fn tags_from_query_form(text: &str) -> Result<Vec<(&str, &str)>, Error> {
    if text.is_empty() {
        return Ok(Vec::new());
    }
    text.split('&')
        .enumerate()
        .map(|(i, pair)| match pair.split_once('=') {
            Some((key, value)) if !key.is_empty() => Ok((key, value)),
            Some((_, _)) => {
                Err(TagError::KeyLength { index: i + 1, len: 0, max: crate::model::tags::MAX_TAG_KEY_CHARS }.into())
            }
            None => Err(TagError::NotKeyValue { index: i + 1, pair: pair.chars().take(256).collect() }.into()),
        })
        .collect()
}

/// The request document as a JSON object, at most [`MAX_REQUEST_JSON_BYTES`] bytes.
pub(crate) fn document_object(json: &str) -> Result<Map<String, Value>, Error> {
    if json.len() > MAX_REQUEST_JSON_BYTES {
        return Err(Error::Request(RequestError::DocumentTooLarge { len: json.len(), max: MAX_REQUEST_JSON_BYTES }));
    }
    match serde_json::from_str(json) {
        Ok(Value::Object(top)) => Ok(top),
        _ => Err(Error::Request(RequestError::MalformedJson)),
    }
}

/// templateBody, roleArn and templateName.
type ConfigMembers<'a> = (Option<&'a str>, Option<&'a str>, Option<&'a str>);

/// The `registrationConfig` member's templateBody, roleArn and templateName, each type-checked;
/// `None` when the member is absent or null.
pub(crate) fn registration_config_members(top: &Map<String, Value>) -> Result<Option<ConfigMembers<'_>>, Error> {
    match top.get("registrationConfig") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(c)) => {
            refuse_unknown(c, "registrationConfig.", &["templateBody", "roleArn", "templateName"])?;
            Ok(Some((
                string(c, "templateBody", "registrationConfig.templateBody")?,
                string(c, "roleArn", "registrationConfig.roleArn")?,
                string(c, "templateName", "registrationConfig.templateName")?,
            )))
        }
        Some(_) => Err(wrong_type("registrationConfig", "object")),
    }
}

/// The `tags` member as `(Key, Value)` pairs, unchecked: the list form or the string form.
pub(crate) fn tag_pairs(top: &Map<String, Value>) -> Result<Vec<(&str, &str)>, Error> {
    let mut tags: Vec<(&str, &str)> = Vec::new();
    match top.get("tags") {
        None | Some(Value::Null) => {}
        Some(Value::String(text)) => tags = tags_from_query_form(text)?,
        Some(Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                let path = format!("tags.{}.member", i + 1);
                let tag = item.as_object().ok_or_else(|| wrong_type(&path, "object"))?;
                refuse_unknown(tag, &format!("{path}."), &["Key", "Value"])?;
                let key = string(tag, "Key", &format!("{path}.Key"))?;
                let key = key.ok_or(Error::Request(RequestError::MissingMember { member: "tags.member.Key" }))?;
                tags.push((key, string(tag, "Value", &format!("{path}.Value"))?.unwrap_or("")));
            }
        }
        Some(_) => return Err(wrong_type("tags", "array")),
    }
    Ok(tags)
}

/// Decodes a RegisterCACertificate request document (`--cli-input-json` shape). Member
/// faults come first (size, JSON, unknown members, types, required members), then the
/// members' own rules: certificateMode, tags, registrationConfig.
///
/// # Errors
/// [`Error::Request`], [`Error::Tag`] (InvalidRequestException).
pub fn register_request_from_json(json: &str) -> Result<RegisterCaCertificateRequest, Error> {
    let top = document_object(json)?;
    let top = &top;
    refuse_unknown(
        top,
        "",
        &[
            "caCertificate",
            "verificationCertificate",
            "setAsActive",
            "allowAutoRegistration",
            "registrationConfig",
            "tags",
            "certificateMode",
        ],
    )?;
    let ca = string(top, "caCertificate", "caCertificate")?;
    let verification = string(top, "verificationCertificate", "verificationCertificate")?;
    let set_as_active = boolean(top, "setAsActive")?;
    let allow_auto_registration = boolean(top, "allowAutoRegistration")?;
    let mode = string(top, "certificateMode", "certificateMode")?;
    let config = registration_config_members(top)?;
    let tags = tag_pairs(top)?;
    let ca = ca.ok_or(Error::Request(RequestError::MissingMember { member: "caCertificate" }))?;

    let mut request = RegisterCaCertificateRequest::new(ca)
        .with_set_as_active(set_as_active)
        .with_allow_auto_registration(allow_auto_registration)
        .with_certificate_mode(
            mode.map(|m| CertificateMode::parse(m, "certificateMode")).transpose()?.unwrap_or_default(),
        )
        .with_tags(Tags::new(&tags)?);
    if let Some(v) = verification {
        request = request.with_verification_certificate(v);
    }
    if let Some(config) =
        config.map(|(body, role, name)| RegistrationConfig::from_members(body, role, name)).transpose()?.flatten()
    {
        request = request.with_registration_config(config);
    }
    Ok(request)
}

/// A RegisterCACertificate request from its REST pieces (`POST /cacertificate`): the query
/// string's `setAsActive` and `allowAutoRegistration`, and the body of
/// [`register_request_from_json`]. A flag in the query wins over the same member in the body
/// (botocore sends the flags in the query; a `--cli-input-json` document has them in the body).
///
/// # Errors
/// A flag in the query that is not `true`/`false`, then as [`register_request_from_json`].
pub fn register_request_from_rest(query: &str, body: &str) -> Result<RegisterCaCertificateRequest, Error> {
    let query = lifecycle::Query::parse(query);
    let set_as_active = query.boolean("setAsActive")?;
    let allow_auto_registration = query.boolean("allowAutoRegistration")?;
    let mut request = register_request_from_json(body)?;
    if let Some(active) = set_as_active {
        request = request.with_set_as_active(active);
    }
    if let Some(allow) = allow_auto_registration {
        request = request.with_allow_auto_registration(allow);
    }
    Ok(request)
}

/// `registrationConfig` as AWS writes it.
#[must_use]
pub fn registration_config_to_json(config: &RegistrationConfig) -> Value {
    match config {
        RegistrationConfig::TemplateName(name) => json!({ "templateName": name.as_str() }),
        RegistrationConfig::TemplateBody { body, role_arn } => {
            json!({ "templateBody": body.as_str(), "roleArn": role_arn.as_str() })
        }
    }
}

/// `tags` as AWS writes them: `[{"Key": …, "Value": …}]`.
#[must_use]
pub fn tags_to_json(tags: &Tags) -> Value {
    Value::Array(tags.as_slice().iter().map(|(k, v)| tag_to_json(k, v)).collect())
}

/// One tag as AWS writes it: `{"Key": …, "Value": …}`.
pub(crate) fn tag_to_json(key: &str, value: &str) -> Value {
    json!({ "Key": key, "Value": value })
}

/// A certificate's `validity`: `{"notBefore", "notAfter"}`.
pub(crate) fn validity_to_json(v: &crate::model::description::CertificateValidity, times: TimeFormat) -> Value {
    json!({ "notBefore": times.write(v.not_before), "notAfter": times.write(v.not_after) })
}

/// DescribeCACertificate's `certificateDescription`.
#[must_use]
pub fn description_to_json(d: &CaCertificateDescription, times: TimeFormat) -> Value {
    json!({
        "certificateArn": d.certificate_arn,
        "certificateId": d.certificate_id.as_str(),
        "status": d.status.as_str(),
        "certificatePem": d.certificate_pem,
        "ownedBy": d.owned_by.as_str(),
        "creationDate": times.write(d.creation_date),
        "lastModifiedDate": times.write(d.last_modified_date),
        "customerVersion": d.customer_version,
        "generationId": d.generation_id,
        "autoRegistrationStatus": d.auto_registration_status.as_str(),
        "validity": validity_to_json(&d.validity, times),
        "certificateMode": d.certificate_mode.as_str(),
    })
}

/// The findings of rule 1.3 as `[{"id", "reference", "message"}]`.
#[must_use]
pub fn findings_to_json(findings: &[crate::Finding]) -> Value {
    Value::Array(
        findings
            .iter()
            .map(|f| json!({ "id": f.id(), "reference": f.reference(), "message": f.to_string() }))
            .collect(),
    )
}

/// The RegisterCACertificate response, `{"certificateArn", "certificateId"}`.
#[must_use]
pub fn register_response_to_json(r: &Registration) -> Value {
    json!({ "certificateArn": r.certificate_arn, "certificateId": r.certificate_id.as_str() })
}

/// The response plus what is stored: `certificateDescription`, `registrationConfig`, `tags`
/// and `findings`.
#[must_use]
pub fn registration_to_json(r: &Registration, times: TimeFormat) -> Value {
    let mut out = register_response_to_json(r);
    if let Some(object) = out.as_object_mut() {
        object.insert("certificateDescription".into(), description_to_json(&r.description, times));
        if let Some(config) = &r.description.registration_config {
            object.insert("registrationConfig".into(), registration_config_to_json(config));
        }
        object.insert("tags".into(), tags_to_json(&r.description.tags));
        object.insert("findings".into(), findings_to_json(&r.description.findings));
    }
    out
}

/// GetRegistrationCode's response.
#[must_use]
pub fn registration_code_to_json(code: &RegistrationCode) -> Value {
    json!({ "registrationCode": code.as_str() })
}

/// CreateProvisioningClaim's response.
#[must_use]
pub fn claim_to_json(c: &ProvisioningClaim, times: TimeFormat) -> Value {
    json!({
        "certificateId": c.certificate_id.as_str(),
        "certificatePem": c.certificate_pem,
        "keyPair": { "PublicKey": c.key_pair.public_key_pem(), "PrivateKey": c.key_pair.private_key_pem() },
        "expiration": times.write(c.expiration),
    })
}

/// An error as a botocore client sees it:
/// `{"Error": {"Code", "Message"}, "ResponseMetadata": {"HTTPStatusCode"}}`, plus `resourceId`
/// and `resourceArn` for ResourceAlreadyExistsException.
#[must_use]
pub fn error_to_json(e: &Error) -> Value {
    let ex = e.exception();
    let mut out = json!({
        "Error": { "Code": ex.name(), "Message": ex.message },
        "ResponseMetadata": { "HTTPStatusCode": ex.http_status() },
    });
    if let (Some(object), Some(id), Some(arn)) = (out.as_object_mut(), ex.resource_id, ex.resource_arn) {
        object.insert("resourceId".into(), Value::String(id));
        object.insert("resourceArn".into(), Value::String(arn));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::TagError;

    fn err(json: &str) -> Error {
        register_request_from_json(json).unwrap_err()
    }

    #[test]
    fn tags_in_their_string_form() {
        let tags = |t: &str| register_request_from_json(&format!(r#"{{"caCertificate": "CA", "tags": {t}}}"#));
        let r = tags(r#""env=prod&team=a=b&empty=""#).unwrap();
        let pairs: Vec<(String, String)> =
            [("env", "prod"), ("team", "a=b"), ("empty", "")].iter().map(|(k, v)| ((*k).into(), (*v).into())).collect();
        assert_eq!(r.tags.as_slice(), pairs.as_slice());
        assert!(tags(r#""""#).unwrap().tags.as_slice().is_empty());
        let e = tags(r#""env=prod&oops""#).unwrap_err();
        assert_eq!(e, Error::Tag(TagError::NotKeyValue { index: 2, pair: "oops".into() }));
        assert_eq!(e.exception().name(), "InvalidRequestException");
        assert_eq!(tags(r#""=v""#).unwrap_err(), Error::Tag(TagError::KeyLength { index: 1, len: 0, max: 128 }));
        // The list rules apply unchanged: duplicates, reserved prefix.
        let e = tags(r#""a=1&a=2""#).unwrap_err();
        assert_eq!(e, Error::Tag(TagError::DuplicateKey { index: 2, key: "a".into() }));
        let e = tags(r#""aws:x=1""#).unwrap_err();
        assert_eq!(e, Error::Tag(TagError::ReservedPrefix { index: 1, key: "aws:x".into() }));
    }

    #[test]
    fn rest_flags_come_from_the_query_and_then_the_body() {
        let body = r#"{"caCertificate": "CA", "setAsActive": true}"#;
        let r = register_request_from_rest("", body).unwrap();
        assert!(r.set_as_active && !r.allow_auto_registration);
        let r = register_request_from_rest("setAsActive=false&allowAutoRegistration=true", body).unwrap();
        assert!(!r.set_as_active && r.allow_auto_registration);
        let e = register_request_from_rest("setAsActive=yes", body).unwrap_err();
        assert_eq!(e, Error::Request(RequestError::WrongType { member: "setAsActive".into(), expected: "boolean" }));
    }

    #[test]
    fn request_documents_are_bounded_utf8() {
        assert_eq!(request_document(b"{}"), Ok("{}"));
        let e = request_document(b"{\"a\": \"\xff\"}").unwrap_err();
        assert_eq!(e, Error::Request(RequestError::NotUtf8 { valid_up_to: 7 }));
        assert_eq!(e.exception().name(), "InvalidRequestException");
        let big = vec![b' '; MAX_REQUEST_JSON_BYTES + 1];
        let e = request_document(&big).unwrap_err();
        assert_eq!(e, Error::Request(RequestError::DocumentTooLarge { len: big.len(), max: MAX_REQUEST_JSON_BYTES }));
    }

    #[test]
    fn every_member_name() {
        let json = r#"{
            "caCertificate": "CA", "verificationCertificate": "V", "setAsActive": true,
            "allowAutoRegistration": true, "certificateMode": "DEFAULT",
            "registrationConfig": {"templateName": "jitp"},
            "tags": [{"Key": "env", "Value": "prod"}, {"Key": "team"}]
        }"#;
        let r = register_request_from_json(json).unwrap();
        assert_eq!(r.ca_certificate, "CA");
        assert_eq!(r.verification_certificate.as_deref(), Some("V"));
        assert!(r.set_as_active && r.allow_auto_registration);
        assert_eq!(r.certificate_mode, CertificateMode::Default);
        assert_eq!(r.registration_config.as_ref().and_then(|c| c.template_name()).map(|n| n.as_str()), Some("jitp"));
        assert_eq!(r.tags.as_slice(), &[("env".into(), "prod".into()), ("team".into(), String::new())]);
        let body = r#"{"caCertificate": "CA", "certificateMode": "SNI_ONLY", "registrationConfig":
            {"templateBody": "{\"Resources\": {}}", "roleArn": "arn:aws:iam::123456789012:role/R"}}"#;
        let r = register_request_from_json(body).unwrap();
        assert_eq!(r.certificate_mode, CertificateMode::SniOnly);
        assert!(matches!(r.registration_config, Some(RegistrationConfig::TemplateBody { .. })));
    }

    #[test]
    fn faults_are_named() {
        assert_eq!(err("nope"), Error::Request(RequestError::MalformedJson));
        assert_eq!(err("[]"), Error::Request(RequestError::MalformedJson));
        assert_eq!(
            err(r#"{"caCertificate": "x", "foo": 1}"#),
            Error::Request(RequestError::UnknownMember { member: "foo".into() })
        );
        assert_eq!(
            err(r#"{"caCertificate": "x", "registrationConfig": {"bar": "y"}}"#),
            Error::Request(RequestError::UnknownMember { member: "registrationConfig.bar".into() })
        );
        assert_eq!(
            err(r#"{"caCertificate": "x", "tags": [{"Key": "k", "Colour": "y"}]}"#),
            Error::Request(RequestError::UnknownMember { member: "tags.1.member.Colour".into() })
        );
        assert_eq!(
            err(r#"{"caCertificate": 5}"#),
            Error::Request(RequestError::WrongType { member: "caCertificate".into(), expected: "string" })
        );
        assert_eq!(
            err(r#"{"caCertificate": "x", "setAsActive": "yes"}"#),
            Error::Request(RequestError::WrongType { member: "setAsActive".into(), expected: "boolean" })
        );
        assert_eq!(
            err(r#"{"caCertificate": "x", "tags": {}}"#),
            Error::Request(RequestError::WrongType { member: "tags".into(), expected: "array" })
        );
        assert_eq!(
            err(r#"{"caCertificate": "x", "tags": [{"Key": 1}]}"#),
            Error::Request(RequestError::WrongType { member: "tags.1.member.Key".into(), expected: "string" })
        );
        assert_eq!(err("{}"), Error::Request(RequestError::MissingMember { member: "caCertificate" }));
        assert!(matches!(
            err(r#"{"caCertificate": "x", "certificateMode": "X"}"#),
            Error::Request(RequestError::Enum { .. })
        ));
        assert_eq!(
            err(r#"{"caCertificate": "x", "tags": [{"Key": "aws:x"}]}"#),
            Error::Tag(TagError::ReservedPrefix { index: 1, key: "aws:x".into() })
        );
        let huge = format!(r#"{{"caCertificate": "{}"}}"#, "a".repeat(MAX_REQUEST_JSON_BYTES));
        assert!(matches!(err(&huge), Error::Request(RequestError::DocumentTooLarge { .. })));
    }

    #[test]
    fn errors_in_botocore_shape() {
        let e = Error::Registry(crate::error::RegistryError::AlreadyExists {
            certificate_id: "i".into(),
            certificate_arn: "a".into(),
        });
        let v = error_to_json(&e);
        assert_eq!(v["Error"]["Code"], "ResourceAlreadyExistsException");
        assert_eq!(v["ResponseMetadata"]["HTTPStatusCode"], 409);
        assert_eq!((v["resourceId"].as_str(), v["resourceArn"].as_str()), (Some("i"), Some("a")));
        let v = error_to_json(&Error::Request(RequestError::MalformedJson));
        assert_eq!(v["Error"]["Code"], "InvalidRequestException");
        assert!(v.get("resourceId").is_none());
    }
}
