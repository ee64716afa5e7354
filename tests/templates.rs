//! The template engine: the AWS IoT Developer Guide's own example templates (typed in from
//! "Provisioning templates", "Just-in-time provisioning" and the AWS IoT Device SDK v2 for
//! Python's fleet provisioning README) evaluate to the resources the guide describes; one test
//! per intrinsic function and per OverrideSettings value; any body is accepted or refused with a
//! typed error, never a panic.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use iot_ca::{
    AccountId, AccountScope, Attributes, BoundCertificateSource, CertificateDescription, CertificateStatus, Error,
    PlanFacts, PlanWrite, PolicyName, ProvisioningTemplate, Region, TemplateError, TemplateParameters, TemplateProblem,
    TemplateType, ThingDescription, ThingError, ThingGroupName, ThingName, ThingTypeName, UnixTime, plan,
};
use proptest::prelude::*;

/// 2026-01-01T00:00:00Z.
const NOW: UnixTime = UnixTime::from_secs(1_767_225_600);

fn scope() -> AccountScope {
    AccountScope::new(AccountId::parse("123456789012").unwrap(), Region::parse("us-east-1").unwrap())
}

fn rng() -> impl rand_core::CryptoRng {
    <chacha20::ChaCha20Rng as rand_core::SeedableRng>::seed_from_u64(11)
}

fn problem(result: Result<impl std::fmt::Debug, Error>) -> (String, TemplateProblem) {
    match result {
        Err(Error::Template(TemplateError { path, problem, .. })) => (path, problem),
        other => panic!("not a template error: {other:?}"),
    }
}

/// The JITP template of the developer guide ("Just-in-time provisioning").
const JITP: &str = r#"{
   "Parameters":{
      "AWS::IoT::Certificate::CommonName":{"Type":"String"},
      "AWS::IoT::Certificate::SerialNumber":{"Type":"String"},
      "AWS::IoT::Certificate::Country":{"Type":"String"},
      "AWS::IoT::Certificate::Id":{"Type":"String"}
   },
   "Resources":{
      "thing":{
         "Type":"AWS::IoT::Thing",
         "Properties":{
            "ThingName":{"Ref":"AWS::IoT::Certificate::CommonName"},
            "AttributePayload":{"version":"v1","serialNumber":{"Ref":"AWS::IoT::Certificate::SerialNumber"}},
            "ThingTypeName":"lightBulb-versionA",
            "ThingGroups":["v1-lightbulbs",{"Ref":"AWS::IoT::Certificate::Country"}]
         },
         "OverrideSettings":{"AttributePayload":"MERGE","ThingTypeName":"REPLACE","ThingGroups":"DO_NOTHING"}
      },
      "certificate":{
         "Type":"AWS::IoT::Certificate",
         "Properties":{"CertificateId":{"Ref":"AWS::IoT::Certificate::Id"},"Status":"ACTIVE"},
         "OverrideSettings":{"Status":"DO_NOTHING"}
      },
      "policy":{
         "Type":"AWS::IoT::Policy",
         "Properties":{
            "PolicyDocument":"{ \"Version\": \"2012-10-17\", \"Statement\": [{ \"Effect\": \"Allow\", \"Action\":[\"iot:Publish\"], \"Resource\": [\"arn:aws:iot:us-east-1:123456789012:topic/foo/bar\"] }] }"
         }
      }
   }
}"#;

