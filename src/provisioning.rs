//! Provisioning: the claim certificates of fleet provisioning, and provisioning templates:
//! their engine (parse, bind, plan) that RegisterThing, just-in-time provisioning and fleet
//! provisioning share.

pub(crate) mod claim;
pub(crate) mod fleet;
pub(crate) mod plan;
pub(crate) mod template;
pub(crate) mod templates;
