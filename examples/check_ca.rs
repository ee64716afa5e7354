//! Checks a CA certificate the way RegisterCACertificate does (SPEC §1.2–1.3) and prints the
//! verdict, the certificateId and the findings.
//!
//! ```text
//! cargo run --example check_ca -- [CA.pem] [--strict]
//! ```
//! With no file, it makes a throwaway P-256 CA with rcgen and checks that. This example is the
//! I/O edge: it reads the file, the system clock and (through rcgen) the OS RNG; the library
//! itself does none of that.
#![allow(clippy::expect_used)]

use std::time::SystemTime;

use iot_ca::{Policy, UnixTime, VerifiedCa};

fn throwaway_ca() -> String {
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
    params.distinguished_name.push(rcgen::DnType::CommonName, "iot-ca example root");
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params.key_usages = vec![rcgen::KeyUsagePurpose::KeyCertSign, rcgen::KeyUsagePurpose::CrlSign];
    let key = rcgen::KeyPair::generate().expect("key pair");
    params.self_signed(&key).expect("self-signed").pem()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let strict = args.iter().any(|a| a == "--strict");
    let pem = match args.iter().find(|a| !a.starts_with("--")) {
        Some(path) => match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) => {
                eprintln!("cannot read {path}: {e}");
                std::process::exit(2);
            }
        },
        None => {
            println!("no CA file given: checking a throwaway P-256 CA made by rcgen");
            throwaway_ca()
        }
    };
    let now = UnixTime::from_system_time(SystemTime::now());
    let policy = if strict { Policy::strict() } else { Policy::default() };
    match VerifiedCa::from_pem(&pem, now, policy) {
        Ok(ca) => {
            println!("accepted at {now}");
            println!("certificateId: {}", ca.certificate_id());
            println!("key: {}", ca.public_key().kind());
            for f in ca.findings() {
                println!("finding: {f}");
            }
        }
        Err(e) => {
            let ex = e.exception();
            println!("rejected: {} (HTTP {}): {}", ex.name(), ex.http_status(), ex.message);
            std::process::exit(1);
        }
    }
}
