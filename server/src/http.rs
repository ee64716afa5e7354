//! HTTP/1.1 serving: connection limit, header/body/idle timeouts, body size limit, SigV4 on
//! every request, one log line per request, and a graceful stop.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{CONNECTION, CONTENT_LENGTH, CONTENT_TYPE, HeaderValue};
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use iot_ca::UnixTime;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;

mod refusals;

use crate::admission::{Admission, Every};
use crate::error::ApiError;
use crate::route::route;
use crate::service::{Call, ServiceConfig, handle};
use crate::sigv4::{self, Credentials, SignedRequest};
use crate::store::Store;

/// Largest request body accepted, in bytes (128 KiB).
pub const MAX_BODY_BYTES: usize = 128 * 1024;

/// The one path outside AWS IoT's API: `GET /ping` answers `{}` with 200, unsigned, without
/// touching the store. For liveness probes, and the ceiling the serving stack sets (the same
/// connection handling, limits, routing and log line as every operation; `benches/LOAD.md`).
pub const PING_PATH: &str = "/ping";

/// The server's limits.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Time to receive a request's headers, and how long a kept-alive connection may sit idle
    /// before its next request.
    pub header_timeout: Duration,
    /// Time to receive a request's body once its headers are in.
    pub body_timeout: Duration,
    /// Connections served at once; one more is answered 503 and closed.
    pub max_connections: usize,
    /// Connections one IP address may hold at once (at most `max_connections`); one more from
    /// it is answered 503 and closed, so one client cannot take every slot.
    pub max_connections_per_peer: usize,
    /// Time for a new connection's first byte; a connection that says nothing is closed.
    pub first_byte_timeout: Duration,
    /// After SIGTERM, how long in-flight requests have to finish.
    pub shutdown_deadline: Duration,
    /// How long a request may take once read and verified; past it, 503.
    pub request_deadline: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(10),
            max_connections: 256,
            max_connections_per_peer: 64,
            first_byte_timeout: Duration::from_secs(2),
            shutdown_deadline: Duration::from_secs(10),
            request_deadline: Duration::from_secs(10),
        }
    }
}

/// Everything a request is served with.
pub struct App<S> {
    /// The store.
    pub store: S,
    /// The access keys.
    pub credentials: Credentials,
    /// What the operations are configured with (issuers, the endpoint's address).
    pub config: ServiceConfig,
    /// The limits.
    pub limits: Limits,
}

fn json_response(status: u16, body: &serde_json::Value) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

