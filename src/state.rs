//! What every door (HTTP route, Socket Mode, ...) shares: built once at
//! start-up by `startup`, read by `handler` and `routes`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::allowlist::Allowlist;
use crate::dispatch::Dispatcher;
use crate::i18n::ReplyLanguage;
use crate::instances::Registry;
use crate::metrics::Metrics;
use crate::slack::locale::LocaleCache;
use crate::slack::replay::ReplayGuard;
use crate::slack::reply::ResponseType;
use crate::slack::signature::SigningSecret;
use crate::slack::web_api::WebApi;

/// Where the signature check gets the time; tests can pin it.
pub trait Clock: Send + Sync {
    /// Seconds since the Unix epoch.
    fn now_unix(&self) -> i64;
}

#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_unix(&self) -> i64 {
        SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
    }
}

/// The bot user's side of the app: Slack's Web API with the bot token.
#[derive(Clone)]
pub struct Bot {
    pub web_api: WebApi,
    pub locales: LocaleCache,
}

/// What every request handler shares. Built once at start-up.
pub struct AppState {
    pub signing_secret: SigningSecret,
    pub allowlist: Allowlist,
    pub response_url_hosts: Vec<String>,
    pub dispatcher: Dispatcher,
    /// The GREEN-API instances and chat aliases: what a command's chat is
    /// routed among, and what a chat select offers (`registry.aliases()`).
    pub registry: Arc<Registry>,
    pub clock: Arc<dyn Clock>,
    pub metrics: Arc<Metrics>,
    pub body_timeout: Duration,
    /// Set with SLACK_BOT_TOKEN: the form, posts after it, users' locales.
    pub bot: Option<Bot>,
    pub reply_language: ReplyLanguage,
    /// Who sees a success: the channel, or the sender alone.
    pub success_visibility: ResponseType,
    /// Signatures this process has accepted, so a replay is refused.
    pub replays: ReplayGuard,
    /// Whether the logged peer may come from `Forwarded`/`X-Forwarded-For`
    /// (TRUST_FORWARDED_HEADERS); off unless the operator says a proxy in
    /// front sets them.
    pub trust_forwarded_headers: bool,
    ready: AtomicBool,
    /// Set while a process that takes commands over Socket Mode only has no
    /// connection to Slack: it serves nobody then.
    waiting_for_slack: AtomicBool,
    /// Numbers each command's span, so the lines of one command can be
    /// picked out of an interleaved log.
    next_request_id: AtomicU64,
}

impl AppState {
    pub fn new(
        signing_secret: SigningSecret,
        allowlist: Allowlist,
        response_url_hosts: Vec<String>,
        dispatcher: Dispatcher,
        clock: Arc<dyn Clock>,
        metrics: Arc<Metrics>,
        body_timeout: Duration,
    ) -> Self {
        Self {
            signing_secret,
            allowlist,
            response_url_hosts,
            registry: Arc::clone(dispatcher.registry()),
            dispatcher,
            clock,
            metrics,
            body_timeout,
            bot: None,
            reply_language: ReplyLanguage::default(),
            success_visibility: ResponseType::InChannel,
            replays: ReplayGuard::default(),
            trust_forwarded_headers: false,
            ready: AtomicBool::new(true),
            waiting_for_slack: AtomicBool::new(false),
            next_request_id: AtomicU64::new(1),
        }
    }

    /// The Slack app's settings (issue 10): without a bot, replies go only
    /// through Slack's requests, in one language.
    pub fn with_app(
        mut self,
        bot: Option<Bot>,
        reply_language: ReplyLanguage,
        success_visibility: ResponseType,
    ) -> Self {
        self.bot = bot;
        self.reply_language = reply_language;
        self.success_visibility = success_visibility;
        self
    }

    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Relaxed) && !self.is_waiting_for_slack()
    }

    /// Whether readiness waits for a Socket Mode connection (see
    /// `waiting_for_slack`).
    pub fn is_waiting_for_slack(&self) -> bool {
        self.waiting_for_slack.load(Ordering::Relaxed)
    }

    pub(crate) fn wait_for_slack(&self, waiting: bool) {
        self.waiting_for_slack.store(waiting, Ordering::Relaxed);
    }

    /// Whether the server is stopping: its answers then end their
    /// connections.
    pub fn is_stopping(&self) -> bool {
        !self.ready.load(Ordering::Relaxed)
    }

    /// Marks the server as stopping: `/readyz` answers 503 from now on.
    pub(crate) fn stop_being_ready(&self) {
        self.ready.store(false, Ordering::Relaxed);
    }

    pub(crate) fn request_id(&self) -> u64 {
        self.next_request_id.fetch_add(1, Ordering::Relaxed)
    }
}
