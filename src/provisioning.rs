//! Provisioning: the claim certificates of fleet provisioning.

pub(crate) mod claim;
