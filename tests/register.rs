//! RegisterCACertificate end to end through the public API (SPEC §1.1–1.7): one test per rule
//! and per exception, on fixtures built from seeded keys (`support`) and on the openssl-made
//! fixture of `tests/data/make_openssl_fixtures.sh`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers may panic

mod support;

use iot_ca::{
    AccountFacts, AccountId, AccountScope, AutoRegistrationStatus, CaError, CaStatus, CertificateMode, Error, Finding,
    ParsedCertificate, PemError, Policy, Region, RegisterCaCertificateRequest, RegistrationCode, RegistrationCodeError,
    RegistrationConfig, RegistryError, RequestError, SignatureError, TagError, Tags, TemplateFacts, TemplateType,
    UnixTime, ValidityError, VerificationError, admit, check,
};
use support::*;

const CODE: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

fn code() -> RegistrationCode {
    RegistrationCode::parse(CODE).unwrap()
}

fn scope() -> AccountScope {
    AccountScope::new(AccountId::parse("123456789012").unwrap(), Region::parse("us-east-1").unwrap())
}

/// A CA for `key` and a verification certificate it signs with CN = `CODE`.
fn ca_and_proof(key: &Key) -> (String, String) {
    let ca = Tbs::ca(key, "Fleet Root");
    let proof = Tbs::leaf(p256_other(), &ca.subject, &name(&[(CN, CODE)]));
    (pem(&ca.sign(key)), pem(&proof.sign(key)))
}

fn request(key: &Key) -> RegisterCaCertificateRequest {
    let (ca, proof) = ca_and_proof(key);
    RegisterCaCertificateRequest::new(ca).with_verification_certificate(proof)
}

#[track_caller]
fn assert_err<T: std::fmt::Debug>(result: Result<T, Error>, expected: Error, exception: &str) {
    let err = result.expect_err("expected an error");
    assert_eq!(err, expected);
    assert_eq!(err.exception().name(), exception);
}

fn run(request: &RegisterCaCertificateRequest) -> Result<iot_ca::CheckedRegistration, Error> {
    check(request, &code(), Policy::default(), NOW)
}

/// A request whose proof is `proof` (built by the test) under the CA of `key`.
fn with_proof(key: &Key, proof: Vec<u8>) -> RegisterCaCertificateRequest {
    RegisterCaCertificateRequest::new(pem(&Tbs::ca(key, "Fleet Root").sign(key)))
        .with_verification_certificate(pem(&proof))
}

fn proof_tbs(subject: &[u8]) -> Tbs {
    Tbs::leaf(p256_other(), &cn("Fleet Root"), subject)
}

const CVE: &str = "CertificateValidationException";
const RCVE: &str = "RegistrationCodeValidationException";
const IRE: &str = "InvalidRequestException";

// ------------------------------------------------------------------ accepted registrations

#[test]
fn registers_rsa_p256_and_p384_cas_with_their_proofs() {
    for key in [rsa2048(), p256(), p384()] {
        let candidate = run(&request(key)).unwrap();
        assert_eq!(candidate.certificate_mode(), CertificateMode::Default);
        let registration = admit(candidate, &AccountFacts::new(), &scope(), &mut rng(9)).unwrap();
        assert!(registration.certificate_arn.starts_with("arn:aws:iot:us-east-1:123456789012:cacert/"));
        assert!(registration.certificate_arn.ends_with(registration.certificate_id.as_str()));
    }
}

#[test]
fn registers_the_openssl_made_v1_proof_of_the_aws_guide() {
    let ca = include_str!("data/openssl-ca.pem");
    let proof = include_str!("data/openssl-verification.pem");
    let parsed = ParsedCertificate::from_der(pem_rfc7468::decode_vec(proof.as_bytes()).unwrap().1).unwrap();
    assert_eq!(parsed.version(), iot_ca::Version::V1);
    // 2030-01-01T00:00:00Z, inside both fixtures' validity.
    let now = UnixTime::from_secs(1_893_456_000);
    let req = RegisterCaCertificateRequest::new(ca).with_verification_certificate(proof);
    let candidate = check(&req, &code(), Policy::default(), now).unwrap();
    assert!(admit(candidate, &AccountFacts::new(), &scope(), &mut rng(1)).is_ok());
    let wrong = RegistrationCode::parse(&CODE.replace('0', "1")).unwrap();
    let e = check(&req, &wrong, Policy::default(), now);
    assert_err(e, Error::RegistrationCode(RegistrationCodeError::Mismatch), RCVE);
}