/// The template the AWS IoT Device SDK v2 for Python's fleet provisioning samples are run with
/// (`samples/service_clients/fleet_provisioning_basic.md`).
const FLEET: &str = r#"{"Parameters": {"DeviceLocation": {"Type": "String"},"AWS::IoT::Certificate::Id": {"Type": "String"},"SerialNumber": {"Type": "String"}},"Mappings": {"LocationTable": {"Seattle": {"LocationUrl": "https://example.aws"}}},"Resources": {"thing": {"Type": "AWS::IoT::Thing","Properties": {"ThingName": {"Fn::Join": ["",["ThingPrefix_",{"Ref": "SerialNumber"}]]},"AttributePayload": {"version": "v1","serialNumber": "serialNumber"}},"OverrideSettings": {"AttributePayload": "MERGE","ThingTypeName": "REPLACE","ThingGroups": "DO_NOTHING"}},"certificate": {"Type": "AWS::IoT::Certificate","Properties": {"CertificateId": {"Ref": "AWS::IoT::Certificate::Id"},"Status": "Active"},"OverrideSettings": {"Status": "REPLACE"}},"policy": {"Type": "AWS::IoT::Policy","Properties": {"PolicyDocument": {"Version": "2012-10-17","Statement": [{"Effect": "Allow","Action": ["iot:Connect","iot:Subscribe","iot:Publish","iot:Receive"],"Resource": "*"}]}}}},"DeviceConfiguration": {"FallbackUrl": "https://www.example.com/test-site","LocationUrl": {"Fn::FindInMap": ["LocationTable",{"Ref": "DeviceLocation"},"LocationUrl"]}}}"#;

/// The bulk-registration template of "Provisioning templates": a CSR, a Default, an escaped
/// policy document.
const BULK: &str = r#"{
    "Parameters" : {
        "ThingName" : {"Type" : "String"},
        "SerialNumber" : {"Type" : "String"},
        "Location" : {"Type" : "String", "Default" : "WA"},
        "CSR" : {"Type" : "String"}
    },
    "Resources" : {
        "thing" : {
            "Type" : "AWS::IoT::Thing",
            "Properties" : {
                "ThingName" : {"Ref" : "ThingName"},
                "AttributePayload" : { "version" : "v1", "serialNumber" :  {"Ref" : "SerialNumber"}},
                "ThingTypeName" :  "lightBulb-versionA",
                "ThingGroups" : ["v1-lightbulbs", {"Ref" : "Location"}]
            }
        },
        "certificate" : {
            "Type" : "AWS::IoT::Certificate",
            "Properties" : {"CertificateSigningRequest": {"Ref" : "CSR"}, "Status" : "ACTIVE"}
        },
        "policy" : {
            "Type" : "AWS::IoT::Policy",
            "Properties" : {
                "PolicyDocument" : "{ \"Version\": \"2012-10-17\", \"Statement\": [{ \"Effect\": \"Allow\", \"Action\":[\"iot:Publish\"], \"Resource\": [\"arn:aws:iot:us-east-1:123456789012:topic/foo/bar\"] }] }"
            }
        }
    }
}"#;

fn certificate(id_seed: &[u8], status: CertificateStatus) -> CertificateDescription {
    // A description as a store holds it, read back through the wire record.
    let id = iot_ca::CertificateId::of_der(id_seed);
    let record = serde_json::json!({
        "certificateArn": scope().certificate_arn(&id),
        "certificateId": id.as_str(),
        "status": status.as_str(),
        "certificatePem": "-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n",
        "ownedBy": "123456789012",
        "creationDate": NOW.as_secs(),
        "lastModifiedDate": NOW.as_secs(),
        "customerVersion": 1,
        "generationId": "00000000-0000-4000-8000-000000000000",
        "validity": {"notBefore": NOW.as_secs(), "notAfter": NOW.as_secs()},
        "certificateMode": "DEFAULT",
    });
    iot_ca::wire::certificate_record_from_json(&record).unwrap()
}

fn group(name: &str) -> ThingGroupName {
    ThingGroupName::parse(name).unwrap()
}

