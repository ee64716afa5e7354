//! CreateProvisioningClaim (SPEC §3): a short-lived claim certificate and its key pair, signed
//! by the caller's issuing CA.

use core::str::FromStr;

use const_oid::db::rfc5912;
use rand_core::CryptoRng;
use signature::{Keypair, RandomizedSigner};
use spki::{DynSignatureAlgorithmIdentifier, EncodePublicKey};
use x509_cert::ext::pkix::{BasicConstraints, KeyUsage, KeyUsages};
use x509_cert::name::Name;

use crate::cert::ParsedCertificate;
use crate::certificate_id::{CertificateId, hex_lower};
use crate::error::{Error, IssueError, RegistryError};
use crate::issue::{Issuance, KeyAlgorithm, KeyPair, extension, issue, serial_from};
use crate::pem;
use crate::template::{TemplateFacts, TemplateName, TemplateType};
use crate::time::UnixTime;

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
    let template =
        template.ok_or_else(|| Error::Registry(RegistryError::TemplateNotFound { template_name: template_name() }))?;
    if template.template_type != TemplateType::FleetProvisioning {
        return Err(Error::Registry(RegistryError::TemplateWrongType {
            template_name: template_name(),
            found: template.template_type.as_str(),
            needed: TemplateType::FleetProvisioning.as_str(),
        }));
    }
    if !template.enabled {
        return Err(Error::Registry(RegistryError::TemplateDisabled { template_name: template_name() }));
    }
    Ok(())
}

/// Creates a provisioning claim for the template `name` (whose facts the caller looked up):
/// a fresh key pair of `key_algorithm` and an X.509 v3 certificate signed by `signer`, the key
/// of the issuing CA `issuer`. Subject CN is 64 random hex characters; serial is 20 random
/// bytes, positive; valid from `now` − 120 s to `now` + 300 s; basicConstraints critical cA
/// FALSE; keyUsage critical digitalSignature; SKI; AKI = the issuer's key id.
///
/// `signer` is any RustCrypto signer (`rsa::pkcs1v15::SigningKey<Sha256>` with
/// `Sig = rsa::pkcs1v15::Signature`, `p256::ecdsa::SigningKey` with `Sig = p256::ecdsa::DerSignature`,
/// or an HSM/KMS key implementing the same traits). It signs with `rng` (RSA blinding).
///
/// # Errors
/// The template errors of [`check_claim_template`]; [`IssueError`] when the signer is not the
/// issuer's key or signing fails (InternalFailureException).
pub fn create_provisioning_claim<S, Sig, R>(
    name: &TemplateName,
    template: Option<TemplateFacts>,
    issuer: &ParsedCertificate,
    signer: &S,
    key_algorithm: KeyAlgorithm,
    rng: &mut R,
    now: UnixTime,
) -> Result<ProvisioningClaim, Error>
where
    S: Keypair + DynSignatureAlgorithmIdentifier + RandomizedSigner<Sig>,
    S::VerifyingKey: EncodePublicKey,
    Sig: spki::SignatureBitStringEncoding,
    R: CryptoRng + ?Sized,
{
    check_claim_template(name, template)?;
    let encoding = |_| Error::Issue(IssueError::Encoding);
    let key_pair = KeyPair::generate(key_algorithm, rng)?;
    let mut cn = [0u8; 32];
    rng.fill_bytes(&mut cn);
    let subject = Name::from_str(&format!("CN={}", hex_lower(&cn))).map_err(encoding)?;
    let serial = serial_from(rng);
    let not_before = now.checked_sub(CLAIM_BACKDATE_SECS).ok_or(IssueError::TimeOutOfRange { time: now })?;
    let not_after = now.checked_add(CLAIM_LIFETIME_SECS).ok_or(IssueError::TimeOutOfRange { time: now })?;
    let extensions = vec![
        extension(rfc5912::ID_CE_BASIC_CONSTRAINTS, true, &BasicConstraints { ca: false, path_len_constraint: None })
            .map_err(encoding)?,
        extension(rfc5912::ID_CE_KEY_USAGE, true, &KeyUsage(KeyUsages::DigitalSignature.into())).map_err(encoding)?,
    ];
    let what =
        Issuance { issuer, subject, subject_spki_der: key_pair.spki_der(), serial, not_before, not_after, extensions };
    let der = issue::<S, Sig, R>(what, signer, rng)?;
    Ok(ProvisioningClaim {
        certificate_id: CertificateId::of_der(&der),
        certificate_pem: pem::encode_certificate(&der),
        certificate_der: der,
        key_pair,
        expiration: not_after,
    })
}
