//! Signatures already seen: a signed request captured on the way (a proxy's
//! log, a compromised hop) is valid for as long as its timestamp is within
//! ±300 s of our clock, so without memory it could be replayed to send its
//! contact card again.
//!
//! Each process remembers the signatures it accepted for [`REMEMBER_SECS`]
//! (the whole span in which a timestamp passes the window check: from 300 s
//! before it to 300 s after), at most [`MAX_ENTRIES`] of them. Replicas do not
//! share this memory: a replay that a load balancer sends to another replica
//! is accepted there.

use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Mutex;

use super::signature::MAX_CLOCK_SKEW_SECS;

/// How long a signature is remembered: twice the clock-skew window.
pub const REMEMBER_SECS: i64 = 2 * MAX_CLOCK_SKEW_SECS;
/// The most signatures remembered at once: room for 46 commands a second,
/// per replica, over the whole window; past it the oldest are forgotten
/// first. The tables are sized for it up front (about 1.5 MiB when full).
pub const MAX_ENTRIES: usize = 28_000;

/// The signature was seen before, `age_secs` ago.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("this signed request was already received {age_secs} s ago: a replay")]
pub struct Replayed {
    pub age_secs: i64,
}

/// Signatures accepted in the last [`REMEMBER_SECS`], bounded.
#[derive(Debug)]
pub struct ReplayGuard {
    capacity: usize,
    seen: Mutex<Seen>,
}

#[derive(Debug, Default)]
struct Seen {
    /// Key to the time it was first seen (Unix seconds).
    first_seen: HashMap<Key, i64, BuildHasherDefault<KeyHasher>>,
    /// In arrival order, so the oldest are at the front.
    order: VecDeque<(i64, Key)>,
}

impl Default for ReplayGuard {
    fn default() -> Self {
        Self::with_capacity(MAX_ENTRIES)
    }
}

impl ReplayGuard {
    pub fn with_capacity(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        // Forgetting leaves tombstones in the map; when they use up its free
        // room, it is rehashed in place if at most half full, else doubled.
        // Room for twice the entries keeps it rehashing in place, at a fixed
        // size: sized for the entries alone, a full guard's map grew to
        // twice that, 2.2 MiB for 50,000 of them.
        let seen = Seen {
            first_seen: HashMap::with_capacity_and_hasher(2 * capacity, BuildHasherDefault::default()),
            order: VecDeque::with_capacity(capacity),
        };
        Self { capacity, seen: Mutex::new(seen) }
    }

    /// Remembers the signature of a request that passed the signature check
    /// (the `X-Slack-Signature` value) and says whether it was seen before.
    /// `now` is Unix seconds.
    pub fn first_sighting(&self, signature: &[u8], now: i64) -> Result<(), Replayed> {
        let key = key(signature);
        // A poisoned lock only means another request panicked while holding
        // it; the map is still a map.
        let mut seen = self.seen.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        while let Some(&(at, old)) = seen.order.front() {
            if now.saturating_sub(at) < REMEMBER_SECS && seen.order.len() < self.capacity {
                break;
            }
            seen.order.pop_front();
            seen.first_seen.remove(&old);
        }
        if let Some(&at) = seen.first_seen.get(&key) {
            return Err(Replayed { age_secs: now.saturating_sub(at) });
        }
        seen.first_seen.insert(key, now);
        seen.order.push_back((now, key));
        Ok(())
    }

    pub fn len(&self) -> usize {
        self.seen.lock().unwrap_or_else(std::sync::PoisonError::into_inner).first_seen.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// 64 bits of the signature. A signature that passed the check is an
/// HMAC-SHA256 (`v0=` and 64 hex digits): its bits are uniform and nobody
/// without the secret can choose them, so 64 of them tell requests apart
/// (two different requests share a key with odds of about one in 10^14 even
/// with the guard full) and need no further hashing. Anything else is
/// digested first, so the guard holds 8 bytes per entry whatever the caller
/// passes.
type Key = u64;

fn key(signature: &[u8]) -> Key {
    let mut mac = [0u8; 32];
    let hex_digits = signature.strip_prefix(b"v0=").unwrap_or(signature);
    if hex::decode_to_slice(hex_digits, &mut mac).is_err() {
        use sha2::Digest;
        mac = sha2::Sha256::digest(signature).into();
    }
    let mut first = [0u8; 8];
    first.copy_from_slice(&mac[..8]);
    u64::from_le_bytes(first)
}

/// Hashes a [`Key`] as itself: it is already uniform, and SipHash over it
/// would be work for nothing on every request.
#[derive(Debug, Default)]
struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write_u64(&mut self, key: u64) {
        self.0 = key;
    }

    // Only `u64` keys are hashed here; any other input is folded in rather
    // than dropped, so the map stays correct if that ever changes.
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &[u8] = b"v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";
    const B: &[u8] = b"v0=b2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";

    #[test]
    fn a_signature_is_accepted_once_for_the_whole_window() {
        let guard = ReplayGuard::default();
        let t = 1_700_000_000;
        assert_eq!(guard.first_sighting(A, t), Ok(()));
        for later in [0, 1, 299, 300, 301, REMEMBER_SECS - 1] {
            assert_eq!(guard.first_sighting(A, t + later), Err(Replayed { age_secs: later }), "{later} s later");
        }
        assert_eq!(guard.first_sighting(B, t + 5), Ok(()), "another signature is another request");
    }

    #[test]
    fn a_signature_is_forgotten_after_600_s_so_memory_stays_bounded_by_time() {
        let guard = ReplayGuard::default();
        let t = 1_700_000_000;
        guard.first_sighting(A, t).unwrap();
        guard.first_sighting(B, t + 10).unwrap();
        assert_eq!(guard.first_sighting(A, t + REMEMBER_SECS), Ok(()), "forgotten, then seen anew");
        assert_eq!(guard.len(), 2, "A again and B");
        guard.first_sighting(b"v0=00", t + 10 + REMEMBER_SECS).unwrap();
        assert_eq!(guard.len(), 2, "B is gone");
    }

    #[test]
    fn past_its_capacity_the_guard_forgets_the_oldest_first() {
        let guard = ReplayGuard::with_capacity(3);
        let t = 1_700_000_000;
        let sig = |i: u8| format!("v0={}", hex::encode([i; 32])).into_bytes();
        for i in 0..5 {
            guard.first_sighting(&sig(i), t + i64::from(i)).unwrap();
        }
        assert_eq!(guard.len(), 3);
        assert_eq!(guard.first_sighting(&sig(4), t + 5), Err(Replayed { age_secs: 1 }));
        assert_eq!(guard.first_sighting(&sig(0), t + 5), Ok(()), "the oldest was forgotten");
    }

    #[test]
    fn a_clock_that_steps_back_does_not_panic_or_forget_early() {
        let guard = ReplayGuard::default();
        guard.first_sighting(A, 1_000).unwrap();
        assert_eq!(guard.first_sighting(A, 400), Err(Replayed { age_secs: -600 }));
        assert_eq!(guard.first_sighting(A, i64::MIN), Err(Replayed { age_secs: i64::MIN }));
    }
}
