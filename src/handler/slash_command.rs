//! A slash command, once its request is known to come from Slack.

use futures_util::FutureExt;
use tokio::time::Instant;
use tracing::Instrument;

use super::form::form;
use super::language::language_for;
use crate::command::{Command, CommandError};
use crate::dispatch::{Job, Requester};
use crate::i18n::command::Usage;
use crate::i18n::command::capitalise;
use crate::i18n::outcome::OutcomeText;
use crate::i18n::routing::{Help, MaxText};
use crate::i18n::{Language, Localized};
use crate::instances::Registry;
use crate::outcome::Outcome;
use crate::slack::form::SlashCommandForm;
use crate::slack::modal::Metadata;
use crate::slack::reply::Reply;
use crate::slack::response_url::ResponseUrl;
use crate::slack::text::{TextError, split_words};
use crate::state::{AppState, Bot};

/// Why the text of a slash command was refused: it did not split into words,
/// or the words are not a command. `Display` is shown to the user as is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArgumentsError {
    #[error("{0}")]
    Text(#[from] TextError),
    #[error("{0}")]
    Command(#[from] CommandError),
}

impl ArgumentsError {
    /// A short stable name for logs, which must not hold the arguments.
    pub fn kind(&self) -> &'static str {
        match self {
            ArgumentsError::Text(TextError::UnclosedQuote { .. }) => "unclosed_quote",
            ArgumentsError::Command(e) => e.kind(),
        }
    }

    /// Whether the user needs the usage text to fix this.
    pub fn wants_usage(&self) -> bool {
        matches!(self, ArgumentsError::Command(e) if e.wants_usage())
    }

    /// The MAX instance whose grammar was wrong: its usage is the one to show.
    pub fn max_instance(&self) -> Option<&str> {
        match self {
            ArgumentsError::Command(e) => e.max_instance(),
            ArgumentsError::Text(_) => None,
        }
    }
}

/// The reason in the user's words: no text of its own, its parts' texts
/// (in `i18n::command`) as sentences. Here rather than in the catalogue so
/// that the catalogue does not import the handler that uses it.
impl Localized for ArgumentsError {
    fn localize(&self, language: Language) -> String {
        match self {
            ArgumentsError::Text(e) => format!("{}.", capitalise(&e.localize(language))),
            ArgumentsError::Command(e) => e.localize(language),
        }
    }
}

/// The `text` of a slash command as a [`Command`]: Slack's markup undone and
/// split into words, then the grammar every door shares, routed among
/// `registry`'s instances as typed in `channel_id`.
pub fn parse_text(text: &str, registry: &Registry, channel_id: &str) -> Result<Command, ArgumentsError> {
    let words = split_words(text)?;
    Ok(Command::parse(&words, registry, channel_id)?)
}

/// The answer to one slash command, whichever door it came through (the
/// HTTP route, Socket Mode): check who asks, parse, send, reply.
/// `received_at` is when the request arrived, which the ack budget counts
/// from. `None` acknowledges with an empty body: the command opened the
/// form, and Slack shows nothing else.
///
/// Not an `async fn`, nor is `answer`: an `async fn` keeps its arguments
/// twice in its future (as passed, and as moved into its body), and the form
/// is 168 bytes. Kept once, the future a command's request is boxed in stays
/// within glibc's per-thread cache of small chunks (1 KiB); past it, every
/// request paid for a search of the heap's bins.
pub fn slash_command(
    state: &AppState,
    form: SlashCommandForm,
    received_at: Instant,
) -> impl Future<Output = Option<Reply>> + '_ {
    // At error level so that its fields reach every line of the command,
    // whatever RUST_LOG lets through.
    let span = tracing::error_span!(
        "command",
        request_id = state.request_id(),
        team_id = %form.team_id,
        user_id = %form.user_id,
        channel_id = %form.channel_id,
        // Filled in once the chat is routed.
        instance = tracing::field::Empty,
    );
    // `map` rather than an `async` block: awaiting the answer from one would
    // keep it twice too.
    answer(state, form, received_at).instrument(span).map(move |reply| {
        state.metrics.command_acknowledged(received_at.elapsed());
        reply
    })
}

