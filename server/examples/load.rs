//! A load generator for AWS IoT's CA registry: iot-ca-server, or any endpoint that speaks the
//! same REST-JSON routes (moto_server, for a comparison on the same machine).
//!
//! ```text
//! cargo run --release -p iot-ca-server --example load -- --url http://127.0.0.1:8080 \
//!     --operation describe|register|ping [--connections 16] [--duration 10] [--warmup 2] \
//!     [--requests 4000] [--keys 2] [--seed 1] [--region us-east-1] \
//!     [--access-key test --secret-key test] [--threads 1]
//! ```
//!
//! Every request is signed with SigV4 (service `iot`) when it is sent, by
//! [`iot_ca_server::sigv4::sign`], the verifier's own rule. `--connections` keep-alive
//! connections each send one request at a time; a connection the server closes (moto's
//! werkzeug may close after each answer) is opened again, and that time counts in the request's
//! latency. Any answer that is not 2xx, and any transport error, is an error.
//!
//! * `describe`: registers one CA, then sends DescribeCACertificate for it.
//! * `ping`: sends `GET /ping`, which iot-ca-server answers without a signature check or the
//!   store: the ceiling of the serving stack, with the client's work unchanged (every request is
//!   still signed, so the client spends what it spends on `describe`).
//! * `register`: before anything is timed, fetches the account's registration code
//!   (GetRegistrationCode) and prepares `--requests` distinct RSA-2048 CA certificates, each
//!   with its verification certificate for that code (DEFAULT mode), from `--keys` seeded keys;
//!   each request registers a fresh one (two signatures verified, one write). The warm-up may
//!   use a fifth of them; the measured run ends early, with `"exhausted": true`, when the rest
//!   are used up.
//!
//! After `--warmup` seconds (not measured) it measures for `--duration` seconds and prints one
//! JSON line: ok and error counts, the first errors, requests per second and the latency
//! percentiles of the measured requests. Set-up and preparation go to stderr.

mod common;

use common::{quantile_ms, round3};
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::header::{CONNECTION, CONTENT_TYPE, HOST, USER_AGENT};
use hyper::{Method, Request, Version};
use hyper_util::rt::TokioIo;
use iot_ca::rand_core::SeedableRng;
use iot_ca::{
    CaCertificateParams, KeyAlgorithm, KeyPair, ParsedCertificate, RegistrationCode, UnixTime,
    VerificationCertificateParams, create_ca_certificate, create_verification_certificate,
};
use iot_ca_server::sigv4::{self, AccessKey, SignedRequest};
use serde_json::{Value, json};

const USAGE: &str = "usage: load --url http://HOST:PORT --operation describe|register|ping
            [--connections N] [--duration SECS] [--warmup SECS] [--requests N] [--keys N]
            [--seed N] [--region R] [--access-key ID] [--secret-key S] [--threads N]";

/// Errors kept with their status and body, at most.
const ERROR_SAMPLES: usize = 5;
/// The warm-up may use `1 / WARMUP_SHARE` of the prepared registrations.
const WARMUP_SHARE: usize = 5;
/// Lifetime of the prepared certificates, from an hour before the run.
const CERTIFICATE_LIFETIME_SECS: i64 = 365 * 86_400;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Operation {
    Describe,
    Register,
    Ping,
}

impl Operation {
    const fn name(self) -> &'static str {
        match self {
            Self::Describe => "DescribeCACertificate",
            Self::Register => "RegisterCACertificate",
            Self::Ping => "Ping",
        }
    }
}

#[derive(Clone, Debug)]
struct Args {
    url: String,
    addr: SocketAddr,
    host: String,
    operation: Operation,
    connections: usize,
    duration: Duration,
    warmup: Duration,
    requests: usize,
    keys: usize,
    seed: u64,
    region: String,
    access_key: String,
    secret_key: String,
    threads: usize,
}

fn positive<T: std::str::FromStr + PartialOrd + Default>(value: &str, flag: &str) -> Result<T, String> {
    value.parse::<T>().ok().filter(|v| *v > T::default()).ok_or(format!("{flag} needs a positive number"))
}

