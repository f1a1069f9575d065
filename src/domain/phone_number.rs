use std::fmt;

/// A contact's phone number in international format, as GREEN-API's
/// `phoneContact` wants it: 7 to 15 digits, country code first, no `+`.
///
/// Built only by [`PhoneNumber::parse`], so a value of this type is always
/// sendable.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct PhoneNumber(u64);

/// Why a phone number was refused. `Display` is the English reason from the
/// catalogue (`i18n::command`); it completes a sentence that names the
/// argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PhoneNumberError {
    Empty,
    /// A character other than digits and `+ ( ) - .` and spaces.
    BadCharacter(char),
    /// How many digits it has, outside 7 to 15.
    BadLength(usize),
    /// A national number: the country code is missing.
    LeadingZero,
}

impl std::error::Error for PhoneNumberError {}

impl PhoneNumber {
    pub const MIN_DIGITS: usize = 7;
    pub const MAX_DIGITS: usize = 15;

    /// Accepts what people type and what Slack's auto-linking produces:
    /// `+7 (987) 654-32-10`, `7.987.654.32.10`, `79876543210`.
    pub fn parse(input: &str) -> Result<Self, PhoneNumberError> {
        let mut value: u64 = 0;
        let mut digits = 0usize;
        let mut leading_zero = false;
        for c in input.chars() {
            match c {
                '0'..='9' => {
                    if digits == 0 && c == '0' {
                        leading_zero = true;
                    }
                    digits += 1;
                    // 15 digits fit comfortably in a u64; past that we only
                    // count, so the error can say how many there were.
                    if digits <= Self::MAX_DIGITS {
                        value = value * 10 + u64::from(c as u8 - b'0');
                    }
                }
                '+' | '(' | ')' | '-' | '.' => {}
                c if c.is_whitespace() => {}
                c => return Err(PhoneNumberError::BadCharacter(c)),
            }
        }
        if digits == 0 {
            return Err(PhoneNumberError::Empty);
        }
        if !(Self::MIN_DIGITS..=Self::MAX_DIGITS).contains(&digits) {
            return Err(PhoneNumberError::BadLength(digits));
        }
        // As a JSON integer a leading zero would silently vanish and the card
        // would carry another number; GREEN-API wants the international form.
        if leading_zero {
            return Err(PhoneNumberError::LeadingZero);
        }
        Ok(Self(value))
    }

    pub fn as_u64(self) -> u64 {
        self.0
    }

    /// The number as a channel may see it: `+7 987 ***-**-10`. A slash
    /// command's audience learns who the card is for without the number
    /// itself; five digits stay hidden (fewer only in the shortest numbers),
    /// grouped the way Russian numbers are written.
    pub fn masked(self) -> String {
        // At most 20 digits in a u64: formatted on the stack, then laid out
        // into one string sized for the result (a card builds this per send).
        let mut buf = [0u8; 20];
        let mut at = buf.len();
        let mut rest = self.0;
        loop {
            at -= 1;
            buf[at] = b'0' + (rest % 10) as u8;
            rest /= 10;
            if rest == 0 {
                break;
            }
        }
        let digits = &buf[at..];
        let n = digits.len();
        // Parsing guarantees at least MIN_DIGITS (7) ASCII digits.
        let hidden = 5.min(n - 3);
        let shown = n - hidden - 2;
        let digit = |i: usize| if i < shown || i >= n - 2 { char::from(digits[i]) } else { '*' };
        // `+`, the digits, up to two spaces and two hyphens.
        let mut out = String::with_capacity(n + 5);
        out.push('+');
        let rest = n - 7;
        for i in 0..rest {
            if rest > 3 && i == rest - 3 {
                out.push(' ');
            }
            out.push(digit(i));
        }
        if rest > 0 {
            out.push(' ');
        }
        for i in rest..n {
            if i == rest + 3 || i == rest + 5 {
                out.push('-');
            }
            out.push(digit(i));
        }
        out
    }
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "+{}", self.0)
    }
}