#[test]
fn the_guides_jitp_template_creates_the_thing_its_groups_the_policy_and_activates() {
    let template = ProvisioningTemplate::parse(JITP, Some(TemplateType::Jitp)).unwrap();
    let cert = certificate(b"jitp device", CertificateStatus::PendingActivation);
    let params = TemplateParameters::from_pairs([
        ("AWS::IoT::Certificate::CommonName", "bulb-1"),
        ("AWS::IoT::Certificate::SerialNumber", "SN-1"),
        ("AWS::IoT::Certificate::Country", "US"),
        ("AWS::IoT::Certificate::Id", cert.certificate_id.as_str()),
    ]);
    let bound = template.bind(&params).unwrap();
    assert_eq!(bound.certificate.as_ref().unwrap().source, BoundCertificateSource::Id(cert.certificate_id.clone()));
    let facts = {
        let mut f = PlanFacts::new();
        f.thing_type_exists = true;
        f.groups_existing = vec![group("v1-lightbulbs"), group("US")];
        f.certificate = Some(cert.clone());
        f.certificate_is_new = true;
        f
    };
    let p = plan(&bound, &facts, &scope(), &mut rng(), NOW).unwrap();
    let kinds: Vec<&str> = p
        .writes
        .iter()
        .map(|w| match w {
            PlanWrite::CreateThing(_) => "create thing",
            PlanWrite::AddThingToGroup { .. } => "add to group",
            PlanWrite::CreatePolicy(_) => "create policy",
            PlanWrite::AttachPolicy { .. } => "attach policy",
            PlanWrite::AttachThingPrincipal { .. } => "attach principal",
            PlanWrite::UpdateCertificate(_) => "activate",
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "create thing",
            "add to group",
            "add to group",
            "create policy",
            "attach policy",
            "attach principal",
            "activate"
        ]
    );
    let PlanWrite::CreateThing(thing) = &p.writes[0] else { panic!() };
    assert_eq!(thing.thing_name.as_str(), "bulb-1");
    assert_eq!(thing.thing_type_name.as_ref().map(ThingTypeName::as_str), Some("lightBulb-versionA"));
    assert_eq!(thing.attributes.iter().collect::<Vec<_>>(), [("serialNumber", "SN-1"), ("version", "v1")]);
    let PlanWrite::CreatePolicy(policy) = &p.writes[3] else { panic!() };
    assert_eq!(policy.policy_name.as_str().len(), 40, "SHA-1 hex of the document");
    assert!(policy.policy_name.as_str().bytes().all(|b| b.is_ascii_digit() || b.is_ascii_uppercase()));
    assert_eq!(p.certificate.unwrap().status, CertificateStatus::Active);
    let arns: Vec<&str> = p.resource_arns.iter().map(|(l, _)| l.as_str()).collect();
    assert_eq!(arns, ["certificate", "thing", "policy"]);
    // A certificate lacking a declared subject parameter refuses, naming it.
    let partial = TemplateParameters::from_pairs([("AWS::IoT::Certificate::Id", cert.certificate_id.as_str())]);
    let (path, why) = problem(template.bind(&partial));
    assert_eq!(path, "Resources.thing.Properties.ThingName.Ref");
    assert_eq!(why, TemplateProblem::MissingParameter { name: "AWS::IoT::Certificate::CommonName".into() });
}

#[test]
fn the_sdk_samples_fleet_template_gives_the_thing_name_and_device_configuration() {
    let template = ProvisioningTemplate::parse(FLEET, Some(TemplateType::FleetProvisioning)).unwrap();
    let cert = certificate(b"fleet device", CertificateStatus::PendingActivation);
    let params = TemplateParameters::from_pairs([("SerialNumber", "1"), ("DeviceLocation", "Seattle")])
        .with("AWS::IoT::Certificate::Id", cert.certificate_id.as_str());
    let bound = template.bind(&params).unwrap();
    let facts = {
        let mut f = PlanFacts::new();
        f.certificate = Some(cert);
        f.certificate_is_new = true;
        f
    };
    let p = plan(&bound, &facts, &scope(), &mut rng(), NOW).unwrap();
    assert_eq!(p.thing_name.unwrap().as_str(), "ThingPrefix_1");
    assert_eq!(
        p.device_configuration,
        [
            ("FallbackUrl".to_owned(), "https://www.example.com/test-site".to_owned()),
            ("LocationUrl".to_owned(), "https://example.aws".to_owned())
        ]
    );
    assert_eq!(p.certificate.unwrap().status, CertificateStatus::Active, "Status \"Active\" is ACTIVE");
    let unknown = TemplateParameters::from_pairs([("SerialNumber", "1"), ("DeviceLocation", "Paris")])
        .with("AWS::IoT::Certificate::Id", &"a".repeat(64));
    let (path, why) = problem(template.bind(&unknown));
    assert_eq!(path, "DeviceConfiguration.LocationUrl.Fn::FindInMap");
    assert_eq!(why, TemplateProblem::NotInMappings { keys: "LocationTable.Paris.LocationUrl".into() });
}

