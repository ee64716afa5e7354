//! `iot-ca register-certificate` and `iot-ca connect` end to end: device certificates made by
//! the binary itself (`create-verification-certificate` signs any leaf with the committed
//! openssl CA key), decided against STATE.json files written by each test.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use assert_cmd::Command;
use serde_json::{Value, json};
use support::*;

/// The device certificate's commonName.
const DEVICE_CN: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

/// A device certificate signed by the openssl fixture CA (the binary makes it).
fn device_certificate(dir: &tempfile::TempDir) -> String {
    let cert = dir.path().join("device.pem");
    run_json(
        iot_ca()
            .args(["create-verification-certificate", "--registration-code", DEVICE_CN, "--now", NOW])
            .arg("--ca-cert")
            .arg(data("openssl-ca.pem"))
            .arg("--ca-key")
            .arg(data("openssl-ca.key"))
            .arg("--out-cert")
            .arg(&cert)
            .arg("--out-key")
            .arg(dir.path().join("device.key")),
        0,
    );
    std::fs::read_to_string(cert).unwrap()
}

fn register_certificate(dir: &tempfile::TempDir, request: &Value, state: &Value) -> Command {
    let mut cmd = iot_ca();
    cmd.args(["register-certificate", "--now", NOW, "--region", "eu-west-1"]);
    cmd.arg("--input").arg(write(dir, "request.json", &request.to_string()));
    cmd.arg("--registry").arg(write(dir, "state.json", &state.to_string()));
    cmd
}

fn connect(dir: &tempfile::TempDir, chain: &str, state: &Value, sni: bool) -> Command {
    let mut cmd = iot_ca();
    cmd.args(["connect", "--now", NOW]);
    if sni {
        cmd.arg("--sni");
    }
    cmd.arg("--chain").arg(write(dir, "chain.pem", chain));
    cmd.arg("--registry").arg(write(dir, "state.json", &state.to_string()));
    cmd
}

fn auto_registering_ca() -> Value {
    json!({"certificatePem": text("openssl-ca.pem"), "status": "ACTIVE", "autoRegistrationStatus": "ENABLE"})
}

#[test]
fn register_certificate_under_the_registered_ca() {
    let dir = tempfile::tempdir().unwrap();
    let device = device_certificate(&dir);
    let state = json!({"caCertificates": [text("openssl-ca.pem")]});
    let v =
        run_json(&mut register_certificate(&dir, &json!({"certificatePem": device, "setAsActive": true}), &state), 0);
    let id = sha256_hex(&device);
    assert_eq!(v["certificateId"], id.as_str());
    assert_eq!(v["certificateArn"], format!("arn:aws:iot:eu-west-1:123456789012:cert/{id}").as_str());
    let d = &v["certificateDescription"];
    assert_eq!(d["caCertificateId"], sha256_hex(&text("openssl-ca.pem")).as_str());
    assert_eq!((d["status"].as_str(), d["certificateMode"].as_str()), (Some("ACTIVE"), Some("DEFAULT")));
    assert_eq!(d["creationDate"], NOW);
}

#[test]
fn register_certificate_refusals_exit_1_with_the_aws_error() {
    let dir = tempfile::tempdir().unwrap();
    let device = device_certificate(&dir);
    let request = json!({"certificatePem": device});
    let v = run_json(&mut register_certificate(&dir, &request, &json!({})), 1);
    assert_eq!(v["Error"]["Code"], "CertificateValidationException");
    let inactive = json!({"caCertificates": [{"certificatePem": text("openssl-ca.pem"), "status": "INACTIVE"}]});
    let v = run_json(&mut register_certificate(&dir, &request, &inactive), 1);
    assert_eq!(v["Error"]["Code"], "CertificateStateException");
    assert_eq!(v["ResponseMetadata"]["HTTPStatusCode"], 406);
    let held = json!({"caCertificates": [text("openssl-ca.pem")], "certificates": [{"certificatePem": device, "status": "ACTIVE"}]});
    let v = run_json(&mut register_certificate(&dir, &request, &held), 1);
    assert_eq!(v["Error"]["Code"], "ResourceAlreadyExistsException");
    assert_eq!(v["resourceId"], sha256_hex(&device).as_str());
    let v = run_json(
        &mut register_certificate(&dir, &json!({"certificatePem": device, "status": "PENDING_ACTIVATION"}), &held),
        1,
    );
    assert_eq!(v["Error"]["Code"], "InvalidRequestException");
}

#[test]
fn register_certificate_without_ca() {
    let dir = tempfile::tempdir().unwrap();
    let device = device_certificate(&dir);
    let v = run_json(
        register_certificate(&dir, &json!({"certificatePem": device, "status": "ACTIVE"}), &json!({}))
            .arg("--without-ca"),
        0,
    );
    let d = &v["certificateDescription"];
    assert_eq!((d["status"].as_str(), d["certificateMode"].as_str()), (Some("ACTIVE"), Some("SNI_ONLY")));
    assert!(d.get("caCertificateId").is_none());
    let v = run_json(
        register_certificate(&dir, &json!({"certificatePem": device, "caCertificatePem": "x"}), &json!({}))
            .arg("--without-ca"),
        1,
    );
    assert_eq!(v["Error"]["Code"], "InvalidRequestException");
}

