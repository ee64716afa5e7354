//! Fleet provisioning over MQTT (AWS IoT Developer Guide, "Device provisioning MQTT API"): a
//! PUBLISH to `$aws/certificates/create/{json,cbor}`,
//! `$aws/certificates/create-from-csr/{json,cbor}` or
//! `$aws/provisioning-templates/<name>/provision/{json,cbor}` is answered on `<topic>/accepted`
//! or `<topic>/rejected`, to the requesting connection only (the session delivers through its
//! own subscriptions: a device that publishes before subscribing gets nothing, as on AWS).
//!
//! - **CreateKeysAndCertificate / CreateCertificateFromCsr**: the device issuer signs a
//!   certificate (a new RSA-2048 key, or the CSR's key), stored PENDING_ACTIVATION with an
//!   ownership token that answers for one hour (`iot_ca::seal_ownership_token`).
//! - **RegisterThing**: the token opened (its certificate, account, region and hour), the
//!   template checked (exists, FLEET_PROVISIONING, enabled), its pre-provisioning hook asked
//!   (`--pre-provisioning-hook`), the template bound to the device's parameters and the hook's
//!   overrides; then in one transaction the token used (a token works once), the facts read,
//!   the plan made and applied: the thing, its groups, the policies, the attachments and the
//!   certificate's status, all of them or none.
//!
//! A connection made with a provisioning claim may run its own template only, while the claim
//! lives (`iot_ca::check_fleet_caller`). Every refusal is `{statusCode, errorCode,
//! errorMessage}` from the library's one mapping (`iot_ca::Error::rejection`), and is logged
//! with the request's certificate and reason. Certificates nobody provisioned are deleted by
//! [`sweeper`] after their token expires.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use iot_ca::wire::{self, FleetRequest};
use iot_ca::{
    AccountScope, CertificateId, CertificateStatus, ClaimRecord, ProvisioningError, TemplateName, TokenProblem,
    UnixTime,
};
use serde_json::{Value, json};

use super::Endpoint;
use crate::error::ApiError;
use crate::service::issuers;
use crate::store::{Store, fleet, ops, provisioning};

/// An answer to deliver to the requesting connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    /// The topic (`<request topic>/accepted` or `/rejected`).
    pub topic: String,
    /// The payload: JSON, or CBOR on the `/cbor` topics.
    pub payload: Vec<u8>,
}

/// Who asks: the connection's account, its certificate and client id.
#[derive(Clone, Copy, Debug)]
pub struct Requester<'a> {
    /// The connection's account and region.
    pub scope: &'a AccountScope,
    /// The certificate the connection was made with (a claim, or a registered certificate).
    pub certificate_id: &'a CertificateId,
    /// The MQTT client id (the hook's `clientId`).
    pub client_id: &'a str,
}

/// Why a request is refused: the library's (with its MQTT codes) or the server's.
enum Refusal {
    Library(iot_ca::Error),
    Server(ApiError),
}

impl From<iot_ca::Error> for Refusal {
    fn from(e: iot_ca::Error) -> Self {
        Self::Library(e)
    }
}

impl From<ApiError> for Refusal {
    fn from(e: ApiError) -> Self {
        Self::Server(e)
    }
}

impl From<ProvisioningError> for Refusal {
    fn from(e: ProvisioningError) -> Self {
        Self::Library(e.into())
    }
}

impl Refusal {
    fn value(&self) -> Value {
        match self {
            Self::Library(e) => wire::rejection_to_value(&e.rejection()),
            Self::Server(e) => json!({ "statusCode": e.status, "errorCode": e.name, "errorMessage": e.message }),
        }
    }
}

fn now() -> UnixTime {
    UnixTime::from_system_time(SystemTime::now())
}

fn token_refused(problem: TokenProblem) -> Refusal {
    ProvisioningError::OwnershipToken { problem }.into()
}

