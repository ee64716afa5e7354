//! An AWS IoT–compatible HTTP endpoint built on `iot-ca`: the canonical way to embed the crate.
//!
//! ```text
//! cargo run --example service -- [--listen 127.0.0.1:8080] [--config service.json]
//! ```
//!
//! It speaks AWS IoT's REST-JSON protocol for GetRegistrationCode, DeleteRegistrationCode,
//! RegisterCACertificate, DescribeCACertificate, ListCACertificates and
//! CreateProvisioningClaim, so the real AWS SDKs (boto3, the AWS CLI) can be pointed at it with
//! `endpoint_url`. What it shows:
//!
//! * **The edge does the I/O.** The handlers read the system clock and the OS RNG and pass them
//!   to the library; the library does the deciding.
//! * **Two phases around an async store.** `check` decides what the request alone decides; the
//!   handler then awaits the store for the facts (`AccountFacts`) and calls `admit`. The store
//!   here is in memory behind the small [`Store`] trait; a database slots in by implementing
//!   the same five calls (e.g. `holds` as `SELECT 1 FROM ca WHERE account = $1 AND id = $2`),
//!   with `insert` made atomic by a unique key on (account, certificateId).
//! * **Errors the way AWS sends them.** Every `iot_ca::Error` becomes the HTTP status of its
//!   exception, the header `x-amzn-ErrorType: <ExceptionName>` and a body `{"message": …}`.
//!
//! Request signatures (SigV4) are accepted without checking: this is a test double, not an
//! authorisation layer. Bodies over 128 KiB are refused before parsing. Timestamps are epoch
//! seconds, as REST-JSON sends them.
//!
//! `--config` takes a JSON file, all members optional:
//! `{"accountId": "123456789012", "region": "us-east-1", "partition": "aws",
//!   "provisioningTemplates": [{"templateName": "fleet", "type": "FLEET_PROVISIONING", "enabled": true}],
//!   "claimIssuer": {"certificate": "issuer.pem", "key": "issuer.key"}}`.
//! Without a `claimIssuer`, a P-256 claim-issuing CA is generated at start-up (in memory) and
//! its certificate printed to stderr, so claims can be verified against it.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::SystemTime;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, Request, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use iot_ca::wire::{self, TimeFormat};
use iot_ca::{
    AccountFacts, AccountId, AccountScope, CaCertificateDescription, CertificateId, Error, ParsedCertificate,
    Partition, Policy, Region, RegistrationCode, RegistryError, TemplateFacts, TemplateName, UnixTime,
};
use serde_json::{Value, json};
use tokio::sync::Mutex;

/// Largest request body read (AWS's own limits are well under this for these operations).
const MAX_BODY_BYTES: usize = 128 * 1024;

// ----------------------------------------------------------------------------- the store

/// What the service keeps. Async, so a database client slots in; see the module docs.
trait Store: Send + Sync + 'static {
    /// The account's registration code, if one was issued and not deleted.
    fn registration_code(&self) -> impl Future<Output = Option<RegistrationCode>> + Send;
    /// Keeps `code` as the account's code unless one exists; returns the one in force.
    fn set_registration_code_if_absent(&self, code: RegistrationCode) -> impl Future<Output = RegistrationCode> + Send;
    fn delete_registration_code(&self) -> impl Future<Output = ()> + Send;
    /// The facts `admit` needs about a checked candidate.
    fn facts(
        &self,
        id: &CertificateId,
        subject_der: &[u8],
        template: Option<&TemplateName>,
    ) -> impl Future<Output = AccountFacts> + Send;
    /// Stores a registration; `false` when the id is already held (a concurrent duplicate).
    fn insert(&self, description: CaCertificateDescription, subject_der: Vec<u8>) -> impl Future<Output = bool> + Send;
    fn describe(&self, id: &str) -> impl Future<Output = Option<CaCertificateDescription>> + Send;
    fn list(&self) -> impl Future<Output = Vec<CaCertificateDescription>> + Send;
    fn template(&self, name: &TemplateName) -> impl Future<Output = Option<TemplateFacts>> + Send;
}

#[derive(Default)]
struct MemoryInner {
    code: Option<RegistrationCode>,
    cas: Vec<(CaCertificateDescription, Vec<u8>)>,
}

/// The in-memory store: one account, lost on exit.
struct MemoryStore {
    inner: Mutex<MemoryInner>,
    templates: HashMap<String, TemplateFacts>,
}

impl Store for MemoryStore {
    async fn registration_code(&self) -> Option<RegistrationCode> {
        self.inner.lock().await.code.clone()
    }

    async fn set_registration_code_if_absent(&self, code: RegistrationCode) -> RegistrationCode {
        self.inner.lock().await.code.get_or_insert(code).clone()
    }

