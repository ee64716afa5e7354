//! RegisterCertificate and RegisterCertificateWithoutCA as two pure phases:
//! [`check_certificate`] (or [`check_certificate_without_ca`]) decides what the request alone
//! decides and says what to look up; [`admit_certificate`] weighs the account's registered CAs
//! and holdings (README table "Device certificates", rules 7.1–7.2; AWS IoT API Reference,
//! RegisterCertificate).

use rand_core::CryptoRng;

use crate::device::certificate::{CertificateDescription, DeviceCertificate, Registered, parse_field};
use crate::device::registered_ca::RegisteredCa;
use crate::error::{CertificateError, Error, RegistryError};
use crate::model::certificate_id::CertificateId;
use crate::model::enums::CaStatus;
use crate::model::enums::CertificateMode;
use crate::model::enums::CertificateStatus;
use crate::model::policy::Policy;
use crate::model::scope::AccountScope;
use crate::x509::cert::ParsedCertificate;
use crate::x509::pem;
use crate::x509::time::UnixTime;

/// A RegisterCertificate request (`POST /certificate/register`).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RegisterCertificateRequest {
    certificate_pem: String,
    ca_certificate_pem: Option<String>,
    status: Option<CertificateStatus>,
    set_as_active: bool,
}

impl RegisterCertificateRequest {
    /// A request for the device certificate `certificate_pem`, every optional member absent.
    #[must_use]
    pub fn new(certificate_pem: impl Into<String>) -> Self {
        Self { certificate_pem: certificate_pem.into(), ca_certificate_pem: None, status: None, set_as_active: false }
    }

    /// Adds `caCertificatePem`: the registered CA that signed the certificate.
    #[must_use]
    pub fn with_ca_certificate_pem(mut self, pem: impl Into<String>) -> Self {
        self.ca_certificate_pem = Some(pem.into());
        self
    }

    /// Adds `status` (ACTIVE, INACTIVE or REVOKED; it overrides `setAsActive`).
    #[must_use]
    pub fn with_status(mut self, status: CertificateStatus) -> Self {
        self.status = Some(status);
        self
    }

    /// Sets `setAsActive` (the query parameter; used when `status` is absent).
    #[must_use]
    pub fn with_set_as_active(mut self, active: bool) -> Self {
        self.set_as_active = active;
        self
    }

    /// `certificatePem`.
    #[must_use]
    pub fn certificate_pem(&self) -> &str {
        &self.certificate_pem
    }

    /// `caCertificatePem`.
    #[must_use]
    pub fn ca_certificate_pem(&self) -> Option<&str> {
        self.ca_certificate_pem.as_deref()
    }

    /// `status`.
    #[must_use]
    pub fn status(&self) -> Option<CertificateStatus> {
        self.status
    }

    /// `setAsActive`.
    #[must_use]
    pub fn set_as_active(&self) -> bool {
        self.set_as_active
    }
}

/// A RegisterCertificateWithoutCA request (`POST /certificate/register-no-ca`).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RegisterCertificateWithoutCaRequest {
    certificate_pem: String,
    status: Option<CertificateStatus>,
}

impl RegisterCertificateWithoutCaRequest {
    /// A request for the device certificate `certificate_pem` (status INACTIVE unless set).
    #[must_use]
    pub fn new(certificate_pem: impl Into<String>) -> Self {
        Self { certificate_pem: certificate_pem.into(), status: None }
    }

    /// Adds `status` (ACTIVE, INACTIVE or REVOKED).
    #[must_use]
    pub fn with_status(mut self, status: CertificateStatus) -> Self {
        self.status = Some(status);
        self
    }

    /// `certificatePem`.
    #[must_use]
    pub fn certificate_pem(&self) -> &str {
        &self.certificate_pem
    }

    /// `status`.
    #[must_use]
    pub fn status(&self) -> Option<CertificateStatus> {
        self.status
    }
}

/// Which CA the request points at.
#[derive(Clone, Debug)]
enum CaChoice {
    /// RegisterCertificateWithoutCA.
    None,
    /// RegisterCertificate without caCertificatePem: the account's CAs whose subject is the issuer.
    ByIssuer,
    /// RegisterCertificate with caCertificatePem: this certificateId.
    ById(CertificateId),
}

