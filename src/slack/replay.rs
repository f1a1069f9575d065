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
//!
//! # Memory
//!
//! An entry is one `u64`: the first 54 bits of the signature's key and the
//! low 10 bits of the Unix second it was seen (see `key` for the odds that
//! two requests share 54 bits: about 1.6 × 10^-12 per request with the guard
//! full). Entries sit in a ring in arrival order (oldest first), and a hash
//! table holds, for each, the `u32` index of its slot in the ring, found by
//! the key bits. Both are sized up front: for [`MAX_ENTRIES`], 28,000 × 8 B
//! of ring and 65,536 × (4 + 1) B of table, 539 KiB in all (measured: 548 KiB
//! more RSS once full). A `HashMap<u64, i64>` and a `VecDeque<(i64, u64)>`
//! held 1.49 MiB (measured: 1,536 KiB).
//!
//! # Time
//!
//! Every remembered entry is younger than [`REMEMBER_SECS`] (600 s < 2^10), so
//! the low bits of its second give its age exactly: `(clock − seen) mod 2^10`.
//! That needs a clock that does not go back, so the guard keeps its own: the
//! latest `now` it was given. When the system clock steps back, the guard's
//! stays where it was:
//! - a request seen meanwhile is stamped with the guard's clock, later than
//!   its own `now`, so it is remembered for longer than [`REMEMBER_SECS`] of
//!   the stepped-back clock, never for less: nothing is forgotten early;
//! - a replay's age is measured on the guard's clock, so it is never negative
//!   (measured on the stepped-back `now`, it could be, down to −600 s and
//!   below).
//!
//! While the clock moves forward, the guard's clock is `now` and nothing of
//! this shows. A jump forward of any size is exact too: the age of the oldest
//! entry is the jump plus its (exact) age on the clock before the jump.

use std::fmt;
use std::sync::Mutex;

use hashbrown::HashTable;

use super::signature::MAX_CLOCK_SKEW_SECS;

/// How long a signature is remembered: twice the clock-skew window.
pub const REMEMBER_SECS: i64 = 2 * MAX_CLOCK_SKEW_SECS;
/// The most signatures remembered at once: room for 46 commands a second,
/// per replica, over the whole window; past it the oldest are forgotten
/// first. The tables are sized for it up front (539 KiB when full).
pub const MAX_ENTRIES: usize = 28_000;

/// Low bits of an entry that hold the second it was seen: the fewest that
/// tell apart every age the guard keeps (0 to [`REMEMBER_SECS`] − 1).
const TIME_BITS: u32 = (REMEMBER_SECS as u64).next_power_of_two().trailing_zeros();
const TIME_MASK: u64 = (1 << TIME_BITS) - 1;
/// High bits of an entry that hold the key: 54.
const KEY_BITS: u32 = u64::BITS - TIME_BITS;
const KEY_MASK: u64 = !TIME_MASK;
const _: () = assert!(REMEMBER_SECS > 0 && REMEMBER_SECS as u64 <= 1 << TIME_BITS);
const _: () = assert!(KEY_BITS >= 48, "fewer key bits would make false replays likely");

/// The signature was seen before, `age_secs` ago.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("this signed request was already received {age_secs} s ago: a replay")]
pub struct Replayed {
    pub age_secs: i64,
}

/// Signatures accepted in the last [`REMEMBER_SECS`], bounded.
#[derive(Debug)]
pub struct ReplayGuard {
    seen: Mutex<Seen>,
}

struct Seen {
    /// The index in `ring` of every entry, found by its key bits.
    slots: HashTable<u32>,
    /// Entries (key bits and time bits), `len` of them from `head` on,
    /// wrapping: the oldest first. Its length is the guard's capacity.
    ring: Box<[u64]>,
    head: usize,
    len: usize,
    /// The guard's clock (Unix seconds): the latest `now` it was given.
    clock: i64,
}

impl fmt::Debug for Seen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Seen")
            .field("len", &self.len)
            .field("capacity", &self.ring.len())
            .field("clock", &self.clock)
            .finish_non_exhaustive()
    }
}

impl Default for ReplayGuard {
    fn default() -> Self {
        Self::with_capacity(MAX_ENTRIES)
    }
}

