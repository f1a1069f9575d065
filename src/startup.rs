//! Building and running the server: `Application::build` binds (port 0 in
//! tests), `run_until_stopped` serves until SIGTERM/SIGINT, then drains.
//!
//! A send runs on the HTTP worker that received its command (see
//! `dispatch`), and a worker's tasks die with it. So the drain refuses new
//! connections at once but keeps the workers up until no connection is open
//! and no send or late delivery is running; only then are they stopped.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::{Server, ServerHandle};
use actix_web::{App, HttpServer, web};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tokio_util::task::task_tracker::TaskTrackerToken;
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
    /// The main port's listening socket, which the drain closes itself.
    listening: Listening,
    /// The METRICS_PORT listener and its port, when it is set.
    metrics_server: Option<(u16, Server)>,
    state: web::Data<AppState>,
    /// Sends and their late deliveries.
    tracker: TaskTracker,
    /// Open connections to the main port: a request on one may start a send.
    connections: TaskTracker,
    shutdown_grace: Duration,
    socket_mode: Option<SocketModeTask>,
}

impl Application {
    /// Binds HOST:PORT and prepares the server; call from the runtime that
    /// will run it (the main one), where Socket Mode's sends run too.
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
        // One client each: its own rate limiter and timeout, and its URLs
        // built once, here.
        let clients = GreenApiClient::for_instances(
            instances.iter().enumerate().map(|(i, instance)| (&instance.green_api, metrics.instance(i))),
        )?;
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
        let connections = TaskTracker::new();
        let counted = connections.clone();
        let listening = Listening::new(&listener)
            .map_err(|source| StartupError::Bind { address: config.listen.with_port(port).to_string(), source })?;
        let server = HttpServer::new(move || {
            App::new()
                .app_data(app_state.clone())
                .wrap_fn(routes::close_when_stopping)
                .configure(routes::configure)
                .configure(|cfg| {
                    if metrics_on_main {
                        routes::configure_metrics(cfg);
                    }
                })
        })
        // Held for as long as the connection is open: the drain waits for it.
        .on_connect(move |_, extensions| {
            extensions.insert(OpenConnection { _token: counted.token() });
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
        Ok(Self {
            port,
            server,
            listening,
            metrics_server,
            state,
            tracker,
            connections,
            shutdown_grace: config.shutdown_grace,
            socket_mode,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Where `/metrics` is served when METRICS_PORT is set.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics_server.as_ref().map(|(port, _)| *port)
    }

    /// Serves until SIGTERM or SIGINT, then refuses new connections, closes
    /// open ones after their current request, and waits up to the grace
    /// period for in-flight requests, sends and deferred deliveries. A second
    /// signal during that wait ends it at once, with an error: whoever sends
    /// it has decided not to wait.
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
        let Self {
            server, listening, metrics_server, state, tracker, connections, shutdown_grace, socket_mode, ..
        } = self;
        let handle = server.handle();
        // Spawned, so that the servers go on taking commands (pause, stop)
        // while the drain waits for something else.
        let mut server = tokio::spawn(server);
        let (metrics_handle, mut metrics) = match metrics_server {
            Some((_, server)) => (Some(server.handle()), Some(tokio::spawn(server))),
            None => (None, None),
        };
        let metrics_ended = async {
            match metrics.as_mut() {
                Some(task) => task.await,
                None => std::future::pending().await,
            }
        };
        let (socket_stop, mut socket_task) = match socket_mode {
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
            result = &mut server => return joined(result),
            result = metrics_ended => return joined(result),
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
        let deadline = tokio::time::Instant::now() + shutdown_grace;
        state.stop_being_ready();
        // Posts to Slack that are still retrying give up a moment before the
        // end, leaving time to log, per command, what the user was not told.
        let now = tokio::time::Instant::now();
        state.dispatcher.begin_drain(deadline.checked_sub(DELIVERY_LOG_MARGIN).unwrap_or(now).max(now));
        if let Some(socket_stop) = socket_stop {
            socket_stop.cancel();
        }
        tracker.close();
        connections.close();
        let drain = async {
            listening.refuse_new_connections(&handle).await;
            tracing::info!(
                deferred = tracker.len(),
                "stopping: no new connections; finishing requests and deferred deliveries (signal again to exit now)"
            );
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
            // The workers run the sends, so they stay up until nothing can
            // start one (no connection is open: each ends after the answer it
            // is giving now, see close_when_stopping, or once idle for the
            // keep-alive time) and none is running.
            let settled = async {
                socket_drained.await;
                loop {
                    connections.wait().await;
                    tracker.wait().await;
                    // A send outlives the connection that started it, so
                    // connections are counted again after the sends; one can
                    // still appear if it was accepted just before the pause.
                    if connections.is_empty() {
                        break;
                    }
                }
            };
            let settled = tokio::time::timeout_at(deadline, settled).await.is_ok();
            if !settled && !tracker.is_empty() {
                tracing::error!(
                    unfinished = tracker.len(),
                    grace_secs = shutdown_grace.as_secs(),
                    "deferred deliveries still running at the end of the grace period; their users get no answer"
                );
            }
            if !settled && !connections.is_empty() {
                tracing::warn!(
                    connections = connections.len(),
                    "connections still open at the end of the grace period; closing them"
                );
            }
            // Nothing is left on the workers (or the grace period is over):
            // now they may go, and with them whatever still runs there.
            let stopped = if settled {
                tokio::time::timeout_at(deadline, handle.stop(true)).await.is_ok()
            } else {
                handle.stop(false).await;
                true
            };
            let result = if stopped {
                joined(server.await)
            } else {
                tracing::error!("the HTTP server did not stop within the grace period; exiting without it");
                Ok(())
            };
            if let (Some(metrics_handle), Some(metrics)) = (metrics_handle, metrics) {
                metrics_handle.stop(true).await;
                let _ = metrics.await;
            }
            if settled && stopped {
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
                    unfinished = tracker.len(),
                    "second signal while stopping: exiting now; commands still in flight get no answer"
                );
                Err(std::io::Error::other("stopped by a second signal before in-flight work finished"))
            }
        }
    }
}

/// A server task's outcome: its own, or its panic as an error.
fn joined(result: Result<std::io::Result<()>, tokio::task::JoinError>) -> std::io::Result<()> {
    result.unwrap_or_else(|e| Err(std::io::Error::other(e)))
}

/// Kept in a connection's extensions for as long as it is open.
struct OpenConnection {
    _token: TaskTrackerToken,
}

/// How many times, a millisecond apart, the drain looks whether actix's
/// accept thread has let go of the listening socket before closing it anyway.
#[cfg(target_os = "linux")]
const ACCEPT_PAUSE_CHECKS: u32 = 500;

/// The main port's listening socket, which actix's accept thread also holds:
/// shutting it down refuses new connections at once, while the workers stay
/// up for the connections they have.
struct Listening {
    /// Elsewhere than on Linux, shutting a listening socket down does not
    /// refuse connections, and it is left alone.
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))]
    socket: TcpListener,
    /// The descriptor actix's accept thread watches.
    #[cfg(target_os = "linux")]
    watched: std::os::fd::RawFd,
}

