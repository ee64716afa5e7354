//! The in-process broker: which connections are attached, per account, with their
//! subscriptions, and the fan-out of a message to the subscribers of one account.
//!
//! Every structure a device can grow is bounded: [`MAX_SUBSCRIPTIONS`] filters per connection,
//! [`QUEUE_MESSAGES`] messages and [`QUEUE_BYTES`] bytes waiting for each connection. A
//! subscriber that does not keep up is **disconnected** rather than fed with gaps: MQTT 5
//! DISCONNECT 0x97 Quota exceeded when it can still be written to, a close when its socket is
//! full too. A publisher never waits for it, and nobody else is slowed. Its messages in the
//! queue are dropped with it (there are no persistent sessions).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use iot_ca::{AccountId, CertificateId};
use mqtt_protocol_core::mqtt::ArcPayload;
use mqtt_protocol_core::mqtt::packet::{Property, Qos};
use tokio::sync::mpsc;

use super::topic::matches;

/// Subscriptions one connection holds at most (AWS IoT quota "Subscriptions per connection":
/// 50; also the most one SUBSCRIBE is granted).
pub const MAX_SUBSCRIPTIONS: usize = 50;
/// Messages waiting for one connection at most before it counts as too slow.
pub const QUEUE_MESSAGES: usize = 256;
/// Bytes (topics and payloads) waiting for one connection at most before it counts as too
/// slow: eight of the largest messages.
pub const QUEUE_BYTES: usize = 8 * 128 * 1024;

/// A connection's id, unique in the process.
pub type ConnId = u64;

/// A message on its way to one connection.
#[derive(Clone, Debug)]
pub struct Delivery {
    /// The topic.
    pub topic: Arc<str>,
    /// The payload, shared by every subscriber it goes to.
    pub payload: ArcPayload,
    /// The QoS it is delivered with: the publish's, at most the subscription's.
    pub qos: Qos,
    /// The MQTT 5 properties forwarded to MQTT 5 subscribers (payload format, message expiry,
    /// content type, response topic, correlation data, user properties).
    pub properties: Arc<[Property]>,
}

impl Delivery {
    fn bytes(&self) -> usize {
        self.topic.len() + self.payload.len()
    }
}

/// Why the broker asks a connection to end.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kick {
    /// Its queue is full: it does not read its messages fast enough.
    Slow,
    /// Another connection of the account attached with the same client id (MQTT §3.1.4;
    /// AWS IoT does the same).
    TakenOver,
    /// Its certificate is no longer ACTIVE (`Some(status)`), or was deleted (`None`).
    Certificate(Option<iot_ca::CertificateStatus>),
    /// It connected with a provisioning claim that has expired since.
    ClaimExpired(iot_ca::UnixTime),
}

/// A subscription of one connection.
#[derive(Clone, Debug)]
struct Subscription {
    filter: String,
    qos: Qos,
    no_local: bool,
}

/// One attached connection, as the broker sees it.
struct Subscriber {
    account: AccountId,
    client_id: String,
    certificate_id: CertificateId,
    subscriptions: Vec<Subscription>,
    /// Boxed: tokio's channel allocates its slots 32 at a time when it is made, and 32 boxes
    /// are 256 bytes where 32 deliveries were 2.3 KiB, on every connection, subscribed or not.
    deliveries: mpsc::Sender<Box<Delivery>>,
    queued: Arc<AtomicUsize>,
    kicks: mpsc::Sender<Kick>,
}

impl Subscriber {
    fn kick(&self, why: Kick) {
        // One kick pending is enough: the first reason is the one told.
        let _ = self.kicks.try_send(why);
    }

    /// Queues `delivery` unless the queue is full, in which case the subscriber is kicked.
    fn offer(&self, delivery: Delivery) -> bool {
        let size = delivery.bytes();
        if self.queued.load(Ordering::Relaxed).saturating_add(size) > QUEUE_BYTES {
            self.kick(Kick::Slow);
            return false;
        }
        self.queued.fetch_add(size, Ordering::Relaxed);
        if self.deliveries.try_send(Box::new(delivery)).is_err() {
            self.queued.fetch_sub(size, Ordering::Relaxed);
            self.kick(Kick::Slow);
            return false;
        }
        true
    }

    /// The QoS a message to `topic` is delivered with, if a subscription matches (the
    /// highest of the matching ones; one copy per connection).
    fn wants(&self, topic: &str, from_self: bool) -> Option<Qos> {
        self.subscriptions
            .iter()
            .filter(|s| !(from_self && s.no_local) && matches(&s.filter, topic))
            .map(|s| s.qos)
            .max()
    }
}

