//! Slack message text → the words a user meant.
//!
//! Slack rewrites what people type before it reaches us
//! (<https://docs.slack.dev/messaging/formatting-message-text>): `& < >` travel
//! as `&amp; &lt; &gt;`, and links, including phone numbers and e-mail-like
//! chat ids that clients auto-link, arrive as `<tel:+7...|label>`,
//! `<mailto:...|label>` or `<url|label>`. Clients on phones and Macs also turn
//! quotes into curly ones. [`split_words`] undoes all of that, so the grammar
//! in `command.rs` sees the words exactly as typed, whether the command's
//! `should_escape` is on or off.

use std::borrow::Cow;

/// Pairs of quotes that group words: an opening quote at the start of a word
/// runs to a closing one followed by whitespace or the end of the text.
/// Curly pairs accept either closing form, since keyboards differ.
const QUOTES: &[(char, &[char])] = &[
    ('"', &['"']),
    ('\'', &['\'']),
    ('“', &['”', '“']),
    ('”', &['”']),
    ('„', &['“', '”']),
    ('‘', &['’', '‘']),
    ('’', &['’']),
    ('«', &['»']),
];

/// Why a text did not split into words. `Display` is the English reason
/// from the catalogue (`i18n::command`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TextError {
    /// `context` is the start of the quoted text, shortened.
    UnclosedQuote { quote: char, context: String },
}

impl std::error::Error for TextError {}

/// One character of the text, and whether it was typed as is (`raw`) or came
/// out of an entity or a link. Only raw characters separate words or quote.
/// `at` is where a raw character sits in the text.
#[derive(Clone, Copy)]
struct Char {
    c: char,
    raw: bool,
    at: u32,
}

/// Splits Slack command text into words, decoding entities and links and
/// honouring straight and curly quotes. An empty quoted string (`""`) is an
/// empty word, so a user can skip an optional argument. A word typed as is
/// (most of them) is borrowed from `text`; only one that had an entity or a
/// link decoded is a string of its own.
pub fn split_words(text: &str) -> Result<Vec<Cow<'_, str>>, TextError> {
    let chars = unescape(text);
    // A send is five words at most; more is a usage error anyway.
    let mut words = Vec::with_capacity(5);
    let mut i = 0;
    while i < chars.len() {
        let ch = chars[i];
        if ch.raw && ch.c.is_whitespace() {
            i += 1;
            continue;
        }
        if ch.raw
            && let Some(closers) = closers_for(ch.c)
        {
            let end = find_closing(&chars, i + 1, closers).ok_or_else(|| TextError::UnclosedQuote {
                quote: ch.c,
                context: chars[i + 1..].iter().take(12).map(|c| c.c).collect(),
            })?;
            words.push(word(text, &chars[i + 1..end]));
            i = end + 1;
            continue;
        }
        let start = i;
        while i < chars.len() && !(chars[i].raw && chars[i].c.is_whitespace()) {
            i += 1;
        }
        words.push(word(text, &chars[start..i]));
    }
    Ok(words)
}

/// The characters as a string: the part of `text` they were typed as when
/// all of them are raw (raw characters in a row are a run of `text`: a
/// decoded one would sit between any two that are not), else a string
/// allocated once at its final size.
fn word<'t>(text: &'t str, chars: &[Char]) -> Cow<'t, str> {
    match (chars.first(), chars.last()) {
        (None, _) | (_, None) => Cow::Borrowed(""),
        (Some(first), Some(last)) if text.len() <= u32::MAX as usize && chars.iter().all(|c| c.raw) => {
            Cow::Borrowed(&text[first.at as usize..last.at as usize + last.c.len_utf8()])
        }
        _ => {
            let mut word = String::with_capacity(chars.iter().map(|c| c.c.len_utf8()).sum());
            word.extend(chars.iter().map(|c| c.c));
            Cow::Owned(word)
        }
    }
}

fn closers_for(c: char) -> Option<&'static [char]> {
    QUOTES.iter().find(|(open, _)| *open == c).map(|(_, close)| *close)
}

/// The index of the first closing quote at or after `from` that ends a word.
fn find_closing(chars: &[Char], from: usize, closers: &[char]) -> Option<usize> {
    (from..chars.len()).find(|&j| {
        chars[j].raw
            && closers.contains(&chars[j].c)
            && chars.get(j + 1).is_none_or(|next| next.raw && next.c.is_whitespace())
    })
}

