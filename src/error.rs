//! The typed errors. Each area has its own enum with the values involved; [`Error`] gathers
//! them. `exception.rs` maps every variant to the AWS exception, in one place.

pub(crate) mod exception;
#[cfg(test)]
mod tests;

use core::fmt;

use crate::model::certificate_id::CertificateId;
use crate::model::enums::CaStatus;
use crate::model::enums::CertificateStatus;
use crate::model::enums::Finding;
use crate::model::policy_document::PolicyDocumentProblem;
use crate::provisioning::fleet::TokenProblem;
use crate::x509::algorithm::{KeyError, SignatureError};
use crate::x509::cert::{CertificateInputError, ValidityError, Version};
use crate::x509::csr::CsrError;
use crate::x509::issue::IssueError;
use crate::x509::pem::PemError;
use crate::x509::tlv::ParseError;

/// Any failure of the crate. Match on the area, then on the reason.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The `caCertificate` field (rule 1.2, rule 1.3).
    CaCertificate(CaError),
    /// The `verificationCertificate` field (rule 1.4).
    VerificationCertificate(VerificationError),
    /// The registration code: malformed, or not the verification certificate's CN (rule 1.4.5, rule 2).
    RegistrationCode(RegistrationCodeError),
    /// A request field outside its constraints (rule 1.1, rule 1.4 mode rules).
    Request(RequestError),
    /// A tag outside the rules of rule 1.5.
    Tag(TagError),
    /// What the account already holds refuses the registration (rule 1.6), or the template
    /// a claim names (rule 3).
    Registry(RegistryError),
    /// Issuing a certificate failed (claims, verification certificates).
    Issue(IssueError),
    /// A device certificate, its signing CA, its lifecycle, or a chain a device presented.
    Certificate(CertificateError),
    /// A list request's pageSize or marker (ListCACertificates, ListTagsForResource…).
    Paging(PagingError),
    /// A resource ARN or id names nothing the account holds.
    Resource(ResourceError),
    /// A stored CA certificate, its tags or the registration code refuse the operation.
    Lifecycle(LifecycleError),
    /// UntagResource's `tagKeys`: a key outside the tag key rules (the index names
    /// `tagKeys.N.member`).
    TagKeys(TagError),
    /// Things, thing types and groups, policies and their attachments (rules 10.1–10.2).
    Thing(ThingError),
    /// A provisioning template's body, its parameters, or what it would provision (rule 11.2).
    Template(TemplateError),
    /// A provisioning template's life and versions, and fleet provisioning (rules 11.1, 12.3).
    Provisioning(ProvisioningError),
    /// CreateCertificateFromCsr's `certificateSigningRequest`: not one strict PKCS#10 request,
    /// a key outside the policy, or a self-signature that does not verify (rule 10.3).
    Csr(CsrError),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::CaCertificate(e) => write!(f, "CA certificate: {e}"),
            Self::VerificationCertificate(e) => write!(f, "verification certificate: {e}"),
            Self::RegistrationCode(e) => write!(f, "registration code: {e}"),
            Self::Request(e) => e.fmt(f),
            Self::Tag(e) => e.fmt(f),
            Self::Registry(e) => e.fmt(f),
            Self::Issue(e) => e.fmt(f),
            Self::Certificate(e) => write!(f, "certificate: {e}"),
            Self::Paging(e) => e.fmt(f),
            Self::Resource(e) => e.fmt(f),
            Self::Lifecycle(e) => e.fmt(f),
            Self::TagKeys(e) => write!(f, "tagKeys: {e}"),
            Self::Thing(e) => e.fmt(f),
            Self::Template(e) => e.fmt(f),
            Self::Provisioning(e) => e.fmt(f),
            Self::Csr(e) => write!(f, "certificate signing request: {e}"),
        }
    }
}

impl core::error::Error for Error {}

impl From<CertificateInputError> for CaError {
    fn from(e: CertificateInputError) -> Self {
        match e {
            CertificateInputError::Pem(e) => Self::Pem(e),
            CertificateInputError::Parse(e) => Self::Parse(e),
        }
    }
}

impl From<CertificateInputError> for VerificationError {
    fn from(e: CertificateInputError) -> Self {
        match e {
            CertificateInputError::Pem(e) => Self::Pem(e),
            CertificateInputError::Parse(e) => Self::Parse(e),
        }
    }
}

/// The CA certificate breaks a rule of rules 1.2–1.3.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CaError {
    /// rule 1.2: the PEM text.
    Pem(PemError),
    /// rule 1.2: the DER.
    Parse(ParseError),
    /// 1.3.1: not v3.
    NotVersion3 {
        /// The version found.
        version: Version,
    },
    /// 1.3.1: an extension appears twice.
    DuplicateExtension {
        /// The extension, dotted.
        oid: String,
    },
    /// 1.3.1: a critical extension outside the recognised list.
    UnrecognisedCriticalExtension {
        /// The extension, dotted.
        oid: String,
    },
    /// 1.3.1: a recognised extension whose value does not parse.
    MalformedExtension {
        /// The extension, dotted.
        oid: String,
    },
    /// 1.3.2: no basicConstraints.
    BasicConstraintsMissing,
    /// 1.3.2: basicConstraints with cA FALSE.
    NotCa,
    /// 1.3.3: keyUsage present without keyCertSign.
    KeyCertSignMissing,
    /// 1.3.4: not valid at `now`.
    Validity(ValidityError),
    /// 1.3.5: empty subject.
    EmptySubject,
    /// 1.3.6: public key outside the policy.
    Key(KeyError),
    /// 1.3.7: signature algorithm outside the strong set (and not SHA-1).
    SignatureAlgorithm(SignatureError),
    /// 1.3.8: a self-issued CA whose signature does not verify under its own key.
    SelfSignature(SignatureError),
    /// 1.3.9: serial number longer than 20 octets.
    SerialTooLong {
        /// Content octets of the serial.
        len: usize,
    },
    /// A finding of rule 1.3, refused because the policy is strict.
    StrictFinding(Finding),
}