#[test]
fn the_bulk_template_binds_its_default_and_csr() {
    let template = ProvisioningTemplate::parse(BULK, None).unwrap();
    let bound = template
        .bind(&TemplateParameters::from_pairs([("ThingName", "t9"), ("SerialNumber", "s"), ("CSR", "csr text")]))
        .unwrap();
    let thing = bound.thing.unwrap();
    assert_eq!(thing.thing_groups.unwrap(), [group("v1-lightbulbs"), group("WA")], "Location's Default");
    assert_eq!(bound.certificate.unwrap().source, BoundCertificateSource::Csr("csr text".into()));
    // The same body as a JITP or fleet template names its certificate otherwise than by id.
    let (path, why) = problem(ProvisioningTemplate::parse(BULK, Some(TemplateType::Jitp)));
    assert_eq!((path.as_str(), why), ("Resources.certificate.Properties", TemplateProblem::CertificateIdOnly));
}

fn bind_one(expr: &str, params: &[(&str, &str)]) -> Result<String, Error> {
    let body = format!(
        r#"{{"Parameters": {{"A": {{"Type": "String"}}, "B": {{"Type": "String", "Default": "b-default"}}}},
            "Mappings": {{"M": {{"k1": {{"k2": "mapped"}}}}}},
            "Resources": {{"thing": {{"Type": "AWS::IoT::Thing", "Properties": {{"ThingName": {expr}}}}}}}}}"#
    );
    let template = ProvisioningTemplate::parse(&body, None)?;
    let bound = template.bind(&TemplateParameters::from_pairs(params.iter().copied()))?;
    Ok(bound.thing.unwrap().thing_name.as_str().to_owned())
}

