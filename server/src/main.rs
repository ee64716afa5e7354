//! `iot-ca-server --listen ADDR [--store sqlite:PATH | --store postgres://…] [--credentials FILE]`
//!
//! Serves AWS IoT's CA and certificate operations on `ADDR`; prints `listening on http://ADDR`
//! when ready. See `--help`.
#![forbid(unsafe_code)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use iot_ca_server::http::{App, Limits, serve};
use iot_ca_server::sigv4::Credentials;
use iot_ca_server::store::{ClaimIssuerRecord, PostgresStore, SqliteStore, Store};

const USAGE: &str = "usage: iot-ca-server --listen ADDR [--store sqlite:PATH | --store postgres://...]
                     [--credentials FILE] [--claim-issuer CERT.pem,KEY.pem]
                     [--header-timeout SECS] [--body-timeout SECS] [--max-connections N]
                     [--shutdown-deadline SECS]

  --listen ADDR         address to serve on (e.g. 127.0.0.1:8080; port 0 picks a free one)
  --store sqlite:PATH   the registry in a SQLite file (default: sqlite:iot-ca.sqlite3)
  --store postgres://…  the registry in PostgreSQL, shared by every server pointed at it
  --credentials FILE    {\"accessKeys\": [{\"accessKeyId\", \"secretAccessKey\", \"accountId\"}]};
                        without it the one key test/test acts for account 000000000000
  --claim-issuer C,K    sign provisioning claims with this CA certificate and P-256 key (PEM);
                        without it each (account, region) gets its own, made on first use and stored
  --header-timeout S    time to receive a request's headers, and to wait idle between requests (10)
  --body-timeout S      time to receive a request's body (10)
  --max-connections N   connections served at once; more are answered 503 (256)
  --shutdown-deadline S after SIGTERM, time for requests in flight to finish (10)";

struct Args {
    listen: SocketAddr,
    store: String,
    credentials: Option<PathBuf>,
    claim_issuer: Option<(PathBuf, PathBuf)>,
    limits: Limits,
}

fn secs(value: &str, flag: &str) -> Result<Duration, String> {
    value
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s > 0.0)
        .map(Duration::from_secs_f64)
        .ok_or(format!("{flag} needs a positive number of seconds"))
}

fn args() -> Result<Args, String> {
    let mut listen = None;
    let mut store = "sqlite:iot-ca.sqlite3".to_owned();
    let mut credentials = None;
    let mut claim_issuer = None;
    let mut limits = Limits::default();
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = || it.next().ok_or(format!("{arg} needs a value\n{USAGE}"));
        match arg.as_str() {
            "--listen" => {
                let v = value()?;
                listen = Some(v.parse().map_err(|e| format!("--listen {v}: {e}"))?);
            }
            "--store" => store = value()?,
            "--credentials" => credentials = Some(PathBuf::from(value()?)),
            "--claim-issuer" => {
                let v = value()?;
                let (cert, key) = v.split_once(',').ok_or("--claim-issuer takes CERT.pem,KEY.pem")?;
                claim_issuer = Some((PathBuf::from(cert), PathBuf::from(key)));
            }
            "--header-timeout" => limits.header_timeout = secs(&value()?, "--header-timeout")?,
            "--body-timeout" => limits.body_timeout = secs(&value()?, "--body-timeout")?,
            "--shutdown-deadline" => limits.shutdown_deadline = secs(&value()?, "--shutdown-deadline")?,
            "--max-connections" => {
                limits.max_connections =
                    value()?.parse().ok().filter(|n| *n > 0).ok_or("--max-connections needs a positive integer")?;
            }
            "--help" | "-h" => return Err(USAGE.to_owned()),
            other => return Err(format!("unknown argument {other}\n{USAGE}")),
        }
    }
    let listen = listen.ok_or(format!("--listen is required\n{USAGE}"))?;
    Ok(Args { listen, store, credentials, claim_issuer, limits })
}

fn read(path: &PathBuf) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
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

async fn run<S: Store>(
    args: Args,
    store: S,
    credentials: Credentials,
    claim_issuer: Option<ClaimIssuerRecord>,
) -> Result<(), String> {
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let app = Arc::new(App { store, credentials, claim_issuer, limits: args.limits });
    println!("listening on http://{addr}");
    serve(listener, app, stop_signal()).await;
    Ok(())
}

async fn start() -> Result<(), String> {
    let args = args()?;
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
    let claim_issuer = match &args.claim_issuer {
        Some((cert, key)) => Some(ClaimIssuerRecord { certificate_pem: read(cert)?, key_pem: read(key)? }),
        None => None,
    };
    if let Some(path) = args.store.strip_prefix("sqlite:") {
        let store =
            SqliteStore::open(path.as_ref()).await.map_err(|e| format!("store {}: {}", args.store, e.message))?;
        eprintln!("iot-ca-server: store sqlite:{path}");
        run(args, store, credentials, claim_issuer).await
    } else if args.store.starts_with("postgres://") || args.store.starts_with("postgresql://") {
        let store =
            PostgresStore::open(&args.store).await.map_err(|e| format!("store {}: {}", args.store, e.message))?;
        eprintln!("iot-ca-server: store postgres (shared)");
        run(args, store, credentials, claim_issuer).await
    } else {
        Err(format!("--store {}: expected sqlite:PATH or postgres://…", args.store))
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt().with_writer(std::io::stderr).with_target(false).with_ansi(false).init();
    match start().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("iot-ca-server: {e}");
            ExitCode::from(2)
        }
    }
}
