"""Interop checks of things, policies and the certificates the server issues (SPEC §10), with
boto3 and the AWS CLI: CreateKeysAndCertificate (its certificate verified by openssl against the
device issuer), CreateCertificateFromCsr, things, thing types and groups, policies, both kinds of
attachment, the listings, DescribeEndpoint, DeleteCertificate's DeleteConflictException from
real attachments, isolation between accounts, and 20 parallel attach/detach/delete calls on one
certificate ending in a consistent state. Called from server_test.py.
"""
import concurrent.futures
import json
import os
import subprocess

import botocore.exceptions

import server_test as h

POLICY = json.dumps({"Version": "2012-10-17",
                     "Statement": [{"Effect": "Allow", "Action": "iot:Connect", "Resource": "*"}]})


def device_issuer_args():
    """The device issuer the interop servers sign with (so openssl can verify what they issue)."""
    return ["--device-issuer", f"{h.DATA / 'claim-issuer.pem'},{h.DATA / 'claim-issuer.key'}"]


def openssl_verifies(work, pem, name):
    path = work / f"{name}.pem"
    path.write_text(pem)
    out = subprocess.run(["openssl", "verify", "-CAfile", str(h.DATA / "claim-issuer.pem"), str(path)],
                         capture_output=True, text=True)
    assert out.returncode == 0 and "OK" in out.stdout, out.stdout + out.stderr