#[test]
fn registers_with_a_pss_signed_proof() {
    let proof = proof_tbs(&name(&[(CN, CODE)])).sign_with(rsa2048(), Alg::Pss(Hash::Sha256));
    assert!(run(&with_proof(rsa2048(), proof)).is_ok());
}

#[test]
fn sni_only_needs_no_proof() {
    let (ca, _) = ca_and_proof(p256());
    let req = RegisterCaCertificateRequest::new(ca).with_certificate_mode(CertificateMode::SniOnly);
    let registration = admit(run(&req).unwrap(), &AccountFacts::new(), &scope(), &mut rng(1)).unwrap();
    assert_eq!(registration.description.certificate_mode, CertificateMode::SniOnly);
}

#[test]
fn description_is_what_spec_1_7_stores() {
    let tags = Tags::new(&[("env", "test")]).unwrap();
    let config = RegistrationConfig::from_members(None, None, Some("jitp-template")).unwrap().unwrap();
    let req = request(p256())
        .with_set_as_active(true)
        .with_allow_auto_registration(true)
        .with_tags(tags.clone())
        .with_registration_config(config.clone());
    let candidate = run(&req).unwrap();
    assert_eq!(candidate.template_name().map(|t| t.as_str()), Some("jitp-template"));
    let facts = AccountFacts::new().with_template(TemplateFacts::new(TemplateType::Jitp));
    let r = admit(candidate, &facts, &scope(), &mut rng(42)).unwrap();
    let d = &r.description;
    assert_eq!(d.certificate_arn, r.certificate_arn);
    assert_eq!(d.certificate_id, r.certificate_id);
    assert_eq!(d.status, CaStatus::Active);
    assert_eq!(d.auto_registration_status, AutoRegistrationStatus::Enable);
    assert_eq!(d.owned_by.as_str(), "123456789012");
    assert_eq!((d.creation_date, d.last_modified_date, d.customer_version), (NOW, NOW, 1));
    assert_eq!((d.validity.not_before, d.validity.not_after), (NOT_BEFORE, NOT_AFTER));
    assert_eq!(d.tags, tags);
    assert_eq!(d.registration_config, Some(config));
    assert_eq!(d.findings, Vec::<Finding>::new());
    // The stored PEM is canonical and holds the same DER, whose SHA-256 is the id.
    let (label, der) = pem_rfc7468::decode_vec(d.certificate_pem.as_bytes()).unwrap();
    assert_eq!(label, "CERTIFICATE");
    assert_eq!(iot_ca::CertificateId::of_der(&der), r.certificate_id);
    // generationId: a UUID v4 from the caller's RNG, the same for the same seed.
    let g = &d.generation_id;
    assert_eq!((g.len(), &g[14..15]), (36, "4"), "{g}");
    assert!(matches!(&g[19..20], "8" | "9" | "a" | "b"), "{g}");
    let again = admit(run(&req).unwrap(), &facts, &scope(), &mut rng(42)).unwrap();
    assert_eq!(&again.description.generation_id, g);
    let other = admit(run(&req).unwrap(), &facts, &scope(), &mut rng(43)).unwrap();
    assert_ne!(&other.description.generation_id, g);
}

#[test]
fn inactive_and_disabled_by_default_and_findings_are_kept() {
    let mut ca = Tbs::ca(p256(), "Fleet Root");
    ca.extensions.remove(1); // no keyUsage: a finding
    let proof = proof_tbs(&name(&[(CN, CODE)])).sign(p256());
    let req = RegisterCaCertificateRequest::new(pem(&ca.sign(p256()))).with_verification_certificate(pem(&proof));
    let d = admit(run(&req).unwrap(), &AccountFacts::new(), &scope(), &mut rng(1)).unwrap().description;
    assert_eq!((d.status, d.auto_registration_status), (CaStatus::Inactive, AutoRegistrationStatus::Disable));
    assert_eq!(d.findings, [Finding::KeyUsageAbsent]);
}

// ------------------------------------------------------------------ mode (§1.4)

#[test]
fn default_mode_requires_a_proof_and_sni_only_forbids_one() {
    let (ca, proof) = ca_and_proof(p256());
    let e = run(&RegisterCaCertificateRequest::new(ca.clone()));
    assert_err(e, Error::Request(RequestError::VerificationCertificateRequired), IRE);
    let req = RegisterCaCertificateRequest::new(ca)
        .with_verification_certificate(proof)
        .with_certificate_mode(CertificateMode::SniOnly);
    assert_err(run(&req), Error::Request(RequestError::VerificationCertificateForbidden), IRE);
}

