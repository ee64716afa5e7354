#!/usr/bin/env python3
"""Interop tests: iot-ca-server driven by the real AWS SDK (boto3) and the AWS CLI.

    python3 tests/interop/server_test.py --server target/debug/iot-ca-server \
        --cli target/debug/iot-ca --aws VENV/bin/aws [--postgres-bin /usr/lib/postgresql/15/bin]

Starts the server on SQLite (a temp file) with two accounts and, through boto3, runs every
operation of SPEC §1-§3, §6 and §7 with their exceptions; the same through the AWS CLI
(AWS_ENDPOINT_URL_IOT); the server's own errors (unknown route, wrong method, bad percent-encoding,
oversize body) in AWS's shape; authentication faults (unsigned, wrong key, wrong secret, tampered
body, stale date: 403 each); concurrency (15 same-subject CAs at once: exactly 10 accepted; one CA
12 times at once: exactly one; one DEFAULT-mode CA from two accounts at once: one holder);
restart after SIGTERM (what was acknowledged is there, the registration code too); slow clients
(a half-sent request is cut off within the timeout, and SIGTERM still exits); the connection
bound (503 in AWS's shape); a request in flight when SIGTERM arrives (answered, and kept). With PostgreSQL binaries present, the concurrency checks run again against
two server processes sharing one throwaway cluster. Prints `N passed, N failed`; exits non-zero
on any failure.

Then the device endpoint (`--mqtt-listen`) with clients nobody here wrote, in mqtt_checks.py:
mosquitto_pub/mosquitto_sub (--mosquitto-pub/--mosquitto-sub, else PATH), paho-mqtt and awsiotsdk
(installed in the python running this), on SQLite and on two processes sharing PostgreSQL.
"""
import argparse
import concurrent.futures
import datetime
import hashlib
import http.client
import json
import os
import pathlib
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import types

import boto3
import botocore.auth
import botocore.config
import botocore.awsrequest
import botocore.credentials
import botocore.exceptions

import mqtt_checks
from pgcluster import Postgres, available as postgres_available, free_port

ROOT = pathlib.Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
ACCOUNT = "000000000000"
OTHER_ACCOUNT = "111111111111"
HEADER_TIMEOUT = 2


def der_sha256(pem):
    return hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem)).hexdigest()


class Checks:
    def __init__(self):
        self.passed, self.failed = 0, 0

    def run(self, name, fn):
        started = time.monotonic()
        try:
            fn()
            self.passed += 1
            print(f"ok   {name} ({time.monotonic() - started:.1f} s)", flush=True)
        except Exception as e:  # noqa: BLE001 - a failed check is reported, not raised
            self.failed += 1
            print(f"FAIL {name}: {type(e).__name__}: {e}", flush=True)


class Server:
    """One iot-ca-server process."""

    def __init__(self, binary, store, work, name, credentials=None, extra=()):
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.log = open(work / f"{name}.log", "a")
        cmd = [binary, "--listen", f"127.0.0.1:{self.port}", "--store", store,
               "--header-timeout", str(HEADER_TIMEOUT), "--body-timeout", str(HEADER_TIMEOUT),
               *(() if "--shutdown-deadline" in extra else ("--shutdown-deadline", "5")), *extra]
        if credentials:
            cmd += ["--credentials", str(credentials)]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self.log, text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("listening on http://"):
            self.proc.kill()
            raise SystemExit(f"server did not start: {line!r}; see {work / (name + '.log')}")

    def stop(self, timeout=15):
        """SIGTERM, then wait; answers the exit code and the seconds it took."""
        started = time.monotonic()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            code = "killed"
        self.log.close()
        return code, time.monotonic() - started


def client(endpoint, key="test", secret="test", region="us-east-1"):
    return boto3.client("iot", endpoint_url=endpoint, region_name=region,
                        aws_access_key_id=key, aws_secret_access_key=secret,
                        config=botocore.config.Config(retries={"max_attempts": 1}))


def expect(exception, status, fn, *args, **kwargs):
    try:
        fn(*args, **kwargs)
    except botocore.exceptions.ClientError as e:
        code = e.response["Error"]["Code"]
        got = e.response["ResponseMetadata"]["HTTPStatusCode"]
        assert (code, got) == (exception, status), (code, got, e.response["Error"].get("Message"))
        return e.response
    raise AssertionError(f"no {exception}")


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], check=True, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def self_signed_ca(work, name, subject):
    """An EC P-256 CA certificate (PEM text) with `subject`."""
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", f"{name}.key", "-out", f"{name}.pem", "-subj", subject, "-days", "30",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign", cwd=work)
    return (work / f"{name}.pem").read_text()


def device_cert(work, name, ca="openssl-ca", cn=None):
    """A certificate signed by tests/data/openssl-ca (or by `ca` in work), CN = `cn` or `name`:
    a device certificate, or with the registration code as CN the guide's proof of possession."""
    ca_dir = DATA if ca == "openssl-ca" else work
    openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={cn or name}", cwd=work)
    openssl("x509", "-req", "-in", f"{name}.csr", "-CA", str(ca_dir / f"{ca}.pem"), "-CAkey", str(ca_dir / f"{ca}.key"),
            "-set_serial", str(int.from_bytes(os.urandom(8), "big")), "-days", "30", "-sha256", "-out", f"{name}.pem",
            cwd=work)
    return (work / f"{name}.pem").read_text()


