//! Public-key policy (rule 1.3.6) and signature verification (rules 1.3.7–1.3.8, rule 1.4.3).
//!
//! Every signature the crate checks goes through [`PublicKey::verify`]: one place decides which
//! algorithms exist, which key fits which algorithm, and how the bytes are hashed.

use std::sync::OnceLock;

use const_oid::ObjectIdentifier;
use const_oid::db::rfc5912;
use der::{Decode, Tag};
use signature::hazmat::PrehashVerifier;

use crate::x509::algorithm::{HashAlgorithm, KeyError, KeyKind, SignatureAlgorithm, SignatureError};
use crate::x509::backend::Backend;
use crate::x509::tlv;

/// Smallest accepted RSA modulus, in bits (rule 1.3.6).
pub const RSA_MIN_BITS: usize = 2048;
/// Largest accepted RSA modulus, in bits (rule 1.3.6; bounds verification work).
pub const RSA_MAX_BITS: usize = 8192;

#[derive(Clone, Debug)]
enum Inner {
    /// Built on first RustCrypto use: its Montgomery parameters cost as much as a fifth of a
    /// verification, which the aws-lc-rs backend never needs.
    Rsa(OnceLock<Option<rsa::PublicKey>>),
    P256(p256::ecdsa::VerifyingKey),
    P384(p384::ecdsa::VerifyingKey),
    P521(p521::ecdsa::VerifyingKey),
}

/// A public key that passed the policy of rule 1.3.6, ready to verify signatures.
#[derive(Clone, Debug)]
pub struct PublicKey {
    kind: KeyKind,
    /// The subjectPublicKey octets: PKCS#1 RSAPublicKey or the SEC1 point.
    key: Vec<u8>,
    inner: Inner,
    /// aws-lc-rs's parsed key for the algorithm it was first used with (a registration
    /// verifies twice with the same key, usually with the same algorithm).
    #[cfg(feature = "aws-lc-rs")]
    aws_lc: crate::x509::backend::AwsLcKeyCache,
}

impl PublicKey {
    /// Parses a SubjectPublicKeyInfo (DER) and applies the key policy: RSA 2048..=8192 bits,
    /// a multiple of 8, odd exponent ≥ 3; or EC on a named curve P-256, P-384 or P-521 with a
    /// point on the curve.
    ///
    /// # Errors
    /// [`KeyError`] naming the rule the key breaks. An SPKI that is not strict DER, an
    /// algorithm or curve OID with an arc led by 0x80 included, is [`KeyError::Malformed`].
    pub fn from_spki_der(der: &[u8]) -> Result<Self, KeyError> {
        let field = "subjectPublicKeyInfo";
        let (alg, bits) = tlv::whole(der, field, |c| {
            c.nested(Tag::Sequence, field, |parts| {
                let alg = tlv::algorithm_identifier(parts, field)?;
                let bits = parts.expect(Tag::BitString, field)?;
                Ok((alg, parts.bytes(bits.value)))
            })
        })
        .map_err(|_| KeyError::Malformed)?;
        // The key is whole octets: a BIT STRING with no unused bits.
        let [0, key @ ..] = bits else { return Err(KeyError::Malformed) };
        let oid = |content| ObjectIdentifier::from_bytes(content).map_err(|_| KeyError::Malformed);
        if alg.oid == rfc5912::RSA_ENCRYPTION.as_bytes() {
            if !alg.parameters.is_some_and(|p| p.is_null()) {
                return Err(KeyError::RsaParameters);
            }
            return Self::rsa(key);
        }
        if alg.oid != rfc5912::ID_EC_PUBLIC_KEY.as_bytes() {
            return Err(KeyError::UnsupportedAlgorithm { algorithm: oid(alg.oid)? });
        }
        let params = alg.parameters.ok_or(KeyError::MissingCurve)?;
        let curve = match params.tag {
            Tag::ObjectIdentifier => {
                tlv::check_oid(params.value, field).map_err(|_| KeyError::Malformed)?;
                params.value
            }
            Tag::Sequence => return Err(KeyError::ExplicitCurve),
            _ => return Err(KeyError::MissingCurve),
        };
        let invalid = |_| KeyError::InvalidPoint;
        let (kind, inner) = if curve == rfc5912::SECP_256_R_1.as_bytes() {
            (KeyKind::P256, Inner::P256(p256::ecdsa::VerifyingKey::from_sec1_bytes(key).map_err(invalid)?))
        } else if curve == rfc5912::SECP_384_R_1.as_bytes() {
            (KeyKind::P384, Inner::P384(p384::ecdsa::VerifyingKey::from_sec1_bytes(key).map_err(invalid)?))
        } else if curve == rfc5912::SECP_521_R_1.as_bytes() {
            (KeyKind::P521, Inner::P521(p521::ecdsa::VerifyingKey::from_sec1_bytes(key).map_err(invalid)?))
        } else {
            return Err(KeyError::UnsupportedCurve { curve: oid(curve)? });
        };
        Ok(Self::new(kind, key, inner))
    }

