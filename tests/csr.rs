//! PKCS#10 certification requests (README rules table, rule 10.3): requests made by rcgen and by
//! OpenSSL (committed fixtures: the tests never run openssl) parse and verify; the key policy,
//! the strong set without SHA-1, the version, trailing bytes and the PEM label are enforced;
//! and a differential property against x509-cert's `request` module over byte mutations.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers may panic

mod support;

use der::{Decode, Encode};
use iot_ca::{
    Backend, CsrError, Error, ExceptionKind, HashAlgorithm, KeyError, KeyKind, ParsedCsr, PemError, SignatureAlgorithm,
    SignatureError, VerifiedCsr,
};
use proptest::prelude::*;
use support::*;

// ------------------------------------------------------------------ fixtures

/// rcgen's key pair for one of the seeded test keys (through its PKCS#8 encoding).
fn rcgen_key(key: &Key) -> rcgen::KeyPair {
    use p256::pkcs8::EncodePrivateKey;
    let pkcs8 = match key {
        Key::Rsa(k) => k.to_pkcs8_der().unwrap(),
        Key::P256(k) => k.to_pkcs8_der().unwrap(),
        Key::P384(k) => k.to_pkcs8_der().unwrap(),
        Key::P521(k) => k.to_pkcs8_der().unwrap(),
    };
    rcgen::KeyPair::try_from(pkcs8.as_bytes()).unwrap()
}

/// A request made by rcgen for `key`: CN and O, a subjectAltName (so an extensionRequest).
/// rcgen signs ECDSA with ring's random nonces, so only RSA requests are the same every run.
fn rcgen_csr(key: &Key) -> rcgen::CertificateSigningRequest {
    let mut params = rcgen::CertificateParams::new(vec!["device.example".to_owned()]).unwrap();
    params.distinguished_name = rcgen::DistinguishedName::new();
    params.distinguished_name.push(rcgen::DnType::OrganizationName, "iot-ca tests");
    params.distinguished_name.push(rcgen::DnType::CommonName, "device 1");
    params.serialize_request(&rcgen_key(key)).unwrap()
}

fn version(v: u8) -> Vec<u8> {
    int(&[v])
}

/// `attributes [0] IMPLICIT SET OF Attribute` with the given (already ordered) attributes.
fn attributes(list: &[&[u8]]) -> Vec<u8> {
    tlv(0xa0, &list.concat())
}

/// challengePassword (RFC 2985 §5.4.1) as a UTF8String.
fn challenge_password(value: &str) -> Vec<u8> {
    seq(&[&oid("1.2.840.113549.1.9.7"), &set(&[&tlv(0x0c, value.as_bytes())])])
}

/// extensionRequest (RFC 2985 §5.4.2) with basicConstraints cA FALSE and keyUsage.
fn extension_request() -> Vec<u8> {
    let extensions = seq(&[&basic_constraints(true, false, None), &key_usage_digital_signature(true)]);
    seq(&[&oid("1.2.840.113549.1.9.14"), &set(&[&extensions])])
}

/// certificationRequestInfo for `key`, named `subject`.
fn info(version: &[u8], subject: &[u8], key: &Key, attributes: &[u8]) -> Vec<u8> {
    seq(&[version, subject, &key.spki(), attributes])
}

/// A request signed by hand: deterministic (RFC 6979 ECDSA, PKCS#1 v1.5), any algorithm.
fn signed(info: &[u8], key: &Key, alg: Alg) -> Vec<u8> {
    seq(&[info, &alg.der(), &bits(&key.sign(alg, info))])
}

fn p256_request() -> Vec<u8> {
    let attributes = attributes(&[&challenge_password("open sesame"), &extension_request()]);
    let info = info(&version(0), &cn("device p-256"), p256(), &attributes);
    signed(&info, p256(), Alg::Ecdsa(Hash::Sha256))
}

fn p384_request() -> Vec<u8> {
    let info = info(&version(0), &cn("device p-384"), p384(), &attributes(&[]));
    signed(&info, p384(), Alg::Ecdsa(Hash::Sha384))
}

