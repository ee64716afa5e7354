//! Fleet provisioning by claim (rules 12.3–12.4): the certificate ownership token that ties a
//! certificate made over MQTT (CreateKeysAndCertificate, CreateCertificateFromCsr) to the
//! RegisterThing that provisions it, the template and parameter rules of that RegisterThing, and
//! when a certificate nobody provisioned is swept.
//!
//! A token is opaque to the device and sealed as the list markers are: `base64(version ‖ expiry
//! ‖ certificateId ‖ tag)`, the tag an HMAC-SHA-256 under the caller's [`MarkerKey`] over the
//! account, region and partition too, so a token answers only for the certificate and account it
//! was made for, and only until it expires. That it is used once is the store's fact: the caller
//! keeps a row per token and deletes it in the transaction that provisions.

use base64_simd::STANDARD;
use core::fmt;
use hmac::Mac;

use crate::device::jitp::{CERTIFICATE_ID_PARAMETER, TemplateParameters};
use crate::error::{Error, ProvisioningError};
use crate::model::certificate_id::CertificateId;
use crate::model::enums::{CertificateStatus, TemplateType};
use crate::model::paging::MarkerKey;
use crate::model::scope::AccountScope;
use crate::model::template::TemplateName;
use crate::provisioning::template::{BoundTemplate, ProvisioningTemplate};
use crate::provisioning::templates::TemplateDescription;
use crate::x509::time::UnixTime;

/// How long an ownership token answers (AWS: one hour).
pub const OWNERSHIP_TOKEN_LIFETIME_SECS: i64 = 3600;
/// Longest token text accepted (a token this crate makes is 120 characters).
pub const MAX_OWNERSHIP_TOKEN_CHARS: usize = 1024;

const TOKEN_VERSION: u8 = 1;
const TAG_LEN: usize = 16;
const TOKEN_LABEL: &[u8] = b"iot-ca certificate ownership token";

/// Why an ownership token is refused (`InvalidCertificateOwnershipToken`, 400).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenProblem {
    /// The token is empty or absent (AWS: "Certificate ownership token cannot be empty.").
    Empty,
    /// Not a token this service made, or made for another account or region.
    Unknown,
    /// It expired.
    Expired {
        /// When.
        expired_at: UnixTime,
    },
    /// It was used already (or its certificate is gone).
    Used,
}

impl fmt::Display for TokenProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("Certificate ownership token cannot be empty."),
            Self::Unknown => f.write_str("the certificate ownership token is not one this account was given"),
            Self::Expired { expired_at } => write!(f, "the certificate ownership token expired at {expired_at}"),
            Self::Used => f.write_str("the certificate ownership token was used already"),
        }
    }
}

fn token_mac(key: &MarkerKey, scope: &AccountScope, payload: &[u8]) -> hmac::Hmac<sha2::Sha256> {
    let mut mac = key.mac();
    mac.update(TOKEN_LABEL);
    for part in [scope.partition.as_str(), scope.region.as_str(), scope.account.as_str()] {
        mac.update(&(part.len() as u64).to_be_bytes());
        mac.update(part.as_bytes());
    }
    mac.update(payload);
    mac
}

/// A certificate ownership token for `certificate_id` in `scope`, answering until `expires`.
#[must_use]
pub fn seal_ownership_token(
    key: &MarkerKey,
    scope: &AccountScope,
    certificate_id: &CertificateId,
    expires: UnixTime,
) -> String {
    let mut payload = Vec::with_capacity(1 + 8 + 64 + TAG_LEN);
    payload.push(TOKEN_VERSION);
    payload.extend_from_slice(&expires.as_secs().to_be_bytes());
    payload.extend_from_slice(certificate_id.as_str().as_bytes());
    let tag = token_mac(key, scope, &payload).finalize().into_bytes();
    payload.extend_from_slice(&tag[..TAG_LEN]);
    STANDARD.encode_to_string(payload)
}

/// Opens a token: the certificate it was made for and when it expires.
///
/// # Errors
/// [`ProvisioningError::OwnershipToken`] (`InvalidCertificateOwnershipToken`): empty, not sealed
/// by `key` for `scope`, or expired at `now`.
pub fn open_ownership_token(
    key: &MarkerKey,
    scope: &AccountScope,
    text: &str,
    now: UnixTime,
) -> Result<(CertificateId, UnixTime), Error> {
    let refuse = |problem| Error::from(ProvisioningError::OwnershipToken { problem });
    if text.is_empty() {
        return Err(refuse(TokenProblem::Empty));
    }
    if text.len() > MAX_OWNERSHIP_TOKEN_CHARS {
        return Err(refuse(TokenProblem::Unknown));
    }
    let bytes = STANDARD.decode_to_vec(text).map_err(|_| refuse(TokenProblem::Unknown))?;
    if bytes.len() != 1 + 8 + 64 + TAG_LEN || bytes.first() != Some(&TOKEN_VERSION) {
        return Err(refuse(TokenProblem::Unknown));
    }
    let (payload, tag) = bytes.split_at(1 + 8 + 64);
    token_mac(key, scope, payload).verify_truncated_left(tag).map_err(|_| refuse(TokenProblem::Unknown))?;
    let secs: [u8; 8] =
        payload.get(1..9).and_then(|s| s.try_into().ok()).ok_or_else(|| refuse(TokenProblem::Unknown))?;
    let expires = UnixTime::from_secs(i64::from_be_bytes(secs));
    let id = payload
        .get(9..)
        .and_then(|b| core::str::from_utf8(b).ok())
        .and_then(CertificateId::parse)
        .ok_or_else(|| refuse(TokenProblem::Unknown))?;
    if now > expires {
        return Err(refuse(TokenProblem::Expired { expired_at: expires }));
    }
    Ok((id, expires))
}

