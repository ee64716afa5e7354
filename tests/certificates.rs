//! Device certificates through the public API: RegisterCertificate (each check of its order,
//! each error variant and its exception), RegisterCertificateWithoutCA, DescribeCertificate,
//! UpdateCertificate, DeleteCertificate, and their wire shapes. Fixtures are built in code
//! from seeded keys (`support`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers may panic

mod support;

use iot_ca::wire::{self, TimeFormat};
use iot_ca::{
    AccountId, AccountScope, AutoRegistrationStatus, Backend, CaStatus, CertificateDescription, CertificateError,
    CertificateFacts, CertificateId, CertificateMode, CertificateStatus, CheckedCertificate, DeleteCertificateRequest,
    Error, KeyError, ParseError, PemError, Policy, Region, RegisterCertificateRequest,
    RegisterCertificateWithoutCaRequest, RegisteredCa, RegistryError, RequestError, SignatureError,
    UpdateCertificateRequest, ValidityError, Version, admit_certificate, check_certificate,
    check_certificate_without_ca, delete_certificate, describe_certificate, update_certificate,
};
use iot_ca::{ListQuery, Marker, MarkerKey, PageSize, SortOrder, list_certificates};
use support::*;

const CVE: &str = "CertificateValidationException";
const IRE: &str = "InvalidRequestException";

fn scope() -> AccountScope {
    AccountScope::new(AccountId::parse("123456789012").unwrap(), Region::parse("eu-west-1").unwrap())
}

fn ca_tbs(key: &Key) -> Tbs {
    Tbs::ca(key, "Device Root")
}

fn ca_pem(key: &Key) -> String {
    pem(&ca_tbs(key).sign(key))
}

/// A device certificate for `p256_other()` issued under the name "Device Root", signed by `signer`.
fn device_tbs() -> Tbs {
    let mut t = Tbs::leaf(p256_other(), &cn("Device Root"), &name(&[(O, "Acme"), (CN, "sensor-1")]));
    t.extensions = vec![basic_constraints(true, false, None), key_usage_digital_signature(true)];
    t
}

fn device_pem(signer: &Key) -> String {
    pem(&device_tbs().sign(signer))
}

fn registered(key: &Key, status: CaStatus) -> RegisteredCa {
    RegisteredCa::from_pem(&ca_pem(key), status).unwrap()
}

fn check(request: &RegisterCertificateRequest) -> Result<CheckedCertificate, Error> {
    check_certificate(request, Policy::default(), NOW)
}

fn register(
    request: &RegisterCertificateRequest,
    facts: &CertificateFacts,
) -> Result<iot_ca::CertificateRegistration, Error> {
    admit_certificate(check(request)?, facts, &scope(), &mut rng(3))
}

#[track_caller]
fn assert_err<T: std::fmt::Debug>(result: Result<T, Error>, expected: CertificateError, exception: &str) {
    let err = result.expect_err("expected an error");
    assert_eq!(err, Error::Certificate(expected));
    assert_eq!(err.exception().name(), exception);
}

fn active_ca_facts() -> CertificateFacts {
    CertificateFacts::new().with_ca(registered(rsa2048(), CaStatus::Active))
}

// ------------------------------------------------------------------ accepted registrations

#[test]
fn registers_under_the_one_ca_with_the_issuer_as_subject() {
    let request = RegisterCertificateRequest::new(device_pem(rsa2048()));
    let candidate = check(&request).unwrap();
    assert!(candidate.needs_ca());
    assert_eq!(candidate.ca_certificate_id(), None);
    assert_eq!(candidate.issuer_der(), cn("Device Root"));
    let r = admit_certificate(candidate, &active_ca_facts(), &scope(), &mut rng(3)).unwrap();
    let d = &r.description;
    let ca_id = registered(rsa2048(), CaStatus::Active).certificate_id().clone();
    assert_eq!(r.certificate_arn, format!("arn:aws:iot:eu-west-1:123456789012:cert/{}", r.certificate_id));
    assert_eq!(d.certificate_arn, r.certificate_arn);
    assert_eq!(d.ca_certificate_id, Some(ca_id));
    assert_eq!(d.status, CertificateStatus::Inactive);
    assert_eq!(d.owned_by.as_str(), "123456789012");
    assert_eq!((d.creation_date, d.last_modified_date, d.customer_version), (NOW, NOW, 1));
    assert_eq!((d.validity.not_before, d.validity.not_after), (NOT_BEFORE, NOT_AFTER));
    assert_eq!(d.certificate_mode, CertificateMode::Default);
    let (_, der) = pem_rfc7468::decode_vec(d.certificate_pem.as_bytes()).unwrap();
    assert_eq!(CertificateId::of_der(&der), r.certificate_id);
    let g = &d.generation_id;
    assert_eq!((g.len(), &g[14..15]), (36, "4"), "{g}");
    // As a store keeps it and reads it back.
    assert_eq!(wire::certificate_record_from_json(&wire::certificate_record_to_json(d)).as_ref(), Ok(d));
    let mut without_ca = d.clone();
    without_ca.ca_certificate_id = None;
    let record = wire::certificate_record_to_json(&without_ca);
    assert_eq!(wire::certificate_record_from_json(&record), Ok(without_ca));
    let mut broken = record;
    broken["customerVersion"] = (-1).into();
    assert_eq!(
        wire::certificate_record_from_json(&broken),
        Err(iot_ca::Error::Request(iot_ca::RequestError::WrongType {
            member: "customerVersion".into(),
            expected: "integer"
        }))
    );
}

