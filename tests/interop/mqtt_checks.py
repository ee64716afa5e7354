"""Interop checks of iot-ca-server's device endpoint (MQTT over mutual TLS) with clients nobody here
wrote: mosquitto_pub/mosquitto_sub 2.x, paho-mqtt 2.x (MQTT 5), the AWS IoT Device SDK v2 for Python
(awsiotsdk, its mqtt5_client_builder.mtls_from_path), and the AWS CLI, against one server on SQLite and
two server processes sharing a PostgreSQL cluster. Called from server_test.py's main(), which passes
what it already has (the Server class, boto3's client, the openssl helpers) as `h`.

* mosquitto, the issue's "done when": a device certificate signed by a registered CA with
  auto-registration, presented by mosquitto_pub, is registered PENDING_ACTIVATION, the JITR event
  reaches a mosquitto_sub of the same account, the publish fails; after `aws iot update-certificate
  --new-status ACTIVE` the device connects and its message reaches a subscriber.
* JITP with mosquitto: the first connection provisions (refused), the next one connects.
* paho-mqtt over MQTT 5: the refusal's reason string; a reserved topic's DISCONNECT with its reason;
  SIGTERM's DISCONNECT 0x8B.
* awsiotsdk: connects with a certificate registered ACTIVE (RegisterCertificate of an openssl-made
  device certificate) and a root from --tls-root-out, publishes and receives.
* PostgreSQL, two processes: the same TLS root on both; a JITR on one is visible on the other, is
  activated there and connects there; REVOKED through one disconnects the device connected to the
  other within seconds.
"""
import json
import os
import pathlib
import shutil
import subprocess
import threading
import time

from pgcluster import free_port

WAIT = 20


def start(h, args, store, work, name, credentials, extra=()):
    """A server with --mqtt-listen on a free port: (server, mqtt port, root PEM path)."""
    port = free_port()
    root = work / f"{name}-root.pem"
    server = h.Server(args.server, store, work, name, credentials,
                      extra=["--mqtt-listen", f"127.0.0.1:{port}", "--tls-root-out", str(root), *extra])
    line = server.proc.stdout.readline()
    if line.strip() != f"mqtt listening on 127.0.0.1:{port}":
        server.stop()
        raise SystemExit(f"the device endpoint did not start: {line!r}; see {work / (name + '.log')}")
    return server, port, root


def chain(work, name, ca):
    """The device certificate followed by its CA: what a DEFAULT-mode JITR device presents."""
    path = work / f"{name}-chain.pem"
    path.write_text((work / f"{name}.pem").read_text() + (work / f"{ca}.pem").read_text())
    return path


