//! Every error maps to its exception: one sample of each variant, with the exception it must
//! answer (a `match` without wildcard, so a new variant does not compile until listed).

use super::exception::*;
use super::*;
use crate::error::{MarkerProblem, ResourceError};
use crate::model::enums::Finding;
use crate::x509::algorithm::{KeyError, SignatureError};
use crate::x509::cert::ValidityError;
use crate::x509::cert::Version;
use crate::x509::csr::CsrError;
use crate::x509::issue::IssueError;
use crate::x509::time::UnixTime;
use crate::x509::tlv::ParseError;

/// One value of every variant, with the exception it must map to. The `match` in
/// `expected` has no wildcard, so a new variant does not compile until it is listed here.
fn samples() -> Vec<Error> {
    let t = UnixTime::from_secs(0);
    let pem = [
        PemError::Empty,
        PemError::TooLong { len: 65_537, max: 65_536 },
        PemError::NoBlock,
        PemError::MultipleBlocks { count: 2 },
        PemError::WrongLabel { label: "PRIVATE KEY".into() },
        PemError::Truncated,
        PemError::Base64,
        PemError::Malformed,
    ];
    let parse = [
        ParseError::Der { field: "tbsCertificate" },
        ParseError::TrailingData { len: 1 },
        ParseError::UnsupportedVersion { value: 7 },
        ParseError::SignatureAlgorithmMismatch,
        ParseError::SignatureUnusedBits { unused: 1 },
        ParseError::Time { field: "notAfter" },
    ];
    let validity = [
        ValidityError::Expired { not_after: t, now: t },
        ValidityError::NotYetValid { not_before: t, now: t },
        ValidityError::Inverted { not_before: t, not_after: t },
    ];
    let sig = SignatureError::Sha1NotAllowed;
    let mut out = Vec::new();
    for p in &pem {
        out.push(Error::CaCertificate(CaError::Pem(p.clone())));
        out.push(Error::VerificationCertificate(VerificationError::Pem(p.clone())));
    }
    for p in &parse {
        out.push(Error::CaCertificate(CaError::Parse(p.clone())));
        out.push(Error::VerificationCertificate(VerificationError::Parse(p.clone())));
    }
    for v in &validity {
        out.push(Error::CaCertificate(CaError::Validity(v.clone())));
        out.push(Error::VerificationCertificate(VerificationError::Validity(v.clone())));
    }
    out.extend([
        Error::CaCertificate(CaError::NotVersion3 { version: Version::V1 }),
        Error::CaCertificate(CaError::DuplicateExtension { oid: "2.5.29.14".into() }),
        Error::CaCertificate(CaError::UnrecognisedCriticalExtension { oid: "1.2.3".into() }),
        Error::CaCertificate(CaError::MalformedExtension { oid: "2.5.29.19".into() }),
        Error::CaCertificate(CaError::BasicConstraintsMissing),
        Error::CaCertificate(CaError::NotCa),
        Error::CaCertificate(CaError::KeyCertSignMissing),
        Error::CaCertificate(CaError::EmptySubject),
        Error::CaCertificate(CaError::Key(KeyError::InvalidPoint)),
        Error::CaCertificate(CaError::SignatureAlgorithm(sig.clone())),
        Error::CaCertificate(CaError::SelfSignature(sig.clone())),
        Error::CaCertificate(CaError::SerialTooLong { len: 21 }),
        Error::CaCertificate(CaError::StrictFinding(Finding::KeyUsageAbsent)),
        Error::VerificationCertificate(VerificationError::IssuerMismatch),
        Error::VerificationCertificate(VerificationError::Signature(sig)),
        Error::RegistrationCode(RegistrationCodeError::Malformed { len: 3 }),
        Error::RegistrationCode(RegistrationCodeError::CommonNameMissing),
        Error::RegistrationCode(RegistrationCodeError::CommonNameMultiple { count: 2 }),
        Error::RegistrationCode(RegistrationCodeError::Mismatch),
        Error::Request(RequestError::Length { member: "registrationConfig.roleArn", len: 3, min: 20, max: 2048 }),
        Error::Request(RequestError::Pattern { member: "templateName", value: "a b".into(), pattern: "^x$" }),
        Error::Request(RequestError::Enum { member: "certificateMode", value: "X".into(), allowed: &["DEFAULT"] }),
        Error::Request(RequestError::VerificationCertificateRequired),
        Error::Request(RequestError::VerificationCertificateForbidden),
        Error::Request(RequestError::TemplateNameWithBody),
        Error::Request(RequestError::BodyAndRoleTogether),
        Error::Request(RequestError::TemplateBody { reason: crate::error::TemplateBodyProblem::NotJson }),
        Error::Request(RequestError::MalformedJson),
        Error::Request(RequestError::DocumentTooLarge { len: 1, max: 0 }),
        Error::Request(RequestError::UnknownMember { member: "foo".into() }),
        Error::Request(RequestError::WrongType { member: "tags".into(), expected: "array" }),
        Error::Request(RequestError::MissingMember { member: "caCertificate" }),
        Error::Request(RequestError::NotUtf8 { valid_up_to: 3 }),
        Error::Tag(TagError::TooMany { count: 51, max: 50 }),
        Error::Tag(TagError::DuplicateKey { index: 2, key: "k".into() }),
        Error::Tag(TagError::KeyLength { index: 1, len: 129, max: 128 }),
        Error::Tag(TagError::KeyPattern { index: 1, key: "*".into() }),
        Error::Tag(TagError::ReservedPrefix { index: 1, key: "aws:x".into() }),
        Error::Tag(TagError::ValueLength { index: 1, len: 257, max: 256 }),
        Error::Tag(TagError::NotKeyValue { index: 1, pair: "k".into() }),
        Error::Registry(RegistryError::AlreadyExists { certificate_id: "id".into(), certificate_arn: "arn".into() }),
        Error::Registry(RegistryError::SubjectLimit { count: 10 }),
        Error::Registry(RegistryError::HeldByAnotherAccount),
        Error::Registry(RegistryError::TemplateNotFound { template_name: "t".into() }),
        Error::Registry(RegistryError::TemplateWrongType {
            template_name: "t".into(),
            found: "JITP",
            needed: "FLEET_PROVISIONING",
        }),
        Error::Registry(RegistryError::TemplateDisabled { template_name: "t".into() }),
        Error::Registry(RegistryError::CaCertificateNotFound { certificate_id: "0".into() }),
        Error::Issue(IssueError::KeyGeneration),
        Error::Issue(IssueError::SignerIsNotIssuer),
        Error::Issue(IssueError::IssuerCertificate),
        Error::Issue(IssueError::Signing),
        Error::Issue(IssueError::Encoding),
        Error::Issue(IssueError::TimeOutOfRange { time: t }),
        Error::Paging(PagingError::PageSize { value: 0, min: 1, max: 250 }),
        Error::Paging(PagingError::PageSize { value: 251, min: 1, max: 250 }),
        Error::Paging(PagingError::Marker { member: "marker", problem: MarkerProblem::Encoding }),
        Error::Paging(PagingError::Marker { member: "marker", problem: MarkerProblem::Version { found: 9 } }),
        Error::Paging(PagingError::Marker { member: "nextToken", problem: MarkerProblem::Seal }),
        Error::Paging(PagingError::Marker { member: "marker", problem: MarkerProblem::Key }),
        Error::Resource(ResourceError::MalformedArn { arn: "x".into() }),
        Error::Resource(ResourceError::UnsupportedResourceType { arn: "a".into(), resource_type: "thing".into() }),
        Error::Resource(ResourceError::MalformedCertificateId { arn: "a".into(), certificate_id: "1".into() }),
        Error::Resource(ResourceError::OutOfScope {
            arn: "a".into(),
            field: "region",
            found: "x".into(),
            expected: "y".into(),
        }),
        Error::Resource(ResourceError::NotFound { arn: "a".into() }),
        Error::Lifecycle(LifecycleError::CaCertificateActive { certificate_id: "0".into() }),
        Error::Lifecycle(LifecycleError::RemoveAutoRegistrationWithConfig),
        Error::Lifecycle(LifecycleError::NoRegistrationCode),
        Error::Lifecycle(LifecycleError::TagLimit { count: 51, max: 50 }),
        Error::TagKeys(TagError::TooMany { count: 51, max: 50 }),
        Error::TagKeys(TagError::DuplicateKey { index: 2, key: "k".into() }),
        Error::TagKeys(TagError::KeyLength { index: 1, len: 129, max: 128 }),
        Error::TagKeys(TagError::KeyPattern { index: 1, key: "*".into() }),
        Error::TagKeys(TagError::ReservedPrefix { index: 1, key: "aws:x".into() }),
        Error::TagKeys(TagError::ValueLength { index: 1, len: 257, max: 256 }),
        Error::TagKeys(TagError::NotKeyValue { index: 1, pair: "k".into() }),
    ]);
    let id = crate::model::certificate_id::CertificateId::of_der(b"");
    let status = crate::model::enums::CertificateStatus::PendingActivation;
    for p in &pem {
        out.push(Error::Certificate(CertificateError::Pem(p.clone())));
        out.push(Error::Certificate(CertificateError::CaPem(p.clone())));
        out.push(Error::Certificate(CertificateError::ChainPem { index: 1, error: p.clone() }));
    }
    for p in &parse {
        out.push(Error::Certificate(CertificateError::Parse(p.clone())));
        out.push(Error::Certificate(CertificateError::CaParse(p.clone())));
        out.push(Error::Certificate(CertificateError::ChainParse { index: 0, error: p.clone() }));
    }
    for v in &validity {
        out.push(Error::Certificate(CertificateError::Validity(v.clone())));
    }
    out.extend([
        Error::Certificate(CertificateError::StatusNotSettable { member: "status", status }),
        Error::Certificate(CertificateError::Version { version: Version::V2 }),
        Error::Certificate(CertificateError::Key(KeyError::InvalidPoint)),
        Error::Certificate(CertificateError::SignatureAlgorithm(SignatureError::Sha1NotAllowed)),
        Error::Certificate(CertificateError::CaNotRegistered { ca_certificate_id: id.clone() }),
        Error::Certificate(CertificateError::NoCaForIssuer),
        Error::Certificate(CertificateError::CaConflict { count: 2 }),
        Error::Certificate(CertificateError::IssuerMismatch),
        Error::Certificate(CertificateError::Signature(SignatureError::MalformedSignature)),
        Error::Certificate(CertificateError::CaNotActive {
            ca_certificate_id: id.clone(),
            status: crate::model::enums::CaStatus::Inactive,
        }),
        Error::Certificate(CertificateError::NotFound { certificate_id: id }),
        Error::Certificate(CertificateError::StatusFinal { status, new_status: status }),
        Error::Certificate(CertificateError::DeleteActive),
        Error::Certificate(CertificateError::Attached),
        Error::Certificate(CertificateError::ChainTooLong { count: 9, max: 8 }),
    ]);
    let name = || "t1".to_owned();
    let arn = || "arn:aws:iot:us-east-1:123456789012:thing/t1".to_owned();
    out.extend(
        [
            ThingError::TooManyAttributes { count: 51, max: 50 },
            ThingError::ThingNotFound { thing_name: name() },
            ThingError::ThingExists { thing_name: name(), thing_arn: arn() },
            ThingError::VersionConflict { thing_name: name(), expected: 1, actual: 2 },
            ThingError::PrincipalsAttached { thing_name: name(), count: 1 },
            ThingError::TypeAndRemoveType,
            ThingError::ThingTypeNotFound { thing_type_name: name() },
            ThingError::ThingTypeExists { thing_type_name: name(), thing_type_arn: arn() },
            ThingError::ThingGroupNotFound { thing_group_name: name() },
            ThingError::ThingGroupExists { thing_group_name: name(), thing_group_arn: arn() },
            ThingError::BillingGroupNotFound { billing_group_name: name() },
            ThingError::NameOrArn { member: "thing" },
            ThingError::PolicyNotFound { policy_name: name() },
            ThingError::PolicyExists { policy_name: name(), policy_arn: arn() },
            ThingError::PolicyAttached { policy_name: name(), targets: 1 },
            ThingError::PolicyLimit { target: arn(), max: 10 },
            ThingError::MalformedPolicy { problem: PolicyDocumentProblem::NotJson },
        ]
        .map(Error::Thing),
    );
    out.extend(
        [
            TemplateProblem::TooLong { max: 10 },
            TemplateProblem::NotJson,
            TemplateProblem::WrongType { expected: "string" },
            TemplateProblem::UnknownKey,
            TemplateProblem::Missing,
            TemplateProblem::TooDeep { max: 16 },
            TemplateProblem::UnknownFunction,
            TemplateProblem::FunctionArguments,
            TemplateProblem::ParameterType,
            TemplateProblem::Nested,
            TemplateProblem::Duplicate,
            TemplateProblem::Unsupported,
            TemplateProblem::CertificateForm,
            TemplateProblem::CertificateIdOnly,
            TemplateProblem::TooManyPolicies { max: 10 },
            TemplateProblem::PolicyForm,
            TemplateProblem::UnknownResourceType { found: "x".into() },
            TemplateProblem::OverrideValue { value: "x".into() },
            TemplateProblem::UndeclaredParameter { name: "p".into() },
            TemplateProblem::MissingParameter { name: "p".into() },
            TemplateProblem::TooMany { max: 256 },
            TemplateProblem::IndexOutOfRange { index: 3, len: 2 },
            TemplateProblem::NotInMappings { keys: "a.b.c".into() },
            TemplateProblem::Value { reason: "bad".into() },
            TemplateProblem::Conflict { resource: "thing t1".into() },
        ]
        .map(|problem| Error::Template(TemplateError::at("Resources.thing", problem))),
    );
    let name = || "fleet".to_owned();
    out.extend(
        [
            ProvisioningError::TemplateExists { template_name: name(), template_arn: arn() },
            ProvisioningError::HookOnJitp,
            ProvisioningError::HookAndRemoveHook,
            ProvisioningError::VersionNotFound { template_name: name(), version: 2 },
            ProvisioningError::VersionsLimit { template_name: name(), max: 5 },
            ProvisioningError::DefaultVersion { template_name: name(), version: 1 },
            ProvisioningError::TemplateInUse { template_name: name(), cas: 1 },
            ProvisioningError::OwnershipToken { problem: crate::provisioning::fleet::TokenProblem::Empty },
            ProvisioningError::HookRefused { target_arn: arn(), reason: "no".into() },
            ProvisioningError::ClaimExpired { expired_at: crate::UnixTime::from_secs(0) },
            ProvisioningError::ClaimTemplate { claim_template: "a".into(), template_name: "b".into() },
        ]
        .map(Error::Provisioning),
    );
    for p in &pem {
        out.push(Error::Csr(CsrError::Pem(p.clone())));
    }
    out.extend([
        Error::Csr(CsrError::Der { field: "attributes" }),
        Error::Csr(CsrError::TrailingData { len: 1 }),
        Error::Csr(CsrError::Version { value: 1 }),
        Error::Csr(CsrError::DuplicateAttribute { attribute: const_oid::db::rfc5912::ID_EXTENSION_REQ }),
        Error::Csr(CsrError::SignatureUnusedBits { unused: 1 }),
        Error::Csr(CsrError::Key(KeyError::RsaModulusSize { bits: 1024 })),
        Error::Csr(CsrError::Signature(SignatureError::Sha1NotAllowed)),
    ]);
    out
}