def boto3_checks(checks, server, work):
    iot = h.client(server.endpoint)
    other = h.client(server.endpoint, key="other", secret="other-secret")

    def keys_and_csr():
        made = iot.create_keys_and_certificate(setAsActive=True)
        assert made["certificateArn"] == f"arn:aws:iot:us-east-1:{h.ACCOUNT}:cert/{made['certificateId']}", made
        assert made["certificateId"] == h.der_sha256(made["certificatePem"])
        assert made["keyPair"]["PrivateKey"].startswith("-----BEGIN RSA PRIVATE KEY-----")
        assert made["keyPair"]["PublicKey"].startswith("-----BEGIN PUBLIC KEY-----")
        openssl_verifies(work, made["certificatePem"], "issued-keys")
        d = iot.describe_certificate(certificateId=made["certificateId"])["certificateDescription"]
        assert d["status"] == "ACTIVE" and d["certificateMode"] == "DEFAULT" and "caCertificateId" not in d, d
        inactive = iot.create_keys_and_certificate(setAsActive=False)
        d = iot.describe_certificate(certificateId=inactive["certificateId"])["certificateDescription"]
        assert d["status"] == "INACTIVE", d
        h.openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                  "-keyout", "csr-device.key", "-out", "csr-device.csr", "-subj", "/CN=csr-device/O=Example", cwd=work)
        csr = (work / "csr-device.csr").read_text()
        first = iot.create_certificate_from_csr(certificateSigningRequest=csr, setAsActive=True)
        again = iot.create_certificate_from_csr(certificateSigningRequest=csr)
        assert first["certificateId"] != again["certificateId"], "a CSR reused gives a distinct certificate"
        assert "keyPair" not in first, first
        openssl_verifies(work, first["certificatePem"], "issued-csr")
        subject = subprocess.run(["openssl", "x509", "-noout", "-subject", "-nameopt", "RFC2253"],
                                 input=first["certificatePem"], capture_output=True, text=True).stdout
        assert "CN=csr-device" in subject and "O=Example" in subject, subject
        h.expect("InvalidRequestException", 400, iot.create_certificate_from_csr, certificateSigningRequest="nope")
        h.openssl("req", "-new", "-newkey", "rsa:1024", "-nodes", "-keyout", "weak.key", "-out", "weak.csr",
                  "-subj", "/CN=weak", cwd=work)
        h.expect("InvalidRequestException", 400, iot.create_certificate_from_csr,
                 certificateSigningRequest=(work / "weak.csr").read_text())

    def things():
        made = iot.create_thing(thingName="t1", attributePayload={"attributes": {"color": "red", "size": "big"}})
        assert made["thingArn"] == f"arn:aws:iot:us-east-1:{h.ACCOUNT}:thing/t1", made
        same = iot.create_thing(thingName="t1", attributePayload={"attributes": {"color": "red", "size": "big"}})
        assert same["thingId"] == made["thingId"], (same, made)
        e = h.expect("ResourceAlreadyExistsException", 409, iot.create_thing, thingName="t1")
        assert e["Error"]["Message"], e
        d = iot.describe_thing(thingName="t1")
        assert d["attributes"] == {"color": "red", "size": "big"} and d["version"] == 1, d
        iot.update_thing(thingName="t1", attributePayload={"attributes": {"size": "", "shape": "round"}, "merge": True},
                         expectedVersion=1)
        d = iot.describe_thing(thingName="t1")
        assert d["attributes"] == {"color": "red", "shape": "round"} and d["version"] == 2, d
        h.expect("VersionConflictException", 409, iot.update_thing, thingName="t1", expectedVersion=1)
        h.expect("ResourceNotFoundException", 404, iot.describe_thing, thingName="t-none")
        h.expect("ResourceNotFoundException", 404, other.describe_thing, thingName="t1")
        h.expect("InvalidRequestException", 400, iot.create_thing, thingName="bad name")
        iot.create_thing_type(thingTypeName="sensor", thingTypeProperties={"searchableAttributes": ["color"]})
        assert iot.describe_thing_type(thingTypeName="sensor")["thingTypeArn"].endswith(":thingtype/sensor")
        h.expect("ResourceAlreadyExistsException", 409, iot.create_thing_type, thingTypeName="sensor")
        h.expect("ResourceNotFoundException", 404, iot.create_thing, thingName="t2", thingTypeName="nope")
        iot.create_thing(thingName="t2", thingTypeName="sensor")
        iot.create_thing_group(thingGroupName="g1")
        iot.create_thing_group(thingGroupName="g2", parentGroupName="g1")
        g = iot.describe_thing_group(thingGroupName="g2")
        assert g["thingGroupMetadata"]["parentGroupName"] == "g1", g
        iot.add_thing_to_thing_group(thingGroupName="g2", thingName="t2")
        h.expect("ResourceNotFoundException", 404, iot.add_thing_to_thing_group, thingGroupName="g9", thingName="t2")
        names = [t["thingName"] for page in iot.get_paginator("list_things").paginate(PaginationConfig={"PageSize": 1})
                 for t in page["things"]]
        assert names == ["t1", "t2"], names
        typed = iot.list_things(thingTypeName="sensor")["things"]
        assert [t["thingName"] for t in typed] == ["t2"], typed
        prefixed = iot.list_things(attributeName="color", attributeValue="re", usePrefixAttributeValue=True)
        assert [t["thingName"] for t in prefixed["things"]] == ["t1"], prefixed

    def policies_and_attachments():
        cert = iot.create_keys_and_certificate(setAsActive=True)
        arn = cert["certificateArn"]
        p = iot.create_policy(policyName="p1", policyDocument=POLICY)
        assert p["policyArn"].endswith(":policy/p1") and p["policyVersionId"] == "1", p
        h.expect("ResourceAlreadyExistsException", 409, iot.create_policy, policyName="p1", policyDocument=POLICY)
        h.expect("MalformedPolicyException", 400, iot.create_policy, policyName="p2", policyDocument="{}")
        assert iot.get_policy(policyName="p1")["policyDocument"] == POLICY
        iot.attach_policy(policyName="p1", target=arn)
        iot.attach_policy(policyName="p1", target=arn)
        assert [x["policyName"] for x in iot.list_attached_policies(target=arn)["policies"]] == ["p1"]
        assert iot.list_targets_for_policy(policyName="p1")["targets"] == [arn]
        h.expect("ResourceNotFoundException", 404, iot.attach_policy, policyName="nope", target=arn)
        iot.create_thing(thingName="t3")
        iot.attach_thing_principal(thingName="t3", principal=arn)
        assert iot.list_thing_principals(thingName="t3")["principals"] == [arn]
        assert iot.list_principal_things(principal=arn)["things"] == ["t3"]
        h.expect("ResourceNotFoundException", 404, iot.attach_thing_principal, thingName="t-none", principal=arn)
        h.expect("ResourceNotFoundException", 404, other.attach_thing_principal, thingName="t3", principal=arn)
        h.expect("CertificateStateException", 406, iot.delete_certificate, certificateId=cert["certificateId"])
        iot.update_certificate(certificateId=cert["certificateId"], newStatus="INACTIVE")
        h.expect("DeleteConflictException", 409, iot.delete_certificate, certificateId=cert["certificateId"])
        h.expect("DeleteConflictException", 409, iot.delete_policy, policyName="p1")
        h.expect("InvalidRequestException", 400, iot.delete_thing, thingName="t3")
        iot.detach_thing_principal(thingName="t3", principal=arn)
        h.expect("DeleteConflictException", 409, iot.delete_certificate, certificateId=cert["certificateId"])
        iot.detach_policy(policyName="p1", target=arn)
        iot.delete_certificate(certificateId=cert["certificateId"])
        iot.delete_policy(policyName="p1")
        iot.delete_thing(thingName="t3")
        iot.delete_thing(thingName="t3")
        h.expect("ResourceNotFoundException", 404, iot.get_policy, policyName="p1")
        forced = iot.create_keys_and_certificate(setAsActive=False)
        iot.create_policy(policyName="p-forced", policyDocument=POLICY)
        iot.attach_policy(policyName="p-forced", target=forced["certificateArn"])
        iot.delete_certificate(certificateId=forced["certificateId"], forceDelete=True)
        assert iot.list_targets_for_policy(policyName="p-forced")["targets"] == []
        iot.delete_policy(policyName="p-forced")

    def endpoint():
        assert iot.describe_endpoint(endpointType="iot:Data-ATS")["endpointAddress"] == "localhost"
        assert iot.describe_endpoint()["endpointAddress"] == "localhost"
        h.expect("InvalidRequestException", 400, iot.describe_endpoint, endpointType="iot:Jobs")

    checks.run("boto3: CreateKeysAndCertificate and CreateCertificateFromCsr (openssl verifies them)", keys_and_csr)
    checks.run("boto3: things, thing types and groups, ListThings paging and filters", things)
    checks.run("boto3: policies and attachments; DeleteCertificate 409 while attached", policies_and_attachments)
    checks.run("boto3: DescribeEndpoint", endpoint)


