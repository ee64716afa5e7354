//! SPEC §1.2–1.3 through the public API: one fixture per rule, each asserting the exact error
//! variant and the AWS exception name. Fixtures are built by `support` from seeded keys.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers may panic

mod support;

use iot_ca::{
    CaError, Error, Finding, KeyError, ParseError, PemError, Policy, SignatureError, ValidityError, VerifiedCa, Version,
};
use support::*;

fn check_der(der: Vec<u8>) -> Result<VerifiedCa, Error> {
    VerifiedCa::from_pem(&pem(&der), NOW, Policy::default())
}

/// Asserts the CA error and that it is answered with `exception`.
#[track_caller]
fn assert_ca_error(result: Result<VerifiedCa, Error>, expected: CaError, exception: &str) {
    match result {
        Err(Error::CaCertificate(e)) => {
            assert_eq!(e, expected);
            assert_eq!(Error::CaCertificate(e).exception().name(), exception);
        }
        Err(other) => panic!("expected {expected:?}, got {other:?}"),
        Ok(ca) => panic!("expected {expected:?}, accepted with {:?}", ca.findings()),
    }
}

const CVE: &str = "CertificateValidationException";

fn clean(key: &Key, name: &str) -> VerifiedCa {
    let ca = check_der(Tbs::ca(key, name).sign(key)).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(ca.findings(), &[] as &[Finding], "{name}");
    ca
}

// ------------------------------------------------------------------ accepted roots

#[test]
fn accepts_rsa_2048_root() {
    let ca = clean(rsa2048(), "RSA-2048 root");
    assert_eq!(ca.public_key().kind(), iot_ca::KeyKind::Rsa { bits: 2048 });
    assert_eq!(ca.certificate_id(), &iot_ca::CertificateId::of_der(ca.certificate().der()));
}

#[test]
fn accepts_rsa_4096_root() {
    assert_eq!(clean(rsa4096(), "RSA-4096 root").public_key().kind(), iot_ca::KeyKind::Rsa { bits: 4096 });
}

#[test]
fn accepts_ec_roots() {
    assert_eq!(clean(p256(), "P-256 root").public_key().kind(), iot_ca::KeyKind::P256);
    assert_eq!(clean(p384(), "P-384 root").public_key().kind(), iot_ca::KeyKind::P384);
    assert_eq!(clean(p521(), "P-521 root").public_key().kind(), iot_ca::KeyKind::P521);
}

#[test]
fn accepts_every_strong_algorithm_on_its_key() {
    for alg in [
        Alg::Pkcs1(Hash::Sha384),
        Alg::Pkcs1(Hash::Sha512),
        Alg::Pss(Hash::Sha256),
        Alg::Pss(Hash::Sha384),
        Alg::Pss(Hash::Sha512),
    ] {
        let der = Tbs::ca(rsa2048(), "RSA root").sign_with(rsa2048(), alg);
        assert!(check_der(der).is_ok(), "{alg:?}");
    }
    // Curves and hashes are not paired (SPEC is silent; Chromium accepts P-256 with SHA-512).
    for (key, h) in [(p256(), Hash::Sha512), (p384(), Hash::Sha256), (p521(), Hash::Sha256)] {
        let der = Tbs::ca(key, "EC root").sign_with(key, Alg::Ecdsa(h));
        assert!(check_der(der).is_ok(), "{h:?}");
    }
}

#[test]
fn accepts_an_intermediate_without_checking_its_signature() {
    let root = Tbs::ca(rsa2048(), "Root");
    let mut ica = Tbs::ca(p256(), "Intermediate");
    ica.issuer = root.subject.clone();
    let mut der = ica.sign(rsa2048());
    let last = der.len() - 1;
    der[last] ^= 1; // the signature no longer verifies: §1.3 cannot check an intermediate's
    let ca = check_der(der).unwrap();
    assert!(!ca.certificate().is_self_issued());
    assert_eq!(ca.findings(), &[] as &[Finding]);
}

#[test]
fn accepts_generalized_time_and_both_validity_ends() {
    let mut tbs = Tbs::ca(p256(), "GT root");
    tbs.not_before = generalized_time(NOW);
    tbs.not_after = generalized_time(NOW);
    assert!(check_der(tbs.sign(p256())).is_ok());
}

// ------------------------------------------------------------------ findings

fn findings_of(tbs: Tbs, key: &Key, alg: Alg) -> Vec<Finding> {
    let der = tbs.sign_with(key, alg);
    let strict = VerifiedCa::from_pem(&pem(&der), NOW, Policy::strict());
    let findings = check_der(der).unwrap().findings().to_vec();
    if let Some(first) = findings.first() {
        assert_ca_error(strict, CaError::StrictFinding(*first), CVE);
    }
    findings
}

