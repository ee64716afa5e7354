#!/usr/bin/env python3
"""The device endpoint under load, next to Mosquitto: TLS connects per second, the memory of idle
connections, and fleet provisioning flows per second against their floor.

    python3 benches/mqtt.py --server target/release/iot-ca-server \\
        --load target/release/examples/mqtt_load [--mosquitto /usr/sbin/mosquitto] \\
        [--connections 16] [--duration 10] [--warmup 2] [--idle 10000]

    python3 benches/mqtt.py --smoke --server target/debug/iot-ca-server \\
        --load target/debug/examples/mqtt_load [--mosquitto /usr/sbin/mosquitto]

Builds nothing. Makes, with openssl, a P-256 root and the server certificate it signs (both
servers present the same one), and a P-256 device issuer (our `--device-issuer`, Mosquitto's
`cafile`). Starts iot-ca-server on SQLite with its device endpoint, and Mosquitto 2.x with
`require_certificate true` (it checks the chain against that one CA file and nothing else), each
on a free port of 127.0.0.1. Through the API (boto3) it issues two device certificates from
openssl CSRs, P-256 and RSA-2048, ACTIVE, so both servers accept both; a fleet template and a
claim. Then, with the load client (`server/examples/mqtt_load.rs`: full handshakes, X25519, no
resumption), for each key type: connects/s on ours, then on Mosquitto; `--idle` connections
held on each, the server's resident memory (VmRSS) read before and while held; the RSA-2048
key generation floor (one thread per heavy worker: cores - 1) and fleet flows/s by claim
(CreateKeysAndCertificate, then CreateCertificateFromCsr with a P-256 CSR). Prints markdown
tables.

--smoke: a second per row, 200 idle connections, our fleet flows for 2 s: seconds, for CI;
exits non-zero on any error or a rate of zero. Needs openssl and boto3.
"""
import argparse
import json
import os
import pathlib
import resource
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "interop"))
import fleet_checks  # noqa: E402
from pgcluster import free_port  # noqa: E402
from servers import Process  # noqa: E402

import boto3  # noqa: E402

SERVER_NAME = "localhost"


def openssl(*argv, cwd):
    subprocess.run(["openssl", *argv], cwd=cwd, check=True, capture_output=True)


