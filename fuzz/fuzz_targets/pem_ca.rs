//! A CA certificate field: PEM text (or raw DER) through the CA checks.
#![no_main]

use iot_ca::{Policy, UnixTime, VerifiedCa};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let now = UnixTime::from_secs(1_767_225_600);
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = VerifiedCa::from_pem(text, now, Policy::default());
    }
    let _ = VerifiedCa::from_der(data.to_vec(), now, Policy::strict());
});
