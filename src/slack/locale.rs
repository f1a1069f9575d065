//! Each user's Slack locale (`users.info?include_locale=true`), asked once
//! per user and remembered in a bounded map, so a reply in the user's
//! language costs one Web API call per user per day, not one per command.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::{Instant, timeout_at};

use super::web_api::WebApi;

/// How long a known locale is trusted: users rarely change it.
const KNOWN_FOR: Duration = Duration::from_secs(24 * 60 * 60);
/// How long a failed lookup is remembered: long enough not to ask Slack on
/// every command while it is down, short enough to recover soon after.
const UNKNOWN_FOR: Duration = Duration::from_secs(5 * 60);
/// The most users remembered; past it the stalest entries make room.
const CAPACITY: usize = 10_000;
/// The lookup itself may take this long in the background, whatever the
/// caller waits; its answer then serves the user's next command.
const LOOKUP_BUDGET: Duration = Duration::from_secs(10);

#[derive(Clone)]
pub struct LocaleCache {
    api: WebApi,
    entries: Arc<Mutex<HashMap<String, Entry>>>,
}

#[derive(Clone)]
struct Entry {
    locale: Option<String>,
    expires: Instant,
}

impl LocaleCache {
    pub fn new(api: WebApi) -> Self {
        Self { api, entries: Arc::default() }
    }

    /// The user's locale (`ru-RU`), waiting for Slack no later than
    /// `wait_until`; `None` when Slack does not say in time. A lookup that
    /// outlives the wait goes on in the background and is remembered.
    pub async fn locale(&self, user: &str, wait_until: Instant) -> Option<String> {
        if let Some(entry) = self.cached(user) {
            return entry.locale;
        }
        let this = self.clone();
        let user = user.to_owned();
        let lookup = tokio::spawn(async move {
            let result = this.api.user_locale(&user, Instant::now() + LOOKUP_BUDGET).await;
            let (locale, kept_for) = match result {
                Ok(locale) => (locale, KNOWN_FOR),
                Err(e) => {
                    tracing::warn!(user_id = %user, error = %e, "could not learn the user's Slack locale; replying in English");
                    (None, UNKNOWN_FOR)
                }
            };
            this.remember(user, locale.clone(), kept_for);
            locale
        });
        timeout_at(wait_until, lookup).await.ok()?.ok()?
    }

    fn cached(&self, user: &str) -> Option<Entry> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.get(user).filter(|e| e.expires > Instant::now()).cloned()
    }

    fn remember(&self, user: String, locale: Option<String>, kept_for: Duration) {
        let now = Instant::now();
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= CAPACITY && !entries.contains_key(&user) {
            entries.retain(|_, e| e.expires > now);
            if entries.len() >= CAPACITY {
                // The entry closest to expiry is the stalest.
                if let Some(stalest) = entries.iter().min_by_key(|(_, e)| e.expires).map(|(k, _)| k.clone()) {
                    entries.remove(&stalest);
                }
            }
        }
        entries.insert(user, Entry { locale, expires: now + kept_for });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::slack::web_api::BotToken;
    use secrecy::SecretString;
    use serde_json::json;
    use wiremock::matchers::{path, query_param};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    fn cache(server: &MockServer) -> LocaleCache {
        let base = reqwest::Url::parse(&format!("{}/api/", server.uri())).unwrap();
        let token = BotToken::parse(SecretString::from("xoxb-1")).unwrap();
        let http = crate::http_client::client_builder(false).build().unwrap();
        let retry = crate::http_client::RetryPolicy::new(Duration::from_millis(10), Duration::from_millis(100));
        LocaleCache::new(WebApi::new(http, base, token, retry))
    }

    fn later() -> Instant {
        Instant::now() + Duration::from_secs(20)
    }

    #[tokio::test]
    async fn each_user_is_asked_once() {
        let slack = MockServer::start().await;
        Mock::given(path("/api/users.info"))
            .and(query_param("user", "U1"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ok": true, "user": {"locale": "ru-RU"}})))
            .expect(1)
            .mount(&slack)
            .await;
        Mock::given(path("/api/users.info"))
            .and(query_param("user", "U2"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ok": false, "error": "user_not_found"})))
            .expect(1)
            .mount(&slack)
            .await;
        let cache = cache(&slack);
        for _ in 0..3 {
            assert_eq!(cache.locale("U1", later()).await.as_deref(), Some("ru-RU"));
            assert_eq!(cache.locale("U2", later()).await, None);
        }
    }

    #[tokio::test]
    async fn a_slow_slack_is_not_waited_for_but_its_answer_is_kept() {
        let slack = MockServer::start().await;
        Mock::given(path("/api/users.info"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(json!({"ok": true, "user": {"locale": "ru-RU"}}))
                    .set_delay(Duration::from_millis(300)),
            )
            .expect(1)
            .mount(&slack)
            .await;
        let cache = cache(&slack);
        assert_eq!(cache.locale("U1", Instant::now()).await, None);
        // Generous: the background lookup finishes well within this.
        let mut locale = None;
        for _ in 0..100 {
            tokio::time::sleep(Duration::from_millis(50)).await;
            if let Some(entry) = cache.cached("U1") {
                locale = entry.locale;
                break;
            }
        }
        assert_eq!(locale.as_deref(), Some("ru-RU"));
    }

    #[tokio::test]
    async fn the_map_stays_bounded() {
        let slack = MockServer::start().await;
        let cache = cache(&slack);
        for i in 0..CAPACITY + 5 {
            cache.remember(format!("U{i}"), None, Duration::from_secs(60 + i as u64));
        }
        assert_eq!(cache.entries.lock().unwrap().len(), CAPACITY);
        assert!(cache.cached("U0").is_none(), "the stalest entry made room");
        assert!(cache.cached(&format!("U{}", CAPACITY + 4)).is_some());
    }
}
