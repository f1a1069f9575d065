//! Envelopes delivered more than once are handled once.
//!
//! Slack delivers an envelope again when it did not see our acknowledgement
//! in time: the connection dropped before the ack went out, or it went out on
//! a connection Slack was retiring. The repeat must not send the contact a
//! second time, yet it must be acknowledged, ideally with the same answer, so
//! the user still sees the reply. Each first delivery leaves a slot that its
//! answer fills; a repeat waits for that answer.
//!
//! # Two memories
//!
//! - **Which deliveries came**: the keys of the last `capacity` deliveries
//!   (`Timing::remembered_deliveries`, 4,096), so that a repeat is never
//!   handled twice, however late it comes within them. Slack redelivers a
//!   slash command or an interaction only when it missed our ack, within
//!   seconds; the Events API also retries after 1 and 5 minutes (4,096
//!   deliveries are 5 minutes at 13 a second), but this app handles no
//!   events: a repeated one is acknowledged and dropped either way.
//! - **What they were answered**: only for the last [`RECENT_ANSWERS`]
//!   (256). An answer helps a quick repeat only: a slash command's or an
//!   interaction's reply reaches the user only within Slack's 3 s deadline,
//!   and an `events_api` ack carries none. 256 deliveries are 5.1 s of sends
//!   at 50 a second, GREEN-API's ceiling per instance and the default
//!   `GREEN_API_MAX_RPS`, so at that rate every repeat that could still
//!   show its answer finds it; at the rates a workspace sends contacts (a
//!   few a minute) the window is hours. Above 85 commands a second (several
//!   instances at full rate, or a flood of `help`), a repeat that comes late
//!   within the 3 s may find its answer gone: it is acknowledged without
//!   one, as when the first delivery failed, and still not handled again.
//!   An answer still being worked out is kept past the bound until it comes
//!   (such answers are as many as the commands in flight), so a repeat
//!   always waits for it.
//!
//! # Memory
//!
//! Measured as the test process's anonymous RSS (`resident_memory_when_full`
//! below, a debug build; one process per figure) after 3 × 4,096 deliveries,
//! each answered with 710 bytes (a contact card's ack), with 4,096 remembered:
//! - **652 KiB** as here. 292 KiB of it are the keys (measured with one
//!   answer kept): a ring of each delivery's three keys (24 B, 96 KiB in
//!   all), and a hash table holding, for each key, the `u32` of its place in
//!   the ring and which of the three it is, found by the key itself (4 + 1 B
//!   a bucket; sized up front for twice the most keys, 32,768 buckets,
//!   160 KiB, so that the tombstones of forgotten keys never make it grow).
//!   Each answer kept adds 1.44 KiB (from 1,024 and 4,096 kept: 1,756 and
//!   6,172 KiB): the answer with its `Arc` (0.73 KiB) and its watch channel.
//! - **6,516 KiB** when every remembered delivery kept its answer, in a
//!   `HashMap` from each key to a watch channel with a `VecDeque` of keys
//!   (before 2026-12-05): 1.6 KiB a delivery.
//!
//! Keys are 64-bit keyed hashes of the ids rather than the ids themselves:
//! two ids that Slack sends never share a hash by chance (about one in 10^15
//! with the memory full).

use std::collections::VecDeque;
use std::hash::{BuildHasher, RandomState};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hashbrown::HashTable;
use serde_json::value::RawValue;
use tokio::sync::watch;

use super::envelope::Envelope;

/// How many of the latest deliveries keep their answer for a repeat.
pub const RECENT_ANSWERS: usize = 256;

/// An envelope's answer as the JSON its ack carries. Kept serialised: as a
/// `serde_json::Value` tree, a contact card's answer took about 9 KB (ten
/// objects, a map node each), and 4,096 of them 36 MiB; as text, about 0.7 KB.
pub type Payload = Arc<RawValue>;

/// The answer an envelope was acknowledged with: `None` while it is being
/// worked out, then `Some(answer)`, where the answer itself may be empty.
type Answer = Option<Option<Payload>>;

/// At most three keys name a delivery: its envelope, trigger and event ids,
/// as keyed hashes; 0 is no key.
const KEYS: usize = 3;
type Keys = [u64; KEYS];

pub struct Deliveries {
    inner: Mutex<Inner>,
    hasher: RandomState,
}

