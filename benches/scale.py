#!/usr/bin/env python3
"""Registry size: does each operation cost the same with 10^3 and 10^6 certificates?

    python3 benches/scale.py --server target/release/iot-ca-server \\
        [--postgres-bin /usr/lib/postgresql/15/bin] [--sizes 1000,10000,100000,1000000] \\
        [--cas 10000] [--samples 300]

    python3 benches/scale.py --smoke --server target/debug/iot-ca-server [--postgres-bin DIR]

Builds nothing. For each store (SQLite; PostgreSQL too with --postgres-bin, a throwaway cluster
from tests/interop/pgcluster.py) it grows one registry, account 000000000000 in us-east-1, through
the sizes in order, and at each size measures, one request at a time over one kept-alive
connection (SigV4 as botocore signs): DescribeCertificate, DescribeCACertificate,
RegisterCertificate, ListCertificates and ListCertificatesByCA (the first page and page 40, by
keyset markers; for one CA with half the certificates, and the first page of one with a few),
DeleteCertificate; it prints p50/p99 per size and operation and the ratio of the largest size's
p99 to the smallest's (the goal: at most 2).

How the registry is filled: the server registers one CA (SNI_ONLY, tests/data/openssl-ca) and one
device certificate it signed through the API, with its own code; the script then copies those
two rows, as the server wrote them, into `--cas` CA rows and as many certificate rows as the size
asks, each with a fresh certificateId (and ARN) in its record and key columns, a creation date one
second apart, half of the certificates under one CA (so ListCertificatesByCA has a deep page) and
the rest spread over the others. Inserted with the server stopped, by SQL (sqlite3 here,
`psql COPY` there): the documented equivalent of the store's write path, which would take hours
through HTTP at 10^6. A DescribeCertificate of a copy answers the copied record.

--smoke: sizes 200 and 1,000, 30 samples, 50 CAs: seconds, for CI; exits non-zero on any
failed request. Needs openssl; Python's standard library and botocore (for the signing).
"""
import argparse
import http.client
import json
import os
import pathlib
import random
import secrets
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from urllib.parse import quote

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "interop"))
from pgcluster import Postgres, available, free_port  # noqa: E402

import botocore.auth  # noqa: E402
import botocore.awsrequest  # noqa: E402
import botocore.credentials  # noqa: E402

ACCOUNT, REGION = "000000000000", "us-east-1"
DATA = ROOT / "tests" / "data"
PAGE = 250
DEEP = 40
SIGNER = botocore.auth.SigV4Auth(botocore.credentials.Credentials("test", "test"), "iot", REGION)


class Server:
    def __init__(self, binary, store, log):
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.log = open(log, "ab")
        self.proc = subprocess.Popen(
            [binary, "--listen", f"127.0.0.1:{self.port}", "--store", store, "--max-connections-per-peer", "256"],
            stdout=subprocess.PIPE, stderr=self.log)
        if not self.proc.stdout.readline().startswith(b"listening on"):
            sys.exit(f"the server did not start; see {log}")
        self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)

    def call(self, method, path, body=b""):
        """One signed request on the kept-alive connection: (status, JSON answer, milliseconds)."""
        request = botocore.awsrequest.AWSRequest(method=method, url=self.endpoint + path, data=body)
        SIGNER.add_auth(request)
        prepared = request.prepare()
        started = time.perf_counter()
        self.conn.request(method, prepared.url.removeprefix(self.endpoint), body=body, headers=dict(prepared.headers))
        response = self.conn.getresponse()
        data = response.read()
        took = (time.perf_counter() - started) * 1000
        return response.status, (json.loads(data) if data else {}), took

    def ok(self, method, path, body=b""):
        status, answer, took = self.call(method, path, body)
        if status != 200:
            sys.exit(f"{method} {path}: {status} {answer}")
        return answer, took

    def stop(self):
        self.conn.close()
        self.proc.terminate()
        self.proc.wait(timeout=30)
        self.log.close()


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def device_certificates(work, n):
    """`n` device certificates signed by tests/data/openssl-ca, made with openssl."""
    pems = []
    for i in range(n):
        name = f"dev{i}"
        openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN=scale device {i} {secrets.token_hex(4)}", cwd=work)
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", str(DATA / "openssl-ca.pem"), "-CAkey",
                str(DATA / "openssl-ca.key"), "-set_serial", str(int.from_bytes(os.urandom(8), "big")), "-days", "30",
                "-sha256", "-out", f"{name}.pem", cwd=work)
        pems.append((work / f"{name}.pem").read_text())
    return pems


