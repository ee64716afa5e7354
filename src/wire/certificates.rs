//! Device certificates on botocore's REST-JSON routes, the connect decision as the CLI prints
//! it, and provisioning templates as a registry file lists them:
//!
//! | operation | route | request members |
//! |---|---|---|
//! | RegisterCertificate | `POST /certificate/register` | `certificatePem`, `caCertificatePem`, `status` in the body; `setAsActive` in the query |
//! | RegisterCertificateWithoutCA | `POST /certificate/register-no-ca` | `certificatePem`, `status` in the body |
//! | DescribeCertificate | `GET /certificates/{certificateId}` | path |
//! | UpdateCertificate | `PUT /certificates/{certificateId}` | path; `newStatus` in the query |
//! | DeleteCertificate | `DELETE /certificates/{certificateId}` | path; `forceDelete` in the query |
//! | ListCertificates | `GET /certificates` | `pageSize`, `marker`, `isAscendingOrder` in the query |
//! | ListCertificatesByCA | `GET /certificates-by-ca/{caCertificateId}` | path; paging as ListCertificates |
//!
//! Query strings are read as [`super::lifecycle::update_ca_certificate_request_from_rest`] reads them.

use serde_json::{Map, Value, json};

use super::json::{
    Query, TimeFormat, boolean, document_object, list_query, refuse_unknown, string, validity_to_json, wrong_type,
};
use crate::device::certificate::CertificateDescription;
use crate::device::connect::{ConnectDecision, RefuseReason};
use crate::device::lifecycle::{DeleteCertificateRequest, UpdateCertificateRequest};
use crate::device::register::{
    CertificateRegistration, RegisterCertificateRequest, RegisterCertificateWithoutCaRequest,
};
use crate::error::{Error, RequestError};
use crate::model::certificate_id::CertificateId;
use crate::model::enums::CertificateStatus;
use crate::model::enums::TemplateType;
use crate::model::paging::{ListQuery, Page};
use crate::model::registration_config::TemplateBody;
use crate::model::template::{TemplateFacts, TemplateName};

/// The JSON object of a request body with no member outside `known`.
fn body_object(json: &str, known: &[&str]) -> Result<Map<String, Value>, Error> {
    let top = document_object(json)?;
    refuse_unknown(&top, "", known)?;
    Ok(top)
}

fn status_member(top: &Map<String, Value>) -> Result<Option<CertificateStatus>, Error> {
    string(top, "status", "status")?.map(|s| CertificateStatus::parse(s, "status")).transpose()
}

fn certificate_pem(top: &Map<String, Value>) -> Result<&str, Error> {
    string(top, "certificatePem", "certificatePem")?
        .ok_or_else(|| RequestError::MissingMember { member: "certificatePem" }.into())
}

fn register_from(top: &Map<String, Value>, set_as_active: bool) -> Result<RegisterCertificateRequest, Error> {
    let pem = certificate_pem(top)?;
    let ca = string(top, "caCertificatePem", "caCertificatePem")?;
    let mut request = RegisterCertificateRequest::new(pem).with_set_as_active(set_as_active);
    if let Some(ca) = ca {
        request = request.with_ca_certificate_pem(ca);
    }
    if let Some(status) = status_member(top)? {
        request = request.with_status(status);
    }
    Ok(request)
}

/// A RegisterCertificate request as `aws iot register-certificate --cli-input-json` takes it:
/// `{"certificatePem", "caCertificatePem"?, "setAsActive"?, "status"?}`.
///
/// # Errors
/// [`Error::Request`] naming the member (InvalidRequestException).
pub fn register_certificate_request_from_json(json: &str) -> Result<RegisterCertificateRequest, Error> {
    let top = body_object(json, &["certificatePem", "caCertificatePem", "setAsActive", "status"])?;
    register_from(&top, boolean(&top, "setAsActive")?)
}

/// A RegisterCertificate request from its REST pieces (`POST /certificate/register`): the
/// query string's `setAsActive` and the body `{"certificatePem", "caCertificatePem"?, "status"?}`.
///
/// # Errors
/// As [`register_certificate_request_from_json`].
pub fn register_certificate_request_from_rest(query: &str, body: &str) -> Result<RegisterCertificateRequest, Error> {
    let set_as_active = Query::parse(query).boolean("setAsActive")?.unwrap_or(false);
    let top = body_object(body, &["certificatePem", "caCertificatePem", "status"])?;
    register_from(&top, set_as_active)
}

/// A RegisterCertificateWithoutCA request (`POST /certificate/register-no-ca`; the same
/// document for `--cli-input-json`): `{"certificatePem", "status"?}`.
///
/// # Errors
/// As [`register_certificate_request_from_json`].
pub fn register_certificate_without_ca_request_from_json(
    json: &str,
) -> Result<RegisterCertificateWithoutCaRequest, Error> {
    let top = body_object(json, &["certificatePem", "status"])?;
    let mut request = RegisterCertificateWithoutCaRequest::new(certificate_pem(&top)?);
    if let Some(status) = status_member(&top)? {
        request = request.with_status(status);
    }
    Ok(request)
}

