//! AWS Signature Version 4, header form, verified the way AWS does (AWS General Reference,
//! "Signature Version 4 signing process"): the canonical request is rebuilt from what arrived,
//! the body hash is computed from the bytes received, and the signature is compared in constant
//! time. The service is `iot`; the request's date may differ from the server's clock by at most
//! five minutes.
//!
//! [`sign`] is the client's side of the same rule (the load generator and tests use it): it
//! builds the canonical request, the string to sign and the signing key with the very functions
//! [`verify`] uses, so the two cannot drift apart.
//!
//! The account is the access key's; the region is the credential scope's, and the partition
//! follows from it (`cn-*` → `aws-cn`, `us-gov-*` → `aws-us-gov`, else `aws`).

use std::collections::HashMap;

use hmac::{Hmac, KeyInit, Mac};
use iot_ca::{AccountId, AccountScope, Region, UnixTime};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC};
use sha2::{Digest, Sha256};

use crate::error::ApiError;

/// The signing name of AWS IoT.
pub const SERVICE: &str = "iot";
/// Largest difference between the request's date and the server's clock, in seconds.
pub const MAX_SKEW_SECS: i64 = 300;
const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// An access key's secret, the account it acts for, and its session token if it is a
/// temporary key.
#[derive(Clone)]
struct Secret {
    secret: String,
    account: AccountId,
    session_token: Option<String>,
}

/// The access keys the server accepts.
#[derive(Clone)]
pub struct Credentials(HashMap<String, Secret>);

impl core::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_list().entries(self.0.keys()).finish()
    }
}

impl Credentials {
    /// The one key `test` / `test`, acting for account `000000000000`.
    #[must_use]
    pub fn test_key() -> Self {
        let mut keys = HashMap::new();
        if let Ok(account) = AccountId::parse("000000000000") {
            keys.insert("test".to_owned(), Secret { secret: "test".to_owned(), account, session_token: None });
        }
        Self(keys)
    }

    /// Reads `{"accessKeys": [{"accessKeyId", "secretAccessKey", "accountId", "sessionToken"?}]}`;
    /// a key with a `sessionToken` is a temporary key, whose requests must carry that token as
    /// `X-Amz-Security-Token`.
    ///
    /// # Errors
    /// A sentence naming what is missing or malformed.
    pub fn from_json(text: &str) -> Result<Self, String> {
        let value: serde_json::Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
        let keys = value.get("accessKeys").and_then(|v| v.as_array()).ok_or("an 'accessKeys' array is required")?;
        let mut out = HashMap::new();
        for (i, key) in keys.iter().enumerate() {
            let field = |name: &str| {
                key.get(name)
                    .and_then(|v| v.as_str())
                    .filter(|s| !s.is_empty())
                    .ok_or_else(|| format!("accessKeys[{i}].{name} must be a non-empty string"))
            };
            let id = field("accessKeyId")?;
            let secret = field("secretAccessKey")?.to_owned();
            let account = AccountId::parse(field("accountId")?).map_err(|e| format!("accessKeys[{i}]: {e}"))?;
            let session_token = match key.get("sessionToken") {
                None => None,
                Some(_) => Some(field("sessionToken")?.to_owned()),
            };
            if out.insert(id.to_owned(), Secret { secret, account, session_token }).is_some() {
                return Err(format!("accessKeys[{i}]: accessKeyId {id} is listed twice"));
            }
        }
        if out.is_empty() {
            return Err("'accessKeys' is empty".into());
        }
        Ok(Self(out))
    }

    /// How many keys there are.
    #[must_use]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// What a request presents to be checked.
#[derive(Debug)]
pub struct SignedRequest<'a> {
    /// `GET`, `POST`, …
    pub method: &'a str,
    /// The path as it arrived (still percent-encoded).
    pub raw_path: &'a str,
    /// The query string as it arrived, without `?`.
    pub raw_query: &'a str,
    /// The headers, names in any case, in the order received.
    pub headers: Vec<(&'a str, &'a [u8])>,
    /// The body.
    pub body: &'a [u8],
}

impl SignedRequest<'_> {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).and_then(|(_, v)| core::str::from_utf8(v).ok())
    }
}

/// The access key and region named by a request's `Authorization` header, before the signature
/// is checked (for the request log).
#[must_use]
pub fn claimed_region(authorization: &str) -> Option<&str> {
    let credential = authorization.split_once("Credential=")?.1;
    credential.split([',', ' ']).next()?.split('/').nth(2)
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    // HMAC accepts keys of any length; new_from_slice cannot fail for it.
    match Hmac::<Sha256>::new_from_slice(key) {
        Ok(mut mac) => {
            mac.update(data);
            mac.finalize().into_bytes().to_vec()
        }
        Err(_) => Vec::new(),
    }
}

