//! The device endpoint: MQTT 3.1.1 and 5 over mutual TLS, where devices connect with their
//! X.509 certificates and where just-in-time registration (JITR) and provisioning (JITP)
//! happen. A transport beside [`crate::http`], on the same store.
//!
//! * [`tls`]: the server certificate (given, or made once and kept in the store) and a client
//!   certificate verifier that checks only the handshake signature: the registry decides at
//!   CONNECT, as AWS IoT does.
//! * [`connect`]: the connect decision, live (the device's account among the registries of the
//!   listener's region, [`iot_ca::decide_connect`], the JITR registration and event, the JITP
//!   provisioning).
//! * [`session`]: one connection, driving mqtt-protocol-core's Sans-IO server state machine.
//! * [`broker`]: subscriptions and fan-out per account, with bounded queues.
//! * [`topic`]: topic and filter rules, the reserved `$aws/` topics.
//! * [`provisioning`]: where fleet-provisioning requests are answered.
//! * [`status`]: connected certificates that stop being ACTIVE are disconnected.
//!
//! # How a refusal looks on the wire
//!
//! Every refused CONNECT is answered with a CONNACK and the connection is closed; the server
//! logs one `mqtt refused` line with the certificateId, the account (when one was found) and
//! the reason.
//!
//! | | MQTT 3.1.1 | MQTT 5 |
//! |---|---|---|
//! | the registry refuses (no certificate, unknown, not ACTIVE, JITR, JITP, several accounts) | `20 02 00 05` (Not authorized) | `20 LL 00 87 PL 1f <len> <reason>`: 0x87 Not authorized with the reason as Reason String |
//! | the store cannot be reached | `20 02 00 03` (Server unavailable) | 0x88 Server unavailable + Reason String |
//! | client id over 128 bytes; empty without a clean session (3.1.1) | `20 02 00 02` (Identifier rejected) | 0x85 Client Identifier not valid + Reason String |
//! | a will that is retained (5), QoS 2 (5), or on an invalid or reserved topic | `20 02 00 05` | 0x9A / 0x9B / 0x90 / 0x87 + Reason String |
//! | protocol level other than 4 or 5 | `20 02 00 01` | — |
//!
//! A connection ended by the server after CONNACK gets, on MQTT 5, a DISCONNECT with a reason
//! code and a Reason String (MQTT 3.1.1 has no server DISCONNECT: the connection is closed):
//! 0x8B shutting down (SIGTERM), 0x87 the certificate is no longer ACTIVE or a reserved topic
//! was used, 0x8D keep-alive, 0x8E another connection took the client id, 0x97 a subscriber too
//! slow for its queue, 0x90 an invalid topic name, 0x9A a retained PUBLISH, 0x9B a QoS 2
//! PUBLISH (MQTT 3.1.1: handled as QoS 1), 0xA1 subscription identifiers.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use iot_ca::Region;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::admission::{Admission, Every};
use crate::store::Store;

pub mod broker;
pub mod connect;
pub mod provisioning;
pub mod session;
pub mod status;
pub mod throttle;
pub mod tls;
pub mod topic;

pub use tls::ServerIdentity;

/// The device endpoint's limits.
#[derive(Clone, Copy, Debug)]
pub struct MqttLimits {
    /// Connections served at once; one more is closed at once (before TLS) and logged.
    pub max_connections: usize,
    /// Time for the TLS handshake.
    pub handshake_timeout: Duration,
    /// Time from the handshake to a CONNECT.
    pub connect_timeout: Duration,
    /// How often the connected certificates' statuses are re-read ([`status`]).
    pub status_interval: Duration,
    /// PUBLISH packets one connection may send per second ([`throttle`]).
    pub publishes_per_second: f64,
    /// After SIGTERM, how long connections have to close.
    pub shutdown_deadline: Duration,
}

