#!/usr/bin/env python3
"""RSA-2048 key generation by `openssl genrsa`, for benches/README.md's claim figures.

    python3 benches/genrsa.py [--runs 60]

Each run is a separate `openssl genrsa 2048` process, so the process start is measured too:
`openssl rand` runs as many times beside it and its median is subtracted. RSA key generation's
time depends on where the primes fall, so the mean over many runs is the figure to compare
with the bench's per-key means over fixed seeds (which are other primes: equal only on average).
"""
import argparse
import statistics
import subprocess
import time


def timed(command, runs):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return times


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=60)
    args = parser.parse_args()
    version = subprocess.run(["openssl", "version"], check=True, capture_output=True, text=True).stdout.strip()
    start = timed(["openssl", "rand", "-out", "/dev/null", "1"], args.runs)
    keygen = timed(["openssl", "genrsa", "-out", "/dev/null", "2048"], args.runs)
    base = statistics.median(start)
    ms = lambda seconds: f"{seconds * 1000:.1f} ms"
    print(f"{version}, {args.runs} runs each")
    print(f"process start (openssl rand), median: {ms(base)}")
    print(f"openssl genrsa 2048, minus the start: mean {ms(statistics.mean(keygen) - base)}, "
          f"median {ms(statistics.median(keygen) - base)}")


if __name__ == "__main__":
    main()
