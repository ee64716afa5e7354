//! The store's side of fleet provisioning, written once over a [`Tx`]: the claims
//! CreateProvisioningClaim issued (a claim certificate is not an account certificate, but a
//! device connecting with one must be found in its account until the claim's notAfter), the
//! certificates made over MQTT with their ownership tokens (one row each, deleted by the
//! RegisterThing that uses it: a token works once), and the sweep that deletes what nobody
//! provisioned before its token expired.

use iot_ca::{
    AccountId, AccountScope, CertificateDescription, CertificateId, ClaimRecord, Region, TemplateName, UnixTime,
};

use super::ops;
use super::sql::{Tx, params};
use crate::error::ApiError;

fn keys(scope: &AccountScope) -> (&str, &str) {
    (scope.account().as_str(), scope.region().as_str())
}

/// Keeps the claim CreateProvisioningClaim issued: its id, for `template`, until `not_after`.
pub fn record_claim(
    tx: &mut dyn Tx,
    scope: &AccountScope,
    claim: &CertificateId,
    template: &TemplateName,
    not_after: UnixTime,
) -> Result<(), ApiError> {
    let (a, r) = keys(scope);
    tx.execute(
        "INSERT INTO claims (region, id, account, template_name, not_after) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT DO NOTHING",
        params![r, claim.as_str(), a, template.as_str(), not_after.as_secs()],
    )?;
    Ok(())
}

/// The claim `claim` of `region`, live or not, with the account that issued it (the caller
/// decides on its expiry: `iot_ca::ClaimRecord::is_live`).
pub fn claim(
    tx: &mut dyn Tx,
    region: &Region,
    claim: &CertificateId,
) -> Result<Option<(AccountId, ClaimRecord)>, ApiError> {
    let row = tx.query_opt(
        "SELECT account, template_name, not_after FROM claims WHERE region = ?1 AND id = ?2",
        params![region.as_str(), claim.as_str()],
    )?;
    row.map(|row| {
        Ok((
            AccountId::parse(&row.text(0)?).map_err(ApiError::internal)?,
            ClaimRecord::new(
                TemplateName::parse(&row.text(1)?).map_err(ApiError::internal)?,
                UnixTime::from_secs(row.int(2)?),
            ),
        ))
    })
    .transpose()
}

/// Stores a certificate made over MQTT (PENDING_ACTIVATION) with its ownership token's expiry.
pub fn insert_fleet_certificate(
    tx: &mut dyn Tx,
    scope: &AccountScope,
    d: &CertificateDescription,
    token_expires: UnixTime,
) -> Result<(), ApiError> {
    let (a, r) = keys(scope);
    ops::insert_certificate(tx, scope, d)?;
    tx.execute(
        "INSERT INTO ownership_tokens (account, region, certificate_id, expires) VALUES (?1, ?2, ?3, ?4)",
        params![a, r, d.certificate_id.as_str(), token_expires.as_secs()],
    )?;
    Ok(())
}

/// Uses the ownership token of `certificate`: `true` when it was there (and is now gone), in
/// the transaction that provisions with it.
pub fn take_token(tx: &mut dyn Tx, scope: &AccountScope, certificate: &CertificateId) -> Result<bool, ApiError> {
    let (a, r) = keys(scope);
    let n = tx.execute(
        "DELETE FROM ownership_tokens WHERE account = ?1 AND region = ?2 AND certificate_id = ?3",
        params![a, r, certificate.as_str()],
    )?;
    Ok(n > 0)
}

/// Deletes the certificates made over MQTT whose token expired before `now` while they were
/// still PENDING_ACTIVATION (the library's rule, `iot_ca::sweeps`) and attached to no thing or
/// policy (AWS: "has not been activated and has not been attached"), and the expired tokens.
/// Answers how many expired tokens it looked at (at most `limit`: another call is due when it
/// is `limit`) and how many certificates went.
pub fn sweep(tx: &mut dyn Tx, now: UnixTime, limit: u32) -> Result<(usize, usize), ApiError> {
    let rows = tx.query(
        "SELECT account, region, certificate_id, expires FROM ownership_tokens WHERE expires < ?1
         ORDER BY expires LIMIT ?2",
        params![now.as_secs(), i64::from(limit)],
    )?;
    let mut deleted = 0;
    for row in &rows {
        let (account, region, id) = (row.text(0)?, row.text(1)?, row.text(2)?);
        let scope = AccountScope::new(
            AccountId::parse(&account).map_err(ApiError::internal)?,
            Region::parse(&region).map_err(ApiError::internal)?,
        );
        let id = CertificateId::parse(&id).ok_or_else(|| ApiError::internal("a swept token's id"))?;
        let expires = UnixTime::from_secs(row.int(3)?);
        let arn = iot_ca::ResourceArn::new(&scope, iot_ca::ResourceType::Certificate, id.clone());
        if let Some(d) = ops::certificate(tx, &scope, &id)?
            && iot_ca::sweeps(d.status, expires, now)
            && !super::things::certificate_attached(tx, &scope, &arn)?
        {
            tx.execute(
                "DELETE FROM certificates WHERE account = ?1 AND region = ?2 AND id = ?3",
                params![account.as_str(), region.as_str(), id.as_str()],
            )?;
            deleted += 1;
        }
        take_token(tx, &scope, &id)?;
    }
    Ok((rows.len(), deleted))
}