/// Deliveries are numbered in the order they came, from 0; delivery `n`
/// lives at `n % keys.len()` in `keys` and, while among the latest, at
/// `n % answers.len()` in `answers`.
struct Inner {
    /// For each key of each remembered delivery, where it is: its place in
    /// `keys` times [`KEYS`], plus which of its keys it is.
    table: HashTable<u32>,
    /// The keys of the last `keys.len()` deliveries (the capacity).
    keys: Box<[Keys]>,
    /// The answers of the last `answers.len()` deliveries.
    answers: Box<[Option<watch::Receiver<Answer>>]>,
    /// Answers still being worked out for deliveries too old for
    /// `answers`, with their numbers, oldest first; the ones answered since
    /// are swept out every [`SWEEP_EVERY`] deliveries, or when there are
    /// `sweep_at` of them.
    late: VecDeque<(u64, watch::Receiver<Answer>)>,
    sweep_at: usize,
    /// The next delivery's number.
    next: u64,
    /// How many deliveries are remembered: the last `len`.
    len: usize,
}

/// What to do with an envelope.
pub enum Delivery {
    /// Not seen before: handle it, then fill the slot.
    First(AnswerSlot),
    /// Seen before: acknowledge with the earlier answer.
    Repeat(EarlierAnswer),
}

/// Where the first delivery's answer goes. Dropping it unfilled (a handler
/// that failed) lets repeats be acknowledged without an answer.
pub struct AnswerSlot(watch::Sender<Answer>);

impl AnswerSlot {
    pub fn fill(self, answer: Option<Payload>) {
        // Nobody waiting is fine: the value stays for later repeats.
        self.0.send_replace(Some(answer));
    }
}

/// The first delivery's answer, or `None` when it is no longer kept.
pub struct EarlierAnswer(Option<watch::Receiver<Answer>>);

impl EarlierAnswer {
    /// The first delivery's answer, waiting up to `wait` for it; `None` if it
    /// did not come in time, never will, or was forgotten.
    pub async fn answer(self, wait: Duration) -> Option<Payload> {
        let mut answer = self.0?;
        match tokio::time::timeout(wait, answer.wait_for(Option::is_some)).await {
            Ok(Ok(answer)) => answer.clone().flatten(),
            _ => None,
        }
    }
}

impl Deliveries {
    /// Remembers the last `capacity` deliveries (at least 1), and the answers
    /// of the last [`RECENT_ANSWERS`] of them.
    pub fn new(capacity: usize) -> Self {
        Self::with_answers(capacity, RECENT_ANSWERS)
    }

    /// Remembers the last `capacity` deliveries (at least 1, at most 2^30),
    /// and the answers of the last `answers` of them (at least 1, at most
    /// `capacity`). Both tables are sized up front.
    pub fn with_answers(capacity: usize, answers: usize) -> Self {
        let capacity = capacity.clamp(1, 1 << 30);
        let answers = answers.clamp(1, capacity);
        // Forgetting leaves tombstones in the table; when they use up its
        // free room, it is rehashed in place if at most half full, else
        // doubled. Room for twice the most keys keeps it at a fixed size.
        let inner = Inner {
            table: HashTable::with_capacity(2 * KEYS * capacity),
            keys: vec![[0; KEYS]; capacity].into_boxed_slice(),
            answers: (0..answers).map(|_| None).collect(),
            late: VecDeque::new(),
            sweep_at: SWEEP_EVERY,
            next: 0,
            len: 0,
        };
        Self { inner: Mutex::new(inner), hasher: RandomState::new() }
    }

    /// Records the envelope, or finds the delivery it repeats.
    pub fn register(&self, envelope: &Envelope) -> Delivery {
        let mut keys: Keys = [0; KEYS];
        for (hash, key) in keys.iter_mut().zip(envelope.delivery_keys()) {
            *hash = self.hasher.hash_one(key).max(1);
        }
        // A poisoned lock only means another task panicked mid-insert; the
        // tables are still consistent enough to answer from.
        let mut inner = self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(earlier) = inner.find(&keys) {
            return Delivery::Repeat(EarlierAnswer(inner.answer(earlier)));
        }
        let (slot, answer) = watch::channel(None);
        inner.remember(keys, answer);
        Delivery::First(AnswerSlot(slot))
    }
}

/// How often (in deliveries) the answers kept past the bound are swept, and
/// the fewest of them that cause a sweep.
const SWEEP_EVERY: usize = 16;

