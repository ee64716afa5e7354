//! `iot-ca-server --listen ADDR [--store sqlite:PATH | --store postgres://…] [--credentials FILE]`
//!
//! Serves AWS IoT's CA and certificate operations on `ADDR`; prints `listening on http://ADDR`
//! when ready. See `--help`; every flag has an environment variable too (`IOT_CA_LISTEN`, …).
#![forbid(unsafe_code)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use iot_ca::Region;
use iot_ca_server::error::ApiError;
use iot_ca_server::hook::Hooks;
use iot_ca_server::http::{App, Limits, serve};
use iot_ca_server::mqtt::{self, Endpoint, MqttConfig, MqttLimits, ServerIdentity};
use iot_ca_server::service::issuers::Issuer;
use iot_ca_server::service::{DEFAULT_HEAVY_QUEUE, Heavy, ServiceConfig};
use iot_ca_server::sigv4::Credentials;
use iot_ca_server::store::{IssuerRecord, PostgresStore, SqliteStore, Store, StoreLimits};
use tokio::sync::watch;

/// Longest duration a timeout flag takes: a day (a larger one is a typo, and
/// `Duration::from_secs_f64` would panic past its range).
const MAX_SECS: f64 = 86_400.0;

/// A positive number of seconds, at most [`MAX_SECS`].
fn secs(value: &str) -> Result<Duration, String> {
    let s: f64 = value.parse().map_err(|_| format!("{value:?} is not a number of seconds"))?;
    if !(s > 0.0 && s <= MAX_SECS) {
        return Err(format!("{value} is not between 0 (excluded) and {MAX_SECS} seconds"));
    }
    Duration::try_from_secs_f64(s).map_err(|e| e.to_string())
}

/// A positive count.
fn positive(value: &str) -> Result<usize, String> {
    value.parse::<usize>().ok().filter(|n| *n > 0).ok_or_else(|| format!("{value:?} is not a positive integer"))
}

/// A region name (`us-east-1`, `cn-north-1`, …).
fn region(value: &str) -> Result<Region, String> {
    Region::parse(value).map_err(|e| e.to_string())
}

/// `CERT.pem,KEY.pem`.
fn pair(value: &str) -> Result<(PathBuf, PathBuf), String> {
    let (cert, key) = value.split_once(',').ok_or("expected CERT.pem,KEY.pem")?;
    Ok((PathBuf::from(cert), PathBuf::from(key)))
}

