"""Fleet provisioning by claim over MQTT (issue 24), driven from server_test.py's main with clients
nobody here wrote:

* the AWS IoT Device SDK v2 for Python (sdk_fleet_device.py: the calls of the SDK's own
  fleet_provisioning_basic.py and fleet_provisioning_csr.py samples, IotIdentityClientV2 over
  MQTT 5): a claim from CreateProvisioningClaim, CreateKeysAndCertificate (and, second device,
  CreateCertificateFromCsr), RegisterThing, the new certificate connects; boto3 then sees the
  thing, its principal, the policy attached and the certificate ACTIVE;
* paho-mqtt 2.x with cbor2 for the /cbor topics and every refusal's rejected payload: a token that
  is not one, a token used twice, a token of another account's certificate, a disabled template, a
  JITP template, a missing parameter, a hook that denies, a hook that does not answer within 5 s; a
  hook's parameter overrides; a bootstrap certificate the user registered ACTIVE provisions too;
* 50 devices provisioning at once on one server on SQLite and on two servers sharing PostgreSQL:
  50 things, 50 ACTIVE certificates, each attached to its thing and the policy, nothing half-written.

A claim past its notAfter is refused by the library's decision, tested with its `now` in Rust
(src/device/connect.rs, src/provisioning/fleet.rs): a claim here lives five minutes.
"""
import concurrent.futures
import hashlib
import http.server
import json
import subprocess
import sys
import threading
import time

import mqtt_checks

WAIT = 20
HERE = __import__("pathlib").Path(__file__).resolve().parent
ALLOW = "arn:aws:lambda:us-east-1:000000000000:function:allow"
DENY = "arn:aws:lambda:us-east-1:000000000000:function:deny"
SLOW = "arn:aws:lambda:us-east-1:000000000000:function:slow"
POLICY = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iot:*", "Resource": "*"}]})


def template():
    """The SDK README's kind of template: a thing named from SerialNumber, the certificate
    activated, a policy made once (named by its document's SHA-1, the spec's rule for a policy
    without PolicyName) and attached to every device."""
    return json.dumps({
        "Parameters": {"SerialNumber": {"Type": "String"}, "AWS::IoT::Certificate::Id": {"Type": "String"}},
        "Resources": {
            "thing": {"Type": "AWS::IoT::Thing", "Properties": {
                "ThingName": {"Fn::Join": ["", ["sensor-", {"Ref": "SerialNumber"}]]},
                "AttributePayload": {"serial": {"Ref": "SerialNumber"}}}},
            "certificate": {"Type": "AWS::IoT::Certificate", "Properties": {
                "CertificateId": {"Ref": "AWS::IoT::Certificate::Id"}, "Status": "ACTIVE"}},
            "policy": {"Type": "AWS::IoT::Policy", "Properties": {"PolicyDocument": POLICY}},
        },
        "DeviceConfiguration": {"FallbackUrl": "https://example.com/fallback"},
    })


class Hook(http.server.BaseHTTPRequestHandler):
    """The pre-provisioning hooks: /allow (overrides SerialNumber), /deny, /slow (6 s)."""
    seen = []

    def do_POST(self):  # noqa: N802 - http.server's name
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        Hook.seen.append((self.path, body))
        if self.path == "/slow":
            time.sleep(6)
        answer = {"allowProvisioning": self.path != "/deny"}
        if self.path == "/allow":
            answer["parameterOverrides"] = {"SerialNumber": "from-hook-" + body["parameters"]["SerialNumber"]}
        data = json.dumps(answer).encode()
        try:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except OSError:
            pass

    def log_message(self, *args):
        pass


def start_hooks():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    return server, ["--pre-provisioning-hook", f"{ALLOW}={base}/allow,{DENY}={base}/deny,{SLOW}={base}/slow"]