#[cfg(test)]
mod tests {
    use chacha20::ChaCha20Rng;
    use iot_ca::{CertificateStatus, IssueParams, ParsedCertificate};
    use rand::SeedableRng;

    use super::*;
    use crate::store::{SqliteStore, Store};

    /// 2027-01-15T00:00:00Z: every time here is fixed.
    const T: i64 = 1_800_000_000;

    fn scope() -> AccountScope {
        AccountScope::new(AccountId::parse("123456789012").unwrap(), Region::parse("eu-west-1").unwrap())
    }

    /// `n` certificates issued PENDING_ACTIVATION by one seeded P-256 issuer, as fleet
    /// provisioning's CreateKeysAndCertificate makes them.
    fn issued(n: usize) -> Vec<CertificateDescription> {
        let mut rng = ChaCha20Rng::seed_from_u64(24);
        let key = p256::ecdsa::SigningKey::from_slice(&[7; 32]).unwrap();
        let params =
            iot_ca::CaCertificateParams::new("CN=fleet test issuer", UnixTime::from_secs(T + 86_400 * 365 * 30));
        let der = iot_ca::create_ca_certificate::<_, p256::ecdsa::DerSignature, _>(
            &params,
            &key,
            &mut rng,
            UnixTime::from_secs(T - 86_400),
        )
        .unwrap();
        let issuer = ParsedCertificate::from_der(der).unwrap();
        let params = IssueParams::new(&issuer, CertificateStatus::PendingActivation);
        (0..n)
            .map(|_| {
                iot_ca::create_keys_and_certificate::<_, p256::ecdsa::DerSignature, _>(
                    &params,
                    &key,
                    &scope(),
                    &mut rng,
                    UnixTime::from_secs(T),
                )
                .unwrap()
                .description
            })
            .collect()
    }

    async fn store() -> (SqliteStore, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        (SqliteStore::open(&dir.path().join("s.sqlite3")).await.unwrap(), dir)
    }

    #[tokio::test]
    async fn a_claim_is_found_in_its_region_with_its_account_and_expiry() {
        let (store, _dir) = store().await;
        let claim = CertificateId::parse(&"ab".repeat(32)).unwrap();
        let template = TemplateName::parse("fleet").unwrap();
        let (c, t) = (claim.clone(), template.clone());
        store.write(move |tx| record_claim(tx, &scope(), &c, &t, UnixTime::from_secs(T))).await.unwrap();
        for (region, found) in [("eu-west-1", true), ("us-east-1", false)] {
            let c = claim.clone();
            let region = Region::parse(region).unwrap();
            let stored = store.read(move |tx| super::claim(tx, &region, &c)).await.unwrap();
            assert_eq!(stored.is_some(), found, "{stored:?}");
            if let Some((account, record)) = stored {
                assert_eq!(account, *scope().account());
                assert_eq!(record, ClaimRecord::new(template.clone(), UnixTime::from_secs(T)));
                assert!(record.is_live(UnixTime::from_secs(T)) && !record.is_live(UnixTime::from_secs(T + 1)));
            }
        }
    }

    #[tokio::test]
    async fn a_token_works_once_and_the_sweep_deletes_only_what_nobody_provisioned() {
        let (store, _dir) = store().await;
        let certs = issued(4);
        for (d, expires) in certs.iter().zip([T + 3_600, T + 3_600, T + 3_600, T + 7_200]) {
            let d = d.clone();
            store
                .write(move |tx| insert_fleet_certificate(tx, &scope(), &d, UnixTime::from_secs(expires)))
                .await
                .unwrap();
        }
        // 0: provisioned (its token used, the certificate activated by the template).
        let used = certs[0].certificate_id.clone();
        let u = used.clone();
        assert!(store.write(move |tx| take_token(tx, &scope(), &u)).await.unwrap());
        let u = used.clone();
        assert!(!store.write(move |tx| take_token(tx, &scope(), &u)).await.unwrap(), "a token works once");
        let mut active = certs[0].clone();
        active.status = CertificateStatus::Active;
        store.write(move |tx| ops::write_certificate(tx, &scope(), &active)).await.unwrap();
        // 1: attached to a policy, so kept although nobody provisioned it.
        let arn =
            iot_ca::ResourceArn::new(&scope(), iot_ca::ResourceType::Certificate, certs[1].certificate_id.clone());
        store
            .write(move |tx| {
                tx.execute(
                    "INSERT INTO policy_targets (account, region, policy_name, target) VALUES (?1, ?2, 'p', ?3)",
                    params!["123456789012", "eu-west-1", arn.to_string()],
                )?;
                Ok(())
            })
            .await
            .unwrap();
        // Nothing expired yet.
        assert_eq!(store.write(|tx| sweep(tx, UnixTime::from_secs(T + 3_600), 100)).await.unwrap(), (0, 0));
        // 2 goes; 3's token has not expired.
        assert_eq!(store.write(|tx| sweep(tx, UnixTime::from_secs(T + 3_601), 100)).await.unwrap(), (2, 1));
        let ids: Vec<_> = certs.iter().map(|d| d.certificate_id.clone()).collect();
        let kept = store
            .read(move |tx| {
                ids.iter().map(|id| Ok(ops::certificate(tx, &scope(), id)?.is_some())).collect::<Result<Vec<_>, _>>()
            })
            .await
            .unwrap();
        assert_eq!(kept, [true, true, false, true]);
        assert_eq!(store.write(|tx| sweep(tx, UnixTime::from_secs(T + 7_201), 100)).await.unwrap(), (1, 1));
    }
}