/// Answers one fleet provisioning request: `payload` published to `topic` by `who`.
pub async fn handle<S: Store>(endpoint: &Endpoint<S>, who: Requester<'_>, topic: &str, payload: &[u8]) -> Vec<Answer> {
    let Some((request, format)) = wire::fleet_request_topic(topic) else { return Vec::new() };
    let answered = match wire::fleet_payload_to_value(format, payload) {
        Ok(value) => answer(endpoint, who, &request, &value).await,
        Err(e) => Err(e.into()),
    };
    let (level, value) = match answered {
        Ok(value) => ("accepted", value),
        Err(refusal) => {
            let value = refusal.value();
            tracing::info!(
                certificate_id = %who.certificate_id,
                account = %who.scope.account(),
                topic,
                error_code = %value["errorCode"].as_str().unwrap_or("-"),
                reason = %value["errorMessage"].as_str().unwrap_or("-"),
                "fleet provisioning refused"
            );
            ("rejected", value)
        }
    };
    vec![Answer { topic: format!("{topic}/{level}"), payload: wire::fleet_value_to_payload(format, &value) }]
}

async fn answer<S: Store>(
    endpoint: &Endpoint<S>,
    who: Requester<'_>,
    request: &FleetRequest,
    value: &Value,
) -> Result<Value, Refusal> {
    let at = now();
    let claim = connection_claim(endpoint, who).await?;
    match request {
        FleetRequest::CreateKeysAndCertificate => {
            wire::create_keys_request_from_value(value)?;
            iot_ca::check_fleet_caller(claim.as_ref(), None, at)?;
            let (issued, token) = issue(endpoint, who.scope, None, at).await?;
            Ok(wire::create_keys_accepted(&issued, &token))
        }
        FleetRequest::CreateCertificateFromCsr => {
            let csr = wire::create_from_csr_request_from_value(value)?;
            iot_ca::check_fleet_caller(claim.as_ref(), None, at)?;
            let (issued, token) = issue(endpoint, who.scope, Some(csr), at).await?;
            Ok(wire::create_from_csr_accepted(&issued, &token))
        }
        FleetRequest::RegisterThing(name) => {
            let (token, parameters) = wire::register_thing_fleet_request_from_value(value)?;
            iot_ca::check_fleet_caller(claim.as_ref(), Some(name), at)?;
            register_thing(endpoint, who, name, &token, parameters, at).await
        }
        _ => Err(ApiError::invalid_request("This fleet provisioning request is not served.").into()),
    }
}

/// The claim the connection was made with, if its certificate is one this account issued.
async fn connection_claim<S: Store>(
    endpoint: &Endpoint<S>,
    who: Requester<'_>,
) -> Result<Option<ClaimRecord>, Refusal> {
    let (region, id) = (who.scope.region().clone(), who.certificate_id.clone());
    let found = endpoint.store.lookup(move |tx| fleet::claim(tx, &region, &id)).await?;
    Ok(found.filter(|(account, _)| account == who.scope.account()).map(|(_, claim)| claim))
}

/// A certificate from the device issuer, PENDING_ACTIVATION, stored with its token's row.
async fn issue<S: Store>(
    endpoint: &Endpoint<S>,
    scope: &AccountScope,
    csr: Option<String>,
    at: UnixTime,
) -> Result<(iot_ca::IssuedCertificate, String), Refusal> {
    let status = CertificateStatus::PendingActivation;
    let issued =
        issuers::issue_device_certificate(&endpoint.store, scope, &endpoint.config.service, csr, status, at).await?;
    let expires = iot_ca::ownership_token_expiry(at)?;
    let token =
        iot_ca::seal_ownership_token(endpoint.store.marker_key(), scope, &issued.description.certificate_id, expires);
    let (scope, description) = (scope.clone(), issued.description.clone());
    endpoint.store.write(move |tx| fleet::insert_fleet_certificate(tx, &scope, &description, expires)).await?;
    Ok((issued, token))
}

