//! Device certificates: their status, what a registration stores (DescribeCertificate's
//! `certificateDescription`), and the rules a device certificate itself must meet before it is
//! registered (README table "Device certificates", rules 7.1–7.2).

use rand_core::CryptoRng;

use crate::error::CertificateError;
use crate::model::certificate_id::CertificateId;
use crate::model::description::{CertificateValidity, generation_id};
use crate::model::enums::{CertificateMode, CertificateStatus};
use crate::model::scope::{AccountId, AccountScope};
use crate::x509::algorithm::{HashAlgorithm, SignatureAlgorithm};
use crate::x509::cert::{ParsedCertificate, Version};
use crate::x509::key::PublicKey;
use crate::x509::pem;
use crate::x509::time::UnixTime;

/// The stored description of a registered device certificate (DescribeCertificate's
/// `certificateDescription`).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct CertificateDescription {
    /// `certificateArn`: `arn:<partition>:iot:<region>:<account>:cert/<certificateId>`.
    pub certificate_arn: String,
    /// `certificateId`: SHA-256 of the DER, lowercase hex.
    pub certificate_id: CertificateId,
    /// `caCertificateId`: the registered CA that signed it (none when registered without a CA).
    pub ca_certificate_id: Option<CertificateId>,
    /// `status`.
    pub status: CertificateStatus,
    /// `certificatePem`: the certificate re-encoded as one canonical PEM block.
    pub certificate_pem: String,
    /// `ownedBy`: the registering account.
    pub owned_by: AccountId,
    /// `creationDate`.
    pub creation_date: UnixTime,
    /// `lastModifiedDate`.
    pub last_modified_date: UnixTime,
    /// `customerVersion`: 1 at registration, one more with each change.
    pub customer_version: u32,
    /// `generationId`: a UUID v4 from the caller's RNG, new with each change.
    pub generation_id: String,
    /// `validity`.
    pub validity: CertificateValidity,
    /// `certificateMode`: the signing CA's mode, or SNI_ONLY without a CA.
    pub certificate_mode: CertificateMode,
}

/// A device certificate that meets the rules every registration path applies: v1 or v3, a key
/// inside the key policy, a signature algorithm from the strong set without SHA-1, valid at
/// `now` (AWS IoT RegisterCertificate; RFC 5280 §4.1.2.1, §4.1.2.5, §4.1.2.7).
#[derive(Clone, Debug)]
pub(crate) struct DeviceCertificate {
    cert: ParsedCertificate,
    id: CertificateId,
}

impl DeviceCertificate {
    /// Applies the device-certificate rules to a parsed certificate, in the order above.
    pub(crate) fn check(cert: ParsedCertificate, now: UnixTime) -> Result<Self, CertificateError> {
        if cert.version() == Version::V2 {
            return Err(CertificateError::Version { version: cert.version() });
        }
        PublicKey::from_spki_der(cert.spki_der()).map_err(CertificateError::Key)?;
        let algorithm = SignatureAlgorithm::from_der(cert.signature_algorithm_der())
            .map_err(CertificateError::SignatureAlgorithm)?;
        if algorithm.hash() == HashAlgorithm::Sha1 {
            return Err(CertificateError::SignatureAlgorithm(crate::x509::algorithm::SignatureError::Sha1NotAllowed));
        }
        cert.check_validity(now).map_err(CertificateError::Validity)?;
        let id = CertificateId::of_der(cert.der());
        Ok(Self { cert, id })
    }

    pub(crate) fn certificate(&self) -> &ParsedCertificate {
        &self.cert
    }

    pub(crate) fn id(&self) -> &CertificateId {
        &self.id
    }

    /// What a registration stores for this certificate (AWS IoT RegisterCertificate's output):
    /// creationDate = lastModifiedDate = `now`, customerVersion 1, a fresh generationId.
    pub(crate) fn record<R: CryptoRng + ?Sized>(
        &self,
        registration: Registered,
        scope: &AccountScope,
        rng: &mut R,
        now: UnixTime,
    ) -> CertificateDescription {
        CertificateDescription {
            certificate_arn: scope.certificate_arn(&self.id),
            certificate_id: self.id.clone(),
            ca_certificate_id: registration.ca_certificate_id,
            status: registration.status,
            certificate_pem: pem::encode_certificate(self.cert.der()),
            owned_by: scope.account.clone(),
            creation_date: now,
            last_modified_date: now,
            customer_version: 1,
            generation_id: generation_id(rng),
            validity: CertificateValidity { not_before: self.cert.not_before(), not_after: self.cert.not_after() },
            certificate_mode: registration.certificate_mode,
        }
    }
}

/// How a device certificate comes to be registered: under which CA, with which status and mode.
#[derive(Clone, Debug)]
pub(crate) struct Registered {
    pub(crate) ca_certificate_id: Option<CertificateId>,
    pub(crate) status: CertificateStatus,
    pub(crate) certificate_mode: CertificateMode,
}

/// Decodes one certificate PEM field and parses its DER (RFC 7468, strict DER), mapping the
/// faults with `pem_err` and `parse_err`.
pub(crate) fn parse_field(
    text: &str,
    pem_err: fn(crate::x509::pem::PemError) -> CertificateError,
    parse_err: fn(crate::x509::tlv::ParseError) -> CertificateError,
) -> Result<ParsedCertificate, CertificateError> {
    let der = pem::decode_certificate(text).map_err(pem_err)?;
    ParsedCertificate::from_der(der).map_err(parse_err)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{Error, RequestError};

    #[test]
    fn statuses_round_trip_and_settable_ones() {
        for text in CertificateStatus::VALUES {
            let s = CertificateStatus::parse(text, "status").unwrap();
            assert_eq!(s.as_str(), *text);
        }
        let settable: Vec<&str> = CertificateStatus::VALUES
            .iter()
            .filter(|t| CertificateStatus::parse(t, "status").is_ok_and(CertificateStatus::is_settable))
            .copied()
            .collect();
        assert_eq!(settable, ["ACTIVE", "INACTIVE", "REVOKED"]);
        assert!(matches!(
            CertificateStatus::parse("active", "newStatus"),
            Err(Error::Request(RequestError::Enum { member: "newStatus", .. }))
        ));
    }
}
