//! The connect decision through the public API: one test per row of the device-connect rules
//! (registered, refused, JITR, JITP and its parameters), the malformed chains, and a property
//! test that no input panics. Fixtures are built in code from seeded keys (`support`).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers may panic

mod support;

use iot_ca::wire;
use iot_ca::{
    AccountId, AccountScope, AutoRegistrationStatus, CaStatus, CertificateError, CertificateMode, CertificateRecord,
    CertificateStatus, ConnectDecision, ConnectFacts, Connection, Error, ParseError, PemError, RefuseReason,
    RegisteredCa, RegistrationConfig, TemplateBody, UnixTime, ValidityError, decide_connect,
};
use proptest::prelude::*;
use support::*;

const ACCOUNT: &str = "123456789012";
/// 2025-06-01T00:00:00Z: when a pending record was made.
const REGISTERED_AT: UnixTime = UnixTime::from_secs(1_748_736_000);

fn scope() -> AccountScope {
    AccountScope::new(AccountId::parse(ACCOUNT).unwrap(), Region::parse("us-east-1").unwrap())
}

use iot_ca::Region;

fn ca_der(key: &Key) -> Vec<u8> {
    Tbs::ca(key, "Fleet Root").sign(key)
}

/// A device certificate with a rich subject, issued under "Fleet Root" and signed by `signer`.
fn device_tbs() -> Tbs {
    let subject = name(&[
        ("2.5.4.6", "DE"),
        ("2.5.4.8", "Berlin"),
        (O, "Acme"),
        ("2.5.4.11", "Sensors"),
        (SERIAL_NUMBER_ATTR, "SN-0042"),
        (CN, "sensor-42"),
    ]);
    let mut t = Tbs::leaf(p256_other(), &cn("Fleet Root"), &subject);
    t.extensions = vec![basic_constraints(true, false, None), key_usage_digital_signature(true)];
    t
}

fn device_der() -> Vec<u8> {
    device_tbs().sign(p256())
}

/// The device's chain: its certificate, then (when `with_ca`) the CA certificate.
fn chain(with_ca: bool) -> String {
    let mut text = pem(&device_der());
    if with_ca {
        text.push_str(&pem(&ca_der(p256())));
    }
    text
}

fn connection(with_ca: bool, sni: bool) -> Connection {
    Connection::from_pem(&chain(with_ca)).unwrap().with_sni(sni)
}

/// The registered CA: ACTIVE, auto-registration ENABLE, DEFAULT mode.
fn ca() -> RegisteredCa {
    RegisteredCa::from_der(ca_der(p256()), CaStatus::Active)
        .unwrap()
        .with_auto_registration_status(AutoRegistrationStatus::Enable)
}

fn decide(connection: &Connection, facts: &ConnectFacts) -> ConnectDecision {
    decide_connect(connection, facts, &scope(), &mut rng(11), NOW)
}

