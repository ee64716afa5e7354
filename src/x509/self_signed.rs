//! A self-signed CA certificate from the caller's key: what a demo, a test or a user trying
//! the registry out needs before they have a real CA. It passes every CA rule of the README's
//! rules table (1.3) with no finding.

use core::str::FromStr;

use const_oid::db::rfc5912;
use rand_core::CryptoRng;
use spki::EncodePublicKey;
use x509_cert::ext::pkix::{BasicConstraints, KeyUsage, KeyUsages};
use x509_cert::name::Name;

use crate::x509::issue::{CertificateSigner, Issuance, IssueError, Issuer, extension, issue, serial_from};
use crate::x509::time::UnixTime;

/// What a self-signed CA certificate is made from: its subject (RFC 4514, e.g.
/// `CN=Example Root,O=Example,C=US`) and its notAfter.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub struct CaCertificateParams<'a> {
    subject: &'a str,
    not_after: UnixTime,
}

impl<'a> CaCertificateParams<'a> {
    /// A root named `subject` (RFC 4514 string), valid until `not_after`.
    #[must_use]
    pub const fn new(subject: &'a str, not_after: UnixTime) -> Self {
        Self { subject, not_after }
    }
}

/// Makes a self-signed v3 CA certificate for `signer`'s key, valid from `now`: basicConstraints
/// critical cA TRUE, keyUsage critical keyCertSign and cRLSign, subject and authority key
/// identifiers, a random positive 20-octet serial. Returns its DER.
///
/// # Errors
/// [`IssueError`] when the subject is not an RFC 4514 name, a time cannot be issued, or
/// signing fails.
pub fn create_ca_certificate<S, Sig, R>(
    params: &CaCertificateParams<'_>,
    signer: &S,
    rng: &mut R,
    now: UnixTime,
) -> Result<Vec<u8>, IssueError>
where
    S: CertificateSigner<Sig>,
    Sig: spki::SignatureBitStringEncoding,
    R: CryptoRng + ?Sized,
{
    let subject = Name::from_str(params.subject).map_err(IssueError::encoding)?;
    let spki = signer.verifying_key().to_public_key_der().map_err(IssueError::encoding)?;
    let usages = KeyUsages::KeyCertSign | KeyUsages::CRLSign;
    let extensions = vec![
        extension(rfc5912::ID_CE_BASIC_CONSTRAINTS, true, &BasicConstraints { ca: true, path_len_constraint: None })
            .map_err(IssueError::encoding)?,
        extension(rfc5912::ID_CE_KEY_USAGE, true, &KeyUsage(usages)).map_err(IssueError::encoding)?,
    ];
    let what = Issuance {
        issuer: Issuer::SelfSigned,
        subject,
        subject_spki_der: spki.as_bytes(),
        serial: serial_from(rng),
        not_before: now,
        not_after: params.not_after,
        extensions,
    };
    issue::<S, Sig, R>(what, signer, rng)
}
