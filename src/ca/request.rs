//! The RegisterCACertificate request (rule 1.1), with its members already in their types.

use crate::model::enums::CertificateMode;
use crate::model::registration_config::RegistrationConfig;
use crate::model::tags::Tags;

/// A RegisterCACertificate request. The certificate fields are PEM text, checked by
/// [`crate::check`]; every other constrained member is a type whose constructor enforces its
/// rule ([`Tags`], [`RegistrationConfig`], [`CertificateMode`]).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RegisterCaCertificateRequest {
    /// `caCertificate`: the CA certificate, PEM.
    pub(crate) ca_certificate: String,
    /// `verificationCertificate`: the proof of possession, PEM (DEFAULT mode only).
    pub(crate) verification_certificate: Option<String>,
    /// `setAsActive` (default false).
    pub(crate) set_as_active: bool,
    /// `allowAutoRegistration` (default false).
    pub(crate) allow_auto_registration: bool,
    /// `registrationConfig`.
    pub(crate) registration_config: Option<RegistrationConfig>,
    /// `tags`.
    pub(crate) tags: Tags,
    /// `certificateMode` (default DEFAULT).
    pub(crate) certificate_mode: CertificateMode,
}

impl RegisterCaCertificateRequest {
    /// A copy without the two PEM fields, which `check` has read and `admit` does not: what a
    /// [`CheckedRegistration`](crate::CheckedRegistration) keeps. (Copying the PEM text was a
    /// third of what `admit` adds to a registration.) Every member is named, so a new one
    /// cannot be forgotten.
    pub(crate) fn without_certificates(&self) -> Self {
        let Self {
            ca_certificate: _,
            verification_certificate: _,
            set_as_active,
            allow_auto_registration,
            registration_config,
            tags,
            certificate_mode,
        } = self;
        Self {
            ca_certificate: String::new(),
            verification_certificate: None,
            set_as_active: *set_as_active,
            allow_auto_registration: *allow_auto_registration,
            registration_config: registration_config.clone(),
            tags: tags.clone(),
            certificate_mode: *certificate_mode,
        }
    }

    /// `caCertificate`: the CA certificate, PEM.
    #[must_use]
    pub fn ca_certificate(&self) -> &str {
        &self.ca_certificate
    }

    /// `verificationCertificate`: the proof of possession, PEM (DEFAULT mode only).
    #[must_use]
    pub fn verification_certificate(&self) -> Option<&str> {
        self.verification_certificate.as_deref()
    }

    /// `setAsActive` (default false).
    #[must_use]
    pub const fn set_as_active(&self) -> bool {
        self.set_as_active
    }

    /// `allowAutoRegistration` (default false).
    #[must_use]
    pub const fn allow_auto_registration(&self) -> bool {
        self.allow_auto_registration
    }

    /// `registrationConfig`.
    #[must_use]
    pub const fn registration_config(&self) -> Option<&RegistrationConfig> {
        self.registration_config.as_ref()
    }

    /// `tags`.
    #[must_use]
    pub const fn tags(&self) -> &Tags {
        &self.tags
    }

    /// `certificateMode` (default DEFAULT).
    #[must_use]
    pub const fn certificate_mode(&self) -> CertificateMode {
        self.certificate_mode
    }

    /// A request for `ca_certificate` with every optional member at its default.
    #[must_use]
    pub fn new(ca_certificate: impl Into<String>) -> Self {
        Self {
            ca_certificate: ca_certificate.into(),
            verification_certificate: None,
            set_as_active: false,
            allow_auto_registration: false,
            registration_config: None,
            tags: Tags::empty(),
            certificate_mode: CertificateMode::Default,
        }
    }

    /// Adds `verificationCertificate`.
    #[must_use]
    pub fn with_verification_certificate(mut self, pem: impl Into<String>) -> Self {
        self.verification_certificate = Some(pem.into());
        self
    }

    /// Sets `setAsActive`.
    #[must_use]
    pub fn with_set_as_active(mut self, active: bool) -> Self {
        self.set_as_active = active;
        self
    }

    /// Sets `allowAutoRegistration`.
    #[must_use]
    pub fn with_allow_auto_registration(mut self, allow: bool) -> Self {
        self.allow_auto_registration = allow;
        self
    }

    /// Sets `registrationConfig`.
    #[must_use]
    pub fn with_registration_config(mut self, config: RegistrationConfig) -> Self {
        self.registration_config = Some(config);
        self
    }

    /// Sets `tags`.
    #[must_use]
    pub fn with_tags(mut self, tags: Tags) -> Self {
        self.tags = tags;
        self
    }

    /// Sets `certificateMode`.
    #[must_use]
    pub fn with_certificate_mode(mut self, mode: CertificateMode) -> Self {
        self.certificate_mode = mode;
        self
    }
}