def write_pair(work, name, pem, key):
    (work / f"{name}.pem").write_text(pem)
    (work / f"{name}.key").write_text(key)
    return work / f"{name}.pem", work / f"{name}.key"


def create_templates(iot, names_and_extras):
    for name, extra in names_and_extras:
        kwargs = {"templateName": name, "templateBody": template(), "enabled": True,
                  "provisioningRoleArn": "arn:aws:iam::000000000000:role/Provisioning"}
        kwargs.update(extra)
        if extra.get("type") == "JITP":
            # DeviceConfiguration is fleet provisioning's.
            body = json.loads(kwargs["templateBody"])
            del body["DeviceConfiguration"]
            kwargs["templateBody"] = json.dumps(body)
        iot.create_provisioning_template(**kwargs)


class Device:
    """A paho-mqtt 2.x MQTT 5 connection that asks fleet provisioning and reads the answers."""

    def __init__(self, port, root, cert, key, client_id):
        import paho.mqtt.client as mqtt
        self.answers, self.lock, self.arrived = {}, threading.Lock(), threading.Condition()
        self.subacks = threading.Semaphore(0)
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
        self.client.tls_set(ca_certs=str(root), certfile=str(cert), keyfile=str(key))
        connected = threading.Event()
        self.client.on_connect = lambda c, u, f, rc, p: connected.set()
        self.client.on_message = self.on_message
        self.client.on_subscribe = lambda c, u, mid, rcs, p: self.subacks.release()
        self.client.reconnect_delay_set(60, 60)
        self.client.connect("localhost", port, keepalive=60)
        self.client.loop_start()
        assert connected.wait(WAIT), "no CONNACK"

    def on_message(self, client, userdata, message):
        with self.arrived:
            self.answers.setdefault(message.topic, []).append(message.payload)
            self.arrived.notify_all()

    def ask(self, topic, payload):
        """Publishes `payload` (a dict) to `topic`, encoded as its format says, and answers
        ('accepted' | 'rejected', the answer decoded)."""
        import cbor2
        cbor = topic.endswith("/cbor")
        for level in ("accepted", "rejected"):
            if f"{topic}/{level}" not in self.answers:
                self.answers[f"{topic}/{level}"] = []
                self.client.subscribe(f"{topic}/{level}", qos=1)
                assert self.subacks.acquire(timeout=WAIT), "no SUBACK"
        before = {level: len(self.answers[f"{topic}/{level}"]) for level in ("accepted", "rejected")}
        self.client.publish(topic, cbor2.dumps(payload) if cbor else json.dumps(payload), qos=1)
        deadline = time.monotonic() + WAIT
        with self.arrived:
            while True:
                for level in ("accepted", "rejected"):
                    got = self.answers[f"{topic}/{level}"]
                    if len(got) > before[level]:
                        raw = got[before[level]]
                        return level, cbor2.loads(raw) if cbor else json.loads(raw)
                left = deadline - time.monotonic()
                assert left > 0, f"no answer on {topic}"
                self.arrived.wait(left)

    def close(self):
        self.client.disconnect()
        self.client.loop_stop()


def rejected(answer, status, code, says=None):
    level, body = answer
    assert level == "rejected", answer
    assert (body["statusCode"], body["errorCode"]) == (status, code), body
    if says:
        assert says in body["errorMessage"], body


def sdk_device(args_python, port, root, cert, key, template_name, work, name, parameters, csr=None):
    out = work / name
    out.mkdir(exist_ok=True)
    cmd = [args_python, str(HERE / "sdk_fleet_device.py"), "--endpoint", "localhost", "--port", str(port),
           "--ca", str(root), "--cert", str(cert), "--key", str(key), "--template_name", template_name,
           "--template_parameters", json.dumps(parameters), "--out", str(out)]
    if csr:
        cmd += ["--csr", str(csr[0]), "--csr_key", str(csr[1])]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr[-3000:]}"
    return json.loads(done.stdout.strip().splitlines()[-1])


