//! Topic names and filters (MQTT 3.1.1 and 5.0 §4.7), the reserved `$aws/` topics a device
//! may use here, and the SNI name that picks an account.
//!
//! The codec validates neither names nor filters (it accepts `a/#/b` and a PUBLISH to `a/+`),
//! so every one a device sends is checked here before it is used.

/// Longest topic name or filter, in bytes (AWS IoT quota "Topic size": 256 bytes of UTF-8).
pub const MAX_TOPIC_BYTES: usize = 256;

/// The prefix of AWS IoT's reserved topics.
const AWS_PREFIX: &str = "$aws/";

/// A topic name a PUBLISH may carry: not empty, at most [`MAX_TOPIC_BYTES`], no wildcard and
/// no NUL (MQTT §4.7.1, §1.5.4).
#[must_use]
pub fn valid_topic(topic: &str) -> bool {
    !topic.is_empty() && topic.len() <= MAX_TOPIC_BYTES && !topic.contains(['+', '#', '\0'])
}

/// A topic filter a SUBSCRIBE may carry: not empty, at most [`MAX_TOPIC_BYTES`], no NUL, `#`
/// only as the whole last level, `+` only as a whole level (MQTT §4.7.1).
#[must_use]
pub fn valid_filter(filter: &str) -> bool {
    if filter.is_empty() || filter.len() > MAX_TOPIC_BYTES || filter.contains('\0') {
        return false;
    }
    let mut levels = filter.split('/').peekable();
    while let Some(level) = levels.next() {
        let last = levels.peek().is_none();
        if level.contains('#') && !(level == "#" && last) {
            return false;
        }
        if level.contains('+') && level != "+" {
            return false;
        }
    }
    true
}

/// Whether `filter` (valid) matches `topic` (valid). A topic starting with `$` is not matched
/// by a wildcard in the first level (MQTT §4.7.2); `a/#` matches `a` (§4.7.1.2).
#[must_use]
pub fn matches(filter: &str, topic: &str) -> bool {
    if topic.starts_with('$') && (filter.starts_with('+') || filter.starts_with('#')) {
        return false;
    }
    let (mut f, mut t) = (filter.split('/'), topic.split('/'));
    loop {
        match (f.next(), t.next()) {
            (Some("#"), _) | (None, None) => return true,
            (Some("+"), Some(_)) => {}
            (Some(a), Some(b)) if a == b => {}
            _ => return false,
        }
    }
}

/// What a device may do with a topic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Use {
    /// An ordinary topic: fanned out to the subscribers of the device's account.
    Ordinary,
    /// A fleet-provisioning request (`$aws/certificates/create/json`, …): answered to the
    /// requesting connection only.
    FleetProvisioning,
    /// A reserved topic a device may subscribe to (the JITR event; the fleet-provisioning
    /// answers).
    Reserved,
    /// A reserved topic not served here: the device is disconnected.
    Forbidden,
}

fn is_reserved(topic: &str) -> bool {
    topic.starts_with(AWS_PREFIX) || topic == "$aws"
}

/// What a PUBLISH to `topic` (valid) is: ordinary, a fleet-provisioning request, or a
/// reserved topic not served (the registered-certificate events are published by the
/// endpoint, never by a device).
#[must_use]
pub fn publish_use(topic: &str) -> Use {
    if !is_reserved(topic) {
        return Use::Ordinary;
    }
    if iot_ca::wire::fleet_request_topic(topic).is_some() { Use::FleetProvisioning } else { Use::Forbidden }
}

/// What a SUBSCRIBE to `filter` (valid) is: ordinary; reserved and allowed
/// (`$aws/events/certificates/registered/<caCertificateId>` or `+`/`#` there, and the
/// fleet-provisioning `…/accepted` and `…/rejected`, or `+`/`#` in their place); or reserved
/// and not served.
#[must_use]
pub fn subscribe_use(filter: &str) -> Use {
    if !is_reserved(filter) {
        return Use::Ordinary;
    }
    let levels: Vec<&str> = filter.split('/').skip(1).collect();
    let allowed = match levels.as_slice() {
        ["events", "certificates", "registered", ca] => !ca.is_empty(),
        _ => iot_ca::wire::is_fleet_response_filter(filter),
    };
    if allowed { Use::Reserved } else { Use::Forbidden }
}

