//! JSON strings written straight into a buffer, escaped exactly as
//! serde_json escapes them, for the one document written with every command:
//! the reply ([`super::reply::Reply::to_json`]).
//!
//! By hand because serde_json escapes every key and string in a call of its
//! own (a reply with a contact card is 31 of them, most a few bytes long, each
//! with its own scan and copies), while a reply's keys and punctuation are
//! fixed and can be written as a few constant runs; and because its scan goes
//! a byte at a time, where eight bytes at a time find that a name or a
//! message id holds nothing to escape. Tests hold every string's bytes to
//! serde_json's.

/// Appends `text` as a JSON string, quotes included.
pub fn push_string(out: &mut Vec<u8>, text: &str) {
    out.push(b'"');
    push_escaped(out, text);
    out.push(b'"');
}

/// Appends `text` escaped for the inside of a JSON string: `"`, `\` and
/// control characters, as serde_json writes them (`\n`, `\u001f`, ...);
/// everything else, UTF-8 included, as it is.
pub fn push_escaped(out: &mut Vec<u8>, text: &str) {
    let bytes = text.as_bytes();
    let mut start = 0;
    let mut at = 0;
    while at < bytes.len() {
        // Whole words while none of their bytes needs escaping; in a word
        // that has one, straight to the first.
        if let Some(word) = bytes.get(at..at + 8) {
            let found = to_escape(u64::from_le_bytes(word.try_into().unwrap_or([0; 8])));
            if found == 0 {
                at += 8;
                continue;
            }
            at += (found.trailing_zeros() / 8) as usize;
        }
        let byte = bytes[at];
        if let Some(escape) = escape(byte) {
            out.extend_from_slice(&bytes[start..at]);
            match escape {
                Escape::Short(c) => out.extend_from_slice(&[b'\\', c]),
                Escape::Unicode => {
                    const HEX: &[u8; 16] = b"0123456789abcdef";
                    out.extend_from_slice(&[
                        b'\\',
                        b'u',
                        b'0',
                        b'0',
                        HEX[usize::from(byte >> 4)],
                        HEX[usize::from(byte & 0xf)],
                    ]);
                }
            }
            start = at + 1;
        }
        at += 1;
    }
    out.extend_from_slice(&bytes[start..]);
}

enum Escape {
    /// `\"`, `\\`, `\n` and the other two-character forms.
    Short(u8),
    /// `\u00XX`.
    Unicode,
}

fn escape(byte: u8) -> Option<Escape> {
    Some(match byte {
        b'"' => Escape::Short(b'"'),
        b'\\' => Escape::Short(b'\\'),
        b'\n' => Escape::Short(b'n'),
        b'\r' => Escape::Short(b'r'),
        b'\t' => Escape::Short(b't'),
        0x08 => Escape::Short(b'b'),
        0x0c => Escape::Short(b'f'),
        0x00..=0x1f => Escape::Unicode,
        _ => return None,
    })
}

/// The bytes of `word` (read little-endian) that are `"`, `\` or below 0x20,
/// as their top bits: 0 when there is none. Each test sets a byte's top bit
/// when that byte is zero after the XOR (or below 0x20 for the subtraction).
/// A borrow can only set bits above a byte that matched, so the lowest bit
/// set is always a byte to escape, and "none" is exact.
fn to_escape(word: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const TOPS: u64 = 0x8080_8080_8080_8080;
    let zero_byte = |w: u64| w.wrapping_sub(ONES) & !w & TOPS;
    let control = word.wrapping_sub(ONES * 0x20) & !word & TOPS;
    control | zero_byte(word ^ (ONES * u64::from(b'"'))) | zero_byte(word ^ (ONES * u64::from(b'\\')))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(text: &str) -> String {
        let mut out = Vec::new();
        push_string(&mut out, text);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn escapes_as_serde_json_does() {
        for text in [
            "",
            "plain",
            "Иван «Ромашка» 🙂",
            "\"quoted\" and \\back\\slashed",
            "line\nbreak\r\ttab\u{8}\u{c}",
            "\u{0}\u{1}\u{1f}\u{7f} /",
            "exactly8",
            "sixteen bytes!!!",
            "a long run of plain text, then a quote at its end\"",
            "\"at the start, then a long run of plain text",
            "ends with a control character\u{1}",
        ] {
            assert_eq!(written(text), serde_json::to_string(text).unwrap(), "{text:?}");
        }
    }

    #[test]
    fn the_word_test_finds_each_byte_to_escape_at_each_position() {
        for special in [b'"', b'\\', 0x00, 0x1f, b'\n'] {
            for at in 0..8 {
                let mut word = [b'a'; 8];
                word[at] = special;
                let found = to_escape(u64::from_le_bytes(word));
                assert_eq!(found.trailing_zeros() / 8, at as u32, "{special:#x} at {at}");
            }
        }
        for plain in [b' ', b'!', b'#', b'[', b']', 0x7f, 0x80, 0xd0, 0xff] {
            assert_eq!(to_escape(u64::from_le_bytes([plain; 8])), 0, "{plain:#x}");
        }
    }

    proptest::proptest! {
        #[test]
        fn the_first_byte_the_word_test_finds_is_the_first_to_escape(word in proptest::array::uniform8(proptest::num::u8::ANY)) {
            let first = word.iter().position(|&b| escape(b).is_some());
            let found = to_escape(u64::from_le_bytes(word));
            proptest::prop_assert_eq!(first, (found != 0).then(|| (found.trailing_zeros() / 8) as usize));
        }

        #[test]
        fn escapes_any_text_as_serde_json_does(text in "(\\PC|[\\x00-\\x1f\"\\\\])*") {
            proptest::prop_assert_eq!(written(&text), serde_json::to_string(&text).unwrap());
        }
    }
}
