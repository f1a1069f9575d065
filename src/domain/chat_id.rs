use std::fmt::{self, Write as _};

/// The chat a contact card goes to, in one of the forms GREEN-API accepts:
/// a Telegram/MAX chat id (`10000000`, groups `-10000000000000`), or a
/// WhatsApp-style id `79876543210@c.us`, `120363043968066561@g.us`,
/// `11001234567-1581234048@g.us`, `...@lid`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ChatId(String);

/// Why a chat id was refused. `Display` is the English reason from the
/// catalogue (`i18n::command`); it completes a sentence that names the
/// argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChatIdError {
    Empty,
    /// None of the forms GREEN-API accepts.
    Unrecognised,
    /// More digits than any chat id has.
    TooLong(usize),
}

impl std::error::Error for ChatIdError {}

const MAX_DIGITS: usize = 20;

impl ChatId {
    pub fn parse(input: &str) -> Result<Self, ChatIdError> {
        let input = input.trim();
        if input.is_empty() {
            return Err(ChatIdError::Empty);
        }
        let mut lower = input.to_ascii_lowercase();
        if let Some((user, server)) = lower.split_once('@') {
            // People paste numbers with a plus; GREEN-API wants bare digits.
            let plus = server == "c.us" && user.starts_with('+');
            let user = if plus { &user[1..] } else { user };
            let valid = match server {
                "c.us" | "lid" => all_digits(user)?,
                "g.us" => match user.split_once('-') {
                    Some((creator, created)) => all_digits(creator)? && all_digits(created)?,
                    None => all_digits(user)?,
                },
                _ => false,
            };
            if !valid {
                return Err(ChatIdError::Unrecognised);
            }
            // `user@server` is what was typed, lowercased, less the plus.
            if plus {
                lower.remove(0);
            }
            return Ok(Self(lower));
        }
        let digits = input.strip_prefix('-').unwrap_or(input);
        if all_digits(digits)? { Ok(Self(input.to_owned())) } else { Err(ChatIdError::Unrecognised) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The id as logs show it. A personal WhatsApp chat (`...@c.us`) is named
    /// by the recipient's phone number, which logs must not hold; its middle
    /// digits are masked, leaving enough to match a user's report.
    pub fn for_log(&self) -> ChatIdForLog<'_> {
        ChatIdForLog(&self.0)
    }
}

/// See [`ChatId::for_log`].
pub struct ChatIdForLog<'a>(&'a str);

impl fmt::Display for ChatIdForLog<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.strip_suffix("@c.us") {
            Some(number) => {
                // At most two digits at each end, and never more than half.
                // Parsing left only ASCII digits here, so byte slicing is safe.
                let shown = (number.len() / 4).min(2);
                let masked = number.len() - 2 * shown;
                f.write_str(&number[..shown])?;
                for _ in 0..masked {
                    f.write_char('*')?;
                }
                f.write_str(&number[shown + masked..])?;
                f.write_str("@c.us")
            }
            None => f.write_str(self.0),
        }
    }
}

/// `Ok(false)` for anything that is not 1..=20 ASCII digits, except that an
/// over-long run of digits gets its own message.
fn all_digits(s: &str) -> Result<bool, ChatIdError> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(false);
    }
    if s.len() > MAX_DIGITS {
        return Err(ChatIdError::TooLong(s.len()));
    }
    Ok(true)
}

impl AsRef<str> for ChatId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ChatId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for ChatId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ChatId({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_every_documented_form() {
        let cases = [
            ("10000000", "10000000"),
            ("-10000000000000", "-10000000000000"),
            ("79876543210@c.us", "79876543210@c.us"),
            ("+79876543210@c.us", "79876543210@c.us"),
            ("79876543210@C.US", "79876543210@c.us"),
            ("120363043968066561@g.us", "120363043968066561@g.us"),
            ("11001234567-1581234048@g.us", "11001234567-1581234048@g.us"),
            ("123456789@lid", "123456789@lid"),
        ];
        for (input, expected) in cases {
            assert_eq!(ChatId::parse(input).as_ref().map(ChatId::as_str), Ok(expected), "input {input:?}");
        }
    }

    #[test]
    fn refuses_what_is_not_a_chat_id() {
        use ChatIdError::*;
        let cases = [
            ("", Empty),
            ("abc", Unrecognised),
            ("--100", Unrecognised),
            ("-", Unrecognised),
            ("100.5", Unrecognised),
            ("@c.us", Unrecognised),
            ("7987@s.whatsapp.net", Unrecognised),
            ("79876543210@c.us.evil", Unrecognised),
            ("12-34@c.us", Unrecognised),
            ("1-2-3@g.us", Unrecognised),
            ("+100@lid", Unrecognised),
            ("123456789012345678901", TooLong(21)),
            ("123456789012345678901@c.us", TooLong(21)),
        ];
        for (input, expected) in cases {
            assert_eq!(ChatId::parse(input), Err(expected), "input {input:?}");
        }
    }

    #[test]
    fn logs_mask_the_phone_number_of_a_personal_whatsapp_chat() {
        let cases = [
            ("79876543210@c.us", "79*******10@c.us"),
            ("12345@c.us", "1***5@c.us"),
            ("123@c.us", "***@c.us"),
            ("1@c.us", "*@c.us"),
            ("120363043968066561@g.us", "120363043968066561@g.us"),
            ("123456789@lid", "123456789@lid"),
            ("-10000000000000", "-10000000000000"),
        ];
        for (input, expected) in cases {
            let id = ChatId::parse(input).unwrap();
            assert_eq!(id.for_log().to_string(), expected, "input {input:?}");
        }
    }

    proptest! {
        #[test]
        fn a_logged_personal_chat_never_shows_its_whole_number(number in "[0-9]{1,20}") {
            let id = ChatId::parse(&format!("{number}@c.us")).unwrap();
            let logged = id.for_log().to_string();
            prop_assert!(!logged.contains(&number));
            prop_assert_eq!(logged.len(), id.as_str().len());
        }

        #[test]
        fn never_panics(input in "\\PC*") {
            let _ = ChatId::parse(&input);
        }

        #[test]
        fn numeric_ids_round_trip(id in -99_999_999_999_999i64..=99_999_999_999_999) {
            let text = id.to_string();
            let parsed = ChatId::parse(&text).unwrap();
            prop_assert_eq!(parsed.as_str(), text.as_str());
        }
    }
}