    fn rsa(pkcs1: &[u8]) -> Result<Self, KeyError> {
        let (n, e) = rsa_public_key(pkcs1)?;
        let Some(&first) = n.first() else { return Err(KeyError::Malformed) };
        let bits = n.len() * 8 - first.leading_zeros() as usize;
        if !(RSA_MIN_BITS..=RSA_MAX_BITS).contains(&bits) {
            return Err(KeyError::RsaModulusSize { bits });
        }
        if !bits.is_multiple_of(8) {
            return Err(KeyError::RsaModulusNotByteMultiple { bits });
        }
        if n.last().is_none_or(|b| b & 1 == 0) {
            return Err(KeyError::Malformed);
        }
        let exponent = if e.len() <= 8 { Some(e.iter().fold(0u64, |a, b| (a << 8) | u64::from(*b))) } else { None };
        match exponent {
            Some(v) if v >= 3 && v % 2 == 1 && v <= rsa::PublicKey::MAX_PUB_EXPONENT => {}
            _ => return Err(KeyError::RsaExponent { exponent }),
        }
        Ok(Self::new(KeyKind::Rsa { bits }, pkcs1, Inner::Rsa(OnceLock::new())))
    }

    fn new(kind: KeyKind, key: &[u8], inner: Inner) -> Self {
        Self {
            kind,
            key: key.to_vec(),
            inner,
            #[cfg(feature = "aws-lc-rs")]
            aws_lc: crate::x509::backend::AwsLcKeyCache::default(),
        }
    }

    /// The RustCrypto RSA key, built once. Every bound `rsa` checks was checked by
    /// [`PublicKey::from_spki_der`], so `None` means only a defect in that reasoning.
    fn rsa_key<'a>(&'a self, cell: &'a OnceLock<Option<rsa::PublicKey>>) -> Option<&'a rsa::PublicKey> {
        cell.get_or_init(|| {
            let (n, e) = rsa_public_key(&self.key).ok()?;
            let n = rsa::BoxedUint::from_be_slice_vartime(n);
            let e = rsa::BoxedUint::from_be_slice_vartime(e);
            rsa::PublicKey::new_with_size_limits(n, e, RSA_MIN_BITS..=RSA_MAX_BITS).ok()
        })
        .as_ref()
    }

    /// What kind of key this is.
    #[must_use]
    pub fn kind(&self) -> KeyKind {
        self.kind
    }

    /// Verifies `signature` over `message` with `algorithm` on `backend` (a [`Policy`]'s, or
    /// the one a benchmark compares).
    ///
    /// ECDSA signatures are DER `Ecdsa-Sig-Value`s; RSA signatures are as long as the modulus.
    ///
    /// [`Policy`]: crate::Policy
    ///
    /// # Errors
    /// [`SignatureError::KeyMismatch`] when the key cannot make that kind of signature,
    /// [`SignatureError::Invalid`] when the signature does not verify.
    pub fn verify(
        &self,
        backend: Backend,
        algorithm: SignatureAlgorithm,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), SignatureError> {
        let fits = matches!(
            (self.kind, algorithm),
            (KeyKind::Rsa { .. }, SignatureAlgorithm::RsaPkcs1(_) | SignatureAlgorithm::RsaPss(_))
                | (KeyKind::P256 | KeyKind::P384 | KeyKind::P521, SignatureAlgorithm::Ecdsa(_))
        );
        if !fits {
            return Err(SignatureError::KeyMismatch { key: self.kind, algorithm });
        }
        match backend {
            #[cfg(feature = "aws-lc-rs")]
            Backend::AwsLcRs => match self.aws_lc.verify(self.kind, &self.key, algorithm, message, signature) {
                Some(true) => Ok(()),
                Some(false) => Err(SignatureError::Invalid { algorithm }),
                None => self.verify_rust_crypto(algorithm, message, signature),
            },
            Backend::RustCrypto => self.verify_rust_crypto(algorithm, message, signature),
        }
    }

