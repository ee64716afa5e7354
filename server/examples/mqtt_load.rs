//! A load generator for an MQTT-over-mutual-TLS endpoint: iot-ca-server's device endpoint, or
//! any broker that asks for a client certificate (Mosquitto with `require_certificate true`, for
//! a comparison on the same machine).
//!
//! ```text
//! cargo run --release -p iot-ca-server --example mqtt_load -- --addr 127.0.0.1:8883 \
//!     --server-name localhost --root ROOT.pem --cert DEVICE.pem --key DEVICE.key \
//!     --mode connect|idle|fleet|keygen [--connections 16] [--duration 10] [--warmup 2] \
//!     [--count 10000] [--hold 10] [--template NAME] [--csr CSR.pem] [--seed 1] [--threads 1]
//! ```
//!
//! Every connection is a full TLS handshake: session resumption is off, and the client offers
//! X25519 alone, which every server here supports, so each pays the same key exchange. The
//! client certificate's key signs the handshake. MQTT 3.1.1 packets are written and read with
//! rumqttc's codec (`rumqttc::mqttbytes::v4`), over tokio-rustls.
//!
//! * `connect`: `--connections` workers, each in a loop: TCP connect, TLS handshake, CONNECT,
//!   CONNACK (return code 0, or it is an error), DISCONNECT, close. Connects per second and the
//!   latency of the whole exchange.
//! * `idle`: opens `--count` connections, `--connections` at a time, each CONNECTed with a keep
//!   alive of 1,200 s; when all are held it prints one JSON line (`held`, `errors`, `open_s`) and
//!   keeps them `--hold` seconds without a byte, then closes them. The caller reads the server's
//!   memory meanwhile.
//! * `fleet`: fleet provisioning by claim (the device SDK's flow): `--cert` and `--key` are the
//!   claim. Each flow connects, subscribes to the accepted and rejected topics, publishes
//!   CreateKeysAndCertificate (or CreateCertificateFromCsr with `--csr`), then RegisterThing for
//!   `--template` with `{"SerialNumber": "load-SEED-WORKER-N"}`, and disconnects. Flows per
//!   second; a rejected answer is an error.
//! * `keygen`: the fleet flow's floor: RSA-2048 key pairs made by the library's own
//!   `KeyPair::generate`, one at a time on each of `--connections` threads, with a seeded RNG.
//!
//! After `--warmup` seconds (not measured) it measures for `--duration` seconds and prints one
//! JSON line: ok and error counts, the first errors, the rate and the latency percentiles.

mod common;

use common::{quantile_ms, round3};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use iot_ca::rand_core::SeedableRng;
use iot_ca::{Backend, KeyAlgorithm, KeyPair};
use rumqttc::mqttbytes::v4::{ConnAck, Connect, Packet, PubAck, Publish, Subscribe, SubscribeFilter};
use rumqttc::mqttbytes::{Error as CodecError, QoS};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

const USAGE: &str = "usage: mqtt_load --addr HOST:PORT --server-name NAME --root ROOT.pem --cert CERT.pem --key KEY.pem
            --mode connect|idle|fleet|keygen [--connections N] [--duration SECS] [--warmup SECS]
            [--count N] [--hold SECS] [--template NAME] [--csr CSR.pem] [--seed N] [--threads N]";

/// Errors kept with their text, at most.
const ERROR_SAMPLES: usize = 5;
/// The largest packet read or written (a certificate, its key and a token fit well inside).
const MAX_PACKET: usize = 64 * 1024;
/// How long one exchange may wait for the server's next packet.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(30);
/// The keep alive of held connections: AWS IoT's largest.
const IDLE_KEEP_ALIVE: u16 = 1200;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Connect,
    Idle,
    Fleet,
    Keygen,
}