/// Decodes links first, then entities, so that an escaped `&lt;` can never
/// open a link.
fn unescape(text: &str) -> Vec<Char> {
    let mut out = Vec::with_capacity(text.len());
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if c == '<'
            && let Some((replacement, consumed)) = unwrap_link(rest)
        {
            // Slack escapes `& < >` inside a link too (`<http://att.com|AT&amp;T>`).
            out.extend(decode_entities(replacement).map(|c| Char { c, raw: false, at: 0 }));
            rest = &rest[consumed..];
            continue;
        }
        if c == '&'
            && let Some((decoded, len)) = entity_at(rest)
        {
            out.push(Char { c: decoded, raw: false, at: 0 });
            rest = &rest[len..];
            continue;
        }
        // Wrong past 4 GiB, where `word` does not read it (a terminal's
        // argument could be that long; Slack's body stops at 16 KiB).
        out.push(Char { c, raw: true, at: (text.len() - rest.len()) as u32 });
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// The entity Slack escapes at the start of `s`, if any, and its length.
fn entity_at(s: &str) -> Option<(char, usize)> {
    [("&amp;", '&'), ("&lt;", '<'), ("&gt;", '>')]
        .into_iter()
        .find(|(name, _)| s.starts_with(name))
        .map(|(name, decoded)| (decoded, name.len()))
}

/// `s` with Slack's three entities decoded, each once.
fn decode_entities(mut s: &str) -> impl Iterator<Item = char> + '_ {
    std::iter::from_fn(move || {
        let c = s.chars().next()?;
        let entity = if c == '&' { entity_at(s) } else { None };
        let (decoded, len) = entity.unwrap_or((c, c.len_utf8()));
        s = &s[len..];
        Some(decoded)
    })
}

/// `<target|label>` or `<target>` at the start of `s`: the text a user typed
/// for it, and how many bytes it spans. `None` when it is not Slack markup.
fn unwrap_link(s: &str) -> Option<(&str, usize)> {
    let end = s.find('>')?;
    let inner = &s[1..end];
    if inner.contains('<') {
        return None;
    }
    let (target, label) = match inner.split_once('|') {
        Some((target, label)) => (target, Some(label)),
        None => (inner, None),
    };
    if target.is_empty() || target.chars().any(char::is_whitespace) {
        return None;
    }
    let label = label.filter(|l| !l.is_empty());
    let text = if let Some(number) = target.strip_prefix("tel:") {
        // The target carries the full international number; the label is
        // often the local form the user typed, without the country code.
        number
    } else if let Some(id) = target.strip_prefix('@').or_else(|| target.strip_prefix('!')) {
        label.unwrap_or(id)
    } else if let Some(channel) = target.strip_prefix('#') {
        label.unwrap_or(channel)
    } else if let Some(address) = target.strip_prefix("mailto:") {
        label.unwrap_or(address)
    } else if has_scheme(target) {
        label.unwrap_or(target)
    } else {
        return None;
    };
    Some((text, end + 1))
}

