//! The one place where errors become AWS exceptions (rule 4).

use core::fmt;

use crate::error::{
    CaError, CertificateError, Error, LifecycleError, PagingError, RegistrationCodeError, RegistryError, RequestError,
    TagError, VerificationError,
};
use crate::x509::pem::{MAX_PEM_CHARS, PemError};

/// Declares [`ExceptionKind`] once: each kind with its wire name, HTTP status and doc line,
/// from which `ALL`, `name` and `http_status` are derived.
macro_rules! exception_kinds {
    ($($(#[doc = $doc:literal])* $kind:ident = ($name:literal, $status:literal),)*) => {
        /// The AWS IoT exceptions this crate and its transports answer with.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum ExceptionKind {
            $($(#[doc = $doc])* #[doc = concat!("`", $name, "`, HTTP ", stringify!($status), ".")] $kind,)*
        }

        impl ExceptionKind {
            /// Every kind, in the order of the exception table.
            pub const ALL: &'static [Self] = &[$(Self::$kind),*];

            /// The exception name as AWS sends it (`x-amzn-ErrorType`, botocore's `Error.Code`).
            #[must_use]
            pub const fn name(self) -> &'static str {
                match self {
                    $(Self::$kind => $name,)*
                }
            }

            /// The HTTP status AWS answers with.
            #[must_use]
            pub const fn http_status(self) -> u16 {
                match self {
                    $(Self::$kind => $status,)*
                }
            }
        }
    };
}

exception_kinds! {
    /// A request member outside its constraints.
    InvalidRequest = ("InvalidRequestException", 400),
    /// A certificate that is not well-formed or breaks a rule.
    CertificateValidation = ("CertificateValidationException", 400),
    /// The proof of possession does not carry the registration code.
    RegistrationCodeValidation = ("RegistrationCodeValidationException", 400),
    /// Raised by transports, never by this crate.
    Throttling = ("ThrottlingException", 400),
    /// Raised by transports, never by this crate.
    Unauthorized = ("UnauthorizedException", 401),
    /// The named resource does not exist in the caller's account and region.
    ResourceNotFound = ("ResourceNotFoundException", 404),
    /// The certificate's status does not allow the operation.
    CertificateState = ("CertificateStateException", 406),
    /// The resource exists already; carries resourceId and resourceArn.
    ResourceAlreadyExists = ("ResourceAlreadyExistsException", 409),
    /// More than one registered CA could have signed the certificate.
    CertificateConflict = ("CertificateConflictException", 409),
    /// The resource still has things attached.
    DeleteConflict = ("DeleteConflictException", 409),
    /// An account limit is reached.
    LimitExceeded = ("LimitExceededException", 410),
    /// The service's own fault.
    InternalFailure = ("InternalFailureException", 500),
    /// Raised by transports, never by this crate.
    ServiceUnavailable = ("ServiceUnavailableException", 503),
}

impl fmt::Display for ExceptionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a transport sends for an [`Error`]: the exception, its message, and for
/// ResourceAlreadyExistsException the resource it names.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Exception {
    /// Which exception.
    pub kind: ExceptionKind,
    /// The message, as AWS words it where AWS's wording is known.
    pub message: String,
    /// resourceId (ResourceAlreadyExistsException only).
    pub resource_id: Option<String>,
    /// resourceArn (ResourceAlreadyExistsException only).
    pub resource_arn: Option<String>,
}

impl Exception {
    fn new(kind: ExceptionKind, message: impl Into<String>) -> Self {
        Self { kind, message: message.into(), resource_id: None, resource_arn: None }
    }

    /// The exception name (shortcut for `kind.name()`).
    #[must_use]
    pub fn name(&self) -> &'static str {
        self.kind.name()
    }

    /// The HTTP status (shortcut for `kind.http_status()`).
    #[must_use]
    pub fn http_status(&self) -> u16 {
        self.kind.http_status()
    }
}

/// AWS's message for a CA without basicConstraints cA TRUE (README rules table, 1.3.2).
pub(crate) const BASIC_CONSTRAINTS_MESSAGE: &str =
    "The CA certificate does not have the basicConstraints extension as true";

/// AWS's validation message for a length constraint on `member`.
pub(crate) fn length_message(member: &str, len: usize, min: usize, max: usize) -> String {
    let constraint = if len < min {
        format!("Member must have length greater than or equal to {min}")
    } else {
        format!("Member must have length less than or equal to {max}")
    };
    format!("1 validation error detected: Value at '{member}' failed to satisfy constraint: {constraint}")
}

/// AWS's validation message for a pattern constraint on `member`.
fn pattern_message(member: &str, value: &str, pattern: &str) -> String {
    format!(
        "1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: \
         Member must satisfy regular expression pattern: {pattern}"
    )
}