#[allow(clippy::manual_async_fn, reason = "an async fn keeps its arguments twice: see slash_command")]
fn answer(state: &AppState, form: SlashCommandForm, received_at: Instant) -> impl Future<Output = Option<Reply>> + '_ {
    async move {
        // What is decided here is answered at once: the acknowledgement is the outcome.
        let log = |outcome: Outcome, detail: &str| {
            state.metrics.command(outcome);
            state.metrics.command_outcome_delivered(received_at.elapsed());
            tracing::info!(%outcome, detail, "command finished");
        };
        let language = language_for(state, &form.user_id, received_at).await;
        let usage = |form_opens: bool| Usage { invocation: form.invocation(), form: form_opens }.localize(language);
        // The usage, with the instances, aliases and MAX's grammar where there are.
        let help = || {
            Help { invocation: form.invocation(), form: state.bot.is_some(), registry: &state.registry }
                .localize(language)
        };

        if let Err(refusal) = state.allowlist.check(&form.team_id, &form.user_id, &form.channel_id) {
            log(Outcome::Refused, refusal.kind());
            return Some(Reply::ephemeral(&refusal.localize(language)));
        }

        // The command alone opens the form, where the bot can open one.
        if form.text.trim().is_empty()
            && let (Some(bot), Some(trigger_id)) = (&state.bot, form.trigger_id.as_deref())
        {
            // Boxed: the form's future is the largest of a command's, and rare.
            match Box::pin(open_form(state, bot, &form, trigger_id, language, received_at)).await {
                Ok(()) => {
                    log(Outcome::FormOpened, "");
                    return None;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "Slack did not open the form; answering with the usage");
                    log(Outcome::Help, "form_not_opened");
                    let text = format!("{}\n{}", OutcomeText::FormNotOpened.localize(language), usage(false));
                    return Some(Reply::ephemeral(&text));
                }
            }
        }

        let send = match parse_text(&form.text, &state.registry, &form.channel_id) {
            Ok(Command::Help) => {
                log(Outcome::Help, "");
                return Some(Reply::ephemeral(&help()));
            }
            Err(e) => {
                log(Outcome::InvalidArguments, e.kind());
                let mut text = e.localize(language);
                if e.wants_usage() {
                    text.push('\n');
                    match e.max_instance() {
                        Some(instance) => {
                            text.push_str(
                                &MaxText::Usage { invocation: form.invocation(), instance }.localize(language),
                            );
                        }
                        None => text.push_str(&help()),
                    }
                }
                return Some(Reply::ephemeral(&text));
            }
            Ok(Command::Send(send)) => send,
        };
        let instance = state.registry.get(send.instance);
        tracing::Span::current().record("instance", instance.name());
        tracing::debug!(rule = send.rule.as_str(), "routed the chat");

        // The send does not depend on response_url: it is only needed when
        // GREEN-API is slower than the ack budget, and a URL on a host that is
        // not allowed is never followed.
        let response_url = match ResponseUrl::parse(form.response_url.as_deref(), &state.response_url_hosts) {
            Ok(url) => Some(url),
            Err(e) => {
                tracing::warn!(
                    error = %e,
                    "this command's response_url will not be followed: a late outcome can only be logged; \
                     if the host is Slack's, add it to SLACK_RESPONSE_URL_HOSTS"
                );
                None
            }
        };

        let requester = Requester { team_id: form.team_id, user_id: form.user_id, channel_id: form.channel_id };
        let job = Job { send, requester, response_url, received_at, language, visibility: state.success_visibility };
        Some(state.dispatcher.dispatch(job).await)
    }
}

