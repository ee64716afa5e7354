//! What AWS IoT decides when a device connects with an X.509 certificate, as a pure decision:
//! connect, refuse, just-in-time registration (JITR) or just-in-time provisioning (JITP)
//! (README table "A device connects", rules 8.1–8.5; AWS IoT Developer Guide, "Just-in-time registration"
//! and "Just-in-time provisioning").
//!
//! Two phases, like a registration: [`Connection::from_pem`] parses what the device presented
//! and says what to look up (its certificateId, its issuer); [`decide_connect`] takes the
//! [`ConnectFacts`] and returns a [`ConnectDecision`].

use core::fmt;

use rand_core::CryptoRng;
use serde_json::json;

use crate::device::certificate::{CertificateDescription, DeviceCertificate, Registered};
use crate::device::jitp::{TemplateParameters, template_parameters};
use crate::device::registered_ca::RegisteredCa;
use crate::error::{CertificateError, Error, TemplateError, TemplateProblem};
use crate::model::certificate_id::CertificateId;
use crate::model::enums::{AutoRegistrationStatus, CaStatus, CertificateMode, CertificateStatus, TemplateType};
use crate::model::policy::Policy;
use crate::model::registration_config::{RegistrationConfig, TemplateBody};
use crate::model::scope::{AccountId, AccountScope};
use crate::model::template::TemplateName;
use crate::provisioning::fleet::ClaimRecord;
use crate::provisioning::template::{BoundTemplate, ProvisioningTemplate};
use crate::x509::cert::ParsedCertificate;
use crate::x509::pem;
use crate::x509::time::UnixTime;

/// Most certificates a presented chain may hold, the device's included (our rule: a device
/// presents its certificate and at most a few CA certificates).
pub const MAX_CHAIN_CERTIFICATES: usize = 8;

/// The MQTT topic prefix of the JITR event; the CA's certificateId follows.
pub const REGISTERED_EVENT_TOPIC_PREFIX: &str = "$aws/events/certificates/registered/";

/// What a device presented in its TLS handshake: its certificate first, then any CA
/// certificates, and whether it sent the Server Name Indication extension.
#[derive(Clone, Debug)]
pub struct Connection {
    device: ParsedCertificate,
    device_id: CertificateId,
    presented_cas: Vec<CertificateId>,
    sni: bool,
    policy: Policy,
}

impl Connection {
    /// Parses a chain of `CERTIFICATE` PEM blocks (RFC 7468), the device certificate first;
    /// each must be one strictly DER-encoded certificate. No SNI until [`Connection::with_sni`].
    ///
    /// # Errors
    /// [`CertificateError::ChainPem`], [`CertificateError::ChainParse`] or
    /// [`CertificateError::ChainTooLong`]: a malformed chain, refused before any decision.
    pub fn from_pem(chain: &str) -> Result<Self, Error> {
        let ders = pem::decode_certificates(chain, MAX_CHAIN_CERTIFICATES)
            .map_err(|(index, error)| CertificateError::ChainPem { index, error })?;
        Self::from_der(ders)
    }

    /// The chain as DER certificates, the device certificate first.
    ///
    /// # Errors
    /// As [`Connection::from_pem`].
    pub fn from_der(chain: Vec<Vec<u8>>) -> Result<Self, Error> {
        if chain.len() > MAX_CHAIN_CERTIFICATES {
            return Err(CertificateError::ChainTooLong { count: chain.len(), max: MAX_CHAIN_CERTIFICATES }.into());
        }
        let mut certs = chain.into_iter().enumerate().map(|(index, der)| {
            ParsedCertificate::from_der(der).map_err(|error| CertificateError::ChainParse { index, error })
        });
        let device = certs
            .next()
            .ok_or(CertificateError::ChainPem { index: 0, error: crate::x509::pem::PemError::NoBlock })??;
        let presented_cas = certs.map(|c| c.map(|c| CertificateId::of_der(c.der()))).collect::<Result<_, _>>()?;
        let device_id = CertificateId::of_der(device.der());
        Ok(Self { device, device_id, presented_cas, sni: false, policy: Policy::default() })
    }