#[derive(Debug)]
struct Args {
    addr: Option<SocketAddr>,
    server_name: String,
    root: Option<PathBuf>,
    cert: Option<PathBuf>,
    key: Option<PathBuf>,
    mode: Mode,
    connections: usize,
    duration: Duration,
    warmup: Duration,
    count: usize,
    hold: Duration,
    template: String,
    csr: Option<String>,
    seed: u64,
    threads: usize,
}

fn number<T: std::str::FromStr>(value: &str, flag: &str) -> Result<T, String> {
    value.parse::<T>().map_err(|_| format!("{flag} needs a number"))
}

fn secs(value: &str, flag: &str) -> Result<Duration, String> {
    value
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(Duration::from_secs_f64)
        .ok_or(format!("{flag} needs a number of seconds"))
}

fn args() -> Result<Args, String> {
    let mut mode = None;
    let mut a = Args {
        addr: None,
        server_name: "localhost".into(),
        root: None,
        cert: None,
        key: None,
        mode: Mode::Connect,
        connections: 16,
        duration: Duration::from_secs(10),
        warmup: Duration::from_secs(2),
        count: 10_000,
        hold: Duration::from_secs(10),
        template: String::new(),
        csr: None,
        seed: 1,
        threads: 1,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = || it.next().ok_or(format!("{arg} needs a value\n{USAGE}"));
        match arg.as_str() {
            "--addr" => {
                let v = value()?;
                a.addr = Some(v.parse().map_err(|e| format!("--addr {v}: {e}"))?);
            }
            "--server-name" => a.server_name = value()?,
            "--root" => a.root = Some(value()?.into()),
            "--cert" => a.cert = Some(value()?.into()),
            "--key" => a.key = Some(value()?.into()),
            "--mode" => {
                mode = Some(match value()?.as_str() {
                    "connect" => Mode::Connect,
                    "idle" => Mode::Idle,
                    "fleet" => Mode::Fleet,
                    "keygen" => Mode::Keygen,
                    other => return Err(format!("--mode {other}: expected connect, idle, fleet or keygen")),
                });
            }
            "--connections" => a.connections = number(&value()?, "--connections")?,
            "--duration" => a.duration = secs(&value()?, "--duration")?,
            "--warmup" => a.warmup = secs(&value()?, "--warmup")?,
            "--count" => a.count = number(&value()?, "--count")?,
            "--hold" => a.hold = secs(&value()?, "--hold")?,
            "--template" => a.template = value()?,
            "--csr" => {
                let path = value()?;
                a.csr = Some(std::fs::read_to_string(&path).map_err(|e| format!("--csr {path}: {e}"))?);
            }
            "--seed" => a.seed = number(&value()?, "--seed")?,
            "--threads" => a.threads = number(&value()?, "--threads")?,
            "--help" | "-h" => return Err(USAGE.to_owned()),
            other => return Err(format!("unknown argument {other}\n{USAGE}")),
        }
    }
    a.mode = mode.ok_or(format!("--mode is required\n{USAGE}"))?;
    if a.connections == 0 || a.threads == 0 {
        return Err("--connections and --threads need a positive number".into());
    }
    if a.mode != Mode::Keygen && (a.addr.is_none() || a.root.is_none() || a.cert.is_none() || a.key.is_none()) {
        return Err(format!("--addr, --root, --cert and --key are required for --mode {:?}\n{USAGE}", a.mode));
    }
    if a.mode == Mode::Fleet && a.template.is_empty() {
        return Err("--mode fleet needs --template".into());
    }
    Ok(a)
}

/// What every connection is made with.
struct Dialer {
    addr: SocketAddr,
    name: ServerName<'static>,
    connector: TlsConnector,
}

