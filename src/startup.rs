//! Building and running the server: `Application::build` binds (port 0 in
//! tests), `run_until_stopped` serves until SIGTERM/SIGINT, then drains.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::{App, HttpServer, web};
use tokio_util::task::TaskTracker;
use tracing::Instrument;

use crate::config::ServeConfig;
use crate::dispatch::Dispatcher;
use crate::green_api::GreenApiClient;
use crate::http_client::RetryPolicy;
use crate::instances::{InstanceId, Kind, Registry};
use crate::metrics::Metrics;
use crate::routes;
use crate::slack::locale::LocaleCache;
use crate::slack::response_url::ResponseUrlPoster;
use crate::slack::web_api::WebApi;
use crate::state::{AppState, Bot, Clock, SystemClock};

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error("could not listen on {address}: {source}")]
    Bind { address: String, source: std::io::Error },
    #[error(transparent)]
    GreenApi(#[from] crate::green_api::SetupError),
    #[error("could not set up the HTTP client for response_url: {0}")]
    ResponseUrlClient(String),
    #[error("could not set up the HTTP client for Slack's Web API: {0}")]
    WebApiClient(String),
}

/// Timings that are not configuration: fixed in production, shortened by
/// tests.
#[derive(Debug, Clone, Copy)]
pub struct Tuning {
    /// First pause before a failed response_url POST is tried again;
    /// doubles each time.
    pub response_url_backoff: Duration,
    /// How long a request body may take to arrive (slowloris).
    pub body_timeout: Duration,
    /// First pause before a Web API call Slack rate-limited or could not
    /// take is tried again (Retry-After wins when longer).
    pub web_api_backoff: Duration,
}

impl Default for Tuning {
    fn default() -> Self {
        Self {
            response_url_backoff: Duration::from_secs(1),
            body_timeout: Duration::from_secs(10),
            web_api_backoff: Duration::from_secs(1),
        }
    }
}

pub struct Application {
    port: u16,
    server: Server,
    state: web::Data<AppState>,
    tracker: TaskTracker,
    shutdown_grace: Duration,
}

impl Application {
    /// Binds HOST:PORT and prepares the server; call from the runtime that
    /// should run sends and deferred deliveries (the main one).
    pub fn build(config: ServeConfig) -> Result<Self, StartupError> {
        Self::build_with(config, Tuning::default(), Arc::new(SystemClock))
    }

    /// [`Self::build`] with tuning and a clock of the caller's choosing.
    pub fn build_with(config: ServeConfig, tuning: Tuning, clock: Arc<dyn Clock>) -> Result<Self, StartupError> {
        let address = config.listen.to_string();
        let listener =
            TcpListener::bind(&address).map_err(|source| StartupError::Bind { address: address.clone(), source })?;
        let port = listener.local_addr().map_err(|source| StartupError::Bind { address, source })?.port();

        let instances = &config.instances.instances;
        let names: Vec<&str> = instances.iter().map(|i| i.name.as_str()).collect();
        let metrics = Arc::new(Metrics::new(&names));
        let registry = Arc::new(Registry::new(&config.instances));
        // One client each: its own connection pool, rate limiter and timeout,
        // and its URLs built once, here.
        let clients = instances
            .iter()
            .enumerate()
            .map(|(i, instance)| GreenApiClient::new(&instance.green_api, metrics.instance(i)).map(Arc::new))
            .collect::<Result<Vec<_>, _>>()?;
        let poster = ResponseUrlPoster::new(RetryPolicy::new(tuning.response_url_backoff, Duration::from_secs(30)))
            .map_err(|e| StartupError::ResponseUrlClient(e.without_url().to_string()))?;
        for (id, client) in registry.ids().zip(&clients) {
            learn_instance_type(id, Arc::clone(client), Arc::clone(&registry), Arc::clone(&metrics));
        }
        let tracker = TaskTracker::new();
        let dispatcher = Dispatcher::new(
            clients,
            Arc::clone(&registry),
            poster,
            Arc::clone(&metrics),
            config.ack_budget,
            tracker.clone(),
            tokio::runtime::Handle::current(),
        );
        let bot = match &config.bot {
            Some(bot) => {
                let http = crate::http_client::client_builder()
                    .connect_timeout(Duration::from_secs(5))
                    .build()
                    .map_err(|e| StartupError::WebApiClient(e.without_url().to_string()))?;
                let retry = RetryPolicy::new(tuning.web_api_backoff, Duration::from_secs(30));
                let web_api = WebApi::new(http, bot.api_url.clone(), bot.token.clone(), retry);
                Some(Bot { locales: LocaleCache::new(web_api.clone()), web_api })
            }
            None => None,
        };
        let state = web::Data::new(
            AppState::new(
                config.signing_secret,
                config.allowlist,
                config.response_url_hosts,
                dispatcher,
                clock,
                metrics,
                tuning.body_timeout,
            )
            .with_app(bot, config.reply_language, config.success_visibility),
        );

        let app_state = state.clone();
        let server = HttpServer::new(move || App::new().app_data(app_state.clone()).configure(routes::configure))
            // Signals are ours (see run_until_stopped), so the drain can
            // also wait for deferred deliveries.
            .disable_signals()
            .shutdown_timeout(config.shutdown_grace.as_secs().max(1))
            .listen(listener)
            .map_err(|source| StartupError::Bind { address: config.listen.with_port(port).to_string(), source })?
            .run();

        tracing::info!(
            address = %config.listen.with_port(port),
            instances = %names.join(","),
            ack_budget_ms = config.ack_budget.as_millis() as u64,
            bot = config.bot.is_some(),
            "listening for Slack commands on POST /slack/commands and forms on POST /slack/interactions"
        );
        Ok(Self { port, server, state, tracker, shutdown_grace: config.shutdown_grace })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Serves until SIGTERM or SIGINT, then stops accepting, finishes
    /// in-flight requests, and waits up to the grace period for deferred
    /// deliveries.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.run_until(shutdown_signal()).await
    }