/// A request that passed every check the request alone decides. It says what the caller must
/// look up before [`admit_certificate`]: whether the account holds [`certificate_id`], and the
/// account's registered CAs with certificateId [`ca_certificate_id`] (when the request names
/// its CA) or else with subject [`issuer_der`].
///
/// [`certificate_id`]: CheckedCertificate::certificate_id
/// [`ca_certificate_id`]: CheckedCertificate::ca_certificate_id
/// [`issuer_der`]: CheckedCertificate::issuer_der
#[derive(Clone, Debug)]
pub struct CheckedCertificate {
    device: DeviceCertificate,
    ca: CaChoice,
    status: CertificateStatus,
    policy: Policy,
    now: UnixTime,
}

impl CheckedCertificate {
    /// The device certificate's certificateId: look up whether the account holds it.
    #[must_use]
    pub fn certificate_id(&self) -> &CertificateId {
        self.device.id()
    }

    /// The device certificate's issuer Name (DER): look up the account's CAs with this subject.
    #[must_use]
    pub fn issuer_der(&self) -> &[u8] {
        self.device.certificate().issuer_der()
    }

    /// The certificateId of `caCertificatePem`, when the request gave one: look up the
    /// account's CA with this id instead of searching by subject.
    #[must_use]
    pub fn ca_certificate_id(&self) -> Option<&CertificateId> {
        match &self.ca {
            CaChoice::ById(id) => Some(id),
            CaChoice::None | CaChoice::ByIssuer => None,
        }
    }

    /// `false` for RegisterCertificateWithoutCA: no CA is to be looked up.
    #[must_use]
    pub fn needs_ca(&self) -> bool {
        !matches!(self.ca, CaChoice::None)
    }

    /// The device certificate, parsed.
    #[must_use]
    pub fn certificate(&self) -> &ParsedCertificate {
        self.device.certificate()
    }

    /// The status the certificate will be registered with.
    #[must_use]
    pub fn status(&self) -> CertificateStatus {
        self.status
    }
}

/// What the caller's store knows, looked up from a [`CheckedCertificate`].
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct CertificateFacts {
    already_registered: bool,
    cas: Vec<RegisteredCa>,
}

impl CertificateFacts {
    /// An account that holds neither the certificate nor a matching CA.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// The account already holds the device certificate (by certificateId).
    #[must_use]
    pub fn with_already_registered(mut self, yes: bool) -> Self {
        self.already_registered = yes;
        self
    }

    /// A registered CA the lookup found (call once per CA).
    #[must_use]
    pub fn with_ca(mut self, ca: RegisteredCa) -> Self {
        self.cas.push(ca);
        self
    }
}

/// An admitted device certificate: the response and the description to store.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct CertificateRegistration {
    /// Response `certificateArn`.
    pub certificate_arn: String,
    /// Response `certificateId`.
    pub certificate_id: CertificateId,
    /// What to store (DescribeCertificate's shape).
    pub description: CertificateDescription,
}

/// Phase one of RegisterCertificate, in AWS's order: (1) the lengths of certificatePem and
/// caCertificatePem, then each one's PEM and DER; (2) status is one a caller may set;
/// (3) the device certificate's own rules (v1 or v3, key policy, strong signature algorithm
/// without SHA-1, valid at `now`).
///
/// # Errors
/// The first failing rule: [`Error::Certificate`] or [`Error::Request`].
pub fn check_certificate(
    request: &RegisterCertificateRequest,
    policy: Policy,
    now: UnixTime,
) -> Result<CheckedCertificate, Error> {
    pem::check_length(&request.certificate_pem).map_err(CertificateError::Pem)?;
    if let Some(ca) = &request.ca_certificate_pem {
        pem::check_length(ca).map_err(CertificateError::CaPem)?;
    }
    let cert = parse_field(&request.certificate_pem, CertificateError::Pem, CertificateError::Parse)?;
    let ca = match &request.ca_certificate_pem {
        Some(text) => {
            let ca = parse_field(text, CertificateError::CaPem, CertificateError::CaParse)?;
            CaChoice::ById(CertificateId::of_der(ca.der()))
        }
        None => CaChoice::ByIssuer,
    };
    let status = status_or_default(request.status, request.set_as_active)?;
    let device = DeviceCertificate::check(cert, now)?;
    Ok(CheckedCertificate { device, ca, status, policy, now })
}

