//! Building and running the server: `Application::build` binds (port 0 in
//! tests), `run_until_stopped` serves until SIGTERM/SIGINT, then drains.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::{App, HttpServer, web};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::Instrument;

use crate::config::{ListenAddress, ServeConfig};
use crate::dispatch::Dispatcher;
use crate::green_api::GreenApiClient;
use crate::http_client::RetryPolicy;
use crate::instances::{InstanceId, Kind, Registry};
use crate::metrics::Metrics;
use crate::routes;
use crate::slack::locale::LocaleCache;
use crate::slack::response_url::ResponseUrlPoster;
use crate::slack::web_api::WebApi;
use crate::socket_mode::{self, SocketMode, SocketModeConfig, TokenRefused};
use crate::state::{AppState, Bot, Clock, SystemClock};

/// How long before the grace period ends a delivery still retrying gives up,
/// so that its error line, which is all the user's answer then, is written
/// before the process exits.
const DELIVERY_LOG_MARGIN: Duration = Duration::from_secs(1);

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
    /// How Socket Mode keeps its connections.
    pub socket_mode: socket_mode::Timing,
    /// How long one response_url POST may take; one that takes longer is not
    /// repeated, since Slack may have posted it.
    pub response_url_timeout: Duration,
}

impl Default for Tuning {
    fn default() -> Self {
        Self {
            response_url_backoff: Duration::from_secs(1),
            body_timeout: Duration::from_secs(10),
            web_api_backoff: Duration::from_secs(1),
            socket_mode: socket_mode::Timing::default(),
            response_url_timeout: Duration::from_secs(10),
        }
    }
}

/// The Socket Mode supervisor, running from `build` on.
struct SocketModeTask {
    stop: CancellationToken,
    task: JoinHandle<Result<(), TokenRefused>>,
}

pub struct Application {
    port: u16,
    server: Server,
    /// The METRICS_PORT listener and its port, when it is set.
    metrics_server: Option<(u16, Server)>,
    state: web::Data<AppState>,
    tracker: TaskTracker,
    shutdown_grace: Duration,
    socket_mode: Option<SocketModeTask>,
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

