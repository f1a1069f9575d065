//! The signed-request path of `POST /slack/commands`, minus the network:
//! signature check with a fixed clock, then (for a correctly signed copy of
//! the same body) form decoding and command parsing.
//!
//! Input: `<X-Slack-Request-Timestamp>\n<X-Slack-Signature>\n<body>`. Without
//! a first newline both headers are absent; without a second one the
//! signature is.

#![no_main]

use hmac::{Hmac, Mac};
use libfuzzer_sys::fuzz_target;
use sha2::Sha256;
use slack_sendcontact::slack::form::{SlashCommandForm, is_ssl_check};
use slack_sendcontact::slack::signature::{MAX_CLOCK_SKEW_SECS, SignatureError, SigningSecret, sign, verify};

#[path = "common.rs"]
mod common;
use common::{NOW, SECRET};

fn split(data: &[u8]) -> (Option<&[u8]>, Option<&[u8]>, &[u8]) {
    let Some(i) = data.iter().position(|&b| b == b'\n') else {
        return (None, None, data);
    };
    let (ts, rest) = (&data[..i], &data[i + 1..]);
    let Some(j) = rest.iter().position(|&b| b == b'\n') else {
        return (Some(ts), None, rest);
    };
    (Some(ts), Some(&rest[..j]), &rest[j + 1..])
}

/// HMAC-SHA256 over exactly the bytes given, computed here independently of
/// the crate.
fn expected_hex(ts: &[u8], body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(b"v0:");
    mac.update(ts);
    mac.update(b":");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

fuzz_target!(|data: &[u8]| {
    let secret = SigningSecret::new(SECRET.into());
    let (ts, sig, body) = split(data);

    // 1. Whatever arrives: no panic, and only the true signature over these
    //    exact bytes, inside the window, is accepted.
    let result = verify(&secret, ts, sig, body, NOW);
    match &result {
        Ok(()) => {
            let (ts, sig) = (ts.unwrap(), sig.unwrap());
            let t: i64 = std::str::from_utf8(ts).unwrap().parse().unwrap();
            assert!((t - NOW).abs() <= MAX_CLOCK_SKEW_SECS, "accepted a timestamp {t} outside the window");
            assert!(
                sig.len() == 67
                    && sig.starts_with(b"v0=")
                    && sig[3..].eq_ignore_ascii_case(expected_hex(ts, body).as_bytes()),
                "accepted a signature that is not the HMAC of this request"
            );
        }
        Err(e) => {
            let _ = e.kind();
            let text = format!("{e} {e:?}");
            assert!(!text.contains(SECRET), "an error shows the secret");
            if let (Some(ts), Some(_)) = (ts, sig) {
                assert!(!text.contains(&expected_hex(ts, body)), "an error shows the expected signature");
            }
        }
    }

    // 2. The same body, correctly signed, always verifies; every tampering
    //    with it is refused with the right reason.
    let t = ts
        .and_then(|ts| std::str::from_utf8(ts).ok()?.parse::<i64>().ok())
        .filter(|t| (t - NOW).abs() <= MAX_CLOCK_SKEW_SECS)
        .unwrap_or(NOW - (body.len() as i64 % MAX_CLOCK_SKEW_SECS));
    let t_header = t.to_string();
    let good = sign(&secret, t, body);
    let check =
        |ts: &str, sig: &str, body: &[u8]| verify(&secret, Some(ts.as_bytes()), Some(sig.as_bytes()), body, NOW);
    assert_eq!(check(&t_header, &good, body), Ok(()), "a correctly signed body was refused");
    assert_eq!(check(&t_header, &format!("v0={}", good[3..].to_uppercase()), body), Ok(()));
    if let Some(sig) = sig.filter(|s| !s.eq_ignore_ascii_case(good.as_bytes())) {
        assert!(
            verify(&secret, Some(t_header.as_bytes()), Some(sig), body, NOW).is_err(),
            "a signature other than the right one verified"
        );
    }

    let seed = data.iter().fold(0usize, |h, &b| h.wrapping_mul(31).wrapping_add(b as usize));
    let pos = 3 + seed % 64;
    let mut mutated = good.clone().into_bytes();
    mutated[pos] = if mutated[pos] == b'0' { b'1' } else { b'0' };
    let mutated = String::from_utf8(mutated).unwrap();
    assert_eq!(check(&t_header, &mutated, body), Err(SignatureError::Mismatch), "a mutated signature verified");
    assert_eq!(check(&t_header, &good[..66], body), Err(SignatureError::MalformedSignature));
    assert_eq!(check(&t_header, &format!("v1={}", &good[3..]), body), Err(SignatureError::UnsupportedVersion));
    let mut other_body = body.to_vec();
    match other_body.get_mut(seed % body.len().max(1)) {
        Some(b) => *b ^= 1 << (seed % 8),
        None => other_body.push(b'x'),
    }
    assert_eq!(check(&t_header, &good, &other_body), Err(SignatureError::Mismatch), "a mutated body verified");
    let shifted = if t < NOW { t + 1 } else { t - 1 };
    assert_eq!(
        check(&shifted.to_string(), &good, body),
        Err(SignatureError::Mismatch),
        "a replayed signature verified"
    );
    for late in [NOW - MAX_CLOCK_SKEW_SECS - 1, NOW + MAX_CLOCK_SKEW_SECS + 1] {
        let sig = sign(&secret, late, body);
        assert_eq!(check(&late.to_string(), &sig, body), Err(SignatureError::Expired { skew_secs: late - NOW }));
    }

    // 3. What the handler does next with a body that passed.
    let _ = is_ssl_check(body);
    if let Ok(form) = SlashCommandForm::parse(body) {
        common::check_form(&form);
    }
});
