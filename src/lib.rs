//! The decision core of an AWS IoT Core–compatible control plane: what AWS IoT decides for
//! RegisterCACertificate, without the I/O.
//!
//! # The Sans-IO contract
//!
//! This crate reads no file, socket, clock or global RNG. Every call that needs the time takes
//! a [`UnixTime`] `now`; every call that needs randomness takes the caller's RNG; what the
//! account already holds is data the caller passes in. Nothing panics on any input: every
//! failure is an [`Error`], and [`Error::exception`] maps it, in one place, to the AWS
//! exception name, HTTP status and message.
//!
//! # Example
//!
//! ```
//! use iot_ca::{CaCertificateParams, Policy, UnixTime, VerifiedCa, create_ca_certificate};
//! use p256::elliptic_curve::Generate;
//!
//! // Time and randomness are the caller's: here a fixed time and a seeded RNG.
//! # let mut rng = <chacha20::ChaCha20Rng as rand_core::SeedableRng>::seed_from_u64(7);
//! let key = p256::ecdsa::SigningKey::generate_from_rng(&mut rng);
//! // 2025-01-01T00:00:00Z, valid for ten years.
//! let made = UnixTime::from_secs(1_735_689_600);
//! let params = CaCertificateParams::new("CN=Example Root,O=Example", UnixTime::from_secs(2_051_222_400));
//! let ca_der = create_ca_certificate::<_, p256::ecdsa::DerSignature, _>(&params, &key, &mut rng, made)?;
//! # let ca_pem = pem_rfc7468::encode_string("CERTIFICATE", pem_rfc7468::LineEnding::LF, &ca_der).unwrap();
//!
//! // 2026-01-01T00:00:00Z, from the caller's clock.
//! let now = UnixTime::from_secs(1_767_225_600);
//! let ca = VerifiedCa::from_pem(&ca_pem, now, Policy::default())?;
//! assert_eq!(ca.certificate_id().as_str().len(), 64);
//! assert!(ca.findings().is_empty());
//!
//! // A broken certificate is a typed error that maps to AWS's answer.
//! let err = VerifiedCa::from_pem("not a pem", now, Policy::default()).unwrap_err();
//! assert_eq!(err.exception().name(), "CertificateValidationException");
//! assert_eq!(err.exception().http_status(), 400);
//! # Ok::<(), iot_ca::Error>(())
//! ```
//!
//! Rule ids in these docs (`1.3.6`, `6.4`, …) are those of the [`rules`] tables.
//!
//! # What is here
//!
//! * **RegisterCACertificate** in two pure phases: [`check`] (request members, the CA rules
//!   through [`VerifiedCa`], the proof of possession) returns a [`CheckedRegistration`] that
//!   says what to look up; [`admit`] weighs the [`AccountFacts`] and returns the
//!   [`Registration`] with the [`CaCertificateDescription`] to store.
//! * **Device certificates** under a registered CA: [`check_certificate`] (or
//!   [`check_certificate_without_ca`]) then [`admit_certificate`] against the
//!   [`CertificateFacts`] ([`RegisteredCa`]s, holdings) for RegisterCertificate and
//!   RegisterCertificateWithoutCA; [`describe_certificate`], [`update_certificate`],
//!   [`delete_certificate`].
//! * **A device connects**: [`Connection`] (what it presented) and [`decide_connect`] against the
//!   [`ConnectFacts`] → a [`ConnectDecision`]: connect, refuse, just-in-time registration (the
//!   record and the [`RegisteredEvent`]) or just-in-time provisioning (the record and the
//!   [`TemplateParameters`]).
//! * **Certification requests** (CreateCertificateFromCsr): [`ParsedCsr`] reads one PKCS#10
//!   request strictly, [`ParsedCsr::verify`] holds its key to the key policy and checks its
//!   self-signature, and returns a [`VerifiedCsr`].
//! * **GetRegistrationCode**: [`RegistrationCode::generate`] and [`RegistrationCode::parse`].
//! * **CreateProvisioningClaim**: [`create_provisioning_claim`], signing through RustCrypto's
//!   signer traits; [`create_verification_certificate`] makes the proof the AWS guide makes.
//! * **The rest of a CA's life**: [`describe_ca_certificate`], [`update_ca_certificate`],
//!   [`delete_ca_certificate`], [`list_ca_certificates`] (keyset paging with sealed markers:
//!   [`ListQuery`], [`MarkerKey`], [`page_slice`]), [`delete_registration_code`], and
//!   [`tag_resource`], [`untag_resource`], [`list_tags_for_resource`] on [`ResourceArn`]s.
//! * **Errors**: [`Error`] and its per-area enums; [`Error::exception`] is the one mapping to
//!   AWS. [`wire`] (feature `wire`, on by default) has AWS's JSON shapes.
//! * **Backends**: [`Backend`] — aws-lc-rs by default (feature `aws-lc-rs`); RustCrypto always,
//!   and alone in a `default-features = false` build.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod ca;
mod device;
mod error;
mod model;
mod provisioning;
mod thing;
#[cfg(feature = "wire")]
pub mod wire;
mod x509;