/// An RSA-1024 key: made once, outside any property loop.
fn rsa1024() -> &'static Key {
    static K: std::sync::OnceLock<Key> = std::sync::OnceLock::new();
    K.get_or_init(|| Key::Rsa(rsa::PrivateKey::new(&mut rng(10), 1024).unwrap()))
}

fn csr_pem(label: &str, der: &[u8]) -> String {
    pem_rfc7468::encode_string(label, pem_rfc7468::LineEnding::LF, der).unwrap()
}

/// Parses and verifies on every backend of the build; they must agree.
fn verify_der(der: &[u8]) -> Result<VerifiedCsr, CsrError> {
    let mut answers: Vec<_> =
        Backend::ALL.iter().map(|&b| ParsedCsr::from_der(der.to_vec()).and_then(|c| c.verify(b))).collect();
    for other in &answers[1..] {
        assert_eq!(other.as_ref().err(), answers[0].as_ref().err(), "the backends disagree");
    }
    answers.swap_remove(0)
}

fn assert_refused(der: &[u8], expected: CsrError) {
    let err = verify_der(der).err();
    assert_eq!(err, Some(expected.clone()));
    let exception = Error::from(expected).exception();
    assert_eq!(exception.kind, ExceptionKind::InvalidRequest);
    assert!(exception.message.starts_with("certificate signing request: "), "{}", exception.message);
}

// ------------------------------------------------------------------ accepted

#[test]
fn rcgen_requests_for_p256_p384_and_rsa_2048_verify() {
    for (key, kind) in [(p256(), KeyKind::P256), (p384(), KeyKind::P384), (rsa2048(), KeyKind::Rsa { bits: 2048 })] {
        let csr = rcgen_csr(key);
        let der = csr.der().to_vec();
        let verified = verify_der(&der).unwrap();
        assert_eq!(verified.public_key().kind(), kind);
        assert_eq!(verified.csr().spki_der(), key.spki());
        assert_eq!(verified.csr().subject_der(), name(&[(O, "iot-ca tests"), (CN, "device 1")]));
        assert!(verified.csr().extension_request_der().is_some());
        // rcgen's PEM, label `CERTIFICATE REQUEST`, gives the same request.
        let from_pem = ParsedCsr::from_pem(&csr.pem().unwrap()).unwrap();
        assert_eq!(from_pem.der(), der);
    }
}

#[test]
fn hand_made_requests_with_attributes_verify() {
    for der in [p256_request(), p384_request()] {
        let verified = verify_der(&der).unwrap();
        let theirs = x509_cert::request::CertReq::from_der(&der).unwrap();
        assert_eq!(verified.csr().subject_der(), theirs.info.subject.to_der().unwrap());
        assert_eq!(verified.csr().attributes_der().len() > 2, !theirs.info.attributes.is_empty());
    }
    let csr = ParsedCsr::from_der(p256_request()).unwrap();
    let extensions = seq(&[&basic_constraints(true, false, None), &key_usage_digital_signature(true)]);
    assert_eq!(csr.extension_request_der(), Some(extensions.as_slice()));
}

/// What `openssl req -new` wrote (tests/data/make_openssl_csr_fixtures.sh; the keys were thrown
/// away): a P-256 request with subjectAltName and keyUsage, and an RSA-2048 one with a
/// challengePassword and an extensionRequest under the `NEW CERTIFICATE REQUEST` label.
#[test]
fn openssl_requests_verify() {
    let p256 = ParsedCsr::from_pem(include_str!("data/openssl-p256.csr")).unwrap();
    assert!(p256.extension_request_der().is_some());
    let verified = p256.verify(Backend::RustCrypto).unwrap();
    assert_eq!(verified.public_key().kind(), KeyKind::P256);
    let text = include_str!("data/openssl-rsa-newhdr.csr");
    assert!(text.contains("-----BEGIN NEW CERTIFICATE REQUEST-----"));
    let rsa = verify_der(ParsedCsr::from_pem(text).unwrap().der()).unwrap();
    assert_eq!(rsa.public_key().kind(), KeyKind::Rsa { bits: 2048 });
}

