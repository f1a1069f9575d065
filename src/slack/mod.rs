//! Everything that speaks Slack: the slash-command request
//! (<https://docs.slack.dev/interactivity/implementing-slash-commands>), its
//! signature, its text markup, the replies and response_url; the form
//! (modal) and its submission, Block Kit and its limits, and the Web API the
//! bot token opens. No GREEN-API types here.

pub mod blocks;
pub mod form;
pub mod json;
pub mod locale;
pub mod modal;
pub mod replay;
pub mod reply;
pub mod response_url;
pub mod signature;
pub mod text;
pub mod web_api;