    /// Whether the device sent SNI.
    #[must_use]
    pub fn with_sni(mut self, sni: bool) -> Self {
        self.sni = sni;
        self
    }

    /// The policy whose backend verifies signatures (default [`Policy::default`]).
    #[must_use]
    pub fn with_policy(mut self, policy: Policy) -> Self {
        self.policy = policy;
        self
    }

    /// The device certificate's certificateId: look up the account's record of it.
    #[must_use]
    pub fn certificate_id(&self) -> &CertificateId {
        &self.device_id
    }

    /// The device certificate's issuer Name (DER): look up the account's registered CAs with
    /// this subject.
    #[must_use]
    pub fn issuer_der(&self) -> &[u8] {
        self.device.issuer_der()
    }

    /// The device certificate.
    #[must_use]
    pub fn certificate(&self) -> &ParsedCertificate {
        &self.device
    }

    /// Whether the device sent SNI.
    #[must_use]
    pub fn sni(&self) -> bool {
        self.sni
    }

    /// Whether `ca` signed the device certificate: its subject is the certificate's issuer,
    /// byte for byte, and its key verifies the certificate's signature (the strong set without
    /// SHA-1, this connection's policy's backend). Validity is not looked at: that is
    /// [`decide_connect`]'s. A caller that keeps several registries (accounts) asks this of
    /// each registry's CAs with the device's issuer as subject, to find the registries the
    /// device belongs to before deciding against one of them.
    #[must_use]
    pub fn is_signed_by(&self, ca: &RegisteredCa) -> bool {
        ca.signature_verifies(self.policy.backend(), &self.device)
    }

    fn presents(&self, ca: &CertificateId) -> bool {
        self.presented_cas.contains(ca)
    }
}

/// The account's record of a device certificate, as far as a connection needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertificateRecord {
    status: CertificateStatus,
    creation_date: UnixTime,
    ca_certificate_id: Option<CertificateId>,
}

impl CertificateRecord {
    /// A record with `status`, registered at `creation_date`.
    #[must_use]
    pub fn new(status: CertificateStatus, creation_date: UnixTime) -> Self {
        Self { status, creation_date, ca_certificate_id: None }
    }

    /// The CA it was registered under.
    #[must_use]
    pub fn with_ca_certificate_id(mut self, id: CertificateId) -> Self {
        self.ca_certificate_id = Some(id);
        self
    }

    /// Its status.
    #[must_use]
    pub fn status(&self) -> CertificateStatus {
        self.status
    }
}

impl From<&CertificateDescription> for CertificateRecord {
    fn from(d: &CertificateDescription) -> Self {
        Self { status: d.status, creation_date: d.creation_date, ca_certificate_id: d.ca_certificate_id.clone() }
    }
}

/// What the caller's store knows, looked up from a [`Connection`].
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct ConnectFacts {
    record: Option<CertificateRecord>,
    cas: Vec<RegisteredCa>,
    template_body: Option<TemplateBody>,
    claim: Option<ClaimRecord>,
}

impl ConnectFacts {
    /// Nothing known: the certificate is not registered and no CA matches.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// The account's record of the device certificate.
    #[must_use]
    pub fn with_record(mut self, record: CertificateRecord) -> Self {
        self.record = Some(record);
        self
    }

    /// A registered CA whose subject is the device certificate's issuer (call once per CA);
    /// the decision keeps the one whose key made the signature.
    #[must_use]
    pub fn with_ca(mut self, ca: RegisteredCa) -> Self {
        self.cas.push(ca);
        self
    }

    /// The body of the JITP template the signing CA's registrationConfig names.
    #[must_use]
    pub fn with_template_body(mut self, body: TemplateBody) -> Self {
        self.template_body = Some(body);
        self
    }

    /// The account issued the device certificate as a provisioning claim
    /// (CreateProvisioningClaim): it connects unregistered until the claim expires.
    #[must_use]
    pub fn with_claim(mut self, claim: ClaimRecord) -> Self {
        self.claim = Some(claim);
        self
    }
}

