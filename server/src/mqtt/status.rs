//! Connected certificates that stop being ACTIVE are disconnected **(our rule; AWS IoT does the
//! same within seconds)**: every [`super::MqttLimits::status_interval`] (2 s by default), the
//! statuses of the certificates connected to this process are read from the store, so a change
//! made through any process sharing it (UpdateCertificate to INACTIVE or REVOKED,
//! DeleteCertificate) ends their connections within about that interval. One query per 200
//! connected certificates, on a blocking thread.

use std::sync::Arc;

use tokio::sync::watch;

use super::Endpoint;
use super::broker::Kick;
use crate::store::Store;
use crate::store::devices;

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
        for ((id, _, _), status) in connected.iter().zip(statuses) {
            match status {
                Some(iot_ca::CertificateStatus::Active) => {}
                other => endpoint.broker.kick(*id, Kick::Certificate(other)),
            }
        }
    }
}
