//! Keeps one process's sendContact calls under GREEN-API's per-instance
//! limit (50 per second) by spacing them out.
//!
//! Each call reserves the next free slot, one interval after the previous
//! one, so a burst queues for a moment instead of earning 429s. Replicas
//! each have their own limiter: divide the limit among them (README).

use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

#[derive(Debug)]
pub struct RateLimiter {
    interval: Duration,
    next_free: Mutex<Instant>,
}

/// The queue is longer than the time left for this call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueTooLong {
    pub wait: Duration,
}

impl RateLimiter {
    pub fn new(max_per_second: NonZeroU32) -> Self {
        Self { interval: Duration::from_secs(1) / max_per_second.get(), next_free: Mutex::new(Instant::now()) }
    }

    /// Reserves a slot at or after `now` and returns when it starts, unless
    /// it would start after `deadline`; then nothing is reserved.
    pub fn reserve(&self, now: Instant, deadline: Instant) -> Result<Instant, QueueTooLong> {
        // A poisoned lock only means another thread panicked mid-update of
        // an Instant; the value is still usable.
        let mut next_free = self.next_free.lock().unwrap_or_else(|p| p.into_inner());
        let slot = (*next_free).max(now);
        if slot > deadline {
            return Err(QueueTooLong { wait: slot - now });
        }
        *next_free = slot + self.interval;
        Ok(slot)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spaces_calls_and_refuses_what_would_wait_past_the_deadline() {
        let limiter = RateLimiter::new(NonZeroU32::new(10).unwrap());
        let now = Instant::now();
        let deadline = now + Duration::from_millis(250);
        let slots: Vec<_> = (0..3).map(|_| limiter.reserve(now, deadline).unwrap() - now).collect();
        let ms = |n| Duration::from_millis(n);
        assert_eq!(slots[0], ms(0));
        assert_eq!(slots[1], ms(100));
        assert_eq!(slots[2], ms(200));
        assert_eq!(limiter.reserve(now, deadline), Err(QueueTooLong { wait: ms(300) }));
        // A refused call reserved nothing: a later caller gets that slot.
        assert_eq!(limiter.reserve(now, now + ms(300)).unwrap() - now, ms(300));
        // After a quiet spell there is no queue.
        let later = now + Duration::from_secs(5);
        assert_eq!(limiter.reserve(later, later).unwrap(), later);
    }
}
