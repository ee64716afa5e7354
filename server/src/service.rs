//! The operations: each decodes its REST pieces with `iot_ca::wire`, decides with the library's
//! pure functions (CPU-heavy steps on blocking threads), and keeps what the store must keep.

use std::sync::Arc;
use std::time::SystemTime;

use iot_ca::wire::{self, TimeFormat};
use iot_ca::{
    AccountScope, CertificateFacts, ClaimParams, CreationKey, KeyAlgorithm, Keyed, ListQuery, Page, Policy,
    RegisteredCa, RegistrationCode, TemplateName, UnixTime,
};
use serde_json::{Value, json};
use tokio::sync::Semaphore;

use crate::error::ApiError;

pub mod issuers;
mod registry;
mod templates;

use crate::hook::Hooks;
use crate::route::{Operation, Route};
use crate::store::ops::IssuerKind;
use crate::store::{CaLookup, IssuerRecord, Keyset, Store, fleet, ops, provisioning};
use issuers::Issuer;

const TIMES: TimeFormat = TimeFormat::EpochSeconds;

/// The server's clock, read here.
fn now() -> UnixTime {
    UnixTime::from_system_time(SystemTime::now())
}

/// Runs CPU work (certificate checks, signatures) off the async workers.
pub async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f).await.map_err(ApiError::internal)
}

/// Heavy operations that may wait for a worker by default: 64, about the request deadline's
/// worth of RSA-2048 key generations on one core, and more than 50 devices provisioning at once.
pub const DEFAULT_HEAVY_QUEUE: usize = 64;

/// The gate of the operations that cost milliseconds of CPU each (key generation and the
/// signatures of a certificate made for the caller): `workers` run at once, `queue` more wait,
/// and one past that is 429 ThrottlingException (AWS's answer to too many requests, which the
/// SDKs retry), so that a flood of them leaves the async workers a core for cheap reads
/// (200 concurrent CreateProvisioningClaim once took DescribeCACertificate from 1.6 ms to 381 ms).
#[derive(Clone, Debug)]
pub struct Heavy {
    admitted: Arc<Semaphore>,
    running: Arc<Semaphore>,
}

impl Heavy {
    /// `workers` at once (at least one), `queue` waiting.
    #[must_use]
    pub fn new(workers: usize, queue: usize) -> Self {
        let workers = workers.max(1);
        Self { admitted: Arc::new(Semaphore::new(workers + queue)), running: Arc::new(Semaphore::new(workers)) }
    }

    /// One worker fewer than the machine's cores (at least one, so the async workers keep a
    /// core), and `queue` waiting.
    #[must_use]
    pub fn for_this_machine(queue: usize) -> Self {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        Self::new(cores - 1, queue)
    }

    /// Runs `f` on a blocking thread when a worker is free.
    ///
    /// # Errors
    /// 429 ThrottlingException when the queue is full.
    pub async fn run<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> Result<T, ApiError> {
        let Ok(_admitted) = Arc::clone(&self.admitted).try_acquire_owned() else {
            return Err(ApiError::throttled());
        };
        let _running = self.running.acquire().await.map_err(ApiError::internal)?;
        blocking(f).await
    }
}

impl Default for Heavy {
    fn default() -> Self {
        Self::for_this_machine(DEFAULT_HEAVY_QUEUE)
    }
}

fn text(body: &[u8]) -> Result<&str, ApiError> {
    Ok(wire::request_document(body)?)
}

/// A page of `rows` (the page plus one) for `query`, sealed for `listing`.
fn page<'a, T: Keyed>(
    rows: &'a [T],
    query: &ListQuery,
    key: &iot_ca::MarkerKey,
    listing: &iot_ca::Listing,
) -> Page<&'a T> {
    Page::from_rows(rows.iter().collect(), query, key, listing)
}

fn keyset(query: &ListQuery, after: Option<CreationKey>) -> Keyset {
    Keyset { after, order: query.order(), limit: u32::from(query.page_size().get()) + 1 }
}

/// What the operations are configured with at start.
#[derive(Clone, Debug, Default)]
pub struct ServiceConfig {
    /// The claim issuer given at start (`--claim-issuer`), if any; without it each (account,
    /// region) gets its own, made on first use and stored.
    pub claim_issuer: Option<IssuerRecord>,
    /// The device issuer given at start (`--device-issuer`), if any; without it each (account,
    /// region) gets its own, made on first use and stored.
    pub device_issuer: Option<IssuerRecord>,
    /// The device endpoint's address, as DescribeEndpoint answers it.
    pub endpoint_address: String,
    /// The pre-provisioning hooks fleet provisioning may call (`--pre-provisioning-hook`).
    pub hooks: Hooks,
    /// The gate of key generation and issuing.
    pub heavy: Heavy,
}