/// Phase one of RegisterCertificateWithoutCA: steps (1) to (3) of [`check_certificate`] for
/// certificatePem alone. Without status the certificate is registered INACTIVE.
///
/// # Errors
/// As [`check_certificate`].
pub fn check_certificate_without_ca(
    request: &RegisterCertificateWithoutCaRequest,
    policy: Policy,
    now: UnixTime,
) -> Result<CheckedCertificate, Error> {
    let cert = parse_field(&request.certificate_pem, CertificateError::Pem, CertificateError::Parse)?;
    let status = status_or_default(request.status, false)?;
    let device = DeviceCertificate::check(cert, now)?;
    Ok(CheckedCertificate { device, ca: CaChoice::None, status, policy, now })
}

fn status_or_default(status: Option<CertificateStatus>, set_as_active: bool) -> Result<CertificateStatus, Error> {
    match status {
        Some(s) => Ok(s.settable("status")?),
        None if set_as_active => Ok(CertificateStatus::Active),
        None => Ok(CertificateStatus::Inactive),
    }
}

/// Phase two: (4) the signing CA among `facts` (by `caCertificatePem`'s id, or the only CA
/// whose subject is the certificate's issuer); (5) its subject is the issuer and its key made
/// the signature; (6) it is ACTIVE; (7) the account does not hold the certificate yet. Then
/// the registration, in the CA's certificateMode (SNI_ONLY without a CA). `rng` draws the
/// generationId.
///
/// # Errors
/// [`CertificateError`] for steps 4 to 6 (CertificateValidationException,
/// CertificateConflictException, CertificateStateException), [`RegistryError::AlreadyExists`]
/// for step 7.
pub fn admit_certificate<R: CryptoRng + ?Sized>(
    candidate: CheckedCertificate,
    facts: &CertificateFacts,
    scope: &AccountScope,
    rng: &mut R,
) -> Result<CertificateRegistration, Error> {
    let registered = match &candidate.ca {
        CaChoice::None => {
            Registered { ca_certificate_id: None, status: candidate.status, certificate_mode: CertificateMode::SniOnly }
        }
        choice => {
            let ca = signing_ca(choice, candidate.issuer_der(), &facts.cas)?;
            ca.signed(candidate.policy.backend(), candidate.certificate(), candidate.now)?;
            if ca.status() != CaStatus::Active {
                return Err(CertificateError::CaNotActive {
                    ca_certificate_id: ca.certificate_id().clone(),
                    status: ca.status(),
                }
                .into());
            }
            Registered {
                ca_certificate_id: Some(ca.certificate_id().clone()),
                status: candidate.status,
                certificate_mode: ca.certificate_mode(),
            }
        }
    };
    let id = candidate.certificate_id().clone();
    if facts.already_registered {
        return Err(RegistryError::AlreadyExists {
            certificate_id: id.as_str().to_owned(),
            certificate_arn: scope.certificate_arn(&id),
        }
        .into());
    }
    let description = candidate.device.record(registered, scope, rng, candidate.now);
    Ok(CertificateRegistration {
        certificate_arn: description.certificate_arn.clone(),
        certificate_id: id,
        description,
    })
}

/// Step 4: the CA the request names, or the one CA whose subject is the issuer.
fn signing_ca<'a>(choice: &CaChoice, issuer: &[u8], cas: &'a [RegisteredCa]) -> Result<&'a RegisteredCa, Error> {
    match choice {
        CaChoice::ById(id) => cas
            .iter()
            .find(|ca| ca.certificate_id() == id)
            .ok_or_else(|| CertificateError::CaNotRegistered { ca_certificate_id: id.clone() }.into()),
        CaChoice::ByIssuer | CaChoice::None => {
            let mut matching = cas.iter().filter(|ca| ca.subject_der() == issuer);
            match (matching.next(), matching.count()) {
                (None, _) => Err(CertificateError::NoCaForIssuer.into()),
                (Some(ca), 0) => Ok(ca),
                (Some(_), more) => Err(CertificateError::CaConflict { count: more + 1 }.into()),
            }
        }
    }
}
