//! The wire shapes of a CA's life after registration, on botocore's REST-JSON routes:
//!
//! | operation | route | request members |
//! |---|---|---|
//! | DescribeCACertificate | `GET /cacertificate/{caCertificateId}` | path |
//! | UpdateCACertificate | `PUT /cacertificate/{caCertificateId}` | path; `newStatus`, `newAutoRegistrationStatus` in the query; `registrationConfig`, `removeAutoRegistration` in the body |
//! | DeleteCACertificate | `DELETE /cacertificate/{caCertificateId}` | path |
//! | ListCACertificates | `GET /cacertificates` | `pageSize`, `marker`, `isAscendingOrder`, `templateName` in the query |
//! | TagResource | `POST /tags` | `resourceArn`, `tags` in the body |
//! | UntagResource | `POST /untag` | `resourceArn`, `tagKeys` in the body |
//! | ListTagsForResource | `GET /tags` | `resourceArn`, `nextToken` in the query |
//! | DeleteRegistrationCode | `DELETE /registrationcode` | none |
//!
//! UpdateCACertificate, DeleteCACertificate, TagResource, UntagResource and
//! DeleteRegistrationCode answer with no members (`{}`).
//!
//! Query strings are split on `&` and the first `=`, then percent-decoded (RFC 3986 §2.1; `+`
//! stays `+`, so a marker's `+` survives a client that does not escape it). An escape that is not
//! two hex digits is kept as written, and bytes that are not UTF-8 become U+FFFD: either way
//! the member then fails its own rule. Parameters the operation does not have are ignored, and
//! the first of a repeated parameter is the one read.

use serde_json::{Map, Value, json};

use super::ca::{description_to_json, registration_config_to_json};
use super::json::{
    Query, TimeFormat, boolean, document_object, list_query, refuse_unknown, registration_config_members, string,
    tag_pairs, tag_to_json, wrong_type,
};
use crate::ca::lifecycle::{
    ListTagsForResourceRequest, TagResourceRequest, UntagResourceRequest, UpdateCaCertificateRequest,
};
use crate::error::{Error, RequestError};
use crate::model::arn::ResourceArn;
use crate::model::certificate_id::CertificateId;
use crate::model::description::CaCertificateDescription;
use crate::model::enums::{AutoRegistrationStatus, CaStatus};
use crate::model::paging::{ListQuery, Marker, Page, SortOrder};
use crate::model::registration_config::RegistrationConfig;
use crate::model::scope::AccountScope;
use crate::model::tags::{TagKeys, Tags};
use crate::model::template::TemplateName;

/// The certificateId of `/cacertificate/{caCertificateId}` (DescribeCACertificate,
/// UpdateCACertificate, DeleteCACertificate), as the path gives it.
///
/// # Errors
/// As [`CertificateId::parse_path`], naming the member `certificateId`.
pub fn ca_certificate_id_from_path(path_id: &str) -> Result<CertificateId, Error> {
    CertificateId::parse_path(path_id, "certificateId")
}

/// UpdateCACertificate from its REST pieces: the path id, the query string and the JSON body
/// (an empty body is no members). Faults are reported path first, then query, then body.
///
/// # Errors
/// InvalidRequestException errors: the path id; `newStatus` or `newAutoRegistrationStatus`
/// outside their enums; a body that is not a JSON object, with unknown members or members
/// of the wrong type; the registrationConfig rules.
pub fn update_ca_certificate_request_from_rest(
    path_id: &str,
    query: &str,
    body: &str,
) -> Result<UpdateCaCertificateRequest, Error> {
    let mut request = UpdateCaCertificateRequest::new(ca_certificate_id_from_path(path_id)?);
    let query = Query::parse(query);
    if let Some(status) = query.get("newStatus") {
        request = request.with_new_status(CaStatus::parse(status, "newStatus")?);
    }
    if let Some(status) = query.get("newAutoRegistrationStatus") {
        request = request
            .with_new_auto_registration_status(AutoRegistrationStatus::parse(status, "newAutoRegistrationStatus")?);
    }
    let top = if body.trim().is_empty() { Map::new() } else { document_object(body)? };
    refuse_unknown(&top, "", &["registrationConfig", "removeAutoRegistration"])?;
    let config = registration_config_members(&top)?;
    request = request.with_remove_auto_registration(boolean(&top, "removeAutoRegistration")?);
    if let Some(config) =
        config.map(|(body, role, name)| RegistrationConfig::from_members(body, role, name)).transpose()?.flatten()
    {
        request = request.with_registration_config(config);
    }
    Ok(request)
}

/// ListCACertificates' query string: `pageSize`, `marker`, `isAscendingOrder`, `templateName`.
///
/// # Errors
/// InvalidRequestException errors: pageSize not an integer or outside 1..=250,
/// isAscendingOrder not `true`/`false`, a marker or templateName outside its rules.
pub fn list_ca_certificates_query_from_rest(query: &str) -> Result<ListQuery, Error> {
    let query = Query::parse(query);
    let mut out = list_query(&query, "marker")?;
    if let Some(name) = query.get("templateName") {
        out = out.with_template_name(TemplateName::parse(name)?);
    }
    Ok(out)
}

