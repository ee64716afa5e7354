"""The server under faults (issue 26), driven from server_test.py's main: a PostgreSQL burst past
the database's connection limit, PostgreSQL stopped mid-flight, the SQLite file deleted or
replaced while the server runs, one address holding hundreds of idle and slowloris sockets, a
flood of CreateProvisioningClaim (RSA key generation) beside cheap reads, and session tokens.
Each check reproduces a fault the server once did not survive.
"""
import concurrent.futures
import json
import os
import signal
import socket
import subprocess
import threading
import time

from pgcluster import Postgres
from server_test import ACCOUNT, Server, client, expect, raw, self_signed_ca


def statuses(endpoint, bodies, workers):
    """RegisterCACertificate (SNI_ONLY) of each body at once: the HTTP statuses, in order."""
    def one(body):
        try:
            return raw(endpoint, "POST", "/cacertificate", body=body)[0]
        except OSError as e:
            return f"{type(e).__name__}"

    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(one, bodies))


def ca_bodies(work, label, n):
    return [json.dumps({"caCertificate": self_signed_ca(work, f"{label}-{i}", f"/CN={label} {i} {os.getpid()}"),
                        "certificateMode": "SNI_ONLY"}).encode() for i in range(n)]


def postgres_checks(checks, args, work, credentials):
    def burst():
        # 20 connections in the database, two servers that may hold 16 each: the pool waits for
        # a connection instead of opening one more ("sorry, too many clients already" was 500).
        pg = Postgres(args.postgres_bin, max_connections=20)
        servers = []
        try:
            # One client here is 125 connections to each server: past the share of one address.
            servers = [Server(args.server, pg.url, work, f"burst{i}", credentials,
                              extra=["--max-connections-per-peer", "256"]) for i in range(2)]
            bodies = ca_bodies(work, "burst", 250)
            with concurrent.futures.ThreadPoolExecutor(max_workers=250) as pool:
                results = list(pool.map(
                    lambda a: raw(servers[a[0] % 2].endpoint, "POST", "/cacertificate", body=a[1])[0],
                    enumerate(bodies)))
            counts = {s: results.count(s) for s in set(results)}
            print(f"     250 parallel RegisterCACertificate on 2 servers, max_connections 20: {counts}")
            assert 500 not in results, counts
            assert results.count(200) >= 245, counts
        finally:
            for s in servers:
                s.stop()
            pg.stop()

    def stopped():
        # PostgreSQL frozen (SIGSTOP): every request answers 503 within the deadline instead of
        # hanging until the client gives up; after SIGCONT the server serves again.
        pg = Postgres(args.postgres_bin)
        server = None
        frozen = []
        try:
            server = Server(args.server, pg.url, work, "frozen", credentials, extra=["--request-deadline", "2"])
            postmaster = int((pg.dir / "data" / "postmaster.pid").read_text().split()[0])
            children = subprocess.run(["pgrep", "-P", str(postmaster)], capture_output=True, text=True).stdout.split()
            frozen = [postmaster, *map(int, children)]
            for pid in frozen:
                os.kill(pid, signal.SIGSTOP)
            started = time.monotonic()
            results = statuses(server.endpoint, ca_bodies(work, "frozen", 10), 10)
            took = time.monotonic() - started
            assert results == [503] * 10, results
            assert took < 6, f"{took:.1f} s"
            for pid in frozen:
                os.kill(pid, signal.SIGCONT)
            frozen = []
            deadline = time.monotonic() + 15
            while True:
                status = statuses(server.endpoint, ca_bodies(work, "thawed", 1), 1)[0]
                if status == 200 or time.monotonic() > deadline:
                    break
                time.sleep(0.5)
            assert status == 200, status
        finally:
            for pid in frozen:
                os.kill(pid, signal.SIGCONT)
            if server:
                server.stop()
            pg.stop()

    checks.run("postgres: 250 parallel registrations past max_connections -> no 500", burst)
    checks.run("postgres stopped (SIGSTOP): 503 within --request-deadline, served again after SIGCONT", stopped)


