//! The provisioning template engine: bytes as a template body, parsed as each template type,
//! bound to a few parameters and planned against empty facts; nothing may panic.
#![no_main]

use iot_ca::{AccountId, AccountScope, PlanFacts, ProvisioningTemplate, Region, TemplateParameters, TemplateType, UnixTime};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (Ok(account), Ok(region)) = (AccountId::parse("123456789012"), Region::parse("us-east-1")) else { return };
    let scope = AccountScope::new(account, region);
    let parameters = TemplateParameters::from_pairs([("ThingName", "t1"), ("SerialNumber", "a:b:c"), ("N", "1")]);
    let mut rng = <chacha20::ChaCha20Rng as iot_ca::rand_core::SeedableRng>::seed_from_u64(1);
    for kind in [None, Some(TemplateType::Jitp), Some(TemplateType::FleetProvisioning)] {
        if let Ok(template) = ProvisioningTemplate::parse(text, kind)
            && let Ok(bound) = template.bind(&parameters)
        {
            let _ = iot_ca::plan(&bound, &PlanFacts::new(), &scope, &mut rng, UnixTime::from_secs(1_767_225_600));
        }
    }
});
