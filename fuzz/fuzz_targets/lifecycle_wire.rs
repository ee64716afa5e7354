//! The CA lifecycle decoders (feature `serde`): the bytes split at the first two NULs into a
//! path id, a query string and a JSON body, fed to every decoder and to a marker read.
#![no_main]

use iot_ca::{AccountId, AccountScope, MarkerKey, Region, list_ca_certificates, wire};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let mut parts = text.splitn(3, '\0');
    let (path, query, body) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let (Ok(account), Ok(region)) = (AccountId::parse("123456789012"), Region::parse("us-east-1")) else { return };
    let scope = AccountScope::new(account, region);
    let _ = wire::ca_certificate_id_from_path(path);
    let _ = wire::update_ca_certificate_request_from_rest(path, query, body);
    let _ = wire::tag_resource_request_from_json(body, &scope);
    let _ = wire::untag_resource_request_from_json(body, &scope);
    let _ = wire::list_tags_for_resource_request_from_rest(query, &scope);
    if let Ok(q) = wire::list_ca_certificates_query_from_rest(query) {
        let _ = list_ca_certificates(&[], &q, &scope, &MarkerKey::new([7; 32]));
    }
});
