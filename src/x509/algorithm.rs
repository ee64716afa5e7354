//! The algorithms of X.509 signatures and keys: hash functions, signature algorithms as an
//! AlgorithmIdentifier names them, key kinds, and the errors of keys and signatures.

use core::fmt;

use const_oid::ObjectIdentifier;
use const_oid::db::rfc5912;
use der::Decode;
use sha2::Digest;

use crate::x509::tlv;

/// ecdsa-with-SHA1 (RFC 3279 §2.2.3); not in const-oid's database.
const ECDSA_WITH_SHA_1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.1");

/// A hash function used by a signature algorithm.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HashAlgorithm {
    /// SHA-1: accepted only for a CA's own signature, with a finding.
    Sha1,
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

impl HashAlgorithm {
    pub(crate) fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            Self::Sha1 => sha1::Sha1::digest(data).to_vec(),
            Self::Sha256 => sha2::Sha256::digest(data).to_vec(),
            Self::Sha384 => sha2::Sha384::digest(data).to_vec(),
            Self::Sha512 => sha2::Sha512::digest(data).to_vec(),
        }
    }

    pub(crate) const fn output_len(self) -> usize {
        match self {
            Self::Sha1 => 20,
            Self::Sha256 => 32,
            Self::Sha384 => 48,
            Self::Sha512 => 64,
        }
    }

    pub(crate) fn from_oid(oid: ObjectIdentifier) -> Option<Self> {
        match oid {
            rfc5912::ID_SHA_1 => Some(Self::Sha1),
            rfc5912::ID_SHA_256 => Some(Self::Sha256),
            rfc5912::ID_SHA_384 => Some(Self::Sha384),
            rfc5912::ID_SHA_512 => Some(Self::Sha512),
            _ => None,
        }
    }
}

impl fmt::Display for HashAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Sha1 => "SHA-1",
            Self::Sha256 => "SHA-256",
            Self::Sha384 => "SHA-384",
            Self::Sha512 => "SHA-512",
        })
    }
}

/// A signature algorithm the crate can verify.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SignatureAlgorithm {
    /// RSASSA-PKCS1-v1_5 (RFC 8017 §8.2) with the given hash.
    RsaPkcs1(HashAlgorithm),
    /// RSASSA-PSS with the given hash, MGF1 with the same hash and salt = hash length.
    RsaPss(HashAlgorithm),
    /// ECDSA (RFC 5758 §3.2) with the given hash.
    Ecdsa(HashAlgorithm),
}

impl SignatureAlgorithm {
    /// The hash the algorithm signs with.
    #[must_use]
    pub fn hash(self) -> HashAlgorithm {
        match self {
            Self::RsaPkcs1(h) | Self::RsaPss(h) | Self::Ecdsa(h) => h,
        }
    }

    /// Parses an AlgorithmIdentifier (DER) into one of the algorithms the crate knows, SHA-1
    /// variants included: whether SHA-1 is acceptable is the caller's rule.
    ///
    /// # Errors
    /// [`SignatureError`] for unknown algorithms (MD2, MD5, DSA…), parameters that are not as
    /// RFC 4055 / RFC 5758 fix them, and RSASSA-PSS outside the strong set. An identifier that
    /// is not strict DER, an OID with an arc led by 0x80 included, is
    /// [`SignatureError::MalformedAlgorithm`].
    pub fn from_der(der: &[u8]) -> Result<Self, SignatureError> {
        let field = "signatureAlgorithm";
        let alg = tlv::whole(der, field, |c| tlv::algorithm_identifier(c, field))
            .map_err(|_| SignatureError::MalformedAlgorithm)?;
        let oid = || ObjectIdentifier::from_bytes(alg.oid).map_err(|_| SignatureError::MalformedAlgorithm);
        if alg.oid == rfc5912::ID_RSASSA_PSS.as_bytes() {
            let params = alg.parameters.ok_or(SignatureError::PssParameters)?;
            return pss_hash(params.whole).map(Self::RsaPss);
        }
        let Some(&(_, family, hash)) = SIGNATURE_ALGORITHMS.iter().find(|(known, ..)| known.as_bytes() == alg.oid)
        else {
            return Err(SignatureError::UnsupportedAlgorithm { algorithm: oid()? });
        };
        // RFC 4055 §5: NULL parameters for RSA; RFC 5758 §3.2: none for ECDSA.
        match (family, &alg.parameters) {
            (Family::Rsa, Some(p)) if p.is_null() => Ok(Self::RsaPkcs1(hash)),
            (Family::Ecdsa, None) => Ok(Self::Ecdsa(hash)),
            _ => Err(SignatureError::BadParameters { algorithm: oid()? }),
        }
    }
}