#[test]
fn status_comes_from_status_then_set_as_active() {
    let pem = device_pem(rsa2048());
    let status =
        |request: RegisterCertificateRequest| register(&request, &active_ca_facts()).unwrap().description.status;
    assert_eq!(status(RegisterCertificateRequest::new(&*pem).with_set_as_active(true)), CertificateStatus::Active);
    let revoked =
        RegisterCertificateRequest::new(&*pem).with_set_as_active(true).with_status(CertificateStatus::Revoked);
    assert_eq!(status(revoked), CertificateStatus::Revoked);
    let inactive = RegisterCertificateRequest::new(&*pem).with_status(CertificateStatus::Inactive);
    assert_eq!(status(inactive), CertificateStatus::Inactive);
}

#[test]
fn registers_with_ca_certificate_pem_and_takes_the_cas_mode() {
    let request = RegisterCertificateRequest::new(device_pem(p256())).with_ca_certificate_pem(ca_pem(p256()));
    let candidate = check(&request).unwrap();
    let ca = registered(p256(), CaStatus::Active).with_certificate_mode(CertificateMode::SniOnly);
    assert_eq!(candidate.ca_certificate_id(), Some(ca.certificate_id()));
    let r = admit_certificate(candidate, &CertificateFacts::new().with_ca(ca), &scope(), &mut rng(1)).unwrap();
    assert_eq!(r.description.certificate_mode, CertificateMode::SniOnly);
}

#[test]
fn v1_device_certificates_and_every_strong_algorithm_are_accepted() {
    let mut v1 = device_tbs();
    v1.version = None;
    v1.extensions.clear();
    assert_eq!(
        check(&RegisterCertificateRequest::new(pem(&v1.sign(rsa2048())))).unwrap().certificate().version(),
        Version::V1
    );
    for alg in [Alg::Pkcs1(Hash::Sha384), Alg::Pkcs1(Hash::Sha512), Alg::Pss(Hash::Sha256)] {
        let request = RegisterCertificateRequest::new(pem(&device_tbs().sign_with(rsa2048(), alg)));
        assert!(register(&request, &active_ca_facts()).is_ok(), "{alg:?}");
    }
}

#[test]
fn the_policy_backend_is_the_one_that_verifies() {
    let request = RegisterCertificateRequest::new(device_pem(rsa2048()));
    let candidate = check_certificate(&request, Policy::default().with_backend(Backend::RustCrypto), NOW).unwrap();
    assert!(admit_certificate(candidate, &active_ca_facts(), &scope(), &mut rng(1)).is_ok());
}

// ------------------------------------------------------------------ step 1: lengths, PEM, DER

#[test]
fn step1_lengths_first_for_both_members() {
    let e = check(&RegisterCertificateRequest::new(""));
    assert_err(e, CertificateError::Pem(PemError::Empty), IRE);
    let long = "x".repeat(65_537);
    let e = check(&RegisterCertificateRequest::new("not a pem").with_ca_certificate_pem(&*long));
    assert_err(e, CertificateError::CaPem(PemError::TooLong { len: 65_537, max: 65_536 }), IRE);
    let err = check(&RegisterCertificateRequest::new(&*long)).unwrap_err();
    assert_eq!(
        err.exception().message,
        "1 validation error detected: Value at 'certificatePem' failed to satisfy constraint: \
         Member must have length less than or equal to 65536"
    );
    let err = check(&RegisterCertificateRequest::new(device_pem(p256())).with_ca_certificate_pem("")).unwrap_err();
    assert!(err.exception().message.contains("'caCertificatePem'"), "{}", err.exception().message);
}

