//! The certificates AWS IoT issues itself and the endpoint devices connect to:
//! CreateKeysAndCertificate (`POST /keys-and-certificate?setAsActive`),
//! CreateCertificateFromCsr (`POST /certificates?setAsActive`, body `certificateSigningRequest`)
//! and DescribeEndpoint (`GET /endpoint?endpointType`).

use serde_json::{Map, Value, json};

use super::json::{Query, document_object, refuse_unknown, string};
use crate::device::issued::IssuedCertificate;
use crate::error::{Error, RequestError};

/// `setAsActive` of a query string (absent: false).
///
/// # Errors
/// [`RequestError::WrongType`] for a value other than `true` or `false` (InvalidRequestException).
pub fn set_as_active_from_query(query: &str) -> Result<bool, Error> {
    Ok(Query::parse(query).boolean("setAsActive")?.unwrap_or(false))
}

/// CreateCertificateFromCsr's body: the `certificateSigningRequest` member's text (its rules are
/// the CSR parser's).
///
/// # Errors
/// InvalidRequestException errors naming the member.
pub fn certificate_signing_request_from_json(body: &str) -> Result<String, Error> {
    let top = document_object(body)?;
    refuse_unknown(&top, "", &["certificateSigningRequest"])?;
    let csr = string(&top, "certificateSigningRequest", "certificateSigningRequest")?
        .ok_or(RequestError::MissingMember { member: "certificateSigningRequest" })?;
    Ok(csr.to_owned())
}

/// CreateKeysAndCertificate's and CreateCertificateFromCsr's response: `certificateArn`,
/// `certificateId`, `certificatePem`, and `keyPair` {PublicKey, PrivateKey} when a key pair was
/// made.
#[must_use]
pub fn issued_certificate_to_json(issued: &IssuedCertificate) -> Value {
    let d = &issued.description;
    let mut out = Map::new();
    out.insert("certificateArn".into(), d.certificate_arn.clone().into());
    out.insert("certificateId".into(), d.certificate_id.as_str().into());
    out.insert("certificatePem".into(), d.certificate_pem.clone().into());
    if let Some(pair) = &issued.key_pair {
        out.insert(
            "keyPair".into(),
            json!({ "PublicKey": pair.public_key_pem(), "PrivateKey": pair.private_key_pem() }),
        );
    }
    Value::Object(out)
}

/// DescribeEndpoint's endpoint types this server answers: the data endpoints (our rule: the
/// credentials provider and jobs endpoints are not served).
pub const ENDPOINT_TYPES: &[&str] = &["iot:Data-ATS", "iot:Data"];

/// DescribeEndpoint's `endpointType` (absent: `iot:Data-ATS`, as AWS's default is the legacy
/// `iot:Data`, which names the same listener here).
///
/// # Errors
/// [`RequestError::Enum`] for any other type (InvalidRequestException).
pub fn endpoint_type_from_query(query: &str) -> Result<&'static str, Error> {
    match Query::parse(query).get("endpointType") {
        None => Ok(ENDPOINT_TYPES[0]),
        Some(kind) => ENDPOINT_TYPES.iter().copied().find(|t| *t == kind).ok_or_else(|| {
            RequestError::Enum {
                member: "endpointType",
                value: kind.chars().take(256).collect(),
                allowed: ENDPOINT_TYPES,
            }
            .into()
        }),
    }
}

/// AttachThingPrincipal's `thingPrincipalType` (absent: NON_EXCLUSIVE_THING). Both are
/// accepted; an exclusive attachment is kept as any other (our rule: exclusivity is not enforced).
///
/// # Errors
/// [`RequestError::Enum`] for another value (InvalidRequestException).
pub fn thing_principal_type_from_query(query: &str) -> Result<&'static str, Error> {
    const TYPES: &[&str] = &["NON_EXCLUSIVE_THING", "EXCLUSIVE_THING"];
    match Query::parse(query).get("thingPrincipalType") {
        None => Ok(TYPES[0]),
        Some(kind) => TYPES.iter().copied().find(|t| *t == kind).ok_or_else(|| {
            RequestError::Enum { member: "thingPrincipalType", value: kind.chars().take(256).collect(), allowed: TYPES }
                .into()
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_decode() {
        assert_eq!(set_as_active_from_query("setAsActive=true"), Ok(true));
        assert_eq!(set_as_active_from_query(""), Ok(false));
        assert!(matches!(
            set_as_active_from_query("setAsActive=1"),
            Err(Error::Request(RequestError::WrongType { .. }))
        ));
        assert_eq!(endpoint_type_from_query("endpointType=iot%3AData"), Ok("iot:Data"));
        assert_eq!(endpoint_type_from_query(""), Ok("iot:Data-ATS"));
        assert!(matches!(
            endpoint_type_from_query("endpointType=iot:Jobs"),
            Err(Error::Request(RequestError::Enum { member: "endpointType", .. }))
        ));
        assert_eq!(thing_principal_type_from_query("thingPrincipalType=EXCLUSIVE_THING"), Ok("EXCLUSIVE_THING"));
        assert!(matches!(
            thing_principal_type_from_query("thingPrincipalType=x"),
            Err(Error::Request(RequestError::Enum { .. }))
        ));
        assert_eq!(certificate_signing_request_from_json(r#"{"certificateSigningRequest": "x"}"#), Ok("x".to_owned()));
        assert!(matches!(
            certificate_signing_request_from_json("{}"),
            Err(Error::Request(RequestError::MissingMember { member: "certificateSigningRequest" }))
        ));
    }
}
