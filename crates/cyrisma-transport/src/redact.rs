//! Removes the client's own secrets from error bodies the server sends back.
//!
//! The client never puts a secret in a URL, a header other than `Authorization`, or a log; but a
//! misbehaving server (or a proxy's error page) may echo the form body or the token in a non-JSON
//! error page or a JSON `message`, and those texts end up in error messages. Every non-success
//! body is scrubbed here, right after it is read and before anything parses it, of every secret
//! the client holds or has held recently: the API secret (before and after rotation) and the
//! access and refresh tokens it received. Each is removed in its plain, URL-encoded,
//! form-encoded and base64 forms.

use std::collections::VecDeque;
use std::sync::{Mutex, PoisonError};

use base64::Engine as _;
use bytes::Bytes;

/// How many secrets are remembered (the oldest are forgotten first).
const REMEMBERED: usize = 32;

/// Secrets shorter than this are not scrubbed (they would match ordinary text).
const MIN_LEN: usize = 6;

/// What replaces a secret.
const REDACTED: &[u8] = b"<redacted>";

/// The secrets to remove from error bodies, in every encoding they could travel in.
#[derive(Default)]
pub(crate) struct Redactor {
    patterns: Mutex<VecDeque<Vec<u8>>>,
}

impl Redactor {
    /// Remembers a secret the client holds.
    pub(crate) fn remember(&self, secret: &str) {
        if secret.len() < MIN_LEN {
            return;
        }
        let encoded_path =
            percent_encoding::utf8_percent_encode(secret, percent_encoding::NON_ALPHANUMERIC).to_string();
        let encoded_form: String = form_urlencoded::byte_serialize(secret.as_bytes()).collect();
        let forms = [
            secret.to_owned(),
            encoded_path,
            encoded_form,
            base64::engine::general_purpose::STANDARD.encode(secret),
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret),
        ];
        let mut patterns = self.patterns.lock().unwrap_or_else(PoisonError::into_inner);
        for form in forms {
            let form = form.into_bytes();
            if !patterns.contains(&form) {
                patterns.push_back(form);
            }
        }
        while patterns.len() > REMEMBERED * 5 {
            patterns.pop_front();
        }
    }

    /// The body with every remembered secret replaced by `<redacted>`; unchanged (and not
    /// copied) when it contains none.
    pub(crate) fn scrub(&self, body: Bytes) -> Bytes {
        let patterns = self.patterns.lock().unwrap_or_else(PoisonError::into_inner);
        if !patterns.iter().any(|pattern| contains(&body, pattern)) {
            return body;
        }
        let mut text = body.to_vec();
        // Longest first, so that an encoded form is removed whole before a shorter one inside it.
        let mut ordered: Vec<&Vec<u8>> = patterns.iter().collect();
        ordered.sort_by_key(|pattern| std::cmp::Reverse(pattern.len()));
        for pattern in ordered {
            text = replace_all(&text, pattern);
        }
        Bytes::from(text)
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|window| window == needle)
}

fn replace_all(haystack: &[u8], needle: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(haystack.len());
    let mut rest = haystack;
    while let Some(position) = rest.windows(needle.len()).position(|window| window == needle) {
        out.extend_from_slice(&rest[..position]);
        out.extend_from_slice(REDACTED);
        rest = &rest[position + needle.len()..];
    }
    out.extend_from_slice(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrubs_every_encoding_of_remembered_secrets() {
        let redactor = Redactor::default();
        let secret = "s3cret+/=value with space";
        redactor.remember(secret);
        redactor.remember("Tok3nABCDEFG20261122000000");
        let url = percent_encoding::utf8_percent_encode(secret, percent_encoding::NON_ALPHANUMERIC).to_string();
        let form: String = form_urlencoded::byte_serialize(secret.as_bytes()).collect();
        let b64 = base64::engine::general_purpose::STANDARD.encode(secret);
        let body = format!("bad password {secret} / {url} / {form} / {b64} / token Tok3nABCDEFG20261122000000 end");
        let scrubbed = String::from_utf8(redactor.scrub(Bytes::from(body)).to_vec()).unwrap();
        for leaked in [secret, url.as_str(), form.as_str(), b64.as_str(), "Tok3nABCDEFG20261122000000"] {
            assert!(!scrubbed.contains(leaked), "{leaked} survived in {scrubbed}");
        }
        assert!(scrubbed.starts_with("bad password <redacted>"), "{scrubbed}");
        assert!(scrubbed.ends_with("end"));
    }

    #[test]
    fn leaves_bodies_without_secrets_alone_and_ignores_short_secrets() {
        let redactor = Redactor::default();
        redactor.remember("abc");
        let body = Bytes::from_static(b"{\"error\":\"invalid_grant\",\"message\":\"abc\"}");
        assert_eq!(redactor.scrub(body.clone()), body);
    }
}
