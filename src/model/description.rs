//! What a registration stores: the DescribeCACertificate shape (rule 1.7).

use rand_core::CryptoRng;

use crate::model::certificate_id::CertificateId;
use crate::model::enums::Finding;

use crate::model::enums::{AutoRegistrationStatus, CaStatus, CertificateMode};
use crate::model::registration_config::RegistrationConfig;
use crate::model::scope::AccountId;
use crate::model::tags::Tags;
use crate::x509::time::UnixTime;

/// A fresh generationId: a UUID v4 from the caller's RNG (RFC 9562 §5.4).
pub(crate) fn generation_id<R: CryptoRng + ?Sized>(rng: &mut R) -> String {
    let mut bytes = [0u8; 16];
    rng.fill_bytes(&mut bytes);
    let mut text = [0u8; uuid::fmt::Hyphenated::LENGTH];
    uuid::Builder::from_random_bytes(bytes).into_uuid().hyphenated().encode_lower(&mut text).to_owned()
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