/// The account an SNI name picks: `<accountId>.<endpoint address>` (our rule, for devices
/// whose certificate several accounts of a region know). Case is ignored, as in DNS.
#[must_use]
pub fn sni_account<'a>(sni: &'a str, endpoint_address: &str) -> Option<&'a str> {
    let split = sni.len().checked_sub(endpoint_address.len() + 1)?;
    let (account, rest) = (sni.get(..split)?, sni.get(split..)?);
    let named = rest.strip_prefix('.')?.eq_ignore_ascii_case(endpoint_address);
    (named && account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit())).then_some(account)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_names() {
        assert!(valid_topic("a/b") && valid_topic("/") && valid_topic("$aws/x"));
        assert!(!valid_topic("") && !valid_topic("a/+") && !valid_topic("a/#") && !valid_topic("a\0"));
        assert!(valid_topic(&"a".repeat(256)) && !valid_topic(&"a".repeat(257)));
    }

    #[test]
    fn topic_filters() {
        for ok in ["#", "+", "a/#", "a/+/c", "+/+", "/", "a//b", "$aws/events/certificates/registered/+"] {
            assert!(valid_filter(ok), "{ok}");
        }
        for bad in ["", "a/#/b", "a#", "a+/b", "#/a", "a/b#", "++", "a\0"] {
            assert!(!valid_filter(bad), "{bad}");
        }
        assert!(!valid_filter(&"a".repeat(257)));
    }

    #[test]
    fn matching() {
        for (f, t) in [
            ("a/+/c", "a/b/c"),
            ("a/#", "a"),
            ("a/#", "a/b/c"),
            ("#", "a/b"),
            ("a/+", "a/"),
            ("+/+", "/x"),
            ("+", "a"),
            ("a/b", "a/b"),
            ("$aws/events/certificates/registered/+", "$aws/events/certificates/registered/abc"),
            ("$aws/things/+/shadow/#", "$aws/things/t1/shadow/update"),
        ] {
            assert!(matches(f, t), "{f} should match {t}");
        }
        for (f, t) in [
            ("#", "$SYS/x"),
            ("+/x", "$aws/x"),
            ("+", "a/b"),
            ("sport/+", "sport"),
            ("a/b", "a/b/c"),
            ("a/b/c", "a/b"),
            ("a/+/c", "a/b/d"),
            ("+/+", "a"),
        ] {
            assert!(!matches(f, t), "{f} should not match {t}");
        }
    }

    #[test]
    fn reserved_publishes() {
        assert_eq!(publish_use("dt/device/temp"), Use::Ordinary);
        assert_eq!(publish_use("$SYS/x"), Use::Ordinary);
        for fleet in [
            "$aws/certificates/create/json",
            "$aws/certificates/create/cbor",
            "$aws/certificates/create-from-csr/json",
            "$aws/provisioning-templates/Fleet/provision/cbor",
        ] {
            assert_eq!(publish_use(fleet), Use::FleetProvisioning, "{fleet}");
        }
        for forbidden in [
            "$aws",
            "$aws/things/t/shadow/update",
            "$aws/events/certificates/registered/abc",
            "$aws/certificates/create/xml",
            "$aws/certificates/create/json/accepted",
            "$aws/provisioning-templates//provision/json",
        ] {
            assert_eq!(publish_use(forbidden), Use::Forbidden, "{forbidden}");
        }
    }

    #[test]
    fn reserved_subscriptions() {
        assert_eq!(subscribe_use("#"), Use::Ordinary);
        assert_eq!(subscribe_use("+/x"), Use::Ordinary);
        for allowed in [
            "$aws/events/certificates/registered/+",
            "$aws/events/certificates/registered/#",
            "$aws/events/certificates/registered/0123abcd",
            "$aws/certificates/create/json/accepted",
            "$aws/certificates/create/cbor/rejected",
            "$aws/certificates/create-from-csr/json/+",
            "$aws/provisioning-templates/Fleet/provision/json/accepted",
            "$aws/provisioning-templates/Fleet/provision/json/#",
        ] {
            assert_eq!(subscribe_use(allowed), Use::Reserved, "{allowed}");
        }
        for forbidden in [
            "$aws/#",
            "$aws/+/x",
            "$aws/events/#",
            "$aws/events/certificates/registered",
            "$aws/things/t/shadow/update/accepted",
            "$aws/certificates/create/json",
            "$aws/provisioning-templates/+/provision/json/accepted",
            "$aws/rules/r",
        ] {
            assert_eq!(subscribe_use(forbidden), Use::Forbidden, "{forbidden}");
        }
    }

    #[test]
    fn sni_names_an_account() {
        assert_eq!(sni_account("123456789012.iot.example", "iot.example"), Some("123456789012"));
        assert_eq!(sni_account("123456789012.IOT.Example", "iot.example"), Some("123456789012"));
        assert_eq!(sni_account("iot.example", "iot.example"), None);
        assert_eq!(sni_account("12345678901.iot.example", "iot.example"), None);
        assert_eq!(sni_account("12345678901x.iot.example", "iot.example"), None);
        assert_eq!(sni_account("123456789012xiot.example", "iot.example"), None);
        assert_eq!(sni_account("a.123456789012.iot.example", "iot.example"), None);
        assert_eq!(sni_account("x", "iot.example"), None);
        assert_eq!(sni_account("é23456789012.localhost", "localhost"), None);
    }
}
