//! Test fixtures built by code: seeded keys, fixed times, and a DER certificate builder that
//! can also build the malformed certificates the rules must refuse.
//!
//! Nothing here reads the clock or the OS RNG: every fixture is the same on every run.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::OnceLock;

use chacha20::ChaCha20Rng;
use iot_ca::UnixTime;
use rand_core::SeedableRng;
use sha2::Digest;
use spki::EncodePublicKey;

/// 2026-01-01T00:00:00Z: the `now` of the tests.
pub const NOW: UnixTime = UnixTime::from_secs(1_767_225_600);
/// 2025-01-01T00:00:00Z: default notBefore.
pub const NOT_BEFORE: UnixTime = UnixTime::from_secs(1_735_689_600);
/// 2035-01-01T00:00:00Z: default notAfter.
pub const NOT_AFTER: UnixTime = UnixTime::from_secs(2_051_222_400);

pub fn rng(seed: u64) -> ChaCha20Rng {
    ChaCha20Rng::seed_from_u64(seed)
}

// ---------------------------------------------------------------- DER building blocks

pub fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(content);
    out
}

pub fn seq(parts: &[&[u8]]) -> Vec<u8> {
    tlv(0x30, &parts.concat())
}

pub fn set(parts: &[&[u8]]) -> Vec<u8> {
    tlv(0x31, &parts.concat())
}

pub fn oid(dotted: &str) -> Vec<u8> {
    let oid = const_oid::ObjectIdentifier::new(dotted).unwrap();
    tlv(0x06, oid.as_bytes())
}

pub fn null() -> Vec<u8> {
    vec![0x05, 0x00]
}

pub fn int(content: &[u8]) -> Vec<u8> {
    tlv(0x02, content)
}

pub fn octets(content: &[u8]) -> Vec<u8> {
    tlv(0x04, content)
}

pub fn bits(content: &[u8]) -> Vec<u8> {
    let mut v = vec![0u8];
    v.extend_from_slice(content);
    tlv(0x03, &v)
}

/// `YYYYMMDDHHMMSSZ` of `t`, from its RFC 3339 form (any year 0000..=9999).
fn asn1_digits(t: UnixTime) -> String {
    t.to_string().chars().filter(|c| c.is_ascii_digit() || *c == 'Z').collect()
}

/// A UTCTime (`YYMMDDHHMMSSZ`) of a time in 1950..=2049.
pub fn utc_time(t: UnixTime) -> Vec<u8> {
    tlv(0x17, &asn1_digits(t).as_bytes()[2..])
}

pub fn generalized_time(t: UnixTime) -> Vec<u8> {
    tlv(0x18, asn1_digits(t).as_bytes())
}

/// A Name of (type, UTF8String value) attributes, one per RDN, in the order given.
pub fn name(attrs: &[(&str, &str)]) -> Vec<u8> {
    let rdns: Vec<Vec<u8>> = attrs.iter().map(|(t, v)| set(&[&seq(&[&oid(t), &tlv(0x0c, v.as_bytes())])])).collect();
    let refs: Vec<&[u8]> = rdns.iter().map(Vec::as_slice).collect();
    seq(&refs)
}

pub const CN: &str = "2.5.4.3";
pub const O: &str = "2.5.4.10";
pub const SERIAL_NUMBER_ATTR: &str = "2.5.4.5";

pub fn cn(value: &str) -> Vec<u8> {
    name(&[(O, "iot-ca tests"), (CN, value)])
}

pub fn extension(id: &str, critical: bool, value: &[u8]) -> Vec<u8> {
    if critical { seq(&[&oid(id), &tlv(0x01, &[0xff]), &octets(value)]) } else { seq(&[&oid(id), &octets(value)]) }
}

pub const BASIC_CONSTRAINTS: &str = "2.5.29.19";
pub const KEY_USAGE: &str = "2.5.29.15";
pub const EXT_KEY_USAGE: &str = "2.5.29.37";
pub const SKI: &str = "2.5.29.14";

pub fn basic_constraints(critical: bool, ca: bool, path_len: Option<u8>) -> Vec<u8> {
    let mut parts: Vec<Vec<u8>> = Vec::new();
    if ca {
        parts.push(tlv(0x01, &[0xff]));
    }
    if let Some(p) = path_len {
        parts.push(int(&[p]));
    }
    let refs: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
    extension(BASIC_CONSTRAINTS, critical, &seq(&refs))
}

/// keyUsage with keyCertSign and cRLSign (bits 5 and 6: 0x06, 1 unused bit).
pub fn key_usage_ca(critical: bool) -> Vec<u8> {
    extension(KEY_USAGE, critical, &tlv(0x03, &[0x01, 0x06]))
}

