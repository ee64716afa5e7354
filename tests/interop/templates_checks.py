"""Interop checks of provisioning templates and RegisterThing (SPEC §11) with boto3 and the AWS
CLI: a template's whole life with its versions, RegisterThing with the guide's templates
creating the thing, its group, the policy and both attachments (or nothing when any part is
refused), and two RegisterThing calls with FAIL racing for one thing: exactly one wins. Called
from server_test.py.
"""
import concurrent.futures
import json
import os
import subprocess

import botocore.exceptions

import server_test as h

ROLE = f"arn:aws:iam::{h.ACCOUNT}:role/Provisioning"

# The developer guide's "provisioning a single thing" shape: a thing from parameters, a policy
# by document, the certificate by id.
SINGLE = {
    "Parameters": {"ThingName": {"Type": "String"}, "SerialNumber": {"Type": "String"},
                   "CertificateId": {"Type": "String"}, "Location": {"Type": "String", "Default": "WA"}},
    "Resources": {
        "thing": {"Type": "AWS::IoT::Thing",
                  "Properties": {"ThingName": {"Ref": "ThingName"},
                                 "AttributePayload": {"version": "v1", "serialNumber": {"Ref": "SerialNumber"}},
                                 "ThingGroups": [{"Ref": "Location"}]}},
        "certificate": {"Type": "AWS::IoT::Certificate",
                        "Properties": {"CertificateId": {"Ref": "CertificateId"}, "Status": "ACTIVE"},
                        "OverrideSettings": {"Status": "REPLACE"}},
        "policy": {"Type": "AWS::IoT::Policy",
                   "Properties": {"PolicyDocument": json.dumps({
                       "Version": "2012-10-17",
                       "Statement": [{"Effect": "Allow", "Action": ["iot:Publish"], "Resource": ["*"]}]})}},
    },
}


def boto3_checks(checks, server, work):
    iot = h.client(server.endpoint)

    def life():
        body = json.dumps(SINGLE)
        made = iot.create_provisioning_template(templateName="single", templateBody=body, provisioningRoleArn=ROLE,
                                                description="one thing", enabled=True,
                                                tags=[{"Key": "env", "Value": "dev"}])
        assert made["defaultVersionId"] == 1 and made["templateArn"].endswith(":provisioningtemplate/single"), made
        d = iot.describe_provisioning_template(templateName="single")
        assert d["templateBody"] == body and d["enabled"] and d["type"] == "FLEET_PROVISIONING", d
        assert d["description"] == "one thing", d
        h.expect("InvalidRequestException", 400, iot.create_provisioning_template, templateName="bad",
                 templateBody='{"Resources": {"x": {"Type": "AWS::S3::Bucket"}}}', provisioningRoleArn=ROLE)
        v2 = iot.create_provisioning_template_version(templateName="single", templateBody=body, setAsDefault=True)
        assert v2["versionId"] == 2 and v2["isDefaultVersion"], v2
        for _ in range(3):
            iot.create_provisioning_template_version(templateName="single", templateBody=body)
        h.expect("VersionsLimitExceededException", 409, iot.create_provisioning_template_version,
                 templateName="single", templateBody=body)
        h.expect("DeleteConflictException", 409, iot.delete_provisioning_template_version, templateName="single",
                 versionId=2)
        iot.delete_provisioning_template_version(templateName="single", versionId=5)
        versions = [v["versionId"] for v in iot.list_provisioning_template_versions(templateName="single")["versions"]]
        assert versions == [1, 2, 3, 4], versions
        v = iot.describe_provisioning_template_version(templateName="single", versionId=1)
        assert v["templateBody"] == body and not v["isDefaultVersion"], v
        iot.update_provisioning_template(templateName="single", defaultVersionId=1, enabled=False,
                                         preProvisioningHook={"targetArn": "arn:aws:lambda:us-east-1:1:function:f"})
        d = iot.describe_provisioning_template(templateName="single")
        assert d["defaultVersionId"] == 1 and not d["enabled"] and d["preProvisioningHook"]["payloadVersion"] == "2020-04-01", d
        iot.update_provisioning_template(templateName="single", removePreProvisioningHook=True)
        assert "preProvisioningHook" not in iot.describe_provisioning_template(templateName="single")
        h.expect("ResourceNotFoundException", 404, iot.update_provisioning_template, templateName="single",
                 defaultVersionId=9)
        names = [t["templateName"] for t in iot.list_provisioning_templates()["templates"]]
        assert "single" in names, names
        iot.delete_provisioning_template(templateName="single")
        h.expect("ResourceNotFoundException", 404, iot.describe_provisioning_template, templateName="single")

    def register_thing():
        cert = iot.create_keys_and_certificate(setAsActive=False)
        body = json.dumps(SINGLE)
        h.expect("ResourceNotFoundException", 404, iot.register_thing, templateBody=body,
                 parameters={"ThingName": "rt-1", "SerialNumber": "1", "CertificateId": cert["certificateId"]})
        h.expect("ResourceNotFoundException", 404, iot.describe_thing, thingName="rt-1")
        iot.create_thing_group(thingGroupName="WA")
        r = iot.register_thing(templateBody=body,
                               parameters={"ThingName": "rt-1", "SerialNumber": "1",
                                           "CertificateId": cert["certificateId"]})
        arns = r["resourceArns"]
        assert set(arns) == {"thing", "certificate", "policy"}, r
        assert arns["thing"].endswith(":thing/rt-1") and arns["certificate"] == cert["certificateArn"], r
        assert r["certificatePem"] == cert["certificatePem"], r
        assert iot.describe_thing(thingName="rt-1")["attributes"] == {"version": "v1", "serialNumber": "1"}
        assert iot.list_thing_principals(thingName="rt-1")["principals"] == [cert["certificateArn"]]
        policy = arns["policy"].rsplit("/", 1)[1]
        assert len(policy) == 40, policy
        assert [p["policyName"] for p in iot.list_attached_policies(target=cert["certificateArn"])["policies"]] == [policy]
        d = iot.describe_certificate(certificateId=cert["certificateId"])["certificateDescription"]
        assert d["status"] == "ACTIVE", d
        h.expect("InvalidRequestException", 400, iot.register_thing, templateBody=body,
                 parameters={"SerialNumber": "1", "CertificateId": cert["certificateId"]})
        # A CSR: the certificate is issued and provisioned in the same transaction.
        csr_body = json.dumps({"Parameters": {"CSR": {"Type": "String"}},
                               "Resources": {"certificate": {"Type": "AWS::IoT::Certificate",
                                                             "Properties": {"CertificateSigningRequest": {"Ref": "CSR"},
                                                                            "Status": "ACTIVE"}}}})
        h.openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                  "-keyout", "rt.key", "-out", "rt.csr", "-subj", "/CN=rt-csr", cwd=work)
        r = iot.register_thing(templateBody=csr_body, parameters={"CSR": (work / "rt.csr").read_text()})
        issued_id = h.der_sha256(r["certificatePem"])
        assert iot.describe_certificate(certificateId=issued_id)["certificateDescription"]["status"] == "ACTIVE"

    def fail_race():
        body = json.dumps({"Resources": {"thing": {"Type": "AWS::IoT::Thing",
                                                   "Properties": {"ThingName": "raced",
                                                                  "AttributePayload": {"n": {"Ref": "N"}}},
                                                   "OverrideSettings": {"AttributePayload": "FAIL"}}},
                           "Parameters": {"N": {"Type": "String"}}})

        def go(i):
            try:
                h.client(server.endpoint).register_thing(templateBody=body, parameters={"N": str(i)})
                return "ok"
            except botocore.exceptions.ClientError as e:
                return e.response["Error"]["Code"]

        with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
            results = list(pool.map(go, range(8)))
        assert results.count("ok") == 1, results
        assert set(results) <= {"ok", "ResourceRegistrationFailureException", "ResourceAlreadyExistsException"}, results

    checks.run("boto3: a provisioning template's life and its versions", life)
    checks.run("boto3: RegisterThing creates the thing, group, policy and attachments, or nothing", register_thing)
    checks.run("boto3: 8 RegisterThing with FAIL racing for one thing -> exactly one succeeds", fail_race)