impl ReplayGuard {
    /// A guard that remembers at most `capacity` signatures (at least 1, at
    /// most `u32::MAX`: the table holds ring indices as `u32`).
    pub fn with_capacity(capacity: usize) -> Self {
        let capacity = capacity.clamp(1, u32::MAX as usize);
        // Forgetting leaves tombstones in the table; when they use up its
        // free room, it is rehashed in place if at most half full, else
        // doubled. Room for twice the entries keeps it rehashing in place,
        // at a fixed size: sized for the entries alone, a full guard's table
        // grew to twice that (measured with a HashMap: 2.2 MiB for 50,000).
        let seen = Seen {
            slots: HashTable::with_capacity(capacity.saturating_mul(2)),
            ring: vec![0; capacity].into_boxed_slice(),
            head: 0,
            len: 0,
            clock: i64::MIN,
        };
        Self { seen: Mutex::new(seen) }
    }

    /// Remembers the signature of a request that passed the signature check
    /// (the `X-Slack-Signature` value) and says whether it was seen before.
    /// `now` is Unix seconds.
    pub fn first_sighting(&self, signature: &[u8], now: i64) -> Result<(), Replayed> {
        let key = key(signature);
        // A poisoned lock only means another request panicked while holding
        // it; the table is still a table.
        let mut seen = self.seen.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        seen.first_sighting(key, now)
    }