/// `scheme:` as in RFC 3986: a letter, then letters, digits, `+ - .`.
fn has_scheme(target: &str) -> bool {
    let Some((scheme, _)) = target.split_once(':') else {
        return false;
    };
    let mut chars = scheme.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn words(text: &str) -> Vec<String> {
        split_words(text).unwrap_or_else(|e| panic!("{text:?}: {e}")).into_iter().map(Cow::into_owned).collect()
    }

    #[test]
    fn splits_and_unwraps_what_slack_sends() {
        let cases: &[(&str, &[&str])] = &[
            ("", &[]),
            ("   ", &[]),
            ("a b  c", &["a", "b", "c"]),
            ("a\u{a0}b\tc\nd", &["a", "b", "c", "d"]),
            (r#""Ivan Petrovich" Ivanov"#, &["Ivan Petrovich", "Ivanov"]),
            ("'Ivan Petrovich' Ivanov", &["Ivan Petrovich", "Ivanov"]),
            ("“Ivan Petrovich” Ivanov", &["Ivan Petrovich", "Ivanov"]),
            ("”Ivan Petrovich” Ivanov", &["Ivan Petrovich", "Ivanov"]),
            ("‘Ivan Petrovich’ Ivanov", &["Ivan Petrovich", "Ivanov"]),
            ("«ООО Ромашка» x", &["ООО Ромашка", "x"]),
            ("„Hans Peter“ x", &["Hans Peter", "x"]),
            (r#"a "" b"#, &["a", "", "b"]),
            ("O'Brien D’Angelo", &["O'Brien", "D’Angelo"]),
            (r#""O'Brien Jr" x"#, &["O'Brien Jr", "x"]),
            ("“Say “hi” now” x", &["Say “hi", "now”", "x"]),
            ("AT&amp;T &lt;b&gt;", &["AT&T", "<b>"]),
            ("&amp;lt;", &["&lt;"]),
            ("&lt;tel:1|2&gt;", &["<tel:1|2>"]),
            ("<tel:+79876543210|+7 987 654-32-10>", &["+79876543210"]),
            ("<tel:+15551234567|555-123-4567> x", &["+15551234567", "x"]),
            ("<tel:1234|1234>", &["1234"]),
            ("<tel:1234>", &["1234"]),
            ("<mailto:79876543210@c.us|79876543210@c.us>", &["79876543210@c.us"]),
            ("<mailto:a@b.c>", &["a@b.c"]),
            ("<http://acme.com|acme.com>", &["acme.com"]),
            ("<https://acme.com/x?y=1&amp;z>", &["https://acme.com/x?y=1&z"]),
            ("<http://att.com|AT&amp;T>", &["AT&T"]),
            ("<http://att.com|AT&amp;T> Wireless", &["AT&T", "Wireless"]),
            ("<mailto:a&amp;b@c.us>", &["a&b@c.us"]),
            ("<mailto:x@y.z|R&amp;D &lt;team&gt;>", &["R&D <team>"]),
            ("<http://x.io|&amp;lt;>", &["&lt;"]),
            ("<http://x.io|a&amp;>", &["a&"]),
            ("<http://x.io|&amp>", &["&amp"]),
            ("<http://a.io|Acme Corp> Ltd", &["Acme Corp", "Ltd"]),
            (r#""Acme <http://a.io|a.io> Ltd""#, &["Acme a.io Ltd"]),
            ("<@U123|ivan> <@U456>", &["ivan", "U456"]),
            ("<#C123|general> <#C456|>", &["general", "C456"]),
            ("<!here>", &["here"]),
            ("a<b c>d", &["a<b", "c>d"]),
            ("1 < 2 > 0", &["1", "<", "2", ">", "0"]),
            ("<not a link>", &["<not", "a", "link>"]),
            ("<>", &["<>"]),
        ];
        for (text, expected) in cases {
            assert_eq!(words(text), *expected, "text {text:?}");
        }
    }

    #[test]
    fn an_unclosed_quote_is_reported_with_its_place() {
        let err = split_words("100 79876543210 “Ivan Ivanov").unwrap_err();
        assert_eq!(err, TextError::UnclosedQuote { quote: '“', context: "Ivan Ivanov".into() });
        assert!(err.to_string().contains("never closed"));
        assert!(split_words("'abc").is_err());
        assert!(split_words("\"a\"b").is_err());
    }

    #[test]
    fn words_typed_as_is_are_borrowed_and_decoded_ones_are_not() {
        let text = "79876543210 «Иван Петрович» AT&amp;T <tel:+15551234567|555> \"\" x";
        let words = split_words(text).unwrap();
        let borrowed: Vec<bool> = words.iter().map(|w| matches!(w, Cow::Borrowed(_))).collect();
        assert_eq!(words, ["79876543210", "Иван Петрович", "AT&T", "+15551234567", "", "x"]);
        assert_eq!(borrowed, [true, true, false, false, true, true]);
    }

    #[test]
    fn quotes_produced_by_entities_or_links_do_not_group() {
        assert_eq!(words("<http://x|\"a> b\""), vec!["\"a", "b\""]);
    }

    proptest! {
        #[test]
        fn never_panics(text in "\\PC*") {
            let _ = split_words(&text);
        }

        #[test]
        fn never_panics_on_slack_markup(text in "([<>|&;\"'“”‘’«»„ a-z:@#!]|tel:|mailto:|&amp;|&lt;|&gt;){0,40}") {
            let _ = split_words(&text);
        }

        #[test]
        fn plain_words_survive_unchanged(ws in proptest::collection::vec("[A-Za-zА-яё0-9.+()@-]{1,12}", 0..8)) {
            let text = ws.join(" ");
            prop_assert_eq!(split_words(&text).unwrap(), ws);
        }

        #[test]
        fn quoting_groups_any_phrase(phrase in "[A-Za-zА-я0-9 .,-]{0,30}", q in 0usize..4) {
            let (open, close) = [("\"", "\""), ("'", "'"), ("“", "”"), ("«", "»")][q];
            prop_assume!(!phrase.contains(close));
            let text = format!("x {open}{phrase}{close} y");
            prop_assert_eq!(split_words(&text).unwrap(), vec!["x".to_string(), phrase, "y".to_string()]);
        }
    }
}
