//! The per-connection PUBLISH rate: a token bucket.
//!
//! A connection that publishes faster than the rate is not cut off and loses nothing: the
//! endpoint stops reading from it until the bucket has refilled, so TCP pushes back on the
//! device (its client library queues or blocks) while its other work (deliveries, PINGRESP
//! already owed) goes on.

use std::time::Duration;

use tokio::time::Instant;

/// PUBLISH packets per second one connection may send (AWS IoT quota "Publish requests per
/// connection": 100 per second, not adjustable).
pub const PUBLISHES_PER_SECOND: f64 = 100.0;

/// A token bucket: `rate` tokens a second, at most `rate` held (one second's burst).
#[derive(Clone, Debug)]
pub struct TokenBucket {
    rate: f64,
    tokens: f64,
    at: Instant,
}

impl TokenBucket {
    /// A full bucket of `rate` tokens a second, at `now` (a rate that is not a positive number
    /// is taken as one token a second).
    #[must_use]
    pub fn new(rate: f64, now: Instant) -> Self {
        let rate = if rate.is_finite() && rate > 0.0 { rate } else { 1.0 };
        Self { rate, tokens: rate, at: now }
    }

    /// Takes one token at `now`; answers how long the connection must then wait before the
    /// bucket holds a whole token again, or `None` when it may go on at once.
    pub fn take(&mut self, now: Instant) -> Option<Duration> {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        self.at = now;
        self.tokens = (self.tokens + elapsed * self.rate).min(self.rate) - 1.0;
        (self.tokens < 0.0)
            .then(|| Duration::try_from_secs_f64(-self.tokens / self.rate).unwrap_or(Duration::from_secs(1)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_the_rate() {
        let start = Instant::now();
        let mut bucket = TokenBucket::new(100.0, start);
        for _ in 0..100 {
            assert_eq!(bucket.take(start), None);
        }
        let wait = bucket.take(start).unwrap();
        assert!((wait.as_secs_f64() - 0.01).abs() < 1e-9, "{wait:?}");
        // After waiting it out, one more token per 10 ms.
        let later = start + Duration::from_millis(20);
        assert_eq!(bucket.take(later), None);
        // A second of silence refills to the burst, no more.
        let much_later = later + Duration::from_secs(10);
        for _ in 0..100 {
            assert_eq!(bucket.take(much_later), None);
        }
        assert!(bucket.take(much_later).is_some());
    }

    #[test]
    fn a_rate_that_is_not_one_does_not_panic() {
        let now = Instant::now();
        for rate in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            let mut bucket = TokenBucket::new(rate, now);
            assert_eq!(bucket.take(now), None);
            assert!(bucket.take(now).is_some());
        }
    }
}
