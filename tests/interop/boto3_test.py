#!/usr/bin/env python3
"""Interop test: the example service driven by the real AWS SDK (boto3/botocore).

    python3 tests/interop/boto3_test.py --service target/debug/examples/service --cli target/debug/iot-ca

Starts the service on a free loopback port with tests/interop/ (fixtures from tests/data),
points boto3's IoT client at it and checks, through the SDK: GetRegistrationCode twice (same
code); RegisterCACertificate with a proof made by the iot-ca CLI (certificateId = SHA-256 of
the DER, an ARN with cacert/); the same again raises ResourceAlreadyExistsException; a proof
for a wrong code raises RegistrationCodeValidationException; DescribeCACertificate returns
status, certificateMode and validity as datetimes; CreateProvisioningClaim returns a
certificate that openssl verifies under the issuer and an expiration five minutes ahead.
The service is stopped at the end whatever happens. Prints `N passed, N failed`.
"""
import argparse
import datetime
import hashlib
import json
import os
import pathlib
import socket
import ssl
import subprocess
import sys
import tempfile
import time

import boto3

ROOT = pathlib.Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def der_sha256(pem):
    return hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem)).hexdigest()


class Checks:
    def __init__(self):
        self.passed, self.failed = 0, 0

    def run(self, name, fn):
        try:
            fn()
            self.passed += 1
            print(f"ok   {name}")
        except Exception as e:  # noqa: BLE001 - a failed check is reported, not raised
            self.failed += 1
            print(f"FAIL {name}: {type(e).__name__}: {e}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--service", required=True)
    ap.add_argument("--cli", required=True)
    args = ap.parse_args()

    work = pathlib.Path(tempfile.mkdtemp(prefix="iot-ca-interop-"))
    config = work / "service.json"
    config.write_text(json.dumps({
        "accountId": "123456789012",
        "region": "us-east-1",
        "provisioningTemplates": [{"templateName": "fleet", "type": "FLEET_PROVISIONING", "enabled": True}],
        "claimIssuer": {"certificate": str(DATA / "claim-issuer.pem"), "key": str(DATA / "claim-issuer.key")},
    }))
    port = free_port()
    service = subprocess.Popen(
        [args.service, "--listen", f"127.0.0.1:{port}", "--config", str(config)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    checks = Checks()
    try:
        line = service.stdout.readline()
        if not line.startswith("listening on http://"):
            raise SystemExit(f"service did not start: {line!r} {service.stderr.read()}")
        endpoint = line.split()[-1]
        client = boto3.client(
            "iot", endpoint_url=endpoint, region_name="us-east-1",
            aws_access_key_id="x", aws_secret_access_key="x",
        )
        ca_pem = (DATA / "openssl-ca.pem").read_text()
        state = {}

        def proof(code, name):
            cert, key = work / f"{name}.pem", work / f"{name}.key"
            subprocess.run(
                [args.cli, "create-verification-certificate", "--ca-cert", str(DATA / "openssl-ca.pem"),
                 "--ca-key", str(DATA / "openssl-ca.key"), "--registration-code", code,
                 "--out-cert", str(cert), "--out-key", str(key)],
                check=True, stdout=subprocess.DEVNULL,
            )
            return cert.read_text()

        def registration_code():
            a = client.get_registration_code()["registrationCode"]
            b = client.get_registration_code()["registrationCode"]
            assert a == b, (a, b)
            assert len(a) == 64 and all(c in "0123456789abcdef" for c in a), a
            state["code"] = a

        def register():
            r = client.register_ca_certificate(
                caCertificate=ca_pem, verificationCertificate=proof(state["code"], "proof"), setAsActive=True,
            )
            assert r["certificateId"] == der_sha256(ca_pem), r
            assert ":cacert/" in r["certificateArn"] and r["certificateArn"].endswith(r["certificateId"]), r
            state["id"] = r["certificateId"]

        def register_again():
            try:
                client.register_ca_certificate(caCertificate=ca_pem, verificationCertificate=proof(state["code"], "again"))
            except client.exceptions.ResourceAlreadyExistsException as e:
                assert e.response["Error"]["Code"] == "ResourceAlreadyExistsException"
                assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 409
                return
            raise AssertionError("no ResourceAlreadyExistsException")

        def wrong_code():
            try:
                client.register_ca_certificate(caCertificate=ca_pem, verificationCertificate=proof("f" * 64, "wrong"))
            except client.exceptions.RegistrationCodeValidationException as e:
                assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 400
                return
            raise AssertionError("no RegistrationCodeValidationException")

        def describe():
            d = client.describe_ca_certificate(certificateId=state["id"])["certificateDescription"]
            assert d["status"] == "ACTIVE", d
            assert d["certificateMode"] == "DEFAULT", d
            assert isinstance(d["validity"]["notBefore"], datetime.datetime), d["validity"]
            assert isinstance(d["validity"]["notAfter"], datetime.datetime), d["validity"]
            assert isinstance(d["creationDate"], datetime.datetime), d
            assert d["ownedBy"] == "123456789012" and d["customerVersion"] == 1, d
            listed = client.list_ca_certificates()["certificates"]
            assert [c["certificateId"] for c in listed] == [state["id"]], listed
            assert isinstance(listed[0]["creationDate"], datetime.datetime), listed
            try:
                client.describe_ca_certificate(certificateId="0" * 64)
            except client.exceptions.ResourceNotFoundException:
                return
            raise AssertionError("no ResourceNotFoundException for an unknown id")

        def claim():
            before = datetime.datetime.now(datetime.timezone.utc)
            c = client.create_provisioning_claim(templateName="fleet")
            pem_path = work / "claim.pem"
            pem_path.write_text(c["certificatePem"])
            out = subprocess.run(
                ["openssl", "verify", "-CAfile", str(DATA / "claim-issuer.pem"), str(pem_path)],
                capture_output=True, text=True,
            )
            assert out.returncode == 0 and "OK" in out.stdout, out.stdout + out.stderr
            assert c["certificateId"] == der_sha256(c["certificatePem"])
            assert c["keyPair"]["PrivateKey"].startswith("-----BEGIN RSA PRIVATE KEY-----")
            expires = c["expiration"]
            assert isinstance(expires, datetime.datetime), expires
            ahead = (expires - before).total_seconds()
            assert 240 <= ahead <= 360, ahead

        checks.run("get_registration_code twice returns the same code", registration_code)
        checks.run("register_ca_certificate with a CLI-made proof", register)
        checks.run("the same registration again: ResourceAlreadyExistsException", register_again)
        checks.run("a proof for another code: RegistrationCodeValidationException", wrong_code)
        checks.run("describe_ca_certificate and list_ca_certificates: status, mode, datetimes", describe)
        checks.run("create_provisioning_claim: openssl verifies it, expiration ~5 min", claim)
    finally:
        service.terminate()
        try:
            service.wait(timeout=10)
        except subprocess.TimeoutExpired:
            service.kill()
            service.wait()
    print(f"{checks.passed} passed, {checks.failed} failed")
    return 1 if checks.failed else 0


if __name__ == "__main__":
    sys.exit(main())
