//! A CA certificate the account registered, as the caller's store knows it: the fact that
//! RegisterCertificate and a device's connection are decided against.

use crate::ca::verification::verify_possession;
use crate::error::{CaError, CertificateError, Error, VerificationError};
use crate::model::certificate_id::CertificateId;
use crate::model::description::CaCertificateDescription;
use crate::model::enums::CertificateMode;
use crate::model::enums::{AutoRegistrationStatus, CaStatus};
use crate::model::registration_config::RegistrationConfig;
use crate::x509::backend::Backend;
use crate::x509::cert::ParsedCertificate;
use crate::x509::key::{PublicKey, verify_strong};
use crate::x509::pem;
use crate::x509::time::UnixTime;

/// A registered CA certificate with what its registration says: status, auto-registration,
/// mode and registrationConfig.
///
/// Build one from the stored description ([`RegisteredCa::from_description`]) or from the
/// certificate and its status ([`RegisteredCa::from_pem`]); the optional parts default to
/// auto-registration DISABLE, mode DEFAULT and no registrationConfig.
#[derive(Clone, Debug)]
pub struct RegisteredCa {
    cert: ParsedCertificate,
    key: PublicKey,
    id: CertificateId,
    status: CaStatus,
    auto_registration_status: AutoRegistrationStatus,
    certificate_mode: CertificateMode,
    registration_config: Option<RegistrationConfig>,
}

impl RegisteredCa {
    /// A registered CA from its PEM (RFC 7468, strict DER) and its status.
    ///
    /// # Errors
    /// [`CaError::Pem`], [`CaError::Parse`] or [`CaError::Key`] when the stored certificate is
    /// not one a registration could have admitted.
    pub fn from_pem(pem_text: &str, status: CaStatus) -> Result<Self, Error> {
        let der = pem::decode_certificate(pem_text).map_err(CaError::Pem)?;
        Self::from_der(der, status)
    }

    /// A registered CA from its DER and its status.
    ///
    /// # Errors
    /// As [`RegisteredCa::from_pem`].
    pub fn from_der(der: Vec<u8>, status: CaStatus) -> Result<Self, Error> {
        let cert = ParsedCertificate::from_der(der).map_err(CaError::Parse)?;
        let key = PublicKey::from_spki_der(cert.spki_der()).map_err(CaError::Key)?;
        let id = CertificateId::of_der(cert.der());
        Ok(Self {
            cert,
            key,
            id,
            status,
            auto_registration_status: AutoRegistrationStatus::Disable,
            certificate_mode: CertificateMode::Default,
            registration_config: None,
        })
    }

    /// The CA as its stored description (DescribeCACertificate's shape) says.
    ///
    /// # Errors
    /// As [`RegisteredCa::from_pem`].
    pub fn from_description(description: &CaCertificateDescription) -> Result<Self, Error> {
        let mut ca = Self::from_pem(&description.certificate_pem, description.status)?
            .with_auto_registration_status(description.auto_registration_status)
            .with_certificate_mode(description.certificate_mode);
        ca.registration_config.clone_from(&description.registration_config);
        Ok(ca)
    }

    /// Sets `autoRegistrationStatus` (default DISABLE).
    #[must_use]
    pub fn with_auto_registration_status(mut self, status: AutoRegistrationStatus) -> Self {
        self.auto_registration_status = status;
        self
    }

    /// Sets `certificateMode` (default DEFAULT).
    #[must_use]
    pub fn with_certificate_mode(mut self, mode: CertificateMode) -> Self {
        self.certificate_mode = mode;
        self
    }

    /// Sets `registrationConfig` (default none).
    #[must_use]
    pub fn with_registration_config(mut self, config: RegistrationConfig) -> Self {
        self.registration_config = Some(config);
        self
    }

    /// Its certificateId.
    #[must_use]
    pub fn certificate_id(&self) -> &CertificateId {
        &self.id
    }

    /// Its subject Name's DER: the issuer a device certificate it signed carries.
    #[must_use]
    pub fn subject_der(&self) -> &[u8] {
        self.cert.subject_der()
    }

    /// Its status.
    #[must_use]
    pub fn status(&self) -> CaStatus {
        self.status
    }

    /// Its autoRegistrationStatus.
    #[must_use]
    pub fn auto_registration_status(&self) -> AutoRegistrationStatus {
        self.auto_registration_status
    }

    /// Its certificateMode.
    #[must_use]
    pub fn certificate_mode(&self) -> CertificateMode {
        self.certificate_mode
    }

    /// Its registrationConfig.
    #[must_use]
    pub fn registration_config(&self) -> Option<&RegistrationConfig> {
        self.registration_config.as_ref()
    }

    /// `cert` names this CA as its issuer (byte-equal Names) and carries a signature by this
    /// CA's key from the strong set without SHA-1, whatever the validity of either (RFC 5280
    /// §6.1.3 (a)(1) and (a)(2)): who signed a certificate, before anything is decided about it.
    pub(crate) fn signature_verifies(&self, backend: Backend, cert: &ParsedCertificate) -> bool {
        cert.issuer_der() == self.subject_der()
            && verify_strong(backend, &self.key, cert.signature_algorithm_der(), cert.tbs_der(), cert.signature())
                .is_ok()
    }

    /// `cert` names this CA as its issuer (byte-equal Names) and carries a signature by this
    /// CA's key from the strong set without SHA-1: the same check as the proof of possession
    /// (RFC 5280 §6.1.3 (a)(1) and (a)(4)). `now` is a time at which `cert` was already found
    /// valid.
    pub(crate) fn signed(
        &self,
        backend: Backend,
        cert: &ParsedCertificate,
        now: UnixTime,
    ) -> Result<(), CertificateError> {
        verify_possession(backend, self.subject_der(), &self.key, cert, now).map_err(|e| match e {
            VerificationError::IssuerMismatch => CertificateError::IssuerMismatch,
            VerificationError::Signature(s) => CertificateError::Signature(s),
            VerificationError::Validity(v) => CertificateError::Validity(v),
            VerificationError::Pem(p) => CertificateError::Pem(p),
            VerificationError::Parse(p) => CertificateError::Parse(p),
        })
    }
}
