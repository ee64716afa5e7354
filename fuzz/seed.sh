#!/usr/bin/env bash
# Seeds each fuzz target's corpus from the committed test fixtures (corpus/ is not committed).
set -euo pipefail
cd "$(dirname "$0")"
data=../tests/data
mkdir -p corpus/pem_ca corpus/check corpus/request_strings corpus/json_request corpus/differential corpus/lifecycle_wire corpus/device_certificates corpus/csr corpus/template corpus/registry_wire
for f in "$data"/*.pem; do
  cp "$f" "corpus/pem_ca/$(basename "$f")"
  # DER too, so the DER path starts from real certificates.
  sed -n '/BEGIN CERTIFICATE/,/END CERTIFICATE/p' "$f" | grep -v -- ----- | base64 -d > "corpus/pem_ca/$(basename "$f" .pem).der" 2>/dev/null || true
  cp "corpus/pem_ca/$(basename "$f" .pem).der" corpus/differential/ 2>/dev/null || true
done
# check: one split byte, then CA and verification certificate.
{ printf '\x80'; cat "$data/openssl-ca.pem" "$data/openssl-verification.pem"; } > corpus/check/guide
# device_certificates: one split byte, then a device certificate (the guide's verification
# certificate, signed by the guide's CA) and that CA.
{ printf '\x80'; cat "$data/openssl-verification.pem" "$data/openssl-ca.pem"; } > corpus/device_certificates/guide
printf 'env\001prod\001aws:x\001v\001{"Resources": {}}\001arn:aws:iam::123456789012:role/R\001jitp' > corpus/request_strings/mixed
python3 - "$data" > corpus/json_request/guide.json <<'PY'
import json, sys
d = sys.argv[1]
print(json.dumps({
    "caCertificate": open(f"{d}/openssl-ca.pem").read(),
    "verificationCertificate": open(f"{d}/openssl-verification.pem").read(),
    "setAsActive": True,
    "registrationConfig": {"templateName": "jitp"},
    "tags": [{"Key": "env", "Value": "prod"}],
    "certificateMode": "DEFAULT",
}))
PY
# lifecycle_wire: path id, query string and JSON body, NUL-separated.
id=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
arn="arn:aws:iot:us-east-1:123456789012:cacert/$id"
printf '%s\0newStatus=ACTIVE&newAutoRegistrationStatus=ENABLE&pageSize=2&isAscendingOrder=true&templateName=jitp&marker=AQ%%2Bb%%3D&resourceArn=%s\0{"registrationConfig": {"templateName": "jitp"}, "resourceArn": "%s", "tags": [{"Key": "env", "Value": "prod"}], "tagKeys": ["env"]}' \
  "$id" "$arn" "$arn" > corpus/lifecycle_wire/mixed
# csr: the OpenSSL requests, as PEM and as DER.
for f in "$data"/*.csr; do
  cp "$f" "corpus/csr/$(basename "$f")"
  grep -v -- ----- "$f" | base64 -d > "corpus/csr/$(basename "$f" .csr).der"
done
echo "seeded: $(find corpus -type f | wc -l) files"
# template: the developer guide's JITP and fleet templates (tests/templates.rs holds them too).
cat > corpus/template/jitp.json <<'JSON'
{"Parameters":{"AWS::IoT::Certificate::CommonName":{"Type":"String"},"AWS::IoT::Certificate::Id":{"Type":"String","Default":"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}},"Resources":{"thing":{"Type":"AWS::IoT::Thing","Properties":{"ThingName":{"Ref":"ThingName"},"AttributePayload":{"version":"v1"},"ThingGroups":["g",{"Fn::Select":[0,{"Fn::Split":[":",{"Ref":"SerialNumber"}]}]}]},"OverrideSettings":{"AttributePayload":"MERGE"}},"certificate":{"Type":"AWS::IoT::Certificate","Properties":{"CertificateId":{"Ref":"AWS::IoT::Certificate::Id"},"Status":"ACTIVE"}},"policy":{"Type":"AWS::IoT::Policy","Properties":{"PolicyDocument":"{\"Version\":\"2012-10-17\",\"Statement\":{}}"}}}}
JSON
cat > corpus/template/fleet.json <<'JSON'
{"Parameters":{"SerialNumber":{"Type":"String"},"ThingName":{"Type":"String"}},"Mappings":{"M":{"a":{"b":"c"}}},"Resources":{"thing":{"Type":"AWS::IoT::Thing","Properties":{"ThingName":{"Fn::Join":["",["p_",{"Ref":"SerialNumber"}]]}}}},"DeviceConfiguration":{"k":{"Fn::FindInMap":["M","a","b"]},"s":{"Fn::Sub":"${ThingName}-x"}}}
JSON
# registry_wire: path, query and body, NUL-separated.
printf 't1\0maxResults=2&attributeName=a&attributeValue=b&expectedVersion=3&setAsDefault=true\0{"thingTypeName": "tt", "attributePayload": {"attributes": {"a": "b"}, "merge": true}, "policyDocument": "{}", "templateName": "t", "templateBody": "{}", "provisioningRoleArn": "arn:aws:iam::123456789012:role/R", "parameters": {"a": "b"}}' > corpus/registry_wire/mixed
