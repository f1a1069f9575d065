//! Envelopes delivered more than once are handled once.
//!
//! Slack delivers an envelope again when it did not see our acknowledgement
//! in time: the connection dropped before the ack went out, or it went out on
//! a connection Slack was retiring. The repeat must not send the contact a
//! second time, yet it must be acknowledged, ideally with the same answer, so
//! the user still sees the reply. Each first delivery leaves a slot that its
//! answer fills; a repeat waits for that answer.
//!
//! Bounded by count: Slack retries within minutes, and a few thousand
//! deliveries cover that at any rate GREEN-API allows.

use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasher, RandomState};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::value::RawValue;
use tokio::sync::watch;

use super::envelope::Envelope;

/// An envelope's answer as the JSON its ack carries. Kept serialised: as a
/// `serde_json::Value` tree, a contact card's answer took about 9 KB (ten
/// objects, a map node each), and 4,096 of them 36 MiB; as text, about 0.7 KB.
pub type Payload = Arc<RawValue>;

/// The answer an envelope was acknowledged with: `None` while it is being
/// worked out, then `Some(answer)`, where the answer itself may be empty.
type Answer = Option<Option<Payload>>;

pub struct Deliveries {
    inner: Mutex<Inner>,
    capacity: usize,
    /// Keys are remembered as 64-bit keyed hashes of the ids rather than
    /// the ids themselves: a few thousand of them are held at any time, and
    /// two ids that Slack sends never share a hash by chance (about one in
    /// 10^15 with the memory full).
    hasher: RandomState,
}

/// At most three keys name a delivery: its envelope, trigger and event ids.
type Keys = ([u64; 3], usize);

struct Inner {
    answers: HashMap<u64, watch::Receiver<Answer>>,
    /// Keys of each remembered delivery, oldest first.
    order: VecDeque<Keys>,
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

pub struct EarlierAnswer(watch::Receiver<Answer>);

impl EarlierAnswer {
    /// The first delivery's answer, waiting up to `wait` for it; `None` if it
    /// did not come in time or never will.
    pub async fn answer(mut self, wait: Duration) -> Option<Payload> {
        match tokio::time::timeout(wait, self.0.wait_for(Option::is_some)).await {
            Ok(Ok(answer)) => answer.clone().flatten(),
            _ => None,
        }
    }
}

impl Deliveries {
    pub fn new(capacity: usize) -> Self {
        Self {
            inner: Mutex::new(Inner { answers: HashMap::new(), order: VecDeque::new() }),
            capacity: capacity.max(1),
            hasher: RandomState::new(),
        }
    }

    /// Records the envelope, or finds the delivery it repeats.
    pub fn register(&self, envelope: &Envelope) -> Delivery {
        let mut keys: Keys = ([0; 3], 0);
        for key in envelope.delivery_keys().iter().take(3) {
            keys.0[keys.1] = self.hasher.hash_one(key);
            keys.1 += 1;
        }
        // A poisoned lock only means another task panicked mid-insert; the
        // map is still consistent enough to answer from.
        let mut inner = self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let (hashes, count) = keys;
        if let Some(earlier) = hashes[..count].iter().find_map(|key| inner.answers.get(key)) {
            return Delivery::Repeat(EarlierAnswer(earlier.clone()));
        }
        let (slot, answer) = watch::channel(None);
        for &key in &hashes[..count] {
            inner.answers.insert(key, answer.clone());
        }
        inner.order.push_back(keys);
        while inner.order.len() > self.capacity {
            if let Some((oldest, count)) = inner.order.pop_front() {
                for key in &oldest[..count] {
                    inner.answers.remove(key);
                }
            }
        }
        Delivery::First(AnswerSlot(slot))
    }

    #[cfg(test)]
    fn remembered(&self) -> usize {
        self.inner.lock().unwrap().order.len()
    }
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
        assert_eq!(deliveries.remembered(), 3);
        let _ = repeat(deliveries.register(&envelope("e9", None, 1)));
        let _ = repeat(deliveries.register(&envelope("x", Some("t7"), 1)));
        let _ = first(deliveries.register(&envelope("e0", Some("t0"), 1)));
    }
}