/// Why a connection is refused.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RefuseReason {
    /// The certificate is registered with a status other than ACTIVE.
    CertificateStatus {
        /// Its status.
        status: CertificateStatus,
    },
    /// The certificate is not registered and fails the device-certificate rules (not valid at
    /// `now`, key or signature algorithm outside the policy).
    Certificate(CertificateError),
    /// The certificate is not registered and no registered CA of the account signed it.
    NoRegisteredCa,
    /// The signing CA is INACTIVE.
    CaInactive,
    /// The signing CA's autoRegistrationStatus is DISABLE.
    AutoRegistrationDisabled,
    /// JITR under a DEFAULT-mode CA needs the CA certificate in the presented chain.
    CaCertificateNotPresented,
    /// JITP, or a CA in SNI_ONLY mode, needs the device to send SNI.
    SniRequired,
    /// The CA's registrationConfig names a template whose body the caller did not supply.
    TemplateNotFound {
        /// The template name.
        template_name: TemplateName,
    },
    /// The template declares a parameter that neither the certificate nor a `Default` provides.
    TemplateParameterMissing {
        /// The parameter name.
        name: String,
    },
    /// The template is not one the engine runs, or cannot be bound to the certificate's
    /// parameters.
    Template(TemplateError),
    /// The certificate is a provisioning claim that has expired.
    ClaimExpired {
        /// The claim's notAfter.
        expired_at: UnixTime,
    },
}

impl fmt::Display for RefuseReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::CertificateStatus { status } => write!(f, "the certificate is registered with status {status}"),
            Self::Certificate(e) => write!(f, "the certificate is not registered and {e}"),
            Self::NoRegisteredCa => f.write_str("the certificate is not registered and no registered CA signed it"),
            Self::CaInactive => f.write_str("the CA that signed the certificate is INACTIVE"),
            Self::AutoRegistrationDisabled => {
                f.write_str("the CA that signed the certificate does not allow auto-registration")
            }
            Self::CaCertificateNotPresented => f.write_str(
                "just-in-time registration under a DEFAULT-mode CA needs the CA certificate in the presented chain",
            ),
            Self::SniRequired => f.write_str("the device did not send SNI, which this CA's registration needs"),
            Self::TemplateNotFound { template_name } => {
                write!(f, "the provisioning template {template_name} was not supplied")
            }
            Self::TemplateParameterMissing { name } => {
                write!(f, "the template parameter {name} has no value in the certificate and no Default")
            }
            Self::Template(e) => e.fmt(f),
            Self::ClaimExpired { expired_at } => write!(f, "the provisioning claim expired at {expired_at}"),
        }
    }
}

/// The MQTT message AWS IoT publishes when just-in-time registration registers a certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegisteredEvent {
    certificate_id: CertificateId,
    ca_certificate_id: CertificateId,
    account: AccountId,
    timestamp: UnixTime,
    registered_at: UnixTime,
}

impl RegisteredEvent {
    /// `$aws/events/certificates/registered/<caCertificateId>`.
    #[must_use]
    pub fn topic(&self) -> String {
        format!("{REGISTERED_EVENT_TOPIC_PREFIX}{}", self.ca_certificate_id)
    }

    /// The JSON payload: certificateId, caCertificateId, timestamp, certificateStatus
    /// (PENDING_ACTIVATION), awsAccountId, certificateRegistrationTimestamp; times in Unix
    /// milliseconds.
    #[must_use]
    pub fn payload(&self) -> String {
        json!({
            "certificateId": self.certificate_id.as_str(),
            "caCertificateId": self.ca_certificate_id.as_str(),
            "timestamp": unix_millis(self.timestamp),
            "certificateStatus": CertificateStatus::PendingActivation.as_str(),
            "awsAccountId": self.account.as_str(),
            "certificateRegistrationTimestamp": unix_millis(self.registered_at),
        })
        .to_string()
    }

    /// The registered CA's certificateId.
    #[must_use]
    pub fn ca_certificate_id(&self) -> &CertificateId {
        &self.ca_certificate_id
    }
}

fn unix_millis(t: UnixTime) -> i64 {
    t.as_secs().saturating_mul(1000)
}

