//! The device endpoint end to end: the server binary on SQLite with `--mqtt-listen`, CAs and
//! certificates registered through the HTTP API (signed with the server's own SigV4 rule), and
//! devices driven by `rumqttc` (a client nobody here wrote) over mutual TLS, MQTT 5 and 3.1.1.
//! Where rumqttc does not show what the server sent (the Reason String of a refused CONNACK),
//! a raw TLS client reads the CONNACK's bytes.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use iot_ca::UnixTime;
use iot_ca_server::sigv4::{self, AccessKey, SignedRequest};
use mqtt_protocol_core::mqtt::packet::{Property, v5_0};
use mqtt_protocol_core::mqtt::result_code::ConnectReasonCode;
use rumqttc::v5::mqttbytes::QoS as QoS5;
use rumqttc::v5::mqttbytes::v5::{ConnectReturnCode as ConnectReturnCode5, Packet as Packet5};
use rumqttc::{TlsConfiguration, Transport};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;
use tokio::time::timeout;

const ACCOUNT: &str = "000000000000";
const OTHER: (&str, &str) = ("other", "other-secret");
const TEST: (&str, &str) = ("test", "test");
const WAIT: Duration = Duration::from_secs(10);

/// The server binary, killed when dropped.
struct Server {
    child: Child,
    http: SocketAddr,
    mqtt: u16,
    root: String,
    dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start() -> Server {
    start_with(&[])
}

fn start_with(extra: &[&str]) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let credentials = dir.path().join("credentials.json");
    std::fs::write(
        &credentials,
        json!({"accessKeys": [
            {"accessKeyId": TEST.0, "secretAccessKey": TEST.1, "accountId": ACCOUNT},
            {"accessKeyId": OTHER.0, "secretAccessKey": OTHER.1, "accountId": "111111111111"},
        ]})
        .to_string(),
    )
    .unwrap();
    let root = dir.path().join("root.pem");
    let log = std::fs::File::create(dir.path().join("server.log")).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_iot-ca-server"))
        .args(["--listen", "127.0.0.1:0", "--mqtt-listen", "127.0.0.1:0"])
        .arg("--store")
        .arg(format!("sqlite:{}", dir.path().join("registry.sqlite3").display()))
        .arg("--credentials")
        .arg(&credentials)
        .arg("--tls-root-out")
        .arg(&root)
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let http = lines.next().unwrap().unwrap();
    let mqtt = lines.next().unwrap().unwrap();
    let http = http.strip_prefix("listening on http://").unwrap_or_else(|| panic!("{http}")).parse().unwrap();
    let mqtt: SocketAddr = mqtt.strip_prefix("mqtt listening on ").unwrap_or_else(|| panic!("{mqtt}")).parse().unwrap();
    Server { child, http, mqtt: mqtt.port(), root: std::fs::read_to_string(root).unwrap(), dir }
}

