//! Issuing certificates: key pairs from the caller's RNG, and a certificate signed through RustCrypto's signature traits, so the
//! issuing key may live in an HSM or KMS.

use core::fmt;

use der::asn1::OctetString;
use der::{Decode, Encode};
use rand_core::CryptoRng;
use sha1::Digest;
use signature::{Keypair, RandomizedSigner};
use spki::{DynSignatureAlgorithmIdentifier, EncodePublicKey, SubjectPublicKeyInfoOwned, SubjectPublicKeyInfoRef};
use x509_cert::builder::profile::BuilderProfile;
use x509_cert::builder::{Builder, CertificateBuilder};
use x509_cert::ext::Extension;
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::{Time, Validity};
use zeroize::Zeroizing;

use crate::x509::backend::Backend;
use crate::x509::cert::ParsedCertificate;
use crate::x509::time::UnixTime;

/// A key that signs certificates: any RustCrypto signer whose verifying key encodes as an SPKI
/// and that names its signature algorithm — `rsa::pkcs1v15::SigningKey<Sha256>` with
/// `Sig = rsa::pkcs1v15::Signature`, `p256::ecdsa::SigningKey` with
/// `Sig = p256::ecdsa::DerSignature`, or an HSM/KMS key implementing the same traits. Signing
/// takes the caller's RNG (RSA blinding). Implemented for every such type; nothing to write.
pub trait CertificateSigner<Sig>:
    Keypair<VerifyingKey: EncodePublicKey> + DynSignatureAlgorithmIdentifier + RandomizedSigner<Sig>
{
}

impl<S, Sig> CertificateSigner<Sig> for S where
    S: Keypair<VerifyingKey: EncodePublicKey> + DynSignatureAlgorithmIdentifier + RandomizedSigner<Sig>
{
}

/// The kind of key pair a new certificate is made for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyAlgorithm {
    /// RSA-2048.
    #[default]
    Rsa2048,
    /// ECDSA P-256.
    P256,
}

impl KeyAlgorithm {
    /// The CLI spelling (`rsa2048`, `p256`).
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Rsa2048 => "rsa2048",
            Self::P256 => "p256",
        }
    }
}

/// A fresh key pair: `PublicKey` as SPKI PEM, `PrivateKey` as PKCS#1
/// (`RSA PRIVATE KEY`) or SEC1 (`EC PRIVATE KEY`) PEM. The private key is zeroized on drop
/// and never shown by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct KeyPair {
    spki_der: Vec<u8>,
    public_key_pem: String,
    private_key_pem: Zeroizing<String>,
}

impl fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyPair")
            .field("public_key_pem", &self.public_key_pem)
            .field("private_key_pem", &"<redacted>")
            .finish()
    }
}

