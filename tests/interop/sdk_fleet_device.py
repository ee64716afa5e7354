"""A device provisioning itself by claim with the AWS IoT Device SDK v2 for Python (awsiotsdk):
the calls and their order are those of the SDK's samples `fleet_provisioning_basic.py` (keys) and
`fleet_provisioning_csr.py` (--csr): an MQTT 5 client from `mqtt5_client_builder.mtls_from_path`,
`iotidentity.IotIdentityClientV2` with a request-response budget of two subscriptions,
CreateKeysAndCertificate or CreateCertificateFromCsr, then RegisterThing with the ownership
token and the parameters. Unlike the samples (which take the port 8883 and the system trust store,
and only print what they got) it takes --port and --ca, keeps the new certificate and key, and
then connects with them, which is the point of provisioning.

The samples themselves run too, unchanged: sdk_samples.py with the copies in sdk-samples/ (the
awsiotsdk package does not ship them).

Prints one JSON line: {"certificateId", "thingName", "deviceConfiguration", "reconnected"} or
{"error", "errorCode", "statusCode", "errorMessage"} (exit 1).
"""
import argparse
import json
import pathlib
import sys
import uuid
from concurrent.futures import Future

from awscrt import mqtt5, mqtt_request_response
from awsiot import V2ServiceException, iotidentity, mqtt5_client_builder

TIMEOUT = 30


def client(args, cert, key):
    connected, stopped = Future(), Future()
    mqtt = mqtt5_client_builder.mtls_from_path(
        endpoint=args.endpoint, port=args.port, ca_filepath=args.ca, cert_filepath=cert, pri_key_filepath=key,
        connect_options=mqtt5.ConnectPacket(client_id="sdk-fleet-" + uuid.uuid4().hex),
        on_lifecycle_connection_success=lambda e: connected.done() or connected.set_result(True),
        on_lifecycle_connection_failure=lambda e: connected.done() or connected.set_exception(
            Exception(f"failed to connect: {e.exception}")),
        on_lifecycle_stopped=lambda e: stopped.set_result(True))
    mqtt.start()
    connected.result(TIMEOUT)
    return mqtt, stopped


def provision(args):
    mqtt, stopped = client(args, args.cert, args.key)
    try:
        identity = iotidentity.IotIdentityClientV2(mqtt, mqtt_request_response.ClientOptions(
            max_request_response_subscriptions=2, max_streaming_subscriptions=0, operation_timeout_in_seconds=TIMEOUT))
        if args.csr:
            created = identity.create_certificate_from_csr(iotidentity.CreateCertificateFromCsrRequest(
                certificate_signing_request=pathlib.Path(args.csr).read_text())).result(TIMEOUT)
            key = args.csr_key
        else:
            created = identity.create_keys_and_certificate(
                iotidentity.CreateKeysAndCertificateRequest()).result(TIMEOUT)
            key = str(pathlib.Path(args.out) / "device.key")
            pathlib.Path(key).write_text(created.private_key)
        cert = str(pathlib.Path(args.out) / "device.pem")
        pathlib.Path(cert).write_text(created.certificate_pem)
        request = iotidentity.RegisterThingRequest(template_name=args.template_name,
                                                   certificate_ownership_token=created.certificate_ownership_token)
        if args.template_parameters:
            request.parameters = json.loads(args.template_parameters)
        registered = identity.register_thing(request).result(TIMEOUT)
    finally:
        mqtt.stop()
        stopped.result(TIMEOUT)
    # The provisioned certificate connects.
    again, again_stopped = client(args, cert, key)
    again.stop()
    again_stopped.result(TIMEOUT)
    return {"certificateId": created.certificate_id, "thingName": registered.thing_name,
            "deviceConfiguration": registered.device_configuration, "reconnected": True}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--endpoint", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--ca", required=True)
    ap.add_argument("--cert", required=True, help="the claim certificate (PEM)")
    ap.add_argument("--key", required=True, help="the claim key (PEM)")
    ap.add_argument("--template_name", required=True)
    ap.add_argument("--template_parameters")
    ap.add_argument("--csr", help="a CSR (PEM): CreateCertificateFromCsr instead of CreateKeysAndCertificate")
    ap.add_argument("--csr_key", help="the CSR's key (PEM), to connect with afterwards")
    ap.add_argument("--out", required=True, help="where the new certificate (and key) are written")
    args = ap.parse_args()
    try:
        print(json.dumps(provision(args)))
        return 0
    except V2ServiceException as e:
        m = e.modeled_error
        print(json.dumps({"error": str(e), "errorCode": getattr(m, "error_code", None),
                          "statusCode": getattr(m, "status_code", None),
                          "errorMessage": getattr(m, "error_message", None)}))
        return 1


if __name__ == "__main__":
    sys.exit(main())
