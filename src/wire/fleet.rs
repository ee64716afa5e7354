//! Fleet provisioning's MQTT API (AWS IoT Developer Guide, "Device provisioning MQTT API"): its
//! topics, and its payloads in JSON and in CBOR (the `/cbor` topics FreeRTOS and the embedded C
//! SDK use), decoded into and encoded from the same JSON values.
//!
//! | publish to | request | accepted |
//! |---|---|---|
//! | `$aws/certificates/create/{json,cbor}` | `{}` (or empty) | `{certificateId, certificatePem, privateKey, certificateOwnershipToken}` |
//! | `$aws/certificates/create-from-csr/{json,cbor}` | `{certificateSigningRequest}` | `{certificateOwnershipToken, certificateId, certificatePem}` |
//! | `$aws/provisioning-templates/<name>/provision/{json,cbor}` | `{certificateOwnershipToken, parameters?}` | `{deviceConfiguration, thingName}` |
//!
//! Answers go to `<topic>/accepted` or `<topic>/rejected`; a rejection is `{statusCode,
//! errorCode, errorMessage}`.

use serde_json::{Map, Value, json};

use super::json::{refuse_unknown, string, wrong_type};
use super::templates::template_parameters_from_json;
use crate::device::issued::IssuedCertificate;
use crate::device::jitp::TemplateParameters;
use crate::error::exception::Rejection;
use crate::error::{Error, RequestError};
use crate::model::template::TemplateName;
use crate::provisioning::plan::Plan;

/// The payload format a topic names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PayloadFormat {
    /// `…/json`.
    Json,
    /// `…/cbor` (RFC 8949).
    Cbor,
}

/// A fleet provisioning request topic.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FleetRequest {
    /// `$aws/certificates/create/<format>`.
    CreateKeysAndCertificate,
    /// `$aws/certificates/create-from-csr/<format>`.
    CreateCertificateFromCsr,
    /// `$aws/provisioning-templates/<templateName>/provision/<format>`.
    RegisterThing(TemplateName),
}

/// The fleet provisioning topic `topic` names: a request with its format, or `None` for any
/// other topic (its `/accepted` and `/rejected` answers included).
#[must_use]
pub fn fleet_request_topic(topic: &str) -> Option<(FleetRequest, PayloadFormat)> {
    let (rest, format) = if let Some(rest) = topic.strip_suffix("/json") {
        (rest, PayloadFormat::Json)
    } else {
        (topic.strip_suffix("/cbor")?, PayloadFormat::Cbor)
    };
    match rest {
        "$aws/certificates/create" => Some((FleetRequest::CreateKeysAndCertificate, format)),
        "$aws/certificates/create-from-csr" => Some((FleetRequest::CreateCertificateFromCsr, format)),
        _ => {
            let name = rest.strip_prefix("$aws/provisioning-templates/")?.strip_suffix("/provision")?;
            Some((FleetRequest::RegisterThing(TemplateName::parse(name).ok()?), format))
        }
    }
}

/// Whether `filter` is one a fleet provisioning client subscribes to: a request topic's
/// `/accepted` or `/rejected`, or `+` or `#` in their place. A request topic itself is not
/// (nothing is published on it to anyone).
#[must_use]
pub fn is_fleet_response_filter(filter: &str) -> bool {
    ["/accepted", "/rejected", "/+", "/#"]
        .iter()
        .find_map(|answer| filter.strip_suffix(answer))
        .is_some_and(|request| fleet_request_topic(request).is_some())
}

/// A request payload as a JSON value: JSON text, or CBOR; an empty payload is `{}` (AWS:
/// CreateKeysAndCertificate takes "an empty message payload").
///
/// # Errors
/// [`RequestError::MalformedJson`] for a payload that is neither (InvalidRequestException).
pub fn fleet_payload_to_value(format: PayloadFormat, payload: &[u8]) -> Result<Value, Error> {
    if payload.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Object(Map::new()));
    }
    let value: Value = match format {
        PayloadFormat::Json => serde_json::from_slice(payload).map_err(|_| RequestError::MalformedJson)?,
        PayloadFormat::Cbor => ciborium::from_reader(payload).map_err(|_| RequestError::MalformedJson)?,
    };
    if !value.is_object() {
        return Err(RequestError::MalformedJson.into());
    }
    Ok(value)
}

/// A response value as the topic's format writes it.
#[must_use]
pub fn fleet_value_to_payload(format: PayloadFormat, value: &Value) -> Vec<u8> {
    match format {
        PayloadFormat::Json => value.to_string().into_bytes(),
        PayloadFormat::Cbor => {
            let mut out = Vec::new();
            // Writing a JSON value into a Vec cannot fail.
            match ciborium::into_writer(value, &mut out) {
                Ok(()) => out,
                Err(_) => value.to_string().into_bytes(),
            }
        }
    }
}

/// CreateKeysAndCertificate's request: no members (an empty object).
///
/// # Errors
/// [`RequestError::UnknownMember`] for any member.
pub fn create_keys_request_from_value(value: &Value) -> Result<(), Error> {
    let o = value.as_object().ok_or_else(|| wrong_type("payload", "object"))?;
    refuse_unknown(o, "", &[])
}