def cli_checks(checks, server, work, aws_bin):
    env = dict(os.environ, AWS_ENDPOINT_URL_IOT=server.endpoint, AWS_ACCESS_KEY_ID="test",
               AWS_SECRET_ACCESS_KEY="test", AWS_DEFAULT_REGION="eu-central-1", AWS_MAX_ATTEMPTS="1",
               AWS_CONFIG_FILE=str(work / "no-config"), AWS_SHARED_CREDENTIALS_FILE=str(work / "no-credentials"))

    def aws(*args, ok=True):
        out = subprocess.run([aws_bin, "iot", *args, "--output", "json"], env=env, capture_output=True, text=True)
        if ok:
            assert out.returncode == 0, (args, out.stderr)
            return json.loads(out.stdout) if out.stdout.strip() else {}
        assert out.returncode != 0, (args, out.stdout)
        return out.stderr

    def flow():
        made = aws("create-keys-and-certificate", "--set-as-active", "--certificate-pem-outfile",
                   str(work / "cli-issued.pem"), "--private-key-outfile", str(work / "cli-issued.key"))
        arn = made["certificateArn"]
        assert arn.startswith(f"arn:aws:iot:eu-central-1:{h.ACCOUNT}:cert/"), made
        openssl_verifies(work, (work / "cli-issued.pem").read_text(), "cli-issued-check")
        h.openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                  "-keyout", "cli-csr.key", "-out", "cli-csr.csr", "-subj", "/CN=cli-csr", cwd=work)
        from_csr = aws("create-certificate-from-csr", "--certificate-signing-request",
                       f"file://{work / 'cli-csr.csr'}", "--set-as-active")
        openssl_verifies(work, from_csr["certificatePem"], "cli-csr-check")
        aws("create-thing", "--thing-name", "cli-thing", "--attribute-payload", "attributes={color=red}")
        (work / "cli-policy.json").write_text(POLICY)
        aws("create-policy", "--policy-name", "cli-policy", "--policy-document", f"file://{work / 'cli-policy.json'}")
        aws("attach-policy", "--policy-name", "cli-policy", "--target", arn)
        aws("attach-thing-principal", "--thing-name", "cli-thing", "--principal", arn)
        assert aws("list-thing-principals", "--thing-name", "cli-thing")["principals"] == [arn]
        assert [p["policyName"] for p in aws("list-attached-policies", "--target", arn)["policies"]] == ["cli-policy"]
        assert aws("describe-endpoint", "--endpoint-type", "iot:Data-ATS")["endpointAddress"] == "localhost"
        aws("update-certificate", "--certificate-id", made["certificateId"], "--new-status", "INACTIVE")
        assert "DeleteConflictException" in aws("delete-certificate", "--certificate-id", made["certificateId"], ok=False)
        assert "MalformedPolicyException" in aws("create-policy", "--policy-name", "bad", "--policy-document", "{}",
                                                 ok=False)
        aws("detach-thing-principal", "--thing-name", "cli-thing", "--principal", arn)
        aws("detach-policy", "--policy-name", "cli-policy", "--target", arn)
        aws("delete-certificate", "--certificate-id", made["certificateId"])
        aws("delete-thing", "--thing-name", "cli-thing")
        aws("delete-policy", "--policy-name", "cli-policy")

    checks.run("aws cli: create-keys-and-certificate, create-certificate-from-csr, things, policies, attachments",
               flow)