impl Default for MqttLimits {
    fn default() -> Self {
        Self {
            max_connections: 10_000,
            handshake_timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(10),
            status_interval: Duration::from_secs(2),
            publishes_per_second: throttle::PUBLISHES_PER_SECOND,
            shutdown_deadline: Duration::from_secs(10),
        }
    }
}

/// What the endpoint is configured with.
#[derive(Clone, Debug)]
pub struct MqttConfig {
    /// The region whose registries devices connect to (`--mqtt-region`).
    pub region: Region,
    /// The endpoint's host name (`--endpoint-address`); `<accountId>.<endpoint address>` as
    /// SNI names an account.
    pub endpoint_address: String,
    /// The limits.
    pub limits: MqttLimits,
    /// What fleet provisioning issues and asks with: the device issuer, the hooks.
    pub service: crate::service::ServiceConfig,
}

/// Everything a device connection is served with.
pub struct Endpoint<S> {
    /// The store, shared with the HTTP API.
    pub store: S,
    /// The configuration.
    pub config: MqttConfig,
    /// The connections and their subscriptions.
    pub broker: Arc<broker::Broker>,
}

impl<S: Store> Endpoint<S> {
    /// An endpoint on `store` with `config` and an empty broker.
    #[must_use]
    pub fn new(store: S, config: MqttConfig) -> Self {
        Self { store, config, broker: Arc::new(broker::Broker::new()) }
    }
}

/// Serves devices on `listener` with TLS `tls` until `stop` completes; then every connection
/// is told (MQTT 5: DISCONNECT 0x8B) and closed within the shutdown deadline. Answers whether
/// every connection closed in time.
pub async fn serve<S: Store>(
    listener: TcpListener,
    endpoint: Arc<Endpoint<S>>,
    tls: Arc<rustls::ServerConfig>,
    stop: impl Future<Output = ()>,
) -> bool {
    let acceptor = tokio_rustls::TlsAcceptor::from(tls);
    let (shutdown_tx, shutdown) = watch::channel(false);
    // No share per address here: a fleet behind one NAT is many devices at one address.
    let max = endpoint.config.limits.max_connections;
    let admission = Admission::new(max, max);
    let (refused_warning, accept_warning) = (Every::new(Duration::from_secs(1)), Every::new(Duration::from_secs(1)));
    let mut connections = JoinSet::new();
    let watcher = tokio::spawn(status::watch_statuses(Arc::clone(&endpoint), shutdown.clone()));
    tokio::pin!(stop);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
            () = &mut stop => break,
        };
        let (tcp, peer): (_, SocketAddr) = match accepted {
            Ok(v) => v,
            Err(e) => {
                if let Some(unwritten) = accept_warning.due(Instant::now()) {
                    tracing::warn!(error = %e, unwritten, "mqtt accept failed");
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let permit = match admission.admit(peer.ip()) {
            Ok(slot) => slot,
            Err(refused) => {
                if let Some(unwritten) = refused_warning.due(Instant::now()) {
                    tracing::warn!(%peer, reason = refused.reason(), unwritten, "mqtt closed");
                }
                drop(tcp);
                continue;
            }
        };
        let (endpoint, acceptor, shutdown) = (Arc::clone(&endpoint), acceptor.clone(), shutdown.clone());
        connections.spawn(async move {
            session::serve(endpoint, acceptor, tcp, peer, shutdown).await;
            drop(permit);
        });
    }
    drop(listener);
    let _ = shutdown_tx.send(true);
    let deadline = endpoint.config.limits.shutdown_deadline;
    tracing::info!(connections = connections.len(), deadline_s = deadline.as_secs(), "mqtt stopping");
    let drained = tokio::time::timeout(deadline, async { while connections.join_next().await.is_some() {} }).await;
    watcher.abort();
    if drained.is_ok() {
        tracing::info!("mqtt stopped: every connection closed");
        true
    } else {
        tracing::warn!(left = connections.len(), "mqtt stopped: the deadline passed with connections still open");
        connections.abort_all();
        false
    }
}