#[derive(Default)]
struct State {
    /// Attached connections, by account, then id.
    accounts: HashMap<AccountId, HashMap<ConnId, Subscriber>>,
    /// The account of each attached connection.
    owners: HashMap<ConnId, AccountId>,
    /// Which connection holds each (account, client id).
    client_ids: HashMap<(AccountId, String), ConnId>,
}

impl State {
    fn find(&self, id: ConnId) -> Option<&Subscriber> {
        self.accounts.get(self.owners.get(&id)?)?.get(&id)
    }

    fn find_mut(&mut self, id: ConnId) -> Option<&mut Subscriber> {
        let account = self.owners.get(&id)?;
        self.accounts.get_mut(account)?.get_mut(&id)
    }
}

/// The broker of one listener (one region): connections attach with their account, and
/// messages go to the subscribers of that account only.
#[derive(Default)]
pub struct Broker {
    state: RwLock<State>,
    next_id: AtomicU64,
}

/// The messages queued for a connection.
pub struct Inbox {
    /// The queue.
    pub deliveries: mpsc::Receiver<Box<Delivery>>,
    queued: Arc<AtomicUsize>,
}

impl Inbox {
    /// Takes the next message, if one is waiting.
    pub async fn next(&mut self) -> Option<Delivery> {
        let delivery = self.deliveries.recv().await?;
        // Added before the message was queued, so never below zero.
        self.queued.fetch_sub(delivery.bytes(), Ordering::Relaxed);
        Some(*delivery)
    }
}

/// A SUBSCRIBE beyond [`MAX_SUBSCRIPTIONS`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QuotaExceeded;

impl Broker {
    /// An empty broker.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    fn read(&self) -> RwLockReadGuard<'_, State> {
        // A panic while the lock was held leaves the maps consistent (every change is one
        // insert or remove), so a poisoned lock is used as is.
        self.state.read().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Attaches a connection of `account` with `client_id` and its certificate: its place,
    /// its queue, and where it is told to end. A connection of the account already holding
    /// `client_id` is kicked ([`Kick::TakenOver`]).
    pub fn attach(
        self: &Arc<Self>,
        account: AccountId,
        client_id: String,
        certificate_id: CertificateId,
    ) -> (Attachment, Inbox, mpsc::Receiver<Kick>) {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (deliveries_tx, deliveries) = mpsc::channel(QUEUE_MESSAGES);
        let (kicks_tx, kicks) = mpsc::channel(1);
        let queued = Arc::new(AtomicUsize::new(0));
        let subscriber = Subscriber {
            account: account.clone(),
            client_id: client_id.clone(),
            certificate_id,
            subscriptions: Vec::new(),
            deliveries: deliveries_tx,
            queued: Arc::clone(&queued),
            kicks: kicks_tx,
        };
        let mut state = self.write();
        if let Some(old) = state.client_ids.insert((account.clone(), client_id), id)
            && let Some(previous) = state.accounts.get(&account).and_then(|a| a.get(&old))
        {
            previous.kick(Kick::TakenOver);
        }
        state.owners.insert(id, account.clone());
        state.accounts.entry(account).or_default().insert(id, subscriber);
        drop(state);
        (Attachment { broker: Arc::clone(self), id }, Inbox { deliveries, queued }, kicks)
    }

    fn detach(&self, id: ConnId) {
        let mut state = self.write();
        let Some(account) = state.owners.remove(&id) else { return };
        let Some(connections) = state.accounts.get_mut(&account) else { return };
        let gone = connections.remove(&id);
        if connections.is_empty() {
            state.accounts.remove(&account);
        }
        if let Some(gone) = gone {
            let key = (account, gone.client_id);
            if state.client_ids.get(&key) == Some(&id) {
                state.client_ids.remove(&key);
            }
        }
    }

    /// Sends a message to every subscriber of `account` whose subscriptions match `topic`,
    /// with the lower of `qos` and the subscription's; answers how many were given it.
    /// `from`, the publishing connection, is skipped by its no-local subscriptions.
    pub fn publish(&self, account: &AccountId, topic: &str, delivery: &Delivery, from: Option<ConnId>) -> usize {
        let state = self.read();
        let Some(connections) = state.accounts.get(account) else { return 0 };
        let mut delivered = 0;
        for (id, subscriber) in connections {
            if let Some(granted) = subscriber.wants(topic, from == Some(*id)) {
                let mut copy = delivery.clone();
                copy.qos = lower(delivery.qos, granted);
                delivered += usize::from(subscriber.offer(copy));
            }
        }
        delivered
    }

    /// Sends a message to connection `id` alone, through its own subscriptions (the answers
    /// to a fleet-provisioning request go to the requester only).
    pub fn publish_to(&self, id: ConnId, delivery: &Delivery) -> bool {
        let state = self.read();
        let Some(subscriber) = state.find(id) else { return false };
        match subscriber.wants(&delivery.topic, false) {
            Some(granted) => {
                let mut copy = delivery.clone();
                copy.qos = lower(delivery.qos, granted);
                subscriber.offer(copy)
            }
            None => false,
        }
    }