fn secs(value: &str, flag: &str, allow_zero: bool) -> Result<Duration, String> {
    value
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && (*s > 0.0 || (allow_zero && *s == 0.0)))
        .map(Duration::from_secs_f64)
        .ok_or(format!("{flag} needs a positive number of seconds"))
}

fn args() -> Result<Args, String> {
    let (mut url, mut operation) = (None, None);
    let mut a = Args {
        url: String::new(),
        addr: SocketAddr::from(([127, 0, 0, 1], 0)),
        host: String::new(),
        operation: Operation::Describe,
        connections: 16,
        duration: Duration::from_secs(10),
        warmup: Duration::from_secs(2),
        requests: 4000,
        keys: 2,
        seed: 1,
        region: "us-east-1".into(),
        access_key: "test".into(),
        secret_key: "test".into(),
        threads: 1,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = || it.next().ok_or(format!("{arg} needs a value\n{USAGE}"));
        match arg.as_str() {
            "--url" => url = Some(value()?),
            "--operation" => {
                operation = Some(match value()?.as_str() {
                    "describe" => Operation::Describe,
                    "register" => Operation::Register,
                    "ping" => Operation::Ping,
                    other => return Err(format!("--operation {other}: expected describe, register or ping")),
                });
            }
            "--connections" => a.connections = positive(&value()?, "--connections")?,
            "--duration" => a.duration = secs(&value()?, "--duration", false)?,
            "--warmup" => a.warmup = secs(&value()?, "--warmup", true)?,
            "--requests" => a.requests = positive(&value()?, "--requests")?,
            "--keys" => a.keys = positive(&value()?, "--keys")?,
            "--seed" => a.seed = value()?.parse().map_err(|e| format!("--seed: {e}"))?,
            "--region" => a.region = value()?,
            "--access-key" => a.access_key = value()?,
            "--secret-key" => a.secret_key = value()?,
            "--threads" => a.threads = positive(&value()?, "--threads")?,
            "--help" | "-h" => return Err(USAGE.to_owned()),
            other => return Err(format!("unknown argument {other}\n{USAGE}")),
        }
    }
    a.url = url.ok_or(format!("--url is required\n{USAGE}"))?;
    a.operation = operation.ok_or(format!("--operation is required\n{USAGE}"))?;
    let authority = a
        .url
        .strip_prefix("http://")
        .map(|rest| rest.trim_end_matches('/'))
        .filter(|rest| !rest.contains('/'))
        .ok_or(format!("--url {}: expected http://HOST:PORT", a.url))?;
    a.addr = std::net::ToSocketAddrs::to_socket_addrs(authority)
        .map_err(|e| format!("--url {}: {e}", a.url))?
        .next()
        .ok_or(format!("--url {}: no address", a.url))?;
    a.host = authority.to_owned();
    Ok(a)
}

fn now() -> UnixTime {
    UnixTime::from_system_time(SystemTime::now())
}

/// What one request came back with.
struct Answer {
    status: u16,
    body: Bytes,
}

/// One keep-alive connection that opens itself again when the server closes it.
struct Client {
    args: Arc<Args>,
    sender: Option<SendRequest<Full<Bytes>>>,
    reconnects: u64,
}

impl Client {
    fn new(args: Arc<Args>) -> Self {
        Self { args, sender: None, reconnects: 0 }
    }

    async fn connect(&mut self) -> Result<SendRequest<Full<Bytes>>, String> {
        let stream = tokio::net::TcpStream::connect(self.args.addr)
            .await
            .map_err(|e| format!("connect {}: {e}", self.args.addr))?;
        stream.set_nodelay(true).map_err(|e| format!("nodelay: {e}"))?;
        let (sender, connection) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.map_err(|e| format!("handshake: {e}"))?;
        tokio::spawn(async move {
            let _ = connection.await;
        });
        self.reconnects += 1;
        Ok(sender)
    }

    /// A ready sender: the kept one, or a new connection. Answers whether it was kept.
    async fn ready(&mut self) -> Result<(SendRequest<Full<Bytes>>, bool), String> {
        if let Some(mut sender) = self.sender.take()
            && sender.ready().await.is_ok()
        {
            return Ok((sender, true));
        }
        Ok((self.connect().await?, false))
    }