class Store:
    """The rows of one store: read the server's own, insert copies."""

    def __init__(self, kind, work, bindir):
        self.kind, self.work = kind, work
        if kind == "sqlite":
            self.path = work / "scale.sqlite3"
            self.url = f"sqlite:{self.path}"
        else:
            self.pg = Postgres(bindir)
            self.url = self.pg.url
            self.psql = [shutil.which("psql") or str(pathlib.Path(bindir) / "psql"), "-X", "-q", "-v",
                         "ON_ERROR_STOP=1", self.pg.url]

    def rows(self, sql):
        if self.kind == "sqlite":
            with sqlite3.connect(self.path) as db:
                return db.execute(sql).fetchall()
        out = subprocess.run([*self.psql, "-At", "-F", "\x1f", "-c", sql], check=True, capture_output=True, text=True)
        return [tuple(line.split("\x1f")) for line in out.stdout.splitlines()]

    def insert(self, table, columns, rows):
        if self.kind == "sqlite":
            marks = ", ".join("?" for _ in columns)
            with sqlite3.connect(self.path) as db:
                db.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)
            return
        path = self.work / f"{table}.copy"
        with open(path, "w") as f:
            for row in rows:
                f.write("\t".join(copy_field(v) for v in row) + "\n")
        subprocess.run([*self.psql, "-c", f"\\copy {table} ({', '.join(columns)}) FROM '{path}'"], check=True)
        path.unlink()

    def analyze(self):
        if self.kind == "postgres":
            subprocess.run([*self.psql, "-c", "ANALYZE"], check=True)

    def stop(self):
        if self.kind == "postgres":
            self.pg.stop()


def copy_field(value):
    if value is None:
        return "\\N"
    if isinstance(value, bytes):
        return "\\\\x" + value.hex()
    return str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))]


def run_store(kind, args, work, sizes):
    store = Store(kind, work, args.postgres_bin)
    log = work / f"{kind}.log"
    results = {}
    try:
        # The two rows the server writes itself.
        server = Server(args.server, store.url, log)
        ca_pem = (DATA / "openssl-ca.pem").read_text()
        ca, _ = server.ok("POST", "/cacertificate", json.dumps(
            {"caCertificate": ca_pem, "certificateMode": "SNI_ONLY", "setAsActive": True}).encode())
        device = device_certificates(work, 1)[0]
        server.ok("POST", "/certificate/register", json.dumps(
            {"certificatePem": device, "caCertificatePem": ca_pem, "status": "ACTIVE"}).encode())
        server.stop()
        real_ca = ca["certificateId"]
        ca_row = store.rows(f"SELECT subject, mode, creation_date, record FROM ca_certificates WHERE id = '{real_ca}'")[0]
        cert_row = store.rows("SELECT id, creation_date, record FROM certificates")[0]
        ca_record, cert_record = json.loads(ca_row[3]), json.loads(cert_row[2])
        ca_ids = [real_ca]
        cas = []
        for i in range(args.cas - 1):
            cid = secrets.token_hex(32)
            record = dict(ca_record, certificateId=cid,
                          certificateArn=f"arn:aws:iot:{REGION}:{ACCOUNT}:cacert/{cid}", creationDate=1_700_000_000 + i)
            cas.append((ACCOUNT, REGION, cid, os.urandom(24), ca_row[1], 1_700_000_000 + i, None, json.dumps(record)))
            ca_ids.append(cid)
        store.insert("ca_certificates", ["account", "region", "id", "subject", "mode", "creation_date",
                                         "template_name", "record"], cas)
        big_ca, spread = real_ca, ca_ids[1:] or [real_ca]
        inactive = []
        have = 1
        base = 1_700_000_000
        for size in sizes:
            rows = []
            for i in range(have, size):
                cid = secrets.token_hex(32)
                ca_id = big_ca if i % 2 == 0 else spread[i % len(spread)]
                status = "INACTIVE" if i % 97 == 0 else "ACTIVE"
                record = dict(cert_record, certificateId=cid, certificateArn=f"arn:aws:iot:{REGION}:{ACCOUNT}:cert/{cid}",
                              caCertificateId=ca_id, status=status, creationDate=base + i, lastModifiedDate=base + i)
                rows.append((ACCOUNT, REGION, cid, ca_id, base + i, json.dumps(record)))
                if status == "INACTIVE":
                    inactive.append(cid)
            started = time.monotonic()
            store.insert("certificates", ["account", "region", "id", "ca_id", "creation_date", "record"], rows)
            store.analyze()
            loaded = time.monotonic() - started
            have = size
            all_ids = [r[0] for r in store.rows("SELECT id FROM certificates")] if size <= 10_000 else None
            sample_ids = all_ids or [r[0] for r in store.rows(
                f"SELECT id FROM certificates WHERE creation_date % {max(1, size // (args.samples * 4))} = 0")]
            server = Server(args.server, store.url, log)
            try:
                results[size] = measure(server, args, work, sample_ids, ca_ids, big_ca, inactive)
            finally:
                server.stop()
            print(f"  {kind} {size:>9,}: loaded in {loaded:.1f} s; " + ", ".join(
                f"{op} {p50:.2f}/{p99:.2f}" for op, (p50, p99) in results[size].items()), flush=True)
    finally:
        store.stop()
    return results


