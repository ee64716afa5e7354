//! The rest of a CA's life through the public API: describe, update, delete, list with paging,
//! DeleteRegistrationCode, and tags on CAs and certificates. One test per rule and per error
//! variant, asserting the variant and the exception; property tests for markers and paging.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers may panic

mod support;

use std::sync::OnceLock;

use iot_ca::wire::{self, TimeFormat};
use iot_ca::{
    AccountFacts, AccountId, AccountScope, AutoRegistrationStatus, CaCertificateDescription, CaStatus, CertificateId,
    Error, LifecycleError, ListQuery, ListTagsForResourceRequest, Marker, MarkerKey, MarkerProblem, PageSize,
    PagingError, Policy, Region, RegisterCaCertificateRequest, RegistrationCode, RegistrationCodeError,
    RegistrationConfig, RegistryError, RequestError, ResourceArn, ResourceError, ResourceType, SortOrder, TagError,
    TagKeys, TagResourceRequest, Tags, TemplateFacts, TemplateName, TemplateType, UnixTime, UntagResourceRequest,
    UpdateCaCertificateRequest, admit, check, delete_ca_certificate, delete_registration_code, describe_ca_certificate,
    list_ca_certificates, list_tags_for_resource, page_slice, tag_resource, untag_resource, update_ca_certificate,
};
use proptest::prelude::*;
use support::*;

const CODE: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
/// 2026-02-01T00:00:00Z: the time of the updates.
const LATER: UnixTime = UnixTime::from_secs(1_769_904_000);

const IRE: &str = "InvalidRequestException";
const RNFE: &str = "ResourceNotFoundException";

fn scope() -> AccountScope {
    AccountScope::new(AccountId::parse("123456789012").unwrap(), Region::parse("us-east-1").unwrap())
}

fn other_account() -> AccountScope {
    AccountScope::new(AccountId::parse("210987654321").unwrap(), Region::parse("us-east-1").unwrap())
}

fn marker_key() -> MarkerKey {
    MarkerKey::new([42; 32])
}

/// A CA registered INACTIVE in `scope()` at `NOW`, by the whole check/admit flow.
fn registered() -> &'static CaCertificateDescription {
    static ONE: OnceLock<CaCertificateDescription> = OnceLock::new();
    ONE.get_or_init(|| {
        let key = p256();
        let ca = Tbs::ca(key, "Fleet Root");
        let proof = Tbs::leaf(p256_other(), &ca.subject, &name(&[(CN, CODE)]));
        let request =
            RegisterCaCertificateRequest::new(pem(&ca.sign(key))).with_verification_certificate(pem(&proof.sign(key)));
        let candidate = check(&request, &RegistrationCode::parse(CODE).unwrap(), Policy::default(), NOW).unwrap();
        admit(candidate, &AccountFacts::new(), &scope(), &mut rng(1)).unwrap().description
    })
}

fn active() -> CaCertificateDescription {
    let mut d = registered().clone();
    d.status = CaStatus::Active;
    d
}

/// A copy of the registered CA with another id and creation date, as a store would hold it.
fn item(n: u32, created: i64) -> CaCertificateDescription {
    let mut d = registered().clone();
    d.certificate_id = CertificateId::of_der(&n.to_be_bytes());
    d.certificate_arn = scope().ca_certificate_arn(&d.certificate_id);
    d.creation_date = UnixTime::from_secs(created);
    d
}

#[track_caller]
fn assert_err<T: std::fmt::Debug>(result: Result<T, Error>, expected: Error, exception: &str) {
    let err = result.expect_err("expected an error");
    assert_eq!(err, expected);
    assert_eq!(err.exception().name(), exception);
}

fn not_found(id: &CertificateId) -> Error {
    Error::Registry(RegistryError::CaCertificateNotFound { certificate_id: id.to_string() })
}

fn jitp() -> RegistrationConfig {
    RegistrationConfig::from_members(None, None, Some("jitp")).unwrap().unwrap()
}

// ------------------------------------------------------------------------------ path ids

#[test]
fn path_ids_are_matched_case_insensitively_and_answered_lowercase() {
    let d = registered();
    let upper = d.certificate_id.as_str().to_ascii_uppercase();
    let id = wire::ca_certificate_id_from_path(&upper).unwrap();
    assert_eq!(id, d.certificate_id);
    assert_eq!(describe_ca_certificate(&id, Some(d), &scope()), Ok(d));
}

#[test]
fn path_ids_outside_the_model_are_invalid_requests_in_aws_words() {
    let e = wire::ca_certificate_id_from_path("abc");
    assert_err(
        e.clone(),
        Error::Request(RequestError::Length { member: "certificateId", len: 3, min: 64, max: 64 }),
        IRE,
    );
    assert_eq!(
        e.unwrap_err().exception().message,
        "1 validation error detected: Value at 'certificateId' failed to satisfy constraint: \
         Member must have length greater than or equal to 64"
    );
    let bad = "g".repeat(64);
    let e = wire::ca_certificate_id_from_path(&bad).unwrap_err();
    assert_eq!(
        e.exception().message,
        format!(
            "1 validation error detected: Value '{bad}' at 'certificateId' failed to satisfy constraint: \
             Member must satisfy regular expression pattern: (0x)?[a-fA-F0-9]+"
        )
    );
}