#[test]
fn finding_basic_constraints_not_critical() {
    let mut tbs = Tbs::ca(p256(), "bc");
    tbs.extensions[0] = basic_constraints(false, true, None);
    assert_eq!(findings_of(tbs, p256(), p256().default_alg()), [Finding::BasicConstraintsNotCritical]);
}

#[test]
fn finding_key_usage_absent_and_not_critical() {
    let mut tbs = Tbs::ca(p256(), "ku");
    tbs.extensions.remove(1);
    assert_eq!(findings_of(tbs.clone(), p256(), p256().default_alg()), [Finding::KeyUsageAbsent]);
    tbs.extensions.insert(1, key_usage_ca(false));
    assert_eq!(findings_of(tbs, p256(), p256().default_alg()), [Finding::KeyUsageNotCritical]);
}

#[test]
fn finding_ski_absent() {
    let mut tbs = Tbs::ca(p256(), "ski");
    tbs.extensions.remove(2);
    assert_eq!(findings_of(tbs, p256(), p256().default_alg()), [Finding::SubjectKeyIdentifierAbsent]);
}

#[test]
fn finding_path_len_and_eku_on_root_only() {
    let mut tbs = Tbs::ca(p256(), "pathlen");
    tbs.extensions[0] = basic_constraints(true, true, Some(0));
    tbs.extensions.push(eku_server_auth());
    assert_eq!(
        findings_of(tbs.clone(), p256(), p256().default_alg()),
        [Finding::PathLenOnRoot, Finding::ExtKeyUsageOnRoot]
    );
    tbs.issuer = cn("Some other CA");
    assert_eq!(findings_of(tbs, p256(), p256().default_alg()), []);
}

#[test]
fn finding_sha1_self_signature() {
    let tbs = Tbs::ca(rsa2048(), "sha1");
    assert_eq!(findings_of(tbs.clone(), rsa2048(), Alg::Pkcs1(Hash::Sha1)), [Finding::Sha1SelfSignature]);
    let tbs = Tbs::ca(p256(), "sha1");
    assert_eq!(findings_of(tbs, p256(), Alg::Ecdsa(Hash::Sha1)), [Finding::Sha1SelfSignature]);
}

#[test]
fn finding_serial_zero_or_negative() {
    // Amazon's Starfield roots have serial 0.
    let mut tbs = Tbs::ca(p256(), "serial");
    tbs.serial = vec![0x00];
    assert_eq!(findings_of(tbs.clone(), p256(), p256().default_alg()), [Finding::SerialNotPositive]);
    tbs.serial = vec![0xfb, 0xcd];
    assert_eq!(findings_of(tbs, p256(), p256().default_alg()), [Finding::SerialNotPositive]);
}

#[test]
fn findings_have_ids_and_references() {
    for f in Finding::ALL {
        assert!(!f.id().is_empty() && f.reference().starts_with("RFC"), "{f:?}");
        assert!(f.to_string().contains(f.id()));
    }
}

// ------------------------------------------------------------------ §1.2 input handling

#[test]
fn rejects_pem_shapes() {
    let r = VerifiedCa::from_pem("not a pem", NOW, Policy::default());
    assert_ca_error(r, CaError::Pem(PemError::NoBlock), CVE);
    let key_pem = "-----BEGIN PRIVATE KEY-----\nMAMCAQA=\n-----END PRIVATE KEY-----\n";
    let r = VerifiedCa::from_pem(key_pem, NOW, Policy::default());
    assert_ca_error(r, CaError::Pem(PemError::WrongLabel { label: "PRIVATE KEY".into() }), CVE);
    let r = VerifiedCa::from_pem("", NOW, Policy::default());
    assert_ca_error(r, CaError::Pem(PemError::Empty), "InvalidRequestException");
}

#[test]
fn rejects_trailing_der_bytes() {
    let mut der = Tbs::ca(p256(), "trailing").sign(p256());
    der.push(0);
    assert_ca_error(check_der(der), CaError::Parse(ParseError::TrailingData { len: 1 }), CVE);
}

#[test]
fn rejects_ber_length() {
    let der = Tbs::ca(p256(), "ber").sign(p256());
    // Re-encode the outer length in a non-minimal long form: 30 82 LL LL -> 30 83 00 LL LL.
    assert_eq!(der[1], 0x82);
    let mut ber = vec![0x30, 0x83, 0x00];
    ber.extend_from_slice(&der[2..]);
    assert_ca_error(check_der(ber), CaError::Parse(ParseError::Der { field: "Certificate" }), CVE);
}

