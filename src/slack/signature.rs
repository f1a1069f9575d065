//! Slack's v0 request signature
//! (<https://docs.slack.dev/authentication/verifying-requests-from-slack>):
//! `X-Slack-Signature: v0=hex(HMAC-SHA256(secret, "v0:{timestamp}:{raw body}"))`.
//!
//! [`verify`] is pure: the caller passes the current time, so tests can pin it.

use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

/// Requests signed further than this from our clock, in either direction, are
/// refused: Slack's recommended replay window.
pub const MAX_CLOCK_SKEW_SECS: i64 = 300;

/// The app's signing secret. `Debug` never shows it. Unset when only Socket
/// Mode is configured: then no HTTP request can prove it comes from Slack,
/// and every one is refused.
#[derive(Clone)]
pub struct SigningSecret(Option<Keyed>);

/// The secret, and the HMAC keyed with it: keying hashes the secret's two
/// pads, work that is the same for every request, so it is done once and
/// each request starts from a copy.
#[derive(Clone)]
struct Keyed {
    mac: Hmac<Sha256>,
    // Kept for `sign`, which tests and tools use.
    secret: SecretString,
}

impl SigningSecret {
    pub fn new(secret: SecretString) -> Self {
        Self(Some(Keyed { mac: hmac_for(secret.expose_secret()), secret }))
    }

    /// No secret: [`verify`] refuses everything.
    pub fn unset() -> Self {
        Self(None)
    }

    pub fn is_set(&self) -> bool {
        self.0.is_some()
    }
}

impl std::fmt::Debug for SigningSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningSecret([REDACTED])")
    }
}

/// Why a request's signature was not accepted. None of the variants carries
/// the expected signature: logged, it would let anyone replay the request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the X-Slack-Request-Timestamp header is missing")]
    MissingTimestamp,
    #[error("the X-Slack-Signature header is missing")]
    MissingSignature,
    #[error("the timestamp is not an integer")]
    MalformedTimestamp,
    #[error(
        "the timestamp is {skew_secs} s away from this server's clock (limit ±300 s): \
         a replay, or a server clock that needs fixing"
    )]
    Expired {
        /// Positive when the request claims to come from the future.
        skew_secs: i64,
    },
    #[error("the signature version is not v0")]
    UnsupportedVersion,
    #[error("the signature is not 64 hex digits")]
    MalformedSignature,
    #[error("the signature does not match the body")]
    Mismatch,
    #[error("SLACK_SIGNING_SECRET is not set, so no request can be verified")]
    NotConfigured,
}

impl SignatureError {
    /// One of each kind, for tests that check every kind is handled.
    #[cfg(test)]
    pub(crate) const ALL: [SignatureError; 8] = [
        SignatureError::MissingTimestamp,
        SignatureError::MissingSignature,
        SignatureError::MalformedTimestamp,
        SignatureError::Expired { skew_secs: 0 },
        SignatureError::UnsupportedVersion,
        SignatureError::MalformedSignature,
        SignatureError::Mismatch,
        SignatureError::NotConfigured,
    ];

    /// A short stable name for logs and metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            SignatureError::MissingTimestamp => "missing_timestamp",
            SignatureError::MissingSignature => "missing_signature",
            SignatureError::MalformedTimestamp => "malformed_timestamp",
            SignatureError::Expired { .. } => "expired_timestamp",
            SignatureError::UnsupportedVersion => "unsupported_version",
            SignatureError::MalformedSignature => "malformed_signature",
            SignatureError::Mismatch => "mismatch",
            SignatureError::NotConfigured => "not_configured",
        }
    }
}

/// Checks that `body` was signed by Slack with `secret` at `timestamp`, within
/// [`MAX_CLOCK_SKEW_SECS`] of `now` (Unix seconds). The header values are
/// passed as they arrived; `None` means the header was absent.
pub fn verify(
    secret: &SigningSecret,
    timestamp: Option<&[u8]>,
    signature: Option<&[u8]>,
    body: &[u8],
    now: i64,
) -> Result<(), SignatureError> {
    let secret = secret.0.as_ref().ok_or(SignatureError::NotConfigured)?;
    let timestamp = timestamp.ok_or(SignatureError::MissingTimestamp)?;
    let signature = signature.ok_or(SignatureError::MissingSignature)?;
    let ts = std::str::from_utf8(timestamp)
        .ok()
        .and_then(|t| t.parse::<i64>().ok())
        .ok_or(SignatureError::MalformedTimestamp)?;
    let skew_secs = ts.saturating_sub(now);
    if skew_secs.unsigned_abs() > MAX_CLOCK_SKEW_SECS.unsigned_abs() {
        return Err(SignatureError::Expired { skew_secs });
    }
    let hex_digest = signature.strip_prefix(b"v0=").ok_or_else(|| {
        if signature.contains(&b'=') { SignatureError::UnsupportedVersion } else { SignatureError::MalformedSignature }
    })?;
    let mut expected = [0u8; 32];
    hex::decode_to_slice(hex_digest, &mut expected).map_err(|_| SignatureError::MalformedSignature)?;

    let mut mac = secret.mac.clone();
    mac.update(b"v0:");
    mac.update(timestamp);
    mac.update(b":");
    mac.update(body);
    // `verify_slice` compares in constant time.
    mac.verify_slice(&expected).map_err(|_| SignatureError::Mismatch)
}