/// Everything but RFC 3986's unreserved characters (`A-Z a-z 0-9 - _ . ~`): what SigV4's
/// UriEncode escapes.
const URI_ENCODE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');
/// The same, keeping `/` (a path's UriEncode).
const URI_ENCODE_PATH: &AsciiSet = &URI_ENCODE.remove(b'/');

/// SigV4's UriEncode: RFC 3986 percent-encoding, upper-case hex, of everything but the
/// unreserved characters (and `/` when `keep_slash`).
fn uri_encode(bytes: &[u8], keep_slash: bool) -> String {
    let set = if keep_slash { URI_ENCODE_PATH } else { URI_ENCODE };
    percent_encoding::percent_encode(bytes, set).to_string()
}

/// `%XX` escapes decoded; an escape that is not two hex digits is kept as written.
fn percent_decode(text: &str) -> Vec<u8> {
    percent_encoding::percent_decode_str(text).collect()
}

/// The canonical query string: each name and value decoded, re-encoded, sorted.
fn canonical_query(raw_query: &str) -> String {
    let mut pairs: Vec<(String, String)> = raw_query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (uri_encode(&percent_decode(name), false), uri_encode(&percent_decode(value), false))
        })
        .collect();
    pairs.sort();
    pairs.iter().map(|(n, v)| format!("{n}={v}")).collect::<Vec<_>>().join("&")
}

/// A header value as SigV4 canonicalises it: trimmed, inner runs of spaces made one.
fn canonical_value(value: &str) -> String {
    value.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The parts of `Authorization: AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`.
struct Authorization<'a> {
    key_id: &'a str,
    date: &'a str,
    region: &'a str,
    service: &'a str,
    terminator: &'a str,
    signed_headers: &'a str,
    signature: &'a str,
}

fn parse_authorization(text: &str) -> Result<Authorization<'_>, ApiError> {
    let malformed = |what: &str| ApiError::invalid_signature(format!("Authorization header requires {what}."));
    let rest = text.strip_prefix(ALGORITHM).filter(|r| r.starts_with(' ')).ok_or_else(|| {
        ApiError::invalid_signature(format!("Unsupported authorization type: only {ALGORITHM} is accepted."))
    })?;
    let mut credential = None;
    let mut signed_headers = None;
    let mut signature = None;
    for part in rest.split(',') {
        match part.trim().split_once('=') {
            Some(("Credential", v)) => credential = Some(v),
            Some(("SignedHeaders", v)) => signed_headers = Some(v),
            Some(("Signature", v)) => signature = Some(v),
            _ => {}
        }
    }
    let credential = credential.ok_or_else(|| malformed("'Credential' parameter"))?;
    let mut scope = credential.split('/');
    let (Some(key_id), Some(date), Some(region), Some(service), Some(terminator), None) =
        (scope.next(), scope.next(), scope.next(), scope.next(), scope.next(), scope.next())
    else {
        return Err(ApiError::invalid_signature(format!(
            "Credential should be scoped to a valid region and service: '{credential}'."
        )));
    };
    Ok(Authorization {
        key_id,
        date,
        region,
        service,
        terminator,
        signed_headers: signed_headers.ok_or_else(|| malformed("'SignedHeaders' parameter"))?,
        signature: signature.ok_or_else(|| malformed("'Signature' parameter"))?,
    })
}

/// `20150830T123600Z` as a time.
fn parse_amz_date(text: &str) -> Option<UnixTime> {
    if text.len() != 16 || !text.is_char_boundary(8) {
        return None;
    }
    let n = |range: core::ops::Range<usize>| text.get(range).and_then(|s| s.parse::<u16>().ok());
    let (y, mo, d, h, mi, s) = (n(0..4)?, n(4..6)?, n(6..8)?, n(9..11)?, n(11..13)?, n(13..15)?);
    if text.get(8..9) != Some("T") || text.get(15..16) != Some("Z") {
        return None;
    }
    UnixTime::from_calendar(
        y,
        u8::try_from(mo).ok()?,
        u8::try_from(d).ok()?,
        u8::try_from(h).ok()?,
        u8::try_from(mi).ok()?,
        u8::try_from(s).ok()?,
    )
}

fn amz_date(t: UnixTime) -> String {
    t.to_string().replace(['-', ':'], "")
}