#[test]
fn rejects_indefinite_length() {
    let der = Tbs::ca(p256(), "indefinite").sign(p256());
    let mut ber = vec![0x30, 0x80];
    ber.extend_from_slice(&der[4..]);
    ber.extend_from_slice(&[0, 0]);
    assert_ca_error(check_der(ber), CaError::Parse(ParseError::Der { field: "Certificate" }), CVE);
}

#[test]
fn rejects_mismatched_inner_and_outer_algorithm() {
    let mut tbs = Tbs::ca(rsa2048(), "mismatch");
    tbs.inner_alg = Some(Alg::Pkcs1(Hash::Sha384).der());
    let der = tbs.sign(rsa2048());
    assert_ca_error(check_der(der), CaError::Parse(ParseError::SignatureAlgorithmMismatch), CVE);
}

#[test]
fn rejects_signature_with_unused_bits() {
    let tbs = Tbs::ca(p256(), "unused").der(&Alg::Ecdsa(Hash::Sha256).der());
    let sig = p256().sign(Alg::Ecdsa(Hash::Sha256), &tbs);
    let mut bits = vec![0x03u8];
    let mut content = vec![0x01];
    content.extend_from_slice(&sig);
    bits.push(content.len() as u8);
    bits.extend_from_slice(&content);
    let der = assemble(&tbs, &Alg::Ecdsa(Hash::Sha256).der(), &bits);
    assert_ca_error(check_der(der), CaError::Parse(ParseError::SignatureUnusedBits { unused: 1 }), CVE);
}

#[test]
fn rejects_unparsable_version() {
    let mut tbs = Tbs::ca(p256(), "v7");
    tbs.version = Some(7);
    assert_ca_error(check_der(tbs.sign(p256())), CaError::Parse(ParseError::UnsupportedVersion { value: 7 }), CVE);
}

#[test]
fn rejects_fractional_generalized_time() {
    let mut tbs = Tbs::ca(p256(), "fraction");
    tbs.not_before = tlv(0x18, b"20250101000000.5Z");
    assert_ca_error(check_der(tbs.sign(p256())), CaError::Parse(ParseError::Time { field: "notBefore" }), CVE);
}

// ------------------------------------------------------------------ §1.3 errors

#[test]
fn rule_1_rejects_v1() {
    let mut tbs = Tbs::ca(p256(), "v1");
    tbs.version = None;
    tbs.extensions.clear();
    assert_ca_error(check_der(tbs.sign(p256())), CaError::NotVersion3 { version: Version::V1 }, CVE);
}

#[test]
fn rule_1_rejects_duplicate_extension() {
    let mut tbs = Tbs::ca(p256(), "dup");
    let ski = tbs.extensions[2].clone();
    tbs.extensions.push(ski);
    assert_ca_error(check_der(tbs.sign(p256())), CaError::DuplicateExtension { oid: "2.5.29.14".into() }, CVE);
}

#[test]
fn rule_1_rejects_unknown_critical_extension_but_not_a_non_critical_one() {
    let mut tbs = Tbs::ca(p256(), "unknown");
    tbs.extensions.push(extension("1.3.6.1.4.1.99999.1", false, &null()));
    assert!(check_der(tbs.sign(p256())).is_ok());
    tbs.extensions.push(extension("1.3.6.1.4.1.99999.2", true, &null()));
    let expected = CaError::UnrecognisedCriticalExtension { oid: "1.3.6.1.4.1.99999.2".into() };
    assert_ca_error(check_der(tbs.sign(p256())), expected, CVE);
}

#[test]
fn rule_2_rejects_missing_basic_constraints() {
    let mut tbs = Tbs::ca(p256(), "no bc");
    tbs.extensions.remove(0);
    let r = check_der(tbs.sign(p256()));
    assert_eq!(
        r.as_ref().err().map(|e| e.exception().message),
        Some("The CA certificate does not have the basicConstraints extension as true".to_owned())
    );
    assert_ca_error(r, CaError::BasicConstraintsMissing, CVE);
}

#[test]
fn rule_2_rejects_ca_false() {
    let mut tbs = Tbs::ca(p256(), "ca false");
    tbs.extensions[0] = basic_constraints(true, false, None);
    assert_ca_error(check_der(tbs.sign(p256())), CaError::NotCa, CVE);
}

#[test]
fn rule_3_rejects_key_usage_without_key_cert_sign() {
    let mut tbs = Tbs::ca(p256(), "ku");
    tbs.extensions[1] = key_usage_digital_signature(true);
    assert_ca_error(check_der(tbs.sign(p256())), CaError::KeyCertSignMissing, CVE);
}