#[test]
fn each_function() {
    assert_eq!(bind_one(r#"{"Ref": "A"}"#, &[("A", "x")]).unwrap(), "x");
    assert_eq!(bind_one(r#"{"Ref": "B"}"#, &[]).unwrap(), "b-default");
    assert_eq!(problem(bind_one(r#"{"Ref": "C"}"#, &[])).1, TemplateProblem::UndeclaredParameter { name: "C".into() });
    assert_eq!(problem(bind_one(r#"{"Ref": "A"}"#, &[])).1, TemplateProblem::MissingParameter { name: "A".into() });
    assert_eq!(bind_one(r#"{"Fn::Join": ["-", ["a", {"Ref": "A"}, "c"]]}"#, &[("A", "b")]).unwrap(), "a-b-c");
    assert_eq!(bind_one(r#"{"Fn::Select": ["1", ["a", "b"]]}"#, &[]).unwrap(), "b");
    assert_eq!(bind_one(r#"{"Fn::Select": [0, {"Fn::Split": [":", "x:y"]}]}"#, &[]).unwrap(), "x");
    assert_eq!(
        problem(bind_one(r#"{"Fn::Select": [2, ["a", "b"]]}"#, &[])),
        (
            "Resources.thing.Properties.ThingName.Fn::Select".into(),
            TemplateProblem::IndexOutOfRange { index: 2, len: 2 }
        )
    );
    assert_eq!(bind_one(r#"{"Fn::FindInMap": ["M", "k1", "k2"]}"#, &[]).unwrap(), "mapped");
    assert_eq!(bind_one(r#"{"Fn::Sub": "pre_${A}_${B}"}"#, &[("A", "a")]).unwrap(), "pre_a_b-default");
    assert_eq!(bind_one(r#"{"Fn::Sub": ["${x}-${A}", {"x": "vx"}]}"#, &[("A", "a")]).unwrap(), "vx-a");
    assert_eq!(
        problem(bind_one(r#"{"Fn::GetAtt": ["x", "y"]}"#, &[])),
        ("Resources.thing.Properties.ThingName.Fn::GetAtt".into(), TemplateProblem::UnknownFunction)
    );
    assert_eq!(problem(bind_one(r#"{"Fn::Join": ["-"]}"#, &[])).1, TemplateProblem::FunctionArguments);
    assert!(matches!(problem(bind_one(r#""bad name""#, &[])).1, TemplateProblem::Value { .. }));
}

fn thing_template(overrides: &str) -> ProvisioningTemplate {
    let body = format!(
        r#"{{"Resources": {{"thing": {{"Type": "AWS::IoT::Thing",
            "Properties": {{"ThingName": "t1", "AttributePayload": {{"a": "new", "b": "2"}}, "ThingTypeName": "tt",
                            "ThingGroups": ["g2"]}},
            "OverrideSettings": {overrides}}}}}}}"#
    );
    ProvisioningTemplate::parse(&body, None).unwrap()
}

fn existing() -> PlanFacts {
    let mut thing = ThingDescription::new(
        ThingName::parse("t1").unwrap(),
        "id".into(),
        scope().thing_arn(&ThingName::parse("t1").unwrap()),
        3,
    );
    thing.attributes = Attributes::new([("a", "old"), ("c", "3")]).unwrap();
    {
        let mut f = PlanFacts::new();
        f.thing = Some(thing);
        f.thing_groups = vec![group("g1")];
        f.thing_type_exists = true;
        f.groups_existing = vec![group("g1"), group("g2")];
        f
    }
}

fn planned(overrides: &str) -> Result<Vec<PlanWrite>, Error> {
    let bound = thing_template(overrides).bind(&TemplateParameters::default())?;
    Ok(plan(&bound, &existing(), &scope(), &mut rng(), NOW)?.writes)
}

#[test]
fn each_override_setting() {
    // DO_NOTHING (also the default): what exists stays.
    assert_eq!(planned("{}").unwrap(), []);
    assert_eq!(planned(r#"{"AttributePayload": "DO_NOTHING", "ThingGroups": "DO_NOTHING"}"#).unwrap(), []);
    // MERGE: attributes merged, groups added.
    let w = planned(r#"{"AttributePayload": "MERGE", "ThingGroups": "MERGE"}"#).unwrap();
    let PlanWrite::UpdateThing(t) = &w[0] else { panic!("{w:?}") };
    assert_eq!(t.attributes.iter().collect::<Vec<_>>(), [("a", "new"), ("b", "2"), ("c", "3")]);
    assert_eq!(t.version, 4);
    assert!(matches!(&w[1], PlanWrite::AddThingToGroup { group, .. } if group.as_str() == "g2"));
    assert_eq!(w.len(), 2);
    // REPLACE: attributes replaced, type replaced, groups replaced.
    let w =
        planned(r#"{"AttributePayload": "REPLACE", "ThingTypeName": "REPLACE", "ThingGroups": "REPLACE"}"#).unwrap();
    let PlanWrite::UpdateThing(t) = &w[0] else { panic!("{w:?}") };
    assert_eq!(t.attributes.iter().collect::<Vec<_>>(), [("a", "new"), ("b", "2")]);
    assert_eq!(t.thing_type_name.as_ref().unwrap().as_str(), "tt");
    assert!(matches!(&w[1], PlanWrite::RemoveThingFromGroup { group, .. } if group.as_str() == "g1"));
    assert!(matches!(&w[2], PlanWrite::AddThingToGroup { group, .. } if group.as_str() == "g2"));
    // FAIL: ResourceRegistrationFailureException.
    let e = planned(r#"{"AttributePayload": "FAIL"}"#).unwrap_err();
    assert_eq!(e.exception().name(), "ResourceRegistrationFailureException");
    assert!(matches!(e, Error::Template(TemplateError { problem: TemplateProblem::Conflict { .. }, .. })));
    // MERGE is for AttributePayload and ThingGroups only.
    let body = r#"{"Resources": {"thing": {"Type": "AWS::IoT::Thing", "Properties": {"ThingName": "t"},
                   "OverrideSettings": {"ThingTypeName": "MERGE"}}}}"#;
    let (path, why) = problem(ProvisioningTemplate::parse(body, None));
    assert_eq!(
        (path.as_str(), why),
        ("Resources.thing.OverrideSettings.ThingTypeName", TemplateProblem::OverrideValue { value: "MERGE".into() })
    );
}

#[test]
fn what_a_template_names_must_exist() {
    let bound = thing_template("{}").bind(&TemplateParameters::default()).unwrap();
    let facts = {
        let mut f = PlanFacts::new();
        f.thing_type_exists = false;
        f.groups_existing = vec![group("g2")];
        f
    };
    assert!(matches!(
        plan(&bound, &facts, &scope(), &mut rng(), NOW),
        Err(Error::Thing(ThingError::ThingTypeNotFound { .. }))
    ));
    let facts = {
        let mut f = PlanFacts::new();
        f.thing_type_exists = true;
        f
    };
    assert!(matches!(
        plan(&bound, &facts, &scope(), &mut rng(), NOW),
        Err(Error::Thing(ThingError::ThingGroupNotFound { .. }))
    ));
    let body = r#"{"Resources": {"p": {"Type": "AWS::IoT::Policy", "Properties": {"PolicyName": "absent"}}}}"#;
    let bound = ProvisioningTemplate::parse(body, None).unwrap().bind(&TemplateParameters::default()).unwrap();
    assert!(matches!(
        plan(&bound, &PlanFacts::new(), &scope(), &mut rng(), NOW),
        Err(Error::Thing(ThingError::PolicyNotFound { .. }))
    ));
    let facts = {
        let mut f = PlanFacts::new();
        f.policies_existing = vec![PolicyName::parse("absent").unwrap()];
        f
    };
    assert_eq!(plan(&bound, &facts, &scope(), &mut rng(), NOW).unwrap().writes, []);
}

#[test]
fn bodies_outside_the_format_are_refused_with_their_path() {
    let cases: [(&str, &str, TemplateProblem); 8] = [
        ("[]", "", TemplateProblem::WrongType { expected: "object" }),
        (r#"{"Resources": {}, "Outputs": {}}"#, "Outputs", TemplateProblem::UnknownKey),
        (r#"{"Parameters": {}}"#, "Resources", TemplateProblem::Missing),
        (
            r#"{"Resources": {"x": {"Type": "AWS::S3::Bucket"}}}"#,
            "Resources.x.Type",
            TemplateProblem::UnknownResourceType { found: "AWS::S3::Bucket".into() },
        ),
        (
            r#"{"Resources": {"p": {"Type": "AWS::IoT::Policy", "Properties": {"PolicyName": "a", "PolicyDocument": "{}"}}}}"#,
            "Resources.p.Properties",
            TemplateProblem::PolicyForm,
        ),
        (
            r#"{"Resources": {"c": {"Type": "AWS::IoT::Certificate", "Properties": {}}}}"#,
            "Resources.c.Properties",
            TemplateProblem::CertificateForm,
        ),
        (
            r#"{"Parameters": {"P": {"Type": "Number"}}, "Resources": {}}"#,
            "Parameters.P.Type",
            TemplateProblem::ParameterType,
        ),
        (
            r#"{"Resources": {"t": {"Type": "AWS::IoT::Thing", "Properties": {"Name": "x"}}}}"#,
            "Resources.t.Properties.Name",
            TemplateProblem::UnknownKey,
        ),
    ];
    for (body, path, expected) in cases {
        assert_eq!(problem(ProvisioningTemplate::parse(body, None)), (path.to_owned(), expected), "{body}");
    }
    let deep = format!(
        r#"{{"Resources": {{"t": {{"Type": "AWS::IoT::Thing", "Properties": {{"ThingName": {}"x"{}}}}}}}}}"#,
        "[".repeat(40),
        "]".repeat(40)
    );
    assert!(matches!(problem(ProvisioningTemplate::parse(&deep, None)).1, TemplateProblem::TooDeep { max: 16 }));
    let long = format!(
        r#"{{"Resources": {{}}, "Parameters": {{"P": {{"Type": "String", "Default": "{}"}}}}}}"#,
        "a".repeat(10_300)
    );
    assert_eq!(
        problem(ProvisioningTemplate::parse(&long, None)),
        (String::new(), TemplateProblem::TooLong { max: 10_240 })
    );
    let config = r#"{"Resources": {}, "DeviceConfiguration": {"a": {"b": "c"}}}"#;
    assert_eq!(
        problem(ProvisioningTemplate::parse(config, Some(TemplateType::FleetProvisioning))).1,
        TemplateProblem::Nested
    );
    assert_eq!(problem(ProvisioningTemplate::parse(config, Some(TemplateType::Jitp))).1, TemplateProblem::UnknownKey);
}

/// A JSON value of bounded size, as proptest makes them.
fn json() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i32>().prop_map(serde_json::Value::from),
        prop_oneof![
            Just("Ref".to_owned()),
            Just("Fn::Join".to_owned()),
            Just("Fn::Select".to_owned()),
            Just("AWS::IoT::Thing".to_owned()),
            Just("AWS::IoT::Policy".to_owned()),
            Just("ThingName".to_owned()),
            "[a-zA-Z:_-]{0,8}",
        ]
        .prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(5, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
            prop::collection::btree_map(
                prop_oneof![
                    Just("Resources".to_owned()),
                    Just("Parameters".to_owned()),
                    Just("Type".to_owned()),
                    Just("Properties".to_owned()),
                    Just("Ref".to_owned()),
                    Just("Fn::Sub".to_owned()),
                    Just("ThingName".to_owned()),
                    Just("PolicyName".to_owned()),
                    "[a-z]{1,4}",
                ],
                inner,
                0..4
            )
            .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    /// Any JSON body is accepted or refused with a typed error, never a panic, and binding and
    /// planning what is accepted is deterministic.
    #[test]
    fn any_body_is_a_template_or_a_typed_refusal(value in json(), resources in json()) {
        let body = serde_json::json!({"Resources": resources, "Parameters": {"A": {"Type": "String", "Default": "x"}}, "x": value});
        for text in [value.to_string(), body.to_string()] {
            for kind in [None, Some(TemplateType::Jitp), Some(TemplateType::FleetProvisioning)] {
                match ProvisioningTemplate::parse(&text, kind) {
                    Err(e) => prop_assert!(matches!(e, Error::Template(_)), "{e:?}"),
                    Ok(t) => {
                        let first = t.bind(&TemplateParameters::default());
                        prop_assert_eq!(&first, &t.bind(&TemplateParameters::default()));
                        if let Ok(bound) = first {
                            let a = plan(&bound, &PlanFacts::new(), &scope(), &mut rng(), NOW);
                            let b = plan(&bound, &PlanFacts::new(), &scope(), &mut rng(), NOW);
                            prop_assert_eq!(a, b);
                        }
                    }
                }
            }
        }
    }
}