impl KeyPair {
    /// Generates a key pair from the caller's RNG. Both backends draw the same bytes from
    /// `rng` and make the same key pair from them; the backend only does the arithmetic.
    ///
    /// * P-256: the private scalar is drawn from `rng` (rejection sampling into 1..n), then the
    ///   public point is computed once, by aws-lc-rs (about 8× faster than the p256 crate here)
    ///   or by RustCrypto, and both PEMs are encoded from those two values.
    /// * RSA-2048: RustCrypto's `rsa` on either backend. aws-lc-rs generates RSA keys only
    ///   from its own RNG, which would break the Sans-IO contract (and seeded, repeatable runs);
    ///   it is not faster at it either.
    ///
    /// # Errors
    /// [`IssueError::KeyGeneration`] or [`IssueError::Encoding`].
    pub fn generate<R: CryptoRng + ?Sized>(
        algorithm: KeyAlgorithm,
        backend: Backend,
        rng: &mut R,
    ) -> Result<Self, IssueError> {
        let (spki_der, private_der, label) = match algorithm {
            KeyAlgorithm::Rsa2048 => {
                use rsa::pkcs1::EncodeRsaPrivateKey;
                let key = rsa::PrivateKey::new(rng, 2048).map_err(|_| IssueError::KeyGeneration)?;
                let spki = key.to_public_key().to_public_key_der().map_err(IssueError::encoding)?;
                let private = key.to_pkcs1_der().map_err(IssueError::encoding)?;
                (spki.into_vec(), Zeroizing::new(private.as_bytes().to_vec()), "RSA PRIVATE KEY")
            }
            KeyAlgorithm::P256 => {
                use p256::elliptic_curve::Generate;
                let scalar = p256::NonZeroScalar::generate_from_rng(rng);
                let secret = Zeroizing::new(<[u8; 32]>::from(p256::elliptic_curve::PrimeField::to_repr(&*scalar)));
                let point = p256_public_point(backend, &scalar)?;
                let public = p256::PublicKey::from_sec1_bytes(&point).map_err(|_| IssueError::KeyGeneration)?;
                let spki = public.to_public_key_der().map_err(IssueError::encoding)?;
                let private = sec1::EcPrivateKey {
                    private_key: secret.as_slice(),
                    parameters: Some(sec1::EcParameters::NamedCurve(const_oid::db::rfc5912::SECP_256_R_1)),
                    public_key: Some(&point),
                };
                let private = Zeroizing::new(private.to_der().map_err(IssueError::encoding)?);
                (spki.into_vec(), private, "EC PRIVATE KEY")
            }
        };
        let pem = |label, der: &[u8]| {
            pem_rfc7468::encode_string(label, pem_rfc7468::LineEnding::LF, der).map_err(IssueError::encoding)
        };
        Ok(Self {
            public_key_pem: pem("PUBLIC KEY", &spki_der)?,
            private_key_pem: Zeroizing::new(pem(label, &private_der)?),
            spki_der,
        })
    }

    /// The public key, SubjectPublicKeyInfo DER.
    #[must_use]
    pub fn spki_der(&self) -> &[u8] {
        &self.spki_der
    }

    /// `keyPair.PublicKey`: `-----BEGIN PUBLIC KEY-----`.
    #[must_use]
    pub fn public_key_pem(&self) -> &str {
        &self.public_key_pem
    }

    /// `keyPair.PrivateKey`: `-----BEGIN RSA PRIVATE KEY-----` or `-----BEGIN EC PRIVATE KEY-----`.
    #[must_use]
    pub fn private_key_pem(&self) -> &str {
        &self.private_key_pem
    }
}

/// The uncompressed SEC1 point of the P-256 key whose private scalar is `scalar`.
fn p256_public_point(backend: Backend, scalar: &p256::NonZeroScalar) -> Result<Vec<u8>, IssueError> {
    match backend {
        // The ECDH type is aws-lc-rs's way in for a raw P-256 scalar; the point is the same
        // whatever the key is later used for.
        #[cfg(feature = "aws-lc-rs")]
        Backend::AwsLcRs => {
            use aws_lc_rs::agreement::{ECDH_P256, PrivateKey};
            let secret = Zeroizing::new(<[u8; 32]>::from(p256::elliptic_curve::PrimeField::to_repr(&**scalar)));
            let key =
                PrivateKey::from_private_key(&ECDH_P256, secret.as_slice()).map_err(|_| IssueError::KeyGeneration)?;
            let public = key.compute_public_key().map_err(|_| IssueError::KeyGeneration)?;
            Ok(public.as_ref().to_vec())
        }
        Backend::RustCrypto => {
            let public = p256::PublicKey::from_secret_scalar(scalar);
            Ok(p256::elliptic_curve::sec1::ToSec1Point::to_sec1_point(&public, false).as_bytes().to_vec())
        }
    }
}

/// SHA-1 of the subjectPublicKey BIT STRING (RFC 5280 §4.2.1.2, method 1).
fn key_id(spki: SubjectPublicKeyInfoRef<'_>) -> Vec<u8> {
    sha1::Sha1::digest(spki.subject_public_key.raw_bytes()).to_vec()
}

