//! `iot-ca-server`: the [`iot_ca`] decision core as a real, multi-account AWS IoT endpoint.
//!
//! * [`http`]: HTTP/1.1 serving with a connection limit, header/body/idle timeouts, a 128 KiB
//!   body limit, SigV4 on every request, one log line per request, and a graceful stop.
//! * [`sigv4`]: AWS Signature Version 4 verification (service `iot`), and the signing that a
//!   client (the load generator in `examples/load.rs`) does with the same rule.
//! * [`route`]: botocore's REST-JSON routes; [`service`]: the operations.
//! * [`store`]: the [`store::Store`] trait and its SQLite and PostgreSQL implementations, which
//!   keep the registry's rules atomic in SQL.
//! * [`error`]: every error in AWS's REST-JSON shape.
//! * [`mqtt`]: the device endpoint, MQTT 3.1.1 and 5 over mutual TLS, where devices connect
//!   and just-in-time registration and provisioning happen.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod admission;
pub mod error;
pub mod hook;
pub mod http;
pub mod mqtt;
pub mod route;
pub mod service;
pub mod sigv4;
pub mod store;
