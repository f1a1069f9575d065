use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use slack_sendcontact::config::{BotSettings, FromEnv, ServeConfig};
use slack_sendcontact::slack::signature::{SigningSecret, sign};
use slack_sendcontact::startup::{Application, Tuning};
use slack_sendcontact::state::{Clock, SystemClock};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockBuilder, MockServer, Request, Respond, ResponseTemplate};

pub const SIGNING_SECRET: &str = "test-signing-secret-8f742231b10e";
pub const TOKEN: &str = "d4e4276df8044c259611ee08aefc198482b441126d517a466d";
pub const ID_INSTANCE: &str = "4100000000";
pub const SEND_CONTACT_PATH: &str =
    "/waInstance4100000000/sendContact/d4e4276df8044c259611ee08aefc198482b441126d517a466d";
pub const RESPONSE_URL_PATH: &str = "/commands/T0001/1234/5678abcd";
pub const BOT_TOKEN: &str = "xoxb-1111-2222-testbottoken";

pub struct TestApp {
    pub address: String,
    /// `http://127.0.0.1:{METRICS_PORT}` when the test set one.
    pub metrics_address: Option<String>,
    pub green_api: MockServer,
    pub slack: MockServer,
    pub client: reqwest::Client,
}

pub fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Starts the app with test settings, which `configure` may change.
pub async fn spawn_app_with(configure: impl FnOnce(&mut ServeConfig)) -> TestApp {
    spawn_app_on(MockServer::start().await, configure).await
}

/// Starts the app with test settings and tuning, which the closures may
/// change.
pub async fn spawn_app_tuned(configure: impl FnOnce(&mut ServeConfig), tune: impl FnOnce(&mut Tuning)) -> TestApp {
    spawn(MockServer::start().await, configure, tune).await
}

/// Starts the app against a GREEN-API mock prepared beforehand, for what the
/// app asks at start-up.
pub async fn spawn_app_on(green_api: MockServer, configure: impl FnOnce(&mut ServeConfig)) -> TestApp {
    spawn(green_api, configure, |_| {}).await
}

/// Starts the app with a bot token, its Web API played by `slack` at
/// `{slack}/api/`; `configure` may change the rest.
pub async fn spawn_app_with_bot(configure: impl FnOnce(&mut ServeConfig)) -> TestApp {
    spawn_with_bot(MockServer::start().await, configure).await
}

async fn spawn_with_bot(green_api: MockServer, configure: impl FnOnce(&mut ServeConfig)) -> TestApp {
    let slack = MockServer::start().await;
    let bot = ServeConfig::from_vars([
        ("SLACK_SIGNING_SECRET", SIGNING_SECRET.to_owned()),
        ("GREEN_API_URL", green_api.uri()),
        ("GREEN_API_ID_INSTANCE", ID_INSTANCE.to_owned()),
        ("GREEN_API_TOKEN_INSTANCE", TOKEN.to_owned()),
        ("SLACK_BOT_TOKEN", BOT_TOKEN.to_owned()),
        ("SLACK_API_URL", format!("{}/api/", slack.uri())),
    ])
    .expect("test configuration is valid")
    .bot;
    let bot: Option<BotSettings> = bot;
    spawn_on_slack(
        green_api,
        slack,
        move |config| {
            config.bot = bot;
            configure(config);
        },
        |tuning| tuning.web_api_backoff = Duration::from_millis(20),
    )
    .await
}

async fn spawn(
    green_api: MockServer,
    configure: impl FnOnce(&mut ServeConfig),
    tune: impl FnOnce(&mut Tuning),
) -> TestApp {
    spawn_on_slack(green_api, MockServer::start().await, configure, tune).await
}

async fn spawn_on_slack(
    green_api: MockServer,
    slack: MockServer,
    configure: impl FnOnce(&mut ServeConfig),
    tune: impl FnOnce(&mut Tuning),
) -> TestApp {
    let instance = vec![
        ("GREEN_API_URL", green_api.uri()),
        ("GREEN_API_ID_INSTANCE", ID_INSTANCE.to_owned()),
        ("GREEN_API_TOKEN_INSTANCE", TOKEN.to_owned()),
    ];
    spawn_with_vars(green_api, slack, instance, configure, tune, Arc::new(SystemClock)).await
}

/// Starts the app with the clock its signature check reads.
pub async fn spawn_app_with_clock(clock: Arc<dyn Clock>) -> TestApp {
    let green_api = MockServer::start().await;
    let instance = vec![
        ("GREEN_API_URL", green_api.uri()),
        ("GREEN_API_ID_INSTANCE", ID_INSTANCE.to_owned()),
        ("GREEN_API_TOKEN_INSTANCE", TOKEN.to_owned()),
    ];
    spawn_with_vars(green_api, MockServer::start().await, instance, |_| {}, |_| {}, clock).await
}