/// The certificateId of `/certificates/{certificateId}` (DescribeCertificate,
/// UpdateCertificate, DeleteCertificate), as the path gives it.
///
/// # Errors
/// As [`CertificateId::parse_path`], naming the member `certificateId`.
pub fn certificate_id_from_path(path_id: &str) -> Result<CertificateId, Error> {
    CertificateId::parse_path(path_id, "certificateId")
}

/// UpdateCertificate from its REST pieces (`PUT /certificates/{certificateId}?newStatus=…`).
///
/// # Errors
/// InvalidRequestException errors: the path id, then newStatus missing or outside the AWS model.
pub fn update_certificate_request_from_rest(path_id: &str, query: &str) -> Result<UpdateCertificateRequest, Error> {
    let id = certificate_id_from_path(path_id)?;
    let query = Query::parse(query);
    let status = query.get("newStatus").ok_or(RequestError::MissingMember { member: "newStatus" })?;
    Ok(UpdateCertificateRequest::new(id, CertificateStatus::parse(status, "newStatus")?))
}

/// DeleteCertificate from its REST pieces (`DELETE /certificates/{certificateId}?forceDelete=…`).
///
/// # Errors
/// InvalidRequestException errors: the path id, then a forceDelete that is not a boolean.
pub fn delete_certificate_request_from_rest(path_id: &str, query: &str) -> Result<DeleteCertificateRequest, Error> {
    let id = certificate_id_from_path(path_id)?;
    let force = Query::parse(query).boolean("forceDelete")?.unwrap_or(false);
    Ok(DeleteCertificateRequest::new(id).with_force_delete(force))
}

/// ListCertificates' query string: `pageSize`, `marker`, `isAscendingOrder`.
///
/// # Errors
/// InvalidRequestException errors: pageSize not an integer or outside 1..=250,
/// isAscendingOrder not `true`/`false`, a marker outside its shape.
pub fn list_certificates_query_from_rest(query: &str) -> Result<ListQuery, Error> {
    list_query(&Query::parse(query), "marker")
}

/// ListCertificatesByCA from its REST pieces (`GET /certificates-by-ca/{caCertificateId}`):
/// the CA's id and the paging members of [`list_certificates_query_from_rest`].
///
/// # Errors
/// The path id (member `caCertificateId`), then as [`list_certificates_query_from_rest`].
pub fn list_certificates_by_ca_request_from_rest(
    path_id: &str,
    query: &str,
) -> Result<(CertificateId, ListQuery), Error> {
    let id = CertificateId::parse_path(path_id, "caCertificateId")?;
    Ok((id, list_certificates_query_from_rest(query)?))
}

/// DescribeCertificate's `certificateDescription`.
#[must_use]
pub fn certificate_description_to_json(d: &CertificateDescription, times: TimeFormat) -> Value {
    let mut out = json!({
        "certificateArn": d.certificate_arn,
        "certificateId": d.certificate_id.as_str(),
        "status": d.status.as_str(),
        "certificatePem": d.certificate_pem,
        "ownedBy": d.owned_by.as_str(),
        "creationDate": times.write(d.creation_date),
        "lastModifiedDate": times.write(d.last_modified_date),
        "customerVersion": d.customer_version,
        "generationId": d.generation_id,
        "validity": validity_to_json(&d.validity, times),
        "certificateMode": d.certificate_mode.as_str(),
    });
    if let (Some(object), Some(ca)) = (out.as_object_mut(), &d.ca_certificate_id) {
        object.insert("caCertificateId".into(), Value::String(ca.as_str().to_owned()));
    }
    out
}

/// DescribeCertificate's response: `{"certificateDescription": …}`.
#[must_use]
pub fn describe_certificate_response_to_json(d: &CertificateDescription, times: TimeFormat) -> Value {
    json!({ "certificateDescription": certificate_description_to_json(d, times) })
}

/// A ListCertificates / ListCertificatesByCA entry: `{"certificateArn", "certificateId",
/// "status", "certificateMode", "creationDate"}`.
#[must_use]
pub fn certificate_entry_to_json(d: &CertificateDescription, times: TimeFormat) -> Value {
    json!({
        "certificateArn": d.certificate_arn,
        "certificateId": d.certificate_id.as_str(),
        "status": d.status.as_str(),
        "certificateMode": d.certificate_mode.as_str(),
        "creationDate": times.write(d.creation_date),
    })
}

/// ListCertificates' and ListCertificatesByCA's response: `certificates`, and `nextMarker`
/// unless this is the last page.
#[must_use]
pub fn list_certificates_response_to_json(page: &Page<&CertificateDescription>, times: TimeFormat) -> Value {
    let mut out = Map::new();
    out.insert("certificates".into(), page.items.iter().map(|d| certificate_entry_to_json(d, times)).collect());
    if let Some(marker) = &page.next_marker {
        out.insert("nextMarker".into(), Value::String(marker.clone()));
    }
    Value::Object(out)
}

/// The RegisterCertificate (and RegisterCertificateWithoutCA) response,
/// `{"certificateArn", "certificateId"}`.
#[must_use]
pub fn register_certificate_response_to_json(r: &CertificateRegistration) -> Value {
    json!({ "certificateArn": r.certificate_arn, "certificateId": r.certificate_id.as_str() })
}