def measure(server, args, work, sample_ids, ca_ids, big_ca, inactive):
    n = args.samples
    out = {}

    def timed(label, calls):
        times = []
        for method, path, body in calls:
            status, answer, took = server.call(method, path, body)
            if status != 200:
                sys.exit(f"{label}: {method} {path}: {status} {answer}")
            times.append(took)
        out[label] = (percentile(times, 50), percentile(times, 99))

    # Warm the connection and the server's caches a little, then measure.
    for _ in range(20):
        server.ok("GET", f"/certificates/{random.choice(sample_ids)}")
    timed("DescribeCertificate", [("GET", f"/certificates/{random.choice(sample_ids)}", b"") for _ in range(n)])
    timed("DescribeCACertificate", [("GET", f"/cacertificate/{random.choice(ca_ids)}", b"") for _ in range(n)])
    # A CA with its share of the other half (a few certificates) must not cost a walk of the
    # account's certificates to find them.
    small = random.choice(ca_ids[1:] or ca_ids)
    timed("ListCertificatesByCA small CA", [("GET", f"/certificates-by-ca/{small}?pageSize={PAGE}", b"")] * max(10, n // 5))
    for label, path in [("ListCertificates", "/certificates"), ("ListCertificatesByCA", f"/certificates-by-ca/{big_ca}")]:
        timed(f"{label} p1", [("GET", f"{path}?pageSize={PAGE}", b"")] * max(10, n // 5))
        marker, page = None, 1
        while page < DEEP:
            answer, _ = server.ok("GET", f"{path}?pageSize={PAGE}" + (f"&marker={quote(marker, safe='')}" if marker else ""))
            marker = answer.get("nextMarker")
            if not marker:
                break
            page += 1
        if marker:
            deep = f"{path}?pageSize={PAGE}&marker={quote(marker, safe='')}"
            timed(f"{label} p{DEEP}", [("GET", deep, b"")] * max(10, n // 5))
    registrations = device_certificates(work, max(10, n // 3))
    ca_pem = (DATA / "openssl-ca.pem").read_text()
    timed("RegisterCertificate", [("POST", "/certificate/register", json.dumps(
        {"certificatePem": pem, "caCertificatePem": ca_pem}).encode()) for pem in registrations])
    doomed = [inactive.pop() for _ in range(min(len(inactive), max(10, n // 3)))]
    timed("DeleteCertificate", [("DELETE", f"/certificates/{cid}", b"") for cid in doomed])
    return out


def table(kind, results):
    sizes = sorted(results)
    ops = list(dict.fromkeys(op for size in sizes for op in results[size]))
    lines = [f"| {kind} | " + " | ".join(f"{s:,}" for s in sizes) + " | p99 largest/smallest |",
             "|---|" + "---:|" * (len(sizes) + 1)]
    for op in ops:
        cells = [f"{results[s][op][0]:.2f} / {results[s][op][1]:.2f}" if op in results[s] else "-" for s in sizes]
        first, last = results[sizes[0]].get(op), results[sizes[-1]].get(op)
        ratio = f"{last[1] / first[1]:.2f}" if first and last else "-"
        lines.append(f"| {op} | " + " | ".join(cells) + f" | {ratio} |")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", required=True)
    ap.add_argument("--postgres-bin", default="")
    ap.add_argument("--sizes", default="1000,10000,100000,1000000")
    ap.add_argument("--cas", type=int, default=10_000)
    ap.add_argument("--samples", type=int, default=300)
    ap.add_argument("--smoke", action="store_true")
    args = ap.parse_args()
    if args.smoke:
        args.sizes, args.cas, args.samples = "200,1000", 50, 30
    sizes = [int(s) for s in args.sizes.split(",")]
    work = pathlib.Path(tempfile.mkdtemp(prefix="iot-ca-scale-"))
    kinds = ["sqlite"] + (["postgres"] if available(args.postgres_bin) else [])
    print(f"p50 / p99 in ms, one request at a time; {args.cas:,} CAs; work in {work}")
    for kind in kinds:
        results = run_store(kind, args, work, sizes)
        print()
        print(table(kind, results))
        print()
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
