use std::fmt;

use super::PhoneNumber;

/// The longest name or company we forward. GREEN-API documents no limit;
/// this keeps one command from turning into a wall of text in the chat.
pub const MAX_TEXT_CHARS: usize = 256;

/// A first or last name, or a company: trimmed, at most
/// [`MAX_TEXT_CHARS`] characters, and free of control characters (which
/// would corrupt the card or smuggle line breaks into a chat).
#[derive(Clone, PartialEq, Eq)]
pub struct ContactText(String);

/// Why a name or company was refused. `Display` is the English reason from
/// the catalogue (`i18n::command`); it completes a sentence that names the
/// argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContactTextError {
    Empty,
    /// Its length in characters, over [`MAX_TEXT_CHARS`].
    TooLong(usize),
    /// The code point of the first control character.
    ControlCharacter(u32),
    /// The first bidi control or zero-width character (see [`invisible_name`]).
    InvisibleCharacter(char),
}

/// Characters that are not shown but change how the text around them is
/// shown (bidi embeddings, overrides and isolates, which can make a name
/// read backwards or swap it with its neighbours) or hide inside it (zero-width
/// characters, which make two names that look alike differ), with their
/// Unicode names for the message.
const INVISIBLE: &[(char, &str)] = &[
    ('\u{200B}', "ZERO WIDTH SPACE"),
    ('\u{200C}', "ZERO WIDTH NON-JOINER"),
    ('\u{200D}', "ZERO WIDTH JOINER"),
    ('\u{202A}', "LEFT-TO-RIGHT EMBEDDING"),
    ('\u{202B}', "RIGHT-TO-LEFT EMBEDDING"),
    ('\u{202C}', "POP DIRECTIONAL FORMATTING"),
    ('\u{202D}', "LEFT-TO-RIGHT OVERRIDE"),
    ('\u{202E}', "RIGHT-TO-LEFT OVERRIDE"),
    ('\u{2060}', "WORD JOINER"),
    ('\u{2066}', "LEFT-TO-RIGHT ISOLATE"),
    ('\u{2067}', "RIGHT-TO-LEFT ISOLATE"),
    ('\u{2068}', "FIRST STRONG ISOLATE"),
    ('\u{2069}', "POP DIRECTIONAL ISOLATE"),
    ('\u{FEFF}', "ZERO WIDTH NO-BREAK SPACE"),
];

/// The Unicode name of `c` if it is one of the characters names refuse.
pub fn invisible_name(c: char) -> Option<&'static str> {
    INVISIBLE.iter().find(|(invisible, _)| *invisible == c).map(|(_, name)| *name)
}

impl std::error::Error for ContactTextError {}

impl ContactText {
    /// `Ok(None)` for an empty value, which optional fields simply omit.
    pub fn parse_optional(input: &str) -> Result<Option<Self>, ContactTextError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Ok(None);
        }
        if let Some(c) = trimmed.chars().find(|c| c.is_control()) {
            return Err(ContactTextError::ControlCharacter(u32::from(c)));
        }
        if let Some(c) = trimmed.chars().find(|c| invisible_name(*c).is_some()) {
            return Err(ContactTextError::InvisibleCharacter(c));
        }
        let chars = trimmed.chars().count();
        if chars > MAX_TEXT_CHARS {
            return Err(ContactTextError::TooLong(chars));
        }
        Ok(Some(Self(trimmed.to_owned())))
    }

    pub fn parse(input: &str) -> Result<Self, ContactTextError> {
        Self::parse_optional(input)?.ok_or(ContactTextError::Empty)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for ContactText {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ContactText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Names are personal data; logs of structs holding them show only a length.
impl fmt::Debug for ContactText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ContactText({} chars)", self.0.chars().count())
    }
}

/// The card to send: what GREEN-API's `contact` object holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    pub phone: PhoneNumber,
    pub first_name: ContactText,
    pub last_name: Option<ContactText>,
    pub company: Option<ContactText>,
}