impl Dialer {
    fn new(args: &Args) -> Result<Self, String> {
        let (Some(addr), Some(root), Some(cert), Some(key)) = (args.addr, &args.root, &args.cert, &args.key) else {
            return Err("--addr, --root, --cert and --key are required".into());
        };
        let mut roots = rustls::RootCertStore::empty();
        for c in CertificateDer::pem_file_iter(root).map_err(|e| format!("--root {}: {e}", root.display()))? {
            roots.add(c.map_err(|e| format!("--root: {e}"))?).map_err(|e| format!("--root: {e}"))?;
        }
        let chain = CertificateDer::pem_file_iter(cert)
            .map_err(|e| format!("--cert {}: {e}", cert.display()))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("--cert: {e}"))?;
        let key = PrivateKeyDer::from_pem_file(key).map_err(|e| format!("--key {}: {e}", key.display()))?;
        let mut provider = rustls::crypto::aws_lc_rs::default_provider();
        provider.kx_groups = vec![rustls::crypto::aws_lc_rs::kx_group::X25519];
        let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(provider))
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS: {e}"))?
            .with_root_certificates(roots)
            .with_client_auth_cert(chain, key)
            .map_err(|e| format!("--cert/--key: {e}"))?;
        config.resumption = rustls::client::Resumption::disabled();
        let name = ServerName::try_from(args.server_name.clone()).map_err(|e| format!("--server-name: {e}"))?;
        Ok(Self { addr, name, connector: TlsConnector::from(Arc::new(config)) })
    }

    /// A connection CONNECTed as `client_id`, its CONNACK accepted.
    async fn connect(&self, client_id: String, keep_alive: u16) -> Result<Session, String> {
        let tcp = TcpStream::connect(self.addr).await.map_err(|e| format!("connect {}: {e}", self.addr))?;
        tcp.set_nodelay(true).map_err(|e| format!("nodelay: {e}"))?;
        let stream = self.connector.connect(self.name.clone(), tcp).await.map_err(|e| format!("TLS: {e}"))?;
        let mut session = Session { stream, read: BytesMut::with_capacity(4096) };
        let mut connect = Connect::new(client_id);
        connect.keep_alive = keep_alive;
        session.send(&Packet::Connect(connect)).await?;
        match session.next().await? {
            Packet::ConnAck(ConnAck { code: rumqttc::ConnectReturnCode::Success, .. }) => Ok(session),
            Packet::ConnAck(ConnAck { code, .. }) => Err(format!("CONNACK {code:?}")),
            other => Err(format!("expected CONNACK, got {other:?}")),
        }
    }
}

/// One MQTT connection over TLS.
struct Session {
    stream: TlsStream<TcpStream>,
    read: BytesMut,
}

impl Session {
    async fn send(&mut self, packet: &Packet) -> Result<(), String> {
        let mut out = BytesMut::new();
        packet.write(&mut out, MAX_PACKET).map_err(|e| format!("encode: {e}"))?;
        self.stream.write_all(&out).await.map_err(|e| format!("write: {e}"))?;
        self.stream.flush().await.map_err(|e| format!("flush: {e}"))
    }

    /// The server's next packet.
    async fn next(&mut self) -> Result<Packet, String> {
        loop {
            match Packet::read(&mut self.read, MAX_PACKET) {
                Ok(p) => return Ok(p),
                Err(CodecError::InsufficientBytes(_)) => {}
                Err(e) => return Err(format!("decode: {e}")),
            }
            let n = tokio::time::timeout(ANSWER_TIMEOUT, self.stream.read_buf(&mut self.read))
                .await
                .map_err(|_| "no answer within 30 s".to_owned())?
                .map_err(|e| format!("read: {e}"))?;
            if n == 0 {
                return Err("the server closed the connection".into());
            }
        }
    }

    /// DISCONNECT, then TLS close_notify and the TCP close.
    async fn close(mut self) -> Result<(), String> {
        self.send(&Packet::Disconnect).await?;
        self.stream.shutdown().await.map_err(|e| format!("shutdown: {e}"))
    }

