//! Differential: whatever `ParsedCertificate::from_der` accepts, x509-cert's DER decoder accepts
//! with the same serial, issuer, subject, SPKI and signature bytes (oracle shared with
//! tests/strict_der.rs).
#![no_main]

#[path = "../../tests/support/differential.rs"]
mod differential;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(disagreement) = differential::agrees(data) {
        panic!("{disagreement}");
    }
});