/// keyUsage with digitalSignature only.
pub fn key_usage_digital_signature(critical: bool) -> Vec<u8> {
    extension(KEY_USAGE, critical, &tlv(0x03, &[0x07, 0x80]))
}

pub fn ski(spki: &[u8]) -> Vec<u8> {
    extension(SKI, false, &octets(&sha1::Sha1::digest(spki)))
}

pub fn eku_server_auth() -> Vec<u8> {
    extension(EXT_KEY_USAGE, false, &seq(&[&oid("1.3.6.1.5.5.7.3.1")]))
}

// ---------------------------------------------------------------- keys and algorithms

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hash {
    Sha1,
    Sha256,
    Sha384,
    Sha512,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Alg {
    Pkcs1(Hash),
    Pss(Hash),
    Ecdsa(Hash),
}

fn hash_oid(h: Hash) -> &'static str {
    match h {
        Hash::Sha1 => "1.3.14.3.2.26",
        Hash::Sha256 => "2.16.840.1.101.3.4.2.1",
        Hash::Sha384 => "2.16.840.1.101.3.4.2.2",
        Hash::Sha512 => "2.16.840.1.101.3.4.2.3",
    }
}

fn hash_len(h: Hash) -> u8 {
    match h {
        Hash::Sha1 => 20,
        Hash::Sha256 => 32,
        Hash::Sha384 => 48,
        Hash::Sha512 => 64,
    }
}

pub fn digest(h: Hash, data: &[u8]) -> Vec<u8> {
    match h {
        Hash::Sha1 => sha1::Sha1::digest(data).to_vec(),
        Hash::Sha256 => sha2::Sha256::digest(data).to_vec(),
        Hash::Sha384 => sha2::Sha384::digest(data).to_vec(),
        Hash::Sha512 => sha2::Sha512::digest(data).to_vec(),
    }
}

impl Alg {
    /// The AlgorithmIdentifier DER, as RFC 4055 / RFC 5758 write it.
    pub fn der(self) -> Vec<u8> {
        match self {
            Self::Pkcs1(h) => {
                let id = match h {
                    Hash::Sha1 => "1.2.840.113549.1.1.5",
                    Hash::Sha256 => "1.2.840.113549.1.1.11",
                    Hash::Sha384 => "1.2.840.113549.1.1.12",
                    Hash::Sha512 => "1.2.840.113549.1.1.13",
                };
                seq(&[&oid(id), &null()])
            }
            Self::Ecdsa(h) => {
                let id = match h {
                    Hash::Sha1 => "1.2.840.10045.4.1",
                    Hash::Sha256 => "1.2.840.10045.4.3.2",
                    Hash::Sha384 => "1.2.840.10045.4.3.3",
                    Hash::Sha512 => "1.2.840.10045.4.3.4",
                };
                seq(&[&oid(id)])
            }
            Self::Pss(h) => pss_alg(h, h, hash_len(h)),
        }
    }
}

/// RSASSA-PSS AlgorithmIdentifier with explicit hash, MGF1 hash and salt length.
pub fn pss_alg(hash: Hash, mgf: Hash, salt: u8) -> Vec<u8> {
    let hash_id = seq(&[&oid(hash_oid(hash))]);
    let mgf_id = seq(&[&oid("1.2.840.113549.1.1.8"), &seq(&[&oid(hash_oid(mgf))])]);
    let params = seq(&[&tlv(0xa0, &hash_id), &tlv(0xa1, &mgf_id), &tlv(0xa2, &int(&[salt]))]);
    seq(&[&oid("1.2.840.113549.1.1.10"), &params])
}

pub enum Key {
    Rsa(rsa::PrivateKey),
    P256(p256::ecdsa::SigningKey),
    P384(p384::ecdsa::SigningKey),
    P521(p521::ecdsa::SigningKey),
}

impl Key {
    pub fn spki(&self) -> Vec<u8> {
        let doc = match self {
            Self::Rsa(k) => k.to_public_key().to_public_key_der(),
            Self::P256(k) => k.verifying_key().to_public_key_der(),
            Self::P384(k) => k.verifying_key().to_public_key_der(),
            Self::P521(k) => k.verifying_key().to_public_key_der(),
        };
        doc.unwrap().as_bytes().to_vec()
    }

    /// The algorithm this key signs with by default.
    pub fn default_alg(&self) -> Alg {
        match self {
            Self::Rsa(_) => Alg::Pkcs1(Hash::Sha256),
            Self::P256(_) => Alg::Ecdsa(Hash::Sha256),
            Self::P384(_) => Alg::Ecdsa(Hash::Sha384),
            Self::P521(_) => Alg::Ecdsa(Hash::Sha512),
        }
    }