#[track_caller]
fn refused(decision: ConnectDecision) -> RefuseReason {
    match decision {
        ConnectDecision::Refuse { reason, .. } => reason,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

// ------------------------------------------------------------------ 1. registered certificates

#[test]
fn registered_active_connects() {
    let c = connection(false, false);
    let facts = ConnectFacts::new().with_record(CertificateRecord::new(CertificateStatus::Active, REGISTERED_AT));
    assert_eq!(decide(&c, &facts), ConnectDecision::Connect { certificate_id: c.certificate_id().clone() });
}

#[test]
fn registered_pending_activation_is_refused_with_the_event_again() {
    let c = connection(false, false);
    let ca_id = ca().certificate_id().clone();
    let record = CertificateRecord::new(CertificateStatus::PendingActivation, REGISTERED_AT)
        .with_ca_certificate_id(ca_id.clone());
    let decision = decide(&c, &ConnectFacts::new().with_record(record));
    let ConnectDecision::Refuse { reason, event: Some(event), ca_certificate_id, .. } = decision else {
        panic!("expected a refusal with an event");
    };
    assert_eq!(reason, RefuseReason::CertificateStatus { status: CertificateStatus::PendingActivation });
    assert_eq!(ca_certificate_id, Some(ca_id.clone()));
    assert_eq!(event.topic(), format!("$aws/events/certificates/registered/{ca_id}"));
    let payload: serde_json::Value = serde_json::from_str(&event.payload()).unwrap();
    assert_eq!(
        payload,
        serde_json::json!({
            "certificateId": c.certificate_id().as_str(),
            "caCertificateId": ca_id.as_str(),
            "timestamp": NOW.as_secs() * 1000,
            "certificateStatus": "PENDING_ACTIVATION",
            "awsAccountId": ACCOUNT,
            "certificateRegistrationTimestamp": REGISTERED_AT.as_secs() * 1000,
        })
    );
}

#[test]
fn registered_pending_without_a_stored_ca_id_names_the_signing_ca() {
    let c = connection(false, false);
    let record = CertificateRecord::new(CertificateStatus::PendingActivation, REGISTERED_AT);
    let decision = decide(&c, &ConnectFacts::new().with_record(record).with_ca(ca()));
    let ConnectDecision::Refuse { event: Some(event), .. } = decision else { panic!("expected an event") };
    assert_eq!(event.ca_certificate_id(), ca().certificate_id());
}

#[test]
fn registered_with_another_status_is_refused_without_event() {
    for status in [CertificateStatus::Inactive, CertificateStatus::Revoked, CertificateStatus::PendingTransfer] {
        let facts = ConnectFacts::new().with_record(CertificateRecord::new(status, REGISTERED_AT)).with_ca(ca());
        let ConnectDecision::Refuse { reason, event, .. } = decide(&connection(true, true), &facts) else {
            panic!("expected a refusal");
        };
        assert_eq!((reason, event), (RefuseReason::CertificateStatus { status }, None));
    }
}

// ------------------------------------------------------------------ 2. unregistered: who signed it

#[test]
fn unregistered_without_a_registered_ca_is_refused() {
    assert_eq!(refused(decide(&connection(true, true), &ConnectFacts::new())), RefuseReason::NoRegisteredCa);
    // A CA with the issuer as subject but another key did not sign it.
    let impostor = RegisteredCa::from_der(ca_der(p256_other()), CaStatus::Active)
        .unwrap()
        .with_auto_registration_status(AutoRegistrationStatus::Enable);
    let facts = ConnectFacts::new().with_ca(impostor);
    assert_eq!(refused(decide(&connection(true, true), &facts)), RefuseReason::NoRegisteredCa);
}

#[test]
fn unregistered_under_an_inactive_ca_is_refused() {
    let inactive = RegisteredCa::from_der(ca_der(p256()), CaStatus::Inactive)
        .unwrap()
        .with_auto_registration_status(AutoRegistrationStatus::Enable);
    let decision = decide(&connection(true, true), &ConnectFacts::new().with_ca(inactive));
    assert_eq!(decision.ca_certificate_id(), Some(ca().certificate_id()));
    assert_eq!(refused(decision), RefuseReason::CaInactive);
}

#[test]
fn unregistered_under_a_ca_without_auto_registration_is_refused() {
    let disabled = ca().with_auto_registration_status(AutoRegistrationStatus::Disable);
    assert_eq!(
        refused(decide(&connection(true, true), &ConnectFacts::new().with_ca(disabled))),
        RefuseReason::AutoRegistrationDisabled
    );
}

#[test]
fn unregistered_and_not_valid_now_is_refused() {
    let mut expired = device_tbs();
    expired.not_after = utc_time(NOT_BEFORE);
    let text = format!("{}{}", pem(&expired.sign(p256())), pem(&ca_der(p256())));
    let c = Connection::from_pem(&text).unwrap();
    assert_eq!(
        refused(decide(&c, &ConnectFacts::new().with_ca(ca()))),
        RefuseReason::Certificate(CertificateError::Validity(ValidityError::Expired {
            not_after: NOT_BEFORE,
            now: NOW
        }))
    );
}

#[test]
fn of_two_cas_with_the_issuer_as_subject_the_signer_decides() {
    let impostor = RegisteredCa::from_der(ca_der(p256_other()), CaStatus::Active)
        .unwrap()
        .with_auto_registration_status(AutoRegistrationStatus::Enable);
    let facts = ConnectFacts::new().with_ca(impostor).with_ca(ca());
    let decision = decide(&connection(true, false), &facts);
    assert_eq!(decision.name(), "JITR");
    assert_eq!(decision.ca_certificate_id(), Some(ca().certificate_id()));
}

// ------------------------------------------------------------------ 3-4. JITR

#[test]
fn jitr_under_a_default_mode_ca_needs_the_ca_in_the_chain() {
    let facts = ConnectFacts::new().with_ca(ca());
    assert_eq!(refused(decide(&connection(false, true), &facts)), RefuseReason::CaCertificateNotPresented);
    let ConnectDecision::Jitr { record, event } = decide(&connection(true, false), &facts) else {
        panic!("expected JITR");
    };
    assert_eq!(record.status, CertificateStatus::PendingActivation);
    assert_eq!(record.certificate_mode, CertificateMode::Default);
    assert_eq!(record.ca_certificate_id.as_ref(), Some(ca().certificate_id()));
    assert_eq!((record.creation_date, record.customer_version), (NOW, 1));
    assert!(record.certificate_arn.starts_with("arn:aws:iot:us-east-1:123456789012:cert/"));
    assert_eq!(event.topic(), format!("$aws/events/certificates/registered/{}", ca().certificate_id()));
    let payload: serde_json::Value = serde_json::from_str(&event.payload()).unwrap();
    assert_eq!(payload["certificateId"], record.certificate_id.as_str());
    assert_eq!(payload["timestamp"], NOW.as_secs() * 1000);
    assert_eq!(payload["certificateRegistrationTimestamp"], NOW.as_secs() * 1000);
    assert_eq!(payload["certificateStatus"], "PENDING_ACTIVATION");
    assert_eq!(payload["awsAccountId"], ACCOUNT);
}

#[test]
fn jitr_under_an_sni_only_ca_needs_sni() {
    let facts = ConnectFacts::new().with_ca(ca().with_certificate_mode(CertificateMode::SniOnly));
    assert_eq!(refused(decide(&connection(true, false), &facts)), RefuseReason::SniRequired);
    let ConnectDecision::Jitr { record, .. } = decide(&connection(false, true), &facts) else {
        panic!("expected JITR")
    };
    assert_eq!(record.certificate_mode, CertificateMode::SniOnly);
}

// ------------------------------------------------------------------ 5. JITP

const BODY: &str = r#"{
  "Parameters": {
    "AWS::IoT::Certificate::CommonName": {"Type": "String"},
    "AWS::IoT::Certificate::Country": {"Type": "String", "Default": "US"},
    "ThingGroup": {"Type": "String", "Default": "fleet"}
  },
  "Resources": {"thing": {"Type": "AWS::IoT::Thing", "Properties": {"ThingName": {"Ref": "AWS::IoT::Certificate::CommonName"}}}}
}"#;

fn jitp_ca(body: &str) -> RegisteredCa {
    let config = RegistrationConfig::from_members(Some(body), Some("arn:aws:iam::123456789012:role/JITPRole"), None)
        .unwrap()
        .unwrap();
    ca().with_registration_config(config)
}

#[test]
fn jitp_needs_sni() {
    let facts = ConnectFacts::new().with_ca(jitp_ca(BODY));
    assert_eq!(refused(decide(&connection(true, false), &facts)), RefuseReason::SniRequired);
}

#[test]
fn jitp_parameters_come_from_the_subject_the_id_and_defaults() {
    let c = connection(false, true);
    let ConnectDecision::Jitp { record, parameters, .. } = decide(&c, &ConnectFacts::new().with_ca(jitp_ca(BODY)))
    else {
        panic!("expected JITP");
    };
    assert_eq!(record.status, CertificateStatus::Active);
    assert_eq!(record.ca_certificate_id.as_ref(), Some(ca().certificate_id()));
    let got: Vec<(&str, &str)> = parameters.iter().collect();
    assert_eq!(
        got,
        [
            ("AWS::IoT::Certificate::CommonName", "sensor-42"),
            ("AWS::IoT::Certificate::Country", "DE"),
            ("AWS::IoT::Certificate::Id", c.certificate_id().as_str()),
            ("AWS::IoT::Certificate::Organization", "Acme"),
            ("AWS::IoT::Certificate::OrganizationalUnit", "Sensors"),
            ("AWS::IoT::Certificate::SerialNumber", "SN-0042"),
            ("AWS::IoT::Certificate::StateName", "Berlin"),
            ("ThingGroup", "fleet"),
        ]
    );
}

/// The developer guide's JITP flow with resources: the certificate is registered
/// PENDING_ACTIVATION and the plan creates the thing, attaches the certificate and activates it,
/// in one transaction the caller runs.
#[test]
fn jitp_carries_the_plan_that_activates_the_certificate() {
    let body = r#"{
      "Parameters": {"AWS::IoT::Certificate::CommonName": {"Type": "String"}, "AWS::IoT::Certificate::Id": {"Type": "String"}},
      "Resources": {
        "thing": {"Type": "AWS::IoT::Thing", "Properties": {"ThingName": {"Ref": "AWS::IoT::Certificate::CommonName"}}},
        "certificate": {"Type": "AWS::IoT::Certificate",
                        "Properties": {"CertificateId": {"Ref": "AWS::IoT::Certificate::Id"}, "Status": "ACTIVE"}}
      }
    }"#;
    let c = connection(false, true);
    let ConnectDecision::Jitp { record, template, .. } = decide(&c, &ConnectFacts::new().with_ca(jitp_ca(body))) else {
        panic!("expected JITP");
    };
    assert_eq!(record.status, CertificateStatus::PendingActivation);
    let mut facts = iot_ca::PlanFacts::new();
    facts.certificate = Some(record.clone());
    facts.certificate_is_new = true;
    let plan = iot_ca::plan(&template, &facts, &scope(), &mut rng(12), NOW).unwrap();
    assert_eq!(plan.thing_name.unwrap().as_str(), "sensor-42");
    assert_eq!(plan.certificate.unwrap().status, CertificateStatus::Active);
    assert!(plan.writes.iter().any(|w| matches!(w, iot_ca::PlanWrite::AttachThingPrincipal { .. })));
    // A body the engine refuses is a refusal that says why.
    let bad = r#"{"Resources": {"thing": {"Type": "AWS::IoT::Thing", "Properties": {"ThingName": {"Fn::GetAtt": ["a", "b"]}}}}}"#;
    assert!(matches!(
        refused(decide(&connection(false, true), &ConnectFacts::new().with_ca(jitp_ca(bad)))),
        RefuseReason::Template(iot_ca::TemplateError { problem: iot_ca::TemplateProblem::UnknownFunction, .. })
    ));
}