    /// Every attached connection with its account and certificate.
    #[must_use]
    pub fn certificates(&self) -> Vec<(ConnId, AccountId, CertificateId)> {
        let state = self.read();
        state
            .accounts
            .values()
            .flat_map(|a| a.iter().map(|(id, s)| (*id, s.account.clone(), s.certificate_id.clone())))
            .collect()
    }

    /// Asks connection `id` to end.
    pub fn kick(&self, id: ConnId, why: Kick) {
        if let Some(s) = self.read().find(id) {
            s.kick(why);
        }
    }

    /// How many connections are attached.
    #[must_use]
    pub fn len(&self) -> usize {
        self.read().accounts.values().map(HashMap::len).sum()
    }

    /// Whether no connection is attached.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn lower(a: Qos, b: Qos) -> Qos {
    a.min(b)
}

/// A connection's place in the broker; dropping it detaches the connection.
pub struct Attachment {
    broker: Arc<Broker>,
    id: ConnId,
}

impl Attachment {
    /// The connection's id.
    #[must_use]
    pub fn id(&self) -> ConnId {
        self.id
    }

    /// Adds the subscription `filter` (valid) or replaces the one with the same filter.
    ///
    /// # Errors
    /// [`QuotaExceeded`] when the connection holds [`MAX_SUBSCRIPTIONS`] others already.
    pub fn subscribe(&self, filter: &str, qos: Qos, no_local: bool) -> Result<(), QuotaExceeded> {
        let mut state = self.broker.write();
        let Some(subscriber) = state.find_mut(self.id) else { return Ok(()) };
        let subscription = Subscription { filter: filter.to_owned(), qos, no_local };
        if let Some(held) = subscriber.subscriptions.iter_mut().find(|s| s.filter == filter) {
            *held = subscription;
        } else if subscriber.subscriptions.len() >= MAX_SUBSCRIPTIONS {
            return Err(QuotaExceeded);
        } else {
            subscriber.subscriptions.push(subscription);
        }
        Ok(())
    }

    /// Removes the subscription `filter`; answers whether there was one.
    pub fn unsubscribe(&self, filter: &str) -> bool {
        let mut state = self.broker.write();
        let Some(subscriber) = state.find_mut(self.id) else { return false };
        let before = subscriber.subscriptions.len();
        subscriber.subscriptions.retain(|s| s.filter != filter);
        subscriber.subscriptions.len() != before
    }
}

impl Drop for Attachment {
    fn drop(&mut self) {
        self.broker.detach(self.id);
    }
}

#[cfg(test)]
mod tests {
    use mqtt_protocol_core::mqtt::IntoPayload;

    use super::*;

    fn account(n: u8) -> AccountId {
        AccountId::parse(&format!("{n}").repeat(12)).unwrap()
    }

    fn certificate(n: u8) -> CertificateId {
        CertificateId::of_der(&[n])
    }

    fn message(topic: &str, qos: Qos) -> Delivery {
        Delivery { topic: topic.into(), payload: b"x".to_vec().into_payload(), qos, properties: Arc::new([]) }
    }

    #[tokio::test]
    async fn messages_stay_in_their_account_and_follow_filters() {
        let broker = Arc::new(Broker::new());
        let (a1, mut in1, _) = broker.attach(account(1), "one".into(), certificate(1));
        let (a2, mut in2, _) = broker.attach(account(1), "two".into(), certificate(2));
        let (other, mut in3, _) = broker.attach(account(2), "one".into(), certificate(3));
        a1.subscribe("dt/+/temp", Qos::AtLeastOnce, false).unwrap();
        a2.subscribe("dt/#", Qos::AtMostOnce, false).unwrap();
        other.subscribe("#", Qos::AtLeastOnce, false).unwrap();
        let sent = broker.publish(&account(1), "dt/d1/temp", &message("dt/d1/temp", Qos::AtLeastOnce), None);
        assert_eq!(sent, 2);
        assert_eq!(in1.next().await.unwrap().qos, Qos::AtLeastOnce);
        assert_eq!(in2.next().await.unwrap().qos, Qos::AtMostOnce, "the subscription's QoS caps the delivery");
        assert!(in3.deliveries.try_recv().is_err(), "another account's subscriber got it");
        assert_eq!(broker.publish(&account(1), "other", &message("other", Qos::AtMostOnce), None), 0);
        assert_eq!(broker.len(), 3);
        drop((a1, a2, other));
        assert!(broker.is_empty());
    }