/// The signature algorithms named by an OID alone (RSASSA-PSS names its hash in parameters).
const SIGNATURE_ALGORITHMS: [(ObjectIdentifier, Family, HashAlgorithm); 8] = [
    (rfc5912::SHA_1_WITH_RSA_ENCRYPTION, Family::Rsa, HashAlgorithm::Sha1),
    (rfc5912::SHA_256_WITH_RSA_ENCRYPTION, Family::Rsa, HashAlgorithm::Sha256),
    (rfc5912::SHA_384_WITH_RSA_ENCRYPTION, Family::Rsa, HashAlgorithm::Sha384),
    (rfc5912::SHA_512_WITH_RSA_ENCRYPTION, Family::Rsa, HashAlgorithm::Sha512),
    (ECDSA_WITH_SHA_1, Family::Ecdsa, HashAlgorithm::Sha1),
    (rfc5912::ECDSA_WITH_SHA_256, Family::Ecdsa, HashAlgorithm::Sha256),
    (rfc5912::ECDSA_WITH_SHA_384, Family::Ecdsa, HashAlgorithm::Sha384),
    (rfc5912::ECDSA_WITH_SHA_512, Family::Ecdsa, HashAlgorithm::Sha512),
];

/// RSASSA-PKCS1-v1_5 or ECDSA, for [`SIGNATURE_ALGORITHMS`].
#[derive(Clone, Copy)]
enum Family {
    Rsa,
    Ecdsa,
}

impl fmt::Display for SignatureAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::RsaPkcs1(h) => write!(f, "RSA PKCS#1 v1.5 with {h}"),
            Self::RsaPss(h) => write!(f, "RSASSA-PSS with {h}"),
            Self::Ecdsa(h) => write!(f, "ECDSA with {h}"),
        }
    }
}

/// The hash an AlgorithmIdentifier names, when its parameters are absent or NULL (a message
/// hash, or MGF1's hash).
fn hash_of(identifier: &spki::AlgorithmIdentifierOwned) -> Option<HashAlgorithm> {
    match &identifier.parameters {
        None => {}
        Some(p) if p.is_null() => {}
        Some(_) => return None,
    }
    HashAlgorithm::from_oid(identifier.oid)
}

/// RSASSA-PSS-params (RFC 4055 §3.1), decoded by `pkcs1` with their DEFAULTs, then held to the
/// strong set: SHA-256/384/512, MGF1 with the same hash, salt = hash length, trailer 1 (the
/// only trailer `pkcs1` decodes). Returns the hash.
fn pss_hash(der: &[u8]) -> Result<HashAlgorithm, SignatureError> {
    let bad = SignatureError::PssParameters;
    // The owned form: `pkcs1` decodes the borrowed one only from 'static bytes.
    let params = pkcs1::RsaPssParams::<der::asn1::Any>::from_der(der).map_err(|_| bad.clone())?;
    let hash = hash_of(&params.hash).ok_or(bad.clone())?;
    if params.mask_gen.oid != rfc5912::ID_MGF_1 {
        return Err(bad);
    }
    let mgf_hash = params.mask_gen.parameters.as_ref().and_then(hash_of).ok_or(bad)?;
    if hash == HashAlgorithm::Sha1 {
        return Err(SignatureError::PssHash { hash });
    }
    if mgf_hash != hash {
        return Err(SignatureError::PssMaskHash { hash, mgf: mgf_hash });
    }
    let (salt, expected) = (u64::from(params.salt_len), hash.output_len() as u64);
    if salt != expected {
        return Err(SignatureError::PssSaltLength { salt, expected });
    }
    Ok(hash)
}

/// The kind of a public key, for messages and key/algorithm fit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyKind {
    /// RSA with a modulus of this many bits.
    Rsa {
        /// Modulus size in bits.
        bits: usize,
    },
    /// ECDSA on NIST P-256.
    P256,
    /// ECDSA on NIST P-384.
    P384,
    /// ECDSA on NIST P-521.
    P521,
}

impl fmt::Display for KeyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Rsa { bits } => write!(f, "RSA-{bits}"),
            Self::P256 => f.write_str("EC P-256"),
            Self::P384 => f.write_str("EC P-384"),
            Self::P521 => f.write_str("EC P-521"),
        }
    }
}