/// What happens to a connection.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConnectDecision {
    /// The certificate is registered and ACTIVE.
    Connect {
        /// The device certificate.
        certificate_id: CertificateId,
    },
    /// The connection is refused.
    Refuse {
        /// The device certificate.
        certificate_id: CertificateId,
        /// The CA involved, when one is known.
        ca_certificate_id: Option<CertificateId>,
        /// Why.
        reason: RefuseReason,
        /// A certificate pending activation is announced again on every attempt.
        event: Option<RegisteredEvent>,
    },
    /// Just-in-time registration: store `record` (PENDING_ACTIVATION), publish `event`, and
    /// refuse this connection.
    Jitr {
        /// What to store.
        record: CertificateDescription,
        /// What to publish.
        event: RegisteredEvent,
    },
    /// Just-in-time provisioning: store `record` and apply the plan of `template` (bound to
    /// `parameters`) in one transaction ([`plan`](crate::plan) with the record as a new
    /// certificate: the template's Status activates it), and refuse this connection; the next
    /// one connects.
    Jitp {
        /// What to store: PENDING_ACTIVATION when the template has a certificate resource (its
        /// plan sets the status), else ACTIVE.
        record: CertificateDescription,
        /// The template parameters.
        parameters: TemplateParameters,
        /// The JITP template, bound.
        template: Box<BoundTemplate>,
    },
}

impl ConnectDecision {
    /// `CONNECT`, `REFUSE`, `JITR` or `JITP`.
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            Self::Connect { .. } => "CONNECT",
            Self::Refuse { .. } => "REFUSE",
            Self::Jitr { .. } => "JITR",
            Self::Jitp { .. } => "JITP",
        }
    }

    /// The device certificate's id.
    #[must_use]
    pub fn certificate_id(&self) -> &CertificateId {
        match self {
            Self::Connect { certificate_id } | Self::Refuse { certificate_id, .. } => certificate_id,
            Self::Jitr { record, .. } | Self::Jitp { record, .. } => &record.certificate_id,
        }
    }

    /// The CA involved, when one is known.
    #[must_use]
    pub fn ca_certificate_id(&self) -> Option<&CertificateId> {
        match self {
            Self::Connect { .. } => None,
            Self::Refuse { ca_certificate_id, .. } => ca_certificate_id.as_ref(),
            Self::Jitr { record, .. } | Self::Jitp { record, .. } => record.ca_certificate_id.as_ref(),
        }
    }
}

