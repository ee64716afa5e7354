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


def paired(name):
    """first/second of a pair measured at the same moments (benches/registration.rs, `paired`)."""
    path = root / "paired" / f"{name}.json"
    if not path.exists():
        return None
    data = json.loads(path.read_text())
    return data["first_ns"] / data["second_ns"] if data["second_ns"] else None


def fmt(ns):
    return "–" if ns is None else (f"{ns / 1000:.1f} µs" if ns < 1e6 else f"{ns / 1e6:.2f} ms")


print("| CA | backend | full check+admit | floor (2 verifies + SHA-256) | full/floor (paired) "
      "| full/floor, key unused (paired) |")
print("|---|---|---|---|---|---|")
for ca in ["rsa2048", "rsa4096", "p256", "p384"]:
    for backend, suffix in [("RustCrypto", ""), ("aws-lc-rs", "_aws-lc-rs")]:
        full = median(f"registration_{ca}", f"full{suffix}")
        floor = median(f"registration_{ca}", f"floor{suffix}")
        if full is None and floor is None:
            continue
        ratio = paired(f"registration_{ca}_full{suffix}")
        unused = paired(f"registration_{ca}_full{suffix}_unused_key")
        cells = ["–" if r is None else f"{r:.3f}" for r in (ratio, unused)]
        print(f"| {ca} | {backend} | {fmt(full)} | {fmt(floor)} | {cells[0]} | {cells[1]} |")
print()
print("| other | median |")
print("|---|---|")
for label, parts in [
    ("PEM+DER parse of one certificate", ("parse_pem+der",)),
    ("SNI_ONLY registration, P-256 CA", ("registration_sni_only_p256",)),
    ("claim, P-256 key pair, P-256 issuer (default backend)", ("claim", "p256_keypair_p256_issuer")),
    ("claim, P-256 key pair, P-256 issuer (RustCrypto)", ("claim", "p256_keypair_p256_issuer_rustcrypto")),
    ("claim, P-256 key pair, RSA-2048 issuer", ("claim", "p256_keypair_rsa_issuer")),
]:
    print(f"| {label} | {fmt(median(*parts))} |")
print()
print("| RSA-2048, per key pair (same 8 seeds) | median | / bare keygen (paired) |")
print("|---|---|---|")
for label, name in [
    ("bare key generation (rsa crate)", "bare_keygen"),
    ("claim, P-256 issuer", "claim_p256_issuer"),
    ("claim, RSA-2048 issuer", "claim_rsa_issuer"),
]:
    value = median("claim_rsa2048_x8", name)
    pair = 1.0 if name == "bare_keygen" else paired(f"claim_rsa2048_x8_{name}")
    ratio = f"{pair:.3f}" if pair else "–"
    print(f"| {label} | {fmt(value / 8 if value else None)} | {ratio} |")
sys.exit(0)