/// When a certificate made over MQTT at `now` stops being claimable.
///
/// # Errors
/// [`crate::IssueError::TimeOutOfRange`] past the end of time.
pub fn ownership_token_expiry(now: UnixTime) -> Result<UnixTime, Error> {
    now.checked_add(OWNERSHIP_TOKEN_LIFETIME_SECS)
        .ok_or_else(|| crate::x509::issue::IssueError::TimeOutOfRange { time: now }.into())
}

/// Whether a certificate made over MQTT, whose token expired at `token_expires`, goes at `now`:
/// still PENDING_ACTIVATION (nobody provisioned it) and the token expired (AWS deletes it).
#[must_use]
pub fn sweeps(status: CertificateStatus, token_expires: UnixTime, now: UnixTime) -> bool {
    status == CertificateStatus::PendingActivation && now > token_expires
}

/// The fleet provisioning template RegisterThing names, bound to the device's parameters (the
/// pre-provisioning hook's overrides winning) and the new certificate's id.
///
/// # Errors
/// The template does not exist (ResourceNotFoundException), is not FLEET_PROVISIONING or is
/// disabled (InvalidRequestException); the engine's errors.
pub fn bind_fleet_template(
    name: &TemplateName,
    stored: Option<(&TemplateDescription, &str)>,
    parameters: &TemplateParameters,
    overrides: &TemplateParameters,
    certificate_id: &CertificateId,
) -> Result<BoundTemplate, Error> {
    crate::provisioning::claim::check_claim_template(name, stored.map(|(t, _)| t.facts()))?;
    let (_, body) =
        stored.ok_or_else(|| crate::error::RegistryError::TemplateNotFound { template_name: name.to_string() })?;
    let mut bound = overrides.clone();
    for (k, v) in parameters.iter() {
        bound = bound.with(k, v);
    }
    let bound = bound.with(CERTIFICATE_ID_PARAMETER, certificate_id.as_str());
    ProvisioningTemplate::parse(body, Some(TemplateType::FleetProvisioning))?.bind(&bound)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::scope::{AccountId, Region};

    const NOW: UnixTime = UnixTime::from_secs(1_767_225_600); // 2026-01-01T00:00:00Z

    fn scope(account: &str) -> AccountScope {
        AccountScope::new(AccountId::parse(account).unwrap(), Region::parse("us-east-1").unwrap())
    }

    fn problem(r: Result<(CertificateId, UnixTime), Error>) -> TokenProblem {
        match r {
            Err(Error::Provisioning(ProvisioningError::OwnershipToken { problem })) => problem,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn tokens_answer_for_their_certificate_account_and_hour_only() {
        let key = MarkerKey::new([3; 32]);
        let id = CertificateId::of_der(b"device");
        let expires = ownership_token_expiry(NOW).unwrap();
        let token = seal_ownership_token(&key, &scope("123456789012"), &id, expires);
        assert_eq!(open_ownership_token(&key, &scope("123456789012"), &token, NOW), Ok((id.clone(), expires)));
        assert_eq!(problem(open_ownership_token(&key, &scope("210987654321"), &token, NOW)), TokenProblem::Unknown);
        assert_eq!(
            problem(open_ownership_token(&MarkerKey::new([4; 32]), &scope("123456789012"), &token, NOW)),
            TokenProblem::Unknown
        );
        let late = NOW.checked_add(3601).unwrap();
        assert_eq!(
            problem(open_ownership_token(&key, &scope("123456789012"), &token, late)),
            TokenProblem::Expired { expired_at: expires }
        );
        assert_eq!(problem(open_ownership_token(&key, &scope("123456789012"), "", NOW)), TokenProblem::Empty);
        assert_eq!(problem(open_ownership_token(&key, &scope("123456789012"), "AAAA", NOW)), TokenProblem::Unknown);
        let mut tampered = token.into_bytes();
        tampered[20] = if tampered[20] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(tampered).unwrap();
        assert_eq!(problem(open_ownership_token(&key, &scope("123456789012"), &tampered, NOW)), TokenProblem::Unknown);
        assert!(sweeps(CertificateStatus::PendingActivation, expires, late));
        assert!(!sweeps(CertificateStatus::Active, expires, late));
        assert!(!sweeps(CertificateStatus::PendingActivation, expires, NOW));
    }
}