/// Decides a connection (AWS IoT Developer Guide, JITR and JITP):
///
/// 1. A registered certificate connects when ACTIVE; PENDING_ACTIVATION is refused with the
///    registration event again; any other status is refused. A provisioning claim the account
///    issued connects until it expires.
/// 2. An unregistered one is refused when it breaks the device-certificate rules at `now`,
///    when no registered CA in `facts` signed it, or when that CA is INACTIVE or does not
///    allow auto-registration.
/// 3. Without a registrationConfig on the CA, JITR: a DEFAULT-mode CA needs its certificate in
///    the chain, an SNI_ONLY one needs SNI; the certificate is registered PENDING_ACTIVATION in
///    the CA's mode and the event is published.
/// 4. With one, JITP: SNI is needed; the template parameters come from the certificate's
///    subject, its id and the template's defaults; the certificate is registered ACTIVE.
///
/// `rng` draws the generationId of a new record.
pub fn decide_connect<R: CryptoRng + ?Sized>(
    connection: &Connection,
    facts: &ConnectFacts,
    scope: &AccountScope,
    rng: &mut R,
    now: UnixTime,
) -> ConnectDecision {
    let certificate_id = connection.certificate_id().clone();
    let refuse = |ca: Option<&RegisteredCa>, reason| ConnectDecision::Refuse {
        certificate_id: certificate_id.clone(),
        ca_certificate_id: ca.map(|c| c.certificate_id().clone()),
        reason,
        event: None,
    };
    if let Some(record) = &facts.record {
        return match record.status {
            CertificateStatus::Active => ConnectDecision::Connect { certificate_id },
            status => {
                let ca_id = record
                    .ca_certificate_id
                    .clone()
                    .or_else(|| signing_ca(connection, &facts.cas, now).map(|c| c.certificate_id().clone()));
                let event = match (&ca_id, status) {
                    (Some(ca), CertificateStatus::PendingActivation) => Some(RegisteredEvent {
                        certificate_id: certificate_id.clone(),
                        ca_certificate_id: ca.clone(),
                        account: scope.account.clone(),
                        timestamp: now,
                        registered_at: record.creation_date,
                    }),
                    _ => None,
                };
                ConnectDecision::Refuse {
                    certificate_id,
                    ca_certificate_id: ca_id,
                    reason: RefuseReason::CertificateStatus { status },
                    event,
                }
            }
        };
    }
    // A provisioning claim is not registered: it connects while it lives, to get the device
    // its own certificate (fleet provisioning).
    if let Some(claim) = &facts.claim {
        return if claim.is_live(now) {
            ConnectDecision::Connect { certificate_id }
        } else {
            refuse(None, RefuseReason::ClaimExpired { expired_at: claim.expiration })
        };
    }
    let device = match DeviceCertificate::check(connection.device.clone(), now) {
        Ok(device) => device,
        Err(e) => return refuse(None, RefuseReason::Certificate(e)),
    };
    let Some(ca) = signing_ca(connection, &facts.cas, now) else { return refuse(None, RefuseReason::NoRegisteredCa) };
    if ca.status() != CaStatus::Active {
        return refuse(Some(ca), RefuseReason::CaInactive);
    }
    if ca.auto_registration_status() != AutoRegistrationStatus::Enable {
        return refuse(Some(ca), RefuseReason::AutoRegistrationDisabled);
    }
    let registered = |status| Registered {
        ca_certificate_id: Some(ca.certificate_id().clone()),
        status,
        certificate_mode: ca.certificate_mode(),
    };
    match ca.registration_config() {
        None => {
            match ca.certificate_mode() {
                CertificateMode::Default if !connection.presents(ca.certificate_id()) => {
                    return refuse(Some(ca), RefuseReason::CaCertificateNotPresented);
                }
                CertificateMode::SniOnly if !connection.sni => return refuse(Some(ca), RefuseReason::SniRequired),
                _ => {}
            }
            let record = device.record(registered(CertificateStatus::PendingActivation), scope, rng, now);
            let event = RegisteredEvent {
                certificate_id,
                ca_certificate_id: ca.certificate_id().clone(),
                account: scope.account.clone(),
                timestamp: now,
                registered_at: now,
            };
            ConnectDecision::Jitr { record, event }
        }
        Some(config) => {
            if !connection.sni {
                return refuse(Some(ca), RefuseReason::SniRequired);
            }
            let body = match (config, &facts.template_body) {
                (RegistrationConfig::TemplateBody { body, .. }, _) => body,
                (RegistrationConfig::TemplateName(_), Some(body)) => body,
                (RegistrationConfig::TemplateName(name), None) => {
                    return refuse(Some(ca), RefuseReason::TemplateNotFound { template_name: name.clone() });
                }
            };
            let parameters = match template_parameters(device.certificate(), device.id(), body) {
                Ok(parameters) => parameters,
                Err(name) => return refuse(Some(ca), RefuseReason::TemplateParameterMissing { name }),
            };
            let bound = ProvisioningTemplate::parse(body.as_str(), Some(TemplateType::Jitp))
                .and_then(|template| template.bind(&parameters));
            let template = match bound {
                Ok(template) => template,
                Err(Error::Template(e)) => return refuse(Some(ca), RefuseReason::Template(e)),
                Err(other) => {
                    let reason = TemplateProblem::Value { reason: other.to_string() };
                    return refuse(Some(ca), RefuseReason::Template(TemplateError::at("", reason)));
                }
            };
            let status = if template.certificate.is_some() {
                CertificateStatus::PendingActivation
            } else {
                CertificateStatus::Active
            };
            let record = device.record(registered(status), scope, rng, now);
            ConnectDecision::Jitp { record, parameters, template: Box::new(template) }
        }
    }
}