/// AWS IoT's control plane (CA and device certificates, claims, templates) over REST-JSON with
/// SigV4, on SQLite or PostgreSQL. Every flag can also be given as the environment variable
/// named beside it (a container's configuration).
///
/// Example: iot-ca-server --listen 127.0.0.1:8080 --store sqlite:registry.sqlite3
#[derive(Parser)]
#[command(name = "iot-ca-server", version)]
struct Args {
    /// Address to serve on (e.g. 127.0.0.1:8080; port 0 picks a free one).
    #[arg(long, env = "IOT_CA_LISTEN")]
    listen: SocketAddr,
    /// The registry: sqlite:PATH (a file) or postgres://… (shared by every server pointed at it).
    #[arg(long, env = "IOT_CA_STORE", default_value = "sqlite:iot-ca.sqlite3")]
    store: String,
    /// {"accessKeys": [{"accessKeyId", "secretAccessKey", "accountId"}]}; without it the one key
    /// test/test acts for account 000000000000.
    #[arg(long, env = "IOT_CA_CREDENTIALS")]
    credentials: Option<PathBuf>,
    /// Sign provisioning claims with this CA certificate and P-256 key (CERT.pem,KEY.pem);
    /// without it each (account, region) gets its own, made on first use and stored.
    #[arg(long, env = "IOT_CA_CLAIM_ISSUER", value_parser = pair)]
    claim_issuer: Option<(PathBuf, PathBuf)>,
    /// Sign the certificates of CreateKeysAndCertificate, CreateCertificateFromCsr and fleet
    /// provisioning with this CA certificate and P-256 key (CERT.pem,KEY.pem); without it each
    /// (account, region) gets its own, made on first use and stored.
    #[arg(long, env = "IOT_CA_DEVICE_ISSUER", value_parser = pair)]
    device_issuer: Option<(PathBuf, PathBuf)>,
    /// Seconds to receive a request's headers, and to wait idle between requests.
    #[arg(long, env = "IOT_CA_HEADER_TIMEOUT", value_parser = secs, default_value = "10")]
    header_timeout: Duration,
    /// Seconds to receive a request's body.
    #[arg(long, env = "IOT_CA_BODY_TIMEOUT", value_parser = secs, default_value = "10")]
    body_timeout: Duration,
    /// Connections served at once; more are answered 503.
    #[arg(long, env = "IOT_CA_MAX_CONNECTIONS", value_parser = positive, default_value = "256")]
    max_connections: usize,
    /// Connections one IP address may hold at once; more from it are answered 503, so that one
    /// client cannot take every slot.
    #[arg(long, env = "IOT_CA_MAX_CONNECTIONS_PER_PEER", value_parser = positive, default_value = "64")]
    max_connections_per_peer: usize,
    /// Seconds a new connection has to send its first byte; one that says nothing is closed.
    #[arg(long, env = "IOT_CA_FIRST_BYTE_TIMEOUT", value_parser = secs, default_value = "2")]
    first_byte_timeout: Duration,
    /// Key generations and issuings that may wait for a core (one runs per core but one); one
    /// more is answered 429 ThrottlingException, so that cheap requests keep their latency.
    #[arg(long, env = "IOT_CA_HEAVY_QUEUE", value_parser = clap::value_parser!(u32).range(0..=100_000), default_value_t = DEFAULT_HEAVY_QUEUE as u32)]
    heavy_queue: u32,
    /// The device endpoint's host name, as DescribeEndpoint answers it.
    #[arg(long, env = "IOT_CA_ENDPOINT_ADDRESS", default_value = "localhost")]
    endpoint_address: String,
    /// A fleet template's pre-provisioning hook: TARGET_ARN=http://host:port/path (repeat the
    /// flag, or separate with commas in the variable). RegisterThing over MQTT POSTs AWS's hook
    /// input there; an unmapped target, an error or no answer within 5 s denies.
    #[arg(long, env = "IOT_CA_PRE_PROVISIONING_HOOK", value_delimiter = ',')]
    pre_provisioning_hook: Vec<String>,
    /// Seconds a request may take once read (the store's wait for a connection or a lock
    /// included); past it, 503 ServiceUnavailableException rather than a hang.
    #[arg(long, env = "IOT_CA_REQUEST_DEADLINE", value_parser = secs, default_value = "10")]
    request_deadline: Duration,
    /// PostgreSQL connections this process holds at most; requests beyond wait for one within
    /// the request deadline.
    #[arg(long, env = "IOT_CA_STORE_CONNECTIONS", value_parser = clap::value_parser!(u32).range(1..=1000), default_value = "16")]
    store_connections: u32,
    /// After SIGTERM, seconds for requests in flight to finish and device connections to
    /// close (MQTT 5 devices are sent DISCONNECT 0x8B first).
    #[arg(long, env = "IOT_CA_SHUTDOWN_DEADLINE", value_parser = secs, default_value = "10")]
    shutdown_deadline: Duration,
    /// Also serve the device endpoint, MQTT 3.1.1 and 5 over mutual TLS, on this address
    /// (e.g. 127.0.0.1:8883; port 0 picks a free one); prints `mqtt listening on ADDR`.
    #[arg(long, env = "IOT_CA_MQTT_LISTEN")]
    mqtt_listen: Option<SocketAddr>,
    /// The region whose registries devices connect to.
    #[arg(long, env = "IOT_CA_MQTT_REGION", value_parser = region, default_value = "us-east-1")]
    mqtt_region: Region,
    /// The device endpoint's certificate chain (PEM); without it the server makes a root and a
    /// certificate for --endpoint-address, localhost and 127.0.0.1, kept in the store.
    #[arg(long, env = "IOT_CA_TLS_CERT", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The private key of --tls-cert (PEM: PKCS#8, PKCS#1 or SEC1).
    #[arg(long, env = "IOT_CA_TLS_KEY", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Write the root the device endpoint's certificate chains to (PEM) here, for devices'
    /// CA file; only with the certificate the server makes.
    #[arg(long, env = "IOT_CA_TLS_ROOT_OUT", conflicts_with = "tls_cert")]
    tls_root_out: Option<PathBuf>,
    /// Device connections served at once; more are closed before TLS [default: 10000, or as
    /// many as the process's open-file limit leaves room for].
    #[arg(long, env = "IOT_CA_MQTT_MAX_CONNECTIONS", value_parser = positive)]
    mqtt_max_connections: Option<usize>,
}

/// Descriptors kept aside from the connection bounds: listeners, the store's files, stdio,
/// the runtime's own, hooks' connections.
const SPARE_DESCRIPTORS: u64 = 64;

/// The device endpoint's bound when none is given.
const DEFAULT_MQTT_CONNECTIONS: u64 = 10_000;

