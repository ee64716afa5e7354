//! The device certificates AWS IoT issues itself (rule 10.3): CreateKeysAndCertificate (a new
//! key pair and its certificate) and CreateCertificateFromCsr (a certificate for the key of a
//! caller's CSR), both signed by the account's device issuer, and what each stores. Fleet
//! provisioning issues the same certificates, PENDING_ACTIVATION until a template activates
//! them.

use std::str::FromStr;

use const_oid::db::rfc5912;
use rand_core::CryptoRng;
use x509_cert::ext::pkix::{BasicConstraints, KeyUsage, KeyUsages};
use x509_cert::name::Name;

use crate::device::certificate::{CertificateDescription, DeviceCertificate, Registered};
use crate::error::Error;
use crate::model::enums::{CertificateMode, CertificateStatus};
use crate::model::scope::AccountScope;
use crate::x509::backend::Backend;
use crate::x509::cert::ParsedCertificate;
use crate::x509::csr::VerifiedCsr;
use crate::x509::issue::{
    CertificateSigner, Issuance, IssueError, Issuer, KeyAlgorithm, KeyPair, extension, issue, serial_from,
};
use crate::x509::time::UnixTime;

/// The subject of a CreateKeysAndCertificate certificate, as AWS IoT writes it.
pub const KEYS_AND_CERTIFICATE_SUBJECT: &str = "CN=AWS IoT Certificate";
/// How far before `now` an issued certificate starts (clock-skew allowance, as claims).
pub const ISSUED_BACKDATE_SECS: i64 = 120;
/// When an issued certificate ends: 2049-12-31T23:59:59Z, as AWS IoT's own device certificates.
pub const ISSUED_NOT_AFTER: UnixTime = UnixTime::from_secs(2_524_607_999);

/// What an issued certificate is made with: the issuing CA (the account's device issuer), the
/// status it is stored with and the backend that makes and checks keys.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub struct IssueParams<'a> {
    /// The issuing CA's certificate; its key is the signer's.
    pub issuer: &'a ParsedCertificate,
    /// The stored status: ACTIVE or INACTIVE (`setAsActive`), PENDING_ACTIVATION (fleet
    /// provisioning).
    pub status: CertificateStatus,
    /// The backend for key generation and checks.
    pub backend: Backend,
}

impl<'a> IssueParams<'a> {
    /// A certificate issued by `issuer`, stored with `status`, on the preferred backend.
    #[must_use]
    pub fn new(issuer: &'a ParsedCertificate, status: CertificateStatus) -> Self {
        Self { issuer, status, backend: Backend::preferred() }
    }

    /// The same on `backend`.
    #[must_use]
    pub fn with_backend(mut self, backend: Backend) -> Self {
        self.backend = backend;
        self
    }
}

/// An issued certificate: what is stored (its description) and, for CreateKeysAndCertificate,
/// the key pair, which is handed to the caller once and never stored.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct IssuedCertificate {
    /// The certificate's description as the registry stores it.
    pub description: CertificateDescription,
    /// The new key pair (CreateKeysAndCertificate only).
    pub key_pair: Option<KeyPair>,
}

/// CreateKeysAndCertificate: a new RSA-2048 key pair (as AWS) and a certificate for it, subject
/// [`KEYS_AND_CERTIFICATE_SUBJECT`].
///
/// # Errors
/// [`IssueError`] (InternalFailureException): the signer is not the issuer's key, key
/// generation or signing failed.
pub fn create_keys_and_certificate<S, Sig, R>(
    params: &IssueParams<'_>,
    signer: &S,
    scope: &AccountScope,
    rng: &mut R,
    now: UnixTime,
) -> Result<IssuedCertificate, Error>
where
    S: CertificateSigner<Sig>,
    Sig: spki::SignatureBitStringEncoding,
    R: CryptoRng + ?Sized,
{
    let key_pair = KeyPair::generate(KeyAlgorithm::Rsa2048, params.backend, rng)?;
    let subject = Name::from_str(KEYS_AND_CERTIFICATE_SUBJECT).map_err(IssueError::encoding)?;
    let description = issue_device::<S, Sig, R>(params, subject, key_pair.spki_der(), signer, scope, rng, now)?;
    Ok(IssuedCertificate { description, key_pair: Some(key_pair) })
}

/// CreateCertificateFromCsr: a certificate for the key of a verified CSR, with the CSR's
/// subject (our rule). The same CSR again gives a distinct certificate (a new serial), as AWS's
/// does.
///
/// # Errors
/// [`IssueError`] (InternalFailureException): the subject does not decode as a Name, the signer
/// is not the issuer's key, or signing failed.
pub fn create_certificate_from_csr<S, Sig, R>(
    params: &IssueParams<'_>,
    csr: &VerifiedCsr,
    signer: &S,
    scope: &AccountScope,
    rng: &mut R,
    now: UnixTime,
) -> Result<IssuedCertificate, Error>
where
    S: CertificateSigner<Sig>,
    Sig: spki::SignatureBitStringEncoding,
    R: CryptoRng + ?Sized,
{
    use der::Decode;
    let request = csr.csr();
    let subject = Name::from_der(request.subject_der()).map_err(IssueError::encoding)?;
    let description = issue_device::<S, Sig, R>(params, subject, request.spki_der(), signer, scope, rng, now)?;
    Ok(IssuedCertificate { description, key_pair: None })
}

