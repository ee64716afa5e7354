//! The server's command line: every flag also from the environment, and values out of range
//! refused at start with exit 2 and a sentence (no panic).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

fn server() -> Command {
    Command::new(env!("CARGO_BIN_EXE_iot-ca-server"))
}

/// Configured from the environment alone (`IOT_CA_LISTEN`, `IOT_CA_STORE`), the server starts
/// and says where it listens.
#[test]
fn every_flag_has_an_environment_variable() {
    let dir = tempfile::tempdir().unwrap();
    let store = format!("sqlite:{}", dir.path().join("env.sqlite3").display());
    let mut child = server()
        .env("IOT_CA_LISTEN", "127.0.0.1:0")
        .env("IOT_CA_STORE", &store)
        .env("IOT_CA_MAX_CONNECTIONS", "3")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(line.starts_with("listening on http://127.0.0.1:"), "{line}");
    assert!(dir.path().join("env.sqlite3").exists());
    let help = server().arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    for name in [
        "IOT_CA_LISTEN",
        "IOT_CA_STORE",
        "IOT_CA_CREDENTIALS",
        "IOT_CA_CLAIM_ISSUER",
        "IOT_CA_HEADER_TIMEOUT",
        "IOT_CA_BODY_TIMEOUT",
        "IOT_CA_MAX_CONNECTIONS",
        "IOT_CA_SHUTDOWN_DEADLINE",
        "IOT_CA_MQTT_LISTEN",
        "IOT_CA_MQTT_REGION",
        "IOT_CA_TLS_CERT",
        "IOT_CA_TLS_KEY",
        "IOT_CA_TLS_ROOT_OUT",
        "IOT_CA_MQTT_MAX_CONNECTIONS",
        "IOT_CA_MAX_CONNECTIONS_PER_PEER",
        "IOT_CA_FIRST_BYTE_TIMEOUT",
        "IOT_CA_HEAVY_QUEUE",
        "IOT_CA_REQUEST_DEADLINE",
        "IOT_CA_STORE_CONNECTIONS",
    ] {
        assert!(help.contains(name), "--help does not name {name}");
    }
}

/// A timeout too large for a `Duration`, or not positive, is a usage error, not a panic; so are
/// a region that is not one, and --tls-cert without --tls-key.
#[test]
fn out_of_range_values_exit_2_with_the_reason() {
    for (flag, value, expected) in [
        ("--header-timeout", "1e300", "not between 0 (excluded) and 86400 seconds"),
        ("--shutdown-deadline", "1e20", "not between 0 (excluded) and 86400 seconds"),
        ("--body-timeout", "0", "not between 0 (excluded) and 86400 seconds"),
        ("--body-timeout", "NaN", "not between 0 (excluded) and 86400 seconds"),
        ("--max-connections", "0", "is not a positive integer"),
        ("--claim-issuer", "only-one.pem", "expected CERT.pem,KEY.pem"),
        ("--mqtt-max-connections", "0", "is not a positive integer"),
        ("--mqtt-region", "not a region!", "--mqtt-region"),
        ("--tls-cert", "cert.pem", "--tls-key"),
    ] {
        let out = server().args(["--listen", "127.0.0.1:0", flag, value]).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{flag} {value}: {stderr}");
        assert!(stderr.contains(expected), "{flag} {value}: {stderr}");
    }
}

/// An issuer that cannot sign is refused at start with the reason, not answered with a 500 on
/// every claim: garbage for the certificate, a key that is not the certificate's, an RSA key.
#[test]
fn issuers_that_cannot_sign_are_refused_at_start() {
    let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data");
    let dir = tempfile::tempdir().unwrap();
    let garbage = dir.path().join("garbage.pem");
    std::fs::write(&garbage, "not a certificate").unwrap();
    let pair = |cert: &std::path::Path, key: &str| format!("{},{}", cert.display(), data.join(key).display());
    for (flag, value, expected) in [
        ("--claim-issuer", pair(&garbage, "claim-issuer.key"), "the issuer certificate does not parse"),
        ("--claim-issuer", pair(&data.join("openssl-ca.pem"), "claim-issuer.key"), "not the issuer certificate's key"),
        ("--device-issuer", pair(&data.join("openssl-ca.pem"), "openssl-ca.key"), "is not a P-256 private key"),
    ] {
        let out = server().args(["--listen", "127.0.0.1:0", flag, &value]).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{flag} {value}: {stderr}");
        assert!(stderr.contains(flag) && stderr.contains(expected), "{flag} {value}: {stderr}");
    }
}

/// Connection bounds past the process's open-file limit are refused at start (they would be
/// failed accepts, EMFILE, under load); so are files the server would read without end.
#[test]
fn bounds_past_the_open_file_limit_and_endless_files_are_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let store = format!("sqlite:{}", dir.path().join("r.sqlite3").display());
    for args in [
        &["--max-connections", "100000000"][..],
        &["--mqtt-listen", "127.0.0.1:0", "--mqtt-max-connections", "100000000"][..],
    ] {
        let out = server().args(["--listen", "127.0.0.1:0", "--store", &store]).args(args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains("RLIMIT_NOFILE") && stderr.contains("100000000"), "{args:?}: {stderr}");
    }
    for (flag, value) in [("--credentials", "/dev/zero"), ("--claim-issuer", "/dev/zero,/dev/zero")] {
        let out = server().args(["--listen", "127.0.0.1:0", "--store", &store, flag, value]).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{flag}: {stderr}");
        assert!(stderr.contains("/dev/zero: more than 1048576 bytes"), "{flag}: {stderr}");
    }
}

/// The root is the server's to write only when the server made it.
#[test]
fn tls_root_out_goes_with_the_certificate_the_server_makes() {
    let out = server()
        .args(["--listen", "127.0.0.1:0", "--tls-cert", "c.pem", "--tls-key", "k.pem", "--tls-root-out", "r.pem"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--tls-root-out"));
}