    /// Publishes `payload` at QoS 1 to `topic` and answers the JSON published on
    /// `topic/accepted`, or the rejected answer as an error.
    async fn ask(&mut self, topic: &str, pkid: u16, payload: &Value) -> Result<Value, String> {
        let mut publish = Publish::new(topic, QoS::AtLeastOnce, payload.to_string());
        publish.pkid = pkid;
        self.send(&Packet::Publish(publish)).await?;
        loop {
            match self.next().await? {
                Packet::PubAck(PubAck { .. }) => {}
                Packet::Publish(p) => {
                    let answer: Value = serde_json::from_slice(&p.payload).map_err(|e| format!("{}: {e}", p.topic))?;
                    let outcome = p.topic.strip_prefix(topic).and_then(|t| t.strip_prefix('/'));
                    match outcome {
                        Some("accepted") => return Ok(answer),
                        Some("rejected") => return Err(format!("{topic} rejected: {answer}")),
                        _ => return Err(format!("unexpected PUBLISH on {}", p.topic)),
                    }
                }
                other => return Err(format!("unexpected {other:?}")),
            }
        }
    }
}

/// One worker's record.
#[derive(Default)]
struct Tally {
    latencies_us: Vec<u64>,
    errors: u64,
    warmup_ok: u64,
    warmup_errors: u64,
    samples: Vec<String>,
    last_done: Option<Instant>,
}

impl Tally {
    fn record(&mut self, started: Instant, measure_from: Instant, result: Result<(), String>) {
        let done = Instant::now();
        let measured = started >= measure_from;
        match (measured, result) {
            (true, Ok(())) => {
                self.latencies_us.push(u64::try_from(done.duration_since(started).as_micros()).unwrap_or(u64::MAX));
                self.last_done = Some(done);
            }
            (true, Err(e)) => {
                self.errors += 1;
                self.last_done = Some(done);
                self.sample(e);
            }
            (false, Ok(())) => self.warmup_ok += 1,
            (false, Err(e)) => {
                self.warmup_errors += 1;
                self.sample(e);
            }
        }
    }

    fn sample(&mut self, e: String) {
        if self.samples.len() < ERROR_SAMPLES {
            self.samples.push(e);
        }
    }

    fn merge(&mut self, t: Self) {
        self.latencies_us.extend(t.latencies_us);
        self.errors += t.errors;
        self.warmup_ok += t.warmup_ok;
        self.warmup_errors += t.warmup_errors;
        self.last_done = self.last_done.max(t.last_done);
        for s in t.samples {
            self.sample(s);
        }
    }

    /// The JSON line: counts, the rate over the measured window and the latency quantiles.
    fn report(mut self, mode: &str, args: &Args, measure_from: Instant, rate_name: &str) -> Value {
        let window = self.last_done.map_or(0.0, |d| d.saturating_duration_since(measure_from).as_secs_f64());
        self.latencies_us.sort_unstable();
        let sorted = &self.latencies_us;
        let ok = sorted.len() as u64;
        let rate = if window > 0.0 { ok as f64 / window } else { 0.0 };
        json!({
            "mode": mode,
            "addr": args.addr.map(|a| a.to_string()),
            "connections": args.connections,
            "warmup_s": args.warmup.as_secs_f64(),
            "duration_s": args.duration.as_secs_f64(),
            "window_s": round3(window),
            "ok": ok,
            "errors": self.errors,
            "warmup_ok": self.warmup_ok,
            "warmup_errors": self.warmup_errors,
            "error_samples": self.samples,
            rate_name: round3(rate),
            "p50_ms": quantile_ms(sorted, 0.50),
            "p90_ms": quantile_ms(sorted, 0.90),
            "p99_ms": quantile_ms(sorted, 0.99),
            "mean_ms": if sorted.is_empty() { 0.0 } else {
                round3(sorted.iter().sum::<u64>() as f64 / sorted.len() as f64 / 1000.0)
            },
        })
    }
}

/// The topics of one fleet flow.
struct Fleet {
    create: &'static str,
    provision: String,
    request: Value,
}

