//! The connect decision, live: which account a device belongs to, the library's
//! [`iot_ca::decide_connect`] against that account's registry, and what the decision asks
//! for (the JITR registration and its event, the JITP provisioning).
//!
//! The device's account (README, "The device endpoint"): among the registries of the
//! listener's region, those that hold its certificate or have a CA that signed it
//! (issuer byte-equal and signature verified). One → that one. Several → the one SNI
//! `<accountId>.<endpoint address>` names, else refused **(our rule)**. SNI naming an account
//! always picks that account. None → decided without facts, which refuses with the library's
//! reason (no registered CA, or what is wrong with the certificate).

use std::sync::Arc;
use std::time::SystemTime;

use iot_ca::{
    AccountId, AccountScope, CertificateId, CertificateRecord, ConnectDecision, ConnectFacts, Connection, RegisteredCa,
    RegisteredEvent, UnixTime,
};
use mqtt_protocol_core::mqtt::IntoPayload;
use mqtt_protocol_core::mqtt::packet::Qos;

use super::Endpoint;
use super::broker::Delivery;
use super::topic::sni_account;
use crate::service::blocking;
use crate::store::Store;
use crate::store::devices::{self, Candidate};

/// What happens to a CONNECT.
#[derive(Debug)]
pub enum Verdict {
    /// CONNACK accepted: the device's account and certificate.
    Accept {
        /// The device's account, in the listener's region.
        scope: AccountScope,
        /// Its certificate.
        certificate_id: CertificateId,
    },
    /// CONNACK refused: 5 (MQTT 3.1.1) / 0x87 Not authorized (MQTT 5) with `reason`, or when
    /// `unavailable`, 3 / 0x88 Server unavailable (the store failed; try again).
    Refuse {
        /// The presented certificate's id, when there is one.
        certificate_id: Option<CertificateId>,
        /// The account the decision was made against, when one was found.
        account: Option<AccountId>,
        /// Why, as the reason string says it.
        reason: String,
        /// The fault is the server's, not the device's.
        unavailable: bool,
    },
}

impl Verdict {
    fn refuse(certificate_id: Option<CertificateId>, account: Option<AccountId>, reason: impl Into<String>) -> Self {
        Self::Refuse { certificate_id, account, reason: reason.into(), unavailable: false }
    }

    /// The server's fault: the store failed (`store`), or the decision's thread did.
    fn unavailable(certificate_id: CertificateId, account: Option<AccountId>, store: bool) -> Self {
        let reason = if store { "the registry could not be reached; try again" } else { "internal failure; try again" };
        Self::Refuse { certificate_id: Some(certificate_id), account, reason: reason.into(), unavailable: true }
    }
}

fn now() -> UnixTime {
    UnixTime::from_system_time(SystemTime::now())
}

/// The account chosen for a device, and the decision against its registry.
struct Decided {
    account: Option<AccountId>,
    decision: Result<ConnectDecision, String>,
}

/// Decides a CONNECT from a device that presented `chain` (DER, its certificate first), with
/// `sni` as the name it sent, and does what the decision asks.
pub async fn decide<S: Store>(endpoint: &Arc<Endpoint<S>>, chain: Vec<Vec<u8>>, sni: Option<String>) -> Verdict {
    let Some(first) = chain.first() else {
        return Verdict::refuse(None, None, "no client certificate was presented in the TLS handshake");
    };
    let certificate_id = CertificateId::of_der(first);
    let sent_sni = sni.is_some();
    let parsed = blocking(move || Connection::from_der(chain).map(|c| c.with_sni(sent_sni))).await;
    let connection = match parsed {
        Ok(Ok(connection)) => Arc::new(connection),
        Ok(Err(e)) => {
            return Verdict::refuse(
                Some(certificate_id),
                None,
                format!("the presented certificate chain does not read: {e}"),
            );
        }
        Err(_) => return Verdict::unavailable(certificate_id, None, false),
    };
    let (region, id, issuer) =
        (endpoint.config.region.clone(), certificate_id.clone(), connection.issuer_der().to_vec());
    let candidates = match endpoint.store.lookup(move |tx| devices::connect_candidates(tx, &region, &id, &issuer)).await
    {
        Ok(c) => c,
        Err(_) => return Verdict::unavailable(certificate_id, None, true),
    };
    let named = sni.as_deref().and_then(|s| sni_account(s, &endpoint.config.endpoint_address)).map(str::to_owned);
    let region = endpoint.config.region.clone();
    let decider = Arc::clone(&connection);
    let decided = blocking(move || choose_and_decide(&decider, candidates, named.as_deref(), &region)).await;
    let Ok(Decided { account, decision }) = decided else {
        return Verdict::unavailable(certificate_id, None, false);
    };
    let decision = match decision {
        Ok(d) => d,
        Err(reason) => return Verdict::refuse(Some(certificate_id), account, reason),
    };
    act(endpoint, decision, account).await
}