impl Server {
    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    /// One signed request to the HTTP API: (status, JSON body).
    async fn call(&self, key: (&str, &str), method: &str, path: &str, query: &str, body: Value) -> (u16, Value) {
        let body = if body.is_null() { String::new() } else { body.to_string() };
        let host = self.http.to_string();
        let headers: Vec<(&str, &[u8])> = vec![("host", host.as_bytes()), ("content-type", b"application/json")];
        let request = SignedRequest { method, raw_path: path, raw_query: query, headers, body: body.as_bytes() };
        let signed = sigv4::sign(
            AccessKey { id: key.0, secret: key.1 },
            "us-east-1",
            &request,
            UnixTime::from_system_time(SystemTime::now()),
        );
        let target = if query.is_empty() { path.to_owned() } else { format!("{path}?{query}") };
        let mut text = format!(
            "{method} {target} HTTP/1.1\r\nhost: {host}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
             connection: close\r\n",
            body.len()
        );
        for (name, value) in signed {
            text.push_str(&format!("{name}: {value}\r\n"));
        }
        text.push_str("\r\n");
        text.push_str(&body);
        let mut stream = tokio::net::TcpStream::connect(self.http).await.unwrap();
        stream.write_all(text.as_bytes()).await.unwrap();
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).await.unwrap();
        let answer = String::from_utf8(answer).unwrap();
        let status = answer.get(9..12).unwrap().parse().unwrap();
        let body = answer.split_once("\r\n\r\n").map_or("", |(_, b)| b);
        (status, serde_json::from_str(body).unwrap_or(Value::Null))
    }

    /// Registers `ca` (SNI_ONLY, ACTIVE, auto-registration on, `config` as registrationConfig).
    async fn register_ca(&self, key: (&str, &str), ca: &Cert, config: Option<Value>) -> String {
        let mut body = json!({"caCertificate": ca.pem, "certificateMode": "SNI_ONLY"});
        if let Some(config) = config {
            body["registrationConfig"] = config;
        }
        let (status, answer) =
            self.call(key, "POST", "/cacertificate", "setAsActive=true&allowAutoRegistration=true", body).await;
        assert_eq!(status, 200, "{answer}");
        answer["certificateId"].as_str().unwrap().to_owned()
    }

    /// Registers `device`, signed by `ca`, as ACTIVE.
    async fn register_device(&self, key: (&str, &str), device: &Cert, ca: &Cert) -> String {
        let body = json!({"certificatePem": device.pem, "caCertificatePem": ca.pem});
        let (status, answer) = self.call(key, "POST", "/certificate/register", "setAsActive=true", body).await;
        assert_eq!(status, 200, "{answer}");
        answer["certificateId"].as_str().unwrap().to_owned()
    }

    async fn set_status(&self, id: &str, status: &str) {
        let (code, answer) =
            self.call(TEST, "PUT", &format!("/certificates/{id}"), &format!("newStatus={status}"), Value::Null).await;
        assert_eq!(code, 200, "{answer}");
    }

    async fn status(&self, id: &str) -> String {
        let (code, answer) = self.call(TEST, "GET", &format!("/certificates/{id}"), "", Value::Null).await;
        assert_eq!(code, 200, "{answer}");
        answer["certificateDescription"]["status"].as_str().unwrap().to_owned()
    }

    fn tls(&self, device: &Cert, with_ca: Option<&Cert>) -> Transport {
        let mut chain = device.pem.clone();
        if let Some(ca) = with_ca {
            chain.push_str(&ca.pem);
        }
        self.tls_pem(&chain, &device.key)
    }

    /// Mutual TLS with a certificate chain and key given as PEM (ones the server issued).
    fn tls_pem(&self, chain: &str, key: &str) -> Transport {
        Transport::tls_with_config(TlsConfiguration::Simple {
            ca: self.root.clone().into_bytes(),
            alpn: None,
            client_auth: Some((chain.as_bytes().to_vec(), key.as_bytes().to_vec())),
        })
    }
}

/// A certificate and its key, PEM.
struct Cert {
    pem: String,
    key: String,
    params: rcgen::CertificateParams,
    key_pair: rcgen::KeyPair,
}

/// Valid from a day ago for a year.
fn validity(params: &mut rcgen::CertificateParams) {
    let now = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs();
    let at = |secs: u64| time::OffsetDateTime::from_unix_timestamp(i64::try_from(secs).unwrap()).unwrap();
    params.not_before = at(now - 86_400);
    params.not_after = at(now + 365 * 86_400);
}

fn ca(name: &str) -> Cert {
    let key_pair = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params.distinguished_name.push(rcgen::DnType::CommonName, name);
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params.key_usages = vec![rcgen::KeyUsagePurpose::KeyCertSign, rcgen::KeyUsagePurpose::CrlSign];
    validity(&mut params);
    let pem = params.self_signed(&key_pair).unwrap().pem();
    Cert { pem, key: key_pair.serialize_pem(), params, key_pair }
}