def concurrency_checks(checks, endpoints, label):
    """20 parallel AttachThingPrincipal / DetachThingPrincipal / DeleteCertificate on one
    certificate: whatever order they ran in, no attachment outlives the certificate."""
    iot = h.client(endpoints[0])

    def race():
        for round_ in range(3):
            thing = f"race-{label}-{round_}"
            iot.create_thing(thingName=thing)
            cert = iot.create_keys_and_certificate(setAsActive=False)
            arn, cert_id = cert["certificateArn"], cert["certificateId"]

            def call(i):
                c = h.client(endpoints[i % len(endpoints)])
                try:
                    if i % 4 == 3:
                        c.delete_certificate(certificateId=cert_id)
                        return "deleted"
                    if i % 4 == 2:
                        c.detach_thing_principal(thingName=thing, principal=arn)
                        return "detached"
                    c.attach_thing_principal(thingName=thing, principal=arn)
                    return "attached"
                except botocore.exceptions.ClientError as e:
                    return e.response["Error"]["Code"]

            with concurrent.futures.ThreadPoolExecutor(max_workers=20) as pool:
                results = list(pool.map(call, range(20)))
            allowed = {"attached", "detached", "deleted", "DeleteConflictException", "ResourceNotFoundException"}
            assert set(results) <= allowed, results
            principals = iot.list_thing_principals(thingName=thing)["principals"]
            try:
                iot.describe_certificate(certificateId=cert_id)
                exists = True
            except botocore.exceptions.ClientError as e:
                assert e.response["Error"]["Code"] == "ResourceNotFoundException", e.response
                exists = False
            if exists:
                assert principals in ([], [arn]), principals
            else:
                assert principals == [], (results, principals)
                assert "deleted" in results, results

    servers = "one server" if len(endpoints) == 1 else f"{len(endpoints)} servers"
    checks.run(f"{label} ({servers}): 20 parallel attach/detach/delete on one certificate stay consistent", race)