pub use ca::lifecycle::{
    CaCertificateUpdate, ListTagsForResourceRequest, TagResourceRequest, UntagResourceRequest,
    UpdateCaCertificateRequest, ca_certificates_listing, delete_ca_certificate, delete_registration_code,
    describe_ca_certificate, list_ca_certificates, list_tags_for_resource, tag_resource, tags_listing, untag_resource,
    update_ca_certificate,
};
pub use ca::register::{AccountFacts, CheckedRegistration, MAX_CAS_PER_SUBJECT, Registration, admit, check};
pub use ca::request::RegisterCaCertificateRequest;
pub use ca::verification::{
    VerificationCertificateParams, check_registration_code, create_verification_certificate, verify_possession,
};
pub use ca::verified::{MAX_SERIAL_OCTETS, VerifiedCa};
pub use device::certificate::CertificateDescription;
pub use device::connect::{
    CertificateRecord, ConnectDecision, ConnectFacts, Connection, MAX_CHAIN_CERTIFICATES,
    REGISTERED_EVENT_TOPIC_PREFIX, RefuseReason, RegisteredEvent, decide_connect,
};
pub use device::issued::{
    ISSUED_BACKDATE_SECS, ISSUED_NOT_AFTER, IssueParams, IssuedCertificate, KEYS_AND_CERTIFICATE_SUBJECT,
    create_certificate_from_csr, create_keys_and_certificate,
};
pub use device::jitp::{CERTIFICATE_ID_PARAMETER, TemplateParameters};
pub use device::lifecycle::{
    CertificateUpdate, DeleteCertificateRequest, UpdateCertificateRequest, certificates_listing, delete_certificate,
    describe_certificate, list_certificates, update_certificate,
};
pub use device::register::{
    CertificateFacts, CertificateRegistration, CheckedCertificate, RegisterCertificateRequest,
    RegisterCertificateWithoutCaRequest, admit_certificate, check_certificate, check_certificate_without_ca,
};
pub use device::registered_ca::RegisteredCa;
pub use error::exception::{Exception, ExceptionKind, Rejection};
pub use error::{
    CaError, CertificateError, Error, LifecycleError, MarkerProblem, PagingError, ProvisioningError,
    RegistrationCodeError, RegistryError, RequestError, ResourceError, TagError, TemplateBodyProblem, TemplateError,
    TemplateProblem, ThingError, VerificationError,
};
pub use model::arn::{ResourceArn, ResourceType};
pub use model::attributes::{
    ATTRIBUTE_NAME_PATTERN, ATTRIBUTE_VALUE_PATTERN, AttributePayload, Attributes, MAX_ATTRIBUTE_NAME_CHARS,
    MAX_ATTRIBUTE_VALUE_CHARS, MAX_ATTRIBUTES,
};
pub use model::certificate_id::{CERTIFICATE_ID_LEN, CERTIFICATE_ID_PATTERN, CertificateId};
pub use model::description::{CaCertificateDescription, CertificateValidity};
pub use model::enums::CertificateMode;
pub use model::enums::CertificateStatus;
pub use model::enums::Finding;
pub use model::enums::TemplateType;
pub use model::enums::{AutoRegistrationStatus, CaStatus};
pub use model::names::{
    BillingGroupName, MAX_NAME_CHARS, POLICY_NAME_PATTERN, PolicyName, THING_NAME_PATTERN, ThingGroupName, ThingName,
    ThingTypeName,
};
pub use model::paging::{
    CreationKey, DEFAULT_PAGE_SIZE, Keyed, ListQuery, Listing, MARKER_PATTERN, MAX_MARKER_CHARS, MAX_PAGE_SIZE,
    MIN_PAGE_SIZE, Marker, MarkerKey, Page, PageKey, PageSize, SortOrder, page_slice,
};
pub use model::policy::Policy;
pub use model::policy_document::{
    MAX_POLICY_CHARS_WITHOUT_WHITESPACE, MAX_POLICY_DOCUMENT_CHARS, PolicyDocument, PolicyDocumentProblem,
};
pub use model::registration_code::{REGISTRATION_CODE_LEN, RegistrationCode};
pub use model::registration_config::{
    MAX_ROLE_ARN_CHARS, MAX_TEMPLATE_BODY_CHARS, MIN_ROLE_ARN_CHARS, ROLE_ARN_PATTERN, RegistrationConfig, RoleArn,
    TemplateBody,
};
pub use model::scope::{AccountId, AccountScope, Partition, Region};
pub use model::tags::{MAX_TAG_KEY_CHARS, MAX_TAG_VALUE_CHARS, MAX_TAGS, TAG_KEY_PATTERN, TagKeys, Tags};
pub use model::template::{MAX_TEMPLATE_NAME_CHARS, TEMPLATE_NAME_PATTERN, TemplateFacts, TemplateName};
pub use provisioning::claim::{
    CLAIM_BACKDATE_SECS, CLAIM_LIFETIME_SECS, ClaimParams, ProvisioningClaim, check_claim_template,
    create_provisioning_claim,
};
pub use provisioning::fleet::{
    ClaimRecord, MAX_OWNERSHIP_TOKEN_CHARS, OWNERSHIP_TOKEN_LIFETIME_SECS, TokenProblem, bind_fleet_template,
    check_fleet_caller, open_ownership_token, ownership_token_expiry, seal_ownership_token, sweeps,
};
pub use provisioning::plan::{Plan, PlanFacts, PlanWrite, plan};
pub use provisioning::template::{
    BoundCertificate, BoundCertificateSource, BoundPolicy, BoundTemplate, BoundThing, MAX_BUILT_CHARS, MAX_LIST_ITEMS,
    MAX_TEMPLATE_DEPTH, MAX_TEMPLATE_POLICIES, Override, ProvisioningTemplate, ThingOverrides,
};
pub use provisioning::templates::{
    CreateTemplateRequest, HOOK_PAYLOAD_VERSION, MAX_HOOK_TARGET_CHARS, MAX_TEMPLATE_DESCRIPTION_CHARS,
    MAX_TEMPLATE_VERSIONS, ProvisioningHook, TemplateDescription, TemplateVersion, UpdateTemplateRequest,
    check_description, create_template, create_template_version, delete_template, delete_template_version,
    describe_template, describe_template_version, template_versions_listing, templates_listing, update_template,
};
pub use rand_core;
pub use thing::groups::{
    AddThingToThingGroupRequest, CreateThingGroupRequest, CreateThingTypeRequest, MAX_GROUP_DEPTH, ThingGroupCreation,
    ThingGroupDescription, ThingTypeDescription, add_thing_to_thing_group, create_thing_group, create_thing_type,
    describe_thing_group, describe_thing_type,
};
pub use thing::policies::{
    AttachPolicyFacts, CreatePolicyRequest, MAX_POLICIES_PER_TARGET, POLICY_VERSION_ID, PolicyDescription,
    attach_policy, attach_thing_principal, attached_policies_listing, create_policy, delete_policy,
    detach_thing_principal, get_policy, policies_listing, policy_targets_listing, principal_things_listing,
    thing_principals_listing,
};
pub use thing::things::{
    CreateThingRequest, DeleteThingRequest, ThingCreation, ThingDescription, ThingFacts, UpdateThingRequest,
    create_thing, delete_thing, describe_thing, things_listing, update_thing,
};
pub use x509::algorithm::{HashAlgorithm, KeyError, KeyKind, SignatureAlgorithm, SignatureError};
pub use x509::backend::Backend;
pub use x509::cert::{CertificateInputError, ValidityError};
pub use x509::cert::{ParsedCertificate, Version};
pub use x509::csr::{CsrError, ParsedCsr, VerifiedCsr};
pub use x509::issue::IssueError;
pub use x509::issue::{CertificateSigner, KeyAlgorithm, KeyPair};
pub use x509::key::{PublicKey, RSA_MAX_BITS, RSA_MIN_BITS, verify_signed_data};
pub use x509::pem::PemError;
pub use x509::pem::{MAX_CSR_PEM_CHARS, MAX_PEM_CHARS};
pub use x509::self_signed::{CaCertificateParams, create_ca_certificate};
pub use x509::time::UnixTime;
pub use x509::tlv::ParseError;

/// The rules the crate decides by, with the ids that errors, findings and these docs cite
/// (`1.2`, `1.3.6`, `6.4`, `7.1.3`, …), what breaks each and the AWS exception it is answered with.
#[doc = include_str!("../RULES.md")]
pub mod rules {}

/// The README's code blocks are compiled as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
