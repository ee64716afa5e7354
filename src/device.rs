//! Device certificates: their rules, RegisterCertificate(WithoutCA) and their life, the CA a
//! registration or a connection is decided against, and the connect decision (JITR, JITP).

pub(crate) mod certificate;
pub(crate) mod connect;
pub(crate) mod issued;
pub(crate) mod jitp;
pub(crate) mod lifecycle;
pub(crate) mod register;
pub(crate) mod registered_ca;