/// The canonical path: dot segments removed and empty segments collapsed (RFC 3986 §5.2.4, as
/// AWS normalises for every service but S3, and as botocore's `remove_dot_segments` does before
/// signing), then UriEncoded, which encodes the already-encoded path a second time.
fn canonical_path(raw_path: &str) -> String {
    let mut segments: Vec<&str> = Vec::new();
    for segment in raw_path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    let mut path = String::with_capacity(raw_path.len() + 1);
    path.push('/');
    path.push_str(&segments.join("/"));
    if raw_path.ends_with('/') && !segments.is_empty() {
        path.push('/');
    }
    uri_encode(path.as_bytes(), true)
}

/// The canonical request of SigV4 for `request`, signing `signed_headers` (`a;b;c`, lower
/// case). A signed header the request lacks contributes no value: [`verify`] refuses such a
/// request before it gets here, and [`sign`] only names headers the request has.
fn canonical_request(request: &SignedRequest<'_>, signed_headers: &str, payload_hash: &str) -> String {
    let mut out =
        format!("{}\n{}\n{}\n", request.method, canonical_path(request.raw_path), canonical_query(request.raw_query));
    for name in signed_headers.split(';') {
        let values: Vec<String> = request
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| canonical_value(&String::from_utf8_lossy(v)))
            .collect();
        out.push_str(&format!("{name}:{}\n", values.join(",")));
    }
    out.push_str(&format!("\n{signed_headers}\n{payload_hash}"));
    out
}

/// The string to sign: the algorithm, the request's date, the credential scope and the hash of
/// the canonical request.
fn string_to_sign(date_text: &str, date: &str, region: &str, service: &str, canonical: &str) -> String {
    format!(
        "{ALGORITHM}\n{date_text}\n{date}/{region}/{service}/aws4_request\n{}",
        hex::encode(Sha256::digest(canonical.as_bytes()))
    )
}

/// The SigV4 signature of `string_to_sign` under `secret` for `date/region/service`.
fn signature(secret: &str, date: &str, region: &str, service: &str, string_to_sign: &str) -> Vec<u8> {
    let k_date = hmac(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    let k_region = hmac(&k_date, region.as_bytes());
    let k_service = hmac(&k_region, service.as_bytes());
    let k_signing = hmac(&k_service, b"aws4_request");
    hmac(&k_signing, string_to_sign.as_bytes())
}

/// Checks `request`'s signature at `now` and answers the scope it acts in.
///
/// # Errors
/// 403: MissingAuthenticationTokenException without an `Authorization` header;
/// UnrecognizedClientException for an unknown access key; InvalidSignatureException for a
/// malformed header, another service, a date more than five minutes off, a body whose hash
/// differs from `x-amz-content-sha256`, or a signature that does not match.
pub fn verify(credentials: &Credentials, request: &SignedRequest<'_>, now: UnixTime) -> Result<AccountScope, ApiError> {
    verify_for(SERVICE, credentials, request, now)
}

/// [`verify`] for the signing name `service` (the AWS signing test suite signs for `service`).
fn verify_for(
    service: &str,
    credentials: &Credentials,
    request: &SignedRequest<'_>,
    now: UnixTime,
) -> Result<AccountScope, ApiError> {
    let header = request.header("authorization").ok_or_else(ApiError::missing_authentication)?;
    let auth = parse_authorization(header)?;
    let secret = credentials.0.get(auth.key_id).ok_or_else(ApiError::unrecognized_client)?;
    // A token the key was not given (or none for a temporary key) is a token AWS does not know.
    let token_matches = match (request.header("x-amz-security-token"), &secret.session_token) {
        (None, None) => true,
        (Some(given), Some(token)) => constant_time_eq(given.as_bytes(), token.as_bytes()),
        _ => false,
    };
    if !token_matches {
        return Err(ApiError::unrecognized_client());
    }
    if auth.service != service || auth.terminator != "aws4_request" {
        return Err(ApiError::invalid_signature(format!(
            "Credential should be scoped to correct service: '{service}'."
        )));
    }
    let region = Region::parse(auth.region).map_err(|_| {
        ApiError::invalid_signature(format!("Credential should be scoped to a valid region: '{}'.", auth.region))
    })?;
    let date_text = request.header("x-amz-date").ok_or_else(|| {
        ApiError::invalid_signature("Authorization header requires existence of an 'X-Amz-Date' header.")
    })?;
    let date = parse_amz_date(date_text).ok_or_else(|| {
        ApiError::invalid_signature(format!("Date must be in ISO-8601 'basic format'. Got '{date_text}'."))
    })?;
    if date_text.get(..8) != Some(auth.date) {
        return Err(ApiError::invalid_signature(format!(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{}' != '{}'.",
            auth.date,
            date_text.get(..8).unwrap_or(date_text)
        )));
    }
    let skew = date.as_secs() - now.as_secs();
    if skew < -MAX_SKEW_SECS {
        let earliest = amz_date(UnixTime::from_secs(now.as_secs() - MAX_SKEW_SECS));
        return Err(ApiError::invalid_signature(format!(
            "Signature expired: {date_text} is now earlier than {earliest} ({} - 5 min.)",
            amz_date(now)
        )));
    }
    if skew > MAX_SKEW_SECS {
        let latest = amz_date(UnixTime::from_secs(now.as_secs() + MAX_SKEW_SECS));
        return Err(ApiError::invalid_signature(format!(
            "Signature not yet current: {date_text} is still later than {latest} ({} + 5 min.)",
            amz_date(now)
        )));
    }
    let signed = auth.signed_headers;
    if !signed.split(';').any(|h| h == "host") {
        return Err(ApiError::invalid_signature("'Host' must be a signed header."));
    }
    let payload_hash = hex::encode(Sha256::digest(request.body));
    if request.header("x-amz-content-sha256").is_some_and(|claimed| claimed != payload_hash) {
        return Err(ApiError::invalid_signature(
            "The provided 'x-amz-content-sha256' header does not match what was computed.",
        ));
    }
    if let Some(missing) =
        signed.split(';').find(|name| !request.headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name)))
    {
        return Err(ApiError::invalid_signature(format!("The signed header '{missing}' is not in the request.")));
    }
    let canonical = canonical_request(request, signed, &payload_hash);
    let string_to_sign = string_to_sign(date_text, auth.date, auth.region, auth.service, &canonical);
    let expected = signature(&secret.secret, auth.date, auth.region, auth.service, &string_to_sign);
    let given = hex::decode(auth.signature).unwrap_or_default();
    if !constant_time_eq(&expected, &given) {
        return Err(ApiError::invalid_signature(
            "The request signature we calculated does not match the signature you provided. Check your AWS Secret \
             Access Key and signing method. Consult the service documentation for details.",
        ));
    }
    // The partition is the region's (the library's rule).
    Ok(AccountScope::new(secret.account.clone(), region))
}