#[test]
fn rule_4_rejects_expired_and_not_yet_valid() {
    let mut tbs = Tbs::ca(p256(), "expired");
    let before_now = NOW.checked_sub(1).unwrap();
    tbs.not_after = utc_time(before_now);
    let expected = CaError::Validity(ValidityError::Expired { not_after: before_now, now: NOW });
    assert_ca_error(check_der(tbs.sign(p256())), expected, CVE);

    let mut tbs = Tbs::ca(p256(), "future");
    let after_now = NOW.checked_add(1).unwrap();
    tbs.not_before = utc_time(after_now);
    let expected = CaError::Validity(ValidityError::NotYetValid { not_before: after_now, now: NOW });
    assert_ca_error(check_der(tbs.sign(p256())), expected, CVE);

    let mut tbs = Tbs::ca(p256(), "inverted");
    tbs.not_before = utc_time(NOT_AFTER);
    tbs.not_after = utc_time(NOT_BEFORE);
    let expected = CaError::Validity(ValidityError::Inverted { not_before: NOT_AFTER, not_after: NOT_BEFORE });
    assert_ca_error(check_der(tbs.sign(p256())), expected, CVE);
}

#[test]
fn rule_5_rejects_empty_subject() {
    let mut tbs = Tbs::ca(p256(), "x");
    tbs.subject = seq(&[]);
    tbs.issuer = cn("Root");
    assert_ca_error(check_der(tbs.sign(p256())), CaError::EmptySubject, CVE);
}

fn with_spki(spki: Vec<u8>) -> Result<VerifiedCa, Error> {
    let mut tbs = Tbs::ca(p256(), "key");
    tbs.spki = spki;
    check_der(tbs.sign(p256()))
}

#[test]
fn rule_6_rejects_rsa_1024_and_2052() {
    let r = with_spki(rsa_spki(&fake_modulus(1024), &[1, 0, 1]));
    assert_ca_error(r, CaError::Key(KeyError::RsaModulusSize { bits: 1024 }), CVE);
    let r = with_spki(rsa_spki(&fake_modulus(2052), &[1, 0, 1]));
    assert_ca_error(r, CaError::Key(KeyError::RsaModulusNotByteMultiple { bits: 2052 }), CVE);
    let r = with_spki(rsa_spki(&fake_modulus(8200), &[1, 0, 1]));
    assert_ca_error(r, CaError::Key(KeyError::RsaModulusSize { bits: 8200 }), CVE);
}

#[test]
fn rule_6_rejects_bad_exponents() {
    for (e, shown) in
        [(vec![1u8], Some(1)), (vec![0x01, 0x00, 0x00], Some(65536)), (vec![0x02, 0, 0, 0, 1], Some(0x02_0000_0001))]
    {
        let r = with_spki(rsa_spki(&fake_modulus(2048), &e));
        assert_ca_error(r, CaError::Key(KeyError::RsaExponent { exponent: shown }), CVE);
    }
}

#[test]
fn rule_6_rejects_secp256k1_explicit_curve_and_dsa() {
    let point = {
        let mut p = vec![0x04];
        p.extend_from_slice(&[0x11; 64]);
        p
    };
    let k1 = seq(&[&seq(&[&oid("1.2.840.10045.2.1"), &oid("1.3.132.0.10")]), &bits(&point)]);
    let expected =
        CaError::Key(KeyError::UnsupportedCurve { curve: const_oid::ObjectIdentifier::new_unwrap("1.3.132.0.10") });
    assert_ca_error(with_spki(k1), expected, CVE);

    let explicit = seq(&[&seq(&[&oid("1.2.840.10045.2.1"), &seq(&[&int(&[1])])]), &bits(&point)]);
    assert_ca_error(with_spki(explicit), CaError::Key(KeyError::ExplicitCurve), CVE);

    let dsa =
        seq(&[&seq(&[&oid("1.2.840.10040.4.1"), &seq(&[&int(&[3]), &int(&[5]), &int(&[7])])]), &bits(&int(&[9]))]);
    let expected = CaError::Key(KeyError::UnsupportedAlgorithm {
        algorithm: const_oid::ObjectIdentifier::new_unwrap("1.2.840.10040.4.1"),
    });
    assert_ca_error(with_spki(dsa), expected, CVE);

    let off_curve = seq(&[&seq(&[&oid("1.2.840.10045.2.1"), &oid("1.2.840.10045.3.1.7")]), &bits(&point)]);
    assert_ca_error(with_spki(off_curve), CaError::Key(KeyError::InvalidPoint), CVE);
}

