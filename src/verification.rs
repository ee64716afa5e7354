//! The proof of possession (SPEC §1.4): the verification certificate is signed by the CA's key
//! and names the account's registration code.

use core::str::FromStr;

use rand_core::CryptoRng;
use signature::{Keypair, RandomizedSigner};
use spki::{DynSignatureAlgorithmIdentifier, EncodePublicKey};

use crate::ca::VerifiedCa;
use crate::cert::ParsedCertificate;
use crate::error::{Error, IssueError, RegistrationCodeError, VerificationError};
use crate::issue::{Issuance, issue, serial_from};
use crate::key::{PublicKey, verify_strong};
use crate::pem;
use crate::registration_code::RegistrationCode;
use crate::time::UnixTime;

/// id-at-commonName (RFC 4519 §2.3).
const COMMON_NAME: const_oid::ObjectIdentifier = const_oid::db::rfc4519::CN;

/// Items 2–4 of SPEC §1.4 for a parsed certificate: issuer byte-equal to `ca_subject_der`, a
/// strong (non-SHA-1) signature by `ca_key` that fits the key, valid at `now`, in that order.
///
/// Works for any CA subject and key, so a conformance suite can check a child of a CA that
/// the CA rules themselves refuse.
///
/// # Errors
/// [`VerificationError`] for the first item that fails.
pub fn verify_possession(
    ca_subject_der: &[u8],
    ca_key: &PublicKey,
    verification: &ParsedCertificate,
    now: UnixTime,
) -> Result<(), VerificationError> {
    verify_possession_with(crate::Backend::preferred(), ca_subject_der, ca_key, verification, now)
}

pub(crate) fn verify_possession_with(
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

/// Item 5 of SPEC §1.4: exactly one commonName in the subject, equal byte for byte to `code`.
///
/// # Errors
/// [`RegistrationCodeError`] saying which (RegistrationCodeValidationException).
pub fn check_registration_code(verification: &ParsedCertificate, code: &RegistrationCode) -> Result<(), Error> {
    let values = verification
        .subject_attribute_values(COMMON_NAME.as_bytes())
        .map_err(|e| Error::VerificationCertificate(VerificationError::Parse(e)))?;
    match values.as_slice() {
        [] => Err(Error::RegistrationCode(RegistrationCodeError::CommonNameMissing)),
        [one] if *one == code.as_str().as_bytes() => Ok(()),
        [_] => Err(Error::RegistrationCode(RegistrationCodeError::Mismatch)),
        more => Err(Error::RegistrationCode(RegistrationCodeError::CommonNameMultiple { count: more.len() })),
    }
}

impl VerifiedCa {
    /// The whole of SPEC §1.4 for a `verificationCertificate` field: parse (item 1), issuer,
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
        let der = pem::decode_certificate(verification_pem)
            .map_err(|e| Error::VerificationCertificate(VerificationError::Pem(e)))?;
        let cert = ParsedCertificate::from_der(der)
            .map_err(|e| Error::VerificationCertificate(VerificationError::Parse(e)))?;
        verify_possession_with(self.backend(), self.certificate().subject_der(), self.public_key(), &cert, now)
            .map_err(Error::VerificationCertificate)?;
        check_registration_code(&cert, code)?;
        Ok(cert)
    }
}

/// Makes the verification certificate of SPEC §1.4 (what the AWS developer guide makes with
/// three openssl commands): subject CN = `code`, issuer = the CA's subject, the public key
/// `subject_spki_der` (e.g. a fresh [`crate::KeyPair`]), valid from `not_before` to
/// `not_after`, signed by `signer`, the CA's key (any RustCrypto signer; see
/// [`crate::create_provisioning_claim`] for the signature types).
///
/// # Errors
/// [`IssueError`] when `signer` is not the CA's key or signing fails.
pub fn create_verification_certificate<S, Sig, R>(
    ca: &ParsedCertificate,
    signer: &S,
    subject_spki_der: &[u8],
    code: &RegistrationCode,
    not_before: UnixTime,
    not_after: UnixTime,
    rng: &mut R,
) -> Result<Vec<u8>, Error>
where
    S: Keypair + DynSignatureAlgorithmIdentifier + RandomizedSigner<Sig>,
    S::VerifyingKey: EncodePublicKey,
    Sig: spki::SignatureBitStringEncoding,
    R: CryptoRng + ?Sized,
{
    let subject =
        x509_cert::name::Name::from_str(&format!("CN={code}")).map_err(|_| Error::Issue(IssueError::Encoding))?;
    let what = Issuance {
        issuer: ca,
        subject,
        subject_spki_der,
        serial: serial_from(rng),
        not_before,
        not_after,
        extensions: Vec::new(),
    };
    issue::<S, Sig, R>(what, signer, rng)
}