    pub fn sign(&self, alg: Alg, msg: &[u8]) -> Vec<u8> {
        use sha2::{Sha256, Sha384, Sha512};
        use signature::hazmat::PrehashSigner;
        let mut r = rng(0x5167);
        match (self, alg) {
            (Self::Rsa(k), Alg::Pkcs1(h)) => {
                let scheme = match h {
                    Hash::Sha1 => rsa::Pkcs1v15Sign::new::<sha1::Sha1>(),
                    Hash::Sha256 => rsa::Pkcs1v15Sign::new::<Sha256>(),
                    Hash::Sha384 => rsa::Pkcs1v15Sign::new::<Sha384>(),
                    Hash::Sha512 => rsa::Pkcs1v15Sign::new::<Sha512>(),
                };
                k.sign_with_rng(&mut r, scheme, &digest(h, msg)).unwrap()
            }
            (Self::Rsa(k), Alg::Pss(h)) => {
                let d = digest(h, msg);
                match h {
                    Hash::Sha256 => k.sign_with_rng(&mut r, rsa::pss::Pss::<Sha256>::new(), &d),
                    Hash::Sha384 => k.sign_with_rng(&mut r, rsa::pss::Pss::<Sha384>::new(), &d),
                    Hash::Sha512 => k.sign_with_rng(&mut r, rsa::pss::Pss::<Sha512>::new(), &d),
                    Hash::Sha1 => k.sign_with_rng(&mut r, rsa::pss::Pss::<sha1::Sha1>::new(), &d),
                }
                .unwrap()
            }
            (Self::P256(k), Alg::Ecdsa(h)) => {
                let s: p256::ecdsa::Signature = k.sign_prehash(&pad(digest(h, msg), 32)).unwrap();
                s.to_der().as_bytes().to_vec()
            }
            (Self::P384(k), Alg::Ecdsa(h)) => {
                let s: p384::ecdsa::Signature = k.sign_prehash(&pad(digest(h, msg), 48)).unwrap();
                s.to_der().as_bytes().to_vec()
            }
            (Self::P521(k), Alg::Ecdsa(h)) => {
                let s: p521::ecdsa::Signature = k.sign_prehash(&pad(digest(h, msg), 66)).unwrap();
                s.to_der().as_bytes().to_vec()
            }
            _ => panic!("test key cannot sign {alg:?}"),
        }
    }
}

fn pad(prehash: Vec<u8>, len: usize) -> Vec<u8> {
    if prehash.len() >= len {
        return prehash;
    }
    let mut v = vec![0u8; len - prehash.len()];
    v.extend_from_slice(&prehash);
    v
}

fn rsa_key(bits: usize, seed: u64) -> Key {
    Key::Rsa(rsa::PrivateKey::new(&mut rng(seed), bits).unwrap())
}

pub fn rsa2048() -> &'static Key {
    static K: OnceLock<Key> = OnceLock::new();
    K.get_or_init(|| rsa_key(2048, 1))
}

pub fn rsa2048_other() -> &'static Key {
    static K: OnceLock<Key> = OnceLock::new();
    K.get_or_init(|| rsa_key(2048, 2))
}

pub fn rsa4096() -> &'static Key {
    static K: OnceLock<Key> = OnceLock::new();
    K.get_or_init(|| rsa_key(4096, 3))
}

pub fn p256() -> &'static Key {
    static K: OnceLock<Key> = OnceLock::new();
    K.get_or_init(|| {
        use p256::elliptic_curve::Generate;
        Key::P256(p256::ecdsa::SigningKey::generate_from_rng(&mut rng(4)))
    })
}

pub fn p256_other() -> &'static Key {
    static K: OnceLock<Key> = OnceLock::new();
    K.get_or_init(|| {
        use p256::elliptic_curve::Generate;
        Key::P256(p256::ecdsa::SigningKey::generate_from_rng(&mut rng(5)))
    })
}

pub fn p384() -> &'static Key {
    static K: OnceLock<Key> = OnceLock::new();
    K.get_or_init(|| {
        use p384::elliptic_curve::Generate;
        Key::P384(p384::ecdsa::SigningKey::generate_from_rng(&mut rng(6)))
    })
}

pub fn p521() -> &'static Key {
    static K: OnceLock<Key> = OnceLock::new();
    K.get_or_init(|| {
        use p521::elliptic_curve::Generate;
        Key::P521(p521::ecdsa::SigningKey::generate_from_rng(&mut rng(7)))
    })
}