/// A tag error is the same exception in `tags` and in `tagKeys`.
fn expected_for_tag(e: &TagError) -> ExceptionKind {
    match e {
        TagError::TooMany { .. }
        | TagError::DuplicateKey { .. }
        | TagError::KeyLength { .. }
        | TagError::KeyPattern { .. }
        | TagError::ReservedPrefix { .. }
        | TagError::ValueLength { .. }
        | TagError::NotKeyValue { .. } => ExceptionKind::InvalidRequest,
    }
}

fn expected(e: &Error) -> ExceptionKind {
    use ExceptionKind as K;
    match e {
        Error::CaCertificate(CaError::Pem(PemError::Empty | PemError::TooLong { .. }))
        | Error::VerificationCertificate(VerificationError::Pem(PemError::Empty | PemError::TooLong { .. })) => {
            K::InvalidRequest
        }
        Error::CaCertificate(
            CaError::Pem(_)
            | CaError::Parse(_)
            | CaError::NotVersion3 { .. }
            | CaError::DuplicateExtension { .. }
            | CaError::UnrecognisedCriticalExtension { .. }
            | CaError::MalformedExtension { .. }
            | CaError::BasicConstraintsMissing
            | CaError::NotCa
            | CaError::KeyCertSignMissing
            | CaError::Validity(_)
            | CaError::EmptySubject
            | CaError::Key(_)
            | CaError::SignatureAlgorithm(_)
            | CaError::SelfSignature(_)
            | CaError::SerialTooLong { .. }
            | CaError::StrictFinding(_),
        ) => K::CertificateValidation,
        Error::VerificationCertificate(
            VerificationError::Pem(_)
            | VerificationError::Parse(_)
            | VerificationError::IssuerMismatch
            | VerificationError::Signature(_)
            | VerificationError::Validity(_),
        ) => K::CertificateValidation,
        Error::RegistrationCode(RegistrationCodeError::Malformed { .. }) => K::InvalidRequest,
        Error::RegistrationCode(
            RegistrationCodeError::CommonNameMissing
            | RegistrationCodeError::CommonNameMultiple { .. }
            | RegistrationCodeError::Mismatch,
        ) => K::RegistrationCodeValidation,
        Error::Request(
            RequestError::Length { .. }
            | RequestError::Pattern { .. }
            | RequestError::Enum { .. }
            | RequestError::VerificationCertificateRequired
            | RequestError::VerificationCertificateForbidden
            | RequestError::TemplateNameWithBody
            | RequestError::BodyAndRoleTogether
            | RequestError::TemplateBody { .. }
            | RequestError::MalformedJson
            | RequestError::DocumentTooLarge { .. }
            | RequestError::UnknownMember { .. }
            | RequestError::WrongType { .. }
            | RequestError::MissingMember { .. }
            | RequestError::NotUtf8 { .. },
        ) => K::InvalidRequest,
        Error::Tag(e) | Error::TagKeys(e) => expected_for_tag(e),
        Error::Registry(RegistryError::AlreadyExists { .. }) => K::ResourceAlreadyExists,
        Error::Registry(RegistryError::SubjectLimit { .. }) => K::LimitExceeded,
        Error::Registry(RegistryError::TemplateNotFound { .. } | RegistryError::CaCertificateNotFound { .. }) => {
            K::ResourceNotFound
        }
        Error::Registry(
            RegistryError::HeldByAnotherAccount
            | RegistryError::TemplateWrongType { .. }
            | RegistryError::TemplateDisabled { .. },
        ) => K::InvalidRequest,
        Error::Issue(
            IssueError::KeyGeneration
            | IssueError::SignerIsNotIssuer
            | IssueError::IssuerCertificate
            | IssueError::Signing
            | IssueError::Encoding
            | IssueError::TimeOutOfRange { .. },
        ) => K::InternalFailure,
        Error::Certificate(
            CertificateError::Pem(PemError::Empty | PemError::TooLong { .. })
            | CertificateError::CaPem(PemError::Empty | PemError::TooLong { .. })
            | CertificateError::StatusNotSettable { .. },
        ) => K::InvalidRequest,
        Error::Certificate(
            CertificateError::Pem(_)
            | CertificateError::CaPem(_)
            | CertificateError::Parse(_)
            | CertificateError::CaParse(_)
            | CertificateError::Version { .. }
            | CertificateError::Key(_)
            | CertificateError::SignatureAlgorithm(_)
            | CertificateError::Validity(_)
            | CertificateError::CaNotRegistered { .. }
            | CertificateError::NoCaForIssuer
            | CertificateError::IssuerMismatch
            | CertificateError::Signature(_)
            | CertificateError::ChainPem { .. }
            | CertificateError::ChainParse { .. }
            | CertificateError::ChainTooLong { .. },
        ) => K::CertificateValidation,
        Error::Certificate(CertificateError::CaConflict { .. }) => K::CertificateConflict,
        Error::Certificate(
            CertificateError::CaNotActive { .. }
            | CertificateError::StatusFinal { .. }
            | CertificateError::DeleteActive,
        ) => K::CertificateState,
        Error::Certificate(CertificateError::NotFound { .. }) => K::ResourceNotFound,
        Error::Certificate(CertificateError::Attached) => K::DeleteConflict,
        Error::Paging(
            PagingError::PageSize { .. }
            | PagingError::Marker {
                problem:
                    MarkerProblem::Encoding | MarkerProblem::Version { .. } | MarkerProblem::Seal | MarkerProblem::Key,
                ..
            },
        ) => K::InvalidRequest,
        Error::Resource(
            ResourceError::MalformedArn { .. }
            | ResourceError::UnsupportedResourceType { .. }
            | ResourceError::MalformedCertificateId { .. }
            | ResourceError::OutOfScope { .. }
            | ResourceError::NotFound { .. },
        ) => K::ResourceNotFound,
        Error::Lifecycle(LifecycleError::CaCertificateActive { .. }) => K::CertificateState,
        Error::Lifecycle(LifecycleError::RemoveAutoRegistrationWithConfig) => K::InvalidRequest,
        Error::Lifecycle(LifecycleError::NoRegistrationCode) => K::ResourceNotFound,
        Error::Lifecycle(LifecycleError::TagLimit { .. }) => K::LimitExceeded,
        Error::Thing(
            ThingError::TooManyAttributes { .. }
            | ThingError::PrincipalsAttached { .. }
            | ThingError::TypeAndRemoveType
            | ThingError::NameOrArn { .. },
        ) => K::InvalidRequest,
        Error::Thing(
            ThingError::ThingNotFound { .. }
            | ThingError::ThingTypeNotFound { .. }
            | ThingError::ThingGroupNotFound { .. }
            | ThingError::BillingGroupNotFound { .. }
            | ThingError::PolicyNotFound { .. },
        ) => K::ResourceNotFound,
        Error::Thing(
            ThingError::ThingExists { .. }
            | ThingError::ThingTypeExists { .. }
            | ThingError::ThingGroupExists { .. }
            | ThingError::PolicyExists { .. },
        ) => K::ResourceAlreadyExists,
        Error::Thing(ThingError::VersionConflict { .. }) => K::VersionConflict,
        Error::Thing(ThingError::PolicyAttached { .. }) => K::DeleteConflict,
        Error::Thing(ThingError::PolicyLimit { .. }) => K::LimitExceeded,
        Error::Thing(ThingError::MalformedPolicy { .. }) => K::MalformedPolicy,
        Error::Template(TemplateError { problem: TemplateProblem::Conflict { .. }, .. }) => {
            K::ResourceRegistrationFailure
        }
        Error::Provisioning(ProvisioningError::TemplateExists { .. }) => K::ResourceAlreadyExists,
        Error::Provisioning(ProvisioningError::HookOnJitp | ProvisioningError::HookAndRemoveHook) => K::InvalidRequest,
        Error::Provisioning(ProvisioningError::VersionNotFound { .. }) => K::ResourceNotFound,
        Error::Provisioning(ProvisioningError::VersionsLimit { .. }) => K::VersionsLimitExceeded,
        Error::Provisioning(ProvisioningError::DefaultVersion { .. } | ProvisioningError::TemplateInUse { .. }) => {
            K::DeleteConflict
        }
        Error::Provisioning(ProvisioningError::OwnershipToken { .. }) => K::InvalidRequest,
        Error::Provisioning(
            ProvisioningError::HookRefused { .. }
            | ProvisioningError::ClaimExpired { .. }
            | ProvisioningError::ClaimTemplate { .. },
        ) => K::Unauthorized,
        Error::Template(TemplateError {
            problem:
                TemplateProblem::TooLong { .. }
                | TemplateProblem::NotJson
                | TemplateProblem::WrongType { .. }
                | TemplateProblem::UnknownKey
                | TemplateProblem::Missing
                | TemplateProblem::TooDeep { .. }
                | TemplateProblem::UnknownFunction
                | TemplateProblem::FunctionArguments
                | TemplateProblem::ParameterType
                | TemplateProblem::Nested
                | TemplateProblem::Duplicate
                | TemplateProblem::Unsupported
                | TemplateProblem::CertificateForm
                | TemplateProblem::CertificateIdOnly
                | TemplateProblem::TooManyPolicies { .. }
                | TemplateProblem::PolicyForm
                | TemplateProblem::UnknownResourceType { .. }
                | TemplateProblem::OverrideValue { .. }
                | TemplateProblem::UndeclaredParameter { .. }
                | TemplateProblem::MissingParameter { .. }
                | TemplateProblem::TooMany { .. }
                | TemplateProblem::IndexOutOfRange { .. }
                | TemplateProblem::NotInMappings { .. }
                | TemplateProblem::Value { .. },
            ..
        }) => K::InvalidRequest,
        Error::Csr(
            CsrError::Pem(_)
            | CsrError::Der { .. }
            | CsrError::TrailingData { .. }
            | CsrError::Version { .. }
            | CsrError::DuplicateAttribute { .. }
            | CsrError::SignatureUnusedBits { .. }
            | CsrError::Key(_)
            | CsrError::Signature(_),
        ) => K::InvalidRequest,
    }
}

