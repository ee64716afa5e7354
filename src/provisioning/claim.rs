//! CreateProvisioningClaim (rule 3): a short-lived claim certificate and its key pair, signed
//! by the caller's issuing CA.

use core::str::FromStr;

use const_oid::db::rfc5912;
use rand_core::CryptoRng;
use x509_cert::ext::pkix::{BasicConstraints, KeyUsage, KeyUsages};
use x509_cert::name::Name;

use crate::error::{Error, RegistryError};
use crate::model::certificate_id::{CertificateId, hex_lower};
use crate::model::enums::TemplateType;
use crate::model::template::{TemplateFacts, TemplateName};
use crate::x509::backend::Backend;
use crate::x509::cert::ParsedCertificate;
use crate::x509::issue::IssueError;
use crate::x509::issue::{CertificateSigner, Issuance, Issuer, KeyAlgorithm, KeyPair, extension, issue, serial_from};
use crate::x509::pem;
use crate::x509::time::UnixTime;

/// notBefore is this many seconds before `now`: a clock-skew allowance, as AWS's claims show.
pub const CLAIM_BACKDATE_SECS: i64 = 120;
/// A claim is valid this many seconds after `now` (AWS: five minutes).
pub const CLAIM_LIFETIME_SECS: i64 = 300;

/// A provisioning claim: the CreateProvisioningClaim response. Not an account certificate:
/// nothing about it is to be stored as one.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProvisioningClaim {
    /// `certificateId`: SHA-256 of the claim's DER.
    pub certificate_id: CertificateId,
    /// `certificatePem`.
    pub certificate_pem: String,
    /// The claim's DER.
    pub certificate_der: Vec<u8>,
    /// `keyPair` (the private key is zeroized on drop and redacted in `Debug`).
    pub key_pair: KeyPair,
    /// `expiration`: the claim's notAfter.
    pub expiration: UnixTime,
}

/// Checks the template facts a claim needs: present, FLEET_PROVISIONING, enabled.
///
/// # Errors
/// [`RegistryError::TemplateNotFound`] (404), [`RegistryError::TemplateWrongType`] or
/// [`RegistryError::TemplateDisabled`] (400).
pub fn check_claim_template(name: &TemplateName, template: Option<TemplateFacts>) -> Result<(), Error> {
    let template_name = || name.as_str().to_owned();
    let template = template.ok_or_else(|| RegistryError::TemplateNotFound { template_name: template_name() })?;
    if template.template_type != TemplateType::FleetProvisioning {
        return Err(RegistryError::TemplateWrongType {
            template_name: template_name(),
            found: template.template_type.as_str(),
            needed: TemplateType::FleetProvisioning.as_str(),
        }
        .into());
    }
    if !template.enabled {
        return Err(RegistryError::TemplateDisabled { template_name: template_name() }.into());
    }
    Ok(())
}

/// What a provisioning claim is made from: the template it is for (and what the caller's store
/// knows of it), the issuing CA certificate, and the key pair to make (RSA-2048 by default, as
/// AWS).
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub struct ClaimParams<'a> {
    template_name: &'a TemplateName,
    template: Option<TemplateFacts>,
    issuer: &'a ParsedCertificate,
    key_algorithm: KeyAlgorithm,
    backend: Backend,
}

impl<'a> ClaimParams<'a> {
    /// A claim for `template_name` (`template`: what the store holds under that name, if
    /// anything), issued by `issuer`, with an RSA-2048 key pair.
    #[must_use]
    pub const fn new(
        template_name: &'a TemplateName,
        template: Option<TemplateFacts>,
        issuer: &'a ParsedCertificate,
    ) -> Self {
        Self { template_name, template, issuer, key_algorithm: KeyAlgorithm::Rsa2048, backend: Backend::preferred() }
    }

    /// The same claim with its key pair made on `backend` (default: [`Backend::preferred`]).
    /// The same RNG gives the same key pair on either backend.
    #[must_use]
    pub const fn with_backend(mut self, backend: Backend) -> Self {
        self.backend = backend;
        self
    }

    /// The same claim with a key pair of `key_algorithm`.
    #[must_use]
    pub const fn with_key_algorithm(mut self, key_algorithm: KeyAlgorithm) -> Self {
        self.key_algorithm = key_algorithm;
        self
    }
}

/// Creates a provisioning claim: a fresh key pair and an X.509 v3 certificate signed by
/// `signer`, the key of the issuing CA. Subject CN is 64 random hex characters; serial is 20
/// random bytes, positive; valid from `now` − 120 s to `now` + 300 s; basicConstraints critical
/// cA FALSE; keyUsage critical digitalSignature; SKI; AKI = the issuer's key id.
///
/// # Errors
/// The template errors of [`check_claim_template`]; [`IssueError`] when the signer is not the
/// issuer's key, `now` is too close to 1970 or 9999, or signing fails.
pub fn create_provisioning_claim<S, Sig, R>(
    params: &ClaimParams<'_>,
    signer: &S,
    rng: &mut R,
    now: UnixTime,
) -> Result<ProvisioningClaim, Error>
where
    S: CertificateSigner<Sig>,
    Sig: spki::SignatureBitStringEncoding,
    R: CryptoRng + ?Sized,
{
    let ClaimParams { template_name: name, template, issuer, key_algorithm, backend } = *params;
    check_claim_template(name, template)?;
    let key_pair = KeyPair::generate(key_algorithm, backend, rng)?;
    let mut cn = [0u8; 32];
    rng.fill_bytes(&mut cn);
    let subject = Name::from_str(&format!("CN={}", hex_lower(&cn))).map_err(IssueError::encoding)?;
    let serial = serial_from(rng);
    let not_before = now.checked_sub(CLAIM_BACKDATE_SECS).ok_or(IssueError::TimeOutOfRange { time: now })?;
    let not_after = now.checked_add(CLAIM_LIFETIME_SECS).ok_or(IssueError::TimeOutOfRange { time: now })?;
    let extensions = vec![
        extension(rfc5912::ID_CE_BASIC_CONSTRAINTS, true, &BasicConstraints { ca: false, path_len_constraint: None })
            .map_err(IssueError::encoding)?,
        extension(rfc5912::ID_CE_KEY_USAGE, true, &KeyUsage(KeyUsages::DigitalSignature.into()))
            .map_err(IssueError::encoding)?,
    ];
    let what = Issuance {
        issuer: Issuer::Certificate(issuer),
        subject,
        subject_spki_der: key_pair.spki_der(),
        serial,
        not_before,
        not_after,
        extensions,
    };
    let der = issue::<S, Sig, R>(what, signer, rng)?;
    Ok(ProvisioningClaim {
        certificate_id: CertificateId::of_der(&der),
        certificate_pem: pem::encode_certificate(&der),
        certificate_der: der,
        key_pair,
        expiration: not_after,
    })
}
