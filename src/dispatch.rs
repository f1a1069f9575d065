//! The acknowledgement budget: one GREEN-API call per command, answered
//! inline when it is quick, through response_url when it is not.
//!
//! The call runs in its own task from the start. The request handler waits
//! for it up to the ack budget; if the budget runs out (or the handler is
//! dropped because Slack hung up), the same task, still running, posts its
//! outcome to response_url. The hand-over is a oneshot channel that the
//! handler closes before giving up, so exactly one side gets the outcome and
//! the upstream is never asked twice.
//!
//! A send runs on the runtime of the door that received it: an HTTP
//! worker's own thread (so a command never changes thread between Slack's
//! request, the GREEN-API call and the answer), or the main runtime for
//! Socket Mode. An HTTP worker's tasks die with it, so sends are tracked: a
//! stopping server keeps its workers, and so the sends and their late
//! deliveries, alive until the tracker is empty (`startup::Application`).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::oneshot;
use tokio::time::Instant;
use tokio_util::task::TaskTracker;
use tracing::Instrument;

use crate::command::SendContact;
use crate::green_api::{GreenApiClient, GreenApiError, IdMessage};
use crate::i18n::Language;
use crate::instances::Registry;
use crate::messages::{self, Sent};
use crate::metrics::Metrics;
use crate::outcome::Outcome;
use crate::slack::reply::{Reply, ResponseType};
use crate::slack::response_url::{ResponseUrl, ResponseUrlPoster};

/// Who asked, where: for the reply text and the log line.
#[derive(Debug, Clone)]
pub struct Requester {
    pub team_id: String,
    pub user_id: String,
    pub channel_id: String,
}

/// A validated command ready to send.
#[derive(Debug)]
pub struct Job {
    pub send: SendContact,
    pub requester: Requester,
    /// Where a late outcome goes; `None` when the request's response_url is
    /// missing or on a host this service does not follow.
    pub response_url: Option<ResponseUrl>,
    pub received_at: Instant,
    /// The language of the replies.
    pub language: Language,
    /// Who sees a success: the channel or the sender alone.
    pub visibility: ResponseType,
}

impl Job {
    /// `instance` is the instance's name where there is a choice of them.
    pub fn sent<'a>(&'a self, instance: Option<&'a str>) -> Sent<'a> {
        Sent {
            send: &self.send,
            chat_alias: self.send.chat_alias.as_deref(),
            instance,
            user_id: &self.requester.user_id,
        }
    }
}

#[derive(Clone)]
pub struct Dispatcher {
    /// One client per instance, at the registry's positions.
    clients: Arc<[Arc<GreenApiClient>]>,
    registry: Arc<Registry>,
    poster: ResponseUrlPoster,
    metrics: Arc<Metrics>,
    ack_budget: Duration,
    tracker: TaskTracker,
    drain: Drain,
}

/// When the process stops, the moment by which a delivery still retrying
/// must give up: a little before the grace period ends, so that it can log
/// what it could not deliver before the process exits.
#[derive(Clone, Default)]
pub struct Drain(Arc<tokio::sync::watch::Sender<Option<Instant>>>);

impl Drain {
    /// Completes at the cut-off once the process is stopping; never before.
    pub async fn cut_off(&self) {
        let mut stopping = self.0.subscribe();
        // The sender lives as long as `self`, so this waits until it is set.
        let Ok(cut_off) = stopping.wait_for(Option::is_some).await.map(|c| *c) else {
            return std::future::pending().await;
        };
        if let Some(cut_off) = cut_off {
            tokio::time::sleep_until(cut_off).await;
        }
    }
}

impl Dispatcher {
    /// `tracker` counts the sends and deferred deliveries, which the drain
    /// waits for.
    ///
    /// # Panics
    /// If `clients` and `registry` do not hold the same instances.
    pub fn new(
        clients: Vec<Arc<GreenApiClient>>,
        registry: Arc<Registry>,
        poster: ResponseUrlPoster,
        metrics: Arc<Metrics>,
        ack_budget: Duration,
        tracker: TaskTracker,
    ) -> Self {
        assert_eq!(clients.len(), registry.len(), "one GREEN-API client per instance");
        Self { clients: clients.into(), registry, poster, metrics, ack_budget, tracker, drain: Drain::default() }
    }

    /// The process is stopping: deliveries watching [`Self::drain`] give up
    /// at `cut_off`.
    pub fn begin_drain(&self, cut_off: Instant) {
        self.drain.0.send_replace(Some(cut_off));
    }

    /// What a delivery that may outlast the grace period watches.
    pub fn drain(&self) -> Drain {
        self.drain.clone()
    }

    /// The instances the clients send through.
    pub fn registry(&self) -> &Arc<Registry> {
        &self.registry
    }

    /// The name replies give the job's instance: only where there is a
    /// choice of them.
    pub fn instance_shown(&self, job: &Job) -> Option<&str> {
        (self.registry.len() > 1).then(|| self.registry.get(job.send.instance).name())
    }

    /// How long a request may wait before Slack must have its answer.
    pub fn ack_budget(&self) -> Duration {
        self.ack_budget
    }