impl CaError {
    /// The rule the error enforces and the RFC section behind it, declared once per variant.
    /// Rule ids are those of the README's rules table (`1.2`, `1.3.1` … `1.3.9`, or a finding id).
    const fn rule_and_reference(&self) -> (&'static str, &'static str) {
        match self {
            Self::Pem(_) => ("1.2", "RFC 7468 §5"),
            Self::Parse(_) => ("1.2", "RFC 5280 §4.1, X.690 §10"),
            Self::NotVersion3 { .. } => ("1.3.1", "RFC 5280 §4.1.2.1"),
            Self::DuplicateExtension { .. }
            | Self::UnrecognisedCriticalExtension { .. }
            | Self::MalformedExtension { .. } => ("1.3.1", "RFC 5280 §4.2"),
            Self::BasicConstraintsMissing | Self::NotCa => ("1.3.2", "RFC 5280 §4.2.1.9"),
            Self::KeyCertSignMissing => ("1.3.3", "RFC 5280 §4.2.1.3"),
            Self::Validity(_) => ("1.3.4", "RFC 5280 §4.1.2.5"),
            Self::EmptySubject => ("1.3.5", "RFC 5280 §4.1.2.6"),
            Self::Key(_) => ("1.3.6", "RFC 5280 §4.1.2.7, RFC 3279, RFC 5480"),
            Self::SignatureAlgorithm(_) => ("1.3.7", "RFC 5280 §4.1.1.2, RFC 4055, RFC 5758"),
            Self::SelfSignature(_) => ("1.3.8", "RFC 5280 §6.1"),
            Self::SerialTooLong { .. } => ("1.3.9", "RFC 5280 §4.1.2.2"),
            Self::StrictFinding(f) => (f.id(), f.reference()),
        }
    }

    /// The rule the error enforces: its id in the README's rules table (`1.2`, `1.3.1` …
    /// `1.3.9`), or the finding id under a strict policy.
    #[must_use]
    pub const fn rule(&self) -> &'static str {
        self.rule_and_reference().0
    }

    /// The RFC section behind the rule.
    #[must_use]
    pub const fn reference(&self) -> &'static str {
        self.rule_and_reference().1
    }
}

impl fmt::Display for CaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Pem(e) => e.fmt(f),
            Self::Parse(e) => e.fmt(f),
            Self::NotVersion3 { version } => write!(f, "the certificate is {version:?}, a CA certificate must be v3"),
            Self::DuplicateExtension { oid } => write!(f, "extension {oid} appears more than once"),
            Self::UnrecognisedCriticalExtension { oid } => write!(f, "critical extension {oid} is not recognised"),
            Self::MalformedExtension { oid } => write!(f, "extension {oid} does not parse"),
            Self::BasicConstraintsMissing => f.write_str("the certificate has no basicConstraints extension"),
            Self::NotCa => f.write_str("basicConstraints says cA FALSE"),
            Self::KeyCertSignMissing => f.write_str("keyUsage does not assert keyCertSign"),
            Self::Validity(e) => write!(f, "the certificate is {e}"),
            Self::EmptySubject => f.write_str("the subject is empty"),
            Self::Key(e) => e.fmt(f),
            Self::SignatureAlgorithm(e) => e.fmt(f),
            Self::SelfSignature(e) => write!(f, "self-signature: {e}"),
            Self::SerialTooLong { len } => write!(f, "the serial number has {len} octets, more than 20"),
            Self::StrictFinding(finding) => write!(f, "strict policy: {finding}"),
        }
    }
}

/// The verification certificate does not prove possession of the CA key (rules 1.4.1–1.4.4).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum VerificationError {
    /// Item 1: the PEM text.
    Pem(PemError),
    /// Item 1: the DER.
    Parse(ParseError),
    /// Item 2: the issuer Name is not byte-equal to the CA's subject.
    IssuerMismatch,
    /// Item 3: the signature is not a strong one by the CA's key.
    Signature(SignatureError),
    /// Item 4: not valid at `now`.
    Validity(ValidityError),
}

impl fmt::Display for VerificationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Pem(e) => e.fmt(f),
            Self::Parse(e) => e.fmt(f),
            Self::IssuerMismatch => f.write_str("its issuer is not the CA certificate's subject"),
            Self::Signature(e) => write!(f, "it is not signed by the CA certificate's key: {e}"),
            Self::Validity(e) => write!(f, "it is {e}"),
        }
    }
}

/// The registration code (rule 2) or the verification certificate's CN (rule 1.4.5).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RegistrationCodeError {
    /// A registration code must be 64 lowercase hex characters.
    Malformed {
        /// Its length in characters.
        len: usize,
    },
    /// The verification certificate's subject has no commonName.
    CommonNameMissing,
    /// The verification certificate's subject has several commonNames.
    CommonNameMultiple {
        /// How many.
        count: usize,
    },
    /// The commonName is not the registration code, byte for byte.
    Mismatch,
}

impl fmt::Display for RegistrationCodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Malformed { len } => write!(f, "expected 64 lowercase hex characters, got {len} characters"),
            Self::CommonNameMissing => f.write_str("the verification certificate's subject has no commonName"),
            Self::CommonNameMultiple { count } => {
                write!(f, "the verification certificate's subject has {count} commonNames, expected one")
            }
            Self::Mismatch => f.write_str("the verification certificate's commonName is not the registration code"),
        }
    }
}

