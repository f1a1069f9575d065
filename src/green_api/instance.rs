//! What kind of instance this is, and what its state means for an admin.

/// GREEN-API's `typeInstance`: which messenger the instance serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InstanceType {
    Telegram,
    WhatsApp,
    /// MAX ("v3"): its sendContact takes a contact chatId, not a phone and names.
    Max,
    Other(String),
}

impl InstanceType {
    pub fn from_type_instance(value: &str) -> Self {
        match value.to_ascii_lowercase().as_str() {
            "telegram" => InstanceType::Telegram,
            "whatsapp" => InstanceType::WhatsApp,
            "v3" | "max" => InstanceType::Max,
            other => InstanceType::Other(other.chars().take(32).collect()),
        }
    }

    /// The name as GREEN-API spells it, for logs and metrics.
    pub fn as_str(&self) -> &str {
        match self {
            InstanceType::Telegram => "telegram",
            InstanceType::WhatsApp => "whatsapp",
            InstanceType::Max => "v3",
            InstanceType::Other(other) => other,
        }
    }

    /// What an admin should know about this instance type, if anything.
    pub fn warning(&self) -> Option<String> {
        match self {
            // MAX takes its own grammar (the contact's chat id, no names),
            // which the usage explains to the user.
            InstanceType::Telegram | InstanceType::WhatsApp | InstanceType::Max => None,
            InstanceType::Other(other) => Some(format!(
                "this GREEN-API instance reports the type `{other}`, which this bot does not know; sendContact \
                 may take a different body there"
            )),
        }
    }
}

/// What an admin should do about each state getStateInstance can report
/// (<https://green-api.com/en/telegram/docs/api/account/GetStateInstance>).
pub fn state_advice(state: &str) -> &'static str {
    match state {
        "authorized" => "the instance can send.",
        "notAuthorized" => {
            "the instance is not linked to an account. Open the GREEN-API console and authorize \
             it (scan the QR code or enter the code), then run check again."
        }
        "starting" => {
            "the instance is (re)starting, which can take up to 5 minutes. Wait and run check again; if \
             it stays like this, reboot the instance in the GREEN-API console."
        }
        "blocked" => {
            "the messenger has blocked the account. Nothing can be sent; see the GREEN-API console and \
             contact GREEN-API support."
        }
        "suspended" => {
            "sending is temporarily restricted. The console (or getAccountSettings) shows until when; \
             wait for it to lift."
        }
        "pendingPassword" | "pendingCode" => "finish the two-step login in the GREEN-API console.",
        "yellowCard" => {
            "the messenger suspects spam and sending is limited. Send less for a while; see the \
             GREEN-API console."
        }
        "sleepMode" => "the phone is offline. Bring it online, then run check again.",
        _ => "an unknown state: see the GREEN-API console, and contact GREEN-API support if it persists.",
    }
}
