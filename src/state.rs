//! What every door (HTTP route, Socket Mode, ...) shares: built once at
//! start-up by `startup`, read by `handler` and `routes`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::allowlist::Allowlist;
use crate::dispatch::Dispatcher;
use crate::instances::Registry;
use crate::metrics::Metrics;
use crate::slack::signature::SigningSecret;

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
    ready: AtomicBool,
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
            ready: AtomicBool::new(true),
            next_request_id: AtomicU64::new(1),
        }
    }

    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Relaxed)
    }

    /// Marks the server as stopping: `/readyz` answers 503 from now on.
    pub(crate) fn stop_being_ready(&self) {
        self.ready.store(false, Ordering::Relaxed);
    }

    pub(crate) fn request_id(&self) -> u64 {
        self.next_request_id.fetch_add(1, Ordering::Relaxed)
    }
}