/// Checks that the connection bounds fit in the process's open-file limit (raising the soft
/// limit to the hard one first), and answers the device endpoint's bound: a bound past the
/// limit would surface later as failed accepts (EMFILE) under load, so it is refused now.
fn descriptor_budget(args: &Args) -> Result<usize, String> {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    let mut soft = limit.current.unwrap_or(u64::MAX);
    if let (Some(current), hard) = (limit.current, limit.maximum) {
        let raised = hard.unwrap_or(u64::MAX);
        if raised > current && setrlimit(Resource::Nofile, Rlimit { current: hard, maximum: hard }).is_ok() {
            soft = raised;
        }
    }
    let mqtt = args.mqtt_listen.is_some();
    let fixed = args.max_connections as u64 + u64::from(args.store_connections) + SPARE_DESCRIPTORS;
    let room = soft.saturating_sub(fixed);
    let mqtt_bound = match args.mqtt_max_connections {
        Some(n) => n as u64,
        None if mqtt => DEFAULT_MQTT_CONNECTIONS.min(room),
        None => DEFAULT_MQTT_CONNECTIONS,
    };
    let needed = fixed + if mqtt { mqtt_bound } else { 0 };
    if needed > soft || (mqtt && mqtt_bound == 0) {
        return Err(format!(
            "--max-connections {}{} with {} store connections need about {needed} open files, and this process may \
             open {soft} (RLIMIT_NOFILE, its hard limit included): lower the bounds or raise the limit (ulimit -n)",
            args.max_connections,
            if mqtt { format!(" and --mqtt-max-connections {mqtt_bound}") } else { String::new() },
            args.store_connections,
        ));
    }
    Ok(usize::try_from(mqtt_bound).unwrap_or(usize::MAX))
}

impl Args {
    fn limits(&self) -> Limits {
        Limits {
            header_timeout: self.header_timeout,
            body_timeout: self.body_timeout,
            max_connections: self.max_connections,
            max_connections_per_peer: self.max_connections_per_peer,
            first_byte_timeout: self.first_byte_timeout,
            shutdown_deadline: self.shutdown_deadline,
            request_deadline: self.request_deadline,
        }
    }

    fn store_limits(&self) -> StoreLimits {
        StoreLimits { connections: self.store_connections, deadline: self.request_deadline }
    }
}

/// An issuer given as `CERT.pem,KEY.pem`, read and checked now: a server that cannot sign with
/// it refuses to start rather than answer every request that needs it with a 500.
fn issuer(paths: Option<&(PathBuf, PathBuf)>, flag: &str) -> Result<Option<IssuerRecord>, String> {
    let Some((cert, key)) = paths else { return Ok(None) };
    let record = IssuerRecord { certificate_pem: read(cert)?, key_pem: read(key)? };
    Issuer::from_record(&record).map_err(|e| format!("{flag}: {e}"))?;
    Ok(Some(record))
}

/// Why the store did not open, with its cause (the database's own words), not the client's
/// message.
fn opening(store: &str, e: &ApiError) -> String {
    format!("store {store}: {}", e.cause.as_deref().unwrap_or(&e.message))
}

/// Largest file the server reads at start (credentials, issuers, TLS certificate and key):
/// 1 MiB, far past any of them, so that `/dev/zero` given by mistake is an error, not all memory.
const MAX_FILE_BYTES: u64 = 1 << 20;

fn read(path: &PathBuf) -> Result<String, String> {
    use std::io::Read;
    let cannot = |e: std::io::Error| format!("cannot read {}: {e}", path.display());
    let mut bytes = Vec::new();
    std::fs::File::open(path).map_err(cannot)?.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes).map_err(cannot)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(format!("{}: more than {MAX_FILE_BYTES} bytes", path.display()));
    }
    String::from_utf8(bytes).map_err(|_| format!("{}: not UTF-8 text", path.display()))
}

