//! The one place where errors become AWS exceptions (SPEC §4).

use core::fmt;

use crate::error::{CaError, Error, PemError, RegistrationCodeError, VerificationError};
use crate::pem::MAX_PEM_CHARS;

/// The AWS IoT exceptions of SPEC §4.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ExceptionKind {
    /// 400.
    InvalidRequest,
    /// 400.
    CertificateValidation,
    /// 400.
    RegistrationCodeValidation,
    /// 400 (raised by transports, never by this crate).
    Throttling,
    /// 401 (raised by transports, never by this crate).
    Unauthorized,
    /// 404.
    ResourceNotFound,
    /// 409, with resourceId and resourceArn.
    ResourceAlreadyExists,
    /// 410.
    LimitExceeded,
    /// 500.
    InternalFailure,
    /// 503 (raised by transports, never by this crate).
    ServiceUnavailable,
}

impl ExceptionKind {
    /// Every kind, in SPEC §4's order.
    pub const ALL: [Self; 10] = [
        Self::InvalidRequest,
        Self::CertificateValidation,
        Self::RegistrationCodeValidation,
        Self::Throttling,
        Self::Unauthorized,
        Self::ResourceNotFound,
        Self::ResourceAlreadyExists,
        Self::LimitExceeded,
        Self::InternalFailure,
        Self::ServiceUnavailable,
    ];

    /// The exception name as AWS sends it (`x-amzn-ErrorType`, botocore's `Error.Code`).
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::InvalidRequest => "InvalidRequestException",
            Self::CertificateValidation => "CertificateValidationException",
            Self::RegistrationCodeValidation => "RegistrationCodeValidationException",
            Self::Throttling => "ThrottlingException",
            Self::Unauthorized => "UnauthorizedException",
            Self::ResourceNotFound => "ResourceNotFoundException",
            Self::ResourceAlreadyExists => "ResourceAlreadyExistsException",
            Self::LimitExceeded => "LimitExceededException",
            Self::InternalFailure => "InternalFailureException",
            Self::ServiceUnavailable => "ServiceUnavailableException",
        }
    }

    /// The HTTP status AWS answers with.
    #[must_use]
    pub const fn http_status(self) -> u16 {
        match self {
            Self::InvalidRequest
            | Self::CertificateValidation
            | Self::RegistrationCodeValidation
            | Self::Throttling => 400,
            Self::Unauthorized => 401,
            Self::ResourceNotFound => 404,
            Self::ResourceAlreadyExists => 409,
            Self::LimitExceeded => 410,
            Self::InternalFailure => 500,
            Self::ServiceUnavailable => 503,
        }
    }
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

/// AWS's validation message for a length constraint on `member`.
pub(crate) fn length_message(member: &str, len: usize, min: usize, max: usize) -> String {
    let constraint = if len < min {
        format!("Member must have length greater than or equal to {min}")
    } else {
        format!("Member must have length less than or equal to {max}")
    };
    format!("1 validation error detected: Value at '{member}' failed to satisfy constraint: {constraint}")
}

/// A PEM field error: its length bounds are request validation (§1.1), the rest certificate
/// validation (§1.2).
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
                Exception::new(K::CertificateValidation, crate::error::BASIC_CONSTRAINTS_MESSAGE)
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
        }
    }
}
