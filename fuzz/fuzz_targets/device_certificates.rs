//! RegisterCertificate and the connect decision on arbitrary bytes: the first byte splits the
//! rest into a device certificate and a CA certificate (PEM when UTF-8 with a BEGIN line, else
//! hex that reaches the PEM error paths); the CA is registered when it parses, and the device
//! is registered, then connects with the two as its chain.
#![no_main]

use core::convert::Infallible;

use iot_ca::rand_core::{TryCryptoRng, TryRng};
use iot_ca::{
    AccountId, AccountScope, AutoRegistrationStatus, CaStatus, CertificateFacts, ConnectFacts, Connection, Policy,
    Region, RegisterCertificateRequest, RegisteredCa, UnixTime, admit_certificate, check_certificate, decide_connect,
};
use libfuzzer_sys::fuzz_target;

#[path = "common/field.rs"]
mod field;

use field::field;

/// A counter as the RNG: the generationId's bytes do not matter here.
struct Counter(u64);

impl TryRng for Counter {
    type Error = Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        self.0 += 1;
        Ok(self.0 as u32)
    }
    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        self.0 += 1;
        Ok(self.0)
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        dst.fill(self.0 as u8);
        self.0 += 1;
        Ok(())
    }
}

impl TryCryptoRng for Counter {}

fuzz_target!(|data: &[u8]| {
    let Some((&split, rest)) = data.split_first() else { return };
    let at = (split as usize * rest.len()) / 256;
    let (device, ca) = rest.split_at(at);
    let (device, ca) = (field(device), field(ca));
    // 2026-01-01T00:00:00Z
    let now = UnixTime::from_secs(1_767_225_600);
    let (Ok(account), Ok(region)) = (AccountId::parse("123456789012"), Region::parse("us-east-1")) else { return };
    let scope = AccountScope::new(account, region);
    let mut rng = Counter(0);
    let registered = RegisteredCa::from_pem(&ca, CaStatus::Active)
        .ok()
        .map(|c| c.with_auto_registration_status(AutoRegistrationStatus::Enable));
    for request in [
        RegisterCertificateRequest::new(device.clone()),
        RegisterCertificateRequest::new(device.clone()).with_ca_certificate_pem(ca.clone()),
    ] {
        if let Ok(candidate) = check_certificate(&request, Policy::default(), now) {
            let mut facts = CertificateFacts::new();
            if let Some(c) = &registered {
                facts = facts.with_ca(c.clone());
            }
            let _ = admit_certificate(candidate, &facts, &scope, &mut rng);
        }
    }
    if let Ok(connection) = Connection::from_pem(&format!("{device}{ca}")) {
        let mut facts = ConnectFacts::new();
        if let Some(c) = registered {
            facts = facts.with_ca(c);
        }
        for sni in [false, true] {
            let _ = decide_connect(&connection.clone().with_sni(sni), &facts, &scope, &mut rng, now);
        }
    }
});
