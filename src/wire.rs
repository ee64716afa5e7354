//! AWS's JSON wire shapes (feature `wire`, on by default): the requests as the REST routes and
//! `--cli-input-json` carry them, and the responses, stored records, claims and errors as
//! botocore sees them.
//!
//! Decoders walk a `serde_json::Value` by hand so that every fault is a typed
//! [`RequestError`](crate::RequestError) naming the member, in AWS's order, and no input panics.

mod ca;
mod certificates;
mod fleet;
mod issued;
mod json;
mod lifecycle;
mod stored;
mod templates;
mod things;

pub use ca::{
    claim_to_json, description_to_json, error_to_json, findings_to_json, register_request_from_json,
    register_request_from_rest, register_response_to_json, registration_code_to_json, registration_config_to_json,
    registration_to_json,
};
pub use certificates::{
    TemplateEntry, certificate_description_to_json, certificate_entry_to_json, certificate_id_from_path,
    certificate_registration_to_json, connect_decision_to_json, delete_certificate_request_from_rest,
    describe_certificate_response_to_json, list_certificates_by_ca_request_from_rest,
    list_certificates_query_from_rest, list_certificates_response_to_json, refuse_reason_code,
    register_certificate_request_from_json, register_certificate_request_from_rest,
    register_certificate_response_to_json, register_certificate_without_ca_request_from_json, template_facts_from_json,
    update_certificate_request_from_rest,
};
pub use fleet::{
    FleetRequest, PayloadFormat, create_from_csr_accepted, create_from_csr_request_from_value, create_keys_accepted,
    create_keys_request_from_value, fleet_payload_to_value, fleet_request_topic, fleet_value_to_payload,
    is_fleet_response_filter, register_thing_accepted, register_thing_fleet_request_from_value, rejection_to_value,
};
pub use issued::{
    ENDPOINT_TYPES, certificate_signing_request_from_json, endpoint_type_from_query, issued_certificate_to_json,
    set_as_active_from_query, thing_principal_type_from_query,
};
pub use json::{MAX_REQUEST_JSON_BYTES, TimeFormat, request_document, tags_to_json};
pub use lifecycle::{
    ca_certificate_entry_to_json, ca_certificate_id_from_path, describe_ca_certificate_response_to_json,
    list_ca_certificates_query_from_rest, list_ca_certificates_response_to_json,
    list_tags_for_resource_request_from_rest, list_tags_for_resource_response_to_json, tag_resource_request_from_json,
    untag_resource_request_from_json, update_ca_certificate_request_from_rest,
};
pub use stored::{ca_record_from_json, ca_record_to_json, certificate_record_from_json, certificate_record_to_json};
pub use templates::{
    MAX_PARAMETER_NAME_CHARS, MAX_PARAMETER_VALUE_CHARS, MAX_PARAMETERS, create_template_request_from_json,
    create_template_response_to_json, create_template_version_request_from_rest,
    create_template_version_response_to_json, list_template_versions_response_to_json, list_templates_query_from_rest,
    list_templates_response_to_json, plan_to_json, register_thing_request_from_json, register_thing_response_to_json,
    template_parameters_from_json, template_parameters_to_json, template_record_from_json, template_record_to_json,
    template_to_json, template_version_id_from_path, template_version_to_json, update_template_request_from_rest,
};
pub use things::{
    ThingFilter, add_thing_to_thing_group_request_from_json, create_policy_request_from_rest,
    create_policy_response_to_json, create_thing_group_request_from_rest, create_thing_group_response_to_json,
    create_thing_request_from_rest, create_thing_response_to_json, create_thing_type_request_from_rest,
    create_thing_type_response_to_json, delete_thing_request_from_rest, list_attached_policies_request_from_rest,
    list_policies_query_from_rest, list_policies_response_to_json, list_principal_things_response_to_json,
    list_registry_query_from_rest, list_targets_for_policy_query_from_rest, list_targets_for_policy_response_to_json,
    list_thing_principals_response_to_json, list_things_query_from_rest, list_things_response_to_json,
    policy_from_json, policy_target_from_json, policy_to_json, principal_from_header, thing_from_json,
    thing_group_from_json, thing_group_to_json, thing_to_json, thing_type_from_json, thing_type_to_json,
    update_thing_request_from_rest,
};