fn error_response(e: &ApiError) -> Response<Full<Bytes>> {
    let mut response = json_response(e.status, &e.body());
    response.headers_mut().insert("x-amzn-ErrorType", HeaderValue::from_static(e.name));
    if e.close {
        response.headers_mut().insert(CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

/// What the log line says about a request.
struct Outcome {
    operation: &'static str,
    account: String,
    region: String,
}

async fn serve_request<S: Store>(
    app: &App<S>,
    request: Request<Incoming>,
    outcome: &mut Outcome,
) -> Result<serde_json::Value, ApiError> {
    let (parts, body) = request.into_parts();
    let method = parts.method.as_str().to_owned();
    let raw_path = parts.uri.path().to_owned();
    let raw_query = parts.uri.query().unwrap_or("").to_owned();
    if raw_path == PING_PATH && parts.method == hyper::Method::GET {
        outcome.operation = "Ping";
        return Ok(serde_json::Value::Object(serde_json::Map::new()));
    }
    let routed = route(&method, &raw_path);
    if let Ok(r) = &routed {
        outcome.operation = r.operation.name();
    }
    if let Some(region) =
        parts.headers.get("authorization").and_then(|v| v.to_str().ok()).and_then(sigv4::claimed_region)
    {
        outcome.region = region.chars().take(32).collect();
    }
    let declared = parts.headers.get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if let Some(len) = declared.filter(|&len| len > MAX_BODY_BYTES as u64) {
        return Err(too_large(&format!("{len} bytes")).closing());
    }
    let body = match tokio::time::timeout(app.limits.body_timeout, Limited::new(body, MAX_BODY_BYTES).collect()).await {
        Err(_) => {
            return Err(ApiError::new(
                408,
                "RequestTimeoutException",
                format!("The request body was not received within {} s.", app.limits.body_timeout.as_secs()),
            )
            .closing());
        }
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => {
            return Err(too_large("more than that").closing());
        }
        Ok(Err(e)) => {
            return Err(ApiError::invalid_request(format!("The request body could not be read: {e}")).closing());
        }
        Ok(Ok(collected)) => collected.to_bytes(),
    };
    // Verified here, on the async worker: a few HMACs and one SHA-256 of at most
    // MAX_BODY_BYTES (about 70 µs for the largest body, a few µs for a usual one) cost less than
    // the hand-off to a blocking thread and back, which was most of a small request's time.
    let request = SignedRequest {
        method: &method,
        raw_path: &raw_path,
        raw_query: &raw_query,
        headers: parts.headers.iter().map(|(n, v)| (n.as_str(), v.as_bytes())).collect(),
        body: &body,
    };
    let scope = sigv4::verify(&app.credentials, &request, UnixTime::from_system_time(SystemTime::now()))?;
    outcome.account = scope.account().as_str().to_owned();
    let routed = routed?;
    let principal = parts.headers.get("x-amzn-principal").map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let call = Call { route: routed, scope, query: &raw_query, body: &body, principal: principal.as_deref() };
    let deadline = app.limits.request_deadline;
    tokio::time::timeout(deadline, handle(&app.store, call, &app.config)).await.unwrap_or_else(|_| {
        Err(ApiError::store_unavailable(format_args!(
            "the request did not finish within the {:.1} s deadline",
            deadline.as_secs_f64()
        )))
    })
}

fn too_large(size: &str) -> ApiError {
    ApiError::new(
        413,
        "RequestEntityTooLargeException",
        format!("The request body ({size}) exceeds the limit of {MAX_BODY_BYTES} bytes."),
    )
}

async fn respond<S: Store>(app: Arc<App<S>>, request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let started = Instant::now();
    let method = request.method().as_str().to_owned();
    let path = request.uri().path().chars().take(256).collect::<String>();
    let mut outcome = Outcome { operation: "-", account: "-".into(), region: "-".into() };
    let response = match serve_request(&app, request, &mut outcome).await {
        Ok(body) => json_response(200, &body),
        Err(e) => error_response(&e),
    };
    tracing::info!(
        operation = outcome.operation,
        account = %outcome.account,
        region = %outcome.region,
        status = response.status().as_u16(),
        error = response.headers().get("x-amzn-ErrorType").and_then(|v| v.to_str().ok()).unwrap_or("-"),
        latency_ms = format_args!("{:.3}", started.elapsed().as_secs_f64() * 1000.0),
        %method,
        %path,
        "request"
    );
    Ok(response)
}

/// Answers a connection over the limit with 503 and closes it.
async fn refuse(mut stream: tokio::net::TcpStream) {
    let text = refusals::raw_response(&ApiError::unavailable("Too many connections; try again."));
    let _ = tokio::time::timeout(Duration::from_secs(1), stream.write_all(text.as_bytes())).await;
}

/// Serves `listener` until `stop` completes, then lets in-flight requests finish within the
/// shutdown deadline. Answers whether every connection finished in time.
pub async fn serve<S: Store>(listener: TcpListener, app: Arc<App<S>>, stop: impl Future<Output = ()>) -> bool {
    let graceful = GracefulShutdown::new();
    let admission = Admission::new(app.limits.max_connections, app.limits.max_connections_per_peer);
    let (refused_warning, accept_warning) = (Every::new(Duration::from_secs(1)), Every::new(Duration::from_secs(1)));
    let first_byte = app.limits.first_byte_timeout;
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(app.limits.header_timeout).keep_alive(true);
    tokio::pin!(stop);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut stop => break,
        };
        let (stream, peer): (_, SocketAddr) = match accepted {
            Ok(v) => v,
            Err(e) => {
                // Out of descriptors or similar: wait a moment rather than spin.
                if let Some(unwritten) = accept_warning.due(Instant::now()) {
                    tracing::warn!(error = %e, unwritten, "accept failed");
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let slot = match admission.admit(peer.ip()) {
            Ok(slot) => slot,
            Err(refused) => {
                if let Some(unwritten) = refused_warning.due(Instant::now()) {
                    tracing::warn!(%peer, reason = refused.reason(), unwritten, "connection answered 503");
                }
                tokio::spawn(refuse(stream));
                continue;
            }
        };
        // A connection that says nothing within the first-byte timeout is closed before hyper
        // holds it for the header timeout (idle sockets kept open by one client).
        let mut probe = [0u8; 1];
        let app = Arc::clone(&app);
        let builder = builder.clone();
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            match tokio::time::timeout(first_byte, stream.peek(&mut probe)).await {
                Ok(Ok(n)) if n > 0 => {}
                _ => {
                    tracing::debug!(%peer, "closed: no request within the first-byte timeout");
                    return;
                }
            }
            let io = TokioIo::new(refusals::Refusals::new(stream));
            let connection =
                builder.serve_connection(io, service_fn(move |request| respond(Arc::clone(&app), request)));
            if let Err(e) = watcher.watch(connection).await {
                tracing::debug!(%peer, error = %e, "connection ended");
            }
            drop(slot);
        });
    }
    drop(listener);
    let deadline = app.limits.shutdown_deadline;
    tracing::info!(deadline_s = deadline.as_secs(), "stopping: no new connections; finishing requests in flight");
    match tokio::time::timeout(deadline, graceful.shutdown()).await {
        Ok(()) => {
            tracing::info!("stopped: every connection finished");
            true
        }
        Err(_) => {
            tracing::warn!("stopped: the deadline passed with connections still open");
            false
        }
    }
}