#[test]
fn every_variant_maps_to_its_exception_and_status() {
    for e in samples() {
        let ex = e.exception();
        assert_eq!(ex.kind, expected(&e), "{e:?}");
        assert_eq!(ex.http_status(), expected(&e).http_status());
        assert!(!ex.message.is_empty(), "{e:?}");
        let names_resource = ex.kind == ExceptionKind::ResourceAlreadyExists;
        assert_eq!(ex.resource_id.is_some() && ex.resource_arn.is_some(), names_resource, "{e:?}");
        assert!(!e.to_string().contains(" { "), "Display must not be Debug: {e}");
    }
}

#[test]
fn names_and_statuses_are_the_exception_table() {
    let table: Vec<(&str, u16)> = ExceptionKind::ALL.iter().map(|k| (k.name(), k.http_status())).collect();
    assert_eq!(
        table,
        [
            ("InvalidRequestException", 400),
            ("CertificateValidationException", 400),
            ("RegistrationCodeValidationException", 400),
            ("ThrottlingException", 400),
            ("UnauthorizedException", 401),
            ("ResourceNotFoundException", 404),
            ("CertificateStateException", 406),
            ("ResourceAlreadyExistsException", 409),
            ("CertificateConflictException", 409),
            ("VersionConflictException", 409),
            ("ResourceRegistrationFailureException", 400),
            ("MalformedPolicyException", 400),
            ("VersionsLimitExceededException", 409),
            ("DeleteConflictException", 409),
            ("LimitExceededException", 410),
            ("InternalFailureException", 500),
            ("ServiceUnavailableException", 503),
        ]
    );
}