/// A request member outside its constraints (rule 1.1), or the mode/verification pairing (rule 1.4).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RequestError {
    /// A member's length is outside its bounds.
    Length {
        /// The member path, as AWS names it (`registrationConfig.templateName`).
        member: &'static str,
        /// Its length in characters.
        len: usize,
        /// Smallest allowed.
        min: usize,
        /// Largest allowed.
        max: usize,
    },
    /// A member does not match its pattern.
    Pattern {
        /// The member path.
        member: &'static str,
        /// The value (at most 256 characters of it).
        value: String,
        /// The pattern, as AWS writes it.
        pattern: &'static str,
    },
    /// A member is not one of its enum values.
    Enum {
        /// The member path.
        member: &'static str,
        /// The value (at most 256 characters of it).
        value: String,
        /// The allowed values.
        allowed: &'static [&'static str],
    },
    /// certificateMode DEFAULT without a verificationCertificate.
    VerificationCertificateRequired,
    /// certificateMode SNI_ONLY with a verificationCertificate.
    VerificationCertificateForbidden,
    /// registrationConfig names a template and also carries templateBody or roleArn.
    TemplateNameWithBody,
    /// registrationConfig has templateBody without roleArn, or roleArn without templateBody.
    BodyAndRoleTogether,
    /// templateBody is not a JSON object with a `Resources` object.
    TemplateBody {
        /// What is wrong with it.
        reason: TemplateBodyProblem,
    },
    /// The request document is not a JSON object.
    MalformedJson,
    /// The request document is larger than any valid request.
    DocumentTooLarge {
        /// Its size in bytes.
        len: usize,
        /// The bound.
        max: usize,
    },
    /// A member the operation does not have.
    UnknownMember {
        /// Its path (`registrationConfig.foo`), at most 256 characters.
        member: String,
    },
    /// A member of the wrong JSON type.
    WrongType {
        /// Its path.
        member: String,
        /// The JSON type it must have.
        expected: &'static str,
    },
    /// The request document is not UTF-8.
    NotUtf8 {
        /// How many leading bytes are valid UTF-8.
        valid_up_to: usize,
    },
    /// A required member is absent.
    MissingMember {
        /// Its path.
        member: &'static str,
    },
}

/// Why a templateBody is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TemplateBodyProblem {
    /// Not valid JSON.
    NotJson,
    /// JSON, but not an object.
    NotObject,
    /// No `Resources` member, or it is not an object.
    NoResources,
}

impl fmt::Display for RequestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Length { member, len, min, max } => {
                write!(f, "{member} has length {len}, outside {min}..={max}")
            }
            Self::Pattern { member, value, pattern } => write!(f, "{member} value '{value}' does not match {pattern}"),
            Self::Enum { member, value, allowed } => {
                write!(f, "{member} value '{value}' is not one of [{}]", allowed.join(", "))
            }
            Self::VerificationCertificateRequired => {
                f.write_str("certificateMode DEFAULT requires a verificationCertificate")
            }
            Self::VerificationCertificateForbidden => {
                f.write_str("certificateMode SNI_ONLY does not take a verificationCertificate")
            }
            Self::TemplateNameWithBody => {
                f.write_str("registrationConfig takes either templateName, or templateBody with roleArn, not both")
            }
            Self::BodyAndRoleTogether => f.write_str("registrationConfig needs templateBody and roleArn together"),
            Self::TemplateBody { reason } => write!(f, "registrationConfig.templateBody {reason}"),
            Self::MalformedJson => f.write_str("the request body is not a JSON object"),
            Self::DocumentTooLarge { len, max } => write!(f, "the request body has {len} bytes, more than {max}"),
            Self::UnknownMember { member } => write!(f, "unknown member '{member}'"),
            Self::WrongType { member, expected } => write!(f, "member '{member}' must be a JSON {expected}"),
            Self::NotUtf8 { valid_up_to } => {
                write!(f, "the request body is not UTF-8 (the first {valid_up_to} bytes are)")
            }
            Self::MissingMember { member } => write!(f, "the required member '{member}' is missing"),
        }
    }
}

impl fmt::Display for TemplateBodyProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NotJson => "is not valid JSON",
            Self::NotObject => "is not a JSON object",
            Self::NoResources => "has no Resources object",
        })
    }
}

/// A tag outside the rules of rule 1.5. `index` is 1-based, as AWS's member paths are.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TagError {
    /// More tags than allowed.
    TooMany {
        /// How many were given.
        count: usize,
        /// The bound.
        max: usize,
    },
    /// A key used twice (case-sensitive).
    DuplicateKey {
        /// The second occurrence.
        index: usize,
        /// The key (at most 128 characters of it).
        key: String,
    },
    /// A key outside its length bounds.
    KeyLength {
        /// The tag.
        index: usize,
        /// Its key's length in characters.
        len: usize,
        /// The bound.
        max: usize,
    },
    /// A key with a character outside `[\p{L}\p{Z}\p{N}_.:/=+\-@]`.
    KeyPattern {
        /// The tag.
        index: usize,
        /// The key (at most 128 characters of it).
        key: String,
    },
    /// A key starting with `aws:` in any letter case.
    ReservedPrefix {
        /// The tag.
        index: usize,
        /// The key (at most 128 characters of it).
        key: String,
    },
    /// A pair of the string form `key1=value1&key2=value2` without `=`.
    NotKeyValue {
        /// The tag.
        index: usize,
        /// The pair (at most 256 characters of it).
        pair: String,
    },
    /// A value longer than allowed.
    ValueLength {
        /// The tag.
        index: usize,
        /// Its value's length in characters.
        len: usize,
        /// The bound.
        max: usize,
    },
}

