//! The whole `check`: arbitrary bytes split into a CA and a verification certificate (as PEM
//! when they are UTF-8, else wrapped as PEM of the raw bytes, which reaches the DER parser).
#![no_main]

use iot_ca::{CertificateMode, Policy, RegisterCaCertificateRequest, RegistrationCode, UnixTime, check};
use libfuzzer_sys::fuzz_target;

#[path = "common/field.rs"]
mod field;

use field::field;

fuzz_target!(|data: &[u8]| {
    let Some((&split, rest)) = data.split_first() else { return };
    let at = (split as usize * rest.len()) / 256;
    let (ca, verification) = rest.split_at(at);
    let code = RegistrationCode::parse(&"0".repeat(64)).unwrap_or_else(|_| unreachable!());
    let now = UnixTime::from_secs(1_767_225_600);
    let request = RegisterCaCertificateRequest::new(field(ca)).with_verification_certificate(field(verification));
    let _ = check(&request, &code, Policy::default(), now);
    let sni = RegisterCaCertificateRequest::new(field(ca)).with_certificate_mode(CertificateMode::SniOnly);
    let _ = check(&sni, &code, Policy::strict(), now);
});