    fn verify_rust_crypto(
        &self,
        algorithm: SignatureAlgorithm,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), SignatureError> {
        use sha2::{Sha256, Sha384, Sha512};
        let hash = algorithm.hash();
        let prehash = hash.digest(message);
        let ok = match (&self.inner, algorithm) {
            (Inner::Rsa(cell), SignatureAlgorithm::RsaPkcs1(h)) => {
                let key = self.rsa_key(cell).ok_or(SignatureError::Key(KeyError::Malformed))?;
                let scheme = match h {
                    HashAlgorithm::Sha1 => rsa::Pkcs1v15Sign::new::<sha1::Sha1>(),
                    HashAlgorithm::Sha256 => rsa::Pkcs1v15Sign::new::<Sha256>(),
                    HashAlgorithm::Sha384 => rsa::Pkcs1v15Sign::new::<Sha384>(),
                    HashAlgorithm::Sha512 => rsa::Pkcs1v15Sign::new::<Sha512>(),
                };
                key.verify(scheme, &prehash, signature).is_ok()
            }
            (Inner::Rsa(cell), SignatureAlgorithm::RsaPss(h)) => {
                let key = self.rsa_key(cell).ok_or(SignatureError::Key(KeyError::Malformed))?;
                match h {
                    HashAlgorithm::Sha256 => key.verify(rsa::pss::Pss::<Sha256>::new(), &prehash, signature).is_ok(),
                    HashAlgorithm::Sha384 => key.verify(rsa::pss::Pss::<Sha384>::new(), &prehash, signature).is_ok(),
                    HashAlgorithm::Sha512 => key.verify(rsa::pss::Pss::<Sha512>::new(), &prehash, signature).is_ok(),
                    HashAlgorithm::Sha1 => false,
                }
            }
            (Inner::P256(key), SignatureAlgorithm::Ecdsa(_)) => {
                let sig =
                    p256::ecdsa::Signature::from_der(signature).map_err(|_| SignatureError::MalformedSignature)?;
                key.verify_prehash(&field_prehash(prehash, 32), &sig).is_ok()
            }
            (Inner::P384(key), SignatureAlgorithm::Ecdsa(_)) => {
                let sig =
                    p384::ecdsa::Signature::from_der(signature).map_err(|_| SignatureError::MalformedSignature)?;
                key.verify_prehash(&field_prehash(prehash, 48), &sig).is_ok()
            }
            (Inner::P521(key), SignatureAlgorithm::Ecdsa(_)) => {
                let sig =
                    p521::ecdsa::Signature::from_der(signature).map_err(|_| SignatureError::MalformedSignature)?;
                key.verify_prehash(&field_prehash(prehash, 66), &sig).is_ok()
            }
            _ => return Err(SignatureError::KeyMismatch { key: self.kind, algorithm }),
        };
        if ok { Ok(()) } else { Err(SignatureError::Invalid { algorithm }) }
    }
}

/// A PKCS#1 RSAPublicKey (RFC 8017 §A.1.1): the modulus and the public exponent, each a
/// non-negative DER INTEGER, as magnitudes.
fn rsa_public_key(pkcs1: &[u8]) -> Result<(&[u8], &[u8]), KeyError> {
    let field = "RSAPublicKey";
    let (n, e) = tlv::whole(pkcs1, field, |c| {
        c.nested(Tag::Sequence, field, |parts| {
            let n = parts.expect(Tag::Integer, field)?;
            let e = parts.expect(Tag::Integer, field)?;
            Ok((parts.bytes(n.value), parts.bytes(e.value)))
        })
    })
    .map_err(|_| KeyError::Malformed)?;
    tlv::unsigned_integer(n).zip(tlv::unsigned_integer(e)).ok_or(KeyError::Malformed)
}