def assert_provisioned(iot, thing_name, certificate_id, policy=hashlib.sha1(POLICY.encode()).hexdigest().upper()):
    status = iot.describe_certificate(certificateId=certificate_id)["certificateDescription"]["status"]
    assert status == "ACTIVE", status
    principals = iot.list_thing_principals(thingName=thing_name)["principals"]
    assert [p.rsplit("/", 1)[1] for p in principals] == [certificate_id], principals
    arn = principals[0]
    attached = [p["policyName"] for p in iot.list_attached_policies(target=arn)["policies"]]
    assert attached == [policy], attached


def sqlite_checks(h, checks, args, work, credentials):
    hooks, hook_args = start_hooks()
    server, port, root = mqtt_checks.start(h, args, f"sqlite:{work / 'fleet.sqlite3'}", work, "fleet", credentials,
                                           extra=hook_args)
    iot = h.client(server.endpoint)
    other = h.client(server.endpoint, key="other", secret="other-secret")
    try:
        create_templates(iot, [
            ("fleet", {}),
            ("disabled", {"enabled": False}),
            ("jitp", {"type": "JITP"}),
            ("hook-allow", {"preProvisioningHook": {"targetArn": ALLOW}}),
            ("hook-deny", {"preProvisioningHook": {"targetArn": DENY}}),
            ("hook-slow", {"preProvisioningHook": {"targetArn": SLOW}}),
        ])
        create_templates(other, [("fleet", {})])
        claim = iot.create_provisioning_claim(templateName="fleet")
        claim_cert, claim_key = write_pair(work, "fleet-claim", claim["certificatePem"], claim["keyPair"]["PrivateKey"])
        # A bootstrap certificate the user made and activated: it may run any template.
        boot = iot.create_keys_and_certificate(setAsActive=True)
        boot_cert, boot_key = write_pair(work, "fleet-boot", boot["certificatePem"], boot["keyPair"]["PrivateKey"])
        other_claim = other.create_provisioning_claim(templateName="fleet")
        other_cert, other_key = write_pair(work, "fleet-other-claim", other_claim["certificatePem"],
                                           other_claim["keyPair"]["PrivateKey"])

        def sdk_keys():
            got = sdk_device(sys.executable, port, root, claim_cert, claim_key, "fleet", work, "sdk-keys",
                             {"SerialNumber": "sdk-1"})
            assert got["thingName"] == "sensor-sdk-1" and got["reconnected"], got
            assert got["deviceConfiguration"] == {"FallbackUrl": "https://example.com/fallback"}, got
            assert_provisioned(iot, "sensor-sdk-1", got["certificateId"])
            thing = iot.describe_thing(thingName="sensor-sdk-1")
            assert thing["attributes"] == {"serial": "sdk-1"}, thing

        def sdk_csr():
            h.device_cert(work, "fleet-csr", cn="fleet-csr")  # makes fleet-csr.key and fleet-csr.csr
            csr = (work / "fleet-csr.csr", work / "fleet-csr.key")
            got = sdk_device(sys.executable, port, root, claim_cert, claim_key, "fleet", work, "sdk-csr",
                             {"SerialNumber": "sdk-2"}, csr=csr)
            assert got["thingName"] == "sensor-sdk-2" and got["reconnected"], got
            assert_provisioned(iot, "sensor-sdk-2", got["certificateId"])

        def cbor_and_tokens():
            device = Device(port, root, claim_cert, claim_key, "paho-claim")
            try:
                h.device_cert(work, "fleet-cbor", cn="fleet-cbor")
                csr = (work / "fleet-cbor.csr").read_text()
                level, created = device.ask("$aws/certificates/create-from-csr/cbor", {"certificateSigningRequest": csr})
                assert level == "accepted", created
                assert set(created) == {"certificateId", "certificatePem", "certificateOwnershipToken"}, created
                status = iot.describe_certificate(certificateId=created["certificateId"])
                assert status["certificateDescription"]["status"] == "PENDING_ACTIVATION", status
                token = created["certificateOwnershipToken"]
                provision = "$aws/provisioning-templates/fleet/provision"
                rejected(device.ask(f"{provision}/cbor", {"certificateOwnershipToken": "bm90IGEgdG9rZW4="}),
                         400, "InvalidCertificateOwnershipToken", "not one this account was given")
                rejected(device.ask(f"{provision}/json", {"certificateOwnershipToken": ""}),
                         400, "InvalidCertificateOwnershipToken", "cannot be empty")
                rejected(device.ask(f"{provision}/cbor", {"certificateOwnershipToken": token}),
                         400, "InvalidRequestException", "SerialNumber")
                level, done = device.ask(f"{provision}/cbor", {"certificateOwnershipToken": token,
                                                                "parameters": {"SerialNumber": "cbor-1"}})
                assert (level, done["thingName"]) == ("accepted", "sensor-cbor-1"), done
                assert_provisioned(iot, "sensor-cbor-1", created["certificateId"])
                rejected(device.ask(f"{provision}/json", {"certificateOwnershipToken": token,
                                                           "parameters": {"SerialNumber": "cbor-2"}}),
                         400, "InvalidCertificateOwnershipToken", "used already")
                # The claim runs its own template only.
                rejected(device.ask("$aws/provisioning-templates/hook-allow/provision/json",
                                    {"certificateOwnershipToken": token, "parameters": {"SerialNumber": "x"}}),
                         403, "AccessDenied", "for the template fleet")
                # A token of a certificate another account made.
                stranger = Device(port, root, other_cert, other_key, "paho-other")
                try:
                    level, theirs = stranger.ask("$aws/certificates/create/json", {})
                    assert level == "accepted", theirs
                finally:
                    stranger.close()
                rejected(device.ask(f"{provision}/json", {"certificateOwnershipToken": theirs["certificateOwnershipToken"],
                                                           "parameters": {"SerialNumber": "stolen"}}),
                         400, "InvalidCertificateOwnershipToken", "not one this account was given")
            finally:
                device.close()

        def templates_and_hooks():
            device = Device(port, root, boot_cert, boot_key, "paho-boot")
            try:
                def token():
                    level, created = device.ask("$aws/certificates/create/json", {})
                    assert level == "accepted", created
                    return created["certificateOwnershipToken"], created["certificateId"]

                def register(name, serial, tok=None):
                    tok = tok or token()[0]
                    return device.ask(f"$aws/provisioning-templates/{name}/provision/json",
                                      {"certificateOwnershipToken": tok, "parameters": {"SerialNumber": serial}})

                rejected(register("disabled", "d"), 400, "InvalidRequestException", "disabled")
                rejected(register("jitp", "j"), 400, "InvalidRequestException", "JITP")
                rejected(register("absent", "a"), 404, "ResourceNotFoundException")
                rejected(register("hook-deny", "hd"), 403, "AccessDenied", "allowProvisioning false")
                started = time.monotonic()
                rejected(register("hook-slow", "hs"), 403, "AccessDenied", "within 5 s")
                assert time.monotonic() - started < 8, "the hook's deadline was not kept"
                tok, cert_id = token()
                level, done = register("hook-allow", "7", tok)
                assert (level, done.get("thingName")) == ("accepted", "sensor-from-hook-7"), done
                assert_provisioned(iot, "sensor-from-hook-7", cert_id)
                path, body = next((p, b) for p, b in Hook.seen if p == "/allow")
                assert set(body) == {"claimCertificateId", "certificateId", "certificatePem", "templateArn",
                                     "clientId", "parameters"}, body
                assert (body["certificateId"], body["clientId"]) == (cert_id, "paho-boot"), body
                assert body["claimCertificateId"] == boot["certificateId"], body
                assert body["templateArn"].endswith(":provisioningtemplate/hook-allow"), body
                # Nothing of a refused RegisterThing was kept.
                names = {t["thingName"] for t in iot.list_things()["things"]}
                assert not names & {"sensor-d", "sensor-j", "sensor-a", "sensor-hd", "sensor-hs"}, names
            finally:
                device.close()

        checks.run("fleet (awsiotsdk IotIdentityClientV2): claim -> CreateKeysAndCertificate -> RegisterThing -> "
                   "the new certificate connects; boto3 sees thing, principal, policy, ACTIVE", sdk_keys)
        checks.run("fleet (awsiotsdk IotIdentityClientV2): claim -> CreateCertificateFromCsr -> RegisterThing", sdk_csr)
        checks.run("fleet (paho, CBOR): tokens that are not one, empty, used, another account's; a missing "
                   "parameter; another template than the claim's", cbor_and_tokens)
        checks.run("fleet (paho, bootstrap certificate): disabled, JITP and absent templates; hooks that deny, "
                   "time out, and allow with overrides", templates_and_hooks)
        checks.run("fleet: 50 devices provisioning at once on SQLite",
                   lambda: fleet_of_50(iot, [port], root, claim_cert, claim_key, "sqlite"))
    finally:
        server.stop()
        hooks.shutdown()