/// One routed, authenticated request.
#[derive(Debug)]
pub struct Call<'a> {
    /// The operation and its path parameter.
    pub route: Route,
    /// The caller's account, region and partition.
    pub scope: AccountScope,
    /// The raw query string.
    pub query: &'a str,
    /// The body.
    pub body: &'a [u8],
    /// The `x-amzn-principal` header, for the operations that take one.
    pub principal: Option<&'a str>,
}

/// Serves one routed, authenticated request.
///
/// # Errors
/// The operation's error, in AWS's shape.
pub async fn handle<S: Store>(store: &S, call: Call<'_>, config: &ServiceConfig) -> Result<Value, ApiError> {
    let Call { route: Route { operation, param }, scope, query, body, principal } = call;
    match operation {
        Operation::GetRegistrationCode => {
            let read = scope.clone();
            let code = match store.lookup(move |tx| ops::registration_code(tx, &read)).await? {
                Some(code) => code,
                None => {
                    let fresh = RegistrationCode::generate(&mut rand::rng());
                    store.write(move |tx| ops::registration_code_or_insert(tx, &scope, &fresh)).await?
                }
            };
            Ok(wire::registration_code_to_json(&code))
        }
        Operation::DeleteRegistrationCode => {
            if !store.write(move |tx| ops::delete_registration_code(tx, &scope)).await? {
                iot_ca::delete_registration_code(None)?;
            }
            Ok(json!({}))
        }
        Operation::RegisterCaCertificate => register_ca(store, scope, query, body).await,
        Operation::DescribeCaCertificate => {
            let id = wire::ca_certificate_id_from_path(&param)?;
            let (read, looked_up) = (scope.clone(), id.clone());
            let stored = store.lookup(move |tx| ops::ca(tx, &read, &looked_up)).await?;
            let d = iot_ca::describe_ca_certificate(&id, stored.as_ref(), &scope)?;
            Ok(wire::describe_ca_certificate_response_to_json(d, TIMES))
        }
        Operation::UpdateCaCertificate => {
            let request = wire::update_ca_certificate_request_from_rest(&param, query, text(body)?)?;
            let id = request.certificate_id().clone();
            let template = request.template_name().cloned();
            let at = now();
            store
                .write(move |tx| {
                    ops::update_ca(tx, &scope, &id, template.as_ref(), |stored, facts| {
                        Ok(iot_ca::update_ca_certificate(
                            &request,
                            stored.as_ref(),
                            facts,
                            &scope,
                            &mut rand::rng(),
                            at,
                        )?)
                    })
                })
                .await?;
            Ok(json!({}))
        }
        Operation::DeleteCaCertificate => {
            let id = wire::ca_certificate_id_from_path(&param)?;
            store
                .write(move |tx| {
                    ops::delete_ca(tx, &scope, &id, |stored| {
                        Ok(iot_ca::delete_ca_certificate(&id, stored.as_ref(), &scope)?)
                    })
                })
                .await?;
            Ok(json!({}))
        }
        Operation::ListCaCertificates => {
            let query = wire::list_ca_certificates_query_from_rest(query)?;
            let listing = iot_ca::ca_certificates_listing(&query, &scope);
            let after = query.after::<CreationKey>(store.marker_key(), &listing)?;
            let (read, template, keyset) = (scope.clone(), query.template_name().cloned(), keyset(&query, after));
            let rows = store.read(move |tx| ops::list_cas(tx, &read, template.as_ref(), &keyset)).await?;
            let page = page(&rows, &query, store.marker_key(), &listing);
            Ok(wire::list_ca_certificates_response_to_json(&page, TIMES))
        }
        Operation::RegisterCertificate => {
            let request = wire::register_certificate_request_from_rest(query, text(body)?)?;
            let at = now();
            let candidate = blocking(move || iot_ca::check_certificate(&request, Policy::default(), at)).await??;
            register_certificate(store, scope, candidate).await
        }
        Operation::RegisterCertificateWithoutCa => {
            let request = wire::register_certificate_without_ca_request_from_json(text(body)?)?;
            let at = now();
            let candidate =
                blocking(move || iot_ca::check_certificate_without_ca(&request, Policy::default(), at)).await??;
            register_certificate(store, scope, candidate).await
        }
        Operation::DescribeCertificate => {
            let id = wire::certificate_id_from_path(&param)?;
            let looked_up = id.clone();
            let stored = store.lookup(move |tx| ops::certificate(tx, &scope, &looked_up)).await?;
            let d = iot_ca::describe_certificate(&id, stored)?;
            Ok(wire::describe_certificate_response_to_json(&d, TIMES))
        }
        Operation::UpdateCertificate => {
            let request = wire::update_certificate_request_from_rest(&param, query)?;
            let at = now();
            store
                .write(move |tx| {
                    ops::update_certificate(tx, &scope, &request.certificate_id().clone(), |stored| {
                        Ok(iot_ca::update_certificate(&request, stored, &mut rand::rng(), at)?)
                    })
                })
                .await?;
            Ok(json!({}))
        }
        Operation::DeleteCertificate => {
            let request = wire::delete_certificate_request_from_rest(&param, query)?;
            store
                .write(move |tx| {
                    ops::delete_certificate(tx, &scope, &request.certificate_id().clone(), |status, attached| {
                        Ok(iot_ca::delete_certificate(&request, status, attached)?)
                    })
                })
                .await?;
            Ok(json!({}))
        }
        Operation::ListCertificates | Operation::ListCertificatesByCa => {
            let (ca, query) = if operation == Operation::ListCertificatesByCa {
                let (id, q) = wire::list_certificates_by_ca_request_from_rest(&param, query)?;
                (Some(id), q)
            } else {
                (None, wire::list_certificates_query_from_rest(query)?)
            };
            let listing = iot_ca::certificates_listing(ca.as_ref(), &scope);
            let after = query.after::<CreationKey>(store.marker_key(), &listing)?;
            let (read, keyset) = (scope.clone(), keyset(&query, after));
            let rows = store.read(move |tx| ops::list_certificates(tx, &read, ca.as_ref(), &keyset)).await?;
            let page = page(&rows, &query, store.marker_key(), &listing);
            Ok(wire::list_certificates_response_to_json(&page, TIMES))
        }
        Operation::TagResource => {
            let request = wire::tag_resource_request_from_json(text(body)?, &scope)?;
            store
                .write(move |tx| {
                    ops::update_tags(tx, &scope, &request.resource_arn, |current| {
                        Ok(iot_ca::tag_resource(&request, current.as_ref())?)
                    })
                })
                .await?;
            Ok(json!({}))
        }
        Operation::UntagResource => {
            let request = wire::untag_resource_request_from_json(text(body)?, &scope)?;
            store
                .write(move |tx| {
                    ops::update_tags(tx, &scope, &request.resource_arn, |current| {
                        Ok(iot_ca::untag_resource(&request, current.as_ref())?)
                    })
                })
                .await?;
            Ok(json!({}))
        }
        Operation::ListTagsForResource => {
            let request = wire::list_tags_for_resource_request_from_rest(query, &scope)?;
            let (read, arn) = (scope.clone(), request.resource_arn.clone());
            let tags = store.lookup(move |tx| ops::tags(tx, &read, &arn)).await?;
            let page = iot_ca::list_tags_for_resource(&request, tags.as_ref(), &scope, store.marker_key())?;
            Ok(wire::list_tags_for_resource_response_to_json(&page))
        }
        Operation::CreateProvisioningClaim => create_claim(store, scope, &param, config).await,
        Operation::CreateThing
        | Operation::DescribeThing
        | Operation::UpdateThing
        | Operation::DeleteThing
        | Operation::ListThings
        | Operation::CreateThingType
        | Operation::DescribeThingType
        | Operation::CreateThingGroup
        | Operation::DescribeThingGroup
        | Operation::AddThingToThingGroup
        | Operation::CreatePolicy
        | Operation::GetPolicy
        | Operation::DeletePolicy
        | Operation::ListPolicies
        | Operation::AttachPolicy
        | Operation::DetachPolicy
        | Operation::ListAttachedPolicies
        | Operation::ListTargetsForPolicy
        | Operation::AttachThingPrincipal
        | Operation::DetachThingPrincipal
        | Operation::ListThingPrincipals
        | Operation::ListPrincipalThings
        | Operation::CreateKeysAndCertificate
        | Operation::CreateCertificateFromCsr
        | Operation::DescribeEndpoint => {
            let call = Call { route: Route { operation, param }, scope, query, body, principal };
            registry::handle(store, call, config).await
        }
        Operation::CreateProvisioningTemplate
        | Operation::DescribeProvisioningTemplate
        | Operation::ListProvisioningTemplates
        | Operation::UpdateProvisioningTemplate
        | Operation::DeleteProvisioningTemplate
        | Operation::CreateProvisioningTemplateVersion
        | Operation::ListProvisioningTemplateVersions
        | Operation::DescribeProvisioningTemplateVersion
        | Operation::DeleteProvisioningTemplateVersion
        | Operation::RegisterThing => {
            let call = Call { route: Route { operation, param }, scope, query, body, principal };
            templates::handle(store, call, config).await
        }
    }
}

