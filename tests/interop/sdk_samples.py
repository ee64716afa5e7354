"""Runs the AWS IoT Device SDK v2 for Python's own fleet provisioning samples, unchanged, against
iot-ca-server: `fleet_provisioning_basic.py` (CreateKeysAndCertificate) and
`fleet_provisioning_csr.py` (CreateCertificateFromCsr), byte for byte the SDK's
`samples/service_clients/` (copied into tests/interop/sdk-samples with their provenance: the
awsiotsdk package does not ship them; CI runs this).

The samples connect to port 8883 and trust the system store: the server listens on
127.0.0.1:8883 and SSL_CERT_FILE names the root it made (--tls-root-out); --endpoint localhost.

    python tests/interop/sdk_samples.py --samples tests/interop/sdk-samples --server target/debug/iot-ca-server

Needs boto3 and awsiotsdk in this python, and openssl for the CSR; exits non-zero if a sample
fails or its device is not provisioned (thing, principal, policy, ACTIVE certificate).
"""
import argparse
import json
import os
import pathlib
import re
import subprocess
import sys
import tempfile

import boto3

import fleet_checks
from pgcluster import free_port


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", required=True, help="the SDK's samples/service_clients directory")
    ap.add_argument("--server", required=True)
    args = ap.parse_args()
    samples = pathlib.Path(args.samples)
    work = pathlib.Path(tempfile.mkdtemp(prefix="iot-ca-sdk-samples-"))
    http = free_port()
    server = subprocess.Popen(
        [args.server, "--listen", f"127.0.0.1:{http}", "--store", f"sqlite:{work / 'r.sqlite3'}",
         "--mqtt-listen", "127.0.0.1:8883", "--tls-root-out", str(work / "root.pem")],
        stdout=subprocess.PIPE, stderr=open(work / "server.log", "w"), text=True)
    failed = 0
    try:
        for _ in range(2):
            line = server.stdout.readline()
            if not line:
                raise SystemExit(f"the server did not start; see {work / 'server.log'}")
        iot = boto3.client("iot", endpoint_url=f"http://127.0.0.1:{http}", region_name="us-east-1",
                           aws_access_key_id="test", aws_secret_access_key="test")
        fleet_checks.create_templates(iot, [("fleet", {})])
        claim = iot.create_provisioning_claim(templateName="fleet")
        cert, key = fleet_checks.write_pair(work, "claim", claim["certificatePem"], claim["keyPair"]["PrivateKey"])
        subprocess.run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                        "-keyout", str(work / "device.key"), "-out", str(work / "device.csr"), "-subj", "/CN=device"],
                       check=True, capture_output=True)
        env = dict(os.environ, SSL_CERT_FILE=str(work / "root.pem"))
        for sample, serial, extra in [("fleet_provisioning_basic.py", "basic-1", []),
                                      ("fleet_provisioning_csr.py", "csr-1", ["--csr_file", str(work / "device.csr")])]:
            done = subprocess.run(
                [sys.executable, str(samples / sample), "--endpoint", "localhost", "--cert", str(cert), "--key",
                 str(key), "--template_name", "fleet", "--template_parameters", json.dumps({"SerialNumber": serial}),
                 *extra], capture_output=True, text=True, timeout=120, env=env)
            print(done.stdout)
            ids = re.findall(r"certificate_id='([0-9a-f]{64})'", done.stdout)
            try:
                assert done.returncode == 0, done.stderr[-2000:]
                assert f"thing_name='sensor-{serial}'" in done.stdout, "no RegisterThing response"
                fleet_checks.assert_provisioned(iot, f"sensor-{serial}", ids[0])
                print(f"ok   {sample}: sensor-{serial} provisioned, its certificate ACTIVE")
            except (AssertionError, IndexError) as e:
                failed += 1
                print(f"FAIL {sample}: {e}")
    finally:
        server.terminate()
        server.wait()
    print(f"logs in {work}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
