//! One device connection, from the TLS handshake to its end: bytes go through
//! mqtt-protocol-core's Sans-IO server state machine (`Connection<role::Server>`, which frames
//! them within [`MAX_PACKET_BYTES`] before allocating, tracks packet ids and answers PINGREQ),
//! and what it reports is decided here: CONNECT by the registry ([`super::connect`]), PUBLISH,
//! SUBSCRIBE and UNSUBSCRIBE by the topic rules and the broker.
//!
//! The task reads one packet at a time and handles it before the next (a CONNECT's decision
//! is awaited before the packets pipelined behind it are looked at). It stops reading while the
//! connection is over its PUBLISH rate, when a write to the device takes longer than
//! [`WRITE_TIMEOUT`], and ends with exactly one log line: `mqtt refused` (with the reason the
//! device was given), `mqtt disconnected` after an accepted CONNECT, or `mqtt closed` when no
//! CONNECT was decided.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use iot_ca::{AccountScope, CertificateId};
use mqtt_protocol_core::mqtt;
use mqtt_protocol_core::mqtt::common::Cursor;
use mqtt_protocol_core::mqtt::connection::{ConnectionOptions, Event};
use mqtt_protocol_core::mqtt::packet::{
    AssignedClientIdentifier, MaximumQos, Packet, Property, Qos, ReasonString, RetainAvailable, ServerKeepAlive,
    SharedSubscriptionAvailable, SubEntry, SubscriptionIdentifierAvailable, v3_1_1, v5_0,
};
use mqtt_protocol_core::mqtt::prelude::*;
use mqtt_protocol_core::mqtt::result_code::{
    ConnectReasonCode, ConnectReturnCode, DisconnectReasonCode, MqttError, SubackReasonCode, SubackReturnCode,
    UnsubackReasonCode,
};
use mqtt_protocol_core::mqtt::{ArcPayload, IntoPayload, Version};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, watch};
use tokio::time::{Instant, sleep_until, timeout};
use tokio_rustls::server::TlsStream;

use super::broker::{Attachment, Delivery, Inbox, Kick, MAX_SUBSCRIPTIONS, QUEUE_BYTES, QUEUE_MESSAGES};
use super::connect::{Verdict, decide};
use super::throttle::TokenBucket;
use super::topic::{Use, publish_use, subscribe_use, valid_filter, valid_topic};
use super::{Endpoint, provisioning};
use crate::store::Store;

/// Largest packet either way, in bytes (AWS IoT quota: 128 KiB per message).
pub const MAX_PACKET_BYTES: u32 = 128 * 1024;
/// QoS 1 PUBLISH packets one connection may leave unacknowledged (AWS IoT, and inbound:
/// the Receive Maximum the endpoint announces).
pub const MAX_IN_FLIGHT: u16 = 100;
/// Longest client id, in bytes (AWS IoT quota).
pub const MAX_CLIENT_ID_BYTES: usize = 128;
/// The longest keep-alive, in seconds; 0 and longer ones are taken as this (AWS IoT's range
/// ends at 1200 s). The connection ends after 1.5 times it without a packet.
pub const MAX_KEEP_ALIVE_SECS: u16 = 1200;
/// How long one write to a device may take before the connection is given up.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// Bytes read from the TLS stream at a time. rustls keeps the records; this is only how much
/// plaintext one read copies out. The buffer is allocated zeroed and lives as long as the
/// connection, so all of it is resident on every one: 16 KiB made an idle device cost 14 KiB
/// more (`benches/LOAD.md`).
const READ_CHUNK: usize = 2 * 1024;

type ServerConn = mqtt::Connection<mqtt::role::Server>;

/// What a PUBLISH leaves behind when its connection ends abnormally (MQTT §3.1.2.5).
struct Will {
    topic: String,
    payload: ArcPayload,
    qos: Qos,
    properties: Arc<[Property]>,
}

/// What a CONNECT asked for, either version.
struct ConnectRequest {
    client_id: String,
    keep_alive: u16,
    clean: bool,
    will: Option<Will>,
    will_retain: bool,
}

/// A PUBLISH from the device, either version.
struct Incoming {
    topic: String,
    qos: Qos,
    packet_id: Option<u16>,
    retain: bool,
    payload: ArcPayload,
    properties: Arc<[Property]>,
}

/// An accepted connection's state.
struct Live {
    scope: AccountScope,
    attachment: Attachment,
    client_id: String,
    connected_at: Instant,
    will: Option<Will>,
}

/// What ended the connection, for its one log line.
enum Outcome {
    /// Still running.
    Running,
    /// Refused at CONNECT; its line is already written.
    Refused,
    /// Ended for this reason.
    Ended(String),
}

/// The MQTT 5 properties a PUBLISH carries on to MQTT 5 subscribers.
fn forwarded(properties: &[Property]) -> Arc<[Property]> {
    properties
        .iter()
        .filter(|p| {
            matches!(
                p,
                Property::PayloadFormatIndicator(_)
                    | Property::MessageExpiryInterval(_)
                    | Property::ContentType(_)
                    | Property::ResponseTopic(_)
                    | Property::CorrelationData(_)
                    | Property::UserProperty(_)
            )
        })
        .cloned()
        .collect()
}