#[test]
fn rule_7_rejects_md5_and_unknown_algorithms() {
    let md5 = seq(&[&oid("1.2.840.113549.1.1.4"), &null()]);
    let tbs = Tbs::ca(rsa2048(), "md5").der(&md5);
    let der = assemble(&tbs, &md5, &bits(&[0x55; 256]));
    let expected = CaError::SignatureAlgorithm(SignatureError::UnsupportedAlgorithm {
        algorithm: const_oid::ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.4"),
    });
    assert_ca_error(check_der(der), expected, CVE);
}

#[test]
fn rule_7_rejects_weak_pss_parameters() {
    for (alg, expected) in [
        (pss_alg(Hash::Sha256, Hash::Sha256, 20), SignatureError::PssSaltLength { salt: 20, expected: 32 }),
        (
            pss_alg(Hash::Sha256, Hash::Sha512, 32),
            SignatureError::PssMaskHash { hash: iot_ca::HashAlgorithm::Sha256, mgf: iot_ca::HashAlgorithm::Sha512 },
        ),
        (pss_alg(Hash::Sha1, Hash::Sha1, 20), SignatureError::PssHash { hash: iot_ca::HashAlgorithm::Sha1 }),
    ] {
        let tbs = Tbs::ca(rsa2048(), "pss").der(&alg);
        let der = assemble(&tbs, &alg, &bits(&[0x55; 256]));
        assert_ca_error(check_der(der), CaError::SignatureAlgorithm(expected), CVE);
    }
}

#[test]
fn rule_8_rejects_broken_self_signature() {
    let mut der = Tbs::ca(rsa2048(), "broken").sign(rsa2048());
    let last = der.len() - 1;
    der[last] ^= 0x01;
    let expected = CaError::SelfSignature(SignatureError::Invalid {
        algorithm: iot_ca::SignatureAlgorithm::RsaPkcs1(iot_ca::HashAlgorithm::Sha256),
    });
    assert_ca_error(check_der(der), expected, CVE);
}

#[test]
fn rule_8_rejects_self_issued_ca_signed_by_another_key() {
    let der = Tbs::ca(p256(), "other key").sign(p256_other());
    let expected = CaError::SelfSignature(SignatureError::Invalid {
        algorithm: iot_ca::SignatureAlgorithm::Ecdsa(iot_ca::HashAlgorithm::Sha256),
    });
    assert_ca_error(check_der(der), expected, CVE);
}

#[test]
fn rule_8_rejects_key_algorithm_mismatch() {
    let mut tbs = Tbs::ca(p256(), "mismatch");
    tbs.spki = rsa2048().spki();
    let der = tbs.sign_with(p256(), Alg::Ecdsa(Hash::Sha256));
    let expected = CaError::SelfSignature(SignatureError::KeyMismatch {
        key: iot_ca::KeyKind::Rsa { bits: 2048 },
        algorithm: iot_ca::SignatureAlgorithm::Ecdsa(iot_ca::HashAlgorithm::Sha256),
    });
    assert_ca_error(check_der(der), expected, CVE);
}

#[test]
fn rule_9_serial_at_20_and_21_octets() {
    let mut tbs = Tbs::ca(p256(), "serial");
    tbs.serial = vec![0x7f; 20];
    assert!(check_der(tbs.sign(p256())).is_ok());
    tbs.serial = vec![0x01; 21];
    assert_ca_error(check_der(tbs.sign(p256())), CaError::SerialTooLong { len: 21 }, CVE);
}

#[test]
fn rule_ids_and_references() {
    assert_eq!(CaError::NotCa.rule(), "1.3.2");
    assert_eq!(CaError::SerialTooLong { len: 21 }.rule(), "1.3.9");
    assert_eq!(CaError::StrictFinding(Finding::KeyUsageAbsent).rule(), "ku-absent");
    assert_eq!(CaError::KeyCertSignMissing.reference(), "RFC 5280 §4.2.1.3");
}

#[test]
fn rule_6_rsa_modulus_bounds_at_n_and_n_plus_one() {
    use iot_ca::PublicKey;
    for (bits, ok) in [(2040, false), (2048, true), (8192, true), (8200, false)] {
        let r = PublicKey::from_spki_der(&rsa_spki(&fake_modulus(bits), &[1, 0, 1]));
        assert_eq!(r.is_ok(), ok, "{bits}: {r:?}");
    }
    for bits in [2047, 8193] {
        let r = PublicKey::from_spki_der(&rsa_spki(&fake_modulus(bits), &[1, 0, 1]));
        assert_eq!(r.err(), Some(KeyError::RsaModulusSize { bits }));
    }
}