def make_pki(work):
    """A root, the server certificate it signs (localhost, 127.0.0.1), a device issuer; CSRs
    for a P-256 and an RSA-2048 device key."""
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    openssl("req", "-x509", *ec, "-keyout", "root.key", "-out", "root.pem", "-days", "30",
            "-subj", "/CN=bench root", cwd=work)
    openssl("req", "-new", *ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost", cwd=work)
    (work / "server.ext").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "root.pem", "-CAkey", "root.key", "-CAcreateserial",
            "-out", "server.pem", "-days", "30", "-extfile", "server.ext", cwd=work)
    (work / "server-chain.pem").write_text((work / "server.pem").read_text() + (work / "root.pem").read_text())
    openssl("req", "-x509", *ec, "-keyout", "issuer.key", "-out", "issuer.pem", "-days", "30",
            "-subj", "/CN=bench device issuer", "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=work)
    openssl("req", "-new", *ec, "-keyout", "p256.key", "-out", "p256.csr", "-subj", "/CN=bench p256", cwd=work)
    openssl("req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", "rsa2048.key", "-out", "rsa2048.csr",
            "-subj", "/CN=bench rsa2048", cwd=work)


def start_ours(binary, work, idle):
    http, mqtt = free_port(), free_port()
    argv = [binary, "--listen", f"127.0.0.1:{http}", "--store", f"sqlite:{work / 'iot-ca.sqlite3'}",
            "--mqtt-listen", f"127.0.0.1:{mqtt}", "--tls-cert", str(work / "server-chain.pem"),
            "--tls-key", str(work / "server.key"),
            "--device-issuer", f"{work / 'issuer.pem'},{work / 'issuer.key'}",
            "--mqtt-max-connections", str(idle + 100)]
    p = Process(argv, work / "iot-ca-server.log", http)
    p.wait(mqtt)
    return p, http, mqtt


def start_mosquitto(binary, work):
    port = free_port()
    conf = work / "mosquitto.conf"
    # Started as root, Mosquitto drops to user mosquitto, which cannot read this private
    # directory: it keeps the user it is started as.
    user = ["user root"] if os.geteuid() == 0 else []
    conf.write_text("\n".join([
        *user, "per_listener_settings false", "allow_anonymous true", "persistence false",
        "log_dest stderr", "log_type error", "log_type warning", "max_connections -1",
        # Without it each answer waits for the client's delayed ACK (Nagle): ~40 ms a connect.
        "set_tcp_nodelay true",
        f"listener {port} 127.0.0.1", f"cafile {work / 'issuer.pem'}", f"certfile {work / 'server-chain.pem'}",
        f"keyfile {work / 'server.key'}", "require_certificate true", ""]))
    return Process([binary, "-c", str(conf)], work / "mosquitto.log", port), port


def load(opts, *argv, idle_process=None):
    argv = [opts.load, *[str(a) for a in argv]]
    print("$ " + " ".join(argv), file=sys.stderr, flush=True)
    if idle_process is None:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=900)
        sys.stderr.write(done.stderr)
        if done.returncode != 0:
            sys.exit(f"the load client failed ({done.returncode})")
        return json.loads(done.stdout.strip().splitlines()[-1])
    # idle: the first line comes when every connection is held; the memory is read then,
    # halfway through the hold at the latest.
    client = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
    try:
        line = client.stdout.readline()
        if not line:
            client.wait()
            sys.exit(f"the load client failed ({client.returncode}) before holding its connections")
        held = json.loads(line)
        time.sleep(min(1.0, opts.hold / 2))
        held["rss_kib"] = idle_process.rss_kib()
        end = json.loads(client.stdout.readline() or "{}")
        client.wait()
    finally:
        if client.poll() is None:
            client.kill()
            client.wait()
    held["dropped_while_held"] = end.get("dropped_while_held")
    if client.returncode != 0:
        sys.exit(f"the load client failed ({client.returncode})")
    return held