/// A text cut to `max` characters, for logs and reason strings.
fn clip(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

/// Serves one accepted TCP connection: the TLS handshake within the limit, then the session.
pub(super) async fn serve<S: Store>(
    endpoint: Arc<Endpoint<S>>,
    acceptor: tokio_rustls::TlsAcceptor,
    tcp: TcpStream,
    peer: SocketAddr,
    shutdown: watch::Receiver<bool>,
) {
    let _ = tcp.set_nodelay(true);
    let mut stop = shutdown.clone();
    let handshake = tokio::select! {
        handshake = timeout(endpoint.config.limits.handshake_timeout, acceptor.accept(tcp)) => handshake,
        () = stopped(&mut stop) => {
            tracing::info!(%peer, reason = "the server is shutting down", "mqtt closed");
            return;
        }
    };
    let tls = match handshake {
        Ok(Ok(tls)) => tls,
        Ok(Err(e)) => {
            tracing::info!(%peer, reason = %format_args!("TLS handshake failed: {e}"), "mqtt closed");
            return;
        }
        Err(_) => {
            tracing::info!(%peer, reason = "no TLS handshake within the limit", "mqtt closed");
            return;
        }
    };
    let (_, state) = tls.get_ref();
    let chain: Vec<Vec<u8>> =
        state.peer_certificates().map(|c| c.iter().map(|d| d.as_ref().to_vec()).collect()).unwrap_or_default();
    let sni = state.server_name().map(str::to_owned);
    let mut options = ConnectionOptions::new().maximum_packet_size_recv(MAX_PACKET_BYTES);
    options = options.receive_maximum(MAX_IN_FLIGHT);
    let mut conn = ServerConn::with_options(Version::Undetermined, options);
    conn.set_auto_ping_response(true);
    conn.set_auto_pub_response(false);
    let now = Instant::now();
    let session = Session {
        certificate_id: chain.first().map(|der| CertificateId::of_der(der)),
        deadline: now + endpoint.config.limits.connect_timeout,
        bucket: TokenBucket::new(endpoint.config.limits.publishes_per_second, now),
        endpoint,
        tls,
        conn,
        peer,
        chain,
        sni,
        buf: vec![0; READ_CHUNK],
        pending: Vec::new(),
        write: Vec::new(),
        closing: false,
        outcome: Outcome::Running,
        keep_alive: Duration::ZERO,
        resume_at: None,
        in_flight: HashSet::new(),
        live: None,
        inbox: None,
        kicks: None,
        clean_end: false,
        client_id: None,
        shutdown,
    };
    // Boxed, so the task holds either the handshake's state or a pointer to the session's, not
    // room for both: 35 KiB a connection before, 3.4 KiB now (benches/LOAD.md, idle connections).
    Box::pin(session.run()).await;
}

/// What woke the session.
enum Input {
    Stop,
    Kick(Kick),
    Deadline,
    Resume,
    Read(std::io::Result<usize>),
    Deliver(Delivery),
}

async fn next_kick(kicks: &mut Option<mpsc::Receiver<Kick>>) -> Option<Kick> {
    match kicks {
        Some(k) => k.recv().await,
        None => std::future::pending().await,
    }
}

async fn next_delivery(inbox: &mut Option<Inbox>) -> Option<Delivery> {
    match inbox {
        Some(i) => i.next().await,
        None => std::future::pending().await,
    }
}

/// Why the broker ended a connection, as its reason string says it.
fn kick_reason(kick: &Kick) -> String {
    match kick {
        Kick::Slow => format!(
            "the device did not read its messages fast enough (over {QUEUE_MESSAGES} messages or {QUEUE_BYTES} \
             bytes waiting)"
        ),
        Kick::TakenOver => "another connection connected with the same client id".to_owned(),
        Kick::Certificate(Some(status)) => format!("the certificate is now {status}"),
        Kick::Certificate(None) => "the certificate was deleted".to_owned(),
        Kick::ClaimExpired(at) => format!("the provisioning claim it connected with expired at {at}"),
    }
}

async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stop| *stop).await;
}

struct Session<S: Store> {
    endpoint: Arc<Endpoint<S>>,
    tls: TlsStream<TcpStream>,
    conn: ServerConn,
    peer: SocketAddr,
    /// The presented chain (DER), the device certificate first; empty without one.
    chain: Vec<Vec<u8>>,
    sni: Option<String>,
    certificate_id: Option<CertificateId>,
    buf: Vec<u8>,
    /// Bytes read but not yet handled (the rest of a read, while throttled).
    pending: Vec<u8>,
    /// Bytes to write.
    write: Vec<u8>,
    closing: bool,
    outcome: Outcome,
    /// Before CONNECT: the CONNECT deadline; after: the keep-alive deadline.
    deadline: Instant,
    /// 1.5 × the keep-alive in force.
    keep_alive: Duration,
    bucket: TokenBucket,
    /// When reading resumes, while over the PUBLISH rate.
    resume_at: Option<Instant>,
    /// Packet ids of QoS 1 deliveries the device has not acknowledged yet.
    in_flight: HashSet<u16>,
    live: Option<Live>,
    inbox: Option<Inbox>,
    kicks: Option<mpsc::Receiver<Kick>>,
    /// The device ended with a DISCONNECT that discards its will.
    clean_end: bool,
    /// The client id its CONNECT gave, for the log.
    client_id: Option<String>,
    shutdown: watch::Receiver<bool>,
}

