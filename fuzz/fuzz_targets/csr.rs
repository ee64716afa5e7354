//! A certification request field: PEM text, or raw DER, through the strict PKCS#10 parser and,
//! when it parses, the key policy and the self-signature.
#![no_main]

use iot_ca::{Backend, ParsedCsr};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = ParsedCsr::from_pem(text).map(|csr| csr.verify(Backend::RustCrypto));
    }
    let _ = ParsedCsr::from_der(data.to_vec()).map(|csr| csr.verify(Backend::RustCrypto));
});