    /// Sends the contact and returns the reply for Slack's request: the
    /// outcome if it came within the ack budget, else a "sending" notice.
    pub async fn dispatch(&self, job: Job) -> Reply {
        let (tx, mut rx) = oneshot::channel::<Reply>();
        // Shared with the task, so that the "sending" notice, needed only
        // when the budget runs out, is written only then.
        let job = Arc::new(job);
        let task_job = Arc::clone(&job);
        let green_api = Arc::clone(&self.clients[job.send.instance.index()]);
        let registry = Arc::clone(&self.registry);
        let poster = self.poster.clone();
        let metrics = Arc::clone(&self.metrics);
        let drain = self.drain.clone();
        // The task carries the command's span, so its lines (even a late
        // one, after the request is answered) say whose command it was. It
        // stays on this thread: see the module's comment for why that is
        // safe while stopping.
        self.tracker.spawn(
            async move {
                let job = task_job;
                let result = green_api.send_contact(&job.send.chat_id, &job.send.card).await;
                metrics.command(Outcome::of(&result));
                let instance = (registry.len() > 1).then(|| registry.get(job.send.instance).name());
                let reply = outcome_reply(&job, &result, instance);
                match tx.send(reply) {
                    Ok(()) => log_outcome(&job, &result, "inline"),
                    Err(reply) => {
                        log_outcome(&job, &result, "response_url");
                        let delivered = deliver_late(&poster, &metrics, &job, &reply, &result, &drain).await;
                        metrics.deferred_delivery(delivered);
                        if delivered {
                            metrics.command_outcome_delivered(job.received_at.elapsed());
                        }
                    }
                }
            }
            .instrument(tracing::Span::current()),
        );

        // Counted from the request's arrival: Slack's 3 s include the time
        // its body took to come in and be checked.
        let inline = |reply: Reply| {
            self.metrics.command_outcome_delivered(job.received_at.elapsed());
            reply
        };
        match tokio::time::timeout_at(job.received_at + self.ack_budget, &mut rx).await {
            Ok(Ok(reply)) => inline(reply),
            Ok(Err(_)) => messages::internal_error(job.language),
            Err(_) => {
                // Closing first means a result that lands from now on goes to
                // response_url, and one that already landed is taken here.
                rx.close();
                match rx.try_recv() {
                    Ok(reply) => inline(reply),
                    Err(_) => {
                        let sent = job.sent(self.instance_shown(&job));
                        messages::sending(job.language, sent, job.response_url.is_some())
                    }
                }
            }
        }
    }

    /// Sends the contact in a tracked task and hands its outcome to
    /// `deliver`; returns at once. For a form, whose outcome Slack does not
    /// wait for: it is posted through the Web API instead.
    pub fn spawn_send<F, Fut>(&self, job: Job, deliver: F)
    where
        F: FnOnce(Job, Result<IdMessage, GreenApiError>) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let green_api = Arc::clone(&self.clients[job.send.instance.index()]);
        let metrics = Arc::clone(&self.metrics);
        self.tracker.spawn(
            async move {
                let result = green_api.send_contact(&job.send.chat_id, &job.send.card).await;
                metrics.command(Outcome::of(&result));
                log_outcome(&job, &result, "web_api");
                deliver(job, result).await;
            }
            .instrument(tracing::Span::current()),
        );
    }
}

/// Posts the outcome to response_url; says whether it got there.
async fn deliver_late(
    poster: &ResponseUrlPoster,
    metrics: &Metrics,
    job: &Job,
    reply: &Reply,
    result: &Result<IdMessage, GreenApiError>,
    drain: &Drain,
) -> bool {
    let failure = match &job.response_url {
        // Slack may ask to wait longer than the process has left once it is
        // stopping: the delivery gives up in time to say so.
        Some(url) => tokio::select! {
            delivered = poster.deliver(url, reply, job.received_at, || metrics.response_url_retry()) => match delivered {
                Ok(posts) => {
                    tracing::debug!(posts, "delivered the outcome to response_url");
                    return true;
                }
                Err(e) => e.to_string(),
            },
            () = drain.cut_off() => "the service stopped before Slack took the outcome".to_owned(),
        },
        None => "the request had no response_url this service may follow".to_owned(),
    };
    // The user is left with "sending…": say everything needed to tell them
    // by hand.
    tracing::error!(
        chat_id = %job.send.chat_id.for_log(),
        outcome = %Outcome::of(result),
        id_message = result.as_ref().map(IdMessage::as_str).unwrap_or(""),
        response_url_host = job.response_url.as_ref().map_or("", ResponseUrl::host),
        error = %failure,
        "could not deliver the outcome to Slack; tell the user by hand"
    );
    false
}

fn log_outcome(job: &Job, result: &Result<IdMessage, GreenApiError>, delivery: &'static str) {
    let elapsed_ms = job.received_at.elapsed().as_millis() as u64;
    match result {
        Ok(id) => tracing::info!(
            chat_id = %job.send.chat_id.for_log(), outcome = %Outcome::Sent, id_message = %id, delivery, elapsed_ms,
            "command finished"
        ),
        Err(e) => tracing::warn!(
            chat_id = %job.send.chat_id.for_log(), outcome = %Outcome::from(e), may_have_been_sent = e.may_have_been_sent(),
            delivery, elapsed_ms, error = %e,
            "command finished"
        ),
    }
}

/// The reply for a finished call: a contact card on success (seen by the
/// channel or the sender, as configured), the reason to the user alone on
/// failure. `instance` names the instance where there is a choice of them.
pub fn outcome_reply(job: &Job, result: &Result<IdMessage, GreenApiError>, instance: Option<&str>) -> Reply {
    outcome_reply_seen_by(job, result, instance, job.visibility)
}

/// [`outcome_reply`] for readers other than the configured ones: a direct
/// message, which only the sender reads, shows the card unmasked.
pub(crate) fn outcome_reply_seen_by(
    job: &Job,
    result: &Result<IdMessage, GreenApiError>,
    instance: Option<&str>,
    visibility: ResponseType,
) -> Reply {
    match result {
        Ok(id) => messages::sent(job.language, job.sent(instance), id, visibility),
        Err(e) => messages::failed(job.language, job.sent(instance), e),
    }
}