/// The issuing CA's key id: its subjectKeyIdentifier when it has one, else computed.
fn issuer_key_id(issuer: &ParsedCertificate) -> Result<Vec<u8>, IssueError> {
    let ski_oid = const_oid::db::rfc5912::ID_CE_SUBJECT_KEY_IDENTIFIER;
    if let Some(ext) = issuer.extensions().iter().find(|e| issuer.bytes(&e.oid) == ski_oid.as_bytes()) {
        let ski = OctetString::from_der(issuer.bytes(&ext.value)).map_err(|_| IssueError::IssuerCertificate)?;
        return Ok(ski.as_bytes().to_vec());
    }
    let spki = SubjectPublicKeyInfoRef::from_der(issuer.spki_der()).map_err(|_| IssueError::IssuerCertificate)?;
    Ok(key_id(spki))
}

/// The extensions a certificate carries, decided by the caller; SKI and AKI are added here.
#[derive(Clone, Debug)]
pub(crate) struct Profile {
    issuer: Name,
    subject: Name,
    extensions: Vec<Extension>,
    authority_key_id: Vec<u8>,
}

impl BuilderProfile for Profile {
    fn get_issuer(&self, _subject: &Name) -> Name {
        self.issuer.clone()
    }

    fn get_subject(&self) -> Name {
        self.subject.clone()
    }

    fn build_extensions(
        &self,
        spk: SubjectPublicKeyInfoRef<'_>,
        _issuer_spk: SubjectPublicKeyInfoRef<'_>,
        _tbs: &x509_cert::TbsCertificate,
    ) -> x509_cert::builder::Result<Vec<Extension>> {
        let mut out = self.extensions.clone();
        out.push(extension(
            const_oid::db::rfc5912::ID_CE_SUBJECT_KEY_IDENTIFIER,
            false,
            &OctetString::new(key_id(spk))?,
        )?);
        let aki = x509_cert::ext::pkix::AuthorityKeyIdentifier {
            key_identifier: Some(OctetString::new(self.authority_key_id.clone())?),
            authority_cert_issuer: None,
            authority_cert_serial_number: None,
        };
        out.push(extension(const_oid::db::rfc5912::ID_CE_AUTHORITY_KEY_IDENTIFIER, false, &aki)?);
        Ok(out)
    }
}

/// An extension whose value is `value`'s DER.
pub(crate) fn extension(
    oid: const_oid::ObjectIdentifier,
    critical: bool,
    value: &impl Encode,
) -> der::Result<Extension> {
    Ok(Extension { extn_id: oid, critical, extn_value: OctetString::new(value.to_der()?)? })
}

/// Who signs: the CA certificate whose key signs, or the subject itself (a new root).
pub(crate) enum Issuer<'a> {
    Certificate(&'a ParsedCertificate),
    SelfSigned,
}

/// What to put in a certificate issued by `issuer`.
pub(crate) struct Issuance<'a> {
    pub issuer: Issuer<'a>,
    pub subject: Name,
    pub subject_spki_der: &'a [u8],
    pub serial: [u8; 20],
    pub not_before: UnixTime,
    pub not_after: UnixTime,
    pub extensions: Vec<Extension>,
}

/// `t` as RFC 5280 §4.1.2.5 writes it: UTCTime through 2049, GeneralizedTime after. `der`
/// encodes 1970 onwards only, so an earlier time cannot be issued.
fn time(t: UnixTime) -> Result<Time, IssueError> {
    let out_of_range = IssueError::TimeOutOfRange { time: t };
    let c = t.civil();
    let year = u16::try_from(c.year).map_err(|_| out_of_range.clone())?;
    let dt = der::DateTime::new(year, c.month, c.day, c.hour, c.minute, c.second).map_err(|_| out_of_range.clone())?;
    if year < 2050 {
        der::asn1::UtcTime::from_date_time(dt).map(Time::UtcTime).map_err(|_| out_of_range)
    } else {
        Ok(Time::GeneralTime(der::asn1::GeneralizedTime::from_date_time(dt)))
    }
}