impl Listening {
    /// Call before actix takes `listener`.
    fn new(listener: &TcpListener) -> std::io::Result<Self> {
        Ok(Self {
            socket: listener.try_clone()?,
            #[cfg(target_os = "linux")]
            watched: std::os::fd::AsRawFd::as_raw_fd(listener),
        })
    }

    /// Stops accepting, and on Linux refuses new connections from now on
    /// (elsewhere they wait in the backlog until the server stops).
    async fn refuse_new_connections(&self, server: &ServerHandle) {
        server.pause().await;
        #[cfg(target_os = "linux")]
        {
            // `pause` returns once the accept thread is told, not once it has
            // let go of the socket; shut down while it still watches, the
            // socket would wake it and its accept would fail with an error
            // line.
            for _ in 0..ACCEPT_PAUSE_CHECKS {
                if !watched_by_epoll(self.watched) {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            // Linux resets the connections still waiting in the backlog and
            // answers new ones with a reset: a load balancer retries them
            // elsewhere at once.
            if let Err(e) = socket2::SockRef::from(&self.socket).shutdown(std::net::Shutdown::Both) {
                tracing::warn!(
                    error = %e,
                    "could not close the listening socket; new connections wait until the server stops"
                );
            }
        }
    }
}

/// Whether an epoll instance of this process watches descriptor `fd`, as
/// /proc tells; false when /proc cannot tell, so that the caller goes on.
#[cfg(target_os = "linux")]
fn watched_by_epoll(fd: std::os::fd::RawFd) -> bool {
    let Ok(entries) = std::fs::read_dir("/proc/self/fd") else {
        return false;
    };
    entries.flatten().any(|entry| {
        std::fs::read_link(entry.path()).is_ok_and(|target| target.as_os_str() == "anon_inode:[eventpoll]")
            && std::fs::read_to_string(std::path::Path::new("/proc/self/fdinfo").join(entry.file_name())).is_ok_and(
                |info| {
                    // `tfd:        7 events: ...`, one line per watched descriptor.
                    info.lines().any(|line| {
                        line.strip_prefix("tfd:").and_then(|rest| rest.split_whitespace().next()).map(str::parse)
                            == Some(Ok(fd))
                    })
                },
            )
    })
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

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use std::os::fd::AsRawFd;

    use super::watched_by_epoll;

    #[tokio::test]
    async fn a_listening_socket_is_seen_watched_only_while_a_runtime_watches_it() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let fd = listener.as_raw_fd();
        assert!(!watched_by_epoll(fd));
        let watched = tokio::net::TcpListener::from_std(listener).unwrap();
        assert!(watched_by_epoll(fd));
        // Let go of, but still open: the number cannot go to another file.
        let listener = watched.into_std().unwrap();
        assert!(!watched_by_epoll(fd));
        drop(listener);
    }
}