#[test]
fn unknown_mode_strings_are_refused() {
    let e = CertificateMode::parse("sni_only", "certificateMode");
    assert_err(
        e,
        Error::Request(RequestError::Enum {
            member: "certificateMode",
            value: "sni_only".into(),
            allowed: CertificateMode::VALUES,
        }),
        IRE,
    );
}

// ------------------------------------------------------------------ proof of possession (§1.4)

#[test]
fn proof_signed_by_another_key_with_the_right_code_is_a_certificate_error() {
    let proof = proof_tbs(&name(&[(CN, CODE)])).sign(p256_other());
    let expected = Error::VerificationCertificate(VerificationError::Signature(SignatureError::Invalid {
        algorithm: iot_ca::SignatureAlgorithm::Ecdsa(iot_ca::HashAlgorithm::Sha256),
    }));
    assert_err(run(&with_proof(p256(), proof)), expected, CVE);
}

#[test]
fn forged_proof_with_a_wrong_code_is_still_a_certificate_error() {
    let proof = proof_tbs(&name(&[(CN, "not the code")])).sign(p256_other());
    let expected = Error::VerificationCertificate(VerificationError::Signature(SignatureError::Invalid {
        algorithm: iot_ca::SignatureAlgorithm::Ecdsa(iot_ca::HashAlgorithm::Sha256),
    }));
    assert_err(run(&with_proof(p256(), proof)), expected, CVE);
}

#[test]
fn proof_with_another_issuer_name() {
    let proof = Tbs::leaf(p256_other(), &cn("Someone Else"), &name(&[(CN, CODE)])).sign(p256());
    assert_err(run(&with_proof(p256(), proof)), Error::VerificationCertificate(VerificationError::IssuerMismatch), CVE);
}

#[test]
fn proof_signed_with_sha1_is_refused() {
    let proof = proof_tbs(&name(&[(CN, CODE)])).sign_with(rsa2048(), Alg::Pkcs1(Hash::Sha1));
    let expected = Error::VerificationCertificate(VerificationError::Signature(SignatureError::Sha1NotAllowed));
    assert_err(run(&with_proof(rsa2048(), proof)), expected, CVE);
}

#[test]
fn proof_with_an_ecdsa_algorithm_under_an_rsa_ca() {
    let mut tbs = proof_tbs(&name(&[(CN, CODE)]));
    tbs.inner_alg = None;
    let proof = tbs.sign_with(p256(), Alg::Ecdsa(Hash::Sha256));
    let expected = Error::VerificationCertificate(VerificationError::Signature(SignatureError::KeyMismatch {
        key: iot_ca::KeyKind::Rsa { bits: 2048 },
        algorithm: iot_ca::SignatureAlgorithm::Ecdsa(iot_ca::HashAlgorithm::Sha256),
    }));
    assert_err(run(&with_proof(rsa2048(), proof)), expected, CVE);
}

#[test]
fn expired_and_not_yet_valid_proofs() {
    let mut tbs = proof_tbs(&name(&[(CN, CODE)]));
    let past = NOW.checked_sub(60).unwrap();
    tbs.not_after = utc_time(past);
    let expected = Error::VerificationCertificate(VerificationError::Validity(ValidityError::Expired {
        not_after: past,
        now: NOW,
    }));
    assert_err(run(&with_proof(p256(), tbs.sign(p256()))), expected, CVE);
    let mut tbs = proof_tbs(&name(&[(CN, CODE)]));
    let future = NOW.checked_add(60).unwrap();
    tbs.not_before = utc_time(future);
    let expected = Error::VerificationCertificate(VerificationError::Validity(ValidityError::NotYetValid {
        not_before: future,
        now: NOW,
    }));
    assert_err(run(&with_proof(p256(), tbs.sign(p256()))), expected, CVE);
}

#[test]
fn proof_that_does_not_parse() {
    let mut der = proof_tbs(&name(&[(CN, CODE)])).sign(p256());
    der.push(0);
    let expected =
        Error::VerificationCertificate(VerificationError::Parse(iot_ca::ParseError::TrailingData { len: 1 }));
    assert_err(run(&with_proof(p256(), der)), expected, CVE);
    let req = RegisterCaCertificateRequest::new(ca_and_proof(p256()).0).with_verification_certificate("hello");
    assert_err(run(&req), Error::VerificationCertificate(VerificationError::Pem(PemError::NoBlock)), CVE);
}