impl<S: Store> Session<S> {
    fn v5(&self) -> bool {
        self.conn.get_protocol_version() == Version::V5_0
    }

    fn end(&mut self, reason: impl Into<String>) {
        if matches!(self.outcome, Outcome::Running) {
            self.outcome = Outcome::Ended(reason.into());
        }
        self.closing = true;
    }

    fn can_deliver(&self) -> bool {
        self.live.is_some()
            && !self.closing
            && self.in_flight.len() < usize::from(MAX_IN_FLIGHT)
            && self.conn.get_receive_maximum_vacancy_for_send().is_none_or(|v| v > 0)
    }

    async fn run(mut self) {
        loop {
            if !self.write.is_empty() {
                let bytes = std::mem::take(&mut self.write);
                let (tls, kicks) = (&mut self.tls, &mut self.kicks);
                // A write the device does not read stalls here; a kick meanwhile (its queue
                // filled up, most likely) ends it at once: no DISCONNECT can get through.
                let written = tokio::select! {
                    written = timeout(WRITE_TIMEOUT, async {
                        tls.write_all(&bytes).await?;
                        tls.flush().await
                    }) => written.map_err(|_| format!("a write to the device took over {} s", WRITE_TIMEOUT.as_secs())),
                    Some(kick) = next_kick(kicks) => Err(format!("{} while a write to the device was stalled", kick_reason(&kick))),
                };
                match written {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => self.end(format!("writing to the device failed: {e}")),
                    Err(reason) => self.end(reason),
                }
            }
            if self.closing {
                break;
            }
            let reading = self.resume_at.is_none();
            let resume_at = self.resume_at.unwrap_or(self.deadline);
            let delivering = self.can_deliver();
            let input = tokio::select! {
                biased;
                () = stopped(&mut self.shutdown) => Input::Stop,
                Some(kick) = next_kick(&mut self.kicks) => Input::Kick(kick),
                () = sleep_until(self.deadline) => Input::Deadline,
                () = sleep_until(resume_at), if !reading => Input::Resume,
                read = self.tls.read(&mut self.buf), if reading => Input::Read(read),
                Some(delivery) = next_delivery(&mut self.inbox), if delivering => Input::Deliver(delivery),
            };
            match input {
                Input::Stop => self.stop(),
                Input::Kick(kick) => self.kicked(&kick),
                Input::Deadline => self.deadline_passed(),
                Input::Resume => {
                    self.resume_at = None;
                    let pending = std::mem::take(&mut self.pending);
                    let used = self.feed(&pending).await;
                    self.pending = pending.get(used..).unwrap_or_default().to_vec();
                }
                Input::Read(Ok(0)) => self.end("the device closed the connection"),
                Input::Read(Ok(n)) => {
                    let buf = std::mem::take(&mut self.buf);
                    let data = buf.get(..n).unwrap_or_default();
                    let used = self.feed(data).await;
                    self.pending = data.get(used..).unwrap_or_default().to_vec();
                    self.buf = buf;
                }
                Input::Read(Err(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                    self.end("the device closed the connection (without TLS close_notify)");
                }
                Input::Read(Err(e)) => self.end(format!("reading from the device failed: {e}")),
                Input::Deliver(delivery) => self.deliver(&delivery),
            }
        }
        // Boxed: the session's end (it owns the session again) is not room every idle one carries.
        Box::pin(self.finish()).await;
    }

    /// Hands `data` to the state machine one packet at a time, handling each; stops early when
    /// closing or over the PUBLISH rate. Answers how many bytes it used.
    async fn feed(&mut self, data: &[u8]) -> usize {
        let mut cursor = Cursor::new(data);
        while usize::try_from(cursor.position()).is_ok_and(|at| at < data.len())
            && !self.closing
            && self.resume_at.is_none()
        {
            let events = self.conn.recv(&mut cursor);
            self.received(events).await;
        }
        usize::try_from(cursor.position()).unwrap_or(data.len())
    }

    /// Handles what the state machine reports for received bytes. Every error it reports for
    /// them ends the connection (some come without a close request).
    async fn received(&mut self, events: Vec<Event>) {
        for event in events {
            match event {
                Event::RequestSendPacket { packet, .. } => self.write.extend(packet.to_continuous_buffer()),
                Event::NotifyPacketReceived(packet) => {
                    if !self.closing {
                        if self.live.is_some() {
                            self.deadline = Instant::now() + self.keep_alive;
                        }
                        self.packet(packet).await;
                    }
                }
                Event::NotifyPacketIdReleased(id) => {
                    self.in_flight.remove(&id);
                }
                Event::RequestTimerReset { .. } | Event::RequestTimerCancel(_) => {}
                Event::NotifyError(e) => self.protocol_error(&e),
                Event::RequestClose => self.closing = true,
            }
        }
    }

    fn protocol_error(&mut self, e: &MqttError) {
        if self.live.is_some() || !matches!(self.outcome, Outcome::Running) {
            self.end(format!("protocol error: {e}"));
            return;
        }
        // Before a CONNECT was decided: the state machine answered a malformed CONNECT with a
        // CONNACK of its own, or nothing (another packet first; a protocol level other than 4
        // or 5, which is answered here with return code 1 as MQTT 3.1.1 §3.2.2.3 says).
        if *e == MqttError::UnsupportedProtocolVersion {
            self.write.extend([0x20, 0x02, 0x00, 0x01]);
            self.refused(None, "the protocol level is not MQTT 3.1.1 (4) or 5");
        } else {
            self.refused(None, &format!("the CONNECT is malformed or missing: {e}"));
        }
    }

    /// Writes the refusal's one log line and closes.
    fn refused(&mut self, account: Option<&iot_ca::AccountId>, reason: &str) {
        if !matches!(self.outcome, Outcome::Running) {
            return;
        }
        tracing::info!(
            certificate_id = %self.certificate_id.as_ref().map_or("-", CertificateId::as_str),
            account = %account.map_or("-", iot_ca::AccountId::as_str),
            client_id = %self.client_id.as_deref().map_or_else(|| "-".to_owned(), |c| clip(c, MAX_CLIENT_ID_BYTES)),
            peer = %self.peer,
            reason,
            "mqtt refused"
        );
        self.outcome = Outcome::Refused;
        self.closing = true;
    }

    /// Sends an acknowledgement `what` the codec built (`built`), or ends the session with the
    /// internal failure that kept it from being built or sent.
    fn acknowledge<E: std::fmt::Display>(&mut self, what: &str, built: Result<Vec<Event>, E>) {
        let failure = match built {
            Ok(events) => self.sent(events).map(|e| e.to_string()),
            Err(e) => Some(e.to_string()),
        };
        if let Some(e) = failure {
            self.end(format!("internal failure: {what}: {e}"));
        }
    }

    /// Sends what `checked_send` answered; the error it reports, if any, is returned (for a
    /// packet sent, it concerns that packet only).
    fn sent(&mut self, events: Vec<Event>) -> Option<MqttError> {
        let mut error = None;
        for event in events {
            match event {
                Event::RequestSendPacket { packet, .. } => self.write.extend(packet.to_continuous_buffer()),
                Event::NotifyPacketIdReleased(id) => {
                    self.in_flight.remove(&id);
                }
                Event::NotifyError(e) => error = Some(e),
                Event::RequestClose => self.closing = true,
                Event::NotifyPacketReceived(_) | Event::RequestTimerReset { .. } | Event::RequestTimerCancel(_) => {}
            }
        }
        error
    }

    /// Ends the connection with `code` and `reason`: an MQTT 5 DISCONNECT carrying both, or
    /// (MQTT 3.1.1, which has no server DISCONNECT) a close.
    fn disconnect(&mut self, code: DisconnectReasonCode, reason: &str) {
        if self.v5() && self.live.is_some() && !self.closing {
            let with_reason = ReasonString::new(reason)
                .and_then(|r| v5_0::Disconnect::builder().reason_code(code).props(vec![r.into()]).build());
            let error = match with_reason {
                Ok(packet) => {
                    let events = self.conn.checked_send(packet);
                    self.sent(events)
                }
                Err(e) => Some(e),
            };
            // Too large for the device's Maximum Packet Size: the code alone.
            if error.is_some()
                && let Ok(packet) = v5_0::Disconnect::builder().reason_code(code).build()
            {
                let events = self.conn.checked_send(packet);
                self.sent(events);
            }
        }
        self.end(format!("{reason} (0x{:02x})", code as u8));
    }

    fn stop(&mut self) {
        if self.live.is_some() {
            self.disconnect(DisconnectReasonCode::ServerShuttingDown, "the server is shutting down");
        } else {
            self.end("the server is shutting down");
        }
    }

    fn kicked(&mut self, kick: &Kick) {
        let code = match kick {
            Kick::Slow => DisconnectReasonCode::QuotaExceeded,
            Kick::TakenOver => DisconnectReasonCode::SessionTakenOver,
            Kick::Certificate(_) | Kick::ClaimExpired(_) => DisconnectReasonCode::NotAuthorized,
        };
        self.disconnect(code, &kick_reason(kick));
    }

    fn deadline_passed(&mut self) {
        if self.live.is_none() {
            self.end(format!("no CONNECT within {} s", self.endpoint.config.limits.connect_timeout.as_secs_f64()));
        } else if let Some(resume) = self.resume_at {
            // Not read because of the rate limit: the device is not idle.
            self.deadline = resume + self.keep_alive;
        } else {
            let reason = format!("no packet within 1.5 times the keep-alive ({} s)", self.keep_alive.as_secs_f64());
            self.disconnect(DisconnectReasonCode::KeepAliveTimeout, &reason);
        }
    }

    async fn packet(&mut self, packet: Packet) {
        match packet {
            Packet::V3_1_1Connect(c) => {
                let will = c.will_flag().then(|| Will {
                    topic: c.will_topic().unwrap_or_default().to_owned(),
                    payload: c.will_payload().unwrap_or_default().into_payload(),
                    qos: c.will_qos().min(Qos::AtLeastOnce),
                    properties: Arc::new([]),
                });
                let request = ConnectRequest {
                    client_id: c.client_id().to_owned(),
                    keep_alive: c.keep_alive(),
                    clean: c.clean_session(),
                    will,
                    will_retain: false,
                };
                self.connect(request).await;
            }
            Packet::V5_0Connect(c) => {
                if c.will_flag() && c.will_qos() == Qos::ExactlyOnce {
                    self.refuse_connect(
                        None,
                        ConnectReturnCode::NotAuthorized,
                        ConnectReasonCode::QosNotSupported,
                        "a will with QoS 2 is not supported (the maximum QoS is 1)",
                    );
                    return;
                }
                let will = c.will_flag().then(|| Will {
                    topic: c.will_topic().unwrap_or_default().to_owned(),
                    payload: c.will_payload().unwrap_or_default().into_payload(),
                    qos: c.will_qos(),
                    properties: forwarded(c.will_props()),
                });
                let request = ConnectRequest {
                    client_id: c.client_id().to_owned(),
                    keep_alive: c.keep_alive(),
                    clean: c.clean_start(),
                    will,
                    will_retain: c.will_flag() && c.will_retain(),
                };
                self.connect(request).await;
            }
            Packet::V3_1_1Publish(p) => {
                let incoming = Incoming {
                    topic: p.topic_name().to_owned(),
                    qos: p.qos(),
                    packet_id: p.packet_id(),
                    retain: p.retain(),
                    payload: p.payload().clone(),
                    properties: Arc::new([]),
                };
                self.publish(incoming).await;
            }
            Packet::V5_0Publish(p) => {
                let incoming = Incoming {
                    topic: p.topic_name().to_owned(),
                    qos: p.qos(),
                    packet_id: p.packet_id(),
                    retain: p.retain(),
                    payload: p.payload().clone(),
                    properties: forwarded(p.props()),
                };
                self.publish(incoming).await;
            }
            Packet::V3_1_1Subscribe(s) => self.subscribe(s.packet_id(), s.entries()),
            Packet::V5_0Subscribe(s) => {
                if s.props().iter().any(|p| matches!(p, Property::SubscriptionIdentifier(_))) {
                    self.disconnect(
                        DisconnectReasonCode::SubscriptionIdentifiersNotSupported,
                        "subscription identifiers are not supported",
                    );
                } else {
                    self.subscribe(s.packet_id(), s.entries());
                }
            }
            Packet::V3_1_1Unsubscribe(u) => {
                let filters: Vec<String> = u.entries().iter().map(|f| f.as_str().to_owned()).collect();
                self.unsubscribe(u.packet_id(), &filters);
            }
            Packet::V5_0Unsubscribe(u) => {
                let filters: Vec<String> = u.entries().iter().map(|f| f.as_str().to_owned()).collect();
                self.unsubscribe(u.packet_id(), &filters);
            }
            Packet::V3_1_1Disconnect(_) => {
                self.clean_end = true;
                self.end("the device disconnected");
            }
            Packet::V5_0Disconnect(d) => {
                let code = d.reason_code().unwrap_or(DisconnectReasonCode::NormalDisconnection);
                self.clean_end = code != DisconnectReasonCode::DisconnectWithWillMessage;
                self.end(format!("the device disconnected (0x{:02x})", code as u8));
            }
            Packet::V3_1_1Pingreq(_) | Packet::V5_0Pingreq(_) | Packet::V3_1_1Puback(_) | Packet::V5_0Puback(_) => {}
            other => {
                let kind = format!("{:?}", other.packet_type());
                if self.live.is_some() {
                    self.disconnect(
                        DisconnectReasonCode::ProtocolError,
                        &format!("{kind} is not served here (QoS 2 and AUTH are not supported)"),
                    );
                } else {
                    self.end(format!("{kind} before CONNECT"));
                }
            }
        }
    }

    /// Answers a CONNECT with a refusal: `v3` or `v5` and `reason` (MQTT 5: as the reason
    /// string, left out when the device's Maximum Packet Size has no room for it), and writes
    /// the refusal's log line with `account`, the registry the decision was made against.
    fn refuse_connect(
        &mut self,
        account: Option<&iot_ca::AccountId>,
        v3: ConnectReturnCode,
        v5: ConnectReasonCode,
        reason: &str,
    ) {
        if self.v5() {
            let with_reason = ReasonString::new(reason).and_then(|r| {
                v5_0::Connack::builder().session_present(false).reason_code(v5).props(vec![r.into()]).build()
            });
            let error = match with_reason {
                Ok(packet) => {
                    let events = self.conn.checked_send(packet);
                    self.sent(events)
                }
                Err(e) => Some(e),
            };
            if error.is_some()
                && let Ok(packet) = v5_0::Connack::builder().session_present(false).reason_code(v5).build()
            {
                let events = self.conn.checked_send(packet);
                self.sent(events);
            }
        } else if let Ok(packet) = v3_1_1::Connack::builder().session_present(false).return_code(v3).build() {
            let events = self.conn.checked_send(packet);
            self.sent(events);
        }
        self.refused(account, reason);
    }

    async fn connect(&mut self, mut request: ConnectRequest) {
        let v5 = self.v5();
        self.client_id = Some(request.client_id.clone());
        if request.client_id.len() > MAX_CLIENT_ID_BYTES {
            let reason = format!("the client id is longer than {MAX_CLIENT_ID_BYTES} bytes");
            self.refuse_connect(
                None,
                ConnectReturnCode::IdentifierRejected,
                ConnectReasonCode::ClientIdentifierNotValid,
                &reason,
            );
            return;
        }
        let mut assigned = None;
        if request.client_id.is_empty() {
            if !v5 && !request.clean {
                self.refuse_connect(
                    None,
                    ConnectReturnCode::IdentifierRejected,
                    ConnectReasonCode::ClientIdentifierNotValid,
                    "an empty client id needs a clean session",
                );
                return;
            }
            let mut bytes = [0u8; 16];
            rand::Rng::fill_bytes(&mut rand::rng(), &mut bytes);
            let id = format!("iot-ca-{}", hex::encode(bytes));
            request.client_id.clone_from(&id);
            self.client_id = Some(id.clone());
            assigned = Some(id);
        }
        if request.will_retain {
            self.refuse_connect(
                None,
                ConnectReturnCode::NotAuthorized,
                ConnectReasonCode::RetainNotSupported,
                "a retained will is not supported (no retained messages)",
            );
            return;
        }
        if let Some(will) = &request.will {
            let topic = clip(&will.topic, 256);
            if !valid_topic(&will.topic) {
                let reason = format!("the will topic {topic:?} is not a valid topic name");
                self.refuse_connect(
                    None,
                    ConnectReturnCode::NotAuthorized,
                    ConnectReasonCode::TopicNameInvalid,
                    &reason,
                );
                return;
            }
            if publish_use(&will.topic) != Use::Ordinary {
                let reason = format!("the will topic {topic} is a reserved topic");
                self.refuse_connect(None, ConnectReturnCode::NotAuthorized, ConnectReasonCode::NotAuthorized, &reason);
                return;
            }
        }
        // Boxed, as fleet provisioning below: an async fn's state is as large as its largest
        // await, and every idle connection would carry these rare ones' (`benches/LOAD.md`).
        let verdict = Box::pin(decide(&self.endpoint, self.chain.clone(), self.sni.clone())).await;
        match verdict {
            Verdict::Accept { scope, certificate_id } => self.accept(scope, certificate_id, request, assigned),
            Verdict::Refuse { certificate_id, account, reason, unavailable } => {
                if certificate_id.is_some() {
                    self.certificate_id = certificate_id;
                }
                let (v3, v5) = if unavailable {
                    (ConnectReturnCode::ServerUnavailable, ConnectReasonCode::ServerUnavailable)
                } else {
                    (ConnectReturnCode::NotAuthorized, ConnectReasonCode::NotAuthorized)
                };
                self.refuse_connect(account.as_ref(), v3, v5, &reason);
            }
        }
    }

    fn accept(
        &mut self,
        scope: AccountScope,
        certificate_id: CertificateId,
        request: ConnectRequest,
        assigned: Option<String>,
    ) {
        let keep_alive = match request.keep_alive {
            0 => MAX_KEEP_ALIVE_SECS,
            k => k.min(MAX_KEEP_ALIVE_SECS),
        };
        let sent = if self.v5() {
            let mut props: Vec<Property> = Vec::new();
            let built = (|| -> Result<v5_0::Connack, MqttError> {
                props.push(MaximumQos::new(1)?.into());
                props.push(RetainAvailable::new(0)?.into());
                props.push(SharedSubscriptionAvailable::new(0)?.into());
                props.push(SubscriptionIdentifierAvailable::new(0)?.into());
                if keep_alive != request.keep_alive {
                    props.push(ServerKeepAlive::new(keep_alive)?.into());
                }
                if let Some(id) = &assigned {
                    props.push(AssignedClientIdentifier::new(id.as_str())?.into());
                }
                v5_0::Connack::builder()
                    .session_present(false)
                    .reason_code(ConnectReasonCode::Success)
                    .props(std::mem::take(&mut props))
                    .build()
            })();
            built.map(|packet| self.conn.checked_send(packet))
        } else {
            v3_1_1::Connack::builder()
                .session_present(false)
                .return_code(ConnectReturnCode::Accepted)
                .build()
                .map(|packet| self.conn.checked_send(packet))
        };
        let failed = match sent {
            Ok(events) => self.sent(events),
            Err(e) => Some(e),
        };
        if let Some(e) = failed {
            self.certificate_id = Some(certificate_id);
            self.refused(Some(scope.account()), &format!("internal failure: the CONNACK could not be sent: {e}"));
            return;
        }
        let (attachment, inbox, kicks) =
            self.endpoint.broker.attach(scope.account().clone(), request.client_id.clone(), certificate_id.clone());
        self.keep_alive = Duration::from_millis(u64::from(keep_alive) * 1500);
        self.deadline = Instant::now() + self.keep_alive;
        tracing::info!(
            certificate_id = %certificate_id,
            account = %scope.account(),
            client_id = %clip(&request.client_id, MAX_CLIENT_ID_BYTES),
            peer = %self.peer,
            protocol = if self.v5() { "5" } else { "3.1.1" },
            keep_alive_s = keep_alive,
            "mqtt connected"
        );
        self.certificate_id = Some(certificate_id);
        self.inbox = Some(inbox);
        self.kicks = Some(kicks);
        self.live = Some(Live {
            scope,
            attachment,
            client_id: request.client_id,
            connected_at: Instant::now(),
            will: request.will,
        });
    }

    async fn publish(&mut self, mut incoming: Incoming) {
        let Some(live) = &self.live else {
            self.end("PUBLISH before CONNACK");
            return;
        };
        let (scope, id) = (live.scope.clone(), live.attachment.id());
        if incoming.qos == Qos::ExactlyOnce {
            if self.v5() {
                self.disconnect(DisconnectReasonCode::QosNotSupported, "QoS 2 is not supported (the maximum QoS is 1)");
                return;
            }
            // MQTT 3.1.1 cannot be told the maximum: QoS 2 is handled as 1 (PUBACK). The state
            // machine remembers the id as a QoS 2 exchange in progress and would swallow the
            // next QoS 2 PUBLISH reusing it: it is told there is none.
            incoming.qos = Qos::AtLeastOnce;
            self.conn.restore_qos2_publish_handled(Default::default());
        }
        if incoming.packet_id == Some(0) {
            self.disconnect(DisconnectReasonCode::ProtocolError, "a QoS 1 PUBLISH has packet identifier 0");
            return;
        }
        if incoming.retain {
            self.disconnect(DisconnectReasonCode::RetainNotSupported, "retained messages are not supported");
            return;
        }
        if !valid_topic(&incoming.topic) {
            let reason =
                format!("the topic name {:?} is not valid (1 to 256 bytes, no wildcard)", clip(&incoming.topic, 256));
            self.disconnect(DisconnectReasonCode::TopicNameInvalid, &reason);
            return;
        }
        if let Some(wait) = self.bucket.take(Instant::now()) {
            self.resume_at = Some(Instant::now() + wait);
        }
        match publish_use(&incoming.topic) {
            Use::Forbidden => {
                let reason =
                    format!("publishing to {} is not allowed: a reserved topic not served here", incoming.topic);
                self.disconnect(DisconnectReasonCode::NotAuthorized, &reason);
                return;
            }
            Use::FleetProvisioning => {
                let certificate_id = self.certificate_id.clone().unwrap_or_else(|| CertificateId::of_der(&[]));
                let client_id = self.client_id.clone().unwrap_or_default();
                let who =
                    provisioning::Requester { scope: &scope, certificate_id: &certificate_id, client_id: &client_id };
                let answers =
                    Box::pin(provisioning::handle(&self.endpoint, who, &incoming.topic, incoming.payload.as_slice()))
                        .await;
                for answer in answers {
                    let delivery = Delivery {
                        topic: answer.topic.as_str().into(),
                        payload: answer.payload.into_payload(),
                        qos: Qos::AtLeastOnce,
                        properties: Arc::new([]),
                    };
                    self.endpoint.broker.publish_to(id, &delivery);
                }
            }
            Use::Ordinary | Use::Reserved => {
                let delivery = Delivery {
                    topic: incoming.topic.as_str().into(),
                    payload: incoming.payload,
                    qos: incoming.qos,
                    properties: incoming.properties,
                };
                self.endpoint.broker.publish(scope.account(), &incoming.topic, &delivery, Some(id));
            }
        }
        if let Some(packet_id) = incoming.packet_id {
            let events = if self.v5() {
                v5_0::Puback::builder().packet_id(packet_id).build().map(|p| self.conn.checked_send(p))
            } else {
                v3_1_1::Puback::builder().packet_id(packet_id).build().map(|p| self.conn.checked_send(p))
            };
            self.acknowledge("PUBACK", events);
        }
    }

    fn subscribe(&mut self, packet_id: u16, entries: &[SubEntry]) {
        let v5 = self.v5();
        let Some(live) = &self.live else {
            self.end("SUBSCRIBE before CONNACK");
            return;
        };
        let mut granted: Vec<Option<Qos>> = Vec::with_capacity(entries.len());
        let mut codes5 = Vec::with_capacity(entries.len());
        for (i, entry) in entries.iter().enumerate() {
            let filter = entry.topic_filter();
            let code = if i >= MAX_SUBSCRIPTIONS {
                SubackReasonCode::QuotaExceeded
            } else if !valid_filter(filter) {
                SubackReasonCode::TopicFilterInvalid
            } else if v5 && filter.starts_with("$share/") {
                SubackReasonCode::SharedSubscriptionsNotSupported
            } else if subscribe_use(filter) == Use::Forbidden {
                let reason = format!("subscribing to {filter} is not allowed: a reserved topic not served here");
                self.disconnect(DisconnectReasonCode::NotAuthorized, &reason);
                return;
            } else {
                let qos = entry.sub_opts().qos().min(Qos::AtLeastOnce);
                match live.attachment.subscribe(filter, qos, v5 && entry.sub_opts().nl()) {
                    Ok(()) if qos == Qos::AtMostOnce => SubackReasonCode::GrantedQos0,
                    Ok(()) => SubackReasonCode::GrantedQos1,
                    Err(_) => SubackReasonCode::QuotaExceeded,
                }
            };
            granted.push(match code {
                SubackReasonCode::GrantedQos0 => Some(Qos::AtMostOnce),
                SubackReasonCode::GrantedQos1 => Some(Qos::AtLeastOnce),
                _ => None,
            });
            codes5.push(code);
        }
        let events = if v5 {
            v5_0::Suback::builder().packet_id(packet_id).reason_codes(codes5).build().map(|p| self.conn.checked_send(p))
        } else {
            let codes3 = granted
                .iter()
                .map(|g| match g {
                    Some(Qos::AtMostOnce) => SubackReturnCode::SuccessMaximumQos0,
                    Some(_) => SubackReturnCode::SuccessMaximumQos1,
                    None => SubackReturnCode::Failure,
                })
                .collect();
            v3_1_1::Suback::builder()
                .packet_id(packet_id)
                .return_codes(codes3)
                .build()
                .map(|p| self.conn.checked_send(p))
        };
        self.acknowledge("SUBACK", events);
    }

    fn unsubscribe(&mut self, packet_id: u16, filters: &[String]) {
        let Some(live) = &self.live else {
            self.end("UNSUBSCRIBE before CONNACK");
            return;
        };
        let codes: Vec<UnsubackReasonCode> = filters
            .iter()
            .map(|f| {
                if live.attachment.unsubscribe(f) {
                    UnsubackReasonCode::Success
                } else {
                    UnsubackReasonCode::NoSubscriptionExisted
                }
            })
            .collect();
        let events = if self.v5() {
            v5_0::Unsuback::builder()
                .packet_id(packet_id)
                .reason_codes(codes)
                .build()
                .map(|p| self.conn.checked_send(p))
        } else {
            v3_1_1::Unsuback::builder().packet_id(packet_id).build().map(|p| self.conn.checked_send(p))
        };
        self.acknowledge("UNSUBACK", events);
    }

    /// Sends a message from the broker. One the device's Maximum Packet Size has no room for
    /// is dropped (MQTT 5 §3.1.2.11.4).
    fn deliver(&mut self, delivery: &Delivery) {
        let packet_id = match delivery.qos {
            Qos::AtMostOnce => None,
            _ => match self.conn.acquire_packet_id() {
                Ok(id) => Some(id),
                Err(_) => return,
            },
        };
        let events = if self.v5() {
            let mut builder = v5_0::Publish::builder().qos(delivery.qos).payload(delivery.payload.clone());
            if let Some(id) = packet_id {
                builder = builder.packet_id(id);
            }
            if !delivery.properties.is_empty() {
                builder = builder.props(delivery.properties.to_vec());
            }
            builder.topic_name(&*delivery.topic).and_then(|b| b.build()).map(|p| self.conn.checked_send(p))
        } else {
            let mut builder = v3_1_1::Publish::builder().qos(delivery.qos).payload(delivery.payload.clone());
            if let Some(id) = packet_id {
                builder = builder.packet_id(id);
            }
            builder.topic_name(&*delivery.topic).and_then(|b| b.build()).map(|p| self.conn.checked_send(p))
        };
        let went = match events {
            Ok(events) => {
                let went = events.iter().any(|e| matches!(e, Event::RequestSendPacket { .. }));
                self.sent(events);
                went
            }
            Err(_) => false,
        };
        if let Some(id) = packet_id {
            if went {
                self.in_flight.insert(id);
            } else {
                let events = self.conn.release_packet_id(id);
                self.sent(events);
            }
        }
    }

    async fn finish(mut self) {
        if !self.write.is_empty() {
            let bytes = std::mem::take(&mut self.write);
            let _ = timeout(Duration::from_secs(1), self.tls.write_all(&bytes)).await;
        }
        let _ = self.conn.notify_closed();
        let _ = timeout(Duration::from_secs(1), self.tls.shutdown()).await;
        let certificate_id = self.certificate_id.as_ref().map_or("-", CertificateId::as_str);
        let reason = match &self.outcome {
            Outcome::Ended(reason) => reason.as_str(),
            // Refused: its line is written.
            Outcome::Refused => return,
            Outcome::Running => "-",
        };
        let Some(live) = self.live.take() else {
            tracing::info!(certificate_id = %certificate_id, peer = %self.peer, reason, "mqtt closed");
            return;
        };
        let Live { scope, attachment, client_id, connected_at, will } = live;
        // Detached first: the will is for the others.
        drop(attachment);
        let stopping = *self.shutdown.borrow();
        if !self.clean_end
            && !stopping
            && let Some(will) = will
        {
            let delivery = Delivery {
                topic: will.topic.as_str().into(),
                payload: will.payload,
                qos: will.qos,
                properties: will.properties,
            };
            self.endpoint.broker.publish(scope.account(), &will.topic, &delivery, None);
        }
        tracing::info!(
            certificate_id = %certificate_id,
            account = %scope.account(),
            client_id = %clip(&client_id, MAX_CLIENT_ID_BYTES),
            peer = %self.peer,
            connected_s = connected_at.elapsed().as_secs(),
            reason,
            "mqtt disconnected"
        );
    }
}