def fleet_of_50(iot, ports, root, claim_cert, claim_key, label):
    """50 devices at once with one claim, alternating over `ports`: 50 things, each with its one
    ACTIVE certificate and the policy."""
    def one(i):
        device = Device(ports[i % len(ports)], root, claim_cert, claim_key, f"{label}-{i}")
        try:
            level, created = device.ask("$aws/certificates/create/json", {})
            assert level == "accepted", created
            level, done = device.ask("$aws/provisioning-templates/fleet/provision/json", {
                "certificateOwnershipToken": created["certificateOwnershipToken"],
                "parameters": {"SerialNumber": f"{label}-{i}"}})
            return level, done, created["certificateId"]
        finally:
            device.close()

    with concurrent.futures.ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(one, range(50)))
    refused = [r for r in results if r[0] != "accepted"]
    assert not refused, refused[:3]
    for i, (_, done, certificate_id) in enumerate(results):
        assert done["thingName"] == f"sensor-{label}-{i}", done
        assert_provisioned(iot, done["thingName"], certificate_id)


def postgres_checks(h, checks, args, work, credentials, pg_url):
    servers = []
    try:
        for i in range(2):
            servers.append(mqtt_checks.start(h, args, pg_url, work, f"fleet-pg{i}", credentials))
        iot = h.client(servers[0][0].endpoint)
        create_templates(iot, [("fleet", {})])
        claim = iot.create_provisioning_claim(templateName="fleet")
        cert, key = write_pair(work, "fleet-pg-claim", claim["certificatePem"], claim["keyPair"]["PrivateKey"])
        # Both processes serve the root the first one stored.
        checks.run("fleet: 50 devices provisioning at once on two servers sharing PostgreSQL",
                   lambda: fleet_of_50(iot, [s[1] for s in servers], servers[0][2], cert, key, "pg"))
    finally:
        for server, _, _ in servers:
            server.stop()


def tools_missing(args):
    tools, missing = mqtt_checks.tools_or_none(args)
    if tools is None:
        return missing
    try:
        import cbor2  # noqa: F401
    except ImportError:
        return "cbor2 is not installed in this python (pip install cbor2)"
    return None


def run(h, checks, args, work, credentials):
    missing = tools_missing(args)
    if missing:
        mqtt_checks.missing_tools(checks, missing)
        return
    sqlite_checks(h, checks, args, work, credentials)


def run_postgres(h, checks, args, work, credentials, pg_url):
    missing = tools_missing(args)
    if missing:
        mqtt_checks.missing_tools(checks, missing)
        return
    postgres_checks(h, checks, args, work, credentials, pg_url)