impl Inner {
    /// The number of the remembered delivery that has one of these keys.
    fn find(&self, keys: &Keys) -> Option<u64> {
        let place = keys.iter().filter(|&&key| key != 0).find_map(|&key| {
            self.table.find(key, |&entry| self.key(entry) == key).map(|&entry| entry as usize / KEYS)
        })?;
        // Delivery `n` is at `n % capacity`, and the last is `next - 1`.
        let capacity = self.keys.len();
        let last = self.next - 1;
        let back = (last % capacity as u64) as usize + capacity - place;
        Some(last - (back % capacity) as u64)
    }

    /// The key a table entry stands for.
    fn key(&self, entry: u32) -> u64 {
        let entry = entry as usize;
        self.keys[entry / KEYS][entry % KEYS]
    }

    /// What delivery `n` was (or will be) answered with, if still kept.
    fn answer(&self, n: u64) -> Option<watch::Receiver<Answer>> {
        if self.next - n <= self.answers.len() as u64 {
            return self.answers[(n % self.answers.len() as u64) as usize].clone();
        }
        self.late.iter().find(|(late, _)| *late == n).map(|(_, answer)| answer.clone())
    }

    fn remember(&mut self, keys: Keys, answer: watch::Receiver<Answer>) {
        if self.len == self.keys.len() {
            self.forget_oldest();
        }
        let n = self.next;
        let place = (n % self.keys.len() as u64) as usize;
        self.keys[place] = keys;
        for (which, &key) in keys.iter().enumerate() {
            if key != 0 {
                let keys = &self.keys;
                // `place < 2^30`, so the entry fits in a u32.
                let entry = (place * KEYS + which) as u32;
                self.table.insert_unique(key, entry, |&entry| {
                    let entry = entry as usize;
                    keys[entry / KEYS][entry % KEYS]
                });
            }
        }
        let at = (n % self.answers.len() as u64) as usize;
        if let Some(older) = self.answers[at].replace(answer) {
            // Delivery `n - answers.len()`: kept while still being worked
            // out, if its keys are still remembered (the last `len`).
            if pending(&older) && self.len >= self.answers.len() {
                self.late.push_back((n - self.answers.len() as u64, older));
            }
        }
        self.next += 1;
        self.len += 1;
        // Amortised: a sweep costs one look at each late answer, at most
        // once every SWEEP_EVERY deliveries or when they have doubled.
        if !self.late.is_empty() && (n.is_multiple_of(SWEEP_EVERY as u64) || self.late.len() >= self.sweep_at) {
            self.sweep_late();
        }
    }

    /// Drops the answers that came for deliveries past the bound, keeping
    /// those still being worked out.
    fn sweep_late(&mut self) {
        self.late.retain(|(_, answer)| pending(answer));
        self.sweep_at = (2 * self.late.len()).max(SWEEP_EVERY);
    }

    fn forget_oldest(&mut self) {
        let oldest = self.next - self.len as u64;
        let place = (oldest % self.keys.len() as u64) as usize;
        for (which, &key) in self.keys[place].iter().enumerate() {
            if key == 0 {
                continue;
            }
            let entry = (place * KEYS + which) as u32;
            match self.table.find_entry(key, |&e| e == entry) {
                Ok(found) => {
                    found.remove();
                }
                Err(_) => debug_assert!(false, "every remembered key is in the table"),
            }
        }
        self.keys[place] = [0; KEYS];
        if self.late.front().is_some_and(|(late, _)| *late == oldest) {
            self.late.pop_front();
        }
        self.len -= 1;
    }
}