    async fn delete_registration_code(&self) {
        self.inner.lock().await.code = None;
    }

    async fn facts(&self, id: &CertificateId, subject_der: &[u8], template: Option<&TemplateName>) -> AccountFacts {
        let inner = self.inner.lock().await;
        let mut facts = AccountFacts::new()
            .with_already_registered(inner.cas.iter().any(|(d, _)| &d.certificate_id == id))
            .with_same_subject_count(inner.cas.iter().filter(|(_, s)| s == subject_der).count());
        if let Some(t) = template.and_then(|name| self.templates.get(name.as_str())) {
            facts = facts.with_template(*t);
        }
        facts
    }

    async fn insert(&self, description: CaCertificateDescription, subject_der: Vec<u8>) -> bool {
        let mut inner = self.inner.lock().await;
        if inner.cas.iter().any(|(d, _)| d.certificate_id == description.certificate_id) {
            return false;
        }
        inner.cas.push((description, subject_der));
        true
    }

    async fn describe(&self, id: &str) -> Option<CaCertificateDescription> {
        self.inner.lock().await.cas.iter().find(|(d, _)| d.certificate_id.as_str() == id).map(|(d, _)| d.clone())
    }

    async fn list(&self) -> Vec<CaCertificateDescription> {
        self.inner.lock().await.cas.iter().map(|(d, _)| d.clone()).collect()
    }

    async fn template(&self, name: &TemplateName) -> Option<TemplateFacts> {
        self.templates.get(name.as_str()).copied()
    }
}

// ----------------------------------------------------------------------------- the edge

/// The system clock, read here and nowhere in the library.
fn now() -> UnixTime {
    UnixTime::from_system_time(SystemTime::now())
}

/// The claim-issuing CA: its certificate and its key (the key could be an HSM handle).
struct ClaimIssuer {
    certificate: ParsedCertificate,
    key: p256::ecdsa::SigningKey,
}

struct Service<S> {
    store: S,
    scope: AccountScope,
    issuer: ClaimIssuer,
}

/// An `iot_ca::Error` as AWS sends it.
struct AwsError(Error);

impl IntoResponse for AwsError {
    fn into_response(self) -> Response {
        let ex = self.0.exception();
        let mut body = json!({ "message": ex.message });
        if let (Some(id), Some(arn)) = (&ex.resource_id, &ex.resource_arn) {
            body["resourceId"] = json!(id);
            body["resourceArn"] = json!(arn);
        }
        let status = StatusCode::from_u16(ex.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, axum::Json(body)).into_response();
        response.headers_mut().insert("x-amzn-ErrorType", HeaderValue::from_static(ex.name()));
        response
    }
}

impl From<Error> for AwsError {
    fn from(e: Error) -> Self {
        Self(e)
    }
}

type Reply = Result<axum::Json<Value>, AwsError>;

/// Reads at most [`MAX_BODY_BYTES`] of the body, refusing larger ones before any parsing.
async fn bounded_body(body: Body) -> Result<Bytes, AwsError> {
    axum::body::to_bytes(body, MAX_BODY_BYTES).await.map_err(|_| {
        AwsError(Error::Request(iot_ca::RequestError::DocumentTooLarge {
            len: MAX_BODY_BYTES + 1,
            max: MAX_BODY_BYTES,
        }))
    })
}

async fn get_registration_code<S: Store>(State(svc): State<Arc<Service<S>>>) -> Reply {
    let code = match svc.store.registration_code().await {
        Some(code) => code,
        None => {
            let fresh = RegistrationCode::generate(&mut rand::rng());
            svc.store.set_registration_code_if_absent(fresh).await
        }
    };
    Ok(axum::Json(wire::registration_code_to_json(&code)))
}

async fn delete_registration_code<S: Store>(State(svc): State<Arc<Service<S>>>) -> Reply {
    svc.store.delete_registration_code().await;
    Ok(axum::Json(json!({})))
}

