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
    /// How much of a call's budget must be left when its slot comes.
    room: Duration,
    next_free: Mutex<Instant>,
}

/// The queue is longer than the time left for this call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueTooLong;

/// How much of a `budget` must be left when a call starts: 1 s, or half
/// the budget when that is shorter.
///
/// A call started with its budget nearly spent would most likely end as a
/// timeout, which the user reads as "outcome unknown" although GREEN-API
/// probably accepted it, and a resend would then duplicate the card; refused
/// instead, it is "busy, nothing was sent", which is true. 1 s is meant to
/// cover a normal answer from GREEN-API with time to spare, and is a tenth
/// of the default budget, so queueing keeps most of its use. A budget under 2 s keeps half
/// for the call, which also means a call that finds no queue always starts.
pub fn room_for_a_call(budget: Duration) -> Duration {
    (budget / 2).min(Duration::from_secs(1))
}

impl RateLimiter {
    /// A limiter for calls that each have `budget` in all.
    pub fn new(max_per_second: NonZeroU32, budget: Duration) -> Self {
        Self {
            interval: Duration::from_secs(1) / max_per_second.get(),
            room: room_for_a_call(budget),
            next_free: Mutex::new(Instant::now()),
        }
    }

    /// The latest a call that must end by `deadline` may start.
    pub fn latest_start(&self, deadline: Instant) -> Instant {
        deadline.checked_sub(self.room).unwrap_or(deadline)
    }

    /// Reserves a slot at or after `now` and returns when it starts, unless
    /// it would start after `latest_start(deadline)`, leaving the call too
    /// little time to be answered; then nothing is reserved.
    pub fn reserve(&self, now: Instant, deadline: Instant) -> Result<Instant, QueueTooLong> {
        let latest = self.latest_start(deadline);
        // A poisoned lock only means another thread panicked mid-update of
        // an Instant; the value is still usable.
        let mut next_free = self.next_free.lock().unwrap_or_else(|p| p.into_inner());
        let slot = (*next_free).max(now);
        if slot > latest {
            return Err(QueueTooLong);
        }
        *next_free = slot + self.interval;
        Ok(slot)
    }
}

/// Whether a call granted `slot` at `now` waits for it: only when the slot
/// is at least a millisecond away. Tokio's timers count whole milliseconds,
/// so a shorter wait would be rounded up to one (and cost a timer and a
/// wake-up); a nearer slot is taken at once. So a call starts at most a
/// millisecond before its slot, and the slots themselves stay an interval
/// apart: the limiter has advanced by a full one all the same.
pub fn must_wait(slot: Instant, now: Instant) -> bool {
    slot.saturating_duration_since(now) >= Duration::from_millis(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_slot_a_millisecond_or_more_away_is_waited_for() {
        let now = Instant::now();
        for (after_us, waits) in [(0, false), (1, false), (999, false), (1000, true), (1001, true), (250_000, true)] {
            assert_eq!(must_wait(now + Duration::from_micros(after_us), now), waits, "{after_us} µs");
        }
        assert!(!must_wait(now, now + ms(5)), "a slot already past");
    }

    #[test]
    fn at_a_thousand_calls_a_second_or_fewer_every_queued_call_waits() {
        // At most 1,000 calls a second, a queued slot is at least 1 ms away.
        let limiter = RateLimiter::new(NonZeroU32::new(1000).unwrap(), ms(10_000));
        let now = Instant::now();
        assert!(!must_wait(limiter.reserve(now, now + ms(10_000)).unwrap(), now));
        for _ in 0..5 {
            assert!(must_wait(limiter.reserve(now, now + ms(10_000)).unwrap(), now));
        }
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn room_for_a_call_is_a_second_or_half_a_short_budget() {
        for (budget, room) in [(600_000, 1000), (10_000, 1000), (2000, 1000), (1500, 750), (1000, 500), (300, 150)] {
            assert_eq!(room_for_a_call(ms(budget)), ms(room), "budget {budget} ms");
        }
        assert_eq!(room_for_a_call(ms(1)), Duration::from_micros(500));
    }

    #[test]
    fn spaces_calls_and_refuses_a_slot_that_leaves_no_room_for_the_call() {
        // 10 calls per second: slots 100 ms apart. Each row: a budget, and
        // how many callers arriving together get a slot before the next one
        // is refused.
        let cases: &[(u64, u64, &str)] = &[
            (10_000, 91, "room 1 s: the last slot at 9 s"),
            (2500, 16, "room 1 s: the last slot at 1.5 s"),
            (1000, 6, "room 500 ms: a slot exactly at the latest start is granted"),
            (250, 2, "room 125 ms"),
            (200, 2, "room 100 ms: the slot at the deadline itself is refused"),
            (199, 1, "room 99.5 ms: the slot at 100 ms is just too late"),
            (1, 1, "a call that finds no queue starts, however short its budget"),
        ];
        for &(budget, granted, why) in cases {
            let limiter = RateLimiter::new(NonZeroU32::new(10).unwrap(), ms(budget));
            let now = Instant::now();
            let deadline = now + ms(budget);
            for k in 0..granted {
                assert_eq!(limiter.reserve(now, deadline).map(|slot| slot - now), Ok(ms(k * 100)), "{why}");
            }
            assert_eq!(limiter.reserve(now, deadline), Err(QueueTooLong), "{why}");
        }
    }

    #[test]
    fn a_refusal_reserves_nothing() {
        let limiter = RateLimiter::new(NonZeroU32::new(10).unwrap(), ms(500));
        let now = Instant::now();
        // Room 250 ms: slots at 0, 100 and 200 ms fit; 300 ms does not.
        for _ in 0..3 {
            limiter.reserve(now, now + ms(500)).unwrap();
        }
        assert_eq!(limiter.reserve(now, now + ms(500)), Err(QueueTooLong));
        // A later caller, with a later deadline, gets the refused slot.
        assert_eq!(limiter.reserve(now, now + ms(550)).unwrap() - now, ms(300));
        // After a quiet spell there is no queue.
        let later = now + Duration::from_secs(5);
        assert_eq!(limiter.reserve(later, later + ms(500)).unwrap(), later);
    }
}
