//! What a listener admits: at most so many connections at once, at most so many from one
//! address, and warnings about what it refuses at most once a second, so that one client can
//! neither take every slot nor fill the log (300 slowloris sockets once wrote 4,329 lines a
//! minute).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Why a connection was not admitted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refused {
    /// Every slot is taken.
    Full,
    /// The peer's address holds its share already.
    PeerFull,
}

impl Refused {
    /// The reason, as the log line says it.
    #[must_use]
    pub const fn reason(self) -> &'static str {
        match self {
            Self::Full => "the connection limit is reached",
            Self::PeerFull => "the address holds its connections already",
        }
    }
}

/// A listener's connection slots: `max` in all, `per_peer` for one IP address.
#[derive(Debug)]
pub struct Admission {
    permits: Arc<Semaphore>,
    per_peer: usize,
    peers: Mutex<HashMap<IpAddr, usize>>,
}

impl Admission {
    /// Slots for `max` connections, `per_peer` of them (at most `max`) from one address.
    #[must_use]
    pub fn new(max: usize, per_peer: usize) -> Arc<Self> {
        Arc::new(Self {
            permits: Arc::new(Semaphore::new(max.min(Semaphore::MAX_PERMITS))),
            per_peer: per_peer.min(max),
            peers: Mutex::new(HashMap::new()),
        })
    }

    /// A slot for a connection from `peer`, held until the answer is dropped.
    ///
    /// # Errors
    /// [`Refused`] when every slot, or the address's share, is taken.
    pub fn admit(self: &Arc<Self>, peer: IpAddr) -> Result<Admitted, Refused> {
        let permit = Arc::clone(&self.permits).try_acquire_owned().map_err(|_| Refused::Full)?;
        let mut peers = self.peers.lock().unwrap_or_else(PoisonError::into_inner);
        let held = peers.entry(peer).or_insert(0);
        if *held >= self.per_peer {
            return Err(Refused::PeerFull);
        }
        *held += 1;
        Ok(Admitted { _permit: permit, admission: Arc::clone(self), peer })
    }

    /// Connections held now by `peer`.
    #[must_use]
    pub fn held_by(&self, peer: IpAddr) -> usize {
        self.peers.lock().unwrap_or_else(PoisonError::into_inner).get(&peer).copied().unwrap_or(0)
    }
}

/// An admitted connection's slot; dropping it frees the slot.
#[derive(Debug)]
pub struct Admitted {
    _permit: OwnedSemaphorePermit,
    admission: Arc<Admission>,
    peer: IpAddr,
}

impl Drop for Admitted {
    fn drop(&mut self) {
        let mut peers = self.admission.peers.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(held) = peers.get_mut(&self.peer) {
            *held = held.saturating_sub(1);
            if *held == 0 {
                peers.remove(&self.peer);
            }
        }
    }
}

/// A warning said at most once an interval: [`Every::due`] answers whether to write the line
/// now, and how many were left unwritten since the last one.
#[derive(Debug)]
pub struct Every {
    interval: Duration,
    state: Mutex<(Option<Instant>, u64)>,
}

impl Every {
    /// At most one line each `interval`.
    #[must_use]
    pub const fn new(interval: Duration) -> Self {
        Self { interval, state: Mutex::new((None, 0)) }
    }

    /// One more occurrence at `now`: `Some(left unwritten since the last line)` when a line is
    /// due, else `None` (and it is counted).
    pub fn due(&self, now: Instant) -> Option<u64> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let (last, skipped) = &mut *state;
        if last.is_some_and(|at| now.saturating_duration_since(at) < self.interval) {
            *skipped += 1;
            return None;
        }
        *last = Some(now);
        Some(std::mem::take(skipped))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, 2));
    const B: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, 1));

    #[test]
    fn one_address_takes_its_share_and_no_more() {
        let admission = Admission::new(4, 2);
        let a1 = admission.admit(A).unwrap();
        let _a2 = admission.admit(A).unwrap();
        assert_eq!(admission.admit(A).unwrap_err(), Refused::PeerFull);
        let _b1 = admission.admit(B).unwrap();
        let _b2 = admission.admit(B).unwrap();
        // The refused attempt gave its permit back: four held, none free.
        assert_eq!(admission.admit(B).unwrap_err(), Refused::Full);
        drop(a1);
        assert_eq!(admission.held_by(A), 1);
        assert_eq!(admission.admit(B).unwrap_err(), Refused::PeerFull);
        let _a3 = admission.admit(A).unwrap();
    }

    #[test]
    fn a_dropped_slot_forgets_the_address() {
        let admission = Admission::new(2, 5);
        assert_eq!(admission.per_peer, 2, "the share is at most the whole");
        drop(admission.admit(A).unwrap());
        assert_eq!(admission.held_by(A), 0);
        assert!(admission.peers.lock().unwrap().is_empty());
    }

    #[test]
    fn a_warning_is_due_once_an_interval_and_counts_the_rest() {
        let every = Every::new(Duration::from_secs(1));
        let t0 = Instant::now();
        assert_eq!(every.due(t0), Some(0));
        assert_eq!(every.due(t0 + Duration::from_millis(10)), None);
        assert_eq!(every.due(t0 + Duration::from_millis(999)), None);
        assert_eq!(every.due(t0 + Duration::from_secs(1)), Some(2));
        assert_eq!(every.due(t0 + Duration::from_millis(1500)), None);
        assert_eq!(every.due(t0 + Duration::from_secs(3)), Some(1));
    }
}