/// The required string member `resourceArn`, read before the ARN is checked: a request whose
/// other members are faulty is InvalidRequestException whatever its ARN.
fn resource_arn_member(top: &Map<String, Value>) -> Result<&str, Error> {
    string(top, "resourceArn", "resourceArn")?
        .ok_or_else(|| RequestError::MissingMember { member: "resourceArn" }.into())
}

/// TagResource's body `{"resourceArn", "tags"}`, the ARN checked against `scope`.
///
/// # Errors
/// InvalidRequestException errors for the body and the tags, then
/// [`crate::ResourceError`] (ResourceNotFoundException) for an ARN that is not one of the
/// account's certificates.
pub fn tag_resource_request_from_json(body: &str, scope: &AccountScope) -> Result<TagResourceRequest, Error> {
    let top = document_object(body)?;
    refuse_unknown(&top, "", &["resourceArn", "tags"])?;
    let arn = resource_arn_member(&top)?;
    if matches!(top.get("tags"), None | Some(Value::Null)) {
        return Err(RequestError::MissingMember { member: "tags" }.into());
    }
    let tags = Tags::new(&tag_pairs(&top)?)?;
    Ok(TagResourceRequest::new(ResourceArn::parse(arn, scope)?, tags))
}

/// UntagResource's body `{"resourceArn", "tagKeys"}`, the ARN checked against `scope`.
///
/// # Errors
/// As [`tag_resource_request_from_json`], with [`TagKeys::new`]'s rules for `tagKeys`.
pub fn untag_resource_request_from_json(body: &str, scope: &AccountScope) -> Result<UntagResourceRequest, Error> {
    let top = document_object(body)?;
    refuse_unknown(&top, "", &["resourceArn", "tagKeys"])?;
    let arn = resource_arn_member(&top)?;
    let keys = match top.get("tagKeys") {
        None | Some(Value::Null) => return Err(RequestError::MissingMember { member: "tagKeys" }.into()),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, item)| item.as_str().ok_or_else(|| wrong_type(&format!("tagKeys.{}.member", i + 1), "string")))
            .collect::<Result<Vec<&str>, Error>>()?,
        Some(_) => return Err(wrong_type("tagKeys", "array")),
    };
    let keys = TagKeys::new(&keys)?;
    Ok(UntagResourceRequest::new(ResourceArn::parse(arn, scope)?, keys))
}

/// ListTagsForResource's query string: `resourceArn` (required) and `nextToken`.
///
/// # Errors
/// [`RequestError::MissingMember`] without resourceArn, the nextToken's shape, then
/// [`crate::ResourceError`] for the ARN.
pub fn list_tags_for_resource_request_from_rest(
    query: &str,
    scope: &AccountScope,
) -> Result<ListTagsForResourceRequest, Error> {
    let query = Query::parse(query);
    let arn = query.get("resourceArn").ok_or(RequestError::MissingMember { member: "resourceArn" })?;
    let mut paging = ListQuery::new().with_order(SortOrder::Ascending);
    if let Some(token) = query.get("nextToken") {
        paging = paging.with_marker(Marker::parse(token, "nextToken")?);
    }
    Ok(ListTagsForResourceRequest::new(ResourceArn::parse(arn, scope)?, paging))
}

/// DescribeCACertificate's response: `certificateDescription` (the CACertificateDescription
/// members only) and, beside it, `registrationConfig` when the CA has one.
#[must_use]
pub fn describe_ca_certificate_response_to_json(d: &CaCertificateDescription, times: TimeFormat) -> Value {
    let mut out = Map::new();
    out.insert("certificateDescription".into(), description_to_json(d, times));
    if let Some(config) = &d.registration_config {
        out.insert("registrationConfig".into(), registration_config_to_json(config));
    }
    Value::Object(out)
}

/// One ListCACertificates entry: the CACertificate members `certificateArn`, `certificateId`,
/// `status` and `creationDate`.
#[must_use]
pub fn ca_certificate_entry_to_json(d: &CaCertificateDescription, times: TimeFormat) -> Value {
    json!({
        "certificateArn": d.certificate_arn,
        "certificateId": d.certificate_id.as_str(),
        "status": d.status.as_str(),
        "creationDate": times.write(d.creation_date),
    })
}

/// ListCACertificates' response: `certificates`, and `nextMarker` unless this is the last page.
#[must_use]
pub fn list_ca_certificates_response_to_json(page: &Page<&CaCertificateDescription>, times: TimeFormat) -> Value {
    let mut out = Map::new();
    let entries = page.items.iter().map(|d| ca_certificate_entry_to_json(d, times)).collect();
    out.insert("certificates".into(), Value::Array(entries));
    if let Some(marker) = &page.next_marker {
        out.insert("nextMarker".into(), Value::String(marker.clone()));
    }
    Value::Object(out)
}

/// ListTagsForResource's response: `tags` as `[{"Key", "Value"}]`, and `nextToken` unless this
/// is the last page.
#[must_use]
pub fn list_tags_for_resource_response_to_json(page: &Page<&(String, String)>) -> Value {
    let mut out = Map::new();
    out.insert("tags".into(), page.items.iter().map(|(k, v)| tag_to_json(k, v)).collect());
    if let Some(token) = &page.next_marker {
        out.insert("nextToken".into(), Value::String(token.clone()));
    }
    Value::Object(out)
}