/// views.open with the command's trigger, answered before Slack's 3 s are up
/// (the trigger expires then anyway).
async fn open_form(
    state: &AppState,
    bot: &Bot,
    form: &SlashCommandForm,
    trigger_id: &str,
    language: Language,
    received_at: Instant,
) -> Result<(), crate::slack::web_api::WebApiError> {
    let metadata = Metadata {
        channel_id: form.channel_id.clone(),
        language: Some(language.code().to_owned()),
        invocation: Some(form.invocation().to_owned()),
    };
    let view = self::form(language, metadata, !state.registry.aliases().is_empty()).view();
    let deadline = received_at + state.dispatcher.ack_budget();
    bot.web_api.views_open(trigger_id, &view, deadline).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::{CommandError, SendContact};
    use crate::domain::{Card, ContactText, ContactTextError};
    use proptest::prelude::*;

    fn parse_text(text: &str) -> Result<Command, ArgumentsError> {
        super::parse_text(text, &Registry::one("default", None), "C1")
    }

    fn send(text: &str) -> SendContact {
        match parse_text(text) {
            Ok(Command::Send(send)) => send,
            other => panic!("{text:?} gave {other:?}"),
        }
    }

    fn contact(s: &SendContact) -> &crate::domain::Contact {
        match &s.card {
            Card::Phone(contact) => contact,
            Card::Max(_) => panic!("{s:?} is not a phone card"),
        }
    }

    fn names(s: &SendContact) -> (&str, Option<&str>, Option<&str>) {
        let contact = contact(s);
        (
            contact.first_name.as_str(),
            contact.last_name.as_ref().map(ContactText::as_str),
            contact.company.as_ref().map(ContactText::as_str),
        )
    }

    #[test]
    fn help_and_empty_text_ask_for_usage() {
        for text in ["", "  ", "help", "HELP", "--help", "-h", "?"] {
            assert_eq!(parse_text(text), Ok(Command::Help), "text {text:?}");
        }
    }

    #[test]
    fn parses_every_argument_form() {
        type Names<'a> = (&'a str, Option<&'a str>, Option<&'a str>);
        let cases: &[(&str, &str, u64, Names)] = &[
            ("10000000 79876543210 Иван", "10000000", 79876543210, ("Иван", None, None)),
            ("10000000 +7 (987) 654-32-10 Иван Иванов", "10000000", 79876543210, ("Иван", Some("Иванов"), None)),
            ("10000000 +44 20 7946 0958 Jane", "10000000", 442079460958, ("Jane", None, None)),
            ("10000000 +7(987)654-32-10 Иван Иванов", "10000000", 79876543210, ("Иван", Some("Иванов"), None)),
            (
                "-10000000000000 79876543210 Иван Иванов ООО Ромашка и партнёры",
                "-10000000000000",
                79876543210,
                ("Иван", Some("Иванов"), Some("ООО Ромашка и партнёры")),
            ),
            (
                "<mailto:79876543210@c.us|79876543210@c.us> <tel:+79876543210|+7 987 654 32 10> “Anna Maria” O'Neil «Smith &amp; Sons»",
                "79876543210@c.us",
                79876543210,
                ("Anna Maria", Some("O'Neil"), Some("Smith & Sons")),
            ),
            (
                "120363043968066561@g.us 4915112345678 Hans \"\" Acme",
                "120363043968066561@g.us",
                4915112345678,
                ("Hans", None, Some("Acme")),
            ),
            (
                "123@lid 4915112345678 Hans Müller <http://acme.de|acme.de>",
                "123@lid",
                4915112345678,
                ("Hans", Some("Müller"), Some("acme.de")),
            ),
        ];
        for (text, chat, phone, expected_names) in cases {
            let s = send(text);
            assert_eq!(s.chat_id.as_str(), *chat, "text {text:?}");
            assert_eq!(contact(&s).phone.as_u64(), *phone, "text {text:?}");
            assert_eq!(names(&s), *expected_names, "text {text:?}");
        }
    }

    #[test]
    fn every_rejection_names_the_argument_and_the_reason() {
        let cases = [
            ("10000000", "<phone> is missing"),
            ("10000000 79876543210", "<firstName> is missing"),
            ("ten 79876543210 Ivan", "chatId `ten` is not a chat id"),
            ("10000000 12ab Ivan", "phone `12ab` contains `a`"),
            ("10000000 123 Ivan", "phone `123` has 3 digits"),
            ("10000000 +44 20 7946 0958 99 99 Ivan", "phone `+44 20 7946 0958 99 99` has 16 digits"),
            ("10000000 0791234567 Ivan", "phone `0791234567` starts with 0"),
            ("10000000 79876543210 \"\"", "firstName is empty"),
            ("10000000 79876543210 “Ivan", "the quote “ before `Ivan` is never closed"),
        ];
        for (text, expected) in cases {
            let err = parse_text(text).unwrap_err();
            assert!(err.to_string().starts_with(expected), "text {text:?} gave {err:?}: {err}");
        }
        let long = format!("10000000 79876543210 {}", "x".repeat(257));
        assert_eq!(
            parse_text(&long),
            Err(ArgumentsError::Command(CommandError::FirstName(ContactTextError::TooLong(257))))
        );
    }

    #[test]
    fn echoed_arguments_are_shortened() {
        let text = format!("{} 79876543210 Ivan", "z".repeat(100));
        let message = parse_text(&text).unwrap_err().to_string();
        assert!(message.contains(&format!("`{}…`", "z".repeat(40))), "{message}");
    }

    proptest! {
        #[test]
        fn no_text_panics(text in "\\PC*") {
            let _ = parse_text(&text);
        }

        #[test]
        fn valid_commands_round_trip(
            chat in -99_999_999_999i64..99_999_999_999,
            phone in 1_000_000u64..999_999_999_999_999,
            first in "[A-Za-zА-я]{1,20}",
            last in "[A-Za-zА-я]{1,20}",
            company in "[A-Za-zА-я ]{0,30}",
        ) {
            let text = format!("{chat} +{phone} {first} {last} {company}");
            let s = match parse_text(&text) {
                Ok(Command::Send(s)) => s,
                other => return Err(TestCaseError::fail(format!("{other:?}"))),
            };
            let chat_text = chat.to_string();
            prop_assert_eq!(s.chat_id.as_str(), chat_text.as_str());
            let contact = contact(&s);
            prop_assert_eq!(contact.phone.as_u64(), phone);
            prop_assert_eq!(contact.first_name.as_str(), first.as_str());
            prop_assert_eq!(contact.last_name.as_ref().map(ContactText::as_str), Some(last.as_str()));
            let company = company.split_whitespace().collect::<Vec<_>>().join(" ");
            prop_assert_eq!(
                contact.company.as_ref().map(ContactText::as_str),
                (!company.is_empty()).then_some(company.as_str())
            );
        }
    }
}
