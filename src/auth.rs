//! Opt-in authentication (`--auth sigv4`): every request outside `/_awsim/` must carry a SigV4
//! signature — in the `Authorization` header or as a presigned query — by one of the configured
//! key pairs, or a configured Bedrock API key as `Authorization: Bearer <key>`. With `--auth off`
//! (the default) nothing is checked.
//!
//! # How a signature is verified
//!
//! awsim writes the canonical request of what it received and the string to sign, and the
//! `aws-sigv4` crate (the AWS SDK for Rust's signer) derives the signing key and computes the
//! signature from them; the two signatures are compared in constant time. The crate cannot build
//! the canonical request itself: it signs `http` requests, whose header names cannot be
//! `:authority`, and the JS SDK v3 signs `:authority` instead of `host` over HTTP/2 — how its
//! Bedrock Runtime client talks by default. The canonical request follows AWS's rules for every
//! service but S3, as botocore, the JS SDK v3 and the Rust SDK sign Bedrock requests; AWS's
//! Signature Version 4 test suite checks it (`auth/tests.rs`):
//! - the method, and the path as received, with its dot segments and empty segments removed and
//!   then percent-encoded once more: a model id's `v1%3A0` is signed as `v1%253A0`;
//! - the query's parameters percent-decoded, encoded again (only unreserved characters stay as
//!   they are) and sorted; a presigned URL's without its `X-Amz-Signature`;
//! - exactly the headers `SignedHeaders` names, lowercased and sorted, each `name:value` with the
//!   values of repeated headers joined by commas and runs of whitespace made one space; `host` and
//!   `:authority` stand for each other, since HTTP/2 carries the host as `:authority`;
//! - the payload hash: the `x-amz-content-sha256` value when that is not a digest
//!   (`UNSIGNED-PAYLOAD`, `STREAMING-…`), otherwise the SHA-256 of the body received, so a body
//!   changed after signing fails even when the header still holds the old digest.
//!
//! A signature that does not verify is answered with both texts, as AWS does, so that a
//! hand-written signer can be compared with them line by line.

use crate::aws::context::is_region;
use crate::aws::ApiError;
use crate::operations::Operation;
use aws_sigv4::sign::v4;
use hyper::header::{HeaderMap, AUTHORIZATION, HOST};
use hyper::http::request::Parts;
use percent_encoding::{percent_decode_str, percent_encode, AsciiSet, NON_ALPHANUMERIC};
use sha2::{Digest, Sha256};
use std::fmt;
use std::time::{Duration, SystemTime};
use subtle::ConstantTimeEq;

/// The signing name of both Bedrock APIs: the service models' `signingName`, bedrock-runtime's
/// included, and what every SDK and the Anthropic Bedrock clients sign with.
const SERVICE: &str = "bedrock";
const ALGORITHM: &str = "AWS4-HMAC-SHA256";
/// How far a signed request's `X-Amz-Date` may be from awsim's clock, either way.
const MAX_SKEW: Duration = Duration::from_secs(15 * 60);
/// The longest `X-Amz-Expires` AWS accepts: a week.
const MAX_EXPIRES: u64 = 604_800;

// AWS's own messages, word for word: users search for them.
const MISSING_TOKEN: &str = "Missing Authentication Token";
const UNKNOWN_KEY: &str = "The security token included in the request is invalid.";
const SIGNATURE_MISMATCH: &str = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";
const BAD_API_KEY: &str = "Authentication failed: Please make sure your API Key is valid.";

/// The credentials awsim accepts with `--auth sigv4`.
#[derive(Clone)]
pub struct Auth {
    /// `(access key id, secret access key)`.
    key_pairs: Vec<(String, String)>,
    api_keys: Vec<String>,
}

/// Names the access key ids only: secrets stay out of logs.
impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Auth")
            .field("access_key_ids", &self.access_key_ids().collect::<Vec<_>>())
            .field("api_keys", &self.api_keys.len())
            .finish()
    }
}