def version_of(argv):
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=60)
        return (out.stdout + out.stderr).strip().splitlines()[0]
    except (OSError, subprocess.SubprocessError, IndexError) as e:
        return f"unknown ({e})"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--server", required=True, help="the iot-ca-server binary")
    ap.add_argument("--load", required=True, help="the load client (examples/mqtt_load)")
    ap.add_argument("--mosquitto", help="a Mosquitto 2.x broker binary (Debian's: /usr/sbin/mosquitto)")
    ap.add_argument("--connections", type=int, default=16, help="connects (or flows) in flight at once")
    ap.add_argument("--fleet-connections", type=int, default=4, help="fleet flows in flight at once")
    ap.add_argument("--duration", type=float, default=10.0)
    ap.add_argument("--warmup", type=float, default=2.0)
    ap.add_argument("--idle", type=int, default=10000, help="idle connections held on each server")
    ap.add_argument("--hold", type=float, default=5.0, help="seconds the idle connections are held")
    ap.add_argument("--only", choices=["connect", "idle", "fleet"], action="append",
                    help="run only these parts (repeatable; default: all)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory (logs, keys)")
    ap.add_argument("--smoke", action="store_true", help="seconds, for CI")
    opts = ap.parse_args()
    # 10,000 connections need as many descriptors in the client and in Mosquitto (the server
    # raises its own limit): the soft limit goes up to the hard one, inherited by both.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if opts.smoke:
        opts.connections, opts.fleet_connections, opts.duration, opts.warmup = 4, 2, 1.0, 0.2
        opts.idle, opts.hold = 200, 1.0

    started = time.monotonic()
    work = pathlib.Path(tempfile.mkdtemp(prefix="iot-ca-mqtt-load-"))
    processes, rows, idle_rows, fleet_rows = [], [], [], []
    heavy = max(1, (os.cpu_count() or 2) - 1)
    try:
        make_pki(work)
        ours, http, mqtt = start_ours(opts.server, work, opts.idle)
        processes.append(ours)
        iot = boto3.client("iot", endpoint_url=f"http://127.0.0.1:{http}", region_name="us-east-1",
                           aws_access_key_id="test", aws_secret_access_key="test")
        for kind in ("p256", "rsa2048"):
            issued = iot.create_certificate_from_csr(
                certificateSigningRequest=(work / f"{kind}.csr").read_text(), setAsActive=True)
            (work / f"{kind}.pem").write_text(issued["certificatePem"])
        fleet_checks.create_templates(iot, [("fleet", {})])
        claim = iot.create_provisioning_claim(templateName="fleet")
        claim_cert, claim_key = fleet_checks.write_pair(work, "claim", claim["certificatePem"],
                                                        claim["keyPair"]["PrivateKey"])
        targets = [("iot-ca-server", ours, mqtt)]
        if opts.mosquitto:
            mosquitto, port = start_mosquitto(opts.mosquitto, work)
            processes.append(mosquitto)
            targets.append(("Mosquitto", mosquitto, port))

        def common(port, kind):
            return ["--addr", f"127.0.0.1:{port}", "--server-name", SERVER_NAME, "--root", work / "root.pem",
                    "--cert", work / f"{kind}.pem", "--key", work / f"{kind}.key"]

        parts = set(opts.only or ["connect", "idle", "fleet"])
        for kind in ("p256", "rsa2048") if "connect" in parts else ():
            for name, _, port in targets:
                r = load(opts, *common(port, kind), "--mode", "connect", "--connections", opts.connections,
                         "--duration", opts.duration, "--warmup", opts.warmup)
                rows.append((name, kind, r))
        for name, process, port in targets if "idle" in parts else ():
            before = process.rss_kib()
            r = load(opts, *common(port, "p256"), "--mode", "idle", "--count", opts.idle,
                     "--connections", opts.connections, "--hold", opts.hold, idle_process=process)
            r["before_kib"] = before
            idle_rows.append((name, r))
        floor = {"ok": 1, "keys_per_s": 0.0, "mean_ms": 0.0}
        if "fleet" in parts:
            # The floor before and after the flows, averaged: this machine's speed drifts by a
            # fifth from one minute to the next, and RSA key generation's time varies with the
            # primes it meets, so one measurement a minute away from the flows misleads.
            floors = [load(opts, "--mode", "keygen", "--connections", heavy, "--duration", max(opts.duration, 2.0),
                           "--warmup", min(opts.warmup, 1.0), "--seed", 1)]
            fleet_common = ["--addr", f"127.0.0.1:{mqtt}", "--server-name", SERVER_NAME, "--root", work / "root.pem",
                            "--cert", claim_cert, "--key", claim_key, "--template", "fleet", "--mode", "fleet",
                            "--connections", opts.fleet_connections, "--warmup", opts.warmup]
            fleet_rows.append(load(opts, *fleet_common, "--duration", max(opts.duration, 2.0) * 2, "--seed", 1))
            floors.append(load(opts, "--mode", "keygen", "--connections", heavy, "--duration",
                               max(opts.duration, 2.0), "--warmup", min(opts.warmup, 1.0), "--seed", 2))
            floor = {"ok": sum(f["ok"] for f in floors),
                     "keys_per_s": sum(f["keys_per_s"] for f in floors) / len(floors),
                     "mean_ms": sum(f["mean_ms"] for f in floors) / len(floors),
                     "each": [f["keys_per_s"] for f in floors], "runs": floors}
            fleet_rows.append(load(opts, *fleet_common, "--duration", opts.duration, "--seed", 2,
                                   "--csr", work / "p256.csr"))
        ours_log = (work / "iot-ca-server.log").read_text(errors="replace")
    finally:
        for p in processes:
            p.stop()
        if opts.keep:
            print(f"logs and keys kept in {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)

    print("| server | device key | connects/s | p50 ms | p90 ms | p99 ms | ok | errors |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for name, kind, r in rows:
        print(f"| {name} | {kind} | {r['connects_per_s']:.0f} | {r['p50_ms']:.2f} | {r['p90_ms']:.2f} | "
              f"{r['p99_ms']:.2f} | {r['ok']} | {r['errors'] + r['warmup_errors']} |")
    print()
    print("| server | held | RSS before MiB | RSS held MiB | KiB per connection | opened in s | errors |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, r in idle_rows:
        per = (r["rss_kib"] - r["before_kib"]) / max(r["held"], 1)
        r["kib_per_connection"] = per
        print(f"| {name} | {r['held']} | {r['before_kib'] / 1024:.1f} | {r['rss_kib'] / 1024:.1f} | {per:.1f} | "
              f"{r['open_s']:.1f} | {r['errors']} |")
    print()
    print(f"| flow | flows/s | p50 ms | p99 ms | ok | errors | floor: RSA-2048 keys/s on {heavy} thread(s), "
          f"before and after | floor/flows |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in fleet_rows:
        ratio = floor["keys_per_s"] / r["flows_per_s"] if r["flows_per_s"] else float("inf")
        shown = f"{ratio:.2f}" if r["mode"] == "fleet" else "–"
        print(f"| {r['mode']} | {r['flows_per_s']:.1f} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | {r['ok']} | "
              f"{r['errors'] + r['warmup_errors']} | {floor['keys_per_s']:.1f} ({' and '.join(f'{k:.1f}' for k in floor.get('each', []))}; "
              f"mean {floor['mean_ms']:.1f} ms a key) | {shown} |")
    print()
    by = {(n, k): r for n, k, r in rows}
    for kind in ("p256", "rsa2048"):
        o, m = by.get(("iot-ca-server", kind)), by.get(("Mosquitto", kind))
        if o and m and m["connects_per_s"]:
            print(f"- {kind}: ours/Mosquitto connects/s {o['connects_per_s'] / m['connects_per_s']:.2f} (goal: at least 1)")
    if len(idle_rows) == 2 and idle_rows[1][1]["kib_per_connection"]:
        print(f"- idle memory per connection, ours/Mosquitto: "
              f"{idle_rows[0][1]['kib_per_connection'] / idle_rows[1][1]['kib_per_connection']:.2f} (goal: at most 1)")
    facts = [version_of(["rustc", "--version"]), version_of(["openssl", "version"]), "store: SQLite",
             f"{os.cpu_count()} cores", f"{opts.connections} connects in flight, {opts.fleet_connections} flows",
             f"{opts.warmup:g} s warm-up, {opts.duration:g} s measured per row", f"whole run {time.monotonic() - started:.0f} s"]
    if opts.mosquitto:
        facts.insert(0, version_of([opts.mosquitto, "-h"]))
    print("\n" + "; ".join(facts))

    failed = [f"{n} {k}: {r['errors'] + r['warmup_errors']} errors; first: {r['error_samples'][:2]}"
              for n, k, r in rows if r["errors"] or r["warmup_errors"] or not r["ok"]]
    failed += [f"{n} idle: held {r['held']} of {opts.idle}, {r['dropped_while_held']} dropped; {r['error_samples'][:2]}"
               for n, r in idle_rows if r["held"] != opts.idle or r["dropped_while_held"]]
    failed += [f"{r['mode']}: {r['errors'] + r['warmup_errors']} errors; first: {r['error_samples'][:2]}"
               for r in fleet_rows if r["errors"] or r["warmup_errors"] or not r["ok"]]
    if not floor["ok"]:
        failed.append("keygen: no key pair made")
    failed += [f"keygen floor: {f['errors'] + f['warmup_errors']} errors; first: {f['error_samples'][:2]}"
               for f in floor.get("runs", []) if f["errors"] or f["warmup_errors"]]
    if "panicked" in ours_log:
        failed.append("iot-ca-server's log has a panic")
    if failed:
        print("\n".join(["FAILED:"] + failed), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