impl fmt::Display for TagError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooMany { count, max } => write!(f, "{count} tags given, at most {max} are allowed"),
            Self::DuplicateKey { index, key } => write!(f, "tag {index} repeats the key '{key}'"),
            Self::KeyLength { index, len, max } => write!(f, "tag {index} key has length {len}, outside 1..={max}"),
            Self::KeyPattern { index, key } => {
                write!(f, "tag {index} key '{key}' has characters outside [\\p{{L}}\\p{{Z}}\\p{{N}}_.:/=+\\-@]")
            }
            Self::ReservedPrefix { index, key } => write!(f, "tag {index} key '{key}' uses the reserved prefix aws:"),
            Self::NotKeyValue { index, pair } => write!(f, "tag {index} '{pair}' is not of the form key=value"),
            Self::ValueLength { index, len, max } => {
                write!(f, "tag {index} value has length {len}, more than {max}")
            }
        }
    }
}

/// What the account already holds refuses the registration (rule 1.6).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RegistryError {
    /// This account already holds the certificate.
    AlreadyExists {
        /// Its certificateId.
        certificate_id: String,
        /// Its ARN.
        certificate_arn: String,
    },
    /// The account holds 10 or more CAs with this subject.
    SubjectLimit {
        /// How many it holds.
        count: usize,
    },
    /// Another account of the region holds the certificate in DEFAULT mode.
    HeldByAnotherAccount,
    /// registrationConfig.templateName names no template.
    TemplateNotFound {
        /// The name.
        template_name: String,
    },
    /// The template exists but is not of the type the call needs.
    TemplateWrongType {
        /// The name.
        template_name: String,
        /// Its type.
        found: &'static str,
        /// The type needed.
        needed: &'static str,
    },
    /// The template exists but is disabled.
    TemplateDisabled {
        /// The name.
        template_name: String,
    },
    /// No CA certificate with this id is registered (DescribeCACertificate and friends).
    CaCertificateNotFound {
        /// The id asked for (at most 64 characters of it).
        certificate_id: String,
    },
}

impl fmt::Display for RegistryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::AlreadyExists { certificate_id, .. } => {
                write!(f, "the account already holds certificate {certificate_id}")
            }
            Self::SubjectLimit { count } => {
                write!(f, "the account holds {count} CA certificates with this subject, the limit is reached")
            }
            Self::HeldByAnotherAccount => {
                f.write_str("another account of the region holds this CA certificate in DEFAULT mode")
            }
            Self::TemplateNotFound { template_name } => write!(f, "no provisioning template is named {template_name}"),
            Self::TemplateWrongType { template_name, found, needed } => {
                write!(f, "provisioning template {template_name} is of type {found}, not {needed}")
            }
            Self::TemplateDisabled { template_name } => write!(f, "provisioning template {template_name} is disabled"),
            Self::CaCertificateNotFound { certificate_id } => {
                write!(f, "no CA certificate {certificate_id} is registered")
            }
        }
    }
}

/// A device certificate, its signing CA or its lifecycle breaks a rule (AWS IoT
/// RegisterCertificate, RegisterCertificateWithoutCA, UpdateCertificate, DeleteCertificate), or
/// a presented chain is malformed.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CertificateError {
    /// `certificatePem`: the PEM text (RFC 7468).
    Pem(PemError),
    /// `certificatePem`: the DER.
    Parse(ParseError),
    /// `caCertificatePem`: the PEM text.
    CaPem(PemError),
    /// `caCertificatePem`: the DER.
    CaParse(ParseError),
    /// A status only AWS IoT itself sets (PENDING_TRANSFER, REGISTER_INACTIVE, PENDING_ACTIVATION).
    StatusNotSettable {
        /// `status` or `newStatus`.
        member: &'static str,
        /// The status asked for.
        status: CertificateStatus,
    },
    /// A v2 device certificate (v1 or v3 only).
    Version {
        /// The version found.
        version: Version,
    },
    /// The device certificate's public key is outside the key policy.
    Key(KeyError),
    /// The device certificate's signature algorithm is outside the strong set, or SHA-1.
    SignatureAlgorithm(SignatureError),
    /// The device certificate is not valid at `now`.
    Validity(ValidityError),
    /// `caCertificatePem` is not a CA this account registered.
    CaNotRegistered {
        /// Its certificateId.
        ca_certificate_id: CertificateId,
    },
    /// No CA of the account has the device certificate's issuer as subject.
    NoCaForIssuer,
    /// Several CAs of the account have the issuer as subject: caCertificatePem must say which.
    CaConflict {
        /// How many.
        count: usize,
    },
    /// The device certificate's issuer is not the CA's subject.
    IssuerMismatch,
    /// The device certificate's signature does not verify under the CA's key.
    Signature(SignatureError),
    /// The signing CA is not ACTIVE.
    CaNotActive {
        /// The CA.
        ca_certificate_id: CertificateId,
        /// Its status.
        status: CaStatus,
    },
    /// The account holds no certificate with this id.
    NotFound {
        /// The id asked for.
        certificate_id: CertificateId,
    },
    /// The certificate's status cannot change (REVOKED is final; a transfer is pending).
    StatusFinal {
        /// Its status.
        status: CertificateStatus,
        /// The status asked for.
        new_status: CertificateStatus,
    },
    /// An ACTIVE certificate cannot be deleted.
    DeleteActive,
    /// Things or policies are attached to the certificate, and forceDelete is not set.
    Attached,
    /// A presented chain's PEM: the block at `index` (0 is the device certificate).
    ChainPem {
        /// The block.
        index: usize,
        /// What is wrong with it.
        error: PemError,
    },
    /// A presented chain's certificate at `index` is not strict DER.
    ChainParse {
        /// The certificate.
        index: usize,
        /// What is wrong with it.
        error: ParseError,
    },
    /// A presented chain holds more certificates than accepted.
    ChainTooLong {
        /// How many.
        count: usize,
        /// The bound.
        max: usize,
    },
}