impl Auth {
    pub fn new(key_pairs: Vec<(String, String)>, api_keys: Vec<String>) -> Self {
        Self {
            key_pairs,
            api_keys,
        }
    }

    pub fn access_key_ids(&self) -> impl Iterator<Item = &str> {
        self.key_pairs.iter().map(|(id, _)| id.as_str())
    }

    pub fn api_key_count(&self) -> usize {
        self.api_keys.len()
    }

    fn secret_of(&self, access_key_id: &str) -> Option<&str> {
        self.key_pairs
            .iter()
            .find(|(id, _)| id == access_key_id)
            .map(|(_, secret)| secret.as_str())
    }
}

/// `AKID:SECRET` pairs separated by commas (`--auth-keys`). Errors name an access key id at most,
/// never a secret.
pub fn parse_key_pairs(value: &str) -> Result<Vec<(String, String)>, String> {
    let mut pairs: Vec<(String, String)> = Vec::new();
    for item in value.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        let Some((id, secret)) = item.split_once(':') else {
            return Err("expected AKID:SECRET pairs separated by commas; one has no ':'".into());
        };
        if id.is_empty() || secret.is_empty() {
            return Err(format!(
                "the pair of access key id '{id}' has an empty access key id or secret"
            ));
        }
        if pairs.iter().any(|(known, _)| known == id) {
            return Err(format!("access key id '{id}' is given twice"));
        }
        pairs.push((id.to_string(), secret.to_string()));
    }
    if pairs.is_empty() {
        return Err("no AKID:SECRET pair given".into());
    }
    Ok(pairs)
}

/// Keys separated by commas (`--api-keys`), any string: Bedrock's own are `ABSK…` (long-term) or
/// `bedrock-api-key-…` (short-term), but awsim only compares them.
pub fn parse_api_keys(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(str::to_string)
        .collect()
}

/// Checks a routed request's credentials when `--auth sigv4` is on. awsim's own `/_awsim/`
/// endpoints stay open, so that test suites reset and read awsim without signing.
pub(crate) fn check(
    auth: Option<&Auth>,
    operation: &Operation,
    parts: &Parts,
    body: &[u8],
) -> Result<(), ApiError> {
    match auth {
        Some(auth) if !matches!(operation, Operation::Admin(_)) => {
            auth.verify(&Received::of(parts, body), SystemTime::now(), SERVICE)
        }
        _ => Ok(()),
    }
}

/// What the verifier reads of a request.
struct Received<'a> {
    method: &'a str,
    /// Raw, still percent-encoded.
    path: &'a str,
    query: Option<&'a str>,
    /// HTTP/2's `:authority`, which stands for the `Host` header.
    authority: Option<&'a str>,
    headers: &'a HeaderMap,
    body: &'a [u8],
}

impl<'a> Received<'a> {
    fn of(parts: &'a Parts, body: &'a [u8]) -> Self {
        Self {
            method: parts.method.as_str(),
            path: parts.uri.path(),
            query: parts.uri.query(),
            authority: parts.uri.authority().map(|a| a.as_str()),
            headers: &parts.headers,
            body,
        }
    }

    fn header(&self, name: &str) -> Option<&'a str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// A SigV4 signature as the request states it.
#[derive(Debug)]
struct Claim {
    access_key_id: String,
    scope_date: String,
    region: String,
    service: String,
    terminator: String,
    /// Lowercased, in the order given.
    signed_headers: Vec<String>,
    signature: String,
    /// `X-Amz-Date` as sent, and as a time.
    date: String,
    time: SystemTime,
    /// A presigned URL's `X-Amz-Expires` and its query less `X-Amz-Signature`; `None` for a
    /// signed `Authorization` header.
    presigned: Option<(Duration, String)>,
}

impl Auth {
    fn verify(&self, req: &Received, now: SystemTime, service: &str) -> Result<(), ApiError> {
        if let Some(value) = req.headers.get(AUTHORIZATION) {
            let value = value.to_str().map_err(|_| {
                ApiError::IncompleteSignature("The Authorization header is not valid text.".into())
            })?;
            if let Some(token) = bearer_token(value) {
                return self.check_api_key(token);
            }
            let claim = Claim::from_header(value, req)?;
            return self.check_claim(&claim, req, now, service);
        }
        match Claim::from_query(req.query)? {
            Some(claim) => self.check_claim(&claim, req, now, service),
            None => Err(ApiError::MissingAuthenticationToken(MISSING_TOKEN.into())),
        }
    }