def signed(endpoint, method, path, body=b"", key="test", secret="test", region="us-east-1", sign=True,
           date=None, headers=None):
    """The request botocore would send (signed as it signs, or not), prepared but not sent."""
    request = botocore.awsrequest.AWSRequest(method=method, url=endpoint + path, data=body, headers=headers or {})
    if sign:
        signer = botocore.auth.SigV4Auth(botocore.credentials.Credentials(key, secret), "iot", region)
        if date is not None:
            real = datetime.datetime
            fixed = date

            class Frozen(real):
                @classmethod
                def utcnow(cls):
                    return fixed.replace(tzinfo=None)

                @classmethod
                def now(cls, tz=None):
                    return fixed if tz else fixed.replace(tzinfo=None)

            botocore.auth.datetime.datetime = Frozen
            try:
                signer.add_auth(request)
            finally:
                botocore.auth.datetime.datetime = real
        else:
            signer.add_auth(request)
    return request.prepare()


def raw(endpoint, method, path, body=b"", key="test", secret="test", region="us-east-1", sign=True,
        tamper=None, date=None, headers=None):
    """A request signed as botocore signs it (or not), sent as is: (status, headers, body)."""
    prepared = signed(endpoint, method, path, body, key, secret, region, sign, date, headers)
    data = prepared.body if tamper is None else tamper
    host, port = endpoint.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        conn.request(method, prepared.url.removeprefix(endpoint), body=data, headers=dict(prepared.headers))
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def expect_raw(result, status, error_type):
    got_status, headers, body = result
    assert got_status == status, (got_status, headers, body)
    assert headers.get("x-amzn-errortype") == error_type, headers
    message = json.loads(body)["message"]
    assert isinstance(message, str) and message, body
    return message


# ------------------------------------------------------------------------------------ boto3