async fn register_ca_certificate<S: Store>(
    State(svc): State<Arc<Service<S>>>,
    Query(query): Query<HashMap<String, String>>,
    request: Request<Body>,
) -> Reply {
    let body = bounded_body(request.into_body()).await?;
    let text = std::str::from_utf8(&body).map_err(|_| AwsError(Error::Request(iot_ca::RequestError::MalformedJson)))?;
    let flag = |name: &str| query.get(name).is_some_and(|v| v == "true");
    let request = wire::register_request_from_json(text)?
        .with_set_as_active(flag("setAsActive"))
        .with_allow_auto_registration(flag("allowAutoRegistration"));
    // No code was ever issued: nothing can match the proof's commonName.
    let code = svc
        .store
        .registration_code()
        .await
        .ok_or(AwsError(Error::RegistrationCode(iot_ca::RegistrationCodeError::Mismatch)))?;
    // Phase one: everything the request decides alone.
    let candidate = iot_ca::check(&request, &code, Policy::default(), now())?;
    // Between the phases: ask the store.
    let subject = candidate.subject_der().to_vec();
    let facts = svc.store.facts(candidate.certificate_id(), &subject, candidate.template_name()).await;
    // Phase two: the facts decide.
    let registration = iot_ca::admit(candidate, &facts, &svc.scope, &mut rand::rng())?;
    if !svc.store.insert(registration.description.clone(), subject).await {
        return Err(AwsError(Error::Registry(RegistryError::AlreadyExists {
            certificate_id: registration.certificate_id.as_str().to_owned(),
            certificate_arn: registration.certificate_arn.clone(),
        })));
    }
    Ok(axum::Json(wire::register_response_to_json(&registration)))
}

async fn describe_ca_certificate<S: Store>(State(svc): State<Arc<Service<S>>>, Path(id): Path<String>) -> Reply {
    let description = svc.store.describe(&id).await.ok_or_else(|| {
        AwsError(Error::Registry(RegistryError::CaCertificateNotFound {
            certificate_id: id.chars().take(64).collect(),
        }))
    })?;
    let mut out =
        json!({ "certificateDescription": wire::description_to_json(&description, TimeFormat::EpochSeconds) });
    if let Some(config) = &description.registration_config {
        out["registrationConfig"] = wire::registration_config_to_json(config);
    }
    Ok(axum::Json(out))
}

async fn list_ca_certificates<S: Store>(State(svc): State<Arc<Service<S>>>) -> Reply {
    let certificates: Vec<Value> = svc
        .store
        .list()
        .await
        .iter()
        .map(|d| {
            json!({
                "certificateArn": d.certificate_arn,
                "certificateId": d.certificate_id.as_str(),
                "status": d.status.as_str(),
                "creationDate": d.creation_date.as_secs(),
            })
        })
        .collect();
    Ok(axum::Json(json!({ "certificates": certificates })))
}

async fn create_provisioning_claim<S: Store>(State(svc): State<Arc<Service<S>>>, Path(name): Path<String>) -> Reply {
    let name = TemplateName::parse(&name)?;
    let template = svc.store.template(&name).await;
    let claim = iot_ca::create_provisioning_claim::<_, p256::ecdsa::DerSignature, _>(
        &iot_ca::ClaimParams::new(&name, template, &svc.issuer.certificate),
        &svc.issuer.key,
        &mut rand::rng(),
        now(),
    )?;
    Ok(axum::Json(wire::claim_to_json(&claim, TimeFormat::EpochSeconds)))
}

// ----------------------------------------------------------------------------- start-up

struct Args {
    listen: SocketAddr,
    config: Value,
}

fn args() -> Result<Args, String> {
    let mut listen: SocketAddr = "127.0.0.1:8080".parse().map_err(|e| format!("{e}"))?;
    let mut config = json!({});
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--listen" => {
                let v = it.next().ok_or("--listen needs ADDR:PORT")?;
                listen = v.parse().map_err(|e| format!("--listen {v}: {e}"))?;
            }
            "--config" => {
                let path = it.next().ok_or("--config needs a file")?;
                let text = std::fs::read_to_string(&path).map_err(|e| format!("cannot read {path}: {e}"))?;
                config = serde_json::from_str(&text).map_err(|e| format!("{path}: {e}"))?;
            }
            "--help" | "-h" => {
                println!("usage: service [--listen 127.0.0.1:8080] [--config service.json]");
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(Args { listen, config })
}

fn scope(config: &Value) -> Result<AccountScope, String> {
    let text = |k: &str, default: &'static str| config.get(k).and_then(Value::as_str).unwrap_or(default).to_owned();
    Ok(AccountScope::new(
        AccountId::parse(&text("accountId", "123456789012")).map_err(|e| e.to_string())?,
        Region::parse(&text("region", "us-east-1")).map_err(|e| e.to_string())?,
    )
    .with_partition(Partition::parse(&text("partition", "aws")).map_err(|e| e.to_string())?))
}

fn templates(config: &Value) -> Result<HashMap<String, TemplateFacts>, String> {
    let Some(list) = config.get("provisioningTemplates") else { return Ok(HashMap::new()) };
    let templates = wire::template_facts_from_json(list).map_err(|e| format!("provisioningTemplates: {e}"))?;
    Ok(templates.into_iter().map(|t| (t.name.as_str().to_owned(), t.facts)).collect())
}