/// Phone numbers are personal data: `Debug` (and so any log of a struct that
/// holds one) shows only the last two digits.
impl fmt::Debug for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PhoneNumber(***{:02})", self.0 % 100)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_the_forms_people_type() {
        let cases = [
            ("79876543210", 79876543210),
            ("+7 (987) 654-32-10", 79876543210),
            ("+7\u{a0}987\u{a0}654\u{a0}32\u{a0}10", 79876543210),
            ("7.987.654.32.10", 79876543210),
            ("1234567", 1234567),
            ("123456789012345", 123456789012345),
            ("+44 20 7946 0958", 442079460958),
        ];
        for (input, expected) in cases {
            assert_eq!(PhoneNumber::parse(input).map(PhoneNumber::as_u64), Ok(expected), "input {input:?}");
        }
    }

    #[test]
    fn refuses_what_cannot_be_a_phone_number() {
        use PhoneNumberError::*;
        let cases = [
            ("", Empty),
            ("+()- .", Empty),
            ("123456", BadLength(6)),
            ("1234567890123456", BadLength(16)),
            ("12345678901234567890123", BadLength(23)),
            ("7987654321a", BadCharacter('a')),
            ("7987/6543210", BadCharacter('/')),
            ("089876543210", LeadingZero),
            ("+0049 30 1234567", LeadingZero),
        ];
        for (input, expected) in cases {
            assert_eq!(PhoneNumber::parse(input), Err(expected), "input {input:?}");
        }
    }

    #[test]
    fn debug_hides_all_but_the_last_two_digits() {
        let phone = PhoneNumber::parse("79876543210").unwrap();
        assert_eq!(format!("{phone:?}"), "PhoneNumber(***10)");
        assert_eq!(phone.to_string(), "+79876543210");
    }

    #[test]
    fn a_masked_number_keeps_its_country_code_and_last_two_digits() {
        let cases = [
            ("79876543210", "+7 987 ***-**-10"),
            ("442079460958", "+44 207 ***-**-58"),
            ("4915112345678", "+491 511 ***-**-78"),
            ("1234567", "+1**-**-67"),
            ("12345678", "+1 ***-**-78"),
            ("123456789012345", "+12345 678 ***-**-45"),
        ];
        for (input, expected) in cases {
            assert_eq!(PhoneNumber::parse(input).unwrap().masked(), expected, "{input}");
        }
    }

    /// The layout as first written, with `format!`: the model the
    /// allocation-free `masked` must agree with.
    fn masked_by_format(number: u64) -> String {
        let digits = number.to_string();
        let n = digits.len();
        let hidden = 5.min(n - 3);
        let shown = n - hidden - 2;
        let masked = format!("{}{}{}", &digits[..shown], "*".repeat(hidden), &digits[n - 2..]);
        let (rest, tail) = masked.split_at(n - 7);
        let mut out = String::from("+");
        if rest.len() > 3 {
            out.push_str(&rest[..rest.len() - 3]);
            out.push(' ');
            out.push_str(&rest[rest.len() - 3..]);
        } else {
            out.push_str(rest);
        }
        if !rest.is_empty() {
            out.push(' ');
        }
        out.push_str(&format!("{}-{}-{}", &tail[..3], &tail[3..5], &tail[5..]));
        out
    }

    proptest! {
        #[test]
        fn masking_agrees_with_the_format_model(number in 1_000_000u64..=999_999_999_999_999) {
            let phone = PhoneNumber::parse(&number.to_string()).unwrap();
            prop_assert_eq!(phone.masked(), masked_by_format(number));
        }
    }

    proptest! {
        #[test]
        fn a_masked_number_hides_at_least_four_digits(number in 1_000_000u64..=999_999_999_999_999) {
            let masked = PhoneNumber::parse(&number.to_string()).unwrap().masked();
            prop_assert!(masked.matches('*').count() >= 4, "{}", masked);
            prop_assert!(!masked.contains(&number.to_string()[1..]));
        }

        #[test]
        fn never_panics(input in "\\PC*") {
            let _ = PhoneNumber::parse(&input);
        }

        #[test]
        fn formatting_never_changes_the_number(
            number in 1_000_000u64..=999_999_999_999_999,
            separators in proptest::collection::vec(prop_oneof![
                Just(""), Just(" "), Just("-"), Just("."), Just("("), Just(")"), Just("\u{a0}")
            ], 16),
        ) {
            let digits = number.to_string();
            let mut typed = String::from("+");
            for (i, d) in digits.chars().enumerate() {
                typed.push(d);
                typed.push_str(separators[i]);
            }
            prop_assert_eq!(PhoneNumber::parse(&typed).map(PhoneNumber::as_u64), Ok(number));
        }

        #[test]
        fn accepted_numbers_have_7_to_15_digits(input in "[0-9+() .-]{0,24}") {
            if let Ok(phone) = PhoneNumber::parse(&input) {
                let len = phone.as_u64().to_string().len();
                prop_assert!((7..=15).contains(&len));
            }
        }
    }
}