/// Signs `body` the way Slack does. For tests, benchmarks and load scripts
/// that play Slack; the server itself never needs it.
pub fn sign(secret: &SigningSecret, timestamp: i64, body: &[u8]) -> String {
    let mut mac = hmac_for(secret.0.as_ref().map_or("", |s| s.secret.expose_secret()));
    mac.update(format!("v0:{timestamp}:").as_bytes());
    mac.update(body);
    format!("v0={}", hex::encode(mac.finalize().into_bytes()))
}

fn hmac_for(secret: &str) -> Hmac<Sha256> {
    // HMAC takes keys of any length, so this cannot fail.
    Hmac::<Sha256>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"))
}

#[cfg(test)]
mod tests {
    use super::*;

    // Slack's worked example from "Verifying requests from Slack".
    const SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";
    const TIMESTAMP: i64 = 1531420618;
    const BODY: &str = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
    const SIGNATURE: &str = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";

    fn secret() -> SigningSecret {
        SigningSecret::new(SECRET.into())
    }

    fn check(ts: &str, sig: &str, body: &str, now: i64) -> Result<(), SignatureError> {
        verify(&secret(), Some(ts.as_bytes()), Some(sig.as_bytes()), body.as_bytes(), now)
    }

    #[test]
    fn slacks_worked_example_verifies() {
        assert_eq!(check("1531420618", SIGNATURE, BODY, TIMESTAMP), Ok(()));
        assert_eq!(sign(&secret(), TIMESTAMP, BODY.as_bytes()), SIGNATURE);
    }

    #[test]
    fn without_a_secret_nothing_verifies() {
        let unset = SigningSecret::unset();
        assert!(!unset.is_set() && secret().is_set());
        let result = verify(&unset, Some(b"1531420618"), Some(SIGNATURE.as_bytes()), BODY.as_bytes(), TIMESTAMP);
        assert_eq!(result, Err(SignatureError::NotConfigured));
        let forged = sign(&unset, TIMESTAMP, BODY.as_bytes());
        assert_eq!(
            verify(&unset, Some(b"1531420618"), Some(forged.as_bytes()), BODY.as_bytes(), TIMESTAMP),
            Err(SignatureError::NotConfigured),
            "an empty key signs nothing either"
        );
    }

    #[test]
    fn the_window_is_300_seconds_both_ways() {
        for now in [TIMESTAMP - 300, TIMESTAMP + 300] {
            assert_eq!(check("1531420618", SIGNATURE, BODY, now), Ok(()), "now {now}");
        }
        assert_eq!(
            check("1531420618", SIGNATURE, BODY, TIMESTAMP + 301),
            Err(SignatureError::Expired { skew_secs: -301 })
        );
        assert_eq!(
            check("1531420618", SIGNATURE, BODY, TIMESTAMP - 301),
            Err(SignatureError::Expired { skew_secs: 301 })
        );
    }

    #[test]
    fn every_kind_of_tampering_is_refused() {
        use SignatureError::*;
        let other_sig = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b504";
        let cases: &[(Option<&str>, Option<&str>, &str, SignatureError)] = &[
            (None, Some(SIGNATURE), BODY, MissingTimestamp),
            (Some("1531420618"), None, BODY, MissingSignature),
            (Some("soon"), Some(SIGNATURE), BODY, MalformedTimestamp),
            (Some("1531420618.5"), Some(SIGNATURE), BODY, MalformedTimestamp),
            (Some(""), Some(SIGNATURE), BODY, MalformedTimestamp),
            (Some("99999999999999999999"), Some(SIGNATURE), BODY, MalformedTimestamp),
            (Some("-9223372036854775808"), Some(SIGNATURE), BODY, Expired { skew_secs: i64::MIN }),
            (Some("1531420618"), Some(other_sig), BODY, Mismatch),
            (Some("1531420618"), Some(SIGNATURE), &BODY[1..], Mismatch),
            (Some("1531420619"), Some(SIGNATURE), BODY, Mismatch),
            (Some("1531420618"), Some(&SIGNATURE[3..]), BODY, MalformedSignature),
            (Some("1531420618"), Some("v1=abc"), BODY, UnsupportedVersion),
            (Some("1531420618"), Some("v0=zz"), BODY, MalformedSignature),
            (Some("1531420618"), Some(&SIGNATURE[..66]), BODY, MalformedSignature),
        ];
        for (ts, sig, body, expected) in cases {
            let got = verify(&secret(), ts.map(str::as_bytes), sig.map(str::as_bytes), body.as_bytes(), TIMESTAMP);
            assert_eq!(got, Err(expected.clone()), "ts {ts:?} sig {sig:?}");
        }
    }

    #[test]
    fn upper_case_hex_carries_the_same_bytes_and_is_accepted() {
        let upper = format!("v0={}", SIGNATURE[3..].to_uppercase());
        assert_eq!(check("1531420618", &upper, BODY, TIMESTAMP), Ok(()));
    }

    #[test]
    fn errors_and_debug_never_show_a_secret_or_a_signature() {
        assert_eq!(format!("{:?}", secret()), "SigningSecret([REDACTED])");
        let err = check("1531420618", "v0=00", BODY, TIMESTAMP).unwrap_err();
        let expected_hex = &SIGNATURE[3..];
        for text in [err.to_string(), format!("{err:?}")] {
            assert!(!text.contains(expected_hex) && !text.contains(SECRET), "{text}");
        }
    }
}