    fn request(&self, method: &Method, path_and_query: &str, body: &Bytes) -> Result<Request<Full<Bytes>>, String> {
        let (path, query) = path_and_query.split_once('?').unwrap_or((path_and_query, ""));
        let args = &self.args;
        let mut headers: Vec<(&str, &[u8])> = vec![("host", args.host.as_bytes())];
        if !body.is_empty() {
            headers.push(("content-type", b"application/json"));
        }
        let signed = SignedRequest { method: method.as_str(), raw_path: path, raw_query: query, headers, body };
        let key = AccessKey { id: &args.access_key, secret: &args.secret_key };
        let added = sigv4::sign(key, &args.region, &signed, now());
        let mut builder = Request::builder()
            .method(method.clone())
            .uri(path_and_query)
            .header(HOST, &args.host)
            .header(USER_AGENT, "iot-ca-load/0.1");
        if !body.is_empty() {
            builder = builder.header(CONTENT_TYPE, "application/json");
        }
        for (name, value) in added {
            builder = builder.header(name, value);
        }
        builder.body(Full::new(body.clone())).map_err(|e| format!("request: {e}"))
    }

    /// Sends one signed request and reads the whole answer. A request that fails on a kept
    /// connection (closed by the server meanwhile) is sent once more on a new one.
    async fn send(&mut self, method: &Method, path_and_query: &str, body: &Bytes) -> Result<Answer, String> {
        let mut retried = false;
        loop {
            let (mut sender, kept) = self.ready().await?;
            let request = self.request(method, path_and_query, body)?;
            let response = match sender.send_request(request).await {
                Ok(r) => r,
                Err(e) if kept && !retried && (e.is_canceled() || e.is_incomplete_message()) => {
                    retried = true;
                    continue;
                }
                Err(e) => return Err(format!("send: {e}")),
            };
            let closes =
                response.headers().get(CONNECTION).is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"close"))
                    || (response.version() == Version::HTTP_10
                        && !response
                            .headers()
                            .get(CONNECTION)
                            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"keep-alive")));
            let status = response.status().as_u16();
            let body = response.into_body().collect().await.map_err(|e| format!("body: {e}"))?.to_bytes();
            if !closes {
                self.sender = Some(sender);
            }
            return Ok(Answer { status, body });
        }
    }

    /// Sends a set-up request and answers its JSON, or why it failed.
    async fn call(&mut self, method: Method, path_and_query: &str, body: Value) -> Result<Value, String> {
        let body = if body.is_null() { Bytes::new() } else { Bytes::from(body.to_string()) };
        let answer = self.send(&method, path_and_query, &body).await?;
        if !(200..300).contains(&answer.status) {
            return Err(format!(
                "{method} {path_and_query}: {} {}",
                answer.status,
                String::from_utf8_lossy(&answer.body)
            ));
        }
        serde_json::from_slice(&answer.body).map_err(|e| format!("{method} {path_and_query}: not JSON: {e}"))
    }
}

/// A seeded RSA-2048 key that signs through aws-lc-rs and shows itself to the library's
/// builders through the RustCrypto traits ([`iot_ca::CertificateSigner`]). With the pure-Rust
/// `rsa` crate, preparing took ~6 ms of a core per registration here (two signatures), too slow
/// for tens of thousands; through aws-lc-rs the same PKCS#1 v1.5 signatures take ~0.7 ms.
struct Signer {
    fast: aws_lc_rs::signature::RsaKeyPair,
    rustcrypto: rsa::pkcs1v15::SigningKey<sha2::Sha256>,
}

impl signature::Keypair for Signer {
    type VerifyingKey = rsa::pkcs1v15::VerifyingKey<sha2::Sha256>;

    fn verifying_key(&self) -> Self::VerifyingKey {
        signature::Keypair::verifying_key(&self.rustcrypto)
    }
}

impl spki::DynSignatureAlgorithmIdentifier for Signer {
    fn signature_algorithm_identifier(&self) -> spki::Result<spki::AlgorithmIdentifierOwned> {
        spki::DynSignatureAlgorithmIdentifier::signature_algorithm_identifier(&self.rustcrypto)
    }
}