fn device(name: &str, ca: &Cert) -> Cert {
    let key_pair = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params.distinguished_name.push(rcgen::DnType::CommonName, name);
    validity(&mut params);
    let issuer = rcgen::Issuer::from_params(&ca.params, &ca.key_pair);
    let pem = params.signed_by(&key_pair, &issuer).unwrap().pem();
    Cert { pem, key: key_pair.serialize_pem(), params, key_pair }
}

fn certificate_id(cert: &Cert) -> String {
    let der = pem_rfc7468::decode_vec(cert.pem.as_bytes()).unwrap().1;
    iot_ca::CertificateId::of_der(&der).as_str().to_owned()
}

/// An MQTT 5 device: its client and the events its event loop sees (an `Err` ends them).
struct Device5 {
    client: rumqttc::v5::AsyncClient,
    events: mpsc::UnboundedReceiver<Result<Packet5, String>>,
}

async fn connect5(server: &Server, id: &str, transport: Transport) -> Result<Device5, rumqttc::v5::ConnectionError> {
    let mut options = rumqttc::v5::MqttOptions::new(id, "localhost", server.mqtt);
    options.set_transport(transport);
    let (client, mut eventloop) = rumqttc::v5::AsyncClient::new(options, 16);
    loop {
        match timeout(WAIT, eventloop.poll()).await.expect("no CONNACK in time")? {
            rumqttc::v5::Event::Incoming(Packet5::ConnAck(_)) => break,
            _ => continue,
        }
    }
    let (tx, events) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            match eventloop.poll().await {
                Ok(rumqttc::v5::Event::Incoming(packet)) => {
                    let _ = tx.send(Ok(packet));
                }
                Ok(_) => {}
                Err(e) => {
                    let _ = tx.send(Err(format!("{e:?}")));
                    return;
                }
            }
        }
    });
    Ok(Device5 { client, events })
}

impl Device5 {
    /// The next incoming packet that `pick` takes.
    async fn next<T>(&mut self, mut pick: impl FnMut(&Result<Packet5, String>) -> Option<T>) -> T {
        loop {
            let event = timeout(WAIT, self.events.recv()).await.expect("nothing in time").expect("event loop ended");
            if let Some(t) = pick(&event) {
                return t;
            }
        }
    }

    async fn subscribe(&mut self, filter: &str) {
        self.client.subscribe(filter, QoS5::AtLeastOnce).await.unwrap();
        self.next(|e| matches!(e, Ok(Packet5::SubAck(_))).then_some(())).await;
    }

    async fn publish(&mut self, topic: &str, payload: &str) {
        self.client.publish(topic, QoS5::AtLeastOnce, false, payload.to_owned()).await.unwrap();
        self.next(|e| matches!(e, Ok(Packet5::PubAck(_))).then_some(())).await;
    }

    /// The next message, its payload as bytes.
    async fn message_bytes(&mut self) -> (String, Vec<u8>) {
        self.next(|e| match e {
            Ok(Packet5::Publish(p)) => Some((String::from_utf8(p.topic.to_vec()).unwrap(), p.payload.to_vec())),
            _ => None,
        })
        .await
    }

    /// Publishes `payload` to a fleet provisioning topic and reads its answer (after
    /// subscribing to the topic's answers): (accepted, the answer as JSON).
    async fn ask(&mut self, topic: &str, payload: &Value) -> (bool, Value) {
        use iot_ca::wire::{PayloadFormat, fleet_payload_to_value, fleet_value_to_payload};
        let format = if topic.ends_with("/cbor") { PayloadFormat::Cbor } else { PayloadFormat::Json };
        self.client.publish(topic, QoS5::AtLeastOnce, false, fleet_value_to_payload(format, payload)).await.unwrap();
        let (answered, bytes) = self.message_bytes().await;
        let accepted = match answered.strip_prefix(topic) {
            Some("/accepted") => true,
            Some("/rejected") => false,
            _ => panic!("{answered} answers {topic}"),
        };
        (accepted, fleet_payload_to_value(format, &bytes).unwrap())
    }

