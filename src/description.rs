//! What a registration stores: the DescribeCACertificate shape (rule 1.7).

use core::fmt;

use rand_core::CryptoRng;

use crate::ca::Finding;
use crate::certificate_id::CertificateId;
use crate::error::{Error, RequestError};
use crate::mode::CertificateMode;
use crate::registration_config::RegistrationConfig;
use crate::scope::AccountId;
use crate::tags::Tags;
use crate::time::UnixTime;

/// A CA certificate's status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CaStatus {
    /// `ACTIVE`.
    Active,
    /// `INACTIVE`.
    Inactive,
}

impl CaStatus {
    /// The values UpdateCACertificate's `newStatus` accepts.
    pub const VALUES: &'static [&'static str] = &["ACTIVE", "INACTIVE"];

    /// Parses the wire value given as `member` (`newStatus`).
    ///
    /// # Errors
    /// [`RequestError::Enum`] for any other string (InvalidRequestException).
    pub fn parse(text: &str, member: &'static str) -> Result<Self, Error> {
        match text {
            "ACTIVE" => Ok(Self::Active),
            "INACTIVE" => Ok(Self::Inactive),
            other => Err(enum_error(member, other, Self::VALUES)),
        }
    }

    /// The wire value.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Active => "ACTIVE",
            Self::Inactive => "INACTIVE",
        }
    }
}

impl fmt::Display for CaStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether devices with certificates from this CA register themselves on first connect.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AutoRegistrationStatus {
    /// `ENABLE`.
    Enable,
    /// `DISABLE`.
    Disable,
}

impl AutoRegistrationStatus {
    /// The values `newAutoRegistrationStatus` accepts.
    pub const VALUES: &'static [&'static str] = &["ENABLE", "DISABLE"];

    /// Parses the wire value given as `member` (`newAutoRegistrationStatus`).
    ///
    /// # Errors
    /// [`RequestError::Enum`] for any other string (InvalidRequestException).
    pub fn parse(text: &str, member: &'static str) -> Result<Self, Error> {
        match text {
            "ENABLE" => Ok(Self::Enable),
            "DISABLE" => Ok(Self::Disable),
            other => Err(enum_error(member, other, Self::VALUES)),
        }
    }

    /// The wire value.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Enable => "ENABLE",
            Self::Disable => "DISABLE",
        }
    }
}

impl fmt::Display for AutoRegistrationStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

fn enum_error(member: &'static str, value: &str, allowed: &'static [&'static str]) -> Error {
    RequestError::Enum { member, value: value.chars().take(256).collect(), allowed }.into()
}

/// A fresh generationId: a UUID v4 from the caller's RNG (RFC 9562 §5.4).
pub(crate) fn generation_id<R: CryptoRng + ?Sized>(rng: &mut R) -> String {
    let mut bytes = [0u8; 16];
    rng.fill_bytes(&mut bytes);
    uuid::Builder::from_random_bytes(bytes).into_uuid().to_string()
}

/// The validity window of a certificate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct CertificateValidity {
    /// notBefore.
    pub not_before: UnixTime,
    /// notAfter.
    pub not_after: UnixTime,
}

/// The stored description of a registered CA certificate (DescribeCACertificate's
/// `certificateDescription`, plus `registrationConfig`, the tags and the findings).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct CaCertificateDescription {
    /// `certificateArn`.
    pub certificate_arn: String,
    /// `certificateId`.
    pub certificate_id: CertificateId,
    /// `status`: ACTIVE when setAsActive, else INACTIVE.
    pub status: CaStatus,
    /// `certificatePem`: the certificate re-encoded as one canonical PEM block.
    pub certificate_pem: String,
    /// `ownedBy`: the registering account.
    pub owned_by: AccountId,
    /// `creationDate`.
    pub creation_date: UnixTime,
    /// `lastModifiedDate` (equal to creationDate at registration).
    pub last_modified_date: UnixTime,
    /// `customerVersion`: 1 at registration.
    pub customer_version: u32,
    /// `generationId`: a UUID v4 from the caller's RNG.
    pub generation_id: String,
    /// `autoRegistrationStatus`.
    pub auto_registration_status: AutoRegistrationStatus,
    /// `validity`.
    pub validity: CertificateValidity,
    /// `certificateMode`.
    pub certificate_mode: CertificateMode,
    /// `registrationConfig`, as given.
    pub registration_config: Option<RegistrationConfig>,
    /// The tags, as given.
    pub tags: Tags,
    /// The findings of rule 1.3.
    pub findings: Vec<Finding>,
}