def boto3_checks(checks, server, work, cli_bin):
    iot = client(server.endpoint)
    other = client(server.endpoint, key="other", secret="other-secret")
    ca_pem = (DATA / "openssl-ca.pem").read_text()
    state = {}

    def proof(code, name):
        cert, key = work / f"{name}.pem", work / f"{name}.key"
        subprocess.run(
            [cli_bin, "create-verification-certificate", "--ca-cert", str(DATA / "openssl-ca.pem"),
             "--ca-key", str(DATA / "openssl-ca.key"), "--registration-code", code,
             "--out-cert", str(cert), "--out-key", str(key)],
            check=True, stdout=subprocess.DEVNULL,
        )
        return cert.read_text()

    def registration_code():
        a = iot.get_registration_code()["registrationCode"]
        b = iot.get_registration_code()["registrationCode"]
        assert a == b and len(a) == 64, (a, b)
        assert other.get_registration_code()["registrationCode"] != a, "accounts share a code"
        state["code"] = a

    def register():
        expect("InvalidRequestException", 400, iot.register_ca_certificate, caCertificate=ca_pem)
        expect("RegistrationCodeValidationException", 400, iot.register_ca_certificate,
               caCertificate=ca_pem, verificationCertificate=proof("f" * 64, "wrong"))
        expect("CertificateValidationException", 400, iot.register_ca_certificate,
               caCertificate="not a pem", verificationCertificate="x")
        expect("InvalidRequestException", 400, iot.register_ca_certificate, caCertificate=ca_pem,
               verificationCertificate=proof(state["code"], "p0"), tags=[{"Key": "aws:no", "Value": "x"}])
        r = iot.register_ca_certificate(caCertificate=ca_pem, verificationCertificate=proof(state["code"], "p1"),
                                        setAsActive=True, tags=[{"Key": "env", "Value": "test"}])
        assert r["certificateId"] == der_sha256(ca_pem), r
        assert r["certificateArn"] == f"arn:aws:iot:us-east-1:{ACCOUNT}:cacert/{r['certificateId']}", r
        state["ca"], state["ca_arn"] = r["certificateId"], r["certificateArn"]
        expect("ResourceAlreadyExistsException", 409, iot.register_ca_certificate,
               caCertificate=ca_pem, verificationCertificate=proof(state["code"], "p2"))
        status, _, body = raw(server.endpoint, "POST", "/cacertificate",
                              body=json.dumps({"caCertificate": ca_pem, "certificateMode": "SNI_ONLY"}).encode())
        body = json.loads(body)
        assert status == 409 and body["resourceId"] == state["ca"] and body["resourceArn"] == state["ca_arn"], body

    def default_mode_across_accounts():
        code = other.get_registration_code()["registrationCode"]
        e = expect("InvalidRequestException", 400, other.register_ca_certificate,
                   caCertificate=ca_pem, verificationCertificate=proof(code, "p3"))
        assert "Cannot accept this CACertificate" in e["Error"]["Message"], e
        r = other.register_ca_certificate(caCertificate=ca_pem, certificateMode="SNI_ONLY")
        assert r["certificateArn"].startswith(f"arn:aws:iot:us-east-1:{OTHER_ACCOUNT}:cacert/"), r

    def describe_and_list():
        d = iot.describe_ca_certificate(certificateId=state["ca"])["certificateDescription"]
        assert (d["status"], d["certificateMode"], d["ownedBy"], d["customerVersion"]) == \
            ("ACTIVE", "DEFAULT", ACCOUNT, 1), d
        assert isinstance(d["creationDate"], datetime.datetime), d
        assert isinstance(d["validity"]["notAfter"], datetime.datetime), d
        expect("ResourceNotFoundException", 404, iot.describe_ca_certificate, certificateId="0" * 64)
        expect_raw(raw(server.endpoint, "GET", "/cacertificate/xyz"), 400, "InvalidRequestException")
        upper = iot.describe_ca_certificate(certificateId=state["ca"].upper())["certificateDescription"]
        assert upper["certificateId"] == state["ca"]
        listed = iot.list_ca_certificates()["certificates"]
        assert [c["certificateId"] for c in listed] == [state["ca"]], listed
        # Registries per region: eu-west-1 and cn-north-1 see nothing of us-east-1.
        assert client(server.endpoint, region="eu-west-1").list_ca_certificates()["certificates"] == []
        cn = client(server.endpoint, region="cn-north-1")
        r = cn.register_ca_certificate(caCertificate=ca_pem, certificateMode="SNI_ONLY")
        assert r["certificateArn"].startswith(f"arn:aws-cn:iot:cn-north-1:{ACCOUNT}:cacert/"), r

    def paging():
        second = self_signed_ca(work, "sni-ca", "/CN=paging second")
        r = iot.register_ca_certificate(caCertificate=second, certificateMode="SNI_ONLY")
        state["sni_ca"] = r["certificateId"]
        page = iot.list_ca_certificates(pageSize=1, ascendingOrder=True)
        assert len(page["certificates"]) == 1 and "nextMarker" in page, page
        rest = iot.list_ca_certificates(pageSize=1, ascendingOrder=True, marker=page["nextMarker"])
        seen = [page["certificates"][0]["certificateId"], rest["certificates"][0]["certificateId"]]
        assert sorted(seen) == sorted([state["ca"], state["sni_ca"]]) and "nextMarker" not in rest, rest
        expect("InvalidRequestException", 400, iot.list_ca_certificates, marker="AAAA")
        expect("InvalidRequestException", 400, iot.list_ca_certificates, pageSize=251)
        # A marker is bound to its listing: the other account cannot use it.
        expect("InvalidRequestException", 400, other.list_ca_certificates, pageSize=1, ascendingOrder=True,
               marker=page["nextMarker"])
        paginator = iot.get_paginator("list_ca_certificates")
        ids = [c["certificateId"] for p in paginator.paginate(PaginationConfig={"PageSize": 1}) for c in p["certificates"]]
        assert sorted(ids) == sorted(seen), ids

    def update_ca():
        iot.update_ca_certificate(certificateId=state["sni_ca"], newStatus="ACTIVE", newAutoRegistrationStatus="ENABLE")
        d = iot.describe_ca_certificate(certificateId=state["sni_ca"])["certificateDescription"]
        assert (d["status"], d["autoRegistrationStatus"], d["customerVersion"]) == ("ACTIVE", "ENABLE", 2), d
        expect("InvalidRequestException", 400, iot.update_ca_certificate, certificateId=state["sni_ca"], newStatus="BOGUS")
        expect("ResourceNotFoundException", 404, iot.update_ca_certificate,
               certificateId=state["sni_ca"], registrationConfig={"templateName": "nosuch"})
        expect("ResourceNotFoundException", 404, iot.update_ca_certificate, certificateId="1" * 64, newStatus="ACTIVE")

    def tags():
        arn = state["ca_arn"]
        iot.tag_resource(resourceArn=arn, tags=[{"Key": "team", "Value": "a"}, {"Key": "env", "Value": "prod"}])
        t = iot.list_tags_for_resource(resourceArn=arn)["tags"]
        assert t == [{"Key": "env", "Value": "prod"}, {"Key": "team", "Value": "a"}], t
        iot.untag_resource(resourceArn=arn, tagKeys=["team"])
        assert iot.list_tags_for_resource(resourceArn=arn)["tags"] == [{"Key": "env", "Value": "prod"}]
        expect("ResourceNotFoundException", 404, iot.list_tags_for_resource,
               resourceArn=arn.replace(ACCOUNT, OTHER_ACCOUNT))
        expect("ResourceNotFoundException", 404, other.tag_resource, resourceArn=arn, tags=[{"Key": "k", "Value": "v"}])
        expect("LimitExceededException", 410, iot.tag_resource, resourceArn=arn,
               tags=[{"Key": f"k{i}", "Value": ""} for i in range(50)])

    def device_certificates():
        dev = device_cert(work, "device1")
        r = iot.register_certificate(certificatePem=dev, setAsActive=True)
        assert r["certificateArn"] == f"arn:aws:iot:us-east-1:{ACCOUNT}:cert/{der_sha256(dev)}", r
        state["dev"] = r["certificateId"]
        expect("ResourceAlreadyExistsException", 409, iot.register_certificate, certificatePem=dev, caCertificatePem=ca_pem)
        expect("CertificateValidationException", 400, other.register_certificate, certificatePem=device_cert(work, "device9"),
               caCertificatePem=(work / "sni-ca.pem").read_text())
        d = iot.describe_certificate(certificateId=state["dev"])["certificateDescription"]
        assert (d["status"], d["caCertificateId"], d["certificateMode"]) == ("ACTIVE", state["ca"], "DEFAULT"), d
        expect("ResourceNotFoundException", 404, iot.describe_certificate, certificateId="2" * 64)
        expect("CertificateStateException", 406, iot.delete_certificate, certificateId=state["dev"])
        iot.update_certificate(certificateId=state["dev"], newStatus="REVOKED")
        expect("CertificateStateException", 406, iot.update_certificate, certificateId=state["dev"], newStatus="ACTIVE")
        expect("InvalidRequestException", 400, iot.update_certificate, certificateId=state["dev"], newStatus="PENDING_TRANSFER")
        second = iot.register_certificate(certificatePem=device_cert(work, "device2"), status="INACTIVE")
        bare = self_signed_ca(work, "bare-device", "/CN=bare device")
        no_ca = iot.register_certificate_without_ca(certificatePem=bare)
        d = iot.describe_certificate(certificateId=no_ca["certificateId"])["certificateDescription"]
        assert d["certificateMode"] == "SNI_ONLY" and "caCertificateId" not in d, d
        listed = {c["certificateId"] for c in iot.list_certificates()["certificates"]}
        assert listed == {state["dev"], second["certificateId"], no_ca["certificateId"]}, listed
        by_ca = {c["certificateId"] for c in iot.list_certificates_by_ca(caCertificateId=state["ca"])["certificates"]}
        assert by_ca == {state["dev"], second["certificateId"]}, by_ca
        iot.tag_resource(resourceArn=no_ca["certificateArn"], tags=[{"Key": "device", "Value": "bare"}])
        assert iot.list_tags_for_resource(resourceArn=no_ca["certificateArn"])["tags"] == [{"Key": "device", "Value": "bare"}]
        iot.delete_certificate(certificateId=second["certificateId"])
        expect("ResourceNotFoundException", 404, iot.describe_certificate, certificateId=second["certificateId"])
        assert other.list_certificates()["certificates"] == []

    def delete_ca():
        expect("CertificateStateException", 406, iot.delete_ca_certificate, certificateId=state["sni_ca"])
        iot.update_ca_certificate(certificateId=state["sni_ca"], newStatus="INACTIVE")
        iot.delete_ca_certificate(certificateId=state["sni_ca"])
        expect("ResourceNotFoundException", 404, iot.describe_ca_certificate, certificateId=state["sni_ca"])
        expect("ResourceNotFoundException", 404, iot.delete_ca_certificate, certificateId=state["sni_ca"])

    def delete_registration_code():
        iot.delete_registration_code()
        expect("ResourceNotFoundException", 404, iot.delete_registration_code)
        fresh = iot.get_registration_code()["registrationCode"]
        assert fresh != state["code"], "the code did not change"
        state["code"] = fresh

    def claims():
        expect("ResourceNotFoundException", 404, iot.create_provisioning_claim, templateName="fleet")
        iot.create_provisioning_template(templateName="fleet", templateBody='{"Resources": {}}',
                                         provisioningRoleArn=f"arn:aws:iam::{ACCOUNT}:role/Provisioning", enabled=True)
        expect("ResourceAlreadyExistsException", 409, iot.create_provisioning_template, templateName="fleet",
               templateBody='{"Resources": {}}', provisioningRoleArn=f"arn:aws:iam::{ACCOUNT}:role/Provisioning")
        iot.create_provisioning_template(templateName="jitp", type="JITP", templateBody='{"Resources": {}}',
                                         provisioningRoleArn=f"arn:aws:iam::{ACCOUNT}:role/Provisioning", enabled=True)
        expect("InvalidRequestException", 400, iot.create_provisioning_claim, templateName="jitp")
        before = datetime.datetime.now(datetime.timezone.utc)
        c = iot.create_provisioning_claim(templateName="fleet")
        (work / "claim.pem").write_text(c["certificatePem"])
        out = subprocess.run(["openssl", "verify", "-CAfile", str(DATA / "claim-issuer.pem"), str(work / "claim.pem")],
                             capture_output=True, text=True)
        assert out.returncode == 0 and "OK" in out.stdout, out.stdout + out.stderr
        assert c["certificateId"] == der_sha256(c["certificatePem"])
        assert c["keyPair"]["PrivateKey"].startswith("-----BEGIN RSA PRIVATE KEY-----")
        ahead = (c["expiration"] - before).total_seconds()
        assert 240 <= ahead <= 360, ahead
        # The JITP template can now be named by a CA's registrationConfig.
        iot.update_ca_certificate(certificateId=state["ca"], registrationConfig={"templateName": "jitp"})
        listed = iot.list_ca_certificates(templateName="jitp")["certificates"]
        assert [x["certificateId"] for x in listed] == [state["ca"]], listed

    checks.run("boto3: get_registration_code is stable per account", registration_code)
    checks.run("boto3: register_ca_certificate and its exceptions", register)
    checks.run("boto3: the DEFAULT-mode holder rule across accounts", default_mode_across_accounts)
    checks.run("boto3: describe/list CA, per-region registries, aws-cn ARNs", describe_and_list)
    checks.run("boto3: list paging with markers and the paginator", paging)
    checks.run("boto3: update_ca_certificate and its exceptions", update_ca)
    checks.run("boto3: tag_resource, untag_resource, list_tags_for_resource", tags)
    checks.run("boto3: device certificates (register, without CA, describe, update, delete, list)", device_certificates)
    checks.run("boto3: delete_ca_certificate", delete_ca)
    checks.run("boto3: delete_registration_code", delete_registration_code)
    checks.run("boto3: provisioning templates and claims", claims)
    return state