async fn register_ca<S: Store>(store: &S, scope: AccountScope, query: &str, body: &[u8]) -> Result<Value, ApiError> {
    let request = wire::register_request_from_rest(query, text(body)?)?;
    // Without a code issued, nothing can carry it: a code nobody was given stands in, so a
    // DEFAULT-mode proof fails its code check and SNI_ONLY (no proof) is unaffected.
    let read = scope.clone();
    let code = match store.lookup(move |tx| ops::registration_code(tx, &read)).await? {
        Some(code) => code,
        None => RegistrationCode::generate(&mut rand::rng()),
    };
    let at = now();
    let candidate = blocking(move || iot_ca::check(&request, &code, Policy::default(), at)).await??;
    let id = candidate.certificate_id().clone();
    let subject = candidate.subject_der().to_vec();
    let template = candidate.template_name().cloned();
    let registration = store
        .write(move |tx| {
            ops::register_ca(tx, &scope, &id, &subject, template.as_ref(), |facts| {
                Ok(iot_ca::admit(candidate, &facts, &scope, &mut rand::rng())?)
            })
        })
        .await?;
    Ok(wire::register_response_to_json(&registration))
}

async fn register_certificate<S: Store>(
    store: &S,
    scope: AccountScope,
    candidate: iot_ca::CheckedCertificate,
) -> Result<Value, ApiError> {
    let lookup = match (candidate.needs_ca(), candidate.ca_certificate_id()) {
        (false, _) => CaLookup::None,
        (true, Some(id)) => CaLookup::ById(id.clone()),
        (true, None) => CaLookup::ByIssuer(candidate.issuer_der().to_vec()),
    };
    let id = candidate.certificate_id().clone();
    let registration = store
        .write(move |tx| {
            ops::register_certificate(tx, &scope, &id, &lookup, |held, cas| {
                let mut facts = CertificateFacts::new().with_already_registered(held);
                for d in &cas {
                    facts = facts.with_ca(RegisteredCa::from_description(d).map_err(ApiError::internal)?);
                }
                Ok(iot_ca::admit_certificate(candidate, &facts, &scope, &mut rand::rng())?)
            })
        })
        .await?;
    Ok(wire::register_certificate_response_to_json(&registration))
}

