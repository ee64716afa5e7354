//! Strict DER in every field of a certificate (README rules table, rule 1.2): the Names walked
//! to the last byte, AlgorithmIdentifiers and the SubjectPublicKeyInfo by shape, unique IDs as
//! DER BIT STRINGs, every validity time RFC 5280 allows, and a differential property against
//! x509-cert's decoder over byte mutations of the fixtures.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers may panic

#[path = "support/differential.rs"]
mod differential;
mod support;

use iot_ca::{CaError, Error, ParseError, ParsedCertificate, Policy, UnixTime, ValidityError, VerifiedCa};
use proptest::prelude::*;
use support::*;

const C: &str = "2.5.4.6";

/// `/C=DE/O=Holdout Devices Ltd/CN=Holdout Root CA`, C as PrintableString, O and CN as
/// UTF8String: the Name of the reproductions (the O attribute's SEQUENCE is 0x1a long,
/// the CN's value 0x0f).
fn holdout_name() -> Vec<u8> {
    let atv = |t: &str, tag: u8, v: &str| set(&[&seq(&[&oid(t), &tlv(tag, v.as_bytes())])]);
    seq(&[&atv(C, 0x13, "DE"), &atv(O, 0x0c, "Holdout Devices Ltd"), &atv(CN, 0x0c, "Holdout Root CA")])
}

/// A valid RSA-2048 root named [`holdout_name`].
fn holdout_root() -> Vec<u8> {
    let mut tbs = Tbs::ca(rsa2048(), "unused");
    tbs.issuer = holdout_name();
    tbs.subject = holdout_name();
    tbs.sign(rsa2048())
}

/// Where the issuer (first) and the subject (second) Name stand in `der`.
fn name_offsets(der: &[u8]) -> (usize, usize) {
    let name = holdout_name();
    let first = der.windows(name.len()).position(|w| w == name).unwrap();
    let second = first + 1 + der[first + 1..].windows(name.len()).position(|w| w == name).unwrap();
    (first, second)
}

/// Changes the byte at `offset_in_name` of the issuer (or subject) from `from` to `to`.
fn mutate(in_subject: bool, offset_in_name: usize, from: u8, to: u8) -> Vec<u8> {
    let mut der = holdout_root();
    let (issuer, subject) = name_offsets(&der);
    let at = if in_subject { subject } else { issuer } + offset_in_name;
    assert_eq!(der[at], from, "the fixture is not laid out as the reproduction says");
    der[at] = to;
    der
}

#[track_caller]
fn assert_refused(der: Vec<u8>, field: &'static str) {
    match VerifiedCa::from_pem(&pem(&der), NOW, Policy::default()) {
        Err(e @ Error::CaCertificate(CaError::Parse(ParseError::Der { field: f }))) if f == field => {
            assert_eq!(e.exception().name(), "CertificateValidationException");
        }
        other => panic!("expected ParseError::Der at {field}, got {other:?}"),
    }
}

// Offsets inside holdout_name(): 0 SEQUENCE; 2 SET (C); 4 ATV; 6 OID; 11 PrintableString;
// 15 SET (O); 17 ATV (O, length 0x1a at 18); 19 OID (O, length at 20); 24 UTF8String;
// 45 SET (CN); 47 ATV (CN); 49 OID (CN, length at 50); 54 UTF8String (CN, length 0x0f at 55).

#[test]
fn the_holdout_root_itself_is_accepted() {
    let ca = VerifiedCa::from_pem(&pem(&holdout_root()), NOW, Policy::default()).unwrap();
    assert_eq!(ca.certificate().subject_der(), holdout_name());
    assert_eq!(differential::agrees(&holdout_root()), Ok(true));
}

#[test]
fn issuer_rdn_set_tag_made_a_constructed_printable_string() {
    assert_refused(mutate(false, 2, 0x31, 0x33), "issuer");
}

#[test]
fn issuer_oid_length_shortened() {
    assert_refused(mutate(false, 20, 0x03, 0x01), "issuer");
}