# ---------------------------------------------------------------------------------- AWS CLI


def cli_checks(checks, server, work, aws_bin):
    env = dict(os.environ, AWS_ENDPOINT_URL_IOT=server.endpoint, AWS_ACCESS_KEY_ID="test",
               AWS_SECRET_ACCESS_KEY="test", AWS_DEFAULT_REGION="eu-central-1", AWS_MAX_ATTEMPTS="1",
               AWS_CONFIG_FILE=str(work / "no-config"), AWS_SHARED_CREDENTIALS_FILE=str(work / "no-credentials"))

    def aws(*args, ok=True):
        out = subprocess.run([aws_bin, "iot", *args, "--output", "json"], env=env, capture_output=True, text=True)
        if ok:
            assert out.returncode == 0, (args, out.stderr)
            return json.loads(out.stdout) if out.stdout.strip() else {}
        assert out.returncode != 0, (args, out.stdout)
        return out.stderr

    def flow():
        code = aws("get-registration-code")["registrationCode"]
        assert len(code) == 64
        self_signed_ca(work, "cli-ca", "/CN=cli root")
        r = aws("register-ca-certificate", "--ca-certificate", f"file://{work / 'cli-ca.pem'}",
                "--certificate-mode", "SNI_ONLY", "--set-as-active")
        assert r["certificateArn"].startswith(f"arn:aws:iot:eu-central-1:{ACCOUNT}:cacert/"), r
        ca_id = r["certificateId"]
        assert "ResourceAlreadyExistsException" in aws("register-ca-certificate", "--ca-certificate",
                                                       f"file://{work / 'cli-ca.pem'}", "--certificate-mode", "SNI_ONLY",
                                                       ok=False)
        d = aws("describe-ca-certificate", "--certificate-id", ca_id)["certificateDescription"]
        assert d["status"] == "ACTIVE" and d["certificateMode"] == "SNI_ONLY", d
        assert "ResourceNotFoundException" in aws("describe-ca-certificate", "--certificate-id", "0" * 64, ok=False)
        assert [c["certificateId"] for c in aws("list-ca-certificates")["certificates"]] == [ca_id]
        aws("update-ca-certificate", "--certificate-id", ca_id, "--new-auto-registration-status", "ENABLE")
        arn = d["certificateArn"]
        aws("tag-resource", "--resource-arn", arn, "--tags", "Key=k,Value=v")
        assert aws("list-tags-for-resource", "--resource-arn", arn)["tags"] == [{"Key": "k", "Value": "v"}]
        aws("untag-resource", "--resource-arn", arn, "--tag-keys", "k")
        dev = device_cert(work, "cli-device", "cli-ca")
        (work / "cli-device.pem").write_text(dev)
        r = aws("register-certificate", "--certificate-pem", f"file://{work / 'cli-device.pem'}",
                "--ca-certificate-pem", f"file://{work / 'cli-ca.pem'}", "--set-as-active")
        dev_id = r["certificateId"]
        assert aws("describe-certificate", "--certificate-id", dev_id)["certificateDescription"]["status"] == "ACTIVE"
        assert [c["certificateId"] for c in aws("list-certificates")["certificates"]] == [dev_id]
        assert [c["certificateId"] for c in aws("list-certificates-by-ca", "--ca-certificate-id", ca_id)["certificates"]] == [dev_id]
        assert "CertificateStateException" in aws("delete-certificate", "--certificate-id", dev_id, ok=False)
        aws("update-certificate", "--certificate-id", dev_id, "--new-status", "INACTIVE")
        aws("delete-certificate", "--certificate-id", dev_id)
        self_signed_ca(work, "cli-bare", "/CN=cli bare device")
        aws("register-certificate-without-ca", "--certificate-pem", f"file://{work / 'cli-bare.pem'}")
        assert "CertificateStateException" in aws("delete-ca-certificate", "--certificate-id", ca_id, ok=False)
        aws("update-ca-certificate", "--certificate-id", ca_id, "--new-status", "INACTIVE")
        aws("delete-ca-certificate", "--certificate-id", ca_id)
        aws("create-provisioning-template", "--template-name", "cli-fleet", "--template-body", '{"Resources": {}}',
            "--provisioning-role-arn", f"arn:aws:iam::{ACCOUNT}:role/P", "--enabled")
        claim = aws("create-provisioning-claim", "--template-name", "cli-fleet")
        assert claim["certificateId"] == der_sha256(claim["certificatePem"]), claim
        assert "ResourceNotFoundException" in aws("create-provisioning-claim", "--template-name", "nope", ok=False)
        aws("delete-registration-code")
        assert "ResourceNotFoundException" in aws("delete-registration-code", ok=False)

    def unsigned_and_wrong_key():
        bad = dict(env, AWS_SECRET_ACCESS_KEY="wrong")
        out = subprocess.run([aws_bin, "iot", "list-ca-certificates"], env=bad, capture_output=True, text=True)
        assert out.returncode != 0 and "InvalidSignatureException" in out.stderr, out.stderr
        out = subprocess.run([aws_bin, "iot", "list-ca-certificates", "--no-sign-request"], env=env,
                             capture_output=True, text=True)
        assert out.returncode != 0 and "MissingAuthenticationToken" in out.stderr, out.stderr

    checks.run("aws cli: every operation through AWS_ENDPOINT_URL_IOT, with exceptions", flow)
    checks.run("aws cli: wrong secret and --no-sign-request are refused", unsigned_and_wrong_key)