impl signature::RandomizedSigner<rsa::pkcs1v15::Signature> for Signer {
    fn try_sign_with_rng<R: signature::rand_core::TryCryptoRng + ?Sized>(
        &self,
        _deterministic: &mut R,
        msg: &[u8],
    ) -> Result<rsa::pkcs1v15::Signature, signature::Error> {
        let mut out = vec![0; self.fast.public_modulus_len()];
        let rng = aws_lc_rs::rand::SystemRandom::new();
        self.fast
            .sign(&aws_lc_rs::signature::RSA_PKCS1_SHA256, &rng, msg, &mut out)
            .map_err(|_| signature::Error::new())?;
        rsa::pkcs1v15::Signature::try_from(out.as_slice())
    }
}

/// `count` seeded RSA-2048 keys, made in parallel.
fn rsa_keys(count: usize, seed: u64) -> Result<Vec<Signer>, String> {
    use rsa::pkcs8::EncodePrivateKey;
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..count)
            .map(|k| {
                s.spawn(move || {
                    let mut rng = chacha20::ChaCha20Rng::seed_from_u64(seed.wrapping_mul(1000).wrapping_add(k as u64));
                    let key = rsa::PrivateKey::new(&mut rng, 2048).map_err(|e| format!("RSA key: {e}"))?;
                    let der = key.to_pkcs8_der().map_err(|e| format!("RSA key: {e}"))?;
                    let fast = aws_lc_rs::signature::RsaKeyPair::from_pkcs8(der.as_bytes())
                        .map_err(|e| format!("RSA key into aws-lc-rs: {e}"))?;
                    Ok(Signer { fast, rustcrypto: rsa::pkcs1v15::SigningKey::new(key) })
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().map_err(|_| "key thread panicked".to_owned())?).collect()
    })
}

fn pem(der: &[u8]) -> Result<String, String> {
    pem_rfc7468::encode_string("CERTIFICATE", pem_rfc7468::LineEnding::LF, der).map_err(|e| e.to_string())
}

/// Prepared registrations: CA `index` is named `CN=iot-ca load {seed}-{index}` (a subject of its
/// own, so the ten-per-subject limit never applies), signed by key `index % keys`, with its
/// verification certificate for `code`. Deterministic for a seed.
struct Prepare<'a> {
    keys: &'a [Signer],
    proof_spki: &'a [u8],
    code: &'a RegistrationCode,
    seed: u64,
    issued: UnixTime,
}

impl Prepare<'_> {
    fn one(&self, index: usize) -> Result<Bytes, String> {
        let mut rng =
            chacha20::ChaCha20Rng::seed_from_u64(self.seed.wrapping_shl(32).wrapping_add(index as u64 + 1_000_000));
        let key = &self.keys[index % self.keys.len()];
        let subject = format!("CN=iot-ca load {}-{index},O=iot-ca load test", self.seed);
        let not_after = self.issued.checked_add(CERTIFICATE_LIFETIME_SECS).ok_or("time overflow")?;
        let ca_der = create_ca_certificate::<_, rsa::pkcs1v15::Signature, _>(
            &CaCertificateParams::new(&subject, not_after),
            key,
            &mut rng,
            self.issued,
        )
        .map_err(|e| e.to_string())?;
        let ca_pem = pem(&ca_der)?;
        let ca = ParsedCertificate::from_der(ca_der).map_err(|e| e.to_string())?;
        let proof = create_verification_certificate::<_, rsa::pkcs1v15::Signature, _>(
            &VerificationCertificateParams::new(&ca, self.proof_spki, self.code, not_after),
            key,
            &mut rng,
            self.issued,
        )
        .map_err(|e| e.to_string())?;
        let body = json!({
            "caCertificate": ca_pem,
            "verificationCertificate": pem(&proof)?,
            "certificateMode": "DEFAULT",
        });
        Ok(Bytes::from(body.to_string()))
    }

    /// Registrations `first..first + count`, made on every core.
    fn many(&self, first: usize, count: usize) -> Result<Vec<Bytes>, String> {
        let threads = std::thread::available_parallelism().map_or(1, usize::from).min(count.max(1));
        let next = AtomicUsize::new(0);
        let mut out: Vec<(usize, Bytes)> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads)
                .map(|_| {
                    s.spawn(|| {
                        let mut made = Vec::new();
                        loop {
                            let i = next.fetch_add(1, Ordering::Relaxed);
                            if i >= count {
                                return Ok::<_, String>(made);
                            }
                            made.push((i, self.one(first + i)?));
                        }
                    })
                })
                .collect();
            let mut all = Vec::with_capacity(count);
            for h in handles {
                all.extend(h.join().map_err(|_| "preparation thread panicked".to_owned())??);
            }
            Ok::<_, String>(all)
        })?;
        out.sort_by_key(|(i, _)| *i);
        Ok(out.into_iter().map(|(_, b)| b).collect())
    }
}

