#!/usr/bin/env python3
"""Prints the medians criterion measured (target/criterion) and the full/floor ratios.

    cargo bench --bench registration && python3 benches/report.py
"""
import json
import pathlib
import sys

root = pathlib.Path(__file__).resolve().parent.parent / "target" / "criterion"


def median(*parts):
    path = root.joinpath(*parts, "new", "estimates.json")
    if not path.exists():
        return None
    return json.loads(path.read_text())["median"]["point_estimate"]


def fmt(ns):
    return "–" if ns is None else (f"{ns / 1000:.1f} µs" if ns < 1e6 else f"{ns / 1e6:.2f} ms")


print("| CA | full check+admit | floor (2 verifies + SHA-256) | full/floor |")
print("|---|---|---|---|")
worst = 0.0
for ca in ["rsa2048", "p256", "p384"]:
    full, floor = median(f"registration_{ca}", "full"), median(f"registration_{ca}", "floor")
    ratio = full / floor if full and floor else None
    worst = max(worst, ratio or 0)
    print(f"| {ca} | {fmt(full)} | {fmt(floor)} | {'–' if ratio is None else f'{ratio:.2f}'} |")
print()
print("| other | median |")
print("|---|---|")
for label, parts in [
    ("PEM+DER parse of one certificate", ("parse_pem+der",)),
    ("SNI_ONLY registration, P-256 CA", ("registration_sni_only_p256",)),
    ("claim, RSA-2048 key pair, RSA issuer", ("claim", "rsa2048_keypair_rsa_issuer")),
    ("claim, RSA-2048 key pair, P-256 issuer", ("claim", "rsa2048_keypair_p256_issuer")),
    ("claim, P-256 key pair, RSA issuer", ("claim", "p256_keypair_rsa_issuer")),
    ("claim, P-256 key pair, P-256 issuer", ("claim", "p256_keypair_p256_issuer")),
]:
    print(f"| {label} | {fmt(median(*parts))} |")
sys.exit(0)