/// Starts the app with several GREEN-API instances: SENDCONTACT_CONFIG names
/// `file`, whose `token_env` variables `tokens` sets. `green_api` of the
/// result is an unused mock: the file names the instances' own.
pub async fn spawn_app_with_instances(file: &std::path::Path, tokens: &[(&'static str, &str)]) -> TestApp {
    let mut vars = vec![("SENDCONTACT_CONFIG", file.to_str().expect("a UTF-8 path").to_owned())];
    vars.extend(tokens.iter().map(|(name, token)| (*name, (*token).to_owned())));
    spawn_with_vars(MockServer::start().await, MockServer::start().await, vars, |_| {}, |_| {}, Arc::new(SystemClock))
        .await
}

async fn spawn_with_vars(
    green_api: MockServer,
    slack: MockServer,
    instances: Vec<(&'static str, String)>,
    configure: impl FnOnce(&mut ServeConfig),
    tune: impl FnOnce(&mut Tuning),
    clock: Arc<dyn Clock>,
) -> TestApp {
    let mut vars = vec![
        ("SLACK_SIGNING_SECRET", SIGNING_SECRET.to_owned()),
        ("HOST", "127.0.0.1".to_owned()),
        ("PORT", "0".to_owned()),
        ("SLACK_RESPONSE_URL_HOSTS", "127.0.0.1".to_owned()),
        ("GREEN_API_TIMEOUT_MS", "5000".to_owned()),
    ];
    vars.extend(instances);
    let mut config = ServeConfig::from_vars(vars).expect("test configuration is valid");
    configure(&mut config);
    let mut tuning = Tuning { response_url_backoff: Duration::from_millis(50), ..Tuning::default() };
    tune(&mut tuning);
    let app = Application::build_with(config, tuning, clock).expect("the app starts");
    let address = format!("http://127.0.0.1:{}", app.port());
    let metrics_address = app.metrics_port().map(|port| format!("http://127.0.0.1:{port}"));
    tokio::spawn(app.run_until(std::future::pending()));
    let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
    TestApp { address, metrics_address, green_api, slack, client }
}

impl TestApp {
    /// A slash-command form as Slack sends it, with this `text`.
    pub fn form(&self, text: &str) -> String {
        self.form_with(text, &[])
    }

    /// The form with some fields replaced (or added).
    pub fn form_with(&self, text: &str, overrides: &[(&str, &str)]) -> String {
        let response_url = format!("{}{RESPONSE_URL_PATH}", self.slack.uri());
        // Slack gives every invocation its own trigger_id, so two commands
        // never share a signature (the app refuses a replay).
        static INVOCATIONS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let trigger_id =
            format!("13345224609.738474920.{}", INVOCATIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
        let mut fields = vec![
            ("token", "gIkuvaNzQIHg97ATvDxqgjtO"),
            ("team_id", "T0001"),
            ("team_domain", "example"),
            ("channel_id", "C2147483705"),
            ("channel_name", "test"),
            ("user_id", "U2147483697"),
            ("user_name", "Steve"),
            ("command", "/sendcontact"),
            ("text", text),
            ("response_url", response_url.as_str()),
            ("trigger_id", trigger_id.as_str()),
            ("api_app_id", "A123456"),
        ];
        for (key, value) in overrides {
            fields.retain(|(k, _)| k != key);
            fields.push((key, value));
        }
        serde_urlencoded::to_string(&fields).unwrap()
    }

    pub async fn post_command(&self, text: &str) -> reqwest::Response {
        self.post_signed(self.form(text), now()).await
    }

    pub async fn post_signed(&self, body: String, timestamp: i64) -> reqwest::Response {
        let signature = sign(&SigningSecret::new(SIGNING_SECRET.into()), timestamp, body.as_bytes());
        self.post_with_headers(
            body,
            &[("X-Slack-Request-Timestamp", &timestamp.to_string()), ("X-Slack-Signature", &signature)],
        )
        .await
    }

    pub async fn post_with_headers(
        &self,
        body: impl Into<reqwest::Body>,
        headers: &[(&str, &str)],
    ) -> reqwest::Response {
        self.post_to("/slack/commands", body, headers).await
    }

    /// An interaction as Slack sends it: `payload` as the one form field,
    /// signed now.
    pub async fn post_interaction(&self, payload: &Value) -> reqwest::Response {
        let body = serde_urlencoded::to_string([("payload", payload.to_string())]).unwrap();
        let timestamp = now();
        let signature = sign(&SigningSecret::new(SIGNING_SECRET.into()), timestamp, body.as_bytes());
        self.post_to(
            "/slack/interactions",
            body,
            &[("X-Slack-Request-Timestamp", &timestamp.to_string()), ("X-Slack-Signature", &signature)],
        )
        .await
    }

    /// POSTs a form body to `path` with these headers.
    pub async fn post_to(
        &self,
        path: &str,
        body: impl Into<reqwest::Body>,
        headers: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut request = self
            .client
            .post(format!("{}{path}", self.address))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send().await.expect("the app answers")
    }

    /// Requests response_url received, as JSON.
    pub async fn response_url_posts(&self) -> Vec<Value> {
        self.slack
            .received_requests()
            .await
            .unwrap_or_default()
            .iter()
            .filter(|r| r.url.path() == RESPONSE_URL_PATH)
            .map(|r| serde_json::from_slice(&r.body).expect("response_url gets JSON"))
            .collect()
    }

    /// Waits (generously) until response_url has received `count` POSTs.
    pub async fn wait_for_response_url_posts(&self, count: usize) -> Vec<Value> {
        for _ in 0..300 {
            let posts = self.response_url_posts().await;
            if posts.len() >= count {
                return posts;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("response_url did not receive {count} POSTs within 15 s");
    }

    /// The JSON bodies Slack's Web API method `method` received so far.
    pub async fn web_api_calls(&self, method: &str) -> Vec<Value> {
        let path = format!("/api/{method}");
        self.slack
            .received_requests()
            .await
            .unwrap_or_default()
            .iter()
            .filter(|r| r.url.path() == path)
            .map(|r| serde_json::from_slice(&r.body).unwrap_or(Value::Null))
            .collect()
    }

    /// Waits (generously) until the Web API method has been called `count`
    /// times, and returns the bodies.
    pub async fn wait_for_web_api_calls(&self, method: &str, count: usize) -> Vec<Value> {
        for _ in 0..300 {
            let calls = self.web_api_calls(method).await;
            if calls.len() >= count {
                return calls;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("{method} was not called {count} times within 15 s");
    }
}

/// A mock for one method of Slack's Web API, with the bot token.
pub fn web_api(method_name: &str) -> MockBuilder {
    Mock::given(method("POST"))
        .and(path(format!("/api/{method_name}")))
        .and(wiremock::matchers::header("authorization", format!("Bearer {BOT_TOKEN}").as_str()))
}

/// Slack's answer to a Web API call that worked.
pub fn slack_ok(extra: Value) -> ResponseTemplate {
    let mut body = serde_json::json!({"ok": true});
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        body.extend(extra.clone());
    }
    ResponseTemplate::new(200).set_body_json(body)
}

/// A mock for GREEN-API's sendContact.
pub fn send_contact() -> MockBuilder {
    Mock::given(method("POST")).and(path(SEND_CONTACT_PATH))
}

pub fn id_message(id: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(serde_json::json!({ "idMessage": id }))
}

/// When requests reached a mock. wiremock keeps no timestamps, so a test that
/// checks how calls are spaced in time answers through `Arrivals::answer`,
/// which notes the instant each request arrived.
#[derive(Clone, Default)]
pub struct Arrivals(Arc<Mutex<Vec<Instant>>>);

struct NoteArrival {
    arrivals: Arrivals,
    response: ResponseTemplate,
}

impl Respond for NoteArrival {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        self.arrivals.0.lock().unwrap().push(Instant::now());
        self.response.clone()
    }
}

impl Arrivals {
    /// Answers with `response` and notes when each request arrived.
    pub fn answer(&self, response: ResponseTemplate) -> impl Respond + 'static {
        NoteArrival { arrivals: self.clone(), response }
    }

    /// The arrival instants so far, earliest first.
    pub fn sorted(&self) -> Vec<Instant> {
        let mut arrivals = self.0.lock().unwrap().clone();
        arrivals.sort();
        arrivals
    }
}

/// A mock for response_url that accepts what it gets.
pub fn response_url_ok() -> Mock {
    Mock::given(method("POST"))
        .and(path(RESPONSE_URL_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
}

/// The reply body as JSON; asserts it is a 200 JSON reply.
pub async fn reply(response: reqwest::Response) -> Value {
    assert_eq!(response.status(), 200, "a reply is a 200");
    let text = response.text().await.unwrap();
    assert!(!text.contains(TOKEN) && !text.contains(SIGNING_SECRET), "a secret leaked: {text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

pub fn text_of(reply: &Value) -> &str {
    reply["text"].as_str().expect("a reply has text")
}

pub fn assert_ephemeral_containing(reply: &Value, needle: &str) {
    assert_eq!(reply["response_type"], "ephemeral", "{reply}");
    assert!(text_of(reply).contains(needle), "{needle:?} not in {}", text_of(reply));
}

/// A clock that stands still until a test moves it.
#[derive(Default)]
pub struct ManualClock(std::sync::atomic::AtomicI64);

impl ManualClock {
    pub fn at(unix: i64) -> Arc<Self> {
        Arc::new(Self(std::sync::atomic::AtomicI64::new(unix)))
    }

    pub fn advance(&self, secs: i64) {
        self.0.fetch_add(secs, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_unix(&self) -> i64 {
        self.0.load(std::sync::atomic::Ordering::SeqCst)
    }
}