#[test]
fn pem_with_explanatory_text_and_crlf() {
    let der = p256_request();
    let text = format!("Certificate Request:\r\n    Subject: CN=device\r\n{}", csr_pem("CERTIFICATE REQUEST", &der))
        .replace('\n', "\r\n");
    assert_eq!(ParsedCsr::from_pem(&text).unwrap().der(), der);
}

// ------------------------------------------------------------------ refused

#[test]
fn rsa_1024_is_outside_the_key_policy() {
    let info = info(&version(0), &cn("small"), rsa1024(), &attributes(&[]));
    let der = signed(&info, rsa1024(), Alg::Pkcs1(Hash::Sha256));
    // The structure is fine; the key is what is refused.
    assert!(ParsedCsr::from_der(der.clone()).is_ok());
    assert_refused(&der, CsrError::Key(KeyError::RsaModulusSize { bits: 1024 }));
}

#[test]
fn a_tampered_signature_does_not_verify() {
    let mut der = rcgen_csr(rsa2048()).der().to_vec();
    *der.last_mut().unwrap() ^= 0x01;
    let algorithm = SignatureAlgorithm::RsaPkcs1(HashAlgorithm::Sha256);
    assert_refused(&der, CsrError::Signature(SignatureError::Invalid { algorithm }));
    // A genuine signature moved to another subject, the same key.
    let other = info(&version(0), &cn("someone else"), p256(), &attributes(&[]));
    let genuine = ParsedCsr::from_der(p256_request()).unwrap();
    let mut moved = seq(&[&other, &Alg::Ecdsa(Hash::Sha256).der(), &bits(genuine.signature())]);
    let algorithm = SignatureAlgorithm::Ecdsa(HashAlgorithm::Sha256);
    assert_refused(&moved, CsrError::Signature(SignatureError::Invalid { algorithm }));
    moved.truncate(moved.len() - 1);
    assert!(matches!(ParsedCsr::from_der(moved), Err(CsrError::Der { .. })));
}

#[test]
fn sha_1_self_signatures_are_refused() {
    let rsa_info = info(&version(0), &cn("sha-1"), rsa2048(), &attributes(&[]));
    let der = signed(&rsa_info, rsa2048(), Alg::Pkcs1(Hash::Sha1));
    assert_refused(&der, CsrError::Signature(SignatureError::Sha1NotAllowed));
    let ec_info = info(&version(0), &cn("sha-1"), p256(), &attributes(&[]));
    let der = signed(&ec_info, p256(), Alg::Ecdsa(Hash::Sha1));
    assert_refused(&der, CsrError::Signature(SignatureError::Sha1NotAllowed));
}

#[test]
fn an_algorithm_that_does_not_fit_the_key_is_refused() {
    let info = info(&version(0), &cn("mismatch"), p256(), &attributes(&[]));
    let signature = p256().sign(Alg::Ecdsa(Hash::Sha256), &info);
    let der = seq(&[&info, &Alg::Pkcs1(Hash::Sha256).der(), &bits(&signature)]);
    let algorithm = SignatureAlgorithm::RsaPkcs1(HashAlgorithm::Sha256);
    assert_refused(&der, CsrError::Signature(SignatureError::KeyMismatch { key: KeyKind::P256, algorithm }));
}

#[test]
fn a_v2_request_is_refused() {
    let info = info(&version(1), &cn("v2"), p256(), &attributes(&[]));
    assert_refused(&signed(&info, p256(), Alg::Ecdsa(Hash::Sha256)), CsrError::Version { value: 1 });
}

#[test]
fn trailing_bytes_are_refused() {
    let mut der = p256_request();
    der.push(0x00);
    assert_refused(&der, CsrError::TrailingData { len: 1 });
    let text = csr_pem("CERTIFICATE REQUEST", &der);
    assert_eq!(ParsedCsr::from_pem(&text).err(), Some(CsrError::TrailingData { len: 1 }));
}

