//! The `iot-ca` binary on committed fixtures (`../tests/data`, made by
//! `tests/data/make_openssl_fixtures.sh`): one test per exit path, asserting the JSON, the
//! exit code and the error Code.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use assert_cmd::Command;
use serde_json::{Value, json};
use support::*;

const CODE: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

fn register(dir: &tempfile::TempDir, request: &Value, registry: Option<&Value>, code: &str) -> Command {
    register_in(dir, request, registry, code, "eu-west-1")
}

fn register_in(
    dir: &tempfile::TempDir,
    request: &Value,
    registry: Option<&Value>,
    code: &str,
    region: &str,
) -> Command {
    let mut cmd = iot_ca();
    cmd.args(["register", "--registration-code", code, "--now", NOW, "--region", region]);
    cmd.arg("--input").arg(write_json(dir, "request.json", request));
    if let Some(r) = registry {
        cmd.arg("--registry").arg(write_json(dir, "state.json", r));
    }
    cmd
}

fn guide_request() -> Value {
    json!({
        "caCertificate": text("openssl-ca.pem"),
        "verificationCertificate": text("openssl-verification.pem"),
        "setAsActive": true,
        "tags": [{"Key": "env", "Value": "test"}],
    })
}

#[test]
fn get_registration_code_prints_64_hex() {
    let v = run_json(iot_ca().arg("get-registration-code"), 0);
    let code = v["registrationCode"].as_str().unwrap();
    assert!(iot_ca::RegistrationCode::parse(code).is_ok(), "{code}");
}

#[test]
fn register_succeeds_with_the_guides_certificates() {
    let dir = tempfile::tempdir().unwrap();
    let v = run_json(&mut register(&dir, &guide_request(), None, CODE), 0);
    let id = sha256_hex(&text("openssl-ca.pem"));
    assert_eq!(v["certificateId"], id.as_str());
    assert_eq!(v["certificateArn"], format!("arn:aws:iot:eu-west-1:123456789012:cacert/{id}").as_str());
    let d = &v["certificateDescription"];
    assert_eq!(d["status"], "ACTIVE");
    assert_eq!(d["certificateMode"], "DEFAULT");
    assert_eq!(d["customerVersion"], 1);
    assert_eq!(d["creationDate"], NOW);
    assert_eq!(v["tags"], json!([{"Key": "env", "Value": "test"}]));
    assert!(v["findings"].is_array());
}