# ------------------------------------------------------------------------- the server's own


def own_error_checks(checks, server):
    def shapes():
        expect_raw(raw(server.endpoint, "GET", "/no/such/route"), 404, "UnknownOperationException")
        expect_raw(raw(server.endpoint, "PATCH", "/cacertificates"), 405, "MethodNotAllowedException")
        expect_raw(raw(server.endpoint, "GET", "/cacertificate/%zz"), 400, "InvalidRequestException")
        expect_raw(raw(server.endpoint, "GET", "/cacertificate/%ff%fe"), 400, "InvalidRequestException")
        message = expect_raw(raw(server.endpoint, "POST", "/cacertificate", body=b"{" + b" " * (128 * 1024) + b"}"),
                             413, "RequestEntityTooLargeException")
        assert "131074" in message and "131072" in message, message
        expect_raw(raw(server.endpoint, "POST", "/cacertificate", body=b"not json"), 400, "InvalidRequestException")
        expect_raw(raw(server.endpoint, "POST", "/cacertificate?setAsActive=maybe", body=b"{}"), 400,
                   "InvalidRequestException")

    def authentication():
        expect_raw(raw(server.endpoint, "GET", "/cacertificates", sign=False), 403, "MissingAuthenticationTokenException")
        expect_raw(raw(server.endpoint, "GET", "/cacertificates", key="nobody"), 403, "UnrecognizedClientException")
        expect_raw(raw(server.endpoint, "GET", "/cacertificates", secret="wrong"), 403, "InvalidSignatureException")
        body = json.dumps({"resourceArn": f"arn:aws:iot:us-east-1:{ACCOUNT}:cacert/" + "0" * 64,
                           "tags": [{"Key": "a", "Value": "b"}]}).encode()
        expect_raw(raw(server.endpoint, "POST", "/tags", body=body, tamper=body.replace(b'"b"', b'"c"')), 403,
                   "InvalidSignatureException")
        stale = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=10)
        message = expect_raw(raw(server.endpoint, "GET", "/cacertificates", date=stale), 403, "InvalidSignatureException")
        assert "Signature expired" in message, message
        status, _, _ = raw(server.endpoint, "GET", "/cacertificates")
        assert status == 200, status

    def ping():
        status, headers, body = raw(server.endpoint, "GET", "/ping", sign=False)
        assert (status, headers.get("content-type"), json.loads(body)) == (200, "application/json", {}), (status, body)
        # Only GET: any other method is an operation like the rest, signed and routed.
        expect_raw(raw(server.endpoint, "POST", "/ping", body=b"{}", sign=False), 403, "MissingAuthenticationTokenException")
        expect_raw(raw(server.endpoint, "POST", "/ping", body=b"{}"), 404, "UnknownOperationException")

    checks.run("the server's own errors in AWS's shape (404, 405, bad %-encoding, 413)", shapes)
    checks.run("GET /ping answers {} unsigned; another method on it is an unknown operation", ping)
    checks.run("authentication: unsigned, wrong key, wrong secret, tampered body, stale date -> 403", authentication)