    /// The next message: (topic, payload).
    async fn message(&mut self) -> (String, String) {
        self.next(|e| match e {
            Ok(Packet5::Publish(p)) => {
                Some((String::from_utf8(p.topic.to_vec()).unwrap(), String::from_utf8(p.payload.to_vec()).unwrap()))
            }
            _ => None,
        })
        .await
    }

    /// Whether a message arrives within `wait`.
    async fn quiet_for(&mut self, wait: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            match tokio::time::timeout_at(deadline, self.events.recv()).await {
                Err(_) => return true,
                Ok(Some(Ok(Packet5::Publish(_)))) => return false,
                Ok(_) => {}
            }
        }
    }

    /// How the server ended the connection.
    async fn ended(&mut self) -> String {
        self.next(|e| e.as_ref().err().cloned()).await
    }
}

/// A CONNECT over raw TLS (MQTT 5): the CONNACK's reason code and Reason String.
async fn raw_connect5(server: &Server, device: &Cert, with_ca: Option<&Cert>) -> (ConnectReasonCode, Option<String>) {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(server.root.as_bytes()) {
        roots.add(cert.unwrap()).unwrap();
    }
    let mut chain = vec![CertificateDer::from_pem_slice(device.pem.as_bytes()).unwrap()];
    if let Some(ca) = with_ca {
        chain.push(CertificateDer::from_pem_slice(ca.pem.as_bytes()).unwrap());
    }
    let key = PrivateKeyDer::from_pem_slice(device.key.as_bytes()).unwrap();
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_client_auth_cert(chain, key)
        .unwrap();
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", server.mqtt)).await.unwrap();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let mut tls = connector.connect(ServerName::try_from("localhost").unwrap(), tcp).await.unwrap();
    let connect = v5_0::Connect::builder().client_id("raw").unwrap().keep_alive(30).build().unwrap();
    tls.write_all(&connect.to_continuous_buffer()).await.unwrap();
    let mut bytes = Vec::new();
    let _ = timeout(WAIT, tls.read_to_end(&mut bytes)).await.expect("the server did not close");
    assert_eq!(bytes.first(), Some(&0x20), "not a CONNACK: {bytes:02x?}");
    let (mut at, mut length) = (1, 0usize);
    for shift in [0, 7, 14, 21] {
        let b = bytes[at];
        at += 1;
        length |= usize::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            break;
        }
    }
    let (connack, _) = v5_0::Connack::parse(&bytes[at..at + length]).unwrap();
    let reason = connack.props().iter().find_map(|p| match p {
        Property::ReasonString(r) => Some(r.val().to_owned()),
        _ => None,
    });
    (connack.reason_code(), reason)
}

