//! The proof of possession (rule 1.4): the verification certificate is signed by the CA's key
//! and names the account's registration code.

use core::str::FromStr;

use rand_core::CryptoRng;

use crate::ca::verified::VerifiedCa;
use crate::error::{Error, RegistrationCodeError, VerificationError};
use crate::model::registration_code::RegistrationCode;
use crate::x509::cert::ParsedCertificate;
use crate::x509::issue::IssueError;
use crate::x509::issue::{CertificateSigner, Issuance, Issuer, issue, serial_from};
use crate::x509::key::{PublicKey, verify_strong};
use crate::x509::time::UnixTime;

/// id-at-commonName (RFC 4519 §2.3).
const COMMON_NAME: const_oid::ObjectIdentifier = const_oid::db::rfc4519::CN;

/// Items 2–4 of rule 1.4 for a parsed certificate: issuer byte-equal to `ca_subject_der`, a
/// strong (non-SHA-1) signature by `ca_key` that fits the key, valid at `now`, in that order.
///
/// Works for any CA subject and key, so a conformance suite can check a child of a CA that
/// the CA rules themselves refuse.
///
/// # Errors
/// [`VerificationError`] for the first item that fails.
pub fn verify_possession(
    backend: crate::Backend,
    ca_subject_der: &[u8],
    ca_key: &PublicKey,
    verification: &ParsedCertificate,
    now: UnixTime,
) -> Result<(), VerificationError> {
    if verification.issuer_der() != ca_subject_der {
        return Err(VerificationError::IssuerMismatch);
    }
    let (alg, tbs, sig) = (verification.signature_algorithm_der(), verification.tbs_der(), verification.signature());
    verify_strong(backend, ca_key, alg, tbs, sig).map_err(VerificationError::Signature)?;
    verification.check_validity(now).map_err(VerificationError::Validity)
}

/// Item 5 of rule 1.4: exactly one commonName in the subject, equal byte for byte to `code`.
///
/// # Errors
/// [`RegistrationCodeError`] saying which (RegistrationCodeValidationException).
pub fn check_registration_code(verification: &ParsedCertificate, code: &RegistrationCode) -> Result<(), Error> {
    let values = verification.subject_attribute_values(COMMON_NAME.as_bytes());
    match values.as_slice() {
        [] => Err(RegistrationCodeError::CommonNameMissing.into()),
        [one] if *one == code.as_str().as_bytes() => Ok(()),
        [_] => Err(RegistrationCodeError::Mismatch.into()),
        more => Err(RegistrationCodeError::CommonNameMultiple { count: more.len() }.into()),
    }
}

impl VerifiedCa {
    /// The whole of rule 1.4 for a `verificationCertificate` field: parse (item 1), issuer,
    /// signature, validity (items 2–4), then the registration code (item 5). A forged
    /// certificate therefore never reports a mere code mismatch.
    ///
    /// # Errors
    /// [`Error::VerificationCertificate`] for items 1–4, [`Error::RegistrationCode`] for item 5.
    pub fn verify_possession(
        &self,
        verification_pem: &str,
        code: &RegistrationCode,
        now: UnixTime,
    ) -> Result<ParsedCertificate, Error> {
        let cert = ParsedCertificate::from_pem(verification_pem).map_err(VerificationError::from)?;
        verify_possession(self.backend(), self.certificate().subject_der(), self.public_key(), &cert, now)
            .map_err(Error::VerificationCertificate)?;
        check_registration_code(&cert, code)?;
        Ok(cert)
    }
}

/// What a verification certificate is made from: the CA whose key signs it, the key pair it
/// certifies (an SPKI), the account's registration code (its commonName) and its notAfter.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub struct VerificationCertificateParams<'a> {
    ca: &'a ParsedCertificate,
    subject_spki_der: &'a [u8],
    code: &'a RegistrationCode,
    not_after: UnixTime,
}

impl<'a> VerificationCertificateParams<'a> {
    /// A verification certificate for `code`, certifying `subject_spki_der`, issued by `ca`,
    /// valid until `not_after`.
    #[must_use]
    pub const fn new(
        ca: &'a ParsedCertificate,
        subject_spki_der: &'a [u8],
        code: &'a RegistrationCode,
        not_after: UnixTime,
    ) -> Self {
        Self { ca, subject_spki_der, code, not_after }
    }
}

/// Makes the verification certificate the AWS developer guide makes with three openssl
/// commands (the proof of possession of the README's rules table, 1.4): subject CN = the
/// registration code, issued and signed by the CA's key through `signer`, valid from `now`
/// to the params' notAfter. Without extensions, so v1, as the guide's.
///
/// # Errors
/// [`IssueError`] when `signer` is not the CA's key, a time cannot be issued, or signing fails.
pub fn create_verification_certificate<S, Sig, R>(
    params: &VerificationCertificateParams<'_>,
    signer: &S,
    rng: &mut R,
    now: UnixTime,
) -> Result<Vec<u8>, Error>
where
    S: CertificateSigner<Sig>,
    Sig: spki::SignatureBitStringEncoding,
    R: CryptoRng + ?Sized,
{
    let VerificationCertificateParams { ca, subject_spki_der, code, not_after } = *params;
    let subject = x509_cert::name::Name::from_str(&format!("CN={code}")).map_err(IssueError::encoding)?;
    let what = Issuance {
        issuer: Issuer::Certificate(ca),
        subject,
        subject_spki_der,
        serial: serial_from(rng),
        not_before: now,
        not_after,
        extensions: Vec::new(),
    };
    Ok(issue::<S, Sig, R>(what, signer, rng)?)
}
