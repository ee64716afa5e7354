//! RegisterCACertificate's request (`aws iot register-ca-certificate --cli-input-json`), its
//! response and what is stored, GetRegistrationCode, CreateProvisioningClaim, and errors as
//! botocore shows them.

use serde_json::{Value, json};

use crate::ca::register::Registration;
use crate::ca::request::RegisterCaCertificateRequest;
use crate::error::{Error, RequestError};
use crate::model::description::CaCertificateDescription;
use crate::model::enums::CertificateMode;
use crate::model::registration_code::RegistrationCode;
use crate::model::registration_config::RegistrationConfig;
use crate::model::tags::Tags;
use crate::provisioning::claim::ProvisioningClaim;

use super::json::{
    Query, TimeFormat, boolean, document_object, refuse_unknown, registration_config_members, string, tag_pairs,
    tags_to_json, validity_to_json,
};

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
    let query = Query::parse(query);
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
    use crate::wire::json::{MAX_REQUEST_JSON_BYTES, request_document};

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