    fn check_api_key(&self, token: &str) -> Result<(), ApiError> {
        // Constant time per key, and every key compared: the answer's timing says nothing of how
        // close a guess came.
        let found = self.api_keys.iter().fold(0u8, |found, key| {
            found | key.as_bytes().ct_eq(token.as_bytes()).unwrap_u8()
        });
        if found == 1 {
            Ok(())
        } else {
            Err(ApiError::AccessDenied(BAD_API_KEY.into()))
        }
    }

    fn check_claim(
        &self,
        claim: &Claim,
        req: &Received,
        now: SystemTime,
        service: &str,
    ) -> Result<(), ApiError> {
        let day = &claim.date[..8];
        if claim.scope_date != day {
            return Err(ApiError::InvalidSignature(format!(
                "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{}' != '{day}', from '{}'.",
                claim.scope_date, claim.date
            )));
        }
        if claim.terminator != "aws4_request" {
            return Err(ApiError::InvalidSignature(format!(
                "Credential should be scoped with a valid terminator: 'aws4_request', not '{}'.",
                claim.terminator
            )));
        }
        if !is_region(&claim.region) {
            return Err(ApiError::InvalidSignature(format!(
                "Credential should be scoped to a valid region, not '{}'.",
                claim.region
            )));
        }
        if claim.service != service {
            // AWS ends this one with a space.
            return Err(ApiError::InvalidSignature(format!(
                "Credential should be scoped to correct service: '{service}'. "
            )));
        }
        let secret = self
            .secret_of(&claim.access_key_id)
            .ok_or_else(|| ApiError::UnrecognizedClient(UNKNOWN_KEY.into()))?;
        check_time(claim, now)?;
        if !claim
            .signed_headers
            .iter()
            .any(|h| h == "host" || h == ":authority")
        {
            return Err(ApiError::InvalidSignature(
                "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.".into(),
            ));
        }
        let canonical = canonical_request(claim, req)?;
        let string_to_sign = string_to_sign(claim, &canonical);
        let key = v4::generate_signing_key(secret, claim.time, &claim.region, &claim.service);
        let expected = v4::calculate_signature(key, string_to_sign.as_bytes());
        if bool::from(expected.as_bytes().ct_eq(claim.signature.as_bytes())) {
            return Ok(());
        }
        Err(ApiError::InvalidSignature(format!(
            "{SIGNATURE_MISMATCH}\n\nThe Canonical String for this request should have been\n'{canonical}'\n\nThe String-to-Sign should have been\n'{string_to_sign}'\n"
        )))
    }
}

/// The token of `Authorization: Bearer <token>` (the scheme in any case).
fn bearer_token(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

impl Claim {
    /// `AWS4-HMAC-SHA256 Credential=…/aws4_request, SignedHeaders=…, Signature=…` and `X-Amz-Date`.
    fn from_header(value: &str, req: &Received) -> Result<Self, ApiError> {
        let value = value.trim();
        let (algorithm, rest) = value
            .split_once(|c: char| c.is_ascii_whitespace())
            .unwrap_or((value, ""));
        if algorithm.starts_with("AWS4-") && algorithm != ALGORITHM {
            return Err(unsupported_algorithm(algorithm));
        }
        let (mut credential, mut signed_headers, mut signature) = (None, None, None);
        if algorithm == ALGORITHM {
            // Components are separated by a comma, a space or both.
            for component in rest.split([',', ' ']).filter(|c| !c.is_empty()) {
                match component.split_once('=') {
                    Some(("Credential", v)) => credential = Some(v),
                    Some(("SignedHeaders", v)) => signed_headers = Some(v),
                    Some(("Signature", v)) => signature = Some(v),
                    _ => {}
                }
            }
        }
        let date = req.header("x-amz-date");
        let mut missing = Vec::new();
        if credential.is_none() {
            missing.push("Authorization header requires 'Credential' parameter.");
        }
        if signature.is_none() {
            missing.push("Authorization header requires 'Signature' parameter.");
        }
        if signed_headers.is_none() {
            missing.push("Authorization header requires 'SignedHeaders' parameter.");
        }
        if date.is_none() {
            missing.push(if req.headers.contains_key(hyper::header::DATE) {
                // Every SDK dates its signature with X-Amz-Date; awsim reads no other date.
                "Authorization header requires existence of a 'X-Amz-Date' header: awsim does not verify signatures dated by 'Date'."
            } else {
                "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
            });
        }
        match (credential, signed_headers, signature, date) {
            (Some(credential), Some(signed_headers), Some(signature), Some(date)) => {
                Self::new(credential, signed_headers, signature, date, None)
            }
            _ => Err(ApiError::IncompleteSignature(format!(
                "{} Authorization={value}",
                missing.join(" ")
            ))),
        }
    }

    /// A presigned URL's `X-Amz-Algorithm`, `-Credential`, `-Date`, `-Expires`, `-SignedHeaders`
    /// and `-Signature`; `None` when the query has no signature at all.
    fn from_query(query: Option<&str>) -> Result<Option<Self>, ApiError> {
        let Some(query) = query else { return Ok(None) };
        const NAMES: [&str; 6] = [
            "X-Amz-Algorithm",
            "X-Amz-Credential",
            "X-Amz-Date",
            "X-Amz-Expires",
            "X-Amz-SignedHeaders",
            "X-Amz-Signature",
        ];
        let mut values: [Option<String>; 6] = Default::default();
        let mut rest = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            if name != "X-Amz-Signature" {
                rest.push(pair);
            }
            if let Some(i) = NAMES.iter().position(|n| *n == name) {
                let value = percent_decode_str(value).decode_utf8().map_err(|_| {
                    ApiError::IncompleteSignature(format!(
                        "{name} is not valid percent-encoded UTF-8."
                    ))
                })?;
                values[i] = Some(value.into_owned());
            }
        }
        let [algorithm, credential, date, expires, signed_headers, signature] = values;
        if algorithm.is_none() && credential.is_none() && signature.is_none() {
            return Ok(None);
        }
        let (
            Some(algorithm),
            Some(credential),
            Some(date),
            Some(expires),
            Some(signed_headers),
            Some(signature),
        ) = (
            algorithm,
            credential,
            date,
            expires,
            signed_headers,
            signature,
        )
        else {
            return Err(ApiError::IncompleteSignature(
                "AWS query-string parameters must include 'X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Signature', 'X-Amz-Date', 'X-Amz-SignedHeaders', 'X-Amz-Expires'. Re-examine the query-string parameters.".into(),
            ));
        };
        if algorithm != ALGORITHM {
            return Err(unsupported_algorithm(&algorithm));
        }
        let expires: u64 = expires.parse().map_err(|_| {
            ApiError::IncompleteSignature(format!(
                "X-Amz-Expires should be a number of seconds, not '{expires}'."
            ))
        })?;
        if expires > MAX_EXPIRES {
            return Err(ApiError::IncompleteSignature(format!(
                "X-Amz-Expires must be less than a week (in seconds) that is {MAX_EXPIRES}"
            )));
        }
        let presigned = (Duration::from_secs(expires), rest.join("&"));
        Self::new(
            &credential,
            &signed_headers,
            &signature,
            &date,
            Some(presigned),
        )
        .map(Some)
    }

    fn new(
        credential: &str,
        signed_headers: &str,
        signature: &str,
        date: &str,
        presigned: Option<(Duration, String)>,
    ) -> Result<Self, ApiError> {
        let [access_key_id, scope_date, region, service, terminator] = credential
            .split('/')
            .collect::<Vec<_>>()
            .try_into()
            .map_err(|_| {
                ApiError::IncompleteSignature(format!(
                    "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '{credential}'"
                ))
            })?;
        let time = parse_amz_date(date).ok_or_else(|| {
            ApiError::IncompleteSignature(format!(
                "Date must be in ISO-8601 'basic format'. Got '{date}'. See http://en.wikipedia.org/wiki/ISO_8601"
            ))
        })?;
        Ok(Self {
            access_key_id: access_key_id.to_string(),
            scope_date: scope_date.to_string(),
            region: region.to_string(),
            service: service.to_string(),
            terminator: terminator.to_string(),
            signed_headers: signed_headers
                .split(';')
                .map(str::to_ascii_lowercase)
                .collect(),
            signature: signature.to_string(),
            date: date.to_string(),
            time,
            presigned,
        })
    }
}

fn unsupported_algorithm(algorithm: &str) -> ApiError {
    ApiError::IncompleteSignature(format!("Unsupported AWS 'algorithm': '{algorithm}'"))
}

/// `20150830T123600Z` (ISO 8601 basic format, UTC), strictly: the string to sign quotes the date as
/// sent and the signing key is derived from its day, which must then be the same.
fn parse_amz_date(s: &str) -> Option<SystemTime> {
    let b = s.as_bytes();
    let shaped = b.len() == 16
        && b[8] == b'T'
        && b[15] == b'Z'
        && b[..8].iter().chain(&b[9..15]).all(u8::is_ascii_digit);
    if !shaped {
        return None;
    }
    let extended = format!(
        "{}-{}-{}T{}:{}:{}Z",
        &s[0..4],
        &s[4..6],
        &s[6..8],
        &s[9..11],
        &s[11..13],
        &s[13..15]
    );
    humantime::parse_rfc3339(&extended).ok()
}

/// A time in `X-Amz-Date` form.
fn amz_date(t: SystemTime) -> String {
    humantime::format_rfc3339_seconds(t)
        .to_string()
        .replace(['-', ':'], "")
}

/// A signed header is good for 15 minutes either side of awsim's clock; a presigned URL from 15
/// minutes before its date until `X-Amz-Expires` after it. The messages are AWS's.
fn check_time(claim: &Claim, now: SystemTime) -> Result<(), ApiError> {
    let valid_for = claim.presigned.as_ref().map_or(MAX_SKEW, |(d, _)| *d);
    let earliest = now.checked_sub(valid_for).unwrap_or(SystemTime::UNIX_EPOCH);
    if claim.time < earliest {
        return Err(ApiError::InvalidSignature(format!(
            "Signature expired: {} is now earlier than {} ({} - {}.)",
            claim.date,
            amz_date(earliest),
            amz_date(now),
            minutes(valid_for)
        )));
    }
    let latest = now + MAX_SKEW;
    if claim.time > latest {
        return Err(ApiError::InvalidSignature(format!(
            "Signature not yet current: {} is still later than {} ({} + {}.)",
            claim.date,
            amz_date(latest),
            amz_date(now),
            minutes(MAX_SKEW)
        )));
    }
    Ok(())
}

fn minutes(d: Duration) -> String {
    let secs = d.as_secs();
    if secs % 60 == 0 {
        format!("{} min", secs / 60)
    } else {
        format!("{secs} sec")
    }
}

/// The canonical request of what was received, as the claim says it was signed (see the module
/// documentation).
fn canonical_request(claim: &Claim, req: &Received) -> Result<String, ApiError> {
    let mut names: Vec<&str> = claim.signed_headers.iter().map(String::as_str).collect();
    names.sort_unstable();
    names.dedup();
    let mut headers = String::new();
    for name in &names {
        headers.push_str(name);
        headers.push(':');
        let values: Vec<&str> = match *name {
            "host" | ":authority" => req
                .header(HOST.as_str())
                .or(req.authority)
                .into_iter()
                .collect(),
            name => req
                .headers
                .get_all(name)
                .iter()
                .map(|v| {
                    v.to_str().map_err(|_| {
                        ApiError::InvalidSignature(format!(
                            "{SIGNATURE_MISMATCH} The signed header '{name}' is not valid text."
                        ))
                    })
                })
                .collect::<Result<_, _>>()?,
        };
        for (i, value) in values.iter().enumerate() {
            if i > 0 {
                headers.push(',');
            }
            for (j, word) in value.split_ascii_whitespace().enumerate() {
                if j > 0 {
                    headers.push(' ');
                }
                headers.push_str(word);
            }
        }
        headers.push('\n');
    }
    let query = match &claim.presigned {
        Some((_, rest)) => Some(rest.as_str()),
        None => req.query,
    };
    let payload_hash = match req.header("x-amz-content-sha256") {
        Some(hash) if !is_sha256_hex(hash) => hash.to_string(),
        _ => hex::encode(Sha256::digest(req.body)),
    };
    Ok(format!(
        "{}\n{}\n{}\n{headers}\n{}\n{payload_hash}",
        req.method,
        canonical_path(req.path),
        canonical_query(query),
        names.join(";"),
    ))
}

/// `AWS4-HMAC-SHA256`, the date, the credential scope and the canonical request's SHA-256.
fn string_to_sign(claim: &Claim, canonical: &str) -> String {
    format!(
        "{ALGORITHM}\n{}\n{}/{}/{}/aws4_request\n{}",
        claim.date,
        claim.scope_date,
        claim.region,
        claim.service,
        hex::encode(Sha256::digest(canonical.as_bytes()))
    )
}

/// Everything but RFC 3986's unreserved characters is percent-encoded.
const ENCODED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The raw path without `.`, `..` and empty segments (a trailing slash kept), percent-encoded once
/// more, slashes aside.
fn canonical_path(path: &str) -> String {
    let mut segments: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            segment => segments.push(segment),
        }
    }
    let mut canonical = String::with_capacity(path.len() + 8);
    for segment in &segments {
        canonical.push('/');
        canonical.extend(percent_encode(segment.as_bytes(), ENCODED));
    }
    let trailing_slash = ["/", "/.", "/..", "/./", "/../"]
        .iter()
        .any(|end| path.ends_with(end));
    if canonical.is_empty() || trailing_slash {
        canonical.push('/');
    }
    canonical
}

/// Parameters percent-decoded (`+` stays a plus, as the SDKs encode it), encoded again, sorted by
/// name and then value, joined with `&`.
fn canonical_query(query: Option<&str>) -> String {
    let Some(query) = query else {
        return String::new();
    };
    let encode = |s: &str| -> String {
        let decoded: Vec<u8> = percent_decode_str(s).collect();
        percent_encode(&decoded, ENCODED).to_string()
    };
    let mut pairs: Vec<(String, String)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (encode(name), encode(value))
        })
        .collect();
    pairs.sort_unstable();
    let mut canonical = String::with_capacity(query.len() + 8);
    for (i, (name, value)) in pairs.iter().enumerate() {
        if i > 0 {
            canonical.push('&');
        }
        canonical.push_str(name);
        canonical.push('=');
        canonical.push_str(value);
    }
    canonical
}

fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod suite;
#[cfg(test)]
mod tests;