def cli_checks(checks, server, work, aws_bin):
    env = dict(os.environ, AWS_ENDPOINT_URL_IOT=server.endpoint, AWS_ACCESS_KEY_ID="test",
               AWS_SECRET_ACCESS_KEY="test", AWS_DEFAULT_REGION="eu-west-3", AWS_MAX_ATTEMPTS="1",
               AWS_CONFIG_FILE=str(work / "no-config"), AWS_SHARED_CREDENTIALS_FILE=str(work / "no-credentials"))

    def aws(*args, ok=True):
        out = subprocess.run([aws_bin, "iot", *args, "--output", "json"], env=env, capture_output=True, text=True)
        if ok:
            assert out.returncode == 0, (args, out.stderr)
            return json.loads(out.stdout) if out.stdout.strip() else {}
        assert out.returncode != 0, (args, out.stdout)
        return out.stderr

    def flow():
        (work / "t.json").write_text(json.dumps(SINGLE))
        aws("create-provisioning-template", "--template-name", "cli-single", "--template-body",
            f"file://{work / 't.json'}", "--provisioning-role-arn", ROLE, "--enabled")
        assert aws("describe-provisioning-template", "--template-name", "cli-single")["enabled"] is True
        aws("create-provisioning-template-version", "--template-name", "cli-single", "--template-body",
            f"file://{work / 't.json'}", "--set-as-default")
        aws("update-provisioning-template", "--template-name", "cli-single", "--no-enabled")
        assert aws("describe-provisioning-template", "--template-name", "cli-single")["defaultVersionId"] == 2
        cert = aws("create-keys-and-certificate")
        aws("create-thing-group", "--thing-group-name", "WA")
        r = aws("register-thing", "--template-body", f"file://{work / 't.json'}", "--parameters",
                json.dumps({"ThingName": "cli-rt", "SerialNumber": "7", "CertificateId": cert["certificateId"]}))
        assert r["resourceArns"]["thing"].endswith(":thing/cli-rt"), r
        assert aws("list-thing-principals", "--thing-name", "cli-rt")["principals"] == [cert["certificateArn"]]
        assert "InvalidRequestException" in aws("register-thing", "--template-body", '{"Outputs": {}}', ok=False)

    checks.run("aws cli: create/describe/update provisioning templates and versions, register-thing", flow)