/// The response plus what is stored: `certificateDescription`.
#[must_use]
pub fn certificate_registration_to_json(r: &CertificateRegistration, times: TimeFormat) -> Value {
    let mut out = register_certificate_response_to_json(r);
    out["certificateDescription"] = certificate_description_to_json(&r.description, times);
    out
}

/// A stable code for a refusal (`CERTIFICATE_STATUS`, `NO_REGISTERED_CA`, …).
#[must_use]
pub fn refuse_reason_code(reason: &RefuseReason) -> &'static str {
    match reason {
        RefuseReason::CertificateStatus { .. } => "CERTIFICATE_STATUS",
        RefuseReason::Certificate(_) => "CERTIFICATE_INVALID",
        RefuseReason::NoRegisteredCa => "NO_REGISTERED_CA",
        RefuseReason::CaInactive => "CA_INACTIVE",
        RefuseReason::AutoRegistrationDisabled => "AUTO_REGISTRATION_DISABLED",
        RefuseReason::CaCertificateNotPresented => "CA_CERTIFICATE_NOT_PRESENTED",
        RefuseReason::SniRequired => "SNI_REQUIRED",
        RefuseReason::TemplateNotFound { .. } => "TEMPLATE_NOT_FOUND",
        RefuseReason::TemplateParameterMissing { .. } => "TEMPLATE_PARAMETER_MISSING",
        RefuseReason::Template(_) => "TEMPLATE_INVALID",
        RefuseReason::ClaimExpired { .. } => "CLAIM_EXPIRED",
    }
}

/// A connect decision: `{"decision", "certificateId", "caCertificateId"?, "reason"?: {"code",
/// "message"}, "event"?: {"topic", "payload"}, "parameters"?: {name: value}}`; the event payload
/// is the JSON object that is published.
#[must_use]
pub fn connect_decision_to_json(decision: &ConnectDecision) -> Value {
    let mut out = Map::new();
    out.insert("decision".into(), decision.name().into());
    out.insert("certificateId".into(), decision.certificate_id().as_str().into());
    if let Some(ca) = decision.ca_certificate_id() {
        out.insert("caCertificateId".into(), ca.as_str().into());
    }
    let event = match decision {
        ConnectDecision::Refuse { reason, event, .. } => {
            out.insert("reason".into(), json!({ "code": refuse_reason_code(reason), "message": reason.to_string() }));
            event.as_ref()
        }
        ConnectDecision::Jitr { event, .. } => Some(event),
        ConnectDecision::Jitp { parameters, .. } => {
            let map: Map<String, Value> = parameters.iter().map(|(k, v)| (k.to_owned(), v.into())).collect();
            out.insert("parameters".into(), Value::Object(map));
            None
        }
        ConnectDecision::Connect { .. } => None,
    };
    if let Some(event) = event {
        let payload = serde_json::from_str(&event.payload()).unwrap_or(Value::Null);
        out.insert("event".into(), json!({ "topic": event.topic(), "payload": payload }));
    }
    Value::Object(out)
}

/// A provisioning template as a registry file or a service configuration lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct TemplateEntry {
    /// `templateName`.
    pub name: TemplateName,
    /// `type` and `enabled` (default true).
    pub facts: TemplateFacts,
    /// `templateBody`, when given.
    pub body: Option<TemplateBody>,
}

/// Reads `[{"templateName", "type": "JITP" | "FLEET_PROVISIONING", "enabled"?, "templateBody"?}]`.
///
/// # Errors
/// [`Error::Request`] naming the member that is missing, of the wrong type or outside its rule.
pub fn template_facts_from_json(value: &Value) -> Result<Vec<TemplateEntry>, Error> {
    let items = value.as_array().ok_or_else(|| wrong_type("provisioningTemplates", "array"))?;
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let path = format!("provisioningTemplates.{}.member", i + 1);
        let t = item.as_object().ok_or_else(|| wrong_type(&path, "object"))?;
        refuse_unknown(t, &format!("{path}."), &["templateName", "type", "enabled", "templateBody"])?;
        let name = string(t, "templateName", &format!("{path}.templateName"))?
            .ok_or(RequestError::MissingMember { member: "provisioningTemplates.member.templateName" })?;
        let kind = string(t, "type", &format!("{path}.type"))?
            .ok_or(RequestError::MissingMember { member: "provisioningTemplates.member.type" })?;
        let enabled = match t.get("enabled") {
            None | Some(Value::Null) => true,
            Some(Value::Bool(b)) => *b,
            Some(_) => return Err(wrong_type(&format!("{path}.enabled"), "boolean")),
        };
        let body = string(t, "templateBody", &format!("{path}.templateBody"))?.map(TemplateBody::parse).transpose()?;
        out.push(TemplateEntry {
            name: TemplateName::parse(name)?,
            facts: TemplateFacts::new(TemplateType::parse(kind, "type")?).with_enabled(enabled),
            body,
        });
    }
    Ok(out)
}