    /// Like [`Self::run_until_stopped`], stopping when `stop` completes.
    pub async fn run_until(self, stop: impl Future<Output = ()>) -> std::io::Result<()> {
        let handle = self.server.handle();
        let mut server = std::pin::pin!(self.server);
        tokio::select! {
            result = &mut server => return result,
            () = stop => {}
        }
        // One grace period bounds the whole drain, requests and deliveries
        // alike, so an orchestrator's kill timeout can be set from it.
        let deadline = tokio::time::Instant::now() + self.shutdown_grace;
        self.state.stop_being_ready();
        let deferred = self.tracker.len();
        tracing::info!(deferred, "stopping: no new connections; finishing requests and deferred deliveries");
        let stopped = handle.stop(true);
        let (_, result) = tokio::join!(stopped, server);
        self.tracker.close();
        if tokio::time::timeout_at(deadline, self.tracker.wait()).await.is_err() {
            tracing::error!(
                unfinished = self.tracker.len(),
                grace_secs = self.shutdown_grace.as_secs(),
                "deferred deliveries still running at the end of the grace period; their users get no answer"
            );
        } else {
            tracing::info!("stopped cleanly");
        }
        result
    }
}

/// Asks GREEN-API once, in the background, what kind of instance this is:
/// routing and the grammar follow it, and an admin learns of wrong
/// credentials from the first log lines rather than from users. Start-up
/// does not wait for it. An instance whose `kind` the file gives is not
/// asked: the admin chose to route without getSettings.
fn learn_instance_type(id: InstanceId, green_api: Arc<GreenApiClient>, registry: Arc<Registry>, metrics: Arc<Metrics>) {
    if registry.get(id).kind().is_some() {
        return;
    }
    let span = tracing::info_span!("instance", instance = registry.get(id).name());
    tokio::spawn(
        async move {
            match green_api.get_instance_type().await {
                Ok(instance_type) => {
                    metrics.instance(id.index()).set_instance_type(instance_type.as_str());
                    if let Some(kind) = Kind::from_instance_type(&instance_type) {
                        registry.set_detected(id, kind);
                    }
                    match instance_type.warning() {
                        Some(warning) => tracing::warn!(instance_type = instance_type.as_str(), "{warning}"),
                        None => tracing::info!(instance_type = instance_type.as_str(), "GREEN-API instance type"),
                    }
                }
                Err(e) => tracing::warn!(
                    error = %e,
                    kind = %crate::outcome::Outcome::from(&e),
                    "could not read the GREEN-API instance settings (getSettings), so this instance may take any \
                     chat and takes phone and names; set `kind` in SENDCONTACT_CONFIG to route without it, and run \
                     `slack-sendcontact check`"
                ),
            }
        }
        .instrument(span),
    );
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) {
            (Ok(mut term), Ok(mut int)) => {
                tokio::select! {
                    _ = term.recv() => tracing::info!("received SIGTERM"),
                    _ = int.recv() => tracing::info!("received SIGINT"),
                }
            }
            _ => {
                tracing::error!("cannot listen for SIGTERM/SIGINT; stop the process with SIGKILL");
                std::future::pending::<()>().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
