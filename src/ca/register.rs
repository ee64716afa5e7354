//! RegisterCACertificate as two pure phases (rule 1.6): [`check`] everything the request
//! alone decides, then [`admit`] against what the account already holds.

use rand_core::CryptoRng;

use crate::ca::request::RegisterCaCertificateRequest;
use crate::ca::verified::VerifiedCa;
use crate::error::{CaError, Error, RegistryError, RequestError, VerificationError};
use crate::model::certificate_id::CertificateId;
use crate::model::description::{self, CaCertificateDescription, CertificateValidity};
use crate::model::enums::CertificateMode;
use crate::model::enums::{AutoRegistrationStatus, CaStatus};
use crate::model::policy::Policy;
use crate::model::registration_code::RegistrationCode;
use crate::model::scope::AccountScope;
use crate::model::template::{TemplateFacts, TemplateName};
use crate::x509::pem;
use crate::x509::time::UnixTime;

/// An account may hold at most this many CA certificates with the same subject (rule 1.6).
pub const MAX_CAS_PER_SUBJECT: usize = 10;

/// A request that passed every check the request alone decides (rules 1.1–1.5). It exposes
/// what the caller must look up before [`admit`]: the certificateId, the subject, the mode and
/// the template name.
#[derive(Clone, Debug)]
pub struct CheckedRegistration {
    ca: VerifiedCa,
    request: RegisterCaCertificateRequest,
    now: UnixTime,
}

impl CheckedRegistration {
    /// The certificateId: look up whether this account, or another in DEFAULT mode, holds it.
    #[must_use]
    pub fn certificate_id(&self) -> &CertificateId {
        self.ca.certificate_id()
    }

    /// The subject Name's DER: count the account's CAs with this subject.
    #[must_use]
    pub fn subject_der(&self) -> &[u8] {
        self.ca.certificate().subject_der()
    }

    /// The certificate mode.
    #[must_use]
    pub fn certificate_mode(&self) -> CertificateMode {
        self.request.certificate_mode
    }

    /// The JITP template to look up, if registrationConfig names one.
    #[must_use]
    pub fn template_name(&self) -> Option<&TemplateName> {
        self.request.registration_config.as_ref().and_then(|c| c.template_name())
    }

    /// The CA certificate, checked.
    #[must_use]
    pub fn ca(&self) -> &VerifiedCa {
        &self.ca
    }
}

/// What the caller's database knows, looked up from a [`CheckedRegistration`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct AccountFacts {
    /// This account already holds the certificate (by certificateId).
    pub(crate) already_registered: bool,
    /// How many CAs with the same subject this account holds.
    pub(crate) same_subject_count: usize,
    /// Another account of the region holds the certificate in DEFAULT mode.
    pub(crate) held_by_another_account_in_default_mode: bool,
    /// The template named by registrationConfig.templateName, if the account has one by that name.
    pub(crate) template: Option<TemplateFacts>,
}

impl AccountFacts {
    /// This account already holds the certificate (by certificateId).
    #[must_use]
    pub const fn already_registered(&self) -> bool {
        self.already_registered
    }

    /// How many CAs with the same subject this account holds.
    #[must_use]
    pub const fn same_subject_count(&self) -> usize {
        self.same_subject_count
    }

    /// Another account of the region holds the certificate in DEFAULT mode.
    #[must_use]
    pub const fn held_by_another_account_in_default_mode(&self) -> bool {
        self.held_by_another_account_in_default_mode
    }

    /// The template named by registrationConfig.templateName, if the account has one by that name.
    #[must_use]
    pub const fn template(&self) -> Option<&TemplateFacts> {
        self.template.as_ref()
    }

    /// An account that holds nothing relevant.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets [`AccountFacts::already_registered`].
    #[must_use]
    pub fn with_already_registered(mut self, yes: bool) -> Self {
        self.already_registered = yes;
        self
    }

    /// Sets [`AccountFacts::same_subject_count`].
    #[must_use]
    pub fn with_same_subject_count(mut self, count: usize) -> Self {
        self.same_subject_count = count;
        self
    }

    /// Sets [`AccountFacts::held_by_another_account_in_default_mode`].
    #[must_use]
    pub fn with_held_by_another_account_in_default_mode(mut self, yes: bool) -> Self {
        self.held_by_another_account_in_default_mode = yes;
        self
    }