/// The partition is the region's unless --partition names one of AWS's partitions.
#[test]
fn register_arns_are_in_the_regions_partition() {
    let dir = tempfile::tempdir().unwrap();
    let id = sha256_hex(&text("openssl-ca.pem"));
    let v = run_json(&mut register_in(&dir, &guide_request(), None, CODE, "cn-north-1"), 0);
    assert_eq!(v["certificateArn"], format!("arn:aws-cn:iot:cn-north-1:123456789012:cacert/{id}").as_str());
    let v = run_json(&mut register_in(&dir, &guide_request(), None, CODE, "us-gov-west-1"), 0);
    assert_eq!(v["certificateArn"], format!("arn:aws-us-gov:iot:us-gov-west-1:123456789012:cacert/{id}").as_str());
    let out = register(&dir, &guide_request(), None, CODE).args(["--partition", "xyz"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("partition"), "{out:?}");
}

#[test]
fn register_with_a_wrong_code_exits_1_with_the_aws_error() {
    let dir = tempfile::tempdir().unwrap();
    let v = run_json(&mut register(&dir, &guide_request(), None, &"f".repeat(64)), 1);
    assert_eq!(v["Error"]["Code"], "RegistrationCodeValidationException");
    assert_eq!(v["ResponseMetadata"]["HTTPStatusCode"], 400);
}

#[test]
fn register_twice_is_resource_already_exists() {
    let dir = tempfile::tempdir().unwrap();
    let state = json!({"caCertificates": [text("openssl-ca.pem")]});
    let v = run_json(&mut register(&dir, &guide_request(), Some(&state), CODE), 1);
    assert_eq!(v["Error"]["Code"], "ResourceAlreadyExistsException");
    assert_eq!(v["ResponseMetadata"]["HTTPStatusCode"], 409);
    assert_eq!(v["resourceId"], sha256_hex(&text("openssl-ca.pem")).as_str());
}

#[test]
fn register_refuses_another_accounts_default_mode_ca() {
    let dir = tempfile::tempdir().unwrap();
    let state = json!({"otherAccountsDefaultMode": [text("openssl-ca.pem")]});
    let v = run_json(&mut register(&dir, &guide_request(), Some(&state), CODE), 1);
    assert_eq!(v["Error"]["Code"], "InvalidRequestException");
    assert_eq!(v["Error"]["Message"], "Cannot accept this CACertificate");
}

#[test]
fn register_refuses_unknown_members() {
    let dir = tempfile::tempdir().unwrap();
    let mut request = guide_request();
    request["colour"] = json!("blue");
    let v = run_json(&mut register(&dir, &request, None, CODE), 1);
    assert_eq!(v["Error"]["Code"], "InvalidRequestException");
    assert!(v["Error"]["Message"].as_str().unwrap().contains("colour"));
}

#[test]
fn register_checks_the_template_in_the_registry() {
    let dir = tempfile::tempdir().unwrap();
    let mut request = guide_request();
    request["registrationConfig"] = json!({"templateName": "jitp"});
    let v = run_json(&mut register(&dir, &request, None, CODE), 1);
    assert_eq!(v["Error"]["Code"], "ResourceNotFoundException");
    let state = json!({"provisioningTemplates": [{"templateName": "jitp", "type": "JITP"}]});
    let v = run_json(&mut register(&dir, &request, Some(&state), CODE), 0);
    assert_eq!(v["registrationConfig"], json!({"templateName": "jitp"}));
}

#[test]
fn usage_errors_exit_2_with_a_message() {
    let out = iot_ca().args(["register", "--no-such-flag"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = iot_ca()
        .args(["register", "--input", "/nonexistent/request.json", "--registration-code", CODE])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read /nonexistent/request.json"));
    assert!(out.stdout.is_empty());
    let dir = tempfile::tempdir().unwrap();
    let out = register(&dir, &guide_request(), None, CODE).args(["--now", "yesterday"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = register(&dir, &guide_request(), None, "ABC").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_verification_certificate_made_by_the_cli_registers() {
    let dir = tempfile::tempdir().unwrap();
    let code = "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789";
    let cert = dir.path().join("verificationCert.pem");
    let key = dir.path().join("verificationCert.key");
    let v = run_json(
        iot_ca()
            .args(["create-verification-certificate", "--registration-code", code, "--now", NOW])
            .arg("--ca-cert")
            .arg(data("openssl-ca.pem"))
            .arg("--ca-key")
            .arg(data("openssl-ca.key"))
            .arg("--out-cert")
            .arg(&cert)
            .arg("--out-key")
            .arg(&key),
        0,
    );
    assert_eq!(v["commonName"], code);
    assert!(std::fs::read_to_string(&key).unwrap().starts_with("-----BEGIN EC PRIVATE KEY-----"));
    let request = json!({"caCertificate": text("openssl-ca.pem"), "verificationCertificate": std::fs::read_to_string(&cert).unwrap()});
    let out = run_json(&mut register(&dir, &request, None, code), 0);
    assert_eq!(out["certificateId"], sha256_hex(&text("openssl-ca.pem")).as_str());
}

/// CreateCertificateFromCsr's preflight: the openssl request is issued under the issuer with
/// its subject; a CSR that is not one is the service's InvalidRequestException.
#[test]
fn create_certificate_from_csr_issues_under_the_issuer() {
    let dir = tempfile::tempdir().unwrap();
    let issue = |csr: &std::path::Path| {
        let mut cmd = iot_ca();
        cmd.args(["create-certificate-from-csr", "--now", NOW, "--set-as-active", "--region", "cn-north-1"])
            .arg("--csr")
            .arg(csr)
            .arg("--issuer-cert")
            .arg(data("claim-issuer.pem"))
            .arg("--issuer-key")
            .arg(data("claim-issuer.key"));
        cmd
    };
    let v = run_json(&mut issue(&data("openssl-p256.csr")), 0);
    let pem_text = v["certificatePem"].as_str().unwrap();
    let id = sha256_hex(pem_text);
    assert_eq!(v["certificateId"], id.as_str());
    assert_eq!(v["certificateArn"], format!("arn:aws-cn:iot:cn-north-1:123456789012:cert/{id}").as_str());
    assert!(v.get("keyPair").is_none());
    let (_, der) = pem_rfc7468::decode_vec(pem_text.as_bytes()).unwrap();
    let issued = iot_ca::ParsedCertificate::from_der(der).unwrap();
    let (_, issuer_der) = pem_rfc7468::decode_vec(text("claim-issuer.pem").trim().as_bytes()).unwrap();
    let issuer = iot_ca::ParsedCertificate::from_der(issuer_der).unwrap();
    assert_eq!(issued.issuer_der(), issuer.subject_der());
    let not_a_csr = dir.path().join("x.csr");
    std::fs::write(&not_a_csr, text("claim-issuer.pem")).unwrap();
    let v = run_json(&mut issue(&not_a_csr), 1);
    assert_eq!(v["Error"]["Code"], "InvalidRequestException");
}

#[test]
fn create_provisioning_claim_with_an_ec_issuer() {
    let dir = tempfile::tempdir().unwrap();
    let state =
        json!({"provisioningTemplates": [{"templateName": "fleet", "type": "FLEET_PROVISIONING", "enabled": true}]});
    let claim = |registry: &Value| {
        let mut cmd = iot_ca();
        cmd.args(["create-provisioning-claim", "--template-name", "fleet", "--now", NOW])
            .arg("--issuer-cert")
            .arg(data("claim-issuer.pem"))
            .arg("--issuer-key")
            .arg(data("claim-issuer.key"))
            .arg("--registry")
            .arg(write_json(&dir, "state.json", registry));
        cmd
    };
    let v = run_json(&mut claim(&state), 0);
    assert_eq!(v["expiration"], "2030-01-01T00:05:00Z");
    assert!(v["keyPair"]["PrivateKey"].as_str().unwrap().starts_with("-----BEGIN RSA PRIVATE KEY-----"));
    assert!(v["keyPair"]["PublicKey"].as_str().unwrap().starts_with("-----BEGIN PUBLIC KEY-----"));
    let pem_text = v["certificatePem"].as_str().unwrap();
    assert_eq!(v["certificateId"], sha256_hex(pem_text).as_str());
    // Verified under the issuer by the library's own verifier.
    let (_, der) = pem_rfc7468::decode_vec(pem_text.as_bytes()).unwrap();
    let claim_cert = iot_ca::ParsedCertificate::from_der(der).unwrap();
    let (_, issuer_der) = pem_rfc7468::decode_vec(text("claim-issuer.pem").trim().as_bytes()).unwrap();
    let issuer = iot_ca::ParsedCertificate::from_der(issuer_der).unwrap();
    let key = iot_ca::PublicKey::from_spki_der(issuer.spki_der()).unwrap();
    let now = iot_ca::UnixTime::parse_rfc3339(NOW).unwrap();
    iot_ca::verify_possession(iot_ca::Backend::preferred(), issuer.subject_der(), &key, &claim_cert, now).unwrap();

    let v = run_json(&mut claim(&json!({})), 1);
    assert_eq!(v["Error"]["Code"], "ResourceNotFoundException");
    assert_eq!(v["ResponseMetadata"]["HTTPStatusCode"], 404);
}

#[test]
fn demo_runs_the_whole_story() {
    let out = iot_ca().arg("demo").output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    for expected in [
        "registrationCode",
        "certificateArn",
        "RegistrationCodeValidationException",
        "ResourceAlreadyExistsException",
        "CreateProvisioningClaim",
        "expiration",
        "RegisterCertificate",
        "\"decision\": \"JITR\"",
        "$aws/events/certificates/registered/",
    ] {
        assert!(stdout.contains(expected), "demo output lacks {expected}");
    }
}

#[test]
fn every_subcommand_has_help_with_an_example() {
    for sub in
        ["register", "get-registration-code", "create-verification-certificate", "create-provisioning-claim", "demo"]
    {
        let out = iot_ca().args([sub, "--help"]).output().unwrap();
        assert_eq!(out.status.code(), Some(0));
        assert!(String::from_utf8_lossy(&out.stdout).contains("Example:"), "{sub}");
    }
}

/// Runs the binary expecting exit 2 and one line on stderr containing `expected`.
#[track_caller]
fn assert_usage(cmd: &mut Command, expected: &str) {
    assert_usage_output(&cmd.output().unwrap(), expected);
}

#[track_caller]
fn assert_usage_output(out: &std::process::Output, expected: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {stderr}");
    assert!(stderr.contains(expected), "stderr lacks '{expected}': {stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "one line expected: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

fn verification(dir: &tempfile::TempDir, ca_cert: &str, ca_key: &str) -> Command {
    verification_of(dir, &data(ca_cert), &data(ca_key))
}

fn verification_of(dir: &tempfile::TempDir, ca_cert: &std::path::Path, ca_key: &std::path::Path) -> Command {
    let mut cmd = iot_ca();
    cmd.args(["create-verification-certificate", "--registration-code", CODE])
        .arg("--ca-cert")
        .arg(ca_cert)
        .arg("--ca-key")
        .arg(ca_key)
        .arg("--out-cert")
        .arg(dir.path().join("v.pem"))
        .arg("--out-key")
        .arg(dir.path().join("v.key"));
    cmd
}

#[test]
fn a_full_stdout_is_a_one_line_fault_not_a_panic() {
    for sub in ["demo", "get-registration-code"] {
        let full = std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
        let out =
            std::process::Command::new(assert_cmd::cargo::cargo_bin("iot-ca")).arg(sub).stdout(full).output().unwrap();
        assert_usage_output(&out, "cannot write to stdout");
    }
}

#[test]
fn a_closed_pipe_ends_the_demo_with_exit_2() {
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("iot-ca"))
        .arg("demo")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn arguments_the_user_chose_are_usage_faults() {
    let dir = tempfile::tempdir().unwrap();
    assert_usage(
        verification(&dir, "openssl-ca.pem", "openssl-ca.key").args(["--now", "9999-12-31T23:59:59Z"]),
        "ends after 9999-12-31T23:59:59Z",
    );
    assert_usage(
        verification(&dir, "openssl-ca.pem", "openssl-ca.key").args(["--now", NOW, "--days", "4294967295"]),
        "--days 4294967295",
    );
    assert_usage(
        verification(&dir, "openssl-ca.pem", "claim-issuer.key").args(["--now", NOW]),
        "--ca-key is not the key of --ca-cert",
    );
    assert_usage(
        verification(&dir, "openssl-verification.pem", "openssl-ca.key").args(["--now", NOW]),
        "is not a CA certificate AWS accepts",
    );
    let state =
        json!({"provisioningTemplates": [{"templateName": "fleet", "type": "FLEET_PROVISIONING", "enabled": true}]});
    let claim = |now: &str, key: &str| {
        let mut cmd = iot_ca();
        cmd.args(["create-provisioning-claim", "--template-name", "fleet", "--now", now])
            .arg("--issuer-cert")
            .arg(data("claim-issuer.pem"))
            .arg("--issuer-key")
            .arg(data(key))
            .arg("--registry")
            .arg(write_json(&dir, "state.json", &state));
        cmd
    };
    assert_usage(&mut claim("1970-01-01T00:00:00Z", "claim-issuer.key"), "outside the years 1970 to 9999");
    assert_usage(&mut claim(NOW, "openssl-ca.key"), "--issuer-key is not the key of --issuer-cert");
}

#[test]
fn a_request_that_is_not_utf8_or_too_large_is_the_services_answer() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("request.json");
    std::fs::write(&path, b"{\"caCertificate\": \"\xff\"}").unwrap();
    let mut cmd = iot_ca();
    cmd.args(["register", "--registration-code", CODE, "--now", NOW]).arg("--input").arg(&path);
    let v = run_json(&mut cmd, 1);
    assert_eq!(v["Error"]["Code"], "InvalidRequestException");
    // A 100 MB (sparse) file is refused after reading one byte past the limit, with its size.
    let file = std::fs::File::create(&path).unwrap();
    file.set_len(100_000_000).unwrap();
    let v = run_json(&mut cmd, 1);
    assert_eq!(v["Error"]["Code"], "InvalidRequestException");
    assert!(v["Error"]["Message"].as_str().unwrap().contains("100000000"), "{v}");
}

/// Long enough for any bounded read of /dev/zero; an unbounded one never ends and is killed.
const BOUNDED: std::time::Duration = std::time::Duration::from_secs(120);

/// Certificate, key, CSR and registry files are read up to a bound whatever they are
/// (/dev/zero, a sparse file): past it, a usage error naming the file and the bound.
#[test]
fn pem_and_registry_files_past_their_bound_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let pem_max = format!("more than {} bytes (the limit for a PEM file)", 4 * iot_ca::MAX_PEM_CHARS);
    let zero = std::path::Path::new("/dev/zero");
    let mut cmd = verification_of(&dir, zero, &data("openssl-ca.key"));
    assert_usage(cmd.args(["--now", NOW]).timeout(BOUNDED), &format!("/dev/zero: {pem_max}"));
    let mut cmd = verification_of(&dir, &data("openssl-ca.pem"), zero);
    assert_usage(cmd.args(["--now", NOW]).timeout(BOUNDED), &pem_max);
    // A regular file one byte past the bound (sparse, so all zeros) is refused the same way.
    let big = dir.path().join("big.pem");
    std::fs::File::create(&big).unwrap().set_len(4 * iot_ca::MAX_PEM_CHARS as u64 + 1).unwrap();
    let mut cmd = verification_of(&dir, &big, &data("openssl-ca.key"));
    assert_usage(cmd.args(["--now", NOW]), &format!("big.pem: {pem_max}"));
    let csr = |csr: &std::path::Path, key: &std::path::Path| {
        let mut cmd = iot_ca();
        cmd.args(["create-certificate-from-csr", "--now", NOW])
            .arg("--csr")
            .arg(csr)
            .arg("--issuer-cert")
            .arg(data("claim-issuer.pem"))
            .arg("--issuer-key")
            .arg(key)
            .timeout(BOUNDED);
        cmd
    };
    assert_usage(&mut csr(zero, &data("claim-issuer.key")), &pem_max);
    assert_usage(&mut csr(&data("claim-issuer.pem"), zero), &pem_max);
    let registry_max = format!("/dev/zero: more than {} bytes (the limit for a registry file)", 64 * 1024 * 1024);
    let request = write_json(&dir, "request.json", &guide_request());
    let mut cmd = iot_ca();
    cmd.args(["register", "--registration-code", CODE, "--now", NOW]).arg("--input").arg(&request);
    assert_usage(cmd.arg("--registry").arg(zero).timeout(BOUNDED), &registry_max);
    let mut cmd = iot_ca();
    cmd.args(["connect", "--now", NOW]).arg("--chain").arg(data("openssl-ca.pem"));
    assert_usage(cmd.arg("--registry").arg(zero).timeout(BOUNDED), &registry_max);
}

/// A certificate file that is not UTF-8 is a usage error naming the file.
#[test]
fn a_pem_file_that_is_not_utf8_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("latin1.pem");
    std::fs::write(&path, b"\xe9t\xe9\n").unwrap();
    let mut cmd = verification_of(&dir, &path, &data("openssl-ca.key"));
    assert_usage(cmd.args(["--now", NOW]), "latin1.pem: not UTF-8");
}

/// A request document with no size (/dev/zero, a pipe) past the bound is not said to have
/// "0 bytes" (its metadata) nor any other size: a usage error says it has more than the bound.
#[test]
fn a_request_without_a_size_past_the_bound_says_only_more_than() {
    let dir = tempfile::tempdir().unwrap();
    let max = iot_ca::wire::MAX_REQUEST_JSON_BYTES;
    let expected = format!("more than {max} bytes (the limit for a request document)");
    let register = |input: &str| {
        let mut cmd = iot_ca();
        cmd.args(["register", "--registration-code", CODE, "--now", NOW, "--input", input]).timeout(BOUNDED);
        cmd
    };
    let out = register("/dev/zero").output().unwrap();
    assert_usage_output(&out, &format!("/dev/zero: {expected}"));
    assert!(!String::from_utf8_lossy(&out.stderr).contains(" 0 bytes"), "{out:?}");
    let mut cmd = iot_ca();
    cmd.args(["register-certificate", "--now", NOW, "--input", "/dev/zero"])
        .arg("--registry")
        .arg(write_json(&dir, "state.json", &json!({})))
        .timeout(BOUNDED);
    assert_usage(&mut cmd, &expected);
    // A pipe (stdin as a FIFO) past the bound is refused the same way.
    assert_usage(register("/dev/stdin").write_stdin(vec![b' '; max + 4096]), &format!("/dev/stdin: {expected}"));
    // Within the bound, a pipe is read as a file is.
    let v = run_json(register("/dev/stdin").write_stdin(guide_request().to_string()), 0);
    assert_eq!(v["certificateId"], sha256_hex(&text("openssl-ca.pem")).as_str());
}
