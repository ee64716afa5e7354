"""The server under faults (issue 26), driven from server_test.py's main: a PostgreSQL burst past
the database's connection limit, PostgreSQL stopped mid-flight, and the SQLite file deleted or
replaced while the server runs. Each check reproduces a fault the server once did not survive.
"""
import concurrent.futures
import json
import os
import signal
import subprocess
import time

from pgcluster import Postgres
from server_test import Server, raw, self_signed_ca


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
            servers = [Server(args.server, pg.url, work, f"burst{i}", credentials) for i in range(2)]
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
