#!/usr/bin/env bash
# Makes the certification-request fixtures the way the AWS IoT developer guide's CSRs are made,
# with `openssl req -new`:
#
#   bash tests/data/make_openssl_csr_fixtures.sh
#
# Writes into this folder: openssl-p256.csr (a P-256 key, subjectAltName and keyUsage, so an
# extensionRequest attribute) and openssl-rsa-newhdr.csr (an RSA-2048 key, a challengePassword
# and an extensionRequest, under the `NEW CERTIFICATE REQUEST` label of `-newhdr`). The keys
# are thrown away; openssl draws them itself, so a rerun makes different (equally valid) files.
# The committed ones are what tests/csr.rs reads: cargo test never runs openssl.
set -euo pipefail
cd "$(dirname "$0")"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

openssl ecparam -name prime256v1 -genkey -noout -out "$work/p256.key"
openssl req -new -key "$work/p256.key" -sha256 -subj "/O=iot-ca fixtures/CN=openssl p-256 device" \
  -addext "subjectAltName=DNS:device.example" -addext "keyUsage=critical,digitalSignature" \
  -out openssl-p256.csr

cat > "$work/req.cnf" <<'CNF'
[req]
prompt = no
distinguished_name = dn
attributes = attrs
req_extensions = exts
[dn]
O = iot-ca fixtures
CN = openssl rsa device
[attrs]
challengePassword = open sesame
[exts]
basicConstraints = critical,CA:FALSE
extendedKeyUsage = clientAuth
CNF
openssl genrsa -out "$work/rsa.key" 2048
openssl req -new -key "$work/rsa.key" -sha256 -config "$work/req.cnf" -newhdr -out openssl-rsa-newhdr.csr

for f in openssl-p256.csr openssl-rsa-newhdr.csr; do openssl req -in "$f" -noout -verify; done