impl Contact {
    /// "Ivan Ivanov (Acme)": how the card is named in replies.
    pub fn display_name(&self) -> String {
        let parts = [Some(&self.first_name), self.last_name.as_ref(), self.company.as_ref()];
        let mut name = String::with_capacity(parts.iter().flatten().map(|p| p.as_str().len() + 3).sum());
        name.push_str(self.first_name.as_str());
        if let Some(last) = &self.last_name {
            name.push(' ');
            name.push_str(last.as_str());
        }
        if let Some(company) = &self.company {
            name.push_str(" (");
            name.push_str(company.as_str());
            name.push(')');
        }
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn validates_names() {
        use ContactTextError::*;
        assert_eq!(ContactText::parse(" Иван ").unwrap().as_str(), "Иван");
        assert_eq!(ContactText::parse(""), Err(Empty));
        assert_eq!(ContactText::parse("  \u{a0} "), Err(Empty));
        assert_eq!(ContactText::parse_optional(" "), Ok(None));
        assert_eq!(ContactText::parse("a\nb"), Err(ControlCharacter(0x0a)));
        assert_eq!(ContactText::parse("a\u{7f}"), Err(ControlCharacter(0x7f)));
        assert_eq!(ContactText::parse(&"ж".repeat(256)).unwrap().as_str().chars().count(), 256);
        assert_eq!(ContactText::parse(&"ж".repeat(257)), Err(TooLong(257)));
    }

    #[test]
    fn bidi_controls_and_zero_width_characters_are_refused_by_name() {
        let cases = [
            ("Ivan\u{202E}vonavI", 0x202E, "RIGHT-TO-LEFT OVERRIDE"),
            ("\u{202A}Ivan", 0x202A, "LEFT-TO-RIGHT EMBEDDING"),
            ("Iv\u{202B}an", 0x202B, "RIGHT-TO-LEFT EMBEDDING"),
            ("Iv\u{202C}an", 0x202C, "POP DIRECTIONAL FORMATTING"),
            ("Iv\u{202D}an", 0x202D, "LEFT-TO-RIGHT OVERRIDE"),
            ("Iv\u{2066}an", 0x2066, "LEFT-TO-RIGHT ISOLATE"),
            ("Iv\u{2067}an", 0x2067, "RIGHT-TO-LEFT ISOLATE"),
            ("Iv\u{2068}an", 0x2068, "FIRST STRONG ISOLATE"),
            ("Iv\u{2069}an", 0x2069, "POP DIRECTIONAL ISOLATE"),
            ("Iv\u{200B}an", 0x200B, "ZERO WIDTH SPACE"),
            ("Iv\u{200C}an", 0x200C, "ZERO WIDTH NON-JOINER"),
            ("Iv\u{200D}an", 0x200D, "ZERO WIDTH JOINER"),
            ("Iv\u{2060}an", 0x2060, "WORD JOINER"),
            ("\u{FEFF}Ivan", 0xFEFF, "ZERO WIDTH NO-BREAK SPACE"),
        ];
        for (input, code, name) in cases {
            let err = ContactText::parse(input).unwrap_err();
            assert_eq!(err, ContactTextError::InvisibleCharacter(char::from_u32(code).unwrap()), "{input:?}");
            let message = err.to_string();
            assert!(message.contains(&format!("U+{code:04X} ({name})")), "{message}");
            assert_eq!(ContactText::parse_optional(input), Err(err), "optional fields too");
        }
        // Neighbours of the refused ranges stay allowed: LRM/RLM marks, the
        // narrow no-break space, Arabic and Hebrew letters.
        for fine in ["Ivan\u{200E}", "A\u{202F}B", "مريم", "שרה", "Zoë"] {
            assert!(ContactText::parse(fine).is_ok(), "{fine:?}");
        }
    }

    proptest! {
        #[test]
        fn accepted_text_is_trimmed_bounded_and_clean(input in "\\PC{0,300}|.{0,40}") {
            if let Ok(text) = ContactText::parse(&input) {
                let s = text.as_str();
                prop_assert!(!s.is_empty());
                prop_assert_eq!(s, s.trim());
                prop_assert!(s.chars().count() <= MAX_TEXT_CHARS);
                prop_assert!(!s.chars().any(char::is_control));
                prop_assert!(!s.chars().any(|c| invisible_name(c).is_some()));
            }
        }
    }
}
