#!/usr/bin/env bash
# Makes the verification-certificate fixtures exactly the way the AWS IoT developer guide does,
# with openssl's `req` and `x509 -req -sha256` (which yields an X.509 v1 certificate).
#
#   bash tests/data/make_openssl_fixtures.sh
#
# Writes into this folder: openssl-ca.pem and openssl-ca.key (the CA and its throwaway PKCS#8
# RSA key), openssl-verification.pem (its proof of possession, CN = the code below), and
# claim-issuer.pem / claim-issuer.key (a P-256 issuing CA with a SEC1 key, for claims). openssl draws its own keys and takes the current time, so a
# rerun makes different (equally valid) files; the committed ones are what the tests read, so
# every test run is identical. The tests use a `now` inside the validity printed below.
set -euo pipefail
cd "$(dirname "$0")"
CODE=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The CA: self-signed, basicConstraints cA TRUE (openssl's v3_ca section), 100 years.
openssl genrsa -out openssl-ca.key 2048
openssl req -x509 -new -nodes -key openssl-ca.key -sha256 -days 36500 \
  -subj "/O=iot-ca fixtures/CN=openssl root CA" -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -out openssl-ca.pem

# The guide's three steps: a key, a CSR with CN = registration code, a certificate signed by the CA.
openssl genrsa -out "$work/verificationCert.key" 2048
openssl req -new -key "$work/verificationCert.key" -subj "/CN=$CODE" -out "$work/verificationCert.csr"
openssl x509 -req -in "$work/verificationCert.csr" -CA openssl-ca.pem -CAkey openssl-ca.key \
  -CAcreateserial -CAserial "$work/rootCA.srl" -out openssl-verification.pem -days 36500 -sha256

# A P-256 issuing CA for provisioning claims (SEC1 "EC PRIVATE KEY").
openssl ecparam -name prime256v1 -genkey -noout -out claim-issuer.key
openssl req -x509 -new -key claim-issuer.key -sha256 -days 36500 \
  -subj "/O=iot-ca fixtures/CN=claim issuer" -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -out claim-issuer.pem

openssl x509 -in openssl-verification.pem -noout -text | grep -E "Version|Not Before|Not After|Subject:"