#[test]
fn a_0x_path_id_is_well_formed_but_names_nothing() {
    let id = wire::ca_certificate_id_from_path(&format!("0x{}", "AB".repeat(31))).unwrap();
    assert_err(describe_ca_certificate(&id, None, &scope()), not_found(&id), RNFE);
}

// ------------------------------------------------------------------------ describe (6.1)

#[test]
fn describe_answers_the_stored_description_with_registration_config_beside_it() {
    let mut d = registered().clone();
    d.registration_config = Some(jitp());
    let found = describe_ca_certificate(&d.certificate_id, Some(&d), &scope()).unwrap();
    let v = wire::describe_ca_certificate_response_to_json(found, TimeFormat::EpochSeconds);
    assert_eq!(v["registrationConfig"], serde_json::json!({ "templateName": "jitp" }));
    let members: Vec<&str> = v["certificateDescription"].as_object().unwrap().keys().map(String::as_str).collect();
    let mut expected = vec![
        "autoRegistrationStatus",
        "certificateArn",
        "certificateId",
        "certificateMode",
        "certificatePem",
        "creationDate",
        "customerVersion",
        "generationId",
        "lastModifiedDate",
        "ownedBy",
        "status",
        "validity",
    ];
    expected.sort_unstable();
    let mut members = members;
    members.sort_unstable();
    assert_eq!(members, expected);
    let plain = wire::describe_ca_certificate_response_to_json(registered(), TimeFormat::EpochSeconds);
    assert!(plain.get("registrationConfig").is_none());
}

#[test]
fn describe_of_an_id_the_account_does_not_hold_is_not_found() {
    let d = registered();
    assert_err(describe_ca_certificate(&d.certificate_id, None, &scope()), not_found(&d.certificate_id), RNFE);
    // Another account's store entry for the same id is not this account's.
    assert_err(
        describe_ca_certificate(&d.certificate_id, Some(d), &other_account()),
        not_found(&d.certificate_id),
        RNFE,
    );
    // A description stored under another id is not the one asked for.
    let other = item(7, 0).certificate_id;
    assert_err(describe_ca_certificate(&other, Some(d), &scope()), not_found(&other), RNFE);
}

// -------------------------------------------------------------------------- update (6.2)

fn update(
    request: &UpdateCaCertificateRequest,
    stored: &CaCertificateDescription,
    template: Option<TemplateFacts>,
) -> Result<iot_ca::CaCertificateUpdate, Error> {
    update_ca_certificate(request, Some(stored), template, &scope(), &mut rng(2), LATER)
}

#[test]
fn a_change_bumps_version_date_and_generation_id() {
    let d = registered();
    let request = UpdateCaCertificateRequest::new(d.certificate_id.clone())
        .with_new_status(CaStatus::Active)
        .with_new_auto_registration_status(AutoRegistrationStatus::Enable);
    let out = update(&request, d, None).unwrap();
    assert!(out.changed);
    let n = out.description;
    assert_eq!((n.status, n.auto_registration_status), (CaStatus::Active, AutoRegistrationStatus::Enable));
    assert_eq!(n.customer_version, d.customer_version + 1);
    assert_eq!(n.last_modified_date, LATER);
    assert_eq!(n.creation_date, d.creation_date);
    assert_ne!(n.generation_id, d.generation_id);
    assert_eq!(n.generation_id.len(), 36);
    assert_eq!(n.generation_id.as_bytes()[14], b'4', "UUID v4: {}", n.generation_id);
}

#[test]
fn a_request_that_changes_nothing_changes_nothing() {
    let d = registered();
    let same = UpdateCaCertificateRequest::new(d.certificate_id.clone())
        .with_new_status(d.status)
        .with_new_auto_registration_status(d.auto_registration_status);
    for request in [UpdateCaCertificateRequest::new(d.certificate_id.clone()), same] {
        let out = update(&request, d, None).unwrap();
        assert!(!out.changed);
        assert_eq!(&out.description, d);
    }
    // Removing a config that is not there is no change either.
    let remove = UpdateCaCertificateRequest::new(d.certificate_id.clone()).with_remove_auto_registration(true);
    assert!(!update(&remove, d, None).unwrap().changed);
}

#[test]
fn registration_config_is_set_with_a_jitp_template_and_removed_on_request() {
    let d = registered();
    let set = UpdateCaCertificateRequest::new(d.certificate_id.clone()).with_registration_config(jitp());
    assert_eq!(set.template_name().map(TemplateName::as_str), Some("jitp"));
    let out = update(&set, d, Some(TemplateFacts::new(TemplateType::Jitp))).unwrap();
    assert_eq!(out.description.registration_config, Some(jitp()));
    let remove = UpdateCaCertificateRequest::new(d.certificate_id.clone()).with_remove_auto_registration(true);
    let removed = update(&remove, &out.description, None).unwrap();
    assert!(removed.changed);
    assert_eq!(removed.description.registration_config, None);
    assert_eq!(removed.description.customer_version, d.customer_version + 2);
}