impl fmt::Display for CertificateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Pem(e) | Self::CaPem(e) => e.fmt(f),
            Self::Parse(e) | Self::CaParse(e) => e.fmt(f),
            Self::StatusNotSettable { member, status } => {
                write!(f, "{member} {status} is set by AWS IoT only; use ACTIVE, INACTIVE or REVOKED")
            }
            Self::Version { version } => {
                write!(f, "the certificate is {version:?}, a device certificate must be v1 or v3")
            }
            Self::Key(e) => e.fmt(f),
            Self::SignatureAlgorithm(e) => e.fmt(f),
            Self::Validity(e) => write!(f, "the certificate is {e}"),
            Self::CaNotRegistered { ca_certificate_id } => {
                write!(f, "the CA certificate {ca_certificate_id} is not registered in this account")
            }
            Self::NoCaForIssuer => {
                f.write_str("no registered CA certificate has the certificate's issuer as its subject")
            }
            Self::CaConflict { count } => write!(
                f,
                "{count} registered CA certificates have the certificate's issuer as their subject; \
                 give caCertificatePem to say which one signed it"
            ),
            Self::IssuerMismatch => f.write_str("the certificate's issuer is not the CA certificate's subject"),
            Self::Signature(e) => write!(f, "the certificate is not signed by the CA certificate's key: {e}"),
            Self::CaNotActive { ca_certificate_id, status } => {
                write!(f, "the CA certificate {ca_certificate_id} is {status}, not ACTIVE")
            }
            Self::NotFound { certificate_id } => write!(f, "the certificate {certificate_id} does not exist"),
            Self::StatusFinal { status, new_status } => {
                write!(f, "a {status} certificate cannot become {new_status}")
            }
            Self::DeleteActive => f.write_str("an ACTIVE certificate cannot be deleted; deactivate it first"),
            Self::Attached => f.write_str("things or policies are attached to the certificate"),
            Self::ChainPem { index, error } => write!(f, "presented certificate {index}: {error}"),
            Self::ChainParse { index, error } => write!(f, "presented certificate {index}: {error}"),
            Self::ChainTooLong { count, max } => {
                write!(f, "the presented chain holds {count} certificates, more than {max}")
            }
        }
    }
}

/// `?` wraps each area's error into [`Error`].
macro_rules! from_area {
    ($($sub:ty => $variant:ident),* $(,)?) => {$(
        impl From<$sub> for Error {
            fn from(e: $sub) -> Self {
                Self::$variant(e)
            }
        }
    )*};
}

from_area! {
    CaError => CaCertificate,
    VerificationError => VerificationCertificate,
    RegistrationCodeError => RegistrationCode,
    RequestError => Request,
    TagError => Tag,
    RegistryError => Registry,
    IssueError => Issue,
    PagingError => Paging,
    ResourceError => Resource,
    LifecycleError => Lifecycle,
    CertificateError => Certificate,
    ThingError => Thing,
    TemplateError => Template,
    ProvisioningError => Provisioning,
    CsrError => Csr,
}

/// A list request's paging members are refused (pageSize, marker / nextToken).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PagingError {
    /// pageSize outside its bounds.
    PageSize {
        /// The value given.
        value: i64,
        /// Smallest allowed.
        min: u16,
        /// Largest allowed.
        max: u16,
    },
    /// A marker of the right shape that this service did not make for this listing.
    Marker {
        /// The member it came in (`marker`, `nextToken`).
        member: &'static str,
        /// What is wrong with it.
        problem: MarkerProblem,
    },
}

/// Why a marker is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum MarkerProblem {
    /// Not canonical padded base64, or too short to hold a seal.
    Encoding,
    /// A marker format this crate does not write.
    Version {
        /// The version byte found.
        found: u8,
    },
    /// The seal does not verify: forged, altered, or made for another listing, order or key.
    Seal,
    /// Sealed, but it does not hold a key of this listing's kind.
    Key,
}

impl fmt::Display for PagingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::PageSize { value, min, max } => write!(f, "pageSize {value} is outside {min}..={max}"),
            Self::Marker { member, problem } => write!(f, "the {member} is refused: {problem}"),
        }
    }
}

impl fmt::Display for MarkerProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Encoding => f.write_str("it is not a marker this service writes"),
            Self::Version { found } => write!(f, "marker format {found} is not one this service writes"),
            Self::Seal => f.write_str("its seal does not verify for this listing"),
            Self::Key => f.write_str("it does not hold a key of this listing"),
        }
    }
}

