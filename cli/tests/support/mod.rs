//! What the CLI tests share: the committed fixtures, the binary, and reading its JSON.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

/// 2030-01-01T00:00:00Z: inside every fixture's validity.
pub const NOW: &str = "2030-01-01T00:00:00Z";

pub fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data").join(name)
}

pub fn text(name: &str) -> String {
    std::fs::read_to_string(data(name)).unwrap()
}

pub fn iot_ca() -> Command {
    Command::cargo_bin("iot-ca").unwrap()
}

/// Runs the binary, expecting `code`; returns stdout as JSON.
pub fn run_json(cmd: &mut Command, code: i32) -> Value {
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(code), "stderr: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)))
}

/// Writes `content` to `name` in `dir`.
pub fn write(dir: &tempfile::TempDir, name: &str, content: &str) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, content).unwrap();
    path
}

pub fn write_json(dir: &tempfile::TempDir, name: &str, v: &Value) -> PathBuf {
    write(dir, name, &v.to_string())
}

/// The certificateId of a PEM certificate.
pub fn sha256_hex(pem_text: &str) -> String {
    let (_, der) = pem_rfc7468::decode_vec(pem_text.trim().as_bytes()).unwrap();
    iot_ca::CertificateId::of_der(&der).as_str().to_owned()
}
