use std::fmt;

use super::{ChatId, PhoneNumber, PhoneNumberError};

/// The contact a MAX card shows: MAX's sendContact takes no phone and no
/// names, only the chat id of someone already among the instance's contacts
/// (<https://green-api.com/v3/docs/api/sending/SendContact>). The card then
/// shows that person's own MAX profile.
///
/// Typed as the contact's MAX chat id (`10000000`), or as their phone
/// number, which MAX addresses as `79876543210@c.us`. A phone is told from a
/// chat id by its `+`, its separators or its `@c.us`: `+7 987 654-32-10`.
#[derive(Clone, PartialEq, Eq)]
pub struct MaxContact(ChatId);

/// Why the words after a MAX chat are not a contact. `Display` is the
/// English reason from the catalogue (`i18n::routing`); it completes
/// "contact `x` …".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MaxContactError {
    Missing,
    /// A group's chat id (negative): a contact is a person.
    Group,
    /// Neither a MAX chat id nor a phone number.
    Unrecognised,
    /// Typed as a phone number, but not a valid one.
    Phone(PhoneNumberError),
    /// Names follow the contact; MAX takes none.
    Names,
}

impl std::error::Error for MaxContactError {}

impl MaxContactError {
    /// A short stable name for logs, which must not hold the arguments.
    pub fn kind(&self) -> &'static str {
        match self {
            MaxContactError::Missing => "missing_argument",
            MaxContactError::Group | MaxContactError::Unrecognised => "bad_contact",
            MaxContactError::Phone(_) => "bad_phone",
            MaxContactError::Names => "names_on_max",
        }
    }
}

impl MaxContact {
    /// Parses the words after the chat: the contact, in one word or, for a
    /// phone typed in groups, several; nothing may follow it.
    pub fn parse<S: AsRef<str>>(words: &[S]) -> Result<Self, MaxContactError> {
        let first = words.first().map(AsRef::as_ref).ok_or(MaxContactError::Missing)?.trim();
        if first.is_empty() {
            return Err(MaxContactError::Missing);
        }
        let fragments = 1 + words[1..].iter().take_while(|w| is_phone_fragment(w.as_ref())).count();
        let phone_typed = fragments > 1
            || first.starts_with('+')
            || first.contains(['(', ')', '.'])
            || first.trim_start_matches('-').contains('-');
        if words.len() > fragments {
            return Err(MaxContactError::Names);
        }
        if first.contains('@') {
            let number = first.strip_suffix("@c.us").or_else(|| first.strip_suffix("@C.US"));
            return number.map_or(Err(MaxContactError::Unrecognised), Self::from_phone);
        }
        if phone_typed {
            let phone = words[..fragments].iter().map(AsRef::as_ref).collect::<Vec<_>>().join(" ");
            return Self::from_phone(&phone);
        }
        match ChatId::parse(first) {
            Ok(id) if id.as_str().starts_with('-') => Err(MaxContactError::Group),
            Ok(id) if !id.as_str().contains('@') => Ok(Self(id)),
            _ => Err(MaxContactError::Unrecognised),
        }
    }

    fn from_phone(phone: &str) -> Result<Self, MaxContactError> {
        let phone = PhoneNumber::parse(phone).map_err(MaxContactError::Phone)?;
        let id = ChatId::parse(&format!("{}@c.us", phone.as_u64())).map_err(|_| MaxContactError::Unrecognised)?;
        Ok(Self(id))
    }

    /// The contact's chat id as GREEN-API's `contact.chatId` takes it.
    pub fn chat_id(&self) -> &ChatId {
        &self.0
    }
}

/// A word that can only be a piece of a phone number.
fn is_phone_fragment(word: &str) -> bool {
    !word.is_empty() && word.chars().all(|c| c.is_ascii_digit() || matches!(c, '+' | '(' | ')' | '-' | '.'))
}

/// A phone-based contact is personal data: logs see it masked, as any
/// `@c.us` chat.
impl fmt::Debug for MaxContact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MaxContact({})", self.0.for_log())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parse(text: &str) -> Result<String, MaxContactError> {
        let words: Vec<&str> = text.split_whitespace().collect();
        MaxContact::parse(&words).map(|c| c.chat_id().as_str().to_owned())
    }

    #[test]
    fn a_contact_is_a_chat_id_or_a_phone() {
        for (text, expected) in [
            ("10000000", "10000000"),
            ("+79876543210", "79876543210@c.us"),
            ("+7 987 654-32-10", "79876543210@c.us"),
            ("8-800-555-35-35", "88005553535@c.us"),
            ("79876543210@c.us", "79876543210@c.us"),
            ("+79876543210@c.us", "79876543210@c.us"),
        ] {
            assert_eq!(parse(text).as_deref(), Ok(expected), "{text:?}");
        }
    }

    #[test]
    fn refusals_say_what_to_write() {
        use MaxContactError::*;
        for (text, expected) in [
            ("", Missing),
            ("-10000000000000", Group),
            ("ivan", Unrecognised),
            ("1@g.us", Unrecognised),
            ("+12", Phone(PhoneNumberError::BadLength(2))),
            ("10000000 Ivan", Names),
            ("+7 987 654 32 10 Ivan Ivanov", Names),
        ] {
            assert_eq!(parse(text), Err(expected), "{text:?}");
        }
        assert!(Names.to_string().contains("not sent on MAX"));
    }

    #[test]
    fn logs_never_show_a_whole_phone() {
        let words = ["+79876543210"];
        let debug = format!("{:?}", MaxContact::parse(&words).unwrap());
        assert!(!debug.contains("79876543210"), "{debug}");
    }

    proptest! {
        #[test]
        fn no_words_panic(words in proptest::collection::vec("\\PC{0,16}", 0..5)) {
            let _ = MaxContact::parse(&words);
        }
    }
}