def sqlite_checks(checks, args, work, credentials):
    def lost(fault, cause):
        def check():
            path = work / f"{fault}.sqlite3"
            server = Server(args.server, f"sqlite:{path}", work, fault, credentials)
            try:
                assert statuses(server.endpoint, ca_bodies(work, f"{fault}-before", 1), 1) == [200]
                if fault == "deleted":
                    for suffix in ("", "-wal", "-shm"):
                        if os.path.exists(f"{path}{suffix}"):
                            os.remove(f"{path}{suffix}")
                else:
                    other = work / f"{fault}-other.sqlite3"
                    Server(args.server, f"sqlite:{other}", work, f"{fault}-other", credentials).stop()
                    os.replace(other, path)
                results = statuses(server.endpoint, ca_bodies(work, f"{fault}-after", 5), 5)
                assert results == [503] * 5, results
            finally:
                server.stop()
            log = (work / f"{fault}.log").read_text()
            assert cause in log, f"the log does not say {cause!r}"
        return check

    checks.run("sqlite file deleted under the server: 503 and the log says so, never a lost 200",
               lost("deleted", "deleted or moved"))
    checks.run("sqlite file replaced under the server: 503 and the log says so, never a lost 200",
               lost("replaced", "replaced"))


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))]


def load_checks(checks, args, work, credentials, before=None):
    """One address's idle and slowloris sockets, and a claim flood beside cheap reads. With
    `before` (an older server binary), the flood is run on it too and both are reported."""
    store = f"sqlite:{work / 'load.sqlite3'}"

    def one_address_cannot_lock_everyone_out():
        server = Server(args.server, store, work, "slowloris", credentials)
        stop = threading.Event()
        held = []

        def attacker(slow):
            # From 127.0.0.2: connect, then say nothing (idle) or a header byte every 0.3 s
            # (slowloris); when the server closes it, connect again, until the check ends.
            while not stop.is_set():
                try:
                    s = socket.create_connection(("127.0.0.1", server.port), source_address=("127.0.0.2", 0))
                except OSError:
                    time.sleep(0.05)
                    continue
                held.append(1)
                s.settimeout(0.3)
                try:
                    while not stop.is_set():
                        if slow:
                            s.sendall(b"X")
                        try:
                            if s.recv(4096) == b"":
                                break
                        except socket.timeout:
                            pass
                except OSError:
                    pass
                finally:
                    s.close()
                time.sleep(0.2)

        threads = [threading.Thread(target=attacker, args=(i % 2 == 1,), daemon=True) for i in range(300)]
        try:
            for t in threads:
                t.start()
            time.sleep(1.0)
            with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
                results = list(pool.map(lambda _: _status(server.endpoint, "GET", "/registrationcode"), range(200)))
        finally:
            stop.set()
            for t in threads:
                t.join(timeout=5)
            server.stop()
        served = results.count(200)
        log = (work / "slowloris.log").read_text()
        warnings = log.count("connection answered 503")
        print(f"     300 idle/slowloris sockets from 127.0.0.2 ({len(held)} connects): "
              f"{served}/200 requests from 127.0.0.1 served; {warnings} refusal log lines")
        assert served >= 190, {s: results.count(s) for s in set(results)}
        assert "the address holds its connections already" in log
        assert warnings <= 30, f"{warnings} refusal lines: not rate-limited"

    def flood(binary, label):
        """200 concurrent CreateProvisioningClaim with DescribeCACertificate timed beside them;
        then SIGTERM while the flood runs, timed against --shutdown-deadline 1."""
        # One address is the whole flood here: its share of connections is not what is tested.
        extra = ["--shutdown-deadline", "1"] + (["--max-connections-per-peer", "256"] if binary == args.server else [])
        server = Server(binary, f"sqlite:{work / (label + '.sqlite3')}", work, label, credentials, extra=extra)
        try:
            iot = client(server.endpoint)
            iot.create_provisioning_template(templateName="flood", templateBody='{"Resources": {}}', enabled=True,
                                             provisioningRoleArn=f"arn:aws:iam::{ACCOUNT}:role/P")
            iot.create_provisioning_claim(templateName="flood")
            ca = self_signed_ca(work, f"{label}-ca", f"/CN={label} flood {os.getpid()}")
            body = json.dumps({"caCertificate": ca, "certificateMode": "SNI_ONLY"}).encode()
            status, _, answer = raw(server.endpoint, "POST", "/cacertificate", body=body)
            assert status == 200, answer
            ca_id = json.loads(answer)["certificateId"]

            def describe_times(stop):
                times = []
                while not stop.is_set():
                    started = time.monotonic()
                    status = _status(server.endpoint, "GET", f"/cacertificate/{ca_id}")
                    times.append((time.monotonic() - started) * 1000)
                    assert status == 200, f"DescribeCACertificate answered {status} during the flood"
                return times

            quiet = describe_times_for(describe_times, 1.0)
            stop = threading.Event()
            with concurrent.futures.ThreadPoolExecutor(max_workers=201) as pool:
                reads = pool.submit(describe_times, stop)
                claims = list(pool.map(
                    lambda _: _status(server.endpoint, "POST", "/provisioning-templates/flood/provisioning-claim"),
                    range(200)))
                stop.set()
                loaded = reads.result()
            counts = {s: claims.count(s) for s in set(claims)}
            print(f"     {label}: 200 concurrent CreateProvisioningClaim: {counts}; DescribeCACertificate "
                  f"p50/p99 {percentile(quiet, 50):.1f}/{percentile(quiet, 99):.1f} ms alone, "
                  f"{percentile(loaded, 50):.1f}/{percentile(loaded, 99):.1f} ms beside them ({len(loaded)} reads)")
            # The SIGTERM: claims in flight, the deadline 1 s.
            stop_flood = threading.Event()

            def keep_claiming():
                while not stop_flood.is_set():
                    _status(server.endpoint, "POST", "/provisioning-templates/flood/provisioning-claim")

            flooders = [threading.Thread(target=keep_claiming, daemon=True) for _ in range(100)]
            for t in flooders:
                t.start()
            time.sleep(0.5)
            code, took = server.stop()
            stop_flood.set()
            print(f"     {label}: SIGTERM during the flood with --shutdown-deadline 1: exit {code} after {took:.2f} s")
            return counts, loaded, took
        finally:
            server.stop()

    def claim_flood():
        if before:
            flood(before, "flood-before")
        counts, loaded, took = flood(args.server, "flood")
        assert set(counts) <= {200, 429}, counts
        assert counts.get(200, 0) >= 1 and counts.get(429, 0) >= 1, counts
        assert took < 1.8, f"SIGTERM with --shutdown-deadline 1 took {took:.2f} s"

    def session_tokens():
        temporary = work / "temporary-credentials.json"
        temporary.write_text(json.dumps({"accessKeys": [
            {"accessKeyId": "test", "secretAccessKey": "test", "accountId": ACCOUNT},
            {"accessKeyId": "ASIATEMP", "secretAccessKey": "s", "accountId": ACCOUNT, "sessionToken": "the-token"},
        ]}))
        server = Server(args.server, store, work, "tokens", temporary)
        try:
            def with_token(key, secret, token):
                import boto3
                return boto3.client("iot", endpoint_url=server.endpoint, region_name="us-east-1",
                                    aws_access_key_id=key, aws_secret_access_key=secret, aws_session_token=token)
            expect("UnrecognizedClientException", 403, with_token("test", "test", "made-up").list_ca_certificates)
            expect("UnrecognizedClientException", 403, with_token("ASIATEMP", "s", "another").list_ca_certificates)
            expect("UnrecognizedClientException", 403, client(server.endpoint, "ASIATEMP", "s").list_ca_certificates)
            assert "certificates" in with_token("ASIATEMP", "s", "the-token").list_ca_certificates()
        finally:
            server.stop()

    checks.run("300 idle/slowloris sockets from one address: another address is served (>= 95 %)",
               one_address_cannot_lock_everyone_out)
    checks.run("200 concurrent CreateProvisioningClaim: 200 or 429 ThrottlingException, describe p99 reported; "
               "SIGTERM meets its deadline", claim_flood)
    checks.run("X-Amz-Security-Token: a key's own session token or 403 UnrecognizedClientException", session_tokens)


def describe_times_for(timed, seconds):
    stop = threading.Event()
    threading.Timer(seconds, stop.set).start()
    return timed(stop)


def _status(endpoint, method, path):
    try:
        return raw(endpoint, method, path)[0]
    except OSError as e:
        return type(e).__name__