#[test]
fn step1_pem_and_der_strictness() {
    assert_err(check(&RegisterCertificateRequest::new("not a pem")), CertificateError::Pem(PemError::NoBlock), CVE);
    let two = format!("{}{}", device_pem(p256()), device_pem(p256()));
    assert_err(
        check(&RegisterCertificateRequest::new(two)),
        CertificateError::Pem(PemError::MultipleBlocks { count: 2 }),
        CVE,
    );
    let mut trailing = device_tbs().sign(p256());
    trailing.push(0);
    assert_err(
        check(&RegisterCertificateRequest::new(pem(&trailing))),
        CertificateError::Parse(ParseError::TrailingData { len: 1 }),
        CVE,
    );
    let e = check(&RegisterCertificateRequest::new(device_pem(p256())).with_ca_certificate_pem("junk"));
    assert_err(e, CertificateError::CaPem(PemError::NoBlock), CVE);
    let mut bad_ca = ca_tbs(p256()).sign(p256());
    bad_ca.push(0);
    let e = check(&RegisterCertificateRequest::new(device_pem(p256())).with_ca_certificate_pem(pem(&bad_ca)));
    assert_err(e, CertificateError::CaParse(ParseError::TrailingData { len: 1 }), CVE);
}

// ------------------------------------------------------------------ step 2: status

#[test]
fn step2_internal_statuses_are_refused_before_the_certificate_rules() {
    let mut expired = device_tbs();
    expired.not_after = utc_time(NOT_BEFORE);
    for status in
        [CertificateStatus::PendingTransfer, CertificateStatus::PendingActivation, CertificateStatus::RegisterInactive]
    {
        let request = RegisterCertificateRequest::new(pem(&expired.sign(rsa2048()))).with_status(status);
        assert_err(check(&request), CertificateError::StatusNotSettable { member: "status", status }, IRE);
    }
}

// ------------------------------------------------------------------ step 3: the device certificate

#[test]
fn step3_version_key_algorithm_validity() {
    let mut v2 = device_tbs();
    v2.version = Some(1);
    v2.extensions.clear();
    assert_err(
        check(&RegisterCertificateRequest::new(pem(&v2.sign(rsa2048())))),
        CertificateError::Version { version: Version::V2 },
        CVE,
    );
    let mut small = device_tbs();
    small.spki = rsa_spki(&fake_modulus(1024), &[1, 0, 1]);
    assert_err(
        check(&RegisterCertificateRequest::new(pem(&small.sign(rsa2048())))),
        CertificateError::Key(KeyError::RsaModulusSize { bits: 1024 }),
        CVE,
    );
    let sha1 = device_tbs().sign_with(rsa2048(), Alg::Pkcs1(Hash::Sha1));
    assert_err(
        check(&RegisterCertificateRequest::new(pem(&sha1))),
        CertificateError::SignatureAlgorithm(SignatureError::Sha1NotAllowed),
        CVE,
    );
    let md5 = seq(&[&oid("1.2.840.113549.1.1.4"), &null()]);
    let tbs = device_tbs().der(&md5);
    let e = check(&RegisterCertificateRequest::new(pem(&assemble(&tbs, &md5, &bits(&[1; 256])))));
    assert!(matches!(
        e,
        Err(Error::Certificate(CertificateError::SignatureAlgorithm(SignatureError::UnsupportedAlgorithm { .. })))
    ));
    let mut expired = device_tbs();
    expired.not_after = utc_time(NOT_BEFORE);
    assert_err(
        check(&RegisterCertificateRequest::new(pem(&expired.sign(rsa2048())))),
        CertificateError::Validity(ValidityError::Expired { not_after: NOT_BEFORE, now: NOW }),
        CVE,
    );
    let mut future = device_tbs();
    future.not_before = utc_time(NOT_AFTER);
    assert_err(
        check(&RegisterCertificateRequest::new(pem(&future.sign(rsa2048())))),
        CertificateError::Validity(ValidityError::NotYetValid { not_before: NOT_AFTER, now: NOW }),
        CVE,
    );
}

#[test]
fn step3_validity_bounds_are_inclusive() {
    let request = RegisterCertificateRequest::new(device_pem(rsa2048()));
    assert!(check_certificate(&request, Policy::default(), NOT_BEFORE).is_ok());
    assert!(check_certificate(&request, Policy::default(), NOT_AFTER).is_ok());
}

// ------------------------------------------------------------------ step 4: the signing CA

