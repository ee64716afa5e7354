//! Things, thing types and groups, IoT policies and their attachments (rules 10.1–10.2): the
//! registry resources every provisioning flow writes. Each operation is a pure decision over
//! what the caller's store holds.

pub(crate) mod groups;
pub(crate) mod policies;
pub(crate) mod things;
