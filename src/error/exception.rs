//! The one place where errors become AWS exceptions (rule 4).

use core::fmt;

use crate::error::{
    CaError, CertificateError, Error, LifecycleError, PagingError, ProvisioningError, RegistrationCodeError,
    RegistryError, RequestError, TagError, TemplateProblem, ThingError, VerificationError,
};
use crate::x509::csr::CsrError;
use crate::x509::pem::{MAX_CSR_PEM_CHARS, MAX_PEM_CHARS, PemError};

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
    /// The thing's version is not the one the request expected.
    VersionConflict = ("VersionConflictException", 409),
    /// A provisioning template's resource exists and its OverrideSettings say FAIL.
    ResourceRegistrationFailure = ("ResourceRegistrationFailureException", 400),
    /// The policy document breaks AWS IoT's policy rules.
    MalformedPolicy = ("MalformedPolicyException", 400),
    /// The template has as many versions as it may.
    VersionsLimitExceeded = ("VersionsLimitExceededException", 409),
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
/// ResourceAlreadyExistsException naming the resource (its name as resourceId, as AWS's
/// registry operations answer).
fn already_exists(message: String, id: &str, arn: &str) -> Exception {
    Exception {
        kind: ExceptionKind::ResourceAlreadyExists,
        message,
        resource_id: Some(id.to_owned()),
        resource_arn: Some(arn.to_owned()),
    }
}

fn thing_exception(e: &ThingError, display: String) -> Exception {
    use ExceptionKind as K;
    match e {
        ThingError::TooManyAttributes { .. }
        | ThingError::PrincipalsAttached { .. }
        | ThingError::TypeAndRemoveType
        | ThingError::NameOrArn { .. } => Exception::new(K::InvalidRequest, display),
        ThingError::ThingNotFound { .. }
        | ThingError::ThingTypeNotFound { .. }
        | ThingError::ThingGroupNotFound { .. }
        | ThingError::BillingGroupNotFound { .. }
        | ThingError::PolicyNotFound { .. } => Exception::new(K::ResourceNotFound, display),
        ThingError::ThingExists { thing_name, thing_arn } => already_exists(display, thing_name, thing_arn),
        ThingError::ThingTypeExists { thing_type_name, thing_type_arn } => {
            already_exists(display, thing_type_name, thing_type_arn)
        }
        ThingError::ThingGroupExists { thing_group_name, thing_group_arn } => {
            already_exists(display, thing_group_name, thing_group_arn)
        }
        ThingError::PolicyExists { policy_name, policy_arn } => already_exists(display, policy_name, policy_arn),
        ThingError::VersionConflict { .. } => Exception::new(K::VersionConflict, display),
        ThingError::PolicyAttached { .. } => Exception::new(K::DeleteConflict, display),
        ThingError::PolicyLimit { .. } => Exception::new(K::LimitExceeded, display),
        ThingError::MalformedPolicy { .. } => Exception::new(K::MalformedPolicy, display),
    }
}

fn provisioning_exception(e: &ProvisioningError, display: String) -> Exception {
    use ExceptionKind as K;
    match e {
        ProvisioningError::TemplateExists { template_name, template_arn } => {
            already_exists(display, template_name, template_arn)
        }
        ProvisioningError::HookOnJitp | ProvisioningError::HookAndRemoveHook => {
            Exception::new(K::InvalidRequest, display)
        }
        ProvisioningError::VersionNotFound { .. } => Exception::new(K::ResourceNotFound, display),
        ProvisioningError::VersionsLimit { .. } => Exception::new(K::VersionsLimitExceeded, display),
        ProvisioningError::DefaultVersion { .. } | ProvisioningError::TemplateInUse { .. } => {
            Exception::new(K::DeleteConflict, display)
        }
        // Fleet provisioning's, answered over MQTT (see `Error::rejection`); were one to reach
        // the REST API, it is the request's fault.
        ProvisioningError::OwnershipToken { .. } => Exception::new(K::InvalidRequest, display),
        ProvisioningError::HookRefused { .. }
        | ProvisioningError::ClaimExpired { .. }
        | ProvisioningError::ClaimTemplate { .. } => Exception::new(K::Unauthorized, display),
    }
}

/// What fleet provisioning publishes on a `/rejected` topic: `{statusCode, errorCode,
/// errorMessage}` (AWS IoT Developer Guide, "Device provisioning MQTT API").
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Rejection {
    /// statusCode: the exception's HTTP status, or AWS's code for the cases it documents.
    pub status_code: u16,
    /// errorCode: the exception's name (our rule, where AWS publishes no list), or AWS's
    /// `InvalidCertificateOwnershipToken`, or `AccessDenied` for a refusing hook (our code).
    pub error_code: &'static str,
    /// errorMessage: the sentence that says which rule refused.
    pub error_message: String,
}

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

/// A certification request: every fault is InvalidRequestException (the only client error
/// CreateCertificateFromCsr declares), its length bounds in AWS's validation wording.
fn csr_exception(e: &CsrError, display: String) -> Exception {
    const MEMBER: &str = "certificateSigningRequest";
    let message = match e {
        CsrError::Pem(PemError::Empty) => length_message(MEMBER, 0, 1, MAX_CSR_PEM_CHARS),
        CsrError::Pem(PemError::TooLong { len, max }) => length_message(MEMBER, *len, 1, *max),
        _ => display,
    };
    Exception::new(ExceptionKind::InvalidRequest, message)
}

impl Error {
    /// The error as fleet provisioning's MQTT API answers it on `/rejected`, from the same one
    /// mapping as [`Error::exception`]: an invalid ownership token is 400
    /// `InvalidCertificateOwnershipToken` (AWS's), a refusing pre-provisioning hook 403
    /// `AccessDenied` (our code), everything else the exception's status and name with the
    /// crate's sentence (which names the template path, the parameter or the expiry).
    #[must_use]
    pub fn rejection(&self) -> Rejection {
        let ex = self.exception();
        let (status_code, error_code) = match self {
            Self::Provisioning(ProvisioningError::OwnershipToken { .. }) => (400, "InvalidCertificateOwnershipToken"),
            Self::Provisioning(
                ProvisioningError::HookRefused { .. }
                | ProvisioningError::ClaimExpired { .. }
                | ProvisioningError::ClaimTemplate { .. },
            ) => (403, "AccessDenied"),
            _ => (ex.http_status(), ex.name()),
        };
        let error_message = match self {
            Self::Provisioning(ProvisioningError::OwnershipToken { problem }) => problem.to_string(),
            _ => self.to_string(),
        };
        Rejection { status_code, error_code, error_message }
    }

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
            Self::Thing(e) => thing_exception(e, display),
            Self::Provisioning(e) => provisioning_exception(e, display),
            Self::Template(e) => match e.problem {
                TemplateProblem::Conflict { .. } => Exception::new(K::ResourceRegistrationFailure, display),
                _ => Exception::new(K::InvalidRequest, display),
            },
            Self::Csr(e) => csr_exception(e, display),
        }
    }
}