#[test]
fn step4_ca_certificate_pem_must_be_registered() {
    let ca = registered(p256(), CaStatus::Active);
    let request = RegisterCertificateRequest::new(device_pem(p256())).with_ca_certificate_pem(ca_pem(p256()));
    let err = register(&request, &CertificateFacts::new()).unwrap_err();
    assert_eq!(
        err,
        Error::Certificate(CertificateError::CaNotRegistered { ca_certificate_id: ca.certificate_id().clone() })
    );
    assert_eq!(
        (err.exception().name(), err.exception().message.as_str()),
        (CVE, "The CA certificate is not registered")
    );
    // A CA with the same subject but another id does not count.
    let other = CertificateFacts::new().with_ca(registered(p256_other(), CaStatus::Active));
    assert_err(
        register(&request, &other),
        CertificateError::CaNotRegistered { ca_certificate_id: ca.certificate_id().clone() },
        CVE,
    );
}

#[test]
fn step4_no_ca_has_the_issuer_as_subject() {
    let request = RegisterCertificateRequest::new(device_pem(rsa2048()));
    assert_err(register(&request, &CertificateFacts::new()), CertificateError::NoCaForIssuer, CVE);
    let elsewhere =
        RegisteredCa::from_pem(&pem(&Tbs::ca(rsa2048(), "Other Root").sign(rsa2048())), CaStatus::Active).unwrap();
    assert_err(register(&request, &CertificateFacts::new().with_ca(elsewhere)), CertificateError::NoCaForIssuer, CVE);
}

#[test]
fn step4_two_cas_with_the_issuer_as_subject_conflict() {
    let request = RegisterCertificateRequest::new(device_pem(rsa2048()));
    let facts = active_ca_facts().with_ca(registered(p256(), CaStatus::Active));
    let err = register(&request, &facts).unwrap_err();
    assert_eq!(err, Error::Certificate(CertificateError::CaConflict { count: 2 }));
    let ex = err.exception();
    assert_eq!((ex.name(), ex.http_status()), ("CertificateConflictException", 409));
    assert!(ex.message.contains("caCertificatePem"), "{}", ex.message);
    // Naming the CA resolves it.
    let named = request.with_ca_certificate_pem(ca_pem(rsa2048()));
    assert!(register(&named, &facts).is_ok());
}

// ------------------------------------------------------------------ step 5: issuer and signature

#[test]
fn step5_issuer_must_be_the_cas_subject() {
    let mut tbs = device_tbs();
    tbs.issuer = cn("Someone Else");
    let request = RegisterCertificateRequest::new(pem(&tbs.sign(p256()))).with_ca_certificate_pem(ca_pem(p256()));
    let facts = CertificateFacts::new().with_ca(registered(p256(), CaStatus::Active));
    assert_err(register(&request, &facts), CertificateError::IssuerMismatch, CVE);
}

#[test]
fn step5_signature_must_verify_under_the_cas_key() {
    // Same subject, another key: a forged device certificate.
    let request = RegisterCertificateRequest::new(device_pem(rsa2048_other()));
    let e = register(&request, &active_ca_facts());
    assert!(matches!(e, Err(Error::Certificate(CertificateError::Signature(SignatureError::Invalid { .. })))), "{e:?}");
    assert_eq!(e.unwrap_err().exception().name(), CVE);
    let request = RegisterCertificateRequest::new(device_pem(p256()));
    let e = register(&request, &active_ca_facts());
    assert!(matches!(e, Err(Error::Certificate(CertificateError::Signature(SignatureError::KeyMismatch { .. })))));
}

// ------------------------------------------------------------------ step 6: the CA's status

#[test]
fn step6_the_ca_must_be_active() {
    let ca = registered(rsa2048(), CaStatus::Inactive);
    let id = ca.certificate_id().clone();
    // Checked before the account's holdings (step 7).
    let facts = CertificateFacts::new().with_ca(ca).with_already_registered(true);
    let err = register(&RegisterCertificateRequest::new(device_pem(rsa2048())), &facts).unwrap_err();
    assert_eq!(
        err,
        Error::Certificate(CertificateError::CaNotActive { ca_certificate_id: id, status: CaStatus::Inactive })
    );
    let ex = err.exception();
    assert_eq!((ex.name(), ex.http_status()), ("CertificateStateException", 406));
}

// ------------------------------------------------------------------ step 7: already held