/// ECDSA uses the leftmost bits of the hash when it is longer than the group order, and the
/// whole hash as an integer when it is shorter (FIPS 186-5 §6.4.1). The `ecdsa` crate refuses
/// prehashes shorter than half the field, so shorter hashes are left-padded with zeros, which
/// leaves the integer unchanged.
fn field_prehash(prehash: Vec<u8>, field_len: usize) -> Vec<u8> {
    if prehash.len() >= field_len {
        return prehash;
    }
    let mut padded = vec![0u8; field_len - prehash.len()];
    padded.extend_from_slice(&prehash);
    padded
}

/// Verifies a signature with an algorithm from the strong set of rule 1.3.7 **without
/// SHA-1**: the rule for the proof of possession (rule 1.4.3).
pub(crate) fn verify_strong(
    backend: Backend,
    key: &PublicKey,
    algorithm_der: &[u8],
    data: &[u8],
    signature: &[u8],
) -> Result<(), SignatureError> {
    let algorithm = SignatureAlgorithm::from_der(algorithm_der)?;
    if algorithm.hash() == HashAlgorithm::Sha1 {
        return Err(SignatureError::Sha1NotAllowed);
    }
    key.verify(backend, algorithm, data, signature)
}

/// Verifies signed data the way the proof of possession is verified (rule 1.4.3): the
/// SPKI under the key policy, the AlgorithmIdentifier from the strong set without SHA-1, the
/// signature as the DER BIT STRING of a certificate's `signatureValue` (no unused bits).
///
/// This is the function conformance suites (Chromium, Wycheproof) exercise, on `backend`.
///
/// # Errors
/// [`SignatureError`] for the first thing that is wrong; a key outside the policy is
/// [`SignatureError::Key`].
pub fn verify_signed_data(
    backend: Backend,
    spki: &[u8],
    algorithm: &[u8],
    data: &[u8],
    signature_bit_string: &[u8],
) -> Result<(), SignatureError> {
    let key = PublicKey::from_spki_der(spki).map_err(SignatureError::Key)?;
    let bits =
        der::asn1::BitStringRef::from_der(signature_bit_string).map_err(|_| SignatureError::MalformedSignature)?;
    let value = bits.as_bytes().ok_or(SignatureError::MalformedSignature)?;
    verify_strong(backend, &key, algorithm, data, value)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An OID with an arc led by 0x80 is not DER (X.690 §8.19.2), so it is malformed wherever it
    /// stands; before the TLV cursor read these, `der` let the padding through and the OID was
    /// answered as unsupported.
    #[test]
    fn oids_with_padded_arcs_are_malformed() {
        assert_eq!(
            SignatureAlgorithm::from_der(&[0x30, 0x05, 0x06, 0x03, 0x2a, 0x80, 0x01]),
            Err(SignatureError::MalformedAlgorithm)
        );
        let padded_algorithm = [0x30, 0x0a, 0x30, 0x05, 0x06, 0x03, 0x2a, 0x80, 0x01, 0x03, 0x01, 0x00];
        assert_eq!(PublicKey::from_spki_der(&padded_algorithm).err(), Some(KeyError::Malformed));
        // id-ecPublicKey with P-256's OID (1.2.840.10045.3.1.7) padded before its last arc.
        let padded_curve = [
            0x30, 0x19, 0x30, 0x14, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x09, 0x2a, 0x86, 0x48,
            0xce, 0x3d, 0x03, 0x01, 0x80, 0x07, 0x03, 0x01, 0x00,
        ];
        assert_eq!(PublicKey::from_spki_der(&padded_curve).err(), Some(KeyError::Malformed));
        // The same shapes with minimal OIDs are answered as unsupported, as before.
        assert_eq!(
            SignatureAlgorithm::from_der(&[0x30, 0x04, 0x06, 0x02, 0x2a, 0x01]),
            Err(SignatureError::UnsupportedAlgorithm { algorithm: ObjectIdentifier::new_unwrap("1.2.1") })
        );
        let other_curve = [
            0x30, 0x17, 0x30, 0x12, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x07, 0x2a, 0x86, 0x48,
            0xce, 0x3d, 0x03, 0x09, 0x03, 0x01, 0x00,
        ];
        assert_eq!(
            PublicKey::from_spki_der(&other_curve).err(),
            Some(KeyError::UnsupportedCurve { curve: ObjectIdentifier::new_unwrap("1.2.840.10045.3.9") })
        );
    }
}