#[test]
fn issuer_attribute_sequence_runs_past_its_set() {
    assert_refused(mutate(false, 18, 0x1a, 0x37), "issuer");
}

#[test]
fn subject_common_name_oid_length_shortened() {
    assert_refused(mutate(true, 50, 0x03, 0x01), "subject");
}

#[test]
fn subject_common_name_string_length_shortened() {
    assert_refused(mutate(true, 55, 0x0f, 0x0d), "subject");
}

#[test]
fn subject_attribute_sequence_one_byte_too_long() {
    assert_refused(mutate(true, 18, 0x1a, 0x1b), "subject");
}

fn with_names(issuer: Vec<u8>, subject: Vec<u8>) -> Vec<u8> {
    let mut tbs = Tbs::ca(p256(), "unused");
    tbs.issuer = issuer;
    tbs.subject = subject;
    tbs.sign(p256())
}

#[test]
fn an_empty_rdn_is_refused() {
    // RelativeDistinguishedName ::= SET SIZE (1..MAX) OF AttributeTypeAndValue
    assert_refused(with_names(seq(&[&set(&[]), &cn("x")[2..]]), cn("ok")), "issuer");
    assert_refused(with_names(cn("ok"), seq(&[&set(&[])])), "subject");
}

#[test]
fn a_multi_valued_rdn_must_be_in_der_order() {
    let a = seq(&[&oid(CN), &tlv(0x0c, b"a")]);
    let b = seq(&[&oid(O), &tlv(0x0c, b"b")]);
    // 2.5.4.3 encodes below 2.5.4.10, so (CN, O) is the DER order.
    let sorted = seq(&[&set(&[&a, &b])]);
    let unsorted = seq(&[&set(&[&b, &a])]);
    assert!(ParsedCertificate::from_der(with_names(sorted.clone(), sorted)).is_ok());
    assert_refused(with_names(unsorted, cn("ok")), "issuer");
}

#[test]
fn an_attribute_with_a_malformed_oid_or_two_values_is_refused() {
    // An OID arc with a non-minimal 0x80 lead octet.
    let bad_oid = seq(&[&set(&[&seq(&[&tlv(0x06, &[0x55, 0x80, 0x04]), &tlv(0x0c, b"x")])])]);
    assert_refused(with_names(bad_oid, cn("ok")), "issuer");
    let two_values = seq(&[&set(&[&seq(&[&oid(CN), &tlv(0x0c, b"x"), &tlv(0x0c, b"y")])])]);
    assert_refused(with_names(cn("ok"), two_values), "subject");
}

#[test]
fn algorithm_identifiers_and_the_key_are_walked_by_shape() {
    let mut tbs = Tbs::ca(p256(), "shape");
    tbs.spki = seq(&[&seq(&[&oid("1.2.840.10045.2.1")]), &tlv(0x03, &[0x08, 0x04])]);
    assert_refused(tbs.sign(p256()), "subjectPublicKey");
    let mut tbs = Tbs::ca(p256(), "shape");
    tbs.inner_alg = Some(seq(&[&oid("1.2.840.10045.4.3.2"), &null(), &null()]));
    let der = tbs.der(&tbs.inner_alg.clone().unwrap());
    assert_refused(assemble(&der, tbs.inner_alg.as_ref().unwrap(), &bits(&[1, 2, 3])), "signatureAlgorithm");
}