#[test]
fn step7_already_registered() {
    let request = RegisterCertificateRequest::new(device_pem(rsa2048()));
    let id = check(&request).unwrap().certificate_id().clone();
    let err = register(&request, &active_ca_facts().with_already_registered(true)).unwrap_err();
    let arn = format!("arn:aws:iot:eu-west-1:123456789012:cert/{id}");
    assert_eq!(
        err,
        Error::Registry(RegistryError::AlreadyExists {
            certificate_id: id.as_str().to_owned(),
            certificate_arn: arn.clone()
        })
    );
    let ex = err.exception();
    assert_eq!((ex.name(), ex.http_status()), ("ResourceAlreadyExistsException", 409));
    assert_eq!((ex.resource_id.as_deref(), ex.resource_arn.as_deref()), (Some(id.as_str()), Some(arn.as_str())));
}

// ------------------------------------------------------------------ RegisterCertificateWithoutCA

#[test]
fn without_ca_registers_sni_only_with_no_ca() {
    let request = RegisterCertificateWithoutCaRequest::new(device_pem(rsa2048()));
    let candidate = check_certificate_without_ca(&request, Policy::default(), NOW).unwrap();
    assert!(!candidate.needs_ca());
    let r = admit_certificate(candidate, &CertificateFacts::new(), &scope(), &mut rng(1)).unwrap();
    assert_eq!(r.description.certificate_mode, CertificateMode::SniOnly);
    assert_eq!(r.description.ca_certificate_id, None);
    assert_eq!(r.description.status, CertificateStatus::Inactive);
    let active = request.clone().with_status(CertificateStatus::Active);
    let r = admit_certificate(
        check_certificate_without_ca(&active, Policy::default(), NOW).unwrap(),
        &CertificateFacts::new(),
        &scope(),
        &mut rng(1),
    )
    .unwrap();
    assert_eq!(r.description.status, CertificateStatus::Active);
}

#[test]
fn without_ca_applies_steps_1_to_3_and_7() {
    let e = check_certificate_without_ca(&RegisterCertificateWithoutCaRequest::new(""), Policy::default(), NOW);
    assert_err(e, CertificateError::Pem(PemError::Empty), IRE);
    let pending = RegisterCertificateWithoutCaRequest::new(device_pem(rsa2048()))
        .with_status(CertificateStatus::PendingActivation);
    let e = check_certificate_without_ca(&pending, Policy::default(), NOW);
    assert_err(
        e,
        CertificateError::StatusNotSettable { member: "status", status: CertificateStatus::PendingActivation },
        IRE,
    );
    let sha1 = device_tbs().sign_with(rsa2048(), Alg::Pkcs1(Hash::Sha1));
    let e = check_certificate_without_ca(&RegisterCertificateWithoutCaRequest::new(pem(&sha1)), Policy::default(), NOW);
    assert_err(e, CertificateError::SignatureAlgorithm(SignatureError::Sha1NotAllowed), CVE);
    let candidate = check_certificate_without_ca(
        &RegisterCertificateWithoutCaRequest::new(device_pem(rsa2048())),
        Policy::default(),
        NOW,
    )
    .unwrap();
    let e = admit_certificate(candidate, &CertificateFacts::new().with_already_registered(true), &scope(), &mut rng(1));
    assert!(matches!(e, Err(Error::Registry(RegistryError::AlreadyExists { .. }))));
}

// ------------------------------------------------------------------ Describe, Update, Delete

fn stored(status: CertificateStatus) -> CertificateDescription {
    let request = RegisterCertificateRequest::new(device_pem(rsa2048())).with_status(CertificateStatus::Inactive);
    let mut d = register(&request, &active_ca_facts()).unwrap().description;
    if status != d.status {
        d = update_certificate(
            &UpdateCertificateRequest::new(d.certificate_id.clone(), status),
            Some(d),
            &mut rng(2),
            NOW,
        )
        .map(|u| u.description)
        .unwrap_or_else(|_| panic!("cannot reach {status}"));
    }
    d
}

fn some_id() -> CertificateId {
    CertificateId::of_der(b"device")
}

#[test]
fn describe_answers_the_stored_description_or_404() {
    let d = stored(CertificateStatus::Inactive);
    assert_eq!(describe_certificate(&d.certificate_id, Some(d.clone())), Ok(d));
    let err = describe_certificate(&some_id(), None).unwrap_err();
    assert_eq!(err, Error::Certificate(CertificateError::NotFound { certificate_id: some_id() }));
    assert_eq!((err.exception().name(), err.exception().http_status()), ("ResourceNotFoundException", 404));
}