# ------------------------------------------------------------------------------ concurrency


def concurrency_checks(checks, endpoints, work, label):
    """15 same-subject CAs at once -> exactly 10; one CA 12 times at once -> exactly one."""
    tag = f"{label}-{os.getpid()}-{int(time.time())}"
    pems = [self_signed_ca(work, f"same-{label}-{i}", f"/CN=same subject {tag}") for i in range(15)]
    one = self_signed_ca(work, f"one-{label}", f"/CN=one ca {tag}")

    def attempt(i, pem):
        iot = client(endpoints[i % len(endpoints)])
        try:
            iot.register_ca_certificate(caCertificate=pem, certificateMode="SNI_ONLY")
            return "ok"
        except botocore.exceptions.ClientError as e:
            return e.response["Error"]["Code"]

    def run(pems_list):
        with concurrent.futures.ThreadPoolExecutor(max_workers=len(pems_list)) as pool:
            return list(pool.map(lambda a: attempt(*a), enumerate(pems_list)))

    def fifteen():
        results = run(pems)
        assert results.count("ok") == 10, results
        assert results.count("LimitExceededException") == 5, results

    def twelve():
        results = run([one] * 12)
        assert results.count("ok") == 1, results
        assert results.count("ResourceAlreadyExistsException") == 11, results

    def default_across_accounts():
        # One CA in DEFAULT mode, 6 attempts from each of two accounts at once, each with its
        # own account's proof: exactly one registration in the region, whichever account wins.
        name = f"default-{label}"
        ca = self_signed_ca(work, name, f"/CN=default holder {tag}")
        accounts = [("test", "test", ACCOUNT), ("other", "other-secret", OTHER_ACCOUNT)]
        attempts = []
        for i in range(12):
            key, secret, _ = accounts[i % 2]
            code = client(endpoints[0], key=key, secret=secret).get_registration_code()["registrationCode"]
            proof = device_cert(work, f"{name}-proof-{i}", ca=name, cn=code)
            attempts.append((i, key, secret, proof))

        def go(a):
            i, key, secret, proof = a
            iot = client(endpoints[i % len(endpoints)], key=key, secret=secret)
            try:
                iot.register_ca_certificate(caCertificate=ca, verificationCertificate=proof)
                return key, "ok"
            except botocore.exceptions.ClientError as e:
                return key, e.response["Error"]["Code"]

        with concurrent.futures.ThreadPoolExecutor(max_workers=12) as pool:
            results = list(pool.map(go, attempts))
        winners = [key for key, outcome in results if outcome == "ok"]
        assert len(winners) == 1, results
        for key, outcome in results:
            if outcome != "ok":
                expected = "ResourceAlreadyExistsException" if key == winners[0] else "InvalidRequestException"
                assert outcome == expected, results

    servers = "one server" if len(endpoints) == 1 else f"{len(endpoints)} servers"
    checks.run(f"{label} ({servers}): 15 same-subject CAs at once -> exactly 10 accepted", fifteen)
    checks.run(f"{label} ({servers}): one CA 12 times at once -> exactly one accepted", twelve)
    checks.run(f"{label} ({servers}): one DEFAULT-mode CA from two accounts at once -> one holder", default_across_accounts)


