#!/usr/bin/env python3
"""Load test: iot-ca-server next to moto_server, on this machine, in one run.

    python3 benches/load.py --server target/release/iot-ca-server \\
        --load target/release/examples/load [--moto VENV/bin/moto_server] \\
        [--connections 16] [--duration 10] [--warmup 2] [--requests 50000] [--moto-requests 6000]

    python3 benches/load.py --smoke --server target/debug/iot-ca-server \\
        --load target/debug/examples/load [--postgres-bin /usr/lib/postgresql/15/bin]

Builds nothing: give it the iot-ca-server binary and the load client
(`cargo build --release -p iot-ca-server --examples`). Starts iot-ca-server on SQLite in a
temporary directory and, with --moto, moto_server, each on a free port of 127.0.0.1; runs
DescribeCACertificate and then RegisterCACertificate against each with the load client (SigV4
key test/test, account 000000000000); prints a markdown table and the ratios ours/moto. Before
them, our server's `GET /ping` (no signature check, no store; the client signs it all the same)
gives the serving stack's ceiling, and DescribeCACertificate's share of it is printed.

--smoke: our server only, about 2 s per operation and 3,000 prepared registrations;
exits non-zero on any error or on zero throughput. Needs neither moto nor the network.

--postgres-bin DIR: our server on a throwaway PostgreSQL cluster (tests/interop/pgcluster.py)
instead of SQLite, to compare the two stores.
Standard library only.
"""
import argparse
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "tests" / "interop"))
from pgcluster import Postgres, free_port  # noqa: E402

from servers import Process  # noqa: E402


def start_ours(binary, work, store):
    port = free_port()
    log = work / "iot-ca-server.log"
    p = Process([binary, "--listen", f"127.0.0.1:{port}", "--store", store], log, port)
    return p, f"http://127.0.0.1:{port}"


def start_moto(binary, work):
    port = free_port()
    log = work / "moto_server.log"
    p = Process([binary, "-H", "127.0.0.1", "-p", str(port)], log, port)
    return p, f"http://127.0.0.1:{port}"


def run_load(load, url, operation, opts, requests):
    argv = [
        load, "--url", url, "--operation", operation,
        "--connections", str(opts.connections), "--duration", str(opts.duration),
        "--warmup", str(opts.warmup), "--requests", str(requests), "--keys", str(opts.keys),
    ]
    print("$ " + " ".join(str(a) for a in argv), file=sys.stderr, flush=True)
    limit = opts.warmup + opts.duration + 600
    done = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=limit)
    sys.stderr.write(done.stderr)
    if done.returncode != 0:
        sys.exit(f"the load client failed ({done.returncode}) against {url} ({operation})")
    return json.loads(done.stdout.strip().splitlines()[-1])


def version_of(argv):
    try:
        return subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              timeout=60).stdout.strip()
    except (OSError, subprocess.SubprocessError) as e:
        return f"unknown ({e})"