#[test]
fn update_bumps_version_date_and_generation() {
    let d = stored(CertificateStatus::Inactive);
    // 2026-01-02T00:00:00Z
    let later = iot_ca::UnixTime::from_secs(1_767_312_000);
    let u = update_certificate(
        &UpdateCertificateRequest::new(d.certificate_id.clone(), CertificateStatus::Active),
        Some(d.clone()),
        &mut rng(7),
        later,
    )
    .unwrap();
    assert!(u.changed);
    assert_eq!(u.description.status, CertificateStatus::Active);
    assert_eq!((u.description.customer_version, u.description.last_modified_date), (2, later));
    assert_eq!(u.description.creation_date, d.creation_date);
    assert_ne!(u.description.generation_id, d.generation_id);
    let same = update_certificate(
        &UpdateCertificateRequest::new(d.certificate_id.clone(), CertificateStatus::Inactive),
        Some(d.clone()),
        &mut rng(7),
        later,
    )
    .unwrap();
    assert!(!same.changed);
    assert_eq!(same.description, d);
}

#[test]
fn update_refuses_internal_statuses_unknown_ids_and_leaving_revoked() {
    let d = stored(CertificateStatus::Revoked);
    let request = |s| UpdateCertificateRequest::new(d.certificate_id.clone(), s);
    for s in
        [CertificateStatus::PendingTransfer, CertificateStatus::PendingActivation, CertificateStatus::RegisterInactive]
    {
        let e = update_certificate(&request(s), Some(d.clone()), &mut rng(1), NOW);
        assert_err(e, CertificateError::StatusNotSettable { member: "newStatus", status: s }, IRE);
    }
    let e = update_certificate(&request(CertificateStatus::Active), None, &mut rng(1), NOW);
    assert_err(e, CertificateError::NotFound { certificate_id: d.certificate_id.clone() }, "ResourceNotFoundException");
    let e = update_certificate(&request(CertificateStatus::Active), Some(d.clone()), &mut rng(1), NOW);
    assert_err(
        e,
        CertificateError::StatusFinal { status: CertificateStatus::Revoked, new_status: CertificateStatus::Active },
        "CertificateStateException",
    );
    assert!(
        !update_certificate(&request(CertificateStatus::Revoked), Some(d.clone()), &mut rng(1), NOW).unwrap().changed
    );
}

#[test]
fn update_activates_a_pending_jitr_certificate() {
    let mut d = stored(CertificateStatus::Inactive);
    d.status = CertificateStatus::PendingActivation;
    let u = update_certificate(
        &UpdateCertificateRequest::new(d.certificate_id.clone(), CertificateStatus::Active),
        Some(d),
        &mut rng(1),
        NOW,
    )
    .unwrap();
    assert_eq!(u.description.status, CertificateStatus::Active);
}

#[test]
fn delete_rules() {
    let request = DeleteCertificateRequest::new(some_id());
    assert_err(
        delete_certificate(&request, None, false),
        CertificateError::NotFound { certificate_id: some_id() },
        "ResourceNotFoundException",
    );
    let e = delete_certificate(&request, Some(CertificateStatus::Active), false);
    assert_err(e, CertificateError::DeleteActive, "CertificateStateException");
    // Even forced: forceDelete skips the attachment rule only.
    let e = delete_certificate(&request.clone().with_force_delete(true), Some(CertificateStatus::Active), true);
    assert_err(e, CertificateError::DeleteActive, "CertificateStateException");
    let err = delete_certificate(&request, Some(CertificateStatus::Inactive), true).unwrap_err();
    assert_eq!(err, Error::Certificate(CertificateError::Attached));
    assert_eq!((err.exception().name(), err.exception().http_status()), ("DeleteConflictException", 409));
    assert_eq!(
        delete_certificate(&request.clone().with_force_delete(true), Some(CertificateStatus::Inactive), true),
        Ok(())
    );
    assert_eq!(delete_certificate(&request, Some(CertificateStatus::Revoked), false), Ok(()));
}

// ------------------------------------------------------------------ wire shapes