impl Fleet {
    fn new(args: &Args) -> Self {
        let (create, request) = match &args.csr {
            Some(csr) => ("$aws/certificates/create-from-csr/json", json!({ "certificateSigningRequest": csr })),
            None => ("$aws/certificates/create/json", json!({})),
        };
        Self { create, provision: format!("$aws/provisioning-templates/{}/provision/json", args.template), request }
    }

    /// One device provisioned by claim, from connect to disconnect.
    async fn flow(&self, dialer: &Dialer, client_id: String, serial: &str) -> Result<(), String> {
        let mut session = dialer.connect(client_id, 60).await?;
        let filters = [self.create.to_owned(), self.provision.clone()]
            .into_iter()
            .flat_map(|t| [format!("{t}/accepted"), format!("{t}/rejected")])
            .map(|path| SubscribeFilter::new(path, QoS::AtMostOnce));
        let mut subscribe = Subscribe::new_many(filters);
        subscribe.pkid = 1;
        session.send(&Packet::Subscribe(subscribe)).await?;
        match session.next().await? {
            Packet::SubAck(ack)
                if ack.return_codes.iter().all(|c| matches!(c, rumqttc::SubscribeReasonCode::Success(_))) => {}
            other => return Err(format!("expected a SUBACK granting every filter, got {other:?}")),
        }
        let created = session.ask(self.create, 2, &self.request).await?;
        let token =
            created.get("certificateOwnershipToken").and_then(Value::as_str).ok_or("no certificateOwnershipToken")?;
        let register = json!({ "certificateOwnershipToken": token, "parameters": { "SerialNumber": serial } });
        let registered = session.ask(&self.provision, 3, &register).await?;
        if registered.get("thingName").and_then(Value::as_str).is_none() {
            return Err(format!("RegisterThing accepted without a thingName: {registered}"));
        }
        session.close().await
    }
}

async fn timed(args: Arc<Args>, dialer: Arc<Dialer>, fleet: Option<Arc<Fleet>>, worker: usize) -> (Tally, Instant) {
    let start = Instant::now();
    let measure_from = start + args.warmup;
    let until = measure_from + args.duration;
    let mut tally = Tally::default();
    let mut n = 0u64;
    while Instant::now() < until {
        n += 1;
        let started = Instant::now();
        let client_id = format!("load-{}-{worker}-{n}", args.seed);
        let result = match &fleet {
            Some(f) => f.flow(&dialer, client_id.clone(), &client_id).await,
            None => match dialer.connect(client_id, 60).await {
                Ok(session) => session.close().await,
                Err(e) => Err(e),
            },
        };
        tally.record(started, measure_from, result);
    }
    (tally, measure_from)
}

async fn run_timed(args: Arc<Args>) -> Result<Value, String> {
    let dialer = Arc::new(Dialer::new(&args)?);
    let fleet = (args.mode == Mode::Fleet).then(|| Arc::new(Fleet::new(&args)));
    let workers: Vec<_> = (0..args.connections)
        .map(|w| tokio::spawn(timed(Arc::clone(&args), Arc::clone(&dialer), fleet.clone(), w)))
        .collect();
    let mut all = Tally::default();
    let mut measure_from = None;
    for w in workers {
        let (t, from) = w.await.map_err(|e| format!("worker: {e}"))?;
        measure_from = Some(measure_from.unwrap_or(from).min(from));
        all.merge(t);
    }
    let (mode, rate) = match args.mode {
        Mode::Fleet if args.csr.is_some() => ("fleet-csr", "flows_per_s"),
        Mode::Fleet => ("fleet", "flows_per_s"),
        _ => ("connect", "connects_per_s"),
    };
    Ok(all.report(mode, &args, measure_from.unwrap_or_else(Instant::now), rate))
}