/// Picks the device's account among `candidates` (SNI `named` first) and decides against it.
fn choose_and_decide(
    connection: &Connection,
    candidates: Vec<Candidate>,
    named: Option<&str>,
    region: &iot_ca::Region,
) -> Decided {
    let mut theirs: Vec<(Candidate, Vec<RegisteredCa>)> = candidates
        .into_iter()
        .map(|c| {
            let signers = c
                .cas
                .iter()
                .filter_map(|d| RegisteredCa::from_description(d).ok())
                .filter(|ca| connection.is_signed_by(ca))
                .collect::<Vec<_>>();
            (c, signers)
        })
        .filter(|(c, signers)| {
            c.record.is_some() || c.claim.is_some() || !signers.is_empty() || Some(c.account.as_str()) == named
        })
        .collect();
    let chosen = match named {
        Some(account) => theirs.into_iter().find(|(c, _)| c.account.as_str() == account),
        None if theirs.len() > 1 => {
            return Decided {
                account: None,
                decision: Err(format!(
                    "the certificate is known to {} accounts in {}; name one with SNI <accountId>.<endpoint address>",
                    theirs.len(),
                    region.as_str()
                )),
            };
        }
        None => theirs.pop(),
    };
    let (account, facts) = match chosen {
        Some((candidate, signers)) => {
            let mut facts = ConnectFacts::new();
            if let Some(record) = &candidate.record {
                facts = facts.with_record(CertificateRecord::from(record));
            }
            if let Some(claim) = &candidate.claim {
                facts = facts.with_claim(claim.clone());
            }
            for ca in signers {
                let template = ca.registration_config().and_then(iot_ca::RegistrationConfig::template_name);
                if let Some((_, body)) = candidate.templates.iter().find(|(name, _)| Some(name) == template) {
                    facts = facts.with_template_body(body.clone());
                }
                facts = facts.with_ca(ca);
            }
            (Some(candidate.account), facts)
        }
        None => (None, ConnectFacts::new()),
    };
    // Without an account the decision has no facts and can only refuse; the scope it is given
    // then names no account it acts for.
    let scope_account = account.clone().map_or_else(|| AccountId::parse("000000000000"), Ok);
    let decision = match scope_account {
        Ok(a) => Ok(iot_ca::decide_connect(
            connection,
            &facts,
            &AccountScope::new(a, region.clone()),
            &mut rand::rng(),
            now(),
        )),
        Err(e) => Err(format!("internal failure: {e}")),
    };
    Decided { account, decision }
}

/// Publishes a registered-certificate event to the subscribers of its account.
fn announce<S: Store>(endpoint: &Endpoint<S>, account: &AccountId, event: &RegisteredEvent) -> usize {
    let topic = event.topic();
    let delivery = Delivery {
        topic: topic.as_str().into(),
        payload: event.payload().into_payload(),
        qos: Qos::AtLeastOnce,
        properties: Arc::new([]),
    };
    endpoint.broker.publish(account, &topic, &delivery, None)
}

/// Does what `decision` asks for, against `account`'s registry.
async fn act<S: Store>(endpoint: &Arc<Endpoint<S>>, decision: ConnectDecision, account: Option<AccountId>) -> Verdict {
    let certificate_id = decision.certificate_id().clone();
    let Some(account) = account else {
        let reason = match decision {
            ConnectDecision::Refuse { reason, .. } => reason.to_string(),
            other => format!("internal failure: {} without an account", other.name()),
        };
        return Verdict::refuse(Some(certificate_id), None, reason);
    };
    let scope = AccountScope::new(account.clone(), endpoint.config.region.clone());
    match decision {
        ConnectDecision::Connect { .. } => Verdict::Accept { scope, certificate_id },
        ConnectDecision::Refuse { reason, event, .. } => {
            if let Some(event) = &event {
                announce(endpoint, &account, event);
            }
            Verdict::refuse(Some(certificate_id), Some(account), reason.to_string())
        }
        ConnectDecision::Jitr { record, event } => {
            let written = scope.clone();
            if endpoint.store.write(move |tx| devices::register_jitr(tx, &written, &record)).await.is_err() {
                return Verdict::unavailable(certificate_id, Some(account), true);
            }
            announce(endpoint, &account, &event);
            Verdict::refuse(
                Some(certificate_id),
                Some(account),
                format!(
                    "just-in-time registration: the certificate is registered PENDING_ACTIVATION under CA {}; \
                     activate it to connect",
                    event.ca_certificate_id()
                ),
            )
        }
        ConnectDecision::Jitp { record, template, .. } => {
            let written = scope.clone();
            let at = now();
            match endpoint.store.write(move |tx| devices::provision_jitp(tx, &written, &record, &template, at)).await {
                Ok(_) => Verdict::refuse(
                    Some(certificate_id),
                    Some(account),
                    "just-in-time provisioning: the certificate and its template's resources are provisioned; \
                     connect again",
                ),
                // The template's own refusal (a FAIL, a resource that conflicts) is the device's
                // reason; a store that cannot serve is not.
                Err(e) if e.status < 500 => Verdict::refuse(
                    Some(certificate_id),
                    Some(account),
                    format!("just-in-time provisioning failed: {}: {}", e.name, e.message),
                ),
                Err(_) => Verdict::unavailable(certificate_id, Some(account), true),
            }
        }
        other => Verdict::refuse(Some(certificate_id), Some(account), format!("unknown decision {}", other.name())),
    }
}