#[test]
fn wire_register_requests() {
    let pem = device_pem(rsa2048());
    let doc = serde_json::json!({"certificatePem": pem, "caCertificatePem": ca_pem(rsa2048()), "setAsActive": true, "status": "REVOKED"});
    let r = wire::register_certificate_request_from_json(&doc.to_string()).unwrap();
    assert_eq!(
        (r.certificate_pem(), r.set_as_active(), r.status()),
        (pem.as_str(), true, Some(CertificateStatus::Revoked))
    );
    assert!(r.ca_certificate_pem().is_some());
    let body = serde_json::json!({"certificatePem": pem}).to_string();
    let r = wire::register_certificate_request_from_rest("setAsActive=true", &body).unwrap();
    assert!(r.set_as_active());
    assert_eq!(
        wire::register_certificate_request_from_rest("?setAsActive=yes", &body),
        Err(Error::Request(RequestError::WrongType { member: "setAsActive".into(), expected: "boolean" }))
    );
    let in_body = serde_json::json!({"certificatePem": pem, "setAsActive": true}).to_string();
    assert_eq!(
        wire::register_certificate_request_from_rest("", &in_body),
        Err(Error::Request(RequestError::UnknownMember { member: "setAsActive".into() }))
    );
    assert_eq!(
        wire::register_certificate_request_from_json("{}"),
        Err(Error::Request(RequestError::MissingMember { member: "certificatePem" }))
    );
    let bad_status = serde_json::json!({"certificatePem": pem, "status": "ON"}).to_string();
    let err = wire::register_certificate_request_from_json(&bad_status).unwrap_err();
    assert_eq!(
        err.exception().message,
        "1 validation error detected: Value 'ON' at 'status' failed to satisfy constraint: Member must satisfy enum \
         value set: [ACTIVE, INACTIVE, REVOKED, PENDING_TRANSFER, REGISTER_INACTIVE, PENDING_ACTIVATION]"
    );
    let no_ca = serde_json::json!({"certificatePem": pem, "caCertificatePem": "x"}).to_string();
    assert_eq!(
        wire::register_certificate_without_ca_request_from_json(&no_ca),
        Err(Error::Request(RequestError::UnknownMember { member: "caCertificatePem".into() }))
    );
    let r = wire::register_certificate_without_ca_request_from_json(
        &serde_json::json!({"certificatePem": pem, "status": "ACTIVE"}).to_string(),
    )
    .unwrap();
    assert_eq!(r.status(), Some(CertificateStatus::Active));
}

#[test]
fn wire_path_and_query_requests() {
    let id = some_id();
    let r = wire::update_certificate_request_from_rest(&id.as_str().to_uppercase(), "newStatus=INACTIVE").unwrap();
    assert_eq!((r.certificate_id(), r.new_status()), (&id, CertificateStatus::Inactive));
    assert_eq!(
        wire::update_certificate_request_from_rest(id.as_str(), ""),
        Err(Error::Request(RequestError::MissingMember { member: "newStatus" }))
    );
    assert!(matches!(
        wire::update_certificate_request_from_rest(id.as_str(), "newStatus=GONE"),
        Err(Error::Request(RequestError::Enum { member: "newStatus", .. }))
    ));
    assert!(wire::delete_certificate_request_from_rest(id.as_str(), "forceDelete=true").unwrap().force_delete());
    assert!(!wire::delete_certificate_request_from_rest(id.as_str(), "").unwrap().force_delete());
    assert_eq!(
        wire::delete_certificate_request_from_rest(id.as_str(), "forceDelete=1"),
        Err(Error::Request(RequestError::WrongType { member: "forceDelete".into(), expected: "boolean" }))
    );
    let err = wire::certificate_id_from_path("abc").unwrap_err();
    assert_eq!(err.exception().name(), IRE);
    assert_eq!(
        err.exception().message,
        "1 validation error detected: Value at 'certificateId' failed to satisfy constraint: \
         Member must have length greater than or equal to 64"
    );
    let (ca, query) =
        wire::list_certificates_by_ca_request_from_rest(id.as_str(), "pageSize=2&isAscendingOrder=true").unwrap();
    assert_eq!((ca, query.page_size().get(), query.order()), (id.clone(), 2, SortOrder::Ascending));
    let err = wire::list_certificates_by_ca_request_from_rest("x", "").unwrap_err();
    assert!(err.exception().message.contains("'caCertificateId'"), "{}", err.exception().message);
    assert!(matches!(wire::list_certificates_query_from_rest("pageSize=0"), Err(Error::Paging(_))));
}

/// Certificates registered one second apart, every other one under the RSA CA.
fn many(n: i64) -> Vec<CertificateDescription> {
    (0..n)
        .map(|i| {
            let mut tbs = device_tbs();
            tbs.serial = vec![0x10, u8::try_from(i).unwrap()];
            let request = RegisterCertificateRequest::new(pem(&tbs.sign(rsa2048())));
            let candidate = check(&request).unwrap();
            let mut d = admit_certificate(candidate, &active_ca_facts(), &scope(), &mut rng(1)).unwrap().description;
            d.creation_date = iot_ca::UnixTime::from_secs(NOW.as_secs() + i);
            if i % 2 == 1 {
                d.ca_certificate_id = Some(some_id());
            }
            d
        })
        .collect()
}