#[test]
fn code_in_the_wrong_attribute() {
    let proof = proof_tbs(&name(&[(SERIAL_NUMBER_ATTR, CODE)])).sign(p256());
    assert_err(
        run(&with_proof(p256(), proof)),
        Error::RegistrationCode(RegistrationCodeError::CommonNameMissing),
        RCVE,
    );
    let proof = proof_tbs(&name(&[(O, CODE), (O, "x")])).sign(p256());
    assert_err(
        run(&with_proof(p256(), proof)),
        Error::RegistrationCode(RegistrationCodeError::CommonNameMissing),
        RCVE,
    );
}

#[test]
fn two_common_names() {
    let proof = proof_tbs(&name(&[(CN, CODE), (CN, CODE)])).sign(p256());
    let expected = Error::RegistrationCode(RegistrationCodeError::CommonNameMultiple { count: 2 });
    assert_err(run(&with_proof(p256(), proof)), expected, RCVE);
}

#[test]
fn code_differing_only_in_case() {
    let proof = proof_tbs(&name(&[(CN, &CODE.to_uppercase())])).sign(p256());
    assert_err(run(&with_proof(p256(), proof)), Error::RegistrationCode(RegistrationCodeError::Mismatch), RCVE);
}

#[test]
fn code_as_printable_string_compares_by_bytes() {
    let printable = seq(&[&set(&[&seq(&[&oid(CN), &tlv(0x13, CODE.as_bytes())])])]);
    let proof = proof_tbs(&printable).sign(p256());
    assert!(run(&with_proof(p256(), proof)).is_ok());
}

// ------------------------------------------------------------------ order of the checks (§1.6b)

#[test]
fn request_faults_come_before_certificate_faults() {
    // An over-long verification field is InvalidRequest even though the CA is broken too.
    let req = RegisterCaCertificateRequest::new("not a pem").with_verification_certificate("x".repeat(65_537));
    let expected =
        Error::VerificationCertificate(VerificationError::Pem(PemError::TooLong { len: 65_537, max: 65_536 }));
    assert_err(run(&req), expected, IRE);
    // The mode pairing is checked before the CA.
    assert_err(
        run(&RegisterCaCertificateRequest::new("not a pem")),
        Error::Request(RequestError::VerificationCertificateRequired),
        IRE,
    );
    // Tags are checked when the request is built, before anything else.
    assert_err(
        Tags::new(&[("aws:x", "v")]),
        Error::Tag(TagError::ReservedPrefix { index: 1, key: "aws:x".into() }),
        IRE,
    );
}

#[test]
fn ca_faults_come_before_proof_faults() {
    let proof = proof_tbs(&name(&[(CN, "wrong")])).sign(p256_other());
    let req = RegisterCaCertificateRequest::new("not a pem").with_verification_certificate(pem(&proof));
    assert_err(run(&req), Error::CaCertificate(CaError::Pem(PemError::NoBlock)), CVE);
}

#[test]
fn strict_policy_refuses_findings() {
    let mut ca = Tbs::ca(p256(), "Fleet Root");
    ca.extensions.remove(2);
    let proof = proof_tbs(&name(&[(CN, CODE)])).sign(p256());
    let req = RegisterCaCertificateRequest::new(pem(&ca.sign(p256()))).with_verification_certificate(pem(&proof));
    let e = check(&req, &code(), Policy::strict(), NOW);
    assert_err(e, Error::CaCertificate(CaError::StrictFinding(Finding::SubjectKeyIdentifierAbsent)), CVE);
}

// ------------------------------------------------------------------ account facts (§1.6)

#[test]
fn already_registered_is_409_with_the_resource() {
    let candidate = run(&request(p256())).unwrap();
    let id = candidate.certificate_id().as_str().to_owned();
    let arn = format!("arn:aws:iot:us-east-1:123456789012:cacert/{id}");
    let e = admit(candidate, &AccountFacts::new().with_already_registered(true), &scope(), &mut rng(1));
    let expected =
        Error::Registry(RegistryError::AlreadyExists { certificate_id: id.clone(), certificate_arn: arn.clone() });
    let err = e.unwrap_err();
    assert_eq!(err, expected);
    let ex = err.exception();
    assert_eq!((ex.name(), ex.http_status()), ("ResourceAlreadyExistsException", 409));
    assert_eq!((ex.resource_id, ex.resource_arn), (Some(id), Some(arn)));
}

