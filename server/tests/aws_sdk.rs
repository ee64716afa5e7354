//! The AWS SDK for Rust (`aws-sdk-iot`, the client Rust users embed) against `iot-ca-server`:
//! its SigV4, its request serialisation, its retries and its error parsing meet the server's.
//! Register a CA, create keys and a certificate, a thing and a policy, attach both, list them,
//! refuse what must be refused with the SDK's typed errors, and delete it all.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use aws_sdk_iot::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_iot::error::ProvideErrorMetadata;
use aws_sdk_iot::types::{AttributePayload, CertificateMode, CertificateStatus};

struct Server {
    child: Child,
    endpoint: String,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data");
    let mut child = Command::new(env!("CARGO_BIN_EXE_iot-ca-server"))
        .args(["--listen", "127.0.0.1:0", "--store"])
        .arg(format!("sqlite:{}", dir.path().join("sdk.sqlite3").display()))
        .arg("--device-issuer")
        .arg(format!("{},{}", data.join("claim-issuer.pem").display(), data.join("claim-issuer.key").display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let endpoint = line.trim().strip_prefix("listening on ").unwrap().to_owned();
    Server { child, endpoint, _dir: dir }
}

fn client(server: &Server) -> aws_sdk_iot::Client {
    let config = aws_sdk_iot::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(&server.endpoint)
        .region(Region::new("eu-west-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "iot-ca tests"))
        .build();
    aws_sdk_iot::Client::from_conf(config)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sdk_registers_creates_attaches_lists_and_deletes() {
    let server = start();
    let iot = client(&server);
    let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data");
    let ca_pem = std::fs::read_to_string(data.join("openssl-ca.pem")).unwrap();

    let ca = iot
        .register_ca_certificate()
        .ca_certificate(&ca_pem)
        .certificate_mode(CertificateMode::SniOnly)
        .set_as_active(true)
        .send()
        .await
        .unwrap();
    let ca_id = ca.certificate_id().unwrap();
    assert!(ca.certificate_arn().unwrap().starts_with("arn:aws:iot:eu-west-1:000000000000:cacert/"));
    let again =
        iot.register_ca_certificate().ca_certificate(&ca_pem).certificate_mode(CertificateMode::SniOnly).send().await;
    let e = again.unwrap_err().into_service_error();
    assert!(e.is_resource_already_exists_exception(), "{e:?}");

    let keys = iot.create_keys_and_certificate().set_as_active(true).send().await.unwrap();
    let cert_arn = keys.certificate_arn().unwrap().to_owned();
    let cert_id = keys.certificate_id().unwrap().to_owned();
    assert!(keys.key_pair().unwrap().private_key().unwrap().starts_with("-----BEGIN RSA PRIVATE KEY-----"));

    iot.create_thing()
        .thing_name("sdk-thing")
        .attribute_payload(AttributePayload::builder().attributes("model", "a1").build())
        .send()
        .await
        .unwrap();
    iot.attach_thing_principal().thing_name("sdk-thing").principal(&cert_arn).send().await.unwrap();
    let principals = iot.list_thing_principals().thing_name("sdk-thing").send().await.unwrap();
    assert_eq!(principals.principals(), std::slice::from_ref(&cert_arn));
    let things = iot.list_principal_things().principal(&cert_arn).send().await.unwrap();
    assert_eq!(things.things(), ["sdk-thing".to_owned()]);

    let document =
        r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iot:*", "Resource": "*"}]}"#;
    iot.create_policy().policy_name("sdk-policy").policy_document(document).send().await.unwrap();
    iot.attach_policy().policy_name("sdk-policy").target(&cert_arn).send().await.unwrap();
    let attached = iot.list_attached_policies().target(&cert_arn).send().await.unwrap();
    assert_eq!(attached.policies().iter().filter_map(|p| p.policy_name()).collect::<Vec<_>>(), ["sdk-policy"]);

    let missing = iot.describe_thing().thing_name("nope").send().await.unwrap_err().into_service_error();
    assert!(missing.is_resource_not_found_exception(), "{missing:?}");
    let malformed = iot.create_policy().policy_name("bad").policy_document("{}").send().await.unwrap_err();
    assert_eq!(malformed.into_service_error().code(), Some("MalformedPolicyException"));

    iot.update_certificate().certificate_id(&cert_id).new_status(CertificateStatus::Inactive).send().await.unwrap();
    let conflict = iot.delete_certificate().certificate_id(&cert_id).send().await.unwrap_err().into_service_error();
    assert!(conflict.is_delete_conflict_exception(), "{conflict:?}");
    iot.detach_policy().policy_name("sdk-policy").target(&cert_arn).send().await.unwrap();
    iot.detach_thing_principal().thing_name("sdk-thing").principal(&cert_arn).send().await.unwrap();
    iot.delete_certificate().certificate_id(&cert_id).send().await.unwrap();
    iot.delete_policy().policy_name("sdk-policy").send().await.unwrap();
    iot.delete_thing().thing_name("sdk-thing").send().await.unwrap();
    iot.update_ca_certificate()
        .certificate_id(ca_id)
        .new_status(aws_sdk_iot::types::CaCertificateStatus::Inactive)
        .send()
        .await
        .unwrap();
    iot.delete_ca_certificate().certificate_id(ca_id).send().await.unwrap();
    let endpoint = iot.describe_endpoint().endpoint_type("iot:Data-ATS").send().await.unwrap();
    assert_eq!(endpoint.endpoint_address(), Some("localhost"));
}
