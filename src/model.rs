//! The AWS IoT vocabulary the API names and a store keeps: the wire enums, the account scope
//! and ARNs, certificate ids, registration codes, tags, templates, registrationConfig, the
//! stored descriptions and paging. Shapes and their constructors' rules only; the decisions
//! live in the domain folders above.

pub(crate) mod arn;
pub(crate) mod attributes;
pub(crate) mod certificate_id;
pub(crate) mod description;
pub(crate) mod enums;
pub(crate) mod names;
pub(crate) mod paging;
pub(crate) mod policy;
pub(crate) mod policy_document;
pub(crate) mod registration_code;
pub(crate) mod registration_config;
pub(crate) mod scope;
pub(crate) mod tags;
pub(crate) mod template;