/// CreateCertificateFromCsr's request: the CSR's PEM.
///
/// # Errors
/// InvalidRequestException errors naming the member.
pub fn create_from_csr_request_from_value(value: &Value) -> Result<String, Error> {
    let o = value.as_object().ok_or_else(|| wrong_type("payload", "object"))?;
    refuse_unknown(o, "", &["certificateSigningRequest"])?;
    Ok(string(o, "certificateSigningRequest", "certificateSigningRequest")?
        .ok_or(RequestError::MissingMember { member: "certificateSigningRequest" })?
        .to_owned())
}

/// RegisterThing's request: the ownership token (empty when absent: the token rules refuse it
/// as AWS does) and the parameters.
///
/// # Errors
/// InvalidRequestException errors naming the member.
pub fn register_thing_fleet_request_from_value(value: &Value) -> Result<(String, TemplateParameters), Error> {
    let o = value.as_object().ok_or_else(|| wrong_type("payload", "object"))?;
    refuse_unknown(o, "", &["certificateOwnershipToken", "parameters"])?;
    let token = string(o, "certificateOwnershipToken", "certificateOwnershipToken")?.unwrap_or_default();
    Ok((token.to_owned(), template_parameters_from_json(o.get("parameters"))?))
}

/// CreateKeysAndCertificate's accepted answer.
#[must_use]
pub fn create_keys_accepted(issued: &IssuedCertificate, token: &str) -> Value {
    let d = &issued.description;
    json!({
        "certificateId": d.certificate_id.as_str(),
        "certificatePem": d.certificate_pem,
        "privateKey": issued.key_pair.as_ref().map(|k| k.private_key_pem().to_owned()).unwrap_or_default(),
        "certificateOwnershipToken": token,
    })
}

/// CreateCertificateFromCsr's accepted answer.
#[must_use]
pub fn create_from_csr_accepted(issued: &IssuedCertificate, token: &str) -> Value {
    let d = &issued.description;
    json!({
        "certificateOwnershipToken": token,
        "certificateId": d.certificate_id.as_str(),
        "certificatePem": d.certificate_pem,
    })
}

/// RegisterThing's accepted answer: `{deviceConfiguration, thingName}`.
#[must_use]
pub fn register_thing_accepted(plan: &Plan) -> Value {
    let config: Map<String, Value> =
        plan.device_configuration.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect();
    let mut out = Map::new();
    out.insert("deviceConfiguration".into(), Value::Object(config));
    if let Some(name) = &plan.thing_name {
        out.insert("thingName".into(), name.as_str().into());
    }
    Value::Object(out)
}

/// A `/rejected` answer: `{statusCode, errorCode, errorMessage}`.
#[must_use]
pub fn rejection_to_value(r: &Rejection) -> Value {
    json!({ "statusCode": r.status_code, "errorCode": r.error_code, "errorMessage": r.error_message })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_and_payloads() {
        assert_eq!(
            fleet_request_topic("$aws/certificates/create/json"),
            Some((FleetRequest::CreateKeysAndCertificate, PayloadFormat::Json))
        );
        assert_eq!(
            fleet_request_topic("$aws/certificates/create-from-csr/cbor"),
            Some((FleetRequest::CreateCertificateFromCsr, PayloadFormat::Cbor))
        );
        assert_eq!(
            fleet_request_topic("$aws/provisioning-templates/fleet_1/provision/json"),
            Some((FleetRequest::RegisterThing(TemplateName::parse("fleet_1").unwrap()), PayloadFormat::Json))
        );
        assert_eq!(fleet_request_topic("$aws/certificates/create/json/accepted"), None);
        assert_eq!(fleet_request_topic("$aws/provisioning-templates/a b/provision/json"), None);
        assert!(is_fleet_response_filter("$aws/certificates/create/json/accepted"));
        assert!(is_fleet_response_filter("$aws/provisioning-templates/t/provision/cbor/rejected"));
        assert!(!is_fleet_response_filter("$aws/things/t/shadow/get/accepted"));
        assert!(is_fleet_response_filter("$aws/certificates/create-from-csr/json/+"));
        assert!(!is_fleet_response_filter("$aws/certificates/create/json"));
        assert!(!is_fleet_response_filter("$aws/certificates/create/#"));
        assert_eq!(fleet_payload_to_value(PayloadFormat::Json, b"").unwrap(), json!({}));
        let value = json!({"certificateOwnershipToken": "tok", "parameters": {"SerialNumber": "1"}});
        let cbor = fleet_value_to_payload(PayloadFormat::Cbor, &value);
        assert_eq!(fleet_payload_to_value(PayloadFormat::Cbor, &cbor).unwrap(), value);
        let (token, params) = register_thing_fleet_request_from_value(&value).unwrap();
        assert_eq!((token.as_str(), params.get("SerialNumber")), ("tok", Some("1")));
        assert!(matches!(
            fleet_payload_to_value(PayloadFormat::Json, b"[1]"),
            Err(Error::Request(RequestError::MalformedJson))
        ));
        assert!(matches!(
            fleet_payload_to_value(PayloadFormat::Cbor, &[0xff, 0x00]),
            Err(Error::Request(RequestError::MalformedJson))
        ));
        assert!(matches!(
            create_keys_request_from_value(&json!({"x": 1})),
            Err(Error::Request(RequestError::UnknownMember { .. }))
        ));
        assert_eq!(create_from_csr_request_from_value(&json!({"certificateSigningRequest": "c"})).unwrap(), "c");
    }
}