/// Whether an answer is still being worked out: not given yet, and its slot
/// not dropped.
fn pending(answer: &watch::Receiver<Answer>) -> bool {
    answer.borrow().is_none() && answer.has_changed().is_ok()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn raw(value: serde_json::Value) -> Option<Payload> {
        Some(Arc::from(serde_json::value::to_raw_value(&value).unwrap()))
    }

    fn text(answer: Option<Payload>) -> Option<String> {
        answer.map(|a| a.get().to_owned())
    }
    use crate::socket_mode::envelope::EnvelopeKind;

    fn envelope(id: &str, trigger_id: Option<&str>, retry_attempt: u64) -> Envelope {
        let mut payload = json!({"text": "10000000 79876543210 Ivan"});
        if let Some(trigger_id) = trigger_id {
            payload["trigger_id"] = json!(trigger_id);
        }
        Envelope {
            envelope_id: id.into(),
            kind: EnvelopeKind::SlashCommands,
            payload,
            accepts_response_payload: true,
            retry_attempt,
        }
    }

    fn first(delivery: Delivery) -> AnswerSlot {
        match delivery {
            Delivery::First(slot) => slot,
            Delivery::Repeat(_) => panic!("expected a first delivery"),
        }
    }

    impl Deliveries {
        /// How many deliveries are remembered, and how many answers.
        fn remembered(&self) -> (usize, usize) {
            let inner = self.inner.lock().unwrap();
            (inner.len, inner.answers.iter().flatten().count() + inner.late.len())
        }
    }

    fn repeat(delivery: Delivery) -> EarlierAnswer {
        match delivery {
            Delivery::Repeat(earlier) => earlier,
            Delivery::First(_) => panic!("expected a repeat"),
        }
    }

    #[tokio::test]
    async fn the_same_envelope_again_gets_the_first_answer() {
        let deliveries = Deliveries::new(16);
        let slot = first(deliveries.register(&envelope("e1", Some("t1"), 0)));
        slot.fill(raw(json!({"text": "sent"})));
        let earlier = repeat(deliveries.register(&envelope("e1", Some("t1"), 1)));
        assert_eq!(text(earlier.answer(Duration::from_secs(5)).await).as_deref(), Some(r#"{"text":"sent"}"#));
    }

    #[tokio::test]
    async fn a_retry_in_a_new_envelope_is_known_by_its_trigger_id() {
        let deliveries = Deliveries::new(16);
        let _slot = first(deliveries.register(&envelope("e1", Some("t1"), 0)));
        let _ = repeat(deliveries.register(&envelope("e2", Some("t1"), 1)));
        // Another command is another delivery.
        let _ = first(deliveries.register(&envelope("e3", Some("t2"), 0)));
        let _ = first(deliveries.register(&envelope("e4", None, 0)));
    }

    #[tokio::test]
    async fn a_repeat_waits_for_an_answer_still_being_worked_out() {
        let deliveries = Deliveries::new(16);
        let slot = first(deliveries.register(&envelope("e1", None, 0)));
        let earlier = repeat(deliveries.register(&envelope("e1", None, 1)));
        let waiting = tokio::spawn(earlier.answer(Duration::from_secs(60)));
        tokio::task::yield_now().await;
        slot.fill(raw(json!("late")));
        assert_eq!(text(waiting.await.unwrap()).as_deref(), Some(r#""late""#));
    }

    #[tokio::test]
    async fn a_repeat_of_a_failed_or_slow_delivery_is_acknowledged_without_an_answer() {
        let deliveries = Deliveries::new(16);
        let slot = first(deliveries.register(&envelope("e1", None, 0)));
        drop(slot);
        assert!(repeat(deliveries.register(&envelope("e1", None, 1))).answer(Duration::from_secs(60)).await.is_none());

        let _slot = first(deliveries.register(&envelope("e2", None, 0)));
        let earlier = repeat(deliveries.register(&envelope("e2", None, 1)));
        assert!(earlier.answer(Duration::ZERO).await.is_none());
    }

    #[tokio::test]
    async fn an_empty_answer_is_an_answer() {
        let deliveries = Deliveries::new(16);
        first(deliveries.register(&envelope("e1", None, 0))).fill(None);
        assert!(repeat(deliveries.register(&envelope("e1", None, 1))).answer(Duration::from_secs(60)).await.is_none());
    }

    #[tokio::test]
    async fn memory_is_bounded_and_the_oldest_are_forgotten_first() {
        let deliveries = Deliveries::new(3);
        for i in 0..10 {
            first(deliveries.register(&envelope(&format!("e{i}"), Some(&format!("t{i}")), 0))).fill(None);
        }
        assert_eq!(deliveries.remembered(), (3, 3));
        let _ = repeat(deliveries.register(&envelope("e9", None, 1)));
        let _ = repeat(deliveries.register(&envelope("x", Some("t7"), 1)));
        let _ = first(deliveries.register(&envelope("e0", Some("t0"), 1)));
    }

    /// Deliveries `e{i}` with triggers `t{i}`, each answered with `i`.
    fn deliver(deliveries: &Deliveries, range: std::ops::Range<usize>) {
        for i in range {
            first(deliveries.register(&envelope(&format!("e{i}"), Some(&format!("t{i}")), 0))).fill(raw(json!(i)));
        }
    }

    async fn answer_to(deliveries: &Deliveries, i: usize) -> Option<String> {
        text(repeat(deliveries.register(&envelope(&format!("e{i}"), None, 1))).answer(Duration::from_secs(60)).await)
    }

    #[tokio::test]
    async fn ids_are_forgotten_only_past_the_id_bound() {
        let deliveries = Deliveries::with_answers(100, 4);
        deliver(&deliveries, 0..100);
        assert_eq!(deliveries.remembered(), (100, 4));
        for i in (0..100).rev() {
            let _ = repeat(deliveries.register(&envelope(&format!("e{i}"), None, 1)));
            let _ = repeat(deliveries.register(&envelope("new", Some(&format!("t{i}")), 1)));
        }
        deliver(&deliveries, 100..101);
        let _ = first(deliveries.register(&envelope("e0", None, 1)));
        // e0 again pushed out e1; e2 onwards are still there.
        let _ = first(deliveries.register(&envelope("x", Some("t1"), 1)));
        for i in 3..101 {
            let _ = repeat(deliveries.register(&envelope(&format!("e{i}"), None, 1)));
        }
        assert_eq!(deliveries.remembered(), (100, 4));
    }

    #[tokio::test]
    async fn past_the_answer_bound_a_repeat_is_still_not_handled_twice_and_is_acked_without_an_answer() {
        let deliveries = Deliveries::with_answers(100, 4);
        deliver(&deliveries, 0..10);
        for i in 6..10 {
            assert_eq!(answer_to(&deliveries, i).await, Some(i.to_string()), "answer {i} is among the last 4");
        }
        for i in 0..6 {
            assert_eq!(answer_to(&deliveries, i).await, None, "answer {i} is forgotten, the delivery is not");
        }
        // A repeat known by its trigger id alone, too.
        let earlier = repeat(deliveries.register(&envelope("new", Some("t9"), 1)));
        assert_eq!(text(earlier.answer(Duration::from_secs(60)).await).as_deref(), Some("9"));
        let earlier = repeat(deliveries.register(&envelope("new", Some("t2"), 1)));
        assert!(earlier.answer(Duration::from_secs(60)).await.is_none());
        assert_eq!(deliveries.remembered(), (10, 4));
    }

    #[tokio::test]
    async fn an_answer_still_being_worked_out_is_awaited_even_past_the_answer_bound() {
        let deliveries = Deliveries::with_answers(1000, 4);
        // Many slow first deliveries, more than one sweep's worth.
        let slots: Vec<_> =
            (0..50).map(|i| first(deliveries.register(&envelope(&format!("slow{i}"), None, 0)))).collect();
        deliver(&deliveries, 0..100);
        assert_eq!(deliveries.remembered(), (150, 4 + 50));
        let waiting: Vec<_> = (0..50)
            .map(|i| repeat(deliveries.register(&envelope(&format!("slow{i}"), None, 1))))
            .map(|earlier| tokio::spawn(earlier.answer(Duration::from_secs(60))))
            .collect();
        tokio::task::yield_now().await;
        for (i, slot) in slots.into_iter().enumerate() {
            if i % 2 == 0 {
                slot.fill(raw(json!(format!("slow {i}"))));
            }
            // The odd ones failed: their repeats are acknowledged without.
        }
        for (i, waiting) in waiting.into_iter().enumerate() {
            let expected = (i % 2 == 0).then(|| format!(r#""slow {i}""#));
            assert_eq!(text(waiting.await.unwrap()), expected, "slow{i}");
        }
        // Once answered, they go with the next sweep.
        deliver(&deliveries, 100..100 + SWEEP_EVERY);
        assert_eq!(deliveries.remembered(), (150 + SWEEP_EVERY, 4));
        assert_eq!(answer_to(&deliveries, 0).await, None);
        assert!(repeat(deliveries.register(&envelope("slow0", None, 2))).answer(Duration::ZERO).await.is_none());
    }

    #[tokio::test]
    async fn answers_kept_past_the_bound_go_when_their_delivery_is_forgotten() {
        let deliveries = Deliveries::with_answers(8, 2);
        let _slow = first(deliveries.register(&envelope("slow", None, 0)));
        deliver(&deliveries, 0..7);
        assert_eq!(deliveries.remembered(), (8, 3));
        deliver(&deliveries, 7..8);
        assert_eq!(deliveries.remembered(), (8, 2), "still being worked out, but forgotten with its delivery");
        let _ = first(deliveries.register(&envelope("slow", None, 1)));
    }

    #[tokio::test]
    async fn with_both_bounds_the_same_every_remembered_delivery_keeps_its_answer() {
        let deliveries = Deliveries::with_answers(4, 4);
        let _slow = first(deliveries.register(&envelope("slow", None, 0)));
        deliver(&deliveries, 0..10);
        assert_eq!(deliveries.remembered(), (4, 4));
        for i in 6..10 {
            assert_eq!(answer_to(&deliveries, i).await, Some(i.to_string()));
        }
    }

    #[test]
    fn the_tables_keep_their_size_as_deliveries_come_and_go() {
        for keys in 1..=KEYS {
            let deliveries = Deliveries::with_answers(64, 4);
            let size = deliveries.inner.lock().unwrap().table.allocation_size();
            for i in 0..10_000 {
                let mut envelope = envelope(&format!("e{i}"), (keys > 1).then(|| format!("t{i}")).as_deref(), 0);
                if keys > 2 {
                    envelope.payload["event_id"] = json!(format!("Ev{i}"));
                }
                first(deliveries.register(&envelope)).fill(None);
            }
            let inner = deliveries.inner.lock().unwrap();
            // Forgotten keys leave tombstones; they are cleared in place.
            assert_eq!(inner.table.allocation_size(), size, "{keys} keys a delivery");
            assert_eq!(inner.table.len(), 64 * keys);
            assert_eq!((inner.keys.len(), inner.answers.len(), inner.late.len()), (64, 4, 0));
        }
    }

    /// Not a check: the figures in the module doc. Run alone, with
    /// `ANSWERS=256 cargo test --lib dedup::tests::resident_memory_when_full -- --ignored --nocapture`.
    /// Anonymous RSS only: the file-backed pages of the test binary grow as
    /// its code runs.
    #[test]
    #[ignore = "a measurement; run by hand"]
    fn resident_memory_when_full() {
        fn rss_anon_kib() -> i64 {
            let status = std::fs::read_to_string("/proc/self/status").unwrap();
            let line = status.lines().find(|line| line.starts_with("RssAnon:")).unwrap();
            line.split_whitespace().nth(1).unwrap().parse().unwrap()
        }
        // About the size of a contact card's ack (blocks and fallback text).
        let answer = json!({
            "response_type": "in_channel",
            "text": "Contact card sent: Ivan Petrov, Acme, +7 987 654-32-10 to 79876543210",
            "blocks": [
                {"type": "header", "text": {"type": "plain_text", "text": "Contact card sent"}},
                {"type": "section", "fields": [
                    {"type": "mrkdwn", "text": "*Name*\nIvan Petrov"},
                    {"type": "mrkdwn", "text": "*Company*\nAcme Widgets International"},
                    {"type": "mrkdwn", "text": "*Phone*\n+7 987 654-32-10"},
                    {"type": "mrkdwn", "text": "*To*\nWhatsApp 79876543210"}
                ]},
                {"type": "context", "elements": [
                    {"type": "mrkdwn", "text": "Sent by <@U2147483697> through GREEN-API instance 1101000001 (WhatsApp), message id BAE5F4886F3A2B1C, queued for delivery"},
                    {"type": "mrkdwn", "text": "Use `/sendcontact help` for the other forms of the command"}
                ]}
            ]
        });
        let size = answer.to_string().len();
        // One bound per process: freed memory stays with the allocator.
        let answers = std::env::var("ANSWERS").map_or(RECENT_ANSWERS, |answers| answers.parse().unwrap());
        {
            let before = rss_anon_kib();
            let deliveries = Deliveries::with_answers(4096, answers);
            let empty = rss_anon_kib() - before;
            for round in 0..3 {
                for i in 0..4096 {
                    let envelope = envelope(&format!("envelope-{round}-{i}"), Some(&format!("trigger-{round}-{i}")), 0);
                    first(deliveries.register(&envelope)).fill(raw(answer.clone()));
                }
            }
            let full = rss_anon_kib() - before;
            println!(
                "4,096 deliveries, the last {answers} answers ({size} bytes each): {empty} KiB empty, {full} KiB full"
            );
        }
    }
}