/// What the timed phase sends.
enum Work {
    Get { path: String },
    Register { bodies: Vec<Bytes>, next: AtomicUsize },
}

/// One worker's record.
#[derive(Default)]
struct Tally {
    latencies_us: Vec<u64>,
    errors: u64,
    warmup_ok: u64,
    warmup_errors: u64,
    samples: Vec<Value>,
    last_done: Option<Instant>,
    exhausted: bool,
    reconnects: u64,
}

async fn worker(args: Arc<Args>, work: Arc<Work>, measure_from: Instant, until: Instant) -> Tally {
    let mut client = Client::new(Arc::clone(&args));
    let mut tally = Tally::default();
    let empty = Bytes::new();
    loop {
        let started = Instant::now();
        if started >= until {
            break;
        }
        let result = match work.as_ref() {
            Work::Get { path } => client.send(&Method::GET, path, &empty).await,
            Work::Register { bodies, next } => {
                let warming = started < measure_from;
                // The warm-up may use a fifth of the prepared registrations; the rest are
                // measured. A worker that finds the warm-up's share used waits for the measure.
                let limit = if warming { bodies.len() / WARMUP_SHARE } else { bodies.len() };
                let taken = next.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |i| (i < limit).then_some(i + 1));
                let Some(body) = taken.ok().and_then(|i| bodies.get(i)) else {
                    if warming {
                        tokio::time::sleep_until(measure_from.into()).await;
                        continue;
                    }
                    tally.exhausted = true;
                    break;
                };
                client.send(&Method::POST, "/cacertificate?setAsActive=true", body).await
            }
        };
        let done = Instant::now();
        let measured = started >= measure_from;
        let error = match result {
            Ok(a) if (200..300).contains(&a.status) => None,
            Ok(a) => Some(json!({ "status": a.status, "body": String::from_utf8_lossy(&a.body) })),
            Err(e) => Some(json!({ "status": 0, "body": e })),
        };
        match (measured, error) {
            (true, None) => {
                let us = u64::try_from(done.duration_since(started).as_micros()).unwrap_or(u64::MAX);
                tally.latencies_us.push(us);
                tally.last_done = Some(done);
            }
            (true, Some(e)) => {
                tally.errors += 1;
                tally.last_done = Some(done);
                if tally.samples.len() < ERROR_SAMPLES {
                    tally.samples.push(e);
                }
            }
            (false, None) => tally.warmup_ok += 1,
            (false, Some(e)) => {
                tally.warmup_errors += 1;
                if tally.samples.len() < ERROR_SAMPLES {
                    tally.samples.push(e);
                }
            }
        }
    }
    // The first connection is not a reconnection.
    tally.reconnects = client.reconnects.saturating_sub(1);
    tally
}

