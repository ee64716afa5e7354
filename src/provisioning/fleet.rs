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

/// A provisioning claim the account issued (CreateProvisioningClaim), as the caller's store keeps
/// it: its certificate connects without being registered, until it expires, and may run its
/// own template only.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClaimRecord {
    /// The template the claim was issued for.
    pub template_name: TemplateName,
    /// The claim certificate's notAfter.
    pub expiration: UnixTime,
}

impl ClaimRecord {
    /// A claim for `template_name`, expiring at `expiration`.
    #[must_use]
    pub fn new(template_name: TemplateName, expiration: UnixTime) -> Self {
        Self { template_name, expiration }
    }

    /// Whether the claim still answers at `now` (its notAfter included).
    #[must_use]
    pub fn is_live(&self, now: UnixTime) -> bool {
        now <= self.expiration
    }
}

/// Whether a fleet provisioning request may run for its connection: one made with a claim's
/// certificate only while the claim is live, and RegisterThing only of the claim's template
/// (AWS: an expired claim cannot connect, and a claim's policy allows its template's topics
/// only; **our rule** that this holds without a policy). A connection made with a registered
/// certificate (`claim` is `None`) may run any, as the claim policy it would have on AWS is
/// not evaluated here.
///
/// # Errors
/// [`ProvisioningError::ClaimExpired`], [`ProvisioningError::ClaimTemplate`] (AccessDenied).
pub fn check_fleet_caller(
    claim: Option<&ClaimRecord>,
    template: Option<&TemplateName>,
    now: UnixTime,
) -> Result<(), Error> {
    let Some(claim) = claim else { return Ok(()) };
    if !claim.is_live(now) {
        return Err(ProvisioningError::ClaimExpired { expired_at: claim.expiration }.into());
    }
    match template {
        Some(t) if *t != claim.template_name => Err(ProvisioningError::ClaimTemplate {
            claim_template: claim.template_name.to_string(),
            template_name: t.to_string(),
        }
        .into()),
        _ => Ok(()),
    }
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
    fn a_claim_runs_its_own_template_while_it_lives() {
        let name = TemplateName::parse("fleet").unwrap();
        let claim = ClaimRecord::new(name.clone(), NOW);
        assert_eq!(check_fleet_caller(Some(&claim), Some(&name), NOW), Ok(()));
        assert_eq!(check_fleet_caller(Some(&claim), None, NOW), Ok(()));
        assert_eq!(check_fleet_caller(None, Some(&TemplateName::parse("other").unwrap()), NOW), Ok(()));
        let other = check_fleet_caller(Some(&claim), Some(&TemplateName::parse("other").unwrap()), NOW).unwrap_err();
        assert_eq!(
            other,
            Error::Provisioning(ProvisioningError::ClaimTemplate {
                claim_template: "fleet".into(),
                template_name: "other".into()
            })
        );
        assert_eq!((other.rejection().status_code, other.rejection().error_code), (403, "AccessDenied"));
        let late = check_fleet_caller(Some(&claim), None, NOW.checked_add(1).unwrap()).unwrap_err();
        assert_eq!(late, Error::Provisioning(ProvisioningError::ClaimExpired { expired_at: NOW }));
        assert_eq!(late.rejection().error_code, "AccessDenied");
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
