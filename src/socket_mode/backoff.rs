//! How long to wait before the next connection attempt: exponential, capped,
//! with jitter so that many replicas that lost Slack at the same moment do
//! not come back at the same moment too. Unlike http_client's RetryPolicy,
//! which spaces the retries of one request, this paces a process-long
//! reconnect loop, where many replicas retrying in step is the risk.

use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

/// A source of uniform numbers in `[0, 1)`. Injected so tests can pin the
/// jitter.
pub trait Jitter: Send {
    fn unit(&mut self) -> f64;
}

/// The process's randomness, by way of the standard library's randomly
/// keyed hasher: jitter needs no cryptographic quality, only spread.
#[derive(Debug, Default)]
pub struct RandomJitter;

impl Jitter for RandomJitter {
    fn unit(&mut self) -> f64 {
        let bits = std::collections::hash_map::RandomState::new().build_hasher().finish();
        // The top 53 bits fill an f64's mantissa exactly.
        (bits >> 11) as f64 / (1u64 << 53) as f64
    }
}

impl<F: FnMut() -> f64 + Send> Jitter for F {
    fn unit(&mut self) -> f64 {
        self()
    }
}

/// "Equal jitter": attempt `n` waits between half and all of
/// `min(max, base * 2^n)`, so a retry never comes at once and never later
/// than the cap.
pub struct Backoff {
    base: Duration,
    max: Duration,
    attempt: u32,
    jitter: Box<dyn Jitter>,
}

impl Backoff {
    pub fn new(base: Duration, max: Duration, jitter: Box<dyn Jitter>) -> Self {
        Self { base, max: max.max(base), attempt: 0, jitter }
    }

    /// The wait before the next attempt; each call doubles the ceiling.
    pub fn next_delay(&mut self) -> Duration {
        let ceiling = self.base.saturating_mul(1u32.checked_shl(self.attempt).unwrap_or(u32::MAX)).min(self.max);
        self.attempt = self.attempt.saturating_add(1);
        let unit = self.jitter.unit();
        // Duration::mul_f64 panics on NaN; a broken source means no jitter.
        let unit = if unit.is_nan() { 0.0 } else { unit.clamp(0.0, 1.0) };
        ceiling / 2 + ceiling.mul_f64(unit / 2.0)
    }

    /// The longest wait, for a failure that a quick retry cannot fix.
    pub fn ceiling(&self) -> Duration {
        self.max
    }

    /// After a connection that held: the next failure starts from the base.
    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn backoff(unit: f64) -> Backoff {
        Backoff::new(Duration::from_secs(1), Duration::from_secs(60), Box::new(move || unit))
    }

    #[test]
    fn doubles_up_to_the_cap_within_the_jitter_band() {
        let mut low = backoff(0.0);
        let lows: Vec<u64> = (0..9).map(|_| low.next_delay().as_millis() as u64).collect();
        assert_eq!(lows, [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);

        let mut high = backoff(1.0);
        let highs: Vec<u64> = (0..9).map(|_| high.next_delay().as_millis() as u64).collect();
        assert_eq!(highs, [1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000]);
    }

    #[test]
    fn a_reset_starts_again_from_the_base() {
        let mut b = backoff(1.0);
        for _ in 0..5 {
            b.next_delay();
        }
        b.reset();
        assert_eq!(b.next_delay(), Duration::from_secs(1));
        assert_eq!(b.ceiling(), Duration::from_secs(60));
    }

    #[test]
    fn never_overflows_however_often_it_fails() {
        let mut b = backoff(1.0);
        for _ in 0..200 {
            assert!(b.next_delay() <= Duration::from_secs(60));
        }
    }

    #[test]
    fn out_of_range_jitter_is_clamped() {
        assert_eq!(backoff(7.0).next_delay(), Duration::from_secs(1));
        assert_eq!(backoff(-1.0).next_delay(), Duration::from_millis(500));
        assert_eq!(backoff(f64::NAN).next_delay(), Duration::from_millis(500));
        assert_eq!(backoff(f64::INFINITY).next_delay(), Duration::from_secs(1));
    }

    #[test]
    fn the_real_jitter_stays_in_its_unit_interval_and_varies() {
        let mut jitter = RandomJitter;
        let draws: Vec<f64> = (0..64).map(|_| jitter.unit()).collect();
        assert!(draws.iter().all(|u| (0.0..1.0).contains(u)));
        assert!(draws.windows(2).any(|w| w[0] != w[1]));
    }
}
