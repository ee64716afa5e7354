//! Connected certificates that stop being ACTIVE are disconnected **(our rule; AWS IoT does the
//! same within seconds)**: every [`super::MqttLimits::status_interval`] (2 s by default), the
//! statuses of the certificates connected to this process are read from the store, so a change
//! made through any process sharing it (UpdateCertificate to INACTIVE or REVOKED,
//! DeleteCertificate) ends their connections within about that interval. One query per 200
//! connected certificates, on a blocking thread.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::SystemTime;

use iot_ca::UnixTime;

use tokio::sync::watch;

use super::Endpoint;
use super::broker::Kick;
use crate::store::Store;
use crate::store::{devices, fleet};

/// Re-reads the connected certificates' statuses until `shutdown`.
pub(super) async fn watch_statuses<S: Store>(endpoint: Arc<Endpoint<S>>, mut shutdown: watch::Receiver<bool>) {
    let interval = endpoint.config.limits.status_interval;
    loop {
        tokio::select! {
            _ = shutdown.wait_for(|stop| *stop) => return,
            () = tokio::time::sleep(interval) => {}
        }
        let connected = endpoint.broker.certificates();
        if connected.is_empty() {
            continue;
        }
        let wanted: Vec<_> = connected.iter().map(|(_, account, id)| (account.clone(), id.clone())).collect();
        let region = endpoint.config.region.clone();
        let statuses = match endpoint.store.read(move |tx| devices::certificate_statuses(tx, &region, &wanted)).await {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "re-reading the connected certificates' statuses failed");
                continue;
            }
        };
        let mut unregistered: Vec<_> =
            connected.iter().zip(&statuses).filter(|(_, s)| s.is_none()).map(|((_, _, id), _)| id.clone()).collect();
        unregistered.sort();
        unregistered.dedup();
        let claims = if unregistered.is_empty() {
            BTreeMap::new()
        } else {
            let region = endpoint.config.region.clone();
            let read = endpoint.store.read(move |tx| {
                let mut found = BTreeMap::new();
                for id in unregistered {
                    if let Some(claim) = fleet::claim(tx, &region, &id)? {
                        found.insert(id, claim);
                    }
                }
                Ok(found)
            });
            match read.await {
                Ok(found) => found,
                Err(e) => {
                    tracing::warn!(error = %e, "re-reading the connected claims failed");
                    continue;
                }
            }
        };
        let now = UnixTime::from_system_time(SystemTime::now());
        for ((connection, account, id), status) in connected.iter().zip(statuses) {
            match (status, claims.get(id)) {
                (Some(iot_ca::CertificateStatus::Active), _) => {}
                (None, Some((owner, claim))) if owner == account => {
                    if !claim.is_live(now) {
                        endpoint.broker.kick(*connection, Kick::ClaimExpired(claim.expiration));
                    }
                }
                (other, _) => endpoint.broker.kick(*connection, Kick::Certificate(other)),
            }
        }
    }
}