    /// Sets [`AccountFacts::template`].
    #[must_use]
    pub fn with_template(mut self, template: TemplateFacts) -> Self {
        self.template = Some(template);
        self
    }
}

/// An admitted registration: the response and the description to store.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Registration {
    /// Response `certificateArn`.
    pub certificate_arn: String,
    /// Response `certificateId`.
    pub certificate_id: CertificateId,
    /// What to store (DescribeCACertificate's shape).
    pub description: CaCertificateDescription,
}

/// Phase one: everything the request decides on its own, in rule 1.6b's order: field
/// constraints and the mode/verification pairing, the CA certificate (rules 1.2–1.3), then the
/// verification certificate (rule 1.4, DEFAULT mode only). Tags and registrationConfig were
/// checked when the request was built.
///
/// # Errors
/// The first failing rule, as an [`Error`].
pub fn check(
    request: &RegisterCaCertificateRequest,
    code: &RegistrationCode,
    policy: Policy,
    now: UnixTime,
) -> Result<CheckedRegistration, Error> {
    pem::check_length(&request.ca_certificate).map_err(CaError::Pem)?;
    if let Some(v) = &request.verification_certificate {
        pem::check_length(v).map_err(VerificationError::Pem)?;
    }
    let verification = match (request.certificate_mode, &request.verification_certificate) {
        (CertificateMode::Default, None) => return Err(RequestError::VerificationCertificateRequired.into()),
        (CertificateMode::SniOnly, Some(_)) => {
            return Err(RequestError::VerificationCertificateForbidden.into());
        }
        (_, v) => v.as_deref(),
    };
    let ca = VerifiedCa::from_pem(&request.ca_certificate, now, policy)?;
    if let Some(pem_text) = verification {
        ca.verify_possession(pem_text, code, now)?;
    }
    Ok(CheckedRegistration { ca, request: request.without_certificates(), now })
}

/// Phase two: the account's facts (rule 1.6), then the registration (rule 1.7).
///
/// `rng` draws the description's generationId.
///
/// # Errors
/// [`RegistryError`] for the first fact that refuses the registration.
pub fn admit<R: CryptoRng + ?Sized>(
    candidate: CheckedRegistration,
    facts: &AccountFacts,
    scope: &AccountScope,
    rng: &mut R,
) -> Result<Registration, Error> {
    let id = candidate.certificate_id().clone();
    let arn = scope.ca_certificate_arn(&id);
    if facts.already_registered {
        return Err(
            RegistryError::AlreadyExists { certificate_id: id.as_str().to_owned(), certificate_arn: arn }.into()
        );
    }
    if facts.same_subject_count >= MAX_CAS_PER_SUBJECT {
        return Err(RegistryError::SubjectLimit { count: facts.same_subject_count }.into());
    }
    if candidate.certificate_mode() == CertificateMode::Default && facts.held_by_another_account_in_default_mode {
        return Err(RegistryError::HeldByAnotherAccount.into());
    }
    if let Some(name) = candidate.template_name() {
        name.require_jitp(facts.template)?;
    }
    let generation_id = description::generation_id(rng);
    let CheckedRegistration { ca, request, now } = candidate;
    let cert = ca.certificate();
    let description = CaCertificateDescription {
        certificate_arn: arn.clone(),
        certificate_id: id.clone(),
        status: if request.set_as_active { CaStatus::Active } else { CaStatus::Inactive },
        certificate_pem: pem::encode_certificate(cert.der()),
        owned_by: scope.account.clone(),
        creation_date: now,
        last_modified_date: now,
        customer_version: 1,
        generation_id,
        auto_registration_status: if request.allow_auto_registration {
            AutoRegistrationStatus::Enable
        } else {
            AutoRegistrationStatus::Disable
        },
        validity: CertificateValidity { not_before: cert.not_before(), not_after: cert.not_after() },
        certificate_mode: request.certificate_mode,
        registration_config: request.registration_config,
        tags: request.tags,
        findings: ca.findings().to_vec(),
    };
    Ok(Registration { certificate_arn: arn, certificate_id: id, description })
}