/// An access key to sign with: its id and its secret.
#[derive(Clone, Copy)]
pub struct AccessKey<'a> {
    /// The access key id (`AKIA…`, or `test`).
    pub id: &'a str,
    /// The secret access key.
    pub secret: &'a str,
}

impl core::fmt::Debug for AccessKey<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("AccessKey").field("id", &self.id).finish_non_exhaustive()
    }
}

/// The two headers that sign `request` for AWS IoT in `region` at `now`, as an AWS SDK signs
/// it: `x-amz-date` and `Authorization`. Every header of `request` is signed (give at least
/// `host`, which [`verify`] requires), plus `x-amz-date`; an `authorization` or `x-amz-date`
/// already among them is left out. The payload hash is the SHA-256 of `request.body`.
#[must_use]
pub fn sign(
    key: AccessKey<'_>,
    region: &str,
    request: &SignedRequest<'_>,
    now: UnixTime,
) -> [(&'static str, String); 2] {
    sign_for(SERVICE, key, region, request, now)
}

/// [`sign`] for any service (the AWS test suite's vectors are for `service`).
fn sign_for(
    service: &str,
    key: AccessKey<'_>,
    region: &str,
    request: &SignedRequest<'_>,
    now: UnixTime,
) -> [(&'static str, String); 2] {
    let date_text = amz_date(now);
    let date = date_text.get(..8).unwrap_or_default();
    let mut headers: Vec<(&str, &[u8])> = request
        .headers
        .iter()
        .filter(|(n, _)| !n.eq_ignore_ascii_case("authorization") && !n.eq_ignore_ascii_case("x-amz-date"))
        .copied()
        .collect();
    headers.push(("x-amz-date", date_text.as_bytes()));
    let mut names: Vec<String> = headers.iter().map(|(n, _)| n.to_ascii_lowercase()).collect();
    names.sort();
    names.dedup();
    let signed_headers = names.join(";");
    let dated = SignedRequest {
        method: request.method,
        raw_path: request.raw_path,
        raw_query: request.raw_query,
        headers,
        body: request.body,
    };
    let canonical = canonical_request(&dated, &signed_headers, &hex::encode(Sha256::digest(request.body)));
    let string_to_sign = string_to_sign(&date_text, date, region, service, &canonical);
    let signature = hex::encode(signature(key.secret, date, region, service, &string_to_sign));
    let authorization = format!(
        "{ALGORITHM} Credential={}/{date}/{region}/{service}/aws4_request, SignedHeaders={signed_headers}, \
         Signature={signature}",
        key.id
    );
    [("x-amz-date", date_text), ("authorization", authorization)]
}

/// Equality without an early exit on the first differing byte.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// AWS's SigV4 test suite: the common credentials and date.
    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

    /// AWS's SigV4 test suite: the Authorization header [`sign_for`] makes for `service`.
    fn suite_authorization(method: &str, path: &str, query: &str, headers: &[(&str, &str)], body: &[u8]) -> String {
        let request = SignedRequest {
            method,
            raw_path: path,
            raw_query: query,
            headers: headers.iter().map(|(n, v)| (*n, v.as_bytes())).collect(),
            body,
        };
        let key = AccessKey { id: "AKIDEXAMPLE", secret: SECRET };
        // 2015-08-30T12:36:00Z, the suite's date.
        let [date, authorization] = sign_for("service", key, "us-east-1", &request, UnixTime::from_secs(1_440_938_160));
        assert_eq!(date, ("x-amz-date", "20150830T123600Z".to_owned()));
        authorization.1
    }

    fn suite_signature(method: &str, path: &str, query: &str, headers: &[(&str, &str)], body: &[u8]) -> String {
        let authorization = suite_authorization(method, path, query, headers, body);
        authorization.rsplit("Signature=").next().unwrap().to_owned()
    }

    #[test]
    fn aws_test_suite_vectors() {
        let base = [("Host", "example.amazonaws.com"), ("X-Amz-Date", "20150830T123600Z")];
        // get-vanilla
        assert_eq!(
            suite_signature("GET", "/", "", &base, b""),
            "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
        );
        // post-vanilla
        assert_eq!(
            suite_signature("POST", "/", "", &base, b""),
            "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"
        );
        // get-vanilla-query-order-key-case
        assert_eq!(
            suite_signature("GET", "/", "Param2=value2&Param1=value1", &base, b""),
            "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"
        );
    }

    /// `headers` plus the two [`sign`] adds, under `key_id`/`secret` at `at`.
    #[allow(clippy::too_many_arguments)]
    fn sign_headers(
        key_id: &str,
        secret: &str,
        region: &str,
        method: &str,
        raw_path: &str,
        raw_query: &str,
        headers: &[(&str, &str)],
        body: &[u8],
        at: UnixTime,
    ) -> Vec<(String, String)> {
        let request = SignedRequest {
            method,
            raw_path,
            raw_query,
            headers: headers.iter().map(|(n, v)| (*n, v.as_bytes())).collect(),
            body,
        };
        let added = sign(AccessKey { id: key_id, secret }, region, &request, at);
        headers
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .chain(added.map(|(n, v)| (n.to_owned(), v)))
            .collect()
    }

    #[test]
    fn sign_makes_the_suites_authorization_header() {
        let base = [("Host", "example.amazonaws.com"), ("X-Amz-Date", "20150830T123600Z")];
        assert_eq!(
            suite_authorization("GET", "/", "", &base, b""),
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
             SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
        );
    }

    #[test]
    fn what_sign_signs_verify_accepts_and_any_change_breaks() {
        let key = AccessKey { id: "test", secret: "test" };
        let body = br#"{"caCertificate": "x"}"#;
        let given = [("Host", "127.0.0.1:8080"), ("Content-Type", "application/json"), ("X-Note", "  two   spaces ")];
        fn request<'a>(
            method: &'a str,
            raw_path: &'a str,
            raw_query: &'a str,
            headers: &'a [(&'static str, String)],
            body: &'a [u8],
        ) -> SignedRequest<'a> {
            SignedRequest {
                method,
                raw_path,
                raw_query,
                headers: headers.iter().map(|(n, v)| (*n, v.as_bytes())).collect(),
                body,
            }
        }
        let mut headers: Vec<(&'static str, String)> = given.iter().map(|(n, v)| (*n, (*v).to_owned())).collect();
        let added = sign(key, "eu-west-1", &request("POST", "/cacertificate/ab%63", "b=2&a=%2F x", &headers, body), AT);
        headers.extend(added);
        let ok = verify(&creds(), &request("POST", "/cacertificate/ab%63", "b=2&a=%2F x", &headers, body), AT).unwrap();
        assert_eq!((ok.account().as_str(), ok.region().as_str()), ("000000000000", "eu-west-1"));
        let authorization = &headers.last().unwrap().1;
        assert!(authorization.contains("SignedHeaders=content-type;host;x-amz-date;x-note,"), "{authorization}");

        // An unsigned header added afterwards changes nothing.
        let mut more = headers.clone();
        more.push(("User-Agent", "load".to_owned()));
        assert!(verify(&creds(), &request("POST", "/cacertificate/ab%63", "b=2&a=%2F x", &more, body), AT).is_ok());

        let refused = |r: SignedRequest<'_>| verify(&creds(), &r, AT).unwrap_err().name;
        let bad = "InvalidSignatureException";
        assert_eq!(refused(request("PUT", "/cacertificate/ab%63", "b=2&a=%2F x", &headers, body)), bad);
        assert_eq!(refused(request("POST", "/cacertificate/abc", "b=2&a=%2F x", &headers, body)), bad);
        assert_eq!(refused(request("POST", "/cacertificate/ab%63", "b=2&a=%2F+x", &headers, body)), bad);
        assert_eq!(refused(request("POST", "/cacertificate/ab%63", "b=2&a=%2F x", &headers, b"{}")), bad);
        let mut changed = headers.clone();
        changed[2].1 = "one space".to_owned();
        assert_eq!(refused(request("POST", "/cacertificate/ab%63", "b=2&a=%2F x", &changed, body)), bad);
        let missing: Vec<_> = headers.iter().filter(|(n, _)| *n != "Content-Type").cloned().collect();
        let e =
            verify(&creds(), &request("POST", "/cacertificate/ab%63", "b=2&a=%2F x", &missing, body), AT).unwrap_err();
        assert_eq!(e.message, "The signed header 'content-type' is not in the request.");
    }

    fn creds() -> Credentials {
        Credentials::test_key()
    }

    fn request<'a>(headers: &'a [(String, String)], body: &'a [u8]) -> SignedRequest<'a> {
        SignedRequest {
            method: "POST",
            raw_path: "/tags",
            raw_query: "a=b%2Fc",
            headers: headers.iter().map(|(n, v)| (n.as_str(), v.as_bytes())).collect(),
            body,
        }
    }

    const AT: UnixTime = UnixTime::from_secs(1_767_225_600);

    #[test]
    fn a_signed_request_verifies_and_names_its_scope() {
        let headers =
            sign_headers("test", "test", "cn-north-1", "POST", "/tags", "a=b%2Fc", &[("host", "h")], b"{}", AT);
        let scope = verify(&creds(), &request(&headers, b"{}"), AT).unwrap();
        assert_eq!(scope.account().as_str(), "000000000000");
        assert_eq!((scope.region().as_str(), scope.partition().as_str()), ("cn-north-1", "aws-cn"));
    }

    #[test]
    fn every_fault_is_a_403() {
        let name = |r: Result<AccountScope, ApiError>| r.map(|_| ()).unwrap_err().name;
        let good = sign_headers("test", "test", "us-east-1", "POST", "/tags", "a=b%2Fc", &[("host", "h")], b"{}", AT);
        assert_eq!(name(verify(&creds(), &request(&[], b"{}"), AT)), "MissingAuthenticationTokenException");
        let other = sign_headers("nope", "test", "us-east-1", "POST", "/tags", "a=b%2Fc", &[("host", "h")], b"{}", AT);
        assert_eq!(name(verify(&creds(), &request(&other, b"{}"), AT)), "UnrecognizedClientException");
        let wrong_secret =
            sign_headers("test", "nope", "us-east-1", "POST", "/tags", "a=b%2Fc", &[("host", "h")], b"{}", AT);
        assert_eq!(name(verify(&creds(), &request(&wrong_secret, b"{}"), AT)), "InvalidSignatureException");
        assert_eq!(name(verify(&creds(), &request(&good, b"{ }"), AT)), "InvalidSignatureException");
        let late = UnixTime::from_secs(AT.as_secs() + 301);
        let e = verify(&creds(), &request(&good, b"{}"), late).unwrap_err();
        assert!(e.message.starts_with("Signature expired"), "{e}");
        let early = UnixTime::from_secs(AT.as_secs() - 301);
        assert_eq!(name(verify(&creds(), &request(&good, b"{}"), early)), "InvalidSignatureException");
        assert!(verify(&creds(), &request(&good, b"{}"), UnixTime::from_secs(AT.as_secs() + 300)).is_ok());
        assert_eq!(verify(&creds(), &request(&good, b"{ }"), AT).unwrap_err().status, 403);
    }

    #[test]
    fn a_session_token_must_be_the_keys_own() {
        let name = |r: Result<AccountScope, ApiError>| r.map(|_| ()).unwrap_err().name;
        let temporary = Credentials::from_json(
            r#"{"accessKeys": [{"accessKeyId": "ASIA", "secretAccessKey": "s", "accountId": "123456789012",
                "sessionToken": "tok"}]}"#,
        )
        .unwrap();
        let with = |key: &str, secret: &str, token: &str| {
            let headers = [("host", "h"), ("x-amz-security-token", token)];
            sign_headers(key, secret, "us-east-1", "POST", "/tags", "a=b%2Fc", &headers, b"", AT)
        };
        // A token on a long-term key (boto3 with a session token, an STS key) is one AWS does
        // not know; it was silently ignored once.
        assert_eq!(
            name(verify(&creds(), &request(&with("test", "test", "tok"), b""), AT)),
            "UnrecognizedClientException"
        );
        let ok = verify(&temporary, &request(&with("ASIA", "s", "tok"), b""), AT);
        assert!(ok.is_ok(), "{:?}", ok.err());
        assert_eq!(
            name(verify(&temporary, &request(&with("ASIA", "s", "tok2"), b""), AT)),
            "UnrecognizedClientException"
        );
        let none = sign_headers("ASIA", "s", "us-east-1", "POST", "/tags", "a=b%2Fc", &[("host", "h")], b"", AT);
        assert_eq!(name(verify(&temporary, &request(&none, b""), AT)), "UnrecognizedClientException");
        assert_eq!(
            Credentials::from_json(
                r#"{"accessKeys": [{"accessKeyId": "A", "secretAccessKey": "s", "accountId": "123456789012",
                    "sessionToken": ""}]}"#
            )
            .err()
            .as_deref(),
            Some("accessKeys[0].sessionToken must be a non-empty string")
        );
    }

    #[test]
    fn credentials_files() {
        let c = Credentials::from_json(
            r#"{"accessKeys": [{"accessKeyId": "AK", "secretAccessKey": "s", "accountId": "123456789012"}]}"#,
        )
        .unwrap();
        assert_eq!(c.len(), 1);
        assert_eq!(Credentials::from_json(r#"{"accessKeys": []}"#).err().as_deref(), Some("'accessKeys' is empty"));
        let short_account = Credentials::from_json(
            r#"{"accessKeys": [{"accessKeyId": "AK", "secretAccessKey": "s", "accountId": "1"}]}"#,
        )
        .err()
        .unwrap();
        assert_eq!(short_account, format!("accessKeys[0]: {}", AccountId::parse("1").unwrap_err()));
        assert_eq!(
            Credentials::from_json(r#"{"accessKeys": [{"accessKeyId": "AK", "accountId": "123456789012"}]}"#)
                .err()
                .as_deref(),
            Some("accessKeys[0].secretAccessKey must be a non-empty string")
        );
        assert_eq!(
            claimed_region("AWS4-HMAC-SHA256 Credential=AK/20260101/eu-west-1/iot/aws4_request, X"),
            Some("eu-west-1")
        );
    }

    /// The AWS signing test suite's `v4` cases, as shipped inside the `aws-sigv4` crate
    /// (`aws-signing-test-suite/v4`, from awslabs/aws-c-auth; Apache-2.0, copied with its licence
    /// into `tests/data/aws-signing-test-suite`): each signed request is verified by the
    /// server's own verifier at the case's time, and its canonical request and string to sign
    /// are the suite's, byte for byte. Cases the server answers differently are listed with why.
    mod signing_test_suite {
        use std::path::{Path, PathBuf};

        use super::*;

        fn suite() -> PathBuf {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/aws-signing-test-suite/v4")
        }

        /// `METHOD TARGET HTTP/1.1`, `Name:value` lines (a line that starts with white space
        /// continues the value before it), a blank line, the body.
        struct Parsed {
            method: String,
            path: String,
            query: String,
            headers: Vec<(String, Vec<u8>)>,
            body: Vec<u8>,
        }

        fn parse(text: &str) -> Parsed {
            let (head, body) = text.split_once("\n\n").unwrap_or((text, ""));
            let mut lines = head.lines();
            let request_line = lines.next().unwrap();
            let (method, rest) = request_line.split_once(' ').unwrap();
            let target = match rest.rsplit_once(' ') {
                Some((target, version)) if version.starts_with("HTTP/") => target,
                _ => rest,
            };
            let (path, query) = target.split_once('?').unwrap_or((target, ""));
            let mut headers: Vec<(String, Vec<u8>)> = Vec::new();
            for line in lines {
                if line.starts_with([' ', '\t']) {
                    let last = headers.last_mut().unwrap();
                    last.1.push(b'\n');
                    last.1.extend_from_slice(line.as_bytes());
                } else {
                    let (name, value) = line.split_once(':').unwrap();
                    headers.push((name.to_owned(), value.as_bytes().to_vec()));
                }
            }
            Parsed {
                method: method.to_owned(),
                path: path.to_owned(),
                query: query.to_owned(),
                headers,
                body: body.as_bytes().to_vec(),
            }
        }

        fn file(case: &Path, name: &str) -> String {
            std::fs::read_to_string(case.join(name)).unwrap()
        }

        /// The cases the server canonicalises differently, and why. AWS IoT is not S3: its
        /// canonical path is the normalised one (RFC 3986 §5.2.4 dot segments removed, empty
        /// segments collapsed), so the two cases that sign an unnormalised path are answered
        /// with the normalised one, as AWS's servers for every service but S3 do.
        const DIFFERS: &[(&str, &str)] = &[
            ("get-slash-dot-slash-unnormalized", "signs the path unnormalised (S3's rule)"),
            ("get-slash-pointless-dot-unnormalized", "signs the path unnormalised (S3's rule)"),
            ("get-relative-unnormalized", "signs the path unnormalised (S3's rule)"),
            ("get-relative-relative-unnormalized", "signs the path unnormalised (S3's rule)"),
            ("get-slashes-unnormalized", "signs the path unnormalised (S3's rule)"),
            ("get-slash-unnormalized", "signs the path unnormalised (S3's rule)"),
            ("get-space-unnormalized", "signs the path unnormalised (S3's rule)"),
        ];

        #[test]
        fn every_case_verifies_and_canonicalises_as_the_suite_says() {
            let mut cases: Vec<PathBuf> =
                std::fs::read_dir(suite()).unwrap().map(|e| e.unwrap().path()).filter(|p| p.is_dir()).collect();
            cases.sort();
            assert_eq!(cases.len(), 40, "the suite's v4 folder holds 40 cases");
            let mut failures = Vec::new();
            let mut checked = 0;
            for case in &cases {
                let name = case.file_name().unwrap().to_string_lossy().into_owned();
                if !case.join("context.json").exists() {
                    // The two cases the crate migrated from the old suite carry no context, and
                    // their canonical requests' other lines disagree with their own requests
                    // (another date, another host): only their canonical path, the point of
                    // both (a path segment URI-encoded twice), is compared.
                    let request = parse(&file(case, "request.txt"));
                    let ours = canonical_path(&request.path);
                    let theirs = file(case, "header-canonical-request.txt").lines().nth(1).unwrap().to_owned();
                    if ours != theirs {
                        failures.push(format!("{name}: canonical path {ours}, the suite's {theirs}"));
                    }
                    checked += 1;
                    continue;
                }
                let context: serde_json::Value = serde_json::from_str(&file(case, "context.json")).unwrap();
                if let Some((_, why)) = DIFFERS.iter().find(|(n, _)| *n == name) {
                    assert_eq!(context["normalize"], false, "{name} is listed as differing: {why}");
                    continue;
                }
                let signed = parse(&file(case, "header-signed-request.txt"));
                let headers: Vec<(&str, &[u8])> =
                    signed.headers.iter().map(|(n, v)| (n.as_str(), v.as_slice())).collect();
                let request = SignedRequest {
                    method: &signed.method,
                    raw_path: &signed.path,
                    raw_query: &signed.query,
                    headers,
                    body: &signed.body,
                };
                let auth = parse_authorization(request.header("authorization").unwrap()).unwrap();
                let payload_hash = hex::encode(Sha256::digest(request.body));
                let canonical = canonical_request(&request, auth.signed_headers, &payload_hash);
                let date_text = request.header("x-amz-date").unwrap();
                let to_sign = string_to_sign(date_text, auth.date, auth.region, auth.service, &canonical);
                let mut key = serde_json::json!({
                    "accessKeyId": context["credentials"]["access_key_id"],
                    "secretAccessKey": context["credentials"]["secret_access_key"],
                    "accountId": "000000000000",
                });
                // A case signed with a session token is a temporary key's request.
                if let Some(token) = context["credentials"].get("token") {
                    key["sessionToken"] = token.clone();
                }
                let credentials =
                    Credentials::from_json(&serde_json::json!({"accessKeys": [key]}).to_string()).unwrap();
                let now = parse_amz_date(date_text).unwrap();
                let service = context["service"].as_str().unwrap();
                if canonical != file(case, "header-canonical-request.txt") {
                    failures.push(format!("{name}: canonical request\n{canonical}"));
                } else if to_sign != file(case, "header-string-to-sign.txt") {
                    failures.push(format!("{name}: string to sign\n{to_sign}"));
                } else if let Err(e) = verify_for(service, &credentials, &request, now) {
                    failures.push(format!("{name}: {}", e.message));
                }
                checked += 1;
            }
            assert!(failures.is_empty(), "{} of {checked} cases differ:\n{}", failures.len(), failures.join("\n\n"));
            assert_eq!(checked + DIFFERS.len(), 40);
        }
    }
}