/// A public key outside the policy of rule 1.3.6.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyError {
    /// The SubjectPublicKeyInfo or the key inside it does not parse.
    Malformed,
    /// Not rsaEncryption or id-ecPublicKey (DSA, RSASSA-PSS-only, id-ecDH, GOST…).
    UnsupportedAlgorithm {
        /// The SPKI algorithm.
        algorithm: ObjectIdentifier,
    },
    /// rsaEncryption whose parameters are not NULL.
    RsaParameters,
    /// RSA modulus outside 2048..=8192 bits.
    RsaModulusSize {
        /// Modulus size.
        bits: usize,
    },
    /// RSA modulus size not a multiple of 8.
    RsaModulusNotByteMultiple {
        /// Modulus size.
        bits: usize,
    },
    /// RSA public exponent even, below 3, or too large.
    RsaExponent {
        /// The exponent, when it fits in 64 bits.
        exponent: Option<u64>,
    },
    /// id-ecPublicKey with absent or NULL parameters.
    MissingCurve,
    /// id-ecPublicKey with explicit (specifiedCurve) parameters.
    ExplicitCurve,
    /// A named curve other than P-256, P-384, P-521.
    UnsupportedCurve {
        /// The curve.
        curve: ObjectIdentifier,
    },
    /// The EC point is not on the curve or not a valid encoding.
    InvalidPoint,
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Malformed => f.write_str("the public key does not parse"),
            Self::UnsupportedAlgorithm { algorithm } => {
                write!(f, "public key algorithm {algorithm} is not supported (RSA or EC P-256/P-384/P-521 only)")
            }
            Self::RsaParameters => f.write_str("the rsaEncryption key parameters are not NULL"),
            Self::RsaModulusSize { bits } => write!(f, "the RSA modulus has {bits} bits, outside 2048..=8192"),
            Self::RsaModulusNotByteMultiple { bits } => {
                write!(f, "the RSA modulus has {bits} bits, not a multiple of 8")
            }
            Self::RsaExponent { exponent: Some(e) } => {
                write!(f, "the RSA public exponent {e} is not an odd number from 3 to 2^33-1")
            }
            Self::RsaExponent { exponent: None } => f.write_str("the RSA public exponent is larger than 2^64"),
            Self::MissingCurve => f.write_str("the EC key names no curve"),
            Self::ExplicitCurve => f.write_str("the EC key uses explicit curve parameters, not a named curve"),
            Self::UnsupportedCurve { curve } => {
                write!(f, "EC curve {curve} is not supported (P-256, P-384, P-521 only)")
            }
            Self::InvalidPoint => f.write_str("the EC public key is not a valid point on its curve"),
        }
    }
}

/// A signature that cannot be checked or does not verify.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignatureError {
    /// The AlgorithmIdentifier does not parse.
    MalformedAlgorithm,
    /// An algorithm outside the set the crate knows (MD2, MD5, DSA, SHA-224…).
    UnsupportedAlgorithm {
        /// The algorithm.
        algorithm: ObjectIdentifier,
    },
    /// Parameters not as RFC 4055 / RFC 5758 fix them (NULL for PKCS#1, absent for ECDSA).
    BadParameters {
        /// The algorithm.
        algorithm: ObjectIdentifier,
    },
    /// RSASSA-PSS parameters that do not parse.
    PssParameters,
    /// RSASSA-PSS with a hash outside SHA-256/384/512.
    PssHash {
        /// The hash.
        hash: HashAlgorithm,
    },
    /// RSASSA-PSS whose MGF1 hash differs from the message hash.
    PssMaskHash {
        /// The message hash.
        hash: HashAlgorithm,
        /// MGF1's hash.
        mgf: HashAlgorithm,
    },
    /// RSASSA-PSS whose salt length is not the hash length.
    PssSaltLength {
        /// The salt length.
        salt: u64,
        /// The hash length.
        expected: u64,
    },
    /// SHA-1 where only the strong set is allowed (the proof of possession).
    Sha1NotAllowed,
    /// The signing key is outside the key policy.
    Key(KeyError),
    /// The key cannot make this kind of signature (an RSA key and ECDSA, etc.).
    KeyMismatch {
        /// The key.
        key: KeyKind,
        /// The algorithm.
        algorithm: SignatureAlgorithm,
    },
    /// The signature value is not a valid encoding (e.g. ECDSA not in DER).
    MalformedSignature,
    /// The signature does not verify.
    Invalid {
        /// The algorithm.
        algorithm: SignatureAlgorithm,
    },
}

impl fmt::Display for SignatureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MalformedAlgorithm => f.write_str("the signature algorithm identifier does not parse"),
            Self::UnsupportedAlgorithm { algorithm } => write!(f, "signature algorithm {algorithm} is not supported"),
            Self::BadParameters { algorithm } => {
                write!(f, "signature algorithm {algorithm} has parameters that RFC 4055 / RFC 5758 do not allow")
            }
            Self::PssParameters => f.write_str("the RSASSA-PSS parameters do not parse"),
            Self::PssHash { hash } => {
                write!(f, "RSASSA-PSS with {hash} is not supported (SHA-256, SHA-384, SHA-512 only)")
            }
            Self::PssMaskHash { hash, mgf } => write!(f, "RSASSA-PSS hashes with {hash} but MGF1 uses {mgf}"),
            Self::PssSaltLength { salt, expected } => {
                write!(f, "RSASSA-PSS salt length is {salt}, expected {expected} (the hash length)")
            }
            Self::Sha1NotAllowed => f.write_str("SHA-1 signatures are not accepted here"),
            Self::Key(e) => write!(f, "signing key: {e}"),
            Self::KeyMismatch { key, algorithm } => write!(f, "a {key} key cannot make a {algorithm} signature"),
            Self::MalformedSignature => f.write_str("the signature value is malformed"),
            Self::Invalid { algorithm } => write!(f, "the {algorithm} signature does not verify"),
        }
    }
}