async fn register_thing<S: Store>(
    endpoint: &Endpoint<S>,
    who: Requester<'_>,
    name: &TemplateName,
    token: &str,
    parameters: iot_ca::TemplateParameters,
    at: UnixTime,
) -> Result<Value, Refusal> {
    let scope = who.scope.clone();
    let (certificate_id, _) = iot_ca::open_ownership_token(endpoint.store.marker_key(), &scope, token, at)?;
    let (read, looked_up, id) = (scope.clone(), name.clone(), certificate_id.clone());
    let (stored, certificate) = endpoint
        .store
        .lookup(move |tx| {
            Ok((provisioning::template_with_body(tx, &read, &looked_up)?, ops::certificate(tx, &read, &id)?))
        })
        .await?;
    // The template is checked before its hook is asked: a missing, disabled or JITP template
    // calls nothing.
    iot_ca::check_claim_template(name, stored.as_ref().map(|(t, _)| t.facts()))?;
    let certificate = certificate.ok_or_else(|| token_refused(TokenProblem::Used))?;
    let overrides = match stored.as_ref().and_then(|(t, _)| t.pre_provisioning_hook.as_ref()) {
        None => iot_ca::TemplateParameters::default(),
        Some(hook) => {
            let input = json!({
                "claimCertificateId": who.certificate_id.as_str(),
                "certificateId": certificate_id.as_str(),
                "certificatePem": certificate.certificate_pem,
                "templateArn": stored.as_ref().map(|(t, _)| t.template_arn.as_str()),
                "clientId": who.client_id,
                "parameters": wire::template_parameters_to_json(&parameters),
            });
            endpoint.config.service.hooks.ask(&hook.target_arn, &input).await?
        }
    };
    let bound = iot_ca::bind_fleet_template(
        name,
        stored.as_ref().map(|(t, body)| (t, body.as_str())),
        &parameters,
        &overrides,
        &certificate_id,
    )?;
    let plan = endpoint
        .store
        .write(move |tx| {
            // The token is used in the transaction that provisions: of two RegisterThing with
            // one token, one provisions and the other is told the token was used.
            if !fleet::take_token(tx, &scope, &certificate_id)? {
                return Ok(Err(token_refused(TokenProblem::Used)));
            }
            let Some(certificate) = ops::certificate(tx, &scope, &certificate_id)? else {
                return Ok(Err(token_refused(TokenProblem::Used)));
            };
            let facts = provisioning::plan_facts(tx, &scope, &bound, Some(certificate), true)?;
            // A plan refused (a FAIL override, a missing thing type, …) is an error of the
            // transaction: nothing of it is kept, the token included, so the device may retry.
            let plan = iot_ca::plan(&bound, &facts, &scope, &mut rand::rng(), at)?;
            provisioning::apply(tx, &scope, &plan.writes, None)?;
            Ok(Ok(plan))
        })
        .await??;
    Ok(wire::register_thing_accepted(&plan))
}

/// How often [`sweeper`] runs, and how many tokens one run looks at at most.
const SWEEP_EVERY: Duration = Duration::from_secs(60);
const SWEEP_BATCH: u32 = 500;

/// Deletes, every minute, the certificates made over MQTT that nobody provisioned before their
/// ownership token expired (`iot_ca::sweeps`), on every store the endpoint serves; each process
/// sweeping the same store finds the rows the others have not taken yet.
pub async fn sweeper<S: Store>(endpoint: Arc<Endpoint<S>>) {
    let mut every = tokio::time::interval(SWEEP_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        loop {
            let at = now();
            match endpoint.store.write(move |tx| fleet::sweep(tx, at, SWEEP_BATCH)).await {
                Ok((looked, deleted)) => {
                    if deleted > 0 {
                        tracing::info!(deleted, "fleet provisioning: certificates nobody provisioned deleted");
                    }
                    if looked < SWEEP_BATCH as usize {
                        break;
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "fleet provisioning sweep failed; next in a minute");
                    break;
                }
            }
        }
    }
}