/// A request member error, in AWS's validation wording where AWS has one.
fn request_exception(e: &RequestError, display: String) -> Exception {
    let message = match e {
        RequestError::Length { member, len, min, max } => length_message(member, *len, *min, *max),
        RequestError::Pattern { member, value, pattern } => pattern_message(member, value, pattern),
        RequestError::MissingMember { member } => format!(
            "1 validation error detected: Value null at '{member}' failed to satisfy constraint: Member must not be null"
        ),
        RequestError::Enum { member, value, allowed } => format!(
            "1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: \
             Member must satisfy enum value set: [{}]",
            allowed.join(", ")
        ),
        _ => display,
    };
    Exception::new(ExceptionKind::InvalidRequest, message)
}

/// A tag error, naming the offending tag by its member path (`tags.3.member.key`).
/// `key_path` names the key of tag `index` (`tags.3.member.key`, `tagKeys.3.member`).
fn tag_exception(e: &TagError, display: String, key_path: fn(usize) -> String) -> Exception {
    let message = match e {
        TagError::TooMany { count, max } => length_message("tags", *count, 0, *max),
        TagError::KeyLength { index, len, max } => length_message(&key_path(*index), *len, 1, *max),
        TagError::ValueLength { index, len, max } => {
            length_message(&format!("tags.{index}.member.value"), *len, 0, *max)
        }
        TagError::KeyPattern { index, key } => {
            pattern_message(&key_path(*index), key, crate::model::tags::TAG_KEY_PATTERN)
        }
        _ => display,
    };
    Exception::new(ExceptionKind::InvalidRequest, message)
}

/// A registry fact: each has its own exception and AWS's message (README, account facts).
fn registry_exception(e: &RegistryError) -> Exception {
    use ExceptionKind as K;
    match e {
        RegistryError::AlreadyExists { certificate_id, certificate_arn } => Exception {
            kind: K::ResourceAlreadyExists,
            message: format!("The certificate is already provisioned or registered: {certificate_id}"),
            resource_id: Some(certificate_id.clone()),
            resource_arn: Some(certificate_arn.clone()),
        },
        RegistryError::SubjectLimit { .. } => {
            Exception::new(K::LimitExceeded, "Limit reached for number of CA Certificates with same subject")
        }
        RegistryError::TemplateNotFound { template_name } => {
            Exception::new(K::ResourceNotFound, format!("The provisioning template {template_name} does not exist"))
        }
        RegistryError::CaCertificateNotFound { certificate_id } => {
            Exception::new(K::ResourceNotFound, format!("The certificate {certificate_id} does not exist"))
        }
        RegistryError::HeldByAnotherAccount => Exception::new(K::InvalidRequest, "Cannot accept this CACertificate"),
        RegistryError::TemplateWrongType { template_name, found, needed } => Exception::new(
            K::InvalidRequest,
            format!("The provisioning template {template_name} is of type {found}, not {needed}"),
        ),
        RegistryError::TemplateDisabled { template_name } => {
            Exception::new(K::InvalidRequest, format!("The provisioning template {template_name} is disabled"))
        }
    }
}

/// The message of CertificateConflictException: which member resolves the conflict.
pub(crate) const CA_CONFLICT_MESSAGE: &str =
    "More than one registered CA certificate has the certificate's issuer as its subject: give caCertificatePem";

/// A device-certificate error: each rule has its exception (AWS IoT RegisterCertificate,
/// UpdateCertificate, DeleteCertificate).
fn certificate_exception(e: &CertificateError) -> Exception {
    use ExceptionKind as K;
    let display = e.to_string();
    match e {
        CertificateError::Pem(p) => pem_exception("certificatePem", p, display),
        CertificateError::CaPem(p) => pem_exception("caCertificatePem", p, display),
        CertificateError::StatusNotSettable { .. } => Exception::new(K::InvalidRequest, display),
        CertificateError::CaNotRegistered { .. } => {
            Exception::new(K::CertificateValidation, "The CA certificate is not registered")
        }
        CertificateError::Parse(_)
        | CertificateError::CaParse(_)
        | CertificateError::Version { .. }
        | CertificateError::Key(_)
        | CertificateError::SignatureAlgorithm(_)
        | CertificateError::Validity(_)
        | CertificateError::NoCaForIssuer
        | CertificateError::IssuerMismatch
        | CertificateError::Signature(_)
        | CertificateError::ChainPem { .. }
        | CertificateError::ChainParse { .. }
        | CertificateError::ChainTooLong { .. } => Exception::new(K::CertificateValidation, display),
        CertificateError::CaConflict { .. } => Exception::new(K::CertificateConflict, CA_CONFLICT_MESSAGE),
        CertificateError::CaNotActive { .. } | CertificateError::StatusFinal { .. } => {
            Exception::new(K::CertificateState, display)
        }
        CertificateError::DeleteActive => Exception::new(
            K::CertificateState,
            "The certificate operation is not allowed. Deactivate the certificate first.",
        ),
        CertificateError::NotFound { .. } => Exception::new(K::ResourceNotFound, display),
        CertificateError::Attached => Exception::new(
            K::DeleteConflict,
            "Things or policies are attached to the certificate: detach them first, or set forceDelete",
        ),
    }
}