#[test]
fn list_certificates_pages_newest_first_and_by_ca() {
    let stored = many(5);
    let key = MarkerKey::new([9; 32]);
    let first =
        list_certificates(&stored, None, &ListQuery::new().with_page_size(PageSize::new(2).unwrap()), &scope(), &key)
            .unwrap();
    let dates: Vec<i64> = first.items.iter().map(|d| d.creation_date.as_secs() - NOW.as_secs()).collect();
    assert_eq!(dates, [4, 3]);
    let marker = Marker::parse(first.next_marker.as_deref().unwrap(), "marker").unwrap();
    let query = ListQuery::new().with_page_size(PageSize::new(2).unwrap()).with_marker(marker.clone());
    let second = list_certificates(&stored, None, &query, &scope(), &key).unwrap();
    let dates: Vec<i64> = second.items.iter().map(|d| d.creation_date.as_secs() - NOW.as_secs()).collect();
    assert_eq!(dates, [2, 1]);
    // A ListCertificates marker is not a ListCertificatesByCA marker.
    assert!(matches!(list_certificates(&stored, Some(&some_id()), &query, &scope(), &key), Err(Error::Paging(_))));
    let by_ca = list_certificates(&stored, Some(&some_id()), &ListQuery::new(), &scope(), &key).unwrap();
    assert_eq!(by_ca.items.len(), 2);
    assert!(by_ca.next_marker.is_none());
    let v = wire::list_certificates_response_to_json(&first, TimeFormat::EpochSeconds);
    assert_eq!(v["certificates"].as_array().unwrap().len(), 2);
    assert_eq!(v["certificates"][0]["certificateMode"], "DEFAULT");
    assert_eq!(v["certificates"][0]["status"], "INACTIVE");
    assert!(v["nextMarker"].is_string());
    let other = AccountScope::new(AccountId::parse("210987654321").unwrap(), Region::parse("eu-west-1").unwrap());
    assert!(list_certificates(&stored, None, &ListQuery::new(), &other, &key).unwrap().items.is_empty());
}

#[test]
fn wire_responses_as_botocore_parses_them() {
    let r = register(&RegisterCertificateRequest::new(device_pem(rsa2048())), &active_ca_facts()).unwrap();
    let v = wire::register_certificate_response_to_json(&r);
    assert_eq!(v, serde_json::json!({"certificateArn": r.certificate_arn, "certificateId": r.certificate_id.as_str()}));
    let d = wire::describe_certificate_response_to_json(&r.description, TimeFormat::EpochSeconds);
    let d = &d["certificateDescription"];
    for member in [
        "certificateArn",
        "certificateId",
        "caCertificateId",
        "status",
        "certificatePem",
        "ownedBy",
        "creationDate",
        "lastModifiedDate",
        "customerVersion",
        "generationId",
        "validity",
        "certificateMode",
    ] {
        assert!(d.get(member).is_some(), "{member}");
    }
    assert_eq!(d["creationDate"], NOW.as_secs());
    assert_eq!(d["validity"]["notAfter"], NOT_AFTER.as_secs());
    assert_eq!(d["status"], "INACTIVE");
    let without = check_certificate_without_ca(
        &RegisterCertificateWithoutCaRequest::new(device_pem(rsa2048())),
        Policy::default(),
        NOW,
    )
    .unwrap();
    let without = admit_certificate(without, &CertificateFacts::new(), &scope(), &mut rng(1)).unwrap();
    let d = wire::certificate_description_to_json(&without.description, TimeFormat::Rfc3339);
    assert!(d.get("caCertificateId").is_none());
    assert_eq!(d["certificateMode"], "SNI_ONLY");
}

#[test]
fn registered_ca_from_its_description_keeps_what_the_registration_said() {
    let ca = registered(rsa2048(), CaStatus::Active)
        .with_auto_registration_status(AutoRegistrationStatus::Enable)
        .with_certificate_mode(CertificateMode::SniOnly);
    assert_eq!(ca.auto_registration_status(), AutoRegistrationStatus::Enable);
    assert_eq!(ca.subject_der(), cn("Device Root"));
    assert!(matches!(
        RegisteredCa::from_pem("junk", CaStatus::Active),
        Err(Error::CaCertificate(iot_ca::CaError::Pem(PemError::NoBlock)))
    ));
}