async fn run_idle(args: Arc<Args>) -> Result<Value, String> {
    let dialer = Arc::new(Dialer::new(&args)?);
    let started = Instant::now();
    let gate = Arc::new(tokio::sync::Semaphore::new(args.connections));
    let mut opening = tokio::task::JoinSet::new();
    for i in 0..args.count {
        let (dialer, gate, seed) = (Arc::clone(&dialer), Arc::clone(&gate), args.seed);
        opening.spawn(async move {
            let _permit = gate.acquire_owned().await.map_err(|e| e.to_string())?;
            dialer.connect(format!("idle-{seed}-{i}"), IDLE_KEEP_ALIVE).await
        });
    }
    let (mut held, mut errors, mut samples) = (Vec::with_capacity(args.count), 0u64, Vec::new());
    while let Some(joined) = opening.join_next().await {
        match joined.map_err(|e| e.to_string()).and_then(|r| r) {
            Ok(session) => held.push(session),
            Err(e) => {
                errors += 1;
                if samples.len() < ERROR_SAMPLES {
                    samples.push(e);
                }
            }
        }
    }
    let open_s = started.elapsed().as_secs_f64();
    let line = json!({
        "mode": "idle",
        "addr": args.addr.map(|a| a.to_string()),
        "held": held.len(),
        "errors": errors,
        "error_samples": samples,
        "open_s": round3(open_s),
        "hold_s": args.hold.as_secs_f64(),
    });
    // The caller measures while they are held: the line goes out now, not at the end.
    println!("{line}");
    tokio::time::sleep(args.hold).await;
    // Still open? A connection the server dropped meanwhile reads end of file at once.
    let mut dropped = 0u64;
    for session in &mut held {
        let mut byte = [0u8; 1];
        if let Ok(Ok(0) | Err(_)) = tokio::time::timeout(Duration::from_millis(1), session.stream.read(&mut byte)).await
        {
            dropped += 1;
        }
    }
    drop(held);
    Ok(json!({ "mode": "idle-end", "dropped_while_held": dropped }))
}

/// The fleet flow's floor: `KeyPair::generate(Rsa2048)`, one at a time on each thread.
fn run_keygen(args: &Args) -> Result<Value, String> {
    let start = Instant::now();
    let measure_from = start + args.warmup;
    let until = measure_from + args.duration;
    let tallies = std::thread::scope(|s| {
        let handles: Vec<_> = (0..args.connections)
            .map(|t| {
                s.spawn(move || {
                    let mut rng =
                        chacha20::ChaCha20Rng::seed_from_u64(args.seed.wrapping_mul(7919).wrapping_add(t as u64));
                    let mut tally = Tally::default();
                    while Instant::now() < until {
                        let started = Instant::now();
                        let made = KeyPair::generate(KeyAlgorithm::Rsa2048, Backend::preferred(), &mut rng);
                        tally.record(started, measure_from, made.map(drop).map_err(|e| e.to_string()));
                    }
                    tally
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().map_err(|_| "keygen thread panicked".to_owned())).collect::<Vec<_>>()
    });
    let mut all = Tally::default();
    for t in tallies {
        all.merge(t?);
    }
    Ok(all.report("keygen", args, measure_from, "keys_per_s"))
}

fn main() -> ExitCode {
    let args = match args() {
        Ok(a) => Arc::new(a),
        Err(e) => {
            eprintln!("mqtt_load: {e}");
            return ExitCode::from(2);
        }
    };
    let result = if args.mode == Mode::Keygen {
        run_keygen(&args)
    } else {
        let runtime = if args.threads == 1 {
            tokio::runtime::Builder::new_current_thread().enable_all().build()
        } else {
            tokio::runtime::Builder::new_multi_thread().worker_threads(args.threads).enable_all().build()
        };
        match runtime {
            Ok(rt) if args.mode == Mode::Idle => rt.block_on(run_idle(Arc::clone(&args))),
            Ok(rt) => rt.block_on(run_timed(Arc::clone(&args))),
            Err(e) => Err(format!("runtime: {e}")),
        }
    };
    common::finish("mqtt_load", result)
}