# --------------------------------------------------------------------- restart, slow clients


def restart_checks(checks, args, store, work, credentials, state):
    server = Server(args.server, store, work, "restart", credentials, extra=claim_issuer_args())
    iot = client(server.endpoint)
    code = iot.get_registration_code()["registrationCode"]
    ca = self_signed_ca(work, "restart-ca", "/CN=restart")
    r = iot.register_ca_certificate(caCertificate=ca, certificateMode="SNI_ONLY")
    exit_code, _ = server.stop()

    def survives():
        assert exit_code == 0, exit_code
        again = Server(args.server, store, work, "restart", credentials, extra=claim_issuer_args())
        try:
            iot2 = client(again.endpoint)
            assert iot2.get_registration_code()["registrationCode"] == code
            d = iot2.describe_ca_certificate(certificateId=r["certificateId"])["certificateDescription"]
            assert d["certificateId"] == r["certificateId"]
            if state.get("dev"):
                iot2.describe_certificate(certificateId=state["dev"])
            page = iot2.list_ca_certificates(pageSize=1)
            if "nextMarker" in page:  # markers survive restarts: the key is in the store
                iot2.list_ca_certificates(pageSize=1, marker=page["nextMarker"])
        finally:
            again.stop()

    checks.run("restart after SIGTERM keeps what was acknowledged and the registration code", survives)