/// A resource ARN that names nothing the caller's account holds (every variant is
/// ResourceNotFoundException). Each carries the ARN as given (at most 256 characters).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ResourceError {
    /// Not `arn:<partition>:iot:<region>:<account>:<type>/<id>`.
    MalformedArn {
        /// The ARN.
        arn: String,
    },
    /// A resource type other than `cacert` and `cert`.
    UnsupportedResourceType {
        /// The ARN.
        arn: String,
        /// The type found.
        resource_type: String,
    },
    /// An id that is not 64 hex digits.
    MalformedCertificateId {
        /// The ARN.
        arn: String,
        /// The id found.
        certificate_id: String,
    },
    /// The ARN's partition, region or account is not the caller's.
    OutOfScope {
        /// The ARN.
        arn: String,
        /// `partition`, `region` or `account`.
        field: &'static str,
        /// The value in the ARN.
        found: String,
        /// The caller's.
        expected: String,
    },
    /// A well-formed ARN of the caller's account and region that the account does not hold.
    NotFound {
        /// The ARN.
        arn: String,
    },
}

impl ResourceError {
    /// The ARN the error is about, as given.
    #[must_use]
    pub fn arn(&self) -> &str {
        match self {
            Self::MalformedArn { arn }
            | Self::UnsupportedResourceType { arn, .. }
            | Self::MalformedCertificateId { arn, .. }
            | Self::OutOfScope { arn, .. }
            | Self::NotFound { arn } => arn,
        }
    }
}

impl fmt::Display for ResourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MalformedArn { arn } => {
                write!(f, "'{arn}' is not an ARN of the form arn:<partition>:iot:<region>:<account>:<type>/<id>")
            }
            Self::UnsupportedResourceType { arn, resource_type } => {
                write!(f, "'{arn}' names a {resource_type}, not a cacert or cert")
            }
            Self::MalformedCertificateId { arn, certificate_id } => {
                write!(f, "'{arn}' has the id '{certificate_id}', not 64 hex digits")
            }
            Self::OutOfScope { arn, field, found, expected } => {
                write!(f, "'{arn}' is in {field} {found}, not the caller's {expected}")
            }
            Self::NotFound { arn } => write!(f, "the account holds no resource {arn}"),
        }
    }
}

/// A stored CA certificate, its tags or the account's registration code refuse an operation.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LifecycleError {
    /// DeleteCACertificate on an ACTIVE CA (CertificateStateException).
    CaCertificateActive {
        /// The CA's id.
        certificate_id: String,
    },
    /// UpdateCACertificate with removeAutoRegistration and a registrationConfig.
    RemoveAutoRegistrationWithConfig,
    /// DeleteRegistrationCode when the account has none.
    NoRegistrationCode,
    /// TagResource would leave the resource with more tags than allowed.
    TagLimit {
        /// How many it would have.
        count: usize,
        /// The bound.
        max: usize,
    },
}

impl fmt::Display for LifecycleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::CaCertificateActive { certificate_id } => {
                write!(f, "CA certificate {certificate_id} is ACTIVE and must be deactivated before it is deleted")
            }
            Self::RemoveAutoRegistrationWithConfig => {
                f.write_str("removeAutoRegistration and registrationConfig cannot be given together")
            }
            Self::NoRegistrationCode => f.write_str("the account has no registration code"),
            Self::TagLimit { count, max } => write!(f, "the resource would have {count} tags, more than {max}"),
        }
    }
}

/// A thing, thing type, thing group or policy, or an attachment between them, refuses the
/// operation (rules 10.1–10.2).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ThingError {
    /// More attributes than a thing keeps.
    TooManyAttributes {
        /// How many there would be.
        count: usize,
        /// The bound.
        max: usize,
    },
    /// The thing does not exist.
    ThingNotFound {
        /// Its name.
        thing_name: String,
    },
    /// CreateThing of a name that exists with another configuration.
    ThingExists {
        /// Its name.
        thing_name: String,
        /// Its ARN.
        thing_arn: String,
    },
    /// expectedVersion is not the thing's version.
    VersionConflict {
        /// The thing.
        thing_name: String,
        /// The version the request expected.
        expected: i64,
        /// The thing's version.
        actual: i64,
    },
    /// DeleteThing of a thing with principals attached.
    PrincipalsAttached {
        /// The thing.
        thing_name: String,
        /// How many are attached.
        count: usize,
    },
    /// UpdateThing with both thingTypeName and removeThingType.
    TypeAndRemoveType,
    /// The thing type does not exist.
    ThingTypeNotFound {
        /// Its name.
        thing_type_name: String,
    },
    /// CreateThingType of a name that exists.
    ThingTypeExists {
        /// Its name.
        thing_type_name: String,
        /// Its ARN.
        thing_type_arn: String,
    },
    /// The thing group does not exist.
    ThingGroupNotFound {
        /// Its name.
        thing_group_name: String,
    },
    /// CreateThingGroup of a name that exists with another configuration.
    ThingGroupExists {
        /// Its name.
        thing_group_name: String,
        /// Its ARN.
        thing_group_arn: String,
    },
    /// A billing group: none exists here (billing groups are not kept).
    BillingGroupNotFound {
        /// Its name.
        billing_group_name: String,
    },
    /// A thing or thing group named both by name and by ARN, or by neither.
    NameOrArn {
        /// The resource kind (`thing`, `thingGroup`).
        member: &'static str,
    },
    /// The policy does not exist.
    PolicyNotFound {
        /// Its name.
        policy_name: String,
    },
    /// CreatePolicy of a name that exists.
    PolicyExists {
        /// Its name.
        policy_name: String,
        /// Its ARN.
        policy_arn: String,
    },
    /// DeletePolicy of a policy attached to targets.
    PolicyAttached {
        /// The policy.
        policy_name: String,
        /// How many targets.
        targets: usize,
    },
    /// AttachPolicy past the policies one target may have.
    PolicyLimit {
        /// The target.
        target: String,
        /// The bound.
        max: usize,
    },
    /// The policy document breaks AWS IoT's rules.
    MalformedPolicy {
        /// What is wrong.
        problem: PolicyDocumentProblem,
    },
}