#[test]
fn jitp_refuses_a_declared_parameter_without_value_or_default() {
    let body =
        r#"{"Parameters": {"AWS::IoT::Certificate::DistinguishedNameQualifier": {"Type": "String"}}, "Resources": {}}"#;
    assert_eq!(
        refused(decide(&connection(false, true), &ConnectFacts::new().with_ca(jitp_ca(body)))),
        RefuseReason::TemplateParameterMissing { name: "AWS::IoT::Certificate::DistinguishedNameQualifier".into() }
    );
}

#[test]
fn jitp_with_a_named_template_needs_its_body() {
    let config = RegistrationConfig::from_members(None, None, Some("jitp-template")).unwrap().unwrap();
    let named = ca().with_registration_config(config);
    let facts = ConnectFacts::new().with_ca(named);
    assert!(matches!(
        refused(decide(&connection(false, true), &facts)),
        RefuseReason::TemplateNotFound { template_name } if template_name.as_str() == "jitp-template"
    ));
    let facts = facts.with_template_body(TemplateBody::parse(BODY).unwrap());
    assert_eq!(decide(&connection(false, true), &facts).name(), "JITP");
}

// ------------------------------------------------------------------ malformed chains

#[test]
fn malformed_chains_are_errors_before_any_decision() {
    let err = Connection::from_pem("not a chain").unwrap_err();
    assert_eq!(err, Error::Certificate(CertificateError::ChainPem { index: 0, error: PemError::NoBlock }));
    assert_eq!(err.exception().name(), "CertificateValidationException");
    let mut bad = ca_der(p256());
    bad.push(0);
    let text = format!("{}{}", pem(&device_der()), pem(&bad));
    assert_eq!(
        Connection::from_pem(&text).unwrap_err(),
        Error::Certificate(CertificateError::ChainParse { index: 1, error: ParseError::TrailingData { len: 1 } })
    );
    let key = "-----BEGIN PRIVATE KEY-----\nMAMCAQA=\n-----END PRIVATE KEY-----\n";
    assert!(matches!(
        Connection::from_pem(&format!("{}{key}", pem(&device_der()))),
        Err(Error::Certificate(CertificateError::ChainPem { index: 1, error: PemError::WrongLabel { .. } }))
    ));
    let nine = pem(&device_der()).repeat(9);
    assert_eq!(
        Connection::from_pem(&nine).unwrap_err(),
        Error::Certificate(CertificateError::ChainTooLong { count: 9, max: iot_ca::MAX_CHAIN_CERTIFICATES })
    );
    assert_eq!(
        Connection::from_der(Vec::new()).unwrap_err(),
        Error::Certificate(CertificateError::ChainPem { index: 0, error: PemError::NoBlock })
    );
}