/// Completes when `stop` says so (or its sender is gone).
async fn stopped(mut stop: watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

/// The device endpoint, ready to serve: its listener, its endpoint and its TLS.
struct Mqtt<S> {
    listener: tokio::net::TcpListener,
    endpoint: Arc<Endpoint<Arc<S>>>,
    tls: Arc<rustls::ServerConfig>,
}

async fn prepare_mqtt<S: Store>(
    args: &Args,
    store: &Arc<S>,
    addr: SocketAddr,
    service: &ServiceConfig,
) -> Result<Mqtt<S>, String> {
    let identity = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => {
            ServerIdentity::from_pem(&read(cert)?, &read(key)?).map_err(|e| format!("--tls-cert/--tls-key: {e}"))?
        }
        _ => ServerIdentity::kept_in(&**store, &args.endpoint_address)
            .await
            .map_err(|e| format!("the device endpoint's TLS certificate: {}", e.message))?,
    };
    if let (Some(out), Some(root)) = (&args.tls_root_out, &identity.root_pem) {
        std::fs::write(out, root).map_err(|e| format!("cannot write {}: {e}", out.display()))?;
    }
    let tls = identity.server_config()?;
    let listener =
        tokio::net::TcpListener::bind(addr).await.map_err(|e| format!("cannot listen on {addr} (mqtt): {e}"))?;
    // Settled by descriptor_budget at start.
    let mqtt_max_connections = args.mqtt_max_connections.unwrap_or(DEFAULT_MQTT_CONNECTIONS as usize);
    let limits = MqttLimits {
        max_connections: mqtt_max_connections,
        shutdown_deadline: args.shutdown_deadline,
        ..MqttLimits::default()
    };
    let config = MqttConfig {
        region: args.mqtt_region.clone(),
        endpoint_address: args.endpoint_address.clone(),
        limits,
        service: service.clone(),
    };
    Ok(Mqtt { listener, endpoint: Arc::new(Endpoint::new(Arc::clone(store), config)), tls })
}

async fn stop_signal() {
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = term => {}
    }
    tracing::info!("stop signal received");
}

async fn run<S: Store>(args: Args, store: S, credentials: Credentials, config: ServiceConfig) -> Result<(), String> {
    let store = Arc::new(store);
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let mqtt = match args.mqtt_listen {
        Some(mqtt_addr) => Some(prepare_mqtt(&args, &store, mqtt_addr, &config).await?),
        None => None,
    };
    let app = Arc::new(App { store, credentials, config, limits: args.limits() });
    let (stop_tx, stop) = watch::channel(false);
    tokio::spawn(async move {
        stop_signal().await;
        let _ = stop_tx.send(true);
    });
    println!("listening on http://{addr}");
    match mqtt {
        Some(Mqtt { listener: mqtt_listener, endpoint, tls }) => {
            let mqtt_addr = mqtt_listener.local_addr().map_err(|e| e.to_string())?;
            println!("mqtt listening on {mqtt_addr}");
            tokio::spawn(mqtt::provisioning::sweeper(Arc::clone(&endpoint)));
            tokio::join!(
                serve(listener, app, stopped(stop.clone())),
                mqtt::serve(mqtt_listener, endpoint, tls, stopped(stop))
            );
        }
        None => {
            serve(listener, app, stopped(stop)).await;
        }
    }
    Ok(())
}

async fn start(mut args: Args) -> Result<(), String> {
    args.mqtt_max_connections = Some(descriptor_budget(&args)?);
    let credentials = match &args.credentials {
        Some(path) => {
            let c = Credentials::from_json(&read(path)?).map_err(|e| format!("{}: {e}", path.display()))?;
            eprintln!("iot-ca-server: {} access key(s) from {}", c.len(), path.display());
            c
        }
        None => {
            eprintln!("iot-ca-server: no --credentials: accepting the one key test/test as account 000000000000");
            Credentials::test_key()
        }
    };
    let config = ServiceConfig {
        claim_issuer: issuer(args.claim_issuer.as_ref(), "--claim-issuer")?,
        device_issuer: issuer(args.device_issuer.as_ref(), "--device-issuer")?,
        endpoint_address: args.endpoint_address.clone(),
        hooks: Hooks::parse(&args.pre_provisioning_hook)?,
        heavy: Heavy::for_this_machine(args.heavy_queue as usize),
    };
    if let Some(path) = args.store.strip_prefix("sqlite:") {
        let store =
            SqliteStore::open_with(path.as_ref(), args.store_limits()).await.map_err(|e| opening(&args.store, &e))?;
        eprintln!("iot-ca-server: store sqlite:{path}");
        run(args, store, credentials, config).await
    } else if args.store.starts_with("postgres://") || args.store.starts_with("postgresql://") {
        let store =
            PostgresStore::open_with(&args.store, args.store_limits()).await.map_err(|e| opening(&args.store, &e))?;
        eprintln!("iot-ca-server: store postgres (shared)");
        run(args, store, credentials, config).await
    } else {
        Err(format!("--store {}: expected sqlite:PATH or postgres://…", args.store))
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    tracing_subscriber::fmt().with_writer(std::io::stderr).with_target(false).with_ansi(false).init();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("iot-ca-server: cannot start the runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let result = runtime.block_on(start(args));
    // Stopped: the shutdown deadline has passed or nothing was left. Work still running on a
    // blocking thread (a key being generated for a request nobody will be answered) is left,
    // not waited for: dropping the runtime would wait for it (up to 1.9 s past the deadline).
    runtime.shutdown_background();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("iot-ca-server: {e}");
            ExitCode::from(2)
        }
    }
}