        let http_commands = config.signing_secret.is_set();
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
        // USE_ENV_PROXY is one setting for the process, carried by each instance.
        let use_env_proxy = config.instances.instances.iter().any(|i| i.green_api.use_env_proxy);
        let poster = ResponseUrlPoster::new(
            RetryPolicy::new(tuning.response_url_backoff, Duration::from_secs(30)),
            tuning.response_url_timeout,
            use_env_proxy,
        )
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
                // Here, not where the configuration is read: logging starts
                // only once the configuration says how to log.
                if !bot.token.looks_like_bot_token() {
                    tracing::warn!("SLACK_BOT_TOKEN does not start with xoxb-: use the app's Bot User OAuth Token");
                }
                let http = crate::http_client::client_builder(use_env_proxy)
                    .connect_timeout(Duration::from_secs(5))
                    .build()
                    .map_err(|e| StartupError::WebApiClient(e.without_url().to_string()))?;
                let retry = RetryPolicy::new(tuning.web_api_backoff, Duration::from_secs(30));
                let web_api = WebApi::new(http, bot.api_url.clone(), bot.token.clone(), retry);
                Some(Bot { locales: LocaleCache::new(web_api.clone()), web_api })
            }
            None => None,
        };
        let mut state = AppState::new(
            config.signing_secret,
            config.allowlist,
            config.response_url_hosts,
            dispatcher,
            clock,
            metrics,
            tuning.body_timeout,
        )
        .with_app(bot, config.reply_language, config.success_visibility);
        state.trust_forwarded_headers = config.trust_forwarded_headers;
        let state = web::Data::new(state);

        let metrics_server = match config.metrics_port {
            None => None,
            Some(metrics_port) => Some(metrics_server(&config.listen.with_port(metrics_port), state.clone())?),
        };
        let metrics_on_main = metrics_server.is_none();
        let app_state = state.clone();
        let server = HttpServer::new(move || {
            App::new().app_data(app_state.clone()).configure(routes::configure).configure(|cfg| {
                if metrics_on_main {
                    routes::configure_metrics(cfg);
                }
            })
        })
        // Signals are ours (see run_until_stopped), so the drain can
        // also wait for deferred deliveries.
        .disable_signals()
        .shutdown_timeout(config.shutdown_grace.as_secs().max(1))
        .listen(listener)
        .map_err(|source| StartupError::Bind { address: config.listen.with_port(port).to_string(), source })?
        .run();

        if http_commands {
            tracing::info!(
                address = %config.listen.with_port(port),
                instances = %names.join(","),
                ack_budget_ms = config.ack_budget.as_millis() as u64,
                bot = config.bot.is_some(),
                "listening for Slack commands on POST /slack/commands and forms on POST /slack/interactions"
            );
        } else {
            tracing::info!(
                address = %config.listen.with_port(port),
                "listening for health, readiness and metrics; POST /slack/commands and /slack/interactions refuse \
                 every request, as SLACK_SIGNING_SECRET is not set"
            );
        }
        let socket_mode = match config.app_token {
            Some(app_token) => {
                let settings =
                    SocketModeConfig { app_token, api_url: config.slack_api_url.clone(), timing: tuning.socket_mode };
                let doors = Arc::new(socket_mode::Doors::new(state.clone().into_inner()));
                // Not ready until Slack says hello, where nothing else serves.
                socket_mode::EnvelopeHandler::connected(doors.as_ref(), false);
                let client = SocketMode::new(&settings, doors)
                    .map_err(|e| StartupError::WebApiClient(e.without_url().to_string()))?;
                tracing::info!(
                    slack_api = %config.slack_api_url,
                    instances = %names.join(","),
                    ack_budget_ms = config.ack_budget.as_millis() as u64,
                    bot = config.bot.is_some(),
                    "receiving Slack commands and forms over Socket Mode"
                );
                let stop = CancellationToken::new();
                Some(SocketModeTask { task: tokio::spawn(client.run(stop.clone())), stop })
            }
            None => None,
        };
        Ok(Self { port, server, metrics_server, state, tracker, shutdown_grace: config.shutdown_grace, socket_mode })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Where `/metrics` is served when METRICS_PORT is set.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics_server.as_ref().map(|(port, _)| *port)
    }

    /// Serves until SIGTERM or SIGINT, then stops accepting, finishes
    /// in-flight requests, and waits up to the grace period for deferred
    /// deliveries. A second signal during that wait ends it at once, with an
    /// error: whoever sends it has decided not to wait.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let signals = count_signals();
        let (mut first, mut second) = (signals.clone(), signals);
        self.run(async move { signal_number(&mut first, 1).await }, async move { signal_number(&mut second, 2).await })
            .await
    }

    /// Like [`Self::run_until_stopped`], stopping when `stop` completes.
    ///
    /// Slack refusing SLACK_APP_TOKEN stops the server the same way, and is
    /// returned as the error: no retry can fix it.
    pub async fn run_until(self, stop: impl Future<Output = ()>) -> std::io::Result<()> {
        self.run(stop, std::future::pending()).await
    }

    /// Serves until `stop`, then drains until done or until `abort`.
    async fn run(self, stop: impl Future<Output = ()>, abort: impl Future<Output = ()>) -> std::io::Result<()> {
        let handle = self.server.handle();
        let mut server = std::pin::pin!(self.server);
        let metrics_handle = self.metrics_server.as_ref().map(|(_, server)| server.handle());
        let mut metrics = std::pin::pin!(async move {
            match self.metrics_server {
                Some((_, server)) => server.await,
                None => std::future::pending().await,
            }
        });
        let (socket_stop, mut socket_task) = match self.socket_mode {
            Some(SocketModeTask { stop, task }) => (Some(stop), Some(task)),
            None => (None, None),
        };
        let socket_ended = async {
            match socket_task.as_mut() {
                Some(task) => task.await,
                None => std::future::pending().await,
            }
        };
        let failure = tokio::select! {
            result = &mut server => return result,
            result = &mut metrics => return result,
            () = stop => None,
            ended = socket_ended => {
                socket_task = None;
                let failure = match ended {
                    Ok(Err(refused)) => refused.to_string(),
                    Ok(Ok(())) => "Socket Mode stopped on its own".to_owned(),
                    Err(e) => format!("Socket Mode failed: {e}"),
                };
                tracing::error!(error = %failure, "stopping: commands can no longer be received over Socket Mode");
                Some(failure)
            }
        };
        // One grace period bounds the whole drain, requests and deliveries
        // alike, so an orchestrator's kill timeout can be set from it.
        let deadline = tokio::time::Instant::now() + self.shutdown_grace;
        self.state.stop_being_ready();
        // Posts to Slack that are still retrying give up a moment before the
        // end, leaving time to log, per command, what the user was not told.
        let now = tokio::time::Instant::now();
        self.state.dispatcher.begin_drain(deadline.checked_sub(DELIVERY_LOG_MARGIN).unwrap_or(now).max(now));
        let tracker = self.tracker.clone();
        let deferred = tracker.len();
        tracing::info!(
            deferred,
            "stopping: no new connections; finishing requests and deferred deliveries (signal again to exit now)"
        );
        if let Some(socket_stop) = socket_stop {
            socket_stop.cancel();
        }
        let grace = self.shutdown_grace;
        let drain = async {
            // Socket Mode reads no new envelopes and acks those in flight; what
            // they hand over to response_url joins the deliveries waited for
            // below.
            let socket_drained = async {
                if let Some(task) = socket_task
                    && tokio::time::timeout_at(deadline, task).await.is_err()
                {
                    tracing::error!("Socket Mode did not finish its envelopes within the grace period");
                }
            };
            let stopped = handle.stop(true);
            let (_, result, ()) = tokio::join!(stopped, server, socket_drained);
            if let Some(metrics_handle) = metrics_handle {
                metrics_handle.stop(true).await;
            }
            tracker.close();
            if tokio::time::timeout_at(deadline, tracker.wait()).await.is_err() {
                tracing::error!(
                    unfinished = tracker.len(),
                    grace_secs = grace.as_secs(),
                    "deferred deliveries still running at the end of the grace period; their users get no answer"
                );
            } else {
                tracing::info!("stopped cleanly");
            }
            match failure {
                Some(failure) => Err(std::io::Error::other(failure)),
                None => result,
            }
        };
        tokio::select! {
            result = drain => result,
            () = abort => {
                tracing::error!(
                    unfinished = self.tracker.len(),
                    "second signal while stopping: exiting now; commands still in flight get no answer"
                );
                Err(std::io::Error::other("stopped by a second signal before in-flight work finished"))
            }
        }
    }
}