/// A positive 20-octet serial from 20 random bytes: the top bit is cleared (so DER needs no
/// sign octet, keeping it within RFC 5280's 20 octets) and the next one set (so no octet is
/// dropped): 158 random bits.
pub(crate) fn serial_from<R: CryptoRng + ?Sized>(rng: &mut R) -> [u8; 20] {
    let mut serial = [0u8; 20];
    rng.fill_bytes(&mut serial);
    serial[0] = (serial[0] & 0x7f) | 0x40;
    serial
}

/// Builds and signs the certificate, then checks the signer's key is the issuer's.
pub(crate) fn issue<S, Sig, R>(what: Issuance<'_>, signer: &S, rng: &mut R) -> Result<Vec<u8>, IssueError>
where
    S: CertificateSigner<Sig>,
    Sig: spki::SignatureBitStringEncoding,
    R: CryptoRng + ?Sized,
{
    let signer_spki = signer.verifying_key().to_public_key_der().map_err(IssueError::encoding)?;
    let (issuer_spki, issuer_name, authority_key_id) = match what.issuer {
        Issuer::Certificate(issuer) => (
            issuer.spki_der(),
            Name::from_der(issuer.subject_der()).map_err(|_| IssueError::IssuerCertificate)?,
            issuer_key_id(issuer)?,
        ),
        Issuer::SelfSigned => {
            let own = SubjectPublicKeyInfoRef::from_der(what.subject_spki_der).map_err(IssueError::encoding)?;
            (what.subject_spki_der, what.subject.clone(), key_id(own))
        }
    };
    if signer_spki.as_bytes() != issuer_spki {
        return Err(IssueError::SignerIsNotIssuer);
    }
    let profile = Profile { issuer: issuer_name, subject: what.subject, extensions: what.extensions, authority_key_id };
    let spki = SubjectPublicKeyInfoOwned::from_der(what.subject_spki_der).map_err(IssueError::encoding)?;
    let serial = SerialNumber::new(&what.serial).map_err(IssueError::encoding)?;
    let validity = Validity::new(time(what.not_before)?, time(what.not_after)?);
    let builder = CertificateBuilder::new(profile, serial, validity, spki).map_err(IssueError::encoding)?;
    let cert = builder.build_with_rng::<S, Sig, R>(signer, rng).map_err(|_| IssueError::Signing)?;
    cert.to_der().map_err(IssueError::encoding)
}

/// Issuing a certificate failed. These are the service's own faults, not the caller's.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum IssueError {
    /// The RNG could not make a key pair.
    KeyGeneration,
    /// The signer's public key is not the issuing certificate's.
    SignerIsNotIssuer,
    /// The issuing certificate's subject or key id cannot be read.
    IssuerCertificate,
    /// The signer failed.
    Signing,
    /// A value could not be DER- or PEM-encoded.
    Encoding,
    /// A validity time the certificate would state lies outside 1970..=9999, the years the
    /// encoder can write.
    TimeOutOfRange {
        /// The time.
        time: UnixTime,
    },
}

impl fmt::Display for IssueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::KeyGeneration => f.write_str("key pair generation failed"),
            Self::SignerIsNotIssuer => f.write_str("the signing key is not the issuing certificate's key"),
            Self::IssuerCertificate => {
                f.write_str("the issuing certificate's subject or key identifier cannot be read")
            }
            Self::Signing => f.write_str("the signer failed"),
            Self::Encoding => f.write_str("a certificate or key could not be encoded"),
            Self::TimeOutOfRange { time } => {
                write!(f, "the validity time {time} is outside the years 1970 to 9999 that can be issued")
            }
        }
    }
}

impl IssueError {
    /// The one funnel for a foreign encoder's error (`der`, `spki`, `pkcs8`, PEM): what went
    /// wrong inside it is nothing a caller could act on, so it becomes [`IssueError::Encoding`].
    pub(crate) fn encoding<E>(_: E) -> Self {
        Self::Encoding
    }
}
