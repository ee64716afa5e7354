//! CA certificates: the CA rules and the proof type [`VerifiedCa`](verified::VerifiedCa),
//! RegisterCACertificate's two phases, the verification certificate, and the rest of a CA's
//! life.

pub(crate) mod lifecycle;
pub(crate) mod register;
pub(crate) mod request;
pub(crate) mod verification;
pub(crate) mod verified;