    #[tokio::test]
    async fn no_local_and_one_copy_per_connection() {
        let broker = Arc::new(Broker::new());
        let (a, mut inbox, _) = broker.attach(account(1), "c".into(), certificate(1));
        a.subscribe("t/#", Qos::AtMostOnce, false).unwrap();
        a.subscribe("t/+", Qos::AtLeastOnce, false).unwrap();
        assert_eq!(broker.publish(&account(1), "t/x", &message("t/x", Qos::AtLeastOnce), Some(a.id())), 1);
        assert_eq!(inbox.next().await.unwrap().qos, Qos::AtLeastOnce, "the highest matching QoS");
        assert!(inbox.deliveries.try_recv().is_err(), "one copy only");
        a.subscribe("t/#", Qos::AtMostOnce, true).unwrap();
        a.unsubscribe("t/+");
        assert_eq!(broker.publish(&account(1), "t/x", &message("t/x", Qos::AtMostOnce), Some(a.id())), 0);
        assert!(a.unsubscribe("t/#") && !a.unsubscribe("t/#"));
    }

    #[test]
    fn subscriptions_are_bounded() {
        let broker = Arc::new(Broker::new());
        let (a, _inbox, _) = broker.attach(account(1), "c".into(), certificate(1));
        for i in 0..MAX_SUBSCRIPTIONS {
            a.subscribe(&format!("t/{i}"), Qos::AtMostOnce, false).unwrap();
        }
        assert_eq!(a.subscribe("t/extra", Qos::AtMostOnce, false), Err(QuotaExceeded));
        a.subscribe("t/0", Qos::AtLeastOnce, false).unwrap();
    }

    #[tokio::test]
    async fn a_slow_subscriber_is_kicked_and_stalls_nobody() {
        let broker = Arc::new(Broker::new());
        let (slow, _slow_inbox, mut slow_kicks) = broker.attach(account(1), "slow".into(), certificate(1));
        let (fast, mut fast_inbox, mut fast_kicks) = broker.attach(account(1), "fast".into(), certificate(2));
        slow.subscribe("#", Qos::AtMostOnce, false).unwrap();
        fast.subscribe("#", Qos::AtMostOnce, false).unwrap();
        for _ in 0..QUEUE_MESSAGES + 10 {
            broker.publish(&account(1), "t", &message("t", Qos::AtMostOnce), None);
            assert!(fast_inbox.next().await.is_some());
        }
        assert_eq!(slow_kicks.try_recv().unwrap(), Kick::Slow);
        assert!(fast_kicks.try_recv().is_err());
        // Bytes bound too: a few large messages fill it before the count does.
        let (big, _big_inbox, mut big_kicks) = broker.attach(account(1), "big".into(), certificate(3));
        big.subscribe("#", Qos::AtMostOnce, false).unwrap();
        let large = Delivery { payload: vec![0u8; 128 * 1024].into_payload(), ..message("t", Qos::AtMostOnce) };
        for _ in 0..9 {
            broker.publish(&account(1), "t", &large, None);
        }
        assert_eq!(big_kicks.try_recv().unwrap(), Kick::Slow);
    }

    #[test]
    fn a_second_connection_with_the_client_id_takes_over() {
        let broker = Arc::new(Broker::new());
        let (first, _, mut first_kicks) = broker.attach(account(1), "same".into(), certificate(1));
        let (_other_account, _, mut other_kicks) = broker.attach(account(2), "same".into(), certificate(1));
        let (second, _, _) = broker.attach(account(1), "same".into(), certificate(1));
        assert_eq!(first_kicks.try_recv().unwrap(), Kick::TakenOver);
        assert!(other_kicks.try_recv().is_err(), "client ids are per account");
        drop(first);
        // The first one's detach leaves the second's claim on the client id.
        let (_third, _, _) = broker.attach(account(1), "same".into(), certificate(1));
        drop(second);
        assert_eq!(broker.certificates().len(), 2);
    }

    #[tokio::test]
    async fn publish_to_one_connection_uses_its_subscriptions() {
        let broker = Arc::new(Broker::new());
        let (a, mut inbox, _) = broker.attach(account(1), "c".into(), certificate(1));
        let (b, mut other, _) = broker.attach(account(1), "d".into(), certificate(2));
        let topic = "$aws/certificates/create/json/rejected";
        assert!(!broker.publish_to(a.id(), &message(topic, Qos::AtLeastOnce)), "not subscribed yet");
        a.subscribe(topic, Qos::AtLeastOnce, false).unwrap();
        b.subscribe(topic, Qos::AtLeastOnce, false).unwrap();
        assert!(broker.publish_to(a.id(), &message(topic, Qos::AtLeastOnce)));
        assert!(inbox.next().await.is_some());
        assert!(other.deliveries.try_recv().is_err());
    }
}
