//! The decoders of things, policies, templates and issued certificates: the bytes split at the
//! first two NULs into a path parameter, a query string and a JSON body, fed to each.
#![no_main]

use iot_ca::{AccountId, AccountScope, Region, wire};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let mut parts = text.splitn(3, '\0');
    let (path, query, body) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let (Ok(account), Ok(region)) = (AccountId::parse("123456789012"), Region::parse("us-east-1")) else { return };
    let scope = AccountScope::new(account, region);
    let _ = wire::create_thing_request_from_rest(path, body);
    let _ = wire::update_thing_request_from_rest(path, body);
    let _ = wire::delete_thing_request_from_rest(path, query);
    let _ = wire::list_things_query_from_rest(query);
    let _ = wire::create_thing_type_request_from_rest(path, body);
    let _ = wire::create_thing_group_request_from_rest(path, body);
    let _ = wire::add_thing_to_thing_group_request_from_json(body, &scope);
    let _ = wire::create_policy_request_from_rest(path, body);
    let _ = wire::policy_target_from_json(body, &scope);
    let _ = wire::list_attached_policies_request_from_rest(path, query, &scope);
    let _ = wire::principal_from_header(Some(path), &scope);
    let _ = wire::list_registry_query_from_rest(query);
    let _ = wire::create_template_request_from_json(body);
    let _ = wire::update_template_request_from_rest(path, body);
    let _ = wire::create_template_version_request_from_rest(path, query, body);
    let _ = wire::register_thing_request_from_json(body);
    let _ = wire::certificate_signing_request_from_json(body);
    let _ = wire::endpoint_type_from_query(query);
    if let Ok(value) = serde_json::from_str::<serde_json::Value>(body) {
        let _ = wire::thing_from_json(&value);
        let _ = wire::policy_from_json(&value);
        let _ = wire::thing_group_from_json(&value);
        let _ = wire::thing_type_from_json(&value);
        let _ = wire::template_record_from_json(&value);
    }
});
