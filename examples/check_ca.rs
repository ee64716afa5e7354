//! Checks a CA certificate the way RegisterCACertificate does (SPEC §1.2–1.3) and prints the
//! verdict, the certificateId and the findings.
//!
//! ```text
//! cargo run --example check_ca -- [CA.pem] [--strict]
//! ```
//! With no file, it makes a throwaway P-256 CA with the crate's own `create_ca_certificate` and
//! checks that. This example is the I/O edge: it reads the file, the system clock and the OS
//! RNG; the library itself does none of that.
#![allow(clippy::expect_used)]

use std::time::SystemTime;

use iot_ca::{Policy, UnixTime, VerifiedCa};

fn throwaway_ca(now: UnixTime) -> String {
    use p256::elliptic_curve::Generate;
    let mut rng = rand::rng();
    let key = p256::ecdsa::SigningKey::generate_from_rng(&mut rng);
    let until = now.checked_add(365 * 86_400).expect("a time before 9999");
    let params = iot_ca::CaCertificateParams::new("CN=iot-ca example root", until);
    let der = iot_ca::create_ca_certificate::<_, p256::ecdsa::DerSignature, _>(&params, &key, &mut rng, now)
        .expect("a throwaway CA");
    pem_rfc7468::encode_string("CERTIFICATE", pem_rfc7468::LineEnding::LF, &der).expect("PEM")
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
            println!("no CA file given: checking a throwaway P-256 CA");
            throwaway_ca(UnixTime::from_system_time(SystemTime::now()))
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