#[test]
fn registration_config_template_facts_decide_as_at_registration() {
    let d = registered();
    let set = UpdateCaCertificateRequest::new(d.certificate_id.clone()).with_registration_config(jitp());
    assert_err(
        update(&set, d, None),
        Error::Registry(RegistryError::TemplateNotFound { template_name: "jitp".into() }),
        RNFE,
    );
    assert_err(
        update(&set, d, Some(TemplateFacts::new(TemplateType::FleetProvisioning))),
        Error::Registry(RegistryError::TemplateWrongType {
            template_name: "jitp".into(),
            found: "FLEET_PROVISIONING",
            needed: "JITP",
        }),
        IRE,
    );
}

#[test]
fn remove_auto_registration_with_a_config_is_refused_before_anything_else() {
    let d = registered();
    let both = UpdateCaCertificateRequest::new(d.certificate_id.clone())
        .with_registration_config(jitp())
        .with_remove_auto_registration(true);
    let expected = Error::Lifecycle(LifecycleError::RemoveAutoRegistrationWithConfig);
    assert_err(update(&both, d, None), expected.clone(), IRE);
    // Even for a CA the account does not hold: request faults come first.
    assert_err(update_ca_certificate(&both, None, None, &scope(), &mut rng(2), LATER), expected, IRE);
}

#[test]
fn update_of_an_id_the_account_does_not_hold_is_not_found() {
    let d = registered();
    let request = UpdateCaCertificateRequest::new(d.certificate_id.clone()).with_new_status(CaStatus::Active);
    assert_err(
        update_ca_certificate(&request, None, None, &scope(), &mut rng(2), LATER),
        not_found(&d.certificate_id),
        RNFE,
    );
    assert_err(
        update_ca_certificate(&request, Some(d), None, &other_account(), &mut rng(2), LATER),
        not_found(&d.certificate_id),
        RNFE,
    );
}