#[test]
fn registry_messages_are_spec_1_6() {
    let e = Error::Registry(RegistryError::SubjectLimit { count: 10 });
    assert_eq!(e.exception().message, "Limit reached for number of CA Certificates with same subject");
    let e = Error::Registry(RegistryError::HeldByAnotherAccount);
    assert_eq!(e.exception().message, "Cannot accept this CACertificate");
    let e = Error::Tag(TagError::KeyLength { index: 1, len: 129, max: 128 });
    assert_eq!(
        e.exception().message,
        "1 validation error detected: Value at 'tags.1.member.key' failed to satisfy constraint: \
         Member must have length less than or equal to 128"
    );
}

#[test]
fn length_violations_read_like_aws() {
    let e = Error::CaCertificate(CaError::Pem(PemError::TooLong { len: 65_537, max: 65_536 }));
    assert_eq!(
        e.exception().message,
        "1 validation error detected: Value at 'caCertificate' failed to satisfy constraint: \
         Member must have length less than or equal to 65536"
    );
    let e = Error::Csr(CsrError::Pem(PemError::TooLong { len: 4_097, max: 4_096 }));
    assert_eq!(
        e.exception().message,
        "1 validation error detected: Value at 'certificateSigningRequest' failed to satisfy constraint: \
         Member must have length less than or equal to 4096"
    );
    let e = Error::Csr(CsrError::Pem(PemError::Empty));
    assert_eq!(
        e.exception().message,
        "1 validation error detected: Value at 'certificateSigningRequest' failed to satisfy constraint: \
         Member must have length greater than or equal to 1"
    );
}