/// CreateProvisioningClaim: the template's facts from the store, the scope's claim issuer
/// (made and stored on first use), and the claim made off the async workers.
async fn create_claim<S: Store>(
    store: &S,
    scope: AccountScope,
    name: &str,
    config: &ServiceConfig,
) -> Result<Value, ApiError> {
    let name = TemplateName::parse(name)?;
    let (read, looked_up) = (scope.clone(), name.clone());
    let template = store.lookup(move |tx| provisioning::template_facts(tx, &read, &looked_up)).await?;
    iot_ca::check_claim_template(&name, template)?;
    let record = issuers::scope_issuer(store, &scope, IssuerKind::Claim, config.claim_issuer.as_ref()).await?;
    let at = now();
    let claimed = name.clone();
    let claim = config
        .heavy
        .run(move || -> Result<iot_ca::ProvisioningClaim, ApiError> {
            let issuer = Issuer::from_record(&record).map_err(ApiError::internal)?;
            let params =
                ClaimParams::new(&name, template, &issuer.certificate).with_key_algorithm(KeyAlgorithm::Rsa2048);
            Ok(iot_ca::create_provisioning_claim::<_, p256::ecdsa::DerSignature, _>(
                &params,
                &issuer.key,
                &mut rand::rng(),
                at,
            )?)
        })
        .await??;
    // Kept so that a device connecting with the claim is found in this account until it expires.
    let (id, expiration) = (claim.certificate_id.clone(), claim.expiration);
    store.write(move |tx| fleet::record_claim(tx, &scope, &id, &claimed, expiration)).await?;
    Ok(wire::claim_to_json(&claim, TIMES))
}