#[tokio::test]
async fn active_devices_connect_and_messages_stay_in_their_account() {
    let server = start();
    let fleet = ca("Fleet Root");
    server.register_ca(TEST, &fleet, None).await;
    let (publisher, subscriber) = (device("publisher", &fleet), device("subscriber", &fleet));
    server.register_device(TEST, &publisher, &fleet).await;
    server.register_device(TEST, &subscriber, &fleet).await;
    let elsewhere = ca("Other Root");
    server.register_ca(OTHER, &elsewhere, None).await;
    let stranger = device("stranger", &elsewhere);
    server.register_device(OTHER, &stranger, &elsewhere).await;

    let mut sub = connect5(&server, "sub", server.tls(&subscriber, None)).await.unwrap();
    sub.subscribe("dt/+/temp").await;
    let mut other = connect5(&server, "other", server.tls(&stranger, None)).await.unwrap();
    other.subscribe("#").await;
    let mut publ = connect5(&server, "pub", server.tls(&publisher, None)).await.unwrap();
    publ.publish("dt/d1/temp", "21.5").await;
    assert_eq!(sub.message().await, ("dt/d1/temp".into(), "21.5".into()));
    assert!(other.quiet_for(Duration::from_millis(500)).await, "a subscriber of another account got the message");

    // The reserved topics: fleet provisioning answers the requester only, and a reserved
    // topic not served ends the connection with the reason.
    publ.subscribe("$aws/certificates/create/json/rejected").await;
    sub.subscribe("$aws/certificates/create/json/rejected").await;
    publ.client.publish("$aws/certificates/create/json", QoS5::AtLeastOnce, false, r#"{"x": 1}"#).await.unwrap();
    let (topic, payload) = publ.message().await;
    assert_eq!(topic, "$aws/certificates/create/json/rejected");
    let payload: Value = serde_json::from_str(&payload).unwrap();
    assert_eq!(
        (payload["statusCode"].as_i64(), payload["errorCode"].as_str()),
        (Some(400), Some("InvalidRequestException"))
    );
    assert!(sub.quiet_for(Duration::from_millis(300)).await, "another device heard the answer");
    publ.client.subscribe("$aws/things/t/shadow/update", QoS5::AtLeastOnce).await.unwrap();
    let ended = publ.ended().await;
    assert!(ended.contains("NotAuthorized") && ended.contains("reserved topic"), "{ended}");
    assert!(server.log().contains("mqtt connected"));
}

#[tokio::test]
async fn jitr_registers_announces_and_the_activated_device_connects() {
    let server = start();
    let fleet = ca("JITR Root");
    let ca_id = server.register_ca(TEST, &fleet, None).await;
    let watcher = device("watcher", &fleet);
    server.register_device(TEST, &watcher, &fleet).await;
    let mut events = connect5(&server, "watcher", server.tls(&watcher, None)).await.unwrap();
    events.subscribe("$aws/events/certificates/registered/+").await;

    let newcomer = device("newcomer", &fleet);
    let id = certificate_id(&newcomer);
    let (code, reason) = raw_connect5(&server, &newcomer, None).await;
    assert_eq!(code, ConnectReasonCode::NotAuthorized);
    let reason = reason.expect("no reason string");
    assert!(reason.contains("just-in-time registration") && reason.contains("PENDING_ACTIVATION"), "{reason}");
    let (topic, payload) = events.message().await;
    assert_eq!(topic, format!("$aws/events/certificates/registered/{ca_id}"));
    let event: Value = serde_json::from_str(&payload).unwrap();
    assert_eq!(event["certificateId"], id.as_str());
    assert_eq!(event["caCertificateId"], ca_id.as_str());
    assert_eq!(event["certificateStatus"], "PENDING_ACTIVATION");
    assert_eq!(event["awsAccountId"], ACCOUNT);
    assert_eq!(server.status(&id).await, "PENDING_ACTIVATION");

    // Still pending: refused again, and announced again.
    let refused = connect5(&server, "newcomer", server.tls(&newcomer, None)).await.err().unwrap();
    assert!(matches!(refused, rumqttc::v5::ConnectionError::ConnectionRefused(ConnectReturnCode5::NotAuthorized)));
    assert_eq!(events.message().await.0, topic);

    server.set_status(&id, "ACTIVE").await;
    let mut device = connect5(&server, "newcomer", server.tls(&newcomer, None)).await.unwrap();
    device.subscribe("cmd/newcomer").await;
    let log = server.log();
    let refusals: Vec<&str> = log.lines().filter(|l| l.contains("mqtt refused") && l.contains(&id)).collect();
    assert_eq!(refusals.len(), 2, "one line per refusal:\n{log}");
    assert!(refusals[0].contains("reason="), "{}", refusals[0]);
}

#[tokio::test]
async fn a_revoked_certificate_is_disconnected() {
    let server = start();
    let fleet = ca("Revoking Root");
    server.register_ca(TEST, &fleet, None).await;
    let doomed = device("doomed", &fleet);
    let id = server.register_device(TEST, &doomed, &fleet).await;
    let mut connected = connect5(&server, "doomed", server.tls(&doomed, None)).await.unwrap();
    server.set_status(&id, "REVOKED").await;
    let ended = connected.ended().await;
    assert!(ended.contains("ServerDisconnect") && ended.contains("REVOKED"), "{ended}");
    assert!(matches!(
        connect5(&server, "doomed", server.tls(&doomed, None)).await.err().unwrap(),
        rumqttc::v5::ConnectionError::ConnectionRefused(ConnectReturnCode5::NotAuthorized)
    ));
}

#[tokio::test]
async fn mqtt_3_1_1_refusals_are_return_code_5_and_accepted_devices_talk() {
    let server = start();
    let fleet = ca("Three Root");
    server.register_ca(TEST, &fleet, None).await;
    let stranger = device("stranger", &ca("Unknown Root"));
    let connect = |cert: &Cert, id: &str| {
        let mut options = rumqttc::MqttOptions::new(id, "localhost", server.mqtt);
        options.set_transport(server.tls(cert, None));
        rumqttc::AsyncClient::new(options, 16)
    };
    let (_client, mut eventloop) = connect(&stranger, "stranger");
    let refused = timeout(WAIT, eventloop.poll()).await.unwrap();
    assert!(
        matches!(refused, Err(rumqttc::ConnectionError::ConnectionRefused(rumqttc::ConnectReturnCode::NotAuthorized))),
        "{refused:?}"
    );
    assert!(server.log().contains("no registered CA signed it"));

    let known = device("known", &fleet);
    server.register_device(TEST, &known, &fleet).await;
    let (client, mut eventloop) = connect(&known, "known");
    client.subscribe("t/#", rumqttc::QoS::AtLeastOnce).await.unwrap();
    client.publish("t/x", rumqttc::QoS::AtLeastOnce, false, "hello").await.unwrap();
    let got = timeout(WAIT, async {
        loop {
            if let rumqttc::Event::Incoming(rumqttc::Packet::Publish(p)) = eventloop.poll().await.unwrap() {
                return p;
            }
        }
    })
    .await
    .unwrap();
    assert_eq!((got.topic.as_str(), &got.payload[..]), ("t/x", &b"hello"[..]));
}

#[tokio::test]
async fn jitp_provisions_then_the_device_connects() {
    let server = start();
    let fleet = ca("JITP Root");
    // The guide's JITP template: a thing named by the certificate's CN, the certificate
    // activated, a policy made for it; all three attached.
    let template = json!({
        "Parameters": {
            "AWS::IoT::Certificate::CommonName": {"Type": "String"},
            "AWS::IoT::Certificate::Id": {"Type": "String"}
        },
        "Resources": {
            "thing": {"Type": "AWS::IoT::Thing", "Properties": {
                "ThingName": {"Ref": "AWS::IoT::Certificate::CommonName"},
                "AttributePayload": {"provisionedBy": "jitp"}}},
            "certificate": {"Type": "AWS::IoT::Certificate", "Properties": {
                "CertificateId": {"Ref": "AWS::IoT::Certificate::Id"}, "Status": "ACTIVE"}},
            "policy": {"Type": "AWS::IoT::Policy", "Properties": {"PolicyDocument":
                "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"iot:*\",\"Resource\":\"*\"}]}"}}
        }
    });
    let config = json!({"templateBody": template.to_string(), "roleArn": format!("arn:aws:iam::{ACCOUNT}:role/JITP")});
    server.register_ca(TEST, &fleet, Some(config)).await;
    let sensor = device("sensor-1", &fleet);
    let id = certificate_id(&sensor);
    let (code, reason) = raw_connect5(&server, &sensor, None).await;
    assert_eq!(code, ConnectReasonCode::NotAuthorized);
    assert!(reason.unwrap().contains("just-in-time provisioning"));
    assert_eq!(server.status(&id).await, "ACTIVE");
    let (code, thing) = server.call(TEST, "GET", "/things/sensor-1", "", Value::Null).await;
    assert_eq!(code, 200, "{thing}");
    assert_eq!(thing["attributes"]["provisionedBy"], "jitp");
    let (code, principals) = server.call(TEST, "GET", "/things/sensor-1/principals", "", Value::Null).await;
    assert_eq!(code, 200, "{principals}");
    assert!(principals["principals"][0].as_str().unwrap().ends_with(&format!("cert/{id}")), "{principals}");
    let arn = format!("arn:aws:iot:us-east-1:{ACCOUNT}:cert/{id}");
    let target = arn.replace(':', "%3A").replace('/', "%2F");
    let (code, policies) = server.call(TEST, "POST", &format!("/attached-policies/{target}"), "", Value::Null).await;
    assert_eq!(code, 200, "{policies}");
    assert_eq!(policies["policies"].as_array().map(Vec::len), Some(1), "{policies}");
    connect5(&server, "sensor-1", server.tls(&sensor, None)).await.unwrap();
}

#[tokio::test]
async fn the_connection_bound_holds_and_sigterm_tells_mqtt_5_devices() {
    let mut server = start_with(&["--mqtt-max-connections", "1", "--shutdown-deadline", "5"]);
    let fleet = ca("Bound Root");
    server.register_ca(TEST, &fleet, None).await;
    let first = device("first", &fleet);
    server.register_device(TEST, &first, &fleet).await;
    let mut connected = connect5(&server, "first", server.tls(&first, None)).await.unwrap();
    // One connection is the bound: the next one is closed before TLS.
    let second = connect5(&server, "second", server.tls(&first, None)).await;
    assert!(second.is_err(), "a second connection was served");
    assert!(server.log().contains("the connection limit is reached"));

    let pid = server.child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let ended = connected.ended().await;
    assert!(ended.contains("ServerShuttingDown"), "{ended}");
    let status = tokio::task::spawn_blocking(move || {
        let status = server.child.wait().unwrap();
        (status, server)
    })
    .await
    .unwrap();
    assert!(status.0.success(), "{:?}", status.0);
    assert!(status.1.log().contains("mqtt stopped: every connection closed"), "{}", status.1.log());
}

/// Fleet provisioning by claim, as the AWS IoT Device SDK's samples run it: CreateProvisioningClaim
/// over HTTP, the claim connects, CreateKeysAndCertificate (JSON) and CreateCertificateFromCsr
/// (CBOR) over MQTT give PENDING_ACTIVATION certificates with tokens, RegisterThing provisions
/// the template's thing and activates the certificate, and the device connects with it. The
/// refusals: a token used twice, another template than the claim's, a token of another
/// certificate's account, a missing parameter.
#[tokio::test]
async fn fleet_provisioning_by_claim() {
    let server = start();
    let template = json!({
        "Parameters": {"SerialNumber": {"Type": "String"}, "AWS::IoT::Certificate::Id": {"Type": "String"}},
        "Resources": {
            "thing": {"Type": "AWS::IoT::Thing", "Properties": {
                "ThingName": {"Fn::Join": ["", ["sensor-", {"Ref": "SerialNumber"}]]}}},
            "certificate": {"Type": "AWS::IoT::Certificate", "Properties": {
                "CertificateId": {"Ref": "AWS::IoT::Certificate::Id"}, "Status": "ACTIVE"}}
        },
        "DeviceConfiguration": {"Fallback": "none"}
    });
    for name in ["fleet", "other"] {
        let body = json!({
            "templateName": name, "templateBody": template.to_string(), "enabled": true,
            "provisioningRoleArn": format!("arn:aws:iam::{ACCOUNT}:role/Provisioning"),
        });
        let (code, answer) = server.call(TEST, "POST", "/provisioning-templates", "", body).await;
        assert_eq!(code, 200, "{answer}");
    }
    let (code, claim) =
        server.call(TEST, "POST", "/provisioning-templates/fleet/provisioning-claim", "", Value::Null).await;
    assert_eq!(code, 200, "{claim}");
    let claim_tls =
        server.tls_pem(claim["certificatePem"].as_str().unwrap(), claim["keyPair"]["PrivateKey"].as_str().unwrap());
    let mut device = connect5(&server, "claimed", claim_tls).await.unwrap();
    for filter in [
        "$aws/certificates/create/json/+",
        "$aws/certificates/create-from-csr/cbor/+",
        "$aws/provisioning-templates/fleet/provision/json/+",
        "$aws/provisioning-templates/other/provision/json/+",
    ] {
        device.subscribe(filter).await;
    }
    // The registry does not hold a claim: its connection outlives the 2 s status re-read
    // (which once took it for a deleted certificate).
    tokio::time::sleep(Duration::from_millis(2_500)).await;

    let (accepted, created) = device.ask("$aws/certificates/create/json", &json!({})).await;
    assert!(accepted, "{created}");
    let id = created["certificateId"].as_str().unwrap().to_owned();
    let token = created["certificateOwnershipToken"].as_str().unwrap().to_owned();
    let (pem, private_key) = (created["certificatePem"].as_str().unwrap(), created["privateKey"].as_str().unwrap());
    let provisioned_tls = server.tls_pem(pem, private_key);
    assert!(private_key.contains("PRIVATE KEY"));
    assert_eq!(server.status(&id).await, "PENDING_ACTIVATION");

    // The claim runs its own template only.
    let register = json!({"certificateOwnershipToken": token, "parameters": {"SerialNumber": "42"}});
    let (accepted, refused) = device.ask("$aws/provisioning-templates/other/provision/json", &register).await;
    assert!(!accepted);
    assert_eq!((refused["statusCode"].as_i64(), refused["errorCode"].as_str()), (Some(403), Some("AccessDenied")));
    // A parameter the template needs is missing: refused, and the token still works after.
    let (accepted, refused) = device
        .ask("$aws/provisioning-templates/fleet/provision/json", &json!({"certificateOwnershipToken": token}))
        .await;
    assert!(!accepted);
    assert_eq!(refused["statusCode"].as_i64(), Some(400), "{refused}");
    assert!(refused["errorMessage"].as_str().unwrap().contains("SerialNumber"), "{refused}");

    let (accepted, provisioned) = device.ask("$aws/provisioning-templates/fleet/provision/json", &register).await;
    assert!(accepted, "{provisioned}");
    assert_eq!(provisioned, json!({"thingName": "sensor-42", "deviceConfiguration": {"Fallback": "none"}}));
    assert_eq!(server.status(&id).await, "ACTIVE");
    let (code, principals) = server.call(TEST, "GET", "/things/sensor-42/principals", "", Value::Null).await;
    assert_eq!(code, 200, "{principals}");
    assert!(principals["principals"][0].as_str().unwrap().ends_with(&id), "{principals}");

    // A token works once.
    let (accepted, refused) = device.ask("$aws/provisioning-templates/fleet/provision/json", &register).await;
    assert!(!accepted);
    assert_eq!(
        (refused["statusCode"].as_i64(), refused["errorCode"].as_str()),
        (Some(400), Some("InvalidCertificateOwnershipToken"))
    );
    assert_eq!(refused["errorMessage"], "the certificate ownership token was used already");
    let (accepted, refused) = device
        .ask(
            "$aws/provisioning-templates/fleet/provision/json",
            &json!({"certificateOwnershipToken": "", "parameters": {"SerialNumber": "1"}}),
        )
        .await;
    assert!(!accepted);
    assert_eq!(refused["errorMessage"], "Certificate ownership token cannot be empty.");

    // CreateCertificateFromCsr over CBOR.
    let key = rcgen::KeyPair::generate().unwrap();
    let csr = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap().serialize_request(&key).unwrap();
    let (accepted, created) = device
        .ask("$aws/certificates/create-from-csr/cbor", &json!({"certificateSigningRequest": csr.pem().unwrap()}))
        .await;
    assert!(accepted, "{created}");
    assert_eq!(server.status(created["certificateId"].as_str().unwrap()).await, "PENDING_ACTIVATION");

    // The provisioned certificate connects.
    connect5(&server, "sensor-42", provisioned_tls).await.unwrap();
}