/// The registered CA whose key signed the device certificate: among several (a re-issued CA
/// keeps its subject and may keep its key), the first that is ACTIVE and allows
/// auto-registration, else the first.
fn signing_ca<'a>(connection: &Connection, cas: &'a [RegisteredCa], now: UnixTime) -> Option<&'a RegisteredCa> {
    let backend = connection.policy.backend();
    let mut signers = cas.iter().filter(|ca| ca.signed(backend, &connection.device, now).is_ok()).peekable();
    let first = signers.peek().copied();
    signers
        .find(|ca| ca.status() == CaStatus::Active && ca.auto_registration_status() == AutoRegistrationStatus::Enable)
        .or(first)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::enums::CaStatus;

    /// A CA named `name` with a fresh P-256 key (rcgen), and its key.
    fn ca(name: &str) -> (rcgen::CertificateParams, rcgen::KeyPair, Vec<u8>) {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name.push(rcgen::DnType::CommonName, name);
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params.key_usages = vec![rcgen::KeyUsagePurpose::KeyCertSign];
        let der = params.self_signed(&key).unwrap().der().to_vec();
        (params, key, der)
    }

    /// A device certificate issued by `issuer`, valid from `not_before` (year) to `not_after`.
    fn device(issuer: &(rcgen::CertificateParams, rcgen::KeyPair, Vec<u8>), not_after_year: i32) -> Connection {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(vec!["device".to_owned()]).unwrap();
        params.distinguished_name.push(rcgen::DnType::CommonName, "device");
        params.not_before = rcgen::date_time_ymd(2020, 1, 1);
        params.not_after = rcgen::date_time_ymd(not_after_year, 1, 1);
        let signer = rcgen::Issuer::from_params(&issuer.0, &issuer.1);
        let der = params.signed_by(&key, &signer).unwrap().der().to_vec();
        Connection::from_der(vec![der]).unwrap()
    }

    fn registered(ca: &(rcgen::CertificateParams, rcgen::KeyPair, Vec<u8>)) -> RegisteredCa {
        RegisteredCa::from_der(ca.2.clone(), CaStatus::Active).unwrap()
    }

    #[test]
    fn is_signed_by_needs_the_issuer_name_and_the_key() {
        let root = ca("Fleet Root");
        let connection = device(&root, 2099);
        assert!(connection.is_signed_by(&registered(&root)));
        // Same subject, another key (a re-keyed CA): the signature does not verify.
        assert!(!connection.is_signed_by(&registered(&ca("Fleet Root"))));
        // Another subject: the names differ.
        assert!(!connection.is_signed_by(&registered(&ca("Other Root"))));
    }

    #[test]
    fn is_signed_by_ignores_validity() {
        // Expired in 2021: still signed by the root (the decision refuses it, with its reason).
        let root = ca("Fleet Root");
        assert!(device(&root, 2021).is_signed_by(&registered(&root)));
    }

    /// A claim connects unregistered while it lives, and is refused with its expiry after; a
    /// record of the certificate, were there one, is decided first.
    #[test]
    fn a_claim_connects_until_it_expires() {
        let root = ca("Claim Issuer");
        let connection = device(&root, 2099);
        let scope = AccountScope::new(
            AccountId::parse("123456789012").unwrap(),
            crate::model::scope::Region::parse("us-east-1").unwrap(),
        );
        let expires = UnixTime::from_secs(1_800_000_000);
        let facts = ConnectFacts::new().with_claim(ClaimRecord::new(TemplateName::parse("fleet").unwrap(), expires));
        let mut rng = <chacha20::ChaCha20Rng as rand::SeedableRng>::seed_from_u64(7);
        let decision = decide_connect(&connection, &facts, &scope, &mut rng, expires);
        assert_eq!(decision.name(), "CONNECT");
        let late = decide_connect(&connection, &facts, &scope, &mut rng, expires.checked_add(1).unwrap());
        match late {
            ConnectDecision::Refuse { reason, .. } => {
                assert_eq!(reason, RefuseReason::ClaimExpired { expired_at: expires });
            }
            other => panic!("{other:?}"),
        }
    }
}