#[test]
fn ten_cas_per_subject() {
    let facts = AccountFacts::new().with_same_subject_count(9);
    assert!(admit(run(&request(p256())).unwrap(), &facts, &scope(), &mut rng(1)).is_ok());
    let facts = AccountFacts::new().with_same_subject_count(10);
    let e = admit(run(&request(p256())).unwrap(), &facts, &scope(), &mut rng(1));
    let err = e.unwrap_err();
    assert_eq!(err, Error::Registry(RegistryError::SubjectLimit { count: 10 }));
    assert_eq!((err.exception().name(), err.exception().http_status()), ("LimitExceededException", 410));
    assert_eq!(err.exception().message, "Limit reached for number of CA Certificates with same subject");
}

#[test]
fn another_accounts_default_mode_registration_blocks_default_mode_only() {
    let facts = AccountFacts::new().with_held_by_another_account_in_default_mode(true);
    let e = admit(run(&request(p256())).unwrap(), &facts, &scope(), &mut rng(1));
    assert_err(e, Error::Registry(RegistryError::HeldByAnotherAccount), IRE);
    let (ca, _) = ca_and_proof(p256());
    let sni = RegisterCaCertificateRequest::new(ca).with_certificate_mode(CertificateMode::SniOnly);
    assert!(admit(run(&sni).unwrap(), &facts, &scope(), &mut rng(1)).is_ok());
}

#[test]
fn template_must_exist_and_be_jitp() {
    let config = RegistrationConfig::from_members(None, None, Some("tmpl")).unwrap().unwrap();
    let req = request(p256()).with_registration_config(config);
    let e = admit(run(&req).unwrap(), &AccountFacts::new(), &scope(), &mut rng(1));
    let err = e.unwrap_err();
    assert_eq!(err, Error::Registry(RegistryError::TemplateNotFound { template_name: "tmpl".into() }));
    assert_eq!((err.exception().name(), err.exception().http_status()), ("ResourceNotFoundException", 404));
    let fleet = AccountFacts::new().with_template(TemplateFacts::new(TemplateType::FleetProvisioning));
    let e = admit(run(&req).unwrap(), &fleet, &scope(), &mut rng(1));
    let expected = Error::Registry(RegistryError::TemplateWrongType {
        template_name: "tmpl".into(),
        found: "FLEET_PROVISIONING",
        needed: "JITP",
    });
    assert_err(e, expected, IRE);
}

#[test]
fn facts_are_weighed_in_spec_order() {
    let facts = AccountFacts::new()
        .with_already_registered(true)
        .with_same_subject_count(10)
        .with_held_by_another_account_in_default_mode(true);
    let e = admit(run(&request(p256())).unwrap(), &facts, &scope(), &mut rng(1)).unwrap_err();
    assert_eq!(e.exception().name(), "ResourceAlreadyExistsException");
    let facts = facts.with_already_registered(false);
    let e = admit(run(&request(p256())).unwrap(), &facts, &scope(), &mut rng(1)).unwrap_err();
    assert_eq!(e.exception().name(), "LimitExceededException");
}

#[test]
fn a_verification_certificate_made_by_the_crate_registers() {
    let ca_der = Tbs::ca(rsa2048(), "Fleet Root").sign(rsa2048());
    let ca = ParsedCertificate::from_der(ca_der.clone()).unwrap();
    let Key::Rsa(ca_key) = rsa2048() else { unreachable!() };
    let signer = rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(ca_key.clone());
    let pair =
        iot_ca::KeyPair::generate(iot_ca::KeyAlgorithm::P256, iot_ca::Backend::preferred(), &mut rng(3)).unwrap();
    let code = code();
    let params = iot_ca::VerificationCertificateParams::new(&ca, pair.spki_der(), &code, NOT_AFTER);
    let der = iot_ca::create_verification_certificate::<_, rsa::pkcs1v15::Signature, _>(
        &params,
        &signer,
        &mut rng(4),
        NOT_BEFORE,
    )
    .unwrap();
    let req = RegisterCaCertificateRequest::new(pem(&ca_der)).with_verification_certificate(pem(&der));
    assert!(admit(run(&req).unwrap(), &AccountFacts::new(), &scope(), &mut rng(1)).is_ok());
    // Made for another code, the same certificate is refused as a wrong code.
    let other = RegistrationCode::parse(&"f".repeat(64)).unwrap();
    let e = check(&req, &other, Policy::default(), NOW);
    assert_err(e, Error::RegistrationCode(RegistrationCodeError::Mismatch), RCVE);
}