fn pem_der(text: &str, label: &str) -> Result<Vec<u8>, String> {
    let begin = text.find(&format!("-----BEGIN {label}-----")).ok_or(format!("no {label} PEM block"))?;
    pem_rfc7468::decode_vec(text[begin..].trim_end().as_bytes()).map(|(_, der)| der).map_err(|e| e.to_string())
}

/// The claim issuer from the config (a P-256 key, SEC1 or PKCS#8), or a fresh one.
fn claim_issuer(config: &Value) -> Result<ClaimIssuer, String> {
    if let Some(issuer) = config.get("claimIssuer") {
        let read = |k: &str| -> Result<String, String> {
            let path = issuer[k].as_str().ok_or(format!("claimIssuer.{k} must be a file path"))?;
            std::fs::read_to_string(path).map_err(|e| format!("cannot read {path}: {e}"))
        };
        let certificate =
            ParsedCertificate::from_der(pem_der(&read("certificate")?, "CERTIFICATE")?).map_err(|e| e.to_string())?;
        let key_text = read("key")?;
        let key = p256::SecretKey::from_sec1_pem(&key_text)
            .or_else(|_| p256::pkcs8::DecodePrivateKey::from_pkcs8_pem(&key_text))
            .map_err(|e| format!("claimIssuer.key: a P-256 key is expected: {e}"))?;
        return Ok(ClaimIssuer { certificate, key: key.into() });
    }
    generated_issuer()
}

fn generated_issuer() -> Result<ClaimIssuer, String> {
    use p256::elliptic_curve::Generate;
    use std::str::FromStr;
    use x509_cert::builder::{Builder, CertificateBuilder, profile::cabf::Root};
    let mut rng = rand::rng();
    let key = p256::ecdsa::SigningKey::generate_from_rng(&mut rng);
    let subject =
        x509_cert::name::Name::from_str("CN=iot-ca service claim issuer,O=iot-ca,C=US").map_err(|e| e.to_string())?;
    let profile = Root::new(false, subject).map_err(|e| e.to_string())?;
    let spki = x509_cert::spki::SubjectPublicKeyInfoOwned::from_key(key.verifying_key()).map_err(|e| e.to_string())?;
    let validity = x509_cert::time::Validity::from_now(std::time::Duration::from_secs(10 * 365 * 86_400))
        .map_err(|e| e.to_string())?;
    let builder =
        CertificateBuilder::new(profile, x509_cert::serial_number::SerialNumber::generate(&mut rng), validity, spki)
            .map_err(|e| e.to_string())?;
    let cert = builder.build_with_rng::<_, p256::ecdsa::DerSignature, _>(&key, &mut rng).map_err(|e| e.to_string())?;
    let der = der::Encode::to_der(&cert).map_err(|e| e.to_string())?;
    let pem =
        pem_rfc7468::encode_string("CERTIFICATE", pem_rfc7468::LineEnding::LF, &der).map_err(|e| e.to_string())?;
    eprintln!("generated claim issuer (verify claims against it):\n{pem}");
    Ok(ClaimIssuer { certificate: ParsedCertificate::from_der(der).map_err(|e| e.to_string())?, key })
}

fn router<S: Store>(service: Arc<Service<S>>) -> Router {
    Router::new()
        .route("/registrationcode", get(get_registration_code::<S>).delete(delete_registration_code::<S>))
        .route("/cacertificate", post(register_ca_certificate::<S>))
        .route("/cacertificate/{id}", get(describe_ca_certificate::<S>))
        .route("/cacertificates", get(list_ca_certificates::<S>))
        .route("/provisioning-templates/{name}/provisioning-claim", post(create_provisioning_claim::<S>))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(service)
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! { () = ctrl_c => {}, () = term => {} }
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let setup = || -> Result<(Args, Service<MemoryStore>), String> {
        let args = args()?;
        let service = Service {
            store: MemoryStore { inner: Mutex::default(), templates: templates(&args.config)? },
            scope: scope(&args.config)?,
            issuer: claim_issuer(&args.config)?,
        };
        Ok((args, service))
    };
    let (args, service) = match setup() {
        Ok(v) => v,
        Err(e) => {
            eprintln!("service: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let listener = match tokio::net::TcpListener::bind(args.listen).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("service: cannot listen on {}: {e}", args.listen);
            return std::process::ExitCode::from(2);
        }
    };
    let addr = listener.local_addr().map(|a| a.to_string()).unwrap_or_default();
    println!("listening on http://{addr}");
    let app = router(Arc::new(service));
    match axum::serve(listener, app).with_graceful_shutdown(shutdown()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("service: {e}");
            std::process::ExitCode::from(1)
        }
    }
}