#[test]
fn csr_messages_name_the_request_and_its_label() {
    let e = Error::Csr(CsrError::Pem(PemError::WrongLabel { label: "CERTIFICATE".into() }));
    assert_eq!(
        e.exception().message,
        "certificate signing request: the PEM block is labelled CERTIFICATE, not CERTIFICATE REQUEST"
    );
    let e = Error::Csr(CsrError::Pem(PemError::NoBlock));
    assert_eq!(
        e.exception().message,
        "certificate signing request: no PEM block found: expected one -----BEGIN CERTIFICATE REQUEST----- block"
    );
    let e = Error::Csr(CsrError::Key(KeyError::RsaModulusSize { bits: 1024 }));
    assert_eq!(
        e.exception().message,
        "certificate signing request: the RSA modulus has 1024 bits, outside 2048..=8192"
    );
}

/// Fleet provisioning's rejected payloads: AWS's code for an ownership token, ours for a hook,
/// the exception's status and name otherwise.
#[test]
fn rejections_are_the_exception_or_awss_codes() {
    use crate::provisioning::fleet::TokenProblem;
    let token = Error::Provisioning(ProvisioningError::OwnershipToken { problem: TokenProblem::Empty }).rejection();
    assert_eq!((token.status_code, token.error_code), (400, "InvalidCertificateOwnershipToken"));
    assert_eq!(token.error_message, "Certificate ownership token cannot be empty.");
    let hook = Error::Provisioning(ProvisioningError::HookRefused { target_arn: "arn".into(), reason: "no".into() });
    assert_eq!((hook.rejection().status_code, hook.rejection().error_code), (403, "AccessDenied"));
    let missing = Error::Template(TemplateError::at(
        "Resources.thing.Properties.ThingName.Ref",
        TemplateProblem::MissingParameter { name: "SerialNumber".into() },
    ));
    let r = missing.rejection();
    assert_eq!((r.status_code, r.error_code), (400, "InvalidRequestException"));
    assert!(
        r.error_message.contains("SerialNumber") && r.error_message.contains("Resources.thing"),
        "{}",
        r.error_message
    );
}