#[test]
fn unique_ids_are_der_bit_strings() {
    let base = Tbs::ca(p256(), "ids");
    let with_id = |content: &[u8]| {
        let alg = p256().default_alg().der();
        let tbs = base.der(&alg);
        // Insert [1] IMPLICIT BIT STRING after the SPKI (before the [3] extensions).
        let spki_at = tbs.windows(base.spki.len()).position(|w| w == base.spki).unwrap() + base.spki.len();
        let mut fields = tbs[2..spki_at].to_vec();
        fields.extend(tlv(0x81, content));
        fields.extend_from_slice(&tbs[spki_at..]);
        let tbs = tlv(0x30, &fields[if tbs[1] & 0x80 != 0 { usize::from(tbs[1] & 0x7f) } else { 0 }..]);
        assemble(&tbs, &alg, &bits(&p256().sign(p256().default_alg(), &tbs)))
    };
    assert!(ParsedCertificate::from_der(with_id(&[0x00, 0xab])).is_ok());
    assert!(ParsedCertificate::from_der(with_id(&[0x04, 0xf0])).is_ok());
    for bad in [&[][..], &[0x01], &[0x08, 0xff], &[0x04, 0xf8]] {
        assert_eq!(
            ParsedCertificate::from_der(with_id(bad)),
            Err(ParseError::Der { field: "issuerUniqueID" }),
            "{bad:02x?}"
        );
    }
}

// ------------------------------------------------------------------ every time RFC 5280 allows

#[test]
fn a_utctime_before_1970_is_1950_to_1969() {
    // NIST PKITS 4.2.3 (Validpre2000UTCnotBeforeDateTest3EE): notBefore 500101120100Z.
    let mut tbs = Tbs::ca(p256(), "pre-1970");
    tbs.not_before = tlv(0x17, b"500101120100Z");
    let ca = VerifiedCa::from_pem(&pem(&tbs.sign(p256())), NOW, Policy::default()).unwrap();
    assert_eq!(ca.certificate().not_before(), UnixTime::from_secs(-631_108_740));
    assert_eq!(ca.certificate().not_before().to_string(), "1950-01-01T12:01:00Z");
    // Valid at a time before 1970, too.
    assert!(ca.certificate().check_validity(UnixTime::from_secs(-1)).is_ok());
}

#[test]
fn generalized_time_up_to_9999_and_exact_comparison() {
    let mut tbs = Tbs::ca(p256(), "no expiry");
    tbs.not_after = tlv(0x18, b"99991231235959Z");
    let cert = ParsedCertificate::from_der(tbs.sign(p256())).unwrap();
    assert_eq!(cert.not_after(), UnixTime::MAX);
    assert!(cert.check_validity(UnixTime::MAX).is_ok());
    let after = UnixTime::MAX.checked_add(1).unwrap();
    assert_eq!(cert.check_validity(after), Err(ValidityError::Expired { not_after: UnixTime::MAX, now: after }));
    // A GeneralizedTime with fractions, a leap second or no Z is refused.
    for bad in [&b"20500101000000.5Z"[..], b"20501231235960Z", b"20500101000000"] {
        let mut tbs = Tbs::ca(p256(), "bad time");
        tbs.not_after = tlv(0x18, bad);
        assert_eq!(ParsedCertificate::from_der(tbs.sign(p256())), Err(ParseError::Time { field: "notAfter" }));
    }
}

// ------------------------------------------------------------------ differential property

fn fixtures() -> Vec<Vec<u8>> {
    vec![holdout_root(), Tbs::ca(p256(), "P-256 root").sign(p256()), {
        let ca = Tbs::ca(p384(), "P-384 issuer");
        Tbs::leaf(p256(), &ca.subject, &cn("device")).sign(p384())
    }]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2_000, ..ProptestConfig::default() })]

    /// Bit flips and length edits anywhere in the fixtures: whatever our parser accepts,
    /// x509-cert accepts with the same field bytes.
    #[test]
    fn accepted_mutations_agree_with_x509_cert(
        which in 0usize..3,
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0u8..3), 1..4),
    ) {
        let mut der = fixtures().swap_remove(which);
        for (index, value, kind) in edits {
            let at = index.index(der.len());
            match kind {
                0 => der[at] ^= 1 << (value % 8),
                1 => der[at] = value,
                _ => der[at] = der[at].wrapping_add(if value % 2 == 0 { 1 } else { 0xff }),
            }
        }
        prop_assert_eq!(differential::agrees(&der).err(), None);
    }
}