#[test]
fn decisions_in_the_cli_shape() {
    let v = wire::connect_decision_to_json(&decide(&connection(true, false), &ConnectFacts::new().with_ca(ca())));
    assert_eq!(v["decision"], "JITR");
    assert_eq!(v["caCertificateId"], ca().certificate_id().as_str());
    assert_eq!(v["event"]["payload"]["certificateStatus"], "PENDING_ACTIVATION");
    let v = wire::connect_decision_to_json(&decide(&connection(true, false), &ConnectFacts::new()));
    assert_eq!((v["decision"].as_str(), v["reason"]["code"].as_str()), (Some("REFUSE"), Some("NO_REGISTERED_CA")));
    assert!(v.get("event").is_none() && v.get("caCertificateId").is_none());
    let v =
        wire::connect_decision_to_json(&decide(&connection(false, true), &ConnectFacts::new().with_ca(jitp_ca(BODY))));
    assert_eq!(v["parameters"]["ThingGroup"], "fleet");
}

// ------------------------------------------------------------------ no input panics

fn arbitrary_facts(flags: u8) -> ConnectFacts {
    let mut ca =
        RegisteredCa::from_der(ca_der(p256()), if flags & 1 == 0 { CaStatus::Active } else { CaStatus::Inactive })
            .unwrap()
            .with_auto_registration_status(if flags & 2 == 0 {
                AutoRegistrationStatus::Enable
            } else {
                AutoRegistrationStatus::Disable
            })
            .with_certificate_mode(if flags & 4 == 0 { CertificateMode::Default } else { CertificateMode::SniOnly });
    if flags & 8 != 0 {
        ca = ca.with_registration_config(RegistrationConfig::from_members(None, None, Some("t")).unwrap().unwrap());
    }
    let mut facts = ConnectFacts::new().with_ca(ca);
    if flags & 16 != 0 {
        facts = facts.with_record(CertificateRecord::new(CertificateStatus::PendingActivation, NOW));
    }
    if flags & 32 != 0 {
        facts = facts.with_template_body(TemplateBody::parse(BODY).unwrap());
    }
    facts
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn no_chain_text_panics(text in ".{0,600}", flags in any::<u8>(), sni in any::<bool>(), secs in any::<i32>()) {
        if let Ok(c) = Connection::from_pem(&text) {
            let _ = decide_connect(&c.with_sni(sni), &arbitrary_facts(flags), &scope(), &mut rng(1), UnixTime::from_secs(secs.into()));
        }
    }

    #[test]
    fn no_mutated_device_certificate_panics(
        at in 0usize..2048, byte in any::<u8>(), cut in 0usize..2048, flags in any::<u8>(), sni in any::<bool>()
    ) {
        let mut der = device_der();
        let len = der.len();
        der[at % len] = byte;
        der.truncate(len - cut % len);
        if let Ok(c) = Connection::from_der(vec![der, ca_der(p256())]) {
            let decision = decide_connect(&c.with_sni(sni), &arbitrary_facts(flags), &scope(), &mut rng(1), NOW);
            let _ = wire::connect_decision_to_json(&decision);
        }
    }
}