def table(results):
    lines = [
        "| server | operation | req/s | p50 ms | p90 ms | p99 ms | max ms | ok | errors | connections |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for server, r in results:
        errors = r["errors"] + r["warmup_errors"]
        note = " (pool used up)" if r["exhausted"] else ""
        lines.append(
            f"| {server} | {r['operation']} | {r['req_per_s']:.0f}{note} | {r['p50_ms']:.2f} | "
            f"{r['p90_ms']:.2f} | {r['p99_ms']:.2f} | {r['max_ms']:.2f} | {r['ok']} | {errors} | "
            f"{r['connections']} |"
        )
    return "\n".join(lines)


def ratios(results):
    by = {(s, r["operation"]): r for s, r in results}
    out = []
    ping, describe = by.get(("iot-ca-server", "Ping")), by.get(("iot-ca-server", "DescribeCACertificate"))
    if ping and describe and ping["req_per_s"] > 0:
        out.append(f"- the ceiling: DescribeCACertificate is {100 * describe['req_per_s'] / ping['req_per_s']:.0f} % "
                   f"of GET /ping's requests/s ({describe['req_per_s']:.0f} of {ping['req_per_s']:.0f}; goal: at least 50 %)")
    for op in ("DescribeCACertificate", "RegisterCACertificate"):
        ours, moto = by.get(("iot-ca-server", op)), by.get(("moto_server", op))
        if ours and moto and moto["req_per_s"] > 0:
            speed = ours["req_per_s"] / moto["req_per_s"]
            p99 = moto["p99_ms"] / ours["p99_ms"] if ours["p99_ms"] > 0 else float("inf")
            out.append(f"- {op}: ours/moto {speed:.1f}x requests/s; moto's p99 is {p99:.1f}x ours")
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--server", required=True, help="the iot-ca-server binary")
    ap.add_argument("--load", required=True, help="the load client (examples/load)")
    ap.add_argument("--moto", help="a moto_server executable (from a venv with moto[server])")
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--duration", type=float, default=10.0, help="measured seconds per operation")
    ap.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds before it")
    ap.add_argument("--requests", type=int, default=50000,
                    help="registrations prepared for our server's register run (its warm-up may use a fifth)")
    ap.add_argument("--moto-requests", type=int, default=6000, help="the same for moto_server's")
    ap.add_argument("--keys", type=int, default=2, help="RSA-2048 keys the prepared CAs share")
    ap.add_argument("--json", help="also write the client's JSON lines here")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory (logs, SQLite)")
    ap.add_argument("--smoke", action="store_true", help="our server only, ~2 s per operation (CI)")
    ap.add_argument("--postgres-bin", help="run our server on a throwaway PostgreSQL cluster (its binaries' folder)")
    opts = ap.parse_args()
    if opts.smoke:
        opts.moto, opts.connections, opts.duration, opts.warmup = None, 4, 2.0, 0.5
        opts.requests, opts.keys = 3000, 1

    started = time.monotonic()
    work = pathlib.Path(tempfile.mkdtemp(prefix="iot-ca-load-"))
    results, processes, pg = [], [], None
    try:
        targets = []
        if opts.postgres_bin:
            pg = Postgres(opts.postgres_bin)
            store = pg.url
        else:
            store = f"sqlite:{work / 'iot-ca.sqlite3'}"
        ours, url = start_ours(opts.server, work, store)
        processes.append(ours)
        targets.append(("iot-ca-server", url, opts.requests))
        if opts.moto:
            moto, url = start_moto(opts.moto, work)
            processes.append(moto)
            targets.append(("moto_server", url, opts.moto_requests))
        for operation in ("ping", "describe", "register"):
            for name, url, requests in targets:
                if operation == "ping" and name != "iot-ca-server":
                    continue
                results.append((name, run_load(opts.load, url, operation, opts, requests)))
    finally:
        for p in processes:
            p.stop()
        if pg:
            pg.stop()
        if opts.keep:
            print(f"logs and store kept in {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)

    print(table(results))
    print()
    print(ratios(results))
    facts = []
    if opts.moto:
        python = pathlib.Path(opts.moto).parent / "python"
        facts.append(f"moto {version_of([str(python), '-c', 'import moto; print(moto.__version__)'])}")
    facts += [
        version_of(["rustc", "--version"]),
        "store: PostgreSQL" if opts.postgres_bin else "store: SQLite",
        f"{os.cpu_count()} cores",
        f"{opts.connections} connections, {opts.warmup:g} s warm-up, {opts.duration:g} s measured per row",
        f"registrations prepared: {opts.requests} for ours" + (f", {opts.moto_requests} for moto" if opts.moto else ""),
        f"whole run {time.monotonic() - started:.0f} s",
    ]
    print("\n" + "; ".join(facts))
    if opts.json:
        with open(opts.json, "w") as f:
            for name, r in results:
                f.write(json.dumps({"server": name, **r}) + "\n")

    failed = [
        f"{name} {r['operation']}: {r['errors'] + r['warmup_errors']} errors, {r['ok']} ok; first: {r['error_samples'][:2]}"
        for name, r in results
        if r["errors"] or r["warmup_errors"] or r["ok"] == 0
    ]
    if failed:
        print("\n".join(["FAILED:"] + failed), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