/// pageSize in AWS's range wording; a marker this service did not make.
fn paging_exception(e: &PagingError) -> Exception {
    let message = match e {
        PagingError::PageSize { value, min, max } => {
            let constraint = if *value < i64::from(*min) {
                format!("Member must have value greater than or equal to {min}")
            } else {
                format!("Member must have value less than or equal to {max}")
            };
            format!(
                "1 validation error detected: Value '{value}' at 'pageSize' failed to satisfy constraint: {constraint}"
            )
        }
        PagingError::Marker { member, .. } => {
            format!("The {member} was not returned by this operation for the same parameters")
        }
    };
    Exception::new(ExceptionKind::InvalidRequest, message)
}

/// What a stored resource's state refuses.
fn lifecycle_exception(e: &LifecycleError) -> Exception {
    use ExceptionKind as K;
    match e {
        LifecycleError::CaCertificateActive { .. } => Exception::new(
            K::CertificateState,
            "The certificate operation is not allowed. Deactivate the CA certificate first.",
        ),
        LifecycleError::RemoveAutoRegistrationWithConfig => Exception::new(
            K::InvalidRequest,
            "removeAutoRegistration and registrationConfig cannot be specified in the same request",
        ),
        LifecycleError::NoRegistrationCode => {
            Exception::new(K::ResourceNotFound, "The account has no registration code")
        }
        LifecycleError::TagLimit { count, max } => Exception::new(
            K::LimitExceeded,
            format!("Tag limit exceeded: the resource would have {count} tags, more than {max}"),
        ),
    }
}

/// A PEM field error: its length bounds are request validation (rule 1.1), the rest certificate
/// validation (rule 1.2).
fn pem_exception(member: &str, e: &PemError, display: String) -> Exception {
    match e {
        PemError::Empty => Exception::new(ExceptionKind::InvalidRequest, length_message(member, 0, 1, MAX_PEM_CHARS)),
        PemError::TooLong { len, max } => {
            Exception::new(ExceptionKind::InvalidRequest, length_message(member, *len, 1, *max))
        }
        _ => Exception::new(ExceptionKind::CertificateValidation, display),
    }
}

impl Error {
    /// The AWS exception this error is answered with: name, HTTP status, message.
    #[must_use]
    pub fn exception(&self) -> Exception {
        use ExceptionKind as K;
        let display = self.to_string();
        match self {
            Self::CaCertificate(CaError::Pem(e)) => pem_exception("caCertificate", e, display),
            Self::CaCertificate(CaError::BasicConstraintsMissing | CaError::NotCa) => {
                Exception::new(K::CertificateValidation, BASIC_CONSTRAINTS_MESSAGE)
            }
            Self::CaCertificate(_) => Exception::new(K::CertificateValidation, display),
            Self::VerificationCertificate(VerificationError::Pem(e)) => {
                pem_exception("verificationCertificate", e, display)
            }
            Self::VerificationCertificate(_) => Exception::new(K::CertificateValidation, display),
            Self::RegistrationCode(RegistrationCodeError::Malformed { .. }) => {
                Exception::new(K::InvalidRequest, display)
            }
            Self::RegistrationCode(_) => Exception::new(K::RegistrationCodeValidation, display),
            Self::Request(e) => request_exception(e, display),
            Self::Tag(e) => tag_exception(e, display, |i| format!("tags.{i}.member.key")),
            Self::Registry(e) => registry_exception(e),
            Self::Issue(_) => Exception::new(K::InternalFailure, display),
            Self::Certificate(e) => certificate_exception(e),
            Self::Paging(e) => paging_exception(e),
            Self::Resource(e) => {
                Exception::new(K::ResourceNotFound, format!("The resource {} does not exist", e.arn()))
            }
            Self::Lifecycle(e) => lifecycle_exception(e),
            Self::TagKeys(e) => tag_exception(e, display, |i| format!("tagKeys.{i}.member")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ca::verified::Finding;
    use crate::error::{MarkerProblem, ResourceError};
    use crate::x509::algorithm::{KeyError, SignatureError};
    use crate::x509::cert::ValidityError;
    use crate::x509::cert::Version;
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
            Error::Registry(RegistryError::AlreadyExists {
                certificate_id: "id".into(),
                certificate_arn: "arn".into(),
            }),
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
        let status = crate::device::certificate::CertificateStatus::PendingActivation;
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
                status: crate::model::description::CaStatus::Inactive,
            }),
            Error::Certificate(CertificateError::NotFound { certificate_id: id }),
            Error::Certificate(CertificateError::StatusFinal { status, new_status: status }),
            Error::Certificate(CertificateError::DeleteActive),
            Error::Certificate(CertificateError::Attached),
            Error::Certificate(CertificateError::ChainTooLong { count: 9, max: 8 }),
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
    }
}
