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
//! Tasks run on the main runtime (not on an HTTP worker's) and are tracked,
//! so a stopping server can wait for deferred deliveries after its workers
//! are gone.

use std::sync::Arc;
use std::time::Duration;

use tokio::runtime::Handle;
use tokio::sync::oneshot;
use tokio::time::Instant;
use tokio_util::task::TaskTracker;
use tracing::Instrument;

use crate::command::SendContact;
use crate::domain::Card;
use crate::green_api::{GreenApiClient, GreenApiError, IdMessage};
use crate::i18n::routing::MaxText;
use crate::i18n::{Language, Localized};
use crate::instances::Registry;
use crate::metrics::Metrics;
use crate::outcome::Outcome;
use crate::slack::reply::{Reply, escape};
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
    runtime: Handle,
}

impl Dispatcher {
    /// `runtime` runs the sends and deferred deliveries; it must outlive the
    /// HTTP workers (the main runtime does).
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
        runtime: Handle,
    ) -> Self {
        assert_eq!(clients.len(), registry.len(), "one GREEN-API client per instance");
        Self { clients: clients.into(), registry, poster, metrics, ack_budget, tracker, runtime }
    }

    /// The instances the clients send through.
    pub fn registry(&self) -> &Arc<Registry> {
        &self.registry
    }

    /// Sends the contact and returns the reply for Slack's request: the
    /// outcome if it came within the ack budget, else a "sending" notice.
    pub async fn dispatch(&self, job: Job) -> Reply {
        let (tx, mut rx) = oneshot::channel::<Reply>();
        let job_received_at = job.received_at;
        let sending = Reply::ephemeral(&format!(
            "Sending the contact card of {} to chat {}… GREEN-API is taking a while; {}",
            job.send.card.display_name(),
            job.send.chat_id,
            if job.response_url.is_some() {
                "the result will appear here."
            } else {
                "this request has no reply address the bot may use, so the result will not appear here. Ask \
                 the bot's admin, who can find it in the log."
            }
        ));
        let green_api = Arc::clone(&self.clients[job.send.instance.index()]);
        let registry = Arc::clone(&self.registry);
        let poster = self.poster.clone();
        let metrics = Arc::clone(&self.metrics);
        // The task carries the command's span, so its lines (even a late
        // one, after the request is answered) say whose command it was.
        self.tracker.spawn_on(
            async move {
                let result = green_api.send_contact(&job.send.chat_id, &job.send.card).await;
                metrics.command(Outcome::of(&result));
                // Failures name the instance when there is a choice of them.
                let instance = (registry.len() > 1).then(|| registry.get(job.send.instance).name());
                let reply = outcome_reply(&job, &result, instance);
                match tx.send(reply) {
                    Ok(()) => log_outcome(&job, &result, "inline"),
                    Err(reply) => {
                        log_outcome(&job, &result, "response_url");
                        let delivered = deliver_late(&poster, &job, &reply, &result).await;
                        metrics.deferred_delivery(delivered);
                    }
                }
            }
            .instrument(tracing::Span::current()),
            &self.runtime,
        );

        // Counted from the request's arrival: Slack's 3 s include the time
        // its body took to come in and be checked.
        match tokio::time::timeout_at(job_received_at + self.ack_budget, &mut rx).await {
            Ok(Ok(reply)) => reply,
            Ok(Err(_)) => Reply::ephemeral("Something went wrong inside the bot; the contact may not have been sent."),
            Err(_) => {
                // Closing first means a result that lands from now on goes to
                // response_url, and one that already landed is taken here.
                rx.close();
                rx.try_recv().unwrap_or(sending)
            }
        }
    }
}

/// Posts the outcome to response_url; says whether it got there.
async fn deliver_late(
    poster: &ResponseUrlPoster,
    job: &Job,
    reply: &Reply,
    result: &Result<IdMessage, GreenApiError>,
) -> bool {
    let failure = match &job.response_url {
        Some(url) => match poster.deliver(url, reply, job.received_at).await {
            Ok(posts) => {
                tracing::debug!(posts, "delivered the outcome to response_url");
                return true;
            }
            Err(e) => e.to_string(),
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

/// The reply for a finished call: in the channel on success, to the user
/// alone on failure. `instance` is named in failures when there are several,
/// so the user can tell the admin which one failed.
pub fn outcome_reply(job: &Job, result: &Result<IdMessage, GreenApiError>, instance: Option<&str>) -> Reply {
    let name = job.send.card.display_name();
    let through = instance.map(|i| format!(" through instance {i}")).unwrap_or_default();
    // MAX refuses a contact that is not among the instance's contacts; its
    // reason does not always say so.
    let hint = match (&job.send.card, result) {
        (Card::Max(_), Err(GreenApiError::Rejected { .. })) => {
            format!(" {}", MaxText::NotAContact.localize(Language::En))
        }
        _ => String::new(),
    };
    match result {
        Ok(id) => Reply::in_channel_markup(format!(
            "<@{user}> sent the contact card of {name} to chat {chat}. GREEN-API message id: {id}",
            user = escape(&job.requester.user_id),
            name = escape(&name),
            chat = escape(job.send.chat_id.as_str()),
            id = escape(id.as_str()),
        )),
        Err(e) if e.may_have_been_sent() => Reply::ephemeral(&format!(
            "No confirmation that the contact card of {name} reached chat {}{through}. {e}",
            job.send.chat_id
        )),
        Err(e) => Reply::ephemeral(&format!(
            "Could not send the contact card of {name} to chat {}{through}. {e}{hint}",
            job.send.chat_id
        )),
    }
}
