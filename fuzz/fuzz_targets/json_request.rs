//! The `--cli-input-json` request decoder (feature `serde`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = iot_ca::wire::register_request_from_json(text);
    }
});