#[test]
fn connect_jitr_then_pending_then_active() {
    let dir = tempfile::tempdir().unwrap();
    let device = device_certificate(&dir);
    let chain = format!("{device}{}", text("openssl-ca.pem"));
    let ca_id = sha256_hex(&text("openssl-ca.pem"));
    let state = json!({"caCertificates": [auto_registering_ca()]});
    let v = run_json(&mut connect(&dir, &chain, &state, false), 0);
    assert_eq!(v["decision"], "JITR");
    assert_eq!(v["certificateId"], sha256_hex(&device).as_str());
    assert_eq!(v["caCertificateId"], ca_id.as_str());
    assert_eq!(v["event"]["topic"], format!("$aws/events/certificates/registered/{ca_id}").as_str());
    let payload = &v["event"]["payload"];
    assert_eq!(payload["certificateStatus"], "PENDING_ACTIVATION");
    assert_eq!(payload["awsAccountId"], "123456789012");
    // 2030-01-01T00:00:00Z in Unix milliseconds.
    assert_eq!(payload["timestamp"], 1_893_456_000_000_i64);

    // Without the CA in the chain, a DEFAULT-mode CA refuses.
    let v = run_json(&mut connect(&dir, &device, &state, true), 0);
    assert_eq!(
        (v["decision"].as_str(), v["reason"]["code"].as_str()),
        (Some("REFUSE"), Some("CA_CERTIFICATE_NOT_PRESENTED"))
    );

    let pending = json!({"caCertificates": [auto_registering_ca()],
        "certificates": [{"certificatePem": device, "status": "PENDING_ACTIVATION", "creationDate": "2029-12-31T00:00:00Z"}]});
    let v = run_json(&mut connect(&dir, &chain, &pending, false), 0);
    assert_eq!(v["decision"], "REFUSE");
    assert_eq!(v["event"]["payload"]["certificateRegistrationTimestamp"], 1_893_369_600_000_i64);

    let active = json!({"certificates": [{"certificatePem": device, "status": "ACTIVE"}]});
    let v = run_json(&mut connect(&dir, &device, &active, false), 0);
    assert_eq!(v["decision"], "CONNECT");
    assert!(v.get("reason").is_none() && v.get("event").is_none());
}

#[test]
fn connect_jitp_with_a_named_template() {
    let dir = tempfile::tempdir().unwrap();
    let device = device_certificate(&dir);
    let body = r#"{"Parameters": {"AWS::IoT::Certificate::CommonName": {"Type": "String"}, "Group": {"Type": "String", "Default": "fleet"}}, "Resources": {}}"#;
    let mut ca = auto_registering_ca();
    ca["registrationConfig"] = json!({"templateName": "jitp"});
    let state = json!({"caCertificates": [ca],
        "provisioningTemplates": [{"templateName": "jitp", "type": "JITP", "templateBody": body}]});
    let v = run_json(&mut connect(&dir, &device, &state, false), 0);
    assert_eq!(v["reason"]["code"], "SNI_REQUIRED");
    let v = run_json(&mut connect(&dir, &device, &state, true), 0);
    assert_eq!(v["decision"], "JITP");
    assert_eq!(v["parameters"]["AWS::IoT::Certificate::CommonName"], DEVICE_CN);
    assert_eq!(v["parameters"]["AWS::IoT::Certificate::Id"], sha256_hex(&device).as_str());
    assert_eq!(v["parameters"]["Group"], "fleet");
}

#[test]
fn connect_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let v = run_json(&mut connect(&dir, "not a chain", &json!({}), false), 1);
    assert_eq!(v["Error"]["Code"], "CertificateValidationException");
    let out = iot_ca()
        .args(["connect", "--chain", "/nonexistent/chain.pem", "--registry", "/nonexistent/s.json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    let chain = write(&dir, "chain.pem", "x");
    let out = iot_ca().arg("connect").arg("--chain").arg(chain).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "--registry is required");
    let bad_state = json!({"caCertificates": [{"certificatePem": text("openssl-ca.pem"), "status": "GONE"}]});
    let out = connect(&dir, &text("openssl-ca.pem"), &bad_state, false).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn new_subcommands_have_help_with_an_example() {
    for sub in ["register-certificate", "connect"] {
        let out = iot_ca().args([sub, "--help"]).output().unwrap();
        assert_eq!(out.status.code(), Some(0));
        assert!(String::from_utf8_lossy(&out.stdout).contains("Example:"), "{sub}");
    }
}