class Mosquitto:
    def __init__(self, pub, sub, port, root):
        self.pub_bin, self.sub_bin, self.port, self.root = pub, sub, port, root

    def tls(self, cert, key):
        return ["-h", "localhost", "-p", str(self.port), "--cafile", str(self.root), "--cert", str(cert),
                "--key", str(key)]

    def pub(self, cert, key, topic, message, version="mqttv5"):
        return subprocess.run([self.pub_bin, *self.tls(cert, key), "-V", version, "-q", "1", "-t", topic,
                               "-m", message], capture_output=True, text=True, timeout=WAIT)

    def sub(self, cert, key, topic, count=1):
        """A mosquitto_sub that has its SUBACK: stop() answers the payloads it printed."""
        # mosquitto_sub's stdout is block-buffered into a pipe: stdbuf makes it line-buffered, so
        # its SUBACK line arrives when it happens.
        line_buffered = ["stdbuf", "-oL"] if shutil.which("stdbuf") else []
        proc = subprocess.Popen([*line_buffered, self.sub_bin, *self.tls(cert, key), "-V", "mqttv5", "-q", "1",
                                 "-t", topic, "-C", str(count), "-W", str(WAIT), "-d"],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        seen = []
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            seen.append(line)
            if "received SUBACK" in line:
                return Subscriber(proc, seen)
        proc.kill()
        raise AssertionError(f"mosquitto_sub got no SUBACK: {''.join(seen)}")


class Subscriber:
    def __init__(self, proc, seen):
        self.proc, self.seen = proc, seen

    def messages(self):
        out, _ = self.proc.communicate(timeout=WAIT + 5)
        # -d's lines ("Client … received PUBLISH", "Subscribed (mid: 1): 1") are not payloads.
        debug = ("Client ", "Subscribed (mid:")
        lines = [l for l in (self.seen + out.splitlines(keepends=True)) if not l.startswith(debug)]
        return [l.rstrip("\n") for l in lines if l.strip()]


def register_ca(h, iot, work, name, extra=None):
    """A DEFAULT-mode CA with its proof of possession, ACTIVE, auto-registration on."""
    h.self_signed_ca(work, name, f"/CN={name} {os.getpid()} {time.time()}")
    code = iot.get_registration_code()["registrationCode"]
    proof = h.device_cert(work, f"{name}-proof", ca=name, cn=code)
    r = iot.register_ca_certificate(caCertificate=(work / f"{name}.pem").read_text(), verificationCertificate=proof,
                                    setAsActive=True, allowAutoRegistration=True, **(extra or {}))
    return r["certificateId"]


def register_device(h, iot, work, name, ca):
    pem = h.device_cert(work, name, ca=ca)
    r = iot.register_certificate(certificatePem=pem, caCertificatePem=(work / f"{ca}.pem").read_text(),
                                 setAsActive=True)
    return r["certificateId"]


def paho_client(port, root, cert, key, client_id):
    """A paho-mqtt 2.x MQTT 5 client and what its callbacks saw: 'connect' and 'disconnect' as
    (reason code value, reason string), 'messages' as (topic, payload)."""
    import paho.mqtt.client as mqtt
    seen = {"connect": None, "disconnect": None, "messages": [], "subscribed": threading.Event(),
            "connected": threading.Event(), "disconnected": threading.Event()}

    def reason_string(properties):
        return getattr(properties, "ReasonString", None) if properties is not None else None

    def on_connect(client, userdata, flags, reason_code, properties):
        seen["connect"] = (reason_code.value, reason_string(properties))
        seen["connected"].set()

    def on_disconnect(client, userdata, flags, reason_code, properties):
        seen["disconnect"] = (reason_code.value, reason_string(properties))
        seen["disconnected"].set()

    def on_message(client, userdata, message):
        seen["messages"].append((message.topic, message.payload.decode()))

    def on_subscribe(client, userdata, mid, reason_codes, properties):
        seen["subscribed"].set()

    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    client.tls_set(ca_certs=str(root), certfile=str(cert), keyfile=str(key))
    client.on_connect, client.on_disconnect = on_connect, on_disconnect
    client.on_message, client.on_subscribe = on_message, on_subscribe
    client.reconnect_delay_set(60, 60)
    client.connect("localhost", port, keepalive=30)
    client.loop_start()
    return client, seen


def wait(event, what):
    assert event.wait(WAIT), f"{what} did not happen within {WAIT} s"


def sqlite_checks(h, checks, args, work, credentials, tools):
    store = f"sqlite:{work / 'mqtt.sqlite3'}"
    server, port, root = start(h, args, store, work, "mqtt", credentials)
    iot = h.client(server.endpoint)
    mosquitto = Mosquitto(tools["pub"], tools["sub"], port, root)
    state = {}

    def jitr_story():
        ca_id = register_ca(h, iot, work, "jitr-ca")
        register_device(h, iot, work, "jitr-watcher", "jitr-ca")
        watcher = (work / "jitr-watcher.pem", work / "jitr-watcher.key")
        events = mosquitto.sub(*watcher, f"$aws/events/certificates/registered/{ca_id}")
        h.device_cert(work, "jitr-device", ca="jitr-ca")
        device = (chain(work, "jitr-device", "jitr-ca"), work / "jitr-device.key")
        device_id = h.der_sha256((work / "jitr-device.pem").read_text())
        first = mosquitto.pub(*device, "devices/jitr-device", "first")
        assert first.returncode != 0, first
        assert "not authori" in (first.stdout + first.stderr).lower(), first
        got = events.messages()
        assert len(got) == 1, got
        event = json.loads(got[0])
        assert (event["certificateId"], event["caCertificateId"]) == (device_id, ca_id), event
        assert event["certificateStatus"] == "PENDING_ACTIVATION" and event["awsAccountId"] == h.ACCOUNT, event
        d = iot.describe_certificate(certificateId=device_id)["certificateDescription"]
        assert d["status"] == "PENDING_ACTIVATION" and d["caCertificateId"] == ca_id, d
        env = dict(os.environ, AWS_ENDPOINT_URL_IOT=server.endpoint, AWS_ACCESS_KEY_ID="test",
                   AWS_SECRET_ACCESS_KEY="test", AWS_DEFAULT_REGION="us-east-1", AWS_MAX_ATTEMPTS="1",
                   AWS_CONFIG_FILE=str(work / "no-config"), AWS_SHARED_CREDENTIALS_FILE=str(work / "no-credentials"))
        out = subprocess.run([args.aws, "iot", "update-certificate", "--certificate-id", device_id,
                              "--new-status", "ACTIVE"], env=env, capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        listener = mosquitto.sub(*watcher, "devices/+")
        second = mosquitto.pub(*device, "devices/jitr-device", "second")
        assert second.returncode == 0, second
        assert listener.messages() == ["second"]
        state["device"] = device

    def jitp():
        template = json.dumps({"Parameters": {"AWS::IoT::Certificate::CommonName": {"Type": "String"}},
                               "Resources": {}})
        register_ca(h, iot, work, "jitp-ca", {"registrationConfig": {
            "templateBody": template, "roleArn": f"arn:aws:iam::{h.ACCOUNT}:role/JITP"}})
        h.device_cert(work, "jitp-device", ca="jitp-ca")
        device = (work / "jitp-device.pem", work / "jitp-device.key")
        first = mosquitto.pub(*device, "devices/jitp", "first", version="mqttv311")
        assert first.returncode != 0 and "refused" in first.stderr.lower(), first
        device_id = h.der_sha256((work / "jitp-device.pem").read_text())
        assert iot.describe_certificate(certificateId=device_id)["certificateDescription"]["status"] == "ACTIVE"
        second = mosquitto.pub(*device, "devices/jitp", "second", version="mqttv311")
        assert second.returncode == 0, second

    def paho_reason_strings():
        h.self_signed_ca(work, "unknown-ca", "/CN=nobody registered this")
        h.device_cert(work, "stranger", ca="unknown-ca")
        client, seen = paho_client(port, root, work / "stranger.pem", work / "stranger.key", "stranger")
        try:
            wait(seen["connected"], "CONNACK")
            assert seen["connect"][0] == 135, seen["connect"]
            assert "no registered CA signed it" in (seen["connect"][1] or ""), seen["connect"]
        finally:
            client.loop_stop()
        register_device(h, iot, work, "paho-device", "jitr-ca")
        client, seen = paho_client(port, root, work / "paho-device.pem", work / "paho-device.key", "paho")
        try:
            wait(seen["connected"], "CONNACK")
            assert seen["connect"][0] == 0, seen["connect"]
            client.subscribe("$aws/things/paho/shadow/update/accepted", qos=1)
            wait(seen["disconnected"], "DISCONNECT")
            code, reason = seen["disconnect"]
            assert code == 135 and "reserved topic" in (reason or ""), seen["disconnect"]
        finally:
            client.loop_stop()

    def device_sdk():
        from awscrt import mqtt5
        from awsiot import mqtt5_client_builder
        register_device(h, iot, work, "sdk-device", "jitr-ca")
        connected, stopped, received = threading.Event(), threading.Event(), []
        failure = []
        client = mqtt5_client_builder.mtls_from_path(
            endpoint="localhost", port=port, cert_filepath=str(work / "sdk-device.pem"),
            pri_key_filepath=str(work / "sdk-device.key"), ca_filepath=str(root), client_id="sdk-device",
            on_lifecycle_connection_success=lambda data: connected.set(),
            on_lifecycle_connection_failure=lambda data: failure.append(str(data.exception)),
            on_lifecycle_stopped=lambda data: stopped.set(),
            on_publish_received=lambda data: received.append(bytes(data.publish_packet.payload)))
        client.start()
        try:
            assert connected.wait(WAIT), f"the SDK did not connect: {failure}"
            client.subscribe(mqtt5.SubscribePacket(subscriptions=[
                mqtt5.Subscription(topic_filter="sdk/echo", qos=mqtt5.QoS.AT_LEAST_ONCE)])).result(WAIT)
            client.publish(mqtt5.PublishPacket(topic="sdk/echo", payload=b"from the SDK",
                                               qos=mqtt5.QoS.AT_LEAST_ONCE)).result(WAIT)
            deadline = time.monotonic() + WAIT
            while not received and time.monotonic() < deadline:
                time.sleep(0.1)
            assert received == [b"from the SDK"], received
        finally:
            client.stop()
            stopped.wait(WAIT)

    def sigterm():
        client, seen = paho_client(port, root, work / "paho-device.pem", work / "paho-device.key", "paho-late")
        try:
            wait(seen["connected"], "CONNACK")
            code, took = server.stop()
            wait(seen["disconnected"], "DISCONNECT")
            assert seen["disconnect"][0] == 139, seen["disconnect"]
            assert code == 0 and took < 10, (code, took)
        finally:
            client.loop_stop()

    try:
        checks.run("mqtt: mosquitto JITR: registered PENDING_ACTIVATION, event to mosquitto_sub, publish refused; "
                   "after aws iot update-certificate the device publishes", jitr_story)
        checks.run("mqtt: mosquitto JITP (MQTT 3.1.1): provisioned and refused, then connects", jitp)
        checks.run("mqtt: paho-mqtt MQTT 5 sees the refusal's reason string and a reserved topic's DISCONNECT",
                   paho_reason_strings)
        checks.run("mqtt: awsiotsdk mtls_from_path connects with a RegisterCertificate'd device, publishes, receives",
                   device_sdk)
        checks.run("mqtt: SIGTERM sends MQTT 5 devices DISCONNECT 0x8B and exits 0", sigterm)
    finally:
        server.stop()


def postgres_checks(h, checks, args, work, credentials, tools, pg_url):
    servers = []
    try:
        for i in range(2):
            servers.append(start(h, args, pg_url, work, f"mqtt-pg{i}", credentials))
        (one, port_one, root_one), (two, port_two, root_two) = servers
        iot_one, iot_two = h.client(one.endpoint), h.client(two.endpoint)
        on_one = Mosquitto(tools["pub"], tools["sub"], port_one, root_one)
        on_two = Mosquitto(tools["pub"], tools["sub"], port_two, root_two)

        def same_root():
            assert root_one.read_text() == root_two.read_text(), "the two processes serve different roots"

        def jitr_across_processes():
            register_ca(h, iot_one, work, "pg-ca")
            h.device_cert(work, "pg-device", ca="pg-ca")
            device = (chain(work, "pg-device", "pg-ca"), work / "pg-device.key")
            device_id = h.der_sha256((work / "pg-device.pem").read_text())
            first = on_one.pub(*device, "devices/pg", "first")
            assert first.returncode != 0, first
            d = iot_two.describe_certificate(certificateId=device_id)["certificateDescription"]
            assert d["status"] == "PENDING_ACTIVATION", d
            iot_two.update_certificate(certificateId=device_id, newStatus="ACTIVE")
            second = on_two.pub(*device, "devices/pg", "second")
            assert second.returncode == 0, second
            # Connected to the second process, revoked through the first: disconnected.
            client, seen = paho_client(port_two, root_two, device[0], device[1], "pg-device")
            try:
                wait(seen["connected"], "CONNACK")
                assert seen["connect"][0] == 0, seen["connect"]
                started = time.monotonic()
                iot_one.update_certificate(certificateId=device_id, newStatus="REVOKED")
                wait(seen["disconnected"], "DISCONNECT after REVOKED")
                took = time.monotonic() - started
                assert seen["disconnect"] == (135, "the certificate is now REVOKED"), seen["disconnect"]
                assert took < 6, f"disconnected after {took:.1f} s"
            finally:
                client.loop_stop()

        checks.run("mqtt postgres (2 servers): both serve the TLS root kept in the store", same_root)
        checks.run("mqtt postgres (2 servers): JITR on one, activated and connected on the other; REVOKED through "
                   "one disconnects the device on the other", jitr_across_processes)
    finally:
        for server, _, _ in servers:
            server.stop()


def tools_or_none(args):
    """mosquitto_pub and mosquitto_sub, from the flags or PATH; None with the reason when absent."""
    pub = args.mosquitto_pub or shutil.which("mosquitto_pub")
    sub = args.mosquitto_sub or shutil.which("mosquitto_sub")
    if not (pub and sub and pathlib.Path(pub).exists() and pathlib.Path(sub).exists()):
        return None, "mosquitto_pub/mosquitto_sub not found (apt-get install -y mosquitto-clients)"
    try:
        import awsiot  # noqa: F401
        import paho.mqtt  # noqa: F401
    except ImportError as e:
        return None, f"{e.name} is not installed in this python (pip install paho-mqtt==2.2.0 awsiotsdk==1.31.0)"
    return {"pub": pub, "sub": sub}, None


def missing_tools(checks, reason):
    """Counted as a failure: CI installs the clients, and a silent skip would hide the endpoint."""
    def fail():
        raise AssertionError(reason)

    checks.run("mqtt: the device clients are installed", fail)


def run(h, checks, args, work, credentials):
    """The checks on one server on SQLite."""
    tools, missing = tools_or_none(args)
    if tools is None:
        missing_tools(checks, missing)
        return
    sqlite_checks(h, checks, args, work, credentials, tools)


def run_postgres(h, checks, args, work, credentials, pg_url):
    """The checks on two server processes sharing the PostgreSQL database `pg_url`."""
    tools, missing = tools_or_none(args)
    if tools is None:
        missing_tools(checks, missing)
        return
    postgres_checks(h, checks, args, work, credentials, tools, pg_url)