impl fmt::Display for ThingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooManyAttributes { count, max } => {
                write!(f, "{count} attributes, more than the {max} a thing keeps")
            }
            Self::ThingNotFound { thing_name } => write!(f, "the thing {thing_name} does not exist"),
            Self::ThingExists { thing_name, .. } => {
                write!(f, "the thing {thing_name} exists with another configuration")
            }
            Self::VersionConflict { thing_name, expected, actual } => {
                write!(f, "the thing {thing_name} is at version {actual}, not the expected {expected}")
            }
            Self::PrincipalsAttached { thing_name, count } => {
                write!(f, "the thing {thing_name} has {count} principals attached: detach them first")
            }
            Self::TypeAndRemoveType => f.write_str("thingTypeName and removeThingType cannot be given together"),
            Self::ThingTypeNotFound { thing_type_name } => write!(f, "the thing type {thing_type_name} does not exist"),
            Self::ThingTypeExists { thing_type_name, .. } => write!(f, "the thing type {thing_type_name} exists"),
            Self::ThingGroupNotFound { thing_group_name } => {
                write!(f, "the thing group {thing_group_name} does not exist")
            }
            Self::ThingGroupExists { thing_group_name, .. } => {
                write!(f, "the thing group {thing_group_name} exists with another configuration")
            }
            Self::BillingGroupNotFound { billing_group_name } => {
                write!(f, "the billing group {billing_group_name} does not exist")
            }
            Self::NameOrArn { member } => write!(f, "give exactly one of {member}Name and {member}Arn"),
            Self::PolicyNotFound { policy_name } => write!(f, "the policy {policy_name} does not exist"),
            Self::PolicyExists { policy_name, .. } => write!(f, "the policy {policy_name} exists"),
            Self::PolicyAttached { policy_name, targets } => {
                write!(f, "the policy {policy_name} is attached to {targets} targets: detach it first")
            }
            Self::PolicyLimit { target, max } => write!(f, "{target} has {max} policies attached, the most it may"),
            Self::MalformedPolicy { problem } => problem.fmt(f),
        }
    }
}

/// A provisioning template refuses: a fault of its body (with the path in the body where it
/// stands), of the parameters it is applied with, or of what it would provision (rule 11.2).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct TemplateError {
    /// Where in the body (`Resources.thing.Properties.ThingName`); empty for the whole body.
    pub path: String,
    /// What is wrong there.
    pub problem: TemplateProblem,
}

impl TemplateError {
    pub(crate) fn at(path: &str, problem: TemplateProblem) -> Self {
        Self { path: path.chars().take(512).collect(), problem }
    }
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "template: {}", self.problem)
        } else {
            write!(f, "template: {}: {}", self.path, self.problem)
        }
    }
}

/// What is wrong with a template at a path.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TemplateProblem {
    /// The body, or a string a function builds, is longer than allowed.
    TooLong {
        /// The bound, in characters.
        max: usize,
    },
    /// The body is not JSON.
    NotJson,
    /// A value of the wrong type.
    WrongType {
        /// What it must be.
        expected: &'static str,
    },
    /// A key the template format does not have.
    UnknownKey,
    /// A required key is absent.
    Missing,
    /// Nested deeper than allowed.
    TooDeep {
        /// The bound.
        max: usize,
    },
    /// An `Fn::` function that templates do not have.
    UnknownFunction,
    /// A function's arguments are not of its shape.
    FunctionArguments,
    /// A parameter whose Type is not `String`.
    ParameterType,
    /// A nested object in DeviceConfiguration.
    Nested,
    /// A second thing or certificate resource.
    Duplicate,
    /// A property this implementation does not provision.
    Unsupported,
    /// Not exactly one of CertificateId, CertificatePem and CertificateSigningRequest (and
    /// CACertificatePem only with CertificatePem).
    CertificateForm,
    /// A JITP or fleet provisioning template naming its certificate otherwise than by
    /// CertificateId.
    CertificateIdOnly,
    /// More policies than one template may attach.
    TooManyPolicies {
        /// The bound.
        max: usize,
    },
    /// Not exactly one of PolicyName and PolicyDocument.
    PolicyForm,
    /// A resource type other than a thing, a certificate or a policy.
    UnknownResourceType {
        /// The type found.
        found: String,
    },
    /// An OverrideSettings value that is not allowed there.
    OverrideValue {
        /// The value found.
        value: String,
    },
    /// A Ref (or `${}`) to a parameter the template does not declare.
    UndeclaredParameter {
        /// Its name.
        name: String,
    },
    /// A parameter with no value given and no Default.
    MissingParameter {
        /// Its name.
        name: String,
    },
    /// A list longer than allowed.
    TooMany {
        /// The bound.
        max: usize,
    },
    /// Fn::Select past the end of its list.
    IndexOutOfRange {
        /// The index.
        index: usize,
        /// The list's length.
        len: usize,
    },
    /// Fn::FindInMap keys that Mappings does not have.
    NotInMappings {
        /// The three keys, joined with dots.
        keys: String,
    },
    /// An evaluated value outside its resource's rules.
    Value {
        /// The rule's sentence.
        reason: String,
    },
    /// The resource exists and its OverrideSettings say FAIL.
    Conflict {
        /// What exists (`thing t1`).
        resource: String,
    },
}