#[test]
fn update_from_rest_pieces() {
    let d = registered();
    let id = d.certificate_id.as_str();
    let r = wire::update_ca_certificate_request_from_rest(
        id,
        "newStatus=ACTIVE&newAutoRegistrationStatus=ENABLE",
        r#"{"registrationConfig": {"templateName": "jitp"}}"#,
    )
    .unwrap();
    assert_eq!(r.new_status(), Some(CaStatus::Active));
    assert_eq!(r.new_auto_registration_status(), Some(AutoRegistrationStatus::Enable));
    assert_eq!(r.registration_config(), Some(&jitp()));
    let r = wire::update_ca_certificate_request_from_rest(id, "", r#"{"removeAutoRegistration": true}"#).unwrap();
    assert!(r.remove_auto_registration());
    assert_eq!(
        wire::update_ca_certificate_request_from_rest(id, "", ""),
        Ok(UpdateCaCertificateRequest::new(d.certificate_id.clone()))
    );

    let e = wire::update_ca_certificate_request_from_rest(id, "newStatus=REVOKED", "").unwrap_err();
    assert_eq!(
        e,
        Error::Request(RequestError::Enum {
            member: "newStatus",
            value: "REVOKED".into(),
            allowed: &["ACTIVE", "INACTIVE"]
        })
    );
    assert_eq!(
        e.exception().message,
        "1 validation error detected: Value 'REVOKED' at 'newStatus' failed to satisfy constraint: \
         Member must satisfy enum value set: [ACTIVE, INACTIVE]"
    );
    assert_err(
        wire::update_ca_certificate_request_from_rest(id, "newAutoRegistrationStatus=enable", ""),
        Error::Request(RequestError::Enum {
            member: "newAutoRegistrationStatus",
            value: "enable".into(),
            allowed: &["ENABLE", "DISABLE"],
        }),
        IRE,
    );
    assert_err(
        wire::update_ca_certificate_request_from_rest(id, "", r#"{"colour": 1}"#),
        Error::Request(RequestError::UnknownMember { member: "colour".into() }),
        IRE,
    );
    assert_err(
        wire::update_ca_certificate_request_from_rest(id, "", r#"{"removeAutoRegistration": "yes"}"#),
        Error::Request(RequestError::WrongType { member: "removeAutoRegistration".into(), expected: "boolean" }),
        IRE,
    );
    assert_err(
        wire::update_ca_certificate_request_from_rest(id, "", r#"{"registrationConfig": {"roleArn": "x"}}"#),
        Error::Request(RequestError::Length { member: "registrationConfig.roleArn", len: 1, min: 20, max: 2048 }),
        IRE,
    );
    assert_err(
        wire::update_ca_certificate_request_from_rest(id, "", "[]"),
        Error::Request(RequestError::MalformedJson),
        IRE,
    );
}

// -------------------------------------------------------------------------- delete (6.3)

#[test]
fn an_active_ca_must_be_deactivated_before_it_is_deleted() {
    let d = active();
    let e = delete_ca_certificate(&d.certificate_id, Some(&d), &scope());
    assert_err(
        e.clone(),
        Error::Lifecycle(LifecycleError::CaCertificateActive { certificate_id: d.certificate_id.to_string() }),
        "CertificateStateException",
    );
    let ex = e.unwrap_err().exception();
    assert_eq!(ex.http_status(), 406);
    assert_eq!(ex.message, "The certificate operation is not allowed. Deactivate the CA certificate first.");
    let inactive = registered();
    assert_eq!(delete_ca_certificate(&inactive.certificate_id, Some(inactive), &scope()), Ok(()));
}

#[test]
fn delete_of_an_id_the_account_does_not_hold_is_not_found() {
    let d = registered();
    assert_err(delete_ca_certificate(&d.certificate_id, None, &scope()), not_found(&d.certificate_id), RNFE);
    assert_err(delete_ca_certificate(&d.certificate_id, Some(d), &other_account()), not_found(&d.certificate_id), RNFE);
}

// ------------------------------------------------------------------- registration code (6.6)

#[test]
fn delete_registration_code_needs_a_code_and_old_proofs_stop_matching() {
    assert_err(delete_registration_code(None), Error::Lifecycle(LifecycleError::NoRegistrationCode), RNFE);
    let old = RegistrationCode::parse(CODE).unwrap();
    assert_eq!(delete_registration_code(Some(&old)), Ok(()));
    // The next GetRegistrationCode makes a new code; a proof made with the old one fails.
    let new = RegistrationCode::generate(&mut rng(3));
    let key = p256();
    let ca = Tbs::ca(key, "Fleet Root");
    let proof = Tbs::leaf(p256_other(), &ca.subject, &name(&[(CN, CODE)]));
    let request =
        RegisterCaCertificateRequest::new(pem(&ca.sign(key))).with_verification_certificate(pem(&proof.sign(key)));
    assert_err(
        check(&request, &new, Policy::default(), NOW),
        Error::RegistrationCode(RegistrationCodeError::Mismatch),
        "RegistrationCodeValidationException",
    );
}

// ---------------------------------------------------------------------------- list (6.4)

/// Every page of ListCACertificates for `query`, following nextMarker.
fn all_pages(stored: &[CaCertificateDescription], query: ListQuery) -> Vec<Vec<CertificateId>> {
    let mut pages = Vec::new();
    let mut query = query;
    loop {
        let page = list_ca_certificates(stored, &query, &scope(), &marker_key()).unwrap();
        pages.push(page.items.iter().map(|d| d.certificate_id.clone()).collect());
        match page.next_marker {
            Some(m) => query = query.with_marker(Marker::parse(&m, "marker").unwrap()),
            None => return pages,
        }
    }
}

#[test]
fn list_is_newest_first_by_default_and_pages_without_a_marker_on_the_last_page() {
    let stored: Vec<_> = (0..5).map(|n| item(n, 100 + i64::from(n))).collect();
    let query = ListQuery::new().with_page_size(PageSize::new(2).unwrap());
    let pages = all_pages(&stored, query.clone());
    let ids = |ns: &[u32]| ns.iter().map(|n| item(*n, 0).certificate_id).collect::<Vec<_>>();
    assert_eq!(pages, vec![ids(&[4, 3]), ids(&[2, 1]), ids(&[0])]);
    let asc = all_pages(&stored, query.with_order(SortOrder::Ascending));
    assert_eq!(asc, vec![ids(&[0, 1]), ids(&[2, 3]), ids(&[4])]);
    // Exactly a page's worth: no nextMarker.
    let exact = ListQuery::new().with_page_size(PageSize::new(5).unwrap());
    assert_eq!(list_ca_certificates(&stored, &exact, &scope(), &marker_key()).unwrap().next_marker, None);
}

#[test]
fn list_filters_on_template_name_and_on_the_account() {
    let mut with_template = item(1, 1);
    with_template.registration_config = Some(jitp());
    let stored = vec![item(0, 0), with_template.clone(), registered().clone()];
    let query = ListQuery::new().with_template_name(TemplateName::parse("jitp").unwrap());
    let page = list_ca_certificates(&stored, &query, &scope(), &marker_key()).unwrap();
    assert_eq!(page.items, vec![&with_template]);
    let none = list_ca_certificates(&stored, &ListQuery::new(), &other_account(), &marker_key()).unwrap();
    assert!(none.items.is_empty());
}

#[test]
fn a_marker_from_another_listing_or_forged_is_an_invalid_request() {
    let stored: Vec<_> = (0..3).map(|n| item(n, i64::from(n))).collect();
    let one = ListQuery::new().with_page_size(PageSize::new(1).unwrap());
    let marker = list_ca_certificates(&stored, &one, &scope(), &marker_key()).unwrap().next_marker.unwrap();
    let with_marker = one.clone().with_marker(Marker::parse(&marker, "marker").unwrap());
    let seal = Error::Paging(PagingError::Marker { member: "marker", problem: MarkerProblem::Seal });
    let filtered = with_marker.clone().with_template_name(TemplateName::parse("jitp").unwrap());
    assert_err(list_ca_certificates(&stored, &filtered, &scope(), &marker_key()), seal.clone(), IRE);
    let asc = with_marker.clone().with_order(SortOrder::Ascending);
    assert_err(list_ca_certificates(&stored, &asc, &scope(), &marker_key()), seal.clone(), IRE);
    assert_err(list_ca_certificates(&stored, &with_marker, &scope(), &MarkerKey::new([1; 32])), seal.clone(), IRE);
    // Flip one byte of the key inside the marker.
    let mut bytes = <base64ct::Base64 as base64ct::Encoding>::decode_vec(&marker).unwrap();
    bytes[3] ^= 1;
    let forged = <base64ct::Base64 as base64ct::Encoding>::encode_string(&bytes);
    let q = one.clone().with_marker(Marker::parse(&forged, "marker").unwrap());
    assert_err(list_ca_certificates(&stored, &q, &scope(), &marker_key()), seal, IRE);
    let e = Error::Paging(PagingError::Marker { member: "marker", problem: MarkerProblem::Encoding });
    let q = one.clone().with_marker(Marker::parse("abc", "marker").unwrap());
    assert_err(list_ca_certificates(&stored, &q, &scope(), &marker_key()), e, IRE);
    let q = one.with_marker(Marker::parse("AAAA", "marker").unwrap());
    let e = Error::Paging(PagingError::Marker { member: "marker", problem: MarkerProblem::Version { found: 0 } });
    assert_err(list_ca_certificates(&stored, &q, &scope(), &marker_key()), e, IRE);
}

#[test]
fn list_query_from_rest() {
    let q = wire::list_ca_certificates_query_from_rest("pageSize=3&isAscendingOrder=true&templateName=jitp").unwrap();
    assert_eq!((q.page_size().get(), q.order()), (3, SortOrder::Ascending));
    assert_eq!(q.template_name().map(TemplateName::as_str), Some("jitp"));
    let q = wire::list_ca_certificates_query_from_rest("marker=ab%2Bc%2F%3D").unwrap();
    assert_eq!(q.marker().map(Marker::as_str), Some("ab+c/="));
    assert_eq!(wire::list_ca_certificates_query_from_rest(""), Ok(ListQuery::new()));

    let e = wire::list_ca_certificates_query_from_rest("pageSize=0").unwrap_err();
    assert_eq!(e, Error::Paging(PagingError::PageSize { value: 0, min: 1, max: 250 }));
    assert_eq!(
        e.exception().message,
        "1 validation error detected: Value '0' at 'pageSize' failed to satisfy constraint: \
         Member must have value greater than or equal to 1"
    );
    let e = wire::list_ca_certificates_query_from_rest("pageSize=251").unwrap_err();
    assert_eq!(
        e.exception().message,
        "1 validation error detected: Value '251' at 'pageSize' failed to satisfy constraint: \
         Member must have value less than or equal to 250"
    );
    assert_err(
        wire::list_ca_certificates_query_from_rest("pageSize=ten"),
        Error::Request(RequestError::WrongType { member: "pageSize".into(), expected: "integer" }),
        IRE,
    );
    assert_err(
        wire::list_ca_certificates_query_from_rest("isAscendingOrder=yes"),
        Error::Request(RequestError::WrongType { member: "isAscendingOrder".into(), expected: "boolean" }),
        IRE,
    );
    assert_err(
        wire::list_ca_certificates_query_from_rest("marker=a%20b"),
        Error::Request(RequestError::Pattern {
            member: "marker",
            value: "a b".into(),
            pattern: "[A-Za-z0-9+/]+={0,2}",
        }),
        IRE,
    );
    assert_err(
        wire::list_ca_certificates_query_from_rest("templateName=a%20b"),
        Error::Request(RequestError::Pattern {
            member: "templateName",
            value: "a b".into(),
            pattern: "^[0-9A-Za-z_-]+$",
        }),
        IRE,
    );
}

#[test]
fn list_entries_carry_only_the_cacertificate_members() {
    let stored: Vec<_> = (0..3).map(|n| item(n, i64::from(n))).collect();
    let query = ListQuery::new().with_page_size(PageSize::new(2).unwrap());
    let page = list_ca_certificates(&stored, &query, &scope(), &marker_key()).unwrap();
    let v = wire::list_ca_certificates_response_to_json(&page, TimeFormat::EpochSeconds);
    let entry = v["certificates"][0].as_object().unwrap();
    let mut keys: Vec<&str> = entry.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["certificateArn", "certificateId", "creationDate", "status"]);
    assert_eq!(entry["creationDate"], 2);
    assert_eq!(v["nextMarker"].as_str(), page.next_marker.as_deref());
    let last = list_ca_certificates(&stored, &ListQuery::new(), &scope(), &marker_key()).unwrap();
    assert!(wire::list_ca_certificates_response_to_json(&last, TimeFormat::EpochSeconds).get("nextMarker").is_none());
}

// ---------------------------------------------------------------------------- tags (6.5)

fn ca_arn() -> ResourceArn {
    ResourceArn::new(&scope(), ResourceType::CaCertificate, registered().certificate_id.clone())
}

fn tags(pairs: &[(&str, &str)]) -> Tags {
    Tags::new(pairs).unwrap()
}

#[test]
fn tag_resource_overwrites_existing_keys_and_adds_new_ones() {
    let current = tags(&[("env", "dev"), ("team", "a")]);
    let request = TagResourceRequest::new(ca_arn(), tags(&[("env", "prod"), ("cost", "1")]));
    assert_eq!(tag_resource(&request, Some(&current)), Ok(tags(&[("env", "prod"), ("team", "a"), ("cost", "1")])));
}

#[test]
fn more_than_fifty_tags_on_a_resource_is_limit_exceeded() {
    let fifty: Vec<(String, String)> = (0..50).map(|i| (format!("k{i}"), String::new())).collect();
    let current = Tags::new(&fifty).unwrap();
    let request = TagResourceRequest::new(ca_arn(), tags(&[("one-more", "")]));
    let e = tag_resource(&request, Some(&current));
    assert_err(e.clone(), Error::Lifecycle(LifecycleError::TagLimit { count: 51, max: 50 }), "LimitExceededException");
    assert_eq!(e.unwrap_err().exception().http_status(), 410);
    let overwrite = TagResourceRequest::new(ca_arn(), tags(&[("k0", "v")]));
    assert!(tag_resource(&overwrite, Some(&current)).is_ok());
}

#[test]
fn tags_of_a_resource_the_account_does_not_hold_are_not_found() {
    let arn = ca_arn();
    let expected = Error::Resource(ResourceError::NotFound { arn: arn.to_string() });
    assert_err(tag_resource(&TagResourceRequest::new(arn.clone(), tags(&[])), None), expected.clone(), RNFE);
    let keys = TagKeys::new(&["k"]).unwrap();
    assert_err(untag_resource(&UntagResourceRequest::new(arn.clone(), keys), None), expected.clone(), RNFE);
    let list = ListTagsForResourceRequest::new(arn, ListQuery::new());
    assert_err(list_tags_for_resource(&list, None, &scope(), &marker_key()), expected, RNFE);
}

#[test]
fn resource_arns_of_another_account_region_or_type_are_not_found() {
    let id = registered().certificate_id.as_str();
    let cases = [
        (
            format!("arn:aws:iot:us-east-1:210987654321:cacert/{id}"),
            ResourceError::OutOfScope {
                arn: format!("arn:aws:iot:us-east-1:210987654321:cacert/{id}"),
                field: "account",
                found: "210987654321".into(),
                expected: "123456789012".into(),
            },
        ),
        (
            format!("arn:aws:iot:eu-west-1:123456789012:cert/{id}"),
            ResourceError::OutOfScope {
                arn: format!("arn:aws:iot:eu-west-1:123456789012:cert/{id}"),
                field: "region",
                found: "eu-west-1".into(),
                expected: "us-east-1".into(),
            },
        ),
        (
            format!("arn:aws:iot:us-east-1:123456789012:thing/{id}"),
            ResourceError::UnsupportedResourceType {
                arn: format!("arn:aws:iot:us-east-1:123456789012:thing/{id}"),
                resource_type: "thing".into(),
            },
        ),
        ("not an arn".to_owned(), ResourceError::MalformedArn { arn: "not an arn".into() }),
    ];
    for (arn, expected) in cases {
        let body = serde_json::json!({ "resourceArn": arn, "tags": [] }).to_string();
        assert_err(wire::tag_resource_request_from_json(&body, &scope()), Error::Resource(expected), RNFE);
    }
    let cert = format!("arn:aws:iot:us-east-1:123456789012:cert/{id}");
    let body = serde_json::json!({ "resourceArn": cert, "tags": [{"Key": "k", "Value": "v"}] }).to_string();
    let r = wire::tag_resource_request_from_json(&body, &scope()).unwrap();
    assert_eq!(r.resource_arn.resource_type(), ResourceType::Certificate);
    assert_eq!(r.tags, tags(&[("k", "v")]));
}

#[test]
fn tag_request_faults_come_before_the_arn() {
    let body = r#"{"resourceArn": "not an arn", "tags": [{"Key": "aws:x"}]}"#;
    assert_err(
        wire::tag_resource_request_from_json(body, &scope()),
        Error::Tag(TagError::ReservedPrefix { index: 1, key: "aws:x".into() }),
        IRE,
    );
    assert_err(
        wire::tag_resource_request_from_json(r#"{"resourceArn": "x"}"#, &scope()),
        Error::Request(RequestError::MissingMember { member: "tags" }),
        IRE,
    );
    assert_err(
        wire::tag_resource_request_from_json(r#"{"tags": []}"#, &scope()),
        Error::Request(RequestError::MissingMember { member: "resourceArn" }),
        IRE,
    );
}

#[test]
fn untag_removes_the_keys_and_ignores_absent_ones() {
    let current = tags(&[("a", "1"), ("b", "2")]);
    let body = serde_json::json!({ "resourceArn": ca_arn().as_str(), "tagKeys": ["a", "zz"] }).to_string();
    let request = wire::untag_resource_request_from_json(&body, &scope()).unwrap();
    assert_eq!(untag_resource(&request, Some(&current)), Ok(tags(&[("b", "2")])));
}

#[test]
fn tag_keys_follow_the_key_rules_and_name_their_member() {
    let arn = ca_arn();
    let body =
        |keys: serde_json::Value| serde_json::json!({ "resourceArn": arn.as_str(), "tagKeys": keys }).to_string();
    let e = wire::untag_resource_request_from_json(&body(serde_json::json!(["ok", "a*b"])), &scope()).unwrap_err();
    assert_eq!(e, Error::TagKeys(TagError::KeyPattern { index: 2, key: "a*b".into() }));
    assert_eq!(
        e.exception().message,
        r"1 validation error detected: Value 'a*b' at 'tagKeys.2.member' failed to satisfy constraint: Member must satisfy regular expression pattern: ^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$"
    );
    assert_err(
        wire::untag_resource_request_from_json(&body(serde_json::json!(["aws:x"])), &scope()),
        Error::TagKeys(TagError::ReservedPrefix { index: 1, key: "aws:x".into() }),
        IRE,
    );
    assert_err(
        wire::untag_resource_request_from_json(&body(serde_json::json!([])), &scope()),
        Error::Request(RequestError::Length { member: "tagKeys", len: 0, min: 1, max: 50 }),
        IRE,
    );
    assert_err(
        wire::untag_resource_request_from_json(&body(serde_json::json!([1])), &scope()),
        Error::Request(RequestError::WrongType { member: "tagKeys.1.member".into(), expected: "string" }),
        IRE,
    );
    let long = "k".repeat(129);
    let e = wire::untag_resource_request_from_json(&body(serde_json::json!([long])), &scope()).unwrap_err();
    assert_eq!(e, Error::TagKeys(TagError::KeyLength { index: 1, len: 129, max: 128 }));
    assert_eq!(
        e.exception().message,
        "1 validation error detected: Value at 'tagKeys.1.member' failed to satisfy constraint: \
         Member must have length less than or equal to 128"
    );
}

#[test]
fn list_tags_pages_in_key_order_with_next_token() {
    let pairs: Vec<(String, String)> = (0..30).rev().map(|i| (format!("k{i:02}"), format!("v{i}"))).collect();
    let current = Tags::new(&pairs).unwrap();
    let query = format!("resourceArn={}", ca_arn());
    let first = wire::list_tags_for_resource_request_from_rest(&query, &scope()).unwrap();
    let page = list_tags_for_resource(&first, Some(&current), &scope(), &marker_key()).unwrap();
    assert_eq!(page.items.len(), 25);
    assert_eq!(page.items[0].0, "k00");
    let v = wire::list_tags_for_resource_response_to_json(&page);
    assert_eq!(v["tags"][1], serde_json::json!({ "Key": "k01", "Value": "v1" }));
    let token = v["nextToken"].as_str().unwrap();
    let encoded: String = token.replace('+', "%2B").replace('/', "%2F").replace('=', "%3D");
    let next =
        wire::list_tags_for_resource_request_from_rest(&format!("{query}&nextToken={encoded}"), &scope()).unwrap();
    let page = list_tags_for_resource(&next, Some(&current), &scope(), &marker_key()).unwrap();
    let keys: Vec<&str> = page.items.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, ["k25", "k26", "k27", "k28", "k29"]);
    assert_eq!(page.next_marker, None);
    // A nextToken of one resource is refused for another.
    let other = ResourceArn::new(&scope(), ResourceType::Certificate, registered().certificate_id.clone());
    let wrong = ListTagsForResourceRequest::new(other, next.query.clone());
    assert_err(
        list_tags_for_resource(&wrong, Some(&current), &scope(), &marker_key()),
        Error::Paging(PagingError::Marker { member: "nextToken", problem: MarkerProblem::Seal }),
        IRE,
    );
    assert_err(
        wire::list_tags_for_resource_request_from_rest("nextToken=abc", &scope()),
        Error::Request(RequestError::MissingMember { member: "resourceArn" }),
        IRE,
    );
}

// ---------------------------------------------------------------------------- stored records

#[test]
fn a_ca_record_reads_back_as_it_was_stored() {
    let mut d = active();
    d.registration_config = Some(jitp());
    d.tags = Tags::new(&[("env", "prod"), ("team", "")]).unwrap();
    d.findings = iot_ca::Finding::ALL.to_vec();
    let record = wire::ca_record_to_json(&d);
    assert_eq!(wire::ca_record_from_json(&record), Ok(d.clone()));
    let plain = registered().clone();
    assert_eq!(wire::ca_record_from_json(&wire::ca_record_to_json(&plain)), Ok(plain));
    let mut broken = record.clone();
    broken["status"] = "PENDING".into();
    assert!(matches!(wire::ca_record_from_json(&broken), Err(Error::Request(RequestError::Enum { .. }))));
    let mut broken = record;
    broken["findings"] = serde_json::json!(["no-such-finding"]);
    assert!(matches!(wire::ca_record_from_json(&broken), Err(Error::Request(RequestError::WrongType { .. }))));
    assert_eq!(
        wire::ca_record_from_json(&serde_json::json!([])),
        Err(Error::Request(RequestError::WrongType { member: "record".into(), expected: "object" }))
    );
}

// --------------------------------------------------------------------------- properties

fn any_creation_key() -> impl Strategy<Value = (i64, u32)> {
    (any::<i64>(), any::<u32>())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    /// A marker made for the last item of a page decodes to that item's key.
    #[test]
    fn markers_round_trip((created, n) in any_creation_key()) {
        let stored = vec![item(n, created), item(n.wrapping_add(1), created)];
        let query = ListQuery::new().with_page_size(PageSize::new(1).unwrap()).with_order(SortOrder::Ascending);
        let page = list_ca_certificates(&stored, &query, &scope(), &marker_key()).unwrap();
        let marker = page.next_marker.unwrap();
        prop_assert!(marker.len() <= 1024);
        let next = query.clone().with_marker(Marker::parse(&marker, "marker").unwrap());
        let rest = list_ca_certificates(&stored, &next, &scope(), &marker_key()).unwrap();
        prop_assert_eq!(rest.items.len(), 1);
        prop_assert_ne!(&rest.items[0].certificate_id, &page.items[0].certificate_id);
    }

    /// Any text as a marker is a marker of ours or an InvalidRequestException, never a panic.
    #[test]
    fn any_marker_text_decodes_or_is_an_invalid_request(
        text in prop_oneof![any::<String>(), "[A-Za-z0-9+/]{1,80}={0,2}", "AQ[A-Za-z0-9+/]{40,120}={0,2}"]
    ) {
        let stored = vec![item(1, 1)];
        let outcome = Marker::parse(&text, "marker").and_then(|m| {
            list_ca_certificates(&stored, &ListQuery::new().with_marker(m), &scope(), &marker_key())
        });
        if let Err(e) = outcome {
            prop_assert_eq!(e.exception().name(), IRE);
        }
    }

    /// Following nextMarker visits every item exactly once, in order, for any page size,
    /// insertion order and creation dates (many of them equal).
    #[test]
    fn paging_visits_every_item_once_in_both_orders(
        dates in prop::collection::vec(0i64..5, 0..40),
        size in prop_oneof![1u16..8, Just(250u16)],
        shuffle in any::<u64>(),
        ascending in any::<bool>(),
    ) {
        let mut stored: Vec<_> = dates.iter().enumerate().map(|(i, d)| item(i as u32, *d)).collect();
        // A deterministic shuffle: the store's order must not matter.
        let len = stored.len();
        for i in (1..len).rev() {
            let j = (shuffle.wrapping_mul(i as u64 + 7) % (i as u64 + 1)) as usize;
            stored.swap(i, j);
        }
        let order = SortOrder::from_is_ascending(ascending);
        let query = ListQuery::new().with_page_size(PageSize::new(i64::from(size)).unwrap()).with_order(order);
        let pages = all_pages(&stored, query);
        prop_assert!(pages.iter().rev().skip(1).all(|p| p.len() == usize::from(size)));
        let seen: Vec<CertificateId> = pages.into_iter().flatten().collect();
        let mut expected: Vec<(UnixTime, CertificateId)> =
            stored.iter().map(|d| (d.creation_date, d.certificate_id.clone())).collect();
        expected.sort();
        if !ascending {
            expected.reverse();
        }
        let expected: Vec<CertificateId> = expected.into_iter().map(|(_, id)| id).collect();
        prop_assert_eq!(seen, expected);
    }

    /// page_slice over tags visits every key once, in key order.
    #[test]
    fn tag_paging_visits_every_key_once(n in 0usize..50, size in 1i64..10) {
        let pairs: Vec<(String, String)> = (0..n).map(|i| (format!("k{}", (i * 7919) % 1000), String::new())).collect();
        let current = Tags::new(&pairs).unwrap();
        let listing = iot_ca::Listing::new("test", &scope());
        let mut query = ListQuery::new().with_page_size(PageSize::new(size).unwrap()).with_order(SortOrder::Ascending);
        let mut seen = Vec::new();
        loop {
            let page = page_slice(current.as_slice(), &query, &marker_key(), &listing).unwrap();
            seen.extend(page.items.iter().map(|(k, _)| k.clone()));
            match page.next_marker {
                Some(m) => query = query.with_marker(Marker::parse(&m, "nextToken").unwrap()),
                None => break,
            }
        }
        let mut expected: Vec<String> = pairs.into_iter().map(|(k, _)| k).collect();
        expected.sort();
        prop_assert_eq!(seen, expected);
    }
}