/// `/metrics` alone on its own port, so the main port (the one exposed to
/// Slack) does not show the service's internals.
fn metrics_server(listen: &ListenAddress, state: web::Data<AppState>) -> Result<(u16, Server), StartupError> {
    let address = listen.to_string();
    let listener =
        TcpListener::bind(&address).map_err(|source| StartupError::Bind { address: address.clone(), source })?;
    let port = listener.local_addr().map_err(|source| StartupError::Bind { address, source })?.port();
    let server = HttpServer::new(move || App::new().app_data(state.clone()).configure(routes::configure_metrics))
        .disable_signals()
        .workers(1)
        .shutdown_timeout(1)
        .listen(listener)
        .map_err(|source| StartupError::Bind { address: listen.with_port(port).to_string(), source })?
        .run();
    tracing::info!(address = %listen.with_port(port), "serving GET /metrics on its own port (METRICS_PORT)");
    Ok((port, server))
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

/// Counts SIGTERM and SIGINT from now on: the first starts the drain, the
/// second ends it. Once we listen, the default action (exit) is gone, so a
/// second signal would otherwise be swallowed.
fn count_signals() -> watch::Receiver<u32> {
    let (count, signals) = watch::channel(0u32);
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        // Registered here, before serving, so no signal falls between
        // starting and listening.
        match (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) {
            (Ok(mut term), Ok(mut int)) => {
                tokio::spawn(async move {
                    loop {
                        let name = tokio::select! {
                            _ = term.recv() => "SIGTERM",
                            _ = int.recv() => "SIGINT",
                        };
                        tracing::info!("received {name}");
                        count.send_modify(|n| *n = n.saturating_add(1));
                    }
                });
            }
            // `count` is dropped, so the waits below never end.
            _ => tracing::error!("cannot listen for SIGTERM/SIGINT; stop the process with SIGKILL"),
        }
    }
    #[cfg(not(unix))]
    tokio::spawn(async move {
        while tokio::signal::ctrl_c().await.is_ok() {
            count.send_modify(|n| *n = n.saturating_add(1));
        }
    });
    signals
}

/// Waits for the `n`th signal; forever if signals cannot be listened to.
async fn signal_number(signals: &mut watch::Receiver<u32>, n: u32) {
    if signals.wait_for(|count| *count >= n).await.is_err() {
        std::future::pending::<()>().await;
    }
}