def slow_client_checks(checks, args, store, work, credentials):
    server = Server(args.server, store, work, "slow", credentials)

    def half_sent(payload):
        s = socket.create_connection(("127.0.0.1", server.port))
        s.sendall(payload)
        s.settimeout(HEADER_TIMEOUT + 5)
        started = time.monotonic()
        try:
            while s.recv(4096):
                pass
        except (ConnectionResetError, socket.timeout):
            pass
        elapsed = time.monotonic() - started
        s.close()
        return elapsed

    def cut_off():
        headers = half_sent(b"POST /cacertificate HTTP/1.1\r\nHost: x\r\n")
        assert headers <= HEADER_TIMEOUT + 1.5, f"half-sent headers held {headers:.1f} s"
        body = half_sent(b"POST /cacertificate HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"ca")
        assert body <= HEADER_TIMEOUT + 1.5, f"half-sent body held {body:.1f} s"
        idle = half_sent(b"")
        assert idle <= HEADER_TIMEOUT + 1.5, f"an idle connection held {idle:.1f} s"

    def sigterm_exits():
        lingering = socket.create_connection(("127.0.0.1", server.port))
        lingering.sendall(b"POST /cacertificate HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
        code, took = server.stop()
        lingering.close()
        assert code == 0, code
        assert took < 10, f"SIGTERM took {took:.1f} s"

    checks.run("slow clients: half-sent headers, half-sent body and idle connections are cut off", cut_off)
    checks.run("SIGTERM exits while a request is half-sent", sigterm_exits)


def connection_limit_checks(checks, args, store, work, credentials):
    server = Server(args.server, store, work, "limit", credentials, extra=["--max-connections", "2"])

    def over_the_bound():
        held = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(2)]
        try:
            time.sleep(0.2)
            expect_raw(raw(server.endpoint, "GET", "/registrationcode"), 503, "ServiceUnavailableException")
        finally:
            for s in held:
                s.close()
        time.sleep(0.3)
        status, _, _ = raw(server.endpoint, "GET", "/registrationcode")
        assert status == 200, status

    try:
        checks.run("a connection over --max-connections is answered 503 in AWS's shape", over_the_bound)
    finally:
        server.stop()


def in_flight_checks(checks, args, store, work, credentials):
    server = Server(args.server, store, work, "inflight", credentials)
    ca = self_signed_ca(work, "inflight-ca", "/CN=in flight")
    body = json.dumps({"caCertificate": ca, "certificateMode": "SNI_ONLY"}).encode()

    def finishes():
        prepared = signed(server.endpoint, "POST", "/cacertificate", body=body)
        head = f"POST {prepared.url.removeprefix(server.endpoint)} HTTP/1.1\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in prepared.headers.items() if k.lower() != "content-length")
        if not any(k.lower() == "host" for k in prepared.headers):
            head += f"Host: 127.0.0.1:{server.port}\r\n"
        head += f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        s = socket.create_connection(("127.0.0.1", server.port))
        s.settimeout(10)
        s.sendall(head.encode() + body[: len(body) // 2])
        time.sleep(0.3)
        server.proc.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        s.sendall(body[len(body) // 2:])
        answer = b""
        while chunk := s.recv(65536):
            answer += chunk
        s.close()
        code, _ = server.stop()
        assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
        assert code == 0, code
        again = Server(args.server, store, work, "inflight", credentials)
        try:
            d = client(again.endpoint).describe_ca_certificate(certificateId=der_sha256(ca))
            assert d["certificateDescription"]["certificateId"] == der_sha256(ca)
        finally:
            again.stop()

    checks.run("SIGTERM lets a request in flight finish, and what it acknowledged is kept", finishes)


# ------------------------------------------------------------------------------- PostgreSQL


def claim_issuer_args():
    return ["--claim-issuer", f"{DATA / 'claim-issuer.pem'},{DATA / 'claim-issuer.key'}"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", required=True)
    ap.add_argument("--cli", required=True)
    ap.add_argument("--aws", required=True)
    ap.add_argument("--server-before", default="",
                    help="an older iot-ca-server to run the claim flood on too, for a before/after report")
    ap.add_argument("--postgres-bin", default="", help="PostgreSQL binaries (e.g. /usr/lib/postgresql/15/bin)")
    ap.add_argument("--mosquitto-pub", default="", help="mosquitto_pub 2.x (default: from PATH)")
    ap.add_argument("--mosquitto-sub", default="", help="mosquitto_sub 2.x (default: from PATH)")
    args = ap.parse_args()
    helpers = types.SimpleNamespace(Server=Server, client=client, self_signed_ca=self_signed_ca,
                                    device_cert=device_cert, der_sha256=der_sha256, ACCOUNT=ACCOUNT)

    work = pathlib.Path(tempfile.mkdtemp(prefix="iot-ca-server-interop-"))
    credentials = work / "credentials.json"
    credentials.write_text(json.dumps({"accessKeys": [
        {"accessKeyId": "test", "secretAccessKey": "test", "accountId": ACCOUNT},
        {"accessKeyId": "other", "secretAccessKey": "other-secret", "accountId": OTHER_ACCOUNT},
    ]}))
    store = f"sqlite:{work / 'registry.sqlite3'}"
    checks = Checks()
    started = time.monotonic()
    import faults_checks
    import fleet_checks
    import templates_checks
    import things_checks

    server = Server(args.server, store, work, "main", credentials,
                    extra=claim_issuer_args() + things_checks.device_issuer_args())
    try:
        state = boto3_checks(checks, server, work, args.cli)
        things_checks.boto3_checks(checks, server, work)
        templates_checks.boto3_checks(checks, server, work)
        cli_checks(checks, server, work, args.aws)
        things_checks.cli_checks(checks, server, work, args.aws)
        templates_checks.cli_checks(checks, server, work, args.aws)
        own_error_checks(checks, server)
        concurrency_checks(checks, [server.endpoint], work, "sqlite")
        things_checks.concurrency_checks(checks, [server.endpoint], "sqlite")
    finally:
        server.stop()
    restart_checks(checks, args, store, work, credentials, state)
    slow_client_checks(checks, args, store, work, credentials)
    connection_limit_checks(checks, args, store, work, credentials)
    in_flight_checks(checks, args, store, work, credentials)
    faults_checks.sqlite_checks(checks, args, work, credentials)
    faults_checks.load_checks(checks, args, work, credentials, before=args.server_before)
    mqtt_checks.run(helpers, checks, args, work, credentials)
    fleet_checks.run(helpers, checks, args, work, credentials)

    if postgres_available(args.postgres_bin):
        pg = Postgres(args.postgres_bin)
        servers = []
        try:
            servers = [Server(args.server, pg.url, work, f"pg{i}", credentials) for i in range(2)]
            concurrency_checks(checks, [s.endpoint for s in servers], work, "postgres")
            things_checks.concurrency_checks(checks, [s.endpoint for s in servers], "postgres")
            for s in servers:
                s.stop()
            mqtt_checks.run_postgres(helpers, checks, args, work, credentials, pg.url)
            fleet_checks.run_postgres(helpers, checks, args, work, credentials, pg.url)
        finally:
            for s in servers:
                s.stop()
            pg.stop()
        faults_checks.postgres_checks(checks, args, work, credentials)
    else:
        print("!" * 72)
        print(f"!!! SKIPPED: PostgreSQL binaries not found in {args.postgres_bin}: no PostgreSQL checks ran")
        print("!" * 72)

    print(f"server interop took {time.monotonic() - started:.0f} s; logs in {work}")
    print(f"{checks.passed} passed, {checks.failed} failed")
    return 1 if checks.failed else 0


if __name__ == "__main__":
    sys.exit(main())