/// An rsaEncryption SPKI with the given modulus and exponent (content octets), for keys the
/// policy refuses and that nobody needs to sign with.
pub fn rsa_spki(modulus: &[u8], exponent: &[u8]) -> Vec<u8> {
    let mut n = if modulus[0] & 0x80 != 0 { vec![0u8] } else { Vec::new() };
    n.extend_from_slice(modulus);
    let key = seq(&[&int(&n), &int(exponent)]);
    seq(&[&seq(&[&oid("1.2.840.113549.1.1.1"), &null()]), &bits(&key)])
}

/// An odd modulus of exactly `bits` bits (not a product of two primes: only its size matters).
pub fn fake_modulus(bits: usize) -> Vec<u8> {
    let bytes = bits.div_ceil(8);
    let mut m = vec![0xa5u8; bytes];
    let top = bits - (bytes - 1) * 8; // bits used in the first byte, 1..=8
    m[0] = 0xff >> (8 - top);
    m[0] |= 1 << (top - 1);
    *m.last_mut().unwrap() |= 1;
    m
}

// ---------------------------------------------------------------- certificates

/// The fields of a tbsCertificate, each as DER the test may replace.
#[derive(Clone)]
pub struct Tbs {
    /// Version INTEGER value; `None` omits the field (v1).
    pub version: Option<u8>,
    pub serial: Vec<u8>,
    pub issuer: Vec<u8>,
    pub not_before: Vec<u8>,
    pub not_after: Vec<u8>,
    pub subject: Vec<u8>,
    pub spki: Vec<u8>,
    pub extensions: Vec<Vec<u8>>,
    /// Overrides tbsCertificate.signature (else the signing algorithm's DER).
    pub inner_alg: Option<Vec<u8>>,
}

impl Tbs {
    /// A clean v3 self-issued CA for `key`, named `subject_cn`.
    pub fn ca(key: &Key, subject_cn: &str) -> Self {
        let spki = key.spki();
        Self {
            version: Some(2),
            serial: vec![0x01, 0x23, 0x45],
            issuer: cn(subject_cn),
            not_before: utc_time(NOT_BEFORE),
            not_after: utc_time(NOT_AFTER),
            subject: cn(subject_cn),
            extensions: vec![basic_constraints(true, true, None), key_usage_ca(true), ski(&spki)],
            spki,
            inner_alg: None,
        }
    }

    /// A v3 leaf issued by `issuer` (a Name DER) for `key`.
    pub fn leaf(key: &Key, issuer: &[u8], subject: &[u8]) -> Self {
        Self {
            version: Some(2),
            serial: vec![0x42],
            issuer: issuer.to_vec(),
            not_before: utc_time(NOT_BEFORE),
            not_after: utc_time(NOT_AFTER),
            subject: subject.to_vec(),
            spki: key.spki(),
            extensions: vec![basic_constraints(true, false, None)],
            inner_alg: None,
        }
    }

    pub fn der(&self, alg_der: &[u8]) -> Vec<u8> {
        let mut parts: Vec<Vec<u8>> = Vec::new();
        if let Some(v) = self.version {
            parts.push(tlv(0xa0, &int(&[v])));
        }
        parts.push(int(&self.serial));
        parts.push(self.inner_alg.clone().unwrap_or_else(|| alg_der.to_vec()));
        parts.push(self.issuer.clone());
        parts.push(seq(&[&self.not_before, &self.not_after]));
        parts.push(self.subject.clone());
        parts.push(self.spki.clone());
        if !self.extensions.is_empty() {
            let refs: Vec<&[u8]> = self.extensions.iter().map(Vec::as_slice).collect();
            parts.push(tlv(0xa3, &seq(&refs)));
        }
        let refs: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
        seq(&refs)
    }

    /// Signs with `key`'s default algorithm.
    pub fn sign(&self, key: &Key) -> Vec<u8> {
        self.sign_with(key, key.default_alg())
    }

    pub fn sign_with(&self, key: &Key, alg: Alg) -> Vec<u8> {
        let alg_der = alg.der();
        let tbs = self.der(&alg_der);
        let sig = key.sign(alg, &tbs);
        assemble(&tbs, &alg_der, &bits(&sig))
    }
}

/// Certificate ::= SEQUENCE { tbs, signatureAlgorithm, signatureValue (BIT STRING DER) }.
pub fn assemble(tbs: &[u8], alg: &[u8], signature_bits: &[u8]) -> Vec<u8> {
    seq(&[tbs, alg, signature_bits])
}

pub fn pem(der: &[u8]) -> String {
    pem_rfc7468::encode_string("CERTIFICATE", pem_rfc7468::LineEnding::LF, der).unwrap()
}