/// Issues a device certificate for `spki_der` with `subject` and stores it as a device
/// certificate without a CA (mode DEFAULT): serial 20 random bytes, valid from `now` − 120 s to
/// [`ISSUED_NOT_AFTER`], basicConstraints critical cA FALSE, keyUsage critical
/// digitalSignature, SKI, AKI = the issuer's key id.
pub(crate) fn issue_device<S, Sig, R>(
    params: &IssueParams<'_>,
    subject: Name,
    spki_der: &[u8],
    signer: &S,
    scope: &AccountScope,
    rng: &mut R,
    now: UnixTime,
) -> Result<CertificateDescription, Error>
where
    S: CertificateSigner<Sig>,
    Sig: spki::SignatureBitStringEncoding,
    R: CryptoRng + ?Sized,
{
    let not_before = now.checked_sub(ISSUED_BACKDATE_SECS).ok_or(IssueError::TimeOutOfRange { time: now })?;
    let extensions = vec![
        extension(rfc5912::ID_CE_BASIC_CONSTRAINTS, true, &BasicConstraints { ca: false, path_len_constraint: None })
            .map_err(IssueError::encoding)?,
        extension(rfc5912::ID_CE_KEY_USAGE, true, &KeyUsage(KeyUsages::DigitalSignature.into()))
            .map_err(IssueError::encoding)?,
    ];
    let what = Issuance {
        issuer: Issuer::Certificate(params.issuer),
        subject,
        subject_spki_der: spki_der,
        serial: serial_from(rng),
        not_before,
        not_after: ISSUED_NOT_AFTER.max(now),
        extensions,
    };
    let der = issue::<S, Sig, R>(what, signer, rng)?;
    // What was just issued meets the device rules; a failure here is the issuer's fault.
    let cert = ParsedCertificate::from_der(der).map_err(|_| IssueError::Encoding)?;
    let device = DeviceCertificate::check(cert, now).map_err(|_| IssueError::Encoding)?;
    let registered =
        Registered { ca_certificate_id: None, status: params.status, certificate_mode: CertificateMode::Default };
    Ok(device.record(registered, scope, rng, now))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::scope::{AccountId, Region};
    use crate::x509::self_signed::{CaCertificateParams, create_ca_certificate};

    const NOW: UnixTime = UnixTime::from_secs(1_767_225_600); // 2026-01-01T00:00:00Z

    #[test]
    fn keys_and_certificate_are_issued_as_aws_issues_them() {
        use p256::elliptic_curve::Generate;
        let mut rng = <chacha20::ChaCha20Rng as rand_core::SeedableRng>::seed_from_u64(5);
        let key = p256::ecdsa::SigningKey::generate_from_rng(&mut rng);
        let params = CaCertificateParams::new("CN=device issuer", UnixTime::from_secs(2_600_000_000));
        let ca = create_ca_certificate::<_, p256::ecdsa::DerSignature, _>(&params, &key, &mut rng, NOW).unwrap();
        let ca = ParsedCertificate::from_der(ca).unwrap();
        let scope = AccountScope::new(AccountId::parse("123456789012").unwrap(), Region::parse("us-east-1").unwrap());
        let issued = create_keys_and_certificate::<_, p256::ecdsa::DerSignature, _>(
            &IssueParams::new(&ca, CertificateStatus::Active),
            &key,
            &scope,
            &mut rng,
            NOW,
        )
        .unwrap();
        let d = &issued.description;
        assert_eq!(d.status, CertificateStatus::Active);
        assert_eq!(d.certificate_mode, CertificateMode::Default);
        assert_eq!(d.ca_certificate_id, None);
        assert_eq!(d.validity.not_before, UnixTime::from_secs(1_767_225_600 - 120));
        assert_eq!(d.validity.not_after, ISSUED_NOT_AFTER);
        assert_eq!(d.certificate_arn, format!("arn:aws:iot:us-east-1:123456789012:cert/{}", d.certificate_id));
        let cert = ParsedCertificate::from_pem(&d.certificate_pem).unwrap();
        assert_eq!(cert.issuer_der(), ca.subject_der());
        let key_pair = issued.key_pair.unwrap();
        assert_eq!(cert.spki_der(), key_pair.spki_der());
        assert!(key_pair.private_key_pem().starts_with("-----BEGIN RSA PRIVATE KEY-----"));
        let other = p256::ecdsa::SigningKey::generate_from_rng(&mut rng);
        let refused = create_keys_and_certificate::<_, p256::ecdsa::DerSignature, _>(
            &IssueParams::new(&ca, CertificateStatus::Active),
            &other,
            &scope,
            &mut rng,
            NOW,
        );
        assert!(matches!(refused, Err(Error::Issue(IssueError::SignerIsNotIssuer))));
    }
}