    pub fn len(&self) -> usize {
        self.seen.lock().unwrap_or_else(std::sync::PoisonError::into_inner).len
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Seen {
    fn first_sighting(&mut self, key: u64, now: i64) -> Result<(), Replayed> {
        let before = self.clock;
        self.clock = before.max(now);
        // Every entry is younger than REMEMBER_SECS on the clock as it was,
        // so its age then is exact; add how far the clock has moved since.
        let moved = self.clock.saturating_sub(before);
        let capacity = self.ring.len();
        while self.len > 0 {
            let oldest_age = moved.saturating_add(age(self.ring[self.head], before));
            if oldest_age < REMEMBER_SECS && self.len < capacity {
                break;
            }
            self.forget_oldest();
        }
        let key = key & KEY_MASK;
        let key_hash = hash(key);
        if let Some(&slot) = self.slots.find(key_hash, |&slot| self.ring[slot as usize] & KEY_MASK == key) {
            return Err(Replayed { age_secs: age(self.ring[slot as usize], self.clock) });
        }
        let slot = (self.head + self.len) % capacity;
        self.ring[slot] = key | (self.clock as u64 & TIME_MASK);
        let ring = &self.ring;
        // `slot < capacity <= u32::MAX`.
        self.slots.insert_unique(key_hash, slot as u32, |&slot| hash(ring[slot as usize] & KEY_MASK));
        self.len += 1;
        Ok(())
    }

    fn forget_oldest(&mut self) {
        let head = self.head;
        match self.slots.find_entry(hash(self.ring[head] & KEY_MASK), |&slot| slot as usize == head) {
            Ok(entry) => {
                entry.remove();
            }
            Err(_) => debug_assert!(false, "every entry in the ring is in the table"),
        }
        self.head = (head + 1) % self.ring.len();
        self.len -= 1;
    }
}

/// The age of `entry` on `clock`, exact if it is under 2^[`TIME_BITS`] s
/// (the clock's low bits minus the entry's, wrapping).
fn age(entry: u64, clock: i64) -> i64 {
    ((clock as u64).wrapping_sub(entry) & TIME_MASK) as i64
}

/// Where the table looks for an entry with these key bits (the time bits
/// zero). hashbrown takes the bucket from the low bits of the hash and a
/// 7-bit tag from the top 7; the key bits are uniform but leave the low
/// [`TIME_BITS`] zero, so the high half is folded into the low half (a
/// bijection, and the top bits stay as they are).
fn hash(key_bits: u64) -> u64 {
    key_bits ^ (key_bits >> 32)
}

/// 64 bits of the signature. A signature that passed the check is an
/// HMAC-SHA256 (`v0=` and 64 hex digits): its bits are uniform and nobody
/// without the secret can choose them, so they need no further hashing, and
/// the first [`KEY_BITS`] (54) of them, kept as the top bits of an entry,
/// tell requests apart: a new request
/// shares them with one of the 28,000 remembered with odds of
/// 28,000 / 2^54 ≈ 1.6 × 10^-12 (at 46 requests a second around the clock,
/// one false "replay" in about 400 years). Anything else is digested first,
/// so the guard holds 8 bytes per entry whatever the caller passes.
fn key(signature: &[u8]) -> u64 {
    let mut first = [0u8; 8];
    // Only the digits of the first 8 bytes are decoded: the check decoded
    // them all already.
    match signature.strip_prefix(b"v0=") {
        Some(hex_digits) if hex_digits.len() == 64 && hex::decode_to_slice(&hex_digits[..16], &mut first).is_ok() => {}
        _ => {
            use sha2::Digest;
            let digest: [u8; 32] = sha2::Sha256::digest(signature).into();
            first.copy_from_slice(&digest[..8]);
        }
    }
    // Big-endian, so the bits an entry keeps are the MAC's first.
    u64::from_be_bytes(first)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const A: &[u8] = b"v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";
    const B: &[u8] = b"v0=b2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";

    /// A signature like Slack's: `v0=` and the hex digits of a SHA-256.
    fn sig(i: usize) -> Vec<u8> {
        use sha2::Digest;
        format!("v0={}", hex::encode(sha2::Sha256::digest(i.to_le_bytes()))).into_bytes()
    }

    impl ReplayGuard {
        /// The remembered entries, oldest first: key bits and age on the
        /// guard's clock.
        fn entries(&self) -> Vec<(u64, i64)> {
            let seen = self.seen.lock().unwrap();
            (0..seen.len)
                .map(|i| seen.ring[(seen.head + i) % seen.ring.len()])
                .map(|entry| (entry & KEY_MASK, age(entry, seen.clock)))
                .collect()
        }
    }

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
        // The guard's clock stays at 1,000: ages are measured on it.
        assert_eq!(guard.first_sighting(A, 400), Err(Replayed { age_secs: 0 }));
        assert_eq!(guard.first_sighting(A, i64::MIN), Err(Replayed { age_secs: 0 }));
        // Seen at 400 on a clock that stepped back: stamped 1,000, so it is
        // remembered until 1,600 (600 s on the guard's clock, 1,200 s on the
        // stepped-back one), never less.
        guard.first_sighting(B, 400).unwrap();
        for now in [401, 999, 1_000, 1_300, 1_599] {
            assert_eq!(guard.first_sighting(B, now), Err(Replayed { age_secs: (now - 1_000).max(0) }), "at {now}");
            assert_eq!(guard.first_sighting(A, now), Err(Replayed { age_secs: (now - 1_000).max(0) }), "at {now}");
        }
        assert_eq!(guard.first_sighting(A, 1_600), Ok(()), "600 s after it was seen");
        assert_eq!(guard.first_sighting(B, 1_600), Ok(()), "600 s after the guard's clock was where it was seen");
        assert_eq!(guard.len(), 2);
        // From the far past to the far future and back: no overflow.
        guard.first_sighting(A, i64::MAX).unwrap();
        assert_eq!(guard.first_sighting(A, i64::MIN), Err(Replayed { age_secs: 0 }));
        assert_eq!(guard.first_sighting(A, i64::MAX), Err(Replayed { age_secs: 0 }));
        assert_eq!(guard.len(), 1, "B was forgotten when the clock jumped forward");
    }

    #[test]
    fn a_slack_signature_is_keyed_by_the_first_8_bytes_of_its_mac_and_anything_else_by_its_digest() {
        assert_eq!(key(A), 0xa211_4d57_b48e_ac39);
        assert_eq!(key(B), 0xb211_4d57_b48e_ac39);
        let digest_of = |s: &[u8]| {
            use sha2::Digest;
            u64::from_be_bytes(sha2::Sha256::digest(s)[..8].try_into().unwrap())
        };
        // Not `v0=` and 64 digits, or not hex where the key is read.
        for other in [
            &b"v0=00"[..],
            &A[3..],
            &b"v1=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"[..],
            &b"v0=a2114d57b48eacxxb9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"[..],
            &A[..66],
            b"",
        ] {
            assert_eq!(key(other), digest_of(other), "{:?}", String::from_utf8_lossy(other));
        }
    }

    #[test]
    fn an_entry_holds_54_bits_of_the_key_and_the_low_10_of_its_second() {
        assert_eq!((TIME_BITS, KEY_BITS), (10, 54));
        assert_eq!(KEY_MASK, 0xFFFF_FFFF_FFFF_FC00);
        for key in [0, u64::MAX, 0x0123_4567_89AB_CDEF, key(A), key(B), key(b"v0=00")] {
            for seen in [0, 1, 1_023, 1_024, 1_700_000_000, -1, -1_025, i64::MIN, i64::MAX] {
                let guard = ReplayGuard::with_capacity(4);
                guard.seen.lock().unwrap().first_sighting(key, seen).unwrap();
                let entry = guard.seen.lock().unwrap().ring[0];
                assert_eq!(entry & KEY_MASK, key & KEY_MASK, "{key:#x} at {seen}");
                assert_eq!(entry & TIME_MASK, seen as u64 % 1_024, "{key:#x} at {seen}");
                for later in [0, 1, 599] {
                    let now = seen.saturating_add(later);
                    assert_eq!(age(entry, now), now - seen);
                    assert_eq!(
                        guard.seen.lock().unwrap().first_sighting(key, now),
                        Err(Replayed { age_secs: now - seen })
                    );
                }
            }
        }
        // Keys that differ only in their low 10 bits are the same key.
        let guard = ReplayGuard::default();
        guard.seen.lock().unwrap().first_sighting(0xABCD_0000_0000_0000, 0).unwrap();
        assert_eq!(guard.seen.lock().unwrap().first_sighting(0xABCD_0000_0000_03FF, 5), Err(Replayed { age_secs: 5 }));
        assert_eq!(guard.seen.lock().unwrap().first_sighting(0xABCD_0000_0000_0400, 5), Ok(()));
    }

    #[test]
    fn an_age_across_the_wrap_of_the_time_bits_is_exact() {
        for seen in [(1 << 10) - 1, (1 << 20) - 1, (1 << 32) - 1, -1, -(1 << 10) - 1] {
            for later in [1, 6, 599] {
                let guard = ReplayGuard::default();
                guard.first_sighting(A, seen).unwrap();
                assert_eq!(
                    guard.first_sighting(A, seen + later),
                    Err(Replayed { age_secs: later }),
                    "{seen} + {later}"
                );
                assert_eq!(guard.first_sighting(A, seen + 600), Ok(()), "{seen} + 600");
            }
        }
        let guard = ReplayGuard::default();
        guard.first_sighting(A, (1 << 20) - 1).unwrap();
        assert_eq!(guard.first_sighting(A, (1 << 20) + 5), Err(Replayed { age_secs: 6 }));
    }

    #[test]
    fn a_jump_forward_of_any_size_forgets_what_is_older_than_the_window() {
        for jump in [600, 1 << 10, (1 << 10) + 5, 1 << 20, (1 << 20) + 5, 1 << 40, i64::MAX] {
            let guard = ReplayGuard::default();
            let t = 1_700_000_000;
            guard.first_sighting(A, t).unwrap();
            guard.first_sighting(B, t + 1).unwrap();
            let now = t.saturating_add(jump);
            assert_eq!(guard.first_sighting(A, now), Ok(()), "{jump} s later");
            assert_eq!(guard.len(), if jump == 600 { 2 } else { 1 }, "{jump} s later");
            assert_eq!(guard.first_sighting(B, now).is_ok(), jump != 600, "{jump} s later");
        }
    }

    #[test]
    fn past_its_capacity_the_guard_forgets_in_arrival_order() {
        let guard = ReplayGuard::with_capacity(4);
        let t = 1_700_000_000;
        let keys: Vec<u64> = (0..7).map(|i| key(&sig(i)) & KEY_MASK).collect();
        // Arrival order, whatever the times: equal, stepping back, forward.
        for (i, now) in [t, t, t - 100, t + 3, t + 3, t - 5, t + 10].into_iter().enumerate() {
            guard.first_sighting(&sig(i), now).unwrap();
        }
        assert_eq!(guard.entries(), vec![(keys[3], 7), (keys[4], 7), (keys[5], 7), (keys[6], 0)]);
        // A full guard makes room before it looks, as before.
        assert_eq!(guard.first_sighting(&sig(6), t + 10), Err(Replayed { age_secs: 0 }));
        assert_eq!(guard.entries(), vec![(keys[4], 7), (keys[5], 7), (keys[6], 0)]);
        assert_eq!(guard.first_sighting(&sig(0), t + 11), Ok(()));
        assert_eq!(guard.entries(), vec![(keys[4], 8), (keys[5], 8), (keys[6], 1), (keys[0], 0)]);
    }

    #[test]
    fn the_table_keeps_its_first_size_however_long_the_guard_runs() {
        let guard = ReplayGuard::default();
        let bytes = {
            let seen = guard.seen.lock().unwrap();
            assert_eq!(seen.slots.capacity(), 57_344, "65,536 buckets");
            seen.slots.allocation_size()
        };
        assert!(bytes <= 65_536 * 5 + 64, "{bytes} B");
        let t = 1_700_000_000;
        // Four times over by capacity (several a second), then by age (one a
        // second).
        for i in 0..4 * MAX_ENTRIES {
            guard.first_sighting(&i.to_le_bytes(), t + (i / 100) as i64).unwrap();
            assert!(guard.len() <= MAX_ENTRIES);
        }
        assert_eq!(guard.len(), MAX_ENTRIES);
        for i in 0..2 * MAX_ENTRIES {
            guard.first_sighting(&(usize::MAX - i).to_le_bytes(), t + 100_000 + i as i64).unwrap();
        }
        assert_eq!(guard.len(), REMEMBER_SECS as usize);
        let seen = guard.seen.lock().unwrap();
        // Its capacity() drops as tombstones take room, until a rehash in
        // place frees them; its allocation never changes.
        assert_eq!(seen.slots.allocation_size(), bytes);
        assert_eq!(seen.ring.len(), MAX_ENTRIES);
    }

    /// The guard as it was, with a list: forgets from the front while the
    /// front is [`REMEMBER_SECS`] old on `now` or the list is full, then
    /// looks the signature up. With `steady`, `now` is first replaced by the
    /// latest `now` so far, as the guard's clock does.
    struct Model {
        capacity: usize,
        steady: bool,
        clock: i64,
        entries: Vec<(usize, i64)>,
    }

    impl Model {
        fn first_sighting(&mut self, signature: usize, now: i64) -> Result<(), Replayed> {
            self.clock = self.clock.max(now);
            let now = if self.steady { self.clock } else { now };
            while let Some(&(_, at)) = self.entries.first() {
                if now.saturating_sub(at) < REMEMBER_SECS && self.entries.len() < self.capacity {
                    break;
                }
                self.entries.remove(0);
            }
            if let Some(&(_, at)) = self.entries.iter().find(|&&(s, _)| s == signature) {
                return Err(Replayed { age_secs: now.saturating_sub(at) });
            }
            self.entries.push((signature, now));
            Ok(())
        }
    }

    fn start() -> impl Strategy<Value = i64> {
        prop_oneof![Just(0i64), -(1i64 << 40)..(1 << 40), Just((1 << 20) - 3), Just(i64::MAX - 2_000), any::<i64>()]
    }

    fn steps(back: bool) -> impl Strategy<Value = i64> {
        let low: i64 = if back { -700 } else { 0 };
        prop_oneof![
            4 => 0i64..=3,
            4 => low..=700,
            2 => 590i64..=610,
            1 => Just(1 << 10),
            1 => Just(1 << 20),
            1 => (if back { -(1i64 << 21) } else { 0 })..=(1 << 21),
        ]
    }

    proptest! {
        #[test]
        fn on_a_clock_that_moves_forward_the_guard_answers_as_a_list_would(
            capacity in 1usize..=8,
            start in start(),
            ops in proptest::collection::vec((0usize..12, steps(false)), 1..200),
        ) {
            let guard = ReplayGuard::with_capacity(capacity);
            let mut model = Model { capacity, steady: false, clock: i64::MIN, entries: Vec::new() };
            let mut now = start;
            for (signature, step) in ops {
                now = now.saturating_add(step);
                prop_assert_eq!(guard.first_sighting(&sig(signature), now), model.first_sighting(signature, now));
                prop_assert_eq!(guard.len(), model.entries.len());
            }
        }

        #[test]
        fn on_any_clock_the_guard_answers_as_a_list_on_its_clock_would_and_never_forgets_early(
            capacity in prop_oneof![1usize..=8, Just(1_000)],
            start in start(),
            ops in proptest::collection::vec((0usize..12, steps(true)), 1..200),
        ) {
            let guard = ReplayGuard::with_capacity(capacity);
            let mut model = Model { capacity, steady: true, clock: i64::MIN, entries: Vec::new() };
            let mut latest = i64::MIN;
            let mut accepted_at = [None::<i64>; 12];
            let mut now = start;
            for (signature, step) in ops {
                now = now.saturating_add(step);
                latest = latest.max(now);
                let answer = guard.first_sighting(&sig(signature), now);
                prop_assert_eq!(answer, model.first_sighting(signature, now));
                prop_assert_eq!(guard.len(), model.entries.len());
                if let Err(Replayed { age_secs }) = answer {
                    prop_assert!((0..REMEMBER_SECS).contains(&age_secs));
                } else {
                    // Unless full, the guard forgets a signature only once a
                    // `now` 600 s past the one it came with was seen.
                    if let (Some(at), 1_000) = (accepted_at[signature], capacity) {
                        prop_assert!(latest.saturating_sub(at) >= REMEMBER_SECS, "{} forgotten early", signature);
                    }
                    accepted_at[signature] = Some(now);
                }
            }
        }
    }
}