async fn run(args: Args) -> Result<Value, String> {
    let args = Arc::new(args);
    let mut setup = Client::new(Arc::clone(&args));
    let code_json = setup.call(Method::GET, "/registrationcode", Value::Null).await?;
    let code_text = code_json.get("registrationCode").and_then(Value::as_str).unwrap_or_default();
    let mut rng = chacha20::ChaCha20Rng::seed_from_u64(args.seed);
    let code = RegistrationCode::parse(code_text).unwrap_or_else(|_| {
        // moto answers a code of another shape; it ignores the verification certificate.
        eprintln!("load: the registration code '{code_text}' is not 64 hex characters; using a local one");
        RegistrationCode::generate(&mut rng)
    });
    let proof_key =
        KeyPair::generate(KeyAlgorithm::P256, iot_ca::Backend::preferred(), &mut rng).map_err(|e| e.to_string())?;
    let issued = UnixTime::from_secs(now().as_secs() - 3600);

    let prepare_started = Instant::now();
    let keys = rsa_keys(args.keys, args.seed)?;
    let prepare = Prepare { keys: &keys, proof_spki: proof_key.spki_der(), code: &code, seed: args.seed, issued };
    let work = match args.operation {
        Operation::Describe => {
            // One CA past the register pool's indices, so a register run after it on the same
            // server does not meet it.
            let body = prepare.one(usize::MAX / 2)?;
            let registered = setup
                .call(
                    Method::POST,
                    "/cacertificate?setAsActive=true",
                    serde_json::from_slice(&body).map_err(|e| e.to_string())?,
                )
                .await?;
            let id = registered.get("certificateId").and_then(Value::as_str).ok_or("no certificateId in the answer")?;
            Work::Get { path: format!("/cacertificate/{id}") }
        }
        Operation::Ping => Work::Get { path: iot_ca_server::http::PING_PATH.to_owned() },
        Operation::Register => Work::Register { bodies: prepare.many(0, args.requests)?, next: AtomicUsize::new(0) },
    };
    let prepare_s = prepare_started.elapsed().as_secs_f64();
    eprintln!(
        "load: prepared in {prepare_s:.1} s; {} for {:?} after {:?} warm-up",
        args.operation.name(),
        args.duration,
        args.warmup
    );
    drop(setup);

    let work = Arc::new(work);
    let start = Instant::now();
    let measure_from = start + args.warmup;
    let until = measure_from + args.duration;
    let workers: Vec<_> = (0..args.connections)
        .map(|_| tokio::spawn(worker(Arc::clone(&args), Arc::clone(&work), measure_from, until)))
        .collect();
    let mut all = Tally::default();
    for w in workers {
        let t = w.await.map_err(|e| format!("worker: {e}"))?;
        all.latencies_us.extend(t.latencies_us);
        all.errors += t.errors;
        all.warmup_ok += t.warmup_ok;
        all.warmup_errors += t.warmup_errors;
        all.reconnects += t.reconnects;
        all.exhausted |= t.exhausted;
        all.last_done = all.last_done.max(t.last_done);
        for s in t.samples {
            if all.samples.len() < ERROR_SAMPLES {
                all.samples.push(s);
            }
        }
    }
    let window = all.last_done.map_or(0.0, |d| d.saturating_duration_since(measure_from).as_secs_f64());
    let mut sorted = all.latencies_us;
    sorted.sort_unstable();
    let ok = sorted.len() as u64;
    let rate = if window > 0.0 { ok as f64 / window } else { 0.0 };
    Ok(json!({
        "url": args.url,
        "operation": args.operation.name(),
        "connections": args.connections,
        "warmup_s": args.warmup.as_secs_f64(),
        "duration_s": args.duration.as_secs_f64(),
        "window_s": round3(window),
        "ok": ok,
        "errors": all.errors,
        "warmup_ok": all.warmup_ok,
        "warmup_errors": all.warmup_errors,
        "error_samples": all.samples,
        "req_per_s": round3(rate),
        "p50_ms": quantile_ms(&sorted, 0.50),
        "p90_ms": quantile_ms(&sorted, 0.90),
        "p99_ms": quantile_ms(&sorted, 0.99),
        "max_ms": sorted.last().map_or(0.0, |&us| us as f64 / 1000.0),
        "reconnects": all.reconnects,
        "prepared": match work.as_ref() { Work::Register { bodies, .. } => bodies.len(), Work::Get { .. } => 1 },
        "exhausted": all.exhausted,
        "prepare_s": round3(prepare_s),
    }))
}

fn main() -> ExitCode {
    let args = match args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("load: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = if args.threads == 1 {
        tokio::runtime::Builder::new_current_thread().enable_all().build()
    } else {
        tokio::runtime::Builder::new_multi_thread().worker_threads(args.threads).enable_all().build()
    };
    let result = match runtime {
        Ok(rt) => rt.block_on(run(args)),
        Err(e) => Err(format!("runtime: {e}")),
    };
    common::finish("load", result)
}