impl fmt::Display for TemplateProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLong { max } => write!(f, "longer than {max} characters"),
            Self::NotJson => f.write_str("the body is not JSON"),
            Self::WrongType { expected } => write!(f, "must be {expected}"),
            Self::UnknownKey => f.write_str("is not a key provisioning templates have"),
            Self::Missing => f.write_str("is required"),
            Self::TooDeep { max } => write!(f, "nested deeper than {max} levels"),
            Self::UnknownFunction => {
                f.write_str("is not a function templates have (Ref, Fn::Join, Fn::Select, Fn::Split, Fn::FindInMap, Fn::Sub)")
            }
            Self::FunctionArguments => f.write_str("has arguments that are not of the function's shape"),
            Self::ParameterType => f.write_str("must be String"),
            Self::Nested => f.write_str("is a nested object; DeviceConfiguration holds flat values"),
            Self::Duplicate => f.write_str("is a second resource of its type; a template provisions one"),
            Self::Unsupported => f.write_str("is not provisioned by this implementation"),
            Self::CertificateForm => f.write_str(
                "must give exactly one of CertificateId, CertificatePem (with CACertificatePem) and CertificateSigningRequest",
            ),
            Self::CertificateIdOnly => {
                f.write_str("must name the certificate by CertificateId in a JITP or fleet provisioning template")
            }
            Self::TooManyPolicies { max } => write!(f, "is policy number {}, more than {max}", max + 1),
            Self::PolicyForm => f.write_str("must give exactly one of PolicyName and PolicyDocument"),
            Self::UnknownResourceType { found } => {
                write!(f, "{found} is not AWS::IoT::Thing, AWS::IoT::Certificate or AWS::IoT::Policy")
            }
            Self::OverrideValue { value } => write!(f, "{value} is not an override setting allowed here"),
            Self::UndeclaredParameter { name } => write!(f, "refers to {name}, which Parameters does not declare"),
            Self::MissingParameter { name } => write!(f, "parameter {name} has no value and no Default"),
            Self::TooMany { max } => write!(f, "a list of more than {max} items"),
            Self::IndexOutOfRange { index, len } => write!(f, "index {index} is past the end of a list of {len}"),
            Self::NotInMappings { keys } => write!(f, "Mappings has no {keys}"),
            Self::Value { reason } => f.write_str(reason),
            Self::Conflict { resource } => write!(f, "{resource} exists and its OverrideSettings say FAIL"),
        }
    }
}

/// A provisioning template's life, its versions, or fleet provisioning refuses (rules 11.1,
/// 12.3).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProvisioningError {
    /// CreateProvisioningTemplate of a name that exists.
    TemplateExists {
        /// Its name.
        template_name: String,
        /// Its ARN.
        template_arn: String,
    },
    /// A pre-provisioning hook on a JITP template (hooks are fleet provisioning's).
    HookOnJitp,
    /// UpdateProvisioningTemplate with both preProvisioningHook and removePreProvisioningHook.
    HookAndRemoveHook,
    /// A version the template does not have.
    VersionNotFound {
        /// The template.
        template_name: String,
        /// The version.
        version: u32,
    },
    /// A sixth version.
    VersionsLimit {
        /// The template.
        template_name: String,
        /// The bound.
        max: usize,
    },
    /// DeleteProvisioningTemplateVersion of the default version.
    DefaultVersion {
        /// The template.
        template_name: String,
        /// The version.
        version: u32,
    },
    /// DeleteProvisioningTemplate of a template a CA's registrationConfig names.
    TemplateInUse {
        /// The template.
        template_name: String,
        /// How many CAs name it.
        cas: usize,
    },
    /// Fleet provisioning's certificate ownership token is refused.
    OwnershipToken {
        /// Why.
        problem: TokenProblem,
    },
    /// The pre-provisioning hook did not allow the provisioning.
    HookRefused {
        /// The hook's target ARN.
        target_arn: String,
        /// Why (the hook's answer, its failure, or no mapping for the target).
        reason: String,
    },
    /// A fleet provisioning request on a connection made with a provisioning claim that has
    /// expired since.
    ClaimExpired {
        /// The claim's notAfter.
        expired_at: crate::x509::time::UnixTime,
    },
    /// RegisterThing of another template than the one the connection's claim was issued for.
    ClaimTemplate {
        /// The claim's template.
        claim_template: String,
        /// The template asked for.
        template_name: String,
    },
}

impl fmt::Display for ProvisioningError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TemplateExists { template_name, .. } => write!(f, "the provisioning template {template_name} exists"),
            Self::HookOnJitp => f.write_str("a JITP template cannot have a pre-provisioning hook"),
            Self::HookAndRemoveHook => {
                f.write_str("preProvisioningHook and removePreProvisioningHook cannot be given together")
            }
            Self::VersionNotFound { template_name, version } => {
                write!(f, "the provisioning template {template_name} has no version {version}")
            }
            Self::VersionsLimit { template_name, max } => {
                write!(f, "the provisioning template {template_name} has {max} versions, the most it may; delete one")
            }
            Self::DefaultVersion { template_name, version } => {
                write!(f, "version {version} is the default of the provisioning template {template_name}")
            }
            Self::TemplateInUse { template_name, cas } => {
                write!(f, "the provisioning template {template_name} is named by {cas} CA registrationConfigs")
            }
            Self::OwnershipToken { problem } => problem.fmt(f),
            Self::HookRefused { target_arn, reason } => {
                write!(f, "the pre-provisioning hook {target_arn} did not allow provisioning: {reason}")
            }
            Self::ClaimExpired { expired_at } => {
                write!(f, "the provisioning claim this connection was made with expired at {expired_at}")
            }
            Self::ClaimTemplate { claim_template, template_name } => write!(
                f,
                "the provisioning claim this connection was made with is for the template {claim_template}, \
                 not {template_name}"
            ),
        }
    }
}