#[test]
fn another_pem_label_is_refused() {
    let der = p256_request();
    for label in ["CERTIFICATE", "PRIVATE KEY", "CERTIFICATE REQUEST2"] {
        let err = ParsedCsr::from_pem(&csr_pem(label, &der)).err();
        assert_eq!(err, Some(CsrError::Pem(PemError::WrongLabel { label: label.into() })));
    }
    let exception = Error::from(CsrError::Pem(PemError::WrongLabel { label: "CERTIFICATE".into() })).exception();
    assert_eq!(exception.kind, ExceptionKind::InvalidRequest);
    assert_eq!(
        exception.message,
        "certificate signing request: the PEM block is labelled CERTIFICATE, not CERTIFICATE REQUEST"
    );
    // A certificate field still refuses a request.
    let err = iot_ca::ParsedCertificate::from_pem(&csr_pem("CERTIFICATE REQUEST", &der)).err().unwrap();
    assert_eq!(err.to_string(), "the PEM block is labelled CERTIFICATE REQUEST, not CERTIFICATE");
}

// ------------------------------------------------------------------ differential property

/// `Ok(true)` when our parser accepted `der` and x509-cert's `CertReq` decoded it with the same
/// subject, subjectPKInfo and signature bytes; `Ok(false)` when our parser refused it; `Err`
/// names the disagreement. Where we are stricter (attributes in DER order, non-empty values,
/// the extensionRequest's shape, version v1 only) x509-cert is not asked.
fn agrees(der: &[u8]) -> Result<bool, String> {
    let Ok(ours) = ParsedCsr::from_der(der.to_vec()) else { return Ok(false) };
    let theirs =
        x509_cert::request::CertReq::from_der(der).map_err(|e| format!("x509-cert refuses what we accept: {e}"))?;
    let encode = |what: &str, r: der::Result<Vec<u8>>| r.map_err(|e| format!("x509-cert cannot re-encode {what}: {e}"));
    let pairs = [
        ("subject", ours.subject_der().to_vec(), encode("subject", theirs.info.subject.to_der())?),
        ("subjectPKInfo", ours.spki_der().to_vec(), encode("subjectPKInfo", theirs.info.public_key.to_der())?),
        ("signature", ours.signature().to_vec(), theirs.signature.raw_bytes().to_vec()),
        (
            "certificationRequestInfo",
            ours.info_der().to_vec(),
            encode("certificationRequestInfo", theirs.info.to_der())?,
        ),
    ];
    for (field, a, b) in pairs {
        if a != b {
            return Err(format!("{field} differs: ours {a:02x?}, x509-cert {b:02x?}"));
        }
    }
    Ok(true)
}

/// Deterministic fixtures: two made by hand (ECDSA per RFC 6979) and rcgen's RSA-2048 request
/// (PKCS#1 v1.5 is deterministic), made once.
fn fixtures() -> &'static [Vec<u8>] {
    static F: std::sync::OnceLock<Vec<Vec<u8>>> = std::sync::OnceLock::new();
    F.get_or_init(|| vec![p256_request(), p384_request(), rcgen_csr(rsa2048()).der().to_vec()])
}

#[test]
fn the_fixtures_agree_with_x509_cert() {
    for der in fixtures() {
        assert_eq!(agrees(der), Ok(true));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2_000, ..ProptestConfig::default() })]

    /// Byte flips, overwrites, increments, truncations and insertions anywhere in the
    /// fixtures: whatever our parser accepts, x509-cert decodes with the same field bytes.
    #[test]
    fn accepted_mutations_agree_with_x509_cert(
        which in 0usize..3,
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..5), 1..4),
    ) {
        let mut der = fixtures()[which].clone();
        for (index, value, kind) in edits {
            if der.is_empty() {
                break;
            }
            let at = index.index(der.len());
            match kind {
                0 => der[at] ^= 1 << (value % 8),
                1 => der[at] = value,
                2 => der[at] = der[at].wrapping_add(if value % 2 == 0 { 1 } else { 0xff }),
                3 => der.truncate(at),
                _ => der.insert(at, value),
            }
        }
        prop_assert_eq!(agrees(&der).err(), None);
    }

    /// Any text, and any bytes as DER: an answer, never a panic.
    #[test]
    fn no_input_panics(text in ".{0,300}", bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = ParsedCsr::from_pem(&text);
        if let Ok(csr) = ParsedCsr::from_der(bytes) {
            let _ = csr.verify(Backend::RustCrypto);
        }
    }
}
